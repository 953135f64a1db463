/*
 * bench_explore.c — `raftsim bench explore`: explore's seeds per second
 * at 3, 5, 9, 33 and 128 nodes, on one worker and on two, the same seeds
 * both times (explore_jobs.h), with the speed-up, and the virtual-time
 * speed per core (simulated seconds per wall second and core).  Swarm
 * seeds (each draws its own fault kinds from all of them), the liveness
 * phase, 10 s + 3 s per seed, quorum acks: explore's defaults.  The
 * cost of a delivered message (wall µs over messages, one worker).  Then
 * swarm against the fixed mix: seeds to the first failure of each
 * --unsafe rule at 3 and 5 nodes, the median over `starts` windows of
 * 2,000 seeds (">2000" when a window has none).  Last, the peak RSS of
 * this process and of its workers.
 */
#include "sim/bench/bench.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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

#define FIND_LIMIT 2000

/* Seeds from `start` to the first failing one, counting it (0: none
 * within FIND_LIMIT, or stopped by a signal).  Blocks of seeds, growing,
 * so a rule found at once costs a few seeds; the lowest failing seed of
 * a block is exact whatever the workers. */
static uint64_t to_first(int nodes, bool swarm, unsigned rule,
                         uint64_t start, int jobs, uint64_t *ran)
{
    uint64_t done = 0, block = 16;
    while (done < FIND_LIMIT && !util_stop_signal) {
        struct explore_opts o;
        explore_opts_default(&o);
        o.nodes = nodes;
        o.swarm = swarm;
        o.unsafe = rule;
        o.start_seed = start + done;
        o.seeds = block < FIND_LIMIT - done ? block : FIND_LIMIT - done;
        struct explore_batch b;
        explore_run_jobs(&o, jobs, &b);
        *ran += b.r.seeds;
        if (b.r.have_first)
            return b.r.first_seed - start + 1;
        done += o.seeds;
        block = block * 2 < 256 ? block * 2 : 256;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* "none" (0) sorts last: it is more than any found. */
static void median_text(uint64_t *v, int n, char *buf, size_t cap)
{
    for (int i = 0; i < n; i++)
        if (!v[i])
            v[i] = UINT64_MAX;
    qsort(v, (size_t)n, sizeof(*v), cmp_u64);
    uint64_t m = v[n / 2]; /* the upper median for an even n */
    if (m == UINT64_MAX)
        snprintf(buf, cap, ">%d", FIND_LIMIT);
    else
        snprintf(buf, cap, "%llu", (unsigned long long)m);
}

static int find_table(FILE *out, int jobs, int starts)
{
    static const struct {
        const char *name;
        unsigned bit;
    } rules[] = {{"vote-any", RAFT_UNSAFE_VOTE_ANY},
                 {"commit-old-term", RAFT_UNSAFE_COMMIT_OLD_TERM},
                 {"keep-conflicts", RAFT_UNSAFE_KEEP_CONFLICTS}};
    fprintf(out,
            "bench explore: seeds to the first failure, median over %d "
            "windows of %d seeds (start seeds 1, %d, ...), %d worker(s)\n"
            "  rule              nodes     swarm      fixed mix   (found in: "
            "swarm, fixed)\n",
            starts, FIND_LIMIT, FIND_LIMIT + 1, jobs);
    uint64_t *v[2];
    v[0] = calloc((size_t)starts, sizeof(uint64_t));
    v[1] = calloc((size_t)starts, sizeof(uint64_t));
    int rc = v[0] && v[1] ? 0 : 1;
    double t0 = util_wall_s();
    uint64_t ran = 0;
    for (size_t r = 0; !rc && r < sizeof(rules) / sizeof(*rules); r++) {
        for (int nodes = 3; !rc && nodes <= 5; nodes += 2) {
            char med[2][24];
            int found[2] = {0, 0};
            for (int m = 0; m < 2; m++) {
                for (int k = 0; k < starts; k++) {
                    v[m][k] = to_first(nodes, m == 0, rules[r].bit,
                                       1 + (uint64_t)k * FIND_LIMIT, jobs,
                                       &ran);
                    found[m] += v[m][k] != 0;
                }
                if (util_stop_signal)
                    rc = 1;
                median_text(v[m], starts, med[m], sizeof(med[m]));
            }
            if (rc)
                break;
            fprintf(out, "  %-16s %5d %9s  %11s   (%d/%d, %d/%d)\n",
                    rules[r].name, nodes, med[0], med[1], found[0], starts,
                    found[1], starts);
            fflush(out);
        }
    }
    if (!rc)
        fprintf(out, "  (%llu seeds in %.1f s)\n", (unsigned long long)ran,
                util_wall_s() - t0);
    free(v[0]);
    free(v[1]);
    return rc;
}

int bench_explore(FILE *out, double seconds, int max_jobs, int starts)
{
    static const int sizes[] = {3, 5, 9, 33, 128};
    int cores = explore_cores();
    if (max_jobs < 1)
        max_jobs = 1;
    fprintf(out,
            "bench explore: swarm seeds (kinds drawn from all), liveness "
            "phase, 10 s + 3 s per seed, quorum; the same seeds on 1 and %d worker(s), %d core(s) here, ~%.1f s per "
            "figure\n"
            "  nodes   seeds   1 job: seeds/s  sim-s/s/core  us/msg   %d jobs: "
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
                "  %5d %7llu   %14.1f  %12.0f  %6.2f   %14.1f  %12.0f     "
                "x%.2f\n",
                sizes[i], (unsigned long long)seeds, s1,
                b1.r.simulated_s / b1.r.wall_s,
                b1.r.messages ? b1.r.wall_s * 1e6 / (double)b1.r.messages : 0,
                sn,
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
    if (starts > 0 && find_table(out, max_jobs, starts) != 0)
        return util_stop_signal ? 0 : 1;
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    fprintf(out, "bench explore: peak RSS %.1f MiB (this process), %.1f MiB "
                 "(the largest worker)\n",
            (double)self.ru_maxrss / 1024, (double)kids.ru_maxrss / 1024);
    return rc;
}
