/*
 * internal.h — the node's private state, shared by the core's files:
 * node.c (lifecycle, timers, role changes, Ready), election.c (PreVote,
 * RequestVote, the highest-lsn deferral), replication.c (AppendEntries,
 * commit and acknowledgement), transfer.c (leadership transfer),
 * snapshot.c (snapshots, compaction, InstallSnapshot),
 * membership.c (configuration changes, learners),
 * reorder.c (a follower's appends that came ahead of a gap) and
 * validate.c (what a message must satisfy before it may change state).
 * Nothing outside raft/ includes this.
 */
#ifndef RAFTSIM_RAFT_INTERNAL_H
#define RAFTSIM_RAFT_INTERNAL_H

#include "raft/prng.h"
#include "raft/raft.h"

#define RAFT_DEFAULT_BATCH 64
#define RAFT_DEFAULT_INFLIGHT 32

/* What a leader knows of one follower (etcd's Progress).  In flight:
 * the last lsn of each unacknowledged append, oldest first, in a ring of
 * max_inflight slots at raft_node.infl (etcd's Inflights): an ack of lsn
 * M frees every append ending at or before M, so reordered and repeated
 * acks keep the count exact. */
struct raft_progress {
    uint64_t match_lsn; /* highest lsn known to match ours */
    uint64_t next_lsn;  /* next lsn to send */
    uint32_t infl_head, inflight; /* the ring: first slot, slots used */
    bool probe;         /* probing for the match point: one append at a time */
    bool probe_sent;    /* probe: an append is out, wait for reply/heartbeat */
    bool recent_active; /* heard from since the last CheckQuorum round */
    uint8_t stalled;    /* heartbeats in a row with entries out, no ack */
    uint64_t hb_match;  /* match_lsn at the last heartbeat */
    /* snapshot state (snapshot.c): next_lsn is compacted away, so the
     * follower is sent snap, a chunk at a time from snap_off */
    struct raft_snapdata *snap; /* a reference: NULL when not sending */
    uint64_t snap_off;
    bool snap_sent;     /* a chunk is out: wait for its answer or a heartbeat */
};

/* A snapshot's bytes, shared by the node and the transfers under way. */
struct raft_snapdata {
    uint32_t refs;
    uint64_t lsn, term;
    struct raft_membership conf; /* the configuration as of lsn */
    size_t hdr;  /* data[0..hdr): conf's text and a newline, sent ahead
                    of the driver's bytes data[hdr..len) */
    size_t len;
    unsigned char data[];
};

struct raft_node {
    struct raft_config cfg;
    struct prng rng;
    int quorum; /* n_voters / 2 + 1 */

    /* Membership (membership.c): the configuration in force is the
     * latest in the log (conf_lsn; 0: conf_base's), conf_base the one as
     * of wal.base_lsn (the initial one, or the snapshot's). */
    struct raft_membership conf, conf_base;
    uint64_t conf_lsn;
    int n_voters;

    /* Durable: survives raft_crash. */
    uint64_t term;
    int voted_for;
    struct wal wal;

    /* Volatile. */
    enum raft_role role;
    int leader;
    uint64_t commit_lsn;
    raft_time_t now;
    raft_time_t election_deadline;
    raft_time_t election_timeout; /* the randomized timeout now running */
    raft_time_t heartbeat_deadline;
    raft_time_t checkquorum_deadline;
    raft_time_t leader_contact; /* last valid AppendEntries from a leader */
    bool leader_contact_valid;
    raft_nodeset granted, refused; /* (pre-)vote tallies */
    bool deferred; /* deferred once since last leader contact */
    bool defer_waiting; /* the timer running is the deferral's wait: its
                           firing is reason defer-expired; once the timer
                           is reset, plain election timeouts again */
    bool close_waiting; /* the timer running is raft_peer_closed's short
                           delay: its firing is reason leader-closed */
    uint8_t fast_left;  /* after a close: election timers still to draw
                           short (raft__reset_election_timer), so that a
                           split vote is retried within D, not min..max */
    /* highest-lsn: after a pre-vote majority, keep gathering replies for
     * as long again as the majority took, so a more up-to-date peer's
     * answer is not lost to a race (election.c). */
    raft_time_t campaign_start;
    raft_time_t gather_deadline; /* 0: not gathering */
    bool gather_done;
    struct raft_progress *prog; /* [n_nodes + 1], leader only */
    /* The commit rule's shortcut (replication.c): how many followers
     * match past above_floor (the commit lsn when last counted); kept up
     * as acks arrive, recounted when the commit lsn moves. */
    int n_above;
    uint64_t above_floor;
    bool above_valid;
    uint64_t *infl;             /* [(n_nodes + 1) * max_inflight] */
    /* Follower: appends of this term's leader that arrived ahead of a
     * gap (the network reorders), kept until the gap fills (reorder.c). */
    struct raft_msg *early;     /* [max_inflight] when allocated */
    uint32_t n_early;
    bool early_ok; /* our last answer to this leader was a success: it
                      pipelines to us, so a gap is an overtaken append */
    uint64_t ack_lsn;           /* last ACK emitted (leader) */
    /* Leader: leadership transfer in progress (transfer.c). */
    int transfer_to;                /* RAFT_NONE: none */
    raft_time_t transfer_deadline;  /* abandoned at this time */
    bool transfer_sent;             /* TimeoutNow sent at least once */
    bool bcast_pending;         /* new entries to push at ready time */
    /* Snapshots (snapshot.c).  snap is durable (survives a crash); the
     * install in progress is volatile: a crash drops it, so a node has
     * the old state or the new, never half. */
    struct raft_snapdata *snap;
    struct {
        int from;
        uint64_t term, lsn, lterm, total;
        unsigned char *buf;
        size_t len;
    } inst;
    bool restore_pending;           /* next Ready: restore from snap */
    struct raft_snapdata *snap_handed; /* the Ready's rd.snap, held */

    /* Ready buffers. */
    struct raft_msg *msgs;
    size_t n_msgs, cap_msgs;
    struct raft_event *events;
    size_t n_events, cap_events;
    size_t msgs_handed, events_handed; /* in the Ready now out */
    uint64_t persist_handed; /* persist_lsn last handed to the driver */
    uint64_t applied_handed; /* apply_to last handed to the driver */
};

/* node.c */
struct raft_event *raft__event(struct raft_node *n, int kind);
struct raft_msg *raft__msg(struct raft_node *n, int type, int to);
void raft__reset_election_timer(struct raft_node *n);
void raft__become_follower(struct raft_node *n, uint64_t term, int leader,
                           int reason, int peer);
void raft__become_precandidate(struct raft_node *n, int reason);
void raft__become_candidate(struct raft_node *n, int reason);
void raft__become_leader(struct raft_node *n);
bool raft__leader_alive(const struct raft_node *n);
raft_time_t raft__fast_delay(const struct raft_node *n);
#define RAFT_FAST_TIMERS 4
void raft__emit_entry(struct raft_node *n, int kind,
                      const struct wal_entry *e, int reason);
/* RAFT_OK when this node may append a proposal now (a leader, up, not
 * transferring), else the error raft_propose returns. */
int raft__can_propose(const struct raft_node *n);
/* Appends P (its reference is taken) at this leader's term, emits the
 * append and schedules the broadcast; the new entry's lsn in *LSN_OUT. */
int raft__append_own(struct raft_node *n, raft_time_t now_us, uint8_t type,
                     struct wal_payload *p, uint64_t *lsn_out);

/* election.c */
void raft__campaign(struct raft_node *n, int reason);
void raft__campaign_transfer(struct raft_node *n, int from);
void raft__recv_vote_request(struct raft_node *n, const struct raft_msg *m);
void raft__recv_vote_response(struct raft_node *n, const struct raft_msg *m);
void raft__gather_expired(struct raft_node *n);

/* validate.c: RAFT_R_NONE or the reason to reject m (at: the lsn at
 * fault, or 0) */
int raft__check_msg(const struct raft_node *n, const struct raft_msg *m,
                    uint64_t *at);
void raft__reject(struct raft_node *n, const struct raft_msg *m, int reason,
                  uint64_t at);

/* transfer.c */
void raft__transfer_progress(struct raft_node *n, int peer);
void raft__transfer_tick(struct raft_node *n);
void raft__recv_timeout_now(struct raft_node *n, const struct raft_msg *m);

/* membership.c */
bool raft__is_voter(const struct raft_node *n, int id);
/* May this node campaign when its timer fires?  A voter of its latest
 * configuration may (unless nofailover); so may a server outside it while
 * that configuration is not known committed: it may still be needed to
 * elect a leader of the old one (thesis §4.2.2: "a server that is not
 * part of its own latest configuration should still start new
 * elections, as it might still be needed until the Cnew entry is
 * committed"); it does not count its own vote. */
bool raft__may_stand(const struct raft_node *n);
bool raft__is_member(const struct raft_node *n, int id);
void raft__conf_init(struct raft_node *n);
int raft__conf_valid(const struct raft_config *cfg);
struct wal_payload *raft__conf_payload(const struct raft_membership *c);
int raft__conf_decode(const struct raft_node *n, const struct wal_entry *e,
                      struct raft_membership *out);
void raft__conf_at(const struct raft_node *n, uint64_t lsn,
                   struct raft_membership *out, uint64_t *at);
void raft__conf_appended(struct raft_node *n, uint64_t lsn);
void raft__conf_reload(struct raft_node *n, bool force);
void raft__conf_commit(struct raft_node *n, uint64_t from);

/* reorder.c */
bool raft__early_keep(struct raft_node *n, const struct raft_msg *m);
void raft__early_drain(struct raft_node *n);
void raft__early_clear(struct raft_node *n);

/* snapshot.c */
void raft__snapdata_unref(struct raft_snapdata *d);
void raft__send_snapshot(struct raft_node *n, int peer);
void raft__snapshot_stop(struct raft_progress *p);
/* An AppendEntries or InstallSnapshot from the leader of our term: follow
 * it, restart the election timer, note the contact (and end fast
 * detection's quick retries).  false: we lead this term ourselves. */
bool raft__heard_leader(struct raft_node *n, const struct raft_msg *m);
void raft__recv_snapshot(struct raft_node *n, const struct raft_msg *m);
void raft__recv_snapshot_response(struct raft_node *n,
                                  const struct raft_msg *m);
void raft__inst_clear(struct raft_node *n);

/* replication.c */
void raft__send_append(struct raft_node *n, int peer);
void raft__broadcast(struct raft_node *n, bool heartbeat);
void raft__push(struct raft_node *n, int peer); /* one peer's share */
void raft__recv_append(struct raft_node *n, const struct raft_msg *m);
void raft__recv_append_response(struct raft_node *n,
                                const struct raft_msg *m);
void raft__maybe_commit(struct raft_node *n);
void raft__become_probe(struct raft_progress *p, uint64_t next);
void raft__note_match(struct raft_node *n, int peer, uint64_t match);

#endif
