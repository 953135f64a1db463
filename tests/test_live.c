/*
 * test_live.c — the live session engine (sim/live/live.h): lines applied
 * at times, export that replays to the same trace, going back and acting
 * there (a fork) equal to a fresh run of the prefix plus the action, a bad
 * line that changes nothing, and a file's script paced by the clock.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/live/live.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"

static struct live_session *scripted(const char *file)
{
    struct live_opts o;
    live_opts_default(&o);
    o.scripted = true;
    struct live_session *s;
    char err[2048];
    cr_assert_eq(live_new(file, &o, &s, err, sizeof(err)), 0, "%s", err);
    return s;
}

static void act(struct live_session *s, const char *line)
{
    char msg[4096];
    cr_assert_eq(live_act(s, line, msg, sizeof(msg)), 0, "%s: %s", line, msg);
}

/* Every line of a NULL-terminated list, in order. */
static void acts(struct live_session *s, const char *const *lines)
{
    for (; *lines; lines++)
        act(s, *lines);
}

static void control(struct live_session *s, const char *line)
{
    char msg[4096];
    cr_assert_eq(live_control(s, line, msg, sizeof(msg)), 0, "%s: %s", line,
                 msg);
}

static char *trace_of(struct live_session *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    live_write_trace(s, f);
    fclose(f);
    return buf;
}

static char *export_of(struct live_session *s, bool abandoned)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(live_export(s, f, abandoned), 0);
    fclose(f);
    return buf;
}

/* What `raftsim run --keep-going --trace` writes for a scenario text. */
static char *run_trace(const char *text, int *rc)
{
    struct scn_program *p;
    cr_assert_eq(scn_parse("export", text, strlen(text), &p, stderr), 0,
                 "the export does not parse:\n%s", text);
    char *buf = NULL, *out = NULL;
    size_t len = 0, olen = 0;
    FILE *f = open_memstream(&buf, &len), *o = open_memstream(&out, &olen);
    struct scn_run_opts ro;
    scn_run_opts_default(&ro);
    ro.keep_going = true;
    ro.trace = f;
    ro.out = o;
    struct scn_run_result res;
    *rc = scn_run(p, &ro, &res);
    fclose(f);
    fclose(o);
    free(out);
    scn_free(p);
    return buf;
}

static void strip_lines(char *t)
{
    char *w = t;
    for (char *r = t; *r;) {
        if (!strncmp(r, "\"text\":\"at ", 11)) { /* the record's own time */
            memcpy(w, "\"text\":\"", 8);
            w += 8;
            r += 11;
            while (*r >= '0' && *r <= '9')
                r++;
            r += 3; /* "us " */
            continue;
        }
        if (!strncmp(r, "\"line\":", 7)) {
            r += 7;
            while (*r >= '0' && *r <= '9')
                r++;
            if (*r == ',')
                r++;
            continue;
        }
        *w++ = *r++;
    }
    *w = 0;
}

static const char *story[] = {
    "await leader as L within 3s", "write alice x=1 expect committed",
    "wait 200ms",                  "crash L",
    "await leader as M within 3s", "write bob y=2 expect committed",
    "cut M -> L",                  "restart L",
    "wait 400ms",                  "heal",
    "read carol x from any",       "wait 300ms",
    "expect no violations",        NULL,
};

Test(live, export_replays_to_a_byte_identical_trace, .timeout = 30)
{
    struct live_session *s = scripted(NULL);
    acts(s, story);
    cr_assert_eq(live_end(s), 0);
    char *live = trace_of(s), *ex = export_of(s, false);
    int rc;
    char *replay = run_trace(ex, &rc);
    cr_assert_eq(rc, 0, "the export fails when run:\n%s", ex);
    cr_assert_gt(strlen(live), 1000);
    cr_assert_str_eq(replay, live, "export:\n%s", ex);
    cr_assert(strstr(ex, "crash L") && strstr(ex, "at "), "%s", ex);
    free(live);
    free(ex);
    free(replay);
    live_free(s);
}

Test(live, a_bad_line_changes_nothing)
{
    struct live_session *s = scripted(NULL);
    act(s, "await leader as L within 3s");
    char *before = export_of(s, false), *tb = trace_of(s);
    char msg[4096];
    cr_assert_eq(live_act(s, "crsh n1", msg, sizeof(msg)), -1);
    cr_assert(strstr(msg, "act:1:1") && strstr(msg, "did you mean"), "%s", msg);
    cr_assert_eq(live_act(s, "crash n9", msg, sizeof(msg)), -1);
    cr_assert(strstr(msg, "act:1:"), "%s", msg);
    cr_assert_eq(live_act(s, "nodes 5", msg, sizeof(msg)), -1);
    cr_assert(strstr(msg, "restart"), "%s", msg);
    cr_assert_eq(live_control(s, "sped 2", msg, sizeof(msg)), -1);
    cr_assert_eq(live_control(s, "speed 1000", msg, sizeof(msg)), -1);
    char *after = export_of(s, false), *ta = trace_of(s);
    cr_assert_str_eq(after, before);
    cr_assert_str_eq(ta, tb);
    free(before);
    free(after);
    free(tb);
    free(ta);
    live_free(s);
}

/* Going back to 0.6 s and crashing n2 there gives what a fresh session
 * that runs to 0.6 s and crashes n2 gives: the future after 0.6 s (and the
 * wait that was going on) is gone, the abandoned timeline kept. */
Test(live, acting_in_the_past_equals_a_fresh_run_of_the_prefix, .timeout = 30)
{
    struct live_session *a = scripted(NULL);
    acts(a, (const char *const[]){"wait 300ms", "write alice x=1",
                                  "wait 500ms", "crash n1", "wait 500ms",
                                  NULL});
    control(a, "seek 0.6s");
    cr_assert_eq(live_present_us(a), 600000);
    act(a, "crash n2");
    act(a, "wait 1s");
    cr_assert_eq(live_end(a), 0);

    struct live_session *b = scripted(NULL);
    acts(b, (const char *const[]){"wait 300ms", "write alice x=1",
                                  "wait 300ms", "crash n2", "wait 1s", NULL});
    cr_assert_eq(live_end(b), 0);

    char *ta = trace_of(a), *tb = trace_of(b);
    cr_assert_str_eq(ta, tb);
    char *ab = export_of(a, true);
    cr_assert(strstr(ab, "crash n1"), "the abandoned future is kept:\n%s", ab);
    char *ex = export_of(a, false);
    cr_assert(!strstr(ex, "crash n1"), "%s", ex);
    free(ta);
    free(tb);
    free(ab);
    free(ex);
    live_free(a);
    live_free(b);
}

/* Seeking shows the exact state at that time: the same trace prefix as the
 * full run cut at that time, even in the middle of an await. */
Test(live, seek_shows_the_state_at_that_time, .timeout = 30)
{
    struct live_session *s = scripted(NULL);
    acts(s, (const char *const[]){"await leader as L within 3s", "crash L",
                                  "await leader within 3s", "wait 1s", NULL});
    char *full = trace_of(s);
    control(s, "seek 0.25s");
    char *cut = trace_of(s);
    cr_assert_lt(strlen(cut), strlen(full));
    cr_assert_eq(strncmp(cut, full, strlen(cut)), 0);
    /* every line of the full trace up to 0.25 s is in the cut */
    size_t n = 0;
    for (char *l = full; *l; l = strchr(l, '\n') + 1)
        if (strtoull(l + 8, NULL, 10) <= 250000)
            n += strcspn(l, "\n") + 1;
    cr_assert_eq(strlen(cut), n);
    free(full);
    free(cut);
    live_free(s);
}

Test(live, a_file_runs_its_script_and_pauses_at_each_step, .timeout = 30)
{
    struct live_session *s = scripted("scenarios/split-brain.scn");
    control(s, "resume");
    char buf[512];
    live_clock_json(s, buf, sizeof(buf));
    cr_assert(strstr(buf, "\"at_step\":true"), "%s", buf);
    control(s, "resume");
    control(s, "resume");
    cr_assert_eq(live_end(s), 0);
    /* the same trace as `raftsim run` of the file */
    FILE *f = fopen("scenarios/split-brain.scn", "r");
    cr_assert(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = 0;
    int rc;
    char *want = run_trace(text, &rc), *got = trace_of(s);
    cr_assert_eq(rc, 0);
    /* event for event, but for the line numbers of say and expect and the
     * `at T` of the recorded lines (the session's own, not the file's) */
    strip_lines(want);
    strip_lines(got);
    cr_assert(!strcmp(got, want), "the live trace differs from run's");
    free(want);
    free(got);
    live_free(s);
}

/* Pausing while an await has run ahead of the display shows the moment on
 * screen, not the future: no leader yet at 62.5 ms; the await then runs
 * again from there and the leader appears once the clock gets there. */
Test(live, pausing_ahead_of_the_display_shows_no_future, .timeout = 30)
{
    struct live_opts o;
    live_opts_default(&o);
    struct live_session *s;
    char err[2048];
    cr_assert_eq(live_new(NULL, &o, &s, err, sizeof(err)), 0, "%s", err);
    live_tick(s, 100.0);
    live_tick(s, 100.0625); /* the display at 62.5 ms */
    act(s, "await leader as L within 3s");
    char *st = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&st, &len);
    live_state_json(s, f);
    fclose(f);
    cr_assert(strstr(st, "\"computed_us\":18"), "the await ran ahead: %s", st);
    free(st);
    control(s, "pause");
    f = open_memstream(&st, &len);
    live_state_json(s, f);
    fclose(f);
    cr_assert(strstr(st, "\"t_us\":62500,\"computed_us\":62500"), "%s", st);
    cr_assert(strstr(st, "\"leader\":0,"), "a leader from the future: %s", st);
    free(st);
    control(s, "resume");
    for (int k = 1; k <= 50; k++)
        live_tick(s, 200.0 + k * 0.02); /* one more second */
    f = open_memstream(&st, &len);
    live_state_json(s, f);
    fclose(f);
    cr_assert(!strstr(st, "\"leader\":0,"), "no leader after 1 s: %s", st);
    free(st);
    live_free(s);
}

/* The view line: each follower's election timer, a deadline ahead of the
 * display drawn within the election range; none for the leader; none at
 * all while an await runs ahead of the display; the clients by name, in
 * the order trace lines number them. */
Test(live, the_view_tells_timers_and_client_names, .timeout = 30)
{
    struct live_opts o;
    live_opts_default(&o);
    o.scripted = true;
    struct live_session *s;
    char err[2048];
    cr_assert_eq(live_new(NULL, &o, &s, err, sizeof(err)), 0, "%s", err);
    char *v = live_view_json(s);
    unsigned long long d[3], len[3];
    cr_assert_eq(sscanf(v, "{\"generation\":%*u,\"clients\":[],\"timers\":"
                           "[[%llu,%llu],[%llu,%llu],[%llu,%llu]]}",
                        &d[0], &len[0], &d[1], &len[1], &d[2], &len[2]),
                 6, "%s", v);
    for (int i = 0; i < 3; i++)
        cr_assert(len[i] >= 150000 && len[i] <= 300000 && d[i] == len[i],
                  "n%d's timer from 0: %s", i + 1, v);
    free(v);
    act(s, "await leader as L within 3s");
    act(s, "write bob x=1 expect committed");
    act(s, "read alice x");
    v = live_view_json(s);
    cr_assert(strstr(v, "\"clients\":[\"bob\",\"alice\"]"), "%s", v);
    int nulls = 0, timers = 0;
    for (const char *p = strstr(v, "\"timers\":"); p && *p; p++) {
        nulls += !strncmp(p, "null", 4);
        timers += *p == '[' && p[1] != '[';
    }
    cr_assert(nulls == 1 && timers == 2, "one leader, two timers: %s", v);
    uint64_t now = live_present_us(s);
    unsigned long long dl;
    const char *p = strstr(v, "\"timers\":[") + strlen("\"timers\":[");
    int checked = 0;
    for (; (p = strchr(p, '[')) && sscanf(p, "[%llu,", &dl) == 1; p++, checked++)
        cr_assert(dl > now, "a follower's deadline is ahead of %llu: %s",
                  (unsigned long long)now, v);
    cr_assert_eq(checked, 2, "%s", v);
    free(v);
    live_free(s);

    /* an await that runs ahead of the display: no timers are told */
    live_opts_default(&o);
    cr_assert_eq(live_new(NULL, &o, &s, err, sizeof(err)), 0, "%s", err);
    live_tick(s, 100.0);
    live_tick(s, 100.0625);
    act(s, "await leader as L within 3s");
    v = live_view_json(s);
    cr_assert(!strstr(v, "timers"), "timers from the future: %s", v);
    free(v);
    live_free(s);
}
