/*
 * pg_repl.h — PostgreSQL's own replication settings, computed (pure: no
 * server, tested without one): which standbys a primary's commit waits
 * for (synchronous_standby_names, PostgreSQL 15 docs §27.2.8) and where a
 * standby streams from (primary_conninfo, §27.2.4).  The mirror
 * (sim/runner/runner_mirror_setup.c) applies them with ALTER SYSTEM.
 */
#ifndef RAFTSIM_SIM_PG_REPL_H
#define RAFTSIM_SIM_PG_REPL_H

#include <stddef.h>

/* What a commit waits for. */
enum pg_ack {
    PG_ACK_LOCAL, /* nothing but the primary's own WAL (async) */
    PG_ACK_ANY,   /* any k standbys (a quorum) */
    PG_ACK_ALL,   /* every standby */
};

/* synchronous_standby_names for server `self` of names[0..n): the other
 * servers are its standbys.  PG_ACK_LOCAL → ""; PG_ACK_ANY → "ANY k (…)"
 * with k = quorum - 1 (the primary counts itself), at most the number of
 * standbys; PG_ACK_ALL → "FIRST n (…)" with every standby.  No standby, or
 * k = 0, gives "".  *k is how many standbys a commit waits for; *capped is
 * 1 when quorum - 1 was more than there are standbys.  Names that are not
 * plain identifiers are double-quoted.  0, or -1 when out is too small. */
int pg_sync_names(enum pg_ack ack, int quorum, const char *const *names,
                  int n, int self, char *out, size_t cap, int *k,
                  int *capped);

/* A standby's primary_conninfo pointed at another primary: the host,
 * hostaddr and port of primary_conninfo (the mirror's connection string
 * for that server, URI or key=value) replace the standby's, everything
 * else (user, application_name, passfile, …) is kept.  The result is
 * key='value' pairs.  0, or -1 with a message in err. */
int pg_conninfo_repoint(const char *standby, const char *primary, char *out,
                        size_t cap, char *err, size_t ecap);

#endif
