/*
 * cli_live.c — `raftsim serve` and `raftsim shell`: the command lines of
 * the live classroom (sim/live).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/live/live.h"
#include "sim/live/live_bench.h"
#include "sim/live/live_http.h"
#include "sim/live/live_shell.h"
#include "sim/util/util.h"

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig) { stop_sig = sig; }

static void usage_serve(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s serve [FILE] [OPTIONS]\n\n"
            "A live classroom: one cluster under the virtual clock, paced "
            "against wall\n"
            "time, on a web page.  Prints a viewer URL (for the students) "
            "and a\n"
            "controller URL with a random token (for the teacher, who acts "
            "with scenario\n"
            "lines: crash n3, isolate leader, write alice x=1, …).  With "
            "FILE its lines\n"
            "run in order and the session pauses at each `step`.  Ctrl-C "
            "ends it.\n\n"
            "options:\n"
            "  --listen HOST:PORT  where to listen (default 127.0.0.1:0, a "
            "free port);\n"
            "                      another address lets the network view "
            "(a warning says so)\n"
            "  --speed X           virtual seconds per wall second, 0.01 to "
            "100 (default 1)\n"
            "  --paused            start paused\n"
            "  --seed N            override the file's seed\n"
            "  --export FILE       at the end, write the session as a "
            "scenario file\n"
            "  -h, --help          this text\n",
            prog);
}

static void usage_shell(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s shell [FILE] [OPTIONS]\n\n"
            "The live session at a prompt: scenario lines happen now, the "
            "narration\n"
            "prints as it happens; :help lists the controls (:speed, :pause, "
            ":step,\n"
            ":seek, :export …).  Fed by a pipe, the session is scripted: "
            "time moves only\n"
            "by the lines (wait, await, :step, :seek), so a script gives the "
            "trace of\n"
            "the scenario file with the same lines.\n\n"
            "options:\n"
            "  --speed X       virtual seconds per wall second (terminal; "
            "default 1)\n"
            "  --seed N        override the file's seed\n"
            "  --trace FILE    at the end, write the trace (JSON Lines)\n"
            "  --export FILE   at the end, write the session as a scenario "
            "file\n"
            "  -h, --help      this text\n",
            prog);
}

struct live_args {
    const char *file, *listen, *export_path, *trace_path;
    struct live_opts o;
};

static int parse_args(const char *prog, const char *cmd, int argc, char **argv,
                      struct live_args *a, bool serve)
{
    static const struct option serve_opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"speed", required_argument, NULL, 's'},
        {"paused", no_argument, NULL, 'p'},
        {"seed", required_argument, NULL, 'S'},
        {"export", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static const struct option shell_opts[] = {
        {"speed", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, 'S'},
        {"trace", required_argument, NULL, 't'},
        {"export", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const struct option *opts = serve ? serve_opts : shell_opts;
    memset(a, 0, sizeof(*a));
    live_opts_default(&a->o);
    a->listen = "127.0.0.1:0";
    cli_getopt_begin();
    int c;
    while ((c = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'h':
            (serve ? usage_serve : usage_shell)(stdout, prog);
            return 0;
        case 'l':
            a->listen = optarg;
            break;
        case 's':
            if (util_parse_double(optarg, &a->o.speed) != 0 ||
                a->o.speed < 0.01 || a->o.speed > 100)
                return cli_bad_value(prog, cmd, "speed", optarg,
                                     "a number from 0.01 to 100");
            break;
        case 'p':
            a->o.paused = true;
            break;
        case 'S':
            if (util_parse_u64(optarg, &a->o.seed) != 0)
                return cli_bad_value(prog, cmd, "seed", optarg,
                                     "a whole number");
            a->o.seed_given = true;
            break;
        case 'e':
            a->export_path = optarg;
            break;
        case 't':
            a->trace_path = optarg;
            break;
        default: /* CLI_OPT_BAD: cli_getopt said what was wrong */
            return 2;
        }
    }
    char why[PATH_MAX + 128];
    const char *outs[] = {a->export_path, a->trace_path};
    for (int k = 0; k < 2; k++)
        if (outs[k] && util_out_check(outs[k], why, sizeof(why)) != 0) {
            fprintf(stderr, "%s %s: %s\n", prog, cmd, why);
            return 2;
        }
    if (optind < argc)
        a->file = argv[optind++];
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    return -1; /* go on */
}

static int parse_listen(const char *prog, const char *spec,
                        struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    uint64_t port;
    if (!colon || (size_t)(colon - spec) >= sizeof(host) ||
        util_parse_u64(colon + 1, &port) != 0 || port > 65535) {
        fprintf(stderr, "%s serve: bad value '%s' for --listen: expected "
                        "HOST:PORT such as 127.0.0.1:8080 (port 0: a free one)\n",
                prog, spec);
        return 2;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        fprintf(stderr, "%s serve: bad value '%s' for --listen: '%s' is not "
                        "an IPv4 address\n",
                prog, spec, host);
        return 2;
    }
    return 0;
}

int cli_serve(const char *prog, int argc, char **argv)
{
    struct live_args a;
    int rc = parse_args(prog, "serve", argc, argv, &a, true);
    if (rc >= 0)
        return rc;
    struct sockaddr_in sa;
    if (parse_listen(prog, a.listen, &sa) != 0)
        return 2;
    char err[8192];
    struct live_session *s;
    if (live_new(a.file, &a.o, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s serve: %s\n", prog, err);
        return 2;
    }
    struct live_http *h;
    if (live_http_start(s, &sa, &h, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s serve: %s\n", prog, err);
        live_free(s);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
    if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127)
        fprintf(stderr, "%s serve: warning: listening on %s: anyone on the "
                        "network can view (acting still needs the token)\n",
                prog, host);
    printf("viewer: http://%s:%u/\n", host, live_http_port(h));
    printf("controller: http://%s:%u/?token=%s\n", host, live_http_port(h),
           live_http_token(h));
    struct sigaction act = {0};
    act.sa_handler = on_stop;
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!stop_sig) {
        live_tick(s, util_wall_s());
        struct timespec ts = {0, 20000000}; /* 20 ms: 50 ticks a second */
        nanosleep(&ts, NULL);
    }
    live_http_stop(h);
    rc = 0;
    if (a.export_path) {
        struct util_out out;
        char why[PATH_MAX + 128];
        if (util_out_open(&out, a.export_path, why, sizeof(why)) != 0 ||
            (live_export(s, out.f, false),
             util_out_commit(&out, why, sizeof(why)) != 0)) {
            fprintf(stderr, "%s serve: cannot export: %s\n", prog, why);
            rc = 2;
        } else
            printf("serve: the session is in %s (raftsim run --keep-going "
                   "%s replays it)\n",
                   a.export_path, a.export_path);
    }
    printf("serve: ended at %.3f s (%s)\n", (double)live_present_us(s) / 1e6,
           stop_sig == SIGTERM ? "SIGTERM" : "Ctrl-C");
    live_free(s);
    return rc;
}

int cli_shell(const char *prog, int argc, char **argv)
{
    struct live_args a;
    int rc = parse_args(prog, "shell", argc, argv, &a, false);
    if (rc >= 0)
        return rc;
    bool tty = isatty(0) && isatty(1);
    a.o.scripted = !tty;
    char err[8192];
    struct live_session *s;
    if (live_new(a.file, &a.o, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s shell: %s\n", prog, err);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = live_shell(s, stdin, tty, stdout, a.trace_path, a.export_path);
    live_free(s);
    return rc;
}

int cli_bench_live(const char *prog, int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: %s bench live\n\nThe live server on 127.0.0.1: click -> "
               "visible to every viewer (p50/p99,\n1 and 100 viewers, 200 "
               "clicks each), its CPU at x1 for 5 nodes (5 s), and\nthe cost "
               "of a fork at 60 s of virtual history.\n",
               prog);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "%s bench live: takes no options\n", prog);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    return live_bench(stdout, 200, 5.0);
}
