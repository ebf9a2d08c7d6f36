// SPDX-License-Identifier: MIT
/*
 * The sampling generator: the published xoshiro256** stream seeded by
 * splitmix64 (expected values computed by an independent implementation),
 * uniforms in [0, 1) with 53 bits, and independence from anything but
 * the seed.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qrtx/rng.h"

static void test_known_streams(void **state)
{
	struct qrtx_rng r;

	(void)state;
	/* seed 0: splitmix64's first outputs are the state */
	qrtx_rng_seed(&r, 0);
	assert_true(r.s[0] == 0xe220a8397b1dcdafULL);
	assert_true(r.s[1] == 0x6e789e6aa1b965f4ULL);
	assert_true(r.s[2] == 0x06c45d188009454fULL);
	assert_true(r.s[3] == 0xf88bb8a8724c81ecULL);
	assert_true(qrtx_rng_next(&r) == 0x99ec5f36cb75f2b4ULL);
	assert_true(qrtx_rng_next(&r) == 0xbf6e1f784956452aULL);
	assert_true(qrtx_rng_next(&r) == 0x1a5f849d4933e6e0ULL);
	assert_true(qrtx_rng_next(&r) == 0x6aa594f1262d2d2cULL);

	qrtx_rng_seed(&r, 42);
	assert_true(qrtx_rng_next(&r) == 0x15780b2e0c2ec716ULL);
	assert_true(qrtx_rng_next(&r) == 0x6104d9866d113a7eULL);
	assert_true(qrtx_rng_next(&r) == 0xae17533239e499a1ULL);
	assert_true(qrtx_rng_next(&r) == 0xecb8ad4703b360a1ULL);
	/* the fifth output's top 53 bits, scaled */
	assert_true(qrtx_rng_uniform(&r) == 0.9918039142821028);
}

static void test_same_seed_same_stream(void **state)
{
	struct qrtx_rng a, b, c;

	(void)state;
	qrtx_rng_seed(&a, 7);
	qrtx_rng_seed(&b, 7);
	qrtx_rng_seed(&c, 8);
	int differ = 0;

	for (int i = 0; i < 1000; i++) {
		uint64_t x = qrtx_rng_next(&a);

		assert_true(x == qrtx_rng_next(&b));
		differ += x != qrtx_rng_next(&c);
	}
	assert_true(differ > 990);
}

static void test_uniform(void **state)
{
	struct qrtx_rng r;
	const int n = 200000;
	double sum = 0, sq = 0, lo = 1, hi = 0;
	int bins[10] = { 0 };
	double chi = 0;

	(void)state;
	qrtx_rng_seed(&r, 2024);
	for (int i = 0; i < n; i++) {
		double u = qrtx_rng_uniform(&r);

		assert_true(u >= 0.0 && u < 1.0);
		/* exactly k * 2^-53 */
		assert_true(u * 0x1.0p53 == floor(u * 0x1.0p53));
		sum += u;
		sq += u * u;
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		bins[(int)(u * 10)]++;
	}
	assert_true(fabs(sum / n - 0.5) < 0.005);
	assert_true(fabs(sq / n - 1.0 / 3) < 0.005);
	assert_true(lo < 1e-4 && hi > 1 - 1e-4);
	for (int b = 0; b < 10; b++)
		chi += pow(bins[b] - n / 10.0, 2) / (n / 10.0);
	/* 9 degrees of freedom: P(chi2 > 27.9) = 1e-3 */
	assert_true(chi < 27.9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_streams),
		cmocka_unit_test(test_same_seed_same_stream),
		cmocka_unit_test(test_uniform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
