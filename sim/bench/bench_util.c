/*
 * bench_util.c — the set-up and the percentiles that bench_failover.c,
 * bench_switchover.c and bench_throughput.c share.
 */
#include "sim/bench/bench_util.h"

#include <math.h>
#include <stdlib.h>

void bench_tcp_options(struct sim_options *so, int nodes,
                       uint64_t latency_us)
{
    sim_options_default(so, nodes);
    so->transport = SIM_TRANSPORT_TCP;
    so->link.latency_us = latency_us;
    so->link.jitter_us = 0;
    so->client_latency_us = 0;
    so->n_clients = 1;
}

int bench_first_leader(struct sim_cluster *c, uint64_t seed, uint64_t emin,
                       uint64_t within_us)
{
    int ids[RAFT_MAX_NODES], n = sim_n_nodes(c);
    uint64_t end = sim_now(c) + within_us, next = sim_now(c) + emin / 2;
    for (uint64_t k = seed; sim_now(c) < end; ) {
        if (!sim_run_until(c, sim_now(c) + 1000))
            return 0;
        if (sim_leaders(c, ids) == 1)
            return ids[0];
        if (sim_now(c) >= next) {
            sim_campaign(c, 1 + (int)(k++ % (uint64_t)n));
            next = sim_now(c) + emin;
        }
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_sort(double *v, int n)
{
    if (n > 0)
        qsort(v, (size_t)n, sizeof(double), cmp_double);
}

double bench_pct(const double *v, int n, double p)
{
    if (n == 0)
        return NAN;
    int i = (int)ceil(p * n) - 1;
    return v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}
