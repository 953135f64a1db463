/*
 * util.h — the bottom of sim/: parsing of numbers and durations, the
 * wall clock, edit distance for did-you-mean, and the stop flag that
 * Ctrl-C sets.  Every folder of sim/
 * may include it; it includes nothing of sim/.  Durations are written
 * with units ("150ms", "2s", "1.5s", "300us"); a bare number is refused
 * so that no one guesses.
 */
#ifndef RAFTSIM_SIM_UTIL_H
#define RAFTSIM_SIM_UTIL_H

#include <signal.h>
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

/* The signal (SIGINT, SIGTERM) that asked the process to stop, or 0.
 * Only the command line's handler sets it (util_stop_on_signals); every
 * loop that can last longer than a moment of wall time (the TCP driver,
 * the scenario runner, explore, the benchmarks) checks it and winds down,
 * so what ran so far is still summed up and written out. */
extern volatile sig_atomic_t util_stop_signal;
/* Install the handler for SIGINT and SIGTERM.  The first signal sets
 * util_stop_signal; a second one kills the process the default way, for a
 * user who does not want to wait. */
void util_stop_on_signals(void);

#endif
