// SPDX-License-Identifier: MIT
/*
 * Reductions over the state: norms, marginal probabilities, measurement
 * and reset, sampling without collapse, Pauli expectation values.
 *
 * Every sum runs over a fixed partition of its index space into chunks
 * (a function of the state's size only), each chunk summed in index order
 * and the chunk sums added in chunk order, so a result is bit-for-bit the
 * same whatever the thread count. No reduction copies the state.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/rng.h"
#include "sv.h"

#define ET double
#define SFX d
#include "reduce_tmpl.h"
#undef ET
#undef SFX
#define ET float
#define SFX f
#include "reduce_tmpl.h"
#undef ET
#undef SFX

#define MAX_CHUNKS 256
/* Outcome sets up to this size are histogrammed per chunk. */
#define SMALL_SEL 6

static uint64_t nchunks(uint64_t count, uint64_t max)
{
	uint64_t c = count >> 12;

	return c < 1 ? 1 : c > max ? max : c;
}

static void chunk_range(uint64_t count, uint64_t nch, uint64_t c, uint64_t *b, uint64_t *e)
{
	sv_split(count, (unsigned int)c, (unsigned int)nch, b, e);
}

/* --- chunked sums ------------------------------------------------------ */

struct sum_task {
	const struct qrtx_sv *sv;
	uint64_t count, nch;
	double *part;
	/* what to sum: plain norm, or a Pauli string */
	bool pauli, imag;
	uint64_t xm, zm;
	unsigned int hb;
};

static double sum_range(const struct sum_task *t, uint64_t b, uint64_t e)
{
	const struct qrtx_sv *sv = t->sv;

	if (sv->prec == QRTX_PREC_SINGLE)
		return t->pauli ? pauli_f(sv->amps, b, e, t->xm, t->zm, t->hb, t->imag)
				: sumsq_f(sv->amps, b, e);
	return t->pauli ? pauli_d(sv->amps, b, e, t->xm, t->zm, t->hb, t->imag)
			: sumsq_d(sv->amps, b, e);
}

static void sum_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct sum_task *t = c;
	uint64_t cb, ce;

	(void)thread;
	sv_split(t->nch, part, nparts, &cb, &ce);
	for (uint64_t ch = cb; ch < ce; ch++) {
		uint64_t b, e;

		chunk_range(t->count, t->nch, ch, &b, &e);
		t->part[ch] = sum_range(t, b, e);
	}
}

static double chunked_sum(struct sum_task *t)
{
	double part[MAX_CHUNKS], s = 0;

	t->nch = nchunks(t->count, MAX_CHUNKS);
	t->part = part;
	sv_run(t->sv, sum_run, t);
	for (uint64_t c = 0; c < t->nch; c++)
		s += part[c];
	return s;
}

double qrtx_sv_norm2(const struct qrtx_sv *sv)
{
	struct sum_task t = { .sv = sv, .count = sv->len };

	return chunked_sum(&t);
}

/* --- marginals --------------------------------------------------------- */

struct marg {
	uint64_t tab[5][256];	/* index byte -> outcome bits */
	unsigned int low;	/* lowest selected qubit */
};

static void marg_init(struct marg *m, const uint32_t *q, unsigned int n)
{
	memset(m->tab, 0, sizeof(m->tab));
	m->low = 64;
	for (unsigned int j = 0; j < n; j++) {
		unsigned int byte = q[j] / 8, bit = q[j] % 8;

		for (unsigned int v = 0; v < 256; v++)
			if (v & (1u << bit))
				m->tab[byte][v] |= 1ull << j;
		if (q[j] < m->low)
			m->low = q[j];
	}
}

static void hist_range(const struct qrtx_sv *sv, const struct marg *m, uint64_t b,
		       uint64_t e, double *hist)
{
	if (sv->prec == QRTX_PREC_SINGLE)
		hist_f(sv->amps, b, e, m->low, (const uint64_t (*)[256])m->tab, hist);
	else
		hist_d(sv->amps, b, e, m->low, (const uint64_t (*)[256])m->tab, hist);
}

/* Few outcomes: one histogram per chunk, added in chunk order. */
struct small_task {
	const struct qrtx_sv *sv;
	const struct marg *m;
	uint64_t nch;
	unsigned int nout;
	double *hists;
};

static void small_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct small_task *t = c;
	uint64_t cb, ce;

	(void)thread;
	sv_split(t->nch, part, nparts, &cb, &ce);
	for (uint64_t ch = cb; ch < ce; ch++) {
		uint64_t b, e;
		double *h = t->hists + ch * t->nout;

		memset(h, 0, t->nout * sizeof(*h));
		chunk_range(t->sv->len, t->nch, ch, &b, &e);
		hist_range(t->sv, t->m, b, e, h);
	}
}

static void marginal_small(const struct qrtx_sv *sv, const uint32_t *q, unsigned int n,
			   double *probs)
{
	uint64_t nch = nchunks(sv->len, MAX_CHUNKS);
	double hists[nch << n];		/* at most 128 KiB */
	struct marg m;
	struct small_task t = { .sv = sv, .m = &m, .nch = nch, .nout = 1u << n,
				.hists = hists };

	marg_init(&m, q, n);
	sv_run(sv, small_run, &t);
	for (unsigned int o = 0; o < t.nout; o++) {
		double s = 0;

		for (uint64_t c = 0; c < t.nch; c++)
			s += hists[c * t.nout + o];
		probs[o] = s;
	}
}

/*
 * Many outcomes: split them into parts by the values of the highest
 * selected qubits. A part owns its outcomes, so threads never add to the
 * same entry, and every entry is summed in index order.
 */
#define PART_BITS 8

struct large_task {
	const struct qrtx_sv *sv;
	const struct marg *m;
	unsigned int np;
	uint32_t pq[PART_BITS];	/* partition qubits, ascending */
	double *probs;
	uint64_t nprobs;
};

static void large_zero(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct large_task *t = c;
	uint64_t b, e;

	(void)thread;
	sv_split(t->nprobs, part, nparts, &b, &e);
	memset(t->probs + b, 0, (e - b) * sizeof(double));
}

static void large_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct large_task *t = c;
	uint64_t vb, ve, nfree = t->sv->len >> t->np, seg = 1ull << t->pq[0];

	(void)thread;
	sv_split(1ull << t->np, part, nparts, &vb, &ve);
	for (uint64_t v = vb; v < ve; v++) {
		uint64_t fixed = 0;

		for (unsigned int i = 0; i < t->np; i++)
			fixed |= ((v >> i) & 1) << t->pq[i];
		for (uint64_t o = 0; o < nfree; o += seg) {
			uint64_t i0 = o;

			for (unsigned int i = 0; i < t->np; i++)
				i0 = sv_insert_zero(i0, t->pq[i]);
			i0 |= fixed;
			hist_range(t->sv, t->m, i0, i0 + seg, t->probs);
		}
	}
}

static void marginal_large(const struct qrtx_sv *sv, const uint32_t *q, unsigned int n,
			   double *probs)
{
	struct marg m;
	struct large_task t = { .sv = sv, .m = &m, .probs = probs, .nprobs = 1ull << n };
	uint32_t sorted[64];

	marg_init(&m, q, n);
	memcpy(sorted, q, n * sizeof(*q));
	for (unsigned int i = 1; i < n; i++) {
		uint32_t x = sorted[i];
		unsigned int j = i;

		for (; j > 0 && sorted[j - 1] > x; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = x;
	}
	t.np = n < PART_BITS ? n : PART_BITS;
	memcpy(t.pq, sorted + n - t.np, t.np * sizeof(*t.pq));
	sv_run(sv, large_zero, &t);
	sv_run(sv, large_run, &t);
}

struct square_task {
	const struct qrtx_sv *sv;
	double *probs;
};

static void square_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct square_task *t = c;
	uint64_t b, e;

	(void)thread;
	sv_split(t->sv->len, part, nparts, &b, &e);
	for (uint64_t i = b; i < e; i++)
		t->probs[i] = t->sv->prec == QRTX_PREC_SINGLE ? p2_f(t->sv->amps, i)
							       : p2_d(t->sv->amps, i);
}

static int check_sel(const struct qrtx_sv *sv, const uint32_t *q, unsigned int n)
{
	uint64_t seen = 0;

	for (unsigned int j = 0; j < n; j++) {
		if (q[j] >= sv->n || (seen & (1ull << q[j])))
			return -EINVAL;
		seen |= 1ull << q[j];
	}
	return 0;
}

int qrtx_sv_probabilities(const struct qrtx_sv *sv, const uint32_t *qubits,
			  unsigned int n, double *probs)
{
	bool identity = n == sv->n;

	if (n > 30 || check_sel(sv, qubits, n))
		return -EINVAL;
	for (unsigned int j = 0; j < n && identity; j++)
		identity = qubits[j] == j;
	if (n == 0) {
		probs[0] = qrtx_sv_norm2(sv);
	} else if (identity) {
		struct square_task t = { .sv = sv, .probs = probs };

		sv_run(sv, square_run, &t);
	} else if (n <= SMALL_SEL) {
		marginal_small(sv, qubits, n, probs);
	} else {
		marginal_large(sv, qubits, n, probs);
	}
	return 0;
}

double qrtx_sv_prob_one(const struct qrtx_sv *sv, uint32_t qubit)
{
	double p[2];

	assert(qubit < sv->n);
	marginal_small(sv, &qubit, 1, p);
	return p[1];
}

/* --- collapse ------------------------------------------------------------ */

struct collapse_task {
	struct qrtx_sv *sv;
	unsigned int q;
	int keep;
	double scale;
	bool to_zero;
};

static void collapse_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct collapse_task *t = c;
	uint64_t b, e;

	(void)thread;
	sv_split(t->sv->len / 2, part, nparts, &b, &e);
	if (t->sv->prec == QRTX_PREC_SINGLE)
		collapse_f(t->sv->amps, t->q, b, e, t->keep, t->scale, t->to_zero);
	else
		collapse_d(t->sv->amps, t->q, b, e, t->keep, t->scale, t->to_zero);
}

static int measure(struct qrtx_sv *sv, uint32_t qubit, double r, bool to_zero)
{
	double p[2];
	struct collapse_task t = { .sv = sv, .q = qubit, .to_zero = to_zero };

	assert(qubit < sv->n);
	marginal_small(sv, &qubit, 1, p);
	t.keep = r * (p[0] + p[1]) < p[0] ? 0 : 1;
	if (p[t.keep] <= 0)
		t.keep ^= 1;	/* r at the very edge of a zero-width interval */
	t.scale = p[t.keep] > 0 ? 1.0 / sqrt(p[t.keep]) : 1.0;
	sv_run(sv, collapse_run, &t);
	return t.keep;
}

int qrtx_sv_measure(struct qrtx_sv *sv, uint32_t qubit, double r)
{
	return measure(sv, qubit, r, false);
}

void qrtx_sv_reset(struct qrtx_sv *sv, uint32_t qubit, double r)
{
	measure(sv, qubit, r, true);
}

/* --- expectation values ------------------------------------------------- */

/*
 * P|i> = i^ny (-1)^|i & z| |i ^ x> with ny the number of Y factors, so
 * <P> = sum_i (-1)^|i & z| i^ny conj(a_{i^x}) a_i. Taking i and j = i ^ x
 * together (bit hb of x clear in i), the two terms add to
 * 2 s_i Re(i^ny w) with w = conj(a_j) a_i: the real part of w for even ny,
 * the imaginary part for odd ny, with the sign of i^ny. Each amplitude is
 * read once.
 */
double qrtx_sv_expect_pauli(const struct qrtx_sv *sv, uint64_t xmask, uint64_t zmask)
{
	struct sum_task t = { .sv = sv, .pauli = true, .xm = xmask, .zm = zmask };
	unsigned int ny;
	double s;

	assert(sv->n == 64 || ((xmask | zmask) >> sv->n) == 0);
	if (!xmask) {
		t.count = sv->len;
		return chunked_sum(&t);
	}
	ny = __builtin_popcountll(xmask & zmask) & 3;
	t.hb = 63 - __builtin_clzll(xmask);
	t.imag = ny & 1;
	t.count = sv->len / 2;
	s = 2 * chunked_sum(&t);
	/* i^ny: 1, i, -1, -i; Re(i w) = -Im w, Re(-i w) = Im w */
	return ny == 0 || ny == 3 ? s : -s;
}

/* --- sampling ---------------------------------------------------------- */

static uint64_t extract(uint64_t i, const uint32_t *q, unsigned int n)
{
	uint64_t o = 0;

	for (unsigned int j = 0; j < n; j++)
		o |= ((i >> q[j]) & 1) << j;
	return o;
}

void qrtx_sample_cdf(double *cdf, uint64_t nout, uint64_t shots, struct qrtx_rng *rng,
		     uint64_t *out)
{
	uint64_t last = 0;
	double total = 0;

	for (uint64_t o = 0; o < nout; o++) {
		if (cdf[o] > 0)
			last = o;
		total += cdf[o];
		cdf[o] = total;
	}
	for (uint64_t s = 0; s < shots; s++) {
		double x = qrtx_rng_uniform(rng) * total;
		uint64_t lo = 0, hi = nout;

		/* first o with cdf[o] > x */
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;

			if (cdf[mid] > x)
				hi = mid;
			else
				lo = mid + 1;
		}
		out[s] = lo < nout ? lo : last;
	}
}

bool qrtx_sample_by_table(uint64_t state_bytes, unsigned int n)
{
	uint64_t table_max = state_bytes / 16;

	if (table_max < (1u << 16))
		table_max = 1u << 16;
	/* A marginal table costs 8 * 2^n bytes: fine while small next to
	 * the state, else walk the state itself. */
	return n <= SMALL_SEL || (n <= 30 && (8ull << n) <= table_max);
}

/* Draw from the marginal: cumulative table and binary search. */
static int sample_marginal(const struct qrtx_sv *sv, const uint32_t *q, unsigned int n,
			   uint64_t shots, struct qrtx_rng *rng, uint64_t *out)
{
	double *cdf = malloc(sizeof(*cdf) << n);

	if (!cdf)
		return -ENOMEM;
	qrtx_sv_probabilities(sv, q, n, cdf);
	qrtx_sample_cdf(cdf, 1ull << n, shots, rng, out);
	free(cdf);
	return 0;
}

struct shot {
	double x;
	uint64_t s;
};

static int shot_cmp(const void *a, const void *b)
{
	double x = ((const struct shot *)a)->x, y = ((const struct shot *)b)->x;

	return (x > y) - (x < y);
}

#define SAMPLE_CHUNKS 4096

struct walk_task {
	const struct qrtx_sv *sv;
	uint64_t nch;
	const uint64_t *first, *count;	/* per chunk, into x / idx */
	const double *x;
	uint64_t *idx;
};

static void walk_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct walk_task *t = c;
	uint64_t cb, ce;

	(void)thread;
	sv_split(t->nch, part, nparts, &cb, &ce);
	for (uint64_t ch = cb; ch < ce; ch++) {
		uint64_t b, e, f = t->first[ch];

		if (!t->count[ch])
			continue;
		chunk_range(t->sv->len, t->nch, ch, &b, &e);
		if (t->sv->prec == QRTX_PREC_SINGLE)
			walk_f(t->sv->amps, b, e, t->x + f, t->idx + f, t->count[ch]);
		else
			walk_d(t->sv->amps, b, e, t->x + f, t->idx + f, t->count[ch]);
	}
}

/*
 * Draw over the full index without a 2^n table: chunk sums, shots sorted
 * by their uniform, each chunk walked once for the shots that fall in it.
 */
static int sample_full(const struct qrtx_sv *sv, const uint32_t *q, unsigned int n,
		       uint64_t shots, struct qrtx_rng *rng, uint64_t *out)
{
	uint64_t nch = nchunks(sv->len, SAMPLE_CHUNKS), c = 0, last_nz = 0;
	struct sum_task st = { .sv = sv, .count = sv->len, .nch = nch };
	struct walk_task wt = { .sv = sv, .nch = nch };
	double *sums = malloc(nch * sizeof(double)), *start = malloc((nch + 1) * sizeof(double));
	uint64_t *first = calloc(nch, sizeof(uint64_t)), *count = calloc(nch, sizeof(uint64_t));
	struct shot *sh = malloc(shots * sizeof(*sh));
	double *x = malloc(shots * sizeof(double));
	uint64_t *idx = malloc(shots * sizeof(uint64_t));
	int ret = -ENOMEM;

	if (!sums || !start || !first || !count || !sh || !x || !idx)
		goto out;
	st.part = sums;
	sv_run(sv, sum_run, &st);
	start[0] = 0;
	for (uint64_t ch = 0; ch < nch; ch++) {
		start[ch + 1] = start[ch] + sums[ch];
		if (sums[ch] > 0)
			last_nz = ch;
	}
	for (uint64_t s = 0; s < shots; s++) {
		sh[s].x = qrtx_rng_uniform(rng) * start[nch];
		sh[s].s = s;
	}
	qsort(sh, shots, sizeof(*sh), shot_cmp);
	for (uint64_t k = 0; k < shots; k++) {
		while (c < last_nz && start[c + 1] <= sh[k].x)
			c++;
		if (!count[c])
			first[c] = k;
		count[c]++;
		x[k] = sh[k].x - start[c];
	}
	wt.first = first;
	wt.count = count;
	wt.x = x;
	wt.idx = idx;
	sv_run(sv, walk_run, &wt);
	for (uint64_t k = 0; k < shots; k++)
		out[sh[k].s] = extract(idx[k], q, n);
	ret = 0;
out:
	free(sums);
	free(start);
	free(first);
	free(count);
	free(sh);
	free(x);
	free(idx);
	return ret;
}

int qrtx_sv_sample(const struct qrtx_sv *sv, const uint32_t *qubits,
		   unsigned int n, uint64_t shots, struct qrtx_rng *rng,
		   uint64_t *outcomes)
{
	if (n > 64 || check_sel(sv, qubits, n))
		return -EINVAL;
	if (!shots)
		return 0;
	if (qrtx_sample_by_table(sv->bytes, n))
		return sample_marginal(sv, qubits, n, shots, rng, outcomes);
	return sample_full(sv, qubits, n, shots, rng, outcomes);
}
