/*
 * pg_http.c — the health endpoint on libmicrohttpd.  See pg_http.h.
 *
 * libmicrohttpd does the HTTP (parsing, limits, keep-alive, bad requests);
 * this file only routes one URL and writes JSON.
 */
#include "sim/pg/pg_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pg_http {
    struct pg_http_opts o;
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    uint64_t requests;
    bool alerting;
};

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

    pthread_mutex_lock(&h->mu);
    struct pg_obs obs[PG_MAX_SERVERS];
    int n = h->o.n_servers;
    h->o.observe(h->o.ctx, obs, n);
    struct pg_health hl;
    pg_health_judge(obs, n, h->o.lag_alert_s, &hl);
    char body[4096];
    if (pg_health_json(&hl, h->o.servers, obs, n, body, sizeof(body) - 1) < 0)
        snprintf(body, sizeof(body), "{\"error\":\"response too large\"}");
    strcat(body, "\n");
    h->requests++;
    if (h->o.log) {
        if (hl.lag_alert && !h->alerting)
            fprintf(h->o.log,
                    "pg health: ALERT: replication lag %.3f s is over %.3f s\n",
                    hl.lag_s, h->o.lag_alert_s);
        else if (!hl.lag_alert && h->alerting)
            fprintf(h->o.log, "pg health: lag back under %.3f s (%.3f s)\n",
                    h->o.lag_alert_s, hl.lag_s);
        fprintf(h->o.log, "pg health: GET /health/db -> %d %s", hl.http_status,
                body);
        fflush(h->o.log);
    }
    h->alerting = hl.lag_alert;
    pthread_mutex_unlock(&h->mu);
    return reply(conn, (unsigned)hl.http_status, body);
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
    pthread_mutex_init(&h->mu, NULL);
    h->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, cap, "cannot listen on %s:%d (in use?)", host, o->port);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
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

void pg_http_stop(struct pg_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
