/*
 * runner.c — run a scenario: set the cluster up from the file, execute
 * its commands in order against virtual or real time, wait for what it
 * awaits, check what it expects, and sum it up.
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
#include "sim/runner_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"

#define DEFAULT_WITHIN_US 10000000
#define REAL_STEP_US 2000

void scn_run_opts_default(struct scn_run_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->transport = SIM_TRANSPORT_MEMORY;
    o->time_scale = 1.0;
}

/* ------------------------------------------------------------------ */
/* Names, sets, time                                                   */

static int node_of(struct runner *R, const struct scn_node *nr)
{
    if (nr->var >= 0)
        return nr->var < SCN_MAX_VARS ? R->vars[nr->var] : 0;
    return nr->id >= 1 && nr->id <= R->n ? nr->id : 0;
}

static const char *src(const struct scn_cmd *cmd)
{
    return cmd->src ? cmd->src : "(command)";
}

static void fail_line(struct runner *R, const struct scn_cmd *cmd,
                      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Resolve a set; false (and a failure) when it names an unbound variable. */
static bool resolve(struct runner *R, const struct scn_cmd *cmd,
                    const struct scn_set *set, bool *in)
{
    memset(in, 0, (size_t)(R->n + 1) * sizeof(*in));
    bool named[SCN_MAX_NODES + 1] = {false};
    for (int s = 0; s < cmd->n_sets; s++) {
        for (int k = 0; k < cmd->sets[s].n; k++) {
            int id = node_of(R, &cmd->sets[s].items[k]);
            if (id)
                named[id] = true;
        }
        for (int k = 0; k < cmd->sets[s].n_except; k++) {
            int id = node_of(R, &cmd->sets[s].except[k]);
            if (id)
                named[id] = true;
        }
    }
    if (cmd->has_node && node_of(R, &cmd->node))
        named[node_of(R, &cmd->node)] = true;
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
            int id = node_of(R, &m[k]);
            if (!id) {
                fail_line(R, cmd, "variable %s is not bound (the await that "
                                  "binds it failed)",
                          R->p->vars[m[k].var]);
                return false;
            }
            in[id] = pass == 0;
        }
    }
    return true;
}

static bool one_node(struct runner *R, const struct scn_cmd *cmd,
                     const struct scn_node *nr, int *id)
{
    *id = node_of(R, nr);
    if (*id)
        return true;
    fail_line(R, cmd, "variable %s is not bound (the await that binds it "
                      "failed)",
              nr->var >= 0 && nr->var < R->p->n_vars ? R->p->vars[nr->var]
                                                     : "?");
    return false;
}

static void note_halt(struct runner *R)
{
    if (sim_violations(R->c) > 0)
        R->halted = true;
    rs_violations(R);
    rm_flush(R);
}

static void run_to(struct runner *R, uint64_t t)
{
    if (R->halted || t <= sim_now(R->c))
        return;
    sim_run_until(R->c, t);
    note_halt(R);
}

/* One step towards deadline; false when time is up or the run halted. */
static bool run_step(struct runner *R, uint64_t deadline)
{
    uint64_t now = sim_now(R->c);
    if (R->halted || now >= deadline)
        return false;
    if (R->o.transport == SIM_TRANSPORT_MEMORY) {
        uint64_t next = sim_next_event_time(R->c);
        if (next > deadline)
            run_to(R, deadline);
        else {
            sim_run_events(R->c, 1);
            note_halt(R);
        }
    } else {
        uint64_t t = now + REAL_STEP_US;
        run_to(R, t < deadline ? t : deadline);
    }
    return true;
}

static bool serves(struct runner *R, int id)
{
    return R->started[id] && sim_is_up(R->c, id) && !sim_is_paused(R->c, id);
}

static int pick(struct runner *R, const bool *cand)
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

/* ------------------------------------------------------------------ */
/* Expectations                                                        */

static void trace_expect(struct runner *R, const struct scn_cmd *cmd, bool ok,
                         const char *actual)
{
    struct trace *tr = sim_tracer(R->c);
    if (!trace_on(tr))
        return;
    trace_begin(tr, sim_now(R->c), 0, "expect");
    trace_u64(tr, "line", (uint64_t)cmd->line);
    trace_str(tr, "text", src(cmd));
    trace_bool(tr, "ok", ok);
    if (actual && *actual)
        trace_str(tr, "actual", actual);
    trace_end(tr);
}

static void verdict(struct runner *R, const struct scn_cmd *cmd, bool ok,
                    const char *actual)
{
    R->expectations++;
    trace_expect(R, cmd, ok, actual);
    if (ok) {
        R->passed++;
        if (!R->o.quiet) {
            rs_flush(R);
            fprintf(R->out, "%s%8.3f   ok  %s%s\n", rs_c(R, C_GREEN),
                    (double)sim_now(R->c) / 1e6, src(cmd), rs_c(R, C_RESET));
        }
        return;
    }
    R->failed++;
    rs_flush(R);
    fprintf(R->out, "%s%s:%d: expectation failed: %s — %s%s\n",
            rs_c(R, C_BOLD C_RED), R->p->file, cmd->line, src(cmd),
            actual && *actual ? actual : "it did not hold", rs_c(R, C_RESET));
    if (!R->o.keep_going)
        R->stop = true;
}

static void fail_line(struct runner *R, const struct scn_cmd *cmd,
                      const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    verdict(R, cmd, false, buf);
}

bool r_compare(uint64_t a, enum scn_cmp cmp, uint64_t b)
{
    switch (cmp) {
    case SCN_EQ:
        return a == b;
    case SCN_NE:
        return a != b;
    case SCN_LT:
        return a < b;
    case SCN_LE:
        return a <= b;
    case SCN_GT:
        return a > b;
    case SCN_GE:
        return a >= b;
    }
    return false;
}

static const char *quantity_name(enum scn_quantity q)
{
    switch (q) {
    case SCN_Q_TERM:
        return "term";
    case SCN_Q_LSN:
        return "lsn";
    case SCN_Q_COMMIT:
        return "commit";
    case SCN_Q_APPLIED:
        return "applied";
    default:
        return "value";
    }
}

static bool value_of(struct runner *R, const struct scn_cmd *cmd,
                     const struct scn_value *v, uint64_t *out)
{
    if (v->q == SCN_Q_NONE) {
        *out = v->lit;
        return true;
    }
    int id;
    if (!one_node(R, cmd, &v->node, &id))
        return false;
    *out = rv_quantity(R, v->q, id);
    return true;
}

static const char *outcome_of(struct runner *R, int widx)
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

static bool outcome_matches(struct runner *R, int widx, enum scn_outcome o)
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

static void check(struct runner *R, const struct scn_cmd *cmd)
{
    const struct scn_expect *ex = &cmd->ex;
    char actual[512] = "";
    bool ok = false;
    int id = 0;
    switch (ex->kind) {
    case SCN_EX_LEADER_IS: {
        int l = rv_leader(R);
        if (ex->none) {
            ok = l == 0;
            snprintf(actual, sizeof(actual), "n%d leads (term %llu)", l,
                     l ? (unsigned long long)raft_term(sim_node(R->c, l)) : 0ULL);
        } else {
            if (!one_node(R, cmd, &ex->node, &id))
                return;
            ok = l == id;
            if (l)
                snprintf(actual, sizeof(actual), "the leader is n%d (term %llu)",
                         l, (unsigned long long)raft_term(sim_node(R->c, l)));
            else
                snprintf(actual, sizeof(actual), "there is no leader");
        }
        break;
    }
    case SCN_EX_LEADER_IN: {
        bool in[SCN_MAX_NODES + 1];
        if (!resolve(R, cmd, &ex->set, in))
            return;
        int l = rv_leader(R);
        ok = l && in[l];
        if (l)
            snprintf(actual, sizeof(actual), "the leader is n%d", l);
        else
            snprintf(actual, sizeof(actual), "there is no leader");
        break;
    }
    case SCN_EX_LEADERS: {
        int k = rv_claimants(R);
        ok = r_compare((uint64_t)k, ex->cmp, ex->value.lit);
        snprintf(actual, sizeof(actual), "%d node%s claim%s to lead", k,
                 k == 1 ? "" : "s", k == 1 ? "s" : "");
        break;
    }
    case SCN_EX_ROLE: {
        if (!one_node(R, cmd, &ex->node, &id))
            return;
        bool up = sim_is_up(R->c, id) && R->started[id];
        enum raft_role role = raft_role(sim_node(R->c, id));
        if (ex->paused)
            ok = up && sim_is_paused(R->c, id);
        else if (ex->role == RAFT_DOWN)
            ok = !up;
        else
            ok = up && role == ex->role;
        if (ex->negate)
            ok = !ok;
        snprintf(actual, sizeof(actual), "n%d is %s", id, rv_role_name(R, id));
        break;
    }
    case SCN_EX_QUANTITY: {
        if (!one_node(R, cmd, &ex->node, &id))
            return;
        uint64_t a = rv_quantity(R, ex->q, id), b;
        if (!value_of(R, cmd, &ex->value, &b))
            return;
        ok = r_compare(a, ex->cmp, b);
        snprintf(actual, sizeof(actual), "%s of n%d is %llu (against %llu)",
                 quantity_name(ex->q), id, (unsigned long long)a,
                 (unsigned long long)b);
        break;
    }
    case SCN_EX_COMMITTED: {
        if (ex->has_node && !one_node(R, cmd, &ex->node, &id))
            return;
        ok = rv_key_committed(R, ex->key, id);
        int t = id ? id : rv_truth(R);
        uint64_t at = rv_find_key(R, t, ex->key, UINT64_MAX, NULL);
        snprintf(actual, sizeof(actual),
                 "n%d has %s at lsn %llu, commit LSN %llu", t, ex->key,
                 (unsigned long long)at,
                 (unsigned long long)raft_commit_lsn(sim_node(R->c, t)));
        if (!at)
            snprintf(actual, sizeof(actual), "n%d's log has no %s", t,
                     ex->key);
        break;
    }
    case SCN_EX_LOST: {
        int acked = 0, lost = 0;
        for (int i = 0; i < sim_n_writes(R->c); i++) {
            const struct sim_write *w = sim_get_write(R->c, i);
            if (strcmp(w->key, ex->key) || w->outcome != SIM_ACKED)
                continue;
            acked++;
            lost += rv_lost(R, w->lsn, w->term);
        }
        ok = lost > 0;
        snprintf(actual, sizeof(actual),
                 "%d acknowledged write%s of %s, %d lost", acked,
                 acked == 1 ? "" : "s", ex->key, lost);
        break;
    }
    case SCN_EX_DISCARDED: {
        if (!one_node(R, cmd, &ex->node, &id))
            return;
        int k = 0;
        for (size_t i = 0; i < R->n_disc; i++)
            if (R->disc[i].node == id && !strcmp(R->disc[i].key, ex->key))
                k++;
        ok = k > 0;
        if (k)
            snprintf(actual, sizeof(actual), "n%d discarded %d entr%s of %s",
                     id, k, k == 1 ? "y" : "ies", ex->key);
        else
            snprintf(actual, sizeof(actual), "n%d discarded no entry of %s",
                     id, ex->key);
        break;
    }
    case SCN_EX_LOG_HAS: {
        if (!one_node(R, cmd, &ex->node, &id))
            return;
        const char *v = NULL;
        uint64_t at = rv_find_key(R, id, ex->key, UINT64_MAX, &v);
        ok = ex->negate ? at == 0 : at != 0;
        if (at)
            snprintf(actual, sizeof(actual), "n%d's log has %s=%s at lsn %llu",
                     id, ex->key, v, (unsigned long long)at);
        else
            snprintf(actual, sizeof(actual), "n%d's log has no %s", id,
                     ex->key);
        break;
    }
    case SCN_EX_LAG: {
        if (!one_node(R, cmd, &ex->node, &id))
            return;
        uint64_t e, b, us;
        if (!rv_lag(R, id, &e, &b, &us)) {
            snprintf(actual, sizeof(actual), "no leader to measure lag from");
            break;
        }
        uint64_t a = ex->lag_unit == SCN_LAG_ENTRIES ? e
                     : ex->lag_unit == SCN_LAG_BYTES ? b
                                                     : us;
        ok = r_compare(a, ex->cmp, ex->value.lit);
        snprintf(actual, sizeof(actual),
                 "n%d lags %llu entries, %llu bytes, %.3f s", id,
                 (unsigned long long)e, (unsigned long long)b, (double)us / 1e6);
        break;
    }
    case SCN_EX_READS: {
        const struct rclient *cl = &R->cl[ex->client];
        bool has = false;
        switch (ex->prop) {
        case SCN_READS_FRESH:
            has = cl->reads > 0 && cl->stale == 0;
            break;
        case SCN_READS_STALE:
            has = cl->stale > 0;
            break;
        case SCN_READS_MONOTONIC:
            has = cl->reads > 0 && cl->backwards == 0;
            break;
        case SCN_READS_OWN_WRITES:
            has = cl->reads > 0 && cl->missed_own == 0;
            break;
        }
        ok = ex->negate ? !has : has;
        snprintf(actual, sizeof(actual),
                 "%s made %llu reads: %llu stale, %llu went back in time, "
                 "%llu missed its own write",
                 R->p->clients[ex->client], (unsigned long long)cl->reads,
                 (unsigned long long)cl->stale,
                 (unsigned long long)cl->backwards,
                 (unsigned long long)cl->missed_own);
        break;
    }
    case SCN_EX_WRITE: {
        int widx = rv_last_write(R, ex->client, ex->key);
        if (widx < 0) {
            snprintf(actual, sizeof(actual), "%s never wrote %s",
                     R->p->clients[ex->client], ex->key);
            break;
        }
        ok = outcome_matches(R, widx, ex->outcome);
        snprintf(actual, sizeof(actual), "the write is %s",
                 outcome_of(R, widx));
        break;
    }
    case SCN_EX_NO_VIOLATIONS: {
        uint64_t v = sim_violations(R->c);
        ok = v == 0;
        const struct sim_violation *sv = sim_violation(R->c);
        snprintf(actual, sizeof(actual), "%llu violation%s, first %s",
                 (unsigned long long)v, v == 1 ? "" : "s",
                 sv ? sv->invariant : "-");
        break;
    }
    case SCN_EX_VIOLATION: {
        const struct sim_violation *sv = sim_violation(R->c);
        ok = sv && (!ex->violation[0] || !strcmp(sv->invariant, ex->violation));
        snprintf(actual, sizeof(actual), "%s",
                 sv ? sv->invariant : "no invariant was violated");
        break;
    }
    case SCN_EX_PG:
        rm_flush(R);
        ok = rm_check(R, ex, actual, sizeof(actual));
        break;
    }
    verdict(R, cmd, ok, actual);
}

/* ------------------------------------------------------------------ */
/* Awaits                                                              */

static bool await_holds(struct runner *R, const struct scn_cmd *cmd,
                        const bool *in, int id, int *found)
{
    switch (cmd->await) {
    case SCN_AW_LEADER:
        *found = rv_leader_in(R, cmd->has_set ? in : NULL);
        return *found != 0;
    case SCN_AW_FOLLOWER: {
        if (!serves(R, id))
            return false;
        struct raft_node *r = sim_node(R->c, id);
        int l = raft_leader(r);
        return raft_role(r) == RAFT_FOLLOWER && l && l != id && serves(R, l) &&
               raft_role(sim_node(R->c, l)) == RAFT_LEADER &&
               raft_term(sim_node(R->c, l)) == raft_term(r);
    }
    case SCN_AW_COMMITTED:
        return rv_key_committed(R, cmd->key, id);
    case SCN_AW_CAUGHT_UP: {
        int l = rv_leader(R);
        if (!l || !serves(R, id))
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
    if (cmd->has_set && !resolve(R, cmd, &cmd->sets[0], in))
        return;
    if (cmd->has_node && !one_node(R, cmd, &cmd->node, &id))
        return;
    uint64_t start = sim_now(R->c);
    uint64_t deadline =
        start + (cmd->within_us ? cmd->within_us : DEFAULT_WITHIN_US);
    bool ok = await_holds(R, cmd, in, id, &found);
    while (!ok && run_step(R, deadline))
        ok = await_holds(R, cmd, in, id, &found);
    if (!ok) {
        fail_line(R, cmd, "still not true after %.3f s%s",
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
/* Clients                                                             */

static void do_write(struct runner *R, const struct scn_cmd *cmd)
{
    int via = 0;
    if ((cmd->via.id || cmd->via.var >= 0) && !one_node(R, cmd, &cmd->via, &via))
        return;
    int widx = sim_client_write(R->c, cmd->client + 1, via, cmd->key,
                                cmd->value);
    if (cmd->outcome == SCN_OUT_NONE)
        return;
    if (cmd->outcome == SCN_OUT_LOST) {
        if (R->n_lost < (int)(sizeof(R->lost) / sizeof(R->lost[0]))) {
            R->lost[R->n_lost].line = cmd->line;
            R->lost[R->n_lost].widx = widx;
            R->n_lost++;
        }
        /* it must at least be acknowledged; the loss is judged at the end */
        uint64_t deadline = sim_now(R->c) + 10000000;
        while (sim_get_write(R->c, widx)->outcome == SIM_PENDING &&
               run_step(R, deadline))
            ;
        return;
    }
    uint64_t start = sim_now(R->c);
    uint64_t within = cmd->within_us;
    if (!within)
        within = R->p->client_timeout_us + 1000000;
    uint64_t deadline = start + within;
    while (sim_get_write(R->c, widx)->outcome == SIM_PENDING &&
           run_step(R, deadline))
        ;
    if (cmd->outcome == SCN_OUT_COMMITTED) {
        const struct sim_write *w = sim_get_write(R->c, widx);
        while (w->outcome == SIM_ACKED && !rv_committed(R, w->lsn, w->term) &&
               run_step(R, deadline))
            w = sim_get_write(R->c, widx);
    }
    bool ok = outcome_matches(R, widx, cmd->outcome);
    char actual[128];
    snprintf(actual, sizeof(actual), "the write is %s after %.3f s",
             outcome_of(R, widx), (double)(sim_now(R->c) - start) / 1e6);
    verdict(R, cmd, ok, actual);
}

static void trace_read(struct runner *R, const struct scn_cmd *cmd, int node,
                       const char *value, uint64_t version, bool stale)
{
    struct trace *tr = sim_tracer(R->c);
    if (!trace_on(tr))
        return;
    trace_begin(tr, sim_now(R->c), node, "client");
    trace_str(tr, "client", R->p->clients[cmd->client]);
    trace_str(tr, "op", "read");
    trace_str(tr, "key", cmd->key);
    trace_str(tr, "route", scn_route_name(cmd->route));
    if (value)
        trace_str(tr, "value", value);
    trace_u64(tr, "lsn", version);
    trace_bool(tr, "stale", stale);
    trace_end(tr);
}

static void do_read(struct runner *R, const struct scn_cmd *cmd)
{
    struct rclient *cl = &R->cl[cmd->client];
    const char *who = R->p->clients[cmd->client];
    bool cand[SCN_MAX_NODES + 1] = {false};
    const char *note = "";
    int node = 0;
    switch (cmd->route) {
    case SCN_ROUTE_LEADER: {
        int b = sim_client_leader(R->c, cmd->client + 1);
        if (b && serves(R, b) && raft_role(sim_node(R->c, b)) == RAFT_LEADER)
            node = b; /* whom it believes: maybe a deposed leader */
        else
            node = rv_leader(R);
        if (!node) {
            for (int i = 1; i <= R->n; i++)
                cand[i] = serves(R, i);
            node = pick(R, cand);
            note = " — no leader: read-only mode, a replica answers and may "
                   "be stale";
        }
        break;
    }
    case SCN_ROUTE_ANY:
        for (int i = 1; i <= R->n; i++)
            cand[i] = serves(R, i);
        node = pick(R, cand);
        break;
    case SCN_ROUTE_FOLLOWER:
        for (int i = 1; i <= R->n; i++)
            cand[i] = serves(R, i) &&
                      raft_role(sim_node(R->c, i)) != RAFT_LEADER;
        node = pick(R, cand);
        if (!node)
            node = rv_leader(R);
        break;
    case SCN_ROUTE_NODE:
        if (!one_node(R, cmd, &cmd->from, &node))
            return;
        if (!serves(R, node)) {
            rs_line(R, node, C_YELLOW, "%s reads %s from n%d: no answer (%s)",
                    who, cmd->key, node, rv_role_name(R, node));
            if (cmd->read_expect != SCN_READ_NONE)
                fail_line(R, cmd, "n%d is %s and cannot serve reads", node,
                          rv_role_name(R, node));
            return;
        }
        break;
    case SCN_ROUTE_MONOTONIC:
        if (cl->sticky && serves(R, cl->sticky) &&
            sim_applied_lsn(R->c, cl->sticky) >= cl->floor)
            node = cl->sticky;
        else {
            for (int i = 1; i <= R->n; i++)
                cand[i] = serves(R, i) && sim_applied_lsn(R->c, i) >= cl->floor;
            node = pick(R, cand);
            if (!node)
                node = rv_leader(R);
        }
        cl->sticky = node;
        break;
    case SCN_ROUTE_RYW:
        for (int i = 1; i <= R->n; i++)
            cand[i] = serves(R, i) &&
                      raft_role(sim_node(R->c, i)) != RAFT_LEADER &&
                      sim_applied_lsn(R->c, i) >= cl->token;
        node = pick(R, cand);
        if (!node) {
            node = rv_leader(R);
            if (node && cl->token)
                note = " — no replica has the client's token yet: the "
                       "leader answers";
        }
        break;
    }
    if (!node) {
        rs_line(R, 0, C_YELLOW, "%s reads %s (%s): no node can answer", who,
                cmd->key, scn_route_name(cmd->route));
        if (cmd->read_expect != SCN_READ_NONE)
            fail_line(R, cmd, "no node could serve the read");
        return;
    }
    uint64_t applied = sim_applied_lsn(R->c, node);
    const char *value = NULL, *tvalue = NULL;
    uint64_t version = rv_find_key(R, node, cmd->key, applied, &value);
    int t = rv_truth(R);
    uint64_t tver = rv_find_key(R, t, cmd->key,
                                raft_commit_lsn(sim_node(R->c, t)), &tvalue);
    bool stale = tver > version;
    cl->reads++;
    R->reads++;
    if (stale) {
        cl->stale++;
        R->stale_reads++;
    }
    if (applied > cl->floor)
        cl->floor = applied;
    int s;
    for (s = 0; s < cl->n_seen; s++)
        if (!strcmp(cl->seen[s].key, cmd->key))
            break;
    bool backwards = false;
    if (s < cl->n_seen) {
        backwards = version < cl->seen[s].version;
        if (!backwards)
            cl->seen[s].version = version;
    } else if (s < R_MAX_SEEN) {
        snprintf(cl->seen[s].key, sizeof(cl->seen[s].key), "%s", cmd->key);
        cl->seen[s].version = version;
        cl->n_seen++;
    }
    if (backwards)
        cl->backwards++;
    bool missed_own = false;
    for (int i = sim_n_writes(R->c) - 1; i >= 0; i--) {
        const struct sim_write *w = sim_get_write(R->c, i);
        if (w->client == cmd->client + 1 && w->outcome == SIM_ACKED &&
            !strcmp(w->key, cmd->key)) {
            missed_own = version < w->lsn;
            break;
        }
    }
    if (missed_own)
        cl->missed_own++;

    char got[96], why[160];
    if (value)
        snprintf(got, sizeof(got), "%s (lsn %llu)", value,
                 (unsigned long long)version);
    else
        snprintf(got, sizeof(got), "nothing");
    if (stale)
        snprintf(why, sizeof(why), "stale: the committed value is %s (lsn %llu)",
                 tvalue, (unsigned long long)tver);
    else
        snprintf(why, sizeof(why), "fresh");
    rs_line(R, node, stale ? C_YELLOW : C_BLUE,
            "%s reads %s from n%d (%s, applied lsn %llu): %s — %s%s%s%s", who,
            cmd->key, node, scn_route_name(cmd->route),
            (unsigned long long)applied, got, why,
            backwards ? "; older than what it read before" : "",
            missed_own ? "; misses its own write" : "", note);
    trace_read(R, cmd, node, value, version, stale);

    bool ok = true;
    char actual[320];
    snprintf(actual, sizeof(actual), "n%d returned %s, %s", node, got, why);
    switch (cmd->read_expect) {
    case SCN_READ_NONE:
        return;
    case SCN_READ_VALUE:
        ok = value && !strcmp(value, cmd->value);
        break;
    case SCN_READ_MISSING:
        ok = value == NULL;
        break;
    case SCN_READ_FRESH:
        ok = !stale;
        break;
    case SCN_READ_STALE:
        ok = stale;
        break;
    }
    verdict(R, cmd, ok, actual);
}

/* ------------------------------------------------------------------ */
/* Faults and links                                                    */

static void set_text(struct runner *R, char *buf, size_t cap, const bool *in)
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

static void do_link(struct runner *R, const struct scn_cmd *cmd)
{
    bool a[SCN_MAX_NODES + 1], b[SCN_MAX_NODES + 1];
    if (!resolve(R, cmd, &cmd->sets[0], a) || !resolve(R, cmd, &cmd->sets[1], b))
        return;
    for (int i = 1; i <= R->n; i++)
        for (int j = 1; j <= R->n; j++) {
            if (i == j)
                continue;
            bool fwd = a[i] && b[j], back = cmd->both_ways && b[i] && a[j];
            if (!fwd && !back)
                continue;
            struct sim_link l = *sim_get_link(R->c, i, j);
            bool cut = l.cut;
            if (cmd->reset) {
                l = *sim_default_link(R->c);
                l.cut = cut;
            }
            if (cmd->has_latency)
                l.latency_us = cmd->latency_us;
            if (cmd->has_jitter)
                l.jitter_us = cmd->jitter_us;
            if (cmd->has_drop)
                l.drop = cmd->drop;
            if (cmd->has_dup)
                l.dup = cmd->dup;
            sim_set_link(R->c, i, j, &l);
        }
    char sa[SCN_MAX_NODES * 5 + 4], sb[SCN_MAX_NODES * 5 + 4], what[160] = "";
    set_text(R, sa, sizeof(sa), a);
    set_text(R, sb, sizeof(sb), b);
    size_t len = 0;
    if (cmd->reset)
        len += (size_t)snprintf(what + len, sizeof(what) - len, " back to the "
                                                                "default");
    if (cmd->has_latency)
        len += (size_t)snprintf(what + len, sizeof(what) - len,
                                " latency %.1fms", (double)cmd->latency_us / 1e3);
    if (cmd->has_jitter && len < sizeof(what))
        len += (size_t)snprintf(what + len, sizeof(what) - len,
                                " jitter %.1fms", (double)cmd->jitter_us / 1e3);
    if (cmd->has_drop && len < sizeof(what))
        len += (size_t)snprintf(what + len, sizeof(what) - len, " drop %.0f%%",
                                cmd->drop * 100);
    if (cmd->has_dup && len < sizeof(what))
        snprintf(what + len, sizeof(what) - len, " duplicate %.0f%%",
                 cmd->dup * 100);
    rs_line(R, 0, C_MAGENTA, "link %s %s %s:%s", sa,
            cmd->both_ways ? "<->" : "->", sb, what);
}

static void do_partition(struct runner *R, const struct scn_cmd *cmd,
                         bool isolate)
{
    int group[RAFT_MAX_NODES + 1] = {0};
    bool in[SCN_MAX_NODES + 1];
    char text[SCN_MAX_NODES * 8 + 64] = "";
    size_t len = 0;
    for (int s = 0; s < cmd->n_sets; s++) {
        if (!resolve(R, cmd, &cmd->sets[s], in))
            return;
        for (int i = 1; i <= R->n; i++)
            if (in[i])
                group[i] = s + 1;
    }
    /* print the groups, including the implicit one of unnamed nodes */
    for (int g = isolate ? 1 : 0; g <= cmd->n_sets; g++) {
        bool m[SCN_MAX_NODES + 1] = {false};
        int k = 0;
        for (int i = 1; i <= R->n; i++)
            if (group[i] == g) {
                m[i] = true;
                k++;
            }
        if (!k)
            continue;
        char one[SCN_MAX_NODES * 5 + 4];
        set_text(R, one, sizeof(one), m);
        if (len < sizeof(text))
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
                                    len ? " | " : "", one);
    }
    if (isolate) {
        bool m[SCN_MAX_NODES + 1] = {false};
        for (int i = 1; i <= R->n; i++)
            m[i] = group[i] == 0;
        char one[SCN_MAX_NODES * 5 + 4];
        set_text(R, one, sizeof(one), m);
        if (len < sizeof(text))
            snprintf(text + len, sizeof(text) - len, " | %s", one);
    }
    sim_partition(R->c, group);
    rs_line(R, 0, C_MAGENTA, "%s %s: no message crosses between the groups",
            isolate ? "isolate" : "partition", text);
    rm_net(R);
}

static void do_cut(struct runner *R, const struct scn_cmd *cmd)
{
    bool a[SCN_MAX_NODES + 1], b[SCN_MAX_NODES + 1];
    if (!resolve(R, cmd, &cmd->sets[0], a) || !resolve(R, cmd, &cmd->sets[1], b))
        return;
    for (int i = 1; i <= R->n; i++)
        for (int j = 1; j <= R->n; j++) {
            if (i == j)
                continue;
            if (a[i] && b[j])
                sim_cut(R->c, i, j);
            if (cmd->both_ways && b[i] && a[j])
                sim_cut(R->c, i, j);
        }
    char sa[SCN_MAX_NODES * 5 + 4], sb[SCN_MAX_NODES * 5 + 4];
    set_text(R, sa, sizeof(sa), a);
    set_text(R, sb, sizeof(sb), b);
    rm_net(R);
    if (cmd->both_ways)
        rs_line(R, 0, C_MAGENTA, "cut %s <-> %s: no message passes either way",
                sa, sb);
    else
        rs_line(R, 0, C_MAGENTA,
                "cut %s -> %s (one way: %s no longer hears %s, the reverse "
                "still works)",
                sa, sb, sb, sa);
}

static void do_life(struct runner *R, const struct scn_cmd *cmd)
{
    bool in[SCN_MAX_NODES + 1];
    if (cmd->n_sets > 0) {
        if (!resolve(R, cmd, &cmd->sets[0], in))
            return;
    } else {
        for (int i = 0; i <= R->n; i++)
            in[i] = i > 0;
    }
    for (int i = 1; i <= R->n; i++) {
        if (!in[i])
            continue;
        bool up = sim_is_up(R->c, i);
        switch (cmd->kind) {
        case SCN_START:
        case SCN_RESTART:
            if (up) {
                if (R->o.verbose)
                    rs_line(R, i, C_DIM, "already running");
                break;
            }
            rs_line(R, i, C_MAGENTA, "%s",
                    R->started[i] ? "restarts" : "starts");
            R->started[i] = true;
            sim_restart(R->c, i);
            rm_restart(R, i);
            break;
        case SCN_CRASH: {
            if (!up) {
                rs_line(R, i, C_DIM, "is already down");
                break;
            }
            const struct wal *w = raft_wal(sim_node(R->c, i));
            if (cmd->lose_unflushed)
                rs_line(R, i, C_MAGENTA,
                        "crashes and loses its unflushed WAL tail (flushed up "
                        "to lsn %llu of %llu)",
                        (unsigned long long)w->flushed_lsn,
                        (unsigned long long)wal_last_lsn(w));
            else
                rs_line(R, i, C_MAGENTA,
                        "crashes (memory gone; term, vote and WAL survive)");
            R->role[i] = RAFT_DOWN;
            sim_crash(R->c, i, cmd->lose_unflushed);
            rm_crash(R, i);
            break;
        }
        case SCN_PAUSE:
            if (!up || sim_is_paused(R->c, i))
                break;
            rs_line(R, i, C_MAGENTA,
                    "pauses (stop-the-world: no timers, reads nothing%s)",
                    raft_role(sim_node(R->c, i)) == RAFT_LEADER
                        ? "; it still believes it leads"
                        : "");
            sim_pause(R->c, i);
            break;
        case SCN_RESUME:
            if (!up || !sim_is_paused(R->c, i))
                break;
            rs_line(R, i, C_MAGENTA,
                    "resumes, with stale beliefs and a backlog of messages");
            sim_resume(R->c, i);
            break;
        default:
            break;
        }
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
            id = node_of(R, &sg->node);
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
    bool in[SCN_MAX_NODES + 1];
    if (!resolve(R, cmd, &cmd->sets[0], in))
        return;
    int k = 0;
    for (int i = 1; i <= R->n && k < cmd->n_let; i++)
        if (in[i])
            R->vars[cmd->let_vars[k++]] = i;
    if (k < cmd->n_let) {
        for (int j = k; j < cmd->n_let; j++)
            R->vars[cmd->let_vars[j]] = 0;
        fail_line(R, cmd, "the set has %d member%s for %d variable%s", k,
                  k == 1 ? "" : "s", cmd->n_let, cmd->n_let == 1 ? "" : "s");
    }
}

/* ------------------------------------------------------------------ */
/* The run                                                             */

static void exec(struct runner *R, const struct scn_cmd *cmd)
{
    R->line = cmd->line;
    if (cmd->at)
        run_to(R, cmd->at_us);
    switch (cmd->kind) {
    case SCN_LINK:
        do_link(R, cmd);
        break;
    case SCN_START:
    case SCN_CRASH:
    case SCN_RESTART:
    case SCN_PAUSE:
    case SCN_RESUME:
        do_life(R, cmd);
        break;
    case SCN_PARTITION:
        do_partition(R, cmd, false);
        break;
    case SCN_ISOLATE:
        if (cmd->trap != SCN_TRAP_NONE) {
            R->trap = cmd->trap;
            rs_line(R, 0, C_MAGENTA,
                    "trap set: the leader will be isolated at its next %s",
                    cmd->trap == SCN_TRAP_APPEND ? "client write" : "commit");
        } else
            do_partition(R, cmd, true);
        break;
    case SCN_LET:
        do_let(R, cmd);
        break;
    case SCN_CUT:
        do_cut(R, cmd);
        break;
    case SCN_HEAL:
        sim_heal(R->c);
        rs_line(R, 0, C_MAGENTA, "heal: every cut link works again");
        rm_net(R);
        break;
    case SCN_WRITE:
        do_write(R, cmd);
        break;
    case SCN_READ:
        do_read(R, cmd);
        break;
    case SCN_WAIT:
        run_to(R, sim_now(R->c) + cmd->u);
        break;
    case SCN_AWAIT:
        do_await(R, cmd);
        break;
    case SCN_EXPECT:
        check(R, cmd);
        break;
    case SCN_SAY:
        do_say(R, cmd);
        break;
    case SCN_STEP:
        do_step(R);
        break;
    case SCN_SHOW_STATUS:
        rs_status(R);
        break;
    default:
        break; /* set-up commands are folded into the program */
    }
    rs_flush(R);
    rm_flush(R);
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
            "%s%s%s: %d nodes, heartbeat %.0fms, election %.0f-%.0fms, ack %s, "
            "policy %s, prevote %s, checkquorum %s%s, seed %llu, %s clock%s\n",
            rs_c(R, C_BOLD), R->p->file, rs_c(R, C_RESET), so->n_nodes,
            (double)so->heartbeat_us / 1e3, (double)so->election_min_us / 1e3,
            (double)so->election_max_us / 1e3, raft_ack_mode_name(so->ack_mode),
            raft_policy_name(so->policy), so->prevote ? "on" : "off",
            so->checkquorum ? "on" : "off", unsafe,
            (unsigned long long)so->seed,
            so->transport == SIM_TRANSPORT_TCP ? "real (TCP)" : "virtual",
            so->transport == SIM_TRANSPORT_TCP && so->time_scale != 1.0
                ? " (slowed down)"
                : "");
}

static void finish(struct runner *R, struct scn_run_result *res)
{
    rs_flush(R);
    if (!R->halted)
        sim_finish(R->c);
    note_halt(R);
    for (int k = 0; k < R->n_lost; k++) {
        struct scn_cmd tmp;
        memset(&tmp, 0, sizeof(tmp));
        const struct scn_cmd *orig = NULL;
        for (int i = 0; i < R->p->n_cmds; i++)
            if (R->p->cmds[i].line == R->lost[k].line)
                orig = &R->p->cmds[i];
        tmp.line = R->lost[k].line;
        tmp.src = orig ? orig->src : NULL;
        bool ok = outcome_matches(R, R->lost[k].widx, SCN_OUT_LOST);
        char actual[96];
        snprintf(actual, sizeof(actual), "at the end of the run the write is %s",
                 outcome_of(R, R->lost[k].widx));
        verdict(R, &tmp, ok, actual);
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
    res->discarded = st->discarded;
    res->writes = st->writes;
    res->acked = st->acked;
    res->acked_lost = st->acked_lost;
    res->reads = R->reads;
    res->stale_reads = R->stale_reads;
    res->violations = v;
    res->first_violation = sv ? sv->invariant : NULL;
    res->end_us = sim_now(R->c);
    bool ok = R->failed == 0 && !bad_violation;
    fprintf(R->out,
            "%s%s: %s — %d/%d expectations held · %llu election%s · %llu "
            "entr%s discarded · %llu of %llu acknowledged writes lost · "
            "%llu of %llu reads stale · invariants %s%s\n",
            rs_c(R, ok ? C_BOLD C_GREEN : C_BOLD C_RED), R->p->file,
            ok ? "passed" : "FAILED", R->passed, R->expectations,
            (unsigned long long)st->elections, st->elections == 1 ? "" : "s",
            (unsigned long long)st->discarded,
            st->discarded == 1 ? "y" : "ies",
            (unsigned long long)st->acked_lost, (unsigned long long)st->acked,
            (unsigned long long)R->stale_reads, (unsigned long long)R->reads,
            v == 0 ? "held"
                   : (R->expected_violation ? "violated (as expected)"
                                            : "VIOLATED"),
            rs_c(R, C_RESET));
    if (bad_violation)
        fprintf(R->out, "%s%s: invariant %s violated at %.3f s: %s%s\n",
                rs_c(R, C_RED), R->p->file, sv->invariant,
                (double)sv->t_us / 1e6, sv->detail, rs_c(R, C_RESET));
}

int scn_run(const struct scn_program *p, const struct scn_run_opts *o,
            struct scn_run_result *res)
{
    struct runner *R = calloc(1, sizeof(*R));
    if (!R) {
        memset(res, 0, sizeof(*res));
        res->setup_error = true;
        return 2;
    }
    R->p = p;
    R->o = *o;
    R->out = o->out ? o->out : stdout;
    if (p->virtual_only && o->transport != SIM_TRANSPORT_MEMORY) {
        fprintf(R->out, "%s: skipped: `clock virtual` (an exact replay needs "
                        "the virtual clock)\n",
                p->file);
        memset(res, 0, sizeof(*res));
        res->skipped = true;
        free(R);
        return 0;
    }
    R->n = p->nodes;
    for (int i = 0; i < p->n_cmds; i++)
        if (p->cmds[i].kind == SCN_EXPECT &&
            p->cmds[i].ex.kind == SCN_EX_VIOLATION)
            R->expected_violation = true;

    struct sim_options so;
    sim_options_default(&so, p->nodes);
    so.transport = o->transport;
    so.time_scale = o->time_scale > 0 ? o->time_scale : 1.0;
    so.seed = o->seed_given ? o->seed : p->seed;
    so.heartbeat_us = p->heartbeat_us;
    so.election_min_us = p->election_min_us;
    so.election_max_us = p->election_max_us;
    so.ack_mode = p->ack;
    so.policy = p->policy;
    so.prevote = p->prevote;
    so.checkquorum = p->checkquorum;
    so.unsafe = p->unsafe;
    so.disk_latency_us = p->disk_us;
    so.client_timeout_us = p->client_timeout_us;
    so.client_latency_us = p->client_latency_us;
    so.n_clients = p->n_clients > 0 ? p->n_clients : 1;
    /* mirroring: a node with no database is a witness and never stands */
    for (int i = 1; p->n_mirror > 0 && i <= p->nodes; i++)
        if (!p->mirror_of[i])
            raft_nodeset_add(&so.nofailover, i);
    so.trace = o->trace;
    if (o->transport == SIM_TRANSPORT_TCP)
        so.link.latency_us = so.link.jitter_us = 0; /* loopback is real */
    prng_seed(&R->rng, so.seed ^ UINT64_C(0x7265616473)); /* "reads" */

    header(R, &so);
    int rc = sim_cluster_new(&so, &R->c);
    if (rc != 0) {
        fprintf(stderr, "%s: cannot start the cluster: %s\n", p->file,
                rc < 0 && o->transport == SIM_TRANSPORT_TCP && rc != RAFT_EINVAL &&
                        rc != RAFT_ENOMEM
                    ? "a listener could not be set up on 127.0.0.1"
                    : "bad configuration or out of memory");
        memset(res, 0, sizeof(*res));
        res->setup_error = true;
        free(R);
        return 2;
    }
    sim_set_hook(R->c, rs_hook, R);
    sim_set_write_hook(R->c, rs_write_hook, R);
    if (p->n_mirror > 0) {
        char err[512];
        if (rm_start(R, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: the PostgreSQL mirror cannot start: %s\n",
                    p->file, err);
            rm_free(R);
            sim_cluster_free(R->c);
            memset(res, 0, sizeof(*res));
            res->setup_error = true;
            free(R);
            return 2;
        }
    }
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
        if (resolve(R, &p->cmds[first], &p->cmds[first].sets[0], in))
            for (int i = 1; i <= R->n; i++)
                if (!in[i]) {
                    sim_crash(R->c, i, false);
                    R->started[i] = false;
                    R->role[i] = RAFT_DOWN;
                }
    }
    for (int i = 0; i < p->n_cmds && !R->stop; i++)
        exec(R, &p->cmds[i]);
    finish(R, res);
    int ret = res->failed > 0 || (res->violations > 0 && !R->expected_violation)
                  ? 1
                  : 0;
    rm_free(R);
    sim_cluster_free(R->c);
    free(R->app_t);
    free(R->app_term);
    free(R->disc);
    free(R);
    return ret;
}
