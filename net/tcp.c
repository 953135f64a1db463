/*
 * tcp.c — see tcp.h.  The libuv plumbing of one node: a listener and its
 * accepted (read-only) connections, one dialed (write-only) connection and
 * one back-off timer per peer, and a zero-delay timer that delivers frames
 * a pause left buffered.
 *
 * Lifetime: every handle is counted in n->handles; connections are heap
 * objects freed in their close callbacks (libuv runs pending write
 * callbacks, with UV_ECANCELED, before those), and net_node_close reports
 * done when the count reaches zero.  A closing connection is detached from
 * its peer at once, so a new dial never waits for the old close.
 */
#include "net/tcp.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FMT(a, b) __attribute__((format(printf, a, b)))
#define ADDR_TEXT 64

struct net_out;

struct net_peer {
    struct net_node *n;
    int id;
    bool has_addr;
    struct sockaddr_storage addr;
    char where[ADDR_TEXT]; /* "host:port", for logs */
    uv_timer_t timer;      /* the next dial */
    struct net_out *conn;  /* NULL, connecting or open */
    uint64_t delay_ms;     /* before the next dial; 0 = dial at once */
    bool want;             /* a send was dropped since the last dial */
};

/* A dialed connection: we only write on it, and read only to notice the
 * peer closing.  Both connection kinds start with the node pointer, which
 * the shared alloc callback relies on. */
struct net_out {
    struct net_node *n;
    uv_tcp_t tcp;
    uv_connect_t creq;
    struct net_peer *p; /* NULL once closing */
    bool open;          /* connected and HELLO queued: sends may go */
    bool hello_ok;      /* HELLO written */
    bool closing;
    uint64_t delay_at_dial, t_up;
};

/* An accepted connection: we only read from it. */
struct net_in {
    struct net_node *n;
    uv_tcp_t tcp;
    struct net_in *prev, *next;
    struct net_reader rd;
    int from; /* 0 until its HELLO passed */
    bool closing, reading;
    char where[ADDR_TEXT];
};

struct net_wreq {
    uv_write_t req;
    struct net_out *c;
    char *data;
    size_t len;
    bool hello;
};

struct net_node {
    uv_loop_t *loop;
    char cluster_id[NET_CLUSTER_ID_MAX + 1];
    int id, n_nodes, port;
    uint32_t max_frame;
    size_t max_queue;
    uint64_t min_ms, max_ms;
    void (*on_msg)(void *ctx, struct raft_msg *m);
    void (*on_log)(void *ctx, int level, const char *line);
    void *ctx;
    uv_tcp_t listener;
    uv_timer_t kick;        /* delivers frames a pause left in readers */
    struct net_peer *peers; /* [n_nodes + 1]; [0] and [id] unused */
    struct net_in *ins;
    int handles; /* open or closing */
    bool paused, closing, free_on_close;
    void (*done)(void *ctx);
    void *done_ctx;
    struct net_stats st;
    char rbuf[64 * 1024]; /* libuv reads here; readers copy out at once */
};

FMT(3, 4) static void nlog(struct net_node *n, int level, const char *fmt, ...)
{
    if (!n->on_log)
        return;
    char line[320];
    int k = snprintf(line, sizeof(line), "n%d: ", n->id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof(line) - (size_t)k, fmt, ap);
    va_end(ap);
    n->on_log(n->ctx, level, line);
}

static int parse_addr(const char *host, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (!host || port < 0 || port > 65535)
        return UV_EINVAL;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char ip[48] = "?";
    uv_ip_name((const struct sockaddr *)ss, ip, sizeof(ip));
    /* sin_port and sin6_port share their offset */
    snprintf(out, len, "%s:%d", ip,
             ntohs(((const struct sockaddr_in *)ss)->sin_port));
}

/* ------------------------------------------------------------------ */
/* Handle accounting */

static void node_release(struct net_node *n)
{
    if (--n->handles > 0 || !n->closing)
        return;
    if (n->free_on_close) /* a start that failed */
        net_node_free(n);
    else if (n->done)
        n->done(n->done_ctx); /* may free n: nothing after this */
}

static void node_handle_closed(uv_handle_t *h)
{
    node_release(h->data);
}

static void peer_timer_closed(uv_handle_t *h)
{
    node_release(((struct net_peer *)h->data)->n);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct net_node *n = *(struct net_node **)h->data; /* first member */
    *buf = uv_buf_init(n->rbuf, sizeof(n->rbuf));
}

/* ------------------------------------------------------------------ */
/* Outbound */

static void dial(struct net_peer *p);

static void dial_timer_cb(uv_timer_t *t)
{
    dial(t->data);
}

static void out_closed(uv_handle_t *h)
{
    struct net_out *c = h->data;
    struct net_node *n = c->n;
    free(c);
    node_release(n);
}

/* Close c and decide when to dial again.  The back-off was reset when the
 * HELLO went out, but a link that dies within reconnect_max_ms of it still
 * counts as a failed attempt: a peer refusing our handshake must not be
 * redialed at the minimum delay forever. */
static void out_detach(struct net_out *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct net_node *n = c->n;
    struct net_peer *p = c->p;
    c->p = NULL;
    if (c->hello_ok)
        n->st.disconnects++;
    uv_close((uv_handle_t *)&c->tcp, out_closed);
    if (!p || p->conn != c)
        return;
    p->conn = NULL;
    bool lived = c->hello_ok && uv_now(n->loop) - c->t_up >= n->max_ms;
    uint64_t base = p->delay_ms; /* 0 after a HELLO, max after a full queue */
    if (!lived && c->delay_at_dial > base)
        base = c->delay_at_dial;
    p->delay_ms = base == 0 ? n->min_ms
                  : base >= n->max_ms / 2 ? n->max_ms : base * 2;
    /* Dial again if a send is waiting, or to restore a link that was up;
     * otherwise stay idle until the next send. */
    if (!n->closing && (p->want || lived))
        uv_timer_start(&p->timer, dial_timer_cb, p->delay_ms, 0);
}

FMT(3, 4) static void out_close(struct net_out *c, int level,
                                const char *fmt, ...)
{
    if (c->closing)
        return;
    char why[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    nlog(c->n, level, "connection to n%d at %s: %s", c->p->id, c->p->where,
         why);
    out_detach(c);
}

static void write_cb(uv_write_t *req, int status)
{
    struct net_wreq *w = (struct net_wreq *)req;
    struct net_out *c = w->c;
    struct net_node *n = c->n;
    if (status == 0) {
        n->st.bytes_sent += w->len;
        if (!w->hello) {
            n->st.frames_sent++;
        } else if (!c->closing) {
            c->hello_ok = true;
            c->t_up = uv_now(n->loop);
            c->p->delay_ms = 0; /* handshake written: reset the back-off */
            n->st.connects++;
        }
    } else if (status != UV_ECANCELED) { /* ECANCELED: we are closing it */
        out_close(c, NET_LOG_INFO, "write failed: %s", uv_strerror(status));
    }
    free(w->data);
    free(w);
}

/* Queues one frame; takes data (malloc'd) in every case. */
static int out_write(struct net_out *c, char *data, size_t len, bool hello)
{
    struct net_wreq *w = calloc(1, sizeof(*w));
    if (!w) {
        free(data);
        return UV_ENOMEM;
    }
    *w = (struct net_wreq){.c = c, .data = data, .len = len, .hello = hello};
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_cb);
    if (rc != 0) {
        free(data);
        free(w);
        out_close(c, NET_LOG_INFO, "write failed: %s", uv_strerror(rc));
    }
    return rc;
}

static void out_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct net_out *c = s->data;
    if (nread > 0)
        out_close(c, NET_LOG_WARN, "peer sent %zd bytes on a one-way "
                  "connection", nread);
    else if (nread == UV_EOF)
        out_close(c, NET_LOG_INFO, "closed by the peer");
    else if (nread < 0)
        out_close(c, NET_LOG_INFO, "%s", uv_strerror((int)nread));
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct net_out *c = req->data;
    struct net_node *n = c->n;
    if (c->closing) /* includes UV_ECANCELED */
        return;
    if (status != 0) {
        out_close(c, NET_LOG_DEBUG, "connect failed: %s", uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1); /* a vote must not wait for Nagle */
    int rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, out_read);
    if (rc != 0) {
        out_close(c, NET_LOG_INFO, "read_start: %s", uv_strerror(rc));
        return;
    }
    struct net_hello h = {.from = n->id, .to = c->p->id,
                          .version = NET_PROTO_VERSION};
    memcpy(h.cluster_id, n->cluster_id, sizeof(h.cluster_id));
    struct net_buf b = {0};
    if (net_encode_hello(&b, &h) != NET_OK) {
        net_buf_free(&b);
        out_close(c, NET_LOG_ERROR, "out of memory encoding HELLO");
        return;
    }
    if (out_write(c, b.data, b.len, true) != 0)
        return;
    c->open = true;
    nlog(n, NET_LOG_INFO, "connected to n%d at %s", c->p->id, c->p->where);
}

static void dial(struct net_peer *p)
{
    struct net_node *n = p->n;
    if (n->closing || p->conn || !p->has_addr)
        return;
    uv_timer_stop(&p->timer);
    struct net_out *c = calloc(1, sizeof(*c));
    if (!c || uv_tcp_init(n->loop, &c->tcp) != 0) {
        free(c);
        nlog(n, NET_LOG_ERROR, "cannot dial n%d: out of memory", p->id);
        return;
    }
    n->handles++;
    n->st.dials++;
    c->n = n;
    c->p = p;
    c->tcp.data = c;
    c->creq.data = c;
    c->delay_at_dial = p->delay_ms;
    p->want = false;
    p->conn = c;
    int rc = uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&p->addr,
                            connect_cb);
    if (rc != 0)
        out_close(c, NET_LOG_DEBUG, "connect failed: %s", uv_strerror(rc));
}

/* ------------------------------------------------------------------ */
/* Inbound */

static void in_closed(uv_handle_t *h)
{
    struct net_in *c = h->data;
    struct net_node *n = c->n;
    if (c->prev)
        c->prev->next = c->next;
    else
        n->ins = c->next;
    if (c->next)
        c->next->prev = c->prev;
    net_reader_free(&c->rd);
    free(c);
    node_release(n);
}

FMT(3, 4) static void in_close(struct net_in *c, int level, const char *fmt,
                               ...)
{
    if (c->closing)
        return;
    c->closing = true;
    char why[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    char who[16] = "";
    if (c->from)
        snprintf(who, sizeof(who), "n%d at ", c->from);
    nlog(c->n, level, "connection from %s%s: %s", who, c->where, why);
    uv_close((uv_handle_t *)&c->tcp, in_closed);
}

/* The handshake rules of tcp.h: true if h may open a connection. */
static bool hello_valid(struct net_node *n, const struct net_hello *h,
                     char *why, size_t len)
{
    if (strcmp(h->cluster_id, n->cluster_id) != 0)
        snprintf(why, len, "refused: cluster id '%s' is not ours ('%s')",
                 h->cluster_id, n->cluster_id);
    else if (h->version != NET_PROTO_VERSION)
        snprintf(why, len, "refused: protocol version %u, expected %d",
                 h->version, NET_PROTO_VERSION);
    else if (h->to != n->id)
        snprintf(why, len, "refused: HELLO addressed to n%d, we are n%d",
                 h->to, n->id);
    else if (h->from < 1 || h->from > n->n_nodes)
        snprintf(why, len, "refused: HELLO from n%d, not in this %d-node "
                 "cluster", h->from, n->n_nodes);
    else if (h->from == n->id)
        snprintf(why, len, "refused: HELLO from ourselves (n%d)", h->from);
    else
        return true;
    return false;
}

/* Handles one decoded frame; false if the connection was closed. */
static bool in_frame(struct net_in *c, struct net_frame *f)
{
    struct net_node *n = c->n;
    char why[200];
    if (f->type == NET_FRAME_HELLO) {
        if (c->from) {
            n->st.bad_frames++;
            in_close(c, NET_LOG_WARN, "second HELLO");
        } else if (!hello_valid(n, &f->hello, why, sizeof(why))) {
            n->st.refused++;
            in_close(c, NET_LOG_WARN, "%s", why);
        } else {
            c->from = f->hello.from;
            nlog(n, NET_LOG_INFO, "accepted n%d from %s", c->from, c->where);
        }
        return !c->closing;
    }
    struct raft_msg *m = &f->msg;
    if (c->from && m->from == c->from && m->to == n->id) {
        n->st.frames_received++;
        n->on_msg(n->ctx, m); /* the callee owns the entries now */
        return true;
    }
    raft_msg_free(m);
    if (!c->from) {
        n->st.refused++;
        in_close(c, NET_LOG_WARN, "refused: first frame is %s, not HELLO",
                 raft_msg_type_name(m->type));
    } else {
        n->st.bad_frames++;
        in_close(c, NET_LOG_WARN, "message n%d->n%d on the n%d->n%d "
                 "connection", m->from, m->to, c->from, n->id);
    }
    return false;
}

/* Delivers the whole frames buffered in c, until a pause or a close. */
static void in_drain(struct net_in *c)
{
    struct net_node *n = c->n;
    size_t bound = c->rd.len / 4 + 1; /* a frame takes >= 4 bytes */
    for (size_t k = 0; k < bound; k++) {
        if (c->closing || n->paused || n->closing)
            return;
        struct net_frame f;
        char err[160] = "";
        int rc = net_reader_next(&c->rd, &f, err, sizeof(err));
        if (rc == NET_EAGAIN)
            return;
        if (rc != NET_OK) {
            n->st.bad_frames++;
            in_close(c, NET_LOG_WARN, "bad frame: %s", err);
            return;
        }
        if (!in_frame(c, &f))
            return;
    }
}

static void in_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct net_in *c = s->data;
    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            in_close(c, NET_LOG_INFO, "%s", uv_strerror((int)nread));
        else if (c->rd.len)
            in_close(c, NET_LOG_INFO, "closed by the peer mid-frame "
                     "(%zu bytes left)", c->rd.len);
        else
            in_close(c, NET_LOG_INFO, "closed by the peer");
        return;
    }
    c->n->st.bytes_received += (uint64_t)nread;
    int rc = net_reader_feed(&c->rd, buf->base, (size_t)nread);
    if (rc != NET_OK) {
        /* ETOOBIG: the buffered prefix is over the limit; next() says so */
        char err[160] = "out of memory buffering a frame";
        struct net_frame f;
        if (rc == NET_ETOOBIG &&
            net_reader_next(&c->rd, &f, err, sizeof(err)) == NET_OK)
            raft_msg_free(&f.msg);
        c->n->st.bad_frames++;
        in_close(c, NET_LOG_WARN, "bad frame: %s", err);
        return;
    }
    in_drain(c);
}

static void in_read_start(struct net_in *c)
{
    if (c->closing || c->reading)
        return;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, in_read);
    if (rc != 0)
        in_close(c, NET_LOG_INFO, "read_start: %s", uv_strerror(rc));
    c->reading = rc == 0;
}

static void on_connection(uv_stream_t *srv, int status)
{
    struct net_node *n = srv->data;
    if (n->closing)
        return;
    if (status != 0) {
        nlog(n, NET_LOG_ERROR, "listener: %s", uv_strerror(status));
        return;
    }
    struct net_in *c = calloc(1, sizeof(*c));
    if (!c || uv_tcp_init(n->loop, &c->tcp) != 0) {
        free(c);
        nlog(n, NET_LOG_ERROR, "cannot accept: out of memory");
        return;
    }
    c->n = n;
    c->tcp.data = c;
    net_reader_init(&c->rd, n->max_frame);
    c->next = n->ins;
    if (n->ins)
        n->ins->prev = c;
    n->ins = c;
    n->handles++;
    strcpy(c->where, "?");
    int rc = uv_accept(srv, (uv_stream_t *)&c->tcp);
    if (rc != 0) {
        in_close(c, NET_LOG_INFO, "accept: %s", uv_strerror(rc));
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        addr_text(&ss, c->where, sizeof(c->where));
    n->st.accepts++;
    if (!n->paused)
        in_read_start(c);
}

static void kick_cb(uv_timer_t *t)
{
    struct net_node *n = t->data;
    /* closes inside in_drain free nothing before their callbacks, so the
     * list stays walkable */
    for (struct net_in *c = n->ins; c && !n->paused && !n->closing;
         c = c->next)
        in_drain(c);
}

/* ------------------------------------------------------------------ */
/* The node */

int net_node_start(uv_loop_t *loop, const struct net_node_config *cfg,
                   struct net_node **out)
{
    *out = NULL;
    if (!cfg || !cfg->cluster_id || !cfg->on_msg ||
        strlen(cfg->cluster_id) > NET_CLUSTER_ID_MAX || cfg->id < 1 ||
        cfg->id > cfg->n_nodes || cfg->n_nodes > RAFT_MAX_NODES)
        return UV_EINVAL;
    struct sockaddr_storage ss;
    int rc = parse_addr(cfg->host ? cfg->host : "127.0.0.1", cfg->port, &ss);
    if (rc != 0)
        return rc;
    /* libuv writes with writev(), so a peer's reset would raise SIGPIPE
     * and kill the process; the write callback's EPIPE is what we want. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    struct net_node *n = calloc(1, sizeof(*n));
    struct net_peer *peers = calloc((size_t)cfg->n_nodes + 1, sizeof(*peers));
    if (!n || !peers) {
        free(n);
        free(peers);
        return UV_ENOMEM;
    }
    n->loop = loop;
    strcpy(n->cluster_id, cfg->cluster_id);
    n->id = cfg->id;
    n->n_nodes = cfg->n_nodes;
    n->max_frame = cfg->max_frame ? cfg->max_frame : NET_FRAME_MAX_DEFAULT;
    n->max_queue = cfg->max_queue_bytes ? cfg->max_queue_bytes : 4u << 20;
    n->min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms : 20;
    n->max_ms = cfg->reconnect_max_ms ? cfg->reconnect_max_ms : 1000;
    if (n->max_ms < n->min_ms)
        n->max_ms = n->min_ms;
    n->on_msg = cfg->on_msg;
    n->on_log = cfg->on_log;
    n->ctx = cfg->ctx;
    n->peers = peers;
    /* timer and TCP handle initialisation cannot fail on a live loop */
    uv_timer_init(loop, &n->kick);
    n->kick.data = n;
    uv_tcp_init(loop, &n->listener);
    n->listener.data = n;
    n->handles = 2;
    for (int j = 1; j <= n->n_nodes; j++) {
        peers[j] = (struct net_peer){.n = n, .id = j};
        if (j != n->id) {
            uv_timer_init(loop, &peers[j].timer);
            peers[j].timer.data = &peers[j];
            n->handles++;
        }
    }
    rc = uv_tcp_bind(&n->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0) /* libuv reports EADDRINUSE here, not at bind */
        rc = uv_listen((uv_stream_t *)&n->listener, 128, on_connection);
    int len = sizeof(ss);
    if (rc == 0)
        rc = uv_tcp_getsockname(&n->listener, (struct sockaddr *)&ss, &len);
    if (rc != 0) {
        n->free_on_close = true;
        net_node_close(n, NULL, NULL);
        return rc;
    }
    n->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *out = n;
    return 0;
}

int net_node_port(const struct net_node *n)
{
    return n->port;
}

void net_node_set_peer(struct net_node *n, int peer, const char *host, int port)
{
    if (peer < 1 || peer > n->n_nodes || peer == n->id || n->closing)
        return;
    struct net_peer *p = &n->peers[peer];
    struct sockaddr_storage ss;
    bool ok = port > 0 && parse_addr(host, port, &ss) == 0; /* 0: unknown */
    if (ok && p->has_addr && memcmp(&ss, &p->addr, sizeof(ss)) == 0)
        return;
    if (!ok && port != 0)
        nlog(n, NET_LOG_ERROR, "bad address for n%d: %s:%d", peer,
             host ? host : "(null)", port);
    p->has_addr = ok;
    if (ok) {
        p->addr = ss;
        addr_text(&ss, p->where, sizeof(p->where));
    }
    if (p->conn)
        out_close(p->conn, NET_LOG_INFO, "peer address changed");
}

int net_node_send(struct net_node *n, const struct raft_msg *m)
{
    if (n->closing)
        return UV_ESHUTDOWN;
    if (m->to < 1 || m->to > n->n_nodes || m->to == n->id)
        return UV_EINVAL;
    struct net_peer *p = &n->peers[m->to];
    struct net_out *c = p->conn;
    if (!c || !c->open) {
        n->st.dropped_unconnected++;
        p->want = true;
        if (!c && !uv_is_active((uv_handle_t *)&p->timer)) {
            if (p->delay_ms == 0)
                dial(p);
            else
                uv_timer_start(&p->timer, dial_timer_cb, p->delay_ms, 0);
        }
        return UV_ENOTCONN;
    }
    struct net_buf b = {0};
    int rc = net_encode_msg(&b, m, n->max_frame);
    if (rc != NET_OK) {
        net_buf_free(&b);
        if (rc != NET_ETOOBIG)
            return rc == NET_EPROTO ? UV_EINVAL : UV_ENOMEM;
        n->st.dropped_too_big++;
        nlog(n, NET_LOG_ERROR, "%s to n%d is over the %u-byte frame limit: "
             "dropped", raft_msg_type_name(m->type), m->to, n->max_frame);
        return UV_EMSGSIZE;
    }
    /* A frame always goes when nothing waits, so the queue stays within
     * max(max_queue, one frame); a peer that lets it fill is not reading. */
    size_t q = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    if (q > 0 && q + b.len > n->max_queue) {
        net_buf_free(&b);
        n->st.dropped_queue_full++;
        p->delay_ms = n->max_ms; /* it stopped reading: retry slowly */
        out_close(c, NET_LOG_WARN, "peer stopped reading (%zu bytes queued, "
                  "limit %zu): closed", q, n->max_queue);
        return UV_ENOBUFS;
    }
    return out_write(c, b.data, b.len, false);
}

void net_node_pause(struct net_node *n)
{
    n->paused = true;
    uv_timer_stop(&n->kick);
    for (struct net_in *c = n->ins; c; c = c->next)
        if (c->reading && !c->closing) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            c->reading = false;
        }
}

void net_node_resume(struct net_node *n)
{
    if (!n->paused || n->closing)
        return;
    n->paused = false;
    for (struct net_in *c = n->ins; c; c = c->next)
        in_read_start(c);
    /* frames already buffered are delivered from the loop, not from
     * inside the caller's resume */
    uv_timer_start(&n->kick, kick_cb, 0, 0);
}

void net_node_close(struct net_node *n, void (*done)(void *ctx), void *ctx)
{
    if (n->closing)
        return;
    n->closing = true;
    n->done = done;
    n->done_ctx = ctx;
    for (int j = 1; j <= n->n_nodes; j++) {
        if (j == n->id)
            continue;
        if (n->peers[j].conn)
            out_detach(n->peers[j].conn);
        uv_close((uv_handle_t *)&n->peers[j].timer, peer_timer_closed);
    }
    for (struct net_in *c = n->ins; c; c = c->next)
        if (!c->closing) {
            c->closing = true;
            uv_close((uv_handle_t *)&c->tcp, in_closed);
        }
    uv_close((uv_handle_t *)&n->kick, node_handle_closed);
    uv_close((uv_handle_t *)&n->listener, node_handle_closed);
}

void net_node_free(struct net_node *n)
{
    if (!n)
        return;
    free(n->peers);
    free(n);
}

const struct net_stats *net_node_stats(const struct net_node *n)
{
    return &n->st;
}

size_t net_node_queued_bytes(const struct net_node *n, int peer)
{
    if (peer < 1 || peer > n->n_nodes || !n->peers[peer].conn)
        return 0;
    return uv_stream_get_write_queue_size(
        (const uv_stream_t *)&n->peers[peer].conn->tcp);
}

bool net_node_connected(const struct net_node *n, int peer)
{
    return peer >= 1 && peer <= n->n_nodes && n->peers[peer].conn &&
           n->peers[peer].conn->open;
}
