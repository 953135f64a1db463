/*
 * cluster_procs.c — one OS process per node (`run --clock processes`):
 * each node is `raftsim node --control-fd 3` (sim/node), a real process
 * with its own core, its own TCP endpoint on 127.0.0.1 and the cluster's
 * key; this file spawns them, talks to each over a private socketpair
 * (net/ctl.h) and keeps a shadow of every node.
 *
 * The shadow: a node reports each input it feeds its core (a frame, a
 * timer, a client write, a campaign, a transfer, a configuration change)
 * with the core time it used, before acting on it.  The core is
 * deterministic, so replaying the same inputs at the same times into the
 * cluster's own raft_node for that node reproduces its state exactly;
 * the checker, the trace, the clients' outcomes and the runner's
 * narration then work on the shadows as under the other clocks.  Every
 * node of the scenario is a process from the start, those outside the
 * initial configuration (`members`) too, as under the other clocks: each
 * knows every peer's port, so a node added later needs no new address,
 * and a removed node's process keeps running outside the configuration
 * (a leader stops replicating to it; it may still stand while its own
 * removal is not known committed, thesis §4.2.2).  Inputs of different
 * nodes are replayed in the order of their core times, and only up to
 * the watermark (the earliest time every running node has reported up
 * to; an idle node is asked for its clock), so a receive is never
 * replayed before its send: the sender reported its input before
 * sending, the receiver after receiving.
 *
 * Faults: a crash is SIGKILL (then whatever the node had written is read
 * to the end, so the shadow is at least as far as its peers saw); a pause
 * is SIGSTOP/SIGCONT (the kernel keeps the sockets' backlog); links are
 * pushed to the nodes' own fault layers (sim/node).  A restart is a new
 * process on the same port: it is handed the inputs of its node's
 * previous lives (the runner keeps them, as a disk would keep a WAL),
 * replays them and crashes and restarts its core as the shadow did, so
 * it comes back with the same term, vote and flushed log.
 *
 * Every process dies with the run: each child has PR_SET_PDEATHSIG
 * SIGKILL, exits when its control socket closes, and is killed and
 * reaped (bounded) when the cluster is freed.  Each is in its own process
 * group, so a Ctrl-C at the terminal reaches only the runner, which then
 * winds down as usual.
 *
 * This file: reading the reports, the watermark, the replay, the
 * commands; cluster_procs_life.c: the processes themselves.
 */
#include "sim/cluster/cluster_procs_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "net/tcp.h"
#include "sim/util/util.h"

void procs__perr(struct sim_cluster *c, const char *fmt, int id,
                 const char *what)
{
    struct sim_procs *P = c->procs;
    char line[320];
    snprintf(line, sizeof(line), fmt, id, what);
    if (P->errors++ == 0)
        snprintf(P->first_error, sizeof(P->first_error), "%s", line);
    if (trace_on(&c->tr)) {
        trace_begin(&c->tr, c->now, id, "net");
        trace_u64(&c->tr, "level", 0);
        trace_str(&c->tr, "message", line);
        trace_end(&c->tr);
    }
}

uint64_t procs__wall_us(const struct sim_procs *P)
{
    uint64_t t = P->held_ns ? P->held_ns : uv_hrtime();
    return (uint64_t)((double)(t - P->t0_ns) / 1000.0 / P->scale);
}

int procs__send(struct sim_cluster *c, int id, const struct ctl_rec *r)
{
    struct proc_node *pn = &c->procs->p[id];
    if (pn->fd < 0)
        return -1;
    return ctl_send(pn->fd, r);
}

static void push_link_one(struct sim_cluster *c, int a, int b)
{
    const struct sim_link *l = sim__link(c, a, b);
    struct ctl_link cl = {.latency_us = l->latency_us,
                          .jitter_us = l->jitter_us,
                          .drop = l->drop,
                          .dup = l->dup,
                          .cut = l->cut};
    struct ctl_rec r = {.type = CTL_C_LINK,
                        .a = b,
                        .flag = sim__link(c, b, a)->cut,
                        .payload = (const char *)&cl,
                        .plen = sizeof(cl)};
    procs__send(c, a, &r);
}

void sim__procs_link(struct sim_cluster *c, int a, int b)
{
    if (a < 1 || b < 1 || a > c->n || b > c->n || a == b)
        return;
    push_link_one(c, a, b);
    push_link_one(c, b, a);
}

void sim__procs_links(struct sim_cluster *c)
{
    for (int a = 1; a <= c->n; a++)
        for (int b = 1; b <= c->n; b++)
            if (a != b)
                push_link_one(c, a, b);
}

/* Read what node id wrote (without blocking); false at EOF. */
bool procs__read_some(struct sim_cluster *c, int id)
{
    struct proc_node *pn = &c->procs->p[id];
    char buf[65536];
    for (int k = 0; k < 64; k++) {
        ssize_t got = recv(pn->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (got == 0)
            return false;
        if (got < 0)
            return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK;
        if (net_reader_feed(&pn->rd, buf, (size_t)got) != NET_OK)
            return false;
    }
    return true;
}

/* The process is gone (EOF): close and reap.  `expected`: we killed it. */
void procs__gone(struct sim_cluster *c, int id, bool expected)
{
    struct proc_node *pn = &c->procs->p[id];
    if (pn->fd < 0)
        return;
    close(pn->fd);
    pn->fd = -1;
    if (pn->pid > 0)
        procs__reap_why(pn->pid, 2000, NULL, 0);
    pn->pid = 0;
    if (!expected && c->nodes[id].up)
        procs__perr(c, "n%d: its node process exited%s", id, "");
}

bool procs__head(struct sim_cluster *c, int id)
{
    struct proc_node *pn = &c->procs->p[id];
    while (!pn->has_head) {
        const char *body;
        size_t len;
        char err[128];
        int rc = net_reader_peek(&pn->rd, &body, &len, err, sizeof(err));
        if (rc == NET_EAGAIN)
            return false;
        if (rc != NET_OK || ctl_parse(body, len, &pn->head) != 0) {
            procs__perr(c, "n%d: bad control record from its process%s", id, "");
            if (pn->pid > 0)
                kill(pn->pid, SIGKILL);
            procs__gone(c, id, true);
            return false;
        }
        if (pn->head.type == CTL_R_HELLO) { /* the port, known already */
            pn->port = pn->head.a;
            net_reader_skip(&pn->rd);
            continue;
        }
        pn->has_head = true;
    }
    return true;
}

void procs__keep(struct proc_node *pn, const struct ctl_rec *r)
{
    ctl_encode(&pn->hist, r);
}

/* Replay node id's head record into its shadow. */
void procs__consume(struct sim_cluster *c, int id)
{
    struct proc_node *pn = &c->procs->p[id];
    struct ctl_rec r = pn->head;
    struct node_state *s = &c->nodes[id];
    uint64_t t = r.t_us;
    if (t > c->now)
        c->now = t;
    if (t > pn->last_t)
        pn->last_t = t;
    bool input = r.type == CTL_R_STEP || r.type == CTL_R_TICK ||
                 r.type == CTL_R_PROPOSE || r.type == CTL_R_CAMPAIGN ||
                 r.type == CTL_R_TRANSFER || r.type == CTL_R_CLOSED ||
                 r.type == CTL_R_MEMBERS;
    if (input && s->up) {
        procs__keep(pn, &r);
        switch (r.type) {
        case CTL_R_STEP: {
            struct net_frame f;
            char err[128];
            if (r.plen >= 4 &&
                net_decode_body(r.payload + 4, r.plen - 4, &f, err,
                                sizeof(err)) == NET_OK) {
                c->st.messages_delivered++;
                if (trace_on(&c->tr))
                    trace_msg(&c->tr, c->now, "recv", &f.msg, 0, NULL);
                raft_step(s->r, t, &f.msg);
                raft_msg_free(&f.msg);
            }
            break;
        }
        case CTL_R_TICK:
            raft_tick(s->r, t);
            break;
        case CTL_R_PROPOSE: {
            size_t kl = strnlen(r.payload, r.plen);
            if (kl < r.plen)
                sim__client_replay(c, id, r.a, t, r.payload, kl,
                                   r.payload + kl + 1, r.plen - kl - 1);
            break;
        }
        case CTL_R_CAMPAIGN:
            raft_campaign_now(s->r, t);
            break;
        case CTL_R_TRANSFER:
            raft_transfer_leadership(s->r, t, r.a);
            break;
        case CTL_R_CLOSED:
            if (trace_on(&c->tr)) {
                trace_begin(&c->tr, c->now, id, "closed");
                trace_node(&c->tr, "peer", (int)r.a);
                trace_end(&c->tr);
            }
            raft_peer_closed(s->r, t, (int)r.a);
            break;
        case CTL_R_MEMBERS: {
            /* what the node's core did (node__apply_input): the same */
            struct raft_membership to;
            uint64_t lsn = 0;
            pn->members_rc = ctl_members_parse(&r, c->n, &to) != 0
                                 ? RAFT_EINVAL
                                 : raft_propose_membership(s->r, t, &to, &lsn);
            pn->members_lsn = lsn;
            pn->members_seq = r.a;
            break;
        }
        }
        sim__pump(c, id);
    } else if (r.type == CTL_R_CLOCK) {
        pn->sync_out = false;
    } else if (r.type == CTL_R_LOG) {
        char line[320];
        snprintf(line, sizeof(line), "%.*s", (int)r.plen, r.payload);
        if (r.a == NET_LOG_ERROR)
            procs__perr(c, "n%d: %s", id, line);
        else if (trace_on(&c->tr)) {
            trace_begin(&c->tr, c->now, id, "net");
            trace_u64(&c->tr, "level", (uint64_t)(r.a < 0 ? 0 : r.a));
            trace_str(&c->tr, "message", line);
            trace_end(&c->tr);
        }
    }
    pn->has_head = false;
    net_reader_skip(&pn->rd);
}

/* One turn: read, replay what the watermark allows (and the cluster's
 * own events up to `until`), ask idle nodes for their clocks.  Returns
 * true if it did anything; sets *caught_up when every running node has
 * reported up to `until`. */
bool procs__turn(struct sim_cluster *c, uint64_t until, int wait_ms,
                 bool *caught_up)
{
    struct sim_procs *P = c->procs;
    int n = c->n;
    nfds_t k = 0;
    for (int i = 1; i <= n; i++)
        if (P->p[i].fd >= 0 && !c->nodes[i].paused && !P->p[i].frozen) {
            P->pfd[k].fd = P->p[i].fd;
            P->pfd[k].events = POLLIN;
            P->pfd[k].revents = 0;
            k++;
        }
    if (k > 0 && poll(P->pfd, k, wait_ms) > 0) {
        for (int i = 1; i <= n; i++)
            if (P->p[i].fd >= 0 && !procs__read_some(c, i)) {
                /* EOF: what it wrote stays queued and is replayed */
                close(P->p[i].fd);
                P->p[i].fd = -1;
                char why[64] = "";
                if (P->p[i].pid > 0)
                    procs__reap_why(P->p[i].pid, 2000, why, sizeof(why));
                P->p[i].pid = 0;
                if (c->nodes[i].up)
                    procs__perr(c, "n%d: its node process exited%s", i, why);
            }
    } else if (k == 0 && wait_ms > 0) {
        struct timespec ts = {0, (long)wait_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    uint64_t wall = procs__wall_us(P);
    bool did = false;
    for (;;) {
        uint64_t W = wall;
        int best = 0;
        uint64_t best_t = UINT64_MAX;
        for (int i = 1; i <= n; i++) {
            struct proc_node *pn = &P->p[i];
            bool h = procs__head(c, i);
            if (h && pn->head.t_us < best_t) {
                best_t = pn->head.t_us;
                best = i;
            }
            if (pn->fd >= 0 && !c->nodes[i].paused && !pn->frozen &&
                c->nodes[i].up) {
                uint64_t known = h ? pn->head.t_us : pn->last_t;
                if (known < W)
                    W = known;
            }
        }
        uint64_t ev_t = c->heap_len ? c->heap[0].t : UINT64_MAX;
        if (best && best_t <= W && best_t <= ev_t) {
            procs__consume(c, best);
            did = true;
            if (P->await_seq && P->p[best].members_seq == P->await_seq)
                return did; /* sim__procs_members: its answer, no further */
        } else if (ev_t <= W && ev_t <= until) {
            uint32_t idx = sim__ev_pop(c);
            if (c->pool[idx].t > c->now)
                c->now = c->pool[idx].t;
            if (sim__handle(c, idx))
                sim__ev_release(c, idx);
            did = true;
        } else {
            *caught_up = W >= until;
            /* ask the nodes that hold the watermark back */
            uint64_t want = until;
            if (best_t < want)
                want = best_t;
            if (ev_t < want)
                want = ev_t;
            if (want > wall)
                want = wall;
            for (int i = 1; i <= n; i++) {
                struct proc_node *pn = &P->p[i];
                if (pn->fd < 0 || c->nodes[i].paused || pn->frozen || pn->has_head ||
                    pn->sync_out || pn->last_t >= want)
                    continue;
                struct ctl_rec r = {.type = CTL_C_SYNC};
                if (procs__send(c, i, &r) == 0)
                    pn->sync_out = true;
            }
            return did;
        }
        if (c->stopped)
            return did;
    }
}

bool sim__procs_run_until(struct sim_cluster *c, uint64_t t)
{
    struct sim_procs *P = c->procs;
    while (!c->stopped && !util_stop_signal) {
        bool caught = false;
        bool did = procs__turn(c, t, 0, &caught);
        if (c->stopped)
            break;
        if (caught) {
            if (t > c->now)
                c->now = t;
            return true;
        }
        if (did)
            continue;
        /* nothing to do yet: wait for a record or for time to pass */
        uint64_t wall = procs__wall_us(P);
        uint64_t next = t;
        if (c->heap_len && c->heap[0].t < next)
            next = c->heap[0].t;
        int ms = next > wall ? (int)((double)(next - wall) * P->scale / 1000.0) + 1
                             : 2;
        if (ms > 20)
            ms = 20;
        caught = false;
        procs__turn(c, t, ms, &caught);
        if (caught && !c->stopped) {
            if (t > c->now)
                c->now = t;
            return true;
        }
    }
    return !c->stopped && !util_stop_signal;
}

void sim__procs_propose(struct sim_cluster *c, int id, int widx)
{
    const struct write_state *w = sim__write(c, widx);
    if (!w)
        return;
    char buf[72];
    size_t kl = strlen(w->pub.key), vl = strlen(w->pub.value);
    memcpy(buf, w->pub.key, kl);
    buf[kl] = '\0';
    memcpy(buf + kl + 1, w->pub.value, vl);
    struct ctl_rec r = {.type = CTL_C_PROPOSE, .a = widx, .payload = buf,
                        .plen = (uint32_t)(kl + 1 + vl)};
    procs__send(c, id, &r);
}

void sim__procs_command(struct sim_cluster *c, int id, int type, int a)
{
    struct ctl_rec r = {.type = (uint8_t)type, .a = a};
    procs__send(c, id, &r);
}

/* A configuration change: node id proposes it and reports it; its
 * result is the shadow's when that report is replayed (bounded: 10 s). */
int sim__procs_members(struct sim_cluster *c, int id,
                       const struct raft_membership *to, uint64_t *lsn)
{
    struct sim_procs *P = c->procs;
    struct proc_node *pn = &P->p[id];
    char text[8 * RAFT_MAX_NODES + 32];
    struct ctl_rec r;
    if (ctl_members_rec(&r, CTL_C_MEMBERS, to, text, sizeof(text)) != 0)
        return RAFT_EINVAL;
    r.a = ++P->members_seq;
    if (procs__send(c, id, &r) != 0)
        return RAFT_EDOWN;
    /* replay up to its report and no further, so what the runner says
     * of the proposal comes before what followed from it */
    uint64_t until = uv_hrtime() + UINT64_C(10000000000);
    P->await_seq = r.a;
    while (pn->members_seq != r.a) {
        if ((pn->fd < 0 && !procs__head(c, id)) || c->stopped ||
            util_stop_signal || uv_hrtime() > until)
            break;
        bool caught;
        procs__turn(c, procs__wall_us(P), 1, &caught);
    }
    P->await_seq = 0;
    if (pn->members_seq != r.a) /* died before it reported it, or slow */
        return pn->fd < 0                        ? RAFT_EDOWN
               : c->stopped || util_stop_signal ? SIM_ESTOPPED
                                                 : SIM_EPENDING;
    if (lsn && pn->members_rc == RAFT_OK)
        *lsn = pn->members_lsn;
    return pn->members_rc;
}

void sim__procs_hold(struct sim_cluster *c, bool hold)
{
    struct sim_procs *P = c->procs;
    if (hold && !P->held_ns)
        P->held_ns = uv_hrtime();
    else if (!hold && P->held_ns) {
        P->t0_ns += uv_hrtime() - P->held_ns;
        P->held_ns = 0;
    } else {
        return;
    }
    for (int i = 1; i <= c->n; i++)
        sim__procs_command(c, i, hold ? CTL_C_HOLD : CTL_C_RELEASE, 0);
}

uint64_t sim__procs_errors(const struct sim_cluster *c, char *first,
                           size_t len)
{
    if (first && len)
        snprintf(first, len, "%s", c->procs->first_error);
    return c->procs->errors;
}

int sim__procs_port(const struct sim_cluster *c, int id)
{
    return c->procs->p[id].port;
}

int sim__procs_pid(const struct sim_cluster *c, int id)
{
    return c->procs ? (int)c->procs->p[id].pid : 0;
}
