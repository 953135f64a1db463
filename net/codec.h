/*
 * codec.h — raftsim's wire format: raft messages and the connection
 * handshake as msgpack, framed on a byte stream.
 *
 * A frame is a 4-byte big-endian body length followed by the body, one
 * msgpack array whose first two elements are the protocol version and the
 * frame type:
 *
 *   HELLO        [v, 0, cluster_id:str, from, to]
 *   PREVOTE      [v, 1, from, to, term, last_term, last_lsn]
 *   PREVOTE_RESP [v, 2, from, to, term, granted:bool, last_term, last_lsn]
 *   VOTE         [v, 3, …as PREVOTE]
 *   VOTE_RESP    [v, 4, …as PREVOTE_RESP]
 *   APPEND       [v, 5, from, to, term, prev_lsn, prev_term, commit_lsn,
 *                 [[lsn, term, type, key:bin, value:bin], …]]
 *   APPEND_RESP  [v, 6, from, to, term, success:bool, match_lsn,
 *                 reject_lsn, hint_lsn, hint_term]
 *
 * Decoding never trusts a declared length: before msgpack-c unpacks a
 * body (and allocates count × sizeof(msgpack_object) for every array it
 * declares), a structural walk checks that every array, map, string and
 * binary could fit in the bytes that are actually there.  Any violation —
 * oversized or truncated frame, wrong version, unknown type, wrong field
 * type or count, out-of-range value — is an error with a reason; the
 * transport closes that connection and the node keeps running.
 */
#ifndef RAFTSIM_NET_CODEC_H
#define RAFTSIM_NET_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

#define NET_PROTO_VERSION 1
#define NET_FRAME_MAX_DEFAULT (1u << 20) /* bytes per frame body */
#define NET_CLUSTER_ID_MAX 63
#define NET_FRAME_HELLO 0

enum {
    NET_OK = 0,
    NET_EAGAIN = -1,  /* need more bytes */
    NET_EPROTO = -2,  /* malformed frame: close the connection */
    NET_ETOOBIG = -3, /* frame over the limit: close the connection */
    NET_ENOMEM = -4,
};

struct net_hello {
    char cluster_id[NET_CLUSTER_ID_MAX + 1];
    int from, to;
    uint32_t version;
};

struct net_frame {
    int type; /* NET_FRAME_HELLO or a RAFT_MSG_* */
    struct net_hello hello;
    struct raft_msg msg; /* owns its entries: raft_msg_free */
};

/* A growable output buffer of whole frames. */
struct net_buf {
    char *data;
    size_t len, cap;
};
void net_buf_free(struct net_buf *b);

/* Append one frame.  Returns NET_OK or NET_ENOMEM / NET_ETOOBIG. */
int net_encode_msg(struct net_buf *out, const struct raft_msg *m,
                   uint32_t max_frame);
int net_encode_hello(struct net_buf *out, const struct net_hello *h);

/* Decode one frame body (without its length prefix).  On error, err
 * receives a one-line reason. */
int net_decode_body(const char *body, size_t len, struct net_frame *out,
                    char *err, size_t errlen);

/* Splits a byte stream into frames. */
struct net_reader {
    char *buf;
    size_t len, cap;
    uint32_t max_frame;
};
void net_reader_init(struct net_reader *r, uint32_t max_frame);
void net_reader_free(struct net_reader *r);
/* Returns NET_OK or NET_ETOOBIG (a declared length over the limit is
 * refused before buffering it) or NET_ENOMEM. */
int net_reader_feed(struct net_reader *r, const char *data, size_t n);
/* NET_OK with *out filled, NET_EAGAIN, or an error with err set. */
int net_reader_next(struct net_reader *r, struct net_frame *out, char *err,
                    size_t errlen);

#endif
