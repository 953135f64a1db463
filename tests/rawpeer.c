/*
 * rawpeer.c — see rawpeer.h.
 */
#include "tests/rawpeer.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void raw_open(struct raw_peer *r, int port, const char *cluster_id, int from,
              int to, raw_pump pump, void *ctx)
{
    memset(r, 0, sizeof(*r));
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(r->fd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* the kernel completes it from the listen backlog: no loop needed */
    cr_assert_eq(connect(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    int one = 1; /* a frame right after AUTH must not wait for an ACK */
    setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    r->cluster_id = cluster_id;
    r->from = from;
    r->to = to;
    r->pump = pump;
    r->ctx = ctx;
}

void raw_close(struct raw_peer *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    net_mac_free(r->session);
    r->session = NULL;
}

bool raw_write(struct raw_peer *r, const void *p, size_t n)
{
    return send(r->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

void raw_send_hello(struct raw_peer *r)
{
    struct net_hello h = {.from = r->from, .to = r->to,
                          .version = NET_PROTO_VERSION};
    snprintf(h.cluster_id, sizeof(h.cluster_id), "%s", r->cluster_id);
    cr_assert_eq(net_random(r->nonce_a, NET_NONCE_LEN), 0);
    memcpy(h.nonce, r->nonce_a, NET_NONCE_LEN);
    struct net_buf b = {0};
    cr_assert_eq(net_encode_hello(&b, &h), NET_OK);
    cr_assert_leq(b.len, sizeof(r->hello));
    memcpy(r->hello, b.data, b.len);
    r->hello_len = b.len;
    raw_write(r, b.data, b.len);
    net_buf_free(&b);
}

/* One whole frame from the socket into buf (prefix included). */
static bool read_frame(struct raw_peer *r, char *buf, size_t cap,
                       size_t *len, uint64_t ms)
{
    uint64_t end = now_ms() + ms;
    size_t got = 0;
    while (now_ms() < end) {
        ssize_t n = recv(r->fd, buf + got, cap - got, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return false;
        if (n > 0)
            got += (size_t)n;
        if (got >= 4) {
            const unsigned char *u = (const unsigned char *)buf;
            size_t want = 4 + ((size_t)u[0] << 24 | (size_t)u[1] << 16 |
                               (size_t)u[2] << 8 | u[3]);
            if (want > cap)
                return false;
            if (got >= want) {
                *len = want;
                return true;
            }
        }
        r->pump(r->ctx);
    }
    return false;
}

bool raw_await_challenge(struct raw_peer *r, uint64_t ms)
{
    char buf[512];
    size_t len;
    if (!read_frame(r, buf, sizeof(buf), &len, ms))
        return false;
    struct net_frame f;
    char err[128];
    if (net_decode_body(buf + 4, len - 4, &f, err, sizeof(err)) != NET_OK ||
        f.type != NET_FRAME_CHALLENGE)
        return false;
    memcpy(r->nonce_b, f.nonce, NET_NONCE_LEN);
    return true;
}

void raw_send_auth(struct raw_peer *r, const void *key, size_t key_len)
{
    struct net_mac *k = net_mac_new(key, key_len);
    cr_assert_not_null(k);
    struct net_auth_hs hs = {.cluster_id = r->cluster_id,
                             .cluster_id_len = strlen(r->cluster_id),
                             .from = r->from, .to = r->to};
    memcpy(hs.nonce_a, r->nonce_a, NET_NONCE_LEN);
    memcpy(hs.nonce_b, r->nonce_b, NET_NONCE_LEN);
    unsigned char proof[NET_MAC_LEN], sk[NET_MAC_LEN];
    cr_assert_eq(net_auth_hs_mac(k, NET_AUTH_DIALER, &hs, proof), 0);
    cr_assert_eq(net_auth_hs_mac(k, NET_AUTH_SESSION, &hs, sk), 0);
    net_mac_free(k);
    net_mac_free(r->session);
    r->session = net_mac_new(sk, sizeof(sk));
    r->seq = 0;
    struct net_buf b = {0};
    cr_assert_eq(net_encode_auth(&b, proof), NET_OK);
    memcpy(r->auth, b.data, b.len);
    r->auth_len = b.len;
    raw_write(r, b.data, b.len);
    net_buf_free(&b);
}

bool raw_handshake(struct raw_peer *r, const void *key, size_t key_len)
{
    raw_send_hello(r);
    if (!raw_await_challenge(r, 3000))
        return false;
    raw_send_auth(r, key, key_len);
    for (int k = 0; k < 4; k++) /* let the node read the AUTH */
        r->pump(r->ctx);
    return true;
}

void raw_send_sealed(struct raw_peer *r, const char *body, size_t len,
                     bool corrupt)
{
    cr_assert_not_null(r->session, "no handshake yet");
    unsigned char tag[NET_MAC_LEN];
    cr_assert_eq(net_auth_frame_tag(r->session, 'd', r->seq++, body, len,
                                    tag),
                 0);
    struct net_buf b = {0};
    size_t total = len + NET_MAC_LEN;
    unsigned char pre[4] = {(unsigned char)(total >> 24),
                            (unsigned char)(total >> 16),
                            (unsigned char)(total >> 8), (unsigned char)total};
    b.data = malloc(4 + total);
    cr_assert_not_null(b.data);
    memcpy(b.data, pre, 4);
    memcpy(b.data + 4, body, len);
    memcpy(b.data + 4 + len, tag, NET_MAC_LEN);
    if (corrupt && len > 0)
        b.data[4 + len / 2] ^= 0x01;
    raw_write(r, b.data, 4 + total);
    free(b.data);
}

void raw_send_msg(struct raw_peer *r, const struct raft_msg *m)
{
    struct net_buf b = {0};
    cr_assert_eq(net_encode_msg(&b, m, NET_FRAME_MAX_DEFAULT), NET_OK);
    raw_send_sealed(r, b.data + 4, b.len - 4, false);
    net_buf_free(&b);
}

bool raw_accept(struct raw_peer *r, const void *key, size_t key_len,
                uint64_t ms)
{
    char buf[512];
    size_t len;
    struct net_frame f;
    char err[128];
    if (!read_frame(r, buf, sizeof(buf), &len, ms) ||
        net_decode_body(buf + 4, len - 4, &f, err, sizeof(err)) != NET_OK ||
        f.type != NET_FRAME_HELLO)
        return false;
    r->from = f.hello.from;
    r->to = f.hello.to;
    memcpy(r->nonce_a, f.hello.nonce, NET_NONCE_LEN);
    cr_assert_eq(net_random(r->nonce_b, NET_NONCE_LEN), 0);
    struct net_auth_hs hs = {.cluster_id = r->cluster_id,
                             .cluster_id_len = strlen(r->cluster_id),
                             .from = r->from, .to = r->to};
    memcpy(hs.nonce_a, r->nonce_a, NET_NONCE_LEN);
    memcpy(hs.nonce_b, r->nonce_b, NET_NONCE_LEN);
    struct net_mac *k = net_mac_new(key, key_len);
    unsigned char proof[NET_MAC_LEN];
    cr_assert_eq(net_auth_hs_mac(k, NET_AUTH_ACCEPTOR, &hs, proof), 0);
    net_mac_free(k);
    struct net_buf b = {0};
    cr_assert_eq(net_encode_challenge(&b, r->nonce_b, proof), NET_OK);
    bool ok = raw_write(r, b.data, b.len);
    net_buf_free(&b);
    return ok;
}

bool raw_await_close(struct raw_peer *r, uint64_t ms)
{
    uint64_t end = now_ms() + ms;
    char b[512];
    while (now_ms() < end) {
        ssize_t n = recv(r->fd, b, sizeof(b), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
        r->pump(r->ctx);
    }
    return false;
}
