/*
 * runner.h — run a parsed scenario (scenario.h) against a cluster, in
 * virtual time (deterministic, instant) or real time over loopback TCP,
 * narrating what happens and checking the file's expectations.
 *
 * The folder sim/runner/ sits on top of sim/scenario (the program),
 * sim/cluster (the cluster it drives) and sim/pg (the mirror); its files
 * call one way (runner_int.h).  Not here: the command line (sim/cli).
 */
#ifndef RAFTSIM_SIM_RUNNER_H
#define RAFTSIM_SIM_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/cluster/cluster.h"
#include "sim/scenario/scenario.h"

struct scn_run_opts {
    enum sim_transport transport; /* memory = --clock virtual, tcp = real */
    double time_scale;            /* real clock only */
    bool seed_given;              /* --seed overrides the file's seed */
    uint64_t seed;
    bool step;        /* `step` waits for Enter */
    FILE *step_in;    /* where Enter is read from (NULL: stdin) */
    bool quiet;       /* only say lines, failures and the summary */
    bool verbose;     /* votes, follower appends, commits, client sends */
    bool keep_going;  /* run to the end after a failed expectation */
    bool color;
    FILE *out;        /* narration (NULL: stdout) */
    FILE *trace;      /* JSON Lines trace, or NULL */
    int min_clients;  /* the cluster has at least this many clients (a
                         live session names new ones as it goes) */
    /* Set-up values the command line put in place of the file's (the
     * caller changed the program; this only labels them in the header). */
    unsigned overridden; /* SCN_OV_* bits */
    /* Real clock: an await or wait that lasts over a second of wall
     * time shows one updating line on out (a terminal), erased after. */
    bool progress;
    /* Shell commands for the PostgreSQL mirror: a file's mirror-control
     * template runs only with allow_control; control (--mirror-control)
     * replaces any template.  Neither: the built-in tools/pg-pair. */
    bool allow_control;
    const char *control;
    const unsigned char *key; /* real clock: the cluster secret (NULL:
                               * random per run) */
    size_t key_len;
};

enum {
    SCN_OV_ACK = 1u << 0,
    SCN_OV_POLICY = 1u << 1,
    SCN_OV_PREVOTE = 1u << 2,
    SCN_OV_CHECKQUORUM = 1u << 3,
    SCN_OV_ELECTION = 1u << 4,
    SCN_OV_HEARTBEAT = 1u << 5,
    SCN_OV_FAST_DETECT = 1u << 6,
};

void scn_run_opts_default(struct scn_run_opts *o);

struct scn_run_result {
    int expectations, passed, failed;
    uint64_t elections, writes, acked;
    uint64_t discarded, discarded_crash; /* all discards; those of crashes */
    uint64_t acked_lost;    /* acked writes that can no longer commit */
    uint64_t acked_pending; /* acked, not committed when the run stopped */
    uint64_t reads, stale_reads;
    uint64_t violations;
    const char *first_violation; /* invariant name, or NULL */
    /* The first failed `expect progress`: its reason (no-leader,
     * leader-cannot-commit, term-churn), or NULL. */
    const char *liveness;
    char first_failed[200]; /* the first failed line's text, or "" */
    uint64_t end_us;
    bool setup_error; /* the cluster could not be started */
    bool skipped;     /* `clock virtual` file under the real clock */
    bool interrupted; /* a stop signal (util_stop_signal) ended it early */
};

/* Returns 0 when every expectation held and no unexpected invariant
 * violation happened, 1 otherwise, 2 when the cluster could not start or
 * (real clock) a transport error stopped a node from working.  A stop
 * signal ends the run at the next step: "interrupted at t=…" and the
 * summary of what ran are printed, res->interrupted is set. */
int scn_run(const struct scn_program *p, const struct scn_run_opts *o,
            struct scn_run_result *res);

/*
 * The same run one command at a time, for a driver that decides when each
 * command happens (the live session, sim/live).  scn_run is exactly:
 * new, exec of every command in order (until a failure stops the run),
 * finish, free.  Executing `at T CMD` after run_to(T) is the same as
 * executing it at T in a file, which is what makes a live session's
 * export replay to the same trace.
 */
struct scn_runner;
/* Set up the cluster for p (its set-up fields; a first `start SET` is
 * honoured); 0, or 2 with a message on stderr.  p must outlive the runner
 * or be replaced with scn_runner_set_program. */
int scn_runner_new(const struct scn_program *p, const struct scn_run_opts *o,
                   struct scn_runner **out);
/* Run one command of the runner's program (or of one parsed from the same
 * set-up and the same earlier commands) at the current time. */
void scn_runner_exec(struct scn_runner *r, const struct scn_cmd *cmd);
/* Swap in a program whose set-up and first commands are those of the
 * current one, with more commands after them (a re-parse). */
void scn_runner_set_program(struct scn_runner *r, const struct scn_program *p);
void scn_runner_run_to(struct scn_runner *r, uint64_t t_us);
/* Time never passes beyond t_us (0: no horizon): a command that would go
 * further stops there without a verdict, and scn_runner_cut_short says
 * so.  This is how a session shows the exact state at an earlier time. */
void scn_runner_set_horizon(struct scn_runner *r, uint64_t t_us);
bool scn_runner_cut_short(struct scn_runner *r);
/* A failed expectation (without keep_going) or a violation stopped it. */
bool scn_runner_stopped(struct scn_runner *r);
uint64_t scn_runner_now(struct scn_runner *r);
struct sim_cluster *scn_runner_cluster(struct scn_runner *r);
int scn_runner_var(struct scn_runner *r, int var); /* node bound, 0: none */
const char *scn_runner_role_name(struct scn_runner *r, int id);
/* The summary line; returns what scn_run returns. */
int scn_runner_finish(struct scn_runner *r, struct scn_run_result *res);
void scn_runner_free(struct scn_runner *r);

/* A mirrored run with `watch on` (bench pg-failover --detect): the wall
 * times (util_wall_s, monotonic) of the watch's last failed poll that
 * crashed a node, of the last leader the simulation elected and of the
 * last pg_promote that returned; 0 for what has not happened.
 * The last switchover (bench switchover --pg, runner_mirror_switch.c):
 * when its old primary's clean stop began and ended, when its final LSN
 * was read, when the target had replayed it (0: never), and when the old
 * primary was a streaming standby again; how many switched-over servers
 * came back without pg_rewind and how many needed it, over the run. */
struct scn_mirror_marks {
    double detected, elected, promoted;
    uint64_t watch_polls;
    double sw_begin, sw_stopped, sw_final, sw_replayed, sw_followed;
    int sw_no_rewind, sw_rewound;
};
void scn_runner_mirror_marks(struct scn_runner *r,
                             struct scn_mirror_marks *m);

#endif
