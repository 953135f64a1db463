/*
 * util.h — the bottom of sim/: parsing of numbers and durations, the
 * wall clock, edit distance for did-you-mean, the stop flag that Ctrl-C
 * sets, and escaping for the terminal and output files.  Every folder of sim/
 * may include it; it includes nothing of sim/.  Durations are written
 * with units ("150ms", "2s", "1.5s", "300us"); a bare number is refused
 * so that no one guesses.
 */
#ifndef RAFTSIM_SIM_UTIL_H
#define RAFTSIM_SIM_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 0 on success; -1 with *err set to a short reason. */
int util_parse_duration_us(const char *s, uint64_t *out, const char **err);
int util_parse_u64(const char *s, uint64_t *out);
int util_parse_double(const char *s, double *out);
/* Monotonic wall clock in seconds (drivers only; raft/ never calls it). */
double util_wall_s(void);
/* Optimal-string-alignment distance (case-insensitive), for did-you-mean;
 * 99 for words over 63 bytes. */
int util_edit_distance(const char *a, size_t la, const char *b, size_t lb);
/* s made safe for a terminal, into out (always NUL-terminated, cut short
 * with "..." when it does not fit): control bytes (below 0x20 but tab,
 * and 0x7f) and UTF-8 encoded C1 controls (U+0080..U+009F) become \xNN;
 * anything else is kept.  Text from files, peers and
 * servers goes through this before it is printed.  Returns out. */
char *util_escape_ctrl(const char *s, char *out, size_t cap);

/* An output file (util_file.c).  util_out_open refuses a path that exists
 * and is not a regular file (a device, FIFO, directory, /proc or /sys
 * file) and opens a temporary file beside it ("w+": it can be read back);
 * util_out_commit checks every write, then renames it over the path;
 * util_out_discard throws it away.  0, or -1 with "PATH ..." in err. */
struct util_out {
    FILE *f;
    char *path, *tmp;
};
int util_out_open(struct util_out *o, const char *path, char *err,
                  size_t cap);
int util_out_commit(struct util_out *o, char *err, size_t cap);
/* util_out_open's refusal alone, to check a path before a long run. */
int util_out_check(const char *path, char *err, size_t cap);
void util_out_discard(struct util_out *o);

/* All of f read into memory, NUL-terminated (free() it), its length in
 * *len; reading stops once more than max bytes are in (the caller sees
 * *len > max and refuses).  NULL with errno set on a read error or when
 * memory runs out (ENOMEM).  f stays open.  (util_file.c) */
char *util_read_all(FILE *f, size_t max, size_t *len);

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
