/*
 * main.c — the raftsim command line: the first word picks a subcommand
 * (cli_run.c, cli_explore.c, cli_explore_merge.c, cli_bench.c, cli_pg.c,
 * cli_report.c, cli_shrink.c), which parses its own options the GNU way
 * (cli_util.c).
 * Exit codes: 0 success, 1 a run found a violation, 2 bad usage, 130/143
 * when SIGINT/SIGTERM stopped a run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/util/util.h"

#define RAFTSIM_VERSION "0.1.0"

static const char *prog = "raftsim";

static void usage_top(FILE *f)
{
    fprintf(f,
            "raftsim %s — a Raft leader-election simulator for teaching "
            "replication and failover\n\n"
            "usage: %s COMMAND [OPTIONS] [ARGS]\n\n"
            "commands:\n"
            "  run       run scenario files: a narrated timeline of faults, "
            "elections,\n"
            "            client writes and reads, with expectations checked\n"
            "  explore   run many seeds of random faults against a "
            "virtual-time cluster\n"
            "            and check Raft's safety properties after every "
            "event\n"
            "  explore-merge\n"
            "            add up the --json results of explore --shard "
            "runs\n"
            "  bench     benchmarks: simulator speed, failover, throughput, "
            "memory\n"
            "  pg        watch a real PostgreSQL pair: status, GET /health/db\n"
            "  report    a trace as one self-contained HTML page (Lamport "
            "diagram, WALs)\n"
            "  shrink    the smallest scenario that still fails as a failing "
            "one does\n"
            "  serve     a live classroom: the cluster on a web page, acted "
            "on while it runs\n"
            "  shell     the same live session at a terminal prompt\n"
            "  node      one Raft node as its own process (over TCP, with "
            "a key)\n"
            "  help      this text; '%s help COMMAND' or '%s COMMAND --help' "
            "for a command\n"
            "  version   print the version\n\n"
            "Options go anywhere after the command (--opt=value or --opt "
            "value);\n"
            "`--` ends them.  Ctrl-C stops a run: what ran so far is summed "
            "up and\n"
            "written out, and the exit status is 130 (143 for SIGTERM).\n\n"
            "examples:\n"
            "  %s run scenarios/split-brain.scn\n"
            "  %s explore --seeds 200 --quiet\n"
            "  %s help run\n",
            RAFTSIM_VERSION, prog, prog, prog, prog, prog, prog);
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: %s version\n\nPrints the version.\n", prog);
        return 0;
    }
    if (argc > 1)
        return cli_unexpected(prog, "version", argv[1]);
    printf("raftsim %s\n", RAFTSIM_VERSION);
    return 0;
}

typedef int (*cmd_fn)(const char *prog, int argc, char **argv);
static const struct {
    const char *name;
    cmd_fn fn;
} commands[] = {
    {"run", cli_run},         {"explore", cli_explore},
    {"explore-merge", cli_explore_merge},                {"bench", cli_bench},
    {"pg", cli_pg},           {"report", cli_report},   {"serve", cli_serve},
    {"shell", cli_shell},     {"shrink", cli_shrink},   {"node", cli_node},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static int unknown_command(const char *cmd)
{
    static const char *extra[] = {"help", "version"};
    const char *best = NULL;
    int best_d = 3;
    for (size_t i = 0; i < N_COMMANDS + 2; i++) {
        const char *name = i < N_COMMANDS ? commands[i].name
                                          : extra[i - N_COMMANDS];
        int d = util_edit_distance(cmd, strlen(cmd), name, strlen(name));
        if (d < best_d) {
            best_d = d;
            best = name;
        }
    }
    fprintf(stderr, "%s: unknown command '%s'", prog, cmd);
    if (best)
        fprintf(stderr, "; did you mean '%s'?", best);
    fprintf(stderr, "\n(see '%s help')\n", prog);
    return 2;
}

/* `help CMD` is `CMD --help`: one help text per command, never two. */
static int cmd_help(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage_top(stdout);
        return 0;
    }
    if (argc > 2)
        return cli_unexpected(prog, "help", argv[2]);
    if (!strcmp(argv[1], "help")) {
        usage_top(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "version")) {
        char *v[] = {"version", "--help", NULL};
        return cmd_version(2, v);
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            char *v[] = {argv[1], "--help", NULL};
            return commands[i].fn(prog, 2, v);
        }
    return unknown_command(argv[1]);
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage_top(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(prog, argc - 1, argv + 1);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
        return cmd_help(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
        return cmd_version(argc - 1, argv + 1);
    return unknown_command(cmd);
}

/* Output lost on the way to stdout (a full disk, a closed pipe) is an
 * error like any other write error: say so and fail. */
int main(int argc, char **argv)
{
    prog = argv[0];
    cli_line_buffered_stdout();
    int rc = dispatch(argc, argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write standard output: %s\n", prog,
                strerror(errno ? errno : EIO));
        if (rc == 0)
            rc = 2;
    }
    return rc;
}
