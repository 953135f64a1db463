/*
 * explore_jobs.h — explore's seeds on every core and over many machines.
 *
 * The unit is explore_one_checked() (explore.h): one seed with one set
 * of options gives one explore_seed_result.  A batch runs a range of
 * seeds, in this process or in worker processes (fork; each result comes
 * back over a pipe), and adds the results up with explore_add() so that
 * the totals and the first failure (the lowest failing seed) depend only
 * on the seeds, never on how they were split: `--jobs 1`, `--jobs 8` and
 * three shards merged all say the same.  The first failure's scenario is
 * saved afterwards by explore_save_first(): that one seed runs again
 * with its schedule recorded (a check of determinism on the way: it must
 * fail the same way), which is shrunk and written.
 *
 * A shard is the I-th of N contiguous shares of the seed range; its
 * result can be written as JSON (explore_json.c) and shard results
 * merged (explore-merge).
 */
#ifndef RAFTSIM_SIM_EXPLORE_JOBS_H
#define RAFTSIM_SIM_EXPLORE_JOBS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/cluster/explore.h"
#include "sim/util/util.h"

/* Sums over a batch, on top of explore_result's. */
struct explore_batch {
    struct explore_result r; /* the sums; r.simulated_s = sim_us / 1e6 */
    uint64_t sim_us;         /* simulated time, summed exactly */
    uint64_t te_seed;        /* the seed of r.first_transport_error */
    /* What the first failing seed drew (explore_swarm_text of
     * r.first_params), "" for a fixed-mix seed; it is all a batch read
     * back from JSON has of them. */
    char first_drew[512];
    int jobs;                /* worker processes used (1: none) */
    /* The seed range asked for as a whole, and the share this batch ran
     * (shard_count 1: all of it). */
    uint64_t range_start, range_seeds;
    uint64_t shard_index, shard_count;
    /* A worker that died (a crash in the simulator): its seed is not in
     * the sums; rerun it alone with --jobs 1 to see the crash. */
    uint64_t worker_deaths, dead_seed;
    int dead_signal;
};

/* The number of cores this process may run on (at least 1). */
int explore_cores(void);

/* The I-th of N contiguous shares of seeds [start, start + seeds):
 * shares differ in size by at most one seed; a share may be empty. */
void explore_shard_range(uint64_t start, uint64_t seeds, uint64_t index,
                         uint64_t count, uint64_t *share_start,
                         uint64_t *share_seeds);

/* Add one seed's result to b (explore_add, plus the exact sums). */
void explore_batch_add(struct explore_batch *b,
                       const struct explore_seed_result *sr);
/* Add another batch's sums (another shard) to b. */
void explore_batch_merge(struct explore_batch *b,
                         const struct explore_batch *other);

/* Run o->start_seed .. o->start_seed + o->seeds - 1 on `jobs` processes
 * (1: here).  o->trace needs jobs == 1.  o->progress, if set, gets one
 * updating line (seeds done, violations, seeds/s, ETA).  A stop signal
 * (util_stop_signal) is passed on to the workers; each ends after the
 * seed it is in and the sums are what ran (b->r.interrupted).  Then, with
 * o->scenario_out set (virtual time), explore_save_first() saves the
 * lowest failing seed's schedule (shrunk with o->shrink). */
void explore_run_jobs(const struct explore_opts *o, int jobs,
                      struct explore_batch *b);

/* --history: seed's file (`%llu` in o->history becomes the seed),
 * opened for writing; -1 with the reason said on stderr. */
int explore_history_open(const struct explore_opts *o, uint64_t seed,
                         struct util_out *out);
/* Write it out (atomically); -1 with the reason said on stderr. */
int explore_history_close(struct util_out *out);

#endif
