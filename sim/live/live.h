/*
 * live.h — a live session: one cluster under the virtual clock, paced
 * against wall time, that a controller acts on while it runs.
 *
 * Every action is a line of the scenario language, parsed by the same
 * parser (with its messages) and run by the same runner at the current
 * virtual time.  The session is a pure function of its set-up and its
 * records (virtual time, line): that is what makes three things exact —
 * the export (set-up lines, then `at T LINE`), which `raftsim run` replays
 * to the same trace; going back to an earlier time (the cluster is rebuilt
 * by replaying the records up to it, with the runner's horizon stopping a
 * command that was still going on); and acting in the past, which forks:
 * the records after that time are set aside (they can still be exported)
 * and the new action follows the rebuilt present.
 *
 * Display and computation: the display clock ("present") advances with
 * wall time times the speed.  The cluster never runs ahead of it, except
 * where one command needs it to (an `await`, a write that expects an
 * outcome): then the events beyond the present wait in the log until the
 * present reaches them, so no viewer sees the future; acting meanwhile
 * forks at the present.
 *
 * A session may start from a scenario file: its commands run in order,
 * `wait` and `at` paced by the display clock, and it pauses at each
 * `step` until the controller resumes.
 *
 * The folder sim/live/ also holds the two faces: live_http.c (`raftsim
 * serve`: the page, an event stream, the controller's POSTs) and
 * live_shell.c (`raftsim shell`).  It sits on top of sim/runner,
 * sim/scenario and sim/cluster; only the command line includes it.
 * Every function here takes the session's lock: the faces call it from
 * any thread.
 */
#ifndef RAFTSIM_SIM_LIVE_H
#define RAFTSIM_SIM_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct live_opts {
    double speed;     /* virtual seconds per wall second (0.01 … 100) */
    bool paused;      /* start paused */
    bool scripted;    /* no pacing: time moves only by commands (a shell
                         fed by a pipe, tests) */
    uint64_t seed;    /* seed_given: overrides the file's seed */
    bool seed_given;
    size_t max_events; /* the log's bound (0: 2,000,000) */
};
void live_opts_default(struct live_opts *o);

struct live_session;

/* file NULL: the defaults (3 nodes).  0, or -1 with the parser's or the
 * cluster's message in err. */
int live_new(const char *file, const struct live_opts *o,
             struct live_session **out, char *err, size_t cap);
void live_free(struct live_session *s);

/* Move the display clock by the wall time since the last tick and run
 * what falls before it (actions of the file, the cluster's events).
 * wall_s is a monotonic clock in seconds. */
void live_tick(struct live_session *s, double wall_s);

/* Run one scenario line now (at the display clock).  0 with "ok at T s"
 * (and what it did) in msg; -1 with the parser's message (file "act",
 * line 1) or why the line cannot be taken live in msg — nothing applied. */
int live_act(struct live_session *s, const char *line, char *msg, size_t cap);

/* One control line, the same words as the shell's `:` commands: speed X |
 * pause | resume | step | step say | seek T | restart [k=v …] | status.
 * 0 with a message, -1 with the reason (nothing changed). */
int live_control(struct live_session *s, const char *line, char *msg,
                 size_t cap);

/* The session as a scenario file: set-up lines, then `at T LINE` for
 * every record, then a last wait to the present.  abandoned: the records
 * of the timeline the last fork set aside instead (false: the current
 * one).  0, or -1 when there is no such timeline. */
int live_export(struct live_session *s, FILE *out, bool abandoned);

/* A snapshot for a viewer that joins late (JSON object). */
void live_state_json(struct live_session *s, FILE *out);
/* The view line of the event stream (malloc'd JSON object): what the
 * page draws that the trace does not carry — the clients' names (trace
 * lines number them c1, c2 … in this order) and, unless a command has
 * run ahead of the display, each node's election timer as
 * [deadline_us, timeout_us] or null (a leader, a crashed node). */
char *live_view_json(struct live_session *s);
/* The clock line of the event stream (JSON object). */
void live_clock_json(struct live_session *s, char *buf, size_t cap);

/* The event log: trace lines and narration lines with their virtual
 * times, in order.  A reader keeps (generation, index); entries up to
 * live_released() are visible.  A rebuild (seek, fork, restart) starts a
 * new generation from index 0. */
enum live_kind { LIVE_TRACE, LIVE_NARRATION };
struct live_entry {
    uint64_t t_us;
    enum live_kind kind;
    char *text; /* one JSON object (trace) or one line (narration) */
};
/* Copy entry idx of generation gen into a malloc'd string (JSON for the
 * stream: trace as is, narration wrapped); NULL when gen is not current
 * or idx not yet released.  *kind gets the entry's kind. */
char *live_entry_json(struct live_session *s, uint64_t gen, size_t idx,
                      enum live_kind *kind);
/* Block until something beyond (gen, idx) is visible, the generation
 * changes or timeout_ms passes; returns the current generation and sets
 * *released (entries visible in it). */
uint64_t live_wait(struct live_session *s, uint64_t gen, size_t idx,
                   int timeout_ms, size_t *released);
/* Narration line idx as plain text (malloc'd), for the shell. */
char *live_entry_text(struct live_session *s, uint64_t gen, size_t idx,
                      enum live_kind *kind);
uint64_t live_present_us(struct live_session *s);
bool live_is_paused(struct live_session *s);
/* End the session: the runner's summary (into the log, all of which is
 * then visible); returns what `raftsim run` would exit with. */
int live_end(struct live_session *s);
/* The trace lines visible now, one JSON object a line (`--trace`). */
void live_write_trace(struct live_session *s, FILE *out);
/* Wake every live_wait (shutdown). */
void live_wake_all(struct live_session *s);

#endif
