/*
 * ctl.h — the control channel between `raftsim run --clock processes`
 * and the node processes it spawns (sim/node, sim/cluster/cluster_procs.c).
 *
 * One private stream socket per node (a socketpair the runner creates
 * and the node inherits as a descriptor), so nothing else on the machine
 * can reach it and no handshake is needed; the nodes still talk to each
 * other over the authenticated TCP transport (net/tcp.h).
 *
 * Every record is a 4-byte big-endian length, then a fixed header (type,
 * flag, a, t_us, b) and a payload.  Both ends are the same executable, so
 * the header and the init payload are native-endian structs; every
 * length is still checked before it is used.
 *
 * The node reports every input it feeds its core (a message, a timer, a
 * proposal, a campaign, a transfer, a configuration change), with the
 * core time it used, BEFORE it acts on it.  Since the core is deterministic (raft/), the runner
 * replays these inputs into a shadow copy of each node and so sees the
 * node's exact state: the checker, the trace and the narration run on
 * the shadows.  A restarted node gets its predecessor's inputs back
 * (the runner keeps them: the node's disk), replays them silently, and
 * crashes and restarts its core exactly as the shadow did.
 */
#ifndef RAFTSIM_NET_CTL_H
#define RAFTSIM_NET_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/codec.h"
#include "raft/raft.h"

#define CTL_REC_MAX (NET_FRAME_MAX_DEFAULT + 4096)

enum ctl_type {
    /* node -> runner (also runner -> node when replaying) */
    CTL_R_HELLO = 1, /* a: the port it listens on */
    CTL_R_STEP,      /* payload: the message, a codec frame */
    CTL_R_TICK,      /* a timer fired */
    CTL_R_PROPOSE,   /* a: write index; payload "key\0value" */
    CTL_R_CAMPAIGN,
    CTL_R_TRANSFER,  /* a: target */
    CTL_R_CLOCK,     /* the node's time now (answers CTL_C_SYNC) */
    CTL_R_LOG,       /* a: NET_LOG_* level; payload: the line */
    CTL_R_CLOSED,    /* a: the peer whose connection closed (fast
                        detection: raft_peer_closed) */
    CTL_R_MEMBERS,   /* a configuration change proposed
                        (raft_propose_membership); payload: the new
                        configuration's text, raft_membership_format's
                        "voters=1,2,3 learners=4" */
    /* runner -> node */
    CTL_C_INIT = 32, /* payload: struct ctl_init */
    CTL_C_PEER,      /* a: peer id, b: its port on 127.0.0.1 */
    CTL_C_CRASH,     /* replay: raft_crash (a: lose unflushed) */
    CTL_C_RESTART,   /* replay: raft_restart at t_us */
    CTL_C_GO,        /* replay done: live from here; b: the t0_ns of
                        core time 0 (CLOCK_MONOTONIC, shared) */
    CTL_C_PROPOSE,   /* a: write index; payload "key\0value" */
    CTL_C_CAMPAIGN,
    CTL_C_TRANSFER,  /* a: target */
    CTL_C_LINK,      /* a: peer; payload struct ctl_link: this node -> peer,
                        and flag 1: peer -> this node is cut */
    CTL_C_SYNC,      /* answer with CTL_R_CLOCK */
    CTL_C_HOLD,      /* stop the clock (scenario `step`) */
    CTL_C_RELEASE,
    CTL_C_MEMBERS,   /* propose a configuration; payload as CTL_R_MEMBERS */
    /* a standalone node's --wal-dir file (sim/node/node_wal.c) */
    CTL_W_HEADER = 64, /* the first record: b: the core's seed; payload:
                          the settings the replay depends on, as text */
};

struct ctl_rec {
    uint8_t type, flag;
    int32_t a;
    uint64_t t_us, b;
    const char *payload;
    uint32_t plen;
};

struct ctl_link {
    uint64_t latency_us, jitter_us;
    double drop, dup;
    uint8_t cut;
};

struct ctl_init {
    struct raft_config cfg; /* the core's, its initial configuration
                               (cfg.members: voters, learners) included */
    double time_scale;
    uint64_t t0_ns;      /* CLOCK_MONOTONIC (uv_hrtime) of core time 0 */
    int port;            /* 0: ephemeral */
    char cluster_id[NET_CLUSTER_ID_MAX + 1];
    uint32_t key_len;
    unsigned char key[4096];
};

/* Append one record to out: 0, or NET_ENOMEM / NET_ETOOBIG. */
int ctl_encode(struct net_buf *out, const struct ctl_rec *r);
/* Parse a record body (net_reader_peek's, without the length prefix):
 * 0, or NET_EPROTO for a short body or a payload past its end. */
int ctl_parse(const char *body, size_t len, struct ctl_rec *r);
/* CTL_C_MEMBERS / CTL_R_MEMBERS: the record of type `type` proposing m,
 * its text in buf (cap bytes; 8 * RAFT_MAX_NODES + 32 always suffice):
 * 0, or -1 if the text does not fit. */
int ctl_members_rec(struct ctl_rec *r, uint8_t type,
                    const struct raft_membership *m, char *buf, size_t cap);
/* The configuration such a record proposes, for a cluster of n_nodes:
 * 0, or -1 for a payload that is not one (raft_membership_parse). */
int ctl_members_parse(const struct ctl_rec *r, int n_nodes,
                      struct raft_membership *out);
/* Write all of p (EINTR retried; on a non-blocking descriptor, waits for
 * room, at most 30 s): 0 or -errno. */
int ctl_write_all(int fd, const char *p, size_t n);
/* Encode r and write it at once: 0 or a negative error. */
int ctl_send(int fd, const struct ctl_rec *r);

#endif
