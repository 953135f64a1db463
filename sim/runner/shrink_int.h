/*
 * shrink_int.h — what shrink.c and shrink_steps.c share: the shrinker's
 * state and the test a step keeps a change by.
 */
#ifndef RAFTSIM_SIM_SHRINK_INT_H
#define RAFTSIM_SIM_SHRINK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/runner/shrink.h"

struct shrinker {
    const char *name;
    const struct scn_shrink_opts *o;
    struct scn_shrink_result *res;
    char **setup; /* set-up lines but `nodes` */
    int n_setup;
    bool setup_keep[64]; /* false: left to its default */
    char **cmd;   /* command lines */
    int n_cmd;
    bool *keep;
    int nodes;
    const char *want; /* res->failure */
    const char *lead; /* the comment lines before the first line */
    size_t lead_len;
    double t0;
    FILE *null;
};

bool shrink__word_is(const char *line, const char *w);
/* The command of a line, past `at T `. */
const char *shrink__command_of(const char *line);
/* `expect violation …`, `expect [no] progress …`: the line stays. */
bool shrink__defines_failure(const char *line);
/* A line for a cluster of n nodes (malloc'd), NULL: the line goes. */
char *shrink__for_nodes(const char *line, int n);
/* false (and res->budget_hit) when the runs or the time are used up. */
bool shrink__budget_left(struct shrinker *S);
/* Does the file of these kept lines at this node count fail as wanted? */
bool shrink__still_fails(struct shrinker *S, const bool *keep, int nodes);

void shrink__fewer_setup(struct shrinker *S);
void shrink__ddmin(struct shrinker *S);
bool shrink__pairs(struct shrinker *S);
void shrink__fewer_nodes(struct shrinker *S);
bool shrink__heal_earlier(struct shrinker *S);
bool shrink__random_cuts(struct shrinker *S, int tries);
bool shrink__simpler_lines(struct shrinker *S);
bool shrink__later_deadline(struct shrinker *S, uint64_t by);
void shrink__pass(struct shrinker *S);

#endif
