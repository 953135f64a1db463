/*
 * test_scenario_app.c — the scenario words for the application talking to
 * real servers itself (sim/scenario): `write … on pg SERVER` and `mirror
 * … replication off`.  What they do on real servers is tests/pg.sh
 * (scenarios/pg/dual-write.scn, dual-write-replicated.scn).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario.h"

static struct scn_program *parse(const char *text, char **err)
{
    struct scn_program *p = NULL;
    size_t len = 0;
    FILE *ef = open_memstream(err, &len);
    scn_parse("t.scn", text, strlen(text), &p, ef);
    fclose(ef);
    return p;
}

Test(scenario_app, write_on_pg_names_the_server_and_its_outcome)
{
    char *err = NULL;
    struct scn_program *p = parse("mirror n1=a n2=b\n"
                                  "write alice x=1 on pg b expect refused\n"
                                  "write alice x=2 on pg a\n"
                                  "write alice x=3 expect acked\n",
                                  &err);
    cr_assert_not_null(p, "%s", err);
    cr_assert_eq(p->n_cmds, 3);
    cr_assert_str_eq(p->cmds[0].pg_server, "b");
    cr_assert_eq(p->cmds[0].outcomes, SCN_OUT_BIT(SCN_OUT_REFUSED));
    cr_assert_str_eq(p->cmds[1].pg_server, "a");
    cr_assert_eq(p->cmds[1].outcomes, 0);
    cr_assert_str_eq(p->cmds[2].pg_server, "", "through the cluster");
    cr_assert_not(p->mirror_no_replication);
    scn_free(p);
    free(err);
}

Test(scenario_app, write_on_pg_is_refused_when_malformed)
{
    static const char *const bad[][2] = {
        {"write alice x=1 on b\n", "expected 'pg SERVER' after 'on'"},
        {"write alice x=1 on pg B\n", "expected a server name"},
        {"write alice x=1 on pg\n", "expected a server name"},
        {"write alice x=1 on pg b expect committed\n",
         "expect acked or refused"},
        {"write alice x=1 on pg b expect acked|lost\n",
         "expect acked or refused"},
        {"write alice x=1 on pg b via n2\n", ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *err = NULL;
        struct scn_program *p = parse(bad[i][0], &err);
        cr_assert_null(p, "accepted: %s", bad[i][0]);
        cr_assert(strstr(err, bad[i][1]), "'%s' not in: %s", bad[i][1], err);
        free(err);
    }
}

Test(scenario_app, mirror_replication_off_is_a_setup_word)
{
    char *err = NULL;
    struct scn_program *p = parse("mirror n1=a n2=b replication off\n"
                                  "start\n",
                                  &err);
    cr_assert_not_null(p, "%s", err);
    cr_assert(p->mirror_no_replication);
    cr_assert_eq(p->n_mirror, 2);
    scn_free(p);
    free(err);
    p = parse("mirror replication off n1=a n2=b\nstart\n", &err);
    cr_assert_not_null(p, "%s", err);
    cr_assert(p->mirror_no_replication, "the words may come first");
    scn_free(p);
    free(err);
    p = parse("mirror n1=a n2=b replication on\nstart\n", &err);
    cr_assert_not_null(p, "%s", err);
    cr_assert_not(p->mirror_no_replication);
    scn_free(p);
    free(err);
    p = parse("mirror n1=a replication maybe\nstart\n", &err);
    cr_assert_null(p);
    cr_assert(strstr(err, "'on' or 'off'"), "%s", err);
    free(err);
    p = parse("mirror replication off\nstart\n", &err);
    cr_assert_null(p);
    cr_assert(strstr(err, "expected NODE=SERVER pairs"), "%s", err);
    free(err);
}
