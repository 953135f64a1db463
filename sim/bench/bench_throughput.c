/*
 * bench_throughput.c — two figures of a cluster on loopback TCP:
 * committed writes per second (`raftsim bench throughput`) and the memory
 * a large cluster holding a stable leader needs (`raftsim bench rss`).
 *
 * Throughput: one client keeps a bounded number of writes outstanding
 * (pipelining from the client's side); the leader batches entries into
 * each AppendEntries (raft_config.max_batch) and pipelines appends to each
 * follower (max_inflight), so the figure is what the core's replication
 * does over real sockets, in one thread, with the checker on.  A write
 * counts once the leader acknowledges it in quorum mode, i.e. committed;
 * its latency runs from sim_client_write to that acknowledgement.
 *
 * RSS: n nodes, every node dialling every other (connections are one-way,
 * net/tcp.h), so n*(n-1) connections with both ends in this process.  No
 * client writes: what is measured is the cost of being a cluster.
 *
 * Both benchmarks are bounded in wall time whatever the cluster does: the
 * wait for a leader, the run and the drain each have a deadline.
 *
 * Not here: the virtual-time speed figures (bench.c), failover (bench_
 * failover.c).
 */
#include "sim/bench/bench.h"
#include "sim/bench/bench_util.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sim/cluster/cluster.h"
#include "sim/util/util.h"

#define LEADER_WAIT_US 10000000 /* wall time to elect the first leader */
/* A hundred nodes dial their 9900 connections lazily, on first send, and
 * the first campaigns saturate one thread with syscalls: the first
 * election has taken 5 to 9 s of wall time here. */
#define RSS_LEADER_WAIT_US 30000000
#define DRAIN_US 2000000        /* after the run, for outstanding writes */
#define STEP_US 200             /* client refill granularity */
#define FD_MARGIN 64            /* stdio, the loop's own descriptors, ... */

static int ensure_fds(FILE *out, const char *what, int n);
static uint64_t rss_now_kib(void);
static uint64_t rss_peak_kib(void);
static double cpu_s(void);

/* ------------------------------------------------------------------ */
/* Throughput */

struct tp_run {
    uint64_t t_end;  /* end of the measuring window, cluster clock */
    int outstanding; /* writes sent, no outcome yet */
    uint64_t acked_in_window, acked_late, unknown, refused;
    uint32_t *lat_us; /* one per write acked in the window */
    size_t n_lat, cap_lat;
};

static void tp_write_hook(void *ctx, struct sim_cluster *c, int widx)
{
    struct tp_run *t = ctx;
    const struct sim_write *w = sim_get_write(c, widx);
    if (w->outcome == SIM_PENDING)
        return; /* just sent */
    assert(t->outstanding > 0);
    t->outstanding--;
    switch (w->outcome) {
    case SIM_ACKED:
        if (w->done_us > t->t_end) {
            t->acked_late++;
            break;
        }
        t->acked_in_window++;
        if (t->n_lat == t->cap_lat) {
            size_t cap = t->cap_lat ? t->cap_lat * 2 : 4096;
            uint32_t *p = realloc(t->lat_us, cap * sizeof(*p));
            if (!p)
                break; /* the count stays right; percentiles lose one */
            t->lat_us = p;
            t->cap_lat = cap;
        }
        uint64_t us = w->done_us - w->submit_us;
        t->lat_us[t->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
        break;
    case SIM_UNKNOWN:
        t->unknown++;
        break;
    case SIM_REFUSED:
        t->refused++;
        break;
    default:
        break;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank, in ms; NAN without samples. */
static double pct_ms(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    double r = ceil(p * (double)n) - 1;
    size_t i = r < 0 ? 0 : (size_t)r;
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1000.0;
}

int bench_throughput(FILE *out, const struct bench_throughput_opts *o)
{
    int nodes = o->nodes ? o->nodes : 3;
    uint64_t duration_us = o->duration_us ? o->duration_us : 5000000;
    int inflight = o->inflight ? o->inflight : 256;
    if (o->result)
        memset(o->result, 0, sizeof(*o->result));
    if (ensure_fds(out, "bench throughput", nodes) != 0)
        return 1;
    uint64_t rss_start = rss_now_kib();

    struct sim_options so;
    bench_tcp_options(&so, nodes, 0); /* loopback supplies the latency */
    so.ack_mode = RAFT_ACK_QUORUM;
    so.snap_entries = o->snapshot_every;
    /* only the hook reads the records, once per outcome: keep none of
     * the settled ones (sim_options.forget_settled_writes) */
    so.forget_settled_writes = true;
    struct sim_cluster *c;
    int rc = sim_cluster_new(&so, &c);
    if (rc != 0) {
        fprintf(out, "bench throughput: cannot set up the TCP cluster (%d)\n",
                rc);
        return 1;
    }
    const struct raft_config *cfg = raft_config(sim_node(c, 1));
    fprintf(out,
            "bench throughput: %d nodes over loopback TCP, quorum ack, "
            "heartbeat %llu ms, election %llu-%llu ms, checker on\n",
            nodes, (unsigned long long)(so.heartbeat_us / 1000),
            (unsigned long long)(so.election_min_us / 1000),
            (unsigned long long)(so.election_max_us / 1000));
    fprintf(out,
            "  duration %.3f s, %d writes in flight; batching: <= %u entries "
            "per append, <= %u appends in flight per follower\n",
            (double)duration_us / 1e6, inflight, (unsigned)cfg->max_batch,
            (unsigned)cfg->max_inflight);
    if (o->snapshot_every)
        fprintf(out, "  snapshots: every node every %llu applied entries "
                     "(log compaction)\n",
                (unsigned long long)o->snapshot_every);
    else
        fprintf(out, "  snapshots: none (the logs grow; --snapshot-every K "
                     "compacts them)\n");

    double w0 = util_wall_s();
    int leader = sim_await_leader(c, LEADER_WAIT_US);
    if (!leader) {
        if (util_stop_signal) { /* Ctrl-C before a leader: nothing measured */
            sim_cluster_free(c);
            return 1;
        }
        fprintf(out, "bench throughput: no leader within %.0f s (%s)\n",
                LEADER_WAIT_US / 1e6,
                sim_violations(c) ? "checker stopped the run" : "timeout");
        sim_cluster_free(c);
        return 1;
    }
    fprintf(out, "  leader: node %d after %.1f ms\n", leader,
            (util_wall_s() - w0) * 1000.0);

    struct tp_run t = {0};
    uint64_t rss_lead = rss_now_kib();
    uint64_t t_start = sim_now(c);
    t.t_end = t_start + duration_us;
    uint64_t sent0 = sim_stats(c)->messages_sent;
    uint64_t elections0 = sim_stats(c)->elections;
    sim_set_write_hook(c, tp_write_hook, &t);
    uint64_t k = 0;
    bool ok = true;
    double wall_start = util_wall_s();
    /* RSS: at the start, after a warm-up of a tenth of the window (at
     * most 5 s), its peak after that (sampled every 100 ms of the run)
     * and at the end */
    uint64_t rss_warm = 0, rss_max = 0;
    uint64_t warm_at = t_start + (duration_us / 10 < 5000000
                                      ? duration_us / 10
                                      : 5000000);
    uint64_t next_sample = warm_at;
    while (ok && sim_now(c) < t.t_end) {
        if (sim_now(c) >= next_sample) {
            uint64_t r = rss_now_kib();
            if (!rss_warm)
                rss_warm = r;
            if (r > rss_max)
                rss_max = r;
            next_sample = sim_now(c) + 100000;
        }
        while (t.outstanding < inflight) {
            char key[16], val[24];
            snprintf(key, sizeof(key), "k%llu", (unsigned long long)(k % 1024));
            snprintf(val, sizeof(val), "v%llu", (unsigned long long)k);
            k++;
            sim_client_write(c, 1, 0, key, val);
            t.outstanding++;
        }
        uint64_t next = sim_now(c) + STEP_US;
        ok = sim_run_until(c, next < t.t_end ? next : t.t_end);
    }
    double wall_s = util_wall_s() - wall_start;
    uint64_t rss_window = rss_now_kib();
    uint64_t window_us = sim_now(c) - t_start;
    uint64_t sent = sim_stats(c)->messages_sent - sent0;
    uint64_t elections = sim_stats(c)->elections - elections0;
    /* Let what is outstanding finish, so that the final check sees the
     * writes the cluster acknowledged; bounded, as everything here. */
    uint64_t drain_end = sim_now(c) + DRAIN_US;
    while (ok && t.outstanding > 0 && sim_now(c) < drain_end)
        ok = sim_run_until(c, sim_now(c) + 1000);
    sim_finish(c);

    qsort(t.lat_us, t.n_lat, sizeof(*t.lat_us), cmp_u32);
    double secs = (double)window_us / 1e6;
    double rate = secs > 0 ? (double)t.acked_in_window / secs : 0;
    double p50 = pct_ms(t.lat_us, t.n_lat, 0.50);
    double p99 = pct_ms(t.lat_us, t.n_lat, 0.99);
    double p999 = pct_ms(t.lat_us, t.n_lat, 0.999);
    double pmax = pct_ms(t.lat_us, t.n_lat, 1.0);
    uint64_t rss_end = rss_now_kib(), rss_peak = rss_peak_kib();
    /* what the window's writes cost in memory: without snapshots the
     * in-memory WALs and the checker's shadow logs and (lsn, term) table
     * (the uncompacted log); with them about 4 bytes, the latency sample
     * kept per write for the percentiles.  The client records of settled
     * writes are dropped (forget_settled_writes): at most the writes of
     * one client timeout are held. */
    double per_write = k && rss_window > rss_lead
                           ? (double)(rss_window - rss_lead) * 1024.0 /
                                 (double)k
                           : 0;
    uint64_t violations = sim_violations(c);
    uint64_t lost = sim_stats(c)->acked_lost;
    fprintf(out, "  committed writes: %llu in %.3f s (%.3f s wall); sent "
                 "%llu, unknown %llu, refused %llu, acked after the window "
                 "%llu, still pending %d\n",
            (unsigned long long)t.acked_in_window, secs, wall_s,
            (unsigned long long)k, (unsigned long long)t.unknown,
            (unsigned long long)t.refused, (unsigned long long)t.acked_late,
            t.outstanding);
    fprintf(out, "  writes/s: %.0f\n", rate);
    fprintf(out, "  commit latency: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, "
                 "max %.3f ms\n",
            p50, p99, p999, pmax);
    fprintf(out, "  messages sent: %llu (%.2f per committed write); "
                 "elections during the run: %llu\n",
            (unsigned long long)sent,
            t.acked_in_window ? (double)sent / (double)t.acked_in_window : 0,
            (unsigned long long)elections);
    if (rss_end > rss_max)
        rss_max = rss_end;
    if (!rss_warm)
        rss_warm = rss_end;
    fprintf(out, "  RSS: start %.1f MiB, leader elected %.1f MiB, after "
                 "warm-up %.1f MiB, peak after it %.1f MiB (x%.2f), end of "
                 "the window %.1f MiB, end %.1f MiB, process peak %.1f MiB; "
                 "%.0f bytes per write sent (WALs, checker, latency samples)\n",
            rss_start / 1024.0, rss_lead / 1024.0, rss_warm / 1024.0,
            rss_max / 1024.0,
            rss_warm ? (double)rss_max / (double)rss_warm : 0.0,
            rss_window / 1024.0, rss_end / 1024.0, rss_peak / 1024.0,
            per_write);
    fprintf(out, "  checker: %llu violations, %llu acknowledged writes lost\n",
            (unsigned long long)violations, (unsigned long long)lost);
    if (violations && sim_violation(c))
        fprintf(out, "  first violation: %s: %s\n", sim_violation(c)->invariant,
                sim_violation(c)->detail);
    if (o->result) {
        struct bench_throughput_result *r = o->result;
        r->committed = t.acked_in_window;
        r->writes_per_s = rate;
        r->p50_ms = p50;
        r->p99_ms = p99;
        r->p999_ms = p999;
        r->max_ms = pmax;
        r->rss_start_kib = rss_start;
        r->rss_peak_kib = rss_peak;
        r->rss_end_kib = rss_end;
        r->bytes_per_write = per_write;
        r->messages_sent = sent;
        r->violations = violations;
        r->acked_lost = lost;
    }
    free(t.lat_us);
    sim_cluster_free(c);
    if (!t.acked_in_window)
        fprintf(out, "bench throughput: no write committed\n");
    return violations || lost || !t.acked_in_window ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* RSS */

struct rss_run {
    bool holding;
    uint64_t elections, campaigns; /* during the hold */
};

static void rss_hook(void *ctx, struct sim_cluster *c,
                     const struct raft_event *ev)
{
    struct rss_run *r = ctx;
    (void)c;
    if (!r->holding || ev->kind != RAFT_EV_ROLE)
        return;
    if (ev->role == RAFT_LEADER)
        r->elections++;
    else if (ev->role == RAFT_PRECANDIDATE || ev->role == RAFT_CANDIDATE)
        r->campaigns++;
}

static uint64_t max_term(const struct sim_cluster *c)
{
    uint64_t t = 0;
    for (int i = 1; i <= sim_n_nodes(c); i++)
        if (raft_term(sim_node(c, i)) > t)
            t = raft_term(sim_node(c, i));
    return t;
}

int bench_rss(FILE *out, const struct bench_rss_opts *o)
{
    int nodes = o->nodes ? o->nodes : 101;
    uint64_t hold_us = o->hold_us ? o->hold_us : 10000000;
    double scale = o->time_scale > 0 ? o->time_scale : 1.0;
    if (o->result)
        memset(o->result, 0, sizeof(*o->result));
    if (ensure_fds(out, "bench rss", nodes) != 0)
        return 1;
    uint64_t rss0 = rss_now_kib();

    struct sim_options so;
    sim_options_default(&so, nodes);
    so.transport = SIM_TRANSPORT_TCP;
    so.time_scale = scale;
    so.link.latency_us = 0;
    so.link.jitter_us = 0;
    so.n_clients = 1;
    fprintf(out,
            "bench rss: %d nodes over loopback TCP (%d one-way connections), "
            "time scale %g: heartbeat %.0f ms, election %.0f-%.0f ms of wall "
            "time; hold %.3f s\n",
            nodes, nodes * (nodes - 1), scale,
            (double)so.heartbeat_us * scale / 1000.0,
            (double)so.election_min_us * scale / 1000.0,
            (double)so.election_max_us * scale / 1000.0,
            (double)hold_us / 1e6);
    fflush(out);
    struct sim_cluster *c;
    int rc = sim_cluster_new(&so, &c);
    if (rc != 0) {
        fprintf(out, "bench rss: cannot set up the TCP cluster (%d)\n", rc);
        return 1;
    }
    struct rss_run run = {0};
    sim_set_hook(c, rss_hook, &run);

    double w0 = util_wall_s();
    int leader = sim_await_leader(c, (uint64_t)(RSS_LEADER_WAIT_US / scale));
    if (!leader) {
        if (util_stop_signal) { /* Ctrl-C before a leader: nothing measured */
            sim_cluster_free(c);
            return 1;
        }
        fprintf(out, "bench rss: no leader within %.0f s of wall time (%s)\n",
                RSS_LEADER_WAIT_US / 1e6,
                sim_violations(c) ? "checker stopped the run" : "timeout");
        sim_cluster_free(c);
        return 1;
    }
    double elect_ms = (util_wall_s() - w0) * 1000.0;
    uint64_t term0 = max_term(c);
    uint64_t sent0 = sim_stats(c)->messages_sent;
    run.holding = true;
    double cpu0 = cpu_s(), wh0 = util_wall_s();
    /* The cluster's clock runs at wall time / scale. */
    uint64_t end = sim_now(c) + (uint64_t)((double)hold_us / scale);
    bool ok = true;
    while (ok && sim_now(c) < end) {
        uint64_t next = sim_now(c) + 100000;
        ok = sim_run_until(c, next < end ? next : end);
    }
    double hold_wall = util_wall_s() - wh0, hold_cpu = cpu_s() - cpu0;
    uint64_t rss = rss_now_kib(), peak = rss_peak_kib();
    int ids[RAFT_MAX_NODES];
    int n_leaders = sim_leaders(c, ids);
    uint64_t term1 = max_term(c);
    uint64_t sent = sim_stats(c)->messages_sent - sent0;
    uint64_t violations = sim_violations(c);

    fprintf(out, "  leader: node %d after %.1f ms of wall time (term %llu, "
                 "%llu messages sent before)\n",
            leader, elect_ms, (unsigned long long)term0,
            (unsigned long long)sent0);
    fprintf(out, "  hold: %.3f s wall, %.3f s CPU; elections during the hold: "
                 "%llu, campaigns (pre-candidate/candidate): %llu\n",
            hold_wall, hold_cpu, (unsigned long long)run.elections,
            (unsigned long long)run.campaigns);
    fprintf(out, "  term at start %llu, at end %llu; leader at end: ",
            (unsigned long long)term0, (unsigned long long)term1);
    if (n_leaders == 1)
        fprintf(out, "node %d%s\n", ids[0],
                ids[0] == leader ? " (same)" : " (changed)");
    else
        fprintf(out, "%d leaders\n", n_leaders);
    fprintf(out, "  messages sent during the hold: %llu (%.0f/s)\n",
            (unsigned long long)sent,
            hold_wall > 0 ? (double)sent / hold_wall : 0);
    fprintf(out, "  RSS: peak %.1f MiB (getrusage ru_maxrss), now %.1f MiB "
                 "(/proc/self/statm), before the cluster %.1f MiB; per node "
                 "%.1f KiB\n",
            peak / 1024.0, rss / 1024.0, rss0 / 1024.0,
            rss > rss0 ? (double)(rss - rss0) / nodes : 0.0);
    fprintf(out, "  checker: %llu violations\n", (unsigned long long)violations);
    if (violations && sim_violation(c))
        fprintf(out, "  first violation: %s: %s\n", sim_violation(c)->invariant,
                sim_violation(c)->detail);
    if (o->result) {
        struct bench_rss_result *r = o->result;
        r->elections_during_hold = run.elections;
        r->term_start = term0;
        r->term_end = term1;
        r->peak_rss_kib = peak;
        r->rss_kib = rss;
        r->violations = violations;
    }
    sim_cluster_free(c);
    return violations ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Helpers */


/* Every one-way connection has both ends in this process, and every node
 * a listener.  Raise the soft limit as far as needed (the hard limit too,
 * which only a privileged process may); say so when it cannot be done. */
static int ensure_fds(FILE *out, const char *what, int n)
{
    uint64_t need = 2 * (uint64_t)n * (uint64_t)(n - 1) + (uint64_t)n +
                    FD_MARGIN;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(out, "%s: cannot read the file descriptor limit\n", what);
        return -1;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    uint64_t hard = rl.rlim_max;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return 0;
    } else {
        struct rlimit up = {need, need};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
            fprintf(out, "  raised the file descriptor limit to %llu (hard "
                         "limit was %llu)\n",
                    (unsigned long long)need, (unsigned long long)hard);
            return 0;
        }
    }
    int fit = n;
    while (fit > 1 && 2 * (uint64_t)fit * (uint64_t)(fit - 1) +
                              (uint64_t)fit + FD_MARGIN > hard)
        fit--;
    fprintf(out,
            "%s: %d nodes over TCP need about %llu file descriptors (%d "
            "one-way connections with both ends in this process, %d "
            "listeners); the limit is %llu (hard %llu) and could not be "
            "raised.  Raise it (the hard limit needs CAP_SYS_RESOURCE: "
            "ulimit -Hn %llu; ulimit -n %llu) "
            "or use --nodes %d or fewer%s.\n",
            what, n, (unsigned long long)need, n * (n - 1), n,
            (unsigned long long)rl.rlim_cur, (unsigned long long)hard,
            (unsigned long long)need, (unsigned long long)need, fit,
            strcmp(what, "bench rss") == 0
                ? ", or --processes (one process per node, each holding "
                  "about 2N descriptors)"
                : "");
    return -1;
}

/* Resident set now, from /proc/self/statm (0 where there is none). */
static uint64_t rss_now_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, res = 0;
    int k = fscanf(f, "%llu %llu", &size, &res);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (k != 2 || page <= 0)
        return 0;
    return res * (unsigned long long)page / 1024;
}

/* Peak resident set of the process so far (Linux: ru_maxrss in KiB).
 * The kernel folds the current figure into the high-water mark lazily,
 * so a fresh statm reading can exceed it; the peak is the larger. */
static uint64_t rss_peak_kib(void)
{
    struct rusage ru;
    uint64_t now = rss_now_kib();
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return now;
    uint64_t peak = (uint64_t)ru.ru_maxrss;
    return peak > now ? peak : now;
}

static double cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
