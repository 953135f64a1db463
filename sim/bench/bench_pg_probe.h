/*
 * bench_pg_probe.h — what the mirrored PostgreSQL benchmarks share
 * (bench_pg_detect.c: a SIGKILL of the primary; bench_pg_switch.c: a
 * switchover), internal to sim/bench/: the application's probe, the
 * pair's state and the table of figures.
 *
 * The probe is a thread that opens a new connection to every server every
 * 50 ms and INSERTs a row (synchronous_commit local, bounded at 1 s a
 * statement), as an application that retries would.  Armed with a moment
 * t0, it keeps the end of the first INSERT begun at or after t0 that
 * commits (on one wanted server, or any).  Every round is also the
 * continuous one-writer check: a round in which two servers both commit
 * a row is counted (the goal is 0).
 */
#ifndef RAFTSIM_SIM_BENCH_PG_PROBE_H
#define RAFTSIM_SIM_BENCH_PG_PROBE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/pg/pg.h"
#include "sim/runner/runner.h"

#define BENCH_PROBE_EVERY_S 0.05
#define BENCH_PROBE_TIMEOUT_S 1.0

struct bench_probe {
    pthread_mutex_t mu;
    const struct pg_server *s;
    int n;
    double deadline; /* the thread ends by then whatever happens */
    /* run by the probe thread, between rounds, once act_at has come (the
     * mutex not held); NULL: none */
    void (*act)(struct bench_probe *P, void *arg);
    void *act_arg;
    /* set by the bench (under mu) */
    bool quit;
    int trial;
    bool act_due;   /* act at act_at */
    double act_at;  /* util_wall_s */
    bool armed;     /* look for the first write from t0 on */
    double t0;      /* util_wall_s */
    int want;       /* that write on this server only; -1: any */
    /* set by the probe */
    double first_write; /* end of the first INSERT begun at or after t0
                           that committed; 0: none yet */
    int first_server;
    uint64_t rounds, attempts, writes, double_rounds;
    char double_first[160];
};

/* Creates raftsim_probe on the primary p (0, or -1 with why in err), then
 * starts the thread; 0 or -1. */
int bench_probe_table(const struct pg_server *p, char *err, size_t cap);
int bench_probe_start(struct bench_probe *P, pthread_t *th);
void bench_probe_stop(struct bench_probe *P, pthread_t th);

/* The pair (servers s[0], s[1]) is one primary and one standby that
 * streams from it: the primary's index, or -1 with why. */
int bench_pg_pair_ready(const struct pg_server *s, char *why, size_t cap);
/* What both benches check before they start, with `what` ("bench
 * switchover --pg") in the messages on stderr: two servers, a primary
 * and a standby streaming from it, raftsim_probe created on the primary.
 * The primary's index, or -1. */
int bench_pg_prepare(const char *what, const struct pg_server *s, int n);
/* The length of "host=127.0.0.1 port=5433" at the head of s's lab
 * connection string (the whole string when it has no " user="). */
int bench_pg_where_len(const struct pg_server *s);
/* Until it is, let the mirrored run go on (the mirror's rejoin); bounded
 * at 60 s.  The primary's index or -1. */
int bench_pg_settle(struct scn_runner *r, const struct pg_server *s,
                    char *why, size_t cap);

/* The text of a bench's scenario, built a line at a time on an
 * open_memstream (as live_http.c builds its pages); line counts the
 * lines so far (the next one is line + 1).  A stream that could not be
 * opened writes nothing, and take gives NULL. */
struct bench_text {
    FILE *f;
    char *t;
    size_t len;
    int line;
};
void bench_text_open(struct bench_text *b);
void bench_text_line(struct bench_text *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text (the caller frees it), or NULL when the stream failed. */
char *bench_text_take(struct bench_text *b);

/* One row of the table: min, p50, p90, max of v (sorted in place), and
 * the share of `total` its p50 is when total > 0. */
void bench_pg_row(FILE *out, const char *what, double *v, int n,
                  double total);
/* The p50 of v (sorted in place). */
double bench_pg_p50(double *v, int n);
/* The end of a failed run's narration, for the reader. */
void bench_pg_tail(FILE *narr, FILE *err);
void bench_sleep_s(double s);

#endif
