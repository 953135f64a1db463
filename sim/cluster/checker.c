/*
 * checker.c — see checker.h for the properties.  Every check is O(1) per
 * event, except extending the cluster-wide committed log, which is linear
 * in the entries newly committed: each entry is visited once per run.
 */
#include "sim/cluster/checker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shadow {
    uint64_t *hash; /* hash[lsn], hash[0] = 0 */
    uint64_t *term; /* term[lsn] */
    uint64_t len, cap;
    uint64_t commit;
    uint64_t trunc_next; /* next lsn of a truncation in progress, or 0 */
    int role;
};

struct lt_slot {
    uint64_t lsn, term, hash;
    int node;
};

/* One term's leader; node 0 marks an empty slot. */
struct term_slot {
    uint64_t term;
    int node;
};

#define NEWQ 8

struct checker {
    int n;
    enum raft_ack_mode mode;
    struct shadow *sh; /* [n + 1] */
    /* cluster-wide committed log */
    uint64_t *c_hash, *c_term;
    uint64_t *c_cterm; /* term in which the entry was first seen committed */
    int *c_by;
    uint64_t c_len, c_cap;
    /* (lsn, term) -> hash: open addressing, power-of-two size.  Grown
     * incrementally: after a doubling the old table stays readable and
     * each insert moves LT_MOVE of its slots, so no event pays for a
     * rehash of the whole run (it stalled bench throughput's loop for
     * hundreds of milliseconds at millions of entries). */
    struct lt_slot *lt;
    uint64_t lt_cap, lt_used;
    struct lt_slot *lt_old; /* NULL: no move in progress */
    uint64_t lt_old_cap, lt_old_pos;
    /* leader of each term seen: open addressing keyed by term, so its
     * size follows the number of leaders, never a term's magnitude */
    struct term_slot *leader_of;
    uint64_t leader_cap, leader_used;
    /* acknowledged writes not yet known committed */
    struct {
        uint64_t lsn, term;
    } *pending;
    size_t n_pending, cap_pending;
    uint64_t acked_lost;
    uint64_t acked_pending; /* chk_finish: acked, uncommitted, still held */
    uint64_t violations;
    struct sim_violation first;
    struct sim_violation newq[NEWQ];
    int n_new;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "raftsim: out of memory in checker\n");
        abort();
    }
    return q;
}

struct checker *chk_new(int n_nodes, enum raft_ack_mode mode)
{
    struct checker *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->n = n_nodes;
    k->mode = mode;
    k->sh = calloc((size_t)n_nodes + 1, sizeof(*k->sh));
    k->lt_cap = 1024;
    k->lt = calloc(k->lt_cap, sizeof(*k->lt));
    k->leader_cap = 64;
    k->leader_of = calloc(k->leader_cap, sizeof(*k->leader_of));
    if (!k->sh || !k->lt || !k->leader_of) {
        chk_free(k);
        return NULL;
    }
    return k;
}

void chk_free(struct checker *k)
{
    if (!k)
        return;
    for (int i = 0; k->sh && i <= k->n; i++) {
        free(k->sh[i].hash);
        free(k->sh[i].term);
    }
    free(k->sh);
    free(k->c_hash);
    free(k->c_term);
    free(k->c_cterm);
    free(k->c_by);
    free(k->lt);
    free(k->lt_old);
    free(k->leader_of);
    free(k->pending);
    free(k);
}

static void violate(struct checker *k, uint64_t t, const char *inv, int a,
                    int b, const char *fmt, ...)
{
    struct sim_violation v = {.invariant = inv, .t_us = t, .nodes = {a, b}};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v.detail, sizeof(v.detail), fmt, ap);
    va_end(ap);
    if (k->violations++ == 0)
        k->first = v;
    if (k->n_new < NEWQ)
        k->newq[k->n_new++] = v;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static uint64_t entry_hash(uint64_t prev, const struct raft_event *ev)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    const struct wal_payload *p = ev->payload;
    if (p) {
        const unsigned char *d = (const unsigned char *)p->data;
        size_t len = (size_t)p->key_len + 1 + p->value_len;
        for (size_t i = 0; i < len; i++)
            h = (h ^ d[i]) * UINT64_C(0x100000001b3);
    }
    return mix(prev ^ mix(ev->lsn * 31 + ev->entry_term) ^ mix(h) ^
               ev->entry_type);
}

/* ------------------------------------------------------------------ */

static void shadow_reserve(struct shadow *s, uint64_t lsn)
{
    if (lsn < s->cap)
        return;
    /* lsn is one past a log that really exists, so this is bounded by
     * memory already; doubling from it keeps the loop-free growth. */
    uint64_t cap = s->cap ? s->cap * 2 : 64;
    if (cap <= lsn)
        cap = lsn + 1;
    s->hash = xrealloc(s->hash, cap * sizeof(*s->hash));
    s->term = xrealloc(s->term, cap * sizeof(*s->term));
    s->hash[0] = s->term[0] = 0;
    s->cap = cap;
}

#define LT_MOVE 8 /* old slots moved per insert: > 2 finishes a move
                     before the next doubling (old_cap slots, old_cap / 2
                     inserts) */

static struct lt_slot *lt_probe(struct lt_slot *t, uint64_t cap,
                                uint64_t lsn, uint64_t term)
{
    uint64_t i = mix(lsn * 1000003 ^ term) & (cap - 1);
    while (t[i].lsn && !(t[i].lsn == lsn && t[i].term == term))
        i = (i + 1) & (cap - 1);
    return &t[i];
}

/* The slot holding (lsn, term), in the new table or the old one, or the
 * empty slot of the new table where it goes.  Slots never change once
 * filled, so a copy already moved reads the same in either table. */
static struct lt_slot *lt_find(struct checker *k, uint64_t lsn, uint64_t term)
{
    struct lt_slot *s = lt_probe(k->lt, k->lt_cap, lsn, term);
    if (!s->lsn && k->lt_old) {
        struct lt_slot *o = lt_probe(k->lt_old, k->lt_old_cap, lsn, term);
        if (o->lsn)
            return o;
    }
    return s;
}

static void lt_move_some(struct checker *k)
{
    for (int m = 0; k->lt_old && m < LT_MOVE; m++) {
        const struct lt_slot *o = &k->lt_old[k->lt_old_pos++];
        if (o->lsn) {
            struct lt_slot *s = lt_probe(k->lt, k->lt_cap, o->lsn, o->term);
            if (!s->lsn)
                *s = *o;
        }
        if (k->lt_old_pos == k->lt_old_cap) {
            free(k->lt_old);
            k->lt_old = NULL;
        }
    }
}

static void lt_grow(struct checker *k)
{
    while (k->lt_old) /* cannot happen with LT_MOVE > 2; never lose one */
        lt_move_some(k);
    struct lt_slot *nt = calloc(k->lt_cap * 2, sizeof(*nt));
    if (!nt)
        abort();
    k->lt_old = k->lt;
    k->lt_old_cap = k->lt_cap;
    k->lt_old_pos = 0;
    k->lt = nt;
    k->lt_cap *= 2;
}

static void on_append(struct checker *k, uint64_t t, struct shadow *s,
                      const struct raft_event *ev)
{
    if (ev->lsn != s->len + 1) {
        violate(k, t, "TraceConsistency", ev->node, 0,
                "n%d appended lsn %llu but its log ends at %llu", ev->node,
                (unsigned long long)ev->lsn, (unsigned long long)s->len);
        return;
    }
    shadow_reserve(s, ev->lsn);
    s->trunc_next = 0;
    uint64_t h = entry_hash(s->hash[s->len], ev);
    s->len = ev->lsn;
    s->hash[ev->lsn] = h;
    s->term[ev->lsn] = ev->entry_term;

    if ((k->lt_used + 1) * 2 > k->lt_cap)
        lt_grow(k);
    lt_move_some(k);
    struct lt_slot *slot = lt_find(k, ev->lsn, ev->entry_term);
    if (!slot->lsn) {
        *slot = (struct lt_slot){ev->lsn, ev->entry_term, h, ev->node};
        k->lt_used++;
    } else if (slot->hash != h) {
        violate(k, t, "LogMatching", ev->node, slot->node,
                "n%d and n%d both hold lsn %llu term %llu but their logs "
                "differ at or before it",
                ev->node, slot->node, (unsigned long long)ev->lsn,
                (unsigned long long)ev->entry_term);
    }
}

static void on_discard(struct checker *k, uint64_t t, struct shadow *s,
                       const struct raft_event *ev)
{
    /* One truncation reports its entries in ascending order. */
    bool continues = s->trunc_next && ev->lsn == s->trunc_next;
    if (ev->lsn > s->len && !continues) {
        violate(k, t, "TraceConsistency", ev->node, 0,
                "n%d discarded lsn %llu beyond its log end %llu", ev->node,
                (unsigned long long)ev->lsn, (unsigned long long)s->len);
        return;
    }
    if (ev->reason == RAFT_R_CONFLICT) {
        if (s->role == RAFT_LEADER)
            violate(k, t, "LeaderAppendOnly", ev->node, 0,
                    "leader n%d removed lsn %llu from its own log", ev->node,
                    (unsigned long long)ev->lsn);
        if (ev->lsn <= s->commit) {
            violate(k, t, "StateMachineSafety", ev->node, 0,
                    "n%d discarded lsn %llu (term %llu) although it had "
                    "committed up to %llu",
                    ev->node, (unsigned long long)ev->lsn,
                    (unsigned long long)ev->entry_term,
                    (unsigned long long)s->commit);
        }
    }
    if (s->len >= ev->lsn)
        s->len = ev->lsn - 1;
    s->trunc_next = ev->lsn + 1;
    if (s->commit > s->len)
        s->commit = s->len;
}

/* Acked writes at lsns now committed: kept if the term matches. */
static void resolve_pending(struct checker *k, uint64_t t)
{
    size_t w = 0;
    for (size_t i = 0; i < k->n_pending; i++) {
        uint64_t lsn = k->pending[i].lsn;
        if (lsn > k->c_len) {
            k->pending[w++] = k->pending[i];
            continue;
        }
        if (k->c_term[lsn] != k->pending[i].term) {
            k->acked_lost++;
            if (k->mode != RAFT_ACK_ASYNC)
                violate(k, t, "AckedWriteLost", k->c_by[lsn], 0,
                        "write acked at lsn %llu term %llu, but lsn %llu "
                        "committed with term %llu",
                        (unsigned long long)lsn,
                        (unsigned long long)k->pending[i].term,
                        (unsigned long long)lsn,
                        (unsigned long long)k->c_term[lsn]);
        }
    }
    k->n_pending = w;
}

static void on_commit(struct checker *k, uint64_t t, struct shadow *s,
                      const struct raft_event *ev)
{
    uint64_t L = ev->lsn;
    if (L > s->len || L <= s->commit) {
        violate(k, t, "TraceConsistency", ev->node, 0,
                "n%d committed lsn %llu with log end %llu and commit %llu",
                ev->node, (unsigned long long)L, (unsigned long long)s->len,
                (unsigned long long)s->commit);
        return;
    }
    s->commit = L;
    uint64_t upto = L < k->c_len ? L : k->c_len;
    if (upto && s->hash[upto] != k->c_hash[upto]) {
        /* find the first differing lsn for the report */
        uint64_t d = upto;
        while (d > 1 && s->hash[d - 1] != k->c_hash[d - 1])
            d--;
        violate(k, t, "StateMachineSafety", ev->node, k->c_by[d],
                "n%d committed lsn %llu term %llu but n%d committed lsn "
                "%llu term %llu",
                ev->node, (unsigned long long)d,
                (unsigned long long)s->term[d], k->c_by[d],
                (unsigned long long)d, (unsigned long long)k->c_term[d]);
        return;
    }
    if (L <= k->c_len)
        return;
    if (L >= k->c_cap) {
        uint64_t cap = k->c_cap ? k->c_cap * 2 : 64;
        if (cap <= L)
            cap = L + 1;
        k->c_hash = xrealloc(k->c_hash, cap * sizeof(*k->c_hash));
        k->c_term = xrealloc(k->c_term, cap * sizeof(*k->c_term));
        k->c_cterm = xrealloc(k->c_cterm, cap * sizeof(*k->c_cterm));
        k->c_by = xrealloc(k->c_by, cap * sizeof(*k->c_by));
        k->c_hash[0] = k->c_term[0] = k->c_cterm[0] = 0;
        k->c_by[0] = 0;
        k->c_cap = cap;
    }
    for (uint64_t i = k->c_len + 1; i <= L; i++) {
        k->c_hash[i] = s->hash[i];
        k->c_term[i] = s->term[i];
        k->c_cterm[i] = ev->term;
        k->c_by[i] = ev->node;
    }
    k->c_len = L;
    if (k->n_pending)
        resolve_pending(k, t);
}

/* The slot of `term` in the leader map: its own, or the empty one where
 * it would go.  The map is at most half full, so the probe ends. */
static struct term_slot *leader_slot(struct checker *k, uint64_t term)
{
    uint64_t i = mix(term) & (k->leader_cap - 1);
    while (k->leader_of[i].node && k->leader_of[i].term != term)
        i = (i + 1) & (k->leader_cap - 1);
    return &k->leader_of[i];
}

static void leader_grow(struct checker *k)
{
    struct term_slot *old = k->leader_of;
    uint64_t old_cap = k->leader_cap;
    k->leader_cap *= 2;
    k->leader_of = calloc(k->leader_cap, sizeof(*k->leader_of));
    if (!k->leader_of) {
        fprintf(stderr, "raftsim: out of memory in checker\n");
        abort();
    }
    for (uint64_t i = 0; i < old_cap; i++)
        if (old[i].node)
            *leader_slot(k, old[i].term) = old[i];
    free(old);
}

static void on_leader(struct checker *k, uint64_t t, struct shadow *s,
                      const struct raft_event *ev)
{
    if ((k->leader_used + 1) * 2 > k->leader_cap)
        leader_grow(k);
    struct term_slot *slot = leader_slot(k, ev->term);
    int prev = slot->node;
    if (prev && prev != ev->node)
        violate(k, t, "ElectionSafety", ev->node, prev,
                "n%d and n%d are both leaders of term %llu", ev->node, prev,
                (unsigned long long)ev->term);
    if (!prev)
        k->leader_used++;
    slot->term = ev->term;
    slot->node = ev->node;
    /* Raft's Leader Completeness covers entries committed in earlier
     * terms only: a candidate that slept through later terms may still
     * win its own old term.  Commit terms grow along the log, so find
     * the last entry committed before this term. */
    uint64_t c = k->c_len;
    while (c && k->c_cterm[c] >= ev->term)
        c--;
    if (c && (s->len < c || s->hash[c] != k->c_hash[c])) {
        uint64_t d = 1;
        while (d <= c && d <= s->len && s->hash[d] == k->c_hash[d])
            d++;
        violate(k, t, "LeaderCompleteness", ev->node, k->c_by[d],
                "n%d became leader of term %llu without committed lsn %llu "
                "(term %llu, committed by n%d)",
                ev->node, (unsigned long long)ev->term,
                (unsigned long long)d, (unsigned long long)k->c_term[d],
                k->c_by[d]);
    }
}

void chk_event(struct checker *k, uint64_t t, const struct raft_event *ev,
               const struct raft_node *node)
{
    (void)node;
    struct shadow *s = &k->sh[ev->node];
    switch (ev->kind) {
    case RAFT_EV_ROLE:
        s->role = ev->role;
        if (ev->role == RAFT_LEADER)
            on_leader(k, t, s, ev);
        break;
    case RAFT_EV_APPEND:
        on_append(k, t, s, ev);
        break;
    case RAFT_EV_DISCARD:
        on_discard(k, t, s, ev);
        break;
    case RAFT_EV_COMMIT:
        on_commit(k, t, s, ev);
        break;
    default:
        break;
    }
}

void chk_node_settled(struct checker *k, uint64_t t,
                      const struct raft_node *node)
{
    int id = raft_id(node);
    struct shadow *s = &k->sh[id];
    const struct wal *w = raft_wal(node);
    if (raft_role(node) == RAFT_DOWN) {
        s->role = RAFT_DOWN;
        s->commit = raft_commit_lsn(node);
    }
    if (s->len != wal_last_lsn(w) ||
        (s->len && s->term[s->len] != wal_last_term(w)) ||
        s->commit != raft_commit_lsn(node))
        violate(k, t, "TraceConsistency", id, 0,
                "n%d events say log end %llu commit %llu, state says %llu "
                "and %llu",
                id, (unsigned long long)s->len,
                (unsigned long long)s->commit,
                (unsigned long long)wal_last_lsn(w),
                (unsigned long long)raft_commit_lsn(node));
}

void chk_acked(struct checker *k, uint64_t t, uint64_t lsn, uint64_t term)
{
    if (k->n_pending == k->cap_pending) {
        k->cap_pending = k->cap_pending ? k->cap_pending * 2 : 64;
        k->pending =
            xrealloc(k->pending, k->cap_pending * sizeof(*k->pending));
    }
    k->pending[k->n_pending].lsn = lsn;
    k->pending[k->n_pending].term = term;
    k->n_pending++;
    if (lsn <= k->c_len)
        resolve_pending(k, t);
}

/* Does some node's log still hold (lsn, term)?  Then it may commit yet. */
static bool still_held(const struct checker *k, uint64_t lsn, uint64_t term)
{
    for (int i = 1; i <= k->n; i++)
        if (k->sh[i].len >= lsn && k->sh[i].term[lsn] == term)
            return true;
    return false;
}

uint64_t chk_finish(struct checker *k, uint64_t t)
{
    for (size_t i = 0; i < k->n_pending; i++) {
        bool held = still_held(k, k->pending[i].lsn, k->pending[i].term);
        if (held)
            k->acked_pending++;
        else
            k->acked_lost++;
        if (k->mode != RAFT_ACK_ASYNC)
            violate(k, t, "AckedWriteLost", 0, 0,
                    "write acked at lsn %llu term %llu never committed%s",
                    (unsigned long long)k->pending[i].lsn,
                    (unsigned long long)k->pending[i].term,
                    held ? "" : " and is in no log");
    }
    k->n_pending = 0;
    return k->acked_lost;
}

uint64_t chk_violations(const struct checker *k) { return k->violations; }
const struct sim_violation *chk_first_violation(const struct checker *k)
{
    return k->violations ? &k->first : NULL;
}
uint64_t chk_acked_lost(const struct checker *k) { return k->acked_lost; }
uint64_t chk_acked_pending(const struct checker *k)
{
    return k->acked_pending;
}
uint64_t chk_committed_lsn(const struct checker *k) { return k->c_len; }

bool chk_take_new(struct checker *k, struct sim_violation *out)
{
    if (!k->n_new)
        return false;
    *out = k->newq[0];
    memmove(k->newq, k->newq + 1, (size_t)(k->n_new - 1) * sizeof(*k->newq));
    k->n_new--;
    return true;
}
