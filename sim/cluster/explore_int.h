/*
 * explore_int.h — what the files of explore share: the schedule of one
 * seed being run (explore.c drives it, explore_faults.c draws and undoes
 * its faults, explore_swarm.c draws a swarm seed's parameters,
 * explore_members.c changes the membership).
 */
#ifndef RAFTSIM_SIM_EXPLORE_INT_H
#define RAFTSIM_SIM_EXPLORE_INT_H

#include "raft/prng.h"
#include "sim/cluster/explore.h"

/* Timed undo actions of the schedule. */
enum undo { U_RESTART = 1, U_RESUME, U_HEAL, U_LINKS };

struct pending_undo {
    uint64_t t;
    int kind, node;
};

#define MAX_UNDO 64

struct sched {
    struct sim_cluster *c;
    const struct explore_opts *o;
    const struct explore_swarm *w; /* swarm parameters, or NULL: fixed */
    struct prng rng;
    struct pending_undo undo[MAX_UNDO];
    int n_undo;
    bool partitioned, degraded;
    /* Swarm stability window: no new fault before this time. */
    uint64_t quiet_until;
    /* Traps: cut the leader off the instant it appends a client write, or
     * the instant it commits.  Time-based faults almost never land in
     * those windows, and they are where divergent tails and Figure 8
     * come from. */
    enum sim_trap trap;
    uint64_t trap_heal_after;
    /* The schedule as scenario lines (`at T command`), so a failing seed
     * becomes a file that `raftsim run` replays event for event. */
    char *rec;
    size_t rec_len, rec_cap;
    bool recording;
    uint64_t transfers; /* asked and taken on by a leader */
};

void ex_rec(struct sched *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "at T " prefix: integral microseconds, so the replay is exact. */
void ex_rec_at(struct sched *s);
uint64_t ex_rnd(struct sched *s, uint64_t lo, uint64_t hi);
void ex_trap_hook(void *ctx, struct sim_cluster *c,
                  const struct raft_event *ev);
/* One new fault now (fixed mix or, with s->w, the seed's swarm). */
void ex_random_fault(struct sched *s, uint64_t now);
void ex_run_undo(struct sched *s, struct pending_undo *u);
/* explore_members.c: random membership changes (swarm) */
void ex_members_options(struct sched *s, struct sim_options *so);
void ex_members_header(struct sched *s);
void ex_member_change(struct sched *s);
/* The leader a scenario line would ask: up, not paused, highest term
 * (0: none). */
int ex_leader_now(struct sched *s);
/* explore_transfer.c: a random leadership transfer (swarm) */
void ex_transfer(struct sched *s);

#endif
