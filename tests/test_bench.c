/*
 * test_bench.c — smoke runs of the TCP benchmarks (bench_throughput.c):
 * short, small clusters, output thrown away.  They pin that each bench
 * sets up its cluster, measures something and stays within its bounds;
 * the figures themselves are printed by `raftsim bench`, never asserted.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "sim/bench/bench.h"
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
