/*
 * live_shell.h — `raftsim shell`: a live session (live.h) at a prompt.
 */
#ifndef RAFTSIM_SIM_LIVE_SHELL_H
#define RAFTSIM_SIM_LIVE_SHELL_H

#include <stdbool.h>
#include <stdio.h>

#include "sim/live/live.h"

/* Read lines from in (a terminal with line editing when tty) until the
 * end or :quit; narration to out.  trace_path / export_path (or NULL):
 * written at the end.  Returns 0 when every expectation held and every
 * line was taken, 1 otherwise, 2 when a file could not be written. */
int live_shell(struct live_session *s, FILE *in, bool tty, FILE *out,
               const char *trace_path, const char *export_path);

#endif
