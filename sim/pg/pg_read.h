/*
 * pg_read.h — a client's read on a real server: the newest row of a key
 * in the mirror's table raftsim_kv, with the server's role and WAL
 * position taken in the same query (a standby's pg_last_wal_replay_lsn(),
 * a primary's pg_current_wal_lsn()), so the route that chose the server
 * and the answer it gave can be told apart truthfully.  Used by the
 * mirror's reads (sim/runner/runner_mirror_read.c); bounded like every
 * call of sim/pg.
 */
#ifndef RAFTSIM_SIM_PG_READ_H
#define RAFTSIM_SIM_PG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/pg/pg.h"

struct pg_answer {
    bool in_recovery;   /* a standby answered */
    bool streaming;     /* standby: its WAL receiver is streaming */
    uint64_t wal_lsn;   /* standby: replayed; primary: current */
    bool found;         /* a row with the key exists there */
    char value[32];
    uint64_t lsn, term; /* the row's simulated LSN and term */
    double took_ms;
};

/* SELECT the newest row (highest simulated LSN, then term) of key; 0, or
 * -1 with the server's message in err. */
int pg_read_key(const struct pg_server *s, double timeout_s, const char *key,
                struct pg_answer *a, char *err, size_t cap);

/* The routing rules, pure (tested without servers): the index of the
 * server a read goes to among n candidates, or -1.
 *   ryw:       a standby whose replayed LSN has reached token
 *   monotonic: the sticky one while its replayed LSN is at least floor,
 *              else any standby that has reached floor
 * ok[i] says server i is a standby that is up and streaming; replay[i]
 * is its replayed LSN; pick(k) returns a number in 1..k (the run's
 * seeded choice among k candidates). */
int pg_route_ryw(const bool *ok, const uint64_t *replay, int n,
                 uint64_t token, int (*pick)(void *, int), void *ctx);
int pg_route_monotonic(const bool *ok, const uint64_t *replay, int n,
                       int sticky, uint64_t floor, int (*pick)(void *, int),
                       void *ctx);

#endif
