/* SPDX-License-Identifier: MIT */
/*
 * Circuit IR: what every front end (OpenQASM 2.0, JSON graph) produces and
 * the compiler consumes. Qubits and classical bits are global indices;
 * registers map names onto contiguous ranges in declaration order (the
 * first declared register holds the lowest indices).
 *
 * Gate parameters are numbers or expressions over the circuit's free
 * symbols (JSON graphs only; QASM 2.0 has none), bound per PUB.
 */
#ifndef QRTX_CIRCUIT_H
#define QRTX_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include "qrtx/gates.h"

#define QRTX_NAME_MAX 64

enum qrtx_op_kind {
	QRTX_OP_GATE,
	QRTX_OP_MEASURE,	/* qubits[0] -> clbit */
	QRTX_OP_RESET,		/* qubits[0] -> |0> */
	QRTX_OP_BARRIER,	/* a fence for passes over every qubit; nqubits 0 */
};

enum qrtx_expr_kind {
	QRTX_E_NUM, QRTX_E_SYM, QRTX_E_NEG,
	QRTX_E_ADD, QRTX_E_SUB, QRTX_E_MUL, QRTX_E_DIV, QRTX_E_POW,
	QRTX_E_SIN, QRTX_E_COS, QRTX_E_TAN, QRTX_E_EXP, QRTX_E_LN, QRTX_E_SQRT,
};

/* One node of an expression tree; children are indices into c->exprs. */
struct qrtx_expr {
	enum qrtx_expr_kind kind;
	int32_t a, b;		/* operands (-1 when unused) */
	double num;		/* QRTX_E_NUM */
	uint32_t sym;		/* QRTX_E_SYM: index into c->symbols */
};

struct qrtx_param {
	double value;		/* used when expr < 0 */
	int32_t expr;		/* root in c->exprs, or -1 */
};

/* Apply the op only when creg's value equals value (QASM if). */
struct qrtx_cond {
	int32_t creg;		/* index into c->cregs, -1: unconditional */
	uint64_t value;
};

struct qrtx_op {
	enum qrtx_op_kind kind;
	enum qrtx_gate_id gate;			/* QRTX_OP_GATE */
	uint32_t nqubits;
	uint32_t qubits[QRTX_GATE_MAX_QUBITS];
	uint32_t nparams;
	struct qrtx_param params[QRTX_GATE_MAX_PARAMS];
	uint32_t clbit;		/* QRTX_OP_MEASURE */
	struct qrtx_cond cond;
	uint32_t line, col;	/* where the source wrote it (0 unknown) */
};

struct qrtx_reg {
	char name[QRTX_NAME_MAX];
	uint32_t offset;	/* first global index */
	uint32_t size;
};

struct qrtx_circuit {
	char name[QRTX_NAME_MAX];
	uint32_t nqubits, nclbits;
	struct qrtx_reg *qregs;
	uint32_t nqregs;
	struct qrtx_reg *cregs;
	uint32_t ncregs;
	struct qrtx_op *ops;
	size_t nops, ops_cap;
	struct qrtx_expr *exprs;
	size_t nexprs, exprs_cap;
	char (*symbols)[QRTX_NAME_MAX];	/* free parameters, in first-use order */
	uint32_t nsymbols;
	/* private to circuit.c: registers (both kinds) and symbols by name */
	struct qrtx_name_index {
		uint32_t *slot;
		size_t cap, used;
	} reg_index, sym_index;
};

/* All return 0 or -errno (-ENOMEM, -EINVAL). */
struct qrtx_circuit *qrtx_circuit_new(void);
void qrtx_circuit_free(struct qrtx_circuit *c);
int qrtx_circuit_add_qreg(struct qrtx_circuit *c, const char *name, uint32_t size);
int qrtx_circuit_add_creg(struct qrtx_circuit *c, const char *name, uint32_t size);
const struct qrtx_reg *qrtx_circuit_find_qreg(const struct qrtx_circuit *c, const char *name);
const struct qrtx_reg *qrtx_circuit_find_creg(const struct qrtx_circuit *c, const char *name);
/* Appends a copy of *op. */
int qrtx_circuit_append(struct qrtx_circuit *c, const struct qrtx_op *op);
/* Index of a symbol, added when new. */
int qrtx_circuit_symbol(struct qrtx_circuit *c, const char *name, uint32_t *index);
/* Index of a symbol, or -1 when the circuit has none of that name. */
int qrtx_circuit_find_symbol(const struct qrtx_circuit *c, const char *name);
/* Appends an expression node; returns its index or -ENOMEM. */
int32_t qrtx_circuit_add_expr(struct qrtx_circuit *c, const struct qrtx_expr *e);
/* Value of a parameter with the given symbol values (NULL when none). */
int qrtx_param_eval(const struct qrtx_circuit *c, const struct qrtx_param *p,
		    const double *symbol_values, double *out);
/* Whether every measurement is terminal: no gate, reset or conditional
 * op touches a qubit after it was measured, and no reset or if exists. */
int qrtx_circuit_measurements_terminal(const struct qrtx_circuit *c);

#endif
