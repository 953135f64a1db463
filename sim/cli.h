/*
 * cli.h — subcommands that live outside main.c.
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

#endif
