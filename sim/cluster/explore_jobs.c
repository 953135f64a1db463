/*
 * explore_jobs.c — a range of explore seeds on one or many processes, and
 * the sums that do not depend on the split.  See explore_jobs.h.
 *
 * Workers are forked children.  They take seeds one at a time from a
 * counter in shared memory (so a slow seed holds up only its worker),
 * run each with explore_one_checked() and write its explore_seed_result
 * to their pipe; the parent adds results up with explore_add() as they
 * come, in whatever order, as --jobs 1 does here.  Every sum is of
 * integers (simulated time in microseconds), and the first failure is
 * the lowest failing seed, so the order cannot show.
 */
#define _GNU_SOURCE
#include "sim/cluster/explore_jobs.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/util/util.h"

#define MAX_JOBS 1024

int explore_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void explore_shard_range(uint64_t start, uint64_t seeds, uint64_t index,
                         uint64_t count, uint64_t *share_start,
                         uint64_t *share_seeds)
{
    /* share i is [seeds*i/count, seeds*(i+1)/count), without overflow */
    uint64_t q = seeds / count, r = seeds % count;
    uint64_t lo = q * index + (index < r ? index : r);
    *share_start = start + lo;
    *share_seeds = q + (index < r);
}

static void add_sums(struct explore_result *to, const struct explore_result *x)
{
    to->seeds += x->seeds;
    to->violations += x->violations;
    to->failed_seeds += x->failed_seeds;
    to->liveness_failures += x->liveness_failures;
    to->nondeterministic += x->nondeterministic;
    to->acked_lost += x->acked_lost;
    to->elections += x->elections;
    to->messages += x->messages;
    to->writes += x->writes;
    to->acked += x->acked;
    to->transfers += x->transfers;
    to->no_leader_at_end += x->no_leader_at_end;
    if (x->over_budget &&
        (!to->over_budget || x->first_over_budget < to->first_over_budget))
        to->first_over_budget = x->first_over_budget;
    to->over_budget += x->over_budget;
    to->setup_failures += x->setup_failures;
    to->save_failed |= x->save_failed;
}

/* The lowest failing seed, and the lowest seed with a transport error,
 * win, wherever they came from. */
static void take_firsts(struct explore_batch *b,
                        const struct explore_batch *other)
{
    struct explore_result *r = &b->r;
    const struct explore_result *x = &other->r;
    uint64_t te_seed = other->te_seed;
    if (x->have_first && (!r->have_first || x->first_seed < r->first_seed)) {
        r->have_first = true;
        r->first_seed = x->first_seed;
        r->first = x->first;
        r->first_params = x->first_params;
        memcpy(b->first_drew, other->first_drew, sizeof(b->first_drew));
    }
    if (x->transport_errors && (!r->transport_errors || te_seed < b->te_seed)) {
        memcpy(r->first_transport_error, x->first_transport_error,
               sizeof(r->first_transport_error));
        b->te_seed = te_seed;
    }
    r->transport_errors += x->transport_errors;
}

void explore_batch_add(struct explore_batch *b,
                       const struct explore_seed_result *sr)
{
    struct explore_result *r = &b->r;
    uint64_t te_before = r->transport_errors;
    char te_text[sizeof(r->first_transport_error)];
    memcpy(te_text, r->first_transport_error, sizeof(te_text));
    /* last_seed is the interrupted seed's here (note_stop), whatever
     * order the seeds come back in */
    uint64_t last_seed = r->last_seed, last_end_us = r->last_end_us;
    explore_add(r, sr);
    r->last_seed = last_seed;
    r->last_end_us = last_end_us;
    /* explore_add keeps the first transport error added; keep the lowest
     * seed's instead, so the order seeds come back in cannot show. */
    if (sr->transport_errors && te_before) {
        if (sr->seed < b->te_seed) {
            snprintf(r->first_transport_error,
                     sizeof(r->first_transport_error), "seed %llu: %s",
                     (unsigned long long)sr->seed, sr->transport_error);
            b->te_seed = sr->seed;
        } else {
            memcpy(r->first_transport_error, te_text, sizeof(te_text));
        }
    } else if (sr->transport_errors) {
        b->te_seed = sr->seed;
    }
    if (!sr->setup_failed)
        b->sim_us += sr->end_us;
    r->simulated_s = (double)b->sim_us / 1e6;
}

void explore_batch_merge(struct explore_batch *b,
                         const struct explore_batch *other)
{
    add_sums(&b->r, &other->r);
    take_firsts(b, other);
    b->sim_us += other->sim_us;
    b->r.simulated_s = (double)b->sim_us / 1e6;
    if (other->r.interrupted &&
        (!b->r.interrupted || other->r.last_seed < b->r.last_seed)) {
        b->r.interrupted = true;
        b->r.last_seed = other->r.last_seed;
        b->r.last_end_us = other->r.last_end_us;
    }
    if (other->worker_deaths && !b->worker_deaths) {
        b->dead_seed = other->dead_seed;
        b->dead_signal = other->dead_signal;
    }
    b->worker_deaths += other->worker_deaths;
    b->r.replay_differs |= other->r.replay_differs;
    if (other->r.wall_s > b->r.wall_s) /* shards ran side by side */
        b->r.wall_s = other->r.wall_s;
}

/* A seed that ended while a stop signal was pending: the lowest such
 * seed is the one named in "interrupted ... in seed S". */
static void note_stop(struct explore_batch *b, uint64_t seed, uint64_t end_us)
{
    if (!b->r.interrupted || seed < b->r.last_seed) {
        b->r.interrupted = true;
        b->r.last_seed = seed;
        b->r.last_end_us = end_us;
    }
}

/* ------------------------------------------------------------------ */
/* Progress: one line on a terminal, rewritten at most 10 times a second */

struct progress {
    FILE *f;
    double t0, last;
    uint64_t total;
};

static void eta_text(double s, char *out, size_t cap)
{
    if (s < 0 || !isfinite(s))
        snprintf(out, cap, "?");
    else if (s < 60)
        snprintf(out, cap, "%.0f s", s);
    else if (s < 3600)
        snprintf(out, cap, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(out, cap, "%d h %02d min", (int)(s / 3600),
                 (int)fmod(s / 60, 60));
}

static void progress_show(struct progress *p, const struct explore_batch *b,
                          bool force)
{
    if (!p->f)
        return;
    double now = util_wall_s();
    if (!force && now - p->last < 0.1)
        return;
    p->last = now;
    uint64_t done = b->r.seeds;
    double rate = (double)done / (now - p->t0 + 1e-9);
    char eta[32];
    eta_text(rate > 0 ? (double)(p->total - done) / rate : -1, eta,
             sizeof(eta));
    fprintf(p->f,
            "\rexplore: %llu/%llu seeds, %llu violations, %.0f seeds/s, "
            "ETA %s \033[K",
            (unsigned long long)done, (unsigned long long)p->total,
            (unsigned long long)b->r.violations, rate, eta);
    fflush(p->f);
}

/* ------------------------------------------------------------------ */
/* Workers */

struct shared {
    uint64_t next;              /* the next seed index to take */
    uint64_t cur[MAX_JOBS];     /* the seed each worker is in */
    uint8_t busy[MAX_JOBS];
};

struct seed_rec {
    uint64_t seed;
    uint32_t stopped; /* a stop signal was pending when it ended */
    struct explore_seed_result sr;
};

static void worker_stop(int sig)
{
    util_stop_signal = sig; /* idempotent: a copy from the parent and one
                               from the terminal are the same request */
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void worker(const struct explore_opts *o, struct shared *sh, int w,
                   int fd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = worker_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_DFL); /* the parent is gone: so are we */
    struct seed_rec *rec = malloc(sizeof(*rec));
    if (!rec)
        _exit(3);
    while (!util_stop_signal) {
        uint64_t k = __atomic_fetch_add(&sh->next, 1, __ATOMIC_RELAXED);
        if (k >= o->seeds)
            break;
        uint64_t seed = o->start_seed + k;
        sh->cur[w] = seed;
        __atomic_store_n(&sh->busy[w], 1, __ATOMIC_RELEASE);
        memset(rec, 0, sizeof(*rec));
        rec->seed = seed;
        explore_one_checked(o, seed, &rec->sr);
        rec->stopped = util_stop_signal != 0;
        __atomic_store_n(&sh->busy[w], 0, __ATOMIC_RELEASE);
        if (write_all(fd, rec, sizeof(*rec)) != 0)
            _exit(3);
    }
    _exit(0);
}

struct conn {
    pid_t pid;
    int fd;
    size_t got;
    struct seed_rec rec;
};

static void run_forked(const struct explore_opts *o, int jobs,
                       struct explore_batch *b, struct progress *pg)
{
    struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct conn *cs = calloc((size_t)jobs, sizeof(*cs));
    struct pollfd *pf = calloc((size_t)jobs, sizeof(*pf));
    if (sh == MAP_FAILED || !cs || !pf) {
        fprintf(stderr, "explore: cannot set up %d workers: %s\n", jobs,
                strerror(errno));
        abort();
    }
    memset(sh, 0, sizeof(*sh));
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    int live = 0;
    for (int w = 0; w < jobs; w++) {
        int p[2];
        if (pipe(p) != 0) {
            fprintf(stderr, "explore: cannot make a pipe: %s\n",
                    strerror(errno));
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "explore: cannot start worker %d: %s\n", w + 1,
                    strerror(errno));
            close(p[0]);
            close(p[1]);
            break;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(3);
            close(p[0]);
            for (int i = 0; i < w; i++)
                close(cs[i].fd); /* the other workers' read ends */
            worker(o, sh, w, p[1]);
        }
        close(p[1]);
        cs[w] = (struct conn){.pid = pid, .fd = p[0]};
        live++;
    }
    b->jobs = live;
    int forwarded = 0;
    uint64_t last_seed = 0, last_end = 0; /* the highest seed back */
    while (live > 0) {
        if (util_stop_signal && !forwarded) {
            /* A signal to us alone (kill, timeout) stops them too. */
            for (int w = 0; w < jobs; w++)
                if (cs[w].pid > 0)
                    kill(cs[w].pid, util_stop_signal);
            forwarded = 1;
        }
        int n = 0;
        for (int w = 0; w < jobs; w++)
            pf[w] = (struct pollfd){.fd = cs[w].pid > 0 ? cs[w].fd : -1,
                                    .events = POLLIN};
        n = poll(pf, (nfds_t)jobs, 100);
        if (n < 0 && errno != EINTR)
            break;
        for (int w = 0; n > 0 && w < jobs; w++) {
            struct conn *c = &cs[w];
            if (c->pid <= 0 || !(pf[w].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(c->fd, (char *)&c->rec + c->got,
                             sizeof(c->rec) - c->got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r > 0) {
                c->got += (size_t)r;
                if (c->got == sizeof(c->rec)) {
                    c->got = 0;
                    explore_batch_add(b, &c->rec.sr);
                    if (c->rec.seed >= last_seed) {
                        last_seed = c->rec.seed;
                        last_end = c->rec.sr.end_us;
                    }
                    if (c->rec.stopped)
                        note_stop(b, c->rec.seed, c->rec.sr.end_us);
                }
                continue;
            }
            /* end of the pipe: the worker is done, or died */
            int st = 0;
            waitpid(c->pid, &st, 0);
            close(c->fd);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || c->got) {
                if (!b->worker_deaths) {
                    b->dead_seed = __atomic_load_n(&sh->busy[w],
                                                   __ATOMIC_ACQUIRE)
                                       ? sh->cur[w]
                                       : 0;
                    b->dead_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
                }
                b->worker_deaths++;
            }
            c->pid = 0;
            live--;
        }
        progress_show(pg, b, false);
    }
    for (int w = 0; w < jobs; w++) /* only after a poll failure */
        if (cs[w].pid > 0) {
            kill(cs[w].pid, SIGKILL);
            waitpid(cs[w].pid, NULL, 0);
            close(cs[w].fd);
            b->worker_deaths++;
        }
    /* stopped between seeds: name the last one that ran */
    if (util_stop_signal && !b->r.interrupted && b->r.seeds)
        note_stop(b, last_seed, last_end);
    munmap(sh, sizeof(*sh));
    free(cs);
    free(pf);
}

static void run_here(const struct explore_opts *o, struct explore_batch *b,
                     struct progress *pg)
{
    b->jobs = 1;
    struct explore_seed_result sr;
    for (uint64_t k = 0; k < o->seeds; k++) {
        uint64_t seed = o->start_seed + k;
        explore_one_checked(o, seed, &sr);
        explore_batch_add(b, &sr);
        if (util_stop_signal) {
            note_stop(b, seed, sr.end_us);
            break;
        }
        progress_show(pg, b, false);
    }
}

void explore_run_jobs(const struct explore_opts *o, int jobs,
                      struct explore_batch *b)
{
    memset(b, 0, sizeof(*b));
    b->range_start = o->start_seed;
    b->range_seeds = o->seeds;
    b->shard_count = 1;
    /* Each seed runs without recording its schedule: only the first
     * failure's is saved, after the others, below. */
    struct explore_opts run = *o;
    run.scenario_out = NULL;
    run.progress = NULL;
    if (jobs < 1 || o->trace)
        jobs = 1;
    if (jobs > MAX_JOBS)
        jobs = MAX_JOBS;
    if ((uint64_t)jobs > o->seeds)
        jobs = o->seeds ? (int)o->seeds : 1;
    double t0 = util_wall_s();
    struct progress pg = {.f = o->progress, .t0 = t0, .total = o->seeds};
    if (jobs == 1)
        run_here(&run, b, &pg);
    else
        run_forked(&run, jobs, b, &pg);
    if (pg.f)
        fprintf(pg.f, "\r\033[K");
    /* The first failure's schedule, recorded by running that seed once
     * more (it must fail the same way: r->replay_differs), shrunk with
     * o->shrink and saved. */
    struct explore_opts save = *o;
    save.trace = NULL;
    save.progress = NULL;
    explore_save_first(&save, &b->r);
    struct explore_result *r = &b->r;
    if (r->have_first && r->first_params.on)
        explore_swarm_text(&r->first_params, b->first_drew,
                           sizeof(b->first_drew));
    r->wall_s = util_wall_s() - t0;
}

int explore_history_open(const struct explore_opts *o, uint64_t seed,
                         struct util_out *out)
{
    char path[4096], err[4096 + 128];
    const char *pct = strstr(o->history, "%llu");
    if (pct)
        snprintf(path, sizeof(path), "%.*s%llu%s", (int)(pct - o->history),
                 o->history, (unsigned long long)seed, pct + 4);
    else
        snprintf(path, sizeof(path), "%s", o->history);
    memset(out, 0, sizeof(*out));
    if (util_out_open(out, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "explore: cannot write the history: %s\n", err);
        return -1;
    }
    return 0;
}

int explore_history_close(struct util_out *out)
{
    char err[4096 + 128];
    if (util_out_commit(out, err, sizeof(err)) != 0) {
        fprintf(stderr, "explore: history lost: %s\n", err);
        return -1;
    }
    return 0;
}
