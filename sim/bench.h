/*
 * bench.h — the simulator's benchmarks (`raftsim bench sim`, `make bench`).
 * Figures are printed, never asserted: targets live in the README.
 */
#ifndef RAFTSIM_SIM_BENCH_H
#define RAFTSIM_SIM_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "raft/raft.h"

int bench_sim(FILE *out, double virtual_s, unsigned explore_seeds);

#define BENCH_MAX_RANGES 16

struct bench_failover_opts {
    int trials;
    int n_ranges;
    uint64_t ranges[BENCH_MAX_RANGES][2]; /* election timeout, us */
    uint64_t latency_us;                  /* one-way, added per link */
    bool prevote;
    enum raft_election_policy policy;
    uint64_t seed;
    const char *csv_path; /* one row per trial, or NULL */
};

/* Figure 16 of the Raft paper, over real TCP (bench_failover.c). */
int bench_failover(FILE *out, const struct bench_failover_opts *o);

#endif
