/*
 * shrink.h — make a failing scenario as small as it can be while it
 * still fails the same way (delta debugging, Zeller and Hildebrandt
 * 2002): `raftsim shrink FILE` and the file `raftsim explore` saves.
 *
 * The failure is the first invariant the checker reports, else the
 * reason of the first failed `expect progress` (Liveness), else the text
 * of the first failed expectation.  Tried, each kept only when the
 * failure survives it: fewer nodes (lines naming a node that is gone are
 * dropped, sets lose it), fewer lines (chunks, then single lines: faults,
 * writes, waits), faults undone earlier (heal, restart, resume, link
 * reset moved towards the line before), random sets of lines (the
 * failure is chaotic under edits: each line that goes moves every later
 * random draw), pairs of neighbouring lines, simpler link and crash
 * lines, set-up lines left to their defaults.  All of that twice from the
 * same start, the second time with `expect violation` moved 3 s later
 * (a failure a little later counts too); the smaller result is kept.
 * Comments go and a new header says what was done.
 */
#ifndef RAFTSIM_SIM_SHRINK_H
#define RAFTSIM_SIM_SHRINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct scn_shrink_opts {
    int max_runs;      /* 0: 5000 */
    double max_wall_s; /* 0: 300 */
};

struct scn_shrink_result {
    char failure[200]; /* "invariant X" | "Liveness REASON" |
                          "expectation failed: LINE" */
    int lines_before, lines_after;   /* lines that are not comments */
    int events_before, events_after; /* commands after the set-up */
    int nodes_before, nodes_after;
    int runs;
    bool budget_hit; /* stopped by max_runs or max_wall_s */
};

/* 0: *out (malloc'd, *out_len bytes) is the smallest text found that
 * fails as text does (maybe text itself, with a new header); 1: text
 * does not fail (said on err); 2: it does not parse (errors on err) or
 * no memory. */
int scn_shrink(const char *name, const char *text, size_t len,
               const struct scn_shrink_opts *o, char **out, size_t *out_len,
               struct scn_shrink_result *res, FILE *err);

#endif
