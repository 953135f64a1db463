/*
 * scenario_words.c — the commands that name things and moments: `let`
 * (nodes, or a number read from a node), `mark`, and the partition
 * shapes `partition ring` and `partition bridge NODE`.  See
 * scenario_parse.c for the whole.
 */
#include "sim/scenario/scenario_int.h"

#include <stdlib.h>
#include <string.h>

/* The most members a set can have, known before the run: members named
 * by literal ids count once, a variable or `leader` one node each. */
static int most_members(const struct parser *P, const struct scn_set *s)
{
    if (s->rest)
        return P->p->nodes;
    bool lit[SCN_MAX_NODES + 1] = {false};
    int n = 0;
    if (s->all) {
        /* each literal takes one node out; variables (or `leader`) take
         * out at least one between them, maybe one already named */
        int gone = 0;
        bool var = false;
        for (int k = 0; k < s->n_except; k++)
            if (!s->except[k].id)
                var = true;
            else if (!lit[s->except[k].id]) {
                lit[s->except[k].id] = true;
                gone++;
            }
        if (var && !gone)
            gone = 1;
        return P->p->nodes - gone;
    }
    for (int k = 0; k < s->n; k++) {
        if (!s->items[k].id)
            n++;
        else if (!lit[s->items[k].id]) {
            lit[s->items[k].id] = true;
            n++;
        }
    }
    return n > P->p->nodes ? P->p->nodes : n;
}

bool scn__c_let(struct parser *P, struct scn_cmd *cmd)
{
    int vars[SCN_MAX_VARS], n = 0;
    int first_col = scn__cur(P)->col;
    while (!scn__at_end(P) && !scn__is_word(scn__cur(P), "=")) {
        if (n >= SCN_MAX_VARS) {
            scn__error_tok(P, scn__cur(P), "too many variables in one let");
            return false;
        }
        if ((vars[n++] = scn__bind_var(P)) < 0)
            return false;
    }
    if (n == 0) {
        scn__error_tok(P, scn__cur(P), "expected variable names: let A B = all except L");
        return false;
    }
    if (!scn__need(P, "="))
        return false;
    /* let T = term|lsn|commit|applied of NODE: a number, read now */
    static const char *const q[] = {"term", "lsn", "commit", "applied"};
    for (int k = 0; k < 4; k++)
        if (scn__is_word(scn__cur(P), q[k])) {
            if (n != 1) {
                scn__error_at(P, first_col, "a number binds one variable: "
                                            "let T = %s of L",
                              q[k]);
                return false;
            }
            P->i++;
            cmd->let_q = (enum scn_quantity)(SCN_Q_TERM + k);
            if (!scn__need(P, "of") || !scn__node_ref(P, &cmd->node) ||
                !scn__end_of_line(P))
                return false;
            cmd->let_vars[0] = vars[0];
            cmd->n_let = 1;
            P->bound[vars[0]] = true;
            P->number[vars[0]] = true;
            P->p->var_is_number[vars[0]] = true;
            return true;
        }
    if (!scn__one_set(P, cmd) || !scn__end_of_line(P))
        return false;
    int most = most_members(P, &cmd->sets[0]);
    if (n > most) {
        scn__error_at(P, first_col,
                      "%d variable%s but the set has at most %d member%s "
                      "(this cluster has %d nodes)",
                      n, n == 1 ? "" : "s", most, most == 1 ? "" : "s",
                      P->p->nodes);
        return false;
    }
    memcpy(cmd->let_vars, vars, sizeof(int) * (size_t)n);
    cmd->n_let = n;
    for (int k = 0; k < n; k++) {
        P->bound[vars[k]] = true;
        P->number[vars[k]] = false;
        P->p->var_is_number[vars[k]] = false;
    }
    return true;
}

/* mark NAME: a moment later lines count from (`since NAME`). */
bool scn__c_mark(struct parser *P, struct scn_cmd *cmd)
{
    struct tok *t = scn__cur(P);
    if (t->k != T_WORD || !scn__is_lower_ident(t->s, t->len)) {
        char b[64];
        scn__error_tok(P, t, "expected a mark name (lower-case, e.g. healed), "
                             "got %s",
                       scn__shown(t, b, sizeof(b)));
        return false;
    }
    if (t->len > SCN_NAME_MAX) {
        scn__error_tok(P, t, "mark name is longer than %d bytes", SCN_NAME_MAX);
        return false;
    }
    struct scn_program *p = P->p;
    int m = -1;
    for (int k = 0; k < p->n_marks; k++)
        if ((int)strlen(p->marks[k]) == t->len &&
            !memcmp(p->marks[k], t->s, (size_t)t->len))
            m = k; /* marking again moves the mark */
    if (m < 0) {
        if (p->n_marks >= SCN_MAX_MARKS) {
            scn__error_tok(P, t, "too many marks (at most %d)", SCN_MAX_MARKS);
            return false;
        }
        m = p->n_marks++;
        memcpy(p->marks[m], t->s, (size_t)t->len);
        p->marks[m][t->len] = 0;
    }
    P->i++;
    cmd->mark = m;
    return scn__end_of_line(P);
}

int scn__mark_ref(struct parser *P)
{
    if (!scn__accept(P, "since"))
        return 0;
    struct tok *t = scn__cur(P);
    const char *names[SCN_MAX_MARKS];
    for (int k = 0; k < P->p->n_marks; k++) {
        names[k] = P->p->marks[k];
        if (scn__is_word(t, names[k])) {
            P->i++;
            return k + 1;
        }
    }
    if (!P->p->n_marks) {
        char b[64];
        scn__error_tok(P, t, "no mark so far: set one first with `mark NAME`, "
                             "got %s",
                       scn__shown(t, b, sizeof(b)));
        return -1;
    }
    scn__expected(P, "a mark set earlier with `mark NAME`", names,
                  P->p->n_marks);
    return -1;
}

/* partition SET SET... | partition ring | partition bridge NODE */
bool scn__c_partition(struct parser *P, struct scn_cmd *cmd)
{
    if (scn__accept(P, "ring")) {
        if (P->p->nodes < 4) {
            scn__error_tok(P, &P->t[P->i - 1],
                           "a ring needs at least 4 nodes (with 3, every "
                           "node already sees both others)");
            return false;
        }
        cmd->shape = SCN_SHAPE_RING;
        return scn__end_of_line(P);
    }
    if (scn__accept(P, "bridge")) {
        if (P->p->nodes < 3) {
            scn__error_tok(P, &P->t[P->i - 1],
                           "a bridge needs at least 3 nodes");
            return false;
        }
        cmd->shape = SCN_SHAPE_BRIDGE;
        cmd->has_node = true;
        return scn__node_ref(P, &cmd->node) && scn__end_of_line(P);
    }
    while (!scn__at_end(P))
        if (!scn__one_set(P, cmd))
            return false;
    if (cmd->n_sets < 2) {
        scn__error_tok(P, scn__cur(P),
                       "a partition needs at least two groups, e.g. partition "
                       "{n1,n2} rest (or: partition ring, partition bridge "
                       "NODE)");
        return false;
    }
    return true;
}

/* [not] OUTCOME[|OUTCOME...]; `unknown` is timeout's other name.  The
 * lexer keeps `acked|timeout` one word: split it here. */
bool scn__outcome_set(struct parser *P, unsigned *set, bool *negate,
                      enum scn_outcome *first)
{
    static const char *const w[] = {"committed", "acked", "refused",
                                    "timeout", "lost", "unknown"};
    static const enum scn_outcome v[] = {SCN_OUT_COMMITTED, SCN_OUT_ACKED,
                                         SCN_OUT_REFUSED, SCN_OUT_TIMEOUT,
                                         SCN_OUT_LOST, SCN_OUT_TIMEOUT};
    *negate = scn__accept(P, "not");
    *set = 0;
    struct tok *t = scn__cur(P);
    if (t->k != T_WORD) {
        scn__expected(P, "an outcome (committed, acked, refused, timeout, "
                         "unknown, lost)",
                      w, 6);
        return false;
    }
    for (int a = 0; a < t->len;) {
        int b = a;
        while (b < t->len && t->s[b] != '|')
            b++;
        int k = -1;
        for (int j = 0; j < 6 && k < 0; j++)
            if ((int)strlen(w[j]) == b - a && !memcmp(w[j], t->s + a, (size_t)(b - a)))
                k = j;
        if (k < 0) {
            const char *hint = scn__closest(t->s + a, b - a, w, 6);
            scn__error_at(P, t->col + a,
                          "expected an outcome (committed, acked, refused, "
                          "timeout, unknown, lost), got '%.*s'%s%s%s",
                          b - a > 20 ? 20 : b - a, t->s + a,
                          hint ? "; did you mean '" : "", hint ? hint : "",
                          hint ? "'?" : "");
            return false;
        }
        if (!*set)
            *first = v[k];
        *set |= SCN_OUT_BIT(v[k]);
        a = b + 1;
        if (b < t->len && a >= t->len) {
            scn__error_at(P, t->col + b, "an outcome must follow '|'");
            return false;
        }
    }
    P->i++;
    return true;
}

/* add NODE [as learner] | add NODE NODE | promote NODE | remove NODE
 * (Raft thesis §4.1: one server at a time; two in one step only under
 * `unsafe change-two-at-once`, to show why not). */
bool scn__c_member(struct parser *P, struct scn_cmd *cmd, const char *word)
{
    cmd->has_node = true;
    cmd->node2.var = -1;
    if (!scn__node_ref(P, &cmd->node))
        return false;
    if (!strcmp(word, "promote"))
        cmd->enumval = RAFT_PROMOTE;
    else if (!strcmp(word, "remove"))
        cmd->enumval = RAFT_REMOVE;
    else
        cmd->enumval = RAFT_ADD_VOTER;
    if (cmd->enumval == RAFT_ADD_VOTER && scn__accept(P, "as")) {
        if (!scn__need(P, "learner"))
            return false;
        cmd->enumval = RAFT_ADD_LEARNER;
    } else if (cmd->enumval == RAFT_ADD_VOTER && !scn__at_end(P)) {
        struct tok *t = scn__cur(P);
        if (!scn__node_ref(P, &cmd->node2))
            return false;
        if (!(P->p->unsafe & RAFT_UNSAFE_CHANGE_TWO)) {
            scn__error_tok(P, t, "adding two voters in one step can form two "
                                 "disjoint majorities: it needs `unsafe "
                                 "change-two-at-once` (add one at a time)");
            return false;
        }
        cmd->two = true;
    }
    return scn__end_of_line(P);
}
