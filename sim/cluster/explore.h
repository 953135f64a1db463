/*
 * explore.h — many seeds of random faults and client writes against the
 * virtual-time cluster, each checked by the invariant checker.
 *
 * One seed is one run: `duration` of random faults (partitions, one-way
 * cuts, crashes with or without the unflushed tail, pauses, message drop
 * and duplication, latency spikes) while clients write at a steady rate,
 * then every fault is healed and the cluster gets `settle` to converge
 * before the final check for lost acknowledged writes.  A run stops at its
 * first violation.  The same seed and options always replay the same run.
 */
#ifndef RAFTSIM_SIM_EXPLORE_H
#define RAFTSIM_SIM_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/cluster/cluster.h"

enum {
    EXPLORE_F_PARTITION = 1u << 0,
    EXPLORE_F_CRASH = 1u << 1,
    EXPLORE_F_PAUSE = 1u << 2,
    EXPLORE_F_DROP = 1u << 3,
    EXPLORE_F_DELAY = 1u << 4,
    EXPLORE_F_ALL = 0x1f,
};

struct explore_opts {
    int nodes;
    enum sim_transport transport; /* memory (virtual time) or tcp (real) */
    double time_scale;            /* tcp: stretch every duration */
    const unsigned char *key;     /* tcp: the cluster secret; NULL: random */
    size_t key_len;
    uint64_t seeds, start_seed;
    uint64_t duration_us, settle_us;
    unsigned faults;
    double writes_per_s;
    enum raft_ack_mode ack;
    enum raft_election_policy policy;
    bool prevote, checkquorum;
    unsigned unsafe;
    uint64_t heartbeat_us, election_min_us, election_max_us;
    FILE *trace;    /* every seed's events, or NULL */
    /* Virtual time: the first failing seed's schedule is written here as
     * a scenario file (`%llu` in the name becomes the seed); NULL: no. */
    const char *scenario_out;
    FILE *progress; /* one updating line, or NULL */
    /* Each seed's client writes as a Jepsen history (EDN or JSON Lines,
     * cluster_history.c) into this file (`%llu` becomes the seed), or
     * NULL. */
    const char *history;
    bool history_edn;
};

struct explore_result {
    uint64_t seeds, violations, failed_seeds, acked_lost, elections;
    uint64_t messages, writes, acked, no_leader_at_end;
    uint64_t setup_failures; /* tcp: a cluster could not listen */
    uint64_t transport_errors; /* tcp: sim_transport_errors, all seeds */
    char first_transport_error[320];
    double simulated_s, wall_s;
    bool have_first;
    uint64_t first_seed;
    struct sim_violation first;
    char scenario[512]; /* the replay file written, or "" */
    /* A stop signal (util_stop_signal) ended the run after this seed, at
     * this cluster time of it; the figures above are what ran. */
    bool interrupted;
    uint64_t last_seed, last_end_us;
    bool save_failed;   /* it could not be written (said on stderr) */
};

void explore_opts_default(struct explore_opts *o);
/* Parse a --faults list ("partition,crash" or "all"). */
int explore_parse_faults(const char *s, unsigned *out, const char **bad);
/* Run one seed, adding its figures to *res. */
void explore_seed(const struct explore_opts *o, uint64_t seed,
                  struct explore_result *res);
/* All the seeds, or up to the one during which a stop signal came. */
void explore_run(const struct explore_opts *o, struct explore_result *res);
/* The exact last line: "explore: seeds=K violations=V …". */
void explore_print_summary(FILE *f, const struct explore_result *r);

#endif
