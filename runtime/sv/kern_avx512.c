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

/* Lane bit t of a and b exchanged (see V_XCH in kern_tmpl.h); lanes are
 * 128-bit (one complex128). */
static inline __attribute__((always_inline)) void xch_pd(__m512d *a, __m512d *b, int t)
{
	__m512d u0, u1;

	if (t == 0) {
		/* a with lanes 1 and 3 taken from b's 0 and 2, b with
		 * lanes 0 and 2 taken from a's 1 and 3 */
		u0 = _mm512_mask_shuffle_f64x2(*a, 0xcc, *b, *b, 0xa0);
		u1 = _mm512_mask_shuffle_f64x2(*b, 0x33, *a, *a, 0x31);
	} else {
		u0 = _mm512_shuffle_f64x2(*a, *b, 0x44);
		u1 = _mm512_shuffle_f64x2(*a, *b, 0xee);
	}
	*a = u0;
	*b = u1;
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
/* Exchanges by immediate 128-bit lane shuffles, not permutex2var: on
 * some cores (AMD Zen 4) the latter takes the FMA pipes, and a fused
 * gate on a lane qubit does dozens per group. */
#define XIDX int
#define V_XIDX(t, w) ((void)(w), (int)(t))
#define V_XCH(a, b, ix) xch_pd(&(a), &(b), (ix)[0])
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

/* The same for complex64: lane bit 0 pairs 64-bit halves of 128-bit
 * lanes, bits 1 and 2 pair 128-bit lanes as xch_pd's bits 0 and 1. */
static inline __attribute__((always_inline)) void xch_ps(__m512 *a, __m512 *b, int t)
{
	__m512d x = _mm512_castps_pd(*a), y = _mm512_castps_pd(*b), u0, u1;

	if (t == 0) {
		u0 = _mm512_unpacklo_pd(x, y);
		u1 = _mm512_unpackhi_pd(x, y);
	} else {
		u0 = x;
		u1 = y;
		xch_pd(&u0, &u1, t - 1);
	}
	*a = _mm512_castpd_ps(u0);
	*b = _mm512_castpd_ps(u1);
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
#define XIDX int
#define V_XIDX(t, w) ((void)(w), (int)(t))
#define V_XCH(a, b, ix) xch_ps(&(a), &(b), (ix)[0])
#include "kern_tmpl.h"

const struct sv_isa sv_isa_avx512 = {
	.name = "avx512",
	.L = { [QRTX_PREC_DOUBLE] = 2, [QRTX_PREC_SINGLE] = 3 },
	.dense = { [QRTX_PREC_DOUBLE] = dense_avx512_d, [QRTX_PREC_SINGLE] = dense_avx512_s },
	.diag = { [QRTX_PREC_DOUBLE] = diag_avx512_d, [QRTX_PREC_SINGLE] = diag_avx512_s },
	.pair3m = true,
};
