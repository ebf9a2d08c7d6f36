/* SPDX-License-Identifier: MIT */
/*
 * The gate set every front end names and every engine executes: the
 * OpenQASM 2.0 qelib1.inc gates (original spec plus those real files use)
 * with their standard semantics, e.g. rz(t) = diag(e^{-it/2}, e^{it/2}),
 * u1 = p = diag(1, e^{il}), cu1/cp = controlled diag(1, e^{il}).
 *
 * Matrix convention: a gate on k qubits (q[0] .. q[k-1] as written, so
 * for controlled gates the controls come first) has a 2^k x 2^k row-major
 * matrix over basis index i = sum_j b_j << j, where b_j is the state of
 * q[j]: the first operand is the least significant bit (Qiskit's order).
 */
#ifndef QRTX_GATES_H
#define QRTX_GATES_H

#include <complex.h>
#include <stdint.h>

enum qrtx_gate_id {
	QRTX_G_U,	/* U(theta, phi, lambda), also u3 and u */
	QRTX_G_U2,	/* u2(phi, lambda) */
	QRTX_G_U1,	/* u1(lambda), also p */
	QRTX_G_U0,	/* u0(gamma): identity */
	QRTX_G_ID,
	QRTX_G_X, QRTX_G_Y, QRTX_G_Z, QRTX_G_H,
	QRTX_G_S, QRTX_G_SDG, QRTX_G_T, QRTX_G_TDG,
	QRTX_G_SX, QRTX_G_SXDG,
	QRTX_G_RX, QRTX_G_RY, QRTX_G_RZ,
	QRTX_G_CX,	/* CX and cx */
	QRTX_G_CY, QRTX_G_CZ, QRTX_G_CH,
	QRTX_G_SWAP,
	QRTX_G_CRX, QRTX_G_CRY, QRTX_G_CRZ,
	QRTX_G_CU1,	/* cu1(lambda), also cp */
	QRTX_G_CU3,	/* cu3(theta, phi, lambda) */
	QRTX_G_CU,	/* cu(theta, phi, lambda, gamma) */
	QRTX_G_CSX,
	QRTX_G_RXX, QRTX_G_RZZ,
	QRTX_G_CCX, QRTX_G_CSWAP,
	QRTX_G_RCCX, QRTX_G_RC3X,
	QRTX_G_C3X, QRTX_G_C3SQRTX, QRTX_G_C4X,
	QRTX_G_COUNT
};

#define QRTX_GATE_MAX_QUBITS 5
#define QRTX_GATE_MAX_PARAMS 4

struct qrtx_gate_info {
	const char *name;	/* canonical QASM name */
	uint8_t nqubits;
	uint8_t nparams;
	uint8_t ncontrols;	/* leading operands that only control */
	uint8_t diagonal;	/* matrix is diagonal for every parameter */
};

const struct qrtx_gate_info *qrtx_gate_info(enum qrtx_gate_id g);
/* Name as written in QASM, aliases included (u3, u, p, cp, CX, ...);
 * returns the id or -1. */
int qrtx_gate_lookup(const char *name);
/* Fill m (2^k x 2^k, row-major, convention above). */
void qrtx_gate_matrix(enum qrtx_gate_id g, const double *params, double complex *m);

#endif
