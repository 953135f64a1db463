/*
 * bench_flow.c — replication flow control under load: a 5-node cluster
 * takes 30,000 writes/s, a follower crashes (losing its unflushed tail)
 * for 1 s and restarts; how many entries and bytes the leaders then send
 * it, against what it appends, and the wall time and memory that costs.
 * Before issue 15 the same load sent a restarted follower ~250-600 times
 * what it needed (explore --writes-per-s 30000: 51 s, 2.8 GB).
 */
#include "sim/bench/bench.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "sim/cluster/cluster.h"
#include "sim/util/util.h"

struct counted {
    bool on;
    int node;
    uint64_t entries, entry_bytes;
};

static void count_appends(void *ctx, struct sim_cluster *c,
                          const struct raft_event *ev)
{
    (void)c;
    struct counted *k = ctx;
    if (!k->on || ev->kind != RAFT_EV_APPEND || ev->node != k->node)
        return;
    k->entries++;
    if (ev->payload)
        k->entry_bytes += ev->payload->key_len + ev->payload->value_len;
}

static bool load(struct sim_cluster *c, uint64_t until, int per_ms, int *seq)
{
    while (sim_now(c) < until) {
        for (int i = 0; i < per_ms; i++) {
            char key[24];
            snprintf(key, sizeof(key), "k%d", (*seq)++);
            sim_client_write(c, 1 + *seq % 3, 0, key, "value-of-some-size");
        }
        if (!sim_run_until(c, sim_now(c) + 1000))
            return false;
    }
    return true;
}

int bench_flow(FILE *out)
{
    struct sim_options o;
    sim_options_default(&o, 5);
    o.seed = 1;
    struct sim_cluster *c;
    if (sim_cluster_new(&o, &c) != 0)
        return 1;
    double t0 = util_wall_s();
    int l = sim_await_leader(c, 2000000), seq = 0;
    int f = l % 5 + 1;
    struct counted k = {.node = f};
    sim_set_hook(c, count_appends, &k);
    struct sim_sent before, after;
    bool ok = l && load(c, sim_now(c) + 500000, 30, &seq);
    sim_crash(c, f, true);
    ok = ok && load(c, sim_now(c) + 1000000, 30, &seq);
    sim_restart(c, f);
    sim_sent_to(c, f, &before);
    k.on = true;
    ok = ok && load(c, sim_now(c) + 2000000, 30, &seq) &&
         sim_run_until(c, sim_now(c) + 1000000);
    sim_sent_to(c, f, &after);
    double wall = util_wall_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t sent = after.entries - before.entries;
    uint64_t bytes = after.entry_bytes - before.entry_bytes;
    fprintf(out,
            "bench flow: 5 nodes, 30000 writes/s, n%d down 1 s: after its "
            "restart sent %llu entries (%llu bytes, %llu appends) for %llu "
            "it needed: x%.2f entries, x%.2f bytes; %.2f s wall, process max RSS "
            "%ld MiB%s\n",
            f, (unsigned long long)sent, (unsigned long long)bytes,
            (unsigned long long)(after.appends - before.appends),
            (unsigned long long)k.entries,
            k.entries ? (double)sent / (double)k.entries : 0.0,
            k.entry_bytes ? (double)bytes / (double)k.entry_bytes : 0.0,
            wall, ru.ru_maxrss / 1024, ok ? "" : " (stopped: a violation)");
    sim_cluster_free(c);
    return ok ? 0 : 1;
}
