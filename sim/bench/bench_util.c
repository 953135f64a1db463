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
