/*
 * runner_mirror_setup.c — the mirrored servers brought to the file's
 * starting state, PostgreSQL's own synchronous replication set from the
 * ack mode, standbys re-pointed at a new primary, and what the mirror
 * changed restored when the run ends.  See runner_mirror.h.
 *
 * The starting state (so that files run back to back on one pair): the
 * primary on the server of the file's first leader — the first mapped
 * node the file starts (a witness never leads), else the first mapped
 * server — every other server a standby streaming from it, raftsim_kv
 * empty everywhere.  Repairs use libpq where it suffices (fencing,
 * pg_promote, re-pointing primary_conninfo) and otherwise the control
 * command's `start`, `crash` and `rejoin`, the verbs the mirror already
 * needs during a run, so any template that can run a scenario can also
 * prepare one.  tools/pg-pair's `up` is not called: it keeps whichever
 * server is primary, and the file may want another.
 */
#include "sim/runner/runner_mirror.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/pg/pg_control.h"
#include "sim/pg/pg_repl.h"
#include "sim/util/util.h"

#define STREAM_WAIT_S 5.0 /* a re-pointed standby starts streaming */
#define RESET_WAIT_S 15.0 /* standbys replay the emptied table */

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int exec2(const struct pg_server *s, const char *sql, char *err,
                 size_t cap)
{
    if (pg_exec(s, RM_TIMEOUT_S, sql, err, cap) != 0 ||
        pg_exec(s, RM_TIMEOUT_S, "SELECT pg_reload_conf()", err, cap) != 0)
        return -1;
    return 0;
}

int rm_set_conninfo(const struct pg_server *s, const char *conninfo,
                    char *err, size_t cap)
{
    char sql[1200], *q = sql;
    q += snprintf(sql, sizeof(sql), "ALTER SYSTEM SET primary_conninfo = '");
    for (const char *c = conninfo; *c && q < sql + sizeof(sql) - 4; c++) {
        if (*c == '\'')
            *q++ = '\'';
        *q++ = *c;
    }
    snprintf(q, (size_t)(sql + sizeof(sql) - q), "'");
    return exec2(s, sql, err, cap);
}

/* ------------------------------------------------------------------ */
/* Synchronous replication from the ack mode                           */

int rm_apply_sync(struct runner *R, int p, char *err, size_t cap)
{
    struct rmirror *M = R->mir;
    const char *names[RM_MAX];
    for (int i = 0; i < M->n; i++)
        names[i] = M->s[i].name;
    enum pg_ack ack = R->p->ack == RAFT_ACK_ASYNC   ? PG_ACK_LOCAL
                      : R->p->ack == RAFT_ACK_QUORUM ? PG_ACK_ANY
                                                     : PG_ACK_ALL;
    int quorum = R->n / 2 + 1, k, capped;
    char ssn[200];
    if (pg_sync_names(ack, quorum, names, M->n, p, ssn, sizeof(ssn), &k,
                      &capped) != 0) {
        snprintf(err, cap, "synchronous_standby_names too long");
        return -1;
    }
    char sql[300];
    snprintf(sql, sizeof(sql), "ALTER SYSTEM SET synchronous_standby_names "
                               "= '%s'",
             ssn);
    if (exec2(&M->s[p], sql, err, cap) != 0)
        return -1;
    char why[160];
    if (ack == PG_ACK_LOCAL)
        snprintf(why, sizeof(why), "ack async: synchronous_commit = local");
    else if (ack == PG_ACK_ANY)
        snprintf(why, sizeof(why), "ack quorum: %d of %d nodes, %d besides "
                                   "the primary%s",
                 quorum, R->n, quorum - 1,
                 capped ? ", more than the standby servers" : "");
    else
        snprintf(why, sizeof(why), "ack sync: every standby server");
    rm_say(R, C_CYAN, "%s: synchronous_standby_names = '%s' (%s)",
           M->s[p].name, ssn, why);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Standbys                                                            */

bool rm_streams_from(struct rmirror *M, int s, int p)
{
    struct pg_obs o;
    pg_observe(&M->s[p], RM_TIMEOUT_S, &o);
    const struct pg_standby *b = pg_standby_of(&o, M->s[s].name);
    return pg_writable(&o) && b && !strcmp(b->state, "streaming");
}

static bool wait_streaming(struct rmirror *M, int s, int p, double secs)
{
    double end = util_wall_s() + secs;
    while (!rm_streams_from(M, s, p)) {
        if (util_wall_s() > end)
            return false;
        nap_ms(100);
    }
    return true;
}

/* primary_conninfo of s re-pointed at p (saved only, when s is cut) */
static int repoint(struct runner *R, int s, int p, char *err, size_t cap)
{
    struct rmirror *M = R->mir;
    char cur[512], next[512];
    if (M->cut[s])
        snprintf(cur, sizeof(cur), "%s", M->conninfo[s]);
    else if (pg_value(&M->s[s], RM_TIMEOUT_S, "SHOW primary_conninfo", cur,
                      sizeof(cur), err, cap) != 0)
        return -1;
    if (pg_conninfo_repoint(cur, M->s[p].conninfo, next, sizeof(next), err,
                            cap) != 0)
        return -1;
    if (M->cut[s]) {
        snprintf(M->conninfo[s], sizeof(M->conninfo[s]), "%s", next);
        return 0;
    }
    return rm_set_conninfo(&M->s[s], next, err, cap);
}

int rm_follow_primary(struct runner *R, int s, int p)
{
    struct rmirror *M = R->mir;
    char err[512];
    double t0 = util_wall_s();
    if (repoint(R, s, p, err, sizeof(err)) != 0) {
        rm_fail(R, "re-pointing %s at %s: %s", M->s[s].name, M->s[p].name,
                err);
        return -1;
    }
    if (M->cut[s]) {
        rm_say(R, C_CYAN, "%s: replication stays cut; when it is restored it "
                          "streams from %s",
               M->s[s].name, M->s[p].name);
        return 0;
    }
    if (wait_streaming(M, s, p, STREAM_WAIT_S)) {
        rm_say(R, C_GREEN, "%s re-pointed at %s (primary_conninfo, reload): "
                           "streaming after %.0f ms",
               M->s[s].name, M->s[p].name, (util_wall_s() - t0) * 1e3);
        return 0;
    }
    /* its WAL went past the new primary's fork: it must be rewound */
    double ms;
    if (rm_control(R, "rejoin", s, &ms, false) != 0) {
        M->st[s] = S_DOWN;
        return -1;
    }
    rm_say(R, C_GREEN, "%s did not stream from %s within %.0f s (its "
                       "timeline diverged): rejoined with pg_rewind in %.0f ms",
           M->s[s].name, M->s[p].name, STREAM_WAIT_S, ms);
    return 0;
}

/* the (lsn, term) sets of two row lists are equal */
static bool same_rows(const struct pg_row *x, int nx, const struct pg_row *y,
                      int ny)
{
    if (nx != ny)
        return false;
    for (int i = 0; i < nx; i++) /* both in (lsn, term) order */
        if (x[i].lsn != y[i].lsn || x[i].term != y[i].term)
            return false;
    return true;
}

/* Server s answers and shows exactly these rows. */
static bool shows_rows(struct rmirror *M, int s, const struct pg_row *want,
                       int nw)
{
    struct pg_row *have = NULL;
    int nh = 0;
    char why[512];
    bool same = pg_rows(&M->s[s], RM_TIMEOUT_S, &have, &nh, why,
                        sizeof(why)) == 0 &&
                same_rows(want, nw, have, nh);
    free(have);
    return same;
}

/* Every streaming standby shows the rows its primary shows.  Rows, not
 * LSNs: a standby with recovery_min_apply_delay reports WAL as replayed
 * while it holds the commit back (measured: pg_last_wal_replay_lsn()
 * equal to the primary's position, the new row not yet visible). */
bool rm_wait_replayed(struct runner *R, int p, double timeout_s, char *err,
                      size_t cap)
{
    struct rmirror *M = R->mir;
    double end = util_wall_s() + timeout_s;
    struct pg_row *want = NULL;
    int nw = 0;
    if (pg_rows(&M->s[p], RM_TIMEOUT_S, &want, &nw, err, cap) != 0)
        return false;
    bool ok = true;
    for (int s = 0; s < M->n && ok; s++) {
        if (s == p || M->st[s] != S_STANDBY || M->cut[s])
            continue;
        for (;;) {
            if (shows_rows(M, s, want, nw))
                break;
            if (util_wall_s() > end) {
                snprintf(err, cap, "%s does not show %s's %d row%s after "
                                   "%.0f s",
                         M->s[s].name, M->s[p].name, nw, nw == 1 ? "" : "s",
                         timeout_s);
                ok = false;
                break;
            }
            nap_ms(50);
        }
    }
    free(want);
    return ok;
}

/* ------------------------------------------------------------------ */
/* The file's starting state                                           */

static int first_leader_server(struct runner *R)
{
    struct rmirror *M = R->mir;
    for (int i = 1; i <= R->n; i++)
        if (M->of[i] >= 0 && R->started[i])
            return M->of[i];
    for (int i = 1; i <= R->n; i++)
        if (M->of[i] >= 0)
            return M->of[i];
    return 0;
}

/* a repair through the control command, narrated */
static int repair(struct runner *R, const char *action, int s,
                  const char *why, char *err, size_t cap)
{
    struct rmirror *M = R->mir;
    double ms;
    char cmd[1024];
    pgc_fill_template(M->control, action, M->s[s].name, cmd, sizeof(cmd));
    if (rm_control(R, action, s, &ms, true) != 0) {
        snprintf(err, cap, "server %s: %s: `%.300s` failed after %.0f ms", 
                 M->s[s].name, why, cmd, ms);
        return -1;
    }
    rm_say(R, C_DIM, "setup: %s (%s): %s (%.0f ms)", M->s[s].name, why, action,
           ms);
    return 0;
}

static int unfence(const struct pg_server *s, char *err, size_t cap)
{
    return exec2(s, "ALTER SYSTEM RESET default_transaction_read_only", err,
                 cap);
}

static int prepare(struct runner *R, int P, char *err, size_t cap)
{
    struct rmirror *M = R->mir;
    struct pg_obs obs[RM_MAX];
    rm_observe_all(M, obs);
    /* no server answers: the pair is not up, nothing to repair */
    int up = 0;
    for (int i = 0; i < M->n; i++)
        up += obs[i].up;
    if (!up) {
        snprintf(err, cap, "%s", obs[P].error);
        return -1;
    }
    /* A: at most one primary runs, and it is writable */
    int Q = -1;
    if (pg_writable(&obs[P]))
        Q = P;
    for (int i = 0; i < M->n && Q < 0; i++)
        if (pg_writable(&obs[i]))
            Q = i;
    if (Q < 0 && obs[P].up && !obs[P].in_recovery)
        Q = P; /* fenced */
    for (int i = 0; i < M->n && Q < 0; i++)
        if (obs[i].up && !obs[i].in_recovery)
            Q = i;
    for (int i = 0; i < M->n; i++)
        if (i != Q && obs[i].up && !obs[i].in_recovery &&
            repair(R, "crash", i, "a second primary, to be rejoined", err,
                   cap) != 0)
            return -1;
    if (Q < 0 && !obs[P].up) {
        if (repair(R, "start", P, "down, the file's first primary", err,
                   cap) != 0)
            return -1;
        pg_observe(&M->s[P], RM_TIMEOUT_S, &obs[P]);
        if (!obs[P].up) {
            snprintf(err, cap, "%s", obs[P].error);
            return -1;
        }
        if (!obs[P].in_recovery)
            Q = P;
    }
    if (Q >= 0 && obs[Q].read_only && unfence(&M->s[Q], err, cap) != 0)
        return -1;
    /* B: the primary on P */
    if (Q != P) {
        if (!obs[P].up && repair(R, "rejoin", P, "down", err, cap) != 0)
            return -1;
        /* fenced (stopped) before the promotion; rejoined below */
        if (Q >= 0 && repair(R, "stop", Q, "the primary to be replaced, "
                                           "fenced", err, cap) != 0)
            return -1;
        double t0 = util_wall_s();
        if (pg_exec(&M->s[P], 35.0, "SELECT pg_promote(true, 30)", err,
                    cap) != 0 ||
            unfence(&M->s[P], err, cap) != 0)
            return -1;
        rm_say(R, C_DIM, "setup: %s promoted, the file's first primary "
                         "(%.0f ms)",
               M->s[P].name, (util_wall_s() - t0) * 1e3);
    }
    /* C: every other server streams from P */
    rm_observe_all(M, obs);
    for (int s = 0; s < M->n; s++) {
        if (s == P)
            continue;
        M->st[s] = S_STANDBY;
        M->cut[s] = false;
        if (!obs[s].up || !obs[s].in_recovery) {
            if (repair(R, "rejoin", s,
                       obs[s].up ? "a deposed primary" : "down", err,
                       cap) != 0)
                return -1;
            continue;
        }
        if (rm_streams_from(M, s, P))
            continue;
        char why[512];
        double t0 = util_wall_s();
        if (repoint(R, s, P, why, sizeof(why)) == 0 &&
            wait_streaming(M, s, P, STREAM_WAIT_S)) {
            rm_say(R, C_DIM, "setup: %s re-pointed at %s (%.0f ms)",
                   M->s[s].name, M->s[P].name, (util_wall_s() - t0) * 1e3);
            continue;
        }
        if (repair(R, "rejoin", s, "not streaming from the primary", err,
                   cap) != 0)
            return -1;
    }
    M->st[P] = S_PRIMARY;
    /* A standby seen streaming above may have been between two attempts
     * of a connection its own history refuses (a timeline it cannot
     * follow: it reconnects, is refused, and retries): one rejoin. */
    for (int s = 0; s < M->n; s++) {
        if (s == P || wait_streaming(M, s, P, STREAM_WAIT_S))
            continue;
        if (repair(R, "rejoin", s, "stopped streaming from the primary",
                   err, cap) != 0)
            return -1;
        if (!wait_streaming(M, s, P, STREAM_WAIT_S)) {
            snprintf(err, cap, "server %s does not stream from %s after "
                               "its repair",
                     M->s[s].name, M->s[P].name);
            return -1;
        }
    }
    return 0;
}

/* Rejoin (pg_rewind onto P) every standby whose rows differ from P's. */
static int rejoin_behind(struct runner *R, int P, char *err, size_t cap)
{
    struct rmirror *M = R->mir;
    struct pg_row *want = NULL;
    int nw = 0;
    if (pg_rows(&M->s[P], RM_TIMEOUT_S, &want, &nw, err, cap) != 0)
        return -1;
    int rc = 0;
    for (int s = 0; s < M->n && rc == 0; s++) {
        if (s == P || M->st[s] != S_STANDBY || M->cut[s])
            continue;
        if (!shows_rows(M, s, want, nw))
            rc = repair(R, "rejoin", s, "does not replay the primary's rows",
                        err, cap);
    }
    free(want);
    return rc;
}

/* synchronous_standby_names as the pair had it, for the run's end */
static void save_ssn(struct rmirror *M, int p)
{
    char v[sizeof(M->ssn_before)], err[256];
    if (pg_value(&M->s[p], RM_TIMEOUT_S,
                 "SELECT COALESCE((SELECT setting FROM pg_file_settings WHERE "
                 "name = 'synchronous_standby_names' AND sourcefile LIKE "
                 "'%postgresql.auto.conf' ORDER BY seqno DESC LIMIT 1), "
                 "E'\\x01')",
                 v, sizeof(v), err, sizeof(err)) != 0)
        return;
    M->ssn_saved = true;
    M->ssn_was_set = strcmp(v, "\x01") != 0;
    snprintf(M->ssn_before, sizeof(M->ssn_before), "%s", v);
}

int rm_start(struct runner *R, char *err, size_t cap)
{
    const struct scn_program *p = R->p;
    /* A downloaded scenario must not run commands on its own: its
     * template needs the user's word (cli_run.c checks it up front). */
    if (p->mirror_control && !R->o.control && !R->o.allow_control) {
        snprintf(err, cap, "the file's mirror-control runs shell commands; "
                           "refused without run --allow-control");
        return -1;
    }
    struct rmirror *M = calloc(1, sizeof(*M));
    if (!M) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    R->mir = M;
    struct pg_server lab[RM_MAX];
    int nlab = pg_default_servers(lab, RM_MAX);
    int rc = -1;
    for (int k = 0; k < p->n_mirror; k++) {
        struct pg_server *s = &M->s[M->n];
        if (M->n >= RM_MAX) {
            snprintf(err, cap, "at most %d servers", RM_MAX);
            goto out;
        }
        if (p->mirror[k].conninfo) {
            char spec[600];
            snprintf(spec, sizeof(spec), "%s=%s", p->mirror[k].name,
                     p->mirror[k].conninfo);
            if (pg_server_parse(spec, s, err, cap) != 0)
                goto out;
        } else {
            int found = -1;
            for (int j = 0; j < nlab; j++)
                if (lab[j].conninfo && !strcmp(lab[j].name, p->mirror[k].name))
                    found = j;
            if (found < 0) {
                char have[8 * (PG_NAME_MAX + 2) + 1] = "";
                for (int j = 0; j < nlab; j++) {
                    size_t l = strlen(have);
                    snprintf(have + l, sizeof(have) - l, "%s%.15s", l ? ", " : "",
                             lab[j].name);
                }
                snprintf(err, cap, "no lab server %s (the pair has %s; "
                                   "tools/pg-pair up --servers N adds more)",
                         p->mirror[k].name, have);
                goto out;
            }
            *s = lab[found];
            lab[found].conninfo = NULL; /* moved */
        }
        M->n++;
    }
    for (int i = 0; i <= R->n; i++)
        M->of[i] = i >= 1 && i <= SCN_MAX_NODES && p->mirror_of[i]
                       ? p->mirror_of[i] - 1
                       : -1;
    for (int i = 1; i <= R->n; i++)
        if (M->of[i] >= 0)
            M->node_of[M->of[i]] = i;
    pgc_default_control(M->default_control, sizeof(M->default_control));
    M->control = R->o.control        ? R->o.control
                 : p->mirror_control ? p->mirror_control
                                     : M->default_control;
    M->fence_self = p->mirror_fence_self;
    M->watch = p->mirror_watch;

    double t0 = util_wall_s();
    int P = first_leader_server(R);
    char why[512];
    if (prepare(R, P, why, sizeof(why)) != 0) {
        snprintf(err, cap, "%s (is the pair up? tools/pg-pair up)", why);
        goto out;
    }
    save_ssn(M, P);
    if (pg_mirror_table(&M->s[P], RM_SETUP_TIMEOUT_S, err, cap) != 0 ||
        pg_exec(&M->s[P], RM_SETUP_TIMEOUT_S, "TRUNCATE raftsim_kv", err,
                cap) != 0 ||
        rm_apply_sync(R, P, err, cap) != 0)
        goto out;
    if (!rm_wait_replayed(R, P, RESET_WAIT_S, err, cap)) {
        /* A standby that streams but does not replay what P sends (seen
         * after files that mirrored only other servers: a history it
         * cannot follow): rejoin each standby that differs, once. */
        if (rejoin_behind(R, P, why, sizeof(why)) != 0) {
            snprintf(err, cap, "%s", why);
            goto out;
        }
        if (!rm_wait_replayed(R, P, RESET_WAIT_S, err, cap))
            goto out;
    }
    if (p->mirror_no_replication && rm_no_replication(R, P, err, cap) != 0)
        goto out;
    struct pg_obs obs[RM_MAX];
    rm_observe_all(M, obs);
    for (int i = 0; i < M->n; i++) {
        char lsn[24];
        pg_format_lsn(obs[i].in_recovery ? obs[i].replay_lsn
                                         : obs[i].current_lsn,
                      lsn, sizeof(lsn));
        const struct pg_standby *b = pg_standby_of(&obs[P], M->s[i].name);
        char sync[40] = "";
        if (b)
            snprintf(sync, sizeof(sync), ", %s", b->sync_state);
        rm_say(R, C_CYAN, "%s follows n%d: %s, timeline %u, lsn %s%s",
               M->s[i].name, M->node_of[i],
               obs[i].in_recovery ? "standby" : "primary", obs[i].timeline,
               lsn, sync);
    }
    rm_say(R, C_DIM, "setup: %s primary, %s, raftsim_kv empty (%.0f ms)",
           M->s[P].name,
           M->no_repl ? "every other server a primary of its own"
                      : "every other server streaming from it",
           (util_wall_s() - t0) * 1e3);
    rc = 0;
out:
    for (int j = 0; j < nlab; j++)
        pg_server_free(&lab[j]);
    return rc;
}

/* The run is over (also on Ctrl-C or an error): one primary, and what
 * the mirror changed goes back. */
static void restore(struct runner *R)
{
    struct rmirror *M = R->mir;
    char err[512];
    if (M->ssn_saved) /* the servers were prepared */
        rm_leave_one_primary(R);
    for (int s = 0; s < M->n; s++) {
        if (!M->cut[s] ||
            rm_set_conninfo(&M->s[s], M->conninfo[s], err, sizeof(err)) != 0)
            continue;
        M->cut[s] = false;
        rm_say(R, C_DIM, "end: %s's replication restored", M->s[s].name);
    }
    if (!M->ssn_saved)
        return;
    char sql[400];
    if (M->ssn_was_set) {
        char q[300], *o = q;
        for (const char *c = M->ssn_before; *c && o < q + sizeof(q) - 3; c++) {
            if (*c == '\'')
                *o++ = '\'';
            *o++ = *c;
        }
        *o = 0;
        snprintf(sql, sizeof(sql),
                 "ALTER SYSTEM SET synchronous_standby_names = '%s'", q);
    } else
        snprintf(sql, sizeof(sql),
                 "ALTER SYSTEM RESET synchronous_standby_names");
    int done = 0;
    char down[64] = "";
    for (int s = 0; s < M->n; s++) {
        if (exec2(&M->s[s], sql, err, sizeof(err)) == 0)
            done++;
        else {
            size_t l = strlen(down);
            snprintf(down + l, sizeof(down) - l, "%s%s", l ? ", " : "",
                     M->s[s].name);
        }
    }
    rm_say(R, C_DIM, "end: synchronous_standby_names %s on %d server%s%s%s%s",
           M->ssn_was_set ? "set back" : "reset to its default", done,
           done == 1 ? "" : "s", down[0] ? " (not reachable: " : "", down,
           down[0] ? ")" : "");
}

void rm_free(struct runner *R)
{
    struct rmirror *M = R->mir;
    if (!M)
        return;
    restore(R);
    for (int i = 0; i < M->n; i++)
        pg_server_free(&M->s[i]);
    free(M->rows);
    free(M);
    R->mir = NULL;
}
