/* SPDX-License-Identifier: MIT */
/*
 * What the engine benchmarks share: the two circuit families of the
 * issues' targets, built as IR, timing helpers and option lists.
 *
 *   layered  depth 20: a u3 with random angles (fixed seed) on every qubit,
 *            then cx on brickwork pairs (0,1),(2,3).. on even layers,
 *            (1,2),(3,4).. on odd ones;
 *   qft      x on qubit 0, then h and the controlled-phase ladder on each
 *            qubit in turn, then the final swaps.
 */
#ifndef QRTX_BENCH_FAMILIES_H
#define QRTX_BENCH_FAMILIES_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "qrtx/circuit.h"
#include "qrtx/gates.h"
#include "qrtx/rng.h"

#define LAYERS		20
#define LAYERED_SEED	20240601

enum family { FAM_LAYERED, FAM_QFT, NFAM };
static const char *const family_name[NFAM] = { "layered", "qft" };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int add(struct qrtx_circuit *c, enum qrtx_gate_id g, uint32_t q0, uint32_t q1,
	       const double *p)
{
	const struct qrtx_gate_info *gi = qrtx_gate_info(g);
	struct qrtx_op op = { .kind = QRTX_OP_GATE, .gate = g, .cond = { .creg = -1 } };

	op.nqubits = gi->nqubits;
	op.qubits[0] = q0;
	op.qubits[1] = q1;
	op.nparams = gi->nparams;
	for (unsigned int i = 0; i < gi->nparams; i++) {
		op.params[i].value = p[i];
		op.params[i].expr = -1;
	}
	return qrtx_circuit_append(c, &op);
}

static struct qrtx_circuit *build(enum family f, unsigned int n)
{
	struct qrtx_circuit *c = qrtx_circuit_new();
	struct qrtx_rng rng;
	int ret = 0;

	if (!c || qrtx_circuit_add_qreg(c, "q", n)) {
		qrtx_circuit_free(c);
		return NULL;
	}
	if (f == FAM_LAYERED) {
		qrtx_rng_seed(&rng, LAYERED_SEED);
		for (unsigned int l = 0; l < LAYERS && !ret; l++) {
			for (uint32_t q = 0; q < n && !ret; q++) {
				double p[3];

				for (int i = 0; i < 3; i++)
					p[i] = qrtx_rng_uniform(&rng) * 2 * M_PI;
				ret = add(c, QRTX_G_U, q, 0, p);
			}
			for (uint32_t q = l % 2; q + 1 < n && !ret; q += 2)
				ret = add(c, QRTX_G_CX, q, q + 1, NULL);
		}
	} else {
		ret = add(c, QRTX_G_X, 0, 0, NULL);
		for (uint32_t i = 0; i < n && !ret; i++) {
			ret = add(c, QRTX_G_H, i, 0, NULL);
			for (uint32_t j = i + 1; j < n && !ret; j++) {
				double l = M_PI / ldexp(1.0, (int)(j - i));

				/* control j, phase on target i */
				ret = add(c, QRTX_G_CU1, j, i, &l);
			}
		}
		for (uint32_t i = 0; i < n / 2 && !ret; i++)
			ret = add(c, QRTX_G_SWAP, i, n - 1 - i, NULL);
	}
	if (ret) {
		qrtx_circuit_free(c);
		return NULL;
	}
	return c;
}

/* "N,N.." into v[0..*n), each in [lo, hi], at most max of them. */
static int parse_list(const char *s, unsigned int *v, unsigned int *n, unsigned int max,
		      unsigned int lo, unsigned int hi)
{
	char *end;

	*n = 0;
	while (*s) {
		unsigned long x = strtoul(s, &end, 10);

		if (end == s || x < lo || x > hi || *n == max)
			return -EINVAL;
		v[(*n)++] = (unsigned int)x;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

#endif
