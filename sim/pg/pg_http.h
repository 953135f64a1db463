/*
 * pg_http.h — `GET /health/db` over HTTP (libmicrohttpd): 200 with the
 * pair's health as JSON when exactly one server accepts writes, 503 with
 * "mode":"read-only" when none does (and "split-brain" when several do).
 *
 * Each request observes the servers afresh through the observer callback
 * (in production pg_observe on every server; in tests a fake), so the
 * answer is never older than the request.  Requests are served one at a
 * time by libmicrohttpd's internal thread.
 */
#ifndef RAFTSIM_SIM_PG_HTTP_H
#define RAFTSIM_SIM_PG_HTTP_H

#include <stdint.h>
#include <stdio.h>

#include "sim/pg/pg.h"

typedef void (*pg_observer)(void *ctx, struct pg_obs *obs, int n);

struct pg_http_opts {
    const char *host;   /* listen address: numeric IPv4 (default 127.0.0.1) */
    int port;           /* 0: ephemeral */
    double lag_alert_s; /* 0: no alert */
    const struct pg_server *servers;
    int n_servers;
    pg_observer observe;
    void *ctx;
    FILE *log;          /* one line per request and per alert; NULL: none */
};

struct pg_http;

/* Start serving; NULL with a message in err (bad address, port taken). */
struct pg_http *pg_http_start(const struct pg_http_opts *o, char *err,
                              size_t cap);
int pg_http_port(const struct pg_http *h);
uint64_t pg_http_requests(struct pg_http *h);
void pg_http_stop(struct pg_http *h);

#endif
