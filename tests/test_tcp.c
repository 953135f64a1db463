/*
 * test_tcp.c — the libuv TCP transport (net/tcp.c) on 127.0.0.1 with
 * ephemeral ports: delivery of every message type, loss before connect,
 * reconnect to a restarted peer, refused handshakes, hostile byte streams,
 * pause/resume, the bounded outbound queue, back-off, and a clean loop
 * after close.  Every wait runs the loop with a 5 ms watchdog timer and a
 * wall-clock deadline, so no test can hang.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/auth.h"
#include "net/tcp.h"
#include "tests/rawpeer.h"

#define MAXN 3
#define MAXMSG 512
#define MAXLOG 64

struct tnode {
    int id;
    struct net_node *net;
    int port;
    struct raft_msg msgs[MAXMSG];
    int n_msgs;
    char logs[MAXLOG][320];
    int n_logs;
    int pause_after; /* on_msg pauses the node after this many (0: never) */
    int closed;      /* close's done() calls */
    bool close_in_msg; /* on_msg closes the node */
};

static uv_loop_t loop;
static uv_timer_t tick;
static struct tnode nodes[MAXN + 1];

static void tick_cb(uv_timer_t *t)
{
    (void)t; /* only there so that UV_RUN_ONCE never blocks for long */
}

static void closed(void *ctx);

static void on_msg(void *ctx, struct raft_msg *m)
{
    struct tnode *t = ctx;
    if (t->n_msgs < MAXMSG)
        t->msgs[t->n_msgs++] = *m; /* take the entries */
    else
        raft_msg_free(m);
    if (t->pause_after && t->n_msgs == t->pause_after)
        net_node_pause(t->net);
    if (t->close_in_msg && !t->closed)
        net_node_close(t->net, closed, t);
}

static void on_log(void *ctx, int level, const char *line)
{
    struct tnode *t = ctx;
    if (getenv("TCP_TEST_VERBOSE"))
        fprintf(stderr, "[%d] %s\n", level, line);
    snprintf(t->logs[t->n_logs % MAXLOG], sizeof(t->logs[0]), "%s", line);
    t->n_logs++;
}

static bool logged(int id, const char *needle)
{
    struct tnode *t = &nodes[id];
    int n = t->n_logs < MAXLOG ? t->n_logs : MAXLOG;
    for (int i = 0; i < n; i++)
        if (strstr(t->logs[i], needle))
            return true;
    return false;
}

static void setup(void)
{
    memset(nodes, 0, sizeof(nodes));
    cr_assert_eq(uv_loop_init(&loop), 0);
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, tick_cb, 5, 5);
}

TestSuite(tcp, .init = setup, .timeout = 30);

/* Run the loop until pred holds or ms pass; returns pred. */
static bool run_until(bool (*pred)(void *), void *arg, uint64_t ms)
{
    uint64_t end = uv_hrtime() + ms * 1000000u;
    for (int k = 0; k < 1000000; k++) {
        if (pred && pred(arg))
            return true;
        if (uv_hrtime() >= end)
            break;
        uv_run(&loop, UV_RUN_ONCE);
    }
    return pred && pred(arg);
}

static void run_for(uint64_t ms)
{
    run_until(NULL, NULL, ms);
}

static const char KEY[] = "the test cluster's key, 36 bytes...";
#define KEY_LEN (sizeof(KEY) - 1)

static struct net_node_config config(int id, int n_nodes, const char *cluster)
{
    struct net_node_config c;
    memset(&c, 0, sizeof(c));
    c.cluster_id = cluster;
    c.key = (const unsigned char *)KEY;
    c.key_len = KEY_LEN;
    c.id = id;
    c.n_nodes = n_nodes;
    c.reconnect_min_ms = 10;
    c.reconnect_max_ms = 100;
    c.on_msg = on_msg;
    c.on_log = on_log;
    c.ctx = &nodes[id];
    return c;
}

static void start_cfg(struct net_node_config *c)
{
    struct tnode *t = &nodes[c->id];
    t->id = c->id;
    int rc = net_node_start(&loop, c, &t->net);
    cr_assert_eq(rc, 0, "net_node_start n%d: %s", c->id, uv_strerror(rc));
    t->port = net_node_port(t->net);
    cr_assert_gt(t->port, 0);
}

static void start(int id, int n_nodes)
{
    struct net_node_config c = config(id, n_nodes, "test");
    start_cfg(&c);
}

static void link_to(int from, int to)
{
    net_node_set_peer(nodes[from].net, to, "127.0.0.1", nodes[to].port);
}

static void closed(void *ctx)
{
    struct tnode *t = ctx;
    t->closed++;
    net_node_free(t->net);
    t->net = NULL;
}

static bool is_closed(void *arg)
{
    return ((struct tnode *)arg)->closed > 0;
}

static void stop(int id)
{
    struct tnode *t = &nodes[id];
    t->closed = 0;
    net_node_close(t->net, closed, t);
    cr_assert(run_until(is_closed, t, 3000), "n%d did not close", id);
    cr_assert_eq(t->closed, 1);
}

static void forget_msgs(int id)
{
    for (int i = 0; i < nodes[id].n_msgs; i++)
        raft_msg_free(&nodes[id].msgs[i]);
    nodes[id].n_msgs = 0;
}

/* Close everything; the loop must then close with no handle left. */
static void finish(void)
{
    for (int i = 1; i <= MAXN; i++) {
        if (nodes[i].net)
            stop(i);
        forget_msgs(i);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    for (int k = 0; k < 1000 && uv_loop_alive(&loop); k++)
        uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_eq(uv_loop_close(&loop), 0, "handles left open");
}

static struct raft_msg msg(int type, int from, int to, uint64_t term)
{
    struct raft_msg m;
    memset(&m, 0, sizeof(m));
    m.type = (uint8_t)type;
    m.from = from;
    m.to = to;
    m.term = term;
    return m;
}

struct pair {
    int from, to;
};

static bool pair_connected(void *arg)
{
    struct pair *p = arg;
    return net_node_connected(nodes[p->from].net, p->to);
}

/* The first send dials (and is dropped); wait for the connection. */
static void connect_pair(int from, int to)
{
    struct raft_msg m = msg(RAFT_MSG_APPEND_RESP, from, to, 0);
    net_node_send(nodes[from].net, &m);
    struct pair p = {from, to};
    cr_assert(run_until(pair_connected, &p, 3000), "n%d -> n%d", from, to);
}

struct count {
    int id, n;
};

static bool has_msgs(void *arg)
{
    struct count *c = arg;
    return nodes[c->id].n_msgs >= c->n;
}

static bool await_msgs(int id, int n, uint64_t ms)
{
    struct count c = {id, n};
    return run_until(has_msgs, &c, ms);
}

/* An APPEND with three entries (data, no-op, data). */
static struct raft_msg append(int from, int to, uint64_t term)
{
    struct raft_msg m = msg(RAFT_MSG_APPEND, from, to, term);
    m.prev_lsn = 10;
    m.prev_term = term - 1;
    m.commit_lsn = 9;
    m.n_entries = 3;
    m.entries = calloc(3, sizeof(*m.entries));
    char key[32], val[64];
    snprintf(key, sizeof(key), "k%d-%d", from, to);
    snprintf(val, sizeof(val), "value from n%d to n%d, term %llu", from, to,
             (unsigned long long)term);
    for (int i = 0; i < 3; i++) {
        m.entries[i].lsn = 11 + (uint64_t)i;
        m.entries[i].term = term;
        m.entries[i].type = i == 1 ? WAL_ENTRY_NOOP : WAL_ENTRY_DATA;
        if (i != 1)
            m.entries[i].payload =
                wal_payload_new(key, strlen(key), val, strlen(val));
    }
    return m;
}

static void check_same(const struct raft_msg *a, const struct raft_msg *b)
{
    cr_assert_eq(a->type, b->type);
    cr_assert_eq(a->from, b->from);
    cr_assert_eq(a->to, b->to);
    cr_assert_eq(a->term, b->term);
    cr_assert_eq(a->last_term, b->last_term);
    cr_assert_eq(a->last_lsn, b->last_lsn);
    cr_assert_eq(a->granted, b->granted);
    cr_assert_eq(a->transfer, b->transfer);
    cr_assert_eq(a->prev_lsn, b->prev_lsn);
    cr_assert_eq(a->prev_term, b->prev_term);
    cr_assert_eq(a->commit_lsn, b->commit_lsn);
    cr_assert_eq(a->success, b->success);
    cr_assert_eq(a->match_lsn, b->match_lsn);
    cr_assert_eq(a->reject_lsn, b->reject_lsn);
    cr_assert_eq(a->hint_lsn, b->hint_lsn);
    cr_assert_eq(a->hint_term, b->hint_term);
    cr_assert_eq(a->snap_offset, b->snap_offset);
    cr_assert_eq(a->snap_total, b->snap_total);
    cr_assert_eq(a->snap_done, b->snap_done);
    cr_assert_eq(a->n_entries, b->n_entries);
    for (uint32_t i = 0; i < a->n_entries; i++) {
        const struct wal_entry *x = &a->entries[i], *y = &b->entries[i];
        cr_assert_eq(x->lsn, y->lsn);
        cr_assert_eq(x->term, y->term);
        cr_assert_eq(x->type, y->type);
        cr_assert_eq(!x->payload, !y->payload);
        if (!x->payload)
            continue;
        cr_assert_eq(x->payload->key_len, y->payload->key_len);
        cr_assert_eq(x->payload->value_len, y->payload->value_len);
        cr_assert_str_eq(wal_payload_key(x->payload),
                         wal_payload_key(y->payload));
        cr_assert_str_eq(wal_payload_value(x->payload),
                         wal_payload_value(y->payload));
    }
}

/* One message of the given type with every field of that type set. */
static struct raft_msg sample(int type, int from, int to)
{
    uint64_t t = (uint64_t)(from * 100 + to * 10 + type);
    if (type == RAFT_MSG_APPEND)
        return append(from, to, t);
    struct raft_msg m = msg(type, from, to, t);
    switch (type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        m.last_term = t - 1;
        m.last_lsn = 1000 + t;
        m.granted = type == RAFT_MSG_VOTE_RESP;
        m.transfer = type == RAFT_MSG_VOTE && from == 2;
        break;
    case RAFT_MSG_APPEND_RESP:
        m.success = from == 2;
        m.match_lsn = 7;
        m.reject_lsn = 8;
        m.hint_lsn = 5;
        m.hint_term = 3;
        break;
    case RAFT_MSG_SNAPSHOT:
        m.last_lsn = 40 + t;
        m.last_term = t - 1;
        m.snap_offset = 3;
        m.snap_total = 3 + 5;
        m.snap_done = true;
        m.n_entries = 1;
        m.entries = calloc(1, sizeof(*m.entries));
        m.entries[0].payload = wal_payload_new("", 0, "chunk", 5);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        m.last_lsn = 40 + t;
        m.success = from == 2;
        m.match_lsn = 40 + t;
        m.snap_offset = 6;
        break;
    }
    return m;
}

/* every type from each of the two peers */
#define PER_NODE (2 * RAFT_MSG_TYPE_MAX)

Test(tcp, three_nodes_exchange_every_message_type)
{
    for (int i = 1; i <= 3; i++)
        start(i, 3);
    for (int i = 1; i <= 3; i++)
        for (int j = 1; j <= 3; j++)
            if (i != j) {
                link_to(i, j);
                connect_pair(i, j);
            }
    for (int i = 1; i <= 3; i++)
        for (int j = 1; j <= 3; j++)
            for (int t = RAFT_MSG_PREVOTE; t <= RAFT_MSG_TYPE_MAX && i != j;
                 t++) {
                struct raft_msg m = sample(t, i, j);
                cr_assert_eq(net_node_send(nodes[i].net, &m), 0);
                raft_msg_free(&m);
            }
    for (int j = 1; j <= 3; j++) {
        cr_assert(await_msgs(j, PER_NODE, 3000), "n%d got %d", j, nodes[j].n_msgs);
        run_for(20);
        cr_assert_eq(nodes[j].n_msgs, PER_NODE, "nothing extra arrives");
        int next[4] = {0, RAFT_MSG_PREVOTE, RAFT_MSG_PREVOTE,
                       RAFT_MSG_PREVOTE};
        for (int k = 0; k < PER_NODE; k++) {
            const struct raft_msg *got = &nodes[j].msgs[k];
            cr_assert_eq(got->to, j);
            /* in order per sender */
            cr_assert_eq(got->type, next[got->from]++);
            struct raft_msg want = sample(got->type, got->from, j);
            check_same(got, &want);
            raft_msg_free(&want);
        }
        const struct net_stats *s = net_node_stats(nodes[j].net);
        cr_assert_eq(s->frames_received, PER_NODE);
        cr_assert_eq(s->frames_sent, PER_NODE);
        cr_assert_eq(s->connects, 2);
        cr_assert_eq(s->refused + s->bad_frames, 0);
    }
    finish();
}

Test(tcp, sends_before_connect_are_dropped_then_delivered)
{
    start(1, 2);
    start(2, 2);
    link_to(1, 2);
    struct raft_msg m = msg(RAFT_MSG_VOTE, 1, 2, 5);
    cr_assert_eq(net_node_send(nodes[1].net, &m), UV_ENOTCONN);
    cr_assert_eq(net_node_stats(nodes[1].net)->dropped_unconnected, 1);
    struct pair p = {1, 2};
    cr_assert(run_until(pair_connected, &p, 3000));
    m.term = 6;
    cr_assert_eq(net_node_send(nodes[1].net, &m), 0);
    cr_assert(await_msgs(2, 1, 3000));
    cr_assert_eq(nodes[2].msgs[0].term, 6, "the dropped one never arrives");
    /* bad addressees are refused, not sent */
    m.to = 1;
    cr_assert_eq(net_node_send(nodes[1].net, &m), UV_EINVAL);
    m.to = 3;
    cr_assert_eq(net_node_send(nodes[1].net, &m), UV_EINVAL);
    finish();
}

static bool got_term(void *arg)
{
    struct count *c = arg;
    for (int i = 0; i < nodes[c->id].n_msgs; i++)
        if (nodes[c->id].msgs[i].term == (uint64_t)c->n)
            return true;
    return false;
}

/* Keep sending term `term` from -> to every 10 ms until it arrives. */
static bool send_until_delivered(int from, int to, uint64_t term,
                                 uint64_t ms)
{
    struct count c = {to, (int)term};
    for (uint64_t waited = 0; waited < ms; waited += 10) {
        struct raft_msg m = msg(RAFT_MSG_APPEND_RESP, from, to, term);
        net_node_send(nodes[from].net, &m);
        if (run_until(got_term, &c, 10))
            return true;
    }
    return false;
}

Test(tcp, restarted_peer_on_the_same_port_is_reconnected)
{
    start(1, 2);
    start(2, 2);
    link_to(1, 2);
    cr_assert(send_until_delivered(1, 2, 1, 3000));
    int port = nodes[2].port;
    stop(2);
    forget_msgs(2);
    struct net_node_config c = config(2, 2, "test");
    c.port = port;
    start_cfg(&c);
    cr_assert_eq(nodes[2].port, port);
    cr_assert(send_until_delivered(1, 2, 2, 3000), "no reconnect");
    const struct net_stats *s = net_node_stats(nodes[1].net);
    cr_assert_geq(s->disconnects, 1);
    cr_assert_geq(s->connects, 2);
    cr_assert(logged(1, "closed by the peer"));
    finish();
}

/* net_node_connect keeps a peer connected without any send: a dial that
 * fails (the peer is down) and a link that is lost are dialed again with
 * the back-off, so when the peer listens again the connection is there
 * before the first frame to it (a vote reply after a failover would
 * otherwise be dropped to open it). */
Test(tcp, kept_peer_is_redialed_while_down_without_a_send)
{
    start(1, 2);
    start(2, 2);
    link_to(1, 2);
    net_node_connect(nodes[1].net, 2);
    struct pair p = {1, 2};
    cr_assert(run_until(pair_connected, &p, 3000), "no eager connection");
    int port = nodes[2].port;
    stop(2);
    forget_msgs(2);
    /* long enough for the redials of the lost link to fail (back-off
     * 10 ms doubling to 100 ms): the peer is down, nothing is sent */
    run_for(300);
    cr_assert(!net_node_connected(nodes[1].net, 2));
    struct net_node_config c = config(2, 2, "test");
    c.port = port;
    start_cfg(&c);
    cr_assert_eq(nodes[2].port, port);
    cr_assert(run_until(pair_connected, &p, 3000),
              "not reconnected without a send");
    cr_assert_eq(net_node_stats(nodes[1].net)->dropped_unconnected, 0);
    struct raft_msg m = msg(RAFT_MSG_VOTE_RESP, 1, 2, 7);
    cr_assert_eq(net_node_send(nodes[1].net, &m), 0, "the first frame goes");
    cr_assert(await_msgs(2, 1, 3000));
    cr_assert_eq(nodes[2].msgs[0].term, 7);
    finish();
}

Test(tcp, wrong_cluster_is_refused_and_the_node_keeps_working)
{
    struct net_node_config c1 = config(1, 3, "alpha");
    struct net_node_config c2 = config(2, 3, "beta");
    struct net_node_config c3 = config(3, 3, "alpha");
    start_cfg(&c1);
    start_cfg(&c2);
    start_cfg(&c3);
    link_to(2, 1);
    link_to(3, 1);
    for (int k = 0; k < 300 && !logged(1, "cluster"); k++) {
        struct raft_msg m = msg(RAFT_MSG_VOTE, 2, 1, 9);
        net_node_send(nodes[2].net, &m);
        run_for(10);
    }
    cr_assert(logged(1, "cluster id 'beta' is not ours"));
    cr_assert(send_until_delivered(3, 1, 77, 3000));
    for (int i = 0; i < nodes[1].n_msgs; i++)
        cr_assert_eq(nodes[1].msgs[i].from, 3, "nothing from the impostor");
    cr_assert_geq(net_node_stats(nodes[1].net)->refused, 1);
    finish();
}

/* ---- raw clients: a blocking socket speaking bytes at the node ---- */

static void pump(void *ctx)
{
    (void)ctx;
    uv_run(&loop, UV_RUN_ONCE); /* the 5 ms tick bounds it */
}

static void peer(struct raw_peer *r, int id, const char *cluster, int from,
                 int to)
{
    raw_open(r, nodes[id].port, cluster, from, to, pump, NULL);
}

/* The node must hang up on r and log `reason`. */
static void expect_hangup(struct raw_peer *r, int id, const char *reason)
{
    cr_assert(raw_await_close(r, 3000), "not disconnected (%s)", reason);
    cr_assert(logged(id, reason), "no log containing '%s'", reason);
    raw_close(r);
}

static void raw_plain_msg(struct raw_peer *r, const struct raft_msg *m)
{
    struct net_buf b = {0};
    cr_assert_eq(net_encode_msg(&b, m, NET_FRAME_MAX_DEFAULT), NET_OK);
    raw_write(r, b.data, b.len);
    net_buf_free(&b);
}

Test(tcp, handshake_rules_are_enforced)
{
    start(1, 3);
    struct raw_peer r;
    peer(&r, 1, "test", 2, 3);
    raw_send_hello(&r);
    expect_hangup(&r, 1, "addressed to n3, we are n1");
    peer(&r, 1, "test", 9, 1);
    raw_send_hello(&r);
    expect_hangup(&r, 1, "not in this 3-node cluster");
    peer(&r, 1, "test", 1, 1);
    raw_send_hello(&r);
    expect_hangup(&r, 1, "from ourselves");
    peer(&r, 1, "test", 2, 1);
    struct raft_msg m = msg(RAFT_MSG_VOTE, 2, 1, 1);
    raw_plain_msg(&r, &m);
    expect_hangup(&r, 1, "first frame is vote, not HELLO");
    peer(&r, 1, "test", 2, 1);
    raw_send_hello(&r);
    raw_send_hello(&r);
    expect_hangup(&r, 1, "HELLO before the peer proved the cluster key");
    peer(&r, 1, "test", 2, 1);
    cr_assert(raw_handshake(&r, KEY, KEY_LEN));
    m.from = 3;
    raw_send_msg(&r, &m);
    expect_hangup(&r, 1, "message n3->n1 on the n2->n1 connection");
    /* a well-behaved raw peer is served */
    peer(&r, 1, "test", 3, 1);
    cr_assert(raw_handshake(&r, KEY, KEY_LEN));
    raw_send_msg(&r, &m);
    cr_assert(await_msgs(1, 1, 3000));
    cr_assert_eq(nodes[1].msgs[0].from, 3);
    raw_close(&r);
    const struct net_stats *s = net_node_stats(nodes[1].net);
    cr_assert_eq(s->refused, 4);
    cr_assert_eq(s->auth_failed, 1);
    cr_assert_eq(s->bad_frames, 1);
    cr_assert_eq(s->accepts, 7);
    finish();
}

Test(tcp, malformed_frames_disconnect_while_others_are_served)
{
    start(1, 3);
    start(2, 3);
    link_to(2, 1);
    uint64_t term = 100;
    cr_assert(send_until_delivered(2, 1, term++, 3000));
    struct raw_peer r;

    /* a body that is not msgpack at all */
    peer(&r, 1, "test", 3, 1);
    raw_write(&r, "\0\0\0\3\xc1\xc1\xc1", 7);
    expect_hangup(&r, 1, "unsupported msgpack type 0xc1");
    cr_assert(send_until_delivered(2, 1, term++, 3000));

    /* a length prefix far over the limit: refused before buffering, and
     * before the handshake the limit is a small one */
    peer(&r, 1, "test", 3, 1);
    raw_write(&r, "\xff\xff\xff\xff" "abcdefgh", 12);
    expect_hangup(&r, 1, "frame of 4294967295 bytes is over the 1024-byte");
    cr_assert(send_until_delivered(2, 1, term++, 3000));

    /* after the handshake, a frame declaring a 4-billion-element array */
    peer(&r, 1, "test", 3, 1);
    cr_assert(raw_handshake(&r, KEY, KEY_LEN));
    raw_send_sealed(&r, "\xdd\xff\xff\xff\xff\x01\x02\x03", 8, false);
    expect_hangup(&r, 1, "array declares 4294967295 elements");
    cr_assert(send_until_delivered(2, 1, term++, 3000));

    /* a valid frame cut short, then EOF */
    peer(&r, 1, "test", 3, 1);
    cr_assert(raw_handshake(&r, KEY, KEY_LEN));
    raw_write(&r, "\0\0\0\x40\x97", 5);
    shutdown(r.fd, SHUT_WR);
    expect_hangup(&r, 1, "mid-frame");

    const struct net_stats *s = net_node_stats(nodes[1].net);
    cr_assert_eq(s->refused, 2);
    cr_assert_eq(s->bad_frames, 1);
    cr_assert(send_until_delivered(2, 1, term++, 3000));
    finish();
}

static bool in_order(int id, int n)
{
    for (int i = 0; i < n; i++)
        if (nodes[id].msgs[i].term != (uint64_t)i + 1)
            return false;
    return true;
}

Test(tcp, pause_holds_delivery_and_resume_delivers_the_backlog_in_order)
{
    start(1, 2);
    start(2, 2);
    link_to(1, 2);
    connect_pair(1, 2);
    net_node_pause(nodes[2].net);
    for (int i = 1; i <= 200; i++) {
        struct raft_msg m = msg(RAFT_MSG_APPEND_RESP, 1, 2, (uint64_t)i);
        cr_assert_eq(net_node_send(nodes[1].net, &m), 0);
    }
    run_for(100);
    cr_assert_eq(nodes[2].n_msgs, 0, "delivered while paused");
    /* pause again from inside delivery: frames already read wait too */
    nodes[2].pause_after = 50;
    net_node_resume(nodes[2].net);
    cr_assert(await_msgs(2, 50, 3000));
    run_for(50);
    cr_assert_eq(nodes[2].n_msgs, 50, "delivered while paused");
    nodes[2].pause_after = 0;
    net_node_resume(nodes[2].net);
    cr_assert(await_msgs(2, 200, 3000), "got %d", nodes[2].n_msgs);
    cr_assert(in_order(2, 200));
    finish();
}

Test(tcp, a_peer_that_stops_reading_gets_closed_not_buffered)
{
    struct net_node_config c1 = config(1, 2, "test");
    c1.max_queue_bytes = 64 * 1024;
    start_cfg(&c1);
    start(2, 2);
    link_to(1, 2);
    connect_pair(1, 2);
    net_node_pause(nodes[2].net);
    /* ~900 KB APPENDs: 15 entries of 60000-byte values */
    static char big[60000];
    memset(big, 'x', sizeof(big));
    struct wal_payload *p = wal_payload_new("k", 1, big, sizeof(big));
    struct wal_entry e[15];
    for (int i = 0; i < 15; i++)
        e[i] = (struct wal_entry){.lsn = (uint64_t)i + 1, .term = 1,
                                  .type = WAL_ENTRY_DATA, .payload = p};
    int rc = 0, sends = 0;
    for (; sends < 400 && rc == 0; sends++) {
        struct raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 1);
        m.n_entries = 15;
        m.entries = e;
        rc = net_node_send(nodes[1].net, &m);
        cr_assert_leq(net_node_queued_bytes(nodes[1].net, 2),
                      64 * 1024 + NET_FRAME_MAX_DEFAULT + 4,
                      "the queue grew past its bound");
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    wal_payload_unref(p);
    cr_assert_eq(rc, UV_ENOBUFS, "never closed after %d sends", sends);
    const struct net_stats *s = net_node_stats(nodes[1].net);
    cr_assert_eq(s->dropped_queue_full, 1);
    cr_assert(logged(1, "stopped reading"));
    cr_assert_eq(net_node_queued_bytes(nodes[1].net, 2), 0);
    /* the reader wakes up: the backlog the kernel kept arrives, then the
     * link comes back after the (slow) back-off */
    net_node_resume(nodes[2].net);
    cr_assert(await_msgs(2, 1, 3000));
    cr_assert(send_until_delivered(1, 2, 42, 3000));
    cr_assert_geq(s->connects, 2);
    finish();
}

Test(tcp, dead_peer_is_redialed_with_backoff_and_only_while_sending)
{
    start(1, 2);
    start(2, 2);
    link_to(1, 2);
    stop(2); /* nothing listens on its port now */
    struct raft_msg m = msg(RAFT_MSG_VOTE, 1, 2, 1);
    cr_assert_eq(net_node_send(nodes[1].net, &m), UV_ENOTCONN);
    run_for(300);
    const struct net_stats *s = net_node_stats(nodes[1].net);
    cr_assert_eq(s->dials, 1, "no retry without sends");
    /* sends every 5 ms for 600 ms: delays 10, 20, 40, 80, 100, 100 ... */
    int sent = 1;
    for (int k = 0; k < 120; k++, sent++) {
        cr_assert_eq(net_node_send(nodes[1].net, &m), UV_ENOTCONN);
        run_for(5);
    }
    cr_assert_geq(s->dials, 4, "dials %llu", (unsigned long long)s->dials);
    cr_assert_leq(s->dials, 13, "dials %llu", (unsigned long long)s->dials);
    cr_assert_eq(s->dropped_unconnected, (uint64_t)sent);
    cr_assert_eq(s->connects, 0);
    finish();
}

static void count_done(void *ctx)
{
    (*(int *)ctx)++;
}

Test(tcp, start_errors_and_close_in_flight_leave_no_handles)
{
    struct net_node *n = NULL;
    struct net_node_config bad = config(4, 3, "test");
    cr_assert_eq(net_node_start(&loop, &bad, &n), UV_EINVAL);
    cr_assert_null(n);
    bad = config(1, 3, "test");
    bad.host = "not-an-address";
    cr_assert_eq(net_node_start(&loop, &bad, &n), UV_EINVAL);
    start(1, 2);
    start(2, 2);
    struct net_node_config dup = config(2, 2, "test");
    dup.port = nodes[1].port;
    int rc = net_node_start(&loop, &dup, &n);
    cr_assert_eq(rc, UV_EADDRINUSE, "%s", uv_strerror(rc));
    cr_assert_null(n);
    /* close with a dial in flight, an open link and a raw inbound peer */
    link_to(1, 2);
    link_to(2, 1);
    connect_pair(2, 1);
    struct raft_msg m = msg(RAFT_MSG_VOTE, 1, 2, 1);
    net_node_send(nodes[1].net, &m);
    struct raw_peer r;
    peer(&r, 2, "test", 1, 2);
    raw_send_hello(&r);
    run_for(5);
    int done = 0;
    net_node_close(nodes[1].net, count_done, &done);
    net_node_close(nodes[1].net, count_done, &done); /* idempotent */
    cr_assert_eq(net_node_send(nodes[1].net, &m), UV_ESHUTDOWN);
    for (int k = 0; k < 100 && !done; k++)
        uv_run(&loop, UV_RUN_ONCE);
    cr_assert_eq(done, 1);
    net_node_free(nodes[1].net);
    nodes[1].net = NULL;
    raw_close(&r);
    finish();
}

static int raw_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

Test(tcp, a_peer_that_resets_does_not_kill_the_sender)
{
    start(1, 2);
    int port, lfd = raw_listen(&port);
    net_node_set_peer(nodes[1].net, 2, "127.0.0.1", port);
    struct pair p = {1, 2};
    struct raft_msg m = msg(RAFT_MSG_VOTE, 1, 2, 1);
    net_node_send(nodes[1].net, &m);
    int fd = accept(lfd, NULL, NULL);
    cr_assert_geq(fd, 0);
    struct raw_peer r = {.fd = fd, .cluster_id = "test", .pump = pump};
    cr_assert(raw_accept(&r, KEY, KEY_LEN, 3000));
    cr_assert(run_until(pair_connected, &p, 3000));
    struct linger lg = {1, 0}; /* close with a reset */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    usleep(20000);
    /* write into the reset socket before the loop notices it */
    for (int i = 0; i < 50; i++)
        net_node_send(nodes[1].net, &m);
    run_for(50);
    cr_assert_eq(net_node_stats(nodes[1].net)->disconnects, 1);
    close(lfd);
    finish();
}

Test(tcp, closing_from_inside_delivery_is_safe)
{
    start(1, 2);
    start(2, 2);
    link_to(1, 2);
    connect_pair(1, 2);
    for (int i = 1; i <= 100; i++) {
        struct raft_msg m = append(1, 2, (uint64_t)i + 1);
        cr_assert_eq(net_node_send(nodes[1].net, &m), 0);
        raft_msg_free(&m);
    }
    nodes[2].close_in_msg = true;
    cr_assert(run_until(is_closed, &nodes[2], 3000));
    cr_assert_eq(nodes[2].n_msgs, 1, "nothing delivered after close");
    cr_assert_null(nodes[2].net);
    run_for(20);
    cr_assert_eq(nodes[2].closed, 1);
    finish();
}
