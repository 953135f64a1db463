/*
 * codec.c — see codec.h: decoding is a bounds walk (ours), then
 * msgpack-c's unpacker, then a strict schema check (ours); then the
 * stream reader.  Encoding is in codec_encode.c.
 */
#include "net/codec.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The bounds walk.  Checks that the body is exactly one msgpack object
 * whose every declared length fits the bytes present, with no maps, no
 * extensions, no floats and at most MAX_DEPTH nested arrays (the schema
 * needs three).  Only then may msgpack-c allocate anything. */

#define MAX_DEPTH 4

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return NET_EPROTO;
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static int walk(const unsigned char *p, size_t len, char *err, size_t errlen)
{
    uint64_t pending[MAX_DEPTH + 1]; /* items left per open array */
    int depth = 0;
    size_t off = 0;
    pending[0] = 1; /* the root object */
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (off >= len)
            return fail(err, errlen, "truncated msgpack body at byte %zu",
                        off);
        unsigned char b = p[off++];
        size_t left = len - off;
        uint64_t n = 0; /* payload bytes to skip, or array count */
        int lenbytes = 0;
        bool array = false;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            continue; /* fixint, nil, bool */
        if (b >= 0x90 && b <= 0x9f) {
            array = true;
            n = b & 0x0f;
        } else if (b >= 0xa0 && b <= 0xbf) {
            n = b & 0x1f;
        } else if (b >= 0x80 && b <= 0x8f) {
            return fail(err, errlen, "unexpected map at byte %zu", off - 1);
        } else {
            switch (b) {
            case 0xcc: case 0xd0: n = 1; break;
            case 0xcd: case 0xd1: n = 2; break;
            case 0xce: case 0xd2: n = 4; break;
            case 0xcf: case 0xd3: n = 8; break;
            case 0xc4: case 0xd9: lenbytes = 1; break;
            case 0xc5: case 0xda: lenbytes = 2; break;
            case 0xc6: case 0xdb: lenbytes = 4; break;
            case 0xdc: lenbytes = 2; array = true; break;
            case 0xdd: lenbytes = 4; array = true; break;
            default:
                return fail(err, errlen,
                            "unsupported msgpack type 0x%02x at byte %zu", b,
                            off - 1);
            }
            if (lenbytes) {
                if (left < (size_t)lenbytes)
                    return fail(err, errlen, "truncated length at byte %zu",
                                off);
                n = be(p + off, lenbytes);
                off += (size_t)lenbytes;
                left -= (size_t)lenbytes;
            }
        }
        if (array) {
            /* every element takes at least one byte */
            if (n > left)
                return fail(err, errlen,
                            "array declares %llu elements but only %zu "
                            "bytes follow",
                            (unsigned long long)n, left);
            if (depth == MAX_DEPTH)
                return fail(err, errlen, "arrays nested too deeply");
            pending[++depth] = n;
            continue;
        }
        if (n > left)
            return fail(err, errlen,
                        "field declares %llu bytes but only %zu follow",
                        (unsigned long long)n, left);
        off += (size_t)n;
    }
    if (off != len)
        return fail(err, errlen, "%zu trailing bytes after the frame",
                    len - off);
    return NET_OK;
}

/* ------------------------------------------------------------------ */
/* Schema */

struct cursor {
    const msgpack_object *o;
    uint32_t n, i;
    char *err;
    size_t errlen;
    bool bad;
};

static const msgpack_object *next(struct cursor *c, const char *field)
{
    if (c->bad)
        return NULL;
    if (c->i >= c->n) {
        c->bad = true;
        fail(c->err, c->errlen, "missing field '%s'", field);
        return NULL;
    }
    return &c->o[c->i++];
}

static uint64_t get_u64(struct cursor *c, const char *field)
{
    const msgpack_object *o = next(c, field);
    if (!o)
        return 0;
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        c->bad = true;
        fail(c->err, c->errlen, "field '%s' is not a non-negative integer",
             field);
        return 0;
    }
    return o->via.u64;
}

static int get_id(struct cursor *c, const char *field)
{
    uint64_t v = get_u64(c, field);
    if (!c->bad && (v < 1 || v > RAFT_MAX_NODES)) {
        c->bad = true;
        fail(c->err, c->errlen, "field '%s' = %llu is not a node id", field,
             (unsigned long long)v);
    }
    return (int)v;
}

static bool get_bool(struct cursor *c, const char *field)
{
    const msgpack_object *o = next(c, field);
    if (!o)
        return false;
    if (o->type != MSGPACK_OBJECT_BOOLEAN) {
        c->bad = true;
        fail(c->err, c->errlen, "field '%s' is not a boolean", field);
        return false;
    }
    return o->via.boolean;
}

static const msgpack_object *get_kind(struct cursor *c, const char *field,
                                      msgpack_object_type t, uint32_t max)
{
    const msgpack_object *o = next(c, field);
    if (!o)
        return NULL;
    uint32_t size = t == MSGPACK_OBJECT_ARRAY ? o->via.array.size
                    : t == MSGPACK_OBJECT_BIN ? o->via.bin.size
                                              : o->via.str.size;
    if (o->type != t || size > max) {
        c->bad = true;
        fail(c->err, c->errlen, "field '%s' has the wrong type or size",
             field);
        return NULL;
    }
    return o;
}

static int decode_entries(struct cursor *c, struct raft_msg *m)
{
    const msgpack_object *arr =
        get_kind(c, "entries", MSGPACK_OBJECT_ARRAY, UINT32_MAX);
    if (!arr)
        return NET_EPROTO;
    uint32_t n = arr->via.array.size;
    if (n == 0)
        return NET_OK;
    m->entries = calloc(n, sizeof(*m->entries));
    if (!m->entries)
        return NET_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *eo = &arr->via.array.ptr[i];
        if (eo->type != MSGPACK_OBJECT_ARRAY || eo->via.array.size != 5)
            return fail(c->err, c->errlen, "entry %u is not a 5-array", i);
        struct cursor ec = {eo->via.array.ptr, 5, 0, c->err, c->errlen, false};
        struct wal_entry *e = &m->entries[i];
        e->lsn = get_u64(&ec, "entry.lsn");
        e->term = get_u64(&ec, "entry.term");
        uint64_t type = get_u64(&ec, "entry.type");
        const msgpack_object *k =
            get_kind(&ec, "entry.key", MSGPACK_OBJECT_BIN, WAL_KEY_MAX);
        const msgpack_object *v =
            get_kind(&ec, "entry.value", MSGPACK_OBJECT_BIN, WAL_VALUE_MAX);
        if (ec.bad)
            return NET_EPROTO;
        if (type > WAL_ENTRY_TYPE_MAX)
            return fail(c->err, c->errlen, "entry %u has unknown type %llu",
                        i, (unsigned long long)type);
        if (e->lsn != m->prev_lsn + 1 + i)
            return fail(c->err, c->errlen,
                        "entry %u has lsn %llu, expected %llu", i,
                        (unsigned long long)e->lsn,
                        (unsigned long long)(m->prev_lsn + 1 + i));
        e->type = (uint8_t)type;
        m->n_entries = i + 1; /* from here on raft_msg_free owns it */
        if (type == WAL_ENTRY_DATA || type == WAL_ENTRY_CONFIG) {
            /* a config entry's text is checked by the core (validate.c:
             * bad-config), which knows the cluster's size */
            e->payload = wal_payload_new(k->via.bin.ptr, k->via.bin.size,
                                         v->via.bin.ptr, v->via.bin.size);
            if (!e->payload)
                return NET_ENOMEM;
        } else if (k->via.bin.size || v->via.bin.size) {
            return fail(c->err, c->errlen, "no-op entry %u carries data", i);
        }
    }
    return NET_OK;
}

/* A bin field of exactly NET_NONCE_BYTES: nonces, proofs. */
static const msgpack_object *get_blob(struct cursor *c, const char *field)
{
    const msgpack_object *o =
        get_kind(c, field, MSGPACK_OBJECT_BIN, NET_NONCE_BYTES);
    if (o && o->via.bin.size != NET_NONCE_BYTES) {
        c->bad = true;
        fail(c->err, c->errlen, "field '%s' is not %d bytes", field,
             NET_NONCE_BYTES);
        return NULL;
    }
    return o;
}

static int decode_handshake(struct cursor *c, uint32_t size, int type,
                            struct net_frame *out)
{
    uint32_t want = type == NET_FRAME_CHALLENGE ? 4
                    : type == NET_FRAME_AUTH    ? 3
                                                : 2;
    if (size != want)
        return fail(c->err, c->errlen,
                    "frame type %d has %u fields, expected %u", type, size,
                    want);
    out->type = type;
    if (type == NET_FRAME_CHALLENGE) {
        const msgpack_object *n = get_blob(c, "nonce");
        if (n)
            memcpy(out->nonce, n->via.bin.ptr, NET_NONCE_BYTES);
    }
    if (type != NET_FRAME_PING) {
        const msgpack_object *p = get_blob(c, "proof");
        if (p)
            memcpy(out->proof, p->via.bin.ptr, NET_NONCE_BYTES);
    }
    return c->bad ? NET_EPROTO : NET_OK;
}

static int decode_object(const msgpack_object *root, struct net_frame *out,
                         char *err, size_t errlen)
{
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 2)
        return fail(err, errlen, "frame is not an array [version, type, …]");
    struct cursor c = {root->via.array.ptr, root->via.array.size, 0, err,
                       errlen, false};
    uint64_t version = get_u64(&c, "version");
    uint64_t type = get_u64(&c, "type");
    if (c.bad)
        return NET_EPROTO;
    if (version != NET_PROTO_VERSION)
        return fail(err, errlen, "protocol version %llu, expected %d",
                    (unsigned long long)version, NET_PROTO_VERSION);
    if (type >= NET_FRAME_CHALLENGE && type <= NET_FRAME_PING)
        return decode_handshake(&c, root->via.array.size, (int)type, out);
    if (type > RAFT_MSG_TYPE_MAX)
        return fail(err, errlen, "unknown frame type %llu",
                    (unsigned long long)type);
    static const uint32_t fields[] = {6, 7, 8, 8, 8, 9, 10, 5, 11, 9};
    if (root->via.array.size != fields[type])
        return fail(err, errlen, "frame type %llu has %u fields, expected %u",
                    (unsigned long long)type, root->via.array.size,
                    fields[type]);
    out->type = (int)type;
    if (type == NET_FRAME_HELLO) {
        const msgpack_object *id = get_kind(&c, "cluster_id",
                                            MSGPACK_OBJECT_STR,
                                            NET_CLUSTER_ID_MAX);
        out->hello.from = get_id(&c, "from");
        out->hello.to = get_id(&c, "to");
        const msgpack_object *nonce = get_blob(&c, "nonce");
        if (c.bad)
            return NET_EPROTO;
        /* the exact bytes, NULs included: compared with their length */
        memcpy(out->hello.cluster_id, id->via.str.ptr, id->via.str.size);
        out->hello.cluster_id[id->via.str.size] = '\0';
        out->hello.cluster_id_len = id->via.str.size;
        memcpy(out->hello.nonce, nonce->via.bin.ptr, NET_NONCE_BYTES);
        out->hello.version = (uint32_t)version;
        return NET_OK;
    }
    struct raft_msg *m = &out->msg;
    m->type = (uint8_t)type;
    m->from = get_id(&c, "from");
    m->to = get_id(&c, "to");
    m->term = get_u64(&c, "term");
    switch (type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        m->last_term = get_u64(&c, "last_term");
        m->last_lsn = get_u64(&c, "last_lsn");
        if (type == RAFT_MSG_VOTE)
            m->transfer = get_bool(&c, "transfer");
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        m->granted = get_bool(&c, "granted");
        m->last_term = get_u64(&c, "last_term");
        m->last_lsn = get_u64(&c, "last_lsn");
        break;
    case RAFT_MSG_APPEND:
        m->prev_lsn = get_u64(&c, "prev_lsn");
        m->prev_term = get_u64(&c, "prev_term");
        m->commit_lsn = get_u64(&c, "commit_lsn");
        if (c.bad)
            return NET_EPROTO;
        return decode_entries(&c, m);
    case RAFT_MSG_APPEND_RESP:
        m->success = get_bool(&c, "success");
        m->match_lsn = get_u64(&c, "match_lsn");
        m->reject_lsn = get_u64(&c, "reject_lsn");
        m->hint_lsn = get_u64(&c, "hint_lsn");
        m->hint_term = get_u64(&c, "hint_term");
        break;
    case RAFT_MSG_SNAPSHOT: {
        m->last_lsn = get_u64(&c, "last_lsn");
        m->last_term = get_u64(&c, "last_term");
        m->snap_offset = get_u64(&c, "offset");
        m->snap_total = get_u64(&c, "total");
        m->snap_done = get_bool(&c, "done");
        const msgpack_object *d =
            get_kind(&c, "data", MSGPACK_OBJECT_BIN, WAL_VALUE_MAX);
        if (c.bad)
            return NET_EPROTO;
        if (m->snap_total > RAFT_SNAPSHOT_MAX ||
            m->snap_offset > m->snap_total ||
            d->via.bin.size > m->snap_total - m->snap_offset)
            return fail(err, errlen,
                        "snapshot chunk at %llu of %u bytes is outside a "
                        "snapshot of %llu bytes (at most %u)",
                        (unsigned long long)m->snap_offset, d->via.bin.size,
                        (unsigned long long)m->snap_total, RAFT_SNAPSHOT_MAX);
        if (m->snap_done !=
            (m->snap_offset + d->via.bin.size == m->snap_total))
            return fail(err, errlen, "snapshot chunk's done flag is wrong");
        if (m->last_lsn == 0 || m->last_term == 0)
            return fail(err, errlen, "snapshot of lsn 0 or term 0");
        m->entries = calloc(1, sizeof(*m->entries));
        if (!m->entries)
            return NET_ENOMEM;
        m->n_entries = 1; /* from here on raft_msg_free owns it */
        m->entries[0].payload =
            wal_payload_new("", 0, d->via.bin.ptr, d->via.bin.size);
        if (!m->entries[0].payload)
            return NET_ENOMEM;
        break;
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        m->last_lsn = get_u64(&c, "last_lsn");
        m->success = get_bool(&c, "success");
        m->match_lsn = get_u64(&c, "match_lsn");
        m->snap_offset = get_u64(&c, "offset");
        break;
    }
    if (!c.bad && m->from == m->to)
        return fail(err, errlen, "message from n%d to itself", m->from);
    return c.bad ? NET_EPROTO : NET_OK;
}

int net_decode_body(const char *body, size_t len, struct net_frame *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = '\0';
    int rc = walk((const unsigned char *)body, len, err, errlen);
    if (rc != NET_OK)
        return rc;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&u, body, len, &off);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
        msgpack_unpacked_destroy(&u);
        return ur == MSGPACK_UNPACK_NOMEM_ERROR
                   ? NET_ENOMEM
                   : fail(err, errlen, "msgpack-c refused the body (%d)",
                          (int)ur);
    }
    rc = decode_object(&u.data, out, err, errlen);
    msgpack_unpacked_destroy(&u);
    if (rc != NET_OK)
        raft_msg_free(&out->msg);
    if (rc == NET_ENOMEM && err && errlen)
        snprintf(err, errlen, "out of memory decoding a frame");
    return rc;
}

/* ------------------------------------------------------------------ */
/* Stream framing */

void net_reader_init(struct net_reader *r, uint32_t max_frame)
{
    memset(r, 0, sizeof(*r));
    r->max_frame = max_frame ? max_frame : NET_FRAME_MAX_DEFAULT;
}

void net_reader_free(struct net_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

int net_reader_feed(struct net_reader *r, const char *data, size_t n)
{
    /* Refuse early: never buffer more than one maximal frame beyond what
     * has been consumed, and not even one chunk for a length prefix that
     * is over the limit (only the prefix is kept, for next() to report). */
    if (r->len >= 4) {
        uint64_t want = be((const unsigned char *)r->buf, 4);
        if (want > r->max_frame)
            return NET_ETOOBIG;
    } else if (r->len + n >= 4) {
        unsigned char pre[4];
        if (r->len) /* buf is NULL before the first feed */
            memcpy(pre, r->buf, r->len);
        memcpy(pre + r->len, data, 4 - r->len);
        if (be(pre, 4) > r->max_frame)
            n = 4 - r->len;
    }
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n)
            cap *= 2;
        char *b = realloc(r->buf, cap);
        if (!b)
            return NET_ENOMEM;
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    return r->len == 4 && be((const unsigned char *)r->buf, 4) > r->max_frame
               ? NET_ETOOBIG
               : NET_OK;
}

int net_reader_peek(struct net_reader *r, const char **body, size_t *len,
                    char *err, size_t errlen)
{
    if (r->len < 4)
        return NET_EAGAIN;
    uint64_t n = be((const unsigned char *)r->buf, 4);
    if (n > r->max_frame) {
        fail(err, errlen, "frame of %llu bytes is over the %u-byte limit",
             (unsigned long long)n, r->max_frame);
        return NET_ETOOBIG;
    }
    if (r->len < 4 + n)
        return NET_EAGAIN;
    *body = r->buf + 4;
    *len = (size_t)n;
    return NET_OK;
}

void net_reader_skip(struct net_reader *r)
{
    if (r->len < 4)
        return;
    size_t n = (size_t)be((const unsigned char *)r->buf, 4);
    if (r->len < 4 + n)
        return;
    memmove(r->buf, r->buf + 4 + n, r->len - 4 - n);
    r->len -= 4 + n;
}

int net_reader_next(struct net_reader *r, struct net_frame *out, char *err,
                    size_t errlen)
{
    const char *body;
    size_t len;
    int rc = net_reader_peek(r, &body, &len, err, errlen);
    if (rc != NET_OK)
        return rc;
    rc = net_decode_body(body, len, out, err, errlen);
    net_reader_skip(r);
    return rc;
}
