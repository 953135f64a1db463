/*
 * pg.h — a real PostgreSQL primary/standby pair seen through libpq:
 * observing each server (role, timeline, WAL positions, lag) and judging
 * the pair's health (`raftsim pg status`, `raftsim pg health`, and the
 * scenario mirror).
 *
 * Every call is bounded: connections use connect_timeout and every
 * statement a statement_timeout, so a server that is down or hung costs
 * at most a few seconds and is reported by name, never a crash or a hang.
 *
 * The folder sim/pg/ is PostgreSQL alone: observing (this file), the
 * health endpoint (pg_http.h) and the control command template
 * (pg_control.h).  It knows nothing of raft or scenarios; the mirror that
 * maps a scenario's decisions onto servers is sim/runner/runner_mirror.c.
 */
#ifndef RAFTSIM_SIM_PG_H
#define RAFTSIM_SIM_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PG_MAX_SERVERS 8
#define PG_NAME_MAX 15

struct pg_server {
    char name[PG_NAME_MAX + 1]; /* "a", "b" */
    char *conninfo;             /* owned; a URI or key=value string */
};

/* One server, as one query saw it. */
struct pg_obs {
    bool up;              /* the query succeeded */
    char error[256];      /* why not, when !up */
    bool in_recovery;     /* a standby */
    bool read_only;       /* default_transaction_read_only = on */
    uint32_t timeline;
    /* WAL positions as byte offsets (PostgreSQL's X/Y), 0 when unknown */
    uint64_t current_lsn; /* primary: pg_current_wal_lsn() */
    uint64_t receive_lsn; /* standby: pg_last_wal_receive_lsn() */
    uint64_t replay_lsn;  /* standby: pg_last_wal_replay_lsn() */
    bool streaming;       /* standby: its WAL receiver is streaming */
    /* primary: its standbys (pg_stat_replication) */
    int n_standbys;
    uint64_t lag_bytes;   /* largest pg_wal_lsn_diff(current, replay) */
    double lag_s;         /* largest replay_lag, seconds */
    /* primary: each standby as pg_stat_replication shows it (by its
     * application_name; the first PG_MAX_SERVERS) */
    struct pg_standby {
        char name[PG_NAME_MAX + 1];
        char state[16];      /* streaming, catchup, … */
        char sync_state[12]; /* async, sync, quorum, potential */
        uint64_t replay_lsn;
        uint64_t lag_bytes;  /* pg_wal_lsn_diff(current, replay) */
        double lag_s;        /* replay_lag (0 when PostgreSQL shows none) */
    } sb[PG_MAX_SERVERS];
    int n_sb;
    double took_ms;       /* how long the observation took */
};

/* Accepts writes: a primary that is not fenced read-only. */
static inline bool pg_writable(const struct pg_obs *o)
{
    return o->up && !o->in_recovery && !o->read_only;
}

/* "a=URI" → server; -1 with a message in err when malformed. */
int pg_server_parse(const char *spec, struct pg_server *s, char *err,
                    size_t cap);
void pg_server_free(struct pg_server *s);
/* The lab servers of tools/pg-pair: those its pair directory lists
 * ($RAFTSIM_PG_DIR, default .pg-pair/ at the repo root: the file
 * "servers"), else a and b on $RAFTSIM_PG_PORT_BASE (default 5433) and the
 * next port; each with the pair's password file (passfile=DIR/pgpass) when
 * it exists.  RAFTSIM_PG_HOST overrides 127.0.0.1. */
int pg_default_servers(struct pg_server *s, int cap);

/* Observe one server; timeout_s bounds connecting and the query. */
void pg_observe(const struct pg_server *s, double timeout_s, struct pg_obs *o);

/* Why an observation failed, from libpq's message (the mirror's watch,
 * runner_mirror_watch.c, decides on it):
 *   PG_FAIL_NONE     it answered (o->up);
 *   PG_FAIL_REFUSED  the connection was refused: nothing listens on the
 *                    port, so no client can reach the server;
 *   PG_FAIL_GONE     the server closed the connection under us (a kill
 *                    during the connection or the query), or says it is
 *                    shutting down: its postmaster may still be there;
 *   PG_FAIL_OTHER    a timeout or anything else: perhaps only slow. */
enum pg_fail { PG_FAIL_NONE, PG_FAIL_REFUSED, PG_FAIL_GONE, PG_FAIL_OTHER };
enum pg_fail pg_obs_failure(const struct pg_obs *o);

/* The primary's view of the standby called name (its application_name);
 * NULL when it is not connected. */
const struct pg_standby *pg_standby_of(const struct pg_obs *primary,
                                       const char *name);

/* Run SQL statements on a server (no result rows); 0, or -1 with the
 * server's message in err. */
int pg_exec(const struct pg_server *s, double timeout_s, const char *sql,
            char *err, size_t cap);

/* Promote a standby (pg_promote(false), PostgreSQL's signal) and wait,
 * polling pg_is_in_recovery() on the same session, until it is out of
 * recovery and takes writes; *polls: how many times it asked.  0, or -1
 * with the server's message (or a timeout after timeout_s) in err.
 * (pg_promote.c: pg_promote(true)'s own wait checks every 100 ms.) */
int pg_promote_now(const struct pg_server *s, double timeout_s, int *polls,
                   char *err, size_t cap);

/* The mirror's table: raftsim_kv(lsn, term, key, value, node, pg_lsn). */
int pg_mirror_table(const struct pg_server *s, double timeout_s, char *err,
                    size_t cap);
/* Insert one simulated entry; *pg_lsn is the server's WAL position once
 * it is committed.  sync: synchronous_commit = on (else local); a standby that does not
 * confirm within timeout_s leaves the row committed locally only (*waited
 * says so).  0, or -1 with the server's message. */
int pg_insert_row(const struct pg_server *s, double timeout_s, bool sync,
                  uint64_t lsn, uint64_t term, const char *key,
                  const char *value, const char *node, uint64_t *pg_lsn,
                  bool *waited, char *err, size_t cap);
/* The (lsn, term, key) of every row on a server, in lsn order. */
struct pg_row {
    uint64_t lsn, term;
    char key[32];
};
int pg_rows(const struct pg_server *s, double timeout_s, struct pg_row **rows,
            int *n, char *err, size_t cap);
/* One text value (SHOW x, SELECT f()); 0, or -1 with a message. */
int pg_value(const struct pg_server *s, double timeout_s, const char *sql,
             char *out, size_t out_cap, char *err, size_t cap);

/* "0/3000148" → 0x3000148; false when malformed. */
bool pg_parse_lsn(const char *text, uint64_t *out);
void pg_format_lsn(uint64_t lsn, char *buf, size_t cap);

/* The pair's health, from observations (pure: tested without servers). */
struct pg_health {
    int http_status;       /* 200, or 503 without exactly one writer */
    const char *mode;      /* "read-write", "read-only", "split-brain" */
    int primary;           /* index of the writable server, or -1 */
    int writable;          /* how many servers accept writes */
    double lag_s;          /* replay lag seen by the primary */
    uint64_t lag_bytes;
    bool lag_alert;        /* lag_s over the threshold */
    bool replica_ok;       /* some standby is up and streaming */
};
void pg_health_judge(const struct pg_obs *obs, int n, double lag_alert_s,
                     struct pg_health *h);
/* {"primary":"ok","replica":"ok","lag_seconds":0.02,"lag_bytes":0,...} */
int pg_health_json(const struct pg_health *h, const struct pg_server *s,
                   const struct pg_obs *obs, int n, char *buf, size_t cap);

/* The status table of `raftsim pg status`. */
void pg_status_print(FILE *out, const struct pg_server *s,
                     const struct pg_obs *obs, int n);

#endif
