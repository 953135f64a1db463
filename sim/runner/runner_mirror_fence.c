/*
 * runner_mirror_fence.c — the fence: a deposed primary must take no
 * write, whoever connects to it and however (README §7, "The fence").
 *
 * The fence is the control command's `stop`: PostgreSQL's fast shutdown
 * (PostgreSQL 15 docs §19.5, "Shutting Down the Server": SIGINT makes the
 * postmaster refuse new connections, end every session, roll back open
 * transactions and exit; `pg_ctl stop -w`, or `docker kill -s INT` and a
 * wait, returns once it is gone).  A stopped server has no process to
 * write with, so it holds against every client, unlike a setting such as
 * default_transaction_read_only, which any session overrides with `BEGIN
 * READ WRITE` (§20.11).  It comes back only through the mirror's rejoin
 * (pg_rewind, then start as a standby: in recovery every write is refused,
 * "cannot execute INSERT in a read-only transaction", and `BEGIN READ
 * WRITE` with it, §27.4), and `tools/pg-pair start` refuses to start it
 * as a second primary.  §27.3 (Failover) asks for exactly this: the old
 * primary must be stopped (STONITH) before the standby is promoted.
 *
 * Who fences (`mirror … fence remote|self`):
 *   remote (default)  the new leader, before promoting its server: a
 *                     STONITH controller that reaches the old primary's
 *                     machine by another path than the cut network (a
 *                     power switch, a cloud API), so at once;
 *   self              the old primary's own node, when it steps down
 *                     (CheckQuorum: no majority heard for an election
 *                     timeout; or a higher term once it hears one).
 *                     Until then its server keeps taking writes: two
 *                     writable servers, the write window.
 * The window is measured from the partition that cut the primary's
 * replication to its fence, in cluster time (the clock is held while
 * PostgreSQL works, so this is the time the simulation's decisions
 * took) and wall time, with the writes it accepted meanwhile; after the
 * rejoin, how many pg_rewind took away and how many had been
 * acknowledged to their client.
 */
#include "sim/runner/runner_mirror.h"

#include <string.h>

#include "sim/util/util.h"

/* The simulated client write of an entry (NULL: none, e.g. a no-op). */
static const struct sim_write *write_of(struct runner *R, uint64_t lsn,
                                        uint64_t term)
{
    int n = sim_n_writes(R->c);
    for (int i = 0; i < n; i++) {
        const struct sim_write *w = sim_get_write(R->c, i);
        if (w->lsn == lsn && w->term == term)
            return w;
    }
    return NULL;
}

/* The writes server s accepted in its window, as far as they are known. */
struct wcount {
    int n, acked, local_only, discarded;
    char keys[160];
};

static void count_window(struct runner *R, int s, struct wcount *w)
{
    struct rmirror *M = R->mir;
    memset(w, 0, sizeof(*w));
    for (size_t k = 0; k < M->n_rows; k++) {
        const struct mrow *m = &M->rows[k];
        if (m->server != s || m->t_us < M->cut_us[s])
            continue;
        w->n++;
        const struct sim_write *sw = write_of(R, m->lsn, m->term);
        if (sw && sw->outcome == SIM_ACKED)
            w->acked++;
        w->local_only += m->local_only;
        if (!rv_committed(R, m->lsn, m->term))
            w->discarded++;
        size_t l = strlen(w->keys);
        if (l + strlen(m->key) + 8 < sizeof(w->keys))
            snprintf(w->keys + l, sizeof(w->keys) - l, "%s%s", l ? ", " : "",
                     m->key);
    }
}

static void tell_window(struct runner *R, int s)
{
    struct rmirror *M = R->mir;
    if (!M->cut_on[s])
        return;
    struct wcount w;
    count_window(R, s, &w);
    char more[300] = "";
    if (w.n) {
        int l = snprintf(more, sizeof(more), " (%s)", w.keys);
        if (w.acked)
            l += snprintf(more + l, sizeof(more) - (size_t)l,
                          ", %d acknowledged to the client so far", w.acked);
        if (w.local_only)
            snprintf(more + l, sizeof(more) - (size_t)l,
                     ", %d held by the wait for a synchronous standby "
                     "(PostgreSQL never confirmed the commit)",
                     w.local_only);
    }
    rm_say(R, w.n ? C_YELLOW : C_CYAN,
           "%s's write window: %.3f s of cluster time (%.0f ms of wall time) "
           "from the partition to the fence; %d write%s accepted on %s "
           "meanwhile%s",
           M->s[s].name, (double)(sim_now(R->c) - M->cut_us[s]) / 1e6,
           (util_wall_s() - M->cut_wall[s]) * 1e3, w.n, w.n == 1 ? "" : "s",
           M->s[s].name, more);
}

int rm_fence(struct runner *R, int s, const char *by)
{
    struct rmirror *M = R->mir;
    double ms;
    M->st[s] = S_STALE; /* on the old timeline whatever happens next */
    M->unfenced[s] = false;
    if (rm_control(R, "stop", s, &ms, false) != 0)
        return -1;
    struct pg_obs o;
    pg_observe(&M->s[s], RM_TIMEOUT_S, &o);
    if (o.up) {
        rm_fail(R, "%s still answers after its fence (`stop`): the fence "
                   "does not hold",
                M->s[s].name);
        return -1;
    }
    M->fenced[s] = true;
    M->was_primary[s] = true;
    rm_say(R, C_CYAN, "%s fenced by %s: stopped (fast shutdown: its sessions "
                      "ended, open transactions rolled back; a stopped server "
                      "takes no connection) in %.0f ms",
           M->s[s].name, by, ms);
    tell_window(R, s);
    return 0;
}

double rm_fence_others(struct runner *R, int s, int node)
{
    struct rmirror *M = R->mir;
    double ms = 0;
    for (int o = 0; o < M->n; o++) {
        if (o == s || M->st[o] != S_PRIMARY)
            continue;
        int on = M->node_of[o];
        char by[160];
        if (M->fence_self && sim_is_up(R->c, on) &&
            raft_role(sim_node(R->c, on)) == RAFT_LEADER) {
            M->st[o] = S_STALE;
            M->unfenced[o] = true;
            rm_say(R, C_YELLOW, "fence self: nobody fences %s from n%d's side "
                                "(no controller reaches n%d's machine across "
                                "the partition); %s keeps taking writes until "
                                "n%d, which still leads term %llu, steps down "
                                "and fences it itself",
                   M->s[o].name, node, on, M->s[o].name, on,
                   (unsigned long long)raft_term(sim_node(R->c, on)));
            continue;
        }
        if (M->fence_self)
            snprintf(by, sizeof(by), "n%d, its own node, which no longer "
                                     "leads (fence self)",
                     on);
        else
            snprintf(by, sizeof(by), "n%d, the new leader, before promoting "
                                     "%s (fence remote: STONITH by the "
                                     "control command)",
                     node, M->s[s].name);
        double t0 = util_wall_s();
        if (rm_fence(R, o, by) != 0)
            rm_say(R, C_YELLOW, "%s is not fenced: promoting %s anyway (the "
                                "one-writer check watches)",
                   M->s[o].name, M->s[s].name);
        ms += (util_wall_s() - t0) * 1e3;
    }
    return ms;
}

void rm_stepdown(struct runner *R, int node)
{
    struct rmirror *M = R->mir;
    int s = M->of[node];
    if (s < 0 || !M->fence_self || M->fenced[s] ||
        !(M->unfenced[s] || M->st[s] == S_PRIMARY))
        return;
    struct raft_node *r = sim_node(R->c, node);
    if (!sim_is_up(R->c, node) || raft_role(r) == RAFT_LEADER)
        return;
    char by[120];
    snprintf(by, sizeof(by), "n%d, its own node, on stepping down to %s in "
                             "term %llu (fence self)",
             node, rv_role_name(R, node), (unsigned long long)raft_term(r));
    rm_fence(R, s, by);
}

void rm_window_cut(struct runner *R, int p)
{
    struct rmirror *M = R->mir;
    if (M->cut_on[p])
        return;
    M->cut_on[p] = true;
    M->cut_us[p] = sim_now(R->c);
    M->cut_wall[p] = util_wall_s();
}

void rm_window_rewound(struct runner *R, int s)
{
    struct rmirror *M = R->mir;
    if (!M->cut_on[s])
        return;
    M->cut_on[s] = false;
    struct wcount w;
    count_window(R, s, &w);
    if (!w.n) {
        rm_say(R, C_GREEN, "%s accepted no write in its window: nothing to "
                           "rewind",
               M->s[s].name);
        return;
    }
    char how[200];
    if (w.acked)
        snprintf(how, sizeof(how), "%d of them had been acknowledged to the "
                                   "client: lost",
                 w.acked);
    else if (w.local_only == w.n)
        snprintf(how, sizeof(how), "none was acknowledged: PostgreSQL held "
                                   "each commit waiting for a synchronous "
                                   "standby");
    else
        snprintf(how, sizeof(how), "none was acknowledged to the client");
    rm_say(R, w.acked ? C_RED : C_GREEN,
           "%s's write window, closed: %d of the %d write%s it accepted after "
           "the partition (%s) rewound away by pg_rewind; %s",
           M->s[s].name, w.discarded, w.n, w.n == 1 ? "" : "s", w.keys, how);
}

bool rm_window_writers(struct runner *R, const bool *writable)
{
    struct rmirror *M = R->mir;
    int primary = -1, extra = 0, explained = 0;
    char names[64] = "";
    for (int i = 0; i < M->n; i++) {
        if (!writable[i])
            continue;
        if (M->st[i] == S_PRIMARY && primary < 0) {
            primary = i;
            continue;
        }
        extra++;
        if (M->unfenced[i]) {
            explained++;
            size_t l = strlen(names);
            snprintf(names + l, sizeof(names) - l, "%s%s", l ? ", " : "",
                     M->s[i].name);
        }
    }
    if (!extra || extra != explained)
        return false;
    if (!M->told_window)
        rm_say(R, C_YELLOW, "write window: %s and %s both accept writes; %s is "
                            "deposed, but under fence self only its own node "
                            "fences it",
               primary >= 0 ? M->s[primary].name : "no other server", names,
               names);
    M->told_window = true;
    return true;
}

void rm_leave_one_primary(struct runner *R)
{
    struct rmirror *M = R->mir;
    struct pg_obs obs[RM_MAX];
    rm_observe_all(M, obs);
    int keep = -1, writers = 0;
    for (int i = 0; i < M->n; i++)
        if (pg_writable(&obs[i])) {
            writers++;
            if (keep < 0 || M->st[i] == S_PRIMARY ||
                (M->st[keep] != S_PRIMARY &&
                 obs[i].timeline > obs[keep].timeline))
                keep = i;
        }
    for (int i = 0; i < M->n && writers > 1; i++)
        if (i != keep && pg_writable(&obs[i]) &&
            rm_fence(R, i, "the mirror as the run ends (it leaves one "
                           "primary)") == 0)
            obs[i].up = false;
    if (!writers) {
        /* e.g. stopped between a fence and a promotion: the standby that
         * replayed most takes over */
        for (int i = 0; i < M->n; i++)
            if (obs[i].up && obs[i].in_recovery &&
                (keep < 0 || obs[i].replay_lsn > obs[keep].replay_lsn))
                keep = i;
        char err[256];
        if (keep >= 0 && pg_exec(&M->s[keep], 35.0, "SELECT pg_promote(true, "
                                                   "30)",
                                 err, sizeof(err)) == 0) {
            rm_say(R, C_YELLOW, "end: no server accepted writes: %s promoted "
                                "(the standby that replayed the most)",
                   M->s[keep].name);
            M->st[keep] = S_PRIMARY;
        } else if (keep >= 0) {
            rm_say(R, C_YELLOW, "end: no server accepts writes, and promoting "
                                "%s failed: %s",
                   M->s[keep].name, err);
        }
        rm_observe_all(M, obs);
    }
    char text[600];
    int len = snprintf(text, sizeof(text), "end: left");
    for (int i = 0; i < M->n && len < (int)sizeof(text); i++) {
        const struct pg_obs *o = &obs[i];
        const char *what = !o->up        ? M->fenced[i] ? "stopped (fenced)"
                                                        : "down"
                           : o->in_recovery ? "standby"
                           : o->read_only   ? "primary, read-only"
                                            : "primary";
        len += snprintf(text + len, sizeof(text) - (size_t)len,
                        "%s %s %s", i ? "," : "", M->s[i].name, what);
        if (o->up && len < (int)sizeof(text))
            len += snprintf(text + len, sizeof(text) - (size_t)len,
                            " (timeline %u)", o->timeline);
    }
    int primaries = 0;
    for (int i = 0; i < M->n; i++)
        primaries += pg_writable(&obs[i]);
    rm_say(R, primaries == 1 ? C_DIM : C_YELLOW, "%s%s", text,
           primaries == 1 ? ""
           : primaries    ? " — more than one primary"
                          : " — no primary: tools/pg-pair up repairs the pair");
}
