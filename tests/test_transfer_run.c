/*
 * test_transfer_run.c — leadership transfer above the core: the cluster
 * driver (sim_transfer, refused client writes, the trace), in memory and
 * over loopback TCP, the scenario word `transfer leader to NODE` and its
 * narration.  The core's own rules are in test_transfer.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/prng.h"
#include "sim/cluster/cluster.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"

/* Run until exactly one node leads (and it is `want`, if given). */
static int await_leader(struct sim_cluster *c, int want, uint64_t within_us)
{
    int ids[RAFT_MAX_NODES];
    uint64_t end = sim_now(c) + within_us;
    while (sim_now(c) < end) {
        cr_assert(sim_run_until(c, sim_now(c) + 500));
        if (sim_leaders(c, ids) == 1 && (!want || ids[0] == want))
            return ids[0];
    }
    return sim_leaders(c, ids) == 1 ? ids[0] : 0;
}

/* From the request to the new leader's first acknowledged write. */
static void switchover(enum sim_transport tr)
{
    struct sim_options o;
    sim_options_default(&o, 3);
    o.transport = tr;
    o.seed = 5;
    if (tr == SIM_TRANSPORT_TCP)
        o.link.latency_us = o.link.jitter_us = 0;
    char *tbuf = NULL;
    size_t tlen = 0;
    FILE *trace = open_memstream(&tbuf, &tlen);
    o.trace = trace;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    int l = await_leader(c, 0, 3000000);
    cr_assert(l);
    int w0 = sim_client_write(c, 1, l, "a", "1");
    cr_assert(sim_run_until(c, sim_now(c) + 100000));
    cr_assert_eq(sim_get_write(c, w0)->outcome, SIM_ACKED);
    int t = l % 3 + 1;
    uint64_t term = raft_term(sim_node(c, l));
    cr_assert_eq(sim_transfer(c, t, l), RAFT_ENOTLEADER);
    cr_assert_eq(sim_transfer(c, l, l), RAFT_EINVAL);
    uint64_t t0 = sim_now(c);
    cr_assert_eq(sim_transfer(c, l, t), RAFT_OK);
    int w1 = sim_client_write(c, 1, l, "b", "1"); /* lands mid-transfer */
    int k = await_leader(c, t, 1000000);
    uint64_t took = sim_now(c) - t0;
    /* well inside an election timeout: no timer had to fire */
    cr_assert_eq(k, t, "n%d leads, not the target n%d", k, t);
    cr_assert_lt(took, o.election_min_us, "took %llu us",
                 (unsigned long long)took);
    cr_assert_eq(raft_term(sim_node(c, t)), term + 1);
    /* the outcome of the write sent mid-transfer: within 50 ms in virtual
     * time; over TCP on a loaded machine it may take longer (bounded) */
    for (int i = 0; i < 40; i++) {
        cr_assert(sim_run_until(c, sim_now(c) + 50000));
        if (sim_get_write(c, w1)->outcome != SIM_PENDING ||
            tr != SIM_TRANSPORT_TCP)
            break;
    }
    const struct sim_write *w = sim_get_write(c, w1);
    if (w->outcome == SIM_REFUSED)
        cr_assert_eq(w->transfer_to, t, "refused: transfer in progress");
    else /* TCP: the hand-over can beat the client's 0.5 ms */
        cr_assert(tr == SIM_TRANSPORT_TCP && w->outcome == SIM_ACKED,
                  "outcome %s", sim_outcome_name(w->outcome));
    int w2 = sim_client_write(c, 1, 0, "c", "1");
    cr_assert(sim_run_until(c, sim_now(c) + 200000));
    cr_assert_eq(sim_get_write(c, w2)->outcome, SIM_ACKED);
    cr_assert_eq(sim_get_write(c, w2)->node, t);
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
    fclose(trace);
    cr_assert(strstr(tbuf, "\"kind\":\"transfer\""), "trace:\n%.2000s", tbuf);
    cr_assert(strstr(tbuf, "\"reason\":\"timeout-now\""));
    cr_assert(strstr(tbuf, "\"type\":\"timeout-now\""), "the message");
    cr_assert(strstr(tbuf, "\"transfer\":true"), "the vote's flag");
    free(tbuf);
}

Test(transfer_run, memory_cluster_switches_over)
{
    switchover(SIM_TRANSPORT_MEMORY);
}

Test(transfer_run, tcp_cluster_carries_timeout_now, .timeout = 30)
{
    switchover(SIM_TRANSPORT_TCP);
}

/* ------------------------------------------------------------------ */

static struct scn_program *parse(const char *text, char **err)
{
    struct scn_program *p = NULL;
    size_t len = 0;
    FILE *ef = open_memstream(err, &len);
    scn_parse("t.scn", text, strlen(text), &p, ef);
    fclose(ef);
    return p;
}

Test(transfer_run, the_word_parses_and_its_mistakes_are_explained)
{
    char *err = NULL;
    struct scn_program *p = parse("nodes 3\n"
                                  "transfer leader to n3\n"
                                  "await leader as L\n"
                                  "transfer L to n2\n",
                                  &err);
    cr_assert_not_null(p, "%s", err);
    cr_assert_eq(p->cmds[0].kind, SCN_TRANSFER);
    cr_assert_eq(p->cmds[0].from.var, SCN_VAR_LEADER);
    cr_assert_eq(p->cmds[0].node.id, 3);
    cr_assert_eq(p->cmds[2].kind, SCN_TRANSFER);
    cr_assert_geq(p->cmds[2].from.var, 0);
    cr_assert_eq(p->cmds[2].node.id, 2);
    scn_free(p);
    free(err);
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"nodes 3\ntransfer leader n3\n", "'to'"},
        {"nodes 3\ntransfer leader to n4\n", "no node n4"},
        {"nodes 3\ntransfer leader to\n", "node"},
        {"nodes 3\ntransfer leader to n2 now\n", "now"},
        {"nodes 3\ntransfr leader to n2\n", "did you mean 'transfer'"},
        {"nodes 3\ntransfer M to n2\n", "variable M is not bound"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        p = parse(bad[i].text, &err);
        cr_assert_null(p, "%s was accepted", bad[i].text);
        cr_assert(strstr(err, bad[i].says), "%s: %s", bad[i].text, err);
        free(err);
    }
}

static int run(const char *text, char **out)
{
    char *err = NULL;
    struct scn_program *p = parse(text, &err);
    cr_assert_not_null(p, "%s", err);
    free(err);
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.out = f;
    struct scn_run_result res;
    int rc = scn_run(p, &o, &res);
    fclose(f);
    scn_free(p);
    return rc;
}

Test(transfer_run, narration_tells_the_transfer_as_it_happened)
{
    char *out;
    int rc = run("nodes 3\n"
                 "await leader as L within 3s\n"
                 "let A B = all except L\n"
                 "write alice x=1 expect committed\n"
                 "wait 100ms\n"
                 "transfer leader to B\n"
                 "write bob y=1 expect refused\n"
                 "await leader in {B} within 1s\n"
                 "transfer A to L\n"
                 "isolate L\n"
                 "transfer leader to L\n"
                 "wait 200ms\n"
                 "expect leader is B\n",
                 &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "is up to date at lsn 2) — sends TimeoutNow"), "%s",
              out);
    cr_assert(strstr(out, "campaigns at once (TimeoutNow from n"), "%s", out);
    cr_assert(strstr(out, "refused by n"), "%s", out);
    cr_assert(strstr(out, "leadership transfer to n"), "%s", out);
    cr_assert(strstr(out, "the transfer's target)"), "%s", out);
    cr_assert(strstr(out, "cannot transfer leadership: it does not lead"),
              "%s", out);
    cr_assert(strstr(out, "abandoned after 150ms"), "%s", out);
    cr_assert(strstr(out, "accepts writes again"), "%s", out);
    free(out);
}

Test(transfer_run, a_lagging_target_is_told_as_caught_up_first)
{
    char *out;
    int rc = run("nodes 3\n"
                 "await leader as L within 3s\n"
                 "let A B = all except L\n"
                 "link L -> B latency 30ms\n"
                 "write alice x=1 expect committed\n"
                 "transfer leader to B\n"
                 "await leader in {B} within 1s\n",
                 &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "refuses writes while it brings n"), "%s", out);
    cr_assert(strstr(out, "is up to date at lsn 2 — sends TimeoutNow"), "%s",
              out);
    free(out);
}

/* ------------------------------------------------------------------ */
/* Safety under faults: random transfers among crashes, restarts,
 * partitions, heals and writes, with the checker on.  Virtual time. */

static int stress_seed(uint64_t seed, int *transfers, int *done)
{
    struct sim_options o;
    sim_options_default(&o, 5);
    o.seed = seed;
    o.n_clients = 2;
    if (seed % 2) /* no deferral to hide behind: plain Raft's vote rule */
        o.policy = RAFT_ELECT_RAFT;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    struct prng rng;
    prng_seed(&rng, seed * 7919 + 1);
    int ids[RAFT_MAX_NODES];
    for (int step = 0; step < 40; step++) {
        int pick = (int)prng_range(&rng, 0, 9);
        int k = (int)prng_range(&rng, 1, 5);
        int down = 0;
        for (int i = 1; i <= 5; i++)
            down += !sim_is_up(c, i);
        if (pick <= 3 && sim_leaders(c, ids) >= 1) {
            int l = ids[prng_range(&rng, 0, (uint64_t)sim_leaders(c, ids) - 1)];
            if (sim_transfer(c, l, k) == RAFT_OK)
                (*transfers)++;
        } else if (pick == 4 && down < 2) {
            sim_crash(c, k, prng_range(&rng, 0, 1));
        } else if (pick == 5 && !sim_is_up(c, k)) {
            sim_restart(c, k);
            /* a target that lags: the leader must catch it up first */
            if (sim_leaders(c, ids) >= 1 && sim_transfer(c, ids[0], k) ==
                                                RAFT_OK)
                (*transfers)++;
        } else if (pick == 6) {
            int group[RAFT_MAX_NODES + 1];
            for (int i = 1; i <= 5; i++)
                group[i] = (int)prng_range(&rng, 0, 1);
            sim_partition(c, group);
        } else if (pick == 7) {
            sim_heal(c);
        } else {
            char v[16];
            snprintf(v, sizeof(v), "v%d", step);
            sim_client_write(c, (int)prng_range(&rng, 1, 2), 0, "k", v);
        }
        if (!sim_run_until(c, sim_now(c) + prng_range(&rng, 1000, 150000)))
            break;
    }
    sim_heal(c);
    for (int i = 1; i <= 5; i++)
        if (!sim_is_up(c, i))
            sim_restart(c, i);
    sim_run_until(c, sim_now(c) + 2000000);
    sim_finish(c);
    *done += (int)sim_stats(c)->elections;
    int v = (int)sim_violations(c) + (int)sim_stats(c)->acked_lost;
    if (v)
        fprintf(stderr, "seed %llu: %s\n", (unsigned long long)seed,
                sim_violation(c) ? sim_violation(c)->detail : "acked lost");
    sim_cluster_free(c);
    return v;
}

/* A follower back from a crash lags: plain Raft (no deferral), so only
 * the catch-up before TimeoutNow keeps a stale log from winning. */
Test(transfer_run, a_restarted_follower_is_caught_up_before_it_leads)
{
    char *out;
    int rc = run("nodes 3\n"
                 "policy raft\n"
                 "await leader as L within 3s\n"
                 "let A B = all except L\n"
                 "crash B\n"
                 "write alice x=1 expect committed\n"
                 "write alice x=2 expect committed\n"
                 "restart B\n"
                 "transfer leader to B\n"
                 "await leader in {B} within 1s\n"
                 "expect log of B has x=2\n"
                 "write alice y=1 expect committed within 2s\n"
                 "expect no violations\n",
                 &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "is up to date at lsn 3 — sends TimeoutNow"), "%s",
              out);
    free(out);
}

Test(transfer_run, random_transfers_under_faults_break_no_invariant,
     .timeout = 120)
{
    int transfers = 0, elections = 0, bad = 0;
    const uint64_t seeds = 300;
    for (uint64_t s = 1; s <= seeds; s++)
        bad += stress_seed(s, &transfers, &elections);
    printf("transfer stress: %llu seeds, %d transfers started, %d elections, "
           "%d violations\n",
           (unsigned long long)seeds, transfers, elections, bad);
    cr_assert_eq(bad, 0, "%d violations", bad);
    cr_assert_gt(transfers, 1000, "transfers started: %d", transfers);
}
