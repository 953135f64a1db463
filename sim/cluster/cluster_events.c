/*
 * cluster_events.c — the bottom of the virtual-time driver: the pool of
 * events and the binary min-heap of pool indices keyed by (time,
 * insertion sequence), so ties break the same way on every run; taking
 * the checker's findings; the trace lines every other file writes.
 */
#include "sim/cluster/cluster_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

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
