/*
 * test_scenario_member.c — the membership words of the scenario
 * language: `members SET`, `add NODE [as learner]`, `add NODE NODE`
 * (only under unsafe change-two-at-once), `promote NODE`, `remove NODE`,
 * `expect voters|learners of NODE are SET|none`, and the errors for bad
 * lines.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario.h"

static int parse(const char *text, struct scn_program **p, char **err)
{
    size_t len = 0;
    FILE *ef = open_memstream(err, &len);
    int rc = scn_parse("m.scn", text, strlen(text), p, ef);
    fclose(ef);
    return rc;
}

static void bad(const char *text, const char *msg)
{
    struct scn_program *p = NULL;
    char *err = NULL;
    cr_assert_eq(parse(text, &p, &err), -1, "accepted:\n%s", text);
    cr_assert_null(p);
    cr_assert(strstr(err, msg), "'%s' not in:\n%s", msg, err);
    free(err);
}

Test(scenario_member, words_parse)
{
    struct scn_program *p = NULL;
    char *err = NULL;
    cr_assert_eq(parse("nodes 5\nmembers {n1,n2,n3}\nadd n4 as learner\n"
                       "promote n4\nadd n5\nremove n1\n"
                       "expect voters of n2 are {n2,n3,n4,n5}\n"
                       "expect learners of n2 are none\n",
                       &p, &err),
                 0, "%s", err);
    cr_assert(p->has_members);
    cr_assert(p->member[1] && p->member[3] && !p->member[4]);
    cr_assert_eq(p->n_cmds, 6);
    cr_assert_eq(p->cmds[0].kind, SCN_MEMBER);
    cr_assert_eq(p->cmds[0].enumval, RAFT_ADD_LEARNER);
    cr_assert_eq(p->cmds[0].node.id, 4);
    cr_assert_eq(p->cmds[1].enumval, RAFT_PROMOTE);
    cr_assert_eq(p->cmds[2].enumval, RAFT_ADD_VOTER);
    cr_assert_eq(p->cmds[3].enumval, RAFT_REMOVE);
    cr_assert_eq(p->cmds[4].ex.kind, SCN_EX_MEMBERS);
    cr_assert(!p->cmds[4].ex.learners);
    cr_assert(p->cmds[5].ex.learners && p->cmds[5].ex.none);
    scn_free(p);
    free(err);
    err = NULL;
    cr_assert_eq(parse("nodes 5\nmembers {n1,n2,n3}\nunsafe "
                       "change-two-at-once\nadd n4 n5\n",
                       &p, &err),
                 0, "%s", err);
    cr_assert(p->cmds[0].two);
    cr_assert_eq(p->cmds[0].node2.id, 5);
    scn_free(p);
    free(err);
}

Test(scenario_member, bad_lines_say_why)
{
    bad("nodes 5\nadd n4 n5\n", "needs `unsafe change-two-at-once`");
    bad("nodes 5\nadd n9\n", "n9");
    bad("nodes 5\nadd n4 as voter\n", "learner");
    bad("nodes 5\npromote\n", "expected");
    bad("nodes 5\nmembers all\n", "members {n1,n2,n3}");
    bad("nodes 5\nmembers {n1,n7}\n", "n7");
    bad("members {n1,n2}\nnodes 5\n", "'nodes' must come before 'members'");
    bad("nodes 5\nmembers {n1}\nmembers {n2}\n", "given twice");
    bad("nodes 5\nwait 1s\nmembers {n1}\n", "before the first action");
    bad("nodes 5\nexpect voters of n1 is {n1}\n", "are");
    bad("nodes 5\nremove n1 n2\n", "at the end of the command");
}
