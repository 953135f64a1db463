/*
 * runner_mirror_app.c — the application talking to the servers itself,
 * past the cluster: `write CLIENT KEY=VALUE on pg SERVER` is an INSERT on
 * that server, and `mirror … replication off` makes every server a
 * primary of its own, so that a file can show the naive dual write (the
 * application writes every change to both databases; seed 000) beside
 * leader-follower replication.  See runner_mirror.h.
 *
 * The application's rows carry term 0 (no term of the cluster is 0) and
 * lsn 1, 2, … in the order the run wrote them (one change sent to several
 * servers, the same client, key and value one after the other, keeps one
 * number), so reads compare their versions as they compare the cluster's
 * rows, and no row of the cluster is ever mistaken for one of them.  A client's read-your-writes token
 * after such a write is the WAL position its session read with
 * pg_current_wal_lsn() right after COMMIT, as for the cluster's writes.
 */
#include "sim/runner/runner_mirror.h"

#include <string.h>

#include "sim/util/util.h"

int rm_no_replication(struct runner *R, int p, char *err, size_t cap)
{
    struct rmirror *M = R->mir;
    M->no_repl = true;
    for (int i = 0; i < M->n; i++) {
        if (i != p) {
            double t0 = util_wall_s();
            if (pg_exec(&M->s[i], 35.0, "SELECT pg_promote(true, 30)", err,
                        cap) != 0)
                return -1;
            rm_say(R, C_CYAN, "setup: replication off: %s promoted, a "
                              "primary of its own (%.0f ms)",
                   M->s[i].name, (util_wall_s() - t0) * 1e3);
        }
        if (pg_exec(&M->s[i], RM_SETUP_TIMEOUT_S,
                    "ALTER SYSTEM SET synchronous_standby_names = ''", err,
                    cap) != 0 ||
            pg_exec(&M->s[i], RM_SETUP_TIMEOUT_S, "SELECT pg_reload_conf()",
                    err, cap) != 0)
            return -1;
        M->st[i] = S_PRIMARY;
    }
    rm_say(R, C_CYAN, "setup: replication off: %d servers accept writes, "
                      "none streams from another and synchronous_standby_"
                      "names is '' on each; what one gets, only the "
                      "application can give the others (the next mirrored "
                      "run keeps one primary and rejoins the rest)",
           M->n);
    return 0;
}

void rm_write_on(struct runner *R, const struct scn_cmd *cmd)
{
    struct rmirror *M = R->mir;
    const char *who = R->p->clients[cmd->client];
    if (!M) {
        r_fail_line(R, cmd, "no mirror is running: a write on pg %s needs "
                            "`mirror …`",
                    cmd->pg_server);
        return;
    }
    int s = -1;
    for (int i = 0; i < M->n; i++)
        if (!strcmp(M->s[i].name, cmd->pg_server))
            s = i;
    if (s < 0) {
        r_fail_line(R, cmd, "no mirrored server %s", cmd->pg_server);
        return;
    }
    sim_hold_clock(R->c, true);
    /* the same change (this client, key and value) sent on to another
     * server is one version, as the application means it: the dual write
     * of x=1 to a and to b is one write of x=1 */
    struct rapp *last = &M->app_last[cmd->client];
    bool same = last->lsn && !strcmp(last->key, cmd->key) &&
                !strcmp(last->value, cmd->value) &&
                !(last->servers & (1u << s));
    uint64_t lsn = same ? last->lsn : M->app_writes + 1, pg_lsn = 0;
    bool waited = false;
    char err[512], l[24];
    double t0 = util_wall_s();
    int rc = pg_insert_row(&M->s[s], RM_TIMEOUT_S, R->p->ack != RAFT_ACK_ASYNC,
                           lsn, 0, cmd->key, cmd->value, "app", &pg_lsn,
                           &waited, err, sizeof(err));
    double ms = (util_wall_s() - t0) * 1e3;
    sim_hold_clock(R->c, false);
    bool acked = rc == 0;
    if (!same) {
        last->lsn = lsn;
        last->servers = 0;
        snprintf(last->key, sizeof(last->key), "%s", cmd->key);
        snprintf(last->value, sizeof(last->value), "%s", cmd->value);
        M->app_writes = lsn; /* tried: the number is not used again */
    }
    last->servers |= 1u << s;
    if (acked) {
        M->app_token[cmd->client] = pg_lsn;
        M->app_token_server[cmd->client] = s + 1;
        pg_format_lsn(pg_lsn, l, sizeof(l));
        rs_line(R, M->node_of[s], C_BLUE,
                "%s writes %s=%s on %s itself: committed (app write %llu) -> "
                "WAL %s in %.0f ms%s",
                who, cmd->key, cmd->value, M->s[s].name,
                (unsigned long long)lsn, l, ms,
                waited ? " (no synchronous standby answered: committed "
                         "locally only)"
                       : "");
    } else {
        rs_line(R, M->node_of[s], C_YELLOW,
                "%s writes %s=%s on %s itself: refused after %.0f ms (%s)",
                who, cmd->key, cmd->value, M->s[s].name, ms, err);
    }
    unsigned set = cmd->outcomes;
    if (!set)
        return;
    bool in = acked ? (set & SCN_OUT_BIT(SCN_OUT_ACKED)) != 0
                    : (set & SCN_OUT_BIT(SCN_OUT_REFUSED)) != 0;
    char actual[700];
    snprintf(actual, sizeof(actual), "%s %s it%s%s", M->s[s].name,
             acked ? "committed" : "refused", acked ? "" : ": ",
             acked ? "" : err);
    r_verdict(R, cmd, cmd->outcome_not ? !in : in, actual);
}
