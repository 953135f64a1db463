/*
 * election.c — PreVote, RequestVote and the highest-lsn candidacy policy.
 *
 * A node whose election timer fires becomes a pre-candidate (thesis §9.6)
 * and asks its peers whether they would vote for it in term+1, without
 * touching anyone's term.  Only with a majority of yeses does it become a
 * candidate and run a real election (Raft §5.2).  A voter grants a vote
 * only to a candidate whose log is at least as up to date as its own
 * (§5.4.1), once per term.
 *
 * The highest-lsn policy adds one rule on top: replies carry the voter's
 * own (last_term, last_lsn).  A (pre-)candidate that learns a peer it can
 * reach is strictly more up to date stands down and waits about one
 * election timeout for that peer to win.  It defers once; if no leader
 * shows up it campaigns anyway, so liveness never hangs on one peer.
 * Replies race: a majority of less up-to-date peers may answer before the
 * one peer that is ahead.  So under highest-lsn a pre-candidate holding a
 * majority of pre-votes keeps gathering replies for as long again as the
 * majority took (capped at one heartbeat interval), unless every peer has
 * answered: a window that follows the real round-trip time, in virtual
 * time and over TCP alike, at the cost of about one round trip of
 * failover time (README, bench failover).
 */
#include "raft/internal.h"

#include <assert.h>

static bool log_ok(const struct raft_node *n, const struct raft_msg *m)
{
    return wal_log_ok(m->last_term, m->last_lsn, wal_last_term(&n->wal),
                      wal_last_lsn(&n->wal));
}

static void send_requests(struct raft_node *n, int type, uint64_t term,
                          bool transfer)
{
    for (int i = 1; i <= n->cfg.n_nodes; i++) {
        if (i == n->cfg.id || !raft__is_voter(n, i))
            continue; /* the voters of the configuration in force */
        struct raft_msg *m = raft__msg(n, type, i);
        m->term = term;
        m->last_term = wal_last_term(&n->wal);
        m->last_lsn = wal_last_lsn(&n->wal);
        m->transfer = transfer;
    }
}

static void check_tally(struct raft_node *n);

/* The election timer fired (or a deferral expired). */
void raft__campaign(struct raft_node *n, int reason)
{
    if (n->term >= RAFT_TERM_MAX) {
        /* Saturated: term + 1 would leave the range every peer accepts
         * (validate.c).  Unreachable but by 2^31 forged jumps. */
        raft__reset_election_timer(n);
        return;
    }
    if (n->cfg.prevote) {
        raft__become_precandidate(n, reason);
        send_requests(n, RAFT_MSG_PREVOTE, n->term + 1, false);
    } else {
        raft__become_candidate(n, reason);
        send_requests(n, RAFT_MSG_VOTE, n->term, false);
    }
    check_tally(n); /* a one-node cluster wins alone */
}

/* TimeoutNow from the leader (transfer.c): a real election at once, no
 * pre-vote (thesis §3.10), with requests voters must not refuse as
 * leader-alive. */
void raft__campaign_transfer(struct raft_node *n, int from)
{
    if (n->term >= RAFT_TERM_MAX) {
        raft__reset_election_timer(n);
        return;
    }
    raft__become_candidate(n, RAFT_R_TIMEOUT_NOW);
    n->events[n->n_events - 1].peer = from; /* its role event */
    send_requests(n, RAFT_MSG_VOTE, n->term, true);
    check_tally(n);
}

static void reply(struct raft_node *n, const struct raft_msg *m, bool granted,
                  int reason)
{
    bool pre = m->type == RAFT_MSG_PREVOTE;
    struct raft_msg *r = raft__msg(
        n, pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP, m->from);
    /* A granted pre-vote echoes the prospective term; anything else
     * carries ours, so a stale candidate learns it is behind. */
    r->term = (pre && granted) ? m->term : n->term;
    r->granted = granted;
    r->last_term = wal_last_term(&n->wal);
    r->last_lsn = wal_last_lsn(&n->wal);
    struct raft_event *ev = raft__event(n, RAFT_EV_VOTE);
    ev->term = m->term;
    ev->peer = m->from;
    ev->granted = granted;
    ev->prevote = pre;
    ev->reason = (uint8_t)reason;
    /* For refusals, say whom we voted for / what our log is. */
    ev->lsn = wal_last_lsn(&n->wal);
    ev->entry_term = wal_last_term(&n->wal);
    ev->rival = n->voted_for;
    ev->cand_lsn = m->last_lsn;
    ev->cand_term = m->last_term;
}

void raft__recv_vote_request(struct raft_node *n, const struct raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE;
    bool any = n->cfg.unsafe & RAFT_UNSAFE_VOTE_ANY;
    if (pre ? m->term <= n->term : m->term < n->term) {
        reply(n, m, false, RAFT_R_STALE_TERM);
        return;
    }
    /* A real vote in a higher term we refused to adopt (step()), or any
     * pre-vote while a leader is alive: keep the leader.  Unless the
     * leader itself sent the candidate (TimeoutNow: a transfer). */
    if (m->term > n->term && (pre || n->cfg.checkquorum) &&
        !(!pre && m->transfer) && raft__leader_alive(n)) {
        reply(n, m, false, RAFT_R_LEADER_ALIVE);
        return;
    }
    if (!pre && n->voted_for != RAFT_NONE && n->voted_for != m->from) {
        reply(n, m, false, RAFT_R_ALREADY_VOTED);
        return;
    }
    if (!log_ok(n, m) && !any) {
        reply(n, m, false, RAFT_R_LOG_BEHIND);
        return;
    }
    if (!pre) {
        assert(m->term == n->term);
        n->voted_for = m->from;
        raft__reset_election_timer(n); /* Figure 2: granting resets it */
    } else if (n->close_waiting) {
        /* Fast detection: another follower saw the close first; let it
         * win rather than split the vote (a short timer still runs). */
        raft__reset_election_timer(n);
    }
    reply(n, m, true, log_ok(n, m) ? RAFT_R_LOG_OK : RAFT_R_UNSAFE_VOTE_ANY);
}

/* highest-lsn: is the responder strictly more up to date than we are? */
static bool should_defer(const struct raft_node *n, const struct raft_msg *m)
{
    if (n->cfg.policy != RAFT_ELECT_HIGHEST_LSN || n->deferred)
        return false;
    uint64_t t = wal_last_term(&n->wal), l = wal_last_lsn(&n->wal);
    return wal_log_ok(m->last_term, m->last_lsn, t, l) &&
           !(m->last_term == t && m->last_lsn == l);
}

static void defer_to(struct raft_node *n, const struct raft_msg *m)
{
    raft__become_follower(n, n->term, RAFT_NONE, RAFT_R_DEFERRED, m->from);
    n->deferred = true;
    n->defer_waiting = true;
    struct raft_event *ev = raft__event(n, RAFT_EV_DEFER);
    ev->peer = m->from;
    ev->lsn = m->last_lsn;
    ev->entry_term = m->last_term;
    ev->until_us = n->election_deadline;
}

static void check_tally(struct raft_node *n)
{
    if (raft_nodeset_count(&n->granted) >= n->quorum) {
        if (n->role == RAFT_PRECANDIDATE &&
            n->cfg.policy == RAFT_ELECT_HIGHEST_LSN && !n->gather_done &&
            raft_nodeset_count(&n->granted) +
                    raft_nodeset_count(&n->refused) <
                n->n_voters) {
            if (!n->gather_deadline) {
                raft_time_t took = n->now - n->campaign_start;
                if (took > n->cfg.heartbeat_us)
                    took = n->cfg.heartbeat_us;
                n->gather_deadline = n->now + (took ? took : 1);
            }
            return;
        }
        if (n->role == RAFT_PRECANDIDATE) {
            raft__become_candidate(n, RAFT_R_PREVOTE_WON);
            send_requests(n, RAFT_MSG_VOTE, n->term, false);
            check_tally(n);
        } else if (n->role == RAFT_CANDIDATE) {
            raft__become_leader(n);
        }
    } else if (raft_nodeset_count(&n->refused) >= n->quorum) {
        raft__become_follower(n, n->term, RAFT_NONE, RAFT_R_VOTE_LOST,
                              RAFT_NONE);
    }
}

void raft__recv_vote_response(struct raft_node *n, const struct raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
    if (pre) {
        if (n->role != RAFT_PRECANDIDATE || m->term != n->term + 1) {
            /* A refusal from a higher term was adopted in step(); a reply
             * from an older campaign is ignored. */
            if (!(n->role == RAFT_PRECANDIDATE && !m->granted &&
                  m->term <= n->term))
                return;
        }
    } else if (n->role != RAFT_CANDIDATE || m->term != n->term) {
        return;
    }
    if (should_defer(n, m)) {
        defer_to(n, m);
        return;
    }
    if (!raft__is_voter(n, m->from))
        return; /* not in the configuration we campaign in: no say */
    raft_nodeset_add(m->granted ? &n->granted : &n->refused, m->from);
    check_tally(n);
}

/* The gathering window after a pre-vote majority closed: campaign. */
void raft__gather_expired(struct raft_node *n)
{
    n->gather_done = true;
    n->gather_deadline = 0;
    check_tally(n);
}

/* Fast detection (raft.h, raft_peer_closed).  Only the pre-vote is
 * hastened: whether anyone grants it is decided exactly as after an
 * election timeout, so safety and the leader-alive guard are untouched. */
int raft_peer_closed(struct raft_node *n, raft_time_t now_us, int peer)
{
    if (n->role == RAFT_DOWN)
        return RAFT_EDOWN;
    if (peer < 1 || peer > n->cfg.n_nodes || peer == n->cfg.id)
        return RAFT_EINVAL;
    if (now_us > n->now)
        n->now = now_us;
    if (n->role != RAFT_FOLLOWER || n->leader != peer || !n->cfg.prevote ||
        !n->cfg.fast_detect)
        return 0;
    n->leader_contact_valid = false; /* evidence: grant others' pre-votes */
    if (n->cfg.nofailover || n->close_waiting)
        return 0;
    raft_time_t delay = prng_range(&n->rng, 0, raft__fast_delay(n));
    if (n->now + delay >= n->election_deadline)
        return 0; /* the election timer fires first anyway */
    n->election_timeout = delay;
    n->election_deadline = n->now + delay;
    n->defer_waiting = false;
    n->close_waiting = true;
    n->fast_left = RAFT_FAST_TIMERS;
    return 1;
}
