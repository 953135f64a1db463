/*
 * cli_explore_merge.c — `raftsim explore-merge FILE…`: the shards of one
 * explore run (`explore --shard I/N --json`, explore_json.h) added up:
 * the totals, and the lowest failing seed with its reproduction command.
 * Shards of different parameters are refused, naming the first one that
 * differs; so are a shard given twice and, without --partial, a missing
 * one.  Exit: 0 no violation, 1 violations, 2 bad usage or bad input.
 */
#include "sim/cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cluster/explore_json.h"
#include "sim/util/util.h"

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s explore-merge [OPTIONS] FILE...\n\n"
            "Adds up the results of the shards of one explore run, each "
            "written by\n"
            "  %s explore --shard I/N --json ... > FILE\n"
            "and prints what one run over the whole seed range would: the "
            "first\n"
            "violation (the lowest failing seed) with its reproduction "
            "command, then\n"
            "  explore: seeds=K violations=V acked_lost=A elections=E "
            "messages=M simulated_s=X wall_s=Y\n"
            "(wall_s: the slowest shard).  Shards must have the same "
            "parameters and\n"
            "together cover the range, each once.\n"
            "Exit status: 0 no violation, 1 violations found, 2 bad usage "
            "or a file\n"
            "that is not a shard of the same run.\n\n"
            "options:\n"
            "  --partial   merge the shards given even if some are missing\n"
            "  --json      print the merged result as JSON (the format of "
            "explore --json)\n"
            "  -h, --help  this text\n\n"
            "examples:\n"
            "  %s explore --seeds 60 --shard 0/2 --json --no-save > "
            "shard0.json\n"
            "  %s explore --seeds 60 --shard 1/2 --json --no-save > "
            "shard1.json\n"
            "  %s explore-merge shard0.json shard1.json\n",
            prog, prog, prog, prog, prog);
}

/* The whole file, NUL-terminated (free() it), or NULL with errno set. */
static char *slurp(const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return NULL;
    size_t len = 0, max = 64u << 20; /* no shard result is that big */
    char *buf = util_read_all(f, max, &len);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (buf && len > max) {
        free(buf);
        buf = NULL;
        saved = EFBIG;
    }
    errno = saved;
    return buf;
}

enum { O_PARTIAL = 256, O_JSON };

static const struct option merge_opts[] = {
    {"partial", no_argument, 0, O_PARTIAL},
    {"json", no_argument, 0, O_JSON},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

int cli_explore_merge(const char *prog, int argc, char **argv)
{
    bool partial = false, json = false;
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, "explore-merge", argc, argv, "h",
                            merge_opts)) != -1) {
        switch (ch) {
        case O_PARTIAL:
            partial = true;
            break;
        case O_JSON:
            json = true;
            break;
        case 'h':
            usage(stdout, prog);
            return 0;
        default:
            return 2;
        }
    }
    int n_files = argc - optind;
    if (n_files < 1) {
        fprintf(stderr, "%s explore-merge: no FILE given (see '%s "
                        "explore-merge --help')\n",
                prog, prog);
        return 2;
    }
    struct explore_batch total;
    memset(&total, 0, sizeof(total));
    json_t *params0 = NULL;
    char *repro = NULL;
    unsigned char *seen = NULL;
    const char *first_path = NULL;
    int rc = 2;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        char *text = slurp(path);
        if (!text) {
            fprintf(stderr, "%s explore-merge: cannot read %s: %s\n", prog,
                    path, strerror(errno));
            goto out;
        }
        struct explore_batch b;
        json_t *params;
        char *rp, err[256];
        int bad = explore_batch_from_json(text, &b, &params, &rp, err,
                                          sizeof(err));
        free(text);
        if (bad) {
            fprintf(stderr, "%s explore-merge: %s: %s\n", prog, path, err);
            goto out;
        }
        if (!params0) {
            params0 = params;
            first_path = path;
            total.range_start = b.range_start;
            total.range_seeds = b.range_seeds;
            total.shard_count = b.shard_count;
            seen = calloc(b.shard_count, 1);
            if (!seen) {
                fprintf(stderr, "%s explore-merge: out of memory\n", prog);
                free(rp);
                goto out;
            }
        } else {
            const char *key = explore_params_differ(params0, params);
            if (key) {
                char *va = json_dumps(json_object_get(params0, key),
                                      JSON_ENCODE_ANY | JSON_COMPACT);
                char *vb = json_dumps(json_object_get(params, key),
                                      JSON_ENCODE_ANY | JSON_COMPACT);
                fprintf(stderr,
                        "%s explore-merge: %s is not a shard of the same run "
                        "as %s: \"%s\" is %s in %s and %s in %s\n",
                        prog, path, first_path, key, vb ? vb : "absent",
                        path, va ? va : "absent", first_path);
                free(va);
                free(vb);
                json_decref(params);
                free(rp);
                goto out;
            }
            json_decref(params);
            if (b.shard_count != total.shard_count) {
                fprintf(stderr,
                        "%s explore-merge: %s is shard %llu/%llu but %s is "
                        "one of %llu: not the same split\n",
                        prog, path, (unsigned long long)b.shard_index,
                        (unsigned long long)b.shard_count, first_path,
                        (unsigned long long)total.shard_count);
                free(rp);
                goto out;
            }
        }
        if (seen[b.shard_index]) {
            fprintf(stderr, "%s explore-merge: shard %llu/%llu given twice "
                            "(again in %s)\n",
                    prog, (unsigned long long)b.shard_index,
                    (unsigned long long)b.shard_count, path);
            free(rp);
            goto out;
        }
        seen[b.shard_index] = 1;
        if (b.r.interrupted)
            fprintf(stderr, "%s explore-merge: note: %s was interrupted; "
                            "its figures are the seeds that ran\n",
                    prog, path);
        bool lower = b.r.have_first &&
                     (!total.r.have_first ||
                      b.r.first_seed < total.r.first_seed);
        explore_batch_merge(&total, &b);
        if (lower) {
            free(repro);
            repro = rp;
        } else {
            free(rp);
        }
    }
    uint64_t missing = 0;
    for (uint64_t s = 0; s < total.shard_count; s++)
        missing += !seen[s];
    if (missing && !partial) {
        fprintf(stderr, "%s explore-merge: %llu of %llu shards missing "
                        "(the first: %llu/%llu); --partial merges what is "
                        "there\n",
                prog, (unsigned long long)missing,
                (unsigned long long)total.shard_count,
                (unsigned long long)(memchr(seen, 0, total.shard_count)
                                         ? (unsigned char *)memchr(
                                               seen, 0, total.shard_count) -
                                               seen
                                         : 0),
                (unsigned long long)total.shard_count);
        goto out;
    }
    /* the merged result is the whole range: one shard of one */
    total.shard_index = 0;
    total.shard_count = missing ? total.shard_count : 1;
    const struct explore_result *r = &total.r;
    FILE *info = json ? stderr : stdout;
    if (missing)
        fprintf(info, "explore-merge: %llu shard(s) missing: the figures "
                      "are of %llu seeds of %llu\n",
                (unsigned long long)missing, (unsigned long long)r->seeds,
                (unsigned long long)total.range_seeds);
    if (r->liveness_failures)
        fprintf(info, "explore: %llu seed(s) failed the liveness phase\n",
                (unsigned long long)r->liveness_failures);
    if (r->nondeterministic)
        fprintf(info, "explore: %llu seed(s) ran differently the second "
                      "time (--check-determinism)\n",
                (unsigned long long)r->nondeterministic);
    if (r->over_budget)
        fprintf(info, "explore: %llu seed(s) stopped at the event budget "
                      "(--max-events) before their end, neither passed nor "
                      "failed; the first: seed %llu\n",
                (unsigned long long)r->over_budget,
                (unsigned long long)r->first_over_budget);
    if (r->no_leader_at_end)
        fprintf(info, "explore: %llu seed(s) ended without exactly one leader "
                      "after settling\n",
                (unsigned long long)r->no_leader_at_end);
    if (r->have_first) {
        const struct sim_violation *v = &r->first;
        fprintf(stderr,
                "explore: first violation: seed %llu, %s at t=%.6fs, nodes "
                "n%d",
                (unsigned long long)r->first_seed, v->invariant,
                (double)v->t_us / 1e6, v->nodes[0]);
        if (v->nodes[1])
            fprintf(stderr, ",n%d", v->nodes[1]);
        fprintf(stderr, "\n  %s\n", v->detail);
        if (repro)
            fprintf(stderr, "explore: reproduce with: %s\n", repro);
        if (total.first_drew[0])
            fprintf(stderr, "explore: seed %llu drew: %s\n",
                    (unsigned long long)r->first_seed, total.first_drew);
    }
    if (json) {
        char *text = explore_batch_to_json(json_incref(params0), &total, repro);
        if (!text) {
            fprintf(stderr, "%s explore-merge: out of memory\n", prog);
            goto out;
        }
        printf("%s\n", text);
        free(text);
    } else {
        explore_print_summary(stdout, r);
    }
    rc = r->violations || r->over_budget || total.worker_deaths ? 1 : 0;
    if (total.worker_deaths || r->transport_errors || r->setup_failures)
        rc = 2;
out:
    json_decref(params0);
    free(repro);
    free(seen);
    return rc;
}
