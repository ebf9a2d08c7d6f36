// SPDX-License-Identifier: MIT
/*
 * Lowering and fusion. The reference is a plain simulator in this file
 * that applies the circuit gate by gate (matrices from gates.c, checked by
 * test_gates); lowered programs, fused at every width and unfused, must
 * reach the same state, through this file's own kop interpreter and
 * through the real engine via qrtx_program_apply.
 */
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qrtx/circuit.h"
#include "qrtx/gates.h"
#include "qrtx/program.h"
#include "qrtx/statevec.h"

typedef double complex cplx;

struct rng {
	uint64_t s;
};

static uint64_t next_u64(struct rng *r)
{
	/* splitmix64: tests must not depend on the run */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform(struct rng *r)
{
	return (double)(next_u64(r) >> 11) / 9007199254740992.0;
}

static unsigned int below(struct rng *r, unsigned int n)
{
	return (unsigned int)(next_u64(r) % n);
}

/* ---- reference simulator ---- */

struct ref {
	unsigned int n;
	cplx *amp;
	uint64_t clbits;
	const double *draws;	/* one per measure/reset, in order */
	size_t ndraws;
};

static void ref_init(struct ref *s, unsigned int n, const double *draws, size_t ndraws)
{
	s->n = n;
	s->amp = calloc(1ull << n, sizeof(cplx));
	assert_non_null(s->amp);
	s->amp[0] = 1;
	s->clbits = 0;
	s->draws = draws;
	s->ndraws = ndraws;
}

/* Controlled dense apply on any qubits: the one primitive everything else
 * reduces to. q[j] is matrix bit j; ctrl bits must all be 1. */
static void ref_apply(struct ref *s, const uint32_t *q, unsigned int k, const cplx *m,
		      const uint32_t *ctrl, unsigned int nc)
{
	uint64_t dim = 1ull << s->n, tmask = 0, cmask = 0;
	unsigned int gdim = 1u << k;
	cplx v[64];
	uint64_t idx[64];

	for (unsigned int j = 0; j < k; j++)
		tmask |= 1ull << q[j];
	for (unsigned int j = 0; j < nc; j++)
		cmask |= 1ull << ctrl[j];
	for (uint64_t base = 0; base < dim; base++) {
		if ((base & tmask) || (base & cmask) != cmask)
			continue;
		for (unsigned int t = 0; t < gdim; t++) {
			idx[t] = base;
			for (unsigned int j = 0; j < k; j++)
				if (t >> j & 1)
					idx[t] |= 1ull << q[j];
			v[t] = s->amp[idx[t]];
		}
		for (unsigned int r = 0; r < gdim; r++) {
			cplx acc = 0;

			for (unsigned int c = 0; c < gdim; c++)
				acc += m[r * gdim + c] * v[c];
			s->amp[idx[r]] = acc;
		}
	}
}

static void ref_diag(struct ref *s, const uint32_t *q, unsigned int k, const cplx *d)
{
	for (uint64_t i = 0; i < (1ull << s->n); i++) {
		unsigned int t = 0;

		for (unsigned int j = 0; j < k; j++)
			t |= (unsigned int)((i >> q[j]) & 1) << j;
		s->amp[i] *= d[t];
	}
}

static int ref_measure(struct ref *s, uint32_t q)
{
	double p1 = 0, norm;
	int out;

	assert_true(s->ndraws > 0);
	for (uint64_t i = 0; i < (1ull << s->n); i++)
		if (i >> q & 1)
			p1 += creal(s->amp[i] * conj(s->amp[i]));
	out = *s->draws < p1;
	s->draws++;
	s->ndraws--;
	norm = sqrt(out ? p1 : 1 - p1);
	for (uint64_t i = 0; i < (1ull << s->n); i++)
		s->amp[i] = ((i >> q & 1) == (uint64_t)out) ? s->amp[i] / norm : 0;
	return out;
}

static void ref_reset(struct ref *s, uint32_t q)
{
	if (ref_measure(s, q))
		for (uint64_t i = 0; i < (1ull << s->n); i++)
			if (i >> q & 1) {
				s->amp[i ^ (1ull << q)] = s->amp[i];
				s->amp[i] = 0;
			}
}

static bool ref_cond(const struct qrtx_circuit *c, const struct qrtx_cond *cond, uint64_t cl)
{
	const struct qrtx_reg *r;

	if (cond->creg < 0)
		return true;
	r = &c->cregs[cond->creg];
	return ((cl >> r->offset) & ((1ull << r->size) - 1)) == cond->value;
}

/* The circuit as written, gate by gate, no lowering involved. */
static void ref_run_circuit(struct ref *s, const struct qrtx_circuit *c, const double *symv)
{
	for (size_t i = 0; i < c->nops; i++) {
		const struct qrtx_op *op = &c->ops[i];
		double p[QRTX_GATE_MAX_PARAMS] = { 0 };
		cplx m[1024];

		if (!ref_cond(c, &op->cond, s->clbits))
			continue;
		switch (op->kind) {
		case QRTX_OP_GATE:
			for (uint32_t j = 0; j < op->nparams; j++)
				assert_int_equal(qrtx_param_eval(c, &op->params[j], symv, &p[j]), 0);
			qrtx_gate_matrix(op->gate, p, m);
			ref_apply(s, op->qubits, op->nqubits, m, NULL, 0);
			break;
		case QRTX_OP_MEASURE:
			if (ref_measure(s, op->qubits[0]))
				s->clbits |= 1ull << op->clbit;
			else
				s->clbits &= ~(1ull << op->clbit);
			break;
		case QRTX_OP_RESET:
			ref_reset(s, op->qubits[0]);
			break;
		default:
			break;
		}
	}
}

/* A lowered program, interpreted here (independent of the engine). */
static void ref_run_program(struct ref *s, const struct qrtx_program *p,
			    const struct qrtx_circuit *c)
{
	for (size_t i = 0; i < p->nops; i++) {
		const struct qrtx_kop *k = &p->ops[i];

		if (!ref_cond(c, &k->cond, s->clbits))
			continue;
		switch (k->kind) {
		case QRTX_K_DENSE:
			ref_apply(s, k->qubits, k->nq, k->m, NULL, 0);
			break;
		case QRTX_K_DIAG:
			ref_diag(s, k->qubits, k->nq, k->m);
			break;
		case QRTX_K_CONTROLLED:
			ref_apply(s, k->qubits, k->nq, k->m, k->controls, k->nc);
			break;
		case QRTX_K_MEASURE:
			if (ref_measure(s, k->qubits[0]))
				s->clbits |= 1ull << k->clbit;
			else
				s->clbits &= ~(1ull << k->clbit);
			break;
		case QRTX_K_RESET:
			ref_reset(s, k->qubits[0]);
			break;
		case QRTX_K_BARRIER:
			break;
		}
	}
}

static double state_diff(const cplx *a, const cplx *b, unsigned int n)
{
	double d = 0;

	for (uint64_t i = 0; i < (1ull << n); i++)
		if (cabs(a[i] - b[i]) > d)
			d = cabs(a[i] - b[i]);
	return d;
}

/* ---- circuit building ---- */

static struct qrtx_circuit *new_circuit(unsigned int n)
{
	struct qrtx_circuit *c = qrtx_circuit_new();

	assert_non_null(c);
	assert_int_equal(qrtx_circuit_add_qreg(c, "q", n), 0);
	assert_int_equal(qrtx_circuit_add_creg(c, "c", n < 3 ? n : 3), 0);
	assert_int_equal(qrtx_circuit_add_creg(c, "d", 2), 0);
	return c;
}

static void add_gate(struct qrtx_circuit *c, enum qrtx_gate_id g, const uint32_t *q,
		     const double *p)
{
	const struct qrtx_gate_info *gi = qrtx_gate_info(g);
	struct qrtx_op op = { .kind = QRTX_OP_GATE, .gate = g, .cond = { .creg = -1 } };

	op.nqubits = gi->nqubits;
	op.nparams = gi->nparams;
	for (unsigned int j = 0; j < gi->nqubits; j++)
		op.qubits[j] = q[j];
	for (unsigned int j = 0; j < gi->nparams; j++) {
		op.params[j].value = p ? p[j] : 0;
		op.params[j].expr = -1;
	}
	assert_int_equal(qrtx_circuit_append(c, &op), 0);
}

static void add_g1(struct qrtx_circuit *c, enum qrtx_gate_id g, uint32_t a)
{
	add_gate(c, g, &a, NULL);
}

static void add_g2(struct qrtx_circuit *c, enum qrtx_gate_id g, uint32_t a, uint32_t b)
{
	uint32_t q[2] = { a, b };

	add_gate(c, g, q, NULL);
}

static void add_simple(struct qrtx_circuit *c, enum qrtx_op_kind kind, uint32_t q,
		       uint32_t clbit, int32_t creg, uint64_t value)
{
	struct qrtx_op op = { .kind = kind, .cond = { .creg = creg, .value = value } };

	if (kind != QRTX_OP_BARRIER) {
		op.nqubits = 1;
		op.qubits[0] = q;
	}
	op.clbit = clbit;
	assert_int_equal(qrtx_circuit_append(c, &op), 0);
}

/* Random distinct qubits. */
static void pick_qubits(struct rng *r, unsigned int n, unsigned int k, uint32_t *q)
{
	for (unsigned int j = 0; j < k; j++) {
		bool dup;

		do {
			q[j] = below(r, n);
			dup = false;
			for (unsigned int i = 0; i < j; i++)
				dup |= q[i] == q[j];
		} while (dup);
	}
}

/*
 * A random circuit over every gate; with nonunitary set, also barriers,
 * mid-circuit measurements, resets and conditional gates. The qubit
 * choice is biased to a few neighbouring qubits now and then so that
 * fusion finds long runs, as it does in real circuits.
 */
static struct qrtx_circuit *random_circuit(struct rng *r, unsigned int n, unsigned int nops,
					   bool nonunitary, size_t *ndraws)
{
	struct qrtx_circuit *c = new_circuit(n);

	*ndraws = 0;
	for (unsigned int i = 0; i < nops; i++) {
		unsigned int roll = below(r, 100);

		if (nonunitary && roll < 3) {
			add_simple(c, QRTX_OP_BARRIER, 0, 0, -1, 0);
		} else if (nonunitary && roll < 7) {
			add_simple(c, QRTX_OP_MEASURE, below(r, n), below(r, c->nclbits), -1, 0);
			(*ndraws)++;
		} else if (nonunitary && roll < 9) {
			add_simple(c, QRTX_OP_RESET, below(r, n), 0, -1, 0);
			(*ndraws)++;
		} else {
			enum qrtx_gate_id g;
			const struct qrtx_gate_info *gi;
			double p[QRTX_GATE_MAX_PARAMS];
			uint32_t q[QRTX_GATE_MAX_QUBITS];
			struct qrtx_op *op;

			do {
				g = below(r, QRTX_G_COUNT);
				gi = qrtx_gate_info(g);
			} while (gi->nqubits > n);
			for (int j = 0; j < QRTX_GATE_MAX_PARAMS; j++)
				p[j] = (uniform(r) * 2 - 1) * 2 * M_PI;
			if (below(r, 3) == 0 && n >= 4) {
				/* local window of 4 qubits */
				uint32_t base = below(r, n - 3);

				pick_qubits(r, 4 < gi->nqubits ? n : 4, gi->nqubits, q);
				for (unsigned int j = 0; j < gi->nqubits && gi->nqubits <= 4; j++)
					q[j] += base;
			} else {
				pick_qubits(r, n, gi->nqubits, q);
			}
			add_gate(c, g, q, p);
			if (nonunitary && roll < 12) {
				op = &c->ops[c->nops - 1];
				op->cond.creg = (int32_t)below(r, c->ncregs);
				op->cond.value = below(r, 1u << c->cregs[op->cond.creg].size);
			}
		}
	}
	return c;
}

static struct qrtx_program *lower_ok(const struct qrtx_circuit *c, const double *symv,
				     unsigned int fuse)
{
	struct qrtx_lower_opts o = { .fuse_max = fuse };
	struct qrtx_program *p = NULL;
	struct qrtx_error err = { 0 };
	int ret = qrtx_lower(c, symv, &o, &p, &err);

	if (ret)
		fail_msg("qrtx_lower: %d %s", ret, err.msg);
	assert_non_null(p);
	return p;
}

/* Structural promises of a lowered program. */
static void check_program(const struct qrtx_program *p, const struct qrtx_circuit *c,
			  unsigned int fuse)
{
	size_t gates = 0, folded = 0;

	for (size_t i = 0; i < c->nops; i++)
		if (c->ops[i].kind == QRTX_OP_GATE) {
			gates++;
			if (c->ops[i].gate != QRTX_G_ID && c->ops[i].gate != QRTX_G_U0)
				folded++;
		}
	assert_int_equal(p->ngates, gates);
	assert_int_equal(p->nqubits, c->nqubits);
	assert_int_equal(p->nclbits, c->nclbits);
	for (size_t i = 0; i < p->nops; i++) {
		const struct qrtx_kop *k = &p->ops[i];

		switch (k->kind) {
		case QRTX_K_DENSE:
			assert_true(k->nq >= 1 && k->nq <= QRTX_SV_MAX_DENSE);
			/* Wider than the limit only as one unfused gate. */
			if (k->ngates > 1)
				assert_true(k->nq <= (fuse ? fuse : QRTX_SV_MAX_DENSE));
			assert_non_null(k->m);
			break;
		case QRTX_K_DIAG:
			assert_true(k->nq >= 1 && k->nq <= QRTX_SV_MAX_DENSE);
			assert_non_null(k->m);
			break;
		case QRTX_K_CONTROLLED:
			assert_int_equal(k->ngates, 1);
			assert_true(k->nc >= 1 && k->nq >= 1);
			break;
		default:
			assert_int_equal(k->ngates, 0);
			break;
		}
		if (fuse == 1)
			assert_true(k->ngates <= 1);
		if (k->cond.creg >= 0)
			assert_true(k->ngates <= 1);
		for (uint32_t j = 0; j < k->nq; j++)
			assert_true(k->qubits[j] < c->nqubits);
		folded -= k->ngates;
	}
	assert_int_equal(folded, 0);
}

/* Fused at every width and unfused: the same state as the circuit. */
static void test_fusion_equivalence(void **state)
{
	struct rng r = { 42 };
	static const unsigned int widths[] = { 1, 2, 3, 4, 5, 6, 0 };

	(void)state;
	for (int trial = 0; trial < 48; trial++) {
		unsigned int n = 3 + trial % 8;
		bool nonunitary = trial % 2;
		size_t ndraws;
		struct qrtx_circuit *c = random_circuit(&r, n, 40 + 8 * n, nonunitary, &ndraws);
		double *draws = calloc(ndraws + 1, sizeof(double));
		struct ref want;

		assert_non_null(draws);
		for (size_t i = 0; i < ndraws; i++)
			draws[i] = uniform(&r);
		ref_init(&want, n, draws, ndraws);
		ref_run_circuit(&want, c, NULL);
		for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
			struct qrtx_program *p = lower_ok(c, NULL, widths[w]);
			struct ref got;
			double d;

			check_program(p, c, widths[w]);
			ref_init(&got, n, draws, ndraws);
			ref_run_program(&got, p, c);
			d = state_diff(want.amp, got.amp, n);
			if (d > 1e-10)
				fail_msg("trial %d n=%u fuse=%u: states differ by %g", trial, n,
					 widths[w], d);
			assert_int_equal(got.clbits, want.clbits);
			free(got.amp);
			qrtx_program_free(p);
		}
		free(want.amp);
		free(draws);
		qrtx_circuit_free(c);
	}
}

static struct qrtx_circuit *layered(unsigned int n, unsigned int depth, struct rng *r)
{
	struct qrtx_circuit *c = new_circuit(n);

	for (unsigned int l = 0; l < depth; l++) {
		for (uint32_t q = 0; q < n; q++) {
			double p[3] = { uniform(r) * 2 * M_PI, uniform(r) * 2 * M_PI,
					uniform(r) * 2 * M_PI };

			add_gate(c, QRTX_G_U, &q, p);
		}
		for (uint32_t q = l % 2; q + 1 < n; q += 2)
			add_g2(c, QRTX_G_CX, q, q + 1);
	}
	return c;
}

static struct qrtx_circuit *qft(unsigned int n)
{
	struct qrtx_circuit *c = new_circuit(n);

	add_g1(c, QRTX_G_X, 0);
	for (uint32_t i = 0; i < n; i++) {
		add_g1(c, QRTX_G_H, i);
		for (uint32_t j = i + 1; j < n; j++) {
			uint32_t q[2] = { j, i };
			double l = M_PI / (double)(1u << (j - i));

			add_gate(c, QRTX_G_CU1, q, &l);
		}
	}
	for (uint32_t i = 0; i < n / 2; i++)
		add_g2(c, QRTX_G_SWAP, i, n - 1 - i);
	return c;
}

/* Fusion does what it is for: far fewer passes on the benchmark shapes,
 * and the QFT's phase ladder comes out as diagonal blocks. */
static void test_fusion_shrinks(void **state)
{
	struct rng r = { 7 };
	struct qrtx_circuit *c = layered(10, 10, &r);
	struct qrtx_program *p1 = lower_ok(c, NULL, 1), *p4 = lower_ok(c, NULL, 4);
	struct ref a, b;
	size_t ndiag = 0;

	(void)state;
	assert_int_equal(p1->nops, p1->ngates);
	/* 10 layers of 10 u3 and 5 or 4 cx */
	assert_int_equal(p1->ngates, 145);
	assert_true(p4->nops * 4 <= p1->nops);
	ref_init(&a, 10, NULL, 0);
	ref_init(&b, 10, NULL, 0);
	ref_run_program(&a, p1, c);
	ref_run_program(&b, p4, c);
	assert_true(state_diff(a.amp, b.amp, 10) < 1e-10);
	free(a.amp);
	free(b.amp);
	qrtx_program_free(p1);
	qrtx_program_free(p4);
	qrtx_circuit_free(c);

	c = qft(10);
	p1 = lower_ok(c, NULL, 1);
	p4 = lower_ok(c, NULL, 4);
	for (size_t i = 0; i < p4->nops; i++)
		if (p4->ops[i].kind == QRTX_K_DIAG && p4->ops[i].ngates > 1)
			ndiag++;
	assert_true(ndiag > 0);
	assert_true(p4->nops * 3 <= p1->nops);
	ref_init(&a, 10, NULL, 0);
	ref_init(&b, 10, NULL, 0);
	ref_run_program(&a, p1, c);
	ref_run_program(&b, p4, c);
	assert_true(state_diff(a.amp, b.amp, 10) < 1e-10);
	/* QFT of |1>: uniform magnitudes */
	for (unsigned int i = 0; i < 1024; i++)
		assert_true(fabs(cabs(b.amp[i]) - 1 / 32.0) < 1e-12);
	free(a.amp);
	free(b.amp);
	qrtx_program_free(p1);
	qrtx_program_free(p4);
	qrtx_circuit_free(c);
}

/* Each gate shape lowers to the kind its kernel wants. */
static void test_kinds(void **state)
{
	struct qrtx_circuit *c = new_circuit(4);
	struct qrtx_program *p;
	uint32_t q3[3] = { 2, 0, 3 };

	(void)state;
	add_g2(c, QRTX_G_CX, 1, 2);			/* controlled, X */
	add_g2(c, QRTX_G_CZ, 0, 3);			/* diagonal */
	add_g1(c, QRTX_G_H, 3);				/* dense */
	add_g1(c, QRTX_G_ID, 2);			/* dropped */
	add_gate(c, QRTX_G_CCX, q3, NULL);		/* controlled, 2 controls */
	add_g2(c, QRTX_G_SWAP, 0, 1);			/* dense, 2 qubits */
	add_simple(c, QRTX_OP_MEASURE, 1, 2, -1, 0);
	add_simple(c, QRTX_OP_BARRIER, 0, 0, -1, 0);
	add_simple(c, QRTX_OP_RESET, 3, 0, -1, 0);
	add_g1(c, QRTX_G_X, 0);
	c->ops[c->nops - 1].cond.creg = 1;
	c->ops[c->nops - 1].cond.value = 2;

	p = lower_ok(c, NULL, 1);
	assert_int_equal(p->ngates, 7);
	assert_int_equal(p->nops, 9);
	assert_int_equal(p->ops[0].kind, QRTX_K_CONTROLLED);
	assert_int_equal(p->ops[0].nc, 1);
	assert_int_equal(p->ops[0].controls[0], 1);
	assert_int_equal(p->ops[0].nq, 1);
	assert_int_equal(p->ops[0].qubits[0], 2);
	assert_true(cabs(p->ops[0].m[0]) < 1e-15 && cabs(p->ops[0].m[1] - 1) < 1e-15);
	assert_int_equal(p->ops[1].kind, QRTX_K_DIAG);
	assert_int_equal(p->ops[1].nq, 2);
	assert_int_equal(p->ops[1].qubits[0], 0);
	assert_int_equal(p->ops[1].qubits[1], 3);
	assert_true(cabs(p->ops[1].m[3] + 1) < 1e-15 && cabs(p->ops[1].m[2] - 1) < 1e-15);
	assert_int_equal(p->ops[2].kind, QRTX_K_DENSE);
	assert_int_equal(p->ops[2].nq, 1);
	assert_int_equal(p->ops[3].kind, QRTX_K_CONTROLLED);
	assert_int_equal(p->ops[3].nc, 2);
	assert_int_equal(p->ops[3].controls[0], 2);
	assert_int_equal(p->ops[3].controls[1], 0);
	assert_int_equal(p->ops[3].qubits[0], 3);
	assert_int_equal(p->ops[4].kind, QRTX_K_DENSE);
	assert_int_equal(p->ops[4].nq, 2);
	assert_int_equal(p->ops[5].kind, QRTX_K_MEASURE);
	assert_int_equal(p->ops[5].qubits[0], 1);
	assert_int_equal(p->ops[5].clbit, 2);
	assert_int_equal(p->ops[6].kind, QRTX_K_BARRIER);
	assert_int_equal(p->ops[7].kind, QRTX_K_RESET);
	assert_int_equal(p->ops[7].qubits[0], 3);
	assert_int_equal(p->ops[8].kind, QRTX_K_DENSE);
	assert_int_equal(p->ops[8].cond.creg, 1);
	assert_int_equal(p->ops[8].cond.value, 2);
	qrtx_program_free(p);
	qrtx_circuit_free(c);
}

/* Fences: nothing is fused across a measurement of its qubit, a reset, a
 * barrier or a conditional op; gates on other qubits may move. */
static void test_fences(void **state)
{
	struct qrtx_circuit *c = new_circuit(3);
	struct qrtx_program *p;

	(void)state;
	/* h 0; measure 0; h 0 must stay three ops (h h = id would be wrong) */
	add_g1(c, QRTX_G_H, 0);
	add_simple(c, QRTX_OP_MEASURE, 0, 0, -1, 0);
	add_g1(c, QRTX_G_H, 0);
	p = lower_ok(c, NULL, 4);
	assert_int_equal(p->nops, 3);
	assert_int_equal(p->ops[1].kind, QRTX_K_MEASURE);
	qrtx_program_free(p);

	/* a gate on another qubit joins the block before the measurement */
	add_g1(c, QRTX_G_H, 1);
	add_g1(c, QRTX_G_H, 2);
	add_g1(c, QRTX_G_X, 1);
	p = lower_ok(c, NULL, 4);
	assert_int_equal(p->nops, 3);
	assert_int_equal(p->ops[0].kind, QRTX_K_DENSE);
	assert_int_equal(p->ops[0].ngates, 4);
	assert_int_equal(p->ops[1].kind, QRTX_K_MEASURE);
	assert_int_equal(p->ops[2].ngates, 1);
	qrtx_program_free(p);
	qrtx_circuit_free(c);

	/* a barrier stops everything */
	c = new_circuit(3);
	add_g1(c, QRTX_G_H, 0);
	add_simple(c, QRTX_OP_BARRIER, 0, 0, -1, 0);
	add_g1(c, QRTX_G_H, 1);
	p = lower_ok(c, NULL, 4);
	assert_int_equal(p->nops, 3);
	assert_int_equal(p->ops[1].kind, QRTX_K_BARRIER);
	qrtx_program_free(p);
	qrtx_circuit_free(c);

	/* so does a conditional gate, which is never fused itself */
	c = new_circuit(3);
	add_g1(c, QRTX_G_H, 0);
	add_g1(c, QRTX_G_H, 2);
	c->ops[1].cond.creg = 0;
	add_g1(c, QRTX_G_H, 1);
	add_g1(c, QRTX_G_H, 1);
	p = lower_ok(c, NULL, 4);
	assert_int_equal(p->nops, 3);
	assert_int_equal(p->ops[1].cond.creg, 0);
	assert_int_equal(p->ops[2].ngates, 2);
	/* qrtx_program_apply stops at the conditional op */
	assert_int_equal(qrtx_program_apply(p, 1, 3, NULL), 1);
	qrtx_program_free(p);
	qrtx_circuit_free(c);

	/* diagonal gates pass each other... */
	c = new_circuit(3);
	add_g1(c, QRTX_G_H, 2);
	add_g2(c, QRTX_G_CZ, 0, 1);	/* too wide for h's block: left out */
	add_g2(c, QRTX_G_CZ, 1, 2);	/* passes the cz above into h's block */
	add_g1(c, QRTX_G_T, 0);
	p = lower_ok(c, NULL, 2);
	assert_int_equal(p->nops, 2);
	assert_int_equal(p->ops[0].kind, QRTX_K_DENSE);
	assert_int_equal(p->ops[0].ngates, 2);
	assert_int_equal(p->ops[0].qubits[0], 1);
	assert_int_equal(p->ops[0].qubits[1], 2);
	assert_int_equal(p->ops[1].kind, QRTX_K_DIAG);
	assert_int_equal(p->ops[1].ngates, 2);
	qrtx_program_free(p);
	qrtx_circuit_free(c);

	/* ...but not a non-diagonal gate they share a qubit with */
	c = new_circuit(3);
	add_g1(c, QRTX_G_H, 2);
	add_g2(c, QRTX_G_CZ, 0, 1);
	add_g1(c, QRTX_G_X, 1);
	add_g2(c, QRTX_G_CZ, 1, 2);
	p = lower_ok(c, NULL, 2);
	assert_int_equal(p->nops, 3);
	assert_int_equal(p->ops[0].ngates, 1);
	assert_int_equal(p->ops[1].ngates, 2);
	assert_int_equal(p->ops[2].ngates, 1);
	assert_int_equal(p->ops[2].kind, QRTX_K_DIAG);
	qrtx_program_free(p);
	qrtx_circuit_free(c);
}

static void test_symbols_and_errors(void **state)
{
	struct qrtx_circuit *c = new_circuit(2);
	struct qrtx_expr e = { .kind = QRTX_E_SYM, .a = -1, .b = -1 };
	struct qrtx_program *p = NULL;
	struct qrtx_error err = { 0 };
	double v[1] = { 0.25 };
	uint32_t sym;
	cplx want[2];
	int32_t root;

	(void)state;
	assert_int_equal(qrtx_circuit_symbol(c, "theta", &sym), 0);
	e.sym = sym;
	root = qrtx_circuit_add_expr(c, &e);
	assert_true(root >= 0);
	add_g1(c, QRTX_G_RZ, 1);
	c->ops[0].params[0].expr = root;
	p = lower_ok(c, v, 1);
	assert_int_equal(p->ops[0].kind, QRTX_K_DIAG);
	want[0] = cexp(-I * 0.125);
	want[1] = cexp(I * 0.125);
	assert_true(cabs(p->ops[0].m[0] - want[0]) < 1e-15);
	assert_true(cabs(p->ops[0].m[1] - want[1]) < 1e-15);
	qrtx_program_free(p);

	/* free parameters and no values: an error, not a crash */
	p = (struct qrtx_program *)1;
	assert_int_not_equal(qrtx_lower(c, NULL, NULL, &p, &err), 0);
	assert_null(p);
	assert_int_equal(err.category, QRTX_ERR_COMPILE);
	assert_true(err.msg[0] != 0);
	qrtx_circuit_free(c);

	/* qubit out of range, duplicated operands, wrong arity */
	c = new_circuit(2);
	add_g2(c, QRTX_G_CX, 0, 1);
	c->ops[0].qubits[1] = 2;
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_lower(c, NULL, NULL, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "range"));
	c->ops[0].qubits[1] = 0;
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_lower(c, NULL, NULL, &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "duplicate"));
	c->ops[0].qubits[1] = 1;
	c->ops[0].nqubits = 1;
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_lower(c, NULL, NULL, &p, &err), -EINVAL);
	c->ops[0].nqubits = 2;
	c->ops[0].gate = QRTX_G_COUNT;
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_lower(c, NULL, NULL, &p, &err), -EINVAL);
	qrtx_circuit_free(c);

	/* an empty circuit lowers to an empty program */
	c = new_circuit(1);
	p = lower_ok(c, NULL, 0);
	assert_int_equal(p->nops, 0);
	assert_int_equal(qrtx_program_apply(p, 0, 0, NULL), 0);
	qrtx_program_free(p);
	qrtx_circuit_free(c);
}

/* Through the real engine: qrtx_program_apply of a fused program gives the
 * reference state, in double and single precision, on 1 and 2 threads,
 * with the engine's cache-blocked runs. */
static void test_engine(void **state)
{
	struct rng r = { 99 };

	(void)state;
	for (int trial = 0; trial < 14; trial++) {
		/* the last two are larger than the engine's cache blocks, so
		 * that its runs gather blocks through buffers */
		unsigned int n = trial < 12 ? 3 + trial % 8 : 17;
		size_t ndraws;
		struct qrtx_circuit *c = random_circuit(&r, n, trial < 12 ? 30 + 10 * n : 60,
							false, &ndraws);
		struct ref want;

		ref_init(&want, n, NULL, 0);
		ref_run_circuit(&want, c, NULL);
		for (unsigned int fuse = 1; fuse <= 5; fuse += 2) {
			struct qrtx_program *p = lower_ok(c, NULL, fuse);

			for (int prec = 0; prec < 2; prec++) {
				struct qrtx_sv_config cfg = {
					.precision = prec ? QRTX_PREC_SINGLE : QRTX_PREC_DOUBLE,
					.threads = 1 + trial % 2,
					.no_numa = true,
				};
				struct qrtx_error err = { 0 };
				struct qrtx_sv *sv = NULL;
				double d = 0;

				assert_int_equal(qrtx_sv_new(n, &cfg, &sv, &err), 0);
				assert_int_equal(qrtx_program_apply(p, 0, p->nops, sv), p->nops);
				for (uint64_t i = 0; i < (1ull << n); i++)
					if (cabs(qrtx_sv_amp(sv, i) - want.amp[i]) > d)
						d = cabs(qrtx_sv_amp(sv, i) - want.amp[i]);
				if (d > (prec ? 1e-4 : 1e-10))
					fail_msg("trial %d n=%u fuse=%u prec=%d: off by %g", trial,
						 n, fuse, prec, d);
				qrtx_sv_free(sv);
			}
			qrtx_program_free(p);
		}
		free(want.amp);
		qrtx_circuit_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_fences),
		cmocka_unit_test(test_symbols_and_errors),
		cmocka_unit_test(test_fusion_equivalence),
		cmocka_unit_test(test_fusion_shrinks),
		cmocka_unit_test(test_engine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
