/*
 * test_election.c — vote rules, a clean election, PreVote, CheckQuorum and
 * the highest-lsn candidacy policy, driven through tests/fixture.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/fixture.h"

/* ------------------------------------------------------------------ */
/* Helpers */

static struct raft_msg vote_req(int type, int from, int to, uint64_t term,
                                uint64_t last_term, uint64_t last_lsn)
{
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = (uint8_t)type;
    m.from = from;
    m.to = to;
    m.term = term;
    m.last_term = last_term;
    m.last_lsn = last_lsn;
    return m;
}

/* The last message the fixture queued (the reply to an injected one). */
static const struct raft_msg *last_sent(const struct fx *fx)
{
    cr_assert(fx->q_len > 0, "nothing was sent");
    return &fx->q[(fx->q_head + fx->q_len - 1) % fx->q_cap];
}

/* The last event of a kind a node emitted. */
static const struct fx_ev *last_ev(const struct fx *fx, int id, int kind)
{
    const struct fx_ev *e, *last = NULL;
    size_t pos = 0;
    while ((e = fx_next(fx, id, kind, &pos)))
        last = e;
    cr_assert_not_null(last, "node %d emitted no %s event", id,
                       raft_event_kind_name(kind));
    return last;
}

/* First ROLE event into `role` (any node) at or after the marks. */
static const struct fx_ev *first_role(const struct fx *fx, const size_t *mark,
                                      int role)
{
    const struct fx_ev *best = NULL;
    for (int i = 1; i <= fx->n; i++) {
        size_t pos = mark[i];
        const struct fx_ev *e;
        while ((e = fx_next(fx, i, RAFT_EV_ROLE, &pos)))
            if (e->ev.role == role) {
                if (!best || e->at < best->at)
                    best = e;
                break;
            }
    }
    return best;
}

static const struct fx_ev *role_ev(const struct fx *fx, int id, size_t since,
                                   int role, int reason)
{
    const struct fx_ev *e;
    while ((e = fx_next(fx, id, RAFT_EV_ROLE, &since)))
        if (e->ev.role == role && (reason < 0 || e->ev.reason == reason))
            return e;
    return NULL;
}

static void mark_all(const struct fx *fx, size_t *mark)
{
    for (int i = 1; i <= fx->n; i++)
        mark[i] = fx_mark(fx, i);
}

static struct fx *plain_cluster(int n)
{
    struct raft_config base;
    raft_config_default(&base, 1, n);
    base.prevote = false;
    base.checkquorum = false;
    base.policy = RAFT_ELECT_RAFT;
    return fx_new(n, &base);
}

/* ------------------------------------------------------------------ */
/* Vote rules, one message at a time */

Test(election, vote_granted_once_per_term_to_up_to_date_candidate)
{
    struct fx *fx = plain_cluster(3);
    struct raft_msg m = vote_req(RAFT_MSG_VOTE, 2, 1, 1, 0, 0);
    fx_step(fx, &m);
    const struct fx_ev *v = last_ev(fx, 1, RAFT_EV_VOTE);
    cr_assert(v->ev.granted);
    cr_assert_eq(v->ev.reason, RAFT_R_LOG_OK);
    cr_assert_eq(v->ev.peer, 2);
    cr_assert_eq(v->ev.term, 1);
    cr_assert_not(v->ev.prevote);
    cr_assert_eq(raft_term(fx->node[1]), 1);
    cr_assert_eq(raft_voted_for(fx->node[1]), 2);
    const struct raft_msg *r = last_sent(fx);
    cr_assert_eq(r->type, RAFT_MSG_VOTE_RESP);
    cr_assert_eq(r->to, 2);
    cr_assert(r->granted);
    cr_assert_eq(r->term, 1);

    /* Another candidate of the same term: refused, naming our choice. */
    m = vote_req(RAFT_MSG_VOTE, 3, 1, 1, 0, 0);
    fx_step(fx, &m);
    v = last_ev(fx, 1, RAFT_EV_VOTE);
    cr_assert_not(v->ev.granted);
    cr_assert_eq(v->ev.reason, RAFT_R_ALREADY_VOTED);
    cr_assert_eq(v->ev.peer, 3);
    cr_assert_eq(v->ev.rival, 2);
    cr_assert_not(last_sent(fx)->granted);
    cr_assert_eq(raft_voted_for(fx->node[1]), 2);

    /* The same candidate asking again (a retransmission) is granted. */
    m = vote_req(RAFT_MSG_VOTE, 2, 1, 1, 0, 0);
    fx_step(fx, &m);
    cr_assert(last_ev(fx, 1, RAFT_EV_VOTE)->ev.granted);
    cr_assert(last_sent(fx)->granted);
    fx_free(fx);
}

Test(election, vote_refused_to_candidate_with_less_up_to_date_log)
{
    struct fx *fx = plain_cluster(3);
    /* Node 1 learns two term-1 entries from leader 2. */
    struct wal_entry e[2] = {{1, 1, WAL_ENTRY_NOOP, NULL},
                             {2, 1, WAL_ENTRY_NOOP, NULL}};
    struct raft_msg a;
    memset(&a, 0, sizeof(a));
    a.type = RAFT_MSG_APPEND;
    a.from = 2;
    a.to = 1;
    a.term = 1;
    a.n_entries = 2;
    a.entries = e;
    fx_step(fx, &a);
    cr_assert_eq(wal_last_lsn(raft_wal(fx->node[1])), 2);

    /* Candidate 3 (term 2) has only lsn 1: behind. */
    struct raft_msg m = vote_req(RAFT_MSG_VOTE, 3, 1, 2, 1, 1);
    fx_step(fx, &m);
    const struct fx_ev *v = last_ev(fx, 1, RAFT_EV_VOTE);
    cr_assert_not(v->ev.granted);
    cr_assert_eq(v->ev.reason, RAFT_R_LOG_BEHIND);
    cr_assert_eq(v->ev.lsn, 2, "refusal reports our last lsn");
    cr_assert_eq(v->ev.entry_term, 1);
    cr_assert_eq(raft_voted_for(fx->node[1]), RAFT_NONE);
    cr_assert_eq(raft_term(fx->node[1]), 2, "the higher term is adopted");
    const struct raft_msg *r = last_sent(fx);
    cr_assert_not(r->granted);
    cr_assert_eq(r->last_lsn, 2);
    cr_assert_eq(r->last_term, 1);

    /* Same last term, same length: up to date. */
    m = vote_req(RAFT_MSG_VOTE, 3, 1, 2, 1, 2);
    fx_step(fx, &m);
    v = last_ev(fx, 1, RAFT_EV_VOTE);
    cr_assert(v->ev.granted);
    cr_assert_eq(v->ev.reason, RAFT_R_LOG_OK);

    /* A later last term beats a longer log (term 3, candidate 2). */
    m = vote_req(RAFT_MSG_VOTE, 2, 1, 3, 2, 1);
    fx_step(fx, &m);
    v = last_ev(fx, 1, RAFT_EV_VOTE);
    cr_assert(v->ev.granted);
    cr_assert_eq(raft_voted_for(fx->node[1]), 2);
    fx_free(fx);
}

Test(election, vote_refused_for_stale_term)
{
    struct fx *fx = plain_cluster(3);
    struct raft_msg m = vote_req(RAFT_MSG_VOTE, 2, 1, 2, 0, 0);
    fx_step(fx, &m);
    cr_assert_eq(raft_term(fx->node[1]), 2);
    /* (a longer log does not help; its last term cannot exceed the
     * candidate's term: that would be a malformed request) */
    m = vote_req(RAFT_MSG_VOTE, 3, 1, 1, 1, 50);
    fx_step(fx, &m);
    const struct fx_ev *v = last_ev(fx, 1, RAFT_EV_VOTE);
    cr_assert_not(v->ev.granted);
    cr_assert_eq(v->ev.reason, RAFT_R_STALE_TERM);
    cr_assert_eq(v->ev.term, 1, "the ballot's term");
    const struct raft_msg *r = last_sent(fx);
    cr_assert_not(r->granted);
    cr_assert_eq(r->term, 2, "the reply tells the candidate our term");
    cr_assert_eq(raft_term(fx->node[1]), 2);
    cr_assert_eq(raft_voted_for(fx->node[1]), 2);
    fx_free(fx);
}

Test(election, prevote_grant_changes_neither_term_nor_vote)
{
    struct fx *fx = fx_new(3, NULL); /* defaults: prevote on */
    struct raft_msg m = vote_req(RAFT_MSG_PREVOTE, 2, 1, 1, 0, 0);
    fx_step(fx, &m);
    const struct fx_ev *v = last_ev(fx, 1, RAFT_EV_VOTE);
    cr_assert(v->ev.granted);
    cr_assert(v->ev.prevote);
    cr_assert_eq(raft_term(fx->node[1]), 0);
    cr_assert_eq(raft_voted_for(fx->node[1]), RAFT_NONE);
    const struct raft_msg *r = last_sent(fx);
    cr_assert_eq(r->type, RAFT_MSG_PREVOTE_RESP);
    cr_assert_eq(r->term, 1, "a granted pre-vote echoes the prospective term");
    /* A pre-vote for our own term (not term + 1) is stale. */
    m = vote_req(RAFT_MSG_PREVOTE, 3, 1, 0, 0, 0);
    fx_step(fx, &m);
    v = last_ev(fx, 1, RAFT_EV_VOTE);
    cr_assert_not(v->ev.granted);
    cr_assert_eq(v->ev.reason, RAFT_R_STALE_TERM);
    fx_free(fx);
}

/* ------------------------------------------------------------------ */
/* Whole elections */

Test(election, three_nodes_elect_exactly_one_leader_with_majority_votes)
{
    struct fx *fx = fx_new(3, NULL);
    fx_run(fx, MS(2000));
    cr_assert_eq(fx_n_leaders(fx), 1);
    int l = fx_leader(fx);
    uint64_t term = raft_term(fx->node[l]);
    int n_leader_events = 0;
    const struct fx_ev *won = NULL;
    for (int i = 1; i <= 3; i++) {
        size_t pos = 0;
        const struct fx_ev *e;
        while ((e = fx_next(fx, i, RAFT_EV_ROLE, &pos)))
            if (e->ev.role == RAFT_LEADER) {
                n_leader_events++;
                won = e;
            }
        cr_assert_eq(raft_term(fx->node[i]), term);
        cr_assert_eq(raft_leader(fx->node[i]), l);
        cr_assert_eq(raft_commit_lsn(fx->node[i]), 1, "the no-op commits");
    }
    cr_assert_eq(n_leader_events, 1, "exactly one leader event");
    cr_assert_eq(won->ev.node, l);
    cr_assert_eq(won->ev.term, term);
    cr_assert_eq(won->ev.reason, RAFT_R_WON_ELECTION);
    cr_assert_eq(won->ev.quorum, 2);
    cr_assert_geq(raft_nodeset_count(&won->ev.votes), 2);
    cr_assert(raft_nodeset_has(&won->ev.votes, l));
    /* Every vote counted was granted by that voter in that term. */
    for (int i = 1; i <= 3; i++) {
        if (i == l || !raft_nodeset_has(&won->ev.votes, i))
            continue;
        size_t pos = 0;
        const struct fx_ev *e;
        bool found = false;
        while ((e = fx_next(fx, i, RAFT_EV_VOTE, &pos)))
            found |= !e->ev.prevote && e->ev.granted && e->ev.peer == l &&
                     e->ev.term == term;
        cr_assert(found, "node %d is in votes but never voted for %d", i, l);
    }
    fx_free(fx);
}

/* Isolate a follower for ~10 election timeouts, then heal. */
static void partition_follower(struct fx *fx, int *leader, int *follower,
                               uint64_t *term0, size_t *mark)
{
    fx_run(fx, MS(1000));
    cr_assert_eq(fx_n_leaders(fx), 1);
    *leader = fx_leader(fx);
    *follower = *leader == 3 ? 2 : 3;
    *term0 = raft_term(fx->node[*leader]);
    mark_all(fx, mark);
    fx_isolate(fx, *follower);
    fx_run(fx, fx->now + MS(3000));
    cr_assert_geq(fx_count(fx, *follower, RAFT_EV_ROLE, mark[*follower]), 5,
                  "the isolated follower kept timing out");
}

Test(election, prevote_stops_partitioned_follower_from_deposing_leader)
{
    struct fx *fx = fx_new(3, NULL); /* prevote + checkquorum */
    int l, f;
    uint64_t term0;
    size_t mark[FX_MAX + 1];
    partition_follower(fx, &l, &f, &term0, mark);
    cr_assert_eq(raft_term(fx->node[f]), term0, "no term inflation");
    cr_assert_eq(fx_leader(fx), l);

    fx_heal(fx);
    fx_run(fx, fx->now + MS(2000));
    cr_assert_eq(fx_n_leaders(fx), 1);
    cr_assert_eq(fx_leader(fx), l, "the healthy leader stays");
    for (int i = 1; i <= 3; i++) {
        cr_assert_eq(raft_term(fx->node[i]), term0);
        cr_assert_eq(raft_leader(fx->node[i]), l);
    }
    cr_assert_null(role_ev(fx, l, mark[l], RAFT_FOLLOWER, -1),
                   "the leader never stepped down");
    fx_free(fx);
}

Test(election, without_prevote_partitioned_follower_bumps_term_and_deposes)
{
    struct fx *fx = plain_cluster(3); /* prevote and checkquorum off */
    int l, f;
    uint64_t term0;
    size_t mark[FX_MAX + 1];
    partition_follower(fx, &l, &f, &term0, mark);
    cr_assert_gt(raft_term(fx->node[f]), term0 + 5, "term inflated");
    cr_assert_eq(fx_leader(fx), l, "leader fine until the heal");

    fx_heal(fx);
    fx_run(fx, fx->now + MS(2000));
    const struct fx_ev *down =
        role_ev(fx, l, mark[l], RAFT_FOLLOWER, RAFT_R_HIGHER_TERM);
    cr_assert_not_null(down, "the old leader was deposed");
    cr_assert_gt(down->ev.term, term0);
    cr_assert_gt(raft_term(fx->node[l]), term0 + 5);
    cr_assert_eq(fx_n_leaders(fx), 1);
    cr_assert_gt(raft_term(fx->node[fx_leader(fx)]), term0 + 5);
    fx_free(fx);
}

static void leader_cut_off(bool checkquorum)
{
    struct raft_config base;
    raft_config_default(&base, 1, 3);
    base.checkquorum = checkquorum;
    struct fx *fx = fx_new(3, &base);
    fx_run(fx, MS(1000));
    int l = fx_leader(fx);
    cr_assert_neq(l, 0);
    uint64_t term0 = raft_term(fx->node[l]);
    size_t mark = fx_mark(fx, l);
    raft_time_t t0 = fx->now;
    fx_isolate(fx, l);
    fx_run(fx, t0 + MS(2000));
    const struct fx_ev *e = role_ev(fx, l, mark, RAFT_FOLLOWER, -1);
    if (!checkquorum) {
        cr_assert_null(e, "without CheckQuorum the leader never steps down");
        cr_assert_eq(raft_role(fx->node[l]), RAFT_LEADER);
        cr_assert_eq(raft_term(fx->node[l]), term0);
        fx_free(fx);
        return;
    }
    cr_assert_not_null(e);
    cr_assert_eq(e->ev.reason, RAFT_R_CHECK_QUORUM);
    cr_assert_eq(e->ev.term, term0, "stepping down keeps the term");
    cr_assert_gt(e->at, t0);
    cr_assert_leq(e->at - t0, base.election_max_us,
                  "stepped down %llu us after isolation",
                  (unsigned long long)(e->at - t0));
    cr_assert_neq(raft_role(fx->node[l]), RAFT_LEADER);
    fx_free(fx);
}

Test(election, checkquorum_steps_down_leader_cut_off_from_majority)
{
    leader_cut_off(true);
}

Test(election, without_checkquorum_cut_off_leader_stays_leader)
{
    leader_cut_off(false);
}

/* ------------------------------------------------------------------ */
/* The highest-lsn policy */

/* 5 nodes, n1 leader; then n2 has lsn 10, n3 9, n4 and n5 8; n1 crashes.
 * n3 has the smallest election timeout, so it times out first. */
static struct fx *uneven_logs(enum raft_election_policy policy, size_t *mark)
{
    struct raft_config base;
    raft_config_default(&base, 1, 5);
    base.policy = policy;
    struct fx *fx = fx_alloc(5, &base);
    for (int i = 1; i <= 5; i++)
        fx_set_election(fx, i, MS(300), MS(500));
    fx_set_election(fx, 3, MS(300), MS(300));
    fx_start(fx);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx); /* the no-op, lsn 1 */
    char k[16];
    for (int i = 2; i <= 10; i++) {
        if (i == 9) {
            fx_cut(fx, 1, 4);
            fx_cut(fx, 1, 5);
        } else if (i == 10) {
            fx_cut(fx, 1, 3);
        }
        snprintf(k, sizeof(k), "k%d", i);
        cr_assert_eq(fx_propose(fx, 1, k, "v"), (uint64_t)i);
        fx_deliver_all(fx);
    }
    const uint64_t want[] = {0, 10, 10, 9, 8, 8};
    for (int i = 1; i <= 5; i++)
        cr_assert_eq(wal_last_lsn(raft_wal(fx->node[i])), want[i],
                     "node %d", i);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 9);
    fx_crash(fx, 1, false);
    fx_heal(fx);
    mark_all(fx, mark);
    return fx;
}

static void assert_n3_times_out_first(const struct fx *fx, const size_t *mark)
{
    const struct fx_ev *pre = first_role(fx, mark, RAFT_PRECANDIDATE);
    cr_assert_not_null(pre);
    cr_assert_eq(pre->ev.node, 3, "precondition: n3 times out first");
}

Test(election, raft_policy_less_up_to_date_follower_wins_after_leader_crash)
{
    size_t mark[FX_MAX + 1];
    struct fx *fx = uneven_logs(RAFT_ELECT_RAFT, mark);
    fx_run(fx, fx->now + MS(2000));
    assert_n3_times_out_first(fx, mark);
    cr_assert_eq(fx_leader(fx), 3);
    cr_assert_eq(fx_n_leaders(fx), 1);
    const struct fx_ev *won = role_ev(fx, 3, mark[3], RAFT_LEADER, -1);
    cr_assert_not_null(won);
    cr_assert_eq(won->ev.term, 2);
    cr_assert(raft_nodeset_has(&won->ev.votes, 3));
    cr_assert(raft_nodeset_has(&won->ev.votes, 4));
    cr_assert(raft_nodeset_has(&won->ev.votes, 5));
    cr_assert_not(raft_nodeset_has(&won->ev.votes, 2));
    cr_assert_eq(fx_count(fx, 3, RAFT_EV_DEFER, mark[3]), 0);
    /* n2 refused (its log is ahead) and lost its uncommitted lsn 10. */
    size_t pos = mark[2];
    const struct fx_ev *e, *refusal = NULL;
    while ((e = fx_next(fx, 2, RAFT_EV_VOTE, &pos)))
        if (e->ev.peer == 3 && !e->ev.granted)
            refusal = e;
    cr_assert_not_null(refusal);
    cr_assert_eq(refusal->ev.reason, RAFT_R_LOG_BEHIND);
    pos = mark[2];
    e = fx_next(fx, 2, RAFT_EV_DISCARD, &pos);
    cr_assert_not_null(e);
    cr_assert_eq(e->ev.lsn, 10);
    cr_assert_str_eq(e->key, "k10");
    cr_assert(fx_logs_equal(fx, 2, 3));
    fx_free(fx);
}

Test(election, highest_lsn_follower_wins_after_leader_crash)
{
    size_t mark[FX_MAX + 1];
    struct fx *fx = uneven_logs(RAFT_ELECT_HIGHEST_LSN, mark);
    fx_run(fx, fx->now + MS(2000));
    assert_n3_times_out_first(fx, mark);
    size_t pos = mark[3];
    const struct fx_ev *d = fx_next(fx, 3, RAFT_EV_DEFER, &pos);
    cr_assert_not_null(d, "n3 defers");
    cr_assert_eq(d->ev.peer, 2);
    cr_assert_eq(d->ev.lsn, 10);
    cr_assert_eq(d->ev.entry_term, 1);
    cr_assert_gt(d->ev.until_us, d->at);
    cr_assert_not_null(role_ev(fx, 3, mark[3], RAFT_FOLLOWER,
                               RAFT_R_DEFERRED));
    cr_assert_null(role_ev(fx, 3, mark[3], RAFT_LEADER, -1));
    cr_assert_eq(fx_leader(fx), 2);
    cr_assert_eq(fx_n_leaders(fx), 1);
    cr_assert_eq(raft_term(fx->node[2]), 2);
    cr_assert_str_eq(fx_key_at(fx, 2, 10), "k10", "nothing lost");
    for (int i = 2; i <= 5; i++) {
        cr_assert_eq(fx_count(fx, i, RAFT_EV_DISCARD, mark[i]), 0);
        cr_assert(fx_logs_equal(fx, 2, i), "n%d caught up", i);
    }
    fx_free(fx);
}

Test(election, highest_lsn_deferral_is_bounded_when_the_better_peer_vanishes)
{
    size_t mark[FX_MAX + 1];
    struct fx *fx = uneven_logs(RAFT_ELECT_HIGHEST_LSN, mark);
    raft_time_t t0 = fx->now;
    fx_run(fx, t0 + MS(300)); /* n3's timeout: pre-vote, n2 says "10" */
    size_t pos = mark[3];
    const struct fx_ev *d = fx_next(fx, 3, RAFT_EV_DEFER, &pos);
    cr_assert_not_null(d);
    cr_assert_eq(d->ev.peer, 2);
    raft_time_t until = d->ev.until_us;
    fx_isolate(fx, 2); /* right after the deferral n2 is gone */
    fx_run(fx, t0 + MS(3000));
    cr_assert_eq(fx_leader(fx), 3, "only n3 has the longest reachable log");
    const struct fx_ev *pre =
        role_ev(fx, 3, mark[3], RAFT_PRECANDIDATE, RAFT_R_DEFER_EXPIRED);
    cr_assert_not_null(pre, "n3 campaigns anyway once the deferral expires");
    cr_assert_eq(pre->at, until);
    const struct fx_ev *won = role_ev(fx, 3, mark[3], RAFT_LEADER, -1);
    cr_assert_not_null(won);
    cr_assert_leq(won->at, until + MS(500), "bounded: one more timeout");
    cr_assert_eq(won->ev.term, 2, "PreVote kept terms from inflating");
    cr_assert_eq(raft_term(fx->node[2]), 1);
    fx_free(fx);
}

/* Only the deferral that expired carries reason defer-expired: a node
 * that deferred once and then stays cut off times out again and again,
 * and those later rounds are plain election timeouts (issue 14: the
 * narration said "waited for a more up-to-date peer" about 20 times). */
Test(election, only_the_expiring_deferral_is_reason_defer_expired)
{
    size_t mark[FX_MAX + 1];
    struct fx *fx = uneven_logs(RAFT_ELECT_HIGHEST_LSN, mark);
    raft_time_t t0 = fx->now;
    fx_run(fx, t0 + MS(300));
    size_t pos = mark[3];
    cr_assert_not_null(fx_next(fx, 3, RAFT_EV_DEFER, &pos), "n3 defers");
    fx_isolate(fx, 3); /* n3 never hears a leader again */
    fx_run(fx, t0 + MS(5000));
    int expired = 0, timeouts = 0;
    pos = mark[3];
    const struct fx_ev *e;
    while ((e = fx_next(fx, 3, RAFT_EV_ROLE, &pos)))
        if (e->ev.role == RAFT_PRECANDIDATE) {
            expired += e->ev.reason == RAFT_R_DEFER_EXPIRED;
            timeouts += e->ev.reason == RAFT_R_ELECTION_TIMEOUT;
        }
    cr_assert_eq(expired, 1, "one deferral, one expiry (got %d)", expired);
    cr_assert_geq(timeouts, 3, "later rounds are election timeouts (got %d)",
                  timeouts);
    fx_free(fx);
}

Test(election, highest_lsn_deferral_to_peer_cut_from_deferrer_still_elects)
{
    size_t mark[FX_MAX + 1];
    struct fx *fx = uneven_logs(RAFT_ELECT_HIGHEST_LSN, mark);
    raft_time_t t0 = fx->now;
    fx_run(fx, t0 + MS(300));
    size_t pos = mark[3];
    cr_assert_not_null(fx_next(fx, 3, RAFT_EV_DEFER, &pos));
    fx_cut_pair(fx, 2, 3); /* only the n2 <-> n3 link fails */
    fx_run(fx, t0 + MS(3000));
    cr_assert_eq(fx_n_leaders(fx), 1);
    int l = fx_leader(fx);
    cr_assert_eq(l, 2, "n2 still reaches a majority (n2, n4, n5)");
    const struct fx_ev *won = role_ev(fx, l, mark[l], RAFT_LEADER, -1);
    cr_assert_not_null(won);
    cr_assert_leq(won->at, t0 + MS(500), "within n2's election timeout");
    cr_assert_eq(raft_term(fx->node[2]), 2);
    cr_assert_eq(raft_term(fx->node[3]), 2, "n3 keeps probing, no inflation");
    fx_free(fx);
}

/* A nofailover voter (a witness) votes but never campaigns: with the only
 * other candidate-capable nodes down it stays a follower forever, and a
 * leader is always one of the others. */
Test(election, a_nofailover_voter_never_campaigns)
{
    struct fx *fx = fx_alloc(3, NULL);
    fx->cfg[3].nofailover = true;
    fx_set_election(fx, 3, MS(20), MS(25)); /* it would time out first */
    fx_start(fx);
    fx_run(fx, MS(2000));
    int l = fx_leader(fx);
    cr_assert(l == 1 || l == 2, "leader %d", l);
    cr_assert_eq(fx_count(fx, 3, RAFT_EV_VOTE, 0) >= 1, true,
                 "the witness votes");
    fx_crash(fx, l, false);
    fx_run(fx, MS(4000));
    int m = fx_leader(fx);
    cr_assert(m != 3 && m != 0 && m != l, "new leader %d", m);
    fx_crash(fx, m, false);
    size_t mark = fx_mark(fx, 3);
    fx_run(fx, MS(8000));
    cr_assert_eq(fx_leader(fx), 0);
    cr_assert_eq(raft_role(fx->node[3]), RAFT_FOLLOWER);
    size_t pos = mark;
    const struct fx_ev *e;
    while ((e = fx_next(fx, 3, RAFT_EV_ROLE, &pos)))
        cr_assert_eq(e->ev.role, RAFT_FOLLOWER, "the witness never stands");
    fx_free(fx);
}

/* highest-lsn's gathering window: n3 (lsn 9) wins its pre-vote majority
 * from n4 and n5 (lsn 8) before n2 (lsn 10) has answered.  It must not
 * campaign at once: n2's refusal, arriving within the window, makes it
 * defer, and the most up-to-date node is elected.  (Plain "campaign on a
 * majority" would already be a candidate here and ignore n2's reply.) */
Test(election, highest_lsn_waits_for_a_late_reply_from_a_better_peer)
{
    size_t mark[FX_MAX + 1];
    struct fx *fx = uneven_logs(RAFT_ELECT_HIGHEST_LSN, mark);
    fx_cut(fx, 3, 2); /* n2 never sees n3's request: its answer is ours */
    fx_tick(fx, 3, raft_next_deadline(fx->node[3]));
    cr_assert_eq(raft_role(fx->node[3]), RAFT_PRECANDIDATE);
    fx_deliver_all(fx); /* n4 and n5 grant: a majority with n3 itself */
    cr_assert_eq(raft_role(fx->node[3]), RAFT_PRECANDIDATE,
                 "a majority of pre-votes, but the window is still open");
    cr_assert_gt(raft_next_deadline(fx->node[3]), fx->now);
    struct raft_msg late = {.type = RAFT_MSG_PREVOTE_RESP, .from = 2, .to = 3,
                            .term = 1, .granted = false, .last_term = 1,
                            .last_lsn = 10};
    fx_step(fx, &late);
    size_t pos = mark[3];
    const struct fx_ev *d = fx_next(fx, 3, RAFT_EV_DEFER, &pos);
    cr_assert_not_null(d, "n3 defers to n2 on the late reply");
    cr_assert_eq(d->ev.peer, 2);
    cr_assert_eq(d->ev.lsn, 10);
    fx_heal(fx);
    fx_run(fx, fx->now + MS(3000));
    cr_assert_eq(fx_leader(fx), 2, "the most up-to-date node leads");
    cr_assert_null(role_ev(fx, 3, mark[3], RAFT_CANDIDATE, -1),
                   "n3 never ran a real election");
    fx_free(fx);
}
