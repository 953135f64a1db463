/*
 * bench_failover.c — failover time over real TCP, measured the way the
 * Raft paper's Figure 16 did (Ongaro & Ousterhout 2014, §9.3).
 *
 * One trial: five nodes on loopback TCP, heartbeat 50 ms (--heartbeat;
 * half the minimum election timeout where that is not above it, and
 * always with --heartbeat half, as the paper).  The first leader is
 * campaigned, not left to the first election (bench_first_leader: at a
 * fixed timeout that election seldom ends).  Once it is stable, two
 * followers are cut off from it for one heartbeat interval while it
 * commits three writes, so their logs are shorter and they cannot win
 * (the paper's "logs of different lengths").  Right after a heartbeat
 * broadcast the leader is crashed at a uniformly random point of its
 * heartbeat interval.  We time (a) crash -> some node becomes leader,
 * and (b) crash -> a client write proposed to that new leader the moment
 * it appears is acknowledged (quorum ack: committed).  Both are
 * wall-clock milliseconds.
 *
 * --processes runs each node as its own `raftsim node` process
 * (sim/cluster/cluster_procs.c): kill is then a real SIGKILL and silent a
 * SIGSTOP; times are core time, wall time since the run's start for every
 * process alike (CLOCK_MONOTONIC).
 *
 * Two crashes (--crash): kill, the process dies and the kernel closes its
 * sockets at once (in process: the node's transport is closed), so with
 * fast detection its followers pre-vote within milliseconds; silent, the
 * node stops reading, writing and ticking but keeps its sockets open
 * (power loss, a hung machine), so they wait out an election timeout.
 *
 * Known differences from the paper's set-up: our timers have libuv's
 * 1 ms resolution; the two lagging followers last heard the leader one
 * heartbeat earlier than the others, so their timers run slightly ahead
 * (they still cannot win); and "a write committed" includes one client
 * round trip inside the process (no network).
 */
#include "sim/bench/bench.h"
#include "sim/bench/bench_util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "raft/prng.h"
#include "sim/cluster/cluster.h"
#include "sim/util/util.h"

struct trial {
    uint64_t t_crash, t_leader;
    int new_leader;
    int crashed;
};

static void hook(void *ctx, struct sim_cluster *c, const struct raft_event *ev)
{
    struct trial *tr = ctx;
    (void)c;
    if (tr->t_crash && !tr->t_leader && ev->kind == RAFT_EV_ROLE &&
        ev->role == RAFT_LEADER && ev->node != tr->crashed) {
        tr->t_leader = sim_now(c);
        tr->new_leader = ev->node;
    }
}


static uint64_t heartbeat_for(const struct bench_failover_opts *o,
                              uint64_t emin)
{
    return o->heartbeat_us && o->heartbeat_us < emin ? o->heartbeat_us
                                                     : emin / 2;
}

/* One trial; returns 0 and fills the two times in ms, -1 when no leader
 * was elected within 10 s of the crash (or its write did not commit), or
 * SETUP_FAILED when the cluster had no first leader to crash: that is no
 * failover at all, and is counted apart. */
enum { SETUP_FAILED = -2 };

static int run_trial(const struct bench_failover_opts *o, uint64_t emin,
                     uint64_t emax, unsigned kind, uint64_t seed,
                     double *leader_ms, double *commit_ms)
{
    struct sim_options so;
    bench_tcp_options(&so, 5, o->latency_us);
    if (o->processes) /* one `raftsim node` process each, kill = SIGKILL */
        so.transport = SIM_TRANSPORT_PROCS;
    so.seed = seed;
    so.election_min_us = emin;
    so.election_max_us = emax;
    so.heartbeat_us = heartbeat_for(o, emin);
    so.prevote = o->prevote;
    so.fast_detect = o->fast_detect;
    so.policy = o->policy;
    struct sim_cluster *c;
    if (sim_cluster_new(&so, &c) != 0)
        return -1;
    struct trial tr = {0};
    sim_set_hook(c, hook, &tr);
    struct prng rng;
    prng_seed(&rng, seed);
    int rc = SETUP_FAILED;
    /* Not left to the first election: with min = max it is itself the
     * paper's no-randomness livelock (bench_util.h). */
    int l = bench_first_leader(c, seed, emin, 5000000);
    /* let it settle: every follower has heard a heartbeat */
    if (!l || !sim_run_until(c, sim_now(c) + 2 * emax) ||
        raft_role(sim_node(c, l)) != RAFT_LEADER)
        goto out;
    /* Shorter logs for two followers. */
    int lag[2], k = 0;
    for (int i = 1; i <= 5 && k < 2; i++)
        if (i != l)
            lag[k++] = i;
    sim_run_until(c, raft_next_deadline(sim_node(c, l))); /* heartbeat */
    sim_cut(c, l, lag[0]);
    sim_cut(c, l, lag[1]);
    for (int i = 0; i < 3; i++)
        sim_client_write(c, 1, l, "k", "v");
    /* crash just after the next heartbeat, at a random point of it */
    uint64_t hb_at = raft_next_deadline(sim_node(c, l));
    if (!sim_run_until(c, hb_at))
        goto out;
    uint64_t crash_at = hb_at + prng_range(&rng, 0, so.heartbeat_us);
    if (!sim_run_until(c, crash_at))
        goto out;
    rc = -1; /* from here on, a failure is the failover's */
    tr.crashed = l;
    tr.t_crash = sim_now(c);
    if (kind == BENCH_CRASH_SILENT)
        sim_crash_silent(c, l, false);
    else
        sim_crash(c, l, false);
    sim_heal(c);
    int w = -1;
    uint64_t deadline = tr.t_crash + 10000000; /* 10 s: "no leader" */
    while (sim_now(c) < deadline) {
        if (!sim_run_until(c, sim_now(c) + 500))
            goto out;
        if (tr.t_leader && w < 0)
            w = sim_client_write(c, 1, tr.new_leader, "after", "failover");
        if (w >= 0 && sim_get_write(c, w)->outcome != SIM_PENDING)
            break;
    }
    if (w >= 0 && sim_get_write(c, w)->outcome == SIM_ACKED) {
        *leader_ms = (double)(tr.t_leader - tr.t_crash) / 1000.0;
        *commit_ms = (double)(sim_get_write(c, w)->done_us - tr.t_crash) /
                     1000.0;
        rc = 0;
    }
out:
    sim_cluster_free(c);
    return rc;
}

/* The paper's figures for this range, where it gives any. */
static const char *paper(uint64_t lo, uint64_t hi)
{
    if (lo == 150000 && hi == 150000)
        return "paper: no randomness, > 10 s (split votes)";
    if (lo == 150000 && hi == 155000)
        return "paper: median 287 ms";
    if (lo == 150000 && hi == 200000)
        return "paper: worst of 1000 = 513 ms";
    if (lo == 12000 && hi == 24000)
        return "paper: mean 35 ms, worst 152 ms";
    return "";
}

/* A fixed range (min = max) is the paper's "no randomness" case: say
 * what the rows above mean (README, Performance, bench failover). */
static void fixed_note(FILE *out, const struct bench_failover_opts *o)
{
    static const char *const with[] = {
        "no randomness: the first leader is campaigned (a fresh cluster's "
        "first",
        "election seldom ends: all time out together); after the crash only "
        "the",
        "two up-to-date followers can pass a pre-vote, and a split needs the "
        "two",
        "with shorter logs to vote apart"};
    static const char *const without[] = {
        "no randomness: the first leader is campaigned (a fresh cluster's "
        "first",
        "election seldom ends: all time out together); without PreVote the",
        "followers with shorter logs stand too, and each term they raise "
        "restarts",
        "every timer at once: the paper's split votes"};
    const char *const *l = o->prevote ? with : without;
    for (int i = 0; i < 4; i++)
        fprintf(out, "%-18s %s\n", "", l[i]);
}

static const char *kind_name(unsigned kind)
{
    return kind == BENCH_CRASH_SILENT ? "silent" : "kill";
}

int bench_failover(FILE *out, const struct bench_failover_opts *o)
{
    FILE *csv = NULL;
    struct util_out csv_out = {0};
    char err[PATH_MAX + 128];
    if (o->csv_path) {
        if (util_out_open(&csv_out, o->csv_path, err, sizeof(err)) != 0) {
            fprintf(stderr, "bench failover: %s\n", err);
            return 2;
        }
        csv = csv_out.f;
        fprintf(csv, "range_min_ms,range_max_ms,heartbeat_ms,crash,"
                     "fast_detect,prevote,election,latency_us,trial,"
                     "leader_ms,commit_ms\n");
    }
    char hb[64];
    if (o->heartbeat_us)
        snprintf(hb, sizeof(hb), "heartbeat %.0f ms (min/2 where min <= it)",
                 (double)o->heartbeat_us / 1000.0);
    else
        snprintf(hb, sizeof(hb), "heartbeat min/2");
    fprintf(out,
            "bench failover: 5 nodes over loopback TCP%s, %s, prevote %s, "
            "fast detection %s, election %s, one-way latency %llu us, "
            "%d trials\n",
            o->processes ? ", one process each (kill = SIGKILL, silent = "
                           "SIGSTOP)"
                         : " in one process",
            hb, o->prevote ? "on" : "off",
            !o->fast_detect ? "off"
            : o->prevote    ? "on"
                            : "off (it needs PreVote)",
            raft_policy_name(o->policy), (unsigned long long)o->latency_us,
            o->trials);
    fprintf(out, "%-11s %-6s %5s %-7s %7s %7s %7s %7s %7s\n", "range ms",
            "crash", "ok", "time", "min", "p50", "p90", "p99", "max");
    double *lead = calloc((size_t)o->trials, sizeof(double));
    double *comm = calloc((size_t)o->trials, sizeof(double));
    if (!lead || !comm) {
        free(lead);
        free(comm);
        util_out_discard(&csv_out);
        return 1;
    }
    for (int r = 0; r < o->n_ranges && !util_stop_signal; r++) {
        for (unsigned kind = BENCH_CRASH_KILL; kind <= BENCH_CRASH_SILENT;
             kind <<= 1) {
            if (!(o->crash_kinds & kind))
                continue;
            uint64_t lo = o->ranges[r][0], hi = o->ranges[r][1];
            uint64_t hbus = heartbeat_for(o, lo);
            int n = 0, trials = o->trials;
            if (lo == hi && trials > 100)
                trials = 100; /* as the paper: no randomness is slow */
            int done = 0, no_setup = 0;
            for (int t = 0; t < trials && !util_stop_signal; t++) {
                double a, b;
                uint64_t seed = o->seed + (uint64_t)r * 100000 + (uint64_t)t;
                int trc = run_trial(o, lo, hi, kind, seed, &a, &b);
                if (util_stop_signal)
                    break; /* cut short by Ctrl-C: neither a failure nor a
                              time */
                if (trc == SETUP_FAILED) { /* no leader to crash: no row */
                    no_setup++;
                    continue;
                }
                done++;
                if (csv)
                    fprintf(csv, "%llu,%llu,%.3f,%s,%d,%d,%s,%llu,%d,",
                            (unsigned long long)(lo / 1000),
                            (unsigned long long)(hi / 1000),
                            (double)hbus / 1000.0, kind_name(kind),
                            o->fast_detect, o->prevote,
                            raft_policy_name(o->policy),
                            (unsigned long long)o->latency_us, t);
                if (trc != 0) {
                    if (csv)
                        fprintf(csv, ",\n");
                    continue;
                }
                lead[n] = a;
                comm[n] = b;
                n++;
                if (csv)
                    fprintf(csv, "%.3f,%.3f\n", a, b);
            }
            bench_sort(lead, n);
            bench_sort(comm, n);
            char label[48];
            snprintf(label, sizeof(label), "%llu-%llu",
                     (unsigned long long)(lo / 1000),
                     (unsigned long long)(hi / 1000));
            for (int which = 0; which < 2; which++) {
                const double *v = which ? comm : lead;
                fprintf(out,
                        "%-11s %-6s %2d/%-3d %-7s %7.1f %7.1f %7.1f %7.1f "
                        "%7.1f",
                        which ? "" : label, which ? "" : kind_name(kind), n,
                        done, which ? "commit" : "leader",
                        bench_pct(v, n, 0), bench_pct(v, n, 0.5),
                        bench_pct(v, n, 0.9), bench_pct(v, n, 0.99),
                        bench_pct(v, n, 1.0));
                if (which == 0 && hbus != o->heartbeat_us && o->heartbeat_us)
                    fprintf(out, "  heartbeat %.1f ms", (double)hbus / 1000.0);
                /* the paper waited out the timeout: no fast detection */
                bool like_paper = hbus == lo / 2 &&
                                  (kind == BENCH_CRASH_SILENT ||
                                   !o->fast_detect);
                fprintf(out, "  %s\n",
                        which || !like_paper ? "" : paper(lo, hi));
            }
            if (no_setup)
                fprintf(out,
                        "%-18s %d more trial%s had no first leader within "
                        "5 s to crash: left out\n",
                        "", no_setup, no_setup == 1 ? "" : "s");
            fflush(out);
        }
        if (o->ranges[r][0] == o->ranges[r][1])
            fixed_note(out, o);
    }
    free(lead);
    free(comm);
    if (csv && util_out_commit(&csv_out, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench failover: %s\n", err);
        return 2;
    }
    return 0;
}
