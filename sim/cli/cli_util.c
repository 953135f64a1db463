/*
 * cli_util.c — the one way every subcommand reports a bad option.
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sim/util/util.h"

void cli_unknown_option(const char *prog, const char *cmd, const char *arg,
                         const struct option *opts)
{
    const char *name = arg;
    while (*name == '-')
        name++;
    size_t len = strcspn(name, "=");
    const char *best = NULL;
    int best_d = 3;
    for (const struct option *o = opts; o->name; o++) {
        int d = util_edit_distance(name, len, o->name, strlen(o->name));
        if (d < best_d) {
            best_d = d;
            best = o->name;
        }
    }
    fprintf(stderr, "%s %s: unknown option '%s'", prog, cmd, arg);
    if (best)
        fprintf(stderr, "; did you mean '--%s'?", best);
    fprintf(stderr, "\n(see '%s %s --help')\n", prog, cmd);
}

int cli_bad_value(const char *prog, const char *cmd, const char *opt,
                   const char *val, const char *why)
{
    fprintf(stderr, "%s %s: bad value '%s' for --%s: %s\n", prog, cmd, val,
            opt, why);
    return 2;
}
