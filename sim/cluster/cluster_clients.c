/*
 * cluster_clients.c — clients that write to whoever they believe leads.
 *
 * A write travels to a node (client latency), is proposed there if that
 * node leads, and waits for the leader's ACK event; otherwise the client
 * follows the redirect hint, or tries the next node after a heartbeat, up
 * to MAX_ATTEMPTS (then "refused": the cluster is read-only without a
 * leader).  A leader handing leadership over refuses at once ("transfer
 * in progress", like etcd's ErrProposalDropped): the client may retry.  A leader that steps down answers "unknown" for what it had
 * pending, and a client that hears nothing for client_timeout gives up
 * with "unknown" too: such a write may or may not commit.
 */
#include "sim/cluster/cluster_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS 5

static void trace_client(struct sim_cluster *c, int widx, const char *outcome)
{
    if (!trace_on(&c->tr))
        return;
    const struct write_state *w = sim__write(c, widx);
    trace_begin(&c->tr, c->now, w->pub.node, "client");
    char name[16];
    snprintf(name, sizeof(name), "c%d", w->pub.client);
    trace_str(&c->tr, "client", name);
    trace_str(&c->tr, "op", "write");
    trace_str(&c->tr, "key", w->pub.key);
    trace_str(&c->tr, "value", w->pub.value);
    trace_u64(&c->tr, "lsn", w->pub.lsn);
    trace_str(&c->tr, "outcome", outcome);
    /* appended to the contract later: which write this is (1, 2, … in
     * the order sent: a retry is a new write), and the client's name */
    trace_u64(&c->tr, "write", (uint64_t)widx + 1);
    if (c->clients[w->pub.client].name[0])
        trace_str(&c->tr, "name", c->clients[w->pub.client].name);
    trace_end(&c->tr);
}

/*
 * Settled writes (forget_settled_writes).  Once a write has its outcome,
 * its record has done all it is for: the trace line, the history line and
 * the write hook have seen the outcome; an acknowledged write's (lsn,
 * term) went to the checker (chk_acked), which from then on judges it
 * from its own copy and its shadow logs, never from the record; a refused
 * or unknown write the checker never sees.  What may still name the
 * write's index — its client timeout, a late answer in flight, a leader's
 * pending list — only asks whether it is still pending, which a
 * forgotten write is not (sim__write_pending).  So the records of a
 * settled prefix are dropped, and the array keeps the writes from the
 * oldest unsettled one on: each write settles within client_timeout_us
 * (its timeout makes it unknown), so that is at most the writes sent in
 * one client timeout.  The prefix moves down in one memmove once it is
 * at least half the array (amortized O(1) per write).
 */
static void sim__settle(struct sim_cluster *c)
{
    while (c->w_settled < c->n_writes && !sim__write_pending(c, c->w_settled))
        c->w_settled++;
    if (!c->o.forget_settled_writes)
        return;
    int drop = c->w_settled - c->w_base, held = c->n_writes - c->w_base;
    if (drop < 64 || drop * 2 < held)
        return;
    memmove(c->writes, c->writes + drop,
            (size_t)(held - drop) * sizeof(*c->writes));
    c->w_base += drop;
}

static void respond(struct sim_cluster *c, int widx, int node, int resp,
                    int hint)
{
    struct sim_ev *e =
        sim__sched(c, c->now + c->o.client_latency_us, EV_CRESP, node);
    e->widx = widx;
    e->resp = (uint8_t)resp;
    e->hint = hint;
}

void sim__fail_pending(struct sim_cluster *c, struct node_state *s, int id,
                         int resp)
{
    for (size_t i = 0; i < s->n_pend; i++)
        if (sim__write_pending(c, s->pend[i]))
            respond(c, s->pend[i], id, resp, RAFT_NONE);
    s->n_pend = 0;
}

void sim__ack_pending(struct sim_cluster *c, struct node_state *s, int id,
                        uint64_t lsn)
{
    const struct wal *wal = raft_wal(s->r);
    size_t k = 0;
    for (size_t i = 0; i < s->n_pend; i++) {
        struct write_state *w = sim__write(c, s->pend[i]);
        if (!w || w->pub.outcome != SIM_PENDING)
            continue; /* timed out: forget it */
        if (w->pub.lsn <= lsn) {
            if (wal_term_at(wal, w->pub.lsn) == w->pub.term)
                respond(c, s->pend[i], id, CR_ACKED, id);
            continue;
        }
        s->pend[k++] = s->pend[i];
    }
    s->n_pend = k;
}

static int pick_node(struct sim_cluster *c)
{
    return (int)prng_range(&c->rng, 1, (uint64_t)c->n);
}

static void client_send(struct sim_cluster *c, int widx, int target,
                        uint64_t delay)
{
    struct write_state *w = sim__write(c, widx);
    w->target = target;
    w->attempts++;
    struct sim_ev *e = sim__sched(c, c->now + delay, EV_CREQ, target);
    e->widx = widx;
}

int sim_client_write(struct sim_cluster *c, int client, int via,
                     const char *key, const char *value)
{
    if (client < 1 || client > c->o.n_clients)
        client = 1;
    if (c->n_writes - c->w_base == c->cap_writes) {
        c->cap_writes = c->cap_writes ? c->cap_writes * 2 : 256;
        c->writes =
            sim__xrealloc(c->writes, (size_t)c->cap_writes * sizeof(*c->writes));
    }
    int widx = c->n_writes++;
    struct write_state *w = &c->writes[widx - c->w_base];
    memset(w, 0, sizeof(*w));
    w->pub.client = client;
    w->pub.submit_us = c->now;
    snprintf(w->pub.key, sizeof(w->pub.key), "%s", key);
    snprintf(w->pub.value, sizeof(w->pub.value), "%s", value);
    c->st.writes++;
    int target = via;
    if (target < 1 || target > c->n)
        target = c->clients[client].believed_leader;
    if (target < 1 || target > c->n)
        target = pick_node(c);
    w->pub.node = target;
    trace_client(c, widx, "sent");
    sim__history_invoke(c, widx);
    if (c->write_hook)
        c->write_hook(c->write_hook_ctx, c, widx);
    client_send(c, widx, target, c->o.client_latency_us);
    struct sim_ev *e =
        sim__sched(c, c->now + c->o.client_timeout_us, EV_CTIMEOUT, 0);
    e->widx = widx;
    return widx;
}

void sim__finish_write(struct sim_cluster *c, int widx,
                         enum sim_outcome o)
{
    struct write_state *w = sim__write(c, widx);
    w->pub.outcome = o;
    w->pub.done_us = c->now;
    switch (o) {
    case SIM_ACKED:
        c->st.acked++;
        chk_acked(c->chk, c->now, w->pub.lsn, w->pub.term);
        sim__drain_violations(c);
        break;
    case SIM_REFUSED:
        c->st.refused++;
        break;
    case SIM_UNKNOWN:
        c->st.unknown++;
        break;
    default:
        break;
    }
    trace_client(c, widx, sim_outcome_name(o));
    sim__history_complete(c, widx);
    if (c->write_hook)
        c->write_hook(c->write_hook_ctx, c, widx);
    sim__settle(c);
}

static bool answer(struct sim_cluster *c, int widx, int node, int rc,
                   uint64_t lsn);

bool sim__client_request(struct sim_cluster *c, struct sim_ev *e)
{
    struct write_state *w = sim__write(c, e->widx);
    struct node_state *s = &c->nodes[e->node];
    if (!w || w->pub.outcome != SIM_PENDING)
        return false;
    if (!s->up) {
        respond(c, e->widx, e->node, CR_DOWN, RAFT_NONE);
        return false;
    }
    uint64_t lsn;
    int rc = raft_propose(s->r, c->now, w->pub.key, strlen(w->pub.key),
                          w->pub.value, strlen(w->pub.value), &lsn);
    return answer(c, e->widx, e->node, rc, lsn);
}

void sim__client_replay(struct sim_cluster *c, int id, int widx, uint64_t t,
                        const char *key, size_t kl, const char *value,
                        size_t vl)
{
    uint64_t lsn = 0;
    int rc = raft_propose(c->nodes[id].r, t, key, kl, value, vl, &lsn);
    if (sim__write_pending(c, widx))
        answer(c, widx, id, rc, lsn);
}

static bool answer(struct sim_cluster *c, int widx, int node, int rc,
                   uint64_t lsn)
{
    struct write_state *w = sim__write(c, widx);
    struct node_state *s = &c->nodes[node];
    if (rc == RAFT_ENOTLEADER || rc == RAFT_EDOWN) {
        respond(c, widx, node, CR_REDIRECT, raft_leader(s->r));
        return false;
    }
    if (rc == RAFT_ETRANSFER) { /* "transfer in progress": try again */
        respond(c, widx, node, CR_TRANSFER, raft_transfer_target(s->r));
        return false;
    }
    if (rc != RAFT_OK) {
        respond(c, widx, node, CR_DOWN, RAFT_NONE);
        return false;
    }
    w->pub.lsn = lsn;
    w->pub.term = raft_term(s->r);
    w->pub.node = node;
    if (s->n_pend == s->cap_pend) {
        s->cap_pend = s->cap_pend ? s->cap_pend * 2 : 64;
        s->pend = sim__xrealloc(s->pend, s->cap_pend * sizeof(*s->pend));
    }
    s->pend[s->n_pend++] = widx;
    return true;
}

void sim__client_response(struct sim_cluster *c, struct sim_ev *e)
{
    struct write_state *w = sim__write(c, e->widx);
    if (!w || w->pub.outcome != SIM_PENDING)
        return; /* answered already (forgotten since, perhaps) */
    struct client_state *cl = &c->clients[w->pub.client];
    w->pub.node = e->node;
    switch (e->resp) {
    case CR_ACKED:
        cl->believed_leader = e->node;
        sim__finish_write(c, e->widx, SIM_ACKED);
        return;
    case CR_UNKNOWN:
        sim__finish_write(c, e->widx, SIM_UNKNOWN);
        return;
    case CR_TRANSFER:
        w->pub.transfer_to = e->hint;
        sim__finish_write(c, e->widx, SIM_REFUSED);
        return;
    default:
        break;
    }
    /* Redirect or node down: follow the hint, else try someone else. */
    if (w->attempts >= MAX_ATTEMPTS) {
        sim__finish_write(c, e->widx, SIM_REFUSED); /* read-only: no leader */
        return;
    }
    int target = e->hint;
    uint64_t delay = c->o.client_latency_us;
    if (target < 1 || target == e->node) {
        target = e->node % c->n + 1;
        delay += c->o.heartbeat_us; /* give an election a moment */
    }
    cl->believed_leader = target;
    w->pub.retries++;
    w->pub.retry_from = e->node;
    w->pub.retry_to = target;
    w->pub.retry_down = e->resp == CR_DOWN;
    w->pub.retry_hinted = target == e->hint;
    if (c->write_hook)
        c->write_hook(c->write_hook_ctx, c, e->widx);
    client_send(c, e->widx, target, delay);
}

