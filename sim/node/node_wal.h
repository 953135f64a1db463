/*
 * node_wal.h — the standalone node's file (node_wal.c): its input log,
 * appended before each input and fdatasync'ed before a message leaves
 * after its durable state changed.
 */
#ifndef RAFTSIM_SIM_NODE_WAL_H
#define RAFTSIM_SIM_NODE_WAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "net/ctl.h"

struct node_wal {
    int fd;
    char path[4200];
    uint64_t records, bytes, syncs;
    double sync_s, sync_max_s;
    bool dirty;
};

/* Open DIR/nID.wal and read what it holds into *old (caller frees with
 * net_buf_free); a file that does not exist is created holding header
 * alone, atomically.  0, or -1 with err set. */
int node_wal_open(struct node_wal *w, const char *dir, int id,
                  const struct ctl_rec *header, struct net_buf *old,
                  char *err, size_t len);
/* Cut the file to its first `keep` bytes (the whole records replayed). */
int node_wal_trim(struct node_wal *w, size_t keep);
int node_wal_append(struct node_wal *w, const struct ctl_rec *r);
/* fdatasync if anything was appended since the last one (timed). */
int node_wal_sync(struct node_wal *w);
/* Sync, print the counts and the fsync cost on out (may be NULL), close. */
void node_wal_close(struct node_wal *w, FILE *out, int id);

#endif
