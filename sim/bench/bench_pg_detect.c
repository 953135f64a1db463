/*
 * bench_pg_detect.c — `raftsim bench pg-failover --detect`: a real
 * failure, detected, end to end.  A mirrored cluster runs over loopback
 * TCP (3 nodes: n1=a, n2=b, n3 a witness; PreVote on, the default
 * timeouts, `ack async` as a default Patroni cluster is, the mirror's
 * `watch on`).  Each trial SIGKILLs the primary's postmaster and every
 * child at once (`tools/pg-pair kill`, as a machine loss does; on Docker
 * `docker kill`) at a random point of the heartbeat cycle; the mirror's
 * watch sees the server stop answering and crashes its node, the
 * simulation elects the other node, the mirror promotes its server.
 * t0 is the moment just before the kill, as the kill command reports it.
 *
 * The probe (bench_pg_probe.h) INSERTs on every server every 50 ms: the
 * first INSERT after t0 that commits is the trial's result, and the same
 * rounds count any in which two servers both commit.  After each trial
 * the old primary's node restarts and the mirror rejoins its server with
 * pg_rewind, so the roles swap from trial to trial.
 *
 * The shares: detection (t0 → the watch's failed poll), election (→ the
 * simulation's new leader, including the mirror's crash step) and
 * promote (→ the first write: the fence check, pg_promote, the probe's
 * cadence).  They add up to the total.
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

#define TRIAL_LIMIT_S 120.0 /* one trial, kill to the pair put back */
#define HEARTBEAT_US 50000  /* the scenario language's default */

/* The kill, run by the probe thread when it is due (bench_probe.act) */
struct killer {
    const struct pg_server *s;
    const char *tmpl;
    char kill_log[64];
    int target;
    /* set by the probe thread, under the probe's mutex */
    bool killed, kill_failed;
    double t0;        /* util_wall_s just before the kill */
    bool t0_reported; /* from the kill command's own report */
    char kill_said[200];
};

static double realtime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The kill command's last "killed at EPOCH" line (tools/pg-pair kill),
 * in util_wall_s time; false when it printed none. */
static bool kill_moment(const char *log, double *t0, char *said, size_t cap)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return false;
    char line[512];
    double epoch = 0;
    bool found = false;
    while (fgets(line, sizeof(line), f)) {
        const char *k = strstr(line, "killed at ");
        if (!k)
            continue;
        char *end;
        double e = strtod(k + 10, &end);
        if (end != k + 10 && e > 0) {
            epoch = e;
            found = true;
            line[strcspn(line, "\n")] = 0;
            snprintf(said, cap, "%.190s", line);
        }
    }
    fclose(f);
    if (!found)
        return false;
    /* realtime → the monotonic clock of util_wall_s */
    *t0 = epoch - (realtime_s() - util_wall_s());
    return true;
}

static void do_kill(struct bench_probe *P, void *arg)
{
    struct killer *K = arg;
    char cmd[1024];
    pgc_fill_template(K->tmpl, "kill", K->s[K->target].name, cmd,
                      sizeof(cmd));
    if (truncate(K->kill_log, 0) != 0) {
        /* a fresh file each time: the command appends */
        FILE *f = fopen(K->kill_log, "w");
        if (f)
            fclose(f);
    }
    double before = util_wall_s(), ms;
    int rc = pgc_run_bounded(cmd, 30.0, K->kill_log, &ms);
    double t0 = before;
    char said[200] = "";
    bool reported = rc == 0 && kill_moment(K->kill_log, &t0, said,
                                           sizeof(said));
    if (reported && (t0 < before - 0.01 || t0 > util_wall_s() + 0.01))
        reported = false, t0 = before; /* a clock step: not trusted */
    pthread_mutex_lock(&P->mu);
    K->kill_failed = rc != 0;
    K->killed = rc == 0;
    K->t0 = t0;
    K->t0_reported = reported;
    snprintf(K->kill_said, sizeof(K->kill_said), "%.190s",
             rc == 0 ? said : cmd);
    /* the first write that counts begins after the kill, anywhere */
    P->armed = rc == 0;
    P->t0 = t0;
    P->want = -1;
    pthread_mutex_unlock(&P->mu);
}

/* The scenario: the set-up, then per trial the failover awaited, the old
 * primary's node restarted (the mirror rejoins its server) and caught up.
 * n3 is a witness (no server): it votes, never leads, so the leader
 * alternates between n1 and n2 and every line can name its node. */
static char *program_text(int trials, int *await_line, int cap_lines)
{
    struct bench_text b;
    bench_text_open(&b);
    bench_text_line(&b, "# bench pg-failover --detect");
    bench_text_line(&b, "nodes 3");
    bench_text_line(&b, "ack async");
    bench_text_line(&b, "prevote on");
    bench_text_line(&b, "mirror n1=a n2=b watch on");
    bench_text_line(&b, "start {n1, n3}");
    bench_text_line(&b, "await leader in {n1} within 10s");
    bench_text_line(&b, "start n2");
    bench_text_line(&b, "await caught-up n2 within 30s");
    for (int k = 0; k < trials && k < cap_lines; k++) {
        int p = k % 2 ? 2 : 1, q = 3 - p;
        bench_text_line(&b, "await leader in {n%d} within 30s", q);
        await_line[k] = b.line;
        bench_text_line(&b, "restart n%d", p);
        bench_text_line(&b, "await caught-up n%d within 60s", p);
    }
    return bench_text_take(&b);
}

struct trial {
    double total, detect, elect, promote;
};

int bench_pg_detect(FILE *out, const struct bench_pg_opts *o)
{
    struct pg_server s[PG_MAX_SERVERS];
    int n = pg_default_servers(s, PG_MAX_SERVERS);
    int rc = 1;
    char why[600];
    struct scn_program *prog = NULL;
    struct scn_runner *r = NULL;
    FILE *narr = NULL;
    char *text = NULL;
    int *await_line = calloc((size_t)o->trials, sizeof(int));
    struct trial *tr = calloc((size_t)o->trials, sizeof(struct trial));
    double *col = calloc((size_t)o->trials, sizeof(double));
    struct killer K = {.s = s, .target = -1};
    struct bench_probe P = {.s = s, .n = 2, .want = -1, .act = do_kill,
                            .act_arg = &K};
    bool probing = false;
    pthread_t th;
    int ok = 0;
    if (!await_line || !tr || !col)
        goto out;
    int p0 = bench_pg_prepare("bench pg-failover --detect", s, n);
    if (p0 < 0)
        goto out;
    text = program_text(o->trials, await_line, o->trials);
    if (!text || scn_parse("bench pg-failover --detect", text, strlen(text),
                           &prog, stderr) != 0)
        goto out;
    narr = tmpfile(); /* the run's narration: shown when a trial fails */
    struct scn_run_opts ro;
    scn_run_opts_default(&ro);
    ro.transport = SIM_TRANSPORT_TCP;
    ro.out = narr ? narr : stderr;
    ro.control = o->control;
    char def[4300];
    pgc_default_control(def, sizeof(def));
    K.tmpl = o->control ? o->control : def;
    fprintf(out,
            "bench pg-failover --detect: servers a (%.*s) and b (%.*s), %d "
            "trials\n"
            "  the cluster: 3 nodes over loopback TCP (n1=a, n2=b, n3 a "
            "witness), heartbeat 50ms,\n  election 150-300ms, prevote on, "
            "ack async, the mirror's watch on; the kill: SIGKILL of\n  the "
            "primary's postmaster and children (`%s`);\n  the probe: a new "
            "connection and an INSERT on every server every 50 ms\n",
            bench_pg_where_len(&s[0]), s[0].conninfo,
            bench_pg_where_len(&s[1]), s[1].conninfo, o->trials,
            "tools/pg-pair kill SERVER");
    if (scn_runner_new(prog, &ro, &r) != 0) {
        fprintf(stderr, "bench pg-failover --detect: the mirrored cluster "
                        "cannot start\n");
        goto out;
    }
    snprintf(K.kill_log, sizeof(K.kill_log), "/tmp/raftsim-kill-XXXXXX");
    int fd = mkstemp(K.kill_log);
    if (fd < 0) {
        fprintf(stderr, "bench pg-failover --detect: no temporary file\n");
        goto out;
    }
    close(fd);
    P.deadline = util_wall_s() + 60.0 + TRIAL_LIMIT_S * (o->trials + 1);
    if (bench_probe_start(&P, &th) != 0) {
        fprintf(stderr, "bench pg-failover --detect: no probe thread\n");
        goto out;
    }
    probing = true;
    uint64_t seed = (uint64_t)getpid() ^ (uint64_t)(realtime_s() * 1e6);
    int k = 0;
    rc = 0;
    for (int i = 0; i < prog->n_cmds && !util_stop_signal; i++) {
        const struct scn_cmd *cmd = &prog->cmds[i];
        bool trial = k < o->trials && cmd->line == await_line[k];
        int prim = -1;
        if (trial) {
            prim = bench_pg_settle(r, s, why, sizeof(why));
            if (prim < 0) {
                fprintf(stderr, "bench pg-failover --detect: trial %d: the "
                                "pair did not settle: %s\n",
                        k + 1, why);
                rc = 1;
                break;
            }
            /* a random point of the heartbeat cycle: 1 to 2 heartbeats
             * after the run goes on (the watch polls once a heartbeat) */
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(seed >> 11) / 9007199254740992.0;
            pthread_mutex_lock(&P.mu);
            P.trial = k + 1;
            K.killed = K.kill_failed = false;
            P.armed = false;
            P.first_write = 0;
            K.target = prim;
            P.act_due = true;
            P.act_at = util_wall_s() + HEARTBEAT_US / 1e6 * (1.0 + u);
            pthread_mutex_unlock(&P.mu);
        }
        scn_runner_exec(r, cmd);
        if (scn_runner_stopped(r)) {
            fprintf(stderr, "bench pg-failover --detect: the mirrored run "
                            "stopped at line %d (see the narration below)\n",
                    cmd->line);
            rc = 1;
            break;
        }
        if (!trial)
            continue;
        /* the failover happened (the await held); the first write may
         * still be one probe round away */
        double end = util_wall_s() + 10.0;
        bool got = false, failed = false;
        while (util_wall_s() < end && !util_stop_signal) {
            pthread_mutex_lock(&P.mu);
            got = P.first_write > 0;
            failed = K.kill_failed;
            pthread_mutex_unlock(&P.mu);
            if (got || failed)
                break;
            bench_sleep_s(0.01);
        }
        pthread_mutex_lock(&P.mu);
        P.act_due = false;
        struct scn_mirror_marks m;
        scn_runner_mirror_marks(r, &m);
        double t0 = K.t0, fw = P.first_write;
        int fs = P.first_server;
        char said[200];
        snprintf(said, sizeof(said), "%s", K.kill_said);
        bool reported = K.t0_reported;
        pthread_mutex_unlock(&P.mu);
        if (failed || !got) {
            fprintf(stderr, "bench pg-failover --detect: trial %d: %s\n",
                    k + 1,
                    failed ? "the kill command failed"
                           : "no write committed within 10 s of the new "
                             "leader");
            if (failed)
                fprintf(stderr, "  `%s`\n", said);
            rc = 1;
            break;
        }
        struct trial *t = &tr[ok];
        t->total = (fw - t0) * 1e3;
        bool marks = m.detected >= t0 && m.elected >= m.detected &&
                     fw >= m.elected;
        t->detect = marks ? (m.detected - t0) * 1e3 : NAN;
        t->elect = marks ? (m.elected - m.detected) * 1e3 : NAN;
        t->promote = marks ? (fw - m.elected) * 1e3 : NAN;
        fprintf(out, "  trial %2d: kill %s -> first write on %s %7.1f ms "
                     "(detection %.1f, election %.1f, promote %.1f)%s\n",
                k + 1, s[prim].name, s[fs].name, t->total, t->detect,
                t->elect, t->promote,
                reported ? "" : " [t0: before the kill command]");
        ok++;
        k++;
    }
    /* the last trial's old primary rejoins (its `restart` ran) */
    if (ok > 0 && !util_stop_signal && rc == 0)
        bench_pg_settle(r, s, why, sizeof(why));
    bench_probe_stop(&P, th);
    probing = false;
    fprintf(out, "  %-30s %8s %8s %8s %8s   (ms, %d trials)\n", "", "min",
            "p50", "p90", "max", ok);
    for (int i = 0; i < ok; i++)
        col[i] = tr[i].total;
    double p50 = bench_pg_p50(col, ok);
    bench_pg_row(out, "kill -> first write", col, ok, 0);
    const char *names[] = {"  detection (-> watch)", "  election (-> leader)",
                           "  promote (-> first write)"};
    for (int w = 0; w < 3; w++) {
        int m = 0;
        for (int i = 0; i < ok; i++) {
            double v = w == 0 ? tr[i].detect : w == 1 ? tr[i].elect
                                                      : tr[i].promote;
            if (!isnan(v))
                col[m++] = v;
        }
        bench_pg_row(out, names[w], col, m, p50);
    }
    fprintf(out, "  two servers accepting writes in one probe round: %llu "
                 "of %llu rounds (%llu INSERTs tried, %llu committed)\n",
            (unsigned long long)P.double_rounds,
            (unsigned long long)P.rounds, (unsigned long long)P.attempts,
            (unsigned long long)P.writes);
    if (P.double_rounds)
        fprintf(out, "  the first: %s\n", P.double_first);
    double la[3];
    if (getloadavg(la, 3) == 3)
        fprintf(out, "  load average %.2f %.2f %.2f%s\n", la[0], la[1], la[2],
                la[0] > 2 ? " (loaded)" : "");
    if (P.double_rounds)
        rc = 1;
out:
    if (probing)
        bench_probe_stop(&P, th);
    if (r) {
        struct scn_run_result res;
        int frc = scn_runner_finish(r, &res);
        scn_runner_free(r);
        if (frc != 0 && rc == 0) {
            fprintf(stderr, "bench pg-failover --detect: the mirrored run "
                            "failed (%s)\n",
                    res.first_failed[0] ? res.first_failed : "a mirror step");
            rc = 1;
        }
    }
    if (narr && rc != 0)
        bench_pg_tail(narr, stderr);
    if (narr)
        fclose(narr);
    if (K.kill_log[0] && strchr(K.kill_log, 'X') == NULL)
        unlink(K.kill_log);
    scn_free(prog);
    free(text);
    free(await_line);
    free(tr);
    free(col);
    for (int i = 0; i < n; i++)
        pg_server_free(&s[i]);
    return rc;
}
