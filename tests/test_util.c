/*
 * test_util.c — (pg_control) the command runner and template filling used by the
 * PostgreSQL mirror and bench pg-failover.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/util/util.h"
#include "sim/pg/pg_control.h"

Test(util, templates_fill_action_and_server)
{
    char out[128];
    pgc_fill_template("tools/pg-pair {action} {server}", "rejoin", "a", out,
                       sizeof(out));
    cr_assert_str_eq(out, "tools/pg-pair rejoin a");
    pgc_fill_template("docker compose {action} pg-{server} --x '{server}'",
                       "start", "b", out, sizeof(out));
    cr_assert_str_eq(out, "docker compose start pg-b --x 'b'");
    char tiny[8];
    pgc_fill_template("{action}{action}", "crash", "a", tiny, sizeof(tiny));
    cr_assert_eq(strlen(tiny), 7, "cut to fit: '%s'", tiny);
}

Test(util, commands_report_exit_status_and_output, .timeout = 30)
{
    char path[] = "/tmp/raftsim-util-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    double ms;
    cr_assert_eq(pgc_run_bounded("echo \"it's quoted\"; exit 0", 10, path, &ms),
                 0);
    cr_assert_eq(pgc_run_bounded("echo oops >&2; exit 3", 10, path, &ms), 3);
    FILE *f = fopen(path, "r");
    char buf[128] = "";
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    cr_assert_str_eq(buf, "it's quoted\noops\n");
    unlink(path);
}

Test(util, a_command_that_hangs_is_killed_at_its_timeout, .timeout = 30)
{
    double ms;
    cr_assert_eq(pgc_run_bounded("sleep 20", 0.3, NULL, &ms), 124);
    cr_assert_lt(ms, 10000, "killed long before the sleep ends (%.0f ms)", ms);
    /* its children too: the whole process group goes */
    cr_assert_eq(pgc_run_bounded("sleep 20 & wait", 0.3, NULL, &ms), 124);
}

Test(util, control_characters_are_escaped_for_the_terminal)
{
    char out[64];
    cr_assert_str_eq(util_escape_ctrl("a\033[2Jb\tc\x7f", out, sizeof(out)),
                     "a\\x1b[2Jb\tc\\x7f");
    /* UTF-8 C1 controls (CSI as U+009B) too; other UTF-8 is kept */
    cr_assert_str_eq(util_escape_ctrl("\xc2\x9b" "31m \xc3\xa9", out,
                                      sizeof(out)),
                     "\\x9b31m \xc3\xa9");
    cr_assert_str_eq(util_escape_ctrl("\r\n\a", out, sizeof(out)),
                     "\\x0d\\x0a\\x07");
    /* cut short, never in the middle of an escape, always terminated */
    char small[10];
    util_escape_ctrl("\033\033\033\033\033", small, sizeof(small));
    cr_assert_str_eq(small, "\\x1b...");
}
