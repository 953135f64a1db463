/*
 * scenario.h — scenario files: a line-oriented language for fault
 * timelines with client traffic, waits, expectations and narration.
 *
 * The parser (scenario_parse.c) turns a file into a checked program: every
 * name resolved, every node id in range, every variable bound before use,
 * every duration and number in bounds.  A file that parses runs; a file
 * that does not is refused whole, with file:line:col messages.  The runner
 * (runner.c) executes the program against a sim_cluster in virtual
 * or real (TCP) time and narrates what happens.
 *
 * The language (README, "Scenario language"), one command per line,
 * `#` starts a comment, durations carry a unit (us, ms, s):
 *
 *   setup     nodes N | heartbeat D | election D..D | ack async|quorum|sync
 *             | policy highest-lsn|raft | prevote on|off | checkquorum on|off
 *             | fast-detect on|off
 *             | unsafe RULE[,RULE] | seed N | disk D | client-timeout D
 *             | client-latency D | clients NAME... | clock virtual
 *             | mirror NODE=SERVER... [replication off] [fence remote|self]
 *               [watch on|off]
 *             | mirror-control "TEMPLATE"
 *             | members SET   (the initial voters; the other nodes exist
 *               outside the configuration until added)
 *   links     link SET ->|<-> SET [latency D] [jitter D] [drop P] [dup P]
 *             | link SET ->|<-> SET reset
 *   life      start [SET] | crash SET [lose-unflushed] [silent] | restart SET
 *             | pause SET | resume SET | campaign SET
 *             | transfer leader to NODE   (or transfer NODE to NODE)
 *   members   add NODE [as learner] | add NODE NODE (unsafe
 *             change-two-at-once) | promote NODE | remove NODE
 *   network   partition SET SET... | partition ring | partition bridge NODE
 *             | isolate SET | cut SET ->|<-> SET | heal [SET ->|<-> SET]
 *             | isolate leader on append|commit | isolate leader off
 *   names     let VAR... = SET | let VAR = term|lsn|commit|applied of NODE
 *             | mark NAME
 *   clients   write CLIENT KEY=VALUE [via NODE|leader | on pg SERVER]
 *             [expect [not] OUTCOME[|OUTCOME...]] [within D]
 *             read CLIENT KEY [from ROUTE] [expect VALUE|fresh|stale|missing]
 *   time      wait D | at T COMMAND
 *             | await leader [in SET] [as VAR] [within D]
 *             | await follower NODE [within D]
 *             | await committed KEY [on NODE] [within D]
 *             | await caught-up NODE [within D]
 *             | await write of CLIENT KEY [within D]
 *             | await lsn N on NODE [within D]
 *   checks    expect ...   (see enum scn_expect_kind)
 *   class     say "text {VAR} {term NODE}" | step | show status [--wal]
 *
 * NODE is n1..nN or a variable (an identifier starting with an upper-case
 * letter, bound by `as` or `let`), or `leader`: the leader when the line
 * runs.  SET is NODE, {NODE,NODE,...}, all, or
 * rest (every node not named elsewhere on the line), optionally followed
 * by `except SET`.  CLIENT is any other
 * lower-case identifier; clients need no declaration.
 *
 * The folder sim/scenario/ is the language alone: it reads text and
 * builds a program, and includes only raft/ (names) and sim/util.  Not
 * here: running a program (sim/runner) or any cluster (sim/cluster).
 */
#ifndef RAFTSIM_SIM_SCENARIO_H
#define RAFTSIM_SIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "raft/raft.h"

#define SCN_MAX_NODES 64
#define SCN_MAX_CLIENTS 32
#define SCN_MAX_VARS 32
#define SCN_KEY_MAX 31   /* bytes of a key, and of a value */
#define SCN_NAME_MAX 31  /* client and variable names */
#define SCN_MAX_MARKS 16 /* `mark NAME`: named moments */

/* A node reference: a literal id, or a variable bound at run time. */
struct scn_node {
    int id;  /* 1..n, or 0 when var is used */
    int var; /* index into scn_program.vars, -1, or SCN_VAR_LEADER */
};
/* `leader` where a node goes: the leader at the moment the line runs
 * (the live node in role leader with the highest term). */
#define SCN_VAR_LEADER (-2)

/* A set of nodes.  Resolved at run time (variables, `rest`). */
struct scn_set {
    bool all;          /* `all` */
    bool rest;         /* `rest`: nodes not named elsewhere on the line */
    int n;             /* explicit members */
    struct scn_node items[SCN_MAX_NODES];
    int n_except;      /* `SET except SET`: members taken out */
    struct scn_node except[SCN_MAX_NODES];
};

enum scn_cmp { SCN_EQ, SCN_NE, SCN_LT, SCN_LE, SCN_GT, SCN_GE };

/* A number on the right of a comparison: a literal, or a quantity read
 * from a node at check time (`lsn of n2`). */
enum scn_quantity {
    SCN_Q_NONE = 0, /* literal */
    SCN_Q_TERM,
    SCN_Q_LSN,     /* last LSN in the node's WAL */
    SCN_Q_COMMIT,  /* commit LSN */
    SCN_Q_APPLIED, /* applied LSN */
};
struct scn_value {
    enum scn_quantity q;
    uint64_t lit;
    struct scn_node node;
    int numvar; /* 1 + index of a number variable (let T = term of L);
                   0: none (then q and lit say) */
};

enum scn_outcome {
    SCN_OUT_NONE = 0, /* no expectation: the write does not block */
    SCN_OUT_ACKED,     /* the client got an acknowledgement */
    SCN_OUT_COMMITTED, /* acked, and committed on a majority */
    SCN_OUT_REFUSED,   /* no leader: read-only mode, 503 */
    SCN_OUT_TIMEOUT,   /* no answer in time: outcome unknown */
    SCN_OUT_LOST,      /* acked now, gone by the end of the run (deferred) */
};
/* `expect acked|timeout`, `expect not lost`: a set of outcomes, as bits
 * (1u << SCN_OUT_*); `unknown` is another name for timeout. */
#define SCN_OUT_BIT(o) (1u << (unsigned)(o))

enum scn_route {
    SCN_ROUTE_LEADER,    /* the leader (read-only mode: a replica, warned) */
    SCN_ROUTE_ANY,       /* a random up node — the naive approach */
    SCN_ROUTE_FOLLOWER,  /* a random up follower */
    SCN_ROUTE_NODE,      /* a named node */
    SCN_ROUTE_MONOTONIC, /* sticky replica with an LSN floor */
    SCN_ROUTE_RYW,       /* any node applied past the client's write token */
};

enum scn_read_expect {
    SCN_READ_NONE = 0,
    SCN_READ_VALUE,   /* the returned value equals `value` */
    SCN_READ_MISSING, /* the key is absent on the node that served it */
    SCN_READ_FRESH,   /* the latest committed value */
    SCN_READ_STALE,   /* an older value than the latest committed one */
};

enum scn_lag_unit { SCN_LAG_ENTRIES, SCN_LAG_BYTES, SCN_LAG_TIME };

enum scn_reads_prop {
    SCN_READS_FRESH,      /* every read returned the latest committed value */
    SCN_READS_STALE,      /* at least one read was stale */
    SCN_READS_MONOTONIC,  /* no read saw an older version than an earlier one */
    SCN_READS_OWN_WRITES, /* every read saw the client's own acked writes */
};

enum scn_pg_expect {
    SCN_PG_PRIMARY,  /* expect pg primary is SERVER|none */
    SCN_PG_HAS,      /* expect pg SERVER has|lacks KEY (negate) */
    SCN_PG_WRITABLE, /* expect pg writable CMP N */
    SCN_PG_LAG,      /* expect pg lag of SERVER CMP D */
};

enum scn_expect_kind {
    SCN_EX_LEADER_IS,    /* expect leader is NODE | expect leader is none */
    SCN_EX_LEADER_IN,    /* expect leader in SET */
    SCN_EX_LEADERS,      /* expect leaders CMP N  (nodes claiming to lead) */
    SCN_EX_ROLE,         /* expect role of NODE is [not] ROLE */
    SCN_EX_QUANTITY,     /* expect term|lsn|commit|applied of NODE CMP VALUE */
    SCN_EX_COMMITTED,    /* expect committed KEY [on NODE] */
    SCN_EX_LOST,         /* expect lost KEY */
    SCN_EX_DISCARDED,    /* expect discarded KEY on NODE */
    SCN_EX_LOG_HAS,      /* expect log of NODE has|lacks KEY (negate) */
    SCN_EX_LAG,          /* expect lag of NODE CMP N entries|bytes | D */
    SCN_EX_READS,        /* expect reads of CLIENT [not] PROP */
    SCN_EX_WRITE,        /* expect write of CLIENT KEY OUTCOME */
    SCN_EX_NO_VIOLATIONS,/* expect no violations */
    SCN_EX_VIOLATION,    /* expect violation [NAME] */
    SCN_EX_PG,           /* expect pg ... (the mirrored PostgreSQL pair) */
    SCN_EX_ELECTIONS,    /* expect elections CMP N [since MARK] */
    SCN_EX_NEVER,        /* expect NODE never ROLE [since MARK] */
    SCN_EX_MEMBERS,      /* expect voters|learners of NODE are SET|none:
                            the configuration in force on NODE */
    SCN_EX_PROGRESS,     /* expect [no] progress [within D]: a leader
                            holds and a probe write commits (liveness.h);
                            within_us 0 = 10 election timeouts; negate:
                            `no progress`, it must not */
};

struct scn_expect {
    enum scn_expect_kind kind;
    bool negate;              /* lacks / not */
    bool none;                /* LEADER_IS: `none` */
    struct scn_node node;
    struct scn_set set;       /* LEADER_IN */
    enum scn_quantity q;      /* QUANTITY */
    enum scn_cmp cmp;
    struct scn_value value;   /* QUANTITY, LEADERS (lit), LAG */
    enum raft_role role;      /* ROLE; RAFT_DOWN for `down`; see paused */
    bool paused;              /* ROLE: `paused` */
    bool has_node;            /* COMMITTED: `on NODE` given */
    char key[SCN_KEY_MAX + 1];
    int client;               /* READS, WRITE */
    enum scn_reads_prop prop; /* READS */
    enum scn_outcome outcome; /* WRITE: the first alternative */
    unsigned outcomes;        /* WRITE: SCN_OUT_BIT set; negate: none of */
    int mark;                 /* ELECTIONS, NEVER: 1 + mark index, 0: the
                                 start of the run */
    char kv_value[SCN_KEY_MAX + 1]; /* LOG_HAS: KEY=VALUE; "" = any value */
    enum scn_lag_unit lag_unit;
    char violation[32];       /* VIOLATION: empty = any */
    enum scn_pg_expect pg;    /* PG */
    char server[16];          /* PG: a server's name; empty = none */
    bool learners;            /* MEMBERS: learners (else voters) */
};

enum scn_await_kind {
    SCN_AW_LEADER,    /* await leader [in SET] [as VAR] */
    SCN_AW_FOLLOWER,  /* await follower NODE: NODE follows a live leader */
    SCN_AW_COMMITTED, /* await committed KEY [on NODE] */
    SCN_AW_CAUGHT_UP, /* await caught-up NODE: NODE applied the leader's log */
    SCN_AW_WRITE,     /* await write of CLIENT KEY: its last write of KEY
                         committed */
    SCN_AW_LSN,       /* await lsn N on NODE: NODE applied LSN N (u) */
};

/* One piece of a `say` text. */
enum scn_seg_kind {
    SCN_SEG_TEXT,    /* literal text */
    SCN_SEG_NODE,    /* {VAR} or {n2}: the node's name */
    SCN_SEG_QUANT,   /* {term X} {lsn X} {commit X} {applied X} */
    SCN_SEG_ROLE,    /* {role X} */
    SCN_SEG_LEADER,  /* {leader}: the current leader or "none" */
    SCN_SEG_TIME,    /* {time}: seconds */
};
struct scn_seg {
    enum scn_seg_kind kind;
    char *text;           /* TEXT: owned, NUL-terminated */
    struct scn_node node; /* NODE, QUANT, ROLE */
    enum scn_quantity q;  /* QUANT */
};

enum scn_cmd_kind {
    /* setup: only before the first other command */
    SCN_NODES = 1,
    SCN_HEARTBEAT,
    SCN_ELECTION,
    SCN_ACK,
    SCN_POLICY,
    SCN_PREVOTE,
    SCN_CHECKQUORUM,
    SCN_UNSAFE,
    SCN_SEED,
    SCN_DISK,
    SCN_CLIENT_TIMEOUT,
    SCN_CLIENT_LATENCY,
    /* anywhere */
    SCN_LINK,
    SCN_START,
    SCN_CRASH,
    SCN_RESTART,
    SCN_PAUSE,
    SCN_RESUME,
    SCN_PARTITION,
    SCN_ISOLATE,
    SCN_CUT,
    SCN_HEAL,
    SCN_WRITE,
    SCN_READ,
    SCN_WAIT,
    SCN_AWAIT,
    SCN_EXPECT,
    SCN_SAY,
    SCN_STEP,
    SCN_SHOW_STATUS,
    SCN_LET,
    SCN_CAMPAIGN,
    SCN_MARK,
    SCN_TRANSFER, /* transfer NODE to NODE: from (the leader) -> node */
    SCN_MEMBER,   /* add/promote/remove: enumval a raft_member_op, node
                     (node2 too when two: add two at once, unsafe) */
    SCN_SNAPSHOT, /* snapshot NODE (has_node: node), or snapshot every N
                     entries|bytes (u: N, 0 = off; enumval 0 entries,
                     1 bytes) */
};

/* `partition ring`, `partition bridge NODE`: the Jepsen nemesis shapes */
enum scn_shape { SCN_SHAPE_SETS = 0, SCN_SHAPE_RING, SCN_SHAPE_BRIDGE };

/* `isolate leader on append|commit`: a trap set for the next leader;
 * `isolate leader off`: the trap is disarmed if it has not sprung. */
enum scn_trap { SCN_TRAP_NONE = 0, SCN_TRAP_APPEND, SCN_TRAP_COMMIT,
                SCN_TRAP_OFF };

struct scn_cmd {
    enum scn_cmd_kind kind;
    int line;              /* 1-based line in the file */
    bool at;               /* `at T`: wait until absolute time at_us first */
    uint64_t at_us;
    /* setup values */
    uint64_t u;            /* NODES, SEED; durations for HEARTBEAT, DISK,
                              CLIENT_*, WAIT */
    uint64_t u2;           /* ELECTION: max (u: min) */
    int enumval;           /* ACK (raft_ack_mode), POLICY, UNSAFE bits */
    bool on;               /* PREVOTE, CHECKQUORUM */
    /* node sets: START/CRASH/RESTART/PAUSE/RESUME/ISOLATE: sets[0];
     * PARTITION: sets[0..n_sets); LINK/CUT: sets[0] -> sets[1] */
    struct scn_set *sets;
    int n_sets;
    bool both_ways;        /* LINK, CUT: <-> */
    bool lose_unflushed;   /* CRASH */
    bool silent;           /* CRASH: closes no connection (power loss) */
    /* LINK */
    bool reset;
    bool has_latency, has_jitter, has_drop, has_dup;
    uint64_t latency_us, jitter_us;
    double drop, dup;
    /* WRITE / READ */
    int client;            /* index into scn_program.clients */
    char key[SCN_KEY_MAX + 1];
    char value[SCN_KEY_MAX + 1];
    struct scn_node via;   /* WRITE: via NODE; id 0 && var -1: leader */
    char pg_server[16];    /* WRITE: `on pg SERVER`: the application's own
                              INSERT on that server, past the cluster
                              (empty: through the cluster) */
    enum scn_outcome outcome;
    unsigned outcomes;     /* WRITE: SCN_OUT_BIT set (alternatives) */
    bool outcome_not;      /* WRITE: `expect not …` */
    enum scn_route route;  /* READ */
    struct scn_node from;  /* READ: ROUTE_NODE */
    enum scn_read_expect read_expect;
    /* AWAIT */
    enum scn_await_kind await;
    struct scn_node node;  /* AWAIT follower/caught-up/committed-on */
    bool has_node;
    bool has_set;          /* AWAIT leader in SET: sets[0] */
    int bind_var;          /* AWAIT leader as VAR: var index, or -1 */
    uint64_t within_us;    /* AWAIT, WRITE: 0 = default */
    /* EXPECT */
    struct scn_expect ex;
    /* SAY */
    struct scn_seg *segs;
    int n_segs;
    /* the command's source text, trimmed, for messages (owned) */
    char *src;
    /* ISOLATE: isolate the leader at its next data append / commit */
    enum scn_trap trap;
    /* LET: variables bound to the members of sets[0], in id order; or
     * with let_q, one variable bound to that quantity of node */
    int let_vars[SCN_MAX_VARS];
    int n_let;
    enum scn_quantity let_q;
    /* MARK: index into scn_program.marks */
    int mark;
    /* SHOW_STATUS: `show status --wal` */
    bool wal;
    /* PARTITION: a shape instead of sets (bridge: node is the bridge) */
    enum scn_shape shape;
    /* MEMBER: the second server of `add NODE NODE` */
    struct scn_node node2;
    bool two;
};

struct scn_program {
    char *file;             /* name used in messages */
    /* cluster set-up, defaults applied */
    int nodes;
    uint64_t seed;
    bool seed_given;
    uint64_t heartbeat_us, election_min_us, election_max_us;
    enum raft_ack_mode ack;
    enum raft_election_policy policy;
    bool prevote, checkquorum;
    bool fast_detect;       /* `fast-detect on|off` (default on) */
    unsigned unsafe;
    uint64_t disk_us, client_timeout_us, client_latency_us;
    bool virtual_only;      /* `clock virtual`: exact replays */
    /* `members SET`: the initial voters (has_members false: all) */
    bool has_members;
    bool member[SCN_MAX_NODES + 1];
    /* `mirror NODE=SERVER…`: PostgreSQL servers that follow the nodes.
     * SERVER is a lab name (a, b: tools/pg-pair) or a connection string;
     * mirror_of[node] is 1 + the index into mirror[], 0 for none. */
    struct {
        char name[16];
        char *conninfo; /* NULL: the lab server of that name */
    } mirror[8];
    int n_mirror;
    int mirror_of[SCN_MAX_NODES + 1];
    /* `mirror … fence self`: the old primary's own node fences its
     * server when it steps down; default (fence remote): the new leader
     * does, before promoting (STONITH) */
    bool mirror_fence_self;
    /* `mirror … watch on`: the primary's server is polled (at most a
     * heartbeat apart); when it stops answering its node crashes */
    bool mirror_watch;
    char *mirror_control;   /* command template, {action} {server}; NULL:
                               tools/pg-pair {action} {server}.  A file's
                               template runs only when the command line
                               allows it (run --allow-control). */
    int mirror_control_line; /* where the file set it */
    bool mirror_no_replication; /* `mirror … replication off`: every
                                   server its own primary, none streams */
    /* names */
    char clients[SCN_MAX_CLIENTS][SCN_NAME_MAX + 1];
    int n_clients;
    char vars[SCN_MAX_VARS][SCN_NAME_MAX + 1];
    int n_vars;
    bool var_is_number[SCN_MAX_VARS]; /* let T = term of L */
    char marks[SCN_MAX_MARKS][SCN_NAME_MAX + 1];
    int n_marks;
    /* the run: every command that is not set-up, in file order
     * (set-up commands are folded into the fields above) */
    struct scn_cmd *cmds;
    int n_cmds;
};

/*
 * Parse a scenario from text.  name is used in messages.  On success
 * returns 0 and *out.  On error returns -1 and writes every error (up to
 * a bound) to err as "name:line:col: error: ..." lines, with a
 * did-you-mean for misspelled commands and keywords.
 */
int scn_parse(const char *name, const char *text, size_t len,
              struct scn_program **out, FILE *err);
/* Read a file and parse it; a file that cannot be read is an error too. */
int scn_parse_file(const char *path, struct scn_program **out, FILE *err);
/* `--mirror n1=a,n2=b`: the same mapping as the `mirror` line; 0, or -1
 * with a message in err. */
int scn_set_mirror(struct scn_program *p, const char *spec, char *err,
                   size_t cap);
void scn_free(struct scn_program *p);

/* Names used in messages and narration. */
const char *scn_outcome_name(enum scn_outcome o);
const char *scn_route_name(enum scn_route r);

#endif
