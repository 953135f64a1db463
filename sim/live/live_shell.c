/*
 * live_shell.c — `raftsim shell`: the live session in a terminal.  Lines
 * are scenario lines, applied now; `:` lines are the controls (the same
 * words as POST /control) and :export, :trace, :help, :quit.  On a
 * terminal, libedit gives line editing and history while the clock runs
 * and the narration prints above the prompt; fed by a pipe, the session
 * is scripted: time moves only by the lines themselves (`wait`, `await`,
 * :step, :seek), so a script gives the same trace as the scenario file
 * with the same lines.
 */
#define _GNU_SOURCE
#include "sim/live/live_shell.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "sim/util/util.h"

static const char *help_text =
    "  scenario lines happen now: crash n1 · restart n1 · isolate leader · "
    "cut n1 -> n2 · heal\n"
    "    write alice x=1 · read bob x from ryw · wait 500ms · await leader "
    "as L · say \"…\" · expect …\n"
    "  controls: :speed X · :pause · :resume · :step · :step say · :seek T · "
    ":restart nodes=5 ack=async …\n"
    "            :status · :export FILE · :trace FILE · :help · :quit\n";

struct shell {
    struct live_session *s;
    FILE *out;
    uint64_t gen;
    size_t idx;
    int refused;
    bool quit;
    bool tty;
};

/* Print the narration that became visible; true if anything was. */
static bool drain(struct shell *sh)
{
    size_t released;
    uint64_t g = live_wait(sh->s, sh->gen, sh->idx, 0, &released);
    bool any = false;
    if (g != sh->gen) {
        sh->gen = g;
        sh->idx = 0;
        /* a rebuild replays the timeline: show only its present */
        uint64_t t = live_present_us(sh->s);
        fprintf(sh->out, "          — the timeline at %.3f s —\n", (double)t / 1e6);
        sh->idx = released; /* its history was printed before */
        any = true;
    }
    for (; sh->idx < released; sh->idx++) {
        enum live_kind k;
        char *t = live_entry_text(sh->s, sh->gen, sh->idx, &k);
        if (!t)
            break;
        if (k == LIVE_NARRATION) {
            fprintf(sh->out, "%s\n", t);
            any = true;
        }
        free(t);
    }
    fflush(sh->out);
    return any;
}

/* Only a regular file is written, whole or not at all (util_out). */
static int write_file(struct shell *sh, const char *path, bool trace)
{
    struct util_out o;
    char err[PATH_MAX + 128];
    if (util_out_open(&o, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "shell: %s\n", err);
        return -1;
    }
    if (trace)
        live_write_trace(sh->s, o.f);
    else
        live_export(sh->s, o.f, false);
    if (util_out_commit(&o, err, sizeof(err)) != 0) {
        fprintf(stderr, "shell: %s\n", err);
        return -1;
    }
    fprintf(sh->out, "          wrote %s\n", path);
    return 0;
}

static void one_line(struct shell *sh, char *line)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t n = strlen(line);
    while (n && isspace((unsigned char)line[n - 1]))
        line[--n] = 0;
    if (!*line || *line == '#')
        return;
    char msg[8192];
    int rc;
    if (*line == ':') {
        char *w = line + 1;
        if (!strcmp(w, "quit") || !strcmp(w, "q")) {
            sh->quit = true;
            return;
        }
        if (!strcmp(w, "help")) {
            fputs(help_text, sh->out);
            return;
        }
        if (!strncmp(w, "export ", 7) || !strncmp(w, "trace ", 6)) {
            bool tr = *w == 't';
            char *path = w + (tr ? 6 : 7);
            while (isspace((unsigned char)*path))
                path++;
            if (write_file(sh, path, tr) != 0)
                sh->refused++;
            return;
        }
        rc = live_control(sh->s, w, msg, sizeof(msg));
    } else
        rc = live_act(sh->s, line, msg, sizeof(msg));
    drain(sh);
    if (rc != 0) {
        sh->refused++;
        fprintf(sh->tty ? sh->out : stderr, "%s\n", msg);
    } else if (sh->tty || *line == ':')
        fprintf(sh->out, "          %s\n", msg);
    fflush(sh->out);
}

static struct shell *the_shell; /* libedit's callback takes no context */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void on_line(char *line)
{
    if (!line) {
        the_shell->quit = true;
        return;
    }
    if (*line)
        add_history(line);
    one_line(the_shell, line);
    free(line);
}

static void run_tty(struct shell *sh)
{
    the_shell = sh;
    signal(SIGINT, on_sigint);
    rl_callback_handler_install("raftsim> ", on_line);
    while (!sh->quit && !interrupted) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(0, &fds);
        struct timeval tv = {0, 20000};
        int r = select(1, &fds, NULL, NULL, &tv);
        if (r > 0)
            rl_callback_read_char();
        live_tick(sh->s, util_wall_s());
        size_t released;
        live_wait(sh->s, sh->gen, sh->idx, 0, &released);
        if (released > sh->idx) {
            fputs("\r\033[K", sh->out); /* the prompt goes below */
            drain(sh);
            rl_forced_update_display();
        }
    }
    rl_callback_handler_remove();
    fputc('\n', sh->out);
}

int live_shell(struct live_session *s, FILE *in, bool tty, FILE *out,
               const char *trace_path, const char *export_path)
{
    struct shell sh = {.s = s, .out = out, .gen = 0, .tty = tty};
    size_t released;
    sh.gen = live_wait(s, 0, 0, 0, &released);
    if (tty) {
        fprintf(out, "raftsim shell: scenario lines happen now; :help for "
                     "the controls, :quit to leave\n");
        drain(&sh);
        run_tty(&sh);
    } else {
        drain(&sh);
        char *line = NULL;
        size_t cap = 0;
        for (int k = 0; !sh.quit && k < 1000000 && getline(&line, &cap, in) > 0;
             k++)
            one_line(&sh, line);
        free(line);
    }
    int rc = live_end(s);
    drain(&sh);
    if (trace_path && write_file(&sh, trace_path, true) != 0)
        rc = 2;
    if (export_path && write_file(&sh, export_path, false) != 0)
        rc = 2;
    if (rc == 0 && sh.refused)
        rc = 1;
    return rc;
}
