/*
 * runner_int.h — the scenario runner's private state, shared by its
 * files, which call one way, from the top:
 *   runner.c          the run: set-up, the loop over commands, awaits, say
 *   runner_clients.c  writes and reads      \
 *   runner_expect.c   `expect …`             } one command each
 *   runner_faults.c   links, cuts, life     /
 *   runner_base.c     names, sets, time, verdicts, the event hook
 *   runner_mirror.c   PostgreSQL follows the cluster
 *   runner_say.c      narration of events, the status table, colour
 *   runner_round.c    an election round's answers, for the narration
 *   runner_view.c     what the cluster looks like: leaders, lag, keys
 *   runner_progress.c the updating line during long real-clock waits
 *   runner_member.c   add/promote/remove, its expect and narration
 * The runner drives cluster/ and reads scenario/; nothing below includes
 * it.
 */
#ifndef RAFTSIM_SIM_RUNNER_INT_H
#define RAFTSIM_SIM_RUNNER_INT_H

#include "raft/prng.h"
#include "sim/runner/runner.h"

#define R_MAX_SEEN 64 /* keys whose highest version a client remembers */

struct rclient {
    int sticky;        /* monotonic route: the replica it sticks to */
    uint64_t floor;    /* monotonic route: highest applied LSN read from */
    uint64_t token;    /* ryw route: LSN of its last acknowledged write */
    uint64_t reads, stale, backwards, missed_own;
    struct {
        char key[SCN_KEY_MAX + 1];
        uint64_t version; /* highest LSN of the key it has read */
    } seen[R_MAX_SEEN];
    int n_seen;
};

struct rdiscard {
    int node;
    uint64_t lsn, term;
    char key[SCN_KEY_MAX + 1];
};

/* A node's election round, as its voters answered (runner_round.c). */
struct rround {
    bool on, pre;
    uint64_t ballot; /* the term asked for */
    bool asked[SCN_MAX_NODES + 1]; /* the voters of its configuration */
    bool answered[SCN_MAX_NODES + 1], granted[SCN_MAX_NODES + 1];
    uint8_t reason[SCN_MAX_NODES + 1];
    int rival[SCN_MAX_NODES + 1];
};

struct runner {
    const struct scn_program *p;
    struct scn_run_opts o;
    FILE *out;
    struct sim_cluster *c;
    struct prng rng;
    int n;
    int vars[SCN_MAX_VARS];          /* bound node ids (0: unbound) */
    bool started[SCN_MAX_NODES + 1]; /* `start SET` leaves some out */
    uint8_t role[SCN_MAX_NODES + 1];  /* last role narrated */
    struct rclient cl[SCN_MAX_CLIENTS];
    struct rround round[SCN_MAX_NODES + 1];
    uint64_t nums[SCN_MAX_VARS];     /* let T = term of L */
    /* times each node entered each role (RAFT_FOLLOWER..RAFT_LEADER), and
     * what they and the election count were at each `mark` */
    uint64_t role_count[SCN_MAX_NODES + 1][4];
    uint64_t mark_roles[SCN_MAX_MARKS][SCN_MAX_NODES + 1][4];
    uint64_t mark_elections[SCN_MAX_MARKS];
    /* when the leader of each LSN appended it: lag in seconds */
    uint64_t *app_t, *app_term;
    uint64_t app_cap;
    struct rdiscard *disc;
    size_t n_disc, cap_disc;
    /* consecutive discards of one node are narrated as one line */
    struct {
        bool on;
        int node, reason;
        uint64_t t, lo, hi, term_lo, term_hi;
        char keys[160];
    } dpend;
    /* `write … expect lost`: checked at the end */
    struct {
        int line, widx;
        unsigned outcomes; /* SCN_OUT_BIT set */
        bool negate;
    } lost[256];
    int n_lost;
    int line;                  /* command being run, for messages */
    int expectations, passed, failed;
    uint64_t reads, stale_reads;
    uint64_t violations_told;  /* violations already narrated */
    bool expected_violation;   /* the file has `expect violation` */
    bool halted;               /* the checker stopped the cluster */
    enum scn_trap trap;        /* `isolate leader on …`, armed */
    struct rmirror *mir;       /* `mirror …`: PostgreSQL follows */
    int mirror_failures;       /* mirror steps that failed, pg violations */
    bool stop;                 /* a failure without --keep-going */
    uint64_t horizon_us;       /* time does not pass beyond it (0: none) */
    bool cut_short;            /* the command met the horizon: no verdict */
    const char *liveness_reason; /* the first failed `expect progress` */
    char first_failed[200];      /* source of the first failed line */
    bool interrupted;          /* a stop signal ended the run early */
    /* leadership transfer narration (runner_say.c), per leader: the
     * target in progress (0: none), when it started, whether TimeoutNow
     * went out (told: with the start line already) */
    int xfer_to[SCN_MAX_NODES + 1];
    uint64_t xfer_t0[SCN_MAX_NODES + 1];
    bool xfer_sent[SCN_MAX_NODES + 1], xfer_told[SCN_MAX_NODES + 1];
    struct {                   /* runner_progress.c */
        bool on, shown;
        double wall0_s, drawn_s;
        char label[96];
    } prog;
};

/* runner_view.c */
int rv_leader(struct runner *R);                 /* live leader, max term */
int rv_leader_in(struct runner *R, const bool *in);
int rv_claimants(struct runner *R);              /* up nodes in role leader */
uint64_t rv_last_lsn(struct runner *R, int id);
uint64_t rv_quantity(struct runner *R, enum scn_quantity q, int id);
const char *rv_role_name(struct runner *R, int id); /* incl. down/paused */
/* Newest entry with key at lsn <= bound in id's log: its LSN (0: none). */
uint64_t rv_find_key(struct runner *R, int id, const char *key,
                     uint64_t bound, const char **value);
/* The node with the highest commit LSN: the cluster's committed truth. */
int rv_truth(struct runner *R);
bool rv_committed(struct runner *R, uint64_t lsn, uint64_t term);
bool rv_lost(struct runner *R, uint64_t lsn, uint64_t term);
bool rv_key_committed(struct runner *R, const char *key, int on);
/* Lag of id behind the leader; false without a leader. */
bool rv_lag(struct runner *R, int id, uint64_t *entries, uint64_t *bytes,
            uint64_t *us);
int rv_last_write(struct runner *R, int client, const char *key);
bool rv_compare(uint64_t a, enum scn_cmp cmp, uint64_t b);

/* runner_base.c: names, sets, time, verdicts, events, status */
int r_node_of(struct runner *R, const struct scn_node *nr);
const char *r_src(const struct scn_cmd *cmd);
void r_fail_line(struct runner *R, const struct scn_cmd *cmd, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));
void r_verdict(struct runner *R, const struct scn_cmd *cmd, bool ok, const char *actual);
bool r_resolve(struct runner *R, const struct scn_cmd *cmd, const struct scn_set *set, bool *in);
bool r_one_node(struct runner *R, const struct scn_cmd *cmd, const struct scn_node *nr, int *id);
void r_note_halt(struct runner *R);
void r_run_to(struct runner *R, uint64_t t);
bool r_run_step(struct runner *R, uint64_t deadline);
bool r_serves(struct runner *R, int id);
int r_pick(struct runner *R, const bool *cand);
const char *r_outcome_of(struct runner *R, int widx);
bool r_outcome_matches(struct runner *R, int widx, enum scn_outcome o);
/* Any of a SCN_OUT_BIT set (none of it, with negate). */
bool r_outcomes_match(struct runner *R, int widx, unsigned set, bool negate);
void r_outcomes_text(char *buf, size_t cap, unsigned set, bool negate);
void r_set_text(struct runner *R, char *buf, size_t cap, const bool *in);
void r_hook(void *ctx, struct sim_cluster *c, const struct raft_event *ev);
void r_status(struct runner *R); /* the table, then the mirror's */

/* runner_expect.c, runner_clients.c, runner_faults.c: one command each */
void r_check(struct runner *R, const struct scn_cmd *cmd);
void r_do_write(struct runner *R, const struct scn_cmd *cmd);
void r_do_read(struct runner *R, const struct scn_cmd *cmd);
void r_do_link(struct runner *R, const struct scn_cmd *cmd);
void r_do_partition(struct runner *R, const struct scn_cmd *cmd, bool isolate);
void r_do_cut(struct runner *R, const struct scn_cmd *cmd);
void r_do_heal_links(struct runner *R, const struct scn_cmd *cmd);
void r_do_life(struct runner *R, const struct scn_cmd *cmd);
void r_do_transfer(struct runner *R, const struct scn_cmd *cmd);
void r_do_snapshot(struct runner *R, const struct scn_cmd *cmd);


/* runner_mirror.c */
int rm_start(struct runner *R, char *err, size_t cap);
void rm_free(struct runner *R);
void rm_event(struct runner *R, const struct raft_event *ev);
void rm_crash(struct runner *R, int node);
void rm_crash_refused(struct runner *R, int node);
void rm_restart(struct runner *R, int node);
void rm_net(struct runner *R);  /* links changed */
void rm_flush(struct runner *R); /* carry out what was queued */
void rm_status(struct runner *R);
bool rm_check(struct runner *R, const struct scn_expect *ex, char *actual,
              size_t cap);
int rm_violations(struct runner *R);
/* runner_mirror_read.c: `read` on the real servers (a mirrored run) */
void rm_read(struct runner *R, const struct scn_cmd *cmd);
/* runner_mirror_app.c: `write … on pg SERVER` */
void rm_write_on(struct runner *R, const struct scn_cmd *cmd);
/* `mirror … watch on`: how long the cluster may run between two polls
 * (0: no watch) */
uint64_t rm_watch_slice_us(struct runner *R);

/* runner_words.c: marks, counts since a mark, partition shapes, number
 * variables, the WAL table */
void r_do_mark(struct runner *R, const struct scn_cmd *cmd);
void r_do_shape(struct runner *R, const struct scn_cmd *cmd);
void r_count_role(struct runner *R, const struct raft_event *ev);
bool r_check_words(struct runner *R, const struct scn_cmd *cmd, bool *ok,
                   char *actual, size_t cap); /* false: not one of its kinds */
void r_wal_status(struct runner *R);

/* runner_member.c: membership changes */
void r_do_member(struct runner *R, const struct scn_cmd *cmd);
void rs_config_line(struct runner *R, const struct raft_event *ev);
bool r_check_member(struct runner *R, const struct scn_cmd *cmd, bool *ok,
                    char *actual, size_t cap);
bool r_followed(struct runner *R, int leader); /* a majority follows it */

/* runner_round.c: why an election round failed, in one line */
void rr_begin(struct runner *R, const struct raft_event *ev); /* ROLE */
void rr_vote(struct runner *R, const struct raft_event *ev);  /* VOTE */
void rr_end(struct runner *R, int node);
/* The line for node's open round, which it closes; false when none. */
bool rr_failed_text(struct runner *R, int node, char *out, size_t cap);

/* runner_progress.c: on a terminal, under the real clock, a wait over a
 * second of wall time shows "waiting for a leader… 1.4 s" */
void rp_begin(struct runner *R, const struct scn_cmd *cmd);
void rp_tick(struct runner *R);
void rp_clear(struct runner *R); /* before any other line is printed */
void rp_end(struct runner *R);
/* `wait D`: run the cluster to t, with the line when it takes long. */
void rp_wait(struct runner *R, const struct scn_cmd *cmd, uint64_t t);

/* runner_say.c */
void rs_hook(void *ctx, struct sim_cluster *c, const struct raft_event *ev);
void rs_write_hook(void *ctx, struct sim_cluster *c, int widx);
void rs_flush(struct runner *R); /* pending coalesced discard line */
void rs_line(struct runner *R, int node, const char *color, const char *fmt,
             ...) __attribute__((format(printf, 4, 5)));
void rs_say(struct runner *R, const char *text);
void rs_status(struct runner *R); /* the cluster's table only */
void rs_violations(struct runner *R);
const char *rs_c(struct runner *R, const char *code); /* "" without colour */
void rs_nodeset(char *buf, size_t cap, const bool *in, int n);

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BLUE "\033[34m"
#define C_MAGENTA "\033[35m"
#define C_CYAN "\033[36m"

#endif
