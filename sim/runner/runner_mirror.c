/*
 * runner_mirror.c — mirror a scenario's decisions onto real PostgreSQL
 * servers (`mirror n1=a n2=b n3=c`): the Raft quorum decides, PostgreSQL
 * follows.  A node without a server (a witness) votes but holds no
 * database, like repmgr's witness or pg_auto_failover's monitor.  The
 * starting state, synchronous replication and re-pointing are in
 * runner_mirror_setup.c; what the servers show in runner_mirror_look.c.
 *
 * What is mirrored (README, "Mirroring onto PostgreSQL"):
 *   a client entry appended by a leader  → INSERT into raftsim_kv on that
 *       node's server (synchronous_commit local for `ack async`, on for
 *       quorum and sync, which wait for the standbys that the primary's
 *       synchronous_standby_names names: ANY k / FIRST n);
 *   a partition between mapped nodes    → the standby's primary_conninfo
 *       is cleared (its WAL receiver stops); heal restores it;
 *   crash / restart of a mapped node     → the control command's crash /
 *       start (a server that was primary before a failover is not started
 *       but rejoined when its node follows the new leader);
 *   a new leader on a mapped node        → the standbys' replayed LSNs
 *       compared, every other writable server fenced (stopped, by the
 *       new leader or, under `fence self`, by its own node when it steps
 *       down: runner_mirror_fence.c), pg_promote, the new primary's
 *       synchronous_standby_names set, the other standbys re-pointed;
 *   the old leader following the new one → CHECKPOINT on the new primary,
 *       the control command's rejoin (pg_rewind, standby configuration,
 *       start), then a check that the rows the simulation discarded are
 *       gone everywhere and every committed row is on every server;
 *   a leadership transfer                → a switchover: clean stop,
 *       replay to the final LSN, promote, rejoin without pg_rewind
 *       (runner_mirror_switch.c);
 *   a snapshot installed by a node       → a new base backup of its
 *       server (runner_mirror_rebuild.c);
 *   after every step that may touch a server → at most one server may
 *       accept writes; two is reported as a violation and fails the run.
 *
 * Events arrive from the core mid-step (rs_hook); they are queued and
 * carried out between steps by rm_flush, with the cluster's clock held,
 * so the simulation waits for PostgreSQL and nothing it does is hurried.
 */
#include "sim/runner/runner_mirror.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/pg/pg_control.h"
#include "sim/util/util.h"


void rm_say(struct runner *R, const char *color, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    rs_line(R, 0, color, "pg %s", text);
}

void rm_fail(struct runner *R, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    rs_flush(R);
    /* like a failed expectation: shown even with --quiet */
    char safe[2048];
    fprintf(R->out, "%s%8.3f  !!   pg step failed: %s%s\n",
            rs_c(R, C_BOLD C_RED), (double)sim_now(R->c) / 1e6,
            util_escape_ctrl(text, safe, sizeof(safe)), rs_c(R, C_RESET));
    R->mirror_failures++;
}

int rm_control(struct runner *R, const char *action, int s, double *ms,
               bool quiet)
{
    struct rmirror *M = R->mir;
    char cmd[1024];
    if (M->crash_pending[s] && strcmp(action, "crash") != 0) {
        /* the crash command of a server the watch found refusing
         * connections, put off until the server is next acted on */
        M->crash_pending[s] = false;
        double cms;
        if (rm_control(R, "crash", s, &cms, quiet) != 0)
            return -1;
        rm_say(R, C_DIM, "%s: its crash command run now, before `%s` "
                         "(%.0f ms)", M->s[s].name, action, cms);
    }
    pgc_fill_template(M->control, action, M->s[s].name, cmd, sizeof(cmd));
    int rc = pgc_run_bounded(cmd, RM_CONTROL_TIMEOUT_S,
                             getenv("RAFTSIM_PG_LOG"), ms);
    if (rc != 0 && !quiet)
        rm_fail(R, "`%s` %s after %.0f ms", cmd,
             rc == 124  ? "timed out"
             : rc == -1 ? "could not start"
                        : "failed",
             *ms);
    return rc ? -1 : 0;
}

static int control(struct runner *R, const char *action, int s, double *ms)
{
    return rm_control(R, action, s, ms, false);
}

void rm_observe_all(struct rmirror *M, struct pg_obs *obs)
{
    for (int i = 0; i < M->n; i++)
        pg_observe(&M->s[i], RM_TIMEOUT_S, &obs[i]);
}

static void push(struct runner *R, struct action a)
{
    struct rmirror *M = R->mir;
    if (M->nq >= RM_MAX_ACTIONS) {
        M->dropped = true;
        return;
    }
    M->q[M->nq++] = a;
}

void rm_event(struct runner *R, const struct raft_event *ev)
{
    if (!R->mir)
        return;
    struct raft_node *r = sim_node(R->c, ev->node);
    if (ev->kind == RAFT_EV_APPEND && ev->entry_type == WAL_ENTRY_DATA &&
        raft_role(r) == RAFT_LEADER && ev->payload) {
        struct action a = {.kind = A_INSERT, .node = ev->node, .lsn = ev->lsn,
                           .term = ev->entry_term};
        snprintf(a.key, sizeof(a.key), "%s", wal_payload_key(ev->payload));
        snprintf(a.value, sizeof(a.value), "%s",
                 wal_payload_value(ev->payload));
        push(R, a);
    } else if (ev->kind == RAFT_EV_ROLE && ev->role == RAFT_LEADER) {
        R->mir->led[ev->node] = true;
        rm_mark_elected(R);
        push(R, (struct action){.kind = A_LEADER, .node = ev->node});
    } else if (ev->kind == RAFT_EV_TRANSFER &&
               (ev->reason == RAFT_R_TRANSFER ||
                ev->reason == RAFT_R_TRANSFER_TIMEOUT)) {
        push(R, (struct action){.kind = ev->reason == RAFT_R_TRANSFER
                                            ? A_XFER
                                            : A_XFER_ABANDON,
                                .node = ev->node, .peer = ev->peer});
    } else if (ev->kind == RAFT_EV_SNAPSHOT &&
               ev->reason == RAFT_R_SNAP_INSTALL) {
        push(R, (struct action){.kind = A_REBUILD, .node = ev->node,
                                .peer = ev->peer});
    } else if (ev->kind == RAFT_EV_ROLE && R->mir->led[ev->node]) {
        R->mir->led[ev->node] = false; /* a leader stepped down */
        if (R->mir->fence_self)
            push(R, (struct action){.kind = A_STEPDOWN, .node = ev->node});
    }
    /* followers are swept in rm_flush: a stale server rejoins as soon as
     * its node follows a live leader, whatever event told it so */
}

void rm_crash(struct runner *R, int node)
{
    if (R->mir && R->mir->of[node] >= 0)
        push(R, (struct action){.kind = A_CRASH, .node = node});
}

/* The watch's crash of a server that refused a new connection: nothing
 * listens on its port, so no client can reach it, and it counts as down
 * at once; the crash command (an immediate stop of whatever is left) is
 * run before the server is next acted on (rm_control) instead of now,
 * while the cluster's clock would be held and the election waiting. */
void rm_crash_refused(struct runner *R, int node)
{
    if (R->mir && R->mir->of[node] >= 0)
        push(R, (struct action){.kind = A_CRASH, .node = node,
                                .refused = true});
}

void rm_restart(struct runner *R, int node)
{
    if (R->mir && R->mir->of[node] >= 0)
        push(R, (struct action){.kind = A_RESTART, .node = node});
}

void rm_net(struct runner *R)
{
    if (R->mir)
        push(R, (struct action){.kind = A_NET});
}

static int writable_server(struct runner *R)
{
    struct rmirror *M = R->mir;
    for (int i = 0; i < M->n; i++)
        if (M->st[i] == S_PRIMARY)
            return i;
    return -1;
}

static void do_insert(struct runner *R, const struct action *a)
{
    struct rmirror *M = R->mir;
    int s = M->of[a->node];
    if (s < 0) {
        if (!M->witness_told)
            rm_say(R, C_DIM, "n%d is a witness: it holds no database, so its "
                          "writes reach no server",
                a->node);
        M->witness_told = true;
        return;
    }
    bool sync = R->p->ack != RAFT_ACK_ASYNC;
    uint64_t pg_lsn;
    bool waited;
    char err[512], node[8];
    snprintf(node, sizeof(node), "n%d", a->node);
    double t0 = util_wall_s();
    if (pg_insert_row(&M->s[s], RM_TIMEOUT_S, sync, a->lsn, a->term, a->key,
                      a->value, node, &pg_lsn, &waited, err,
                      sizeof(err)) != 0) {
        if (M->fenced[s]) {
            /* the fence doing its job: a deposed leader's write */
            rm_say(R, C_YELLOW, "%s refuses INSERT %s=%s (sim lsn %llu): it "
                                "is fenced (stopped), so the deposed primary "
                                "takes no write",
                   M->s[s].name, a->key, a->value,
                   (unsigned long long)a->lsn);
            return;
        }
        rm_fail(R, "INSERT %s=%s (lsn %llu) on %s: %s", a->key, a->value,
             (unsigned long long)a->lsn, M->s[s].name, err);
        return;
    }
    char l[24];
    pg_format_lsn(pg_lsn, l, sizeof(l));
    rm_say(R, C_CYAN, "%s: INSERT %s=%s (sim lsn %llu, term %llu) -> WAL %s in "
                   "%.0f ms%s",
        M->s[s].name, a->key, a->value, (unsigned long long)a->lsn,
        (unsigned long long)a->term, l, (util_wall_s() - t0) * 1e3,
        waited ? " (no synchronous standby answered: committed locally only)"
               : "");
    if (M->n_rows == M->cap_rows) {
        M->cap_rows = M->cap_rows ? M->cap_rows * 2 : 64;
        M->rows = realloc(M->rows, M->cap_rows * sizeof(*M->rows));
        if (!M->rows) {
            rm_fail(R, "out of memory");
            M->n_rows = M->cap_rows = 0;
            return;
        }
    }
    struct mrow *row = &M->rows[M->n_rows++];
    row->server = s;
    row->lsn = a->lsn;
    row->term = a->term;
    row->pg_lsn = pg_lsn;
    snprintf(row->key, sizeof(row->key), "%s", a->key);
    row->t_us = sim_now(R->c);
    row->local_only = waited;
}

/* Before a promotion: the candidate s should have replayed at least as
 * much as every other standby (the simulation's highest-lsn policy elects
 * the node with the longest log).  The LSNs are narrated; a standby ahead
 * of the candidate fails the step under highest-lsn. */
static void compare_standbys(struct runner *R, int s, int node)
{
    struct rmirror *M = R->mir;
    struct pg_obs o[RM_MAX];
    /* no other standby to compare with: nothing to ask (the candidate's
     * LSN alone was never narrated, and asking it held the clock for one
     * connection or more: 0.3 s at load in bench pg-failover --detect) */
    bool any = false;
    for (int i = 0; i < M->n; i++)
        any |= i != s && M->st[i] == S_STANDBY;
    if (!any)
        return;
    /* the candidate first replays what it has received (bounded) */
    double end = util_wall_s() + 1.0;
    do {
        pg_observe(&M->s[s], RM_TIMEOUT_S, &o[s]);
    } while (o[s].up && o[s].replay_lsn < o[s].receive_lsn &&
             util_wall_s() < end);
    char text[600];
    int len = 0, ahead = -1, others = 0;
    char l[24];
    pg_format_lsn(o[s].replay_lsn, l, sizeof(l));
    len += snprintf(text, sizeof(text), "%s replayed %s", M->s[s].name, l);
    for (int i = 0; i < M->n; i++) {
        if (i == s || M->st[i] != S_STANDBY)
            continue;
        pg_observe(&M->s[i], RM_TIMEOUT_S, &o[i]);
        if (!o[i].up || len >= (int)sizeof(text))
            continue;
        others++;
        pg_format_lsn(o[i].replay_lsn, l, sizeof(l));
        len += snprintf(text + len, sizeof(text) - (size_t)len,
                        ", %s replayed %s", M->s[i].name, l);
        if (o[i].replay_lsn > o[s].replay_lsn &&
            (ahead < 0 || o[i].replay_lsn > o[ahead].replay_lsn))
            ahead = i;
    }
    if (!others)
        return;
    bool policy = R->p->policy == RAFT_ELECT_HIGHEST_LSN;
    char as[64] = "";
    if (policy)
        snprintf(as, sizeof(as), ", as n%d's election by highest-lsn says",
                 node);
    if (ahead < 0)
        rm_say(R, C_CYAN, "%s: %s is the most up-to-date standby%s", text,
               M->s[s].name, as);
    else if (policy)
        rm_fail(R, "%s: n%d was elected by highest-lsn but %s is ahead of %s",
                text, node, M->s[ahead].name, M->s[s].name);
    else
        rm_say(R, C_YELLOW, "%s: %s is ahead; policy raft does not look at "
                            "how much a standby has",
               text, M->s[ahead].name);
}

static void do_leader(struct runner *R, const struct action *a)
{
    struct rmirror *M = R->mir;
    int s = M->of[a->node];
    if (s < 0) {
        rm_say(R, C_DIM, "n%d leads but is a witness: PostgreSQL keeps its "
                      "primary",
            a->node);
        return;
    }
    if (M->st[s] == S_PRIMARY)
        return;
    if (M->fenced[s] && writable_server(R) < 0) {
        /* its node leads again and nobody was promoted meanwhile */
        double ms;
        if (control(R, "start", s, &ms) != 0)
            return;
        M->st[s] = S_PRIMARY;
        M->fenced[s] = false;
        rm_say(R, C_GREEN, "%s started again as the primary (%.0f ms): n%d "
                           "leads again and no other server was promoted",
               M->s[s].name, ms, a->node);
        return;
    }
    if (M->st[s] != S_STANDBY) {
        rm_fail(R, "n%d leads but server %s is %s: cannot promote it", a->node,
             M->s[s].name, M->st[s] == S_DOWN ? "down" : "not a standby");
        return;
    }
    compare_standbys(R, s, a->node);
    char err[512];
    double t0 = util_wall_s();
    /* every other writable server fenced first (runner_mirror_fence.c) */
    double fence_ms = rm_fence_others(R, s, a->node);
    double p0 = util_wall_s();
    int polls;
    if (pg_promote_now(&M->s[s], 30.0, &polls, err, sizeof(err)) != 0) {
        rm_fail(R, "promote %s: %s", M->s[s].name, err);
        return;
    }
    double promote_ms = (util_wall_s() - p0) * 1e3;
    rm_mark_promoted(R);
    M->st[s] = S_PRIMARY;
    M->cut[s] = false;
    struct pg_obs o;
    pg_observe(&M->s[s], RM_TIMEOUT_S, &o);
    char l[24];
    pg_format_lsn(o.current_lsn, l, sizeof(l));
    rm_say(R, C_GREEN, "%s promoted for n%d: pg_promote %.0f ms (until "
                       "out of recovery: %d check%s; fence %.0f ms, total "
                       "%.0f ms); timeline %u, lsn %s",
           M->s[s].name, a->node, promote_ms, polls, polls == 1 ? "" : "s",
           fence_ms, (util_wall_s() - t0) * 1e3, o.timeline, l);
    rm_switch_promoted(R, s);
    if (rm_apply_sync(R, s, err, sizeof(err)) != 0)
        rm_fail(R, "synchronous replication on %s: %s", M->s[s].name, err);
    /* the other standbys follow the new primary (PostgreSQL 15 docs
     * §27.3: they would otherwise keep asking the old one) */
    for (int i = 0; i < M->n; i++)
        if (i != s && M->st[i] == S_STANDBY)
            rm_follow_primary(R, i, s);
}

/* Rows the simulation discarded are gone; committed rows are everywhere. */
static void verify_rows(struct runner *R, int rejoined)
{
    struct rmirror *M = R->mir;
    struct pg_row *rows[8] = {NULL};
    int nr[8] = {0};
    char err[512];
    for (int i = 0; i < M->n; i++)
        if (M->st[i] != S_DOWN && !M->fenced[i] &&
            pg_rows(&M->s[i], RM_TIMEOUT_S, &rows[i], &nr[i], err,
                    sizeof(err)) != 0) {
            rm_fail(R, "reading rows: %s", err);
            goto out;
        }
    int gone = 0, kept = 0, bad = 0;
    for (size_t k = 0; k < M->n_rows; k++) {
        const struct mrow *m = &M->rows[k];
        bool committed = rv_committed(R, m->lsn, m->term);
        bool discarded = false;
        for (size_t d = 0; d < R->n_disc; d++)
            if (R->disc[d].lsn == m->lsn && R->disc[d].term == m->term)
                discarded = true;
        for (int i = 0; i < M->n; i++) {
            if (M->st[i] == S_DOWN || M->fenced[i])
                continue;
            bool has = false;
            for (int j = 0; j < nr[i]; j++)
                if (rows[i][j].lsn == m->lsn && rows[i][j].term == m->term)
                    has = true;
            if (discarded && !committed && has) {
                rm_fail(R, "%s still has %s (lsn %llu, term %llu), which the "
                        "simulation discarded",
                     M->s[i].name, m->key, (unsigned long long)m->lsn,
                     (unsigned long long)m->term);
                bad++;
            } else if (committed && !has) {
                rm_fail(R, "%s lacks committed %s (lsn %llu, term %llu)",
                     M->s[i].name, m->key, (unsigned long long)m->lsn,
                     (unsigned long long)m->term);
                bad++;
            }
        }
        if (discarded && !committed)
            gone++;
        else if (committed)
            kept++;
    }
    if (!bad)
        rm_say(R, C_GREEN, "%s checked: %d discarded row%s gone from every "
                        "server, %d committed row%s on every server",
            M->s[rejoined].name, gone, gone == 1 ? "" : "s", kept,
            kept == 1 ? "" : "s");
out:
    for (int i = 0; i < M->n; i++)
        free(rows[i]);
}

static void do_follow(struct runner *R, const struct action *a)
{
    struct rmirror *M = R->mir;
    int s = M->of[a->node];
    int p = writable_server(R);
    if (s < 0 || p < 0 || p == s || M->st[s] != S_STALE)
        return;
    char err[512];
    if (!M->clean[s] || !rm_switch_rejoin(R, s, p)) {
        double c0 = util_wall_s();
        if (pg_exec(&M->s[p], 30.0, "CHECKPOINT", err, sizeof(err)) != 0) {
            rm_fail(R, "CHECKPOINT on %s: %s", M->s[p].name, err);
            M->st[s] = S_DOWN;
            return;
        }
        double ckpt_ms = (util_wall_s() - c0) * 1e3, ms;
        if (control(R, "rejoin", s, &ms) != 0) {
            M->st[s] = S_DOWN; /* reported; not retried at every step */
            M->was_primary[s] = false;
            return;
        }
        M->st[s] = S_STANDBY;
        M->was_primary[s] = false;
        M->cut[s] = false;
        M->fenced[s] = M->unfenced[s] = false;
        rm_switch_back(R, s, true);
        struct pg_obs o;
        pg_observe(&M->s[s], RM_TIMEOUT_S, &o);
        char l[24];
        pg_format_lsn(o.replay_lsn, l, sizeof(l));
        rm_say(R, C_GREEN, "%s rejoined as a standby of %s: CHECKPOINT %.0f "
                           "ms, pg_rewind + restart %.0f ms; timeline %u, "
                           "replayed %s",
               M->s[s].name, M->s[p].name, ckpt_ms, ms, o.timeline, l);
    }
    /* every standby first replays what the primary has (a remote one
     * applies late), so a missing row means lost, not late */
    if (!rm_wait_replayed(R, p, 15.0, err, sizeof(err)))
        rm_say(R, C_YELLOW, "checking rows before every standby caught up: %s",
               err);
    verify_rows(R, s);
    rm_window_rewound(R, s);
}

static void do_crash(struct runner *R, const struct action *a)
{
    struct rmirror *M = R->mir;
    int s = M->of[a->node];
    double ms;
    if (M->st[s] == S_DOWN)
        return;
    if (a->refused)
        M->crash_pending[s] = true;
    else if (control(R, "crash", s, &ms) != 0)
        return;
    M->was_primary[s] = M->st[s] == S_PRIMARY || M->st[s] == S_STALE;
    M->st[s] = S_DOWN;
    M->unfenced[s] = false; /* a crashed server takes no write either */
    if (a->refused)
        rm_say(R, C_MAGENTA, "%s is down with n%d (it refuses connections; "
                             "its crash command runs before it is next "
                             "started)",
               M->s[s].name, a->node);
    else
        rm_say(R, C_MAGENTA, "%s crashed with n%d (immediate stop, %.0f ms)",
               M->s[s].name, a->node, ms);
}

static void do_restart(struct runner *R, const struct action *a)
{
    struct rmirror *M = R->mir;
    int s = M->of[a->node];
    if (M->st[s] != S_DOWN)
        return;
    int p = writable_server(R);
    double ms;
    if (M->no_repl) { /* replication off: each server its own primary */
        if (control(R, "start-primary", s, &ms) != 0)
            return;
        M->st[s] = S_PRIMARY;
        rm_say(R, C_MAGENTA, "%s started with n%d (%.0f ms): replication "
                             "off, so it comes back a primary of its own, "
                             "with only the rows it had",
               M->s[s].name, a->node, ms);
        return;
    }
    if (M->was_primary[s] && p >= 0 && p != s) {
        M->st[s] = S_STALE;
        rm_say(R, C_DIM, "%s stays down: it was primary before %s took over, so "
                      "it rejoins with pg_rewind when n%d follows",
            M->s[s].name, M->s[p].name, a->node);
        return;
    }
    if (control(R, "start", s, &ms) != 0)
        return;
    M->st[s] = M->was_primary[s] ? S_PRIMARY : S_STANDBY;
    rm_say(R, C_MAGENTA, "%s started with n%d (%.0f ms)", M->s[s].name, a->node,
        ms);
    /* a standby that was down through a failover still names the old
     * primary in its primary_conninfo */
    if (M->st[s] == S_STANDBY && p >= 0 && p != s && !rm_streams_from(M, s, p))
        rm_follow_primary(R, s, p);
}

/* Replication follows the simulated links between the nodes. */
static void do_net(struct runner *R)
{
    struct rmirror *M = R->mir;
    int p = writable_server(R);
    if (p < 0)
        return;
    int pn = M->node_of[p];
    char err[512];
    for (int s = 0; s < M->n; s++) {
        if (s == p || M->st[s] != S_STANDBY)
            continue;
        int sn = M->node_of[s];
        bool cut = sim_get_link(R->c, pn, sn)->cut;
        if (cut && !M->cut[s]) {
            if (pg_value(&M->s[s], RM_TIMEOUT_S, "SHOW primary_conninfo",
                         M->conninfo[s], sizeof(M->conninfo[s]), err,
                         sizeof(err)) != 0 ||
                rm_set_conninfo(&M->s[s], "", err, sizeof(err)) != 0) {
                rm_fail(R, "cutting replication to %s: %s", M->s[s].name, err);
                continue;
            }
            M->cut[s] = true;
            rm_window_cut(R, p);
            rm_say(R, C_MAGENTA, "%s: replication from %s cut (primary_conninfo "
                              "cleared)",
                M->s[s].name, M->s[p].name);
        } else if (!cut && M->cut[s]) {
            if (rm_set_conninfo(&M->s[s], M->conninfo[s], err,
                                sizeof(err)) != 0) {
                rm_fail(R, "restoring replication to %s: %s", M->s[s].name, err);
                continue;
            }
            M->cut[s] = false;
            rm_say(R, C_MAGENTA, "%s: replication from %s restored", M->s[s].name,
                M->s[p].name);
        }
    }
    bool any = false;
    for (int s = 0; s < M->n; s++)
        any |= M->cut[s];
    if (!any) /* healed before any failover: no window */
        M->cut_on[p] = false;
}

/* At most one server accepts writes. */
static void check_writers(struct runner *R)
{
    struct rmirror *M = R->mir;
    struct pg_obs obs[8];
    rm_observe_all(M, obs);
    rm_trace_obs(R, obs);
    int writers = 0;
    char names[64] = "";
    bool writable[RM_MAX];
    for (int i = 0; i < M->n; i++)
        writable[i] = pg_writable(&obs[i]);
    for (int i = 0; i < M->n; i++)
        if (writable[i]) {
            writers++;
            size_t l = strlen(names);
            snprintf(names + l, sizeof(names) - l, "%s%s", l ? ", " : "",
                     M->s[i].name);
        }
    if (writers > 1 && !M->no_repl && /* replication off: the point */
        !rm_window_writers(R, writable)) {
        M->violations++;
        R->mirror_failures++;
        fprintf(R->out, "%s%8.3f  !!   pg violation: %d servers accept writes "
                        "(%s): split brain on real databases%s\n",
                rs_c(R, C_BOLD C_RED), (double)sim_now(R->c) / 1e6, writers,
                names, rs_c(R, C_RESET));
    }
}

/* A stale server whose node now follows a live leader rejoins. */
static bool stale_follower(struct runner *R, int *node)
{
    struct rmirror *M = R->mir;
    for (int s = 0; s < M->n; s++) {
        int n = M->node_of[s];
        if (M->st[s] != S_STALE || !sim_is_up(R->c, n))
            continue;
        struct raft_node *r = sim_node(R->c, n);
        int l = raft_leader(r);
        if (raft_role(r) == RAFT_FOLLOWER && l > 0 && l != n &&
            sim_is_up(R->c, l) && raft_role(sim_node(R->c, l)) == RAFT_LEADER) {
            *node = n;
            return true;
        }
    }
    return false;
}

void rm_flush(struct runner *R)
{
    struct rmirror *M = R->mir;
    int follower = 0;
    rm_watch(R); /* may queue a crash */
    if (!M || (M->nq == 0 && !stale_follower(R, &follower)))
        return;
    sim_hold_clock(R->c, true);
    if (M->dropped) {
        rm_fail(R, "more than %d mirror steps queued in one step", RM_MAX_ACTIONS);
        M->dropped = false;
    }
    /* carry out in order; actions may queue no more (hooks are not run) */
    bool acted = false; /* a step that may have touched a server */
    for (int k = 0; k < M->nq; k++) {
        const struct action *a = &M->q[k];
        acted |= !(a->kind == A_CRASH && a->refused);
        switch (a->kind) {
        case A_INSERT:
            do_insert(R, a);
            break;
        case A_LEADER:
            do_leader(R, a);
            break;
        case A_FOLLOW:
            do_follow(R, a);
            break;
        case A_CRASH:
            do_crash(R, a);
            break;
        case A_RESTART:
            do_restart(R, a);
            break;
        case A_NET:
            do_net(R);
            break;
        case A_STEPDOWN:
            rm_stepdown(R, a->node);
            break;
        case A_XFER:
            rm_switch_begin(R, a->node, a->peer);
            break;
        case A_XFER_ABANDON:
            rm_switch_abandon(R, a->node);
            break;
        case A_REBUILD:
            rm_rebuild(R, a->node, a->peer);
            break;
        }
    }
    M->nq = 0;
    for (int k = 0; k < M->n && stale_follower(R, &follower); k++) {
        do_follow(R, &(struct action){.kind = A_FOLLOW, .node = follower});
        acted = true;
    }
    /* The writers are counted after every step that may have touched a
     * server.  A server that refused the watch's connection only counted
     * down (rm_crash_refused) is no such step: nothing was run, and the
     * count, a connection to every server, would hold the clock while
     * the election waits (bench pg-failover --detect: 100-180 ms at
     * load); the next step, the promotion, counts them. */
    if (acted)
        check_writers(R);
    sim_hold_clock(R->c, false);
}

