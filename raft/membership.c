/*
 * membership.c — cluster membership changes (Raft thesis §4.1-§4.2,
 * single-server changes; etcd's learners).
 *
 * A configuration is a set of voters (they vote and count toward every
 * majority: commit, election, CheckQuorum, PreVote) and a set of learners
 * (they receive the log and nothing else).  It travels as a log entry of
 * type WAL_ENTRY_CONFIG whose value is its text, "voters=1,2,3
 * learners=6".  Rules:
 *   - every server uses the latest configuration in its log, committed or
 *     not, from the moment the entry is appended (§4.1); if that entry is
 *     truncated away it goes back to the one before (conf_reload);
 *   - a change adds or removes one voter at a time (any two majorities of
 *     configurations one voter apart overlap); learners may come and go
 *     freely, they are in no majority;
 *   - at most one change is uncommitted at a time;
 *   - a leader proposes a change only after it committed an entry of its
 *     own term (Ongaro, raft-dev, 2015-07: otherwise a change left
 *     uncommitted by an earlier leader and one of the new leader can
 *     have disjoint majorities);
 *   - a leader that removed itself keeps replicating without counting
 *     itself, and steps down once the removal commits (§4.2.2);
 *   - a snapshot carries the configuration at its last included lsn.
 */
#include "raft/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool raft__is_voter(const struct raft_node *n, int id)
{
    return id >= 1 && id <= n->cfg.n_nodes &&
           raft_nodeset_has(&n->conf.voters, id);
}

bool raft__may_stand(const struct raft_node *n)
{
    if (n->cfg.nofailover)
        return false;
    return raft__is_voter(n, n->cfg.id) || n->conf_lsn > n->commit_lsn;
}

bool raft__is_member(const struct raft_node *n, int id)
{
    return id >= 1 && id <= n->cfg.n_nodes &&
           (raft_nodeset_has(&n->conf.voters, id) ||
            raft_nodeset_has(&n->conf.learners, id));
}

static bool nodeset_intersects(const raft_nodeset *a, const raft_nodeset *b)
{
    for (size_t i = 0; i < sizeof(a->bits) / sizeof(a->bits[0]); i++)
        if (a->bits[i] & b->bits[i])
            return true;
    return false;
}

/* How many voters are in one set and not the other. */
static int voters_changed(const struct raft_membership *a,
                          const struct raft_membership *b)
{
    int c = 0;
    for (size_t i = 0; i < sizeof(a->voters.bits) / sizeof(a->voters.bits[0]);
         i++)
        c += __builtin_popcountll(a->voters.bits[i] ^ b->voters.bits[i]);
    return c;
}

int raft_membership_format(const struct raft_membership *c, char *buf,
                           size_t len)
{
    size_t o = 0;
    int w = snprintf(buf, len, "voters=");
    for (int pass = 0; pass < 2 && w >= 0; pass++) {
        const raft_nodeset *s = pass ? &c->learners : &c->voters;
        if (pass)
            w = snprintf(buf + o, o < len ? len - o : 0, " learners=");
        o += (size_t)w;
        bool first = true;
        for (int id = 1; id <= RAFT_MAX_NODES && w >= 0; id++) {
            if (!raft_nodeset_has(s, id))
                continue;
            w = snprintf(buf + o, o < len ? len - o : 0, "%s%d",
                         first ? "" : ",", id);
            o += (size_t)w;
            first = false;
        }
    }
    return w < 0 ? -1 : (int)o;
}

/* "1,2,3" up to end (may be empty); ids in 1..n_nodes. */
static int parse_ids(const char *s, const char *end, int n_nodes,
                     raft_nodeset *out)
{
    while (s < end) {
        int id = 0, digits = 0;
        while (s < end && *s >= '0' && *s <= '9' && digits < 6) {
            id = id * 10 + (*s++ - '0');
            digits++;
        }
        if (!digits || id < 1 || id > n_nodes || raft_nodeset_has(out, id))
            return -1;
        raft_nodeset_add(out, id);
        if (s < end && *s++ != ',')
            return -1;
        if (s == end && s[-1] == ',')
            return -1;
    }
    return 0;
}

int raft_membership_parse(const char *s, size_t len, int n_nodes,
                          struct raft_membership *out)
{
    static const char v[] = "voters=", l[] = " learners=";
    memset(out, 0, sizeof(*out));
    if (n_nodes < 1 || n_nodes > RAFT_MAX_NODES || len < sizeof(v) - 1 ||
        memcmp(s, v, sizeof(v) - 1))
        return -1;
    const char *end = s + len, *p = s + sizeof(v) - 1;
    const char *mid = NULL;
    for (const char *q = p; q + sizeof(l) - 1 <= end; q++)
        if (!memcmp(q, l, sizeof(l) - 1)) {
            mid = q;
            break;
        }
    if (!mid || parse_ids(p, mid, n_nodes, &out->voters) ||
        parse_ids(mid + sizeof(l) - 1, end, n_nodes, &out->learners) ||
        raft_nodeset_count(&out->voters) == 0 ||
        nodeset_intersects(&out->voters, &out->learners))
        return -1;
    return 0;
}

struct wal_payload *raft__conf_payload(const struct raft_membership *c)
{
    char buf[8 * RAFT_MAX_NODES + 32];
    int len = raft_membership_format(c, buf, sizeof(buf));
    if (len < 0 || (size_t)len >= sizeof(buf))
        abort();
    return wal_payload_new("", 0, buf, (size_t)len);
}

int raft__conf_decode(const struct raft_node *n, const struct wal_entry *e,
                      struct raft_membership *out)
{
    if (e->type != WAL_ENTRY_CONFIG || !e->payload || e->payload->key_len)
        return -1;
    return raft_membership_parse(wal_payload_value(e->payload),
                                 e->payload->value_len, n->cfg.n_nodes, out);
}

static void conf_event(struct raft_node *n, int reason, uint64_t lsn)
{
    struct raft_event *ev = raft__event(n, RAFT_EV_CONFIG);
    ev->reason = (uint8_t)reason;
    ev->lsn = lsn;
    ev->votes = n->conf.voters;
    ev->learners = n->conf.learners;
}

/* Put c in force (its entry at lsn, 0: none).  A leader starts
 * replicating to members it did not have and lets go of those it lost. */
static void conf_install(struct raft_node *n, const struct raft_membership *c,
                         uint64_t lsn)
{
    struct raft_membership old = n->conf;
    n->conf = *c;
    n->conf_lsn = lsn;
    n->n_voters = raft_nodeset_count(&c->voters);
    n->quorum = n->n_voters / 2 + 1;
    n->above_valid = false;
    if (n->role != RAFT_LEADER)
        return;
    uint64_t last = wal_last_lsn(&n->wal);
    for (int i = 1; i <= n->cfg.n_nodes; i++) {
        if (i == n->cfg.id)
            continue;
        bool was = raft_nodeset_has(&old.voters, i) ||
                   raft_nodeset_has(&old.learners, i);
        bool is = raft__is_member(n, i);
        if (was == is)
            continue;
        struct raft_progress *p = &n->prog[i];
        raft__snapshot_stop(p);
        memset(p, 0, sizeof(*p));
        p->next_lsn = last + 1;
        p->probe = true;
        p->recent_active = true; /* a newcomer gets a CheckQuorum round */
    }
}

void raft__conf_init(struct raft_node *n)
{
    struct raft_membership c = n->cfg.members;
    if (raft_nodeset_count(&c.voters) == 0) {
        memset(&c, 0, sizeof(c));
        for (int i = 1; i <= n->cfg.n_nodes; i++)
            raft_nodeset_add(&c.voters, i);
    }
    n->conf_base = c;
    conf_install(n, &c, 0);
}

int raft__conf_valid(const struct raft_config *cfg)
{
    const struct raft_membership *c = &cfg->members;
    if (raft_nodeset_count(&c->voters) == 0)
        return raft_nodeset_count(&c->learners) == 0 ? 0 : -1;
    for (int i = cfg->n_nodes + 1; i <= RAFT_MAX_NODES; i++)
        if (raft_nodeset_has(&c->voters, i) ||
            raft_nodeset_has(&c->learners, i))
            return -1;
    return raft_nodeset_has(&c->voters, 0) ||
                   raft_nodeset_has(&c->learners, 0) ||
                   nodeset_intersects(&c->voters, &c->learners)
               ? -1
               : 0;
}

/* The configuration as of lsn: the latest config entry at or below it
 * still in the log, else the base's (initial or snapshot). */
void raft__conf_at(const struct raft_node *n, uint64_t lsn,
                   struct raft_membership *out, uint64_t *at)
{
    if (lsn > wal_last_lsn(&n->wal))
        lsn = wal_last_lsn(&n->wal);
    for (uint64_t l = lsn; l > n->wal.base_lsn; l--) {
        const struct wal_entry *e = wal_get(&n->wal, l);
        if (e->type == WAL_ENTRY_CONFIG && raft__conf_decode(n, e, out) == 0) {
            if (at)
                *at = l;
            return;
        }
    }
    *out = n->conf_base;
    if (at)
        *at = 0;
}

/* A config entry was appended at lsn (leader or follower). */
void raft__conf_appended(struct raft_node *n, uint64_t lsn)
{
    struct raft_membership c;
    if (raft__conf_decode(n, wal_get(&n->wal, lsn), &c) != 0)
        return; /* validate.c keeps these out */
    conf_install(n, &c, lsn);
    conf_event(n, RAFT_R_CONF_ADOPT, lsn);
}

/* The log was truncated (a conflict, a crash, a snapshot install): if the
 * entry in force went with it, the latest one left is in force again. */
void raft__conf_reload(struct raft_node *n, bool force)
{
    if (!force && n->conf_lsn <= wal_last_lsn(&n->wal))
        return;
    struct raft_membership c;
    uint64_t at;
    raft__conf_at(n, wal_last_lsn(&n->wal), &c, &at);
    conf_install(n, &c, at);
    conf_event(n, force ? RAFT_R_CONF_ADOPT : RAFT_R_CONF_REVERT, at);
}

/* The commit point moved from `from`: a config entry may have committed;
 * a leader that is no longer a voter steps down (thesis §4.2.2). */
void raft__conf_commit(struct raft_node *n, uint64_t from)
{
    if (n->conf_lsn <= from || n->conf_lsn > n->commit_lsn)
        return;
    conf_event(n, RAFT_R_CONF_COMMIT, n->conf_lsn);
    if (n->role == RAFT_LEADER && !raft__is_voter(n, n->cfg.id))
        raft__become_follower(n, n->term, RAFT_NONE, RAFT_R_REMOVED,
                              RAFT_NONE);
}

int raft_propose_membership(struct raft_node *n, raft_time_t now_us,
                            const struct raft_membership *to,
                            uint64_t *lsn_out)
{
    int rc = raft__can_propose(n);
    if (rc != RAFT_OK)
        return rc;
    struct raft_config probe = n->cfg;
    probe.members = *to;
    int changed = voters_changed(&n->conf, to);
    if (raft_nodeset_count(&to->voters) == 0 || raft__conf_valid(&probe) ||
        changed > ((n->cfg.unsafe & RAFT_UNSAFE_CHANGE_TWO) ? 2 : 1) ||
        !memcmp(to, &n->conf, sizeof(*to)))
        return RAFT_EINVAL;
    /* One change at a time, and only once this leader committed an entry
     * of its own term (its no-op): that entry proves no change of an
     * earlier leader is pending that it does not know of. */
    if (n->conf_lsn > n->commit_lsn ||
        wal_term_at(&n->wal, n->commit_lsn) != n->term)
        return RAFT_EBUSY;
    struct wal_payload *p = raft__conf_payload(to);
    if (!p)
        return RAFT_ENOMEM;
    uint64_t lsn;
    rc = raft__append_own(n, now_us, WAL_ENTRY_CONFIG, p, &lsn);
    if (rc != RAFT_OK)
        return rc;
    raft__conf_appended(n, lsn);
    if (lsn_out)
        *lsn_out = lsn;
    return RAFT_OK;
}

int raft_change_membership(struct raft_node *n, raft_time_t now_us,
                           enum raft_member_op op, int node,
                           uint64_t *lsn_out)
{
    if (node < 1 || node > n->cfg.n_nodes)
        return RAFT_EINVAL;
    struct raft_membership c = n->conf;
    bool voter = raft_nodeset_has(&c.voters, node);
    bool learner = raft_nodeset_has(&c.learners, node);
    uint64_t bit = UINT64_C(1) << (node % 64);
    switch (op) {
    case RAFT_ADD_VOTER:
    case RAFT_ADD_LEARNER:
        if (voter || learner)
            return RAFT_EINVAL;
        raft_nodeset_add(op == RAFT_ADD_VOTER ? &c.voters : &c.learners,
                         node);
        break;
    case RAFT_PROMOTE:
        if (!learner)
            return RAFT_EINVAL;
        c.learners.bits[node / 64] &= ~bit;
        raft_nodeset_add(&c.voters, node);
        break;
    case RAFT_REMOVE:
        if (!voter && !learner)
            return RAFT_EINVAL;
        c.voters.bits[node / 64] &= ~bit;
        c.learners.bits[node / 64] &= ~bit;
        break;
    default:
        return RAFT_EINVAL;
    }
    return raft_propose_membership(n, now_us, &c, lsn_out);
}

const struct raft_membership *raft_membership_get(const struct raft_node *n,
                                                  uint64_t *lsn)
{
    if (lsn)
        *lsn = n->conf_lsn;
    return &n->conf;
}
