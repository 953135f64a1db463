/*
 * runner_mirror_rebuild.c — a node installs a snapshot (Raft §7,
 * InstallSnapshot): its server gets a new base backup.  See
 * runner_mirror.h.
 *
 * The PostgreSQL twin of a follower whose next entries the leader has
 * compacted away is a standby that fell further behind than the WAL the
 * primary keeps (wal_keep_size, no replication slot: PostgreSQL 15 docs
 * §27.2.6): restarting it fails with "requested WAL segment … has
 * already been removed", and what it needs is a fresh copy of the
 * primary, pg_basebackup (§26.3.2, §27.2.4), then streaming from there.
 * The mirror follows the simulation and does exactly that with the
 * control command's `rebuild` (tools/pg-pair rebuild: the data directory
 * replaced by pg_basebackup -X stream from the running primary, the
 * standby configuration written, started, streaming).  Whether the real
 * primary had in fact removed the WAL the standby needed is checked
 * first (its oldest WAL segment against the standby's replay position)
 * and said: the lab keeps 256 MB, so a short scenario usually finds it
 * still there, and then PostgreSQL alone would have caught up by
 * streaming.
 */
#include "sim/runner/runner_mirror.h"

#include <stdlib.h>
#include <string.h>

#include "sim/util/util.h"

/* "kept 256MB" / "removed 256MB": whether primary p still has the WAL
 * segment holding lsn; 0, or -1 with why in err */
static int wal_kept(struct rmirror *M, int p, uint64_t lsn, bool *kept,
                    char *keep, size_t keep_cap, char *err, size_t cap)
{
    char l[24], sql[512], v[128];
    pg_format_lsn(lsn, l, sizeof(l));
    snprintf(sql, sizeof(sql),
             "SELECT CASE WHEN (SELECT min(substr(name, 9, 16)) FROM "
             "pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$') <= "
             "substr(pg_walfile_name('%s'), 9, 16) THEN 'kept ' ELSE "
             "'removed ' END || current_setting('wal_keep_size')",
             l);
    if (pg_value(&M->s[p], RM_TIMEOUT_S, sql, v, sizeof(v), err, cap) != 0)
        return -1;
    *kept = !strncmp(v, "kept ", 5);
    const char *sp = strchr(v, ' ');
    snprintf(keep, keep_cap, "%s", sp ? sp + 1 : "?");
    return 0;
}

void rm_rebuild(struct runner *R, int node, int leader)
{
    struct rmirror *M = R->mir;
    int s = M->of[node];
    if (s < 0)
        return; /* a witness holds no database */
    int p = -1;
    for (int i = 0; i < M->n; i++)
        if (M->st[i] == S_PRIMARY)
            p = i;
    if (p < 0 || p == s) {
        rm_say(R, C_YELLOW, "n%d installed a snapshot, but %s: no base "
                            "backup for %s",
               node, p < 0 ? "no server is the primary" : "its server is it",
               M->s[s].name);
        return;
    }
    /* what PostgreSQL alone would have needed */
    struct pg_obs o;
    pg_observe(&M->s[s], RM_TIMEOUT_S, &o);
    char why[400] = "", keep[64], err[512], l[24];
    bool kept = false;
    if (o.up && o.in_recovery &&
        wal_kept(M, p, o.replay_lsn, &kept, keep, sizeof(keep), err,
                 sizeof(err)) == 0) {
        pg_format_lsn(o.replay_lsn, l, sizeof(l));
        if (kept)
            snprintf(why, sizeof(why), "; here %s still keeps the WAL %s "
                                       "needs from %s (wal_keep_size = %s), "
                                       "so PostgreSQL alone would have "
                                       "caught it up by streaming: the "
                                       "mirror follows n%d's snapshot",
                     M->s[p].name, M->s[s].name, l, keep, node);
        else
            snprintf(why, sizeof(why), "; %s has indeed removed the WAL %s "
                                       "needs from %s (wal_keep_size = %s)",
                     M->s[p].name, M->s[s].name, l, keep);
    }
    char out[512];
    double ms;
    if (rm_control_out(R, "rebuild", s, &ms, out, sizeof(out)) != 0) {
        M->st[s] = S_DOWN;
        return;
    }
    M->st[s] = S_STANDBY;
    M->was_primary[s] = M->cut[s] = M->clean[s] = false;
    M->fenced[s] = M->unfenced[s] = false;
    /* tools/pg-pair rebuild: "base backup N bytes, pg_basebackup + start
     * T ms" (another template may say nothing of the kind) */
    unsigned long long bytes = 0;
    double bb_ms = 0;
    const char *b = strstr(out, "base backup ");
    char size[96] = "";
    if (b && sscanf(b, "base backup %llu bytes, pg_basebackup + start %lf ms",
                    &bytes, &bb_ms) == 2)
        snprintf(size, sizeof(size), "pg_basebackup, %.1f MB, %.0f ms",
                 (double)bytes / 1e6, bb_ms);
    else
        snprintf(size, sizeof(size), "the control command's rebuild");
    rm_say(R, C_GREEN, "%s gets a new base backup from %s (%s; streaming "
                       "after %.0f ms in all) — as a standby past "
                       "wal_keep_size needs, the way n%d took n%d's "
                       "snapshot%s",
           M->s[s].name, M->s[p].name, size, ms, node, leader, why);
    if (!rm_wait_replayed(R, p, 15.0, err, sizeof(err)))
        rm_say(R, C_YELLOW, "after the base backup: %s", err);
}
