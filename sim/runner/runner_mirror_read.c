/*
 * runner_mirror_read.c — in a mirrored run, `read CLIENT KEY from ROUTE`
 * is a real SELECT on the server the route picks, judged against what the
 * primary committed (README, "Mirroring onto PostgreSQL": reads).
 *
 *   leader            the primary (the server that accepts writes); with
 *                     none, read-only mode: a standby answers, warned
 *   follower, any     a standby that is up and streaming, chosen with the
 *                     run's seed
 *   NODE              that node's server
 *   ryw               a streaming standby whose pg_last_wal_replay_lsn()
 *                     has reached the client's token: the WAL position its
 *                     last acknowledged write's session read with
 *                     pg_current_wal_lsn() right after COMMIT (an upper
 *                     bound of the commit record's end: PostgreSQL 15 has
 *                     no SQL function for the commit's own LSN, so the
 *                     route may fall back when another session wrote
 *                     meanwhile, never send the client where its write
 *                     is not)
 *   monotonic         the standby the client stuck to, while its replayed
 *                     LSN is at least the highest position the client has
 *                     read at; else another standby that is
 * A standby that is down, or whose replication is not streaming, is no
 * candidate: the read falls back to the primary and says so; with no
 * primary either, any standby answers (read-only mode).
 *
 * Stale means the primary holds a newer row of the key (by the simulated
 * LSN and term every row carries) than the server that answered; with no
 * primary, the newest row any server shows is the yardstick, and the line
 * says so.  The client's counters (`expect reads of …`) count these reads
 * as they count the simulated ones in an unmirrored run.
 */
#include "sim/runner/runner_mirror.h"

#include <string.h>

#include "sim/cluster/trace.h"
#include "sim/pg/pg_read.h"

static int seeded_pick(void *ctx, int k)
{
    struct runner *R = ctx;
    return (int)prng_range(&R->rng, 1, (uint64_t)k);
}

/* The client's read-your-writes token: the highest post-commit WAL
 * position among the rows of its acknowledged writes (0: none). */
static uint64_t token_of(struct runner *R, int client)
{
    struct rmirror *M = R->mir;
    uint64_t tok = 0;
    for (int i = 0; i < sim_n_writes(R->c); i++) {
        const struct sim_write *w = sim_get_write(R->c, i);
        if (w->client != client + 1 || w->outcome != SIM_ACKED)
            continue;
        for (size_t k = 0; k < M->n_rows; k++)
            if (M->rows[k].lsn == w->lsn && M->rows[k].term == w->term &&
                M->rows[k].pg_lsn > tok)
                tok = M->rows[k].pg_lsn;
    }
    /* its own writes on a server (write … on pg SERVER) */
    if (M->app_token[client] > tok)
        tok = M->app_token[client];
    return tok;
}

/* a newer row version than b (by simulated LSN, then term) */
static bool newer(const struct pg_answer *a, const struct pg_answer *b)
{
    if (!a->found)
        return false;
    if (!b->found)
        return true;
    return a->lsn > b->lsn || (a->lsn == b->lsn && a->term > b->term);
}

static void describe(char *buf, size_t cap, const struct pg_answer *a)
{
    if (a->found && a->term == 0) /* written by the application itself */
        snprintf(buf, cap, "%s (app write %llu)", a->value,
                 (unsigned long long)a->lsn);
    else if (a->found)
        snprintf(buf, cap, "%s (sim lsn %llu, term %llu)", a->value,
                 (unsigned long long)a->lsn, (unsigned long long)a->term);
    else
        snprintf(buf, cap, "nothing");
}

/* Why each standby is no candidate, for a fallback's warning. */
static void why_not(struct rmirror *M, int p, const struct pg_obs *obs,
                    const bool *ok, const uint64_t *floor, char *buf,
                    size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < M->n && len < cap; i++) {
        const char *why = NULL;
        char l[24], tmp[96];
        if (i == p)
            continue;
        if (!obs[i].up)
            why = "down";
        else if (!obs[i].in_recovery)
            continue; /* a primary */
        else if (!ok[i])
            why = "not streaming";
        else if (floor && obs[i].replay_lsn < *floor) {
            pg_format_lsn(obs[i].replay_lsn, l, sizeof(l));
            snprintf(tmp, sizeof(tmp), "replayed %s", l);
            why = tmp;
        } else
            continue;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s %s",
                                len ? ", " : "", M->s[i].name, why);
    }
}

static void trace_pg_read(struct runner *R, const struct scn_cmd *cmd, int s,
                          const struct pg_answer *a, bool stale)
{
    struct rmirror *M = R->mir;
    struct trace *tr = sim_tracer(R->c);
    if (!trace_on(tr))
        return;
    char l[24];
    pg_format_lsn(a->wal_lsn, l, sizeof(l));
    trace_begin(tr, sim_now(R->c), M->node_of[s], "client");
    trace_str(tr, "client", R->p->clients[cmd->client]);
    trace_str(tr, "op", "read");
    trace_str(tr, "key", cmd->key);
    trace_str(tr, "route", scn_route_name(cmd->route));
    trace_str(tr, "server", M->s[s].name);
    trace_str(tr, "pg_lsn", l);
    if (a->found)
        trace_str(tr, "value", a->value);
    trace_u64(tr, "lsn", a->found ? a->lsn : 0);
    trace_bool(tr, "stale", stale);
    trace_end(tr);
}

/* The counters `expect reads of CLIENT …` looks at. */
static void count(struct runner *R, const struct scn_cmd *cmd,
                  const struct pg_answer *a, bool stale, bool *backwards,
                  bool *missed_own)
{
    struct rclient *cl = &R->cl[cmd->client];
    uint64_t version = a->found ? a->lsn : 0;
    cl->reads++;
    R->reads++;
    if (stale) {
        cl->stale++;
        R->stale_reads++;
    }
    int s;
    for (s = 0; s < cl->n_seen; s++)
        if (!strcmp(cl->seen[s].key, cmd->key))
            break;
    *backwards = false;
    if (s < cl->n_seen) {
        *backwards = version < cl->seen[s].version;
        if (!*backwards)
            cl->seen[s].version = version;
    } else if (s < R_MAX_SEEN) {
        snprintf(cl->seen[s].key, sizeof(cl->seen[s].key), "%s", cmd->key);
        cl->seen[s].version = version;
        cl->n_seen++;
    }
    if (*backwards)
        cl->backwards++;
    *missed_own = false;
    for (int i = sim_n_writes(R->c) - 1; i >= 0; i--) {
        const struct sim_write *w = sim_get_write(R->c, i);
        if (w->client == cmd->client + 1 && w->outcome == SIM_ACKED &&
            !strcmp(w->key, cmd->key)) {
            *missed_own = version < w->lsn;
            break;
        }
    }
    if (*missed_own)
        cl->missed_own++;
}

/* The standbys as candidates of a route: up (up_sb), up and streaming
 * (ok), and what each has replayed.  The primary p is none of them. */
static void observe_standbys(struct rmirror *M, int p, struct pg_obs *obs,
                             bool *ok, bool *up_sb, uint64_t *replay)
{
    for (int i = 0; i < M->n; i++) {
        memset(&obs[i], 0, sizeof(obs[i]));
        if (i != p && M->st[i] != S_DOWN)
            pg_observe(&M->s[i], RM_TIMEOUT_S, &obs[i]);
        up_sb[i] = obs[i].up && obs[i].in_recovery;
        ok[i] = up_sb[i] && obs[i].streaming && !M->cut[i];
        replay[i] = obs[i].replay_lsn;
    }
}

static void do_read(struct runner *R, const struct scn_cmd *cmd)
{
    struct rmirror *M = R->mir;
    const char *who = R->p->clients[cmd->client];
    int p = -1; /* the primary, as the mirror made it */
    for (int i = 0; i < M->n && p < 0; i++)
        if (M->st[i] == S_PRIMARY)
            p = i;
    struct pg_obs obs[RM_MAX];
    bool ok[RM_MAX] = {false}, up_sb[RM_MAX] = {false};
    uint64_t replay[RM_MAX] = {0};
    bool observed = false;
    struct pg_answer a, truth;
    bool have_a = false; /* the node route has read already */
    char note[512] = "", why[600] = "", l[24], err[512];
    bool fallback = false; /* the route found no standby */
    int s = -1, node = 0;
    uint64_t token = 0, *floor = NULL;
    if (M->no_repl) {
        /* replication off: every server is a primary; a route means
         * nothing but "some server": the named node's, else one drawn
         * from those that are up */
        p = -1;
        if (cmd->route == SCN_ROUTE_NODE) {
            if (!r_one_node(R, cmd, &cmd->from, &node))
                return;
            s = M->of[node];
        }
        if (s < 0 || M->st[s] == S_DOWN) {
            for (int i = 0; i < M->n; i++)
                up_sb[i] = M->st[i] != S_DOWN;
            s = pg_route_ryw(up_sb, replay, M->n, 0, seeded_pick, R);
        }
        goto chosen;
    }
    switch (cmd->route) {
    case SCN_ROUTE_LEADER:
        s = p;
        break;
    case SCN_ROUTE_ANY:
    case SCN_ROUTE_FOLLOWER:
        observe_standbys(M, p, obs, ok, up_sb, replay);
        observed = true;
        s = pg_route_ryw(ok, replay, M->n, 0, seeded_pick, R);
        fallback = s < 0;
        break;
    case SCN_ROUTE_NODE:
        if (!r_one_node(R, cmd, &cmd->from, &node))
            return;
        s = M->of[node];
        if (s < 0) {
            rs_line(R, node, C_YELLOW, "%s reads %s from n%d: n%d is a "
                                       "witness, it holds no database",
                    who, cmd->key, node, node);
            if (cmd->read_expect != SCN_READ_NONE)
                r_fail_line(R, cmd, "n%d is a witness: no server answers "
                                    "for it", node);
            return;
        }
        if (s == p)
            break;
        /* the application asked this server: it answers if it can */
        if (M->st[s] == S_DOWN) {
            snprintf(why, sizeof(why), "%s is down", M->s[s].name);
            s = -1;
            fallback = true;
            break;
        }
        if (pg_read_key(&M->s[s], RM_TIMEOUT_S, cmd->key, &a, err,
                        sizeof(err)) != 0) {
            snprintf(why, sizeof(why), "%s", err);
            s = -1;
            fallback = true;
            break;
        }
        have_a = true;
        if (a.in_recovery && !a.streaming)
            snprintf(note, sizeof(note), " — warning: %s is not streaming: "
                                         "it answers with what it replayed "
                                         "before its replication stopped",
                     M->s[s].name);
        else if (!a.in_recovery && p >= 0)
            snprintf(note, sizeof(note), " — warning: %s is not a standby "
                                         "but a deposed primary; %s is the "
                                         "primary",
                     M->s[s].name, M->s[p].name);
        break;
    case SCN_ROUTE_RYW:
        observe_standbys(M, p, obs, ok, up_sb, replay);
        observed = true;
        token = token_of(R, cmd->client);
        floor = &token;
        s = pg_route_ryw(ok, replay, M->n, token, seeded_pick, R);
        fallback = s < 0;
        break;
    case SCN_ROUTE_MONOTONIC:
        observe_standbys(M, p, obs, ok, up_sb, replay);
        observed = true;
        floor = &M->rd_floor[cmd->client];
        s = pg_route_monotonic(ok, replay, M->n,
                               M->rd_sticky[cmd->client] - 1, *floor,
                               seeded_pick, R);
        if (s >= 0)
            M->rd_sticky[cmd->client] = s + 1;
        fallback = s < 0;
        break;
    }
    if (fallback) {
        if (observed)
            why_not(M, p, obs, ok, floor, why, sizeof(why));
        char what[128], t[24];
        pg_format_lsn(floor ? *floor : 0, t, sizeof(t));
        if (cmd->route == SCN_ROUTE_RYW)
            snprintf(what, sizeof(what), "no standby has replayed %s's "
                                         "token %s", who, t);
        else if (cmd->route == SCN_ROUTE_MONOTONIC)
            snprintf(what, sizeof(what), "no standby has reached %s, where "
                                         "%s has read", t, who);
        else if (cmd->route == SCN_ROUTE_NODE)
            snprintf(what, sizeof(what), "n%d's server does not answer",
                     node);
        else
            snprintf(what, sizeof(what), "no standby can answer");
        if (p >= 0) {
            s = p;
            snprintf(note, sizeof(note), " — warning: %s (%s): the primary "
                                         "%s answers",
                     what, why[0] ? why : "no standby", M->s[p].name);
        }
    }
    if (s < 0) {
        /* no primary: read-only mode, any standby that answers */
        if (!observed)
            observe_standbys(M, p, obs, ok, up_sb, replay);
        observed = true;
        s = pg_route_ryw(up_sb, replay, M->n, 0, seeded_pick, R);
        if (s >= 0)
            snprintf(note, sizeof(note), " — warning: no server accepts "
                                         "writes: read-only mode, standby "
                                         "%s answers and may be stale%s",
                     M->s[s].name,
                     rv_leader(R) ? ""
                                  : " (the cluster has no leader: writes "
                                    "get 503 read-only)");
    }
chosen:
    if (s < 0) {
        rs_line(R, node, C_YELLOW, "%s reads %s (%s): no server answers",
                who, cmd->key, scn_route_name(cmd->route));
        if (cmd->read_expect != SCN_READ_NONE)
            r_fail_line(R, cmd, "no server could serve the read");
        return;
    }
    if (!have_a && pg_read_key(&M->s[s], RM_TIMEOUT_S, cmd->key, &a, err,
                               sizeof(err)) != 0) {
        rs_line(R, M->node_of[s], C_YELLOW, "%s reads %s on %s: no answer "
                                            "(%s)",
                who, cmd->key, M->s[s].name, err);
        if (cmd->read_expect != SCN_READ_NONE)
            r_fail_line(R, cmd, "%s did not answer: %s", M->s[s].name, err);
        return;
    }
    /* the yardstick: what the primary committed */
    char judge[160];
    if (s == p) {
        truth = a;
        snprintf(judge, sizeof(judge), "the primary itself");
    } else if (p >= 0 && pg_read_key(&M->s[p], RM_TIMEOUT_S, cmd->key,
                                     &truth, err, sizeof(err)) == 0) {
        snprintf(judge, sizeof(judge), "the primary %s", M->s[p].name);
    } else {
        truth = a;
        for (int i = 0; i < M->n; i++) {
            struct pg_answer o;
            if (i != s && M->st[i] != S_DOWN &&
                pg_read_key(&M->s[i], RM_TIMEOUT_S, cmd->key, &o, err,
                            sizeof(err)) == 0 &&
                newer(&o, &truth))
                truth = o;
        }
        snprintf(judge, sizeof(judge), "%s: the newest row any server "
                                       "shows",
                 M->no_repl ? "replication off" : "no primary");
    }
    bool stale = newer(&truth, &a), ahead = newer(&a, &truth);
    bool backwards, missed_own;
    count(R, cmd, &a, stale, &backwards, &missed_own);
    /* every read raises the client's monotonic floor (as in the
     * simulation: the floor is what it has seen, by any route) */
    if (a.wal_lsn > M->rd_floor[cmd->client])
        M->rd_floor[cmd->client] = a.wal_lsn;
    char got[96], tv[96], verdict[400], route[96];
    describe(got, sizeof(got), &a);
    describe(tv, sizeof(tv), &truth);
    if (stale)
        snprintf(verdict, sizeof(verdict), "stale: %s has %s", judge, tv);
    else if (ahead)
        snprintf(verdict, sizeof(verdict), "ahead of %s, which has %s",
                 judge, tv);
    else
        snprintf(verdict, sizeof(verdict), "fresh (%s has the same)", judge);
    if (s == p && !stale && !ahead)
        snprintf(verdict, sizeof(verdict), "fresh");
    pg_format_lsn(a.wal_lsn, l, sizeof(l));
    if (cmd->route == SCN_ROUTE_RYW) {
        char t[24];
        pg_format_lsn(token, t, sizeof(t));
        snprintf(route, sizeof(route), "ryw, token %s", token ? t : "none");
    } else
        snprintf(route, sizeof(route), "%s", scn_route_name(cmd->route));
    rs_line(R, M->node_of[s], stale ? C_YELLOW : C_BLUE,
            "%s reads %s on %s (%s; %s, %s %s, %.0f ms): %s — %s%s%s%s", who,
            cmd->key, M->s[s].name, route,
            a.in_recovery ? "standby" : "primary",
            a.in_recovery ? "replayed" : "WAL at", l, a.took_ms, got,
            verdict, backwards ? "; older than what it read before" : "",
            missed_own ? "; misses its own write" : "", note);
    trace_pg_read(R, cmd, s, &a, stale);

    bool held = true;
    char actual[600];
    snprintf(actual, sizeof(actual), "%s returned %s, %s", M->s[s].name, got,
             verdict);
    switch (cmd->read_expect) {
    case SCN_READ_NONE:
        return;
    case SCN_READ_VALUE:
        held = a.found && !strcmp(a.value, cmd->value);
        break;
    case SCN_READ_MISSING:
        held = !a.found;
        break;
    case SCN_READ_FRESH:
        held = !stale && !ahead;
        break;
    case SCN_READ_STALE:
        held = stale;
        break;
    }
    r_verdict(R, cmd, held, actual);
}

void rm_read(struct runner *R, const struct scn_cmd *cmd)
{
    /* the cluster waits while the servers answer, as for every mirror
     * step */
    sim_hold_clock(R->c, true);
    do_read(R, cmd);
    sim_hold_clock(R->c, false);
}
