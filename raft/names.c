/*
 * names.c — the stable names of roles, reasons, event kinds, message
 * types and configuration values.  The trace format (README, "Trace
 * format") is built from these strings; later layers parse them back, so
 * a name, once shipped, never changes.
 */
#include "raft/raft.h"

#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {
    [RAFT_FOLLOWER] = "follower",   [RAFT_PRECANDIDATE] = "pre-candidate",
    [RAFT_CANDIDATE] = "candidate", [RAFT_LEADER] = "leader",
    [RAFT_DOWN] = "down",
};

static const char *const reason_names[RAFT_R_REASON_MAX] = {
    [RAFT_R_NONE] = "",
    [RAFT_R_START] = "start",
    [RAFT_R_RESTART] = "restart",
    [RAFT_R_HIGHER_TERM] = "higher-term",
    [RAFT_R_LEADER_SEEN] = "leader-seen",
    [RAFT_R_CHECK_QUORUM] = "check-quorum",
    [RAFT_R_VOTE_LOST] = "vote-lost",
    [RAFT_R_DEFERRED] = "deferred",
    [RAFT_R_ELECTION_TIMEOUT] = "election-timeout",
    [RAFT_R_PREVOTE_WON] = "prevote-won",
    [RAFT_R_DEFER_EXPIRED] = "defer-expired",
    [RAFT_R_CAMPAIGN] = "campaign",
    [RAFT_R_LEADER_CLOSED] = "leader-closed",
    [RAFT_R_WON_ELECTION] = "won-election",
    [RAFT_R_LOG_OK] = "log-ok",
    [RAFT_R_UNSAFE_VOTE_ANY] = "unsafe-vote-any",
    [RAFT_R_STALE_TERM] = "stale-term",
    [RAFT_R_ALREADY_VOTED] = "already-voted",
    [RAFT_R_LOG_BEHIND] = "log-behind",
    [RAFT_R_LEADER_ALIVE] = "leader-alive",
    [RAFT_R_CONFLICT] = "conflict",
    [RAFT_R_CRASH] = "crash",
    [RAFT_R_TERM_RANGE] = "term-range",
    [RAFT_R_LOG_TERM_RANGE] = "log-term-range",
    [RAFT_R_LSN_RANGE] = "lsn-range",
    [RAFT_R_ENTRY_LSN] = "entry-lsn",
    [RAFT_R_ENTRY_TERM] = "entry-term",
    [RAFT_R_ENTRY_TYPE] = "entry-type",
    [RAFT_R_BELOW_COMMIT] = "below-commit",
    [RAFT_R_TRANSFER] = "transfer",
    [RAFT_R_TIMEOUT_NOW] = "timeout-now",
    [RAFT_R_TRANSFER_TIMEOUT] = "transfer-timeout",
    [RAFT_R_NOT_LEADER] = "not-leader",
    [RAFT_R_COMPACT] = "compact",
    [RAFT_R_SNAP_SEND] = "send",
    [RAFT_R_SNAP_INSTALL] = "install",
    [RAFT_R_SNAP_RANGE] = "snapshot-range",
    [RAFT_R_CONF_ADOPT] = "conf-adopt",
    [RAFT_R_CONF_REVERT] = "conf-revert",
    [RAFT_R_CONF_COMMIT] = "conf-commit",
    [RAFT_R_REMOVED] = "removed",
    [RAFT_R_BAD_CONFIG] = "bad-config",
};

static const char *const kind_names[] = {
    [RAFT_EV_ROLE] = "role",       [RAFT_EV_VOTE] = "vote",
    [RAFT_EV_DEFER] = "defer",     [RAFT_EV_APPEND] = "append",
    [RAFT_EV_COMMIT] = "commit",   [RAFT_EV_DISCARD] = "discard",
    [RAFT_EV_ACK] = "ack",         [RAFT_EV_REJECT] = "reject",
    [RAFT_EV_TRANSFER] = "transfer", [RAFT_EV_SNAPSHOT] = "snapshot",
    [RAFT_EV_CONFIG] = "config",
};

static const char *const msg_names[] = {
    [RAFT_MSG_PREVOTE] = "prevote",
    [RAFT_MSG_PREVOTE_RESP] = "prevote-resp",
    [RAFT_MSG_VOTE] = "vote",
    [RAFT_MSG_VOTE_RESP] = "vote-resp",
    [RAFT_MSG_APPEND] = "append",
    [RAFT_MSG_APPEND_RESP] = "append-resp",
    [RAFT_MSG_TIMEOUT_NOW] = "timeout-now",
    [RAFT_MSG_SNAPSHOT] = "snapshot",
    [RAFT_MSG_SNAPSHOT_RESP] = "snapshot-resp",
};

#define NAME(tab, i)                                                        \
    ((i) >= 0 && (size_t)(i) < sizeof(tab) / sizeof(tab[0]) && tab[i]      \
         ? tab[i]                                                           \
         : "?")

const char *raft_role_name(int role) { return NAME(role_names, role); }
const char *raft_reason_name(int r) { return NAME(reason_names, r); }
const char *raft_event_kind_name(int k) { return NAME(kind_names, k); }
const char *raft_msg_type_name(int t) { return NAME(msg_names, t); }

const char *raft_ack_mode_name(enum raft_ack_mode m)
{
    return m == RAFT_ACK_ASYNC ? "async" : m == RAFT_ACK_SYNC ? "sync"
                                                              : "quorum";
}

const char *raft_policy_name(enum raft_election_policy p)
{
    return p == RAFT_ELECT_RAFT ? "raft" : "highest-lsn";
}

int raft_ack_mode_parse(const char *s, enum raft_ack_mode *out)
{
    if (!strcmp(s, "async"))
        *out = RAFT_ACK_ASYNC;
    else if (!strcmp(s, "quorum"))
        *out = RAFT_ACK_QUORUM;
    else if (!strcmp(s, "sync"))
        *out = RAFT_ACK_SYNC;
    else
        return RAFT_EINVAL;
    return RAFT_OK;
}

int raft_policy_parse(const char *s, enum raft_election_policy *out)
{
    if (!strcmp(s, "highest-lsn"))
        *out = RAFT_ELECT_HIGHEST_LSN;
    else if (!strcmp(s, "raft"))
        *out = RAFT_ELECT_RAFT;
    else
        return RAFT_EINVAL;
    return RAFT_OK;
}

static const struct {
    const char *name;
    unsigned bit;
} unsafe_rules[] = {
    {"vote-any", RAFT_UNSAFE_VOTE_ANY},
    {"commit-old-term", RAFT_UNSAFE_COMMIT_OLD_TERM},
    {"keep-conflicts", RAFT_UNSAFE_KEEP_CONFLICTS},
    {"change-two-at-once", RAFT_UNSAFE_CHANGE_TWO},
};

int raft_unsafe_parse(const char *s, unsigned *out)
{
    for (size_t i = 0; i < sizeof(unsafe_rules) / sizeof(unsafe_rules[0]);
         i++)
        if (!strcmp(s, unsafe_rules[i].name)) {
            *out = unsafe_rules[i].bit;
            return RAFT_OK;
        }
    return RAFT_EINVAL;
}

const char *raft_unsafe_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(unsafe_rules) / sizeof(unsafe_rules[0]);
         i++)
        if (unsafe_rules[i].bit == bit)
            return unsafe_rules[i].name;
    return "?";
}

void raft_msg_free(struct raft_msg *m)
{
    if (m->entries)
        wal_entries_free(m->entries, m->n_entries);
    m->entries = NULL;
    m->n_entries = 0;
}

int raft_msg_copy(struct raft_msg *dst, const struct raft_msg *src)
{
    *dst = *src;
    dst->entries = NULL;
    if (!src->n_entries)
        return RAFT_OK;
    dst->entries = malloc(src->n_entries * sizeof(*dst->entries));
    if (!dst->entries) {
        dst->n_entries = 0;
        return RAFT_ENOMEM;
    }
    for (uint32_t i = 0; i < src->n_entries; i++) {
        dst->entries[i] = src->entries[i];
        wal_payload_ref(dst->entries[i].payload);
    }
    return RAFT_OK;
}
