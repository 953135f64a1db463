/*
 * cli.h — the command line: main.c reads the first word and hands the
 * rest to one subcommand here.  This folder is the top of sim/: it may
 * include any other folder, and nothing includes it.
 */
#ifndef RAFTSIM_SIM_CLI_H
#define RAFTSIM_SIM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct option;

/* Every subcommand follows the GNU conventions (cli_util.c): options
 * anywhere among the operands, --opt=value or --opt value, `--` ends the
 * options, -h/--help prints the help on stdout and exits 0.
 * Exit status everywhere: 0 success, 1 the run found a problem, 2 bad
 * usage, 128+N when signal N (SIGINT, SIGTERM) interrupted it. */

/* `raftsim run FILE…`; argv[0] is "run".  Returns the exit status. */
int cli_run(const char *prog, int argc, char **argv);
/* `raftsim explore …`; argv[0] is "explore". */
int cli_explore(const char *prog, int argc, char **argv);
/* cli_explore_repro.c: the command that replays seed `seed` alone with
 * the options in o (struct explore_opts, sim/cluster/explore.h), and the
 * first failure of r as explore prints it on stderr. */
struct explore_opts;
struct explore_result;
void cli_explore_repro(FILE *out, const char *prog,
                       const struct explore_opts *o, uint64_t seed);
void cli_explore_print_first(const char *prog, const struct explore_opts *o,
                             const struct explore_result *r);
/* `raftsim explore-merge FILE…`; argv[0] is "explore-merge". */
int cli_explore_merge(const char *prog, int argc, char **argv);
/* `raftsim shrink FILE.scn` (cli_shrink.c) */
int cli_shrink(const char *prog, int argc, char **argv);
/* Shrink a failing scenario's text and write the result to out_path,
 * saying before -> after on stderr unless quiet: 0, 1 (it does not fail),
 * 2 (invalid, unwritable).  max_runs 0: the default. */
int cli_shrink_text(const char *prog, const char *name, const char *text,
                    size_t len, const char *out_path, int max_runs,
                    bool quiet);
/* The same, returning the text (malloc'd) instead; NULL with *rc. */
char *cli_shrink_buf(const char *prog, const char *name, const char *text,
                     size_t len, int max_runs, bool quiet, size_t *out_len,
                     int *rc);
/* `raftsim node …` (cli_node.c): one node as its own process. */
int cli_node(const char *prog, int argc, char **argv);
/* `raftsim bench …`; argv[0] is "bench". */
/* The text of `raftsim bench --help` (cli_bench_usage.c). */
void cli_bench_usage(FILE *f, const char *prog);
int cli_bench(const char *prog, int argc, char **argv);
/* `raftsim pg status|health`; argv[0] is "pg". */
int cli_pg(const char *prog, int argc, char **argv);

/* `raftsim report TRACE -o OUT.html`; argv[0] is "report". */
int cli_report(const char *prog, int argc, char **argv);
/* Write the page for the trace read from `trace` (named `name`) to
 * out_path; messages on stderr.  Returns 0 or 2 (the exit status). */
int cli_write_report(const char *prog, FILE *trace, const char *name,
                     const char *out_path, bool quiet);

/* `raftsim serve [FILE]` and `raftsim shell [FILE]` (cli_live.c). */
int cli_serve(const char *prog, int argc, char **argv);
int cli_shell(const char *prog, int argc, char **argv);
/* `raftsim bench live`; argv[0] is "live". */
int cli_bench_live(const char *prog, int argc, char **argv);

/* Call before the first cli_getopt on a new argv. */
void cli_getopt_begin(void);
#define CLI_OPT_BAD (-2)
/* getopt_long with argument permutation and "h" plus shortopts; a missing
 * value ("PROG CMD: --seed: missing value"), an unknown option (with
 * did-you-mean) or a value given to a flag is reported on stderr and
 * returned as CLI_OPT_BAD (exit status 2).  -1 at the end; the operands
 * are then argv[optind…]. */
int cli_getopt(const char *prog, const char *cmd, int argc, char **argv,
               const char *shortopts, const struct option *opts);
/* "PROG CMD: unexpected argument 'ARG'"; returns 2. */
int cli_unexpected(const char *prog, const char *cmd, const char *arg);
/* --color auto: fd is a terminal, NO_COLOR is unset or empty, TERM is not
 * dumb. */
bool cli_color_auto(int fd);
/* Line-buffer stdout when it is not a terminal. */
void cli_line_buffered_stdout(void);
/* 128 + the signal that stopped the run, or 0. */
int cli_interrupted_status(void);

/* "PROG CMD: bad value 'VAL' for --OPT: WHY" on stderr; returns 2. */
int cli_bad_value(const char *prog, const char *cmd, const char *opt,
                  const char *val, const char *why);
/* "PROG CMD: unknown option 'ARG'; did you mean '--x'?" on stderr. */
void cli_unknown_option(const char *prog, const char *cmd, const char *arg,
                        const struct option *opts);

#endif
