/*
 * cluster_int.h — the simulator's private state, shared by its files:
 * cluster.c (event queue, dispatch, node outputs, life cycle, views),
 * cluster_faults.c (crash, pause, partitions, links), cluster_clients.c
 * (client writes and their outcomes), cluster_snap.c (the key/value
 * state machine's snapshots), cluster_inject.c (a message from
 * outside the network), cluster_flow.c (appends sent per node) and
 * cluster_wire.c (real-time mode: the same
 * scheduler on a libuv loop with nodes talking over TCP).
 * Nothing outside sim/cluster*.c includes this.
 */
#ifndef RAFTSIM_SIM_CLUSTER_INT_H
#define RAFTSIM_SIM_CLUSTER_INT_H

#include "raft/prng.h"
#include "sim/cluster/checker.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/trace.h"

enum ev_type {
    EV_DELIVER = 1, /* message arrives at node */
    EV_TIMER,       /* node's deadline */
    EV_FLUSH,       /* node's WAL flush completes up to gen */
    EV_SEND,        /* message leaves node after its flush */
    EV_CREQ,        /* client write arrives at node */
    EV_CRESP,       /* node's answer arrives at client */
    EV_CTIMEOUT,    /* client gives up */
    EV_WIRE,        /* TCP: a delayed frame goes onto the socket */
    EV_CLOSED,      /* node sees its connections to `hint` close */
};

enum cresp { CR_ACKED = 1, CR_REDIRECT, CR_DOWN, CR_UNKNOWN, CR_TRANSFER };

struct sim_ev {
    uint64_t t, seq;
    uint8_t type;
    uint8_t resp; /* EV_CRESP */
    int node;
    int widx;     /* client events */
    int hint;     /* EV_CRESP redirect: leader hint; EV_CLOSED: the peer */
    uint64_t epoch, gen;
    uint64_t msg_id; /* EV_DELIVER/EV_WIRE: the send's trace id */
    struct raft_msg msg;
};

struct node_state {
    struct raft_node *r;
    bool up, paused;
    uint64_t epoch;
    uint64_t timer_at, timer_gen;
    bool timer_live;
    uint64_t io_busy_until;
    uint64_t applied_lsn;
    uint32_t *held; /* event indices held while paused */
    size_t n_held, cap_held;
    int *pend; /* writes proposed here, awaiting ack */
    size_t n_pend, cap_pend;
    struct sim_sent sent; /* appends sent to this node (cluster_flow.c) */
    uint64_t snap_bytes;  /* key+value bytes applied since its snapshot */
};

struct write_state {
    struct sim_write pub;
    int target;
    int attempts;
    int hist_process; /* its Jepsen process (cluster_history.c) */
};

struct client_state {
    int believed_leader;
    char name[32]; /* the scenario's name for it ("" : none), for the trace */
};

/* Heap entries carry their keys so that sifting never touches the pool. */
struct heap_item {
    uint64_t t, seq;
    uint32_t idx;
};



struct sim_cluster {
    struct sim_options o;
    int n;
    uint64_t now, seq;
    struct prng rng;
    struct node_state *nodes; /* [n + 1] */
    struct sim_link *links;   /* [(n + 1) * (n + 1)] */
    struct client_state *clients;
    /* writes[k] is write w_base + k; the writes below w_base were
     * settled and forgotten (forget_settled_writes), every write below
     * w_settled has its outcome (cluster_clients.c) */
    struct write_state *writes;
    int n_writes, cap_writes, w_base, w_settled;
    /* event pool + heap */
    struct sim_ev *pool;
    uint32_t pool_cap, free_head;
    uint32_t *next_free;
    struct heap_item *heap;
    uint32_t heap_len;
    struct checker *chk;
    struct trace tr;
    uint64_t msg_seq; /* trace ids of sends (only while tracing) */
    struct sim_stats st;
    bool stopped;
    bool over_budget;       /* stopped at o.max_events */
    uint64_t events_handled;
    sim_event_hook hook;
    void *hook_ctx;
    sim_write_hook write_hook;
    void *write_hook_ctx;
    /* the history (cluster_history.c): each process's state (0 free,
     * 1 busy, 2 retired by an info) and the next op's index */
    unsigned char *hist_proc;
    int n_hist_proc;
    uint64_t hist_index;
    struct sim_wire *wire; /* TCP mode, else NULL */
    struct sim_procs *procs; /* PROCS mode (cluster_procs.c), else NULL */
    /* TCP mode: put a frame on the socket (cluster_wire.c sets it, so
     * that cluster_step.c never calls up into the transport) */
    void (*wire_send)(struct sim_cluster *c, struct raft_msg *m);
};


/* cluster_events.c */
void *sim__xrealloc(void *p, size_t n);
struct sim_ev *sim__ev_new(struct sim_cluster *c, uint64_t t, int type,
                           int node, uint32_t *idx_out);
void sim__ev_push(struct sim_cluster *c, uint32_t i);
uint32_t sim__ev_pop(struct sim_cluster *c);
void sim__ev_release(struct sim_cluster *c, uint32_t i);
struct sim_ev *sim__sched(struct sim_cluster *c, uint64_t t, int type,
                          int node);
void sim__drain_violations(struct sim_cluster *c);
void sim__trace_simple(struct sim_cluster *c, int node, const char *kind);
void sim__trace_drop(struct sim_cluster *c, const struct sim_ev *e,
                     const char *reason);

/* cluster_step.c */
bool sim__handle(struct sim_cluster *c, uint32_t idx);
void sim__hold(struct node_state *s, uint32_t idx);
void sim__pump(struct sim_cluster *c, int id);
void sim__sched_timer(struct sim_cluster *c, int id);
void sim__net_send(struct sim_cluster *c, struct raft_msg *m);
/* Node id learns that its connections to peer closed (EV_CLOSED). */
void sim__peer_closed(struct sim_cluster *c, int id, int peer);
static inline struct sim_link *sim__link(const struct sim_cluster *c,
                                         int from, int to)
{
    return &c->links[(size_t)from * (size_t)(c->n + 1) + (size_t)to];
}

/* cluster_snap.c */
void sim__snap_applied(struct sim_cluster *c, int id,
                       const struct raft_ready *rd);
void sim__snap_policy(struct sim_cluster *c, int id);

/* cluster_flow.c */
void sim__count_send(struct sim_cluster *c, const struct raft_msg *m);

/* cluster_wire.c: TCP mode */
int sim__wire_start(struct sim_cluster *c);
void sim__wire_free(struct sim_cluster *c);
void sim__wire_send(struct sim_cluster *c, struct raft_msg *m);
bool sim__wire_run_until(struct sim_cluster *c, uint64_t t);
void sim__wire_crash(struct sim_cluster *c, int id, bool silent);
int sim__wire_restart(struct sim_cluster *c, int id);
void sim__wire_pause(struct sim_cluster *c, int id, bool paused);
void sim__wire_hold(struct sim_cluster *c, bool hold);

/* cluster_procs.c: one process per node */
int sim__procs_start(struct sim_cluster *c);
void sim__procs_free(struct sim_cluster *c);
bool sim__procs_run_until(struct sim_cluster *c, uint64_t t);
void sim__procs_crash(struct sim_cluster *c, int id, bool lose_unflushed,
                      bool silent);
int sim__procs_restart(struct sim_cluster *c, int id);
void sim__procs_pause(struct sim_cluster *c, int id, bool paused);
void sim__procs_propose(struct sim_cluster *c, int id, int widx);
void sim__procs_command(struct sim_cluster *c, int id, int type, int a);
int sim__procs_members(struct sim_cluster *c, int id,
                       const struct raft_membership *to, uint64_t *lsn);
void sim__procs_hold(struct sim_cluster *c, bool hold);
void sim__procs_link(struct sim_cluster *c, int a, int b);
void sim__procs_links(struct sim_cluster *c);
uint64_t sim__procs_errors(const struct sim_cluster *c, char *first,
                           size_t len);
int sim__procs_port(const struct sim_cluster *c, int id);
int sim__procs_pid(const struct sim_cluster *c, int id);

/* cluster_clients.c */
/* Write widx's record, NULL when forgotten (or never sent). */
static inline struct write_state *sim__write(const struct sim_cluster *c,
                                             int widx)
{
    return widx >= c->w_base && widx < c->n_writes
               ? &c->writes[widx - c->w_base]
               : NULL;
}
/* Is write widx still waiting for its outcome?  (A forgotten one is not.) */
static inline bool sim__write_pending(const struct sim_cluster *c, int widx)
{
    const struct write_state *w = sim__write(c, widx);
    return w && w->pub.outcome == SIM_PENDING;
}
/* PROCS: node id's process proposed write widx at time t: the same
 * proposal on its shadow, then what sim__client_request does after it. */
void sim__client_replay(struct sim_cluster *c, int id, int widx, uint64_t t,
                        const char *key, size_t kl, const char *value,
                        size_t vl);
void sim__fail_pending(struct sim_cluster *c, struct node_state *s, int id,
                       int resp);
void sim__ack_pending(struct sim_cluster *c, struct node_state *s, int id,
                      uint64_t lsn);
/* Proposes the write at its node; true when the node must be pumped. */
bool sim__client_request(struct sim_cluster *c, struct sim_ev *e);
void sim__finish_write(struct sim_cluster *c, int widx, enum sim_outcome o);

/* cluster_history.c: the Jepsen history, when o.history is set */
void sim__history_invoke(struct sim_cluster *c, int widx);
void sim__history_complete(struct sim_cluster *c, int widx);
void sim__history_end(struct sim_cluster *c);
void sim__client_response(struct sim_cluster *c, struct sim_ev *e);

#endif
