/*
 * fixture.h — a tiny manual network for driving N raft_node objects
 * directly from a unit test.
 *
 * One virtual clock (fx->now, microseconds), one FIFO message queue, an
 * ordered-link "cut" matrix checked at delivery time (so cutting a link
 * also drops what is already in flight on it), and a per-node log of the
 * events each node emitted (copied: payload key/value are kept as
 * strings).  Nothing here runs on its own: a test ticks, proposes and
 * delivers explicitly, so every interleaving is the one the test wrote.
 *
 * Typical use:
 *     struct raft_config base;
 *     raft_config_default(&base, 1, 3);        // id/n_nodes are overridden
 *     struct fx *fx = fx_alloc(3, &base);     // configs only
 *     fx_set_election(fx, 3, MS(300), MS(300));
 *     fx_start(fx);                            // create the nodes
 *     cr_assert(fx_elect(fx, 1));
 *     uint64_t lsn = fx_propose(fx, 1, "k", "v");
 *     fx_deliver_all(fx);
 *     fx_free(fx);
 */
#ifndef RAFTSIM_TESTS_FIXTURE_H
#define RAFTSIM_TESTS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

#define FX_MAX 9
#define MS(x) ((raft_time_t)(x) * 1000u)

/* One recorded event: a copy of the raft_event (payload pointer cleared)
 * plus the payload's key and value, and the virtual time it was seen. */
struct fx_ev {
    struct raft_event ev;
    char key[64], value[64];
    raft_time_t at;
};

struct fx {
    int n;
    raft_time_t now;
    struct raft_config cfg[FX_MAX + 1];
    struct raft_node *node[FX_MAX + 1];
    bool cut[FX_MAX + 1][FX_MAX + 1]; /* cut[from][to]: drop */
    bool manual_flush[FX_MAX + 1];    /* pump does not call raft_persisted */
    struct raft_msg *q;               /* FIFO ring */
    size_t q_head, q_len, q_cap;
    struct fx_ev *log[FX_MAX + 1];
    size_t n_log[FX_MAX + 1], cap_log[FX_MAX + 1];
    uint64_t delivered, dropped;
};

/* Lifecycle.  base may be NULL (raft_config_default); cfg[i] gets id i.
 * fx_alloc only fills fx->cfg[]: adjust it, then fx_start.  fx_new does
 * both. */
struct fx *fx_alloc(int n, const struct raft_config *base);
void fx_set_election(struct fx *fx, int id, raft_time_t min, raft_time_t max);
void fx_start(struct fx *fx);
struct fx *fx_new(int n, const struct raft_config *base);
void fx_free(struct fx *fx);

/* Drive nodes.  Every call pumps the node(s) it touched. */
void fx_pump(struct fx *fx, int id);
void fx_tick(struct fx *fx, int id, raft_time_t now);
void fx_tick_all(struct fx *fx, raft_time_t now);
void fx_step(struct fx *fx, const struct raft_msg *m); /* inject */
uint64_t fx_propose(struct fx *fx, int id, const char *key,
                    const char *value); /* its lsn, 0 if refused */
void fx_flush(struct fx *fx, int id);   /* manual_flush nodes: flush all */
void fx_crash(struct fx *fx, int id, bool lose_unflushed);
void fx_restart(struct fx *fx, int id);

/* Network. */
bool fx_deliver_one(struct fx *fx); /* false: queue empty */
size_t fx_deliver_all(struct fx *fx);
void fx_cut(struct fx *fx, int from, int to);
void fx_cut_pair(struct fx *fx, int a, int b);
void fx_isolate(struct fx *fx, int id);
void fx_heal(struct fx *fx);

/* Time: tick every live node at its deadlines, delivering after each
 * round, until fx->now reaches `until`. */
void fx_run(struct fx *fx, raft_time_t until);
/* Make id leader: tick only id at its deadline and deliver until it leads
 * (stops right there: its first appends stay queued).  Bounded retries. */
bool fx_elect(struct fx *fx, int id);

/* Views and searches. */
int fx_leader(const struct fx *fx);    /* live leader of the highest term */
int fx_n_leaders(const struct fx *fx); /* live nodes in role leader */
size_t fx_mark(const struct fx *fx, int id); /* current log length */
/* Next event of `kind` (0: any) at index >= *pos; advances *pos past it. */
const struct fx_ev *fx_next(const struct fx *fx, int id, int kind,
                            size_t *pos);
int fx_count(const struct fx *fx, int id, int kind, size_t since);
bool fx_logs_equal(const struct fx *fx, int a, int b);
const char *fx_key_at(const struct fx *fx, int id, uint64_t lsn);

#endif
