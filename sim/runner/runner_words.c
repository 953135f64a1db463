/*
 * runner_words.c — the words that count and shape: `mark NAME` and the
 * counts since a mark (`expect elections CMP N since M`, `expect NODE
 * never ROLE since M`), `expect progress [within D]` (liveness.h),
 * `partition ring` and `partition bridge NODE`
 * (Jepsen's nemesis shapes, one line each), sets of write outcomes
 * (`expect acked|unknown`, `expect not lost`), who a leader is followed
 * by (`await leader`), and the WAL rows of `show status --wal`.
 */
#include "sim/runner/runner_int.h"

#include <string.h>

#include "sim/cluster/liveness.h"

void r_count_role(struct runner *R, const struct raft_event *ev)
{
    if (ev->kind == RAFT_EV_ROLE && ev->role <= RAFT_LEADER && ev->node >= 1 &&
        ev->node <= R->n)
        R->role_count[ev->node][ev->role]++;
}

void r_do_mark(struct runner *R, const struct scn_cmd *cmd)
{
    int m = cmd->mark;
    if (m < 0 || m >= SCN_MAX_MARKS)
        return;
    memcpy(R->mark_roles[m], R->role_count, sizeof(R->role_count));
    R->mark_elections[m] = sim_stats(R->c)->elections;
    if (!R->o.quiet)
        rs_line(R, 0, C_DIM, "mark %s (%llu election%s so far)",
                R->p->marks[m],
                (unsigned long long)R->mark_elections[m],
                R->mark_elections[m] == 1 ? "" : "s");
}

static const char *since_text(struct runner *R, int mark, char *buf,
                              size_t cap)
{
    if (mark <= 0)
        snprintf(buf, cap, "since the start");
    else
        snprintf(buf, cap, "since mark %s", R->p->marks[mark - 1]);
    return buf;
}

bool r_check_words(struct runner *R, const struct scn_cmd *cmd, bool *ok,
                   char *actual, size_t cap)
{
    const struct scn_expect *ex = &cmd->ex;
    char since[64];
    switch (ex->kind) {
    case SCN_EX_ELECTIONS: {
        uint64_t now = sim_stats(R->c)->elections;
        uint64_t k = ex->mark > 0 ? now - R->mark_elections[ex->mark - 1] : now;
        *ok = rv_compare(k, ex->cmp, ex->value.lit);
        snprintf(actual, cap, "%llu election%s %s",
                 (unsigned long long)k, k == 1 ? "" : "s",
                 since_text(R, ex->mark, since, sizeof(since)));
        return true;
    }
    case SCN_EX_NEVER: {
        int id;
        if (!r_one_node(R, cmd, &ex->node, &id))
            return false;
        uint64_t now = R->role_count[id][ex->role];
        uint64_t k = ex->mark > 0 ? now - R->mark_roles[ex->mark - 1][id][ex->role]
                                  : now;
        *ok = k == 0;
        snprintf(actual, cap, "n%d became %s %llu time%s %s", id,
                 raft_role_name(ex->role), (unsigned long long)k,
                 k == 1 ? "" : "s",
                 since_text(R, ex->mark, since, sizeof(since)));
        return true;
    }
    case SCN_EX_PROGRESS: {
        /* The check explore's liveness phase runs, from here. */
        uint64_t within = cmd->within_us ? cmd->within_us
                                         : sim_progress_default_us(R->c);
        uint64_t now = sim_now(R->c);
        if (R->horizon_us && now + within > R->horizon_us) {
            R->cut_short = true; /* a session's horizon: no verdict */
            r_run_to(R, R->horizon_us);
            return false;
        }
        if (R->halted)
            return false; /* the violation is the run's verdict */
        struct sim_progress pg;
        bool progress = sim_check_progress(R->c, 1, within, &pg);
        r_note_halt(R);
        if (pg.stopped)
            return false;
        *ok = progress != ex->negate;
        if (progress)
            snprintf(actual, cap, "%s", pg.detail);
        else
            snprintf(actual, cap, "Liveness %s: %s", pg.reason, pg.detail);
        if (!progress && !ex->negate && !R->liveness_reason)
            R->liveness_reason = pg.reason;
        if (!R->o.quiet && !progress && ex->negate)
            rs_line(R, 0, C_DIM, "no progress, as expected (Liveness %s): %s",
                    pg.reason, pg.detail);
        return true;
    }
    default:
        return false;
    }
}

/* partition ring: each node hears only its two neighbours (by id, in a
 * circle).  partition bridge B: the other nodes split into two halves by
 * id, and only B sees both (Jepsen's "bridge"). */
void r_do_shape(struct runner *R, const struct scn_cmd *cmd)
{
    int n = R->n, bridge = 0;
    if (cmd->shape == SCN_SHAPE_BRIDGE && !r_one_node(R, cmd, &cmd->node, &bridge))
        return;
    int half[SCN_MAX_NODES + 1] = {0}, k = 0;
    for (int i = 1; i <= n; i++)
        if (i != bridge)
            half[i] = ++k <= (n - 1) / 2 ? 1 : 2;
    sim_heal(R->c);
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= n; j++) {
            if (i == j)
                continue;
            bool sees;
            if (cmd->shape == SCN_SHAPE_RING) {
                int d = i > j ? i - j : j - i;
                sees = d == 1 || d == n - 1;
            } else {
                sees = i == bridge || j == bridge || half[i] == half[j];
            }
            if (!sees)
                sim_cut(R->c, i, j);
        }
    if (cmd->shape == SCN_SHAPE_RING)
        rs_line(R, 0, C_MAGENTA,
                "partition ring: each node hears only its two neighbours "
                "(n1-n2-...-n%d-n1); no one sees a majority directly", n);
    else {
        bool a[SCN_MAX_NODES + 1] = {false}, b[SCN_MAX_NODES + 1] = {false};
        for (int i = 1; i <= n; i++) {
            a[i] = half[i] == 1;
            b[i] = half[i] == 2;
        }
        char sa[SCN_MAX_NODES * 5 + 4], sb[SCN_MAX_NODES * 5 + 4];
        r_set_text(R, sa, sizeof(sa), a);
        r_set_text(R, sb, sizeof(sb), b);
        rs_line(R, 0, C_MAGENTA,
                "partition bridge n%d: %s and %s cannot reach each other; "
                "n%d sees both", bridge, sa, sb, bridge);
    }
    rm_net(R);
}

bool r_outcomes_match(struct runner *R, int widx, unsigned set, bool negate)
{
    bool any = false;
    for (int o = SCN_OUT_ACKED; o <= SCN_OUT_LOST && !any; o++)
        if (set & SCN_OUT_BIT(o))
            any = r_outcome_matches(R, widx, (enum scn_outcome)o);
    return negate ? !any : any;
}

void r_outcomes_text(char *buf, size_t cap, unsigned set, bool negate)
{
    size_t len = (size_t)snprintf(buf, cap, "%s", negate ? "not " : "");
    bool first = true;
    for (int o = SCN_OUT_ACKED; o <= SCN_OUT_LOST && len < cap; o++)
        if (set & SCN_OUT_BIT(o)) {
            len += (size_t)snprintf(buf + len, cap - len, "%s%s",
                                    first ? "" : "|",
                                    scn_outcome_name((enum scn_outcome)o));
            first = false;
        }
}

/* A majority of the leader's voters is in its term and follows it (or
 * voted for it in that term, before its first heartbeat arrived). */
bool r_followed(struct runner *R, int l)
{
    struct raft_node *lr = sim_node(R->c, l);
    uint64_t term = raft_term(lr);
    const raft_nodeset *v = &raft_membership_get(lr, NULL)->voters;
    int k = 0;
    for (int i = 1; i <= R->n; i++) {
        if (!r_serves(R, i) || !raft_nodeset_has(v, i))
            continue;
        struct raft_node *r = sim_node(R->c, i);
        if (raft_term(r) == term &&
            (i == l || raft_leader(r) == l || raft_voted_for(r) == l))
            k++;
    }
    return k > raft_nodeset_count(v) / 2;
}

void r_wal_status(struct runner *R)
{
    rs_flush(R);
    fprintf(R->out, "          %sWAL: lsn:term entry (* = committed on that "
                    "node)%s\n",
            rs_c(R, C_BOLD), rs_c(R, C_RESET));
    for (int i = 1; i <= R->n; i++) {
        struct raft_node *r = sim_node(R->c, i);
        const struct wal *w = raft_wal(r);
        uint64_t last = wal_last_lsn(w), commit = raft_commit_lsn(r);
        char row[1024];
        size_t len = 0;
        row[0] = '\0';
        /* the newest 16 entries: older ones are elided */
        uint64_t from = last > 16 ? last - 15 : 1;
        if (from > 1)
            len += (size_t)snprintf(row, sizeof(row), " ...");
        for (uint64_t l = from; l <= last && len < sizeof(row); l++) {
            const struct wal_entry *e = wal_get(w, l);
            if (!e)
                continue;
            if (e->payload)
                len += (size_t)snprintf(row + len, sizeof(row) - len,
                                        " %llu:%llu%s %s=%s",
                                        (unsigned long long)l,
                                        (unsigned long long)e->term,
                                        l <= commit ? "*" : "",
                                        wal_payload_key(e->payload),
                                        wal_payload_value(e->payload));
            else
                len += (size_t)snprintf(row + len, sizeof(row) - len,
                                        " %llu:%llu%s no-op",
                                        (unsigned long long)l,
                                        (unsigned long long)e->term,
                                        l <= commit ? "*" : "");
        }
        fprintf(R->out, "          n%-3d %s\n", i, last ? row : " (empty)");
    }
}
