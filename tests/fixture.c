/*
 * fixture.c — see fixture.h.
 */
#include "tests/fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX_MAX_DELIVERIES 100000
#define FX_MAX_ROUNDS 100000
#define FX_MAX_ELECT_TRIES 50

struct fx *fx_alloc(int n, const struct raft_config *base)
{
    cr_assert(n >= 1 && n <= FX_MAX, "fixture supports 1..%d nodes", FX_MAX);
    struct fx *fx = calloc(1, sizeof(*fx));
    cr_assert(fx);
    fx->n = n;
    for (int i = 1; i <= n; i++) {
        if (base)
            fx->cfg[i] = *base;
        else
            raft_config_default(&fx->cfg[i], i, n);
        fx->cfg[i].id = i;
        fx->cfg[i].n_nodes = n;
        fx->cfg[i].seed = (uint64_t)i;
    }
    return fx;
}

void fx_set_election(struct fx *fx, int id, raft_time_t min, raft_time_t max)
{
    cr_assert(!fx->node[id], "set election timeouts before fx_start");
    fx->cfg[id].election_min_us = min;
    fx->cfg[id].election_max_us = max;
}

void fx_start(struct fx *fx)
{
    for (int i = 1; i <= fx->n; i++) {
        int rc = raft_node_new(&fx->cfg[i], fx->now, &fx->node[i]);
        cr_assert_eq(rc, RAFT_OK, "raft_node_new(%d) = %d", i, rc);
        fx_pump(fx, i);
    }
}

struct fx *fx_new(int n, const struct raft_config *base)
{
    struct fx *fx = fx_alloc(n, base);
    fx_start(fx);
    return fx;
}

void fx_free(struct fx *fx)
{
    if (!fx)
        return;
    for (size_t i = 0; i < fx->q_len; i++)
        raft_msg_free(&fx->q[(fx->q_head + i) % fx->q_cap]);
    free(fx->q);
    for (int i = 1; i <= fx->n; i++) {
        raft_node_free(fx->node[i]);
        free(fx->log[i]);
    }
    free(fx);
}

static void record(struct fx *fx, int id, const struct raft_event *ev)
{
    if (fx->n_log[id] == fx->cap_log[id]) {
        size_t cap = fx->cap_log[id] ? fx->cap_log[id] * 2 : 64;
        fx->log[id] = realloc(fx->log[id], cap * sizeof(*fx->log[id]));
        cr_assert(fx->log[id]);
        fx->cap_log[id] = cap;
    }
    struct fx_ev *e = &fx->log[id][fx->n_log[id]++];
    memset(e, 0, sizeof(*e));
    e->ev = *ev;
    e->ev.payload = NULL; /* only valid until raft_advance */
    e->at = fx->now;
    if (ev->payload) {
        snprintf(e->key, sizeof(e->key), "%s", wal_payload_key(ev->payload));
        snprintf(e->value, sizeof(e->value), "%s",
                 wal_payload_value(ev->payload));
    }
}

static void enqueue(struct fx *fx, const struct raft_msg *m)
{
    if (fx->q_len == fx->q_cap) {
        size_t cap = fx->q_cap ? fx->q_cap * 2 : 64;
        struct raft_msg *q = malloc(cap * sizeof(*q));
        cr_assert(q);
        for (size_t i = 0; i < fx->q_len; i++)
            q[i] = fx->q[(fx->q_head + i) % fx->q_cap];
        free(fx->q);
        fx->q = q;
        fx->q_head = 0;
        fx->q_cap = cap;
    }
    fx->q[(fx->q_head + fx->q_len++) % fx->q_cap] = *m;
}

/* One Ready batch at a time.  Events are copied and messages moved out
 * first; raft_persisted comes last, just before raft_advance, because it
 * may add outputs (and realloc the arrays rd points into).  Messages are
 * only delivered later by fx_deliver_*, so the WAL is always durable
 * before anything leaves (driver contract 1 in raft.h). */
void fx_pump(struct fx *fx, int id)
{
    struct raft_node *r = fx->node[id];
    for (int guard = 0; raft_has_ready(r); guard++) {
        cr_assert(guard < 1000, "node %d never runs out of Ready", id);
        struct raft_ready rd;
        raft_ready_get(r, &rd);
        for (size_t i = 0; i < rd.n_events; i++)
            record(fx, id, &rd.events[i]);
        for (size_t i = 0; i < rd.n_msgs; i++) {
            enqueue(fx, &rd.msgs[i]);
            rd.msgs[i].entries = NULL; /* moved */
            rd.msgs[i].n_entries = 0;
        }
        if (!fx->manual_flush[id])
            raft_persisted(r, fx->now, rd.persist_lsn);
        raft_advance(r);
    }
}

void fx_tick(struct fx *fx, int id, raft_time_t now)
{
    if (now > fx->now)
        fx->now = now;
    raft_tick(fx->node[id], fx->now);
    fx_pump(fx, id);
}

void fx_tick_all(struct fx *fx, raft_time_t now)
{
    for (int i = 1; i <= fx->n; i++)
        fx_tick(fx, i, now);
}

void fx_step(struct fx *fx, const struct raft_msg *m)
{
    raft_step(fx->node[m->to], fx->now, m);
    fx_pump(fx, m->to);
}

uint64_t fx_propose(struct fx *fx, int id, const char *key, const char *value)
{
    uint64_t lsn = 0;
    int rc = raft_propose(fx->node[id], fx->now, key, strlen(key), value,
                          strlen(value), &lsn);
    fx_pump(fx, id);
    return rc == RAFT_OK ? lsn : 0;
}

void fx_flush(struct fx *fx, int id)
{
    raft_persisted(fx->node[id], fx->now,
                   wal_last_lsn(raft_wal(fx->node[id])));
    fx_pump(fx, id);
}

void fx_crash(struct fx *fx, int id, bool lose_unflushed)
{
    raft_crash(fx->node[id], lose_unflushed);
    fx_pump(fx, id);
}

void fx_restart(struct fx *fx, int id)
{
    raft_restart(fx->node[id], fx->now);
    fx_pump(fx, id);
}

bool fx_deliver_one(struct fx *fx)
{
    if (!fx->q_len)
        return false;
    struct raft_msg m = fx->q[fx->q_head];
    fx->q_head = (fx->q_head + 1) % fx->q_cap;
    fx->q_len--;
    if (m.to < 1 || m.to > fx->n || fx->cut[m.from][m.to] ||
        raft_role(fx->node[m.to]) == RAFT_DOWN) {
        fx->dropped++;
    } else {
        fx->delivered++;
        fx_step(fx, &m);
    }
    raft_msg_free(&m);
    return true;
}

size_t fx_deliver_all(struct fx *fx)
{
    size_t k = 0;
    while (fx_deliver_one(fx))
        cr_assert(++k < FX_MAX_DELIVERIES, "network never goes quiet");
    return k;
}

void fx_cut(struct fx *fx, int from, int to) { fx->cut[from][to] = true; }

void fx_cut_pair(struct fx *fx, int a, int b)
{
    fx->cut[a][b] = fx->cut[b][a] = true;
}

void fx_isolate(struct fx *fx, int id)
{
    for (int j = 1; j <= fx->n; j++)
        if (j != id)
            fx_cut_pair(fx, id, j);
}

void fx_heal(struct fx *fx) { memset(fx->cut, 0, sizeof(fx->cut)); }

void fx_run(struct fx *fx, raft_time_t until)
{
    for (int round = 0;; round++) {
        cr_assert(round < FX_MAX_ROUNDS, "fx_run: too many rounds");
        raft_time_t d = UINT64_MAX;
        for (int i = 1; i <= fx->n; i++) {
            raft_time_t di = raft_next_deadline(fx->node[i]);
            if (di < d)
                d = di;
        }
        if (d > until)
            break;
        if (d > fx->now)
            fx->now = d;
        for (int i = 1; i <= fx->n; i++)
            if (raft_next_deadline(fx->node[i]) <= fx->now)
                fx_tick(fx, i, fx->now);
        fx_deliver_all(fx);
    }
    if (until > fx->now)
        fx->now = until;
}

bool fx_elect(struct fx *fx, int id)
{
    struct raft_node *r = fx->node[id];
    for (int t = 0; t < FX_MAX_ELECT_TRIES; t++) {
        if (raft_role(r) == RAFT_LEADER)
            return true;
        fx_tick(fx, id, raft_next_deadline(r));
        for (int k = 0; raft_role(r) != RAFT_LEADER && fx_deliver_one(fx);)
            cr_assert(++k < FX_MAX_DELIVERIES);
    }
    return raft_role(r) == RAFT_LEADER;
}

int fx_leader(const struct fx *fx)
{
    int best = 0;
    for (int i = 1; i <= fx->n; i++)
        if (raft_role(fx->node[i]) == RAFT_LEADER &&
            (!best || raft_term(fx->node[i]) > raft_term(fx->node[best])))
            best = i;
    return best;
}

int fx_n_leaders(const struct fx *fx)
{
    int c = 0;
    for (int i = 1; i <= fx->n; i++)
        c += raft_role(fx->node[i]) == RAFT_LEADER;
    return c;
}

size_t fx_mark(const struct fx *fx, int id) { return fx->n_log[id]; }

const struct fx_ev *fx_next(const struct fx *fx, int id, int kind,
                            size_t *pos)
{
    for (size_t i = *pos; i < fx->n_log[id]; i++) {
        if (!kind || fx->log[id][i].ev.kind == kind) {
            *pos = i + 1;
            return &fx->log[id][i];
        }
    }
    *pos = fx->n_log[id];
    return NULL;
}

int fx_count(const struct fx *fx, int id, int kind, size_t since)
{
    int c = 0;
    for (size_t i = since; i < fx->n_log[id]; i++)
        c += !kind || fx->log[id][i].ev.kind == kind;
    return c;
}

bool fx_logs_equal(const struct fx *fx, int a, int b)
{
    const struct wal *wa = raft_wal(fx->node[a]), *wb = raft_wal(fx->node[b]);
    if (wal_last_lsn(wa) != wal_last_lsn(wb))
        return false;
    /* compacted prefixes: compare from the higher snapshot on */
    uint64_t from = wa->base_lsn > wb->base_lsn ? wa->base_lsn : wb->base_lsn;
    if (from && wal_term_at(wa, from) != wal_term_at(wb, from))
        return false;
    for (uint64_t l = from + 1; l <= wal_last_lsn(wa); l++) {
        const struct wal_entry *x = wal_get(wa, l), *y = wal_get(wb, l);
        if (x->term != y->term || x->type != y->type ||
            strcmp(wal_payload_key(x->payload), wal_payload_key(y->payload)) ||
            strcmp(wal_payload_value(x->payload),
                   wal_payload_value(y->payload)))
            return false;
    }
    return true;
}

const char *fx_key_at(const struct fx *fx, int id, uint64_t lsn)
{
    const struct wal_entry *e = wal_get(raft_wal(fx->node[id]), lsn);
    return e ? wal_payload_key(e->payload) : NULL;
}
