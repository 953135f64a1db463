/*
 * runner_faults.c — a scenario's faults: links (latency, jitter, drop,
 * duplication), partitions, isolation, one-way cuts, and the life of
 * nodes (start, crash, restart, pause, resume), each narrated and passed
 * on to the PostgreSQL mirror when there is one.
 */
#include "sim/runner/runner_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/trace.h"

/* Faults and links                                                    */


void r_do_link(struct runner *R, const struct scn_cmd *cmd)
{
    bool a[SCN_MAX_NODES + 1], b[SCN_MAX_NODES + 1];
    if (!r_resolve(R, cmd, &cmd->sets[0], a) || !r_resolve(R, cmd, &cmd->sets[1], b))
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
    r_set_text(R, sa, sizeof(sa), a);
    r_set_text(R, sb, sizeof(sb), b);
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

void r_do_partition(struct runner *R, const struct scn_cmd *cmd,
                         bool isolate)
{
    int group[RAFT_MAX_NODES + 1] = {0};
    bool in[SCN_MAX_NODES + 1];
    char text[SCN_MAX_NODES * 8 + 64] = "";
    size_t len = 0;
    for (int s = 0; s < cmd->n_sets; s++) {
        if (!r_resolve(R, cmd, &cmd->sets[s], in))
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
        r_set_text(R, one, sizeof(one), m);
        if (len < sizeof(text))
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
                                    len ? " | " : "", one);
    }
    if (isolate) {
        bool m[SCN_MAX_NODES + 1] = {false};
        for (int i = 1; i <= R->n; i++)
            m[i] = group[i] == 0;
        char one[SCN_MAX_NODES * 5 + 4];
        r_set_text(R, one, sizeof(one), m);
        if (len < sizeof(text))
            snprintf(text + len, sizeof(text) - len, " | %s", one);
    }
    sim_partition(R->c, group);
    rs_line(R, 0, C_MAGENTA, "%s %s: no message crosses between the groups",
            isolate ? "isolate" : "partition", text);
    rm_net(R);
}

void r_do_cut(struct runner *R, const struct scn_cmd *cmd)
{
    bool a[SCN_MAX_NODES + 1], b[SCN_MAX_NODES + 1];
    if (!r_resolve(R, cmd, &cmd->sets[0], a) || !r_resolve(R, cmd, &cmd->sets[1], b))
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
    r_set_text(R, sa, sizeof(sa), a);
    r_set_text(R, sb, sizeof(sb), b);
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

/* heal SET -> SET (or <->): those links work again; their latency, loss
 * and the other cuts stay. */
void r_do_heal_links(struct runner *R, const struct scn_cmd *cmd)
{
    bool a[SCN_MAX_NODES + 1], b[SCN_MAX_NODES + 1];
    if (!r_resolve(R, cmd, &cmd->sets[0], a) || !r_resolve(R, cmd, &cmd->sets[1], b))
        return;
    int healed = 0;
    for (int i = 1; i <= R->n; i++)
        for (int j = 1; j <= R->n; j++) {
            if (i == j)
                continue;
            bool fwd = a[i] && b[j], back = cmd->both_ways && b[i] && a[j];
            const struct sim_link *old = sim_get_link(R->c, i, j);
            if ((!fwd && !back) || !old->cut)
                continue;
            struct sim_link l = *old;
            l.cut = false;
            sim_set_link(R->c, i, j, &l);
            healed++;
        }
    char sa[SCN_MAX_NODES * 5 + 4], sb[SCN_MAX_NODES * 5 + 4];
    r_set_text(R, sa, sizeof(sa), a);
    r_set_text(R, sb, sizeof(sb), b);
    rm_net(R);
    if (!healed)
        rs_line(R, 0, C_MAGENTA, "heal %s %s %s: no link there was cut", sa,
                cmd->both_ways ? "<->" : "->", sb);
    else if (cmd->both_ways)
        rs_line(R, 0, C_MAGENTA, "heal %s <-> %s: those links work again "
                                 "both ways (other cuts stay)", sa, sb);
    else
        rs_line(R, 0, C_MAGENTA, "heal %s -> %s: %s hears %s again (the "
                                 "reverse and the other cuts are as they were)",
                sa, sb, sb, sa);
}

void r_do_life(struct runner *R, const struct scn_cmd *cmd)
{
    bool in[SCN_MAX_NODES + 1];
    if (cmd->n_sets > 0) {
        if (!r_resolve(R, cmd, &cmd->sets[0], in))
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
            if (cmd->silent)
                rs_line(R, i, C_DIM,
                        "(silently, like a power loss: its connections stay "
                        "open, so its peers learn nothing from them)");
            R->role[i] = RAFT_DOWN;
            if (cmd->silent)
                sim_crash_silent(R->c, i, cmd->lose_unflushed);
            else
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
        case SCN_CAMPAIGN: {
            struct raft_node *r = sim_node(R->c, i);
            if (!up || sim_is_paused(R->c, i))
                rs_line(R, i, C_DIM, "cannot campaign: it is %s",
                        up ? "paused" : "down");
            else if (raft_role(r) == RAFT_LEADER)
                rs_line(R, i, C_DIM, "already leads term %llu: nothing to "
                                     "campaign for",
                        (unsigned long long)raft_term(r));
            else if (sim_campaign(R->c, i) != RAFT_OK)
                rs_line(R, i, C_DIM, "never stands (a witness without a "
                                     "database)");
            break;
        }
        default:
            break;
        }
    }
}

/* `transfer leader to NODE`: the core narrates the rest (runner_say.c). */
void r_do_transfer(struct runner *R, const struct scn_cmd *cmd)
{
    int from, to;
    /* mirrored: a PostgreSQL switchover follows (runner_mirror_switch.c) */
    if (!r_one_node(R, cmd, &cmd->from, &from) ||
        !r_one_node(R, cmd, &cmd->node, &to))
        return;
    struct raft_node *r = sim_node(R->c, from);
    bool up = sim_is_up(R->c, from);
    if (!up || sim_is_paused(R->c, from)) {
        rs_line(R, from, C_DIM, "cannot transfer leadership: it is %s",
                up ? "paused" : "down");
    } else if (raft_role(r) != RAFT_LEADER) {
        rs_line(R, from, C_DIM,
                "cannot transfer leadership: it does not lead (%s, term "
                "%llu)",
                raft_role_name(raft_role(r)),
                (unsigned long long)raft_term(r));
    } else if (to == from) {
        rs_line(R, from, C_DIM, "already leads term %llu: nothing to "
                                "transfer",
                (unsigned long long)raft_term(r));
    } else if (raft_config(sim_node(R->c, to))->nofailover) {
        rs_line(R, from, C_DIM, "will not transfer leadership to n%d: it "
                                "never stands (a witness without a "
                                "database)",
                to);
    } else {
        sim_transfer(R->c, from, to);
    }
}

/* `snapshot NODE`, `snapshot every N entries|bytes` (Raft §7) */
void r_do_snapshot(struct runner *R, const struct scn_cmd *cmd)
{
    if (!cmd->has_node) {
        sim_snapshot_policy(R->c, cmd->enumval == 0 ? cmd->u : 0,
                            cmd->enumval == 1 ? cmd->u : 0);
        if (cmd->u)
            rs_line(R, 0, C_BOLD,
                    "snapshot policy: every node snapshots its key/value "
                    "state every %llu %s it applies, and compacts its log",
                    (unsigned long long)cmd->u,
                    cmd->enumval == 0 ? "entries" : "bytes of writes");
        else
            rs_line(R, 0, C_BOLD, "snapshot policy: off (logs grow)");
        return;
    }
    int id;
    if (!r_one_node(R, cmd, &cmd->node, &id))
        return;
    bool up = sim_is_up(R->c, id);
    int rc = sim_snapshot(R->c, id);
    if (rc == RAFT_EDOWN)
        rs_line(R, id, C_DIM, "cannot take a snapshot: it is %s",
                up ? "paused" : "down");
    else if (rc != RAFT_OK)
        rs_line(R, id, C_DIM,
                "takes no snapshot: nothing applied since its last one "
                "(lsn %llu)",
                (unsigned long long)raft_wal(sim_node(R->c, id))->base_lsn);
}

/* ------------------------------------------------------------------ */
