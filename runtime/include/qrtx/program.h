/* SPDX-License-Identifier: MIT */
/*
 * A circuit lowered for the state-vector engines: parameters bound, every
 * gate a numeric matrix, neighbouring gates fused into dense blocks up to
 * a width. Measurements, resets, barriers and conditional ops are fences
 * that fusion does not cross (on their qubits; a barrier on all).
 */
#ifndef QRTX_PROGRAM_H
#define QRTX_PROGRAM_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#include "qrtx/circuit.h"
#include "qrtx/error.h"
#include "qrtx/statevec.h"

enum qrtx_kop_kind {
	QRTX_K_DENSE,		/* m: 2^nq x 2^nq on qubits */
	QRTX_K_DIAG,		/* m: 2^nq diagonal on qubits */
	QRTX_K_CONTROLLED,	/* m: 2^nq x 2^nq on qubits where controls are 1 */
	QRTX_K_MEASURE,		/* qubits[0] -> clbit */
	QRTX_K_RESET,		/* qubits[0] */
	QRTX_K_BARRIER,
};

struct qrtx_kop {
	enum qrtx_kop_kind kind;
	uint32_t nq;
	uint32_t qubits[QRTX_SV_MAX_DENSE];
	uint32_t nc;
	uint32_t controls[QRTX_GATE_MAX_QUBITS];
	double complex *m;	/* owned */
	uint32_t clbit;
	struct qrtx_cond cond;
	uint32_t ngates;	/* source gates folded into this op */
};

struct qrtx_program {
	uint32_t nqubits, nclbits;
	struct qrtx_kop *ops;
	size_t nops;
	size_t ngates;		/* gates before fusion */
};

struct qrtx_lower_opts {
	/* Widest fused block; 0: the tuned default; 1: no fusion. */
	unsigned int fuse_max;
};

int qrtx_lower(const struct qrtx_circuit *c, const double *symbol_values,
	       const struct qrtx_lower_opts *opts, struct qrtx_program **out,
	       struct qrtx_error *err);
void qrtx_program_free(struct qrtx_program *p);
/* Apply ops [from, to) that are gates (dense, diag, controlled) with no
 * condition; stops at, and returns the index of, the first op that is
 * not (to when all were applied). */
size_t qrtx_program_apply(const struct qrtx_program *p, size_t from, size_t to,
			  struct qrtx_sv *sv);

#endif
