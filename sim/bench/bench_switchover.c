/*
 * bench_switchover.c — a planned switchover over real TCP: leadership
 * transfer (Ongaro's thesis §3.10, etcd's TimeoutNow), timed from the
 * request to the new leader's first committed write.
 *
 * One cluster on loopback TCP serves every trial, as a switchover is done
 * on a running cluster.  A trial: let the leader settle for two heartbeat
 * intervals (every follower matched), pick another node at random, ask
 * the leader to transfer to it (sim_transfer), and time (a) request ->
 * the target becomes leader and (b) request -> a client write sent to it
 * the moment it leads is acknowledged (quorum ack: committed).  A
 * transfer abandoned after its election timeout, or another node winning,
 * is a trial that is not ok.  Then the next trial starts from the new
 * leader.  The write is sent from a 200 us polling loop, so (b) includes
 * up to 0.2 ms of it; the client sits inside the process (no latency).
 */
#include "sim/bench/bench.h"
#include "sim/bench/bench_util.h"

#include <stdlib.h>
#include <string.h>

#include "raft/prng.h"
#include "sim/cluster/cluster.h"
#include "sim/util/util.h"

struct trial {
    int from, target;
    uint64_t t0, t_leader, t_sent; /* t_sent: TimeoutNow went out */
    bool abandoned, other; /* the transfer timed out / someone else won */
};

static void hook(void *ctx, struct sim_cluster *c, const struct raft_event *ev)
{
    struct trial *tr = ctx;
    if (!tr->t0 || tr->t_leader)
        return;
    if (ev->kind == RAFT_EV_ROLE && ev->role == RAFT_LEADER) {
        if (ev->node == tr->target)
            tr->t_leader = sim_now(c);
        else
            tr->other = true;
    }
    if (ev->kind == RAFT_EV_TRANSFER && ev->node == tr->from &&
        ev->reason == RAFT_R_TRANSFER_TIMEOUT)
        tr->abandoned = true;
    if (ev->kind == RAFT_EV_TRANSFER && ev->node == tr->from &&
        ev->reason == RAFT_R_TIMEOUT_NOW && !tr->t_sent)
        tr->t_sent = sim_now(c);
}

static int leader_of(struct sim_cluster *c)
{
    int ids[RAFT_MAX_NODES];
    return sim_leaders(c, ids) == 1 ? ids[0] : 0;
}

/* One trial from leader l; 0 with both times in ms, -1 not ok, -2 the
 * cluster stopped (a violation). */
static int run_trial(struct sim_cluster *c, struct trial *tr, int l,
                     int target, double *leader_ms, double *commit_ms)
{
    memset(tr, 0, sizeof(*tr));
    tr->from = l;
    tr->target = target;
    tr->t0 = sim_now(c);
    if (sim_transfer(c, l, target) != RAFT_OK)
        return -1;
    int w = -1;
    uint64_t deadline = tr->t0 + 2000000; /* 2 s: far past the abandon */
    while (sim_now(c) < deadline && !util_stop_signal) {
        if (!sim_run_until(c, sim_now(c) + 200))
            return -2;
        if (tr->abandoned || tr->other)
            return -1;
        if (tr->t_leader && w < 0)
            w = sim_client_write(c, 1, target, "switch", "over");
        if (w >= 0 && sim_get_write(c, w)->outcome != SIM_PENDING)
            break;
    }
    if (w < 0 || sim_get_write(c, w)->outcome != SIM_ACKED)
        return -1;
    *leader_ms = (double)(tr->t_leader - tr->t0) / 1000.0;
    *commit_ms = (double)(sim_get_write(c, w)->done_us - tr->t0) / 1000.0;
    return 0;
}

int bench_switchover(FILE *out, const struct bench_switchover_opts *o)
{
    struct sim_options so;
    bench_tcp_options(&so, o->nodes, o->latency_us);
    so.seed = o->seed;
    so.election_min_us = o->election_min_us;
    so.election_max_us = o->election_max_us;
    so.heartbeat_us = o->heartbeat_us;
    fprintf(out,
            "bench switchover: %d nodes over loopback TCP, heartbeat %llu ms, "
            "election %llu-%llu ms, one-way latency %llu us, %d trials\n",
            o->nodes, (unsigned long long)(o->heartbeat_us / 1000),
            (unsigned long long)(o->election_min_us / 1000),
            (unsigned long long)(o->election_max_us / 1000),
            (unsigned long long)o->latency_us, o->trials);
    char err[256];
    if (sim_wire_check_fds(o->nodes, err, sizeof(err)) != 0) {
        fprintf(out, "bench switchover: %s\n", err);
        return 1;
    }
    struct sim_cluster *c;
    int rc = sim_cluster_new(&so, &c);
    if (rc != 0) {
        fprintf(out, "bench switchover: cannot start the cluster (%d)\n", rc);
        return 1;
    }
    double *lead = calloc((size_t)o->trials, sizeof(double));
    double *comm = calloc((size_t)o->trials, sizeof(double));
    struct trial tr = {0};
    sim_set_hook(c, hook, &tr);
    struct prng rng;
    prng_seed(&rng, o->seed);
    int n = 0, done = 0, ret = 0, at_once = 0;
    int l = sim_await_leader(c, 5000000);
    if (!lead || !comm || !l) {
        fprintf(out, "bench switchover: %s\n",
                l ? "out of memory" : "no leader within 5 s");
        ret = 1;
        goto out;
    }
    for (int t = 0; t < o->trials && !util_stop_signal; t++) {
        /* settle: two heartbeats, so every follower has matched */
        if (!sim_run_until(c, sim_now(c) + 2 * so.heartbeat_us))
            break;
        l = leader_of(c);
        if (!l) {
            l = sim_await_leader(c, 5000000);
            if (!l)
                break;
            continue;
        }
        int target = (int)prng_range(&rng, 1, (uint64_t)o->nodes - 1);
        if (target >= l)
            target++;
        double a, b;
        int trc = run_trial(c, &tr, l, target, &a, &b);
        if (util_stop_signal)
            break; /* cut short: neither a failure nor a time */
        if (trc == -2)
            break;
        done++;
        if (trc == 0) {
            at_once += tr.t_sent == tr.t0;
            lead[n] = a;
            comm[n] = b;
            n++;
        }
    }
    bench_sort(lead, n);
    bench_sort(comm, n);
    fprintf(out, "%-36s %7s %7s %7s %7s %7s %7s\n", "ms", "ok", "min", "p50",
            "p90", "p99", "max");
    for (int which = 0; which < 2; which++) {
        const double *v = which ? comm : lead;
        char ok[24];
        snprintf(ok, sizeof(ok), "%d/%d", n, done);
        fprintf(out, "%-36s %7s %7.1f %7.1f %7.1f %7.1f %7.1f\n",
                which ? "request -> first write committed"
                      : "request -> target leads",
                ok, bench_pct(v, n, 0), bench_pct(v, n, 0.5),
                bench_pct(v, n, 0.9), bench_pct(v, n, 0.99),
                bench_pct(v, n, 1.0));
    }
    fprintf(out, "TimeoutNow at the request in %d of %d ok trials (the "
                 "others caught the target up first)\n",
            at_once, n);
    fprintf(out, "checker: %llu violations; elections %llu\n",
            (unsigned long long)sim_violations(c),
            (unsigned long long)sim_stats(c)->elections);
    if (sim_violations(c) || (done && n == 0))
        ret = 1;
out:
    sim_cluster_free(c);
    free(lead);
    free(comm);
    return ret;
}
