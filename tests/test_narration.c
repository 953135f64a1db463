/*
 * test_narration.c — what the runner tells a class must be true (issue
 * 14): the restart line matches the kept commit point, the summary counts
 * every discard by reason and keeps acknowledged writes still pending
 * apart from lost ones, a follower's no-op reads as one, a failed
 * election round is explained in the default output, and a client's
 * redirect shows under --verbose.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/runner/runner.h"
#include "sim/scenario/scenario.h"

static int run_text(const char *text, bool verbose, struct scn_run_result *res,
                    char **out)
{
    struct scn_program *p = NULL;
    char *err = NULL;
    size_t err_len = 0, len = 0;
    FILE *ef = open_memstream(&err, &err_len);
    int rc = scn_parse("test.scn", text, strlen(text), &p, ef);
    fclose(ef);
    cr_assert_eq(rc, 0, "parse failed:\n%s", err);
    free(err);
    FILE *f = open_memstream(out, &len);
    struct scn_run_opts o;
    scn_run_opts_default(&o);
    o.out = f;
    o.verbose = verbose;
    rc = scn_run(p, &o, res);
    fclose(f);
    scn_free(p);
    return rc;
}

Test(narration, restart_says_the_commit_point_is_kept)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\n"
                      "await leader as L within 2s\n"
                      "let A B = all except L\n"
                      "write alice x=1 expect committed\n"
                      "wait 200ms\n"
                      "crash A\n"
                      "restart A\n"
                      "expect commit of A >= 2\n",
                      false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "forgotten"), "%s", out);
    cr_assert(strstr(out, "commit LSN 2 kept"), "%s", out);
    free(out);
}

Test(narration, summary_counts_crash_losses_among_discards)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\n"
                      "disk 50ms\n"
                      "await leader as L within 2s\n"
                      "wait 200ms\n"
                      "write alice x=1\n"
                      "wait 10ms\n"
                      "crash L lose-unflushed\n"
                      "expect no violations\n",
                      false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "lost in the crash"), "narrated:\n%s", out);
    cr_assert_geq(r.discarded_crash, 1, "%s", out);
    cr_assert_geq(r.discarded, r.discarded_crash);
    cr_assert_null(strstr(out, "0 entries discarded"), "%s", out);
    cr_assert(strstr(out, "discarded (lost in a crash)"), "%s", out);
    free(out);
}

Test(narration, an_acked_write_still_pending_at_the_end_is_not_lost)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\nack async\n"
                      "await leader as L within 2s\n"
                      "write alice x=1 expect acked\n",
                      false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(r.acked, 1, "%s", out);
    cr_assert_eq(r.acked_lost, 0, "%s", out);
    cr_assert_eq(r.acked_pending, 1, "%s", out);
    cr_assert(strstr(out, "0 of 1 acknowledged writes lost · 1 pending at "
                          "the end of the run"),
              "%s", out);
    free(out);
}

Test(narration, a_followers_noop_is_named)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\n"
                      "await leader as L within 2s\n"
                      "wait 100ms\n",
                      true, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "): ="), "%s", out);
    cr_assert(strstr(out, "appends lsn 1: the no-op of term 1"), "%s", out);
    free(out);
}

Test(narration, a_prevote_round_nobody_answers_is_explained)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\n"
                      "start n1\n"
                      "wait 1s\n"
                      "expect no leader\n",
                      false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "pre-vote for term 1 failed: n2, n3 did not answer"),
              "%s", out);
    free(out);
}

/* n4 and n5 are outside the configuration: n1 does not ask them. */
Test(narration, a_failed_round_lists_only_the_voters_it_asked)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 5\n"
                      "members {n1,n2,n3}\n"
                      "start n1\n"
                      "wait 1s\n"
                      "expect no leader\n",
                      false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "pre-vote for term 1 failed: n2, n3 did not answer\n"),
              "%s", out);
    cr_assert_null(strstr(out, "n4"), "%s", out);
    free(out);
}

Test(narration, a_prevote_refused_for_a_live_leader_is_explained)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\n"
                      "await leader as L within 2s\n"
                      "let A B = all except L\n"
                      "cut L -> A\n"
                      "wait 1s\n"
                      "expect leader is L\n",
                      false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "still hear"), "%s", out);
    cr_assert(strstr(out, "pre-vote for term 2 failed: "), "%s", out);
    free(out);
}

Test(narration, a_redirected_write_is_narrated_under_verbose)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\n"
                      "await leader as L within 2s\n"
                      "wait 200ms\n"
                      "let A B = all except L\n"
                      "write alice x=1 via A expect committed\n",
                      true, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "is not the leader: redirected to n"), "%s", out);
    free(out);
    /* not in the default output */
    rc = run_text("nodes 3\n"
                  "await leader as L within 2s\n"
                  "wait 200ms\n"
                  "let A B = all except L\n"
                  "write alice x=1 via A expect committed\n",
                  false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_null(strstr(out, "redirected"), "%s", out);
    free(out);
}

/* ack async: the write is acknowledged before it commits; a ryw read
 * right after it finds no follower with the token and falls back to the
 * leader, which serves only committed data too, and says so. */
Test(narration, a_ryw_read_right_after_an_async_ack_says_why_it_misses)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\nack async\n"
                      "await leader as L within 2s\n"
                      "wait 100ms\n"
                      "write alice x=1 expect acked\n"
                      "read alice x from ryw\n",
                      false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "the leader serves only committed data too: under "
                          "async acks the acknowledged write is not visible "
                          "until it commits"),
              "%s", out);
    free(out);
}

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *s = strstr(hay, needle); s; s = strstr(s + 1, needle))
        n++;
    return n;
}

/* B stops hearing the leader, defers once to A (whose log is ahead), then
 * keeps timing out: only the first of those rounds is the deferral
 * expiring; the later ones are plain election timeouts. */
Test(narration, defer_expired_is_narrated_once_per_deferral)
{
    struct scn_run_result r;
    char *out = NULL;
    int rc = run_text("nodes 3\n"
                      "await leader as L within 2s\n"
                      "let A B = all except L\n"
                      "cut L -> B\n"
                      "write alice x=1 expect committed\n"
                      "write alice x=2 expect committed\n"
                      "wait 3s\n"
                      "expect leader is L\n",
                      false, &r, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(occurrences(out, "defers to"), 1, "%s", out);
    cr_assert_eq(occurrences(out, "long enough: campaigns anyway"), 1, "%s",
                 out);
    cr_assert_geq(occurrences(out, "(election timeout: no leader heard"), 4,
                  "%s", out);
    free(out);
}
