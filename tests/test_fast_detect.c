/*
 * test_fast_detect.c — fast detection (raft_peer_closed): a follower whose
 * connection to its leader closes pre-votes at once; everything else still
 * waits out the election timeout, and a leader that is alive is kept.
 *
 * The cluster tests run in virtual time (sim/cluster: a crash's close
 * reaches each peer one link latency later; a silent crash and a
 * partition close nothing) over many seeds and compare with fast
 * detection off.  The core tests drive raft_node objects by hand
 * (tests/fixture.h) for what a cluster cannot stage: a close while the
 * leader is alive, and the cases the core ignores.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/cluster/cluster.h"
#include "tests/fixture.h"

#define SEEDS 100u
#define EMIN 150000u /* the defaults: election 150-300 ms, heartbeat 50 */
#define HB 50000u

enum crash_kind { KILL, SILENT, ISOLATE };

/* Elect, let the cluster settle, fail its leader at a seed-dependent
 * moment and return how long (virtual us) until another node leads. */
static uint64_t failover_us(uint64_t seed, bool fast, enum crash_kind kind,
                            uint64_t *elections_out)
{
    struct sim_options o;
    sim_options_default(&o, 5);
    o.seed = seed;
    o.fast_detect = fast;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    int l = sim_await_leader(c, 2000000);
    cr_assert(l, "seed %llu: no first leader", (unsigned long long)seed);
    /* land anywhere between two heartbeats */
    cr_assert(sim_run_until(c, sim_now(c) + 500000 + seed * 7919 % HB));
    l = sim_await_leader(c, 1000000);
    cr_assert(l);
    uint64_t t0 = sim_now(c), el0 = sim_stats(c)->elections;
    if (kind == KILL) {
        sim_crash(c, l, false);
    } else if (kind == SILENT) {
        sim_crash_silent(c, l, false);
    } else {
        int group[RAFT_MAX_NODES + 1] = {0};
        group[l] = 1;
        sim_partition(c, group);
    }
    uint64_t took = 0;
    int ids[RAFT_MAX_NODES];
    for (uint64_t t = t0; t < t0 + 3000000 && !took; t += 500) {
        cr_assert(sim_run_until(c, t), "violation: %s",
                  sim_violation(c) ? sim_violation(c)->detail : "?");
        int k = sim_leaders(c, ids);
        for (int i = 0; i < k; i++)
            if (ids[i] != l)
                took = sim_now(c) - t0;
    }
    cr_assert(took, "seed %llu: no new leader within 3 s",
              (unsigned long long)seed);
    if (elections_out)
        *elections_out = sim_stats(c)->elections - el0;
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
    return took;
}

Test(fast_detect, kill_elects_a_new_leader_well_under_election_min)
{
    uint64_t worst = 0, sum = 0;
    for (uint64_t s = 1; s <= SEEDS; s++) {
        uint64_t el = 0, t = failover_us(s, true, KILL, &el);
        cr_assert_lt(t, EMIN / 2, "seed %llu: %llu us",
                     (unsigned long long)s, (unsigned long long)t);
        cr_assert_eq(el, 1, "seed %llu: %llu elections",
                     (unsigned long long)s, (unsigned long long)el);
        worst = t > worst ? t : worst;
        sum += t;
    }
    cr_log_info("kill, fast detection: mean %llu us, max %llu us",
                (unsigned long long)(sum / SEEDS), (unsigned long long)worst);
}

/* Without the close as evidence the followers wait for their timers: a
 * majority must have heard nothing for election_min (the leader's last
 * heartbeat was at most one interval before the crash). */
Test(fast_detect, kill_without_it_waits_out_the_election_timeout)
{
    for (uint64_t s = 1; s <= SEEDS; s++) {
        uint64_t t = failover_us(s, false, KILL, NULL);
        cr_assert_geq(t, EMIN - HB, "seed %llu: %llu us",
                      (unsigned long long)s, (unsigned long long)t);
    }
}

Test(fast_detect, silent_crash_and_partition_close_nothing)
{
    for (uint64_t s = 1; s <= SEEDS; s++) {
        for (int k = SILENT; k <= ISOLATE; k++) {
            uint64_t on = failover_us(s, true, k, NULL);
            uint64_t off = failover_us(s, false, k, NULL);
            cr_assert_geq(on, EMIN - HB, "seed %llu kind %d: %llu us",
                          (unsigned long long)s, k, (unsigned long long)on);
            /* nothing to detect: the same run to the microsecond */
            cr_assert_eq(on, off, "seed %llu kind %d: %llu vs %llu us",
                         (unsigned long long)s, k, (unsigned long long)on,
                         (unsigned long long)off);
        }
    }
}

/* ---- the core, by hand ---------------------------------------------- */

static struct fx *five(bool prevote)
{
    struct raft_config base;
    raft_config_default(&base, 1, 5);
    base.prevote = prevote;
    struct fx *fx = fx_new(5, &base);
    cr_assert(fx_elect(fx, 1));
    fx_run(fx, fx->now + MS(120)); /* heartbeats reach everyone */
    cr_assert_eq(fx_leader(fx), 1);
    return fx;
}

/* The close was wrong (the leader is alive, say a connection reset by a
 * middlebox): n2 pre-votes, the others still hear n1 and refuse, n1
 * keeps its term and n2 follows it again at its next heartbeat. */
Test(fast_detect, a_spurious_close_does_not_depose_a_live_leader)
{
    struct fx *fx = five(true);
    uint64_t term = raft_term(fx->node[1]);
    size_t m2 = fx_mark(fx, 2), m3 = fx_mark(fx, 3);
    cr_assert_eq(raft_peer_closed(fx->node[2], fx->now, 1), 1);
    fx_pump(fx, 2);
    fx_run(fx, fx->now + MS(EMIN / 1000 / RAFT_FAST_DELAY_DIV) + MS(1));
    size_t pos = m2;
    const struct fx_ev *e = fx_next(fx, 2, RAFT_EV_ROLE, &pos);
    cr_assert(e, "n2 did not pre-vote on the close");
    cr_assert_eq(e->ev.role, RAFT_PRECANDIDATE);
    cr_assert_eq(e->ev.reason, RAFT_R_LEADER_CLOSED);
    cr_assert_eq(e->ev.peer, 1);
    pos = m3;
    e = fx_next(fx, 3, RAFT_EV_VOTE, &pos);
    cr_assert(e && !e->ev.granted && e->ev.reason == RAFT_R_LEADER_ALIVE);
    fx_run(fx, fx->now + MS(500));
    cr_assert_eq(fx_leader(fx), 1);
    cr_assert_eq(raft_term(fx->node[1]), term);
    cr_assert_eq(raft_leader(fx->node[2]), 1);
    for (int i = 2; i <= 5; i++)
        cr_assert_eq(raft_role(fx->node[i]), RAFT_FOLLOWER);
    fx_free(fx);
}

/* Word from the leader within the delay (here an append, before the
 * node is ticked again) cancels the pre-vote. */
Test(fast_detect, word_from_the_leader_within_the_delay_cancels_it)
{
    struct fx *fx = five(true);
    cr_assert_eq(raft_peer_closed(fx->node[2], fx->now, 1), 1);
    raft_time_t d = raft_next_deadline(fx->node[2]);
    cr_assert_leq(d, fx->now + MS(EMIN / 1000 / RAFT_FAST_DELAY_DIV));
    size_t m2 = fx_mark(fx, 2);
    cr_assert(fx_propose(fx, 1, "k", "v"));
    fx_deliver_all(fx);
    cr_assert_geq(raft_next_deadline(fx->node[2]), fx->now + MS(EMIN / 1000));
    fx_run(fx, fx->now + MS(100));
    cr_assert_eq(fx_count(fx, 2, RAFT_EV_ROLE, m2), 0);
    cr_assert_eq(fx_leader(fx), 1);
    fx_free(fx);
}

/* Without PreVote an election at once would raise the term and depose
 * a live leader on any spurious close: the core ignores closes.  It
 * ignores too a close of a peer that is not its leader, and closes seen
 * by candidates and leaders. */
Test(fast_detect, ignored_without_prevote_and_for_other_peers)
{
    struct fx *fx = five(false);
    raft_time_t d = raft_next_deadline(fx->node[2]);
    cr_assert_eq(raft_peer_closed(fx->node[2], fx->now, 1), 0);
    cr_assert_eq(raft_next_deadline(fx->node[2]), d);
    fx_free(fx);

    fx = five(true);
    d = raft_next_deadline(fx->node[2]);
    cr_assert_eq(raft_peer_closed(fx->node[2], fx->now, 3), 0);
    cr_assert_eq(raft_next_deadline(fx->node[2]), d);
    cr_assert_eq(raft_peer_closed(fx->node[1], fx->now, 2), 0); /* leader */
    cr_assert_eq(raft_peer_closed(fx->node[2], fx->now, 0), RAFT_EINVAL);
    cr_assert_eq(raft_peer_closed(fx->node[2], fx->now, 2), RAFT_EINVAL);
    cr_assert_eq(raft_peer_closed(fx->node[2], fx->now, 6), RAFT_EINVAL);
    fx_crash(fx, 3, false);
    cr_assert_eq(raft_peer_closed(fx->node[3], fx->now, 1), RAFT_EDOWN);
    fx_free(fx);

    struct raft_config base;
    raft_config_default(&base, 1, 5);
    base.fast_detect = false;
    fx = fx_new(5, &base);
    cr_assert(fx_elect(fx, 1));
    fx_run(fx, fx->now + MS(120));
    cr_assert_eq(raft_peer_closed(fx->node[2], fx->now, 1), 0);
    fx_free(fx);
}
