/*
 * checker.h — Raft's safety properties, checked after every event.
 *
 * The checker keeps its own shadow of every node's log, built from the
 * core's APPEND / DISCARD / COMMIT events, with a chained hash per entry
 * (the hash of lsn N covers entries 1..N), and cross-checks the shadow
 * against the real WAL after each step, so a core that lies in its events
 * is caught too.  Properties (Raft Figure 3, plus one of our own):
 *
 *   ElectionSafety      at most one leader per term
 *   LeaderAppendOnly    a leader never removes entries from its log
 *   LogMatching         same (lsn, term) on two logs => same prefix
 *   LeaderCompleteness  a new leader holds every committed entry
 *   StateMachineSafety  no two nodes commit different entries at an lsn,
 *                       and no node discards a committed entry
 *   AckedWriteLost      quorum/sync: an acknowledged write is never lost
 *   TraceConsistency    the core's events agree with its WAL
 *
 * In async mode a lost acknowledged write is counted, not a violation.
 */
#ifndef RAFTSIM_SIM_CHECKER_H
#define RAFTSIM_SIM_CHECKER_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"
#include "sim/cluster/cluster.h"

struct checker;

struct checker *chk_new(int n_nodes, enum raft_ack_mode mode);
void chk_free(struct checker *k);

/* One core event, at virtual time t. */
void chk_event(struct checker *k, uint64_t t, const struct raft_event *ev,
               const struct raft_node *node);
/* After a batch of a node's events: shadow vs real state. */
void chk_node_settled(struct checker *k, uint64_t t,
                      const struct raft_node *node);
/* A write was acknowledged to a client as (lsn, term). */
void chk_acked(struct checker *k, uint64_t t, uint64_t lsn, uint64_t term);
/* End of run: an acked write not yet committed is lost when no node's log
 * holds it any more (it can never commit), else pending at the end of the
 * run (chk_acked_pending).  Returns how many acked writes are lost in
 * total. */
uint64_t chk_finish(struct checker *k, uint64_t t);

uint64_t chk_violations(const struct checker *k);
const struct sim_violation *chk_first_violation(const struct checker *k);
/* Newly found violations since the last call (for tracing). */
bool chk_take_new(struct checker *k, struct sim_violation *out);
uint64_t chk_acked_lost(const struct checker *k);
uint64_t chk_acked_pending(const struct checker *k); /* after chk_finish */
uint64_t chk_committed_lsn(const struct checker *k); /* cluster-wide */
/* The term of the cluster-wide committed entry at lsn (0: none yet). */
uint64_t chk_committed_term(const struct checker *k, uint64_t lsn);

#endif
