/*
 * explore_json.c — explore results as JSON, with jansson.  See
 * explore_json.h.
 */
#include "sim/cluster/explore_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"

json_t *explore_params_json(const struct explore_opts *o,
                            uint64_t range_start, uint64_t range_seeds)
{
    static const char *fault_names[] = {"partition", "crash", "pause", "drop",
                                        "delay",     "dup",   "slow"};
    json_t *faults = json_array(), *unsafe = json_array();
    for (unsigned b = 0; b < 7; b++)
        if (o->faults & (1u << b))
            json_array_append_new(faults, json_string(fault_names[b]));
    for (unsigned b = 1; b <= RAFT_UNSAFE_CHANGE_TWO; b <<= 1)
        if (o->unsafe & b)
            json_array_append_new(unsafe, json_string(raft_unsafe_name(b)));
    /* "snapshot_every": entries, 0 for none, "swarm" when each seed draws
     * its own policy; "membership": the safe swarm's configuration
     * changes (--membership swarm); "transfer": --transfer swarm. */
    json_t *snap = o->snapshot_every == EXPLORE_SNAP_SWARM
                       ? json_string("swarm")
                       : json_integer((json_int_t)o->snapshot_every);
    return json_pack(
        "{s:i, s:I, s:I, s:I, s:I, s:o, s:f, s:s, s:s, s:b, s:b, s:o, s:I, "
        "s:I, s:I, s:s, s:f, s:b, s:b, s:I, s:b, s:o, s:b, s:I, s:b}",
        "nodes", o->nodes, "start_seed", (json_int_t)range_start, "seeds",
        (json_int_t)range_seeds, "duration_us", (json_int_t)o->duration_us,
        "settle_us", (json_int_t)o->settle_us, "faults", faults,
        "writes_per_s", o->writes_per_s, "ack", raft_ack_mode_name(o->ack),
        "election", raft_policy_name(o->policy), "prevote", o->prevote,
        "checkquorum", o->checkquorum, "unsafe", unsafe, "heartbeat_us",
        (json_int_t)o->heartbeat_us, "election_min_us",
        (json_int_t)o->election_min_us, "election_max_us",
        (json_int_t)o->election_max_us, "transport",
        o->transport == SIM_TRANSPORT_TCP ? "tcp" : "memory", "time_scale",
        o->time_scale, "swarm", o->swarm, "liveness", o->liveness,
        "liveness_within_us", (json_int_t)o->liveness_us,
        "check_determinism", o->check_determinism, "snapshot_every", snap,
        "membership", o->membership_swarm, "max_events",
        (json_int_t)o->max_events, "transfer", o->transfer_swarm);
}

char *explore_batch_to_json(json_t *params, const struct explore_batch *b,
                            const char *repro)
{
    const struct explore_result *r = &b->r;
    json_t *first = json_null(), *te = json_null(), *stop = json_null();
    if (r->have_first) {
        json_t *nodes = json_array();
        for (int i = 0; i < 2; i++)
            if (r->first.nodes[i])
                json_array_append_new(nodes, json_integer(r->first.nodes[i]));
        first = json_pack("{s:I, s:s, s:I, s:o, s:s, s:s?, s:s?, s:s?}",
                          "seed", (json_int_t)r->first_seed, "invariant",
                          r->first.invariant, "t_us",
                          (json_int_t)r->first.t_us, "nodes", nodes, "detail",
                          r->first.detail, "reproduce", repro, "scenario",
                          r->scenario[0] ? r->scenario : NULL, "drew",
                          b->first_drew[0] ? b->first_drew : NULL);
    }
    if (r->transport_errors)
        te = json_pack("{s:I, s:s}", "seed", (json_int_t)b->te_seed,
                       "message", r->first_transport_error);
    if (r->interrupted)
        stop = json_pack("{s:I, s:I}", "seed", (json_int_t)r->last_seed,
                         "t_us", (json_int_t)r->last_end_us);
    json_t *totals = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:I, s:I, s:I}",
        "seeds", (json_int_t)r->seeds, "violations",
        (json_int_t)r->violations, "failed_seeds", (json_int_t)r->failed_seeds,
        "liveness_failures", (json_int_t)r->liveness_failures,
        "nondeterministic", (json_int_t)r->nondeterministic,
        "acked_lost", (json_int_t)r->acked_lost, "elections",
        (json_int_t)r->elections, "messages", (json_int_t)r->messages,
        "writes", (json_int_t)r->writes, "acked", (json_int_t)r->acked,
        "no_leader_at_end", (json_int_t)r->no_leader_at_end, "simulated_us",
        (json_int_t)b->sim_us, "setup_failures",
        (json_int_t)r->setup_failures, "transport_errors",
        (json_int_t)r->transport_errors, "worker_deaths",
        (json_int_t)b->worker_deaths, "over_budget",
        (json_int_t)r->over_budget, "first_over_budget",
        (json_int_t)r->first_over_budget, "transfers",
        (json_int_t)r->transfers);
    uint64_t share_start, share_seeds;
    explore_shard_range(b->range_start, b->range_seeds, b->shard_index,
                        b->shard_count, &share_start, &share_seeds);
    json_t *shard = json_pack("{s:I, s:I, s:I, s:I}", "index",
                              (json_int_t)b->shard_index, "count",
                              (json_int_t)b->shard_count, "start_seed",
                              (json_int_t)share_start, "seeds",
                              (json_int_t)share_seeds);
    json_t *all = json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:f, s:f}", "format",
        EXPLORE_JSON_FORMAT, "params", params, "shard", shard, "totals",
        totals, "first_failure", first, "first_transport_error", te,
        "interrupted", stop, "jobs", b->jobs, "wall_s", r->wall_s,
        "seeds_per_s", r->wall_s > 0 ? (double)r->seeds / r->wall_s : 0.0);
    if (!all)
        return NULL;
    char *text = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                     JSON_REAL_PRECISION(12));
    json_decref(all);
    return text;
}

/* Invariant names outlive the JSON they came from (sim_violation holds a
 * pointer, as the checker's are literals). */
static const char *intern(const char *s)
{
    static char names[32][64];
    static int n;
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], s))
            return names[i];
    if (n == 32)
        return "(other)";
    snprintf(names[n], sizeof(names[n]), "%s", s);
    return names[n++];
}

static int u64_field(json_t *obj, const char *key, uint64_t *out, char *err,
                     size_t cap)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, cap, "\"%s\" is missing or not a non-negative integer",
                 key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int explore_batch_from_json(const char *text, struct explore_batch *b,
                            json_t **params, char **repro, char *err,
                            size_t cap)
{
    memset(b, 0, sizeof(*b));
    *params = NULL;
    *repro = NULL;
    json_error_t je;
    json_t *all = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!all) {
        snprintf(err, cap, "not JSON (line %d: %s)", je.line, je.text);
        return -1;
    }
    int rc = -1;
    struct explore_result *r = &b->r;
    json_t *fmt = json_object_get(all, "format");
    json_t *p = json_object_get(all, "params");
    json_t *shard = json_object_get(all, "shard");
    json_t *t = json_object_get(all, "totals");
    if (!json_is_string(fmt) ||
        strcmp(json_string_value(fmt), EXPLORE_JSON_FORMAT) != 0) {
        snprintf(err, cap, "not an explore result (no \"format\": \"%s\")",
                 EXPLORE_JSON_FORMAT);
        goto out;
    }
    if (!json_is_object(p) || !json_is_object(shard) || !json_is_object(t)) {
        snprintf(err, cap, "\"params\", \"shard\" or \"totals\" is missing");
        goto out;
    }
    uint64_t jobs = 0;
    if (u64_field(p, "start_seed", &b->range_start, err, cap) ||
        u64_field(p, "seeds", &b->range_seeds, err, cap) ||
        u64_field(shard, "index", &b->shard_index, err, cap) ||
        u64_field(shard, "count", &b->shard_count, err, cap) ||
        u64_field(t, "seeds", &r->seeds, err, cap) ||
        u64_field(t, "violations", &r->violations, err, cap) ||
        u64_field(t, "failed_seeds", &r->failed_seeds, err, cap) ||
        u64_field(t, "liveness_failures", &r->liveness_failures, err, cap) ||
        u64_field(t, "nondeterministic", &r->nondeterministic, err, cap) ||
        u64_field(t, "acked_lost", &r->acked_lost, err, cap) ||
        u64_field(t, "elections", &r->elections, err, cap) ||
        u64_field(t, "messages", &r->messages, err, cap) ||
        u64_field(t, "writes", &r->writes, err, cap) ||
        u64_field(t, "acked", &r->acked, err, cap) ||
        u64_field(t, "no_leader_at_end", &r->no_leader_at_end, err, cap) ||
        u64_field(t, "simulated_us", &b->sim_us, err, cap) ||
        u64_field(t, "setup_failures", &r->setup_failures, err, cap) ||
        u64_field(t, "transport_errors", &r->transport_errors, err, cap) ||
        u64_field(t, "worker_deaths", &b->worker_deaths, err, cap) ||
        u64_field(all, "jobs", &jobs, err, cap))
        goto out;
    /* absent from the shards of older builds: none over budget */
    if ((json_object_get(t, "over_budget") &&
         u64_field(t, "over_budget", &r->over_budget, err, cap)) ||
        (json_object_get(t, "first_over_budget") &&
         u64_field(t, "first_over_budget", &r->first_over_budget, err, cap)) ||
        (json_object_get(t, "transfers") &&
         u64_field(t, "transfers", &r->transfers, err, cap)))
        goto out;
    if (b->shard_count < 1 || b->shard_index >= b->shard_count) {
        snprintf(err, cap, "shard %llu/%llu is not a shard",
                 (unsigned long long)b->shard_index,
                 (unsigned long long)b->shard_count);
        goto out;
    }
    b->jobs = (int)jobs;
    r->simulated_s = (double)b->sim_us / 1e6;
    json_t *w = json_object_get(all, "wall_s");
    r->wall_s = json_is_number(w) ? json_number_value(w) : 0;
    json_t *f = json_object_get(all, "first_failure");
    if (json_is_object(f)) {
        const char *inv = NULL, *detail = NULL, *rp = NULL, *scn = NULL;
        json_int_t seed = -1, t_us = -1;
        json_t *nodes = NULL;
        json_t *jr = json_object_get(f, "reproduce");
        json_t *js = json_object_get(f, "scenario");
        rp = json_is_string(jr) ? json_string_value(jr) : NULL;
        scn = json_is_string(js) ? json_string_value(js) : NULL;
        if (json_unpack_ex(f, &je, 0, "{s:I, s:s, s:I, s:o, s:s}", "seed",
                           &seed, "invariant", &inv, "t_us", &t_us, "nodes",
                           &nodes, "detail", &detail) != 0 ||
            seed < 0 || t_us < 0 || !json_is_array(nodes)) {
            snprintf(err, cap, "bad \"first_failure\": %s", je.text);
            goto out;
        }
        r->have_first = true;
        r->first_seed = (uint64_t)seed;
        r->first.invariant = intern(inv);
        r->first.t_us = (uint64_t)t_us;
        snprintf(r->first.detail, sizeof(r->first.detail), "%s", detail);
        for (size_t i = 0; i < 2 && i < json_array_size(nodes); i++)
            r->first.nodes[i] = (int)json_integer_value(json_array_get(nodes, i));
        if (scn)
            snprintf(r->scenario, sizeof(r->scenario), "%s", scn);
        json_t *jd = json_object_get(f, "drew");
        if (json_is_string(jd))
            snprintf(b->first_drew, sizeof(b->first_drew), "%s",
                     json_string_value(jd));
        if (rp && !(*repro = strdup(rp))) {
            snprintf(err, cap, "out of memory");
            goto out;
        }
    } else if (f && !json_is_null(f)) {
        snprintf(err, cap, "\"first_failure\" is neither an object nor null");
        goto out;
    }
    json_t *te = json_object_get(all, "first_transport_error");
    if (json_is_object(te)) {
        json_t *s = json_object_get(te, "seed"), *m = json_object_get(te, "message");
        if (json_is_integer(s))
            b->te_seed = (uint64_t)json_integer_value(s);
        if (json_is_string(m))
            snprintf(r->first_transport_error,
                     sizeof(r->first_transport_error), "%s",
                     json_string_value(m));
    }
    json_t *stop = json_object_get(all, "interrupted");
    if (json_is_object(stop)) {
        json_t *s = json_object_get(stop, "seed"), *tu = json_object_get(stop, "t_us");
        r->interrupted = true;
        r->last_seed = json_is_integer(s) ? (uint64_t)json_integer_value(s) : 0;
        r->last_end_us = json_is_integer(tu) ? (uint64_t)json_integer_value(tu) : 0;
    }
    *params = json_incref(p);
    rc = 0;
out:
    if (rc != 0) {
        free(*repro);
        *repro = NULL;
    }
    json_decref(all);
    return rc;
}

const char *explore_params_differ(json_t *a, json_t *b)
{
    const char *key;
    json_t *v;
    json_object_foreach(a, key, v) {
        if (!json_equal(v, json_object_get(b, key)))
            return key;
    }
    json_object_foreach(b, key, v) {
        if (!json_object_get(a, key))
            return key;
    }
    return NULL;
}
