/*
 * cli_explore.c — `raftsim explore`: many seeds of random faults against
 * a cluster (explore.c does the exploring), the reproduction line of the
 * first failing seed, the exact last line.
 * Exit: 0 no violation, 1 violations found, 2 bad usage, 130/143 when
 * SIGINT/SIGTERM stopped it (the figures of what ran are still printed).
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/auth.h"
#include "raft/raft.h"
#include "sim/cluster/explore.h"
#include "sim/cluster/explore_jobs.h"
#include "sim/cluster/explore_json.h"
#include "sim/util/util.h"

static const char *prog = "raftsim";

static void usage_explore(FILE *f)
{
    fprintf(
        f,
        "usage: %s explore [OPTIONS]\n\n"
        "Runs K seeds; each seed is DURATION of random faults and client "
        "writes\n"
        "against an N-node virtual-time cluster (by default each seed draws "
        "its own\n"
        "fault kinds, rates, write rate and election timeout: swarm "
        "testing), then\n"
        "every fault is healed: a majority must elect a leader and commit a "
        "write\n"
        "(the liveness phase), and the run goes on to 3 s after the faults.  "
        "The\n"
        "invariant checker runs after every event.  A failing seed is "
        "shrunk and\n"
        "saved as a scenario.  The last line is\n"
        "  explore: seeds=K violations=V acked_lost=A elections=E "
        "messages=M simulated_s=X wall_s=Y\n"
        "Exit status: 0 no violation, 1 violations found, 2 bad usage,\n"
        "130 (143) when Ctrl-C (SIGTERM) stopped it: the seeds that ran are "
        "summed up.\n\n"
        "options:\n"
        "  --nodes N             cluster size, 1..%d (default 5)\n"
        "  --seeds K             number of seeds to run (default 100)\n"
        "  --start-seed S        first seed (default 1)\n"
        "  --duration D          faulty part of each run (default 10s)\n"
        "  --settle D            healed tail of each run (default 3s)\n"
        "  --faults LIST         comma list of partition,crash,pause,drop,"
        "delay,dup,\n"
        "                        slow, or all or none (default all; dup and "
        "slow: swarm only)\n"
        "  --swarm on|off        on (default): each seed draws its own fault "
        "kinds,\n"
        "                        rates, write rate, election timeout and "
        "quiet spells;\n"
        "                        off: the same fixed mix for every seed\n"
        "  --snapshot-every K|swarm  every node snapshots every K applied "
        "entries and\n"
        "                        compacts its log (Raft §7); swarm: each "
        "seed draws\n"
        "                        its own policy (a quarter none, else 2-500); "
        "default 0: none\n"
        "  --membership swarm|off  swarm: half the seeds start with fewer "
        "voters and\n"
        "                        add, promote and remove servers one at a "
        "time\n"
        "                        (default off)\n"
        "  --transfer swarm|off  swarm: half the seeds ask the leader, now "
        "and then,\n"
        "                        to hand over to another voter (leadership "
        "transfer;\n"
        "                        default off)\n"
        "  --no-liveness         no liveness phase (default: after the "
        "faults, heal,\n"
        "                        keep a majority up; no leader or no commit "
        "is a\n"
        "                        Liveness violation)\n"
        "  --liveness-within D   the liveness bound (default 10 election "
        "timeouts)\n"
        "  --check-determinism   run every seed twice and compare trace "
        "hashes\n"
        "  --max-events N        end a seed after N events (default 20000 "
        "per node and\n"
        "                        simulated second): counted as over budget, "
        "exit 1\n"
        "  --ack MODE            async | quorum | sync (default quorum)\n"
        "  --election POLICY     highest-lsn | raft (default highest-lsn)\n"
        "  --no-prevote          disable PreVote\n"
        "  --no-checkquorum      disable CheckQuorum\n"
        "  --no-fast-detect      a crash's closed connections are no "
        "evidence: every\n"
        "                        failure waits out the election timeout\n"
        "  --unsafe RULE         break a rule on purpose: vote-any, "
        "commit-old-term,\n"
        "                        keep-conflicts, change-two-at-once "
        "(repeatable)\n"
        "  --heartbeat D         heartbeat interval (default 50ms)\n"
        "  --election-timeout D1-D2  randomized election timeout "
        "(default 150ms-300ms;\n"
        "                        swarm draws its minimum from 2/3 to 2 times "
        "D1)\n"
        "  --writes-per-s R      client write rate (default 100; swarm draws "
        "R/20 to 4R)\n"
        "  --transport T         memory: virtual time, deterministic "
        "(default);\n"
        "                        tcp: real time, nodes talk over loopback "
        "TCP\n"
        "  --time-scale F        tcp: stretch every duration by F (10 = ten "
        "times slower)\n"
        "  --trace FILE          write every event as JSON Lines (one "
        "\"run\" line per seed)\n"
        "  --save FILE           virtual time: write the first failing "
        "seed's schedule\n"
        "                        as a scenario file that `run` replays "
        "(default\n"
        "                        explore-seed%%llu.scn; %%llu becomes the "
        "seed)\n"
        "  --no-save             do not write that file\n"
        "  --no-shrink           save every event of the seed (default: "
        "shrink the\n"
        "                        schedule first, as `shrink` does, and save "
        "the\n"
        "                        smallest one that fails the same way)\n"
        "  --key FILE            tcp: the cluster's secret (16 to 4096 bytes, "
        "e.g.\n"
        "                        head -c 32 /dev/urandom > FILE); default: "
        "random per run\n"
        "  --jobs N              worker processes (default: one per core; "
        "1 with --trace\n"
        "                        or tcp); the figures do not depend on N\n"
        "  --shard I/N           run the I-th of N equal shares of the seeds "
        "(0 <= I < N);\n"
        "                        merge the shards' --json with explore-merge\n"
        "  --json                print the result as one JSON object on "
        "stdout instead\n"
        "                        of the last line (totals, first failure, "
        "parameters)\n"
        "  --history FILE        each seed's client writes as a Jepsen "
        "history (invoke,\n"
        "                        ok, fail, info) for Knossos, elle-cli or "
        "Porcupine;\n"
        "                        %%llu becomes the seed (needed for more "
        "than one seed)\n"
        "  --history-format F    edn or json (JSON Lines); default: by the "
        "extension\n"
        "                        (.edn: edn, else json)\n"
        "  --quiet               no progress line even on a terminal\n"
        "  -h, --help            this text\n\n"
        "examples:\n"
        "  %s explore --seeds 200 --quiet\n"
        "  %s explore --seeds 300 --quiet --unsafe vote-any --no-save\n"
        "  %s explore --nodes 3 --faults partition,crash --ack async "
        "--quiet\n"
        "  %s explore --seeds 400 --jobs 2 --quiet\n"
        "  %s explore --seeds 300 --shard 1/3 --json --no-save\n"
        "  %s explore --seeds 1 --start-seed 8 --history /tmp/history.edn\n",
        prog, RAFT_MAX_NODES, prog, prog, prog, prog, prog, prog);
}

/* explore_opts.shrink: the first failing seed's schedule, shrunk. */
static char *shrink_schedule(void *ctx, const char *name, const char *text,
                             size_t len, size_t *out_len)
{
    (void)ctx;
    if (util_stop_signal)
        return NULL; /* stopped: save the whole schedule, now */
    int rc;
    return cli_shrink_buf(prog, name, text, len, 0, false, out_len, &rc);
}

static int bad_value(const char *cmd, const char *opt, const char *val,
                     const char *why)
{
    return cli_bad_value(prog, cmd, opt, val, why);
}

enum {
    O_NODES = 256,
    O_SEEDS,
    O_START,
    O_DURATION,
    O_SETTLE,
    O_FAULTS,
    O_ACK,
    O_ELECTION,
    O_NOPREVOTE,
    O_NOFAST,
    O_NOCQ,
    O_UNSAFE,
    O_HEARTBEAT,
    O_ETIMEOUT,
    O_WRATE,
    O_TRACE,
    O_QUIET,
    O_TRANSPORT,
    O_TSCALE,
    O_SAVE,
    O_NOSAVE,
    O_KEY,
    O_JOBS,
    O_SHARD,
    O_JSON,
    O_HISTORY,
    O_HFORMAT,
    O_SWARM,
    O_NOLIVE,
    O_LIVEWITHIN,
    O_DETERMINISM,
    O_MAXEV,
    O_NOSHRINK,
    O_SNAPSHOT,
    O_MEMBERS,
    O_TRANSFER,
};

static const struct option explore_opts_long[] = {
    {"nodes", required_argument, 0, O_NODES},
    {"seeds", required_argument, 0, O_SEEDS},
    {"start-seed", required_argument, 0, O_START},
    {"duration", required_argument, 0, O_DURATION},
    {"settle", required_argument, 0, O_SETTLE},
    {"faults", required_argument, 0, O_FAULTS},
    {"ack", required_argument, 0, O_ACK},
    {"election", required_argument, 0, O_ELECTION},
    {"no-prevote", no_argument, 0, O_NOPREVOTE},
    {"no-fast-detect", no_argument, 0, O_NOFAST},
    {"no-checkquorum", no_argument, 0, O_NOCQ},
    {"unsafe", required_argument, 0, O_UNSAFE},
    {"heartbeat", required_argument, 0, O_HEARTBEAT},
    {"election-timeout", required_argument, 0, O_ETIMEOUT},
    {"writes-per-s", required_argument, 0, O_WRATE},
    {"trace", required_argument, 0, O_TRACE},
    {"quiet", no_argument, 0, O_QUIET},
    {"transport", required_argument, 0, O_TRANSPORT},
    {"time-scale", required_argument, 0, O_TSCALE},
    {"save", required_argument, 0, O_SAVE},
    {"no-save", no_argument, 0, O_NOSAVE},
    {"key", required_argument, 0, O_KEY},
    {"jobs", required_argument, 0, O_JOBS},
    {"shard", required_argument, 0, O_SHARD},
    {"json", no_argument, 0, O_JSON},
    {"history", required_argument, 0, O_HISTORY},
    {"history-format", required_argument, 0, O_HFORMAT},
    {"swarm", required_argument, 0, O_SWARM},
    {"snapshot-every", required_argument, 0, O_SNAPSHOT},
    {"membership", required_argument, 0, O_MEMBERS},
    {"transfer", required_argument, 0, O_TRANSFER},
    {"no-liveness", no_argument, 0, O_NOLIVE},
    {"liveness-within", required_argument, 0, O_LIVEWITHIN},
    {"check-determinism", no_argument, 0, O_DETERMINISM},
    {"max-events", required_argument, 0, O_MAXEV},
    {"no-shrink", no_argument, 0, O_NOSHRINK},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

int cli_explore(const char *prog_, int argc, char **argv)
{
    struct explore_opts o;
    explore_opts_default(&o);
    const char *trace_path = NULL, *err = NULL;
    bool quiet = false, json = false, jobs_given = false;
    const char *hformat = NULL;
    int jobs = 1;
    uint64_t shard_i = 0, shard_n = 1;
    o.scenario_out = "explore-seed%llu.scn";
    o.shrink = shrink_schedule;
    uint64_t u;
    prog = prog_;
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, "explore", argc, argv, "h",
                            explore_opts_long)) != -1) {
        const char *name = "";
        for (const struct option *x = explore_opts_long; x->name; x++)
            if (x->val == ch)
                name = x->name;
        switch (ch) {
        case O_NODES:
            if (util_parse_u64(optarg, &u) || u < 1 || u > RAFT_MAX_NODES)
                return bad_value("explore", name, optarg,
                                 "expected a node count from 1 to 256");
            o.nodes = (int)u;
            break;
        case O_SEEDS:
            if (util_parse_u64(optarg, &u) || u < 1 || u > 100000000)
                return bad_value("explore", name, optarg,
                                 "expected a positive number of seeds");
            o.seeds = u;
            break;
        case O_START:
            if (util_parse_u64(optarg, &u))
                return bad_value("explore", name, optarg,
                                 "expected a non-negative integer");
            o.start_seed = u;
            break;
        case O_DURATION:
        case O_SETTLE:
        case O_HEARTBEAT:
            if (util_parse_duration_us(optarg, &u, &err))
                return bad_value("explore", name, optarg, err);
            if (u == 0 && ch != O_SETTLE)
                return bad_value("explore", name, optarg,
                                 "must be greater than zero");
            if (u > 3600000000ull)
                return bad_value("explore", name, optarg,
                                 "at most one hour");
            if (ch == O_DURATION)
                o.duration_us = u;
            else if (ch == O_SETTLE)
                o.settle_us = u;
            else
                o.heartbeat_us = u;
            break;
        case O_ETIMEOUT: {
            char buf[64];
            snprintf(buf, sizeof(buf), "%s", optarg);
            char *dash = strchr(buf, '-');
            uint64_t lo, hi;
            if (!dash)
                return bad_value("explore", name, optarg,
                                 "expected MIN-MAX, e.g. 150ms-300ms");
            *dash = '\0';
            if (util_parse_duration_us(buf, &lo, &err) ||
                util_parse_duration_us(dash + 1, &hi, &err))
                return bad_value("explore", name, optarg, err);
            if (lo == 0 || hi < lo)
                return bad_value("explore", name, optarg,
                                 "need 0 < MIN <= MAX");
            o.election_min_us = lo;
            o.election_max_us = hi;
            break;
        }
        case O_FAULTS: {
            const char *bad = NULL;
            if (explore_parse_faults(optarg, &o.faults, &bad)) {
                char why[128];
                snprintf(why, sizeof(why),
                         "unknown fault '%s' (known: partition, crash, "
                         "pause, drop, delay, dup, slow, all, none)",
                         bad);
                return bad_value("explore", name, optarg, why);
            }
            break;
        }
        case O_ACK:
            if (raft_ack_mode_parse(optarg, &o.ack))
                return bad_value("explore", name, optarg,
                                 "expected async, quorum or sync");
            break;
        case O_ELECTION:
            if (raft_policy_parse(optarg, &o.policy))
                return bad_value("explore", name, optarg,
                                 "expected highest-lsn or raft");
            break;
        case O_NOPREVOTE:
            o.prevote = false;
            break;
        case O_NOFAST:
            o.fast_detect = false;
            break;
        case O_NOCQ:
            o.checkquorum = false;
            break;
        case O_UNSAFE: {
            unsigned bit;
            if (raft_unsafe_parse(optarg, &bit))
                return bad_value("explore", name, optarg,
                                 "expected vote-any, commit-old-term, "
                                 "keep-conflicts or change-two-at-once");
            o.unsafe |= bit;
            break;
        }
        case O_WRATE: {
            double r;
            if (util_parse_double(optarg, &r) || r < 0 || r > 100000)
                return bad_value("explore", name, optarg,
                                 "expected writes per second, 0 to 100000");
            o.writes_per_s = r;
            break;
        }
        case O_TRACE:
            trace_path = optarg;
            break;
        case O_TRANSPORT:
            if (!strcmp(optarg, "memory"))
                o.transport = SIM_TRANSPORT_MEMORY;
            else if (!strcmp(optarg, "tcp"))
                o.transport = SIM_TRANSPORT_TCP;
            else
                return bad_value("explore", name, optarg,
                                 "expected memory or tcp");
            break;
        case O_SAVE:
            o.scenario_out = optarg;
            break;
        case O_NOSAVE:
            o.scenario_out = NULL;
            break;
        case O_KEY: {
            static unsigned char key[NET_KEY_MAX];
            char why[512];
            if (net_key_load(optarg, key, &o.key_len, why, sizeof(why)) != 0) {
                fprintf(stderr, "%s explore: %s\n", prog, why);
                return 2;
            }
            o.key = key;
            break;
        }
        case O_TSCALE: {
            double f;
            if (util_parse_double(optarg, &f) || f < 0.1 || f > 1000)
                return bad_value("explore", name, optarg,
                                 "expected a factor from 0.1 to 1000");
            o.time_scale = f;
            break;
        }
        case O_JOBS:
            if (util_parse_u64(optarg, &u) || u < 1 || u > 1024)
                return bad_value("explore", name, optarg,
                                 "expected a number of processes, 1 to 1024");
            jobs = (int)u;
            jobs_given = true;
            break;
        case O_SHARD: {
            char buf[64];
            snprintf(buf, sizeof(buf), "%s", optarg);
            char *slash = strchr(buf, '/');
            if (slash)
                *slash = '\0';
            if (!slash || util_parse_u64(buf, &shard_i) ||
                util_parse_u64(slash + 1, &shard_n) || shard_n < 1 ||
                shard_n > 1000000 || shard_i >= shard_n)
                return bad_value("explore", name, optarg,
                                 "expected I/N with 0 <= I < N <= 1000000, "
                                 "e.g. 0/4");
            break;
        }
        case O_JSON:
            json = true;
            break;
        case O_HISTORY:
            o.history = optarg;
            break;
        case O_HFORMAT:
            if (strcmp(optarg, "edn") && strcmp(optarg, "json"))
                return bad_value("explore", name, optarg,
                                 "expected edn or json");
            hformat = optarg;
            break;
        case O_QUIET:
            quiet = true;
            break;
        case O_SNAPSHOT:
            if (!strcmp(optarg, "swarm")) {
                o.snapshot_every = EXPLORE_SNAP_SWARM;
            } else {
                uint64_t k;
                if (util_parse_u64(optarg, &k) || k > 100000000)
                    return bad_value("explore", name, optarg,
                                     "expected swarm or 0 to 100000000 "
                                     "entries");
                o.snapshot_every = k;
            }
            break;
        case O_MEMBERS:
        case O_TRANSFER: {
            bool *b = ch == O_MEMBERS ? &o.membership_swarm : &o.transfer_swarm;
            if (!strcmp(optarg, "swarm"))
                *b = true;
            else if (!strcmp(optarg, "off"))
                *b = false;
            else
                return bad_value("explore", name, optarg,
                                 "expected swarm or off");
            break;
        }
        case O_SWARM:
            if (!strcmp(optarg, "on"))
                o.swarm = true;
            else if (!strcmp(optarg, "off"))
                o.swarm = false;
            else
                return bad_value("explore", name, optarg,
                                 "expected on or off");
            break;
        case O_NOLIVE:
            o.liveness = false;
            break;
        case O_LIVEWITHIN:
            if (util_parse_duration_us(optarg, &u, &err))
                return bad_value("explore", name, optarg, err);
            if (u == 0 || u > 3600000000ull)
                return bad_value("explore", name, optarg,
                                 "expected more than zero, at most one hour");
            o.liveness_us = u;
            break;
        case O_DETERMINISM:
            o.check_determinism = true;
            break;
        case O_MAXEV:
            if (util_parse_u64(optarg, &u) || u < 1000 || u > 1000000000000ull)
                return bad_value("explore", name, optarg,
                                 "expected a number of events, 1000 to "
                                 "10^12");
            o.max_events = u;
            break;
        case O_NOSHRINK:
            o.shrink = NULL;
            break;
        case 'h':
            usage_explore(stdout);
            return 0;
        default: /* CLI_OPT_BAD: cli_getopt said what was wrong */
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, "explore", argv[optind]);
    if (o.key && o.transport != SIM_TRANSPORT_TCP) {
        fprintf(stderr, "%s explore: --key needs --transport tcp\n", prog);
        return 2;
    }
    if (o.transport == SIM_TRANSPORT_TCP) {
        char why[512];
        if (sim_wire_check_fds(o.nodes, why, sizeof(why)) != 0) {
            fprintf(stderr, "%s explore: %s\n", prog, why);
            return 2;
        }
    }
    if (o.heartbeat_us >= o.election_min_us) {
        fprintf(stderr,
                "%s explore: the heartbeat (%lluus) must be shorter than the "
                "minimum election timeout (%lluus)\n",
                prog, (unsigned long long)o.heartbeat_us,
                (unsigned long long)o.election_min_us);
        return 2;
    }
    struct util_out trace = {0};
    char why[PATH_MAX + 128];
    /* A --save target that can never be written is refused now, not
     * after the seeds have run. */
    if (o.scenario_out && !strstr(o.scenario_out, "%llu") &&
        util_out_check(o.scenario_out, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s explore: cannot save the schedule: %s\n", prog,
                why);
        return 2;
    }
    if (jobs > 1 && trace_path) {
        fprintf(stderr, "%s explore: --trace needs --jobs 1 (every seed's "
                        "events go into the one file, in seed order)\n",
                prog);
        return 2;
    }
    if (trace_path) {
        if (util_out_open(&trace, trace_path, why, sizeof(why)) != 0) {
            fprintf(stderr, "%s explore: cannot write trace: %s\n", prog,
                    why);
            return 2;
        }
        o.trace = trace.f;
    }
    if (!quiet && isatty(STDERR_FILENO))
        o.progress = stderr;
    if (!jobs_given)
        jobs = trace_path || o.transport == SIM_TRANSPORT_TCP ? 1
                                                              : explore_cores();
    if (o.history) {
        size_t hl = strlen(o.history);
        o.history_edn = hformat ? !strcmp(hformat, "edn")
                                : hl >= 4 && !strcmp(o.history + hl - 4, ".edn");
        if (!strstr(o.history, "%llu") && o.seeds > 1) {
            fprintf(stderr, "%s explore: --history %s holds one seed's "
                            "history; with --seeds %llu put %%llu in the "
                            "name (it becomes the seed)\n",
                    prog, o.history, (unsigned long long)o.seeds);
            return 2;
        }
        if (!strstr(o.history, "%llu") &&
            util_out_check(o.history, why, sizeof(why)) != 0) {
            fprintf(stderr, "%s explore: cannot write the history: %s\n",
                    prog, why);
            return 2;
        }
    } else if (hformat) {
        fprintf(stderr, "%s explore: --history-format needs --history\n",
                prog);
        return 2;
    }
    uint64_t range_start = o.start_seed, range_seeds = o.seeds;
    if (o.start_seed > UINT64_MAX - o.seeds) {
        fprintf(stderr, "%s explore: --start-seed + --seeds is past the "
                        "largest seed\n", prog);
        return 2;
    }
    explore_shard_range(range_start, range_seeds, shard_i, shard_n,
                        &o.start_seed, &o.seeds);
    util_stop_on_signals();
    struct explore_batch b;
    explore_run_jobs(&o, jobs, &b);
    b.range_start = range_start;
    b.range_seeds = range_seeds;
    b.shard_index = shard_i;
    b.shard_count = shard_n;
    struct explore_result r = b.r;
    FILE *info = json ? stderr : stdout; /* stdout is the JSON's */
    int rc = r.interrupted                      ? cli_interrupted_status()
             : r.violations || r.over_budget ? 1
                                             : 0;
    if (trace.f && util_out_commit(&trace, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s explore: trace lost: %s\n", prog, why);
        return 2;
    }
    if (r.save_failed)
        return 2;
    if (b.worker_deaths) {
        fprintf(stderr, "%s explore: %llu worker(s) died", prog,
                (unsigned long long)b.worker_deaths);
        if (b.dead_signal)
            fprintf(stderr, " (the first of signal %d)", b.dead_signal);
        if (b.dead_seed) {
            fprintf(stderr, " in seed %llu, which is not in the figures; "
                            "run it alone: ", (unsigned long long)b.dead_seed);
            cli_explore_repro(stderr, prog, &o, b.dead_seed);
            fprintf(stderr, " --jobs 1");
        }
        fprintf(stderr, "\n");
        rc = 2;
    }
    if (r.transport_errors) {
        fprintf(stderr, "%s explore: %llu transport error(s) stopped nodes "
                        "from working; the first: %s\n",
                prog, (unsigned long long)r.transport_errors,
                r.first_transport_error);
        rc = 2;
    }
    if (r.setup_failures) {
        fprintf(stderr, "%s explore: %llu seed(s) could not set up their "
                        "TCP listeners\n",
                prog, (unsigned long long)r.setup_failures);
        rc = 2;
    }
    if (r.liveness_failures && rc != 2)
        fprintf(info, "explore: %llu seed(s) failed the liveness phase\n",
                (unsigned long long)r.liveness_failures);
    if (r.nondeterministic && rc != 2)
        fprintf(info, "explore: %llu seed(s) ran differently the second "
                      "time (--check-determinism)\n",
                (unsigned long long)r.nondeterministic);
    if (r.over_budget && rc != 2)
        fprintf(info, "explore: %llu seed(s) stopped at the event budget "
                      "(--max-events) before their end, neither passed nor "
                      "failed; the first: seed %llu\n",
                (unsigned long long)r.over_budget,
                (unsigned long long)r.first_over_budget);
    if (r.no_leader_at_end && rc != 2)
        fprintf(info, "explore: %llu seed(s) ended without exactly one leader "
                      "after settling\n",
                (unsigned long long)r.no_leader_at_end);
    char *repro = NULL;
    if (r.have_first && rc != 2) {
        fflush(stdout);
        cli_explore_print_first(prog, &o, &r);
        if (r.scenario[0])
            fprintf(stderr,
                    "explore: the failing schedule, as a scenario: %s run %s\n",
                    prog, r.scenario);
        if (r.replay_differs)
            fprintf(stderr, "explore: warning: seed %llu did not fail the "
                            "same way when run again to save it; the run is "
                            "not deterministic (a simulator bug)\n",
                    (unsigned long long)r.first_seed);
        size_t len = 0;
        FILE *m = open_memstream(&repro, &len);
        if (m) {
            cli_explore_repro(m, prog, &o, r.first_seed);
            fclose(m);
        }
    }
    if (r.interrupted && rc != 2)
        fprintf(info, "explore: interrupted at t=%.3f s (%s) in seed %llu; "
                      "the figures below are the %llu seed(s) that ran\n",
                (double)r.last_end_us / 1e6,
                o.transport == SIM_TRANSPORT_TCP ? "real" : "virtual",
                (unsigned long long)r.last_seed, (unsigned long long)r.seeds);
    if (json) {
        char *text = explore_batch_to_json(
            explore_params_json(&o, range_start, range_seeds), &b, repro);
        if (!text) {
            fprintf(stderr, "%s explore: out of memory\n", prog);
            rc = 2;
        } else {
            printf("%s\n", text);
            free(text);
        }
    } else {
        explore_print_summary(stdout, &r);
    }
    free(repro);
    return rc;
}
