// SPDX-License-Identifier: MIT
/*
 * AVX-512 kernels (F + DQ + VL): a vector holds 4 complex128 or 8
 * complex64 amplitudes, so qubits 0-1 (double) or 0-2 (single) are lanes.
 */
#include <immintrin.h>

#include "sv.h"

static inline __m512d swapneg_pd(__m512d v)
{
	const __m512d sign = _mm512_set_pd(0.0, -0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0);

	return _mm512_xor_pd(_mm512_permute_pd(v, 0x55), sign);
}

static inline __m512i pidx_pd(uint32_t mask)
{
	long long e[8];

	for (int i = 0; i < 8; i++)
		e[i] = 2 * ((i >> 1) ^ (long long)mask) + (i & 1);
	return _mm512_loadu_si512(e);
}

/* Element indices for permutex2var: lane l of the result takes, for
 * which == 0, a[l] where bit t of l is clear, else b[l ^ 2^t]; for
 * which == 1, a[l | 2^t] where bit t is clear, else b[l]. */
static inline void xidx_fill(int *e, int lanes, unsigned int t, int which)
{
	for (int i = 0; i < 2 * lanes; i++) {
		int l = i >> 1, part = i & 1, bit = 1 << t, src;

		if (!(l & bit))
			src = which ? 2 * (l | bit) + part : 2 * l + part;
		else
			src = which ? 2 * lanes + 2 * l + part : 2 * lanes + 2 * (l ^ bit) + part;
		e[i] = src;
	}
}

static inline __m512i xidx_pd(unsigned int t, int which)
{
	int e[8];
	long long q[8];

	xidx_fill(e, 4, t, which);
	for (int i = 0; i < 8; i++)
		q[i] = e[i];
	return _mm512_loadu_si512(q);
}

static inline __m512i xidx_ps(unsigned int t, int which)
{
	int e[16];

	xidx_fill(e, 8, t, which);
	return _mm512_loadu_si512(e);
}

#define SFX avx512_d
#define ET double
#define VT __m512d
#define LB 2
#define V_LOAD(p) _mm512_loadu_pd(p)
#define V_LOADC(p) _mm512_load_pd(p)
#define V_STORE(p, v) _mm512_storeu_pd(p, v)
#define V_BCAST(x) _mm512_set1_pd(x)
#define V_ADD(a, b) _mm512_add_pd(a, b)
#define V_MUL(a, b) _mm512_mul_pd(a, b)
#define V_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define V_SUB(a, b) _mm512_sub_pd(a, b)
/* In-lane unpacks: cheap, and their own inverse pairing. */
#define V_DEIL_RE(v0, v1) _mm512_unpacklo_pd(v0, v1)
#define V_DEIL_IM(v0, v1) _mm512_unpackhi_pd(v0, v1)
#define V_REIL_0(re, im) _mm512_unpacklo_pd(re, im)
#define V_REIL_1(re, im) _mm512_unpackhi_pd(re, im)
#define V_SWAP(v) _mm512_permute_pd(v, 0x55)
#define V_SWAPNEG(v) swapneg_pd(v)
#define PIDX __m512i
#define V_PIDX(m) pidx_pd(m)
#define V_PERM(v, idx) _mm512_permutexvar_pd(idx, v)
#define XIDX __m512i
#define V_XIDX(t, w) xidx_pd(t, w)
#define V_XCH(a, b, ix) do {						\
		__m512d u0_ = _mm512_permutex2var_pd(a, (ix)[0], b);	\
		__m512d u1_ = _mm512_permutex2var_pd(a, (ix)[1], b);	\
		(a) = u0_;						\
		(b) = u1_;						\
	} while (0)
#include "kern_tmpl.h"

static inline __m512 swapneg_ps(__m512 v)
{
	const __m512 sign = _mm512_set_ps(0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f,
					  0.f, -0.f, 0.f, -0.f, 0.f, -0.f, 0.f, -0.f);

	return _mm512_xor_ps(_mm512_permute_ps(v, 0xb1), sign);
}

static inline __m512i pidx_ps(uint32_t mask)
{
	int e[16];

	for (int i = 0; i < 16; i++)
		e[i] = 2 * ((i >> 1) ^ (int)mask) + (i & 1);
	return _mm512_loadu_si512(e);
}

#define SFX avx512_s
#define ET float
#define VT __m512
#define LB 3
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_LOADC(p) _mm512_load_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_BCAST(x) _mm512_set1_ps(x)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_SUB(a, b) _mm512_sub_ps(a, b)
#define V_DEIL_RE(v0, v1) _mm512_shuffle_ps(v0, v1, 0x88)
#define V_DEIL_IM(v0, v1) _mm512_shuffle_ps(v0, v1, 0xdd)
#define V_REIL_0(re, im) _mm512_unpacklo_ps(re, im)
#define V_REIL_1(re, im) _mm512_unpackhi_ps(re, im)
#define V_SWAP(v) _mm512_permute_ps(v, 0xb1)
#define V_SWAPNEG(v) swapneg_ps(v)
#define PIDX __m512i
#define V_PIDX(m) pidx_ps(m)
#define V_PERM(v, idx) _mm512_permutexvar_ps(idx, v)
#define XIDX __m512i
#define V_XIDX(t, w) xidx_ps(t, w)
#define V_XCH(a, b, ix) do {						\
		__m512 u0_ = _mm512_permutex2var_ps(a, (ix)[0], b);	\
		__m512 u1_ = _mm512_permutex2var_ps(a, (ix)[1], b);	\
		(a) = u0_;						\
		(b) = u1_;						\
	} while (0)
#include "kern_tmpl.h"

const struct sv_isa sv_isa_avx512 = {
	.name = "avx512",
	.L = { [QRTX_PREC_DOUBLE] = 2, [QRTX_PREC_SINGLE] = 3 },
	.dense = { [QRTX_PREC_DOUBLE] = dense_avx512_d, [QRTX_PREC_SINGLE] = dense_avx512_s },
	.diag = { [QRTX_PREC_DOUBLE] = diag_avx512_d, [QRTX_PREC_SINGLE] = diag_avx512_s },
	.pair3m = true,
};
