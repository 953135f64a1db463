/*
 * pg_repl.c — see pg_repl.h.
 */
#include "sim/pg/pg_repl.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* a standby name that needs no quotes: lower-case letter, then letters,
 * digits or _ (PostgreSQL folds unquoted names to lower case) */
static bool plain(const char *s)
{
    if (!(*s >= 'a' && *s <= 'z'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

int pg_sync_names(enum pg_ack ack, int quorum, const char *const *names,
                  int n, int self, char *out, size_t cap, int *k,
                  int *capped)
{
    *k = 0;
    *capped = 0;
    if (!cap)
        return -1;
    out[0] = 0;
    int standbys = 0;
    for (int i = 0; i < n; i++)
        standbys += i != self;
    int want = ack == PG_ACK_ANY ? quorum - 1 : ack == PG_ACK_ALL ? standbys : 0;
    if (want > standbys) {
        want = standbys;
        *capped = 1;
    }
    if (want <= 0)
        return 0;
    *k = want;
    size_t len = 0;
    int w = snprintf(out, cap, "%s %d (", ack == PG_ACK_ANY ? "ANY" : "FIRST",
                     want);
    if (w < 0 || (size_t)w >= cap)
        goto small;
    len = (size_t)w;
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (i == self)
            continue;
        w = snprintf(out + len, cap - len, plain(names[i]) ? "%s%s" : "%s\"%s\"",
                     first ? "" : ", ", names[i]);
        if (w < 0 || (size_t)w >= cap - len)
            goto small;
        len += (size_t)w;
        first = false;
    }
    w = snprintf(out + len, cap - len, ")");
    if (w < 0 || (size_t)w >= cap - len)
        goto small;
    return 0;
small:
    out[0] = 0;
    *k = 0;
    return -1;
}

/* key='value' with \ and ' escaped, appended; false when it does not fit */
static bool put_kv(char *out, size_t cap, size_t *len, const char *key,
                   const char *val)
{
    int w = snprintf(out + *len, cap - *len, "%s%s='", *len ? " " : "", key);
    if (w < 0 || (size_t)w >= cap - *len)
        return false;
    *len += (size_t)w;
    for (; *val; val++) {
        if (*len + 3 >= cap)
            return false;
        if (*val == '\'' || *val == '\\')
            out[(*len)++] = '\\';
        out[(*len)++] = *val;
    }
    if (*len + 2 > cap)
        return false;
    out[(*len)++] = '\'';
    out[*len] = 0;
    return true;
}

static bool is_addr(const char *k)
{
    return !strcmp(k, "host") || !strcmp(k, "hostaddr") || !strcmp(k, "port");
}

int pg_conninfo_repoint(const char *standby, const char *primary, char *out,
                        size_t cap, char *err, size_t ecap)
{
    char *perr = NULL;
    if (cap)
        out[0] = 0;
    PQconninfoOption *s = PQconninfoParse(standby, &perr);
    if (!s) {
        snprintf(err, ecap, "the standby's primary_conninfo: %s",
                 perr ? strtok(perr, "\n") : "out of memory");
        PQfreemem(perr);
        return -1;
    }
    PQconninfoOption *p = PQconninfoParse(primary, &perr);
    if (!p) {
        snprintf(err, ecap, "the primary's connection string: %s",
                 perr ? strtok(perr, "\n") : "out of memory");
        PQfreemem(perr);
        PQconninfoFree(s);
        return -1;
    }
    size_t len = 0;
    bool ok = true, addr = false;
    for (PQconninfoOption *o = p; o->keyword && ok; o++)
        if (is_addr(o->keyword) && o->val && *o->val) {
            ok = put_kv(out, cap, &len, o->keyword, o->val);
            addr = true;
        }
    for (PQconninfoOption *o = s; o->keyword && ok; o++)
        if (!is_addr(o->keyword) && o->val && *o->val)
            ok = put_kv(out, cap, &len, o->keyword, o->val);
    PQconninfoFree(s);
    PQconninfoFree(p);
    if (!addr) {
        snprintf(err, ecap, "the primary's connection string names no host "
                            "or port");
        return -1;
    }
    if (!ok) {
        snprintf(err, ecap, "the new primary_conninfo is too long");
        if (cap)
            out[0] = 0;
        return -1;
    }
    return 0;
}
