/*
 * pg_http.c — the health endpoint on libmicrohttpd.  See pg_http.h.
 *
 * Two kinds of threads share one snapshot under a mutex: the observer
 * (ours) replaces it every interval, and libmicrohttpd's pool threads
 * copy it out per request — a copy of a few hundred bytes, so the lock
 * is never held across a PostgreSQL round trip or a socket write.
 * libmicrohttpd does the HTTP (parsing, limits, keep-alive, timeouts,
 * bad requests); this file only routes one URL and writes JSON.
 */
#include "sim/pg/pg_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pg_http {
    struct pg_http_opts o;
    struct MHD_Daemon *d;
    pthread_t observer;
    bool observer_started;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* stop signal for the observer's sleep */
    bool stopping;
    /* the last observation, under mu */
    struct pg_obs obs[PG_MAX_SERVERS];
    uint64_t observed_ms; /* CLOCK_MONOTONIC of its end */
    double observe_took_ms;
    uint64_t observations;
    uint64_t requests;
    bool alerting;
    pthread_mutex_t log_mu;
    uint64_t last_mhd_log_ms; /* under log_mu */
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One observation of every server, outside the lock; then publish it
 * and log alert transitions. */
static void observe_once(struct pg_http *h)
{
    struct pg_obs obs[PG_MAX_SERVERS];
    memset(obs, 0, sizeof(obs));
    uint64_t t0 = mono_ms();
    h->o.observe(h->o.ctx, obs, h->o.n_servers);
    uint64_t t1 = mono_ms();
    struct pg_health hl;
    pg_health_judge(obs, h->o.n_servers, h->o.lag_alert_s, &hl);
    pthread_mutex_lock(&h->mu);
    memcpy(h->obs, obs, sizeof(obs));
    h->observed_ms = t1;
    h->observe_took_ms = (double)(t1 - t0);
    h->observations++;
    bool was = h->alerting;
    h->alerting = hl.lag_alert;
    pthread_mutex_unlock(&h->mu);
    if (h->o.log && was != hl.lag_alert) {
        pthread_mutex_lock(&h->log_mu);
        if (hl.lag_alert)
            fprintf(h->o.log,
                    "pg health: ALERT: replication lag %.3f s is over %.3f s\n",
                    hl.lag_s, h->o.lag_alert_s);
        else
            fprintf(h->o.log, "pg health: lag back under %.3f s (%.3f s)\n",
                    h->o.lag_alert_s, hl.lag_s);
        fflush(h->o.log);
        pthread_mutex_unlock(&h->log_mu);
    }
}

/* Observe at a fixed rate: the next round starts interval after the
 * previous one started (or at once if it took longer). */
static void *observer_main(void *arg)
{
    struct pg_http *h = arg;
    uint64_t next = mono_ms() + h->o.observe_interval_ms;
    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        uint64_t now = mono_ms();
        if (now < next) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t ns = (uint64_t)ts.tv_nsec + (next - now) * 1000000u;
            ts.tv_sec += (time_t)(ns / 1000000000u);
            ts.tv_nsec = (long)(ns % 1000000000u);
            pthread_cond_timedwait(&h->wake, &h->mu, &ts);
            continue;
        }
        next = now + h->o.observe_interval_ms;
        pthread_mutex_unlock(&h->mu);
        observe_once(h);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* libmicrohttpd's own messages ("closed with incomplete request" for
 * every slowloris victim) go to the log, at most one a second, so slow
 * clients cannot flood it either. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct pg_http *h = cls;
    if (!h->o.log)
        return;
    uint64_t now = mono_ms();
    pthread_mutex_lock(&h->log_mu);
    if (now - h->last_mhd_log_ms >= 1000) {
        h->last_mhd_log_ms = now;
        fputs("pg health: ", h->o.log);
        vfprintf(h->o.log, fmt, ap);
        fflush(h->o.log);
    }
    pthread_mutex_unlock(&h->log_mu);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The health JSON of the last observation, with its age appended. */
static int health_body(struct pg_http *h, char *body, size_t cap)
{
    struct pg_obs obs[PG_MAX_SERVERS];
    pthread_mutex_lock(&h->mu);
    memcpy(obs, h->obs, sizeof(obs));
    uint64_t at = h->observed_ms;
    double took = h->observe_took_ms;
    h->requests++;
    pthread_mutex_unlock(&h->mu);
    int n = h->o.n_servers;
    uint64_t age = mono_ms() - at;
    struct pg_health hl;
    pg_health_judge(obs, n, h->o.lag_alert_s, &hl);
    bool stale = age > h->o.stale_after_ms;
    if (stale) { /* an observer stuck this long says nothing current */
        hl.http_status = 503;
        hl.mode = "stale";
    }
    int len = pg_health_json(&hl, h->o.servers, obs, n, body, cap - 96);
    if (len < 2) {
        snprintf(body, cap, "{\"error\":\"response too large\"}\n");
        return 500;
    }
    /* replace the closing brace: the age fields go last */
    snprintf(body + len - 1, cap - (size_t)len + 1,
             ",\"observed_ms_ago\":%llu,\"observe_took_ms\":%.0f,"
             "\"observe_interval_ms\":%u}\n",
             (unsigned long long)age, took, h->o.observe_interval_ms);
    return hl.http_status;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    struct pg_http *h = cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;
    if (*upload_data_size) { /* a body we do not want: drop it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/health/db") != 0)
        return reply(conn, MHD_HTTP_NOT_FOUND,
                     "{\"error\":\"not found: try GET /health/db\"}\n");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                     "{\"error\":\"method not allowed: GET /health/db\"}\n");
    char body[4096];
    int status = health_body(h, body, sizeof(body));
    if (h->o.log) {
        pthread_mutex_lock(&h->log_mu);
        fprintf(h->o.log, "pg health: GET /health/db -> %d %s", status, body);
        fflush(h->o.log);
        pthread_mutex_unlock(&h->log_mu);
    }
    return reply(conn, (unsigned)status, body);
}

static void defaults(struct pg_http_opts *o)
{
    if (!o->observe_interval_ms)
        o->observe_interval_ms = 500;
    if (!o->stale_after_ms)
        o->stale_after_ms = 10 * o->observe_interval_ms + 10000;
    if (!o->threads)
        o->threads = 4;
    if (!o->max_connections)
        o->max_connections = 1024;
    if (!o->max_per_ip)
        o->max_per_ip = 512;
    if (!o->timeout_s)
        o->timeout_s = 10;
}

static void free_h(struct pg_http *h)
{
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->log_mu);
    pthread_cond_destroy(&h->wake);
    free(h);
}

struct pg_http *pg_http_start(const struct pg_http_opts *o, char *err,
                              size_t cap)
{
    if (o->n_servers < 1 || o->n_servers > PG_MAX_SERVERS || !o->observe) {
        snprintf(err, cap, "need 1 to %d servers", PG_MAX_SERVERS);
        return NULL;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    const char *host = o->host ? o->host : "127.0.0.1";
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, cap, "bad listen address '%s' (a numeric IPv4 address)",
                 host);
        return NULL;
    }
    if (o->port < 0 || o->port > 65535) {
        snprintf(err, cap, "bad port %d", o->port);
        return NULL;
    }
    struct pg_http *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    h->o = *o;
    defaults(&h->o);
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->log_mu, NULL);
    pthread_cond_init(&h->wake, NULL);
    observe_once(h); /* the first request already has an answer */
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
        0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, h->o.threads,
        MHD_OPTION_CONNECTION_TIMEOUT, h->o.timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, h->o.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->o.max_per_ip,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)512,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, cap, "cannot listen on %s:%d (in use?)", host, o->port);
        free_h(h);
        return NULL;
    }
    if (pthread_create(&h->observer, NULL, observer_main, h) != 0) {
        snprintf(err, cap, "cannot start the observer thread");
        MHD_stop_daemon(h->d);
        free_h(h);
        return NULL;
    }
    h->observer_started = true;
    return h;
}

int pg_http_port(const struct pg_http *h)
{
    const union MHD_DaemonInfo *i =
        MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : -1;
}

uint64_t pg_http_requests(struct pg_http *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->requests;
    pthread_mutex_unlock(&h->mu);
    return n;
}

uint64_t pg_http_observations(struct pg_http *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->observations;
    pthread_mutex_unlock(&h->mu);
    return n;
}

void pg_http_stop(struct pg_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    if (h->observer_started) {
        pthread_mutex_lock(&h->mu);
        h->stopping = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->observer, NULL); /* waits out a round in progress */
    }
    free_h(h);
}
