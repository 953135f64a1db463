/*
 * explore_faults.c — the faults of a seed's schedule and their undoing,
 * each recorded as the scenario line that replays it.
 *
 * Faults come one at a time at random intervals; each undoes itself after
 * a random while (a restart after a crash, a heal after a partition …),
 * so faults overlap the way they do in real outages.  At most a minority
 * of nodes is crashed at once, because a run with no possible quorum
 * teaches the checker nothing.  The fixed mix draws every kind in
 * opts.faults with the same odds for every seed; a swarm seed draws from
 * its own kinds, shapes and rates (explore_swarm.c) and keeps quiet for
 * its stability window after each undo.
 */
#include "sim/cluster/explore_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void ex_rec(struct sched *s, const char *fmt, ...)
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

void ex_rec_at(struct sched *s)
{
    ex_rec(s, "at %lluus ", (unsigned long long)sim_now(s->c));
}

static void add_undo(struct sched *s, uint64_t t, int kind, int node)
{
    if (s->n_undo < MAX_UNDO)
        s->undo[s->n_undo++] = (struct pending_undo){t, kind, node};
}

uint64_t ex_rnd(struct sched *s, uint64_t lo, uint64_t hi)
{
    return prng_range(&s->rng, lo, hi);
}

static int random_node(struct sched *s)
{
    return (int)ex_rnd(s, 1, (uint64_t)s->o->nodes);
}

/* How long this fault lasts: the fixed mix's range, or the swarm's. */
static uint64_t fault_len(struct sched *s, uint64_t lo, uint64_t hi)
{
    if (s->w)
        return ex_rnd(s, s->w->len_min_us, s->w->len_max_us);
    return ex_rnd(s, lo, hi);
}

static int crashed_count(struct sched *s)
{
    int k = 0;
    for (int i = 1; i <= s->o->nodes; i++)
        k += !sim_is_up(s->c, i);
    return k;
}

void ex_trap_hook(void *ctx, struct sim_cluster *c,
                  const struct raft_event *ev)
{
    struct sched *s = ctx;
    if (!sim_trap_springs(c, s->trap, ev))
        return;
    s->trap = SIM_TRAP_NONE;
    s->partitioned = true;
    add_undo(s, sim_now(c) + s->trap_heal_after, U_HEAL, 0);
}

static void set_trap(struct sched *s, bool append)
{
    s->trap = append ? SIM_TRAP_APPEND : SIM_TRAP_COMMIT;
    s->trap_heal_after = fault_len(s, 300000, 3000000);
    ex_rec_at(s);
    ex_rec(s, "isolate leader on %s\n", append ? "append" : "commit");
}

static void rec_others(struct sched *s, int a)
{
    ex_rec(s, "{");
    for (int b = 1, first = 1; b <= s->o->nodes; b++)
        if (b != a) {
            ex_rec(s, "%sn%d", first ? "" : ",", b);
            first = 0;
        }
    ex_rec(s, "}");
}

/* one-way: a node can hear but not speak, or the reverse */
static void one_way(struct sched *s)
{
    int n = s->o->nodes;
    int a = random_node(s);
    bool out = ex_rnd(s, 0, 1);
    ex_rec_at(s);
    ex_rec(s, "cut ");
    if (out) {
        ex_rec(s, "n%d -> ", a);
        rec_others(s, a);
    } else {
        rec_others(s, a);
        ex_rec(s, " -> n%d", a);
    }
    ex_rec(s, "\n");
    for (int b = 1; b <= n; b++)
        if (b != a) {
            if (out)
                sim_cut(s->c, a, b);
            else
                sim_cut(s->c, b, a);
        }
}

/* isolate one node (often the leader), or split into two groups */
static void groups(struct sched *s, bool isolate)
{
    int n = s->o->nodes;
    int group[RAFT_MAX_NODES + 1] = {0};
    int leaders[RAFT_MAX_NODES];
    if (isolate) {
        int k = sim_leaders(s->c, leaders);
        int iso = (k && ex_rnd(s, 0, 1)) ? leaders[0] : random_node(s);
        group[iso] = 1;
    } else {
        int ones = 0;
        for (int i = 1; i <= n; i++)
            ones += group[i] = (int)ex_rnd(s, 0, 1);
        if (ones == 0 || ones == n)
            group[random_node(s)] ^= 1;
    }
    ex_rec_at(s);
    ex_rec(s, "partition");
    for (int g = 1; g >= 0; g--) {
        ex_rec(s, " {");
        for (int i = 1, first = 1; i <= n; i++)
            if (group[i] == g) {
                ex_rec(s, "%sn%d", first ? "" : ",", i);
                first = 0;
            }
        ex_rec(s, "}");
    }
    ex_rec(s, "\n");
    sim_partition(s->c, group);
}

/* Jepsen's shapes, cut exactly as the scenario runner cuts them
 * (runner_words.c): ring, each node hears its two neighbours; bridge B,
 * two halves by id that only B joins. */
static void shape(struct sched *s, bool ring)
{
    int n = s->o->nodes, bridge = ring ? 0 : random_node(s);
    int half[RAFT_MAX_NODES + 1] = {0}, k = 0;
    for (int i = 1; i <= n; i++)
        if (i != bridge)
            half[i] = ++k <= (n - 1) / 2 ? 1 : 2;
    ex_rec_at(s);
    if (ring)
        ex_rec(s, "partition ring\n");
    else
        ex_rec(s, "partition bridge n%d\n", bridge);
    sim_heal(s->c);
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= n; j++) {
            if (i == j)
                continue;
            bool sees;
            if (ring) {
                int d = i > j ? i - j : j - i;
                sees = d == 1 || d == n - 1;
            } else {
                sees = i == bridge || j == bridge || half[i] == half[j];
            }
            if (!sees)
                sim_cut(s->c, i, j);
        }
}

static void fault_partition(struct sched *s, uint64_t now)
{
    if (s->o->nodes < 2)
        return; /* one node: nothing to cut it from */
    if (s->w) {
        unsigned shapes[6];
        int k = 0;
        /* a ring needs 4 nodes, a bridge 3 (as the scenario parser says) */
        unsigned can = s->w->shapes;
        if (s->o->nodes < 4)
            can &= ~(unsigned)EXPLORE_SHAPE_RING;
        if (s->o->nodes < 3)
            can &= ~(unsigned)EXPLORE_SHAPE_BRIDGE;
        for (unsigned b = 1; b <= EXPLORE_SHAPE_TRAP; b <<= 1)
            if (can & b)
                shapes[k++] = b;
        if (!k)
            return;
        switch (shapes[ex_rnd(s, 0, (uint64_t)k - 1)]) {
        case EXPLORE_SHAPE_TRAP:
            set_trap(s, ex_rnd(s, 0, 1));
            return;
        case EXPLORE_SHAPE_ISOLATE:
            groups(s, true);
            break;
        case EXPLORE_SHAPE_SPLIT:
            groups(s, false);
            break;
        case EXPLORE_SHAPE_ONEWAY:
            one_way(s);
            break;
        case EXPLORE_SHAPE_BRIDGE:
            shape(s, false);
            break;
        case EXPLORE_SHAPE_RING:
            shape(s, true);
            break;
        }
    } else {
        uint64_t r = ex_rnd(s, 0, 9);
        if (r >= 8) {
            set_trap(s, r == 8);
            return;
        }
        if (r < 2)
            one_way(s);
        else
            groups(s, r < 6);
    }
    s->partitioned = true;
    add_undo(s, now + fault_len(s, 300000, 3000000), U_HEAL, 0);
}

static void fault_crash(struct sched *s, uint64_t now)
{
    if (crashed_count(s) >= (s->o->nodes - 1) / 2)
        return;
    int id = random_node(s);
    if (!sim_is_up(s->c, id))
        return;
    bool lose = s->w ? ex_rnd(s, 0, 99) < s->w->lose_pct : ex_rnd(s, 0, 1);
    /* silent: power loss, no connection closes (fast detection sees
     * nothing); else the process died and its peers read EOF */
    bool silent = s->w ? ex_rnd(s, 0, 99) < s->w->silent_pct
                       : ex_rnd(s, 0, 3) == 0;
    ex_rec_at(s);
    ex_rec(s, "crash n%d%s%s\n", id, lose ? " lose-unflushed" : "",
           silent ? " silent" : "");
    if (silent)
        sim_crash_silent(s->c, id, lose);
    else
        sim_crash(s->c, id, lose);
    add_undo(s, now + fault_len(s, 100000, 3000000), U_RESTART, id);
}

static void fault_pause(struct sched *s, uint64_t now)
{
    int id = random_node(s);
    if (!sim_is_up(s->c, id) || sim_is_paused(s->c, id))
        return;
    ex_rec_at(s);
    ex_rec(s, "pause n%d\n", id);
    sim_pause(s->c, id);
    add_undo(s, now + fault_len(s, 100000, 2000000), U_RESUME, id);
}

static void set_link(struct sched *s, int a, int b, const struct sim_link *l)
{
    ex_rec_at(s);
    ex_rec(s, "link n%d -> n%d latency %lluus jitter %lluus drop %.17g "
              "dup %.17g\n",
           a, b, (unsigned long long)l->latency_us,
           (unsigned long long)l->jitter_us, l->drop, l->dup);
    sim_set_link(s->c, a, b, l);
}

/* Degrade every link, or every link of one victim: kind is DROP, DUP,
 * DELAY or SLOW (a slow node: always one victim). */
static void degrade(struct sched *s, uint64_t now, unsigned kind)
{
    int n = s->o->nodes;
    const struct explore_swarm *w = s->w;
    int victim = kind == EXPLORE_F_SLOW || ex_rnd(s, 0, 1) ? random_node(s)
                                                          : 0; /* 0: all */
    for (int a = 1; a <= n; a++)
        for (int b = 1; b <= n; b++) {
            if (a == b || (victim && a != victim && b != victim))
                continue;
            struct sim_link l = *sim_get_link(s->c, a, b);
            if (!w && kind == EXPLORE_F_DROP) {
                l.drop = (double)ex_rnd(s, 5, 40) / 100.0;
                l.dup = (double)ex_rnd(s, 0, 10) / 100.0;
            } else if (!w) {
                l.latency_us = ex_rnd(s, 5000, 150000);
                l.jitter_us = ex_rnd(s, 0, l.latency_us / 2);
            } else if (kind == EXPLORE_F_DROP) {
                l.drop = (double)ex_rnd(s, 1, w->drop_pct) / 100.0;
            } else if (kind == EXPLORE_F_DUP) {
                l.dup = (double)ex_rnd(s, 1, w->dup_pct) / 100.0;
            } else if (kind == EXPLORE_F_DELAY) {
                l.latency_us = ex_rnd(s, 5000, w->delay_max_us);
                l.jitter_us = ex_rnd(s, 0, l.latency_us / 2);
            } else { /* SLOW */
                l.latency_us = sim_default_link(s->c)->latency_us + w->slow_us;
                l.jitter_us = w->slow_us / 4;
            }
            set_link(s, a, b, &l);
        }
    s->degraded = true;
    add_undo(s, now + fault_len(s, 300000, 3000000), U_LINKS, 0);
}

void ex_run_undo(struct sched *s, struct pending_undo *u)
{
    switch (u->kind) {
    case U_RESTART:
        ex_rec_at(s);
        ex_rec(s, "restart n%d\n", u->node);
        sim_restart(s->c, u->node);
        break;
    case U_RESUME:
        ex_rec_at(s);
        ex_rec(s, "resume n%d\n", u->node);
        sim_resume(s->c, u->node);
        break;
    case U_HEAL:
        if (s->partitioned) {
            ex_rec_at(s);
            ex_rec(s, "heal\n");
            sim_heal(s->c);
        }
        s->partitioned = false;
        break;
    case U_LINKS:
        ex_rec_at(s);
        ex_rec(s, "link all -> all reset\n");
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
    if (s->w)
        s->quiet_until = sim_now(s->c) + s->w->stable_us;
}

void ex_random_fault(struct sched *s, uint64_t now)
{
    unsigned kinds[7];
    int k = 0;
    unsigned on = s->w ? s->w->kinds : s->o->faults & EXPLORE_F_FIXED;
    for (unsigned b = 1; b <= EXPLORE_F_SLOW; b <<= 1)
        if (on & b)
            kinds[k++] = b;
    if (!k)
        return;
    unsigned pick = kinds[0];
    if (s->w) { /* weighted: the swarm may favour one kind */
        uint64_t total = 0;
        for (int i = 0; i < k; i++)
            total += s->w->weight[__builtin_ctz(kinds[i])];
        uint64_t r = ex_rnd(s, 0, total ? total - 1 : 0);
        for (int i = 0; i < k; i++) {
            uint64_t wt = s->w->weight[__builtin_ctz(kinds[i])];
            if (r < wt) {
                pick = kinds[i];
                break;
            }
            r -= wt;
        }
    } else {
        pick = kinds[ex_rnd(s, 0, (uint64_t)k - 1)];
    }
    switch (pick) {
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
        degrade(s, now, EXPLORE_F_DROP);
        break;
    case EXPLORE_F_DUP:
        degrade(s, now, EXPLORE_F_DUP);
        break;
    case EXPLORE_F_DELAY:
        degrade(s, now, EXPLORE_F_DELAY);
        break;
    case EXPLORE_F_SLOW:
        degrade(s, now, EXPLORE_F_SLOW);
        break;
    }
}
