/*
 * util.h — small parsing and timing helpers shared by the CLI, explore
 * and the benchmarks.  Durations are written with units ("150ms", "2s",
 * "1.5s", "300us"); a bare number is refused so that no one guesses.
 */
#ifndef RAFTSIM_SIM_UTIL_H
#define RAFTSIM_SIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 on success; -1 with *err set to a short reason. */
int util_parse_duration_us(const char *s, uint64_t *out, const char **err);
int util_parse_u64(const char *s, uint64_t *out);
int util_parse_double(const char *s, double *out);
/* Monotonic wall clock in seconds (drivers only; raft/ never calls it). */
double util_wall_s(void);
/* Optimal-string-alignment distance (case-insensitive), for did-you-mean;
 * 99 for words over 63 bytes. */
int util_edit_distance(const char *a, size_t la, const char *b, size_t lb);
/* Run `sh -c cmd` with stdout and stderr appended to log_path (NULL:
 * /dev/null), killed after timeout_s.  Returns its exit status, 124 on a
 * timeout, -1 when it could not start; *ms is how long it took. */
int util_run_bounded(const char *cmd, double timeout_s, const char *log_path,
                     double *ms);
/* The default control template: tools/pg-pair next to this binary's
 * build/ directory when it exists (so raftsim works from any directory),
 * else tools/pg-pair relative to the current directory. */
void util_default_control(char *out, size_t cap);
/* A command template with {action} and {server} filled in. */
void util_fill_template(const char *tmpl, const char *action,
                        const char *server, char *out, size_t cap);
/* "PROG CMD: bad value 'VAL' for --OPT: WHY" on stderr; returns 2. */
int util_bad_value(const char *prog, const char *cmd, const char *opt,
                   const char *val, const char *why);
struct option;
/* "PROG CMD: unknown option 'ARG'; did you mean '--x'?" on stderr. */
void util_unknown_option(const char *prog, const char *cmd, const char *arg,
                         const struct option *opts);

#endif
