/*
 * tcp.c — see tcp.h.  The libuv plumbing of one node: a listener (its
 * accepted connections live in tcp_in.c), one dialed connection and one
 * back-off timer per peer with the dialer's half of the handshake, a
 * zero-delay timer that delivers frames a pause left buffered, and the
 * sweep timer behind every deadline.
 *
 * Lifetime: every handle is counted in n->handles; connections are heap
 * objects freed in their close callbacks (libuv runs pending write
 * callbacks, with UV_ECANCELED, before those), and net_node_close reports
 * done when the count reaches zero.  A closing connection is detached from
 * its peer at once, so a new dial never waits for the old close.
 */
#include "net/tcp_int.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct net_wreq {
    uv_write_t req;
    struct net_out *c;
    char *data;
    size_t len;
    int kind; /* W_* */
};

enum { W_FRAME, W_HELLO, W_AUTH, W_PING };

void net__log(struct net_node *n, int level, const char *fmt, ...)
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

int net__err_level(int uv_err, int otherwise)
{
    return uv_err == UV_EMFILE || uv_err == UV_ENFILE || uv_err == UV_ENOMEM ||
                   uv_err == UV_ENOBUFS
               ? NET_LOG_ERROR
               : otherwise;
}

void net__printable(const char *p, size_t len, char *out, size_t outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 5 < outlen; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            out[k++] = (char)ch;
        else
            k += (size_t)snprintf(out + k, outlen - k, "\\x%02x", ch);
    }
    if (outlen)
        out[k < outlen ? k : outlen - 1] = '\0';
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

void net__addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char ip[48] = "?";
    uv_ip_name((const struct sockaddr *)ss, ip, sizeof(ip));
    /* sin_port and sin6_port share their offset */
    snprintf(out, len, "%s:%d", ip,
             ntohs(((const struct sockaddr_in *)ss)->sin_port));
}

/* ------------------------------------------------------------------ */
/* Handle accounting */

void net__release(struct net_node *n)
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
    net__release(h->data);
}

static void peer_timer_closed(uv_handle_t *h)
{
    net__release(((struct net_peer *)h->data)->n);
}

void net__alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct net_node *n = *(struct net_node **)h->data; /* first member */
    *buf = uv_buf_init(n->rbuf, sizeof(n->rbuf));
}

/* ------------------------------------------------------------------ */
/* Outbound */

static void dial(struct net_peer *p);

void net__peer_closed(struct net_node *n, int peer)
{
    if (n->on_peer_closed && !n->closing)
        n->on_peer_closed(n->ctx, peer);
}

static void dial_timer_cb(uv_timer_t *t)
{
    dial(t->data);
}

static void out_closed(uv_handle_t *h)
{
    struct net_out *c = h->data;
    struct net_node *n = c->n;
    net_reader_free(&c->rd);
    net_mac_free(c->session);
    free(c);
    net__release(n);
}

/* Close c and decide when to dial again.  The back-off was reset when the
 * handshake finished, but a link that dies within reconnect_max_ms of it
 * still counts as a failed attempt: a peer refusing our handshake must not
 * be redialed at the minimum delay forever. */
static void out_detach(struct net_out *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct net_node *n = c->n;
    struct net_peer *p = c->p;
    c->p = NULL;
    if (c->auth_ok)
        n->st.disconnects++;
    uv_close((uv_handle_t *)&c->tcp, out_closed);
    if (!p || p->conn != c)
        return;
    p->conn = NULL;
    bool lived = c->auth_ok && uv_now(n->loop) - c->t_up_ms >= n->max_ms;
    uint64_t base = p->delay_ms; /* 0 after a handshake, max after a full queue */
    if (!lived && c->delay_at_dial > base)
        base = c->delay_at_dial;
    p->delay_ms = base == 0 ? n->min_ms
                  : base >= n->max_ms / 2 ? n->max_ms : base * 2;
    /* Dial again if a send is waiting, to restore a link that was up, or
     * for a peer kept connected (net_node_connect); otherwise stay idle
     * until the next send. */
    if (!n->closing && (p->want || p->keep || lived))
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
    net__log(c->n, level, "connection to n%d at %s: %s", c->p->id,
             c->p->where, why);
    out_detach(c);
}

static void write_cb(uv_write_t *req, int status)
{
    struct net_wreq *w = (struct net_wreq *)req;
    struct net_out *c = w->c;
    struct net_node *n = c->n;
    if (status == 0) {
        n->st.bytes_sent += w->len;
        if (w->kind == W_FRAME) {
            n->st.frames_sent++;
        } else if (w->kind == W_AUTH && !c->closing) {
            c->auth_ok = true;
            c->t_up_ms = uv_now(n->loop);
            c->p->delay_ms = 0; /* handshake done: reset the back-off */
            n->st.connects++;
        }
    } else if (status != UV_ECANCELED) { /* ECANCELED: we are closing it */
        out_close(c, net__err_level(status, NET_LOG_INFO),
                  "write failed: %s", uv_strerror(status));
    }
    free(w->data);
    free(w);
}

/* Queues one frame; takes data (malloc'd) in every case. */
static int out_write(struct net_out *c, char *data, size_t len, int kind)
{
    struct net_wreq *w = calloc(1, sizeof(*w));
    if (!w) {
        free(data);
        return UV_ENOMEM;
    }
    *w = (struct net_wreq){.c = c, .data = data, .len = len, .kind = kind};
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_cb);
    if (rc != 0) {
        free(data);
        free(w);
        out_close(c, net__err_level(rc, NET_LOG_INFO), "write failed: %s",
                  uv_strerror(rc));
    } else {
        c->t_tx_ms = uv_now(c->n->loop);
    }
    return rc;
}

/* Seal the frame at the start of b (its body after the 4-byte prefix)
 * with the next sequence number of this connection, and queue it. */
static int out_write_sealed(struct net_out *c, struct net_buf *b, int kind)
{
    unsigned char tag[NET_MAC_LEN];
    if (net_auth_frame_tag(c->session, NET_DIR_DIALER, c->tx_seq,
                           b->data + 4, b->len - 4, tag) != 0 ||
        net_seal(b, 0, tag, sizeof(tag)) != NET_OK) {
        net_buf_free(b);
        out_close(c, NET_LOG_ERROR, "cannot seal a frame (out of memory)");
        return UV_ENOMEM;
    }
    c->tx_seq++;
    return out_write(c, b->data, b->len, kind);
}

static void out_handshake_fields(struct net_out *c, struct net_auth_hs *hs,
                                 const unsigned char *nonce_b)
{
    struct net_node *n = c->n;
    *hs = (struct net_auth_hs){.cluster_id = n->cluster_id,
                               .cluster_id_len = n->cluster_id_len,
                               .from = n->id, .to = c->p->id};
    memcpy(hs->nonce_a, c->nonce_a, NET_NONCE_LEN);
    memcpy(hs->nonce_b, nonce_b, NET_NONCE_LEN);
}

/* The acceptor's CHALLENGE: check its proof, derive the session, answer
 * with our proof.  From then on the connection is open. */
static void out_challenge(struct net_out *c, const struct net_frame *f)
{
    struct net_node *n = c->n;
    struct net_auth_hs hs;
    out_handshake_fields(c, &hs, f->nonce);
    unsigned char want[NET_MAC_LEN], ours[NET_MAC_LEN], sk[NET_MAC_LEN];
    if (net_auth_hs_mac(n->key, NET_AUTH_ACCEPTOR, &hs, want) != 0 ||
        net_auth_hs_mac(n->key, NET_AUTH_DIALER, &hs, ours) != 0 ||
        net_auth_hs_mac(n->key, NET_AUTH_SESSION, &hs, sk) != 0) {
        out_close(c, NET_LOG_ERROR, "HMAC failed");
        return;
    }
    if (!net_auth_equal(want, f->proof)) {
        n->st.auth_failed++;
        out_close(c, NET_LOG_WARN, "refused: the peer did not prove the "
                  "cluster key (a different key, or not n%d)", c->p->id);
        return;
    }
    c->session = net_mac_new(sk, sizeof(sk));
    explicit_bzero(sk, sizeof(sk));
    struct net_buf b = {0};
    if (!c->session || net_encode_auth(&b, ours) != NET_OK) {
        net_buf_free(&b);
        out_close(c, NET_LOG_ERROR, "out of memory in the handshake");
        return;
    }
    if (out_write(c, b.data, b.len, W_AUTH) != 0)
        return;
    c->open = true;
    net__log(n, NET_LOG_INFO, "connected to n%d at %s", c->p->id,
             c->p->where);
}

static void out_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct net_out *c = s->data;
    if (c->closing || nread == 0)
        return;
    if (nread < 0) {
        int peer = c->auth_ok ? c->p->id : 0;
        if (nread == UV_EOF)
            out_close(c, NET_LOG_INFO, "closed by the peer");
        else
            out_close(c, NET_LOG_INFO, "%s", uv_strerror((int)nread));
        if (peer)
            net__peer_closed(c->n, peer);
        return;
    }
    c->n->st.bytes_received += (uint64_t)nread;
    if (c->open || c->rd.len + (size_t)nread > NET_PREAUTH_BUF) {
        out_close(c, NET_LOG_WARN, "peer sent %zd bytes on a one-way "
                  "connection", nread);
        return;
    }
    char err[160] = "out of memory";
    struct net_frame f;
    int rc = net_reader_feed(&c->rd, buf->base, (size_t)nread);
    if (rc == NET_OK)
        rc = net_reader_next(&c->rd, &f, err, sizeof(err));
    else if (rc == NET_ETOOBIG &&
             net_reader_next(&c->rd, &f, err, sizeof(err)) == NET_OK)
        raft_msg_free(&f.msg);
    if (rc == NET_EAGAIN)
        return;
    if (rc == NET_OK && f.type != NET_FRAME_CHALLENGE) {
        raft_msg_free(&f.msg);
        snprintf(err, sizeof(err), "frame type %d instead of CHALLENGE",
                 f.type);
        rc = NET_EPROTO;
    }
    if (rc != NET_OK) {
        c->n->st.refused++;
        out_close(c, NET_LOG_WARN, "bad handshake frame: %s", err);
        return;
    }
    out_challenge(c, &f);
    if (!c->closing && c->rd.len) {
        out_close(c, NET_LOG_WARN, "peer sent %zu bytes after its "
                  "CHALLENGE", c->rd.len);
    }
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct net_out *c = req->data;
    struct net_node *n = c->n;
    if (c->closing) /* includes UV_ECANCELED */
        return;
    if (status != 0) {
        out_close(c, net__err_level(status, NET_LOG_DEBUG),
                  "connect failed: %s", uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1); /* a vote must not wait for Nagle */
    int rc = uv_read_start((uv_stream_t *)&c->tcp, net__alloc_cb, out_read);
    if (rc != 0) {
        out_close(c, NET_LOG_INFO, "read_start: %s", uv_strerror(rc));
        return;
    }
    struct net_hello h = {.from = n->id, .to = c->p->id,
                          .version = NET_PROTO_VERSION,
                          .cluster_id_len = n->cluster_id_len};
    memcpy(h.cluster_id, n->cluster_id, sizeof(h.cluster_id));
    if (net_random(c->nonce_a, sizeof(c->nonce_a)) != 0) {
        out_close(c, NET_LOG_ERROR, "getrandom failed");
        return;
    }
    memcpy(h.nonce, c->nonce_a, sizeof(h.nonce));
    struct net_buf b = {0};
    if (net_encode_hello(&b, &h) != NET_OK) {
        net_buf_free(&b);
        out_close(c, NET_LOG_ERROR, "out of memory encoding HELLO");
        return;
    }
    if (out_write(c, b.data, b.len, W_HELLO) == 0)
        c->hello_sent = true;
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
        net__log(n, NET_LOG_ERROR, "cannot dial n%d: out of memory", p->id);
        return;
    }
    n->handles++;
    n->st.dials++;
    c->n = n;
    c->p = p;
    c->tcp.data = c;
    c->creq.data = c;
    c->delay_at_dial = p->delay_ms;
    c->t_dial_ms = uv_now(n->loop);
    net_reader_init(&c->rd, NET_PREAUTH_FRAME);
    p->want = false;
    p->conn = c;
    int rc = uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&p->addr,
                            connect_cb);
    if (rc != 0)
        out_close(c, net__err_level(rc, NET_LOG_DEBUG), "connect failed: %s",
                  uv_strerror(rc));
}

/* ------------------------------------------------------------------ */
/* The sweep: every deadline of the node, checked a few times per
 * shortest deadline. */

static void out_sweep(struct net_node *n, uint64_t now)
{
    for (int j = 1; j <= n->n_nodes; j++) {
        struct net_out *c = j == n->id ? NULL : n->peers[j].conn;
        if (!c || c->closing)
            continue;
        if (!c->open && now - c->t_dial_ms >= n->handshake_ms) {
            n->st.handshake_timeouts++;
            out_close(c, NET_LOG_DEBUG, "handshake not finished within "
                      "%llu ms", (unsigned long long)n->handshake_ms);
        } else if (c->open && now - c->t_tx_ms >= n->keepalive_ms) {
            struct net_buf b = {0};
            if (net_encode_ping(&b) != NET_OK) {
                net_buf_free(&b);
                continue;
            }
            if (out_write_sealed(c, &b, W_PING) == 0)
                n->st.pings_sent++;
        }
    }
}

static void sweep_cb(uv_timer_t *t)
{
    struct net_node *n = t->data;
    uint64_t now = uv_now(n->loop);
    /* Late by several periods: the loop itself did not run (the process
     * was stopped, or the caller held it).  Nobody's fault but ours, so
     * every deadline starts again instead of expiring. */
    if (now - n->last_sweep_ms > 4 * n->sweep_ms) {
        for (int j = 1; j <= n->n_nodes; j++) {
            struct net_out *c = j == n->id ? NULL : n->peers[j].conn;
            if (c)
                c->t_dial_ms = c->t_tx_ms = now;
        }
        net__in_touch_all(n, now);
    } else {
        out_sweep(n, now);
        net__in_sweep(n, now);
    }
    n->last_sweep_ms = now;
}

static void kick_cb(uv_timer_t *t)
{
    struct net_node *n = t->data;
    /* closes inside in_drain free nothing before their callbacks, so the
     * list stays walkable */
    for (struct net_in *c = n->ins; c && !n->paused && !n->closing;
         c = c->next)
        net__in_drain(c);
}

/* ------------------------------------------------------------------ */
/* The node */

static uint64_t or_default(uint64_t v, uint64_t def)
{
    return v ? v : def;
}

static bool config_valid(const struct net_node_config *cfg)
{
    return cfg && cfg->cluster_id && cfg->on_msg &&
           strlen(cfg->cluster_id) <= NET_CLUSTER_ID_MAX && cfg->id >= 1 &&
           cfg->id <= cfg->n_nodes && cfg->n_nodes <= RAFT_MAX_NODES &&
           cfg->key && cfg->key_len >= NET_KEY_MIN &&
           cfg->key_len <= NET_KEY_MAX && cfg->max_pending >= 0;
}

static void node_config(struct net_node *n, const struct net_node_config *cfg)
{
    n->cluster_id_len = strlen(cfg->cluster_id);
    memcpy(n->cluster_id, cfg->cluster_id, n->cluster_id_len + 1);
    n->id = cfg->id;
    n->n_nodes = cfg->n_nodes;
    n->max_frame = cfg->max_frame ? cfg->max_frame : NET_FRAME_MAX_DEFAULT;
    n->max_queue = cfg->max_queue_bytes ? cfg->max_queue_bytes : 4u << 20;
    n->min_ms = or_default(cfg->reconnect_min_ms, 20);
    n->max_ms = or_default(cfg->reconnect_max_ms, 1000);
    if (n->max_ms < n->min_ms)
        n->max_ms = n->min_ms;
    n->handshake_ms = or_default(cfg->handshake_timeout_ms, 2000);
    n->idle_ms = or_default(cfg->idle_timeout_ms, 5000);
    n->keepalive_ms = or_default(cfg->keepalive_ms, n->idle_ms / 4);
    if (n->keepalive_ms == 0 || n->keepalive_ms >= n->idle_ms)
        n->keepalive_ms = n->idle_ms / 2 ? n->idle_ms / 2 : 1;
    uint64_t shortest = n->handshake_ms < n->keepalive_ms ? n->handshake_ms
                                                          : n->keepalive_ms;
    n->sweep_ms = shortest / 4 < 10 ? 10 : shortest / 4 > 250 ? 250
                                                             : shortest / 4;
    n->max_pending = cfg->max_pending ? cfg->max_pending
                                      : 2 * cfg->n_nodes + 4;
    n->on_msg = cfg->on_msg;
    n->on_log = cfg->on_log;
    n->on_peer_closed = cfg->on_peer_closed;
    n->ctx = cfg->ctx;
}

int net_node_start(uv_loop_t *loop, const struct net_node_config *cfg,
                   struct net_node **out)
{
    *out = NULL;
    if (!config_valid(cfg))
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
    struct net_mac *key = net_mac_new(cfg->key, cfg->key_len);
    if (!n || !peers || !key) {
        free(n);
        free(peers);
        net_mac_free(key);
        return UV_ENOMEM;
    }
    n->loop = loop;
    n->key = key;
    node_config(n, cfg);
    n->peers = peers;
    /* timer and TCP handle initialisation cannot fail on a live loop */
    uv_timer_init(loop, &n->kick);
    n->kick.data = n;
    uv_timer_init(loop, &n->sweep);
    n->sweep.data = n;
    uv_tcp_init(loop, &n->listener);
    n->listener.data = n;
    n->handles = 3;
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
        rc = uv_listen((uv_stream_t *)&n->listener, 128, net__on_connection);
    int len = sizeof(ss);
    if (rc == 0)
        rc = uv_tcp_getsockname(&n->listener, (struct sockaddr *)&ss, &len);
    if (rc != 0) {
        n->free_on_close = true;
        net_node_close(n, NULL, NULL);
        return rc;
    }
    n->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    n->last_sweep_ms = uv_now(loop);
    uv_timer_start(&n->sweep, sweep_cb, n->sweep_ms, n->sweep_ms);
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
        net__log(n, NET_LOG_ERROR, "bad address for n%d: %s:%d", peer,
                 host ? host : "(null)", port);
    p->has_addr = ok;
    if (ok) {
        p->addr = ss;
        net__addr_text(&ss, p->where, sizeof(p->where));
    }
    if (p->conn)
        out_close(p->conn, NET_LOG_INFO, "peer address changed");
    else if (ok && p->keep && !uv_is_active((uv_handle_t *)&p->timer))
        dial(p); /* kept connected: its address is known now */
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
        net__log(n, NET_LOG_ERROR, "%s to n%d is over the %u-byte frame "
                 "limit: dropped", raft_msg_type_name(m->type), m->to,
                 n->max_frame);
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
    return out_write_sealed(c, &b, W_FRAME);
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
    /* peers were silent to us only because we did not read */
    net__in_touch_all(n, uv_now(n->loop));
    for (struct net_in *c = n->ins; c; c = c->next)
        net__in_read_start(c);
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
    net__in_close_all(n);
    uv_close((uv_handle_t *)&n->kick, node_handle_closed);
    uv_close((uv_handle_t *)&n->sweep, node_handle_closed);
    uv_close((uv_handle_t *)&n->listener, node_handle_closed);
}

void net_node_free(struct net_node *n)
{
    if (!n)
        return;
    net_mac_free(n->key);
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

void net_node_connect(struct net_node *n, int peer)
{
    if (peer < 1 || peer > n->n_nodes || peer == n->id || n->closing)
        return;
    struct net_peer *p = &n->peers[peer];
    p->want = true;
    p->keep = true;
    if (!p->conn && !uv_is_active((uv_handle_t *)&p->timer))
        dial(p);
}
