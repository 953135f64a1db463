/*
 * codec_encode.c — see codec.h: encoding, straight from msgpack-c's
 * packer into the output buffer, one length-prefixed frame at a time.
 * Decoding (the bounds walk, the unpacker, the schema check) and the
 * stream reader are in codec.c.
 */
#include "net/codec.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Output */

void net_buf_free(struct net_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static int buf_write(void *data, const char *p, size_t n)
{
    struct net_buf *b = data;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* Reserve the length prefix; returns its offset, or SIZE_MAX. */
static size_t frame_begin(struct net_buf *out)
{
    size_t at = out->len;
    return buf_write(out, "\0\0\0\0", 4) == 0 ? at : SIZE_MAX;
}

static int frame_end(struct net_buf *out, size_t at, int rc,
                     uint32_t max_frame)
{
    size_t body = out->len - at - 4;
    if (rc != 0 || body > max_frame) {
        out->len = at; /* drop the partial frame */
        return rc != 0 ? NET_ENOMEM : NET_ETOOBIG;
    }
    unsigned char *p = (unsigned char *)out->data + at;
    p[0] = (unsigned char)(body >> 24);
    p[1] = (unsigned char)(body >> 16);
    p[2] = (unsigned char)(body >> 8);
    p[3] = (unsigned char)body;
    return NET_OK;
}

int net_encode_hello(struct net_buf *out, const struct net_hello *h)
{
    size_t idlen = h->cluster_id_len ? h->cluster_id_len
                                     : strnlen(h->cluster_id,
                                               NET_CLUSTER_ID_MAX);
    if (idlen > NET_CLUSTER_ID_MAX)
        return NET_EPROTO;
    size_t at = frame_begin(out);
    if (at == SIZE_MAX)
        return NET_ENOMEM;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    int rc = msgpack_pack_array(&pk, 6);
    rc |= msgpack_pack_uint32(&pk, h->version);
    rc |= msgpack_pack_uint8(&pk, NET_FRAME_HELLO);
    rc |= msgpack_pack_str_with_body(&pk, h->cluster_id, idlen);
    rc |= msgpack_pack_int(&pk, h->from);
    rc |= msgpack_pack_int(&pk, h->to);
    rc |= msgpack_pack_bin_with_body(&pk, h->nonce, NET_NONCE_BYTES);
    return frame_end(out, at, rc, NET_FRAME_MAX_DEFAULT);
}

/* CHALLENGE, AUTH and PING: [v, type, bin32...] with 0 to 2 blobs. */
static int encode_blobs(struct net_buf *out, int type, const unsigned char *a,
                        const unsigned char *b)
{
    size_t at = frame_begin(out);
    if (at == SIZE_MAX)
        return NET_ENOMEM;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    int rc = msgpack_pack_array(&pk, 2 + (a != NULL) + (b != NULL));
    rc |= msgpack_pack_uint8(&pk, NET_PROTO_VERSION);
    rc |= msgpack_pack_uint8(&pk, (uint8_t)type);
    if (a)
        rc |= msgpack_pack_bin_with_body(&pk, a, NET_NONCE_BYTES);
    if (b)
        rc |= msgpack_pack_bin_with_body(&pk, b, NET_NONCE_BYTES);
    return frame_end(out, at, rc, NET_FRAME_MAX_DEFAULT);
}

int net_encode_challenge(struct net_buf *out, const unsigned char *nonce,
                         const unsigned char *proof)
{
    return encode_blobs(out, NET_FRAME_CHALLENGE, nonce, proof);
}

int net_encode_auth(struct net_buf *out, const unsigned char *proof)
{
    return encode_blobs(out, NET_FRAME_AUTH, proof, NULL);
}

int net_encode_ping(struct net_buf *out)
{
    return encode_blobs(out, NET_FRAME_PING, NULL, NULL);
}

int net_seal(struct net_buf *out, size_t at, const unsigned char *tag,
             size_t tag_len)
{
    if (at + 4 > out->len || buf_write(out, (const char *)tag, tag_len))
        return NET_ENOMEM;
    size_t body = out->len - at - 4;
    unsigned char *p = (unsigned char *)out->data + at;
    p[0] = (unsigned char)(body >> 24);
    p[1] = (unsigned char)(body >> 16);
    p[2] = (unsigned char)(body >> 8);
    p[3] = (unsigned char)body;
    return NET_OK;
}

int net_encode_msg(struct net_buf *out, const struct raft_msg *m,
                   uint32_t max_frame)
{
    size_t at = frame_begin(out);
    if (at == SIZE_MAX)
        return NET_ENOMEM;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    int rc = 0;
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
        rc |= msgpack_pack_array(&pk, 7);
        break;
    case RAFT_MSG_VOTE:
        rc |= msgpack_pack_array(&pk, 8);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        rc |= msgpack_pack_array(&pk, 8);
        break;
    case RAFT_MSG_APPEND:
        rc |= msgpack_pack_array(&pk, 9);
        break;
    case RAFT_MSG_APPEND_RESP:
        rc |= msgpack_pack_array(&pk, 10);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        rc |= msgpack_pack_array(&pk, 5);
        break;
    case RAFT_MSG_SNAPSHOT:
        if (m->n_entries != 1 || !m->entries) {
            out->len = at;
            return NET_EPROTO; /* one chunk per frame */
        }
        rc |= msgpack_pack_array(&pk, 11);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        rc |= msgpack_pack_array(&pk, 9);
        break;
    default:
        out->len = at;
        return NET_EPROTO;
    }
    rc |= msgpack_pack_uint8(&pk, NET_PROTO_VERSION);
    rc |= msgpack_pack_uint8(&pk, m->type);
    rc |= msgpack_pack_int(&pk, m->from);
    rc |= msgpack_pack_int(&pk, m->to);
    rc |= msgpack_pack_uint64(&pk, m->term);
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        rc |= msgpack_pack_uint64(&pk, m->last_term);
        rc |= msgpack_pack_uint64(&pk, m->last_lsn);
        if (m->type == RAFT_MSG_VOTE)
            rc |= m->transfer ? msgpack_pack_true(&pk)
                              : msgpack_pack_false(&pk);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        rc |= m->granted ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        rc |= msgpack_pack_uint64(&pk, m->last_term);
        rc |= msgpack_pack_uint64(&pk, m->last_lsn);
        break;
    case RAFT_MSG_APPEND:
        rc |= msgpack_pack_uint64(&pk, m->prev_lsn);
        rc |= msgpack_pack_uint64(&pk, m->prev_term);
        rc |= msgpack_pack_uint64(&pk, m->commit_lsn);
        rc |= msgpack_pack_array(&pk, m->n_entries);
        for (uint32_t i = 0; i < m->n_entries && rc == 0; i++) {
            const struct wal_entry *e = &m->entries[i];
            const struct wal_payload *p = e->payload;
            rc |= msgpack_pack_array(&pk, 5);
            rc |= msgpack_pack_uint64(&pk, e->lsn);
            rc |= msgpack_pack_uint64(&pk, e->term);
            rc |= msgpack_pack_uint8(&pk, e->type);
            rc |= msgpack_pack_bin_with_body(&pk, wal_payload_key(p),
                                             p ? p->key_len : 0);
            rc |= msgpack_pack_bin_with_body(&pk, wal_payload_value(p),
                                             p ? p->value_len : 0);
        }
        break;
    case RAFT_MSG_APPEND_RESP:
        rc |= m->success ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        rc |= msgpack_pack_uint64(&pk, m->match_lsn);
        rc |= msgpack_pack_uint64(&pk, m->reject_lsn);
        rc |= msgpack_pack_uint64(&pk, m->hint_lsn);
        rc |= msgpack_pack_uint64(&pk, m->hint_term);
        break;
    case RAFT_MSG_SNAPSHOT: {
        const struct wal_payload *p = m->entries[0].payload;
        rc |= msgpack_pack_uint64(&pk, m->last_lsn);
        rc |= msgpack_pack_uint64(&pk, m->last_term);
        rc |= msgpack_pack_uint64(&pk, m->snap_offset);
        rc |= msgpack_pack_uint64(&pk, m->snap_total);
        rc |= m->snap_done ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        rc |= msgpack_pack_bin_with_body(&pk, wal_payload_value(p),
                                         p ? p->value_len : 0);
        break;
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        rc |= msgpack_pack_uint64(&pk, m->last_lsn);
        rc |= m->success ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        rc |= msgpack_pack_uint64(&pk, m->match_lsn);
        rc |= msgpack_pack_uint64(&pk, m->snap_offset);
        break;
    }
    return frame_end(out, at, rc, max_frame);
}
