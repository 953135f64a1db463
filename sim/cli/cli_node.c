/*
 * cli_node.c — `raftsim node`: one Raft node as its own process
 * (sim/node/node.h), standalone from a peer list, or driven by `run
 * --clock processes` over an inherited control socket.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "net/auth.h"
#include "sim/cli/cli.h"
#include "sim/node/node.h"
#include "sim/util/util.h"

static void usage_node(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s node --id N (--peers LIST | --cluster FILE) --key FILE "
            "[OPTIONS]\n\n"
            "Run one Raft node as its own process: the same core, TCP "
            "transport, codec\nand authenticated handshake as `run --clock "
            "real`, one process per node,\nwith the in-memory WAL (a crash "
            "loses it, unless --wal-dir).  Prints one line\nper role change "
            "and commit.  "
            "Stops on Ctrl-C/SIGTERM or after --duration.\n\n"
            "options:\n"
            "  --id N                this node's id (1..number of peers)\n"
            "  --peers LIST          every node, this one included: "
            "n1=HOST:PORT,n2=...\n"
            "                        (HOST: a numeric IPv4/IPv6 address)\n"
            "  --cluster FILE        the same list, one nN=HOST:PORT a line "
            "(# comments)\n"
            "  --key FILE            the cluster's secret (16 to 4096 bytes), "
            "the same file\n"
            "                        on every node, e.g. head -c 32 "
            "/dev/urandom > cluster.key\n"
            "  --listen ADDR         address to listen on (default "
            "127.0.0.1; another\n"
            "                        address is warned about: anyone who "
            "can reach it may\n"
            "                        connect, though only key holders get "
            "through)\n"
            "  --heartbeat D         leader heartbeat (default 50ms)\n"
            "  --election-timeout MIN-MAX   default 150ms-300ms\n"
            "  --seed N              seeds the node's election timer "
            "draws\n"
            "  --duration D          stop after D (default: run until "
            "stopped)\n"
            "  --wal-dir DIR         keep the node's inputs in DIR/nN.wal "
            "(appended before\n"
            "                        each, fdatasync'ed before a message "
            "leaves after the\n"
            "                        term, vote or log changed) and "
            "replay them at start:\n"
            "                        a SIGKILL or power loss keeps the log; "
            "the fsync cost\n"
            "                        is printed at the end\n"
            "  --control-fd FD       driven by `run --clock processes` over "
            "descriptor FD\n"
            "                        (internal: the runner passes it)\n\n"
            "examples:\n"
            "  head -c 32 /dev/urandom > build/cluster.key\n"
            "  %s node --id 1 --peers n1=127.0.0.1:7101,n2=127.0.0.1:7102,"
            "n3=127.0.0.1:7103 --key build/cluster.key --duration 1s\n",
            prog, prog);
}

enum {
    O_ID = 256,
    O_PEERS,
    O_CLUSTER,
    O_KEY,
    O_LISTEN,
    O_HEARTBEAT,
    O_ETIMEOUT,
    O_SEED,
    O_DURATION,
    O_CONTROL_FD,
    O_WAL_DIR,
};

static const struct option node_long[] = {
    {"id", required_argument, NULL, O_ID},
    {"peers", required_argument, NULL, O_PEERS},
    {"cluster", required_argument, NULL, O_CLUSTER},
    {"key", required_argument, NULL, O_KEY},
    {"listen", required_argument, NULL, O_LISTEN},
    {"heartbeat", required_argument, NULL, O_HEARTBEAT},
    {"election-timeout", required_argument, NULL, O_ETIMEOUT},
    {"seed", required_argument, NULL, O_SEED},
    {"duration", required_argument, NULL, O_DURATION},
    {"control-fd", required_argument, NULL, O_CONTROL_FD},
    {"wal-dir", required_argument, NULL, O_WAL_DIR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One "nN=HOST:PORT" (or "N=…"); -1 with why. */
static int parse_peer(const char *s, struct node_opts *o, int *max_id,
                      const char **why)
{
    while (isspace((unsigned char)*s))
        s++;
    if (*s == 'n')
        s++;
    char *end;
    long id = strtol(s, &end, 10);
    if (end == s || *end != '=' || id < 1 || id > RAFT_MAX_NODES) {
        *why = "expected nN=HOST:PORT with N in 1..256";
        return -1;
    }
    const char *addr = end + 1;
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr) {
        *why = "expected HOST:PORT after nN=";
        return -1;
    }
    char host[64];
    size_t hl = (size_t)(colon - addr);
    if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
        addr++;
        hl -= 2;
    }
    if (hl >= sizeof(host)) {
        *why = "host too long";
        return -1;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    uint64_t port;
    char pbuf[16];
    size_t pl = strcspn(colon + 1, " \t\r\n");
    if (pl == 0 || pl >= sizeof(pbuf)) {
        *why = "bad port";
        return -1;
    }
    memcpy(pbuf, colon + 1, pl);
    pbuf[pl] = '\0';
    if (util_parse_u64(pbuf, &port) != 0 || port < 1 || port > 65535) {
        *why = "the port must be 1..65535";
        return -1;
    }
    if (o->peers[id].port) {
        *why = "a node is listed twice";
        return -1;
    }
    snprintf(o->peers[id].host, sizeof(o->peers[id].host), "%s", host);
    o->peers[id].port = (int)port;
    if (id > *max_id)
        *max_id = (int)id;
    return 0;
}

static int parse_list(const char *prog, const char *what, const char *list,
                      struct node_opts *o, int *max_id)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return 2;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",\n", &save); tok;
         tok = strtok_r(NULL, ",\n", &save)) {
        char *hash = strchr(tok, '#');
        if (hash)
            *hash = '\0';
        const char *p = tok;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            continue;
        const char *why = NULL;
        if (parse_peer(p, o, max_id, &why) != 0) {
            fprintf(stderr, "%s node: %s: '%s': %s\n", prog, what, p, why);
            rc = 2;
            break;
        }
    }
    free(copy);
    return rc;
}

static bool loopback(const char *host)
{
    return !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

int cli_node(const char *prog, int argc, char **argv)
{
    static struct node_opts o; /* peers: 129 entries */
    memset(&o, 0, sizeof(o));
    o.control_fd = -1;
    o.time_scale = 1.0;
    o.out = stdout;
    static unsigned char key[NET_KEY_MAX];
    size_t key_len = 0;
    long id = 0;
    int max_id = 0;
    bool have_peers = false;
    uint64_t hb = 50000, emin = 150000, emax = 300000, seed = 0;
    bool seed_given = false;
    const char *why = NULL;
    cli_getopt_begin();
    int ch;
    while ((ch = cli_getopt(prog, "node", argc, argv, "h", node_long)) != -1) {
        switch (ch) {
        case 'h':
            usage_node(stdout, prog);
            return 0;
        case CLI_OPT_BAD:
            return 2;
        case O_ID: {
            uint64_t v;
            if (util_parse_u64(optarg, &v) != 0 || v < 1 ||
                v > RAFT_MAX_NODES)
                return cli_bad_value(prog, "node", "id", optarg,
                                     "a node id, 1..256");
            id = (long)v;
            break;
        }
        case O_PEERS:
            if (parse_list(prog, "--peers", optarg, &o, &max_id) != 0)
                return 2;
            have_peers = true;
            break;
        case O_CLUSTER: {
            FILE *f = fopen(optarg, "r");
            if (!f) {
                fprintf(stderr, "%s node: --cluster %s: cannot read it\n",
                        prog, optarg);
                return 2;
            }
            size_t len;
            char *text = util_read_all(f, 1 << 20, &len);
            fclose(f);
            if (!text) {
                fprintf(stderr, "%s node: --cluster %s: unreadable or over "
                        "1 MiB\n", prog, optarg);
                return 2;
            }
            int rc = parse_list(prog, optarg, text, &o, &max_id);
            free(text);
            if (rc != 0)
                return rc;
            have_peers = true;
            break;
        }
        case O_KEY: {
            char err[512];
            if (net_key_load(optarg, key, &key_len, err, sizeof(err)) != 0) {
                fprintf(stderr, "%s node: %s\n", prog, err);
                return 2;
            }
            break;
        }
        case O_LISTEN:
            o.listen_host = optarg;
            break;
        case O_HEARTBEAT:
            if (util_parse_duration_us(optarg, &hb, &why) != 0 || hb == 0)
                return cli_bad_value(prog, "node", "heartbeat", optarg,
                                     why ? why : "must be above 0");
            break;
        case O_ETIMEOUT: {
            char buf[64];
            snprintf(buf, sizeof(buf), "%s", optarg);
            char *sep = strchr(buf, '-');
            if (!sep)
                return cli_bad_value(prog, "node", "election-timeout",
                                     optarg, "expected MIN-MAX, e.g. "
                                             "150ms-300ms");
            *sep = '\0';
            if (util_parse_duration_us(buf, &emin, &why) != 0 ||
                util_parse_duration_us(sep + 1, &emax, &why) != 0 ||
                emin == 0 || emax < emin)
                return cli_bad_value(prog, "node", "election-timeout",
                                     optarg, why ? why : "need 0 < MIN <= MAX");
            break;
        }
        case O_SEED:
            if (util_parse_u64(optarg, &seed) != 0)
                return cli_bad_value(prog, "node", "seed", optarg,
                                     "not a whole number");
            seed_given = true;
            break;
        case O_DURATION: {
            uint64_t us;
            if (util_parse_duration_us(optarg, &us, &why) != 0 || us == 0)
                return cli_bad_value(prog, "node", "duration", optarg,
                                     why ? why : "must be above 0");
            o.duration_s = (double)us / 1e6;
            break;
        }
        case O_WAL_DIR:
            o.wal_dir = optarg;
            break;
        case O_CONTROL_FD: {
            uint64_t v;
            if (util_parse_u64(optarg, &v) != 0 || v < 3 || v > 1 << 20)
                return cli_bad_value(prog, "node", "control-fd", optarg,
                                     "a descriptor number from 3 up");
            o.control_fd = (int)v;
            break;
        }
        default:
            return 2;
        }
    }
    if (optind < argc)
        return cli_unexpected(prog, "node", argv[optind]);
    util_stop_on_signals();
    if (o.control_fd >= 0) {
        if (id || have_peers || key_len || o.wal_dir) {
            fprintf(stderr, "%s node: --control-fd takes its configuration "
                    "from the runner (which keeps its inputs); no --id, "
                    "--peers, --key or --wal-dir\n", prog);
            return 2;
        }
        o.out = NULL;
        return node_run(&o);
    }
    if (!id || !have_peers || !key_len) {
        fprintf(stderr, "%s node: needs --id, --peers (or --cluster) and "
                "--key (see '%s node --help')\n", prog, prog);
        return 2;
    }
    for (int i = 1; i <= max_id; i++)
        if (!o.peers[i].port) {
            fprintf(stderr, "%s node: the peer list has no n%d (nodes are "
                    "n1..n%d, no gaps)\n", prog, i, max_id);
            return 2;
        }
    if (id > max_id) {
        fprintf(stderr, "%s node: --id %ld is not in the peer list "
                "(n1..n%d)\n", prog, id, max_id);
        return 2;
    }
    if (hb >= emin) {
        fprintf(stderr, "%s node: the heartbeat must be shorter than the "
                "election timeout's minimum\n", prog);
        return 2;
    }
    const char *listen = o.listen_host ? o.listen_host : "127.0.0.1";
    if (!loopback(listen))
        fprintf(stderr, "%s node: warning: listening on %s, not loopback: "
                "other machines can connect (only holders of the key get "
                "past the handshake; frames are authenticated, not "
                "encrypted)\n", prog, listen);
    raft_config_default(&o.cfg, (int)id, max_id);
    o.cfg.heartbeat_us = hb;
    o.cfg.election_min_us = emin;
    o.cfg.election_max_us = emax;
    if (seed_given) {
        uint64_t x = seed * 1000003 + (uint64_t)id;
        o.cfg.seed = x;
        o.seed_given = true;
    } else {
        unsigned char r[8];
        net_random(r, sizeof(r));
        memcpy(&o.cfg.seed, r, sizeof(r));
    }
    o.key = key;
    o.key_len = key_len;
    cli_line_buffered_stdout();
    int rc = node_run(&o);
    explicit_bzero(key, sizeof(key));
    if (rc == 0 && util_stop_signal)
        return cli_interrupted_status();
    return rc;
}
