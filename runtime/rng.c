// SPDX-License-Identifier: MIT
/*
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64, so that any
 * 64-bit seed, zero included, gives a well-mixed nonzero state. The stream
 * depends only on the seed: no hidden state, no thread interaction.
 */
#include "qrtx/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void qrtx_rng_seed(struct qrtx_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

uint64_t qrtx_rng_next(struct qrtx_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double qrtx_rng_uniform(struct qrtx_rng *r)
{
	/* The top 53 bits fill a double's mantissa exactly: k * 2^-53. */
	return (double)(qrtx_rng_next(r) >> 11) * 0x1.0p-53;
}
