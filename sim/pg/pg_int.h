/*
 * pg_int.h — what the files of sim/pg share beyond pg.h: a bounded libpq
 * connection and a server's message made one printable line.  Only the
 * files of sim/pg include it (the rest of raftsim never sees libpq).
 */
#ifndef RAFTSIM_SIM_PG_INT_H
#define RAFTSIM_SIM_PG_INT_H

#include <libpq-fe.h>

#include "sim/pg/pg.h"

/* connect_timeout and statement_timeout from timeout_s; NULL with why in
 * err when the server cannot be reached. */
PGconn *pg_connect_bounded(const struct pg_server *s, double timeout_s,
                           char *err, size_t cap);
/* "server NAME: first line of m", control characters escaped. */
void pg_error_line(char *err, size_t cap, const char *who, const char *m);

#endif
