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
    if (scn__accept(P, "on")) {
        /* write … on pg SERVER: the application writes to that server
         * itself, past the cluster (a mirrored run) */
        if (!scn__accept(P, "pg")) {
            char b[64];
            scn__error_tok(P, scn__cur(P), "expected 'pg SERVER' after "
                                           "'on' (e.g. on pg b), got %s",
                           scn__shown(scn__cur(P), b, sizeof(b)));
            return false;
        }
        struct tok *st = scn__cur(P);
        bool name_ok = st->k == T_WORD && st->len >= 1 &&
                       st->len < (int)sizeof(cmd->pg_server);
        for (int k = 0; name_ok && k < st->len; k++)
            name_ok = (st->s[k] >= 'a' && st->s[k] <= 'z') ||
                      (st->s[k] >= '0' && st->s[k] <= '9');
        if (!name_ok) {
            char b[64];
            scn__error_tok(P, st, "expected a server name (lower-case "
                                  "letters and digits, e.g. b), got %s",
                           scn__shown(st, b, sizeof(b)));
            return false;
        }
        memcpy(cmd->pg_server, st->s, (size_t)st->len);
        P->i++;
    } else if (scn__accept(P, "via") && !scn__accept(P, "leader") &&
               !scn__node_ref(P, &cmd->via))
        return false;
    if (scn__accept(P, "expect")) {
        struct tok *et = scn__cur(P);
        if (!scn__outcome_set(P, &cmd->outcomes, &cmd->outcome_not,
                              &cmd->outcome))
            return false;
        unsigned direct = SCN_OUT_BIT(SCN_OUT_ACKED) |
                          SCN_OUT_BIT(SCN_OUT_REFUSED);
        if (cmd->pg_server[0] && (cmd->outcomes & ~direct)) {
            scn__error_tok(P, et, "a write on pg SERVER is acked (the "
                                  "server committed it) or refused: expect "
                                  "acked or refused");
            return false;
        }
    }
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
bool scn__key_on_node(struct parser *P, char *key, struct scn_node *node,
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
                                       "caught-up", "write", "lsn"};
    int k = scn__keyword(P, "leader, follower, committed, caught-up, write "
                            "or lsn",
                         what, 6);
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
        if (!scn__key_on_node(P, cmd->key, &cmd->node, &cmd->has_node))
            return false;
        break;
    case SCN_AW_LSN: /* lsn N on NODE */
        if (!scn__number(P, "an LSN", &cmd->u))
            return false;
        if (cmd->u == 0) {
            scn__error_tok(P, &P->t[P->i - 1], "LSNs start at 1");
            return false;
        }
        if (!scn__need(P, "on") || !scn__node_ref(P, &cmd->node))
            return false;
        cmd->has_node = true;
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
