/*
 * raft.h — the public face of raftsim's consensus core.
 *
 * A raft_node is a pure, deterministic state machine.  It never reads a
 * clock, opens a socket, prints, or keeps global state; its only randomness
 * is a PRNG seeded by the driver.  The driver feeds it time and messages:
 *
 *     raft_tick(node, now_us)            time has passed
 *     raft_step(node, now_us, &msg)      a message arrived
 *     raft_propose(node, now_us, k, v)   a client wants a write
 *
 * and after each call collects what the node asks for with raft_ready_get():
 * messages to send, WAL entries to make durable, committed entries to apply,
 * and structured events (role changes, votes, appends, commits, discards,
 * acknowledgements, leadership transfers) with precise reasons.  raft_advance() ends the batch.
 * This is the etcd-raft "Ready" idea; the same core runs under the virtual
 * time simulator (sim/) and over real TCP (net/).
 *
 * Driver contract (what keeps Raft safe):
 *   1. Make entries up to ready.persist_lsn durable (then call
 *      raft_persisted) BEFORE sending ready.msgs: replies may acknowledge
 *      those entries.  Term and vote are durable as soon as they change.
 *   2. Deliver messages in any order, any number of times, or not at all.
 *   3. Call raft_tick no later than raft_next_deadline(node).
 *   4. Between raft_ready_get and raft_advance, any call into the node
 *      (raft_persisted, raft_step …) may add outputs and move the Ready's
 *      arrays: finish with rd.msgs and rd.events first.  raft_advance
 *      drops only what raft_ready_get handed out; later outputs wait for
 *      the next Ready.
 *
 * What does not live here: transport, timers, the key/value state machine,
 * client bookkeeping and the invariant checker — those are drivers' jobs.
 */
#ifndef RAFTSIM_RAFT_H
#define RAFTSIM_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/wal.h"

#define RAFT_MAX_NODES 256 /* node ids are 1..RAFT_MAX_NODES */
#define RAFT_NONE 0        /* "no node" (no leader known, no vote cast) */

/* Error codes: 0 or negative. */
enum {
    RAFT_OK = 0,
    RAFT_ENOTLEADER = -1, /* propose on a non-leader; see raft_leader() */
    RAFT_EINVAL = -2,     /* bad configuration or argument */
    RAFT_ENOMEM = -3,
    RAFT_EDOWN = -4,      /* node is crashed */
    RAFT_ETRANSFER = -5,  /* propose on a leader handing leadership over
                             (raft_transfer_leadership): retry at the new
                             leader in about a round trip */
    RAFT_EBUSY = -6,      /* configuration change refused for now: one is
                             still uncommitted, or this leader has not
                             committed an entry of its own term yet */
};

typedef uint64_t raft_time_t; /* microseconds, driver's clock */

/* Terms (raft/validate.c).  A message whose term is above RAFT_TERM_MAX
 * or more than RAFT_TERM_JUMP_MAX above the receiver's is rejected, and a
 * node never campaigns past RAFT_TERM_MAX, so term + 1 cannot wrap and no
 * single frame can lift a cluster to a term it cannot campaign past. */
#define RAFT_TERM_MAX (UINT64_MAX >> 1)
#define RAFT_TERM_JUMP_MAX (UINT64_C(1) << 32)

/* A set of node ids as a bitset; cheap to copy into events. */
typedef struct {
    uint64_t bits[RAFT_MAX_NODES / 64 + 1];
} raft_nodeset;

static inline void raft_nodeset_add(raft_nodeset *s, int id)
{
    s->bits[id / 64] |= UINT64_C(1) << (id % 64);
}
static inline bool raft_nodeset_has(const raft_nodeset *s, int id)
{
    return (s->bits[id / 64] >> (id % 64)) & 1;
}
int raft_nodeset_count(const raft_nodeset *s);

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

enum raft_ack_mode {
    RAFT_ACK_ASYNC,  /* ack when the leader's own WAL has it durably */
    RAFT_ACK_QUORUM, /* ack at commit (a majority has it) — Raft */
    RAFT_ACK_SYNC,   /* ack when every voter has it */
};

enum raft_election_policy {
    RAFT_ELECT_HIGHEST_LSN, /* defer to a reachable, more up-to-date peer */
    RAFT_ELECT_RAFT,        /* plain Raft */
};

/* Rules broken on purpose (--unsafe), to teach and to prove the checker. */
enum {
    RAFT_UNSAFE_VOTE_ANY = 1u << 0,        /* votes skip the log check */
    RAFT_UNSAFE_COMMIT_OLD_TERM = 1u << 1, /* Figure 8: count old-term replicas */
    RAFT_UNSAFE_KEEP_CONFLICTS = 1u << 2,  /* follower keeps conflicting suffix */
    RAFT_UNSAFE_CHANGE_TWO = 1u << 3, /* a configuration change may add or
                                         remove two voters in one step */
};

/* A cluster configuration (membership, Raft thesis §4.1): who votes and
 * counts toward quorums, and the learners that only receive the log
 * (etcd's learners).  Disjoint; ids in 1..n_nodes. */
struct raft_membership {
    raft_nodeset voters, learners;
};

struct raft_config {
    int id;      /* 1..n_nodes */
    int n_nodes; /* node ids that exist: 1..n_nodes */
    /* The initial configuration; all zero: voters 1..n_nodes, no
     * learners.  Nodes outside it exist but take no part until a
     * configuration entry adds them (raft_change_membership). */
    struct raft_membership members;
    raft_time_t heartbeat_us;
    raft_time_t election_min_us; /* timeout drawn uniformly in [min, max] */
    raft_time_t election_max_us;
    enum raft_ack_mode ack_mode;
    enum raft_election_policy policy;
    bool prevote;
    bool checkquorum;
    /* Fast detection (raft_peer_closed): a follower whose connection to
     * its leader closed pre-votes after a short random delay instead of
     * waiting out the election timeout.  Needs prevote. */
    bool fast_detect;
    unsigned unsafe;           /* RAFT_UNSAFE_* bits */
    bool nofailover;           /* a voter that never campaigns (Patroni's
                                  nofailover tag; a witness) */
    uint64_t seed;             /* seeds the node's own PRNG */
    uint32_t max_batch;        /* entries per AppendEntries (0: default 64) */
    uint32_t max_inflight;     /* unacked appends per peer (0: default 32) */
    uint32_t snap_chunk;       /* InstallSnapshot bytes per chunk (0:
                                  default 16 KiB; at most WAL_VALUE_MAX) */
};

/* Defaults: heartbeat 50 ms, election 150-300 ms, quorum acks,
 * highest-lsn policy, PreVote, CheckQuorum and fast detection on. */
void raft_config_default(struct raft_config *cfg, int id, int n_nodes);
const char *raft_ack_mode_name(enum raft_ack_mode m);
const char *raft_policy_name(enum raft_election_policy p);
int raft_ack_mode_parse(const char *s, enum raft_ack_mode *out);
int raft_policy_parse(const char *s, enum raft_election_policy *out);
int raft_unsafe_parse(const char *s, unsigned *out); /* one rule name */
const char *raft_unsafe_name(unsigned bit);

/* ------------------------------------------------------------------ */
/* Messages                                                            */

enum raft_msg_type {
    RAFT_MSG_PREVOTE = 1,
    RAFT_MSG_PREVOTE_RESP,
    RAFT_MSG_VOTE,
    RAFT_MSG_VOTE_RESP,
    RAFT_MSG_APPEND,
    RAFT_MSG_APPEND_RESP,
    RAFT_MSG_TIMEOUT_NOW, /* leader -> transfer target: campaign now */
    RAFT_MSG_SNAPSHOT,      /* InstallSnapshot, one chunk (Figure 13) */
    RAFT_MSG_SNAPSHOT_RESP, /* its answer: the next offset, or installed */
};
#define RAFT_MSG_TYPE_MAX RAFT_MSG_SNAPSHOT_RESP

struct raft_msg {
    uint8_t type; /* enum raft_msg_type */
    int from, to;
    uint64_t term;
    /* PREVOTE / VOTE: the candidate's log.  *_RESP: the responder's log
     * (the highest-lsn policy reads it). */
    uint64_t last_term, last_lsn;
    bool granted; /* *VOTE_RESP */
    bool transfer; /* VOTE: campaigning on a TimeoutNow (leadership
                      transfer), so voters that still hear the old leader
                      do not refuse it as leader-alive (etcd's
                      campaignTransfer) */
    /* APPEND */
    uint64_t prev_lsn, prev_term, commit_lsn;
    uint32_t n_entries;
    struct wal_entry *entries; /* owned by the message; see raft_msg_free */
    /* APPEND_RESP: success -> match_lsn; reject -> reject_lsn (the
     * prev_lsn refused) plus a hint for fast back-off */
    bool success;
    uint64_t match_lsn, reject_lsn, hint_lsn, hint_term;
    /* SNAPSHOT: last_lsn/last_term are the snapshot's last included
     * entry; the chunk's bytes are the value of entries[0]'s payload
     * (n_entries 1), so moving, copying and freeing a message need
     * nothing new; snap_offset is where the chunk goes, snap_total the
     * snapshot's size, snap_done: the last chunk.  SNAPSHOT_RESP:
     * last_lsn the snapshot it answers, success = installed (or
     * already covered by our commit: match_lsn says how far we match),
     * else snap_offset = the next offset we want. */
    uint64_t snap_offset, snap_total;
    bool snap_done;
};

/* Release the entries a message owns (references into shared payloads). */
void raft_msg_free(struct raft_msg *m);
/* Deep-enough copy: entries array is copied, payloads are shared. */
int raft_msg_copy(struct raft_msg *dst, const struct raft_msg *src);
const char *raft_msg_type_name(int type);

/* ------------------------------------------------------------------ */
/* Events — the narration every later layer reads.  Names are stable.  */

enum raft_role {
    RAFT_FOLLOWER,
    RAFT_PRECANDIDATE,
    RAFT_CANDIDATE,
    RAFT_LEADER,
    RAFT_DOWN, /* crashed: not a protocol role, a driver-visible state */
};

enum raft_event_kind {
    RAFT_EV_ROLE = 1, /* role, term, reason, peer, votes */
    RAFT_EV_VOTE,     /* term, peer=candidate, granted, prevote, reason */
    RAFT_EV_DEFER,    /* peer=more up-to-date node, its last_term/lsn */
    RAFT_EV_APPEND,   /* lsn, entry_term, key/value: entry added to WAL */
    RAFT_EV_COMMIT,   /* lsn: commit LSN advanced to lsn */
    RAFT_EV_DISCARD,  /* lsn, entry_term, key, reason conflict|crash */
    RAFT_EV_ACK,      /* lsn: leader may ack client writes up to lsn */
    RAFT_EV_REJECT,   /* peer, msg_type, msg_term, reason, lsn: a message
                         that breaks the protocol's rules was dropped */
    RAFT_EV_TRANSFER, /* leader: leadership transfer to peer; reason
                         transfer (started), timeout-now (sent) or
                         transfer-timeout (abandoned); lsn: the leader's
                         last lsn, cand_lsn: peer's match lsn, until_us:
                         the deadline (started, abandoned) */
    RAFT_EV_SNAPSHOT, /* reason compact (took a snapshot: lsn, entry_term,
                         count = entries compacted, bytes), send (leader:
                         sends its snapshot to peer) or install (follower:
                         installed peer's snapshot; count = entries of its
                         old log it replaced) */
    RAFT_EV_CONFIG,   /* the configuration in force changed: reason
                         conf-adopt (a config entry at lsn appended: a
                         server uses the latest in its log, committed or
                         not), conf-revert (that entry was discarded: lsn
                         is the one in force again, 0 the initial or the
                         snapshot's) or conf-commit (the entry at lsn
                         committed); votes = voters, learners */
};

enum raft_reason {
    RAFT_R_NONE = 0,
    /* role: follower */
    RAFT_R_START,           /* node started */
    RAFT_R_RESTART,         /* node restarted after a crash */
    RAFT_R_HIGHER_TERM,     /* saw a message from peer with a higher term */
    RAFT_R_LEADER_SEEN,     /* (pre)candidate heard from the term's leader */
    RAFT_R_CHECK_QUORUM,    /* leader lost contact with a majority */
    RAFT_R_VOTE_LOST,       /* a majority refused the (pre)vote */
    RAFT_R_DEFERRED,        /* pre-candidate deferred to a more up-to-date peer */
    /* role: pre-candidate / candidate */
    RAFT_R_ELECTION_TIMEOUT, /* no leader heard within the election timeout */
    RAFT_R_PREVOTE_WON,      /* majority granted the pre-vote */
    RAFT_R_DEFER_EXPIRED,    /* deferred once already; campaigns anyway */
    RAFT_R_CAMPAIGN,         /* told to campaign now (raft_campaign_now) */
    /* role: leader */
    RAFT_R_WON_ELECTION,    /* majority granted the vote */
    /* vote granted */
    RAFT_R_LOG_OK,          /* candidate's log is at least as up to date */
    RAFT_R_UNSAFE_VOTE_ANY, /* granted without the log check (--unsafe) */
    /* vote refused */
    RAFT_R_STALE_TERM,      /* candidate's term is behind ours */
    RAFT_R_ALREADY_VOTED,   /* voted for another node this term (peer) */
    RAFT_R_LOG_BEHIND,      /* candidate's log is less up to date */
    RAFT_R_LEADER_ALIVE,    /* heard from a leader within election_min */
    /* discard */
    RAFT_R_CONFLICT,        /* replaced by the leader's entries */
    RAFT_R_CRASH,           /* unflushed tail lost in a crash */
    /* reject (raft/validate.c) */
    RAFT_R_TERM_RANGE,      /* append of term 0, term above
                               RAFT_TERM_MAX or too far above ours */
    RAFT_R_LOG_TERM_RANGE,  /* a log position's term above the message's */
    RAFT_R_LSN_RANGE,       /* lsn overflow, or about an lsn we lack */
    RAFT_R_ENTRY_LSN,       /* entries not consecutive from prev_lsn + 1 */
    RAFT_R_ENTRY_TERM,      /* entry terms decreasing or above the term */
    RAFT_R_ENTRY_TYPE,      /* unknown entry type */
    RAFT_R_BELOW_COMMIT,    /* would replace an entry we committed */
    /* leadership transfer (thesis §3.10) */
    RAFT_R_TRANSFER,        /* transfer event: started */
    RAFT_R_TIMEOUT_NOW,     /* transfer event: TimeoutNow sent to peer;
                               role candidate: campaigns on peer's
                               TimeoutNow, without pre-vote */
    RAFT_R_TRANSFER_TIMEOUT, /* transfer event: not done within an
                                election timeout (election_min): abandoned,
                                the leader accepts writes again */
    RAFT_R_NOT_LEADER,      /* reject: a TimeoutNow from a node that is
                               not the leader we follow in its term */
    /* snapshots (Raft §7; raft/snapshot.c) */
    RAFT_R_COMPACT,         /* snapshot event: took one, log compacted */
    RAFT_R_SNAP_SEND,       /* snapshot event: leader sends it to peer */
    RAFT_R_SNAP_INSTALL,    /* snapshot event: follower installed it */
    RAFT_R_SNAP_RANGE,      /* reject: a chunk outside its snapshot, or a
                               snapshot over RAFT_SNAPSHOT_MAX */
    /* fast detection */
    RAFT_R_LEADER_CLOSED,   /* role pre-candidate: the connection to the
                               leader followed (peer) closed, so it
                               pre-votes at once (raft_peer_closed) */
    /* membership (raft/membership.c) */
    RAFT_R_CONF_ADOPT,      /* config event: latest config entry appended */
    RAFT_R_CONF_REVERT,     /* config event: it was truncated away */
    RAFT_R_CONF_COMMIT,     /* config event: it committed */
    RAFT_R_REMOVED,         /* role follower: a leader steps down once its
                               own removal committed (thesis §4.2.2) */
    RAFT_R_BAD_CONFIG,      /* reject: a config entry or snapshot header
                               that does not decode to a configuration */
    RAFT_R_REASON_MAX
};

struct raft_event {
    uint8_t kind;   /* enum raft_event_kind */
    uint8_t role;   /* ROLE: the new role */
    uint8_t reason; /* enum raft_reason */
    bool granted;   /* VOTE */
    bool prevote;   /* VOTE, ROLE(pre-candidate) */
    int node;       /* who emits it */
    int peer;       /* ROLE: leader followed / who caused it; VOTE:
                       candidate; DEFER: the more up-to-date peer */
    uint64_t term;  /* node's term when emitted (VOTE: the ballot's term) */
    uint64_t lsn;   /* APPEND/DISCARD/COMMIT/ACK; DEFER: peer's last_lsn */
    uint64_t entry_term; /* APPEND/DISCARD; DEFER: peer's last_term */
    raft_time_t until_us; /* DEFER: campaigns anyway after this */
    uint8_t entry_type;   /* APPEND/DISCARD: WAL_ENTRY_* */
    raft_nodeset votes;   /* ROLE leader/candidate: who granted;
                             CONFIG: the voters */
    raft_nodeset learners; /* CONFIG: the learners */
    int quorum;           /* ROLE leader: votes needed */
    int rival;            /* VOTE refused already-voted: our vote's holder */
    uint64_t cand_lsn, cand_term; /* VOTE: the candidate's last lsn/term */
    const struct wal_payload *payload; /* APPEND/DISCARD: key/value */
    uint8_t msg_type;     /* REJECT: the message's type */
    uint64_t msg_term;    /* REJECT: the message's term */
    uint64_t count, bytes; /* SNAPSHOT: entries compacted/replaced, size */
};

const char *raft_role_name(int role);
const char *raft_reason_name(int reason);
const char *raft_event_kind_name(int kind);

/* ------------------------------------------------------------------ */
/* The node                                                            */

struct raft_ready {
    struct raft_msg *msgs; /* driver may move entries out (set to NULL) */
    size_t n_msgs;
    struct raft_event *events;
    size_t n_events;
    uint64_t persist_lsn;            /* make (flushed, persist_lsn] durable */
    uint64_t apply_from, apply_to;   /* committed entries to apply */
    /* restore: rebuild the state machine from snap first (a follower
     * installed a leader's snapshot, or a node restarted over one);
     * apply_from is then snap.lsn + 1.  Valid until raft_advance. */
    bool restore;
    struct raft_snapshot {
        uint64_t lsn, term; /* its last included entry */
        const unsigned char *data;
        size_t len;
    } snap;
};

struct raft_node; /* opaque */

int raft_node_new(const struct raft_config *cfg, raft_time_t now_us,
                  struct raft_node **out);
void raft_node_free(struct raft_node *n);

void raft_tick(struct raft_node *n, raft_time_t now_us);
void raft_step(struct raft_node *n, raft_time_t now_us,
               const struct raft_msg *m);
/* Append a client write.  Leader only; *lsn_out receives its LSN. */
int raft_propose(struct raft_node *n, raft_time_t now_us, const char *key,
                 size_t key_len, const char *value, size_t value_len,
                 uint64_t *lsn_out);

/* Earliest time the node wants raft_tick (UINT64_MAX: none). */
raft_time_t raft_next_deadline(const struct raft_node *n);
/* When the election timer fires if nothing resets it (UINT64_MAX for a
 * leader or a down node, which run none), and the randomized timeout it
 * was drawn with (*timeout_us, may be NULL): what a picture of the
 * cluster drains. */
raft_time_t raft_election_deadline(const struct raft_node *n,
                                   raft_time_t *timeout_us);

bool raft_has_ready(const struct raft_node *n);
void raft_ready_get(struct raft_node *n, struct raft_ready *rd);
void raft_advance(struct raft_node *n);
/* The driver made the WAL durable up to lsn. */
void raft_persisted(struct raft_node *n, raft_time_t now_us, uint64_t lsn);

/* Campaign now, as if the election timeout had just expired (etcd's
 * MsgHup, RaftScope's "time out"): PreVote first when it is on, so a
 * healthy leader's followers still refuse.  RAFT_EDOWN for a down node,
 * RAFT_EINVAL for a leader or a node that never stands (nofailover). */
int raft_campaign_now(struct raft_node *n, raft_time_t now_us);
/* The driver saw the connection to `peer` close (EOF or RST: on one
 * machine, what the kernel does at once for a process that died).
 * Evidence, not proof.  A follower of that peer stops counting it as a
 * live leader (so it grants other pre-votes, raft__leader_alive) and,
 * after a random delay in [0, D] from its PRNG, D = election_min /
 * RAFT_FAST_DELAY_DIV, starts a pre-vote, reason leader-closed.  Until
 * it hears a leader again its election timers are drawn in [D, 2D]
 * rather than [min, max]; granting another's pre-vote during the delay
 * restarts it, so the followers that all saw the close do not split the
 * vote.  If the leader is in fact alive for a majority they refuse
 * (leader-alive) and nothing changes; word from the leader before the
 * delay ends cancels it.  Partitions and silent failures close nothing:
 * they still wait out the election timeout.
 * Ignored (returns 0) unless the node is a follower of `peer` with
 * prevote and fast_detect on: without PreVote an election at once would
 * raise the term, and a spurious close would depose a leader that is
 * alive, so the node waits out the election timeout as before.  A node
 * that never stands (nofailover) only stops counting the leader alive.
 * Returns 1 when a pre-vote is scheduled, 0 when ignored, RAFT_EDOWN
 * for a down node, RAFT_EINVAL for a bad peer id. */
#define RAFT_FAST_DELAY_DIV 10
int raft_peer_closed(struct raft_node *n, raft_time_t now_us, int peer);
/* Leadership transfer (thesis §3.10, etcd's MsgTransferLeader): the
 * leader refuses proposals (RAFT_ETRANSFER), replicates to target until
 * its match lsn is the leader's last lsn, then sends it TimeoutNow; the
 * target campaigns at once, without pre-vote, and its vote requests say
 * so (raft_msg.transfer).  Not done within election_min_us: abandoned
 * (a transfer event), and the leader accepts writes again.  A transfer
 * to the same target in progress is left running; to another target it
 * replaces it.  RAFT_EDOWN for a down node, RAFT_ENOTLEADER for a
 * non-leader, RAFT_EINVAL for a target that is itself or not a voter. */
int raft_transfer_leadership(struct raft_node *n, raft_time_t now_us,
                             int target);
/* Membership changes (Raft thesis §4.1, single-server changes;
 * raft/membership.c).  The leader appends a configuration entry; every
 * server uses the latest configuration in its log from the moment it is
 * appended, committed or not, and goes back to the previous one if that
 * entry is truncated.  Refused with RAFT_EBUSY while a change is
 * uncommitted or before this leader committed an entry of its own term
 * (Ongaro, raft-dev 2015: without that rule two changes of different
 * leaders can form disjoint majorities).  RAFT_EINVAL: not a change of
 * one server (unless RAFT_UNSAFE_CHANGE_TWO), or one that would leave
 * no voter.  A leader that removes itself keeps leading (without
 * counting itself) until the removal commits, then steps down. */
enum raft_member_op {
    RAFT_ADD_VOTER = 1, /* a non-member becomes a voter */
    RAFT_ADD_LEARNER,   /* a non-member becomes a learner */
    RAFT_PROMOTE,       /* a learner becomes a voter */
    RAFT_REMOVE,        /* a voter or learner leaves */
};
int raft_change_membership(struct raft_node *n, raft_time_t now_us,
                           enum raft_member_op op, int node,
                           uint64_t *lsn_out);
/* The general form: propose `to` as the next configuration. */
int raft_propose_membership(struct raft_node *n, raft_time_t now_us,
                            const struct raft_membership *to,
                            uint64_t *lsn_out);
/* The configuration in force and the lsn of its entry (0: the initial
 * configuration or the snapshot's). */
const struct raft_membership *raft_membership_get(const struct raft_node *n,
                                                  uint64_t *lsn);
/* The text of a config entry's value ("voters=1,2,3 learners=6") and its
 * parser (0, or -1 for anything else, ids outside 1..n_nodes, overlap or
 * no voter). */
int raft_membership_format(const struct raft_membership *c, char *buf,
                           size_t len);
int raft_membership_parse(const char *s, size_t len, int n_nodes,
                          struct raft_membership *out);
/* Leader: the transfer target in progress, or RAFT_NONE. */
int raft_transfer_target(const struct raft_node *n);
/* Crash: volatile state is gone; term, vote and the WAL survive up to
 * flushed_lsn, or entirely if !lose_unflushed (the OS kept the page
 * cache).  Lost entries are reported as DISCARD events (reason crash).
 * The node is RAFT_DOWN until raft_restart. */
void raft_crash(struct raft_node *n, bool lose_unflushed);
void raft_restart(struct raft_node *n, raft_time_t now_us);

/* Read-only views for drivers, checkers and status tables. */
int raft_id(const struct raft_node *n);
enum raft_role raft_role(const struct raft_node *n);
uint64_t raft_term(const struct raft_node *n);
int raft_voted_for(const struct raft_node *n);
int raft_leader(const struct raft_node *n); /* RAFT_NONE if unknown */
uint64_t raft_commit_lsn(const struct raft_node *n);
uint64_t raft_match_lsn(const struct raft_node *n, int peer); /* leader */
const struct wal *raft_wal(const struct raft_node *n);
const struct raft_config *raft_config(const struct raft_node *n);

/* ------------------------------------------------------------------ */
/* Snapshots and log compaction (Raft §7; raft/snapshot.c)             */

#define RAFT_SNAPSHOT_MAX (64u << 20) /* bytes; a larger one is refused */

/* The driver's state machine holds everything up to `lsn` (at most what
 * the Readys handed it to apply) as `data`: the node keeps a copy as its
 * snapshot (durable, like term and vote), drops its log up to lsn and
 * keeps lsn's term (a snapshot event, reason compact).  A follower whose
 * next entry the leader no longer has is sent the snapshot in chunks of
 * snap_chunk bytes, one at a time (InstallSnapshot); it installs it only
 * when the last one is in, so a crash midway leaves its old state.
 * RAFT_EDOWN, or RAFT_EINVAL for an lsn not above the last snapshot's,
 * not applied yet, or data over RAFT_SNAPSHOT_MAX. */
int raft_snapshot_take(struct raft_node *n, uint64_t lsn, const void *data,
                       size_t len);
/* The node's snapshot (false: none yet); data valid until the next call
 * into the node. */
bool raft_snapshot_get(const struct raft_node *n, struct raft_snapshot *out);
/* What the Readys have handed the driver to apply so far. */
uint64_t raft_applied_lsn(const struct raft_node *n);

/* The commit rule's arithmetic, pure: the quorum-th largest of
 * match[0..n) when it is above `floor` (the commit lsn so far), else
 * floor.  Expected O(n): one pass, and a selection only when a quorum is
 * past the floor.  n <= RAFT_MAX_NODES + 1, 1 <= quorum <= n. */
uint64_t raft_quorum_lsn(const uint64_t *match, int n, int quorum,
                         uint64_t floor);

#endif
