/*
 * live_http.h — `raftsim serve`: one live session (live.h) served over
 * HTTP to a controller (with a random 128-bit token) and up to
 * LIVE_MAX_VIEWERS viewers.  The endpoints are in live_http.c and the
 * README ("Live classroom").
 */
#ifndef RAFTSIM_SIM_LIVE_HTTP_H
#define RAFTSIM_SIM_LIVE_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/live/live.h"

#define LIVE_MAX_VIEWERS 256

struct live_http;
/* Listen on addr (port 0: a free one); 0, or -1 with a message. */
int live_http_start(struct live_session *s, const struct sockaddr_in *addr,
                    struct live_http **out, char *err, size_t cap);
const char *live_http_token(const struct live_http *h); /* 32 hex digits */
uint16_t live_http_port(const struct live_http *h);
void live_http_stop(struct live_http *h);

#endif
