/*
 * cli_pg.c — `raftsim pg status` and `raftsim pg health`: watch a real
 * PostgreSQL primary/standby pair (by default the lab of tools/pg-pair:
 * the servers its directory lists, a on 127.0.0.1:5433, b on 5434, ...).
 *
 * Exit status: 0 when exactly one server accepts writes, 1 when none or
 * several do (or a server cannot be reached), 2 bad usage.
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/pg/pg.h"
#include "sim/pg/pg_http.h"
#include "sim/util/util.h"

struct pg_cli {
    struct pg_server s[PG_MAX_SERVERS];
    int n;
    double timeout_s;
};

static void usage_pg(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s pg status [--server NAME=CONNINFO]... [--timeout D]\n"
            "                    [--watch] [--interval D] [--count N]\n"
            "       %s pg health [--listen HOST:PORT] [--lag-alert D]\n"
            "                    [--server NAME=CONNINFO]... [--timeout D] "
            "[--for D]\n\n"
            "status  per server: role, timeline, current/received/replayed "
            "WAL LSN,\n"
            "        lag in bytes and seconds (seen by the primary)\n"
            "health  serve GET /health/db: 200 and {\"primary\":\"ok\",...} "
            "when exactly\n"
            "        one server accepts writes, else 503 with \"mode\":"
            "\"read-only\"\n"
            "        (or \"split-brain\"); lag over --lag-alert is logged "
            "and flagged\n\n"
            "options:\n"
            "  --server NAME=CONNINFO  a server (repeatable; default the "
            "tools/pg-pair lab:\n"
            "                          the servers and password file of "
            "$RAFTSIM_PG_DIR,\n"
            "                          else a and b on "
            "$RAFTSIM_PG_PORT_BASE (5433) and the next)\n"
            "  --timeout D             bound on connecting and each query "
            "(default 2s)\n"
            "  --watch                 status: repeat every --interval "
            "(default 1s)\n"
            "  --interval D            health: observe PostgreSQL every D in "
            "the background\n"
            "                          and answer from the last observation "
            "(default 500ms)\n"
            "  --count N               status --watch: stop after N rounds\n"
            "  --listen HOST:PORT      health: where to listen (default "
            "127.0.0.1:8080)\n"
            "  --lag-alert D           health: alert when replay lag is over "
            "D (default 10s)\n"
            "  --for D                 health: stop after D (default: until "
            "SIGINT/SIGTERM)\n\n"
            "exit status: 0 exactly one writable server, 1 none or several "
            "(or a server\nunreachable), 2 bad usage\n\n"
            "examples (with tools/pg-pair up):\n"
            "  %s pg status\n"
            "  %s pg status --watch --interval 200ms --count 3\n"
            "  %s pg health --listen 127.0.0.1:8089 --for 1s\n",
            prog, prog, prog, prog, prog);
}

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void observe_all(void *ctx, struct pg_obs *obs, int n)
{
    struct pg_cli *c = ctx;
    for (int i = 0; i < n && i < c->n; i++)
        pg_observe(&c->s[i], c->timeout_s, &obs[i]);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static int status(const char *prog, struct pg_cli *c, bool watch,
                  double interval, long count)
{
    int rc = 0;
    for (long round = 0; !stop_flag; round++) {
        struct pg_obs obs[PG_MAX_SERVERS];
        observe_all(c, obs, c->n);
        if (watch) {
            time_t now = time(NULL);
            char ts[32];
            strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
            printf("%s %s pg status\n", ts, prog);
        }
        pg_status_print(stdout, c->s, obs, c->n);
        struct pg_health h;
        pg_health_judge(obs, c->n, 0, &h);
        rc = h.writable == 1 ? 0 : 1;
        for (int i = 0; i < c->n; i++)
            if (!obs[i].up)
                rc = 1;
        fflush(stdout);
        if (!watch || (count > 0 && round + 1 >= count))
            break;
        sleep_s(interval);
    }
    return rc;
}

static int health(const char *prog, struct pg_cli *c, const char *listen,
                  double lag_alert, double for_s, double interval)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    uint64_t port;
    if (!colon || (size_t)(colon - listen) >= sizeof(host) ||
        util_parse_u64(colon + 1, &port) != 0 || port > 65535) {
        fprintf(stderr, "%s pg health: bad --listen '%s' (HOST:PORT, e.g. "
                        "127.0.0.1:8080)\n",
                prog, listen);
        return 2;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    struct pg_http_opts o = {.host = host,
                             .port = (int)port,
                             .lag_alert_s = lag_alert,
                             .servers = c->s,
                             .n_servers = c->n,
                             .observe = observe_all,
                             .ctx = c,
                             .observe_interval_ms =
                                 (unsigned)(interval * 1000 + 0.5),
                             .log = stderr};
    char err[256];
    struct pg_http *h = pg_http_start(&o, err, sizeof(err));
    if (!h) {
        fprintf(stderr, "%s pg health: %s\n", prog, err);
        return 1;
    }
    fprintf(stderr, "%s pg health: serving http://%s:%d/health/db\n", prog,
            host, pg_http_port(h));
    double start = util_wall_s();
    while (!stop_flag && (for_s <= 0 || util_wall_s() - start < for_s))
        sleep_s(0.05);
    fprintf(stderr, "%s pg health: stopped after %llu requests\n", prog,
            (unsigned long long)pg_http_requests(h));
    pg_http_stop(h);
    return 0;
}

enum { O_SERVER = 256, O_TIMEOUT, O_WATCH, O_INTERVAL, O_COUNT, O_LISTEN,
       O_LAG, O_FOR };
static const struct option pg_long[] = {
    {"server", required_argument, NULL, O_SERVER},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"watch", no_argument, NULL, O_WATCH},
    {"interval", required_argument, NULL, O_INTERVAL},
    {"count", required_argument, NULL, O_COUNT},
    {"listen", required_argument, NULL, O_LISTEN},
    {"lag-alert", required_argument, NULL, O_LAG},
    {"for", required_argument, NULL, O_FOR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int bad(const char *prog, const char *what, const char *val,
               const char *why)
{
    return cli_bad_value(prog, "pg", what, val, why);
}

int cli_pg(const char *prog, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage_pg(argc < 2 ? stderr : stdout, prog);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    bool is_status = !strcmp(sub, "status"), is_health = !strcmp(sub, "health");
    if (!is_status && !is_health) {
        const char *known[] = {"status", "health"};
        const char *hint = NULL;
        for (int k = 0; k < 2; k++)
            if (util_edit_distance(sub, strlen(sub), known[k],
                                   strlen(known[k])) <= 2)
                hint = known[k];
        fprintf(stderr, "%s pg: unknown command '%s'%s%s%s (known: status, "
                        "health)\n",
                prog, sub, hint ? "; did you mean '" : "", hint ? hint : "",
                hint ? "'?" : "");
        return 2;
    }
    struct pg_cli c = {.timeout_s = 2.0};
    bool watch = false, custom = false;
    double interval = 0, lag_alert = 10.0, for_s = 0;
    long count = 0;
    const char *listen = "127.0.0.1:8080";
    int rc = 2;
    char err[256];
    const char *cmd = is_status ? "pg status" : "pg health";
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, cmd, argc - 1, argv + 1, "h", pg_long)) !=
           -1) {
        uint64_t us, u;
        const char *why = NULL;
        switch (ch) {
        case O_SERVER:
            if (c.n >= PG_MAX_SERVERS) {
                fprintf(stderr, "%s pg: at most %d servers\n", prog,
                        PG_MAX_SERVERS);
                goto out;
            }
            if (pg_server_parse(optarg, &c.s[c.n], err, sizeof(err)) != 0) {
                fprintf(stderr, "%s pg: %s\n", prog, err);
                goto out;
            }
            for (int k = 0; k < c.n; k++)
                if (!strcmp(c.s[k].name, c.s[c.n].name)) {
                    fprintf(stderr, "%s pg: server %s is named twice\n", prog,
                            c.s[k].name);
                    pg_server_free(&c.s[c.n]);
                    goto out;
                }
            c.n++;
            custom = true;
            break;
        case O_TIMEOUT:
        case O_INTERVAL:
        case O_LAG:
        case O_FOR:
            if (util_parse_duration_us(optarg, &us, &why) != 0) {
                rc = bad(prog, pg_long[ch == O_TIMEOUT    ? 1
                                       : ch == O_INTERVAL ? 3
                                       : ch == O_LAG      ? 6
                                                          : 7]
                                   .name,
                         optarg, why);
                goto out;
            }
            if (ch == O_TIMEOUT) {
                if (us < 100000 || us > 60000000) {
                    rc = bad(prog, "timeout", optarg, "between 100ms and 60s");
                    goto out;
                }
                c.timeout_s = (double)us / 1e6;
            } else if (ch == O_INTERVAL) {
                if (us < 10000) {
                    rc = bad(prog, "interval", optarg, "at least 10ms");
                    goto out;
                }
                interval = (double)us / 1e6;
            } else if (ch == O_LAG)
                lag_alert = (double)us / 1e6;
            else
                for_s = (double)us / 1e6;
            break;
        case O_WATCH:
            watch = true;
            break;
        case O_COUNT:
            if (util_parse_u64(optarg, &u) != 0 || u < 1 || u > 1000000) {
                rc = bad(prog, "count", optarg, "a whole number from 1");
                goto out;
            }
            count = (long)u;
            break;
        case O_LISTEN:
            listen = optarg;
            break;
        case 'h':
            usage_pg(stdout, prog);
            rc = 0;
            goto out;
        default: /* CLI_OPT_BAD: already said */
            goto out;
        }
    }
    if (optind < argc - 1) {
        rc = cli_unexpected(prog, cmd, argv[1 + optind]);
        goto out;
    }
    if (!custom)
        c.n = pg_default_servers(c.s, PG_MAX_SERVERS);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rc = is_status ? status(prog, &c, watch, interval > 0 ? interval : 1.0,
                            count)
                   : health(prog, &c, listen, lag_alert, for_s,
                            interval > 0 ? interval : 0.5);
out:
    for (int k = 0; k < c.n; k++)
        pg_server_free(&c.s[k]);
    return rc;
}
