/*
 * node.h — one Raft node as its own OS process (`raftsim node`): the
 * same core (raft/), the same TCP transport, codec and authenticated
 * handshake (net/) as `run --clock real`, but one process per node, so a
 * crash can be a real SIGKILL and a node can run on another machine.
 *
 * Two ways to run:
 *  - standalone (`raftsim node --id N --peers …`): the peers' addresses
 *    come from the command line, the key from --key FILE; what the node
 *    does (roles, commits) is printed one line per event;
 *  - driven (`--control-fd FD`, what `run --clock processes` spawns):
 *    the configuration, the peers' ports, the faults of its links and
 *    the client writes come over the control channel (net/ctl.h), and
 *    every input the node feeds its core goes back over it before the
 *    node acts on it, so the runner can replay it into a shadow.
 *
 * The WAL is the core's in-memory one: a SIGKILL loses it, unless the
 * runner hands the inputs of the node's previous life back to its new
 * process (driven mode), which then rebuilds the same durable state, or
 * a standalone node keeps them in a file (--wal-dir, node_wal.c).
 *
 * The folder sim/node/ includes raft/, net/ and sim/util only.
 */
#ifndef RAFTSIM_SIM_NODE_H
#define RAFTSIM_SIM_NODE_H

#include <stdio.h>

#include "raft/raft.h"

struct node_peer {
    char host[64]; /* numeric IPv4/IPv6 */
    int port;
};

struct node_opts {
    int control_fd; /* >= 0: driven over the control channel */
    /* standalone only: */
    struct raft_config cfg; /* id, n_nodes and the timing */
    struct node_peer peers[RAFT_MAX_NODES + 1]; /* [1..n] (own: listen) */
    const char *listen_host; /* NULL: 127.0.0.1 */
    const char *cluster_id;  /* NULL: "raftsim" */
    const unsigned char *key;
    size_t key_len;
    double time_scale;
    double duration_s; /* 0: until SIGINT/SIGTERM */
    const char *wal_dir; /* NULL: in-memory only (node_wal.c) */
    bool seed_given;     /* --seed: a --wal-dir file's own must match */
    FILE *out;         /* the event lines */
};

/* Runs the node until it is told to stop (control channel closed,
 * SIGINT/SIGTERM, --duration).  Returns the process exit code. */
int node_run(const struct node_opts *o);

#endif
