/*
 * tcp.h — raftsim's TCP transport on libuv: one net_node per Raft node,
 * carrying net/codec.h frames between nodes of one cluster.
 *
 * Connections are one-way.  Node i dials node j and, once the handshake
 * is done, only writes on that connection (raft messages from i to j);
 * j only reads from the connections it accepted.  Two nodes talking to
 * each other therefore use two connections, and neither side has to
 * decide who owns a shared socket after a restart.
 *
 * What the transport promises is what Raft needs and no more: a message
 * handed to net_node_send may be lost (peer not connected yet, queue over
 * its limit, connection broken), never corrupted, and messages on one
 * connection arrive in order.  Every inbound frame is checked (codec,
 * handshake, sender and addressee); a bad one closes that connection with
 * a logged reason and the node keeps serving everyone else.
 *
 * Peers are authenticated (net/auth.h): every node of a cluster holds the
 * same secret key.  The handshake is HELLO (dialer: cluster id, from, to,
 * a fresh nonce), CHALLENGE (acceptor: its own nonce and a proof of the
 * key), AUTH (dialer: its proof); each side checks the other's proof, so
 * a process without the key — or replaying a recorded handshake — never
 * gets a frame delivered, and a dialer never talks to an impostor.  Every
 * frame after it carries an HMAC over a per-connection session key and
 * its sequence number: a tampered, replayed or reordered frame closes the
 * connection.  The cluster id is compared as exact bytes.
 *
 * Limits, so that nobody on the machine can exhaust a node: a connection
 * must finish the handshake within handshake_timeout_ms and may buffer at
 * most 64 KiB (and declare no frame over 1 KiB) before it has; at most
 * max_pending unauthenticated connections exist per listener (a new one
 * evicts the oldest, those that sent no HELLO first) and one
 * authenticated connection per peer (a newer one replaces it); an
 * authenticated connection that sends nothing for idle_timeout_ms is
 * closed, and a dialer sends a PING after keepalive_ms of silence so that
 * real links never look idle.  A loop that was itself stalled (a
 * debugger, a held clock) expires nobody: the sweep notices it was late
 * and restarts every deadline.
 *
 * Memory is bounded: outbound, by max_queue_bytes per connection (a peer
 * that stops reading gets its connection closed, not an ever-growing
 * queue); inbound, by max_frame per connection (net_reader).
 *
 * Not here: name resolution (peer hosts are numeric IPv4/IPv6 addresses),
 * encryption (frames are authenticated, not secret), and retransmission
 * (Raft retries on its own).
 *
 * Errors are negative libuv codes (uv_strerror gives their text).
 *
 * Process-wide: libuv writes with writev(), so a write to a peer that
 * reset would raise SIGPIPE; net_node_start sets SIGPIPE to SIG_IGN if it
 * still has its default action (a handler the program installed is kept).
 */
#ifndef RAFTSIM_NET_TCP_H
#define RAFTSIM_NET_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/codec.h"
#include "raft/raft.h"

/* on_log levels */
enum {
    NET_LOG_ERROR = 0, /* the node itself cannot do its job (listen, memory,
                        * descriptors) */
    NET_LOG_WARN = 1,  /* a peer broke the protocol: refused or bad frame */
    NET_LOG_INFO = 2,  /* connections made and lost */
    NET_LOG_DEBUG = 3, /* failed dial attempts (repeat while a peer is down) */
};

struct net_node_config {
    const char *cluster_id; /* compared in the handshake; <= 63 bytes */
    /* The cluster secret, NET_KEY_MIN..NET_KEY_MAX bytes (required;
     * copied into an HMAC context at start). */
    const unsigned char *key;
    size_t key_len;
    int id, n_nodes;        /* this node is 1..n_nodes */
    const char *host;       /* listen address; NULL = "127.0.0.1" */
    int port;               /* 0 = ephemeral */
    uint32_t max_frame;     /* 0 = NET_FRAME_MAX_DEFAULT */
    size_t max_queue_bytes; /* per outbound connection; 0 = 4 MiB */
    uint64_t reconnect_min_ms, reconnect_max_ms; /* 0 = 20 ms, 1000 ms */
    uint64_t handshake_timeout_ms; /* 0 = 2000 */
    uint64_t idle_timeout_ms;      /* 0 = 5000 */
    uint64_t keepalive_ms;         /* 0 = idle_timeout_ms / 4 */
    int max_pending;               /* unauthenticated; 0 = 2 × n_nodes + 4 */
    /* A decoded message for us; the callee owns m's entries (must call
     * raft_msg_free).  May call net_node_pause/close. */
    void (*on_msg)(void *ctx, struct raft_msg *m);
    /* Connection events: refused handshake, bad frame (with the codec's
     * reason), connect/disconnect.  May be NULL. */
    void (*on_log)(void *ctx, int level, const char *line);
    /* The peer closed an authenticated connection (EOF or an error such
     * as ECONNRESET on read: what the kernel does at once when the
     * peer's process dies), in either direction; not called for closes
     * this node decides (idle, bad frame, replaced, net_node_close).  A
     * driver passes it to raft_peer_closed: evidence, not proof.  May be
     * NULL; may fire once per connection, so twice for one death. */
    void (*on_peer_closed)(void *ctx, int peer);
    void *ctx;
};

/* frames_* count raft messages; bytes_* count everything on the wire
 * (handshake, pings, length prefixes and tags included).
 * connects/disconnects are outbound connections whose handshake finished
 * / that were then lost.  Inbound connections closed: refused (a bad or
 * missing HELLO, anything malformed before the handshake), auth_failed
 * (the peer did not prove the key: wrong key or replayed handshake; also
 * counted on a dialer whose acceptor failed to prove it), bad_mac (a
 * frame after the handshake failed its tag: tampered, replayed or
 * reordered), bad_frames (a malformed frame after the handshake),
 * handshake_timeouts, idle_timeouts, evicted (over max_pending) and
 * replaced (a newer connection from the same peer). */
struct net_stats {
    uint64_t frames_sent, frames_received, bytes_sent, bytes_received;
    uint64_t connects, disconnects, refused, bad_frames;
    uint64_t dropped_unconnected, dropped_queue_full;
    uint64_t dials;            /* outbound connection attempts */
    uint64_t accepts;          /* inbound connections accepted */
    uint64_t dropped_too_big;  /* messages whose frame exceeds max_frame */
    uint64_t auth_failed, bad_mac, handshake_timeouts, idle_timeouts;
    uint64_t evicted, replaced;
    uint64_t pings_sent;
};

struct net_node;

/* Binds and listens now.  On failure *out is NULL and the return is a
 * libuv code (UV_EINVAL for a bad config or key, UV_EADDRINUSE, ...); a handle
 * may still be closing, so run the loop before uv_loop_close. */
int net_node_start(uv_loop_t *loop, const struct net_node_config *cfg,
                   struct net_node **out);
/* The bound port. */
int net_node_port(const struct net_node *n);
/* Where to dial peer (numeric address).  A change of address closes the
 * current connection to that peer. */
void net_node_set_peer(struct net_node *n, int peer, const char *host,
                       int port);
/* Dial peer now, not at the first send, and keep it connected: after a
 * failed dial or a lost connection it is dialed again with the back-off
 * (reconnect_min_ms doubling to reconnect_max_ms) whether or not a send
 * waits, as a Raft server keeps a stream to every peer.  So a node's
 * first votes, or its first reply to a peer that restarted, are not lost
 * to a connection not made yet. */
void net_node_connect(struct net_node *n, int peer);
/* Encode m and queue it to m->to.  0 if queued; negative if dropped:
 * UV_ENOTCONN (not connected yet: a dial is started or scheduled),
 * UV_ENOBUFS (the queue would exceed max_queue_bytes: the connection is
 * closed and retried after reconnect_max_ms), UV_EMSGSIZE (frame over
 * max_frame), UV_EINVAL (bad addressee or type), UV_ESHUTDOWN (closing). */
int net_node_send(struct net_node *n, const struct raft_msg *m);
/* Stop reading every inbound connection (the kernel buffers the backlog)
 * and stop delivering frames already read. */
void net_node_pause(struct net_node *n);
/* Read again; the backlog is delivered, in order per connection. */
void net_node_resume(struct net_node *n);
/* Close the listener, every connection and timer; done(ctx) runs from the
 * loop once every handle is closed (then net_node_free may be called,
 * also from done).  done may be NULL.  Nothing is delivered afterwards. */
void net_node_close(struct net_node *n, void (*done)(void *ctx), void *ctx);
/* Only after close's done (or for a node whose handles all closed). */
void net_node_free(struct net_node *n);
const struct net_stats *net_node_stats(const struct net_node *n);
/* Bytes libuv holds for peer that the kernel has not taken yet (0 when
 * not connected) — what max_queue_bytes bounds. */
size_t net_node_queued_bytes(const struct net_node *n, int peer);
/* Whether a connection to peer is up: handshake done, AUTH queued. */
bool net_node_connected(const struct net_node *n, int peer);

#endif
