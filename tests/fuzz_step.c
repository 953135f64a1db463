/*
 * fuzz_step.c — libFuzzer target for the core behind an authenticated
 * peer (make fuzz-step).
 *
 * A 3-node virtual-time cluster (sim/cluster) in which n3's own core is
 * down and n3's frames come from the input instead: n1 and n2 elect a
 * leader, take client writes, and receive whatever the fake n3 sends,
 * decoded by the wire codec exactly as over TCP.  The checker watches
 * every event.  A violation it reports is fine (a lying peer can make a
 * follower hold entries nobody else has); a crash, an assertion, a
 * sanitizer report, a hang (-timeout) or memory beyond the limits
 * (-rss_limit_mb, -malloc_limit_mb) is a bug.
 *
 * Input: records, each
 *     ctl:u8  len:u32be  body[len]
 * ctl & 0x7f: virtual milliseconds × 2 to run before the frame; ctl &
 * 0x80: a client write first.  body is one frame body (net/codec.h); its
 * `from` is forced to 3, its `to` to n1 or n2.  At most MAX_RECORDS
 * records and MAX_VIRTUAL_US of virtual time per input keep each run
 * short whatever the bytes say.
 *
 * Built with -DFUZZ_GEN_CORPUS it is instead a program that writes a seed
 * corpus (normal traffic of a third node, and the probe's frames from
 * issue 15) into the directory given as argument.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "net/codec.h"
#include "sim/cluster/cluster.h"

#define FAKE 3
#define MAX_RECORDS 256
#define MAX_VIRTUAL_US (60u * 1000000u)

#ifndef FUZZ_GEN_CORPUS
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sim_cluster *start(void)
{
    struct sim_options o;
    sim_options_default(&o, 3);
    o.seed = 7;
    o.n_clients = 1;
    struct sim_cluster *c;
    if (sim_cluster_new(&o, &c) != RAFT_OK)
        __builtin_trap();
    sim_crash(c, FAKE, false);
    /* n1 and n2 agree on a leader and hold a few entries, so that the
     * frames meet a log worth breaking. */
    sim_run_until(c, 1000000);
    for (int i = 0; i < 3; i++)
        sim_client_write(c, 1, 0, "k", "v");
    sim_run_until(c, 1500000);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_cluster *c = start();
    uint64_t end = sim_now(c) + MAX_VIRTUAL_US;
    size_t off = 0;
    int writes = 0;
    for (int rec = 0; rec < MAX_RECORDS && size - off >= 5; rec++) {
        uint8_t ctl = data[off];
        uint32_t len = (uint32_t)data[off + 1] << 24 |
                       (uint32_t)data[off + 2] << 16 |
                       (uint32_t)data[off + 3] << 8 | data[off + 4];
        off += 5;
        if (len > size - off)
            len = (uint32_t)(size - off);
        uint64_t t = sim_now(c) + (uint64_t)(ctl & 0x7f) * 2000;
        if (t > end)
            break;
        if (!sim_run_until(c, t))
            break; /* a violation stops the run: the fake peer lied */
        if (ctl & 0x80) {
            char key[16];
            snprintf(key, sizeof(key), "w%d", writes++);
            sim_client_write(c, 1, 0, key, "v");
        }
        struct net_frame f;
        char err[128];
        if (net_decode_body((const char *)data + off, len, &f, err,
                            sizeof(err)) == NET_OK &&
            f.type != NET_FRAME_HELLO) {
            f.msg.from = FAKE;
            f.msg.to = 1 + (f.msg.to & 1);
            if (sim_inject(c, &f.msg) != RAFT_OK)
                __builtin_trap();
            raft_msg_free(&f.msg);
        }
        off += len;
    }
    /* Let the consequences play out; then the end-of-run checks. */
    sim_run_until(c, sim_now(c) + 1000000);
    sim_finish(c);
    sim_cluster_free(c);
    return 0;
}
#else
static FILE *open_seed(const char *dir, int k)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/step-%02d", dir, k);
    FILE *f = fopen(path, "wb");
    if (!f)
        perror(path);
    return f;
}

static void record(FILE *f, uint8_t ctl, const struct raft_msg *m)
{
    struct net_buf b = {0};
    if (net_encode_msg(&b, m, NET_FRAME_MAX_DEFAULT) != NET_OK)
        return;
    fputc(ctl, f);
    fwrite(b.data, 1, b.len, f); /* the length prefix is the record's */
    net_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    struct wal_payload *p = wal_payload_new("k", 1, "v", 1);
    int k = 0;
    FILE *f;

    /* n3 campaigns: a pre-vote and a vote for term 2 to both. */
    if ((f = open_seed(argv[1], k++))) {
        for (int to = 1; to <= 2; to++) {
            struct raft_msg m = {.type = RAFT_MSG_PREVOTE, .from = 3,
                                 .to = to, .term = 2, .last_term = 1,
                                 .last_lsn = 4};
            record(f, 10, &m);
            m.type = RAFT_MSG_VOTE;
            record(f, 0, &m);
        }
        fclose(f);
    }
    /* n3 answers as a follower would: acks, rejections, vote replies. */
    if ((f = open_seed(argv[1], k++))) {
        for (int i = 0; i < 8; i++) {
            struct raft_msg m = {.type = RAFT_MSG_APPEND_RESP, .from = 3,
                                 .to = 1 + (i & 1), .term = 1,
                                 .success = i % 3 != 0, .match_lsn = 4,
                                 .reject_lsn = 3, .hint_lsn = 2};
            record(f, 0x80 | 25, &m);
            m.type = RAFT_MSG_PREVOTE_RESP;
            m.granted = true;
            m.term = 2;
            record(f, 5, &m);
        }
        fclose(f);
    }
    /* n3 acts as a leader of term 3: heartbeats and entries. */
    if ((f = open_seed(argv[1], k++))) {
        struct wal_entry e[2] = {{.lsn = 5, .term = 3, .payload = p},
                                 {.lsn = 6, .term = 3,
                                  .type = WAL_ENTRY_NOOP}};
        for (int i = 0; i < 6; i++) {
            struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 3,
                                 .to = 1 + (i & 1), .term = 3,
                                 .prev_lsn = 4, .prev_term = 1,
                                 .commit_lsn = 4, .n_entries = i & 2 ? 2 : 0,
                                 .entries = e};
            record(f, 25, &m);
        }
        fclose(f);
    }
    /* n3 forges a leadership transfer: TimeoutNow of the current term
     * (not its leader: rejected), of a higher one (adopted: campaigns),
     * and vote requests with the transfer flag past leader stickiness. */
    if ((f = open_seed(argv[1], k++))) {
        for (int i = 0; i < 6; i++) {
            struct raft_msg m = {.type = RAFT_MSG_TIMEOUT_NOW, .from = 3,
                                 .to = 1 + (i & 1), .term = 1 + (i >> 1)};
            record(f, 10, &m);
            struct raft_msg v = {.type = RAFT_MSG_VOTE, .from = 3,
                                 .to = 1 + (i & 1), .term = 2 + (i >> 1),
                                 .last_term = 1, .last_lsn = 4,
                                 .transfer = true};
            record(f, 5, &v);
        }
        fclose(f);
    }
    /* The probe's frames (issue 15). */
    if ((f = open_seed(argv[1], k++))) {
        struct wal_entry e[2] = {{.lsn = 1, .term = 999999, .payload = p},
                                 {.lsn = 2, .term = 1, .payload = p}};
        struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1,
                             .term = 1000000, .n_entries = 2, .entries = e};
        record(f, 0, &m);
        struct wal_entry evil = {.lsn = 1, .term = 500, .payload = p};
        struct raft_msg m2 = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1,
                              .term = 500, .commit_lsn = 1, .n_entries = 1,
                              .entries = &evil};
        record(f, 0, &m2);
        uint64_t terms[] = {UINT64_C(1) << 63, UINT64_MAX,
                            UINT64_C(1) << 29};
        for (int i = 0; i < 3; i++) {
            struct raft_msg h = {.type = RAFT_MSG_APPEND, .from = 3,
                                 .to = 2, .term = terms[i]};
            record(f, 100, &h);
        }
        fclose(f);
    }
    wal_payload_unref(p);
    return 0;
}
#endif
