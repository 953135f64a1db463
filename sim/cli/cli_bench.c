/*
 * cli_bench.c — `raftsim bench sim|failover|switchover|throughput|rss|
 * pg-failover|health`:
 * the command line of the benchmarks (bench*.c do the measuring).
 * Exit status: what the benchmark returns, 2 on bad usage.
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"
#include "sim/bench/bench.h"
#include "sim/util/util.h"

static const char *prog = "raftsim";

static void usage_bench(FILE *f)
{
    cli_bench_usage(f, prog);
}

static int bad_value(const char *cmd, const char *opt, const char *val,
                     const char *why)
{
    return cli_bad_value(prog, cmd, opt, val, why);
}

static int parse_range(const char *arg, uint64_t *lo, uint64_t *hi,
                       const char **err)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", arg);
    char *dash = strchr(buf, '-');
    if (!dash) {
        *err = "expected MIN-MAX, e.g. 150ms-300ms";
        return -1;
    }
    *dash = '\0';
    if (util_parse_duration_us(buf, lo, err) ||
        util_parse_duration_us(dash + 1, hi, err))
        return -1;
    if (*lo < 2000 || *hi < *lo) {
        *err = "need 2ms <= MIN <= MAX";
        return -1;
    }
    return 0;
}

/* The options bench failover and bench switchover share: each returns 0
 * or, having said what is wrong, 2. */
static int bench_trials(const char *cmd, const char *arg, int max, int *out)
{
    uint64_t u;
    if (util_parse_u64(arg, &u) || u < 1 || u > (uint64_t)max) {
        char why[48];
        snprintf(why, sizeof(why), "expected 1 to %d", max);
        return bad_value(cmd, "trials", arg, why);
    }
    *out = (int)u;
    return 0;
}

static int bench_latency(const char *cmd, const char *arg, uint64_t *out)
{
    const char *err;
    if (util_parse_duration_us(arg, out, &err))
        return bad_value(cmd, "latency", arg, err);
    if (*out > 1000000)
        return bad_value(cmd, "latency", arg, "at most 1s");
    return 0;
}

static int bench_seed(const char *cmd, const char *arg, uint64_t *out)
{
    if (util_parse_u64(arg, out))
        return bad_value(cmd, "seed", arg, "expected a non-negative integer");
    return 0;
}

static int cmd_bench_failover(int argc, char **argv)
{
    static const char *cmd = "bench failover";
    static const uint64_t paper_ms[][2] = {{150, 150}, {150, 151},
                                           {150, 155}, {150, 175},
                                           {150, 200}, {150, 300},
                                           {12, 24}};
    struct bench_failover_opts o;
    memset(&o, 0, sizeof(o));
    o.trials = 50;
    o.prevote = true;
    o.fast_detect = true;
    o.heartbeat_us = 50000;
    o.crash_kinds = BENCH_CRASH_KILL | BENCH_CRASH_SILENT;
    o.policy = RAFT_ELECT_HIGHEST_LSN;
    o.seed = 1;
    for (size_t i = 0; i < sizeof(paper_ms) / sizeof(paper_ms[0]); i++) {
        o.ranges[i][0] = paper_ms[i][0] * 1000;
        o.ranges[i][1] = paper_ms[i][1] * 1000;
        o.n_ranges++;
    }
    static const struct option opts[] = {
        {"trials", required_argument, 0, 't'},
        {"ranges", required_argument, 0, 'r'},
        {"latency", required_argument, 0, 'l'},
        {"no-prevote", no_argument, 0, 'P'},
        {"heartbeat", required_argument, 0, 'H'},
        {"crash", required_argument, 0, 'C'},
        {"no-fast-detect", no_argument, 0, 'F'},
        {"election", required_argument, 0, 'e'},
        {"seed", required_argument, 0, 's'},
        {"csv", required_argument, 0, 'c'},
        {"processes", no_argument, 0, 'X'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_getopt_begin();
    int ch;
    const char *err;
    const char *hb_arg = NULL;
    while ((ch = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 't':
            if (bench_trials(cmd, optarg, 100000, &o.trials))
                return 2;
            break;
        case 'r': {
            o.n_ranges = 0;
            char buf[512];
            snprintf(buf, sizeof(buf), "%s", optarg);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ",", &save); tok;
                 tok = strtok_r(NULL, ",", &save)) {
                if (o.n_ranges == BENCH_MAX_RANGES)
                    return bad_value(cmd, "ranges", optarg,
                                     "at most 16 ranges");
                if (parse_range(tok, &o.ranges[o.n_ranges][0],
                                &o.ranges[o.n_ranges][1], &err))
                    return bad_value(cmd, "ranges", tok, err);
                o.n_ranges++;
            }
            if (!o.n_ranges)
                return bad_value(cmd, "ranges", optarg,
                                 "no range given");
            break;
        }
        case 'l':
            if (bench_latency(cmd, optarg, &o.latency_us))
                return 2;
            break;
        case 'P':
            o.prevote = false;
            break;
        case 'H':
            hb_arg = optarg;
            if (!strcmp(optarg, "half")) {
                o.heartbeat_us = 0;
                break;
            }
            if (util_parse_duration_us(optarg, &o.heartbeat_us, &err))
                return bad_value(cmd, "heartbeat", optarg, err);
            if (o.heartbeat_us == 0 || o.heartbeat_us > 10000000)
                return bad_value(cmd, "heartbeat", optarg,
                                 "expected more than 0 and at most 10s, "
                                 "or half");
            break;
        case 'C': {
            o.crash_kinds = 0;
            char buf[64];
            snprintf(buf, sizeof(buf), "%s", optarg);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ",", &save); tok;
                 tok = strtok_r(NULL, ",", &save)) {
                if (!strcmp(tok, "kill"))
                    o.crash_kinds |= BENCH_CRASH_KILL;
                else if (!strcmp(tok, "silent"))
                    o.crash_kinds |= BENCH_CRASH_SILENT;
                else
                    return bad_value(cmd, "crash", tok,
                                     "expected kill, silent or kill,silent");
            }
            if (!o.crash_kinds)
                return bad_value(cmd, "crash", optarg,
                                 "expected kill, silent or kill,silent");
            break;
        }
        case 'F':
            o.fast_detect = false;
            break;
        case 'e':
            if (raft_policy_parse(optarg, &o.policy))
                return bad_value(cmd, "election", optarg,
                                 "expected highest-lsn or raft");
            break;
        case 's':
            if (bench_seed(cmd, optarg, &o.seed))
                return 2;
            break;
        case 'c':
            o.csv_path = optarg;
            break;
        case 'X':
            o.processes = true;
            break;
        case 'h':
            usage_bench(stdout);
            return 0;
        default: /* CLI_OPT_BAD: already said */
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    /* A heartbeat asked for must fit every range asked for. */
    for (int r = 0; hb_arg && o.heartbeat_us && r < o.n_ranges; r++)
        if (o.heartbeat_us >= o.ranges[r][0]) {
            char why[96];
            snprintf(why, sizeof(why),
                     "must be shorter than the range's minimum (%llu ms)",
                     (unsigned long long)(o.ranges[r][0] / 1000));
            return bad_value(cmd, "heartbeat", hb_arg, why);
        }
    return bench_failover(stdout, &o);
}

/* Shared by bench throughput and bench rss: a duration with a unit,
 * more than zero and at most ten minutes. */
static int bench_duration(const char *cmd, const char *opt, const char *arg,
                          uint64_t *out)
{
    const char *err;
    if (util_parse_duration_us(arg, out, &err))
        return bad_value(cmd, opt, arg, err);
    if (*out < 1000 || *out > 600000000)
        return bad_value(cmd, opt, arg, "expected 1ms to 10m");
    return 0;
}

static int bench_nodes(const char *cmd, const char *arg, int *out)
{
    uint64_t u;
    if (util_parse_u64(arg, &u) || u < 1 || u > RAFT_MAX_NODES) {
        char why[48];
        snprintf(why, sizeof(why), "expected 1 to %d", RAFT_MAX_NODES);
        return bad_value(cmd, "nodes", arg, why);
    }
    *out = (int)u;
    return 0;
}

static int cmd_bench_switchover(int argc, char **argv)
{
    static const char *cmd = "bench switchover";
    struct bench_switchover_opts o = {.trials = 50, .nodes = 5,
                                      .election_min_us = 150000,
                                      .election_max_us = 300000, .seed = 1};
    static const struct option opts[] = {
        {"trials", required_argument, 0, 't'},
        {"nodes", required_argument, 0, 'n'},
        {"range", required_argument, 0, 'r'},
        {"latency", required_argument, 0, 'l'},
        {"seed", required_argument, 0, 's'},
        {"pg", no_argument, 0, 'p'},
        {"control", required_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_getopt_begin();
    int ch;
    const char *err;
    bool pg = false, trials_given = false;
    const char *sim_only = NULL; /* an option --pg does not take */
    struct bench_pg_opts po = {.trials = 20};
    while ((ch = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 't':
            if (bench_trials(cmd, optarg, 10000, &o.trials))
                return 2;
            trials_given = true;
            break;
        case 'p':
            pg = true;
            break;
        case 'c':
            po.control = optarg;
            break;
        case 'n':
            sim_only = "--nodes";
            if (bench_nodes(cmd, optarg, &o.nodes))
                return 2;
            if (o.nodes < 2)
                return bad_value(cmd, "nodes", optarg,
                                 "a transfer needs 2 nodes or more");
            break;
        case 'r':
            sim_only = "--range";
            if (parse_range(optarg, &o.election_min_us, &o.election_max_us,
                            &err))
                return bad_value(cmd, "range", optarg, err);
            break;
        case 'l':
            sim_only = "--latency";
            if (bench_latency(cmd, optarg, &o.latency_us))
                return 2;
            break;
        case 's':
            sim_only = "--seed";
            if (bench_seed(cmd, optarg, &o.seed))
                return 2;
            break;
        case 'h':
            usage_bench(stdout);
            return 0;
        default: /* CLI_OPT_BAD: already said */
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    if (pg && sim_only) {
        fprintf(stderr, "%s: %s: %s --pg runs its own cluster (3 nodes, "
                        "the default timeouts, the pair of tools/pg-pair): "
                        "%s is for the simulated one\n",
                prog, cmd, cmd, sim_only);
        return 2;
    }
    if (!pg && po.control) {
        fprintf(stderr, "%s: %s: --control goes with --pg\n", prog, cmd);
        return 2;
    }
    if (pg) {
        if (trials_given)
            po.trials = o.trials;
        return bench_pg_switch(stdout, &po);
    }
    o.heartbeat_us = o.election_min_us / 3;
    return bench_switchover(stdout, &o);
}

static int cmd_bench_throughput(int argc, char **argv)
{
    static const char *cmd = "bench throughput";
    struct bench_throughput_opts o;
    memset(&o, 0, sizeof(o));
    o.nodes = 3;
    o.duration_us = 5000000;
    o.inflight = 256;
    static const struct option opts[] = {
        {"nodes", required_argument, 0, 'n'},
        {"duration", required_argument, 0, 'd'},
        {"inflight", required_argument, 0, 'k'},
        {"snapshot-every", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_getopt_begin();
    int ch;
    uint64_t u;
    while ((ch = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'n':
            if (bench_nodes(cmd, optarg, &o.nodes))
                return 2;
            break;
        case 'd':
            if (bench_duration(cmd, "duration", optarg, &o.duration_us))
                return 2;
            break;
        case 'k':
            if (util_parse_u64(optarg, &u) || u < 1 || u > 100000)
                return bad_value(cmd, "inflight", optarg,
                                 "expected 1 to 100000");
            o.inflight = (int)u;
            break;
        case 's':
            if (util_parse_u64(optarg, &u) || u > 100000000)
                return bad_value(cmd, "snapshot-every", optarg,
                                 "expected 0 to 100000000 entries");
            o.snapshot_every = u;
            break;
        case 'h':
            usage_bench(stdout);
            return 0;
        default: /* CLI_OPT_BAD: already said */
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    return bench_throughput(stdout, &o);
}

static int cmd_bench_rss(int argc, char **argv)
{
    static const char *cmd = "bench rss";
    struct bench_rss_opts o;
    memset(&o, 0, sizeof(o));
    o.nodes = 101;
    o.hold_us = 10000000;
    o.time_scale = 1.0;
    static const struct option opts[] = {
        {"nodes", required_argument, 0, 'n'},
        {"hold", required_argument, 0, 'H'},
        {"time-scale", required_argument, 0, 'x'},
        {"processes", no_argument, 0, 'X'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_getopt_begin();
    int ch;
    double f;
    while ((ch = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'n':
            if (bench_nodes(cmd, optarg, &o.nodes))
                return 2;
            break;
        case 'H':
            if (bench_duration(cmd, "hold", optarg, &o.hold_us))
                return 2;
            break;
        case 'x':
            if (util_parse_double(optarg, &f) || f < 1 || f > 100)
                return bad_value(cmd, "time-scale", optarg,
                                 "expected a number from 1 to 100");
            o.time_scale = f;
            break;
        case 'X':
            o.processes = true;
            break;
        case 'h':
            usage_bench(stdout);
            return 0;
        default: /* CLI_OPT_BAD: already said */
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    return o.processes ? bench_rss_procs(stdout, &o) : bench_rss(stdout, &o);
}

static int cmd_bench_pg(int argc, char **argv)
{
    static const char *cmd = "bench pg-failover";
    struct bench_pg_opts o = {.trials = 10};
    static const struct option opts[] = {
        {"trials", required_argument, 0, 't'},
        {"control", required_argument, 0, 'c'},
        {"detect", no_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_getopt_begin();
    int ch;
    uint64_t u;
    bool trials_given = false;
    while ((ch = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 't':
            if (util_parse_u64(optarg, &u) || u < 1 || u > 1000)
                return bad_value(cmd, "trials", optarg,
                                 "expected a number from 1 to 1000");
            o.trials = (int)u;
            trials_given = true;
            break;
        case 'd':
            o.detect = true;
            break;
        case 'c':
            if (!strstr(optarg, "{action}") || !strstr(optarg, "{server}"))
                return bad_value(cmd, "control", optarg,
                                 "the template needs {action} and {server}");
            o.control = optarg;
            break;
        case 'h':
            usage_bench(stdout);
            return 0;
        default: /* CLI_OPT_BAD: already said */
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    if (o.detect && !trials_given)
        o.trials = 20;
    return o.detect ? bench_pg_detect(stdout, &o) : bench_pg_failover(stdout, &o);
}

static int cmd_bench_health(int argc, char **argv)
{
    static const char *cmd = "bench health";
    struct bench_health_opts o = {.requests = 2000, .concurrency = 50,
                                  .slowloris = 64};
    static const struct option opts[] = {
        {"requests", required_argument, 0, 'r'},
        {"concurrency", required_argument, 0, 'c'},
        {"slowloris", required_argument, 0, 's'},
        {"target", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_getopt_begin();
    int ch;
    uint64_t u;
    while ((ch = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case 'r':
            if (util_parse_u64(optarg, &u) || u < 1 || u > 1000000)
                return bad_value(cmd, "requests", optarg,
                                 "expected a number from 1 to 1000000");
            o.requests = (int)u;
            break;
        case 'c':
            if (util_parse_u64(optarg, &u) || u < 1 || u > 512)
                return bad_value(cmd, "concurrency", optarg,
                                 "expected a number from 1 to 512");
            o.concurrency = (int)u;
            break;
        case 's':
            if (util_parse_u64(optarg, &u) || u > 512)
                return bad_value(cmd, "slowloris", optarg,
                                 "expected a number from 0 to 512");
            o.slowloris = (int)u;
            break;
        case 't':
            o.target = optarg;
            break;
        case 'h':
            usage_bench(stdout);
            return 0;
        default: /* CLI_OPT_BAD: already said */
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    return bench_health(stdout, &o);
}

static int cmd_bench_sim(int argc, char **argv)
{
    static const char *cmd = "bench sim";
    static const struct option opts[] = {
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        if (ch != 'h')
            return 2;
        usage_bench(stdout);
        return 0;
    }
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    return bench_sim(stdout, 600.0, 200);
}

static int cmd_bench_explore(int argc, char **argv)
{
    static const char *cmd = "bench explore";
    enum { O_SECONDS = 256, O_JOBS, O_STARTS };
    static const struct option opts[] = {
        {"seconds", required_argument, 0, O_SECONDS},
        {"jobs", required_argument, 0, O_JOBS},
        {"starts", required_argument, 0, O_STARTS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    uint64_t per = 2000000, u;
    int jobs = 2, starts = 10;
    const char *err = NULL;
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, cmd, argc, argv, "h", opts)) != -1) {
        switch (ch) {
        case O_SECONDS:
            if (util_parse_duration_us(optarg, &per, &err))
                return bad_value(cmd, "seconds", optarg, err);
            if (per < 10000 || per > 600000000)
                return bad_value(cmd, "seconds", optarg,
                                 "expected 10ms to 10min");
            break;
        case O_JOBS:
            if (util_parse_u64(optarg, &u) || u < 1 || u > 1024)
                return bad_value(cmd, "jobs", optarg,
                                 "expected a number of processes, 1 to 1024");
            jobs = (int)u;
            break;
        case O_STARTS:
            if (util_parse_u64(optarg, &u) || u > 100)
                return bad_value(cmd, "starts", optarg,
                                 "expected a number of windows, 0 to 100");
            starts = (int)u;
            break;
        case 'h':
            usage_bench(stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, cmd, argv[optind]);
    return bench_explore(stdout, (double)per / 1e6, jobs, starts);
}

static int cmd_bench_live(int argc, char **argv)
{
    return cli_bench_live(prog, argc, argv);
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} benches[] = {
    {"sim", cmd_bench_sim},
    {"failover", cmd_bench_failover},
    {"switchover", cmd_bench_switchover},
    {"throughput", cmd_bench_throughput},
    {"rss", cmd_bench_rss},
    {"pg-failover", cmd_bench_pg},
    {"live", cmd_bench_live},
    {"explore", cmd_bench_explore},
    {"health", cmd_bench_health},
};

/* `bench` alone is `bench sim`.  Ctrl-C: the benchmark stops at its next
 * step (pg-failover: once the pair is put back), prints what it
 * measured, and the exit status is 130 (143 for SIGTERM). */
int cli_bench(const char *prog_, int argc, char **argv)
{
    prog = prog_;
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage_bench(stdout);
        return 0;
    }
    const char *which = argc < 2 ? "sim" : argv[1];
    for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
        if (strcmp(which, benches[i].name))
            continue;
        char *none[] = {"sim", NULL};
        util_stop_on_signals();
        double t0 = util_wall_s();
        int rc = argc < 2 ? benches[i].fn(1, none)
                          : benches[i].fn(argc - 1, argv + 1);
        if (util_stop_signal && rc != 2) {
            fflush(stdout);
            printf("bench %s: interrupted at t=%.3f s (real)\n", which,
                   util_wall_s() - t0);
            return cli_interrupted_status();
        }
        return rc;
    }
    fprintf(stderr, "%s bench: unknown benchmark '%s' (known: sim, failover, "
            "switchover, throughput, rss, pg-failover, live, explore, health; "
            "see '%s bench --help')\n",
            prog, which, prog);
    return 2;
}

