/*
 * test_snapshot.c — snapshots and log compaction (Raft §7): the WAL's
 * base keeps elections and the AppendEntries check right at the
 * boundary, a lagging follower is caught up by InstallSnapshot in
 * chunks, a crash midway leaves the old state, stale and duplicated
 * chunks change nothing, bad chunks are rejected.  Driven through
 * tests/fixture.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fixture.h"

static const char DATA[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static struct fx *three(uint32_t chunk)
{
    struct raft_config base;
    raft_config_default(&base, 1, 3);
    base.snap_chunk = chunk;
    struct fx *fx = fx_new(3, &base);
    cr_assert(fx_elect(fx, 1));
    fx_deliver_all(fx);
    return fx;
}

/* k writes, committed and applied everywhere reachable. */
static void writes(struct fx *fx, int k)
{
    for (int i = 0; i < k; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        cr_assert_neq(fx_propose(fx, 1, "k", v), 0);
    }
    fx_deliver_all(fx);
    fx_tick_all(fx, fx->now + MS(50)); /* heartbeat carries the commit */
    fx_deliver_all(fx);
}

static int n_queued(const struct fx *fx, int type, int to)
{
    int c = 0;
    for (size_t i = 0; i < fx->q_len; i++) {
        const struct raft_msg *m = &fx->q[(fx->q_head + i) % fx->q_cap];
        c += m->type == type && m->to == to;
    }
    return c;
}

static const struct fx_ev *snap_ev(const struct fx *fx, int id, int reason)
{
    size_t pos = 0;
    const struct fx_ev *e;
    while ((e = fx_next(fx, id, RAFT_EV_SNAPSHOT, &pos)))
        if (e->ev.reason == reason)
            return e;
    return NULL;
}

Test(snapshot, wal_compaction_keeps_the_last_included_lsn_and_term)
{
    struct wal w;
    wal_init(&w);
    for (int i = 0; i < 300; i++)
        cr_assert_eq(wal_append(&w, i < 100 ? 1 : 2, WAL_ENTRY_NOOP, NULL), 0);
    cr_assert_eq(wal_compact(&w, 250), 250);
    cr_assert_eq(w.base_lsn, 250);
    cr_assert_eq(w.base_term, 2);
    cr_assert_null(wal_get(&w, 250));
    cr_assert_eq(wal_get(&w, 251)->lsn, 251);
    cr_assert_eq(wal_term_at(&w, 250), 2);
    cr_assert_eq(wal_term_at(&w, 249), WAL_TERM_COMPACTED);
    cr_assert_eq(wal_term_first_lsn(&w, 300), 251, "not below the base");
    cr_assert_eq(wal_last_lsn_of_term(&w, 1), 0);
    cr_assert_eq(w.flushed_lsn, 250, "a snapshot is durable");
    cr_assert_eq(wal_compact(&w, 300), 50);
    cr_assert_eq(wal_count(&w), 0);
    cr_assert_eq(wal_last_lsn(&w), 300);
    cr_assert_eq(wal_last_term(&w), 2, "an empty log ends at its base");
    cr_assert_eq(wal_last_lsn_of_term(&w, 2), 300);
    cr_assert_eq(wal_append(&w, 3, WAL_ENTRY_NOOP, NULL), 0);
    cr_assert_eq(wal_get(&w, 301)->term, 3);
    cr_assert_eq(wal_truncate(&w, 301, NULL), 1);
    cr_assert_eq(wal_reset(&w, 400, 5), 0);
    cr_assert_eq(wal_last_lsn(&w), 400);
    cr_assert_eq(wal_last_term(&w), 5);
    wal_close(&w);
}

Test(snapshot, take_refuses_what_is_not_applied_or_already_compacted)
{
    struct fx *fx = three(0);
    writes(fx, 3);
    struct raft_node *r = fx->node[2];
    uint64_t applied = raft_applied_lsn(r);
    cr_assert_eq(applied, 4);
    cr_assert_eq(raft_snapshot_take(r, applied + 1, "x", 1), RAFT_EINVAL);
    cr_assert_eq(raft_snapshot_take(r, 0, "x", 1), RAFT_EINVAL);
    cr_assert_eq(raft_snapshot_take(r, 3, "abc", 3), RAFT_OK);
    fx_pump(fx, 2);
    cr_assert_eq(raft_snapshot_take(r, 3, "abc", 3), RAFT_EINVAL);
    cr_assert_eq(raft_snapshot_take(r, 2, "abc", 3), RAFT_EINVAL);
    const struct fx_ev *e = snap_ev(fx, 2, RAFT_R_COMPACT);
    cr_assert_not_null(e);
    cr_assert_eq(e->ev.lsn, 3);
    cr_assert_eq(e->ev.entry_term, 1);
    cr_assert_eq(e->ev.count, 3);
    cr_assert_eq(e->ev.bytes, 3);
    struct raft_snapshot s;
    cr_assert(raft_snapshot_get(r, &s));
    cr_assert_eq(s.lsn, 3);
    cr_assert(memcmp(s.data, "abc", 3) == 0);
    fx_crash(fx, 2, true);
    cr_assert_eq(raft_snapshot_take(r, 4, "x", 1), RAFT_EDOWN);
    fx_free(fx);
}

/* A voter whose whole log is compacted still knows where it ends. */
Test(snapshot, election_up_to_date_check_uses_the_snapshot_term)
{
    struct fx *fx = three(0);
    writes(fx, 1); /* lsn 2 everywhere */
    fx_isolate(fx, 3);
    writes(fx, 3); /* lsn 5 on n1, n2 */
    cr_assert_eq(raft_commit_lsn(fx->node[2]), 5);
    cr_assert_eq(raft_snapshot_take(fx->node[2], 5, "s", 1), RAFT_OK);
    fx_pump(fx, 2);
    cr_assert_eq(wal_count(raft_wal(fx->node[2])), 0, "n2's log is empty");
    fx_crash(fx, 1, false);
    fx_heal(fx);
    /* n3 (lsn 2) campaigns: n2 (all compacted, ends at 5 term 1) must
     * refuse it, pre-vote and vote alike */
    size_t since = fx_mark(fx, 2);
    cr_assert_eq(raft_campaign_now(fx->node[3], fx->now + MS(400)), RAFT_OK);
    fx->now += MS(400);
    fx_pump(fx, 3);
    fx_deliver_all(fx);
    const struct fx_ev *v = fx_next(fx, 2, RAFT_EV_VOTE, &since);
    cr_assert_not_null(v);
    cr_assert(!v->ev.granted);
    cr_assert_eq(v->ev.reason, RAFT_R_LOG_BEHIND);
    cr_assert_neq(raft_role(fx->node[3]), RAFT_LEADER);
    /* and n2 itself can win, with the votes it needs (n3's) */
    cr_assert(fx_elect(fx, 2));
    fx_free(fx);
}

static struct raft_msg append_to(struct fx *fx, int to, uint64_t prev,
                                 uint64_t prev_term, int n)
{
    struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = to,
                         .term = raft_term(fx->node[1]), .prev_lsn = prev,
                         .prev_term = prev_term,
                         .commit_lsn = raft_commit_lsn(fx->node[1])};
    const struct wal *w = raft_wal(fx->node[1]);
    m.n_entries = (uint32_t)n;
    m.entries = calloc((size_t)n + 1, sizeof(*m.entries));
    for (int i = 0; i < n; i++) {
        m.entries[i] = *wal_get(w, prev + 1 + (uint64_t)i);
        wal_payload_ref(m.entries[i].payload);
    }
    return m;
}

static const struct raft_msg *last_resp(const struct fx *fx, int to)
{
    const struct raft_msg *r = NULL;
    for (size_t i = 0; i < fx->q_len; i++) {
        const struct raft_msg *m = &fx->q[(fx->q_head + i) % fx->q_cap];
        if (m->to == to &&
            (m->type == RAFT_MSG_APPEND_RESP ||
             m->type == RAFT_MSG_SNAPSHOT_RESP))
            r = m;
    }
    return r;
}

Test(snapshot, append_entries_consistency_at_the_compaction_boundary)
{
    struct fx *fx = three(0);
    writes(fx, 5); /* lsn 6 everywhere */
    struct raft_node *f = fx->node[2];
    cr_assert_eq(raft_snapshot_take(f, 4, "s", 1), RAFT_OK);
    fx_pump(fx, 2);
    fx_deliver_all(fx);
    size_t since = fx_mark(fx, 2);

    /* prev at the base, right term: accepted */
    struct raft_msg m = append_to(fx, 2, 4, 1, 2);
    fx_step(fx, &m);
    raft_msg_free(&m);
    const struct raft_msg *r = last_resp(fx, 1);
    cr_assert(r && r->success);
    cr_assert_eq(r->match_lsn, 6);
    fx_deliver_all(fx);

    /* a stale resend from below the base: nothing compacted is touched,
     * no conflict, success up to what it covers */
    m = append_to(fx, 2, 1, 1, 5);
    fx_step(fx, &m);
    raft_msg_free(&m);
    r = last_resp(fx, 1);
    cr_assert(r && r->success);
    cr_assert_eq(r->match_lsn, 6);
    cr_assert_eq(fx_count(fx, 2, RAFT_EV_DISCARD, since), 0);
    cr_assert_eq(fx_count(fx, 2, RAFT_EV_REJECT, since), 0);
    fx_deliver_all(fx);

    cr_assert(fx_logs_equal(fx, 1, 2));

    /* prev at the base with another term (a leader of term 2 that holds
     * another history): refused, nothing applied */
    m = append_to(fx, 2, 4, 2, 0);
    m.term = raft_term(f) + 1;
    fx_step(fx, &m);
    raft_msg_free(&m);
    r = last_resp(fx, 1);
    cr_assert(r && !r->success);
    cr_assert_eq(wal_last_lsn(raft_wal(f)), 6);
    fx_deliver_all(fx);

    /* from below the base, with another term at the base: that would
     * replace a committed entry */
    m = append_to(fx, 2, 2, 1, 3);
    m.term = raft_term(f);
    m.entries[1].term = m.term; /* lsn 4, the base */
    m.entries[2].term = m.term;
    size_t p = fx_mark(fx, 2);
    fx_step(fx, &m);
    raft_msg_free(&m);
    const struct fx_ev *e = fx_next(fx, 2, RAFT_EV_REJECT, &p);
    cr_assert_not_null(e, "the entry at the base is checked");
    cr_assert_eq(e->ev.reason, RAFT_R_BELOW_COMMIT);
    cr_assert_eq(e->ev.lsn, 4);
    cr_assert_eq(wal_last_lsn(raft_wal(f)), 6);
    fx_free(fx);
}

/* n3 is cut off while n1 commits and compacts past it; healed, it is
 * sent the snapshot in chunks and then the rest of the log. */
static struct fx *lagging(uint32_t chunk, uint64_t *snap_lsn)
{
    struct fx *fx = three(chunk);
    writes(fx, 1);
    fx_isolate(fx, 3);
    writes(fx, 6);
    uint64_t lsn = raft_commit_lsn(fx->node[1]);
    cr_assert_eq(lsn, 8);
    cr_assert_eq(raft_snapshot_take(fx->node[1], lsn - 1, DATA,
                                    sizeof(DATA) - 1),
                 RAFT_OK);
    fx_pump(fx, 1);
    writes(fx, 2); /* lsn 10, after the snapshot */
    *snap_lsn = lsn - 1;
    return fx;
}

Test(snapshot, a_lagging_follower_is_caught_up_by_snapshot_then_the_log)
{
    uint64_t L;
    struct fx *fx = lagging(8, &L);
    cr_assert_eq(wal_last_lsn(raft_wal(fx->node[3])), 2);
    fx_heal(fx);
    int chunks = 0;
    for (int round = 0; round < 40; round++) {
        fx_tick_all(fx, fx->now + MS(50));
        while (fx->q_len) {
            chunks += n_queued(fx, RAFT_MSG_SNAPSHOT, 3) &&
                      fx->q[fx->q_head].type == RAFT_MSG_SNAPSHOT &&
                      fx->q[fx->q_head].to == 3;
            fx_deliver_one(fx);
        }
    }
    const struct fx_ev *send = snap_ev(fx, 1, RAFT_R_SNAP_SEND);
    cr_assert_not_null(send, "the leader sends its snapshot");
    cr_assert_eq(send->ev.peer, 3);
    cr_assert_eq(send->ev.lsn, L);
    cr_assert_eq(send->ev.bytes, sizeof(DATA) - 1);
    cr_assert_geq(chunks, 5, "36 bytes in chunks of 8");
    const struct fx_ev *in = snap_ev(fx, 3, RAFT_R_SNAP_INSTALL);
    cr_assert_not_null(in);
    cr_assert_eq(in->ev.lsn, L);
    cr_assert_eq(in->ev.peer, 1);
    struct raft_snapshot s;
    cr_assert(raft_snapshot_get(fx->node[3], &s));
    cr_assert_eq(s.lsn, L);
    cr_assert_eq(s.len, sizeof(DATA) - 1);
    cr_assert(memcmp(s.data, DATA, s.len) == 0, "byte for byte");
    cr_assert_eq(raft_wal(fx->node[3])->base_lsn, L);
    cr_assert(fx_logs_equal(fx, 1, 3));
    cr_assert_eq(raft_commit_lsn(fx->node[3]), raft_commit_lsn(fx->node[1]));
    cr_assert_eq(raft_match_lsn(fx->node[1], 3), 10);
    cr_assert_eq(raft_applied_lsn(fx->node[3]), 10);
    /* the entries it held (lsn 1, 2) were covered by the snapshot: none
     * is reported discarded */
    cr_assert_eq(fx_count(fx, 3, RAFT_EV_DISCARD, 0), 0);
    fx_free(fx);
}

/* Deliver until n3 has taken `k` chunks of the snapshot. */
static void deliver_chunks(struct fx *fx, int k)
{
    int got = 0;
    for (int guard = 0; got < k && guard < 10000; guard++) {
        if (!fx->q_len) {
            fx_tick_all(fx, fx->now + MS(50));
            continue;
        }
        const struct raft_msg *m = &fx->q[fx->q_head];
        got += m->type == RAFT_MSG_SNAPSHOT && m->to == 3;
        fx_deliver_one(fx);
    }
    cr_assert_eq(got, k);
}

Test(snapshot, a_crash_mid_install_leaves_the_old_state)
{
    uint64_t L;
    struct fx *fx = lagging(4, &L);
    fx_heal(fx);
    deliver_chunks(fx, 3); /* 12 of 36 bytes */
    struct raft_node *f = fx->node[3];
    cr_assert_null(snap_ev(fx, 3, RAFT_R_SNAP_INSTALL));
    fx_crash(fx, 3, true);
    struct raft_snapshot s;
    cr_assert(!raft_snapshot_get(f, &s), "no half snapshot survives");
    cr_assert_eq(raft_wal(f)->base_lsn, 0);
    cr_assert_eq(wal_last_lsn(raft_wal(f)), 2, "its old log, whole");
    cr_assert_eq(raft_commit_lsn(f), 2);
    fx_restart(fx, 3);
    fx_run(fx, fx->now + MS(2000));
    cr_assert_not_null(snap_ev(fx, 3, RAFT_R_SNAP_INSTALL));
    cr_assert(raft_snapshot_get(f, &s));
    cr_assert(s.len == sizeof(DATA) - 1 && memcmp(s.data, DATA, s.len) == 0,
              "the restarted transfer starts over: no bytes of the lost "
              "buffer");
    cr_assert(fx_logs_equal(fx, 1, 3));
    fx_free(fx);
}

static struct raft_msg *first_queued(struct fx *fx, int type, int to)
{
    for (size_t i = 0; i < fx->q_len; i++) {
        struct raft_msg *m = &fx->q[(fx->q_head + i) % fx->q_cap];
        if (m->type == type && m->to == to)
            return m;
    }
    return NULL;
}

Test(snapshot, stale_and_duplicate_chunks_change_nothing)
{
    uint64_t L;
    struct fx *fx = lagging(4, &L);
    fx_heal(fx);
    fx_tick_all(fx, fx->now + MS(50));
    /* let the heartbeat exchange run until the first chunk is queued */
    struct raft_msg *c0 = NULL;
    for (int g = 0; g < 100 && !(c0 = first_queued(fx, RAFT_MSG_SNAPSHOT, 3));
         g++)
        fx_deliver_one(fx);
    cr_assert_not_null(c0);
    cr_assert_eq(c0->snap_offset, 0);
    struct raft_msg dup;
    cr_assert_eq(raft_msg_copy(&dup, c0), RAFT_OK);
    /* deliver everything until the chunk at offset 8 is queued */
    struct raft_msg *c2 = NULL;
    for (int g = 0; g < 100; g++) {
        c2 = first_queued(fx, RAFT_MSG_SNAPSHOT, 3);
        if (c2 && c2->snap_offset == 8)
            break;
        fx_deliver_one(fx);
    }
    cr_assert(c2 && c2->snap_offset == 8);
    /* the old chunk again: the follower keeps its 8 bytes and says so;
     * the leader, with the chunk at 8 already out, sends nothing new */
    fx_step(fx, &dup);
    raft_msg_free(&dup);
    const struct raft_msg *r = last_resp(fx, 1);
    cr_assert(r && !r->success);
    cr_assert_eq(r->snap_offset, 8);
    int before = n_queued(fx, RAFT_MSG_SNAPSHOT, 3);
    cr_assert_eq(before, 1);
    fx_deliver_all(fx);
    /* the whole transfer still ends in one install of the right bytes */
    fx_run(fx, fx->now + MS(1000));
    int installs = 0;
    size_t p = 0;
    const struct fx_ev *e;
    while ((e = fx_next(fx, 3, RAFT_EV_SNAPSHOT, &p)))
        installs += e->ev.reason == RAFT_R_SNAP_INSTALL;
    cr_assert_eq(installs, 1);
    struct raft_snapshot s;
    cr_assert(raft_snapshot_get(fx->node[3], &s));
    cr_assert(s.len == sizeof(DATA) - 1 && memcmp(s.data, DATA, s.len) == 0);
    /* a chunk of another snapshot, not at offset 0: start over at 0 */
    struct raft_msg o = {.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 3,
                         .term = raft_term(fx->node[1]), .last_lsn = 99,
                         .last_term = 1, .snap_offset = 4, .snap_total = 8,
                         .snap_done = true, .n_entries = 1};
    o.entries = calloc(1, sizeof(*o.entries));
    o.entries[0].payload = wal_payload_new("", 0, "abcd", 4);
    fx_step(fx, &o);
    r = last_resp(fx, 1);
    cr_assert(r && !r->success);
    cr_assert_eq(r->snap_offset, 0);
    cr_assert_eq(raft_wal(fx->node[3])->base_lsn, L, "nothing installed");
    raft_msg_free(&o);
    fx_free(fx);
}

Test(snapshot, chunks_outside_their_snapshot_are_rejected)
{
    struct fx *fx = three(0);
    writes(fx, 2);
    struct {
        uint64_t off, total, lsn, lterm;
        bool done;
        int reason;
    } bad[] = {
        {6, 8, 50, 1, true, RAFT_R_SNAP_RANGE},  /* 6 + 4 > 8 */
        {0, 4, 50, 1, false, RAFT_R_SNAP_RANGE}, /* ends it, not done */
        {0, (uint64_t)RAFT_SNAPSHOT_MAX + 1, 50, 1, false, RAFT_R_SNAP_RANGE},
        {0, 4, 0, 1, true, RAFT_R_LOG_TERM_RANGE},  /* lsn 0 */
        {0, 4, 50, 9, true, RAFT_R_LOG_TERM_RANGE}, /* term above msg's */
        {0, 4, 2, 0, true, RAFT_R_LOG_TERM_RANGE},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct raft_msg m = {.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 2,
                             .term = raft_term(fx->node[1]),
                             .last_lsn = bad[i].lsn,
                             .last_term = bad[i].lterm,
                             .snap_offset = bad[i].off,
                             .snap_total = bad[i].total,
                             .snap_done = bad[i].done, .n_entries = 1};
        m.entries = calloc(1, sizeof(*m.entries));
        m.entries[0].payload = wal_payload_new("", 0, "abcd", 4);
        size_t since = fx_mark(fx, 2);
        fx_step(fx, &m);
        raft_msg_free(&m);
        const struct fx_ev *e = fx_next(fx, 2, RAFT_EV_REJECT, &since);
        cr_assert_not_null(e, "case %zu", i);
        cr_assert_eq(e->ev.reason, bad[i].reason, "case %zu: %s", i,
                     raft_reason_name(e->ev.reason));
    }
    cr_assert_str_eq(raft_reason_name(RAFT_R_SNAP_RANGE), "snapshot-range");
    cr_assert_str_eq(raft_event_kind_name(RAFT_EV_SNAPSHOT), "snapshot");
    cr_assert_str_eq(raft_msg_type_name(RAFT_MSG_SNAPSHOT_RESP),
                     "snapshot-resp");
    /* a snapshot at or below the commit point is answered, not installed */
    struct raft_msg m = {.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 2,
                         .term = raft_term(fx->node[1]), .last_lsn = 2,
                         .last_term = 1, .snap_total = 4, .snap_done = true,
                         .n_entries = 1};
    m.entries = calloc(1, sizeof(*m.entries));
    m.entries[0].payload = wal_payload_new("", 0, "abcd", 4);
    fx_step(fx, &m);
    raft_msg_free(&m);
    const struct raft_msg *r = last_resp(fx, 1);
    cr_assert(r && r->success);
    cr_assert_eq(r->match_lsn, raft_commit_lsn(fx->node[2]));
    cr_assert_null(snap_ev(fx, 2, RAFT_R_SNAP_INSTALL));
    fx_free(fx);
}

/* ------------------------------------------------------------------ */
/* The simulator: explore's swarm draws a snapshot policy; every node
 * compacts, laggards are caught up by snapshot, the checker is quiet,
 * and the draw leaves every other draw of the seed as it was. */

#include "sim/cluster/explore.h"

Test(snapshot, explore_swarm_draws_a_policy_and_stays_safe)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.nodes = 5;
    o.seeds = 30;
    o.duration_us = 4000000;
    o.snapshot_every = EXPLORE_SNAP_SWARM;
    o.check_determinism = true;
    char *buf = NULL;
    size_t len = 0;
    FILE *tr = open_memstream(&buf, &len);
    o.trace = tr;
    struct explore_result r;
    explore_run(&o, &r);
    fclose(tr);
    cr_assert_eq(r.violations, 0, "%s", r.first.detail);
    cr_assert_eq(r.nondeterministic, 0);
    int compact = 0, send = 0, install = 0;
    for (char *p = buf; (p = strstr(p, "\"kind\":\"snapshot\"")); p++) {
        compact += !strncmp(p + 17, ",\"reason\":\"compact\"", 19);
        send += !strncmp(p + 17, ",\"reason\":\"send\"", 16);
        install += !strncmp(p + 17, ",\"reason\":\"install\"", 19);
    }
    free(buf);
    cr_assert_gt(compact, 0);
    cr_assert_gt(send, 0, "some laggard needed a snapshot");
    cr_assert_gt(install, 0);
    /* the policy has its own stream: the rest of the draw is unchanged */
    struct explore_opts plain = o;
    plain.snapshot_every = 0;
    int with = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct explore_swarm a, b;
        explore_swarm_draw(&o, seed, &a);
        explore_swarm_draw(&plain, seed, &b);
        with += a.snap_entries != 0;
        cr_assert(a.snap_entries == 0 || (a.snap_entries >= 2 &&
                                          a.snap_entries <= 500));
        a.snap_entries = 0;
        cr_assert(memcmp(&a, &b, sizeof(a)) == 0, "seed %llu",
                  (unsigned long long)seed);
    }
    cr_assert(with > 25 && with < 50, "about three in four draw one: %d", with);
}
