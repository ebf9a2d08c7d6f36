// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the OpenQASM 2.0 front end, the QASM writer and
 * the expression parser. Besides "no crash, no leak, no hang" it checks
 * two properties on every input:
 *  - a circuit that parses is written, and the text parses back to the
 *    same operations (bit-identical parameters);
 *  - an expression that parses prints to text that parses back to an
 *    expression with the bit-identical value.
 * The input has no file name, so it can include only "qelib1.inc": the
 * fuzzer never reads files.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuapi -Iruntime/include \
 *           -D_GNU_SOURCE tests/fuzz/fuzz_qasm.c runtime/expr.c runtime/qasm.c \
 *           runtime/qasm_lex.c runtime/qasm_write.c runtime/circuit.c runtime/error.c \
 *           runtime/gates.c -lm -o fuzz_qasm
 * Run:    ./fuzz_qasm -max_total_time=60 -dict=tests/fuzz/qasm.dict tests/fuzz/corpus/qasm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/circuit.h"
#include "qrtx/error.h"
#include "qrtx/expr.h"
#include "qrtx/qasm.h"

/* Writing and re-reading millions of operations adds nothing but time. */
#define ROUND_TRIP_MAX_OPS 20000

static void die(const char *what)
{
	fprintf(stderr, "fuzz_qasm: %s\n", what);
	abort();
}

static void same_ops(const struct qrtx_circuit *a, const struct qrtx_circuit *b)
{
	if (a->nqubits != b->nqubits || a->nclbits != b->nclbits || a->nops != b->nops)
		die("round trip changed the circuit's shape");
	for (size_t i = 0; i < a->nops; i++) {
		const struct qrtx_op *x = &a->ops[i], *y = &b->ops[i];

		if (x->kind != y->kind || x->nqubits != y->nqubits ||
		    x->cond.creg != y->cond.creg || x->cond.value != y->cond.value ||
		    memcmp(x->qubits, y->qubits, x->nqubits * sizeof(x->qubits[0])))
			die("round trip changed an operation");
		if (x->kind == QRTX_OP_MEASURE && x->clbit != y->clbit)
			die("round trip changed a measurement");
		if (x->kind != QRTX_OP_GATE)
			continue;
		if (x->gate != y->gate || x->nparams != y->nparams)
			die("round trip changed a gate");
		for (uint32_t k = 0; k < x->nparams; k++)
			if (memcmp(&x->params[k].value, &y->params[k].value, sizeof(double)))
				die("round trip changed a parameter");
	}
}

static void check_qasm(const uint8_t *data, size_t size)
{
	struct qrtx_circuit *c = NULL, *d = NULL;
	struct qrtx_error err = { 0 };
	char *text = NULL;

	if (qrtx_qasm_parse((const char *)data, size, NULL, &c, &err)) {
		if (c || err.category != QRTX_ERR_VALIDATION || !err.msg[0])
			die("a rejected input has no clear error");
		return;
	}
	if (c->nops <= ROUND_TRIP_MAX_OPS) {
		if (qrtx_qasm_write(c, NULL, &text))
			die("a parsed circuit cannot be written");
		qrtx_error_clear(&err);
		if (qrtx_qasm_parse(text, strlen(text), NULL, &d, &err)) {
			fprintf(stderr, "%s\n--- written:\n%s\n", err.msg, text);
			die("written text does not parse");
		}
		same_ops(c, d);
		qrtx_circuit_free(d);
		free(text);
	}
	qrtx_circuit_free(c);
}

static void check_expr(const uint8_t *data, size_t size)
{
	struct qrtx_circuit *c = qrtx_circuit_new();
	struct qrtx_error err = { 0 };
	double vals[64], v1 = 0, v2 = 0;
	int32_t r1, r2;
	int e1, e2, n;
	char *s, *printed;

	if (!c)
		return;
	s = malloc(size + 1);
	if (!s)
		goto out;
	memcpy(s, data, size);
	s[size] = '\0';
	if (qrtx_expr_parse(c, s, &r1, &err))
		goto out;
	if (c->nsymbols > 64)
		goto out;
	for (uint32_t i = 0; i < c->nsymbols; i++)
		vals[i] = 0.5 + 0.25 * i;
	n = qrtx_expr_print(c, r1, NULL, 0);
	if (n < 0)
		die("a parsed expression cannot be printed");
	printed = malloc((size_t)n + 1);
	if (!printed)
		goto out;
	if (qrtx_expr_print(c, r1, printed, (size_t)n + 1) != n)
		die("printing is not repeatable");
	if (qrtx_expr_parse(c, printed, &r2, &err)) {
		fprintf(stderr, "%s\n--- printed: %s\n", err.msg, printed);
		die("a printed expression does not parse");
	}
	e1 = qrtx_expr_eval(c, r1, vals, &v1);
	e2 = qrtx_expr_eval(c, r2, vals, &v2);
	if (e1 != e2 || (!e1 && memcmp(&v1, &v2, sizeof(v1)))) {
		fprintf(stderr, "--- printed: %s (%.17g vs %.17g)\n", printed, v1, v2);
		die("a printed expression has another value");
	}
	free(printed);
out:
	free(s);
	qrtx_circuit_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_qasm(data, size);
	check_expr(data, size);
	return 0;
}
