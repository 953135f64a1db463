/*
 * cli_util.c — what every subcommand shares: the one getopt_long loop
 * (GNU conventions), the one way to report a bad option or value, colour
 * and output buffering, the interrupted exit status.
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/util/util.h"

void cli_getopt_begin(void)
{
    optind = 0; /* 0, not 1: glibc forgets the previous argv's state */
    opterr = 0;
}

static const struct option *by_val(const struct option *opts, int val)
{
    for (const struct option *o = opts; o->name; o++)
        if (o->val == val)
            return o;
    return NULL;
}

/* "--c" in run could be --clock, --color or --checkquorum: glibc refuses
 * an abbreviation that fits several; say which. */
static bool ambiguous(const char *prog, const char *cmd, const char *arg,
                      const struct option *opts)
{
    const char *name = arg + 2;
    size_t len = strcspn(name, "=");
    int n = 0;
    for (const struct option *o = opts; o->name; o++)
        n += len > 0 && !strncmp(o->name, name, len);
    if (n < 2)
        return false;
    fprintf(stderr, "%s %s: option '--%.*s' is ambiguous; it could be", prog,
            cmd, (int)len, name);
    for (const struct option *o = opts; o->name; o++)
        if (!strncmp(o->name, name, len))
            fprintf(stderr, " --%s", o->name);
    fprintf(stderr, "\n(see '%s %s --help')\n", prog, cmd);
    return true;
}

/* No '+' at the front of the short options: glibc permutes, so options
 * and operands mix in any order, as in every GNU tool; `--` ends the
 * options.  The leading ':' separates a missing value from an unknown
 * option. */
int cli_getopt(const char *prog, const char *cmd, int argc, char **argv,
               const char *shortopts, const struct option *opts)
{
    char spec[64];
    snprintf(spec, sizeof(spec), ":%s", shortopts);
    int ch = getopt_long(argc, argv, spec, opts, NULL);
    if (ch != ':' && ch != '?')
        return ch;
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    bool is_long = arg[0] == '-' && arg[1] == '-';
    const struct option *o = optopt ? by_val(opts, optopt) : NULL;
    if (ch == ':') {
        if (is_long && o)
            fprintf(stderr, "%s %s: --%s: missing value", prog, cmd, o->name);
        else
            fprintf(stderr, "%s %s: -%c: missing value", prog, cmd, optopt);
        fprintf(stderr, " (see '%s %s --help')\n", prog, cmd);
    } else if (is_long && o && strchr(arg, '=')) {
        fprintf(stderr, "%s %s: --%s takes no value ('%s')\n(see '%s %s "
                        "--help')\n",
                prog, cmd, o->name, arg, prog, cmd);
    } else if (!is_long && optopt) {
        char shown[3] = {'-', (char)optopt, 0};
        cli_unknown_option(prog, cmd, shown, opts);
    } else if (is_long && ambiguous(prog, cmd, arg, opts)) {
        /* said which options it could be */
    } else {
        cli_unknown_option(prog, cmd, arg, opts);
    }
    return CLI_OPT_BAD;
}

int cli_unexpected(const char *prog, const char *cmd, const char *arg)
{
    fprintf(stderr, "%s %s: unexpected argument '%s' (see '%s %s --help')\n",
            prog, cmd, arg, prog, cmd);
    return 2;
}

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

/* no-color.org: NO_COLOR counts only when it is set and not empty; a
 * terminal that says it is dumb gets no escape codes either. */
bool cli_color_auto(int fd)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    if (nc && *nc)
        return false;
    if (term && !strcmp(term, "dumb"))
        return false;
    return isatty(fd);
}

/* A pipe (`make demo | tee`) would otherwise get the whole narration at
 * the end of the run: stdio buffers 4 KiB when stdout is not a terminal. */
void cli_line_buffered_stdout(void)
{
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, NULL, _IOLBF, 0);
}

int cli_interrupted_status(void)
{
    return util_stop_signal ? 128 + util_stop_signal : 0;
}
