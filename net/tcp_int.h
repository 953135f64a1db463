/*
 * tcp_int.h — the transport's private state, shared by tcp.c (the node,
 * its dialed connections and the periodic sweep) and tcp_in.c (accepted
 * connections: the acceptor's half of the handshake, sealed frames,
 * connection limits).  Nothing outside net/tcp*.c includes this.
 */
#ifndef RAFTSIM_NET_TCP_INT_H
#define RAFTSIM_NET_TCP_INT_H

#include "net/auth.h"
#include "net/tcp.h"

#define FMT(a, b) __attribute__((format(printf, a, b)))
#define ADDR_TEXT 64
/* Handshake frames are ~130 bytes; a connection that has not proved the
 * key may declare no frame larger than this, and buffer no more than
 * NET_PREAUTH_BUF bytes, so an unauthenticated peer costs almost nothing. */
#define NET_PREAUTH_FRAME 1024
#define NET_PREAUTH_BUF (64 * 1024)
/* Direction labels in frame tags (auth.h). */
#define NET_DIR_DIALER 'd'

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
    bool keep;             /* net_node_connect: always wanted, redialed with
                              back-off after every failure or loss */
};

/* A dialed connection: after the handshake we only write on it (and read
 * only to notice the peer closing).  Both connection kinds start with the
 * node pointer, which the shared alloc callback relies on. */
struct net_out {
    struct net_node *n;
    uv_tcp_t tcp;
    uv_connect_t creq;
    struct net_peer *p; /* NULL once closing */
    struct net_reader rd;      /* the CHALLENGE */
    bool open;          /* handshake done, AUTH queued: sends may go */
    bool hello_sent;    /* waiting for the CHALLENGE */
    bool auth_ok;       /* AUTH written: the link counts as up */
    bool closing;
    unsigned char nonce_a[NET_NONCE_LEN];
    struct net_mac *session;
    uint64_t tx_seq;
    uint64_t delay_at_dial, t_dial_ms, t_up_ms, t_tx_ms;
};

enum in_state {
    IN_HELLO,      /* waiting for HELLO */
    IN_CHALLENGED, /* CHALLENGE sent, waiting for AUTH */
    IN_OPEN,       /* authenticated: sealed raft frames */
};

/* An accepted connection: after the handshake we only read from it. */
struct net_in {
    struct net_node *n;
    uv_tcp_t tcp;
    struct net_in *prev, *next;
    struct net_reader rd;
    enum in_state state;
    int claimed; /* the HELLO's from */
    int from;    /* 0 until authenticated */
    bool closing, reading;
    unsigned char nonce_a[NET_NONCE_LEN], nonce_b[NET_NONCE_LEN];
    struct net_mac *session;
    uint64_t rx_seq;
    uint64_t t_accept_ms, t_rx_ms;
    char where[ADDR_TEXT];
};

struct net_node {
    uv_loop_t *loop;
    char cluster_id[NET_CLUSTER_ID_MAX + 1];
    size_t cluster_id_len;
    struct net_mac *key; /* the cluster secret */
    int id, n_nodes, port;
    uint32_t max_frame;
    size_t max_queue;
    uint64_t min_ms, max_ms;
    uint64_t handshake_ms, idle_ms, keepalive_ms, sweep_ms, last_sweep_ms;
    int max_pending;
    void (*on_msg)(void *ctx, struct raft_msg *m);
    void (*on_log)(void *ctx, int level, const char *line);
    void (*on_peer_closed)(void *ctx, int peer);
    void *ctx;
    uv_tcp_t listener;
    uv_timer_t kick;        /* delivers frames a pause left in readers */
    uv_timer_t sweep;       /* deadlines, idle connections, keepalives */
    struct net_peer *peers; /* [n_nodes + 1]; [0] and [id] unused */
    struct net_in *ins;
    int handles; /* open or closing */
    bool paused, closing, free_on_close;
    void (*done)(void *ctx);
    void *done_ctx;
    struct net_stats st;
    char rbuf[64 * 1024]; /* libuv reads here; readers copy out at once */
};

/* tcp.c */
FMT(3, 4) void net__log(struct net_node *n, int level, const char *fmt, ...);
void net__release(struct net_node *n);
void net__alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
void net__addr_text(const struct sockaddr_storage *ss, char *out, size_t len);
/* A log-safe copy of bytes from a peer: non-printable bytes become \xNN. */
void net__printable(const char *p, size_t len, char *out, size_t outlen);
/* Level for a libuv error: running out of descriptors or memory stops the
 * node doing its job (NET_LOG_ERROR), anything else is the peer's. */
int net__err_level(int uv_err, int otherwise);

/* The peer closed an authenticated connection: tell the driver. */
void net__peer_closed(struct net_node *n, int peer);

/* tcp_in.c */
void net__on_connection(uv_stream_t *srv, int status);
void net__in_read_start(struct net_in *c);
void net__in_drain(struct net_in *c);
void net__in_close_all(struct net_node *n);
/* Handshake deadlines and idle connections; now_ms is the loop's time. */
void net__in_sweep(struct net_node *n, uint64_t now_ms);
void net__in_touch_all(struct net_node *n, uint64_t now_ms);

#endif
