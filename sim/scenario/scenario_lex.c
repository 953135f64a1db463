/*
 * scenario_lex.c — the scenario parser's ground floor: gcc-style messages
 * with a caret and a did-you-mean, splitting a line into tokens, values
 * (durations, numbers, probabilities, keys) and names (nodes, variables,
 * sets, clients).  See scenario_parse.c for the whole.
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
/* Messages                                                            */

void scn__error_at(struct parser *P, int col, const char *fmt, ...)
{
    if (P->line_failed || P->gave_up)
        return;
    P->line_failed = true;
    if (++P->errors > MAX_ERRORS) {
        P->gave_up = true;
        if (P->err)
            fprintf(P->err, "%s: too many errors, giving up\n", P->name);
        return;
    }
    if (!P->err)
        return;
    /* The message quotes the file and the context is the file's line:
     * both escaped, so a file cannot drive the terminal. */
    char msg[1024], safe[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(P->err, "%s:%d:%d: error: %s\n", P->name, P->line, col,
            util_escape_ctrl(msg, safe, sizeof(safe)));
    if (P->text) {
        /* the line (tabs kept so the caret lines up), then the caret */
        int n = P->text_len;
        while (n > 0 && (P->text[n - 1] == '\n' || P->text[n - 1] == '\r'))
            n--;
        /* each byte as shown (\xNN for a control byte), and under it
         * as many spaces, so the caret stays under its column */
        char shown[2048], pad[2048];
        size_t ls = 0, lp = 0;
        for (int c = 0; c < n && ls + 8 < sizeof(shown); c++) {
            unsigned char b = (unsigned char)P->text[c];
            bool c1 = b == 0xc2 && c + 1 < n &&
                      (unsigned char)P->text[c + 1] >= 0x80 &&
                      (unsigned char)P->text[c + 1] <= 0x9f;
            size_t w;
            if ((b < 0x20 && b != '\t') || b == 0x7f || c1) {
                w = (size_t)snprintf(shown + ls, sizeof(shown) - ls,
                                     "\\x%02x",
                                     c1 ? (unsigned char)P->text[c + 1] : b);
            } else {
                shown[ls] = (char)b;
                w = 1;
            }
            ls += w;
            for (size_t k = 0; c < col - 1 && k < w; k++)
                pad[lp++] = b == '\t' ? '\t' : ' ';
            c += c1;
        }
        shown[ls] = pad[lp] = '\0';
        fprintf(P->err, "  %s\n  %s", shown, pad);
        fputs("^\n", P->err);
    }
}

struct tok *scn__cur(struct parser *P) { return &P->t[P->i]; }

void scn__error_tok(struct parser *P, const struct tok *t, const char *fmt,
                      ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    scn__error_at(P, t->col, "%s", buf);
}

/* How a token reads in a message. */
const char *scn__shown(const struct tok *t, char *buf, size_t cap)
{
    switch (t->k) {
    case T_END:
        return "the end of the line";
    case T_LBRACE:
        return "'{'";
    case T_RBRACE:
        return "'}'";
    case T_COMMA:
        return "','";
    case T_STR:
        snprintf(buf, cap, "a \"string\"");
        return buf;
    case T_WORD:
        break;
    }
    snprintf(buf, cap, "'%.*s'", t->len > 40 ? 40 : t->len, t->s);
    return buf;
}

/* The closest of n candidates to word, or NULL when none is close. */
const char *scn__closest(const char *w, int wl, const char *const *cand,
                           int n)
{
    const char *best = NULL;
    int bd = 99;
    for (int k = 0; k < n; k++) {
        if (!cand[k])
            continue;
        int d = util_edit_distance(w, (size_t)wl, cand[k], strlen(cand[k]));
        if (d < bd) {
            bd = d;
            best = cand[k];
        }
    }
    int limit = wl <= 3 ? 1 : wl <= 6 ? 2 : 3;
    return bd <= limit ? best : NULL;
}

/* "expected WHAT, got X" with a did-you-mean among choices. */
void scn__expected(struct parser *P, const char *what,
                     const char *const *choices, int n)
{
    struct tok *t = scn__cur(P);
    char b[64];
    const char *hint = t->k == T_WORD ? scn__closest(t->s, t->len, choices, n) : NULL;
    if (hint)
        scn__error_tok(P, t, "expected %s, got %s; did you mean '%s'?", what,
                  scn__shown(t, b, sizeof(b)), hint);
    else
        scn__error_tok(P, t, "expected %s, got %s", what, scn__shown(t, b, sizeof(b)));
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

static bool is_word_char(char c)
{
    return c && !isspace((unsigned char)c) && c != '{' && c != '}' &&
           c != ',' && c != '"' && c != '#';
}

/* Split P->text into tokens; false on a lexical error (reported). */
bool scn__tokenize(struct parser *P)
{
    const char *s = P->text;
    int n = P->text_len, k = 0;
    P->nt = 0;
    P->i = 0;
    while (k < n) {
        char c = s[k];
        if (c == '#')
            break;
        if (isspace((unsigned char)c)) {
            k++;
            continue;
        }
        if (P->nt >= MAX_TOKENS) {
            scn__error_at(P, k + 1, "too many words on one line (at most %d)",
                     MAX_TOKENS);
            return false;
        }
        struct tok *t = &P->t[P->nt++];
        t->col = k + 1;
        t->s = s + k;
        t->len = 1;
        if (c == '{')
            t->k = T_LBRACE, k++;
        else if (c == '}')
            t->k = T_RBRACE, k++;
        else if (c == ',')
            t->k = T_COMMA, k++;
        else if (c == '"') {
            int j = k + 1;
            while (j < n && s[j] != '"') {
                if (s[j] == '\\' && j + 1 < n)
                    j++;
                j++;
            }
            if (j >= n) {
                scn__error_at(P, k + 1, "unterminated string: add the closing '\"'");
                return false;
            }
            t->k = T_STR;
            t->s = s + k + 1;
            t->len = j - k - 1;
            k = j + 1;
        } else if (!isprint((unsigned char)c) && !((unsigned char)c & 0x80)) {
            scn__error_at(P, k + 1, "unexpected control character 0x%02x",
                     (unsigned char)c);
            return false;
        } else {
            int j = k;
            while (j < n && is_word_char(s[j]))
                j++;
            t->k = T_WORD;
            t->len = j - k;
            k = j;
        }
    }
    struct tok *e = &P->t[P->nt];
    e->k = T_END;
    e->s = s + n;
    e->len = 0;
    int end = 0;
    if (P->nt > 0) {
        const struct tok *l = &P->t[P->nt - 1];
        end = (int)(l->s - s) + l->len + (l->k == T_STR); /* closing quote */
    }
    e->col = end + 1;
    return true;
}

bool scn__is_word(const struct tok *t, const char *w)
{
    return t->k == T_WORD && (size_t)t->len == strlen(w) &&
           !memcmp(t->s, w, (size_t)t->len);
}

bool scn__accept(struct parser *P, const char *w)
{
    if (scn__is_word(scn__cur(P), w)) {
        P->i++;
        return true;
    }
    return false;
}

bool scn__at_end(struct parser *P) { return scn__cur(P)->k == T_END; }

/* One of choices (a keyword); its index, or -1 with an error. */
int scn__keyword(struct parser *P, const char *what,
                   const char *const *choices, int n)
{
    for (int k = 0; k < n; k++)
        if (choices[k] && scn__is_word(scn__cur(P), choices[k])) {
            P->i++;
            return k;
        }
    scn__expected(P, what, choices, n);
    return -1;
}

bool scn__need(struct parser *P, const char *w)
{
    if (scn__accept(P, w))
        return true;
    char what[48];
    snprintf(what, sizeof(what), "'%s'", w);
    const char *c[] = {w};
    scn__expected(P, what, c, 1);
    return false;
}

bool scn__end_of_line(struct parser *P)
{
    if (scn__at_end(P))
        return true;
    char b[64];
    scn__error_tok(P, scn__cur(P), "unexpected %s at the end of the command",
              scn__shown(scn__cur(P), b, sizeof(b)));
    return false;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

bool scn__parse_u64(const char *s, int len, uint64_t *out)
{
    if (len <= 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (int k = 0; k < len; k++) {
        if (!isdigit((unsigned char)s[k]))
            return false;
        unsigned d = (unsigned)(s[k] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* "1.5s", "200ms", "250us": exact decimal arithmetic, no floats. */
const char *scn__duration_of(const char *s, int len, uint64_t *out)
{
    int k = 0;
    uint64_t ip = 0, frac = 0, scale = 1;
    int digits = 0;
    while (k < len && isdigit((unsigned char)s[k])) {
        if (++digits > 12)
            return "is too long";
        ip = ip * 10 + (uint64_t)(s[k++] - '0');
    }
    if (k < len && s[k] == '.') {
        k++;
        int fd = 0;
        while (k < len && isdigit((unsigned char)s[k])) {
            if (fd < 6) {
                frac = frac * 10 + (uint64_t)(s[k] - '0');
                scale *= 10;
            }
            fd++, k++;
            digits++;
        }
    }
    if (digits == 0)
        return "is not a duration (write e.g. 500ms, 1.5s or 250us)";
    uint64_t unit;
    const char *u = s + k;
    int ul = len - k;
    if (ul == 2 && !memcmp(u, "us", 2))
        unit = 1;
    else if (ul == 2 && !memcmp(u, "ms", 2))
        unit = 1000;
    else if (ul == 1 && *u == 's')
        unit = 1000000;
    else if (ul == 0)
        return "has no unit (write e.g. 500ms, 1.5s or 250us)";
    else
        return "has an unknown unit (known: us, ms, s)";
    if (ip > MAX_DURATION_US / unit)
        return "is longer than a day";
    uint64_t v = ip * unit + frac * unit / scale;
    if (v > MAX_DURATION_US)
        return "is longer than a day";
    *out = v;
    return NULL;
}

bool scn__duration(struct parser *P, const char *what, uint64_t *out)
{
    struct tok *t = scn__cur(P);
    if (t->k != T_WORD) {
        char b[64];
        scn__error_tok(P, t, "expected %s (a duration such as 500ms), got %s",
                  what, scn__shown(t, b, sizeof(b)));
        return false;
    }
    const char *why = scn__duration_of(t->s, t->len, out);
    if (why) {
        scn__error_tok(P, t, "%s '%.*s' %s", what, t->len > 40 ? 40 : t->len,
                  t->s, why);
        return false;
    }
    P->i++;
    return true;
}

bool scn__number(struct parser *P, const char *what, uint64_t *out)
{
    struct tok *t = scn__cur(P);
    if (t->k != T_WORD || !scn__parse_u64(t->s, t->len, out)) {
        char b[64];
        scn__error_tok(P, t, "expected %s (a whole number), got %s", what,
                  scn__shown(t, b, sizeof(b)));
        return false;
    }
    P->i++;
    return true;
}

/* A probability: 0.05, 5%, 1e-05 (explore writes %.17g). */
bool scn__probability(struct parser *P, const char *what, double *out)
{
    struct tok *t = scn__cur(P);
    char b[64];
    if (t->k != T_WORD || t->len > 40) {
        scn__error_tok(P, t, "expected %s (between 0 and 1, or a percentage), got %s",
                  what, scn__shown(t, b, sizeof(b)));
        return false;
    }
    char buf[48];
    memcpy(buf, t->s, (size_t)t->len);
    buf[t->len] = 0;
    bool pct = t->len > 1 && buf[t->len - 1] == '%';
    if (pct)
        buf[t->len - 1] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || *end || errno || !isfinite(v) || v < 0 ||
        (pct ? v > 100 : v > 1)) {
        scn__error_tok(P, t, "%s must be between 0 and 1 (or 0%% and 100%%), got %s",
                  what, scn__shown(t, b, sizeof(b)));
        return false;
    }
    *out = pct ? v / 100 : v;
    P->i++;
    return true;
}

bool scn__is_lower_ident(const char *s, int len)
{
    if (len <= 0 || !islower((unsigned char)s[0]))
        return false;
    for (int k = 0; k < len; k++)
        if (!isalnum((unsigned char)s[k]) && s[k] != '_' && s[k] != '-')
            return false;
    return true;
}

bool scn__is_var_ident(const char *s, int len)
{
    if (len <= 0 || !isupper((unsigned char)s[0]))
        return false;
    for (int k = 0; k < len; k++)
        if (!isalnum((unsigned char)s[k]) && s[k] != '_')
            return false;
    return true;
}

static bool key_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' ||
           c == ':' || c == '/';
}

bool scn__check_key(struct parser *P, int col, const char *s, int len,
                      const char *what)
{
    if (len <= 0) {
        scn__error_at(P, col, "empty %s", what);
        return false;
    }
    if (len > SCN_KEY_MAX) {
        scn__error_at(P, col, "%s '%.*s…' is longer than %d bytes", what, 20, s,
                 SCN_KEY_MAX);
        return false;
    }
    for (int k = 0; k < len; k++)
        if (!key_char(s[k])) {
            scn__error_at(P, col + k,
                     "'%c' cannot be part of a %s (letters, digits, _ - . : /)",
                     s[k], what);
            return false;
        }
    return true;
}

bool scn__key(struct parser *P, char *out)
{
    struct tok *t = scn__cur(P);
    if (t->k != T_WORD) {
        char b[64];
        scn__error_tok(P, t, "expected a key, got %s", scn__shown(t, b, sizeof(b)));
        return false;
    }
    if (!scn__check_key(P, t->col, t->s, t->len, "key"))
        return false;
    memcpy(out, t->s, (size_t)t->len);
    out[t->len] = 0;
    P->i++;
    return true;
}

/* ------------------------------------------------------------------ */
/* Names: nodes, variables, clients                                    */

static int var_index(struct parser *P, const char *s, int len)
{
    for (int k = 0; k < P->p->n_vars; k++)
        if ((int)strlen(P->p->vars[k]) == len && !memcmp(P->p->vars[k], s, (size_t)len))
            return k;
    return -1;
}

/* A variable about to be bound (as VAR, let VAR). */
int scn__bind_var(struct parser *P)
{
    struct tok *t = scn__cur(P);
    char b[64];
    if (t->k != T_WORD || !scn__is_var_ident(t->s, t->len)) {
        scn__error_tok(P, t,
                  "expected a variable name (starting with a capital letter, "
                  "e.g. L), got %s",
                  scn__shown(t, b, sizeof(b)));
        return -1;
    }
    if (t->len > SCN_NAME_MAX) {
        scn__error_tok(P, t, "variable name is longer than %d bytes", SCN_NAME_MAX);
        return -1;
    }
    int v = var_index(P, t->s, t->len);
    if (v < 0) {
        if (P->p->n_vars >= SCN_MAX_VARS) {
            scn__error_tok(P, t, "too many variables (at most %d)", SCN_MAX_VARS);
            return -1;
        }
        v = P->p->n_vars++;
        memcpy(P->p->vars[v], t->s, (size_t)t->len);
        P->p->vars[v][t->len] = 0;
    }
    P->i++;
    return v;
}

bool scn__node_ref(struct parser *P, struct scn_node *out)
{
    struct tok *t = scn__cur(P);
    char b[64];
    out->id = 0;
    out->var = -1;
    if (scn__is_word(t, "leader")) {
        out->var = SCN_VAR_LEADER; /* resolved when the line runs */
        P->i++;
        return true;
    }
    if (t->k == T_WORD && t->len >= 2 && t->s[0] == 'n' &&
        isdigit((unsigned char)t->s[1])) {
        uint64_t id;
        if (!scn__parse_u64(t->s + 1, t->len - 1, &id) || id < 1 ||
            id > (uint64_t)P->p->nodes) {
            scn__error_tok(P, t, "no node %.*s: this cluster has n1..n%d%s",
                      t->len > 20 ? 20 : t->len, t->s, P->p->nodes,
                      P->nodes_given ? "" : " (set the size with `nodes N`)");
            return false;
        }
        out->id = (int)id;
        P->i++;
        return true;
    }
    if (t->k == T_WORD && scn__is_var_ident(t->s, t->len)) {
        int v = var_index(P, t->s, t->len);
        if (v < 0 || !P->bound[v]) {
            const char *names[SCN_MAX_VARS];
            for (int k = 0; k < P->p->n_vars; k++)
                names[k] = P->bound[k] ? P->p->vars[k] : NULL;
            const char *hint = scn__closest(t->s, t->len, names, P->p->n_vars);
            if (hint)
                scn__error_tok(P, t, "variable %.*s is not bound here; did you mean '%s'?",
                          t->len, t->s, hint);
            else
                scn__error_tok(P, t,
                          "variable %.*s is not bound here: bind it first with "
                          "`await leader as %.*s` or `let %.*s = SET`",
                          t->len, t->s, t->len, t->s, t->len, t->s);
            return false;
        }
        if (P->number[v]) {
            scn__error_tok(P, t, "%.*s is a number (let %.*s = ...), not a "
                                 "node",
                           t->len, t->s, t->len, t->s);
            return false;
        }
        out->var = v;
        P->i++;
        return true;
    }
    scn__error_tok(P, t, "expected a node (n1..n%d, leader or a bound "
                         "variable), got %s",
              P->p->nodes, scn__shown(t, b, sizeof(b)));
    return false;
}

/* A brace list or a single node, into items/count. */
bool scn__node_list(struct parser *P, struct scn_node *items, int *count)
{
    *count = 0;
    if (scn__cur(P)->k != T_LBRACE) {
        if (!scn__node_ref(P, &items[0]))
            return false;
        *count = 1;
        return true;
    }
    P->i++;
    if (scn__cur(P)->k == T_RBRACE) {
        scn__error_tok(P, scn__cur(P), "empty set: name at least one node");
        return false;
    }
    for (;;) {
        if (*count >= SCN_MAX_NODES) {
            scn__error_tok(P, scn__cur(P), "too many members in a set");
            return false;
        }
        if (!scn__node_ref(P, &items[*count]))
            return false;
        (*count)++;
        if (scn__cur(P)->k == T_COMMA) {
            P->i++;
            continue;
        }
        if (scn__cur(P)->k == T_RBRACE) {
            P->i++;
            return true;
        }
        char b[64];
        scn__error_tok(P, scn__cur(P), "expected ',' or '}' in the set, got %s",
                  scn__shown(scn__cur(P), b, sizeof(b)));
        return false;
    }
}

bool scn__set_ref(struct parser *P, struct scn_set *out)
{
    memset(out, 0, sizeof(*out));
    if (scn__accept(P, "all"))
        out->all = true;
    else if (scn__accept(P, "rest"))
        out->rest = true;
    else {
        struct tok *t = scn__cur(P);
        if (t->k == T_WORD && !scn__is_var_ident(t->s, t->len) &&
            !scn__is_word(t, "leader") &&
            !(t->len >= 2 && t->s[0] == 'n' && isdigit((unsigned char)t->s[1]))) {
            static const char *const kw[] = {"all", "rest"};
            char b[64];
            const char *hint = scn__closest(t->s, t->len, kw, 2);
            if (hint)
                scn__error_tok(P, t, "expected a set of nodes, got %s; did you mean '%s'?",
                          scn__shown(t, b, sizeof(b)), hint);
            else
                scn__error_tok(P, t,
                          "expected a set of nodes (n2, {n1,n2}, L, all, "
                          "rest), got %s",
                          scn__shown(t, b, sizeof(b)));
            return false;
        }
        if (!scn__node_list(P, out->items, &out->n))
            return false;
    }
    if (scn__accept(P, "except"))
        return scn__node_list(P, out->except, &out->n_except);
    if (scn__cur(P)->k == T_COMMA && out->n == 1) {
        /* start n1, n2: a list of nodes goes in braces */
        scn__error_tok(P, scn__cur(P),
                       "several nodes go in braces: write {%.*s, ...}",
                       P->t[P->i - 1].len > 20 ? 20 : P->t[P->i - 1].len,
                       P->t[P->i - 1].s);
        return false;
    }
    return true;
}

/* Words a reader may mean as a read outcome rather than a value; the
 * outcome it most likely means, or NULL. */
const char *scn__outcome_like(const struct tok *t)
{
    static const char *const outcomes[] = {"fresh", "stale", "missing"};
    static const struct {
        const char *w, *means;
    } synonyms[] = {
        {"old", "stale"},        {"older", "stale"},    {"outdated", "stale"},
        {"new", "fresh"},        {"newest", "fresh"},   {"latest", "fresh"},
        {"current", "fresh"},    {"absent", "missing"}, {"none", "missing"},
        {"null", "missing"},     {"empty", "missing"},  {"gone", "missing"},
        {"deleted", "missing"},  {"nothing", "missing"},
    };
    for (size_t k = 0; k < sizeof(synonyms) / sizeof(*synonyms); k++)
        if (scn__is_word(t, synonyms[k].w))
            return synonyms[k].means;
    /* a typo of an outcome word (one edit away, e.g. stal, frsh) */
    for (int k = 0; k < 3 && t->len >= 4; k++)
        if (util_edit_distance(t->s, (size_t)t->len, outcomes[k],
                               strlen(outcomes[k])) <= 1)
            return outcomes[k];
    return NULL;
}

int scn__client_index(struct parser *P, const char *s, int len)
{
    for (int k = 0; k < P->p->n_clients; k++)
        if ((int)strlen(P->p->clients[k]) == len &&
            !memcmp(P->p->clients[k], s, (size_t)len))
            return k;
    return -1;
}

static const char *const reserved_clients[] = {"leader", "all", "rest", "via",
                                               "from", "expect", "within",
                                               "of"};

/* A client; declare = a write/read/clients may introduce a new one. */
int scn__client(struct parser *P, bool declare)
{
    struct tok *t = scn__cur(P);
    char b[64];
    if (t->k != T_WORD || !scn__is_lower_ident(t->s, t->len) ||
        (t->len >= 2 && t->s[0] == 'n' && isdigit((unsigned char)t->s[1]))) {
        scn__error_tok(P, t,
                  "expected a client name (lower-case, e.g. alice), got %s",
                  scn__shown(t, b, sizeof(b)));
        return -1;
    }
    for (size_t k = 0; k < sizeof(reserved_clients) / sizeof(*reserved_clients);
         k++)
        if (scn__is_word(t, reserved_clients[k])) {
            scn__error_tok(P, t, "'%s' is a keyword, not a client name",
                      reserved_clients[k]);
            return -1;
        }
    if (t->len > SCN_NAME_MAX) {
        scn__error_tok(P, t, "client name is longer than %d bytes", SCN_NAME_MAX);
        return -1;
    }
    int c = scn__client_index(P, t->s, t->len);
    if (c < 0 && !declare) {
        const char *names[SCN_MAX_CLIENTS];
        for (int k = 0; k < P->p->n_clients; k++)
            names[k] = P->p->clients[k];
        const char *hint = scn__closest(t->s, t->len, names, P->p->n_clients);
        if (hint)
            scn__error_tok(P, t, "no client named '%.*s' so far; did you mean '%s'?",
                      t->len, t->s, hint);
        else
            scn__error_tok(P, t,
                      "no client named '%.*s' so far (clients appear with "
                      "their first write or read)",
                      t->len, t->s);
        return -1;
    }
    if (c < 0) {
        if (P->p->n_clients >= SCN_MAX_CLIENTS) {
            scn__error_tok(P, t, "too many clients (at most %d)", SCN_MAX_CLIENTS);
            return -1;
        }
        c = P->p->n_clients++;
        memcpy(P->p->clients[c], t->s, (size_t)t->len);
        P->p->clients[c][t->len] = 0;
    }
    P->i++;
    return c;
}


/* Unescape \" and \\ of a string token into a fresh buffer; raw[i] is
 * the offset in the token of output byte i (for columns). */
char *scn__unescape(const struct tok *t, int **raw)
{
    char *s = malloc((size_t)t->len + 1);
    *raw = malloc(((size_t)t->len + 1) * sizeof(**raw));
    if (!s || !*raw) {
        free(s);
        free(*raw);
        *raw = NULL;
        return NULL;
    }
    int o = 0;
    for (int k = 0; k < t->len; k++) {
        if (t->s[k] == '\\' && k + 1 < t->len &&
            (t->s[k + 1] == '"' || t->s[k + 1] == '\\'))
            k++;
        (*raw)[o] = k;
        s[o++] = t->s[k];
    }
    (*raw)[o] = t->len;
    s[o] = 0;
    return s;
}
