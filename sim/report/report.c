/*
 * report.c — see report.h.  The JSON check is a strict recursive-descent
 * recogniser (RFC 8259 grammar, bounded depth), not a parser: the page
 * parses the data again, so here it only has to be sure the browser will
 * accept every line.  The one change made to a line on its way in: '<'
 * becomes \u003c, so no string in a trace can close the <script> element
 * that carries it.
 */
#define _GNU_SOURCE /* memmem */
#include "sim/report/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"
#include "report_page.h" /* generated from sim/report_page.html */

#define TRACE_MARK "@@TRACE@@"
#define TITLE_MARK "@@TITLE@@"

const char *report_page_template(void) { return report_page_html; }

struct cursor {
    const char *p, *end;
    const char *why;
};

static void ws(struct cursor *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static bool fail(struct cursor *c, const char *why)
{
    if (!c->why)
        c->why = why;
    return false;
}

static bool lit(struct cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return fail(c, "unexpected word");
    c->p += n;
    return true;
}

static bool hex4(const char *p)
{
    for (int i = 0; i < 4; i++)
        if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
            return false;
    return true;
}

/* A string; its contents (raw, escapes kept) in *s, *n. */
static bool string(struct cursor *c, const char **s, size_t *n)
{
    if (c->p >= c->end || *c->p != '"')
        return fail(c, "expected a string");
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20)
            return fail(c, "control character in a string");
        if (ch == '\\') {
            if (c->end - c->p < 2)
                return fail(c, "unfinished escape");
            char e = c->p[1];
            if (e == 'u') {
                if (c->end - c->p < 6 || !hex4(c->p + 2))
                    return fail(c, "bad \\u escape");
                c->p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e))
                return fail(c, "bad escape");
            c->p += 2;
            continue;
        }
        c->p++;
    }
    if (c->p >= c->end)
        return fail(c, "unterminated string");
    if (s) {
        *s = start;
        *n = (size_t)(c->p - start);
    }
    c->p++;
    return true;
}

static bool digits(struct cursor *c)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > s;
}

static bool number(struct cursor *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (!digits(c))
        return fail(c, "bad number");
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!digits(c))
            return fail(c, "bad number");
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!digits(c))
            return fail(c, "bad number");
    }
    return true;
}

static bool value(struct cursor *c, int depth);

static bool object_rest(struct cursor *c, int depth)
{
    /* after '{' and possibly some members: "}" or members */
    for (;;) {
        ws(c);
        if (!string(c, NULL, NULL))
            return false;
        ws(c);
        if (c->p >= c->end || *c->p != ':')
            return fail(c, "expected ':'");
        c->p++;
        if (!value(c, depth))
            return false;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return true;
        }
        return fail(c, "expected ',' or '}'");
    }
}

static bool value(struct cursor *c, int depth)
{
    if (depth > REPORT_DEPTH_MAX)
        return fail(c, "nested too deeply");
    ws(c);
    if (c->p >= c->end)
        return fail(c, "expected a value");
    switch (*c->p) {
    case '{':
        c->p++;
        ws(c);
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return true;
        }
        return object_rest(c, depth + 1);
    case '[':
        c->p++;
        ws(c);
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return true;
        }
        for (;;) {
            if (!value(c, depth + 1))
                return false;
            ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (c->p < c->end && *c->p == ']') {
                c->p++;
                return true;
            }
            return fail(c, "expected ',' or ']'");
        }
    case '"':
        return string(c, NULL, NULL);
    case 't':
        return lit(c, "true");
    case 'f':
        return lit(c, "false");
    case 'n':
        return lit(c, "null");
    default:
        return number(c);
    }
}

/* `"key":` at the cursor. */
static bool key_is(struct cursor *c, const char *want)
{
    const char *s;
    size_t n;
    ws(c);
    if (!string(c, &s, &n))
        return false;
    if (n != strlen(want) || memcmp(s, want, n) != 0)
        return false;
    ws(c);
    if (c->p >= c->end || *c->p != ':')
        return fail(c, "expected ':'");
    c->p++;
    ws(c);
    return true;
}

static int errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

int report_check_line(const char *line, size_t len, uint64_t *t_us,
                      int *node, char *kind, size_t kind_len, char *err,
                      size_t err_len)
{
    struct cursor c = {line, line + len, NULL};
    ws(&c);
    if (c.p >= c.end || *c.p != '{')
        return errf(err, err_len, "not a JSON object");
    c.p++;
    /* The contract: t_us, node, kind come first, in that order. */
    const char *num = NULL, *s = NULL;
    size_t n = 0;
    if (!key_is(&c, "t_us"))
        return errf(err, err_len, "the first field is not t_us");
    num = c.p;
    if (!digits(&c) || (c.p - num) > 19)
        return errf(err, err_len, "t_us is not a whole number");
    errno = 0;
    *t_us = strtoull(num, NULL, 10);
    ws(&c);
    if (c.p >= c.end || *c.p++ != ',' || !key_is(&c, "node") ||
        !string(&c, &s, &n))
        return errf(err, err_len, "the second field is not node (a string)");
    *node = 0;
    if (n >= 2 && s[0] == 'n') {
        int id = 0;
        for (size_t i = 1; i < n && i < 6 && s[i] >= '0' && s[i] <= '9'; i++)
            id = id * 10 + (s[i] - '0');
        *node = id;
    }
    ws(&c);
    if (c.p >= c.end || *c.p++ != ',' || !key_is(&c, "kind") ||
        !string(&c, &s, &n) || n == 0)
        return errf(err, err_len, "the third field is not kind (a string)");
    if (kind_len) {
        size_t k = n < kind_len - 1 ? n : kind_len - 1;
        memcpy(kind, s, k);
        kind[k] = '\0';
    }
    ws(&c);
    if (c.p < c.end && *c.p == ',') {
        c.p++;
        if (!object_rest(&c, 1))
            return errf(err, err_len, "bad JSON (%s) at column %zu",
                        c.why ? c.why : "syntax", (size_t)(c.p - line) + 1);
    } else if (c.p < c.end && *c.p == '}') {
        c.p++;
    } else {
        return errf(err, err_len, "expected ',' or '}' at column %zu",
                    (size_t)(c.p - line) + 1);
    }
    ws(&c);
    if (c.p != c.end)
        return errf(err, err_len, "text after the object at column %zu",
                    (size_t)(c.p - line) + 1);
    return 0;
}

/* Write s[0..n) with '<' made harmless inside <script>. */
static void put_json(FILE *out, const char *s, size_t n)
{
    const char *start = s;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '<') {
            fwrite(start, 1, (size_t)(s + i - start), out);
            fputs("\\u003c", out);
            start = s + i + 1;
        }
    fwrite(start, 1, (size_t)(s + n - start), out);
}

static void put_html_text(FILE *out, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
}

/* Write the template from *pos up to `mark` (or the end); move past it. */
static void put_until(FILE *out, const char **pos, const char *mark)
{
    const char *m = strstr(*pos, mark);
    size_t n = m ? (size_t)(m - *pos) : strlen(*pos);
    fwrite(*pos, 1, n, out);
    *pos += n + (m ? strlen(mark) : 0);
}

int report_write(FILE *in, const char *name, FILE *out,
                 struct report_summary *sum, char *err, size_t err_len)
{
    memset(sum, 0, sizeof(*sum));
    const char *tpl = report_page_html;
    /* The title comes before the data in the template. */
    put_until(out, &tpl, TITLE_MARK);
    put_html_text(out, name);
    put_until(out, &tpl, TRACE_MARK);

    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    uint64_t lineno = 0;
    int rc = 0;
    fputc('[', out);
    while ((got = getline(&line, &cap, in)) != -1) {
        lineno++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t lead = 0;
        while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
            lead++;
        if (lead == len)
            continue; /* blank */
        if (len > REPORT_LINE_MAX) {
            snprintf(err, err_len, "%s:%llu: line longer than %d bytes: "
                     "not a raftsim trace", name,
                     (unsigned long long)lineno, REPORT_LINE_MAX);
            rc = RAFT_EINVAL;
            break;
        }
        uint64_t t;
        int node;
        char kind[32], why[160];
        if (report_check_line(line, len, &t, &node, kind, sizeof(kind), why,
                              sizeof(why)) != 0) {
            /* The writer marks a line it had to cut; it is not JSON. */
            if (len > 18 && memmem(line, len, "\"truncated\":true}", 17)) {
                sum->skipped++;
                continue;
            }
            snprintf(err, err_len,
                     "%s:%llu: %s (expected one JSON object per line starting "
                     "{\"t_us\":N,\"node\":\"nK\",\"kind\":\"...\"}, as "
                     "written by --trace)",
                     name, (unsigned long long)lineno, why);
            rc = RAFT_EINVAL;
            break;
        }
        if (sum->lines)
            fputc(',', out);
        put_json(out, line + lead, len - lead);
        sum->lines++;
        if (!strcmp(kind, "run"))
            sum->runs++;
        else if (!strcmp(kind, "send"))
            sum->messages++;
        if (t > sum->end_us)
            sum->end_us = t;
        if (node > sum->nodes)
            sum->nodes = node;
    }
    if (rc == 0 && ferror(in)) {
        snprintf(err, err_len, "%s: read error: %s", name, strerror(errno));
        rc = RAFT_EINVAL;
    }
    if (rc == 0 && sum->lines == 0) {
        snprintf(err, err_len, "%s: no trace lines (an empty file? write one "
                 "with --trace FILE)", name);
        rc = RAFT_EINVAL;
    }
    free(line);
    fputc(']', out);
    put_until(out, &tpl, "\x01"); /* the rest */
    if (rc == 0 && ferror(out)) {
        snprintf(err, err_len, "cannot write the page: %s", strerror(errno));
        rc = RAFT_EINVAL;
    }
    return rc;
}
