/* SPDX-License-Identifier: MIT */
/*
 * Per-precision loops of measure.c, included once with ET = double and
 * once with ET = float (SFX names the copy). Sums are accumulated in
 * double in a fixed order that depends only on the index range, never on
 * which thread runs it: that is what makes results independent of the
 * thread count. These files are built without FMA contraction, so the
 * order is also the same on every machine.
 */

#define R_CAT_(a, b) a##_##b
#define R_CAT(a, b) R_CAT_(a, b)
#define RFN(name) R_CAT(name, SFX)

static inline double RFN(p2)(const ET *a, uint64_t i)
{
	double re = a[2 * i], im = a[2 * i + 1];

	return re * re + im * im;
}

/* Sum of |a_i|^2 over [b, e): four interleaved partial sums. */
static double RFN(sumsq)(const ET *a, uint64_t b, uint64_t e)
{
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	uint64_t i = b;

	for (; i + 4 <= e; i += 4) {
		s0 += RFN(p2)(a, i);
		s1 += RFN(p2)(a, i + 1);
		s2 += RFN(p2)(a, i + 2);
		s3 += RFN(p2)(a, i + 3);
	}
	for (; i < e; i++)
		s0 += RFN(p2)(a, i);
	return (s0 + s1) + (s2 + s3);
}

/* hist[outcome] += |a_i|^2 for i in [b, e), where the outcome of i is
 * extracted through byte tables; runs of 2^low indices share it. */
static void RFN(hist)(const ET *a, uint64_t b, uint64_t e, unsigned int low,
		      const uint64_t (*tab)[256], double *hist)
{
	uint64_t run = 1ull << low;

	while (b < e) {
		uint64_t stop = (b | (run - 1)) + 1, o = 0;

		if (stop > e)
			stop = e;
		for (unsigned int byte = 0; byte < 5; byte++)
			o |= tab[byte][(b >> (8 * byte)) & 0xff];
		hist[o] += run > 1 ? RFN(sumsq)(a, b, stop) : RFN(p2)(a, b);
		b = stop;
	}
}

/* Collapse qubit q over pairs [b, e): keep the half with bit q == keep,
 * scaled by s; move it onto bit 0 when to_zero. */
static void RFN(collapse)(ET *a, unsigned int q, uint64_t b, uint64_t e,
			  int keep, double s, bool to_zero)
{
	uint64_t run = 1ull << q, bit = 1ull << q;
	ET sc = (ET)s;

	while (b < e) {
		uint64_t stop = (b | (run - 1)) + 1;
		uint64_t i0 = sv_insert_zero(b, q);
		ET *lo, *hi;
		uint64_t n;

		if (stop > e)
			stop = e;
		n = stop - b;
		lo = a + 2 * i0;
		hi = a + 2 * (i0 | bit);
		if (keep == 0) {
			for (uint64_t j = 0; j < 2 * n; j++)
				lo[j] *= sc;
			memset(hi, 0, 2 * n * sizeof(ET));
		} else if (to_zero) {
			for (uint64_t j = 0; j < 2 * n; j++)
				lo[j] = hi[j] * sc;
			memset(hi, 0, 2 * n * sizeof(ET));
		} else {
			for (uint64_t j = 0; j < 2 * n; j++)
				hi[j] *= sc;
			memset(lo, 0, 2 * n * sizeof(ET));
		}
		b = stop;
	}
}

/*
 * Pauli expectation over pair indices [b, e) (see measure.c): with hb the
 * top bit of xm, i has bit hb clear and j = i ^ xm; sums s_i times
 * Re or Im of conj(a_j) a_i. When xm == 0, sums s_i |a_i|^2 over [b, e).
 */
static double RFN(pauli)(const ET *a, uint64_t b, uint64_t e, uint64_t xm,
			 uint64_t zm, unsigned int hb, bool imag)
{
	double s0 = 0, s1 = 0;

	if (!xm) {
		for (uint64_t i = b; i < e; i++) {
			double v = RFN(p2)(a, i);

			if (__builtin_parityll(i & zm))
				s1 += v;
			else
				s0 += v;
		}
		return s0 - s1;
	}
	for (uint64_t p = b; p < e; p++) {
		uint64_t i = sv_insert_zero(p, hb), j = i ^ xm;
		double ir = a[2 * i], ii = a[2 * i + 1], jr = a[2 * j], ji = a[2 * j + 1];
		double v = imag ? jr * ii - ji * ir : jr * ir + ji * ii;

		if (__builtin_parityll(i & zm))
			s1 += v;
		else
			s0 += v;
	}
	return s0 - s1;
}

/*
 * Sampling walk inside [b, e): for each target x[s] (ascending, relative
 * to the start of the range) find the first index whose running sum
 * exceeds it. Falls back on the last index with nonzero probability when
 * rounding leaves the target past the end.
 */
static void RFN(walk)(const ET *a, uint64_t b, uint64_t e, const double *x,
		      uint64_t *idx, uint64_t count)
{
	uint64_t i = b, s = 0;
	double acc = 0;

	for (; s < count; s++) {
		while (i < e) {
			double v = RFN(p2)(a, i);

			if (acc + v > x[s])
				break;
			acc += v;
			i++;
		}
		if (i == e)
			break;
		idx[s] = i;
	}
	if (s < count) {
		uint64_t last = e - 1;

		while (last > b && RFN(p2)(a, last) == 0)
			last--;
		for (; s < count; s++)
			idx[s] = last;
	}
}

#undef R_CAT_
#undef R_CAT
#undef RFN
