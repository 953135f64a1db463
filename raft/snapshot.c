/*
 * snapshot.c — snapshots, log compaction and InstallSnapshot (Raft §7,
 * Figures 12 and 13).
 *
 * The driver's state machine makes a snapshot of what it has applied
 * (raft_snapshot_take); the node keeps the bytes, drops its log up to
 * the snapshot's lsn and keeps that lsn's term as the WAL's base
 * (wal_compact), which is all the up-to-date check of an election and
 * AppendEntries' consistency check at the boundary need.
 *
 * A leader whose follower needs an entry it compacted (next_lsn at or
 * below the WAL's base) sends its snapshot instead, one chunk of
 * snap_chunk bytes at a time: the next chunk leaves when the follower
 * answers with the offset it wants next, and the current one again on
 * every heartbeat until it does (stop-and-wait: a lost chunk costs a
 * heartbeat, a duplicated one or a stale answer changes nothing, since
 * the follower only takes the chunk at the offset it has reached and
 * the leader only moves on when that offset grows).  The transfer keeps
 * a reference to the snapshot it started with, so a newer snapshot on
 * the leader does not restart it.
 *
 * The follower gathers the chunks in a volatile buffer and installs the
 * snapshot only when the last one is in: it keeps the entries after
 * the snapshot if its log holds the snapshot's last entry with the same
 * term (Figure 13, step 6), else it drops its log (step 7); its commit
 * point becomes the snapshot's lsn and the next Ready tells the driver
 * to rebuild its state machine from the snapshot.  A crash in between
 * drops the buffer: the node comes back with its old log and snapshot.
 * A snapshot at or below its commit point is not installed, only
 * answered (it has all of it already).
 */
#include "raft/internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CHUNK (16u << 10)

/* A snapshot of the driver's bytes with the configuration as of lsn
 * ahead of them (its text and a newline): what InstallSnapshot sends. */
static struct raft_snapdata *snapdata_new(uint64_t lsn, uint64_t term,
                                          const struct raft_membership *c,
                                          const void *data, size_t len)
{
    char hdr[8 * RAFT_MAX_NODES + 32];
    int h = raft_membership_format(c, hdr, sizeof(hdr) - 1);
    if (h < 0 || (size_t)h >= sizeof(hdr) - 1)
        abort();
    hdr[h++] = '\n';
    struct raft_snapdata *d = malloc(sizeof(*d) + (size_t)h + len);
    if (!d)
        return NULL;
    d->refs = 1;
    d->lsn = lsn;
    d->term = term;
    d->conf = *c;
    d->hdr = (size_t)h;
    d->len = (size_t)h + len;
    memcpy(d->data, hdr, (size_t)h);
    if (len)
        memcpy(d->data + h, data, len);
    return d;
}

/* The configuration header of a received snapshot's bytes: its length
 * (newline included), or 0 when it does not decode. */
static size_t snap_header(const struct raft_node *n, const unsigned char *b,
                          size_t len, struct raft_membership *c)
{
    const unsigned char *nl = memchr(b, '\n', len);
    if (!nl || raft_membership_parse((const char *)b, (size_t)(nl - b),
                                     n->cfg.n_nodes, c) != 0)
        return 0;
    return (size_t)(nl - b) + 1;
}

void raft__snapdata_unref(struct raft_snapdata *d)
{
    if (d && --d->refs == 0)
        free(d);
}

static struct raft_event *snap_event(struct raft_node *n, int reason,
                                     const struct raft_snapdata *d,
                                     int peer, uint64_t count)
{
    struct raft_event *ev = raft__event(n, RAFT_EV_SNAPSHOT);
    ev->reason = (uint8_t)reason;
    ev->peer = peer;
    ev->lsn = d->lsn;
    ev->entry_term = d->term;
    ev->count = count;
    ev->bytes = d->len - d->hdr; /* the state machine's */
    return ev;
}

int raft_snapshot_take(struct raft_node *n, uint64_t lsn, const void *data,
                       size_t len)
{
    if (n->role == RAFT_DOWN)
        return RAFT_EDOWN;
    if (lsn <= n->wal.base_lsn || lsn > n->applied_handed ||
        lsn > n->commit_lsn || lsn > wal_last_lsn(&n->wal) ||
        len > RAFT_SNAPSHOT_MAX || (len && !data))
        return RAFT_EINVAL;
    struct raft_membership c;
    raft__conf_at(n, lsn, &c, NULL);
    struct raft_snapdata *d =
        snapdata_new(lsn, wal_term_at(&n->wal, lsn), &c, data, len);
    if (!d)
        return RAFT_ENOMEM;
    n->conf_base = c; /* entries up to lsn go: the base holds their word */
    raft__snapdata_unref(n->snap);
    n->snap = d;
    uint64_t k = wal_compact(&n->wal, lsn);
    if (n->persist_handed < lsn)
        n->persist_handed = lsn;
    snap_event(n, RAFT_R_COMPACT, d, RAFT_NONE, k);
    return RAFT_OK;
}

bool raft_snapshot_get(const struct raft_node *n, struct raft_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    if (!n->snap)
        return false;
    out->lsn = n->snap->lsn;
    out->term = n->snap->term;
    out->data = n->snap->data + n->snap->hdr;
    out->len = n->snap->len - n->snap->hdr;
    return true;
}

uint64_t raft_applied_lsn(const struct raft_node *n)
{
    return n->applied_handed;
}

/* ------------------------------------------------------------------ */
/* Leader side */

void raft__snapshot_stop(struct raft_progress *p)
{
    raft__snapdata_unref(p->snap);
    p->snap = NULL;
    p->snap_off = 0;
    p->snap_sent = false;
}

static uint32_t chunk_size(const struct raft_node *n)
{
    uint32_t c = n->cfg.snap_chunk ? n->cfg.snap_chunk : DEFAULT_CHUNK;
    return c > WAL_VALUE_MAX ? WAL_VALUE_MAX : c;
}

/* Send peer the chunk at its offset, unless one is out already. */
void raft__send_snapshot(struct raft_node *n, int peer)
{
    struct raft_progress *p = &n->prog[peer];
    assert(n->snap);
    if (!p->snap) {
        p->snap = n->snap;
        p->snap->refs++;
        p->snap_off = 0;
        p->snap_sent = false;
        p->inflight = 0;
        p->infl_head = 0;
        snap_event(n, RAFT_R_SNAP_SEND, p->snap, peer, 0);
    }
    if (p->snap_sent)
        return;
    const struct raft_snapdata *d = p->snap;
    size_t len = d->len - p->snap_off;
    if (len > chunk_size(n))
        len = chunk_size(n);
    struct wal_entry *e = calloc(1, sizeof(*e));
    if (!e)
        abort();
    e->payload = wal_payload_new("", 0, (const char *)d->data + p->snap_off,
                                 len);
    if (!e->payload)
        abort();
    struct raft_msg *m = raft__msg(n, RAFT_MSG_SNAPSHOT, peer);
    m->last_lsn = d->lsn;
    m->last_term = d->term;
    m->snap_offset = p->snap_off;
    m->snap_total = d->len;
    m->snap_done = p->snap_off + len == d->len;
    m->n_entries = 1;
    m->entries = e;
    p->snap_sent = true;
}

void raft__recv_snapshot_response(struct raft_node *n,
                                  const struct raft_msg *m)
{
    if (n->role != RAFT_LEADER)
        return;
    struct raft_progress *p = &n->prog[m->from];
    if (m->success) {
        /* Installed (or covered by its commit point): it matches us up
         * to match_lsn; replicate from there. */
        raft__note_match(n, m->from, m->match_lsn);
        if (p->snap && m->last_lsn >= p->snap->lsn) {
            raft__snapshot_stop(p);
            p->probe = false;
            p->probe_sent = false;
            p->inflight = 0;
            p->infl_head = 0;
            p->next_lsn = p->match_lsn + 1;
        }
        raft__maybe_commit(n);
        raft__push(n, m->from);
        raft__transfer_progress(n, m->from);
        return;
    }
    if (!p->snap || m->last_lsn != p->snap->lsn ||
        m->snap_offset > p->snap->len)
        return; /* about another snapshot, or absurd */
    if (m->snap_offset == p->snap_off && p->snap_sent)
        return; /* a duplicate answer: that chunk is out already */
    p->snap_off = m->snap_offset;
    p->snap_sent = false;
    raft__send_snapshot(n, m->from);
}

/* ------------------------------------------------------------------ */
/* Follower side */

void raft__inst_clear(struct raft_node *n)
{
    free(n->inst.buf);
    memset(&n->inst, 0, sizeof(n->inst));
}

static bool install(struct raft_node *n, int from)
{
    struct raft_membership c;
    size_t h = snap_header(n, n->inst.buf, n->inst.len, &c);
    if (!h) {
        raft__inst_clear(n);
        return false;
    }
    struct raft_snapdata *d = snapdata_new(n->inst.lsn, n->inst.lterm, &c,
                                           n->inst.buf + h, n->inst.len - h);
    if (!d)
        abort();
    raft__inst_clear(n);
    uint64_t L = d->lsn, T = d->term;
    uint64_t k;
    raft__early_clear(n);
    if (wal_term_at(&n->wal, L) == T) {
        k = wal_compact(&n->wal, L); /* Figure 13, step 6 */
    } else {
        /* Step 7: the log does not hold the snapshot's last entry.  What
         * lies past L is an uncommitted tail of another leader: thrown
         * away as a conflict would throw it away. */
        if (wal_last_lsn(&n->wal) > L) {
            struct wal_entry *lost = NULL;
            uint64_t j = wal_truncate(&n->wal, L + 1, &lost);
            for (uint64_t i = 0; lost && i < j; i++)
                raft__emit_entry(n, RAFT_EV_DISCARD, &lost[i],
                                 RAFT_R_CONFLICT);
            wal_entries_free(lost, j);
        }
        k = wal_reset(&n->wal, L, T);
    }
    n->conf_base = c;
    raft__conf_reload(n, true); /* the snapshot's, or a later entry's */
    raft__snapdata_unref(n->snap);
    n->snap = d;
    if (n->persist_handed > wal_last_lsn(&n->wal))
        n->persist_handed = wal_last_lsn(&n->wal);
    if (n->persist_handed < L)
        n->persist_handed = L;
    snap_event(n, RAFT_R_SNAP_INSTALL, d, from, k);
    n->commit_lsn = L;
    struct raft_event *ev = raft__event(n, RAFT_EV_COMMIT);
    ev->lsn = L;
    n->applied_handed = L;
    n->restore_pending = true;
    return true;
}

void raft__recv_snapshot(struct raft_node *n, const struct raft_msg *m)
{
    if (!raft__heard_leader(n, m))
        return;

    struct raft_msg *r = raft__msg(n, RAFT_MSG_SNAPSHOT_RESP, m->from);
    r->last_lsn = m->last_lsn;
    if (m->last_lsn <= n->commit_lsn) {
        /* We have all of it: say how far we match. */
        r->success = true;
        r->match_lsn = n->commit_lsn;
        raft__inst_clear(n);
        return;
    }
    if (n->inst.from != m->from || n->inst.term != n->term ||
        n->inst.lsn != m->last_lsn || n->inst.lterm != m->last_term ||
        n->inst.total != m->snap_total) {
        if (m->snap_offset != 0) {
            r->snap_offset = 0; /* start from the beginning */
            return;
        }
        raft__inst_clear(n);
        n->inst.from = m->from;
        n->inst.term = n->term;
        n->inst.lsn = m->last_lsn;
        n->inst.lterm = m->last_term;
        n->inst.total = m->snap_total;
        n->inst.buf = malloc(m->snap_total ? m->snap_total : 1);
        if (!n->inst.buf)
            abort();
    }
    if (m->snap_offset != n->inst.len) {
        r->snap_offset = n->inst.len; /* stale, duplicated or ahead */
        return;
    }
    const struct wal_payload *p = m->n_entries ? m->entries[0].payload : NULL;
    size_t len = p ? p->value_len : 0;
    assert(n->inst.len + len <= n->inst.total); /* validate.c */
    if (len)
        memcpy(n->inst.buf + n->inst.len, wal_payload_value(p), len);
    n->inst.len += len;
    if (!m->snap_done) {
        r->snap_offset = n->inst.len;
        return;
    }
    if (!install(n, m->from)) {
        /* the bytes are not a snapshot of ours: drop them, start over */
        raft__reject(n, m, RAFT_R_BAD_CONFIG, m->last_lsn);
        r->snap_offset = 0;
        return;
    }
    r->success = true;
    r->match_lsn = m->last_lsn;
}
