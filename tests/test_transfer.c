/*
 * test_transfer.c — leadership transfer (thesis §3.10, etcd's
 * TimeoutNow): to an up-to-date follower, to a lagging one, to a dead or
 * cut-off one (abandoned), proposals refused meanwhile, invalid targets,
 * the vote requests' transfer flag and the TimeoutNow checks, driven
 * through tests/fixture.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/fixture.h"

/* Deliver exactly the messages queued now: one one-way hop. */
static void hop(struct fx *fx)
{
    for (size_t k = fx->q_len; k > 0 && fx_deliver_one(fx); k--)
        ;
}

static bool queued(const struct fx *fx, int type, int to)
{
    for (size_t i = 0; i < fx->q_len; i++) {
        const struct raft_msg *m = &fx->q[(fx->q_head + i) % fx->q_cap];
        if (m->type == type && m->to == to)
            return true;
    }
    return false;
}

static const struct fx_ev *transfer_ev(const struct fx *fx, int id,
                                       size_t since, int reason)
{
    const struct fx_ev *e;
    while ((e = fx_next(fx, id, RAFT_EV_TRANSFER, &since)))
        if (e->ev.reason == reason)
            return e;
    return NULL;
}

static const struct fx_ev *role_ev(const struct fx *fx, int id, size_t since,
                                   int role)
{
    const struct fx_ev *e;
    while ((e = fx_next(fx, id, RAFT_EV_ROLE, &since)))
        if (e->ev.role == role)
            return e;
    return NULL;
}

/* Three nodes, n1 leads with two committed writes everyone has. */
static struct fx *three_with_leader(void)
{
    struct fx *fx = fx_new(3, NULL);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx);
    cr_assert_neq(fx_propose(fx, 1, "a", "1"), 0);
    cr_assert_neq(fx_propose(fx, 1, "b", "2"), 0);
    fx_deliver_all(fx);
    fx_tick_all(fx, fx->now + MS(50)); /* a heartbeat carries the commit */
    fx_deliver_all(fx);
    for (int i = 1; i <= 3; i++)
        cr_assert_eq(raft_commit_lsn(fx->node[i]), 3, "n%d commit", i);
    return fx;
}

Test(transfer, up_to_date_target_leads_next_term_in_three_hops)
{
    struct fx *fx = three_with_leader();
    uint64_t term = raft_term(fx->node[1]);
    raft_time_t t0 = fx->now;
    size_t m1 = fx_mark(fx, 1), m2 = fx_mark(fx, 2), m3 = fx_mark(fx, 3);
    cr_assert_eq(raft_transfer_leadership(fx->node[1], fx->now, 3), RAFT_OK);
    fx_pump(fx, 1);
    cr_assert_eq(raft_transfer_target(fx->node[1]), 3);
    cr_assert(queued(fx, RAFT_MSG_TIMEOUT_NOW, 3),
              "n3 is up to date: TimeoutNow goes at once");
    const struct fx_ev *st = transfer_ev(fx, 1, m1, RAFT_R_TRANSFER);
    cr_assert_not_null(st);
    cr_assert_eq(st->ev.peer, 3);
    cr_assert_eq(st->ev.lsn, 3);
    cr_assert_eq(st->ev.cand_lsn, 3, "n3's match");
    cr_assert_eq(st->ev.until_us, t0 + fx->cfg[1].election_min_us);
    const struct fx_ev *sent = transfer_ev(fx, 1, m1, RAFT_R_TIMEOUT_NOW);
    cr_assert_not_null(sent);
    cr_assert_eq(sent->ev.peer, 3);

    hop(fx); /* TimeoutNow -> n3: campaigns, no pre-vote */
    const struct fx_ev *cand = role_ev(fx, 3, m3, RAFT_CANDIDATE);
    cr_assert_not_null(cand);
    cr_assert_eq(cand->ev.reason, RAFT_R_TIMEOUT_NOW);
    cr_assert_eq(cand->ev.peer, 1);
    cr_assert_eq(cand->ev.term, term + 1);
    cr_assert_null(role_ev(fx, 3, m3, RAFT_PRECANDIDATE), "no pre-vote");
    hop(fx); /* vote requests (transfer flag) -> n1, n2 */
    hop(fx); /* replies -> n3 */
    cr_assert_eq(raft_role(fx->node[3]), RAFT_LEADER);
    cr_assert_eq(raft_term(fx->node[3]), term + 1);
    cr_assert_eq(fx->now, t0, "no timer was needed: message hops only");
    /* n2 still heard n1 just now, yet granted: the transfer flag. */
    const struct fx_ev *e;
    bool n2_granted = false;
    size_t pos = m2;
    while ((e = fx_next(fx, 2, RAFT_EV_VOTE, &pos)))
        n2_granted |= e->ev.granted && e->ev.peer == 3 && !e->ev.prevote;
    cr_assert(n2_granted || raft_voted_for(fx->node[1]) == 3,
              "a voter besides n3 granted");
    /* n1 stepped down on n3's request and no longer claims a transfer. */
    cr_assert_eq(raft_role(fx->node[1]), RAFT_FOLLOWER);
    cr_assert_eq(raft_transfer_target(fx->node[1]), RAFT_NONE);
    cr_assert_null(transfer_ev(fx, 1, m1, RAFT_R_TRANSFER_TIMEOUT));
    /* ... and the new leader commits a write. */
    fx_deliver_all(fx);
    uint64_t lsn = fx_propose(fx, 3, "c", "3");
    cr_assert_neq(lsn, 0);
    fx_deliver_all(fx);
    cr_assert_geq(raft_commit_lsn(fx->node[3]), lsn);
    fx_free(fx);
}

Test(transfer, lagging_target_is_caught_up_before_timeout_now)
{
    struct fx *fx = three_with_leader();
    fx_crash(fx, 3, false);
    for (int i = 0; i < 5; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        cr_assert_neq(fx_propose(fx, 1, k, "v"), 0);
    }
    fx_deliver_all(fx);
    fx_restart(fx, 3);
    uint64_t last = wal_last_lsn(raft_wal(fx->node[1]));
    cr_assert_eq(last, 8);
    cr_assert_lt(wal_last_lsn(raft_wal(fx->node[3])), last, "n3 lags");
    size_t m1 = fx_mark(fx, 1), m3 = fx_mark(fx, 3);
    cr_assert_eq(raft_transfer_leadership(fx->node[1], fx->now, 3), RAFT_OK);
    fx_pump(fx, 1);
    cr_assert(!queued(fx, RAFT_MSG_TIMEOUT_NOW, 3), "not before it matches");
    cr_assert_null(transfer_ev(fx, 1, m1, RAFT_R_TIMEOUT_NOW));
    fx_run(fx, fx->now + MS(120)); /* within the 150 ms deadline */
    cr_assert_eq(fx_leader(fx), 3);
    const struct fx_ev *sent = transfer_ev(fx, 1, m1, RAFT_R_TIMEOUT_NOW);
    cr_assert_not_null(sent, "TimeoutNow once n3 matched");
    cr_assert_eq(sent->ev.cand_lsn, last, "sent when match = last lsn");
    /* n3 appended everything before it campaigned. */
    const struct fx_ev *cand = role_ev(fx, 3, m3, RAFT_CANDIDATE);
    cr_assert_not_null(cand);
    cr_assert_eq(cand->ev.reason, RAFT_R_TIMEOUT_NOW);
    size_t pos = m3;
    const struct fx_ev *e, *last_append = NULL;
    while ((e = fx_next(fx, 3, RAFT_EV_APPEND, &pos)))
        if (e->ev.lsn == last)
            last_append = e;
    cr_assert_not_null(last_append);
    cr_assert(last_append < cand, "lsn %llu appended before campaigning",
              (unsigned long long)last);
    cr_assert_null(transfer_ev(fx, 1, m1, RAFT_R_TRANSFER_TIMEOUT));
    fx_free(fx);
}

/* Target dead or cut off: refused writes meanwhile, abandoned after an
 * election timeout, the old leader accepts and commits writes again. */
static void unreachable_target(bool crash)
{
    struct fx *fx = three_with_leader();
    if (crash)
        fx_crash(fx, 3, false);
    else
        fx_isolate(fx, 3);
    uint64_t term = raft_term(fx->node[1]);
    raft_time_t t0 = fx->now;
    size_t m1 = fx_mark(fx, 1);
    cr_assert_eq(raft_transfer_leadership(fx->node[1], fx->now, 3), RAFT_OK);
    fx_pump(fx, 1);
    uint64_t lsn = 99;
    cr_assert_eq(raft_propose(fx->node[1], fx->now, "x", 1, "1", 1, &lsn),
                 RAFT_ETRANSFER, "writes refused during the transfer");
    cr_assert_eq(lsn, 99, "nothing appended");
    cr_assert_eq(raft_transfer_leadership(fx->node[1], fx->now, 3), RAFT_OK,
                 "asking again is a no-op");
    fx_run(fx, t0 + MS(100));
    cr_assert_eq(fx_propose(fx, 1, "x", "1"), 0, "still refused at 100 ms");
    cr_assert_eq(raft_transfer_target(fx->node[1]), 3);
    cr_assert_leq(raft_next_deadline(fx->node[1]),
                  t0 + fx->cfg[1].election_min_us);
    fx_run(fx, t0 + MS(160));
    const struct fx_ev *ab = transfer_ev(fx, 1, m1, RAFT_R_TRANSFER_TIMEOUT);
    cr_assert_not_null(ab, "abandoned");
    cr_assert_eq(ab->at, t0 + fx->cfg[1].election_min_us,
                 "after one election timeout exactly");
    cr_assert_eq(ab->ev.peer, 3);
    /* n3 matched before it went away, so TimeoutNow went out: lost. */
    cr_assert_not_null(transfer_ev(fx, 1, m1, RAFT_R_TIMEOUT_NOW));
    cr_assert_eq(raft_role(fx->node[1]), RAFT_LEADER);
    cr_assert_eq(raft_term(fx->node[1]), term, "no election happened");
    cr_assert_eq(raft_transfer_target(fx->node[1]), RAFT_NONE);
    lsn = fx_propose(fx, 1, "x", "1");
    cr_assert_neq(lsn, 0, "writes accepted again");
    fx_deliver_all(fx);
    cr_assert_geq(raft_commit_lsn(fx->node[1]), lsn, "and committed (n2)");
    fx_free(fx);
}

Test(transfer, crashed_target_is_abandoned_and_leader_resumes)
{
    unreachable_target(true);
}

Test(transfer, partitioned_target_is_abandoned_and_leader_resumes)
{
    unreachable_target(false);
}

Test(transfer, invalid_targets_and_callers)
{
    struct fx *fx = three_with_leader();
    struct raft_node *l = fx->node[1];
    cr_assert_eq(raft_transfer_leadership(l, fx->now, 1), RAFT_EINVAL);
    cr_assert_eq(raft_transfer_leadership(l, fx->now, 0), RAFT_EINVAL);
    cr_assert_eq(raft_transfer_leadership(l, fx->now, 4), RAFT_EINVAL,
                 "not a voter");
    cr_assert_eq(raft_transfer_leadership(l, fx->now, -1), RAFT_EINVAL);
    cr_assert_eq(raft_transfer_leadership(fx->node[2], fx->now, 3),
                 RAFT_ENOTLEADER);
    cr_assert_eq(raft_transfer_target(l), RAFT_NONE, "nothing started");
    cr_assert_neq(fx_propose(fx, 1, "y", "1"), 0, "writes still accepted");
    fx_crash(fx, 2, false);
    cr_assert_eq(raft_transfer_leadership(fx->node[2], fx->now, 3),
                 RAFT_EDOWN);
    fx_free(fx);
}

Test(transfer, a_second_target_replaces_the_first)
{
    struct fx *fx = three_with_leader();
    fx_isolate(fx, 3);
    size_t m1 = fx_mark(fx, 1);
    cr_assert_eq(raft_transfer_leadership(fx->node[1], fx->now, 3), RAFT_OK);
    fx_pump(fx, 1);
    fx_deliver_all(fx);
    cr_assert_eq(raft_transfer_leadership(fx->node[1], fx->now, 2), RAFT_OK);
    fx_pump(fx, 1);
    cr_assert_eq(raft_transfer_target(fx->node[1]), 2);
    fx_deliver_all(fx);
    cr_assert_eq(fx_leader(fx), 2);
    cr_assert_not_null(transfer_ev(fx, 1, m1, RAFT_R_TIMEOUT_NOW));
    fx_free(fx);
}

/* The flag is what lets the transfer through leader stickiness. */
Test(transfer, vote_flag_overrides_leader_alive)
{
    struct fx *fx = three_with_leader();
    uint64_t term = raft_term(fx->node[1]);
    struct raft_msg v;
    memset(&v, 0, sizeof(v));
    v.type = RAFT_MSG_VOTE;
    v.from = 3;
    v.to = 2;
    v.term = term + 1;
    v.last_term = term;
    v.last_lsn = 3;
    size_t m2 = fx_mark(fx, 2);
    fx_step(fx, &v);
    const struct fx_ev *e = fx_next(fx, 2, RAFT_EV_VOTE, &m2);
    cr_assert_not_null(e);
    cr_assert(!e->ev.granted);
    cr_assert_eq(e->ev.reason, RAFT_R_LEADER_ALIVE);
    cr_assert_eq(raft_term(fx->node[2]), term, "term not adopted");
    v.transfer = true;
    fx_step(fx, &v);
    e = fx_next(fx, 2, RAFT_EV_VOTE, &m2);
    cr_assert_not_null(e);
    cr_assert(e->ev.granted);
    cr_assert_eq(raft_term(fx->node[2]), term + 1);
    cr_assert_eq(raft_voted_for(fx->node[2]), 3);
    fx_free(fx);
}

Test(transfer, timeout_now_is_checked)
{
    struct fx *fx = three_with_leader();
    uint64_t term = raft_term(fx->node[1]);
    struct raft_msg t;
    memset(&t, 0, sizeof(t));
    t.type = RAFT_MSG_TIMEOUT_NOW;
    t.to = 3;
    /* From n2, which does not lead term `term`: rejected. */
    t.from = 2;
    t.term = term;
    size_t m3 = fx_mark(fx, 3);
    fx_step(fx, &t);
    const struct fx_ev *e = fx_next(fx, 3, RAFT_EV_REJECT, &m3);
    cr_assert_not_null(e);
    cr_assert_eq(e->ev.reason, RAFT_R_NOT_LEADER);
    cr_assert_eq(e->ev.msg_type, RAFT_MSG_TIMEOUT_NOW);
    cr_assert_eq(raft_role(fx->node[3]), RAFT_FOLLOWER);
    /* Term 0: rejected. */
    t.from = 1;
    t.term = 0;
    fx_step(fx, &t);
    e = fx_next(fx, 3, RAFT_EV_REJECT, &m3);
    cr_assert_not_null(e);
    cr_assert_eq(e->ev.reason, RAFT_R_TERM_RANGE);
    /* An old term's copy (a duplicate after the transfer): ignored. */
    t.term = term - 1;
    fx_step(fx, &t);
    cr_assert_eq(raft_role(fx->node[3]), RAFT_FOLLOWER);
    cr_assert_eq(raft_term(fx->node[3]), term);
    /* A leader is never told to time out by a peer of its own term. */
    t.to = 1;
    t.from = 3;
    t.term = term;
    size_t m1 = fx_mark(fx, 1);
    fx_step(fx, &t);
    e = fx_next(fx, 1, RAFT_EV_REJECT, &m1);
    cr_assert_not_null(e);
    cr_assert_eq(raft_role(fx->node[1]), RAFT_LEADER);
    /* The real one, from the leader: campaigns. */
    t.to = 3;
    t.from = 1;
    fx_step(fx, &t);
    cr_assert_eq(raft_role(fx->node[3]), RAFT_CANDIDATE);
    fx_free(fx);
}

Test(transfer, a_witness_target_never_stands)
{
    struct raft_config base;
    raft_config_default(&base, 1, 3);
    struct fx *fx = fx_alloc(3, &base);
    fx->cfg[3].nofailover = true;
    fx_start(fx);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx);
    size_t m1 = fx_mark(fx, 1);
    raft_time_t t0 = fx->now;
    cr_assert_eq(raft_transfer_leadership(fx->node[1], fx->now, 3), RAFT_OK);
    fx_pump(fx, 1);
    fx_run(fx, t0 + MS(200));
    cr_assert_eq(fx_leader(fx), 1);
    cr_assert_not_null(transfer_ev(fx, 1, m1, RAFT_R_TRANSFER_TIMEOUT));
    fx_free(fx);
}

Test(transfer, names_are_stable)
{
    cr_assert_str_eq(raft_event_kind_name(RAFT_EV_TRANSFER), "transfer");
    cr_assert_str_eq(raft_msg_type_name(RAFT_MSG_TIMEOUT_NOW), "timeout-now");
    cr_assert_str_eq(raft_reason_name(RAFT_R_TRANSFER), "transfer");
    cr_assert_str_eq(raft_reason_name(RAFT_R_TIMEOUT_NOW), "timeout-now");
    cr_assert_str_eq(raft_reason_name(RAFT_R_TRANSFER_TIMEOUT),
                     "transfer-timeout");
    cr_assert_str_eq(raft_reason_name(RAFT_R_NOT_LEADER), "not-leader");
}
