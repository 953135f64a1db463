/*
 * test_sim.c — the virtual-time cluster, the checker and explore.
 *
 * Cluster tests drive sim_cluster with explicit faults and assert what a
 * person watching would see; checker tests feed it forged events to prove
 * each property can fail; explore tests are the acceptance runs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sim/cluster/checker.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/explore.h"

static struct sim_cluster *make(int n, uint64_t seed, FILE *trace)
{
    struct sim_options o;
    sim_options_default(&o, n);
    o.seed = seed;
    o.trace = trace;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    return c;
}

static int await_one_leader(struct sim_cluster *c, uint64_t within_us)
{
    int ids[RAFT_MAX_NODES];
    uint64_t end = sim_now(c) + within_us;
    while (sim_now(c) < end) {
        cr_assert(sim_run_until(c, sim_now(c) + 10000), "violation: %s",
                  sim_violation(c) ? sim_violation(c)->detail : "?");
        if (sim_leaders(c, ids) == 1)
            return ids[0];
    }
    return 0;
}

Test(cluster, elects_one_leader_within_a_second)
{
    struct sim_cluster *c = make(5, 1, NULL);
    int l = await_one_leader(c, 1000000);
    cr_assert(l >= 1 && l <= 5);
    /* stays leader: heartbeats keep followers quiet */
    uint64_t term = raft_term(sim_node(c, l));
    cr_assert(sim_run_until(c, sim_now(c) + 5000000));
    cr_assert_eq(raft_role(sim_node(c, l)), RAFT_LEADER);
    cr_assert_eq(raft_term(sim_node(c, l)), term);
    cr_assert_eq(sim_stats(c)->elections, 1);
    sim_cluster_free(c);
}

Test(cluster, client_writes_are_acked_and_applied_everywhere)
{
    struct sim_cluster *c = make(3, 2, NULL);
    cr_assert(await_one_leader(c, 1000000));
    int w[20];
    for (int i = 0; i < 20; i++) {
        char k[8], v[8];
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        w[i] = sim_client_write(c, 1, 0, k, v);
        cr_assert(sim_run_until(c, sim_now(c) + 5000));
    }
    cr_assert(sim_run_until(c, sim_now(c) + 500000));
    for (int i = 0; i < 20; i++)
        cr_assert_eq(sim_get_write(c, w[i])->outcome, SIM_ACKED,
                     "write %d: %s", i,
                     sim_outcome_name(sim_get_write(c, w[i])->outcome));
    uint64_t last = wal_last_lsn(raft_wal(sim_node(c, 1)));
    cr_assert_geq(last, 21); /* 20 writes + the leader's no-op */
    for (int i = 1; i <= 3; i++)
        cr_assert_eq(sim_applied_lsn(c, i), last, "n%d applied %llu", i,
                     (unsigned long long)sim_applied_lsn(c, i));
    sim_cluster_free(c);
}

Test(cluster, isolated_leader_steps_down_and_discards_its_tail_on_heal)
{
    struct sim_cluster *c = make(5, 3, NULL);
    int old = await_one_leader(c, 1000000);
    cr_assert(old);
    int group[6] = {0};
    group[old] = 1;
    sim_partition(c, group);
    int w = sim_client_write(c, 1, old, "lost", "x"); /* split brain */
    cr_assert(sim_run_until(c, sim_now(c) + 2000000));
    cr_assert_neq(raft_role(sim_node(c, old)), RAFT_LEADER,
                  "CheckQuorum should depose the minority leader");
    int ids[5];
    cr_assert_eq(sim_leaders(c, ids), 1);
    cr_assert_neq(ids[0], old);
    cr_assert_eq(sim_get_write(c, w)->outcome, SIM_UNKNOWN);
    uint64_t discarded = sim_stats(c)->discarded;
    sim_heal(c);
    cr_assert(sim_run_until(c, sim_now(c) + 1000000));
    cr_assert_gt(sim_stats(c)->discarded, discarded,
                 "the old leader's uncommitted write must be discarded");
    /* logs converge */
    const struct wal *a = raft_wal(sim_node(c, old));
    const struct wal *b = raft_wal(sim_node(c, ids[0]));
    cr_assert_eq(wal_last_lsn(a), wal_last_lsn(b));
    cr_assert_eq(wal_last_term(a), wal_last_term(b));
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

Test(cluster, crash_can_lose_only_the_unflushed_tail)
{
    struct sim_options o;
    sim_options_default(&o, 3);
    o.seed = 4;
    o.disk_latency_us = 5000;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    int l = await_one_leader(c, 1000000);
    cr_assert(l);
    sim_client_write(c, 1, l, "a", "1");
    cr_assert(sim_run_until(c, sim_now(c) + 100000));
    uint64_t durable = raft_wal(sim_node(c, l))->flushed_lsn;
    /* the next write is appended but its flush is still in progress */
    sim_client_write(c, 1, l, "b", "2");
    cr_assert(sim_run_until(c, sim_now(c) + o.client_latency_us + 1000));
    cr_assert_gt(wal_last_lsn(raft_wal(sim_node(c, l))), durable);
    sim_crash(c, l, true);
    cr_assert_eq(wal_last_lsn(raft_wal(sim_node(c, l))), durable);
    sim_restart(c, l);
    cr_assert(sim_run_until(c, sim_now(c) + 2000000));
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

Test(cluster, paused_leader_wakes_up_stale_and_steps_down)
{
    struct sim_cluster *c = make(3, 5, NULL);
    int old = await_one_leader(c, 1000000);
    cr_assert(old);
    sim_pause(c, old);
    cr_assert(sim_run_until(c, sim_now(c) + 2000000));
    int ids[3], k = sim_leaders(c, ids);
    /* the paused node still believes it leads: two "leaders" */
    cr_assert_eq(k, 2);
    cr_assert_eq(raft_role(sim_node(c, old)), RAFT_LEADER);
    sim_resume(c, old);
    cr_assert(sim_run_until(c, sim_now(c) + 500000));
    cr_assert_eq(sim_leaders(c, ids), 1);
    cr_assert_neq(ids[0], old);
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

Test(cluster, sync_ack_blocks_while_a_follower_is_down)
{
    struct sim_options o;
    sim_options_default(&o, 3);
    o.seed = 6;
    o.ack_mode = RAFT_ACK_SYNC;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    int l = await_one_leader(c, 1000000);
    cr_assert(l);
    int f = l % 3 + 1;
    sim_crash(c, f, false);
    int w = sim_client_write(c, 1, l, "k", "v");
    cr_assert(sim_run_until(c, sim_now(c) + 1000000));
    cr_assert_eq(sim_get_write(c, w)->outcome, SIM_PENDING);
    cr_assert_geq(raft_commit_lsn(sim_node(c, l)), sim_get_write(c, w)->lsn,
                  "commit stays quorum-based");
    sim_restart(c, f);
    cr_assert(sim_run_until(c, sim_now(c) + 500000));
    cr_assert_eq(sim_get_write(c, w)->outcome, SIM_ACKED);
    sim_cluster_free(c);
}

/* ------------------------------------------------------------------ */

static uint64_t run_hash(uint64_t seed)
{
    FILE *devnull = fopen("/dev/null", "w");
    cr_assert(devnull);
    struct sim_cluster *c = make(5, seed, devnull);
    for (int i = 0; i < 50; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i % 4);
        sim_client_write(c, i % 3 + 1, 0, k, "v");
        if (i == 10) {
            int g[6] = {0, 0, 0, 1, 1, 1};
            sim_partition(c, g);
        }
        if (i == 20)
            sim_crash(c, 2, true);
        if (i == 30) {
            sim_heal(c);
            sim_restart(c, 2);
        }
        sim_run_until(c, sim_now(c) + 37000);
    }
    sim_run_until(c, sim_now(c) + 1000000);
    uint64_t h = sim_trace_hash(c);
    sim_cluster_free(c);
    fclose(devnull);
    return h;
}

Test(determinism, same_seed_gives_identical_trace)
{
    uint64_t a = run_hash(77), b = run_hash(77), d = run_hash(78);
    cr_assert_neq(a, 0);
    cr_assert_eq(a, b);
    cr_assert_neq(a, d, "a different seed should give a different run");
}

Test(determinism, explore_seed_replays_identically)
{
    char *buf1 = NULL, *buf2 = NULL;
    size_t n1 = 0, n2 = 0;
    struct explore_opts o;
    explore_opts_default(&o);
    o.duration_us = 4000000;
    struct explore_result r;
    FILE *f = open_memstream(&buf1, &n1);
    o.trace = f;
    memset(&r, 0, sizeof(r));
    explore_seed(&o, 12345, &r);
    fclose(f);
    f = open_memstream(&buf2, &n2);
    o.trace = f;
    memset(&r, 0, sizeof(r));
    explore_seed(&o, 12345, &r);
    fclose(f);
    cr_assert_gt(n1, 1000);
    cr_assert_eq(n1, n2);
    cr_assert(memcmp(buf1, buf2, n1) == 0);
    /* the trace has the required kinds */
    cr_assert(strstr(buf1, "\"kind\":\"role\""));
    cr_assert(strstr(buf1, "\"kind\":\"vote\""));
    cr_assert(strstr(buf1, "\"kind\":\"append\""));
    cr_assert(strstr(buf1, "\"kind\":\"commit\""));
    cr_assert(strstr(buf1, "\"kind\":\"client\""));
    free(buf1);
    free(buf2);
}

/* ------------------------------------------------------------------ */
/* The checker can fail: forged event streams. */

static struct raft_event ev(int kind, int node, uint64_t term, uint64_t lsn,
                            uint64_t eterm)
{
    struct raft_event e;
    memset(&e, 0, sizeof(e));
    e.kind = (uint8_t)kind;
    e.node = node;
    e.term = term;
    e.lsn = lsn;
    e.entry_term = eterm;
    e.entry_type = WAL_ENTRY_NOOP;
    return e;
}

Test(checker, two_leaders_in_one_term_is_election_safety)
{
    struct checker *k = chk_new(3, RAFT_ACK_QUORUM);
    struct raft_event a = ev(RAFT_EV_ROLE, 1, 2, 0, 0);
    a.role = RAFT_LEADER;
    chk_event(k, 1, &a, NULL);
    cr_assert_eq(chk_violations(k), 0);
    a.node = 2;
    chk_event(k, 2, &a, NULL);
    cr_assert_eq(chk_violations(k), 1);
    cr_assert_str_eq(chk_first_violation(k)->invariant, "ElectionSafety");
    chk_free(k);
}

Test(checker, same_lsn_and_term_with_different_history_is_log_matching)
{
    struct checker *k = chk_new(2, RAFT_ACK_QUORUM);
    struct raft_event e = ev(RAFT_EV_APPEND, 1, 1, 1, 1);
    chk_event(k, 1, &e, NULL);
    e.lsn = 2;
    e.entry_term = 2;
    chk_event(k, 1, &e, NULL);
    /* n2: lsn 1 from another term, then the same (2, 2) */
    e = ev(RAFT_EV_APPEND, 2, 1, 1, 3);
    chk_event(k, 1, &e, NULL);
    e.lsn = 2;
    e.entry_term = 2;
    chk_event(k, 1, &e, NULL);
    cr_assert_eq(chk_violations(k), 1);
    cr_assert_str_eq(chk_first_violation(k)->invariant, "LogMatching");
    chk_free(k);
}

Test(checker, different_commits_at_one_lsn_is_state_machine_safety)
{
    struct checker *k = chk_new(2, RAFT_ACK_QUORUM);
    struct raft_event e = ev(RAFT_EV_APPEND, 1, 1, 1, 1);
    chk_event(k, 1, &e, NULL);
    e = ev(RAFT_EV_APPEND, 2, 2, 1, 2);
    chk_event(k, 1, &e, NULL);
    e = ev(RAFT_EV_COMMIT, 1, 1, 1, 0);
    chk_event(k, 2, &e, NULL);
    cr_assert_eq(chk_violations(k), 0);
    e = ev(RAFT_EV_COMMIT, 2, 2, 1, 0);
    chk_event(k, 3, &e, NULL);
    cr_assert_eq(chk_violations(k), 1);
    cr_assert_str_eq(chk_first_violation(k)->invariant, "StateMachineSafety");
    chk_free(k);
}

Test(checker, leader_without_committed_entry_is_leader_completeness)
{
    struct checker *k = chk_new(3, RAFT_ACK_QUORUM);
    struct raft_event e = ev(RAFT_EV_APPEND, 1, 1, 1, 1);
    chk_event(k, 1, &e, NULL);
    e = ev(RAFT_EV_COMMIT, 1, 1, 1, 0);
    chk_event(k, 1, &e, NULL);
    e = ev(RAFT_EV_ROLE, 3, 2, 0, 0); /* n3 has an empty log */
    e.role = RAFT_LEADER;
    chk_event(k, 2, &e, NULL);
    cr_assert_eq(chk_violations(k), 1);
    cr_assert_str_eq(chk_first_violation(k)->invariant, "LeaderCompleteness");
    chk_free(k);
}

Test(checker, acked_write_lost_counts_in_async_and_violates_in_quorum)
{
    for (int mode = 0; mode < 2; mode++) {
        struct checker *k =
            chk_new(2, mode ? RAFT_ACK_QUORUM : RAFT_ACK_ASYNC);
        struct raft_event e = ev(RAFT_EV_APPEND, 1, 1, 1, 1);
        chk_event(k, 1, &e, NULL);
        chk_acked(k, 1, 1, 1);
        e = ev(RAFT_EV_APPEND, 2, 2, 1, 2);
        chk_event(k, 2, &e, NULL);
        e = ev(RAFT_EV_COMMIT, 2, 2, 1, 0);
        chk_event(k, 3, &e, NULL);
        cr_assert_eq(chk_acked_lost(k), 1);
        cr_assert_eq(chk_violations(k), (uint64_t)mode);
        chk_free(k);
    }
}

/* ------------------------------------------------------------------ */
/* explore: the acceptance runs */

static struct explore_result explore(int nodes, uint64_t seeds,
                                     enum raft_ack_mode ack, unsigned unsafe,
                                     double rate)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.nodes = nodes;
    o.seeds = seeds;
    o.ack = ack;
    o.unsafe = unsafe;
    o.writes_per_s = rate;
    struct explore_result r;
    explore_run(&o, &r);
    return r;
}

Test(explore, quorum_mode_1000_seeds_all_faults_no_violation,
     .timeout = 600)
{
    struct explore_result r = explore(5, 1000, RAFT_ACK_QUORUM, 0, 100);
    cr_assert_eq(r.seeds, 1000);
    cr_assert_eq(r.violations, 0, "seed %llu: %s: %s",
                 (unsigned long long)r.first_seed, r.first.invariant,
                 r.first.detail);
    cr_assert_eq(r.acked_lost, 0);
    cr_assert_gt(r.elections, 1000, "faults should force re-elections");
    cr_assert_gt(r.acked, 100000);
}

Test(explore, sync_mode_loses_no_acked_write, .timeout = 300)
{
    struct explore_result r = explore(5, 200, RAFT_ACK_SYNC, 0, 100);
    cr_assert_eq(r.violations, 0);
    cr_assert_eq(r.acked_lost, 0);
}

Test(explore, async_mode_loses_acked_writes, .timeout = 300)
{
    struct explore_result r = explore(5, 200, RAFT_ACK_ASYNC, 0, 100);
    cr_assert_eq(r.violations, 0, "async loss is counted, not a violation");
    cr_assert_gt(r.acked_lost, 0);
}

Test(explore, unsafe_vote_any_is_caught, .timeout = 300)
{
    struct explore_result r =
        explore(5, 300, RAFT_ACK_QUORUM, RAFT_UNSAFE_VOTE_ANY, 100);
    cr_assert_gt(r.violations, 0);
}

/* The fixed mix: some swarm seeds flood the network with appends the
 * followers keep refusing under this rule and take minutes each. */
Test(explore, unsafe_keep_conflicts_is_caught, .timeout = 300)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.swarm = false;
    o.seeds = 100;
    o.unsafe = RAFT_UNSAFE_KEEP_CONFLICTS;
    struct explore_result r;
    explore_run(&o, &r);
    cr_assert_gt(r.violations, 0);
}

/* Figure 8 needs a leader to commit an old-term entry before any entry
 * of its own term reaches a majority, then lose to a node holding a
 * different entry there: far likelier with three nodes and few writes. */
Test(explore, unsafe_commit_old_term_is_caught, .timeout = 300)
{
    struct explore_result r =
        explore(3, 3000, RAFT_ACK_QUORUM, RAFT_UNSAFE_COMMIT_OLD_TERM, 10);
    cr_assert_gt(r.violations, 0);
    /* and the same schedules are clean with the rule intact */
    struct explore_result ok = explore(3, 3000, RAFT_ACK_QUORUM, 0, 10);
    cr_assert_eq(ok.violations, 0);
}

/* The (lsn, term) table grows by moving a few slots per append: across
 * many doublings every entry is still found, wherever it sits (moved,
 * not yet moved), and a different history at any of them is caught. */
Test(checker, log_matching_holds_across_incremental_growth)
{
    struct checker *k = chk_new(2, RAFT_ACK_QUORUM);
    const uint64_t n = 20000; /* 1024 slots doubled five times */
    for (uint64_t i = 1; i <= n; i++) {
        struct raft_event e = ev(RAFT_EV_APPEND, 1, 1, i, 1);
        chk_event(k, i, &e, NULL);
    }
    /* n2 holds the same prefix: no violation at any lsn */
    for (uint64_t i = 1; i <= n; i++) {
        struct raft_event e = ev(RAFT_EV_APPEND, 2, 1, i, 1);
        chk_event(k, n + i, &e, NULL);
    }
    cr_assert_eq(chk_violations(k), 0);
    chk_free(k);
    /* a history that differs at lsn 1: every later (lsn, 1) mismatches,
     * the first report names lsn 2 */
    k = chk_new(2, RAFT_ACK_QUORUM);
    for (uint64_t i = 1; i <= n; i++) {
        struct raft_event e = ev(RAFT_EV_APPEND, 1, 1, i, 1);
        chk_event(k, i, &e, NULL);
    }
    struct raft_event e = ev(RAFT_EV_APPEND, 2, 1, 1, 2);
    chk_event(k, n + 1, &e, NULL);
    for (uint64_t i = 2; i <= n; i++) {
        e = ev(RAFT_EV_APPEND, 2, 1, i, 1);
        chk_event(k, n + i, &e, NULL);
    }
    cr_assert_eq(chk_violations(k), n - 1);
    cr_assert_str_eq(chk_first_violation(k)->invariant, "LogMatching");
    chk_free(k);
}

Test(cluster, two_hundred_nodes_elect_one_leader_and_commit)
{
    /* node ids above 128 (RAFT_MAX_NODES is 256): the vote tallies'
     * bitsets and every per-node array hold them */
    raft_nodeset s = {0};
    raft_nodeset_add(&s, 200);
    raft_nodeset_add(&s, RAFT_MAX_NODES);
    cr_assert(raft_nodeset_has(&s, 200) && raft_nodeset_has(&s, 256));
    cr_assert(!raft_nodeset_has(&s, 199) && !raft_nodeset_has(&s, 72));
    cr_assert_eq(raft_nodeset_count(&s), 2);
    struct sim_cluster *c = make(200, 3, NULL);
    int l = await_one_leader(c, 3000000);
    cr_assert(l >= 1 && l <= 200);
    int w = sim_client_write(c, 1, l, "k", "v");
    cr_assert(sim_run_until(c, sim_now(c) + 500000));
    cr_assert_eq(sim_get_write(c, w)->outcome, SIM_ACKED);
    sim_cluster_free(c);
}
