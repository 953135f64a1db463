/*
 * test_pg_repl.c — PostgreSQL's replication settings as the mirror
 * computes them (sim/pg/pg_repl.h): ack modes onto
 * synchronous_standby_names, and primary_conninfo re-pointed.  No server.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/pg/pg_repl.h"

static const char *const abc[] = {"a", "b", "c"};

static void names(enum pg_ack ack, int quorum, int n, int self,
                  const char *want, int want_k, int want_capped)
{
    char out[128];
    int k = -1, capped = -1;
    cr_assert_eq(pg_sync_names(ack, quorum, abc, n, self, out, sizeof(out), &k,
                               &capped),
                 0);
    cr_assert_str_eq(out, want, "ack %d quorum %d n %d self %d", ack, quorum,
                     n, self);
    cr_assert_eq(k, want_k);
    cr_assert_eq(capped, want_capped);
}

Test(pg_repl, async_waits_for_no_standby)
{
    names(PG_ACK_LOCAL, 2, 3, 0, "", 0, 0);
    names(PG_ACK_LOCAL, 3, 2, 1, "", 0, 0);
}

Test(pg_repl, quorum_is_any_k_of_the_other_servers)
{
    /* 3 nodes, 3 servers: majority 2, the primary is one: ANY 1 */
    names(PG_ACK_ANY, 2, 3, 0, "ANY 1 (b, c)", 1, 0);
    /* the list is the servers other than the primary */
    names(PG_ACK_ANY, 2, 3, 1, "ANY 1 (a, c)", 1, 0);
    names(PG_ACK_ANY, 2, 3, 2, "ANY 1 (a, b)", 1, 0);
    /* 5 nodes on 3 servers (two witnesses): majority 3 → ANY 2 */
    names(PG_ACK_ANY, 3, 3, 0, "ANY 2 (b, c)", 2, 0);
    /* 5 nodes on 2 servers: 2 wanted, one standby exists → capped */
    names(PG_ACK_ANY, 3, 2, 0, "ANY 1 (b)", 1, 1);
    /* a single node: its own vote is the quorum */
    names(PG_ACK_ANY, 1, 3, 0, "", 0, 0);
}

Test(pg_repl, sync_is_first_n_with_every_standby)
{
    names(PG_ACK_ALL, 2, 3, 0, "FIRST 2 (b, c)", 2, 0);
    names(PG_ACK_ALL, 2, 2, 1, "FIRST 1 (a)", 1, 0);
    names(PG_ACK_ALL, 2, 1, 0, "", 0, 0); /* no standby at all */
}

Test(pg_repl, names_that_are_not_identifiers_are_quoted)
{
    static const char *const odd[] = {"p", "2b", "x-y"};
    char out[64];
    int k, capped;
    cr_assert_eq(pg_sync_names(PG_ACK_ALL, 2, odd, 3, 0, out, sizeof(out), &k,
                               &capped),
                 0);
    cr_assert_str_eq(out, "FIRST 2 (\"2b\", \"x-y\")");
}

Test(pg_repl, too_small_a_buffer_is_refused_not_cut)
{
    char out[10];
    int k, capped;
    cr_assert_eq(pg_sync_names(PG_ACK_ANY, 2, abc, 3, 0, out, sizeof(out), &k,
                               &capped),
                 -1);
    cr_assert_str_eq(out, "");
    cr_assert_eq(k, 0);
}

Test(pg_repl, repoint_takes_the_address_and_keeps_the_rest)
{
    char out[512], err[256];
    cr_assert_eq(pg_conninfo_repoint(
                     "host=127.0.0.1 port=5433 user=replicator "
                     "application_name=c passfile=/tmp/x/pgpass",
                     "host=127.0.0.1 port=5434 user=raftsim dbname=raftsim",
                     out, sizeof(out), err, sizeof(err)),
                 0, "%s", err);
    cr_assert_str_eq(out, "host='127.0.0.1' port='5434' user='replicator' "
                          "passfile='/tmp/x/pgpass' application_name='c'");
    /* a URI for the primary works too; quotes in values are escaped */
    cr_assert_eq(pg_conninfo_repoint("port=1 application_name='it\\'s'",
                                     "postgresql://u@db.example:6000/x", out,
                                     sizeof(out), err, sizeof(err)),
                 0, "%s", err);
    cr_assert_str_eq(out, "host='db.example' port='6000' "
                          "application_name='it\\'s'");
}

Test(pg_repl, repoint_refuses_bad_strings)
{
    char out[512], err[256];
    cr_assert_eq(pg_conninfo_repoint("host=x nonsense", "port=1", out,
                                     sizeof(out), err, sizeof(err)),
                 -1);
    cr_assert(strstr(err, "standby"), "%s", err);
    cr_assert_eq(pg_conninfo_repoint("host=x", "user=u", out, sizeof(out), err,
                                     sizeof(err)),
                 -1);
    cr_assert(strstr(err, "no host"), "%s", err);
    char small[16];
    cr_assert_eq(pg_conninfo_repoint("application_name=abcdefghijkl",
                                     "host=h port=1", small, sizeof(small),
                                     err, sizeof(err)),
                 -1);
    cr_assert_str_eq(small, "");
}
