// SPDX-License-Identifier: MIT
/*
 * Gate plans: everything about a gate that does not depend on which part
 * of the state a thread works on is computed once here, in portable code,
 * so the per-ISA kernels are loops over loads, FMAs and stores.
 */
#include <errno.h>
#include <string.h>

#include "sv.h"

void *sv_arena_alloc(struct sv_arena *a, size_t bytes)
{
	/* Align the address, not the offset: coefficient vectors are read
	 * with aligned loads. */
	size_t at = a->used + (-(uintptr_t)(a->base + a->used) & 63);

	if (at > a->len || bytes > a->len - at)
		return NULL;
	a->used = at + bytes;
	return a->base + at;
}

/* Write v into a coefficient pair (CR, CI) for lane l of W lanes. */
static void put_lane(void *cr, void *ci, enum qrtx_precision prec, unsigned int l,
		     double complex v)
{
	double re = creal(v), im = cimag(v);

	if (prec == QRTX_PREC_SINGLE) {
		float *r = cr, *i = ci;

		r[2 * l] = r[2 * l + 1] = (float)re;
		i[2 * l] = -(float)im;
		i[2 * l + 1] = (float)im;
	} else {
		double *r = cr, *i = ci;

		r[2 * l] = r[2 * l + 1] = re;
		i[2 * l] = -im;
		i[2 * l + 1] = im;
	}
}

static void sort_u32(uint32_t *v, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		uint32_t x = v[i];
		unsigned int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

int sv_plan_dense(struct sv_plan *p, unsigned int n,
		  enum qrtx_precision prec, unsigned int L,
		  const uint32_t *q, unsigned int k,
		  const uint32_t *c, unsigned int nc,
		  const double complex *m, struct sv_arena *tmp, struct sv_arena *a)
{
	uint32_t tq[SV_MAX_K];		/* matrix bit j is qubit tq[j] */
	unsigned int order[SV_MAX_K];	/* sorted position i is matrix bit order[i] */
	unsigned int kk = k, K, KK, H, D, W = 1u << L, i, j;
	uint64_t promoted;
	const double complex *mp = m;
	double complex *ms;
	size_t save = a->used, tsave = tmp->used;

	memset(p, 0, sizeof(*p));
	p->n = n;
	p->L = L;
	if (k > SV_MAX_K)
		return -E2BIG;
	memcpy(tq, q, k * sizeof(*q));
	for (i = 0; i < nc; i++) {
		if (c[i] < L) {
			if (kk == SV_MAX_K)
				return -E2BIG;
			tq[kk++] = c[i];
		} else {
			p->ins[p->nins++] = c[i];
			p->cmask |= 1ull << c[i];
		}
	}
	K = 1u << k;
	KK = 1u << kk;
	promoted = (KK - 1) & ~(uint64_t)(K - 1);
	p->promoted = kk != k;
	if (kk != k) {
		/* Identity wherever a promoted control is 0, m where all are 1. */
		double complex *mx = sv_arena_alloc(tmp, (size_t)KK * KK * sizeof(*mx));

		if (!mx)
			goto nospace;
		for (unsigned int r = 0; r < KK; r++)
			for (unsigned int s = 0; s < KK; s++) {
				double complex v = 0;

				if ((r & promoted) != (s & promoted))
					v = 0;
				else if ((r & promoted) == promoted)
					v = m[(size_t)(r & (K - 1)) * K + (s & (K - 1))];
				else
					v = r == s;
				mx[(size_t)r * KK + s] = v;
			}
		mp = mx;
	}

	/* Sort targets ascending and permute the matrix to match. */
	for (i = 0; i < kk; i++)
		order[i] = i;
	for (i = 1; i < kk; i++) {
		unsigned int x = order[i];

		for (j = i; j > 0 && tq[order[j - 1]] > tq[x]; j--)
			order[j] = order[j - 1];
		order[j] = x;
	}
	p->k = kk;
	for (i = 0; i < kk; i++) {
		p->t[i] = tq[order[i]];
		if (p->t[i] < L)
			p->klo++;
		else
			p->ins[p->nins++] = p->t[i];
	}
	if (p->klo && KK >= (p->klo == kk ? 2 * SV_XCH_MIN_KK : SV_XCH_MIN_KK)) {
		/* Partners for the lane targets: the lowest free qubits >= L,
		 * so paired vectors stay close in memory. */
		uint64_t used = p->cmask;
		unsigned int found = 0;

		for (i = 0; i < kk; i++)
			used |= 1ull << p->t[i];
		for (uint32_t b = L; b < n && found < p->klo; b++)
			if (!(used & (1ull << b)))
				p->s[found++] = b;
		if (found == p->klo) {
			p->xch = true;
			for (i = 0; i < p->klo; i++)
				p->ins[p->nins++] = p->s[i];
		}
	}
	sort_u32(p->ins, p->nins);
	if (n < L + p->nins)
		return -EINVAL;
	p->ngroups = 1ull << (n - L - p->nins);

	ms = sv_arena_alloc(tmp, (size_t)KK * KK * sizeof(*ms));
	if (!ms)
		goto nospace;
	{
		unsigned int orig[SV_MAX_KK];

		for (unsigned int s = 0; s < KK; s++) {
			orig[s] = 0;
			for (i = 0; i < kk; i++)
				orig[s] |= ((s >> i) & 1u) << order[i];
		}
		for (unsigned int r = 0; r < KK; r++)
			for (unsigned int s = 0; s < KK; s++)
				ms[(size_t)r * KK + s] = mp[(size_t)orig[r] * KK + orig[s]];
	}
	p->real = true;
	for (size_t e = 0; e < (size_t)KK * KK && p->real; e++)
		p->real = cimag(ms[e]) == 0;

	if (p->xch) {
		/* Vector v holds matrix index v once lanes are exchanged. */
		for (unsigned int v = 0; v < KK; v++) {
			uint64_t o = 0;

			for (i = 0; i < kk; i++)
				o |= (uint64_t)((v >> i) & 1u) << (i < p->klo ? p->s[i] : p->t[i]);
			p->off[v] = o;
		}
	}
	H = 1u << (kk - p->klo);
	D = 1u << p->klo;
	for (unsigned int h = 0; h < H && !p->xch; h++) {
		uint64_t o = 0;

		for (i = 0; i < kk - p->klo; i++)
			o |= (uint64_t)((h >> i) & 1u) << p->t[p->klo + i];
		p->off[h] = o;
	}
	for (unsigned int d = 0; d < D; d++) {
		uint32_t x = 0;

		for (i = 0; i < p->klo; i++)
			x |= ((d >> i) & 1u) << p->t[i];
		p->dmask[d] = x;
	}

	if (p->klo == 0 || p->xch) {
		size_t cnt = (size_t)KK * KK;

		if (prec == QRTX_PREC_SINGLE) {
			float *f = sv_arena_alloc(a, cnt * 2 * sizeof(float));

			if (!f)
				goto nospace;
			for (size_t e = 0; e < cnt; e++) {
				f[2 * e] = (float)creal(ms[e]);
				f[2 * e + 1] = (float)cimag(ms[e]);
			}
			p->coef = f;
		} else {
			double *f = sv_arena_alloc(a, cnt * 2 * sizeof(double));

			if (!f)
				goto nospace;
			memcpy(f, ms, cnt * sizeof(*ms));
			p->coef = f;
		}
	} else {
		size_t vbytes = 2 * W * (prec == QRTX_PREC_SINGLE ? sizeof(float) : sizeof(double));
		unsigned char *tab = sv_arena_alloc(a, (size_t)H * H * D * 2 * vbytes);
		unsigned int lidx[1u << SV_MAX_L];

		if (!tab)
			goto nospace;
		for (unsigned int l = 0; l < W; l++) {
			lidx[l] = 0;
			for (i = 0; i < p->klo; i++)
				lidx[l] |= ((l >> p->t[i]) & 1u) << i;
		}
		for (unsigned int hp = 0; hp < H; hp++)
			for (unsigned int h = 0; h < H; h++)
				for (unsigned int d = 0; d < D; d++) {
					size_t e = ((size_t)hp * H + h) * D + d;
					unsigned char *cr = tab + e * 2 * vbytes;

					for (unsigned int l = 0; l < W; l++) {
						unsigned int row, col;

						row = lidx[l] | hp << p->klo;
						col = lidx[l ^ p->dmask[d]] | h << p->klo;
						put_lane(cr, cr + vbytes, prec, l,
							 ms[(size_t)row * KK + col]);
					}
				}
		p->coef = tab;
	}
	tmp->used = tsave;
	return 0;
nospace:
	a->used = save;
	tmp->used = tsave;
	return -ENOSPC;
}

/* Entries wide enough that a third fewer multiplications pay for
 * splitting and rejoining real and imaginary parts (measured with
 * bench/sv_bench; see Documentation/runtime/engine.rst). */
#define SV_PAIR_MIN_KK 4

int sv_plan_pair(struct sv_plan *p, enum qrtx_precision prec, struct sv_arena *a)
{
	unsigned int KK = 1u << p->k;
	size_t cnt = (size_t)KK * KK;
	uint64_t used = 0;
	int top = -1;

	/* Lane targets only in exchange mode, and never with promoted
	 * controls: the split product is not exact, and amplitudes whose
	 * controls are 0 must come out untouched. */
	if (p->real || (p->klo && !p->xch) || p->promoted || KK < SV_PAIR_MIN_KK ||
	    p->ngroups < 2)
		return 0;
	for (unsigned int i = 0; i < p->nins; i++)
		used |= 1ull << p->ins[i];
	for (int b = (int)p->n - 1; b >= (int)p->L && top < 0; b--)
		if (!(used & (1ull << b)))
			top = b;
	if (top < 0)
		return 0;
	if (prec == QRTX_PREC_SINGLE) {
		const float *m = p->coef;
		float *f = sv_arena_alloc(a, cnt * 3 * sizeof(float));

		if (!f)
			return -ENOSPC;
		for (size_t e = 0; e < cnt; e++) {
			f[3 * e] = m[2 * e];
			f[3 * e + 1] = m[2 * e + 1] - m[2 * e];
			f[3 * e + 2] = m[2 * e] + m[2 * e + 1];
		}
		p->coef3 = f;
	} else {
		const double *m = p->coef;
		double *f = sv_arena_alloc(a, cnt * 3 * sizeof(double));

		if (!f)
			return -ENOSPC;
		for (size_t e = 0; e < cnt; e++) {
			f[3 * e] = m[2 * e];
			f[3 * e + 1] = m[2 * e + 1] - m[2 * e];
			f[3 * e + 2] = m[2 * e] + m[2 * e + 1];
		}
		p->coef3 = f;
	}
	p->paired = true;
	p->pair_off = 1ull << top;
	p->ngroups /= 2;
	return 0;
}

int sv_plan_diag(struct sv_plan *p, unsigned int n,
		 enum qrtx_precision prec, unsigned int L,
		 const uint32_t *q, unsigned int k, const double complex *d,
		 struct sv_arena *a)
{
	unsigned int W = 1u << L, hj[SV_MAX_DIAG_TABLE], lidx[1u << SV_MAX_L], i, j;
	size_t vbytes = 2 * W * (prec == QRTX_PREC_SINGLE ? sizeof(float) : sizeof(double));
	unsigned char *tab;

	memset(p, 0, sizeof(*p));
	p->n = n;
	p->L = L;
	if (n < L)
		return -EINVAL;
	for (j = 0; j < k; j++) {
		if (q[j] < L)
			continue;
		if (p->nhi == SV_MAX_DIAG_TABLE)
			return -E2BIG;
		/* Insert keeping hq ascending, hj alongside. */
		for (i = p->nhi; i > 0 && p->hq[i - 1] > q[j]; i--) {
			p->hq[i] = p->hq[i - 1];
			hj[i] = hj[i - 1];
		}
		p->hq[i] = q[j];
		hj[i] = j;
		p->nhi++;
	}
	for (unsigned int l = 0; l < W; l++) {
		lidx[l] = 0;
		for (j = 0; j < k; j++)
			if (q[j] < L)
				lidx[l] |= ((l >> q[j]) & 1u) << j;
	}
	tab = sv_arena_alloc(a, ((size_t)1 << p->nhi) * 2 * vbytes);
	if (!tab)
		return -ENOSPC;
	for (size_t pat = 0; pat < ((size_t)1 << p->nhi); pat++) {
		unsigned int hi = 0;
		unsigned char *cr = tab + pat * 2 * vbytes;

		for (i = 0; i < p->nhi; i++)
			hi |= ((pat >> i) & 1u) << hj[i];
		for (unsigned int l = 0; l < W; l++)
			put_lane(cr, cr + vbytes, prec, l, d[hi | lidx[l]]);
	}
	p->coef = tab;
	p->ngroups = 1ull << (n - L);
	return 0;
}
