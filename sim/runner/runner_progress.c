/*
 * runner_progress.c — the one updating line a long wait shows on a
 * terminal: under the real clock, an `await` or `wait` that has taken
 * more than a second of wall time prints "waiting for a leader… 1.4 s",
 * redrawn every 100 ms with a carriage return and erased (not left in
 * the scrollback) when the wait ends or before any narration line.
 * Piped output never gets it: the caller sets opts.progress only for a
 * terminal.  Virtual time never waits, so it never shows there.
 */
#include "sim/runner/runner_int.h"

#include <string.h>

#include "sim/util/util.h"

#define PROGRESS_AFTER_S 1.0 /* a shorter wait is not worth a line */
#define PROGRESS_EVERY_S 0.1
#define WAIT_CHUNK_WALL_US 100000 /* a `wait` runs in slices this long */

void rp_begin(struct runner *R, const struct scn_cmd *cmd)
{
    R->prog.on = R->o.progress && R->o.transport != SIM_TRANSPORT_MEMORY;
    R->prog.shown = false;
    if (!R->prog.on)
        return;
    R->prog.wall0_s = util_wall_s();
    if (cmd->kind == SCN_AWAIT && cmd->await == SCN_AW_LEADER)
        snprintf(R->prog.label, sizeof(R->prog.label), "waiting for a leader");
    else
        snprintf(R->prog.label, sizeof(R->prog.label), "waiting (%s)",
                 r_src(cmd));
}

void rp_tick(struct runner *R)
{
    if (!R->prog.on)
        return;
    double now = util_wall_s();
    if (now - R->prog.wall0_s < PROGRESS_AFTER_S ||
        (R->prog.shown && now - R->prog.drawn_s < PROGRESS_EVERY_S))
        return;
    fprintf(R->out, "\r%s%s… %.1f s%s\033[K", rs_c(R, C_DIM), R->prog.label,
            now - R->prog.wall0_s, rs_c(R, C_RESET));
    fflush(R->out);
    R->prog.shown = true;
    R->prog.drawn_s = now;
}

void rp_clear(struct runner *R)
{
    if (!R->prog.shown)
        return;
    fputs("\r\033[K", R->out);
    fflush(R->out);
    R->prog.shown = false;
    R->prog.drawn_s = 0; /* redraw at the next tick */
}

void rp_end(struct runner *R)
{
    rp_clear(R);
    R->prog.on = false;
}

void rp_wait(struct runner *R, const struct scn_cmd *cmd, uint64_t t)
{
    rp_begin(R, cmd);
    if (!R->prog.on) {
        r_run_to(R, t);
        return;
    }
    /* cluster time = wall time / scale: slices of 100 ms of wall time */
    double scale = R->o.time_scale > 0 ? R->o.time_scale : 1.0;
    uint64_t slice = (uint64_t)(WAIT_CHUNK_WALL_US / scale);
    if (slice < 1000)
        slice = 1000;
    while (!R->halted && !util_stop_signal && sim_now(R->c) < t) {
        uint64_t next = sim_now(R->c) + slice;
        r_run_to(R, next < t ? next : t);
        rp_tick(R);
    }
    rp_end(R);
}
