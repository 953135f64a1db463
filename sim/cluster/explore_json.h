/*
 * explore_json.h — an explore batch (explore_jobs.h) as one JSON object,
 * and back: what `explore --json` prints and `explore-merge` reads.
 *
 *   {"format": "raftsim-explore-1",
 *    "params": {every option that changes what a seed does, and the
 *               whole seed range: "start_seed", "seeds"},
 *    "shard": {"index": I, "count": N, "start_seed": S, "seeds": K},
 *    "totals": {"seeds", "violations", "failed_seeds",
 *               "liveness_failures", "nondeterministic", "acked_lost",
 *               "elections", "messages", "writes", "acked",
 *               "no_leader_at_end", "simulated_us", "setup_failures",
 *               "transport_errors", "worker_deaths"},
 *    "first_failure": null | {"seed", "invariant", "t_us", "nodes",
 *                             "detail", "reproduce", "scenario",
 *                             "drew" (swarm: what the seed drew)},
 *    "first_transport_error": null | {"seed", "message"},
 *    "interrupted": null | {"seed", "t_us"},
 *    "jobs", "wall_s", "seeds_per_s"}
 *
 * Two results may be merged only when their "params" are equal.
 */
#ifndef RAFTSIM_SIM_EXPLORE_JSON_H
#define RAFTSIM_SIM_EXPLORE_JSON_H

#include <jansson.h>

#include "sim/cluster/explore_jobs.h"

#define EXPLORE_JSON_FORMAT "raftsim-explore-1"

/* The parameters of a run over seeds [range_start, +range_seeds). */
json_t *explore_params_json(const struct explore_opts *o,
                            uint64_t range_start, uint64_t range_seeds);
/* The whole object as text (free() it), params taken over; repro and
 * scenario may be NULL.  NULL when out of memory. */
char *explore_batch_to_json(json_t *params, const struct explore_batch *b,
                            const char *repro);
/* Read one object: 0, or -1 with the reason in err.  *params and *repro
 * (may be NULL) are the caller's to release (json_decref, free). */
int explore_batch_from_json(const char *text, struct explore_batch *b,
                            json_t **params, char **repro, char *err,
                            size_t cap);
/* The first key whose value differs between two params objects (a key
 * only one has counts), or NULL when they are equal. */
const char *explore_params_differ(json_t *a, json_t *b);

#endif
