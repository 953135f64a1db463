/*
 * cluster_flow.c — what the leaders' appends cost each node: appends,
 * entries and entry bytes sent to it, counted when they leave the sender
 * (lost or not).  Against what a node appended, this is the replication
 * amplification (issue 15: a restarted follower was sent ~600 times the
 * entries it needed); tests and bench read it with sim_sent_to.
 */
#include "sim/cluster/cluster_int.h"

#include <string.h>

void sim__count_send(struct sim_cluster *c, const struct raft_msg *m)
{
    if (m->type != RAFT_MSG_APPEND || m->to < 1 || m->to > c->n)
        return;
    struct sim_sent *s = &c->nodes[m->to].sent;
    s->appends++;
    s->entries += m->n_entries;
    for (uint32_t i = 0; i < m->n_entries; i++) {
        const struct wal_payload *p = m->entries[i].payload;
        s->entry_bytes += p ? (uint64_t)p->key_len + p->value_len : 0;
    }
}

void sim_sent_to(const struct sim_cluster *c, int id, struct sim_sent *out)
{
    if (id < 1 || id > c->n) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = c->nodes[id].sent;
}
