/*
 * trace.h — JSON Lines trace writer (format: README, "Trace format").
 *
 * One object per line; every line has t_us, node and kind, in that order.
 * Lines are built in a fixed buffer with a tiny builder (no JSON library
 * in Debian fits a write-only, allocation-free hot path better than forty
 * lines of code), written to the FILE, and folded into an FNV-1a hash so
 * tests can compare runs without keeping the text.
 */
#ifndef RAFTSIM_SIM_TRACE_H
#define RAFTSIM_SIM_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "raft/raft.h"

struct trace {
    FILE *f;
    uint64_t hash;
    size_t len;
    bool overflow;
    char buf[2048];
};

void trace_init(struct trace *tr, FILE *f);
static inline bool trace_on(const struct trace *tr) { return tr->f != NULL; }

/* node <= 0 prints "cluster". */
void trace_begin(struct trace *tr, uint64_t t_us, int node, const char *kind);
void trace_str(struct trace *tr, const char *key, const char *val);
void trace_strn(struct trace *tr, const char *key, const char *val,
                size_t len);
void trace_u64(struct trace *tr, const char *key, uint64_t v);
void trace_f64(struct trace *tr, const char *key, double v);
void trace_bool(struct trace *tr, const char *key, bool v);
void trace_node(struct trace *tr, const char *key, int id); /* "n3" */
void trace_nodeset(struct trace *tr, const char *key, const raft_nodeset *s,
                   int n_nodes);
void trace_raw(struct trace *tr, const char *key, const char *json);
void trace_end(struct trace *tr);

/* A message event as one line (README, "Trace format": send, recv,
 * drop).  `send` and `drop` name the sender as the line's node and the
 * recipient as `to`; `recv` names the recipient and `from`.  id is the
 * simulator's sequence number of the send (0: unknown, e.g. a frame that
 * came back over TCP, and then it is left out); reason is for `drop`
 * only (partition, loss, crashed, paused).  The type's own fields follow
 * on send, and on a recv without an id, so a reader can match it. */
void trace_msg(struct trace *tr, uint64_t t_us, const char *kind,
               const struct raft_msg *m, uint64_t id, const char *reason);

/* A core event as one line. */
void trace_raft_event(struct trace *tr, uint64_t t_us,
                      const struct raft_event *ev, int n_nodes);

#endif
