/*
 * scenario_parse.c — scenario text → checked scn_program (scenario.h).
 *
 * Hand-written: the language is line-oriented with a few dozen keywords,
 * and what matters most is the quality of the messages (gcc-style
 * file:line:col, the source line with a caret, a did-you-mean for every
 * misspelled keyword, name and client).  No parser generator in Debian's
 * C toolbox gives that more simply than a small recursive descent.
 *
 * Each line is split into tokens (words, "strings", { } ,), then parsed
 * by the command's own function.  An error skips the rest of its line and
 * parsing goes on, so one run reports up to MAX_ERRORS mistakes; a file
 * with any error yields no program.  Everything is bounded: file size,
 * line length, tokens per line, commands, names.
 */
#include "sim/scenario.h"
#include "sim/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (1u << 20)
#define MAX_LINE 4096
#define MAX_TOKENS 512
#define MAX_CMDS 10000
#define MAX_ERRORS 20
#define MAX_SEGS 256
#define MAX_DURATION_US (UINT64_C(86400) * 1000000) /* a day */

enum tok_kind { T_WORD, T_STR, T_LBRACE, T_RBRACE, T_COMMA, T_END };

struct tok {
    enum tok_kind k;
    const char *s; /* into the line; for T_STR the raw text inside quotes */
    int len;
    int col;       /* 1-based */
};

struct parser {
    const char *name;
    FILE *err;
    int errors;
    bool gave_up;
    /* the current line */
    int line;
    const char *text;
    int text_len;
    struct tok t[MAX_TOKENS + 1];
    int nt, i;
    bool line_failed; /* one error per line: the rest is noise */
    /* the program */
    struct scn_program *p;
    int cap_cmds;
    bool nodes_given;
    int first_action_line; /* 0 until a non-setup command */
    bool seen_setup[32];
    bool bound[SCN_MAX_VARS];
};

/* ------------------------------------------------------------------ */
/* Messages                                                            */

static void error_at(struct parser *P, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(struct parser *P, int col, const char *fmt, ...)
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
    fprintf(P->err, "%s:%d:%d: error: ", P->name, P->line, col);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(P->err, fmt, ap);
    va_end(ap);
    fputc('\n', P->err);
    if (P->text) {
        /* the line (tabs kept so the caret lines up), then the caret */
        int n = P->text_len;
        while (n > 0 && (P->text[n - 1] == '\n' || P->text[n - 1] == '\r'))
            n--;
        fprintf(P->err, "  %.*s\n  ", n, P->text);
        for (int c = 1; c < col && c - 1 < n; c++)
            fputc(P->text[c - 1] == '\t' ? '\t' : ' ', P->err);
        fputs("^\n", P->err);
    }
}

static struct tok *cur(struct parser *P) { return &P->t[P->i]; }

static void error_tok(struct parser *P, const struct tok *t, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));
static void error_tok(struct parser *P, const struct tok *t, const char *fmt,
                      ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    error_at(P, t->col, "%s", buf);
}

/* How a token reads in a message. */
static const char *shown(const struct tok *t, char *buf, size_t cap)
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
static const char *closest(const char *w, int wl, const char *const *cand,
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
static void expected(struct parser *P, const char *what,
                     const char *const *choices, int n)
{
    struct tok *t = cur(P);
    char b[64];
    const char *hint = t->k == T_WORD ? closest(t->s, t->len, choices, n) : NULL;
    if (hint)
        error_tok(P, t, "expected %s, got %s; did you mean '%s'?", what,
                  shown(t, b, sizeof(b)), hint);
    else
        error_tok(P, t, "expected %s, got %s", what, shown(t, b, sizeof(b)));
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

static bool is_word_char(char c)
{
    return c && !isspace((unsigned char)c) && c != '{' && c != '}' &&
           c != ',' && c != '"' && c != '#';
}

/* Split P->text into tokens; false on a lexical error (reported). */
static bool tokenize(struct parser *P)
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
            error_at(P, k + 1, "too many words on one line (at most %d)",
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
                error_at(P, k + 1, "unterminated string: add the closing '\"'");
                return false;
            }
            t->k = T_STR;
            t->s = s + k + 1;
            t->len = j - k - 1;
            k = j + 1;
        } else if (!isprint((unsigned char)c) && !((unsigned char)c & 0x80)) {
            error_at(P, k + 1, "unexpected control character 0x%02x",
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

static bool is_word(const struct tok *t, const char *w)
{
    return t->k == T_WORD && (size_t)t->len == strlen(w) &&
           !memcmp(t->s, w, (size_t)t->len);
}

static bool accept(struct parser *P, const char *w)
{
    if (is_word(cur(P), w)) {
        P->i++;
        return true;
    }
    return false;
}

static bool at_end(struct parser *P) { return cur(P)->k == T_END; }

/* One of choices (a keyword); its index, or -1 with an error. */
static int keyword(struct parser *P, const char *what,
                   const char *const *choices, int n)
{
    for (int k = 0; k < n; k++)
        if (choices[k] && is_word(cur(P), choices[k])) {
            P->i++;
            return k;
        }
    expected(P, what, choices, n);
    return -1;
}

static bool need(struct parser *P, const char *w)
{
    if (accept(P, w))
        return true;
    char what[48];
    snprintf(what, sizeof(what), "'%s'", w);
    const char *c[] = {w};
    expected(P, what, c, 1);
    return false;
}

static bool end_of_line(struct parser *P)
{
    if (at_end(P))
        return true;
    char b[64];
    error_tok(P, cur(P), "unexpected %s at the end of the command",
              shown(cur(P), b, sizeof(b)));
    return false;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

static bool parse_u64(const char *s, int len, uint64_t *out)
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
static const char *duration_of(const char *s, int len, uint64_t *out)
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

static bool duration(struct parser *P, const char *what, uint64_t *out)
{
    struct tok *t = cur(P);
    if (t->k != T_WORD) {
        char b[64];
        error_tok(P, t, "expected %s (a duration such as 500ms), got %s",
                  what, shown(t, b, sizeof(b)));
        return false;
    }
    const char *why = duration_of(t->s, t->len, out);
    if (why) {
        error_tok(P, t, "%s '%.*s' %s", what, t->len > 40 ? 40 : t->len,
                  t->s, why);
        return false;
    }
    P->i++;
    return true;
}

static bool number(struct parser *P, const char *what, uint64_t *out)
{
    struct tok *t = cur(P);
    if (t->k != T_WORD || !parse_u64(t->s, t->len, out)) {
        char b[64];
        error_tok(P, t, "expected %s (a whole number), got %s", what,
                  shown(t, b, sizeof(b)));
        return false;
    }
    P->i++;
    return true;
}

/* A probability: 0.05, 5%, 1e-05 (explore writes %.17g). */
static bool probability(struct parser *P, const char *what, double *out)
{
    struct tok *t = cur(P);
    char b[64];
    if (t->k != T_WORD || t->len > 40) {
        error_tok(P, t, "expected %s (between 0 and 1, or a percentage), got %s",
                  what, shown(t, b, sizeof(b)));
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
        error_tok(P, t, "%s must be between 0 and 1 (or 0%% and 100%%), got %s",
                  what, shown(t, b, sizeof(b)));
        return false;
    }
    *out = pct ? v / 100 : v;
    P->i++;
    return true;
}

static bool is_lower_ident(const char *s, int len)
{
    if (len <= 0 || !islower((unsigned char)s[0]))
        return false;
    for (int k = 0; k < len; k++)
        if (!isalnum((unsigned char)s[k]) && s[k] != '_' && s[k] != '-')
            return false;
    return true;
}

static bool is_var_ident(const char *s, int len)
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

static bool check_key(struct parser *P, int col, const char *s, int len,
                      const char *what)
{
    if (len <= 0) {
        error_at(P, col, "empty %s", what);
        return false;
    }
    if (len > SCN_KEY_MAX) {
        error_at(P, col, "%s '%.*s…' is longer than %d bytes", what, 20, s,
                 SCN_KEY_MAX);
        return false;
    }
    for (int k = 0; k < len; k++)
        if (!key_char(s[k])) {
            error_at(P, col + k,
                     "'%c' cannot be part of a %s (letters, digits, _ - . : /)",
                     s[k], what);
            return false;
        }
    return true;
}

static bool key(struct parser *P, char *out)
{
    struct tok *t = cur(P);
    if (t->k != T_WORD) {
        char b[64];
        error_tok(P, t, "expected a key, got %s", shown(t, b, sizeof(b)));
        return false;
    }
    if (!check_key(P, t->col, t->s, t->len, "key"))
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
static int bind_var(struct parser *P)
{
    struct tok *t = cur(P);
    char b[64];
    if (t->k != T_WORD || !is_var_ident(t->s, t->len)) {
        error_tok(P, t,
                  "expected a variable name (starting with a capital letter, "
                  "e.g. L), got %s",
                  shown(t, b, sizeof(b)));
        return -1;
    }
    if (t->len > SCN_NAME_MAX) {
        error_tok(P, t, "variable name is longer than %d bytes", SCN_NAME_MAX);
        return -1;
    }
    int v = var_index(P, t->s, t->len);
    if (v < 0) {
        if (P->p->n_vars >= SCN_MAX_VARS) {
            error_tok(P, t, "too many variables (at most %d)", SCN_MAX_VARS);
            return -1;
        }
        v = P->p->n_vars++;
        memcpy(P->p->vars[v], t->s, (size_t)t->len);
        P->p->vars[v][t->len] = 0;
    }
    P->i++;
    return v;
}

static bool node_ref(struct parser *P, struct scn_node *out)
{
    struct tok *t = cur(P);
    char b[64];
    out->id = 0;
    out->var = -1;
    if (t->k == T_WORD && t->len >= 2 && t->s[0] == 'n' &&
        isdigit((unsigned char)t->s[1])) {
        uint64_t id;
        if (!parse_u64(t->s + 1, t->len - 1, &id) || id < 1 ||
            id > (uint64_t)P->p->nodes) {
            error_tok(P, t, "no node %.*s: this cluster has n1..n%d%s",
                      t->len > 20 ? 20 : t->len, t->s, P->p->nodes,
                      P->nodes_given ? "" : " (set the size with `nodes N`)");
            return false;
        }
        out->id = (int)id;
        P->i++;
        return true;
    }
    if (t->k == T_WORD && is_var_ident(t->s, t->len)) {
        int v = var_index(P, t->s, t->len);
        if (v < 0 || !P->bound[v]) {
            const char *names[SCN_MAX_VARS];
            for (int k = 0; k < P->p->n_vars; k++)
                names[k] = P->bound[k] ? P->p->vars[k] : NULL;
            const char *hint = closest(t->s, t->len, names, P->p->n_vars);
            if (hint)
                error_tok(P, t, "variable %.*s is not bound here; did you mean '%s'?",
                          t->len, t->s, hint);
            else
                error_tok(P, t,
                          "variable %.*s is not bound here: bind it first with "
                          "`await leader as %.*s` or `let %.*s = SET`",
                          t->len, t->s, t->len, t->s, t->len, t->s);
            return false;
        }
        out->var = v;
        P->i++;
        return true;
    }
    error_tok(P, t, "expected a node (n1..n%d or a bound variable), got %s",
              P->p->nodes, shown(t, b, sizeof(b)));
    return false;
}

/* A brace list or a single node, into items/count. */
static bool node_list(struct parser *P, struct scn_node *items, int *count)
{
    *count = 0;
    if (cur(P)->k != T_LBRACE) {
        if (!node_ref(P, &items[0]))
            return false;
        *count = 1;
        return true;
    }
    P->i++;
    if (cur(P)->k == T_RBRACE) {
        error_tok(P, cur(P), "empty set: name at least one node");
        return false;
    }
    for (;;) {
        if (*count >= SCN_MAX_NODES) {
            error_tok(P, cur(P), "too many members in a set");
            return false;
        }
        if (!node_ref(P, &items[*count]))
            return false;
        (*count)++;
        if (cur(P)->k == T_COMMA) {
            P->i++;
            continue;
        }
        if (cur(P)->k == T_RBRACE) {
            P->i++;
            return true;
        }
        char b[64];
        error_tok(P, cur(P), "expected ',' or '}' in the set, got %s",
                  shown(cur(P), b, sizeof(b)));
        return false;
    }
}

static bool set_ref(struct parser *P, struct scn_set *out)
{
    memset(out, 0, sizeof(*out));
    if (accept(P, "all"))
        out->all = true;
    else if (accept(P, "rest"))
        out->rest = true;
    else {
        struct tok *t = cur(P);
        if (t->k == T_WORD && !is_var_ident(t->s, t->len) &&
            !(t->len >= 2 && t->s[0] == 'n' && isdigit((unsigned char)t->s[1]))) {
            static const char *const kw[] = {"all", "rest"};
            char b[64];
            const char *hint = closest(t->s, t->len, kw, 2);
            if (hint)
                error_tok(P, t, "expected a set of nodes, got %s; did you mean '%s'?",
                          shown(t, b, sizeof(b)), hint);
            else
                error_tok(P, t,
                          "expected a set of nodes (n2, {n1,n2}, L, all, "
                          "rest), got %s",
                          shown(t, b, sizeof(b)));
            return false;
        }
        if (!node_list(P, out->items, &out->n))
            return false;
    }
    if (accept(P, "except"))
        return node_list(P, out->except, &out->n_except);
    return true;
}

static int client_index(struct parser *P, const char *s, int len)
{
    for (int k = 0; k < P->p->n_clients; k++)
        if ((int)strlen(P->p->clients[k]) == len &&
            !memcmp(P->p->clients[k], s, (size_t)len))
            return k;
    return -1;
}

static const char *const reserved_clients[] = {"leader", "all", "rest", "via",
                                               "from", "expect", "within"};

/* A client; declare = a write/read/clients may introduce a new one. */
static int client(struct parser *P, bool declare)
{
    struct tok *t = cur(P);
    char b[64];
    if (t->k != T_WORD || !is_lower_ident(t->s, t->len) ||
        (t->len >= 2 && t->s[0] == 'n' && isdigit((unsigned char)t->s[1]))) {
        error_tok(P, t,
                  "expected a client name (lower-case, e.g. alice), got %s",
                  shown(t, b, sizeof(b)));
        return -1;
    }
    for (size_t k = 0; k < sizeof(reserved_clients) / sizeof(*reserved_clients);
         k++)
        if (is_word(t, reserved_clients[k])) {
            error_tok(P, t, "'%s' is a keyword, not a client name",
                      reserved_clients[k]);
            return -1;
        }
    if (t->len > SCN_NAME_MAX) {
        error_tok(P, t, "client name is longer than %d bytes", SCN_NAME_MAX);
        return -1;
    }
    int c = client_index(P, t->s, t->len);
    if (c < 0 && !declare) {
        const char *names[SCN_MAX_CLIENTS];
        for (int k = 0; k < P->p->n_clients; k++)
            names[k] = P->p->clients[k];
        const char *hint = closest(t->s, t->len, names, P->p->n_clients);
        if (hint)
            error_tok(P, t, "no client named '%.*s' so far; did you mean '%s'?",
                      t->len, t->s, hint);
        else
            error_tok(P, t,
                      "no client named '%.*s' so far (clients appear with "
                      "their first write or read)",
                      t->len, t->s);
        return -1;
    }
    if (c < 0) {
        if (P->p->n_clients >= SCN_MAX_CLIENTS) {
            error_tok(P, t, "too many clients (at most %d)", SCN_MAX_CLIENTS);
            return -1;
        }
        c = P->p->n_clients++;
        memcpy(P->p->clients[c], t->s, (size_t)t->len);
        P->p->clients[c][t->len] = 0;
    }
    P->i++;
    return c;
}

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

static bool one_set(struct parser *P, struct scn_cmd *cmd)
{
    struct scn_set *s = add_sets(cmd, 1);
    if (!s) {
        error_at(P, 1, "out of memory");
        return false;
    }
    return set_ref(P, s);
}

static bool arrow(struct parser *P, bool *both)
{
    if (accept(P, "->")) {
        *both = false;
        return true;
    }
    if (accept(P, "<->")) {
        *both = true;
        return true;
    }
    static const char *const c[] = {"->", "<->"};
    expected(P, "'->' (one way) or '<->' (both ways)", c, 2);
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

static bool within(struct parser *P, struct scn_cmd *cmd)
{
    if (!accept(P, "within"))
        return true;
    if (!duration(P, "the time limit", &cmd->within_us))
        return false;
    if (cmd->within_us == 0) {
        error_tok(P, &P->t[P->i - 1], "the time limit must be more than 0");
        return false;
    }
    return true;
}

static bool c_link(struct parser *P, struct scn_cmd *cmd)
{
    if (!one_set(P, cmd) || !arrow(P, &cmd->both_ways) || !one_set(P, cmd))
        return false;
    if (accept(P, "reset")) {
        cmd->reset = true;
        return end_of_line(P);
    }
    static const char *const opts[] = {"latency", "jitter", "drop", "dup",
                                       "reset"};
    while (!at_end(P)) {
        int k = keyword(P, "a link setting (latency, jitter, drop, dup)", opts, 4);
        if (k < 0)
            return false;
        bool *has[] = {&cmd->has_latency, &cmd->has_jitter, &cmd->has_drop,
                       &cmd->has_dup};
        if (*has[k]) {
            error_tok(P, &P->t[P->i - 1], "%s is given twice", opts[k]);
            return false;
        }
        *has[k] = true;
        bool ok = k == 0   ? duration(P, "latency", &cmd->latency_us)
                  : k == 1 ? duration(P, "jitter", &cmd->jitter_us)
                  : k == 2 ? probability(P, "drop", &cmd->drop)
                           : probability(P, "dup", &cmd->dup);
        if (!ok)
            return false;
    }
    if (!cmd->has_latency && !cmd->has_jitter && !cmd->has_drop && !cmd->has_dup) {
        error_tok(P, cur(P),
                  "a link needs a setting: latency D, jitter D, drop P, dup P, "
                  "or reset");
        return false;
    }
    return true;
}

static bool c_write(struct parser *P, struct scn_cmd *cmd)
{
    if ((cmd->client = client(P, true)) < 0)
        return false;
    struct tok *t = cur(P);
    const char *eq = t->k == T_WORD ? memchr(t->s, '=', (size_t)t->len) : NULL;
    if (!eq) {
        char b[64];
        error_tok(P, t, "expected KEY=VALUE (e.g. x=1), got %s",
                  shown(t, b, sizeof(b)));
        return false;
    }
    int kl = (int)(eq - t->s), vl = t->len - kl - 1;
    if (!check_key(P, t->col, t->s, kl, "key") ||
        !check_key(P, t->col + kl + 1, eq + 1, vl, "value"))
        return false;
    memcpy(cmd->key, t->s, (size_t)kl);
    memcpy(cmd->value, eq + 1, (size_t)vl);
    P->i++;
    if (accept(P, "via") && !accept(P, "leader") && !node_ref(P, &cmd->via))
        return false;
    if (accept(P, "expect")) {
        int o = keyword(P, "an outcome (committed, acked, refused, timeout, lost)",
                        outcome_words, N_OUTCOMES);
        if (o < 0)
            return false;
        cmd->outcome = (enum scn_outcome)o;
    }
    if (!within(P, cmd))
        return false;
    return end_of_line(P);
}

static bool c_read(struct parser *P, struct scn_cmd *cmd)
{
    if ((cmd->client = client(P, true)) < 0 || !key(P, cmd->key))
        return false;
    cmd->route = SCN_ROUTE_LEADER;
    if (accept(P, "from")) {
        static const char *const r[] = {"leader", "any", "follower",
                                        "monotonic", "ryw"};
        static const enum scn_route rv[] = {SCN_ROUTE_LEADER, SCN_ROUTE_ANY,
                                            SCN_ROUTE_FOLLOWER,
                                            SCN_ROUTE_MONOTONIC, SCN_ROUTE_RYW};
        int k = -1;
        for (int j = 0; j < 5 && k < 0; j++)
            if (accept(P, r[j]))
                k = j;
        if (k >= 0)
            cmd->route = rv[k];
        else {
            struct tok *t = cur(P);
            if (t->k == T_WORD && !is_var_ident(t->s, t->len) &&
                !(t->s[0] == 'n' && t->len >= 2 && isdigit((unsigned char)t->s[1]))) {
                expected(P,
                         "a route (leader, any, follower, monotonic, ryw) or "
                         "a node",
                         r, 5);
                return false;
            }
            if (!node_ref(P, &cmd->from))
                return false;
            cmd->route = SCN_ROUTE_NODE;
        }
    }
    if (accept(P, "expect")) {
        if (accept(P, "fresh"))
            cmd->read_expect = SCN_READ_FRESH;
        else if (accept(P, "stale"))
            cmd->read_expect = SCN_READ_STALE;
        else if (accept(P, "missing"))
            cmd->read_expect = SCN_READ_MISSING;
        else {
            struct tok *t = cur(P);
            if (t->k != T_WORD) {
                char b[64];
                error_tok(P, t,
                          "expected a value, fresh, stale or missing, got %s",
                          shown(t, b, sizeof(b)));
                return false;
            }
            if (!check_key(P, t->col, t->s, t->len, "value"))
                return false;
            memcpy(cmd->value, t->s, (size_t)t->len);
            cmd->value[t->len] = 0;
            cmd->read_expect = SCN_READ_VALUE;
            P->i++;
        }
    }
    return end_of_line(P);
}

static bool c_await(struct parser *P, struct scn_cmd *cmd)
{
    static const char *const what[] = {"leader", "follower", "committed",
                                       "caught-up"};
    int k = keyword(P, "leader, follower, committed or caught-up", what, 4);
    if (k < 0)
        return false;
    cmd->await = (enum scn_await_kind)k;
    cmd->bind_var = -1;
    int bind = -1;
    switch (cmd->await) {
    case SCN_AW_LEADER:
        if (accept(P, "in")) {
            if (!one_set(P, cmd))
                return false;
            cmd->has_set = true;
        }
        if (accept(P, "as") && (bind = bind_var(P)) < 0)
            return false;
        break;
    case SCN_AW_FOLLOWER:
    case SCN_AW_CAUGHT_UP:
        if (!node_ref(P, &cmd->node))
            return false;
        cmd->has_node = true;
        break;
    case SCN_AW_COMMITTED:
        if (!key(P, cmd->key))
            return false;
        if (accept(P, "on")) {
            if (!node_ref(P, &cmd->node))
                return false;
            cmd->has_node = true;
        }
        break;
    }
    if (!within(P, cmd) || !end_of_line(P))
        return false;
    if (bind >= 0) {
        cmd->bind_var = bind;
        P->bound[bind] = true;
    }
    return true;
}

static bool cmp_op(struct parser *P, enum scn_cmp *out)
{
    static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">=", "=="};
    int k = keyword(P, "a comparison (=, !=, <, <=, >, >=)", ops, 7);
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
        if (accept(P, quantity_words[q])) {
            v->q = (enum scn_quantity)q;
            return need(P, "of") && node_ref(P, &v->node);
        }
    return number(P, "a number, or term|lsn|commit|applied of NODE", &v->lit);
}

/* A mirrored server's name. */
static bool pg_server_ref(struct parser *P, char *out)
{
    struct tok *t = cur(P);
    const char *names[8];
    int n = P->p->n_mirror;
    for (int k = 0; k < n; k++) {
        names[k] = P->p->mirror[k].name;
        if (is_word(t, names[k])) {
            snprintf(out, 16, "%s", names[k]);
            P->i++;
            return true;
        }
    }
    expected(P, "a mirrored server (see the `mirror` line)", names, n);
    return false;
}

static bool c_expect(struct parser *P, struct scn_cmd *cmd)
{
    struct scn_expect *ex = &cmd->ex;
    ex->node.var = -1;
    ex->value.node.var = -1;
    static const char *const heads[] = {
        "leader", "leaders", "role", "term", "lsn", "commit", "applied",
        "committed", "lost", "discarded", "log", "lag", "reads", "write",
        "no", "violation", "pg"};
    int h = keyword(P, "an expectation (leader, leaders, role, term, lsn, "
                       "commit, applied, committed, lost, discarded, log, lag, "
                       "reads, write, no violations, violation, pg)",
                    heads, 17);
    switch (h) {
    case -1:
        return false;
    case 0: /* leader is NODE|none, leader in SET */
        if (accept(P, "in")) {
            ex->kind = SCN_EX_LEADER_IN;
            if (!set_ref(P, &ex->set))
                return false;
            break;
        }
        ex->kind = SCN_EX_LEADER_IS;
        if (!need(P, "is"))
            return false;
        if (accept(P, "none"))
            ex->none = true;
        else if (!node_ref(P, &ex->node))
            return false;
        break;
    case 1: /* leaders CMP N */
        ex->kind = SCN_EX_LEADERS;
        if (!cmp_op(P, &ex->cmp) || !number(P, "a count", &ex->value.lit))
            return false;
        break;
    case 2: { /* role of NODE is ROLE */
        ex->kind = SCN_EX_ROLE;
        if (!need(P, "of") || !node_ref(P, &ex->node) || !need(P, "is"))
            return false;
        ex->negate = accept(P, "not");
        static const char *const roles[] = {"follower", "pre-candidate",
                                            "candidate", "leader", "down",
                                            "paused"};
        static const enum raft_role rv[] = {RAFT_FOLLOWER, RAFT_PRECANDIDATE,
                                            RAFT_CANDIDATE, RAFT_LEADER,
                                            RAFT_DOWN, RAFT_FOLLOWER};
        int r = keyword(P,
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
        if (!need(P, "of") || !node_ref(P, &ex->node) || !cmp_op(P, &ex->cmp) ||
            !value(P, &ex->value))
            return false;
        break;
    case 7: /* committed KEY [on NODE] */
        ex->kind = SCN_EX_COMMITTED;
        if (!key(P, ex->key))
            return false;
        if (accept(P, "on")) {
            if (!node_ref(P, &ex->node))
                return false;
            ex->has_node = true;
        }
        break;
    case 8:
        ex->kind = SCN_EX_LOST;
        if (!key(P, ex->key))
            return false;
        break;
    case 9: /* discarded KEY on NODE */
        ex->kind = SCN_EX_DISCARDED;
        if (!key(P, ex->key) || !need(P, "on") || !node_ref(P, &ex->node))
            return false;
        break;
    case 10: { /* log of NODE has|lacks KEY */
        ex->kind = SCN_EX_LOG_HAS;
        if (!need(P, "of") || !node_ref(P, &ex->node))
            return false;
        static const char *const hl[] = {"has", "lacks"};
        int k = keyword(P, "'has' or 'lacks'", hl, 2);
        if (k < 0 || !key(P, ex->key))
            return false;
        ex->negate = k == 1;
        break;
    }
    case 11: { /* lag of NODE CMP N entries|bytes | D */
        ex->kind = SCN_EX_LAG;
        if (!need(P, "of") || !node_ref(P, &ex->node) || !cmp_op(P, &ex->cmp))
            return false;
        struct tok *t = cur(P);
        uint64_t n;
        if (t->k == T_WORD && parse_u64(t->s, t->len, &n)) {
            P->i++;
            ex->value.lit = n;
            static const char *const u[] = {"entries", "bytes"};
            int k = keyword(P,
                            "a unit: entries or bytes (or write a duration "
                            "such as 100ms)",
                            u, 2);
            if (k < 0)
                return false;
            ex->lag_unit = k == 0 ? SCN_LAG_ENTRIES : SCN_LAG_BYTES;
        } else {
            if (!duration(P, "the lag", &ex->value.lit))
                return false;
            ex->lag_unit = SCN_LAG_TIME;
        }
        break;
    }
    case 12: { /* reads of CLIENT [not] PROP */
        ex->kind = SCN_EX_READS;
        if (!need(P, "of") || (ex->client = client(P, false)) < 0)
            return false;
        ex->negate = accept(P, "not");
        static const char *const props[] = {"fresh", "stale", "monotonic",
                                            "own-writes"};
        int k = keyword(P, "fresh, stale, monotonic or own-writes", props, 4);
        if (k < 0)
            return false;
        ex->prop = (enum scn_reads_prop)k;
        break;
    }
    case 13: { /* write of CLIENT KEY OUTCOME */
        ex->kind = SCN_EX_WRITE;
        if (!need(P, "of") || (ex->client = client(P, false)) < 0 ||
            !key(P, ex->key))
            return false;
        int o = keyword(P, "an outcome (committed, acked, refused, timeout, lost)",
                        outcome_words, N_OUTCOMES);
        if (o < 0)
            return false;
        ex->outcome = (enum scn_outcome)o;
        break;
    }
    case 14: { /* no violations | no leader */
        static const char *const w[] = {"violations", "leader"};
        int k = keyword(P, "'violations' or 'leader'", w, 2);
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
        if (at_end(P))
            break;
        static const char *const inv[] = {
            "ElectionSafety",     "LeaderAppendOnly", "LogMatching",
            "LeaderCompleteness", "StateMachineSafety", "AckedWriteLost",
            "TraceConsistency"};
        int k = keyword(P, "an invariant name", inv, 7);
        if (k < 0)
            return false;
        snprintf(ex->violation, sizeof(ex->violation), "%s", inv[k]);
        break;
    }
    case 16: /* pg ... */
        ex->kind = SCN_EX_PG;
        if (!P->p->n_mirror) {
            error_tok(P, &P->t[P->i - 1],
                      "'expect pg' needs a `mirror` line in the set-up");
            return false;
        }
        if (accept(P, "primary")) {
            ex->pg = SCN_PG_PRIMARY;
            if (!need(P, "is"))
                return false;
            if (accept(P, "none"))
                break;
            return pg_server_ref(P, ex->server) && end_of_line(P);
        }
        if (accept(P, "writable")) {
            ex->pg = SCN_PG_WRITABLE;
            if (!cmp_op(P, &ex->cmp) || !number(P, "a count", &ex->value.lit))
                return false;
            break;
        }
        if (accept(P, "lag")) {
            ex->pg = SCN_PG_LAG;
            if (!need(P, "of") || !pg_server_ref(P, ex->server) ||
                !cmp_op(P, &ex->cmp) ||
                !duration(P, "the lag", &ex->value.lit))
                return false;
            break;
        }
        {
            ex->pg = SCN_PG_HAS;
            if (!pg_server_ref(P, ex->server))
                return false;
            static const char *const hl[] = {"has", "lacks"};
            int k = keyword(P, "'has' or 'lacks'", hl, 2);
            if (k < 0 || !key(P, ex->key))
                return false;
            ex->negate = k == 1;
        }
        break;
    }
    return end_of_line(P);
}

/* Unescape \" and \\ of a string token into a fresh buffer; raw[i] is
 * the offset in the token of output byte i (for columns). */
static char *unescape(const struct tok *t, int **raw)
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

static bool add_seg(struct parser *P, struct scn_cmd *cmd, struct scn_seg seg)
{
    if (cmd->n_segs >= MAX_SEGS) {
        free(seg.text);
        error_at(P, cur(P)->col, "too many {…} in one say");
        return false;
    }
    if (!cmd->segs) {
        cmd->segs = calloc(MAX_SEGS, sizeof(*cmd->segs));
        if (!cmd->segs) {
            free(seg.text);
            error_at(P, 1, "out of memory");
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
        error_at(P, 1, "out of memory");
        return false;
    }
    memcpy(seg.text, s, n);
    seg.text[n] = 0;
    return add_seg(P, cmd, seg);
}

/* Parse "{…}" interpolations.  Columns are those of the raw token. */
static bool c_say(struct parser *P, struct scn_cmd *cmd)
{
    struct tok *t = cur(P);
    if (t->k != T_STR) {
        char b[64];
        error_tok(P, t, "expected the text in double quotes, got %s",
                  shown(t, b, sizeof(b)));
        return false;
    }
    P->i++;
    if (!end_of_line(P))
        return false;
    int *raw = NULL;
    char *s = unescape(t, &raw);
    if (!s) {
        error_at(P, 1, "out of memory");
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
            error_at(P, t->col + 1 + raw[k],
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
            error_at(P, t->col + 1 + raw[k],
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
        else if (nw == 1 && !is_var_ident(w[0], wl[0]) &&
                 !(wl[0] >= 2 && w[0][0] == 'n' &&
                   isdigit((unsigned char)w[0][1]))) {
            error_at(P, wc[0],
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
                    const char *hint = closest(w[0], wl[0], f, 5);
                    error_at(P, wc[0],
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
            if (!node_ref(&sub, &seg.node)) {
                P->errors = sub.errors;
                P->gave_up = sub.gave_up;
                P->line_failed = true;
                ok = false;
                break;
            }
        } else {
            error_at(P, base,
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

static bool c_let(struct parser *P, struct scn_cmd *cmd)
{
    int vars[SCN_MAX_VARS], n = 0;
    while (!at_end(P) && !is_word(cur(P), "=")) {
        if (n >= SCN_MAX_VARS) {
            error_tok(P, cur(P), "too many variables in one let");
            return false;
        }
        if ((vars[n++] = bind_var(P)) < 0)
            return false;
    }
    if (n == 0) {
        error_tok(P, cur(P), "expected variable names: let A B = all except L");
        return false;
    }
    if (!need(P, "=") || !one_set(P, cmd) || !end_of_line(P))
        return false;
    memcpy(cmd->let_vars, vars, sizeof(int) * (size_t)n);
    cmd->n_let = n;
    for (int k = 0; k < n; k++)
        P->bound[vars[k]] = true;
    return true;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

/* "n1=a" (a lab server) or "n1=postgresql://…" (a server named n1). */
static int mirror_add(struct scn_program *p, const char *s, int len, char *why,
                      size_t cap)
{
    const char *eq = memchr(s, '=', (size_t)len);
    uint64_t id;
    if (!eq || eq - s < 2 || s[0] != 'n' ||
        !parse_u64(s + 1, (int)(eq - s) - 1, &id)) {
        snprintf(why, cap, "expected NODE=SERVER (e.g. n1=a), got '%.*s'",
                 len > 40 ? 40 : len, s);
        return -1;
    }
    if (id < 1 || id > (uint64_t)p->nodes) {
        snprintf(why, cap, "no node n%llu: this cluster has n1..n%d",
                 (unsigned long long)id, p->nodes);
        return -1;
    }
    const char *srv = eq + 1;
    int sl = len - (int)(srv - s);
    if (sl <= 0) {
        snprintf(why, cap, "n%llu= needs a server (a lab name such as a, or a "
                           "connection string)",
                 (unsigned long long)id);
        return -1;
    }
    if (p->mirror_of[id]) {
        snprintf(why, cap, "n%llu is mirrored twice", (unsigned long long)id);
        return -1;
    }
    bool lab = sl <= 15;
    for (int k = 0; k < sl && lab; k++)
        lab = (srv[k] >= 'a' && srv[k] <= 'z') || (srv[k] >= '0' && srv[k] <= '9');
    char name[16];
    if (lab)
        snprintf(name, sizeof(name), "%.*s", sl, srv);
    else
        snprintf(name, sizeof(name), "n%d", (int)id);
    if (lab && strcmp(name, "a") && strcmp(name, "b")) {
        snprintf(why, cap, "no lab server '%s': tools/pg-pair has a and b (or "
                           "give a connection string)",
                 name);
        return -1;
    }
    for (int k = 0; k < p->n_mirror; k++)
        if (!strcmp(p->mirror[k].name, name)) {
            snprintf(why, cap, "server %s already follows another node", name);
            return -1;
        }
    if (p->n_mirror >= (int)(sizeof(p->mirror) / sizeof(p->mirror[0]))) {
        snprintf(why, cap, "too many mirrored servers");
        return -1;
    }
    int k = p->n_mirror;
    memset(&p->mirror[k], 0, sizeof(p->mirror[k]));
    snprintf(p->mirror[k].name, sizeof(p->mirror[k].name), "%s", name);
    if (!lab && !(p->mirror[k].conninfo = strndup(srv, (size_t)sl))) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    p->n_mirror++;
    p->mirror_of[id] = k + 1;
    return 0;
}

int scn_set_mirror(struct scn_program *p, const char *spec, char *err,
                   size_t cap)
{
    for (int k = 0; k < p->n_mirror; k++)
        free(p->mirror[k].conninfo);
    p->n_mirror = 0;
    memset(p->mirror_of, 0, sizeof(p->mirror_of));
    const char *s = spec;
    while (*s) {
        size_t l = strcspn(s, ",");
        if (l == 0 || mirror_add(p, s, (int)l, err, cap) != 0) {
            if (l == 0)
                snprintf(err, cap, "empty item in '%s'", spec);
            return -1;
        }
        s += l;
        if (*s == ',')
            s++;
    }
    if (p->n_mirror == 0) {
        snprintf(err, cap, "expected NODE=SERVER[,NODE=SERVER...]");
        return -1;
    }
    return 0;
}

static const char *const setup_words[] = {
    "nodes", "heartbeat", "election", "ack", "policy", "prevote",
    "checkquorum", "unsafe", "seed", "disk", "client-timeout",
    "client-latency", "clients", "clock", "mirror", "mirror-control"};
#define N_SETUP ((int)(sizeof(setup_words) / sizeof(*setup_words)))

static bool on_off(struct parser *P, bool *out)
{
    static const char *const w[] = {"on", "off"};
    int k = keyword(P, "'on' or 'off'", w, 2);
    if (k < 0)
        return false;
    *out = k == 0;
    return true;
}

static bool setup(struct parser *P, int k)
{
    struct scn_program *p = P->p;
    struct tok *kw = &P->t[P->i - 1];
    if (P->first_action_line) {
        error_tok(P, kw,
                  "'%s' sets the cluster up: it must come before the first "
                  "action (line %d)",
                  setup_words[k], P->first_action_line);
        return false;
    }
    if (P->seen_setup[k] && k != 12) {
        error_tok(P, kw, "'%s' is given twice", setup_words[k]);
        return false;
    }
    P->seen_setup[k] = true;
    uint64_t u;
    switch (k) {
    case 0:
        if (!number(P, "the node count", &u))
            return false;
        if (u < 1 || u > SCN_MAX_NODES || u > RAFT_MAX_NODES) {
            error_tok(P, &P->t[P->i - 1], "nodes must be between 1 and %d",
                      SCN_MAX_NODES < RAFT_MAX_NODES ? SCN_MAX_NODES
                                                     : RAFT_MAX_NODES);
            return false;
        }
        if (P->p->n_cmds > 0) {
            error_tok(P, kw, "'nodes' must come before any link (line %d names "
                             "nodes)",
                      P->p->cmds[0].line);
            return false;
        }
        if (P->p->n_mirror > 0) {
            error_tok(P, kw, "'nodes' must come before 'mirror'");
            return false;
        }
        p->nodes = (int)u;
        P->nodes_given = true;
        break;
    case 1:
        if (!duration(P, "the heartbeat interval", &p->heartbeat_us))
            return false;
        if (p->heartbeat_us == 0) {
            error_tok(P, &P->t[P->i - 1], "the heartbeat must be more than 0");
            return false;
        }
        break;
    case 2: {
        struct tok *t = cur(P);
        const char *dots = NULL;
        for (int j = 0; t->k == T_WORD && j + 1 < t->len && !dots; j++)
            if (t->s[j] == '.' && t->s[j + 1] == '.')
                dots = t->s + j;
        if (!dots) {
            char b[64];
            error_tok(P, t, "expected MIN..MAX (e.g. 150ms..300ms), got %s",
                      shown(t, b, sizeof(b)));
            return false;
        }
        int l1 = (int)(dots - t->s);
        const char *why = duration_of(t->s, l1, &p->election_min_us);
        if (why) {
            error_tok(P, t, "the election minimum '%.*s' %s", l1, t->s, why);
            return false;
        }
        why = duration_of(dots + 2, t->len - l1 - 2, &p->election_max_us);
        if (why) {
            error_at(P, t->col + l1 + 2, "the election maximum '%.*s' %s",
                     t->len - l1 - 2, dots + 2, why);
            return false;
        }
        if (p->election_min_us == 0 || p->election_max_us < p->election_min_us) {
            error_tok(P, t, "the election range needs 0 < MIN <= MAX");
            return false;
        }
        P->i++;
        break;
    }
    case 3: {
        static const char *const w[] = {"async", "quorum", "sync"};
        int a = keyword(P, "async, quorum or sync", w, 3);
        if (a < 0 || raft_ack_mode_parse(w[a], &p->ack) != 0)
            return false;
        break;
    }
    case 4: {
        static const char *const w[] = {"highest-lsn", "raft"};
        int a = keyword(P, "highest-lsn or raft", w, 2);
        if (a < 0 || raft_policy_parse(w[a], &p->policy) != 0)
            return false;
        break;
    }
    case 5:
        if (!on_off(P, &p->prevote))
            return false;
        break;
    case 6:
        if (!on_off(P, &p->checkquorum))
            return false;
        break;
    case 7: {
        static const char *const w[] = {"vote-any", "commit-old-term",
                                        "keep-conflicts"};
        do {
            int a = keyword(P, "a rule (vote-any, commit-old-term, keep-conflicts)",
                            w, 3);
            unsigned bit;
            if (a < 0 || raft_unsafe_parse(w[a], &bit) != 0)
                return false;
            p->unsafe |= bit;
        } while (cur(P)->k == T_COMMA && (P->i++, true));
        break;
    }
    case 8:
        if (!number(P, "the seed", &p->seed))
            return false;
        p->seed_given = true;
        break;
    case 9:
        if (!duration(P, "the disk flush latency", &p->disk_us))
            return false;
        break;
    case 10:
        if (!duration(P, "the client timeout", &p->client_timeout_us))
            return false;
        if (p->client_timeout_us == 0) {
            error_tok(P, &P->t[P->i - 1], "the client timeout must be more than 0");
            return false;
        }
        break;
    case 11:
        if (!duration(P, "the client latency", &p->client_latency_us))
            return false;
        break;
    case 12:
        if (at_end(P)) {
            error_tok(P, cur(P), "expected client names: clients alice bob");
            return false;
        }
        while (!at_end(P)) {
            struct tok *t = cur(P);
            if (t->k == T_WORD &&
                client_index(P, t->s, t->len) >= 0) {
                error_tok(P, t, "client '%.*s' is named twice", t->len, t->s);
                return false;
            }
            if (client(P, true) < 0)
                return false;
        }
        break;
    case 13: {
        static const char *const w[] = {"virtual", "any"};
        int a = keyword(P, "'virtual' (replays that need the virtual clock) or 'any'",
                        w, 2);
        if (a < 0)
            return false;
        p->virtual_only = a == 0;
        break;
    }
    case 14: /* mirror NODE=SERVER... */
        if (at_end(P)) {
            error_tok(P, cur(P), "expected NODE=SERVER pairs, e.g. mirror n1=a "
                                 "n2=b");
            return false;
        }
        while (!at_end(P)) {
            struct tok *t = cur(P);
            char why[160];
            if (t->k != T_WORD ||
                mirror_add(p, t->s, t->len, why, sizeof(why)) != 0) {
                if (t->k != T_WORD)
                    snprintf(why, sizeof(why), "expected NODE=SERVER");
                error_tok(P, t, "%s", why);
                return false;
            }
            P->i++;
        }
        break;
    case 15: { /* mirror-control "TEMPLATE" */
        struct tok *t = cur(P);
        if (t->k != T_STR || t->len == 0) {
            char b[64];
            error_tok(P, t,
                      "expected a command template in quotes, e.g. "
                      "\"tools/pg-pair {action} {server}\", got %s",
                      shown(t, b, sizeof(b)));
            return false;
        }
        int *raw = NULL;
        char *tmpl = unescape(t, &raw);
        free(raw);
        if (!tmpl) {
            error_at(P, 1, "out of memory");
            return false;
        }
        if (!strstr(tmpl, "{action}") || !strstr(tmpl, "{server}")) {
            free(tmpl);
            error_tok(P, t, "the template must contain {action} and {server}");
            return false;
        }
        free(p->mirror_control);
        p->mirror_control = tmpl;
        P->i++;
        break;
    }
    }
    return end_of_line(P);
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */

static const char *const action_words[] = {
    "link", "start", "crash", "restart", "pause", "resume", "partition",
    "isolate", "cut", "heal", "write", "read", "wait", "await", "expect",
    "say", "step", "show", "let", "at"};
#define N_ACTIONS ((int)(sizeof(action_words) / sizeof(*action_words)))
static const enum scn_cmd_kind action_kinds[] = {
    SCN_LINK, SCN_START, SCN_CRASH, SCN_RESTART, SCN_PAUSE, SCN_RESUME,
    SCN_PARTITION, SCN_ISOLATE, SCN_CUT, SCN_HEAL, SCN_WRITE, SCN_READ,
    SCN_WAIT, SCN_AWAIT, SCN_EXPECT, SCN_SAY, SCN_STEP, SCN_SHOW_STATUS,
    SCN_LET, 0};

static void unknown_command(struct parser *P)
{
    const char *all[N_SETUP + N_ACTIONS];
    for (int k = 0; k < N_SETUP; k++)
        all[k] = setup_words[k];
    for (int k = 0; k < N_ACTIONS; k++)
        all[N_SETUP + k] = action_words[k];
    struct tok *t = cur(P);
    char b[64];
    const char *hint =
        t->k == T_WORD ? closest(t->s, t->len, all, N_SETUP + N_ACTIONS) : NULL;
    if (hint)
        error_tok(P, t, "unknown command %s; did you mean '%s'?",
                  shown(t, b, sizeof(b)), hint);
    else
        error_tok(P, t, "unknown command %s (see the scenario language in "
                        "README.md)",
                  shown(t, b, sizeof(b)));
}

/* The action starting at the current token, into cmd. */
static bool action(struct parser *P, struct scn_cmd *cmd, bool nested)
{
    int k = -1;
    for (int j = 0; j < N_ACTIONS; j++)
        if (is_word(cur(P), action_words[j]))
            k = j;
    if (k < 0) {
        for (int j = 0; j < N_SETUP; j++)
            if (is_word(cur(P), setup_words[j])) {
                error_tok(P, cur(P),
                          "'%s' sets the cluster up: it cannot follow 'at'",
                          setup_words[j]);
                return false;
            }
        unknown_command(P);
        return false;
    }
    P->i++;
    if (k == N_ACTIONS - 1) { /* at T CMD */
        if (nested) {
            error_tok(P, &P->t[P->i - 1], "'at' cannot be nested");
            return false;
        }
        if (!duration(P, "the time", &cmd->at_us))
            return false;
        cmd->at = true;
        if (at_end(P)) {
            error_tok(P, cur(P), "expected a command after 'at TIME'");
            return false;
        }
        return action(P, cmd, true);
    }
    cmd->kind = action_kinds[k];
    switch (cmd->kind) {
    case SCN_LINK:
        return c_link(P, cmd);
    case SCN_START:
        if (!at_end(P) && !one_set(P, cmd))
            return false;
        return end_of_line(P);
    case SCN_CRASH:
        if (!one_set(P, cmd))
            return false;
        cmd->lose_unflushed = accept(P, "lose-unflushed");
        return end_of_line(P);
    case SCN_RESTART:
    case SCN_PAUSE:
    case SCN_RESUME:
        return one_set(P, cmd) && end_of_line(P);
    case SCN_ISOLATE:
        if (accept(P, "leader")) {
            if (!need(P, "on"))
                return false;
            static const char *const w[] = {"append", "commit"};
            int a = keyword(P, "'append' or 'commit'", w, 2);
            if (a < 0)
                return false;
            cmd->trap = a == 0 ? SCN_TRAP_APPEND : SCN_TRAP_COMMIT;
            return end_of_line(P);
        }
        return one_set(P, cmd) && end_of_line(P);
    case SCN_PARTITION:
        while (!at_end(P))
            if (!one_set(P, cmd))
                return false;
        if (cmd->n_sets < 2) {
            error_tok(P, cur(P),
                      "a partition needs at least two groups, e.g. partition "
                      "{n1,n2} rest");
            return false;
        }
        return true;
    case SCN_CUT:
        return one_set(P, cmd) && arrow(P, &cmd->both_ways) &&
               one_set(P, cmd) && end_of_line(P);
    case SCN_HEAL:
    case SCN_STEP:
        return end_of_line(P);
    case SCN_SHOW_STATUS:
        return need(P, "status") && end_of_line(P);
    case SCN_WRITE:
        return c_write(P, cmd);
    case SCN_READ:
        return c_read(P, cmd);
    case SCN_WAIT:
        return duration(P, "the wait", &cmd->u) && end_of_line(P);
    case SCN_AWAIT:
        return c_await(P, cmd);
    case SCN_EXPECT:
        return c_expect(P, cmd);
    case SCN_SAY:
        return c_say(P, cmd);
    case SCN_LET:
        return c_let(P, cmd);
    default:
        return false;
    }
}

static void free_cmd(struct scn_cmd *cmd)
{
    free(cmd->sets);
    for (int k = 0; k < cmd->n_segs; k++)
        free(cmd->segs[k].text);
    free(cmd->segs);
    free(cmd->src);
}

static void parse_line(struct parser *P)
{
    P->line_failed = false;
    if (P->text_len > MAX_LINE) {
        error_at(P, MAX_LINE + 1, "line longer than %d bytes", MAX_LINE);
        return;
    }
    if (!tokenize(P) || P->nt == 0)
        return;
    for (int k = 0; k < N_SETUP; k++)
        if (is_word(cur(P), setup_words[k])) {
            P->i++;
            setup(P, k);
            return;
        }
    if (P->p->n_cmds >= MAX_CMDS) {
        error_at(P, 1, "too many commands (at most %d)", MAX_CMDS);
        return;
    }
    if (P->p->n_cmds == P->cap_cmds) {
        int cap = P->cap_cmds ? P->cap_cmds * 2 : 64;
        struct scn_cmd *c = realloc(P->p->cmds, (size_t)cap * sizeof(*c));
        if (!c) {
            error_at(P, 1, "out of memory");
            return;
        }
        P->p->cmds = c;
        P->cap_cmds = cap;
    }
    struct scn_cmd *cmd = &P->p->cmds[P->p->n_cmds];
    memset(cmd, 0, sizeof(*cmd));
    cmd->line = P->line;
    cmd->via = (struct scn_node){0, -1};
    cmd->from = (struct scn_node){0, -1};
    cmd->node = (struct scn_node){0, -1};
    cmd->bind_var = -1;
    bool ok = action(P, cmd, false) && !P->line_failed;
    /* links shape the network: they may sit among the set-up lines */
    if (!P->first_action_line && (cmd->kind != 0 || cmd->at) &&
        (cmd->kind != SCN_LINK || cmd->at))
        P->first_action_line = P->line;
    if (!ok) {
        free_cmd(cmd);
        return;
    }
    /* the source text, trimmed of blanks and a trailing comment */
    int a = P->t[0].col - 1, b = P->t[P->nt].col - 1;
    if (P->t[P->nt - 1].k == T_STR) /* a closing quote ends the last token */
        b = (int)(P->t[P->nt - 1].s - P->text) + P->t[P->nt - 1].len + 1;
    else
        b = (int)(P->t[P->nt - 1].s - P->text) + P->t[P->nt - 1].len;
    cmd->src = strndup(P->text + a, (size_t)(b - a));
    if (!cmd->src) {
        free_cmd(cmd);
        error_at(P, 1, "out of memory");
        return;
    }
    P->p->n_cmds++;
}

void scn_free(struct scn_program *p)
{
    if (!p)
        return;
    for (int k = 0; k < p->n_cmds; k++)
        free_cmd(&p->cmds[k]);
    free(p->cmds);
    for (int k = 0; k < p->n_mirror; k++)
        free(p->mirror[k].conninfo);
    free(p->mirror_control);
    free(p->file);
    free(p);
}

int scn_parse(const char *name, const char *text, size_t len,
              struct scn_program **out, FILE *err)
{
    *out = NULL;
    struct parser *P = calloc(1, sizeof(*P));
    struct scn_program *p = calloc(1, sizeof(*p));
    if (!P || !p || !(p->file = strdup(name ? name : "(scenario)"))) {
        free(P);
        if (p)
            free(p->file);
        free(p);
        if (err)
            fprintf(err, "%s: out of memory\n", name ? name : "(scenario)");
        return -1;
    }
    P->name = p->file;
    P->err = err;
    P->p = p;
    /* defaults: those of sim_options_default / raft_config_default */
    p->nodes = 3;
    p->seed = 1;
    p->heartbeat_us = 50000;
    p->election_min_us = 150000;
    p->election_max_us = 300000;
    p->ack = RAFT_ACK_QUORUM;
    p->policy = RAFT_ELECT_HIGHEST_LSN;
    p->prevote = true;
    p->checkquorum = true;
    p->client_timeout_us = 2000000;
    p->client_latency_us = 500;

    if (len > MAX_FILE) {
        if (err)
            fprintf(err, "%s: error: the file is larger than %u bytes\n",
                    p->file, MAX_FILE);
        P->errors++;
    } else if (memchr(text, 0, len)) {
        size_t at = (size_t)((const char *)memchr(text, 0, len) - text);
        int line = 1;
        for (size_t k = 0; k < at; k++)
            line += text[k] == '\n';
        if (err)
            fprintf(err, "%s:%d: error: the file contains a NUL byte (not a "
                         "text file?)\n",
                    p->file, line);
        P->errors++;
    } else {
        size_t pos = 0;
        while (pos < len && !P->gave_up) {
            const char *nl = memchr(text + pos, '\n', len - pos);
            size_t end = nl ? (size_t)(nl - text) : len;
            P->line++;
            P->text = text + pos;
            P->text_len = (int)(end - pos > MAX_LINE + 1 ? MAX_LINE + 1
                                                          : end - pos);
            parse_line(P);
            pos = end + 1;
        }
        if (p->heartbeat_us >= p->election_min_us && !P->errors) {
            P->line = 0;
            P->text = NULL;
            P->line_failed = false;
            if (err)
                fprintf(err,
                        "%s: error: the heartbeat (%llu us) must be shorter "
                        "than the minimum election timeout (%llu us)\n",
                        p->file, (unsigned long long)p->heartbeat_us,
                        (unsigned long long)p->election_min_us);
            P->errors++;
        }
    }
    int errors = P->errors;
    free(P);
    if (errors) {
        scn_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int scn_parse_file(const char *path, struct scn_program **out, FILE *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err)
            fprintf(err, "%s: error: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            if (cap > MAX_FILE)
                break;
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (!buf || bad) {
        if (err)
            fprintf(err, "%s: error: cannot read: %s\n", path,
                    buf ? strerror(saved) : "out of memory");
        free(buf);
        return -1;
    }
    int rc = scn_parse(path, buf, len, out, err);
    free(buf);
    return rc;
}
