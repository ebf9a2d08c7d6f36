// SPDX-License-Identifier: MIT
/*
 * OpenQASM 2.0 front end and writer: statements, broadcast, gate
 * definitions and inlining, includes, every class of malformed input
 * (one clear error each, at the right place), the QASMBench corpus
 * (parses, register sizes, exact write/read round trip, speed).
 */
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "qrtx/circuit.h"
#include "qrtx/error.h"
#include "qrtx/expr.h"
#include "qrtx/gates.h"
#include "qrtx/qasm.h"

#define HDR "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n"
#define CORPUS_DEFAULT "../shared/corpus/qasmbench"

static struct qrtx_circuit *parse_named(const char *text, const char *file)
{
	struct qrtx_circuit *c = NULL;
	struct qrtx_error err = { 0 };
	char msg[1024];

	if (qrtx_qasm_parse(text, strlen(text), file, &c, &err)) {
		qrtx_error_format(&err, msg, sizeof(msg));
		fail_msg("unexpected error: %s\n--- input:\n%s", msg, text);
	}
	assert_non_null(c);
	return c;
}

static struct qrtx_circuit *parse_ok(const char *text)
{
	return parse_named(text, "t.qasm");
}

/* The input must fail with one error at line:col whose text has needle. */
static void parse_err(const char *text, unsigned int line, unsigned int col, const char *needle)
{
	struct qrtx_circuit *c = (struct qrtx_circuit *)1;
	struct qrtx_error err = { 0 };
	char msg[1024];
	int rc;

	rc = qrtx_qasm_parse(text, strlen(text), "t.qasm", &c, &err);
	if (!rc)
		fail_msg("accepted invalid input:\n%s", text);
	assert_int_equal(rc, -EINVAL);
	assert_null(c);
	assert_int_equal(err.category, QRTX_ERR_VALIDATION);
	qrtx_error_format(&err, msg, sizeof(msg));
	if (err.line != line || err.col != col || !strstr(err.msg, needle))
		fail_msg("got \"%s\"; expected t.qasm:%u:%u and \"%s\"\n--- input:\n%s", msg,
			 line, col, needle, text);
	assert_string_equal(err.file, "t.qasm");
}

static void assert_same(double a, double b)
{
	if (memcmp(&a, &b, sizeof(a)))
		fail_msg("%.17g != %.17g", a, b);
}

static void assert_gate(const struct qrtx_op *op, enum qrtx_gate_id g, uint32_t nq,
			const uint32_t *q)
{
	assert_int_equal(op->kind, QRTX_OP_GATE);
	assert_int_equal(op->gate, g);
	assert_int_equal(op->nqubits, nq);
	for (uint32_t i = 0; i < nq; i++)
		assert_int_equal(op->qubits[i], q[i]);
	assert_int_equal(op->cond.creg, -1);
}

#define Q(...) ((const uint32_t[]){ __VA_ARGS__ })

static void test_basic(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	c = parse_ok(HDR "qreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\n"
		     "measure q[0] -> c[0];\nmeasure q[1] -> c[1];\n");
	assert_int_equal(c->nqubits, 2);
	assert_int_equal(c->nclbits, 2);
	assert_int_equal(c->nops, 4);
	assert_gate(&c->ops[0], QRTX_G_H, 1, Q(0));
	assert_int_equal(c->ops[0].line, 5);
	assert_int_equal(c->ops[0].col, 1);
	assert_gate(&c->ops[1], QRTX_G_CX, 2, Q(0, 1));
	assert_int_equal(c->ops[2].kind, QRTX_OP_MEASURE);
	assert_int_equal(c->ops[3].qubits[0], 1);
	assert_int_equal(c->ops[3].clbit, 1);
	assert_string_equal(c->name, "t");
	qrtx_circuit_free(c);
}

static void test_registers_in_order(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	c = parse_ok(HDR "creg m[3];\nqreg a[2];\nqreg b[3];\ncreg n[1];\nx b[1];\n"
		     "measure b[2] -> n[0];\n");
	assert_int_equal(c->nqregs, 2);
	assert_string_equal(c->qregs[0].name, "a");
	assert_int_equal(c->qregs[1].offset, 2);
	assert_int_equal(c->cregs[1].offset, 3);
	assert_gate(&c->ops[0], QRTX_G_X, 1, Q(3));
	assert_int_equal(c->ops[1].qubits[0], 4);
	assert_int_equal(c->ops[1].clbit, 3);
	qrtx_circuit_free(c);
}

static void test_language_gates_only(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	/* Without qelib1.inc only U and CX exist. */
	c = parse_ok("OPENQASM 2.0;\nqreg q[2];\nU(pi/2,0,pi) q[0];\nCX q[0],q[1];\n");
	assert_int_equal(c->nops, 2);
	assert_gate(&c->ops[0], QRTX_G_U, 1, Q(0));
	assert_same(c->ops[0].params[0].value, M_PI / 2);
	assert_same(c->ops[0].params[2].value, M_PI);
	assert_gate(&c->ops[1], QRTX_G_CX, 2, Q(0, 1));
	qrtx_circuit_free(c);
	parse_err("OPENQASM 2.0;\nqreg q[1];\nh q[0];\n", 3, 1, "include \"qelib1.inc\"");
}

static void test_all_library_gates(void **state)
{
	static const struct { const char *text; enum qrtx_gate_id g; } names[] = {
		{ "u3(1,2,3) a", QRTX_G_U }, { "U(1,2,3) a", QRTX_G_U }, { "u(1,2,3) a", QRTX_G_U },
		{ "u2(1,2) a", QRTX_G_U2 }, { "u1(1) a", QRTX_G_U1 }, { "p(1) a", QRTX_G_U1 },
		{ "u0(1) a", QRTX_G_U0 }, { "id a", QRTX_G_ID }, { "x a", QRTX_G_X },
		{ "y a", QRTX_G_Y }, { "z a", QRTX_G_Z }, { "h a", QRTX_G_H }, { "s a", QRTX_G_S },
		{ "sdg a", QRTX_G_SDG }, { "t a", QRTX_G_T }, { "tdg a", QRTX_G_TDG },
		{ "sx a", QRTX_G_SX }, { "sxdg a", QRTX_G_SXDG }, { "rx(1) a", QRTX_G_RX },
		{ "ry(1) a", QRTX_G_RY }, { "rz(1) a", QRTX_G_RZ }, { "cx a,b", QRTX_G_CX },
		{ "CX a,b", QRTX_G_CX }, { "cy a,b", QRTX_G_CY }, { "cz a,b", QRTX_G_CZ },
		{ "ch a,b", QRTX_G_CH }, { "swap a,b", QRTX_G_SWAP }, { "crx(1) a,b", QRTX_G_CRX },
		{ "cry(1) a,b", QRTX_G_CRY }, { "crz(1) a,b", QRTX_G_CRZ },
		{ "cu1(1) a,b", QRTX_G_CU1 }, { "cp(1) a,b", QRTX_G_CU1 },
		{ "cu3(1,2,3) a,b", QRTX_G_CU3 }, { "cu(1,2,3,4) a,b", QRTX_G_CU },
		{ "csx a,b", QRTX_G_CSX }, { "rxx(1) a,b", QRTX_G_RXX },
		{ "rzz(1) a,b", QRTX_G_RZZ },
		{ "ccx a,b,c", QRTX_G_CCX }, { "cswap a,b,c", QRTX_G_CSWAP },
		{ "rccx a,b,c", QRTX_G_RCCX }, { "rc3x a,b,c,d", QRTX_G_RC3X },
		{ "c3x a,b,c,d", QRTX_G_C3X }, { "c3sqrtx a,b,c,d", QRTX_G_C3SQRTX },
		{ "c4x a,b,c,d,e", QRTX_G_C4X },
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct qrtx_circuit *c;

		snprintf(text, sizeof(text), HDR "qreg a[1];qreg b[1];qreg c[1];qreg d[1];"
			 "qreg e[1];\n%s;\n", names[i].text);
		c = parse_ok(text);
		assert_int_equal(c->nops, 1);
		assert_int_equal(c->ops[0].gate, names[i].g);
		assert_int_equal(c->ops[0].nqubits, qrtx_gate_info(names[i].g)->nqubits);
		for (uint32_t k = 0; k < c->ops[0].nqubits; k++)
			assert_int_equal(c->ops[0].qubits[k], k);
		for (uint32_t k = 0; k < c->ops[0].nparams; k++)
			assert_same(c->ops[0].params[k].value, k + 1.0);
		qrtx_circuit_free(c);
	}
}

static void test_header(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	/* Lenient: a missing header is accepted (QASMBench's sat_n11 has none). */
	c = parse_ok("// no header\ninclude \"qelib1.inc\";\nqreg q[1];\nx q[0];\n");
	assert_int_equal(c->nops, 1);
	qrtx_circuit_free(c);
	c = parse_ok("OPENQASM 2;\nqreg q[1];\n");
	qrtx_circuit_free(c);
	parse_err("OPENQASM 3.0;\nqreg q[1];\n", 1, 10, "unsupported OpenQASM version 3.0");
	parse_err("OPENQASM 3;\n", 1, 10, "only 2.0");
	parse_err("qreg q[1];\nOPENQASM 2.0;\n", 2, 1, "must be the first statement");
	parse_err("", 1, 1, "empty program");
	parse_err("  // only a comment\n", 2, 1, "empty program");
	parse_err("OPENQASM 2.0\nqreg q[1];", 2, 1, "expected ';'");
}

static void test_broadcast(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	c = parse_ok(HDR "qreg q[3];\nqreg r[3];\ncreg c[3];\nh q;\ncx q, r;\ncx q[0], r;\n"
		     "measure q -> c;\nreset r;\nrz(0.5) r;\n");
	assert_int_equal(c->nops, 3 + 3 + 3 + 3 + 3 + 3);
	for (uint32_t i = 0; i < 3; i++) {
		assert_gate(&c->ops[i], QRTX_G_H, 1, Q(i));
		assert_gate(&c->ops[3 + i], QRTX_G_CX, 2, Q(i, 3 + i));
		assert_gate(&c->ops[6 + i], QRTX_G_CX, 2, Q(0, 3 + i));
		assert_int_equal(c->ops[9 + i].kind, QRTX_OP_MEASURE);
		assert_int_equal(c->ops[9 + i].qubits[0], i);
		assert_int_equal(c->ops[9 + i].clbit, i);
		assert_int_equal(c->ops[12 + i].kind, QRTX_OP_RESET);
		assert_int_equal(c->ops[12 + i].qubits[0], 3 + i);
		assert_gate(&c->ops[15 + i], QRTX_G_RZ, 1, Q(3 + i));
		assert_same(c->ops[15 + i].params[0].value, 0.5);
	}
	qrtx_circuit_free(c);
	parse_err(HDR "qreg q[3];\nqreg r[2];\ncx q, r;\n", 5, 7, "register sizes differ");
	parse_err(HDR "qreg q[3];\ncreg c[2];\nmeasure q -> c;\n", 5, 14, "register sizes differ");
	parse_err(HDR "qreg q[3];\ncreg c[3];\nmeasure q -> c[0];\n", 5, 9,
		  "two whole registers");
	parse_err(HDR "qreg q[3];\ncreg c[3];\nmeasure q[0] -> c;\n", 5, 17,
		  "two whole registers");
}

static void test_duplicates(void **state)
{
	(void)state;
	parse_err(HDR "qreg q[2];\ncx q[0], q[0];\n", 4, 10, "qubit q[0] is used more than once");
	parse_err(HDR "qreg q[2];\ncx q, q;\n", 4, 7, "qubit q[0] is used more than once");
	parse_err(HDR "qreg q[2];\ncx q[1], q;\n", 4, 10, "qubit q[1] is used more than once");
	parse_err(HDR "qreg q[3];\nccx q[0],q[1],q[0];\n", 4, 15, "more than once");
	parse_err(HDR "gate g a,b { cx a,a; }\n", 3, 19, "'a' is used more than once");
}

static void test_bad_operands(void **state)
{
	(void)state;
	parse_err(HDR "qreg q[2];\nx q[2];\n", 4, 3,
		  "index 2 is out of range for register 'q' of size 2");
	parse_err(HDR "qreg q[2];\nx q[99999999999999999999];\n", 4, 5, "out of range");
	parse_err(HDR "qreg q[2];\nx r[0];\n", 4, 3, "undeclared quantum register 'r'");
	parse_err(HDR "qreg q[2];\ncreg c[2];\nx c[0];\n", 5, 3, "'c' is a classical register");
	parse_err(HDR "qreg q[2];\ncreg c[2];\nmeasure q[0] -> q[1];\n", 5, 17, "'q' is a quantum");
	parse_err(HDR "qreg q[2];\nx q[-1];\n", 4, 5, "expected a non-negative integer index");
	parse_err(HDR "qreg q[2];\nx q[1.0];\n", 4, 5, "expected a non-negative integer index");
	parse_err(HDR "qreg q[2];\nx q[0]\n", 5, 1, "expected ',' or ';'");
	parse_err(HDR "qreg q[2];\nx;\n", 4, 2, "expected a quantum register");
}

static void test_arity(void **state)
{
	(void)state;
	parse_err(HDR "qreg q[2];\nrx(1,2) q[0];\n", 4, 1, "gate 'rx' takes 1 parameter, 2 given");
	parse_err(HDR "qreg q[2];\nrx q[0];\n", 4, 1, "takes 1 parameter, 0 given");
	parse_err(HDR "qreg q[2];\nh() q[0], q[1];\n", 4, 1, "acts on 1 qubit, 2 given");
	parse_err(HDR "qreg q[2];\ncx q[0];\n", 4, 1, "acts on 2 qubits, 1 given");
	parse_err(HDR "qreg q[2];\nfoo q[0];\n", 4, 1, "unknown gate 'foo'");
	parse_err(HDR "qreg q[1];\ngate g(a) x { rz(a) x; }\ng q[0];\n", 5, 1,
		  "gate 'g' takes 1 parameter, 0 given");
}

/* Thousands of registers (the table that finds them grows as they come):
 * each found by name at its offset, a name taken twice refused. */
static void test_many_registers(void **state)
{
	const unsigned int n = 20000;
	char *text = malloc(32 * (size_t)n + 256), *p, name[32];
	struct qrtx_circuit *c = NULL;
	struct qrtx_error err = { 0 };

	(void)state;
	assert_non_null(text);
	p = text + sprintf(text, HDR);
	for (unsigned int i = 0; i < n; i++)
		p += sprintf(p, "%s r%u[%u];\n", i % 2 ? "creg" : "qreg", i, 1 + i % 3);
	sprintf(p, "x r%u[0];\nmeasure r%u[1] -> r%u[2];\n", n - 2, n - 4, n - 3);
	assert_int_equal(qrtx_qasm_parse(text, strlen(text), NULL, &c, &err), 0);
	assert_int_equal(c->nqregs, n / 2);
	assert_int_equal(c->ncregs, n / 2);
	for (unsigned int i = 0; i < n; i++) {
		const struct qrtx_reg *r, *other;

		sprintf(name, "r%u", i);
		r = i % 2 ? qrtx_circuit_find_creg(c, name) : qrtx_circuit_find_qreg(c, name);
		other = i % 2 ? qrtx_circuit_find_qreg(c, name) : qrtx_circuit_find_creg(c, name);
		assert_non_null(r);
		assert_null(other);
		assert_string_equal(r->name, name);
		assert_int_equal(r->size, 1 + i % 3);
		assert_ptr_equal(r, i % 2 ? &c->cregs[i / 2] : &c->qregs[i / 2]);
	}
	assert_null(qrtx_circuit_find_qreg(c, "r20000"));
	assert_int_equal(qrtx_circuit_add_qreg(c, "r0", 1), -EEXIST);
	assert_int_equal(qrtx_circuit_add_creg(c, "r1", 1), -EEXIST);
	assert_int_equal(qrtx_circuit_add_creg(c, "r0", 1), 0);	/* the other kind */
	assert_int_equal(c->nops, 2);
	assert_int_equal(c->ops[0].qubits[0], qrtx_circuit_find_qreg(c, "r19998")->offset);
	qrtx_circuit_free(c);
	c = NULL;
	sprintf(p, "qreg r%u[1];\n", n / 2 + 1);
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_qasm_parse(text, strlen(text), NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is already declared"));
	free(text);
}

static void test_register_declarations(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	parse_err(HDR "qreg q[2];\nqreg q[3];\n", 4, 6, "register 'q' is already declared");
	parse_err(HDR "qreg q[2];\ncreg q[3];\n", 4, 6, "register 'q' is already declared");
	parse_err(HDR "qreg q[0];\n", 3, 8, "at least one");
	parse_err(HDR "qreg q[1048577];\n", 3, 8, "too large");
	parse_err(HDR "qreg q[1048576];\nqreg r[1];\n", 4, 8, "too large");
	parse_err(HDR "creg c[99999999999999999999999];\n", 3, 8, "too large");
	parse_err(HDR "qreg pi[2];\n", 3, 6, "reserved word");
	parse_err(HDR "qreg q[2.5];\n", 3, 8, "expected the register size");
	parse_err(HDR "qreg q;\n", 3, 7, "expected '['");
	/* The largest register allowed works (and stays cheap). */
	c = parse_ok(HDR "qreg q[1048576];\ncreg c[1048576];\nh q[1048575];\n");
	assert_int_equal(c->nqubits, 1048576);
	assert_int_equal(c->ops[0].qubits[0], 1048575);
	qrtx_circuit_free(c);
}

static void test_gate_definitions(void **state)
{
	struct qrtx_circuit *c;
	double a = 0.3, b = -1.25;

	(void)state;
	c = parse_ok(HDR "gate g(a,b) x,y {\n  rz(a*2+b) x;\n  cx x,y;\n  U(a,0,pi) y;\n"
		     "  barrier x,y;\n}\n"
		     "gate outer(t) p,q,r { g(t, -t^2) r,p; h q; }\n"
		     "qreg q[3];\nouter(0.3) q[0],q[1],q[2];\ng(0.3, -1.25) q[1],q[0];\n");
	assert_int_equal(c->nops, 5 + 4);
	/* outer: g on (q2, q0) with (0.3, -(0.3^2)), then h q1. */
	assert_gate(&c->ops[0], QRTX_G_RZ, 1, Q(2));
	assert_same(c->ops[0].params[0].value, a * 2 + -pow(a, 2));
	assert_gate(&c->ops[1], QRTX_G_CX, 2, Q(2, 0));
	assert_gate(&c->ops[2], QRTX_G_U, 1, Q(0));
	assert_same(c->ops[2].params[0].value, a);
	assert_same(c->ops[2].params[2].value, M_PI);
	assert_int_equal(c->ops[3].kind, QRTX_OP_BARRIER);
	assert_int_equal(c->ops[3].nqubits, 0);
	assert_gate(&c->ops[4], QRTX_G_H, 1, Q(1));
	/* Inlined ops carry the position of the use. */
	assert_int_equal(c->ops[4].line, 11);
	assert_gate(&c->ops[5], QRTX_G_RZ, 1, Q(1));
	assert_same(c->ops[5].params[0].value, a * 2 + b);
	qrtx_circuit_free(c);

	/* Empty body, no parameters in parentheses, broadcast of a user gate. */
	c = parse_ok(HDR "gate nop() a { }\ngate two a, b { cx a, b; }\nqreg q[2];\nqreg r[2];\n"
		     "nop q;\ntwo q, r;\n");
	assert_int_equal(c->nops, 2);
	assert_gate(&c->ops[1], QRTX_G_CX, 2, Q(1, 3));
	qrtx_circuit_free(c);

	parse_err(HDR "gate g a { h a; }\ngate g a { x a; }\n", 4, 6,
		  "gate 'g' is already defined at t.qasm:3");
	parse_err(HDR "gate g a { foo a; }\n", 3, 12, "unknown gate 'foo'");
	parse_err(HDR "gate g a { g a; }\n", 3, 12, "unknown gate 'g'");
	parse_err(HDR "gate g a { h a[0]; }\n", 3, 15, "cannot be indexed");
	parse_err(HDR "gate g a { measure a -> c[0]; }\n", 3, 12, "not allowed inside a gate");
	parse_err(HDR "gate g a { reset a; }\n", 3, 12, "not allowed inside a gate");
	parse_err(HDR "gate g(t) a { rz(s) a; }\n", 3, 18, "unknown parameter 's' in gate 'g'");
	parse_err(HDR "gate g(t) a { rz(a) a; }\n", 3, 18, "is a qubit argument");
	parse_err(HDR "gate g(t) a { rz(t) t; }\n", 3, 21, "is a parameter of gate 'g'");
	parse_err(HDR "gate g(t) a { rz(t) b; }\n", 3, 21, "unknown qubit argument 'b'");
	parse_err(HDR "gate g(t,t) a { }\n", 3, 10, "declared twice");
	parse_err(HDR "gate g(t) t { }\n", 3, 11, "declared twice");
	parse_err(HDR "gate g a {\n h a;\n", 3, 6, "not closed");
	parse_err(HDR "gate U a { }\n", 3, 6, "cannot be redefined");
	parse_err(HDR "gate CX a,b { }\n", 3, 6, "cannot be redefined");
	parse_err(HDR "gate measure a { }\n", 3, 6, "reserved word");
	parse_err(HDR "gate g(pi) a { }\n", 3, 8, "reserved word");
	parse_err(HDR "gate g(a,) x { }\n", 3, 10, "expected a parameter name");
	parse_err(HDR "gate g(a) x { rz(a,) x; }\n", 3, 20, "expected an expression");
	parse_err(HDR "gate g { }\n", 3, 8, "expected a qubit argument name");
	parse_err(HDR "gate g a { h a }\n", 3, 16, "expected ',' or ';'");
	parse_err(HDR "gate g a { 1 a; }\n", 3, 12, "expected an operation or '}'");
}

static void test_gate_body_evaluation_errors(void **state)
{
	(void)state;
	/* Parameters are evaluated at each use; a bad value names the use. */
	parse_err(HDR "gate g(a) x {\n rz(ln(a)) x;\n}\nqreg q[1];\ng(1) q[0];\ng(-1) q[0];\n",
		  8, 1, "line 4 of its definition is not a finite number");
	parse_err(HDR "qreg q[1];\nrz(1/0) q[0];\n", 4, 4, "not a finite number");
	parse_err(HDR "qreg q[1];\nrz(theta) q[0];\n", 4, 4, "unknown name 'theta'");
}

static void test_shadowing_library(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	/* qelib1 included: a same-arity redefinition is checked, then ignored. */
	c = parse_ok(HDR "gate h a { U(pi/2,0,pi) a; }\ngate rz(t) a { U(0,0,t) a; }\n"
		     "qreg q[1];\nh q[0];\nrz(0.5) q[0];\n");
	assert_int_equal(c->nops, 2);
	assert_gate(&c->ops[0], QRTX_G_H, 1, Q(0));
	assert_gate(&c->ops[1], QRTX_G_RZ, 1, Q(0));
	qrtx_circuit_free(c);
	/* ... and a different arity is an error. */
	parse_err(HDR "gate rx(t,u) a { U(t,u,0) a; }\n", 3, 6,
		  "conflicts with qelib1.inc's 'rx' (1 parameter, 1 qubit)");
	parse_err(HDR "gate h a,b { }\n", 3, 6, "conflicts with qelib1.inc's 'h'");
	/* Without qelib1 the file's own definitions are used. */
	c = parse_ok("OPENQASM 2.0;\ngate h a { U(pi/2,0,pi) a; }\n"
		     "gate cx c,t { CX c,t; }\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n");
	assert_int_equal(c->nops, 2);
	assert_gate(&c->ops[0], QRTX_G_U, 1, Q(0));
	assert_gate(&c->ops[1], QRTX_G_CX, 2, Q(0, 1));
	qrtx_circuit_free(c);
	/* Defined first, then the library is included: checked at the include. */
	parse_err("OPENQASM 2.0;\ngate x a,b { }\ninclude \"qelib1.inc\";\n", 3, 9,
		  "conflicts with qelib1.inc's 'x'");
}

static void test_opaque_and_unsupported(void **state)
{
	struct qrtx_circuit *c = NULL;
	struct qrtx_error err = { 0 };
	const char *text = HDR "qreg q[1];\nopaque magic(a) q;\n";
	char msg[512];

	(void)state;
	assert_int_equal(qrtx_qasm_parse(text, strlen(text), "dir/f.qasm", &c, &err), -EINVAL);
	qrtx_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "dir/f.qasm:4:1: opaque gates are not supported");
	parse_err(HDR "qreg q[1];\nfor i in [0:1] { }\n", 4, 1, "unknown gate 'for'");
	parse_err(HDR "qreg q[1];\nqubit[2] r;\n", 4, 1, "unknown gate 'qubit'");
	parse_err(HDR "qreg q[1];\n@\n", 4, 1, "unexpected character '@'");
	parse_err(HDR "qreg q[1];\nx q[0]; /* never closed\n", 4, 9, "comment is not closed");
	parse_err(HDR "qreg q[1];\nx q[0] = 1;\n", 4, 8, "'=='");
	parse_err(HDR "qreg q[1];\n;\n", 4, 1, "expected a statement");
	parse_err(HDR "qreg q[1];\nif(c==1) x q[0];\n", 4, 4, "undeclared classical register 'c'");
	parse_err(HDR "qreg q[1];\npi q[0];\n", 4, 1, "cannot start a statement");
	parse_err("include \"qelib1.inc\"\n", 2, 1, "expected ';'");
	parse_err("OPENQASM 2.0;\ninclude qelib1.inc;\n", 2, 9, "file name in double quotes");
	parse_err("OPENQASM 2.0;\ninclude \"qelib1.inc;\n", 2, 9, "string is not closed");
	parse_err("OPENQASM 2.0;\ninclude \"\x1b[2J\";\n", 2, 9, "control character");
	/* Text with NUL bytes or high bytes is rejected, not misread. */
	assert_int_equal(qrtx_qasm_parse("OPENQASM 2.0;\0x", 15, NULL, &c, &err), -EINVAL);
	assert_int_equal(qrtx_qasm_parse("OPENQASM 2.0;\n\xc3\xa9", 16, NULL, &c, &err), -EINVAL);
}

static void test_if(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	c = parse_ok(HDR "qreg q[2];\ncreg a[1];\ncreg c[2];\nif(c==2) x q[0];\n"
		     "if (c == 1) measure q[1] -> c[0];\nif(a==1) reset q;\nif(c==3) U(1,2,3) q;\n"
		     "if(c==18446744073709551615) CX q[0],q[1];\n");
	assert_int_equal(c->nops, 1 + 1 + 2 + 2 + 1);
	assert_int_equal(c->ops[0].cond.creg, 1);
	assert_int_equal(c->ops[0].cond.value, 2);
	assert_int_equal(c->ops[1].kind, QRTX_OP_MEASURE);
	assert_int_equal(c->ops[1].cond.value, 1);
	assert_int_equal(c->ops[1].clbit, 1);
	assert_int_equal(c->ops[2].kind, QRTX_OP_RESET);
	assert_int_equal(c->ops[3].cond.creg, 0);
	assert_int_equal(c->ops[4].cond.value, 3);
	assert_int_equal(c->ops[6].cond.value, UINT64_MAX);
	qrtx_circuit_free(c);
	parse_err(HDR "qreg q[1];\ncreg c[1];\nif(c==1) barrier q;\n", 5, 10,
		  "'barrier' cannot be conditioned");
	parse_err(HDR "qreg q[1];\ncreg c[1];\nif(c[0]==1) x q[0];\n", 5, 4,
		  "whole classical register");
	parse_err(HDR "qreg q[1];\ncreg c[1];\nif(c==-1) x q[0];\n", 5, 7, "non-negative integer");
	parse_err(HDR "qreg q[1];\ncreg c[1];\nif(c==18446744073709551616) x q[0];\n", 5, 7,
		  "does not fit in 64 bits");
	parse_err(HDR "qreg q[1];\ncreg c[1];\nif(c=1) x q[0];\n", 5, 5, "'=='");
	parse_err(HDR "qreg q[1];\ncreg c[1];\nif(q==1) x q[0];\n", 5, 4,
		  "'q' is a quantum register");
}

static void test_barrier_reset_comments(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	c = parse_ok(HDR "// line comment\nqreg q[2]; /* block\ncomment */ qreg r[1];\n"
		     "barrier q, r[0];\nbarrier q[1];\nreset q[1];\n");
	assert_int_equal(c->nops, 3);
	assert_int_equal(c->ops[0].kind, QRTX_OP_BARRIER);
	assert_int_equal(c->ops[0].nqubits, 0);
	assert_int_equal(c->ops[1].kind, QRTX_OP_BARRIER);
	assert_int_equal(c->ops[2].kind, QRTX_OP_RESET);
	assert_int_equal(c->ops[2].qubits[0], 1);
	qrtx_circuit_free(c);
	parse_err(HDR "qreg q[1];\nbarrier;\n", 4, 8, "expected a quantum register");
	parse_err(HDR "qreg q[1];\nbarrier s;\n", 4, 9, "undeclared");
	parse_err(HDR "qreg q[1];\nreset q[3];\n", 4, 7, "out of range");
}

static void test_parameter_expressions(void **state)
{
	struct qrtx_circuit *c;

	(void)state;
	c = parse_ok(HDR "qreg q[1];\nrz(-pi^2) q[0];\nrz(2^3^2) q[0];\nrz(-2*3) q[0];\n"
		     "rz(.5) q[0];\nrz(1e-3) q[0];\nrz(2.E+3) q[0];\n"
		     "rz(sin(pi/6)+cos(0)*tan(1)-exp(2)/ln(3)+sqrt(5)) q[0];\n"
		     "u3(0.1 , -0.2,+0.3) q[0];\n");
	assert_same(c->ops[0].params[0].value, -(M_PI * M_PI));
	assert_same(c->ops[1].params[0].value, 512);
	assert_same(c->ops[2].params[0].value, -6);
	assert_same(c->ops[3].params[0].value, 0.5);
	assert_same(c->ops[4].params[0].value, 1e-3);
	assert_same(c->ops[5].params[0].value, 2000);
	assert_same(c->ops[6].params[0].value,
		    sin(M_PI / 6) + cos(0) * tan(1) - exp(2) / log(3) + sqrt(5));
	assert_same(c->ops[7].params[1].value, -0.2);
	for (size_t i = 0; i < c->nops; i++)
		assert_int_equal(c->ops[i].params[0].expr, -1);
	qrtx_circuit_free(c);
	parse_err(HDR "qreg q[1];\nrz(1,) q[0];\n", 4, 6, "expected an expression");
	parse_err(HDR "qreg q[1];\nrz(1 q[0];\n", 4, 6, "expected ',' or ')'");
}

/* QASMBench files that are not valid OpenQASM 2.0, in miniature. */
static void test_qasmbench_invalid(void **state)
{
	(void)state;
	/* hhl_n10, vqe_uccsd_n*: measure into registers never declared. */
	parse_err(HDR "qreg qubits[4];\nh qubits[0];\nmeasure q[0] -> c[0];\n", 5, 9,
		  "undeclared quantum register 'q'");
	parse_err(HDR "qreg q[4];\nh q[0];\nmeasure q[0] -> c[0];\n", 5, 17,
		  "undeclared classical register 'c'");
}

static void test_many_gates(void **state)
{
	size_t n = 3000;
	char *text = malloc(80 * n + 256), *p;
	struct qrtx_circuit *c;

	(void)state;
	assert_non_null(text);
	p = text + sprintf(text, HDR "qreg q[2];\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "gate g_%zu(t) a,b { rz(t+%zu) b; cx a,b; }\n", i, i);
	for (size_t i = n; i-- > 0;)
		p += sprintf(p, "g_%zu(0) q[%zu],q[%zu];\n", i, i % 2, 1 - i % 2);
	c = parse_ok(text);
	assert_int_equal(c->nops, 2 * n);
	for (size_t i = 0; i < n; i++) {
		size_t g = n - 1 - i;

		assert_gate(&c->ops[2 * i], QRTX_G_RZ, 1, Q(1 - g % 2));
		assert_same(c->ops[2 * i].params[0].value, (double)g);
	}
	qrtx_circuit_free(c);
	free(text);
}

static void test_deep_and_large(void **state)
{
	size_t n = 300, len;
	char *text = malloc(64 * n + 256), *p;
	struct qrtx_circuit *c = NULL;
	struct qrtx_error err = { 0 };

	(void)state;
	assert_non_null(text);
	/* Doubling through 40 levels: 2^40 expansion steps, refused quickly
	 * (the empty innermost body keeps this test light on memory). */
	p = text + sprintf(text, HDR "qreg q[1];\ngate g0 a { }\n");
	for (int i = 1; i <= 40; i++)
		p += sprintf(p, "gate g%d a { g%d a; g%d a; }\n", i, i - 1, i - 1);
	sprintf(p, "g40 q[0];\n");
	assert_int_equal(qrtx_qasm_parse(text, strlen(text), NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "circuit too large"));
	/* A chain of 300 gates each calling the previous: bounded depth. */
	p = text + sprintf(text, HDR "qreg q[1];\ngate g0 a { x a; }\n");
	for (size_t i = 1; i <= n; i++)
		p += sprintf(p, "gate g%zu a { g%zu a; }\n", i, i - 1);
	len = (size_t)(p - text);
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_qasm_parse(text, len, NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nest more than"));
	free(text);
	/* An empty gate called with eight 399-node parameters on each of
	 * 2^16 qubits: nothing is emitted, but 2^16 x 8 x 399 evaluations
	 * are work too (this took seconds before it was counted; larger
	 * registers and nested gates, hours). */
	text = malloc(8 * 201 * 2 + 256);
	assert_non_null(text);
	p = text + sprintf(text, HDR "gate k(a,b,c,d,e,f,g,h) x { }\ngate w(t) x { k(");
	for (int j = 0; j < 8; j++) {
		for (int i = 0; i < 200; i++)
			p += sprintf(p, i ? "*t" : "t");
		*p++ = j < 7 ? ',' : ')';
	}
	sprintf(p, " x; }\nqreg q[65536];\nw(1) q;\n");
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_qasm_parse(text, strlen(text), NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "circuit too large"));
	free(text);
}

/* ---- includes ------------------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_includes(void **state)
{
	struct qrtx_circuit *c = NULL;
	struct qrtx_error err = { 0 };
	char path[256];
	const char *text = HDR "include \"defs.inc\";\nqreg q[1];\n";

	(void)state;
	strcpy(tmpdir, "/tmp/qrtx-qasm-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/sub", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	/* A broken qelib1.inc next to the file: the built-in library is used. */
	write_file("qelib1.inc", "this is not QASM");
	write_file("defs.inc", "gate flip a { x a; }\ninclude \"sub/more.inc\";\n");
	write_file("sub/more.inc", "OPENQASM 2.0;\ngate flip2 a { flip a; flip a; }\n");
	write_file("main.qasm", HDR "include \"defs.inc\";\nqreg q[1];\nflip q[0];\nflip2 q[0];\n");
	write_file("self.inc", "include \"self.inc\";\n");
	write_file("selfmain.qasm", HDR "include \"self.inc\";\n");
	write_file("bad.inc", "gate ok a { x a; }\n\n  gate bad a { nope a; }\n");
	write_file("badmain.qasm", HDR "include \"bad.inc\";\n");
	write_file("missing.qasm", HDR "include \"nowhere.inc\";\n");

	snprintf(path, sizeof(path), "%s/main.qasm", tmpdir);
	assert_int_equal(qrtx_qasm_parse_file(path, &c, &err), 0);
	assert_int_equal(c->nops, 3);
	assert_string_equal(c->name, "main");
	qrtx_circuit_free(c);

	snprintf(path, sizeof(path), "%s/selfmain.qasm", tmpdir);
	assert_int_equal(qrtx_qasm_parse_file(path, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "includes nest more than"));

	/* An error inside an include names that file. */
	snprintf(path, sizeof(path), "%s/badmain.qasm", tmpdir);
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_qasm_parse_file(path, &c, &err), -EINVAL);
	snprintf(path, sizeof(path), "%s/bad.inc", tmpdir);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 16);

	snprintf(path, sizeof(path), "%s/missing.qasm", tmpdir);
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_qasm_parse_file(path, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cannot include"));
	assert_non_null(strstr(err.msg, "No such file"));
	assert_int_equal(err.line, 3);

	/* Text without a file name may include only the built-in library. */
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_qasm_parse(text, strlen(text), NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "only include \"qelib1.inc\""));
	assert_string_equal(err.file, "<input>");

	qrtx_error_clear(&err);
	snprintf(path, sizeof(path), "%s/nonexistent.qasm", tmpdir);
	assert_true(qrtx_qasm_parse_file(path, &c, &err) == -ENOENT);
	assert_null(c);

	const char *names[] = { "qelib1.inc", "defs.inc", "sub/more.inc", "main.qasm",
				"self.inc", "selfmain.qasm", "bad.inc", "badmain.qasm",
				"missing.qasm", "sub" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		remove(path);
	}
	rmdir(tmpdir);
}

/* ---- writer --------------------------------------------------------- */

static void assert_same_ops(const struct qrtx_circuit *a, const struct qrtx_circuit *b)
{
	assert_int_equal(a->nqubits, b->nqubits);
	assert_int_equal(a->nclbits, b->nclbits);
	assert_int_equal(a->nops, b->nops);
	for (size_t i = 0; i < a->nops; i++) {
		const struct qrtx_op *x = &a->ops[i], *y = &b->ops[i];
		double vx, vy;

		if (x->kind != y->kind || x->nqubits != y->nqubits ||
		    (x->kind == QRTX_OP_GATE && (x->gate != y->gate || x->nparams != y->nparams)) ||
		    (x->kind == QRTX_OP_MEASURE && x->clbit != y->clbit) ||
		    x->cond.creg != y->cond.creg || x->cond.value != y->cond.value ||
		    memcmp(x->qubits, y->qubits, x->nqubits * sizeof(x->qubits[0])))
			fail_msg("operation %zu differs", i);
		for (uint32_t k = 0; x->kind == QRTX_OP_GATE && k < x->nparams; k++) {
			assert_int_equal(qrtx_param_eval(a, &x->params[k], NULL, &vx), 0);
			assert_int_equal(qrtx_param_eval(b, &y->params[k], NULL, &vy), 0);
			assert_same(vx, vy);
		}
	}
}

static struct qrtx_circuit *round_trip(const struct qrtx_circuit *c, const double *vals,
				       char **text_out)
{
	struct qrtx_circuit *d;
	char *text = NULL;

	assert_int_equal(qrtx_qasm_write(c, vals, &text), 0);
	assert_non_null(text);
	d = parse_named(text, NULL);
	if (text_out)
		*text_out = text;
	else
		free(text);
	return d;
}

static void test_write_round_trip(void **state)
{
	struct qrtx_circuit *c, *d;
	char *text;

	(void)state;
	c = parse_ok(HDR "qreg a[2];\nqreg b[1];\ncreg m[2];\ncreg n[1];\n"
		     "u3(0.1, -pi/2, 3*pi/4) a[1];\nrz(1/3) b[0];\nrz(-0.0) b[0];\n"
		     "cu(1e-300, 2.5e300, -pi, pi) a[0], b[0];\nbarrier a[0];\n"
		     "if(n==1) x a;\nmeasure a -> m;\nreset b;\nif(m==3) measure b[0] -> n[0];\n");
	d = round_trip(c, NULL, &text);
	assert_same_ops(c, d);
	assert_non_null(strstr(text, "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg a[2];\n"
			       "qreg b[1];\ncreg m[2];\ncreg n[1];\n"));
	assert_non_null(strstr(text, "u3(0.1,-pi/2,3*pi/4) a[1];\n"));
	assert_non_null(strstr(text, "barrier a,b;\n"));
	assert_non_null(strstr(text, "if(n==1) x a[0];\n"));
	assert_non_null(strstr(text, "measure a[1] -> m[1];\n"));
	assert_non_null(strstr(text, "if(m==3) measure b[0] -> n[0];\n"));
	free(text);
	qrtx_circuit_free(d);
	qrtx_circuit_free(c);
}

static void test_write_built_circuit(void **state)
{
	struct qrtx_circuit *c = qrtx_circuit_new(), *d;
	struct qrtx_error err = { 0 };
	struct qrtx_op op = { .kind = QRTX_OP_GATE, .gate = QRTX_G_RX, .nqubits = 1,
			      .nparams = 1, .cond = { .creg = -1 } };
	double vals[1] = { 0.25 };
	char *text = NULL;
	int32_t root;

	(void)state;
	assert_non_null(c);
	/* Names QASM cannot read, and a qreg and a creg sharing one. */
	assert_int_equal(qrtx_circuit_add_qreg(c, "my-reg", 2), 0);
	assert_int_equal(qrtx_circuit_add_qreg(c, "x", 1), 0);
	assert_int_equal(qrtx_circuit_add_creg(c, "x", 1), 0);
	assert_int_equal(qrtx_circuit_add_creg(c, "measure", 1), 0);
	assert_int_equal(qrtx_expr_parse(c, "2*theta + pi/4", &root, &err), 0);
	op.qubits[0] = 2;
	op.params[0].expr = root;
	assert_int_equal(qrtx_circuit_append(c, &op), 0);
	op.kind = QRTX_OP_MEASURE;
	op.nparams = 0;
	op.clbit = 1;
	assert_int_equal(qrtx_circuit_append(c, &op), 0);

	/* Symbols need values. */
	assert_int_equal(qrtx_qasm_write(c, NULL, &text), -EINVAL);
	assert_null(text);
	d = round_trip(c, vals, &text);
	assert_int_equal(d->nops, 2);
	assert_same(d->ops[0].params[0].value, 2 * 0.25 + M_PI / 4);
	assert_int_equal(d->ops[1].clbit, 1);
	assert_int_equal(d->nqregs, 2);
	assert_string_equal(d->qregs[1].name, "x");
	assert_string_equal(d->qregs[0].name, "q0");
	assert_string_equal(d->cregs[0].name, "c0");
	free(text);
	qrtx_circuit_free(d);

	/* An expression over constants only is printed as written. */
	c->nsymbols = 0;
	assert_int_equal(qrtx_expr_parse(c, "3*pi/8 - 0.1", &root, &err), 0);
	c->ops[0].params[0].expr = root;
	assert_int_equal(qrtx_qasm_write(c, NULL, &text), 0);
	assert_non_null(strstr(text, "rx(3*pi/8 - 0.1) x[0];"));
	free(text);

	/* Operations the format cannot hold are refused, not garbled. */
	c->ops[0].qubits[0] = 7;
	assert_int_equal(qrtx_qasm_write(c, NULL, &text), -EINVAL);
	c->ops[0].qubits[0] = 2;
	c->ops[0].nparams = 2;
	assert_int_equal(qrtx_qasm_write(c, NULL, &text), -EINVAL);
	c->ops[0].nparams = 1;
	c->ops[0].params[0].expr = -1;
	c->ops[0].params[0].value = INFINITY;
	assert_int_equal(qrtx_qasm_write(c, NULL, &text), -EDOM);
	assert_null(text);
	qrtx_circuit_free(c);
}

static void test_write_without_registers(void **state)
{
	struct qrtx_circuit *c = qrtx_circuit_new(), *d;
	struct qrtx_op op = { .kind = QRTX_OP_GATE, .gate = QRTX_G_CX, .nqubits = 2,
			      .qubits = { 2, 0 }, .cond = { .creg = -1 } };

	(void)state;
	assert_non_null(c);
	c->nqubits = 3;
	c->nclbits = 2;
	assert_int_equal(qrtx_circuit_append(c, &op), 0);
	op.kind = QRTX_OP_BARRIER;
	op.nqubits = 0;
	assert_int_equal(qrtx_circuit_append(c, &op), 0);
	d = round_trip(c, NULL, NULL);
	assert_same_ops(c, d);
	assert_int_equal(d->nqregs, 1);
	assert_int_equal(d->ncregs, 1);
	qrtx_circuit_free(d);
	qrtx_circuit_free(c);
}

/* ---- the QASMBench corpus ------------------------------------------- */

static const char *corpus_dir(void)
{
	const char *d = getenv("QRTX_CORPUS");

	return d && *d ? d : CORPUS_DEFAULT;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_corpus(void **state)
{
	char pattern[512], msg[1024], largest[512] = "";
	off_t largest_size = -1;
	size_t nfiles = 0;
	glob_t g;

	(void)state;
	snprintf(pattern, sizeof(pattern), "%s/*/*/*.qasm", corpus_dir());
	if (glob(pattern, 0, NULL, &g) || !g.gl_pathc) {
		skip();
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		struct qrtx_circuit *c = NULL, *d;
		struct qrtx_error err = { 0 };
		char ref[512];
		struct stat st;
		json_t *j;

		if (qrtx_qasm_parse_file(path, &c, &err)) {
			qrtx_error_format(&err, msg, sizeof(msg));
			fail_msg("%s", msg);
		}
		/* Register sizes agree with the reference distribution's. */
		snprintf(ref, sizeof(ref), "%.*s.json", (int)(strlen(path) - 5), path);
		j = json_load_file(ref, 0, NULL);
		if (j) {
			assert_int_equal(json_integer_value(json_object_get(j, "qubits")),
					 c->nqubits);
			assert_int_equal(json_integer_value(json_object_get(j, "clbits")),
					 c->nclbits);
			json_decref(j);
		}
		assert_true(c->nops > 0);
		d = round_trip(c, NULL, NULL);
		assert_same_ops(c, d);
		qrtx_circuit_free(d);
		qrtx_circuit_free(c);
		if (!stat(path, &st) && st.st_size > largest_size) {
			largest_size = st.st_size;
			snprintf(largest, sizeof(largest), "%s", path);
		}
		nfiles++;
	}
	globfree(&g);
	assert_true(nfiles >= 60);

	/* Parsing the largest file is fast: best of five, from memory. */
	FILE *f = fopen(largest, "rb");
	char *text = malloc((size_t)largest_size + 1);
	double best = 1e9;

	assert_non_null(f);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)largest_size, f), (size_t)largest_size);
	fclose(f);
	for (int k = 0; k < 5; k++) {
		struct qrtx_circuit *c = NULL;
		struct qrtx_error err = { 0 };
		double t0 = now();

		assert_int_equal(qrtx_qasm_parse(text, (size_t)largest_size, largest, &c, &err), 0);
		if (now() - t0 < best)
			best = now() - t0;
		qrtx_circuit_free(c);
	}
	free(text);
	print_message("%zu corpus files parse and round-trip; %s (%lld bytes) parses in "
		      "%.2f ms\n", nfiles, largest, (long long)largest_size, best * 1e3);
	assert_true(best < 0.050);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_registers_in_order),
		cmocka_unit_test(test_language_gates_only),
		cmocka_unit_test(test_all_library_gates),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_bad_operands),
		cmocka_unit_test(test_arity),
		cmocka_unit_test(test_register_declarations),
		cmocka_unit_test(test_many_registers),
		cmocka_unit_test(test_gate_definitions),
		cmocka_unit_test(test_gate_body_evaluation_errors),
		cmocka_unit_test(test_shadowing_library),
		cmocka_unit_test(test_opaque_and_unsupported),
		cmocka_unit_test(test_if),
		cmocka_unit_test(test_barrier_reset_comments),
		cmocka_unit_test(test_parameter_expressions),
		cmocka_unit_test(test_qasmbench_invalid),
		cmocka_unit_test(test_many_gates),
		cmocka_unit_test(test_deep_and_large),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_write_round_trip),
		cmocka_unit_test(test_write_built_circuit),
		cmocka_unit_test(test_write_without_registers),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
