/*
 * runner_say.c — the narrated timeline.
 *
 * Every line is "time  node  what happened (why)", built from the core's
 * own events and reasons (raft.h), so what a class reads is what the
 * protocol did, not a paraphrase of it.  Heartbeats and follower
 * bookkeeping stay out unless --verbose; discards of one node at one
 * moment become one line.  Colour only when asked (a TTY, no NO_COLOR).
 */
#include "sim/runner/runner_int.h"
#include "sim/util/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/trace.h"

const char *rs_c(struct runner *R, const char *code)
{
    return R->o.color ? code : "";
}

void rs_nodeset(char *buf, size_t cap, const bool *in, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 1; i <= n && len + 8 < cap; i++)
        if (in[i])
            len += (size_t)snprintf(buf + len, cap - len, "%sn%d",
                                    len ? "," : "", i);
}

/* "n1,n2: 2/3": who granted, of the voters of the node's configuration */
static void votes_text(char *buf, size_t cap, const raft_nodeset *s, int n,
                       const struct raft_node *r)
{
    int of = raft_nodeset_count(&raft_membership_get(r, NULL)->voters);
    bool in[SCN_MAX_NODES + 1] = {false};
    int k = 0;
    for (int i = 1; i <= n; i++)
        if (raft_nodeset_has(s, i)) {
            in[i] = true;
            k++;
        }
    char set[SCN_MAX_NODES * 5];
    rs_nodeset(set, sizeof(set), in, n);
    snprintf(buf, cap, "%s: %d/%d", set, k, of);
}

static void emit(struct runner *R, uint64_t t, int node, const char *color,
                 const char *text)
{
    if (R->o.quiet)
        return;
    char who[16] = "", safe[1024];
    if (node > 0)
        snprintf(who, sizeof(who), "n%d", node);
    rp_clear(R);
    /* keys, values and `say` text come from the file: escaped */
    fprintf(R->out, "%s%8.3f%s  %-4s %s%s%s\n", rs_c(R, C_DIM),
            (double)t / 1e6, rs_c(R, C_RESET), who, color ? rs_c(R, color) : "",
            util_escape_ctrl(text, safe, sizeof(safe)),
            color ? rs_c(R, C_RESET) : "");
}

void rs_flush(struct runner *R)
{
    if (!R->dpend.on)
        return;
    R->dpend.on = false;
    char range[64], terms[48], text[400];
    if (R->dpend.lo == R->dpend.hi)
        snprintf(range, sizeof(range), "lsn %llu",
                 (unsigned long long)R->dpend.lo);
    else
        snprintf(range, sizeof(range), "lsn %llu-%llu",
                 (unsigned long long)R->dpend.lo,
                 (unsigned long long)R->dpend.hi);
    if (R->dpend.term_lo == R->dpend.term_hi)
        snprintf(terms, sizeof(terms), "term %llu",
                 (unsigned long long)R->dpend.term_lo);
    else
        snprintf(terms, sizeof(terms), "terms %llu-%llu",
                 (unsigned long long)R->dpend.term_lo,
                 (unsigned long long)R->dpend.term_hi);
    const char *why = R->dpend.reason == RAFT_R_CRASH
                          ? "lost in the crash: never flushed to disk"
                          : "not on a majority: replaced by the leader's log";
    snprintf(text, sizeof(text), "discarded %s (%s: %s) — %s", range, terms,
             R->dpend.keys[0] ? R->dpend.keys : "no-op", why);
    emit(R, R->dpend.t, R->dpend.node, C_YELLOW, text);
}

void rs_line(struct runner *R, int node, const char *color, const char *fmt,
             ...)
{
    rs_flush(R);
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    emit(R, sim_now(R->c), node, color, text);
}

void rs_say(struct runner *R, const char *text)
{
    rs_flush(R);
    rp_clear(R);
    char safe[1024];
    fprintf(R->out, "%s%8.3f  ──   %s%s\n", rs_c(R, C_BOLD C_CYAN),
            (double)sim_now(R->c) / 1e6,
            util_escape_ctrl(text, safe, sizeof(safe)), rs_c(R, C_RESET));
}

static void note_discard(struct runner *R, const struct raft_event *ev)
{
    const char *key = ev->payload ? wal_payload_key(ev->payload) : "";
    if (R->n_disc == R->cap_disc) {
        R->cap_disc = R->cap_disc ? R->cap_disc * 2 : 32;
        struct rdiscard *d =
            realloc(R->disc, R->cap_disc * sizeof(*R->disc));
        if (!d) {
            R->cap_disc = R->n_disc;
            return;
        }
        R->disc = d;
    }
    struct rdiscard *d = &R->disc[R->n_disc++];
    d->node = ev->node;
    d->lsn = ev->lsn;
    d->term = ev->entry_term;
    snprintf(d->key, sizeof(d->key), "%s", key);

    uint64_t now = sim_now(R->c);
    if (R->dpend.on && (R->dpend.node != ev->node || R->dpend.t != now ||
                        R->dpend.reason != ev->reason))
        rs_flush(R);
    if (!R->dpend.on) {
        memset(&R->dpend, 0, sizeof(R->dpend));
        R->dpend.on = true;
        R->dpend.node = ev->node;
        R->dpend.reason = ev->reason;
        R->dpend.t = now;
        R->dpend.lo = R->dpend.hi = ev->lsn;
        R->dpend.term_lo = R->dpend.term_hi = ev->entry_term;
    }
    if (ev->lsn < R->dpend.lo)
        R->dpend.lo = ev->lsn;
    if (ev->lsn > R->dpend.hi)
        R->dpend.hi = ev->lsn;
    if (ev->entry_term < R->dpend.term_lo)
        R->dpend.term_lo = ev->entry_term;
    if (ev->entry_term > R->dpend.term_hi)
        R->dpend.term_hi = ev->entry_term;
    if (*key) {
        size_t len = strlen(R->dpend.keys);
        if (len + strlen(key) + 3 < sizeof(R->dpend.keys))
            snprintf(R->dpend.keys + len, sizeof(R->dpend.keys) - len, "%s%s",
                     len ? ", " : "", key);
        else if (len + 4 < sizeof(R->dpend.keys) &&
                 strcmp(R->dpend.keys + len - 3, "...") != 0)
            snprintf(R->dpend.keys + len, sizeof(R->dpend.keys) - len, "...");
    }
}

static void note_append_time(struct runner *R, const struct raft_event *ev)
{
    if (ev->lsn >= R->app_cap) {
        uint64_t cap = R->app_cap ? R->app_cap : 64;
        while (cap <= ev->lsn)
            cap *= 2;
        uint64_t *t = realloc(R->app_t, cap * sizeof(*t));
        if (!t)
            return;
        R->app_t = t;
        uint64_t *term = realloc(R->app_term, cap * sizeof(*term));
        if (!term)
            return;
        R->app_term = term;
        memset(R->app_t + R->app_cap, 0, (cap - R->app_cap) * sizeof(*t));
        memset(R->app_term + R->app_cap, 0,
               (cap - R->app_cap) * sizeof(*term));
        R->app_cap = cap;
    }
    R->app_t[ev->lsn] = sim_now(R->c);
    R->app_term[ev->lsn] = ev->entry_term;
}

static void role_line(struct runner *R, const struct raft_event *ev)
{
    int was = R->role[ev->node];
    R->role[ev->node] = ev->role;
    unsigned long long term = (unsigned long long)ev->term;
    char votes[SCN_MAX_NODES * 5 + 16];
    /* a round that ends without a win is explained (runner_round.c) */
    char round[SCN_MAX_NODES * 8 + 160];
    bool lost = ev->role == RAFT_FOLLOWER && ev->reason == RAFT_R_VOTE_LOST &&
                rr_failed_text(R, ev->node, round, sizeof(round));
    if ((ev->role == RAFT_PRECANDIDATE &&
         (was == RAFT_PRECANDIDATE || was == RAFT_CANDIDATE)) ||
        (ev->role == RAFT_CANDIDATE && was == RAFT_CANDIDATE)) {
        if (rr_failed_text(R, ev->node, round, sizeof(round)))
            rs_line(R, ev->node, NULL, "%s", round);
    }
    if (ev->role == RAFT_PRECANDIDATE || ev->role == RAFT_CANDIDATE)
        rr_begin(R, ev);
    else
        rr_end(R, ev->node);
    int xfer = R->xfer_to[ev->node]; /* a role change ends a transfer */
    R->xfer_to[ev->node] = 0;
    switch (ev->role) {
    case RAFT_FOLLOWER: {
        const char *lead = was == RAFT_LEADER ? "steps down: " : "";
        switch (ev->reason) {
        case RAFT_R_START:
            if (R->o.verbose)
                rs_line(R, ev->node, NULL, "follower term %llu (started)",
                        term);
            return;
        case RAFT_R_RESTART:
            if (term == 0 && !wal_last_lsn(raft_wal(sim_node(R->c, ev->node)))) {
                rs_line(R, ev->node, NULL, "follower term 0 (empty log)");
                return;
            }
            /* the commit point survives a crash (raft_crash keeps it,
             * as etcd's HardState does): say so, with its value */
            rs_line(R, ev->node, NULL,
                    "follower term %llu (restarted: term, vote, flushed WAL "
                    "and commit LSN %llu kept; the state machine is rebuilt)",
                    term,
                    (unsigned long long)raft_commit_lsn(
                        sim_node(R->c, ev->node)));
            return;
        case RAFT_R_HIGHER_TERM:
            if (was == RAFT_LEADER && xfer == ev->peer) {
                rs_line(R, ev->node, NULL,
                        "steps down: follower term %llu (saw term %llu from "
                        "n%d, the transfer's target)",
                        term, term, ev->peer);
                return;
            }
            rs_line(R, ev->node, was == RAFT_LEADER ? C_YELLOW : NULL,
                    "%sfollower term %llu (saw term %llu from n%d)", lead,
                    term, term, ev->peer);
            return;
        case RAFT_R_LEADER_SEEN:
            rs_line(R, ev->node, NULL,
                    "follower term %llu (heard from leader n%d)", term,
                    ev->peer);
            return;
        case RAFT_R_CHECK_QUORUM:
            rs_line(R, ev->node, C_YELLOW,
                    "%sfollower term %llu (CheckQuorum: no word from a "
                    "majority for an election timeout)",
                    lead, term);
            return;
        case RAFT_R_VOTE_LOST:
            if (lost)
                rs_line(R, ev->node, NULL, "follower term %llu (%s)", term,
                        round);
            else
                rs_line(R, ev->node, NULL,
                        "follower term %llu (a majority refused the vote)",
                        term);
            return;
        case RAFT_R_REMOVED:
            rs_line(R, ev->node, C_YELLOW,
                    "steps down: follower term %llu (its own removal "
                    "committed: it is no longer a voter, and a new leader "
                    "is elected among the voters)",
                    term);
            return;
        case RAFT_R_DEFERRED:
            if (R->o.verbose)
                rs_line(R, ev->node, NULL, "follower term %llu (deferred)",
                        term);
            return;
        default:
            rs_line(R, ev->node, NULL, "%sfollower term %llu (%s)", lead,
                    term, raft_reason_name(ev->reason));
            return;
        }
    }
    case RAFT_PRECANDIDATE:
        if (ev->reason == RAFT_R_DEFER_EXPIRED)
            rs_line(R, ev->node, NULL,
                    "pre-candidate for term %llu (waited for a more "
                    "up-to-date peer long enough: campaigns anyway)",
                    term + 1);
        else if (ev->reason == RAFT_R_CAMPAIGN)
            rs_line(R, ev->node, NULL,
                    "pre-candidate for term %llu (told to campaign now)",
                    term + 1);
        else if (ev->reason == RAFT_R_LEADER_CLOSED)
            rs_line(R, ev->node, NULL,
                    "connection to leader n%d closed — pre-vote now "
                    "(pre-candidate for term %llu; a live leader's "
                    "followers would refuse it)",
                    ev->peer, term + 1);
        else
            rs_line(R, ev->node, NULL,
                    "pre-candidate for term %llu (election timeout: no "
                    "leader heard for %.0fms)",
                    term + 1, (double)ev->until_us / 1000.0);
        return;
    case RAFT_CANDIDATE:
        if (ev->reason == RAFT_R_PREVOTE_WON) {
            votes_text(votes, sizeof(votes), &ev->votes, R->n,
                       sim_node(R->c, ev->node));
            rs_line(R, ev->node, NULL, "candidate term %llu (pre-vote won: %s)",
                    term, votes);
        } else if (ev->reason == RAFT_R_CAMPAIGN) {
            rs_line(R, ev->node, NULL, "candidate term %llu (told to "
                                       "campaign now)", term);
        } else if (ev->reason == RAFT_R_TIMEOUT_NOW) {
            rs_line(R, ev->node, NULL,
                    "campaigns at once (TimeoutNow from n%d, no pre-vote): "
                    "candidate term %llu",
                    ev->peer, term);
        } else {
            rs_line(R, ev->node, NULL,
                    "candidate term %llu (election timeout: no leader heard "
                    "for %.0fms)",
                    term, (double)ev->until_us / 1000.0);
        }
        return;
    case RAFT_LEADER:
        votes_text(votes, sizeof(votes), &ev->votes, R->n,
                       sim_node(R->c, ev->node));
        rs_line(R, ev->node, C_GREEN, "leader term %llu (votes %s)", term,
                votes);
        return;
    default:
        return;
    }
}


/* Leadership transfer (raft/transfer.c), as the leader tells it. */
static void transfer_line(struct runner *R, const struct raft_event *ev)
{
    int i = ev->node, to = ev->peer;
    unsigned long long last = ev->lsn, match = ev->cand_lsn;
    switch (ev->reason) {
    case RAFT_R_TRANSFER:
        R->xfer_to[i] = to;
        R->xfer_t0[i] = sim_now(R->c);
        R->xfer_sent[i] = R->xfer_told[i] = false;
        if (match >= last) {
            R->xfer_told[i] = true; /* TimeoutNow follows at once */
            rs_line(R, i, C_MAGENTA,
                    "transfers leadership to n%d (n%d is up to date at lsn "
                    "%llu) — sends TimeoutNow; refuses writes meanwhile",
                    to, to, last);
        } else {
            rs_line(R, i, C_MAGENTA,
                    "transfers leadership to n%d: refuses writes while it "
                    "brings n%d up to date (n%d matches up to lsn %llu of "
                    "%llu)",
                    to, to, to, match, last);
        }
        return;
    case RAFT_R_TIMEOUT_NOW:
        R->xfer_sent[i] = true;
        if (R->xfer_told[i]) {
            R->xfer_told[i] = false;
            return;
        }
        rs_line(R, i, C_MAGENTA,
                "n%d is up to date at lsn %llu — sends TimeoutNow (transfer "
                "to n%d)",
                to, last, to);
        return;
    case RAFT_R_TRANSFER_TIMEOUT: {
        double ms = (double)(sim_now(R->c) - R->xfer_t0[i]) / 1000.0;
        if (R->xfer_sent[i])
            rs_line(R, i, C_YELLOW,
                    "transfer to n%d abandoned after %.0fms (TimeoutNow "
                    "sent, but n%d did not take over within an election "
                    "timeout), accepts writes again",
                    to, ms, to);
        else
            rs_line(R, i, C_YELLOW,
                    "transfer to n%d abandoned after %.0fms (n%d still "
                    "matches only up to lsn %llu of %llu after an election "
                    "timeout), accepts writes again",
                    to, ms, to, match, last);
        R->xfer_to[i] = 0;
        return;
    }
    default:
        return;
    }
}

/* Snapshots (Raft §7): what was compacted, sent, installed. */
static void snapshot_line(struct runner *R, const struct raft_event *ev)
{
    switch (ev->reason) {
    case RAFT_R_COMPACT:
        rs_line(R, ev->node, NULL,
                "snapshot at lsn %llu (term %llu, %llu entries compacted)",
                (unsigned long long)ev->lsn,
                (unsigned long long)ev->entry_term,
                (unsigned long long)ev->count);
        break;
    case RAFT_R_SNAP_SEND:
        rs_line(R, ev->node, C_BOLD,
                "sends snapshot to n%d (lsn %llu, %llu bytes): the entries "
                "n%d needs next are compacted away",
                ev->peer, (unsigned long long)ev->lsn,
                (unsigned long long)ev->bytes, ev->peer);
        break;
    case RAFT_R_SNAP_INSTALL:
        rs_line(R, ev->node, C_BOLD,
                "installs snapshot from n%d (lsn %llu, term %llu, %llu "
                "bytes): rebuilds its state machine from it; %llu old "
                "entries up to lsn %llu dropped",
                ev->peer, (unsigned long long)ev->lsn,
                (unsigned long long)ev->entry_term,
                (unsigned long long)ev->bytes,
                (unsigned long long)ev->count, (unsigned long long)ev->lsn);
        break;
    }
}

void rs_hook(void *ctx, struct sim_cluster *c, const struct raft_event *ev)
{
    struct runner *R = ctx;
    if (ev->node < 1 || ev->node > R->n)
        return;
    (void)c;
    if (ev->kind == RAFT_EV_DISCARD) {
        note_discard(R, ev);
        return;
    }
    bool leader = R->role[ev->node] == RAFT_LEADER;
    switch (ev->kind) {
    case RAFT_EV_ROLE:
        role_line(R, ev);
        break;
    case RAFT_EV_VOTE: {
        rr_vote(R, ev);
        const char *what = ev->prevote ? "pre-vote" : "vote";
        if (ev->granted) {
            if (R->o.verbose)
                rs_line(R, ev->node, C_DIM, "grants its %s to n%d for term %llu",
                        what, ev->peer, (unsigned long long)ev->term);
        } else if (ev->reason == RAFT_R_LOG_BEHIND) {
            rs_line(R, ev->node, NULL,
                    "refuses its %s to n%d for term %llu: n%d's log (lsn %llu, "
                    "term %llu) is behind ours (lsn %llu, term %llu)",
                    what, ev->peer, (unsigned long long)ev->term, ev->peer,
                    (unsigned long long)ev->cand_lsn,
                    (unsigned long long)ev->cand_term,
                    (unsigned long long)ev->lsn,
                    (unsigned long long)ev->entry_term);
        } else if (R->o.verbose) {
            rs_line(R, ev->node, C_DIM, "refuses its %s to n%d for term %llu (%s)",
                    what, ev->peer, (unsigned long long)ev->term,
                    raft_reason_name(ev->reason));
        }
        break;
    }
    case RAFT_EV_DEFER: {
        const struct wal *w = raft_wal(sim_node(R->c, ev->node));
        rs_line(R, ev->node, NULL,
                "defers to n%d: its log (lsn %llu, term %llu) is ahead of ours "
                "(lsn %llu, term %llu); campaigns itself after %.3f if no "
                "leader appears",
                ev->peer, (unsigned long long)ev->lsn,
                (unsigned long long)ev->entry_term,
                (unsigned long long)wal_last_lsn(w),
                (unsigned long long)wal_last_term(w),
                (double)ev->until_us / 1e6);
        break;
    }
    case RAFT_EV_APPEND:
        if (leader)
            note_append_time(R, ev);
        if (ev->entry_type == WAL_ENTRY_CONFIG) {
            /* the leader's proposal was said (runner_member.c) */
            if (!leader && R->o.verbose)
                rs_line(R, ev->node, C_DIM,
                        "appends lsn %llu (term %llu): configuration %s",
                        (unsigned long long)ev->lsn,
                        (unsigned long long)ev->entry_term,
                        wal_payload_value(ev->payload));
        } else if (leader && ev->entry_type == WAL_ENTRY_NOOP)
            rs_line(R, ev->node, NULL,
                    "appends lsn %llu (term %llu): the no-op that starts its "
                    "term",
                    (unsigned long long)ev->lsn,
                    (unsigned long long)ev->entry_term);
        else if (R->o.verbose && ev->entry_type == WAL_ENTRY_NOOP)
            rs_line(R, ev->node, C_DIM, "appends lsn %llu: the no-op of term "
                                        "%llu",
                    (unsigned long long)ev->lsn,
                    (unsigned long long)ev->entry_term);
        else if (leader || R->o.verbose)
            rs_line(R, ev->node, leader ? NULL : C_DIM,
                    "appends lsn %llu (term %llu): %s=%s",
                    (unsigned long long)ev->lsn,
                    (unsigned long long)ev->entry_term,
                    wal_payload_key(ev->payload),
                    wal_payload_value(ev->payload));
        break;
    case RAFT_EV_COMMIT:
        if (leader || R->o.verbose)
            rs_line(R, ev->node, leader ? NULL : C_DIM,
                    "commit LSN %llu%s", (unsigned long long)ev->lsn,
                    leader ? " (on a majority)" : "");
        break;
    case RAFT_EV_ACK:
        if (R->o.verbose)
            rs_line(R, ev->node, C_DIM, "may acknowledge writes up to lsn %llu",
                    (unsigned long long)ev->lsn);
        break;
    case RAFT_EV_TRANSFER:
        transfer_line(R, ev);
        break;
    case RAFT_EV_SNAPSHOT:
        snapshot_line(R, ev);
        break;
    case RAFT_EV_CONFIG:
        rs_config_line(R, ev);
        break;
    case RAFT_EV_REJECT:
        rs_line(R, ev->node, C_RED,
                "drops a malformed %s from n%d (term %llu): %s",
                raft_msg_type_name(ev->msg_type), ev->peer,
                (unsigned long long)ev->msg_term,
                raft_reason_name(ev->reason));
        break;
    }
}

void rs_write_hook(void *ctx, struct sim_cluster *c, int widx)
{
    struct runner *R = ctx;
    const struct sim_write *w = sim_get_write(c, widx);
    const char *who = w->client >= 1 && w->client <= R->p->n_clients
                          ? R->p->clients[w->client - 1]
                          : "client";
    double ms = (double)(w->done_us - w->submit_us) / 1000.0;
    switch (w->outcome) {
    case SIM_PENDING:
        if (!R->o.verbose)
            break;
        if (w->retries == 0)
            rs_line(R, 0, C_DIM, "%s sends write %s=%s to n%d", who, w->key,
                    w->value, w->node);
        else if (w->retry_down)
            rs_line(R, 0, C_DIM, "%s write %s=%s: n%d is down: tries n%d", who,
                    w->key, w->value, w->retry_from, w->retry_to);
        else if (w->retry_hinted)
            rs_line(R, 0, C_DIM,
                    "%s write %s=%s: n%d is not the leader: redirected to n%d",
                    who, w->key, w->value, w->retry_from, w->retry_to);
        else
            rs_line(R, 0, C_DIM,
                    "%s write %s=%s: n%d is not the leader and knows none: "
                    "tries n%d after a heartbeat",
                    who, w->key, w->value, w->retry_from, w->retry_to);
        break;
    case SIM_ACKED:
        if (w->client >= 1 && w->client <= SCN_MAX_CLIENTS &&
            w->lsn > R->cl[w->client - 1].token)
            R->cl[w->client - 1].token = w->lsn; /* read-your-writes */
        rs_line(R, 0, C_BLUE,
                "%s write %s=%s: acknowledged by n%d (lsn %llu, term %llu) "
                "after %.1fms",
                who, w->key, w->value, w->node, (unsigned long long)w->lsn,
                (unsigned long long)w->term, ms);
        break;
    case SIM_REFUSED:
        if (w->transfer_to) {
            rs_line(R, 0, C_YELLOW,
                    "%s write %s=%s: refused by n%d — leadership transfer to "
                    "n%d in progress (retry at the new leader)",
                    who, w->key, w->value, w->node, w->transfer_to);
            break;
        }
        rs_line(R, 0, C_YELLOW,
                "%s write %s=%s: refused — 503 read-only: no leader", who,
                w->key, w->value);
        break;
    case SIM_UNKNOWN:
        if (w->done_us - w->submit_us < R->p->client_timeout_us)
            rs_line(R, 0, C_YELLOW,
                    "%s write %s=%s: no acknowledgement: n%d stopped leading "
                    "before it committed (after %.0fms): outcome unknown",
                    who, w->key, w->value, w->node, ms);
        else
            rs_line(R, 0, C_YELLOW,
                    "%s write %s=%s: no answer (timeout after %.0fms): "
                    "outcome unknown",
                    who, w->key, w->value, ms);
        break;
    }
}

void rs_violations(struct runner *R)
{
    uint64_t n = sim_violations(R->c);
    if (n <= R->violations_told)
        return;
    const struct sim_violation *v = sim_violation(R->c);
    if (R->violations_told == 0 && v) {
        rs_flush(R);
        fprintf(R->out, "%s%8.3f  !!   invariant violated: %s — %s%s\n",
                rs_c(R, C_BOLD C_RED), (double)v->t_us / 1e6, v->invariant,
                v->detail, rs_c(R, C_RESET));
    }
    R->violations_told = n;
}

void rs_status(struct runner *R)
{
    rs_flush(R);
    int l = rv_leader(R);
    fprintf(R->out,
            "          %snode  role                    term   lsn  commit  "
            "applied   lag: entries  bytes  seconds  follows%s\n",
            rs_c(R, C_BOLD), rs_c(R, C_RESET));
    for (int i = 1; i <= R->n; i++) {
        struct raft_node *r = sim_node(R->c, i);
        uint64_t e = 0, b = 0, us = 0;
        char lag[64] = "             -      -        -";
        if (l && rv_lag(R, i, &e, &b, &us))
            snprintf(lag, sizeof(lag), "%14llu %6llu %8.3f",
                     (unsigned long long)e, (unsigned long long)b,
                     (double)us / 1e6);
        char follows[16] = "-";
        int f = sim_is_up(R->c, i) ? raft_leader(r) : 0;
        if (f)
            snprintf(follows, sizeof(follows), "n%d", f);
        fprintf(R->out, "          n%-3d  %-22s %5llu %5llu %7llu %8llu %s  %s\n",
                i, rv_role_name(R, i), (unsigned long long)raft_term(r),
                (unsigned long long)rv_last_lsn(R, i),
                (unsigned long long)raft_commit_lsn(r),
                (unsigned long long)sim_applied_lsn(R->c, i), lag, follows);
    }
}
