/*
 * checker.c — see checker.h for the properties.  Every check is O(1) per
 * event, except extending the cluster-wide committed log, which is linear
 * in the entries newly committed: each entry is visited once per run.
 *
 * Compacted prefixes (snapshot events): a node's shadow keeps lsns from
 * its snapshot's on (off), the cluster-wide committed log keeps hashes
 * from the lowest snapshot of any node on (c_off) and its terms as runs
 * (terms only grow along it), and the (lsn, term) table drops lsns no
 * node can append at again when it grows.  So the checker's memory
 * follows the live logs, not the run's length, once every node
 * snapshots.  What a snapshot covers is checked when it is taken (its
 * last entry is committed, with the committed hash) and when it is
 * installed (its last entry was committed, with that term).
 */
#include "sim/cluster/checker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shadow {
    uint64_t *hash; /* hash[lsn - off], lsn in [off, len] */
    uint64_t *term; /* term[lsn - off] */
    uint64_t off;   /* first lsn kept (<= base) */
    uint64_t base;  /* the node's snapshot lsn (0: none) */
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
    /* cluster-wide committed log: hash and who committed it first for
     * lsns in [c_off, c_len] (index lsn - c_off); its terms, and the
     * terms in which entries were first seen committed, as runs */
    uint64_t *c_hash;
    int *c_by;
    uint64_t c_off, c_len, c_cap;
    struct run {
        uint64_t lsn, term; /* from lsn on (to the next run) */
    } *t_run, *ct_run;
    size_t n_trun, n_ctrun, cap_trun, cap_ctrun;
    /* (lsn, term) -> hash: open addressing, power-of-two size.  Rebuilt
     * incrementally: after a grow the old table stays readable and each
     * insert moves LT_MOVE of its slots, so no event pays for a rehash of
     * the whole run (it stalled bench throughput's loop for hundreds of
     * milliseconds at millions of entries).  A move drops the entries at
     * or below c_off (every node's snapshot covers them: they cannot be
     * appended again), so with compaction the table follows the live log. */
    struct lt_slot *lt;
    uint64_t lt_cap, lt_used; /* lt_used: entries in lt (not lt_old) */
    struct lt_slot *lt_old; /* NULL: no move in progress */
    uint64_t lt_old_cap, lt_old_pos;
    uint64_t lt_lo, lt_hi; /* lsn range of the entries held (lo = 0: none) */
    uint64_t lt_new_lo;    /* lowest lsn in the new table during a move */
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
    free(k->c_by);
    free(k->t_run);
    free(k->ct_run);
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

/* The shadow at lsn (off <= lsn <= len). */
#define SH_HASH(s, lsn) ((s)->hash[(lsn) - (s)->off])
#define SH_TERM(s, lsn) ((s)->term[(lsn) - (s)->off])

static void shadow_reserve(struct shadow *s, uint64_t lsn)
{
    if (!s->hash) {
        s->cap = 64;
        s->hash = xrealloc(NULL, s->cap * sizeof(*s->hash));
        s->term = xrealloc(NULL, s->cap * sizeof(*s->term));
        s->hash[0] = s->term[0] = 0; /* lsn 0 (off 0) */
    }
    if (lsn - s->off < s->cap)
        return;
    /* lsn is one past a log that really exists, so this is bounded by
     * memory already; doubling from it keeps the loop-free growth. */
    uint64_t cap = s->cap * 2;
    if (cap <= lsn - s->off)
        cap = lsn - s->off + 1;
    s->hash = xrealloc(s->hash, cap * sizeof(*s->hash));
    s->term = xrealloc(s->term, cap * sizeof(*s->term));
    s->cap = cap;
}

/* Drop the shadow below `lsn` (<= len) once that is most of it. */
static void shadow_trim(struct shadow *s, uint64_t lsn, bool now)
{
    uint64_t dead = lsn - s->off, live = s->len - lsn + 1;
    if (!now && (dead < 1024 || dead < live))
        return;
    memmove(s->hash, s->hash + dead, live * sizeof(*s->hash));
    memmove(s->term, s->term + dead, live * sizeof(*s->term));
    s->off = lsn;
    if (s->cap > 256 && live * 4 < s->cap) {
        s->cap = live * 2 > 64 ? live * 2 : 64;
        s->hash = xrealloc(s->hash, s->cap * sizeof(*s->hash));
        s->term = xrealloc(s->term, s->cap * sizeof(*s->term));
    }
}

/* Committed terms, from the runs. */
static uint64_t run_at(const struct run *r, size_t n, uint64_t lsn)
{
    size_t lo = 0, hi = n; /* the last run starting at or before lsn */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].lsn <= lsn)
            lo = mid;
        else
            hi = mid;
    }
    return n && r[lo].lsn <= lsn ? r[lo].term : 0;
}

static void run_push(struct run **r, size_t *n, size_t *cap, uint64_t lsn,
                     uint64_t term)
{
    if (*n && (*r)[*n - 1].term == term)
        return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *r = xrealloc(*r, *cap * sizeof(**r));
    }
    (*r)[(*n)++] = (struct run){lsn, term};
}

static uint64_t c_term_at(const struct checker *k, uint64_t lsn)
{
    return run_at(k->t_run, k->n_trun, lsn);
}

static uint64_t c_hash_at(const struct checker *k, uint64_t lsn)
{
    return lsn < k->c_off ? 0 : k->c_hash[lsn - k->c_off];
}

static int c_by_at(const struct checker *k, uint64_t lsn)
{
    return lsn < k->c_off || lsn > k->c_len ? 0 : k->c_by[lsn - k->c_off];
}

/* The last lsn first seen committed in a term before `term`. */
static uint64_t committed_before(const struct checker *k, uint64_t term)
{
    for (size_t i = 0; i < k->n_ctrun; i++)
        if (k->ct_run[i].term >= term)
            return k->ct_run[i].lsn - 1;
    return k->c_len;
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
        if (o->lsn > k->c_off) { /* at or below c_off: dropped */
            struct lt_slot *s = lt_probe(k->lt, k->lt_cap, o->lsn, o->term);
            if (!s->lsn) {
                *s = *o;
                k->lt_used++;
            }
            if (!k->lt_new_lo || o->lsn < k->lt_new_lo)
                k->lt_new_lo = o->lsn;
        }
        if (k->lt_old_pos == k->lt_old_cap) {
            free(k->lt_old);
            k->lt_old = NULL;
            k->lt_lo = k->lt_new_lo;
        }
    }
}

static void lt_grow(struct checker *k)
{
    while (k->lt_old) /* cannot happen with LT_MOVE > 2; never lose one */
        lt_move_some(k);
    /* Estimate the live share from the lsn range held (entries come in
     * roughly lsn order): double only if the live ones would still fill
     * a quarter, else rebuild at the same size, dropping the dead.  The
     * estimate only sizes the table: a wrong one costs a second grow,
     * never a lost entry (the move finishes first, above). */
    uint64_t cap = k->lt_cap;
    if (k->lt_lo && k->lt_hi >= k->lt_lo) {
        uint64_t first_live = k->c_off + 1 > k->lt_lo ? k->c_off + 1 : k->lt_lo;
        double frac = first_live > k->lt_hi ? 0.0
                      : (double)(k->lt_hi - first_live + 1) /
                            (double)(k->lt_hi - k->lt_lo + 1);
        if ((frac * (double)k->lt_used + 1) * 4 > (double)cap)
            cap *= 2;
    } else {
        cap *= 2;
    }
    struct lt_slot *nt = calloc(cap, sizeof(*nt));
    if (!nt)
        abort();
    k->lt_old = k->lt;
    k->lt_old_cap = k->lt_cap;
    k->lt_old_pos = 0;
    k->lt = nt;
    k->lt_cap = cap;
    k->lt_used = 0; /* counts the new table's entries */
    k->lt_new_lo = 0;
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
    uint64_t h = entry_hash(SH_HASH(s, s->len), ev);
    s->len = ev->lsn;
    SH_HASH(s, ev->lsn) = h;
    SH_TERM(s, ev->lsn) = ev->entry_term;

    if ((k->lt_used + 1) * 2 > k->lt_cap)
        lt_grow(k);
    lt_move_some(k);
    struct lt_slot *slot = lt_find(k, ev->lsn, ev->entry_term);
    if (!slot->lsn) {
        *slot = (struct lt_slot){ev->lsn, ev->entry_term, h, ev->node};
        k->lt_used++;
        if (!k->lt_lo || ev->lsn < k->lt_lo)
            k->lt_lo = ev->lsn;
        if (k->lt_old && (!k->lt_new_lo || ev->lsn < k->lt_new_lo))
            k->lt_new_lo = ev->lsn;
        if (ev->lsn > k->lt_hi)
            k->lt_hi = ev->lsn;
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
    if (ev->lsn <= s->base) {
        violate(k, t, "TraceConsistency", ev->node, 0,
                "n%d discarded lsn %llu, inside its snapshot (lsn %llu)",
                ev->node, (unsigned long long)ev->lsn,
                (unsigned long long)s->base);
        return;
    }
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
        if (ev->lsn <= s->commit || ev->lsn <= s->base) {
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
        uint64_t cterm = c_term_at(k, lsn);
        if (cterm != k->pending[i].term) {
            k->acked_lost++;
            if (k->mode != RAFT_ACK_ASYNC)
                violate(k, t, "AckedWriteLost", c_by_at(k, lsn), 0,
                        "write acked at lsn %llu term %llu, but lsn %llu "
                        "committed with term %llu",
                        (unsigned long long)lsn,
                        (unsigned long long)k->pending[i].term,
                        (unsigned long long)lsn,
                        (unsigned long long)cterm);
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
    uint64_t old_commit = s->commit;
    s->commit = L;
    uint64_t upto = L < k->c_len ? L : k->c_len;
    if (upto > old_commit && SH_HASH(s, upto) != c_hash_at(k, upto)) {
        /* find the first differing lsn for the report */
        uint64_t d = upto, lo = s->off > k->c_off ? s->off : k->c_off;
        while (d > lo + 1 && SH_HASH(s, d - 1) != c_hash_at(k, d - 1))
            d--;
        violate(k, t, "StateMachineSafety", ev->node, c_by_at(k, d),
                "n%d committed lsn %llu term %llu but n%d committed lsn "
                "%llu term %llu",
                ev->node, (unsigned long long)d,
                (unsigned long long)SH_TERM(s, d), c_by_at(k, d),
                (unsigned long long)d, (unsigned long long)c_term_at(k, d));
        return;
    }
    if (L <= k->c_len)
        return;
    if (!k->c_hash) {
        k->c_cap = 64;
        k->c_hash = xrealloc(NULL, k->c_cap * sizeof(*k->c_hash));
        k->c_by = xrealloc(NULL, k->c_cap * sizeof(*k->c_by));
        k->c_hash[0] = 0;
        k->c_by[0] = 0;
    }
    if (L - k->c_off >= k->c_cap) {
        uint64_t cap = k->c_cap * 2;
        if (cap <= L - k->c_off)
            cap = L - k->c_off + 1;
        k->c_hash = xrealloc(k->c_hash, cap * sizeof(*k->c_hash));
        k->c_by = xrealloc(k->c_by, cap * sizeof(*k->c_by));
        k->c_cap = cap;
    }
    for (uint64_t i = k->c_len + 1; i <= L; i++) {
        k->c_hash[i - k->c_off] = SH_HASH(s, i);
        k->c_by[i - k->c_off] = ev->node;
        run_push(&k->t_run, &k->n_trun, &k->cap_trun, i, SH_TERM(s, i));
    }
    run_push(&k->ct_run, &k->n_ctrun, &k->cap_ctrun, k->c_len + 1, ev->term);
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
    uint64_t c = committed_before(k, ev->term);
    /* at or below its snapshot it holds the committed prefix (checked
     * when the snapshot was taken or installed) */
    if (c > s->base && (s->len < c || SH_HASH(s, c) != c_hash_at(k, c))) {
        uint64_t d = s->base > k->c_off ? s->base + 1 : k->c_off + 1;
        if (d < 1)
            d = 1;
        while (d <= c && d <= s->len && SH_HASH(s, d) == c_hash_at(k, d))
            d++;
        violate(k, t, "LeaderCompleteness", ev->node, c_by_at(k, d),
                "n%d became leader of term %llu without committed lsn %llu "
                "(term %llu, committed by n%d)",
                ev->node, (unsigned long long)ev->term,
                (unsigned long long)d, (unsigned long long)c_term_at(k, d),
                c_by_at(k, d));
    }
}

/* Every node's snapshot is at or above c_off: drop the committed log's
 * hashes below the lowest one once they are most of it. */
static void c_trim(struct checker *k)
{
    uint64_t low = UINT64_MAX;
    for (int i = 1; i <= k->n; i++)
        if (k->sh[i].base < low)
            low = k->sh[i].base;
    if (low <= k->c_off || low > k->c_len || !k->c_hash)
        return;
    uint64_t dead = low - k->c_off, live = k->c_len - low + 1;
    if (dead < 1024 || dead < live)
        return;
    memmove(k->c_hash, k->c_hash + dead, live * sizeof(*k->c_hash));
    memmove(k->c_by, k->c_by + dead, live * sizeof(*k->c_by));
    k->c_off = low;
    if (k->c_cap > 256 && live * 4 < k->c_cap) {
        k->c_cap = live * 2 > 64 ? live * 2 : 64;
        k->c_hash = xrealloc(k->c_hash, k->c_cap * sizeof(*k->c_hash));
        k->c_by = xrealloc(k->c_by, k->c_cap * sizeof(*k->c_by));
    }
}

static void on_snapshot(struct checker *k, uint64_t t, struct shadow *s,
                        const struct raft_event *ev)
{
    uint64_t L = ev->lsn, T = ev->entry_term;
    if (ev->reason == RAFT_R_SNAP_SEND)
        return;
    if (ev->reason == RAFT_R_COMPACT) {
        /* Only what the node committed may go into a snapshot. */
        if (L > s->commit || L <= s->base || L > s->len) {
            violate(k, t, "TraceConsistency", ev->node, 0,
                    "n%d took a snapshot at lsn %llu with commit %llu, log "
                    "end %llu and snapshot %llu",
                    ev->node, (unsigned long long)L,
                    (unsigned long long)s->commit, (unsigned long long)s->len,
                    (unsigned long long)s->base);
            return;
        }
        if (SH_TERM(s, L) != T)
            violate(k, t, "TraceConsistency", ev->node, 0,
                    "n%d took a snapshot at lsn %llu term %llu but holds "
                    "term %llu there",
                    ev->node, (unsigned long long)L, (unsigned long long)T,
                    (unsigned long long)SH_TERM(s, L));
        s->base = L;
        shadow_trim(s, L, false);
        c_trim(k);
        return;
    }
    /* install: the snapshot must end in an entry the cluster committed */
    if (L > k->c_len || c_term_at(k, L) != T) {
        violate(k, t, "StateMachineSafety", ev->node, ev->peer,
                "n%d installed a snapshot of n%d at lsn %llu term %llu, but "
                "the cluster committed %s",
                ev->node, ev->peer, (unsigned long long)L,
                (unsigned long long)T,
                L > k->c_len ? "less" : "another term there");
        return;
    }
    bool kept = s->len >= L && L >= s->off && SH_TERM(s, L) == T;
    if (kept) {
        shadow_trim(s, L, true);
    } else {
        /* the log is the snapshot alone (entries past it were reported
         * discarded before this event) */
        if (s->len > L)
            s->len = L;
        s->off = L;
        s->len = L;
        shadow_reserve(s, L);
        SH_HASH(s, L) = c_hash_at(k, L);
        SH_TERM(s, L) = T;
    }
    s->base = L;
    s->trunc_next = 0;
    c_trim(k);
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
    case RAFT_EV_SNAPSHOT:
        on_snapshot(k, t, s, ev);
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
        (s->len && SH_TERM(s, s->len) != wal_last_term(w)) ||
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
        if (k->sh[i].len >= lsn && lsn >= k->sh[i].off &&
            SH_TERM(&k->sh[i], lsn) == term)
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
uint64_t chk_committed_term(const struct checker *k, uint64_t lsn)
{
    return lsn && lsn <= k->c_len ? c_term_at(k, lsn) : 0;
}

bool chk_take_new(struct checker *k, struct sim_violation *out)
{
    if (!k->n_new)
        return false;
    *out = k->newq[0];
    memmove(k->newq, k->newq + 1, (size_t)(k->n_new - 1) * sizeof(*k->newq));
    k->n_new--;
    return true;
}
