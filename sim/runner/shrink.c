/*
 * shrink.c — delta debugging of a failing scenario (shrink.h).
 *
 * The file is a list of lines: set-up lines (kept, `nodes` rewritten),
 * comments and blank lines (dropped), and commands, any of which may go.
 * Each candidate is parsed and run in virtual time with every line of
 * output thrown away; it is kept when the run fails the same way.
 */
#include "sim/runner/shrink_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"
#include "sim/util/util.h"


static const char *const setup_words[] = {
    "nodes", "heartbeat", "election", "ack", "policy", "prevote",
    "checkquorum", "unsafe", "seed", "disk", "client-timeout",
    "client-latency", "clients", "clock", "mirror", "mirror-control",
    "fast-detect"};

bool shrink__word_is(const char *line, const char *w)
{
    size_t n = strlen(w);
    return !strncmp(line, w, n) && (!line[n] || isspace((unsigned char)line[n]));
}

static bool is_setup(const char *line)
{
    for (size_t i = 0; i < sizeof(setup_words) / sizeof(*setup_words); i++)
        if (shrink__word_is(line, setup_words[i]))
            return true;
    return false;
}

/* The command of a line, past `at T `. */
const char *shrink__command_of(const char *line)
{
    if (!shrink__word_is(line, "at"))
        return line;
    const char *p = line + 2;
    while (isspace((unsigned char)*p))
        p++;
    while (*p && !isspace((unsigned char)*p))
        p++;
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* The failure of one run, or "" when it passes (or does not parse). */
static void failure_of(const struct scn_run_result *r, int rc, char *buf,
                       size_t cap)
{
    buf[0] = '\0';
    if (r->first_violation)
        snprintf(buf, cap, "invariant %s", r->first_violation);
    else if (r->liveness)
        snprintf(buf, cap, "Liveness %s", r->liveness);
    else if (rc == 1 && r->first_failed[0])
        snprintf(buf, cap, "expectation failed: %.160s", r->first_failed);
}

static int run_text(struct shrinker *S, const char *text, size_t len,
                    char *fail, size_t cap)
{
    fail[0] = '\0';
    struct scn_program *p = NULL;
    if (scn_parse(S->name, text, len, &p, S->null) != 0)
        return 2;
    struct scn_run_opts ro;
    scn_run_opts_default(&ro);
    ro.quiet = true;
    ro.out = S->null;
    struct scn_run_result r;
    int rc = scn_run(p, &ro, &r);
    failure_of(&r, rc, fail, cap);
    scn_free(p);
    S->res->runs++;
    return rc;
}

/* Append a line to a growing buffer (false: no memory). */
static bool add(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 2 > *cap) {
        size_t c = *cap ? *cap * 2 : 4096;
        while (c < *len + n + 2)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return false;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = '\0';
    return true;
}

/* Rewrite a line for a cluster of n nodes: set members above n leave
 * their sets; a line naming one outside a set, or left with an empty set,
 * is dropped (NULL).  *out is malloc'd. */
char *shrink__for_nodes(const char *line, int n)
{
    size_t L = strlen(line);
    char *out = malloc(L + 1), *o = out;
    if (!out)
        return NULL;
    int depth = 0;
    bool in_quote = false, member_written = false;
    for (size_t i = 0; i < L;) {
        char ch = line[i];
        if (ch == '"')
            in_quote = !in_quote;
        if (!in_quote && ch == '{') {
            depth++;
            member_written = false;
            *o++ = ch;
            i++;
            continue;
        }
        if (!in_quote && ch == '}') {
            if (depth && !member_written) {
                free(out);
                return NULL; /* an empty set */
            }
            depth--;
            *o++ = ch;
            i++;
            continue;
        }
        bool word_start = i == 0 || !(isalnum((unsigned char)line[i - 1]) ||
                                      line[i - 1] == '_' || line[i - 1] == '-');
        if (!in_quote && ch == 'n' && word_start &&
            isdigit((unsigned char)line[i + 1])) {
            size_t j = i + 1;
            long id = 0;
            while (isdigit((unsigned char)line[j]) && id < 100000)
                id = id * 10 + (line[j++] - '0');
            if (isalnum((unsigned char)line[j]) || line[j] == '_') {
                memcpy(o, line + i, j - i); /* not a node name */
                o += j - i;
                i = j;
                continue;
            }
            if (id > n) {
                if (!depth) {
                    free(out);
                    return NULL;
                }
                /* drop the member and a comma after (or before) it */
                if (line[j] == ',')
                    j++;
                else if (o > out && o[-1] == ',')
                    o--;
                i = j;
                continue;
            }
            if (depth && member_written && o[-1] != ',' && o[-1] != '{')
                *o++ = ',';
            memcpy(o, line + i, j - i);
            o += j - i;
            member_written = true;
            i = j;
            continue;
        }
        if (depth && ch == ',' && (o[-1] == ',' || o[-1] == '{')) {
            i++; /* a comma left behind */
            continue;
        }
        *o++ = ch;
        i++;
    }
    *o = '\0';
    return out;
}

static char *build(struct shrinker *S, const bool *keep, int nodes,
                   const char *say, size_t *len)
{
    char *buf = NULL, line[32];
    size_t cap = 0;
    *len = 0;
    bool ok = true;
    snprintf(line, sizeof(line), "nodes %d", nodes);
    ok = add(&buf, len, &cap, line);
    for (int i = 0; ok && i < S->n_setup; i++)
        if (i >= 64 || S->setup_keep[i])
            ok = add(&buf, len, &cap, S->setup[i]);
    if (ok && say)
        ok = add(&buf, len, &cap, say);
    for (int i = 0; ok && i < S->n_cmd; i++) {
        if (!keep[i])
            continue;
        if (nodes == S->nodes) {
            ok = add(&buf, len, &cap, S->cmd[i]);
            continue;
        }
        char *l = shrink__for_nodes(S->cmd[i], nodes);
        if (l)
            ok = add(&buf, len, &cap, l);
        free(l);
    }
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf ? buf : strdup("");
}

bool shrink__budget_left(struct shrinker *S)
{
    int max = S->o && S->o->max_runs ? S->o->max_runs : 5000;
    double wall = S->o && S->o->max_wall_s > 0 ? S->o->max_wall_s : 300;
    if (S->res->runs >= max || util_wall_s() - S->t0 > wall ||
        util_stop_signal) {
        S->res->budget_hit = true;
        return false;
    }
    return true;
}

/* Does this candidate still fail the same way? */
bool shrink__still_fails(struct shrinker *S, const bool *keep, int nodes)
{
    if (!shrink__budget_left(S))
        return false;
    size_t len;
    char *t = build(S, keep, nodes, NULL, &len);
    if (!t)
        return false;
    char fail[sizeof(S->res->failure)];
    run_text(S, t, len, fail, sizeof(fail));
    free(t);
    return !strcmp(fail, S->want);
}

static int kept(const struct shrinker *S)
{
    int k = 0;
    for (int i = 0; i < S->n_cmd; i++)
        k += S->keep[i];
    return k;
}

/* `expect violation …`, `expect [no] progress …`: the line that says
 * what the failure is stays. */
bool shrink__defines_failure(const char *line)
{
    const char *c = shrink__command_of(line);
    if (!shrink__word_is(c, "expect"))
        return false;
    c += 6;
    while (isspace((unsigned char)*c))
        c++;
    return shrink__word_is(c, "violation") || shrink__word_is(c, "progress") ||
           (shrink__word_is(c, "no") && strstr(c, "progress"));
}

/* "crash ×2, write ×3, heal" */
static void remains(struct shrinker *S, char *buf, size_t cap)
{
    char words[32][24];
    int count[32], n = 0;
    for (int i = 0; i < S->n_cmd; i++) {
        if (!S->keep[i])
            continue;
        const char *c = shrink__command_of(S->cmd[i]);
        char w[24];
        size_t k = 0;
        while (c[k] && !isspace((unsigned char)c[k]) && k < sizeof(w) - 1) {
            w[k] = c[k];
            k++;
        }
        w[k] = '\0';
        if (!strcmp(w, "say") ||
            (!strcmp(w, "expect") && shrink__defines_failure(S->cmd[i])))
            continue;
        int j;
        for (j = 0; j < n && strcmp(words[j], w); j++)
            ;
        if (j == n && n < 32) {
            snprintf(words[n], sizeof(words[n]), "%s", w);
            count[n++] = 0;
        }
        if (j < 32)
            count[j]++;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (int j = 0; j < n && len < cap; j++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", j ? ", " : "",
                                words[j]);
        if (count[j] > 1 && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, " x%d", count[j]);
    }
    if (!n)
        snprintf(buf, cap, "only the check itself");
}

static int count_lines(const char *t, size_t len)
{
    int k = 0;
    bool blank = true, comment = false;
    for (size_t i = 0; i <= len; i++) {
        char ch = i < len ? t[i] : '\n';
        if (ch == '\n') {
            k += !blank && !comment;
            blank = true;
            comment = false;
        } else if (blank && !isspace((unsigned char)ch)) {
            blank = false;
            comment = ch == '#';
        }
    }
    return k;
}

static void free_lines(char **l, int n)
{
    for (int i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* A state of the search, to start again from or to go back to. */
struct snap {
    char **cmd;
    bool *keep;
    int n_cmd, nodes, size;
    bool setup_keep[64];
};

/* What a result costs: its lines (commands and set-up), then nodes. */
static int size_of(const struct shrinker *S)
{
    int lines = kept(S);
    for (int i = 0; i < S->n_setup; i++)
        lines += i >= 64 || S->setup_keep[i];
    return lines * 128 + S->nodes;
}

static void snap_free(struct snap *s)
{
    free_lines(s->cmd, s->n_cmd);
    free(s->keep);
}

static bool snap_take(const struct shrinker *S, struct snap *s)
{
    s->n_cmd = S->n_cmd;
    s->nodes = S->nodes;
    s->size = size_of(S);
    memcpy(s->setup_keep, S->setup_keep, sizeof(s->setup_keep));
    s->keep = malloc((size_t)S->n_cmd + 1);
    s->cmd = calloc((size_t)S->n_cmd + 1, sizeof(char *));
    bool ok = s->keep && s->cmd;
    for (int i = 0; ok && i < S->n_cmd; i++)
        ok = (s->cmd[i] = strdup(S->cmd[i])) != NULL;
    if (!ok) {
        if (s->cmd)
            snap_free(s);
        else
            free(s->keep);
        return false;
    }
    memcpy(s->keep, S->keep, (size_t)S->n_cmd + 1);
    return true;
}

/* Back to s (which is used up). */
static void snap_put(struct shrinker *S, struct snap *s)
{
    free_lines(S->cmd, S->n_cmd);
    free(S->keep);
    S->cmd = s->cmd;
    S->keep = s->keep;
    S->nodes = s->nodes;
    memcpy(S->setup_keep, s->setup_keep, sizeof(s->setup_keep));
}

int scn_shrink(const char *name, const char *text, size_t len,
               const struct scn_shrink_opts *o, char **out, size_t *out_len,
               struct scn_shrink_result *res, FILE *err)
{
    memset(res, 0, sizeof(*res));
    *out = NULL;
    *out_len = 0;
    struct shrinker S = {.name = name, .o = o, .res = res, .t0 = util_wall_s()};
    S.null = fopen("/dev/null", "w");
    if (!S.null)
        return 2;
    int rc = 2;
    /* The file as it is: does it parse, and how does it fail? */
    struct scn_program *p = NULL;
    if (scn_parse(name, text, len, &p, err) != 0)
        goto done;
    S.nodes = p->nodes;
    scn_free(p);
    char fail[sizeof(res->failure)];
    run_text(&S, text, len, fail, sizeof(fail));
    if (!fail[0]) {
        fprintf(err, "%s: it does not fail (no invariant violation, no failed "
                     "expectation): nothing to shrink\n",
                name);
        rc = 1;
        goto done;
    }
    snprintf(res->failure, sizeof(res->failure), "%s", fail);
    S.want = res->failure;
    res->nodes_before = S.nodes;
    res->lines_before = count_lines(text, len);
    /* split into lines */
    size_t cap = 16;
    S.setup = malloc(cap * sizeof(char *));
    S.cmd = malloc(len / 2 * sizeof(char *) + 16 * sizeof(char *));
    if (!S.setup || !S.cmd)
        goto done;
    bool leading = true;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        size_t a = i, b = j;
        while (a < b && isspace((unsigned char)text[a]))
            a++;
        while (b > a && isspace((unsigned char)text[b - 1]))
            b--;
        i = j + 1;
        if (leading && a < b && text[a] == '#') {
            S.lead = text; /* up to this line */
            S.lead_len = j < len ? j + 1 : len;
        }
        if (a == b || text[a] == '#')
            continue;
        leading = false;
        char *l = strndup(text + a, b - a);
        if (!l)
            goto done;
        if (is_setup(l) && S.n_cmd == 0) {
            if (shrink__word_is(l, "nodes")) {
                free(l);
                continue;
            }
            if ((size_t)S.n_setup == cap) {
                char **g = realloc(S.setup, cap * 2 * sizeof(char *));
                if (!g) {
                    free(l);
                    goto done;
                }
                S.setup = g;
                cap *= 2;
            }
            S.setup[S.n_setup++] = l;
        } else {
            S.cmd[S.n_cmd++] = l;
        }
    }
    res->events_before = S.n_cmd;
    S.keep = malloc((size_t)S.n_cmd + 1);
    if (!S.keep)
        goto done;
    memset(S.keep, 1, (size_t)S.n_cmd + 1);
    for (int i = 0; i < 64; i++)
        S.setup_keep[i] = true;
    /* the same text without comments must fail the same way */
    if (!shrink__still_fails(&S, S.keep, S.nodes)) {
        fprintf(err, "%s: without its comments it no longer fails the same "
                     "way; not shrunk\n",
                name);
        rc = 1;
        goto done;
    }
    /* Two passes, from the same start: the greedy steps depend on their
     * path, and a failure that comes later than the original's can lead
     * elsewhere; the smaller result is kept. */
    struct snap orig, first;
    if (!snap_take(&S, &orig))
        goto done;
    shrink__pass(&S);
    if (!res->budget_hit && snap_take(&S, &first)) {
        snap_put(&S, &orig);
        if (shrink__later_deadline(&S, 3000000)) {
            shrink__pass(&S);
            if (size_of(&S) >= first.size)
                snap_put(&S, &first);
            else
                snap_free(&first);
        } else {
            snap_put(&S, &first);
        }
    } else {
        snap_free(&orig);
    }
    res->nodes_after = S.nodes;
    res->events_after = kept(&S);
    char what[400], say[600];
    remains(&S, what, sizeof(what));
    snprintf(say, sizeof(say),
             "say \"Shrunk from %d commands to %d (%s): with them alone the "
             "run still fails (%s).\"",
             res->events_before, res->events_after, what, res->failure);
    for (char *q = say + 5; *q; q++)
        if (*q == '"' && q[1])
            *q = '\'';
        else if (*q == '{' || *q == '}')
            *q = *q == '{' ? '(' : ')';
    size_t blen;
    char *body = build(&S, S.keep, S.nodes, say, &blen);
    if (body) { /* the say line must not change the verdict */
        char f2[sizeof(res->failure)];
        run_text(&S, body, blen, f2, sizeof(f2));
        if (strcmp(f2, S.want)) {
            free(body);
            body = build(&S, S.keep, S.nodes, NULL, &blen);
        }
    }
    if (!body)
        goto done;
    char head[1024];
    snprintf(head, sizeof(head),
             "# %s, shrunk by raftsim shrink (%d runs%s): %d -> %d commands, "
             "%d -> %d nodes\n"
             "# it still fails: %s\n"
             "# replay: raftsim run --clock virtual THIS_FILE\n",
             name, res->runs, res->budget_hit ? ", budget used up" : "",
             res->events_before, res->events_after, res->nodes_before,
             res->nodes_after, res->failure);
    size_t hl = strlen(head), ll = S.lead ? S.lead_len : 0;
    *out = malloc(hl + ll + blen + 1);
    if (!*out) {
        free(body);
        goto done;
    }
    memcpy(*out, head, hl);
    if (ll)
        memcpy(*out + hl, S.lead, ll); /* the original's own header */
    memcpy(*out + hl + ll, body, blen + 1);
    *out_len = hl + ll + blen;
    free(body);
    res->lines_after = count_lines(*out, *out_len);
    rc = 0;
done:
    if (S.setup)
        free_lines(S.setup, S.n_setup);
    if (S.cmd)
        free_lines(S.cmd, S.n_cmd);
    free(S.keep);
    fclose(S.null);
    return rc;
}
