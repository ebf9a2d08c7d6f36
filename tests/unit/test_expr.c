// SPDX-License-Identifier: MIT
/*
 * Parameter expressions: the QASM 2.0 grammar (precedence, associativity,
 * number forms, functions), symbols, evaluation errors, printing that
 * reads back to the very same double, and bounded nesting.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qrtx/circuit.h"
#include "qrtx/error.h"
#include "qrtx/expr.h"

static struct qrtx_circuit *fresh(void)
{
	struct qrtx_circuit *c = qrtx_circuit_new();

	assert_non_null(c);
	return c;
}

/* Parse text, evaluate with vals; asserts the parse succeeds. */
static int value_of(struct qrtx_circuit *c, const char *text, const double *vals, double *out)
{
	struct qrtx_error err = { 0 };
	int32_t root = -1;
	int rc = qrtx_expr_parse(c, text, &root, &err);

	if (rc)
		fail_msg("parse of \"%s\" failed: %s", text, err.msg);
	return qrtx_expr_eval(c, root, vals, out);
}

static double eval_const(const char *text)
{
	struct qrtx_circuit *c = fresh();
	double v = NAN;

	assert_int_equal(value_of(c, text, NULL, &v), 0);
	qrtx_circuit_free(c);
	return v;
}

/* Bitwise equality: the point of these tests is exactness. */
static void assert_same(double a, double b)
{
	if (memcmp(&a, &b, sizeof(a)))
		fail_msg("%.17g != %.17g", a, b);
}

static void test_numbers(void **state)
{
	(void)state;
	assert_same(eval_const("1"), 1.0);
	assert_same(eval_const("1.5"), 1.5);
	assert_same(eval_const(".5"), 0.5);
	assert_same(eval_const("5."), 5.0);
	assert_same(eval_const("1e-3"), 1e-3);
	assert_same(eval_const("2.E+3"), 2000.0);
	assert_same(eval_const("1E3"), 1000.0);
	assert_same(eval_const("0.1"), 0.1);
	assert_same(eval_const("pi"), M_PI);
	assert_same(eval_const("  pi /* a comment */ "), M_PI);
	assert_same(eval_const("123456789012345678901234567890"), 123456789012345678901234567890.0);
}

static void test_precedence(void **state)
{
	(void)state;
	/* ^ binds tighter than unary minus, and is right-associative. */
	assert_same(eval_const("-pi^2"), -(M_PI * M_PI));
	assert_same(eval_const("(-pi)^2"), M_PI * M_PI);
	assert_same(eval_const("2^3^2"), 512.0);
	assert_same(eval_const("(2^3)^2"), 64.0);
	assert_same(eval_const("-2*3"), -6.0);
	assert_same(eval_const("-2^2"), -4.0);
	assert_same(eval_const("2^-1"), 0.5);
	assert_same(eval_const("2^-1^2"), 0.5);
	assert_same(eval_const("--2"), 2.0);
	assert_same(eval_const("+2"), 2.0);
	/* Left associativity of the rest. */
	assert_same(eval_const("1-2-3"), -4.0);
	assert_same(eval_const("8/4/2"), 1.0);
	assert_same(eval_const("2*3+4*5"), 26.0);
	assert_same(eval_const("2+3*4^2"), 50.0);
	assert_same(eval_const("(1+2)*3"), 9.0);
	assert_same(eval_const("3*pi/4"), (3 * M_PI) / 4);
	assert_same(eval_const("-pi/2"), (-M_PI) / 2);
	assert_same(eval_const("0.1+0.2+0.3"), (0.1 + 0.2) + 0.3);
	assert_same(eval_const("0.1+(0.2+0.3)"), 0.1 + (0.2 + 0.3));
}

static void test_functions(void **state)
{
	(void)state;
	assert_same(eval_const("sin(pi/2)"), sin(M_PI / 2));
	assert_same(eval_const("cos(0)"), 1.0);
	assert_same(eval_const("tan(pi/4)"), tan(M_PI / 4));
	assert_same(eval_const("exp(1)"), exp(1));
	assert_same(eval_const("ln(exp(2))"), log(exp(2)));
	assert_same(eval_const("sqrt(2)"), sqrt(2));
	assert_same(eval_const("-sqrt(4)^2"), -pow(2, 2));
	assert_same(eval_const("sin(cos(0.5)*2)"), sin(cos(0.5) * 2));
}

static void test_symbols(void **state)
{
	struct qrtx_circuit *c = fresh();
	double vals[2] = { 0.5, -3 }, v;

	(void)state;
	assert_int_equal(value_of(c, "2*theta+pi/4", vals, &v), 0);
	assert_same(v, 2 * 0.5 + M_PI / 4);
	assert_int_equal(c->nsymbols, 1);
	assert_string_equal(c->symbols[0], "theta");
	/* Symbols are shared by name, in first-use order. */
	assert_int_equal(value_of(c, "phi - theta*theta", vals, &v), 0);
	assert_int_equal(c->nsymbols, 2);
	assert_string_equal(c->symbols[1], "phi");
	assert_same(v, -3 - 0.5 * 0.5);
	/* Without values, a symbol cannot be evaluated. */
	assert_int_equal(value_of(c, "theta", NULL, &v), -EINVAL);
	qrtx_circuit_free(c);
}

/* Many symbols, found by name; those of a failed parse are forgotten
 * (a later one may take their index) and can be made again. */
static void test_many_symbols(void **state)
{
	struct qrtx_circuit *c = fresh();
	struct qrtx_error err = { 0 };
	char name[32];
	uint32_t idx;
	int32_t root;

	(void)state;
	for (uint32_t i = 0; i < 5000; i++) {
		sprintf(name, "s%u", i);
		assert_int_equal(qrtx_circuit_symbol(c, name, &idx), 0);
		assert_int_equal(idx, i);
	}
	for (uint32_t i = 0; i < 5000; i += 7) {
		sprintf(name, "s%u", i);
		assert_int_equal(qrtx_circuit_find_symbol(c, name), (int)i);
		assert_int_equal(qrtx_circuit_symbol(c, name, &idx), 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(c->nsymbols, 5000);
	assert_int_equal(qrtx_circuit_find_symbol(c, "s5000"), -1);
	/* a parse that fails after naming two new symbols leaves none */
	assert_int_not_equal(qrtx_expr_parse(c, "fresh1 + fresh2 +", &root, &err), 0);
	assert_int_equal(c->nsymbols, 5000);
	assert_int_equal(qrtx_circuit_find_symbol(c, "fresh1"), -1);
	assert_int_equal(qrtx_circuit_find_symbol(c, "fresh2"), -1);
	/* the index fresh1 had goes to another name; fresh2 comes back after */
	assert_int_equal(qrtx_circuit_symbol(c, "other", &idx), 0);
	assert_int_equal(idx, 5000);
	assert_int_equal(qrtx_circuit_find_symbol(c, "fresh1"), -1);
	assert_int_equal(qrtx_circuit_symbol(c, "fresh2", &idx), 0);
	assert_int_equal(idx, 5001);
	assert_int_equal(qrtx_circuit_find_symbol(c, "other"), 5000);
	assert_int_equal(qrtx_circuit_find_symbol(c, "fresh2"), 5001);
	assert_int_equal(qrtx_circuit_find_symbol(c, "s4999"), 4999);
	qrtx_circuit_free(c);
}

static void test_eval_errors(void **state)
{
	static const char *const bad[] = {
		"ln(-1)", "ln(0)", "1/0", "-1/0", "0/0", "sqrt(-1)", "exp(1000)",
		"(-8)^(1/3)", "10^400",
	};
	struct qrtx_circuit *c = fresh();
	double v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (value_of(c, bad[i], NULL, &v) != -EDOM)
			fail_msg("\"%s\" should fail with -EDOM", bad[i]);
	}
	qrtx_circuit_free(c);
}

static void test_malformed_tree(void **state)
{
	struct qrtx_circuit *c = fresh();
	struct qrtx_expr e = { .kind = QRTX_E_NEG, .a = 0, .b = -1 };
	double v;
	char buf[16];

	(void)state;
	/* A node whose child is itself: a cycle, refused rather than followed. */
	assert_int_equal(qrtx_circuit_add_expr(c, &e), 0);
	assert_int_equal(qrtx_expr_eval(c, 0, NULL, &v), -EINVAL);
	assert_true(qrtx_expr_print(c, 0, buf, sizeof(buf)) < 0);
	assert_int_equal(qrtx_expr_eval(c, 5, NULL, &v), -EINVAL);
	assert_int_equal(qrtx_expr_eval(c, -1, NULL, &v), -EINVAL);
	qrtx_circuit_free(c);
}

static void expect_parse_error(const char *text, unsigned int col, const char *needle)
{
	struct qrtx_circuit *c = fresh();
	struct qrtx_error err = { 0 };
	int32_t root = -1;

	/* Earlier content must survive a failed parse untouched. */
	assert_int_equal(qrtx_expr_parse(c, "a+1", &root, &err), 0);
	assert_int_equal(qrtx_expr_parse(c, text, &root, &err), -EINVAL);
	assert_int_equal(err.category, QRTX_ERR_VALIDATION);
	assert_int_equal(err.line, 1);
	if (err.col != col)
		fail_msg("\"%s\": error at column %u, expected %u (%s)", text, err.col, col,
			 err.msg);
	if (!strstr(err.msg, needle))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", text, err.msg, needle);
	assert_int_equal(c->nexprs, 3);
	assert_int_equal(c->nsymbols, 1);
	qrtx_circuit_free(c);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("", 1, "empty");
	expect_parse_error("   ", 4, "empty");
	expect_parse_error("1+", 3, "expected an expression");
	expect_parse_error("1 + * 2", 5, "expected an expression");
	expect_parse_error("(1", 3, "expected ')'");
	expect_parse_error("1)", 2, "unexpected ')'");
	expect_parse_error("sin 1", 5, "expected '('");
	expect_parse_error("2**3", 3, "expected an expression");
	expect_parse_error("1 2", 3, "unexpected '2'");
	expect_parse_error("x @ y", 3, "unexpected character '@'");
	expect_parse_error("1.2.3", 1, "malformed number");
	expect_parse_error("1e", 1, "malformed number");
	expect_parse_error("2pi", 1, "malformed number");
	expect_parse_error("b + new_sym )", 13, "unexpected ')'");
	expect_parse_error("1e999", 1, "out of range");
	expect_parse_error("/* open", 1, "comment is not closed");
	expect_parse_error("a = 1", 3, "'=='");
	expect_parse_error("pi(2)", 3, "unexpected '('");
}

static void test_nesting_bounded(void **state)
{
	struct qrtx_circuit *c = fresh();
	struct qrtx_error err = { 0 };
	size_t n = 100000;
	char *text = malloc(2 * n + 2);
	int32_t root;
	double v;

	(void)state;
	assert_non_null(text);
	/* Deep parentheses: an error, not a stack overflow. */
	memset(text, '(', n);
	text[n] = '1';
	memset(text + n + 1, ')', n);
	text[2 * n + 1] = '\0';
	assert_int_equal(qrtx_expr_parse(c, text, &root, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nested"));
	/* A long chain of signs and a long left-deep sum, likewise. */
	memset(text, '-', n);
	text[n] = '1';
	text[n + 1] = '\0';
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_expr_parse(c, text, &root, &err), -EINVAL);
	for (size_t i = 0; i < n; i++)
		text[2 * i] = '1', text[2 * i + 1] = '+';
	text[2 * n - 1] = '\0';
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_expr_parse(c, text, &root, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nested"));
	assert_int_equal(c->nexprs, 0);
	/* Moderate depth is fine. */
	memset(text, '(', 100);
	text[100] = '1';
	memset(text + 101, ')', 100);
	text[201] = '\0';
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_expr_parse(c, text, &root, &err), 0);
	assert_int_equal(qrtx_expr_eval(c, root, NULL, &v), 0);
	assert_same(v, 1.0);
	free(text);
	qrtx_circuit_free(c);
}

static void check_print(const char *text, const char *want)
{
	struct qrtx_circuit *c = fresh();
	struct qrtx_error err = { 0 };
	double vals[3] = { 0.3, 1.7, 2.5 }, v1, v2;
	int32_t r1, r2;
	char buf[256];
	int n;

	assert_int_equal(qrtx_expr_parse(c, text, &r1, &err), 0);
	n = qrtx_expr_print(c, r1, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_int_equal((size_t)n, strlen(buf));
	if (want && strcmp(buf, want))
		fail_msg("\"%s\" printed as \"%s\", expected \"%s\"", text, buf, want);
	/* The printed text is the same function: same value, same bits. */
	assert_int_equal(qrtx_expr_parse(c, buf, &r2, &err), 0);
	assert_int_equal(qrtx_expr_eval(c, r1, vals, &v1), 0);
	assert_int_equal(qrtx_expr_eval(c, r2, vals, &v2), 0);
	assert_same(v1, v2);
	qrtx_circuit_free(c);
}

static void test_print(void **state)
{
	(void)state;
	check_print("2*theta+pi/4", "2*theta + pi/4");
	check_print("-pi^2", "-pi^2");
	check_print("(-pi)^2", "(-pi)^2");
	check_print("2^3^2", "2^3^2");
	check_print("(2^3)^2", "(2^3)^2");
	check_print("1-(2-3)", "1 - (2 - 3)");
	check_print("(1-2)-3", "1 - 2 - 3");
	check_print("a/(b*c)", "a/(b*c)");
	check_print("-(a+b)", "-(a + b)");
	check_print("a*-b", "a*-b");
	check_print("2^-a", "2^-a");
	check_print("sin(a)^2 + cos(a)^2", "sin(a)^2 + cos(a)^2");
	check_print("sqrt(ln(exp(b)+c*c))", "sqrt(ln(exp(b) + c*c))");
	check_print("0.1", "0.1");
	check_print("1e-300*a", "1e-300*a");
	check_print("0.1+0.2+0.3*a", NULL);
	check_print("0.1+(0.2+0.3*a)", NULL);
	check_print("1/3*a - 2/3", NULL);
	check_print("a^b^c", "a^b^c");
	check_print("(a^b)^c", "(a^b)^c");
	check_print("-(-a)", "--a");
}

static void test_print_truncates(void **state)
{
	struct qrtx_circuit *c = fresh();
	struct qrtx_error err = { 0 };
	char buf[6];
	int32_t r;

	(void)state;
	assert_int_equal(qrtx_expr_parse(c, "theta+phi", &r, &err), 0);
	/* Like snprintf: the full length, a terminated prefix. */
	assert_int_equal(qrtx_expr_print(c, r, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "theta");
	assert_int_equal(qrtx_expr_print(c, r, NULL, 0), 11);
	qrtx_circuit_free(c);
}

/* Printing a tree built by hand (not parsed) also reads back exactly. */
static void test_print_numbers_exact(void **state)
{
	static const double nums[] = {
		0.1, -0.1, 1.0 / 3, -0.0, 5e-324, 1.7976931348623157e308, M_PI, -M_PI,
		M_PI / 2, 2.220446049250313e-16, 123456789.123456789,
	};
	struct qrtx_circuit *c = fresh();
	struct qrtx_error err = { 0 };
	char buf[64];
	double v;
	int32_t r;

	(void)state;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		struct qrtx_expr e = { .kind = QRTX_E_NUM, .a = -1, .b = -1, .num = nums[i] };
		int32_t idx = qrtx_circuit_add_expr(c, &e);

		assert_true(idx >= 0);
		assert_true(qrtx_expr_print(c, idx, buf, sizeof(buf)) > 0);
		assert_int_equal(qrtx_expr_parse(c, buf, &r, &err), 0);
		assert_int_equal(qrtx_expr_eval(c, r, NULL, &v), 0);
		assert_same(v, nums[i]);
	}
	qrtx_circuit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_many_symbols),
		cmocka_unit_test(test_eval_errors),
		cmocka_unit_test(test_malformed_tree),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_nesting_bounded),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_print_truncates),
		cmocka_unit_test(test_print_numbers_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
