/*
 * cluster.c — the virtual-time driver's public face: options, making
 * and freeing a cluster, running it, and what callers may look at.
 * The files below it, each calling only downward:
 *   cluster_faults.c   crash, restart, pause, partitions, links (public)
 *   cluster_wire.c     the real-time driver: the same events over TCP
 *   cluster_step.c     one event: deliver, tick, flush; carry out Ready
 *   cluster_clients.c  client writes, acknowledgements, timeouts
 *   cluster_events.c   the event pool and heap, the checker's findings
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
    o->fast_detect = true;
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
    if (c->procs)
        return sim__procs_run_until(c, t);
    while (c->heap_len && !c->stopped && c->heap[0].t <= t) {
        uint32_t idx = sim__ev_pop(c);
        c->now = c->pool[idx].t;
        if (sim__handle(c, idx))
            sim__ev_release(c, idx);
        if (c->o.max_events && ++c->events_handled >= c->o.max_events) {
            c->over_budget = true;
            c->stopped = true;
        }
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
    if (o->transport == SIM_TRANSPORT_PROCS)
        c->o.disk_latency_us = 0; /* the node's own WAL: flushed at once */
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
        for (unsigned b = 1; b <= RAFT_UNSAFE_CHANGE_TWO; b <<= 1)
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
        cfg.fast_detect = o->fast_detect;
        cfg.unsafe = o->unsafe;
        cfg.nofailover = raft_nodeset_has(&o->nofailover, i);
        cfg.members = o->members;
        cfg.snap_chunk = o->snap_chunk;
        uint64_t x = o->seed * 1000003 + (uint64_t)i;
        cfg.seed = prng_splitmix64(&x);
        int rc = raft_node_new(&cfg, 0, &c->nodes[i].r);
        if (rc != RAFT_OK) {
            sim_cluster_free(c);
            return rc;
        }
        c->nodes[i].up = true;
    }
    if (o->transport == SIM_TRANSPORT_PROCS) {
        int rc = sim__procs_start(c);
        if (rc != 0) {
            char why[320];
            if (sim__procs_errors(c, why, sizeof(why)))
                fprintf(stderr, "raftsim: %s\n", why);
            sim_cluster_free(c);
            return rc < 0 ? rc : -1;
        }
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
    sim__history_end(c); /* writes still out: outcome unknown */
    sim__wire_free(c); /* close sockets before the nodes go */
    sim__procs_free(c); /* kill and reap every node process */
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
    free(c->hist_proc);
    free(c->pool);
    free(c->next_free);
    free(c->heap);
    chk_free(c->chk);
    free(c);
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
    if (c->procs)
        sim__procs_hold(c, hold);
}

void sim_client_name(struct sim_cluster *c, int client, const char *name)
{
    if (client < 1 || client > c->o.n_clients || !name)
        return;
    snprintf(c->clients[client].name, sizeof(c->clients[client].name), "%s",
             name);
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
    const struct write_state *w = sim__write(c, idx);
    return w ? &w->pub : NULL;
}
int sim_n_writes(const struct sim_cluster *c) { return c->n_writes; }
int sim_writes_held(const struct sim_cluster *c)
{
    return c->n_writes - c->w_base;
}
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
    c->st.acked_pending = chk_acked_pending(c->chk);
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

bool sim_over_budget(const struct sim_cluster *c)
{
    return c->over_budget;
}
