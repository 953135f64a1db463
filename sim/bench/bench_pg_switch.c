/*
 * bench_pg_switch.c — `raftsim bench switchover --pg`: a planned
 * switchover of a real PostgreSQL pair, end to end.  A mirrored cluster
 * runs over loopback TCP (3 nodes: n1=a, n2=b, n3 a witness; PreVote on,
 * the default timeouts, `ack async` as a default Patroni cluster is).
 * Each trial asks the leader to hand over to the other server's node
 * (`transfer leader to`, Raft thesis §3.10) at a random point of the
 * heartbeat cycle; the mirror performs the PostgreSQL switchover
 * (runner_mirror_switch.c): the old primary stopped cleanly (the fence),
 * where its WAL ends read from its control file and WAL, a wait until
 * the target has replayed up to there, the target promoted once its node
 * leads, the old primary restarted as its standby without pg_rewind.
 * t0 is the moment just before the request.
 *
 * The probe (bench_pg_probe.h) INSERTs on every server every 50 ms: the
 * result is the first INSERT begun after t0 that commits on the new
 * primary, and the same rounds count any in which two servers both
 * commit.  The direction alternates (a -> b, b -> a, ...), starting from
 * whichever server is the primary; after an odd number of trials one
 * more transfer, not timed, puts the primary back, so the pair is left as
 * found.
 *
 * The shares, from the mirror's marks (scn_runner_mirror_marks): stop
 * (t0 -> the old primary stopped: the request, the fast shutdown and its
 * check), final LSN (-> pg_controldata and pg_waldump read), replay
 * (-> the target replayed it), election (-> the target's node leads:
 * TimeoutNow and the vote) and promote (-> the first write: pg_promote
 * and the probe's cadence).  They add up to the total.  Apart: the old
 * primary following (the new primary's pg_promote -> streaming from it
 * again), which a client does not wait for.
 */
#include "sim/bench/bench.h"
#include "sim/bench/bench_pg_probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/cluster/cluster.h"
#include "sim/pg/pg.h"
#include "sim/pg/pg_control.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"
#include "sim/util/util.h"

#define TRIAL_LIMIT_S 120.0 /* one trial, request to the pair put back */
#define HEARTBEAT_US 50000  /* the scenario language's default */
#define NSHARES 5

/* The scenario: the set-up with node `first` (the current primary's)
 * leading, then per trial the transfer, the new leader awaited and the
 * old one caught up as its follower (the mirror's follow runs then).
 * xfer_line[k] is the line of trial k's transfer; trials past `timed`
 * are the put-back, not timed. */
static char *program_text(int first, int transfers, int *xfer_line)
{
    struct bench_text b;
    bench_text_open(&b);
    int other = 3 - first;
    bench_text_line(&b, "# bench switchover --pg");
    bench_text_line(&b, "nodes 3");
    bench_text_line(&b, "ack async");
    bench_text_line(&b, "prevote on");
    bench_text_line(&b, "mirror n1=a n2=b");
    bench_text_line(&b, "start {n%d, n3}", first);
    bench_text_line(&b, "await leader in {n%d} within 10s", first);
    bench_text_line(&b, "start n%d", other);
    bench_text_line(&b, "await caught-up n%d within 30s", other);
    for (int k = 0; k < transfers; k++) {
        int p = k % 2 ? other : first, q = 3 - p;
        xfer_line[k] = b.line + 1;
        bench_text_line(&b, "transfer leader to n%d", q);
        bench_text_line(&b, "await leader in {n%d} within 30s", q);
        bench_text_line(&b, "await follower n%d within 30s", p);
        bench_text_line(&b, "await caught-up n%d within 60s", p);
    }
    return bench_text_take(&b);
}

struct trial {
    double total, share[NSHARES], follow;
};

static const char *share_name[NSHARES] = {
    "  stop (fast shutdown)", "  final LSN (controldata)",
    "  replay (-> final LSN)", "  election (-> leader)",
    "  promote (-> first write)"};

/* The shares of one trial from the marks; false when one is missing or
 * out of order (then the total stands alone). */
static bool shares_of(const struct scn_mirror_marks *m, double t0, double fw,
                      double *sh)
{
    double at[NSHARES + 1] = {t0, m->sw_stopped, m->sw_final, m->sw_replayed,
                              m->elected, fw};
    for (int i = 0; i < NSHARES; i++) {
        if (at[i + 1] <= 0 || at[i + 1] < at[i])
            return false;
        sh[i] = (at[i + 1] - at[i]) * 1e3;
    }
    return true;
}

struct ctx {
    struct pg_server s[PG_MAX_SERVERS];
    int n;
    struct scn_program *prog;
    struct scn_runner *r;
    FILE *narr;
    char *text;
    int *xfer_line;
    struct trial *tr;
    double *col;
    struct bench_probe P;
    pthread_t th;
    bool probing;
};

static void print_table(FILE *out, struct ctx *C, int ok, int timed)
{
    struct trial *tr = C->tr;
    double *col = C->col;
    fprintf(out, "  %-30s %8s %8s %8s %8s   (ms, %d of %d trials)\n", "",
            "min", "p50", "p90", "max", ok, timed);
    for (int i = 0; i < ok; i++)
        col[i] = tr[i].total;
    double p50 = bench_pg_p50(col, ok);
    bench_pg_row(out, "request -> first write", col, ok, 0);
    for (int w = 0; w < NSHARES; w++) {
        int m = 0;
        for (int i = 0; i < ok; i++)
            if (!isnan(tr[i].share[w]))
                col[m++] = tr[i].share[w];
        bench_pg_row(out, share_name[w], col, m, p50);
    }
    int m = 0;
    for (int i = 0; i < ok; i++)
        if (!isnan(tr[i].follow))
            col[m++] = tr[i].follow;
    bench_pg_row(out, "old primary follows", col, m, 0);
    fprintf(out, "  (old primary follows: the new primary's pg_promote -> "
                 "the old one streaming from it; not in the total)\n");
}

int bench_pg_switch(FILE *out, const struct bench_pg_opts *o)
{
    struct ctx C0;
    struct ctx *C = &C0;
    memset(C, 0, sizeof(*C));
    C->n = pg_default_servers(C->s, PG_MAX_SERVERS);
    struct pg_server *s = C->s;
    int rc = 1, ok = 0, timed = o->trials;
    int transfers = timed + (timed % 2); /* even: the primary put back */
    char why[600];
    C->xfer_line = calloc((size_t)transfers, sizeof(int));
    C->tr = calloc((size_t)timed, sizeof(struct trial));
    C->col = calloc((size_t)timed, sizeof(double));
    struct bench_probe *P = &C->P;
    P->s = s;
    P->n = 2;
    P->want = -1;
    if (!C->xfer_line || !C->tr || !C->col)
        goto out;
    int p0 = bench_pg_prepare("bench switchover --pg", s, C->n);
    if (p0 < 0)
        goto out;
    C->text = program_text(p0 + 1, transfers, C->xfer_line);
    if (!C->text || scn_parse("bench switchover --pg", C->text,
                              strlen(C->text), &C->prog, stderr) != 0)
        goto out;
    C->narr = tmpfile(); /* the run's narration: shown when a trial fails */
    struct scn_run_opts ro;
    scn_run_opts_default(&ro);
    ro.transport = SIM_TRANSPORT_TCP;
    ro.out = C->narr ? C->narr : stderr;
    ro.control = o->control;
    fprintf(out,
            "bench switchover --pg: servers a (%.*s) and b (%.*s), %d "
            "trials, from %s: %s -> %s, then back, alternating\n"
            "  the cluster: 3 nodes over loopback TCP (n1=a, n2=b, n3 a "
            "witness), heartbeat 50ms,\n  election 150-300ms, prevote on, "
            "ack async; the request: `transfer leader to` the\n  other "
            "server's node; the mirror: clean stop, replay to the final "
            "LSN, promote,\n  the old primary follows without pg_rewind; "
            "the probe: a new connection and an\n  INSERT on every server "
            "every 50 ms\n",
            bench_pg_where_len(&s[0]), s[0].conninfo,
            bench_pg_where_len(&s[1]), s[1].conninfo, timed, s[p0].name,
            s[p0].name, s[1 - p0].name);
    if (scn_runner_new(C->prog, &ro, &C->r) != 0) {
        fprintf(stderr, "bench switchover --pg: the mirrored cluster "
                        "cannot start\n");
        goto out;
    }
    struct scn_runner *r = C->r;
    P->deadline = util_wall_s() + 60.0 + TRIAL_LIMIT_S * (transfers + 1);
    if (bench_probe_start(P, &C->th) != 0) {
        fprintf(stderr, "bench switchover --pg: no probe thread\n");
        goto out;
    }
    C->probing = true;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t seed = (uint64_t)getpid() ^ (uint64_t)now.tv_nsec;
    int k = 0;
    rc = 0;
    for (int i = 0; i < C->prog->n_cmds && !util_stop_signal; i++) {
        const struct scn_cmd *cmd = &C->prog->cmds[i];
        bool xfer = k < transfers && cmd->line == C->xfer_line[k];
        bool trial = xfer && k < timed;
        int from = -1;
        struct scn_mirror_marks m0;
        if (xfer) {
            from = bench_pg_settle(r, s, why, sizeof(why));
            if (from < 0) {
                fprintf(stderr, "bench switchover --pg: %s %d: the pair did "
                                "not settle: %s\n",
                        trial ? "trial" : "the put-back after trial", k + 1,
                        why);
                rc = 1;
                break;
            }
            /* a random point of the heartbeat cycle */
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(seed >> 11) / 9007199254740992.0;
            scn_runner_run_to(r, scn_runner_now(r) +
                                     (uint64_t)(HEARTBEAT_US * u));
            scn_runner_mirror_marks(r, &m0);
            pthread_mutex_lock(&P->mu);
            P->trial = k + 1;
            P->first_write = 0;
            P->want = 1 - from;
            P->t0 = util_wall_s();
            P->armed = trial;
            pthread_mutex_unlock(&P->mu);
        }
        scn_runner_exec(r, cmd);
        if (scn_runner_stopped(r)) {
            fprintf(stderr, "bench switchover --pg: the mirrored run "
                            "stopped at line %d (see the narration below)\n",
                    cmd->line);
            rc = 1;
            break;
        }
        if (!xfer)
            continue;
        if (!trial) {
            k++;
            continue;
        }
        /* the new leader leads (the await after this line holds it); the
         * first write may still be a probe round or the promotion away:
         * run the next lines (the await) first */
        int j = i + 1;
        for (; j < C->prog->n_cmds && j <= i + 3 && !scn_runner_stopped(r);
             j++)
            scn_runner_exec(r, &C->prog->cmds[j]);
        i = j - 1;
        if (scn_runner_stopped(r)) {
            fprintf(stderr, "bench switchover --pg: trial %d: the mirrored "
                            "run stopped (see the narration below)\n",
                    k + 1);
            rc = 1;
            break;
        }
        double end = util_wall_s() + 10.0;
        bool got = false;
        while (util_wall_s() < end && !util_stop_signal) {
            pthread_mutex_lock(&P->mu);
            got = P->first_write > 0;
            pthread_mutex_unlock(&P->mu);
            if (got)
                break;
            bench_sleep_s(0.01);
        }
        /* the old primary's follow: bounded, the run goes on meanwhile */
        struct scn_mirror_marks m;
        for (int w = 0; w < 300; w++) {
            scn_runner_mirror_marks(r, &m);
            if (m.sw_no_rewind + m.sw_rewound >
                    m0.sw_no_rewind + m0.sw_rewound ||
                util_stop_signal)
                break;
            scn_runner_run_to(r, scn_runner_now(r) + 100000);
        }
        pthread_mutex_lock(&P->mu);
        P->armed = false;
        double t0 = P->t0, fw = P->first_write;
        int fs = P->first_server;
        pthread_mutex_unlock(&P->mu);
        if (!got) {
            fprintf(stderr, "bench switchover --pg: trial %d: no write "
                            "committed on %s within 10 s of its node "
                            "leading\n",
                    k + 1, s[1 - from].name);
            rc = 1;
            break;
        }
        struct trial *t = &C->tr[ok];
        t->total = (fw - t0) * 1e3;
        bool marks = m.sw_begin >= t0 && m.elected >= t0 &&
                     shares_of(&m, t0, fw, t->share);
        if (!marks)
            for (int w = 0; w < NSHARES; w++)
                t->share[w] = NAN;
        bool back = m.sw_no_rewind + m.sw_rewound >
                    m0.sw_no_rewind + m0.sw_rewound;
        bool no_rw = m.sw_no_rewind > m0.sw_no_rewind;
        t->follow = back && m.promoted >= t0 && m.sw_followed >= m.promoted
                        ? (m.sw_followed - m.promoted) * 1e3
                        : NAN;
        fprintf(out,
                "  trial %2d: %s -> %s: first write on %s %7.1f ms (stop "
                "%.1f, final LSN %.1f, replay %.1f, election %.1f, promote "
                "%.1f); %s %s\n",
                k + 1, s[from].name, s[1 - from].name, s[fs].name, t->total,
                t->share[0], t->share[1], t->share[2], t->share[3],
                t->share[4], s[from].name,
                !back   ? "not back as a standby yet"
                : no_rw ? "follows without pg_rewind"
                        : "needed pg_rewind");
        ok++;
        k++;
    }
    /* the last transfer's old primary follows */
    if (ok > 0 && !util_stop_signal && rc == 0)
        bench_pg_settle(r, s, why, sizeof(why));
    bench_probe_stop(P, C->th);
    C->probing = false;
    print_table(out, C, ok, timed);
    struct scn_mirror_marks mf;
    scn_runner_mirror_marks(r, &mf);
    fprintf(out, "  the old primary came back without pg_rewind in %d of %d "
                 "switchovers (%d needed it)%s\n",
            mf.sw_no_rewind,
            mf.sw_no_rewind + mf.sw_rewound, mf.sw_rewound,
            transfers > timed ? "; the last, not timed, put the primary back"
                              : "");
    fprintf(out, "  two servers accepting writes in one probe round: %llu "
                 "of %llu rounds (%llu INSERTs tried, %llu committed)\n",
            (unsigned long long)P->double_rounds,
            (unsigned long long)P->rounds, (unsigned long long)P->attempts,
            (unsigned long long)P->writes);
    if (P->double_rounds)
        fprintf(out, "  the first: %s\n", P->double_first);
    double la[3];
    if (getloadavg(la, 3) == 3)
        fprintf(out, "  load average %.2f %.2f %.2f%s\n", la[0], la[1], la[2],
                la[0] > 2 ? " (loaded)" : "");
    if (P->double_rounds || mf.sw_rewound)
        rc = 1;
out:
    if (C->probing)
        bench_probe_stop(P, C->th);
    if (C->r) {
        struct scn_run_result res;
        int frc = scn_runner_finish(C->r, &res);
        scn_runner_free(C->r);
        if (frc != 0 && rc == 0) {
            fprintf(stderr, "bench switchover --pg: the mirrored run failed "
                            "(%s)\n",
                    res.first_failed[0] ? res.first_failed : "a mirror step");
            rc = 1;
        }
    }
    if (C->narr && rc != 0)
        bench_pg_tail(C->narr, stderr);
    if (C->narr)
        fclose(C->narr);
    scn_free(C->prog);
    free(C->text);
    free(C->xfer_line);
    free(C->tr);
    free(C->col);
    for (int i = 0; i < C->n; i++)
        pg_server_free(&C->s[i]);
    return rc;
}
