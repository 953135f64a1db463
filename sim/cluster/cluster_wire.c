/*
 * cluster_wire.c — real-time mode: the simulator's own scheduler, run on
 * a libuv loop against the wall clock, with every node a TCP endpoint on
 * 127.0.0.1 (net/tcp.h) exchanging msgpack frames.
 *
 * What changes from virtual time is only where time and messages come
 * from.  The clock is the wall clock divided by the time scale, so a
 * 50 ms heartbeat is 50 ms of core time and 500 ms of a class's time at
 * scale 10.  A frame that arrives becomes an ordinary delivery event at
 * "now", so cuts on the receiving side, paused and crashed nodes, the
 * checker and the trace behave exactly as in memory.  Link latency,
 * jitter, drop and duplication are decided on the sending side
 * (cluster.c): a delayed frame waits in the event queue as EV_WIRE and
 * goes onto the socket when it is released — the kernel here has no
 * netem, so latency lives in the transport.
 *
 * Every node keeps a connection to every peer from the start
 * (net_node_connect), as a node process does, so no vote or reply is
 * dropped to open a link on its first use.  A crash closes the node's
 * listener and sockets (its peers read EOF and report it to their cores:
 * fast detection); a silent crash leaves them open and unread.  A
 * restart listens on the same port again, dials every peer, and the
 * peers, which kept redialing it with back-off, reconnect.  A pause stops
 * reading the node's sockets: the kernel keeps the backlog, which the
 * node reads on resume.
 *
 * Every node of the cluster holds the same secret (the options' key, or
 * 32 random bytes from getrandom for this cluster alone), so no other
 * process on the machine can join or inject a frame (net/tcp.h).
 * Transport errors a node cannot recover from (descriptors, memory) are
 * kept for sim_transport_errors; the drivers report them.
 */
#include "sim/cluster/cluster_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "net/auth.h"
#include "net/tcp.h"
#include "sim/util/util.h"

#define WAKE_MAX_MS 20 /* longest poll, so that a stop signal is seen */

struct wire_node {
    struct sim_wire *w;
    int id;
    struct net_node *net;
    int port;
    bool silent; /* crashed silently: net paused, sockets open */
};

struct sim_wire {
    struct sim_cluster *c;
    uv_loop_t loop;
    uv_timer_t wake;
    uint64_t t0_ns;
    uint64_t held_at_ns; /* sim_hold_clock: 0 when running */
    double scale;
    char cluster_id[NET_CLUSTER_ID_MAX + 1];
    unsigned char key[NET_KEY_MAX];
    size_t key_len;
    uint64_t errors;       /* NET_LOG_ERROR lines */
    char first_error[320]; /* the first of them */
    struct wire_node *nodes; /* [n + 1] */
};

static uint64_t wire_now(const struct sim_wire *w)
{
    uint64_t t = w->held_at_ns ? w->held_at_ns : uv_hrtime();
    double us = (double)(t - w->t0_ns) / 1000.0 / w->scale;
    return (uint64_t)us;
}

static void on_msg(void *ctx, struct raft_msg *m)
{
    struct wire_node *wn = ctx;
    struct sim_cluster *c = wn->w->c;
    if (m->to != wn->id) { /* the transport checked; never trust twice */
        raft_msg_free(m);
        return;
    }
    uint64_t now = wire_now(wn->w);
    if (now > c->now)
        c->now = now;
    uint32_t i;
    struct sim_ev *e = sim__ev_new(c, c->now, EV_DELIVER, wn->id, &i);
    e->msg = *m; /* moved */
    m->entries = NULL;
    m->n_entries = 0;
    sim__ev_push(c, i);
}

/* A peer's socket closed under us: fast detection's evidence, handled
 * as an event at "now" like a frame (cluster_step.c, EV_CLOSED). */
static void on_peer_closed(void *ctx, int peer)
{
    struct wire_node *wn = ctx;
    struct sim_cluster *c = wn->w->c;
    if (!c->o.fast_detect || peer < 1 || peer > c->n)
        return;
    uint64_t now = wire_now(wn->w);
    if (now > c->now)
        c->now = now;
    struct sim_ev *e = sim__sched(c, c->now, EV_CLOSED, wn->id);
    e->hint = peer;
}

static void on_log(void *ctx, int level, const char *line)
{
    struct wire_node *wn = ctx;
    struct sim_cluster *c = wn->w->c;
    if (level == NET_LOG_ERROR && wn->w->errors++ == 0)
        snprintf(wn->w->first_error, sizeof(wn->w->first_error), "%s", line);
    if (!trace_on(&c->tr))
        return;
    trace_begin(&c->tr, c->now, wn->id, "net");
    trace_u64(&c->tr, "level", (uint64_t)(level < 0 ? 0 : level));
    trace_str(&c->tr, "message", line);
    trace_end(&c->tr);
}

static int start_node(struct sim_wire *w, int id, int port)
{
    struct wire_node *wn = &w->nodes[id];
    struct net_node_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.cluster_id = w->cluster_id;
    cfg.key = w->key;
    cfg.key_len = w->key_len;
    cfg.id = id;
    cfg.n_nodes = w->c->n;
    cfg.port = port;
    cfg.on_msg = on_msg;
    cfg.on_log = on_log;
    cfg.on_peer_closed = on_peer_closed;
    cfg.ctx = wn;
    int rc = net_node_start(&w->loop, &cfg, &wn->net);
    if (rc != 0) {
        wn->net = NULL;
        return rc;
    }
    wn->port = net_node_port(wn->net);
    /* every peer kept connected, as a node process does (sim/node): a
     * peer's port still unknown (0) is dialed once sim__wire_start
     * sets it */
    for (int j = 1; j <= w->c->n; j++)
        if (j != id) {
            net_node_set_peer(wn->net, j, "127.0.0.1", w->nodes[j].port);
            net_node_connect(wn->net, j);
        }
    return 0;
}

int sim__wire_start(struct sim_cluster *c)
{
    /* Refuse up front rather than fail one accept() at a time later. */
    char why[256];
    if (sim_wire_check_fds(c->n, why, sizeof(why)) != 0)
        return UV_EMFILE;
    struct sim_wire *w = calloc(1, sizeof(*w));
    if (!w)
        return RAFT_ENOMEM;
    w->c = c;
    w->scale = c->o.time_scale > 0 ? c->o.time_scale : 1.0;
    snprintf(w->cluster_id, sizeof(w->cluster_id), "%s",
             c->o.cluster_id ? c->o.cluster_id : "raftsim");
    if (c->o.key) {
        if (c->o.key_len < NET_KEY_MIN || c->o.key_len > NET_KEY_MAX) {
            free(w);
            return RAFT_EINVAL;
        }
        memcpy(w->key, c->o.key, c->o.key_len);
        w->key_len = c->o.key_len;
    } else {
        w->key_len = NET_KEY_RANDOM;
        if (net_random(w->key, w->key_len) != 0) {
            free(w);
            return RAFT_ENOMEM;
        }
    }
    w->nodes = calloc((size_t)c->n + 1, sizeof(*w->nodes));
    if (!w->nodes || uv_loop_init(&w->loop) != 0) {
        free(w->nodes);
        free(w);
        return RAFT_ENOMEM;
    }
    uv_timer_init(&w->loop, &w->wake);
    c->wire = w;
    c->wire_send = sim__wire_send;
    for (int i = 1; i <= c->n; i++) {
        w->nodes[i].w = w;
        w->nodes[i].id = i;
    }
    /* Listen first (ephemeral ports), then tell everyone where to dial. */
    for (int i = 1; i <= c->n; i++) {
        int rc = start_node(w, i, 0);
        if (rc != 0)
            return rc; /* sim_cluster_free tears down what exists */
    }
    for (int i = 1; i <= c->n; i++)
        for (int j = 1; j <= c->n; j++)
            if (j != i)
                net_node_set_peer(w->nodes[i].net, j, "127.0.0.1",
                                  w->nodes[j].port);
    w->t0_ns = uv_hrtime();
    return 0;
}

static void closed(void *ctx)
{
    net_node_free(ctx);
}

void sim__wire_free(struct sim_cluster *c)
{
    struct sim_wire *w = c->wire;
    if (!w)
        return;
    for (int i = 1; i <= c->n; i++)
        if (w->nodes[i].net)
            net_node_close(w->nodes[i].net, closed, w->nodes[i].net);
    uv_close((uv_handle_t *)&w->wake, NULL);
    /* Closing handles finish within a few loop turns; bound it anyway. */
    for (int k = 0; k < 1000 && uv_loop_alive(&w->loop); k++)
        uv_run(&w->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&w->loop) != 0)
        fprintf(stderr, "raftsim: warning: TCP loop did not close cleanly\n");
    explicit_bzero(w->key, sizeof(w->key));
    free(w->nodes);
    free(w);
    c->wire = NULL;
}

void sim__wire_send(struct sim_cluster *c, struct raft_msg *m)
{
    struct wire_node *wn = &c->wire->nodes[m->from];
    if (wn->net)
        net_node_send(wn->net, m); /* encodes a copy; losses are counted */
    raft_msg_free(m);
}

static void wake_cb(uv_timer_t *t)
{
    (void)t; /* only there to end uv_run(UV_RUN_ONCE) */
}

bool sim__wire_run_until(struct sim_cluster *c, uint64_t t)
{
    struct sim_wire *w = c->wire;
    while (!c->stopped && !util_stop_signal) {
        uint64_t now = wire_now(w);
        if (now > c->now)
            c->now = now;
        if (c->heap_len && c->heap[0].t <= c->now && c->heap[0].t <= t) {
            uint32_t idx = sim__ev_pop(c);
            if (sim__handle(c, idx))
                sim__ev_release(c, idx);
            continue;
        }
        if (c->now >= t)
            break;
        uint64_t next = t;
        if (c->heap_len && c->heap[0].t < next)
            next = c->heap[0].t;
        double real_ms = (double)(next - c->now) * w->scale / 1000.0;
        uint64_t ms = (uint64_t)ceil(real_ms);
        if (ms == 0)
            ms = 1;
        /* Ctrl-C must be seen within 100 ms of wall time; a signal does
         * not end the poll (libuv resumes it after EINTR). */
        if (ms > WAKE_MAX_MS)
            ms = WAKE_MAX_MS;
        /* The timer repeats: if it fires before the poll phase of this
         * uv_run (loop time is only refreshed there), a one-shot timer
         * would leave the poll with no deadline at all and block until
         * some socket happened to speak. */
        uv_update_time(&w->loop);
        uv_timer_start(&w->wake, wake_cb, ms, ms);
        uv_run(&w->loop, UV_RUN_ONCE);
    }
    return !c->stopped && !util_stop_signal;
}

/* A crash closes every socket, as the kernel does for a process that
 * died; a silent one (power loss) keeps them open and stops reading, so
 * peers see nothing until restart, which reads on (what arrived in
 * between is delivered late, as a slow network would). */
void sim__wire_crash(struct sim_cluster *c, int id, bool silent)
{
    struct wire_node *wn = &c->wire->nodes[id];
    if (wn->net && silent) {
        net_node_pause(wn->net);
        wn->silent = true;
        return;
    }
    if (wn->net)
        net_node_close(wn->net, closed, wn->net);
    wn->net = NULL;
}

int sim__wire_restart(struct sim_cluster *c, int id)
{
    struct wire_node *wn = &c->wire->nodes[id];
    if (wn->net && wn->silent) {
        wn->silent = false;
        net_node_resume(wn->net);
        return 0;
    }
    if (wn->net)
        return 0;
    int rc = start_node(c->wire, id, wn->port);
    if (rc != 0 && c->wire->errors++ == 0)
        snprintf(c->wire->first_error, sizeof(c->wire->first_error),
                 "n%d: cannot listen again on port %d: %s", id, wn->port,
                 uv_strerror(rc));
    if (rc != 0 && trace_on(&c->tr)) {
        trace_begin(&c->tr, c->now, id, "net");
        trace_u64(&c->tr, "level", 0);
        trace_str(&c->tr, "message", uv_strerror(rc));
        trace_end(&c->tr);
    }
    return rc;
}

void sim__wire_pause(struct sim_cluster *c, int id, bool paused)
{
    struct wire_node *wn = &c->wire->nodes[id];
    if (!wn->net || wn->silent)
        return;
    if (paused)
        net_node_pause(wn->net);
    else
        net_node_resume(wn->net);
}

void sim__wire_hold(struct sim_cluster *c, bool hold)
{
    struct sim_wire *w = c->wire;
    if (hold && !w->held_at_ns) {
        w->held_at_ns = uv_hrtime();
    } else if (!hold && w->held_at_ns) {
        w->t0_ns += uv_hrtime() - w->held_at_ns; /* the pause never was */
        w->held_at_ns = 0;
    }
}

uint64_t sim_transport_errors(const struct sim_cluster *c, char *first,
                              size_t len)
{
    const struct sim_wire *w = c->wire;
    if (c->procs)
        return sim__procs_errors(c, first, len);
    if (first && len)
        snprintf(first, len, "%s", w ? w->first_error : "");
    return w ? w->errors : 0;
}

int sim_node_pid(const struct sim_cluster *c, int id)
{
    if (!c->procs || id < 1 || id > c->n)
        return 0;
    return sim__procs_pid(c, id);
}

int sim_wire_port(const struct sim_cluster *c, int id)
{
    if (c->procs && id >= 1 && id <= c->n)
        return sim__procs_port(c, id);
    if (!c->wire || id < 1 || id > c->n)
        return 0;
    return c->wire->nodes[id].port;
}

bool sim_wire_net_stats(const struct sim_cluster *c, int id,
                        struct net_stats *out)
{
    if (!c->wire || id < 1 || id > c->n || !c->wire->nodes[id].net)
        return false;
    *out = *net_node_stats(c->wire->nodes[id].net);
    return true;
}

bool sim_wire_connected(const struct sim_cluster *c, int from, int to)
{
    return c->wire && from >= 1 && from <= c->n && c->wire->nodes[from].net &&
           net_node_connected(c->wire->nodes[from].net, to);
}

/* Per node: a listener, a dialed and an accepted connection per peer;
 * plus the process's own (stdio, trace, libuv's epoll and wake-up
 * descriptors, a PostgreSQL mirror) and a few connections overlapping a
 * reconnect.  Foreign connections beyond that fail to be accepted, which
 * the transport logs, and cost the cluster nothing. */
uint64_t sim_wire_fds_needed(int n_nodes)
{
    uint64_t n = n_nodes > 0 ? (uint64_t)n_nodes : 0;
    return n * (2 * n - 1) + 64;
}

int sim_wire_check_fds(int n_nodes, char *err, size_t len)
{
    uint64_t need = sim_wire_fds_needed(n_nodes);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0; /* cannot tell: let the run find out */
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return 0;
    }
    snprintf(err, len,
             "a %d-node TCP cluster needs about %llu file descriptors, but "
             "this process may open only %llu (ulimit -n; hard limit %llu); "
             "raise the limit or use fewer nodes",
             n_nodes, (unsigned long long)need,
             (unsigned long long)rl.rlim_cur,
             (unsigned long long)(rl.rlim_max == RLIM_INFINITY
                                      ? 0
                                      : rl.rlim_max));
    return -1;
}
