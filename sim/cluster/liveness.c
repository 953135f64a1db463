/*
 * liveness.c — the progress check (liveness.h).
 */
#include "sim/cluster/liveness.h"

#include <stdio.h>
#include <string.h>

#include "raft/wal.h"

static const struct raft_config *cfg(const struct sim_cluster *c)
{
    return raft_config(sim_node(c, 1));
}

uint64_t sim_progress_default_us(const struct sim_cluster *c)
{
    return 10 * cfg(c)->election_max_us;
}

static uint64_t max_term(const struct sim_cluster *c)
{
    uint64_t t = 0;
    for (int i = 1; i <= sim_n_nodes(c); i++)
        if (raft_term(sim_node(c, i)) > t)
            t = raft_term(sim_node(c, i));
    return t;
}

/* The probe's entry is committed on a leader of its own term. */
static bool probe_committed(const struct sim_cluster *c, int widx)
{
    const struct sim_write *w = sim_get_write(c, widx);
    if (!w || !w->lsn)
        return false;
    for (int i = 1; i <= sim_n_nodes(c); i++) {
        struct raft_node *r = sim_node(c, i);
        if (!sim_is_up(c, i) || raft_commit_lsn(r) < w->lsn)
            continue;
        const struct wal_entry *e = wal_get(raft_wal(r), w->lsn);
        if (e && e->term == w->term)
            return true;
        if (!e && w->lsn <= raft_wal(r)->base_lsn && /* compacted */
            sim_committed_term(c, w->lsn) == w->term)
            return true;
    }
    return false;
}

bool sim_check_progress(struct sim_cluster *c, int client, uint64_t within_us,
                        struct sim_progress *out)
{
    memset(out, 0, sizeof(*out));
    if (!within_us)
        within_us = sim_progress_default_us(c);
    uint64_t t0 = sim_now(c), deadline = t0 + within_us;
    uint64_t slice = cfg(c)->heartbeat_us, term0 = max_term(c);
    uint64_t stable_need = cfg(c)->election_max_us;
    int leader = 0, widx = -1;
    uint64_t lterm = 0, since = t0;
    for (;;) {
        int ids[RAFT_MAX_NODES];
        if (sim_leaders(c, ids) == 1) {
            uint64_t t = raft_term(sim_node(c, ids[0]));
            if (ids[0] != leader || t != lterm) {
                leader = ids[0];
                lterm = t;
                since = sim_now(c);
            }
        } else {
            leader = 0;
        }
        if (widx >= 0 && probe_committed(c, widx)) {
            out->ok = true;
            break;
        }
        const struct sim_write *w = widx >= 0 ? sim_get_write(c, widx) : NULL;
        bool probe_over = !w || (w->outcome != SIM_PENDING &&
                                 w->outcome != SIM_ACKED);
        /* A fresh probe to the leader when the last one is over (refused,
         * gave up) or went to a leader that is gone. */
        if (leader && (probe_over || (w && w->term && w->term != lterm))) {
            char val[24];
            snprintf(val, sizeof(val), "probe-%llu",
                     (unsigned long long)++out->probes);
            widx = sim_client_write(c, client, leader, "progress", val);
        }
        if (sim_now(c) >= deadline)
            break;
        uint64_t next = sim_now(c) + slice;
        if (!sim_run_until(c, next < deadline ? next : deadline)) {
            out->stopped = true;
            break;
        }
    }
    out->t_us = sim_now(c);
    out->leader = leader;
    out->terms = max_term(c) - term0;
    double secs = (double)(out->t_us - t0) / 1e6;
    if (out->ok) {
        snprintf(out->detail, sizeof(out->detail),
                 "n%d leads term %llu and committed a write %.3fs into the "
                 "check",
                 leader, (unsigned long long)lterm, secs);
    } else if (out->stopped) {
        out->reason = "violation";
        snprintf(out->detail, sizeof(out->detail),
                 "an invariant violation stopped the run %.3fs into the "
                 "check",
                 secs);
    } else if (leader && out->t_us - since >= stable_need) {
        out->reason = "leader-cannot-commit";
        snprintf(out->detail, sizeof(out->detail),
                 "n%d led term %llu for the last %.3fs, but no write committed "
                 "in %.3fs",
                 leader, (unsigned long long)lterm,
                 (double)(out->t_us - since) / 1e6, secs);
    } else if (out->terms >= 3) {
        out->reason = "term-churn";
        snprintf(out->detail, sizeof(out->detail),
                 "%llu terms began in %.3fs and no leader kept one long "
                 "enough to commit a write",
                 (unsigned long long)out->terms, secs);
    } else {
        out->reason = "no-leader";
        snprintf(out->detail, sizeof(out->detail),
                 "no leader had held its term for an election timeout at "
                 "the end, and no write committed in %.3fs (%llu term%s "
                 "began)",
                 secs, (unsigned long long)out->terms,
                 out->terms == 1 ? "" : "s");
    }
    return out->ok;
}
