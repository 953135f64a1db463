/*
 * runner_member.c — membership changes in a scenario (Raft thesis §4.1):
 * `add NODE [as learner]`, `add NODE NODE` (unsafe), `promote NODE`,
 * `remove NODE`, `expect voters|learners of NODE are SET|none`, and the
 * narration of the core's config events.  What is said is what the core
 * did: the leader's proposal and its lsn, the configuration committed,
 * reverted when its entry is discarded, the removed leader stepping down.
 */
#include "sim/runner/runner_int.h"

#include <stdio.h>
#include <string.h>

/* "{n1,n2,n3}" */
static void set_text(const raft_nodeset *s, int n, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "{");
    bool first = true;
    for (int i = 1; i <= n && o < cap; i++)
        if (raft_nodeset_has(s, i)) {
            o += (size_t)snprintf(buf + o, cap - o, "%sn%d", first ? "" : ",",
                                  i);
            first = false;
        }
    if (o < cap)
        snprintf(buf + o, cap - o, "}");
}

static void conf_text(const raft_nodeset *voters, const raft_nodeset *learners,
                      int n, char *buf, size_t cap)
{
    set_text(voters, n, buf, cap);
    if (raft_nodeset_count(learners)) {
        size_t o = strlen(buf);
        snprintf(buf + o, cap - o, " with learner%s ",
                 raft_nodeset_count(learners) > 1 ? "s" : "");
        o = strlen(buf);
        set_text(learners, n, buf + o, cap - o);
    }
}

static const char *op_words(int op)
{
    switch (op) {
    case RAFT_ADD_VOTER: return "adding";
    case RAFT_ADD_LEARNER: return "adding";
    case RAFT_PROMOTE: return "promoting";
    default: return "removing";
    }
}

void r_do_member(struct runner *R, const struct scn_cmd *cmd)
{
    int node, node2 = 0;
    if (!r_one_node(R, cmd, &cmd->node, &node) ||
        (cmd->two && !r_one_node(R, cmd, &cmd->node2, &node2)))
        return;
    int l = rv_leader(R);
    const char *as = cmd->enumval == RAFT_ADD_LEARNER ? " as a learner"
                     : cmd->enumval == RAFT_PROMOTE    ? " to voter"
                                                       : "";
    if (!l) {
        rs_line(R, 0, C_DIM, "no leader: nobody can propose %s n%d%s",
                op_words(cmd->enumval), node, as);
        return;
    }
    struct raft_node *r = sim_node(R->c, l);
    uint64_t conf_lsn;
    struct raft_membership to = *raft_membership_get(r, &conf_lsn);
    bool voter = raft_nodeset_has(&to.voters, node);
    bool learner = raft_nodeset_has(&to.learners, node);
    uint64_t bit = UINT64_C(1) << (node % 64);
    const char *bad = NULL;
    switch (cmd->enumval) {
    case RAFT_ADD_VOTER:
    case RAFT_ADD_LEARNER:
        if (voter || learner)
            bad = voter ? "it is a voter already" : "it is a learner already";
        else if (cmd->two && (node2 == node ||
                              raft_nodeset_has(&to.voters, node2) ||
                              raft_nodeset_has(&to.learners, node2)))
            bad = "the second node is a member already";
        raft_nodeset_add(cmd->enumval == RAFT_ADD_VOTER ? &to.voters
                                                        : &to.learners,
                         node);
        if (cmd->two)
            raft_nodeset_add(&to.voters, node2);
        break;
    case RAFT_PROMOTE:
        if (!learner)
            bad = voter ? "it is a voter already" : "it is not a learner";
        to.learners.bits[node / 64] &= ~bit;
        raft_nodeset_add(&to.voters, node);
        break;
    default:
        if (!voter && !learner)
            bad = "it is not a member";
        to.voters.bits[node / 64] &= ~bit;
        to.learners.bits[node / 64] &= ~bit;
        if (!raft_nodeset_count(&to.voters))
            bad = "it is the last voter";
        break;
    }
    if (bad) {
        rs_line(R, l, C_DIM, "will not propose %s n%d%s: %s",
                op_words(cmd->enumval), node, as, bad);
        return;
    }
    uint64_t lsn = 0;
    int rc = sim_propose_membership(R->c, l, &to, &lsn);
    /* why it was busy: the state its core answered in (under processes
     * the shadow has just replayed that answer, and may have moved on
     * from what it was before the call) */
    raft_membership_get(r, &conf_lsn);
    char two[16] = "";
    if (cmd->two)
        snprintf(two, sizeof(two), " and n%d", node2);
    char who[16];
    snprintf(who, sizeof(who), node == l ? "itself (n%d)" : "n%d", node);
    if (rc == RAFT_OK) {
        rs_line(R, l, cmd->two ? C_RED : C_BOLD,
                "proposes %s %s%s%s (config entry at lsn %llu)%s",
                op_words(cmd->enumval), who, two, as,
                (unsigned long long)lsn,
                cmd->two ? ": two voters in one step (unsafe)" : "");
    } else if (rc == RAFT_EBUSY) {
        rs_line(R, l, C_DIM,
                "will not propose %s n%d%s%s yet: %s", op_words(cmd->enumval),
                node, two, as,
                conf_lsn > raft_commit_lsn(r)
                    ? "the change before it is not committed (one at a time)"
                    : "it has not committed an entry of its own term yet");
    } else if (rc == SIM_EPENDING || rc == SIM_ESTOPPED) {
        rs_line(R, l, C_YELLOW,
                "was asked to propose %s n%d%s%s; %s", op_words(cmd->enumval),
                node, two, as,
                rc == SIM_ESTOPPED
                    ? "the run stopped before its process reported the "
                      "proposal"
                    : "its process had not reported the proposal after 10 s "
                      "(what its core answers will show in its events)");
    } else {
        rs_line(R, l, C_DIM, "cannot propose %s n%d%s%s (%s)",
                op_words(cmd->enumval), node, two, as,
                rc == RAFT_ETRANSFER ? "it is handing leadership over"
                : rc == RAFT_EINVAL
                    ? "its core refused it against the configuration it "
                      "uses: no change, no voter left, or more voters "
                      "changed than it allows"
                : rc == RAFT_EDOWN ? "it is down"
                                   : "it is not the leader");
    }
}

/* The core's config events. */
void rs_config_line(struct runner *R, const struct raft_event *ev)
{
    char c[SCN_MAX_NODES * 5 + 48];
    conf_text(&ev->votes, &ev->learners, R->n, c, sizeof(c));
    bool leader = R->role[ev->node] == RAFT_LEADER;
    switch (ev->reason) {
    case RAFT_R_CONF_COMMIT:
        if (leader)
            rs_line(R, ev->node, C_BOLD,
                    "configuration %s committed (lsn %llu)", c,
                    (unsigned long long)ev->lsn);
        else if (R->o.verbose)
            rs_line(R, ev->node, C_DIM,
                    "knows configuration %s committed (lsn %llu)", c,
                    (unsigned long long)ev->lsn);
        break;
    case RAFT_R_CONF_REVERT:
        rs_line(R, ev->node, C_YELLOW,
                "its latest config entry was discarded: back to "
                "configuration %s%s",
                c, ev->lsn ? "" : " (the one it started from)");
        break;
    default:
        if (!leader && R->o.verbose)
            rs_line(R, ev->node, C_DIM,
                    "uses configuration %s from lsn %llu (a server uses the "
                    "latest in its log, committed or not)",
                    c, (unsigned long long)ev->lsn);
        break;
    }
}

/* expect voters|learners of NODE are SET|none */
bool r_check_member(struct runner *R, const struct scn_cmd *cmd, bool *ok,
                    char *actual, size_t cap)
{
    const struct scn_expect *ex = &cmd->ex;
    int id;
    if (!r_one_node(R, cmd, &ex->node, &id))
        return false;
    bool in[SCN_MAX_NODES + 1] = {false};
    if (!ex->none && !r_resolve(R, cmd, &ex->set, in))
        return false;
    const struct raft_membership *m =
        raft_membership_get(sim_node(R->c, id), NULL);
    const raft_nodeset *s = ex->learners ? &m->learners : &m->voters;
    *ok = true;
    for (int i = 1; i <= R->n; i++)
        if (raft_nodeset_has(s, i) != in[i])
            *ok = false;
    char t[SCN_MAX_NODES * 5 + 8];
    set_text(s, R->n, t, sizeof(t));
    snprintf(actual, cap, "n%d's %s are %s", id,
             ex->learners ? "learners" : "voters",
             raft_nodeset_count(s) ? t : "none");
    return true;
}
