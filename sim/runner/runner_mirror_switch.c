/*
 * runner_mirror_switch.c — a leadership transfer (`transfer leader to
 * n2`, raft/transfer.c) mirrored as a PostgreSQL switchover.  See
 * runner_mirror.h.
 *
 * When the leader starts the transfer (it refuses writes from then on):
 *   1. fence: the old primary is stopped cleanly (the control command's
 *      `stop`, a fast shutdown: sessions end, a shutdown checkpoint is
 *      written, and before it exits its walsender sends that last record
 *      to the connected standbys: PostgreSQL 15 docs §27.2.5, §19.5);
 *   2. where its WAL ends, from its control file and WAL (`final-lsn`:
 *      pg_controldata's shutdown checkpoint, pg_waldump's proof that
 *      nothing follows it and its length);
 *   3. a bounded wait until the target standby's pg_last_wal_replay_lsn()
 *      equals that final LSN: it has replayed every record.
 * The core then sends TimeoutNow; when the target's node leads, the
 * mirror promotes its server as after any election (runner_mirror.c,
 * do_leader).  When the old leader's node follows the new one, its
 * server rejoins with the control command's `follow`: restarted as a
 * standby of the new primary without pg_rewind, which tools/pg-pair only
 * does after checking that the old primary's WAL ends at or before the
 * point where the new primary's timeline began (its history file) — so
 * the narration's "without pg_rewind" is what the servers showed, not a
 * hope.  If that check fails, the usual rejoin (pg_rewind) follows and
 * says so.  An abandoned transfer starts the old primary again.
 * Patroni's switchover does the same steps (shutdown checkpoint, check
 * the replica received it, promote, restart the old primary as a
 * replica).
 */
#include "sim/runner/runner_mirror.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/util/util.h"

#define REPLAY_WAIT_S 10.0

int rm_control_out(struct runner *R, const char *action, int s, double *ms,
                   char *out, size_t cap)
{
    struct rmirror *M = R->mir;
    char cmd[1024];
    pgc_fill_template(M->control, action, M->s[s].name, cmd, sizeof(cmd));
    int rc = pgc_run_capture(cmd, RM_CONTROL_TIMEOUT_S,
                             getenv("RAFTSIM_PG_LOG"), ms, out, cap);
    if (rc != 0)
        rm_fail(R, "`%s` %s after %.0f ms", cmd,
                rc == 124  ? "timed out"
                : rc == -1 ? "could not start"
                           : "failed",
                *ms);
    return rc ? -1 : 0;
}

void rm_switch_begin(struct runner *R, int from, int to)
{
    struct rmirror *M = R->mir;
    int s = M->of[from], t = M->of[to];
    if (s < 0 || M->st[s] != S_PRIMARY)
        return;
    if (t < 0) {
        rm_say(R, C_DIM, "n%d is a witness: PostgreSQL keeps its primary %s",
               to, M->s[s].name);
        return;
    }
    if (M->st[t] != S_STANDBY || M->cut[t] || !rm_streams_from(M, t, s)) {
        rm_say(R, C_YELLOW, "%s does not stream from %s: no clean switchover; "
                            "when n%d leads, the mirror fails over as after "
                            "a crash (fence, promote; %s rejoins with "
                            "pg_rewind)",
               M->s[t].name, M->s[s].name, to, M->s[s].name);
        return;
    }
    double w0 = util_wall_s(), ms;
    M->xfer_srv = t + 1;
    M->xfer_wall = w0;
    M->mark_sw_begin = w0;
    M->mark_sw_stopped = M->mark_sw_final = M->mark_sw_replayed = 0;
    M->st[s] = S_STALE;
    M->unfenced[s] = false;
    if (rm_control(R, "stop", s, &ms, false) != 0)
        return;
    M->mark_sw_stopped = util_wall_s();
    M->switched[s] = true;
    struct pg_obs o;
    pg_observe(&M->s[s], RM_TIMEOUT_S, &o);
    if (o.up) {
        rm_fail(R, "%s still answers after `stop`", M->s[s].name);
        return;
    }
    M->fenced[s] = M->was_primary[s] = true;
    rm_say(R, C_CYAN, "switchover %s -> %s for n%d -> n%d: %s fenced, stopped "
                      "cleanly in %.0f ms (fast shutdown: sessions ended, a "
                      "shutdown checkpoint written and sent to the standbys "
                      "before it exited)",
           M->s[s].name, M->s[t].name, from, to, M->s[s].name, ms);
    char out[512], end_s[32] = "", ckpt[32] = "";
    unsigned tli = 0;
    uint64_t end = 0;
    if (rm_control_out(R, "final-lsn", s, &ms, out, sizeof(out)) != 0 ||
        sscanf(out, "%31s timeline %u checkpoint %31s", end_s, &tli, ckpt) !=
            3 ||
        !pg_parse_lsn(end_s, &end)) {
        rm_say(R, C_YELLOW, "where %s's WAL ends is not known (%s): %s is "
                            "promoted when n%d leads, and %s rejoins with "
                            "pg_rewind",
               M->s[s].name, out[0] ? out : "no answer", M->s[t].name, to,
               M->s[s].name);
        return;
    }
    double r0 = util_wall_s();
    M->mark_sw_final = r0;
    for (;;) {
        pg_observe(&M->s[t], RM_TIMEOUT_S, &o);
        if ((o.up && o.replay_lsn >= end) ||
            util_wall_s() - r0 > REPLAY_WAIT_S)
            break;
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    char l[24];
    pg_format_lsn(o.replay_lsn, l, sizeof(l));
    if (!o.up || o.replay_lsn != end) {
        rm_fail(R, "%s replayed %s, not %s's final LSN %s, after %.0f s",
                M->s[t].name, o.up ? l : "nothing (down)", M->s[s].name,
                end_s, REPLAY_WAIT_S);
        return;
    }
    M->clean[s] = true;
    M->mark_sw_replayed = util_wall_s();
    rm_say(R, C_CYAN, "%s replayed up to %s = %s's final LSN (the end of its "
                      "shutdown checkpoint at %s, timeline %u: pg_controldata "
                      "and pg_waldump) %.0f ms after the stop: nothing %s "
                      "wrote is missing",
           M->s[t].name, l, M->s[s].name, ckpt, tli,
           (util_wall_s() - r0) * 1e3, M->s[s].name);
}

void rm_switch_promoted(struct runner *R, int t)
{
    struct rmirror *M = R->mir;
    if (M->xfer_srv != t + 1)
        return;
    M->xfer_srv = 0;
    rm_say(R, C_GREEN, "switchover to %s: %.0f ms of wall time from the "
                       "transfer's start to the promotion",
           M->s[t].name, (util_wall_s() - M->xfer_wall) * 1e3);
}

void rm_switch_abandon(struct runner *R, int node)
{
    struct rmirror *M = R->mir;
    int s = M->of[node];
    if (s < 0 || !M->fenced[s] || M->st[s] != S_STALE)
        return;
    for (int i = 0; i < M->n; i++)
        if (M->st[i] == S_PRIMARY)
            return; /* someone was promoted: s rejoins when n follows */
    double ms;
    if (rm_control(R, "start", s, &ms, false) != 0)
        return;
    M->st[s] = S_PRIMARY;
    M->fenced[s] = M->clean[s] = M->switched[s] = false;
    M->xfer_srv = 0;
    rm_say(R, C_GREEN, "%s started again as the primary (%.0f ms): n%d "
                       "abandoned the transfer and takes writes again; no "
                       "server was promoted",
           M->s[s].name, ms, node);
}

void rm_switch_back(struct runner *R, int s, bool rewound)
{
    struct rmirror *M = R->mir;
    if (!M->switched[s])
        return;
    M->switched[s] = false;
    M->mark_sw_followed = util_wall_s();
    if (rewound)
        M->sw_rewound++;
    else
        M->sw_no_rewind++;
}

bool rm_switch_rejoin(struct runner *R, int s, int p)
{
    struct rmirror *M = R->mir;
    M->clean[s] = false;
    char out[512], cmd[1024];
    double ms;
    pgc_fill_template(M->control, "follow", M->s[s].name, cmd, sizeof(cmd));
    int rc = pgc_run_capture(cmd, RM_CONTROL_TIMEOUT_S,
                             getenv("RAFTSIM_PG_LOG"), &ms, out, sizeof(out));
    if (rc != 0) {
        rm_say(R, C_YELLOW, "%s cannot follow %s without pg_rewind (`%s` "
                            "exit %d: its WAL may hold records %s lacks): "
                            "rejoining it with pg_rewind",
               M->s[s].name, M->s[p].name, cmd, rc, M->s[p].name);
        return false;
    }
    M->st[s] = S_STANDBY;
    M->was_primary[s] = M->cut[s] = false;
    M->fenced[s] = M->unfenced[s] = false;
    rm_switch_back(R, s, false);
    /* tools/pg-pair follow: "…, its WAL ends at X, at or before Y where
     * b's timeline 2 left timeline 1" */
    const char *e = strstr(out, "its WAL ends at ");
    char why[300];
    if (e) {
        snprintf(why, sizeof(why), "%s", e);
        why[strcspn(why, "\n")] = 0;
    } else
        snprintf(why, sizeof(why), "the control command's follow");
    rm_say(R, C_GREEN, "%s rejoined as a standby of %s without pg_rewind "
                       "(%.0f ms): it was shut down cleanly and %s — %s "
                       "has every record it wrote, nothing to rewind",
           M->s[s].name, M->s[p].name, ms, why, M->s[p].name);
    return true;
}
