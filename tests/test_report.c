/*
 * test_report.c — the trace → page writer (sim/report/report.h): which lines it
 * accepts, what it says about the ones it refuses, and that the page it
 * writes carries the whole trace, safely, inside one self-contained file.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"
#include "sim/report/report.h"
#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"

/* Write the page for `trace`; returns report_write's code, page in *page. */
static int page_for(const char *trace, char **page, struct report_summary *s,
                    char *err, size_t err_len)
{
    FILE *in = fmemopen((void *)trace, strlen(trace), "r");
    size_t len = 0;
    FILE *out = open_memstream(page, &len);
    int rc = report_write(in, "t.jsonl", out, s, err, err_len);
    fclose(out);
    fclose(in);
    return rc;
}

static bool ok_line(const char *l)
{
    uint64_t t;
    int node;
    char kind[16], err[128];
    return report_check_line(l, strlen(l), &t, &node, kind, sizeof(kind), err,
                             sizeof(err)) == 0;
}

Test(report, accepts_every_kind_of_line_the_simulator_writes)
{
    cr_assert(ok_line("{\"t_us\":0,\"node\":\"cluster\",\"kind\":\"heal\"}"));
    cr_assert(ok_line("{\"t_us\":1,\"node\":\"n1\",\"kind\":\"partition\","
                      "\"groups\":[[\"n1\",\"n2\"],[\"n3\"]]}"));
    cr_assert(ok_line("{\"t_us\":2,\"node\":\"n1\",\"kind\":\"link\",\"drop\":0.1,"
                      "\"dup\":1e-3,\"cut\":false}"));
    cr_assert(ok_line("{\"t_us\":3,\"node\":\"n2\",\"kind\":\"say\",\"text\":"
                      "\"a \\\"quote\\\" \\u00e9\"}"));
    cr_assert(ok_line("{\"t_us\":4,\"node\":\"n2\",\"kind\":\"send\",\"to\":\"n1\","
                      "\"type\":\"append\",\"term\":1,\"id\":7,\"prev_lsn\":0,"
                      "\"entries\":1,\"commit_lsn\":0}"));
}

Test(report, refuses_lines_that_break_the_trace_contract)
{
    cr_assert_not(ok_line("[1,2]"));
    cr_assert_not(ok_line("{\"node\":\"n1\",\"t_us\":0,\"kind\":\"x\"}"),
                  "t_us must come first");
    cr_assert_not(ok_line("{\"t_us\":-1,\"node\":\"n1\",\"kind\":\"x\"}"));
    cr_assert_not(ok_line("{\"t_us\":0,\"node\":1,\"kind\":\"x\"}"));
    cr_assert_not(ok_line("{\"t_us\":0,\"node\":\"n1\",\"kind\":\"\"}"));
    cr_assert_not(ok_line("{\"t_us\":0,\"node\":\"n1\",\"kind\":\"x\",\"a\":}"));
    cr_assert_not(ok_line("{\"t_us\":0,\"node\":\"n1\",\"kind\":\"x\"} junk"));
    cr_assert_not(ok_line("{\"t_us\":0,\"node\":\"n1\",\"kind\":\"x\",\"s\":\"\\q\"}"));
    cr_assert_not(ok_line("{\"t_us\":0,\"node\":\"n1\",\"kind\":\"x\",\"a\":[[[[[[[[[["
                          "[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]}"),
                  "nesting is bounded");
}

Test(report, a_bad_line_is_named_by_file_and_line_number)
{
    char *page = NULL, err[512];
    struct report_summary s;
    int rc = page_for("{\"t_us\":0,\"node\":\"n1\",\"kind\":\"role\"}\n\n"
                      "{\"t_us\":1,\"node\":\"n1\"\n",
                      &page, &s, err, sizeof(err));
    cr_assert_eq(rc, RAFT_EINVAL);
    cr_assert(strstr(err, "t.jsonl:3: "), "%s", err);
    cr_assert(strstr(err, "kind"), "says which field: %s", err);
    free(page);
}

Test(report, an_empty_trace_is_an_error_not_a_blank_page)
{
    char *page = NULL, err[512];
    struct report_summary s;
    cr_assert_eq(page_for("\n  \n", &page, &s, err, sizeof(err)), RAFT_EINVAL);
    cr_assert(strstr(err, "no trace lines"), "%s", err);
    free(page);
}

Test(report, the_page_embeds_the_trace_as_one_array_and_no_string_can_close_the_script)
{
    char *page = NULL, err[512];
    struct report_summary s;
    int rc = page_for(
        "{\"t_us\":0,\"node\":\"cluster\",\"kind\":\"run\",\"nodes\":3}\n"
        "{\"t_us\":5,\"node\":\"cluster\",\"kind\":\"say\",\"text\":\"</script><b>\"}\n"
        "{\"t_us\":9,\"node\":\"n3\",\"kind\":\"send\",\"to\":\"n1\"}\n"
        "{\"t_us\":7,\"node\":\"n1\",\"kind\":\"x\",\"truncated\":true,\"a\":\"cut sh"
        ",\"truncated\":true}\n",
        &page, &s, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(s.lines, 3);
    cr_assert_eq(s.skipped, 1, "the writer's truncated line is left out");
    cr_assert_eq(s.runs, 1);
    cr_assert_eq(s.messages, 1);
    cr_assert_eq(s.nodes, 3);
    cr_assert_eq(s.end_us, 9);
    cr_assert(strstr(page, "[{\"t_us\":0,\"node\":\"cluster\",\"kind\":\"run\","
                           "\"nodes\":3},{\"t_us\":5"), "compact array");
    cr_assert(strstr(page, "\\u003c/script>\\u003cb>"));
    cr_assert_null(strstr(page, "</script><b>"));
    cr_assert_null(strstr(page, "@@TRACE@@"));
    cr_assert(strstr(page, "<title>t.jsonl — raftsim report</title>"));
    free(page);
}

Test(report, the_page_never_fetches_anything)
{
    const char *tpl = report_page_template();
    cr_assert(strstr(tpl, "Content-Security-Policy\" content=\"default-src 'none'"));
    cr_assert_null(strstr(tpl, "src=\"http"));
    cr_assert_null(strstr(tpl, "href=\"http"));
    cr_assert_null(strstr(tpl, "fetch("));
    cr_assert_null(strstr(tpl, "XMLHttpRequest"));
}

Test(report, a_scenario_trace_with_message_events_makes_a_page, .timeout = 30)
{
    const char *text = "nodes 3\nseed 2\nawait leader as L within 2s\n"
                       "write a x=1 expect committed\nsay \"cut {L}\"\n"
                       "isolate L\nwait 400ms\nheal\nwait 200ms\n";
    struct scn_program *p = NULL;
    cr_assert_eq(scn_parse("t.scn", text, strlen(text), &p, stderr), 0);
    char *tbuf = NULL;
    size_t tlen = 0;
    FILE *tf = open_memstream(&tbuf, &tlen);
    char *obuf = NULL;
    size_t olen = 0;
    FILE *of = open_memstream(&obuf, &olen);
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.out = of;
    o.trace = tf;
    struct scn_run_result r;
    cr_assert_eq(scn_run(p, &o, &r), 0);
    fclose(of);
    fclose(tf);
    scn_free(p);
    cr_assert(strstr(tbuf, "\"kind\":\"send\""));
    cr_assert(strstr(tbuf, "\"kind\":\"recv\""));
    cr_assert(strstr(tbuf, "\"kind\":\"drop\""));
    cr_assert(strstr(tbuf, "\"reason\":\"partition\""), "isolate drops");
    cr_assert(strstr(tbuf, "\"kind\":\"say\",\"line\":5,\"text\":\"cut n"));
    char *page = NULL, err[512];
    struct report_summary s;
    cr_assert_eq(page_for(tbuf, &page, &s, err, sizeof(err)), 0, "%s", err);
    cr_assert_gt(s.messages, 20);
    cr_assert_eq(s.nodes, 3);
    free(page);
    free(tbuf);
    free(obuf);
}
