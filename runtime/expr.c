// SPDX-License-Identifier: MIT
/*
 * Parameter expressions: the OpenQASM 2.0 grammar, shared by the QASM
 * front end (which evaluates them while inlining gates) and by symbolic
 * parameters of JSON graphs (kept as trees and bound per PUB).
 *
 *   expr  := term  (('+' | '-') term)*
 *   term  := unary (('*' | '/') unary)*
 *   unary := '-' unary | '+' unary | power
 *   power := atom ('^' unary)?                 right-associative
 *   atom  := number | 'pi' | name | '(' expr ')' | func '(' expr ')'
 *
 * so ^ binds tighter than unary minus (-pi^2 is -(pi^2), 2^3^2 is 2^9)
 * and an exponent may carry its own sign (2^-1 is 0.5), as in the spec's
 * reference grammar and Qiskit's readers. Trees are kept exactly as
 * written: floating-point addition is not associative, and the printer
 * must give back a string that evaluates to the same bits.
 *
 * Nodes are appended bottom-up, so every child index is smaller than its
 * parent's; the evaluator relies on that to refuse cycles.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/expr.h"
#include "qasm_lex.h"

struct eparser {
	struct qrtx_lexer *lx;
	struct qrtx_circuit *pool;
	const struct qrtx_expr_names *names;
	int nesting;		/* open parentheses, signs and exponents */
};

/* A parsed subtree: its root and its height (for the depth bound). */
struct sub {
	int32_t root;
	int height;
};

static const struct {
	const char *name;
	enum qrtx_expr_kind kind;
} functions[] = {
	{ "sin", QRTX_E_SIN }, { "cos", QRTX_E_COS }, { "tan", QRTX_E_TAN },
	{ "exp", QRTX_E_EXP }, { "ln", QRTX_E_LN }, { "sqrt", QRTX_E_SQRT },
};

static int node(struct eparser *ep, const struct qrtx_tok *at, enum qrtx_expr_kind kind,
		const struct sub *a, const struct sub *b, double num, struct sub *out)
{
	struct qrtx_expr e = { .kind = kind, .a = -1, .b = -1, .num = num };
	int height = 1;
	int32_t idx;

	if (a) {
		e.a = a->root;
		height = a->height + 1;
	}
	if (b) {
		e.b = b->root;
		if (b->height + 1 > height)
			height = b->height + 1;
	}
	if (height > QRTX_EXPR_MAX_DEPTH)
		return qrtx_lex_error(ep->lx, at, "expression is nested more than %d levels deep",
				      QRTX_EXPR_MAX_DEPTH);
	idx = qrtx_circuit_add_expr(ep->pool, &e);
	if (idx < 0) {
		qrtx_error_set(ep->lx->err, QRTX_ERR_VALIDATION, -ENOMEM, ep->lx->file,
			       at->line, at->col, "out of memory");
		return -ENOMEM;
	}
	out->root = idx;
	out->height = height;
	return 0;
}

static int expect(struct eparser *ep, enum qrtx_tok_kind kind, const char *what)
{
	char found[64];

	if (ep->lx->tok.kind != kind) {
		qrtx_tok_describe(&ep->lx->tok, found, sizeof(found));
		return qrtx_lex_error(ep->lx, &ep->lx->tok, "expected %s, found %s", what, found);
	}
	return qrtx_lex_next(ep->lx);
}

/* Bound the parser's own recursion before the tree height can. */
static int enter(struct eparser *ep)
{
	if (++ep->nesting > QRTX_EXPR_MAX_DEPTH)
		return qrtx_lex_error(ep->lx, &ep->lx->tok,
				      "expression is nested more than %d levels deep",
				      QRTX_EXPR_MAX_DEPTH);
	return 0;
}

static int parse_sum(struct eparser *ep, struct sub *out);
static int parse_unary(struct eparser *ep, struct sub *out);

static int parse_atom(struct eparser *ep, struct sub *out)
{
	struct qrtx_lexer *lx = ep->lx;
	struct qrtx_tok t = lx->tok;
	struct qrtx_expr e;
	char found[64];
	struct sub arg;
	int err;

	if (t.kind == QRTX_TK_INT || t.kind == QRTX_TK_REAL) {
		err = node(ep, &t, QRTX_E_NUM, NULL, NULL, t.num, out);
		return err ? err : qrtx_lex_next(lx);
	}
	if (t.kind == QRTX_TK_LPAREN) {
		err = qrtx_lex_next(lx);
		if (!err)
			err = parse_sum(ep, out);
		return err ? err : expect(ep, QRTX_TK_RPAREN, "')'");
	}
	if (t.kind != QRTX_TK_ID) {
		qrtx_tok_describe(&t, found, sizeof(found));
		return qrtx_lex_error(lx, &t, "expected an expression, found %s", found);
	}
	if (qrtx_tok_is(&t, "pi")) {
		err = node(ep, &t, QRTX_E_NUM, NULL, NULL, M_PI, out);
		return err ? err : qrtx_lex_next(lx);
	}
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
		if (!qrtx_tok_is(&t, functions[i].name))
			continue;
		err = qrtx_lex_next(lx);
		if (!err && lx->tok.kind != QRTX_TK_LPAREN)
			return qrtx_lex_error(lx, &lx->tok, "expected '(' after '%s'",
					      functions[i].name);
		if (!err)
			err = qrtx_lex_next(lx);
		if (!err)
			err = parse_sum(ep, &arg);
		if (!err)
			err = expect(ep, QRTX_TK_RPAREN, "')'");
		if (!err)
			err = node(ep, &t, functions[i].kind, &arg, NULL, 0, out);
		return err;
	}
	if (!ep->names || !ep->names->resolve)
		return qrtx_lex_error(lx, &t, "unknown name '%.*s' in expression",
				      (int)t.len, t.s);
	memset(&e, 0, sizeof(e));
	err = ep->names->resolve(ep->names->ctx, lx, &t, &e);
	if (err)
		return err;
	if (e.kind != QRTX_E_NUM && e.kind != QRTX_E_SYM)
		return qrtx_lex_error(lx, &t, "internal error: bad name resolution");
	err = node(ep, &t, e.kind, NULL, NULL, e.num, out);
	if (!err && e.kind == QRTX_E_SYM)
		ep->pool->exprs[out->root].sym = e.sym;
	return err ? err : qrtx_lex_next(lx);
}

static int parse_power(struct eparser *ep, struct sub *out)
{
	struct sub base, exponent;
	struct qrtx_tok op;
	int err;

	err = parse_atom(ep, &base);
	if (err)
		return err;
	if (ep->lx->tok.kind != QRTX_TK_CARET) {
		*out = base;
		return 0;
	}
	op = ep->lx->tok;
	err = qrtx_lex_next(ep->lx);
	if (!err)
		err = parse_unary(ep, &exponent);
	return err ? err : node(ep, &op, QRTX_E_POW, &base, &exponent, 0, out);
}

static int parse_unary(struct eparser *ep, struct sub *out)
{
	struct qrtx_tok op = ep->lx->tok;
	struct sub operand;
	int err;

	err = enter(ep);
	if (err)
		return err;
	if (op.kind == QRTX_TK_MINUS || op.kind == QRTX_TK_PLUS) {
		err = qrtx_lex_next(ep->lx);
		if (!err)
			err = parse_unary(ep, &operand);
		if (!err && op.kind == QRTX_TK_MINUS)
			err = node(ep, &op, QRTX_E_NEG, &operand, NULL, 0, out);
		else if (!err)
			*out = operand;
	} else {
		err = parse_power(ep, out);
	}
	ep->nesting--;
	return err;
}

static int parse_term(struct eparser *ep, struct sub *out)
{
	struct sub lhs, rhs;
	int err;

	err = parse_unary(ep, &lhs);
	while (!err && (ep->lx->tok.kind == QRTX_TK_STAR || ep->lx->tok.kind == QRTX_TK_SLASH)) {
		struct qrtx_tok op = ep->lx->tok;

		err = qrtx_lex_next(ep->lx);
		if (!err)
			err = parse_unary(ep, &rhs);
		if (!err)
			err = node(ep, &op, op.kind == QRTX_TK_STAR ? QRTX_E_MUL : QRTX_E_DIV,
				   &lhs, &rhs, 0, &lhs);
	}
	if (!err)
		*out = lhs;
	return err;
}

static int parse_sum(struct eparser *ep, struct sub *out)
{
	struct sub lhs, rhs;
	int err;

	err = enter(ep);
	if (!err)
		err = parse_term(ep, &lhs);
	while (!err && (ep->lx->tok.kind == QRTX_TK_PLUS || ep->lx->tok.kind == QRTX_TK_MINUS)) {
		struct qrtx_tok op = ep->lx->tok;

		err = qrtx_lex_next(ep->lx);
		if (!err)
			err = parse_term(ep, &rhs);
		if (!err)
			err = node(ep, &op, op.kind == QRTX_TK_PLUS ? QRTX_E_ADD : QRTX_E_SUB,
				   &lhs, &rhs, 0, &lhs);
	}
	ep->nesting--;
	if (!err)
		*out = lhs;
	return err;
}

int qrtx_expr_parse_tokens(struct qrtx_lexer *lx, struct qrtx_circuit *pool,
			   const struct qrtx_expr_names *names, int32_t *root)
{
	struct eparser ep = { .lx = lx, .pool = pool, .names = names };
	struct sub s;
	int err;

	err = parse_sum(&ep, &s);
	if (!err)
		*root = s.root;
	return err;
}

/* Standalone strings: every name but pi and the functions is a symbol. */
static int resolve_symbol(void *ctx, const struct qrtx_lexer *lx,
			  const struct qrtx_tok *name, struct qrtx_expr *node)
{
	struct qrtx_circuit *c = ctx;
	char buf[QRTX_NAME_MAX];
	int err;

	snprintf(buf, sizeof(buf), "%.*s", (int)name->len, name->s);
	err = qrtx_circuit_symbol(c, buf, &node->sym);
	if (err == -ENOMEM) {
		qrtx_error_set(lx->err, QRTX_ERR_VALIDATION, -ENOMEM, lx->file,
			       name->line, name->col, "out of memory");
		return err;
	}
	if (err)
		return qrtx_lex_error(lx, name, "invalid symbol name '%s'", buf);
	node->kind = QRTX_E_SYM;
	return 0;
}

int qrtx_expr_parse(struct qrtx_circuit *c, const char *text, int32_t *root,
		    struct qrtx_error *err)
{
	struct qrtx_expr_names names = { .resolve = resolve_symbol, .ctx = c };
	size_t nexprs = c->nexprs;
	uint32_t nsymbols = c->nsymbols;
	struct qrtx_lexer lx;
	char found[64];
	int32_t r = -1;
	int rc;

	if (!text) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
			       "no expression given");
		return -EINVAL;
	}
	rc = qrtx_lex_init(&lx, text, strlen(text), NULL, err);
	if (!rc && lx.tok.kind == QRTX_TK_EOF)
		rc = qrtx_lex_error(&lx, &lx.tok, "empty expression");
	if (!rc)
		rc = qrtx_expr_parse_tokens(&lx, c, &names, &r);
	if (!rc && lx.tok.kind != QRTX_TK_EOF) {
		qrtx_tok_describe(&lx.tok, found, sizeof(found));
		rc = qrtx_lex_error(&lx, &lx.tok, "unexpected %s after the expression", found);
	}
	if (rc) {
		/* Leave c as it was: no orphan nodes, no symbols of a failed parse. */
		c->nexprs = nexprs;
		c->nsymbols = nsymbols;
		return rc;
	}
	*root = r;
	return 0;
}

static int eval(const struct qrtx_expr *nodes, size_t nnodes, int32_t i,
		const double *vals, uint32_t nvals, int depth, double *out)
{
	const struct qrtx_expr *e;
	double a = 0, b = 0, r;
	int err;

	if (i < 0 || (size_t)i >= nnodes || depth > QRTX_EXPR_MAX_DEPTH)
		return -EINVAL;
	e = &nodes[i];
	switch (e->kind) {
	case QRTX_E_NUM:
		r = e->num;
		goto done;
	case QRTX_E_SYM:
		if (!vals || e->sym >= nvals)
			return -EINVAL;
		r = vals[e->sym];
		goto done;
	case QRTX_E_ADD: case QRTX_E_SUB: case QRTX_E_MUL: case QRTX_E_DIV:
	case QRTX_E_POW:
		if (e->b >= i)
			return -EINVAL;
		err = eval(nodes, nnodes, e->b, vals, nvals, depth + 1, &b);
		if (err)
			return err;
		/* fall through */
	case QRTX_E_NEG: case QRTX_E_SIN: case QRTX_E_COS: case QRTX_E_TAN:
	case QRTX_E_EXP: case QRTX_E_LN: case QRTX_E_SQRT:
		if (e->a >= i)
			return -EINVAL;
		err = eval(nodes, nnodes, e->a, vals, nvals, depth + 1, &a);
		if (err)
			return err;
		break;
	default:
		return -EINVAL;
	}
	switch (e->kind) {
	case QRTX_E_NEG: r = -a; break;
	case QRTX_E_ADD: r = a + b; break;
	case QRTX_E_SUB: r = a - b; break;
	case QRTX_E_MUL: r = a * b; break;
	case QRTX_E_DIV: r = a / b; break;
	case QRTX_E_POW: r = pow(a, b); break;
	case QRTX_E_SIN: r = sin(a); break;
	case QRTX_E_COS: r = cos(a); break;
	case QRTX_E_TAN: r = tan(a); break;
	case QRTX_E_EXP: r = exp(a); break;
	case QRTX_E_LN: r = log(a); break;
	case QRTX_E_SQRT: r = sqrt(a); break;
	default: return -EINVAL;
	}
done:
	if (!isfinite(r))
		return -EDOM;
	*out = r;
	return 0;
}

int qrtx_expr_eval_nodes(const struct qrtx_expr *nodes, size_t nnodes, int32_t root,
			 const double *vals, uint32_t nvals, double *out)
{
	return eval(nodes, nnodes, root, vals, nvals, 1, out);
}

int qrtx_expr_eval(const struct qrtx_circuit *c, int32_t root,
		   const double *symbol_values, double *out)
{
	return eval(c->exprs, c->nexprs, root, symbol_values, c->nsymbols, 1, out);
}

void qrtx_fmt_double(char *buf, size_t len, double v)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "%s", isnan(v) ? "nan" : (v < 0 ? "-inf" : "inf"));
		return;
	}
	/* 17 significant digits always read back exactly; fewer often do. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v && signbit(strtod(buf, NULL)) == signbit(v))
			return;
	}
}

/*
 * Printing: binding strengths, loosest first. A child is parenthesized
 * when it binds more loosely than its place requires; the places are
 * chosen so that the text parses back to the very same tree.
 */
enum { P_SUM = 1, P_TERM, P_UNARY, P_POWER, P_ATOM };

struct printer {
	char *buf;
	size_t len;
	size_t n;		/* characters produced, written or not */
	const struct qrtx_circuit *c;
};

static void emit(struct printer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct printer *p, const char *fmt, ...)
{
	size_t room = p->n < p->len ? p->len - p->n : 0;
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(room ? p->buf + p->n : NULL, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		p->n += (size_t)k;
}

static int strength(const struct qrtx_expr *e)
{
	switch (e->kind) {
	case QRTX_E_ADD: case QRTX_E_SUB: return P_SUM;
	case QRTX_E_MUL: case QRTX_E_DIV: return P_TERM;
	case QRTX_E_NEG: return P_UNARY;
	case QRTX_E_POW: return P_POWER;
	case QRTX_E_NUM: return signbit(e->num) ? P_UNARY : P_ATOM;
	default: return P_ATOM;
	}
}

static int print_node(struct printer *p, int32_t i, int need, int depth)
{
	static const char *const fnames[] = {
		[QRTX_E_SIN] = "sin", [QRTX_E_COS] = "cos", [QRTX_E_TAN] = "tan",
		[QRTX_E_EXP] = "exp", [QRTX_E_LN] = "ln", [QRTX_E_SQRT] = "sqrt",
	};
	const struct qrtx_expr *e;
	char num[40];
	bool paren;
	int err = 0;

	if (i < 0 || (size_t)i >= p->c->nexprs || depth > QRTX_EXPR_MAX_DEPTH)
		return -EINVAL;
	e = &p->c->exprs[i];
	if (e->kind != QRTX_E_NUM && e->kind != QRTX_E_SYM &&
	    (e->a >= i || (e->kind >= QRTX_E_ADD && e->kind <= QRTX_E_POW && e->b >= i)))
		return -EINVAL;
	paren = strength(e) < need;
	if (paren)
		emit(p, "(");
	switch (e->kind) {
	case QRTX_E_NUM:
		if (e->num == M_PI)
			emit(p, "pi");
		else if (e->num == -M_PI)
			emit(p, "-pi");
		else {
			qrtx_fmt_double(num, sizeof(num), e->num);
			emit(p, "%s", num);
		}
		break;
	case QRTX_E_SYM:
		if (e->sym >= p->c->nsymbols)
			return -EINVAL;
		emit(p, "%s", p->c->symbols[e->sym]);
		break;
	case QRTX_E_NEG:
		emit(p, "-");
		err = print_node(p, e->a, P_UNARY, depth + 1);
		break;
	case QRTX_E_ADD: case QRTX_E_SUB:
		err = print_node(p, e->a, P_SUM, depth + 1);
		emit(p, e->kind == QRTX_E_ADD ? " + " : " - ");
		if (!err)
			err = print_node(p, e->b, P_TERM, depth + 1);
		break;
	case QRTX_E_MUL: case QRTX_E_DIV:
		err = print_node(p, e->a, P_TERM, depth + 1);
		emit(p, e->kind == QRTX_E_MUL ? "*" : "/");
		if (!err)
			err = print_node(p, e->b, P_UNARY, depth + 1);
		break;
	case QRTX_E_POW:
		err = print_node(p, e->a, P_ATOM, depth + 1);
		emit(p, "^");
		if (!err)
			err = print_node(p, e->b, P_UNARY, depth + 1);
		break;
	case QRTX_E_SIN: case QRTX_E_COS: case QRTX_E_TAN:
	case QRTX_E_EXP: case QRTX_E_LN: case QRTX_E_SQRT:
		emit(p, "%s(", fnames[e->kind]);
		err = print_node(p, e->a, P_SUM, depth + 1);
		emit(p, ")");
		break;
	default:
		return -EINVAL;
	}
	if (paren)
		emit(p, ")");
	return err;
}

int qrtx_expr_print(const struct qrtx_circuit *c, int32_t root, char *buf, size_t len)
{
	struct printer p = { .buf = buf, .len = len, .c = c };
	int err;

	if (buf && len)
		buf[0] = '\0';
	err = print_node(&p, root, P_SUM, 1);
	if (err)
		return err;
	if (p.n > INT32_MAX)
		return -EOVERFLOW;
	return (int)p.n;
}
