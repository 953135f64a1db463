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
 * A probe thread opens a new connection to every server every 50 ms and
 * INSERTs a row (synchronous_commit local, bounded at 1 s a statement):
 * the first INSERT after t0 that commits is the trial's result.  The same
 * rounds are the continuous one-writer check: a round in which two
 * servers both commit a row is counted (the goal is 0).  After each trial
 * the old primary's node restarts and the mirror rejoins its server with
 * pg_rewind, so the roles swap from trial to trial.
 *
 * The shares: detection (t0 → the watch's failed poll), election (→ the
 * simulation's new leader, including the mirror's crash step) and
 * promote (→ the first write: the fence check, pg_promote, the probe's
 * cadence).  They add up to the total.
 */
#include "sim/bench/bench.h"

#include <math.h>
#include <pthread.h>
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

#define PROBE_EVERY_S 0.05
#define PROBE_TIMEOUT_S 1.0
#define TRIAL_LIMIT_S 120.0 /* one trial, kill to the pair put back */
#define HEARTBEAT_US 50000  /* the scenario language's default */

struct probe {
    pthread_mutex_t mu;
    const struct pg_server *s;
    int n;
    const char *tmpl;
    char kill_log[64];
    double deadline; /* the thread ends by then whatever happens */
    /* set by the bench, read by the probe */
    bool quit;
    int target;     /* server to kill (-1: none armed) */
    double kill_at; /* util_wall_s */
    int trial;
    /* set by the probe */
    bool killing, killed, kill_failed;
    double t0;          /* util_wall_s just before the kill */
    bool t0_reported;   /* from the kill command's own report */
    char kill_said[200];
    double first_write; /* end of the first INSERT after t0 to commit */
    int first_server;
    /* the continuous one-writer check */
    uint64_t rounds, attempts, writes, double_rounds;
    char double_first[160];
};

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

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

static void do_kill(struct probe *P, int target)
{
    char cmd[1024];
    pgc_fill_template(P->tmpl, "kill", P->s[target].name, cmd, sizeof(cmd));
    if (truncate(P->kill_log, 0) != 0) {
        /* a fresh file each time: the command appends */
        FILE *f = fopen(P->kill_log, "w");
        if (f)
            fclose(f);
    }
    double before = util_wall_s(), ms;
    int rc = pgc_run_bounded(cmd, 30.0, P->kill_log, &ms);
    double t0 = before;
    char said[200] = "";
    bool reported = rc == 0 && kill_moment(P->kill_log, &t0, said,
                                           sizeof(said));
    if (reported && (t0 < before - 0.01 || t0 > util_wall_s() + 0.01))
        reported = false, t0 = before; /* a clock step: not trusted */
    pthread_mutex_lock(&P->mu);
    P->killing = false;
    P->kill_failed = rc != 0;
    P->killed = rc == 0;
    P->t0 = t0;
    P->t0_reported = reported;
    snprintf(P->kill_said, sizeof(P->kill_said), "%.190s",
             rc == 0 ? said : cmd);
    pthread_mutex_unlock(&P->mu);
}

static void *probe_main(void *arg)
{
    struct probe *P = arg;
    char sql[256], err[256];
    for (uint64_t round = 0; round < 10000000; round++) {
        double r0 = util_wall_s();
        pthread_mutex_lock(&P->mu);
        bool quit = P->quit || r0 > P->deadline || util_stop_signal;
        int target = -1, trial = P->trial;
        if (!quit && P->target >= 0 && !P->killing && !P->killed &&
            !P->kill_failed && r0 >= P->kill_at) {
            target = P->target;
            P->killing = true;
        }
        pthread_mutex_unlock(&P->mu);
        if (quit)
            break;
        if (target >= 0) {
            do_kill(P, target);
            continue; /* a new round at once, after the kill */
        }
        int ok = 0;
        char names[64] = "";
        for (int i = 0; i < P->n; i++) {
            snprintf(sql, sizeof(sql),
                     "SET synchronous_commit = local; INSERT INTO "
                     "raftsim_probe (trial, server) VALUES (%d, '%s')",
                     trial, P->s[i].name);
            double a0 = util_wall_s();
            int rc = pg_exec(&P->s[i], PROBE_TIMEOUT_S, sql, err, sizeof(err));
            double a1 = util_wall_s();
            pthread_mutex_lock(&P->mu);
            P->attempts++;
            if (rc == 0) {
                P->writes++;
                ok++;
                size_t l = strlen(names);
                snprintf(names + l, sizeof(names) - l, "%s%s", l ? "+" : "",
                         P->s[i].name);
                if (P->killed && P->first_write == 0 && a0 >= P->t0) {
                    P->first_write = a1;
                    P->first_server = i;
                }
            }
            pthread_mutex_unlock(&P->mu);
        }
        pthread_mutex_lock(&P->mu);
        P->rounds++;
        if (ok >= 2 && P->double_rounds++ == 0)
            snprintf(P->double_first, sizeof(P->double_first),
                     "round %llu (trial %d): %s both committed a row",
                     (unsigned long long)P->rounds, trial, names);
        pthread_mutex_unlock(&P->mu);
        double left = r0 + PROBE_EVERY_S - util_wall_s();
        if (left > 0)
            sleep_s(left);
    }
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double p50_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return v[(n - 1) / 2];
}

static void row(FILE *out, const char *what, double *v, int n, double total)
{
    if (n == 0) {
        fprintf(out, "  %-30s no successful trial\n", what);
        return;
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    double p50 = v[(n - 1) / 2];
    fprintf(out, "  %-30s %8.1f %8.1f %8.1f %8.1f", what, v[0], p50,
            v[(int)((n - 1) * 0.9)], v[n - 1]);
    if (total > 0)
        fprintf(out, "   %3.0f%% of p50", 100.0 * p50 / total);
    fputc('\n', out);
}

/* One primary and one standby that streams from it; the primary's index
 * or -1. */
static int pair_ready(const struct pg_server *s, char *why, size_t cap)
{
    struct pg_obs o[2];
    pg_observe(&s[0], 2.0, &o[0]);
    pg_observe(&s[1], 2.0, &o[1]);
    int p = pg_writable(&o[0]) ? 0 : pg_writable(&o[1]) ? 1 : -1;
    if (p < 0) {
        snprintf(why, cap, "no primary (%s: %s; %s: %s)", s[0].name,
                 o[0].up ? "standby" : o[0].error, s[1].name,
                 o[1].up ? "standby" : o[1].error);
        return -1;
    }
    int sb = 1 - p;
    if (!o[sb].up || !o[sb].in_recovery || !o[sb].streaming) {
        snprintf(why, cap, "%s is %s", s[sb].name,
                 !o[sb].up            ? o[sb].error
                 : !o[sb].in_recovery ? "a second primary"
                                      : "a standby that does not stream");
        return -1;
    }
    return p;
}

/* Until the pair is a primary and a streaming standby, let the run go on
 * (the mirror's rejoin); bounded. */
static int settle(struct scn_runner *r, const struct pg_server *s,
                  char *why, size_t cap)
{
    struct sim_cluster *c = scn_runner_cluster(r);
    double end = util_wall_s() + 60.0;
    for (int k = 0; k < 600; k++) {
        sim_hold_clock(c, true);
        int p = pair_ready(s, why, cap);
        sim_hold_clock(c, false);
        if (p >= 0 || util_wall_s() > end || util_stop_signal)
            return p;
        scn_runner_run_to(r, scn_runner_now(r) + 100000);
        if (scn_runner_stopped(r))
            return -1;
    }
    return -1;
}

/* The scenario: the set-up, then per trial the failover awaited, the old
 * primary's node restarted (the mirror rejoins its server) and caught up.
 * n3 is a witness (no server): it votes, never leads, so the leader
 * alternates between n1 and n2 and every line can name its node. */
static char *program_text(int trials, int *await_line, int cap_lines)
{
    size_t cap = 1024 + (size_t)trials * 160;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    size_t len = 0;
    int line = 0;
#define LINE(...)                                                            \
    do {                                                                     \
        len += (size_t)snprintf(t + len, cap - len, __VA_ARGS__);            \
        len += (size_t)snprintf(t + len, cap - len, "\n");                   \
        line++;                                                              \
    } while (0)
    LINE("# bench pg-failover --detect");
    LINE("nodes 3");
    LINE("ack async");
    LINE("prevote on");
    LINE("mirror n1=a n2=b watch on");
    LINE("start {n1, n3}");
    LINE("await leader in {n1} within 10s");
    LINE("start n2");
    LINE("await caught-up n2 within 30s");
    for (int k = 0; k < trials && k < cap_lines; k++) {
        int p = k % 2 ? 2 : 1, q = 3 - p;
        LINE("await leader in {n%d} within 30s", q);
        await_line[k] = line;
        LINE("restart n%d", p);
        LINE("await caught-up n%d within 60s", p);
    }
#undef LINE
    return t;
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
    struct probe P = {.s = s, .n = 2, .target = -1};
    bool probing = false;
    pthread_t th;
    int ok = 0;
    if (!await_line || !tr || !col)
        goto out;
    if (n != 2) {
        fprintf(stderr, "bench pg-failover --detect: wants the pair of two "
                        "servers (a and b), found %d: tools/pg-pair up\n",
                n);
        goto out;
    }
    int p0 = pair_ready(s, why, sizeof(why));
    if (p0 < 0) {
        fprintf(stderr, "bench pg-failover --detect: the pair is not a "
                        "primary and a streaming standby: %s; run "
                        "tools/pg-pair up\n",
                why);
        goto out;
    }
    if (pg_exec(&s[p0], 10.0,
                "CREATE TABLE IF NOT EXISTS raftsim_probe (id bigserial "
                "PRIMARY KEY, trial int NOT NULL, server text NOT NULL, "
                "at timestamptz NOT NULL DEFAULT clock_timestamp())",
                why, sizeof(why)) != 0) {
        fprintf(stderr, "bench pg-failover --detect: %s\n", why);
        goto out;
    }
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
    P.tmpl = o->control ? o->control : def;
    /* "host=127.0.0.1 port=5433" of each lab connection string */
    const char *ua = strstr(s[0].conninfo, " user="),
               *ub = strstr(s[1].conninfo, " user=");
    fprintf(out,
            "bench pg-failover --detect: servers a (%.*s) and b (%.*s), %d "
            "trials\n"
            "  the cluster: 3 nodes over loopback TCP (n1=a, n2=b, n3 a "
            "witness), heartbeat 50ms,\n  election 150-300ms, prevote on, "
            "ack async, the mirror's watch on; the kill: SIGKILL of\n  the "
            "primary's postmaster and children (`%s`);\n  the probe: a new "
            "connection and an INSERT on every server every 50 ms\n",
            ua ? (int)(ua - s[0].conninfo) : (int)strlen(s[0].conninfo),
            s[0].conninfo,
            ub ? (int)(ub - s[1].conninfo) : (int)strlen(s[1].conninfo),
            s[1].conninfo, o->trials, "tools/pg-pair kill SERVER");
    if (scn_runner_new(prog, &ro, &r) != 0) {
        fprintf(stderr, "bench pg-failover --detect: the mirrored cluster "
                        "cannot start\n");
        goto out;
    }
    snprintf(P.kill_log, sizeof(P.kill_log), "/tmp/raftsim-kill-XXXXXX");
    int fd = mkstemp(P.kill_log);
    if (fd < 0) {
        fprintf(stderr, "bench pg-failover --detect: no temporary file\n");
        goto out;
    }
    close(fd);
    pthread_mutex_init(&P.mu, NULL);
    P.deadline = util_wall_s() + 60.0 + TRIAL_LIMIT_S * (o->trials + 1);
    if (pthread_create(&th, NULL, probe_main, &P) != 0) {
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
            prim = settle(r, s, why, sizeof(why));
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
            P.killed = P.kill_failed = P.killing = false;
            P.first_write = 0;
            P.target = prim;
            P.kill_at = util_wall_s() + HEARTBEAT_US / 1e6 * (1.0 + u);
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
            failed = P.kill_failed;
            pthread_mutex_unlock(&P.mu);
            if (got || failed)
                break;
            sleep_s(0.01);
        }
        pthread_mutex_lock(&P.mu);
        P.target = -1;
        struct scn_mirror_marks m;
        scn_runner_mirror_marks(r, &m);
        double t0 = P.t0, fw = P.first_write;
        int fs = P.first_server;
        char said[200];
        snprintf(said, sizeof(said), "%s", P.kill_said);
        bool reported = P.t0_reported;
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
        settle(r, s, why, sizeof(why));
    pthread_mutex_lock(&P.mu);
    P.quit = true;
    pthread_mutex_unlock(&P.mu);
    pthread_join(th, NULL);
    probing = false;
    fprintf(out, "  %-30s %8s %8s %8s %8s   (ms, %d trials)\n", "", "min",
            "p50", "p90", "max", ok);
    for (int i = 0; i < ok; i++)
        col[i] = tr[i].total;
    double p50 = ok ? p50_of(col, ok) : 0;
    row(out, "kill -> first write", col, ok, 0);
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
        row(out, names[w], col, m, p50);
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
    if (probing) {
        pthread_mutex_lock(&P.mu);
        P.quit = true;
        pthread_mutex_unlock(&P.mu);
        pthread_join(th, NULL);
    }
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
    if (narr && rc != 0) {
        /* the end of the run's narration, for the reader */
        long size = ftell(narr);
        fseek(narr, size > 6000 ? size - 6000 : 0, SEEK_SET);
        char buf[6001];
        size_t got = fread(buf, 1, sizeof(buf) - 1, narr);
        buf[got] = 0;
        fprintf(stderr, "--- the end of the mirrored run's narration:\n%s",
                buf);
    }
    if (narr)
        fclose(narr);
    if (P.kill_log[0] && strchr(P.kill_log, 'X') == NULL)
        unlink(P.kill_log);
    scn_free(prog);
    free(text);
    free(await_line);
    free(tr);
    free(col);
    for (int i = 0; i < n; i++)
        pg_server_free(&s[i]);
    return rc;
}
