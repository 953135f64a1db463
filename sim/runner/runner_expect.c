/*
 * runner_expect.c — a scenario's `expect …` lines: each checked against
 * the cluster (or, for `expect pg`, the mirrored servers) where it stands
 * in the file, with the actual state in the message when it fails.
 */
#include "sim/runner/runner_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/trace.h"


static const char *quantity_name(enum scn_quantity q)
{
    switch (q) {
    case SCN_Q_TERM:
        return "term";
    case SCN_Q_LSN:
        return "lsn";
    case SCN_Q_COMMIT:
        return "commit";
    case SCN_Q_APPLIED:
        return "applied";
    default:
        return "value";
    }
}

static bool value_of(struct runner *R, const struct scn_cmd *cmd,
                     const struct scn_value *v, uint64_t *out)
{
    if (v->numvar > 0) {
        *out = v->numvar <= SCN_MAX_VARS ? R->nums[v->numvar - 1] : 0;
        return true;
    }
    if (v->q == SCN_Q_NONE) {
        *out = v->lit;
        return true;
    }
    int id;
    if (!r_one_node(R, cmd, &v->node, &id))
        return false;
    *out = rv_quantity(R, v->q, id);
    return true;
}

void r_check(struct runner *R, const struct scn_cmd *cmd)
{
    const struct scn_expect *ex = &cmd->ex;
    char actual[512] = "";
    bool ok = false;
    int id = 0;
    switch (ex->kind) {
    case SCN_EX_LEADER_IS: {
        int l = rv_leader(R);
        if (ex->none) {
            ok = l == 0;
            snprintf(actual, sizeof(actual), "n%d leads (term %llu)", l,
                     l ? (unsigned long long)raft_term(sim_node(R->c, l)) : 0ULL);
        } else {
            if (!r_one_node(R, cmd, &ex->node, &id))
                return;
            ok = ex->negate ? l != id : l == id;
            if (l)
                snprintf(actual, sizeof(actual), "the leader is n%d (term %llu)",
                         l, (unsigned long long)raft_term(sim_node(R->c, l)));
            else
                snprintf(actual, sizeof(actual), "there is no leader");
        }
        break;
    }
    case SCN_EX_LEADER_IN: {
        bool in[SCN_MAX_NODES + 1];
        if (!r_resolve(R, cmd, &ex->set, in))
            return;
        int l = rv_leader(R);
        ok = l && in[l];
        if (l)
            snprintf(actual, sizeof(actual), "the leader is n%d", l);
        else
            snprintf(actual, sizeof(actual), "there is no leader");
        break;
    }
    case SCN_EX_LEADERS: {
        int k = rv_claimants(R);
        ok = rv_compare((uint64_t)k, ex->cmp, ex->value.lit);
        snprintf(actual, sizeof(actual), "%d node%s claim%s to lead", k,
                 k == 1 ? "" : "s", k == 1 ? "s" : "");
        break;
    }
    case SCN_EX_ROLE: {
        if (!r_one_node(R, cmd, &ex->node, &id))
            return;
        bool up = sim_is_up(R->c, id) && R->started[id];
        enum raft_role role = raft_role(sim_node(R->c, id));
        if (ex->paused)
            ok = up && sim_is_paused(R->c, id);
        else if (ex->role == RAFT_DOWN)
            ok = !up;
        else
            ok = up && role == ex->role;
        if (ex->negate)
            ok = !ok;
        snprintf(actual, sizeof(actual), "n%d is %s", id, rv_role_name(R, id));
        break;
    }
    case SCN_EX_QUANTITY: {
        if (!r_one_node(R, cmd, &ex->node, &id))
            return;
        uint64_t a = rv_quantity(R, ex->q, id), b;
        if (!value_of(R, cmd, &ex->value, &b))
            return;
        ok = rv_compare(a, ex->cmp, b);
        snprintf(actual, sizeof(actual), "%s of n%d is %llu (against %llu)",
                 quantity_name(ex->q), id, (unsigned long long)a,
                 (unsigned long long)b);
        break;
    }
    case SCN_EX_COMMITTED: {
        if (ex->has_node && !r_one_node(R, cmd, &ex->node, &id))
            return;
        ok = rv_key_committed(R, ex->key, id);
        int t = id ? id : rv_truth(R);
        uint64_t at = rv_find_key(R, t, ex->key, UINT64_MAX, NULL);
        snprintf(actual, sizeof(actual),
                 "n%d has %s at lsn %llu, commit LSN %llu", t, ex->key,
                 (unsigned long long)at,
                 (unsigned long long)raft_commit_lsn(sim_node(R->c, t)));
        if (!at)
            snprintf(actual, sizeof(actual), "n%d's log has no %s", t,
                     ex->key);
        break;
    }
    case SCN_EX_LOST: {
        int acked = 0, lost = 0;
        for (int i = 0; i < sim_n_writes(R->c); i++) {
            const struct sim_write *w = sim_get_write(R->c, i);
            if (strcmp(w->key, ex->key) || w->outcome != SIM_ACKED)
                continue;
            acked++;
            lost += rv_lost(R, w->lsn, w->term);
        }
        ok = lost > 0;
        snprintf(actual, sizeof(actual),
                 "%d acknowledged write%s of %s, %d lost", acked,
                 acked == 1 ? "" : "s", ex->key, lost);
        break;
    }
    case SCN_EX_DISCARDED: {
        if (!r_one_node(R, cmd, &ex->node, &id))
            return;
        int k = 0;
        for (size_t i = 0; i < R->n_disc; i++)
            if (R->disc[i].node == id && !strcmp(R->disc[i].key, ex->key))
                k++;
        ok = k > 0;
        if (k)
            snprintf(actual, sizeof(actual), "n%d discarded %d entr%s of %s",
                     id, k, k == 1 ? "y" : "ies", ex->key);
        else
            snprintf(actual, sizeof(actual), "n%d discarded no entry of %s",
                     id, ex->key);
        break;
    }
    case SCN_EX_LOG_HAS: {
        if (!r_one_node(R, cmd, &ex->node, &id))
            return;
        const char *v = NULL;
        uint64_t at = rv_find_key(R, id, ex->key, UINT64_MAX, &v);
        /* KEY=VALUE: any entry of the log with that value, not only the
         * newest of the key */
        while (at && ex->kv_value[0] && strcmp(v, ex->kv_value) != 0)
            at = rv_find_key(R, id, ex->key, at - 1, &v);
        if (!at && ex->kv_value[0] && rv_find_key(R, id, ex->key, UINT64_MAX, &v)) {
            ok = ex->negate;
            snprintf(actual, sizeof(actual), "n%d's log has %s, never =%s "
                                             "(newest: %s)",
                     id, ex->key, ex->kv_value, v);
            break;
        }
        ok = ex->negate ? at == 0 : at != 0;
        if (at)
            snprintf(actual, sizeof(actual), "n%d's log has %s=%s at lsn %llu",
                     id, ex->key, v, (unsigned long long)at);
        else
            snprintf(actual, sizeof(actual), "n%d's log has no %s", id,
                     ex->key);
        break;
    }
    case SCN_EX_LAG: {
        if (!r_one_node(R, cmd, &ex->node, &id))
            return;
        uint64_t e, b, us;
        if (!rv_lag(R, id, &e, &b, &us)) {
            snprintf(actual, sizeof(actual), "no leader to measure lag from");
            break;
        }
        uint64_t a = ex->lag_unit == SCN_LAG_ENTRIES ? e
                     : ex->lag_unit == SCN_LAG_BYTES ? b
                                                     : us;
        ok = rv_compare(a, ex->cmp, ex->value.lit);
        snprintf(actual, sizeof(actual),
                 "n%d lags %llu entries, %llu bytes, %.3f s", id,
                 (unsigned long long)e, (unsigned long long)b, (double)us / 1e6);
        break;
    }
    case SCN_EX_READS: {
        const struct rclient *cl = &R->cl[ex->client];
        bool has = false;
        switch (ex->prop) {
        case SCN_READS_FRESH:
            has = cl->reads > 0 && cl->stale == 0;
            break;
        case SCN_READS_STALE:
            has = cl->stale > 0;
            break;
        case SCN_READS_MONOTONIC:
            has = cl->reads > 0 && cl->backwards == 0;
            break;
        case SCN_READS_OWN_WRITES:
            has = cl->reads > 0 && cl->missed_own == 0;
            break;
        }
        ok = ex->negate ? !has : has;
        snprintf(actual, sizeof(actual),
                 "%s made %llu reads: %llu stale, %llu went back in time, "
                 "%llu missed its own write",
                 R->p->clients[ex->client], (unsigned long long)cl->reads,
                 (unsigned long long)cl->stale,
                 (unsigned long long)cl->backwards,
                 (unsigned long long)cl->missed_own);
        break;
    }
    case SCN_EX_WRITE: {
        int widx = rv_last_write(R, ex->client, ex->key);
        if (widx < 0) {
            snprintf(actual, sizeof(actual), "%s never wrote %s",
                     R->p->clients[ex->client], ex->key);
            break;
        }
        ok = r_outcomes_match(R, widx, ex->outcomes, ex->negate);
        snprintf(actual, sizeof(actual), "the write is %s",
                 r_outcome_of(R, widx));
        break;
    }
    case SCN_EX_NO_VIOLATIONS: {
        uint64_t v = sim_violations(R->c);
        ok = v == 0;
        const struct sim_violation *sv = sim_violation(R->c);
        snprintf(actual, sizeof(actual), "%llu violation%s, first %s",
                 (unsigned long long)v, v == 1 ? "" : "s",
                 sv ? sv->invariant : "-");
        break;
    }
    case SCN_EX_VIOLATION: {
        const struct sim_violation *sv = sim_violation(R->c);
        ok = sv && (!ex->violation[0] || !strcmp(sv->invariant, ex->violation));
        snprintf(actual, sizeof(actual), "%s",
                 sv ? sv->invariant : "no invariant was violated");
        break;
    }
    case SCN_EX_PG:
        rm_flush(R);
        ok = rm_check(R, ex, actual, sizeof(actual));
        break;
    case SCN_EX_ELECTIONS:
    case SCN_EX_NEVER:
    case SCN_EX_PROGRESS:
        if (!r_check_words(R, cmd, &ok, actual, sizeof(actual)))
            return;
        break;
    case SCN_EX_MEMBERS:
        if (!r_check_member(R, cmd, &ok, actual, sizeof(actual)))
            return;
        break;
    }
    r_verdict(R, cmd, ok, actual);
}

/* ------------------------------------------------------------------ */
