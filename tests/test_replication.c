/*
 * test_replication.c — the commit rule (Raft Figure 8, step by step),
 * truncation of an old leader's uncommitted tail, the three ack modes and
 * the keep-conflicts unsafe rule, driven through tests/fixture.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/fixture.h"

static uint64_t last_lsn(const struct fx *fx, int id)
{
    return wal_last_lsn(raft_wal(fx->node[id]));
}

static uint64_t term_at(const struct fx *fx, int id, uint64_t lsn)
{
    return wal_term_at(raft_wal(fx->node[id]), lsn);
}

/* Does node id have an event of kind with this lsn since `since`? */
static const struct fx_ev *ev_lsn(const struct fx *fx, int id, int kind,
                                  uint64_t lsn, size_t since)
{
    const struct fx_ev *e;
    while ((e = fx_next(fx, id, kind, &since)))
        if (e->ev.lsn == lsn)
            return e;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Figure 8 */

/* Steps (a)-(c) of Figure 8 with five nodes S1..S5.  Returns with S1
 * leader of term 3 and lsn 2 (S1's term-1 entry "a") on S1, S2 and S3 —
 * a majority — while S4 has only lsn 1 and S5 (down) has a term-2 entry
 * at lsn 2.  max_batch 1 lets the test stop S3 right after lsn 2.
 * (Terms are one lower than the paper's: our first leader is term 1.) */
static struct fx *figure8_abc(unsigned unsafe, size_t *mark1)
{
    struct raft_config base;
    raft_config_default(&base, 1, 5);
    base.policy = RAFT_ELECT_RAFT;
    base.max_batch = 1;
    base.unsafe = unsafe;
    bool noop = !(unsafe & RAFT_UNSAFE_COMMIT_OLD_TERM);
    struct fx *fx = fx_new(5, &base);

    /* lsn 1 everywhere: the no-op, or a write when there is none. */
    cr_assert(fx_elect(fx, 1));
    if (!noop)
        cr_assert_eq(fx_propose(fx, 1, "x", "1"), 1);
    fx_deliver_all(fx);
    for (int i = 1; i <= 5; i++)
        cr_assert_eq(last_lsn(fx, i), 1);

    /* (a) S1 (term 1) replicates lsn 2 to S2 only. */
    fx_cut(fx, 1, 3);
    fx_cut(fx, 1, 4);
    fx_cut(fx, 1, 5);
    cr_assert_eq(fx_propose(fx, 1, "a", "from-S1"), 2);
    fx_deliver_all(fx);
    cr_assert_eq(last_lsn(fx, 2), 2);
    cr_assert_eq(last_lsn(fx, 3), 1);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 1);

    /* (b) S1 crashes; S5 wins term 2 with S3, S4 and itself and writes a
     * different lsn 2 that nobody else receives. */
    fx_crash(fx, 1, false);
    fx_heal(fx);
    size_t m5 = fx_mark(fx, 5);
    cr_assert(fx_elect(fx, 5));
    fx_isolate(fx, 5); /* its appends, still queued, are lost */
    size_t pos = m5;
    const struct fx_ev *won = NULL, *e;
    while ((e = fx_next(fx, 5, RAFT_EV_ROLE, &pos)))
        if (e->ev.role == RAFT_LEADER)
            won = e;
    cr_assert_not_null(won);
    cr_assert_eq(won->ev.term, 2);
    cr_assert_eq(raft_nodeset_count(&won->ev.votes), 3);
    cr_assert(raft_nodeset_has(&won->ev.votes, 3));
    cr_assert(raft_nodeset_has(&won->ev.votes, 4));
    cr_assert(raft_nodeset_has(&won->ev.votes, 5));
    if (!noop)
        cr_assert_eq(fx_propose(fx, 5, "b", "from-S5"), 2);
    fx_deliver_all(fx);
    cr_assert_eq(last_lsn(fx, 5), 2);
    cr_assert_eq(term_at(fx, 5, 2), 2);
    for (int i = 2; i <= 4; i++)
        cr_assert_eq(term_at(fx, i, 2), i == 2 ? 1 : UINT64_MAX);

    /* (c) S5 crashes, S1 restarts and wins term 3, then replicates its
     * lsn 2 (term 1) to S3 — but nothing to S4, and S3 gets no more. */
    fx_crash(fx, 5, false);
    fx_heal(fx);
    fx_restart(fx, 1);
    *mark1 = fx_mark(fx, 1);
    cr_assert(fx_elect(fx, 1));
    cr_assert_eq(raft_term(fx->node[1]), 3);
    fx_cut(fx, 1, 4);
    for (int k = 0; last_lsn(fx, 3) < 2; k++) {
        cr_assert(k < 1000 && fx_deliver_one(fx), "S3 never got lsn 2");
    }
    fx_cut(fx, 1, 3);
    fx_deliver_all(fx);
    for (int i = 1; i <= 3; i++) {
        cr_assert_eq(term_at(fx, i, 2), 1, "S%d holds lsn 2 of term 1", i);
        cr_assert_str_eq(fx_key_at(fx, i, 2), "a");
    }
    cr_assert_eq(last_lsn(fx, 3), 2);
    cr_assert_eq(last_lsn(fx, 4), 1);
    cr_assert_eq(raft_match_lsn(fx->node[1], 3), 2);
    return fx;
}

Test(replication, figure8_old_term_entry_on_majority_is_not_committed)
{
    size_t m1;
    struct fx *fx = figure8_abc(0, &m1);
    cr_assert_eq(term_at(fx, 1, 3), 3, "the new leader's no-op");
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 1,
                 "lsn 2 is on a majority but of an older term");
    cr_assert_null(ev_lsn(fx, 1, RAFT_EV_COMMIT, 2, m1));

    /* Once the current-term no-op reaches a majority, lsn 2 commits with
     * it, in one step. */
    fx->cut[1][3] = false;
    fx_tick(fx, 1, raft_next_deadline(fx->node[1])); /* heartbeat */
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 3);
    cr_assert_not_null(ev_lsn(fx, 1, RAFT_EV_COMMIT, 3, m1));
    cr_assert_null(ev_lsn(fx, 1, RAFT_EV_COMMIT, 2, m1));

    /* (d) S1 crashes, S5 restarts: it can no longer win (S2 and S3 have
     * a term-3 log), so the committed lsn 2 is safe. */
    fx_crash(fx, 1, false);
    fx_restart(fx, 5);
    size_t m2 = fx_mark(fx, 2);
    cr_assert_not(fx_elect(fx, 5));
    const struct fx_ev *e;
    size_t pos = m2;
    bool refused = false;
    while ((e = fx_next(fx, 2, RAFT_EV_VOTE, &pos)))
        refused |= e->ev.peer == 5 && !e->ev.granted &&
                   e->ev.reason == RAFT_R_LOG_BEHIND;
    cr_assert(refused, "S2 refuses S5: log behind");
    for (int i = 2; i <= 4; i++)
        cr_assert_eq(fx_count(fx, i, RAFT_EV_DISCARD, 0), 0);
    cr_assert_str_eq(fx_key_at(fx, 2, 2), "a");
    cr_assert_str_eq(fx_key_at(fx, 3, 2), "a");
    fx_free(fx);
}

Test(replication, figure8_unsafe_commit_old_term_loses_committed_entry)
{
    size_t m1;
    struct fx *fx = figure8_abc(RAFT_UNSAFE_COMMIT_OLD_TERM, &m1);
    cr_assert_eq(last_lsn(fx, 1), 2, "no no-op under this rule");
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 2,
                 "unsafe: counted old-term replicas");
    cr_assert_not_null(ev_lsn(fx, 1, RAFT_EV_COMMIT, 2, m1));

    /* (d) S1 crashes, S5 restarts and wins (its last term 2 beats the
     * others' 1), then overwrites lsn 2 on S2 and S3. */
    fx_crash(fx, 1, false);
    fx_restart(fx, 5);
    size_t mark[FX_MAX + 1];
    for (int i = 1; i <= 5; i++)
        mark[i] = fx_mark(fx, i);
    cr_assert(fx_elect(fx, 5));
    fx_deliver_all(fx);
    for (int i = 2; i <= 3; i++) {
        size_t pos = mark[i];
        const struct fx_ev *d = fx_next(fx, i, RAFT_EV_DISCARD, &pos);
        cr_assert_not_null(d, "S%d discards the committed lsn 2", i);
        cr_assert_eq(d->ev.lsn, 2);
        cr_assert_eq(d->ev.entry_term, 1);
        cr_assert_str_eq(d->key, "a");
        cr_assert_eq(d->ev.reason, RAFT_R_CONFLICT);
        cr_assert_null(fx_next(fx, i, RAFT_EV_DISCARD, &pos));
        cr_assert_str_eq(fx_key_at(fx, i, 2), "b");
        cr_assert_eq(term_at(fx, i, 2), 2);
    }
    cr_assert_str_eq(fx_key_at(fx, 4, 2), "b");
    cr_assert_eq(raft_commit_lsn(fx->node[5]), 2,
                 "a second, different value committed at lsn 2");
    fx_free(fx);
}

/* ------------------------------------------------------------------ */
/* An old leader's uncommitted tail */

/* n1 leads term 1 (lsn 1 no-op, lsn 2 "w2" committed), is isolated and
 * takes "x3", "x4"; n2 wins term 2 and commits its no-op and "y4". */
static struct fx *split_brain(unsigned unsafe, size_t *mark1)
{
    struct raft_config base;
    raft_config_default(&base, 1, 3);
    base.unsafe = unsafe;
    struct fx *fx = fx_new(3, &base);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx);
    cr_assert_eq(fx_propose(fx, 1, "w2", "ok"), 2);
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 2);

    fx_isolate(fx, 1);
    *mark1 = fx_mark(fx, 1);
    cr_assert_eq(fx_propose(fx, 1, "x3", "lost"), 3);
    cr_assert_eq(fx_propose(fx, 1, "x4", "lost"), 4);
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 2);

    cr_assert(fx_elect(fx, 2));
    fx_deliver_all(fx);
    cr_assert_eq(raft_term(fx->node[2]), 2);
    cr_assert_eq(fx_propose(fx, 2, "y4", "kept"), 4);
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[2]), 4);
    cr_assert_eq(raft_role(fx->node[1]), RAFT_LEADER, "n1 does not know");

    fx_heal(fx);
    fx_run(fx, fx->now + MS(1000));
    cr_assert_eq(fx_leader(fx), 2);
    cr_assert_eq(raft_role(fx->node[1]), RAFT_FOLLOWER);
    cr_assert_eq(raft_leader(fx->node[1]), 2);
    return fx;
}

Test(replication, rejoining_old_leader_discards_exactly_its_uncommitted_tail)
{
    size_t m1;
    struct fx *fx = split_brain(0, &m1);
    cr_assert_eq(fx_count(fx, 1, RAFT_EV_DISCARD, m1), 2);
    size_t pos = m1;
    const char *keys[] = {"x3", "x4"};
    for (int i = 0; i < 2; i++) {
        const struct fx_ev *d = fx_next(fx, 1, RAFT_EV_DISCARD, &pos);
        cr_assert_not_null(d);
        cr_assert_eq(d->ev.lsn, 3u + (unsigned)i);
        cr_assert_eq(d->ev.entry_term, 1);
        cr_assert_str_eq(d->key, keys[i]);
        cr_assert_str_eq(d->value, "lost");
        cr_assert_eq(d->ev.reason, RAFT_R_CONFLICT);
    }
    cr_assert(fx_logs_equal(fx, 1, 2));
    cr_assert(fx_logs_equal(fx, 3, 2));
    cr_assert_str_eq(fx_key_at(fx, 1, 4), "y4");
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 4);
    cr_assert_eq(fx_count(fx, 2, RAFT_EV_DISCARD, 0), 0);
    cr_assert_eq(fx_count(fx, 3, RAFT_EV_DISCARD, 0), 0);
    fx_free(fx);
}

Test(replication, unsafe_keep_conflicts_follower_keeps_conflicting_suffix)
{
    size_t m1;
    struct fx *fx = split_brain(RAFT_UNSAFE_KEEP_CONFLICTS, &m1);
    cr_assert_eq(fx_count(fx, 1, RAFT_EV_DISCARD, m1), 0, "nothing dropped");
    cr_assert_eq(term_at(fx, 1, 3), 1);
    cr_assert_eq(term_at(fx, 1, 4), 1);
    cr_assert_str_eq(fx_key_at(fx, 1, 3), "x3");
    cr_assert_str_eq(fx_key_at(fx, 1, 4), "x4");
    cr_assert_eq(term_at(fx, 2, 3), 2);
    cr_assert_str_eq(fx_key_at(fx, 2, 4), "y4");
    cr_assert_not(fx_logs_equal(fx, 1, 2));
    /* The leader believes n1 matches, and n1 commits its own x3, x4. */
    cr_assert_eq(raft_match_lsn(fx->node[2], 1), 4);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 4);
    fx_free(fx);
}

/* ------------------------------------------------------------------ */
/* Ack modes */

static struct fx *ack_cluster(enum raft_ack_mode mode)
{
    struct raft_config base;
    raft_config_default(&base, 1, 3);
    base.ack_mode = mode;
    struct fx *fx = fx_new(3, &base);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 1);
    return fx;
}

/* With the followers unreachable and the leader flushing by hand: which
 * ACKs does a write at lsn 2 get before and after the leader's flush? */
static void ack_before_commit(enum raft_ack_mode mode, bool want_ack)
{
    struct fx *fx = ack_cluster(mode);
    fx->manual_flush[1] = true;
    fx_cut(fx, 1, 2);
    fx_cut(fx, 1, 3);
    size_t m = fx_mark(fx, 1);
    cr_assert_eq(fx_propose(fx, 1, "k", "v"), 2);
    fx_deliver_all(fx);
    cr_assert_null(ev_lsn(fx, 1, RAFT_EV_ACK, 2, m), "not durable yet");
    fx_flush(fx, 1);
    cr_assert_eq(raft_wal(fx->node[1])->flushed_lsn, 2);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 1, "no commit without peers");
    if (want_ack)
        cr_assert_not_null(ev_lsn(fx, 1, RAFT_EV_ACK, 2, m),
                           "async acks at the leader's own flush");
    else
        cr_assert_eq(fx_count(fx, 1, RAFT_EV_ACK, m), 0);

    /* Reconnect: the write commits; async already acked it. */
    fx_heal(fx);
    fx_run(fx, fx->now + MS(200));
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 2);
    cr_assert_eq(fx_count(fx, 1, RAFT_EV_ACK, m), 1, "one ACK for lsn 2");
    cr_assert_not_null(ev_lsn(fx, 1, RAFT_EV_ACK, 2, m));
    fx_free(fx);
}

Test(replication, async_ack_at_leader_flush_before_commit)
{
    ack_before_commit(RAFT_ACK_ASYNC, true);
}

Test(replication, quorum_ack_not_at_leader_flush_only_at_commit)
{
    ack_before_commit(RAFT_ACK_QUORUM, false);
}

Test(replication, quorum_ack_follows_commit)
{
    struct fx *fx = ack_cluster(RAFT_ACK_QUORUM);
    size_t m = fx_mark(fx, 1);
    cr_assert_eq(fx_propose(fx, 1, "k", "v"), 2);
    cr_assert_eq(fx_count(fx, 1, RAFT_EV_ACK, m), 0);
    fx_deliver_all(fx);
    size_t pos = m;
    const struct fx_ev *c = fx_next(fx, 1, RAFT_EV_COMMIT, &pos);
    cr_assert_not_null(c);
    cr_assert_eq(c->ev.lsn, 2);
    const struct fx_ev *a = fx_next(fx, 1, RAFT_EV_ACK, &pos);
    cr_assert_not_null(a, "ACK comes after the COMMIT");
    cr_assert_eq(a->ev.lsn, 2);
    fx_free(fx);
}

Test(replication, sync_ack_waits_for_every_voter)
{
    struct fx *fx = ack_cluster(RAFT_ACK_SYNC);
    cr_assert_not_null(ev_lsn(fx, 1, RAFT_EV_ACK, 1, 0), "no-op: all have it");
    fx_isolate(fx, 3);
    size_t m = fx_mark(fx, 1);
    cr_assert_eq(fx_propose(fx, 1, "k", "v"), 2);
    fx_deliver_all(fx);
    cr_assert_eq(raft_commit_lsn(fx->node[1]), 2, "a majority commits");
    cr_assert_not_null(ev_lsn(fx, 1, RAFT_EV_COMMIT, 2, m));
    cr_assert_eq(fx_count(fx, 1, RAFT_EV_ACK, m), 0, "n3 lacks lsn 2");
    fx_run(fx, fx->now + MS(120)); /* heartbeats, n3 still cut off */
    cr_assert_eq(fx_count(fx, 1, RAFT_EV_ACK, m), 0);

    fx_heal(fx);
    fx_run(fx, fx->now + MS(120));
    cr_assert_eq(raft_match_lsn(fx->node[1], 3), 2);
    cr_assert_eq(fx_count(fx, 1, RAFT_EV_ACK, m), 1);
    cr_assert_not_null(ev_lsn(fx, 1, RAFT_EV_ACK, 2, m));
    fx_free(fx);
}
