/*
 * runner_base.c — what every command of a scenario needs, below the
 * command files: names and sets of nodes, moving time, verdicts and
 * what became of a write; the hook through which the cluster's events
 * reach the trap, the PostgreSQL mirror and the narration; the status
 * table.  Calls run one way: runner.c (the loop) → runner_clients.c,
 * runner_expect.c, runner_faults.c (one command each) → this file →
 * runner_mirror.c → runner_say.c → runner_view.c.
 */
#include "sim/runner/runner_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/trace.h"
#include "sim/util/util.h"

#define REAL_STEP_US 2000

/* ------------------------------------------------------------------ */
/* Names, sets, time                                                   */
int r_node_of(struct runner *R, const struct scn_node *nr)
{
    if (nr->var == SCN_VAR_LEADER)
        return rv_leader(R);
    if (nr->var >= 0)
        return nr->var < SCN_MAX_VARS ? R->vars[nr->var] : 0;
    return nr->id >= 1 && nr->id <= R->n ? nr->id : 0;
}
const char *r_src(const struct scn_cmd *cmd)
{
    return cmd->src ? cmd->src : "(command)";
}
/* A node reference that names no node now: a failure that says why. */
static void unbound(struct runner *R, const struct scn_cmd *cmd,
                    const struct scn_node *nr)
{
    if (nr->var == SCN_VAR_LEADER)
        r_fail_line(R, cmd, "there is no leader now: no live node leads");
    else
        r_fail_line(R, cmd, "variable %s is not bound (the await that binds "
                            "it failed)",
                    nr->var >= 0 && nr->var < R->p->n_vars ? R->p->vars[nr->var]
                                                           : "?");
}

/* Resolve a set; false (and a failure) when it names an unbound variable
 * or `leader` when there is none. */
bool r_resolve(struct runner *R, const struct scn_cmd *cmd,
                    const struct scn_set *set, bool *in)
{
    memset(in, 0, (size_t)(R->n + 1) * sizeof(*in));
    bool named[SCN_MAX_NODES + 1] = {false};
    for (int s = 0; s < cmd->n_sets; s++) {
        for (int k = 0; k < cmd->sets[s].n; k++) {
            int id = r_node_of(R, &cmd->sets[s].items[k]);
            if (id)
                named[id] = true;
        }
        for (int k = 0; k < cmd->sets[s].n_except; k++) {
            int id = r_node_of(R, &cmd->sets[s].except[k]);
            if (id)
                named[id] = true;
        }
    }
    if (cmd->has_node && r_node_of(R, &cmd->node))
        named[r_node_of(R, &cmd->node)] = true;
    for (int i = 1; i <= R->n; i++) {
        if (set->all)
            in[i] = true;
        if (set->rest && !named[i])
            in[i] = true;
    }
    /* the members, then `except` takes its members out again */
    for (int pass = 0; pass < 2; pass++) {
        const struct scn_node *m = pass ? set->except : set->items;
        int count = pass ? set->n_except : set->n;
        for (int k = 0; k < count; k++) {
            int id = r_node_of(R, &m[k]);
            if (!id) {
                unbound(R, cmd, &m[k]);
                return false;
            }
            in[id] = pass == 0;
        }
    }
    return true;
}
bool r_one_node(struct runner *R, const struct scn_cmd *cmd,
                     const struct scn_node *nr, int *id)
{
    *id = r_node_of(R, nr);
    if (*id)
        return true;
    unbound(R, cmd, nr);
    return false;
}
void r_note_halt(struct runner *R)
{
    if (sim_violations(R->c) > 0)
        R->halted = true;
    rs_violations(R);
    rm_flush(R);
}
void r_run_to(struct runner *R, uint64_t t)
{
    if (R->horizon_us && t > R->horizon_us) {
        t = R->horizon_us;
        R->cut_short = true;
    }
    if (R->halted || t <= sim_now(R->c))
        return;
    /* the mirror's watch polls between slices of a heartbeat */
    uint64_t slice = rm_watch_slice_us(R);
    while (slice && !R->halted && !util_stop_signal &&
           sim_now(R->c) + slice < t) {
        sim_run_until(R->c, sim_now(R->c) + slice);
        r_note_halt(R);
    }
    if (R->halted)
        return;
    sim_run_until(R->c, t);
    r_note_halt(R);
}
/* One step towards deadline; false when time is up or the run halted. */
bool r_run_step(struct runner *R, uint64_t deadline)
{
    uint64_t now = sim_now(R->c);
    if (R->horizon_us && now >= R->horizon_us && deadline > now) {
        R->cut_short = true;
        return false;
    }
    if (R->halted || now >= deadline || util_stop_signal)
        return false;
    if (R->o.transport == SIM_TRANSPORT_MEMORY) {
        uint64_t next = sim_next_event_time(R->c);
        if (next > deadline || (R->horizon_us && next > R->horizon_us))
            r_run_to(R, deadline); /* stops at the horizon, if first */
        else {
            sim_run_events(R->c, 1);
            r_note_halt(R);
        }
    } else {
        uint64_t t = now + REAL_STEP_US;
        r_run_to(R, t < deadline ? t : deadline);
    }
    return true;
}
bool r_serves(struct runner *R, int id)
{
    return R->started[id] && sim_is_up(R->c, id) && !sim_is_paused(R->c, id);
}
int r_pick(struct runner *R, const bool *cand)
{
    int k = 0;
    for (int i = 1; i <= R->n; i++)
        k += cand[i];
    if (!k)
        return 0;
    uint64_t j = prng_range(&R->rng, 1, (uint64_t)k);
    for (int i = 1; i <= R->n; i++)
        if (cand[i] && --j == 0)
            return i;
    return 0;
}

void r_set_text(struct runner *R, char *buf, size_t cap, const bool *in)
{
    int k = 0;
    for (int i = 1; i <= R->n; i++)
        k += in[i];
    if (k == 1) {
        rs_nodeset(buf, cap, in, R->n);
        return;
    }
    char inner[SCN_MAX_NODES * 5];
    rs_nodeset(inner, sizeof(inner), in, R->n);
    snprintf(buf, cap, "{%s}", inner);
}

/* ------------------------------------------------------------------ */
/* Verdicts and outcomes                                               */
static void trace_expect(struct runner *R, const struct scn_cmd *cmd, bool ok,
                         const char *actual)
{
    struct trace *tr = sim_tracer(R->c);
    if (!trace_on(tr))
        return;
    trace_begin(tr, sim_now(R->c), 0, "expect");
    trace_u64(tr, "line", (uint64_t)cmd->line);
    trace_str(tr, "text", r_src(cmd));
    trace_bool(tr, "ok", ok);
    if (actual && *actual)
        trace_str(tr, "actual", actual);
    trace_end(tr);
}
void r_verdict(struct runner *R, const struct scn_cmd *cmd, bool ok,
                    const char *actual)
{
    if (R->cut_short)
        return; /* the horizon stopped it: it neither held nor failed */
    R->expectations++;
    trace_expect(R, cmd, ok, actual);
    if (ok) {
        R->passed++;
        if (!R->o.quiet) {
            rs_flush(R);
            char src[1024];
            fprintf(R->out, "%s%8.3f   ok  %s%s\n", rs_c(R, C_GREEN),
                    (double)sim_now(R->c) / 1e6,
                    util_escape_ctrl(r_src(cmd), src, sizeof(src)),
                    rs_c(R, C_RESET));
        }
        return;
    }
    R->failed++;
    if (!R->first_failed[0])
        snprintf(R->first_failed, sizeof(R->first_failed), "%s", r_src(cmd));
    rs_flush(R);
    char src[1024], act[1024];
    fprintf(R->out, "%s%s:%d: expectation failed: %s — %s%s\n",
            rs_c(R, C_BOLD C_RED), R->p->file, cmd->line,
            util_escape_ctrl(r_src(cmd), src, sizeof(src)),
            util_escape_ctrl(actual && *actual ? actual : "it did not hold",
                             act, sizeof(act)),
            rs_c(R, C_RESET));
    if (!R->o.keep_going)
        R->stop = true;
}
void r_fail_line(struct runner *R, const struct scn_cmd *cmd,
                      const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    r_verdict(R, cmd, false, buf);
}
const char *r_outcome_of(struct runner *R, int widx)
{
    const struct sim_write *w = sim_get_write(R->c, widx);
    switch (w->outcome) {
    case SIM_ACKED:
        if (rv_lost(R, w->lsn, w->term))
            return "lost";
        return rv_committed(R, w->lsn, w->term) ? "committed" : "acked";
    case SIM_REFUSED:
        return "refused";
    case SIM_UNKNOWN:
        return "timeout";
    default:
        return "pending";
    }
}
bool r_outcome_matches(struct runner *R, int widx, enum scn_outcome o)
{
    const struct sim_write *w = sim_get_write(R->c, widx);
    switch (o) {
    case SCN_OUT_ACKED:
        return w->outcome == SIM_ACKED;
    case SCN_OUT_COMMITTED:
        return w->outcome == SIM_ACKED && rv_committed(R, w->lsn, w->term);
    case SCN_OUT_REFUSED:
        return w->outcome == SIM_REFUSED;
    case SCN_OUT_TIMEOUT:
        return w->outcome == SIM_UNKNOWN;
    case SCN_OUT_LOST:
        return w->outcome == SIM_ACKED && rv_lost(R, w->lsn, w->term);
    default:
        return true;
    }
}

/* ------------------------------------------------------------------ */
/* Events and status                                                   */

/* `isolate leader on append|commit`: spring the trap (as explore does). */
_Static_assert((int)SCN_TRAP_APPEND == (int)SIM_TRAP_APPEND &&
                   (int)SCN_TRAP_COMMIT == (int)SIM_TRAP_COMMIT,
               "scenario traps are the cluster's");
static void trap(struct runner *R, struct sim_cluster *c,
                 const struct raft_event *ev)
{
    if (!sim_trap_springs(c, (enum sim_trap)R->trap, ev))
        return;
    R->trap = SCN_TRAP_NONE;
    rm_net(R);
    rs_line(R, ev->node, C_MAGENTA, "is isolated by the trap, at its %s of lsn %llu",
            ev->kind == RAFT_EV_COMMIT ? "commit" : "append",
            (unsigned long long)ev->lsn);
}

void r_hook(void *ctx, struct sim_cluster *c, const struct raft_event *ev)
{
    struct runner *R = ctx;
    if (ev->node < 1 || ev->node > R->n)
        return;
    trap(R, c, ev);
    r_count_role(R, ev);
    rm_event(R, ev);
    rs_hook(R, c, ev);
}

void r_status(struct runner *R)
{
    rs_status(R);
    rm_status(R);
}
