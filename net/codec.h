/*
 * codec.h — raftsim's wire format: raft messages and the connection
 * handshake as msgpack, framed on a byte stream.
 *
 * A frame is a 4-byte big-endian body length followed by the body, one
 * msgpack array whose first two elements are the protocol version and the
 * frame type:
 *
 *   HELLO        [v, 0, cluster_id:str, from, to, nonce:bin32]
 *   PREVOTE      [v, 1, from, to, term, last_term, last_lsn]
 *   PREVOTE_RESP [v, 2, from, to, term, granted:bool, last_term, last_lsn]
 *   VOTE         [v, 3, …as PREVOTE, transfer:bool]
 *   VOTE_RESP    [v, 4, …as PREVOTE_RESP]
 *   APPEND       [v, 5, from, to, term, prev_lsn, prev_term, commit_lsn,
 *                 [[lsn, term, type, key:bin, value:bin], …]]
 *   APPEND_RESP  [v, 6, from, to, term, success:bool, match_lsn,
 *                 reject_lsn, hint_lsn, hint_term]
 *   TIMEOUT_NOW  [v, 7, from, to, term]   (leadership transfer)
 *   SNAPSHOT     [v, 8, from, to, term, last_lsn, last_term, offset,
 *                 total, done:bool, data:bin]   (InstallSnapshot, one
 *                 chunk of at most WAL_VALUE_MAX bytes)
 *   SNAPSHOT_RESP [v, 9, from, to, term, last_lsn, success:bool,
 *                 match_lsn, offset]
 *   CHALLENGE    [v, 16, nonce:bin32, proof:bin32]
 *   AUTH         [v, 17, proof:bin32]
 *   PING         [v, 18]   (keeps an idle connection alive)
 *
 * HELLO, CHALLENGE and AUTH are the handshake (net/auth.h); every frame
 * after it is sealed: its length covers the body and a NET_MAC_LEN tag
 * appended to it (net_seal), which the receiver checks before it decodes
 * anything (net_reader_peek gives the sealed frame as it came).
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

#define NET_PROTO_VERSION 5 /* 2: authenticated handshake, sealed frames;
                               3: TimeoutNow, the vote's transfer flag;
                               4: InstallSnapshot and its answer;
                               5: configuration entries (type 2), and a
                               snapshot's bytes start with its
                               configuration */
#define NET_FRAME_MAX_DEFAULT (1u << 20) /* bytes per frame body */
#define NET_CLUSTER_ID_MAX 63
#define NET_FRAME_HELLO 0
#define NET_FRAME_CHALLENGE 16
#define NET_FRAME_AUTH 17
#define NET_FRAME_PING 18
#define NET_NONCE_BYTES 32 /* = NET_NONCE_LEN and NET_MAC_LEN of auth.h */

enum {
    NET_OK = 0,
    NET_EAGAIN = -1,  /* need more bytes */
    NET_EPROTO = -2,  /* malformed frame: close the connection */
    NET_ETOOBIG = -3, /* frame over the limit: close the connection */
    NET_ENOMEM = -4,
};

/* cluster_id is compared as cluster_id_len exact bytes: an id with a NUL
 * inside ("raftsim\0xyz") is not "raftsim". */
struct net_hello {
    char cluster_id[NET_CLUSTER_ID_MAX + 1]; /* NUL-terminated too */
    size_t cluster_id_len;
    int from, to;
    uint32_t version;
    unsigned char nonce[NET_NONCE_BYTES];
};

struct net_frame {
    int type; /* NET_FRAME_* or a RAFT_MSG_* */
    struct net_hello hello;
    /* CHALLENGE: nonce and proof; AUTH: proof */
    unsigned char nonce[NET_NONCE_BYTES], proof[NET_NONCE_BYTES];
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
/* h->cluster_id_len 0 means strlen(h->cluster_id). */
int net_encode_hello(struct net_buf *out, const struct net_hello *h);
int net_encode_challenge(struct net_buf *out, const unsigned char *nonce,
                         const unsigned char *proof);
int net_encode_auth(struct net_buf *out, const unsigned char *proof);
int net_encode_ping(struct net_buf *out);
/* Seal the frame that starts at offset `at` of out (the last one): append
 * the tag_len bytes of tag and add them to its length prefix. */
int net_seal(struct net_buf *out, size_t at, const unsigned char *tag,
             size_t tag_len);

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
/* The next whole frame's body (after the length prefix) without decoding
 * it: NET_OK with *body and *len set (valid until the next feed or skip),
 * NET_EAGAIN, or NET_ETOOBIG with err set.  net_reader_skip drops it. */
int net_reader_peek(struct net_reader *r, const char **body, size_t *len,
                    char *err, size_t errlen);
void net_reader_skip(struct net_reader *r);

#endif
