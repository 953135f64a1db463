/*
 * prng.h — the one source of randomness in raftsim: xoshiro256**
 * (Blackman & Vigna), seeded through splitmix64.  Written here rather than
 * taken from a library because it is twenty lines, Debian ships no C
 * package for it, and libc's rand()/random() keep global state, which the
 * core may not have.  Same seed, same sequence, on every machine.
 */
#ifndef RAFTSIM_PRNG_H
#define RAFTSIM_PRNG_H

#include <stdint.h>

struct prng {
    uint64_t s[4];
};

static inline uint64_t prng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline void prng_seed(struct prng *p, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        p->s[i] = prng_splitmix64(&seed);
}

static inline uint64_t prng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t prng_next(struct prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = prng_rotl(s[3], 45);
    return result;
}

/* Uniform in [lo, hi] (inclusive).  The modulo bias is below 2^-40 for
 * the ranges used here (microsecond timeouts), which no test can see. */
static inline uint64_t prng_range(struct prng *p, uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + prng_next(p) % (hi - lo + 1);
}

/* Uniform in [0, 1). */
static inline double prng_double(struct prng *p)
{
    return (double)(prng_next(p) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
