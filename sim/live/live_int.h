/*
 * live_int.h — the live session's private state, shared by its files,
 * which call one way from the top:
 *   live_control.c  the control words (speed, pause, step, seek, restart)
 *   live.c          records, parsing a line with the session, rebuilding
 *                   by replay (seek, fork), the file's script, the clock
 *   live_log.c      the event log, what viewers read (state, export)
 * live_http.c and live_shell.c use only live.h.
 */
#ifndef RAFTSIM_SIM_LIVE_INT_H
#define RAFTSIM_SIM_LIVE_INT_H

#define _GNU_SOURCE
#include "sim/live/live.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"
#include "sim/cluster/cluster.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"

#define DEFAULT_MAX_EVENTS 2000000
#define STEP_SAY_LIMIT_US 60000000 /* `step say` looks at most 60 s ahead */

enum rec_kind {
    REC_EXEC, /* a line the runner ran */
    REC_WAIT, /* the file's `wait`: time passed, paced (not exported) */
    REC_STEP, /* the file's `step`: the session paused there */
};

struct rec {
    enum rec_kind kind;
    uint64_t t_us;     /* when it happened (virtual) */
    uint64_t until_us; /* REC_WAIT: when the wait ends */
    int file_idx;      /* the file's command, -1 for an action */
    char *line;        /* REC_EXEC: the line without `at` */
    uint64_t end_us;   /* REC_EXEC: when the runner was done with it */
};

struct live_session {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct live_opts o;
    char *name;  /* for messages: the file, or "live" */
    char *setup; /* set-up lines (text) */
    struct scn_program *file; /* the file's program: its commands are the
                                 script (NULL: none) */
    /* the timeline */
    struct rec *recs;
    int n_recs, cap_recs;
    struct rec *aband; /* the timeline the last fork set aside */
    int n_aband;
    /* the materialization: the runner and the program it runs */
    struct scn_program *prog;
    struct scn_runner *run;
    int n_applied;     /* records carried out in it */
    uint64_t computed_us;
    bool seeked;       /* looking at the past: acting or resuming forks */
    int cut_rec;       /* the record the horizon interrupted, or -1 */
    uint64_t end_us;   /* the furthest present reached on this timeline */
    /* the script */
    int cursor;        /* next command of the file */
    bool waiting;      /* in the file's `wait` */
    uint64_t wait_until_us;
    bool at_step;      /* paused at the file's `step` */
    /* the display clock */
    double present_us;
    double speed;
    bool paused;
    double last_wall_s;
    bool have_wall;
    /* the event log of the current generation */
    struct live_entry *log;
    size_t n_log, cap_log, released;
    uint64_t gen;
    bool log_full;
    /* capture of the runner's output */
    FILE *trace_f, *out_f;
    char *tbuf, *obuf;
    size_t tlen, tcap, olen, ocap;
};


/* live.c */
uint64_t live__now(struct live_session *s); /* the cluster's time */
void live__recs_free(struct rec *r, int n);
/* The scenario text of set-up + records [0, upto) + extra (at t). */
char *live__program_text(struct live_session *s, const struct rec *recs,
                         int upto, const char *extra, uint64_t extra_t,
                         size_t *len);
int live__materialize(struct live_session *s, uint64_t horizon_us, char *err,
                      size_t cap);
int live__fork_at(struct live_session *s, uint64_t t, bool set_aside,
                  char *err, size_t cap);
void live__advance_to(struct live_session *s, double t);
int live__start_timeline(struct live_session *s, char *err, size_t cap);
const char *live__first_word(const char *line, char *w, size_t cap);

/* live_control.c */
int live__restart_with(struct live_session *s, const char *args, char *msg,
                       size_t cap);
int live__setup_text(const struct scn_program *p, const char *args,
                     char **out, char *msg, size_t cap);

/* live_log.c */
void live__log_push(struct live_session *s, uint64_t t, enum live_kind k,
                    const char *text, size_t len);
void live__log_clear(struct live_session *s);
void live__release(struct live_session *s);
ssize_t live__trace_write(void *c, const char *data, size_t size);
ssize_t live__out_write(void *c, const char *data, size_t size);

#endif
