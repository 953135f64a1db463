/*
 * cluster_procs_int.h — what cluster_procs.c (the shadows: reading the
 * nodes' reports, the watermark, the replay) and cluster_procs_life.c
 * (the processes: spawn, SIGKILL, SIGSTOP, restart with the replay of a
 * previous life, clean-up) share.  Only those two include it.
 */
#ifndef RAFTSIM_SIM_CLUSTER_PROCS_INT_H
#define RAFTSIM_SIM_CLUSTER_PROCS_INT_H

#include <sys/types.h>

#include "net/ctl.h"
#include "sim/cluster/cluster_int.h"

struct proc_node {
    pid_t pid;
    int fd; /* -1: no process */
    struct net_reader rd;
    bool has_head;
    struct ctl_rec head;
    bool sync_out;
    uint64_t last_t;
    int port;
    struct net_buf hist; /* the inputs of every life, for the next one */
    bool frozen; /* crashed silently: SIGSTOPped, its sockets open */
    /* the last configuration change it reported (CTL_R_MEMBERS): the
     * runner's sequence number and the shadow's result */
    int32_t members_seq;
    int members_rc;
    uint64_t members_lsn;
};

struct sim_procs {
    struct proc_node *p; /* [n + 1] */
    uint64_t t0_ns, held_ns;
    double scale;
    struct ctl_init init; /* the key included; wiped at free */
    char exe[4096];
    uint64_t errors;
    char first_error[320];
    struct pollfd *pfd;
    int32_t members_seq; /* of the last CTL_C_MEMBERS sent */
    int32_t await_seq;   /* the one sim__procs_members waits for, or 0 */
};

void procs__perr(struct sim_cluster *c, const char *fmt, int id,
                 const char *what);
uint64_t procs__wall_us(const struct sim_procs *P);
int procs__send(struct sim_cluster *c, int id, const struct ctl_rec *r);
/* Read what node id wrote (without blocking); false at EOF. */
bool procs__read_some(struct sim_cluster *c, int id);
/* The process is gone (EOF): close and reap.  `expected`: we killed it. */
void procs__gone(struct sim_cluster *c, int id, bool expected);
/* Node id's next record parsed into its head; false when none yet. */
bool procs__head(struct sim_cluster *c, int id);
void procs__consume(struct sim_cluster *c, int id);
bool procs__turn(struct sim_cluster *c, uint64_t until, int wait_ms,
                 bool *caught_up);
void procs__keep(struct proc_node *pn, const struct ctl_rec *r);
/* cluster_procs_life.c */
void procs__reap_why(pid_t pid, int ms, char *why, size_t len);

#endif
