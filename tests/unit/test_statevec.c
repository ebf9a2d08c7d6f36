// SPDX-License-Identifier: MIT
/*
 * The CPU state-vector engine against a naive reference: every kernel on
 * random states and random unitaries, every target position (lanes of one
 * SIMD vector included), both precisions, each kernel family (AVX-512,
 * AVX2 where the CPU has them, portable), serial and threaded. Then
 * measurement, marginals, sampling determinism and Pauli expectations.
 */
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qrtx/rng.h"
#include "qrtx/statevec.h"
/* The proposed cache-blocking entry point, private to the engine so far. */
#include "../../runtime/sv/batch.h"

typedef double complex cplx;

/* --- configurations ------------------------------------------------------ */

struct conf {
	const char *isa;	/* QRTX_SV_ISA, or NULL with no_simd */
	bool no_simd;
	enum qrtx_precision prec;
};

static struct conf confs[8];
static unsigned int nconfs;

static void add_conf(const char *isa, bool no_simd)
{
	for (int p = 0; p < 2; p++)
		confs[nconfs++] = (struct conf){ isa, no_simd,
						 p ? QRTX_PREC_SINGLE : QRTX_PREC_DOUBLE };
}

static int group_setup(void **state)
{
	(void)state;
	__builtin_cpu_init();
	add_conf(NULL, true);
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		add_conf("avx2", false);
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl"))
		add_conf("avx512", false);
	return 0;
}

static struct qrtx_sv *new_sv(const struct conf *c, uint32_t n, unsigned int threads)
{
	struct qrtx_sv_config cfg = { .precision = c->prec, .threads = threads,
				      .no_simd = c->no_simd };
	struct qrtx_error err = { 0 };
	struct qrtx_sv *sv = NULL;

	if (c->isa)
		setenv("QRTX_SV_ISA", c->isa, 1);
	else
		unsetenv("QRTX_SV_ISA");
	assert_int_equal(qrtx_sv_new(n, &cfg, &sv, &err), 0);
	unsetenv("QRTX_SV_ISA");
	if (c->isa && n >= 3)
		assert_string_equal(qrtx_sv_isa(sv), c->isa);
	if (c->no_simd)
		assert_string_equal(qrtx_sv_isa(sv), "portable");
	return sv;
}

static double tol(const struct conf *c)
{
	return c->prec == QRTX_PREC_SINGLE ? 1e-5 : 1e-12;
}

/* --- random numbers and matrices ------------------------------------------ */

static struct qrtx_rng trng;

static double gauss(void)
{
	double u = qrtx_rng_uniform(&trng), v = qrtx_rng_uniform(&trng);

	return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(qrtx_rng_next(&trng) % n);
}

static cplx *random_state(uint32_t n)
{
	uint64_t len = 1ull << n;
	cplx *a = malloc(len * sizeof(*a));
	double s = 0;

	for (uint64_t i = 0; i < len; i++) {
		a[i] = CMPLX(gauss(), gauss());
		s += creal(a[i] * conj(a[i]));
	}
	for (uint64_t i = 0; i < len; i++)
		a[i] /= sqrt(s);
	return a;
}

/* When set, random_unitary makes real (orthogonal) matrices: the engine
 * runs those with kernels of their own. */
static bool real_mats;

/* Unitary from the QR decomposition (Gram-Schmidt) of a random matrix. */
static void random_unitary(unsigned int k, cplx *m)
{
	unsigned int K = 1u << k;

	for (unsigned int i = 0; i < K * K; i++)
		m[i] = CMPLX(gauss(), real_mats ? 0.0 : gauss());
	for (unsigned int c = 0; c < K; c++) {
		for (unsigned int p = 0; p < c; p++) {
			cplx dot = 0;

			for (unsigned int r = 0; r < K; r++)
				dot += conj(m[r * K + p]) * m[r * K + c];
			for (unsigned int r = 0; r < K; r++)
				m[r * K + c] -= dot * m[r * K + p];
		}
		double nrm = 0;

		for (unsigned int r = 0; r < K; r++)
			nrm += creal(m[r * K + c] * conj(m[r * K + c]));
		for (unsigned int r = 0; r < K; r++)
			m[r * K + c] /= sqrt(nrm);
	}
}

/* k distinct qubits of n; forced[] first when given. */
static void random_qubits(uint32_t n, unsigned int k, uint32_t *q, uint64_t avoid)
{
	for (unsigned int i = 0; i < k; i++) {
		uint32_t x;

		do
			x = rnd(n);
		while (avoid & (1ull << x));
		avoid |= 1ull << x;
		q[i] = x;
	}
}

/* --- the reference ---------------------------------------------------------- */

static void ref_apply(uint32_t n, cplx *a, const uint32_t *c, unsigned int nc,
		      const uint32_t *q, unsigned int k, const cplx *m)
{
	uint64_t len = 1ull << n, cm = 0, tm = 0;
	unsigned int K = 1u << k;
	cplx *out = malloc(len * sizeof(*out));

	for (unsigned int i = 0; i < nc; i++)
		cm |= 1ull << c[i];
	for (unsigned int j = 0; j < k; j++)
		tm |= 1ull << q[j];
	for (uint64_t i = 0; i < len; i++) {
		unsigned int r = 0;
		cplx s = 0;

		if ((i & cm) != cm) {
			out[i] = a[i];
			continue;
		}
		for (unsigned int j = 0; j < k; j++)
			r |= ((i >> q[j]) & 1) << j;
		for (unsigned int col = 0; col < K; col++) {
			uint64_t src = i & ~tm;

			for (unsigned int j = 0; j < k; j++)
				src |= (uint64_t)((col >> j) & 1) << q[j];
			s += m[r * K + col] * a[src];
		}
		out[i] = s;
	}
	memcpy(a, out, len * sizeof(*a));
	free(out);
}

static double max_diff(const struct qrtx_sv *sv, const cplx *ref)
{
	uint64_t len = 1ull << qrtx_sv_nqubits(sv);
	double d = 0;

	for (uint64_t i = 0; i < len; i++) {
		cplx v = qrtx_sv_amp(sv, i) - ref[i];
		double e = fmax(fabs(creal(v)), fabs(cimag(v)));

		if (e > d)
			d = e;
	}
	return d;
}

/* Round a reference state to what a single-precision state holds. */
static void load_both(struct qrtx_sv *sv, cplx *ref, uint32_t n)
{
	qrtx_sv_load(sv, ref);
	for (uint64_t i = 0; i < (1ull << n); i++)
		ref[i] = qrtx_sv_amp(sv, i);
}

/* --- kernels ------------------------------------------------------------------ */

enum kind { DENSE, DIAG, CONTROLLED };

/* Apply one random gate to sv and to the reference; check they agree. */
static void one_gate(const struct conf *cf, struct qrtx_sv *sv, cplx *ref, uint32_t n,
		     enum kind kind, unsigned int k, const uint32_t *fixed_q)
{
	uint32_t q[8], c[8];
	unsigned int nc = 0, K = 1u << k;
	cplx m[64 * 64], d[64];
	uint64_t avoid = 0;

	if (fixed_q)
		memcpy(q, fixed_q, k * sizeof(*q));
	else
		random_qubits(n, k, q, 0);
	for (unsigned int j = 0; j < k; j++)
		avoid |= 1ull << q[j];
	random_unitary(k, m);
	if (kind == DIAG) {
		for (unsigned int i = 0; i < K; i++)
			d[i] = cexp(I * 2 * M_PI * qrtx_rng_uniform(&trng));
		memset(m, 0, K * K * sizeof(*m));
		for (unsigned int i = 0; i < K; i++)
			m[i * K + i] = d[i];
		qrtx_sv_apply_diag(sv, q, k, d);
	} else if (kind == CONTROLLED) {
		nc = 1 + rnd(n - k < 3 ? n - k : 3);
		random_qubits(n, nc, c, avoid);
		qrtx_sv_apply_controlled(sv, c, nc, q, k, m);
	} else {
		qrtx_sv_apply_dense(sv, q, k, m);
	}
	ref_apply(n, ref, c, nc, q, k, m);
	if (max_diff(sv, ref) > tol(cf)) {
		print_error("kind %d k %u targets", kind, k);
		for (unsigned int j = 0; j < k; j++)
			print_error(" %u", q[j]);
		print_error(" controls");
		for (unsigned int j = 0; j < nc; j++)
			print_error(" %u", c[j]);
		print_error(" isa %s prec %d n %u: diff %g\n", qrtx_sv_isa(sv), cf->prec, n,
			    max_diff(sv, ref));
		fail();
	}
	/* Keep the reference at the state's precision so errors don't grow. */
	if (cf->prec == QRTX_PREC_SINGLE)
		load_both(sv, ref, n);
}

static void run_kernels_once(uint32_t n, unsigned int threads)
{
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		struct qrtx_sv *sv = new_sv(cf, n, threads);
		cplx *ref = random_state(n);

		load_both(sv, ref, n);
		/* 1-qubit dense on every position: lanes and pairs of vectors. */
		for (uint32_t t = 0; t < n; t++)
			one_gate(cf, sv, ref, n, DENSE, 1, &t);
		/* 2-qubit on every pair drawn from the low, middle and top qubits. */
		{
			uint32_t cand[] = { 0, 1, 2, 3, n / 2, n - 2, n - 1 };

			for (unsigned int i = 0; i < 7; i++)
				for (unsigned int j = 0; j < 7; j++) {
					uint32_t q[2] = { cand[i], cand[j] };

					if (q[0] != q[1])
						one_gate(cf, sv, ref, n, DENSE, 2, q);
				}
		}
		/* Wider blocks, random and with the lowest qubits forced in. */
		for (unsigned int k = 3; k <= QRTX_SV_MAX_DENSE; k++) {
			uint32_t q[6] = { 2, 0, n - 1, 1, 5, 4 };

			for (int r = 0; r < 4; r++)
				one_gate(cf, sv, ref, n, DENSE, k, NULL);
			one_gate(cf, sv, ref, n, DENSE, k, q);
		}
		for (unsigned int k = 0; k <= 4; k++)
			for (int r = 0; r < 6; r++)
				one_gate(cf, sv, ref, n, DIAG, k, NULL);
		for (unsigned int k = 1; k <= 3; k++)
			for (int r = 0; r < 12; r++)
				one_gate(cf, sv, ref, n, CONTROLLED, k, NULL);
		free(ref);
		qrtx_sv_free(sv);
	}
}

/* Complex matrices, then real ones (H, X, Ry and blocks of them). */
static void run_kernels(uint32_t n, unsigned int threads)
{
	real_mats = false;
	run_kernels_once(n, threads);
	real_mats = true;
	run_kernels_once(n, threads);
	real_mats = false;
}

static void test_kernels_small(void **state)
{
	(void)state;
	run_kernels(7, 1);
}

static void test_kernels_threaded(void **state)
{
	(void)state;
	/* Large enough for the pool; 3 threads split unevenly. */
	run_kernels(14, 3);
}

/* Only amplitudes with every control set change, and those bit for bit
 * untouched elsewhere. */
static void test_controlled_untouched(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 9;
		struct qrtx_sv *sv = new_sv(cf, n, 1);
		cplx *ref = random_state(n), m[4];
		uint32_t ctl[2][2] = { { 0, 1 }, { 5, 7 } }, t = 3;

		load_both(sv, ref, n);
		random_unitary(1, m);
		for (int v = 0; v < 2; v++) {
			uint64_t cm = (1ull << ctl[v][0]) | (1ull << ctl[v][1]);

			qrtx_sv_apply_controlled(sv, ctl[v], 2, &t, 1, m);
			for (uint64_t i = 0; i < (1ull << n); i++)
				if ((i & cm) != cm)
					assert_true(qrtx_sv_amp(sv, i) == ref[i]);
			ref_apply(n, ref, ctl[v], 2, &t, 1, m);
			assert_true(max_diff(sv, ref) < tol(cf));
			load_both(sv, ref, n);
		}
		free(ref);
		qrtx_sv_free(sv);
	}
}

/* diag and controlled agree with the equivalent dense matrix applied by
 * the engine itself (not only with the reference). */
static void test_diag_controlled_vs_dense(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 8;
		struct qrtx_sv *a = new_sv(cf, n, 1), *b = new_sv(cf, n, 1);
		cplx *ref = random_state(n), d[8], m[64], u[4];
		uint32_t q[3] = { 1, 6, 0 }, cq[2] = { 2, 0 };

		qrtx_sv_load(a, ref);
		qrtx_sv_load(b, ref);
		for (int i = 0; i < 8; i++)
			d[i] = cexp(I * (0.3 + i));
		memset(m, 0, sizeof(m));
		for (int i = 0; i < 8; i++)
			m[i * 8 + i] = d[i];
		qrtx_sv_apply_diag(a, q, 3, d);
		qrtx_sv_apply_dense(b, q, 3, m);
		/* controlled u on target 2 with control 0 == dense on (0, 2) */
		random_unitary(1, u);
		memset(m, 0, sizeof(m));
		m[0] = 1;
		m[2 * 4 + 2] = 1;
		m[1 * 4 + 1] = u[0];
		m[1 * 4 + 3] = u[1];
		m[3 * 4 + 1] = u[2];
		m[3 * 4 + 3] = u[3];
		qrtx_sv_apply_controlled(a, &cq[1], 1, &cq[0], 1, u);
		{
			uint32_t qq[2] = { 0, 2 };

			qrtx_sv_apply_dense(b, qq, 2, m);
		}
		for (uint64_t i = 0; i < (1ull << n); i++)
			assert_true(cabs(qrtx_sv_amp(a, i) - qrtx_sv_amp(b, i)) < tol(cf));
		free(ref);
		qrtx_sv_free(a);
		qrtx_sv_free(b);
	}
}

/* Cache-blocked runs give the state that one-by-one application gives:
 * small blocks (2^10) so that a 15-qubit state has many, gates on the
 * lowest, middle and top qubits so runs are both in place and strided. */
static void test_batch_matches_sequential(void **state)
{
	(void)state;
	setenv("QRTX_SV_BLOCK_BITS", "10", 1);
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 15;
		struct qrtx_sv *a = new_sv(cf, n, 2), *b = new_sv(cf, n, 2);
		struct qrtx_sv_gate g[120];
		static cplx mats[120][64 * 64];
		cplx *ref = random_state(n);
		struct qrtx_sv_batch_stats st;
		size_t ng = 0;

		assert_int_equal(qrtx_sv_block_bits(a), 10);
		qrtx_sv_load(a, ref);
		qrtx_sv_load(b, ref);
		for (int layer = 0; layer < 6; layer++) {
			/* a layer of 1-qubit gates on the low half, a few on high
			 * qubits, 2-qubit neighbours, a controlled and a diagonal */
			for (int i = 0; i < 20; i++) {
				struct qrtx_sv_gate *x = &g[ng];
				unsigned int r = rnd(10);

				memset(x, 0, sizeof(*x));
				x->m = mats[ng];
				if (r < 5) {
					x->kind = QRTX_SV_GATE_DENSE;
					x->k = 1;
					x->targets[0] = i < 14 ? rnd(8) : rnd(n);
				} else if (r < 7) {
					x->kind = QRTX_SV_GATE_DENSE;
					x->k = 2 + rnd(2);
					random_qubits(n, x->k, x->targets, 0);
				} else if (r < 9) {
					x->kind = QRTX_SV_GATE_CONTROLLED;
					x->k = 1;
					x->nc = 1 + rnd(2);
					random_qubits(n, 1 + x->nc, x->targets, 0);
					memcpy(x->controls, x->targets + 1,
					       x->nc * sizeof(uint32_t));
				} else {
					x->kind = QRTX_SV_GATE_DIAG;
					x->k = 2;
					random_qubits(n, 2, x->targets, 0);
				}
				if (x->kind == QRTX_SV_GATE_DIAG)
					for (unsigned int d = 0; d < 4; d++)
						mats[ng][d] = cexp(I * (0.7 * d + layer));
				else
					random_unitary(x->k, mats[ng]);
				ng++;
			}
		}
		qrtx_sv_apply_batch(a, g, ng, &st);
		for (size_t i = 0; i < ng; i++) {
			if (g[i].kind == QRTX_SV_GATE_DIAG)
				qrtx_sv_apply_diag(b, g[i].targets, g[i].k, g[i].m);
			else if (g[i].kind == QRTX_SV_GATE_CONTROLLED)
				qrtx_sv_apply_controlled(b, g[i].controls, g[i].nc, g[i].targets,
							 g[i].k, g[i].m);
			else
				qrtx_sv_apply_dense(b, g[i].targets, g[i].k, g[i].m);
		}
		for (uint64_t i = 0; i < (1ull << n); i++)
			assert_true(cabs(qrtx_sv_amp(a, i) - qrtx_sv_amp(b, i)) < 10 * tol(cf));
		/* it did block: fewer passes than gates, some of them strided */
		assert_true(st.passes < ng / 2);
		assert_true(st.blocked > 0 && st.strided > 0);
		/* gates on the lowest B qubits only: one pass, blocks in place */
		for (size_t i = 0; i < 30; i++) {
			g[i].kind = i % 3 == 2 ? QRTX_SV_GATE_CONTROLLED : QRTX_SV_GATE_DENSE;
			g[i].k = 1 + (i % 3 == 1);
			random_qubits(10, g[i].k + 1, g[i].targets, 0);
			g[i].nc = 1;
			g[i].controls[0] = g[i].targets[g[i].k];
			random_unitary(g[i].k, mats[i]);
		}
		qrtx_sv_apply_batch(a, g, 30, &st);
		for (size_t i = 0; i < 30; i++) {
			if (g[i].kind == QRTX_SV_GATE_CONTROLLED)
				qrtx_sv_apply_controlled(b, g[i].controls, 1, g[i].targets, 1,
							 g[i].m);
			else
				qrtx_sv_apply_dense(b, g[i].targets, g[i].k, g[i].m);
		}
		assert_int_equal(st.passes, 1);
		assert_int_equal(st.strided, 0);
		for (uint64_t i = 0; i < (1ull << n); i++)
			assert_true(cabs(qrtx_sv_amp(a, i) - qrtx_sv_amp(b, i)) < 10 * tol(cf));
		/* wide gates: their tables (64 KiB each in double) outgrow the
		 * first plan arena */
		for (size_t i = 0; i < 10; i++) {
			g[i].kind = QRTX_SV_GATE_DENSE;
			g[i].k = 6;
			random_qubits(i < 8 ? 10 : n, g[i].k, g[i].targets, 0);
			random_unitary(g[i].k, mats[i]);
		}
		qrtx_sv_apply_batch(a, g, 10, &st);
		for (size_t i = 0; i < 10; i++)
			qrtx_sv_apply_dense(b, g[i].targets, g[i].k, g[i].m);
		assert_true(st.passes < 10);
		for (uint64_t i = 0; i < (1ull << n); i++)
			assert_true(cabs(qrtx_sv_amp(a, i) - qrtx_sv_amp(b, i)) < 10 * tol(cf));
		free(ref);
		qrtx_sv_free(a);
		qrtx_sv_free(b);
	}
	unsetenv("QRTX_SV_BLOCK_BITS");
}

/* Strided blocks as the engine makes them by default: 16 KiB segments
 * (10 low qubits in double, 11 in single) below up to 4 high qubits of a
 * 2^14 block, 3-qubit gates on high qubits sharing passes. */
static void test_batch_strided_segments(void **state)
{
	(void)state;
	setenv("QRTX_SV_BLOCK_BITS", "14", 1);
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 17;
		struct qrtx_sv *a = new_sv(cf, n, 2), *b = new_sv(cf, n, 2);
		struct qrtx_sv_gate g[40];
		static cplx mats[40][64];
		cplx *ref = random_state(n);
		struct qrtx_sv_batch_stats st;

		qrtx_sv_load(a, ref);
		qrtx_sv_load(b, ref);
		for (size_t i = 0; i < 40; i++) {
			memset(&g[i], 0, sizeof(g[i]));
			g[i].m = mats[i];
			g[i].k = 3;
			if (i % 4 == 3) {
				/* a diagonal on two high qubits and a low one */
				g[i].kind = QRTX_SV_GATE_DIAG;
				random_qubits(n - 12, 2, g[i].targets, 0);
				g[i].targets[0] += 12;
				g[i].targets[1] += 12;
				g[i].targets[2] = rnd(4);
				for (unsigned int d = 0; d < 8; d++)
					mats[i][d] = cexp(I * (0.3 * d + (double)i));
			} else {
				/* dense on high qubits, now and then with a lane qubit */
				g[i].kind = QRTX_SV_GATE_DENSE;
				random_qubits(n - 12, 3, g[i].targets, 0);
				for (unsigned int j = 0; j < 3; j++)
					g[i].targets[j] += 12;
				if (i % 4 == 1)
					g[i].targets[2] = rnd(3);
				random_unitary(3, mats[i]);
			}
		}
		qrtx_sv_apply_batch(a, g, 40, &st);
		for (size_t i = 0; i < 40; i++) {
			if (g[i].kind == QRTX_SV_GATE_DIAG)
				qrtx_sv_apply_diag(b, g[i].targets, g[i].k, g[i].m);
			else
				qrtx_sv_apply_dense(b, g[i].targets, g[i].k, g[i].m);
		}
		for (uint64_t i = 0; i < (1ull << n); i++)
			assert_true(cabs(qrtx_sv_amp(a, i) - qrtx_sv_amp(b, i)) < 10 * tol(cf));
		/* they shared passes, strided ones: 4 high qubits fit a double
		 * block beside its 10 lowest, 3 a single one beside 11 */
		assert_true(st.strided >= 5);
		assert_true(st.passes < (cf->prec == QRTX_PREC_DOUBLE ? 20u : 34u));
		free(ref);
		qrtx_sv_free(a);
		qrtx_sv_free(b);
	}
	unsetenv("QRTX_SV_BLOCK_BITS");
}

/* --- measurement -------------------------------------------------------------------- */

/* Prepare Ry(theta) on qubit q of |0..0>: P(1) = sin^2(theta / 2). */
static void prep_ry(struct qrtx_sv *sv, uint32_t q, double theta)
{
	cplx m[4] = { cos(theta / 2), -sin(theta / 2), sin(theta / 2), cos(theta / 2) };

	qrtx_sv_set_zero_state(sv);
	qrtx_sv_apply_dense(sv, &q, 1, m);
}

static void test_measure_statistics(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 10, q = 7;
		struct qrtx_sv *sv = new_sv(cf, n, 1);
		struct qrtx_rng r;
		double p1 = pow(sin(0.6), 2);
		int ones = 0, trials = 4000;

		qrtx_rng_seed(&r, 11);
		for (int t = 0; t < trials; t++) {
			int out;

			prep_ry(sv, q, 1.2);
			assert_true(fabs(qrtx_sv_prob_one(sv, q) - p1) < 10 * tol(cf));
			out = qrtx_sv_measure(sv, q, qrtx_rng_uniform(&r));
			ones += out;
			/* collapsed and renormalised */
			assert_true(fabs(qrtx_sv_prob_one(sv, q) - out) < 10 * tol(cf));
			assert_true(fabs(qrtx_sv_norm2(sv) - 1) < 10 * tol(cf));
			/* measuring again repeats the outcome */
			assert_int_equal(qrtx_sv_measure(sv, q, qrtx_rng_uniform(&r)), out);
		}
		/* binomial: 5 standard deviations */
		assert_true(fabs(ones - trials * p1) < 5 * sqrt(trials * p1 * (1 - p1)));
		qrtx_sv_free(sv);
	}
}

static void test_measure_edges_and_reset(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 6, q = 0;
		struct qrtx_sv *sv = new_sv(cf, n, 1);
		cplx x[4] = { 0, 1, 1, 0 };
		cplx *ref;

		/* Deterministic outcomes whatever r is. */
		qrtx_sv_set_zero_state(sv);
		assert_int_equal(qrtx_sv_measure(sv, 3, 0.0), 0);
		assert_int_equal(qrtx_sv_measure(sv, 3, 0.999999), 0);
		qrtx_sv_apply_dense(sv, &q, 1, x);
		assert_int_equal(qrtx_sv_measure(sv, 0, 0.0), 1);
		/* r below P(0) gives 0, above gives 1 */
		prep_ry(sv, 4, M_PI / 2);
		assert_int_equal(qrtx_sv_measure(sv, 4, 0.49), 0);
		prep_ry(sv, 4, M_PI / 2);
		assert_int_equal(qrtx_sv_measure(sv, 4, 0.51), 1);

		/* reset moves the surviving half onto |0> of that qubit */
		ref = random_state(n);
		load_both(sv, ref, n);
		qrtx_sv_reset(sv, 2, 0.999999);	/* outcome 1 (P(1) > 0) */
		assert_true(qrtx_sv_prob_one(sv, 2) < tol(cf));
		assert_true(fabs(qrtx_sv_norm2(sv) - 1) < 10 * tol(cf));
		{
			double p1 = 0;

			for (uint64_t i = 0; i < (1ull << n); i++)
				if (i & 4)
					p1 += creal(ref[i] * conj(ref[i]));
			for (uint64_t i = 0; i < (1ull << n); i++)
				if (!(i & 4))
					assert_true(cabs(qrtx_sv_amp(sv, i) -
							 ref[i | 4] / sqrt(p1)) < 10 * tol(cf));
		}
		free(ref);
		qrtx_sv_free(sv);
	}
}

/* --- marginals ------------------------------------------------------------------------ */

static void brute_marginal(const cplx *a, uint32_t n, const uint32_t *q, unsigned int k,
			   double *p)
{
	memset(p, 0, (sizeof(double)) << k);
	for (uint64_t i = 0; i < (1ull << n); i++) {
		uint64_t o = 0;

		for (unsigned int j = 0; j < k; j++)
			o |= ((i >> q[j]) & 1) << j;
		p[o] += creal(a[i] * conj(a[i]));
	}
}

static void test_probabilities(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 15;
		struct qrtx_sv *sv = new_sv(cf, n, 2);
		cplx *ref = random_state(n);
		double *p = malloc(sizeof(double) << n), *b = malloc(sizeof(double) << n);
		uint32_t all[15], sel[3][10] = { { 0 }, { 14, 3, 0 },
						  { 9, 1, 13, 0, 6, 2, 11, 4, 14, 7 } };
		unsigned int nsel[3] = { 1, 3, 10 };

		load_both(sv, ref, n);
		for (uint32_t i = 0; i < n; i++)
			all[i] = i;
		/* identity order, reversed order, small and large subsets */
		for (int v = 0; v < 5; v++) {
			const uint32_t *q = all;
			unsigned int k = n;
			uint32_t rev[15];
			double s = 0;

			if (v == 1) {
				for (uint32_t i = 0; i < n; i++)
					rev[i] = n - 1 - i;
				q = rev;
			} else if (v >= 2) {
				q = sel[v - 2];
				k = nsel[v - 2];
			}
			assert_int_equal(qrtx_sv_probabilities(sv, q, k, p), 0);
			brute_marginal(ref, n, q, k, b);
			for (uint64_t o = 0; o < (1ull << k); o++) {
				assert_true(fabs(p[o] - b[o]) < 1e-12);
				s += p[o];
			}
			assert_true(fabs(s - 1) < 10 * tol(cf));
		}
		/* bad selections */
		{
			uint32_t dup[2] = { 3, 3 }, out[1] = { 15 };

			assert_int_equal(qrtx_sv_probabilities(sv, dup, 2, p), -EINVAL);
			assert_int_equal(qrtx_sv_probabilities(sv, out, 1, p), -EINVAL);
		}
		free(p);
		free(b);
		free(ref);
		qrtx_sv_free(sv);
	}
}

/* --- sampling --------------------------------------------------------------------------- */

static void test_sample_determinism(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 16, all[16], few[3] = { 15, 0, 7 };
		cplx *ref = random_state(n);
		uint64_t shots = 3000, *out[3];
		unsigned int threads[3] = { 1, 2, 3 };

		for (uint32_t i = 0; i < n; i++)
			all[i] = i;
		for (int sel = 0; sel < 2; sel++) {
			for (int t = 0; t < 3; t++) {
				struct qrtx_sv *sv = new_sv(cf, n, threads[t]);
				struct qrtx_rng r;

				assert_int_equal(qrtx_sv_threads(sv), threads[t]);
				qrtx_sv_load(sv, ref);
				qrtx_rng_seed(&r, 1234);
				out[t] = malloc(shots * sizeof(uint64_t));
				assert_int_equal(qrtx_sv_sample(sv, sel ? few : all, sel ? 3 : n,
								shots, &r, out[t]), 0);
				qrtx_sv_free(sv);
			}
			assert_memory_equal(out[0], out[1], shots * sizeof(uint64_t));
			assert_memory_equal(out[0], out[2], shots * sizeof(uint64_t));
			for (int t = 0; t < 3; t++)
				free(out[t]);
		}
		free(ref);
	}
}

/* Samples follow the distribution: chi-square over a skewed state, both
 * the marginal-table path and the full-index walk. */
static void test_sample_distribution(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 16, all[16], two[2] = { 1, 14 };

		for (uint32_t i = 0; i < n; i++)
			all[i] = i;
		for (int sel = 0; sel < 2; sel++) {
			struct qrtx_sv *sv = new_sv(cf, n, 2);
			struct qrtx_rng r;
			uint64_t shots = 40000, *out = malloc(shots * sizeof(uint64_t));
			double p[4] = { 0 }, cnt[4] = { 0 }, chi = 0, th[2] = { 1.0, 2.2 };
			uint32_t q = 0;

			/* Ry on qubits 1 and 14: four outcomes of unequal weight;
			 * measuring all 16 qubits, outcomes are masks of (1, 14). */
			prep_ry(sv, 1, th[0]);
			q = 14;
			{
				cplx m[4] = { cos(th[1] / 2), -sin(th[1] / 2), sin(th[1] / 2),
					      cos(th[1] / 2) };

				qrtx_sv_apply_dense(sv, &q, 1, m);
			}
			for (int o = 0; o < 4; o++) {
				double a = (o & 1) ? sin(th[0] / 2) : cos(th[0] / 2);
				double b = (o & 2) ? sin(th[1] / 2) : cos(th[1] / 2);

				p[o] = a * a * b * b;
			}
			qrtx_rng_seed(&r, 99);
			assert_int_equal(qrtx_sv_sample(sv, sel ? two : all, sel ? 2 : n, shots,
							&r, out), 0);
			for (uint64_t s = 0; s < shots; s++) {
				uint64_t o = sel ? out[s]
						 : ((out[s] >> 1) & 1) | ((out[s] >> 13) & 2);

				if (!sel)
					assert_int_equal(out[s] & ~((1ull << 1) | (1ull << 14)), 0);
				cnt[o]++;
			}
			for (int o = 0; o < 4; o++)
				chi += pow(cnt[o] - shots * p[o], 2) / (shots * p[o]);
			/* 3 degrees of freedom: P(chi2 > 16.3) = 1e-3 */
			assert_true(chi < 16.3);
			free(out);
			qrtx_sv_free(sv);
		}
	}
}

/* --- expectation values -------------------------------------------------------------------- */

static double brute_pauli(const cplx *a, uint32_t n, uint64_t x, uint64_t z)
{
	cplx s = 0;

	for (uint64_t i = 0; i < (1ull << n); i++) {
		/* P|i> = prod over qubits; Y|b> = i (-1)^b |1-b> */
		cplx ph = 1;

		for (uint32_t q = 0; q < n; q++) {
			int b = (i >> q) & 1, xb = (x >> q) & 1, zb = (z >> q) & 1;

			if (zb && b)
				ph = -ph;
			if (xb && zb)
				ph *= I;
		}
		s += conj(a[i ^ x]) * ph * a[i];
	}
	assert_true(fabs(cimag(s)) < 1e-10);
	return creal(s);
}

static void test_expect_pauli(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 14;
		struct qrtx_sv *sv = new_sv(cf, n, 3);
		cplx *ref = random_state(n);
		uint64_t fixed[][2] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 }, { 0x2001, 0x2001 },
					{ 0x5, 0x3 }, { 0x3fff, 0 }, { 0x3fff, 0x3fff },
					{ 0x2000, 0x2 }, { 0x6, 0x6 } };

		load_both(sv, ref, n);
		for (int v = 0; v < 20; v++) {
			uint64_t x, z;

			if (v < 10) {
				x = fixed[v][0];
				z = fixed[v][1];
			} else {
				x = qrtx_rng_next(&trng) & 0x3fff;
				z = qrtx_rng_next(&trng) & 0x3fff;
			}
			assert_true(fabs(qrtx_sv_expect_pauli(sv, x, z) -
					 brute_pauli(ref, n, x, z)) < 1e-10);
		}
		/* deterministic across thread counts, bit for bit */
		{
			struct qrtx_sv *one = new_sv(cf, n, 1);

			qrtx_sv_load(one, ref);
			assert_true(qrtx_sv_expect_pauli(one, 0x1234, 0x2321) ==
				    qrtx_sv_expect_pauli(sv, 0x1234, 0x2321));
			assert_true(qrtx_sv_norm2(one) == qrtx_sv_norm2(sv));
			qrtx_sv_free(one);
		}
		free(ref);
		qrtx_sv_free(sv);
	}
}

/* --- life cycle ---------------------------------------------------------------------------- */

static void test_lifecycle(void **state)
{
	(void)state;
	for (unsigned int ci = 0; ci < nconfs; ci++) {
		const struct conf *cf = &confs[ci];
		uint32_t n = 14;
		struct qrtx_sv *a = new_sv(cf, n, 2), *b = new_sv(cf, n, 2);
		cplx *ref = random_state(n);

		assert_int_equal(qrtx_sv_nqubits(a), n);
		assert_int_equal(qrtx_sv_precision(a), cf->prec);
		assert_true(qrtx_sv_amp(a, 0) == 1);
		for (uint64_t i = 1; i < (1ull << n); i++)
			assert_true(qrtx_sv_amp(a, i) == 0);
		load_both(a, ref, n);
		qrtx_sv_copy(b, a);
		for (uint64_t i = 0; i < (1ull << n); i++)
			assert_true(qrtx_sv_amp(b, i) == ref[i]);
		qrtx_sv_set_zero_state(a);
		assert_true(qrtx_sv_amp(a, 0) == 1 && qrtx_sv_amp(a, 5) == 0);
		assert_true(fabs(qrtx_sv_norm2(b) - 1) < 10 * tol(cf));
		free(ref);
		qrtx_sv_free(a);
		qrtx_sv_free(b);
	}
	/* a one-qubit state: fewer amplitudes than one vector holds */
	{
		struct qrtx_sv *sv = NULL;
		struct qrtx_sv_config cfg = { .precision = QRTX_PREC_SINGLE };
		cplx h[4] = { M_SQRT1_2, M_SQRT1_2, M_SQRT1_2, -M_SQRT1_2 };
		uint32_t q = 0;

		assert_int_equal(qrtx_sv_new(1, &cfg, &sv, NULL), 0);
		qrtx_sv_apply_dense(sv, &q, 1, h);
		assert_true(fabs(qrtx_sv_prob_one(sv, 0) - 0.5) < 1e-6);
		qrtx_sv_free(sv);
	}
	assert_int_equal(qrtx_sv_bytes(10, QRTX_PREC_DOUBLE), 16384);
	assert_int_equal(qrtx_sv_bytes(10, QRTX_PREC_SINGLE), 8192);
	assert_int_equal(qrtx_sv_bytes(63, QRTX_PREC_DOUBLE), 0);
}

static void test_allocation_refused(void **state)
{
	struct qrtx_sv_config cfg = { 0 };
	struct qrtx_error err = { 0 };
	struct qrtx_sv *sv = (struct qrtx_sv *)1;

	(void)state;
	/* 2^40 complex128: 16 TiB */
	assert_int_equal(qrtx_sv_new(40, &cfg, &sv, &err), -ENOMEM);
	assert_null(sv);
	assert_int_equal(err.category, QRTX_ERR_ALLOCATION);
	assert_int_equal(err.code, -ENOMEM);
	assert_non_null(strstr(err.msg, "needs 17592186044416 bytes"));
	assert_non_null(strstr(err.msg, "available"));
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_sv_new(QRTX_SV_MAX_QUBITS + 1, &cfg, &sv, &err), -EINVAL);
	assert_int_equal(err.category, QRTX_ERR_ALLOCATION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels_small),
		cmocka_unit_test(test_kernels_threaded),
		cmocka_unit_test(test_controlled_untouched),
		cmocka_unit_test(test_diag_controlled_vs_dense),
		cmocka_unit_test(test_batch_matches_sequential),
		cmocka_unit_test(test_batch_strided_segments),
		cmocka_unit_test(test_measure_statistics),
		cmocka_unit_test(test_measure_edges_and_reset),
		cmocka_unit_test(test_probabilities),
		cmocka_unit_test(test_sample_determinism),
		cmocka_unit_test(test_sample_distribution),
		cmocka_unit_test(test_expect_pauli),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_allocation_refused),
	};

	qrtx_rng_seed(&trng, 20240601);
	/* QRTX_TEST_FILTER=pattern runs only the matching tests. */
	if (getenv("QRTX_TEST_FILTER"))
		cmocka_set_test_filter(getenv("QRTX_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
