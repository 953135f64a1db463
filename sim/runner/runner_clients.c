/*
 * runner_clients.c — a scenario's clients: `write` (through whoever the
 * client believes leads, waiting for the outcome it expects) and `read`
 * with its routes (leader, any, follower, a node, monotonic, ryw), served
 * at once by the chosen node from what it has applied.
 */
#include "sim/runner/runner_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/trace.h"


/* Clients                                                             */

/* Back-off between retries of a refused write: 100 ms, doubling, at most
 * one second (a client that no leader would take waits for an election). */
#define RETRY_FIRST_US 100000
#define RETRY_MAX_US 1000000

void r_do_write(struct runner *R, const struct scn_cmd *cmd)
{
    if (cmd->pg_server[0]) { /* write … on pg SERVER: past the cluster */
        rm_write_on(R, cmd);
        return;
    }
    int via = 0;
    if ((cmd->via.id || cmd->via.var != -1) && !r_one_node(R, cmd, &cmd->via, &via))
        return;
    sim_client_name(R->c, cmd->client + 1, R->p->clients[cmd->client]);
    int widx = sim_client_write(R->c, cmd->client + 1, via, cmd->key,
                                cmd->value);
    unsigned set = cmd->outcomes;
    if (!set && cmd->outcome != SCN_OUT_NONE)
        set = SCN_OUT_BIT(cmd->outcome); /* a program built by hand */
    if (!set)
        return;
    if (set & SCN_OUT_BIT(SCN_OUT_LOST)) {
        /* lost (or not lost) can only be judged at the end of the run */
        if (R->n_lost < (int)(sizeof(R->lost) / sizeof(R->lost[0]))) {
            R->lost[R->n_lost].line = cmd->line;
            R->lost[R->n_lost].widx = widx;
            R->lost[R->n_lost].outcomes = set;
            R->lost[R->n_lost].negate = cmd->outcome_not;
            R->n_lost++;
        }
        /* wait until the client hears something; the rest is at the end */
        uint64_t deadline = sim_now(R->c) + 10000000;
        while (sim_get_write(R->c, widx)->outcome == SIM_PENDING &&
               r_run_step(R, deadline))
            ;
        return;
    }
    uint64_t start = sim_now(R->c);
    uint64_t within = cmd->within_us;
    if (!within)
        within = R->p->client_timeout_us + 1000000;
    uint64_t deadline = start + within;
    bool want_commit = (set & SCN_OUT_BIT(SCN_OUT_COMMITTED)) && !cmd->outcome_not;
    uint64_t backoff = RETRY_FIRST_US;
    int attempt = 1;
    for (;;) {
        while (sim_get_write(R->c, widx)->outcome == SIM_PENDING &&
               r_run_step(R, deadline))
            ;
        /* expect committed: a refused write (no leader yet) is tried
         * again after a back-off until the deadline, as a real client
         * would; each retry is narrated under --verbose */
        if (!want_commit || sim_get_write(R->c, widx)->outcome != SIM_REFUSED ||
            sim_now(R->c) + backoff >= deadline || R->halted || R->stop)
            break;
        attempt++;
        if (R->o.verbose)
            rs_line(R, 0, C_DIM, "%s write %s=%s: refused, retry %d in %.0fms",
                    R->p->clients[cmd->client], cmd->key, cmd->value, attempt,
                    (double)backoff / 1e3);
        r_run_to(R, sim_now(R->c) + backoff);
        backoff = backoff * 2 > RETRY_MAX_US ? RETRY_MAX_US : backoff * 2;
        widx = sim_client_write(R->c, cmd->client + 1, via, cmd->key,
                                cmd->value);
    }
    if (set & SCN_OUT_BIT(SCN_OUT_COMMITTED)) {
        const struct sim_write *w = sim_get_write(R->c, widx);
        while (w->outcome == SIM_ACKED && !rv_committed(R, w->lsn, w->term) &&
               r_run_step(R, deadline))
            w = sim_get_write(R->c, widx);
    }
    bool ok = r_outcomes_match(R, widx, set, cmd->outcome_not);
    char actual[160];
    snprintf(actual, sizeof(actual), "the write is %s after %.3f s%s",
             r_outcome_of(R, widx), (double)(sim_now(R->c) - start) / 1e6,
             attempt > 1 ? " and retries" : "");
    r_verdict(R, cmd, ok, actual);
}

static void trace_read(struct runner *R, const struct scn_cmd *cmd, int node,
                       const char *value, uint64_t version, bool stale)
{
    struct trace *tr = sim_tracer(R->c);
    if (!trace_on(tr))
        return;
    trace_begin(tr, sim_now(R->c), node, "client");
    trace_str(tr, "client", R->p->clients[cmd->client]);
    trace_str(tr, "op", "read");
    trace_str(tr, "key", cmd->key);
    trace_str(tr, "route", scn_route_name(cmd->route));
    if (value)
        trace_str(tr, "value", value);
    trace_u64(tr, "lsn", version);
    trace_bool(tr, "stale", stale);
    trace_end(tr);
}

void r_do_read(struct runner *R, const struct scn_cmd *cmd)
{
    if (R->mir) { /* a mirrored run reads the real servers */
        rm_read(R, cmd);
        return;
    }
    struct rclient *cl = &R->cl[cmd->client];
    const char *who = R->p->clients[cmd->client];
    bool cand[SCN_MAX_NODES + 1] = {false};
    const char *note = "";
    int node = 0;
    switch (cmd->route) {
    case SCN_ROUTE_LEADER: {
        int b = sim_client_leader(R->c, cmd->client + 1);
        if (b && r_serves(R, b) && raft_role(sim_node(R->c, b)) == RAFT_LEADER)
            node = b; /* whom it believes: maybe a deposed leader */
        else
            node = rv_leader(R);
        if (!node) {
            for (int i = 1; i <= R->n; i++)
                cand[i] = r_serves(R, i);
            node = r_pick(R, cand);
            note = " — no leader: read-only mode, a replica answers and may "
                   "be stale";
        }
        break;
    }
    case SCN_ROUTE_ANY:
        for (int i = 1; i <= R->n; i++)
            cand[i] = r_serves(R, i);
        node = r_pick(R, cand);
        break;
    case SCN_ROUTE_FOLLOWER:
        for (int i = 1; i <= R->n; i++)
            cand[i] = r_serves(R, i) &&
                      raft_role(sim_node(R->c, i)) != RAFT_LEADER;
        node = r_pick(R, cand);
        if (!node)
            node = rv_leader(R);
        break;
    case SCN_ROUTE_NODE:
        if (!r_one_node(R, cmd, &cmd->from, &node))
            return;
        if (!r_serves(R, node)) {
            rs_line(R, node, C_YELLOW, "%s reads %s from n%d: no answer (%s)",
                    who, cmd->key, node, rv_role_name(R, node));
            if (cmd->read_expect != SCN_READ_NONE)
                r_fail_line(R, cmd, "n%d is %s and cannot serve reads", node,
                          rv_role_name(R, node));
            return;
        }
        break;
    case SCN_ROUTE_MONOTONIC:
        if (cl->sticky && r_serves(R, cl->sticky) &&
            sim_applied_lsn(R->c, cl->sticky) >= cl->floor)
            node = cl->sticky;
        else {
            for (int i = 1; i <= R->n; i++)
                cand[i] = r_serves(R, i) && sim_applied_lsn(R->c, i) >= cl->floor;
            node = r_pick(R, cand);
            if (!node)
                node = rv_leader(R);
        }
        cl->sticky = node;
        break;
    case SCN_ROUTE_RYW:
        for (int i = 1; i <= R->n; i++)
            cand[i] = r_serves(R, i) &&
                      raft_role(sim_node(R->c, i)) != RAFT_LEADER &&
                      sim_applied_lsn(R->c, i) >= cl->token;
        node = r_pick(R, cand);
        if (!node) {
            node = rv_leader(R);
            if (node && cl->token && sim_applied_lsn(R->c, node) < cl->token)
                /* async acks: the write is acknowledged before it
                 * commits, and the leader too serves only committed data
                 * (README, read-your-writes under async acks) */
                note = " — no replica has the client's token yet, and the "
                       "leader serves only committed data too: under async "
                       "acks the acknowledged write is not visible until it "
                       "commits";
            else if (node && cl->token)
                note = " — no replica has the client's token yet: the "
                       "leader answers";
        }
        break;
    }
    if (!node) {
        rs_line(R, 0, C_YELLOW, "%s reads %s (%s): no node can answer", who,
                cmd->key, scn_route_name(cmd->route));
        if (cmd->read_expect != SCN_READ_NONE)
            r_fail_line(R, cmd, "no node could serve the read");
        return;
    }
    uint64_t applied = sim_applied_lsn(R->c, node);
    const char *value = NULL, *tvalue = NULL;
    uint64_t version = rv_find_key(R, node, cmd->key, applied, &value);
    int t = rv_truth(R);
    uint64_t tver = rv_find_key(R, t, cmd->key,
                                raft_commit_lsn(sim_node(R->c, t)), &tvalue);
    bool stale = tver > version;
    cl->reads++;
    R->reads++;
    if (stale) {
        cl->stale++;
        R->stale_reads++;
    }
    if (applied > cl->floor)
        cl->floor = applied;
    int s;
    for (s = 0; s < cl->n_seen; s++)
        if (!strcmp(cl->seen[s].key, cmd->key))
            break;
    bool backwards = false;
    if (s < cl->n_seen) {
        backwards = version < cl->seen[s].version;
        if (!backwards)
            cl->seen[s].version = version;
    } else if (s < R_MAX_SEEN) {
        snprintf(cl->seen[s].key, sizeof(cl->seen[s].key), "%s", cmd->key);
        cl->seen[s].version = version;
        cl->n_seen++;
    }
    if (backwards)
        cl->backwards++;
    bool missed_own = false;
    for (int i = sim_n_writes(R->c) - 1; i >= 0; i--) {
        const struct sim_write *w = sim_get_write(R->c, i);
        if (w->client == cmd->client + 1 && w->outcome == SIM_ACKED &&
            !strcmp(w->key, cmd->key)) {
            missed_own = version < w->lsn;
            break;
        }
    }
    if (missed_own)
        cl->missed_own++;

    char got[96], why[160];
    if (value)
        snprintf(got, sizeof(got), "%s (lsn %llu)", value,
                 (unsigned long long)version);
    else
        snprintf(got, sizeof(got), "nothing");
    if (stale)
        snprintf(why, sizeof(why), "stale: the committed value is %s (lsn %llu)",
                 tvalue, (unsigned long long)tver);
    else
        snprintf(why, sizeof(why), "fresh");
    rs_line(R, node, stale ? C_YELLOW : C_BLUE,
            "%s reads %s from n%d (%s, applied lsn %llu): %s — %s%s%s%s", who,
            cmd->key, node, scn_route_name(cmd->route),
            (unsigned long long)applied, got, why,
            backwards ? "; older than what it read before" : "",
            missed_own ? "; misses its own write" : "", note);
    trace_read(R, cmd, node, value, version, stale);

    bool ok = true;
    char actual[320];
    snprintf(actual, sizeof(actual), "n%d returned %s, %s", node, got, why);
    switch (cmd->read_expect) {
    case SCN_READ_NONE:
        return;
    case SCN_READ_VALUE:
        ok = value && !strcmp(value, cmd->value);
        break;
    case SCN_READ_MISSING:
        ok = value == NULL;
        break;
    case SCN_READ_FRESH:
        ok = !stale;
        break;
    case SCN_READ_STALE:
        ok = stale;
        break;
    }
    r_verdict(R, cmd, ok, actual);
}

/* ------------------------------------------------------------------ */
