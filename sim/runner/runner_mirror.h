/*
 * runner_mirror.h — the PostgreSQL mirror's state, shared by its four
 * files (and by no other):
 *   runner_mirror.c        events from the core, queued and carried out
 *                          between steps: INSERT, promote, crash, rejoin,
 *                          replication cut, the one-writer check
 *   runner_mirror_setup.c  the servers brought to the file's starting
 *                          state, PostgreSQL's synchronous replication set
 *                          from the ack mode, standbys re-pointed, and the
 *                          settings restored when the run ends
 *   runner_mirror_look.c   what the servers show: `show status`, `expect
 *                          pg …`
 *   runner_mirror_read.c   a client's `read` as a real SELECT on the
 *                          server its route picks (LSN tokens, pinning)
 *   runner_mirror_app.c    the application's own writes (`write … on pg
 *                          SERVER`) and `replication off`
 *   runner_mirror_fence.c  the fence (a stopped server), who fences (the
 *                          new leader or the old primary's own node), the
 *                          write window, one primary left at the end
 *   runner_mirror_switch.c a leadership transfer as a PostgreSQL
 *                          switchover (clean stop, replay, promote, the
 *                          old primary back without pg_rewind)
 *   runner_mirror_rebuild.c a node installs a snapshot: its server gets a
 *                          new base backup (pg_basebackup)
 */
#ifndef RAFTSIM_SIM_RUNNER_MIRROR_H
#define RAFTSIM_SIM_RUNNER_MIRROR_H

#include "sim/pg/pg.h"
#include "sim/pg/pg_control.h"
#include "sim/runner/runner_int.h"

#define RM_TIMEOUT_S 2.0        /* one connection and statement */
#define RM_SETUP_TIMEOUT_S 10.0 /* the same while the file's set-up runs
                                   (no clock waits on it; servers just
                                   started or promoted, a loaded machine) */
#define RM_CONTROL_TIMEOUT_S 90 /* one control command */
#define RM_MAX_ACTIONS 4096
#define RM_MAX PG_MAX_SERVERS

enum srv_state { S_PRIMARY, S_STANDBY, S_DOWN, S_STALE };

enum act_kind { A_INSERT, A_LEADER, A_FOLLOW, A_CRASH, A_RESTART, A_NET,
                A_STEPDOWN, A_XFER, A_XFER_ABANDON, A_REBUILD };

struct action {
    enum act_kind kind;
    int node, peer;
    uint64_t lsn, term;
    char key[SCN_KEY_MAX + 1], value[SCN_KEY_MAX + 1];
    bool refused; /* A_CRASH: the watch saw the server refuse connections */
};

struct mrow {
    int server;
    uint64_t lsn, term;
    uint64_t pg_lsn; /* the server's WAL position after its commit */
    char key[SCN_KEY_MAX + 1];
    uint64_t t_us;   /* cluster time of the INSERT */
    bool local_only; /* no synchronous standby confirmed it */
};

struct rmirror {
    struct pg_server s[RM_MAX];
    int n;
    int of[SCN_MAX_NODES + 1]; /* server index, -1: witness */
    int node_of[RM_MAX];       /* node of each server */
    enum srv_state st[RM_MAX];
    bool was_primary[RM_MAX];  /* went down as a primary */
    bool crash_pending[RM_MAX]; /* refused the watch's connection: counted
                                   down, its crash command (the clean-up
                                   of what is left) not run yet */
    bool cut[RM_MAX];          /* standby's replication cut */
    char conninfo[RM_MAX][512]; /* standby's primary_conninfo, saved */
    const char *control;       /* template */
    char default_control[4300];
    struct action q[RM_MAX_ACTIONS];
    int nq;
    bool dropped;              /* the queue overflowed */
    struct mrow *rows;
    size_t n_rows, cap_rows;
    bool witness_told;
    int violations;
    /* synchronous_standby_names before the run (restored at its end) */
    bool ssn_saved;
    bool ssn_was_set;          /* in postgresql.auto.conf (else RESET) */
    char ssn_before[256];
    /* runner_mirror_fence.c: who fences a deposed primary, and its
     * write window (from the partition to the fence) */
    bool fence_self;           /* `mirror … fence self` */
    bool fenced[RM_MAX];       /* stopped by the fence */
    bool unfenced[RM_MAX];     /* fence self: deposed, still writable */
    bool cut_on[RM_MAX];       /* primary: its replication was cut… */
    uint64_t cut_us[RM_MAX];   /* …at this cluster time */
    double cut_wall[RM_MAX];   /* …and wall time */
    bool told_window;          /* the two-writer window was narrated */
    bool led[SCN_MAX_NODES + 1]; /* the node's last role was leader */
    /* runner_mirror_switch.c: the switchover under way (1 + the target
     * server, 0: none) since this wall time; servers stopped cleanly
     * whose WAL the target replayed (they rejoin without pg_rewind) */
    int xfer_srv;
    double xfer_wall;
    bool clean[RM_MAX];
    bool switched[RM_MAX];     /* stopped by a switchover, not back yet */
    /* for bench switchover --pg (scn_mirror_marks' sw_*) */
    double mark_sw_begin, mark_sw_stopped, mark_sw_final, mark_sw_replayed,
        mark_sw_followed;
    int sw_no_rewind, sw_rewound;
    /* runner_mirror_watch.c */
    bool watch;                /* `mirror … watch on` */
    double watch_last;         /* wall time of the last poll */
    uint64_t watch_polls;
    int watch_misses;          /* polls in a row that timed out */
    /* wall times (util_wall_s) for bench pg-failover --detect: the
     * watch's last failed poll that crashed a node, the last leader the
     * simulation elected, the last pg_promote returned; 0: none yet */
    double mark_detected, mark_elected, mark_promoted;
    /* the last `pg` trace line of each server (rm_trace_obs writes one
     * only when what it saw changed) */
    char traced[RM_MAX][192];
    /* runner_mirror_read.c: each client's `from monotonic` on the
     * servers: the standby it sticks to (1 + index, 0: none) and the
     * highest WAL position it has read at */
    int rd_sticky[SCN_MAX_CLIENTS];
    uint64_t rd_floor[SCN_MAX_CLIENTS];
    /* runner_mirror_app.c: `replication off` (every server a primary of
     * its own); the application's writes so far (their rows carry term 0
     * and lsn 1, 2, … in this order); each client's post-COMMIT WAL
     * position of its last one (a read-your-writes token) */
    bool no_repl;
    uint64_t app_writes;
    uint64_t app_token[SCN_MAX_CLIENTS];
    int app_token_server[SCN_MAX_CLIENTS]; /* 1 + index; 0: none */
    struct rapp { /* each client's last change, and where it went */
        uint64_t lsn;
        unsigned servers; /* bit per server index */
        char key[SCN_KEY_MAX + 1], value[SCN_KEY_MAX + 1];
    } app_last[SCN_MAX_CLIENTS];
};

/* runner_mirror_app.c: `replication off`: every server other than p
 * promoted, synchronous replication off everywhere; 0, or -1 with why in
 * err. */
int rm_no_replication(struct runner *R, int p, char *err, size_t cap);

/* "pg …" narration, and a failed mirror step (fails the run) */
void rm_say(struct runner *R, const char *color, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rm_fail(struct runner *R, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Run the control template's action for server s; 0 on success.  quiet:
 * a failure is not reported (the caller says what it does instead). */
int rm_control(struct runner *R, const char *action, int s, double *ms,
               bool quiet);
void rm_observe_all(struct rmirror *M, struct pg_obs *obs);
/* runner_mirror_look.c: one `pg` trace line per server whose observation
 * changed since its last one (the report's PostgreSQL table). */
void rm_trace_obs(struct runner *R, const struct pg_obs *obs);

/* runner_mirror_fence.c (README §7, "The fence") */
/* Fence server s so that no client can write on it: the control
 * command's `stop` (PostgreSQL's fast shutdown), then a check that it no
 * longer answers.  by: who fences ("n2, the new leader (fence remote)").
 * Narrates the write window when the partition's time is known.  0, or
 * -1 after reporting. */
int rm_fence(struct runner *R, int s, const char *by);
/* A new leader on server s's node, about to promote s: fence (remote) or
 * leave to its own node (self) every other writable server. */
double rm_fence_others(struct runner *R, int s, int node); /* its ms */
/* The node stepped down: under fence self its server is fenced now. */
void rm_stepdown(struct runner *R, int node);
/* The primary p's replication was cut (a partition): the window opens. */
void rm_window_cut(struct runner *R, int p);
/* After s rejoined: the rows of its window that pg_rewind took away. */
void rm_window_rewound(struct runner *R, int s);
/* Two writers, one of them a deposed primary left to fence self: the
 * window, narrated once; true when that explains every extra writer. */
bool rm_window_writers(struct runner *R, const bool *writable);
/* The run ends (also on Ctrl-C or an error): exactly one primary left,
 * each server's state said. */
void rm_leave_one_primary(struct runner *R);

/* runner_mirror_switch.c (README §7, "Switchover") */
/* rm_control with the command's stdout in out (a failure is reported). */
int rm_control_out(struct runner *R, const char *action, int s, double *ms,
                   char *out, size_t cap);
/* The leader `from` starts a transfer to `to`: fence its server cleanly
 * and wait until the target's server replayed its final LSN. */
void rm_switch_begin(struct runner *R, int from, int to);
/* Server t was promoted: the switchover's time, narrated. */
void rm_switch_promoted(struct runner *R, int t);
/* The transfer was abandoned: the old primary starts again. */
void rm_switch_abandon(struct runner *R, int node);
/* A cleanly switched-over server s follows primary p without pg_rewind
 * (the control command's `follow`); false when it cannot (then the
 * caller rejoins it with pg_rewind). */
bool rm_switch_rejoin(struct runner *R, int s, int p);
/* Server s, stopped by a switchover, streams again (with pg_rewind when
 * rewound): counted and timed for scn_runner_mirror_marks. */
void rm_switch_back(struct runner *R, int s, bool rewound);

/* runner_mirror_rebuild.c: node installed leader's snapshot: its server
 * gets a new base backup from the primary (the control's `rebuild`). */
void rm_rebuild(struct runner *R, int node, int leader);

/* runner_mirror_watch.c: poll the primary (at most a heartbeat apart,
 * bounded); when it does not answer, its node crashes in the simulation */
void rm_watch(struct runner *R);
/* The moments of the last detection, election and promotion (rm_mark_*) */
void rm_mark_elected(struct runner *R);
void rm_mark_promoted(struct runner *R);

/* runner_mirror_setup.c */
/* ALTER SYSTEM SET primary_conninfo on s to conninfo (quotes doubled;
 * "" cuts its replication), then reload.  0, or -1 with why in err. */
int rm_set_conninfo(const struct pg_server *s, const char *conninfo,
                    char *err, size_t cap);
/* Standby s streams from primary p, as p's pg_stat_replication shows it
 * (by application_name: tools/pg-pair sets it to the server's name). */
bool rm_streams_from(struct rmirror *M, int s, int p);
/* PostgreSQL's synchronous replication for primary p from the ack mode
 * (synchronous_standby_names on p, reloaded); narrated. 0 or -1. */
int rm_apply_sync(struct runner *R, int p, char *err, size_t cap);
/* Standby s follows primary p: primary_conninfo re-pointed (ALTER SYSTEM
 * and reload; a cut standby only has its saved conninfo changed), then a
 * bounded wait for streaming; when it does not stream (its timeline
 * diverged) it is rejoined with the control command (pg_rewind).  0, or
 * -1 after reporting. */
int rm_follow_primary(struct runner *R, int s, int p);
/* Wait until every streaming standby shows the rows primary p shows
 * (bounded); false, with why in err, when one does not. */
bool rm_wait_replayed(struct runner *R, int p, double timeout_s, char *err,
                      size_t cap);

#endif
