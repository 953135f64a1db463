/*
 * scenario_expect.c — `expect …`: one function for every form of
 * expectation (leader, roles, quantities, keys, logs, lag, reads, writes,
 * counts since a mark, violations, the PostgreSQL mirror), from the word
 * after `expect` to the end of the line.  See scenario_parse.c for the
 * whole.
 */
#include "sim/scenario/scenario_int.h"

#include <string.h>

static bool value(struct parser *P, struct scn_value *v)
{
    memset(v, 0, sizeof(*v));
    v->node.var = -1;
    static const char *const quantity_words[] = {
        [SCN_Q_NONE] = NULL,       [SCN_Q_TERM] = "term",
        [SCN_Q_LSN] = "lsn",       [SCN_Q_COMMIT] = "commit",
        [SCN_Q_APPLIED] = "applied",
    };
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
        "no", "violation", "pg", "elections", "progress", "voters",
        "learners"};
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
                       "elections, progress, voters, learners, NODE never "
                       "ROLE)",
                    heads, 21);
    switch (h) {
    case 19: /* voters|learners of NODE are SET|none */
    case 20:
        ex->kind = SCN_EX_MEMBERS;
        ex->learners = h == 20;
        if (!scn__need(P, "of") || !scn__node_ref(P, &ex->node) ||
            !scn__need(P, "are"))
            return false;
        if (scn__accept(P, "none"))
            ex->none = true;
        else if (!scn__set_ref(P, &ex->set))
            return false;
        break;
    case 18: /* progress [within D] */
        ex->kind = SCN_EX_PROGRESS;
        if (!scn__within(P, cmd))
            return false;
        break;
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
        if (!scn__key_on_node(P, ex->key, &ex->node, &ex->has_node))
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
    case 14: { /* no violations | no leader | no progress [within D] */
        static const char *const w[] = {"violations", "leader", "progress"};
        int k = scn__keyword(P, "'violations', 'leader' or 'progress'", w, 3);
        if (k < 0)
            return false;
        if (k == 0)
            ex->kind = SCN_EX_NO_VIOLATIONS;
        else if (k == 2) {
            ex->kind = SCN_EX_PROGRESS;
            ex->negate = true;
            if (!scn__within(P, cmd))
                return false;
        } else {
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

