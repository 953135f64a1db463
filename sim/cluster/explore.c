/*
 * explore.c — the random fault schedule of one seed, and the loop over
 * seeds.  See explore.h.
 *
 * Faults come one at a time at random intervals; each undoes itself after
 * a random while (a restart after a crash, a heal after a partition …),
 * so faults overlap the way they do in real outages.  At most a minority
 * of nodes is crashed at once, because a run with no possible quorum
 * teaches the checker nothing.
 */
#include "sim/cluster/explore.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "raft/prng.h"
#include "sim/cluster/explore_jobs.h"
#include "sim/util/util.h"

void explore_opts_default(struct explore_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->nodes = 5;
    o->transport = SIM_TRANSPORT_MEMORY;
    o->time_scale = 1.0;
    o->seeds = 100;
    o->start_seed = 1;
    o->duration_us = 10000000;
    o->settle_us = 3000000;
    o->faults = EXPLORE_F_ALL;
    o->writes_per_s = 100;
    o->ack = RAFT_ACK_QUORUM;
    o->policy = RAFT_ELECT_HIGHEST_LSN;
    o->prevote = true;
    o->checkquorum = true;
    o->heartbeat_us = 50000;
    o->election_min_us = 150000;
    o->election_max_us = 300000;
}

int explore_parse_faults(const char *s, unsigned *out, const char **bad)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"partition", EXPLORE_F_PARTITION}, {"crash", EXPLORE_F_CRASH},
                 {"pause", EXPLORE_F_PAUSE},         {"drop", EXPLORE_F_DROP},
                 {"delay", EXPLORE_F_DELAY},         {"all", EXPLORE_F_ALL},
                 {"none", 0}};
    unsigned f = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (!strcmp(tok, names[i].name))
                break;
        if (i == sizeof(names) / sizeof(names[0])) {
            static char badbuf[64];
            snprintf(badbuf, sizeof(badbuf), "%s", tok);
            *bad = badbuf;
            return -1;
        }
        f |= names[i].bit;
    }
    *out = f;
    return 0;
}

/* Timed undo actions of the schedule. */
enum undo { U_RESTART = 1, U_RESUME, U_HEAL, U_LINKS };

struct pending_undo {
    uint64_t t;
    int kind, node;
};

#define MAX_UNDO 64

struct sched {
    struct sim_cluster *c;
    const struct explore_opts *o;
    struct prng rng;
    struct pending_undo undo[MAX_UNDO];
    int n_undo;
    bool partitioned, degraded;
    /* Traps: cut the leader off the instant it appends a client write, or
     * the instant it commits.  Time-based faults almost never land in
     * those windows, and they are where divergent tails and Figure 8
     * come from. */
    enum sim_trap trap;
    uint64_t trap_heal_after;
    /* The schedule as scenario lines (`at T command`), kept while no
     * failure has been saved yet, so a failing seed becomes a file that
     * `raftsim run` replays event for event. */
    char *rec;
    size_t rec_len, rec_cap;
    bool recording;
};

static void rec(struct sched *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void rec(struct sched *s, const char *fmt, ...)
{
    if (!s->recording)
        return;
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t room = s->rec_cap - s->rec_len;
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(s->rec ? s->rec + s->rec_len : NULL,
                          s->rec ? room : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            s->recording = false;
            return;
        }
        if ((size_t)w < room) {
            s->rec_len += (size_t)w;
            return;
        }
        size_t cap = s->rec_cap ? s->rec_cap : 4096;
        while (cap < s->rec_len + (size_t)w + 1)
            cap *= 2;
        char *b = realloc(s->rec, cap);
        if (!b) {
            s->recording = false;
            return;
        }
        s->rec = b;
        s->rec_cap = cap;
    }
}

/* "at T " prefix: integral microseconds, so the replay is exact. */
static void rec_at(struct sched *s)
{
    rec(s, "at %lluus ", (unsigned long long)sim_now(s->c));
}

static void add_undo(struct sched *s, uint64_t t, int kind, int node)
{
    if (s->n_undo < MAX_UNDO)
        s->undo[s->n_undo++] = (struct pending_undo){t, kind, node};
}

static uint64_t rnd(struct sched *s, uint64_t lo, uint64_t hi)
{
    return prng_range(&s->rng, lo, hi);
}

static int random_node(struct sched *s)
{
    return (int)rnd(s, 1, (uint64_t)s->o->nodes);
}

static int crashed_count(struct sched *s)
{
    int k = 0;
    for (int i = 1; i <= s->o->nodes; i++)
        k += !sim_is_up(s->c, i);
    return k;
}

static void trap_hook(void *ctx, struct sim_cluster *c,
                      const struct raft_event *ev)
{
    struct sched *s = ctx;
    if (!sim_trap_springs(c, s->trap, ev))
        return;
    s->trap = SIM_TRAP_NONE;
    s->partitioned = true;
    add_undo(s, sim_now(c) + s->trap_heal_after, U_HEAL, 0);
}

static void fault_partition(struct sched *s, uint64_t now)
{
    int n = s->o->nodes;
    int group[RAFT_MAX_NODES + 1] = {0};
    int leaders[RAFT_MAX_NODES];
    uint64_t r = rnd(s, 0, 9);
    if (r >= 8) {
        s->trap = r == 8 ? SIM_TRAP_APPEND : SIM_TRAP_COMMIT;
        s->trap_heal_after = rnd(s, 300000, 3000000);
        rec_at(s);
        rec(s, "isolate leader on %s\n", r == 8 ? "append" : "commit");
        return;
    }
    if (r < 2) {
        /* one-way: a node can hear but not speak, or the reverse */
        int a = random_node(s);
        bool out = rnd(s, 0, 1);
        rec_at(s);
        rec(s, "cut %s", out ? "" : "{");
        for (int b = 1, first = 1; !out && b <= n; b++)
            if (b != a) {
                rec(s, "%sn%d", first ? "" : ",", b);
                first = 0;
            }
        rec(s, out ? "n%d -> {" : "} -> n%d\n", a);
        for (int b = 1, first = 1; out && b <= n; b++)
            if (b != a) {
                rec(s, "%sn%d", first ? "" : ",", b);
                first = 0;
            }
        if (out)
            rec(s, "}\n");
        for (int b = 1; b <= n; b++)
            if (b != a) {
                if (out)
                    sim_cut(s->c, a, b);
                else
                    sim_cut(s->c, b, a);
            }
    } else {
        int iso = 0;
        if (r < 6) { /* isolate one node, often the leader */
            int k = sim_leaders(s->c, leaders);
            iso = (k && rnd(s, 0, 1)) ? leaders[0] : random_node(s);
            group[iso] = 1;
        } else { /* random split into two non-empty groups */
            int ones = 0;
            for (int i = 1; i <= n; i++)
                ones += group[i] = (int)rnd(s, 0, 1);
            if (ones == 0 || ones == n)
                group[random_node(s)] ^= 1;
        }
        rec_at(s);
        rec(s, "partition");
        for (int g = 1; g >= 0; g--) {
            rec(s, " {");
            for (int i = 1, first = 1; i <= n; i++)
                if (group[i] == g) {
                    rec(s, "%sn%d", first ? "" : ",", i);
                    first = 0;
                }
            rec(s, "}");
        }
        rec(s, "\n");
        sim_partition(s->c, group);
    }
    s->partitioned = true;
    add_undo(s, now + rnd(s, 300000, 3000000), U_HEAL, 0);
}

static void fault_crash(struct sched *s, uint64_t now)
{
    if (crashed_count(s) >= (s->o->nodes - 1) / 2)
        return;
    int id = random_node(s);
    if (!sim_is_up(s->c, id))
        return;
    bool lose = rnd(s, 0, 1);
    rec_at(s);
    rec(s, "crash n%d%s\n", id, lose ? " lose-unflushed" : "");
    sim_crash(s->c, id, lose);
    add_undo(s, now + rnd(s, 100000, 3000000), U_RESTART, id);
}

static void fault_pause(struct sched *s, uint64_t now)
{
    int id = random_node(s);
    if (!sim_is_up(s->c, id) || sim_is_paused(s->c, id))
        return;
    rec_at(s);
    rec(s, "pause n%d\n", id);
    sim_pause(s->c, id);
    add_undo(s, now + rnd(s, 100000, 2000000), U_RESUME, id);
}

static void degrade(struct sched *s, uint64_t now, bool drop)
{
    int n = s->o->nodes;
    int victim = rnd(s, 0, 1) ? random_node(s) : 0; /* 0: every link */
    for (int a = 1; a <= n; a++)
        for (int b = 1; b <= n; b++) {
            if (a == b || (victim && a != victim && b != victim))
                continue;
            struct sim_link l = *sim_get_link(s->c, a, b);
            if (drop) {
                l.drop = (double)rnd(s, 5, 40) / 100.0;
                l.dup = (double)rnd(s, 0, 10) / 100.0;
            } else {
                l.latency_us = rnd(s, 5000, 150000);
                l.jitter_us = rnd(s, 0, l.latency_us / 2);
            }
            rec_at(s);
            rec(s, "link n%d -> n%d latency %lluus jitter %lluus drop %.17g "
                   "dup %.17g\n",
                a, b, (unsigned long long)l.latency_us,
                (unsigned long long)l.jitter_us, l.drop, l.dup);
            sim_set_link(s->c, a, b, &l);
        }
    s->degraded = true;
    add_undo(s, now + rnd(s, 300000, 3000000), U_LINKS, 0);
}

static void run_undo(struct sched *s, struct pending_undo *u)
{
    switch (u->kind) {
    case U_RESTART:
        rec_at(s);
        rec(s, "restart n%d\n", u->node);
        sim_restart(s->c, u->node);
        break;
    case U_RESUME:
        rec_at(s);
        rec(s, "resume n%d\n", u->node);
        sim_resume(s->c, u->node);
        break;
    case U_HEAL:
        if (s->partitioned) {
            rec_at(s);
            rec(s, "heal\n");
            sim_heal(s->c);
        }
        s->partitioned = false;
        break;
    case U_LINKS:
        rec_at(s);
        rec(s, "link all -> all reset\n");
        /* Restore latency/drop but keep any partition in force. */
        for (int a = 1; a <= s->o->nodes; a++)
            for (int b = 1; b <= s->o->nodes; b++) {
                if (a == b)
                    continue;
                bool cut = sim_get_link(s->c, a, b)->cut;
                struct sim_link l = *sim_default_link(s->c);
                l.cut = cut;
                sim_set_link(s->c, a, b, &l);
            }
        s->degraded = false;
        break;
    }
}

static void random_fault(struct sched *s, uint64_t now)
{
    unsigned kinds[5];
    int k = 0;
    for (unsigned b = 1; b <= EXPLORE_F_DELAY; b <<= 1)
        if (s->o->faults & b)
            kinds[k++] = b;
    if (!k)
        return;
    switch (kinds[rnd(s, 0, (uint64_t)k - 1)]) {
    case EXPLORE_F_PARTITION:
        fault_partition(s, now);
        break;
    case EXPLORE_F_CRASH:
        fault_crash(s, now);
        break;
    case EXPLORE_F_PAUSE:
        fault_pause(s, now);
        break;
    case EXPLORE_F_DROP:
        degrade(s, now, true);
        break;
    case EXPLORE_F_DELAY:
        degrade(s, now, false);
        break;
    }
}

void explore_seed(const struct explore_opts *o, uint64_t seed,
                  struct explore_result *res)
{
    struct sim_options so;
    sim_options_default(&so, o->nodes);
    so.seed = seed;
    so.transport = o->transport;
    so.time_scale = o->time_scale;
    so.key = o->key;
    so.key_len = o->key_len;
    if (o->transport == SIM_TRANSPORT_TCP) {
        /* loopback supplies the latency; faults add to it */
        so.link.latency_us = 0;
        so.link.jitter_us = 0;
    }
    so.heartbeat_us = o->heartbeat_us;
    so.election_min_us = o->election_min_us;
    so.election_max_us = o->election_max_us;
    so.ack_mode = o->ack;
    so.policy = o->policy;
    so.prevote = o->prevote;
    so.checkquorum = o->checkquorum;
    so.unsafe = o->unsafe;
    so.trace = o->trace;
    struct util_out hist = {0};
    if (o->history && explore_history_open(o, seed, &hist) != 0)
        res->save_failed = true;
    so.history = hist.f;
    so.history_edn = o->history_edn;
    struct sched s = {.o = o};
    prng_seed(&s.rng, seed * 0x9e3779b97f4a7c15ull + 7);
    /* Half the seeds get a slow disk, so crashes can lose a real tail. */
    if ((o->faults & EXPLORE_F_CRASH) && rnd(&s, 0, 1))
        so.disk_latency_us = rnd(&s, 100, 3000);
    int rc = sim_cluster_new(&so, &s.c);
    if (rc != RAFT_OK) {
        fprintf(stderr, "explore: cannot create a %d-node cluster: %s\n",
                o->nodes,
                rc < RAFT_EDOWN ? uv_strerror(rc) : "bad options or no memory");
        res->setup_failures++;
        util_out_discard(&hist);
        return;
    }
    sim_set_hook(s.c, trap_hook, &s);
    s.recording = o->scenario_out && !res->have_first &&
                  o->transport == SIM_TRANSPORT_MEMORY;
    rec(&s,
        "# explore seed %llu, replayed event for event by\n"
        "#   raftsim run --clock virtual THIS_FILE\n"
        "# (virtual clock only: real time cannot replay a schedule exactly)\n"
        "clock virtual\n"
        "nodes %d\nseed %llu\nheartbeat %lluus\nelection %lluus..%lluus\n"
        "ack %s\npolicy %s\nprevote %s\ncheckquorum %s\n",
        (unsigned long long)seed, o->nodes, (unsigned long long)seed,
        (unsigned long long)so.heartbeat_us,
        (unsigned long long)so.election_min_us,
        (unsigned long long)so.election_max_us, raft_ack_mode_name(so.ack_mode),
        raft_policy_name(so.policy), so.prevote ? "on" : "off",
        so.checkquorum ? "on" : "off");
    for (unsigned b = 1, first = 1; b <= RAFT_UNSAFE_KEEP_CONFLICTS; b <<= 1)
        if (so.unsafe & b) {
            rec(&s, "%s%s", first ? "unsafe " : ",", raft_unsafe_name(b));
            first = 0;
        }
    if (so.unsafe)
        rec(&s, "\n");
    if (so.disk_latency_us)
        rec(&s, "disk %lluus\n", (unsigned long long)so.disk_latency_us);
    rec(&s, "clients c1 c2 c3\n\n");
    uint64_t write_gap = o->writes_per_s > 0
                             ? (uint64_t)(1e6 / o->writes_per_s)
                             : UINT64_MAX;
    uint64_t next_write = write_gap == UINT64_MAX ? UINT64_MAX
                                                  : rnd(&s, 0, write_gap);
    uint64_t next_fault = o->faults ? rnd(&s, 200000, 1000000) : UINT64_MAX;
    uint64_t wseq = 0;
    bool ok = true;
    while (ok) {
        uint64_t t = o->duration_us;
        int ui = -1;
        for (int i = 0; i < s.n_undo; i++)
            if (s.undo[i].t < t && (ui < 0 || s.undo[i].t < s.undo[ui].t))
                ui = i;
        if (ui >= 0)
            t = s.undo[ui].t;
        if (next_write < t)
            t = next_write, ui = -2;
        if (next_fault < t)
            t = next_fault, ui = -3;
        ok = sim_run_until(s.c, t);
        if (!ok || (ui == -1 && t >= o->duration_us))
            break;
        if (ui >= 0) {
            struct pending_undo u = s.undo[ui];
            s.undo[ui] = s.undo[--s.n_undo];
            run_undo(&s, &u);
        } else if (ui == -2) {
            char key[16], val[24];
            snprintf(key, sizeof(key), "k%d", (int)rnd(&s, 0, 9));
            snprintf(val, sizeof(val), "v%llu", (unsigned long long)++wseq);
            int cl = (int)rnd(&s, 1, 3);
            rec_at(&s);
            rec(&s, "write c%d %s=%s\n", cl, key, val);
            sim_client_write(s.c, cl, 0, key, val);
            /* jittered but steady: mean gap = write_gap */
            next_write = t + rnd(&s, write_gap / 2, write_gap * 3 / 2);
        } else {
            random_fault(&s, t);
            next_fault = t + rnd(&s, 200000, 1000000);
        }
    }
    if (ok) {
        /* Heal everything and let the cluster converge. */
        s.trap = SIM_TRAP_NONE;
        for (int i = 0; i < s.n_undo; i++)
            run_undo(&s, &s.undo[i]);
        s.n_undo = 0;
        for (int i = 1; i <= o->nodes; i++) {
            if (!sim_is_up(s.c, i)) {
                rec_at(&s);
                rec(&s, "restart n%d\n", i);
            }
            sim_restart(s.c, i);
            if (sim_is_paused(s.c, i)) {
                rec_at(&s);
                rec(&s, "resume n%d\n", i);
            }
            sim_resume(s.c, i);
        }
        rec_at(&s);
        rec(&s, "heal\n");
        sim_heal(s.c);
        ok = sim_run_until(s.c, o->duration_us + o->settle_us);
        if (ok)
            sim_finish(s.c);
        if (ok && sim_leaders(s.c, NULL) != 1)
            res->no_leader_at_end++;
    }
    const struct sim_stats *st = sim_stats(s.c);
    uint64_t v = sim_violations(s.c);
    res->seeds++;
    res->violations += v;
    res->failed_seeds += v > 0;
    res->acked_lost += st->acked_lost;
    res->elections += st->elections;
    res->messages += st->messages_delivered;
    res->writes += st->writes;
    res->acked += st->acked;
    res->simulated_s += (double)sim_now(s.c) / 1e6;
    res->last_seed = seed;
    res->last_end_us = sim_now(s.c);
    if (v && !res->have_first) {
        res->have_first = true;
        res->first_seed = seed;
        res->first = *sim_violation(s.c);
        if (s.recording) {
            rec(&s, "\n# the checker stopped the run here\n"
                    "at %lluus expect violation %s\n",
                (unsigned long long)res->first.t_us + 1, res->first.invariant);
            snprintf(res->scenario, sizeof(res->scenario), "%s",
                     o->scenario_out);
            char *pct = strstr(o->scenario_out, "%llu");
            if (pct)
                snprintf(res->scenario, sizeof(res->scenario),
                         "%.*s%llu%s", (int)(pct - o->scenario_out),
                         o->scenario_out, (unsigned long long)seed, pct + 4);
            struct util_out f;
            char err[sizeof(res->scenario) + 128];
            int rc = util_out_open(&f, res->scenario, err, sizeof(err));
            if (rc == 0) {
                fwrite(s.rec, 1, s.rec_len, f.f); /* checked at commit */
                rc = util_out_commit(&f, err, sizeof(err));
            }
            if (rc != 0) {
                fprintf(stderr, "explore: cannot save the schedule: %s\n",
                        err);
                res->scenario[0] = '\0';
                res->save_failed = true;
            }
        }
    }
    char terr[280];
    uint64_t te = sim_transport_errors(s.c, terr, sizeof(terr));
    if (te && !res->transport_errors)
        snprintf(res->first_transport_error,
                 sizeof(res->first_transport_error), "seed %llu: %s",
                 (unsigned long long)seed, terr);
    res->transport_errors += te;
    free(s.rec);
    sim_cluster_free(s.c); /* ends the history: writes still out */
    if (hist.f && explore_history_close(&hist) != 0)
        res->save_failed = true;
}

void explore_run(const struct explore_opts *o, struct explore_result *res)
{
    memset(res, 0, sizeof(*res));
    double t0 = util_wall_s(), last = t0;
    for (uint64_t k = 0; k < o->seeds; k++) {
        explore_seed(o, o->start_seed + k, res);
        if (util_stop_signal) {
            res->interrupted = true;
            break;
        }
        if (o->progress) {
            double now = util_wall_s();
            if (now - last > 0.1 || k + 1 == o->seeds) {
                last = now;
                fprintf(o->progress,
                        "\rexplore: %llu/%llu seeds, %llu violations, "
                        "%.0f seeds/s ",
                        (unsigned long long)(k + 1),
                        (unsigned long long)o->seeds,
                        (unsigned long long)res->violations,
                        (double)(k + 1) / (now - t0 + 1e-9));
                fflush(o->progress);
            }
        }
    }
    if (o->progress)
        fprintf(o->progress, "\r\033[K");
    res->wall_s = util_wall_s() - t0;
}

void explore_print_summary(FILE *f, const struct explore_result *r)
{
    fprintf(f,
            "explore: seeds=%llu violations=%llu acked_lost=%llu "
            "elections=%llu messages=%llu simulated_s=%.1f wall_s=%.2f\n",
            (unsigned long long)r->seeds, (unsigned long long)r->violations,
            (unsigned long long)r->acked_lost,
            (unsigned long long)r->elections,
            (unsigned long long)r->messages, r->simulated_s, r->wall_s);
}
