/*
 * cli_run.c — `raftsim run FILE…`: parse every file first (a file with an
 * error runs nothing, exit 2), then run them one after another.
 * Exit: 0 all passed, 1 an expectation failed or an invariant broke
 * unexpectedly, 2 bad usage, an unreadable or invalid file, or a cluster
 * that could not start.
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
            "  --mirror NODE=SERVER,...  mirror onto PostgreSQL (as a "
            "`mirror` line;\n"
            "                        SERVER: a or b of tools/pg-pair, or a "
            "connection string)\n"
            "  --allow-control       let a file's `mirror-control` template "
            "run its shell\n"
            "                        commands (refused without this flag)\n"
            "  --mirror-control T    the command that crashes, starts and "
            "rejoins a server,\n"
            "                        with {action} and {server} (replaces "
            "a file's)\n"
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
    O_ALLOW_CONTROL,
    O_CONTROL,
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
    {"allow-control", no_argument, NULL, O_ALLOW_CONTROL},
    {"mirror-control", required_argument, NULL, O_CONTROL},
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

/* A scenario someone downloaded must not run commands just by being run:
 * a file's mirror-control template needs --allow-control (or the user's
 * own template).  Says why and what to do; true when refused. */
static bool refuse_control(const char *prog, const char *path,
                           const struct scn_program *p,
                           const struct scn_run_opts *o)
{
    if (!p->mirror_control || o->allow_control || o->control)
        return false;
    char shown[256];
    util_escape_ctrl(p->mirror_control, shown, sizeof(shown));
    fprintf(stderr,
            "%s run: %s:%d: mirror-control \"%s\" would run shell commands; "
            "a scenario file cannot run commands on its own.\n"
            "  Read the template; if you trust it, run again with "
            "--allow-control, or give\n"
            "  your own with --mirror-control TEMPLATE.\n",
            prog, path, p->mirror_control_line, shown);
    return true;
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
        case O_ALLOW_CONTROL:
            o.allow_control = true;
            break;
        case O_CONTROL:
            if (!strstr(optarg, "{action}") || !strstr(optarg, "{server}"))
                return bad(prog, "mirror-control", optarg,
                           "the template must contain {action} and {server}");
            o.control = optarg;
            break;
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
        else if (refuse_control(prog, argv[optind + i], progs[i], &o))
            rc = 2;
        else if (mirror) {
            char err[256];
            if (scn_set_mirror(progs[i], mirror, err, sizeof(err)) != 0) {
                fprintf(stderr, "%s run: bad --mirror for %s: %s\n", prog,
                        argv[optind + i], err);
                rc = 2;
            }
        }
    struct util_out trace = {0};
    char err[PATH_MAX + 128];
    if (rc == 0 && report_path &&
        util_out_check(report_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s run: %s\n", prog, err);
        rc = 2;
    }
    if (rc == 0 && trace_path) {
        /* "w+": the report reads the trace back */
        if (util_out_open(&trace, trace_path, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s run: %s\n", prog, err);
            rc = 2;
        }
        o.trace = trace.f;
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
    if (trace.f) {
        if (util_out_commit(&trace, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s run: trace lost: %s\n", prog, err);
            rc = 2;
        }
    } else if (o.trace) {
        fclose(o.trace);
    }
    for (int i = 0; i < n_files; i++)
        scn_free(progs[i]);
    free(progs);
    return rc;
}
