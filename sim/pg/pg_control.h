/*
 * pg_control.h — how raftsim acts on a PostgreSQL server it does not own:
 * a command template ("tools/pg-pair {action} {server}") filled in and
 * run as a bounded child process.  Used by the mirror (runner/) and by
 * bench pg-failover; observing a server is pg.h.
 */
#ifndef RAFTSIM_SIM_PG_CONTROL_H
#define RAFTSIM_SIM_PG_CONTROL_H

#include <stddef.h>

/* Run `sh -c cmd` with stdout and stderr appended to log_path (NULL:
 * /dev/null), killed after timeout_s.  Returns its exit status, 124 on a
 * timeout, -1 when it could not start; *ms is how long it took. */
int pgc_run_bounded(const char *cmd, double timeout_s, const char *log_path,
                    double *ms);
/* The same, with stdout (at most cap - 1 bytes) in out as well as in
 * the log: a control command that reports something (`final-lsn`). */
int pgc_run_capture(const char *cmd, double timeout_s, const char *log_path,
                    double *ms, char *out, size_t cap);
/* The default control template: tools/pg-pair next to this binary's
 * build/ directory when it exists (so raftsim works from any directory),
 * else tools/pg-pair relative to the current directory. */
void pgc_default_control(char *out, size_t cap);
/* The directory of the tools/pg-pair lab: $RAFTSIM_PG_DIR (relative to
 * the current directory), else .pg-pair/ at the repo root found as for
 * pgc_default_control, else .pg-pair. */
void pgc_default_dir(char *out, size_t cap);
/* A command template with {action} and {server} filled in. */
void pgc_fill_template(const char *tmpl, const char *action,
                       const char *server, char *out, size_t cap);

#endif
