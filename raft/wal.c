/*
 * wal.c — the in-memory WAL: a dense array indexed by lsn - base_lsn - 1.
 */
#include "raft/wal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct wal_payload *wal_payload_new(const char *key, size_t key_len,
                                    const char *value, size_t value_len)
{
    if (key_len > WAL_KEY_MAX || value_len > WAL_VALUE_MAX)
        return NULL;
    struct wal_payload *p = malloc(sizeof(*p) + key_len + value_len + 2);
    if (!p)
        return NULL;
    p->refs = 1;
    p->key_len = (uint32_t)key_len;
    p->value_len = (uint32_t)value_len;
    if (key_len)
        memcpy(p->data, key, key_len);
    p->data[key_len] = '\0';
    if (value_len)
        memcpy(p->data + key_len + 1, value, value_len);
    p->data[key_len + 1 + value_len] = '\0';
    return p;
}

void wal_payload_unref(struct wal_payload *p)
{
    if (!p)
        return;
    assert(p->refs > 0);
    if (--p->refs == 0)
        free(p);
}

void wal_init(struct wal *w)
{
    memset(w, 0, sizeof(*w));
}

void wal_close(struct wal *w)
{
    wal_truncate(w, w->base_lsn + 1, NULL);
    free(w->entries);
    wal_init(w);
}

int wal_append(struct wal *w, uint64_t term, uint8_t type,
               struct wal_payload *payload)
{
    /* Terms are non-decreasing in any log Raft builds; the unsafe
     * keep-conflicts rule breaks that on purpose, so it is not asserted
     * here but in the replication path. */
    if (wal_count(w) == w->cap) {
        uint64_t cap = w->cap ? w->cap * 2 : 64;
        struct wal_entry *e = realloc(w->entries, cap * sizeof(*e));
        if (!e)
            return -1;
        w->entries = e;
        w->cap = cap;
    }
    struct wal_entry *e = &w->entries[wal_count(w)];
    e->lsn = w->len + 1;
    e->term = term;
    e->type = type;
    e->payload = wal_payload_ref(payload);
    w->len++;
    return 0;
}

uint64_t wal_last_term(const struct wal *w)
{
    return wal_count(w) ? w->entries[wal_count(w) - 1].term : w->base_term;
}

const struct wal_entry *wal_get(const struct wal *w, uint64_t lsn)
{
    if (lsn <= w->base_lsn || lsn > w->len)
        return NULL;
    return &w->entries[lsn - w->base_lsn - 1];
}

uint64_t wal_term_at(const struct wal *w, uint64_t lsn)
{
    if (lsn == 0)
        return 0;
    if (lsn > w->len)
        return UINT64_MAX;
    if (lsn == w->base_lsn)
        return w->base_term;
    if (lsn < w->base_lsn)
        return WAL_TERM_COMPACTED;
    return w->entries[lsn - w->base_lsn - 1].term;
}

uint64_t wal_term_first_lsn(const struct wal *w, uint64_t from)
{
    assert(from >= 1 && from <= w->len);
    if (from <= w->base_lsn)
        return from;
    uint64_t term = wal_term_at(w, from);
    while (from > w->base_lsn + 1 && wal_term_at(w, from - 1) == term)
        from--;
    return from;
}

uint64_t wal_last_lsn_of_term(const struct wal *w, uint64_t term)
{
    /* Terms are non-decreasing along the log, so stop once below. */
    for (uint64_t lsn = w->len; lsn > w->base_lsn; lsn--) {
        uint64_t t = wal_term_at(w, lsn);
        if (t == term)
            return lsn;
        if (t < term)
            return 0;
    }
    return w->base_lsn && w->base_term == term ? w->base_lsn : 0;
}

uint64_t wal_truncate(struct wal *w, uint64_t from, struct wal_entry **out)
{
    assert(from > w->base_lsn);
    if (out)
        *out = NULL;
    if (from > w->len)
        return 0;
    uint64_t n = w->len - from + 1;
    uint64_t at = from - w->base_lsn - 1;
    if (out) {
        *out = malloc(n * sizeof(**out));
        if (*out)
            memcpy(*out, &w->entries[at], n * sizeof(**out));
        else
            out = NULL; /* cannot hand them over: release below */
    }
    if (!out)
        for (uint64_t i = at; i < at + n; i++)
            wal_payload_unref(w->entries[i].payload);
    w->len = from - 1;
    if (w->flushed_lsn > w->len)
        w->flushed_lsn = w->len;
    return n;
}

void wal_entries_free(struct wal_entry *e, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        wal_payload_unref(e[i].payload);
    free(e);
}

void wal_set_flushed(struct wal *w, uint64_t lsn)
{
    if (lsn > w->len)
        lsn = w->len;
    if (lsn > w->flushed_lsn)
        w->flushed_lsn = lsn;
}

/* Shrink the array when it is mostly empty, so a compacted log gives
 * its memory back (a log that grew to a million entries before its
 * first snapshot would otherwise keep the capacity for ever). */
static void maybe_shrink(struct wal *w)
{
    uint64_t n = wal_count(w);
    if (w->cap <= 256 || n * 4 > w->cap)
        return;
    uint64_t cap = n * 2 > 64 ? n * 2 : 64;
    struct wal_entry *e = realloc(w->entries, cap * sizeof(*e));
    if (e) { /* a failed shrink keeps the larger array: harmless */
        w->entries = e;
        w->cap = cap;
    }
}

uint64_t wal_compact(struct wal *w, uint64_t upto)
{
    if (upto <= w->base_lsn)
        return 0;
    assert(upto <= w->len);
    uint64_t k = upto - w->base_lsn;
    uint64_t term = wal_term_at(w, upto);
    for (uint64_t i = 0; i < k; i++)
        wal_payload_unref(w->entries[i].payload);
    memmove(w->entries, w->entries + k, (wal_count(w) - k) * sizeof(*w->entries));
    w->base_lsn = upto;
    w->base_term = term;
    if (w->flushed_lsn < upto)
        w->flushed_lsn = upto;
    maybe_shrink(w);
    return k;
}

uint64_t wal_reset(struct wal *w, uint64_t lsn, uint64_t term)
{
    uint64_t k = wal_count(w);
    for (uint64_t i = 0; i < k; i++)
        wal_payload_unref(w->entries[i].payload);
    w->base_lsn = w->len = lsn;
    w->base_term = term;
    w->flushed_lsn = lsn;
    maybe_shrink(w);
    return k;
}
