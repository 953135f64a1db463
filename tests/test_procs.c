/*
 * test_procs.c — one OS process per node (sim/cluster/cluster_procs.c,
 * sim/node): the control channel's records (net/ctl.c), then a 3-node
 * cluster of `build/raftsim node` processes through the sim API: a
 * leader is elected and a write committed; the leader's crash is a real
 * SIGKILL (its process is gone) and another node leads; the restarted
 * node is a new process that comes back with its log (it was handed its
 * previous life's inputs) and catches up; freeing the cluster leaves no
 * process behind; membership changes reach the processes (the control
 * record of a configuration, a cluster started with one).  Every wait
 * is bounded (core time = wall time).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "net/ctl.h"
#include "raft/wal.h"
#include "sim/cluster/cluster.h"

Test(ctl, record_round_trip)
{
    struct net_buf b = {0};
    struct ctl_rec r = {.type = CTL_R_PROPOSE, .flag = 1, .a = 42,
                        .t_us = 123456789, .b = 7, .payload = "k\0v",
                        .plen = 3};
    cr_assert_eq(ctl_encode(&b, &r), 0);
    struct net_reader rd;
    net_reader_init(&rd, CTL_REC_MAX);
    cr_assert_eq(net_reader_feed(&rd, b.data, b.len), NET_OK);
    const char *body;
    size_t len;
    char err[64];
    cr_assert_eq(net_reader_peek(&rd, &body, &len, err, sizeof(err)), NET_OK);
    struct ctl_rec got;
    cr_assert_eq(ctl_parse(body, len, &got), 0);
    cr_assert_eq(got.type, CTL_R_PROPOSE);
    cr_assert_eq(got.flag, 1);
    cr_assert_eq(got.a, 42);
    cr_assert_eq(got.t_us, 123456789);
    cr_assert_eq(got.b, 7);
    cr_assert_eq(got.plen, 3);
    cr_assert_eq(memcmp(got.payload, "k\0v", 3), 0);
    /* a body shorter than the header is refused, not read past */
    cr_assert_eq(ctl_parse(body, 5, &got), NET_EPROTO);
    net_reader_free(&rd);
    net_buf_free(&b);
}

static bool alive(int pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

/* Run until write w has an outcome, at most within_us. */
static enum sim_outcome settle(struct sim_cluster *c, int w, uint64_t within)
{
    uint64_t end = sim_now(c) + within;
    while (sim_now(c) < end && sim_get_write(c, w)->outcome == SIM_PENDING)
        sim_run_until(c, sim_now(c) + 10000);
    return sim_get_write(c, w)->outcome;
}

/* The raftsim beside this test binary (build/ or build/asan/). */
static const char *raftsim_exe(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);
    if (n <= 0)
        return "build/raftsim";
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    strcpy(slash ? slash + 1 : path, "raftsim");
    return path;
}

Test(procs, sigkill_failover_restart, .timeout = 60)
{
    const char *exe = raftsim_exe();
    cr_assert(access(exe, X_OK) == 0,
              "%s must be built (make builds it first)", exe);
    struct sim_options o;
    sim_options_default(&o, 3);
    o.transport = SIM_TRANSPORT_PROCS;
    o.node_exe = exe;
    o.seed = 5;
    o.link.latency_us = o.link.jitter_us = 0;
    o.client_latency_us = 0;
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    int pids[4];
    for (int i = 1; i <= 3; i++) {
        pids[i] = sim_node_pid(c, i);
        cr_assert(alive(pids[i]), "n%d has a process", i);
        cr_assert_neq(pids[i], getpid());
        cr_assert_gt(sim_wire_port(c, i), 0);
    }
    int l = sim_await_leader(c, 5000000);
    cr_assert_gt(l, 0, "a leader within 5 s");
    int w = sim_client_write(c, 1, l, "a", "1");
    cr_assert_eq(settle(c, w, 3000000), SIM_ACKED);
    uint64_t lsn = sim_get_write(c, w)->lsn;

    sim_crash(c, l, false);
    cr_assert_eq(sim_node_pid(c, l), 0);
    cr_assert(!alive(pids[l]), "the crash killed n%d's process", l);
    cr_assert(!sim_is_up(c, l));
    int l2 = sim_await_leader(c, 5000000);
    cr_assert_gt(l2, 0);
    cr_assert_neq(l2, l);
    int w2 = sim_client_write(c, 1, l2, "b", "2");
    cr_assert_eq(settle(c, w2, 3000000), SIM_ACKED);

    sim_restart(c, l);
    int pid = sim_node_pid(c, l);
    cr_assert(alive(pid) && pid != pids[l], "a new process for n%d", l);
    /* it kept its log across the SIGKILL, and catches up */
    cr_assert_geq(wal_last_lsn(raft_wal(sim_node(c, l))), lsn);
    uint64_t want = sim_get_write(c, w2)->lsn, end = sim_now(c) + 3000000;
    while (sim_now(c) < end && raft_commit_lsn(sim_node(c, l)) < want)
        sim_run_until(c, sim_now(c) + 10000);
    cr_assert_geq(raft_commit_lsn(sim_node(c, l)), want);
    cr_assert_eq(sim_violations(c), 0);
    char why[320];
    cr_assert_eq(sim_transport_errors(c, why, sizeof(why)), 0, "%s", why);
    int last[4];
    for (int i = 1; i <= 3; i++)
        last[i] = sim_node_pid(c, i);
    sim_cluster_free(c);
    for (int i = 1; i <= 3; i++)
        cr_assert(!alive(last[i]), "n%d's process is gone with the cluster",
                  i);
}

/* A configuration change's record: the configuration's text both ways,
 * and a payload that is none refused. */
Test(ctl, members_record_round_trip)
{
    struct raft_membership m;
    memset(&m, 0, sizeof(m));
    raft_nodeset_add(&m.voters, 1);
    raft_nodeset_add(&m.voters, 2);
    raft_nodeset_add(&m.voters, 3);
    raft_nodeset_add(&m.learners, 5);
    char text[8 * RAFT_MAX_NODES + 32];
    struct ctl_rec r;
    cr_assert_eq(ctl_members_rec(&r, CTL_C_MEMBERS, &m, text, sizeof(text)),
                 0);
    r.a = 9;
    cr_assert_eq(r.plen, strlen("voters=1,2,3 learners=5"));
    cr_assert_eq(memcmp(r.payload, "voters=1,2,3 learners=5", r.plen), 0);
    struct net_buf b = {0};
    cr_assert_eq(ctl_encode(&b, &r), 0);
    struct ctl_rec got;
    cr_assert_eq(ctl_parse(b.data + 4, b.len - 4, &got), 0);
    cr_assert_eq(got.type, CTL_C_MEMBERS);
    cr_assert_eq(got.a, 9);
    struct raft_membership back;
    cr_assert_eq(ctl_members_parse(&got, 5, &back), 0);
    cr_assert_eq(memcmp(&back, &m, sizeof(m)), 0);
    /* the node's report of it reads the same */
    got.type = CTL_R_MEMBERS;
    cr_assert_eq(ctl_members_parse(&got, 5, &back), 0);
    cr_assert_eq(memcmp(&back, &m, sizeof(m)), 0);
    /* n5 does not exist in a cluster of 4; no record of another type is
     * a configuration; nor is a text without voters */
    cr_assert_eq(ctl_members_parse(&got, 4, &back), -1);
    got.type = CTL_R_PROPOSE;
    cr_assert_eq(ctl_members_parse(&got, 5, &back), -1);
    struct ctl_rec empty = {.type = CTL_R_MEMBERS,
                            .payload = "voters= learners=5",
                            .plen = 18};
    cr_assert_eq(ctl_members_parse(&empty, 5, &back), -1);
    /* too small a buffer: no record rather than a cut text */
    cr_assert_eq(ctl_members_rec(&r, CTL_C_MEMBERS, &m, text, 8), -1);
    net_buf_free(&b);
}

static void run_for(struct sim_cluster *c, uint64_t us)
{
    uint64_t end = sim_now(c) + us;
    while (sim_now(c) < end)
        sim_run_until(c, sim_now(c) + 10000);
}

/* Wait (bounded) until node id has committed lsn. */
static bool commits(struct sim_cluster *c, int id, uint64_t lsn,
                    uint64_t within)
{
    uint64_t end = sim_now(c) + within;
    while (sim_now(c) < end && raft_commit_lsn(sim_node(c, id)) < lsn)
        sim_run_until(c, sim_now(c) + 10000);
    return raft_commit_lsn(sim_node(c, id)) >= lsn;
}

/* Membership under processes: 5 node processes, the initial
 * configuration voters {n1,n2,n3} and learner n5, n4 outside it.  n5's
 * process gets the log from the start (the leader's process knew it as
 * a learner), n4's none until it is added; added as
 * a learner, its own process receives the log (its shadow only moves on
 * what n4's process reported receiving); promoted; then the leader
 * removes itself, steps down once that commits, and its process (kept)
 * is sent nothing more while a new leader commits. */
Test(procs, membership_changes, .timeout = 90)
{
    const char *exe = raftsim_exe();
    cr_assert(access(exe, X_OK) == 0,
              "%s must be built (make builds it first)", exe);
    struct sim_options o;
    sim_options_default(&o, 5);
    o.transport = SIM_TRANSPORT_PROCS;
    o.node_exe = exe;
    o.seed = 7;
    o.link.latency_us = o.link.jitter_us = 0;
    o.client_latency_us = 0;
    for (int i = 1; i <= 3; i++)
        raft_nodeset_add(&o.members.voters, i);
    raft_nodeset_add(&o.members.learners, 5);
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0,
                 "node processes start with a configuration");
    for (int i = 1; i <= 5; i++)
        cr_assert(alive(sim_node_pid(c, i)), "n%d has a process", i);
    int l = sim_await_leader(c, 5000000);
    cr_assert(l >= 1 && l <= 3, "a leader among the voters within 5 s: %d",
              l);
    int w = sim_client_write(c, 1, l, "a", "1");
    cr_assert_eq(settle(c, w, 3000000), SIM_ACKED);
    cr_assert(commits(c, 5, sim_get_write(c, w)->lsn, 3000000),
              "n5's process, an initial learner, got the log");
    run_for(c, 200000);
    cr_assert_eq(wal_last_lsn(raft_wal(sim_node(c, 4))), 0,
                 "n4 is outside the configuration: no log");
    cr_assert_neq(raft_role(sim_node(c, 4)), RAFT_LEADER);
    cr_assert_neq(raft_role(sim_node(c, 5)), RAFT_LEADER);

    struct raft_membership to = *raft_membership_get(sim_node(c, l), NULL);
    raft_nodeset_add(&to.learners, 4);
    uint64_t lsn = 0;
    cr_assert_eq(sim_propose_membership(c, l, &to, &lsn), RAFT_OK);
    cr_assert_gt(lsn, 0);
    cr_assert(commits(c, 4, lsn, 3000000),
              "n4's process got the log as a learner (commit %llu < %llu)",
              (unsigned long long)raft_commit_lsn(sim_node(c, 4)),
              (unsigned long long)lsn);
    cr_assert(raft_nodeset_has(
        &raft_membership_get(sim_node(c, 4), NULL)->learners, 4));
    /* promoted: the result is the process's own (its shadow's) */
    to.learners.bits[0] &= ~(UINT64_C(1) << 4);
    raft_nodeset_add(&to.voters, 4);
    uint64_t lsn2 = 0;
    cr_assert_eq(sim_propose_membership(c, l, &to, &lsn2), RAFT_OK);
    cr_assert_gt(lsn2, lsn);
    cr_assert(commits(c, l, lsn2, 3000000));

    /* the leader removes itself */
    to.voters.bits[0] &= ~(UINT64_C(1) << l);
    uint64_t lsn3 = 0;
    cr_assert_eq(sim_propose_membership(c, l, &to, &lsn3), RAFT_OK);
    uint64_t end = sim_now(c) + 3000000;
    while (sim_now(c) < end && raft_role(sim_node(c, l)) == RAFT_LEADER)
        sim_run_until(c, sim_now(c) + 10000);
    cr_assert_neq(raft_role(sim_node(c, l)), RAFT_LEADER,
                  "n%d stepped down after its removal committed", l);
    cr_assert_geq(raft_commit_lsn(sim_node(c, l)), lsn3);
    int pid_l = sim_node_pid(c, l);
    cr_assert(alive(pid_l), "the removed node's process is kept");
    int m = 0;
    end = sim_now(c) + 5000000;
    while (sim_now(c) < end && (m == 0 || m == l)) {
        sim_run_until(c, sim_now(c) + 10000);
        int ids[RAFT_MAX_NODES];
        m = sim_leaders(c, ids) == 1 ? ids[0] : 0;
    }
    cr_assert(m != 0 && m != l, "a new leader among the voters left: %d", m);
    uint64_t l_last = wal_last_lsn(raft_wal(sim_node(c, l)));
    /* a write the voters left commit: sent to whoever leads now, again
     * (at most 5 times, 3 s each) when a loaded machine moved the
     * leadership before it committed */
    int w2 = -1;
    enum sim_outcome out2 = SIM_PENDING;
    for (int k = 0; k < 5 && out2 != SIM_ACKED; k++) {
        int ids[RAFT_MAX_NODES];
        for (int j = 0; j < 300 && sim_leaders(c, ids) != 1; j++)
            sim_run_until(c, sim_now(c) + 10000);
        if (sim_leaders(c, ids) != 1 || ids[0] == l)
            continue;
        w2 = sim_client_write(c, 1, ids[0], "b", "2");
        out2 = settle(c, w2, 3000000);
    }
    cr_assert_eq(out2, SIM_ACKED, "a write committed by the voters left");
    run_for(c, 300000);
    cr_assert_eq(wal_last_lsn(raft_wal(sim_node(c, l))), l_last,
                 "nothing is replicated to the removed n%d", l);
    cr_assert_lt(l_last, sim_get_write(c, w2)->lsn);
    cr_assert_eq(sim_violations(c), 0);
    char why[320];
    cr_assert_eq(sim_transport_errors(c, why, sizeof(why)), 0, "%s", why);
    sim_cluster_free(c);
    cr_assert(!alive(pid_l));
}

/* The core's refusal comes back from the process too: a leader cut off
 * from its followers cannot commit the change it proposed, so the next
 * one is RAFT_EBUSY (one change at a time), as under the other clocks. */
Test(procs, membership_busy_while_uncommitted, .timeout = 60)
{
    const char *exe = raftsim_exe();
    cr_assert(access(exe, X_OK) == 0,
              "%s must be built (make builds it first)", exe);
    struct sim_options o;
    sim_options_default(&o, 4);
    o.transport = SIM_TRANSPORT_PROCS;
    o.node_exe = exe;
    o.seed = 3;
    o.link.latency_us = o.link.jitter_us = 0;
    o.client_latency_us = 0;
    for (int i = 1; i <= 3; i++)
        raft_nodeset_add(&o.members.voters, i);
    struct sim_cluster *c;
    cr_assert_eq(sim_cluster_new(&o, &c), 0);
    int l = sim_await_leader(c, 5000000);
    cr_assert(l >= 1 && l <= 3, "a leader among the voters: %d", l);
    int w = sim_client_write(c, 1, l, "a", "1");
    cr_assert_eq(settle(c, w, 3000000), SIM_ACKED);
    int group[5] = {0};
    group[l] = 1;
    sim_partition(c, group);
    struct raft_membership to = *raft_membership_get(sim_node(c, l), NULL);
    raft_nodeset_add(&to.learners, 4);
    uint64_t lsn = 0;
    cr_assert_eq(sim_propose_membership(c, l, &to, &lsn), RAFT_OK);
    to.learners.bits[0] &= ~(UINT64_C(1) << 4);
    raft_nodeset_add(&to.voters, 4);
    uint64_t lsn2 = 0;
    cr_assert_eq(sim_propose_membership(c, l, &to, &lsn2), RAFT_EBUSY);
    cr_assert_eq(lsn2, 0);
    cr_assert_lt(raft_commit_lsn(sim_node(c, l)), lsn);
    sim_cluster_free(c);
}
