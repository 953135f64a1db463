/*
 * reorder.c — a follower keeps the appends that arrive ahead of a gap.
 *
 * The leader pipelines appends (replication.c), and the simulated network
 * may deliver them in any order.  Raft's answer to an append whose
 * prev_lsn is past the log end is a rejection, after which the leader
 * must send the rejected entries again; with a window of appends on the
 * wire, one overtaken append used to cost the whole window, round after
 * round (issue 15: ~600 times the entries a restarted follower needed).
 * So a follower keeps, for its current leader and term only, up to
 * max_inflight such appends (each within one window of its log end) and
 * steps them as soon as the log reaches them — but only while its last
 * answer to that leader was a success: the leader pipelines only then,
 * and a probe (sent after a rejection, or by a new leader) must be
 * answered at once, not kept.  A kept append is answered
 * when it is stepped; the leader's stall rule covers one that never is.
 * The kept appends are volatile: any change of term, leader or role,
 * and a crash, drops them.
 */
#include "raft/internal.h"

#include <stdlib.h>

void raft__early_clear(struct raft_node *n)
{
    n->early_ok = false;
    for (uint32_t i = 0; i < n->n_early; i++)
        raft_msg_free(&n->early[i]);
    n->n_early = 0;
}

bool raft__early_keep(struct raft_node *n, const struct raft_msg *m)
{
    uint64_t last = wal_last_lsn(&n->wal);
    uint64_t window = (uint64_t)n->cfg.max_batch * n->cfg.max_inflight;
    if (!n->early_ok || m->n_entries == 0 || m->prev_lsn <= last ||
        m->prev_lsn - last > window || n->n_early >= n->cfg.max_inflight)
        return false;
    for (uint32_t i = 0; i < n->n_early; i++)
        if (n->early[i].prev_lsn == m->prev_lsn)
            return true; /* a copy is kept already */
    if (!n->early) {
        n->early = calloc(n->cfg.max_inflight, sizeof(*n->early));
        if (!n->early)
            return false; /* then Raft's rejection it is */
    }
    if (raft_msg_copy(&n->early[n->n_early], m) != RAFT_OK)
        return false;
    n->n_early++;
    return true;
}

/* Step every kept append the log now reaches, lowest prev_lsn first.
 * The state has moved since it arrived, so it is validated again. */
void raft__early_drain(struct raft_node *n)
{
    while (n->n_early && n->role == RAFT_FOLLOWER) {
        uint64_t last = wal_last_lsn(&n->wal);
        uint32_t k = n->n_early;
        for (uint32_t i = 0; i < n->n_early; i++)
            if (n->early[i].prev_lsn <= last &&
                (k == n->n_early ||
                 n->early[i].prev_lsn < n->early[k].prev_lsn))
                k = i;
        if (k == n->n_early)
            return;
        struct raft_msg m = n->early[k];
        n->early[k] = n->early[--n->n_early];
        uint64_t at;
        int bad = raft__check_msg(n, &m, &at);
        if (bad != RAFT_R_NONE)
            raft__reject(n, &m, bad, at);
        else if (m.term == n->term && m.from == n->leader)
            raft__recv_append(n, &m);
        raft_msg_free(&m);
    }
}
