/*
 * pg.c — observing real PostgreSQL servers with libpq, and judging the
 * pair's health.  See pg.h.
 */
#include "sim/pg/pg.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/pg/pg_control.h"
#include "sim/util/util.h"

/* A server's message, first line only, escaped: it is printed on
 * terminals and the server is not ours to trust. */
static const char *first_line(const char *m, char *out, size_t cap)
{
    char line[512];
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(m, "\n"), m);
    return util_escape_ctrl(line, out, cap);
}

int pg_server_parse(const char *spec, struct pg_server *s, char *err,
                    size_t cap)
{
    memset(s, 0, sizeof(*s));
    const char *eq = strchr(spec, '=');
    size_t nl = eq ? (size_t)(eq - spec) : 0;
    if (!eq || nl == 0 || nl > PG_NAME_MAX || !eq[1]) {
        char shown[128];
        snprintf(err, cap,
                 "expected NAME=CONNINFO (e.g. a=postgresql://raftsim@127.0.0.1:"
                 "5433/raftsim), got '%.60s'",
                 util_escape_ctrl(spec, shown, sizeof(shown)));
        return -1;
    }
    for (size_t k = 0; k < nl; k++)
        if (!(spec[k] >= 'a' && spec[k] <= 'z') &&
            !(spec[k] >= '0' && spec[k] <= '9')) {
            snprintf(err, cap, "server name '%.*s': use lower-case letters "
                               "and digits",
                     (int)nl, spec);
            return -1;
        }
    /* let libpq judge the connection string before anything runs */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(eq + 1, &perr);
    if (!opts) {
        char why[1024];
        snprintf(err, cap, "server %.*s: bad connection string: %s", (int)nl,
                 spec, first_line(perr ? perr : "out of memory", why,
                                  sizeof(why)));
        PQfreemem(perr);
        return -1;
    }
    PQconninfoFree(opts);
    memcpy(s->name, spec, nl);
    s->conninfo = strdup(eq + 1);
    if (!s->conninfo) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    return 0;
}

void pg_server_free(struct pg_server *s)
{
    free(s->conninfo);
    s->conninfo = NULL;
}

/* libpq key=value quoting: 'x', with \ and ' escaped */
static void kv_quote(const char *v, char *out, size_t cap)
{
    size_t k = 0;
    if (cap < 3) {
        if (cap)
            *out = 0;
        return;
    }
    out[k++] = '\'';
    for (; *v && k + 3 < cap; v++) {
        if (*v == '\'' || *v == '\\')
            out[k++] = '\\';
        out[k++] = *v;
    }
    out[k++] = '\'';
    out[k] = 0;
}

static int add_lab(struct pg_server *s, int n, int cap, const char *name,
                   const char *host, long port, const char *passfile)
{
    if (n >= cap)
        return n;
    char spec[1400], pf[1100] = "", q[1080], err[256];
    if (passfile) {
        kv_quote(passfile, q, sizeof(q));
        snprintf(pf, sizeof(pf), " passfile=%s", q);
    }
    snprintf(spec, sizeof(spec),
             "%s=host=%s port=%ld user=raftsim dbname=raftsim%s", name, host,
             port, pf);
    return pg_server_parse(spec, &s[n], err, sizeof(err)) == 0 ? n + 1 : n;
}

int pg_default_servers(struct pg_server *s, int cap)
{
    const char *host = getenv("RAFTSIM_PG_HOST");
    if (!host || !*host)
        host = "127.0.0.1";
    char dir[4096], path[4200], passfile[4200];
    pgc_default_dir(dir, sizeof(dir));
    snprintf(passfile, sizeof(passfile), "%s/pgpass", dir);
    const char *pf = access(passfile, R_OK) == 0 ? passfile : NULL;
    int n = 0;
    /* the pair's own description: "NAME PORT DELAY_MS" per line */
    snprintf(path, sizeof(path), "%s/servers", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[256], name[PG_NAME_MAX + 1];
        long port;
        while (n < cap && fgets(line, sizeof(line), f))
            if (sscanf(line, "%15s %ld", name, &port) == 2 && port > 0 &&
                port < 65536)
                n = add_lab(s, n, cap, name, host, port, pf);
        fclose(f);
        if (n > 0)
            return n;
    }
    long base = 5433;
    const char *b = getenv("RAFTSIM_PG_PORT_BASE");
    if (b && *b) {
        char *end;
        long v = strtol(b, &end, 10);
        if (!*end && v > 0 && v < 65535)
            base = v;
    }
    n = add_lab(s, n, cap, "a", host, base, pf);
    n = add_lab(s, n, cap, "b", host, base + 1, pf);
    return n;
}

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Connect with bounded time; NULL with err filled. */
static PGconn *connect_bounded(const struct pg_server *s, double timeout_s,
                               char *err, size_t cap)
{
    char ct[16], opt[64];
    int t = (int)ceil(timeout_s);
    snprintf(ct, sizeof(ct), "%d", t < 2 ? 2 : t); /* libpq's minimum */
    snprintf(opt, sizeof(opt), "-c statement_timeout=%d",
             (int)(timeout_s * 1000));
    const char *keys[] = {"dbname", "connect_timeout", "options",
                          "application_name", NULL};
    const char *vals[] = {s->conninfo, ct, opt, "raftsim", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        snprintf(err, cap, "server %s: out of memory", s->name);
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        char why[1024];
        snprintf(err, cap, "server %s: cannot connect: %s", s->name,
                 first_line(PQerrorMessage(c), why, sizeof(why)));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notices, NULL);
    return c;
}

static void one_line(char *err, size_t cap, const char *who, const char *m)
{
    char safe[1024];
    snprintf(err, cap, "server %s: %s", who,
             first_line(m, safe, sizeof(safe)));
}

bool pg_parse_lsn(const char *text, uint64_t *out)
{
    if (!text || !*text)
        return false;
    char *end;
    unsigned long long hi = strtoull(text, &end, 16);
    if (end == text || *end != '/' || hi > 0xffffffffull)
        return false;
    const char *lo_s = end + 1;
    unsigned long long lo = strtoull(lo_s, &end, 16);
    if (end == lo_s || *end || lo > 0xffffffffull)
        return false;
    *out = (uint64_t)hi << 32 | lo;
    return true;
}

void pg_format_lsn(uint64_t lsn, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRIX64 "/%" PRIX64, lsn >> 32, lsn & 0xffffffffu);
}

/* One round trip: everything `status` and `health` show.  On a standby,
 * functions that only a primary answers are guarded by CASE. */
static const char OBSERVE_SQL[] =
    "SELECT pg_is_in_recovery(),"
    " current_setting('default_transaction_read_only') = 'on',"
    " CASE WHEN pg_is_in_recovery() THEN"
    "   COALESCE((SELECT received_tli FROM pg_stat_wal_receiver),"
    "            (SELECT timeline_id FROM pg_control_checkpoint()))"
    " ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))"
    "        ::bit(32)::int END,"
    " CASE WHEN pg_is_in_recovery() THEN NULL"
    "      ELSE pg_current_wal_lsn()::text END,"
    " pg_last_wal_receive_lsn()::text,"
    " pg_last_wal_replay_lsn()::text,"
    " (SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'),"
    " (SELECT count(*) FROM pg_stat_replication),"
    " CASE WHEN pg_is_in_recovery() THEN 0 ELSE"
    "   (SELECT COALESCE(max(pg_wal_lsn_diff(pg_current_wal_lsn(),"
    "                                        replay_lsn)), 0)::bigint"
    "      FROM pg_stat_replication) END,"
    " (SELECT COALESCE(max(EXTRACT(EPOCH FROM replay_lag)), 0)::float8"
    "    FROM pg_stat_replication),"
    " CASE WHEN pg_is_in_recovery() THEN '' ELSE"
    "   (SELECT COALESCE(string_agg(concat_ws(' ', application_name, state,"
    "        sync_state, COALESCE(replay_lsn::text, '-'),"
    "        COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)"
    "                 ::bigint, 0),"
    "        COALESCE(EXTRACT(EPOCH FROM replay_lag)::float8, 0)),"
    "      E'\\n' ORDER BY application_name), '')"
    "    FROM pg_stat_replication) END";

/* "name state sync_state replay_lsn lag_bytes lag_s" lines */
static void parse_standbys(const char *text, struct pg_obs *o)
{
    while (*text && o->n_sb < PG_MAX_SERVERS) {
        size_t len = strcspn(text, "\n");
        char line[256], lsn[32];
        snprintf(line, sizeof(line), "%.*s", (int)len, text);
        struct pg_standby *b = &o->sb[o->n_sb];
        memset(b, 0, sizeof(*b));
        unsigned long long bytes = 0;
        if (sscanf(line, "%15s %15s %11s %31s %llu %lf", b->name, b->state,
                   b->sync_state, lsn, &bytes, &b->lag_s) == 6) {
            pg_parse_lsn(lsn, &b->replay_lsn);
            b->lag_bytes = bytes;
            o->n_sb++;
        }
        text += len;
        if (*text)
            text++;
    }
}

const struct pg_standby *pg_standby_of(const struct pg_obs *primary,
                                       const char *name)
{
    for (int i = 0; i < primary->n_sb; i++)
        if (!strcmp(primary->sb[i].name, name))
            return &primary->sb[i];
    return NULL;
}

void pg_observe(const struct pg_server *s, double timeout_s, struct pg_obs *o)
{
    memset(o, 0, sizeof(*o));
    double t0 = util_wall_s();
    PGconn *c = connect_bounded(s, timeout_s, o->error, sizeof(o->error));
    if (!c) {
        o->took_ms = (util_wall_s() - t0) * 1e3;
        return;
    }
    PGresult *r = PQexec(c, OBSERVE_SQL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
        PQnfields(r) != 11) {
        one_line(o->error, sizeof(o->error), s->name,
                 PQresultStatus(r) == PGRES_TUPLES_OK ? "unexpected result"
                                                      : PQerrorMessage(c));
    } else {
        o->up = true;
        o->in_recovery = !strcmp(PQgetvalue(r, 0, 0), "t");
        o->read_only = !strcmp(PQgetvalue(r, 0, 1), "t");
        o->timeline = (uint32_t)strtoul(PQgetvalue(r, 0, 2), NULL, 10);
        pg_parse_lsn(PQgetvalue(r, 0, 3), &o->current_lsn);
        pg_parse_lsn(PQgetvalue(r, 0, 4), &o->receive_lsn);
        pg_parse_lsn(PQgetvalue(r, 0, 5), &o->replay_lsn);
        o->streaming = strtol(PQgetvalue(r, 0, 6), NULL, 10) > 0;
        o->n_standbys = (int)strtol(PQgetvalue(r, 0, 7), NULL, 10);
        o->lag_bytes = strtoull(PQgetvalue(r, 0, 8), NULL, 10);
        o->lag_s = strtod(PQgetvalue(r, 0, 9), NULL);
        parse_standbys(PQgetvalue(r, 0, 10), o);
    }
    PQclear(r);
    PQfinish(c);
    o->took_ms = (util_wall_s() - t0) * 1e3;
}

enum pg_fail pg_obs_failure(const struct pg_obs *o)
{
    if (o->up)
        return PG_FAIL_NONE;
    if (strstr(o->error, "Connection refused"))
        return PG_FAIL_REFUSED;
    if (strstr(o->error, "shutting down") ||
        strstr(o->error, "closed the connection"))
        return PG_FAIL_GONE;
    return PG_FAIL_OTHER;
}

int pg_exec(const struct pg_server *s, double timeout_s, const char *sql,
            char *err, size_t cap)
{
    PGconn *c = connect_bounded(s, timeout_s, err, cap);
    if (!c)
        return -1;
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc)
        one_line(err, cap, s->name, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

int pg_mirror_table(const struct pg_server *s, double timeout_s, char *err,
                    size_t cap)
{
    return pg_exec(s, timeout_s,
                   "CREATE TABLE IF NOT EXISTS raftsim_kv ("
                   " lsn bigint NOT NULL, term bigint NOT NULL,"
                   " key text NOT NULL, value text NOT NULL, node text,"
                   " pg_lsn pg_lsn, at timestamptz DEFAULT now(),"
                   " PRIMARY KEY (lsn, term))",
                   err, cap);
}

int pg_insert_row(const struct pg_server *s, double timeout_s, bool sync,
                  uint64_t lsn, uint64_t term, const char *key,
                  const char *value, const char *node, uint64_t *pg_lsn,
                  bool *waited, char *err, size_t cap)
{
    *pg_lsn = 0;
    *waited = false;
    PGconn *c = connect_bounded(s, timeout_s, err, cap);
    if (!c)
        return -1;
    int rc = -1;
    PGresult *r = PQexec(c, sync ? "SET synchronous_commit = on"
                                 : "SET synchronous_commit = local");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        one_line(err, cap, s->name, PQerrorMessage(c));
        goto out;
    }
    PQclear(r);
    char ls[24], ts[24];
    snprintf(ls, sizeof(ls), "%" PRIu64, lsn);
    snprintf(ts, sizeof(ts), "%" PRIu64, term);
    const char *params[] = {ls, ts, key, value, node};
    r = NULL;
    /* statement_timeout does not cover the commit's wait for a synchronous
     * standby, so send without blocking, wait up to the deadline, and
     * cancel: a cancelled wait leaves the row committed locally (the
     * server says so with a WARNING) and the INSERT returns normally. */
    if (!PQsendQueryParams(c,
                           "INSERT INTO raftsim_kv (lsn, term, key, value, "
                           "node, pg_lsn) VALUES ($1, $2, $3, $4, $5, "
                           "pg_current_wal_lsn()) RETURNING "
                           "pg_current_wal_lsn()::text",
                           5, NULL, params, NULL, NULL, 0)) {
        one_line(err, cap, s->name, PQerrorMessage(c));
        goto out;
    }
    double deadline = util_wall_s() + timeout_s;
    bool cancelled = false;
    for (;;) {
        if (!PQconsumeInput(c)) {
            one_line(err, cap, s->name, PQerrorMessage(c));
            goto out;
        }
        if (!PQisBusy(c))
            break;
        double now = util_wall_s();
        if (now >= deadline) {
            if (cancelled) { /* the cancel itself got no answer */
                snprintf(err, cap, "server %s: no answer %.1f s after a "
                                   "cancel",
                         s->name, timeout_s);
                goto out;
            }
            PGcancel *pc = PQgetCancel(c);
            char cerr[256];
            if (pc) {
                PQcancel(pc, cerr, sizeof(cerr));
                PQfreeCancel(pc);
            }
            cancelled = true;
            *waited = true;
            deadline = now + timeout_s;
            continue;
        }
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        int ms = (int)((deadline - now) * 1000) + 1;
        poll(&pfd, 1, ms > 100 ? 100 : ms);
    }
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        one_line(err, cap, s->name, PQerrorMessage(c));
        goto out;
    }
    pg_parse_lsn(PQgetvalue(r, 0, 0), pg_lsn);
    rc = 0;
    PGresult *rest;
    while ((rest = PQgetResult(c)))
        PQclear(rest);
    /* the WAL position once the row's commit record is written */
    PQclear(r);
    r = PQexec(c, "SELECT pg_current_wal_lsn()::text");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        pg_parse_lsn(PQgetvalue(r, 0, 0), pg_lsn);
out:
    PQclear(r);
    PQfinish(c);
    return rc;
}

int pg_rows(const struct pg_server *s, double timeout_s, struct pg_row **rows,
            int *n, char *err, size_t cap)
{
    *rows = NULL;
    *n = 0;
    PGconn *c = connect_bounded(s, timeout_s, err, cap);
    if (!c)
        return -1;
    int rc = -1;
    PGresult *r = PQexec(c, "SELECT lsn, term, key FROM raftsim_kv ORDER BY "
                            "lsn, term");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        one_line(err, cap, s->name, PQerrorMessage(c));
        goto out;
    }
    int k = PQntuples(r);
    *rows = calloc((size_t)(k ? k : 1), sizeof(**rows));
    if (!*rows) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    for (int i = 0; i < k; i++) {
        (*rows)[i].lsn = strtoull(PQgetvalue(r, i, 0), NULL, 10);
        (*rows)[i].term = strtoull(PQgetvalue(r, i, 1), NULL, 10);
        snprintf((*rows)[i].key, sizeof((*rows)[i].key), "%s",
                 PQgetvalue(r, i, 2));
    }
    *n = k;
    rc = 0;
out:
    PQclear(r);
    PQfinish(c);
    return rc;
}

int pg_value(const struct pg_server *s, double timeout_s, const char *sql,
             char *out, size_t out_cap, char *err, size_t cap)
{
    PGconn *c = connect_bounded(s, timeout_s, err, cap);
    if (!c)
        return -1;
    int rc = -1;
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1 ||
        PQnfields(r) < 1)
        one_line(err, cap, s->name,
                 PQresultStatus(r) == PGRES_TUPLES_OK ? "no value"
                                                      : PQerrorMessage(c));
    else {
        snprintf(out, out_cap, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    PQfinish(c);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Health                                                              */

void pg_health_judge(const struct pg_obs *obs, int n, double lag_alert_s,
                     struct pg_health *h)
{
    memset(h, 0, sizeof(*h));
    h->primary = -1;
    for (int i = 0; i < n; i++) {
        if (pg_writable(&obs[i])) {
            h->writable++;
            if (h->primary < 0)
                h->primary = i;
        }
        if (obs[i].up && obs[i].in_recovery && obs[i].streaming)
            h->replica_ok = true;
    }
    if (h->writable == 1) {
        h->http_status = 200;
        h->mode = "read-write";
        h->lag_s = obs[h->primary].lag_s;
        h->lag_bytes = obs[h->primary].lag_bytes;
        h->replica_ok = h->replica_ok && obs[h->primary].n_standbys > 0;
    } else {
        h->http_status = 503;
        h->mode = h->writable == 0 ? "read-only" : "split-brain";
    }
    h->lag_alert = lag_alert_s > 0 && h->lag_s > lag_alert_s;
}

static size_t json_str(char *buf, size_t cap, size_t len, const char *s)
{
    if (len < cap)
        buf[len] = '"';
    len++;
    for (; *s; s++) {
        char esc[8];
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            snprintf(esc, sizeof(esc), "\\%c", ch);
        else if (ch < 0x20)
            snprintf(esc, sizeof(esc), "\\u%04x", ch);
        else
            esc[0] = (char)ch, esc[1] = 0;
        for (char *e = esc; *e; e++, len++)
            if (len < cap)
                buf[len] = *e;
    }
    if (len < cap)
        buf[len] = '"';
    len++;
    if (cap)
        buf[len < cap ? len : cap - 1] = 0;
    return len;
}

#define APPEND(...)                                                        \
    do {                                                                   \
        int w_ = snprintf(buf + (len < cap ? len : cap),                   \
                          len < cap ? cap - len : 0, __VA_ARGS__);         \
        if (w_ > 0)                                                        \
            len += (size_t)w_;                                             \
    } while (0)

int pg_health_json(const struct pg_health *h, const struct pg_server *s,
                   const struct pg_obs *obs, int n, char *buf, size_t cap)
{
    size_t len = 0;
    const char *replica = "down";
    for (int i = 0; i < n; i++)
        if (obs[i].up && obs[i].in_recovery)
            replica = obs[i].streaming ? "ok" : "not-streaming";
    APPEND("{\"primary\":\"%s\",\"replica\":\"%s\",\"lag_seconds\":%.3f,"
           "\"lag_bytes\":%" PRIu64 ",\"mode\":\"%s\",\"lag_alert\":%s",
           h->writable == 1 ? "ok" : h->writable == 0 ? "none" : "several",
           replica, h->lag_s, h->lag_bytes, h->mode,
           h->lag_alert ? "true" : "false");
    APPEND(",\"servers\":[");
    for (int i = 0; i < n; i++) {
        char cur[24] = "", rep[24] = "";
        pg_format_lsn(obs[i].current_lsn, cur, sizeof(cur));
        pg_format_lsn(obs[i].replay_lsn, rep, sizeof(rep));
        APPEND("%s{\"name\":", i ? "," : "");
        len = json_str(buf, cap, len, s[i].name);
        if (!obs[i].up) {
            APPEND(",\"up\":false,\"error\":");
            len = json_str(buf, cap, len, obs[i].error);
            APPEND("}");
            continue;
        }
        APPEND(",\"up\":true,\"role\":\"%s\",\"writable\":%s,\"timeline\":%u,"
               "\"lsn\":\"%s\"}",
               obs[i].in_recovery ? "standby" : "primary",
               pg_writable(&obs[i]) ? "true" : "false", obs[i].timeline,
               obs[i].in_recovery ? rep : cur);
    }
    APPEND("]}");
    return len < cap ? (int)len : -1;
}

void pg_status_print(FILE *out, const struct pg_server *s,
                     const struct pg_obs *obs, int n)
{
    fprintf(out, "%-6s %-9s %-9s %4s  %-12s %-12s %-12s %10s %8s\n", "server",
            "state", "role", "tli", "current", "received", "replayed",
            "lag bytes", "lag s");
    for (int i = 0; i < n; i++) {
        const struct pg_obs *o = &obs[i];
        if (!o->up) {
            fprintf(out, "%-6s %-9s %s\n", s[i].name, "down", o->error);
            continue;
        }
        char cur[24] = "-", rcv[24] = "-", rep[24] = "-";
        if (o->current_lsn)
            pg_format_lsn(o->current_lsn, cur, sizeof(cur));
        if (o->receive_lsn)
            pg_format_lsn(o->receive_lsn, rcv, sizeof(rcv));
        if (o->replay_lsn)
            pg_format_lsn(o->replay_lsn, rep, sizeof(rep));
        const char *role = o->in_recovery ? (o->streaming ? "standby"
                                                          : "standby*")
                           : o->read_only ? "fenced"
                                          : "primary";
        /* a standby's lag as its primary sees it (pg_stat_replication,
         * matched by application_name) */
        const struct pg_standby *b = NULL;
        for (int j = 0; j < n && o->in_recovery && !b; j++)
            if (obs[j].up && !obs[j].in_recovery)
                b = pg_standby_of(&obs[j], s[i].name);
        if (o->in_recovery && b)
            fprintf(out,
                    "%-6s %-9s %-9s %4u  %-12s %-12s %-12s %10" PRIu64
                    " %8.3f\n",
                    s[i].name, "up", role, o->timeline, "-", rcv, rep,
                    b->lag_bytes, b->lag_s);
        else if (o->in_recovery)
            fprintf(out, "%-6s %-9s %-9s %4u  %-12s %-12s %-12s %10s %8s\n",
                    s[i].name, "up", role, o->timeline, "-", rcv, rep, "-",
                    "-");
        else
            fprintf(out,
                    "%-6s %-9s %-9s %4u  %-12s %-12s %-12s %10" PRIu64
                    " %8.3f\n",
                    s[i].name, "up", role, o->timeline, cur, "-", "-",
                    o->lag_bytes, o->lag_s);
    }
    int writers = 0;
    for (int i = 0; i < n; i++)
        writers += pg_writable(&obs[i]);
    if (writers > 1)
        fprintf(out, "VIOLATION: %d servers accept writes (split brain)\n",
                writers);
    for (int i = 0; i < n; i++)
        if (obs[i].up && obs[i].in_recovery && !obs[i].streaming)
            fprintf(out, "(%s: standby* = in recovery but not streaming)\n",
                    s[i].name);
}

/* For the other files of sim/pg (pg_int.h). */
PGconn *pg_connect_bounded(const struct pg_server *s, double timeout_s,
                           char *err, size_t cap)
{
    return connect_bounded(s, timeout_s, err, cap);
}

void pg_error_line(char *err, size_t cap, const char *who, const char *m)
{
    one_line(err, cap, who, m);
}
