/*
 * test_wire.c — the cluster in real time over loopback TCP: the same
 * core, scheduler and checker as in memory, with nodes exchanging msgpack
 * frames on 127.0.0.1.  Every wait is bounded by a deadline in cluster
 * time (which is wall time at scale 1).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/cluster/cluster.h"
#include "sim/cluster/explore.h"

static struct sim_cluster *tcp_cluster(int n, uint64_t seed)
{
    struct sim_options o;
    sim_options_default(&o, n);
    o.transport = SIM_TRANSPORT_TCP;
    o.seed = seed;
    o.link.latency_us = 0;
    o.link.jitter_us = 0;
    struct sim_cluster *c;
    int rc = sim_cluster_new(&o, &c);
    cr_assert_eq(rc, 0, "cannot start a TCP cluster: %d", rc);
    return c;
}

static int await_leader(struct sim_cluster *c, uint64_t within_us)
{
    int ids[RAFT_MAX_NODES];
    uint64_t end = sim_now(c) + within_us;
    while (sim_now(c) < end) {
        cr_assert(sim_run_until(c, sim_now(c) + 5000), "violation: %s",
                  sim_violation(c) ? sim_violation(c)->detail : "?");
        if (sim_leaders(c, ids) == 1)
            return ids[0];
    }
    return 0;
}

static bool logs_equal(struct sim_cluster *c, int a, int b)
{
    const struct wal *x = raft_wal(sim_node(c, a));
    const struct wal *y = raft_wal(sim_node(c, b));
    return wal_last_lsn(x) == wal_last_lsn(y) &&
           wal_last_term(x) == wal_last_term(y);
}

Test(wire, tcp_cluster_elects_a_leader_and_heartbeats_keep_it,
     .timeout = 30)
{
    struct sim_cluster *c = tcp_cluster(3, 1);
    int l = await_leader(c, 3000000);
    cr_assert(l, "no leader over TCP within 3 s");
    uint64_t term = raft_term(sim_node(c, l));
    /* ten maximum election timeouts of real heartbeats */
    cr_assert(sim_run_until(c, sim_now(c) + 3000000));
    cr_assert_eq(raft_role(sim_node(c, l)), RAFT_LEADER);
    cr_assert_eq(raft_term(sim_node(c, l)), term);
    cr_assert_eq(sim_stats(c)->elections, 1);
    cr_assert_gt(sim_stats(c)->messages_delivered, 100,
                 "heartbeats and replies travelled over TCP");
    sim_cluster_free(c);
}

Test(wire, leader_crash_elects_a_new_leader_and_writes_commit, .timeout = 30)
{
    struct sim_cluster *c = tcp_cluster(5, 2);
    int l = await_leader(c, 3000000);
    cr_assert(l);
    int w1 = sim_client_write(c, 1, l, "a", "1");
    cr_assert(sim_run_until(c, sim_now(c) + 200000));
    cr_assert_eq(sim_get_write(c, w1)->outcome, SIM_ACKED);
    sim_crash(c, l, false);
    int l2 = await_leader(c, 3000000);
    cr_assert(l2 && l2 != l, "a new leader after the crash");
    int w2 = sim_client_write(c, 1, l2, "b", "2");
    cr_assert(sim_run_until(c, sim_now(c) + 300000));
    cr_assert_eq(sim_get_write(c, w2)->outcome, SIM_ACKED);
    /* the crashed node comes back on the same port and catches up */
    sim_restart(c, l);
    cr_assert(sim_run_until(c, sim_now(c) + 1000000));
    cr_assert(logs_equal(c, l, l2), "restarted node caught up over TCP");
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

Test(wire, one_way_cut_does_not_depose_a_healthy_leader, .timeout = 30)
{
    struct sim_cluster *c = tcp_cluster(3, 3);
    int l = await_leader(c, 3000000);
    cr_assert(l);
    int f = l % 3 + 1;
    uint64_t term = raft_term(sim_node(c, l));
    sim_cut(c, l, f); /* f stops hearing the leader, the others do not */
    cr_assert(sim_run_until(c, sim_now(c) + 2000000));
    /* PreVote: f cannot win a pre-vote while the third node hears the
     * leader, so nobody's term moves */
    cr_assert_eq(raft_role(sim_node(c, l)), RAFT_LEADER);
    cr_assert_eq(raft_term(sim_node(c, l)), term);
    cr_assert_eq(raft_term(sim_node(c, f)), term);
    sim_heal(c);
    sim_client_write(c, 1, l, "k", "v");
    cr_assert(sim_run_until(c, sim_now(c) + 500000));
    cr_assert(logs_equal(c, l, f));
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

struct seen {
    int leader, follower;
    uint64_t lsn, t_leader, t_follower;
};

static void append_hook(void *ctx, struct sim_cluster *c,
                        const struct raft_event *ev)
{
    struct seen *s = ctx;
    if (ev->kind != RAFT_EV_APPEND || ev->lsn != s->lsn)
        return;
    if (ev->node == s->leader && !s->t_leader)
        s->t_leader = sim_now(c);
    if (ev->node == s->follower && !s->t_follower)
        s->t_follower = sim_now(c);
}

Test(wire, injected_latency_delays_delivery_measurably, .timeout = 30)
{
    struct sim_cluster *c = tcp_cluster(3, 4);
    int l = await_leader(c, 3000000);
    cr_assert(l);
    cr_assert(sim_run_until(c, sim_now(c) + 300000));
    int f = l % 3 + 1;
    struct sim_link slow = *sim_default_link(c);
    slow.latency_us = 80000; /* a follower 80 ms away, one way */
    sim_set_link(c, l, f, &slow);
    struct seen s = {.leader = l, .follower = f,
                     .lsn = wal_last_lsn(raft_wal(sim_node(c, l))) + 1};
    sim_set_hook(c, append_hook, &s);
    sim_client_write(c, 1, l, "far", "away");
    cr_assert(sim_run_until(c, sim_now(c) + 1000000));
    cr_assert(s.t_leader && s.t_follower, "both appended lsn %llu",
              (unsigned long long)s.lsn);
    uint64_t d = s.t_follower - s.t_leader;
    cr_assert_geq(d, 80000, "delivery took %llu us", (unsigned long long)d);
    cr_assert_lt(d, 400000, "delivery took %llu us", (unsigned long long)d);
    sim_cluster_free(c);
}

Test(wire, pause_holds_the_backlog_and_resume_delivers_it, .timeout = 30)
{
    struct sim_cluster *c = tcp_cluster(3, 5);
    int l = await_leader(c, 3000000);
    cr_assert(l);
    int f = l % 3 + 1;
    sim_pause(c, f);
    for (int i = 0; i < 5; i++)
        sim_client_write(c, 1, l, "p", "x");
    cr_assert(sim_run_until(c, sim_now(c) + 100000));
    cr_assert(!logs_equal(c, l, f), "a paused node reads nothing");
    sim_resume(c, f);
    cr_assert(sim_run_until(c, sim_now(c) + 300000));
    cr_assert(logs_equal(c, l, f), "the backlog arrived after resume");
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

Test(wire, random_faults_over_tcp_break_no_invariant, .timeout = 120)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.transport = SIM_TRANSPORT_TCP;
    o.swarm = false; /* the fixed mix: 100 writes/s, so acked > 100 below
                        means something (a swarm seed may draw 5/s) */
    o.nodes = 5;
    o.seeds = 2;
    o.duration_us = 3000000;
    o.settle_us = 2000000;
    struct explore_result r;
    explore_run(&o, &r);
    cr_assert_eq(r.setup_failures, 0);
    cr_assert_eq(r.seeds, 2);
    cr_assert_eq(r.violations, 0, "seed %llu: %s: %s",
                 (unsigned long long)r.first_seed, r.first.invariant,
                 r.first.detail);
    cr_assert_gt(r.acked, 100, "clients got writes through");
    cr_assert_gt(r.messages, 1000);
}

/* Fast detection over real sockets: a killed leader's closed connections
 * reach its followers' cores (pre-candidates with reason leader-closed),
 * a silent crash's open ones do not.  No timing is asserted here (the
 * figures are bench failover's): only which reason the new campaign had. */
struct closed_count {
    int leader_closed, timeouts;
};

static void count_reasons(void *ctx, struct sim_cluster *c,
                          const struct raft_event *ev)
{
    struct closed_count *k = ctx;
    (void)c;
    if (ev->kind == RAFT_EV_ROLE && ev->role == RAFT_PRECANDIDATE) {
        k->leader_closed += ev->reason == RAFT_R_LEADER_CLOSED;
        k->timeouts += ev->reason == RAFT_R_ELECTION_TIMEOUT;
    }
}

static struct closed_count crash_and_count(bool silent)
{
    struct sim_cluster *c = tcp_cluster(5, 3);
    int l = await_leader(c, 3000000);
    cr_assert(l);
    cr_assert(sim_run_until(c, sim_now(c) + 200000)); /* all connected */
    struct closed_count k = {0};
    sim_set_hook(c, count_reasons, &k);
    if (silent)
        sim_crash_silent(c, l, false);
    else
        sim_crash(c, l, false);
    int l2 = 0, ids[RAFT_MAX_NODES];
    uint64_t end = sim_now(c) + 3000000;
    while (!l2 && sim_now(c) < end) {
        cr_assert(sim_run_until(c, sim_now(c) + 2000));
        for (int i = 0, n = sim_leaders(c, ids); i < n; i++)
            if (ids[i] != l)
                l2 = ids[i];
    }
    cr_assert(l2, "no new leader within 3 s");
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
    return k;
}

Test(wire, a_killed_leaders_sockets_close_and_followers_prevote_at_once,
     .timeout = 30)
{
    struct closed_count k = crash_and_count(false);
    cr_assert_gt(k.leader_closed, 0, "no follower heard the close");
    k = crash_and_count(true);
    cr_assert_eq(k.leader_closed, 0, "a silent crash closed a connection");
    cr_assert_gt(k.timeouts, 0);
}

static bool all_connected(struct sim_cluster *c, int n)
{
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= n; j++)
            if (i != j && !sim_wire_connected(c, i, j))
                return false;
    return true;
}

/* Run (bounded) until every node has an open connection to every peer. */
static bool await_all_connected(struct sim_cluster *c, int n, uint64_t within)
{
    uint64_t end = sim_now(c) + within;
    while (!all_connected(c, n) && sim_now(c) < end)
        cr_assert(sim_run_until(c, sim_now(c) + 10000));
    return all_connected(c, n);
}

/* Every node keeps a connection to every peer, also between two followers
 * that never send each other anything, and across a restart: the first
 * pre-vote after a leader's crash and the first reply to it must not be
 * dropped to open a connection (they were: bench pg-failover --detect
 * lost a fast round and a full election timeout to them). */
Test(wire, every_node_keeps_a_connection_to_every_peer_across_a_restart,
     .timeout = 30)
{
    struct sim_cluster *c = tcp_cluster(3, 4);
    int l = await_leader(c, 3000000);
    cr_assert(l);
    cr_assert(await_all_connected(c, 3, 3000000), "not all connected at start");
    int f = l == 1 ? 2 : 1, g = 6 - l - f; /* the two followers */
    sim_crash(c, f, false);
    /* down long enough for the other nodes' redials of it to fail */
    cr_assert(sim_run_until(c, sim_now(c) + 300000));
    cr_assert(!sim_wire_connected(c, g, f));
    sim_restart(c, f);
    cr_assert(await_all_connected(c, 3, 3000000),
              "after n%d's restart: n%d -> n%d %s, n%d -> n%d %s", f, f, g,
              sim_wire_connected(c, f, g) ? "open" : "missing", g, f,
              sim_wire_connected(c, g, f) ? "open" : "missing");
    cr_assert_eq(raft_role(sim_node(c, l)), RAFT_LEADER);
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}
