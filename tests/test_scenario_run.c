/*
 * test_scenario_run.c — the scenario runner: expectations that hold and
 * fail, waits, reads and their routing, determinism of the trace, and the
 * replay of an explore failure.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cluster/explore.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"

static struct scn_program *parse(const char *text)
{
    struct scn_program *p = NULL;
    char *err = NULL;
    size_t err_len = 0;
    FILE *ef = open_memstream(&err, &err_len);
    int rc = scn_parse("test.scn", text, strlen(text), &p, ef);
    fclose(ef);
    cr_assert_eq(rc, 0, "parse failed:\n%s", err);
    free(err);
    return p;
}

/* Run text; returns the exit status, output in *out (caller frees). */
static int run(const char *text, struct scn_run_result *res, char **out,
               FILE *trace)
{
    struct scn_program *p = parse(text);
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.out = f;
    o.trace = trace;
    int rc = scn_run(p, &o, res);
    fclose(f);
    scn_free(p);
    return rc;
}

Test(scenario_run, a_healthy_cluster_meets_its_expectations)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\n"
                 "await leader as L within 2s\n"
                 "write alice x=1 expect committed\n"
                 "expect committed x\n"
                 "expect leaders = 1\n"
                 "expect leader is L\n"
                 "read alice x from leader expect 1\n"
                 "expect no violations\n",
                 &r, &out, NULL);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(r.expectations, 6, "%s", out);
    cr_assert_eq(r.failed, 0);
    cr_assert_geq(r.elections, 1);
    cr_assert(strstr(out, "leader term"), "narrates the election:\n%s", out);
    free(out);
}

Test(scenario_run, a_false_expectation_fails_with_the_actual_state)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\n"
                 "await leader as L within 2s\n"
                 "expect leaders = 2\n"
                 "expect no violations\n",
                 &r, &out, NULL);
    cr_assert_eq(rc, 1);
    cr_assert_eq(r.failed, 1);
    cr_assert_eq(r.expectations, 1, "stops at the first failure");
    cr_assert(strstr(out, "test.scn:3: expectation failed: expect leaders = 2"),
              "%s", out);
    cr_assert(strstr(out, "1 node claims to lead"), "%s", out);
    free(out);
}

Test(scenario_run, keep_going_runs_every_expectation)
{
    struct scn_program *p = parse("nodes 3\n"
                                  "expect leaders = 5\n"
                                  "expect leaders = 0\n"
                                  "expect leaders = 7\n");
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.out = f;
    o.keep_going = true;
    struct scn_run_result r;
    int rc = scn_run(p, &o, &r);
    fclose(f);
    cr_assert_eq(rc, 1);
    cr_assert_eq(r.expectations, 3);
    cr_assert_eq(r.failed, 2);
    cr_assert_eq(r.passed, 1);
    free(out);
    scn_free(p);
}

Test(scenario_run, an_await_that_cannot_hold_fails_within_its_bound)
{
    struct scn_run_result r;
    char *out = NULL;
    /* one node of three: no majority, never a leader */
    int rc = run("nodes 3\nstart n1\nawait leader within 1s\n", &r, &out, NULL);
    cr_assert_eq(rc, 1);
    cr_assert_eq(r.failed, 1);
    cr_assert(strstr(out, "still not true after 1.000 s"), "%s", out);
    cr_assert_leq(r.end_us, 1000000);
    free(out);
}

Test(scenario_run, isolated_leader_tail_is_discarded_on_heal)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 5\ncheckquorum off\n"
                 "await leader as L within 2s\n"
                 "write alice x=1 expect committed\n"
                 "isolate L\n"
                 "write bob y=2 via L\n"
                 "await leader in all except L as M within 3s\n"
                 "expect leaders = 2\n"
                 "write carol z=3 expect committed\n"
                 "heal\n"
                 "await follower L within 3s\n"
                 "await caught-up L within 3s\n"
                 "expect discarded y on L\n"
                 "expect log of L lacks y\n"
                 "expect log of L has z\n"
                 "expect write of bob y timeout\n"
                 "expect no violations\n",
                 &r, &out, NULL);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_geq(r.discarded, 1);
    cr_assert(strstr(out, "discarded lsn"), "%s", out);
    free(out);
}

Test(scenario_run, async_ack_is_lost_and_counted)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\nack async\n"
                 "await leader as L within 2s\n"
                 "let A B = all except L\n"
                 "write alice x=1 expect committed\n"
                 "cut L -> {A, B}\n"
                 "write alice x=2 via L expect acked\n"
                 "await leader in {A, B} as M within 3s\n"
                 "heal\n"
                 "await caught-up L within 3s\n"
                 "expect write of alice x lost\n"
                 "read alice x from leader expect 1\n",
                 &r, &out, NULL);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(r.acked_lost, 1, "%s", out);
    free(out);
}

Test(scenario_run, reads_from_a_lagging_replica_are_stale_and_ryw_is_not)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\n"
                 "await leader as L within 2s\n"
                 "let F G = all except L\n"
                 "write alice x=1 expect committed\n"
                 "await caught-up F within 1s\n"
                 "await caught-up G within 1s\n"
                 "link L -> {F, G} latency 80ms\n"
                 "write alice x=2 expect committed within 2s\n"
                 "read alice x from F expect stale\n"
                 "read alice x from ryw expect 2\n"
                 "expect reads of alice stale\n"
                 "expect reads of alice not own-writes\n",
                 &r, &out, NULL);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(r.reads, 2);
    cr_assert_eq(r.stale_reads, 1);
    free(out);
}

Test(scenario_run, lag_is_measured_in_entries_bytes_and_time)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\nstart {n1, n2}\n"
                 "await leader as L within 2s\n"
                 "start n3\n"
                 "await caught-up n3 within 2s\n"
                 "link L -> n3 latency 500ms\n"
                 "write a k1=v1\nwrite a k2=v2\nwrite a k3=v3\n"
                 "wait 200ms\n"
                 "expect lag of n3 >= 3 entries\n"
                 "expect lag of n3 >= 60 bytes\n"
                 "expect lag of n3 >= 150ms\n"
                 "expect lag of n3 < 250ms\n"
                 "link L -> n3 reset\n"
                 "await caught-up n3 within 2s\n"
                 "expect lag of n3 = 0 entries\n",
                 &r, &out, NULL);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
}

Test(scenario_run, same_file_and_seed_give_a_byte_identical_trace)
{
    const char *text = "nodes 5\nseed 9\n"
                       "await leader as L within 2s\n"
                       "write a x=1 expect committed\n"
                       "crash L\n"
                       "await leader in all except L within 3s\n"
                       "read a x from any\n"
                       "restart L\nwait 500ms\n";
    char *t[2];
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        FILE *tf = open_memstream(&t[k], &len);
        struct scn_run_result r;
        char *out = NULL;
        cr_assert_eq(run(text, &r, &out, tf), 0, "%s", out);
        fclose(tf);
        free(out);
    }
    cr_assert_gt(strlen(t[0]), 1000);
    cr_assert_str_eq(t[0], t[1]);
    free(t[0]);
    free(t[1]);
}

Test(scenario_run, an_explore_failure_replays_as_a_scenario, .timeout = 60)
{
    char path[] = "/tmp/raftsim-replay-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    struct explore_opts o;
    explore_opts_default(&o);
    o.nodes = 3;
    o.seeds = 300;
    o.unsafe = RAFT_UNSAFE_VOTE_ANY;
    o.scenario_out = path;
    struct explore_result er;
    explore_run(&o, &er);
    cr_assert(er.have_first, "vote-any breaks safety within 300 seeds");
    cr_assert_str_eq(er.scenario, path);

    struct scn_program *p = NULL;
    cr_assert_eq(scn_parse_file(path, &p, stderr), 0);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    struct scn_run_opts ro;
    scn_run_opts_default(&ro);
    ro.out = f;
    ro.quiet = true;
    struct scn_run_result r;
    int rc = scn_run(p, &ro, &r);
    fclose(f);
    cr_assert_eq(rc, 0, "the replay meets `expect violation`:\n%s", out);
    cr_assert_str_eq(r.first_violation, er.first.invariant);
    free(out);
    scn_free(p);
    unlink(path);
}

/* `leader` names the leader when the line runs; `campaign` makes a
 * follower stand now.  Crashing "the leader" twice crashes two different
 * nodes; campaigning a follower of a leader cut off from it wins. */
Test(scenario_run, leader_names_the_leader_now_and_campaign_stands_now,
     .timeout = 30)
{
    struct scn_run_result res;
    char *out;
    int rc = run("nodes 5\n"
                 "await leader as L within 3s\n"
                 "crash leader\n"
                 "await leader as M within 3s\n"
                 "expect role of L is down\n"
                 "crash leader\n"
                 "expect role of M is down\n"
                 "restart all\n"
                 "await leader as K within 3s\n"
                 "let A = all except {K, L, M}\n"
                 "isolate leader\n"
                 "campaign A\n"
                 "await leader in all except K as N within 1s\n"
                 "expect leader is N\n",
                 &res, &out, NULL);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(res.passed, 3, "%s", out);
    cr_assert(strstr(out, "told to campaign now"), "%s", out);
    free(out);
}

Test(scenario_run, leader_without_a_leader_fails_the_line)
{
    struct scn_run_result res;
    char *out;
    cr_assert_eq(run("nodes 3\ncrash leader\n", &res, &out, NULL), 1);
    cr_assert(strstr(out, "there is no leader now"), "%s", out);
    free(out);
}

/* A file's mirror-control never runs without the caller's permission,
 * whoever calls the runner (cli_run.c refuses it up front too). */
Test(scenario_run, a_files_mirror_control_needs_permission)
{
    char dir[] = "/tmp/raftsim-ctl-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char text[512], ran[300];
    snprintf(ran, sizeof(ran), "%s/ran", dir);
    snprintf(text, sizeof(text),
             "nodes 3\nmirror n1=postgresql://x@127.0.0.1:1/x n2=b\n"
             "mirror-control \"touch %s; true {action} {server}\"\n"
             "await leader as L within 2s\n", ran);
    char errpath[300];
    snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
    cr_assert_not_null(freopen(errpath, "w", stderr)); /* own worker */
    struct scn_run_result r;
    char *out = NULL;
    int rc = run(text, &r, &out, NULL);
    fflush(stderr);
    cr_assert_eq(rc, 2, "%s", out);
    cr_assert(r.setup_error);
    cr_assert_neq(access(ran, F_OK), 0, "the command ran");
    char said[512] = "";
    FILE *f = fopen(errpath, "r");
    cr_assert_not_null(f);
    size_t n = fread(said, 1, sizeof(said) - 1, f);
    said[n] = 0;
    fclose(f);
    cr_assert(strstr(said, "refused without run --allow-control"), "%s",
              said);
    free(out);
    unlink(errpath);
    rmdir(dir);
}

/* The trace fields the report page's client lanes and WAL cells read:
 * values on append and discard lines, and on client write lines the
 * write's number and the client's name (read lines are named). */
Test(scenario_run, the_trace_carries_values_write_numbers_and_client_names)
{
    const char *text = "nodes 3\nseed 4\ncheckquorum off\n"
                       "await leader as L within 2s\n"
                       "write alice x=one expect committed\n"
                       "isolate L\n"
                       "write bob y=two via L\n"
                       "await leader in all except L within 3s\n"
                       "heal\n"
                       "await follower L within 3s\n"
                       "await caught-up L within 3s\n"
                       "read alice x from any\n";
    char *t = NULL;
    size_t len = 0;
    FILE *tf = open_memstream(&t, &len);
    struct scn_run_result r;
    char *out = NULL;
    cr_assert_eq(run(text, &r, &out, tf), 0, "%s", out);
    fclose(tf);
    free(out);
    cr_assert(strstr(t, "\"kind\":\"append\",\"lsn\":2,\"term\":1,\"key\":\"x\","
                        "\"value\":\"one\"}"), "%s", t);
    cr_assert(strstr(t, "\"key\":\"y\",\"reason\":\"conflict\",\"value\":\"two\"}"),
              "no discard of y with its value");
    cr_assert(strstr(t, "\"op\":\"write\",\"key\":\"x\",\"value\":\"one\",\"lsn\":0,"
                        "\"outcome\":\"sent\",\"write\":1,\"name\":\"alice\"}"));
    cr_assert(strstr(t, "\"client\":\"c2\",\"op\":\"write\",\"key\":\"y\",\"value\":\"two\","
                        "\"lsn\":0,\"outcome\":\"sent\",\"write\":2,\"name\":\"bob\"}"));
    cr_assert(strstr(t, "\"client\":\"alice\",\"op\":\"read\",\"key\":\"x\","));
    /* no-ops carry no value */
    cr_assert(strstr(t, "\"key\":\"\",\"noop\":true}"));
    free(t);
}

/* heal SET -> SET mends only those links, one way; the reverse stays cut
 * (a second heal finds it still cut), and healing a link that is not cut
 * says so. */
Test(scenario_run, heal_of_one_link_mends_only_that_direction)
{
    struct scn_run_result r;
    char *out = NULL, *tr = NULL;
    size_t tl = 0;
    FILE *trace = open_memstream(&tr, &tl);
    int rc = run("nodes 3\n"
                 "cut n1 <-> n2\n"
                 "cut n3 -> n1\n"
                 "heal n1 -> n2\n"
                 "heal n2 -> n1\n"
                 "heal n1 <-> n2\n"
                 "expect no violations\n",
                 &r, &out, trace);
    fclose(trace);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "heal n1 -> n2: n2 hears n1 again"), "%s", out);
    cr_assert(strstr(out, "heal n2 -> n1: n1 hears n2 again"), "%s", out);
    cr_assert(strstr(out, "heal n1 <-> n2: no link there was cut"), "%s", out);
    const char *a = strstr(tr, "\"node\":\"n1\",\"kind\":\"link\",\"to\":\"n2\"");
    const char *b = strstr(tr, "\"node\":\"n2\",\"kind\":\"link\",\"to\":\"n1\"");
    cr_assert(a && b && a < b, "n1->n2 mended first, then n2->n1:\n%s", tr);
    cr_assert(strstr(a, "\"cut\":false") && strstr(b, "\"cut\":false"), "%s", tr);
    cr_assert(!strstr(tr, "\"node\":\"n3\",\"kind\":\"link\""),
              "n3 -> n1 stays cut:\n%s", tr);
    free(out);
    free(tr);
}

/* A follower paused while its flush is outstanding sends nothing until it
 * resumes: the ack waits behind the flush.  It used to leave at the
 * flush's time although the frozen node had not taken the flush, so a
 * crash in the pause lost an entry its leader had been told it held; the
 * leader then probed it at that lsn forever (explore seed 25093 of 5
 * nodes: 5.5 million messages, 2 GB, minutes for one seed). */
Test(scenario_run, a_paused_follower_acks_nothing_its_crash_loses)
{
    struct scn_run_result r;
    char *out = NULL, *tr = NULL;
    size_t tlen = 0;
    FILE *tf = open_memstream(&tr, &tlen);
    int rc = run("nodes 3\n"
                 "disk 4ms\n"
                 "link all <-> all jitter 0us\n"
                 "await leader as L within 2s\n"
                 "let A B = all except L\n"
                 "wait 100ms\n"
                 "write alice x=1 via L\n"
                 "wait 7ms\n" /* A has lsn 2, flushing it until ~9.5 ms */
                 "pause A\n"
                 "wait 13ms\n"
                 "crash A lose-unflushed\n"
                 "wait 10ms\n"
                 "restart A\n"
                 "await caught-up A within 2s\n"
                 "expect discarded x on A\n"
                 "expect applied of A = applied of L\n"
                 "expect no violations\n",
                 &r, &out, tf);
    fclose(tf);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(r.discarded_crash, 1, "%s", out);
    /* one heartbeat round per 50 ms for the ~0.4 s the run takes, not a
     * probe per round trip */
    int sends = 0;
    for (const char *p = tr; (p = strstr(p, "\"kind\":\"send\"")); p++)
        sends++;
    cr_assert_lt(sends, 200, "%d messages sent:\n%s", sends, out);
    free(out);
    free(tr);
}
