/*
 * cli_run.c — `raftsim run FILE…`: parse every file first (a file with an
 * error runs nothing, exit 2), then run them one after another.
 * Exit: 0 all passed, 1 an expectation failed or an invariant broke
 * unexpectedly, 2 bad usage, an unreadable or invalid file, or a cluster
 * that could not start.
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/auth.h"
#include "sim/cluster/cluster.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"
#include "sim/util/util.h"

static void usage_run(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s run FILE... [OPTIONS]\n\n"
            "Run scenario files (README: \"Scenario language\"): a narrated "
            "timeline,\nthen a summary.  Every file is parsed before "
            "anything runs.\n\n"
            "options:\n"
            "  --clock virtual|real  virtual (default): deterministic and "
            "instant;\n"
            "                        real: nodes talk over loopback TCP in "
            "real time\n"
            "  --seed N              override the file's seed\n"
            "  --time-scale F        real clock: stretch every duration F "
            "times (10: ten\n"
            "                        times slower, for a class to watch)\n"
            "  --step                pause at each `step` until Enter\n"
            "  --trace FILE          write the JSON Lines trace (one file "
            "only)\n"
            "  --report OUT.html     write the run as one self-contained "
            "HTML page\n"
            "                        (see `report --help`; one file only)\n"
            "  --quiet               only narration (say), failures and the "
            "summary\n"
            "  --verbose             also votes granted, follower appends and "
            "commits\n"
            "  --keep-going          run to the end after a failed "
            "expectation\n"
            "  --color auto|always|never   colour (auto: on a terminal, "
            "unless NO_COLOR)\n"
            "  --key FILE            real clock: the cluster's secret (16 to "
            "4096 bytes);\n"
            "                        default: random per run\n"
            "  --mirror NODE=SERVER,...  mirror onto PostgreSQL (as a "
            "`mirror` line;\n"
            "                        SERVER: a or b of tools/pg-pair, or a "
            "connection string)\n"
            "\nexit status: 0 passed, 1 an expectation failed, 2 bad usage "
            "or an invalid file\n",
            prog);
}

enum {
    O_CLOCK = 256,
    O_SEED,
    O_TSCALE,
    O_STEP,
    O_TRACE,
    O_QUIET,
    O_VERBOSE,
    O_KEEP,
    O_COLOR,
    O_MIRROR,
    O_REPORT,
    O_KEY,
    O_HELP,
};

static const struct option run_long[] = {
    {"clock", required_argument, NULL, O_CLOCK},
    {"seed", required_argument, NULL, O_SEED},
    {"time-scale", required_argument, NULL, O_TSCALE},
    {"step", no_argument, NULL, O_STEP},
    {"trace", required_argument, NULL, O_TRACE},
    {"quiet", no_argument, NULL, O_QUIET},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"keep-going", no_argument, NULL, O_KEEP},
    {"color", required_argument, NULL, O_COLOR},
    {"mirror", required_argument, NULL, O_MIRROR},
    {"report", required_argument, NULL, O_REPORT},
    {"key", required_argument, NULL, O_KEY},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static int bad(const char *prog, const char *opt, const char *val,
               const char *why)
{
    fprintf(stderr, "%s run: bad value '%s' for --%s: %s\n", prog, val, opt,
            why);
    return 2;
}

int cli_run(const char *prog, int argc, char **argv)
{
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    const char *trace_path = NULL, *color = "auto", *mirror = NULL;
    const char *report_path = NULL;
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "+h", run_long, NULL)) != -1) {
        switch (ch) {
        case O_CLOCK:
            if (!strcmp(optarg, "virtual"))
                o.transport = SIM_TRANSPORT_MEMORY;
            else if (!strcmp(optarg, "real"))
                o.transport = SIM_TRANSPORT_TCP;
            else
                return bad(prog, "clock", optarg, "use virtual or real");
            break;
        case O_SEED:
            if (util_parse_u64(optarg, &o.seed) != 0)
                return bad(prog, "seed", optarg, "not a whole number");
            o.seed_given = true;
            break;
        case O_TSCALE:
            if (util_parse_double(optarg, &o.time_scale) != 0 ||
                !(o.time_scale >= 0.01 && o.time_scale <= 1000))
                return bad(prog, "time-scale", optarg,
                           "a factor between 0.01 and 1000");
            break;
        case O_STEP:
            o.step = true;
            break;
        case O_TRACE:
            trace_path = optarg;
            break;
        case O_REPORT:
            report_path = optarg;
            break;
        case O_KEY: {
            static unsigned char key[NET_KEY_MAX];
            char why[512];
            if (net_key_load(optarg, key, &o.key_len, why, sizeof(why)) != 0) {
                fprintf(stderr, "%s run: %s\n", prog, why);
                return 2;
            }
            o.key = key;
            break;
        }
        case O_QUIET:
            o.quiet = true;
            break;
        case O_VERBOSE:
            o.verbose = true;
            break;
        case O_KEEP:
            o.keep_going = true;
            break;
        case O_COLOR:
            if (strcmp(optarg, "auto") && strcmp(optarg, "always") &&
                strcmp(optarg, "never"))
                return bad(prog, "color", optarg, "use auto, always or never");
            color = optarg;
            break;
        case 'h':
        case O_MIRROR:
            mirror = optarg;
            break;
        case O_HELP:
            usage_run(stdout, prog);
            return 0;
        default:
            if (optopt)
                fprintf(stderr, "%s run: option '%s' needs a value\n", prog,
                        argv[optind - 1]);
            else {
                cli_unknown_option(prog, "run", argv[optind - 1], run_long);
                return 2;
            }
            fprintf(stderr, "(see '%s run --help')\n", prog);
            return 2;
        }
    }
    int n_files = argc - optind;
    if (n_files < 1) {
        fprintf(stderr, "%s run: no scenario file given\n", prog);
        usage_run(stderr, prog);
        return 2;
    }
    if (trace_path && n_files > 1) {
        fprintf(stderr, "%s run: --trace takes one scenario file\n", prog);
        return 2;
    }
    if (report_path && n_files > 1) {
        fprintf(stderr, "%s run: --report takes one scenario file\n", prog);
        return 2;
    }
    if (o.quiet && o.verbose) {
        fprintf(stderr, "%s run: --quiet and --verbose contradict\n", prog);
        return 2;
    }
    if (o.time_scale != 1.0 && o.transport != SIM_TRANSPORT_TCP) {
        fprintf(stderr, "%s run: --time-scale needs --clock real\n", prog);
        return 2;
    }
    if (o.key && o.transport != SIM_TRANSPORT_TCP) {
        fprintf(stderr, "%s run: --key needs --clock real\n", prog);
        return 2;
    }
    o.color = !strcmp(color, "always") ||
              (!strcmp(color, "auto") && isatty(STDOUT_FILENO) &&
               !getenv("NO_COLOR"));

    struct scn_program **progs = calloc((size_t)n_files, sizeof(*progs));
    if (!progs)
        return 2;
    int rc = 0;
    for (int i = 0; i < n_files; i++)
        if (scn_parse_file(argv[optind + i], &progs[i], stderr) != 0)
            rc = 2;
        else if (mirror) {
            char err[256];
            if (scn_set_mirror(progs[i], mirror, err, sizeof(err)) != 0) {
                fprintf(stderr, "%s run: bad --mirror for %s: %s\n", prog,
                        argv[optind + i], err);
                rc = 2;
            }
        }
    if (rc == 0 && trace_path) {
        /* w+: the report reads the trace back */
        o.trace = fopen(trace_path, report_path ? "w+" : "w");
        if (!o.trace) {
            fprintf(stderr, "%s run: cannot write %s: ", prog, trace_path);
            perror(NULL);
            rc = 2;
        }
    } else if (rc == 0 && report_path) {
        o.trace = tmpfile();
        if (!o.trace) {
            fprintf(stderr, "%s run: cannot make a temporary trace for "
                    "--report: ", prog);
            perror(NULL);
            rc = 2;
        }
    }
    int passed = 0;
    for (int i = 0; i < n_files && rc != 2; i++) {
        struct scn_run_result res;
        if (i > 0 && !o.quiet)
            putchar('\n');
        int r = scn_run(progs[i], &o, &res);
        fflush(stdout);
        if (r > rc)
            rc = r;
        passed += r == 0;
    }
    if (n_files > 1 && rc != 2)
        printf("\n%d of %d scenarios passed\n", passed, n_files);
    /* The page shows a failed run too: that is when it is most needed. */
    if (report_path && o.trace && rc != 2) {
        fflush(o.trace);
        rewind(o.trace);
        if (cli_write_report(prog, o.trace, argv[optind], report_path,
                             o.quiet) != 0)
            rc = 2;
    }
    if (o.trace)
        fclose(o.trace);
    for (int i = 0; i < n_files; i++)
        scn_free(progs[i]);
    free(progs);
    return rc;
}
