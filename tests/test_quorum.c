/*
 * test_quorum.c — the commit rule's selection (raft_quorum_lsn) against
 * the algorithm it replaced: an insertion sort of every match index,
 * descending, whose quorum-th element commits when it is above the commit
 * lsn so far.  Many random match vectors: every size up to RAFT_MAX_NODES
 * + 1, values from a narrow range (many ties, the usual case: most
 * followers at the same lsn) and from a wide one, sorted runs both ways.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "raft/raft.h"

/* The old raft__maybe_commit, verbatim in substance. */
static uint64_t reference(const uint64_t *match, int n, int quorum,
                          uint64_t floor)
{
    uint64_t m[RAFT_MAX_NODES + 1];
    int k = 0;
    for (int i = 0; i < n; i++) {
        uint64_t v = match[i];
        int j = k++;
        while (j > 0 && m[j - 1] < v) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = v;
    }
    return m[quorum - 1] > floor ? m[quorum - 1] : floor;
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t next(void) /* xorshift64*: the test's own, fixed stream */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void check(const uint64_t *v, int n, int q, uint64_t floor)
{
    uint64_t want = reference(v, n, q, floor);
    uint64_t got = raft_quorum_lsn(v, n, q, floor);
    cr_assert_eq(got, want,
                 "n=%d quorum=%d floor=%llu: got %llu, the sort says %llu",
                 n, q, (unsigned long long)floor, (unsigned long long)got,
                 (unsigned long long)want);
}

Test(quorum, equals_the_insertion_sort_on_random_vectors)
{
    uint64_t v[RAFT_MAX_NODES + 1];
    long checked = 0;
    for (int round = 0; round < 400; round++)
        for (int n = 1; n <= RAFT_MAX_NODES + 1; n++) {
            uint64_t range = round % 3 == 0   ? 3
                             : round % 3 == 1 ? 40
                                              : UINT64_MAX;
            uint64_t base = next() % 1000;
            for (int i = 0; i < n; i++)
                v[i] = range == UINT64_MAX ? next() : base + next() % range;
            int shape = round % 7;
            if (shape == 5 || shape == 6) /* a sorted run, up or down */
                for (int i = 1; i < n; i++)
                    v[i] = shape == 5 ? v[i - 1] + next() % 3
                                      : v[i - 1] - (v[i - 1] ? next() % 2 : 0);
            int q = n / 2 + 1; /* the majority, as raft uses it */
            if (round % 5 == 4)
                q = 1 + (int)(next() % (uint64_t)n); /* any k */
            /* the floor below, inside and above the values */
            uint64_t floor = round % 4 == 0   ? 0
                             : round % 4 == 1 ? v[next() % (uint64_t)n]
                             : round % 4 == 2 ? base + range / 2
                                              : UINT64_MAX;
            check(v, n, q, floor);
            checked++;
        }
    cr_assert_gt(checked, 50000);
}

Test(quorum, edge_shapes)
{
    uint64_t v[RAFT_MAX_NODES + 1];
    for (int n = 1; n <= RAFT_MAX_NODES + 1; n++) {
        for (int q = 1; q <= n; q++) {
            for (int i = 0; i < n; i++)
                v[i] = 7; /* all equal */
            check(v, n, q, 0);
            check(v, n, q, 7);
            check(v, n, q, 6);
            for (int i = 0; i < n; i++)
                v[i] = (uint64_t)i; /* ascending, distinct */
            check(v, n, q, 0);
            check(v, n, q, (uint64_t)n / 2);
            for (int i = 0; i < n; i++)
                v[i] = (uint64_t)(n - i); /* descending */
            check(v, n, q, 1);
            for (int i = 0; i < n; i++)
                v[i] = (uint64_t)(i % 2) * 100; /* two values */
            check(v, n, q, 0);
            check(v, n, q, 50);
        }
    }
}

Test(quorum, a_bad_size_leaves_the_floor)
{
    uint64_t v[3] = {5, 5, 5};
    cr_assert_eq(raft_quorum_lsn(v, 0, 1, 2), 2);
    cr_assert_eq(raft_quorum_lsn(v, 3, 4, 2), 2);
    cr_assert_eq(raft_quorum_lsn(v, 3, 0, 2), 2);
    cr_assert_eq(raft_quorum_lsn(v, 3, 2, 2), 5);
}
