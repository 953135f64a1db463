/*
 * test_hostile.c — frames from an authenticated but buggy peer, fed
 * straight to the core and to the virtual-time cluster (issue 15): every
 * frame the probe found fatal is dropped with a `reject` event, the
 * cluster keeps one leader and keeps committing, and the checker's memory
 * and time never follow a term's magnitude.  (The same frames through a
 * real socket, with and without the cluster key, are in test_tcp.c.)
 */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "sim/cluster/checker.h"
#include "sim/cluster/cluster.h"
#include "tests/fixture.h"

/* ------------------------------------------------------------------ */
/* Helpers */

static struct sim_cluster *cluster3(uint64_t seed)
{
    struct sim_options o;
    sim_options_default(&o, 3);
    o.seed = seed;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    return c;
}

/* An APPEND as the probe wrote it: [1,5,from,to,term,prev_lsn,prev_term,
 * commit_lsn,[[lsn,term,type,key,value],…]]; entries owned by the caller. */
static struct raft_msg append(int from, int to, uint64_t term,
                              uint64_t prev_lsn, uint64_t prev_term,
                              uint64_t commit_lsn, struct wal_entry *e,
                              uint32_t n)
{
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND;
    m.from = from;
    m.to = to;
    m.term = term;
    m.prev_lsn = prev_lsn;
    m.prev_term = prev_term;
    m.commit_lsn = commit_lsn;
    m.entries = e;
    m.n_entries = n;
    return m;
}

/* Feed m to node m.to of the cluster as if it had just arrived; its
 * outputs are carried out at the node's next event. */
static void feed(struct sim_cluster *c, const struct raft_msg *m)
{
    raft_step(sim_node(c, m->to), sim_now(c), m);
}

static int run_to_leader(struct sim_cluster *c, uint64_t within_us)
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

/* The cluster still works: a write through the leader commits. */
static void assert_commits(struct sim_cluster *c, const char *key)
{
    int w = sim_client_write(c, 1, 0, key, "v");
    uint64_t end = sim_now(c) + 5000000;
    while (sim_now(c) < end && sim_get_write(c, w)->outcome == SIM_PENDING)
        cr_assert(sim_run_until(c, sim_now(c) + 10000), "violation: %s",
                  sim_violation(c) ? sim_violation(c)->detail : "?");
    cr_assert_eq(sim_get_write(c, w)->outcome, SIM_ACKED, "write %s", key);
    cr_assert_eq(sim_violations(c), 0);
}

static int other_than(int a, int b)
{
    for (int i = 1; i <= 3; i++)
        if (i != a && i != b)
            return i;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The probe's frames, against the simulated cluster */

/* [1,5,2,1,1000000,0,0,0,[[1,999999,0,"k","v"],[2,1,0,"k","v"]]] aborted
 * the process: raft/replication.c asserted terms never decrease. */
Test(hostile, append_with_decreasing_entry_terms_is_rejected)
{
    struct sim_cluster *c = cluster3(1);
    cr_assert(run_to_leader(c, 2000000));
    assert_commits(c, "before");
    uint64_t term = raft_term(sim_node(c, 1));
    uint64_t last = wal_last_lsn(raft_wal(sim_node(c, 1)));
    struct wal_payload *p = wal_payload_new("k", 1, "v", 1);
    struct wal_entry e[2] = {{.lsn = 1, .term = 999999, .payload = p},
                             {.lsn = 2, .term = 1, .payload = p}};
    struct raft_msg m = append(2, 1, 1000000, 0, 0, 0, e, 2);
    feed(c, &m);
    wal_payload_unref(p);
    cr_assert_eq(raft_term(sim_node(c, 1)), term, "nothing adopted");
    cr_assert_eq(wal_last_lsn(raft_wal(sim_node(c, 1))), last);
    assert_commits(c, "after");
    cr_assert_eq(sim_stats(c)->rejected, 1);
    cr_assert_eq(sim_stats(c)->discarded, 0);
    sim_cluster_free(c);
}

/* [1,5,2,1,500,0,0,1,[[1,500,0,"evil","evil"]]] made n1 discard lsn 1
 * that it had committed (StateMachineSafety). */
Test(hostile, append_replacing_a_committed_entry_is_rejected)
{
    struct sim_cluster *c = cluster3(2);
    cr_assert(run_to_leader(c, 2000000));
    assert_commits(c, "before");
    cr_assert_geq(raft_commit_lsn(sim_node(c, 1)), 1);
    struct wal_payload *p = wal_payload_new("evil", 4, "evil", 4);
    struct wal_entry e = {.lsn = 1, .term = 500, .payload = p};
    struct raft_msg m = append(2, 1, 500, 0, 0, 1, &e, 1);
    feed(c, &m);
    wal_payload_unref(p);
    cr_assert_lt(raft_term(sim_node(c, 1)), 500);
    assert_commits(c, "after");
    cr_assert_eq(sim_stats(c)->discarded, 0);
    cr_assert_eq(sim_stats(c)->rejected, 1);
    sim_cluster_free(c);
}

/* An empty APPEND of term 2^63 hung the checker: `while (cap <= term)
 * cap *= 2` wrapped to 0 once a leader of term 2^63 + 1 appeared. */
Test(hostile, append_of_term_2_63_neither_hangs_nor_wedges, .timeout = 30)
{
    struct sim_cluster *c = cluster3(3);
    int l = run_to_leader(c, 2000000);
    cr_assert(l);
    for (int to = 1; to <= 3; to++) {
        if (to == l)
            continue;
        struct raft_msg m = append(other_than(l, to), to,
                                   UINT64_C(1) << 63, 0, 0, 0, NULL, 0);
        feed(c, &m);
    }
    cr_assert(sim_run_until(c, sim_now(c) + 3000000));
    cr_assert(run_to_leader(c, 2000000));
    for (int i = 1; i <= 3; i++)
        cr_assert_lt(raft_term(sim_node(c, i)), UINT64_C(1) << 32);
    assert_commits(c, "after");
    cr_assert_eq(sim_stats(c)->rejected, 2);
    sim_cluster_free(c);
}

/* Term 2^64 - 1: every node adopted it, pre-vote asked for term + 1 = 0
 * and lost forever — no leader again, and explore exited 0. */
Test(hostile, append_of_term_2_64_minus_1_does_not_lose_the_leader,
     .timeout = 30)
{
    struct sim_cluster *c = cluster3(4);
    int l = run_to_leader(c, 2000000);
    cr_assert(l);
    for (int to = 1; to <= 3; to++) {
        if (to == l)
            continue;
        struct raft_msg m =
            append(other_than(l, to), to, UINT64_MAX, 0, 0, 0, NULL, 0);
        feed(c, &m);
    }
    /* Take the leader away too: a new election must still succeed. */
    cr_assert(sim_run_until(c, sim_now(c) + 100000));
    sim_crash(c, l, false);
    cr_assert(run_to_leader(c, 3000000), "a new leader after the crash");
    sim_restart(c, l);
    assert_commits(c, "after");
    for (int i = 1; i <= 3; i++)
        cr_assert_lt(raft_term(sim_node(c, i)), UINT64_C(1) << 32);
    sim_cluster_free(c);
}

/* Term 2^29 is a legitimate jump (below RAFT_TERM_JUMP_MAX), so the
 * cluster adopts it; the checker's leader_of array indexed by term grew
 * to 3.17 GB and froze every node.  Its map stays small. */
Test(hostile, term_2_29_costs_the_checker_no_memory, .timeout = 60)
{
    struct sim_cluster *c = cluster3(5);
    int l = run_to_leader(c, 2000000);
    cr_assert(l);
    struct mallinfo2 before = mallinfo2();
    for (int to = 1; to <= 3; to++) {
        if (to == l)
            continue;
        struct raft_msg m =
            append(other_than(l, to), to, UINT64_C(1) << 29, 0, 0, 0, NULL, 0);
        feed(c, &m);
    }
    cr_assert(sim_run_until(c, sim_now(c) + 3000000));
    int l2 = run_to_leader(c, 2000000);
    cr_assert(l2);
    cr_assert_gt(raft_term(sim_node(c, l2)), UINT64_C(1) << 29,
                 "the jump was adopted and a leader won the next term");
    assert_commits(c, "after");
    struct mallinfo2 after = mallinfo2();
    size_t grew = (after.uordblks + after.hblkhd) -
                  (before.uordblks + before.hblkhd);
    cr_assert_lt(grew, (size_t)16 << 20, "heap grew by %zu bytes", grew);
    cr_assert_eq(sim_stats(c)->rejected, 0);
    sim_cluster_free(c);
}

/* ------------------------------------------------------------------ */
/* The checker on its own: leaders of huge terms */

Test(hostile, checker_takes_leaders_of_any_term, .timeout = 10)
{
    struct checker *k = chk_new(3, RAFT_ACK_QUORUM);
    uint64_t terms[] = {1, UINT64_C(1) << 29, UINT64_C(1) << 63,
                        UINT64_MAX - 1, UINT64_MAX};
    struct mallinfo2 before = mallinfo2();
    for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
        struct raft_event e;
        memset(&e, 0, sizeof(e));
        e.kind = RAFT_EV_ROLE;
        e.role = RAFT_LEADER;
        e.node = 1;
        e.term = terms[i];
        chk_event(k, i, &e, NULL);
        e.node = 2; /* a second leader of the same term is still caught */
        chk_event(k, i, &e, NULL);
        cr_assert_eq(chk_violations(k), i + 1);
        cr_assert_str_eq(chk_first_violation(k)->invariant,
                         "ElectionSafety");
    }
    /* Many leaders: the map grows with them, and still finds them all. */
    for (uint64_t t = 0; t < 10000; t++) {
        struct raft_event e;
        memset(&e, 0, sizeof(e));
        e.kind = RAFT_EV_ROLE;
        e.role = RAFT_LEADER;
        e.node = 3;
        e.term = (UINT64_C(1) << 40) + t * 7919;
        chk_event(k, 100, &e, NULL);
        chk_event(k, 100, &e, NULL); /* same node again: no violation */
    }
    cr_assert_eq(chk_violations(k), 5);
    struct mallinfo2 after = mallinfo2();
    size_t grew = (after.uordblks + after.hblkhd) -
                  (before.uordblks + before.hblkhd);
    cr_assert_lt(grew, (size_t)4 << 20, "checker grew by %zu bytes", grew);
    chk_free(k);
}

/* ------------------------------------------------------------------ */
/* Each rule, on the core alone (tests/fixture.h) */

static const struct fx_ev *last_reject(const struct fx *fx, int id,
                                       size_t since)
{
    const struct fx_ev *e, *last = NULL;
    while ((e = fx_next(fx, id, RAFT_EV_REJECT, &since)))
        last = e;
    return last;
}

/* n1 leads term 1 with lsn 1 (its no-op) and lsn 2 on every node. */
static struct fx *led(void)
{
    struct fx *fx = fx_new(3, NULL);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx);
    cr_assert_eq(fx_propose(fx, 1, "a", "1"), 2);
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 2);
    fx_tick_all(fx, fx->now + MS(50)); /* a heartbeat carries the commit */
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[2]), 2);
    return fx;
}

static void expect_reject(struct fx *fx, const struct raft_msg *m,
                          int reason, const char *what)
{
    int to = m->to;
    size_t mark = fx_mark(fx, to);
    uint64_t term = raft_term(fx->node[to]);
    uint64_t last = wal_last_lsn(raft_wal(fx->node[to]));
    int role = raft_role(fx->node[to]);
    size_t queued = fx->q_len;
    fx_step(fx, m);
    const struct fx_ev *r = last_reject(fx, to, mark);
    cr_assert_not_null(r, "%s: no reject event", what);
    cr_assert_eq(r->ev.reason, reason, "%s: reason %s", what,
                 raft_reason_name(r->ev.reason));
    cr_assert_eq(r->ev.peer, m->from);
    cr_assert_eq(r->ev.msg_type, m->type);
    cr_assert_eq(r->ev.msg_term, m->term);
    cr_assert_eq(fx_count(fx, to, 0, mark), 1, "%s: nothing else happened",
                 what);
    cr_assert_eq(raft_term(fx->node[to]), term);
    cr_assert_eq((int)raft_role(fx->node[to]), role);
    cr_assert_eq(wal_last_lsn(raft_wal(fx->node[to])), last);
    cr_assert_eq(fx->q_len, queued, "%s: no reply", what);
}

Test(hostile, each_rule_rejects_before_any_change)
{
    struct fx *fx = led();
    struct wal_payload *p = wal_payload_new("k", 1, "v", 1);
    struct raft_msg m;

    m = append(1, 2, UINT64_MAX, 2, 1, 2, NULL, 0);
    expect_reject(fx, &m, RAFT_R_TERM_RANGE, "term 2^64-1");
    m = append(1, 2, RAFT_TERM_JUMP_MAX + 2, 2, 1, 2, NULL, 0);
    expect_reject(fx, &m, RAFT_R_TERM_RANGE, "a jump over 2^32");
    m = append(1, 2, 0, 0, 0, 0, NULL, 0);
    expect_reject(fx, &m, RAFT_R_TERM_RANGE, "append of term 0");
    m = append(1, 2, 1, 2, 5, 2, NULL, 0);
    expect_reject(fx, &m, RAFT_R_LOG_TERM_RANGE, "prev_term above term");
    m = append(1, 2, 1, 0, 1, 2, NULL, 0);
    expect_reject(fx, &m, RAFT_R_LOG_TERM_RANGE, "term at lsn 0");
    m = append(1, 2, 1, UINT64_MAX - 1, 1, 2, NULL, 0);
    struct wal_entry one = {.lsn = UINT64_MAX, .term = 1, .payload = p};
    m.entries = &one;
    m.n_entries = 1;
    expect_reject(fx, &m, RAFT_R_LSN_RANGE, "lsn overflow");

    struct wal_entry gap[2] = {{.lsn = 3, .term = 1, .payload = p},
                               {.lsn = 5, .term = 1, .payload = p}};
    m = append(1, 2, 1, 2, 1, 2, gap, 2);
    expect_reject(fx, &m, RAFT_R_ENTRY_LSN, "a gap in the lsns");
    struct wal_entry down[2] = {{.lsn = 3, .term = 1, .payload = p},
                                {.lsn = 4, .term = 0, .payload = p}};
    m = append(1, 2, 1, 2, 1, 2, down, 2);
    expect_reject(fx, &m, RAFT_R_ENTRY_TERM, "decreasing terms");
    struct wal_entry above = {.lsn = 3, .term = 2, .payload = p};
    m = append(1, 2, 1, 2, 1, 2, &above, 1);
    expect_reject(fx, &m, RAFT_R_ENTRY_TERM, "entry above the term");
    struct wal_entry odd = {.lsn = 3, .term = 1, .type = 7, .payload = p};
    m = append(1, 2, 1, 2, 1, 2, &odd, 1);
    expect_reject(fx, &m, RAFT_R_ENTRY_TYPE, "unknown type");
    struct wal_entry over = {.lsn = 2, .term = 1, .payload = p};
    m = append(3, 2, 2, 1, 1, 2, &over, 1);
    over.term = 2;
    expect_reject(fx, &m, RAFT_R_BELOW_COMMIT, "replace committed lsn 2");

    /* Vote traffic: a log whose last term is above the message's. */
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_PREVOTE;
    m.from = 3;
    m.to = 2;
    m.term = 2;
    m.last_term = 3;
    m.last_lsn = 9;
    expect_reject(fx, &m, RAFT_R_LOG_TERM_RANGE, "prevote log term");

    /* Replies to the leader about lsns it does not have: an ack, and a
     * rejection whose hint sent next_lsn past the log (an assertion in
     * send_append). */
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND_RESP;
    m.from = 2;
    m.to = 1;
    m.term = 1;
    m.success = true;
    m.match_lsn = 99;
    expect_reject(fx, &m, RAFT_R_LSN_RANGE, "ack beyond the log");
    m.success = false;
    m.match_lsn = 0;
    m.reject_lsn = 1000000;
    m.hint_lsn = 1000000;
    expect_reject(fx, &m, RAFT_R_LSN_RANGE, "rejection beyond the log");
    m.reject_lsn = 2;
    m.hint_lsn = 3;
    expect_reject(fx, &m, RAFT_R_LSN_RANGE, "hint past the rejection");
    m.hint_lsn = 1;
    m.hint_term = 5;
    expect_reject(fx, &m, RAFT_R_LOG_TERM_RANGE, "hint term above term");

    /* The leader is unharmed: it still replicates and commits. */
    cr_assert_eq(raft_role(fx->node[1]), RAFT_LEADER);
    cr_assert_eq(fx_propose(fx, 1, "b", "2"), 3);
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 3);
    wal_payload_unref(p);
    fx_free(fx);
}

/* A frame the rules let through still follows Raft: a jump of exactly
 * RAFT_TERM_JUMP_MAX is adopted, and the cluster elects past it. */
Test(hostile, the_largest_allowed_jump_is_adopted_and_campaigned_past)
{
    struct fx *fx = led();
    struct raft_msg m = append(3, 2, 1 + RAFT_TERM_JUMP_MAX, 0, 0, 0, NULL, 0);
    fx_step(fx, &m);
    cr_assert_eq(raft_term(fx->node[2]), 1 + RAFT_TERM_JUMP_MAX);
    cr_assert_eq(fx_count(fx, 2, RAFT_EV_REJECT, 0), 0);
    fx_run(fx, fx->now + MS(3000));
    int l = fx_leader(fx);
    cr_assert(l);
    cr_assert_gt(raft_term(fx->node[l]), 1 + RAFT_TERM_JUMP_MAX);
    fx_free(fx);
}
