/*
 * replication.c — AppendEntries, the commit rule and client acknowledgement.
 *
 * The leader keeps a progress record per follower (etcd's Progress).  A
 * follower starts in probe state: one append at a time until the point
 * where the logs match is found, using the rejection hint (the term at the
 * conflict and where that term starts in the follower's log) to skip back
 * a whole term per round trip.  Once matched it is in replicate state and
 * appends are pipelined, up to max_inflight unacknowledged batches; the
 * follower keeps the ones that overtake others (reorder.c), so in
 * replicate state a "gap" rejection (the follower's log ends before the
 * append's prev_lsn) of a pipelined append only means another is still
 * on its way and is ignored.  Lost appends show as a gap in the answer
 * to the heartbeat (an empty append at next_lsn - 1) when nothing was
 * sent since, or else as a stall (entries out and no ack over two
 * heartbeats); either sends the follower back to probe state.  Every entry is thus sent about once, whatever
 * the network reorders; a crashed follower costs one window and then one
 * probe per heartbeat.
 *
 * A follower that finds an entry whose term differs from the leader's at
 * the same lsn deletes it and everything after it (Raft §5.3).  That is
 * how an old leader throws away the uncommitted tail it wrote while cut
 * off; each thrown-away entry is reported as a DISCARD event.
 *
 * The leader commits lsn N once a majority holds it and N is of its own
 * term (§5.4.2, Figure 8); older entries commit with it.  What a client
 * is told depends on the ack mode, computed in maybe_ack().
 */
#include "raft/internal.h"

#include <assert.h>
#include <stdlib.h>

static uint64_t *infl_ring(struct raft_node *n, int peer)
{
    return n->infl + (size_t)peer * n->cfg.max_inflight;
}

/* An ack of lsn `upto` frees every append that ends at or before it. */
static void infl_free_to(struct raft_node *n, int peer, uint64_t upto)
{
    struct raft_progress *p = &n->prog[peer];
    uint64_t *ring = infl_ring(n, peer);
    while (p->inflight && ring[p->infl_head] <= upto) {
        p->infl_head = (p->infl_head + 1) % n->cfg.max_inflight;
        p->inflight--;
    }
}

void raft__become_probe(struct raft_progress *p, uint64_t next)
{
    p->probe = true;
    p->probe_sent = false;
    p->next_lsn = next;
    p->inflight = 0;
    p->infl_head = 0;
    p->stalled = 0;
}

/* An empty append at the follower's next lsn: keeps it following and
 * carries the commit; its answer shows progress (or a gap). */
static void send_heartbeat(struct raft_node *n, int peer)
{
    struct raft_progress *p = &n->prog[peer];
    if (p->snap || p->next_lsn <= n->wal.base_lsn) {
        raft__send_snapshot(n, peer); /* the chunk due, again */
        return;
    }
    struct raft_msg *m = raft__msg(n, RAFT_MSG_APPEND, peer);
    m->prev_lsn = p->next_lsn - 1;
    m->prev_term = wal_term_at(&n->wal, m->prev_lsn);
    m->commit_lsn = n->commit_lsn;
}

void raft__send_append(struct raft_node *n, int peer)
{
    struct raft_progress *p = &n->prog[peer];
    uint64_t last = wal_last_lsn(&n->wal);
    assert(p->next_lsn >= 1 && p->next_lsn <= last + 1);
    if (p->snap || p->next_lsn <= n->wal.base_lsn) {
        /* What it needs next was compacted: the snapshot instead. */
        raft__send_snapshot(n, peer);
        return;
    }
    uint64_t prev = p->next_lsn - 1;
    uint64_t count = last - prev;
    if (count > n->cfg.max_batch)
        count = n->cfg.max_batch;
    struct wal_entry *entries = NULL;
    if (count) {
        entries = malloc(count * sizeof(*entries));
        if (!entries)
            abort();
        for (uint64_t i = 0; i < count; i++) {
            entries[i] = *wal_get(&n->wal, prev + 1 + i);
            wal_payload_ref(entries[i].payload);
        }
    }
    struct raft_msg *m = raft__msg(n, RAFT_MSG_APPEND, peer);
    m->prev_lsn = prev;
    m->prev_term = wal_term_at(&n->wal, prev);
    m->commit_lsn = n->commit_lsn;
    m->n_entries = (uint32_t)count;
    m->entries = entries;
    if (p->probe) {
        p->probe_sent = true;
    } else if (count) {
        p->next_lsn += count;
        uint64_t *ring = infl_ring(n, peer);
        ring[(p->infl_head + p->inflight) % n->cfg.max_inflight] =
            p->next_lsn - 1;
        p->inflight++;
    }
}

/* Heartbeat: every follower gets an append; replies refresh CheckQuorum.
 * A probing follower gets its probe again; a replicating one an empty
 * append, unless it stalled (entries out, no ack for two heartbeats:
 * they were lost), which sends it back to probing at its match point.
 * Otherwise: push new entries to followers with room in their window. */
void raft__broadcast(struct raft_node *n, bool heartbeat)
{
    for (int i = 1; i <= n->cfg.n_nodes; i++) {
        if (i == n->cfg.id || !raft__is_member(n, i))
            continue; /* voters and learners get the log, no one else */
        struct raft_progress *p = &n->prog[i];
        if (heartbeat && p->snap) {
            p->snap_sent = false; /* resend the chunk due: it may be lost */
        } else if (heartbeat && p->probe) {
            p->probe_sent = false;
        } else if (heartbeat) {
            bool out = p->next_lsn > p->match_lsn + 1;
            p->stalled = out && p->match_lsn == p->hb_match
                             ? (uint8_t)(p->stalled + 1)
                             : 0;
            p->hb_match = p->match_lsn;
            if (p->stalled >= 2)
                raft__become_probe(p, p->match_lsn + 1);
            else
                send_heartbeat(n, i);
        }
        raft__push(n, i);
    }
}

/* Replicate to one peer: a probe when it is probing and none is out,
 * else new entries while its window has room.  Also used by a
 * leadership transfer to catch its target up (transfer.c). */
void raft__push(struct raft_node *n, int peer)
{
    struct raft_progress *p = &n->prog[peer];
    if (p->snap || p->next_lsn <= n->wal.base_lsn) {
        raft__send_snapshot(n, peer);
        return;
    }
    if (p->probe) {
        if (!p->probe_sent)
            raft__send_append(n, peer);
        return;
    }
    uint64_t last = wal_last_lsn(&n->wal);
    while (p->next_lsn <= last && p->inflight < n->cfg.max_inflight)
        raft__send_append(n, peer);
}

/* ------------------------------------------------------------------ */
/* Follower side */

static void truncate_conflict(struct raft_node *n, uint64_t from)
{
    struct wal_entry *lost = NULL;
    uint64_t k = wal_truncate(&n->wal, from, &lost);
    for (uint64_t i = 0; lost && i < k; i++)
        raft__emit_entry(n, RAFT_EV_DISCARD, &lost[i], RAFT_R_CONFLICT);
    wal_entries_free(lost, k);
    raft__conf_reload(n, false); /* its config entry may have gone */
    if (n->persist_handed >= from)
        n->persist_handed = from - 1;
    /* Only an unsafe rule can get here with committed entries; keep the
     * positions inside the log and let the checker report it. */
    if (n->commit_lsn >= from)
        n->commit_lsn = from - 1;
    if (n->applied_handed >= from)
        n->applied_handed = from - 1;
}

static void append_one(struct raft_node *n, const struct raft_msg *m);

void raft__recv_append(struct raft_node *n, const struct raft_msg *m)
{
    append_one(n, m);
    raft__early_drain(n);
}

bool raft__heard_leader(struct raft_node *n, const struct raft_msg *m)
{
    assert(m->term == n->term);
    if (n->role == RAFT_LEADER)
        return false; /* two leaders in one term: the checker will say so */
    n->fast_left = 0; /* a leader again: plain election timeouts */
    if (n->role != RAFT_FOLLOWER || n->leader != m->from)
        raft__become_follower(n, n->term, m->from, RAFT_R_LEADER_SEEN,
                              m->from);
    else
        raft__reset_election_timer(n);
    n->leader_contact = n->now;
    n->leader_contact_valid = true;
    n->deferred = false;
    return true;
}

static void append_one(struct raft_node *n, const struct raft_msg *m)
{
    if (!raft__heard_leader(n, m))
        return;

    uint64_t last = wal_last_lsn(&n->wal);
    if (m->prev_lsn > last && raft__early_keep(n, m))
        return; /* answered when the gap fills */
    struct raft_msg *r = raft__msg(n, RAFT_MSG_APPEND_RESP, m->from);
    if (m->prev_lsn > last) {
        r->reject_lsn = m->prev_lsn;
        r->hint_lsn = last + 1;
        n->early_ok = false;
        return;
    }
    /* Below our snapshot everything is committed, and a correct leader
     * holds the same (validate.c checks the entry at the boundary). */
    uint64_t base = n->wal.base_lsn;
    uint64_t t = m->prev_lsn < base ? m->prev_term
                                    : wal_term_at(&n->wal, m->prev_lsn);
    if (t != m->prev_term) {
        n->early_ok = false;
        r->reject_lsn = m->prev_lsn;
        r->hint_term = t;
        r->hint_lsn = wal_term_first_lsn(&n->wal, m->prev_lsn);
        return;
    }
    bool keep = n->cfg.unsafe & RAFT_UNSAFE_KEEP_CONFLICTS;
    for (uint32_t i = 0; i < m->n_entries; i++) {
        const struct wal_entry *e = &m->entries[i];
        assert(e->lsn == m->prev_lsn + 1 + i); /* validate.c */
        if (e->lsn <= base)
            continue; /* in our snapshot */
        if (e->lsn <= wal_last_lsn(&n->wal)) {
            if (wal_term_at(&n->wal, e->lsn) == e->term || keep)
                continue;
            truncate_conflict(n, e->lsn);
        }
        assert(keep || n->cfg.unsafe || e->term >= wal_last_term(&n->wal));
        if (wal_append(&n->wal, e->term, e->type, e->payload) != 0)
            abort();
        raft__emit_entry(n, RAFT_EV_APPEND, wal_get(&n->wal, e->lsn),
                         RAFT_R_NONE);
        if (e->type == WAL_ENTRY_CONFIG)
            raft__conf_appended(n, e->lsn); /* in force at once (§4.1) */
    }
    uint64_t match = m->prev_lsn + m->n_entries;
    if (match < base)
        match = base;
    uint64_t commit = m->commit_lsn < match ? m->commit_lsn : match;
    if (commit > n->commit_lsn) {
        uint64_t from = n->commit_lsn;
        n->commit_lsn = commit;
        struct raft_event *ev = raft__event(n, RAFT_EV_COMMIT);
        ev->lsn = commit;
        raft__conf_commit(n, from);
    }
    r->success = true;
    r->match_lsn = match;
    n->early_ok = true;
}

/* ------------------------------------------------------------------ */
/* Leader side */

static void maybe_ack(struct raft_node *n)
{
    uint64_t a = 0;
    switch (n->cfg.ack_mode) {
    case RAFT_ACK_ASYNC:
        a = n->wal.flushed_lsn;
        break;
    case RAFT_ACK_QUORUM:
        a = n->commit_lsn;
        break;
    case RAFT_ACK_SYNC:
        a = n->commit_lsn;
        for (int i = 1; i <= n->cfg.n_nodes; i++)
            if (raft__is_voter(n, i) && n->prog[i].match_lsn < a)
                a = n->prog[i].match_lsn;
        break;
    }
    if (a > n->ack_lsn) {
        n->ack_lsn = a;
        struct raft_event *ev = raft__event(n, RAFT_EV_ACK);
        ev->lsn = a;
    }
}

/* The k-th largest of v[0..n) (1 <= k <= n), reordering v: Hoare's
 * quickselect with a median-of-three pivot, expected O(n).  Deterministic:
 * the pivot depends only on the values. */
static uint64_t kth_largest(uint64_t *v, int n, int k)
{
    int lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        uint64_t a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
        uint64_t pivot = a < b ? (b < c ? b : (a < c ? c : a))
                               : (a < c ? a : (b < c ? c : b));
        int i = lo, j = hi;
        while (i <= j) { /* descending: big ones to the left */
            while (v[i] > pivot)
                i++;
            while (v[j] < pivot)
                j--;
            if (i <= j) {
                uint64_t t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (want <= j)
            hi = j;
        else if (want >= i)
            lo = i;
        else
            return v[want]; /* between j and i: equal to the pivot */
    }
    return v[want];
}

uint64_t raft_quorum_lsn(const uint64_t *match, int n, int quorum,
                         uint64_t floor)
{
    uint64_t above[RAFT_MAX_NODES + 1];
    int k = 0;
    if (n < 1 || quorum < 1 || quorum > n || n > RAFT_MAX_NODES + 1)
        return floor;
    for (int i = 0; i < n; i++)
        if (match[i] > floor)
            above[k++] = match[i];
    /* Fewer than a quorum past the floor: the quorum-th largest is at or
     * below it.  This is most replies: every ack after the one that moved
     * the commit point costs this one pass. */
    if (k < quorum)
        return floor;
    return kth_largest(above, k, quorum);
}

/* Commit the highest lsn a quorum holds, if it is of this term (§5.4.2).
 * O(1) for most acks: n_above counts the followers past the commit lsn,
 * so while fewer than a quorum (the leader included) are past it nothing
 * can commit.  Only when a quorum is, the match indices are gathered and
 * the quorum-th largest selected (raft_quorum_lsn, O(N)); that happens
 * about once per commit step, and so does the recount after it. */
void raft__maybe_commit(struct raft_node *n)
{
    assert(n->role == RAFT_LEADER);
    int self = n->cfg.id;
    uint64_t floor = n->commit_lsn;
    n->prog[self].match_lsn = n->wal.flushed_lsn;
    if (!n->above_valid || n->above_floor != floor) {
        n->n_above = 0;
        for (int i = 1; i <= n->cfg.n_nodes; i++)
            n->n_above += i != self && raft__is_voter(n, i) &&
                          n->prog[i].match_lsn > floor;
        n->above_floor = floor;
        n->above_valid = true;
    }
    /* Only the voters of the configuration in force count; a leader that
     * is removing itself does not count itself (thesis §4.2.2). */
    bool self_votes = raft__is_voter(n, self);
    if (n->n_above + (self_votes && n->wal.flushed_lsn > floor) >=
        n->quorum) {
        uint64_t m[RAFT_MAX_NODES];
        int k = 0;
        for (int i = 1; i <= n->cfg.n_nodes; i++)
            if (raft__is_voter(n, i))
                m[k++] = n->prog[i].match_lsn;
        uint64_t lsn = raft_quorum_lsn(m, k, n->quorum, floor);
        if (lsn > floor &&
            (wal_term_at(&n->wal, lsn) == n->term ||
             (n->cfg.unsafe & RAFT_UNSAFE_COMMIT_OLD_TERM))) {
            n->commit_lsn = lsn;
            struct raft_event *ev = raft__event(n, RAFT_EV_COMMIT);
            ev->lsn = lsn;
        }
    }
    maybe_ack(n);
    raft__conf_commit(n, floor); /* may step down: last */
}

/* A follower matches us up to `match`: raise its match lsn, keeping
 * the commit rule's count (raft__maybe_commit). */
void raft__note_match(struct raft_node *n, int peer, uint64_t match)
{
    struct raft_progress *p = &n->prog[peer];
    if (match <= p->match_lsn)
        return;
    n->n_above += n->above_valid && raft__is_voter(n, peer) &&
                  p->match_lsn <= n->above_floor && match > n->above_floor;
    p->match_lsn = match;
    p->stalled = 0;
}

void raft__recv_append_response(struct raft_node *n, const struct raft_msg *m)
{
    if (n->role != RAFT_LEADER)
        return;
    struct raft_progress *p = &n->prog[m->from];
    uint64_t last = wal_last_lsn(&n->wal);
    if (p->snap) {
        /* Sending a snapshot: only a success past our base ends it. */
        if (!m->success || m->match_lsn < n->wal.base_lsn)
            return;
        raft__snapshot_stop(p);
        p->probe = true;
    }
    if (m->success) {
        assert(m->match_lsn <= last); /* validate.c */
        raft__note_match(n, m->from, m->match_lsn);
        if (p->next_lsn <= p->match_lsn)
            p->next_lsn = p->match_lsn + 1;
        infl_free_to(n, m->from, p->match_lsn);
        if (p->probe) {
            /* matched: pipeline from here (etcd: probe -> replicate) */
            p->probe = false;
            p->inflight = 0;
            p->infl_head = 0;
            p->next_lsn = p->match_lsn + 1;
        }
        p->probe_sent = false;
        raft__maybe_commit(n);
        raft__push(n, m->from);
        raft__transfer_progress(n, m->from);
        return;
    }
    /* Rejected.  Ignore replies to appends we have since moved past, and
     * in replicate state a gap in answer to a pipelined append: the
     * follower keeps what overtook, so the rest is on its way.  A gap in
     * answer to the heartbeat (prev_lsn = next_lsn - 1, nothing sent
     * since) means what it lacks is not coming: probe from its end. */
    if (p->probe ? m->reject_lsn + 1 != p->next_lsn
                 : m->reject_lsn <= p->match_lsn ||
                       (m->hint_term == 0 && m->reject_lsn + 1 != p->next_lsn))
        return;
    uint64_t next = m->hint_lsn;
    if (m->hint_term) {
        uint64_t x = wal_last_lsn_of_term(&n->wal, m->hint_term);
        if (x)
            next = x + 1;
    }
    if (next > m->reject_lsn)
        next = m->reject_lsn;
    if (next < p->match_lsn + 1)
        next = p->match_lsn + 1;
    if (next < 1)
        next = 1;
    raft__become_probe(p, next);
    raft__send_append(n, m->from);
}
