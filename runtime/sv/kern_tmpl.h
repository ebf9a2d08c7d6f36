/* SPDX-License-Identifier: MIT */
/*
 * Gate kernels, written once over a small vector vocabulary and included
 * by each ISA's file for each precision. The includer defines:
 *
 *   SFX          suffix of the generated names (e.g. avx512_d)
 *   ET, VT, LB   element type, vector type, lane bits (W = 2^LB amplitudes)
 *   V_LOAD(p), V_STORE(p, v)   any alignment
 *   V_LOADC(p)   a coefficient vector (64-byte aligned)
 *   V_BCAST(x), V_ADD(a, b), V_MUL(a, b), V_FMA(a, b, c) = a * b + c
 *   V_SWAP(v)    (re, im) -> (im, re) in every lane
 *   V_SWAPNEG(v) (re, im) -> (-im, re)
 *   PIDX, V_PIDX(mask), V_PERM(v, idx)   lane l takes lane l ^ mask
 *   XIDX, V_XIDX(t, which), V_XCH(a, b, ix)   exchange lane bit t with the
 *                bit that tells a from b: afterwards a holds the lanes of
 *                both with bit t clear, b those with bit t set (ix is an
 *                XIDX[2] from V_XIDX(t, 0) and V_XIDX(t, 1))
 *
 * and optionally, for paired plans (struct sv_plan), V_SUB(a, b) and
 * V_DEIL_RE(v0, v1), V_DEIL_IM(v0, v1): the real and the imaginary parts
 * of two vectors' amplitudes, in some order; V_REIL_0(re, im),
 * V_REIL_1(re, im): the two vectors back from such parts;
 *
 * and gets FN(dense) and FN(diag) with the sv_kernel_fn signature.
 *
 * Complex arithmetic without shuffles in the inner loop: for a matrix
 * entry u = ur + i ui and amplitudes x, u x = ur * x + ui * (-im, re),
 * so each input is swapped once and every entry costs two FMAs. A real
 * matrix (plan->real) needs neither the swap nor the second FMA.
 */

#define SV_CAT_(a, b) a##_##b
#define SV_CAT(a, b) SV_CAT_(a, b)
#define FN(name) SV_CAT(name, SFX)
#define TW (1u << LB)
#define SV_INLINE static inline __attribute__((always_inline))
#ifndef SV_PF_DIST
#define SV_PF_DIST 4
#endif

SV_INLINE uint64_t FN(group_base)(const struct sv_plan *p, uint64_t g)
{
	uint64_t b = g << LB;

	for (unsigned int i = 0; i < p->nins; i++)
		b = sv_insert_zero(b, p->ins[i]);
	return sv_deposit(p, b | p->cmask);
}

/* A run of n consecutive vectors from a local index whose low bits are
 * clear, cut where its real place stops being consecutive. */
SV_INLINE uint64_t FN(seg_run)(const struct sv_plan *p, uint64_t n)
{
	return p->smask && n > 1ull << (p->seg - LB) ? 1ull << (p->seg - LB) : n;
}

/* Consecutive groups whose vectors are consecutive too. */
SV_INLINE uint64_t FN(group_run)(const struct sv_plan *p)
{
	return FN(seg_run)(p, p->nins ? 1ull << (p->ins[0] - LB) : p->ngroups);
}

/* Targets all >= L: each matrix entry is broadcast across the lanes. */
SV_INLINE void FN(bcast_k)(const struct sv_plan *p, ET *amps, uint64_t g, uint64_t gend,
			   const unsigned int K, const bool R)
{
	const ET *m = p->coef;
	const unsigned int RB = K < 4 ? K : 4;
	uint64_t off[SV_MAX_KK], run = FN(group_run)(p);

	for (unsigned int h = 0; h < K; h++)
		off[h] = 2 * p->off[h];
	while (g < gend) {
		uint64_t base = FN(group_base)(p, g);
		uint64_t stop = (g | (run - 1)) + 1;

		if (stop > gend)
			stop = gend;
		for (; g < stop; g++, base += TW) {
			ET *a = amps + 2 * base;
			VT x[SV_MAX_KK], xs[SV_MAX_KK];

			/* Wide gates read many streams, too many for the hardware
			 * prefetchers: fetch the group SV_PF_DIST ahead. */
			if (K >= 8 && g + SV_PF_DIST < stop)
#pragma GCC unroll 8
				for (unsigned int h = 0; h < K; h++)
					__builtin_prefetch(a + off[h] + 2 * SV_PF_DIST * TW, 1, 3);
#pragma GCC unroll 8
			for (unsigned int h = 0; h < K; h++) {
				x[h] = V_LOAD(a + off[h]);
				if (!R)
					xs[h] = V_SWAPNEG(x[h]);
			}
			for (unsigned int r = 0; r < K; r += RB) {
				VT ar[4], ai[4];
				const ET *mr = m + 2 * (size_t)r * K;

#pragma GCC unroll 4
				for (unsigned int i = 0; i < RB; i++) {
					ar[i] = V_MUL(V_BCAST(mr[2 * i * K]), x[0]);
					if (!R)
						ai[i] = V_MUL(V_BCAST(mr[2 * i * K + 1]), xs[0]);
				}
#pragma GCC unroll 8
				for (unsigned int h = 1; h < K; h++) {
#pragma GCC unroll 4
					for (unsigned int i = 0; i < RB; i++) {
						const ET *e = mr + 2 * (i * K + h);

						ar[i] = V_FMA(V_BCAST(e[0]), x[h], ar[i]);
						if (!R)
							ai[i] = V_FMA(V_BCAST(e[1]), xs[h], ai[i]);
					}
				}
#pragma GCC unroll 4
				for (unsigned int i = 0; i < RB; i++)
					V_STORE(a + off[r + i], R ? ar[i] : V_ADD(ar[i], ai[i]));
			}
		}
	}
}

#ifdef V_DEIL_RE
/*
 * Paired plans: a complex matrix with every target >= L applied to a
 * group and its pair at once. Their amplitudes are split into real parts
 * a and imaginary parts b (two vectors' worth each), and each entry
 * u = c + di costs three FMAs for the two vectors instead of four:
 * re = sum c(a + b) - sum (c + d) b, im = sum c(a + b) + sum (d - c) a.
 */
SV_INLINE void FN(pair_k)(const struct sv_plan *p, ET *amps, uint64_t g, uint64_t gend,
			  const unsigned int K)
{
	const ET *m = p->coef3;
	const unsigned int RB = K < 2 ? K : 2;
	uint64_t off[SV_MAX_KK], run = FN(group_run)(p), po = 2 * p->pair_off;

	for (unsigned int h = 0; h < K; h++)
		off[h] = 2 * p->off[h];
	while (g < gend) {
		uint64_t base = FN(group_base)(p, g);
		uint64_t stop = (g | (run - 1)) + 1;

		if (stop > gend)
			stop = gend;
		for (; g < stop; g++, base += TW) {
			ET *a = amps + 2 * base;
			VT re[SV_MAX_KK], im[SV_MAX_KK], sm[SV_MAX_KK];

			if (K >= 8 && g + SV_PF_DIST < stop)
#pragma GCC unroll 8
				for (unsigned int h = 0; h < K; h++) {
					__builtin_prefetch(a + off[h] + 2 * SV_PF_DIST * TW, 1, 3);
					__builtin_prefetch(a + po + off[h] + 2 * SV_PF_DIST * TW, 1, 3);
				}
#pragma GCC unroll 8
			for (unsigned int h = 0; h < K; h++) {
				VT v0 = V_LOAD(a + off[h]), v1 = V_LOAD(a + po + off[h]);

				re[h] = V_DEIL_RE(v0, v1);
				im[h] = V_DEIL_IM(v0, v1);
				sm[h] = V_ADD(re[h], im[h]);
			}
#pragma GCC unroll 4
			for (unsigned int r = 0; r < K; r += RB) {
				VT k1[2], k2[2], k3[2];

#pragma GCC unroll 2
				for (unsigned int i = 0; i < RB; i++) {
					const ET *e = m + 3 * (size_t)(r + i) * K;

					k1[i] = V_MUL(V_BCAST(e[0]), sm[0]);
					k2[i] = V_MUL(V_BCAST(e[1]), re[0]);
					k3[i] = V_MUL(V_BCAST(e[2]), im[0]);
				}
#pragma GCC unroll 8
				for (unsigned int h = 1; h < K; h++) {
#pragma GCC unroll 2
					for (unsigned int i = 0; i < RB; i++) {
						const ET *e = m + 3 * ((size_t)(r + i) * K + h);

						k1[i] = V_FMA(V_BCAST(e[0]), sm[h], k1[i]);
						k2[i] = V_FMA(V_BCAST(e[1]), re[h], k2[i]);
						k3[i] = V_FMA(V_BCAST(e[2]), im[h], k3[i]);
					}
				}
#pragma GCC unroll 2
				for (unsigned int i = 0; i < RB; i++) {
					VT ore = V_SUB(k1[i], k3[i]), oim = V_ADD(k1[i], k2[i]);

					V_STORE(a + off[r + i], V_REIL_0(ore, oim));
					V_STORE(a + po + off[r + i], V_REIL_1(ore, oim));
				}
			}
		}
	}
}

#if LB > 0
/* Paired in exchange mode: the lane targets of both groups are swapped
 * into vector bits first (see xch_k) and back at the end. The rows are
 * written out again rather than shared with pair_k through an inline
 * helper: that version measured about 30 % slower here (3.8 against 5.0
 * cycles per amplitude, three qubits from qubit 1, one thread, in L2). */
SV_INLINE void FN(xch_pair_k)(const struct sv_plan *p, ET *amps, uint64_t g, uint64_t gend,
			      const unsigned int K, const unsigned int klo)
{
	const ET *m = p->coef3;
	const unsigned int RB = K < 2 ? K : 2;
	uint64_t off[SV_MAX_KK], run = FN(group_run)(p), po = 2 * p->pair_off;
	XIDX xi[SV_MAX_L][2];

	for (unsigned int h = 0; h < K; h++)
		off[h] = 2 * p->off[h];
	for (unsigned int j = 0; j < klo; j++) {
		unsigned int t = klo == LB ? j : p->t[j];

		xi[j][0] = V_XIDX(t, 0);
		xi[j][1] = V_XIDX(t, 1);
	}
	while (g < gend) {
		uint64_t base = FN(group_base)(p, g);
		uint64_t stop = (g | (run - 1)) + 1;

		if (stop > gend)
			stop = gend;
		for (; g < stop; g++, base += TW) {
			ET *a = amps + 2 * base;
			VT re[SV_MAX_KK], im[SV_MAX_KK], sm[SV_MAX_KK];

#pragma GCC unroll 8
			for (unsigned int h = 0; h < K; h++) {
				re[h] = V_LOAD(a + off[h]);
				im[h] = V_LOAD(a + po + off[h]);
			}
#pragma GCC unroll 3
			for (unsigned int j = 0; j < klo; j++)
#pragma GCC unroll 8
				for (unsigned int v = 0; v < K; v++)
					if (!(v & (1u << j))) {
						V_XCH(re[v], re[v | (1u << j)], xi[j]);
						V_XCH(im[v], im[v | (1u << j)], xi[j]);
					}
#pragma GCC unroll 8
			for (unsigned int h = 0; h < K; h++) {
				VT v0 = re[h], v1 = im[h];

				re[h] = V_DEIL_RE(v0, v1);
				im[h] = V_DEIL_IM(v0, v1);
				sm[h] = V_ADD(re[h], im[h]);
			}
#pragma GCC unroll 4
			for (unsigned int r = 0; r < K; r += RB) {
				VT k1[2], k2[2], k3[2];

#pragma GCC unroll 2
				for (unsigned int i = 0; i < RB; i++) {
					const ET *e = m + 3 * (size_t)(r + i) * K;

					k1[i] = V_MUL(V_BCAST(e[0]), sm[0]);
					k2[i] = V_MUL(V_BCAST(e[1]), re[0]);
					k3[i] = V_MUL(V_BCAST(e[2]), im[0]);
				}
#pragma GCC unroll 8
				for (unsigned int h = 1; h < K; h++) {
#pragma GCC unroll 2
					for (unsigned int i = 0; i < RB; i++) {
						const ET *e = m + 3 * ((size_t)(r + i) * K + h);

						k1[i] = V_FMA(V_BCAST(e[0]), sm[h], k1[i]);
						k2[i] = V_FMA(V_BCAST(e[1]), re[h], k2[i]);
						k3[i] = V_FMA(V_BCAST(e[2]), im[h], k3[i]);
					}
				}
				/* Outputs overwrite sm[], whose rows are all read. */
#pragma GCC unroll 2
				for (unsigned int i = 0; i < RB; i++) {
					VT ore = V_SUB(k1[i], k3[i]), oim = V_ADD(k1[i], k2[i]);

					k1[i] = V_REIL_0(ore, oim);
					k2[i] = V_REIL_1(ore, oim);
				}
#pragma GCC unroll 2
				for (unsigned int i = 0; i < RB; i++) {
					V_STORE(a + off[r + i], k1[i]);
					V_STORE(a + po + off[r + i], k2[i]);
				}
			}
			/* Swap the lanes back in memory: reload, exchange, store. */
#pragma GCC unroll 8
			for (unsigned int h = 0; h < K; h++) {
				re[h] = V_LOAD(a + off[h]);
				im[h] = V_LOAD(a + po + off[h]);
			}
#pragma GCC unroll 3
			for (unsigned int j = 0; j < klo; j++)
#pragma GCC unroll 8
				for (unsigned int v = 0; v < K; v++)
					if (!(v & (1u << j))) {
						V_XCH(re[v], re[v | (1u << j)], xi[j]);
						V_XCH(im[v], im[v | (1u << j)], xi[j]);
					}
#pragma GCC unroll 8
			for (unsigned int h = 0; h < K; h++) {
				V_STORE(a + off[h], re[h]);
				V_STORE(a + po + off[h], im[h]);
			}
		}
	}
}
#endif
#endif

#if LB > 0
/*
 * klo targets < L: a group is H = KK / D vectors; every output vector
 * sums, over the H inputs and the D lane permutations of each, per-lane
 * coefficients times the permuted input.
 */
SV_INLINE void FN(lane_k)(const struct sv_plan *p, ET *amps, uint64_t g, uint64_t gend,
			  const unsigned int KK, const unsigned int klo, const bool R)
{
	const ET *C = p->coef;
	const unsigned int D = 1u << klo, H = KK >> klo;
	uint64_t off[SV_MAX_KK], run = FN(group_run)(p);
	PIDX pidx[TW];

	for (unsigned int h = 0; h < H; h++)
		off[h] = 2 * p->off[h];
	for (unsigned int d = 0; d < D; d++)
		pidx[d] = V_PIDX(p->dmask[d]);
	while (g < gend) {
		uint64_t base = FN(group_base)(p, g);
		uint64_t stop = (g | (run - 1)) + 1;

		if (stop > gend)
			stop = gend;
		for (; g < stop; g++, base += TW) {
			ET *a = amps + 2 * base;
			VT P[SV_MAX_KK], PS[SV_MAX_KK];

#pragma GCC unroll 8
			for (unsigned int h = 0; h < H; h++) {
				VT x = V_LOAD(a + off[h]);

#pragma GCC unroll 8
				for (unsigned int d = 0; d < D; d++) {
					VT v = d ? V_PERM(x, pidx[d]) : x;

					P[h * D + d] = v;
					if (!R)
						PS[h * D + d] = V_SWAP(v);
				}
			}
#pragma GCC unroll 8
			for (unsigned int hp = 0; hp < H; hp++) {
				const ET *c = C + (size_t)hp * KK * 4 * TW;
				VT ar = V_MUL(V_LOADC(c), P[0]);
				VT ai = ar;

				if (!R)
					ai = V_MUL(V_LOADC(c + 2 * TW), PS[0]);
#pragma GCC unroll 8
				for (unsigned int j = 1; j < KK; j++) {
					ar = V_FMA(V_LOADC(c + j * 4 * TW), P[j], ar);
					if (!R)
						ai = V_FMA(V_LOADC(c + j * 4 * TW + 2 * TW), PS[j], ai);
				}
				V_STORE(a + off[hp], R ? ar : V_ADD(ar, ai));
			}
		}
	}
}
#endif

#if LB > 0
/* Exchange mode: swap lane targets into vector bits, apply with broadcast
 * coefficients, swap back. */
SV_INLINE void FN(xch_k)(const struct sv_plan *p, ET *amps, uint64_t g, uint64_t gend,
			 const unsigned int K, const unsigned int klo, const bool R)
{
	const ET *m = p->coef;
	const unsigned int RB = K < 4 ? K : 4;
	uint64_t off[SV_MAX_KK], run = FN(group_run)(p);
	XIDX xi[SV_MAX_L][2];

	for (unsigned int v = 0; v < K; v++)
		off[v] = 2 * p->off[v];
	for (unsigned int j = 0; j < klo; j++) {
		/* With every lane bit a target, t[j] == j: a constant the
		 * exchanges can fold. */
		unsigned int t = klo == LB ? j : p->t[j];

		xi[j][0] = V_XIDX(t, 0);
		xi[j][1] = V_XIDX(t, 1);
	}
	while (g < gend) {
		uint64_t base = FN(group_base)(p, g);
		uint64_t stop = (g | (run - 1)) + 1;

		if (stop > gend)
			stop = gend;
		for (; g < stop; g++, base += TW) {
			ET *a = amps + 2 * base;
			VT x[SV_MAX_KK], xs[SV_MAX_KK], o[SV_MAX_KK];

			if (g + SV_PF_DIST < stop)
#pragma GCC unroll 8
				for (unsigned int v = 0; v < K; v++)
					__builtin_prefetch(a + off[v] + 2 * SV_PF_DIST * TW, 1, 3);
#pragma GCC unroll 8
			for (unsigned int v = 0; v < K; v++)
				x[v] = V_LOAD(a + off[v]);
#pragma GCC unroll 3
			for (unsigned int j = 0; j < klo; j++)
#pragma GCC unroll 8
				for (unsigned int v = 0; v < K; v++)
					if (!(v & (1u << j)))
						V_XCH(x[v], x[v | (1u << j)], xi[j]);
#pragma GCC unroll 8
			for (unsigned int v = 0; v < K; v++)
				if (!R)
					xs[v] = V_SWAPNEG(x[v]);
			for (unsigned int r = 0; r < K; r += RB) {
				VT ar[4], ai[4];
				const ET *mr = m + 2 * (size_t)r * K;

#pragma GCC unroll 4
				for (unsigned int i = 0; i < RB; i++) {
					ar[i] = V_MUL(V_BCAST(mr[2 * i * K]), x[0]);
					if (!R)
						ai[i] = V_MUL(V_BCAST(mr[2 * i * K + 1]), xs[0]);
				}
#pragma GCC unroll 8
				for (unsigned int h = 1; h < K; h++) {
#pragma GCC unroll 4
					for (unsigned int i = 0; i < RB; i++) {
						const ET *e = mr + 2 * (i * K + h);

						ar[i] = V_FMA(V_BCAST(e[0]), x[h], ar[i]);
						if (!R)
							ai[i] = V_FMA(V_BCAST(e[1]), xs[h], ai[i]);
					}
				}
#pragma GCC unroll 4
				for (unsigned int i = 0; i < RB; i++)
					o[r + i] = R ? ar[i] : V_ADD(ar[i], ai[i]);
			}
#pragma GCC unroll 3
			for (unsigned int j = 0; j < klo; j++)
#pragma GCC unroll 8
				for (unsigned int v = 0; v < K; v++)
					if (!(v & (1u << j)))
						V_XCH(o[v], o[v | (1u << j)], xi[j]);
#pragma GCC unroll 8
			for (unsigned int v = 0; v < K; v++)
				V_STORE(a + off[v], o[v]);
		}
	}
}
#endif

/* One instantiation per (shape, real): R is a constant inside. */
SV_INLINE void FN(dense_r)(const struct sv_plan *p, void *amps, uint64_t g0, uint64_t g1,
			   const bool R)
{
	unsigned int KK = 1u << p->k;

#if LB > 0
	if (p->xch) {
		/* Constant K and klo: the exchanges unroll onto registers. */
#define SV_XCASE(K_, J_) case (K_) * 8 + (J_): FN(xch_k)(p, amps, g0, g1, K_, J_, R); break
		switch (KK * 8 + p->klo) {
		SV_XCASE(2, 1); SV_XCASE(4, 1); SV_XCASE(8, 1);
		SV_XCASE(16, 1); SV_XCASE(32, 1); SV_XCASE(64, 1);
#if LB > 1
		SV_XCASE(4, 2); SV_XCASE(8, 2); SV_XCASE(16, 2);
		SV_XCASE(32, 2); SV_XCASE(64, 2);
#endif
#if LB > 2
		SV_XCASE(8, 3); SV_XCASE(16, 3); SV_XCASE(32, 3); SV_XCASE(64, 3);
#endif
		default: break;
		}
#undef SV_XCASE
		return;
	}
#endif

	if (p->klo == 0) {
		switch (KK) {
		case 1: FN(bcast_k)(p, amps, g0, g1, 1, R); break;
		case 2: FN(bcast_k)(p, amps, g0, g1, 2, R); break;
		case 4: FN(bcast_k)(p, amps, g0, g1, 4, R); break;
		case 8: FN(bcast_k)(p, amps, g0, g1, 8, R); break;
		case 16: FN(bcast_k)(p, amps, g0, g1, 16, R); break;
		case 32: FN(bcast_k)(p, amps, g0, g1, 32, R); break;
		default: FN(bcast_k)(p, amps, g0, g1, 64, R); break;
		}
		return;
	}
#if LB > 0
	switch (KK * 8 + p->klo) {
	case 2 * 8 + 1: FN(lane_k)(p, amps, g0, g1, 2, 1, R); break;
	case 4 * 8 + 1: FN(lane_k)(p, amps, g0, g1, 4, 1, R); break;
	case 8 * 8 + 1: FN(lane_k)(p, amps, g0, g1, 8, 1, R); break;
#if LB > 1
	case 4 * 8 + 2: FN(lane_k)(p, amps, g0, g1, 4, 2, R); break;
	case 8 * 8 + 2: FN(lane_k)(p, amps, g0, g1, 8, 2, R); break;
#endif
#if LB > 2
	case 8 * 8 + 3: FN(lane_k)(p, amps, g0, g1, 8, 3, R); break;
#endif
	default: FN(lane_k)(p, amps, g0, g1, KK, p->klo, R); break;
	}
#endif
}

/* Real matrices (H, X, CX, Ry and blocks of them) skip the imaginary
 * half of the arithmetic: one FMA per entry instead of two. */
static void FN(dense)(const struct sv_plan *p, void *amps, uint64_t g0, uint64_t g1)
{
#ifdef V_DEIL_RE
#if LB > 0
	if (p->paired && p->xch) {
#define SV_PCASE(K_, J_) case (K_) * 8 + (J_): FN(xch_pair_k)(p, amps, g0, g1, K_, J_); break
		switch ((1u << p->k) * 8 + p->klo) {
		SV_PCASE(4, 1); SV_PCASE(8, 1); SV_PCASE(16, 1); SV_PCASE(32, 1); SV_PCASE(64, 1);
#if LB > 1
		SV_PCASE(4, 2); SV_PCASE(8, 2); SV_PCASE(16, 2); SV_PCASE(32, 2); SV_PCASE(64, 2);
#endif
#if LB > 2
		SV_PCASE(8, 3); SV_PCASE(16, 3); SV_PCASE(32, 3); SV_PCASE(64, 3);
#endif
		default: break;
		}
#undef SV_PCASE
		return;
	}
#endif
	if (p->paired) {
		switch (p->k) {
		case 2: FN(pair_k)(p, amps, g0, g1, 4); break;
		case 3: FN(pair_k)(p, amps, g0, g1, 8); break;
		case 4: FN(pair_k)(p, amps, g0, g1, 16); break;
		case 5: FN(pair_k)(p, amps, g0, g1, 32); break;
		default: FN(pair_k)(p, amps, g0, g1, 64); break;
		}
		return;
	}
#endif
	if (p->real)
		FN(dense_r)(p, amps, g0, g1, true);
	else
		FN(dense_r)(p, amps, g0, g1, false);
}

static void FN(diag)(const struct sv_plan *p, void *vamps, uint64_t v, uint64_t vend)
{
	ET *amps = vamps;
	const ET *C = p->coef;
	uint64_t run = FN(seg_run)(p, p->nhi ? 1ull << (p->hq[0] - LB) : p->ngroups);

	while (v < vend) {
		uint64_t base = v << LB, stop = (v | (run - 1)) + 1;
		unsigned int pat = 0;
		ET *a = amps + 2 * sv_deposit(p, base);
		VT cr, ci;

		for (unsigned int i = 0; i < p->nhi; i++)
			pat |= (unsigned int)((base >> p->hq[i]) & 1) << i;
		if (stop > vend)
			stop = vend;
		cr = V_LOADC(C + (size_t)pat * 4 * TW);
		ci = V_LOADC(C + (size_t)pat * 4 * TW + 2 * TW);
		for (; v < stop; v++, a += 2 * TW) {
			VT x = V_LOAD(a);

			V_STORE(a, V_FMA(ci, V_SWAP(x), V_MUL(cr, x)));
		}
	}
}

#undef SV_CAT_
#undef SV_CAT
#undef FN
#undef TW
#undef SV_INLINE
/* The instantiation's parameters, so the next one can define its own. */
#undef SFX
#undef ET
#undef VT
#undef LB
#undef V_LOAD
#undef V_LOADC
#undef V_STORE
#undef V_BCAST
#undef V_ADD
#undef V_MUL
#undef V_FMA
#undef V_SWAP
#undef V_SWAPNEG
#undef PIDX
#undef V_PIDX
#undef V_PERM
#undef XIDX
#undef V_XIDX
#undef V_XCH
#undef V_SUB
#undef V_DEIL_RE
#undef V_DEIL_IM
#undef V_REIL_0
#undef V_REIL_1
