/*
 * rawpeer.h — a hand-driven peer for transport tests: a blocking socket on
 * 127.0.0.1 that speaks the wire protocol byte by byte, so a test can play
 * a correct peer, a peer with the wrong key, a replayed handshake or a
 * tampered frame against a real node.
 *
 * The node under test runs on the test's own loop, so every wait takes a
 * pump callback (one turn of that loop, a few ms at most) and a deadline
 * in milliseconds: nothing here can hang.
 */
#ifndef RAFTSIM_TESTS_RAWPEER_H
#define RAFTSIM_TESTS_RAWPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/auth.h"
#include "net/codec.h"

typedef void (*raw_pump)(void *ctx);

struct raw_peer {
    int fd;
    const char *cluster_id;
    int from, to;
    unsigned char nonce_a[NET_NONCE_LEN], nonce_b[NET_NONCE_LEN];
    struct net_mac *session; /* after raw_auth */
    uint64_t seq;
    raw_pump pump;
    void *ctx;
    /* the handshake's own bytes, for replaying them */
    char hello[256], auth[256];
    size_t hello_len, auth_len;
};

/* Connect to port and remember who we claim to be. */
void raw_open(struct raw_peer *r, int port, const char *cluster_id, int from,
              int to, raw_pump pump, void *ctx);
void raw_close(struct raw_peer *r);
/* Write bytes; false if the node already hung up. */
bool raw_write(struct raw_peer *r, const void *p, size_t n);
void raw_send_hello(struct raw_peer *r);
/* Wait for the CHALLENGE (true), keeping its nonce. */
bool raw_await_challenge(struct raw_peer *r, uint64_t ms);
/* Send AUTH computed with key (any bytes: a wrong key is a test). */
void raw_send_auth(struct raw_peer *r, const void *key, size_t key_len);
/* HELLO, CHALLENGE, AUTH with key: true once the node accepted it. */
bool raw_handshake(struct raw_peer *r, const void *key, size_t key_len);
/* A sealed frame with this body; corrupt flips one byte of the body
 * after the tag was computed. */
void raw_send_sealed(struct raw_peer *r, const char *body, size_t len,
                     bool corrupt);
void raw_send_msg(struct raw_peer *r, const struct raft_msg *m);
/* The acceptor's half on r->fd (a connection a node dialed; r->pump and
 * r->cluster_id set): read its HELLO, answer with a CHALLENGE proved with
 * key.  True once the CHALLENGE is sent. */
bool raw_accept(struct raw_peer *r, const void *key, size_t key_len,
                uint64_t ms);
/* Until the node closes the socket (true) or ms pass. */
bool raw_await_close(struct raw_peer *r, uint64_t ms);

#endif
