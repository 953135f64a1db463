/*
 * scenario_int.h — the scenario parser's private parts, shared by
 * scenario_lex.c (messages, tokens, values, names), scenario_cmds.c (one
 * function per command) and scenario_parse.c (set-up, lines, the
 * program).  Nothing here is for other modules: use scenario.h.
 */
#ifndef RAFTSIM_SIM_SCENARIO_INT_H
#define RAFTSIM_SIM_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/scenario/scenario.h"

#define MAX_FILE (1u << 20)
#define MAX_LINE 4096
#define MAX_TOKENS 512
#define MAX_CMDS 10000
#define MAX_ERRORS 20
#define MAX_SEGS 256
#define MAX_DURATION_US (UINT64_C(86400) * 1000000) /* a day */

enum tok_kind { T_WORD, T_STR, T_LBRACE, T_RBRACE, T_COMMA, T_END };

struct tok {
    enum tok_kind k;
    const char *s; /* into the line; for T_STR the raw text inside quotes */
    int len;
    int col;       /* 1-based */
};

struct parser {
    const char *name;
    FILE *err;
    int errors;
    bool gave_up;
    /* the current line */
    int line;
    const char *text;
    int text_len;
    struct tok t[MAX_TOKENS + 1];
    int nt, i;
    bool line_failed; /* one error per line: the rest is noise */
    /* the program */
    struct scn_program *p;
    int cap_cmds;
    bool nodes_given;
    int first_action_line; /* 0 until a non-setup command */
    bool seen_setup[32];
    bool bound[SCN_MAX_VARS];
    bool number[SCN_MAX_VARS]; /* bound to a number (let T = term of L) */
};

/* scenario_lex.c: messages (one per line, up to MAX_ERRORS, with the
 * source line, a caret and a did-you-mean), tokens, values, names */
void scn__error_at(struct parser *P, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void scn__error_tok(struct parser *P, const struct tok *t, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));
struct tok *scn__cur(struct parser *P);
const char *scn__shown(const struct tok *t, char *buf, size_t cap);
const char *scn__closest(const char *w, int wl, const char *const *cand, int n);
void scn__expected(struct parser *P, const char *what, const char *const *choices, int n);
bool scn__tokenize(struct parser *P);
bool scn__is_word(const struct tok *t, const char *w);
bool scn__accept(struct parser *P, const char *w);
bool scn__at_end(struct parser *P);
int scn__keyword(struct parser *P, const char *what, const char *const *choices, int n);
bool scn__need(struct parser *P, const char *w);
bool scn__end_of_line(struct parser *P);
bool scn__parse_u64(const char *s, int len, uint64_t *out);
const char *scn__duration_of(const char *s, int len, uint64_t *out);
bool scn__duration(struct parser *P, const char *what, uint64_t *out);
bool scn__number(struct parser *P, const char *what, uint64_t *out);
bool scn__probability(struct parser *P, const char *what, double *out);
bool scn__is_lower_ident(const char *s, int len);
bool scn__is_var_ident(const char *s, int len);
bool scn__check_key(struct parser *P, int col, const char *s, int len, const char *what);
bool scn__key(struct parser *P, char *out);
int scn__bind_var(struct parser *P);
bool scn__node_ref(struct parser *P, struct scn_node *out);
bool scn__node_list(struct parser *P, struct scn_node *items, int *count);
bool scn__set_ref(struct parser *P, struct scn_set *out);
const char *scn__outcome_like(const struct tok *t);
int scn__client_index(struct parser *P, const char *s, int len);
int scn__client(struct parser *P, bool declare);
char *scn__unescape(const struct tok *t, int **raw);

/* scenario_cmds.c: the commands, each from its keyword to the end of
 * its line */
bool scn__one_set(struct parser *P, struct scn_cmd *cmd);
bool scn__arrow(struct parser *P, bool *both);
bool scn__within(struct parser *P, struct scn_cmd *cmd);
bool scn__c_link(struct parser *P, struct scn_cmd *cmd);
bool scn__c_write(struct parser *P, struct scn_cmd *cmd);
bool scn__c_read(struct parser *P, struct scn_cmd *cmd);
bool scn__c_await(struct parser *P, struct scn_cmd *cmd);
bool scn__key_on_node(struct parser *P, char *key, struct scn_node *node,
                      bool *has_node);
/* scenario_expect.c */
bool scn__c_expect(struct parser *P, struct scn_cmd *cmd);
bool scn__c_say(struct parser *P, struct scn_cmd *cmd);

/* scenario_words.c: let, mark, partition shapes, outcome sets */
bool scn__c_let(struct parser *P, struct scn_cmd *cmd);
bool scn__c_mark(struct parser *P, struct scn_cmd *cmd);
bool scn__c_member(struct parser *P, struct scn_cmd *cmd, const char *word);
bool scn__c_partition(struct parser *P, struct scn_cmd *cmd);
bool scn__outcome_set(struct parser *P, unsigned *set, bool *negate,
                      enum scn_outcome *first);
int scn__mark_ref(struct parser *P); /* `since MARK`: 1 + index, or -1 */
bool scn__cmp_op(struct parser *P, enum scn_cmp *out);

#endif
