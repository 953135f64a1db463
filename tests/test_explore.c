/*
 * test_explore.c — what one explore seed does beyond the fixed mix:
 * swarm draws, the liveness check (and `expect progress`), the
 * determinism check, and shrinking a failing schedule.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/cluster.h"
#include "sim/cluster/explore.h"
#include "sim/cluster/liveness.h"
#include "sim/runner/runner.h"
#include "sim/runner/shrink.h"
#include "sim/scenario/scenario.h"

static int run_text(const char *text, struct scn_run_result *res)
{
    struct scn_program *p = NULL;
    cr_assert_eq(scn_parse("t.scn", text, strlen(text), &p, stderr), 0);
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.quiet = true;
    o.out = fopen("/dev/null", "w");
    int rc = scn_run(p, &o, res);
    fclose(o.out);
    scn_free(p);
    return rc;
}

static int lines_of(const char *t)
{
    int k = 0;
    for (const char *l = t; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        while (n && (*l == ' ' || *l == '\t'))
            l++, n--;
        k += n && *l != '#';
        l += n;
        if (*l == '\n')
            l++;
    }
    return k;
}

Test(swarm, draws_are_per_seed_deterministic_and_within_bounds)
{
    struct explore_opts o;
    explore_opts_default(&o);
    unsigned masks[64];
    int distinct = 0;
    for (uint64_t seed = 1; seed <= 2000; seed++) {
        struct explore_swarm a, b;
        explore_swarm_draw(&o, seed, &a);
        explore_swarm_draw(&o, seed, &b);
        cr_assert(memcmp(&a, &b, sizeof(a)) == 0);
        cr_assert(a.on);
        cr_assert_neq(a.kinds, 0);
        cr_assert_eq(a.kinds & ~(unsigned)EXPLORE_F_ALL, 0);
        cr_assert_geq(a.election_min_us, 3 * o.heartbeat_us);
        cr_assert_gt(a.election_max_us, a.election_min_us);
        cr_assert_leq(a.election_min_us, 2 * o.election_min_us);
        cr_assert_geq(a.core, o.nodes / 2 + 1);
        cr_assert_leq(a.core, o.nodes);
        cr_assert_leq(a.gap_min_us, a.gap_max_us);
        cr_assert_leq(a.len_min_us, a.len_max_us);
        cr_assert_gt(a.writes_per_s, 0);
        int j;
        for (j = 0; j < distinct && masks[j] != a.kinds; j++)
            ;
        if (j == distinct && distinct < 64)
            masks[distinct++] = a.kinds;
    }
    cr_assert_gt(distinct, 40, "only %d fault mixes drawn", distinct);
    /* --faults bounds what swarm may draw */
    o.faults = EXPLORE_F_PARTITION | EXPLORE_F_CRASH;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct explore_swarm a;
        explore_swarm_draw(&o, seed, &a);
        cr_assert_eq(a.kinds & ~o.faults, 0);
        cr_assert_neq(a.kinds, 0);
    }
}

Test(swarm, the_schedule_carries_the_draw_and_swarm_off_does_not)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.duration_us = 2000000;
    size_t len;
    char *t = explore_schedule(&o, 7, &len);
    cr_assert(t);
    struct explore_swarm w;
    explore_swarm_draw(&o, 7, &w);
    char text[512], line[600];
    explore_swarm_text(&w, text, sizeof(text));
    snprintf(line, sizeof(line), "# swarm: %s\n", text);
    cr_assert(strstr(t, line), "%s", t);
    char el[64];
    snprintf(el, sizeof(el), "election %lluus..%lluus\n",
             (unsigned long long)w.election_min_us,
             (unsigned long long)w.election_max_us);
    cr_assert(strstr(t, el));
    free(t);
    o.swarm = false;
    t = explore_schedule(&o, 7, &len);
    cr_assert(!strstr(t, "# swarm"));
    cr_assert(strstr(t, "election 150000us..300000us\n"));
    struct explore_seed_result r;
    explore_one(&o, 7, &r);
    cr_assert(!r.params.on);
    free(t);
}

static struct sim_cluster *deaf_leader(bool checkquorum, int *leader)
{
    struct sim_options so;
    sim_options_default(&so, 3);
    so.seed = 2;
    so.checkquorum = checkquorum;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&so, &c), 0);
    *leader = sim_await_leader(c, 2000000);
    cr_assert_neq(*leader, 0);
    for (int b = 1; b <= 3; b++)
        if (b != *leader)
            sim_cut(c, b, *leader); /* it talks but hears no one */
    return c;
}

Test(liveness, a_deaf_leader_without_checkquorum_cannot_commit)
{
    int l;
    struct sim_cluster *c = deaf_leader(false, &l);
    struct sim_progress pg;
    cr_assert_not(sim_check_progress(c, 1, 3000000, &pg));
    cr_assert_str_eq(pg.reason, "leader-cannot-commit");
    cr_assert_eq(pg.leader, l);
    cr_assert_gt(pg.probes, 0);
    sim_cluster_free(c);
    c = deaf_leader(true, &l);
    cr_assert(sim_check_progress(c, 1, 3000000, &pg), "%s", pg.detail);
    cr_assert_neq(pg.leader, l, "a new leader took over");
    sim_cluster_free(c);
}

Test(liveness, no_majority_is_no_leader_or_term_churn)
{
    for (int prevote = 1; prevote >= 0; prevote--) {
        struct sim_options so;
        sim_options_default(&so, 3);
        so.seed = 5;
        so.prevote = prevote;
        struct sim_cluster *c;
        cr_assert_eq(sim_cluster_new(&so, &c), 0);
        int group[4] = {0, 1, 2, 3}; /* everyone alone */
        sim_partition(c, group);
        struct sim_progress pg;
        cr_assert_not(sim_check_progress(c, 1, 0, &pg));
        /* PreVote keeps the terms still; without it they churn */
        cr_assert_str_eq(pg.reason, prevote ? "no-leader" : "term-churn",
                         "%s", pg.detail);
        sim_cluster_free(c);
    }
}

Test(liveness, an_explore_liveness_failure_replays_as_a_failing_scenario)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.nodes = 3;
    o.duration_us = 1000000;
    o.liveness_us = 1000; /* 1 ms: too short for anything to commit */
    struct explore_seed_result r;
    explore_one(&o, 3, &r);
    cr_assert(r.violated);
    cr_assert(r.liveness_failed);
    cr_assert_str_eq(r.v.invariant, "Liveness");
    size_t len;
    char *t = explore_schedule(&o, 3, &len);
    cr_assert(strstr(t, "expect progress within 1000us\n"), "%s", t);
    struct scn_run_result res;
    cr_assert_eq(run_text(t, &res), 1);
    cr_assert(res.liveness);
    cr_assert(!strncmp(r.v.detail, res.liveness, strlen(res.liveness)),
              "%s vs %s", r.v.detail, res.liveness);
    free(t);
    /* with the default bound the same seed passes */
    o.liveness_us = 0;
    explore_one(&o, 3, &r);
    cr_assert_not(r.violated, "%s", r.v.detail);
}

Test(determinism, check_determinism_passes_and_hashes_tell_seeds_apart)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.nodes = 3;
    o.seeds = 40;
    o.duration_us = 2000000;
    o.check_determinism = true;
    struct explore_result r;
    explore_run(&o, &r);
    cr_assert_eq(r.seeds, 40);
    cr_assert_eq(r.nondeterministic, 0);
    cr_assert_eq(r.violations, 0, "%s", r.first.detail);
    FILE *null = fopen("/dev/null", "w");
    o.trace = null;
    struct explore_seed_result a, b, a2;
    explore_one(&o, 1, &a);
    explore_one(&o, 2, &b);
    explore_one(&o, 1, &a2);
    fclose(null);
    cr_assert_neq(a.trace_hash, 0);
    cr_assert_neq(a.trace_hash, b.trace_hash);
    cr_assert_eq(a.trace_hash, a2.trace_hash);
}

Test(shrink, a_vote_any_failure_shrinks_to_20_lines_that_fail_the_same,
     .timeout = 120)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.unsafe = RAFT_UNSAFE_VOTE_ANY;
    o.seeds = 300;
    struct explore_result er;
    explore_run(&o, &er);
    cr_assert(er.have_first);
    size_t len;
    char *t = explore_schedule(&o, er.first_seed, &len);
    char *small;
    size_t slen;
    struct scn_shrink_result sr;
    cr_assert_eq(scn_shrink("va.scn", t, len, NULL, &small, &slen, &sr,
                            stderr),
                 0);
    char want[64];
    snprintf(want, sizeof(want), "invariant %s", er.first.invariant);
    cr_assert_str_eq(sr.failure, want);
    cr_assert_lt(sr.events_after, sr.events_before);
    cr_assert_leq(lines_of(small), 20, "%s", small);
    cr_assert_eq(sr.lines_after, lines_of(small));
    struct scn_run_result res;
    cr_assert_eq(run_text(small, &res), 0, "expect violation holds");
    cr_assert_str_eq(res.first_violation, er.first.invariant);
    free(t);
    free(small);
}

Test(shrink, fewer_nodes_and_lines_and_a_file_that_passes)
{
    const char *text = "# a failing expectation\n"
                       "nodes 5\n"
                       "seed 3\n"
                       "await leader as L within 2s\n"
                       "write alice x=1 expect committed\n"
                       "crash n5\n"
                       "wait 100ms\n"
                       "expect leaders = 0\n";
    char *small;
    size_t slen;
    struct scn_shrink_result sr;
    cr_assert_eq(scn_shrink("e.scn", text, strlen(text), NULL, &small, &slen,
                            &sr, stderr),
                 0);
    cr_assert_str_eq(sr.failure, "expectation failed: expect leaders = 0");
    cr_assert_eq(sr.nodes_before, 5);
    cr_assert_eq(sr.nodes_after, 1, "%s", small);
    cr_assert_eq(sr.events_before, 5);
    cr_assert_lt(sr.events_after, 5, "%s", small);
    cr_assert(strstr(small, "nodes 1\n"));
    cr_assert(!strstr(small, "crash n5"));
    struct scn_run_result res;
    cr_assert_eq(run_text(small, &res), 1);
    cr_assert_str_eq(res.first_failed, "expect leaders = 0");
    free(small);
    const char *ok = "nodes 3\nawait leader within 2s\n";
    FILE *null = fopen("/dev/null", "w");
    cr_assert_eq(scn_shrink("ok.scn", ok, strlen(ok), NULL, &small, &slen,
                            &sr, null),
                 1);
    fclose(null);
}

/* Every schedule a swarm seed records is a valid scenario, and its
 * replay passes where the seed passed (the liveness line included). */
Test(swarm, every_recorded_schedule_parses_and_replays, .timeout = 120)
{
    static const int sizes[] = {1, 2, 3, 4, 5, 7};
    struct explore_opts o;
    explore_opts_default(&o);
    o.duration_us = 3000000;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
        o.nodes = sizes[k];
        for (uint64_t seed = 1; seed <= 25; seed++) {
            struct explore_seed_result r;
            explore_one(&o, seed, &r);
            size_t len;
            char *t = explore_schedule(&o, seed, &len);
            cr_assert(t);
            struct scn_run_result res;
            int rc = run_text(t, &res);
            cr_assert_eq(rc, r.violated ? 1 : 0,
                         "nodes %d seed %llu: %s", o.nodes,
                         (unsigned long long)seed, r.v.detail);
            free(t);
        }
    }
}

/* A send delayed by a slow disk (EV_SEND) schedules its arrivals, which
 * can grow (move) the event pool under the event being handled: swarm
 * seed 3873 at 5 nodes once freed a message twice that way.  Many sends
 * waiting for flushes, each delivered twice, grow the pool while they go
 * out. */
Test(swarm, a_delayed_send_that_grows_the_event_pool)
{
    struct sim_options so;
    sim_options_default(&so, 5);
    so.seed = 9;
    so.disk_latency_us = 20000;
    so.link.dup = 1.0;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&so, &c), 0);
    int l = sim_await_leader(c, 3000000);
    cr_assert_neq(l, 0);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 300; i++) {
            char v[16];
            snprintf(v, sizeof(v), "v%d", round * 300 + i);
            sim_client_write(c, 1 + i % 3, l, "k", v);
        }
        cr_assert(sim_run_until(c, sim_now(c) + 30000));
    }
    cr_assert(sim_run_until(c, sim_now(c) + 3000000));
    cr_assert_gt(sim_stats(c)->messages_delivered, 5000);
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

/* `isolate leader off` disarms a trap that has not sprung: explore ends
 * its faulty part with it, so a replay's liveness phase is not cut off by
 * a trap the seed had already dropped. */
Test(liveness, isolate_leader_off_disarms_the_trap)
{
    const char *armed = "nodes 3\nseed 4\nawait leader as L within 2s\n"
                        "isolate leader on append\n"
                        "write alice x=1\nwait 200ms\n"
                        "expect progress within 3s\n";
    struct scn_run_result res;
    /* the trap springs on the write: the old leader is cut off, a new
     * one takes over (with CheckQuorum) and the check still passes, but
     * only after a new election */
    cr_assert_eq(run_text(armed, &res), 0);
    uint64_t with_trap = res.elections;
    const char *off = "nodes 3\nseed 4\nawait leader as L within 2s\n"
                      "isolate leader on append\nisolate leader off\n"
                      "write alice x=1\nwait 200ms\n"
                      "expect leader is L\nexpect progress within 3s\n";
    cr_assert_eq(run_text(off, &res), 0);
    cr_assert_eq(res.elections, 1);
    cr_assert_gt(with_trap, res.elections);
}
