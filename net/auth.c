/*
 * auth.c — see auth.h.  HMAC-SHA256 through OpenSSL 3's EVP_MAC: one
 * context per key, keyed once and re-initialised per message (a NULL key
 * to EVP_MAC_init keeps the key), so a frame costs no allocation.
 */
#include "net/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct net_mac {
    EVP_MAC_CTX *ctx;
};

struct net_mac *net_mac_new(const void *key, size_t key_len)
{
    if (!key || key_len == 0)
        return NULL;
    /* Fetched per context: cheap next to a connection, and no global
     * state shared between threads (tests run loops in parallel). */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return NULL;
    struct net_mac *m = calloc(1, sizeof(*m));
    if (m)
        m->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context holds its own reference */
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!m || !m->ctx || !EVP_MAC_init(m->ctx, key, key_len, params)) {
        net_mac_free(m);
        return NULL;
    }
    return m;
}

void net_mac_free(struct net_mac *m)
{
    if (!m)
        return;
    EVP_MAC_CTX_free(m->ctx);
    free(m);
}

struct part {
    const void *p;
    size_t len;
};

static int mac_parts(struct net_mac *m, const struct part *parts, int n,
                     unsigned char out[NET_MAC_LEN])
{
    size_t got = 0;
    int ok = m && EVP_MAC_init(m->ctx, NULL, 0, NULL);
    for (int i = 0; ok && i < n; i++)
        ok = parts[i].len == 0 ||
             EVP_MAC_update(m->ctx, parts[i].p, parts[i].len);
    ok = ok && EVP_MAC_final(m->ctx, out, &got, NET_MAC_LEN) &&
         got == NET_MAC_LEN;
    if (!ok)
        memset(out, 0, NET_MAC_LEN);
    return ok ? 0 : -1;
}

int net_auth_hs_mac(struct net_mac *key, int role,
                    const struct net_auth_hs *hs,
                    unsigned char out[NET_MAC_LEN])
{
    static const char *const label[] = {"", "raftsim dialer proof",
                                        "raftsim acceptor proof",
                                        "raftsim session key"};
    if (role < NET_AUTH_DIALER || role > NET_AUTH_SESSION ||
        hs->cluster_id_len > 255) {
        memset(out, 0, NET_MAC_LEN);
        return -1;
    }
    /* Every variable field is length-prefixed or fixed-size, so no two
     * different handshakes hash the same bytes. */
    unsigned char fixed[6] = {
        2, /* version of this layout */
        (unsigned char)hs->cluster_id_len,
        (unsigned char)(hs->from >> 8), (unsigned char)hs->from,
        (unsigned char)(hs->to >> 8), (unsigned char)hs->to,
    };
    struct part parts[] = {
        {label[role], strlen(label[role]) + 1},
        {fixed, 2},
        {hs->cluster_id, hs->cluster_id_len},
        {fixed + 2, 4},
        {hs->nonce_a, NET_NONCE_LEN},
        {hs->nonce_b, NET_NONCE_LEN},
    };
    return mac_parts(key, parts, 6, out);
}

int net_auth_frame_tag(struct net_mac *session, uint8_t dir, uint64_t seq,
                       const void *body, size_t len,
                       unsigned char out[NET_MAC_LEN])
{
    unsigned char hdr[9];
    hdr[0] = dir;
    for (int i = 0; i < 8; i++)
        hdr[1 + i] = (unsigned char)(seq >> (56 - 8 * i));
    struct part parts[] = {{hdr, sizeof(hdr)}, {body, len}};
    return mac_parts(session, parts, 2, out);
}

bool net_auth_equal(const unsigned char *a, const unsigned char *b)
{
    return CRYPTO_memcmp(a, b, NET_MAC_LEN) == 0;
}

int net_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    size_t got = 0;
    /* bounded: getrandom returns at least 256 bytes per call once the
     * pool is initialised, so a few calls always suffice */
    for (int tries = 0; got < len && tries < 64; tries++) {
        ssize_t r = getrandom(p + got, len - got, 0);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r > 0)
            got += (size_t)r;
    }
    return got == len ? 0 : -EIO;
}

int net_key_load(const char *path, unsigned char *key, size_t *key_len,
                 char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open key file '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "key file '%s' is not a regular file", path);
        close(fd);
        return -1;
    }
    size_t n = 0;
    unsigned char extra;
    for (int k = 0; k < 1000 && n < NET_KEY_MAX; k++) {
        ssize_t r = read(fd, key + n, NET_KEY_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read key file '%s': %s", path,
                     strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    bool more = n == NET_KEY_MAX && read(fd, &extra, 1) == 1;
    close(fd);
    if (more || n < NET_KEY_MIN) {
        snprintf(err, errlen,
                 "key file '%s' has %s bytes; a key is %d to %d bytes "
                 "(e.g. head -c 32 /dev/urandom > FILE)",
                 path, more ? "too many" : n == 0 ? "no" : "too few",
                 NET_KEY_MIN, NET_KEY_MAX);
        explicit_bzero(key, NET_KEY_MAX);
        return -1;
    }
    *key_len = n;
    return 0;
}
