/*
 * bench_procs.c — benchmarks with one OS process per node (`raftsim
 * node`, sim/cluster/cluster_procs.c): `bench rss --processes` (the
 * memory of every node process, added up).  `bench failover --processes`
 * is bench_failover.c's trial with the processes transport.
 */
#include "sim/bench/bench.h"
#include "sim/bench/bench_util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "raft/prng.h"
#include "sim/cluster/cluster.h"
#include "sim/util/util.h"

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
