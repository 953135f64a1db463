/*
 * cluster_inject.c — a message from outside the simulated network: what
 * a fake or buggy peer sends.  The step fuzzer (tests/fuzz_step.c) and
 * hostile-frame tests use it to put arbitrary decoded frames in front of
 * a node exactly as the network would deliver them (trace `recv`, the
 * core, then the node's outputs), with the checker watching.
 */
#include "sim/cluster/cluster_int.h"

int sim_inject(struct sim_cluster *c, const struct raft_msg *m)
{
    /* from/to index the link matrix: only ids the cluster has.  Over TCP
     * frames come from sockets, never from here. */
    if (c->wire || m->from < 1 || m->from > c->n || m->to < 1 ||
        m->to > c->n)
        return RAFT_EINVAL;
    uint32_t i;
    struct sim_ev *e = sim__ev_new(c, c->now, EV_DELIVER, m->to, &i);
    if (raft_msg_copy(&e->msg, m) != RAFT_OK) {
        sim__ev_release(c, i);
        return RAFT_ENOMEM;
    }
    sim__ev_push(c, i);
    return RAFT_OK;
}
