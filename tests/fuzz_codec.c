/*
 * fuzz_codec.c — libFuzzer target for the wire decoder (make fuzz).
 *
 * Input bytes are fed to a net_reader as a TCP stream would deliver them,
 * cut into chunks whose sizes come from the input itself, and every frame
 * is also decoded directly.  Anything but a clean refusal is a bug: a
 * crash, a leak, a sanitizer report, or an allocation far beyond the
 * input size (libFuzzer's -rss_limit_mb / -malloc_limit_mb catch those).
 *
 * Built with -DFUZZ_GEN_CORPUS it is instead a program that writes a seed
 * corpus of valid frames into the directory given as argument.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "net/codec.h"

#ifndef FUZZ_GEN_CORPUS
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct net_frame f;
    char err[128];
    if (net_decode_body((const char *)data, size, &f, err, sizeof(err)) ==
        NET_OK)
        raft_msg_free(&f.msg);

    struct net_reader r;
    net_reader_init(&r, 64 * 1024);
    size_t off = 0, step = size ? (size_t)(data[0] % 61) + 1 : 1;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        if (net_reader_feed(&r, (const char *)data + off, n) != NET_OK)
            break;
        off += n;
        int rc;
        const char *body;
        size_t len;
        /* alternate the two ways the transport reads: decode at once, or
         * peek (a sealed frame: the tag is checked first) then decode */
        for (int k = 0;; k++) {
            if (k % 2 == 0) {
                rc = net_reader_next(&r, &f, err, sizeof(err));
            } else if ((rc = net_reader_peek(&r, &body, &len, err,
                                             sizeof(err))) == NET_OK) {
                rc = net_decode_body(body, len, &f, err, sizeof(err));
                net_reader_skip(&r);
            }
            if (rc != NET_OK)
                break;
            raft_msg_free(&f.msg);
        }
        if (rc != NET_EAGAIN)
            break; /* the transport closes the connection here */
    }
    net_reader_free(&r);
    return 0;
}
#else
static void emit(const char *dir, int k, const struct net_buf *b)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/frame-%02d", dir, k);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return;
    }
    fwrite(b->data, 1, b->len, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    int k = 0;
    struct net_buf b = {0};
    struct net_hello h = {.cluster_id = "raftsim", .from = 1, .to = 2,
                          .version = NET_PROTO_VERSION,
                          .nonce = "0123456789abcdef0123456789abcdef"};
    net_encode_hello(&b, &h);
    emit(argv[1], k++, &b);
    /* the rest of the handshake, and a keepalive */
    static const unsigned char blob[NET_NONCE_BYTES] = "a nonce or a proof, 32 bytes..";
    b.len = 0;
    net_encode_challenge(&b, blob, blob);
    emit(argv[1], k++, &b);
    b.len = 0;
    net_encode_auth(&b, blob);
    emit(argv[1], k++, &b);
    b.len = 0;
    net_encode_ping(&b);
    net_seal(&b, 0, blob, sizeof(blob)); /* as sent: body + tag */
    emit(argv[1], k++, &b);
    struct wal_payload *p = wal_payload_new("key", 3, "value", 5);
    struct wal_payload *conf =
        wal_payload_new("", 0, "voters=1,2 learners=3", 21);
    struct wal_entry e[3] = {{.lsn = 3, .term = 2, .payload = p},
                             {.lsn = 4, .term = 2, .type = WAL_ENTRY_NOOP},
                             {.lsn = 5, .term = 2, .type = WAL_ENTRY_CONFIG,
                              .payload = conf}};
    /* an InstallSnapshot chunk: bytes 4..9 of a 9-byte snapshot */
    struct wal_payload *chunk = wal_payload_new("", 0, "kv=1\n", 5);
    struct wal_entry ce = {.payload = chunk};
    for (int t = RAFT_MSG_PREVOTE; t <= RAFT_MSG_TYPE_MAX; t++) {
        struct raft_msg m = {.type = (uint8_t)t, .from = 1, .to = 2,
                             .term = 5, .last_term = 4, .last_lsn = 9,
                             .granted = true, .prev_lsn = 2, .prev_term = 1,
                             .commit_lsn = 2, .success = true,
                             .match_lsn = 4,
                             .transfer = t == RAFT_MSG_VOTE};
        if (t == RAFT_MSG_APPEND) {
            m.n_entries = 3;
            m.entries = e;
        }
        if (t == RAFT_MSG_SNAPSHOT) {
            m.n_entries = 1;
            m.entries = &ce;
            m.snap_offset = 4;
            m.snap_total = 9;
            m.snap_done = true;
        }
        if (t == RAFT_MSG_SNAPSHOT_RESP)
            m.snap_offset = 4;
        b.len = 0;
        net_encode_msg(&b, &m, NET_FRAME_MAX_DEFAULT);
        emit(argv[1], k++, &b);
        /* and the body alone, as net_decode_body sees it */
        struct net_buf body = {.data = b.data + 4, .len = b.len - 4};
        emit(argv[1], k++, &body);
    }
    wal_payload_unref(p);
    wal_payload_unref(chunk);
    wal_payload_unref(conf);
    net_buf_free(&b);
    return 0;
}
#endif
