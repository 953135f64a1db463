/*
 * test_membership.c — membership changes in the core (Raft thesis §4.1,
 * raft/membership.c): servers outside the configuration take no part;
 * learners get the log but count in no majority; one change at a time,
 * and only after the leader committed an entry of its own term (Ongaro's
 * 2015 note); the latest configuration in the log is in force, and is
 * reverted when its entry is truncated; a leader that removed itself
 * steps down once that commits; a snapshot carries its configuration;
 * the entry's text and its parser.  Driven through tests/fixture.h.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/fixture.h"

static raft_nodeset set_of(int a, int b, int c, int d)
{
    raft_nodeset s = {0};
    int v[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++)
        if (v[i])
            raft_nodeset_add(&s, v[i]);
    return s;
}

/* n nodes, voters 1..v, the rest exist outside the configuration. */
static struct fx *cluster(int n, int v)
{
    struct fx *fx = fx_alloc(n, NULL);
    for (int i = 1; i <= n; i++) {
        memset(&fx->cfg[i].members, 0, sizeof(fx->cfg[i].members));
        for (int k = 1; k <= v; k++)
            raft_nodeset_add(&fx->cfg[i].members.voters, k);
    }
    fx_start(fx);
    return fx;
}

static bool voter(struct fx *fx, int id, int who)
{
    return raft_nodeset_has(&raft_membership_get(fx->node[id], NULL)->voters,
                            who);
}

static bool learner(struct fx *fx, int id, int who)
{
    return raft_nodeset_has(
        &raft_membership_get(fx->node[id], NULL)->learners, who);
}

/* n1 leads with its no-op committed everywhere it reaches. */
static void lead(struct fx *fx)
{
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx);
    fx_tick_all(fx, fx->now + MS(50));
    fx_deliver_all(fx);
}

Test(membership, outsiders_take_no_part)
{
    struct fx *fx = cluster(5, 3);
    fx_run(fx, MS(2000));
    int l = fx_leader(fx);
    cr_assert(l >= 1 && l <= 3, "leader n%d", l);
    cr_assert_eq(raft_term(fx->node[4]), 0, "n4 never campaigned");
    cr_assert_eq(raft_term(fx->node[5]), 0);
    cr_assert_eq(wal_last_lsn(raft_wal(fx->node[4])), 0, "n4 got no log");
    /* 2 of the 3 voters commit */
    int other = l == 3 ? 2 : 3;
    fx_isolate(fx, other);
    uint64_t lsn = fx_propose(fx, l, "k", "v");
    fx_run(fx, fx->now + MS(200));
    cr_assert_geq(raft_commit_lsn(fx->node[l]), lsn);
    cr_assert_eq(raft_campaign_now(fx->node[4], fx->now), RAFT_EINVAL);
    fx_free(fx);
}

Test(membership, learner_gets_the_log_but_no_say)
{
    struct fx *fx = cluster(4, 3);
    lead(fx);
    uint64_t at;
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_LEARNER, 4, &at),
                 RAFT_OK);
    fx_run(fx, fx->now + MS(200));
    cr_assert_geq(raft_commit_lsn(fx->node[1]), at);
    cr_assert(learner(fx, 4, 4) && !voter(fx, 4, 4));
    cr_assert(fx_logs_equal(fx, 1, 4), "the learner has the log");
    /* n1 + learner n4 are not a majority of {1,2,3} */
    fx_cut_pair(fx, 1, 2);
    fx_cut_pair(fx, 1, 3);
    uint64_t w = fx_propose(fx, 1, "k", "v");
    fx_tick_all(fx, fx->now + MS(50));
    fx_deliver_all(fx);
    cr_assert_geq(wal_last_lsn(raft_wal(fx->node[4])), w);
    cr_assert_lt(raft_commit_lsn(fx->node[1]), w, "a learner's copy counts");
    /* a learner never campaigns, and cannot be a transfer target */
    cr_assert_eq(raft_campaign_now(fx->node[4], fx->now), RAFT_EINVAL);
    cr_assert_eq(raft_transfer_leadership(fx->node[1], fx->now, 4),
                 RAFT_EINVAL);
    fx_free(fx);
}

Test(membership, promote_then_quorum_of_four)
{
    struct fx *fx = cluster(4, 3);
    lead(fx);
    uint64_t at;
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now, RAFT_PROMOTE,
                                        4, &at),
                 RAFT_EINVAL, "n4 is no learner yet");
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_LEARNER, 4, &at),
                 RAFT_OK);
    fx_run(fx, fx->now + MS(200));
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now, RAFT_PROMOTE,
                                        4, &at),
                 RAFT_OK);
    cr_assert(voter(fx, 1, 4), "in force at once on the leader");
    fx_run(fx, fx->now + MS(200));
    cr_assert_geq(raft_commit_lsn(fx->node[1]), at);
    for (int i = 1; i <= 4; i++)
        cr_assert(voter(fx, i, 4), "n%d", i);
    /* {1,2,3,4}: n1 + n2 is no longer a majority */
    fx_cut_pair(fx, 1, 3);
    fx_cut_pair(fx, 1, 4);
    uint64_t w = fx_propose(fx, 1, "k", "v");
    fx_tick_all(fx, fx->now + MS(50));
    fx_deliver_all(fx);
    cr_assert_lt(raft_commit_lsn(fx->node[1]), w);
    fx_heal(fx);
    fx_tick_all(fx, fx->now + MS(50));
    fx_deliver_all(fx);
    cr_assert_geq(raft_commit_lsn(fx->node[1]), w);
    fx_free(fx);
}

/* Ongaro's 2015 note: no change before an entry of the leader's own term
 * is committed. */
Test(membership, own_term_commit_first)
{
    struct fx *fx = cluster(4, 3);
    cr_assert(fx_elect(fx, 1)); /* its no-op is not committed yet */
    uint64_t at;
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_VOTER, 4, &at),
                 RAFT_EBUSY);
    fx_deliver_all(fx);
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_VOTER, 4, &at),
                 RAFT_OK);
    fx_free(fx);
}

Test(membership, one_change_at_a_time)
{
    struct fx *fx = cluster(5, 3);
    lead(fx);
    uint64_t at;
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_VOTER, 4, &at),
                 RAFT_OK);
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_VOTER, 5, NULL),
                 RAFT_EBUSY, "the first is uncommitted");
    fx_run(fx, fx->now + MS(200));
    cr_assert_geq(raft_commit_lsn(fx->node[1]), at);
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_VOTER, 5, NULL),
                 RAFT_OK);
    /* two voters in one step is refused... */
    fx_run(fx, fx->now + MS(200));
    struct raft_membership two = {.voters = set_of(1, 2, 3, 0)};
    cr_assert_eq(raft_propose_membership(fx->node[1], fx->now, &two, NULL),
                 RAFT_EINVAL);
    /* ... bad requests too */
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_VOTER, 4, NULL),
                 RAFT_EINVAL, "already a voter");
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now, RAFT_REMOVE,
                                        9, NULL),
                 RAFT_EINVAL);
    cr_assert_eq(raft_change_membership(fx->node[2], fx->now, RAFT_REMOVE,
                                        4, NULL),
                 RAFT_ENOTLEADER);
    fx_free(fx);
}

Test(membership, two_at_once_only_when_unsafe)
{
    struct raft_config base;
    raft_config_default(&base, 1, 5);
    base.unsafe = RAFT_UNSAFE_CHANGE_TWO;
    struct fx *fx = fx_alloc(5, &base);
    for (int i = 1; i <= 5; i++)
        fx->cfg[i].members.voters = set_of(1, 2, 3, 0);
    fx_start(fx);
    lead(fx);
    struct raft_membership two = {.voters = set_of(1, 2, 3, 4)};
    raft_nodeset_add(&two.voters, 5);
    cr_assert_eq(raft_propose_membership(fx->node[1], fx->now, &two, NULL),
                 RAFT_OK);
    cr_assert(voter(fx, 1, 5));
    fx_free(fx);
}

/* The latest configuration in the log is in force, committed or not; its
 * entry truncated, the one before is in force again. */
Test(membership, reverts_when_the_entry_is_truncated)
{
    struct fx *fx = cluster(4, 3);
    lead(fx);
    fx_isolate(fx, 1);
    uint64_t at;
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_VOTER, 4, &at),
                 RAFT_OK);
    cr_assert(voter(fx, 1, 4), "uncommitted, yet in force");
    fx_deliver_all(fx); /* dropped: n1 is cut off */
    cr_assert(fx_elect(fx, 2));
    fx_deliver_all(fx);
    cr_assert_eq(raft_role(fx->node[2]), RAFT_LEADER);
    size_t mark = fx_mark(fx, 1);
    fx_heal(fx);
    fx_run(fx, fx->now + MS(200));
    cr_assert_neq(raft_role(fx->node[1]), RAFT_LEADER);
    cr_assert(!voter(fx, 1, 4), "back to {1,2,3}");
    uint64_t lsn;
    raft_membership_get(fx->node[1], &lsn);
    cr_assert_eq(lsn, 0);
    const struct fx_ev *e;
    bool reverted = false;
    while ((e = fx_next(fx, 1, RAFT_EV_CONFIG, &mark)))
        reverted |= e->ev.reason == RAFT_R_CONF_REVERT;
    cr_assert(reverted);
    fx_free(fx);
}

Test(membership, removed_leader_steps_down_after_commit)
{
    struct fx *fx = cluster(3, 3);
    lead(fx);
    fx_cut_pair(fx, 1, 3);
    uint64_t at;
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now, RAFT_REMOVE,
                                        1, &at),
                 RAFT_OK);
    fx_tick_all(fx, fx->now + MS(50));
    fx_deliver_all(fx);
    /* n1 and n2 hold it, but n1 does not count itself: {2,3} need both */
    cr_assert_lt(raft_commit_lsn(fx->node[1]), at);
    cr_assert_eq(raft_role(fx->node[1]), RAFT_LEADER, "leads until then");
    fx_heal(fx);
    fx_tick(fx, 1, fx->now + MS(50));
    fx_deliver_all(fx);
    cr_assert_geq(raft_commit_lsn(fx->node[1]), at);
    cr_assert_eq(raft_role(fx->node[1]), RAFT_FOLLOWER);
    cr_assert_eq(fx_count(fx, 1, RAFT_EV_ROLE, 0) > 0, true);
    fx_run(fx, fx->now + MS(3000));
    int l = fx_leader(fx);
    cr_assert(l == 2 || l == 3, "leader n%d", l);
    cr_assert_neq(raft_role(fx->node[1]), RAFT_PRECANDIDATE);
    cr_assert_eq(raft_campaign_now(fx->node[1], fx->now), RAFT_EINVAL);
    fx_free(fx);
}

Test(membership, snapshot_carries_the_configuration)
{
    struct fx *fx = cluster(4, 3);
    lead(fx);
    fx_cut_pair(fx, 1, 4);
    uint64_t at;
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now,
                                        RAFT_ADD_LEARNER, 4, &at),
                 RAFT_OK);
    fx_propose(fx, 1, "a", "1");
    fx_tick_all(fx, fx->now + MS(50));
    fx_deliver_all(fx);
    fx_tick_all(fx, fx->now + MS(50));
    fx_deliver_all(fx);
    struct raft_node *r = fx->node[1];
    uint64_t applied = raft_applied_lsn(r);
    cr_assert_gt(applied, at);
    cr_assert_eq(raft_snapshot_take(r, applied, "x", 1), RAFT_OK);
    struct raft_snapshot s;
    cr_assert(raft_snapshot_get(r, &s));
    cr_assert_eq(s.len, 1, "the driver sees its own bytes");
    fx_heal(fx);
    fx_run(fx, fx->now + MS(300));
    cr_assert(raft_snapshot_get(fx->node[4], &s), "installed");
    cr_assert_eq(s.len, 1);
    cr_assert(learner(fx, 4, 4), "the snapshot said so");
    cr_assert(voter(fx, 4, 1) && !voter(fx, 4, 4));
    fx_free(fx);
}

Test(membership, entry_text_round_trip_and_refusals)
{
    struct raft_membership c = {.voters = set_of(1, 2, 3, 0),
                                .learners = set_of(6, 0, 0, 0)};
    char buf[128];
    int len = raft_membership_format(&c, buf, sizeof(buf));
    cr_assert_str_eq(buf, "voters=1,2,3 learners=6");
    struct raft_membership d;
    cr_assert_eq(raft_membership_parse(buf, (size_t)len, 6, &d), 0);
    cr_assert_eq(memcmp(&c, &d, sizeof(c)), 0);
    static const char *bad[] = {
        "",           "voters=1,2",           "voters= learners=",
        "voters=1,,2 learners=", "voters=1 learners=1", "voters=7 learners=",
        "voters=0 learners=",    "voters=1, learners=", "voters=1 learners=x",
        "voters=1,1 learners=",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_neq(raft_membership_parse(bad[i], strlen(bad[i]), 6, &d), 0,
                      "%s", bad[i]);
    /* a config entry that does not decode is dropped as bad-config */
    struct fx *fx = cluster(3, 3);
    struct wal_payload *p = wal_payload_new("", 0, "voters=9 learners=", 18);
    struct wal_entry e = {.lsn = 1, .term = 1, .type = WAL_ENTRY_CONFIG,
                          .payload = p};
    struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1,
                         .term = 1, .n_entries = 1, .entries = &e};
    size_t mark = fx_mark(fx, 1);
    fx_step(fx, &m);
    const struct fx_ev *ev = fx_next(fx, 1, RAFT_EV_REJECT, &mark);
    cr_assert_not_null(ev);
    cr_assert_eq(ev->ev.reason, RAFT_R_BAD_CONFIG);
    cr_assert_eq(wal_last_lsn(raft_wal(fx->node[1])), 0);
    wal_payload_unref(p);
    fx_free(fx);
}

/* Thesis §4.2.2: a server outside its own latest configuration still
 * stands while that configuration is uncommitted (it may be needed to
 * elect a leader of the old one), without counting its own vote; once
 * the configuration commits, it stands no more (the test above). */
static bool stood_since(struct fx *fx, int id, size_t pos)
{
    const struct fx_ev *e;
    while ((e = fx_next(fx, id, RAFT_EV_ROLE, &pos)))
        if (e->ev.role == RAFT_PRECANDIDATE || e->ev.role == RAFT_CANDIDATE)
            return true;
    return false;
}

Test(membership, removed_in_an_uncommitted_config_still_stands)
{
    struct fx *fx = cluster(3, 3);
    lead(fx);
    fx_isolate(fx, 1);
    uint64_t at;
    cr_assert_eq(raft_change_membership(fx->node[1], fx->now, RAFT_REMOVE,
                                        1, &at),
                 RAFT_OK);
    fx_run(fx, fx->now + MS(1000)); /* CheckQuorum: n1 steps down */
    cr_assert_neq(raft_role(fx->node[1]), RAFT_LEADER);
    cr_assert(!voter(fx, 1, 1), "n1 is out of its own latest configuration");
    cr_assert_lt(raft_commit_lsn(fx->node[1]), at, "and it is uncommitted");
    size_t pos = fx_mark(fx, 1);
    fx_run(fx, fx->now + MS(1000));
    cr_assert(stood_since(fx, 1, pos), "n1 campaigns while it may be needed");
    /* its own vote does not count: alone it never gets past pre-vote */
    cr_assert_eq(fx_n_leaders(fx) == 0 || fx_leader(fx) != 1, true);
    fx_free(fx);
}
