// SPDX-License-Identifier: MIT
/*
 * Portable kernels: the same template with a "vector" of one complex
 * amplitude (GCC generic vectors of two elements), so every ISA shares one
 * description of the algorithms. Used where no SIMD level is detected and
 * when a caller asks for no_simd (tests compare the two).
 */
#include <string.h>

#include "sv.h"

typedef double pv2d __attribute__((vector_size(16)));
typedef float pv2f __attribute__((vector_size(8)));

static inline pv2d load_d(const double *p)
{
	pv2d v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void store_d(double *p, pv2d v)
{
	memcpy(p, &v, sizeof(v));
}

static inline pv2f load_f(const float *p)
{
	pv2f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void store_f(float *p, pv2f v)
{
	memcpy(p, &v, sizeof(v));
}

#define SFX portable_d
#define ET double
#define VT pv2d
#define LB 0
#define V_LOAD(p) load_d(p)
#define V_LOADC(p) load_d(p)
#define V_STORE(p, v) store_d(p, v)
#define V_BCAST(x) ((pv2d){ (x), (x) })
#define V_ADD(a, b) ((a) + (b))
#define V_MUL(a, b) ((a) * (b))
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define V_SWAP(v) ((pv2d){ (v)[1], (v)[0] })
#define V_SWAPNEG(v) ((pv2d){ -(v)[1], (v)[0] })
#include "kern_tmpl.h"

#define SFX portable_s
#define ET float
#define VT pv2f
#define LB 0
#define V_LOAD(p) load_f(p)
#define V_LOADC(p) load_f(p)
#define V_STORE(p, v) store_f(p, v)
#define V_BCAST(x) ((pv2f){ (x), (x) })
#define V_ADD(a, b) ((a) + (b))
#define V_MUL(a, b) ((a) * (b))
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define V_SWAP(v) ((pv2f){ (v)[1], (v)[0] })
#define V_SWAPNEG(v) ((pv2f){ -(v)[1], (v)[0] })
#include "kern_tmpl.h"

const struct sv_isa sv_isa_portable = {
	.name = "portable",
	.L = { [QRTX_PREC_DOUBLE] = 0, [QRTX_PREC_SINGLE] = 0 },
	.dense = { [QRTX_PREC_DOUBLE] = dense_portable_d, [QRTX_PREC_SINGLE] = dense_portable_s },
	.diag = { [QRTX_PREC_DOUBLE] = diag_portable_d, [QRTX_PREC_SINGLE] = diag_portable_s },
};
