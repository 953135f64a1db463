/*
 * bench.h — the simulator's benchmarks (`raftsim bench sim`, `make bench`).
 * Figures are printed, never asserted: targets live in the README.
 */
#ifndef RAFTSIM_SIM_BENCH_H
#define RAFTSIM_SIM_BENCH_H

#include <stdio.h>

int bench_sim(FILE *out, double virtual_s, unsigned explore_seeds);

#endif
