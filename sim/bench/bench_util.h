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

/* The first leader of a fresh cluster, or 0 if none within within_us.
 * Every node starts at time 0 with the same timer, so with a fixed
 * election timeout (min = max) the first election is the Raft paper's
 * "no randomness" case (§9.3, Figure 16): all time out together, all
 * win their pre-votes, all vote for themselves, all step down together
 * and restart the same timer, round after round.  A benchmark that
 * waited for that election would count its own set-up as a failed
 * trial.  So at emin/2, before any timer fires (and, on loopback,
 * usually after the connections are up), node 1 + seed % n campaigns
 * (etcd's MsgHup, `campaign` in a scenario): the others, still
 * followers, grant it.  If no leader comes of it (a message dropped
 * before a connection was up), the next node campaigns one emin later:
 * at a fixed timeout, half way between two rounds of split votes. */
int bench_first_leader(struct sim_cluster *c, uint64_t seed, uint64_t emin,
                       uint64_t within_us);

/* Sort n samples ascending, for bench_pct. */
void bench_sort(double *v, int n);

/* Nearest-rank percentile p (0..1) of n sorted samples; NAN when n is 0
 * (p = 0 is the minimum, 1 the maximum). */
double bench_pct(const double *v, int n, double p);

#endif
