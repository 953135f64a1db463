/*
 * live.c — the live session engine (live.h): records, the display clock,
 * the file's script, rebuilding by replay (seek, fork, restart), and the
 * event log the faces read.
 *
 * Why replay instead of checkpoints: the whole cluster is a deterministic
 * function of its set-up and records, and the simulator runs thousands of
 * virtual seconds per wall second, so rebuilding 60 s of history costs a
 * few milliseconds (`raftsim bench live` prints the figure).  A copy of a
 * cluster would need a deep copy of every node, WAL, queue and checker
 * and could drift from the real thing; a replay cannot.
 */
#define _GNU_SOURCE
#include "sim/live/live.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"
#include "sim/cluster/cluster.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"

#define DEFAULT_MAX_EVENTS 2000000
#define STEP_SAY_LIMIT_US 60000000 /* `step say` looks at most 60 s ahead */

enum rec_kind {
    REC_EXEC, /* a line the runner ran */
    REC_WAIT, /* the file's `wait`: time passed, paced (not exported) */
    REC_STEP, /* the file's `step`: the session paused there */
};

struct rec {
    enum rec_kind kind;
    uint64_t t_us;     /* when it happened (virtual) */
    uint64_t until_us; /* REC_WAIT: when the wait ends */
    int file_idx;      /* the file's command, -1 for an action */
    char *line;        /* REC_EXEC: the line without `at` */
    uint64_t end_us;   /* REC_EXEC: when the runner was done with it */
};

struct live_session {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct live_opts o;
    char *name;  /* for messages: the file, or "live" */
    char *setup; /* set-up lines (text) */
    struct scn_program *file; /* the file's program: its commands are the
                                 script (NULL: none) */
    /* the timeline */
    struct rec *recs;
    int n_recs, cap_recs;
    struct rec *aband; /* the timeline the last fork set aside */
    int n_aband;
    /* the materialization: the runner and the program it runs */
    struct scn_program *prog;
    struct scn_runner *run;
    int n_applied;     /* records carried out in it */
    uint64_t computed_us;
    bool seeked;       /* looking at the past: acting or resuming forks */
    int cut_rec;       /* the record the horizon interrupted, or -1 */
    uint64_t end_us;   /* the furthest present reached on this timeline */
    /* the script */
    int cursor;        /* next command of the file */
    bool waiting;      /* in the file's `wait` */
    uint64_t wait_until_us;
    bool at_step;      /* paused at the file's `step` */
    /* the display clock */
    double present_us;
    double speed;
    bool paused;
    double last_wall_s;
    bool have_wall;
    /* the event log of the current generation */
    struct live_entry *log;
    size_t n_log, cap_log, released;
    uint64_t gen;
    bool log_full;
    /* capture of the runner's output */
    FILE *trace_f, *out_f;
    char *tbuf, *obuf;
    size_t tlen, tcap, olen, ocap;
};

static const char *const setup_words[] = {
    "nodes", "heartbeat", "election", "ack", "policy", "prevote",
    "checkquorum", "unsafe", "seed", "disk", "client-timeout",
    "client-latency", "clients", "clock", "mirror", "mirror-control"};

void live_opts_default(struct live_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->speed = 1.0;
}

/* ------------------------------------------------------------------ */
/* The event log                                                       */

static void log_push(struct live_session *s, uint64_t t, enum live_kind k,
                     const char *text, size_t len)
{
    size_t max = s->o.max_events ? s->o.max_events : DEFAULT_MAX_EVENTS;
    if (s->n_log >= max) {
        s->log_full = true; /* later events are not kept for viewers */
        return;
    }
    if (s->n_log == s->cap_log) {
        size_t cap = s->cap_log ? s->cap_log * 2 : 1024;
        struct live_entry *n = realloc(s->log, cap * sizeof(*n));
        if (!n)
            return;
        s->log = n;
        s->cap_log = cap;
    }
    char *copy = strndup(text, len);
    if (!copy)
        return;
    /* virtual time never goes back within a generation */
    if (s->n_log && t < s->log[s->n_log - 1].t_us)
        t = s->log[s->n_log - 1].t_us;
    s->log[s->n_log++] = (struct live_entry){t, k, copy};
}

static void log_clear(struct live_session *s)
{
    for (size_t i = 0; i < s->n_log; i++)
        free(s->log[i].text);
    s->n_log = s->released = 0;
    s->log_full = false;
    s->gen++;
    pthread_cond_broadcast(&s->cv);
}

static void release(struct live_session *s)
{
    size_t r = s->released;
    while (r < s->n_log && (double)s->log[r].t_us <= s->present_us)
        r++;
    if (r != s->released) {
        s->released = r;
        pthread_cond_broadcast(&s->cv);
    }
}

static uint64_t now_of(struct live_session *s)
{
    return s->run ? scn_runner_now(s->run) : 0;
}

/* The runner writes its trace and narration into these two streams; each
 * whole line becomes an entry of the log. */
static void take_lines(struct live_session *s, char **buf, size_t *len,
                       size_t *cap, const char *data, size_t size,
                       enum live_kind k)
{
    if (*len + size + 1 > *cap) {
        size_t nc = (*len + size + 1) * 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, data, size);
    *len += size;
    size_t start = 0;
    for (size_t i = 0; i < *len; i++) {
        if ((*buf)[i] != '\n')
            continue;
        const char *line = *buf + start;
        size_t l = i - start;
        uint64_t t = now_of(s);
        if (k == LIVE_TRACE && l > 8 && !strncmp(line, "{\"t_us\":", 8))
            t = strtoull(line + 8, NULL, 10);
        log_push(s, t, k, line, l);
        start = i + 1;
    }
    memmove(*buf, *buf + start, *len - start);
    *len -= start;
}

static ssize_t trace_write(void *c, const char *data, size_t size)
{
    struct live_session *s = c;
    take_lines(s, &s->tbuf, &s->tlen, &s->tcap, data, size, LIVE_TRACE);
    return (ssize_t)size;
}

static ssize_t out_write(void *c, const char *data, size_t size)
{
    struct live_session *s = c;
    take_lines(s, &s->obuf, &s->olen, &s->ocap, data, size, LIVE_NARRATION);
    return (ssize_t)size;
}

/* ------------------------------------------------------------------ */
/* Records, the program text, parsing                                  */

static int rec_add(struct live_session *s, struct rec r)
{
    if (s->n_recs == s->cap_recs) {
        int cap = s->cap_recs ? s->cap_recs * 2 : 64;
        struct rec *n = realloc(s->recs, (size_t)cap * sizeof(*n));
        if (!n) {
            free(r.line);
            return -1;
        }
        s->recs = n;
        s->cap_recs = cap;
    }
    s->recs[s->n_recs++] = r;
    return 0;
}

static void recs_free(struct rec *r, int n)
{
    for (int i = 0; i < n; i++)
        free(r[i].line);
    free(r);
}

/* The scenario text of set-up + records [0, upto) + extra (at t). */
static char *program_text(struct live_session *s, const struct rec *recs,
                          int upto, const char *extra, uint64_t extra_t,
                          size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    fputs(s->setup, f);
    for (int i = 0; i < upto; i++)
        if (recs[i].kind == REC_EXEC) {
            if (recs[i].t_us)
                fprintf(f, "at %lluus ", (unsigned long long)recs[i].t_us);
            fprintf(f, "%s\n", recs[i].line);
        }
    if (extra) {
        if (extra_t)
            fprintf(f, "at %lluus ", (unsigned long long)extra_t);
        fprintf(f, "%s\n", extra);
    }
    fclose(f);
    return buf;
}

static int count_lines(const char *t)
{
    int n = 0;
    for (; *t; t++)
        n += *t == '\n';
    return n;
}

/* Parse set-up + records + extra; on error the messages about the extra
 * line are renamed "act:1:COL" in err. */
static struct scn_program *parse_with(struct live_session *s,
                                      const char *extra, uint64_t t,
                                      char *err, size_t cap)
{
    size_t len;
    char *text = program_text(s, s->recs, s->n_recs, extra, t, &len);
    if (!text) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    char *msg = NULL;
    size_t mlen = 0;
    FILE *ef = open_memstream(&msg, &mlen);
    struct scn_program *p = NULL;
    int rc = scn_parse("live", text, len, &p, ef);
    if (ef)
        fclose(ef);
    if (rc != 0) {
        /* the messages about the last line, as if it were "act" line 1
         * without its `at T`: "live:K:COL" → "act:1:COL-n", and the quoted
         * line and its caret n columns to the left */
        char from[48], pre[48];
        snprintf(from, sizeof(from), "live:%d:", count_lines(text));
        int n = t ? snprintf(pre, sizeof(pre), "at %lluus ",
                             (unsigned long long)t)
                  : (pre[0] = 0, 0);
        size_t o = 0, fl = strlen(from);
        for (char *l = msg ? msg : "", *nl; *l && o + 1 < cap; l = nl) {
            nl = strchr(l, '\n');
            nl = nl ? nl + 1 : l + strlen(l);
            char line[1024];
            snprintf(line, sizeof(line), "%.*s", (int)(nl - l), l);
            char *q = line;
            char fixed[1100];
            if (!strncmp(q, from, fl)) {
                long col = strtol(q + fl, &q, 10) - n;
                snprintf(fixed, sizeof(fixed), "act:1:%ld%s", col < 1 ? 1 : col, q);
            } else if (n && !strncmp(line, "  ", 2) &&
                       !strncmp(line + 2, pre, (size_t)n)) {
                snprintf(fixed, sizeof(fixed), "  %s", line + 2 + n);
            } else if (n && strspn(line, " ") >= (size_t)n + 2 &&
                       line[strspn(line, " ")] == '^') {
                snprintf(fixed, sizeof(fixed), "%s", line + n);
            } else
                snprintf(fixed, sizeof(fixed), "%s", line);
            o += (size_t)snprintf(err + o, cap - o, "%s", fixed);
            if (o >= cap)
                o = cap - 1;
        }
        while (o && err[o - 1] == '\n')
            err[--o] = 0;
        if (!o)
            snprintf(err, cap, "the line does not parse");
        p = NULL;
    }
    free(msg);
    free(text);
    return p;
}

/* ------------------------------------------------------------------ */
/* Materializing a timeline                                            */

static void drop_run(struct live_session *s)
{
    scn_runner_free(s->run);
    s->run = NULL;
    scn_free(s->prog);
    s->prog = NULL;
    if (s->trace_f)
        fclose(s->trace_f);
    if (s->out_f)
        fclose(s->out_f);
    s->trace_f = s->out_f = NULL;
    s->tlen = s->olen = 0;
}

static int new_run(struct live_session *s, struct scn_program *p, char *err,
                   size_t cap)
{
    cookie_io_functions_t tio = {.write = trace_write};
    cookie_io_functions_t oio = {.write = out_write};
    s->trace_f = fopencookie(s, "w", tio);
    s->out_f = fopencookie(s, "w", oio);
    if (!s->trace_f || !s->out_f) {
        snprintf(err, cap, "cannot open the event streams");
        scn_free(p);
        return -1;
    }
    setvbuf(s->trace_f, NULL, _IONBF, 0);
    setvbuf(s->out_f, NULL, _IONBF, 0);
    struct scn_run_opts ro;
    scn_run_opts_default(&ro);
    ro.keep_going = true; /* a failed expectation is told, the class goes on */
    ro.min_clients = SCN_MAX_CLIENTS; /* clients named later need no rebuild */
    ro.seed_given = s->o.seed_given;
    ro.seed = s->o.seed;
    ro.out = s->out_f;
    ro.trace = s->trace_f;
    s->prog = p;
    if (scn_runner_new(p, &ro, &s->run) != 0) {
        snprintf(err, cap, "the cluster cannot start");
        drop_run(s);
        return -1;
    }
    return 0;
}

/* Rebuild from the records: all of them with horizon 0, else those up to
 * horizon_us, the cluster stopped exactly there. */
static int materialize(struct live_session *s, uint64_t horizon_us, char *err,
                       size_t cap)
{
    drop_run(s);
    log_clear(s);
    size_t len;
    char *text = program_text(s, s->recs, s->n_recs, NULL, 0, &len);
    struct scn_program *p = NULL;
    char *msg = NULL;
    size_t mlen = 0;
    FILE *ef = open_memstream(&msg, &mlen);
    int rc = text ? scn_parse(s->name, text, len, &p, ef) : -1;
    if (ef)
        fclose(ef);
    free(text);
    if (rc != 0) {
        snprintf(err, cap, "the timeline does not parse: %s", msg ? msg : "");
        free(msg);
        return -1;
    }
    free(msg);
    if (new_run(s, p, err, cap) != 0)
        return -1;
    scn_runner_set_horizon(s->run, horizon_us);
    s->cut_rec = -1;
    s->n_applied = 0;
    int k = 0; /* index into the program's commands */
    for (int i = 0; i < s->n_recs; i++) {
        struct rec *r = &s->recs[i];
        if (horizon_us && r->t_us > horizon_us)
            break;
        if (r->kind == REC_EXEC) {
            scn_runner_run_to(s->run, r->t_us);
            scn_runner_exec(s->run, &s->prog->cmds[k++]);
            if (!scn_runner_cut_short(s->run))
                r->end_us = now_of(s); /* (cut short: it ends later) */
            else {
                s->cut_rec = i;
                s->n_applied = i + 1;
                break;
            }
        }
        s->n_applied = i + 1;
    }
    if (horizon_us)
        scn_runner_run_to(s->run, horizon_us);
    s->computed_us = now_of(s);
    return 0;
}

/* Where the file's script stands after the records [0, n): the command
 * after the last one recorded, or the one that was cut short, or a wait
 * still going on at t. */
static void restore_cursor(struct live_session *s, int n, uint64_t t)
{
    s->cursor = 0;
    s->waiting = false;
    s->at_step = false;
    for (int i = 0; i < n; i++) {
        const struct rec *r = &s->recs[i];
        if (r->file_idx < 0)
            continue;
        s->cursor = r->file_idx + 1;
        s->waiting = r->kind == REC_WAIT && r->until_us > t;
        s->wait_until_us = r->until_us;
    }
}

/* Acting at or resuming from a present the timeline has gone past: keep
 * the records up to it, set the rest aside (set_aside: as the abandoned
 * timeline, for export), and continue from there.  A command that was
 * still going on at t (an await that ran ahead of the display) is dropped
 * and the file's script runs it again from t.  One rebuild, so viewers
 * see one reset. */
static int fork_at(struct live_session *s, uint64_t t, bool set_aside,
                   char *err, size_t cap)
{
    int keep = 0;
    while (keep < s->n_recs && s->recs[keep].t_us <= t)
        keep++;
    int cut = -1;
    if (keep > 0 && s->recs[keep - 1].kind == REC_EXEC &&
        s->recs[keep - 1].end_us > t)
        cut = --keep;
    if (set_aside) {
        recs_free(s->aband, s->n_aband);
        s->aband = calloc((size_t)s->n_recs + 1, sizeof(*s->aband));
        s->n_aband = 0;
        for (int i = 0; s->aband && i < s->n_recs; i++) {
            s->aband[i] = s->recs[i];
            s->aband[i].line = s->recs[i].line ? strdup(s->recs[i].line) : NULL;
            s->n_aband++;
        }
    }
    restore_cursor(s, keep, t);
    if (cut >= 0 && s->recs[cut].file_idx >= 0)
        s->cursor = s->recs[cut].file_idx; /* runs again from t */
    for (int i = keep; i < s->n_recs; i++)
        free(s->recs[i].line);
    s->n_recs = keep;
    if (materialize(s, 0, err, cap) != 0)
        return -1;
    scn_runner_run_to(s->run, t);
    s->computed_us = now_of(s);
    s->seeked = false;
    s->end_us = t;
    s->present_us = (double)t;
    release(s);
    return 0;
}

/* Run one line now: parse it with the timeline, record it, execute it. */
static int exec_line(struct live_session *s, const char *line, int file_idx,
                     char *err, size_t cap)
{
    uint64_t t = now_of(s);
    struct scn_program *p = parse_with(s, line, t, err, cap);
    if (!p)
        return -1;
    char *copy = strdup(line);
    if (!copy || rec_add(s, (struct rec){REC_EXEC, t, 0, file_idx, copy, 0}) != 0) {
        scn_free(p);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    scn_runner_set_program(s->run, p);
    scn_free(s->prog);
    s->prog = p;
    scn_runner_exec(s->run, &p->cmds[p->n_cmds - 1]);
    s->recs[s->n_recs - 1].end_us = now_of(s);
    s->n_applied = s->n_recs;
    s->computed_us = now_of(s);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The script and the clock                                            */

/* The text of a file command without its `at T`. */
static const char *bare_src(const struct scn_cmd *cmd)
{
    const char *src = cmd->src ? cmd->src : "";
    if (!cmd->at)
        return src;
    src += 2; /* "at" */
    while (isspace((unsigned char)*src))
        src++;
    while (*src && !isspace((unsigned char)*src))
        src++; /* the time */
    while (isspace((unsigned char)*src))
        src++;
    return src;
}

/* Advance the script as far as the present allows.  Returns false when it
 * has to wait for the present (or a `step`). */
static bool script_step(struct live_session *s)
{
    if (!s->file || s->cursor >= s->file->n_cmds)
        return false;
    uint64_t now = now_of(s);
    if (s->waiting) {
        if ((double)s->wait_until_us > s->present_us)
            return false;
        scn_runner_run_to(s->run, s->wait_until_us);
        s->waiting = false;
        return true;
    }
    const struct scn_cmd *cmd = &s->file->cmds[s->cursor];
    if (cmd->at && cmd->at_us > now) {
        if ((double)cmd->at_us > s->present_us)
            return false;
        scn_runner_run_to(s->run, cmd->at_us);
        now = cmd->at_us;
    }
    int idx = s->cursor++;
    if (cmd->kind == SCN_WAIT) {
        s->waiting = true;
        s->wait_until_us = now + cmd->u;
        rec_add(s, (struct rec){REC_WAIT, now, now + cmd->u, idx, NULL, 0});
        s->n_applied = s->n_recs;
        return true;
    }
    if (cmd->kind == SCN_STEP) {
        rec_add(s, (struct rec){REC_STEP, now, 0, idx, NULL, 0});
        s->n_applied = s->n_recs;
        s->paused = s->at_step = true;
        /* the display stops at the step itself, not at the end of the
         * tick that reached it: what follows waits for the teacher */
        s->present_us = (double)now;
        return false;
    }
    char err[2048];
    if (exec_line(s, bare_src(cmd), idx, err, sizeof(err)) != 0) {
        char note[2300];
        int n = snprintf(note, sizeof(note),
                         "%10.3f       (line %d of the file skipped: %s)",
                         (double)now / 1e6, cmd->line, err);
        char *nl = strchr(note, '\n');
        log_push(s, now, LIVE_NARRATION, note, nl ? (size_t)(nl - note) : (size_t)n);
    }
    return true;
}

/* Move the display clock to t (never back), computing what falls before
 * it.  Bounded: each pass either executes a command or stops. */
static void advance_to(struct live_session *s, double t)
{
    if (t > s->present_us)
        s->present_us = t;
    if (s->seeked) {
        /* along the recorded timeline: nothing new is computed; the
         * controller resumes (fork) or seeks again */
        release(s);
        return;
    }
    for (int guard = 0; guard < 100000; guard++) {
        if (s->present_us < (double)now_of(s))
            break; /* the display catches up with a command ahead of it */
        if (s->paused && s->at_step)
            break;
        if (!script_step(s))
            break;
    }
    uint64_t target = (uint64_t)s->present_us;
    if (target > now_of(s))
        scn_runner_run_to(s->run, target);
    s->computed_us = now_of(s);
    if (s->present_us > (double)s->end_us)
        s->end_us = (uint64_t)s->present_us;
    release(s);
}

void live_tick(struct live_session *s, double wall_s)
{
    pthread_mutex_lock(&s->mu);
    double dt = s->have_wall ? wall_s - s->last_wall_s : 0;
    s->last_wall_s = wall_s;
    s->have_wall = true;
    if (!s->paused && !s->o.scripted && dt > 0) {
        if (dt > 0.5)
            dt = 0.5; /* a stalled caller does not make the clock leap */
        advance_to(s, s->present_us + dt * 1e6 * s->speed);
    }
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ */
/* Acting                                                              */

static const char *first_word(const char *line, char *w, size_t cap)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t n = 0;
    while (line[n] && !isspace((unsigned char)line[n]) && n + 1 < cap) {
        w[n] = line[n];
        n++;
    }
    w[n] = 0;
    return line;
}

int live_act(struct live_session *s, const char *line, char *msg, size_t cap)
{
    char w[32];
    first_word(line, w, sizeof(w));
    if (!*w || *w == '#') {
        snprintf(msg, cap, "act:1:1: error: an empty line does nothing");
        return -1;
    }
    if (strchr(line, '\n')) {
        snprintf(msg, cap, "act:1:1: error: one line at a time");
        return -1;
    }
    for (size_t k = 0; k < sizeof(setup_words) / sizeof(*setup_words); k++)
        if (!strcmp(w, setup_words[k])) {
            snprintf(msg, cap,
                     "act:1:1: error: '%s' is set-up: it only makes sense at "
                     "the start; restart the session with it (control "
                     "`restart %s=…`)",
                     w, w);
            return -1;
        }
    if (!strcmp(w, "at")) {
        snprintf(msg, cap, "act:1:1: error: 'at' is not needed live: the "
                           "line happens now");
        return -1;
    }
    if (!strcmp(w, "step")) {
        snprintf(msg, cap, "act:1:1: error: 'step' is a control here (the "
                           "step button, or :step in the shell)");
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    uint64_t t = (uint64_t)s->present_us;
    char err[4096];
    /* check the line first: a bad one changes nothing, not even a fork */
    struct scn_program *probe = parse_with(s, line, t, err, sizeof(err));
    if (!probe) {
        snprintf(msg, cap, "%s", err);
        rc = -1;
        goto out;
    }
    scn_free(probe);
    if (s->seeked || (double)now_of(s) > s->present_us ||
        s->n_applied < s->n_recs) {
        if (fork_at(s, t, true, err, sizeof(err)) != 0) {
            snprintf(msg, cap, "cannot go back to %.3f s: %s", (double)t / 1e6,
                     err);
            rc = -1;
            goto out;
        }
    } else if (t > now_of(s))
        scn_runner_run_to(s->run, t);
    if (exec_line(s, line, -1, err, sizeof(err)) != 0) {
        snprintf(msg, cap, "%s", err);
        rc = -1;
        goto out;
    }
    snprintf(msg, cap, "ok at %.3f s", (double)t / 1e6);
    if (s->o.scripted)
        s->present_us = (double)now_of(s); /* the line moved time itself */
    if (s->present_us > (double)s->end_us)
        s->end_us = (uint64_t)s->present_us;
    release(s);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Control                                                             */

static int parse_time_us(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0 || v > 1e7)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    double mult = 1e6; /* bare number: seconds */
    if (!strcmp(end, "ms"))
        mult = 1e3;
    else if (!strcmp(end, "us"))
        mult = 1;
    else if (*end && strcmp(end, "s"))
        return -1;
    *out = (uint64_t)(v * mult);
    return 0;
}

/* The next time anything is due: the log's next entry, the cluster's next
 * event, the script's next wake-up. */
static uint64_t next_due(struct live_session *s)
{
    uint64_t t = UINT64_MAX;
    if (s->released < s->n_log)
        t = s->log[s->released].t_us;
    if (s->run) {
        uint64_t e = sim_next_event_time(scn_runner_cluster(s->run));
        if (e < t)
            t = e;
    }
    if (s->waiting && s->wait_until_us < t)
        t = s->wait_until_us;
    if (t <= (uint64_t)s->present_us)
        t = (uint64_t)s->present_us + 1;
    return t;
}

static int restart_with(struct live_session *s, const char *args, char *msg,
                        size_t cap);

/* Scripted (no pacing): the file's commands up to its next `step` or its
 * end, each as soon as it is due. */
static void run_script_now(struct live_session *s)
{
    for (int guard = 0; guard < 1000000 && s->file && !s->at_step; guard++) {
        uint64_t t = now_of(s);
        if (s->waiting)
            t = s->wait_until_us;
        else if (s->cursor >= s->file->n_cmds)
            break;
        else if (s->file->cmds[s->cursor].at &&
                 s->file->cmds[s->cursor].at_us > t)
            t = s->file->cmds[s->cursor].at_us;
        if ((double)t < s->present_us)
            t = (uint64_t)s->present_us;
        advance_to(s, (double)t);
        if ((double)now_of(s) > s->present_us)
            s->present_us = (double)now_of(s); /* an await ran ahead */
    }
    if (s->present_us > (double)s->end_us)
        s->end_us = (uint64_t)s->present_us;
    release(s);
}

int live_control(struct live_session *s, const char *line, char *msg,
                 size_t cap)
{
    char w[32];
    const char *rest = first_word(line, w, sizeof(w));
    rest += strlen(w);
    while (isspace((unsigned char)*rest))
        rest++;
    char arg[256];
    snprintf(arg, sizeof(arg), "%s", rest);
    size_t al = strlen(arg);
    while (al && isspace((unsigned char)arg[al - 1]))
        arg[--al] = 0;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    char err[4096];
    if (!strcmp(w, "speed")) {
        char *end;
        double v = strtod(arg, &end);
        if (end == arg || *end || v < 0.01 || v > 100) {
            snprintf(msg, cap, "speed: expected a number from 0.01 to 100, "
                               "got '%s'", arg);
            rc = -1;
        } else {
            s->speed = v;
            snprintf(msg, cap, "speed x%g", v);
        }
    } else if (!strcmp(w, "pause") && !*arg) {
        /* paused in the middle of a command that ran ahead of the display
         * (an await): rebuild at the display clock, so that what anyone
         * can look at (GET /state) is the moment on screen */
        if (!s->seeked && (double)now_of(s) > s->present_us &&
            fork_at(s, (uint64_t)s->present_us, false, err, sizeof(err)) != 0) {
            snprintf(msg, cap, "cannot pause here: %s", err);
            rc = -1;
            goto out;
        }
        s->paused = true;
        snprintf(msg, cap, "paused at %.3f s", s->present_us / 1e6);
    } else if ((!strcmp(w, "resume") || !strcmp(w, "go")) && !*arg) {
        if (s->seeked && fork_at(s, (uint64_t)s->present_us,
                                 true, err, sizeof(err)) != 0) {
            snprintf(msg, cap, "cannot resume: %s", err);
            rc = -1;
        } else {
            s->paused = s->at_step = false;
            s->have_wall = false; /* the pause does not count as time */
            if (s->o.scripted)
                run_script_now(s);
            snprintf(msg, cap, "running from %.3f s at x%g",
                     s->present_us / 1e6, s->speed);
        }
    } else if (!strcmp(w, "step") && (!*arg || !strcmp(arg, "say"))) {
        if (s->seeked && fork_at(s, (uint64_t)s->present_us,
                                 true, err, sizeof(err)) != 0) {
            snprintf(msg, cap, "cannot step: %s", err);
            rc = -1;
            goto out;
        }
        s->paused = true;
        s->at_step = false;
        if (!*arg)
            advance_to(s, (double)next_due(s));
        else {
            size_t n0 = 0;
            for (size_t i = 0; i < s->released; i++)
                n0 += s->log[i].kind == LIVE_NARRATION;
            double limit = s->present_us + STEP_SAY_LIMIT_US;
            for (int guard = 0; guard < 1000000 && s->present_us < limit &&
                                !s->at_step;
                 guard++) {
                size_t n = 0;
                for (size_t i = 0; i < s->released; i++)
                    n += s->log[i].kind == LIVE_NARRATION;
                if (n > n0)
                    break;
                advance_to(s, (double)next_due(s));
            }
        }
        snprintf(msg, cap, "at %.3f s", s->present_us / 1e6);
    } else if (!strcmp(w, "seek")) {
        uint64_t t;
        if (parse_time_us(arg, &t) != 0) {
            snprintf(msg, cap, "seek: expected a time such as 1.2s or 300ms, "
                               "got '%s'",
                     arg);
            rc = -1;
        } else if (t >= (uint64_t)s->present_us && !s->seeked) {
            advance_to(s, (double)t);
            snprintf(msg, cap, "at %.3f s", s->present_us / 1e6);
        } else {
            if (t > s->end_us)
                t = s->end_us;
            if (materialize(s, t, err, sizeof(err)) != 0) {
                snprintf(msg, cap, "cannot seek: %s", err);
                rc = -1;
            } else {
                s->seeked = true;
                s->paused = true;
                s->present_us = (double)t;
                release(s);
                snprintf(msg, cap, "at %.3f s of %.3f s recorded; acting or "
                                   "resuming here forks (the rest is kept "
                                   "for export)",
                         (double)t / 1e6, (double)s->end_us / 1e6);
            }
        }
    } else if (!strcmp(w, "restart")) {
        rc = restart_with(s, arg, msg, cap);
    } else if (!strcmp(w, "status") && !*arg) {
        snprintf(msg, cap, "t=%.3f s, x%g, %s%s, %d record%s", s->present_us / 1e6,
                 s->speed, s->paused ? "paused" : "running",
                 s->at_step ? " at a step" : "", s->n_recs,
                 s->n_recs == 1 ? "" : "s");
    } else {
        snprintf(msg, cap, "unknown control '%s'; the words are: speed X, "
                           "pause, resume, step, step say, seek T, "
                           "restart [k=v …], status",
                 line);
        rc = -1;
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

/* The set-up of program p as lines, with key=value overrides. */
static int setup_text(const struct scn_program *p, const char *args,
                      char **out, char *msg, size_t cap)
{
    char nodes[16], hb[32], el[64], ack[16], pol[16], pv[8], cq[8], seed[32],
        disk[32];
    snprintf(nodes, sizeof(nodes), "%d", p->nodes);
    snprintf(hb, sizeof(hb), "%lluus", (unsigned long long)p->heartbeat_us);
    snprintf(el, sizeof(el), "%lluus..%lluus",
             (unsigned long long)p->election_min_us,
             (unsigned long long)p->election_max_us);
    snprintf(ack, sizeof(ack), "%s", raft_ack_mode_name(p->ack));
    snprintf(pol, sizeof(pol), "%s", raft_policy_name(p->policy));
    snprintf(pv, sizeof(pv), "%s", p->prevote ? "on" : "off");
    snprintf(cq, sizeof(cq), "%s", p->checkquorum ? "on" : "off");
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)p->seed);
    snprintf(disk, sizeof(disk), "%lluus", (unsigned long long)p->disk_us);
    struct {
        const char *key;
        char *val;
        size_t cap;
    } keys[] = {{"nodes", nodes, sizeof(nodes)},
                {"heartbeat", hb, sizeof(hb)},
                {"election", el, sizeof(el)},
                {"ack", ack, sizeof(ack)},
                {"policy", pol, sizeof(pol)},
                {"prevote", pv, sizeof(pv)},
                {"checkquorum", cq, sizeof(cq)},
                {"seed", seed, sizeof(seed)},
                {"disk", disk, sizeof(disk)}};
    size_t nk = sizeof(keys) / sizeof(*keys);
    char a[256];
    snprintf(a, sizeof(a), "%s", args ? args : "");
    for (char *save = NULL, *tok = strtok_r(a, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        size_t k = 0;
        if (eq) {
            *eq = 0;
            for (; k < nk && strcmp(keys[k].key, tok); k++)
                ;
        }
        if (!eq || k == nk) {
            snprintf(msg, cap, "restart: expected KEY=VALUE with KEY one of "
                               "nodes, heartbeat, election, ack, policy, "
                               "prevote, checkquorum, seed, disk; got '%s'",
                     tok);
            return -1;
        }
        if (!strcmp(tok, "election")) /* A-B as on the command line */
            for (char *d = eq + 1; *d; d++)
                if (*d == '-' && d[1] != '-') {
                    snprintf(keys[k].val, keys[k].cap, "%.*s..%s",
                             (int)(d - eq - 1), eq + 1, d + 1);
                    goto next;
                }
        snprintf(keys[k].val, keys[k].cap, "%s", eq + 1);
    next:;
    }
    size_t len;
    FILE *f = open_memstream(out, &len);
    if (!f)
        return -1;
    fprintf(f, "# a live session (raftsim serve, raftsim shell) exported; "
               "replay it with\n# raftsim run --keep-going FILE: the same "
               "trace, event for event\n");
    for (size_t k = 0; k < nk; k++)
        if (strcmp(keys[k].key, "disk") || strcmp(keys[k].val, "0us"))
            fprintf(f, "%s %s\n", keys[k].key, keys[k].val);
    if (p->client_timeout_us != 2000000)
        fprintf(f, "client-timeout %lluus\n",
                (unsigned long long)p->client_timeout_us);
    if (p->client_latency_us != 500)
        fprintf(f, "client-latency %lluus\n",
                (unsigned long long)p->client_latency_us);
    for (unsigned b = 1; b && b <= p->unsafe; b <<= 1)
        if (p->unsafe & b)
            fprintf(f, "unsafe %s\n", raft_unsafe_name(b));
    if (p->n_clients) {
        fprintf(f, "clients");
        for (int i = 0; i < p->n_clients; i++)
            fprintf(f, " %s", p->clients[i]);
        fprintf(f, "\n");
    }
    fclose(f);
    return 0;
}

/* Take the file's leading links and `start SET` at t=0 before the runner
 * is made, as scn_run does, so that `start` leaves the others off. */
static void take_leading(struct live_session *s)
{
    if (!s->file)
        return;
    int first = 0;
    while (first < s->file->n_cmds && s->file->cmds[first].kind == SCN_LINK &&
           !s->file->cmds[first].at)
        first++;
    if (first < s->file->n_cmds && s->file->cmds[first].kind == SCN_START &&
        !s->file->cmds[first].at) {
        for (int i = 0; i <= first; i++) {
            char *l = strdup(s->file->cmds[i].src);
            if (l)
                rec_add(s, (struct rec){REC_EXEC, 0, 0, i, l, 0});
        }
        s->cursor = first + 1;
    }
}

static int start_timeline(struct live_session *s, char *err, size_t cap)
{
    recs_free(s->recs, s->n_recs);
    s->recs = NULL;
    s->n_recs = s->cap_recs = 0;
    s->cursor = 0;
    s->waiting = s->at_step = s->seeked = false;
    s->present_us = 0;
    s->end_us = 0;
    take_leading(s);
    if (materialize(s, 0, err, cap) != 0)
        return -1;
    release(s);
    return 0;
}

static int restart_with(struct live_session *s, const char *args, char *msg,
                        size_t cap)
{
    char *setup = NULL;
    if (setup_text(s->prog, args, &setup, msg, cap) != 0)
        return -1;
    /* check it parses before anything is dropped */
    struct scn_program *p = NULL;
    char *emsg = NULL;
    size_t elen = 0;
    FILE *ef = open_memstream(&emsg, &elen);
    int rc = scn_parse("restart", setup, strlen(setup), &p, ef);
    if (ef)
        fclose(ef);
    scn_free(p);
    if (rc != 0) {
        snprintf(msg, cap, "%s", emsg ? emsg : "restart: bad settings");
        free(emsg);
        free(setup);
        return -1;
    }
    free(emsg);
    free(s->setup);
    s->setup = setup;
    recs_free(s->aband, s->n_aband);
    s->aband = NULL;
    s->n_aband = 0;
    s->o.seed_given = false;
    char err[1024];
    if (start_timeline(s, err, sizeof(err)) != 0) {
        snprintf(msg, cap, "restart: %s", err);
        return -1;
    }
    s->paused = s->file != NULL; /* a file starts again from its top */
    snprintf(msg, cap, "restarted: %d nodes%s", s->prog->nodes,
             s->file ? ", the file from its first line (paused)" : "");
    return 0;
}

int live_new(const char *file, const struct live_opts *o,
             struct live_session **out, char *err, size_t cap)
{
    *out = NULL;
    struct live_session *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->o = *o;
    s->speed = o->speed > 0 ? o->speed : 1.0;
    s->paused = o->paused;
    s->cut_rec = -1;
    s->name = strdup(file ? file : "live");
    if (file) {
        char *msg = NULL;
        size_t mlen = 0;
        FILE *ef = open_memstream(&msg, &mlen);
        int rc = scn_parse_file(file, &s->file, ef);
        if (ef)
            fclose(ef);
        if (rc != 0) {
            snprintf(err, cap, "%s", msg ? msg : "cannot read the file");
            free(msg);
            live_free(s);
            return -1;
        }
        free(msg);
        if (s->file->n_mirror > 0) {
            snprintf(err, cap, "%s: a live session does not mirror onto "
                               "PostgreSQL; use raftsim run for this file",
                     file);
            live_free(s);
            return -1;
        }
    }
    struct scn_program *base = NULL;
    if (!s->file && scn_parse("live", "", 0, &base, NULL) != 0) {
        snprintf(err, cap, "out of memory");
        live_free(s);
        return -1;
    }
    if (setup_text(s->file ? s->file : base, NULL, &s->setup, err, cap) != 0) {
        scn_free(base);
        live_free(s);
        return -1;
    }
    scn_free(base);
    if (start_timeline(s, err, cap) != 0) {
        live_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void live_free(struct live_session *s)
{
    if (!s)
        return;
    drop_run(s);
    log_clear(s);
    free(s->log);
    recs_free(s->recs, s->n_recs);
    recs_free(s->aband, s->n_aband);
    scn_free(s->file);
    free(s->setup);
    free(s->name);
    free(s->tbuf);
    free(s->obuf);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ------------------------------------------------------------------ */
/* Export, state, the log for readers                                  */

int live_export(struct live_session *s, FILE *out, bool abandoned)
{
    pthread_mutex_lock(&s->mu);
    const struct rec *recs = abandoned ? s->aband : s->recs;
    int n = abandoned ? s->n_aband : s->n_recs;
    if (abandoned && !s->aband) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    uint64_t end = abandoned ? 0 : (uint64_t)s->end_us;
    size_t len;
    char *text = program_text(s, recs, n, NULL, 0, &len);
    if (text)
        fputs(text, out);
    free(text);
    /* the last wait: to the end of what was watched */
    if (!abandoned && s->run) {
        uint64_t last = 0;
        for (int i = 0; i < n; i++)
            if (recs[i].kind == REC_EXEC && recs[i].t_us > last)
                last = recs[i].t_us;
        if (end > last)
            fprintf(out, "at %lluus wait 0us\n", (unsigned long long)end);
    }
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void live_clock_json(struct live_session *s, char *buf, size_t cap)
{
    pthread_mutex_lock(&s->mu);
    snprintf(buf, cap,
             "{\"t_us\":%llu,\"speed\":%g,\"paused\":%s,\"at_step\":%s,"
             "\"seeked\":%s,\"end_us\":%llu,\"generation\":%llu}",
             (unsigned long long)s->present_us, s->speed,
             s->paused ? "true" : "false", s->at_step ? "true" : "false",
             s->seeked ? "true" : "false", (unsigned long long)s->end_us,
             (unsigned long long)s->gen);
    pthread_mutex_unlock(&s->mu);
}

void live_state_json(struct live_session *s, FILE *f)
{
    pthread_mutex_lock(&s->mu);
    struct sim_cluster *c = s->run ? scn_runner_cluster(s->run) : NULL;
    fprintf(f, "{\"t_us\":%llu,\"computed_us\":%llu,\"speed\":%g,"
               "\"paused\":%s,\"at_step\":%s,\"seeked\":%s,\"generation\":%llu,"
               "\"events\":%zu,\"records\":%d,\"file\":",
            (unsigned long long)s->present_us,
            (unsigned long long)s->computed_us, s->speed,
            s->paused ? "true" : "false", s->at_step ? "true" : "false",
            s->seeked ? "true" : "false", (unsigned long long)s->gen,
            s->released, s->n_recs);
    json_str(f, s->name);
    if (s->file && s->cursor < s->file->n_cmds) {
        fprintf(f, ",\"next_line\":%d,\"next\":", s->file->cmds[s->cursor].line);
        json_str(f, s->file->cmds[s->cursor].src);
    }
    int leader = 0;
    uint64_t lterm = 0;
    fprintf(f, ",\"nodes\":[");
    for (int i = 1; c && i <= sim_n_nodes(c); i++) {
        struct raft_node *r = sim_node(c, i);
        bool up = sim_is_up(c, i);
        if (up && raft_role(r) == RAFT_LEADER && raft_term(r) >= lterm) {
            leader = i;
            lterm = raft_term(r);
        }
        const struct wal *w = raft_wal(r);
        fprintf(f, "%s{\"id\":%d,\"role\":\"%s\",\"term\":%llu,"
                   "\"last_lsn\":%llu,\"commit_lsn\":%llu,\"applied_lsn\":%llu,"
                   "\"up\":%s,\"paused\":%s}",
                i > 1 ? "," : "", i,
                up ? raft_role_name(raft_role(r)) : "down",
                (unsigned long long)raft_term(r),
                (unsigned long long)wal_last_lsn(w),
                (unsigned long long)raft_commit_lsn(r),
                (unsigned long long)sim_applied_lsn(c, i), up ? "true" : "false",
                sim_is_paused(c, i) ? "true" : "false");
    }
    fprintf(f, "],\"leader\":%d}", leader);
    pthread_mutex_unlock(&s->mu);
}

char *live_entry_json(struct live_session *s, uint64_t gen, size_t idx,
                      enum live_kind *kind)
{
    char *res = NULL;
    pthread_mutex_lock(&s->mu);
    if (gen == s->gen && idx < s->released) {
        const struct live_entry *e = &s->log[idx];
        *kind = e->kind;
        if (e->kind == LIVE_TRACE)
            res = strdup(e->text);
        else {
            size_t len;
            FILE *f = open_memstream(&res, &len);
            if (f) {
                fprintf(f, "{\"t_us\":%llu,\"text\":",
                        (unsigned long long)e->t_us);
                json_str(f, e->text);
                fputc('}', f);
                fclose(f);
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return res;
}

char *live_entry_text(struct live_session *s, uint64_t gen, size_t idx,
                      enum live_kind *kind)
{
    char *res = NULL;
    pthread_mutex_lock(&s->mu);
    if (gen == s->gen && idx < s->released) {
        *kind = s->log[idx].kind;
        res = strdup(s->log[idx].text);
    }
    pthread_mutex_unlock(&s->mu);
    return res;
}

uint64_t live_wait(struct live_session *s, uint64_t gen, size_t idx,
                   int timeout_ms, size_t *released)
{
    pthread_mutex_lock(&s->mu);
    if (gen == s->gen && idx >= s->released && timeout_ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    uint64_t g = s->gen;
    *released = s->released;
    pthread_mutex_unlock(&s->mu);
    return g;
}

uint64_t live_present_us(struct live_session *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t t = (uint64_t)s->present_us;
    pthread_mutex_unlock(&s->mu);
    return t;
}

bool live_is_paused(struct live_session *s)
{
    pthread_mutex_lock(&s->mu);
    bool p = s->paused;
    pthread_mutex_unlock(&s->mu);
    return p;
}

int live_end(struct live_session *s)
{
    pthread_mutex_lock(&s->mu);
    struct scn_run_result res;
    int rc = s->run ? scn_runner_finish(s->run, &res) : 2;
    s->present_us = (double)now_of(s);
    s->released = s->n_log; /* the summary is the last word */
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void live_write_trace(struct live_session *s, FILE *out)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->released; i++)
        if (s->log[i].kind == LIVE_TRACE)
            fprintf(out, "%s\n", s->log[i].text);
    pthread_mutex_unlock(&s->mu);
}

void live_wake_all(struct live_session *s)
{
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}
