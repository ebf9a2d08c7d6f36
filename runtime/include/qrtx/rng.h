/* SPDX-License-Identifier: MIT */
/* Seeded generator for sampling: the same seed gives the same stream on
 * every machine and thread count (xoshiro256** seeded by splitmix64). */
#ifndef QRTX_RNG_H
#define QRTX_RNG_H

#include <stdint.h>

struct qrtx_rng {
	uint64_t s[4];
};

void qrtx_rng_seed(struct qrtx_rng *r, uint64_t seed);
uint64_t qrtx_rng_next(struct qrtx_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double qrtx_rng_uniform(struct qrtx_rng *r);

#endif
