/*
 * node.c — one node per process (node.h): a raft core, its TCP endpoint,
 * its timer, the faults of its own links, and (driven) the control
 * channel to the runner.
 *
 * The order that makes the runner's shadow exact: every input is written
 * to the control channel (a blocking write, so it is in the kernel before
 * anything else happens) and only then fed to the core; the Ready loop is
 * the one of sim/cluster/cluster_step.c (events, then the synchronous
 * flush of the in-memory WAL, then advance), so the shadow that replays
 * the same inputs at the same core times reaches the same state.  A
 * SIGKILL can therefore leave the shadow one input ahead of the dead
 * process, never behind what its peers saw.
 *
 * A configuration change (CTL_C_MEMBERS) is an input like a client
 * write: reported, then proposed to the core; the initial configuration
 * comes in the INIT record's raft_config (members), as the shadow's.
 *
 * Link faults are this node's own: latency, jitter, drop and duplication
 * on what it sends (a delayed frame waits on a libuv timer), cuts on both
 * what it sends and what it receives.
 */
#include "sim/node/node_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "net/auth.h"
#include "net/ctl.h"
#include "net/tcp.h"
#include "raft/prng.h"
#include "raft/wal.h"
#include "sim/node/node_wal.h"
#include "sim/util/util.h"

uint64_t node__now_us(const struct nd *d)
{
    uint64_t t = d->held_ns ? d->held_ns : uv_hrtime();
    if (t < d->t0_ns)
        return 0;
    return (uint64_t)((double)(t - d->t0_ns) / 1000.0 / d->scale);
}

void node__die(struct nd *d, int code)
{
    d->quit = true;
    d->exit_code = code;
    uv_stop(&d->loop);
}

/* An input, reported before the core sees it (driven mode). */
static void report(struct nd *d, uint8_t type, int32_t a, uint64_t t,
                   const char *payload, uint32_t plen)
{
    if (d->replaying)
        return;
    struct ctl_rec r = {.type = type, .a = a, .t_us = t,
                        .payload = payload, .plen = plen};
    if (d->use_wal && type != CTL_R_LOG && type != CTL_R_CLOCK &&
        node_wal_append(&d->wal, &r) != 0) {
        fprintf(stderr, "raftsim node n%d: cannot append to %s: %s\n",
                d->cfg.id, d->wal.path, strerror(errno));
        node__die(d, 2);
        return;
    }
    if (d->ctl < 0)
        return;
    if (ctl_send(d->ctl, &r) != 0)
        node__die(d, 0); /* the runner is gone: so are we */
}

/* Before a message leaves: make the file durable if what a crash must
 * not lose changed (the driver contract: flushed before acknowledged). */
static void sync_durable(struct nd *d)
{
    const struct wal *w = raft_wal(d->r);
    uint64_t now[4] = {raft_term(d->r), (uint64_t)raft_voted_for(d->r),
                       wal_last_lsn(w), wal_last_term(w)};
    if (!memcmp(now, d->synced, sizeof(now)))
        return;
    if (node_wal_sync(&d->wal) != 0) {
        fprintf(stderr, "raftsim node n%d: fdatasync %s: %s\n", d->cfg.id,
                d->wal.path, strerror(errno));
        node__die(d, 2);
        return;
    }
    memcpy(d->synced, now, sizeof(now));
}

static void print_event(struct nd *d, uint64_t t, const struct raft_event *ev)
{
    if (!d->out_f)
        return;
    switch (ev->kind) {
    case RAFT_EV_ROLE:
        fprintf(d->out_f, "t=%.3f n%d %s term %llu (%s)\n", (double)t / 1e6,
                ev->node, raft_role_name(ev->role),
                (unsigned long long)ev->term, raft_reason_name(ev->reason));
        break;
    case RAFT_EV_COMMIT:
        fprintf(d->out_f, "t=%.3f n%d commit lsn %llu\n", (double)t / 1e6,
                ev->node, (unsigned long long)ev->lsn);
        break;
    default:
        return;
    }
    fflush(d->out_f);
}

static void delayed_closed(uv_handle_t *h)
{
    free(h->data);
}

static void delayed_drop(struct delayed *x)
{
    struct nd *d = x->d;
    if (x->prev)
        x->prev->next = x->next;
    else
        d->delayed = x->next;
    if (x->next)
        x->next->prev = x->prev;
    raft_msg_free(&x->m);
    uv_close((uv_handle_t *)&x->t, delayed_closed);
}

static void delayed_fire(uv_timer_t *t)
{
    struct delayed *x = t->data;
    if (x->d->net)
        net_node_send(x->d->net, &x->m);
    delayed_drop(x);
}

static void send_one(struct nd *d, struct raft_msg *m)
{
    int to = m->to;
    if (to < 1 || to > d->n || !d->net) {
        raft_msg_free(m);
        return;
    }
    const struct ctl_link *l = &d->out[to];
    if (l->cut || (l->drop > 0 && prng_double(&d->rng) < l->drop)) {
        raft_msg_free(m);
        return;
    }
    int copies = 1 + (l->dup > 0 && prng_double(&d->rng) < l->dup);
    for (int k = 0; k < copies; k++) {
        uint64_t delay = l->latency_us + prng_range(&d->rng, 0, l->jitter_us);
        if (delay == 0) {
            net_node_send(d->net, m);
            continue;
        }
        struct delayed *x = calloc(1, sizeof(*x));
        if (!x || raft_msg_copy(&x->m, m) != RAFT_OK) {
            free(x);
            continue;
        }
        x->d = d;
        x->next = d->delayed;
        if (x->next)
            x->next->prev = x;
        d->delayed = x;
        uv_timer_init(&d->loop, &x->t);
        x->t.data = x;
        uint64_t ms = (uint64_t)ceil((double)delay * d->scale / 1000.0);
        uv_timer_start(&x->t, delayed_fire, ms, 0);
    }
    raft_msg_free(m);
}

static void arm_timer(struct nd *d);
static void pump(struct nd *d, uint64_t t);

void node__pump(struct nd *d, uint64_t t)
{
    pump(d, t);
}

/* Carry out what the core asked for: the Ready loop of cluster_step.c,
 * with the in-memory WAL flushed at once. */
static void pump(struct nd *d, uint64_t t)
{
    while (raft_has_ready(d->r)) {
        struct raft_ready rd;
        raft_ready_get(d->r, &rd);
        for (size_t i = 0; i < rd.n_events; i++)
            if (!d->replaying)
                print_event(d, t, &rd.events[i]);
        bool flushing = rd.persist_lsn > raft_wal(d->r)->flushed_lsn;
        if (d->use_wal && !d->replaying && rd.n_msgs)
            sync_durable(d);
        for (size_t i = 0; i < rd.n_msgs; i++) {
            if (d->replaying) {
                raft_msg_free(&rd.msgs[i]);
            } else {
                struct raft_msg m = rd.msgs[i];
                send_one(d, &m);
            }
            rd.msgs[i].entries = NULL;
            rd.msgs[i].n_entries = 0;
        }
        if (flushing)
            raft_persisted(d->r, t, rd.persist_lsn);
        raft_advance(d->r);
    }
    if (!d->replaying)
        arm_timer(d);
}

static void timer_fire(uv_timer_t *h)
{
    struct nd *d = h->data;
    if (d->held_ns)
        return;
    uint64_t t = node__now_us(d);
    uint64_t dl = raft_next_deadline(d->r);
    if (dl != UINT64_MAX && t < dl) {
        arm_timer(d); /* early (ms rounding): wait the rest */
        return;
    }
    report(d, CTL_R_TICK, 0, t, NULL, 0);
    raft_tick(d->r, t);
    pump(d, t);
}

static void arm_timer(struct nd *d)
{
    uint64_t dl = raft_next_deadline(d->r);
    if (dl == UINT64_MAX || d->held_ns) {
        uv_timer_stop(&d->timer);
        return;
    }
    /* libuv counts from its cached loop time: refresh it, or the timer
     * fires early by however long this turn of the loop has run */
    uv_update_time(&d->loop);
    uint64_t t = node__now_us(d);
    uint64_t wait_us = dl > t ? dl - t : 0;
    uint64_t ms = (uint64_t)ceil((double)wait_us * d->scale / 1000.0);
    uv_timer_start(&d->timer, timer_fire, ms, 0);
}

static void on_msg(void *ctx, struct raft_msg *m)
{
    struct nd *d = ctx;
    /* before GO (a restarted node replaying its past) nothing arrives */
    if (!d->live || m->to != d->cfg.id || m->from < 1 || m->from > d->n ||
        d->cut_in[m->from]) {
        raft_msg_free(m);
        return;
    }
    uint64_t t = node__now_us(d);
    if (d->ctl >= 0 || d->use_wal) {
        struct net_buf b = {0};
        if (net_encode_msg(&b, m, NET_FRAME_MAX_DEFAULT) == NET_OK)
            report(d, CTL_R_STEP, 0, t, b.data, (uint32_t)b.len);
        net_buf_free(&b);
    }
    raft_step(d->r, t, m);
    raft_msg_free(m);
    pump(d, t);
}

static void on_log(void *ctx, int level, const char *line)
{
    struct nd *d = ctx;
    if (d->ctl >= 0) {
        if (level <= NET_LOG_INFO)
            report(d, CTL_R_LOG, level, node__now_us(d), line,
                   (uint32_t)strlen(line));
    } else if (d->out_f && level <= NET_LOG_WARN) {
        fprintf(stderr, "raftsim node n%d: %s\n", d->cfg.id, line);
    }
}

/* A peer's connection closed (EOF/RST): fast detection's evidence, an
 * input like a message, so the runner's shadow replays it too. */
static void on_peer_closed(void *ctx, int peer)
{
    struct nd *d = ctx;
    if (!d->live || peer < 1 || peer > d->n || peer == d->cfg.id)
        return;
    uint64_t t = node__now_us(d);
    report(d, CTL_R_CLOSED, peer, t, NULL, 0);
    raft_peer_closed(d->r, t, peer);
    pump(d, t);
}

static int start_net(struct nd *d)
{
    struct net_node_config nc;
    memset(&nc, 0, sizeof(nc));
    nc.cluster_id = d->cluster_id;
    nc.key = d->key;
    nc.key_len = d->key_len;
    nc.id = d->cfg.id;
    nc.n_nodes = d->n;
    nc.host = d->host;
    nc.port = d->port;
    nc.on_msg = on_msg;
    nc.on_log = on_log;
    nc.on_peer_closed = on_peer_closed;
    nc.ctx = d;
    int rc = net_node_start(&d->loop, &nc, &d->net);
    if (rc != 0) {
        d->net = NULL;
        return rc;
    }
    d->port = net_node_port(d->net);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The control channel (driven mode) */

/* A recorded input, fed to the core again (replay) or for the first time
 * (a runner's command): the same calls in both cases. */
void node__apply_input(struct nd *d, const struct ctl_rec *r)
{
    uint64_t t = r->t_us;
    switch (r->type) {
    case CTL_R_STEP: {
        struct net_frame f;
        char err[128];
        if (r->plen < 4 ||
            net_decode_body(r->payload + 4, r->plen - 4, &f, err,
                            sizeof(err)) != NET_OK)
            return;
        raft_step(d->r, t, &f.msg);
        raft_msg_free(&f.msg);
        break;
    }
    case CTL_R_TICK:
        raft_tick(d->r, t);
        break;
    case CTL_R_PROPOSE:
    case CTL_C_PROPOSE: {
        const char *key = r->payload;
        size_t kl = strnlen(key, r->plen);
        if (kl >= r->plen)
            return;
        const char *val = key + kl + 1;
        size_t vl = r->plen - kl - 1;
        uint64_t lsn;
        raft_propose(d->r, t, key, kl, val, vl, &lsn);
        break;
    }
    case CTL_R_CAMPAIGN:
    case CTL_C_CAMPAIGN:
        raft_campaign_now(d->r, t);
        break;
    case CTL_R_TRANSFER:
    case CTL_C_TRANSFER:
        raft_transfer_leadership(d->r, t, r->a);
        break;
    case CTL_R_CLOSED:
        raft_peer_closed(d->r, t, (int)r->a);
        break;
    case CTL_R_MEMBERS:
    case CTL_C_MEMBERS: {
        /* a text that is no configuration proposes nothing, here and in
         * the runner's shadow alike */
        struct raft_membership to;
        if (ctl_members_parse(r, d->n, &to) != 0)
            return;
        uint64_t lsn;
        raft_propose_membership(d->r, t, &to, &lsn);
        break;
    }
    case CTL_C_CRASH:
        raft_crash(d->r, r->a != 0);
        break;
    case CTL_C_RESTART:
        raft_restart(d->r, t);
        break;
    default:
        return;
    }
    pump(d, t);
}

static void command(struct nd *d, const struct ctl_rec *r)
{
    if (!d->live) { /* the replay of a previous life, then GO */
        if (r->type == CTL_C_GO) {
            d->replaying = false;
            d->live = true;
            if (r->b)
                d->t0_ns = r->b; /* core time 0 (the runner's clock) */
            for (int j = 1; d->net && j <= d->n; j++)
                net_node_connect(d->net, j);
            arm_timer(d);
        } else if (r->type == CTL_C_PEER) {
            if (d->net && r->a >= 1 && r->a <= d->n && r->a != d->cfg.id)
                net_node_set_peer(d->net, r->a, "127.0.0.1", (int)r->b);
        } else {
            node__apply_input(d, r);
        }
        return;
    }
    struct ctl_rec in = *r;
    uint64_t t = node__now_us(d);
    in.t_us = t;
    switch (r->type) {
    case CTL_C_PEER:
        if (d->net && r->a >= 1 && r->a <= d->n && r->a != d->cfg.id)
            net_node_set_peer(d->net, r->a, "127.0.0.1", (int)r->b);
        return;
    case CTL_C_LINK:
        if (r->a >= 1 && r->a <= d->n && r->plen == sizeof(struct ctl_link)) {
            memcpy(&d->out[r->a], r->payload, sizeof(struct ctl_link));
            d->cut_in[r->a] = r->flag != 0;
        }
        return;
    case CTL_C_SYNC:
        report(d, CTL_R_CLOCK, 0, t, NULL, 0);
        return;
    case CTL_C_HOLD:
        if (!d->held_ns) {
            d->held_ns = uv_hrtime();
            if (d->net)
                net_node_pause(d->net);
            uv_timer_stop(&d->timer);
        }
        return;
    case CTL_C_RELEASE:
        if (d->held_ns) {
            d->t0_ns += uv_hrtime() - d->held_ns;
            d->held_ns = 0;
            if (d->net)
                net_node_resume(d->net);
            arm_timer(d);
        }
        return;
    case CTL_C_PROPOSE:
        report(d, CTL_R_PROPOSE, r->a, t, r->payload, r->plen);
        break;
    case CTL_C_CAMPAIGN:
        report(d, CTL_R_CAMPAIGN, 0, t, NULL, 0);
        break;
    case CTL_C_TRANSFER:
        report(d, CTL_R_TRANSFER, r->a, t, NULL, 0);
        break;
    case CTL_C_MEMBERS:
        report(d, CTL_R_MEMBERS, r->a, t, r->payload, r->plen);
        break;
    default:
        return; /* nothing else is a command */
    }
    node__apply_input(d, &in);
}

/* Every whole record in the buffer; false when the node must stop. */
static bool ctl_records(struct nd *d)
{
    for (;;) {
        const char *body;
        size_t len;
        char err[128];
        int rc = net_reader_peek(&d->rd, &body, &len, err, sizeof(err));
        if (rc == NET_EAGAIN)
            return true;
        struct ctl_rec r;
        if (rc != NET_OK || ctl_parse(body, len, &r) != 0) {
            node__die(d, 2);
            return false;
        }
        command(d, &r);
        net_reader_skip(&d->rd);
        if (d->quit)
            return false;
    }
}

static void ctl_readable(uv_poll_t *h, int status, int events)
{
    struct nd *d = h->data;
    (void)events;
    if (status < 0) {
        node__die(d, 0);
        return;
    }
    char buf[65536];
    for (int k = 0; k < 64 && !d->quit; k++) {
        ssize_t got = recv(d->ctl, buf, sizeof(buf), MSG_DONTWAIT);
        if (got == 0) {
            node__die(d, 0); /* the runner closed it: the run is over */
            return;
        }
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                node__die(d, 0);
            break;
        }
        if (net_reader_feed(&d->rd, buf, (size_t)got) != NET_OK) {
            node__die(d, 2);
            return;
        }
        if (!ctl_records(d))
            return;
    }
}

/* Blocking: the first record must be INIT. */
static int read_init(struct nd *d, struct ctl_init *ci)
{
    for (;;) {
        const char *body;
        size_t len;
        char err[128];
        int rc = net_reader_peek(&d->rd, &body, &len, err, sizeof(err));
        if (rc == NET_OK) {
            struct ctl_rec r;
            if (ctl_parse(body, len, &r) != 0 || r.type != CTL_C_INIT ||
                r.plen != sizeof(*ci))
                return -1;
            memcpy(ci, r.payload, sizeof(*ci));
            net_reader_skip(&d->rd);
            return 0;
        }
        if (rc != NET_EAGAIN)
            return -1;
        char buf[8192];
        ssize_t got = read(d->ctl, buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || net_reader_feed(&d->rd, buf, (size_t)got) != NET_OK)
            return -1;
    }
}

static void stop_check(uv_timer_t *h)
{
    struct nd *d = h->data;
    if (util_stop_signal)
        node__die(d, 0);
    if (d->deadline_s_us && node__now_us(d) >= d->deadline_s_us)
        node__die(d, 0);
    if (d->ctl >= 0 && getppid() == 1)
        node__die(d, 0); /* orphaned (PR_SET_PDEATHSIG should have done it) */
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void net_closed(void *ctx)
{
    net_node_free(ctx);
}

int node_run(const struct node_opts *o)
{
    struct nd *d = calloc(1, sizeof(*d));
    if (!d)
        return 2;
    d->ctl = o->control_fd;
    d->out_f = o->out;
    net_reader_init(&d->rd, CTL_REC_MAX);
    if (d->ctl >= 0) {
        struct ctl_init ci;
        if (read_init(d, &ci) != 0 || ci.key_len < NET_KEY_MIN ||
            ci.key_len > NET_KEY_MAX || ci.cfg.n_nodes < 1 ||
            ci.cfg.n_nodes > RAFT_MAX_NODES) {
            fprintf(stderr, "raftsim node: bad or missing control init\n");
            net_reader_free(&d->rd);
            free(d);
            return 2;
        }
        d->cfg = ci.cfg;
        d->scale = ci.time_scale > 0 ? ci.time_scale : 1.0;
        d->t0_ns = ci.t0_ns;
        d->port = ci.port;
        memcpy(d->cluster_id, ci.cluster_id, sizeof(d->cluster_id));
        d->cluster_id[NET_CLUSTER_ID_MAX] = '\0';
        memcpy(d->key, ci.key, ci.key_len);
        d->key_len = ci.key_len;
        explicit_bzero(&ci, sizeof(ci));
        d->host = "127.0.0.1";
        d->replaying = true; /* until GO */
    } else {
        d->cfg = o->cfg;
        d->scale = o->time_scale > 0 ? o->time_scale : 1.0;
        d->t0_ns = uv_hrtime();
        d->port = o->peers[o->cfg.id].port;
        snprintf(d->cluster_id, sizeof(d->cluster_id), "%s",
                 o->cluster_id ? o->cluster_id : "raftsim");
        memcpy(d->key, o->key, o->key_len);
        d->key_len = o->key_len;
        d->host = o->listen_host ? o->listen_host : "127.0.0.1";
        d->live = true;
        if (o->duration_s > 0)
            d->deadline_s_us = (uint64_t)(o->duration_s * 1e6);
    }
    d->n = d->cfg.n_nodes;
    prng_seed(&d->rng, d->cfg.seed ^ UINT64_C(0x6c696e6b73)); /* "links" */
    int rc = 2;
    if (uv_loop_init(&d->loop) != 0)
        goto out_rd;
    uv_timer_init(&d->loop, &d->timer);
    d->timer.data = d;
    uv_timer_init(&d->loop, &d->stop_check);
    d->stop_check.data = d;
    uv_timer_start(&d->stop_check, stop_check, 50, 50);
    if (raft_node_new(&d->cfg, 0, &d->r) != RAFT_OK) {
        fprintf(stderr, "raftsim node: bad configuration\n");
        goto out_loop;
    }
    bool was = d->replaying;
    d->replaying = true;
    pump(d, 0); /* as the runner's shadow does at time 0 */
    d->replaying = was;
    if (d->ctl < 0 && o->wal_dir && node__load_wal(d, o->wal_dir, o->seed_given) != 0)
        goto out_loop;
    if (d->deadline_s_us) /* --duration from now (a replay moved the clock) */
        d->deadline_s_us += node__now_us(d);
    int nrc = start_net(d);
    if (nrc != 0) {
        fprintf(stderr, "raftsim node n%d: cannot listen on %s:%d: %s\n",
                d->cfg.id, d->host, d->port, uv_strerror(nrc));
        goto out_loop;
    }
    if (d->ctl >= 0) {
        struct ctl_rec h = {.type = CTL_R_HELLO, .a = d->port};
        if (ctl_send(d->ctl, &h) != 0)
            goto out_loop;
        uv_poll_init(&d->loop, &d->ctl_poll, d->ctl);
        d->ctl_poll.data = d;
        uv_poll_start(&d->ctl_poll, UV_READABLE | UV_DISCONNECT,
                      ctl_readable);
        ctl_records(d); /* what read_init read past INIT */
    } else {
        for (int j = 1; j <= d->n; j++)
            if (j != d->cfg.id)
            {
                net_node_set_peer(d->net, j, o->peers[j].host,
                                  o->peers[j].port);
                net_node_connect(d->net, j);
            }
        if (d->out_f) {
            fprintf(d->out_f, "n%d: listening on %s:%d, %d nodes\n",
                    d->cfg.id, d->host, d->port, d->n);
            fflush(d->out_f);
        }
        arm_timer(d);
    }
    while (!d->quit && uv_run(&d->loop, UV_RUN_DEFAULT) != 0 && !d->quit)
        ;
    rc = d->exit_code;
out_loop:
    if (d->net)
        net_node_close(d->net, net_closed, d->net);
    d->net = NULL;
    while (d->delayed)
        delayed_drop(d->delayed);
    uv_walk(&d->loop, close_walk, NULL);
    for (int k = 0; k < 1000 && uv_loop_alive(&d->loop); k++)
        uv_run(&d->loop, UV_RUN_NOWAIT);
    uv_loop_close(&d->loop);
    if (d->use_wal)
        node_wal_close(&d->wal, d->out_f, d->cfg.id);
    raft_node_free(d->r);
out_rd:
    net_reader_free(&d->rd);
    explicit_bzero(d->key, sizeof(d->key));
    free(d);
    return rc;
}
