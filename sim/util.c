/*
 * util.c — see util.h.
 */
#include "sim/util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

void util_unknown_option(const char *prog, const char *cmd, const char *arg,
                         const struct option *opts)
{
    const char *name = arg;
    while (*name == '-')
        name++;
    size_t len = strcspn(name, "=");
    const char *best = NULL;
    int best_d = 3;
    for (const struct option *o = opts; o->name; o++) {
        int d = util_edit_distance(name, len, o->name, strlen(o->name));
        if (d < best_d) {
            best_d = d;
            best = o->name;
        }
    }
    fprintf(stderr, "%s %s: unknown option '%s'", prog, cmd, arg);
    if (best)
        fprintf(stderr, "; did you mean '--%s'?", best);
    fprintf(stderr, "\n(see '%s %s --help')\n", prog, cmd);
}

int util_run_bounded(const char *cmd, double timeout_s, const char *log_path,
                     double *ms)
{
    double t0 = util_wall_s();
    *ms = 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log_path ? log_path : "/dev/null",
                      O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setpgid(0, 0); /* its own group: a timeout kills its children too */
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0) {
            status = -1;
            break;
        }
        if (util_wall_s() - t0 > timeout_s) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            *ms = (util_wall_s() - t0) * 1e3;
            return 124;
        }
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    *ms = (util_wall_s() - t0) * 1e3;
    if (status == -1)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void util_fill_template(const char *tmpl, const char *action,
                        const char *server, char *out, size_t cap)
{
    size_t len = 0;
    for (const char *t = tmpl; *t && len + 1 < cap;) {
        const char *val = !strncmp(t, "{action}", 8)   ? action
                          : !strncmp(t, "{server}", 8) ? server
                                                       : NULL;
        if (val) {
            int w = snprintf(out + len, cap - len, "%s", val);
            len += w > 0 ? (size_t)w : 0;
            if (len >= cap)
                len = cap - 1;
            t += 8;
        } else
            out[len++] = *t++;
    }
    out[len] = 0;
}

void util_default_control(char *out, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        /* .../build/raftsim (or .../build/asan/raftsim) → .../tools/pg-pair */
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                break;
            *slash = 0;
            char path[4200];
            snprintf(path, sizeof(path), "%s/tools/pg-pair", exe);
            if (access(path, X_OK) == 0) {
                snprintf(out, cap, "'%s' {action} {server}", path);
                return;
            }
        }
    }
    snprintf(out, cap, "tools/pg-pair {action} {server}");
}

int util_bad_value(const char *prog, const char *cmd, const char *opt,
                   const char *val, const char *why)
{
    fprintf(stderr, "%s %s: bad value '%s' for --%s: %s\n", prog, cmd, val,
            opt, why);
    return 2;
}
