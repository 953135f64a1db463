/*
 * live_control.c — the control words of a live session (speed, pause,
 * resume, step, step say, seek, restart, status), the same for POST
 * /control and the shell's `:` lines, and the set-up text a restart
 * writes.
 */
#include "sim/live/live_int.h"

#include "sim/util/util.h"

/* A time for `seek`: a duration with its unit (util_parse_duration_us),
 * or a bare number of seconds; blanks ignored ("1.2 s"). */
static int parse_time_us(const char *s, uint64_t *out)
{
    char t[64];
    size_t n = 0;
    for (; *s && n + 1 < sizeof(t); s++)
        if (!isspace((unsigned char)*s))
            t[n++] = *s;
    t[n] = 0;
    const char *why;
    double v;
    if (util_parse_duration_us(t, out, &why) == 0)
        return 0;
    if (util_parse_double(t, &v) != 0 || v < 0 || v > 1e7)
        return -1;
    *out = (uint64_t)(v * 1e6);
    return 0;
}

/* The next time anything is due: the log's next entry, the cluster's next
 * event, the script's next wake-up. */
static uint64_t next_due(struct live_session *s)
{
    uint64_t t = UINT64_MAX;
    if (s->released < s->n_log)
        t = s->log[s->released].t_us;
    if (s->run) {
        uint64_t e = sim_next_event_time(scn_runner_cluster(s->run));
        if (e < t)
            t = e;
    }
    if (s->waiting && s->wait_until_us < t)
        t = s->wait_until_us;
    if (t <= (uint64_t)s->present_us)
        t = (uint64_t)s->present_us + 1;
    return t;
}

/* Scripted (no pacing): the file's commands up to its next `step` or its
 * end, each as soon as it is due. */
static void run_script_now(struct live_session *s)
{
    for (int guard = 0; guard < 1000000 && s->file && !s->at_step; guard++) {
        uint64_t t = live__now(s);
        if (s->waiting)
            t = s->wait_until_us;
        else if (s->cursor >= s->file->n_cmds)
            break;
        else if (s->file->cmds[s->cursor].at &&
                 s->file->cmds[s->cursor].at_us > t)
            t = s->file->cmds[s->cursor].at_us;
        if ((double)t < s->present_us)
            t = (uint64_t)s->present_us;
        live__advance_to(s, (double)t);
        if ((double)live__now(s) > s->present_us)
            s->present_us = (double)live__now(s); /* an await ran ahead */
    }
    if (s->present_us > (double)s->end_us)
        s->end_us = (uint64_t)s->present_us;
    live__release(s);
}

int live_control(struct live_session *s, const char *line, char *msg,
                 size_t cap)
{
    char w[32];
    const char *rest = live__first_word(line, w, sizeof(w));
    rest += strlen(w);
    while (isspace((unsigned char)*rest))
        rest++;
    char arg[256];
    snprintf(arg, sizeof(arg), "%s", rest);
    size_t al = strlen(arg);
    while (al && isspace((unsigned char)arg[al - 1]))
        arg[--al] = 0;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    char err[4096];
    if (!strcmp(w, "speed")) {
        char *end;
        double v = strtod(arg, &end);
        if (end == arg || *end || v < 0.01 || v > 100) {
            snprintf(msg, cap, "speed: expected a number from 0.01 to 100, "
                               "got '%s'", arg);
            rc = -1;
        } else {
            s->speed = v;
            snprintf(msg, cap, "speed x%g", v);
        }
    } else if (!strcmp(w, "pause") && !*arg) {
        /* paused in the middle of a command that ran ahead of the display
         * (an await): rebuild at the display clock, so that what anyone
         * can look at (GET /state) is the moment on screen */
        if (!s->seeked && (double)live__now(s) > s->present_us &&
            live__fork_at(s, (uint64_t)s->present_us, false, err, sizeof(err)) != 0) {
            snprintf(msg, cap, "cannot pause here: %s", err);
            rc = -1;
            goto out;
        }
        s->paused = true;
        snprintf(msg, cap, "paused at %.3f s", s->present_us / 1e6);
    } else if ((!strcmp(w, "resume") || !strcmp(w, "go")) && !*arg) {
        if (s->seeked && live__fork_at(s, (uint64_t)s->present_us,
                                 true, err, sizeof(err)) != 0) {
            snprintf(msg, cap, "cannot resume: %s", err);
            rc = -1;
        } else {
            s->paused = s->at_step = false;
            s->have_wall = false; /* the pause does not count as time */
            if (s->o.scripted)
                run_script_now(s);
            snprintf(msg, cap, "running from %.3f s at x%g",
                     s->present_us / 1e6, s->speed);
        }
    } else if (!strcmp(w, "step") && (!*arg || !strcmp(arg, "say"))) {
        if (s->seeked && live__fork_at(s, (uint64_t)s->present_us,
                                 true, err, sizeof(err)) != 0) {
            snprintf(msg, cap, "cannot step: %s", err);
            rc = -1;
            goto out;
        }
        s->paused = true;
        s->at_step = false;
        if (!*arg)
            live__advance_to(s, (double)next_due(s));
        else {
            size_t n0 = 0;
            for (size_t i = 0; i < s->released; i++)
                n0 += s->log[i].kind == LIVE_NARRATION;
            double limit = s->present_us + STEP_SAY_LIMIT_US;
            for (int guard = 0; guard < 1000000 && s->present_us < limit &&
                                !s->at_step;
                 guard++) {
                size_t n = 0;
                for (size_t i = 0; i < s->released; i++)
                    n += s->log[i].kind == LIVE_NARRATION;
                if (n > n0)
                    break;
                live__advance_to(s, (double)next_due(s));
            }
        }
        snprintf(msg, cap, "at %.3f s", s->present_us / 1e6);
    } else if (!strcmp(w, "seek")) {
        uint64_t t;
        if (parse_time_us(arg, &t) != 0) {
            snprintf(msg, cap, "seek: expected a time such as 1.2s or 300ms, "
                               "got '%s'",
                     arg);
            rc = -1;
        } else if (t >= (uint64_t)s->present_us && !s->seeked) {
            live__advance_to(s, (double)t);
            snprintf(msg, cap, "at %.3f s", s->present_us / 1e6);
        } else {
            if (t > s->end_us)
                t = s->end_us;
            if (live__materialize(s, t, err, sizeof(err)) != 0) {
                snprintf(msg, cap, "cannot seek: %s", err);
                rc = -1;
            } else {
                s->seeked = true;
                s->paused = true;
                s->present_us = (double)t;
                live__release(s);
                snprintf(msg, cap, "at %.3f s of %.3f s recorded; acting or "
                                   "resuming here forks (the rest is kept "
                                   "for export)",
                         (double)t / 1e6, (double)s->end_us / 1e6);
            }
        }
    } else if (!strcmp(w, "restart")) {
        rc = live__restart_with(s, arg, msg, cap);
    } else if (!strcmp(w, "status") && !*arg) {
        snprintf(msg, cap, "t=%.3f s, x%g, %s%s, %d record%s", s->present_us / 1e6,
                 s->speed, s->paused ? "paused" : "running",
                 s->at_step ? " at a step" : "", s->n_recs,
                 s->n_recs == 1 ? "" : "s");
    } else {
        snprintf(msg, cap, "unknown control '%s'; the words are: speed X, "
                           "pause, resume, step, step say, seek T, "
                           "restart [k=v …], status",
                 line);
        rc = -1;
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* The set-up of program p as lines, with key=value overrides. */
int live__setup_text(const struct scn_program *p, const char *args,
                      char **out, char *msg, size_t cap)
{
    char nodes[16], hb[32], el[64], ack[16], pol[16], pv[8], cq[8], seed[32],
        disk[32];
    snprintf(nodes, sizeof(nodes), "%d", p->nodes);
    snprintf(hb, sizeof(hb), "%lluus", (unsigned long long)p->heartbeat_us);
    snprintf(el, sizeof(el), "%lluus..%lluus",
             (unsigned long long)p->election_min_us,
             (unsigned long long)p->election_max_us);
    snprintf(ack, sizeof(ack), "%s", raft_ack_mode_name(p->ack));
    snprintf(pol, sizeof(pol), "%s", raft_policy_name(p->policy));
    snprintf(pv, sizeof(pv), "%s", p->prevote ? "on" : "off");
    snprintf(cq, sizeof(cq), "%s", p->checkquorum ? "on" : "off");
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)p->seed);
    snprintf(disk, sizeof(disk), "%lluus", (unsigned long long)p->disk_us);
    struct {
        const char *key;
        char *val;
        size_t cap;
    } keys[] = {{"nodes", nodes, sizeof(nodes)},
                {"heartbeat", hb, sizeof(hb)},
                {"election", el, sizeof(el)},
                {"ack", ack, sizeof(ack)},
                {"policy", pol, sizeof(pol)},
                {"prevote", pv, sizeof(pv)},
                {"checkquorum", cq, sizeof(cq)},
                {"seed", seed, sizeof(seed)},
                {"disk", disk, sizeof(disk)}};
    size_t nk = sizeof(keys) / sizeof(*keys);
    char a[256];
    snprintf(a, sizeof(a), "%s", args ? args : "");
    for (char *save = NULL, *tok = strtok_r(a, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        size_t k = 0;
        if (eq) {
            *eq = 0;
            for (; k < nk && strcmp(keys[k].key, tok); k++)
                ;
        }
        if (!eq || k == nk) {
            snprintf(msg, cap, "restart: expected KEY=VALUE with KEY one of "
                               "nodes, heartbeat, election, ack, policy, "
                               "prevote, checkquorum, seed, disk; got '%s'",
                     tok);
            return -1;
        }
        if (!strcmp(tok, "election")) /* A-B as on the command line */
            for (char *d = eq + 1; *d; d++)
                if (*d == '-' && d[1] != '-') {
                    snprintf(keys[k].val, keys[k].cap, "%.*s..%s",
                             (int)(d - eq - 1), eq + 1, d + 1);
                    goto next;
                }
        snprintf(keys[k].val, keys[k].cap, "%s", eq + 1);
    next:;
    }
    size_t len;
    FILE *f = open_memstream(out, &len);
    if (!f)
        return -1;
    fprintf(f, "# a live session (raftsim serve, raftsim shell) exported; "
               "replay it with\n# raftsim run --keep-going FILE: the same "
               "trace, event for event\n");
    for (size_t k = 0; k < nk; k++)
        if (strcmp(keys[k].key, "disk") || strcmp(keys[k].val, "0us"))
            fprintf(f, "%s %s\n", keys[k].key, keys[k].val);
    if (p->client_timeout_us != 2000000)
        fprintf(f, "client-timeout %lluus\n",
                (unsigned long long)p->client_timeout_us);
    if (p->client_latency_us != 500)
        fprintf(f, "client-latency %lluus\n",
                (unsigned long long)p->client_latency_us);
    for (unsigned b = 1; b && b <= p->unsafe; b <<= 1)
        if (p->unsafe & b)
            fprintf(f, "unsafe %s\n", raft_unsafe_name(b));
    if (p->n_clients) {
        fprintf(f, "clients");
        for (int i = 0; i < p->n_clients; i++)
            fprintf(f, " %s", p->clients[i]);
        fprintf(f, "\n");
    }
    fclose(f);
    return 0;
}

int live__restart_with(struct live_session *s, const char *args, char *msg,
                        size_t cap)
{
    char *setup = NULL;
    if (live__setup_text(s->prog, args, &setup, msg, cap) != 0)
        return -1;
    /* check it parses before anything is dropped */
    struct scn_program *p = NULL;
    char *emsg = NULL;
    size_t elen = 0;
    FILE *ef = open_memstream(&emsg, &elen);
    int rc = scn_parse("restart", setup, strlen(setup), &p, ef);
    if (ef)
        fclose(ef);
    scn_free(p);
    if (rc != 0) {
        snprintf(msg, cap, "%s", emsg ? emsg : "restart: bad settings");
        free(emsg);
        free(setup);
        return -1;
    }
    free(emsg);
    free(s->setup);
    s->setup = setup;
    live__recs_free(s->aband, s->n_aband);
    s->aband = NULL;
    s->n_aband = 0;
    s->o.seed_given = false;
    char err[1024];
    if (live__start_timeline(s, err, sizeof(err)) != 0) {
        snprintf(msg, cap, "restart: %s", err);
        return -1;
    }
    s->paused = s->file != NULL; /* a file starts again from its top */
    snprintf(msg, cap, "restarted: %d nodes%s", s->prog->nodes,
             s->file ? ", the file from its first line (paused)" : "");
    return 0;
}

