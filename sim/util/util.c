/*
 * util.c — see util.h.
 */
#include "sim/util/util.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t util_stop_signal;

static void on_stop_signal(int sig)
{
    util_stop_signal = sig;
}

void util_stop_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a read waiting for Enter at a `step` returns EINTR;
     * SA_RESETHAND: the second signal is the default one, and kills */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int util_parse_duration_us(const char *s, uint64_t *out, const char **err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0) {
        *err = "expected a duration such as 150ms or 2s";
        return -1;
    }
    double mult;
    if (!strcmp(end, "us"))
        mult = 1;
    else if (!strcmp(end, "ms"))
        mult = 1e3;
    else if (!strcmp(end, "s"))
        mult = 1e6;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mult = 60e6;
    else {
        *err = *end ? "unknown unit (use us, ms, s or m)"
                    : "missing unit (write e.g. 150ms or 2s)";
        return -1;
    }
    double us = v * mult;
    if (us > 1e15) {
        *err = "duration too large";
        return -1;
    }
    *out = (uint64_t)llround(us);
    return 0;
}

int util_parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

int util_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

double util_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int util_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    if (la > 63 || lb > 63)
        return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]);
            int cb = tolower((unsigned char)b[j - 1]);
            int sub = d[i - 1][j - 1] + (ca != cb);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins)
                                : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1; /* a transposition */
        }
    return d[la][lb];
}


char *util_escape_ctrl(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap == 0)
        return out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        size_t n = 0;
        bool c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f || c1) {
            unsigned v = c1 ? p[1] : *p;
            esc[n++] = '\\';
            esc[n++] = 'x';
            esc[n++] = hex[v >> 4];
            esc[n++] = hex[v & 15];
            p += c1;
        } else {
            esc[n++] = (char)*p;
        }
        if (o + n + 4 > cap) { /* room for "..." and the NUL */
            if (cap >= 4) {
                memcpy(out + (o < cap - 4 ? o : cap - 4), "...", 3);
                o = (o < cap - 4 ? o : cap - 4) + 3;
            }
            break;
        }
        memcpy(out + o, esc, n);
        o += n;
    }
    out[o < cap ? o : cap - 1] = '\0';
    return out;
}
