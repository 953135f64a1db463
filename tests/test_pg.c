/*
 * test_pg.c — the PostgreSQL side without servers: LSN text, server
 * specs, the health verdict and its JSON, the HTTP endpoint (with a fake
 * observer), and a server that is down (a closed port on 127.0.0.1).
 * The real pair is exercised by tests/pg.sh.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sim/pg/pg.h"
#include "sim/pg/pg_http.h"

Test(pg, lsn_text_round_trips)
{
    uint64_t v;
    cr_assert(pg_parse_lsn("0/3000148", &v));
    cr_assert_eq(v, 0x3000148);
    cr_assert(pg_parse_lsn("1A/FF", &v));
    cr_assert_eq(v, (UINT64_C(0x1A) << 32) | 0xFF);
    char buf[32];
    pg_format_lsn(v, buf, sizeof(buf));
    cr_assert_str_eq(buf, "1A/FF");
    cr_assert_not(pg_parse_lsn("", &v));
    cr_assert_not(pg_parse_lsn("3000148", &v));
    cr_assert_not(pg_parse_lsn("0/", &v));
    cr_assert_not(pg_parse_lsn("0/12x", &v));
    cr_assert_not(pg_parse_lsn("100000000/0", &v));
    cr_assert_not(pg_parse_lsn(NULL, &v));
}

/* The lab servers come from the pair directory tools/pg-pair writes
 * (names, ports and its password file), else a and b on the port base. */
Test(pg, lab_servers_follow_the_pair_directory)
{
    char dir[] = "/tmp/raftsim-test-pgdir.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    setenv("RAFTSIM_PG_DIR", dir, 1);
    setenv("RAFTSIM_PG_PORT_BASE", "6100", 1);
    unsetenv("RAFTSIM_PG_HOST");
    struct pg_server s[PG_MAX_SERVERS];
    /* no pair yet: a and b from the base, no password file */
    int n = pg_default_servers(s, PG_MAX_SERVERS);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(s[0].name, "a");
    cr_assert_str_eq(s[0].conninfo,
                     "host=127.0.0.1 port=6100 user=raftsim dbname=raftsim");
    cr_assert_str_eq(s[1].conninfo,
                     "host=127.0.0.1 port=6101 user=raftsim dbname=raftsim");
    for (int k = 0; k < n; k++)
        pg_server_free(&s[k]);
    /* a pair of three with its password file: those, with passfile */
    char path[128], want[256];
    snprintf(path, sizeof(path), "%s/servers", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("a 7433 0\nb 7434 0\nc 7435 2000\nbad line\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/pgpass", dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    n = pg_default_servers(s, PG_MAX_SERVERS);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(s[2].name, "c");
    snprintf(want, sizeof(want),
             "host=127.0.0.1 port=7435 user=raftsim dbname=raftsim "
             "passfile='%s/pgpass'",
             dir);
    cr_assert_str_eq(s[2].conninfo, want);
    for (int k = 0; k < n; k++)
        pg_server_free(&s[k]);
    /* cap respected */
    cr_assert_eq(pg_default_servers(s, 2), 2);
    pg_server_free(&s[0]);
    pg_server_free(&s[1]);
    unlink(path);
    snprintf(path, sizeof(path), "%s/servers", dir);
    unlink(path);
    rmdir(dir);
    unsetenv("RAFTSIM_PG_DIR");
    unsetenv("RAFTSIM_PG_PORT_BASE");
}

Test(pg, server_specs_are_checked)
{
    struct pg_server s;
    char err[256];
    cr_assert_eq(pg_server_parse("a=postgresql://raftsim@127.0.0.1:5433/raftsim",
                                 &s, err, sizeof(err)),
                 0, "%s", err);
    cr_assert_str_eq(s.name, "a");
    cr_assert_str_eq(s.conninfo, "postgresql://raftsim@127.0.0.1:5433/raftsim");
    pg_server_free(&s);
    cr_assert_eq(pg_server_parse("b=host=127.0.0.1 port=5434", &s, err,
                                 sizeof(err)),
                 0, "%s", err);
    pg_server_free(&s);
    cr_assert_eq(pg_server_parse("postgresql://x", &s, err, sizeof(err)), -1);
    cr_assert(strstr(err, "NAME=CONNINFO"), "%s", err);
    cr_assert_eq(pg_server_parse("A=host=x", &s, err, sizeof(err)), -1);
    cr_assert(strstr(err, "lower-case"), "%s", err);
    cr_assert_eq(pg_server_parse("a=host='unterminated", &s, err, sizeof(err)),
                 -1);
    cr_assert(strstr(err, "server a: bad connection string"), "%s", err);
    cr_assert_eq(pg_server_parse("a=", &s, err, sizeof(err)), -1);
}

static struct pg_obs primary(uint64_t lag_bytes, double lag_s)
{
    struct pg_obs o = {.up = true, .timeline = 1, .current_lsn = 0x3000148,
                       .n_standbys = 1, .lag_bytes = lag_bytes, .lag_s = lag_s};
    return o;
}

static struct pg_obs standby(bool streaming)
{
    struct pg_obs o = {.up = true, .in_recovery = true, .timeline = 1,
                       .receive_lsn = 0x3000148, .replay_lsn = 0x3000100,
                       .streaming = streaming};
    return o;
}

Test(pg, one_writable_primary_is_healthy)
{
    struct pg_obs obs[2] = {primary(72, 0.02), standby(true)};
    struct pg_health h;
    pg_health_judge(obs, 2, 10.0, &h);
    cr_assert_eq(h.http_status, 200);
    cr_assert_str_eq(h.mode, "read-write");
    cr_assert_eq(h.primary, 0);
    cr_assert_eq(h.lag_bytes, 72);
    cr_assert_not(h.lag_alert);
    cr_assert(h.replica_ok);
}

Test(pg, no_writable_server_is_read_only_mode)
{
    struct pg_obs obs[2] = {{.up = false}, standby(false)};
    snprintf(obs[0].error, sizeof(obs[0].error), "server a: down");
    struct pg_health h;
    pg_health_judge(obs, 2, 10.0, &h);
    cr_assert_eq(h.http_status, 503);
    cr_assert_str_eq(h.mode, "read-only");
    cr_assert_eq(h.primary, -1);
    /* a fenced primary (default_transaction_read_only) does not count */
    struct pg_obs fenced = primary(0, 0);
    fenced.read_only = true;
    struct pg_obs obs2[2] = {fenced, standby(true)};
    pg_health_judge(obs2, 2, 10.0, &h);
    cr_assert_eq(h.http_status, 503);
    cr_assert_str_eq(h.mode, "read-only");
}

Test(pg, two_writable_servers_are_split_brain)
{
    struct pg_obs obs[2] = {primary(0, 0), primary(0, 0)};
    struct pg_health h;
    pg_health_judge(obs, 2, 10.0, &h);
    cr_assert_eq(h.http_status, 503);
    cr_assert_str_eq(h.mode, "split-brain");
    cr_assert_eq(h.writable, 2);
}

Test(pg, lag_over_the_threshold_raises_an_alert)
{
    struct pg_obs obs[2] = {primary(1 << 20, 12.5), standby(true)};
    struct pg_health h;
    pg_health_judge(obs, 2, 10.0, &h);
    cr_assert_eq(h.http_status, 200);
    cr_assert(h.lag_alert);
    pg_health_judge(obs, 2, 0, &h); /* 0: no threshold */
    cr_assert_not(h.lag_alert);
}

Test(pg, health_json_has_the_fields_asked_for)
{
    struct pg_server s[2] = {{.name = "a"}, {.name = "b"}};
    struct pg_obs obs[2] = {primary(0, 0.02), standby(true)};
    struct pg_health h;
    pg_health_judge(obs, 2, 10.0, &h);
    char buf[2048];
    cr_assert_gt(pg_health_json(&h, s, obs, 2, buf, sizeof(buf)), 0);
    cr_assert(strstr(buf, "{\"primary\":\"ok\",\"replica\":\"ok\","
                          "\"lag_seconds\":0.020,\"lag_bytes\":0,"
                          "\"mode\":\"read-write\""),
              "%s", buf);
    cr_assert(strstr(buf, "{\"name\":\"a\",\"up\":true,\"role\":\"primary\","
                          "\"writable\":true,\"timeline\":1,"
                          "\"lsn\":\"0/3000148\"}"),
              "%s", buf);
    /* errors are escaped into valid JSON strings */
    obs[0] = (struct pg_obs){.up = false};
    snprintf(obs[0].error, sizeof(obs[0].error), "server a: \"quoted\"\n");
    pg_health_judge(obs, 2, 10.0, &h);
    cr_assert_gt(pg_health_json(&h, s, obs, 2, buf, sizeof(buf)), 0);
    cr_assert(strstr(buf, "\"mode\":\"read-only\""), "%s", buf);
    cr_assert(strstr(buf, "\"error\":\"server a: \\\"quoted\\\"\\u000a\""),
              "%s", buf);
    /* too small a buffer is refused, not overrun */
    char tiny[16];
    cr_assert_eq(pg_health_json(&h, s, obs, 2, tiny, sizeof(tiny)), -1);
}

Test(pg, a_server_that_is_down_is_reported_by_name, .timeout = 30)
{
    /* a port on 127.0.0.1 that nobody listens on */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    char spec[128], err[256];
    snprintf(spec, sizeof(spec), "z=host=127.0.0.1 port=%d user=x dbname=x",
             ntohs(sa.sin_port));
    struct pg_server s;
    cr_assert_eq(pg_server_parse(spec, &s, err, sizeof(err)), 0, "%s", err);
    struct pg_obs o;
    pg_observe(&s, 2.0, &o);
    cr_assert_not(o.up);
    cr_assert(strstr(o.error, "server z: cannot connect"), "%s", o.error);
    cr_assert_eq(pg_exec(&s, 2.0, "SELECT 1", err, sizeof(err)), -1);
    cr_assert(strstr(err, "server z"), "%s", err);
    pg_server_free(&s);
}

/* A listener that accepts one connection and closes it at once, as a
 * server killed during the connection does (bounded: 10 s). */
static void *accept_and_close(void *arg)
{
    int fd = *(int *)arg;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 10000) == 1) {
        int c = accept(fd, NULL, NULL);
        if (c >= 0)
            close(c);
    }
    return NULL;
}

/* What the watch decides on: a server that closes the connection under
 * the poll is "gone" (its postmaster may be alive: the watch asks again);
 * a port nobody listens on is "refused".  From libpq's own messages. */
Test(pg, a_connection_closed_under_the_poll_is_gone_then_refused,
     .timeout = 30)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char spec[128], err[256];
    snprintf(spec, sizeof(spec), "z=host=127.0.0.1 port=%d user=x dbname=x",
             ntohs(sa.sin_port));
    struct pg_server s;
    cr_assert_eq(pg_server_parse(spec, &s, err, sizeof(err)), 0, "%s", err);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, accept_and_close, &fd), 0);
    struct pg_obs o;
    pg_observe(&s, 2.0, &o);
    pthread_join(th, NULL);
    cr_assert_not(o.up);
    cr_assert_eq(pg_obs_failure(&o), PG_FAIL_GONE, "%s", o.error);
    close(fd); /* now nothing listens there */
    pg_observe(&s, 2.0, &o);
    cr_assert_eq(pg_obs_failure(&o), PG_FAIL_REFUSED, "%s", o.error);
    struct pg_obs up = {.up = true};
    cr_assert_eq(pg_obs_failure(&up), PG_FAIL_NONE);
    struct pg_obs slow = {.up = false};
    snprintf(slow.error, sizeof(slow.error), "server z: cannot connect: "
             "timeout expired");
    cr_assert_eq(pg_obs_failure(&slow), PG_FAIL_OTHER);
    pg_server_free(&s);
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

struct fake {
    volatile int writable; /* how many primaries */
    volatile int calls;
    unsigned sleep_ms;     /* a slow server */
};

static void fake_observe(void *ctx, struct pg_obs *obs, int n)
{
    struct fake *f = ctx;
    if (f->sleep_ms)
        usleep(f->sleep_ms * 1000);
    for (int i = 0; i < n; i++)
        obs[i] = i < f->writable ? primary(0, 0.01) : standby(true);
    f->calls++;
}

/* Until the endpoint has made k more observations (bounded). */
static void await_observations(struct pg_http *h, uint64_t k)
{
    uint64_t want = pg_http_observations(h) + k;
    for (int i = 0; i < 500 && pg_http_observations(h) < want; i++)
        usleep(10000);
    cr_assert_geq(pg_http_observations(h), want);
}

/* A bounded HTTP/1.0 request; the whole response in buf. */
static int http(int port, const char *method, const char *path, char *buf,
                size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    char req[256];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: x\r\n\r\n",
                     method, path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    ssize_t r;
    while (len + 1 < cap && (r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = 0;
    close(fd);
    return (int)len;
}

Test(pg, health_endpoint_answers_200_then_503, .timeout = 30)
{
    struct pg_server s[2] = {{.name = "a"}, {.name = "b"}};
    struct fake f = {.writable = 1};
    struct pg_http_opts o = {.port = 0,
                             .lag_alert_s = 10,
                             .servers = s,
                             .n_servers = 2,
                             .observe = fake_observe,
                             .ctx = &f,
                             .observe_interval_ms = 20};
    char err[256], buf[8192];
    struct pg_http *h = pg_http_start(&o, err, sizeof(err));
    cr_assert(h, "%s", err);
    int port = pg_http_port(h);
    cr_assert_gt(port, 0);

    cr_assert_gt(http(port, "GET", "/health/db", buf, sizeof(buf)), 0);
    cr_assert(strstr(buf, "HTTP/1.0 200") || strstr(buf, "HTTP/1.1 200"), "%s",
              buf);
    cr_assert(strstr(buf, "Content-Type: application/json"), "%s", buf);
    cr_assert(strstr(buf, "\"primary\":\"ok\""), "%s", buf);

    cr_assert(strstr(buf, "\"observed_ms_ago\":"), "%s", buf);

    f.writable = 0; /* the primary is gone */
    await_observations(h, 2);
    cr_assert_gt(http(port, "GET", "/health/db", buf, sizeof(buf)), 0);
    cr_assert(strstr(buf, " 503 "), "%s", buf);
    cr_assert(strstr(buf, "\"mode\":\"read-only\""), "%s", buf);

    f.writable = 2;
    await_observations(h, 2);
    cr_assert_gt(http(port, "GET", "/health/db", buf, sizeof(buf)), 0);
    cr_assert(strstr(buf, " 503 ") && strstr(buf, "split-brain"), "%s", buf);

    cr_assert_gt(http(port, "GET", "/nope", buf, sizeof(buf)), 0);
    cr_assert(strstr(buf, " 404 "), "%s", buf);
    cr_assert_gt(http(port, "DELETE", "/health/db", buf, sizeof(buf)), 0);
    cr_assert(strstr(buf, " 405 "), "%s", buf);
    cr_assert_eq(pg_http_requests(h), 3);
    pg_http_stop(h);
}

Test(pg, health_endpoint_refuses_a_bad_address)
{
    struct pg_server s[1] = {{.name = "a"}};
    struct fake f = {.writable = 1};
    struct pg_http_opts o = {.host = "localhost",
                             .servers = s,
                             .n_servers = 1,
                             .observe = fake_observe,
                             .ctx = &f};
    char err[256];
    cr_assert_null(pg_http_start(&o, err, sizeof(err)));
    cr_assert(strstr(err, "bad listen address"), "%s", err);
    o.host = "127.0.0.1";
    o.port = 70000;
    cr_assert_null(pg_http_start(&o, err, sizeof(err)));
    cr_assert(strstr(err, "bad port"), "%s", err);
}

static struct pg_http *start_fake(struct fake *f, struct pg_server *s,
                                  unsigned interval_ms, unsigned stale_ms)
{
    struct pg_http_opts o = {.servers = s,
                             .n_servers = 2,
                             .observe = fake_observe,
                             .ctx = f,
                             .observe_interval_ms = interval_ms,
                             .stale_after_ms = stale_ms};
    char err[256];
    struct pg_http *h = pg_http_start(&o, err, sizeof(err));
    cr_assert(h, "%s", err);
    return h;
}

Test(pg, requests_are_answered_from_the_background_observation, .timeout = 30)
{
    struct pg_server s[2] = {{.name = "a"}, {.name = "b"}};
    struct fake f = {.writable = 1, .sleep_ms = 200}; /* a slow server */
    struct pg_http *h = start_fake(&f, s, 60000, 0);
    cr_assert_eq(f.calls, 1, "observed once before serving");
    char buf[8192];
    for (int i = 0; i < 20; i++) {
        cr_assert_gt(http(pg_http_port(h), "GET", "/health/db", buf,
                          sizeof(buf)), 0);
        cr_assert(strstr(buf, " 200 "), "%s", buf);
    }
    cr_assert_eq(f.calls, 1, "a request never observes PostgreSQL itself");
    cr_assert_eq(pg_http_requests(h), 20);
    cr_assert(strstr(buf, "\"observed_ms_ago\":"), "%s", buf);
    cr_assert(strstr(buf, "\"observe_interval_ms\":60000"), "%s", buf);
    pg_http_stop(h);
}

Test(pg, an_observation_too_old_is_reported_stale, .timeout = 30)
{
    struct pg_server s[2] = {{.name = "a"}, {.name = "b"}};
    struct fake f = {.writable = 1};
    struct pg_http *h = start_fake(&f, s, 60000, 50);
    usleep(150 * 1000);
    char buf[8192];
    cr_assert_gt(http(pg_http_port(h), "GET", "/health/db", buf, sizeof(buf)),
                 0);
    cr_assert(strstr(buf, " 503 ") && strstr(buf, "\"mode\":\"stale\""), "%s",
              buf);
    pg_http_stop(h);
}

Test(pg, slowloris_connections_do_not_lock_out_a_real_get, .timeout = 30)
{
    struct pg_server s[2] = {{.name = "a"}, {.name = "b"}};
    struct fake f = {.writable = 1};
    struct pg_http *h = start_fake(&f, s, 100, 0);
    int port = pg_http_port(h);
    int fds[64];
    for (int i = 0; i < 64; i++) { /* a request line, never the blank line */
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cr_assert_eq(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
        const char part[] = "GET /health/db HTTP/1.1\r\nHost: x\r\n";
        cr_assert_eq(write(fds[i], part, sizeof(part) - 1),
                     (ssize_t)sizeof(part) - 1);
    }
    usleep(100 * 1000);
    char buf[8192];
    cr_assert_gt(http(port, "GET", "/health/db", buf, sizeof(buf)), 0,
                 "the real GET got no answer");
    cr_assert(strstr(buf, " 200 "), "%s", buf);
    for (int i = 0; i < 64; i++)
        close(fds[i]);
    pg_http_stop(h);
}
