/*
 * cluster_procs_life.c — the node processes of cluster_procs.c: spawn
 * (`raftsim node --control-fd 3` on a socketpair, its own process group,
 * PR_SET_PDEATHSIG), the start (every port, then the peers, the links
 * and GO with core time 0), SIGKILL as the crash (read to the end and
 * replayed first), a restart handed its node's previous inputs, SIGSTOP
 * and SIGCONT as pause and resume, and the bounded clean-up.
 */
#include "sim/cluster/cluster_procs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "net/auth.h"
#include "sim/util/util.h"

/* Reap pid within ms (it was sent SIGKILL or exited); what became of it
 * in why ("" if not known). */
void procs__reap_why(pid_t pid, int ms, char *why, size_t len)
{
    if (why && len)
        why[0] = '\0';
    for (int k = 0; k < ms; k++) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid && why && WIFSIGNALED(st))
            snprintf(why, len, " (killed by signal %d)", WTERMSIG(st));
        else if (r == pid && why && WIFEXITED(st))
            snprintf(why, len, " (exit status %d)", WEXITSTATUS(st));
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void reap(pid_t pid, int ms)
{
    procs__reap_why(pid, ms, NULL, 0);
}

static int spawn(struct sim_cluster *c, int id)
{
    struct sim_procs *P = c->procs;
    struct proc_node *pn = &P->p[id];
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        if (dup2(sv[1], 3) < 0)
            _exit(1);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        signal(SIGPIPE, SIG_DFL);
        execl(P->exe, "raftsim", "node", "--control-fd", "3", (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    setpgid(pid, pid);
    pn->pid = pid;
    pn->fd = sv[0];
    pn->has_head = pn->sync_out = false;
    net_reader_free(&pn->rd);
    net_reader_init(&pn->rd, CTL_REC_MAX);
    P->init.cfg = *raft_config(c->nodes[id].r);
    P->init.port = pn->port;
    struct ctl_rec r = {.type = CTL_C_INIT,
                        .payload = (const char *)&P->init,
                        .plen = sizeof(P->init)};
    int rc = ctl_send(pn->fd, &r);
    P->init.port = 0;
    return rc;
}

static void tell_peers(struct sim_cluster *c, int id)
{
    for (int j = 1; j <= c->n; j++) {
        if (j == id)
            continue;
        struct ctl_rec r = {.type = CTL_C_PEER, .a = j,
                            .b = (uint64_t)c->procs->p[j].port};
        procs__send(c, id, &r);
        struct ctl_rec r2 = {.type = CTL_C_PEER, .a = id,
                             .b = (uint64_t)c->procs->p[id].port};
        procs__send(c, j, &r2);
    }
}

int sim__procs_start(struct sim_cluster *c)
{
    struct sim_procs *P = calloc(1, sizeof(*P));
    if (!P)
        return RAFT_ENOMEM;
    c->procs = P;
    P->p = calloc((size_t)c->n + 1, sizeof(*P->p));
    P->pfd = calloc((size_t)c->n + 1, sizeof(*P->pfd));
    if (!P->p || !P->pfd)
        return RAFT_ENOMEM;
    for (int i = 0; i <= c->n; i++) {
        P->p[i].fd = -1;
        net_reader_init(&P->p[i].rd, CTL_REC_MAX);
    }
    P->scale = c->o.time_scale > 0 ? c->o.time_scale : 1.0;
    const char *exe = c->o.node_exe ? c->o.node_exe : "/proc/self/exe";
    ssize_t el = readlink(exe, P->exe, sizeof(P->exe) - 1);
    if (el > 0)
        P->exe[el] = '\0';
    else
        snprintf(P->exe, sizeof(P->exe), "%s", exe);
    snprintf(P->init.cluster_id, sizeof(P->init.cluster_id), "%s",
             c->o.cluster_id ? c->o.cluster_id : "raftsim");
    if (c->o.key) {
        if (c->o.key_len < NET_KEY_MIN || c->o.key_len > NET_KEY_MAX)
            return RAFT_EINVAL;
        memcpy(P->init.key, c->o.key, c->o.key_len);
        P->init.key_len = (uint32_t)c->o.key_len;
    } else {
        P->init.key_len = NET_KEY_RANDOM;
        if (net_random(P->init.key, P->init.key_len) != 0)
            return RAFT_ENOMEM;
    }
    P->init.time_scale = P->scale;
    P->t0_ns = uv_hrtime();
    P->init.t0_ns = P->t0_ns;
    for (int i = 1; i <= c->n; i++) {
        int rc = spawn(c, i);
        if (rc != 0) {
            procs__perr(c, "n%d: cannot start its process: %s", i, strerror(-rc));
            return rc < 0 ? rc : -1;
        }
    }
    /* every node's port (HELLO), bounded */
    uint64_t until = uv_hrtime() + UINT64_C(10000000000);
    for (int i = 1; i <= c->n; i++) {
        struct proc_node *pn = &P->p[i];
        while (pn->port == 0) {
            if (uv_hrtime() > until || util_stop_signal) {
                procs__perr(c, "n%d: its process did not report its port%s", i,
                     " within 10 s");
                return UV_ETIMEDOUT;
            }
            struct pollfd pf = {.fd = pn->fd, .events = POLLIN};
            if (poll(&pf, 1, 20) > 0 && !procs__read_some(c, i)) {
                procs__perr(c, "n%d: its process exited at start (see its "
                        "message above)%s", i, "");
                return UV_ECONNRESET;
            }
            const char *body;
            size_t len;
            char err[64];
            if (net_reader_peek(&pn->rd, &body, &len, err, sizeof(err)) ==
                NET_OK) {
                struct ctl_rec r;
                if (ctl_parse(body, len, &r) == 0 && r.type == CTL_R_HELLO)
                    pn->port = r.a;
                net_reader_skip(&pn->rd);
            }
        }
    }
    for (int i = 1; i <= c->n; i++) {
        for (int j = 1; j <= c->n; j++) {
            if (j == i)
                continue;
            struct ctl_rec r = {.type = CTL_C_PEER, .a = j,
                                .b = (uint64_t)P->p[j].port};
            procs__send(c, i, &r);
        }
    }
    sim__procs_links(c);
    /* core time 0 is now, for every node alike: the start-up (a fork and
     * exec each, slow on a loaded machine) takes none of its time */
    P->t0_ns = uv_hrtime();
    for (int i = 1; i <= c->n; i++) {
        struct ctl_rec r = {.type = CTL_C_GO, .b = P->t0_ns};
        procs__send(c, i, &r);
    }
    return 0;
}

void sim__procs_free(struct sim_cluster *c)
{
    struct sim_procs *P = c->procs;
    if (!P)
        return;
    for (int i = 1; P->p && i <= c->n; i++)
        if (P->p[i].pid > 0)
            kill(P->p[i].pid, SIGKILL);
    for (int i = 0; P->p && i <= c->n; i++) {
        struct proc_node *pn = &P->p[i];
        if (pn->fd >= 0)
            close(pn->fd);
        if (pn->pid > 0)
            reap(pn->pid, 2000);
        net_reader_free(&pn->rd);
        net_buf_free(&pn->hist);
    }
    explicit_bzero(&P->init, sizeof(P->init));
    free(P->p);
    free(P->pfd);
    free(P);
    c->procs = NULL;
}

/* SIGKILL (SIGCONT too if it is stopped) and read it to the end. */
static void kill_and_drain(struct sim_cluster *c, int id)
{
    struct proc_node *pn = &c->procs->p[id];
    if (pn->pid > 0)
        kill(pn->pid, SIGKILL);
    if (pn->pid > 0 && (c->nodes[id].paused || pn->frozen))
        kill(pn->pid, SIGCONT); /* a stopped process dies on SIGKILL too */
    pn->frozen = false;
    uint64_t until = uv_hrtime() + UINT64_C(2000000000);
    while (pn->fd >= 0 && uv_hrtime() < until) {
        struct pollfd pf = {.fd = pn->fd, .events = POLLIN};
        if (poll(&pf, 1, 20) > 0 && !procs__read_some(c, id))
            procs__gone(c, id, true);
    }
    if (pn->fd >= 0) {
        procs__perr(c, "n%d: its process did not die on SIGKILL within 2 s%s", id,
             "");
        procs__gone(c, id, true);
    }
}

/* Stop it where it is (SIGSTOP: no socket closes, peers see nothing, as
 * after a power loss) and read what it reported before it stopped. */
static void freeze(struct sim_cluster *c, int id)
{
    struct proc_node *pn = &c->procs->p[id];
    if (pn->pid <= 0)
        return;
    if (!c->nodes[id].paused)
        sim__procs_pause(c, id, true);
    pn->frozen = true;
    while (pn->fd >= 0 && procs__read_some(c, id)) {
        struct pollfd pf = {.fd = pn->fd, .events = POLLIN};
        if (poll(&pf, 1, 0) <= 0)
            break;
    }
}

/* SIGKILL (silent: SIGSTOP), read it to the end, replay what it reported. */
void sim__procs_crash(struct sim_cluster *c, int id, bool lose_unflushed,
                      bool silent)
{
    struct sim_procs *P = c->procs;
    struct proc_node *pn = &P->p[id];
    if (silent)
        freeze(c, id);
    else
        kill_and_drain(c, id);
    /* its last inputs, in order with everyone else's */
    c->nodes[id].paused = false;
    uint64_t until = uv_hrtime() + UINT64_C(2000000000);
    while (procs__head(c, id) && uv_hrtime() < until && !c->stopped) {
        bool caught;
        if (!procs__turn(c, pn->head.t_us, 1, &caught)) {
            if (!procs__head(c, id))
                break;
        }
    }
    while (procs__head(c, id))
        procs__consume(c, id); /* the bound passed: replay the rest anyway */
    struct ctl_rec r = {.type = CTL_C_CRASH, .a = lose_unflushed,
                        .t_us = c->now};
    procs__keep(pn, &r);
}

int sim__procs_restart(struct sim_cluster *c, int id)
{
    struct proc_node *pn = &c->procs->p[id];
    if (pn->frozen) /* a silent crash: the frozen process goes now */
        kill_and_drain(c, id);
    if (pn->fd >= 0)
        return 0;
    int rc = spawn(c, id);
    if (rc != 0) {
        procs__perr(c, "n%d: cannot start its process again: %s", id,
             strerror(rc < 0 ? -rc : EIO));
        return rc ? rc : -1;
    }
    struct ctl_rec r = {.type = CTL_C_RESTART, .t_us = c->now};
    procs__keep(pn, &r);
    if (pn->hist.len && ctl_write_all(pn->fd, pn->hist.data, pn->hist.len)) {
        procs__perr(c, "n%d: cannot hand its log to its new process%s", id, "");
        return -1;
    }
    pn->last_t = c->now;
    tell_peers(c, id);
    struct ctl_rec go = {.type = CTL_C_GO, .b = c->procs->t0_ns};
    procs__send(c, id, &go);
    for (int j = 1; j <= c->n; j++)
        sim__procs_link(c, id, j);
    return 0;
}

void sim__procs_pause(struct sim_cluster *c, int id, bool paused)
{
    struct proc_node *pn = &c->procs->p[id];
    if (pn->pid <= 0)
        return;
    if (!paused) {
        kill(pn->pid, SIGCONT);
        return;
    }
    kill(pn->pid, SIGSTOP);
    for (int k = 0; k < 2000; k++) {
        int st;
        pid_t r = waitpid(pn->pid, &st, WNOHANG | WUNTRACED);
        if (r == pn->pid || (r < 0 && errno != EINTR))
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (pn->fd >= 0 && !procs__read_some(c, id))
        procs__gone(c, id, false);
}
