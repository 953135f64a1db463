/*
 * node.c — a raft node's lifecycle, its clock, its role changes and the
 * Ready/Advance hand-off to the driver.  Message handling lives in
 * election.c, replication.c and transfer.c; this file routes messages to
 * them after the term rules every message obeys (Raft Figure 2, "All
 * Servers").
 */
#include "raft/internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void raft_config_default(struct raft_config *cfg, int id, int n_nodes)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->id = id;
    cfg->n_nodes = n_nodes;
    cfg->heartbeat_us = 50000;
    cfg->election_min_us = 150000;
    cfg->election_max_us = 300000;
    cfg->ack_mode = RAFT_ACK_QUORUM;
    cfg->policy = RAFT_ELECT_HIGHEST_LSN;
    cfg->prevote = true;
    cfg->checkquorum = true;
    cfg->fast_detect = true;
    cfg->seed = (uint64_t)id;
}

int raft_nodeset_count(const raft_nodeset *s)
{
    int c = 0;
    for (size_t i = 0; i < sizeof(s->bits) / sizeof(s->bits[0]); i++)
        c += __builtin_popcountll(s->bits[i]);
    return c;
}

int raft_node_new(const struct raft_config *cfg, raft_time_t now_us,
                  struct raft_node **out)
{
    *out = NULL;
    if (cfg->n_nodes < 1 || cfg->n_nodes > RAFT_MAX_NODES || cfg->id < 1 ||
        cfg->id > cfg->n_nodes || cfg->heartbeat_us == 0 ||
        cfg->election_min_us == 0 ||
        cfg->election_max_us < cfg->election_min_us ||
        raft__conf_valid(cfg) != 0)
        return RAFT_EINVAL;
    struct raft_node *n = calloc(1, sizeof(*n));
    if (!n)
        return RAFT_ENOMEM;
    n->cfg = *cfg;
    if (!n->cfg.max_batch)
        n->cfg.max_batch = RAFT_DEFAULT_BATCH;
    if (!n->cfg.max_inflight)
        n->cfg.max_inflight = RAFT_DEFAULT_INFLIGHT;
    n->prog = calloc((size_t)cfg->n_nodes + 1, sizeof(*n->prog));
    n->infl = calloc(((size_t)cfg->n_nodes + 1) * n->cfg.max_inflight,
                     sizeof(*n->infl));
    if (!n->prog || !n->infl) {
        free(n->prog);
        free(n->infl);
        free(n);
        return RAFT_ENOMEM;
    }
    raft__conf_init(n);
    prng_seed(&n->rng, cfg->seed);
    wal_init(&n->wal);
    n->now = now_us;
    n->role = RAFT_FOLLOWER;
    raft__reset_election_timer(n);
    struct raft_event *ev = raft__event(n, RAFT_EV_ROLE);
    ev->role = RAFT_FOLLOWER;
    ev->reason = RAFT_R_START;
    *out = n;
    return RAFT_OK;
}

/* Drop the first k messages / events (those handed out in a Ready);
 * anything emitted after raft_ready_get survives for the next one. */
static void drop_msgs(struct raft_node *n, size_t k)
{
    if (k == 0)
        return;
    for (size_t i = 0; i < k; i++)
        raft_msg_free(&n->msgs[i]);
    memmove(n->msgs, n->msgs + k, (n->n_msgs - k) * sizeof(*n->msgs));
    n->n_msgs -= k;
}

static void drop_events(struct raft_node *n, size_t k)
{
    if (k == 0)
        return;
    for (size_t i = 0; i < k; i++)
        wal_payload_unref((struct wal_payload *)n->events[i].payload);
    memmove(n->events, n->events + k,
            (n->n_events - k) * sizeof(*n->events));
    n->n_events -= k;
}

void raft_node_free(struct raft_node *n)
{
    if (!n)
        return;
    drop_msgs(n, n->n_msgs);
    drop_events(n, n->n_events);
    free(n->msgs);
    free(n->events);
    for (int i = 0; n->prog && i <= n->cfg.n_nodes; i++)
        raft__snapshot_stop(&n->prog[i]);
    free(n->prog);
    free(n->infl);
    raft__early_clear(n);
    raft__inst_clear(n);
    raft__snapdata_unref(n->snap);
    raft__snapdata_unref(n->snap_handed);
    free(n->early);
    wal_close(&n->wal);
    free(n);
}

/* ------------------------------------------------------------------ */
/* Output buffers.  Growth failure is fatal to the run: there is no way
 * for a pure state machine to continue correctly after silently dropping
 * an event the checker relies on. */

static void *grow(void *p, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    void *np = realloc(p, ncap * elem);
    if (!np)
        abort();
    *cap = ncap;
    return np;
}

struct raft_event *raft__event(struct raft_node *n, int kind)
{
    if (n->n_events == n->cap_events)
        n->events = grow(n->events, &n->cap_events, sizeof(*n->events));
    struct raft_event *ev = &n->events[n->n_events++];
    memset(ev, 0, sizeof(*ev));
    ev->kind = (uint8_t)kind;
    ev->node = n->cfg.id;
    ev->term = n->term;
    ev->role = (uint8_t)n->role;
    return ev;
}

struct raft_msg *raft__msg(struct raft_node *n, int type, int to)
{
    assert(to >= 1 && to <= n->cfg.n_nodes && to != n->cfg.id);
    if (n->n_msgs == n->cap_msgs)
        n->msgs = grow(n->msgs, &n->cap_msgs, sizeof(*n->msgs));
    struct raft_msg *m = &n->msgs[n->n_msgs++];
    memset(m, 0, sizeof(*m));
    m->type = (uint8_t)type;
    m->from = n->cfg.id;
    m->to = to;
    m->term = n->term;
    return m;
}

void raft__emit_entry(struct raft_node *n, int kind,
                      const struct wal_entry *e, int reason)
{
    struct raft_event *ev = raft__event(n, kind);
    ev->lsn = e->lsn;
    ev->entry_term = e->term;
    ev->entry_type = e->type;
    ev->reason = (uint8_t)reason;
    ev->payload = wal_payload_ref(e->payload);
}

/* ------------------------------------------------------------------ */
/* Roles */

/* Fast detection's short delay D (raft_peer_closed): the first pre-vote
 * after a close is drawn in [0, D]; the next RAFT_FAST_TIMERS timers in
 * [D, 2D], so that a vote split between two followers that saw the same
 * close is retried as fast, until a leader is heard or a campaign's
 * replies do not come back within the short timer (a slow network:
 * raft_tick), and from then on [min, max] as ever. */
raft_time_t raft__fast_delay(const struct raft_node *n)
{
    raft_time_t d = n->cfg.election_min_us / RAFT_FAST_DELAY_DIV;
    return d ? d : 1;
}

void raft__reset_election_timer(struct raft_node *n)
{
    if (n->fast_left) {
        n->fast_left--;
        raft_time_t d = raft__fast_delay(n);
        n->election_timeout = prng_range(&n->rng, d, 2 * d);
    } else {
        n->election_timeout = prng_range(&n->rng, n->cfg.election_min_us,
                                         n->cfg.election_max_us);
    }
    n->election_deadline = n->now + n->election_timeout;
    /* a deferral (or a close's delay) waits for one timer: any new one
     * is a plain timeout */
    n->defer_waiting = false;
    n->close_waiting = false;
}

/* Has this node heard from a live leader within the minimum election
 * timeout?  Such a node refuses to help depose it (thesis §4.2.3, §9.6). */
bool raft__leader_alive(const struct raft_node *n)
{
    if (n->role == RAFT_LEADER)
        return true;
    return n->leader != RAFT_NONE && n->leader_contact_valid &&
           n->now - n->leader_contact < n->cfg.election_min_us;
}

void raft__become_follower(struct raft_node *n, uint64_t term, int leader,
                           int reason, int peer)
{
    assert(term >= n->term);
    if (n->role == RAFT_LEADER) /* snapshots being sent: let go */
        for (int i = 1; i <= n->cfg.n_nodes; i++)
            raft__snapshot_stop(&n->prog[i]);
    bool changed = n->role != RAFT_FOLLOWER || term != n->term ||
                   leader != n->leader;
    if (term > n->term) {
        n->term = term;
        n->voted_for = RAFT_NONE;
    }
    if (changed)
        raft__early_clear(n); /* kept appends are this leader's only */
    n->role = RAFT_FOLLOWER;
    n->leader = leader;
    n->bcast_pending = false;
    n->transfer_to = RAFT_NONE; /* done (the target's term) or moot */
    memset(&n->granted, 0, sizeof(n->granted));
    memset(&n->refused, 0, sizeof(n->refused));
    raft__reset_election_timer(n);
    if (changed) {
        struct raft_event *ev = raft__event(n, RAFT_EV_ROLE);
        ev->reason = (uint8_t)reason;
        ev->peer = peer;
    }
}

static void start_tally(struct raft_node *n)
{
    memset(&n->granted, 0, sizeof(n->granted));
    memset(&n->refused, 0, sizeof(n->refused));
    if (raft__is_voter(n, n->cfg.id)) /* a removed server stands uncounted */
        raft_nodeset_add(&n->granted, n->cfg.id);
    n->campaign_start = n->now;
    n->gather_deadline = 0;
    n->gather_done = false;
}

void raft__become_precandidate(struct raft_node *n, int reason)
{
    int last_leader = n->leader;
    raft__early_clear(n);
    n->role = RAFT_PRECANDIDATE;
    n->leader = RAFT_NONE;
    start_tally(n);
    raft_time_t fired = n->election_timeout;
    raft__reset_election_timer(n);
    struct raft_event *ev = raft__event(n, RAFT_EV_ROLE);
    ev->reason = (uint8_t)reason;
    ev->peer = last_leader;
    ev->prevote = true;
    ev->until_us = fired;
}

void raft__become_candidate(struct raft_node *n, int reason)
{
    int last_leader = n->leader;
    raft_nodeset prevotes = n->granted; /* PREVOTE_WON: who granted it */
    raft__early_clear(n);
    n->term++;
    n->voted_for = n->cfg.id;
    n->role = RAFT_CANDIDATE;
    n->leader = RAFT_NONE;
    start_tally(n);
    raft_time_t fired = n->election_timeout;
    raft__reset_election_timer(n);
    struct raft_event *ev = raft__event(n, RAFT_EV_ROLE);
    ev->reason = (uint8_t)reason;
    ev->peer = last_leader;
    ev->until_us = fired;
    if (reason == RAFT_R_PREVOTE_WON)
        ev->votes = prevotes;
}

void raft__become_leader(struct raft_node *n)
{
    assert(n->role == RAFT_CANDIDATE);
    n->role = RAFT_LEADER;
    n->leader = n->cfg.id;
    n->deferred = false;
    n->fast_left = 0;
    n->transfer_to = RAFT_NONE;
    uint64_t last = wal_last_lsn(&n->wal);
    for (int i = 1; i <= n->cfg.n_nodes; i++) {
        struct raft_progress *p = &n->prog[i];
        raft__snapshot_stop(p);
        memset(p, 0, sizeof(*p));
        p->next_lsn = last + 1;
        p->probe = true;
        p->recent_active = true;
    }
    n->prog[n->cfg.id].match_lsn = n->wal.flushed_lsn;
    n->above_valid = false;
    n->ack_lsn = n->commit_lsn;
    struct raft_event *ev = raft__event(n, RAFT_EV_ROLE);
    ev->reason = RAFT_R_WON_ELECTION;
    ev->votes = n->granted;
    ev->quorum = n->quorum;
    /* A no-op of the new term lets the leader commit what earlier terms
     * left behind (Raft §5.4.2, §8).  The commit-old-term unsafe rule
     * drops it too: with it in place Figure 8 can never show. */
    if (!(n->cfg.unsafe & RAFT_UNSAFE_COMMIT_OLD_TERM)) {
        if (wal_append(&n->wal, n->term, WAL_ENTRY_NOOP, NULL) != 0)
            abort();
        raft__emit_entry(n, RAFT_EV_APPEND, wal_get(&n->wal, last + 1),
                         RAFT_R_NONE);
    }
    n->checkquorum_deadline = n->now + n->cfg.election_min_us;
    n->heartbeat_deadline = n->now + n->cfg.heartbeat_us;
    raft__broadcast(n, true);
    raft__maybe_commit(n); /* a one-node cluster commits alone */
}

/* ------------------------------------------------------------------ */
/* Driver entry points */

int raft_campaign_now(struct raft_node *n, raft_time_t now_us)
{
    if (n->role == RAFT_DOWN)
        return RAFT_EDOWN;
    if (n->role == RAFT_LEADER || n->cfg.nofailover ||
        !raft__is_voter(n, n->cfg.id))
        return RAFT_EINVAL;
    if (now_us > n->now)
        n->now = now_us;
    raft__campaign(n, RAFT_R_CAMPAIGN);
    return RAFT_OK;
}

void raft_tick(struct raft_node *n, raft_time_t now_us)
{
    if (n->role == RAFT_DOWN)
        return;
    if (now_us > n->now)
        n->now = now_us;
    if (n->role == RAFT_LEADER) {
        if (n->cfg.checkquorum && n->now >= n->checkquorum_deadline) {
            int active = raft__is_voter(n, n->cfg.id);
            for (int i = 1; i <= n->cfg.n_nodes; i++) {
                if (i == n->cfg.id)
                    continue;
                active += n->prog[i].recent_active && raft__is_voter(n, i);
                n->prog[i].recent_active = false;
            }
            n->checkquorum_deadline = n->now + n->cfg.election_min_us;
            if (active < n->quorum) {
                raft__become_follower(n, n->term, RAFT_NONE,
                                      RAFT_R_CHECK_QUORUM, RAFT_NONE);
                return;
            }
        }
        raft__transfer_tick(n);
        if (n->now >= n->heartbeat_deadline) {
            n->heartbeat_deadline = n->now + n->cfg.heartbeat_us;
            raft__broadcast(n, true);
        }
        return;
    }
    if (n->role == RAFT_PRECANDIDATE && n->gather_deadline &&
        n->now >= n->gather_deadline) {
        raft__gather_expired(n);
        return;
    }
    if (n->now >= n->election_deadline) {
        /* A short timer ran out before a majority even answered: the
         * network is slower than fast detection's delay, so stop
         * retrying fast (the split vote it is for cannot be told). */
        if (n->fast_left && (n->role == RAFT_PRECANDIDATE ||
                             n->role == RAFT_CANDIDATE) &&
            raft_nodeset_count(&n->granted) +
                    raft_nodeset_count(&n->refused) <
                n->quorum)
            n->fast_left = 0;
        if (!raft__may_stand(n)) {
            /* votes, never stands (a witness); a learner or a server
             * outside the configuration never stands either, unless
             * that configuration is not committed yet */
            raft__reset_election_timer(n);
            return;
        }
        raft__campaign(n, n->close_waiting   ? RAFT_R_LEADER_CLOSED
                          : n->defer_waiting ? RAFT_R_DEFER_EXPIRED
                                             : RAFT_R_ELECTION_TIMEOUT);
    }
}

raft_time_t raft_next_deadline(const struct raft_node *n)
{
    if (n->role == RAFT_DOWN)
        return UINT64_MAX;
    if (n->role == RAFT_LEADER) {
        raft_time_t d = n->heartbeat_deadline;
        if (n->cfg.checkquorum && n->checkquorum_deadline < d)
            d = n->checkquorum_deadline;
        if (n->transfer_to != RAFT_NONE && n->transfer_deadline < d)
            d = n->transfer_deadline;
        return d;
    }
    if (n->role == RAFT_PRECANDIDATE && n->gather_deadline &&
        n->gather_deadline < n->election_deadline)
        return n->gather_deadline;
    return n->election_deadline;
}

raft_time_t raft_election_deadline(const struct raft_node *n,
                                   raft_time_t *timeout_us)
{
    if (timeout_us)
        *timeout_us = n->election_timeout;
    if (n->role == RAFT_DOWN || n->role == RAFT_LEADER)
        return UINT64_MAX;
    return n->election_deadline;
}

static bool is_request(int type)
{
    return type == RAFT_MSG_PREVOTE || type == RAFT_MSG_VOTE;
}

void raft_step(struct raft_node *n, raft_time_t now_us,
               const struct raft_msg *m)
{
    if (n->role == RAFT_DOWN)
        return;
    if (m->to != n->cfg.id || m->from < 1 || m->from > n->cfg.n_nodes ||
        m->from == n->cfg.id || m->type < 1 || m->type > RAFT_MSG_TYPE_MAX)
        return; /* not for us: a driver bug or a forged frame */
    if (now_us > n->now)
        n->now = now_us;
    uint64_t at;
    int bad = raft__check_msg(n, m, &at);
    if (bad != RAFT_R_NONE) {
        raft__reject(n, m, bad, at);
        return;
    }
    if (n->role == RAFT_LEADER)
        n->prog[m->from].recent_active = true;

    /* Term rules.  Pre-votes never change terms: a pre-vote request
     * carries the term its sender would campaign in, and a granted
     * pre-vote reply echoes it.  A vote request may be refused without
     * adopting its term when we believe a leader is alive (else a
     * partitioned node would depose a healthy leader on rejoin). */
    if (m->term > n->term) {
        bool adopt = true;
        if (m->type == RAFT_MSG_PREVOTE ||
            (m->type == RAFT_MSG_PREVOTE_RESP && m->granted))
            adopt = false;
        if (m->type == RAFT_MSG_VOTE && n->cfg.checkquorum &&
            !m->transfer && raft__leader_alive(n))
            adopt = false;
        if (adopt)
            raft__become_follower(
                n, m->term,
                m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT
                    ? m->from
                    : RAFT_NONE,
                RAFT_R_HIGHER_TERM, m->from);
    } else if (m->term < n->term) {
        if (m->type == RAFT_MSG_APPEND) {
            /* A stale leader: tell it our term so it steps down. */
            struct raft_msg *r = raft__msg(n, RAFT_MSG_APPEND_RESP, m->from);
            r->success = false;
            return;
        }
        if (m->type == RAFT_MSG_SNAPSHOT) { /* the same, for a snapshot */
            struct raft_msg *r =
                raft__msg(n, RAFT_MSG_SNAPSHOT_RESP, m->from);
            r->last_lsn = m->last_lsn;
            return;
        }
        if (!is_request(m->type))
            return; /* stale reply */
    }

    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        raft__recv_vote_request(n, m);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        raft__recv_vote_response(n, m);
        break;
    case RAFT_MSG_APPEND:
        raft__recv_append(n, m);
        break;
    case RAFT_MSG_APPEND_RESP:
        raft__recv_append_response(n, m);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        raft__recv_timeout_now(n, m);
        break;
    case RAFT_MSG_SNAPSHOT:
        raft__recv_snapshot(n, m);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        raft__recv_snapshot_response(n, m);
        break;
    }
}

int raft__can_propose(const struct raft_node *n)
{
    if (n->role == RAFT_DOWN)
        return RAFT_EDOWN;
    if (n->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    if (n->transfer_to != RAFT_NONE)
        return RAFT_ETRANSFER; /* thesis §3.10: the log must stop growing */
    return RAFT_OK;
}

int raft__append_own(struct raft_node *n, raft_time_t now_us, uint8_t type,
                     struct wal_payload *p, uint64_t *lsn_out)
{
    if (now_us > n->now)
        n->now = now_us;
    int rc = wal_append(&n->wal, n->term, type, p);
    wal_payload_unref(p);
    if (rc != 0)
        return RAFT_ENOMEM;
    uint64_t lsn = wal_last_lsn(&n->wal);
    raft__emit_entry(n, RAFT_EV_APPEND, wal_get(&n->wal, lsn), RAFT_R_NONE);
    n->bcast_pending = true;
    if (lsn_out)
        *lsn_out = lsn;
    return RAFT_OK;
}

int raft_propose(struct raft_node *n, raft_time_t now_us, const char *key,
                 size_t key_len, const char *value, size_t value_len,
                 uint64_t *lsn_out)
{
    int rc = raft__can_propose(n);
    if (rc != RAFT_OK)
        return rc;
    struct wal_payload *p = wal_payload_new(key, key_len, value, value_len);
    if (!p)
        return key_len > WAL_KEY_MAX || value_len > WAL_VALUE_MAX
                   ? RAFT_EINVAL
                   : RAFT_ENOMEM;
    return raft__append_own(n, now_us, WAL_ENTRY_DATA, p, lsn_out);
}

bool raft_has_ready(const struct raft_node *n)
{
    return n->n_msgs || n->n_events || n->bcast_pending ||
           (n->role != RAFT_DOWN && n->restore_pending) ||
           wal_last_lsn(&n->wal) > n->persist_handed ||
           (n->role != RAFT_DOWN && n->commit_lsn > n->applied_handed);
}

void raft_ready_get(struct raft_node *n, struct raft_ready *rd)
{
    if (n->bcast_pending && n->role == RAFT_LEADER)
        raft__broadcast(n, false);
    n->bcast_pending = false;
    memset(rd, 0, sizeof(*rd));
    rd->msgs = n->msgs;
    rd->n_msgs = n->n_msgs;
    rd->events = n->events;
    rd->n_events = n->n_events;
    n->msgs_handed = n->n_msgs;
    n->events_handed = n->n_events;
    uint64_t last = wal_last_lsn(&n->wal);
    rd->persist_lsn = last > n->wal.flushed_lsn ? last : n->wal.flushed_lsn;
    n->persist_handed = last;
    if (n->role != RAFT_DOWN && n->restore_pending && n->snap) {
        rd->restore = true;
        rd->snap.lsn = n->snap->lsn;
        rd->snap.term = n->snap->term;
        rd->snap.data = n->snap->data + n->snap->hdr;
        rd->snap.len = n->snap->len - n->snap->hdr;
        raft__snapdata_unref(n->snap_handed);
        n->snap_handed = n->snap; /* held until raft_advance */
        n->snap->refs++;
    }
    if (n->role != RAFT_DOWN)
        n->restore_pending = false;
    if (n->role != RAFT_DOWN && n->commit_lsn > n->applied_handed) {
        rd->apply_from = n->applied_handed + 1;
        rd->apply_to = n->commit_lsn;
        n->applied_handed = n->commit_lsn;
    }
}

void raft_advance(struct raft_node *n)
{
    drop_msgs(n, n->msgs_handed);
    drop_events(n, n->events_handed);
    n->msgs_handed = n->events_handed = 0;
    raft__snapdata_unref(n->snap_handed);
    n->snap_handed = NULL;
}

void raft_persisted(struct raft_node *n, raft_time_t now_us, uint64_t lsn)
{
    if (n->role == RAFT_DOWN)
        return;
    if (now_us > n->now)
        n->now = now_us;
    wal_set_flushed(&n->wal, lsn);
    if (n->role == RAFT_LEADER) {
        n->prog[n->cfg.id].match_lsn = n->wal.flushed_lsn;
        raft__maybe_commit(n);
    }
}

void raft_crash(struct raft_node *n, bool lose_unflushed)
{
    if (n->role == RAFT_DOWN)
        return;
    raft__early_clear(n); /* volatile */
    raft__inst_clear(n);  /* a half-received snapshot is volatile too */
    /* Messages not yet handed out are never sent. */
    for (size_t i = n->msgs_handed; i < n->n_msgs; i++)
        raft_msg_free(&n->msgs[i]);
    n->n_msgs = n->msgs_handed;
    if (lose_unflushed && wal_last_lsn(&n->wal) > n->wal.flushed_lsn) {
        struct wal_entry *lost = NULL;
        uint64_t k = wal_truncate(&n->wal, n->wal.flushed_lsn + 1, &lost);
        for (uint64_t i = 0; lost && i < k; i++)
            raft__emit_entry(n, RAFT_EV_DISCARD, &lost[i], RAFT_R_CRASH);
        wal_entries_free(lost, k);
        raft__conf_reload(n, false);
    }
    /* What survived is on disk now. */
    n->wal.flushed_lsn = wal_last_lsn(&n->wal);
    n->persist_handed = n->wal.flushed_lsn;
    n->role = RAFT_DOWN;
    n->leader = RAFT_NONE;
    n->bcast_pending = false;
    n->leader_contact_valid = false;
    n->deferred = false;
    n->close_waiting = false;
    n->fast_left = 0;
    n->transfer_to = RAFT_NONE;
    /* The commit point is kept (etcd persists it in HardState) but can
     * never exceed the surviving log. */
    if (n->commit_lsn > wal_last_lsn(&n->wal))
        n->commit_lsn = wal_last_lsn(&n->wal);
    /* The state machine is rebuilt on restart: from the snapshot, if
     * there is one, then the log. */
    n->applied_handed = n->wal.base_lsn;
    n->restore_pending = n->snap != NULL;
}

void raft_restart(struct raft_node *n, raft_time_t now_us)
{
    if (n->role != RAFT_DOWN)
        return;
    if (now_us > n->now)
        n->now = now_us;
    n->role = RAFT_FOLLOWER;
    raft__reset_election_timer(n);
    struct raft_event *ev = raft__event(n, RAFT_EV_ROLE);
    ev->reason = RAFT_R_RESTART;
}

/* ------------------------------------------------------------------ */
/* Views */

int raft_id(const struct raft_node *n) { return n->cfg.id; }
enum raft_role raft_role(const struct raft_node *n) { return n->role; }
uint64_t raft_term(const struct raft_node *n) { return n->term; }
int raft_voted_for(const struct raft_node *n) { return n->voted_for; }
int raft_leader(const struct raft_node *n) { return n->leader; }
uint64_t raft_commit_lsn(const struct raft_node *n) { return n->commit_lsn; }
const struct wal *raft_wal(const struct raft_node *n) { return &n->wal; }
const struct raft_config *raft_config(const struct raft_node *n)
{
    return &n->cfg;
}

uint64_t raft_match_lsn(const struct raft_node *n, int peer)
{
    if (n->role != RAFT_LEADER || peer < 1 || peer > n->cfg.n_nodes)
        return 0;
    return n->prog[peer].match_lsn;
}
