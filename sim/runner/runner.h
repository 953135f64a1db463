/*
 * runner.h — run a parsed scenario (scenario.h) against a cluster, in
 * virtual time (deterministic, instant) or real time over loopback TCP,
 * narrating what happens and checking the file's expectations.
 */
#ifndef RAFTSIM_SIM_RUNNER_H
#define RAFTSIM_SIM_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/cluster/cluster.h"
#include "sim/scenario/scenario.h"

struct scn_run_opts {
    enum sim_transport transport; /* memory = --clock virtual, tcp = real */
    double time_scale;            /* real clock only */
    bool seed_given;              /* --seed overrides the file's seed */
    uint64_t seed;
    bool step;        /* `step` waits for Enter */
    FILE *step_in;    /* where Enter is read from (NULL: stdin) */
    bool quiet;       /* only say lines, failures and the summary */
    bool verbose;     /* votes, follower appends, commits, client sends */
    bool keep_going;  /* run to the end after a failed expectation */
    bool color;
    FILE *out;        /* narration (NULL: stdout) */
    FILE *trace;      /* JSON Lines trace, or NULL */
    const unsigned char *key; /* real clock: the cluster secret (NULL:
                               * random per run) */
    size_t key_len;
};

void scn_run_opts_default(struct scn_run_opts *o);

struct scn_run_result {
    int expectations, passed, failed;
    uint64_t elections, discarded, writes, acked, acked_lost;
    uint64_t reads, stale_reads;
    uint64_t violations;
    const char *first_violation; /* invariant name, or NULL */
    uint64_t end_us;
    bool setup_error; /* the cluster could not be started */
    bool skipped;     /* `clock virtual` file under the real clock */
};

/* Returns 0 when every expectation held and no unexpected invariant
 * violation happened, 1 otherwise, 2 when the cluster could not start or
 * (real clock) a transport error stopped a node from working. */
int scn_run(const struct scn_program *p, const struct scn_run_opts *o,
            struct scn_run_result *res);

#endif
