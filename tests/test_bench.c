/*
 * test_bench.c — smoke runs of the TCP benchmarks (bench_throughput.c,
 * bench_failover.c): short, small clusters, output thrown away or read
 * for its counts.  They pin that each bench sets up its cluster,
 * measures something and stays within its bounds; the figures themselves
 * are printed by `raftsim bench`, never asserted.  The failover bench's
 * set-up (bench_first_leader) is also run in virtual time, where the
 * fixed-timeout tie it breaks is exact.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "sim/bench/bench.h"
#include "sim/bench/bench_util.h"
#include "sim/util/util.h"

static FILE *sink(void)
{
    FILE *f = fopen("/dev/null", "w");
    cr_assert(f, "cannot open /dev/null");
    return f;
}

Test(bench, throughput_commits_writes_without_violations, .timeout = 20)
{
    struct bench_throughput_result r;
    struct bench_throughput_opts o = {
        .nodes = 3, .duration_us = 500000, .inflight = 64, .result = &r};
    FILE *out = sink();
    double t0 = util_wall_s();
    int rc = bench_throughput(out, &o);
    double wall = util_wall_s() - t0;
    fclose(out);
    cr_assert_eq(rc, 0);
    cr_assert_gt(r.committed, 0);
    cr_assert_eq(r.violations, 0);
    cr_assert_eq(r.acked_lost, 0);
    cr_assert_gt(r.messages_sent, 0);
    cr_assert(r.p50_ms > 0 && r.p50_ms <= r.p99_ms, "p50 %f p99 %f", r.p50_ms,
              r.p99_ms);
    /* leader wait + run + drain, each bounded */
    cr_assert_lt(wall, 13.0, "took %.1f s", wall);
}

Test(bench, rss_holds_a_leader_in_a_small_cluster, .timeout = 40)
{
    struct bench_rss_result r;
    struct bench_rss_opts o = {.nodes = 5, .hold_us = 1000000, .result = &r};
    FILE *out = sink();
    int rc = bench_rss(out, &o);
    fclose(out);
    cr_assert_eq(rc, 0);
    cr_assert_eq(r.violations, 0);
    /* five nodes on loopback hold their leader, as test_wire.c expects */
    cr_assert_eq(r.elections_during_hold, 0);
    cr_assert_eq(r.term_end, r.term_start);
    cr_assert_gt(r.term_start, 0);
    cr_assert_gt(r.peak_rss_kib, 0);
    cr_assert_gt(r.rss_kib, 0);
}

/* Criterion runs each test in a child process, so lowering the limit
 * here touches nothing else. */
Test(bench, rss_refuses_a_cluster_beyond_the_descriptor_limit)
{
    struct rlimit rl = {256, 256};
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    struct rlimit up = {1024, 1024};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0)
        cr_skip_test("privileged: the bench could raise the limit itself");
    FILE *f = tmpfile();
    cr_assert(f);
    /* 20 nodes: 760 one-way connections, ~1600 descriptors */
    struct bench_rss_opts o = {.nodes = 20, .hold_us = 1000};
    cr_assert_eq(bench_rss(f, &o), 1);
    rewind(f);
    char line[512] = "";
    cr_assert(fgets(line, sizeof(line), f));
    fclose(f);
    cr_assert(strstr(line, "file descriptors") && strstr(line, "--nodes"),
              "got: %s", line);
}

/* A fresh 5-node cluster with a fixed 150 ms timeout and links without
 * jitter (as loopback TCP, in virtual time): every node times out at the
 * same instant, round after round. */
static struct sim_cluster *fixed_timeout_cluster(uint64_t seed)
{
    struct sim_options o;
    sim_options_default(&o, 5);
    o.seed = seed;
    o.election_min_us = o.election_max_us = 150000;
    o.heartbeat_us = 50000;
    o.link.latency_us = 50;
    o.link.jitter_us = 0;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    return c;
}

/* The tie bench_first_leader breaks: left to its timers, the cluster
 * never elects (the paper's no-randomness case, at start-up), so a bench
 * that waited for it counted its set-up as a failed failover. */
Test(bench, a_fixed_timeout_cluster_left_alone_never_elects)
{
    struct sim_cluster *c = fixed_timeout_cluster(1);
    cr_assert_eq(sim_await_leader(c, 3000000), 0);
    cr_assert_geq(raft_term(sim_node(c, 1)), 15, "term %llu",
                  (unsigned long long)raft_term(sim_node(c, 1)));
    for (int i = 2; i <= 5; i++) /* in lockstep: every term split */
        cr_assert_eq(raft_term(sim_node(c, i)), raft_term(sim_node(c, 1)));
    sim_cluster_free(c);
}

Test(bench, first_leader_breaks_the_fixed_timeout_tie)
{
    for (uint64_t seed = 1; seed <= 10; seed++) {
        struct sim_cluster *c = fixed_timeout_cluster(seed);
        int l = bench_first_leader(c, seed, 150000, 3000000);
        cr_assert(l, "seed %llu: no first leader", (unsigned long long)seed);
        /* the node the seed picked, at emin/2, before any timer fired */
        cr_assert_eq(l, 1 + (int)(seed % 5));
        cr_assert_lt(sim_now(c), 150000);
        cr_assert_eq(raft_term(sim_node(c, l)), 1);
        /* and it holds: the others follow its heartbeats */
        cr_assert(sim_run_until(c, sim_now(c) + 1000000));
        cr_assert_eq(raft_role(sim_node(c, l)), RAFT_LEADER);
        cr_assert_eq(raft_term(sim_node(c, l)), 1);
        cr_assert_eq(sim_violations(c), 0);
        sim_cluster_free(c);
    }
}

/* Over TCP, one trial at 150-150: its set-up elects a first leader, so
 * the trial reaches the crash, and the killed leader's followers, which
 * read EOF, elect another well within the trial's 10 s (a set-up left to
 * the first election printed 0/1 here in most runs). */
Test(bench, failover_at_a_fixed_timeout_reaches_the_crash, .timeout = 30)
{
    struct bench_failover_opts o = {
        .trials = 1,
        .n_ranges = 1,
        .ranges = {{150000, 150000}},
        .prevote = true,
        .fast_detect = true,
        .heartbeat_us = 50000,
        .crash_kinds = BENCH_CRASH_KILL,
        .policy = RAFT_ELECT_HIGHEST_LSN,
        .seed = 1,
    };
    FILE *f = tmpfile();
    cr_assert(f);
    cr_assert_eq(bench_failover(f, &o), 0);
    rewind(f);
    char text[4096] = "";
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    text[len] = 0;
    fclose(f);
    cr_assert(strstr(text, "150-150     kill    1/1   leader"), "got:\n%s",
              text);
    cr_assert(!strstr(text, "no first leader"), "got:\n%s", text);
}
