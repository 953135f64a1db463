/*
 * test_flow.c — replication flow control (raft/replication.c,
 * raft/reorder.c): a follower that restarts under a heavy write load is
 * sent about what it lacks, not the same entries over and over.  Before
 * issue 15 the explore case `--writes-per-s 30000 --faults crash` sent a
 * restarted follower ~600 times the entries it needed (51 s, 2.8 GB).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sim/cluster/cluster.h"

struct counted {
    bool on;
    int node;
    uint64_t entries, entry_bytes; /* what the node appended */
};

static void count_appends(void *ctx, struct sim_cluster *c,
                          const struct raft_event *ev)
{
    (void)c;
    struct counted *k = ctx;
    if (!k->on || ev->kind != RAFT_EV_APPEND || ev->node != k->node)
        return;
    k->entries++;
    if (ev->payload)
        k->entry_bytes += ev->payload->key_len + ev->payload->value_len;
}

/* Client writes at writes_per_ms until `until` (virtual us). */
static void load(struct sim_cluster *c, uint64_t until, int writes_per_ms,
                 int *seq)
{
    while (sim_now(c) < until) {
        for (int i = 0; i < writes_per_ms; i++) {
            char key[24];
            snprintf(key, sizeof(key), "k%d", (*seq)++);
            sim_client_write(c, 1 + *seq % 3, 0, key, "value-of-some-size");
        }
        cr_assert(sim_run_until(c, sim_now(c) + 1000), "violation: %s",
                  sim_violation(c)->detail);
    }
}

Test(flow, a_restarted_follower_is_sent_at_most_twice_what_it_needs,
     .timeout = 120)
{
    struct sim_options o;
    sim_options_default(&o, 5);
    o.seed = 1;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    int l = sim_await_leader(c, 2000000);
    cr_assert(l);
    int f = l % 5 + 1;
    struct counted k = {.node = f};
    sim_set_hook(c, count_appends, &k);
    int seq = 0;

    load(c, sim_now(c) + 500000, 30, &seq); /* 30,000 writes/s */
    sim_crash(c, f, true);
    load(c, sim_now(c) + 1000000, 30, &seq);
    sim_restart(c, f);
    struct sim_sent before;
    sim_sent_to(c, f, &before);
    k.on = true;
    load(c, sim_now(c) + 2000000, 30, &seq);
    cr_assert(sim_run_until(c, sim_now(c) + 1000000)); /* catch up */

    struct sim_sent after;
    sim_sent_to(c, f, &after);
    l = sim_await_leader(c, 1000000);
    cr_assert(l);
    cr_assert_eq(wal_last_lsn(raft_wal(sim_node(c, f))),
                 wal_last_lsn(raft_wal(sim_node(c, l))), "caught up");
    uint64_t sent = after.entries - before.entries;
    uint64_t sent_bytes = after.entry_bytes - before.entry_bytes;
    cr_assert_gt(k.entries, 40000, "it needed the 1 s it missed and more");
    double ratio = (double)sent / (double)k.entries;
    double ratio_bytes = (double)sent_bytes / (double)k.entry_bytes;
    cr_log_info("restarted n%d: sent %llu entries (%llu bytes) in %llu "
                "appends, needed %llu (%llu bytes): x%.2f entries, x%.2f "
                "bytes",
                f, (unsigned long long)sent, (unsigned long long)sent_bytes,
                (unsigned long long)(after.appends - before.appends),
                (unsigned long long)k.entries,
                (unsigned long long)k.entry_bytes, ratio, ratio_bytes);
    cr_assert_leq(ratio_bytes, 2.0, "sent x%.2f the bytes it needed",
                  ratio_bytes);
    cr_assert_leq(ratio, 2.0, "sent x%.2f the entries it needed", ratio);
    cr_assert_eq(sim_violations(c), 0);
    sim_cluster_free(c);
}

/* ------------------------------------------------------------------ */
/* The follower side, step by step (tests/fixture.h) */

#include "tests/fixture.h"

/* Take every queued message to `to` out of the fixture's queue. */
static size_t take_to(struct fx *fx, int to, struct raft_msg *out,
                      size_t cap)
{
    size_t k = 0, n = fx->q_len;
    for (size_t i = 0; i < n; i++) {
        struct raft_msg m = fx->q[fx->q_head];
        fx->q_head = (fx->q_head + 1) % fx->q_cap;
        fx->q_len--;
        if (m.to == to && k < cap) {
            out[k++] = m;
        } else {
            fx->q[(fx->q_head + fx->q_len) % fx->q_cap] = m; /* requeue */
            fx->q_len++;
        }
    }
    return k;
}

static int count_rejections(struct fx *fx, int from)
{
    int k = 0;
    for (size_t i = 0; i < fx->q_len; i++) {
        const struct raft_msg *m = &fx->q[(fx->q_head + i) % fx->q_cap];
        k += m->from == from && m->type == RAFT_MSG_APPEND_RESP &&
             !m->success;
    }
    return k;
}

Test(flow, a_follower_keeps_appends_that_overtake_others)
{
    struct raft_config base;
    raft_config_default(&base, 1, 3);
    base.max_batch = 1;
    struct fx *fx = fx_new(3, &base);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx); /* the no-op everywhere: n2 and n3 replicate */
    cr_assert_eq(fx_propose(fx, 1, "a", "1"), 2);
    cr_assert_eq(fx_propose(fx, 1, "b", "2"), 3);
    cr_assert_eq(fx_propose(fx, 1, "c", "3"), 4);
    struct raft_msg m[8];
    cr_assert_eq(take_to(fx, 2, m, 8), 3, "three pipelined appends");
    /* they arrive last first */
    for (int i = 2; i >= 0; i--) {
        fx_step(fx, &m[i]);
        raft_msg_free(&m[i]);
    }
    cr_assert_eq(wal_last_lsn(raft_wal(fx->node[2])), 4);
    cr_assert_eq(count_rejections(fx, 2), 0, "nothing refused");
    fx_deliver_all(fx);
    cr_assert_eq(raft_match_lsn(fx->node[1], 2), 4);
    cr_assert(fx_logs_equal(fx, 1, 2));
    fx_free(fx);
}

/* A probe is answered at once, never kept: a follower keeps early
 * appends only while its last answer to the leader was a success. */
Test(flow, a_probe_ahead_of_the_log_is_refused_at_once)
{
    struct raft_config base;
    raft_config_default(&base, 1, 3);
    base.max_batch = 1;
    struct fx *fx = fx_new(3, &base);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx);
    fx_cut(fx, 1, 3);
    for (int i = 0; i < 5; i++) {
        char k[4] = {(char)('a' + i), 0};
        fx_propose(fx, 1, k, "v");
    }
    fx_deliver_all(fx);
    fx_heal(fx);
    /* n3 (log: lsn 1) restarts: it has answered nothing since, so an
     * append ahead of its log is a probe to refuse with a hint. */
    fx_crash(fx, 3, false);
    fx_restart(fx, 3);
    struct raft_msg hb = {.type = RAFT_MSG_APPEND, .from = 1, .to = 3,
                          .term = raft_term(fx->node[1]), .prev_lsn = 4,
                          .prev_term = raft_term(fx->node[1]),
                          .commit_lsn = 1};
    struct wal_entry e = {.lsn = 5, .term = hb.term};
    hb.entries = &e;
    hb.n_entries = 1;
    fx_step(fx, &hb);
    cr_assert_eq(count_rejections(fx, 3), 1, "refused, with a hint");
    fx_free(fx);
}
