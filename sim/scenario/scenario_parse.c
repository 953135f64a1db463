/*
 * scenario_parse.c — scenario text → checked scn_program (scenario.h).
 *
 * Hand-written: the language is line-oriented with a few dozen keywords,
 * and what matters most is the quality of the messages (gcc-style
 * file:line:col, the source line with a caret, a did-you-mean for every
 * misspelled keyword, name and client).  No parser generator in Debian's
 * C toolbox gives that more simply than a small recursive descent.
 *
 * Each line is split into tokens (words, "strings", { } ,: scenario_lex.c),
 * then parsed by the command's own function (scenario_cmds.c); this file
 * holds the set-up commands, the line loop and the program's lifecycle.  An error skips the rest of its line and
 * parsing goes on, so one run reports up to MAX_ERRORS mistakes; a file
 * with any error yields no program.  Everything is bounded: file size,
 * line length, tokens per line, commands, names.
 */
#include "sim/scenario/scenario_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util/util.h"

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

/* "n1=a" (a lab server) or "n1=postgresql://…" (a server named n1). */
static int mirror_add(struct scn_program *p, const char *s, int len, char *why,
                      size_t cap)
{
    const char *eq = memchr(s, '=', (size_t)len);
    uint64_t id;
    if (!eq || eq - s < 2 || s[0] != 'n' ||
        !scn__parse_u64(s + 1, (int)(eq - s) - 1, &id)) {
        snprintf(why, cap, "expected NODE=SERVER (e.g. n1=a), got '%.*s'",
                 len > 40 ? 40 : len, s);
        return -1;
    }
    if (id < 1 || id > (uint64_t)p->nodes) {
        snprintf(why, cap, "no node n%llu: this cluster has n1..n%d",
                 (unsigned long long)id, p->nodes);
        return -1;
    }
    const char *srv = eq + 1;
    int sl = len - (int)(srv - s);
    if (sl <= 0) {
        snprintf(why, cap, "n%llu= needs a server (a lab name such as a, or a "
                           "connection string)",
                 (unsigned long long)id);
        return -1;
    }
    if (p->mirror_of[id]) {
        snprintf(why, cap, "n%llu is mirrored twice", (unsigned long long)id);
        return -1;
    }
    bool lab = sl <= 15;
    for (int k = 0; k < sl && lab; k++)
        lab = (srv[k] >= 'a' && srv[k] <= 'z') || (srv[k] >= '0' && srv[k] <= '9');
    char name[16];
    if (lab)
        snprintf(name, sizeof(name), "%.*s", sl, srv);
    else
        snprintf(name, sizeof(name), "n%d", (int)id);
    /* tools/pg-pair names its servers a, b, … h (up --servers N); which
     * of them the pair has is known only when the run starts */
    if (lab && !(name[0] >= 'a' && name[0] <= 'h' && !name[1])) {
        snprintf(why, cap, "no lab server '%s': tools/pg-pair's servers are "
                           "a to h (or give a connection string)",
                 name);
        return -1;
    }
    for (int k = 0; k < p->n_mirror; k++)
        if (!strcmp(p->mirror[k].name, name)) {
            snprintf(why, cap, "server %s already follows another node", name);
            return -1;
        }
    if (p->n_mirror >= (int)(sizeof(p->mirror) / sizeof(p->mirror[0]))) {
        snprintf(why, cap, "too many mirrored servers");
        return -1;
    }
    int k = p->n_mirror;
    memset(&p->mirror[k], 0, sizeof(p->mirror[k]));
    snprintf(p->mirror[k].name, sizeof(p->mirror[k].name), "%s", name);
    if (!lab && !(p->mirror[k].conninfo = strndup(srv, (size_t)sl))) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    p->n_mirror++;
    p->mirror_of[id] = k + 1;
    return 0;
}

int scn_set_mirror(struct scn_program *p, const char *spec, char *err,
                   size_t cap)
{
    for (int k = 0; k < p->n_mirror; k++)
        free(p->mirror[k].conninfo);
    p->n_mirror = 0;
    memset(p->mirror_of, 0, sizeof(p->mirror_of));
    const char *s = spec;
    while (*s) {
        size_t l = strcspn(s, ",");
        if (l == 0 || mirror_add(p, s, (int)l, err, cap) != 0) {
            if (l == 0)
                snprintf(err, cap, "empty item in '%s'", spec);
            return -1;
        }
        s += l;
        if (*s == ',')
            s++;
    }
    if (p->n_mirror == 0) {
        snprintf(err, cap, "expected NODE=SERVER[,NODE=SERVER...]");
        return -1;
    }
    return 0;
}

static const char *const setup_words[] = {
    "nodes", "heartbeat", "election", "ack", "policy", "prevote",
    "checkquorum", "unsafe", "seed", "disk", "client-timeout",
    "client-latency", "clients", "clock", "mirror", "mirror-control",
    "fast-detect", "members"};
#define N_SETUP ((int)(sizeof(setup_words) / sizeof(*setup_words)))

static bool on_off(struct parser *P, bool *out)
{
    static const char *const w[] = {"on", "off"};
    int k = scn__keyword(P, "'on' or 'off'", w, 2);
    if (k < 0)
        return false;
    *out = k == 0;
    return true;
}

static bool setup(struct parser *P, int k)
{
    struct scn_program *p = P->p;
    struct tok *kw = &P->t[P->i - 1];
    if (P->first_action_line) {
        scn__error_tok(P, kw,
                  "'%s' sets the cluster up: it must come before the first "
                  "action (line %d)",
                  setup_words[k], P->first_action_line);
        return false;
    }
    if (P->seen_setup[k] && k != 12) {
        scn__error_tok(P, kw, "'%s' is given twice", setup_words[k]);
        return false;
    }
    P->seen_setup[k] = true;
    uint64_t u;
    switch (k) {
    case 0:
        if (!scn__number(P, "the node count", &u))
            return false;
        if (u < 1 || u > SCN_MAX_NODES || u > RAFT_MAX_NODES) {
            scn__error_tok(P, &P->t[P->i - 1], "nodes must be between 1 and %d",
                      SCN_MAX_NODES < RAFT_MAX_NODES ? SCN_MAX_NODES
                                                     : RAFT_MAX_NODES);
            return false;
        }
        if (P->p->n_cmds > 0) {
            scn__error_tok(P, kw, "'nodes' must come before any link (line %d names "
                             "nodes)",
                      P->p->cmds[0].line);
            return false;
        }
        if (P->p->n_mirror > 0) {
            scn__error_tok(P, kw, "'nodes' must come before 'mirror'");
            return false;
        }
        if (p->has_members) {
            scn__error_tok(P, kw, "'nodes' must come before 'members'");
            return false;
        }
        p->nodes = (int)u;
        P->nodes_given = true;
        break;
    case 1:
        if (!scn__duration(P, "the heartbeat interval", &p->heartbeat_us))
            return false;
        if (p->heartbeat_us == 0) {
            scn__error_tok(P, &P->t[P->i - 1], "the heartbeat must be more than 0");
            return false;
        }
        break;
    case 2: {
        struct tok *t = scn__cur(P);
        const char *dots = NULL;
        for (int j = 0; t->k == T_WORD && j + 1 < t->len && !dots; j++)
            if (t->s[j] == '.' && t->s[j + 1] == '.')
                dots = t->s + j;
        if (!dots) {
            char b[64];
            scn__error_tok(P, t, "expected MIN..MAX (e.g. 150ms..300ms), got %s",
                      scn__shown(t, b, sizeof(b)));
            return false;
        }
        int l1 = (int)(dots - t->s);
        const char *why = scn__duration_of(t->s, l1, &p->election_min_us);
        if (why) {
            scn__error_tok(P, t, "the election minimum '%.*s' %s", l1, t->s, why);
            return false;
        }
        why = scn__duration_of(dots + 2, t->len - l1 - 2, &p->election_max_us);
        if (why) {
            scn__error_at(P, t->col + l1 + 2, "the election maximum '%.*s' %s",
                     t->len - l1 - 2, dots + 2, why);
            return false;
        }
        if (p->election_min_us == 0 || p->election_max_us < p->election_min_us) {
            scn__error_tok(P, t, "the election range needs 0 < MIN <= MAX");
            return false;
        }
        P->i++;
        break;
    }
    case 3: {
        static const char *const w[] = {"async", "quorum", "sync"};
        int a = scn__keyword(P, "async, quorum or sync", w, 3);
        if (a < 0 || raft_ack_mode_parse(w[a], &p->ack) != 0)
            return false;
        break;
    }
    case 4: {
        static const char *const w[] = {"highest-lsn", "raft"};
        int a = scn__keyword(P, "highest-lsn or raft", w, 2);
        if (a < 0 || raft_policy_parse(w[a], &p->policy) != 0)
            return false;
        break;
    }
    case 5:
        if (!on_off(P, &p->prevote))
            return false;
        break;
    case 6:
        if (!on_off(P, &p->checkquorum))
            return false;
        break;
    case 7: {
        static const char *const w[] = {"vote-any", "commit-old-term",
                                        "keep-conflicts",
                                        "change-two-at-once"};
        do {
            int a = scn__keyword(P, "a rule (vote-any, commit-old-term, "
                                    "keep-conflicts, change-two-at-once)",
                            w, 4);
            unsigned bit;
            if (a < 0 || raft_unsafe_parse(w[a], &bit) != 0)
                return false;
            p->unsafe |= bit;
        } while (scn__cur(P)->k == T_COMMA && (P->i++, true));
        break;
    }
    case 8:
        if (!scn__number(P, "the seed", &p->seed))
            return false;
        p->seed_given = true;
        break;
    case 9:
        if (!scn__duration(P, "the disk flush latency", &p->disk_us))
            return false;
        break;
    case 10:
        if (!scn__duration(P, "the client timeout", &p->client_timeout_us))
            return false;
        if (p->client_timeout_us == 0) {
            scn__error_tok(P, &P->t[P->i - 1], "the client timeout must be more than 0");
            return false;
        }
        break;
    case 11:
        if (!scn__duration(P, "the client latency", &p->client_latency_us))
            return false;
        break;
    case 12:
        if (scn__at_end(P)) {
            scn__error_tok(P, scn__cur(P), "expected client names: clients alice bob");
            return false;
        }
        while (!scn__at_end(P)) {
            struct tok *t = scn__cur(P);
            if (t->k == T_WORD &&
                scn__client_index(P, t->s, t->len) >= 0) {
                scn__error_tok(P, t, "client '%.*s' is named twice", t->len, t->s);
                return false;
            }
            if (scn__client(P, true) < 0)
                return false;
        }
        break;
    case 13: {
        static const char *const w[] = {"virtual", "any"};
        int a = scn__keyword(P, "'virtual' (replays that need the virtual clock) or 'any'",
                        w, 2);
        if (a < 0)
            return false;
        p->virtual_only = a == 0;
        break;
    }
    case 14: /* mirror NODE=SERVER... */
        if (scn__at_end(P)) {
            scn__error_tok(P, scn__cur(P), "expected NODE=SERVER pairs, e.g. mirror n1=a "
                                 "n2=b");
            return false;
        }
        while (!scn__at_end(P)) {
            struct tok *t = scn__cur(P);
            char why[160];
            if (t->k == T_WORD && t->len == 11 &&
                !memcmp(t->s, "replication", 11)) {
                /* replication off: every server a primary of its own
                 * (the naive dual write, seed 000) */
                P->i++;
                bool on;
                if (!on_off(P, &on))
                    return false;
                p->mirror_no_replication = !on;
                continue;
            }
            if (scn__accept(P, "fence")) { /* who fences a cut-off primary */
                static const char *const who[] = {"remote", "self"};
                int w = scn__keyword(P, "who fences: remote or self", who, 2);
                if (w < 0)
                    return false;
                p->mirror_fence_self = w == 1;
                continue;
            }
            if (scn__accept(P, "watch")) { /* poll the servers */
                static const char *const onoff[] = {"off", "on"};
                int w = scn__keyword(P, "watch on or off", onoff, 2);
                if (w < 0)
                    return false;
                p->mirror_watch = w == 1;
                continue;
            }
            if (t->k != T_WORD ||
                mirror_add(p, t->s, t->len, why, sizeof(why)) != 0) {
                if (t->k != T_WORD)
                    snprintf(why, sizeof(why), "expected NODE=SERVER");
                scn__error_tok(P, t, "%s", why);
                return false;
            }
            P->i++;
        }
        if (p->n_mirror == 0) {
            scn__error_tok(P, scn__cur(P), "expected NODE=SERVER pairs, e.g. "
                                           "mirror n1=a n2=b fence self");
            return false;
        }
        break;
    case 15: { /* mirror-control "TEMPLATE" */
        struct tok *t = scn__cur(P);
        if (t->k != T_STR || t->len == 0) {
            char b[64];
            scn__error_tok(P, t,
                      "expected a command template in quotes, e.g. "
                      "\"tools/pg-pair {action} {server}\", got %s",
                      scn__shown(t, b, sizeof(b)));
            return false;
        }
        int *raw = NULL;
        char *tmpl = scn__unescape(t, &raw);
        free(raw);
        if (!tmpl) {
            scn__error_at(P, 1, "out of memory");
            return false;
        }
        if (!strstr(tmpl, "{action}") || !strstr(tmpl, "{server}")) {
            free(tmpl);
            scn__error_tok(P, t, "the template must contain {action} and {server}");
            return false;
        }
        free(p->mirror_control);
        p->mirror_control = tmpl;
        p->mirror_control_line = P->line;
        P->i++;
        break;
    }
    case 16:
        if (!on_off(P, &p->fast_detect))
            return false;
        break;
    case 17: { /* members SET: literal nodes */
        struct tok *t = scn__cur(P);
        struct scn_set *s = calloc(1, sizeof(*s));
        if (!s) {
            scn__error_at(P, 1, "out of memory");
            return false;
        }
        bool ok = scn__set_ref(P, s);
        for (int k = 0; ok && k < s->n; k++)
            if (s->items[k].var != -1 || s->items[k].id < 1)
                ok = false;
        if (ok && (s->all || s->rest || s->n_except || s->n == 0))
            ok = false;
        if (!ok) {
            if (!P->errors)
                scn__error_tok(P, t, "expected the initial voters as node "
                                     "names, e.g. members {n1,n2,n3}");
            free(s);
            return false;
        }
        p->has_members = true;
        for (int k = 0; k < s->n; k++)
            p->member[s->items[k].id] = true;
        free(s);
        break;
    }
    }
    return scn__end_of_line(P);
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */

static const char *const action_words[] = {
    "link", "start", "crash", "restart", "pause", "resume", "partition",
    "isolate", "cut", "heal", "write", "read", "wait", "await", "expect",
    "say", "step", "show", "let", "campaign", "mark", "transfer", "snapshot",
    "add", "promote", "remove", "at"};
#define N_ACTIONS ((int)(sizeof(action_words) / sizeof(*action_words)))
static const enum scn_cmd_kind action_kinds[] = {
    SCN_LINK, SCN_START, SCN_CRASH, SCN_RESTART, SCN_PAUSE, SCN_RESUME,
    SCN_PARTITION, SCN_ISOLATE, SCN_CUT, SCN_HEAL, SCN_WRITE, SCN_READ,
    SCN_WAIT, SCN_AWAIT, SCN_EXPECT, SCN_SAY, SCN_STEP, SCN_SHOW_STATUS,
    SCN_LET, SCN_CAMPAIGN, SCN_MARK, SCN_TRANSFER, SCN_SNAPSHOT,
    SCN_MEMBER, SCN_MEMBER, SCN_MEMBER, 0};

static void unknown_command(struct parser *P)
{
    const char *all[N_SETUP + N_ACTIONS];
    for (int k = 0; k < N_SETUP; k++)
        all[k] = setup_words[k];
    for (int k = 0; k < N_ACTIONS; k++)
        all[N_SETUP + k] = action_words[k];
    struct tok *t = scn__cur(P);
    char b[64];
    const char *hint =
        t->k == T_WORD ? scn__closest(t->s, t->len, all, N_SETUP + N_ACTIONS) : NULL;
    if (hint)
        scn__error_tok(P, t, "unknown command %s; did you mean '%s'?",
                  scn__shown(t, b, sizeof(b)), hint);
    else
        scn__error_tok(P, t, "unknown command %s (see the scenario language in "
                        "README.md)",
                  scn__shown(t, b, sizeof(b)));
}

/* The action starting at the current token, into cmd. */
static bool action(struct parser *P, struct scn_cmd *cmd, bool nested)
{
    int k = -1;
    for (int j = 0; j < N_ACTIONS; j++)
        if (scn__is_word(scn__cur(P), action_words[j]))
            k = j;
    if (k < 0) {
        for (int j = 0; j < N_SETUP; j++)
            if (scn__is_word(scn__cur(P), setup_words[j])) {
                scn__error_tok(P, scn__cur(P),
                          "'%s' sets the cluster up: it cannot follow 'at'",
                          setup_words[j]);
                return false;
            }
        unknown_command(P);
        return false;
    }
    P->i++;
    if (k == N_ACTIONS - 1) { /* at T CMD */
        if (nested) {
            scn__error_tok(P, &P->t[P->i - 1], "'at' cannot be nested");
            return false;
        }
        if (!scn__duration(P, "the time", &cmd->at_us))
            return false;
        cmd->at = true;
        if (scn__at_end(P)) {
            scn__error_tok(P, scn__cur(P), "expected a command after 'at TIME'");
            return false;
        }
        return action(P, cmd, true);
    }
    cmd->kind = action_kinds[k];
    if (cmd->kind == SCN_MEMBER)
        return scn__c_member(P, cmd, action_words[k]);
    switch (cmd->kind) {
    case SCN_LINK:
        return scn__c_link(P, cmd);
    case SCN_START:
        if (!scn__at_end(P) && !scn__one_set(P, cmd))
            return false;
        return scn__end_of_line(P);
    case SCN_CRASH:
        if (!scn__one_set(P, cmd))
            return false;
        for (int k = 0; k < 2; k++) { /* either order, each once */
            if (!cmd->lose_unflushed && scn__accept(P, "lose-unflushed"))
                cmd->lose_unflushed = true;
            else if (!cmd->silent && scn__accept(P, "silent"))
                cmd->silent = true;
        }
        return scn__end_of_line(P);
    case SCN_RESTART:
    case SCN_PAUSE:
    case SCN_RESUME:
    case SCN_CAMPAIGN:
        return scn__one_set(P, cmd) && scn__end_of_line(P);
    case SCN_ISOLATE:
        if (scn__is_word(scn__cur(P), "leader") &&
            scn__is_word(&P->t[P->i + 1], "off")) {
            P->i += 2; /* disarm a trap not sprung yet */
            cmd->trap = SCN_TRAP_OFF;
            return scn__end_of_line(P);
        }
        if (scn__is_word(scn__cur(P), "leader") &&
            scn__is_word(&P->t[P->i + 1], "on")) {
            P->i++;
            if (!scn__need(P, "on"))
                return false;
            static const char *const w[] = {"append", "commit"};
            int a = scn__keyword(P, "'append' or 'commit'", w, 2);
            if (a < 0)
                return false;
            cmd->trap = a == 0 ? SCN_TRAP_APPEND : SCN_TRAP_COMMIT;
            return scn__end_of_line(P);
        }
        return scn__one_set(P, cmd) && scn__end_of_line(P);
    case SCN_PARTITION:
        return scn__c_partition(P, cmd);
    case SCN_MARK:
        return scn__c_mark(P, cmd);
    case SCN_CUT:
        return scn__one_set(P, cmd) && scn__arrow(P, &cmd->both_ways) &&
               scn__one_set(P, cmd) && scn__end_of_line(P);
    case SCN_HEAL: /* heal, or heal SET ->|<-> SET: those links only */
        if (scn__at_end(P))
            return true;
        return scn__one_set(P, cmd) && scn__arrow(P, &cmd->both_ways) &&
               scn__one_set(P, cmd) && scn__end_of_line(P);
    case SCN_STEP:
        return scn__end_of_line(P);
    case SCN_SHOW_STATUS:
        if (!scn__need(P, "status"))
            return false;
        cmd->wal = scn__accept(P, "--wal");
        return scn__end_of_line(P);
    case SCN_WRITE:
        return scn__c_write(P, cmd);
    case SCN_READ:
        return scn__c_read(P, cmd);
    case SCN_WAIT:
        return scn__duration(P, "the wait", &cmd->u) && scn__end_of_line(P);
    case SCN_AWAIT:
        return scn__c_await(P, cmd);
    case SCN_EXPECT:
        return scn__c_expect(P, cmd);
    case SCN_SAY:
        return scn__c_say(P, cmd);
    case SCN_LET:
        return scn__c_let(P, cmd);
    case SCN_TRANSFER: /* transfer leader to NODE: `leader` is a node */
        cmd->has_node = true;
        return scn__node_ref(P, &cmd->from) && scn__need(P, "to") &&
               scn__node_ref(P, &cmd->node) && scn__end_of_line(P);
    case SCN_SNAPSHOT: { /* snapshot NODE | snapshot every N entries|bytes */
        static const char *const units[] = {"entries", "bytes"};
        if (scn__accept(P, "every")) {
            if (!scn__number(P, "a count (0: never)", &cmd->u))
                return false;
            cmd->enumval = scn__keyword(P, "'entries' or 'bytes'", units, 2);
            return cmd->enumval >= 0 && scn__end_of_line(P);
        }
        cmd->has_node = true;
        return scn__node_ref(P, &cmd->node) && scn__end_of_line(P);
    }
    default:
        return false;
    }
}

static void free_cmd(struct scn_cmd *cmd)
{
    free(cmd->sets);
    for (int k = 0; k < cmd->n_segs; k++)
        free(cmd->segs[k].text);
    free(cmd->segs);
    free(cmd->src);
}

static void parse_line(struct parser *P)
{
    P->line_failed = false;
    if (P->text_len > MAX_LINE) {
        scn__error_at(P, MAX_LINE + 1, "line longer than %d bytes", MAX_LINE);
        return;
    }
    if (!scn__tokenize(P) || P->nt == 0)
        return;
    for (int k = 0; k < N_SETUP; k++)
        if (scn__is_word(scn__cur(P), setup_words[k])) {
            P->i++;
            setup(P, k);
            return;
        }
    if (P->p->n_cmds >= MAX_CMDS) {
        scn__error_at(P, 1, "too many commands (at most %d)", MAX_CMDS);
        return;
    }
    if (P->p->n_cmds == P->cap_cmds) {
        int cap = P->cap_cmds ? P->cap_cmds * 2 : 64;
        struct scn_cmd *c = realloc(P->p->cmds, (size_t)cap * sizeof(*c));
        if (!c) {
            scn__error_at(P, 1, "out of memory");
            return;
        }
        P->p->cmds = c;
        P->cap_cmds = cap;
    }
    struct scn_cmd *cmd = &P->p->cmds[P->p->n_cmds];
    memset(cmd, 0, sizeof(*cmd));
    cmd->line = P->line;
    cmd->via = (struct scn_node){0, -1};
    cmd->from = (struct scn_node){0, -1};
    cmd->node = (struct scn_node){0, -1};
    cmd->bind_var = -1;
    bool ok = action(P, cmd, false) && !P->line_failed;
    /* links shape the network: they may sit among the set-up lines */
    if (!P->first_action_line && (cmd->kind != 0 || cmd->at) &&
        (cmd->kind != SCN_LINK || cmd->at))
        P->first_action_line = P->line;
    if (!ok) {
        free_cmd(cmd);
        return;
    }
    /* the source text, trimmed of blanks and a trailing comment */
    int a = P->t[0].col - 1, b = P->t[P->nt].col - 1;
    if (P->t[P->nt - 1].k == T_STR) /* a closing quote ends the last token */
        b = (int)(P->t[P->nt - 1].s - P->text) + P->t[P->nt - 1].len + 1;
    else
        b = (int)(P->t[P->nt - 1].s - P->text) + P->t[P->nt - 1].len;
    cmd->src = strndup(P->text + a, (size_t)(b - a));
    if (!cmd->src) {
        free_cmd(cmd);
        scn__error_at(P, 1, "out of memory");
        return;
    }
    P->p->n_cmds++;
}

void scn_free(struct scn_program *p)
{
    if (!p)
        return;
    for (int k = 0; k < p->n_cmds; k++)
        free_cmd(&p->cmds[k]);
    free(p->cmds);
    for (int k = 0; k < p->n_mirror; k++)
        free(p->mirror[k].conninfo);
    free(p->mirror_control);
    free(p->file);
    free(p);
}

int scn_parse(const char *name, const char *text, size_t len,
              struct scn_program **out, FILE *err)
{
    *out = NULL;
    struct parser *P = calloc(1, sizeof(*P));
    struct scn_program *p = calloc(1, sizeof(*p));
    if (!P || !p || !(p->file = strdup(name ? name : "(scenario)"))) {
        free(P);
        if (p)
            free(p->file);
        free(p);
        if (err)
            fprintf(err, "%s: out of memory\n", name ? name : "(scenario)");
        return -1;
    }
    P->name = p->file;
    P->err = err;
    P->p = p;
    /* defaults: those of sim_options_default / raft_config_default */
    p->nodes = 3;
    p->seed = 1;
    p->heartbeat_us = 50000;
    p->election_min_us = 150000;
    p->election_max_us = 300000;
    p->ack = RAFT_ACK_QUORUM;
    p->policy = RAFT_ELECT_HIGHEST_LSN;
    p->prevote = true;
    p->checkquorum = true;
    p->fast_detect = true;
    p->client_timeout_us = 2000000;
    p->client_latency_us = 500;

    if (len > MAX_FILE) {
        if (err)
            fprintf(err, "%s: error: the file is larger than %u bytes\n",
                    p->file, MAX_FILE);
        P->errors++;
    } else if (memchr(text, 0, len)) {
        size_t at = (size_t)((const char *)memchr(text, 0, len) - text);
        int line = 1;
        for (size_t k = 0; k < at; k++)
            line += text[k] == '\n';
        if (err)
            fprintf(err, "%s:%d: error: the file contains a NUL byte (not a "
                         "text file?)\n",
                    p->file, line);
        P->errors++;
    } else {
        size_t pos = 0;
        while (pos < len && !P->gave_up) {
            const char *nl = memchr(text + pos, '\n', len - pos);
            size_t end = nl ? (size_t)(nl - text) : len;
            P->line++;
            P->text = text + pos;
            P->text_len = (int)(end - pos > MAX_LINE + 1 ? MAX_LINE + 1
                                                          : end - pos);
            parse_line(P);
            pos = end + 1;
        }
        if (p->heartbeat_us >= p->election_min_us && !P->errors) {
            P->line = 0;
            P->text = NULL;
            P->line_failed = false;
            if (err)
                fprintf(err,
                        "%s: error: the heartbeat (%llu us) must be shorter "
                        "than the minimum election timeout (%llu us)\n",
                        p->file, (unsigned long long)p->heartbeat_us,
                        (unsigned long long)p->election_min_us);
            P->errors++;
        }
    }
    int errors = P->errors;
    free(P);
    if (errors) {
        scn_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int scn_parse_file(const char *path, struct scn_program **out, FILE *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err)
            fprintf(err, "%s: error: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = 0;
    char *buf = util_read_all(f, MAX_FILE, &len); /* scn_parse refuses more */
    int saved = errno;
    fclose(f);
    if (!buf) {
        if (err)
            fprintf(err, "%s: error: cannot read: %s\n", path,
                    saved == ENOMEM ? "out of memory" : strerror(saved));
        return -1;
    }
    int rc = scn_parse(path, buf, len, out, err);
    free(buf);
    return rc;
}
