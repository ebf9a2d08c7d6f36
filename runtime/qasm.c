// SPDX-License-Identifier: MIT
/*
 * OpenQASM 2.0 front end: text to circuit IR.
 *
 * One pass over the tokens: declarations create registers, gate
 * definitions are stored as small bodies over their formal arguments, and
 * every use of a gate is expanded (register broadcast, then inlining of
 * user gates down to built-in gates) straight into the circuit, with its
 * parameters evaluated to numbers: QASM 2.0 has no free parameters.
 *
 * Leniencies, all documented in Documentation/runtime/qasm.rst:
 *  - a missing "OPENQASM 2.0;" header (some published files lack it);
 *  - a user definition of a qelib1 gate when qelib1.inc is included: it
 *    is checked and then ignored in favour of the built-in gate when its
 *    arity matches, and rejected when it does not.
 *
 * Every limit below bounds time or memory against hostile input; none is
 * near what a real circuit file needs.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/qasm.h"
#include "qasm_lex.h"

#define MAX_REG_SIZE		(1u << 20)	/* qubits, or bits, in all registers */
#define MAX_OPS			(1u << 22)	/* operations after expansion */
#define MAX_WORK		(1ull << 26)	/* expansion steps, emitted or not: a
						 * body statement, and each node of
						 * its parameters evaluated */
#define MAX_INCLUDE_DEPTH	16
#define MAX_GATE_DEPTH		256		/* user gates calling user gates */
#define MAX_FILE_SIZE		(256u << 20)
#define NO_FILE_NAME		"<input>"

enum body_kind { BODY_BUILTIN, BODY_USER, BODY_BARRIER };

/* One statement of a gate body, over the gate's formal arguments. */
struct body_op {
	enum body_kind kind;
	uint32_t target;	/* gate id (built-in) or index into p->gates */
	size_t params;		/* first expression root in p->roots */
	uint32_t nparams;
	size_t args;		/* first formal qubit index in p->args */
	uint32_t nargs;
	size_t cost;		/* expression nodes of its parameters */
	unsigned int line, col;
};

struct gate_def {
	char name[QRTX_NAME_MAX];
	uint32_t nparams, nqubits;
	size_t body, nbody;	/* range in p->body */
	uint32_t depth;		/* 1 + deepest user gate it calls */
	const char *file;	/* where it was defined, for messages */
	unsigned int line;
};

/* A qubit or bit argument as written: a whole register or one element. */
struct arg {
	const struct qrtx_reg *reg;
	bool indexed;
	uint32_t index;
	struct qrtx_tok tok;
};

struct parser {
	struct qrtx_circuit *c;
	struct qrtx_circuit *pool;	/* expressions of gate bodies (exprs only) */
	struct qrtx_error *err;
	struct qrtx_lexer *lx;		/* the file being read */
	bool no_includes;		/* text without a file name: only qelib1.inc */
	bool qelib1;

	struct gate_def *gates;
	size_t ngates, gates_cap;
	uint32_t *gate_hash;		/* open addressing: gate index + 1, 0 empty */
	size_t gate_hash_cap;		/* a power of two, at least 2 * ngates */
	struct body_op *body;
	size_t nbody, body_cap;
	int32_t *roots;
	size_t nroots, roots_cap;
	uint32_t *args;
	size_t nargs, args_cap;
	char **files;			/* names of included files, kept for messages */
	size_t nfiles, files_cap;

	/* Scratch for one top-level statement. */
	double *vals;
	size_t vals_cap;
	struct arg *qargs;
	size_t qargs_cap;
	uint32_t *qubits;
	size_t qubits_cap;

	/* Duplicate-operand check: stamp[q] == gen when q is already used. */
	uint32_t *stamp;
	size_t stamp_cap;
	uint32_t gen;

	uint64_t work;
};

/* Words that cannot name a register, gate or argument. */
static const char *const keywords[] = {
	"OPENQASM", "include", "qreg", "creg", "gate", "opaque", "barrier",
	"measure", "reset", "if", "pi", "sin", "cos", "tan", "exp", "ln", "sqrt",
};

static bool is_keyword(const struct qrtx_tok *t)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (qrtx_tok_is(t, keywords[i]))
			return true;
	return false;
}

/* Keywords and the two gates built into the language itself. */
static bool is_reserved(const struct qrtx_tok *t)
{
	return is_keyword(t) || qrtx_tok_is(t, "U") || qrtx_tok_is(t, "CX");
}

bool qrtx_qasm_name_ok(const char *name)
{
	struct qrtx_tok t = { .kind = QRTX_TK_ID, .s = name, .len = strlen(name) };

	if (!t.len || t.len > QRTX_IDENT_MAX ||
	    !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      name[0] == '_'))
		return false;
	for (size_t i = 1; i < t.len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return false;
	return !is_reserved(&t);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static int oom(struct parser *p)
{
	const struct qrtx_tok *t = &p->lx->tok;

	qrtx_error_set(p->err, QRTX_ERR_VALIDATION, -ENOMEM, p->lx->file, t->line, t->col,
		       "out of memory");
	return -ENOMEM;
}

/* Make room for n items of size elem in *arr. */
static int reserve(struct parser *p, void *arr, size_t *cap, size_t n, size_t elem)
{
	void **a = arr;
	size_t ncap;
	void *na;

	if (n <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < n) {
		if (ncap > SIZE_MAX / 2 / elem)
			return oom(p);
		ncap *= 2;
	}
	na = realloc(*a, ncap * elem);
	if (!na)
		return oom(p);
	*a = na;
	*cap = ncap;
	return 0;
}

static int error_at(struct parser *p, const struct qrtx_tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int error_at(struct parser *p, const struct qrtx_tok *t, const char *fmt, ...)
{
	char msg[sizeof(p->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return qrtx_lex_error(p->lx, t, "%s", msg);
}

static int next(struct parser *p)
{
	return qrtx_lex_next(p->lx);
}

static int expect(struct parser *p, enum qrtx_tok_kind kind, const char *what)
{
	char found[64];

	if (p->lx->tok.kind != kind) {
		qrtx_tok_describe(&p->lx->tok, found, sizeof(found));
		return error_at(p, &p->lx->tok, "expected %s, found %s", what, found);
	}
	return next(p);
}

/* The current token as a name; it must be an identifier. */
static int take_name(struct parser *p, const char *what, struct qrtx_tok *t, char *name)
{
	char found[64];

	*t = p->lx->tok;
	if (t->kind != QRTX_TK_ID) {
		qrtx_tok_describe(t, found, sizeof(found));
		return error_at(p, t, "expected %s, found %s", what, found);
	}
	memcpy(name, t->s, t->len);
	name[t->len] = '\0';
	return next(p);
}

static int too_large(struct parser *p, const struct qrtx_tok *site)
{
	return error_at(p, site, "circuit too large: more than %u operations after "
			"broadcasting over registers and inlining gates", MAX_OPS);
}

static int charge(struct parser *p, uint64_t units, const struct qrtx_tok *site)
{
	p->work += units;
	return p->work > MAX_WORK ? too_large(p, site) : 0;
}

static int append(struct parser *p, const struct qrtx_op *op, const struct qrtx_tok *site)
{
	if (p->c->nops >= MAX_OPS)
		return too_large(p, site);
	if (qrtx_circuit_append(p->c, op))
		return oom(p);
	return 0;
}

/* ---- gates ---------------------------------------------------------- */

/* Files exported by compilers can define thousands of gates: hash them. */
static size_t name_hash(const char *name)
{
	size_t h = 14695981039346656037ull;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ull;
	return h;
}

static const struct gate_def *find_user_gate(const struct parser *p, const char *name,
					     uint32_t *index)
{
	size_t mask = p->gate_hash_cap - 1;

	if (!p->gate_hash_cap)
		return NULL;
	for (size_t h = name_hash(name) & mask; p->gate_hash[h]; h = (h + 1) & mask) {
		uint32_t i = p->gate_hash[h] - 1;

		if (!strcmp(p->gates[i].name, name)) {
			if (index)
				*index = i;
			return &p->gates[i];
		}
	}
	return NULL;
}

static int add_user_gate(struct parser *p, const struct gate_def *def)
{
	size_t h;
	int err;

	err = reserve(p, &p->gates, &p->gates_cap, p->ngates + 1, sizeof(*p->gates));
	if (err)
		return err;
	if (2 * (p->ngates + 1) > p->gate_hash_cap) {
		size_t cap = p->gate_hash_cap ? 2 * p->gate_hash_cap : 64;
		uint32_t *t = calloc(cap, sizeof(*t));

		if (!t)
			return oom(p);
		free(p->gate_hash);
		p->gate_hash = t;
		p->gate_hash_cap = cap;
		for (size_t i = 0; i < p->ngates; i++) {
			size_t h = name_hash(p->gates[i].name) & (cap - 1);

			while (t[h])
				h = (h + 1) & (cap - 1);
			t[h] = (uint32_t)i + 1;
		}
	}
	p->gates[p->ngates] = *def;
	h = name_hash(def->name) & (p->gate_hash_cap - 1);
	while (p->gate_hash[h])
		h = (h + 1) & (p->gate_hash_cap - 1);
	p->gate_hash[h] = (uint32_t)++p->ngates;
	return 0;
}

/* The built-in gate a name denotes here, or -1: U and CX always, the rest
 * of the library only after include "qelib1.inc". */
static int builtin_gate(const struct parser *p, const char *name)
{
	int g;

	if (!strcmp(name, "U"))
		return QRTX_G_U;
	if (!strcmp(name, "CX"))
		return QRTX_G_CX;
	if (!p->qelib1)
		return -1;
	g = qrtx_gate_lookup(name);
	return g >= 0 && g < QRTX_G_COUNT && qrtx_gate_info(g) ? g : -1;
}

struct callee {
	bool user;
	uint32_t target;
	uint32_t nparams, nqubits;
};

static int find_gate(struct parser *p, const struct qrtx_tok *t, const char *name,
		     struct callee *out)
{
	const struct gate_def *g;
	int id = builtin_gate(p, name);

	if (id >= 0) {
		const struct qrtx_gate_info *gi = qrtx_gate_info(id);

		out->user = false;
		out->target = (uint32_t)id;
		out->nparams = gi->nparams;
		out->nqubits = gi->nqubits;
		return 0;
	}
	g = find_user_gate(p, name, &out->target);
	if (g) {
		out->user = true;
		out->nparams = g->nparams;
		out->nqubits = g->nqubits;
		return 0;
	}
	if (!p->qelib1 && qrtx_gate_lookup(name) >= 0)
		return error_at(p, t, "unknown gate '%s' (it is in qelib1.inc: "
				"add 'include \"qelib1.inc\";')", name);
	return error_at(p, t, "unknown gate '%s'", name);
}

static int check_arity(struct parser *p, const struct qrtx_tok *t, const char *name,
		       const struct callee *g, uint32_t nparams, uint32_t nqubits)
{
	if (nparams != g->nparams)
		return error_at(p, t, "gate '%s' takes %u %s, %u given", name, g->nparams,
				plural(g->nparams, "parameter", "parameters"), nparams);
	if (nqubits != g->nqubits)
		return error_at(p, t, "gate '%s' acts on %u %s, %u given", name, g->nqubits,
				plural(g->nqubits, "qubit", "qubits"), nqubits);
	return 0;
}

/* A user gate with a library gate's name: fine only with the same arity. */
static int check_shadow(struct parser *p, const struct qrtx_tok *t, const struct gate_def *g)
{
	const struct qrtx_gate_info *gi;
	int id;

	id = qrtx_gate_lookup(g->name);
	if (id < 0 || id >= QRTX_G_COUNT || !(gi = qrtx_gate_info(id)))
		return 0;
	if (gi->nparams == g->nparams && gi->nqubits == g->nqubits)
		return 0;
	return error_at(p, t, "gate '%s' (defined at %s:%u with %u %s and %u %s) conflicts "
			"with qelib1.inc's '%s' (%u %s, %u %s)", g->name, g->file, g->line,
			g->nparams, plural(g->nparams, "parameter", "parameters"),
			g->nqubits, plural(g->nqubits, "qubit", "qubits"), g->name,
			gi->nparams, plural(gi->nparams, "parameter", "parameters"),
			gi->nqubits, plural(gi->nqubits, "qubit", "qubits"));
}

/* ---- emitting operations -------------------------------------------- */

static void op_init(struct qrtx_op *op, enum qrtx_op_kind kind, const struct qrtx_cond *cond,
		    const struct qrtx_tok *site)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->cond = *cond;
	op->line = site->line;
	op->col = site->col;
}

static int emit_gate(struct parser *p, uint32_t id, const double *vals, uint32_t nvals,
		     const uint32_t *qubits, uint32_t nqubits, const struct qrtx_cond *cond,
		     const struct qrtx_tok *site)
{
	struct qrtx_op op;

	/* The gate table bounds both; a broken table must not overrun op. */
	if (nqubits > QRTX_GATE_MAX_QUBITS || nvals > QRTX_GATE_MAX_PARAMS)
		return error_at(p, site, "internal error: gate %u has too many operands", id);
	op_init(&op, QRTX_OP_GATE, cond, site);
	op.gate = (enum qrtx_gate_id)id;
	op.nqubits = nqubits;
	memcpy(op.qubits, qubits, nqubits * sizeof(*qubits));
	op.nparams = nvals;
	for (uint32_t i = 0; i < nvals; i++) {
		op.params[i].value = vals[i];
		op.params[i].expr = -1;
	}
	return append(p, &op, site);
}

static int emit_barrier(struct parser *p, const struct qrtx_tok *site)
{
	struct qrtx_cond none = { .creg = -1 };
	struct qrtx_op op;

	op_init(&op, QRTX_OP_BARRIER, &none, site);
	return append(p, &op, site);
}

/* Expand one use of user gate gi on global qubits with numeric params. */
static int inline_gate(struct parser *p, uint32_t gi, const double *vals,
		       const uint32_t *qubits, const struct qrtx_cond *cond,
		       const struct qrtx_tok *site)
{
	const struct gate_def *g = &p->gates[gi];
	int err = 0;

	for (size_t k = 0; k < g->nbody && !err; k++) {
		const struct body_op *b = &p->body[g->body + k];
		double vbuf[QRTX_GATE_MAX_PARAMS], *v = vbuf;
		uint32_t qbuf[QRTX_GATE_MAX_QUBITS], *q = qbuf;

		/* the statement and the evaluation of its parameters: an
		 * empty gate called with long expressions emits nothing,
		 * but evaluating them is work all the same */
		err = charge(p, 1 + (uint64_t)b->cost, site);
		if (err)
			break;
		if (b->nparams > QRTX_GATE_MAX_PARAMS)
			v = malloc(b->nparams * sizeof(*v));
		if (b->nargs > QRTX_GATE_MAX_QUBITS)
			q = malloc(b->nargs * sizeof(*q));
		if (!v || !q) {
			err = oom(p);
			goto next;
		}
		for (uint32_t j = 0; j < b->nparams && !err; j++) {
			err = qrtx_expr_eval_nodes(p->pool->exprs, p->pool->nexprs,
						   p->roots[b->params + j], vals, g->nparams,
						   &v[j]);
			if (err)
				err = error_at(p, site, "in this use of gate '%s': a parameter "
					       "on line %u of its definition %s", g->name, b->line,
					       err == -EDOM ? "is not a finite number"
					       : "cannot be evaluated");
		}
		for (uint32_t j = 0; j < b->nargs && !err; j++)
			q[j] = qubits[p->args[b->args + j]];
		if (err)
			goto next;
		switch (b->kind) {
		case BODY_BUILTIN:
			err = emit_gate(p, b->target, v, b->nparams, q, b->nargs, cond, site);
			break;
		case BODY_USER:
			err = inline_gate(p, b->target, v, q, cond, site);
			break;
		case BODY_BARRIER:
			err = emit_barrier(p, site);
			break;
		}
next:
		if (v != vbuf)
			free(v);
		if (q != qbuf)
			free(q);
	}
	return err;
}

/* ---- expressions ---------------------------------------------------- */

static int resolve_toplevel(void *ctx, const struct qrtx_lexer *lx,
			    const struct qrtx_tok *name, struct qrtx_expr *node)
{
	(void)ctx;
	(void)node;
	return qrtx_lex_error(lx, name, "unknown name '%.*s' in expression (only pi and "
			      "the parameters of an enclosing gate definition can be named)",
			      (int)name->len, name->s);
}

/* Parse and evaluate an expression outside any gate definition. */
static int parse_value(struct parser *p, double *out)
{
	static const struct qrtx_expr_names names = { .resolve = resolve_toplevel };
	struct qrtx_tok start = p->lx->tok;
	size_t mark = p->pool->nexprs;
	int32_t root;
	int err;

	err = qrtx_expr_parse_tokens(p->lx, p->pool, &names, &root);
	if (!err) {
		err = qrtx_expr_eval_nodes(p->pool->exprs, p->pool->nexprs, root, NULL, 0, out);
		if (err)
			err = error_at(p, &start, "parameter %s", err == -EDOM ?
				       "is not a finite number" : "cannot be evaluated");
	}
	p->pool->nexprs = mark;	/* evaluated: the tree is no longer needed */
	return err;
}

/* ---- arguments ------------------------------------------------------ */

static int parse_index(struct parser *p, uint32_t *index)
{
	struct qrtx_tok t;
	char found[64];
	int err;

	err = next(p);	/* '[' */
	if (err)
		return err;
	t = p->lx->tok;
	if (t.kind != QRTX_TK_INT) {
		qrtx_tok_describe(&t, found, sizeof(found));
		return error_at(p, &t, "expected a non-negative integer index, found %s", found);
	}
	if (!t.ival_ok || t.ival > UINT32_MAX)
		return error_at(p, &t, "index %.*s is out of range", (int)t.len, t.s);
	*index = (uint32_t)t.ival;
	err = next(p);
	return err ? err : expect(p, QRTX_TK_RBRACK, "']'");
}

static int parse_arg(struct parser *p, bool classical, struct arg *a)
{
	const struct qrtx_reg *other;
	char name[QRTX_NAME_MAX];
	int err;

	memset(a, 0, sizeof(*a));
	err = take_name(p, classical ? "a classical register" : "a quantum register",
			&a->tok, name);
	if (err)
		return err;
	a->reg = classical ? qrtx_circuit_find_creg(p->c, name)
			   : qrtx_circuit_find_qreg(p->c, name);
	if (!a->reg) {
		other = classical ? qrtx_circuit_find_qreg(p->c, name)
				  : qrtx_circuit_find_creg(p->c, name);
		if (other)
			return error_at(p, &a->tok, "'%s' is a %s register; a %s register is "
					"expected here", name, classical ? "quantum" : "classical",
					classical ? "classical" : "quantum");
		return error_at(p, &a->tok, "undeclared %s register '%s'",
				classical ? "classical" : "quantum", name);
	}
	if (p->lx->tok.kind != QRTX_TK_LBRACK)
		return 0;
	a->indexed = true;
	err = parse_index(p, &a->index);
	if (err)
		return err;
	if (a->index >= a->reg->size)
		return error_at(p, &a->tok, "index %u is out of range for register '%s' of size %u",
				a->index, a->reg->name, a->reg->size);
	return 0;
}

/* Comma-separated quantum arguments into p->qargs; returns the count. */
static int parse_qargs(struct parser *p, uint32_t *n)
{
	int err;

	*n = 0;
	for (;;) {
		err = reserve(p, &p->qargs, &p->qargs_cap, *n + 1, sizeof(*p->qargs));
		if (!err)
			err = parse_arg(p, false, &p->qargs[*n]);
		if (err)
			return err;
		(*n)++;
		if (p->lx->tok.kind != QRTX_TK_COMMA)
			return 0;
		err = next(p);
		if (err)
			return err;
	}
}

/* Size of a broadcast over the whole registers among args (1 if none). */
static int broadcast_size(struct parser *p, const struct arg *args, uint32_t n, uint32_t *size)
{
	const struct arg *first = NULL;

	*size = 1;
	for (uint32_t i = 0; i < n; i++) {
		if (args[i].indexed)
			continue;
		if (!first) {
			first = &args[i];
			*size = args[i].reg->size;
		} else if (args[i].reg->size != *size) {
			return error_at(p, &args[i].tok, "register sizes differ: '%s' has "
					"%u qubits, '%s' has %u", first->reg->name,
					first->reg->size, args[i].reg->name, args[i].reg->size);
		}
	}
	return 0;
}

static uint32_t element(const struct arg *a, uint32_t i)
{
	return a->reg->offset + (a->indexed ? a->index : i);
}

static void new_stamp(struct parser *p)
{
	if (++p->gen == 0) {
		memset(p->stamp, 0, p->stamp_cap * sizeof(*p->stamp));
		p->gen = 1;
	}
}

/* Element i of a broadcast into p->qubits, refusing a repeated qubit. */
static int resolve_qubits(struct parser *p, const struct arg *args, uint32_t n, uint32_t i,
			  const char *gate)
{
	new_stamp(p);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t q = element(&args[k], i);

		if (p->stamp[q] == p->gen)
			return error_at(p, &args[k].tok, "qubit %s[%u] is used more than once "
					"in one '%s'", args[k].reg->name, q - args[k].reg->offset,
					gate);
		p->stamp[q] = p->gen;
		p->qubits[k] = q;
	}
	return 0;
}

/* ---- statements ----------------------------------------------------- */

static const struct qrtx_cond unconditional = { .creg = -1 };

static int parse_gate_call(struct parser *p, const struct qrtx_cond *cond)
{
	char name[QRTX_NAME_MAX];
	struct qrtx_tok t;
	struct callee g;
	uint32_t nvals = 0, nargs = 0, size = 0;
	int err;

	err = take_name(p, "a statement", &t, name);
	if (!err)
		err = find_gate(p, &t, name, &g);
	if (err)
		return err;
	if (p->lx->tok.kind == QRTX_TK_LPAREN) {
		err = next(p);
		/* A list without a trailing comma: "(a,)" is an error. */
		while (!err && (nvals || p->lx->tok.kind != QRTX_TK_RPAREN)) {
			err = reserve(p, &p->vals, &p->vals_cap, nvals + 1, sizeof(*p->vals));
			if (!err)
				err = parse_value(p, &p->vals[nvals]);
			if (err)
				return err;
			nvals++;
			if (p->lx->tok.kind != QRTX_TK_COMMA)
				break;
			err = next(p);
		}
		if (!err)
			err = expect(p, QRTX_TK_RPAREN, "',' or ')'");
		if (err)
			return err;
	}
	err = parse_qargs(p, &nargs);
	if (!err)
		err = expect(p, QRTX_TK_SEMI, "',' or ';'");
	if (!err)
		err = check_arity(p, &t, name, &g, nvals, nargs);
	if (!err)
		err = broadcast_size(p, p->qargs, nargs, &size);
	if (!err)
		err = reserve(p, &p->qubits, &p->qubits_cap, nargs, sizeof(*p->qubits));
	for (uint32_t i = 0; i < size && !err; i++) {
		err = charge(p, 1 + nargs, &t);
		if (!err)
			err = resolve_qubits(p, p->qargs, nargs, i, name);
		if (err)
			break;
		if (g.user)
			err = inline_gate(p, g.target, p->vals, p->qubits, cond, &t);
		else
			err = emit_gate(p, g.target, p->vals, nvals, p->qubits, nargs, cond, &t);
	}
	return err;
}

static int parse_measure(struct parser *p, const struct qrtx_cond *cond)
{
	struct qrtx_tok t = p->lx->tok;
	struct arg q, c;
	uint32_t n;
	int err;

	err = next(p);
	if (!err)
		err = parse_arg(p, false, &q);
	if (!err)
		err = expect(p, QRTX_TK_ARROW, "'->'");
	if (!err)
		err = parse_arg(p, true, &c);
	if (!err)
		err = expect(p, QRTX_TK_SEMI, "';'");
	if (err)
		return err;
	if (q.indexed != c.indexed)
		return error_at(p, q.indexed ? &c.tok : &q.tok, "measure needs a qubit and a bit, "
				"or two whole registers of the same size");
	n = q.indexed ? 1 : q.reg->size;
	if (!q.indexed && c.reg->size != n)
		return error_at(p, &c.tok, "register sizes differ: '%s' has %u qubits, '%s' has "
				"%u bits", q.reg->name, n, c.reg->name, c.reg->size);
	for (uint32_t i = 0; i < n && !err; i++) {
		struct qrtx_op op;

		err = charge(p, 1, &t);
		if (err)
			break;
		op_init(&op, QRTX_OP_MEASURE, cond, &t);
		op.nqubits = 1;
		op.qubits[0] = element(&q, i);
		op.clbit = element(&c, i);
		err = append(p, &op, &t);
	}
	return err;
}

static int parse_reset(struct parser *p, const struct qrtx_cond *cond)
{
	struct qrtx_tok t = p->lx->tok;
	struct arg q = { 0 };
	uint32_t n;
	int err;

	err = next(p);
	if (!err)
		err = parse_arg(p, false, &q);
	if (!err)
		err = expect(p, QRTX_TK_SEMI, "';'");
	n = q.indexed ? 1 : (q.reg ? q.reg->size : 0);
	for (uint32_t i = 0; i < n && !err; i++) {
		struct qrtx_op op;

		err = charge(p, 1, &t);
		if (err)
			break;
		op_init(&op, QRTX_OP_RESET, cond, &t);
		op.nqubits = 1;
		op.qubits[0] = element(&q, i);
		err = append(p, &op, &t);
	}
	return err;
}

static int parse_barrier(struct parser *p)
{
	struct qrtx_tok t = p->lx->tok;
	uint32_t n;
	int err;

	err = next(p);
	if (!err)
		err = parse_qargs(p, &n);	/* checked, then fenced as a whole */
	if (!err)
		err = expect(p, QRTX_TK_SEMI, "',' or ';'");
	return err ? err : emit_barrier(p, &t);
}

static int parse_if(struct parser *p)
{
	struct qrtx_tok t = p->lx->tok, v;
	struct qrtx_cond cond;
	struct arg c;
	char found[64];
	int err;

	err = next(p);
	if (!err)
		err = expect(p, QRTX_TK_LPAREN, "'('");
	if (!err)
		err = parse_arg(p, true, &c);
	if (err)
		return err;
	if (c.indexed)
		return error_at(p, &c.tok, "a condition compares a whole classical register, "
				"not one bit");
	err = expect(p, QRTX_TK_EQEQ, "'=='");
	if (err)
		return err;
	v = p->lx->tok;
	if (v.kind != QRTX_TK_INT) {
		qrtx_tok_describe(&v, found, sizeof(found));
		return error_at(p, &v, "expected a non-negative integer, found %s", found);
	}
	if (!v.ival_ok)
		return error_at(p, &v, "value %.*s does not fit in 64 bits", (int)v.len, v.s);
	cond.creg = (int32_t)(c.reg - p->c->cregs);
	cond.value = v.ival;
	err = next(p);
	if (!err)
		err = expect(p, QRTX_TK_RPAREN, "')'");
	if (err)
		return err;
	t = p->lx->tok;
	if (qrtx_tok_is(&t, "measure"))
		return parse_measure(p, &cond);
	if (qrtx_tok_is(&t, "reset"))
		return parse_reset(p, &cond);
	if (t.kind == QRTX_TK_ID && is_keyword(&t))
		return error_at(p, &t, "'%.*s' cannot be conditioned: 'if' takes a gate, "
				"'measure' or 'reset'", (int)t.len, t.s);
	return parse_gate_call(p, &cond);
}

static int parse_register(struct parser *p, bool classical)
{
	struct qrtx_tok t, n;
	char name[QRTX_NAME_MAX], found[64];
	uint32_t total = classical ? p->c->nclbits : p->c->nqubits;
	const char *unit = classical ? "bits" : "qubits";
	int err;

	err = next(p);
	if (!err)
		err = take_name(p, "a register name", &t, name);
	if (err)
		return err;
	if (is_reserved(&t))
		return error_at(p, &t, "'%s' is a reserved word and cannot name a register", name);
	if (qrtx_circuit_find_qreg(p->c, name) || qrtx_circuit_find_creg(p->c, name))
		return error_at(p, &t, "register '%s' is already declared", name);
	err = expect(p, QRTX_TK_LBRACK, "'['");
	if (err)
		return err;
	n = p->lx->tok;
	if (n.kind != QRTX_TK_INT) {
		qrtx_tok_describe(&n, found, sizeof(found));
		return error_at(p, &n, "expected the register size, found %s", found);
	}
	if (n.ival_ok && n.ival == 0)
		return error_at(p, &n, "register '%s' must have at least one element", name);
	if (!n.ival_ok || n.ival > MAX_REG_SIZE || total + n.ival > MAX_REG_SIZE)
		return error_at(p, &n, "register '%s' of size %.*s is too large: at most %u %s "
				"in all registers together", name, (int)n.len, n.s,
				MAX_REG_SIZE, unit);
	err = next(p);
	if (!err)
		err = expect(p, QRTX_TK_RBRACK, "']'");
	if (!err)
		err = expect(p, QRTX_TK_SEMI, "';'");
	if (err)
		return err;
	err = classical ? qrtx_circuit_add_creg(p->c, name, (uint32_t)n.ival)
			: qrtx_circuit_add_qreg(p->c, name, (uint32_t)n.ival);
	if (err)
		return oom(p);
	if (!classical && p->c->nqubits > p->stamp_cap) {
		size_t old = p->stamp_cap;
		uint32_t *s = realloc(p->stamp, p->c->nqubits * sizeof(*s));

		if (!s)
			return oom(p);
		memset(s + old, 0, (p->c->nqubits - old) * sizeof(*s));
		p->stamp = s;
		p->stamp_cap = p->c->nqubits;
	}
	return 0;
}

/* ---- gate definitions ----------------------------------------------- */

struct gate_ctx {
	struct parser *p;
	const char *gname;
	char (*formals)[QRTX_NAME_MAX];	/* parameters, then qubits */
	uint32_t nparams, nqubits;
	size_t cap;
	uint32_t *seen;			/* per formal qubit: duplicate check */
	uint32_t gen;
	uint32_t depth;
};

static int find_formal(const struct gate_ctx *g, const struct qrtx_tok *t, uint32_t from,
		       uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		if (strlen(g->formals[i]) == t->len && !memcmp(g->formals[i], t->s, t->len))
			return (int)i;
	return -1;
}

static int resolve_formal(void *ctx, const struct qrtx_lexer *lx, const struct qrtx_tok *name,
			  struct qrtx_expr *node)
{
	const struct gate_ctx *g = ctx;
	int i = find_formal(g, name, 0, g->nparams);

	if (i < 0) {
		if (find_formal(g, name, g->nparams, g->nparams + g->nqubits) >= 0)
			return qrtx_lex_error(lx, name, "'%.*s' is a qubit argument of gate '%s', "
					      "not a parameter", (int)name->len, name->s, g->gname);
		return qrtx_lex_error(lx, name, "unknown parameter '%.*s' in gate '%s'",
				      (int)name->len, name->s, g->gname);
	}
	node->kind = QRTX_E_SYM;
	node->sym = (uint32_t)i;
	return 0;
}

static int add_formal(struct gate_ctx *g, bool qubit)
{
	struct parser *p = g->p;
	struct qrtx_tok t;
	char name[QRTX_NAME_MAX];
	size_t n = g->nparams + g->nqubits;
	int err;

	err = take_name(p, qubit ? "a qubit argument name" : "a parameter name", &t, name);
	if (err)
		return err;
	if (is_reserved(&t))
		return error_at(p, &t, "'%s' is a reserved word and cannot name an argument", name);
	if (find_formal(g, &t, 0, (uint32_t)n) >= 0)
		return error_at(p, &t, "argument '%s' of gate '%s' is declared twice", name,
				g->gname);
	err = reserve(p, &g->formals, &g->cap, n + 1, sizeof(*g->formals));
	if (err)
		return err;
	strcpy(g->formals[n], name);
	if (qubit)
		g->nqubits++;
	else
		g->nparams++;
	return 0;
}

/* Qubit arguments of a body statement, as formal indexes into p->args. */
static int parse_body_args(struct gate_ctx *g, struct body_op *b)
{
	struct parser *p = g->p;
	struct qrtx_tok t;
	char name[QRTX_NAME_MAX];
	int i, err;

	b->args = p->nargs;
	if (++g->gen == 0) {
		memset(g->seen, 0, g->nqubits * sizeof(*g->seen));
		g->gen = 1;
	}
	for (;;) {
		err = take_name(p, "a qubit argument", &t, name);
		if (err)
			return err;
		i = find_formal(g, &t, g->nparams, g->nparams + g->nqubits);
		if (i < 0) {
			if (find_formal(g, &t, 0, g->nparams) >= 0)
				return error_at(p, &t, "'%s' is a parameter of gate '%s', not a "
						"qubit argument", name, g->gname);
			return error_at(p, &t, "unknown qubit argument '%s' in gate '%s'", name,
					g->gname);
		}
		if (p->lx->tok.kind == QRTX_TK_LBRACK)
			return error_at(p, &p->lx->tok, "qubit arguments cannot be indexed inside "
					"a gate definition");
		i -= (int)g->nparams;
		if (g->seen[i] == g->gen)
			return error_at(p, &t, "qubit argument '%s' is used more than once in one "
					"operation", name);
		g->seen[i] = g->gen;
		err = reserve(p, &p->args, &p->args_cap, p->nargs + 1, sizeof(*p->args));
		if (err)
			return err;
		p->args[p->nargs++] = (uint32_t)i;
		b->nargs++;
		if (p->lx->tok.kind != QRTX_TK_COMMA)
			return 0;
		err = next(p);
		if (err)
			return err;
	}
}

static int parse_body_stmt(struct gate_ctx *g)
{
	struct qrtx_expr_names names = { .resolve = resolve_formal, .ctx = g };
	struct parser *p = g->p;
	struct qrtx_tok t = p->lx->tok;
	char name[QRTX_NAME_MAX], found[64];
	struct body_op b = { .line = t.line, .col = t.col };
	struct callee callee;
	int err;

	if (t.kind != QRTX_TK_ID) {
		qrtx_tok_describe(&t, found, sizeof(found));
		return error_at(p, &t, "expected an operation or '}' in the body of gate '%s', "
				"found %s", g->gname, found);
	}
	if (qrtx_tok_is(&t, "barrier")) {
		b.kind = BODY_BARRIER;
		err = next(p);
		if (!err)
			err = parse_body_args(g, &b);
		if (!err)
			err = expect(p, QRTX_TK_SEMI, "',' or ';'");
		goto add;
	}
	if (is_keyword(&t))
		return error_at(p, &t, "'%.*s' is not allowed inside a gate definition",
				(int)t.len, t.s);
	err = take_name(p, "an operation", &t, name);
	if (!err)
		err = find_gate(p, &t, name, &callee);
	if (err)
		return err;
	b.kind = callee.user ? BODY_USER : BODY_BUILTIN;
	b.target = callee.target;
	b.params = p->nroots;
	b.cost = p->pool->nexprs;
	if (p->lx->tok.kind == QRTX_TK_LPAREN) {
		err = next(p);
		while (!err && (b.nparams || p->lx->tok.kind != QRTX_TK_RPAREN)) {
			err = reserve(p, &p->roots, &p->roots_cap, p->nroots + 1,
				      sizeof(*p->roots));
			if (!err)
				err = qrtx_expr_parse_tokens(p->lx, p->pool, &names,
							     &p->roots[p->nroots]);
			if (err)
				return err;
			p->nroots++;
			b.nparams++;
			if (p->lx->tok.kind != QRTX_TK_COMMA)
				break;
			err = next(p);
		}
		if (!err)
			err = expect(p, QRTX_TK_RPAREN, "',' or ')'");
	}
	b.cost = p->pool->nexprs - b.cost;
	if (!err)
		err = parse_body_args(g, &b);
	if (!err)
		err = expect(p, QRTX_TK_SEMI, "',' or ';'");
	if (!err)
		err = check_arity(p, &t, name, &callee, b.nparams, b.nargs);
	if (!err && callee.user && p->gates[callee.target].depth + 1 > g->depth) {
		g->depth = p->gates[callee.target].depth + 1;
		if (g->depth > MAX_GATE_DEPTH)
			err = error_at(p, &t, "gate definitions nest more than %d levels deep",
				       MAX_GATE_DEPTH);
	}
add:
	if (err)
		return err;
	err = reserve(p, &p->body, &p->body_cap, p->nbody + 1, sizeof(*p->body));
	if (!err)
		p->body[p->nbody++] = b;
	return err;
}

static int parse_gate_def_body(struct parser *p, struct gate_ctx *g, const struct qrtx_tok *name)
{
	struct gate_def def;
	int err;

	if (p->lx->tok.kind == QRTX_TK_LPAREN) {
		err = next(p);
		while (!err && (g->nparams || p->lx->tok.kind != QRTX_TK_RPAREN)) {
			err = add_formal(g, false);
			if (err || p->lx->tok.kind != QRTX_TK_COMMA)
				break;
			err = next(p);
		}
		if (!err)
			err = expect(p, QRTX_TK_RPAREN, "',' or ')'");
		if (err)
			return err;
	}
	for (;;) {
		err = add_formal(g, true);
		if (err)
			return err;
		if (p->lx->tok.kind != QRTX_TK_COMMA)
			break;
		err = next(p);
		if (err)
			return err;
	}
	err = expect(p, QRTX_TK_LBRACE, "',' or '{'");
	if (err)
		return err;
	g->seen = calloc(g->nqubits, sizeof(*g->seen));
	if (!g->seen)
		return oom(p);

	memset(&def, 0, sizeof(def));
	strcpy(def.name, g->gname);
	def.nparams = g->nparams;
	def.nqubits = g->nqubits;
	def.body = p->nbody;
	def.file = p->lx->file;
	def.line = name->line;
	g->depth = 1;
	while (p->lx->tok.kind != QRTX_TK_RBRACE) {
		if (p->lx->tok.kind == QRTX_TK_EOF)
			return error_at(p, name, "definition of gate '%s' is not closed ('}' "
					"missing)", g->gname);
		err = parse_body_stmt(g);
		if (err)
			return err;
	}
	err = next(p);
	if (err)
		return err;
	def.nbody = p->nbody - def.body;
	def.depth = g->depth;
	if (p->qelib1) {
		err = check_shadow(p, name, &def);
		if (err)
			return err;
	}
	return add_user_gate(p, &def);
}

static int parse_gate_def(struct parser *p)
{
	struct gate_ctx g = { .p = p };
	char name[QRTX_NAME_MAX];
	const struct gate_def *prev;
	struct qrtx_tok t;
	int err;

	err = next(p);
	if (!err)
		err = take_name(p, "a gate name", &t, name);
	if (err)
		return err;
	if (qrtx_tok_is(&t, "U") || qrtx_tok_is(&t, "CX"))
		return error_at(p, &t, "'%s' is built into OpenQASM and cannot be redefined", name);
	if (is_reserved(&t))
		return error_at(p, &t, "'%s' is a reserved word and cannot name a gate", name);
	prev = find_user_gate(p, name, NULL);
	if (prev)
		return error_at(p, &t, "gate '%s' is already defined at %s:%u", name, prev->file,
				prev->line);
	g.gname = name;
	err = parse_gate_def_body(p, &g, &t);
	free(g.formals);
	free(g.seen);
	return err;
}

/* ---- files ---------------------------------------------------------- */

static int read_whole(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, n = 0;
	char *buf = NULL;
	int err = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (n == cap) {
			char *nb;

			if (cap >= MAX_FILE_SIZE) {
				err = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				err = errno ? -errno : -EIO;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int parse_source(struct parser *p, const char *text, size_t len, const char *file,
			int depth);

static int enable_qelib1(struct parser *p, const struct qrtx_tok *t)
{
	int err;

	if (p->qelib1)
		return 0;
	p->qelib1 = true;
	for (size_t i = 0; i < p->ngates; i++) {
		err = check_shadow(p, t, &p->gates[i]);
		if (err)
			return err;
	}
	return 0;
}

/* Path of an include, relative to the directory of the including file. */
static char *include_path(const char *from, const char *name, size_t len)
{
	const char *slash = strrchr(from, '/');
	size_t dir = (name[0] == '/' || !slash) ? 0 : (size_t)(slash - from) + 1;
	char *path = malloc(dir + len + 1);

	if (!path)
		return NULL;
	memcpy(path, from, dir);
	memcpy(path + dir, name, len);
	path[dir + len] = '\0';
	return path;
}

static int parse_include(struct parser *p, int depth)
{
	struct qrtx_tok t;
	char found[64], *path, *text;
	size_t len;
	int err;

	err = next(p);
	if (err)
		return err;
	t = p->lx->tok;
	if (t.kind != QRTX_TK_STRING) {
		qrtx_tok_describe(&t, found, sizeof(found));
		return error_at(p, &t, "expected a file name in double quotes, found %s", found);
	}
	err = next(p);
	if (!err)
		err = expect(p, QRTX_TK_SEMI, "';'");
	if (err)
		return err;
	if (t.len == strlen("qelib1.inc") && !memcmp(t.s, "qelib1.inc", t.len))
		return enable_qelib1(p, &t);
	if (!t.len || memchr(t.s, '\0', t.len))
		return error_at(p, &t, "invalid include file name");
	if (p->no_includes)
		return error_at(p, &t, "cannot include \"%.*s\": input without a file name can "
				"only include \"qelib1.inc\"", (int)t.len, t.s);
	if (depth + 1 > MAX_INCLUDE_DEPTH)
		return error_at(p, &t, "includes nest more than %d levels deep (does a file "
				"include itself?)", MAX_INCLUDE_DEPTH);
	path = include_path(p->lx->file, t.s, t.len);
	if (!path)
		return oom(p);
	err = reserve(p, &p->files, &p->files_cap, p->nfiles + 1, sizeof(*p->files));
	if (err) {
		free(path);
		return err;
	}
	p->files[p->nfiles++] = path;
	err = read_whole(path, &text, &len);
	if (err)
		return error_at(p, &t, "cannot include \"%s\": %s", path, strerror(-err));
	err = parse_source(p, text, len, path, depth + 1);
	free(text);
	return err;
}

static int parse_version(struct parser *p)
{
	struct qrtx_tok v;
	char found[64];
	int err;

	err = next(p);
	if (err)
		return err;
	v = p->lx->tok;
	if (v.kind != QRTX_TK_REAL && v.kind != QRTX_TK_INT) {
		qrtx_tok_describe(&v, found, sizeof(found));
		return error_at(p, &v, "expected a version number, found %s", found);
	}
	if (v.num != 2.0)
		return error_at(p, &v, "unsupported OpenQASM version %.*s: only 2.0 is supported",
				(int)v.len, v.s);
	err = next(p);
	return err ? err : expect(p, QRTX_TK_SEMI, "';'");
}

static int parse_statement(struct parser *p, int depth)
{
	struct qrtx_tok t = p->lx->tok;
	char found[64];

	if (t.kind != QRTX_TK_ID) {
		qrtx_tok_describe(&t, found, sizeof(found));
		return error_at(p, &t, "expected a statement, found %s", found);
	}
	if (qrtx_tok_is(&t, "OPENQASM"))
		return error_at(p, &t, "the OPENQASM version must be the first statement");
	if (qrtx_tok_is(&t, "include"))
		return parse_include(p, depth);
	if (qrtx_tok_is(&t, "qreg"))
		return parse_register(p, false);
	if (qrtx_tok_is(&t, "creg"))
		return parse_register(p, true);
	if (qrtx_tok_is(&t, "gate"))
		return parse_gate_def(p);
	if (qrtx_tok_is(&t, "opaque"))
		return error_at(p, &t, "opaque gates are not supported");
	if (qrtx_tok_is(&t, "measure"))
		return parse_measure(p, &unconditional);
	if (qrtx_tok_is(&t, "reset"))
		return parse_reset(p, &unconditional);
	if (qrtx_tok_is(&t, "barrier"))
		return parse_barrier(p);
	if (qrtx_tok_is(&t, "if"))
		return parse_if(p);
	if (is_keyword(&t))
		return error_at(p, &t, "'%.*s' cannot start a statement", (int)t.len, t.s);
	return parse_gate_call(p, &unconditional);
}

static int parse_source(struct parser *p, const char *text, size_t len, const char *file,
			int depth)
{
	struct qrtx_lexer lx, *outer = p->lx;
	int err;

	p->lx = &lx;
	err = qrtx_lex_init(&lx, text, len, file, p->err);
	if (!err && depth == 0 && lx.tok.kind == QRTX_TK_EOF)
		err = error_at(p, &lx.tok, "empty program: expected 'OPENQASM 2.0;'");
	if (!err && qrtx_tok_is(&lx.tok, "OPENQASM"))
		err = parse_version(p);
	while (!err && lx.tok.kind != QRTX_TK_EOF)
		err = parse_statement(p, depth);
	p->lx = outer;
	return err;
}

static void parser_free(struct parser *p)
{
	qrtx_circuit_free(p->pool);
	free(p->gates);
	free(p->gate_hash);
	free(p->body);
	free(p->roots);
	free(p->args);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p->vals);
	free(p->qargs);
	free(p->qubits);
	free(p->stamp);
}

/* The circuit's name: the file's base name without its extension. */
static void set_name(struct qrtx_circuit *c, const char *file)
{
	const char *base = strrchr(file, '/');
	const char *dot;
	size_t n;

	base = base ? base + 1 : file;
	dot = strrchr(base, '.');
	n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	if (n >= sizeof(c->name))
		n = sizeof(c->name) - 1;
	memcpy(c->name, base, n);
	c->name[n] = '\0';
}

int qrtx_qasm_parse(const char *text, size_t len, const char *filename,
		    struct qrtx_circuit **out, struct qrtx_error *err)
{
	struct parser p = { .err = err };
	int rc;

	*out = NULL;
	if (!text && len) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, filename, 0, 0, "no text given");
		return -EINVAL;
	}
	p.no_includes = !filename;
	p.c = qrtx_circuit_new();
	p.pool = qrtx_circuit_new();
	if (!p.c || !p.pool) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -ENOMEM, filename, 0, 0, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	if (filename)
		set_name(p.c, filename);
	rc = parse_source(&p, text ? text : "", len, filename ? filename : NO_FILE_NAME, 0);
	if (rc && err && err->category == QRTX_ERR_NONE)
		qrtx_error_set(err, QRTX_ERR_VALIDATION, rc, filename, 0, 0, "invalid input");
out:
	parser_free(&p);
	if (rc) {
		qrtx_circuit_free(p.c);
		return rc;
	}
	*out = p.c;
	return 0;
}

int qrtx_qasm_parse_file(const char *path, struct qrtx_circuit **out, struct qrtx_error *err)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if (!path) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0, "no file given");
		return -EINVAL;
	}
	rc = read_whole(path, &text, &len);
	if (rc) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, rc, path, 0, 0, "cannot read: %s",
			       strerror(-rc));
		return rc;
	}
	rc = qrtx_qasm_parse(text, len, path, out, err);
	free(text);
	return rc;
}
