/*
 * explore_swarm.c — swarm testing: every seed draws its own fault mix.
 *
 * One fixed mix of every fault at once hides the bugs that need one kind
 * alone, or one kind often: a partition that lasts long enough, a crash
 * that loses the tail every time, a quiet spell after a heal.  So, as
 * TigerBeetle's VOPR and the swarm-testing paper (Groce et al., ISSTA
 * 2012) do, each seed first draws which kinds are on (from opts.faults),
 * how often they come and how long they last, their rates, the write
 * rate, the election timeout (within 2/3 to 2 times the configured
 * minimum, never under 3 heartbeats), a stability window after each
 * heal, and how many nodes the liveness phase keeps up.  The draw uses
 * its own stream of the seed, so the same seed draws the same swarm.
 */
#include "sim/cluster/explore_int.h"

#include <math.h>
#include <string.h>

static uint64_t rng(struct prng *p, uint64_t lo, uint64_t hi)
{
    return prng_range(p, lo, hi);
}

/* log-uniform in [lo, hi]: short and long spells alike */
static uint64_t logu(struct prng *p, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    double x = log((double)lo) + prng_double(p) * (log((double)hi) -
                                                   log((double)lo));
    uint64_t v = (uint64_t)exp(x);
    return v < lo ? lo : v > hi ? hi : v;
}

static unsigned pick_bits(struct prng *p, unsigned allowed, unsigned top)
{
    unsigned on = 0, k = 0, bits[16];
    for (unsigned b = 1; b <= top; b <<= 1)
        if (allowed & b) {
            bits[k++] = b;
            if (rng(p, 0, 1))
                on |= b;
        }
    if (!on && k)
        on = bits[rng(p, 0, k - 1)];
    return on;
}

void explore_swarm_draw(const struct explore_opts *o, uint64_t seed,
                        struct explore_swarm *w)
{
    struct prng p;
    prng_seed(&p, seed * 0xd1b54a32d192ed03ull + 0x5a17);
    memset(w, 0, sizeof(*w));
    w->on = true;
    w->kinds = pick_bits(&p, o->faults & EXPLORE_F_ALL, EXPLORE_F_SLOW);
    w->shapes = pick_bits(&p, EXPLORE_SHAPE_ALL, EXPLORE_SHAPE_TRAP);
    static const uint8_t weights[] = {1, 3, 9};
    for (int b = 0; b < 7; b++) /* one kind may dominate the others */
        w->weight[b] = (w->kinds & (1u << b)) ? weights[rng(&p, 0, 2)] : 0;
    w->gap_min_us = logu(&p, 20000, 1000000);
    w->gap_max_us = w->gap_min_us * rng(&p, 1, 4);
    w->len_min_us = logu(&p, 50000, 1000000);
    w->len_max_us = w->len_min_us * rng(&p, 1, 6);
    w->stable_us = rng(&p, 0, 2) ? logu(&p, 100000, 3000000) : 0;
    w->lose_pct = (unsigned)rng(&p, 0, 2) * 50;
    w->drop_pct = (unsigned)rng(&p, 5, 60);
    w->dup_pct = (unsigned)rng(&p, 5, 50);
    w->delay_max_us = logu(&p, 10000, 400000);
    w->slow_us = logu(&p, 20000, 300000);
    w->disk_us = rng(&p, 0, 1) ? logu(&p, 100, 5000) : 0;
    double lo = o->writes_per_s / 20, hi = o->writes_per_s * 4;
    w->writes_per_s = o->writes_per_s > 0
                          ? exp(log(lo) + prng_double(&p) * (log(hi) - log(lo)))
                          : 0;
    w->writes_per_s = floor(w->writes_per_s * 10 + 0.5) / 10;
    uint64_t emin = o->election_min_us * 2 / 3;
    if (emin < 3 * o->heartbeat_us)
        emin = 3 * o->heartbeat_us;
    uint64_t emax = o->election_min_us * 2 > emin ? o->election_min_us * 2
                                                  : emin;
    w->election_min_us = rng(&p, emin, emax);
    w->election_max_us = w->election_min_us +
                         w->election_min_us * rng(&p, 20, 200) / 100;
    int n = o->nodes;
    w->core = rng(&p, 0, 1) ? n : n / 2 + 1;
    w->silent_pct = (unsigned)rng(&p, 0, 2) * 50; /* last: earlier draws
                                                     keep their values */
    if (o->snapshot_every == EXPLORE_SNAP_SWARM) {
        struct prng q; /* its own stream: the draws above stay as they were */
        prng_seed(&q, seed * 0x9e6c63d0676a9a99ull + 0x5a9);
        w->snap_entries = rng(&q, 0, 3) ? logu(&q, 2, 500) : 0;
    }
    /* membership changes: every seed under change-two-at-once, half of
     * them with --membership swarm, from a stream of their own (so the
     * draws above, and seeds without it, stay what they were). */
    struct prng m;
    prng_seed(&m, seed * 0xbf58476d1ce4e5b9ull + 0x3e3b);
    bool two = o->unsafe & RAFT_UNSAFE_CHANGE_TWO;
    if (n >= 3 && (two || (o->membership_swarm && rng(&m, 0, 1)))) {
        w->members = two ? n - 2 : (int)rng(&m, (uint64_t)(n + 1) / 2,
                                            (uint64_t)n - 1);
        w->member_gap_us = logu(&m, 100000, 2000000);
        w->core = n; /* the liveness phase: whichever configuration won */
    }
    /* leadership transfers: half the seeds with --transfer swarm, from a
     * stream of their own likewise */
    struct prng x;
    prng_seed(&x, seed * 0x94d049bb133111ebull + 0x7a5f);
    if (n >= 2 && o->transfer_swarm && rng(&x, 0, 1))
        w->transfer_gap_us = logu(&x, 100000, 3000000);
}

static const char *kind_names[] = {"partition", "crash", "pause", "drop",
                                   "delay",     "dup",   "slow"};
static const char *shape_names[] = {"isolate", "split", "one-way",
                                    "bridge",  "ring",  "trap"};

#define ADD(...)                                                              \
    do {                                                                      \
        if (len < cap)                                                        \
            len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__);       \
    } while (0)

void explore_swarm_text(const struct explore_swarm *w, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    if (!w->on) {
        ADD("fixed mix");
        return;
    }
    ADD("faults");
    bool first = true;
    for (int b = 0; b < 7; b++) {
        if (!(w->kinds & (1u << b)))
            continue;
        ADD("%s%s", first ? " " : ",", kind_names[b]);
        if (w->weight[b] > 1)
            ADD("x%u", w->weight[b]);
        first = false;
        unsigned bit = 1u << b;
        if (bit == EXPLORE_F_PARTITION) {
            ADD("(");
            for (int s = 0, f = 1; s < 6; s++)
                if (w->shapes & (1u << s)) {
                    ADD("%s%s", f ? "" : "/", shape_names[s]);
                    f = 0;
                }
            ADD(")");
        } else if (bit == EXPLORE_F_CRASH)
        {
            if (w->silent_pct)
                ADD("(lose tail %u%%, silent %u%%)", w->lose_pct,
                    w->silent_pct);
            else
                ADD("(lose tail %u%%)", w->lose_pct);
        }
        else if (bit == EXPLORE_F_DROP)
            ADD("(<=%u%%)", w->drop_pct);
        else if (bit == EXPLORE_F_DUP)
            ADD("(<=%u%%)", w->dup_pct);
        else if (bit == EXPLORE_F_DELAY)
            ADD("(<=%llums)", (unsigned long long)w->delay_max_us / 1000);
        else if (bit == EXPLORE_F_SLOW)
            ADD("(+%llums)", (unsigned long long)w->slow_us / 1000);
    }
    if (first)
        ADD(" none");
    ADD("; a new one every %.3g-%.3gs, lasting %.3g-%.3gs",
        (double)w->gap_min_us / 1e6, (double)w->gap_max_us / 1e6,
        (double)w->len_min_us / 1e6, (double)w->len_max_us / 1e6);
    if (w->stable_us)
        ADD("; quiet %.3gs after each heal", (double)w->stable_us / 1e6);
    ADD("; writes %g/s; election %llu-%llums", w->writes_per_s,
        (unsigned long long)w->election_min_us / 1000,
        (unsigned long long)w->election_max_us / 1000);
    if (w->disk_us)
        ADD("; disk %lluus", (unsigned long long)w->disk_us);
    ADD("; liveness core %d", w->core);
    if (w->snap_entries)
        ADD("; snapshot every %llu entries",
            (unsigned long long)w->snap_entries);
    if (w->members)
        ADD("; membership: voters n1-n%d, a change every %.3gs", w->members,
            (double)w->member_gap_us / 1e6);
    if (w->transfer_gap_us)
        ADD("; a leadership transfer every %.3gs",
            (double)w->transfer_gap_us / 1e6);
}
