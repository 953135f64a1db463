/*
 * cluster.c — the virtual-time driver: scheduler, network, disk, clients.
 *
 * Everything that happens is an event in one priority queue ordered by
 * (time, insertion sequence), so ties break the same way on every run.
 * Each node has at most one live timer event; it is re-armed from
 * raft_next_deadline() after every call into the node.  Messages a node
 * emits while a WAL flush is outstanding wait for that flush (the driver
 * contract in raft.h), which is what makes "lose the unflushed tail" a
 * safe crash.
 */
#include "sim/cluster/cluster_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void sim_options_default(struct sim_options *o, int n_nodes)
{
    memset(o, 0, sizeof(*o));
    o->n_nodes = n_nodes;
    o->seed = 1;
    o->heartbeat_us = 50000;
    o->election_min_us = 150000;
    o->election_max_us = 300000;
    o->ack_mode = RAFT_ACK_QUORUM;
    o->policy = RAFT_ELECT_HIGHEST_LSN;
    o->prevote = true;
    o->checkquorum = true;
    o->link.latency_us = 1000;
    o->link.jitter_us = 500;
    o->client_latency_us = 500;
    o->client_timeout_us = 2000000;
    o->n_clients = 3;
    o->transport = SIM_TRANSPORT_MEMORY;
    o->time_scale = 1.0;
}

const char *sim_outcome_name(enum sim_outcome o)
{
    switch (o) {
    case SIM_PENDING:
        return "pending";
    case SIM_ACKED:
        return "acked";
    case SIM_REFUSED:
        return "refused";
    case SIM_UNKNOWN:
        return "unknown";
    }
    return "?";
}

/* ------------------------------------------------------------------ */
/* Event queue: a binary min-heap of pool indices keyed by (t, seq). */

static inline bool item_less(const struct heap_item *x,
                             const struct heap_item *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

void *sim__xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "raftsim: out of memory in simulator\n");
        abort();
    }
    return q;
}

struct sim_ev *sim__ev_new(struct sim_cluster *c, uint64_t t, int type,
                             int node, uint32_t *idx_out)
{
    if (c->free_head == UINT32_MAX) {
        uint32_t old = c->pool_cap, cap = old ? old * 2 : 1024;
        c->pool = sim__xrealloc(c->pool, cap * sizeof(*c->pool));
        c->next_free = sim__xrealloc(c->next_free, cap * sizeof(*c->next_free));
        c->heap = sim__xrealloc(c->heap, cap * sizeof(*c->heap));
        for (uint32_t i = old; i < cap; i++)
            c->next_free[i] = i + 1 < cap ? i + 1 : UINT32_MAX;
        c->free_head = old;
        c->pool_cap = cap;
    }
    uint32_t i = c->free_head;
    c->free_head = c->next_free[i];
    struct sim_ev *e = &c->pool[i];
    memset(e, 0, offsetof(struct sim_ev, msg));
    e->msg.entries = NULL;
    e->msg.n_entries = 0;
    e->t = t < c->now ? c->now : t;
    e->seq = c->seq++;
    e->type = (uint8_t)type;
    e->node = node;
    *idx_out = i;
    return e;
}

void sim__ev_push(struct sim_cluster *c, uint32_t i)
{
    struct heap_item it = {c->pool[i].t, c->pool[i].seq, i};
    uint32_t k = c->heap_len++;
    while (k > 0) {
        uint32_t p = (k - 1) / 2;
        if (!item_less(&it, &c->heap[p]))
            break;
        c->heap[k] = c->heap[p];
        k = p;
    }
    c->heap[k] = it;
}

uint32_t sim__ev_pop(struct sim_cluster *c)
{
    uint32_t top = c->heap[0].idx;
    struct heap_item last = c->heap[--c->heap_len];
    uint32_t k = 0, n = c->heap_len;
    for (;;) {
        uint32_t l = 2 * k + 1, m = l;
        if (l >= n)
            break;
        if (l + 1 < n && item_less(&c->heap[l + 1], &c->heap[l]))
            m = l + 1;
        if (!item_less(&c->heap[m], &last))
            break;
        c->heap[k] = c->heap[m];
        k = m;
    }
    if (n)
        c->heap[k] = last;
    return top;
}

void sim__ev_release(struct sim_cluster *c, uint32_t i)
{
    raft_msg_free(&c->pool[i].msg);
    c->next_free[i] = c->free_head;
    c->free_head = i;
}

/* Schedule a simple event (no message). */
struct sim_ev *sim__sched(struct sim_cluster *c, uint64_t t, int type,
                            int node)
{
    uint32_t i;
    struct sim_ev *e = sim__ev_new(c, t, type, node, &i);
    sim__ev_push(c, i);
    return e;
}

/* ------------------------------------------------------------------ */

void sim__drain_violations(struct sim_cluster *c)
{
    struct sim_violation v;
    while (chk_take_new(c->chk, &v)) {
        c->stopped = true;
        if (!trace_on(&c->tr))
            continue;
        trace_begin(&c->tr, v.t_us, v.nodes[0], "violation");
        trace_str(&c->tr, "invariant", v.invariant);
        trace_str(&c->tr, "detail", v.detail);
        if (v.nodes[1])
            trace_node(&c->tr, "other", v.nodes[1]);
        trace_end(&c->tr);
    }
}


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
                break;
            case RAFT_EV_REJECT:
                c->st.rejected++;
                break;
            }
            if (c->hook)
                c->hook(c->hook_ctx, c, ev);
        }
        if (rd.apply_to)
            s->applied_lsn = rd.apply_to;
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
    }
    chk_node_settled(c->chk, c->now, r);
    sim__drain_violations(c);
    sim__sched_timer(c, id);
}

void sim__sched_timer(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up)
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
            sim__wire_send(c, &one); /* straight onto the socket */
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

/* ------------------------------------------------------------------ */
/* Dispatch */

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
    case EV_SEND:
        if (e->epoch != s->epoch || !s->up)
            return true;
        sim__net_send(c, &e->msg);
        return true;
    case EV_CREQ:
        if (s->up && s->paused) {
            sim__hold(s, idx);
            return false;
        }
        sim__client_request(c, e);
        return true;
    case EV_CRESP:
        sim__client_response(c, e);
        return true;
    case EV_WIRE:
        if (e->epoch == s->epoch && s->up)
            sim__wire_send(c, &e->msg);
        else
            sim__trace_drop(c, e, "crashed"); /* the sender died */
        return true;
    case EV_CTIMEOUT:
        if (c->writes[e->widx].pub.outcome == SIM_PENDING)
            sim__finish_write(c, e->widx, SIM_UNKNOWN);
        return true;
    }
    return true;
}


uint64_t sim_run_events(struct sim_cluster *c, uint64_t max)
{
    uint64_t k = 0;
    while (k < max && c->heap_len && !c->stopped) {
        uint32_t idx = sim__ev_pop(c);
        c->now = c->pool[idx].t;
        if (sim__handle(c, idx))
            sim__ev_release(c, idx);
        k++;
    }
    return k;
}

bool sim_run_until(struct sim_cluster *c, uint64_t t)
{
    if (c->wire)
        return sim__wire_run_until(c, t);
    while (c->heap_len && !c->stopped && c->heap[0].t <= t) {
        uint32_t idx = sim__ev_pop(c);
        c->now = c->pool[idx].t;
        if (sim__handle(c, idx))
            sim__ev_release(c, idx);
    }
    if (!c->stopped && t > c->now)
        c->now = t;
    return !c->stopped;
}

/* ------------------------------------------------------------------ */
/* Life cycle */

int sim_cluster_new(const struct sim_options *o, struct sim_cluster **out)
{
    *out = NULL;
    if (o->n_nodes < 1 || o->n_nodes > RAFT_MAX_NODES || o->n_clients < 0)
        return RAFT_EINVAL;
    struct sim_cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return RAFT_ENOMEM;
    c->o = *o;
    c->n = o->n_nodes;
    if (c->o.n_clients < 1)
        c->o.n_clients = 1;
    c->free_head = UINT32_MAX;
    prng_seed(&c->rng, o->seed ^ UINT64_C(0x5eed5eed5eed5eed));
    c->nodes = calloc((size_t)c->n + 1, sizeof(*c->nodes));
    c->links = calloc((size_t)(c->n + 1) * (size_t)(c->n + 1),
                      sizeof(*c->links));
    c->clients = calloc((size_t)c->o.n_clients + 1, sizeof(*c->clients));
    c->chk = chk_new(c->n, o->ack_mode);
    if (!c->nodes || !c->links || !c->clients || !c->chk) {
        sim_cluster_free(c);
        return RAFT_ENOMEM;
    }
    trace_init(&c->tr, o->trace);
    sim_reset_links(c);
    if (trace_on(&c->tr)) {
        trace_begin(&c->tr, 0, 0, "run");
        trace_u64(&c->tr, "seed", o->seed);
        trace_u64(&c->tr, "nodes", (uint64_t)c->n);
        trace_str(&c->tr, "ack", raft_ack_mode_name(o->ack_mode));
        trace_str(&c->tr, "election", raft_policy_name(o->policy));
        trace_bool(&c->tr, "prevote", o->prevote);
        trace_bool(&c->tr, "checkquorum", o->checkquorum);
        trace_u64(&c->tr, "heartbeat_us", o->heartbeat_us);
        trace_u64(&c->tr, "election_min_us", o->election_min_us);
        trace_u64(&c->tr, "election_max_us", o->election_max_us);
        char rules[128] = "[";
        for (unsigned b = 1; b <= RAFT_UNSAFE_KEEP_CONFLICTS; b <<= 1)
            if (o->unsafe & b)
                snprintf(rules + strlen(rules), sizeof(rules) - strlen(rules),
                         "%s\"%s\"", rules[1] ? "," : "",
                         raft_unsafe_name(b));
        strcat(rules, "]");
        trace_raw(&c->tr, "unsafe", rules);
        trace_end(&c->tr);
    }
    for (int i = 1; i <= c->n; i++) {
        struct raft_config cfg;
        raft_config_default(&cfg, i, c->n);
        cfg.heartbeat_us = o->heartbeat_us;
        cfg.election_min_us = o->election_min_us;
        cfg.election_max_us = o->election_max_us;
        cfg.ack_mode = o->ack_mode;
        cfg.policy = o->policy;
        cfg.prevote = o->prevote;
        cfg.checkquorum = o->checkquorum;
        cfg.unsafe = o->unsafe;
        cfg.nofailover = raft_nodeset_has(&o->nofailover, i);
        uint64_t x = o->seed * 1000003 + (uint64_t)i;
        cfg.seed = prng_splitmix64(&x);
        int rc = raft_node_new(&cfg, 0, &c->nodes[i].r);
        if (rc != RAFT_OK) {
            sim_cluster_free(c);
            return rc;
        }
        c->nodes[i].up = true;
    }
    if (o->transport == SIM_TRANSPORT_TCP) {
        int rc = sim__wire_start(c);
        if (rc != 0) {
            sim_cluster_free(c);
            return rc;
        }
    }
    for (int i = 1; i <= c->n; i++)
        sim__pump(c, i);
    *out = c;
    return RAFT_OK;
}

void sim_cluster_free(struct sim_cluster *c)
{
    if (!c)
        return;
    sim__wire_free(c); /* close sockets before the nodes go */
    for (uint32_t k = 0; k < c->heap_len; k++)
        raft_msg_free(&c->pool[c->heap[k].idx].msg);
    for (int i = 0; c->nodes && i <= c->n; i++) {
        struct node_state *s = &c->nodes[i];
        for (size_t k = 0; k < s->n_held; k++)
            raft_msg_free(&c->pool[s->held[k]].msg);
        free(s->held);
        free(s->pend);
        raft_node_free(s->r);
    }
    free(c->nodes);
    free(c->links);
    free(c->clients);
    free(c->writes);
    free(c->pool);
    free(c->next_free);
    free(c->heap);
    chk_free(c->chk);
    free(c);
}

void sim__trace_simple(struct sim_cluster *c, int node, const char *kind)
{
    if (!trace_on(&c->tr))
        return;
    trace_begin(&c->tr, c->now, node, kind);
    trace_end(&c->tr);
}

/* A message that will never arrive; traced only when the send was. */
void sim__trace_drop(struct sim_cluster *c, const struct sim_ev *e,
                     const char *reason)
{
    if (trace_on(&c->tr))
        trace_msg(&c->tr, c->now, "drop", &e->msg, e->msg_id, reason);
}

/* ------------------------------------------------------------------ */
/* Views */

void sim_set_hook(struct sim_cluster *c, sim_event_hook fn, void *ctx)
{
    c->hook = fn;
    c->hook_ctx = ctx;
}

void sim_set_write_hook(struct sim_cluster *c, sim_write_hook fn, void *ctx)
{
    c->write_hook = fn;
    c->write_hook_ctx = ctx;
}

uint64_t sim_next_event_time(const struct sim_cluster *c)
{
    return c->heap_len ? c->heap[0].t : UINT64_MAX;
}

void sim_hold_clock(struct sim_cluster *c, bool hold)
{
    if (c->wire)
        sim__wire_hold(c, hold);
}

int sim_client_leader(const struct sim_cluster *c, int client)
{
    if (client < 1 || client > c->o.n_clients)
        return 0;
    return c->clients[client].believed_leader;
}

struct trace *sim_tracer(struct sim_cluster *c) { return &c->tr; }

uint64_t sim_now(const struct sim_cluster *c) { return c->now; }
struct raft_node *sim_node(const struct sim_cluster *c, int id)
{
    return c->nodes[id].r;
}
int sim_n_nodes(const struct sim_cluster *c) { return c->n; }
uint64_t sim_applied_lsn(const struct sim_cluster *c, int id)
{
    return c->nodes[id].applied_lsn;
}
const struct sim_stats *sim_stats(const struct sim_cluster *c)
{
    return &c->st;
}
const struct sim_violation *sim_violation(const struct sim_cluster *c)
{
    return chk_first_violation(c->chk);
}
uint64_t sim_violations(const struct sim_cluster *c)
{
    return chk_violations(c->chk);
}
const struct sim_write *sim_get_write(const struct sim_cluster *c, int idx)
{
    return idx >= 0 && idx < c->n_writes ? &c->writes[idx].pub : NULL;
}
int sim_n_writes(const struct sim_cluster *c) { return c->n_writes; }
uint64_t sim_trace_hash(const struct sim_cluster *c) { return c->tr.hash; }

int sim_leaders(const struct sim_cluster *c, int *ids)
{
    int k = 0;
    for (int i = 1; i <= c->n; i++)
        if (c->nodes[i].up && raft_role(c->nodes[i].r) == RAFT_LEADER) {
            if (ids)
                ids[k] = i;
            k++;
        }
    return k;
}

void sim_finish(struct sim_cluster *c)
{
    c->st.acked_lost = chk_finish(c->chk, c->now);
    sim__drain_violations(c);
}

int sim_await_leader(struct sim_cluster *c, uint64_t within_us)
{
    int ids[RAFT_MAX_NODES];
    uint64_t end = sim_now(c) + within_us;
    while (sim_now(c) < end) {
        if (!sim_run_until(c, sim_now(c) + 1000))
            return 0;
        if (sim_leaders(c, ids) == 1)
            return ids[0];
    }
    return 0;
}
