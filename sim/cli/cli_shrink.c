/*
 * cli_shrink.c — `raftsim shrink FILE.scn`: the smallest scenario that
 * still fails as FILE does (sim/runner/shrink.h), and the same for the
 * schedule `raftsim explore` saves.
 * Exit: 0 written, 1 FILE does not fail, 2 bad usage, a file that does
 * not parse or cannot be read or written.
 */
#include "sim/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sim/runner/shrink.h"
#include "sim/util/util.h"

static void usage_shrink(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s shrink [OPTIONS] FILE.scn\n\n"
            "Delta-debug a failing scenario: drop nodes, lines (faults, "
            "writes, waits)\n"
            "and time (heal, restart and resume earlier) while the run still "
            "fails the\n"
            "same way: the same invariant violated, the same Liveness reason "
            "of\n"
            "`expect progress`, or the same expectation failed.  Writes the "
            "smallest\n"
            "file found, with a header and a `say` line naming what "
            "remains, and\n"
            "prints before -> after.  `%s explore` does this to the first "
            "failing\n"
            "seed before saving it (--no-shrink: not).\n\n"
            "options:\n"
            "  -o, --output OUT.scn  where it goes (default FILE with "
            ".scn replaced by\n"
            "                        .shrunk.scn)\n"
            "  --max-runs N          stop after N trial runs (default "
            "5000)\n"
            "  -q, --quiet           no line about what was done\n"
            "  -h, --help            this text\n\n"
            "exit status: 0 written, 1 FILE does not fail, 2 bad usage, "
            "unreadable,\n"
            "invalid or unwritable\n\n"
            "examples:\n"
            "  %s explore --nodes 3 --seeds 300 --quiet --unsafe vote-any "
            "--no-shrink --save build/va.scn\n"
            "  %s shrink build/va.scn -o build/va-small.scn\n"
            "  %s run --clock virtual build/va-small.scn\n",
            prog, prog, prog, prog, prog);
}

char *cli_shrink_buf(const char *prog, const char *name, const char *text,
                     size_t len, int max_runs, bool quiet, size_t *out_len,
                     int *rc)
{
    struct scn_shrink_opts so = {.max_runs = max_runs};
    struct scn_shrink_result res;
    char *small = NULL;
    double t0 = util_wall_s();
    *rc = scn_shrink(name, text, len, &so, &small, out_len, &res, stderr);
    if (*rc != 0)
        return NULL;
    if (!quiet)
        fprintf(stderr,
                "%s: shrunk %s: %d -> %d lines, %d -> %d commands, %d -> %d "
                "nodes in %d runs (%.1f s%s); it still fails: %s\n",
                prog, name, res.lines_before, res.lines_after,
                res.events_before, res.events_after, res.nodes_before,
                res.nodes_after, res.runs, util_wall_s() - t0,
                res.budget_hit ? ", stopped by the budget" : "",
                res.failure);
    return small;
}

int cli_shrink_text(const char *prog, const char *name, const char *text,
                    size_t len, const char *out_path, int max_runs,
                    bool quiet)
{
    size_t slen = 0;
    int rc;
    char *small =
        cli_shrink_buf(prog, name, text, len, max_runs, quiet, &slen, &rc);
    if (!small)
        return rc;
    struct util_out out;
    char err[PATH_MAX + 256];
    if (util_out_open(&out, out_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s shrink: %s\n", prog, err);
        free(small);
        return 2;
    }
    fwrite(small, 1, slen, out.f); /* checked at commit */
    free(small);
    if (util_out_commit(&out, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s shrink: %s\n", prog, err);
        return 2;
    }
    if (!quiet)
        fprintf(stderr, "%s: wrote %s; replay: %s run --clock virtual %s\n",
                prog, out_path, prog, out_path);
    return 0;
}

enum { O_OUT = 'o', O_QUIET = 'q', O_MAXRUNS = 256 };

static const struct option shrink_long[] = {
    {"output", required_argument, 0, O_OUT},
    {"max-runs", required_argument, 0, O_MAXRUNS},
    {"quiet", no_argument, 0, O_QUIET},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

int cli_shrink(const char *prog, int argc, char **argv)
{
    const char *out_path = NULL;
    bool quiet = false;
    int max_runs = 0;
    uint64_t u;
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, "shrink", argc, argv, "o:qh",
                            shrink_long)) != -1) {
        switch (ch) {
        case O_OUT:
            out_path = optarg;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_MAXRUNS:
            if (util_parse_u64(optarg, &u) || u < 1 || u > 10000000)
                return cli_bad_value(prog, "shrink", "max-runs", optarg,
                                     "expected a number of runs from 1 to "
                                     "10000000");
            max_runs = (int)u;
            break;
        case 'h':
            usage_shrink(stdout, prog);
            return 0;
        default:
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s shrink: which scenario file? (see '%s shrink "
                        "--help')\n",
                prog, prog);
        return 2;
    }
    if (optind + 1 < argc)
        return cli_unexpected(prog, "shrink", argv[optind + 1]);
    const char *path = argv[optind];
    char def[PATH_MAX];
    if (!out_path) {
        size_t n = strlen(path);
        if (n > 4 && !strcmp(path + n - 4, ".scn"))
            snprintf(def, sizeof(def), "%.*s.shrunk.scn", (int)(n - 4), path);
        else
            snprintf(def, sizeof(def), "%s.shrunk.scn", path);
        out_path = def;
    }
    char err[PATH_MAX + 256];
    if (util_out_check(out_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s shrink: %s\n", prog, err);
        return 2;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s shrink: cannot read %s: %s\n", prog, path,
                strerror(errno));
        return 2;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            char *b = realloc(text, cap = cap ? cap * 2 : 65536);
            if (!b) {
                free(text);
                fclose(f);
                fprintf(stderr, "%s shrink: out of memory\n", prog);
                return 2;
            }
            text = b;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        fprintf(stderr, "%s shrink: cannot read %s\n", prog, path);
        return 2;
    }
    int rc = cli_shrink_text(prog, path, text, len, out_path, max_runs,
                             quiet);
    free(text);
    return rc;
}
