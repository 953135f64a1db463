/*
 * tcp_in.c — accepted connections (see tcp.h): the acceptor's half of the
 * handshake (check HELLO, send CHALLENGE, check AUTH), then sealed frames
 * checked against their tags before they are decoded, and the limits that
 * keep unauthenticated or silent connections cheap: the pre-handshake
 * buffer, the cap on pending connections, the handshake deadline and the
 * idle timeout.  The dialer's half lives in tcp.c.
 */
#include "net/tcp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    net_mac_free(c->session);
    free(c);
    net__release(n);
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
    net__log(c->n, level, "connection from %s%s: %s", who, c->where, why);
    uv_close((uv_handle_t *)&c->tcp, in_closed);
}

/* The acceptor writes exactly one frame, the CHALLENGE. */
struct in_wreq {
    uv_write_t req;
    struct net_in *c;
    char *data;
};

static void in_write_cb(uv_write_t *req, int status)
{
    struct in_wreq *w = (struct in_wreq *)req;
    if (status != 0 && status != UV_ECANCELED)
        in_close(w->c, NET_LOG_INFO, "write failed: %s", uv_strerror(status));
    free(w->data);
    free(w);
}

/* ------------------------------------------------------------------ */
/* The handshake */

/* The rules of tcp.h: true if h may open a connection. */
static bool hello_valid(struct net_node *n, const struct net_hello *h,
                        char *why, size_t len)
{
    if (h->cluster_id_len != n->cluster_id_len ||
        memcmp(h->cluster_id, n->cluster_id, n->cluster_id_len) != 0) {
        char theirs[96]; /* escaped; a long id is cut */
        net__printable(h->cluster_id, h->cluster_id_len, theirs,
                       sizeof(theirs));
        snprintf(why, len, "refused: cluster id '%s' is not ours ('%s')",
                 theirs, n->cluster_id);
    } else if (h->version != NET_PROTO_VERSION) {
        snprintf(why, len, "refused: protocol version %u, expected %d",
                 h->version, NET_PROTO_VERSION);
    } else if (h->to != n->id) {
        snprintf(why, len, "refused: HELLO addressed to n%d, we are n%d",
                 h->to, n->id);
    } else if (h->from < 1 || h->from > n->n_nodes) {
        snprintf(why, len, "refused: HELLO from n%d, not in this %d-node "
                 "cluster", h->from, n->n_nodes);
    } else if (h->from == n->id) {
        snprintf(why, len, "refused: HELLO from ourselves (n%d)", h->from);
    } else {
        return true;
    }
    return false;
}

static void in_fields(struct net_in *c, struct net_auth_hs *hs)
{
    struct net_node *n = c->n;
    *hs = (struct net_auth_hs){.cluster_id = n->cluster_id,
                               .cluster_id_len = n->cluster_id_len,
                               .from = c->claimed, .to = n->id};
    memcpy(hs->nonce_a, c->nonce_a, NET_NONCE_LEN);
    memcpy(hs->nonce_b, c->nonce_b, NET_NONCE_LEN);
}

/* A valid HELLO: answer with our nonce and our proof of the key. */
static void in_challenge(struct net_in *c, const struct net_hello *h)
{
    struct net_node *n = c->n;
    c->claimed = h->from;
    memcpy(c->nonce_a, h->nonce, NET_NONCE_LEN);
    struct net_auth_hs hs;
    unsigned char proof[NET_MAC_LEN];
    struct net_buf b = {0};
    struct in_wreq *w = NULL;
    if (net_random(c->nonce_b, NET_NONCE_LEN) != 0)
        goto fail;
    in_fields(c, &hs);
    if (net_auth_hs_mac(n->key, NET_AUTH_ACCEPTOR, &hs, proof) != 0 ||
        net_encode_challenge(&b, c->nonce_b, proof) != NET_OK)
        goto fail;
    w = calloc(1, sizeof(*w));
    if (!w)
        goto fail;
    *w = (struct in_wreq){.c = c, .data = b.data};
    uv_buf_t ub = uv_buf_init(b.data, (unsigned)b.len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, in_write_cb);
    if (rc != 0) {
        free(w);
        net_buf_free(&b);
        in_close(c, net__err_level(rc, NET_LOG_INFO), "write failed: %s",
                 uv_strerror(rc));
        return;
    }
    n->st.bytes_sent += b.len;
    c->state = IN_CHALLENGED;
    return;
fail:
    net_buf_free(&b);
    in_close(c, NET_LOG_ERROR, "cannot answer a HELLO (getrandom, HMAC or "
             "memory failed)");
}

/* The dialer's AUTH: its proof must match what only the key gives for
 * both nonces.  A replayed AUTH was computed for another nonce_b. */
static void in_auth(struct net_in *c, const struct net_frame *f)
{
    struct net_node *n = c->n;
    struct net_auth_hs hs;
    in_fields(c, &hs);
    unsigned char want[NET_MAC_LEN], sk[NET_MAC_LEN];
    if (net_auth_hs_mac(n->key, NET_AUTH_DIALER, &hs, want) != 0 ||
        net_auth_hs_mac(n->key, NET_AUTH_SESSION, &hs, sk) != 0) {
        in_close(c, NET_LOG_ERROR, "HMAC failed");
        return;
    }
    if (!net_auth_equal(want, f->proof)) {
        n->st.auth_failed++;
        in_close(c, NET_LOG_WARN, "refused: the peer claiming to be n%d did "
                 "not prove the cluster key (wrong key or replayed "
                 "handshake)", c->claimed);
        return;
    }
    c->session = net_mac_new(sk, sizeof(sk));
    explicit_bzero(sk, sizeof(sk));
    if (!c->session) {
        in_close(c, NET_LOG_ERROR, "out of memory in the handshake");
        return;
    }
    c->state = IN_OPEN;
    c->from = c->claimed;
    c->rd.max_frame = n->max_frame + NET_MAC_LEN;
    c->t_rx_ms = uv_now(n->loop);
    /* One authenticated connection per peer: it only dials again once
     * its old connection died, so the old one here is stale. */
    for (struct net_in *o = n->ins; o; o = o->next)
        if (o != c && !o->closing && o->state == IN_OPEN &&
            o->from == c->from) {
            n->st.replaced++;
            in_close(o, NET_LOG_INFO, "replaced by a newer connection");
        }
    net__log(n, NET_LOG_INFO, "accepted n%d from %s", c->from, c->where);
}

/* A frame before the handshake finished; false if c was closed. */
static bool in_handshake_frame(struct net_in *c, struct net_frame *f)
{
    struct net_node *n = c->n;
    char why[300];
    int want = c->state == IN_HELLO ? NET_FRAME_HELLO : NET_FRAME_AUTH;
    if (f->type != want) {
        raft_msg_free(&f->msg);
        const char *what = f->type == NET_FRAME_HELLO ? "HELLO"
                           : f->type == NET_FRAME_CHALLENGE ? "CHALLENGE"
                           : f->type == NET_FRAME_AUTH ? "AUTH"
                           : f->type == NET_FRAME_PING ? "PING"
                           : raft_msg_type_name(f->type);
        if (want == NET_FRAME_AUTH) {
            n->st.auth_failed++;
            in_close(c, NET_LOG_WARN, "refused: %s before the peer proved "
                     "the cluster key", what);
        } else {
            n->st.refused++;
            in_close(c, NET_LOG_WARN, "refused: first frame is %s, not "
                     "HELLO", what);
        }
        return false;
    }
    if (want == NET_FRAME_AUTH) {
        in_auth(c, f);
    } else if (!hello_valid(n, &f->hello, why, sizeof(why))) {
        n->st.refused++;
        in_close(c, NET_LOG_WARN, "%s", why);
    } else {
        in_challenge(c, &f->hello);
    }
    return !c->closing;
}

/* ------------------------------------------------------------------ */
/* Sealed frames */

/* One sealed frame (body + tag) of an open connection; false if c was
 * closed.  The tag is checked before a byte of the body is parsed. */
static bool in_sealed(struct net_in *c, const char *frame, size_t len)
{
    struct net_node *n = c->n;
    unsigned char tag[NET_MAC_LEN];
    if (len < NET_MAC_LEN ||
        net_auth_frame_tag(c->session, NET_DIR_DIALER, c->rx_seq, frame,
                           len - NET_MAC_LEN, tag) != 0 ||
        !net_auth_equal(tag, (const unsigned char *)frame + len -
                                 NET_MAC_LEN)) {
        n->st.bad_mac++;
        in_close(c, NET_LOG_WARN, "refused: frame %llu fails its MAC "
                 "(tampered, replayed or reordered)",
                 (unsigned long long)c->rx_seq);
        return false;
    }
    c->rx_seq++;
    c->t_rx_ms = uv_now(n->loop);
    struct net_frame f;
    char err[160] = "";
    int rc = net_decode_body(frame, len - NET_MAC_LEN, &f, err, sizeof(err));
    if (rc != NET_OK) {
        n->st.bad_frames++;
        in_close(c, NET_LOG_WARN, "bad frame: %s", err);
        return false;
    }
    if (f.type == NET_FRAME_PING)
        return true;
    struct raft_msg *m = &f.msg;
    if (f.type >= RAFT_MSG_PREVOTE && f.type <= RAFT_MSG_TYPE_MAX &&
        m->from == c->from && m->to == n->id) {
        n->st.frames_received++;
        n->on_msg(n->ctx, m); /* the callee owns the entries now */
        return true;
    }
    raft_msg_free(m);
    n->st.bad_frames++;
    if (f.type < RAFT_MSG_PREVOTE || f.type > RAFT_MSG_TYPE_MAX)
        in_close(c, NET_LOG_WARN, "handshake frame %d after the handshake",
                 f.type);
    else
        in_close(c, NET_LOG_WARN, "message n%d->n%d on the n%d->n%d "
                 "connection", m->from, m->to, c->from, n->id);
    return false;
}

/* Delivers the whole frames buffered in c, until a pause or a close. */
void net__in_drain(struct net_in *c)
{
    struct net_node *n = c->n;
    size_t bound = c->rd.len / 4 + 1; /* a frame takes >= 4 bytes */
    for (size_t k = 0; k < bound; k++) {
        if (c->closing || n->paused || n->closing)
            return;
        const char *body;
        size_t len;
        char err[160] = "";
        int rc = net_reader_peek(&c->rd, &body, &len, err, sizeof(err));
        if (rc == NET_EAGAIN)
            return;
        if (rc != NET_OK) {
            if (c->state == IN_OPEN)
                n->st.bad_frames++;
            else
                n->st.refused++;
            in_close(c, NET_LOG_WARN, "bad frame: %s", err);
            return;
        }
        if (c->state == IN_OPEN) {
            bool ok = in_sealed(c, body, len);
            if (!c->closing) /* a close frees nothing before its callback */
                net_reader_skip(&c->rd);
            if (!ok)
                return;
            continue;
        }
        struct net_frame f;
        rc = net_decode_body(body, len, &f, err, sizeof(err));
        net_reader_skip(&c->rd);
        if (rc != NET_OK) {
            n->st.refused++;
            in_close(c, NET_LOG_WARN, "bad frame before the handshake: %s",
                     err);
            return;
        }
        if (!in_handshake_frame(c, &f))
            return;
    }
}

static void in_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct net_in *c = s->data;
    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        int peer = c->state == IN_OPEN ? c->from : 0;
        if (nread != UV_EOF)
            in_close(c, NET_LOG_INFO, "%s", uv_strerror((int)nread));
        else if (c->rd.len)
            in_close(c, NET_LOG_INFO, "closed by the peer mid-frame "
                     "(%zu bytes left)", c->rd.len);
        else
            in_close(c, NET_LOG_INFO, "closed by the peer");
        if (peer)
            net__peer_closed(c->n, peer);
        return;
    }
    struct net_node *n = c->n;
    n->st.bytes_received += (uint64_t)nread;
    if (c->state != IN_OPEN && c->rd.len + (size_t)nread > NET_PREAUTH_BUF) {
        n->st.refused++;
        in_close(c, NET_LOG_WARN, "refused: %zu bytes before the handshake "
                 "finished (limit %d)", c->rd.len + (size_t)nread,
                 NET_PREAUTH_BUF);
        return;
    }
    int rc = net_reader_feed(&c->rd, buf->base, (size_t)nread);
    if (rc != NET_OK) {
        /* ETOOBIG: the buffered prefix is over the limit; peek says so */
        char err[160] = "out of memory buffering a frame";
        const char *body;
        size_t len;
        if (rc == NET_ETOOBIG)
            net_reader_peek(&c->rd, &body, &len, err, sizeof(err));
        if (c->state == IN_OPEN)
            n->st.bad_frames++;
        else
            n->st.refused++;
        in_close(c, NET_LOG_WARN, "bad frame: %s", err);
        return;
    }
    net__in_drain(c);
}

void net__in_read_start(struct net_in *c)
{
    if (c->closing || c->reading)
        return;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, net__alloc_cb, in_read);
    if (rc != 0)
        in_close(c, NET_LOG_INFO, "read_start: %s", uv_strerror(rc));
    c->reading = rc == 0;
}

/* ------------------------------------------------------------------ */
/* Limits */

/* At max_pending unauthenticated connections, close the oldest one that
 * sent no HELLO yet (slowloris, port scans), else the oldest waiting for
 * its AUTH.  The list is newest first. */
static void evict_for_new(struct net_node *n)
{
    int pending = 0;
    struct net_in *silent = NULL, *challenged = NULL;
    for (struct net_in *c = n->ins; c; c = c->next) {
        if (c->closing || c->state == IN_OPEN)
            continue;
        pending++;
        if (c->state == IN_HELLO)
            silent = c;
        else
            challenged = c;
    }
    if (pending < n->max_pending)
        return;
    struct net_in *victim = silent ? silent : challenged;
    n->st.evicted++;
    in_close(victim, NET_LOG_WARN, "evicted: %d connections without a "
             "finished handshake (limit %d)", pending, n->max_pending);
}

void net__on_connection(uv_stream_t *srv, int status)
{
    struct net_node *n = srv->data;
    if (n->closing)
        return;
    if (status != 0) {
        net__log(n, NET_LOG_ERROR, "listener: %s", uv_strerror(status));
        return;
    }
    struct net_in *c = calloc(1, sizeof(*c));
    if (!c || uv_tcp_init(n->loop, &c->tcp) != 0) {
        free(c);
        net__log(n, NET_LOG_ERROR, "cannot accept: out of memory");
        return;
    }
    evict_for_new(n);
    c->n = n;
    c->tcp.data = c;
    c->t_accept_ms = uv_now(n->loop);
    net_reader_init(&c->rd, NET_PREAUTH_FRAME);
    c->next = n->ins;
    if (n->ins)
        n->ins->prev = c;
    n->ins = c;
    n->handles++;
    strcpy(c->where, "?");
    int rc = uv_accept(srv, (uv_stream_t *)&c->tcp);
    if (rc != 0) {
        in_close(c, net__err_level(rc, NET_LOG_INFO), "accept: %s",
                 uv_strerror(rc));
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        net__addr_text(&ss, c->where, sizeof(c->where));
    n->st.accepts++;
    if (!n->paused)
        net__in_read_start(c);
}

void net__in_sweep(struct net_node *n, uint64_t now)
{
    for (struct net_in *c = n->ins; c; c = c->next) {
        if (c->closing)
            continue;
        if (c->state != IN_OPEN && now - c->t_accept_ms >= n->handshake_ms) {
            n->st.handshake_timeouts++;
            in_close(c, NET_LOG_WARN, "refused: handshake not finished "
                     "within %llu ms", (unsigned long long)n->handshake_ms);
        } else if (c->state == IN_OPEN && !n->paused &&
                   now - c->t_rx_ms >= n->idle_ms) {
            n->st.idle_timeouts++;
            in_close(c, NET_LOG_WARN, "closed: nothing received for %llu ms",
                     (unsigned long long)n->idle_ms);
        }
    }
}

void net__in_touch_all(struct net_node *n, uint64_t now)
{
    for (struct net_in *c = n->ins; c; c = c->next)
        c->t_accept_ms = c->t_rx_ms = now;
}

void net__in_close_all(struct net_node *n)
{
    for (struct net_in *c = n->ins; c; c = c->next)
        if (!c->closing) {
            c->closing = true;
            uv_close((uv_handle_t *)&c->tcp, in_closed);
        }
}
