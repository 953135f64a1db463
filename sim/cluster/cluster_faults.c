/*
 * cluster_faults.c — what can go wrong, on command: crash (optionally
 * losing the unflushed tail), restart, pause/resume (a GC pause: frozen,
 * then awake with stale beliefs), partitions, one-way cuts and link
 * degradation.  Each fault is traced as it happens.
 */
#include "sim/cluster/cluster_int.h"

#include <stdlib.h>
#include <string.h>

#include "net/ctl.h"

/* A process that dies has its sockets closed by the kernel: each peer
 * whose link is not cut reads EOF one link latency later (no jitter, so
 * that turning fast detection on draws nothing from the network's PRNG),
 * and never before the frames already on their way to it (TCP delivers
 * them ahead of the FIN).  Over TCP the sockets themselves say so
 * (cluster_wire.c). */
static void announce_close(struct sim_cluster *c, int id)
{
    if (!c->o.fast_detect || c->wire)
        return;
    uint64_t at[RAFT_MAX_NODES + 1];
    for (int p = 1; p <= c->n; p++)
        at[p] = c->now + sim__link(c, id, p)->latency_us;
    for (uint32_t k = 0; k < c->heap_len; k++) {
        const struct sim_ev *e = &c->pool[c->heap[k].idx];
        if (e->type == EV_DELIVER && e->msg.from == id && e->node >= 1 &&
            e->node <= c->n && e->t > at[e->node])
            at[e->node] = e->t;
    }
    for (int p = 1; p <= c->n; p++) {
        if (p == id || !c->nodes[p].up || sim__link(c, id, p)->cut)
            continue;
        struct sim_ev *e = sim__sched(c, at[p], EV_CLOSED, p);
        e->hint = id;
    }
}

static void crash(struct sim_cluster *c, int id, bool lose_unflushed,
                  bool silent)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up)
        return;
    if (c->procs) /* SIGKILL (silent: SIGSTOP); its last inputs first */
        sim__procs_crash(c, id, lose_unflushed, silent);
    if (trace_on(&c->tr)) {
        trace_begin(&c->tr, c->now, id, "crash");
        trace_bool(&c->tr, "lose_unflushed", lose_unflushed);
        if (silent)
            trace_bool(&c->tr, "silent", true);
        trace_end(&c->tr);
    }
    if (c->wire)
        sim__wire_crash(c, id, silent);
    else if (!silent && !c->procs)
        announce_close(c, id); /* over TCP the sockets say it */
    raft_crash(s->r, lose_unflushed);
    s->up = false;
    s->paused = false;
    s->epoch++;
    s->io_busy_until = 0;
    s->applied_lsn = 0;
    s->n_pend = 0; /* clients will time out */
    for (size_t k = 0; k < s->n_held; k++) {
        /* Arrived while the node was frozen, never read: lost now. */
        if (c->pool[s->held[k]].type == EV_DELIVER)
            sim__trace_drop(c, &c->pool[s->held[k]], "paused");
        sim__ev_release(c, s->held[k]);
    }
    s->n_held = 0;
    sim__pump(c, id); /* report the lost tail */
}

void sim_crash(struct sim_cluster *c, int id, bool lose_unflushed)
{
    crash(c, id, lose_unflushed, false);
}

void sim_crash_silent(struct sim_cluster *c, int id, bool lose_unflushed)
{
    crash(c, id, lose_unflushed, true);
}

void sim__peer_closed(struct sim_cluster *c, int id, int peer)
{
    if (trace_on(&c->tr)) {
        trace_begin(&c->tr, c->now, id, "closed");
        trace_node(&c->tr, "peer", peer);
        trace_end(&c->tr);
    }
    raft_peer_closed(c->nodes[id].r, c->now, peer);
    sim__pump(c, id);
}

void sim_restart(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (s->up)
        return;
    sim__trace_simple(c, id, "restart");
    if (c->wire && sim__wire_restart(c, id) != 0)
        return; /* could not listen again: stays down (traced) */
    if (c->procs && sim__procs_restart(c, id) != 0)
        return; /* no new process: stays down (traced) */
    s->up = true;
    s->timer_live = false;
    raft_restart(s->r, c->now);
    sim__pump(c, id);
}

void sim_pause(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up || s->paused)
        return;
    sim__trace_simple(c, id, "pause");
    s->paused = true;
    if (c->wire)
        sim__wire_pause(c, id, true);
    if (c->procs)
        sim__procs_pause(c, id, true); /* SIGSTOP */
}

void sim_resume(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up || !s->paused)
        return;
    sim__trace_simple(c, id, "resume");
    s->paused = false;
    if (c->wire)
        sim__wire_pause(c, id, false);
    if (c->procs)
        sim__procs_pause(c, id, false); /* SIGCONT */
    /* Wake up with stale beliefs: the backlog first, in arrival order,
     * then the timers that should have fired long ago. */
    uint32_t *held = s->held;
    size_t n_held = s->n_held;
    s->held = NULL;
    s->n_held = s->cap_held = 0;
    for (size_t k = 0; k < n_held; k++) {
        if (sim__handle(c, held[k]))
            sim__ev_release(c, held[k]);
    }
    free(held);
    s->timer_live = false;
    if (c->procs)
        return; /* its process wakes up with its own timers */
    raft_tick(s->r, c->now);
    sim__pump(c, id);
}

int sim_campaign(struct sim_cluster *c, int id)
{
    struct node_state *s = &c->nodes[id];
    if (!s->up || s->paused)
        return RAFT_EDOWN;
    sim__trace_simple(c, id, "campaign");
    if (c->procs) { /* it campaigns when told; the replay follows */
        if (raft_role(s->r) == RAFT_LEADER || raft_config(s->r)->nofailover)
            return RAFT_EINVAL;
        sim__procs_command(c, id, CTL_C_CAMPAIGN, 0);
        return RAFT_OK;
    }
    int rc = raft_campaign_now(s->r, c->now);
    sim__pump(c, id);
    return rc;
}

int sim_transfer(struct sim_cluster *c, int from, int to)
{
    struct node_state *s = &c->nodes[from];
    if (!s->up || s->paused)
        return RAFT_EDOWN;
    if (c->procs) {
        if (raft_role(s->r) != RAFT_LEADER)
            return RAFT_ENOTLEADER;
        if (to == from || to < 1 || to > c->n)
            return RAFT_EINVAL;
        sim__procs_command(c, from, CTL_C_TRANSFER, to);
        return RAFT_OK;
    }
    int rc = raft_transfer_leadership(s->r, c->now, to);
    sim__pump(c, from);
    return rc;
}

int sim_propose_membership(struct sim_cluster *c, int from,
                           const struct raft_membership *to, uint64_t *lsn)
{
    struct node_state *s = &c->nodes[from];
    if (!s->up || s->paused)
        return RAFT_EDOWN;
    if (c->procs)
        return sim__procs_members(c, from, to, lsn);
    int rc = raft_propose_membership(s->r, c->now, to, lsn);
    sim__pump(c, from);
    return rc;
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
            sim__link(c, a, b)->cut = a != b && group[a] != group[b];
    if (c->procs)
        sim__procs_links(c);
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
    sim__link(c, from, to)->cut = true;
    if (c->procs)
        sim__procs_link(c, from, to);
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
            sim__link(c, a, b)->cut = false;
    if (c->procs)
        sim__procs_links(c);
    sim__trace_simple(c, 0, "heal");
}

void sim_set_link(struct sim_cluster *c, int from, int to,
                  const struct sim_link *l)
{
    *sim__link(c, from, to) = *l;
    if (c->procs)
        sim__procs_link(c, from, to);
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
    return sim__link(c, from, to);
}

const struct sim_link *sim_default_link(const struct sim_cluster *c)
{
    return &c->o.link;
}

void sim_reset_links(struct sim_cluster *c)
{
    for (int a = 0; a <= c->n; a++)
        for (int b = 0; b <= c->n; b++)
            *sim__link(c, a, b) = c->o.link;
    if (c->procs)
        sim__procs_links(c);
}


bool sim_trap_springs(struct sim_cluster *c, enum sim_trap trap,
                      const struct raft_event *ev)
{
    if (trap == SIM_TRAP_NONE ||
        raft_role(sim_node(c, ev->node)) != RAFT_LEADER)
        return false;
    if (trap == SIM_TRAP_APPEND &&
        !(ev->kind == RAFT_EV_APPEND && ev->entry_type == WAL_ENTRY_DATA))
        return false;
    if (trap == SIM_TRAP_COMMIT && ev->kind != RAFT_EV_COMMIT)
        return false;
    int group[RAFT_MAX_NODES + 1] = {0};
    group[ev->node] = 1;
    sim_partition(c, group);
    return true;
}
