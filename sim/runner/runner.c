/*
 * runner.c — run a scenario: set the cluster up from the file, execute
 * its commands in order against virtual or real time, wait for what it
 * awaits, and sum it up.  Expectations are in runner_expect.c, client
 * writes and reads in runner_clients.c, faults in runner_faults.c.
 *
 * Time only moves in `wait`, `await`, `at` and writes that expect an
 * outcome; everything else happens at the current instant.  Awaits run
 * the cluster one event at a time in virtual time (so `as L` binds the
 * leader at the very event that made it one) and in steps of 2 ms in real
 * time.  Every wait is bounded: `within`, else 10 s of cluster time.
 *
 * Reads are served instantly by the chosen node from what it has applied
 * (a client next to every replica; the staleness comes from replication,
 * not from the client's link).  Freshness is judged against the highest
 * commit LSN any node knows: the cluster's committed truth.
 */
#include "sim/runner/runner_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/trace.h"
#include "sim/util/util.h"

#define DEFAULT_WITHIN_US 10000000

void scn_run_opts_default(struct scn_run_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->transport = SIM_TRANSPORT_MEMORY;
    o->time_scale = 1.0;
}

/* ------------------------------------------------------------------ */
/* Names, sets, time                                                   */










/* ------------------------------------------------------------------ */
/* Expectations                                                        */






/* Awaits                                                              */

static bool await_holds(struct runner *R, const struct scn_cmd *cmd,
                        const bool *in, int id, int *found)
{
    switch (cmd->await) {
    case SCN_AW_LEADER:
        /* not a stale leader (say, right after a heal): one that a
         * majority is in the term of and follows (README, await) */
        *found = rv_leader_in(R, cmd->has_set ? in : NULL);
        return *found != 0 && r_followed(R, *found);
    case SCN_AW_LSN: /* that entry, applied on the node */
        return r_serves(R, id) && sim_applied_lsn(R->c, id) >= cmd->u;
    case SCN_AW_WRITE: {
        /* that one write: its entry (lsn, term) committed */
        int widx = rv_last_write(R, cmd->client, cmd->key);
        const struct sim_write *w = widx >= 0 ? sim_get_write(R->c, widx) : NULL;
        return w && w->outcome != SIM_PENDING && w->lsn &&
               rv_committed(R, w->lsn, w->term);
    }
    case SCN_AW_FOLLOWER: {
        if (!r_serves(R, id))
            return false;
        struct raft_node *r = sim_node(R->c, id);
        int l = raft_leader(r);
        return raft_role(r) == RAFT_FOLLOWER && l && l != id && r_serves(R, l) &&
               raft_role(sim_node(R->c, l)) == RAFT_LEADER &&
               raft_term(sim_node(R->c, l)) == raft_term(r);
    }
    case SCN_AW_COMMITTED:
        return rv_key_committed(R, cmd->key, id);
    case SCN_AW_CAUGHT_UP: {
        int l = rv_leader(R);
        if (!l || !r_serves(R, id))
            return false;
        struct raft_node *lr = sim_node(R->c, l);
        uint64_t commit = raft_commit_lsn(lr);
        const struct wal *w = raft_wal(sim_node(R->c, id));
        /* the leader's term must have begun: its no-op committed */
        if (wal_term_at(raft_wal(lr), commit) != raft_term(lr))
            return false;
        return sim_applied_lsn(R->c, id) >= commit &&
               wal_term_at(w, commit) == wal_term_at(raft_wal(lr), commit);
    }
    }
    return false;
}

static void do_await(struct runner *R, const struct scn_cmd *cmd)
{
    bool in[SCN_MAX_NODES + 1];
    int id = 0, found = 0;
    if (cmd->has_set && !r_resolve(R, cmd, &cmd->sets[0], in))
        return;
    if (cmd->has_node && !r_one_node(R, cmd, &cmd->node, &id))
        return;
    uint64_t start = sim_now(R->c);
    uint64_t deadline =
        start + (cmd->within_us ? cmd->within_us : DEFAULT_WITHIN_US);
    bool ok = await_holds(R, cmd, in, id, &found);
    rp_begin(R, cmd);
    while (!ok && r_run_step(R, deadline)) {
        ok = await_holds(R, cmd, in, id, &found);
        rp_tick(R);
    }
    rp_end(R);
    if (!ok && util_stop_signal)
        return; /* not a failure: the run was stopped */
    if (!ok) {
        r_fail_line(R, cmd, "still not true after %.3f s%s",
                  (double)(sim_now(R->c) - start) / 1e6,
                  R->halted ? " (the run halted on an invariant violation)"
                            : "");
        return;
    }
    if (cmd->await == SCN_AW_LEADER && cmd->bind_var >= 0 &&
        cmd->bind_var < SCN_MAX_VARS) {
        R->vars[cmd->bind_var] = found;
        if (!R->o.quiet)
            rs_line(R, 0, C_DIM, "%s = n%d", R->p->vars[cmd->bind_var], found);
    }
}

/* ------------------------------------------------------------------ */
/* Narration                                                           */

static void do_say(struct runner *R, const struct scn_cmd *cmd)
{
    char text[2048];
    size_t len = 0;
    for (int k = 0; k < cmd->n_segs && len < sizeof(text) - 1; k++) {
        const struct scn_seg *sg = &cmd->segs[k];
        size_t room = sizeof(text) - len;
        int id = 0;
        if (sg->kind == SCN_SEG_NODE || sg->kind == SCN_SEG_QUANT ||
            sg->kind == SCN_SEG_ROLE)
            id = r_node_of(R, &sg->node);
        int w = 0;
        switch (sg->kind) {
        case SCN_SEG_TEXT:
            w = snprintf(text + len, room, "%s", sg->text ? sg->text : "");
            break;
        case SCN_SEG_NODE:
            w = id ? snprintf(text + len, room, "n%d", id)
                   : snprintf(text + len, room, "(unbound)");
            break;
        case SCN_SEG_QUANT:
            w = id ? snprintf(text + len, room, "%llu",
                              (unsigned long long)rv_quantity(R, sg->q, id))
                   : snprintf(text + len, room, "?");
            break;
        case SCN_SEG_ROLE:
            w = snprintf(text + len, room, "%s", id ? rv_role_name(R, id) : "?");
            break;
        case SCN_SEG_LEADER: {
            int l = rv_leader(R);
            w = l ? snprintf(text + len, room, "n%d", l)
                  : snprintf(text + len, room, "none");
            break;
        }
        case SCN_SEG_TIME:
            w = snprintf(text + len, room, "%.3f",
                         (double)sim_now(R->c) / 1e6);
            break;
        }
        if (w > 0)
            len += (size_t)w < room ? (size_t)w : room - 1;
    }
    text[len] = '\0';
    rs_say(R, text);
    struct trace *tr = sim_tracer(R->c);
    if (trace_on(tr)) {
        trace_begin(tr, sim_now(R->c), 0, "say");
        trace_u64(tr, "line", (uint64_t)cmd->line);
        trace_str(tr, "text", text);
        trace_end(tr);
    }
}

static void do_step(struct runner *R)
{
    if (!R->o.step)
        return;
    rs_flush(R);
    fprintf(R->out, "%s          [step] press Enter to go on%s", rs_c(R, C_DIM),
            rs_c(R, C_RESET));
    fflush(R->out);
    sim_hold_clock(R->c, true);
    FILE *in = R->o.step_in ? R->o.step_in : stdin;
    int ch;
    while ((ch = fgetc(in)) != EOF && ch != '\n')
        ;
    sim_hold_clock(R->c, false);
    if (ch == EOF)
        R->o.step = false; /* no more input: run to the end */
}

/* let A B … = SET: bind the members in id order. */
static void do_let(struct runner *R, const struct scn_cmd *cmd)
{
    if (cmd->let_q != SCN_Q_NONE) { /* let T = term of L: a number now */
        int id;
        if (!r_one_node(R, cmd, &cmd->node, &id))
            return;
        uint64_t v = rv_quantity(R, cmd->let_q, id);
        R->nums[cmd->let_vars[0]] = v;
        if (!R->o.quiet)
            rs_line(R, 0, C_DIM, "%s = %llu", R->p->vars[cmd->let_vars[0]],
                    (unsigned long long)v);
        return;
    }
    bool in[SCN_MAX_NODES + 1];
    if (!r_resolve(R, cmd, &cmd->sets[0], in))
        return;
    int k = 0;
    for (int i = 1; i <= R->n && k < cmd->n_let; i++)
        if (in[i])
            R->vars[cmd->let_vars[k++]] = i;
    if (k < cmd->n_let) {
        for (int j = k; j < cmd->n_let; j++)
            R->vars[cmd->let_vars[j]] = 0;
        r_fail_line(R, cmd, "the set has %d member%s for %d variable%s", k,
                  k == 1 ? "" : "s", cmd->n_let, cmd->n_let == 1 ? "" : "s");
    }
}

/* ------------------------------------------------------------------ */
/* The run                                                             */

static void exec(struct runner *R, const struct scn_cmd *cmd)
{
    R->line = cmd->line;
    if (cmd->at)
        r_run_to(R, cmd->at_us);
    switch (cmd->kind) {
    case SCN_LINK:
        r_do_link(R, cmd);
        break;
    case SCN_START:
    case SCN_CRASH:
    case SCN_RESTART:
    case SCN_PAUSE:
    case SCN_RESUME:
    case SCN_CAMPAIGN:
        r_do_life(R, cmd);
        break;
    case SCN_TRANSFER:
        r_do_transfer(R, cmd);
        break;
    case SCN_MEMBER:
        r_do_member(R, cmd);
        break;
    case SCN_SNAPSHOT:
        r_do_snapshot(R, cmd);
        break;
    case SCN_PARTITION:
        if (cmd->shape != SCN_SHAPE_SETS)
            r_do_shape(R, cmd);
        else
            r_do_partition(R, cmd, false);
        break;
    case SCN_MARK:
        r_do_mark(R, cmd);
        break;
    case SCN_ISOLATE:
        if (cmd->trap == SCN_TRAP_OFF) {
            if (R->trap != SCN_TRAP_NONE)
                rs_line(R, 0, C_MAGENTA, "trap disarmed: it had not sprung, "
                                         "and no leader will be isolated");
            R->trap = SCN_TRAP_NONE;
        } else if (cmd->trap != SCN_TRAP_NONE) {
            R->trap = cmd->trap;
            rs_line(R, 0, C_MAGENTA,
                    "trap set: the leader will be isolated at its next %s",
                    cmd->trap == SCN_TRAP_APPEND ? "client write" : "commit");
        } else
            r_do_partition(R, cmd, true);
        break;
    case SCN_LET:
        do_let(R, cmd);
        break;
    case SCN_CUT:
        r_do_cut(R, cmd);
        break;
    case SCN_HEAL:
        if (cmd->n_sets == 2) {
            r_do_heal_links(R, cmd);
            break;
        }
        sim_heal(R->c);
        rs_line(R, 0, C_MAGENTA, "heal: every cut link works again");
        rm_net(R);
        break;
    case SCN_WRITE:
        r_do_write(R, cmd);
        break;
    case SCN_READ:
        r_do_read(R, cmd);
        break;
    case SCN_WAIT:
        rp_wait(R, cmd, sim_now(R->c) + cmd->u);
        break;
    case SCN_AWAIT:
        do_await(R, cmd);
        break;
    case SCN_EXPECT:
        r_check(R, cmd);
        break;
    case SCN_SAY:
        do_say(R, cmd);
        break;
    case SCN_STEP:
        do_step(R);
        break;
    case SCN_SHOW_STATUS:
        r_status(R);
        if (cmd->wal)
            r_wal_status(R);
        break;
    default:
        break; /* set-up commands are folded into the program */
    }
    rs_flush(R);
    rm_flush(R);
}

/* " (--ack)" after a value the command line gave, "" after the file's */
static const char *given(struct runner *R, unsigned bit, const char *flag)
{
    return R->o.overridden & bit ? flag : "";
}

static void header(struct runner *R, const struct sim_options *so)
{
    if (R->o.quiet)
        return;
    char unsafe[96] = "";
    size_t len = 0;
    for (unsigned b = 1; b && b <= R->p->unsafe; b <<= 1)
        if ((R->p->unsafe & b) && len < sizeof(unsafe))
            len += (size_t)snprintf(unsafe + len, sizeof(unsafe) - len,
                                    "%s%s", len ? "," : ", unsafe ",
                                    raft_unsafe_name(b));
    fprintf(R->out,
            "%s%s%s: %d nodes, heartbeat %.0fms%s, election %.0f-%.0fms%s, "
            "ack %s%s, policy %s%s, prevote %s%s, checkquorum %s%s%s%s%s, "
            "seed %llu%s, %s clock%s\n",
            rs_c(R, C_BOLD), R->p->file, rs_c(R, C_RESET), so->n_nodes,
            (double)so->heartbeat_us / 1e3,
            given(R, SCN_OV_HEARTBEAT, " (--heartbeat)"),
            (double)so->election_min_us / 1e3,
            (double)so->election_max_us / 1e3,
            given(R, SCN_OV_ELECTION, " (--election-timeout)"),
            raft_ack_mode_name(so->ack_mode), given(R, SCN_OV_ACK, " (--ack)"),
            raft_policy_name(so->policy),
            given(R, SCN_OV_POLICY, " (--policy)"), so->prevote ? "on" : "off",
            given(R, SCN_OV_PREVOTE, " (--prevote)"),
            so->checkquorum ? "on" : "off",
            given(R, SCN_OV_CHECKQUORUM, " (--checkquorum)"), unsafe,
            so->fast_detect ? "" : ", fast detection off",
            given(R, SCN_OV_FAST_DETECT, " (--no-fast-detect)"),
            (unsigned long long)so->seed, R->o.seed_given ? " (--seed)" : "",
            so->transport == SIM_TRANSPORT_PROCS ? "processes (one per node, TCP)"
            : so->transport == SIM_TRANSPORT_TCP ? "real (TCP)"
                                                 : "virtual",
            so->transport != SIM_TRANSPORT_MEMORY && so->time_scale != 1.0
                ? " (slowed down)"
                : "");
}

static void finish(struct runner *R, struct scn_run_result *res)
{
    rs_flush(R);
    if (!R->halted)
        sim_finish(R->c);
    r_note_halt(R);
    for (int k = 0; k < R->n_lost; k++) {
        struct scn_cmd tmp;
        memset(&tmp, 0, sizeof(tmp));
        const struct scn_cmd *orig = NULL;
        for (int i = 0; i < R->p->n_cmds; i++)
            if (R->p->cmds[i].line == R->lost[k].line)
                orig = &R->p->cmds[i];
        tmp.line = R->lost[k].line;
        tmp.src = orig ? orig->src : NULL;
        bool ok = r_outcomes_match(R, R->lost[k].widx, R->lost[k].outcomes,
                                   R->lost[k].negate);
        char actual[96];
        snprintf(actual, sizeof(actual), "at the end of the run the write is %s",
                 r_outcome_of(R, R->lost[k].widx));
        r_verdict(R, &tmp, ok, actual);
    }
    const struct sim_stats *st = sim_stats(R->c);
    uint64_t v = sim_violations(R->c);
    const struct sim_violation *sv = sim_violation(R->c);
    bool bad_violation = v > 0 && !R->expected_violation;
    if (R->mirror_failures) {
        R->failed++; /* a failed mirror step fails the run */
        fprintf(R->out, "%s%s: %d mirror step%s failed or broke the "
                        "one-writer rule%s\n",
                rs_c(R, C_RED), R->p->file, R->mirror_failures,
                R->mirror_failures == 1 ? "" : "s", rs_c(R, C_RESET));
    }
    memset(res, 0, sizeof(*res));
    res->expectations = R->expectations;
    res->passed = R->passed;
    res->failed = R->failed;
    res->elections = st->elections;
    res->discarded = st->discarded + st->discarded_crash;
    res->discarded_crash = st->discarded_crash;
    res->writes = st->writes;
    res->acked = st->acked;
    res->acked_lost = st->acked_lost;
    res->acked_pending = st->acked_pending;
    res->reads = R->reads;
    res->stale_reads = R->stale_reads;
    res->violations = v;
    res->first_violation = sv ? sv->invariant : NULL;
    res->liveness = R->liveness_reason;
    snprintf(res->first_failed, sizeof(res->first_failed), "%s",
             R->first_failed);
    res->end_us = sim_now(R->c);
    bool ok = R->failed == 0 && !bad_violation;
    /* discards by reason; acked writes that can no longer commit apart
     * from those still pending when the run stopped */
    uint64_t disc = st->discarded + st->discarded_crash;
    char why[96] = "";
    if (st->discarded && st->discarded_crash)
        snprintf(why, sizeof(why), " (%llu replaced by a leader's log, %llu "
                                   "lost in a crash)",
                 (unsigned long long)st->discarded,
                 (unsigned long long)st->discarded_crash);
    else if (st->discarded_crash)
        snprintf(why, sizeof(why), " (lost in a crash)");
    char pend[64] = "";
    if (st->acked_pending)
        snprintf(pend, sizeof(pend), " · %llu pending at the end of the run",
                 (unsigned long long)st->acked_pending);
    fprintf(R->out,
            "%s%s: %s — %d/%d expectations held · %llu election%s · %llu "
            "entr%s discarded%s · %llu of %llu acknowledged writes lost%s · "
            "%llu of %llu reads stale · invariants %s%s\n",
            rs_c(R, ok ? C_BOLD C_GREEN : C_BOLD C_RED), R->p->file,
            R->interrupted ? "interrupted" : ok ? "passed" : "FAILED",
            R->passed, R->expectations,
            (unsigned long long)st->elections, st->elections == 1 ? "" : "s",
            (unsigned long long)disc, disc == 1 ? "y" : "ies", why,
            (unsigned long long)st->acked_lost, (unsigned long long)st->acked,
            pend, (unsigned long long)R->stale_reads,
            (unsigned long long)R->reads,
            v == 0 ? "held"
                   : (R->expected_violation ? "violated (as expected)"
                                            : "VIOLATED"),
            rs_c(R, C_RESET));
    if (bad_violation)
        fprintf(R->out, "%s%s: invariant %s violated at %.3f s: %s%s\n",
                rs_c(R, C_RED), R->p->file, sv->invariant,
                (double)sv->t_us / 1e6, sv->detail, rs_c(R, C_RESET));
}

/* ------------------------------------------------------------------ */
/* One command at a time (the live session drives these)               */

int scn_runner_new(const struct scn_program *p, const struct scn_run_opts *o,
                   struct scn_runner **out)
{
    *out = NULL;
    struct runner *R = calloc(1, sizeof(*R));
    if (!R)
        return 2;
    R->p = p;
    R->o = *o;
    R->out = o->out ? o->out : stdout;
    R->n = p->nodes;
    for (int i = 0; i < p->n_cmds; i++)
        if (p->cmds[i].kind == SCN_EXPECT &&
            p->cmds[i].ex.kind == SCN_EX_VIOLATION)
            R->expected_violation = true;

    struct sim_options so;
    sim_options_default(&so, p->nodes);
    so.transport = o->transport;
    so.time_scale = o->time_scale > 0 ? o->time_scale : 1.0;
    so.key = o->key;
    so.key_len = o->key_len;
    so.seed = o->seed_given ? o->seed : p->seed;
    so.heartbeat_us = p->heartbeat_us;
    so.election_min_us = p->election_min_us;
    so.election_max_us = p->election_max_us;
    so.ack_mode = p->ack;
    so.policy = p->policy;
    so.prevote = p->prevote;
    so.checkquorum = p->checkquorum;
    so.fast_detect = p->fast_detect;
    so.unsafe = p->unsafe;
    for (int i = 1; p->has_members && i <= p->nodes; i++)
        if (p->member[i])
            raft_nodeset_add(&so.members.voters, i);
    so.disk_latency_us = p->disk_us;
    so.client_timeout_us = p->client_timeout_us;
    so.client_latency_us = p->client_latency_us;
    so.n_clients = p->n_clients > 0 ? p->n_clients : 1;
    if (so.n_clients < o->min_clients)
        so.n_clients = o->min_clients; /* room for clients named later */
    /* mirroring: a node with no database is a witness and never stands */
    for (int i = 1; p->n_mirror > 0 && i <= p->nodes; i++)
        if (!p->mirror_of[i])
            raft_nodeset_add(&so.nofailover, i);
    so.trace = o->trace;
    if (o->transport != SIM_TRANSPORT_MEMORY)
        so.link.latency_us = so.link.jitter_us = 0; /* loopback is real */
    prng_seed(&R->rng, so.seed ^ UINT64_C(0x7265616473)); /* "reads" */

    header(R, &so);
    int rc = sim_cluster_new(&so, &R->c);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot start the cluster: %s\n", p->file,
                rc < 0 && o->transport != SIM_TRANSPORT_MEMORY && rc != RAFT_EINVAL &&
                        rc != RAFT_ENOMEM
                    ? "a listener could not be set up on 127.0.0.1"
                    : "bad configuration or out of memory");
        free(R);
        return 2;
    }
    sim_set_hook(R->c, r_hook, R);
    sim_set_write_hook(R->c, rs_write_hook, R);
    for (int i = 1; i <= R->n; i++)
        R->started[i] = true;
    /* `start SET` as the first command (links aside): the others begin
     * switched off */
    int first = 0;
    while (first < p->n_cmds && p->cmds[first].kind == SCN_LINK &&
           !p->cmds[first].at)
        first++;
    if (first < p->n_cmds && p->cmds[first].kind == SCN_START &&
        p->cmds[first].n_sets > 0 && !p->cmds[first].at) {
        bool in[SCN_MAX_NODES + 1];
        if (r_resolve(R, &p->cmds[first], &p->cmds[first].sets[0], in))
            for (int i = 1; i <= R->n; i++)
                if (!in[i]) {
                    sim_crash(R->c, i, false);
                    R->started[i] = false;
                    R->role[i] = RAFT_DOWN;
                }
    }
    /* after the start set is known: the mirror puts the primary on the
     * server of the file's first leader */
    if (p->n_mirror > 0) {
        char err[512];
        sim_hold_clock(R->c, true);
        int mrc = rm_start(R, err, sizeof(err));
        sim_hold_clock(R->c, false);
        if (mrc != 0) {
            fprintf(stderr, "%s: the PostgreSQL mirror cannot start: %s\n",
                    p->file, err);
            rm_free(R);
            sim_cluster_free(R->c);
            free(R);
            return 2;
        }
    }
    *out = (struct scn_runner *)R;
    return 0;
}

static struct runner *runner_of(struct scn_runner *r)
{
    return (struct runner *)r;
}

void scn_runner_exec(struct scn_runner *r, const struct scn_cmd *cmd)
{
    struct runner *R = runner_of(r);
    R->cut_short = false;
    exec(R, cmd);
}

void scn_runner_set_program(struct scn_runner *r, const struct scn_program *p)
{
    struct runner *R = runner_of(r);
    assert(p->nodes == R->n);
    R->p = p;
    for (int i = 0; i < p->n_cmds; i++)
        if (p->cmds[i].kind == SCN_EXPECT &&
            p->cmds[i].ex.kind == SCN_EX_VIOLATION)
            R->expected_violation = true;
}

void scn_runner_run_to(struct scn_runner *r, uint64_t t_us)
{
    struct runner *R = runner_of(r);
    R->cut_short = false;
    r_run_to(R, t_us);
    rs_flush(R);
    rm_flush(R);
}

void scn_runner_set_horizon(struct scn_runner *r, uint64_t t_us)
{
    runner_of(r)->horizon_us = t_us;
}

bool scn_runner_cut_short(struct scn_runner *r)
{
    return runner_of(r)->cut_short;
}

bool scn_runner_stopped(struct scn_runner *r)
{
    struct runner *R = runner_of(r);
    return R->stop || R->halted;
}

uint64_t scn_runner_now(struct scn_runner *r)
{
    return sim_now(runner_of(r)->c);
}

struct sim_cluster *scn_runner_cluster(struct scn_runner *r)
{
    return runner_of(r)->c;
}

int scn_runner_var(struct scn_runner *r, int var)
{
    struct runner *R = runner_of(r);
    return var >= 0 && var < SCN_MAX_VARS ? R->vars[var] : 0;
}

const char *scn_runner_role_name(struct scn_runner *r, int id)
{
    return rv_role_name(runner_of(r), id);
}

int scn_runner_finish(struct scn_runner *r, struct scn_run_result *res)
{
    struct runner *R = runner_of(r);
    finish(R, res);
    return res->failed > 0 || (res->violations > 0 && !R->expected_violation)
               ? 1
               : 0;
}

void scn_runner_free(struct scn_runner *r)
{
    struct runner *R = runner_of(r);
    if (!R)
        return;
    rm_free(R);
    sim_cluster_free(R->c);
    free(R->app_t);
    free(R->app_term);
    free(R->disc);
    free(R);
}

int scn_run(const struct scn_program *p, const struct scn_run_opts *o,
            struct scn_run_result *res)
{
    memset(res, 0, sizeof(*res));
    if (p->virtual_only && o->transport != SIM_TRANSPORT_MEMORY) {
        fprintf(o->out ? o->out : stdout,
                "%s: skipped: `clock virtual` (an exact replay needs "
                "the virtual clock)\n",
                p->file);
        res->skipped = true;
        return 0;
    }
    struct scn_runner *r;
    if (scn_runner_new(p, o, &r) != 0) {
        res->setup_error = true;
        return 2;
    }
    struct runner *R = runner_of(r);
    for (int i = 0; i < p->n_cmds && !R->stop && !util_stop_signal; i++)
        exec(R, &p->cmds[i]);
    bool interrupted = util_stop_signal != 0;
    R->interrupted = interrupted;
    if (interrupted) {
        rs_flush(R);
        fprintf(R->out, "%s: interrupted at t=%.3f s (%s)\n", p->file,
                (double)sim_now(R->c) / 1e6,
                o->transport == SIM_TRANSPORT_PROCS ? "processes"
                : o->transport == SIM_TRANSPORT_TCP ? "real"
                                                    : "virtual");
    }
    int ret = scn_runner_finish(r, res);
    res->interrupted = interrupted;
    char terr[320];
    uint64_t te = sim_transport_errors(R->c, terr, sizeof(terr));
    if (te) {
        fprintf(stderr, "%s: %llu transport error(s) stopped nodes from "
                "working; the first: %s\n", p->file, (unsigned long long)te,
                terr);
        ret = 2;
    }
    scn_runner_free(r);
    return ret;
}
