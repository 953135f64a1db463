/*
 * transfer.c — leadership transfer (Ongaro's thesis §3.10; etcd's
 * MsgTransferLeader and MsgTimeoutNow).
 *
 * A leader asked to hand over to a target:
 *   1. stops accepting proposals (raft_propose says RAFT_ETRANSFER), so
 *      its log stops growing;
 *   2. brings the target's log up to its own by normal replication;
 *   3. once the target's match lsn is its last lsn, sends it TimeoutNow
 *      (again on every later success from the target, should one be
 *      lost; a stale copy arrives in an older term and is ignored).
 * The target campaigns at once, in term + 1, without pre-vote, and its
 * vote requests carry the transfer flag: a voter that still hears the
 * old leader would otherwise refuse it as leader-alive (the flag is
 * etcd's campaignTransfer).  The old leader adopts the new term on the
 * first such request and steps down.  A transfer not done within an
 * election timeout (election_min) is abandoned and the leader accepts
 * writes again: a dead or cut-off target cannot keep a cluster
 * read-only for longer than a failover would.
 */
#include "raft/internal.h"

static struct raft_event *transfer_event(struct raft_node *n, int reason)
{
    struct raft_event *ev = raft__event(n, RAFT_EV_TRANSFER);
    ev->reason = (uint8_t)reason;
    ev->peer = n->transfer_to;
    ev->lsn = wal_last_lsn(&n->wal);
    ev->cand_lsn = n->prog[n->transfer_to].match_lsn;
    ev->until_us = n->transfer_deadline;
    return ev;
}

int raft_transfer_leadership(struct raft_node *n, raft_time_t now_us,
                             int target)
{
    if (n->role == RAFT_DOWN)
        return RAFT_EDOWN;
    if (n->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    if (target < 1 || target > n->cfg.n_nodes || target == n->cfg.id ||
        !raft__is_voter(n, target))
        return RAFT_EINVAL;
    if (now_us > n->now)
        n->now = now_us;
    if (n->transfer_to == target)
        return RAFT_OK; /* already under way: its deadline stands */
    n->transfer_to = target;
    n->transfer_sent = false;
    n->transfer_deadline = n->now + n->cfg.election_min_us;
    transfer_event(n, RAFT_R_TRANSFER);
    raft__transfer_progress(n, target);
    return RAFT_OK;
}

int raft_transfer_target(const struct raft_node *n)
{
    return n->role == RAFT_LEADER ? n->transfer_to : RAFT_NONE;
}

/* The target's match may have moved (or the transfer just started). */
void raft__transfer_progress(struct raft_node *n, int peer)
{
    if (n->role != RAFT_LEADER || peer != n->transfer_to)
        return;
    if (n->prog[peer].match_lsn < wal_last_lsn(&n->wal)) {
        raft__push(n, peer);
        return;
    }
    if (!n->transfer_sent) {
        n->transfer_sent = true;
        transfer_event(n, RAFT_R_TIMEOUT_NOW);
    }
    raft__msg(n, RAFT_MSG_TIMEOUT_NOW, peer);
}

/* Leader tick: abandon a transfer past its deadline. */
void raft__transfer_tick(struct raft_node *n)
{
    if (n->transfer_to == RAFT_NONE || n->now < n->transfer_deadline)
        return;
    transfer_event(n, RAFT_R_TRANSFER_TIMEOUT);
    n->transfer_to = RAFT_NONE;
    n->transfer_sent = false;
}

/* A TimeoutNow of our term (step() applied the term rules; validate.c
 * checked it comes from the leader we follow, if we know one). */
void raft__recv_timeout_now(struct raft_node *n, const struct raft_msg *m)
{
    if (n->role == RAFT_LEADER || n->cfg.nofailover ||
        !raft__is_voter(n, n->cfg.id))
        return; /* a witness never stands, transfer or not; nor does a
                   server outside the voters */
    raft__campaign_transfer(n, m->from);
}
