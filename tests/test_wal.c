/*
 * test_wal.c — the in-memory WAL (raft/wal.h): append and lookup, the
 * last term/lsn, truncation handing back exactly what it removed, the
 * flushed_lsn clamp, term-run searches, payload reference counts and the
 * §5.4.1 log ordering.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "raft/wal.h"

static struct wal_payload *pl(const char *k, const char *v)
{
    struct wal_payload *p = wal_payload_new(k, strlen(k), v, strlen(v));
    cr_assert_not_null(p);
    return p;
}

/* Append one data entry per term in terms[]; keys "k1", "k2", ... */
static void fill(struct wal *w, const uint64_t *terms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char k[32];
        snprintf(k, sizeof(k), "k%zu", i + 1);
        struct wal_payload *p = pl(k, "v");
        cr_assert_eq(wal_append(w, terms[i], WAL_ENTRY_DATA, p), 0);
        wal_payload_unref(p);
    }
}

Test(wal, empty_log_has_lsn_zero_and_term_zero)
{
    struct wal w;
    wal_init(&w);
    cr_assert_eq(wal_last_lsn(&w), 0);
    cr_assert_eq(wal_last_term(&w), 0);
    cr_assert_null(wal_get(&w, 0));
    cr_assert_null(wal_get(&w, 1));
    cr_assert_eq(wal_term_at(&w, 0), 0);
    cr_assert_eq(wal_term_at(&w, 1), UINT64_MAX);
    cr_assert_eq(wal_last_lsn_of_term(&w, 1), 0);
    cr_assert_eq(wal_truncate(&w, 1, NULL), 0);
    wal_close(&w);
}

Test(wal, append_assigns_dense_lsns_and_lookup_returns_them)
{
    struct wal w;
    wal_init(&w);
    struct wal_payload *a = pl("alpha", "1"), *b = pl("beta", "22");
    cr_assert_eq(wal_append(&w, 1, WAL_ENTRY_NOOP, NULL), 0);
    cr_assert_eq(wal_append(&w, 1, WAL_ENTRY_DATA, a), 0);
    cr_assert_eq(wal_append(&w, 3, WAL_ENTRY_DATA, b), 0);
    wal_payload_unref(a);
    wal_payload_unref(b);

    cr_assert_eq(wal_last_lsn(&w), 3);
    cr_assert_eq(wal_last_term(&w), 3);
    const struct wal_entry *e1 = wal_get(&w, 1), *e2 = wal_get(&w, 2),
                           *e3 = wal_get(&w, 3);
    cr_assert(e1 && e2 && e3);
    cr_assert_eq(e1->lsn, 1);
    cr_assert_eq(e1->type, WAL_ENTRY_NOOP);
    cr_assert_null(e1->payload);
    cr_assert_str_eq(wal_payload_key(e1->payload), "");
    cr_assert_eq(e2->lsn, 2);
    cr_assert_eq(e2->term, 1);
    cr_assert_str_eq(wal_payload_key(e2->payload), "alpha");
    cr_assert_str_eq(wal_payload_value(e2->payload), "1");
    cr_assert_eq(e3->lsn, 3);
    cr_assert_eq(e3->term, 3);
    cr_assert_str_eq(wal_payload_key(e3->payload), "beta");
    cr_assert_str_eq(wal_payload_value(e3->payload), "22");
    cr_assert_null(wal_get(&w, 0));
    cr_assert_null(wal_get(&w, 4));
    cr_assert_eq(wal_term_at(&w, 0), 0);
    cr_assert_eq(wal_term_at(&w, 2), 1);
    cr_assert_eq(wal_term_at(&w, 3), 3);
    cr_assert_eq(wal_term_at(&w, 4), UINT64_MAX);
    cr_assert_eq(w.flushed_lsn, 0, "append never flushes");
    wal_close(&w);
}

Test(wal, append_grows_past_initial_capacity)
{
    struct wal w;
    wal_init(&w);
    for (uint64_t i = 1; i <= 1000; i++)
        cr_assert_eq(wal_append(&w, 1 + i / 100, WAL_ENTRY_NOOP, NULL), 0);
    cr_assert_eq(wal_last_lsn(&w), 1000);
    cr_assert_eq(wal_last_term(&w), 11);
    for (uint64_t i = 1; i <= 1000; i++) {
        cr_assert_eq(wal_get(&w, i)->lsn, i);
        cr_assert_eq(wal_term_at(&w, i), 1 + i / 100);
    }
    wal_close(&w);
}

Test(wal, truncate_returns_exactly_the_discarded_entries)
{
    struct wal w;
    wal_init(&w);
    const uint64_t terms[] = {1, 1, 2, 2, 3};
    fill(&w, terms, 5);

    struct wal_entry *out = (struct wal_entry *)1;
    cr_assert_eq(wal_truncate(&w, 6, &out), 0, "nothing past the end");
    cr_assert_null(out);
    cr_assert_eq(wal_last_lsn(&w), 5);

    uint64_t k = wal_truncate(&w, 3, &out);
    cr_assert_eq(k, 3);
    cr_assert_not_null(out);
    const uint64_t want_term[] = {2, 2, 3};
    const char *want_key[] = {"k3", "k4", "k5"};
    for (uint64_t i = 0; i < k; i++) {
        cr_assert_eq(out[i].lsn, 3 + i);
        cr_assert_eq(out[i].term, want_term[i]);
        cr_assert_str_eq(wal_payload_key(out[i].payload), want_key[i]);
        cr_assert_eq(out[i].payload->refs, 1, "reference moved, not copied");
    }
    wal_entries_free(out, k);

    cr_assert_eq(wal_last_lsn(&w), 2);
    cr_assert_eq(wal_last_term(&w), 1);
    cr_assert_null(wal_get(&w, 3));
    cr_assert_str_eq(wal_payload_key(wal_get(&w, 2)->payload), "k2");

    /* The log grows again from the cut point. */
    cr_assert_eq(wal_append(&w, 4, WAL_ENTRY_NOOP, NULL), 0);
    cr_assert_eq(wal_get(&w, 3)->lsn, 3);
    cr_assert_eq(wal_get(&w, 3)->term, 4);
    wal_close(&w);
}

Test(wal, truncate_from_one_empties_the_log)
{
    struct wal w;
    wal_init(&w);
    const uint64_t terms[] = {1, 2};
    fill(&w, terms, 2);
    cr_assert_eq(wal_truncate(&w, 1, NULL), 2);
    cr_assert_eq(wal_last_lsn(&w), 0);
    cr_assert_eq(wal_last_term(&w), 0);
    wal_close(&w);
}

Test(wal, truncate_clamps_flushed_lsn)
{
    struct wal w;
    wal_init(&w);
    const uint64_t terms[] = {1, 1, 1, 1, 1};
    fill(&w, terms, 5);
    wal_set_flushed(&w, 5);
    cr_assert_eq(w.flushed_lsn, 5);
    wal_truncate(&w, 4, NULL);
    cr_assert_eq(w.flushed_lsn, 3, "flushed_lsn clamped to the new end");

    /* A truncation above flushed_lsn leaves it alone. */
    wal_set_flushed(&w, 2); /* never goes backwards */
    cr_assert_eq(w.flushed_lsn, 3);
    fill(&w, terms, 2); /* lsn 4, 5 */
    wal_truncate(&w, 5, NULL);
    cr_assert_eq(w.flushed_lsn, 3);
    cr_assert_eq(wal_last_lsn(&w), 4);
    wal_close(&w);
}

Test(wal, set_flushed_clamps_to_the_log_and_never_decreases)
{
    struct wal w;
    wal_init(&w);
    const uint64_t terms[] = {1, 1, 1};
    fill(&w, terms, 3);
    wal_set_flushed(&w, 99);
    cr_assert_eq(w.flushed_lsn, 3);
    wal_set_flushed(&w, 1);
    cr_assert_eq(w.flushed_lsn, 3);
    wal_close(&w);
}

Test(wal, term_first_lsn_finds_the_start_of_the_run)
{
    struct wal w;
    wal_init(&w);
    const uint64_t terms[] = {1, 1, 2, 2, 2, 3, 5};
    fill(&w, terms, 7);
    cr_assert_eq(wal_term_first_lsn(&w, 1), 1);
    cr_assert_eq(wal_term_first_lsn(&w, 2), 1);
    cr_assert_eq(wal_term_first_lsn(&w, 3), 3);
    cr_assert_eq(wal_term_first_lsn(&w, 5), 3);
    cr_assert_eq(wal_term_first_lsn(&w, 6), 6);
    cr_assert_eq(wal_term_first_lsn(&w, 7), 7);
    wal_close(&w);
}

Test(wal, last_lsn_of_term_scans_back)
{
    struct wal w;
    wal_init(&w);
    const uint64_t terms[] = {1, 1, 2, 2, 2, 3, 5};
    fill(&w, terms, 7);
    cr_assert_eq(wal_last_lsn_of_term(&w, 1), 2);
    cr_assert_eq(wal_last_lsn_of_term(&w, 2), 5);
    cr_assert_eq(wal_last_lsn_of_term(&w, 3), 6);
    cr_assert_eq(wal_last_lsn_of_term(&w, 4), 0, "term 4 has no entry");
    cr_assert_eq(wal_last_lsn_of_term(&w, 5), 7);
    cr_assert_eq(wal_last_lsn_of_term(&w, 6), 0);
    cr_assert_eq(wal_last_lsn_of_term(&w, 0), 0);
    wal_close(&w);
}

Test(wal, payload_is_shared_by_reference_count)
{
    struct wal_payload *p = pl("key", "value");
    cr_assert_eq(p->refs, 1);
    cr_assert_eq(p->key_len, 3);
    cr_assert_eq(p->value_len, 5);
    cr_assert_str_eq(wal_payload_key(p), "key");
    cr_assert_str_eq(wal_payload_value(p), "value");

    struct wal a, b;
    wal_init(&a);
    wal_init(&b);
    wal_append(&a, 1, WAL_ENTRY_DATA, p);
    wal_append(&a, 1, WAL_ENTRY_DATA, p);
    wal_append(&b, 1, WAL_ENTRY_DATA, p);
    cr_assert_eq(p->refs, 4);
    cr_assert_eq(wal_get(&a, 1)->payload, p, "no copy of the bytes");
    cr_assert_eq(wal_get(&b, 1)->payload, p);

    struct wal_entry *out = NULL;
    cr_assert_eq(wal_truncate(&a, 2, &out), 1);
    cr_assert_eq(p->refs, 4, "moved out, still referenced");
    wal_entries_free(out, 1);
    cr_assert_eq(p->refs, 3);
    wal_truncate(&a, 1, NULL);
    cr_assert_eq(p->refs, 2, "released when not handed back");
    wal_close(&b);
    cr_assert_eq(p->refs, 1);
    cr_assert_eq(wal_payload_ref(p), p);
    cr_assert_eq(p->refs, 2);
    wal_payload_unref(p);
    wal_payload_unref(p); /* frees: ASan would see a leak or double free */
    wal_close(&a);
    cr_assert_null(wal_payload_ref(NULL));
    wal_payload_unref(NULL);
}

Test(wal, payload_limits)
{
    char big[WAL_KEY_MAX + 1];
    memset(big, 'k', sizeof(big));
    struct wal_payload *p = wal_payload_new(big, WAL_KEY_MAX, "", 0);
    cr_assert_not_null(p, "a key of exactly WAL_KEY_MAX bytes fits");
    cr_assert_eq(strlen(wal_payload_key(p)), WAL_KEY_MAX);
    cr_assert_str_eq(wal_payload_value(p), "");
    wal_payload_unref(p);
    cr_assert_null(wal_payload_new(big, WAL_KEY_MAX + 1, "", 0));
    cr_assert_null(wal_payload_new("k", 1, big, WAL_VALUE_MAX + 1));
}

Test(wal, log_ok_orders_by_last_term_then_length)
{
    /* wal_log_ok(a_term, a_lsn, b_term, b_lsn): a at least as up to date */
    cr_assert(wal_log_ok(3, 1, 2, 100), "later last term wins over length");
    cr_assert_not(wal_log_ok(2, 100, 3, 1));
    cr_assert(wal_log_ok(2, 7, 2, 6), "same term: longer wins");
    cr_assert_not(wal_log_ok(2, 6, 2, 7));
    cr_assert(wal_log_ok(2, 7, 2, 7), "equal logs are up to date");
    cr_assert(wal_log_ok(0, 0, 0, 0));
    cr_assert_not(wal_log_ok(0, 0, 1, 1), "empty log is behind any other");
    cr_assert(wal_log_ok(1, 1, 0, 0));
}
