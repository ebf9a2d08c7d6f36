// SPDX-License-Identifier: MIT
/*
 * Every gate's matrix against an independent construction: hand-written
 * values, identities between gates, and the products of qelib1.inc's
 * decompositions. Matrices are composed here with a small helper that
 * applies a gate to chosen qubits of an n-qubit operator, so gates.c's own
 * expansion of controls is never used to check itself.
 */
#include <complex.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qrtx/gates.h"

#define TOL 1e-12
#define MAXD 32

typedef double complex cplx;

/* Deterministic parameters: tests must not depend on the run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double rnd_angle(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return ((double)(rng_state >> 11) / 9007199254740992.0) * 4 * M_PI - 2 * M_PI;
}

static unsigned int dim_of(enum qrtx_gate_id g)
{
	return 1u << qrtx_gate_info(g)->nqubits;
}

static void gate(enum qrtx_gate_id g, const double *p, cplx *m)
{
	qrtx_gate_matrix(g, p, m);
}

static double max_diff(const cplx *a, const cplx *b, unsigned int dim)
{
	double d = 0;

	for (unsigned int i = 0; i < dim * dim; i++)
		if (cabs(a[i] - b[i]) > d)
			d = cabs(a[i] - b[i]);
	return d;
}

static void assert_mat_eq(const cplx *a, const cplx *b, unsigned int dim)
{
	double d = max_diff(a, b, dim);

	if (d > TOL)
		fail_msg("matrices differ by %g", d);
}

static void ident(cplx *m, unsigned int dim)
{
	memset(m, 0, sizeof(*m) * dim * dim);
	for (unsigned int i = 0; i < dim; i++)
		m[i * dim + i] = 1;
}

/*
 * M <- G M where G (gdim = 2^k) acts on qubits q[0..k-1] of an n-qubit
 * operator M: operand j of G is bit q[j] of M's index.
 */
static void apply(cplx *M, unsigned int n, const cplx *G, unsigned int k, const unsigned int *q)
{
	unsigned int dim = 1u << n, gdim = 1u << k;
	cplx tmp[MAXD * MAXD];

	for (unsigned int r = 0; r < dim; r++) {
		for (unsigned int c = 0; c < dim; c++) {
			cplx acc = 0;
			unsigned int gr = 0;

			for (unsigned int j = 0; j < k; j++)
				gr |= ((r >> q[j]) & 1u) << j;
			/* G only mixes indices that agree outside q. */
			for (unsigned int gc = 0; gc < gdim; gc++) {
				unsigned int i = r;

				for (unsigned int j = 0; j < k; j++)
					i = (i & ~(1u << q[j])) | (((gc >> j) & 1u) << q[j]);
				acc += G[gr * gdim + gc] * M[i * dim + c];
			}
			tmp[r * dim + c] = acc;
		}
	}
	memcpy(M, tmp, sizeof(cplx) * dim * dim);
}

/* Apply a named gate with parameters to qubits of M. */
static void step(cplx *M, unsigned int n, enum qrtx_gate_id g, const double *p,
		 unsigned int q0, unsigned int q1)
{
	cplx G[4 * 4];
	unsigned int q[2] = { q0, q1 };

	gate(g, p, G);
	apply(M, n, G, qrtx_gate_info(g)->nqubits, q);
}

static void set1(cplx *u, cplx a, cplx b, cplx c, cplx d)
{
	u[0] = a;
	u[1] = b;
	u[2] = c;
	u[3] = d;
}

/* Controlled form written out directly: identity unless all of the nc
 * lowest bits are 1, then t on the bits above them. */
static void controlled_ref(unsigned int nc, unsigned int nt, const cplx *t, cplx *m)
{
	unsigned int dim = 1u << (nc + nt), on = (1u << nc) - 1, tdim = 1u << nt;

	memset(m, 0, sizeof(*m) * dim * dim);
	for (unsigned int r = 0; r < dim; r++) {
		for (unsigned int c = 0; c < dim; c++) {
			if ((r & on) != on || (c & on) != on)
				m[r * dim + c] = r == c;
			else if ((r & on) == (c & on))
				m[r * dim + c] = t[(r >> nc) * tdim + (c >> nc)];
		}
	}
}

static void test_lookup(void **state)
{
	(void)state;
	for (int g = 0; g < QRTX_G_COUNT; g++) {
		const struct qrtx_gate_info *gi = qrtx_gate_info(g);

		assert_non_null(gi);
		assert_int_equal(qrtx_gate_lookup(gi->name), g);
		assert_true(gi->nqubits >= 1 && gi->nqubits <= QRTX_GATE_MAX_QUBITS);
		assert_true(gi->nparams <= QRTX_GATE_MAX_PARAMS);
		assert_true(gi->ncontrols < gi->nqubits);
	}
	assert_int_equal(qrtx_gate_lookup("U"), QRTX_G_U);
	assert_int_equal(qrtx_gate_lookup("u3"), QRTX_G_U);
	assert_int_equal(qrtx_gate_lookup("u"), QRTX_G_U);
	assert_int_equal(qrtx_gate_lookup("p"), QRTX_G_U1);
	assert_int_equal(qrtx_gate_lookup("u1"), QRTX_G_U1);
	assert_int_equal(qrtx_gate_lookup("cp"), QRTX_G_CU1);
	assert_int_equal(qrtx_gate_lookup("cu1"), QRTX_G_CU1);
	assert_int_equal(qrtx_gate_lookup("CX"), QRTX_G_CX);
	assert_int_equal(qrtx_gate_lookup("cx"), QRTX_G_CX);
	assert_int_equal(qrtx_gate_lookup("c3sqrtx"), QRTX_G_C3SQRTX);
	assert_int_equal(qrtx_gate_lookup("id"), QRTX_G_ID);
	assert_int_equal(qrtx_gate_lookup("u0"), QRTX_G_U0);
	/* Case matters in QASM; unknown names are refused. */
	assert_int_equal(qrtx_gate_lookup("H"), -1);
	assert_int_equal(qrtx_gate_lookup("Cx"), -1);
	assert_int_equal(qrtx_gate_lookup("toffoli"), -1);
	assert_int_equal(qrtx_gate_lookup(""), -1);
	assert_int_equal(qrtx_gate_lookup(NULL), -1);
	assert_null(qrtx_gate_info(QRTX_G_COUNT));
	assert_null(qrtx_gate_info((enum qrtx_gate_id)-1));
}

static void test_shapes(void **state)
{
	static const struct {
		enum qrtx_gate_id g;
		int nq, np, nc, diag;
	} want[] = {
		{ QRTX_G_U, 1, 3, 0, 0 }, { QRTX_G_U2, 1, 2, 0, 0 }, { QRTX_G_U1, 1, 1, 0, 1 },
		{ QRTX_G_U0, 1, 1, 0, 1 }, { QRTX_G_ID, 1, 0, 0, 1 }, { QRTX_G_X, 1, 0, 0, 0 },
		{ QRTX_G_Z, 1, 0, 0, 1 }, { QRTX_G_S, 1, 0, 0, 1 }, { QRTX_G_SDG, 1, 0, 0, 1 },
		{ QRTX_G_T, 1, 0, 0, 1 }, { QRTX_G_TDG, 1, 0, 0, 1 }, { QRTX_G_RZ, 1, 1, 0, 1 },
		{ QRTX_G_CX, 2, 0, 1, 0 }, { QRTX_G_CY, 2, 0, 1, 0 }, { QRTX_G_CZ, 2, 0, 1, 1 },
		{ QRTX_G_CH, 2, 0, 1, 0 }, { QRTX_G_SWAP, 2, 0, 0, 0 }, { QRTX_G_CRX, 2, 1, 1, 0 },
		{ QRTX_G_CRY, 2, 1, 1, 0 }, { QRTX_G_CRZ, 2, 1, 1, 1 }, { QRTX_G_CU1, 2, 1, 1, 1 },
		{ QRTX_G_CU3, 2, 3, 1, 0 }, { QRTX_G_CU, 2, 4, 1, 0 }, { QRTX_G_CSX, 2, 0, 1, 0 },
		{ QRTX_G_RXX, 2, 1, 0, 0 }, { QRTX_G_RZZ, 2, 1, 0, 1 }, { QRTX_G_CCX, 3, 0, 2, 0 },
		{ QRTX_G_CSWAP, 3, 0, 1, 0 }, { QRTX_G_RCCX, 3, 0, 0, 0 }, { QRTX_G_RC3X, 4, 0, 0, 0 },
		{ QRTX_G_C3X, 4, 0, 3, 0 }, { QRTX_G_C3SQRTX, 4, 0, 3, 0 }, { QRTX_G_C4X, 5, 0, 4, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct qrtx_gate_info *gi = qrtx_gate_info(want[i].g);

		assert_int_equal(gi->nqubits, want[i].nq);
		assert_int_equal(gi->nparams, want[i].np);
		assert_int_equal(gi->ncontrols, want[i].nc);
		assert_int_equal(gi->diagonal, want[i].diag);
	}
}

/* Every gate, for random parameters: unitary; diagonal exactly when
 * flagged; identity wherever a control is 0. */
static void test_unitary_and_flags(void **state)
{
	(void)state;
	for (int g = 0; g < QRTX_G_COUNT; g++) {
		const struct qrtx_gate_info *gi = qrtx_gate_info(g);
		unsigned int dim = dim_of(g), on = (1u << gi->ncontrols) - 1;

		for (int trial = 0; trial < 5; trial++) {
			double p[QRTX_GATE_MAX_PARAMS];
			cplx m[MAXD * MAXD], prod[MAXD * MAXD], id[MAXD * MAXD];
			bool offdiag = false;

			for (int i = 0; i < QRTX_GATE_MAX_PARAMS; i++)
				p[i] = rnd_angle();
			gate(g, p, m);
			for (unsigned int r = 0; r < dim; r++) {
				for (unsigned int c = 0; c < dim; c++) {
					cplx acc = 0;

					for (unsigned int k = 0; k < dim; k++)
						acc += conj(m[k * dim + r]) * m[k * dim + c];
					prod[r * dim + c] = acc;
					if (r != c && cabs(m[r * dim + c]) > TOL)
						offdiag = true;
					if (((r & on) != on || (c & on) != on) &&
					    cabs(m[r * dim + c] - (cplx)(r == c)) > TOL)
						fail_msg("%s: not identity off the controls", gi->name);
				}
			}
			ident(id, dim);
			if (max_diff(prod, id, dim) > 1e-12)
				fail_msg("%s is not unitary", gi->name);
			if (gi->diagonal && offdiag)
				fail_msg("%s flagged diagonal but is not", gi->name);
			if (!gi->diagonal && !offdiag && g != QRTX_G_U0 && g != QRTX_G_ID)
				fail_msg("%s not flagged diagonal but is", gi->name);
		}
	}
}

static void test_one_qubit_values(void **state)
{
	const double r = 1 / sqrt(2);
	cplx m[4], u[4];
	double th = 0.7, ph = -1.3, la = 2.1;
	double p[3] = { th, ph, la };

	(void)state;
	gate(QRTX_G_X, NULL, m);
	set1(u, 0, 1, 1, 0);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_Y, NULL, m);
	set1(u, 0, -I, I, 0);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_Z, NULL, m);
	set1(u, 1, 0, 0, -1);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_H, NULL, m);
	set1(u, r, r, r, -r);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_S, NULL, m);
	set1(u, 1, 0, 0, I);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_SDG, NULL, m);
	set1(u, 1, 0, 0, -I);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_T, NULL, m);
	set1(u, 1, 0, 0, r + I * r);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_TDG, NULL, m);
	set1(u, 1, 0, 0, r - I * r);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_SX, NULL, m);
	set1(u, (1 + I) / 2, (1 - I) / 2, (1 - I) / 2, (1 + I) / 2);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_SXDG, NULL, m);
	set1(u, (1 - I) / 2, (1 + I) / 2, (1 + I) / 2, (1 - I) / 2);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_ID, NULL, m);
	set1(u, 1, 0, 0, 1);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_U0, p, m);
	assert_mat_eq(m, u, 2);

	/* The OpenQASM 2.0 definition of U, written out. */
	gate(QRTX_G_U, p, m);
	set1(u, cos(th / 2), -cexp(I * la) * sin(th / 2), cexp(I * ph) * sin(th / 2),
	     cexp(I * (ph + la)) * cos(th / 2));
	assert_mat_eq(m, u, 2);
	/* U(pi/2, 0, pi) is H; U(pi, 0, pi) is X. */
	gate(QRTX_G_U, (double[]){ M_PI / 2, 0, M_PI }, m);
	set1(u, r, r, r, -r);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_U, (double[]){ M_PI, 0, M_PI }, m);
	set1(u, 0, 1, 1, 0);
	assert_mat_eq(m, u, 2);

	gate(QRTX_G_U1, &la, m);
	set1(u, 1, 0, 0, cexp(I * la));
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_RZ, &th, m);
	set1(u, cexp(-I * th / 2), 0, 0, cexp(I * th / 2));
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_RX, &th, m);
	set1(u, cos(th / 2), -I * sin(th / 2), -I * sin(th / 2), cos(th / 2));
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_RY, &th, m);
	set1(u, cos(th / 2), -sin(th / 2), sin(th / 2), cos(th / 2));
	assert_mat_eq(m, u, 2);
	/* rx(pi) = -iX, ry(pi) = -iY */
	gate(QRTX_G_RX, (double[]){ M_PI }, m);
	set1(u, 0, -I, -I, 0);
	assert_mat_eq(m, u, 2);
	gate(QRTX_G_RY, (double[]){ M_PI }, m);
	set1(u, 0, -1, 1, 0);
	assert_mat_eq(m, u, 2);
}

static void test_one_qubit_identities(void **state)
{
	cplx a[4], b[4], m[4];
	double ph = 0.4, la = -2.2, th = 1.1;

	(void)state;
	/* u2(phi, lambda) = U(pi/2, phi, lambda) */
	gate(QRTX_G_U2, (double[]){ ph, la }, a);
	gate(QRTX_G_U, (double[]){ M_PI / 2, ph, la }, b);
	assert_mat_eq(a, b, 2);
	/* u1(lambda) = U(0, 0, lambda) */
	gate(QRTX_G_U1, &la, a);
	gate(QRTX_G_U, (double[]){ 0, 0, la }, b);
	assert_mat_eq(a, b, 2);
	/* U(th, ph, la) = e^{i(ph+la)/2} rz(ph) ry(th) rz(la) */
	ident(m, 2);
	step(m, 1, QRTX_G_RZ, &la, 0, 0);
	step(m, 1, QRTX_G_RY, &th, 0, 0);
	step(m, 1, QRTX_G_RZ, &ph, 0, 0);
	for (int i = 0; i < 4; i++)
		m[i] *= cexp(I * (ph + la) / 2);
	gate(QRTX_G_U, (double[]){ th, ph, la }, a);
	assert_mat_eq(a, m, 2);
	/* sx sx = X, sxdg sx = I, s s = z, t t = s */
	ident(m, 2);
	step(m, 1, QRTX_G_SX, NULL, 0, 0);
	step(m, 1, QRTX_G_SX, NULL, 0, 0);
	gate(QRTX_G_X, NULL, a);
	assert_mat_eq(m, a, 2);
	ident(m, 2);
	step(m, 1, QRTX_G_SX, NULL, 0, 0);
	step(m, 1, QRTX_G_SXDG, NULL, 0, 0);
	ident(a, 2);
	assert_mat_eq(m, a, 2);
	ident(m, 2);
	step(m, 1, QRTX_G_T, NULL, 0, 0);
	step(m, 1, QRTX_G_T, NULL, 0, 0);
	gate(QRTX_G_S, NULL, a);
	assert_mat_eq(m, a, 2);
	/* rx = H rz H; ry = S rx S^dagger */
	ident(m, 2);
	step(m, 1, QRTX_G_H, NULL, 0, 0);
	step(m, 1, QRTX_G_RZ, &th, 0, 0);
	step(m, 1, QRTX_G_H, NULL, 0, 0);
	gate(QRTX_G_RX, &th, a);
	assert_mat_eq(m, a, 2);
	ident(m, 2);
	step(m, 1, QRTX_G_SDG, NULL, 0, 0);
	step(m, 1, QRTX_G_RX, &th, 0, 0);
	step(m, 1, QRTX_G_S, NULL, 0, 0);
	gate(QRTX_G_RY, &th, a);
	assert_mat_eq(m, a, 2);
}

/* Each controlled gate against the controlled form of its target gate,
 * built here; the target gate's own matrix was checked above. */
static void test_controlled(void **state)
{
	static const struct {
		enum qrtx_gate_id g, target;
	} pairs[] = {
		{ QRTX_G_CX, QRTX_G_X }, { QRTX_G_CY, QRTX_G_Y }, { QRTX_G_CZ, QRTX_G_Z },
		{ QRTX_G_CH, QRTX_G_H }, { QRTX_G_CRX, QRTX_G_RX }, { QRTX_G_CRY, QRTX_G_RY },
		{ QRTX_G_CRZ, QRTX_G_RZ }, { QRTX_G_CU1, QRTX_G_U1 }, { QRTX_G_CU3, QRTX_G_U },
		{ QRTX_G_CSX, QRTX_G_SX }, { QRTX_G_CCX, QRTX_G_X }, { QRTX_G_C3X, QRTX_G_X },
		{ QRTX_G_C4X, QRTX_G_X }, { QRTX_G_C3SQRTX, QRTX_G_SX }, { QRTX_G_CSWAP, QRTX_G_SWAP },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct qrtx_gate_info *gi = qrtx_gate_info(pairs[i].g);
		const struct qrtx_gate_info *ti = qrtx_gate_info(pairs[i].target);
		double p[QRTX_GATE_MAX_PARAMS] = { 0.3, -1.7, 2.9, 0.8 };
		cplx t[16], want[MAXD * MAXD], got[MAXD * MAXD];

		assert_int_equal(gi->nqubits, gi->ncontrols + ti->nqubits);
		assert_int_equal(gi->nparams, ti->nparams);
		gate(pairs[i].target, p, t);
		controlled_ref(gi->ncontrols, ti->nqubits, t, want);
		gate(pairs[i].g, p, got);
		if (max_diff(got, want, dim_of(pairs[i].g)) > TOL)
			fail_msg("%s is not controlled-%s", gi->name, ti->name);
	}

	/* cu(th, ph, la, g) = controlled e^{ig} U(th, ph, la) */
	{
		double p[4] = { 0.9, 0.2, -0.6, 1.4 };
		cplx t[4], want[16], got[16];

		gate(QRTX_G_U, p, t);
		for (int j = 0; j < 4; j++)
			t[j] *= cexp(I * p[3]);
		controlled_ref(1, 1, t, want);
		gate(QRTX_G_CU, p, got);
		assert_mat_eq(got, want, 4);
	}
	/* c3sqrtx's target squares to X: the correct root, not its inverse. */
	{
		cplx got[256], sq[4] = { 0 };

		gate(QRTX_G_C3SQRTX, NULL, got);
		for (int r = 0; r < 2; r++)
			for (int c = 0; c < 2; c++)
				for (int k = 0; k < 2; k++)
					sq[r * 2 + c] += got[(r << 3 | 7) * 16 + (k << 3 | 7)] *
							 got[(k << 3 | 7) * 16 + (c << 3 | 7)];
		assert_true(cabs(sq[0]) < TOL && cabs(sq[1] - 1) < TOL);
		assert_true(cabs(sq[2] - 1) < TOL && cabs(sq[3]) < TOL);
		assert_true(cabs(got[(7) * 16 + 7] - (1 + I) / 2) < TOL);
	}
	/* Bit order: cx with control operand 0 maps |01> (index 1, q0 = 1)
	 * to |11> (index 3). */
	{
		cplx m[16];

		gate(QRTX_G_CX, NULL, m);
		assert_true(cabs(m[3 * 4 + 1] - 1) < TOL);
		assert_true(cabs(m[1 * 4 + 1]) < TOL);
		assert_true(cabs(m[2 * 4 + 2] - 1) < TOL);
	}
}

static void test_two_qubit_identities(void **state)
{
	double th = 0.77;
	cplx m[16], a[16];

	(void)state;
	/* cx = (I (x) H) cz (I (x) H), H on the target. */
	ident(m, 4);
	step(m, 2, QRTX_G_H, NULL, 1, 0);
	step(m, 2, QRTX_G_CZ, NULL, 0, 1);
	step(m, 2, QRTX_G_H, NULL, 1, 0);
	gate(QRTX_G_CX, NULL, a);
	assert_mat_eq(m, a, 4);
	/* swap = cx a,b; cx b,a; cx a,b */
	ident(m, 4);
	step(m, 2, QRTX_G_CX, NULL, 0, 1);
	step(m, 2, QRTX_G_CX, NULL, 1, 0);
	step(m, 2, QRTX_G_CX, NULL, 0, 1);
	gate(QRTX_G_SWAP, NULL, a);
	assert_mat_eq(m, a, 4);
	/* rzz = cx; rz(th) on the target; cx */
	ident(m, 4);
	step(m, 2, QRTX_G_CX, NULL, 0, 1);
	step(m, 2, QRTX_G_RZ, &th, 1, 0);
	step(m, 2, QRTX_G_CX, NULL, 0, 1);
	gate(QRTX_G_RZZ, &th, a);
	assert_mat_eq(m, a, 4);
	/* rxx = (H (x) H) rzz (H (x) H) */
	ident(m, 4);
	step(m, 2, QRTX_G_H, NULL, 0, 0);
	step(m, 2, QRTX_G_H, NULL, 1, 0);
	step(m, 2, QRTX_G_RZZ, &th, 0, 1);
	step(m, 2, QRTX_G_H, NULL, 0, 0);
	step(m, 2, QRTX_G_H, NULL, 1, 0);
	gate(QRTX_G_RXX, &th, a);
	assert_mat_eq(m, a, 4);
	/* rxx(pi) = -i X (x) X */
	gate(QRTX_G_RXX, (double[]){ M_PI }, a);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			assert_true(cabs(a[i * 4 + j] - (i + j == 3 ? -I : 0)) < TOL);
	/* crz from qelib1: u1(l/2) b; cx a,b; u1(-l/2) b; cx a,b */
	ident(m, 4);
	step(m, 2, QRTX_G_U1, (double[]){ th / 2 }, 1, 0);
	step(m, 2, QRTX_G_CX, NULL, 0, 1);
	step(m, 2, QRTX_G_U1, (double[]){ -th / 2 }, 1, 0);
	step(m, 2, QRTX_G_CX, NULL, 0, 1);
	gate(QRTX_G_CRZ, &th, a);
	assert_mat_eq(m, a, 4);
	/* cu1 from qelib1: u1(l/2) a; cx a,b; u1(-l/2) b; cx a,b; u1(l/2) b */
	ident(m, 4);
	step(m, 2, QRTX_G_U1, (double[]){ th / 2 }, 0, 0);
	step(m, 2, QRTX_G_CX, NULL, 0, 1);
	step(m, 2, QRTX_G_U1, (double[]){ -th / 2 }, 1, 0);
	step(m, 2, QRTX_G_CX, NULL, 0, 1);
	step(m, 2, QRTX_G_U1, (double[]){ th / 2 }, 1, 0);
	gate(QRTX_G_CU1, &th, a);
	assert_mat_eq(m, a, 4);
	/* cu3 from qelib1 */
	{
		double t = 0.5, p = 1.2, l = -0.4;

		ident(m, 4);
		step(m, 2, QRTX_G_U1, (double[]){ (l + p) / 2 }, 0, 0);
		step(m, 2, QRTX_G_U1, (double[]){ (l - p) / 2 }, 1, 0);
		step(m, 2, QRTX_G_CX, NULL, 0, 1);
		step(m, 2, QRTX_G_U, (double[]){ -t / 2, 0, -(p + l) / 2 }, 1, 0);
		step(m, 2, QRTX_G_CX, NULL, 0, 1);
		step(m, 2, QRTX_G_U, (double[]){ t / 2, p, 0 }, 1, 0);
		gate(QRTX_G_CU3, (double[]){ t, p, l }, a);
		assert_mat_eq(m, a, 4);
	}
}

/* ccx from the textbook decomposition into H, T and cx. */
static void test_toffoli(void **state)
{
	static cplx m[64], a[64];

	(void)state;
	ident(m, 8);
	step(m, 3, QRTX_G_H, NULL, 2, 0);
	step(m, 3, QRTX_G_CX, NULL, 1, 2);
	step(m, 3, QRTX_G_TDG, NULL, 2, 0);
	step(m, 3, QRTX_G_CX, NULL, 0, 2);
	step(m, 3, QRTX_G_T, NULL, 2, 0);
	step(m, 3, QRTX_G_CX, NULL, 1, 2);
	step(m, 3, QRTX_G_TDG, NULL, 2, 0);
	step(m, 3, QRTX_G_CX, NULL, 0, 2);
	step(m, 3, QRTX_G_T, NULL, 1, 0);
	step(m, 3, QRTX_G_T, NULL, 2, 0);
	step(m, 3, QRTX_G_H, NULL, 2, 0);
	step(m, 3, QRTX_G_CX, NULL, 0, 1);
	step(m, 3, QRTX_G_T, NULL, 0, 0);
	step(m, 3, QRTX_G_TDG, NULL, 1, 0);
	step(m, 3, QRTX_G_CX, NULL, 0, 1);
	gate(QRTX_G_CCX, NULL, a);
	assert_mat_eq(m, a, 8);
	/* cswap = cx c,b; ccx a,b,c; cx c,b */
	ident(m, 8);
	step(m, 3, QRTX_G_CX, NULL, 2, 1);
	{
		cplx t[64];
		unsigned int q[3] = { 0, 1, 2 };

		gate(QRTX_G_CCX, NULL, t);
		apply(m, 3, t, 3, q);
	}
	step(m, 3, QRTX_G_CX, NULL, 2, 1);
	gate(QRTX_G_CSWAP, NULL, a);
	assert_mat_eq(m, a, 8);
}

/* rccx and rc3x are defined by qelib1.inc's decompositions: multiply them. */
static void test_relative_phase(void **state)
{
	static cplx m[256], a[256];
	const double h[2] = { 0, M_PI };
	const double tp = M_PI / 4, tm = -M_PI / 4;

	(void)state;
	/* gate rccx a,b,c { u2(0,pi) c; u1(pi/4) c; cx b,c; u1(-pi/4) c;
	 * cx a,c; u1(pi/4) c; cx b,c; u1(-pi/4) c; u2(0,pi) c; } */
	ident(m, 8);
	step(m, 3, QRTX_G_U2, h, 2, 0);
	step(m, 3, QRTX_G_U1, &tp, 2, 0);
	step(m, 3, QRTX_G_CX, NULL, 1, 2);
	step(m, 3, QRTX_G_U1, &tm, 2, 0);
	step(m, 3, QRTX_G_CX, NULL, 0, 2);
	step(m, 3, QRTX_G_U1, &tp, 2, 0);
	step(m, 3, QRTX_G_CX, NULL, 1, 2);
	step(m, 3, QRTX_G_U1, &tm, 2, 0);
	step(m, 3, QRTX_G_U2, h, 2, 0);
	gate(QRTX_G_RCCX, NULL, a);
	assert_mat_eq(m, a, 8);

	/* gate rc3x a,b,c,d { u2(0,pi) d; u1(pi/4) d; cx c,d; u1(-pi/4) d;
	 * u2(0,pi) d; cx a,d; u1(pi/4) d; cx b,d; u1(-pi/4) d; cx a,d;
	 * u1(pi/4) d; cx b,d; u1(-pi/4) d; u2(0,pi) d; u1(pi/4) d; cx c,d;
	 * u1(-pi/4) d; u2(0,pi) d; } */
	ident(m, 16);
	step(m, 4, QRTX_G_U2, h, 3, 0);
	step(m, 4, QRTX_G_U1, &tp, 3, 0);
	step(m, 4, QRTX_G_CX, NULL, 2, 3);
	step(m, 4, QRTX_G_U1, &tm, 3, 0);
	step(m, 4, QRTX_G_U2, h, 3, 0);
	step(m, 4, QRTX_G_CX, NULL, 0, 3);
	step(m, 4, QRTX_G_U1, &tp, 3, 0);
	step(m, 4, QRTX_G_CX, NULL, 1, 3);
	step(m, 4, QRTX_G_U1, &tm, 3, 0);
	step(m, 4, QRTX_G_CX, NULL, 0, 3);
	step(m, 4, QRTX_G_U1, &tp, 3, 0);
	step(m, 4, QRTX_G_CX, NULL, 1, 3);
	step(m, 4, QRTX_G_U1, &tm, 3, 0);
	step(m, 4, QRTX_G_U2, h, 3, 0);
	step(m, 4, QRTX_G_U1, &tp, 3, 0);
	step(m, 4, QRTX_G_CX, NULL, 2, 3);
	step(m, 4, QRTX_G_U1, &tm, 3, 0);
	step(m, 4, QRTX_G_U2, h, 3, 0);
	gate(QRTX_G_RC3X, NULL, a);
	assert_mat_eq(m, a, 16);

	/* Both act as their Toffoli on the computational basis up to phases. */
	gate(QRTX_G_RCCX, NULL, m);
	gate(QRTX_G_CCX, NULL, a);
	for (int i = 0; i < 64; i++)
		assert_true(fabs(cabs(m[i]) - cabs(a[i])) < TOL);
	gate(QRTX_G_RC3X, NULL, m);
	gate(QRTX_G_C3X, NULL, a);
	for (int i = 0; i < 256; i++)
		assert_true(fabs(cabs(m[i]) - cabs(a[i])) < TOL);
}

/* c3x from two ccx-style halves is awkward to decompose exactly; check it
 * against a permutation: it flips operand 3 exactly when 0, 1, 2 are 1. */
static void test_multi_controlled_x(void **state)
{
	static cplx m[1024];

	(void)state;
	gate(QRTX_G_C3X, NULL, m);
	for (unsigned int c = 0; c < 16; c++) {
		unsigned int r = (c & 7) == 7 ? c ^ 8 : c;

		for (unsigned int i = 0; i < 16; i++)
			assert_true(cabs(m[i * 16 + c] - (cplx)(i == r)) < TOL);
	}
	gate(QRTX_G_C4X, NULL, m);
	for (unsigned int c = 0; c < 32; c++) {
		unsigned int r = (c & 15) == 15 ? c ^ 16 : c;

		for (unsigned int i = 0; i < 32; i++)
			assert_true(cabs(m[i * 32 + c] - (cplx)(i == r)) < TOL);
	}
	gate(QRTX_G_CCX, NULL, m);
	for (unsigned int c = 0; c < 8; c++) {
		unsigned int r = (c & 3) == 3 ? c ^ 4 : c;

		for (unsigned int i = 0; i < 8; i++)
			assert_true(cabs(m[i * 8 + c] - (cplx)(i == r)) < TOL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_unitary_and_flags),
		cmocka_unit_test(test_one_qubit_values),
		cmocka_unit_test(test_one_qubit_identities),
		cmocka_unit_test(test_controlled),
		cmocka_unit_test(test_two_qubit_identities),
		cmocka_unit_test(test_toffoli),
		cmocka_unit_test(test_relative_phase),
		cmocka_unit_test(test_multi_controlled_x),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
