/*
 * validate.c — what a message must satisfy before it may change any
 * state, and the `reject` event for one that does not.
 *
 * The transport authenticates peers; this file is the defence against an
 * authenticated peer that is buggy (or a codec that decodes a well-formed
 * but absurd frame).  Raft itself trusts a leader's entries, so this
 * cannot stop a peer that lies consistently; what it guarantees is that
 * no single message can make the core assert, loop, wrap a term, allocate
 * without bound or throw away what it has committed.  Every check is
 * O(entries in the message) plus, for an append, one pass over the part
 * of the local log the entries overlap.
 *
 * Rules (raft.h's reject reasons):
 *   term-range      term above RAFT_TERM_MAX, or more than
 *                   RAFT_TERM_JUMP_MAX ahead of ours, or an append with
 *                   term 0 (no leader has it)
 *   log-term-range  a log position's term above the message's term, or a
 *                   non-zero term at lsn 0
 *   lsn-range       prev_lsn + entries overflows; an append response
 *                   about an lsn this leader does not have
 *   entry-lsn       entries not numbered prev_lsn + 1, + 2, …
 *   entry-term      entry terms decreasing, below prev_term or above the
 *                   message's term
 *   entry-type      an entry type the WAL does not know
 *   below-commit    the entries would replace one this node committed
 *                   (a correct leader holds every committed entry, §5.4)
 *   not-leader      a TimeoutNow of our term from a node other than the
 *                   leader we follow in it (only a leader transfers);
 *                   a TimeoutNow of term 0 is term-range
 *   snapshot-range  an InstallSnapshot chunk that is not one chunk
 *                   (n_entries 1) inside its snapshot (offset + length
 *                   at most the total, done exactly at the end), or a
 *                   snapshot over RAFT_SNAPSHOT_MAX; a snapshot of lsn 0
 *                   or term 0 is log-term-range, one that would replace
 *                   an entry we committed below-commit
 * A rejected message gets no reply: a peer that sends such messages is
 * broken and a reply would only be another input to it.
 */
#include "raft/internal.h"

/* A message may raise our term by at most this much: each term is one
 * election, and 2^32 elections at one per 150 ms take twenty years. */
static bool term_ok(const struct raft_node *n, uint64_t term)
{
    return term <= RAFT_TERM_MAX && term <= n->term + RAFT_TERM_JUMP_MAX;
}

static int check_append(const struct raft_node *n, const struct raft_msg *m,
                        uint64_t *at)
{
    if (m->term == 0)
        return RAFT_R_TERM_RANGE; /* no leader ever has term 0 */
    if (m->prev_term > m->term || (m->prev_lsn == 0 && m->prev_term != 0))
        return RAFT_R_LOG_TERM_RANGE;
    if (m->n_entries && !m->entries)
        return RAFT_R_ENTRY_LSN;
    if (m->prev_lsn > UINT64_MAX - 1 - m->n_entries)
        return RAFT_R_LSN_RANGE; /* prev_lsn + 1 + i must not wrap */
    uint64_t last_term = m->prev_term;
    for (uint32_t i = 0; i < m->n_entries; i++) {
        const struct wal_entry *e = &m->entries[i];
        *at = m->prev_lsn + 1 + i;
        if (e->lsn != *at)
            return RAFT_R_ENTRY_LSN;
        if (e->term < last_term || e->term > m->term)
            return RAFT_R_ENTRY_TERM;
        if (e->type > WAL_ENTRY_TYPE_MAX)
            return RAFT_R_ENTRY_TYPE;
        struct raft_membership c;
        if (e->type == WAL_ENTRY_CONFIG && raft__conf_decode(n, e, &c) != 0)
            return RAFT_R_BAD_CONFIG;
        last_term = e->term;
    }
    /* Would the entries replace a committed one?  Only if they are
     * applied at all: not stale, and prev matches.  The unsafe rules make
     * exactly this happen on purpose, for the checker to catch. */
    uint64_t base = n->wal.base_lsn;
    if (n->cfg.unsafe || m->term < n->term ||
        m->prev_lsn > wal_last_lsn(&n->wal) ||
        (m->prev_lsn >= base &&
         wal_term_at(&n->wal, m->prev_lsn) != m->prev_term))
        return RAFT_R_NONE;
    uint64_t last = wal_last_lsn(&n->wal);
    for (uint32_t i = 0; i < m->n_entries; i++) {
        const struct wal_entry *e = &m->entries[i];
        if (e->lsn < base)
            continue; /* compacted: committed, in our snapshot */
        if (e->lsn > last || e->lsn > n->commit_lsn)
            break;
        if (wal_term_at(&n->wal, e->lsn) != e->term) {
            *at = e->lsn;
            return RAFT_R_BELOW_COMMIT;
        }
    }
    return RAFT_R_NONE;
}

static int check_append_resp(const struct raft_node *n,
                             const struct raft_msg *m, uint64_t *at)
{
    if (m->hint_term > m->term)
        return RAFT_R_LOG_TERM_RANGE;
    /* Only a leader reads these, and only about lsns it sent. */
    if (n->role != RAFT_LEADER || m->term != n->term)
        return RAFT_R_NONE;
    uint64_t last = wal_last_lsn(&n->wal);
    if (m->success && m->match_lsn > last) {
        *at = m->match_lsn;
        return RAFT_R_LSN_RANGE;
    }
    if (!m->success && (m->reject_lsn > last || m->hint_lsn > m->reject_lsn)) {
        *at = m->reject_lsn;
        return RAFT_R_LSN_RANGE;
    }
    return RAFT_R_NONE;
}

static int check_snapshot(const struct raft_node *n, const struct raft_msg *m,
                          uint64_t *at)
{
    if (m->term == 0)
        return RAFT_R_TERM_RANGE;
    if (m->last_lsn == 0 || m->last_term == 0 || m->last_term > m->term)
        return RAFT_R_LOG_TERM_RANGE;
    const struct wal_payload *p =
        m->n_entries == 1 && m->entries ? m->entries[0].payload : NULL;
    uint64_t len = p ? p->value_len : 0;
    if (m->n_entries != 1 || !m->entries ||
        m->snap_total > RAFT_SNAPSHOT_MAX ||
        m->snap_offset > m->snap_total ||
        len > m->snap_total - m->snap_offset ||
        m->snap_done != (m->snap_offset + len == m->snap_total))
        return RAFT_R_SNAP_RANGE;
    /* Would it replace an entry we committed with another? */
    uint64_t L = m->last_lsn;
    if (!n->cfg.unsafe && L <= n->commit_lsn && L >= n->wal.base_lsn &&
        wal_term_at(&n->wal, L) != m->last_term) {
        *at = L;
        return RAFT_R_BELOW_COMMIT;
    }
    return RAFT_R_NONE;
}

int raft__check_msg(const struct raft_node *n, const struct raft_msg *m,
                    uint64_t *at)
{
    *at = 0;
    if (!term_ok(n, m->term))
        return RAFT_R_TERM_RANGE;
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        if (m->last_term > m->term || (m->last_lsn == 0 && m->last_term))
            return RAFT_R_LOG_TERM_RANGE;
        return RAFT_R_NONE;
    case RAFT_MSG_APPEND:
        return check_append(n, m, at);
    case RAFT_MSG_APPEND_RESP:
        return check_append_resp(n, m, at);
    case RAFT_MSG_TIMEOUT_NOW:
        if (m->term == 0)
            return RAFT_R_TERM_RANGE; /* sent by a leader: term >= 1 */
        if (m->term == n->term && n->leader != RAFT_NONE &&
            n->leader != m->from)
            return RAFT_R_NOT_LEADER;
        return RAFT_R_NONE;
    case RAFT_MSG_SNAPSHOT:
        return check_snapshot(n, m, at);
    case RAFT_MSG_SNAPSHOT_RESP:
        if (m->success && n->role == RAFT_LEADER && m->term == n->term &&
            m->match_lsn > wal_last_lsn(&n->wal)) {
            *at = m->match_lsn;
            return RAFT_R_LSN_RANGE;
        }
        return RAFT_R_NONE;
    }
    return RAFT_R_NONE;
}

void raft__reject(struct raft_node *n, const struct raft_msg *m, int reason,
                  uint64_t at)
{
    struct raft_event *ev = raft__event(n, RAFT_EV_REJECT);
    ev->reason = (uint8_t)reason;
    ev->peer = m->from;
    ev->msg_type = m->type;
    ev->msg_term = m->term;
    ev->lsn = at;
}
