/*
 * runner_view.c — what the cluster looks like, as a scenario asks it:
 * who leads, what a node's log holds, what is committed or lost for
 * good, how far a replica lags.  Read-only over the simulator's views.
 */
#include "sim/runner/runner_int.h"

#include <string.h>

int rv_leader_in(struct runner *R, const bool *in)
{
    int best = 0;
    uint64_t best_term = 0;
    for (int i = 1; i <= R->n; i++) {
        if (in && !in[i])
            continue;
        if (!sim_is_up(R->c, i) || sim_is_paused(R->c, i))
            continue;
        struct raft_node *r = sim_node(R->c, i);
        if (raft_role(r) != RAFT_LEADER)
            continue;
        if (!best || raft_term(r) > best_term) {
            best = i;
            best_term = raft_term(r);
        }
    }
    return best;
}

int rv_leader(struct runner *R) { return rv_leader_in(R, NULL); }

int rv_claimants(struct runner *R) { return sim_leaders(R->c, NULL); }

uint64_t rv_last_lsn(struct runner *R, int id)
{
    return wal_last_lsn(raft_wal(sim_node(R->c, id)));
}

uint64_t rv_quantity(struct runner *R, enum scn_quantity q, int id)
{
    struct raft_node *r = sim_node(R->c, id);
    switch (q) {
    case SCN_Q_TERM:
        return raft_term(r);
    case SCN_Q_LSN:
        return rv_last_lsn(R, id);
    case SCN_Q_COMMIT:
        return raft_commit_lsn(r);
    case SCN_Q_APPLIED:
        return sim_applied_lsn(R->c, id);
    default:
        return 0;
    }
}

const char *rv_role_name(struct runner *R, int id)
{
    if (!R->started[id])
        return "not started";
    if (!sim_is_up(R->c, id))
        return "down";
    const char *role = raft_role_name(raft_role(sim_node(R->c, id)));
    if (!sim_is_paused(R->c, id))
        return role;
    switch (raft_role(sim_node(R->c, id))) {
    case RAFT_LEADER:
        return "leader (paused)";
    case RAFT_CANDIDATE:
        return "candidate (paused)";
    case RAFT_PRECANDIDATE:
        return "pre-candidate (paused)";
    default:
        return "follower (paused)";
    }
}

uint64_t rv_find_key(struct runner *R, int id, const char *key,
                     uint64_t bound, const char **value)
{
    const struct wal *w = raft_wal(sim_node(R->c, id));
    if (bound > wal_last_lsn(w))
        bound = wal_last_lsn(w);
    for (uint64_t l = bound; l > w->base_lsn; l--) {
        const struct wal_entry *e = wal_get(w, l);
        if (e && e->payload && strcmp(wal_payload_key(e->payload), key) == 0) {
            if (value)
                *value = wal_payload_value(e->payload);
            return l;
        }
    }
    /* older writes are in the node's snapshot (compacted log) */
    if (w->base_lsn && bound >= w->base_lsn)
        return sim_snap_find(R->c, id, key, value);
    if (value)
        *value = NULL;
    return 0;
}

int rv_truth(struct runner *R)
{
    int best = 1;
    for (int i = 2; i <= R->n; i++)
        if (raft_commit_lsn(sim_node(R->c, i)) >
            raft_commit_lsn(sim_node(R->c, best)))
            best = i;
    return best;
}

/* The term at lsn in r's log; compacted, the cluster's committed one
 * (everything a snapshot holds was committed). */
static uint64_t term_at(struct runner *R, struct raft_node *r, uint64_t lsn)
{
    uint64_t t = wal_term_at(raft_wal(r), lsn);
    return t == WAL_TERM_COMPACTED ? sim_committed_term(R->c, lsn) : t;
}

/* Raft's safety makes both answers final: an entry some node knows to be
 * committed is in every later leader's log; an LSN committed with another
 * term can never hold this entry again. */
bool rv_committed(struct runner *R, uint64_t lsn, uint64_t term)
{
    if (!lsn)
        return false;
    for (int i = 1; i <= R->n; i++) {
        struct raft_node *r = sim_node(R->c, i);
        if (raft_commit_lsn(r) >= lsn && term_at(R, r, lsn) == term)
            return true;
    }
    return false;
}

bool rv_lost(struct runner *R, uint64_t lsn, uint64_t term)
{
    if (!lsn)
        return false;
    for (int i = 1; i <= R->n; i++) {
        struct raft_node *r = sim_node(R->c, i);
        if (raft_commit_lsn(r) >= lsn && term_at(R, r, lsn) != term)
            return true;
    }
    return false;
}

bool rv_key_committed(struct runner *R, const char *key, int on)
{
    for (int i = 1; i <= R->n; i++) {
        if (on && i != on)
            continue;
        struct raft_node *r = sim_node(R->c, i);
        if (rv_find_key(R, i, key, raft_commit_lsn(r), NULL))
            return true;
    }
    return false;
}

bool rv_lag(struct runner *R, int id, uint64_t *entries, uint64_t *bytes,
            uint64_t *us)
{
    int l = rv_leader(R);
    if (!l)
        return false;
    const struct wal *lw = raft_wal(sim_node(R->c, l));
    uint64_t last = wal_last_lsn(lw);
    uint64_t applied = sim_applied_lsn(R->c, id);
    /* Entries the node applied from an older, discarded history do not
     * count as progress: find where its log still matches the leader's. */
    const struct wal *w = raft_wal(sim_node(R->c, id));
    while (applied > 0 && wal_term_at(w, applied) != wal_term_at(lw, applied))
        applied--;
    if (applied > last)
        applied = last;
    *entries = last - applied;
    *bytes = 0;
    for (uint64_t k = applied + 1; k <= last; k++) {
        const struct wal_entry *e = wal_get(lw, k);
        /* what a WAL record costs: header (lsn, term, type) + key/value */
        *bytes += 17;
        if (e && e->payload)
            *bytes += e->payload->key_len + e->payload->value_len;
    }
    *us = 0;
    if (applied < last) {
        uint64_t k = applied + 1;
        if (k < R->app_cap && R->app_term[k] == wal_term_at(lw, k) &&
            sim_now(R->c) > R->app_t[k])
            *us = sim_now(R->c) - R->app_t[k];
    }
    return true;
}

int rv_last_write(struct runner *R, int client, const char *key)
{
    for (int i = sim_n_writes(R->c) - 1; i >= 0; i--) {
        const struct sim_write *w = sim_get_write(R->c, i);
        if (w->client == client + 1 && strcmp(w->key, key) == 0)
            return i;
    }
    return -1;
}

bool rv_compare(uint64_t a, enum scn_cmp cmp, uint64_t b)
{
    switch (cmp) {
    case SCN_EQ:
        return a == b;
    case SCN_NE:
        return a != b;
    case SCN_LT:
        return a < b;
    case SCN_LE:
        return a <= b;
    case SCN_GT:
        return a > b;
    case SCN_GE:
        return a >= b;
    }
    return false;
}
