/*
 * pg_control.c — see pg_control.h.
 */
#include "sim/pg/pg_control.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/util/util.h"

/* stdout to out_fd when it is >= 0 (else to the log, with stderr) */
static int run(const char *cmd, double timeout_s, const char *log_path,
               double *ms, int out_fd)
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
            dup2(out_fd >= 0 ? out_fd : fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (out_fd >= 0)
            close(out_fd);
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

int pgc_run_bounded(const char *cmd, double timeout_s, const char *log_path,
                    double *ms)
{
    return run(cmd, timeout_s, log_path, ms, -1);
}

int pgc_run_capture(const char *cmd, double timeout_s, const char *log_path,
                    double *ms, char *out, size_t cap)
{
    char path[] = "/tmp/raftsim-pgc.XXXXXX";
    out[0] = 0;
    *ms = 0;
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    int rc = run(cmd, timeout_s, log_path, ms, fd);
    if (lseek(fd, 0, SEEK_SET) == 0) {
        ssize_t n = read(fd, out, cap - 1);
        out[n > 0 ? n : 0] = 0;
    }
    close(fd);
    if (log_path && out[0]) { /* the log keeps the whole story */
        FILE *f = fopen(log_path, "a");
        if (f) {
            fputs(out, f);
            fclose(f);
        }
    }
    return rc;
}

void pgc_fill_template(const char *tmpl, const char *action,
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

/* the repo root: the nearest parent of this binary with tools/pg-pair */
static int find_root(char *out, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    /* .../build/raftsim (or .../build/asan/raftsim) → ... */
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            break;
        *slash = 0;
        char path[4200];
        snprintf(path, sizeof(path), "%s/tools/pg-pair", exe);
        if (access(path, X_OK) == 0) {
            snprintf(out, cap, "%s", exe);
            return 0;
        }
    }
    return -1;
}

void pgc_default_control(char *out, size_t cap)
{
    char root[4096];
    if (find_root(root, sizeof(root)) == 0)
        snprintf(out, cap, "'%s/tools/pg-pair' {action} {server}", root);
    else
        snprintf(out, cap, "tools/pg-pair {action} {server}");
}

void pgc_default_dir(char *out, size_t cap)
{
    const char *d = getenv("RAFTSIM_PG_DIR");
    char root[4096], cwd[4096];
    if (d && *d) {
        if (d[0] == '/' || !getcwd(cwd, sizeof(cwd)))
            snprintf(out, cap, "%s", d);
        else
            snprintf(out, cap, "%s/%s", cwd, d);
    } else if (find_root(root, sizeof(root)) == 0)
        snprintf(out, cap, "%s/.pg-pair", root);
    else
        snprintf(out, cap, ".pg-pair");
}
