/*
 * shrink_steps.c — the steps of the shrinker (shrink_int.h): fewer set-up
 * lines, ddmin over the command lines, pairs of lines, random cuts, fewer
 * nodes, faults undone earlier, simpler link lines.  Each keeps a change
 * only when shrink__still_fails says the run fails the same way.
 */
#include "sim/runner/shrink_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util/util.h"

/* Set-up lines the failure does not need go (their defaults apply). */
void shrink__fewer_setup(struct shrinker *S)
{
    for (int i = 0; i < S->n_setup && i < 64 && shrink__budget_left(S); i++) {
        if (shrink__word_is(S->setup[i], "seed") || shrink__word_is(S->setup[i], "clock"))
            continue; /* the replay is of this seed, in virtual time */
        S->setup_keep[i] = false;
        if (!shrink__still_fails(S, S->keep, S->nodes))
            S->setup_keep[i] = true;
    }
}

/* Remove chunks of kept lines, halving the chunk size when none can go
 * (ddmin's complement step). */
void shrink__ddmin(struct shrinker *S)
{
    bool *trial = malloc((size_t)S->n_cmd + 1);
    int *idx = malloc(((size_t)S->n_cmd + 1) * sizeof(int));
    if (!trial || !idx) {
        free(trial);
        free(idx);
        return;
    }
    int parts = 2;
    for (;;) {
        int k = 0;
        for (int i = 0; i < S->n_cmd; i++)
            if (S->keep[i] && !shrink__defines_failure(S->cmd[i]))
                idx[k++] = i;
        if (k == 0 || !shrink__budget_left(S))
            break;
        if (parts > k)
            parts = k;
        int chunk = (k + parts - 1) / parts;
        bool removed = false;
        for (int start = 0; start < k; start += chunk) {
            memcpy(trial, S->keep, (size_t)S->n_cmd);
            int any = 0;
            for (int j = start; j < start + chunk && j < k; j++)
                if (trial[idx[j]]) {
                    trial[idx[j]] = false;
                    any++;
                }
            if (any && shrink__still_fails(S, trial, S->nodes)) {
                memcpy(S->keep, trial, (size_t)S->n_cmd);
                removed = true;
            }
        }
        if (removed)
            parts = parts > 2 ? parts - 1 : 2;
        else if (chunk == 1)
            break;
        else
            parts *= 2;
    }
    free(trial);
    free(idx);
}

/* 1-minimal is not minimal: try each pair of kept lines that are
 * neighbours (a fault and its undo, two writes) together.  true: some
 * went. */
bool shrink__pairs(struct shrinker *S)
{
    bool *trial = malloc((size_t)S->n_cmd + 1);
    if (!trial)
        return false;
    bool any = false;
    for (int i = 0; i < S->n_cmd && shrink__budget_left(S); i++) {
        if (!S->keep[i] || shrink__defines_failure(S->cmd[i]))
            continue;
        for (int j = i + 1; j < S->n_cmd && j <= i + 8; j++) {
            if (!S->keep[j] || shrink__defines_failure(S->cmd[j]))
                continue;
            memcpy(trial, S->keep, (size_t)S->n_cmd);
            trial[i] = trial[j] = false;
            if (shrink__still_fails(S, trial, S->nodes)) {
                memcpy(S->keep, trial, (size_t)S->n_cmd);
                any = true;
                break;
            }
        }
    }
    free(trial);
    return any;
}

/* The smallest node count the failure survives (lines rewritten). */
void shrink__fewer_nodes(struct shrinker *S)
{
    for (int n = 1; n < S->nodes && shrink__budget_left(S); n++) {
        if (!shrink__still_fails(S, S->keep, n))
            continue;
        for (int i = 0; i < S->n_cmd; i++) {
            if (!S->keep[i])
                continue;
            char *l = shrink__for_nodes(S->cmd[i], n);
            if (!l) {
                S->keep[i] = false;
                continue;
            }
            free(S->cmd[i]);
            S->cmd[i] = l;
        }
        S->nodes = n;
        return;
    }
}

static bool at_time(const char *line, uint64_t *t)
{
    if (!shrink__word_is(line, "at"))
        return false;
    const char *p = line + 2;
    while (isspace((unsigned char)*p))
        p++;
    char buf[32];
    size_t k = 0;
    while (p[k] && !isspace((unsigned char)p[k]) && k < sizeof(buf) - 1) {
        buf[k] = p[k];
        k++;
    }
    buf[k] = '\0';
    const char *err;
    return util_parse_duration_us(buf, t, &err) == 0;
}

/* Undo faults earlier: move `at T heal|restart|resume|link … reset`
 * halfway towards the line before, while the failure survives. */
bool shrink__heal_earlier(struct shrinker *S)
{
    bool moved = false;
    uint64_t prev = 0;
    for (int i = 0; i < S->n_cmd && shrink__budget_left(S); i++) {
        if (!S->keep[i])
            continue;
        uint64_t t;
        if (!at_time(S->cmd[i], &t))
            continue;
        const char *c = shrink__command_of(S->cmd[i]);
        bool undo = shrink__word_is(c, "heal") || shrink__word_is(c, "restart") ||
                    shrink__word_is(c, "resume") ||
                    (shrink__word_is(c, "link") && strstr(c, " reset"));
        for (int step = 0; undo && step < 4 && t > prev + 1000; step++) {
            uint64_t t2 = prev + (t - prev) / 2;
            char *l = malloc(strlen(c) + 40);
            if (!l)
                break;
            sprintf(l, "at %lluus %s", (unsigned long long)t2, c);
            char *old = S->cmd[i];
            S->cmd[i] = l;
            if (shrink__still_fails(S, S->keep, S->nodes)) {
                free(old);
                t = t2;
                c = shrink__command_of(S->cmd[i]);
                moved = true;
            } else {
                S->cmd[i] = old;
                free(l);
                break;
            }
        }
        prev = t;
    }
    return moved;
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x >> 12; /* xorshift64* (Vigna): a fixed stream, so a shrink
                       is the same every time */
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(2685821657736338717);
}

/* Random cuts.  A schedule's failure is chaotic under its edits: every
 * line that goes moves each later random draw (link jitter, drop and
 * duplication on the cluster's stream, each node's next election
 * timeout), so once ddmin is 1-minimal no single line or neighbouring
 * pair can go, although a run without most of them fails as often as
 * the seeds explore draws.  Remove random sets (a half of the lines down
 * to one; scattered, or one stretch of neighbours) until `tries` in a row
 * have not kept the failure.  true: some went. */
bool shrink__random_cuts(struct shrinker *S, int tries)
{
    bool *trial = malloc((size_t)S->n_cmd + 1);
    int *idx = malloc(((size_t)S->n_cmd + 1) * sizeof(int));
    bool any = false;
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)S->n_cmd;
    for (int misses = 0; trial && idx && misses < tries &&
                         shrink__budget_left(S);) {
        int k = 0;
        for (int i = 0; i < S->n_cmd; i++)
            if (S->keep[i] && !shrink__defines_failure(S->cmd[i]))
                idx[k++] = i;
        if (k < 2)
            break;
        int bits = 1;
        while ((k >> bits) > 1)
            bits++;
        int m = k >> (1 + (int)(next_rand(&x) % (uint64_t)bits));
        if (m < 1)
            m = 1;
        memcpy(trial, S->keep, (size_t)S->n_cmd);
        if (next_rand(&x) & 1) {
            int at = (int)(next_rand(&x) % (uint64_t)(k - m + 1));
            for (int j = at; j < at + m; j++)
                trial[idx[j]] = false;
        } else {
            for (int j = 0; j < m; j++) { /* a partial Fisher-Yates */
                int r = j + (int)(next_rand(&x) % (uint64_t)(k - j));
                int t = idx[j];
                idx[j] = idx[r];
                idx[r] = t;
                trial[idx[j]] = false;
            }
        }
        if (shrink__still_fails(S, trial, S->nodes)) {
            memcpy(S->keep, trial, (size_t)S->n_cmd);
            any = true;
            misses = 0;
        } else {
            misses++;
        }
    }
    free(trial);
    free(idx);
    return any;
}

/* Remove the word `name VALUE` from a line: a new malloc'd line, or NULL
 * when it has none. */
static char *without_word(const char *line, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = line; (p = strstr(p, name)); p += n) {
        if (p == line || p[-1] != ' ' || p[n] != ' ')
            continue;
        const char *v = p + n + 1; /* its value, then the rest */
        while (*v && *v != ' ')
            v++;
        size_t head = (size_t)(p - line) - 1;
        char *out = malloc(strlen(line) + 1);
        if (!out)
            return NULL;
        memcpy(out, line, head);
        strcpy(out + head, v);
        return out;
    }
    return NULL;
}

/* Simpler lines: a `link` line without the settings the failure does
 * not need (dup, drop, jitter, latency: the link keeps what it had; the
 * last one cannot go), a crash without `lose-unflushed`.  The line count
 * stays; each line says less.  true: some changed. */
bool shrink__simpler_lines(struct shrinker *S)
{
    static const char *const attrs[] = {"dup", "drop", "jitter", "latency"};
    bool any = false;
    for (int i = 0; i < S->n_cmd && shrink__budget_left(S); i++) {
        if (!S->keep[i])
            continue;
        const char *c = shrink__command_of(S->cmd[i]);
        bool link = shrink__word_is(c, "link") && !strstr(c, " reset");
        bool crash = shrink__word_is(c, "crash");
        for (size_t a = 0; a < sizeof(attrs) / sizeof(*attrs); a++) {
            if (crash && a > 0)
                break;
            if (!link && !crash)
                break;
            char *l;
            if (crash) {
                const char *lu = strstr(S->cmd[i], " lose-unflushed");
                if (!lu)
                    break;
                l = strdup(S->cmd[i]);
                if (l)
                    strcpy(l + (lu - S->cmd[i]), lu + 15);
            } else {
                l = without_word(S->cmd[i], attrs[a]);
            }
            if (!l)
                continue;
            char *old = S->cmd[i];
            S->cmd[i] = l;
            if (shrink__still_fails(S, S->keep, S->nodes)) {
                free(old);
                any = true;
            } else {
                S->cmd[i] = old;
                free(l);
            }
        }
    }
    return any;
}

/* A later deadline: `at T expect violation …` moved `by` later, so that a
 * candidate whose violation comes a little later than the original's
 * still counts (the run stops at the violation, so the line's time only
 * bounds the search).  true: moved. */
bool shrink__later_deadline(struct shrinker *S, uint64_t by)
{
    bool moved = false;
    for (int i = 0; i < S->n_cmd && shrink__budget_left(S); i++) {
        uint64_t t;
        const char *c = shrink__command_of(S->cmd[i]);
        if (!S->keep[i] || !shrink__defines_failure(S->cmd[i]) ||
            !strstr(c, "violation") || !at_time(S->cmd[i], &t))
            continue;
        char *l = malloc(strlen(c) + 40);
        if (!l)
            break;
        sprintf(l, "at %lluus %s", (unsigned long long)(t + by), c);
        char *old = S->cmd[i];
        S->cmd[i] = l;
        if (shrink__still_fails(S, S->keep, S->nodes)) {
            free(old);
            moved = true;
        } else {
            S->cmd[i] = old;
            free(l);
        }
    }
    return moved;
}

/* One pass of every step, in order: fewer nodes, ddmin, faults undone
 * earlier, random cuts, pairs, simpler lines, fewer set-up lines. */
void shrink__pass(struct shrinker *S)
{
    shrink__fewer_nodes(S);
    shrink__ddmin(S);
    shrink__fewer_nodes(S);
    if (shrink__heal_earlier(S))
        shrink__ddmin(S);
    while (shrink__random_cuts(S, 100)) {
        shrink__ddmin(S);
        shrink__fewer_nodes(S);
    }
    while (shrink__pairs(S))
        shrink__ddmin(S);
    shrink__simpler_lines(S);
    shrink__fewer_setup(S);
}
