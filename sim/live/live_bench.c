/*
 * live_bench.c — `raftsim bench live`: what a class feels of the live
 * server.  Click → visible: a POST /act on loopback until a viewer's
 * event stream shows the write it made, p50/p99 with 1 and 100 viewers;
 * the server's CPU at x1 for 5 nodes; and the cost of a fork (seek back
 * and act) at 60 s of virtual history.  Figures are printed, not judged.
 */
#define _GNU_SOURCE
#include "sim/live/live_bench.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim/live/live.h"
#include "sim/live/live_http.h"
#include "sim/util/util.h"

static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

struct viewer {
    pthread_t th;
    uint16_t port;
    atomic_int seen; /* highest k of "bench-k" seen */
    atomic_bool stop;
};

static void *view(void *arg)
{
    struct viewer *v = arg;
    int fd = dial(v->port);
    if (fd < 0)
        return NULL;
    const char *req = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    if (write(fd, req, strlen(req)) < 0) {
        close(fd);
        return NULL;
    }
    char buf[65536], carry[64] = "";
    for (int rounds = 0; !atomic_load(&v->stop) && rounds < 1000000; rounds++) {
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
            break;
        buf[n] = 0;
        /* "key":"bench-K" in a client event; a match across two reads is
         * found through the carried tail */
        char joined[sizeof(carry) + sizeof(buf)];
        snprintf(joined, sizeof(joined), "%s%s", carry, buf);
        for (char *p = joined; (p = strstr(p, "\"key\":\"b")); p++) {
            int k = atoi(p + 8);
            if (k > atomic_load(&v->seen))
                atomic_store(&v->seen, k);
        }
        size_t l = strlen(joined);
        snprintf(carry, sizeof(carry), "%s", joined + (l > 40 ? l - 40 : 0));
    }
    close(fd);
    return NULL;
}

static int post(uint16_t port, const char *path, const char *body)
{
    int fd = dial(port);
    if (fd < 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     path, strlen(body), body);
    int ok = write(fd, req, (size_t)n) == n ? 0 : -1;
    char resp[512];
    if (read(fd, resp, sizeof(resp) - 1) <= 0)
        ok = -1;
    close(fd);
    return ok;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static volatile atomic_bool ticking;

static void *ticker(void *arg)
{
    struct live_session *s = arg;
    while (atomic_load(&ticking)) {
        live_tick(s, util_wall_s());
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static int click_bench(FILE *out, int viewers, int clicks)
{
    struct live_opts o;
    live_opts_default(&o);
    struct live_session *s;
    char err[4096];
    if (live_new(NULL, &o, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench live: %s\n", err);
        return 2;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct live_http *h;
    if (live_http_start(s, &sa, &h, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench live: %s\n", err);
        live_free(s);
        return 2;
    }
    atomic_store(&ticking, true);
    pthread_t tk;
    pthread_create(&tk, NULL, ticker, s);
    struct viewer *v = calloc((size_t)viewers, sizeof(*v));
    for (int i = 0; i < viewers; i++) {
        v[i].port = live_http_port(h);
        pthread_create(&v[i].th, NULL, view, &v[i]);
    }
    struct timespec settle = {1, 0}; /* a leader, every viewer connected */
    nanosleep(&settle, NULL);
    char path[128];
    snprintf(path, sizeof(path), "/act?token=%s", live_http_token(h));
    double *lat = calloc((size_t)clicks, sizeof(*lat));
    int n = 0;
    for (int k = 1; k <= clicks; k++) {
        char body[64];
        snprintf(body, sizeof(body), "write alice b%d=1", k);
        double t0 = util_wall_s();
        if (post(live_http_port(h), path, body) != 0)
            continue;
        /* the slowest viewer: every one of them must see it */
        for (int i = 0; i < viewers; i++)
            while (atomic_load(&v[i].seen) < k && util_wall_s() - t0 < 5) {
                struct timespec ts = {0, 50000};
                nanosleep(&ts, NULL);
            }
        lat[n++] = (util_wall_s() - t0) * 1e3;
    }
    qsort(lat, (size_t)n, sizeof(*lat), cmp_d);
    fprintf(out, "bench live: click -> visible to all %d viewer%s: p50 %.2f ms, "
                 "p99 %.2f ms, max %.2f ms (%d clicks on 127.0.0.1)\n",
            viewers, viewers == 1 ? "" : "s", n ? lat[n / 2] : 0,
            n ? lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] : 0,
            n ? lat[n - 1] : 0, n);
    free(lat);
    for (int i = 0; i < viewers; i++)
        atomic_store(&v[i].stop, true);
    live_http_stop(h); /* closes the streams: the viewers end */
    for (int i = 0; i < viewers; i++)
        pthread_join(v[i].th, NULL);
    atomic_store(&ticking, false);
    pthread_join(tk, NULL);
    free(v);
    live_free(s);
    return 0;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int live_bench(FILE *out, int clicks, double cpu_seconds)
{
    if (click_bench(out, 1, clicks) || click_bench(out, 100, clicks))
        return 2;
    /* CPU at x1: 5 nodes, writes every 100 ms, ticked at 50 Hz */
    struct live_opts o;
    live_opts_default(&o);
    struct live_session *s;
    char err[4096], msg[4096];
    if (live_new(NULL, &o, &s, err, sizeof(err)) != 0 ||
        live_control(s, "restart nodes=5", msg, sizeof(msg)) != 0) {
        fprintf(stderr, "bench live: %s\n", err);
        return 2;
    }
    live_control(s, "resume", msg, sizeof(msg));
    double c0 = cpu_s(), t0 = util_wall_s();
    for (int k = 0; util_wall_s() - t0 < cpu_seconds; k++) {
        live_tick(s, util_wall_s());
        if (k % 5 == 4) {
            char line[64];
            snprintf(line, sizeof(line), "write alice c%d=1", k);
            live_act(s, line, msg, sizeof(msg));
        }
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    double wall = util_wall_s() - t0, cpu = cpu_s() - c0;
    fprintf(out, "bench live: server CPU at x1, 5 nodes, a write every 100 ms: "
                 "%.1f%% of one core (%.2f s CPU in %.2f s)\n",
            100 * cpu / wall, cpu, wall);
    live_free(s);
    /* fork cost: 60 s of virtual history (5 nodes, a write every 100 ms),
     * seek back to 30 s and act there */
    o.scripted = true;
    if (live_new(NULL, &o, &s, err, sizeof(err)) != 0 ||
        live_control(s, "restart nodes=5", msg, sizeof(msg)) != 0)
        return 2;
    double b0 = util_wall_s();
    for (int k = 0; k < 600; k++) {
        char line[64];
        snprintf(line, sizeof(line), "write alice f%d=1", k);
        live_act(s, line, msg, sizeof(msg));
        live_act(s, "wait 100ms", msg, sizeof(msg));
    }
    double build = util_wall_s() - b0;
    double f0 = util_wall_s();
    live_control(s, "seek 30s", msg, sizeof(msg));
    double seek = util_wall_s() - f0;
    double a0 = util_wall_s();
    int rc = live_act(s, "crash n1", msg, sizeof(msg));
    double fork = util_wall_s() - a0;
    fprintf(out, "bench live: fork at 60 s of virtual history (1200 records): "
                 "seek to 30 s %.1f ms, act there (the fork) %.1f ms; the 60 s "
                 "took %.1f ms to build%s\n",
            seek * 1e3, fork * 1e3, build * 1e3, rc ? " (the act FAILED)" : "");
    live_free(s);
    return rc ? 1 : 0;
}
