/*
 * test_scenario_words.c — the words of issue 14: the parser's messages
 * for msg="hello world", `start n1, n2`, `read … expect old` and a `let`
 * with too few nodes; and, parsed and run, `expect leader is not X`,
 * outcome sets (`acked|unknown`, `not lost`), `mark` with `expect
 * elections … since` and `expect NODE never ROLE`, `let T = term of L`,
 * `await leader` after a heal, a refused write retried until `within`,
 * `await write of`, `expect log of X has KEY=VALUE`, `show status
 * --wal`, `partition ring` and `partition bridge NODE`.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"

static char *parse_err(const char *text)
{
    struct scn_program *p = NULL;
    char *err = NULL;
    size_t len = 0;
    FILE *ef = open_memstream(&err, &len);
    int rc = scn_parse("t.scn", text, strlen(text), &p, ef);
    fclose(ef);
    cr_assert_eq(rc, -1, "accepted:\n%s", text);
    return err;
}

static struct scn_program *parse_ok(const char *text)
{
    struct scn_program *p = NULL;
    char *err = NULL;
    size_t len = 0;
    FILE *ef = open_memstream(&err, &len);
    int rc = scn_parse("t.scn", text, strlen(text), &p, ef);
    fclose(ef);
    cr_assert_eq(rc, 0, "refused:\n%s", err);
    cr_assert_eq(len, 0, "messages on success:\n%s", err);
    free(err);
    return p;
}

static int run(const char *text, bool verbose, struct scn_run_result *res,
               char **out)
{
    struct scn_program *p = parse_ok(text);
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.out = f;
    o.verbose = verbose;
    int rc = scn_run(p, &o, res);
    fclose(f);
    scn_free(p);
    return rc;
}

#define ERR_HAS(text, msg)                                                    \
    do {                                                                      \
        char *e_ = parse_err(text);                                           \
        cr_assert(strstr(e_, msg), "want '%s' in:\n%s", msg, e_);             \
        free(e_);                                                             \
    } while (0)

/* ------------------------------------------------------------------ */
/* Parser messages                                                     */

Test(words, a_quoted_value_with_spaces_is_not_called_empty)
{
    char *e = parse_err("nodes 3\nwrite alice msg=\"hello world\"\n");
    cr_assert_null(strstr(e, "empty value"), "%s", e);
    cr_assert(strstr(e, "t.scn:2:17: error: a value is one word without "
                        "quotes or spaces"),
              "%s", e);
    cr_assert(strstr(e, "msg=hello-world"), "%s", e);
    free(e);
}

Test(words, a_comma_list_of_nodes_hints_at_braces)
{
    ERR_HAS("nodes 3\nstart n1, n2\n",
            "t.scn:2:9: error: several nodes go in braces: write {n1, ...}");
    ERR_HAS("nodes 3\ncrash n1, n2\n", "several nodes go in braces");
}

Test(words, a_read_value_that_reads_like_an_outcome_needs_quotes)
{
    ERR_HAS("nodes 3\nread alice x expect old\n",
            "'old' would be read as the value \"old\"; did you mean 'stale'?");
    ERR_HAS("nodes 3\nread alice x expect frsh\n", "did you mean 'fresh'?");
    ERR_HAS("nodes 3\nread alice x expect none\n", "did you mean 'missing'?");
    struct scn_program *p = parse_ok("nodes 3\nread alice x expect \"old\"\n"
                                     "read alice x expect 42\n");
    cr_assert_eq(p->cmds[0].read_expect, SCN_READ_VALUE);
    cr_assert_str_eq(p->cmds[0].value, "old");
    cr_assert_str_eq(p->cmds[1].value, "42");
    scn_free(p);
}

Test(words, let_with_more_names_than_nodes_is_a_parse_error)
{
    ERR_HAS("nodes 3\nlet A B C D = all\n",
            "t.scn:2:5: error: 4 variables but the set has at most 3 members");
    ERR_HAS("nodes 3\nawait leader as L\nlet A B C = all except L\n",
            "3 variables but the set has at most 2 members");
    ERR_HAS("nodes 5\nlet A B C = {n1, n2}\n", "at most 2 members");
    ERR_HAS("nodes 5\nlet A B C D E = all except n1\n", "at most 4 members");
    scn_free(parse_ok("nodes 3\nawait leader as L\nlet A B = all except L\n"));
}

Test(words, new_words_parse_into_their_fields)
{
    struct scn_program *p = parse_ok(
        "nodes 5\n"
        "await leader as L\n"
        "expect leader is not n2\n"
        "write alice x=1 expect acked|unknown\n"
        "write alice y=1 expect not lost\n"
        "mark healed\n"
        "expect elections <= 1 since healed\n"
        "expect n3 never candidate since healed\n"
        "expect L never pre-candidate\n"
        "let T = term of L\n"
        "expect term of n2 = T\n"
        "await write of alice x within 2s\n"
        "expect log of L has x=1\n"
        "show status --wal\n"
        "partition ring\n"
        "partition bridge n3\n"
        "expect write of alice y not refused|timeout\n");
    const struct scn_cmd *c = p->cmds;
    cr_assert(c[1].ex.negate);
    cr_assert_eq(c[2].outcomes,
                 SCN_OUT_BIT(SCN_OUT_ACKED) | SCN_OUT_BIT(SCN_OUT_TIMEOUT));
    cr_assert_not(c[2].outcome_not);
    cr_assert_eq(c[3].outcomes, SCN_OUT_BIT(SCN_OUT_LOST));
    cr_assert(c[3].outcome_not);
    cr_assert_eq(c[4].kind, SCN_MARK);
    cr_assert_eq(c[5].ex.kind, SCN_EX_ELECTIONS);
    cr_assert_eq(c[5].ex.mark, 1);
    cr_assert_eq(c[6].ex.kind, SCN_EX_NEVER);
    cr_assert_eq(c[6].ex.role, RAFT_CANDIDATE);
    cr_assert_eq(c[7].ex.role, RAFT_PRECANDIDATE);
    cr_assert_eq(c[7].ex.mark, 0);
    cr_assert_eq(c[8].let_q, SCN_Q_TERM);
    cr_assert_gt(c[9].ex.value.numvar, 0);
    cr_assert_eq(c[10].await, SCN_AW_WRITE);
    cr_assert_str_eq(c[11].ex.kv_value, "1");
    cr_assert(c[12].wal);
    cr_assert_eq(c[13].shape, SCN_SHAPE_RING);
    cr_assert_eq(c[14].shape, SCN_SHAPE_BRIDGE);
    cr_assert_eq(c[14].node.id, 3);
    cr_assert(c[15].ex.negate);
    scn_free(p);
}

Test(words, bad_uses_of_the_new_words_are_refused_clearly)
{
    ERR_HAS("nodes 3\nexpect elections < 2 since later\n",
            "no mark so far: set one first with `mark NAME`");
    ERR_HAS("nodes 3\nmark a\nexpect elections < 2 since b\n",
            "expected a mark set earlier");
    ERR_HAS("nodes 3\nlet T = term of n1\ncrash T\n", "T is a number");
    ERR_HAS("nodes 3\nawait leader as L\nexpect term of n1 = L\n",
            "L names a node, not a number");
    ERR_HAS("nodes 3\nlet A B = term of n1\n", "a number binds one variable");
    ERR_HAS("nodes 3\nwrite alice x=1 expect acked|lots\n",
            "got 'lots'; did you mean 'lost'?");
    ERR_HAS("nodes 3\npartition ring\n", "a ring needs at least 4 nodes");
    ERR_HAS("nodes 3\nawait write of bob x\n", "no client named 'bob'");
    ERR_HAS("nodes 3\nawait lsn 0 on n1\n", "LSNs start at 1");
    ERR_HAS("nodes 3\nawait lsn 3 n1\n", "expected 'on'");
}

/* ------------------------------------------------------------------ */
/* Runs                                                                */

Test(words, leader_is_not_and_outcome_sets_hold_and_fail)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\nack async\n"
                 "await leader as L within 2s\n"
                 "let A B = all except L\n"
                 "expect leader is not A\n"
                 "write alice x=1 expect acked|unknown\n"
                 "write alice y=1 expect not lost\n"
                 "expect write of alice x not refused|timeout\n"
                 "wait 500ms\n",
                 false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(r.expectations, 4, "%s", out);
    free(out);
    rc = run("nodes 3\nawait leader as L within 2s\nexpect leader is not L\n",
             false, &r, &out);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "expectation failed: expect leader is not L"), "%s",
              out);
    free(out);
}

Test(words, elections_since_a_mark_and_never_candidate)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\n"
                 "await leader as L within 2s\n"
                 "let A B = all except L\n"
                 "mark calm\n"
                 "wait 2s\n"
                 "expect elections = 0 since calm\n"
                 "expect elections = 1\n"
                 "expect A never candidate since calm\n"
                 "crash L\n"
                 "await leader as M within 3s\n"
                 "expect elections = 1 since calm\n"
                 "expect elections >= 2\n",
                 false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(r.expectations, 5, "%s", out);
    free(out);
    rc = run("nodes 3\nmark start\nawait leader as L within 2s\n"
             "expect L never candidate since start\n",
             false, &r, &out);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "became candidate 1 time since mark start"), "%s",
              out);
    free(out);
}

Test(words, let_binds_a_number_read_at_that_line)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\n"
                 "await leader as L within 2s\n"
                 "let T = term of L\n"
                 "let A B = all except L\n"
                 "wait 300ms\n"
                 "expect term of A = T\n"
                 "crash L\n"
                 "await leader as M within 3s\n"
                 "expect term of M > T\n",
                 false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "T = 1"), "%s", out);
    free(out);
}

/* Without CheckQuorum an isolated leader keeps leading in its old term;
 * right after the heal it is still a leader, but the majority follows the
 * new one: `await leader` must not name the stale one. */
Test(words, await_leader_after_a_heal_is_not_the_stale_leader)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 5\ncheckquorum off\n"
                 "await leader as L within 2s\n"
                 "let T = term of L\n"
                 "isolate L\n"
                 "await leader in all except L as M within 3s\n"
                 "crash M\n"
                 "heal\n"
                 "await leader as N within 5s\n"
                 "expect leader is N\n"
                 "expect term of N > T\n",
                 false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
}

Test(words, a_refused_write_is_retried_until_within)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\n"
                 "write alice x=1 expect committed within 5s\n"
                 "expect committed x\n",
                 true, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "refused, retry 2 in 100ms"), "%s", out);
    free(out);
}

Test(words, await_write_of_waits_for_that_write)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 3\n"
                 "await leader as L within 2s\n"
                 "write alice x=1\n"
                 "await write of alice x within 2s\n"
                 "expect write of alice x committed\n"
                 "expect log of L has x=1\n"
                 "expect log of L lacks x=2\n"
                 "let A B = all except L\n"
                 "await lsn 2 on A within 1s\n"
                 "expect applied of A >= 2\n"
                 "show status --wal\n",
                 false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "WAL: lsn:term entry"), "%s", out);
    cr_assert(strstr(out, " 1:1* no-op 2:1* x=1"), "%s", out);
    free(out);
    rc = run("nodes 3\nawait leader as L within 2s\n"
             "write alice x=1 expect committed\n"
             "expect log of L has x=2\n",
             false, &r, &out);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "never =2 (newest: 1)"), "%s", out);
    free(out);
}

Test(words, partition_ring_and_bridge_cut_the_right_links)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run("nodes 5\n"
                 "partition ring\n"
                 "wait 3s\n"
                 "expect leaders <= 1\n"
                 "heal\n"
                 "partition bridge n3\n"
                 "wait 3s\n"
                 "expect no violations\n",
                 false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "partition ring: each node hears only its two "
                          "neighbours"),
              "%s", out);
    cr_assert(strstr(out, "partition bridge n3: {n1,n2} and {n4,n5} cannot "
                          "reach each other; n3 sees both"),
              "%s", out);
    free(out);
}
