/*
 * cli_run.c — `raftsim run [OPTIONS] FILE…`: parse every file first (a
 * file with an error runs nothing, exit 2), put the command line's
 * set-up overrides in place of the files' values, then run the files one
 * after another.
 * Exit: 0 all passed, 1 an expectation failed or an invariant broke
 * unexpectedly, 2 bad usage, an unreadable, invalid or empty file, or a
 * cluster that could not start; 130/143 when SIGINT/SIGTERM stopped the
 * run (the trace and the report of what ran are still written).
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/auth.h"
#include "raft/raft.h"
#include "sim/cluster/cluster.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"
#include "sim/util/util.h"

static void usage_run(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s run [OPTIONS] FILE...\n\n"
            "Run scenario files (README: \"Scenario language\"): a narrated "
            "timeline,\nthen a summary.  Every file is parsed before "
            "anything runs.  Options may\ncome before or after the files.\n\n"
            "options:\n"
            "  --clock virtual|real|processes\n"
            "                        virtual (default): deterministic and "
            "instant;\n"
            "                        real: nodes talk over loopback TCP in "
            "real time;\n"
            "                        processes: the same, one OS process "
            "per node\n"
            "                        (`raftsim node`; a crash is SIGKILL)\n"
            "  --seed N              override the file's seed\n"
            "  --time-scale F        real or processes: stretch every duration F "
            "times (10: ten\n"
            "                        times slower, for a class to watch)\n"
            "  --step[=WHEN]         pause at each `step` until Enter; WHEN: "
            "always (the\n"
            "                        default), auto (only when stdin and "
            "stdout are a\n"
            "                        terminal), never\n"
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
            "unless NO_COLOR\n"
            "                        is set and not empty, or TERM=dumb)\n"
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
            "  --key FILE            real or processes: the cluster's secret (16 to "
            "4096 bytes);\n"
            "                        default: random per run\n\n"
            "in place of the file's set-up (the header line marks them):\n"
            "  --ack async|quorum|sync        when a client is told ok\n"
            "  --policy highest-lsn|raft      who may win an election\n"
            "  --prevote on|off               PreVote\n"
            "  --checkquorum on|off           CheckQuorum\n"
            "  --no-fast-detect               no fast detection: a crash's "
            "closed\n"
            "                                 connections are not evidence\n"
            "  --election-timeout MIN-MAX     e.g. 150ms-300ms\n"
            "  --heartbeat D                  e.g. 50ms (shorter than MIN)\n\n"
            "Ctrl-C (SIGTERM) stops the run within 100 ms: \"interrupted at "
            "t=…\", the\nsummary of what ran, the trace and report of it, "
            "exit 130 (143).\n\n"
            "exit status: 0 passed, 1 an expectation failed, 2 bad usage "
            "or an invalid file\n\n"
            "examples:\n"
            "  %s run scenarios/split-brain.scn\n"
            "  %s run scenarios/split-brain.scn --report build/sb.html "
            "--quiet\n"
            "  %s run --ack async scenarios/split-brain.scn --quiet\n"
            "  %s run scenarios/split-brain.scn --clock real --time-scale 2 "
            "--quiet\n"
            "  %s run scenarios/leader-crash.scn --clock processes --quiet\n",
            prog, prog, prog, prog, prog, prog);
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
    O_ACK,
    O_POLICY,
    O_PREVOTE,
    O_CHECKQUORUM,
    O_ETIMEOUT,
    O_HEARTBEAT,
    O_ALLOW_CONTROL,
    O_CONTROL,
    O_KEY,
    O_NOFAST,
};

static const struct option run_long[] = {
    {"clock", required_argument, NULL, O_CLOCK},
    {"seed", required_argument, NULL, O_SEED},
    {"time-scale", required_argument, NULL, O_TSCALE},
    {"step", optional_argument, NULL, O_STEP},
    {"trace", required_argument, NULL, O_TRACE},
    {"quiet", no_argument, NULL, O_QUIET},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"keep-going", no_argument, NULL, O_KEEP},
    {"color", required_argument, NULL, O_COLOR},
    {"mirror", required_argument, NULL, O_MIRROR},
    {"report", required_argument, NULL, O_REPORT},
    {"ack", required_argument, NULL, O_ACK},
    {"policy", required_argument, NULL, O_POLICY},
    {"prevote", required_argument, NULL, O_PREVOTE},
    {"checkquorum", required_argument, NULL, O_CHECKQUORUM},
    {"election-timeout", required_argument, NULL, O_ETIMEOUT},
    {"heartbeat", required_argument, NULL, O_HEARTBEAT},
    {"allow-control", no_argument, NULL, O_ALLOW_CONTROL},
    {"mirror-control", required_argument, NULL, O_CONTROL},
    {"key", required_argument, NULL, O_KEY},
    {"no-fast-detect", no_argument, NULL, O_NOFAST},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int bad(const char *prog, const char *opt, const char *val,
               const char *why)
{
    return cli_bad_value(prog, "run", opt, val, why);
}

/* What the command line puts in place of every file's set-up. */
struct overrides {
    unsigned given; /* SCN_OV_* */
    enum raft_ack_mode ack;
    enum raft_election_policy policy;
    bool prevote, checkquorum;
    uint64_t heartbeat_us, election_min_us, election_max_us;
};

static int on_off(const char *s, bool *out)
{
    if (!strcmp(s, "on"))
        *out = true;
    else if (!strcmp(s, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

/* MIN-MAX, or MIN..MAX as in a scenario file's `election` line. */
static int parse_range(const char *arg, uint64_t *lo, uint64_t *hi,
                       const char **why)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", arg);
    char *sep = strstr(buf, ".."), *rest;
    if (sep)
        rest = sep + 2;
    else if ((sep = strchr(buf, '-')))
        rest = sep + 1;
    else {
        *why = "expected MIN-MAX, e.g. 150ms-300ms";
        return -1;
    }
    *sep = '\0';
    if (util_parse_duration_us(buf, lo, why) ||
        util_parse_duration_us(rest, hi, why))
        return -1;
    if (*lo == 0 || *hi < *lo) {
        *why = "need 0 < MIN <= MAX";
        return -1;
    }
    return 0;
}

/* Put the overrides into a parsed file; the heartbeat must stay shorter
 * than the election timeout, whichever of the two the file set. */
static int apply_overrides(const char *prog, struct scn_program *p,
                           const struct overrides *ov)
{
    if (ov->given & SCN_OV_ACK)
        p->ack = ov->ack;
    if (ov->given & SCN_OV_POLICY)
        p->policy = ov->policy;
    if (ov->given & SCN_OV_PREVOTE)
        p->prevote = ov->prevote;
    if (ov->given & SCN_OV_CHECKQUORUM)
        p->checkquorum = ov->checkquorum;
    if (ov->given & SCN_OV_FAST_DETECT)
        p->fast_detect = false;
    if (ov->given & SCN_OV_HEARTBEAT)
        p->heartbeat_us = ov->heartbeat_us;
    if (ov->given & SCN_OV_ELECTION) {
        p->election_min_us = ov->election_min_us;
        p->election_max_us = ov->election_max_us;
    }
    if (p->heartbeat_us >= p->election_min_us) {
        fprintf(stderr,
                "%s run: %s: the heartbeat (%llu us) must be shorter than "
                "the minimum election timeout (%llu us); see --heartbeat "
                "and --election-timeout\n",
                prog, p->file, (unsigned long long)p->heartbeat_us,
                (unsigned long long)p->election_min_us);
        return -1;
    }
    return 0;
}

/* A file with nothing to run would report "passed 0/0": a mistake. */
static int check_not_empty(const struct scn_program *p)
{
    if (p->n_cmds > 0)
        return 0;
    fprintf(stderr, "%s: error: no commands to run (the file is empty or "
                    "only sets the cluster up)\n",
            p->file);
    return -1;
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
    struct overrides ov;
    memset(&ov, 0, sizeof(ov));
    const char *trace_path = NULL, *color = "auto", *mirror = NULL;
    const char *report_path = NULL, *why = NULL;
    bool step_auto = false;
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, "run", argc, argv, "h", run_long)) != -1) {
        switch (ch) {
        case O_CLOCK:
            if (!strcmp(optarg, "virtual"))
                o.transport = SIM_TRANSPORT_MEMORY;
            else if (!strcmp(optarg, "real"))
                o.transport = SIM_TRANSPORT_TCP;
            else if (!strcmp(optarg, "processes"))
                o.transport = SIM_TRANSPORT_PROCS;
            else
                return bad(prog, "clock", optarg,
                           "use virtual, real or processes");
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
            if (!optarg || !strcmp(optarg, "always"))
                o.step = true, step_auto = false;
            else if (!strcmp(optarg, "auto"))
                step_auto = true;
            else if (!strcmp(optarg, "never"))
                o.step = step_auto = false;
            else
                return bad(prog, "step", optarg, "use always, auto or never");
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
                return cli_bad_value(prog, "run", "mirror-control", optarg,
                                     "the template must contain {action} "
                                     "and {server}");
            o.control = optarg;
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
        case O_MIRROR:
            mirror = optarg;
            break;
        case O_ACK:
            if (raft_ack_mode_parse(optarg, &ov.ack))
                return bad(prog, "ack", optarg, "use async, quorum or sync");
            ov.given |= SCN_OV_ACK;
            break;
        case O_POLICY:
            if (raft_policy_parse(optarg, &ov.policy))
                return bad(prog, "policy", optarg, "use highest-lsn or raft");
            ov.given |= SCN_OV_POLICY;
            break;
        case O_PREVOTE:
            if (on_off(optarg, &ov.prevote))
                return bad(prog, "prevote", optarg, "use on or off");
            ov.given |= SCN_OV_PREVOTE;
            break;
        case O_NOFAST:
            ov.given |= SCN_OV_FAST_DETECT;
            break;
        case O_CHECKQUORUM:
            if (on_off(optarg, &ov.checkquorum))
                return bad(prog, "checkquorum", optarg, "use on or off");
            ov.given |= SCN_OV_CHECKQUORUM;
            break;
        case O_ETIMEOUT:
            if (parse_range(optarg, &ov.election_min_us, &ov.election_max_us,
                            &why))
                return bad(prog, "election-timeout", optarg, why);
            ov.given |= SCN_OV_ELECTION;
            break;
        case O_HEARTBEAT:
            if (util_parse_duration_us(optarg, &ov.heartbeat_us, &why))
                return bad(prog, "heartbeat", optarg, why);
            if (ov.heartbeat_us == 0)
                return bad(prog, "heartbeat", optarg,
                           "must be greater than zero");
            ov.given |= SCN_OV_HEARTBEAT;
            break;
        case 'h':
            usage_run(stdout, prog);
            return 0;
        default: /* CLI_OPT_BAD: already said */
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
    if (o.time_scale != 1.0 && o.transport == SIM_TRANSPORT_MEMORY) {
        fprintf(stderr, "%s run: --time-scale needs --clock real or "
                "processes\n", prog);
        return 2;
    }
    /* A class watching a terminal is paced; a pipe or a CI log is not. */
    if (step_auto)
        o.step = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    o.color = !strcmp(color, "always") ||
              (!strcmp(color, "auto") && cli_color_auto(STDOUT_FILENO));
    o.progress = !o.quiet && isatty(STDOUT_FILENO);
    if (o.key && o.transport == SIM_TRANSPORT_MEMORY) {
        fprintf(stderr, "%s run: --key needs --clock real or processes\n",
                prog);
        return 2;
    }
    o.overridden = ov.given;

    struct scn_program **progs = calloc((size_t)n_files, sizeof(*progs));
    if (!progs)
        return 2;
    int rc = 0;
    for (int i = 0; i < n_files; i++) {
        if (scn_parse_file(argv[optind + i], &progs[i], stderr) != 0) {
            rc = 2;
            continue;
        }
        if (check_not_empty(progs[i]) || apply_overrides(prog, progs[i], &ov) ||
            refuse_control(prog, argv[optind + i], progs[i], &o))
            rc = 2;
        else if (mirror) {
            char err[256];
            if (scn_set_mirror(progs[i], mirror, err, sizeof(err)) != 0) {
                fprintf(stderr, "%s run: bad --mirror for %s: %s\n", prog,
                        argv[optind + i], err);
                rc = 2;
            }
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
        /* the report reads the trace back (util_out files are w+) */
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
    /* From here on Ctrl-C winds the run down instead of killing it. */
    if (rc == 0)
        util_stop_on_signals();
    int passed = 0, ran = 0;
    for (int i = 0; i < n_files && rc != 2 && !util_stop_signal; i++) {
        struct scn_run_result res;
        if (i > 0 && !o.quiet)
            putchar('\n');
        int r = scn_run(progs[i], &o, &res);
        fflush(stdout);
        if (r > rc)
            rc = r;
        passed += r == 0 && !res.interrupted;
        ran++;
    }
    if (n_files > 1 && rc != 2)
        printf("\n%d of %d scenarios passed%s\n", passed, n_files,
               util_stop_signal ? " (interrupted)" : "");
    /* The page shows a failed or interrupted run too: that is when it is
     * most needed. */
    if (report_path && o.trace && rc != 2 && ran > 0) {
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
    if (util_stop_signal && rc != 2)
        return cli_interrupted_status();
    return rc;
}
