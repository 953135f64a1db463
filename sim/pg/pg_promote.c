/*
 * pg_promote.c — promote a standby and return as soon as it is out of
 * recovery.  `SELECT pg_promote(true, N)` waits for the end of recovery
 * by checking it between sleeps of 100 ms (PostgreSQL 15,
 * src/backend/access/transam/xlogfuncs.c: WAITS_PER_SECOND 10), so it
 * returns up to 100 ms after the server takes writes (bench pg-failover
 * times it at 105-128 ms); here the signal is sent with pg_promote(false)
 * (PostgreSQL 15 docs §9.27.4, Recovery Control Functions: without wait
 * "the function returns immediately after sending the promotion signal to
 * the postmaster") and the same session asks pg_is_in_recovery() every
 * PROMOTE_POLL_US until it is false.  See pg.h.
 */
#include "sim/pg/pg.h"

#include <string.h>
#include <time.h>

#include "sim/pg/pg_int.h"
#include "sim/util/util.h"

#define PROMOTE_POLL_US 5000

/* One single-value query: its text in out (at most cap - 1 bytes); -1
 * with the server's message in err. */
static int one_value(PGconn *c, const struct pg_server *s, const char *sql,
                     char *out, size_t cap, char *err, size_t ecap)
{
    PGresult *r = PQexec(c, sql);
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
        PQnfields(r) == 1) {
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    } else {
        pg_error_line(err, ecap, s->name,
                      PQresultStatus(r) == PGRES_TUPLES_OK
                          ? "unexpected result"
                          : PQerrorMessage(c));
    }
    PQclear(r);
    return rc;
}

int pg_promote_now(const struct pg_server *s, double timeout_s, int *polls,
                   char *err, size_t cap)
{
    *polls = 0;
    PGconn *c = pg_connect_bounded(s, timeout_s, err, cap);
    if (!c)
        return -1;
    char v[16];
    int rc = one_value(c, s, "SELECT pg_promote(false)", v, sizeof(v), err,
                       cap);
    if (rc == 0 && strcmp(v, "t") != 0) {
        snprintf(err, cap, "server %s: pg_promote(false) returned %s", s->name,
                 v);
        rc = -1;
    }
    double end = util_wall_s() + timeout_s;
    while (rc == 0) {
        rc = one_value(c, s, "SELECT pg_is_in_recovery()", v, sizeof(v), err,
                       cap);
        ++*polls;
        if (rc != 0 || strcmp(v, "f") == 0)
            break;
        if (util_wall_s() > end) {
            snprintf(err, cap, "server %s: still in recovery %.0f s after "
                               "pg_promote",
                     s->name, timeout_s);
            rc = -1;
            break;
        }
        struct timespec ts = {0, PROMOTE_POLL_US * 1000L};
        nanosleep(&ts, NULL);
    }
    PQfinish(c);
    return rc;
}
