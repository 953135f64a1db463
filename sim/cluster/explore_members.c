/*
 * explore_members.c — random membership changes in swarm seeds (Raft
 * thesis §4.1).  A seed that draws them (explore_swarm.members) starts
 * with voters n1..nK, the other nodes outside the configuration, and
 * every member_gap the leader of the highest term is asked for one
 * change: add a node as a voter or a learner, promote a learner, remove
 * a voter or a learner (itself included).  The core refuses what it must
 * (one change at a time, an own-term commit first), exactly as a replay
 * does: the schedule records the scenario words.  Under --unsafe
 * change-two-at-once every seed draws them and a change adds two voters
 * in one step while two nodes are outside, which is how two disjoint
 * majorities form.
 */
#include "sim/cluster/explore_int.h"

#include <string.h>

void ex_members_options(struct sched *s, struct sim_options *so)
{
    if (!s->w || !s->w->members)
        return;
    memset(&so->members, 0, sizeof(so->members));
    for (int i = 1; i <= s->w->members; i++)
        raft_nodeset_add(&so->members.voters, i);
}

void ex_members_header(struct sched *s)
{
    if (!s->w || !s->w->members)
        return;
    ex_rec(s, "members {");
    for (int i = 1; i <= s->w->members; i++)
        ex_rec(s, "%sn%d", i > 1 ? "," : "", i);
    ex_rec(s, "}\n");
}

int ex_leader_now(struct sched *s)
{
    int best = 0;
    for (int i = 1; i <= s->o->nodes; i++) {
        if (!sim_is_up(s->c, i) || sim_is_paused(s->c, i))
            continue;
        struct raft_node *r = sim_node(s->c, i);
        if (raft_role(r) == RAFT_LEADER &&
            (!best || raft_term(r) > raft_term(sim_node(s->c, best))))
            best = i;
    }
    return best;
}

static int pick(struct sched *s, const int *ids, int n)
{
    return ids[ex_rnd(s, 0, (uint64_t)n - 1)];
}

void ex_member_change(struct sched *s)
{
    int l = ex_leader_now(s);
    if (!l)
        return;
    struct raft_membership to =
        *raft_membership_get(sim_node(s->c, l), NULL);
    int outs[RAFT_MAX_NODES], lrn[RAFT_MAX_NODES], vot[RAFT_MAX_NODES];
    int no = 0, nl = 0, nv = 0;
    for (int i = 1; i <= s->o->nodes; i++) {
        if (raft_nodeset_has(&to.voters, i))
            vot[nv++] = i;
        else if (raft_nodeset_has(&to.learners, i))
            lrn[nl++] = i;
        else
            outs[no++] = i;
    }
    if ((s->o->unsafe & RAFT_UNSAFE_CHANGE_TWO) && no >= 2) {
        int a = outs[0], b = outs[1];
        raft_nodeset_add(&to.voters, a);
        raft_nodeset_add(&to.voters, b);
        ex_rec_at(s);
        ex_rec(s, "add n%d n%d\n", a, b);
        sim_propose_membership(s->c, l, &to, NULL);
        return;
    }
    /* the ops possible now, one drawn */
    enum { ADD, LEARN, PROMOTE, REMOVE } ops[4];
    int k = 0;
    if (no)
        ops[k++] = ADD, ops[k++] = LEARN;
    if (nl)
        ops[k++] = PROMOTE;
    if (nv > 1 || nl)
        ops[k++] = REMOVE;
    if (!k)
        return;
    int id;
    ex_rec_at(s);
    switch (ops[ex_rnd(s, 0, (uint64_t)k - 1)]) {
    case ADD:
        id = pick(s, outs, no);
        raft_nodeset_add(&to.voters, id);
        ex_rec(s, "add n%d\n", id);
        break;
    case LEARN:
        id = pick(s, outs, no);
        raft_nodeset_add(&to.learners, id);
        ex_rec(s, "add n%d as learner\n", id);
        break;
    case PROMOTE:
        id = pick(s, lrn, nl);
        to.learners.bits[id / 64] &= ~(UINT64_C(1) << (id % 64));
        raft_nodeset_add(&to.voters, id);
        ex_rec(s, "promote n%d\n", id);
        break;
    default: {
        int all[2 * RAFT_MAX_NODES], na = 0;
        for (int i = 0; nv > 1 && i < nv; i++)
            all[na++] = vot[i];
        for (int i = 0; i < nl; i++)
            all[na++] = lrn[i];
        id = pick(s, all, na);
        to.voters.bits[id / 64] &= ~(UINT64_C(1) << (id % 64));
        to.learners.bits[id / 64] &= ~(UINT64_C(1) << (id % 64));
        ex_rec(s, "remove n%d\n", id);
        break;
    }
    }
    sim_propose_membership(s->c, l, &to, NULL);
}
