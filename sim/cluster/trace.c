/*
 * trace.c — see trace.h.
 */
#include "sim/cluster/trace.h"

#include <inttypes.h>
#include <string.h>

void trace_init(struct trace *tr, FILE *f)
{
    tr->f = f;
    tr->hash = f ? UINT64_C(0xcbf29ce484222325) : 0;
    tr->len = 0;
}

static void put(struct trace *tr, const char *s, size_t n)
{
    if (tr->len + n >= sizeof(tr->buf) - 2) {
        tr->overflow = true;
        return;
    }
    memcpy(tr->buf + tr->len, s, n);
    tr->len += n;
}

static void puts_(struct trace *tr, const char *s) { put(tr, s, strlen(s)); }

static void put_escaped(struct trace *tr, const char *s, size_t n)
{
    put(tr, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            put(tr, esc, 2);
        } else if (ch < 0x20 || ch >= 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", ch);
            put(tr, esc, 6);
        } else {
            put(tr, (const char *)&ch, 1);
        }
    }
    put(tr, "\"", 1);
}

static void key(struct trace *tr, const char *k)
{
    put(tr, ",\"", 2);
    puts_(tr, k);
    put(tr, "\":", 2);
}

void trace_begin(struct trace *tr, uint64_t t_us, int node, const char *kind)
{
    tr->len = 0;
    tr->overflow = false;
    char b[64];
    int n = snprintf(b, sizeof(b), "{\"t_us\":%" PRIu64 ",\"node\":", t_us);
    put(tr, b, (size_t)n);
    if (node > 0) {
        n = snprintf(b, sizeof(b), "\"n%d\"", node);
        put(tr, b, (size_t)n);
    } else {
        puts_(tr, "\"cluster\"");
    }
    put(tr, ",\"kind\":", 8);
    put_escaped(tr, kind, strlen(kind));
}

void trace_str(struct trace *tr, const char *k, const char *val)
{
    trace_strn(tr, k, val, strlen(val));
}

void trace_strn(struct trace *tr, const char *k, const char *val, size_t len)
{
    key(tr, k);
    put_escaped(tr, val, len);
}

void trace_u64(struct trace *tr, const char *k, uint64_t v)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "%" PRIu64, v);
    key(tr, k);
    put(tr, b, (size_t)n);
}

void trace_f64(struct trace *tr, const char *k, double v)
{
    char b[32];
    int n = snprintf(b, sizeof(b), "%.6g", v);
    key(tr, k);
    put(tr, b, (size_t)n);
}

void trace_bool(struct trace *tr, const char *k, bool v)
{
    key(tr, k);
    puts_(tr, v ? "true" : "false");
}

void trace_node(struct trace *tr, const char *k, int id)
{
    char b[16];
    int n = snprintf(b, sizeof(b), "\"n%d\"", id);
    key(tr, k);
    put(tr, b, (size_t)n);
}

void trace_nodeset(struct trace *tr, const char *k, const raft_nodeset *s,
                   int n_nodes)
{
    key(tr, k);
    put(tr, "[", 1);
    bool first = true;
    for (int i = 1; i <= n_nodes; i++) {
        if (!raft_nodeset_has(s, i))
            continue;
        char b[16];
        int n = snprintf(b, sizeof(b), "%s\"n%d\"", first ? "" : ",", i);
        put(tr, b, (size_t)n);
        first = false;
    }
    put(tr, "]", 1);
}

void trace_raw(struct trace *tr, const char *k, const char *json)
{
    key(tr, k);
    puts_(tr, json);
}

void trace_end(struct trace *tr)
{
    if (tr->overflow) { /* never silently cut a line: mark it */
        tr->len = sizeof(tr->buf) - 40;
        tr->overflow = false;
        trace_bool(tr, "truncated", true);
    }
    put(tr, "}\n", 2);
    for (size_t i = 0; i < tr->len; i++)
        tr->hash = (tr->hash ^ (unsigned char)tr->buf[i]) *
                   UINT64_C(0x100000001b3);
    fwrite(tr->buf, 1, tr->len, tr->f);
}

/* The most of a value a trace line carries (the line is at most 2 KiB
 * and every byte may need six to escape); longer ones are cut and marked
 * "value_cut":true. */
#define TRACE_VALUE_MAX 160

/* Appended to the contract later: the entry's value, after the fields
 * that were there first (noop entries have none). */
static void value_field(struct trace *tr, const struct raft_event *ev)
{
    if (ev->entry_type == WAL_ENTRY_NOOP || !ev->payload)
        return;
    size_t n = ev->payload->value_len;
    trace_strn(tr, "value", wal_payload_value(ev->payload),
               n > TRACE_VALUE_MAX ? TRACE_VALUE_MAX : n);
    if (n > TRACE_VALUE_MAX)
        trace_bool(tr, "value_cut", true);
}

static void entry_fields(struct trace *tr, const struct raft_event *ev)
{
    trace_u64(tr, "lsn", ev->lsn);
    trace_u64(tr, "term", ev->entry_term);
    if (ev->entry_type == WAL_ENTRY_NOOP) {
        trace_str(tr, "key", "");
        trace_bool(tr, "noop", true);
    } else {
        trace_strn(tr, "key", wal_payload_key(ev->payload),
                   ev->payload ? ev->payload->key_len : 0);
        if (ev->entry_type == WAL_ENTRY_CONFIG) /* value: its text */
            trace_bool(tr, "config", true);
    }
}

void trace_raft_event(struct trace *tr, uint64_t t_us,
                      const struct raft_event *ev, int n_nodes)
{
    trace_begin(tr, t_us, ev->node, raft_event_kind_name(ev->kind));
    switch (ev->kind) {
    case RAFT_EV_ROLE:
        trace_str(tr, "role", raft_role_name(ev->role));
        trace_u64(tr, "term", ev->term);
        trace_str(tr, "reason", raft_reason_name(ev->reason));
        if (ev->peer)
            trace_node(tr, "peer", ev->peer);
        if (ev->role == RAFT_LEADER) {
            trace_nodeset(tr, "votes", &ev->votes, n_nodes);
            trace_u64(tr, "quorum", (uint64_t)ev->quorum);
        }
        if (ev->role == RAFT_PRECANDIDATE || ev->role == RAFT_CANDIDATE)
            trace_u64(tr, "timeout_us", ev->until_us);
        break;
    case RAFT_EV_VOTE:
        trace_u64(tr, "term", ev->term);
        trace_node(tr, "candidate", ev->peer);
        trace_bool(tr, "granted", ev->granted);
        trace_bool(tr, "prevote", ev->prevote);
        trace_str(tr, "reason", raft_reason_name(ev->reason));
        if (ev->reason == RAFT_R_ALREADY_VOTED && ev->rival)
            trace_node(tr, "voted_for", ev->rival);
        trace_u64(tr, "last_lsn", ev->lsn);
        trace_u64(tr, "last_term", ev->entry_term);
        trace_u64(tr, "candidate_last_lsn", ev->cand_lsn);
        trace_u64(tr, "candidate_last_term", ev->cand_term);
        break;
    case RAFT_EV_DEFER:
        trace_u64(tr, "term", ev->term);
        trace_node(tr, "to", ev->peer);
        trace_u64(tr, "peer_last_lsn", ev->lsn);
        trace_u64(tr, "peer_last_term", ev->entry_term);
        trace_u64(tr, "until_us", ev->until_us);
        break;
    case RAFT_EV_APPEND:
        entry_fields(tr, ev);
        value_field(tr, ev);
        break;
    case RAFT_EV_DISCARD:
        entry_fields(tr, ev);
        trace_str(tr, "reason", raft_reason_name(ev->reason));
        value_field(tr, ev);
        break;
    case RAFT_EV_COMMIT:
    case RAFT_EV_ACK:
        trace_u64(tr, "lsn", ev->lsn);
        break;
    case RAFT_EV_REJECT:
        trace_node(tr, "from", ev->peer);
        trace_str(tr, "type", raft_msg_type_name(ev->msg_type));
        trace_u64(tr, "msg_term", ev->msg_term);
        trace_u64(tr, "term", ev->term);
        trace_str(tr, "reason", raft_reason_name(ev->reason));
        if (ev->lsn)
            trace_u64(tr, "lsn", ev->lsn);
        break;
    case RAFT_EV_TRANSFER:
        trace_u64(tr, "term", ev->term);
        trace_node(tr, "to", ev->peer);
        trace_str(tr, "reason", raft_reason_name(ev->reason));
        trace_u64(tr, "lsn", ev->lsn);
        trace_u64(tr, "match_lsn", ev->cand_lsn);
        trace_u64(tr, "until_us", ev->until_us);
        break;
    case RAFT_EV_SNAPSHOT:
        trace_str(tr, "reason", raft_reason_name(ev->reason));
        trace_u64(tr, "lsn", ev->lsn);
        trace_u64(tr, "term", ev->entry_term);
        trace_u64(tr, "entries", ev->count);
        trace_u64(tr, "bytes", ev->bytes);
        if (ev->reason == RAFT_R_SNAP_SEND)
            trace_node(tr, "to", ev->peer);
        else if (ev->reason == RAFT_R_SNAP_INSTALL)
            trace_node(tr, "from", ev->peer);
        break;
    case RAFT_EV_CONFIG:
        trace_str(tr, "reason", raft_reason_name(ev->reason));
        trace_u64(tr, "lsn", ev->lsn);
        trace_nodeset(tr, "voters", &ev->votes, n_nodes);
        trace_nodeset(tr, "learners", &ev->learners, n_nodes);
        break;
    }
    trace_end(tr);
}

void trace_msg(struct trace *tr, uint64_t t_us, const char *kind,
               const struct raft_msg *m, uint64_t id, const char *reason)
{
    bool is_recv = !strcmp(kind, "recv");
    trace_begin(tr, t_us, is_recv ? m->to : m->from, kind);
    trace_node(tr, is_recv ? "from" : "to", is_recv ? m->from : m->to);
    trace_str(tr, "type", raft_msg_type_name(m->type));
    trace_u64(tr, "term", m->term);
    if (id)
        trace_u64(tr, "id", id);
    if (reason || (is_recv && id)) { /* the send said the rest */
        if (reason)
            trace_str(tr, "reason", reason);
        trace_end(tr);
        return;
    }
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        trace_u64(tr, "last_lsn", m->last_lsn);
        trace_u64(tr, "last_term", m->last_term);
        if (m->transfer)
            trace_bool(tr, "transfer", true);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        trace_bool(tr, "granted", m->granted);
        break;
    case RAFT_MSG_APPEND:
        trace_u64(tr, "prev_lsn", m->prev_lsn);
        trace_u64(tr, "entries", m->n_entries);
        trace_u64(tr, "commit_lsn", m->commit_lsn);
        break;
    case RAFT_MSG_APPEND_RESP:
        trace_bool(tr, "success", m->success);
        trace_u64(tr, "match_lsn", m->match_lsn);
        break;
    case RAFT_MSG_SNAPSHOT: {
        const struct wal_payload *p =
            m->n_entries ? m->entries[0].payload : NULL;
        trace_u64(tr, "last_lsn", m->last_lsn);
        trace_u64(tr, "last_term", m->last_term);
        trace_u64(tr, "offset", m->snap_offset);
        trace_u64(tr, "bytes", p ? p->value_len : 0);
        trace_bool(tr, "done", m->snap_done);
        break;
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        trace_u64(tr, "last_lsn", m->last_lsn);
        trace_bool(tr, "success", m->success);
        trace_u64(tr, "match_lsn", m->match_lsn);
        trace_u64(tr, "offset", m->snap_offset);
        break;
    }
    trace_end(tr);
}
