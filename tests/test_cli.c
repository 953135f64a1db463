/*
 * test_cli.c — the command line's conventions without a shell: options
 * anywhere (permutation), `--`, missing values, the run's set-up
 * overrides and their marks in the header, empty files, and a stop
 * signal in the middle of a virtual-time run (the summary of what ran,
 * no further commands).  tests/cli.sh drives the same through the binary,
 * with real signals.
 */
#define _GNU_SOURCE /* fopencookie */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"
#include "sim/util/util.h"

static const char *quick = "nodes 3\nseed 1\nawait leader as L within 2s\n"
                           "expect leaders = 1\n";

static char scratch[] = "/tmp/raftsim-test-cli-XXXXXX";

static void remove_scratch(void)
{
    static const char *files[] = {"quick.scn", "--odd.scn", "empty.scn",
                                  "q.html", "q.html.tmp"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        unlink(files[i]);
    if (chdir("/") == 0)
        rmdir(scratch);
}

/* A scratch directory with quick.scn and --odd.scn; the test runs in it
 * (each Criterion test is its own process) and removes it at exit. */
static void in_scratch(void)
{
    cr_assert_not_null(mkdtemp(scratch));
    cr_assert_eq(chdir(scratch), 0);
    atexit(remove_scratch);
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(i ? "--odd.scn" : "quick.scn", "w");
        cr_assert_not_null(f);
        fputs(quick, f);
        fclose(f);
    }
    cr_assert_not_null(freopen("/dev/null", "w", stdout));
    cr_assert_not_null(freopen("/dev/null", "w", stderr));
}

static int run_argv(int argc, char **argv)
{
    return cli_run("raftsim", argc, argv);
}

Test(cli, options_may_follow_the_files)
{
    in_scratch();
    char *argv[] = {"run", "quick.scn", "--quiet", "--seed=7", NULL};
    cr_assert_eq(run_argv(4, argv), 0);
}

Test(cli, report_after_the_file_writes_the_page)
{
    in_scratch();
    char *argv[] = {"run", "quick.scn", "--report", "q.html", "--quiet", NULL};
    cr_assert_eq(run_argv(5, argv), 0);
    cr_assert_eq(access("q.html", F_OK), 0, "no page written");
}

Test(cli, double_dash_ends_the_options)
{
    in_scratch();
    char *argv[] = {"run", "--quiet", "--", "--odd.scn", NULL};
    cr_assert_eq(run_argv(4, argv), 0, "--odd.scn was not run as a file");
    char *unknown[] = {"run", "--quiet", "--odd.scn", NULL};
    cr_assert_eq(run_argv(3, unknown), 2, "without --, it is an option");
}

Test(cli, a_missing_value_is_a_usage_error)
{
    in_scratch();
    char *argv[] = {"run", "quick.scn", "--seed", NULL};
    cr_assert_eq(run_argv(3, argv), 2);
}

Test(cli, help_exits_zero_everywhere)
{
    in_scratch();
    char *run[] = {"run", "-h", NULL};
    cr_assert_eq(run_argv(2, run), 0);
    char *bench[] = {"bench", "sim", "--help", NULL};
    cr_assert_eq(cli_bench("raftsim", 3, bench), 0);
    char *pg[] = {"pg", "health", "-h", NULL};
    cr_assert_eq(cli_pg("raftsim", 3, pg), 0);
    char *rep[] = {"report", "--help", NULL};
    cr_assert_eq(cli_report("raftsim", 2, rep), 0);
    char *ex[] = {"explore", "-h", NULL};
    cr_assert_eq(cli_explore("raftsim", 2, ex), 0);
}

Test(cli, an_empty_file_is_refused)
{
    in_scratch();
    FILE *f = fopen("empty.scn", "w");
    fputs("# nothing yet\nnodes 3\n", f);
    fclose(f);
    char *argv[] = {"run", "empty.scn", NULL};
    cr_assert_eq(run_argv(2, argv), 2);
}

Test(cli, overrides_must_keep_the_heartbeat_below_the_election_timeout)
{
    in_scratch();
    char *argv[] = {"run", "--election-timeout", "40ms-80ms", "quick.scn",
                    NULL};
    cr_assert_eq(run_argv(4, argv), 2, "heartbeat 50ms >= election 40ms");
    char *ok[] = {"run", "--quiet", "--election-timeout", "40ms-80ms",
                  "--heartbeat=10ms", "quick.scn", NULL};
    cr_assert_eq(run_argv(6, ok), 0);
}

/* ---- the runner side: header marks and the stop signal ---------------- */

static int run_text(const char *text, struct scn_run_opts *o, char **out,
                    struct scn_run_result *res)
{
    struct scn_program *p = NULL;
    cr_assert_eq(scn_parse("t.scn", text, strlen(text), &p, stderr), 0);
    if (o->overridden & SCN_OV_ACK)
        p->ack = RAFT_ACK_SYNC;
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    o->out = f;
    int rc = scn_run(p, o, res);
    fclose(f);
    scn_free(p);
    return rc;
}

Test(cli, the_header_marks_what_the_command_line_gave)
{
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.overridden = SCN_OV_ACK;
    char *out = NULL;
    struct scn_run_result r;
    cr_assert_eq(run_text(quick, &o, &out, &r), 0, "%s", out);
    cr_assert(strstr(out, "ack sync (--ack), policy highest-lsn, prevote on,"),
              "%s", out);
    free(out);
}

/* A `step` whose Enter never comes: the read is interrupted by SIGINT, as
 * a Ctrl-C at the prompt of `make demo` does. */
static ssize_t sigint_read(void *c, char *buf, size_t n)
{
    (void)c, (void)buf, (void)n;
    util_stop_signal = SIGINT;
    return -1;
}

Test(cli, a_stop_signal_ends_the_run_with_the_summary_of_what_ran)
{
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.step = true;
    cookie_io_functions_t io = {.read = sigint_read};
    o.step_in = fopencookie(NULL, "r", io);
    char *out = NULL;
    struct scn_run_result r;
    run_text("nodes 3\nseed 1\nawait leader as L within 2s\nstep\n"
             "wait 5s\nexpect leaders = 2\n",
             &o, &out, &r);
    fclose(o.step_in);
    cr_assert(r.interrupted, "%s", out);
    cr_assert_lt(r.end_us, 1000000, "the wait after the step ran:\n%s", out);
    cr_assert_eq(r.failed, 0, "the expectation after it ran:\n%s", out);
    cr_assert(strstr(out, "t.scn: interrupted at t=0."), "%s", out);
    cr_assert(strstr(out, "(virtual)\n"), "%s", out);
    cr_assert(strstr(out, "t.scn: interrupted — 0/0 expectations held"), "%s",
              out);
    free(out);
}
