/*
 * cli.h — the command line: main.c reads the first word and hands the
 * rest to one subcommand here.  This folder is the top of sim/: it may
 * include any other folder, and nothing includes it.
 */
#ifndef RAFTSIM_SIM_CLI_H
#define RAFTSIM_SIM_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* `raftsim run FILE…`; argv[0] is "run".  Returns the exit status. */
int cli_run(const char *prog, int argc, char **argv);
/* `raftsim bench …`; argv[0] is "bench". */
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

/* "PROG CMD: bad value 'VAL' for --OPT: WHY" on stderr; returns 2. */
int cli_bad_value(const char *prog, const char *cmd, const char *opt,
                  const char *val, const char *why);
struct option;
/* "PROG CMD: unknown option 'ARG'; did you mean '--x'?" on stderr. */
void cli_unknown_option(const char *prog, const char *cmd, const char *arg,
                        const struct option *opts);

#endif
