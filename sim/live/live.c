/*
 * live.c — the live session engine (live.h): records, the display clock,
 * the file's script, rebuilding by replay (seek, fork, restart).  The
 * event log and what viewers read are live_log.c; the control words are
 * live_control.c.
 *
 * Why replay instead of checkpoints: the whole cluster is a deterministic
 * function of its set-up and records, and the simulator runs thousands of
 * virtual seconds per wall second, so rebuilding 60 s of history costs a
 * few milliseconds (`raftsim bench live` prints the figure).  A copy of a
 * cluster would need a deep copy of every node, WAL, queue and checker
 * and could drift from the real thing; a replay cannot.
 */
#include "sim/live/live_int.h"

static const char *const setup_words[] = {
    "nodes", "heartbeat", "election", "ack", "policy", "prevote",
    "checkquorum", "unsafe", "seed", "disk", "client-timeout",
    "client-latency", "clients", "clock", "mirror", "mirror-control",
    "fast-detect"};

void live_opts_default(struct live_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->speed = 1.0;
}

uint64_t live__now(struct live_session *s)
{
    return s->run ? scn_runner_now(s->run) : 0;
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

void live__recs_free(struct rec *r, int n)
{
    for (int i = 0; i < n; i++)
        free(r[i].line);
    free(r);
}

/* The scenario text of set-up + records [0, upto) + extra (at t). */
char *live__program_text(struct live_session *s, const struct rec *recs,
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
    char *text = live__program_text(s, s->recs, s->n_recs, extra, t, &len);
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
    cookie_io_functions_t tio = {.write = live__trace_write};
    cookie_io_functions_t oio = {.write = live__out_write};
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
int live__materialize(struct live_session *s, uint64_t horizon_us, char *err,
                       size_t cap)
{
    drop_run(s);
    live__log_clear(s);
    size_t len;
    char *text = live__program_text(s, s->recs, s->n_recs, NULL, 0, &len);
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
                r->end_us = live__now(s); /* (cut short: it ends later) */
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
    s->computed_us = live__now(s);
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
int live__fork_at(struct live_session *s, uint64_t t, bool set_aside,
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
        live__recs_free(s->aband, s->n_aband);
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
    if (live__materialize(s, 0, err, cap) != 0)
        return -1;
    scn_runner_run_to(s->run, t);
    s->computed_us = live__now(s);
    s->seeked = false;
    s->end_us = t;
    s->present_us = (double)t;
    live__release(s);
    return 0;
}

/* Run one line now: parse it with the timeline (or take `parsed`, that
 * parse already made at this time), record it, execute it. */
static int exec_line(struct live_session *s, const char *line, int file_idx,
                     struct scn_program *parsed, char *err, size_t cap)
{
    uint64_t t = live__now(s);
    struct scn_program *p = parsed ? parsed : parse_with(s, line, t, err, cap);
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
    s->recs[s->n_recs - 1].end_us = live__now(s);
    s->n_applied = s->n_recs;
    s->computed_us = live__now(s);
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
    uint64_t now = live__now(s);
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
    if (exec_line(s, bare_src(cmd), idx, NULL, err, sizeof(err)) != 0) {
        char note[2300];
        int n = snprintf(note, sizeof(note),
                         "%10.3f       (line %d of the file skipped: %s)",
                         (double)now / 1e6, cmd->line, err);
        char *nl = strchr(note, '\n');
        live__log_push(s, now, LIVE_NARRATION, note, nl ? (size_t)(nl - note) : (size_t)n);
    }
    return true;
}

/* Move the display clock to t (never back), computing what falls before
 * it.  Bounded: each pass either executes a command or stops. */
void live__advance_to(struct live_session *s, double t)
{
    if (t > s->present_us)
        s->present_us = t;
    if (s->seeked) {
        /* along the recorded timeline: nothing new is computed; the
         * controller resumes (fork) or seeks again */
        live__release(s);
        return;
    }
    for (int guard = 0; guard < 100000; guard++) {
        if (s->present_us < (double)live__now(s))
            break; /* the display catches up with a command ahead of it */
        if (s->paused && s->at_step)
            break;
        if (!script_step(s))
            break;
    }
    uint64_t target = (uint64_t)s->present_us;
    if (target > live__now(s))
        scn_runner_run_to(s->run, target);
    s->computed_us = live__now(s);
    if (s->present_us > (double)s->end_us)
        s->end_us = (uint64_t)s->present_us;
    live__release(s);
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
        live__advance_to(s, s->present_us + dt * 1e6 * s->speed);
    }
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ */
/* Acting                                                              */

const char *live__first_word(const char *line, char *w, size_t cap)
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
    live__first_word(line, w, sizeof(w));
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
    if (s->seeked || (double)live__now(s) > s->present_us ||
        s->n_applied < s->n_recs) {
        scn_free(probe); /* the records change: parse again after the fork */
        probe = NULL;
        if (live__fork_at(s, t, true, err, sizeof(err)) != 0) {
            snprintf(msg, cap, "cannot go back to %.3f s: %s", (double)t / 1e6,
                     err);
            rc = -1;
            goto out;
        }
    } else if (t > live__now(s))
        scn_runner_run_to(s->run, t);
    if (exec_line(s, line, -1, probe, err, sizeof(err)) != 0) {
        snprintf(msg, cap, "%s", err);
        rc = -1;
        goto out;
    }
    snprintf(msg, cap, "ok at %.3f s", (double)t / 1e6);
    if (s->o.scripted)
        s->present_us = (double)live__now(s); /* the line moved time itself */
    if (s->present_us > (double)s->end_us)
        s->end_us = (uint64_t)s->present_us;
    live__release(s);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */


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

int live__start_timeline(struct live_session *s, char *err, size_t cap)
{
    live__recs_free(s->recs, s->n_recs);
    s->recs = NULL;
    s->n_recs = s->cap_recs = 0;
    s->cursor = 0;
    s->waiting = s->at_step = s->seeked = false;
    s->present_us = 0;
    s->end_us = 0;
    take_leading(s);
    if (live__materialize(s, 0, err, cap) != 0)
        return -1;
    live__release(s);
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
    if (live__setup_text(s->file ? s->file : base, NULL, &s->setup, err, cap) != 0) {
        scn_free(base);
        live_free(s);
        return -1;
    }
    scn_free(base);
    if (live__start_timeline(s, err, cap) != 0) {
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
    live__log_clear(s);
    free(s->log);
    live__recs_free(s->recs, s->n_recs);
    live__recs_free(s->aband, s->n_aband);
    scn_free(s->file);
    free(s->setup);
    free(s->name);
    free(s->tbuf);
    free(s->obuf);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
