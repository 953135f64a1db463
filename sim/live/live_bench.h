/*
 * live_bench.h — `raftsim bench live` (live_bench.c).
 */
#ifndef RAFTSIM_SIM_LIVE_BENCH_H
#define RAFTSIM_SIM_LIVE_BENCH_H

#include <stdio.h>

/* clicks per viewer count; cpu_seconds of wall time for the CPU figure. */
int live_bench(FILE *out, int clicks, double cpu_seconds);

#endif
