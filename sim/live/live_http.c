/*
 * live_http.c — `raftsim serve`: a live session on libmicrohttpd for the
 * projector and the students' laptops.
 *
 * GET / (the page, compiled in), /live.js, /live.css; GET /events (Server-
 * Sent Events: every event of the timeline from its start, then each one
 * as the display clock reaches it); GET /state (a snapshot); GET /export
 * (the scenario file); POST /act (one scenario line) and POST /control
 * (one control line), which need the controller's token.  A thread per
 * connection, because an event stream blocks while it waits for the
 * clock; connections, viewers and bodies are bounded.
 */
#define _GNU_SOURCE
#include "sim/live/live_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "live_assets.h" /* generated from sim/live/live_page.html … */
#include "sim/util/util.h"

#define MAX_BODY 4096
#define SSE_POLL_MS 250
#define KEEPALIVE_S 10
#define CLOCK_EVERY_MS 200

struct live_http {
    struct MHD_Daemon *d;
    struct live_session *s;
    char token[33];
    int max_viewers;
    atomic_int viewers;
    atomic_bool stopping;
    uint16_t port;
};

const char *live_http_token(const struct live_http *h) { return h->token; }
uint16_t live_http_port(const struct live_http *h) { return h->port; }

/* ------------------------------------------------------------------ */
/* Responses                                                           */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
                                 const char *type, const char *body,
                                 size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(
        r, "Content-Security-Policy",
        "default-src 'self'; connect-src 'self'; style-src 'self'; "
        "script-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result plain(struct MHD_Connection *c, unsigned status,
                             const char *msg)
{
    char buf[8192];
    int n = snprintf(buf, sizeof(buf), "%s\n", msg);
    return send_text(c, status, "text/plain; charset=utf-8", buf,
                     (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ------------------------------------------------------------------ */
/* The event stream                                                    */

struct sse {
    struct live_http *h;
    uint64_t gen;
    size_t idx;
    bool started;
    double last_clock_s, last_byte_s;
    char *view;    /* the last view line sent */
    char *pending; /* bytes not yet handed to MHD */
    size_t plen, poff;
};

/* Fill c->pending with the next messages; false at shutdown. */
static bool sse_fill(struct sse *x)
{
    struct live_http *h = x->h;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return false;
    size_t released;
    uint64_t gen = live_wait(h->s, x->gen, x->idx, x->started ? SSE_POLL_MS : 0,
                             &released);
    if (!x->started || gen != x->gen) {
        if (x->started || gen > 1)
            fprintf(f, "event: reset\ndata: {\"generation\":%llu,\"t_us\":%llu}\n\n",
                    (unsigned long long)gen,
                    (unsigned long long)live_present_us(h->s));
        x->gen = gen;
        x->idx = 0;
        x->started = true;
        x->last_clock_s = 0;
        free(x->view); /* a new generation: told again */
        x->view = NULL;
    }
    int sent = 0;
    while (x->idx < released && sent < 2000) {
        enum live_kind k;
        char *j = live_entry_json(h->s, x->gen, x->idx, &k);
        if (!j)
            break; /* a new generation: next round */
        fprintf(f, "id: %zu\nevent: %s\ndata: %s\n\n", x->idx,
                k == LIVE_TRACE ? "trace" : "narration", j);
        free(j);
        x->idx++;
        sent++;
    }
    double now = util_wall_s();
    if (now - x->last_clock_s >= CLOCK_EVERY_MS / 1e3) {
        char clk[512];
        live_clock_json(h->s, clk, sizeof(clk));
        fprintf(f, "event: clock\ndata: %s\n\n", clk);
        x->last_clock_s = now;
    }
    /* the view line (timers, client names) whenever it changed */
    char *view = live_view_json(h->s);
    if (view && (!x->view || strcmp(view, x->view))) {
        fprintf(f, "event: view\ndata: %s\n\n", view);
        free(x->view);
        x->view = view;
    } else
        free(view);
    fclose(f);
    if (len == 0 && now - x->last_byte_s >= KEEPALIVE_S) {
        free(buf);
        buf = strdup(": keep-alive\n\n");
        len = buf ? strlen(buf) : 0;
    }
    if (len)
        x->last_byte_s = now;
    free(x->pending);
    x->pending = buf;
    x->plen = len;
    x->poff = 0;
    return !atomic_load(&h->stopping);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct sse *x = cls;
    for (int rounds = 0; x->poff >= x->plen; rounds++) {
        if (!sse_fill(x))
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (x->plen == 0 && rounds > 40)
            break; /* nothing for ~10 s: let MHD check the connection */
    }
    size_t n = x->plen - x->poff;
    if (n > max)
        n = max;
    memcpy(out, x->pending + x->poff, n);
    x->poff += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse *x = cls;
    atomic_fetch_sub(&x->h->viewers, 1);
    free(x->view);
    free(x->pending);
    free(x);
}

static enum MHD_Result events(struct live_http *h, struct MHD_Connection *c)
{
    if (atomic_fetch_add(&h->viewers, 1) >= h->max_viewers) {
        atomic_fetch_sub(&h->viewers, 1);
        return plain(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                     "too many viewers (at most 256); try again later");
    }
    struct sse *x = calloc(1, sizeof(*x));
    if (!x) {
        atomic_fetch_sub(&h->viewers, 1);
        return MHD_NO;
    }
    x->h = h;
    x->last_byte_s = util_wall_s();
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 64 * 1024, sse_read, x, sse_free);
    if (!r) {
        sse_free(x);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

struct post {
    char body[MAX_BODY + 1];
    size_t len;
    bool too_big;
};

static enum MHD_Result has_abandoned(void *cls, enum MHD_ValueKind kind,
                                     const char *key, const char *value)
{
    (void)kind;
    (void)value;
    if (key && !strcmp(key, "abandoned"))
        *(bool *)cls = true;
    return MHD_YES;
}

static bool token_ok(struct live_http *h, struct MHD_Connection *c)
{
    const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!t && a && !strncmp(a, "Bearer ", 7))
        t = a + 7;
    if (!t || strlen(t) != 32)
        return false;
    unsigned diff = 0; /* the same time whatever matches */
    for (int i = 0; i < 32; i++)
        diff |= (unsigned)(t[i] ^ h->token[i]);
    return diff == 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *data,
                              size_t *data_size, void **con_cls)
{
    (void)version;
    struct live_http *h = cls;
    bool is_post = !strcmp(method, "POST");
    if (is_post) {
        struct post *p = *con_cls;
        if (!p) {
            p = calloc(1, sizeof(*p));
            if (!p)
                return MHD_NO;
            *con_cls = p;
            return MHD_YES;
        }
        if (*data_size) {
            if (p->len + *data_size > MAX_BODY)
                p->too_big = true;
            else {
                memcpy(p->body + p->len, data, *data_size);
                p->len += *data_size;
            }
            *data_size = 0;
            return MHD_YES;
        }
        p->body[p->len] = 0;
        if (strcmp(url, "/act") && strcmp(url, "/control"))
            return plain(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
        if (!token_ok(h, c))
            return plain(c, MHD_HTTP_FORBIDDEN,
                         "acting needs the controller's token (?token=T or "
                         "Authorization: Bearer T)");
        if (p->too_big)
            return plain(c, 413,
                         "the body is larger than 4096 bytes: send one line");
        while (p->len && (p->body[p->len - 1] == '\n' || p->body[p->len - 1] == '\r'))
            p->body[--p->len] = 0;
        if (memchr(p->body, 0, p->len))
            return plain(c, MHD_HTTP_BAD_REQUEST, "the body holds a NUL byte");
        char msg[8192];
        int rc = !strcmp(url, "/act")
                     ? live_act(h->s, p->body, msg, sizeof(msg))
                     : live_control(h->s, p->body, msg, sizeof(msg));
        return plain(c, rc == 0 ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST, msg);
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST only");
    if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
        return send_text(c, MHD_HTTP_OK, "text/html; charset=utf-8",
                         live_page_html, strlen(live_page_html));
    if (!strcmp(url, "/live.js"))
        return send_text(c, MHD_HTTP_OK, "text/javascript; charset=utf-8",
                         live_js, strlen(live_js));
    if (!strcmp(url, "/live_cluster.js"))
        return send_text(c, MHD_HTTP_OK, "text/javascript; charset=utf-8",
                         live_cluster_js, strlen(live_cluster_js));
    if (!strcmp(url, "/live_clients.js"))
        return send_text(c, MHD_HTTP_OK, "text/javascript; charset=utf-8",
                         live_clients_js, strlen(live_clients_js));
    if (!strcmp(url, "/live_act.js"))
        return send_text(c, MHD_HTTP_OK, "text/javascript; charset=utf-8",
                         live_act_js, strlen(live_act_js));
    if (!strcmp(url, "/live.css"))
        return send_text(c, MHD_HTTP_OK, "text/css; charset=utf-8", live_css,
                         strlen(live_css));
    /* the views shared with the report page (sim/report/) and the live
     * page's timeline view built on them */
    static const struct {
        const char *url, *type, *body;
    } views[] = {
        {"/report_model.js", "text/javascript; charset=utf-8", report_model_js},
        {"/report_lamport.js", "text/javascript; charset=utf-8", report_lamport_js},
        {"/report_wal.js", "text/javascript; charset=utf-8", report_wal_js},
        {"/report_views.css", "text/css; charset=utf-8", report_views_css},
        {"/live_timeline.js", "text/javascript; charset=utf-8", live_timeline_js},
        {"/live_timeline.css", "text/css; charset=utf-8", live_timeline_css},
    };
    for (size_t k = 0; k < sizeof(views) / sizeof(views[0]); k++)
        if (!strcmp(url, views[k].url))
            return send_text(c, MHD_HTTP_OK, views[k].type, views[k].body,
                             strlen(views[k].body));
    if (!strcmp(url, "/events"))
        return events(h, c);
    if (!strcmp(url, "/state") || !strcmp(url, "/export")) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            return MHD_NO;
        bool st = !strcmp(url, "/state");
        int rc = 0;
        if (st)
            live_state_json(h->s, f);
        else {
            /* `?abandoned` has no value, which the lookup cannot tell
             * from no argument at all: look at the keys */
            bool ab = false;
            MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, has_abandoned, &ab);
            rc = live_export(h->s, f, ab);
        }
        fclose(f);
        if (rc != 0) {
            free(buf);
            return plain(c, MHD_HTTP_NOT_FOUND, "no abandoned timeline: nothing "
                                                "was forked yet");
        }
        struct MHD_Response *r =
            MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(buf);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type",
                                st ? "application/json" : "text/plain; charset=utf-8");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        if (!st)
            MHD_add_response_header(r, "Content-Disposition",
                                    "attachment; filename=\"live-session.scn\"");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    return plain(c, MHD_HTTP_NOT_FOUND, "no such page");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

int live_http_start(struct live_session *s, const struct sockaddr_in *addr,
                    struct live_http **out, char *err, size_t cap)
{
    *out = NULL;
    struct live_http *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    h->s = s;
    h->max_viewers = LIVE_MAX_VIEWERS;
    unsigned char raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        snprintf(err, cap, "no randomness for the token: %s", strerror(errno));
        free(h);
        return -1;
    }
    for (int i = 0; i < 16; i++)
        snprintf(h->token + 2 * i, 3, "%02x", raw[i]);
    h->d = MHD_start_daemon(
        /* no MHD_USE_ERROR_LOG: a viewer closing its tab is not an
         * error a teacher should read; failing to listen is said below */
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
        0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(LIVE_MAX_VIEWERS + 64),
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(LIVE_MAX_VIEWERS + 32),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, cap, "cannot listen on %s:%u: %s",
                 inet_ntoa(addr->sin_addr), ntohs(addr->sin_port),
                 strerror(errno ? errno : EADDRINUSE));
        free(h);
        return -1;
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : ntohs(addr->sin_port);
    *out = h;
    return 0;
}

void live_http_stop(struct live_http *h)
{
    if (!h)
        return;
    atomic_store(&h->stopping, true);
    live_wake_all(h->s);
    MHD_stop_daemon(h->d);
    free(h);
}
