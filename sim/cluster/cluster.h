/*
 * cluster.h — a deterministic, virtual-time cluster of raft nodes.
 *
 * A discrete-event scheduler with a clock in microseconds drives N
 * raft_nodes, an in-memory network with per-ordered-link latency, jitter,
 * drop, duplication and cuts, a disk with a flush latency, and clients
 * that write to whoever they believe leads.  Every random choice comes
 * from one seed, so the same seed and options give a byte-identical trace.
 * After every event the invariant checker (checker.h) looks at the nodes.
 *
 * Faults: crash (optionally losing the unflushed WAL tail; its peers see
 * its connections close one link latency later, unless it is silent),
 * restart,
 * pause/resume (the node freezes, timers and inbox included, and wakes up
 * with stale beliefs), partitions and one-way cuts, link degradation.
 *
 * With transport TCP the same scheduler runs in real time on a libuv loop
 * and the nodes exchange msgpack frames over loopback TCP; link latency,
 * drop and duplication are applied on the sending side, cuts on both
 * sides (cluster_wire.c).  Everything else — clients, faults, checker,
 * trace — is the same code.
 *
 * The folder sim/cluster/ holds the drivers (this API, cluster_*.c), the
 * invariant checker, the JSON Lines trace and explore (random fault
 * schedules over many seeds).  It includes raft/, net/ and sim/util only:
 * not here are scenario files (sim/scenario), running them (sim/runner)
 * or anything about PostgreSQL (sim/pg).
 */
#ifndef RAFTSIM_SIM_CLUSTER_H
#define RAFTSIM_SIM_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "raft/raft.h"

struct sim_link {
    uint64_t latency_us; /* one-way base latency */
    uint64_t jitter_us;  /* uniform extra delay in [0, jitter] */
    double drop;         /* probability a message is lost */
    double dup;          /* probability it is delivered twice */
    bool cut;            /* partitioned: nothing passes */
};

enum sim_transport {
    SIM_TRANSPORT_MEMORY, /* virtual time, in-memory network: deterministic */
    SIM_TRANSPORT_TCP,    /* real time, loopback TCP between the nodes */
    SIM_TRANSPORT_PROCS,  /* real time, one OS process per node over
                             loopback TCP (cluster_procs.c) */
};

struct sim_options {
    int n_nodes;
    enum sim_transport transport;
    /* TCP only: every duration is stretched by this factor (10: a run
     * ten times slower, so a class can watch).  The core still sees the
     * configured timeouts: its clock is real time divided by the scale. */
    double time_scale;
    const char *cluster_id; /* TCP handshake; NULL: "raftsim" */
    /* TCP: the secret every node proves in the handshake and MACs every
     * frame with (net/auth.h), NET_KEY_MIN..NET_KEY_MAX bytes, copied at
     * start.  NULL: a random key for this cluster (getrandom). */
    const unsigned char *key;
    size_t key_len;
    uint64_t seed;
    uint64_t heartbeat_us, election_min_us, election_max_us;
    enum raft_ack_mode ack_mode;
    enum raft_election_policy policy;
    bool prevote, checkquorum;
    /* Fast detection (raft_peer_closed): a crash closes the node's
     * connections, and each peer hears of it one link latency later (in
     * memory) or when its socket says so (TCP).  Off: closes are not
     * reported and every failure waits out the election timeout. */
    bool fast_detect;
    unsigned unsafe;
    raft_nodeset nofailover; /* voters that never campaign (witnesses) */
    /* The initial configuration (raft_config.members; all zero: every
     * node a voter).  Not under PROCS yet: sim_cluster_new refuses it. */
    struct raft_membership members;
    struct sim_link link;        /* default for every ordered link */
    uint64_t disk_latency_us;    /* WAL flush delay (0: synchronous) */
    uint64_t client_latency_us;  /* client <-> node, one way */
    uint64_t client_timeout_us;  /* give up on a write: outcome unknown */
    int n_clients;
    FILE *trace;                 /* JSON Lines, or NULL */
    /* The clients' writes as a Jepsen history (cluster_history.c), EDN
     * or JSON Lines, or NULL; the pending ones end as `info` when the
     * cluster is freed. */
    FILE *history;
    bool history_edn;
    /* Snapshot policy (cluster_snap.c): every node snapshots its
     * key/value state once it applied snap_entries entries, or entries
     * of snap_bytes key+value bytes, since its last snapshot (0: never;
     * sim_snapshot on command only).  snap_chunk: InstallSnapshot chunk
     * size (0: the core's default). */
    uint64_t snap_entries, snap_bytes;
    uint32_t snap_chunk;
    /* PROCS: the executable to run as `EXE node --control-fd 3` (NULL:
     * this program, /proc/self/exe). */
    const char *node_exe;
    /* Stop the run after this many events (messages delivered, timers,
     * flushes, client requests; 0: no bound): sim_over_budget says so. */
    uint64_t max_events;
    /* Keep only the client write records that can still matter: a
     * write's record is dropped once it has its outcome and so has every
     * write sent before it (sim_get_write then returns NULL for it; the
     * write hook sees each outcome first).  Every write times out within
     * client_timeout_us, so the records held stay bounded by the writes
     * sent in that long.  For long benchmarks; scenarios keep them all. */
    bool forget_settled_writes;
};

void sim_options_default(struct sim_options *o, int n_nodes);

enum sim_outcome {
    SIM_PENDING = 0,
    SIM_ACKED,   /* the cluster acknowledged it (per ack mode) */
    SIM_REFUSED, /* no leader could take it (read-only mode: 503), or
                    the leader was handing over (transfer_to) */
    SIM_UNKNOWN, /* timed out or leader changed: may or may not commit */
};
const char *sim_outcome_name(enum sim_outcome o);

struct sim_write {
    int client;
    int node;       /* node that answered last */
    uint64_t lsn, term;
    enum sim_outcome outcome;
    uint64_t submit_us, done_us;
    char key[32], value[32];
    /* A retry (the write hook is called again, outcome still pending):
     * retry_from answered "not the leader" (hint: retry_to is its
     * leader) or was down; the client sends to retry_to next. */
    int retries;
    int retry_from, retry_to;
    bool retry_down, retry_hinted;
    /* SIM_REFUSED by leader `node` because it was handing leadership to
     * this node (RAFT_ETRANSFER); 0: refused for want of a leader. */
    int transfer_to;
};

struct sim_stats {
    uint64_t messages_sent, messages_delivered, messages_dropped;
    uint64_t elections;    /* times a node became leader */
    uint64_t writes, acked, refused, unknown;
    uint64_t acked_lost;   /* acked writes that can no longer commit */
    uint64_t acked_pending; /* acked, uncommitted, still in some log at
                               sim_finish: pending at the end of the run */
    uint64_t discarded;    /* entries removed by conflict */
    uint64_t discarded_crash; /* unflushed entries lost in a crash */
    uint64_t events;       /* core events seen */
    uint64_t rejected;     /* messages the core refused (reject events) */
};

struct sim_violation {
    const char *invariant;
    char detail[256];
    uint64_t t_us;
    int nodes[2];
};

struct sim_cluster;

/* Returns 0, RAFT_EINVAL or RAFT_ENOMEM; with TCP, a negative libuv
 * error (uv_strerror) when a listener cannot be set up. */
int sim_cluster_new(const struct sim_options *o, struct sim_cluster **out);
void sim_cluster_free(struct sim_cluster *c);

uint64_t sim_now(const struct sim_cluster *c);
/* Process every event up to and including time t; the clock ends at t.
 * Stops early (returning false) at the first invariant violation. */
bool sim_run_until(struct sim_cluster *c, uint64_t t_us);
/* Run at most max events; returns how many ran (0: queue empty). */
uint64_t sim_run_events(struct sim_cluster *c, uint64_t max);

/* Faults.  Node ids are 1..n. */
void sim_crash(struct sim_cluster *c, int id, bool lose_unflushed);
/* A silent crash (power loss, a hung machine): the node stops at once but
 * closes no connection, so its peers learn nothing until their election
 * timers fire.  Over TCP its sockets stay open, unread, until restart. */
void sim_crash_silent(struct sim_cluster *c, int id, bool lose_unflushed);
void sim_restart(struct sim_cluster *c, int id);
void sim_pause(struct sim_cluster *c, int id);
void sim_resume(struct sim_cluster *c, int id);
/* Node id campaigns now (raft_campaign_now): RAFT_OK, RAFT_EDOWN (down
 * or paused), RAFT_EINVAL (a leader, or a node that never stands). */
int sim_campaign(struct sim_cluster *c, int id);
/* Leader `from` hands leadership to `to` (raft_transfer_leadership):
 * RAFT_OK, RAFT_EDOWN (down or paused), RAFT_ENOTLEADER, RAFT_EINVAL.
 * Writes it receives meanwhile are refused (sim_write.transfer_to). */
int sim_transfer(struct sim_cluster *c, int from, int to);
/* Leader `from` proposes the configuration `to` (raft_propose_membership;
 * *lsn: its entry): its result.  Under PROCS the node's process proposes
 * it and reports the proposal, the shadow replays it and its result is
 * returned (the shadow's is the process's: the same core, the same
 * inputs); SIM_EPENDING if that report did not come within 10 s (the
 * process proposes it when it reads the command all the same),
 * SIM_ESTOPPED if the run stopped first (a violation that stops it, a
 * signal), RAFT_EDOWN if the process died first. */
#define SIM_EPENDING (-100)
#define SIM_ESTOPPED (-101)
int sim_propose_membership(struct sim_cluster *c, int from,
                           const struct raft_membership *to, uint64_t *lsn);
bool sim_is_up(const struct sim_cluster *c, int id);     /* not crashed */
bool sim_is_paused(const struct sim_cluster *c, int id);
/* group[id] for id in 1..n: nodes in different groups cannot talk. */
void sim_partition(struct sim_cluster *c, const int *group);
/* A trap on the leader: when ev is a leader's client-entry append
 * (SIM_TRAP_APPEND) or commit (SIM_TRAP_COMMIT), isolate that node and
 * return true.  Called from an event hook (explore, scenarios). */
enum sim_trap { SIM_TRAP_NONE, SIM_TRAP_APPEND, SIM_TRAP_COMMIT };
bool sim_trap_springs(struct sim_cluster *c, enum sim_trap trap,
                      const struct raft_event *ev);
void sim_cut(struct sim_cluster *c, int from, int to); /* one way */
void sim_heal(struct sim_cluster *c);                  /* all cuts gone */
void sim_set_link(struct sim_cluster *c, int from, int to,
                  const struct sim_link *l);
const struct sim_link *sim_get_link(const struct sim_cluster *c, int from,
                                    int to);
void sim_reset_links(struct sim_cluster *c); /* back to defaults, uncut */
const struct sim_link *sim_default_link(const struct sim_cluster *c);

/* A client write of key=value, sent to node `via` (0: whoever the client
 * believes leads).  Returns the write's index for sim_get_write. */
int sim_client_write(struct sim_cluster *c, int client, int via,
                     const char *key, const char *value);
/* NULL for an index never returned, or forgotten (forget_settled_writes) */
const struct sim_write *sim_get_write(const struct sim_cluster *c, int idx);
int sim_n_writes(const struct sim_cluster *c); /* sent so far */
/* Write records held now (sim_n_writes without forget_settled_writes). */
int sim_writes_held(const struct sim_cluster *c);
/* The name a scenario gives client `client` ("alice"): written as `name`
 * on its trace lines from then on, so a reader can match its writes
 * ("c1") to its reads (named).  Cut to 31 bytes. */
void sim_client_name(struct sim_cluster *c, int client, const char *name);

/* Called after each core event is recorded (checker and trace first).
 * The hook may change links (sim_partition, sim_cut, sim_heal,
 * sim_set_link) — that takes effect for every message not yet delivered
 * — but must not crash, restart, pause or resume nodes: do that between
 * events, from the code driving sim_run_until. */
typedef void (*sim_event_hook)(void *ctx, struct sim_cluster *c,
                               const struct raft_event *ev);
void sim_set_hook(struct sim_cluster *c, sim_event_hook fn, void *ctx);

/* Called when a client write is sent and when it gets its outcome
 * (pub.outcome still SIM_PENDING for the first call). */
typedef void (*sim_write_hook)(void *ctx, struct sim_cluster *c, int widx);
void sim_set_write_hook(struct sim_cluster *c, sim_write_hook fn, void *ctx);

/* Time of the next queued event (UINT64_MAX: none).  Virtual time only:
 * in TCP mode frames may arrive at any moment. */
uint64_t sim_next_event_time(const struct sim_cluster *c);
/* TCP mode: stop the clock while a class reads (scenario `step`); the
 * nodes see no time pass between hold and release.  No-op in memory. */
void sim_hold_clock(struct sim_cluster *c, bool hold);
/* The node a client currently believes leads (0: none yet). */
int sim_client_leader(const struct sim_cluster *c, int client);
/* The run's trace writer (trace_on() false without a trace), for drivers
 * that add their own lines: narration, expectations, reads. */
struct trace *sim_tracer(struct sim_cluster *c);

/* Appends sent to a node by any leader, counted as they leave (lost or
 * not): against what the node appended, the replication amplification. */
struct sim_sent {
    uint64_t appends, entries;
    uint64_t entry_bytes; /* key + value bytes of those entries */
};
void sim_sent_to(const struct sim_cluster *c, int id, struct sim_sent *out);

/* Deliver a copy of m to node m->to now, as if it came over the
 * network from m->from (a fake or buggy peer: tests, the step fuzzer).
 * Memory transport only; RAFT_EINVAL for ids outside 1..n. */
int sim_inject(struct sim_cluster *c, const struct raft_msg *m);

/* Snapshots (cluster_snap.c).  The drivers' key/value state machine —
 * the last value of each key and the lsn that wrote it — is what a node
 * snapshots: sim_snapshot makes node id snapshot what it has applied now
 * (RAFT_OK, RAFT_EDOWN: down or paused, RAFT_EINVAL: nothing applied
 * since its last snapshot).  sim_snap_find looks key up in node id's
 * snapshot: the lsn that wrote it (0: not there) and its value (valid
 * until the node's next snapshot).  sim_committed_term: the term of the
 * cluster-wide committed entry at lsn (0: not committed), compacted or
 * not. */
int sim_snapshot(struct sim_cluster *c, int id);
/* Change the policy (sim_options.snap_entries/snap_bytes) from now on. */
void sim_snapshot_policy(struct sim_cluster *c, uint64_t entries,
                         uint64_t bytes);
uint64_t sim_snap_find(const struct sim_cluster *c, int id, const char *key,
                       const char **value);
uint64_t sim_committed_term(const struct sim_cluster *c, uint64_t lsn);

/* Views. */
struct raft_node *sim_node(const struct sim_cluster *c, int id);
int sim_n_nodes(const struct sim_cluster *c);
uint64_t sim_applied_lsn(const struct sim_cluster *c, int id);
int sim_leaders(const struct sim_cluster *c, int *ids); /* up, role leader */
/* Run until exactly one node leads and return it; 0 when within_us of the
 * cluster's clock pass first or the run stops (a violation). */
int sim_await_leader(struct sim_cluster *c, uint64_t within_us);
const struct sim_stats *sim_stats(const struct sim_cluster *c);
const struct sim_violation *sim_violation(const struct sim_cluster *c);
uint64_t sim_violations(const struct sim_cluster *c);
/* The run stopped at options.max_events. */
bool sim_over_budget(const struct sim_cluster *c);
/* End of run: count acked writes that did not survive (see checker). */
void sim_finish(struct sim_cluster *c);
/* FNV-1a hash of the trace text written so far (0 without a trace):
 * two runs with equal hashes wrote byte-identical traces. */
uint64_t sim_trace_hash(const struct sim_cluster *c);


/* TCP mode.  Transport errors the nodes could not recover from (out of
 * descriptors or memory, a port that cannot be listened on again): their
 * number, and the first one's text in first (may be NULL).  0 in memory. */
uint64_t sim_transport_errors(const struct sim_cluster *c, char *first,
                              size_t len);
/* The port node id listens on (0: memory mode or a bad id). */
int sim_wire_port(const struct sim_cluster *c, int id);
/* PROCS: the process id of node id's process (0: none: crashed). */
int sim_node_pid(const struct sim_cluster *c, int id);
struct net_stats;
/* A copy of node id's transport counters (net/tcp.h); false if it has no
 * transport now (memory mode, crashed). */
bool sim_wire_net_stats(const struct sim_cluster *c, int id,
                        struct net_stats *out);
/* TCP mode (one process): node from's connection to node to is open
 * (false in memory or PROCS mode, or while either side is down). */
bool sim_wire_connected(const struct sim_cluster *c, int from, int to);
/* Descriptors an n-node TCP cluster in this process needs. */
uint64_t sim_wire_fds_needed(int n_nodes);
/* Raise the soft RLIMIT_NOFILE if that suffices; -1 with err set if the
 * hard limit is too low.  Call before a TCP cluster starts. */
int sim_wire_check_fds(int n_nodes, char *err, size_t len);

#endif
