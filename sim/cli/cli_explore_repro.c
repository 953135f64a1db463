/*
 * cli_explore_repro.c — what `raftsim explore` says about a failing
 * seed: the one command that replays it alone (also in --json and in a
 * dead worker's message), and the first failure's lines on stderr.
 */
#include "sim/cli/cli.h"

#include <stdio.h>

#include "raft/raft.h"
#include "sim/cluster/explore.h"

/* The command that replays seed `seed` alone, options as in o. */
void cli_explore_repro(FILE *out, const char *prog,
                       const struct explore_opts *o, uint64_t seed)
{
    fprintf(out, "%s explore --nodes %d --start-seed %llu --seeds 1", prog,
            o->nodes, (unsigned long long)seed);
    if (o->duration_us != 10000000)
        fprintf(out, " --duration %lluus",
                (unsigned long long)o->duration_us);
    if (o->settle_us != 3000000)
        fprintf(out, " --settle %lluus", (unsigned long long)o->settle_us);
    if (!o->swarm)
        fprintf(out, " --swarm off");
    if (o->snapshot_every == EXPLORE_SNAP_SWARM)
        fprintf(out, " --snapshot-every swarm");
    else if (o->snapshot_every)
        fprintf(out, " --snapshot-every %llu",
                (unsigned long long)o->snapshot_every);
    if (o->membership_swarm)
        fprintf(out, " --membership swarm");
    if (o->transfer_swarm)
        fprintf(out, " --transfer swarm");
    if (!o->liveness)
        fprintf(out, " --no-liveness");
    if (o->liveness_us)
        fprintf(out, " --liveness-within %lluus",
                (unsigned long long)o->liveness_us);
    if (o->check_determinism)
        fprintf(out, " --check-determinism");
    if (o->max_events)
        fprintf(out, " --max-events %llu", (unsigned long long)o->max_events);
    if (o->faults != EXPLORE_F_ALL) {
        static const char *fn[] = {"partition", "crash", "pause", "drop",
                                   "delay",     "dup",   "slow"};
        fprintf(out, " --faults ");
        bool first = true;
        for (int b = 0; b < 7; b++)
            if (o->faults & (1u << b)) {
                fprintf(out, "%s%s", first ? "" : ",", fn[b]);
                first = false;
            }
        if (first)
            fprintf(out, "none");
    }
    if (o->ack != RAFT_ACK_QUORUM)
        fprintf(out, " --ack %s", raft_ack_mode_name(o->ack));
    if (o->policy != RAFT_ELECT_HIGHEST_LSN)
        fprintf(out, " --election %s", raft_policy_name(o->policy));
    if (!o->prevote)
        fprintf(out, " --no-prevote");
    if (!o->checkquorum)
        fprintf(out, " --no-checkquorum");
    if (!o->fast_detect)
        fprintf(out, " --no-fast-detect");
    for (unsigned b = 1; b <= RAFT_UNSAFE_CHANGE_TWO; b <<= 1)
        if (o->unsafe & b)
            fprintf(out, " --unsafe %s", raft_unsafe_name(b));
    if (o->heartbeat_us != 50000)
        fprintf(out, " --heartbeat %lluus",
                (unsigned long long)o->heartbeat_us);
    if (o->election_min_us != 150000 || o->election_max_us != 300000)
        fprintf(out, " --election-timeout %lluus-%lluus",
                (unsigned long long)o->election_min_us,
                (unsigned long long)o->election_max_us);
    if (o->writes_per_s != 100)
        fprintf(out, " --writes-per-s %g", o->writes_per_s);
    if (o->transport == SIM_TRANSPORT_TCP)
        fprintf(out, " --transport tcp --time-scale %g", o->time_scale);
    fprintf(out, " --trace seed%llu.jsonl", (unsigned long long)seed);
}

void cli_explore_print_first(const char *prog, const struct explore_opts *o,
                             const struct explore_result *r)
{
    const struct sim_violation *v = &r->first;
    fprintf(stderr,
            "explore: first violation: seed %llu, %s at t=%.6fs, nodes n%d",
            (unsigned long long)r->first_seed, v->invariant,
            (double)v->t_us / 1e6, v->nodes[0]);
    if (v->nodes[1])
        fprintf(stderr, ",n%d", v->nodes[1]);
    fprintf(stderr, "\n  %s\nexplore: reproduce with: ", v->detail);
    cli_explore_repro(stderr, prog, o, r->first_seed);
    fprintf(stderr, "\n");
    if (r->first_params.on) {
        char text[512];
        explore_swarm_text(&r->first_params, text, sizeof(text));
        fprintf(stderr, "explore: seed %llu drew: %s\n",
                (unsigned long long)r->first_seed, text);
    }
    if (o->transport == SIM_TRANSPORT_TCP)
        fprintf(stderr, "explore: note: TCP runs follow the wall clock, so a "
                        "replay may not fail the same way; the virtual-time "
                        "replay of the same seed is exact\n");
}
