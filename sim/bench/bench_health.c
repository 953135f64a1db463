/*
 * bench_health.c — `raftsim bench health`: latency of GET /health/db
 * under concurrent clients, then whether slow clients (slowloris: a
 * request line and a header, never the blank line) lock out a real GET.
 *
 * By default the endpoint runs in this process (sim/pg/pg_http.c) over
 * the given servers (the tools/pg-pair lab by default, observed in the
 * background); --target HOST:PORT measures an endpoint already running
 * elsewhere, e.g. an older build's `raftsim pg health`, for before/after
 * figures.  Every client call has a 10 s socket timeout.
 */
#include "sim/bench/bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sim/pg/pg.h"
#include "sim/pg/pg_http.h"
#include "sim/util/util.h"

struct client_run {
    struct sockaddr_in addr;
    int requests;
    atomic_int next;
    double *ms;  /* [requests] latency, -1 for no answer */
    int *status; /* [requests] HTTP status, 0 for no answer */
};

static int dial(const struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One GET on a fresh connection; its status (0: no answer). */
static int get_once(const struct sockaddr_in *a, double *ms)
{
    double t0 = util_wall_s();
    int fd = dial(a);
    int status = 0;
    if (fd >= 0) {
        static const char req[] =
            "GET /health/db HTTP/1.0\r\nHost: bench\r\n\r\n";
        char buf[8192];
        size_t len = 0;
        ssize_t r;
        if (write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1)
            while (len + 1 < sizeof(buf) &&
                   (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t)r;
        buf[len] = '\0';
        if (len > 12 && !strncmp(buf, "HTTP/1.", 7))
            status = atoi(buf + 9);
        close(fd);
    }
    *ms = (util_wall_s() - t0) * 1000.0;
    return status;
}

static void *client_main(void *arg)
{
    struct client_run *cr = arg;
    for (int k = 0; k < cr->requests; k++) { /* bounded by the count */
        int i = atomic_fetch_add(&cr->next, 1);
        if (i >= cr->requests)
            break;
        cr->status[i] = get_once(&cr->addr, &cr->ms[i]);
    }
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
    return n ? v[(int)((n - 1) * p + 0.5)] : 0;
}

struct lab {
    struct pg_server s[PG_MAX_SERVERS];
    int n;
};

static void observe_lab(void *ctx, struct pg_obs *obs, int n)
{
    struct lab *l = ctx;
    for (int i = 0; i < n && i < l->n; i++)
        pg_observe(&l->s[i], 2.0, &obs[i]);
}

/* The concurrent GETs; 0 if every request was answered. */
static int load(FILE *out, const struct bench_health_opts *o,
                const struct sockaddr_in *addr)
{
    struct client_run cr = {.addr = *addr, .requests = o->requests};
    cr.ms = calloc((size_t)o->requests, sizeof(double));
    cr.status = calloc((size_t)o->requests, sizeof(int));
    pthread_t *th = calloc((size_t)o->concurrency, sizeof(*th));
    if (!cr.ms || !cr.status || !th) {
        free(cr.ms);
        free(cr.status);
        free(th);
        return 1;
    }
    double t0 = util_wall_s();
    int started = 0;
    for (; started < o->concurrency; started++)
        if (pthread_create(&th[started], NULL, client_main, &cr) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double wall = util_wall_s() - t0;
    int ok200 = 0, s503 = 0, other = 0, none = 0;
    for (int i = 0; i < o->requests; i++) {
        int s = cr.status[i];
        ok200 += s == 200;
        s503 += s == 503;
        none += s == 0;
        other += s != 0 && s != 200 && s != 503;
    }
    qsort(cr.ms, (size_t)o->requests, sizeof(double), cmp_d);
    fprintf(out,
            "  %d requests, %d concurrent clients: %d x 200, %d x 503, %d "
            "other, %d unanswered\n"
            "  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f   "
            "(%.0f requests/s)\n",
            o->requests, started, ok200, s503, other, none,
            pct(cr.ms, o->requests, 0.5), pct(cr.ms, o->requests, 0.9),
            pct(cr.ms, o->requests, 0.99), cr.ms[o->requests - 1],
            (double)o->requests / wall);
    fprintf(out, "  target p99 < 50 ms: %s\n",
            pct(cr.ms, o->requests, 0.99) < 50 ? "met" : "NOT met");
    free(cr.ms);
    free(cr.status);
    free(th);
    return none > 0 || started < o->concurrency;
}

/* n slowloris connections held open, then real GETs; 0 if they got
 * answers. */
static int slowloris(FILE *out, int n, const struct sockaddr_in *addr)
{
    int *fds = calloc((size_t)n, sizeof(int));
    if (!fds)
        return 1;
    int open = 0;
    static const char part[] = "GET /health/db HTTP/1.1\r\nHost: slow\r\n";
    for (int i = 0; i < n; i++) {
        fds[i] = dial(addr);
        if (fds[i] >= 0 &&
            write(fds[i], part, sizeof(part) - 1) == (ssize_t)sizeof(part) - 1)
            open++;
    }
    usleep(200 * 1000); /* let the server take them all in */
    double worst = 0, ms;
    int answered = 0;
    for (int k = 0; k < 5; k++) {
        answered += get_once(addr, &ms) != 0;
        if (ms > worst)
            worst = ms;
    }
    fprintf(out,
            "  with %d slowloris connections open: %d of 5 real GETs "
            "answered, the slowest in %.2f ms\n",
            open, answered, worst);
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    return answered == 5 ? 0 : 1;
}

int bench_health(FILE *out, const struct bench_health_opts *opts)
{
    struct bench_health_opts o = *opts;
    if (o.requests <= 0)
        o.requests = 2000;
    if (o.concurrency <= 0)
        o.concurrency = 50;
    struct sockaddr_in addr = {.sin_family = AF_INET};
    struct lab lab = {.n = 0};
    struct pg_http *h = NULL;
    char where[96];
    if (o.target) {
        char host[64];
        const char *colon = strrchr(o.target, ':');
        if (!colon || (size_t)(colon - o.target) >= sizeof(host)) {
            fprintf(stderr, "bench health: bad --target '%s'\n", o.target);
            return 2;
        }
        memcpy(host, o.target, (size_t)(colon - o.target));
        host[colon - o.target] = '\0';
        addr.sin_port = htons((uint16_t)atoi(colon + 1));
        if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
            fprintf(stderr, "bench health: bad --target '%s'\n", o.target);
            return 2;
        }
        snprintf(where, sizeof(where), "%s (running elsewhere)", o.target);
    } else {
        lab.n = pg_default_servers(lab.s, PG_MAX_SERVERS);
        struct pg_http_opts ho = {.servers = lab.s,
                                  .n_servers = lab.n,
                                  .observe = observe_lab,
                                  .ctx = &lab,
                                  .lag_alert_s = 10};
        char err[256];
        h = pg_http_start(&ho, err, sizeof(err));
        if (!h) {
            fprintf(stderr, "bench health: %s\n", err);
            for (int i = 0; i < lab.n; i++)
                pg_server_free(&lab.s[i]);
            return 1;
        }
        addr.sin_port = htons((uint16_t)pg_http_port(h));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        snprintf(where, sizeof(where),
                 "127.0.0.1:%d (in process, PostgreSQL observed every "
                 "500 ms)",
                 pg_http_port(h));
    }
    fprintf(out, "bench health: GET /health/db at %s\n", where);
    int rc = load(out, &o, &addr);
    if (o.slowloris > 0)
        rc |= slowloris(out, o.slowloris, &addr);
    if (h)
        fprintf(out, "  PostgreSQL observations during the run: %llu\n",
                (unsigned long long)pg_http_observations(h));
    pg_http_stop(h);
    for (int i = 0; i < lab.n; i++)
        pg_server_free(&lab.s[i]);
    return rc;
}
