/*
 * test_codec.c — the msgpack wire format: every message round-trips, and
 * every malformed frame is refused with a reason, cheaply.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/codec.h"

static struct raft_msg roundtrip(const struct raft_msg *m)
{
    struct net_buf b = {0};
    cr_assert_eq(net_encode_msg(&b, m, NET_FRAME_MAX_DEFAULT), NET_OK);
    struct net_reader r;
    net_reader_init(&r, 0);
    /* feed byte by byte: framing must not care how the stream is cut */
    struct net_frame f;
    char err[128];
    int rc = NET_EAGAIN;
    for (size_t i = 0; i < b.len; i++) {
        cr_assert_eq(net_reader_feed(&r, b.data + i, 1), NET_OK);
        rc = net_reader_next(&r, &f, err, sizeof(err));
        if (i + 1 < b.len)
            cr_assert_eq(rc, NET_EAGAIN);
    }
    cr_assert_eq(rc, NET_OK, "%s", err);
    cr_assert_eq(f.type, m->type);
    net_reader_free(&r);
    net_buf_free(&b);
    return f.msg;
}

Test(codec, vote_messages_round_trip)
{
    for (int t = RAFT_MSG_PREVOTE; t <= RAFT_MSG_VOTE_RESP; t++) {
        struct raft_msg m = {.type = (uint8_t)t, .from = 3, .to = 101,
                             .term = 1ull << 40, .last_term = 7,
                             .last_lsn = 123456789, .granted = t % 2 == 0};
        struct raft_msg d = roundtrip(&m);
        cr_assert_eq(d.from, 3);
        cr_assert_eq(d.to, 101);
        cr_assert_eq(d.term, 1ull << 40);
        cr_assert_eq(d.last_term, 7);
        cr_assert_eq(d.last_lsn, 123456789);
        cr_assert_eq(d.granted, m.granted);
    }
}

Test(codec, append_with_entries_round_trips)
{
    struct wal_payload *p = wal_payload_new("k\0y", 3, "value", 5);
    struct wal_entry e[3] = {
        {.lsn = 5, .term = 2, .type = WAL_ENTRY_DATA, .payload = p},
        {.lsn = 6, .term = 3, .type = WAL_ENTRY_NOOP, .payload = NULL},
        {.lsn = 7, .term = 3, .type = WAL_ENTRY_DATA, .payload = p},
    };
    struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2,
                         .term = 3, .prev_lsn = 4, .prev_term = 2,
                         .commit_lsn = 4, .n_entries = 3, .entries = e};
    struct raft_msg d = roundtrip(&m);
    cr_assert_eq(d.prev_lsn, 4);
    cr_assert_eq(d.prev_term, 2);
    cr_assert_eq(d.commit_lsn, 4);
    cr_assert_eq(d.n_entries, 3);
    cr_assert_eq(d.entries[1].type, WAL_ENTRY_NOOP);
    cr_assert_null(d.entries[1].payload);
    cr_assert_eq(d.entries[2].lsn, 7);
    cr_assert_eq(d.entries[2].payload->key_len, 3);
    cr_assert(memcmp(wal_payload_key(d.entries[2].payload), "k\0y", 3) == 0);
    cr_assert_str_eq(wal_payload_value(d.entries[0].payload), "value");
    raft_msg_free(&d);
    wal_payload_unref(p);
}

/* Configuration entries (protocol version 5): type 2, the text in the
 * value; an unknown type is refused. */
Test(codec, config_entry_round_trips)
{
    static const char text[] = "voters=1,2,3 learners=6";
    struct wal_payload *p = wal_payload_new("", 0, text, sizeof(text) - 1);
    struct wal_entry e = {.lsn = 5, .term = 2, .type = WAL_ENTRY_CONFIG,
                          .payload = p};
    struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2,
                         .term = 3, .prev_lsn = 4, .prev_term = 2,
                         .n_entries = 1, .entries = &e};
    struct raft_msg d = roundtrip(&m);
    cr_assert_eq(d.n_entries, 1);
    cr_assert_eq(d.entries[0].type, WAL_ENTRY_CONFIG);
    cr_assert_str_eq(wal_payload_value(d.entries[0].payload), text);
    raft_msg_free(&d);
    e.type = WAL_ENTRY_TYPE_MAX + 1;
    struct net_buf b = {0};
    cr_assert_eq(net_encode_msg(&b, &m, NET_FRAME_MAX_DEFAULT), NET_OK);
    struct net_reader r;
    net_reader_init(&r, 0);
    struct net_frame f;
    char err[128] = "";
    cr_assert_eq(net_reader_feed(&r, b.data, b.len), NET_OK);
    cr_assert_neq(net_reader_next(&r, &f, err, sizeof(err)), NET_OK);
    cr_assert(strstr(err, "unknown type 3"), "%s", err);
    net_reader_free(&r);
    net_buf_free(&b);
    wal_payload_unref(p);
}

Test(codec, timeout_now_and_the_vote_transfer_flag_round_trip)
{
    struct raft_msg t = {.type = RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 3,
                         .term = 12};
    struct raft_msg d = roundtrip(&t);
    cr_assert_eq(d.type, RAFT_MSG_TIMEOUT_NOW);
    cr_assert_eq(d.from, 1);
    cr_assert_eq(d.to, 3);
    cr_assert_eq(d.term, 12);
    for (int flag = 0; flag <= 1; flag++) {
        struct raft_msg v = {.type = RAFT_MSG_VOTE, .from = 3, .to = 2,
                             .term = 13, .last_term = 12, .last_lsn = 40,
                             .transfer = flag};
        d = roundtrip(&v);
        cr_assert_eq(d.transfer, (bool)flag);
        cr_assert_eq(d.last_lsn, 40);
    }
    /* A pre-vote has no such field: the flag is not carried. */
    struct raft_msg p = {.type = RAFT_MSG_PREVOTE, .from = 3, .to = 2,
                         .term = 13, .transfer = true};
    d = roundtrip(&p);
    cr_assert(!d.transfer);
}

Test(codec, append_response_and_hello_round_trip)
{
    struct raft_msg m = {.type = RAFT_MSG_APPEND_RESP, .from = 2, .to = 1,
                         .term = 9, .success = false, .reject_lsn = 10,
                         .hint_lsn = 4, .hint_term = 2};
    struct raft_msg d = roundtrip(&m);
    cr_assert_eq(d.success, false);
    cr_assert_eq(d.reject_lsn, 10);
    cr_assert_eq(d.hint_lsn, 4);
    cr_assert_eq(d.hint_term, 2);

    struct net_hello h = {.cluster_id = "class-1", .from = 4, .to = 5,
                          .version = NET_PROTO_VERSION};
    struct net_buf b = {0};
    cr_assert_eq(net_encode_hello(&b, &h), NET_OK);
    struct net_frame f;
    char err[128];
    cr_assert_eq(net_decode_body(b.data + 4, b.len - 4, &f, err, sizeof(err)),
                 NET_OK, "%s", err);
    cr_assert_eq(f.type, NET_FRAME_HELLO);
    cr_assert_str_eq(f.hello.cluster_id, "class-1");
    cr_assert_eq(f.hello.from, 4);
    cr_assert_eq(f.hello.to, 5);
    net_buf_free(&b);
}

/* ------------------------------------------------------------------ */

static int decode(const char *body, size_t len, char *err)
{
    struct net_frame f;
    int rc = net_decode_body(body, len, &f, err, 128);
    if (rc == NET_OK)
        raft_msg_free(&f.msg);
    return rc;
}

#define REFUSED(bytes, reason)                                              \
    do {                                                                    \
        char err[128];                                                      \
        static const char b_[] = bytes;                                     \
        cr_assert_eq(decode(b_, sizeof(b_) - 1, err), NET_EPROTO);          \
        cr_assert(strstr(err, reason), "reason was: %s", err);              \
    } while (0)

Test(codec, huge_declared_array_is_refused_before_allocating)
{
    /* array32 claiming 4.29 billion elements, in five bytes */
    REFUSED("\xdd\xff\xff\xff\xff", "declares 4294967295 elements");
    /* nested: a valid-looking frame whose entries claim 2^31 */
    REFUSED("\x99\x05\x05\x01\x02\x01\x00\x00\x00\xdd\x80\x00\x00\x00",
            "elements");
    /* a binary claiming 2^32-1 bytes */
    REFUSED("\x95\x05\x00\xc6\xff\xff\xff\xff", "declares 4294967295 bytes");
}

Test(codec, malformed_frames_are_refused_with_a_reason)
{
    REFUSED("", "truncated");
    REFUSED("\x01", "not an array");
    REFUSED("\x92\x01\x01", "protocol version 1, expected 5");
    REFUSED("\x92\x05\x63", "unknown frame type 99");
    REFUSED("\x92\x05\x0a", "unknown frame type 10");
    REFUSED("\x94\x05\x07\x01\x02", "has 4 fields, expected 5");
    REFUSED("\x97\x05\x03\x01\x02\x05\x04\x09", "has 7 fields, expected 8");
    REFUSED("\x98\x05\x03\x01\x02\x05\x04\x09\x01", "transfer");
    REFUSED("\x92\x05\x01", "has 2 fields, expected 7");
    REFUSED("\x97\x05\x01\x01\x02\xa1x\x00\x00", "'term' is not");
    REFUSED("\x97\x05\x01\x00\x02\x01\x00\x00", "not a node id");
    REFUSED("\x97\x05\x01\x02\x02\x01\x00\x00", "to itself");
    REFUSED("\x97\x05\x01\x01\x02\x01\x00\x00\x00", "trailing");
    REFUSED("\x81\x01\x01", "map");
    REFUSED("\x92\x05\xcb\x00\x00\x00\x00\x00\x00\x00\x00", "unsupported");
    REFUSED("\x91\x91\x91\x91\x91\x01", "nested too deeply");
    /* entries: wrong arity, a key that is a str, lsn gap */
    REFUSED("\x99\x05\x05\x01\x02\x01\x00\x00\x00\x91\x93\x01\x01\x00",
            "not a 5-array");
    REFUSED("\x99\x05\x05\x01\x02\x01\x00\x00\x00\x91\x95\x01\x01\x00\xa1k"
            "\xc4\x00",
            "entry.key");
    REFUSED("\x99\x05\x05\x01\x02\x01\x00\x00\x00\x91\x95\x02\x01\x00\xc4\x00"
            "\xc4\x00",
            "expected 1");
}

Test(codec, oversized_frame_is_refused_by_the_reader)
{
    struct net_reader r;
    net_reader_init(&r, 1024);
    /* 1025 bytes declared, and a 64 KiB chunk behind the prefix: only the
     * prefix is kept */
    static char chunk[64 * 1024] = {0, 0, 0x04, 0x01};
    cr_assert_eq(net_reader_feed(&r, chunk, sizeof(chunk)), NET_ETOOBIG);
    cr_assert_eq(r.len, 4);
    struct net_frame f;
    char err[128];
    cr_assert_eq(net_reader_next(&r, &f, err, sizeof(err)), NET_ETOOBIG);
    cr_assert(strstr(err, "over the 1024-byte limit"), "%s", err);
    /* and no more bytes are buffered for it */
    cr_assert_eq(net_reader_feed(&r, "xx", 2), NET_ETOOBIG);
    cr_assert_eq(r.len, 4);
    net_reader_free(&r);
    /* the prefix split over two reads is refused as soon as it is whole */
    net_reader_init(&r, 1024);
    cr_assert_eq(net_reader_feed(&r, chunk, 2), NET_OK);
    cr_assert_eq(net_reader_feed(&r, chunk + 2, 1000), NET_ETOOBIG);
    cr_assert_eq(r.len, 4);
    net_reader_free(&r);
}

Test(codec, encoder_refuses_a_frame_over_the_limit)
{
    static char big[60000];
    memset(big, 'v', sizeof(big));
    struct wal_payload *p = wal_payload_new("k", 1, big, sizeof(big));
    struct wal_entry e[2] = {{.lsn = 1, .term = 1, .payload = p},
                             {.lsn = 2, .term = 1, .payload = p}};
    struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2,
                         .term = 1, .n_entries = 2, .entries = e};
    struct net_buf b = {0};
    cr_assert_eq(net_encode_msg(&b, &m, 100000), NET_ETOOBIG);
    cr_assert_eq(b.len, 0, "a refused frame leaves nothing behind");
    cr_assert_eq(net_encode_msg(&b, &m, NET_FRAME_MAX_DEFAULT), NET_OK);
    net_buf_free(&b);
    wal_payload_unref(p);
}

/* ------------------------------------------------------------------ */
/* InstallSnapshot (protocol version 4) */

static struct raft_msg snap_chunk(uint64_t off, const char *data,
                                  uint64_t total, bool done)
{
    struct raft_msg m = {.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 3,
                         .term = 7, .last_lsn = 500, .last_term = 6,
                         .snap_offset = off, .snap_total = total,
                         .snap_done = done, .n_entries = 1};
    m.entries = calloc(1, sizeof(*m.entries));
    m.entries[0].payload = wal_payload_new("", 0, data, strlen(data));
    return m;
}

Test(codec, snapshot_chunk_and_its_answer_round_trip)
{
    struct raft_msg m = snap_chunk(4, "bytes\0x", 12, false);
    struct raft_msg d = roundtrip(&m);
    cr_assert_eq(d.type, RAFT_MSG_SNAPSHOT);
    cr_assert_eq(d.last_lsn, 500);
    cr_assert_eq(d.last_term, 6);
    cr_assert_eq(d.snap_offset, 4);
    cr_assert_eq(d.snap_total, 12);
    cr_assert(!d.snap_done);
    cr_assert_eq(d.n_entries, 1);
    cr_assert_eq(d.entries[0].payload->value_len, 5);
    cr_assert_str_eq(wal_payload_value(d.entries[0].payload), "bytes");
    raft_msg_free(&d);
    raft_msg_free(&m);

    struct raft_msg r = {.type = RAFT_MSG_SNAPSHOT_RESP, .from = 3, .to = 1,
                         .term = 7, .last_lsn = 500, .success = true,
                         .match_lsn = 500, .snap_offset = 9};
    d = roundtrip(&r);
    cr_assert_eq(d.last_lsn, 500);
    cr_assert(d.success);
    cr_assert_eq(d.match_lsn, 500);
    cr_assert_eq(d.snap_offset, 9);
}

Test(codec, snapshot_frames_outside_their_snapshot_are_refused)
{
    char err[128];
    struct {
        uint64_t off, total;
        bool done;
        const char *data, *reason;
    } bad[] = {
        {10, 12, false, "abc", "outside a snapshot"}, /* past the total */
        {13, 12, false, "", "outside a snapshot"},
        {0, 3, false, "abc", "done flag"},     /* ends it, says not done */
        {0, 12, true, "abc", "done flag"},     /* says done too early */
        {0, (uint64_t)RAFT_SNAPSHOT_MAX + 1, false, "abc", "at most"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct raft_msg m = snap_chunk(bad[i].off, bad[i].data, bad[i].total,
                                       bad[i].done);
        struct net_buf b = {0};
        cr_assert_eq(net_encode_msg(&b, &m, NET_FRAME_MAX_DEFAULT), NET_OK);
        cr_assert_eq(decode(b.data + 4, b.len - 4, err), NET_EPROTO, "%zu", i);
        cr_assert(strstr(err, bad[i].reason), "%zu: %s", i, err);
        net_buf_free(&b);
        raft_msg_free(&m);
    }
    /* a snapshot of lsn 0 */
    struct raft_msg m = snap_chunk(0, "abc", 3, true);
    m.last_lsn = 0;
    struct net_buf b = {0};
    cr_assert_eq(net_encode_msg(&b, &m, NET_FRAME_MAX_DEFAULT), NET_OK);
    cr_assert_eq(decode(b.data + 4, b.len - 4, err), NET_EPROTO);
    cr_assert(strstr(err, "lsn 0"), "%s", err);
    net_buf_free(&b);
    raft_msg_free(&m);
    /* an encoder asked for a chunkless snapshot frame refuses it */
    struct raft_msg none = {.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 2,
                            .term = 1, .last_lsn = 1, .last_term = 1};
    cr_assert_eq(net_encode_msg(&b, &none, NET_FRAME_MAX_DEFAULT), NET_EPROTO);
    cr_assert_eq(b.len, 0);
    net_buf_free(&b);
    /* too few fields */
    REFUSED("\x92\x05\x08", "has 2 fields, expected 11");
    REFUSED("\x92\x05\x09", "has 2 fields, expected 9");
}
