/*
 * ctl.c — the control channel's records (ctl.h): a length prefix, a
 * fixed header and a payload, checked before use; a configuration
 * change's record carries the configuration's text (raft/membership.c).
 */
#include "net/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctl_wire_hdr {
    uint8_t type, flag;
    uint8_t pad[2];
    int32_t a;
    uint64_t t_us, b;
};

static int reserve(struct net_buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return NET_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int ctl_encode(struct net_buf *out, const struct ctl_rec *r)
{
    size_t body = sizeof(struct ctl_wire_hdr) + r->plen;
    if (body > CTL_REC_MAX)
        return NET_ETOOBIG;
    if (reserve(out, 4 + body) != 0)
        return NET_ENOMEM;
    unsigned char *p = (unsigned char *)out->data + out->len;
    p[0] = (unsigned char)(body >> 24);
    p[1] = (unsigned char)(body >> 16);
    p[2] = (unsigned char)(body >> 8);
    p[3] = (unsigned char)body;
    struct ctl_wire_hdr h;
    memset(&h, 0, sizeof(h));
    h.type = r->type;
    h.flag = r->flag;
    h.a = r->a;
    h.t_us = r->t_us;
    h.b = r->b;
    memcpy(p + 4, &h, sizeof(h));
    if (r->plen)
        memcpy(p + 4 + sizeof(h), r->payload, r->plen);
    out->len += 4 + body;
    return 0;
}

int ctl_parse(const char *body, size_t len, struct ctl_rec *r)
{
    struct ctl_wire_hdr h;
    if (len < sizeof(h) || len > CTL_REC_MAX)
        return NET_EPROTO;
    memcpy(&h, body, sizeof(h));
    r->type = h.type;
    r->flag = h.flag;
    r->a = h.a;
    r->t_us = h.t_us;
    r->b = h.b;
    r->payload = body + sizeof(h);
    r->plen = (uint32_t)(len - sizeof(h));
    return 0;
}

int ctl_members_rec(struct ctl_rec *r, uint8_t type,
                    const struct raft_membership *m, char *buf, size_t cap)
{
    int len = raft_membership_format(m, buf, cap);
    if (len < 0 || (size_t)len >= cap)
        return -1;
    memset(r, 0, sizeof(*r));
    r->type = type;
    r->payload = buf;
    r->plen = (uint32_t)len;
    return 0;
}

int ctl_members_parse(const struct ctl_rec *r, int n_nodes,
                      struct raft_membership *out)
{
    if (r->type != CTL_C_MEMBERS && r->type != CTL_R_MEMBERS)
        return -1;
    return raft_membership_parse(r->payload, r->plen, n_nodes, out);
}

int ctl_write_all(int fd, const char *p, size_t n)
{
    int waited_ms = 0;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            /* a descriptor libuv polls is non-blocking: wait for room,
             * bounded (a reader that takes 30 s is gone for us) */
            if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
                waited_ms < 30000) {
                struct pollfd pf = {.fd = fd, .events = POLLOUT};
                poll(&pf, 1, 100);
                waited_ms += 100;
                continue;
            }
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int ctl_send(int fd, const struct ctl_rec *r)
{
    struct net_buf b = {0};
    int rc = ctl_encode(&b, r);
    if (rc == 0)
        rc = ctl_write_all(fd, b.data, b.len);
    net_buf_free(&b);
    return rc;
}
