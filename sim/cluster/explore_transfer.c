/*
 * explore_transfer.c — random leadership transfers in swarm seeds (Raft
 * thesis §3.10; etcd's TimeoutNow).  A seed that draws them
 * (explore_swarm.transfer_gap_us) asks the leader of the highest term,
 * every so often, to hand over to another voter of its configuration,
 * drawn at random: up or down, caught up or not, behind a partition or
 * not.  The core decides what happens — it refuses writes, catches the
 * target up, sends TimeoutNow, or abandons the transfer after an
 * election timeout — exactly as a replay does: the schedule records
 * `transfer nL to nT`.
 */
#include "sim/cluster/explore_int.h"

void ex_transfer(struct sched *s)
{
    int l = ex_leader_now(s);
    if (!l)
        return;
    const struct raft_membership *m =
        raft_membership_get(sim_node(s->c, l), NULL);
    int to[RAFT_MAX_NODES], n = 0;
    for (int i = 1; i <= s->o->nodes; i++)
        if (i != l && raft_nodeset_has(&m->voters, i) &&
            !raft_config(sim_node(s->c, i))->nofailover)
            to[n++] = i;
    if (!n)
        return;
    int t = to[ex_rnd(s, 0, (uint64_t)n - 1)];
    ex_rec_at(s);
    ex_rec(s, "transfer n%d to n%d\n", l, t);
    if (sim_transfer(s->c, l, t) == 0)
        s->transfers++;
}
