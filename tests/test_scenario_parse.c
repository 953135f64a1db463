/*
 * test_scenario_parse.c — the scenario parser (sim/scenario/scenario_parse.c):
 * defaults and set-up, every action and its fields, say interpolation,
 * source text and line numbers, and the error messages (file:line:col,
 * the source line, a caret, did-you-mean), plus every shipped scenario.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario.h"

#define NAME "test.scn"

/* Parse text that must be accepted, silently. */
static struct scn_program *parse_ok(const char *text)
{
    struct scn_program *p = NULL;
    char *err = NULL;
    size_t err_len = 0;
    FILE *ef = open_memstream(&err, &err_len);
    int rc = scn_parse(NAME, text, strlen(text), &p, ef);
    fclose(ef);
    cr_assert_eq(rc, 0, "parse failed:\n%s\n--- text:\n%s", err, text);
    cr_assert_not_null(p);
    cr_assert_eq(err_len, 0, "messages on success:\n%s", err);
    free(err);
    return p;
}

/* Parse text that must be refused; returns the messages (caller frees). */
static char *parse_bad_len(const char *text, size_t len)
{
    /* a non-NULL sentinel: the parser must clear it */
    struct scn_program *p = (struct scn_program *)(uintptr_t)1;
    char *err = NULL;
    size_t err_len = 0;
    FILE *ef = open_memstream(&err, &err_len);
    int rc = scn_parse(NAME, text, len, &p, ef);
    fclose(ef);
    cr_assert_eq(rc, -1, "accepted:\n%.*s", (int)(len > 300 ? 300 : len), text);
    cr_assert_null(p, "a refused file must yield no program");
    cr_assert_gt(err_len, 0, "a refused file must say why");
    return err;
}

static char *parse_bad(const char *text)
{
    return parse_bad_len(text, strlen(text));
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *s = strstr(hay, needle); s; s = strstr(s + 1, needle))
        n++;
    return n;
}

/*
 * err must hold "test.scn:LINE:COL: error: ...MSG...", then "  SRC", then
 * "  " + padding up to COL (tabs kept) + "^".
 */
static void assert_diag(const char *err, int line, int col, const char *msg,
                        const char *src)
{
    char head[64];
    snprintf(head, sizeof(head), NAME ":%d:%d: error: ", line, col);
    const char *h = strstr(err, head);
    cr_assert_not_null(h, "no '%s' in:\n%s", head, err);
    const char *eol = strchr(h, '\n');
    cr_assert_not_null(eol);
    char *hl = strndup(h, (size_t)(eol - h));
    cr_assert(strstr(hl, msg), "'%s' is not in the message\n%s", msg, hl);
    free(hl);
    const char *sl = eol + 1;
    size_t n = strlen(src);
    cr_assert(!strncmp(sl, "  ", 2) && !strncmp(sl + 2, src, n) &&
                  sl[2 + n] == '\n',
              "the source line '%s' does not follow:\n%s", src, h);
    const char *cl = sl + 2 + n + 1;
    cr_assert(!strncmp(cl, "  ", 2), "no caret line:\n%s", h);
    size_t pad = (size_t)col - 1 < n ? (size_t)col - 1 : n;
    for (size_t c = 0; c < pad; c++)
        cr_assert_eq(cl[2 + c], src[c] == '\t' ? '\t' : ' ',
                     "caret padding at %zu:\n%s", c, h);
    cr_assert(cl[2 + pad] == '^' && cl[3 + pad] == '\n',
              "caret not at column %d:\n%s", col, h);
}

/* One bad line after `nodes 3`: exactly one error, at line 2, col. */
static void assert_line_error(const char *line, int col, const char *msg)
{
    char text[512];
    snprintf(text, sizeof(text), "nodes 3\n%s\n", line);
    char *err = parse_bad(text);
    assert_diag(err, 2, col, msg, line);
    cr_assert_eq(count(err, ": error: "), 1, "one error only:\n%s", err);
    free(err);
}

/* ------------------------------------------------------------------ */
/* Defaults and set-up                                                 */

Test(scenario_parse, defaults_apply_when_only_nodes_is_given)
{
    struct scn_program *p = parse_ok("nodes 3\n");
    cr_assert_str_eq(p->file, NAME);
    cr_assert_eq(p->nodes, 3);
    cr_assert_eq(p->heartbeat_us, 50000);
    cr_assert_eq(p->election_min_us, 150000);
    cr_assert_eq(p->election_max_us, 300000);
    cr_assert_eq(p->ack, RAFT_ACK_QUORUM);
    cr_assert_eq(p->policy, RAFT_ELECT_HIGHEST_LSN);
    cr_assert(p->prevote);
    cr_assert(p->checkquorum);
    cr_assert_eq(p->seed, 1);
    cr_assert(!p->seed_given);
    cr_assert_eq(p->client_timeout_us, 2000000);
    cr_assert_eq(p->unsafe, 0);
    cr_assert(!p->virtual_only);
    cr_assert_eq(p->n_cmds, 0);
    cr_assert_eq(p->n_clients, 0);
    cr_assert_eq(p->n_vars, 0);
    scn_free(p);
}

Test(scenario_parse, every_setup_command_sets_its_field)
{
    struct scn_program *p = parse_ok("nodes 5\n"
                                     "heartbeat 20ms\n"
                                     "election 100ms..250ms\n"
                                     "ack sync\n"
                                     "policy raft\n"
                                     "prevote off\n"
                                     "checkquorum off\n"
                                     "unsafe keep-conflicts\n"
                                     "seed 42\n"
                                     "disk 250us\n"
                                     "client-timeout 1.5s\n"
                                     "client-latency 2ms\n"
                                     "clients alice bob\n"
                                     "clock virtual\n");
    cr_assert_eq(p->nodes, 5);
    cr_assert_eq(p->heartbeat_us, 20000);
    cr_assert_eq(p->election_min_us, 100000);
    cr_assert_eq(p->election_max_us, 250000);
    cr_assert_eq(p->ack, RAFT_ACK_SYNC);
    cr_assert_eq(p->policy, RAFT_ELECT_RAFT);
    cr_assert(!p->prevote);
    cr_assert(!p->checkquorum);
    cr_assert_eq(p->unsafe, RAFT_UNSAFE_KEEP_CONFLICTS);
    cr_assert_eq(p->seed, 42);
    cr_assert(p->seed_given);
    cr_assert_eq(p->disk_us, 250);
    cr_assert_eq(p->client_timeout_us, 1500000);
    cr_assert_eq(p->client_latency_us, 2000);
    cr_assert(p->virtual_only);
    cr_assert_eq(p->n_clients, 2);
    cr_assert_str_eq(p->clients[0], "alice");
    cr_assert_str_eq(p->clients[1], "bob");
    cr_assert_eq(p->n_cmds, 0, "set-up lines are folded, not commands");
    scn_free(p);
}

Test(scenario_parse, other_setup_values_ack_async_policy_and_clock_any)
{
    struct scn_program *p = parse_ok("ack async\npolicy highest-lsn\n"
                                     "prevote on\ncheckquorum on\nclock any\n");
    cr_assert_eq(p->ack, RAFT_ACK_ASYNC);
    cr_assert_eq(p->policy, RAFT_ELECT_HIGHEST_LSN);
    cr_assert(p->prevote);
    cr_assert(p->checkquorum);
    cr_assert(!p->virtual_only);
    scn_free(p);
}

Test(scenario_parse, durations_take_us_ms_s_and_decimal_fractions)
{
    struct scn_program *p = parse_ok("election 1.5s..2s\n"
                                     "wait 250us\n"
                                     "wait 200ms\n"
                                     "wait 1.5s\n"
                                     "wait 0.25ms\n"
                                     "wait 2s\n"
                                     "wait 0s\n"
                                     "wait 1.000001s\n");
    cr_assert_eq(p->election_min_us, 1500000);
    cr_assert_eq(p->election_max_us, 2000000);
    static const uint64_t want[] = {250, 200000, 1500000, 250, 2000000, 0,
                                    1000001};
    cr_assert_eq(p->n_cmds, 7);
    for (int k = 0; k < 7; k++) {
        cr_assert_eq(p->cmds[k].kind, SCN_WAIT);
        cr_assert_eq(p->cmds[k].u, want[k], "wait #%d: %llu", k,
                     (unsigned long long)p->cmds[k].u);
    }
    scn_free(p);
}

Test(scenario_parse, unsafe_takes_rules_separated_by_a_comma)
{
    struct scn_program *p = parse_ok("unsafe vote-any, commit-old-term\n");
    cr_assert_eq(p->unsafe,
                 RAFT_UNSAFE_VOTE_ANY | RAFT_UNSAFE_COMMIT_OLD_TERM);
    scn_free(p);
    char *err = parse_bad("unsafe vote-any, keep-conflict\n");
    assert_diag(err, 1, 18, "did you mean 'keep-conflicts'?",
                "unsafe vote-any, keep-conflict");
    free(err);
}

Test(scenario_parse, clients_are_declared_once_and_numbered_in_order)
{
    struct scn_program *p = parse_ok("clients alice bob\n"
                                     "expect reads of bob fresh\n"
                                     "write carol x=1\n"
                                     "write alice y=2\n");
    cr_assert_eq(p->n_clients, 3);
    cr_assert_str_eq(p->clients[2], "carol");
    cr_assert_eq(p->cmds[0].ex.client, 1, "declared clients need no read");
    cr_assert_eq(p->cmds[1].client, 2);
    cr_assert_eq(p->cmds[2].client, 0);
    scn_free(p);
    char *err = parse_bad("clients alice bob alice\n");
    assert_diag(err, 1, 19, "client 'alice' is named twice",
                "clients alice bob alice");
    free(err);
}

/* ------------------------------------------------------------------ */
/* Actions                                                             */

Test(scenario_parse, link_one_way_with_every_setting)
{
    struct scn_program *p =
        parse_ok("link n1 -> {n2, n3} latency 20ms jitter 5ms drop 5% dup 1e-05\n");
    cr_assert_eq(p->n_cmds, 1);
    struct scn_cmd *c = &p->cmds[0];
    cr_assert_eq(c->kind, SCN_LINK);
    cr_assert(!c->both_ways);
    cr_assert(!c->reset);
    cr_assert_eq(c->n_sets, 2);
    cr_assert_eq(c->sets[0].n, 1);
    cr_assert_eq(c->sets[0].items[0].id, 1);
    cr_assert_eq(c->sets[0].items[0].var, -1);
    cr_assert_eq(c->sets[1].n, 2);
    cr_assert_eq(c->sets[1].items[0].id, 2);
    cr_assert_eq(c->sets[1].items[1].id, 3);
    cr_assert(c->has_latency && c->has_jitter && c->has_drop && c->has_dup);
    cr_assert_eq(c->latency_us, 20000);
    cr_assert_eq(c->jitter_us, 5000);
    cr_assert(fabs(c->drop - 0.05) < 1e-12, "drop %g", c->drop);
    cr_assert(fabs(c->dup - 1e-05) < 1e-15, "dup %g", c->dup);
    scn_free(p);
}

Test(scenario_parse, link_both_ways_partial_settings_and_reset)
{
    struct scn_program *p = parse_ok("link n1 <-> n2 drop 0.25\n"
                                     "link all <-> n3 reset\n");
    struct scn_cmd *c = &p->cmds[0];
    cr_assert(c->both_ways);
    cr_assert(c->has_drop);
    cr_assert(!c->has_latency && !c->has_jitter && !c->has_dup);
    cr_assert(fabs(c->drop - 0.25) < 1e-12);
    c = &p->cmds[1];
    cr_assert_eq(c->kind, SCN_LINK);
    cr_assert(c->both_ways);
    cr_assert(c->reset);
    cr_assert(c->sets[0].all);
    cr_assert_eq(c->sets[1].items[0].id, 3);
    cr_assert(!c->has_latency && !c->has_drop);
    scn_free(p);
}

Test(scenario_parse, life_commands_take_every_form_of_set)
{
    struct scn_program *p = parse_ok("nodes 5\n"
                                     "start\n"
                                     "start {n1, n2}\n"
                                     "let L = n4\n"
                                     "crash n1 lose-unflushed\n"
                                     "crash all except {L, n3}\n"
                                     "restart all\n"
                                     "pause rest\n"
                                     "resume all except L\n");
    cr_assert_eq(p->n_cmds, 8);
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[0].kind, SCN_START);
    cr_assert_eq(c[0].n_sets, 0, "a bare start has no set");
    cr_assert_eq(c[1].kind, SCN_START);
    cr_assert_eq(c[1].sets[0].n, 2);
    cr_assert_eq(c[1].sets[0].items[1].id, 2);
    cr_assert_eq(c[3].kind, SCN_CRASH);
    cr_assert(c[3].lose_unflushed);
    cr_assert_eq(c[3].sets[0].items[0].id, 1);
    cr_assert_eq(c[4].kind, SCN_CRASH);
    cr_assert(!c[4].lose_unflushed);
    cr_assert(c[4].sets[0].all);
    cr_assert_eq(c[4].sets[0].n, 0);
    cr_assert_eq(c[4].sets[0].n_except, 2);
    cr_assert_eq(c[4].sets[0].except[0].id, 0);
    cr_assert_eq(c[4].sets[0].except[0].var, 0, "L is variable 0");
    cr_assert_eq(c[4].sets[0].except[1].id, 3);
    cr_assert_eq(c[5].kind, SCN_RESTART);
    cr_assert(c[5].sets[0].all && !c[5].sets[0].rest);
    cr_assert_eq(c[6].kind, SCN_PAUSE);
    cr_assert(c[6].sets[0].rest && !c[6].sets[0].all);
    cr_assert_eq(c[7].kind, SCN_RESUME);
    cr_assert(c[7].sets[0].all);
    cr_assert_eq(c[7].sets[0].n_except, 1);
    cr_assert_eq(c[7].sets[0].except[0].var, 0);
    scn_free(p);
}

Test(scenario_parse, partition_takes_two_or_more_groups)
{
    struct scn_program *p = parse_ok("nodes 5\n"
                                     "partition {n1, n2} rest\n"
                                     "partition n1 n2 {n3, n4, n5}\n");
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[0].kind, SCN_PARTITION);
    cr_assert_eq(c[0].n_sets, 2);
    cr_assert_eq(c[0].sets[0].n, 2);
    cr_assert(c[0].sets[1].rest);
    cr_assert_eq(c[1].n_sets, 3);
    cr_assert_eq(c[1].sets[1].items[0].id, 2);
    cr_assert_eq(c[1].sets[2].n, 3);
    cr_assert_eq(c[1].sets[2].items[2].id, 5);
    scn_free(p);
}

Test(scenario_parse, isolate_a_set_or_the_next_leader_cut_and_heal)
{
    struct scn_program *p = parse_ok("isolate n2\n"
                                     "isolate leader on append\n"
                                     "isolate leader on commit\n"
                                     "cut n1 -> n2\n"
                                     "cut {n1} <-> rest\n"
                                     "heal\n");
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[0].kind, SCN_ISOLATE);
    cr_assert_eq(c[0].trap, SCN_TRAP_NONE);
    cr_assert_eq(c[0].sets[0].items[0].id, 2);
    cr_assert_eq(c[1].kind, SCN_ISOLATE);
    cr_assert_eq(c[1].trap, SCN_TRAP_APPEND);
    cr_assert_eq(c[1].n_sets, 0);
    cr_assert_eq(c[2].trap, SCN_TRAP_COMMIT);
    cr_assert_eq(c[3].kind, SCN_CUT);
    cr_assert(!c[3].both_ways);
    cr_assert_eq(c[3].n_sets, 2);
    cr_assert_eq(c[3].sets[1].items[0].id, 2);
    cr_assert(c[4].both_ways);
    cr_assert(c[4].sets[1].rest);
    cr_assert_eq(c[5].kind, SCN_HEAL);
    cr_assert_eq(c[5].n_sets, 0);
    scn_free(p);
    p = parse_ok("heal n1 -> n2\nheal {n1, n3} <-> rest\n");
    c = p->cmds;
    cr_assert_eq(c[0].kind, SCN_HEAL);
    cr_assert_eq(c[0].n_sets, 2);
    cr_assert(!c[0].both_ways);
    cr_assert_eq(c[0].sets[1].items[0].id, 2);
    cr_assert(c[1].both_ways);
    cr_assert(c[1].sets[1].rest);
    scn_free(p);
}

Test(scenario_parse, write_parses_client_key_value_route_outcome_and_limit)
{
    struct scn_program *p = parse_ok("write alice x=1\n"
                                     "write bob key-2=v.1 via n2 expect acked within 500ms\n"
                                     "await leader as L\n"
                                     "write alice y=2 via leader expect committed\n"
                                     "write alice z=3 via L expect refused\n"
                                     "write bob a:b/c=d_e expect timeout\n"
                                     "write bob q=9 expect lost\n");
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[0].kind, SCN_WRITE);
    cr_assert_eq(c[0].client, 0);
    cr_assert_str_eq(c[0].key, "x");
    cr_assert_str_eq(c[0].value, "1");
    cr_assert_eq(c[0].via.id, 0);
    cr_assert_eq(c[0].via.var, -1, "no via: the leader");
    cr_assert_eq(c[0].outcome, SCN_OUT_NONE);
    cr_assert_eq(c[0].within_us, 0);
    cr_assert_eq(c[1].client, 1);
    cr_assert_str_eq(c[1].key, "key-2");
    cr_assert_str_eq(c[1].value, "v.1");
    cr_assert_eq(c[1].via.id, 2);
    cr_assert_eq(c[1].outcome, SCN_OUT_ACKED);
    cr_assert_eq(c[1].within_us, 500000);
    cr_assert_eq(c[3].via.id, 0);
    cr_assert_eq(c[3].via.var, -1);
    cr_assert_eq(c[3].outcome, SCN_OUT_COMMITTED);
    cr_assert_eq(c[4].via.id, 0);
    cr_assert_eq(c[4].via.var, 0);
    cr_assert_eq(c[4].outcome, SCN_OUT_REFUSED);
    cr_assert_str_eq(c[5].key, "a:b/c");
    cr_assert_str_eq(c[5].value, "d_e");
    cr_assert_eq(c[5].outcome, SCN_OUT_TIMEOUT);
    cr_assert_eq(c[6].outcome, SCN_OUT_LOST);
    cr_assert_eq(p->n_clients, 2);
    scn_free(p);
}

Test(scenario_parse, read_takes_every_route)
{
    struct scn_program *p = parse_ok("read alice x\n"
                                     "read alice x from leader\n"
                                     "read alice x from any\n"
                                     "read alice x from follower\n"
                                     "read alice x from monotonic\n"
                                     "read alice x from ryw\n"
                                     "read alice x from n2\n"
                                     "await leader as L\n"
                                     "read bob y from L\n");
    static const enum scn_route want[] = {
        SCN_ROUTE_LEADER,    SCN_ROUTE_LEADER, SCN_ROUTE_ANY,
        SCN_ROUTE_FOLLOWER,  SCN_ROUTE_MONOTONIC, SCN_ROUTE_RYW,
        SCN_ROUTE_NODE};
    for (int k = 0; k < 7; k++) {
        cr_assert_eq(p->cmds[k].kind, SCN_READ);
        cr_assert_eq(p->cmds[k].route, want[k], "read #%d", k);
        cr_assert_str_eq(p->cmds[k].key, "x");
        cr_assert_eq(p->cmds[k].read_expect, SCN_READ_NONE);
    }
    cr_assert_eq(p->cmds[6].from.id, 2);
    cr_assert_eq(p->cmds[8].route, SCN_ROUTE_NODE);
    cr_assert_eq(p->cmds[8].from.var, 0);
    cr_assert_eq(p->cmds[8].client, 1);
    scn_free(p);
}

Test(scenario_parse, read_takes_every_expect_form)
{
    struct scn_program *p = parse_ok("read alice x expect 1\n"
                                     "read alice x from any expect fresh\n"
                                     "read alice x from n3 expect stale\n"
                                     "read alice nope expect missing\n");
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[0].read_expect, SCN_READ_VALUE);
    cr_assert_str_eq(c[0].value, "1");
    cr_assert_eq(c[1].read_expect, SCN_READ_FRESH);
    cr_assert_eq(c[1].route, SCN_ROUTE_ANY);
    cr_assert_eq(c[2].read_expect, SCN_READ_STALE);
    cr_assert_eq(c[2].from.id, 3);
    cr_assert_eq(c[3].read_expect, SCN_READ_MISSING);
    cr_assert_str_eq(c[3].key, "nope");
    scn_free(p);
}

Test(scenario_parse, wait_and_at_time_command)
{
    struct scn_program *p = parse_ok("wait 10ms\n"
                                     "at 1.5s heal\n"
                                     "at 2s crash n1\n");
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[0].kind, SCN_WAIT);
    cr_assert_eq(c[0].u, 10000);
    cr_assert(!c[0].at);
    cr_assert_eq(c[1].kind, SCN_HEAL);
    cr_assert(c[1].at);
    cr_assert_eq(c[1].at_us, 1500000);
    cr_assert_eq(c[2].kind, SCN_CRASH);
    cr_assert(c[2].at);
    cr_assert_eq(c[2].at_us, 2000000);
    cr_assert_eq(c[2].sets[0].items[0].id, 1);
    scn_free(p);
}

Test(scenario_parse, await_leader_in_set_as_var_within)
{
    struct scn_program *p = parse_ok("await leader\n"
                                     "await leader in {n1, n2} as L within 3s\n"
                                     "await leader in all except L as M\n");
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[0].kind, SCN_AWAIT);
    cr_assert_eq(c[0].await, SCN_AW_LEADER);
    cr_assert(!c[0].has_set);
    cr_assert_eq(c[0].bind_var, -1);
    cr_assert_eq(c[0].within_us, 0);
    cr_assert(c[1].has_set);
    cr_assert_eq(c[1].sets[0].n, 2);
    cr_assert_eq(c[1].bind_var, 0);
    cr_assert_eq(c[1].within_us, 3000000);
    cr_assert_str_eq(p->vars[0], "L");
    cr_assert(c[2].sets[0].all);
    cr_assert_eq(c[2].sets[0].except[0].var, 0);
    cr_assert_eq(c[2].bind_var, 1);
    cr_assert_str_eq(p->vars[1], "M");
    cr_assert_eq(p->n_vars, 2);
    scn_free(p);
}

Test(scenario_parse, await_follower_committed_and_caught_up)
{
    struct scn_program *p = parse_ok("await leader as L\n"
                                     "await follower L within 2s\n"
                                     "await committed x on n2 within 1s\n"
                                     "await committed y\n"
                                     "await caught-up n3\n");
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[1].await, SCN_AW_FOLLOWER);
    cr_assert(c[1].has_node);
    cr_assert_eq(c[1].node.var, 0);
    cr_assert_eq(c[1].within_us, 2000000);
    cr_assert_eq(c[2].await, SCN_AW_COMMITTED);
    cr_assert_str_eq(c[2].key, "x");
    cr_assert(c[2].has_node);
    cr_assert_eq(c[2].node.id, 2);
    cr_assert_eq(c[2].within_us, 1000000);
    cr_assert_eq(c[3].await, SCN_AW_COMMITTED);
    cr_assert_str_eq(c[3].key, "y");
    cr_assert(!c[3].has_node);
    cr_assert_eq(c[4].await, SCN_AW_CAUGHT_UP);
    cr_assert_eq(c[4].node.id, 3);
    cr_assert(c[4].has_node);
    scn_free(p);
}

Test(scenario_parse, expect_leader_is_in_none_and_leaders)
{
    struct scn_program *p = parse_ok("await leader as L\n"
                                     "expect leader is L\n"
                                     "expect leader is n2\n"
                                     "expect leader is none\n"
                                     "expect no leader\n"
                                     "expect leader in {n1, n2}\n"
                                     "expect leaders >= 1\n"
                                     "expect leaders == 2\n");
    struct scn_expect *e[8];
    for (int k = 0; k < 8; k++)
        e[k] = &p->cmds[k].ex;
    cr_assert_eq(p->cmds[1].kind, SCN_EXPECT);
    cr_assert_eq(e[1]->kind, SCN_EX_LEADER_IS);
    cr_assert(!e[1]->none);
    cr_assert_eq(e[1]->node.var, 0);
    cr_assert_eq(e[2]->node.id, 2);
    cr_assert_eq(e[2]->node.var, -1);
    cr_assert_eq(e[3]->kind, SCN_EX_LEADER_IS);
    cr_assert(e[3]->none);
    cr_assert_eq(e[4]->kind, SCN_EX_LEADER_IS, "`no leader` = leader is none");
    cr_assert(e[4]->none);
    cr_assert_eq(e[5]->kind, SCN_EX_LEADER_IN);
    cr_assert_eq(e[5]->set.n, 2);
    cr_assert_eq(e[5]->set.items[1].id, 2);
    cr_assert_eq(e[6]->kind, SCN_EX_LEADERS);
    cr_assert_eq(e[6]->cmp, SCN_GE);
    cr_assert_eq(e[6]->value.lit, 1);
    cr_assert_eq(e[7]->cmp, SCN_EQ);
    cr_assert_eq(e[7]->value.lit, 2);
    scn_free(p);
}

Test(scenario_parse, expect_role_with_and_without_not)
{
    struct scn_program *p = parse_ok("await leader as L\n"
                                     "expect role of n1 is follower\n"
                                     "expect role of L is not leader\n"
                                     "expect role of n2 is pre-candidate\n"
                                     "expect role of n2 is candidate\n"
                                     "expect role of n3 is down\n"
                                     "expect role of n3 is paused\n");
    struct scn_expect *e = &p->cmds[1].ex;
    cr_assert_eq(e->kind, SCN_EX_ROLE);
    cr_assert_eq(e->node.id, 1);
    cr_assert_eq(e->role, RAFT_FOLLOWER);
    cr_assert(!e->negate && !e->paused);
    e = &p->cmds[2].ex;
    cr_assert_eq(e->node.var, 0);
    cr_assert(e->negate);
    cr_assert_eq(e->role, RAFT_LEADER);
    cr_assert_eq(p->cmds[3].ex.role, RAFT_PRECANDIDATE);
    cr_assert_eq(p->cmds[4].ex.role, RAFT_CANDIDATE);
    cr_assert_eq(p->cmds[5].ex.role, RAFT_DOWN);
    cr_assert(!p->cmds[5].ex.paused);
    cr_assert(p->cmds[6].ex.paused);
    cr_assert(!p->cmds[6].ex.negate);
    scn_free(p);
}

Test(scenario_parse, expect_quantity_against_a_literal_or_another_node)
{
    struct scn_program *p = parse_ok("await leader as L\n"
                                     "let F = n2\n"
                                     "expect term of F = term of L\n"
                                     "expect lsn of n2 >= 5\n"
                                     "expect commit of n1 != lsn of n2\n"
                                     "expect applied of n3 < 10\n"
                                     "expect term of n1 <= applied of n3\n"
                                     "expect lsn of n1 > commit of L\n");
    struct scn_expect *e = &p->cmds[2].ex;
    cr_assert_eq(e->kind, SCN_EX_QUANTITY);
    cr_assert_eq(e->q, SCN_Q_TERM);
    cr_assert_eq(e->node.var, 1, "F");
    cr_assert_eq(e->cmp, SCN_EQ);
    cr_assert_eq(e->value.q, SCN_Q_TERM);
    cr_assert_eq(e->value.node.var, 0, "L");
    e = &p->cmds[3].ex;
    cr_assert_eq(e->q, SCN_Q_LSN);
    cr_assert_eq(e->cmp, SCN_GE);
    cr_assert_eq(e->value.q, SCN_Q_NONE);
    cr_assert_eq(e->value.lit, 5);
    e = &p->cmds[4].ex;
    cr_assert_eq(e->q, SCN_Q_COMMIT);
    cr_assert_eq(e->cmp, SCN_NE);
    cr_assert_eq(e->value.q, SCN_Q_LSN);
    cr_assert_eq(e->value.node.id, 2);
    e = &p->cmds[5].ex;
    cr_assert_eq(e->q, SCN_Q_APPLIED);
    cr_assert_eq(e->cmp, SCN_LT);
    cr_assert_eq(e->value.lit, 10);
    cr_assert_eq(p->cmds[6].ex.cmp, SCN_LE);
    cr_assert_eq(p->cmds[6].ex.value.q, SCN_Q_APPLIED);
    cr_assert_eq(p->cmds[7].ex.cmp, SCN_GT);
    cr_assert_eq(p->cmds[7].ex.value.q, SCN_Q_COMMIT);
    scn_free(p);
}

Test(scenario_parse, expect_committed_lost_discarded_and_log)
{
    struct scn_program *p = parse_ok("await leader as L\n"
                                     "expect committed x\n"
                                     "expect committed x on n2\n"
                                     "expect lost y\n"
                                     "expect discarded y on L\n"
                                     "expect log of n1 has x\n"
                                     "expect log of n3 lacks y\n");
    struct scn_expect *e = &p->cmds[1].ex;
    cr_assert_eq(e->kind, SCN_EX_COMMITTED);
    cr_assert_str_eq(e->key, "x");
    cr_assert(!e->has_node);
    e = &p->cmds[2].ex;
    cr_assert(e->has_node);
    cr_assert_eq(e->node.id, 2);
    e = &p->cmds[3].ex;
    cr_assert_eq(e->kind, SCN_EX_LOST);
    cr_assert_str_eq(e->key, "y");
    e = &p->cmds[4].ex;
    cr_assert_eq(e->kind, SCN_EX_DISCARDED);
    cr_assert_str_eq(e->key, "y");
    cr_assert_eq(e->node.var, 0);
    e = &p->cmds[5].ex;
    cr_assert_eq(e->kind, SCN_EX_LOG_HAS);
    cr_assert(!e->negate);
    cr_assert_eq(e->node.id, 1);
    cr_assert_str_eq(e->key, "x");
    e = &p->cmds[6].ex;
    cr_assert_eq(e->kind, SCN_EX_LOG_HAS);
    cr_assert(e->negate, "lacks");
    cr_assert_eq(e->node.id, 3);
    scn_free(p);
}

Test(scenario_parse, expect_lag_in_entries_bytes_or_a_duration)
{
    struct scn_program *p = parse_ok("expect lag of n2 < 5 entries\n"
                                     "expect lag of n2 <= 4096 bytes\n"
                                     "expect lag of n3 > 100ms\n");
    struct scn_expect *e = &p->cmds[0].ex;
    cr_assert_eq(e->kind, SCN_EX_LAG);
    cr_assert_eq(e->node.id, 2);
    cr_assert_eq(e->cmp, SCN_LT);
    cr_assert_eq(e->value.lit, 5);
    cr_assert_eq(e->lag_unit, SCN_LAG_ENTRIES);
    e = &p->cmds[1].ex;
    cr_assert_eq(e->cmp, SCN_LE);
    cr_assert_eq(e->value.lit, 4096);
    cr_assert_eq(e->lag_unit, SCN_LAG_BYTES);
    e = &p->cmds[2].ex;
    cr_assert_eq(e->cmp, SCN_GT);
    cr_assert_eq(e->value.lit, 100000, "a lag duration is in us");
    cr_assert_eq(e->lag_unit, SCN_LAG_TIME);
    scn_free(p);
    assert_line_error("expect lag of n2 < 5", 21, "a unit: entries or bytes");
}

Test(scenario_parse, expect_reads_write_and_violations)
{
    struct scn_program *p = parse_ok("read alice x\n"
                                     "write bob y=2\n"
                                     "expect reads of alice fresh\n"
                                     "expect reads of alice not stale\n"
                                     "expect reads of alice monotonic\n"
                                     "expect reads of bob own-writes\n"
                                     "expect write of bob y timeout\n"
                                     "expect write of alice x committed\n"
                                     "expect no violations\n"
                                     "expect violation\n"
                                     "expect violation AckedWriteLost\n");
    struct scn_expect *e = &p->cmds[2].ex;
    cr_assert_eq(e->kind, SCN_EX_READS);
    cr_assert_eq(e->client, 0);
    cr_assert_eq(e->prop, SCN_READS_FRESH);
    cr_assert(!e->negate);
    e = &p->cmds[3].ex;
    cr_assert(e->negate);
    cr_assert_eq(e->prop, SCN_READS_STALE);
    cr_assert_eq(p->cmds[4].ex.prop, SCN_READS_MONOTONIC);
    cr_assert_eq(p->cmds[5].ex.prop, SCN_READS_OWN_WRITES);
    cr_assert_eq(p->cmds[5].ex.client, 1);
    e = &p->cmds[6].ex;
    cr_assert_eq(e->kind, SCN_EX_WRITE);
    cr_assert_eq(e->client, 1);
    cr_assert_str_eq(e->key, "y");
    cr_assert_eq(e->outcome, SCN_OUT_TIMEOUT);
    cr_assert_eq(p->cmds[7].ex.client, 0);
    cr_assert_eq(p->cmds[7].ex.outcome, SCN_OUT_COMMITTED);
    cr_assert_eq(p->cmds[8].ex.kind, SCN_EX_NO_VIOLATIONS);
    cr_assert_eq(p->cmds[9].ex.kind, SCN_EX_VIOLATION);
    cr_assert_str_eq(p->cmds[9].ex.violation, "", "any violation");
    cr_assert_eq(p->cmds[10].ex.kind, SCN_EX_VIOLATION);
    cr_assert_str_eq(p->cmds[10].ex.violation, "AckedWriteLost");
    scn_free(p);
}

Test(scenario_parse, say_splits_text_into_interpolation_segments)
{
    struct scn_program *p = parse_ok(
        "await leader as L\n"
        "say \"{L} leads term {term L}; {lsn n3}/{commit n1}/{applied n2} "
        "{role L} { n2 } {leader} at {time}s\"\n");
    struct scn_cmd *c = &p->cmds[1];
    cr_assert_eq(c->kind, SCN_SAY);
    struct {
        enum scn_seg_kind k;
        const char *text;
        enum scn_quantity q;
        int id, var;
    } want[] = {
        {SCN_SEG_NODE, NULL, 0, 0, 0},
        {SCN_SEG_TEXT, " leads term ", 0, 0, -1},
        {SCN_SEG_QUANT, NULL, SCN_Q_TERM, 0, 0},
        {SCN_SEG_TEXT, "; ", 0, 0, -1},
        {SCN_SEG_QUANT, NULL, SCN_Q_LSN, 3, -1},
        {SCN_SEG_TEXT, "/", 0, 0, -1},
        {SCN_SEG_QUANT, NULL, SCN_Q_COMMIT, 1, -1},
        {SCN_SEG_TEXT, "/", 0, 0, -1},
        {SCN_SEG_QUANT, NULL, SCN_Q_APPLIED, 2, -1},
        {SCN_SEG_TEXT, " ", 0, 0, -1},
        {SCN_SEG_ROLE, NULL, 0, 0, 0},
        {SCN_SEG_TEXT, " ", 0, 0, -1},
        {SCN_SEG_NODE, NULL, 0, 2, -1},
        {SCN_SEG_TEXT, " ", 0, 0, -1},
        {SCN_SEG_LEADER, NULL, 0, 0, -1},
        {SCN_SEG_TEXT, " at ", 0, 0, -1},
        {SCN_SEG_TIME, NULL, 0, 0, -1},
        {SCN_SEG_TEXT, "s", 0, 0, -1},
    };
    int n = (int)(sizeof(want) / sizeof(*want));
    cr_assert_eq(c->n_segs, n, "%d segments", c->n_segs);
    for (int k = 0; k < n; k++) {
        struct scn_seg *s = &c->segs[k];
        cr_assert_eq(s->kind, want[k].k, "segment %d kind %d", k, s->kind);
        if (want[k].text) {
            cr_assert_str_eq(s->text, want[k].text, "segment %d", k);
            continue;
        }
        if (s->kind == SCN_SEG_LEADER || s->kind == SCN_SEG_TIME)
            continue;
        cr_assert_eq(s->node.id, want[k].id, "segment %d node id", k);
        cr_assert_eq(s->node.var, want[k].var, "segment %d node var", k);
        if (s->kind == SCN_SEG_QUANT)
            cr_assert_eq(s->q, want[k].q, "segment %d quantity", k);
    }
    scn_free(p);
}

Test(scenario_parse, say_unescapes_quotes_and_doubled_braces)
{
    struct scn_program *p =
        parse_ok("say \"set {{a}} said \\\"hi\\\" \\\\ done\"\n");
    struct scn_cmd *c = &p->cmds[0];
    cr_assert_eq(c->n_segs, 1, "braces doubled are text, not {…}");
    cr_assert_eq(c->segs[0].kind, SCN_SEG_TEXT);
    cr_assert_str_eq(c->segs[0].text, "set {a} said \"hi\" \\ done");
    scn_free(p);
}

Test(scenario_parse, step_show_status_and_let_several_variables)
{
    struct scn_program *p = parse_ok("nodes 5\n"
                                     "await leader as L\n"
                                     "let A B = all except L\n"
                                     "crash A\n"
                                     "step\n"
                                     "show status\n");
    struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[1].kind, SCN_LET);
    cr_assert_eq(c[1].n_let, 2);
    cr_assert_str_eq(p->vars[c[1].let_vars[0]], "A");
    cr_assert_str_eq(p->vars[c[1].let_vars[1]], "B");
    cr_assert(c[1].sets[0].all);
    cr_assert_eq(c[1].sets[0].n_except, 1);
    cr_assert_eq(c[1].sets[0].except[0].var, 0);
    cr_assert_eq(c[2].sets[0].items[0].var, c[1].let_vars[0], "A is bound");
    cr_assert_eq(c[3].kind, SCN_STEP);
    cr_assert_eq(c[4].kind, SCN_SHOW_STATUS);
    scn_free(p);
    assert_line_error("show stats", 6, "expected 'status'");
}

Test(scenario_parse, src_is_trimmed_without_comment_and_lines_count_from_one)
{
    struct scn_program *p = parse_ok("# a header comment\n"
                                     "\n"
                                     "nodes 3\n"
                                     "   crash n1   # boom\n"
                                     "say \"hi # not a comment\"  # a comment\n"
                                     "\tat 1s heal\r\n"
                                     "write alice x=1 via n2\n");
    cr_assert_eq(p->n_cmds, 4);
    cr_assert_str_eq(p->cmds[0].src, "crash n1");
    cr_assert_eq(p->cmds[0].line, 4);
    cr_assert_str_eq(p->cmds[1].src, "say \"hi # not a comment\"");
    cr_assert_eq(p->cmds[1].line, 5);
    cr_assert_str_eq(p->cmds[1].segs[0].text, "hi # not a comment");
    cr_assert_str_eq(p->cmds[2].src, "at 1s heal");
    cr_assert_eq(p->cmds[2].line, 6);
    cr_assert_str_eq(p->cmds[3].src, "write alice x=1 via n2");
    cr_assert_eq(p->cmds[3].line, 7);
    scn_free(p);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

Test(scenario_parse, unknown_command_suggests_the_closest_one)
{
    char *err = parse_bad("nodes 3\ncrsh n1\n\tfrobnicate\n");
    assert_diag(err, 2, 1, "unknown command 'crsh'; did you mean 'crash'?",
                "crsh n1");
    assert_diag(err, 3, 2, "unknown command 'frobnicate' (see", "\tfrobnicate");
    cr_assert(!strstr(err, "frobnicate'; did you mean"), "%s", err);
    cr_assert_eq(count(err, ": error: "), 2, "%s", err);
    free(err);
}

Test(scenario_parse, misspelled_keywords_suggest_the_closest_one)
{
    char *err = parse_bad("nodes 3\nack quorm\nawait leeder\n");
    assert_diag(err, 2, 5, "got 'quorm'; did you mean 'quorum'?", "ack quorm");
    assert_diag(err, 3, 7, "got 'leeder'; did you mean 'leader'?",
                "await leeder");
    free(err);
    assert_line_error("expect leeder is n1", 8, "did you mean 'leader'?");
    assert_line_error("link n1 -> n2 latancy 5ms", 15, "did you mean 'latency'?");
    assert_line_error("crash n1 lose-unflushd", 10, "unexpected 'lose-unflushd'");
}

Test(scenario_parse, node_out_of_range_names_the_cluster_size)
{
    assert_line_error("crash n9", 7, "no node n9: this cluster has n1..n3");
    assert_line_error("crash {n1, n0}", 12, "no node n0");
    assert_line_error("write alice x=1 via n4", 21, "no node n4");
    char *err = parse_bad("crash n4\n");
    assert_diag(err, 1, 7, "(set the size with `nodes N`)", "crash n4");
    free(err);
}

Test(scenario_parse, unbound_variable_is_refused_with_a_hint)
{
    assert_line_error("crash L", 7, "variable L is not bound here: bind it first");
    char *err = parse_bad("await leader as Lead\ncrash Leadr\n");
    assert_diag(err, 2, 7, "variable Leadr is not bound here; did you mean 'Lead'?",
                "crash Leadr");
    free(err);
    /* a variable from a failed line is not bound */
    err = parse_bad("await leader as M junk\ncrash M\n");
    assert_diag(err, 2, 7, "variable M is not bound", "crash M");
    free(err);
}

Test(scenario_parse, durations_need_a_known_unit)
{
    assert_line_error("wait 10", 6, "'10' has no unit");
    assert_line_error("wait 10min", 6, "has an unknown unit (known: us, ms, s)");
    assert_line_error("wait -5ms", 6, "is not a duration");
    assert_line_error("wait", 5, "expected the wait (a duration such as 500ms)");
    char *err = parse_bad("election 100..200ms\n");
    assert_diag(err, 1, 10, "the election minimum '100' has no unit",
                "election 100..200ms");
    free(err);
    err = parse_bad("election 100ms..2x\n");
    assert_diag(err, 1, 17, "the election maximum '2x' has an unknown unit",
                "election 100ms..2x");
    free(err);
}

Test(scenario_parse, negative_and_absurd_numbers_are_refused)
{
    assert_line_error("seed -1", 6, "expected the seed (a whole number)");
    assert_line_error("seed 99999999999999999999", 6, "expected the seed");
    assert_line_error("wait 100000s", 6, "is longer than a day");
    assert_line_error("wait 1000000000000s", 6, "is too long");
    assert_line_error("expect leaders = -1", 18, "expected a count");
    char *err = parse_bad("nodes 0\n");
    assert_diag(err, 1, 7, "nodes must be between 1 and 64", "nodes 0");
    free(err);
    err = parse_bad("nodes 65\n");
    assert_diag(err, 1, 7, "nodes must be between 1 and", "nodes 65");
    free(err);
    err = parse_bad("election 300ms..200ms\n");
    assert_diag(err, 1, 10, "0 < MIN <= MAX", "election 300ms..200ms");
    free(err);
    err = parse_bad("heartbeat 0ms\n");
    assert_diag(err, 1, 11, "the heartbeat must be more than 0", "heartbeat 0ms");
    free(err);
    assert_line_error("write alice x=1 within 0s", 24,
                      "the time limit must be more than 0");
}

Test(scenario_parse, probabilities_must_lie_between_zero_and_one)
{
    assert_line_error("link n1 -> n2 drop 1.5", 20, "drop must be between 0 and 1");
    assert_line_error("link n1 -> n2 dup 101%", 19, "dup must be between 0 and 1");
    assert_line_error("link n1 -> n2 drop -0.1", 20, "drop must be between");
    assert_line_error("link n1 -> n2 drop nan", 20, "drop must be between");
    assert_line_error("link n1 -> n2 drop 5%%", 20, "drop must be between");
    assert_line_error("link n1 -> n2", 14, "a link needs a setting");
    assert_line_error("link n1 -> n2 drop 1% drop 2%", 23, "drop is given twice");
    struct scn_program *p = parse_ok("link n1 -> n2 drop 100% dup 0\n");
    cr_assert_eq(p->cmds[0].drop, 1.0);
    cr_assert_eq(p->cmds[0].dup, 0.0);
    scn_free(p);
}

Test(scenario_parse, setup_after_an_action_is_refused)
{
    char *err = parse_bad("nodes 3\nwait 1s\nheartbeat 10ms\n");
    assert_diag(err, 3, 1,
                "'heartbeat' sets the cluster up: it must come before the "
                "first action (line 2)",
                "heartbeat 10ms");
    free(err);
    /* links shape the network: they may sit among the set-up lines */
    struct scn_program *p =
        parse_ok("nodes 3\nlink n1 -> n2 latency 1ms\nheartbeat 10ms\n");
    cr_assert_eq(p->heartbeat_us, 10000);
    cr_assert_eq(p->n_cmds, 1);
    scn_free(p);
    /* ... but not under `at` */
    err = parse_bad("at 1s link n1 -> n2 latency 1ms\nseed 3\n");
    assert_diag(err, 2, 1, "must come before the first action (line 1)",
                "seed 3");
    free(err);
    assert_line_error("at 1s nodes 5", 7, "'nodes' sets the cluster up: it cannot follow 'at'");
}

Test(scenario_parse, a_setup_command_given_twice_is_refused)
{
    char *err = parse_bad("nodes 3\nseed 2\nnodes 5\n");
    assert_diag(err, 3, 1, "'nodes' is given twice", "nodes 5");
    cr_assert_eq(count(err, ": error: "), 1, "%s", err);
    free(err);
}

Test(scenario_parse, an_unterminated_string_is_refused)
{
    assert_line_error("say \"hello", 5, "unterminated string");
    assert_line_error("say \"a \\\" b", 5, "unterminated string");
}

Test(scenario_parse, say_brace_errors_point_into_the_text)
{
    assert_line_error("say \"a {n1\"", 8, "unclosed '{' in the text");
    assert_line_error("say \"{foo n1}\"", 7, "unknown 'foo' in {…}");
    assert_line_error("say \"{trem n1}\"", 7, "did you mean 'term'?");
    assert_line_error("say \"a } b\"", 8, "a lone '}' in the text");
    assert_line_error("say \"x {} y\"", 9, "empty or unknown {…}");
    assert_line_error("say \"x {n7}\"", 9, "no node n7");
    assert_line_error("say \"x {term Q}\"", 14, "variable Q is not bound");
    assert_line_error("say hello", 5, "expected the text in double quotes");
}

Test(scenario_parse, an_empty_set_is_refused)
{
    assert_line_error("crash {}", 8, "empty set: name at least one node");
    assert_line_error("crash {n1 n2}", 11, "expected ',' or '}' in the set");
    assert_line_error("crash everyone", 7, "expected a set of nodes");
    assert_line_error("crash al", 7, "did you mean 'all'?");
}

Test(scenario_parse, keys_and_values_longer_than_31_bytes_are_refused)
{
    char key31[32], key32[33], line[128];
    memset(key31, 'k', 31);
    key31[31] = 0;
    memset(key32, 'k', 32);
    key32[32] = 0;
    snprintf(line, sizeof(line), "write alice %s=1\n", key31);
    struct scn_program *p = parse_ok(line);
    cr_assert_str_eq(p->cmds[0].key, key31);
    scn_free(p);
    snprintf(line, sizeof(line), "write alice %s=1", key32);
    assert_line_error(line, 13, "key 'kkkkkkkkkkkkkkkkkkkk…' is longer than 31 bytes");
    snprintf(line, sizeof(line), "write alice x=%s", key32);
    assert_line_error(line, 15, "value");
    snprintf(line, sizeof(line), "read alice %s", key32);
    assert_line_error(line, 12, "is longer than 31 bytes");
    assert_line_error("write alice x!=1", 14, "'!' cannot be part of a key");
    assert_line_error("write alice x=", 15, "empty value");
}

Test(scenario_parse, write_without_equals_is_refused)
{
    assert_line_error("write alice x", 13, "expected KEY=VALUE (e.g. x=1), got 'x'");
    assert_line_error("write alice", 12, "expected KEY=VALUE");
    assert_line_error("write Alice x=1", 7, "expected a client name");
    assert_line_error("write leader x=1", 7, "'leader' is a keyword, not a client name");
    assert_line_error("write alice x=1 expect comitted", 24, "did you mean 'committed'?");
}

Test(scenario_parse, reads_of_a_client_never_seen_is_refused_with_a_hint)
{
    char *err = parse_bad("read alice x\nexpect reads of alcie fresh\n"
                          "expect write of zed x acked\n");
    assert_diag(err, 2, 17, "no client named 'alcie' so far; did you mean 'alice'?",
                "expect reads of alcie fresh");
    assert_diag(err, 3, 17, "no client named 'zed' so far (clients appear",
                "expect write of zed x acked");
    free(err);
    /* declared later is too late */
    err = parse_bad("expect reads of bob fresh\nread bob x\n");
    assert_diag(err, 1, 17, "no client named 'bob'", "expect reads of bob fresh");
    free(err);
}

Test(scenario_parse, at_cannot_be_nested)
{
    assert_line_error("at 1s at 2s heal", 7, "'at' cannot be nested");
    assert_line_error("at 1s", 6, "expected a command after 'at TIME'");
}

Test(scenario_parse, partition_with_one_group_is_refused)
{
    assert_line_error("partition {n1, n2}", 19,
                      "a partition needs at least two groups");
    assert_line_error("cut n1 n2", 8, "'->' (one way) or '<->' (both ways)");
}

Test(scenario_parse, heartbeat_must_be_shorter_than_the_election_minimum)
{
    char *err = parse_bad("heartbeat 150ms\n");
    cr_assert(strstr(err, NAME ": error: the heartbeat (150000 us) must be "
                          "shorter than the minimum election timeout "
                          "(150000 us)"),
              "%s", err);
    free(err);
    err = parse_bad("heartbeat 100ms\nelection 90ms..200ms\n");
    cr_assert(strstr(err, "(100000 us)") && strstr(err, "(90000 us)"), "%s", err);
    free(err);
    struct scn_program *p = parse_ok("heartbeat 149ms\n");
    cr_assert_eq(p->heartbeat_us, 149000);
    scn_free(p);
}

Test(scenario_parse, a_nul_byte_refuses_the_file)
{
    static const char text[] = "nodes 3\ncrash\0 n1\nheal\n";
    char *err = parse_bad_len(text, sizeof(text) - 1);
    cr_assert(strstr(err, NAME ":2: error: the file contains a NUL byte"),
              "%s", err);
    free(err);
}

Test(scenario_parse, more_than_20_errors_gives_up)
{
    char text[1024] = "";
    for (int k = 0; k < 30; k++)
        strcat(text, "bogus\n");
    char *err = parse_bad(text);
    cr_assert_eq(count(err, ": error: "), 20, "%s", err);
    cr_assert(strstr(err, NAME ":20:1: error: "), "%s", err);
    cr_assert(!strstr(err, NAME ":21:"), "stops at 20:\n%s", err);
    const char *g = strstr(err, NAME ": too many errors, giving up\n");
    cr_assert_not_null(g, "%s", err);
    cr_assert_eq(g[strlen(NAME ": too many errors, giving up\n")], 0,
                 "nothing after giving up:\n%s", err);
    free(err);
}

Test(scenario_parse, a_line_longer_than_4096_bytes_is_refused)
{
    /* exactly 4096 bytes is fine */
    char *text = malloc(8192);
    strcpy(text, "say \"");
    memset(text + 5, 'x', 4090);
    strcpy(text + 4095, "\"\n");
    cr_assert_eq(strlen(text), 4097);
    struct scn_program *p = parse_ok(text);
    cr_assert_eq(strlen(p->cmds[0].segs[0].text), 4090);
    scn_free(p);
    /* one more byte is not; the next line is still checked */
    strcpy(text, "say \"");
    memset(text + 5, 'x', 4091);
    strcpy(text + 4096, "\"\ncrsh\n");
    char *err = parse_bad(text);
    cr_assert(strstr(err, NAME ":1:4097: error: line longer than 4096 bytes"),
              "%.200s", err);
    assert_diag(err, 2, 1, "did you mean 'crash'?", "crsh");
    cr_assert_eq(count(err, ": error: "), 2);
    free(err);
    free(text);
}

Test(scenario_parse, several_errors_are_all_reported_one_per_line)
{
    char *err = parse_bad("nodes 3\n"
                          "crash n9 n8 n7\n"
                          "heal\n"
                          "wait 10\n"
                          "expect leeder is n1\n"
                          "say \"{L}\"\n");
    assert_diag(err, 2, 7, "no node n9", "crash n9 n8 n7");
    assert_diag(err, 4, 6, "has no unit", "wait 10");
    assert_diag(err, 5, 8, "did you mean 'leader'?", "expect leeder is n1");
    assert_diag(err, 6, 7, "variable L is not bound", "say \"{L}\"");
    cr_assert_eq(count(err, ": error: "), 4, "one per line:\n%s", err);
    cr_assert(!strstr(err, ":3:"), "heal is fine:\n%s", err);
    free(err);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

Test(scenario_parse, parse_file_on_a_missing_path_cannot_open)
{
    struct scn_program *p = (struct scn_program *)(uintptr_t)1;
    char *err = NULL;
    size_t err_len = 0;
    FILE *ef = open_memstream(&err, &err_len);
    int rc = scn_parse_file("/nonexistent/dir/nothing.scn", &p, ef);
    fclose(ef);
    cr_assert_eq(rc, -1);
    cr_assert_null(p);
    cr_assert(strstr(err, "/nonexistent/dir/nothing.scn: error: cannot open"),
              "%s", err);
    free(err);
}

Test(scenario_parse, every_shipped_scenario_parses)
{
    DIR *d = opendir("scenarios");
    cr_assert_not_null(d, "run from the top of the tree");
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".scn"))
            continue;
        char path[512];
        snprintf(path, sizeof(path), "scenarios/%s", de->d_name);
        struct scn_program *p = NULL;
        char *err = NULL;
        size_t err_len = 0;
        FILE *ef = open_memstream(&err, &err_len);
        int rc = scn_parse_file(path, &p, ef);
        fclose(ef);
        cr_assert_eq(rc, 0, "%s:\n%s", path, err);
        cr_assert_not_null(p);
        cr_assert_str_eq(p->file, path);
        cr_assert_gt(p->n_cmds, 0, "%s has commands", path);
        for (int k = 0; k < p->n_cmds; k++) {
            cr_assert_gt(p->cmds[k].line, 0);
            cr_assert_not_null(p->cmds[k].src);
            cr_assert_neq(p->cmds[k].src[0], 0);
            if (k)
                cr_assert_gt(p->cmds[k].line, p->cmds[k - 1].line);
        }
        scn_free(p);
        free(err);
        files++;
    }
    closedir(d);
    cr_assert_geq(files, 20, "only %d scenarios", files);
}

Test(scenario_parse, outcome_and_route_names_are_the_words_of_the_language)
{
    cr_assert_str_eq(scn_outcome_name(SCN_OUT_NONE), "none");
    cr_assert_str_eq(scn_outcome_name(SCN_OUT_ACKED), "acked");
    cr_assert_str_eq(scn_outcome_name(SCN_OUT_COMMITTED), "committed");
    cr_assert_str_eq(scn_outcome_name(SCN_OUT_REFUSED), "refused");
    cr_assert_str_eq(scn_outcome_name(SCN_OUT_TIMEOUT), "timeout");
    cr_assert_str_eq(scn_outcome_name(SCN_OUT_LOST), "lost");
    cr_assert_str_eq(scn_route_name(SCN_ROUTE_LEADER), "leader");
    cr_assert_str_eq(scn_route_name(SCN_ROUTE_ANY), "any");
    cr_assert_str_eq(scn_route_name(SCN_ROUTE_FOLLOWER), "follower");
    cr_assert_str_eq(scn_route_name(SCN_ROUTE_NODE), "node");
    cr_assert_str_eq(scn_route_name(SCN_ROUTE_MONOTONIC), "monotonic");
    cr_assert_str_eq(scn_route_name(SCN_ROUTE_RYW), "ryw");
    /* every outcome name parses back as itself */
    for (int o = SCN_OUT_ACKED; o <= SCN_OUT_LOST; o++) {
        char line[64];
        snprintf(line, sizeof(line), "write alice x=1 expect %s\n",
                 scn_outcome_name((enum scn_outcome)o));
        struct scn_program *p = parse_ok(line);
        cr_assert_eq(p->cmds[0].outcome, (enum scn_outcome)o);
        scn_free(p);
    }
}

/* ------------------------------------------------------------------ */
/* Regressions: bugs these tests found, now fixed                     */

/* Was a bug: after a route word, `from` keeps trying the later route words on the
 * following tokens, so `read alice x from leader ryw` is accepted with
 * route ryw (and `from any follower` with route follower) instead of
 * refusing the extra word. */
Test(scenario_parse, a_route_followed_by_another_route_is_refused)
{
    assert_line_error("read alice x from leader ryw", 26,
                      "unexpected 'ryw' at the end of the command");
}

/* Was a bug: a `link` may precede `nodes`; its node ids are checked against the
 * cluster size in force at that line (3 by default) and never rechecked,
 * so `link n3 -> n1 latency 5ms` then `nodes 2` is accepted with node 3 in
 * a 2-node cluster, breaking "every node id in range". */
Test(scenario_parse, a_link_before_nodes_cannot_name_a_node_out_of_range)
{
    char *err = parse_bad("link n3 -> n1 latency 5ms\nnodes 2\n");
    cr_assert(strstr(err, "'nodes' must come before any link"), "%s", err);
    free(err);
}

/* Was a bug: a line that fails before its command is known (an unknown command,
 * e.g. a misspelled set-up word) still counts as "the first action", so
 * every later set-up line gets a spurious "must come before the first
 * action (line N)" error pointing at the misspelled line. */
Test(scenario_parse, a_misspelled_setup_line_does_not_end_the_setup)
{
    char *err = parse_bad("nodes 3\nheartbaet 10ms\nelection 100ms..200ms\n");
    assert_diag(err, 2, 1, "did you mean 'heartbeat'?", "heartbaet 10ms");
    cr_assert_eq(count(err, ": error: "), 1, "one real error:\n%s", err);
    free(err);
}

/* Was a bug: the end-of-line token's column is taken after a trailing comment,
 * so a missing argument is reported past the comment: `crash   # who?`
 * gives column 15 instead of column 6 (right after `crash`, as for the
 * same line without the comment). */
Test(scenario_parse, a_missing_argument_is_reported_before_the_comment)
{
    assert_line_error("crash   # who?", 6, "expected a node");
}

/* Was a bug: columns inside a say text are counted on the unescaped text, so
 * each \" or \\ before a {…} moves the caret one column left:
 * `say "a \"q\" {n9}"` reports n9 at column 13 instead of 15. */
Test(scenario_parse, say_columns_count_escapes)
{
    assert_line_error("say \"a \\\"q\\\" {n9}\"", 15, "no node n9");
}

Test(scenario_parse, an_unknown_single_word_interpolation_lists_the_known_ones)
{
    assert_line_error("say \"{foo}\"", 7, "unknown {foo}: write {L}, {n2}");
}

Test(parse, leader_is_a_node_and_campaign_a_command)
{
    struct scn_program *p = parse_ok("nodes 3\n"
                                     "isolate leader\n"
                                     "isolate leader on commit\n"
                                     "cut leader -> {n1, n2}\n"
                                     "campaign n2\n"
                                     "campaign all except leader\n"
                                     "write alice x=1 via leader\n");
    cr_assert_eq(p->n_cmds, 6);
    const struct scn_cmd *c = p->cmds;
    cr_assert_eq(c[0].kind, SCN_ISOLATE);
    cr_assert_eq(c[0].trap, SCN_TRAP_NONE);
    cr_assert_eq(c[0].sets[0].n, 1);
    cr_assert_eq(c[0].sets[0].items[0].var, SCN_VAR_LEADER);
    cr_assert_eq(c[1].trap, SCN_TRAP_COMMIT);
    cr_assert_eq(c[2].sets[0].items[0].var, SCN_VAR_LEADER);
    cr_assert_eq(c[3].kind, SCN_CAMPAIGN);
    cr_assert_eq(c[3].sets[0].items[0].id, 2);
    cr_assert_eq(c[4].sets[0].except[0].var, SCN_VAR_LEADER);
    cr_assert_eq(c[5].via.var, -1, "via leader stays the route");
    scn_free(p);
    char *err = parse_bad("nodes 3\ncampaign n4\n");
    cr_assert(strstr(err, "no node n4"), "%s", err);
    free(err);
    err = parse_bad("nodes 3\ncampain n1\n");
    cr_assert(strstr(err, "did you mean 'campaign'"), "%s", err);
    free(err);
}
