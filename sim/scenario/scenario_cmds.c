/*
 * scenario_cmds.c — one function per scenario command (link, write,
 * read, await, expect, say, let, …), each from its keyword to the end of
 * its line, filling a scn_cmd.  See scenario_parse.c for the whole.
 */
#include "sim/scenario/scenario_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util/util.h"

/* ------------------------------------------------------------------ */
/* Commands                                                            */

static struct scn_set *add_sets(struct scn_cmd *cmd, int n)
{
    struct scn_set *s = realloc(cmd->sets, (size_t)(cmd->n_sets + n) * sizeof(*s));
    if (!s)
        return NULL;
    memset(s + cmd->n_sets, 0, (size_t)n * sizeof(*s));
    cmd->sets = s;
    cmd->n_sets += n;
    return s + cmd->n_sets - n;
}

bool scn__one_set(struct parser *P, struct scn_cmd *cmd)
{
    struct scn_set *s = add_sets(cmd, 1);
    if (!s) {
        scn__error_at(P, 1, "out of memory");
        return false;
    }
    return scn__set_ref(P, s);
}

bool scn__arrow(struct parser *P, bool *both)
{
    if (scn__accept(P, "->")) {
        *both = false;
        return true;
    }
    if (scn__accept(P, "<->")) {
        *both = true;
        return true;
    }
    static const char *const c[] = {"->", "<->"};
    scn__expected(P, "'->' (one way) or '<->' (both ways)", c, 2);
    return false;
}

static const char *const outcome_words[] = {
    [SCN_OUT_NONE] = NULL,           [SCN_OUT_ACKED] = "acked",
    [SCN_OUT_COMMITTED] = "committed", [SCN_OUT_REFUSED] = "refused",
    [SCN_OUT_TIMEOUT] = "timeout",   [SCN_OUT_LOST] = "lost",
};
#define N_OUTCOMES ((int)(sizeof(outcome_words) / sizeof(*outcome_words)))

const char *scn_outcome_name(enum scn_outcome o)
{
    return (int)o > 0 && (int)o < N_OUTCOMES ? outcome_words[o] : "none";
}

static const char *const route_words[] = {
    [SCN_ROUTE_LEADER] = "leader",       [SCN_ROUTE_ANY] = "any",
    [SCN_ROUTE_FOLLOWER] = "follower",   [SCN_ROUTE_NODE] = "node",
    [SCN_ROUTE_MONOTONIC] = "monotonic", [SCN_ROUTE_RYW] = "ryw",
};

const char *scn_route_name(enum scn_route r)
{
    return (int)r >= 0 && (size_t)r < sizeof(route_words) / sizeof(*route_words)
               ? route_words[r]
               : "?";
}

bool scn__within(struct parser *P, struct scn_cmd *cmd)
{
    if (!scn__accept(P, "within"))
        return true;
    if (!scn__duration(P, "the time limit", &cmd->within_us))
        return false;
    if (cmd->within_us == 0) {
        scn__error_tok(P, &P->t[P->i - 1], "the time limit must be more than 0");
        return false;
    }
    return true;
}

bool scn__c_link(struct parser *P, struct scn_cmd *cmd)
{
    if (!scn__one_set(P, cmd) || !scn__arrow(P, &cmd->both_ways) || !scn__one_set(P, cmd))
        return false;
    if (scn__accept(P, "reset")) {
        cmd->reset = true;
        return scn__end_of_line(P);
    }
    static const char *const opts[] = {"latency", "jitter", "drop", "dup",
                                       "reset"};
    while (!scn__at_end(P)) {
        int k = scn__keyword(P, "a link setting (latency, jitter, drop, dup)", opts, 4);
        if (k < 0)
            return false;
        bool *has[] = {&cmd->has_latency, &cmd->has_jitter, &cmd->has_drop,
                       &cmd->has_dup};
        if (*has[k]) {
            scn__error_tok(P, &P->t[P->i - 1], "%s is given twice", opts[k]);
            return false;
        }
        *has[k] = true;
        bool ok = k == 0   ? scn__duration(P, "latency", &cmd->latency_us)
                  : k == 1 ? scn__duration(P, "jitter", &cmd->jitter_us)
                  : k == 2 ? scn__probability(P, "drop", &cmd->drop)
                           : scn__probability(P, "dup", &cmd->dup);
        if (!ok)
            return false;
    }
    if (!cmd->has_latency && !cmd->has_jitter && !cmd->has_drop && !cmd->has_dup) {
        scn__error_tok(P, scn__cur(P),
                  "a link needs a setting: latency D, jitter D, drop P, dup P, "
                  "or reset");
        return false;
    }
    return true;
}

bool scn__c_write(struct parser *P, struct scn_cmd *cmd)
{
    if ((cmd->client = scn__client(P, true)) < 0)
        return false;
    struct tok *t = scn__cur(P);
    const char *eq = t->k == T_WORD ? memchr(t->s, '=', (size_t)t->len) : NULL;
    if (!eq) {
        char b[64];
        scn__error_tok(P, t, "expected KEY=VALUE (e.g. x=1), got %s",
                  scn__shown(t, b, sizeof(b)));
        return false;
    }
    int kl = (int)(eq - t->s), vl = t->len - kl - 1;
    if (vl == 0 && P->t[P->i + 1].k == T_STR &&
        P->t[P->i + 1].col == t->col + t->len) {
        /* msg="hello world": the value is there, in a form not allowed */
        scn__error_tok(P, &P->t[P->i + 1],
                       "a value is one word without quotes or spaces "
                       "(letters, digits, _ - . : /), e.g. %.*s=hello-world",
                       kl > 20 ? 20 : kl, t->s);
        return false;
    }
    if (!scn__check_key(P, t->col, t->s, kl, "key") ||
        !scn__check_key(P, t->col + kl + 1, eq + 1, vl, "value"))
        return false;
    memcpy(cmd->key, t->s, (size_t)kl);
    memcpy(cmd->value, eq + 1, (size_t)vl);
    P->i++;
    if (scn__accept(P, "via") && !scn__accept(P, "leader") && !scn__node_ref(P, &cmd->via))
        return false;
    if (scn__accept(P, "expect") &&
        !scn__outcome_set(P, &cmd->outcomes, &cmd->outcome_not, &cmd->outcome))
        return false;
    if (!scn__within(P, cmd))
        return false;
    return scn__end_of_line(P);
}

bool scn__c_read(struct parser *P, struct scn_cmd *cmd)
{
    if ((cmd->client = scn__client(P, true)) < 0 || !scn__key(P, cmd->key))
        return false;
    cmd->route = SCN_ROUTE_LEADER;
    if (scn__accept(P, "from")) {
        static const char *const r[] = {"leader", "any", "follower",
                                        "monotonic", "ryw"};
        static const enum scn_route rv[] = {SCN_ROUTE_LEADER, SCN_ROUTE_ANY,
                                            SCN_ROUTE_FOLLOWER,
                                            SCN_ROUTE_MONOTONIC, SCN_ROUTE_RYW};
        int k = -1;
        for (int j = 0; j < 5 && k < 0; j++)
            if (scn__accept(P, r[j]))
                k = j;
        if (k >= 0)
            cmd->route = rv[k];
        else {
            struct tok *t = scn__cur(P);
            if (t->k == T_WORD && !scn__is_var_ident(t->s, t->len) &&
                !(t->s[0] == 'n' && t->len >= 2 && isdigit((unsigned char)t->s[1]))) {
                scn__expected(P,
                         "a route (leader, any, follower, monotonic, ryw) or "
                         "a node",
                         r, 5);
                return false;
            }
            if (!scn__node_ref(P, &cmd->from))
                return false;
            cmd->route = SCN_ROUTE_NODE;
        }
    }
    if (scn__accept(P, "expect")) {
        if (scn__accept(P, "fresh"))
            cmd->read_expect = SCN_READ_FRESH;
        else if (scn__accept(P, "stale"))
            cmd->read_expect = SCN_READ_STALE;
        else if (scn__accept(P, "missing"))
            cmd->read_expect = SCN_READ_MISSING;
        else {
            struct tok *t = scn__cur(P);
            if (t->k != T_WORD && t->k != T_STR) {
                char b[64];
                scn__error_tok(P, t,
                          "expected a value, fresh, stale or missing, got %s",
                          scn__shown(t, b, sizeof(b)));
                return false;
            }
            /* a bare word that reads like an outcome is not taken as a
             * value silently: `expect old` meant stale, most likely */
            const char *like = t->k == T_WORD ? scn__outcome_like(t) : NULL;
            if (like) {
                scn__error_tok(P, t,
                               "'%.*s' would be read as the value \"%.*s\"; "
                               "did you mean '%s'? (to expect that value, "
                               "quote it: expect \"%.*s\")",
                               t->len, t->s, t->len, t->s, like, t->len,
                               t->s);
                return false;
            }
            if (!scn__check_key(P, t->col + (t->k == T_STR), t->s, t->len,
                                "value"))
                return false;
            memcpy(cmd->value, t->s, (size_t)t->len);
            cmd->value[t->len] = 0;
            cmd->read_expect = SCN_READ_VALUE;
            P->i++;
        }
    }
    return scn__end_of_line(P);
}

/* KEY [on NODE], in `await committed` and `expect committed`. */
static bool key_on_node(struct parser *P, char *key, struct scn_node *node,
                        bool *has_node)
{
    if (!scn__key(P, key))
        return false;
    if (!scn__accept(P, "on"))
        return true;
    *has_node = true;
    return scn__node_ref(P, node);
}

bool scn__c_await(struct parser *P, struct scn_cmd *cmd)
{
    static const char *const what[] = {"leader", "follower", "committed",
                                       "caught-up", "write"};
    int k = scn__keyword(P, "leader, follower, committed, caught-up or write",
                         what, 5);
    if (k < 0)
        return false;
    cmd->await = (enum scn_await_kind)k;
    cmd->bind_var = -1;
    int bind = -1;
    switch (cmd->await) {
    case SCN_AW_LEADER:
        if (scn__accept(P, "in")) {
            if (!scn__one_set(P, cmd))
                return false;
            cmd->has_set = true;
        }
        if (scn__accept(P, "as") && (bind = scn__bind_var(P)) < 0)
            return false;
        break;
    case SCN_AW_FOLLOWER:
    case SCN_AW_CAUGHT_UP:
        if (!scn__node_ref(P, &cmd->node))
            return false;
        cmd->has_node = true;
        break;
    case SCN_AW_COMMITTED:
        if (!key_on_node(P, cmd->key, &cmd->node, &cmd->has_node))
            return false;
        break;
    case SCN_AW_WRITE: /* write of CLIENT KEY: that client's last write */
        if (!scn__need(P, "of") || (cmd->client = scn__client(P, false)) < 0 ||
            !scn__key(P, cmd->key))
            return false;
        break;
    }
    if (!scn__within(P, cmd) || !scn__end_of_line(P))
        return false;
    if (bind >= 0) {
        cmd->bind_var = bind;
        P->bound[bind] = true;
        P->number[bind] = false;
    }
    return true;
}

bool scn__cmp_op(struct parser *P, enum scn_cmp *out)
{
    static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">=", "=="};
    int k = scn__keyword(P, "a comparison (=, !=, <, <=, >, >=)", ops, 7);
    if (k < 0)
        return false;
    *out = k == 6 ? SCN_EQ : (enum scn_cmp)k;
    return true;
}

static const char *const quantity_words[] = {
    [SCN_Q_NONE] = NULL,     [SCN_Q_TERM] = "term",   [SCN_Q_LSN] = "lsn",
    [SCN_Q_COMMIT] = "commit", [SCN_Q_APPLIED] = "applied",
};

static bool value(struct parser *P, struct scn_value *v)
{
    memset(v, 0, sizeof(*v));
    v->node.var = -1;
    for (int q = SCN_Q_TERM; q <= SCN_Q_APPLIED; q++)
        if (scn__accept(P, quantity_words[q])) {
            v->q = (enum scn_quantity)q;
            return scn__need(P, "of") && scn__node_ref(P, &v->node);
        }
    struct tok *t = scn__cur(P);
    if (t->k == T_WORD && scn__is_var_ident(t->s, t->len)) {
        for (int k = 0; k < P->p->n_vars; k++)
            if ((int)strlen(P->p->vars[k]) == t->len &&
                !memcmp(P->p->vars[k], t->s, (size_t)t->len) && P->bound[k]) {
                if (!P->number[k]) {
                    scn__error_tok(P, t, "%.*s names a node, not a number: "
                                         "write term of %.*s",
                                   t->len, t->s, t->len, t->s);
                    return false;
                }
                v->numvar = k + 1;
                P->i++;
                return true;
            }
        scn__error_tok(P, t, "variable %.*s is not bound here: bind a number "
                             "first with `let %.*s = term of L`",
                       t->len, t->s, t->len, t->s);
        return false;
    }
    return scn__number(P, "a number, or term|lsn|commit|applied of NODE", &v->lit);
}

/* A mirrored server's name. */
static bool pg_server_ref(struct parser *P, char *out)
{
    struct tok *t = scn__cur(P);
    const char *names[8];
    int n = P->p->n_mirror;
    for (int k = 0; k < n; k++) {
        names[k] = P->p->mirror[k].name;
        if (scn__is_word(t, names[k])) {
            snprintf(out, 16, "%s", names[k]);
            P->i++;
            return true;
        }
    }
    scn__expected(P, "a mirrored server (see the `mirror` line)", names, n);
    return false;
}

bool scn__c_expect(struct parser *P, struct scn_cmd *cmd)
{
    struct scn_expect *ex = &cmd->ex;
    ex->node.var = -1;
    ex->value.node.var = -1;
    static const char *const heads[] = {
        "leader", "leaders", "role", "term", "lsn", "commit", "applied",
        "committed", "lost", "discarded", "log", "lag", "reads", "write",
        "no", "violation", "pg", "elections"};
    /* expect NODE never ROLE [since MARK] */
    struct tok *t0 = scn__cur(P);
    if (scn__is_word(&P->t[P->i + 1], "never") && t0->k == T_WORD &&
        !scn__is_word(t0, "leader")) {
        ex->kind = SCN_EX_NEVER;
        if (!scn__node_ref(P, &ex->node))
            return false;
        P->i++; /* never */
        static const char *const roles[] = {"candidate", "pre-candidate",
                                            "leader"};
        static const enum raft_role rv[] = {RAFT_CANDIDATE,
                                            RAFT_PRECANDIDATE, RAFT_LEADER};
        int r = scn__keyword(P, "a role (candidate, pre-candidate, leader)",
                             roles, 3);
        if (r < 0 || (ex->mark = scn__mark_ref(P)) < 0)
            return false;
        ex->role = rv[r];
        return scn__end_of_line(P);
    }
    int h = scn__keyword(P, "an expectation (leader, leaders, role, term, lsn, "
                       "commit, applied, committed, lost, discarded, log, lag, "
                       "reads, write, no violations, violation, pg, "
                       "elections, NODE never ROLE)",
                    heads, 18);
    switch (h) {
    case 17: /* elections CMP N [since MARK] */
        ex->kind = SCN_EX_ELECTIONS;
        if (!scn__cmp_op(P, &ex->cmp) ||
            !scn__number(P, "a count", &ex->value.lit) ||
            (ex->mark = scn__mark_ref(P)) < 0)
            return false;
        break;
    case -1:
        return false;
    case 0: /* leader is NODE|none, leader in SET */
        if (scn__accept(P, "in")) {
            ex->kind = SCN_EX_LEADER_IN;
            if (!scn__set_ref(P, &ex->set))
                return false;
            break;
        }
        ex->kind = SCN_EX_LEADER_IS;
        if (!scn__need(P, "is"))
            return false;
        ex->negate = scn__accept(P, "not");
        if (scn__accept(P, "none"))
            ex->none = true;
        else if (!scn__node_ref(P, &ex->node))
            return false;
        break;
    case 1: /* leaders CMP N */
        ex->kind = SCN_EX_LEADERS;
        if (!scn__cmp_op(P, &ex->cmp) || !scn__number(P, "a count", &ex->value.lit))
            return false;
        break;
    case 2: { /* role of NODE is ROLE */
        ex->kind = SCN_EX_ROLE;
        if (!scn__need(P, "of") || !scn__node_ref(P, &ex->node) || !scn__need(P, "is"))
            return false;
        ex->negate = scn__accept(P, "not");
        static const char *const roles[] = {"follower", "pre-candidate",
                                            "candidate", "leader", "down",
                                            "paused"};
        static const enum raft_role rv[] = {RAFT_FOLLOWER, RAFT_PRECANDIDATE,
                                            RAFT_CANDIDATE, RAFT_LEADER,
                                            RAFT_DOWN, RAFT_FOLLOWER};
        int r = scn__keyword(P,
                        "a role (follower, pre-candidate, candidate, leader, "
                        "down, paused)",
                        roles, 6);
        if (r < 0)
            return false;
        ex->role = rv[r];
        ex->paused = r == 5;
        break;
    }
    case 3:
    case 4:
    case 5:
    case 6: /* term|lsn|commit|applied of NODE CMP VALUE */
        ex->kind = SCN_EX_QUANTITY;
        ex->q = (enum scn_quantity)(SCN_Q_TERM + (h - 3));
        if (!scn__need(P, "of") || !scn__node_ref(P, &ex->node) || !scn__cmp_op(P, &ex->cmp) ||
            !value(P, &ex->value))
            return false;
        break;
    case 7: /* committed KEY [on NODE] */
        ex->kind = SCN_EX_COMMITTED;
        if (!key_on_node(P, ex->key, &ex->node, &ex->has_node))
            return false;
        break;
    case 8:
        ex->kind = SCN_EX_LOST;
        if (!scn__key(P, ex->key))
            return false;
        break;
    case 9: /* discarded KEY on NODE */
        ex->kind = SCN_EX_DISCARDED;
        if (!scn__key(P, ex->key) || !scn__need(P, "on") || !scn__node_ref(P, &ex->node))
            return false;
        break;
    case 10: { /* log of NODE has|lacks KEY */
        ex->kind = SCN_EX_LOG_HAS;
        if (!scn__need(P, "of") || !scn__node_ref(P, &ex->node))
            return false;
        static const char *const hl[] = {"has", "lacks"};
        int k = scn__keyword(P, "'has' or 'lacks'", hl, 2);
        if (k < 0)
            return false;
        ex->negate = k == 1;
        struct tok *t = scn__cur(P);
        const char *eq = t->k == T_WORD ? memchr(t->s, '=', (size_t)t->len) : NULL;
        if (!eq) {
            if (!scn__key(P, ex->key))
                return false;
            break;
        }
        int kl = (int)(eq - t->s), vl = t->len - kl - 1;
        if (!scn__check_key(P, t->col, t->s, kl, "key") ||
            !scn__check_key(P, t->col + kl + 1, eq + 1, vl, "value"))
            return false;
        memcpy(ex->key, t->s, (size_t)kl);
        memcpy(ex->kv_value, eq + 1, (size_t)vl);
        P->i++;
        break;
    }
    case 11: { /* lag of NODE CMP N entries|bytes | D */
        ex->kind = SCN_EX_LAG;
        if (!scn__need(P, "of") || !scn__node_ref(P, &ex->node) || !scn__cmp_op(P, &ex->cmp))
            return false;
        struct tok *t = scn__cur(P);
        uint64_t n;
        if (t->k == T_WORD && scn__parse_u64(t->s, t->len, &n)) {
            P->i++;
            ex->value.lit = n;
            static const char *const u[] = {"entries", "bytes"};
            int k = scn__keyword(P,
                            "a unit: entries or bytes (or write a duration "
                            "such as 100ms)",
                            u, 2);
            if (k < 0)
                return false;
            ex->lag_unit = k == 0 ? SCN_LAG_ENTRIES : SCN_LAG_BYTES;
        } else {
            if (!scn__duration(P, "the lag", &ex->value.lit))
                return false;
            ex->lag_unit = SCN_LAG_TIME;
        }
        break;
    }
    case 12: { /* reads of CLIENT [not] PROP */
        ex->kind = SCN_EX_READS;
        if (!scn__need(P, "of") || (ex->client = scn__client(P, false)) < 0)
            return false;
        ex->negate = scn__accept(P, "not");
        static const char *const props[] = {"fresh", "stale", "monotonic",
                                            "own-writes"};
        int k = scn__keyword(P, "fresh, stale, monotonic or own-writes", props, 4);
        if (k < 0)
            return false;
        ex->prop = (enum scn_reads_prop)k;
        break;
    }
    case 13: { /* write of CLIENT KEY OUTCOME */
        ex->kind = SCN_EX_WRITE;
        if (!scn__need(P, "of") || (ex->client = scn__client(P, false)) < 0 ||
            !scn__key(P, ex->key))
            return false;
        if (!scn__outcome_set(P, &ex->outcomes, &ex->negate, &ex->outcome))
            return false;
        break;
    }
    case 14: { /* no violations | no leader */
        static const char *const w[] = {"violations", "leader"};
        int k = scn__keyword(P, "'violations' or 'leader'", w, 2);
        if (k < 0)
            return false;
        if (k == 0)
            ex->kind = SCN_EX_NO_VIOLATIONS;
        else {
            ex->kind = SCN_EX_LEADER_IS;
            ex->none = true;
        }
        break;
    }
    case 15: { /* violation [NAME] */
        ex->kind = SCN_EX_VIOLATION;
        if (scn__at_end(P))
            break;
        static const char *const inv[] = {
            "ElectionSafety",     "LeaderAppendOnly", "LogMatching",
            "LeaderCompleteness", "StateMachineSafety", "AckedWriteLost",
            "TraceConsistency"};
        int k = scn__keyword(P, "an invariant name", inv, 7);
        if (k < 0)
            return false;
        snprintf(ex->violation, sizeof(ex->violation), "%s", inv[k]);
        break;
    }
    case 16: /* pg ... */
        ex->kind = SCN_EX_PG;
        if (!P->p->n_mirror) {
            scn__error_tok(P, &P->t[P->i - 1],
                      "'expect pg' needs a `mirror` line in the set-up");
            return false;
        }
        if (scn__accept(P, "primary")) {
            ex->pg = SCN_PG_PRIMARY;
            if (!scn__need(P, "is"))
                return false;
            if (scn__accept(P, "none"))
                break;
            return pg_server_ref(P, ex->server) && scn__end_of_line(P);
        }
        if (scn__accept(P, "writable")) {
            ex->pg = SCN_PG_WRITABLE;
            if (!scn__cmp_op(P, &ex->cmp) || !scn__number(P, "a count", &ex->value.lit))
                return false;
            break;
        }
        if (scn__accept(P, "lag")) {
            ex->pg = SCN_PG_LAG;
            if (!scn__need(P, "of") || !pg_server_ref(P, ex->server) ||
                !scn__cmp_op(P, &ex->cmp) ||
                !scn__duration(P, "the lag", &ex->value.lit))
                return false;
            break;
        }
        {
            ex->pg = SCN_PG_HAS;
            if (!pg_server_ref(P, ex->server))
                return false;
            static const char *const hl[] = {"has", "lacks"};
            int k = scn__keyword(P, "'has' or 'lacks'", hl, 2);
            if (k < 0 || !scn__key(P, ex->key))
                return false;
            ex->negate = k == 1;
        }
        break;
    }
    return scn__end_of_line(P);
}


static bool add_seg(struct parser *P, struct scn_cmd *cmd, struct scn_seg seg)
{
    if (cmd->n_segs >= MAX_SEGS) {
        free(seg.text);
        scn__error_at(P, scn__cur(P)->col, "too many {…} in one say");
        return false;
    }
    if (!cmd->segs) {
        cmd->segs = calloc(MAX_SEGS, sizeof(*cmd->segs));
        if (!cmd->segs) {
            free(seg.text);
            scn__error_at(P, 1, "out of memory");
            return false;
        }
    }
    cmd->segs[cmd->n_segs++] = seg;
    return true;
}

static bool add_text(struct parser *P, struct scn_cmd *cmd, const char *s,
                     size_t n)
{
    if (n == 0)
        return true;
    struct scn_seg seg = {.kind = SCN_SEG_TEXT, .node = {0, -1}};
    seg.text = malloc(n + 1);
    if (!seg.text) {
        scn__error_at(P, 1, "out of memory");
        return false;
    }
    memcpy(seg.text, s, n);
    seg.text[n] = 0;
    return add_seg(P, cmd, seg);
}

/* Parse "{…}" interpolations.  Columns are those of the raw token. */
bool scn__c_say(struct parser *P, struct scn_cmd *cmd)
{
    struct tok *t = scn__cur(P);
    if (t->k != T_STR) {
        char b[64];
        scn__error_tok(P, t, "expected the text in double quotes, got %s",
                  scn__shown(t, b, sizeof(b)));
        return false;
    }
    P->i++;
    if (!scn__end_of_line(P))
        return false;
    int *raw = NULL;
    char *s = scn__unescape(t, &raw);
    if (!s) {
        scn__error_at(P, 1, "out of memory");
        return false;
    }
    size_t n = strlen(s), lit = 0;
    char *buf = malloc(n + 1);
    bool ok = buf != NULL;
    /* the column of s[k] is t->col + 1 + raw[k] */
    for (size_t k = 0; ok && k < n; k++) {
        if (s[k] == '{' && k + 1 < n && s[k + 1] == '{') {
            buf[lit++] = '{';
            k++;
            continue;
        }
        if (s[k] == '}' && k + 1 < n && s[k + 1] == '}') {
            buf[lit++] = '}';
            k++;
            continue;
        }
        if (s[k] == '}') {
            scn__error_at(P, t->col + 1 + raw[k],
                     "a lone '}' in the text: write '}}' for a brace");
            ok = false;
            break;
        }
        if (s[k] != '{') {
            buf[lit++] = s[k];
            continue;
        }
        char *close = strchr(s + k + 1, '}');
        if (!close) {
            scn__error_at(P, t->col + 1 + raw[k],
                     "unclosed '{' in the text: write '{{' for a brace");
            ok = false;
            break;
        }
        ok = add_text(P, cmd, buf, lit);
        lit = 0;
        if (!ok)
            break;
        /* the inside: NODE | leader | time | QUANT NODE | role NODE */
        struct parser sub = *P;
        sub.text = P->text;
        sub.text_len = P->text_len;
        int base = t->col + 1 + raw[k + 1]; /* col of the first inner char */
        size_t in = (size_t)(close - (s + k + 1));
        const char *inner = s + k + 1;
        /* words of the inside, at most two */
        const char *w[3];
        int wl[3], wc[3], nw = 0;
        for (size_t j = 0; j < in && nw < 3;) {
            while (j < in && isspace((unsigned char)inner[j]))
                j++;
            if (j >= in)
                break;
            w[nw] = inner + j;
            wc[nw] = t->col + 1 + raw[k + 1 + j];
            size_t e = j;
            while (e < in && !isspace((unsigned char)inner[e]))
                e++;
            wl[nw++] = (int)(e - j);
            j = e;
        }
        struct scn_seg seg = {.node = {0, -1}};
        if (nw == 1 && wl[0] == 6 && !memcmp(w[0], "leader", 6))
            seg.kind = SCN_SEG_LEADER;
        else if (nw == 1 && wl[0] == 4 && !memcmp(w[0], "time", 4))
            seg.kind = SCN_SEG_TIME;
        else if (nw == 1 && !scn__is_var_ident(w[0], wl[0]) &&
                 !(wl[0] >= 2 && w[0][0] == 'n' &&
                   isdigit((unsigned char)w[0][1]))) {
            scn__error_at(P, wc[0],
                     "unknown {%.*s}: write {L}, {n2}, {term L}, {lsn L}, "
                     "{commit L}, {applied L}, {role L}, {leader} or {time} "
                     "(and {{ for a brace)",
                     wl[0] > 20 ? 20 : wl[0], w[0]);
            ok = false;
            break;
        } else if (nw == 1 || nw == 2) {
            const char *nodew = w[nw - 1];
            int nodel = wl[nw - 1], nodec = wc[nw - 1];
            if (nw == 2) {
                int q = -1;
                for (int j = SCN_Q_TERM; j <= SCN_Q_APPLIED; j++)
                    if ((int)strlen(quantity_words[j]) == wl[0] &&
                        !memcmp(quantity_words[j], w[0], (size_t)wl[0]))
                        q = j;
                if (q >= 0) {
                    seg.kind = SCN_SEG_QUANT;
                    seg.q = (enum scn_quantity)q;
                } else if (wl[0] == 4 && !memcmp(w[0], "role", 4))
                    seg.kind = SCN_SEG_ROLE;
                else {
                    static const char *const f[] = {"term", "lsn", "commit",
                                                    "applied", "role"};
                    const char *hint = scn__closest(w[0], wl[0], f, 5);
                    scn__error_at(P, wc[0],
                             "unknown '%.*s' in {…}: known are {term X}, {lsn X}, "
                             "{commit X}, {applied X}, {role X}%s%s%s",
                             wl[0] > 20 ? 20 : wl[0], w[0],
                             hint ? "; did you mean '" : "", hint ? hint : "",
                             hint ? "'?" : "");
                    ok = false;
                    break;
                }
            } else
                seg.kind = SCN_SEG_NODE;
            /* resolve the node with a one-token sub-parser */
            sub.nt = 1;
            sub.i = 0;
            sub.t[0] = (struct tok){T_WORD, nodew, nodel, nodec};
            sub.t[1] = (struct tok){T_END, nodew + nodel, 0, nodec + nodel};
            if (!scn__node_ref(&sub, &seg.node)) {
                P->errors = sub.errors;
                P->gave_up = sub.gave_up;
                P->line_failed = true;
                ok = false;
                break;
            }
        } else {
            scn__error_at(P, base,
                     "empty or unknown {…}: write {L}, {n2}, {term L}, {lsn L}, "
                     "{commit L}, {applied L}, {role L}, {leader} or {time}");
            ok = false;
            break;
        }
        ok = add_seg(P, cmd, seg);
        k = (size_t)(close - s);
    }
    if (ok)
        ok = add_text(P, cmd, buf, lit);
    free(buf);
    free(s);
    free(raw);
    return ok;
}
