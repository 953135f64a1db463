/*
 * wal.h — the in-memory write-ahead log of one node.
 *
 * Entries are numbered by LSN 1, 2, 3 … with no gaps; each carries the term
 * of the leader that created it and an immutable key/value payload.  The
 * payload is reference-counted and shared between WALs and in-flight
 * messages, so replicating an entry never copies its bytes.
 *
 * flushed_lsn is the durability boundary: entries at or below it survive a
 * crash that loses the page cache.  The WAL itself does not fsync anything;
 * the driver decides when a flush happens and reports it.
 *
 * Compaction (Raft §7): once the state machine holds a snapshot at lsn
 * L, wal_compact drops entries 1..L and keeps (base_lsn, base_term), the
 * last entry the snapshot includes, so the consistency check at the
 * boundary (AppendEntries' prev) and the up-to-date check of an empty
 * log (wal_last_term) still work.  Entries at or below base_lsn are gone:
 * wal_get returns NULL and wal_term_at WAL_TERM_COMPACTED for them.
 *
 * Not here: commit/apply positions and the snapshot's bytes (raft/).
 */
#ifndef RAFTSIM_WAL_H
#define RAFTSIM_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    WAL_ENTRY_DATA = 0,
    WAL_ENTRY_NOOP = 1,
    WAL_ENTRY_CONFIG = 2, /* a configuration: the value is its text
                             (raft_membership_format), the key empty */
};
#define WAL_ENTRY_TYPE_MAX WAL_ENTRY_CONFIG

#define WAL_KEY_MAX 255u          /* bytes */
#define WAL_VALUE_MAX (64u << 10) /* bytes */

struct wal_payload {
    uint32_t refs;
    uint32_t key_len, value_len;
    char data[]; /* key, NUL, value, NUL */
};

struct wal_entry {
    uint64_t lsn;
    uint64_t term;
    uint8_t type; /* WAL_ENTRY_* */
    struct wal_payload *payload; /* NULL for a no-op */
};

struct wal {
    struct wal_entry *entries; /* entries[i].lsn == base_lsn + i + 1 */
    uint64_t len;              /* == last lsn */
    uint64_t cap;
    uint64_t flushed_lsn;
    uint64_t base_lsn, base_term; /* last compacted entry (0, 0: none) */
};

/* wal_term_at of an lsn below base_lsn: compacted, term not kept. */
#define WAL_TERM_COMPACTED (UINT64_MAX - 1)

/* Payloads. */
struct wal_payload *wal_payload_new(const char *key, size_t key_len,
                                    const char *value, size_t value_len);
static inline struct wal_payload *wal_payload_ref(struct wal_payload *p)
{
    if (p)
        p->refs++;
    return p;
}
void wal_payload_unref(struct wal_payload *p);
static inline const char *wal_payload_key(const struct wal_payload *p)
{
    return p ? p->data : "";
}
static inline const char *wal_payload_value(const struct wal_payload *p)
{
    return p ? p->data + p->key_len + 1 : "";
}

void wal_init(struct wal *w);
void wal_close(struct wal *w);

/* Append one entry at lsn last+1, taking a new reference to its payload.
 * Returns 0 or -1 on allocation failure. */
int wal_append(struct wal *w, uint64_t term, uint8_t type,
               struct wal_payload *payload);
static inline uint64_t wal_last_lsn(const struct wal *w) { return w->len; }
uint64_t wal_last_term(const struct wal *w);
/* The entry at lsn, or NULL if out of range (lsn 0 and compacted lsns
 * have none). */
const struct wal_entry *wal_get(const struct wal *w, uint64_t lsn);
/* Term at lsn; 0 for lsn 0; base_term at base_lsn; WAL_TERM_COMPACTED
 * below it; UINT64_MAX when lsn is past the end. */
uint64_t wal_term_at(const struct wal *w, uint64_t lsn);
/* First lsn whose term equals term at or before `from` going backwards:
 * the start of that term's run that contains `from` (not below
 * base_lsn: what was compacted is not searched). */
uint64_t wal_term_first_lsn(const struct wal *w, uint64_t from);
/* Last lsn holding an entry of `term`, 0 if none (scans back). */
uint64_t wal_last_lsn_of_term(const struct wal *w, uint64_t term);

/* Remove entries with lsn >= from.  The removed entries are moved into
 * *out (caller frees with wal_entries_free) when out is non-NULL,
 * otherwise released.  flushed_lsn is clamped.  Returns how many. */
uint64_t wal_truncate(struct wal *w, uint64_t from, struct wal_entry **out);
void wal_entries_free(struct wal_entry *e, uint64_t n);

void wal_set_flushed(struct wal *w, uint64_t lsn);

/* Compaction.  wal_compact drops entries base_lsn+1..upto (upto at most
 * the last lsn), which become the new base; flushed_lsn is raised to
 * upto (the snapshot that covers them is durable).  Returns how many
 * entries were dropped.  wal_reset drops every entry and makes
 * (lsn, term) the base: a snapshot installed over a log that does not
 * hold its last entry (Raft Figure 13, step 7). */
uint64_t wal_compact(struct wal *w, uint64_t upto);
uint64_t wal_reset(struct wal *w, uint64_t lsn, uint64_t term);
static inline uint64_t wal_count(const struct wal *w)
{
    return w->len - w->base_lsn; /* entries held */
}

/* Is a log ending at (term_a, lsn_a) at least as up to date as one ending
 * at (term_b, lsn_b)?  Raft §5.4.1: later last term wins, then length. */
static inline bool wal_log_ok(uint64_t term_a, uint64_t lsn_a,
                              uint64_t term_b, uint64_t lsn_b)
{
    return term_a > term_b || (term_a == term_b && lsn_a >= lsn_b);
}

#endif
