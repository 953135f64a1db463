/*
 * test_writes.c — sim_options.forget_settled_writes (cluster_clients.c):
 * the client records held stay bounded, a forgotten write reads as NULL
 * and never as pending, the write hook still sees every outcome, and a
 * run that forgets is the same run (trace, stats, checker verdicts) as
 * one that keeps every record, also with lost messages, timeouts, crashes
 * and acknowledged writes lost in async mode.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/cluster.h"

struct seen {
    int outstanding, outcomes, max_held;
};

static void hook(void *ctx, struct sim_cluster *c, int widx)
{
    struct seen *s = ctx;
    const struct sim_write *w = sim_get_write(c, widx);
    cr_assert(w, "the hook sees write %d's record", widx);
    if (w->outcome != SIM_PENDING) {
        s->outcomes++;
        s->outstanding--;
    }
    if (sim_writes_held(c) > s->max_held)
        s->max_held = sim_writes_held(c);
}

/* A run of `writes` writes, at most 32 out at a time, with faults: 5%
 * loss, a short client timeout (unknown outcomes, settled out of order),
 * the leader crashed a third of the way through and restarted later. */
static struct sim_cluster *run(bool forget, enum raft_ack_mode mode,
                               int writes, FILE *trace, struct seen *s)
{
    struct sim_options o;
    sim_options_default(&o, 3);
    o.seed = 7;
    o.ack_mode = mode;
    o.link.drop = 0.05;
    o.client_timeout_us = 150000;
    o.trace = trace;
    o.forget_settled_writes = forget;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    memset(s, 0, sizeof(*s));
    sim_set_write_hook(c, hook, s);
    cr_assert(sim_await_leader(c, 2000000));
    int crashed = 0;
    for (int k = 0; k < writes; k++) {
        if (k == writes / 3) {
            int ids[RAFT_MAX_NODES];
            if (sim_leaders(c, ids) >= 1) {
                crashed = ids[0];
                sim_crash(c, crashed, true);
            }
        }
        if (k == writes / 2 && crashed)
            sim_restart(c, crashed);
        while (s->outstanding >= 32)
            sim_run_until(c, sim_now(c) + 1000);
        char key[16], val[16];
        snprintf(key, sizeof(key), "k%d", k % 50);
        snprintf(val, sizeof(val), "v%d", k);
        sim_client_write(c, 1 + k % 3, 0, key, val);
        s->outstanding++;
        sim_run_until(c, sim_now(c) + 300);
    }
    sim_run_until(c, sim_now(c) + 1000000); /* every write times out by then */
    sim_finish(c);
    return c;
}

Test(writes, forgetting_holds_a_bounded_window_and_loses_no_outcome)
{
    struct seen s;
    struct sim_cluster *c = run(true, RAFT_ACK_QUORUM, 6000, NULL, &s);
    cr_assert_eq(sim_n_writes(c), 6000);
    cr_assert_eq(s.outcomes, 6000, "the hook saw %d outcomes", s.outcomes);
    /* 32 out at a time, each settled within the 150 ms timeout: the
     * array holds a few hundred at most, never the whole run */
    cr_assert_lt(s.max_held, 1000, "held %d of 6000", s.max_held);
    cr_assert_lt(sim_writes_held(c), 200, "held %d at the end",
                 sim_writes_held(c));
    cr_assert_null(sim_get_write(c, 0));
    cr_assert_null(sim_get_write(c, 5000));
    cr_assert_null(sim_get_write(c, 6000)); /* never sent */
    const struct sim_stats *st = sim_stats(c);
    cr_assert_eq(st->acked + st->refused + st->unknown, 6000);
    cr_assert_gt(st->unknown, 0, "the faults made some outcomes unknown");
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

Test(writes, keeping_them_all_is_the_default)
{
    struct seen s;
    struct sim_cluster *c = run(false, RAFT_ACK_QUORUM, 2000, NULL, &s);
    cr_assert_eq(sim_writes_held(c), 2000);
    cr_assert_not_null(sim_get_write(c, 0));
    cr_assert_neq(sim_get_write(c, 0)->outcome, SIM_PENDING);
    sim_cluster_free(c);
}

static void same_run(enum raft_ack_mode mode)
{
    char *text[2];
    size_t len[2];
    uint64_t hash[2];
    struct sim_stats st[2];
    uint64_t viol[2];
    for (int f = 0; f < 2; f++) {
        FILE *tr = open_memstream(&text[f], &len[f]);
        struct seen s;
        struct sim_cluster *c = run(f == 1, mode, 3000, tr, &s);
        hash[f] = sim_trace_hash(c);
        st[f] = *sim_stats(c);
        viol[f] = sim_violations(c);
        sim_cluster_free(c);
        fclose(tr);
    }
    cr_assert_gt(len[0], 0);
    cr_assert_eq(hash[0], hash[1], "forgetting changed the trace");
    cr_assert_eq(len[0], len[1]);
    cr_assert_eq(memcmp(text[0], text[1], len[0]), 0);
    cr_assert_eq(st[0].acked, st[1].acked);
    cr_assert_eq(st[0].unknown, st[1].unknown);
    cr_assert_eq(st[0].refused, st[1].refused);
    cr_assert_eq(st[0].acked_lost, st[1].acked_lost);
    cr_assert_eq(st[0].acked_pending, st[1].acked_pending);
    cr_assert_eq(viol[0], viol[1]);
    if (mode == RAFT_ACK_ASYNC)
        cr_assert_gt(st[0].acked_lost, 0, "the crash lost acked writes");
    free(text[0]);
    free(text[1]);
}

Test(writes, forgetting_changes_nothing_the_checker_or_trace_says)
{
    same_run(RAFT_ACK_QUORUM);
}

Test(writes, forgetting_keeps_async_lost_writes_counted)
{
    /* async mode acknowledges before replication: the leader's crash
     * loses acknowledged writes, which the checker counts from its own
     * (lsn, term) copies whether or not the records are kept */
    same_run(RAFT_ACK_ASYNC);
}
