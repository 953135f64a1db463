/*
 * cli.h — subcommands that live outside main.c.
 */
#ifndef RAFTSIM_SIM_CLI_H
#define RAFTSIM_SIM_CLI_H

#include <stdio.h>

/* `raftsim run FILE…`; argv[0] is "run".  Returns the exit status. */
int cli_run(const char *prog, int argc, char **argv);
/* `raftsim pg status|health`; argv[0] is "pg". */
int cli_pg(const char *prog, int argc, char **argv);

#endif
