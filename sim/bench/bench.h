/*
 * bench.h — the simulator's benchmarks (`raftsim bench sim`, `make bench`).
 * Figures are printed, never asserted: targets live in the README.
 *
 * The folder sim/bench/ drives sim/cluster (and sim/pg for a real pair's
 * failover; sim/runner and sim/scenario for the mirrored run of bench
 * pg-failover --detect); only the command line (sim/cli) includes it.
 */
#ifndef RAFTSIM_SIM_BENCH_H
#define RAFTSIM_SIM_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "raft/raft.h"

int bench_sim(FILE *out, double virtual_s, unsigned explore_seeds);
/* explore's seeds/s at 3, 5, 9, 33 and 128 nodes on 1 and max_jobs
 * workers (the same seeds), the speed-up, simulated s per wall s and
 * core; about `seconds` per figure (bench_explore.c). */
/* Then, with starts > 0, seeds to the first failure of each --unsafe
 * rule, swarm against the fixed mix, median over `starts` windows; and
 * the peak RSS. */
int bench_explore(FILE *out, double seconds, int max_jobs, int starts);
/* A follower restarted under 30,000 writes/s: entries and bytes sent to
 * it against what it needed, wall time, max RSS (bench_flow.c). */
int bench_flow(FILE *out);

#define BENCH_MAX_RANGES 16

struct bench_failover_opts {
    int trials;
    int n_ranges;
    uint64_t ranges[BENCH_MAX_RANGES][2]; /* election timeout, us */
    uint64_t latency_us;                  /* one-way, added per link */
    bool prevote;
    bool fast_detect;     /* a killed leader's closed sockets are evidence */
    uint64_t heartbeat_us; /* 0: min/2 (the paper's); else this, or min/2
                              for a range whose min is not above it */
    unsigned crash_kinds;  /* BENCH_CRASH_* bits, each measured in turn */
    enum raft_election_policy policy;
    uint64_t seed;
    const char *csv_path; /* one row per trial, or NULL */
    bool processes;       /* one OS process per node, SIGKILL (bench_procs.c) */
};
enum {
    BENCH_CRASH_KILL = 1u << 0,   /* the process dies: its sockets close */
    BENCH_CRASH_SILENT = 1u << 1, /* power loss: stops, sockets stay open */
};

/* Figure 16 of the Raft paper, over real TCP (bench_failover.c). */
int bench_failover(FILE *out, const struct bench_failover_opts *o);

struct bench_switchover_opts {
    int trials;
    int nodes;
    uint64_t heartbeat_us, election_min_us, election_max_us;
    uint64_t latency_us; /* one-way, added per link */
    uint64_t seed;
};

/* Leadership transfer over real TCP: request -> the target leads, and
 * -> its first committed write (bench_switchover.c).  Returns 0, or 1
 * when no leader was elected, no trial succeeded or the checker found a
 * violation. */
int bench_switchover(FILE *out, const struct bench_switchover_opts *o);

/* What bench_throughput measured (for tests; the figures are printed). */
struct bench_throughput_result {
    uint64_t committed;   /* writes acknowledged (quorum: committed) in time */
    double writes_per_s;
    double p50_ms, p99_ms; /* commit latency: submit -> acknowledgement */
    double p999_ms, max_ms;
    uint64_t rss_start_kib, rss_peak_kib, rss_end_kib;
    double bytes_per_write; /* RSS growth over the window / writes sent */
    uint64_t messages_sent;
    uint64_t violations, acked_lost;
};

struct bench_throughput_opts {
    int nodes;            /* 0: 3 */
    uint64_t duration_us; /* 0: 5 s */
    int inflight;         /* client writes outstanding; 0: 256 */
    uint64_t snapshot_every; /* every node snapshots every K applied
                                entries (Raft §7); 0: never */
    struct bench_throughput_result *result; /* filled if not NULL */
};

/* Committed writes per second over loopback TCP, with the core's
 * batching and pipelining (bench_throughput.c).  Returns 0, or 1 when no
 * leader was elected, nothing committed or the checker found a
 * violation (with a message on out). */
int bench_throughput(FILE *out, const struct bench_throughput_opts *o);

struct bench_rss_result {
    uint64_t elections_during_hold; /* role changes to leader */
    uint64_t term_start, term_end;
    uint64_t peak_rss_kib, rss_kib;
    uint64_t violations;
};

struct bench_rss_opts {
    int nodes;          /* 0: 101 */
    uint64_t hold_us;   /* wall-clock time to hold the leader; 0: 10 s */
    double time_scale;  /* stretch heartbeat and election timers; 0: 1 */
    struct bench_rss_result *result; /* filled if not NULL */
    bool processes;     /* one OS process per node (bench_procs.c) */
};

/* Memory of a TCP cluster holding a stable leader (bench_throughput.c).
 * Returns 0, or 1 when the descriptor limit is too low for the cluster,
 * no leader was elected or the checker found a violation. */
int bench_rss(FILE *out, const struct bench_rss_opts *o);
/* The same with one `raftsim node` process per node: the RSS of every
 * node process and of the runner, added up (bench_procs.c). */
int bench_rss_procs(FILE *out, const struct bench_rss_opts *o);

struct bench_pg_opts {
    int trials;
    const char *control; /* "tools/pg-pair {action} {server}" if NULL */
    bool detect;         /* --detect: bench_pg_detect */
};
/* A real PostgreSQL pair's failover once decided (bench_pg.c). */
int bench_pg_failover(FILE *out, const struct bench_pg_opts *o);
/* A real failure detected end to end: SIGKILL of the primary in a
 * mirrored cluster run with `watch on`, kill -> first write, its
 * detection, election and promote shares, and the count of probe rounds
 * in which two servers accepted writes (bench_pg_detect.c). */
int bench_pg_detect(FILE *out, const struct bench_pg_opts *o);
/* A planned switchover in a mirrored cluster run (bench switchover
 * --pg): leadership transfers alternating between a's and b's nodes,
 * request -> the first write committed on the new primary, its stop,
 * final LSN, replay, election and promote shares, the old primary's
 * follow without pg_rewind, and the count of probe rounds in which two
 * servers accepted writes (bench_pg_switch.c).  Returns 0, or 1 when a
 * trial failed, a server needed pg_rewind or two servers took writes in
 * one round. */
int bench_pg_switch(FILE *out, const struct bench_pg_opts *o);

struct bench_health_opts {
    int requests;       /* 0: 2000 */
    int concurrency;    /* client threads; 0: 50 */
    int slowloris;      /* slow connections held open; 0: none */
    const char *target; /* "HOST:PORT" of a running endpoint; NULL: one in
                         * this process over the tools/pg-pair servers */
};
/* GET /health/db latency under concurrent clients, and a real GET while
 * slowloris connections are open (bench_health.c). */
int bench_health(FILE *out, const struct bench_health_opts *o);

#endif
