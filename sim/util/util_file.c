/*
 * util_file.c — output files (--trace, --report, --save, --csv): only
 * regular files are written, a file is replaced atomically, and every
 * write error is reported with the path.
 *
 * The data goes to a fresh temporary file next to the target (mkstemp:
 * never a name someone could have planted), and util_out_commit renames
 * it over the target only after every byte was written, flushed and
 * closed without error.  So a failed run never leaves half a file where
 * the last good one was, and a device or FIFO at the path (/dev/full, a
 * terminal, /proc/self/mem) is refused before anything is opened instead
 * of being replaced by a regular file or written to blind.  A symlink to
 * a regular file keeps being a symlink: its target is what is replaced.
 */
#include "sim/util/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* 0 when path is absent or a regular file on a real file system; *st
 * filled (st_mode 0 when absent). */
static int check(const char *path, struct stat *st, char *err, size_t cap)
{
    if (stat(path, st) != 0) {
        memset(st, 0, sizeof(*st));
        if (errno == ENOENT)
            return 0;
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    struct statfs fs;
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, cap, "%s is %s; only a regular file is written", path,
                 kind_of(st->st_mode));
        return -1;
    }
    if (statfs(path, &fs) == 0 &&
        (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC)) {
        snprintf(err, cap, "%s is a kernel file (/proc or /sys); only a "
                           "regular file is written", path);
        return -1;
    }
    return 0;
}

int util_out_check(const char *path, char *err, size_t cap)
{
    struct stat st;
    return check(path, &st, err, cap);
}

int util_out_open(struct util_out *o, const char *path, char *err,
                  size_t cap)
{
    memset(o, 0, sizeof(*o));
    struct stat st;
    char real[PATH_MAX];
    const char *target = path;
    mode_t mode = 0666;
    if (check(path, &st, err, cap) != 0)
        return -1;
    if (st.st_mode) {
        if (realpath(path, real))
            target = real; /* through a symlink: replace what it names */
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    size_t n = strlen(target);
    o->path = malloc(n + 1);
    o->tmp = malloc(n + 16);
    if (!o->path || !o->tmp) {
        snprintf(err, cap, "cannot write %s: out of memory", path);
        util_out_discard(o);
        return -1;
    }
    memcpy(o->path, target, n + 1);
    /* DIR/.NAME.XXXXXX beside the target, so the rename is atomic. */
    const char *slash = strrchr(target, '/');
    size_t dir = slash ? (size_t)(slash - target) + 1 : 0;
    snprintf(o->tmp, n + 16, "%.*s.%s.XXXXXX", (int)dir, target,
             target + dir);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        util_out_discard(o);
        return -1;
    }
    if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "w+"))) {
        snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        util_out_discard(o);
        return -1;
    }
    return 0;
}

int util_out_commit(struct util_out *o, char *err, size_t cap)
{
    int rc = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        snprintf(err, cap, "cannot write %s: %s", o->path,
                 strerror(errno ? errno : EIO));
        rc = -1;
    }
    if (rc == 0 && fsync(fileno(o->f)) != 0 && errno != EINVAL) {
        snprintf(err, cap, "cannot write %s: %s", o->path, strerror(errno));
        rc = -1;
    }
    if (fclose(o->f) != 0 && rc == 0) {
        snprintf(err, cap, "cannot write %s: %s", o->path, strerror(errno));
        rc = -1;
    }
    o->f = NULL;
    if (rc == 0 && rename(o->tmp, o->path) != 0) {
        snprintf(err, cap, "cannot write %s: %s", o->path, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        free(o->tmp);
        o->tmp = NULL;
    }
    util_out_discard(o);
    return rc;
}

void util_out_discard(struct util_out *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof(*o));
}

char *util_read_all(FILE *f, size_t max, size_t *len_out)
{
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 == cap) {
            if (len > max)
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
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;
        free(buf);
        errno = e;
        return NULL;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}
