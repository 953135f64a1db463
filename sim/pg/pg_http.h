/*
 * pg_http.h — `GET /health/db` over HTTP (libmicrohttpd): 200 with the
 * pair's health as JSON when exactly one server accepts writes, 503 with
 * "mode":"read-only" when none does (and "split-brain" when several do,
 * "stale" when the last observation is too old to trust).
 *
 * PostgreSQL is observed by a background thread at a fixed interval
 * (observe_interval_ms), never by a request: a request answers from the
 * last observation, whose age is in the JSON ("observed_ms_ago"), so a
 * slow or stopped server costs the observer time, not the clients.  The
 * first observation is made before pg_http_start returns.
 *
 * Requests are served by a pool of libmicrohttpd polling threads, each
 * multiplexing many connections, with a total and a per-IP connection
 * limit and an idle timeout: slow clients (slowloris) hold a connection
 * slot each, never a thread, and never the last slot a real GET needs.
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
    pg_observer observe; /* called from the observer thread only */
    void *ctx;
    unsigned observe_interval_ms; /* 0: 500 */
    unsigned stale_after_ms;      /* older observations: 503 "stale";
                                   * 0: 10 × interval + 10 s */
    unsigned threads;             /* 0: 4 */
    unsigned max_connections;     /* 0: 1024 */
    unsigned max_per_ip;          /* 0: 512 */
    unsigned timeout_s;           /* idle connection timeout; 0: 10 */
    FILE *log;          /* one line per request and per alert; NULL: none */
};

struct pg_http;

/* Start serving; NULL with a message in err (bad address, port taken). */
struct pg_http *pg_http_start(const struct pg_http_opts *o, char *err,
                              size_t cap);
int pg_http_port(const struct pg_http *h);
uint64_t pg_http_requests(struct pg_http *h);
/* Observations made so far (the first one by pg_http_start). */
uint64_t pg_http_observations(struct pg_http *h);
void pg_http_stop(struct pg_http *h);

#endif
