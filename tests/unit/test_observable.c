// SPDX-License-Identifier: MIT
/*
 * Pauli-sum observables: dense (Qiskit order) and sparse forms,
 * coefficients, and one clear error for everything else.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qrtx/job.h"

static struct qrtx_observable parse_ok(const char *text, uint32_t n)
{
	struct qrtx_observable o;
	struct qrtx_error e = { 0 };
	int ret = qrtx_observable_parse(text, n, &o, &e);

	if (ret)
		print_message("\"%s\": %s\n", text, e.msg);
	assert_int_equal(ret, 0);
	assert_int_equal(e.category, QRTX_ERR_NONE);
	assert_string_equal(o.text, text);
	return o;
}

/* Fails with msg containing want; col (1-based) is checked when given. */
static void parse_bad(const char *text, uint32_t n, const char *want, unsigned int col)
{
	struct qrtx_observable o;
	struct qrtx_error e = { 0 };
	int ret = qrtx_observable_parse(text, n, &o, &e);

	if (!ret || !strstr(e.msg, want))
		print_message("\"%s\": ret %d, msg \"%s\", wanted \"%s\"\n", text, ret, e.msg,
			      want);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(e.category, QRTX_ERR_VALIDATION);
	assert_non_null(strstr(e.msg, want));
	if (col)
		assert_int_equal(e.col, col);
	/* Nothing to free after a failure. */
	assert_null(o.text);
	assert_null(o.terms);
	assert_int_equal(o.nterms, 0);
}

static void test_dense_qiskit_order(void **state)
{
	struct qrtx_observable o = parse_ok("0.5*ZZI - 1.2*XIX", 3);

	(void)state;
	assert_int_equal(o.nterms, 2);
	assert_float_equal(o.terms[0].coeff, 0.5, 0);
	/* The last letter acts on qubit 0. */
	assert_int_equal(o.terms[0].zmask, 0x6);
	assert_int_equal(o.terms[0].xmask, 0);
	assert_float_equal(o.terms[1].coeff, -1.2, 0);
	assert_int_equal(o.terms[1].xmask, 0x5);
	assert_int_equal(o.terms[1].zmask, 0);
	qrtx_observable_free(&o);
	assert_null(o.terms);

	o = parse_ok("XYZ", 3);
	assert_int_equal(o.nterms, 1);
	assert_float_equal(o.terms[0].coeff, 1.0, 0);
	/* Y sets both masks: X on qubit 2, Y on 1, Z on 0. */
	assert_int_equal(o.terms[0].xmask, 0x6);
	assert_int_equal(o.terms[0].zmask, 0x3);
	qrtx_observable_free(&o);
}

static void test_coefficients(void **state)
{
	struct qrtx_observable o = parse_ok("+1e-3 * YIZ", 3);

	(void)state;
	assert_int_equal(o.nterms, 1);
	assert_float_equal(o.terms[0].coeff, 1e-3, 0);
	assert_int_equal(o.terms[0].xmask, 0x4);
	assert_int_equal(o.terms[0].zmask, 0x5);
	qrtx_observable_free(&o);

	o = parse_ok(" -ZZ+.5*XX -2.E+1*YY\t- 3e2 * II ", 2);
	assert_int_equal(o.nterms, 4);
	assert_float_equal(o.terms[0].coeff, -1.0, 0);
	assert_float_equal(o.terms[1].coeff, 0.5, 0);
	assert_float_equal(o.terms[2].coeff, -20.0, 0);
	assert_float_equal(o.terms[3].coeff, -300.0, 0);
	assert_int_equal(o.terms[3].xmask | o.terms[3].zmask, 0);
	qrtx_observable_free(&o);

	/* A bare coefficient is a multiple of the identity. */
	o = parse_ok("1.5 - Z0", 2);
	assert_int_equal(o.nterms, 2);
	assert_float_equal(o.terms[0].coeff, 1.5, 0);
	assert_int_equal(o.terms[0].xmask | o.terms[0].zmask, 0);
	assert_float_equal(o.terms[1].coeff, -1.0, 0);
	assert_int_equal(o.terms[1].zmask, 1);
	qrtx_observable_free(&o);
}

static void test_sparse(void **state)
{
	struct qrtx_observable o = parse_ok("-X0", 3);

	(void)state;
	assert_int_equal(o.nterms, 1);
	assert_float_equal(o.terms[0].coeff, -1.0, 0);
	assert_int_equal(o.terms[0].xmask, 1);
	assert_int_equal(o.terms[0].zmask, 0);
	qrtx_observable_free(&o);

	o = parse_ok("Z0 Z1 + 2*Y2*X0 - 0.25*Z1Z2", 3);
	assert_int_equal(o.nterms, 3);
	assert_int_equal(o.terms[0].zmask, 0x3);
	assert_float_equal(o.terms[1].coeff, 2.0, 0);
	assert_int_equal(o.terms[1].xmask, 0x5);
	assert_int_equal(o.terms[1].zmask, 0x4);
	assert_int_equal(o.terms[2].zmask, 0x6);
	qrtx_observable_free(&o);

	/* Index 63 is the last a 64-bit mask holds. */
	o = parse_ok("Z63 + X0", 64);
	assert_int_equal(o.terms[0].zmask, 1ULL << 63);
	qrtx_observable_free(&o);
}

static void test_errors(void **state)
{
	(void)state;
	parse_bad("", 2, "empty observable", 1);
	parse_bad("   ", 2, "empty observable", 4);
	parse_bad("ZZ", 3, "has 2 letters, the circuit has 3 qubits", 1);
	parse_bad("0.5*ZQI", 3, "bad Pauli letter 'Q'", 6);
	parse_bad("zz", 2, "bad Pauli letter 'z'", 1);
	parse_bad("0.5ZZ", 2, "expected '*'", 4);
	parse_bad("0.5 ZZ", 2, "expected '*'", 5);
	parse_bad("ZZ XX", 2, "expected '+' or '-' between terms", 4);
	parse_bad("ZZ +", 2, "expected a Pauli string at the end", 5);
	parse_bad("0.5*", 2, "expected a Pauli string at the end", 5);
	parse_bad("+", 2, "expected a Pauli string", 2);
	parse_bad("--ZZ", 2, "expected a coefficient or a Pauli string", 2);
	parse_bad("ZZ - -0.5*XX", 2, "expected a coefficient or a Pauli string", 6);
	parse_bad("Z0 Z0", 2, "appears twice", 4);
	parse_bad("Z5", 3, "qubit 5 out of range", 1);
	parse_bad("Z99999999999", 3, "too large", 1);
	parse_bad("1e999*ZZ", 2, "out of range", 1);
	parse_bad("1e*ZZ", 2, "exponent", 3);
	parse_bad("nan*ZZ", 2, "bad Pauli letter 'n'", 1);
	parse_bad("inf", 2, "bad Pauli letter 'i'", 1);
	parse_bad("Z0Zx", 2, "unexpected 'Z'", 3);
	parse_bad("0x1p3*ZZ", 2, "expected '*'", 2);
	parse_bad("ZZ0", 2, "unexpected digit", 3);
	parse_bad("Z0x", 2, "unexpected 'x'", 3);
	parse_bad("Z0 *", 2, "expected a Pauli factor", 5);
	parse_bad("(ZZ)", 2, "expected a coefficient or a Pauli string, found '('", 1);
	parse_bad("1j*ZZ", 2, "expected '*'", 2);
	parse_bad("Z0", 65, "at most 64 qubits", 0);
}

static void test_null_and_free(void **state)
{
	struct qrtx_observable o;
	struct qrtx_error e = { 0 };

	(void)state;
	assert_int_equal(qrtx_observable_parse(NULL, 2, &o, &e), -EINVAL);
	qrtx_observable_free(NULL);
	qrtx_observable_free(&o);	/* zeroed by the failed parse */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense_qiskit_order),
		cmocka_unit_test(test_coefficients),
		cmocka_unit_test(test_sparse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_null_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
