/*
 * runner_round.c — one election round of each node, as the voters saw
 * it, so a round that fails is explained in one line of the default
 * narration ("pre-vote for term 4 failed: n2, n3 refused (n1's log is
 * behind theirs); n5 did not answer") instead of a run of pre-candidate
 * lines with nothing between them.
 *
 * A round begins with the node's ROLE event into pre-candidate (ballot
 * term = term + 1) or candidate (ballot term = term); every voter's VOTE
 * event for that ballot is filed under granted or refused with its
 * reason.  "did not answer" means: no VOTE event for the ballot from
 * that voter (down, cut off, or its reply not yet sent) — a voter whose
 * reply was lost on the way is listed with what it said; a node outside
 * the candidate's configuration (membership) was not asked and is not
 * listed.  Only runner_say.c calls these.
 */
#include "sim/runner/runner_int.h"

#include <string.h>

void rr_begin(struct runner *R, const struct raft_event *ev)
{
    struct rround *r = &R->round[ev->node];
    memset(r, 0, sizeof(*r));
    r->on = true;
    r->pre = ev->role == RAFT_PRECANDIDATE;
    r->ballot = r->pre ? ev->term + 1 : ev->term;
    /* it asks the voters of the configuration in force, no other node */
    const raft_nodeset *v =
        &raft_membership_get(sim_node(R->c, ev->node), NULL)->voters;
    for (int i = 1; i <= R->n; i++)
        r->asked[i] = raft_nodeset_has(v, i);
}

void rr_vote(struct runner *R, const struct raft_event *ev)
{
    if (ev->peer < 1 || ev->peer > R->n)
        return;
    struct rround *r = &R->round[ev->peer];
    if (!r->on || r->pre != ev->prevote || r->ballot != ev->term ||
        ev->node < 1 || ev->node > R->n)
        return;
    r->answered[ev->node] = true;
    r->granted[ev->node] = ev->granted;
    r->reason[ev->node] = ev->reason;
    r->rival[ev->node] = ev->rival;
}

void rr_end(struct runner *R, int node)
{
    if (node >= 1 && node <= R->n)
        R->round[node].on = false;
}

/* Whom voter i had voted for; -1: itself (a candidate too). */
static int rival_key(const struct rround *r, int i)
{
    return r->rival[i] == i ? -1 : r->rival[i];
}

/* Why a voter refused, in words, for the group line. */
static const char *why(int reason, int cand, int rival, int members,
                       char *buf, size_t cap)
{
    bool one = members == 1;
    switch (reason) {
    case RAFT_R_LOG_BEHIND:
        snprintf(buf, cap, "n%d's log is behind %s", cand,
                 one ? "its own" : "theirs");
        return buf;
    case RAFT_R_LEADER_ALIVE:
        return one ? "it still hears a leader" : "they still hear a leader";
    case RAFT_R_STALE_TERM:
        return one ? "the term is behind its own" : "the term is behind theirs";
    case RAFT_R_ALREADY_VOTED:
        if (rival < 0)
            return one ? "voted for itself" : "voted for themselves";
        if (rival > 0) {
            snprintf(buf, cap, "already voted for n%d", rival);
            return buf;
        }
        return "already voted this term";
    default:
        return raft_reason_name(reason);
    }
}

bool rr_failed_text(struct runner *R, int node, char *out, size_t cap)
{
    struct rround *r = &R->round[node];
    if (node < 1 || node > R->n || !r->on)
        return false;
    size_t len = (size_t)snprintf(out, cap, "%s for term %llu failed:",
                                  r->pre ? "pre-vote" : "vote",
                                  (unsigned long long)r->ballot);
    bool any = false;
    /* refusals grouped by reason (and rival), in voter order */
    bool done[SCN_MAX_NODES + 1] = {false};
    for (int i = 1; i <= R->n && len < cap; i++) {
        if (i == node || done[i] || !r->answered[i] || r->granted[i])
            continue;
        char who[SCN_MAX_NODES * 5] = "";
        size_t wl = 0;
        int members = 0;
        for (int j = i; j <= R->n; j++)
            if (j != node && !done[j] && r->answered[j] && !r->granted[j] &&
                r->reason[j] == r->reason[i] &&
                (r->reason[i] != RAFT_R_ALREADY_VOTED ||
                 rival_key(r, j) == rival_key(r, i))) {
                done[j] = true;
                members++;
                wl += (size_t)snprintf(who + wl, sizeof(who) - wl, "%sn%d",
                                       wl ? ", " : "", j);
                if (wl >= sizeof(who))
                    wl = sizeof(who) - 1;
            }
        char b[48];
        len += (size_t)snprintf(out + len, cap - len, "%s %s refused (%s)",
                                any ? ";" : "", who,
                                why(r->reason[i], node, rival_key(r, i),
                                    members, b, sizeof(b)));
        any = true;
    }
    char set[SCN_MAX_NODES * 5];
    size_t sl = 0;
    for (int pass = 0; pass < 2 && len < cap; pass++) {
        sl = 0;
        set[0] = '\0';
        for (int i = 1; i <= R->n; i++)
            if (i != node &&
                (pass == 0 ? r->answered[i] && r->granted[i]
                           : r->asked[i] && !r->answered[i]))
                sl += (size_t)snprintf(set + sl, sizeof(set) - sl, "%sn%d",
                                       sl ? ", " : "", i);
        if (!sl)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%s %s %s",
                                any ? ";" : "", set,
                                pass == 0 ? "granted, short of a majority"
                                          : "did not answer");
        any = true;
    }
    if (!any && len < cap)
        snprintf(out + len, cap - len, " no other node");
    r->on = false;
    return true;
}
