/*
 * runner_mirror_look.c — what the mirrored servers show: the lines `show
 * status` adds, and `expect pg …`.  See runner_mirror.h.
 */
#include "sim/runner/runner_mirror.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/cluster/trace.h"
#include "sim/util/util.h"

#define HAS_WAIT_S 5.0

/* A standby's lag as its primary's pg_stat_replication shows it. */
static const struct pg_standby *standby_lag(const struct rmirror *M,
                                            const struct pg_obs *obs, int i)
{
    const struct pg_standby *sb = NULL;
    for (int j = 0; j < M->n && obs[i].in_recovery && !sb; j++)
        if (obs[j].up && !obs[j].in_recovery)
            sb = pg_standby_of(&obs[j], M->s[i].name);
    return sb;
}

void rm_trace_obs(struct runner *R, const struct pg_obs *obs)
{
    struct rmirror *M = R->mir;
    struct trace *tr = sim_tracer(R->c);
    if (!M || !trace_on(tr))
        return;
    for (int i = 0; i < M->n; i++) {
        const struct pg_obs *o = &obs[i];
        const char *role = !o->up            ? "down"
                           : o->in_recovery  ? "standby"
                           : o->read_only    ? "fenced"
                                             : "primary";
        const struct pg_standby *sb = o->up ? standby_lag(M, obs, i) : NULL;
        uint64_t lsn = o->in_recovery ? o->receive_lsn : o->current_lsn;
        char now[192];
        snprintf(now, sizeof(now), "%s %u %llu %llu %d %llu %.3f", role,
                 o->timeline, (unsigned long long)lsn,
                 (unsigned long long)o->replay_lsn, o->streaming,
                 sb ? (unsigned long long)sb->lag_bytes : 0ULL,
                 sb ? sb->lag_s : 0.0);
        if (!strcmp(now, M->traced[i]))
            continue;
        snprintf(M->traced[i], sizeof(M->traced[i]), "%s", now);
        char a[24];
        trace_begin(tr, sim_now(R->c), M->node_of[i], "pg");
        trace_str(tr, "server", M->s[i].name);
        trace_str(tr, "role", role);
        if (o->up) {
            trace_u64(tr, "timeline", o->timeline);
            pg_format_lsn(lsn, a, sizeof(a));
            trace_str(tr, "lsn", a);
            if (o->in_recovery) {
                pg_format_lsn(o->replay_lsn, a, sizeof(a));
                trace_str(tr, "replayed", a);
                trace_bool(tr, "streaming", o->streaming);
            }
            if (sb) {
                trace_u64(tr, "lag_bytes", sb->lag_bytes);
                trace_f64(tr, "lag_s", sb->lag_s);
                trace_str(tr, "sync_state", sb->sync_state);
            }
        }
        trace_end(tr);
    }
}

/* `show status`: the servers next to the nodes. */
void rm_status(struct runner *R)
{
    struct rmirror *M = R->mir;
    if (!M)
        return;
    struct pg_obs obs[8];
    rm_observe_all(M, obs);
    rm_trace_obs(R, obs);
    for (int i = 0; i < M->n; i++) {
        const struct pg_obs *o = &obs[i];
        if (!o->up) {
            fprintf(R->out, "          pg %-4s n%-3d down\n", M->s[i].name,
                    M->node_of[i]);
            continue;
        }
        char a[24], b[24];
        pg_format_lsn(o->in_recovery ? o->receive_lsn : o->current_lsn, a,
                      sizeof(a));
        pg_format_lsn(o->replay_lsn, b, sizeof(b));
        /* a standby's lag as its primary sees it */
        const struct pg_standby *sb = standby_lag(M, obs, i);
        char lag[64] = "";
        if (sb)
            snprintf(lag, sizeof(lag), "  lag %llu bytes %.3f s (%s)",
                     (unsigned long long)sb->lag_bytes, sb->lag_s,
                     sb->sync_state);
        if (o->in_recovery)
            fprintf(R->out,
                    "          pg %-4s n%-3d standby%s tli %u  received %s  "
                    "replayed %s%s\n",
                    M->s[i].name, M->node_of[i], o->streaming ? "" : "*",
                    o->timeline, a, b, lag);
        else
            fprintf(R->out,
                    "          pg %-4s n%-3d %s tli %u  lsn %s  largest lag %llu "
                    "bytes %.3f s\n",
                    M->s[i].name, M->node_of[i],
                    o->read_only ? "fenced " : "primary", o->timeline, a,
                    (unsigned long long)o->lag_bytes, o->lag_s);
    }
}

/* expect pg ...: true when it holds; actual says what was seen. */
static bool check(struct runner *R, const struct scn_expect *ex,
                  char *actual, size_t cap)
{
    struct rmirror *M = R->mir;
    if (!M) {
        snprintf(actual, cap, "no mirror is running");
        return false;
    }
    int s = -1;
    for (int i = 0; i < M->n; i++)
        if (!strcmp(M->s[i].name, ex->server))
            s = i;
    struct pg_obs obs[8];
    switch (ex->pg) {
    case SCN_PG_PRIMARY:
    case SCN_PG_WRITABLE: {
        rm_observe_all(M, obs);
        int writers = 0, w = -1;
        for (int i = 0; i < M->n; i++)
            if (pg_writable(&obs[i])) {
                writers++;
                w = i;
            }
        if (ex->pg == SCN_PG_WRITABLE) {
            snprintf(actual, cap, "%d server%s accept%s writes", writers,
                     writers == 1 ? "" : "s", writers == 1 ? "s" : "");
            return rv_compare((uint64_t)writers, ex->cmp, ex->value.lit);
        }
        snprintf(actual, cap, "the primary is %s",
                 writers == 1 ? M->s[w].name
                 : writers    ? "ambiguous (several accept writes)"
                              : "none");
        return ex->server[0] ? writers == 1 && w == s : writers == 0;
    }
    case SCN_PG_HAS: {
        /* `has` on a streaming standby waits (bounded) for the row: a
         * read there is eventually consistent, and a remote standby
         * applies commits late on purpose.  `lacks` looks once. */
        int has = 0, p = -1;
        char err[512];
        double t0 = util_wall_s(), waited = 0;
        for (int i = 0; i < M->n; i++)
            if (M->st[i] == S_PRIMARY)
                p = i;
        for (;;) {
            struct pg_row *rows = NULL;
            int n = 0;
            if (s < 0 || pg_rows(&M->s[s], RM_TIMEOUT_S, &rows, &n, err,
                                 sizeof(err)) != 0) {
                snprintf(actual, cap, "%s", s < 0 ? "no such server" : err);
                return false;
            }
            has = 0;
            for (int j = 0; j < n; j++)
                has += !strcmp(rows[j].key, ex->key);
            free(rows);
            if (has || ex->negate || p < 0 || p == s ||
                M->st[s] != S_STANDBY || M->cut[s] ||
                util_wall_s() - t0 > HAS_WAIT_S)
                break;
            struct timespec ts = {0, 100000000L};
            nanosleep(&ts, NULL);
            waited = util_wall_s() - t0;
        }
        char w[64] = "";
        if (waited > 0)
            snprintf(w, sizeof(w), " (after waiting %.0f ms for it)",
                     waited * 1e3);
        snprintf(actual, cap, "%s has %d row%s with key %s%s", ex->server, has,
                 has == 1 ? "" : "s", ex->key, w);
        return ex->negate ? has == 0 : has > 0;
    }
    case SCN_PG_LAG: {
        rm_observe_all(M, obs);
        int p = -1;
        for (int i = 0; i < M->n; i++)
            if (pg_writable(&obs[i]))
                p = i;
        if (p < 0 || s < 0 || !obs[s].up || !obs[s].in_recovery) {
            snprintf(actual, cap, "%s is not a standby of a primary",
                     ex->server);
            return false;
        }
        const struct pg_standby *b = pg_standby_of(&obs[p], ex->server);
        if (!b) {
            snprintf(actual, cap, "%s does not stream from %s", ex->server,
                     M->s[p].name);
            return false;
        }
        snprintf(actual, cap, "replay lag %.3f s, %llu bytes (%s's "
                              "pg_stat_replication)",
                 b->lag_s, (unsigned long long)b->lag_bytes, M->s[p].name);
        return rv_compare((uint64_t)(b->lag_s * 1e6), ex->cmp,
                         ex->value.lit);
    }
    }
    return false;
}

/* The cluster's clock is held while the servers are asked (a `has` may
 * wait seconds for a late row): the simulation waits for PostgreSQL. */
bool rm_check(struct runner *R, const struct scn_expect *ex, char *actual,
              size_t cap)
{
    sim_hold_clock(R->c, true);
    bool ok = check(R, ex, actual, cap);
    sim_hold_clock(R->c, false);
    return ok;
}

int rm_violations(struct runner *R)
{
    return R->mir ? R->mir->violations : 0;
}
