/*
 * bench_pg.c — `raftsim bench pg-failover`: how long a real PostgreSQL
 * pair takes to fail over once the decision is made.  Each trial crashes
 * the primary (an immediate stop through the control command), promotes
 * the standby with pg_promote, and times until an INSERT succeeds on it;
 * then it puts the pair back (CHECKPOINT, rejoin with pg_rewind) so the
 * next trial starts from a healthy pair, the roles swapped.
 *
 * Detection is not in these figures: in raftsim it is the election
 * (bench failover: crash → new leader), so a full failover costs both.
 */
#include "sim/bench/bench.h"

#include <stdlib.h>
#include <string.h>

#include "sim/pg/pg.h"
#include "sim/pg/pg_control.h"
#include "sim/util/util.h"

static int control(const char *tmpl, const char *action, const char *server,
                   double *ms)
{
    char cmd[1024];
    pgc_fill_template(tmpl, action, server, cmd, sizeof(cmd));
    int rc = pgc_run_bounded(cmd, 90.0, NULL, ms);
    if (rc != 0)
        fprintf(stderr, "bench pg-failover: `%s` failed (exit %d)\n", cmd, rc);
    return rc == 0 ? 0 : -1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void row(FILE *out, const char *what, double *v, int n)
{
    if (n == 0) {
        fprintf(out, "  %-28s no successful trial\n", what);
        return;
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    fprintf(out, "  %-28s %8.1f %8.1f %8.1f %8.1f\n", what, v[0],
            v[(n - 1) / 2], v[(int)((n - 1) * 0.9)], v[n - 1]);
}

int bench_pg_failover(FILE *out, const struct bench_pg_opts *o)
{
    struct pg_server s[2];
    int n = pg_default_servers(s, 2);
    if (n != 2)
        return 1;
    char def[4300];
    pgc_default_control(def, sizeof(def));
    const char *tmpl = o->control ? o->control : def;
    double *total = calloc((size_t)o->trials, sizeof(double));
    double *promote = calloc((size_t)o->trials, sizeof(double));
    double *rejoin = calloc((size_t)o->trials, sizeof(double));
    int ok = 0, rc = 0;
    if (!total || !promote || !rejoin) {
        rc = 1;
        goto out;
    }
    /* "host=127.0.0.1 port=5433" of each lab connection string */
    const char *ua = strstr(s[0].conninfo, " user="),
               *ub = strstr(s[1].conninfo, " user=");
    fprintf(out, "bench pg-failover: servers a (%.*s) and b (%.*s), %d trials\n",
            ua ? (int)(ua - s[0].conninfo) : (int)strlen(s[0].conninfo),
            s[0].conninfo,
            ub ? (int)(ub - s[1].conninfo) : (int)strlen(s[1].conninfo),
            s[1].conninfo, o->trials);
    /* Ctrl-C: a trial that began is finished, so that the pair is put
     * back (the rejoin) before the benchmark stops. */
    for (int t = 0; t < o->trials && !util_stop_signal; t++) {
        struct pg_obs obs[2];
        pg_observe(&s[0], 2.0, &obs[0]);
        pg_observe(&s[1], 2.0, &obs[1]);
        int p = pg_writable(&obs[0]) ? 0 : pg_writable(&obs[1]) ? 1 : -1;
        int sb = 1 - p;
        if (p < 0 || !obs[sb].up || !obs[sb].in_recovery) {
            fprintf(stderr,
                    "bench pg-failover: trial %d: the pair is not a primary "
                    "and a standby (%s; %s); run tools/pg-pair up\n",
                    t + 1, obs[0].up ? "a up" : obs[0].error,
                    obs[1].up ? "b up" : obs[1].error);
            rc = 1;
            break;
        }
        char err[512];
        if (pg_mirror_table(&s[p], 2.0, err, sizeof(err)) != 0) {
            fprintf(stderr, "bench pg-failover: %s\n", err);
            rc = 1;
            break;
        }
        double ms, t0 = util_wall_s();
        if (control(tmpl, "crash", s[p].name, &ms) != 0) {
            rc = 1;
            break;
        }
        double p0 = util_wall_s();
        if (pg_exec(&s[sb], 35.0, "SELECT pg_promote(true, 30)", err,
                    sizeof(err)) != 0) {
            fprintf(stderr, "bench pg-failover: promote %s: %s\n", s[sb].name,
                    err);
            rc = 1;
            break;
        }
        promote[ok] = (util_wall_s() - p0) * 1e3;
        /* the first write the new primary accepts (bounded: 30 s) */
        bool wrote = false;
        while (!wrote && util_wall_s() - t0 < 30.0) {
            uint64_t pl;
            bool waited;
            char key[32];
            snprintf(key, sizeof(key), "bench%d", t);
            wrote = pg_insert_row(&s[sb], 2.0, false, (uint64_t)t + 1,
                                  1000000 + (uint64_t)t, key, "v", "bench",
                                  &pl, &waited, err, sizeof(err)) == 0;
        }
        if (!wrote) {
            fprintf(stderr, "bench pg-failover: no write on %s within 30 s: "
                            "%s\n",
                    s[sb].name, err);
            rc = 1;
            break;
        }
        total[ok] = (util_wall_s() - t0) * 1e3;
        /* put the pair back: the old primary rejoins as a standby */
        if (pg_exec(&s[sb], 30.0, "CHECKPOINT", err, sizeof(err)) != 0 ||
            control(tmpl, "rejoin", s[p].name, &ms) != 0) {
            fprintf(stderr, "bench pg-failover: rejoin %s failed %s\n",
                    s[p].name, err);
            rc = 1;
            break;
        }
        rejoin[ok] = ms;
        fprintf(out, "  trial %2d: %s -> %s  crash->write %.1f ms (promote "
                     "%.1f ms), rejoin %.0f ms\n",
                t + 1, s[p].name, s[sb].name, total[ok], promote[ok],
                rejoin[ok]);
        ok++;
    }
    fprintf(out, "  %-28s %8s %8s %8s %8s   (ms, %d trials)\n", "", "min",
            "p50", "p90", "max", ok);
    row(out, "crash -> write on new primary", total, ok);
    row(out, "pg_promote", promote, ok);
    row(out, "rejoin (pg_rewind, restart)", rejoin, ok);
    fprintf(out, "  for scale: detection is extra (raftsim: bench failover); "
                 "Patroni's defaults are\n  ttl 30 s and loop_wait 10 s, "
                 "pg_auto_failover's detection alone takes 20 s\n");
out:
    free(total);
    free(promote);
    free(rejoin);
    for (int k = 0; k < n; k++)
        pg_server_free(&s[k]);
    return rc;
}
