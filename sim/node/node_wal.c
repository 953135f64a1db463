/*
 * node_wal.c — `raftsim node --wal-dir DIR`: a file that survives a real
 * crash (SIGKILL, power loss) of a standalone node.
 *
 * What is written is the node's input log, the same records the driven
 * node reports to its runner (net/ctl.h): every frame, timer, proposal,
 * campaign and transfer the core was fed, with the core time it used,
 * appended before the core sees it.  The core is deterministic, so
 * replaying the file rebuilds exactly the state it had, its WAL, term
 * and vote included (raft/ offers no other way to load a state, and this
 * needs no change to it).  The first record (CTL_W_HEADER) holds the
 * core's seed and the settings the replay depends on: a restart draws its
 * election timeouts from the same seed as the life it replays (a node
 * started without --seed picks a random one; replayed with another, the
 * first tick no longer starts the election it started, and the log the
 * node had is not rebuilt), and a restart with other timing or another
 * cluster size is refused rather than replayed into a different history.
 * Before any message leaves the node after its
 * durable state changed (term, vote, the WAL's last entry), the file is
 * fdatasync'ed: the driver contract of README section 8 (write and flush
 * up to flushed_lsn before acknowledging).  Records that changed nothing
 * durable are written but not waited for: if a crash loses them, the
 * replay rebuilds a prefix of the history, which is itself a history the
 * node could have had.  A record cut short by the crash is dropped.
 *
 * The cost is counted (fdatasync calls, their mean and worst time) and
 * printed when the node stops.  The file grows with every input (about
 * 100 bytes each: a 3-node cluster's follower takes ~20 a second); there
 * is no compaction.
 */
#include "sim/node/node_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "raft/wal.h"

#define WAL_FILE_MAX (1024ull << 20) /* refuse to load more than 1 GiB */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int node_wal_open(struct node_wal *w, const char *dir, int id,
                  const struct ctl_rec *header, struct net_buf *old,
                  char *err, size_t len)
{
    memset(w, 0, sizeof(*w));
    memset(old, 0, sizeof(*old));
    w->fd = -1;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, len, "--wal-dir %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(w->path, sizeof(w->path), "%s/n%d.wal", dir, id);
    w->fd = open(w->path, O_RDWR | O_CLOEXEC);
    if (w->fd < 0 && errno == ENOENT && header) {
        /* a new file appears whole, its header in it (written to a
         * temporary name, flushed, renamed, the directory flushed): a
         * file without one is never ours, and is left alone */
        char tmp[sizeof(w->path) + 8];
        snprintf(tmp, sizeof(tmp), "%s.new", w->path);
        w->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int dfd = -1;
        if (w->fd < 0 || node_wal_append(w, header) != 0 ||
            fdatasync(w->fd) != 0 || rename(tmp, w->path) != 0 ||
            (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
            fsync(dfd) != 0) {
            snprintf(err, len, "%s: %s", tmp, strerror(errno));
            if (dfd >= 0)
                close(dfd);
            if (w->fd >= 0)
                close(w->fd);
            w->fd = -1;
            unlink(tmp);
            return -1;
        }
        close(dfd);
        w->records = 0; /* the count printed at the end is of inputs */
        w->dirty = false;
        w->syncs = 0;
        lseek(w->fd, 0, SEEK_SET);
    }
    if (w->fd < 0) {
        snprintf(err, len, "%s: %s", w->path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(w->fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > WAL_FILE_MAX) {
        snprintf(err, len, "%s: not a regular file of at most 1 GiB",
                 w->path);
        close(w->fd);
        w->fd = -1;
        return -1;
    }
    memset(old, 0, sizeof(*old));
    size_t size = (size_t)st.st_size;
    if (size) {
        old->data = malloc(size);
        if (!old->data) {
            snprintf(err, len, "%s: out of memory", w->path);
            return -1;
        }
        size_t got = 0;
        while (got < size) {
            ssize_t k = pread(w->fd, old->data + got, size - got,
                              (off_t)got);
            if (k <= 0) {
                if (k < 0 && errno == EINTR)
                    continue;
                break;
            }
            got += (size_t)k;
        }
        old->len = old->cap = got;
    }
    return 0;
}

/* Keep only the whole records of what was read (the end of a record cut
 * short by a crash goes), and append after them. */
int node_wal_trim(struct node_wal *w, size_t keep)
{
    if (ftruncate(w->fd, (off_t)keep) != 0 ||
        lseek(w->fd, (off_t)keep, SEEK_SET) < 0)
        return -errno;
    w->bytes = keep;
    return 0;
}

int node_wal_append(struct node_wal *w, const struct ctl_rec *r)
{
    struct net_buf b = {0};
    int rc = ctl_encode(&b, r);
    if (rc == 0)
        rc = ctl_write_all(w->fd, b.data, b.len);
    if (rc == 0) {
        w->records++;
        w->bytes += b.len;
        w->dirty = true;
    }
    net_buf_free(&b);
    return rc;
}

int node_wal_sync(struct node_wal *w)
{
    if (!w->dirty)
        return 0;
    double t0 = mono_s();
    if (fdatasync(w->fd) != 0)
        return -errno;
    double dt = mono_s() - t0;
    w->syncs++;
    w->sync_s += dt;
    if (dt > w->sync_max_s)
        w->sync_max_s = dt;
    w->dirty = false;
    return 0;
}

void node_wal_close(struct node_wal *w, FILE *out, int id)
{
    if (w->fd < 0)
        return;
    node_wal_sync(w);
    if (out)
        fprintf(out,
                "n%d: wal %s: %llu records appended (%.1f KiB in the "
                "file), %llu fdatasync, mean %.3f ms, max %.3f ms\n",
                id, w->path, (unsigned long long)w->records,
                (double)w->bytes / 1024.0, (unsigned long long)w->syncs,
                w->syncs ? w->sync_s * 1e3 / (double)w->syncs : 0.0,
                w->sync_max_s * 1e3);
    close(w->fd);
    w->fd = -1;
}

/* The settings a replay depends on, besides the seed (the header's b). */
static void wal_settings(const struct raft_config *c, char *buf, size_t len)
{
    snprintf(buf, len,
             "raftsim-wal 1 id=%d nodes=%d heartbeat_us=%llu "
             "election_us=%llu-%llu ack=%s policy=%s prevote=%d "
             "checkquorum=%d fast_detect=%d unsafe=%u nofailover=%d "
             "batch=%u inflight=%u chunk=%u",
             c->id, c->n_nodes, (unsigned long long)c->heartbeat_us,
             (unsigned long long)c->election_min_us,
             (unsigned long long)c->election_max_us,
             raft_ack_mode_name(c->ack_mode), raft_policy_name(c->policy),
             c->prevote, c->checkquorum, c->fast_detect, c->unsafe,
             c->nofailover, c->max_batch, c->max_inflight, c->snap_chunk);
}

/* The file's first record: the seed it was written with and the settings.
 * 0, or -1 with why (the node refuses to start). */
static int wal_header(struct nd *d, const char *body, size_t len,
                      bool seed_given, char *err, size_t elen)
{
    struct ctl_rec r;
    char want[512];
    wal_settings(&d->cfg, want, sizeof(want));
    if (ctl_parse(body, len, &r) != 0 || r.type != CTL_W_HEADER) {
        snprintf(err, elen, "%s does not begin with a raftsim node header "
                 "(another file, or one written before the header); move "
                 "it away or give another --wal-dir", d->wal.path);
        return -1;
    }
    if (r.plen != strlen(want) || memcmp(r.payload, want, r.plen) != 0) {
        snprintf(err, elen, "%s was written with other settings: the file "
                 "has \"%.*s\", this start \"%s\"; restart with the same "
                 "flags (replaying under others would rebuild another "
                 "history)", d->wal.path, (int)(r.plen < 400 ? r.plen : 400),
                 r.payload, want);
        return -1;
    }
    if (seed_given && r.b != d->cfg.seed) {
        snprintf(err, elen, "%s was written by a node with another --seed; "
                 "restart with the same one, or without --seed",
                 d->wal.path);
        return -1;
    }
    if (r.b != d->cfg.seed) { /* the file's seed: rebuild the core on it */
        d->cfg.seed = r.b;
        raft_node_free(d->r);
        d->r = NULL;
        if (raft_node_new(&d->cfg, 0, &d->r) != RAFT_OK) {
            snprintf(err, elen, "bad configuration");
            return -1;
        }
        prng_seed(&d->rng, d->cfg.seed ^ UINT64_C(0x6c696e6b73));
        node__pump(d, 0);
    }
    return 0;
}

/* --wal-dir: open the file, replay what it holds, then crash and restart
 * the core as a process that died does, with its clock going on from the
 * last input's time. */
int node__load_wal(struct nd *d, const char *dir, bool seed_given)
{
    char err[6000];
    struct net_buf old;
    char text[512];
    wal_settings(&d->cfg, text, sizeof(text));
    struct ctl_rec h = {.type = CTL_W_HEADER, .b = d->cfg.seed,
                        .payload = text, .plen = (uint32_t)strlen(text)};
    if (node_wal_open(&d->wal, dir, d->cfg.id, &h, &old, err,
                      sizeof(err)) != 0) {
        fprintf(stderr, "raftsim node n%d: %s\n", d->cfg.id, err);
        net_buf_free(&old);
        return -1;
    }
    d->use_wal = true;
    struct net_reader rd;
    net_reader_init(&rd, CTL_REC_MAX);
    size_t whole = 0;
    uint64_t n = 0, last_t = 0;
    int rc = old.len ? net_reader_feed(&rd, old.data, old.len) : NET_EAGAIN;
    d->replaying = true;
    const char *body;
    size_t len;
    err[0] = '\0';
    /* an empty file (made by hand): a new one, its header appended */
    bool new_file = old.len == 0;
    if (old.len) {
        if (rc != NET_OK ||
            net_reader_peek(&rd, &body, &len, err, sizeof(err)) != NET_OK ||
            wal_header(d, body, len, seed_given, err, sizeof(err)) != 0) {
            if (!strstr(err, d->wal.path))
                snprintf(err, sizeof(err), "%s does not begin with a "
                         "raftsim node header (another file, or one cut "
                         "short); move it away or give another --wal-dir",
                         d->wal.path);
            fprintf(stderr, "raftsim node n%d: %s\n", d->cfg.id, err);
            net_reader_free(&rd);
            net_buf_free(&old);
            node_wal_close(&d->wal, NULL, d->cfg.id); /* untouched */
            d->use_wal = false;
            return -1;
        }
        whole += 4 + len;
        net_reader_skip(&rd);
    }
    while (rc == NET_OK) {
        struct ctl_rec r;
        if (net_reader_peek(&rd, &body, &len, err, sizeof(err)) != NET_OK ||
            ctl_parse(body, len, &r) != 0)
            break; /* the end, or a record a crash cut short */
        node__apply_input(d, &r);
        if (r.t_us > last_t)
            last_t = r.t_us;
        whole += 4 + len;
        n++;
        net_reader_skip(&rd);
    }
    net_reader_free(&rd);
    net_buf_free(&old);
    if (node_wal_trim(&d->wal, whole) != 0) {
        fprintf(stderr, "raftsim node n%d: cannot trim %s\n", d->cfg.id,
                d->wal.path);
        return -1;
    }
    if (new_file && (node_wal_append(&d->wal, &h) != 0 ||
                        node_wal_sync(&d->wal) != 0)) {
        fprintf(stderr, "raftsim node n%d: cannot write %s: %s\n", d->cfg.id,
                d->wal.path, strerror(errno));
        return -1;
    }
    if (n > 0) {
        struct ctl_rec crash = {.type = CTL_C_CRASH, .t_us = last_t};
        struct ctl_rec restart = {.type = CTL_C_RESTART, .t_us = last_t + 1};
        node__apply_input(d, &crash);
        node__apply_input(d, &restart);
        if (node_wal_append(&d->wal, &crash) != 0 ||
            node_wal_append(&d->wal, &restart) != 0 ||
            node_wal_sync(&d->wal) != 0) {
            fprintf(stderr, "raftsim node n%d: cannot append to %s\n",
                    d->cfg.id, d->wal.path);
            return -1;
        }
        /* core time goes on from the restart, never back */
        d->t0_ns = uv_hrtime() - (uint64_t)((double)(last_t + 1) * 1000.0 *
                                            d->scale);
        if (d->out_f)
            fprintf(d->out_f, "n%d: wal %s: replayed %llu inputs: term "
                    "%llu, log to lsn %llu (term %llu), restarted\n",
                    d->cfg.id, d->wal.path, (unsigned long long)n,
                    (unsigned long long)raft_term(d->r),
                    (unsigned long long)wal_last_lsn(raft_wal(d->r)),
                    (unsigned long long)wal_last_term(raft_wal(d->r)));
    }
    d->replaying = false;
    const struct wal *w = raft_wal(d->r);
    d->synced[0] = raft_term(d->r);
    d->synced[1] = (uint64_t)raft_voted_for(d->r);
    d->synced[2] = wal_last_lsn(w);
    d->synced[3] = wal_last_term(w);
    return 0;
}
