/*
 * pg_read.c — a client's read on a real server, and the read routes'
 * choice among standbys.  See pg_read.h.
 */
#include "sim/pg/pg_read.h"

#include <stdlib.h>
#include <string.h>

#include "sim/pg/pg_int.h"
#include "sim/util/util.h"

/* One statement, one snapshot: the role, the WAL position the answer
 * stands at, and the key's newest row (LEFT JOIN: a row of NULLs when
 * the key is absent). */
#define READ_SQL                                                            \
    "SELECT pg_is_in_recovery(), "                                          \
    " (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "        \
    "  ELSE pg_current_wal_lsn() END)::text, "                              \
    " k.value, k.lsn, k.term, "                                             \
    " (SELECT count(*) FROM pg_stat_wal_receiver "                          \
    "  WHERE status = 'streaming') > 0 "                                    \
    "FROM (SELECT 1) AS one LEFT JOIN LATERAL "                             \
    " (SELECT value, lsn, term FROM raftsim_kv WHERE key = $1 "             \
    "  ORDER BY lsn DESC, term DESC LIMIT 1) AS k ON true"

int pg_read_key(const struct pg_server *s, double timeout_s, const char *key,
                struct pg_answer *a, char *err, size_t cap)
{
    memset(a, 0, sizeof(*a));
    double t0 = util_wall_s();
    PGconn *c = pg_connect_bounded(s, timeout_s, err, cap);
    if (!c)
        return -1;
    const char *params[] = {key};
    PGresult *r = PQexecParams(c, READ_SQL, 1, NULL, params, NULL, NULL, 0);
    int rc = -1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
        PQnfields(r) != 6) {
        pg_error_line(err, cap, s->name,
                      PQresultStatus(r) == PGRES_TUPLES_OK
                          ? "unexpected result"
                          : PQerrorMessage(c));
        goto out;
    }
    a->in_recovery = !strcmp(PQgetvalue(r, 0, 0), "t");
    if (!PQgetisnull(r, 0, 1))
        pg_parse_lsn(PQgetvalue(r, 0, 1), &a->wal_lsn);
    a->found = !PQgetisnull(r, 0, 2);
    if (a->found) {
        snprintf(a->value, sizeof(a->value), "%s", PQgetvalue(r, 0, 2));
        a->lsn = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
        a->term = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
    }
    a->streaming = !strcmp(PQgetvalue(r, 0, 5), "t");
    rc = 0;
out:
    a->took_ms = (util_wall_s() - t0) * 1e3;
    PQclear(r);
    PQfinish(c);
    return rc;
}

static int choose(const bool *cand, int n, int (*pick)(void *, int),
                  void *ctx)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += cand[i];
    if (!k)
        return -1;
    int j = k == 1 ? 1 : pick(ctx, k);
    if (j < 1 || j > k)
        j = 1;
    for (int i = 0; i < n; i++)
        if (cand[i] && --j == 0)
            return i;
    return -1;
}

int pg_route_ryw(const bool *ok, const uint64_t *replay, int n,
                 uint64_t token, int (*pick)(void *, int), void *ctx)
{
    bool cand[PG_MAX_SERVERS] = {false};
    for (int i = 0; i < n && i < PG_MAX_SERVERS; i++)
        cand[i] = ok[i] && replay[i] >= token;
    return choose(cand, n < PG_MAX_SERVERS ? n : PG_MAX_SERVERS, pick, ctx);
}

int pg_route_monotonic(const bool *ok, const uint64_t *replay, int n,
                       int sticky, uint64_t floor, int (*pick)(void *, int),
                       void *ctx)
{
    if (sticky >= 0 && sticky < n && sticky < PG_MAX_SERVERS && ok[sticky] &&
        replay[sticky] >= floor)
        return sticky;
    return pg_route_ryw(ok, replay, n, floor, pick, ctx);
}
