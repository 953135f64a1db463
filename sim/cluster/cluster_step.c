/*
 * cluster_step.c — one event at a time: a message arrives, a timer fires,
 * a flush completes, a client request lands; then everything the node
 * asked for is carried out (raft.h's Ready contract).  Each node has at
 * most one live timer event, re-armed from raft_next_deadline() after
 * every call into the node.  Messages a node emits while a WAL flush is
 * outstanding wait for that flush, which is what makes "lose the
 * unflushed tail" a safe crash.  Over TCP the frames leave through
 * c->wire_send, which cluster_wire.c sets: this file never calls up.
 */
#include "sim/cluster/cluster_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Carry out everything node `id` asked for.  See raft.h's contract. */
void sim__pump(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    struct raft_node *r = s->r;
    while (raft_has_ready(r)) {
        struct raft_ready rd;
        raft_ready_get(r, &rd);
        for (size_t i = 0; i < rd.n_events; i++) {
            const struct raft_event *ev = &rd.events[i];
            c->st.events++;
            if (trace_on(&c->tr))
                trace_raft_event(&c->tr, c->now, ev, c->n);
            chk_event(c->chk, c->now, ev, r);
            switch (ev->kind) {
            case RAFT_EV_ROLE:
                if (ev->role == RAFT_LEADER)
                    c->st.elections++;
                else if (s->n_pend)
                    sim__fail_pending(c, s, id, CR_UNKNOWN);
                break;
            case RAFT_EV_ACK:
                sim__ack_pending(c, s, id, ev->lsn);
                break;
            case RAFT_EV_DISCARD:
                if (ev->reason == RAFT_R_CONFLICT)
                    c->st.discarded++;
                else if (ev->reason == RAFT_R_CRASH)
                    c->st.discarded_crash++;
                break;
            case RAFT_EV_REJECT:
                c->st.rejected++;
                break;
            }
            if (c->hook)
                c->hook(c->hook_ctx, c, ev);
        }
        sim__snap_applied(c, id, &rd);
        /* With a synchronous disk the flush completes at this very
         * instant, before any of these messages can arrive anywhere; with
         * a slow one the messages wait for it (raft.h's contract). */
        bool flushing = rd.persist_lsn > raft_wal(r)->flushed_lsn;
        if (flushing && c->o.disk_latency_us > 0) {
            s->io_busy_until = c->now + c->o.disk_latency_us;
            struct sim_ev *e = sim__sched(c, s->io_busy_until, EV_FLUSH, id);
            e->epoch = s->epoch;
            e->gen = rd.persist_lsn;
        }
        for (size_t i = 0; i < rd.n_msgs; i++) {
            if (s->io_busy_until > c->now) {
                uint32_t k;
                struct sim_ev *e =
                    sim__ev_new(c, s->io_busy_until, EV_SEND, id, &k);
                e->epoch = s->epoch;
                e->msg = rd.msgs[i];
                sim__ev_push(c, k);
            } else {
                sim__net_send(c, &rd.msgs[i]);
            }
            rd.msgs[i].entries = NULL; /* moved */
            rd.msgs[i].n_entries = 0;
        }
        /* Last: it may add outputs (and move rd's arrays). */
        if (flushing && c->o.disk_latency_us == 0)
            raft_persisted(r, c->now, rd.persist_lsn);
        raft_advance(r);
        sim__snap_policy(c, id); /* may add a snapshot event */
    }
    chk_node_settled(c->chk, c->now, r);
    sim__drain_violations(c);
    sim__sched_timer(c, id);
}
void sim__sched_timer(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up || c->procs) /* PROCS: the node's own process keeps time */
        return;
    raft_time_t d = raft_next_deadline(s->r);
    if (d == UINT64_MAX || (s->timer_live && s->timer_at <= d))
        return;
    s->timer_gen++;
    s->timer_at = d;
    s->timer_live = true;
    struct sim_ev *e = sim__sched(c, d, EV_TIMER, id);
    e->gen = s->timer_gen;
}
void sim__net_send(struct sim_cluster *c, struct raft_msg *m)
{
    c->st.messages_sent++;
    sim__count_send(c, m);
    uint64_t id = 0;
    if (trace_on(&c->tr)) {
        id = ++c->msg_seq;
        trace_msg(&c->tr, c->now, "send", m, id, NULL);
    }
    if (c->procs) { /* the node's process sent it, through its own faults */
        raft_msg_free(m);
        m->entries = NULL;
        m->n_entries = 0;
        return;
    }
    const struct sim_link *l = sim__link(c, m->from, m->to);
    if (l->cut || (l->drop > 0 && prng_double(&c->rng) < l->drop)) {
        c->st.messages_dropped++;
        if (id)
            trace_msg(&c->tr, c->now, "drop", m, id,
                      l->cut ? "partition" : "loss");
        raft_msg_free(m);
        return;
    }
    int copies = 1 + (l->dup > 0 && prng_double(&c->rng) < l->dup);
    for (int k = 0; k < copies; k++) {
        uint64_t delay = l->latency_us + prng_range(&c->rng, 0, l->jitter_us);
        struct raft_msg one = *m;
        if (k + 1 < copies)
            raft_msg_copy(&one, m);
        if (c->wire && delay == 0) {
            c->wire_send(c, &one); /* straight onto the socket */
            continue;
        }
        /* In memory the event is the arrival; over TCP it is the moment
         * a held frame is released onto the socket. */
        uint32_t i;
        struct sim_ev *e = sim__ev_new(c, c->now + delay,
                                       c->wire ? EV_WIRE : EV_DELIVER,
                                       c->wire ? m->from : m->to, &i);
        e->epoch = c->nodes[m->from].epoch;
        e->msg_id = id;
        e->msg = one;
        sim__ev_push(c, i);
    }
    m->entries = NULL;
    m->n_entries = 0;
}
void sim__hold(struct node_state *s, uint32_t idx)
{
    if (s->n_held == s->cap_held) {
        s->cap_held = s->cap_held ? s->cap_held * 2 : 64;
        s->held = sim__xrealloc(s->held, s->cap_held * sizeof(*s->held));
    }
    s->held[s->n_held++] = idx;
}
static void deliver(struct sim_cluster *c, uint32_t idx)
{
    struct sim_ev *e = &c->pool[idx];
    c->st.messages_delivered++;
    if (trace_on(&c->tr))
        trace_msg(&c->tr, c->now, "recv", &e->msg, e->msg_id, NULL);
    raft_step(c->nodes[e->node].r, c->now, &e->msg);
    sim__pump(c, e->node);
}
/* Handle event idx; returns whether the caller may release it. */
bool sim__handle(struct sim_cluster *c, uint32_t idx)
{
    struct sim_ev *e = &c->pool[idx];
    struct node_state *s = e->node ? &c->nodes[e->node] : NULL;
    switch (e->type) {
    case EV_DELIVER: {
        const struct sim_link *l = sim__link(c, e->msg.from, e->msg.to);
        if (l->cut || !s->up) { /* partitioned in flight, or dead */
            c->st.messages_dropped++;
            sim__trace_drop(c, e, l->cut ? "partition" : "crashed");
            return true;
        }
        if (s->paused) {
            sim__hold(s, idx);
            return false;
        }
        deliver(c, idx);
        return true;
    }
    case EV_TIMER:
        if (e->gen != s->timer_gen)
            return true;
        s->timer_live = false;
        if (!s->up || s->paused)
            return true;
        raft_tick(s->r, c->now);
        sim__pump(c, e->node);
        return true;
    case EV_FLUSH:
        if (e->epoch != s->epoch || !s->up)
            return true;
        if (s->paused) {
            sim__hold(s, idx);
            return false;
        }
        raft_persisted(s->r, c->now, e->gen);
        sim__pump(c, e->node);
        return true;
    case EV_SEND: {
        if (e->epoch != s->epoch || !s->up)
            return true;
        if (s->paused) {
            /* A frozen process sends nothing: this waits, behind the
             * flush it waited for (held too), until the node resumes; a
             * crash in the pause loses both.  Sent now, it would tell
             * its peer of entries the crash then loses (an ack of an
             * lsn the follower no longer has: the leader probed it
             * forever). */
            sim__hold(s, idx);
            return false;
        }
        /* Out of the pool first: sending schedules arrivals, which may
         * grow (move) the pool under e. */
        struct raft_msg m = e->msg;
        e->msg.entries = NULL;
        e->msg.n_entries = 0;
        sim__net_send(c, &m);
        return true;
    }
    case EV_CREQ:
        if (s->up && s->paused) {
            sim__hold(s, idx);
            return false;
        }
        if (c->procs && s->up) { /* proposed there; replayed when it says */
            if (sim__write_pending(c, e->widx))
                sim__procs_propose(c, e->node, e->widx);
            return true;
        }
        if (sim__client_request(c, e))
            sim__pump(c, e->node);
        return true;
    case EV_CRESP:
        sim__client_response(c, e);
        return true;
    case EV_WIRE:
        if (e->epoch == s->epoch && s->up)
            c->wire_send(c, &e->msg);
        else
            sim__trace_drop(c, e, "crashed"); /* the sender died */
        return true;
    case EV_CLOSED:
        if (!s->up)
            return true;
        if (s->paused) { /* it reads the EOF when it wakes */
            sim__hold(s, idx);
            return false;
        }
        sim__peer_closed(c, e->node, e->hint);
        return true;
    case EV_CTIMEOUT:
        if (sim__write_pending(c, e->widx))
            sim__finish_write(c, e->widx, SIM_UNKNOWN);
        return true;
    }
    return true;
}
