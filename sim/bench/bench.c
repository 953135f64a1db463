/*
 * bench.c — how fast the virtual-time simulator runs.
 *
 * Steady state: a 5-node cluster, heartbeat 50 ms, election 150-300 ms,
 * 100 client writes/s, no faults, the checker on, no trace: virtual
 * seconds per wall second and messages delivered per wall second.  Then
 * explore's defaults (swarm seeds, the liveness phase): seeds per wall
 * second.  Last, the
 * replication flow under load (bench_flow.c).
 */
#include "sim/bench/bench.h"

#include <stdint.h>

#include "sim/cluster/cluster.h"
#include "sim/cluster/explore.h"
#include "sim/util/util.h"

int bench_sim(FILE *out, double virtual_s, unsigned explore_seeds)
{
    struct sim_options o;
    sim_options_default(&o, 5);
    o.seed = 42;
    struct sim_cluster *c;
    if (sim_cluster_new(&o, &c) != 0)
        return 1;
    uint64_t end = (uint64_t)(virtual_s * 1e6), gap = 10000, k = 0;
    double t0 = util_wall_s();
    for (uint64_t t = gap; t <= end; t += gap) {
        if (!sim_run_until(c, t))
            break;
        char key[16], val[24];
        snprintf(key, sizeof(key), "k%llu", (unsigned long long)(k % 10));
        snprintf(val, sizeof(val), "v%llu", (unsigned long long)k++);
        sim_client_write(c, (int)(k % 3) + 1, 0, key, val);
    }
    double wall = util_wall_s() - t0;
    const struct sim_stats *st = sim_stats(c);
    double vs = (double)sim_now(c) / 1e6;
    fprintf(out, "bench sim: 5 nodes, heartbeat 50ms, election 150-300ms, "
                 "100 writes/s, checker on\n");
    fprintf(out, "  simulated %.0f s in %.3f s wall: %.0fx real time\n", vs,
            wall, vs / wall);
    fprintf(out,
            "  messages delivered: %llu, %.0f messages/s; writes acked "
            "%llu/%llu; violations %llu\n",
            (unsigned long long)st->messages_delivered,
            (double)st->messages_delivered / wall,
            (unsigned long long)st->acked, (unsigned long long)st->writes,
            (unsigned long long)sim_violations(c));
    sim_cluster_free(c);

    struct explore_opts eo;
    explore_opts_default(&eo);
    eo.seeds = explore_seeds;
    struct explore_result r;
    explore_run(&eo, &r);
    fprintf(out,
            "bench explore: 5 nodes, swarm seeds, 10 s + 3 s settle per seed: "
            "%.1f seeds/s (%.0fx real time, %.0f messages/s)\n",
            (double)r.seeds / r.wall_s, r.simulated_s / r.wall_s,
            (double)r.messages / r.wall_s);
    explore_print_summary(out, &r);
    return bench_flow(out);
}
