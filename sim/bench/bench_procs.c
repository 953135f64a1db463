/*
 * bench_procs.c — benchmarks with one OS process per node (`raftsim
 * node`, sim/cluster/cluster_procs.c): `bench failover --processes`
 * (the crash is a real SIGKILL) and `bench rss --processes` (the memory
 * of every node process, added up).
 *
 * Failover, one trial: five node processes on loopback TCP, heartbeat
 * 50 ms (the paper's and the scenarios'; half the minimum election
 * timeout when that is shorter).  Once a leader is stable, it is killed
 * (SIGKILL) at a uniformly random point of its heartbeat interval; we
 * time (a) the kill -> another node becomes leader, and (b) the kill ->
 * a client write proposed to that new leader the moment it is seen is
 * committed.  Times are core time, which is wall time since the run's
 * start for every process alike (CLOCK_MONOTONIC): the kill is taken when
 * the runner sends it, the leader and the commit when the node that
 * did it reported the input that led there.
 */
#include "sim/bench/bench.h"
#include "sim/bench/bench_util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "raft/prng.h"
#include "sim/cluster/cluster.h"
#include "sim/util/util.h"

struct ptrial {
    uint64_t t_crash, t_leader;
    int new_leader, crashed;
};

static void phook(void *ctx, struct sim_cluster *c, const struct raft_event *ev)
{
    struct ptrial *tr = ctx;
    if (tr->t_crash && !tr->t_leader && ev->kind == RAFT_EV_ROLE &&
        ev->role == RAFT_LEADER && ev->node != tr->crashed) {
        tr->t_leader = sim_now(c);
        tr->new_leader = ev->node;
    }
}

static int ptrial_run(const struct bench_failover_opts *o, uint64_t emin,
                      uint64_t emax, unsigned kind, uint64_t seed,
                      double *leader_ms, double *commit_ms)
{
    struct sim_options so;
    bench_tcp_options(&so, 5, o->latency_us);
    so.transport = SIM_TRANSPORT_PROCS;
    so.seed = seed;
    so.election_min_us = emin;
    so.election_max_us = emax;
    /* as bench failover: the heartbeat asked for (default 50 ms), min/2
     * for a range whose minimum is not above it */
    so.heartbeat_us = o->heartbeat_us && o->heartbeat_us < emin
                          ? o->heartbeat_us
                          : emin / 2;
    so.fast_detect = o->fast_detect;
    so.prevote = o->prevote;
    so.policy = o->policy;
    struct sim_cluster *c;
    if (sim_cluster_new(&so, &c) != 0)
        return -1;
    struct ptrial tr = {0};
    sim_set_hook(c, phook, &tr);
    struct prng rng;
    prng_seed(&rng, seed);
    int rc = -1;
    int l = sim_await_leader(c, 5000000);
    if (!l || !sim_run_until(c, sim_now(c) + 2 * emax) ||
        raft_role(sim_node(c, l)) != RAFT_LEADER)
        goto out;
    uint64_t hb_at = raft_next_deadline(sim_node(c, l));
    if (!sim_run_until(c, hb_at))
        goto out;
    if (!sim_run_until(c, hb_at + prng_range(&rng, 0, so.heartbeat_us)))
        goto out;
    tr.crashed = l;
    tr.t_crash = sim_now(c);
    if (kind == BENCH_CRASH_SILENT)
        sim_crash_silent(c, l, false); /* SIGSTOP: its sockets stay open */
    else
        sim_crash(c, l, false); /* SIGKILL: the kernel closes them */
    int w = -1;
    uint64_t deadline = tr.t_crash + 10000000;
    while (sim_now(c) < deadline) {
        if (!sim_run_until(c, sim_now(c) + 500))
            goto out;
        if (tr.t_leader && w < 0)
            w = sim_client_write(c, 1, tr.new_leader, "after", "failover");
        if (w >= 0 && sim_get_write(c, w)->outcome != SIM_PENDING)
            break;
    }
    if (w >= 0 && sim_get_write(c, w)->outcome == SIM_ACKED &&
        !sim_violations(c)) {
        *leader_ms = (double)(tr.t_leader - tr.t_crash) / 1000.0;
        *commit_ms =
            (double)(sim_get_write(c, w)->done_us - tr.t_crash) / 1000.0;
        rc = 0;
    }
out:
    sim_cluster_free(c);
    return rc;
}

int bench_failover_procs(FILE *out, const struct bench_failover_opts *o)
{
    fprintf(out,
            "bench failover --processes: 5 node processes over loopback "
            "TCP, kill = SIGKILL, silent = SIGSTOP (sockets open), heartbeat "
            "%.0f ms (or min/2 if shorter), prevote %s, fast detection %s, "
            "election %s, %d trials\n",
            o->heartbeat_us ? (double)o->heartbeat_us / 1000.0 : 0.0,
            o->prevote ? "on" : "off", o->fast_detect ? "on" : "off",
            raft_policy_name(o->policy), o->trials);
    fprintf(out, "%-11s %-6s %5s %-7s %7s %7s %7s %7s\n", "range ms",
            "crash", "ok", "time", "min", "p50", "p90", "max");
    double *lead = calloc((size_t)o->trials, sizeof(double));
    double *comm = calloc((size_t)o->trials, sizeof(double));
    if (!lead || !comm) {
        free(lead);
        free(comm);
        return 1;
    }
    int all_ok = 1;
    for (int r = 0; r < o->n_ranges && !util_stop_signal; r++)
    for (unsigned kind = BENCH_CRASH_KILL; kind <= BENCH_CRASH_SILENT;
         kind <<= 1) {
        if (!(o->crash_kinds & kind))
            continue;
        uint64_t lo = o->ranges[r][0], hi = o->ranges[r][1];
        int n = 0, done = 0;
        for (int t = 0; t < o->trials && !util_stop_signal; t++) {
            double a, b;
            uint64_t seed = o->seed + (uint64_t)r * 100000 + (uint64_t)t;
            int trc = ptrial_run(o, lo, hi, kind, seed, &a, &b);
            if (util_stop_signal)
                break;
            done++;
            if (trc == 0) {
                lead[n] = a;
                comm[n] = b;
                n++;
            }
        }
        if (n == 0)
            all_ok = 0;
        bench_sort(lead, n);
        bench_sort(comm, n);
        char label[48];
        snprintf(label, sizeof(label), "%llu-%llu",
                 (unsigned long long)(lo / 1000),
                 (unsigned long long)(hi / 1000));
        for (int which = 0; which < 2; which++) {
            const double *v = which ? comm : lead;
            fprintf(out, "%-11s %-6s %2d/%-3d %-7s %7.1f %7.1f %7.1f %7.1f\n",
                    which ? "" : label,
                    which ? "" : kind == BENCH_CRASH_SILENT ? "silent" : "kill",
                    n, done,
                    which ? "commit" : "leader", bench_pct(v, n, 0),
                    bench_pct(v, n, 0.5), bench_pct(v, n, 0.9),
                    bench_pct(v, n, 1.0));
        }
        fflush(out);
    }
    free(lead);
    free(comm);
    return all_ok ? 0 : 1;
}

/* A "Name:  N kB" field of /proc/PID/FILE (pid 0: self), KiB; 0 when
 * gone or unreadable. */
static uint64_t proc_kib(int pid, const char *file, const char *field)
{
    char path[64], line[256];
    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
    else
        snprintf(path, sizeof(path), "/proc/self/%s", file);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    uint64_t kib = 0;
    size_t fl = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, field, fl)) {
            kib = strtoull(line + fl, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static uint64_t rss_of(int pid)
{
    return proc_kib(pid, "status", "VmRSS:");
}

/* Proportional set size: shared pages divided among their users, so the
 * sum over processes is what they take together. */
static uint64_t pss_of(int pid)
{
    return proc_kib(pid, "smaps_rollup", "Pss:");
}

int bench_rss_procs(FILE *out, const struct bench_rss_opts *o)
{
    int nodes = o->nodes ? o->nodes : 101;
    uint64_t hold_us = o->hold_us ? o->hold_us : 10000000;
    double scale = o->time_scale > 0 ? o->time_scale : 1.0;
    if (o->result)
        memset(o->result, 0, sizeof(*o->result));
    /* the runner holds one control socket per node; each node process
     * its own listener and 2(N-1) connections, within the default limit
     * up to about 480 nodes; raise ours soft -> hard anyway */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    uint64_t rss0 = rss_of(0);
    struct sim_options so;
    sim_options_default(&so, nodes);
    so.transport = SIM_TRANSPORT_PROCS;
    so.time_scale = scale;
    so.link.latency_us = so.link.jitter_us = 0;
    so.n_clients = 1;
    fprintf(out,
            "bench rss --processes: %d node processes over loopback TCP "
            "(%d one-way connections), time scale %g; hold %.3f s\n",
            nodes, nodes * (nodes - 1), scale, (double)hold_us / 1e6);
    fflush(out);
    double w0 = util_wall_s();
    struct sim_cluster *c;
    int rc = sim_cluster_new(&so, &c);
    if (rc != 0) {
        fprintf(out, "bench rss --processes: cannot start the node "
                     "processes (%d)\n", rc);
        return 1;
    }
    double spawn_ms = (util_wall_s() - w0) * 1000.0;
    int leader = sim_await_leader(c, (uint64_t)(60000000 / scale));
    if (!leader) {
        char why[320];
        uint64_t ne = sim_transport_errors(c, why, sizeof(why));
        fprintf(out, "bench rss --processes: no leader within 60 s (%llu "
                     "node process errors%s%s)\n",
                (unsigned long long)ne, ne ? "; the first: " : "",
                ne ? why : "");
        sim_cluster_free(c);
        return 1;
    }
    double elect_ms = (util_wall_s() - w0) * 1000.0 - spawn_ms;
    uint64_t end = sim_now(c) + (uint64_t)((double)hold_us / scale);
    bool ok = true;
    while (ok && sim_now(c) < end) {
        uint64_t next = sim_now(c) + 100000;
        ok = sim_run_until(c, next < end ? next : end);
    }
    uint64_t sum = 0, max = 0, min = UINT64_MAX, pss = 0;
    int counted = 0;
    for (int i = 1; i <= nodes; i++) {
        uint64_t k = rss_of(sim_node_pid(c, i));
        if (!k)
            continue;
        counted++;
        sum += k;
        pss += pss_of(sim_node_pid(c, i));
        if (k > max)
            max = k;
        if (k < min)
            min = k;
    }
    uint64_t runner = rss_of(0);
    int ids[RAFT_MAX_NODES];
    int n_leaders = sim_leaders(c, ids);
    uint64_t violations = sim_violations(c);
    char terr[320];
    uint64_t te = sim_transport_errors(c, terr, sizeof(terr));
    fprintf(out, "  started %d processes in %.0f ms; leader n%d after %.0f "
                 "ms more; leaders at the end: %d\n",
            nodes, spawn_ms, leader, elect_ms, n_leaders);
    fprintf(out, "  RSS: %d node processes %.1f MiB in all (per node: min "
                 "%.1f, mean %.1f, max %.1f MiB; shared library pages are "
                 "counted in each), runner %.1f MiB (%.1f before; it holds "
                 "a shadow of every node)\n",
            counted, sum / 1024.0, counted ? min / 1024.0 : 0.0,
            counted ? sum / 1024.0 / counted : 0.0, max / 1024.0,
            runner / 1024.0, rss0 / 1024.0);
    fprintf(out, "  total: %.1f MiB RSS; %.1f MiB PSS (shared pages "
                 "divided among the processes that map them)\n",
            (sum + runner) / 1024.0, (pss + pss_of(0)) / 1024.0);
    fprintf(out, "  checker: %llu violations; node process errors: %llu%s%s\n",
            (unsigned long long)violations, (unsigned long long)te,
            te ? ": " : "", te ? terr : "");
    if (o->result) {
        o->result->rss_kib = sum + runner;
        o->result->peak_rss_kib = sum + runner;
        o->result->violations = violations;
    }
    sim_cluster_free(c);
    return violations || te || counted != nodes ? 1 : 0;
}
