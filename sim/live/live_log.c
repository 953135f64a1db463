/*
 * live_log.c — the live session's event log: the runner's trace and
 * narration captured line by line with their virtual times, released to
 * readers as the display clock reaches them; and what viewers read from
 * the session (the clock line, the state snapshot, the export).
 */
#include "sim/live/live_int.h"

void live__log_push(struct live_session *s, uint64_t t, enum live_kind k,
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

void live__log_clear(struct live_session *s)
{
    for (size_t i = 0; i < s->n_log; i++)
        free(s->log[i].text);
    s->n_log = s->released = 0;
    s->log_full = false;
    s->gen++;
    pthread_cond_broadcast(&s->cv);
}

void live__release(struct live_session *s)
{
    size_t r = s->released;
    while (r < s->n_log && (double)s->log[r].t_us <= s->present_us)
        r++;
    if (r != s->released) {
        s->released = r;
        pthread_cond_broadcast(&s->cv);
    }
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
        uint64_t t = live__now(s);
        if (k == LIVE_TRACE && l > 8 && !strncmp(line, "{\"t_us\":", 8))
            t = strtoull(line + 8, NULL, 10);
        live__log_push(s, t, k, line, l);
        start = i + 1;
    }
    memmove(*buf, *buf + start, *len - start);
    *len -= start;
}

ssize_t live__trace_write(void *c, const char *data, size_t size)
{
    struct live_session *s = c;
    take_lines(s, &s->tbuf, &s->tlen, &s->tcap, data, size, LIVE_TRACE);
    return (ssize_t)size;
}

ssize_t live__out_write(void *c, const char *data, size_t size)
{
    struct live_session *s = c;
    take_lines(s, &s->obuf, &s->olen, &s->ocap, data, size, LIVE_NARRATION);
    return (ssize_t)size;
}

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
    char *text = live__program_text(s, recs, n, NULL, 0, &len);
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

/* Each node's election timer as "[deadline_us,timeout_us]" (null for a
 * leader or a crashed node, which run none). */
static void timers_json(struct sim_cluster *c, FILE *f)
{
    fputc('[', f);
    for (int i = 1; c && i <= sim_n_nodes(c); i++) {
        raft_time_t len, d = raft_election_deadline(sim_node(c, i), &len);
        if (i > 1)
            fputc(',', f);
        if (d == UINT64_MAX || !sim_is_up(c, i))
            fputs("null", f);
        else
            fprintf(f, "[%llu,%llu]", (unsigned long long)d,
                    (unsigned long long)len);
    }
    fputc(']', f);
}

static void clients_json(const struct scn_program *p, FILE *f)
{
    fputc('[', f);
    for (int i = 0; p && i < p->n_clients; i++) {
        if (i)
            fputc(',', f);
        json_str(f, p->clients[i]);
    }
    fputc(']', f);
}

char *live_view_json(struct live_session *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    pthread_mutex_lock(&s->mu);
    struct sim_cluster *c = s->run ? scn_runner_cluster(s->run) : NULL;
    fprintf(f, "{\"generation\":%llu,\"clients\":", (unsigned long long)s->gen);
    clients_json(s->prog, f);
    /* a command that ran ahead of the display (an await): its timers are
     * the future's, so none are told until the display catches up */
    if ((double)live__now(s) <= s->present_us + 0.5) {
        fputs(",\"timers\":", f);
        timers_json(c, f);
    }
    fputc('}', f);
    pthread_mutex_unlock(&s->mu);
    fclose(f);
    return buf;
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
    fprintf(f, "],\"leader\":%d,\"timers\":", leader);
    if ((double)live__now(s) > s->present_us + 0.5)
        fputs("null", f); /* (see live_view_json) */
    else
        timers_json(c, f);
    fputs(",\"clients\":", f);
    clients_json(s->prog, f);
    fputc('}', f);
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
    s->present_us = (double)live__now(s);
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

