/*
 * auth.h — the secret a cluster's nodes share, and what the transport
 * computes from it: the handshake proofs, the per-connection session key
 * and the MAC that every frame after the handshake carries.
 *
 * The handshake (tcp.h) on a connection from dialer A to acceptor B:
 *
 *   A -> B  HELLO      cluster id, from, to, nonce_a (fresh random)
 *   B -> A  CHALLENGE  nonce_b (fresh random), proof_b
 *   A -> B  AUTH       proof_a
 *
 * proof_x = HMAC(key, role_x | version | cluster id | from | to | nonce_a |
 * nonce_b), with a different role label for each side, so neither proof
 * can be reflected as the other and both sides have shown the key.  B's
 * nonce makes a recorded AUTH worthless on a new connection: a replayed
 * handshake fails.  Both sides then derive
 * session = HMAC(key, "session" | the same fields), and every later frame
 * A sends carries tag = HMAC(session, direction | seq | body), seq
 * counting that direction's frames from 0: a frame that is tampered with,
 * replayed, dropped from the middle or reordered fails its tag.
 *
 * Why OpenSSL's HMAC-SHA256 (libcrypto) and not libsodium: libpq already
 * links libcrypto, so the binary gains no library; HMAC-SHA256 is the
 * standard MAC (RFC 2104 / FIPS 198) a teacher can look up, and OpenSSL
 * gives the constant-time comparison (CRYPTO_memcmp) with it.  Randomness
 * (keys, nonces) comes from getrandom(2), the kernel's CSPRNG.
 *
 * Not here: encryption (frames are readable on the wire; the goal is that
 * nobody without the key can join or change a frame), key rotation.
 */
#ifndef RAFTSIM_NET_AUTH_H
#define RAFTSIM_NET_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_KEY_MIN 16     /* bytes of a key file */
#define NET_KEY_MAX 4096
#define NET_KEY_RANDOM 32  /* bytes of a per-run random key */
#define NET_NONCE_LEN 32
#define NET_MAC_LEN 32     /* HMAC-SHA256 */

enum { NET_AUTH_DIALER = 1, NET_AUTH_ACCEPTOR = 2, NET_AUTH_SESSION = 3 };

/* The fields both sides of a handshake agree on. */
struct net_auth_hs {
    const char *cluster_id;
    size_t cluster_id_len;
    int from, to; /* the dialer and the acceptor */
    unsigned char nonce_a[NET_NONCE_LEN], nonce_b[NET_NONCE_LEN];
};

/* HMAC-SHA256 with one key, reusable for many messages. */
struct net_mac;
struct net_mac *net_mac_new(const void *key, size_t key_len);
void net_mac_free(struct net_mac *m);
/* out = HMAC(key, what) for the handshake: role is NET_AUTH_DIALER,
 * NET_AUTH_ACCEPTOR (the proofs) or NET_AUTH_SESSION (the session key).
 * 0, or -1 if OpenSSL failed (out is then zeroed, never a valid MAC). */
int net_auth_hs_mac(struct net_mac *key, int role,
                    const struct net_auth_hs *hs,
                    unsigned char out[NET_MAC_LEN]);
/* out = HMAC(session, dir | seq | body).  0 or -1 as above. */
int net_auth_frame_tag(struct net_mac *session, uint8_t dir, uint64_t seq,
                       const void *body, size_t len,
                       unsigned char out[NET_MAC_LEN]);
/* Constant-time comparison of two MACs. */
bool net_auth_equal(const unsigned char *a, const unsigned char *b);

/* len bytes from the kernel's CSPRNG.  0 or a negative errno. */
int net_random(void *buf, size_t len);
/* Reads a key file: NET_KEY_MIN..NET_KEY_MAX bytes, used verbatim (every
 * node of a cluster reads the same file).  0, or -1 with err set. */
int net_key_load(const char *path, unsigned char *key, size_t *key_len,
                 char *err, size_t errlen);

#endif
