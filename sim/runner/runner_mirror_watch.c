/*
 * runner_mirror_watch.c — `mirror … watch on`: a real failure, detected.
 * The mirror polls the primary's server (a new libpq connection and one
 * query, bounded at WATCH_TIMEOUT_S; libpq's connect_timeout is at least
 * 2 s, but a stopped server refuses the connection at once) at most a
 * heartbeat of wall time apart: the run's steps are cut into heartbeat
 * slices (runner_base.c) and each slice ends with a poll.  When the
 * server refuses the connection or says it is shutting down, or two
 * polls in a row time out, its node crashes in the simulation at that
 * moment (a server that went away under the poll is asked again at
 * once: refusing, its crash command waits, rm_crash_refused); the
 * election, fence, promotion and rejoin then follow from the
 * simulation's decisions as for any crash.  The clock is held during a
 * poll, like every mirror step, so a slow answer costs wall time, never a
 * timeout in the cluster.  Meant for `--clock real` (under the virtual
 * clock a `wait` takes no wall time, so the polls are few).
 */
#include "sim/runner/runner_mirror.h"

#include <string.h>
#include <time.h>

#include "sim/util/util.h"

#define WATCH_TIMEOUT_S 1.0
#define WATCH_AGAIN_MAX 10      /* asks of a server that went away */
#define WATCH_AGAIN_GAP_US 5000 /* between them */

uint64_t rm_watch_slice_us(struct runner *R)
{
    return R->mir && R->mir->watch ? R->p->heartbeat_us : 0;
}

void rm_watch(struct runner *R)
{
    struct rmirror *M = R->mir;
    if (!M || !M->watch)
        return;
    double now = util_wall_s();
    if (now - M->watch_last < (double)R->p->heartbeat_us / 1e6)
        return;
    M->watch_last = now;
    int p = -1;
    for (int i = 0; i < M->n; i++)
        if (M->st[i] == S_PRIMARY)
            p = i;
    if (p < 0)
        return;
    int node = M->node_of[p];
    if (!sim_is_up(R->c, node))
        return;
    struct pg_obs o, again;
    int asked = 0;
    sim_hold_clock(R->c, true);
    pg_observe(&M->s[p], WATCH_TIMEOUT_S, &o);
    double polled = util_wall_s();
    M->watch_polls++;
    /* A refused connection, or a server that says it is shutting down,
     * is gone; a timeout may be a loaded machine (seen here: a live
     * server in a container took 2.9 s to accept, at load 18), so it
     * counts only when the next poll fails too. */
    enum pg_fail f = pg_obs_failure(&o);
    bool refused = f == PG_FAIL_REFUSED;
    bool gone = refused || f == PG_FAIL_GONE;
    double asked_ms = 0;
    if (f == PG_FAIL_GONE) {
        /* It went away under the poll (a kill that lands during the
         * connection or the query: most polls at load, when one takes
         * longer than the heartbeat between them).  Asked again, a
         * postmaster that is gone refuses (its crash command can then
         * wait, rm_crash_refused); one still shutting down or restarting
         * after a backend's crash answers otherwise, and its crash
         * command stops it now, before anyone is promoted.  A dying
         * postmaster's port may still take a connection for a few ms
         * and close it (seen 4 ms after the first poll, at load), so
         * while that is the answer it is asked again, WATCH_AGAIN_GAP_US
         * apart, at most WATCH_AGAIN_MAX times. */
        double a0 = util_wall_s();
        for (int k = 0; k < WATCH_AGAIN_MAX; k++) {
            if (k) {
                struct timespec ts = {0, WATCH_AGAIN_GAP_US * 1000L};
                nanosleep(&ts, NULL);
            }
            pg_observe(&M->s[p], WATCH_TIMEOUT_S, &again);
            asked++;
            if (pg_obs_failure(&again) != PG_FAIL_GONE ||
                !strstr(again.error, "closed the connection"))
                break;
        }
        asked_ms = (util_wall_s() - a0) * 1e3;
        refused = pg_obs_failure(&again) == PG_FAIL_REFUSED;
    }
    sim_hold_clock(R->c, false);
    if (o.up) {
        M->watch_misses = 0;
        return;
    }
    if (!gone && ++M->watch_misses < 2) {
        rm_say(R, C_DIM, "watch: %s did not answer one poll (%s, after %.0f "
                         "ms): asking again",
               M->s[p].name, o.error, o.took_ms);
        return;
    }
    M->watch_misses = 0;
    M->mark_detected = polled;
    char said[400] = "", how[48];
    if (asked == 1)
        snprintf(how, sizeof(how), "at once (%.0f ms)", asked_ms);
    else
        snprintf(how, sizeof(how), "%d times in %.0f ms", asked, asked_ms);
    if (asked)
        snprintf(said, sizeof(said), "; asked again %s: %s%s", how,
                 refused    ? "it refuses connections"
                 : again.up ? "it answers, so its crash command stops it now"
                            : "its crash command stops it now: ",
                 refused || again.up ? "" : again.error);
    rm_say(R, C_MAGENTA, "watch: %s does not answer (%s, after %.0f ms; poll "
                         "%llu%s%s): n%d crashes in the simulation",
           M->s[p].name, o.error, o.took_ms,
           (unsigned long long)M->watch_polls,
           gone ? "" : ", the second in a row", said, node);
    R->role[node] = RAFT_DOWN;
    sim_crash(R->c, node, false);
    if (refused)
        rm_crash_refused(R, node);
    else
        rm_crash(R, node);
}

/* For bench pg-failover --detect (scn_runner_mirror_marks): when the
 * failure was seen, the new leader elected, its server promoted. */
void rm_mark_elected(struct runner *R)
{
    if (R->mir)
        R->mir->mark_elected = util_wall_s();
}

void rm_mark_promoted(struct runner *R)
{
    if (R->mir)
        R->mir->mark_promoted = util_wall_s();
}

void scn_runner_mirror_marks(struct scn_runner *r,
                             struct scn_mirror_marks *m)
{
    struct runner *R = (struct runner *)r;
    memset(m, 0, sizeof(*m));
    if (!R->mir)
        return;
    m->detected = R->mir->mark_detected;
    m->elected = R->mir->mark_elected;
    m->promoted = R->mir->mark_promoted;
    m->watch_polls = R->mir->watch_polls;
    m->sw_begin = R->mir->mark_sw_begin;
    m->sw_stopped = R->mir->mark_sw_stopped;
    m->sw_final = R->mir->mark_sw_final;
    m->sw_replayed = R->mir->mark_sw_replayed;
    m->sw_followed = R->mir->mark_sw_followed;
    m->sw_no_rewind = R->mir->sw_no_rewind;
    m->sw_rewound = R->mir->sw_rewound;
}
