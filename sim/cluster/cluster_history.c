/*
 * cluster_history.c — the clients' writes as a Jepsen history (the shape
 * Knossos, elle-cli and Porcupine read): an `invoke` when a write is
 * sent, then `ok` (acknowledged), `fail` (refused: no node took it, so it
 * can never commit) or `info` (the outcome is unknown: the client timed
 * out or its leader stepped down, or the run ended first; it may or may
 * not commit).  One operation per line, EDN maps or JSON objects:
 *
 *   {:type :invoke, :f :write, :value ["k3" "v12"], :process 0, :time 1500000, :index 0, :client "c1"}
 *   {"type":"ok","f":"write","value":["k3","v12"],"process":0,"time":3100000,"index":1,"client":"c1","node":2}
 *
 * :time is nanoseconds of cluster time.  A Jepsen process does one
 * operation at a time and is never used again after an `info`, while a
 * simulated client may have several writes out; so each write gets the
 * lowest free process number, and the client is named in :client.
 */
#include "sim/cluster/cluster_int.h"

#include <inttypes.h>
#include <string.h>

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch); /* JSON; EDN readers take it too */
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void put_key(struct sim_cluster *c, const char *k, bool first)
{
    FILE *f = c->o.history;
    if (c->o.history_edn)
        fprintf(f, "%s:%s ", first ? "" : ", ", k);
    else
        fprintf(f, "%s\"%s\":", first ? "" : ",", k);
}

static void put_kw(struct sim_cluster *c, const char *v)
{
    if (c->o.history_edn)
        fprintf(c->o.history, ":%s", v);
    else
        put_str(c->o.history, v);
}

static void op_line(struct sim_cluster *c, int widx, const char *type,
                    const char *error)
{
    FILE *f = c->o.history;
    struct write_state *w = sim__write(c, widx);
    char client[16];
    snprintf(client, sizeof(client), "c%d", w->pub.client);
    fputc('{', f);
    put_key(c, "type", true);
    put_kw(c, type);
    put_key(c, "f", false);
    put_kw(c, "write");
    put_key(c, "value", false);
    fputc('[', f);
    put_str(f, w->pub.key);
    fputs(c->o.history_edn ? " " : ",", f);
    put_str(f, w->pub.value);
    fputc(']', f);
    put_key(c, "process", false);
    fprintf(f, "%d", w->hist_process);
    put_key(c, "time", false);
    fprintf(f, "%" PRIu64, c->now * 1000);
    put_key(c, "index", false);
    fprintf(f, "%" PRIu64, c->hist_index++);
    put_key(c, "client", false);
    put_str(f, client);
    if (strcmp(type, "invoke") != 0 && w->pub.node) {
        put_key(c, "node", false);
        fprintf(f, "%d", w->pub.node);
    }
    if (error) {
        put_key(c, "error", false);
        put_kw(c, error);
    }
    fputs("}\n", f);
}

void sim__history_invoke(struct sim_cluster *c, int widx)
{
    if (!c->o.history)
        return;
    /* the lowest process that is neither busy nor retired by an info */
    int p = 0;
    while (p < c->n_hist_proc && c->hist_proc[p] != 0)
        p++;
    if (p == c->n_hist_proc) {
        c->hist_proc = sim__xrealloc(c->hist_proc, (size_t)p + 1);
        c->n_hist_proc++;
    }
    c->hist_proc[p] = 1; /* busy */
    sim__write(c, widx)->hist_process = p;
    op_line(c, widx, "invoke", NULL);
}

void sim__history_complete(struct sim_cluster *c, int widx)
{
    if (!c->o.history)
        return;
    struct write_state *w = sim__write(c, widx);
    switch (w->pub.outcome) {
    case SIM_ACKED:
        op_line(c, widx, "ok", NULL);
        c->hist_proc[w->hist_process] = 0;
        break;
    case SIM_REFUSED:
        op_line(c, widx, "fail", "no-leader");
        c->hist_proc[w->hist_process] = 0;
        break;
    default: /* unknown: the process is gone for good (Jepsen's rule) */
        op_line(c, widx, "info", "unknown-outcome");
        c->hist_proc[w->hist_process] = 2;
        break;
    }
}

void sim__history_end(struct sim_cluster *c)
{
    if (!c->o.history)
        return;
    for (int i = c->w_settled; i < c->n_writes; i++) /* all settled below */
        if (sim__write_pending(c, i)) {
            op_line(c, i, "info", "pending-at-end");
            c->hist_proc[sim__write(c, i)->hist_process] = 2;
        }
    fflush(c->o.history);
}
