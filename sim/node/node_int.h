/*
 * node_int.h — the node process's state, shared by node.c (the loop, the
 * core, the transport, the control channel) and node_wal.c (the file of
 * --wal-dir and its replay).  Nothing else includes it.
 */
#ifndef RAFTSIM_SIM_NODE_INT_H
#define RAFTSIM_SIM_NODE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "net/ctl.h"
#include "net/codec.h"
#include "raft/prng.h"
#include "raft/raft.h"
#include "sim/node/node.h"
#include "sim/node/node_wal.h"

struct delayed {
    uv_timer_t t;
    struct nd *d;
    struct raft_msg m;
    struct delayed *prev, *next; /* the node's list, freed at exit */
};

struct nd {
    uv_loop_t loop;
    uv_timer_t timer, stop_check;
    uv_poll_t ctl_poll;
    int ctl; /* -1 standalone */
    struct net_reader rd;
    struct raft_node *r;
    struct net_node *net;
    struct raft_config cfg;
    int n;
    double scale;
    uint64_t t0_ns, held_ns;
    bool replaying, live, quit;
    int exit_code;
    struct prng rng;
    struct ctl_link out[RAFT_MAX_NODES + 1];
    bool cut_in[RAFT_MAX_NODES + 1];
    FILE *out_f;
    char cluster_id[NET_CLUSTER_ID_MAX + 1];
    unsigned char key[4096];
    size_t key_len;
    int port;
    const char *host;
    uint64_t deadline_s_us; /* standalone --duration, core time */
    struct delayed *delayed; /* frames waiting out their latency */
    bool use_wal;            /* standalone --wal-dir */
    struct node_wal wal;
    uint64_t synced[4];      /* term, vote, last lsn, last term at the
                                last fdatasync */
};

uint64_t node__now_us(const struct nd *d);
void node__die(struct nd *d, int code);
/* Feed one recorded input to the core (replay, or a command's effect). */
void node__apply_input(struct nd *d, const struct ctl_rec *r);
/* Carry out what the core asked for (its Ready loop). */
void node__pump(struct nd *d, uint64_t t);
/* --wal-dir: open the file, replay it, restart the core (node_wal.c). */
int node__load_wal(struct nd *d, const char *dir, bool seed_given);

#endif
