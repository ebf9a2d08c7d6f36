/* SPDX-License-Identifier: MIT */
/*
 * Private to the OpenQASM 2.0 front end and the expression parser: one
 * tokenizer and one expression grammar serve both, so a parameter means
 * the same thing in a QASM file and in a JSON graph's symbolic string.
 */
#ifndef QRTX_QASM_LEX_H
#define QRTX_QASM_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qrtx/circuit.h"
#include "qrtx/error.h"

/* Longest identifier: register names must fit struct qrtx_reg. */
#define QRTX_IDENT_MAX (QRTX_NAME_MAX - 1)
/* Deepest expression tree accepted, parsed or evaluated: bounds the
 * recursion of the parser, the evaluator and the printer. */
#define QRTX_EXPR_MAX_DEPTH 512

enum qrtx_tok_kind {
	QRTX_TK_EOF,
	QRTX_TK_ID,
	QRTX_TK_INT,		/* digits only: also a valid index or size */
	QRTX_TK_REAL,		/* has a point or an exponent */
	QRTX_TK_STRING,		/* s/len exclude the quotes */
	QRTX_TK_SEMI, QRTX_TK_COMMA,
	QRTX_TK_LBRACK, QRTX_TK_RBRACK,
	QRTX_TK_LPAREN, QRTX_TK_RPAREN,
	QRTX_TK_LBRACE, QRTX_TK_RBRACE,
	QRTX_TK_ARROW, QRTX_TK_EQEQ,
	QRTX_TK_PLUS, QRTX_TK_MINUS, QRTX_TK_STAR, QRTX_TK_SLASH, QRTX_TK_CARET,
};

struct qrtx_tok {
	enum qrtx_tok_kind kind;
	const char *s;		/* points into the source text */
	size_t len;
	unsigned int line, col;	/* 1-based; col counts bytes */
	double num;		/* INT and REAL */
	uint64_t ival;		/* INT */
	bool ival_ok;		/* INT fits in 64 bits */
};

struct qrtx_lexer {
	const char *text;
	size_t len, pos;
	unsigned int line, col;
	const char *file;	/* for messages; NULL: none */
	struct qrtx_error *err;
	struct qrtx_tok tok;	/* the current token: one token of lookahead */
};

/* Prepare lx and read the first token (0 or -EINVAL with err set). */
int qrtx_lex_init(struct qrtx_lexer *lx, const char *text, size_t len,
		  const char *file, struct qrtx_error *err);
/* Advance to the next token; 0 or -EINVAL (bad character, comment or
 * string not closed, malformed number) with err set. */
int qrtx_lex_next(struct qrtx_lexer *lx);
/* Record a validation error at tok's position; returns -EINVAL. */
int qrtx_lex_error(const struct qrtx_lexer *lx, const struct qrtx_tok *tok,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Describe tok for "expected X, found Y" messages. */
void qrtx_tok_describe(const struct qrtx_tok *tok, char *buf, size_t len);
bool qrtx_tok_is(const struct qrtx_tok *tok, const char *word);

/*
 * Names in an expression other than pi and the function names are handed
 * to resolve, which fills *node (a QRTX_E_SYM or QRTX_E_NUM) and returns
 * 0, or records an error on the lexer and returns -EINVAL.
 */
struct qrtx_expr_names {
	int (*resolve)(void *ctx, const struct qrtx_lexer *lx,
		       const struct qrtx_tok *name, struct qrtx_expr *node);
	void *ctx;
};

/* Parse one expression starting at the current token into pool's
 * expression array; stops at the first token that cannot continue it. */
int qrtx_expr_parse_tokens(struct qrtx_lexer *lx, struct qrtx_circuit *pool,
			   const struct qrtx_expr_names *names, int32_t *root);
/* Evaluate over a bare node array; vals has nvals entries for QRTX_E_SYM.
 * -EDOM on a non-finite value, -EINVAL on a malformed tree. */
int qrtx_expr_eval_nodes(const struct qrtx_expr *nodes, size_t nnodes, int32_t root,
			 const double *vals, uint32_t nvals, double *out);
/* Shortest text that strtod reads back as exactly v ("inf"/"nan" for
 * non-finite values, which no parser here accepts). */
void qrtx_fmt_double(char *buf, size_t len, double v);
/* Whether name can name a register in QASM text that we read back. */
bool qrtx_qasm_name_ok(const char *name);

#endif
