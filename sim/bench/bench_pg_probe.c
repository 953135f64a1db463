/*
 * bench_pg_probe.c — the probe, the pair's state and the table that
 * bench_pg_detect.c and bench_pg_switch.c share.  See bench_pg_probe.h.
 */
#include "sim/bench/bench_pg_probe.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/cluster/cluster.h"
#include "sim/util/util.h"

void bench_sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

int bench_probe_table(const struct pg_server *p, char *err, size_t cap)
{
    return pg_exec(p, 10.0,
                   "CREATE TABLE IF NOT EXISTS raftsim_probe (id bigserial "
                   "PRIMARY KEY, trial int NOT NULL, server text NOT NULL, "
                   "at timestamptz NOT NULL DEFAULT clock_timestamp())",
                   err, cap) == 0
               ? 0
               : -1;
}

static void *probe_main(void *arg)
{
    struct bench_probe *P = arg;
    char sql[256], err[256];
    for (uint64_t round = 0; round < 10000000; round++) {
        double r0 = util_wall_s();
        pthread_mutex_lock(&P->mu);
        bool quit = P->quit || r0 > P->deadline || util_stop_signal;
        bool act = !quit && P->act && P->act_due && r0 >= P->act_at;
        if (act)
            P->act_due = false;
        int trial = P->trial;
        pthread_mutex_unlock(&P->mu);
        if (quit)
            break;
        if (act) {
            P->act(P, P->act_arg);
            continue; /* a new round at once, after the act */
        }
        int ok = 0;
        char names[64] = "";
        for (int i = 0; i < P->n; i++) {
            snprintf(sql, sizeof(sql),
                     "SET synchronous_commit = local; INSERT INTO "
                     "raftsim_probe (trial, server) VALUES (%d, '%s')",
                     trial, P->s[i].name);
            double a0 = util_wall_s();
            int rc = pg_exec(&P->s[i], BENCH_PROBE_TIMEOUT_S, sql, err,
                             sizeof(err));
            double a1 = util_wall_s();
            pthread_mutex_lock(&P->mu);
            P->attempts++;
            if (rc == 0) {
                P->writes++;
                ok++;
                size_t l = strlen(names);
                snprintf(names + l, sizeof(names) - l, "%s%s", l ? "+" : "",
                         P->s[i].name);
                if (P->armed && P->first_write == 0 && a0 >= P->t0 &&
                    (P->want < 0 || P->want == i)) {
                    P->first_write = a1;
                    P->first_server = i;
                }
            }
            pthread_mutex_unlock(&P->mu);
        }
        pthread_mutex_lock(&P->mu);
        P->rounds++;
        if (ok >= 2 && P->double_rounds++ == 0)
            snprintf(P->double_first, sizeof(P->double_first),
                     "round %llu (trial %d): %s both committed a row",
                     (unsigned long long)P->rounds, trial, names);
        pthread_mutex_unlock(&P->mu);
        bench_sleep_s(r0 + BENCH_PROBE_EVERY_S - util_wall_s());
    }
    return NULL;
}

int bench_probe_start(struct bench_probe *P, pthread_t *th)
{
    pthread_mutex_init(&P->mu, NULL);
    return pthread_create(th, NULL, probe_main, P) == 0 ? 0 : -1;
}

void bench_probe_stop(struct bench_probe *P, pthread_t th)
{
    pthread_mutex_lock(&P->mu);
    P->quit = true;
    pthread_mutex_unlock(&P->mu);
    pthread_join(th, NULL);
}

int bench_pg_pair_ready(const struct pg_server *s, char *why, size_t cap)
{
    struct pg_obs o[2];
    pg_observe(&s[0], 2.0, &o[0]);
    pg_observe(&s[1], 2.0, &o[1]);
    int p = pg_writable(&o[0]) ? 0 : pg_writable(&o[1]) ? 1 : -1;
    if (p < 0) {
        snprintf(why, cap, "no primary (%s: %s; %s: %s)", s[0].name,
                 o[0].up ? "standby" : o[0].error, s[1].name,
                 o[1].up ? "standby" : o[1].error);
        return -1;
    }
    int sb = 1 - p;
    if (!o[sb].up || !o[sb].in_recovery || !o[sb].streaming) {
        snprintf(why, cap, "%s is %s", s[sb].name,
                 !o[sb].up            ? o[sb].error
                 : !o[sb].in_recovery ? "a second primary"
                                      : "a standby that does not stream");
        return -1;
    }
    return p;
}

void bench_text_open(struct bench_text *b)
{
    memset(b, 0, sizeof(*b));
    b->f = open_memstream(&b->t, &b->len);
}

void bench_text_line(struct bench_text *b, const char *fmt, ...)
{
    if (!b->f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(b->f, fmt, ap);
    va_end(ap);
    fputc('\n', b->f);
    b->line++;
}

char *bench_text_take(struct bench_text *b)
{
    char *t = NULL;
    if (b->f) {
        bool bad = ferror(b->f) != 0;
        if (fclose(b->f) == 0 && !bad)
            t = b->t;
        else
            free(b->t);
    }
    memset(b, 0, sizeof(*b));
    return t;
}

int bench_pg_prepare(const char *what, const struct pg_server *s, int n)
{
    char why[600];
    if (n != 2) {
        fprintf(stderr, "%s: wants the pair of two servers (a and b), found "
                        "%d: tools/pg-pair up\n",
                what, n);
        return -1;
    }
    int p0 = bench_pg_pair_ready(s, why, sizeof(why));
    if (p0 < 0) {
        fprintf(stderr, "%s: the pair is not a primary and a streaming "
                        "standby: %s; run tools/pg-pair up\n",
                what, why);
        return -1;
    }
    if (bench_probe_table(&s[p0], why, sizeof(why)) != 0) {
        fprintf(stderr, "%s: %s\n", what, why);
        return -1;
    }
    return p0;
}

int bench_pg_where_len(const struct pg_server *s)
{
    const char *u = strstr(s->conninfo, " user=");
    return u ? (int)(u - s->conninfo) : (int)strlen(s->conninfo);
}

int bench_pg_settle(struct scn_runner *r, const struct pg_server *s,
                    char *why, size_t cap)
{
    struct sim_cluster *c = scn_runner_cluster(r);
    double end = util_wall_s() + 60.0;
    for (int k = 0; k < 600; k++) {
        sim_hold_clock(c, true);
        int p = bench_pg_pair_ready(s, why, cap);
        sim_hold_clock(c, false);
        if (p >= 0 || util_wall_s() > end || util_stop_signal)
            return p;
        scn_runner_run_to(r, scn_runner_now(r) + 100000);
        if (scn_runner_stopped(r))
            return -1;
    }
    return -1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_pg_p50(double *v, int n)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return v[(n - 1) / 2];
}

void bench_pg_row(FILE *out, const char *what, double *v, int n,
                  double total)
{
    if (n == 0) {
        fprintf(out, "  %-30s no successful trial\n", what);
        return;
    }
    double p50 = bench_pg_p50(v, n);
    fprintf(out, "  %-30s %8.1f %8.1f %8.1f %8.1f", what, v[0], p50,
            v[(int)((n - 1) * 0.9)], v[n - 1]);
    if (total > 0)
        fprintf(out, "   %3.0f%% of p50", 100.0 * p50 / total);
    fputc('\n', out);
}

void bench_pg_tail(FILE *narr, FILE *err)
{
    long size = ftell(narr);
    fseek(narr, size > 6000 ? size - 6000 : 0, SEEK_SET);
    char buf[6001];
    size_t got = fread(buf, 1, sizeof(buf) - 1, narr);
    buf[got] = 0;
    fprintf(err, "--- the end of the mirrored run's narration:\n%s", buf);
}
