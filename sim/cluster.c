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
#include "sim/cluster.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "raft/prng.h"
#include "sim/checker.h"
#include "sim/trace.h"

enum ev_type {
    EV_DELIVER = 1, /* message arrives at node */
    EV_TIMER,       /* node's deadline */
    EV_FLUSH,       /* node's WAL flush completes up to gen */
    EV_SEND,        /* message leaves node after its flush */
    EV_CREQ,        /* client write arrives at node */
    EV_CRESP,       /* node's answer arrives at client */
    EV_CTIMEOUT,    /* client gives up */
};

enum cresp { CR_ACKED = 1, CR_REDIRECT, CR_DOWN, CR_UNKNOWN };

struct sim_ev {
    uint64_t t, seq;
    uint8_t type;
    uint8_t resp; /* EV_CRESP */
    int node;
    int widx;     /* client events */
    int hint;     /* EV_CRESP redirect: leader hint */
    uint64_t epoch, gen;
    struct raft_msg msg;
};

struct node_state {
    struct raft_node *r;
    bool up, paused;
    uint64_t epoch;
    uint64_t timer_at, timer_gen;
    bool timer_live;
    uint64_t io_busy_until;
    uint64_t applied_lsn;
    uint32_t *held; /* event indices held while paused */
    size_t n_held, cap_held;
    int *pend; /* writes proposed here, awaiting ack */
    size_t n_pend, cap_pend;
};

struct write_state {
    struct sim_write pub;
    int target;
    int attempts;
};

struct client_state {
    int believed_leader;
};

/* Heap entries carry their keys so that sifting never touches the pool. */
struct heap_item {
    uint64_t t, seq;
    uint32_t idx;
};

#define MAX_ATTEMPTS 5

struct sim_cluster {
    struct sim_options o;
    int n;
    uint64_t now, seq;
    struct prng rng;
    struct node_state *nodes; /* [n + 1] */
    struct sim_link *links;   /* [(n + 1) * (n + 1)] */
    struct client_state *clients;
    struct write_state *writes;
    int n_writes, cap_writes;
    /* event pool + heap */
    struct sim_ev *pool;
    uint32_t pool_cap, free_head;
    uint32_t *next_free;
    struct heap_item *heap;
    uint32_t heap_len;
    struct checker *chk;
    struct trace tr;
    struct sim_stats st;
    bool stopped;
    sim_event_hook hook;
    void *hook_ctx;
};

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

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "raftsim: out of memory in simulator\n");
        abort();
    }
    return q;
}

static struct sim_ev *ev_new(struct sim_cluster *c, uint64_t t, int type,
                             int node, uint32_t *idx_out)
{
    if (c->free_head == UINT32_MAX) {
        uint32_t old = c->pool_cap, cap = old ? old * 2 : 1024;
        c->pool = xrealloc(c->pool, cap * sizeof(*c->pool));
        c->next_free = xrealloc(c->next_free, cap * sizeof(*c->next_free));
        c->heap = xrealloc(c->heap, cap * sizeof(*c->heap));
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

static void ev_push(struct sim_cluster *c, uint32_t i)
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

static uint32_t ev_pop(struct sim_cluster *c)
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

static void ev_release(struct sim_cluster *c, uint32_t i)
{
    raft_msg_free(&c->pool[i].msg);
    c->next_free[i] = c->free_head;
    c->free_head = i;
}

/* Schedule a simple event (no message). */
static struct sim_ev *sched(struct sim_cluster *c, uint64_t t, int type,
                            int node)
{
    uint32_t i;
    struct sim_ev *e = ev_new(c, t, type, node, &i);
    ev_push(c, i);
    return e;
}

/* ------------------------------------------------------------------ */

static struct sim_link *link_at(const struct sim_cluster *c, int from, int to)
{
    return &c->links[(size_t)from * (size_t)(c->n + 1) + (size_t)to];
}

static void drain_violations(struct sim_cluster *c)
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

static void trace_client(struct sim_cluster *c, const struct write_state *w,
                         const char *outcome)
{
    if (!trace_on(&c->tr))
        return;
    trace_begin(&c->tr, c->now, w->pub.node, "client");
    char name[16];
    snprintf(name, sizeof(name), "c%d", w->pub.client);
    trace_str(&c->tr, "client", name);
    trace_str(&c->tr, "op", "write");
    trace_str(&c->tr, "key", w->pub.key);
    trace_str(&c->tr, "value", w->pub.value);
    trace_u64(&c->tr, "lsn", w->pub.lsn);
    trace_str(&c->tr, "outcome", outcome);
    trace_end(&c->tr);
}

static void respond(struct sim_cluster *c, int widx, int node, int resp,
                    int hint)
{
    struct sim_ev *e =
        sched(c, c->now + c->o.client_latency_us, EV_CRESP, node);
    e->widx = widx;
    e->resp = (uint8_t)resp;
    e->hint = hint;
}

static void fail_pending(struct sim_cluster *c, struct node_state *s, int id,
                         int resp)
{
    for (size_t i = 0; i < s->n_pend; i++)
        if (c->writes[s->pend[i]].pub.outcome == SIM_PENDING)
            respond(c, s->pend[i], id, resp, RAFT_NONE);
    s->n_pend = 0;
}

static void ack_pending(struct sim_cluster *c, struct node_state *s, int id,
                        uint64_t lsn)
{
    const struct wal *wal = raft_wal(s->r);
    size_t k = 0;
    for (size_t i = 0; i < s->n_pend; i++) {
        struct write_state *w = &c->writes[s->pend[i]];
        if (w->pub.outcome != SIM_PENDING)
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

static void net_send(struct sim_cluster *c, struct raft_msg *m);
static void sched_timer(struct sim_cluster *c, int id);

/* Carry out everything node `id` asked for.  See raft.h's contract. */
static void pump(struct sim_cluster *c, int id)
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
                    fail_pending(c, s, id, CR_UNKNOWN);
                break;
            case RAFT_EV_ACK:
                ack_pending(c, s, id, ev->lsn);
                break;
            case RAFT_EV_DISCARD:
                if (ev->reason == RAFT_R_CONFLICT)
                    c->st.discarded++;
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
            struct sim_ev *e = sched(c, s->io_busy_until, EV_FLUSH, id);
            e->epoch = s->epoch;
            e->gen = rd.persist_lsn;
        }
        for (size_t i = 0; i < rd.n_msgs; i++) {
            if (s->io_busy_until > c->now) {
                uint32_t k;
                struct sim_ev *e =
                    ev_new(c, s->io_busy_until, EV_SEND, id, &k);
                e->epoch = s->epoch;
                e->msg = rd.msgs[i];
                ev_push(c, k);
            } else {
                net_send(c, &rd.msgs[i]);
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
    drain_violations(c);
    sched_timer(c, id);
}

static void sched_timer(struct sim_cluster *c, int id)
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
    struct sim_ev *e = sched(c, d, EV_TIMER, id);
    e->gen = s->timer_gen;
}

static void net_send(struct sim_cluster *c, struct raft_msg *m)
{
    c->st.messages_sent++;
    const struct sim_link *l = link_at(c, m->from, m->to);
    if (l->cut || (l->drop > 0 && prng_double(&c->rng) < l->drop)) {
        c->st.messages_dropped++;
        raft_msg_free(m);
        return;
    }
    int copies = 1 + (l->dup > 0 && prng_double(&c->rng) < l->dup);
    for (int k = 0; k < copies; k++) {
        uint64_t delay = l->latency_us + prng_range(&c->rng, 0, l->jitter_us);
        uint32_t i;
        struct sim_ev *e = ev_new(c, c->now + delay, EV_DELIVER, m->to, &i);
        if (k + 1 < copies)
            raft_msg_copy(&e->msg, m);
        else
            e->msg = *m;
        ev_push(c, i);
    }
    m->entries = NULL;
    m->n_entries = 0;
}

/* ------------------------------------------------------------------ */
/* Clients */

static int pick_node(struct sim_cluster *c)
{
    return (int)prng_range(&c->rng, 1, (uint64_t)c->n);
}

static void client_send(struct sim_cluster *c, int widx, int target,
                        uint64_t delay)
{
    struct write_state *w = &c->writes[widx];
    w->target = target;
    w->attempts++;
    struct sim_ev *e = sched(c, c->now + delay, EV_CREQ, target);
    e->widx = widx;
}

int sim_client_write(struct sim_cluster *c, int client, int via,
                     const char *key, const char *value)
{
    if (client < 1 || client > c->o.n_clients)
        client = 1;
    if (c->n_writes == c->cap_writes) {
        c->cap_writes = c->cap_writes ? c->cap_writes * 2 : 256;
        c->writes =
            xrealloc(c->writes, (size_t)c->cap_writes * sizeof(*c->writes));
    }
    int widx = c->n_writes++;
    struct write_state *w = &c->writes[widx];
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
    trace_client(c, w, "sent");
    client_send(c, widx, target, c->o.client_latency_us);
    struct sim_ev *e =
        sched(c, c->now + c->o.client_timeout_us, EV_CTIMEOUT, 0);
    e->widx = widx;
    return widx;
}

static void finish_write(struct sim_cluster *c, int widx,
                         enum sim_outcome o)
{
    struct write_state *w = &c->writes[widx];
    w->pub.outcome = o;
    w->pub.done_us = c->now;
    switch (o) {
    case SIM_ACKED:
        c->st.acked++;
        chk_acked(c->chk, c->now, w->pub.lsn, w->pub.term);
        drain_violations(c);
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
    trace_client(c, w, sim_outcome_name(o));
}

static void on_client_request(struct sim_cluster *c, struct sim_ev *e)
{
    struct write_state *w = &c->writes[e->widx];
    struct node_state *s = &c->nodes[e->node];
    if (w->pub.outcome != SIM_PENDING)
        return;
    if (!s->up) {
        respond(c, e->widx, e->node, CR_DOWN, RAFT_NONE);
        return;
    }
    uint64_t lsn;
    int rc = raft_propose(s->r, c->now, w->pub.key, strlen(w->pub.key),
                          w->pub.value, strlen(w->pub.value), &lsn);
    if (rc == RAFT_ENOTLEADER || rc == RAFT_EDOWN) {
        respond(c, e->widx, e->node, CR_REDIRECT, raft_leader(s->r));
        return;
    }
    if (rc != RAFT_OK) {
        respond(c, e->widx, e->node, CR_DOWN, RAFT_NONE);
        return;
    }
    w->pub.lsn = lsn;
    w->pub.term = raft_term(s->r);
    w->pub.node = e->node;
    if (s->n_pend == s->cap_pend) {
        s->cap_pend = s->cap_pend ? s->cap_pend * 2 : 64;
        s->pend = xrealloc(s->pend, s->cap_pend * sizeof(*s->pend));
    }
    s->pend[s->n_pend++] = e->widx;
    pump(c, e->node);
}

static void on_client_response(struct sim_cluster *c, struct sim_ev *e)
{
    struct write_state *w = &c->writes[e->widx];
    struct client_state *cl = &c->clients[w->pub.client];
    if (w->pub.outcome != SIM_PENDING)
        return;
    w->pub.node = e->node;
    switch (e->resp) {
    case CR_ACKED:
        cl->believed_leader = e->node;
        finish_write(c, e->widx, SIM_ACKED);
        return;
    case CR_UNKNOWN:
        finish_write(c, e->widx, SIM_UNKNOWN);
        return;
    default:
        break;
    }
    /* Redirect or node down: follow the hint, else try someone else. */
    if (w->attempts >= MAX_ATTEMPTS) {
        finish_write(c, e->widx, SIM_REFUSED); /* read-only: no leader */
        return;
    }
    int target = e->hint;
    uint64_t delay = c->o.client_latency_us;
    if (target < 1 || target == e->node) {
        target = e->node % c->n + 1;
        delay += c->o.heartbeat_us; /* give an election a moment */
    }
    cl->believed_leader = target;
    client_send(c, e->widx, target, delay);
}

/* ------------------------------------------------------------------ */
/* Dispatch */

static void deliver(struct sim_cluster *c, uint32_t idx);

static void hold(struct node_state *s, uint32_t idx)
{
    if (s->n_held == s->cap_held) {
        s->cap_held = s->cap_held ? s->cap_held * 2 : 64;
        s->held = xrealloc(s->held, s->cap_held * sizeof(*s->held));
    }
    s->held[s->n_held++] = idx;
}

/* Handle event idx; returns whether the caller may release it. */
static bool handle(struct sim_cluster *c, uint32_t idx)
{
    struct sim_ev *e = &c->pool[idx];
    struct node_state *s = e->node ? &c->nodes[e->node] : NULL;
    switch (e->type) {
    case EV_DELIVER: {
        const struct sim_link *l = link_at(c, e->msg.from, e->msg.to);
        if (l->cut || !s->up) { /* partitioned in flight, or dead */
            c->st.messages_dropped++;
            return true;
        }
        if (s->paused) {
            hold(s, idx);
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
        pump(c, e->node);
        return true;
    case EV_FLUSH:
        if (e->epoch != s->epoch || !s->up)
            return true;
        if (s->paused) {
            hold(s, idx);
            return false;
        }
        raft_persisted(s->r, c->now, e->gen);
        pump(c, e->node);
        return true;
    case EV_SEND:
        if (e->epoch != s->epoch || !s->up)
            return true;
        net_send(c, &e->msg);
        return true;
    case EV_CREQ:
        if (s->up && s->paused) {
            hold(s, idx);
            return false;
        }
        on_client_request(c, e);
        return true;
    case EV_CRESP:
        on_client_response(c, e);
        return true;
    case EV_CTIMEOUT:
        if (c->writes[e->widx].pub.outcome == SIM_PENDING)
            finish_write(c, e->widx, SIM_UNKNOWN);
        return true;
    }
    return true;
}

static void deliver(struct sim_cluster *c, uint32_t idx)
{
    struct sim_ev *e = &c->pool[idx];
    c->st.messages_delivered++;
    raft_step(c->nodes[e->node].r, c->now, &e->msg);
    pump(c, e->node);
}

uint64_t sim_run_events(struct sim_cluster *c, uint64_t max)
{
    uint64_t k = 0;
    while (k < max && c->heap_len && !c->stopped) {
        uint32_t idx = ev_pop(c);
        c->now = c->pool[idx].t;
        if (handle(c, idx))
            ev_release(c, idx);
        k++;
    }
    return k;
}

bool sim_run_until(struct sim_cluster *c, uint64_t t)
{
    while (c->heap_len && !c->stopped && c->heap[0].t <= t) {
        uint32_t idx = ev_pop(c);
        c->now = c->pool[idx].t;
        if (handle(c, idx))
            ev_release(c, idx);
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
        uint64_t x = o->seed * 1000003 + (uint64_t)i;
        cfg.seed = prng_splitmix64(&x);
        int rc = raft_node_new(&cfg, 0, &c->nodes[i].r);
        if (rc != RAFT_OK) {
            sim_cluster_free(c);
            return rc;
        }
        c->nodes[i].up = true;
    }
    for (int i = 1; i <= c->n; i++)
        pump(c, i);
    *out = c;
    return RAFT_OK;
}

void sim_cluster_free(struct sim_cluster *c)
{
    if (!c)
        return;
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

/* ------------------------------------------------------------------ */
/* Faults */

static void trace_simple(struct sim_cluster *c, int node, const char *kind)
{
    if (!trace_on(&c->tr))
        return;
    trace_begin(&c->tr, c->now, node, kind);
    trace_end(&c->tr);
}

void sim_crash(struct sim_cluster *c, int id, bool lose_unflushed)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up)
        return;
    if (trace_on(&c->tr)) {
        trace_begin(&c->tr, c->now, id, "crash");
        trace_bool(&c->tr, "lose_unflushed", lose_unflushed);
        trace_end(&c->tr);
    }
    raft_crash(s->r, lose_unflushed);
    s->up = false;
    s->paused = false;
    s->epoch++;
    s->io_busy_until = 0;
    s->applied_lsn = 0;
    s->n_pend = 0; /* clients will time out */
    for (size_t k = 0; k < s->n_held; k++)
        ev_release(c, s->held[k]);
    s->n_held = 0;
    pump(c, id); /* report the lost tail */
}

void sim_restart(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (s->up)
        return;
    trace_simple(c, id, "restart");
    s->up = true;
    s->timer_live = false;
    raft_restart(s->r, c->now);
    pump(c, id);
}

void sim_pause(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up || s->paused)
        return;
    trace_simple(c, id, "pause");
    s->paused = true;
}

void sim_resume(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up || !s->paused)
        return;
    trace_simple(c, id, "resume");
    s->paused = false;
    /* Wake up with stale beliefs: the backlog first, in arrival order,
     * then the timers that should have fired long ago. */
    uint32_t *held = s->held;
    size_t n_held = s->n_held;
    s->held = NULL;
    s->n_held = s->cap_held = 0;
    for (size_t k = 0; k < n_held; k++) {
        if (handle(c, held[k]))
            ev_release(c, held[k]);
    }
    free(held);
    s->timer_live = false;
    raft_tick(s->r, c->now);
    pump(c, id);
}

bool sim_is_up(const struct sim_cluster *c, int id) { return c->nodes[id].up; }
bool sim_is_paused(const struct sim_cluster *c, int id)
{
    return c->nodes[id].paused;
}

void sim_partition(struct sim_cluster *c, const int *group)
{
    for (int a = 1; a <= c->n; a++)
        for (int b = 1; b <= c->n; b++)
            link_at(c, a, b)->cut = a != b && group[a] != group[b];
    if (!trace_on(&c->tr))
        return;
    char buf[1024];
    size_t len = 0;
    buf[len++] = '[';
    bool first_group = true;
    for (int g = 0; g <= c->n + 1; g++) {
        bool any = false;
        for (int i = 1; i <= c->n && len < sizeof(buf) - 16; i++) {
            if (group[i] != g)
                continue;
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s\"n%d\"",
                                    any ? "" : (first_group ? "[" : ",["),
                                    any ? "," : "", i);
            any = true;
            first_group = false;
        }
        if (any)
            buf[len++] = ']';
    }
    buf[len++] = ']';
    buf[len] = '\0';
    trace_begin(&c->tr, c->now, 0, "partition");
    trace_raw(&c->tr, "groups", buf);
    trace_end(&c->tr);
}

void sim_cut(struct sim_cluster *c, int from, int to)
{
    link_at(c, from, to)->cut = true;
    if (!trace_on(&c->tr))
        return;
    trace_begin(&c->tr, c->now, from, "cut");
    trace_node(&c->tr, "to", to);
    trace_end(&c->tr);
}

void sim_heal(struct sim_cluster *c)
{
    for (int a = 1; a <= c->n; a++)
        for (int b = 1; b <= c->n; b++)
            link_at(c, a, b)->cut = false;
    trace_simple(c, 0, "heal");
}

void sim_set_link(struct sim_cluster *c, int from, int to,
                  const struct sim_link *l)
{
    *link_at(c, from, to) = *l;
    if (!trace_on(&c->tr))
        return;
    trace_begin(&c->tr, c->now, from, "link");
    trace_node(&c->tr, "to", to);
    trace_u64(&c->tr, "latency_us", l->latency_us);
    trace_u64(&c->tr, "jitter_us", l->jitter_us);
    trace_f64(&c->tr, "drop", l->drop);
    trace_f64(&c->tr, "dup", l->dup);
    trace_bool(&c->tr, "cut", l->cut);
    trace_end(&c->tr);
}

const struct sim_link *sim_get_link(const struct sim_cluster *c, int from,
                                    int to)
{
    return link_at(c, from, to);
}

const struct sim_link *sim_default_link(const struct sim_cluster *c)
{
    return &c->o.link;
}

void sim_reset_links(struct sim_cluster *c)
{
    for (int a = 0; a <= c->n; a++)
        for (int b = 0; b <= c->n; b++)
            *link_at(c, a, b) = c->o.link;
}

/* ------------------------------------------------------------------ */
/* Views */

void sim_set_hook(struct sim_cluster *c, sim_event_hook fn, void *ctx)
{
    c->hook = fn;
    c->hook_ctx = ctx;
}

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
    drain_violations(c);
}
