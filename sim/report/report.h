/*
 * report.h — turn a JSON Lines trace (README, "Trace format") into one
 * self-contained HTML page: the page's script and style (report_page.html,
 * compiled in) with the trace embedded as one compact JSON array.  The
 * page draws the Lamport diagram, role bands, WAL panel and narration; all
 * this file does is check the trace line by line, so that a bad file fails
 * here with its line number instead of as a blank page in a browser.
 *
 * Not here: reading the trace back into a cluster model (the page does
 * that in its script), or running anything.  The folder sim/report/
 * includes nothing else of sim/.
 */
#ifndef RAFTSIM_SIM_REPORT_H
#define RAFTSIM_SIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The longest trace line accepted (the writer's lines are under 2 KiB). */
#define REPORT_LINE_MAX 65536
/* JSON nesting accepted in a line (traces use 3: groups). */
#define REPORT_DEPTH_MAX 16

struct report_summary {
    uint64_t lines;    /* lines embedded */
    uint64_t skipped;  /* lines the writer marked "truncated" (left out) */
    uint64_t runs;     /* "run" lines */
    uint64_t messages; /* send lines */
    uint64_t end_us;   /* the largest t_us */
    int nodes;         /* the largest node id seen */
};

/* Check one trace line: a JSON object whose first fields are t_us (a
 * whole number), node (a string) and kind (a string).  On success fills
 * *t_us and copies kind (NUL-terminated, cut to kind_len - 1) and returns
 * 0; otherwise returns -1 with a reason in err. */
int report_check_line(const char *line, size_t len, uint64_t *t_us,
                      int *node, char *kind, size_t kind_len, char *err,
                      size_t err_len);

/* Read the trace from `in` (named `name` in messages), write the page to
 * `out`.  Returns 0, or RAFT_EINVAL with "NAME:LINE: reason" in err for a
 * line that is not a trace line or a trace with no lines, or RAFT_ENOMEM.
 * Nothing useful is in `out` after a failure. */
int report_write(FILE *in, const char *name, FILE *out,
                 struct report_summary *sum, char *err, size_t err_len);

/* The embedded page (report_page.html): for tests. */
const char *report_page_template(void);

#endif
