// SPDX-License-Identifier: MIT
/*
 * AVX2 + FMA kernels: a vector holds 2 complex128 or 4 complex64
 * amplitudes, so qubit 0 (double) or qubits 0-1 (single) are lanes.
 */
#include <immintrin.h>

#include "sv.h"

static inline __m256d swapneg_pd(__m256d v)
{
	const __m256d sign = _mm256_set_pd(0.0, -0.0, 0.0, -0.0);

	return _mm256_xor_pd(_mm256_permute_pd(v, 0x5), sign);
}

#define SFX avx2_d
#define ET double
#define VT __m256d
#define LB 1
#define V_LOAD(p) _mm256_loadu_pd(p)
#define V_LOADC(p) _mm256_load_pd(p)
#define V_STORE(p, v) _mm256_storeu_pd(p, v)
#define V_BCAST(x) _mm256_set1_pd(x)
#define V_ADD(a, b) _mm256_add_pd(a, b)
#define V_MUL(a, b) _mm256_mul_pd(a, b)
#define V_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define V_SUB(a, b) _mm256_sub_pd(a, b)
#define V_DEIL_RE(v0, v1) _mm256_unpacklo_pd(v0, v1)
#define V_DEIL_IM(v0, v1) _mm256_unpackhi_pd(v0, v1)
#define V_REIL_0(re, im) _mm256_unpacklo_pd(re, im)
#define V_REIL_1(re, im) _mm256_unpackhi_pd(re, im)
#define V_SWAP(v) _mm256_permute_pd(v, 0x5)
#define V_SWAPNEG(v) swapneg_pd(v)
/* Two lanes: the only permutation is the exchange of the halves. */
#define PIDX int
#define V_PIDX(m) ((int)(m))
#define V_PERM(v, idx) ((void)(idx), _mm256_permute4x64_pd(v, 0x4e))
/* Two lanes: lane bit 0 is the only one, exchanged by 128-bit halves. */
#define XIDX int
#define V_XIDX(t, w) ((int)(t))
#define V_XCH(a, b, ix) do {						\
		__m256d u0_ = _mm256_permute2f128_pd(a, b, 0x20);	\
		__m256d u1_ = _mm256_permute2f128_pd(a, b, 0x31);	\
		(void)(ix);						\
		(a) = u0_;						\
		(b) = u1_;						\
	} while (0)
#include "kern_tmpl.h"

static inline __m256 swapneg_ps(__m256 v)
{
	const __m256 sign = _mm256_set_ps(0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f);

	return _mm256_xor_ps(_mm256_permute_ps(v, 0xb1), sign);
}

static inline __m256i pidx_ps(uint32_t mask)
{
	int e[8];

	for (int i = 0; i < 8; i++)
		e[i] = 2 * ((i >> 1) ^ (int)mask) + (i & 1);
	return _mm256_loadu_si256((const __m256i *)e);
}

#define SFX avx2_s
#define ET float
#define VT __m256
#define LB 2
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_LOADC(p) _mm256_load_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_BCAST(x) _mm256_set1_ps(x)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_SUB(a, b) _mm256_sub_ps(a, b)
#define V_DEIL_RE(v0, v1) _mm256_shuffle_ps(v0, v1, 0x88)
#define V_DEIL_IM(v0, v1) _mm256_shuffle_ps(v0, v1, 0xdd)
#define V_REIL_0(re, im) _mm256_unpacklo_ps(re, im)
#define V_REIL_1(re, im) _mm256_unpackhi_ps(re, im)
#define V_SWAP(v) _mm256_permute_ps(v, 0xb1)
#define V_SWAPNEG(v) swapneg_ps(v)
#define PIDX __m256i
#define V_PIDX(m) pidx_ps(m)
#define V_PERM(v, idx) _mm256_permutevar8x32_ps(v, idx)
/* Four lanes: bit 0 pairs complex values inside 128-bit halves
 * (shuffle_ps), bit 1 pairs the halves (permute2f128). */
#define XIDX int
#define V_XIDX(t, w) ((int)(t))
#define V_XCH(a, b, ix) do {						\
		__m256 u0_, u1_;					\
		if ((ix)[0] == 0) {					\
			u0_ = _mm256_shuffle_ps(a, b, 0x44);		\
			u1_ = _mm256_shuffle_ps(a, b, 0xee);		\
		} else {						\
			u0_ = _mm256_permute2f128_ps(a, b, 0x20);	\
			u1_ = _mm256_permute2f128_ps(a, b, 0x31);	\
		}							\
		(a) = u0_;						\
		(b) = u1_;						\
	} while (0)
#include "kern_tmpl.h"

const struct sv_isa sv_isa_avx2 = {
	.name = "avx2",
	.L = { [QRTX_PREC_DOUBLE] = 1, [QRTX_PREC_SINGLE] = 2 },
	.dense = { [QRTX_PREC_DOUBLE] = dense_avx2_d, [QRTX_PREC_SINGLE] = dense_avx2_s },
	.diag = { [QRTX_PREC_DOUBLE] = diag_avx2_d, [QRTX_PREC_SINGLE] = diag_avx2_s },
	.pair3m = true,
};
