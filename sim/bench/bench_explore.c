/*
 * bench_explore.c — `raftsim bench explore`: explore's seeds per second
 * at 3, 5, 9, 33 and 128 nodes, on one worker and on two, the same seeds
 * both times (explore_jobs.h), with the speed-up, and the virtual-time
 * speed per core (simulated seconds per wall second and core).  Swarm
 * seeds (each draws its own fault kinds from all of them), the liveness
 * phase, 10 s + 3 s per seed, quorum acks: explore's defaults.
 */
#include "sim/bench/bench.h"

#include <string.h>

#include "sim/cluster/explore_jobs.h"
#include "sim/util/util.h"

static int run(int nodes, uint64_t seeds, int jobs, struct explore_batch *b)
{
    struct explore_opts o;
    explore_opts_default(&o);
    o.nodes = nodes;
    o.start_seed = 1;
    o.seeds = seeds;
    explore_run_jobs(&o, jobs, b);
    if (util_stop_signal)
        return -1;
    return b->r.seeds == seeds && !b->worker_deaths ? 0 : 1;
}

int bench_explore(FILE *out, double seconds, int max_jobs)
{
    static const int sizes[] = {3, 5, 9, 33, 128};
    int cores = explore_cores();
    if (max_jobs < 1)
        max_jobs = 1;
    fprintf(out,
            "bench explore: swarm seeds (kinds drawn from all), liveness "
            "phase, 10 s + 3 s per seed, quorum; the same seeds on 1 and %d worker(s), %d core(s) here, ~%.1f s per "
            "figure\n"
            "  nodes   seeds   1 job: seeds/s  sim-s/s/core   %d jobs: "
            "seeds/s  sim-s/s/core  speed-up\n",
            max_jobs, cores, seconds, max_jobs);
    int rc = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct explore_batch b1, bn;
        /* how many seeds fill the time on one worker: double a trial
         * run until it takes a fifth of it */
        uint64_t trial = 1;
        double took;
        for (;;) {
            double t0 = util_wall_s();
            if (run(sizes[i], trial, 1, &b1) != 0)
                return util_stop_signal ? 0 : 1;
            took = util_wall_s() - t0;
            if (took >= seconds / 5 || trial >= 1000000)
                break;
            trial *= 2;
        }
        uint64_t seeds =
            (uint64_t)((double)trial * seconds / (took > 1e-6 ? took : 1e-6));
        if (seeds < (uint64_t)max_jobs * 2)
            seeds = (uint64_t)max_jobs * 2;
        if (seeds > 1000000)
            seeds = 1000000;
        if (run(sizes[i], seeds, 1, &b1) != 0 ||
            (max_jobs > 1 && run(sizes[i], seeds, max_jobs, &bn) != 0))
            return util_stop_signal ? 0 : 1;
        if (max_jobs == 1)
            bn = b1;
        double s1 = (double)b1.r.seeds / b1.r.wall_s;
        double sn = (double)bn.r.seeds / bn.r.wall_s;
        fprintf(out,
                "  %5d %7llu   %14.1f  %12.0f   %14.1f  %12.0f     x%.2f\n",
                sizes[i], (unsigned long long)seeds, s1,
                b1.r.simulated_s / b1.r.wall_s, sn,
                bn.r.simulated_s / bn.r.wall_s / bn.jobs, sn / s1);
        /* the split must not show in the figures */
        if (bn.r.violations != b1.r.violations ||
            bn.r.messages != b1.r.messages || bn.sim_us != b1.sim_us) {
            fprintf(out, "  (!) %d nodes: the %d-worker run's totals differ "
                         "from the 1-worker run's\n",
                    sizes[i], max_jobs);
            rc = 1;
        }
        fflush(out);
    }
    /* Still to add: seeds to the first failure for each --unsafe rule,
     * swarm vs the fixed mix (--swarm off), at 3 and 5 nodes (median over
     * 10 start seeds). */
    fprintf(out, "bench explore: swarm vs fixed mix, seeds to the first "
                 "failure per --unsafe rule: not measured here yet\n");
    return rc;
}
