/* SPDX-License-Identifier: MIT */
/*
 * Parameter expressions, as OpenQASM 2.0 writes them: numbers, pi,
 * + - * / ^ (right-associative, tighter than unary minus: -a^b is
 * -(a^b)), unary minus, parentheses, and sin cos tan exp ln sqrt. Names other than pi are symbols of the
 * circuit (free parameters bound per PUB).
 */
#ifndef QRTX_EXPR_H
#define QRTX_EXPR_H

#include "qrtx/circuit.h"
#include "qrtx/error.h"

/* Parse the whole of text into c's expression pool; *root gets the tree.
 * Unknown names become symbols of c. Errors name column positions within
 * text (line 1). Returns 0 or -EINVAL/-ENOMEM with err filled. */
int qrtx_expr_parse(struct qrtx_circuit *c, const char *text, int32_t *root,
		    struct qrtx_error *err);
/* Evaluate with symbol values (indexed like c->symbols). Fails with
 * -EDOM on a non-finite result (e.g. ln of a negative number). */
int qrtx_expr_eval(const struct qrtx_circuit *c, int32_t root,
		   const double *symbol_values, double *out);
/* Print as QASM text (symbols by name); returns snprintf's count. */
int qrtx_expr_print(const struct qrtx_circuit *c, int32_t root, char *buf, size_t len);

#endif
