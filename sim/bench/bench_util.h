/*
 * bench_util.h — what the benchmarks over loopback TCP share (internal
 * to sim/bench/; the command line includes bench.h only).
 */
#ifndef RAFTSIM_SIM_BENCH_UTIL_H
#define RAFTSIM_SIM_BENCH_UTIL_H

#include <stdint.h>

#include "sim/cluster/cluster.h"

/* sim_options_default for `nodes` nodes, then: real TCP on loopback,
 * `latency_us` one-way on every link and no jitter, one client inside
 * the process (no client latency).  The caller sets timers after. */
void bench_tcp_options(struct sim_options *so, int nodes,
                       uint64_t latency_us);

/* Sort n samples ascending, for bench_pct. */
void bench_sort(double *v, int n);

/* Nearest-rank percentile p (0..1) of n sorted samples; NAN when n is 0
 * (p = 0 is the minimum, 1 the maximum). */
double bench_pct(const double *v, int n, double p);

#endif
