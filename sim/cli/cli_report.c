/*
 * cli_report.c — `raftsim report TRACE.jsonl -o OUT.html`, and the
 * `--report` of `raftsim run`: a trace becomes one self-contained HTML
 * page (report.h).  The page is written beside OUT and renamed over it
 * (util_out), so a failure never leaves half a page where the last good
 * one was, and only a regular file is ever replaced.
 * Exit: 0 written, 2 bad usage, an unreadable or invalid trace, or an
 * unwritable output.
 */
#include "sim/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/report/report.h"
#include "sim/util/util.h"

static void usage_report(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s report [--quiet] TRACE.jsonl -o OUT.html\n\n"
            "Write one self-contained HTML page (no network needed) that "
            "shows the run\nin TRACE (from --trace of run or explore): a "
            "Lamport diagram of the\nmessages, role bands, each node's WAL "
            "at any moment, the narration and\nthe expectations.  Open it "
            "in any browser.\n"
            "`%s run FILE --report OUT.html` does the same for one "
            "scenario.\n\n"
            "options:\n"
            "  -o, --output OUT.html  where the page goes (written to "
            "OUT.html.tmp, then\n"
            "                         renamed)\n"
            "  -q, --quiet            no line about what was written\n"
            "  -h, --help             this text\n\n"
            "TRACE.jsonl may be - for standard input.\n"
            "exit status: 0 written, 2 bad usage or an invalid trace\n\n"
            "examples:\n"
            "  %s run scenarios/split-brain.scn --trace build/sb.jsonl "
            "--quiet\n"
            "  %s report build/sb.jsonl -o build/sb.html\n",
            prog, prog, prog, prog);
}

int cli_write_report(const char *prog, FILE *trace, const char *name,
                     const char *out_path, bool quiet)
{
    struct util_out out;
    char err[PATH_MAX + 512];
    if (util_out_open(&out, out_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    struct report_summary sum;
    double t0 = util_wall_s();
    int rc = report_write(trace, name, out.f, &sum, err, sizeof(err));
    if (rc != 0)
        util_out_discard(&out);
    else
        rc = util_out_commit(&out, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    if (!quiet) {
        fprintf(stderr,
                "%s: report %s: %llu trace lines (%llu messages, %d nodes, "
                "%.3f s of cluster time) in %.2f s",
                prog, out_path, (unsigned long long)sum.lines,
                (unsigned long long)sum.messages, sum.nodes,
                (double)sum.end_us / 1e6, util_wall_s() - t0);
        if (sum.skipped)
            fprintf(stderr, "; %llu truncated lines left out",
                    (unsigned long long)sum.skipped);
        fputc('\n', stderr);
    }
    return 0;
}

enum { O_OUT = 'o', O_QUIET = 'q' };

static const struct option report_long[] = {
    {"output", required_argument, NULL, O_OUT},
    {"quiet", no_argument, NULL, O_QUIET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cli_report(const char *prog, int argc, char **argv)
{
    const char *out_path = NULL, *trace_path = NULL;
    bool quiet = false;
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, "report", argc, argv, "o:qh",
                            report_long)) != -1) {
        switch (ch) {
        case O_OUT:
            out_path = optarg;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case 'h':
            usage_report(stdout, prog);
            return 0;
        default: /* CLI_OPT_BAD: already said */
            return 2;
        }
    }
    if (optind < argc)
        trace_path = argv[optind];
    if (optind + 1 < argc) {
        fprintf(stderr, "%s report: one trace file only ('%s' and '%s')\n",
                prog, trace_path, argv[optind + 1]);
        return 2;
    }
    if (!trace_path || !out_path) {
        fprintf(stderr, "%s report: %s\n", prog,
                !trace_path ? "no trace file given"
                            : "no output given (-o OUT.html)");
        usage_report(stderr, prog);
        return 2;
    }
    FILE *in = !strcmp(trace_path, "-") ? stdin : fopen(trace_path, "r");
    if (!in) {
        fprintf(stderr, "%s report: cannot read %s: %s\n", prog, trace_path,
                strerror(errno));
        return 2;
    }
    int rc = cli_write_report(prog, in, trace_path, out_path, quiet);
    if (in != stdin)
        fclose(in);
    return rc;
}
