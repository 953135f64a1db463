/*
 * explore.c — one seed from start to verdict (explore_one), its schedule
 * as a scenario (explore_schedule), and the loop over seeds.  See
 * explore.h; the faults are in explore_faults.c, the swarm's draw in
 * explore_swarm.c, the liveness check in liveness.c.
 */
#include "sim/cluster/explore_int.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sim/cluster/explore_jobs.h"
#include "sim/cluster/liveness.h"
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
    o->fast_detect = true;
    o->swarm = true;
    o->liveness = true;
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
                 {"delay", EXPLORE_F_DELAY},         {"dup", EXPLORE_F_DUP},
                 {"slow", EXPLORE_F_SLOW},           {"all", EXPLORE_F_ALL},
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

static void rec_header(struct sched *s, uint64_t seed,
                       const struct sim_options *so)
{
    const struct explore_opts *o = s->o;
    ex_rec(s,
           "# explore seed %llu: its schedule as a scenario, replayed by\n"
           "#   raftsim run --clock virtual THIS_FILE\n"
           "# (virtual clock only: real time cannot replay a schedule "
           "exactly)\n",
           (unsigned long long)seed);
    if (s->w) {
        char text[512];
        explore_swarm_text(s->w, text, sizeof(text));
        ex_rec(s, "# swarm: %s\n", text);
    }
    ex_rec(s,
           "clock virtual\n"
           "nodes %d\nseed %llu\nheartbeat %lluus\nelection %lluus..%lluus\n"
           "ack %s\npolicy %s\nprevote %s\ncheckquorum %s\n",
           o->nodes, (unsigned long long)seed,
           (unsigned long long)so->heartbeat_us,
           (unsigned long long)so->election_min_us,
           (unsigned long long)so->election_max_us,
           raft_ack_mode_name(so->ack_mode), raft_policy_name(so->policy),
           so->prevote ? "on" : "off", so->checkquorum ? "on" : "off");
    if (!so->fast_detect)
        ex_rec(s, "fast-detect off\n");
    for (unsigned b = 1, first = 1; b <= RAFT_UNSAFE_CHANGE_TWO; b <<= 1)
        if (so->unsafe & b) {
            ex_rec(s, "%s%s", first ? "unsafe " : ",", raft_unsafe_name(b));
            first = 0;
        }
    if (so->unsafe)
        ex_rec(s, "\n");
    if (so->disk_latency_us)
        ex_rec(s, "disk %lluus\n", (unsigned long long)so->disk_latency_us);
    ex_members_header(s);
    ex_rec(s, "clients c1 c2 c3\n\n");
    if (so->snap_entries)
        ex_rec(s, "snapshot every %llu entries\n",
               (unsigned long long)so->snap_entries);
}

/* Heal every fault; the liveness phase keeps `core` nodes up (the rest
 * crashed) and checks that they make progress.  false: the seed failed
 * (out->v says why) or an invariant violation stopped the run. */
static bool heal_and_check(struct sched *s, struct explore_seed_result *out)
{
    const struct explore_opts *o = s->o;
    if (s->trap != SIM_TRAP_NONE) { /* armed, not sprung: the replay too */
        ex_rec_at(s);
        ex_rec(s, "isolate leader off\n");
    }
    s->trap = SIM_TRAP_NONE;
    for (int i = 0; i < s->n_undo; i++)
        ex_run_undo(s, &s->undo[i]);
    s->n_undo = 0;
    int core = o->liveness && s->w ? s->w->core : o->nodes;
    bool in_core[RAFT_MAX_NODES + 1];
    for (int i = 1; i <= o->nodes; i++)
        in_core[i] = true;
    for (int k = o->nodes; k > core;) { /* leave out random nodes */
        int id = (int)ex_rnd(s, 1, (uint64_t)o->nodes);
        if (in_core[id]) {
            in_core[id] = false;
            k--;
        }
    }
    for (int i = 1; i <= o->nodes; i++) {
        if (!in_core[i]) {
            if (sim_is_up(s->c, i)) {
                ex_rec_at(s);
                ex_rec(s, "crash n%d\n", i);
                sim_crash(s->c, i, false);
            }
            continue;
        }
        if (!sim_is_up(s->c, i)) {
            ex_rec_at(s);
            ex_rec(s, "restart n%d\n", i);
        }
        sim_restart(s->c, i);
        if (sim_is_paused(s->c, i)) {
            ex_rec_at(s);
            ex_rec(s, "resume n%d\n", i);
        }
        sim_resume(s->c, i);
    }
    ex_rec_at(s);
    ex_rec(s, "heal\n");
    sim_heal(s->c);
    if (!o->liveness)
        return true;
    uint64_t within =
        o->liveness_us ? o->liveness_us : sim_progress_default_us(s->c);
    ex_rec(s, "\n# the liveness phase: every fault healed, %d of %d nodes up "
              "and connected;\n# they must elect a leader and commit a "
              "write\n",
           core, o->nodes);
    ex_rec_at(s);
    ex_rec(s, "expect progress within %lluus\n", (unsigned long long)within);
    struct sim_progress pg;
    if (sim_check_progress(s->c, 1, within, &pg))
        return true;
    if (pg.stopped)
        return false;
    out->violated = true;
    out->liveness_failed = true;
    out->violations++;
    out->v.invariant = "Liveness";
    out->v.t_us = pg.t_us;
    out->v.nodes[0] = pg.leader;
    out->v.nodes[1] = 0;
    snprintf(out->v.detail, sizeof(out->v.detail), "%s: %s", pg.reason,
             pg.detail);
    ex_rec(s, "# that line fails: %s\n", out->v.detail);
    return false;
}

/* One seed; s->recording says whether to keep its schedule in s->rec. */
static void seed_run(const struct explore_opts *o, uint64_t seed,
                     struct sched *s, struct explore_seed_result *out)
{
    memset(out, 0, sizeof(*out));
    out->seed = seed;
    s->o = o;
    if (o->swarm)
        explore_swarm_draw(o, seed, &out->params);
    s->w = o->swarm ? &out->params : NULL;
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
    so.election_min_us = s->w ? s->w->election_min_us : o->election_min_us;
    so.election_max_us = s->w ? s->w->election_max_us : o->election_max_us;
    so.ack_mode = o->ack;
    so.policy = o->policy;
    so.prevote = o->prevote;
    so.checkquorum = o->checkquorum;
    so.fast_detect = o->fast_detect;
    so.unsafe = o->unsafe;
    so.snap_entries = o->snapshot_every == EXPLORE_SNAP_SWARM
                          ? (s->w ? s->w->snap_entries : 0)
                          : o->snapshot_every;
    so.trace = o->trace;
    struct util_out hist = {0};
    if (o->history && explore_history_open(o, seed, &hist) != 0)
        out->history_failed = true;
    so.history = hist.f;
    so.max_events =
        o->max_events
            ? o->max_events
            : EXPLORE_EVENTS_PER_NODE_S * (uint64_t)o->nodes *
                  ((o->duration_us + o->settle_us + o->liveness_us) / 1000000 +
                   1);
    so.history_edn = o->history_edn;
    prng_seed(&s->rng, seed * 0x9e3779b97f4a7c15ull + 7);
    if (s->w)
        so.disk_latency_us = s->w->disk_us;
    /* Half the fixed-mix seeds get a slow disk, so crashes can lose a
     * real tail. */
    else if ((o->faults & EXPLORE_F_CRASH) && ex_rnd(s, 0, 1))
        so.disk_latency_us = ex_rnd(s, 100, 3000);
    ex_members_options(s, &so);
    int rc = sim_cluster_new(&so, &s->c);
    if (rc != RAFT_OK) {
        fprintf(stderr, "explore: cannot create a %d-node cluster: %s\n",
                o->nodes,
                rc < RAFT_EDOWN ? uv_strerror(rc) : "bad options or no memory");
        out->setup_failed = true;
        s->c = NULL;
        util_out_discard(&hist);
        return;
    }
    sim_set_hook(s->c, ex_trap_hook, s);
    rec_header(s, seed, &so);
    double wrate = s->w ? s->w->writes_per_s : o->writes_per_s;
    uint64_t write_gap = wrate > 0 ? (uint64_t)(1e6 / wrate) : UINT64_MAX;
    uint64_t next_write = write_gap == UINT64_MAX ? UINT64_MAX
                                                  : ex_rnd(s, 0, write_gap);
    unsigned kinds = s->w ? s->w->kinds : o->faults & EXPLORE_F_FIXED;
    uint64_t gap_lo = s->w ? s->w->gap_min_us : 200000;
    uint64_t gap_hi = s->w ? s->w->gap_max_us : 1000000;
    uint64_t next_fault = kinds ? ex_rnd(s, gap_lo, gap_hi) : UINT64_MAX;
    uint64_t wseq = 0;
    uint64_t gap_m = s->w && s->w->members ? s->w->member_gap_us : 0;
    uint64_t next_member = gap_m ? ex_rnd(s, gap_m / 2, gap_m) : UINT64_MAX;
    uint64_t gap_x = s->w ? s->w->transfer_gap_us : 0;
    uint64_t next_xfer = gap_x ? ex_rnd(s, gap_x / 2, gap_x) : UINT64_MAX;
    bool ok = true;
    /* A stop signal ends the seed too: one can run for minutes (an
     * --unsafe rule that floods the network).  Not while recording the
     * first failure's schedule: that is saved even after a stop. */
    while (ok && (s->recording || !util_stop_signal)) {
        uint64_t t = o->duration_us;
        int ui = -1;
        for (int i = 0; i < s->n_undo; i++)
            if (s->undo[i].t < t && (ui < 0 || s->undo[i].t < s->undo[ui].t))
                ui = i;
        if (ui >= 0)
            t = s->undo[ui].t;
        if (next_write < t)
            t = next_write, ui = -2;
        if (next_fault < t)
            t = next_fault, ui = -3;
        if (next_member < t)
            t = next_member, ui = -4;
        if (next_xfer < t)
            t = next_xfer, ui = -5;
        ok = sim_run_until(s->c, t);
        if (!ok || (ui == -1 && t >= o->duration_us))
            break;
        if (ui >= 0) {
            struct pending_undo u = s->undo[ui];
            s->undo[ui] = s->undo[--s->n_undo];
            ex_run_undo(s, &u);
        } else if (ui == -2) {
            char key[16], val[24];
            snprintf(key, sizeof(key), "k%d", (int)ex_rnd(s, 0, 9));
            snprintf(val, sizeof(val), "v%llu", (unsigned long long)++wseq);
            int cl = (int)ex_rnd(s, 1, 3);
            ex_rec_at(s);
            ex_rec(s, "write c%d %s=%s\n", cl, key, val);
            sim_client_write(s->c, cl, 0, key, val);
            /* jittered but steady: mean gap = write_gap */
            next_write = t + ex_rnd(s, write_gap / 2, write_gap * 3 / 2);
        } else if (ui == -4) {
            ex_member_change(s);
            next_member = t + ex_rnd(s, gap_m / 2, gap_m * 3 / 2);
        } else if (ui == -5) {
            ex_transfer(s);
            next_xfer = t + ex_rnd(s, gap_x / 2, gap_x * 3 / 2);
        } else if (t < s->quiet_until) {
            /* swarm: the stability window after a heal */
            next_fault = s->quiet_until + ex_rnd(s, 0, gap_lo);
        } else {
            ex_random_fault(s, t);
            next_fault = t + ex_rnd(s, gap_lo, gap_hi);
        }
    }
    if (ok && (s->recording || !util_stop_signal) && heal_and_check(s, out)) {
        uint64_t end = o->duration_us + o->settle_us;
        ok = sim_now(s->c) >= end || sim_run_until(s->c, end);
        if (ok)
            sim_finish(s->c);
        if (ok && sim_leaders(s->c, NULL) != 1)
            out->no_leader_at_end = true;
    }
    const struct sim_stats *st = sim_stats(s->c);
    uint64_t v = sim_violations(s->c);
    if (v && !out->violated) {
        out->violated = true;
        out->v = *sim_violation(s->c);
        ex_rec(s, "\n# the checker stopped the run here\n"
                  "at %lluus expect violation %s\n",
               (unsigned long long)out->v.t_us + 1, out->v.invariant);
    }
    out->violations += v;
    out->over_budget = !v && sim_over_budget(s->c);
    out->acked_lost = st->acked_lost;
    out->elections = st->elections;
    out->messages = st->messages_delivered;
    out->writes = st->writes;
    out->acked = st->acked;
    out->transfers = s->transfers;
    out->end_us = sim_now(s->c);
    out->trace_hash = sim_trace_hash(s->c);
    out->transport_errors = sim_transport_errors(
        s->c, out->transport_error, sizeof(out->transport_error));
    sim_cluster_free(s->c); /* ends the history: writes still out */
    s->c = NULL;
    if (hist.f && explore_history_close(&hist) != 0)
        out->history_failed = true;
}

void explore_one(const struct explore_opts *o, uint64_t seed,
                 struct explore_seed_result *out)
{
    struct sched s = {0};
    seed_run(o, seed, &s, out);
}

/* explore_schedule, with the recording run's result in *out. */
static char *schedule(const struct explore_opts *o, uint64_t seed,
                      size_t *len, struct explore_seed_result *out)
{
    struct sched s = {.recording = true};
    struct explore_opts q = *o;
    q.trace = NULL;
    q.history = NULL; /* written when the seed first ran */
    seed_run(&q, seed, &s, out);
    if (!s.recording) { /* out of memory while recording */
        free(s.rec);
        return NULL;
    }
    *len = s.rec_len;
    return s.rec;
}

char *explore_schedule(const struct explore_opts *o, uint64_t seed,
                       size_t *len)
{
    struct explore_seed_result out;
    return schedule(o, seed, len, &out);
}

void explore_add(struct explore_result *res,
                 const struct explore_seed_result *sr)
{
    if (sr->setup_failed) {
        res->setup_failures++;
        return;
    }
    res->seeds++;
    res->violations += sr->violations;
    res->failed_seeds += sr->violated;
    res->liveness_failures += sr->liveness_failed;
    res->nondeterministic += sr->nondeterministic;
    res->acked_lost += sr->acked_lost;
    res->elections += sr->elections;
    res->messages += sr->messages;
    res->writes += sr->writes;
    res->acked += sr->acked;
    res->transfers += sr->transfers;
    res->no_leader_at_end += sr->no_leader_at_end;
    if (sr->over_budget &&
        (!res->over_budget || sr->seed < res->first_over_budget))
        res->first_over_budget = sr->seed;
    res->over_budget += sr->over_budget;
    res->simulated_s += (double)sr->end_us / 1e6;
    res->last_seed = sr->seed;
    res->last_end_us = sr->end_us;
    res->save_failed |= sr->history_failed;
    if (sr->violated && (!res->have_first || sr->seed < res->first_seed)) {
        res->have_first = true;
        res->first_seed = sr->seed;
        res->first = sr->v;
        res->first_params = sr->params;
    }
    if (sr->transport_errors && !res->transport_errors)
        snprintf(res->first_transport_error,
                 sizeof(res->first_transport_error), "seed %llu: %s",
                 (unsigned long long)sr->seed, sr->transport_error);
    res->transport_errors += sr->transport_errors;
}

void explore_one_checked(const struct explore_opts *o, uint64_t seed,
                         struct explore_seed_result *out)
{
    if (!o->check_determinism) {
        explore_one(o, seed, out);
        return;
    }
    struct explore_seed_result sr;
    /* Twice, each hashing its trace (to /dev/null when none is kept). */
    static FILE *devnull;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    struct explore_opts q = *o;
    if (!q.trace)
        q.trace = devnull;
    explore_one(&q, seed, &sr);
    struct explore_seed_result again;
    q.trace = devnull;
    q.history = NULL; /* the first run wrote it */
    explore_one(&q, seed, &again);
    if (sr.trace_hash != again.trace_hash || sr.end_us != again.end_us ||
        sr.violated != again.violated) {
        sr.nondeterministic = true;
        if (!sr.violated) {
            sr.violated = true;
            sr.violations++;
            sr.v = (struct sim_violation){.invariant = "Determinism",
                                          .t_us = sr.end_us};
            snprintf(sr.v.detail, sizeof(sr.v.detail),
                     "two runs of seed %llu differ: trace hash %016llx "
                     "ending at %lluus, then %016llx ending at %lluus",
                     (unsigned long long)seed,
                     (unsigned long long)sr.trace_hash,
                     (unsigned long long)sr.end_us,
                     (unsigned long long)again.trace_hash,
                     (unsigned long long)again.end_us);
        }
    }
    *out = sr;
}

void explore_seed(const struct explore_opts *o, uint64_t seed,
                  struct explore_result *res)
{
    struct explore_seed_result sr;
    explore_one_checked(o, seed, &sr);
    explore_add(res, &sr);
}

void explore_save_first(const struct explore_opts *o,
                        struct explore_result *res)
{
    if (!res->have_first || !o->scenario_out ||
        o->transport != SIM_TRANSPORT_MEMORY ||
        !strcmp(res->first.invariant, "Determinism"))
        return;
    snprintf(res->scenario, sizeof(res->scenario), "%s", o->scenario_out);
    const char *pct = strstr(o->scenario_out, "%llu");
    if (pct)
        snprintf(res->scenario, sizeof(res->scenario), "%.*s%llu%s",
                 (int)(pct - o->scenario_out), o->scenario_out,
                 (unsigned long long)res->first_seed, pct + 4);
    size_t len = 0;
    struct explore_seed_result again;
    char *text = schedule(o, res->first_seed, &len, &again);
    /* A check of determinism on the way: it must fail the same way. */
    res->replay_differs = text && (!again.violated ||
                                   again.v.t_us != res->first.t_us ||
                                   strcmp(again.v.invariant,
                                          res->first.invariant) != 0);
    if (text && o->shrink) {
        size_t slen = 0;
        char *small = o->shrink(o->shrink_ctx, res->scenario, text, len,
                                &slen);
        if (small) {
            free(text);
            text = small;
            len = slen;
            res->shrunk = true;
        }
    }
    struct util_out f;
    char err[sizeof(res->scenario) + 128];
    int rc = -1;
    if (!text)
        snprintf(err, sizeof(err), "out of memory");
    else
        rc = util_out_open(&f, res->scenario, err, sizeof(err));
    if (rc == 0) {
        fwrite(text, 1, len, f.f); /* checked at commit */
        rc = util_out_commit(&f, err, sizeof(err));
    }
    free(text);
    if (rc != 0) {
        fprintf(stderr, "explore: cannot save the schedule: %s\n", err);
        res->scenario[0] = '\0';
        res->save_failed = true;
    }
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
    explore_save_first(o, res);
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
    if (r->transfers)
        fprintf(f, "explore: %llu leadership transfer(s) taken on by a "
                   "leader\n",
                (unsigned long long)r->transfers);
}
