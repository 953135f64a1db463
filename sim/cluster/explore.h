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
    EXPLORE_F_DUP = 1u << 5,  /* swarm only: duplicated messages */
    EXPLORE_F_SLOW = 1u << 6, /* swarm only: a slow node (its links) */
    EXPLORE_F_FIXED = 0x1f,   /* the kinds the fixed mix knows */
    EXPLORE_F_ALL = 0x7f,
};

/* Partition shapes swarm may draw (bits of explore_swarm.shapes). */
enum {
    EXPLORE_SHAPE_ISOLATE = 1u << 0, /* one node, often the leader */
    EXPLORE_SHAPE_SPLIT = 1u << 1,   /* two random groups */
    EXPLORE_SHAPE_ONEWAY = 1u << 2,  /* a node hears but cannot speak, or
                                        the reverse */
    EXPLORE_SHAPE_BRIDGE = 1u << 3,  /* partition bridge NODE */
    EXPLORE_SHAPE_RING = 1u << 4,    /* partition ring */
    EXPLORE_SHAPE_TRAP = 1u << 5,    /* isolate leader on append|commit */
    EXPLORE_SHAPE_ALL = 0x3f,
};

/* What one swarm seed drew (explore_swarm_draw): which fault kinds are on
 * and how hard each one hits.  Fixed-mix seeds leave on false. */
struct explore_swarm {
    bool on;
    unsigned kinds;  /* EXPLORE_F_* on for this seed */
    uint8_t weight[7]; /* how often each kind on comes (1, 3 or 9) */
    unsigned shapes; /* EXPLORE_SHAPE_*, when partitions are on */
    uint64_t gap_min_us, gap_max_us; /* between two new faults */
    uint64_t len_min_us, len_max_us; /* how long one fault lasts */
    uint64_t stable_us; /* after a fault heals, no new one for this long */
    unsigned lose_pct;  /* a crash loses the unflushed tail, percent */
    unsigned silent_pct; /* a crash is silent (closes no connection: no
                            fast detection), percent */
    unsigned drop_pct, dup_pct; /* the worst drop / duplication rate */
    uint64_t delay_max_us;      /* the worst added latency */
    uint64_t slow_us;           /* a slow node's extra latency */
    uint64_t disk_us;           /* WAL flush delay */
    double writes_per_s;
    uint64_t election_min_us, election_max_us;
    int core; /* liveness phase: nodes kept up and connected (n: all) */
    uint64_t snap_entries; /* snapshot policy drawn (snapshot_every
                              EXPLORE_SNAP_SWARM), 0: none */
    /* Membership changes (explore_members.c): the initial voters are
     * n1..n<members>, one change every member_gap_us; 0: none */
    int members;
    uint64_t member_gap_us;
    /* Leadership transfers (explore_transfer.c): every transfer_gap_us
     * the leader is asked to hand over to another voter; 0: none */
    uint64_t transfer_gap_us;
};

/* explore_opts.snapshot_every: every seed draws its own policy (swarm). */
#define EXPLORE_SNAP_SWARM UINT64_MAX

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
    bool fast_detect; /* a crash's closed connections are evidence */
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
    /* Swarm testing (default): every seed draws its own fault kinds,
     * rates, write rate, election timeout and stability windows within
     * the bounds above (faults: the kinds it may draw from).  false: the
     * fixed mix of every kind in `faults`, the same for every seed. */
    bool swarm;
    /* Snapshots (Raft §7): every node snapshots every snapshot_every
     * applied entries; EXPLORE_SNAP_SWARM: each swarm seed draws its own
     * policy (none for a quarter of them, else 2 to 500 entries), from a
     * stream of its own, so the other draws stay what they were; 0: no
     * snapshots (default). */
    uint64_t snapshot_every;
    /* Membership changes in safe swarms (--membership swarm): half the
     * seeds start with a smaller configuration and add, promote and
     * remove servers one at a time, from a stream of their own.  Under
     * --unsafe change-two-at-once every seed does, whatever this says. */
    bool membership_swarm;
    /* Leadership transfers in swarm seeds (--transfer swarm): half the
     * seeds ask the leader, now and then, to hand over to another voter
     * (thesis §3.10), from a stream of their own. */
    bool transfer_swarm;
    /* After the faulty part: heal, keep a core majority up and connected,
     * and fail the seed (invariant "Liveness") when within liveness_us
     * (0: 10 election timeouts) no leader is stable or no write commits. */
    bool liveness;
    uint64_t liveness_us;
    /* Run every seed twice and compare the hashes of their traces; a
     * difference is a "Determinism" violation. */
    bool check_determinism;
    /* Events one seed may take (sim_options.max_events; 0:
     * EXPLORE_EVENTS_PER_NODE_S per node and simulated second): a seed
     * that floods the network ends there, counted as over_budget,
     * neither a pass nor a violation. */
    uint64_t max_events;
    /* Called with the first failing seed's schedule before it is saved;
     * returns the text to save instead (malloc'd, *out_len bytes), or
     * NULL to save the whole schedule.  NULL: no shrinking.  (The
     * shrinker runs scenarios: it lives above sim/cluster.) */
    char *(*shrink)(void *ctx, const char *name, const char *text,
                    size_t len, size_t *out_len);
    void *shrink_ctx;
};

/* What one seed did: the one function boundary of a seed (explore_one).
 * A driver that runs seeds elsewhere (another process, another host)
 * needs only this to merge results. */
struct explore_seed_result {
    uint64_t seed;
    bool violated;           /* a safety, liveness or determinism failure */
    struct sim_violation v;  /* the first one: invariant, detail, t, nodes */
    uint64_t violations;     /* checker violations (stops at 1) + liveness */
    uint64_t trace_hash;     /* FNV-1a of the seed's trace; 0: no trace */
    struct explore_swarm params;
    uint64_t acked_lost, elections, messages, writes, acked, end_us;
    uint64_t transfers; /* transfers a leader took on (sim_transfer 0) */
    bool no_leader_at_end;
    bool setup_failed;       /* tcp: the cluster could not listen */
    bool liveness_failed;    /* v is a Liveness violation */
    bool nondeterministic;   /* v is a Determinism violation */
    bool history_failed;     /* --history: it could not be written */
    bool over_budget;        /* stopped at o->max_events */
    uint64_t transport_errors;
    char transport_error[280];
};

struct explore_result {
    uint64_t seeds, violations, failed_seeds, acked_lost, elections;
    uint64_t messages, writes, acked, no_leader_at_end, transfers;
    uint64_t liveness_failures, nondeterministic;
    uint64_t over_budget;        /* seeds stopped at max_events */
    uint64_t first_over_budget;  /* the lowest of them (if over_budget) */
    uint64_t setup_failures; /* tcp: a cluster could not listen */
    uint64_t transport_errors; /* tcp: sim_transport_errors, all seeds */
    char first_transport_error[320];
    double simulated_s, wall_s;
    bool have_first;
    uint64_t first_seed;
    struct sim_violation first;
    struct explore_swarm first_params; /* what the first failing seed drew */
    char scenario[512]; /* the replay file written, or "" */
    /* A stop signal (util_stop_signal) ended the run after this seed, at
     * this cluster time of it; the figures above are what ran. */
    bool interrupted;
    uint64_t last_seed, last_end_us;
    bool save_failed;   /* it could not be written (said on stderr) */
    bool shrunk;        /* what was written is the shrunk schedule */
    /* Recording the first failure's schedule ran that seed again, and it
     * did not fail the same way: the run is not deterministic. */
    bool replay_differs;
};

/* explore_opts.max_events 0: this many per node and simulated second of
 * the seed (a seed takes some 500: 5 nodes some 30,000 events, 128 nodes
 * about a million), so 1.3 million at 5 nodes. */
#define EXPLORE_EVENTS_PER_NODE_S 20000

void explore_opts_default(struct explore_opts *o);
/* Parse a --faults list ("partition,crash" or "all"). */
int explore_parse_faults(const char *s, unsigned *out, const char **bad);
/* Run one seed: the result says everything about it.  Nothing is
 * written anywhere but o->trace. */
void explore_one(const struct explore_opts *o, uint64_t seed,
                 struct explore_seed_result *out);
/* The same seed again, recorded as a scenario file's text (malloc'd, or
 * NULL on no memory): set-up, the drawn parameters as comments, every
 * event as an `at T` line, and the check that fails as its last line. */
char *explore_schedule(const struct explore_opts *o, uint64_t seed,
                       size_t *len);
/* Add one seed's result to the totals (the first failure is the one of
 * the lowest seed, whatever order they are added in). */
void explore_add(struct explore_result *res,
                 const struct explore_seed_result *sr);
/* explore_one, twice with check_determinism: a difference between the
 * two runs makes it a "Determinism" violation (nondeterministic). */
void explore_one_checked(const struct explore_opts *o, uint64_t seed,
                         struct explore_seed_result *out);
/* explore_one_checked, adding it to *res. */
void explore_seed(const struct explore_opts *o, uint64_t seed,
                  struct explore_result *res);
/* Write the first failing seed's schedule to o->scenario_out (virtual
 * time only; shrunk first with o->shrink); sets res->scenario, or
 * res->save_failed with a message, and res->replay_differs. */
void explore_save_first(const struct explore_opts *o,
                        struct explore_result *res);
/* Swarm: draw the parameters of a seed; describe them on one line. */
void explore_swarm_draw(const struct explore_opts *o, uint64_t seed,
                        struct explore_swarm *out);
void explore_swarm_text(const struct explore_swarm *w, char *buf,
                        size_t cap);
/* All the seeds, or up to the one during which a stop signal came. */
void explore_run(const struct explore_opts *o, struct explore_result *res);
/* The exact last line: "explore: seeds=K violations=V …". */
void explore_print_summary(FILE *f, const struct explore_result *r);

#endif
