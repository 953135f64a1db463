/*
 * cluster_snap.c — the drivers' key/value state machine and its
 * snapshots (Raft §7).
 *
 * A node's state machine is the last value of each key and the lsn that
 * wrote it.  The simulator does not keep it as a map: it is the node's
 * snapshot (if any) plus the entries the node applied after it.  Taking
 * a snapshot at lsn L folds the entries (base, L] into the previous
 * snapshot's items, one sorted array, O(keys + entries), and hands the
 * encoding to the core (raft_snapshot_take), which then compacts its
 * log.  The encoding, little-endian:
 *
 *     "RKV1"  u32 count   then per key, sorted by key:
 *     u16 key_len  u32 value_len  u64 lsn  key NUL  value NUL
 *
 * so a value inside the snapshot is a C string.  Decoding checks every
 * length against the bytes there: a snapshot arrives over the network.
 *
 * Policy: after every Ready, a node that applied snap_entries entries or
 * snap_bytes key+value bytes since its snapshot takes one — at the
 * applied lsn, but below any write still waiting for its
 * acknowledgement on that node (the ack needs the entry's term).
 */
#include "sim/cluster/cluster_int.h"

#include <stdlib.h>
#include <string.h>

struct kv_item {
    const char *key, *val;
    uint32_t klen, vlen;
    uint64_t lsn;
};

static const char MAGIC[4] = {'R', 'K', 'V', '1'};
#define ITEM_HEAD 14 /* u16 + u32 + u64 */

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

/* Items of a snapshot, appended to *items; -1 if it is malformed. */
static int kv_decode(const unsigned char *d, size_t len,
                     struct kv_item **items, size_t *n, size_t *cap)
{
    if (len == 0)
        return 0; /* the empty state */
    if (len < 8 || memcmp(d, MAGIC, 4) != 0)
        return -1;
    uint64_t count = get_le(d + 4, 4);
    size_t at = 8;
    for (uint64_t i = 0; i < count; i++) {
        if (len - at < ITEM_HEAD)
            return -1;
        uint32_t klen = (uint32_t)get_le(d + at, 2);
        uint32_t vlen = (uint32_t)get_le(d + at + 2, 4);
        uint64_t lsn = get_le(d + at + 6, 8);
        at += ITEM_HEAD;
        if (klen > WAL_KEY_MAX || vlen > WAL_VALUE_MAX ||
            len - at < (size_t)klen + vlen + 2 || d[at + klen] != '\0' ||
            d[at + klen + 1 + vlen] != '\0')
            return -1;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *items = sim__xrealloc(*items, *cap * sizeof(**items));
        }
        (*items)[(*n)++] = (struct kv_item){(const char *)d + at,
                                            (const char *)d + at + klen + 1,
                                            klen, vlen, lsn};
        at += (size_t)klen + vlen + 2;
    }
    return at == len ? 0 : -1;
}

static int item_cmp(const void *a, const void *b)
{
    const struct kv_item *x = a, *y = b;
    uint32_t m = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, m);
    if (c)
        return c;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return x->lsn < y->lsn ? -1 : x->lsn > y->lsn; /* newest last */
}

/* The snapshot node id would take at lsn: its bytes in *out. */
static int build(struct sim_cluster *c, int id, uint64_t lsn,
                 unsigned char **out, size_t *out_len)
{
    struct raft_node *r = c->nodes[id].r;
    const struct wal *w = raft_wal(r);
    struct raft_snapshot old;
    struct kv_item *it = NULL;
    size_t n = 0, cap = 0;
    if (raft_snapshot_get(r, &old) &&
        kv_decode(old.data, old.len, &it, &n, &cap) != 0) {
        free(it);
        return -1;
    }
    for (uint64_t l = w->base_lsn + 1; l <= lsn; l++) {
        const struct wal_entry *e = wal_get(w, l);
        if (!e || e->type != WAL_ENTRY_DATA || !e->payload)
            continue; /* no-ops and configurations hold no key */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            it = sim__xrealloc(it, cap * sizeof(*it));
        }
        it[n++] = (struct kv_item){wal_payload_key(e->payload),
                                   wal_payload_value(e->payload),
                                   e->payload->key_len,
                                   e->payload->value_len, l};
    }
    qsort(it, n, sizeof(*it), item_cmp);
    size_t keep = 0, bytes = 8;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && it[i].klen == it[i + 1].klen &&
            memcmp(it[i].key, it[i + 1].key, it[i].klen) == 0)
            continue; /* a later write of the same key wins */
        it[keep++] = it[i];
        bytes += ITEM_HEAD + (size_t)it[i].klen + it[i].vlen + 2;
    }
    unsigned char *d = sim__xrealloc(NULL, bytes);
    memcpy(d, MAGIC, 4);
    put_le(d + 4, keep, 4);
    size_t at = 8;
    for (size_t i = 0; i < keep; i++) {
        put_le(d + at, it[i].klen, 2);
        put_le(d + at + 2, it[i].vlen, 4);
        put_le(d + at + 6, it[i].lsn, 8);
        at += ITEM_HEAD;
        memcpy(d + at, it[i].key, it[i].klen);
        d[at + it[i].klen] = '\0';
        memcpy(d + at + it[i].klen + 1, it[i].val, it[i].vlen);
        d[at + it[i].klen + 1 + it[i].vlen] = '\0';
        at += (size_t)it[i].klen + it[i].vlen + 2;
    }
    free(it);
    *out = d;
    *out_len = bytes;
    return 0;
}

/* The highest lsn node id may snapshot now. */
static uint64_t snap_point(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    uint64_t lsn = raft_applied_lsn(s->r);
    for (size_t i = 0; i < s->n_pend; i++) {
        const struct write_state *w = sim__write(c, s->pend[i]);
        if (w && w->pub.outcome == SIM_PENDING && w->pub.lsn &&
            w->pub.lsn <= lsn)
            lsn = w->pub.lsn - 1;
    }
    return lsn;
}

static int take(struct sim_cluster *c, int id, uint64_t lsn)
{
    struct node_state *s = &c->nodes[id];
    unsigned char *d = NULL;
    size_t len = 0;
    if (build(c, id, lsn, &d, &len) != 0)
        return RAFT_EINVAL;
    int rc = raft_snapshot_take(s->r, lsn, d, len);
    free(d);
    if (rc == RAFT_OK)
        s->snap_bytes = 0;
    return rc;
}

void sim__snap_applied(struct sim_cluster *c, int id,
                       const struct raft_ready *rd)
{
    struct node_state *s = &c->nodes[id];
    if (rd->restore) {
        s->applied_lsn = rd->snap.lsn;
        s->snap_bytes = 0;
    }
    if (!rd->apply_to)
        return;
    s->applied_lsn = rd->apply_to;
    if (!c->o.snap_bytes)
        return;
    const struct wal *w = raft_wal(s->r);
    for (uint64_t l = rd->apply_from; l <= rd->apply_to; l++) {
        const struct wal_entry *e = wal_get(w, l);
        if (e && e->payload)
            s->snap_bytes += (uint64_t)e->payload->key_len +
                             e->payload->value_len;
    }
}

void sim__snap_policy(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up || (!c->o.snap_entries && !c->o.snap_bytes))
        return;
    uint64_t base = raft_wal(s->r)->base_lsn;
    uint64_t applied = raft_applied_lsn(s->r);
    if (applied <= base)
        return;
    bool due = (c->o.snap_entries && applied - base >= c->o.snap_entries) ||
               (c->o.snap_bytes && s->snap_bytes >= c->o.snap_bytes);
    if (!due)
        return;
    uint64_t lsn = snap_point(c, id);
    if (lsn > base)
        take(c, id, lsn);
}

int sim_snapshot(struct sim_cluster *c, int id)
{
    if (id < 1 || id > c->n)
        return RAFT_EINVAL;
    struct node_state *s = &c->nodes[id];
    if (!s->up || s->paused)
        return RAFT_EDOWN;
    uint64_t lsn = snap_point(c, id);
    if (lsn <= raft_wal(s->r)->base_lsn)
        return RAFT_EINVAL;
    int rc = take(c, id, lsn);
    if (rc == RAFT_OK)
        sim__pump(c, id);
    return rc;
}

uint64_t sim_snap_find(const struct sim_cluster *c, int id, const char *key,
                       const char **value)
{
    struct raft_snapshot snap;
    struct kv_item *it = NULL;
    size_t n = 0, cap = 0;
    uint64_t lsn = 0;
    if (value)
        *value = NULL;
    if (id < 1 || id > c->n || !raft_snapshot_get(c->nodes[id].r, &snap) ||
        kv_decode(snap.data, snap.len, &it, &n, &cap) != 0) {
        free(it);
        return 0;
    }
    size_t klen = strlen(key);
    for (size_t i = 0; i < n; i++)
        if (it[i].klen == klen && memcmp(it[i].key, key, klen) == 0) {
            lsn = it[i].lsn;
            if (value)
                *value = it[i].val;
            break;
        }
    free(it);
    return lsn;
}

void sim_snapshot_policy(struct sim_cluster *c, uint64_t entries,
                         uint64_t bytes)
{
    c->o.snap_entries = entries;
    c->o.snap_bytes = bytes;
}

uint64_t sim_committed_term(const struct sim_cluster *c, uint64_t lsn)
{
    return chk_committed_term(c->chk, lsn);
}
