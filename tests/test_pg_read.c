/*
 * test_pg_read.c — the read routes' choice among standbys, without
 * servers (sim/pg/pg_read.h), and a read on a server that is down.  The
 * routes on real servers are exercised by tests/pg.sh
 * (scenarios/pg/read-your-writes.scn, monotonic-reads.scn, …).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/pg/pg_read.h"

/* the k-th candidate, as the run's seeded choice would give it */
static int nth(void *ctx, int k)
{
    int want = *(int *)ctx;
    return want <= k ? want : k;
}

Test(pg_read, ryw_takes_only_a_standby_that_has_replayed_the_token)
{
    bool ok[3] = {false, true, true}; /* a: primary, b and c streaming */
    uint64_t replay[3] = {0, 0x4000100, 0x4000080};
    int first = 1;
    /* c is below the token: b is the only candidate */
    cr_assert_eq(pg_route_ryw(ok, replay, 3, 0x4000100, nth, &first), 1);
    /* nobody has it: -1, the caller falls back to the primary */
    cr_assert_eq(pg_route_ryw(ok, replay, 3, 0x4000101, nth, &first), -1);
    /* no token: any streaming standby, as the pick says */
    int second = 2;
    cr_assert_eq(pg_route_ryw(ok, replay, 3, 0, nth, &second), 2);
    cr_assert_eq(pg_route_ryw(ok, replay, 3, 0, nth, &first), 1);
    /* b stops streaming: it is no candidate however far it replayed */
    ok[1] = false;
    cr_assert_eq(pg_route_ryw(ok, replay, 3, 0x4000100, nth, &first), -1);
    cr_assert_eq(pg_route_ryw(ok, replay, 3, 0x4000080, nth, &first), 2);
}

Test(pg_read, monotonic_sticks_and_never_goes_below_the_floor)
{
    bool ok[3] = {false, true, true};
    uint64_t replay[3] = {0, 0x4000100, 0x4000080};
    int second = 2;
    /* stuck to c (index 2) while c has reached the floor */
    cr_assert_eq(pg_route_monotonic(ok, replay, 3, 2, 0x4000080, nth,
                                    &second),
                 2);
    /* the client has read at b's position: c is below it, b is taken
     * although the pick would have said c */
    cr_assert_eq(pg_route_monotonic(ok, replay, 3, 2, 0x4000100, nth,
                                    &second),
                 1);
    /* the sticky one went down: another one that has the floor */
    ok[1] = false;
    cr_assert_eq(pg_route_monotonic(ok, replay, 3, 1, 0x4000080, nth,
                                    &second),
                 2);
    /* none has it: -1 (the primary answers) */
    cr_assert_eq(pg_route_monotonic(ok, replay, 3, 1, 0x4000100, nth,
                                    &second),
                 -1);
    /* no sticky server yet (-1): any with the floor */
    ok[1] = true;
    cr_assert_eq(pg_route_monotonic(ok, replay, 3, -1, 0, nth, &second),
                 2);
}

Test(pg_read, a_read_on_a_server_that_is_down_says_which, .timeout = 30)
{
    struct pg_server s = {.name = "b"};
    char conninfo[] = "host=127.0.0.1 port=1 dbname=raftsim user=raftsim "
                      "connect_timeout=2";
    s.conninfo = conninfo;
    struct pg_answer a;
    char err[512];
    cr_assert_eq(pg_read_key(&s, 2.0, "x", &a, err, sizeof(err)), -1);
    cr_assert(strstr(err, "server b") != NULL, "%s", err);
    cr_assert_not(a.found);
}
