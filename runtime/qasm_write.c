// SPDX-License-Identifier: MIT
/*
 * Circuit IR to OpenQASM 2.0 text that qrtx_qasm_parse reads back to the
 * same operations: every number is printed with the fewest digits that
 * read back to the same double (multiples of pi as "3*pi/4" when that
 * text evaluates to exactly the same double), one operation per line.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/expr.h"
#include "qrtx/qasm.h"
#include "qasm_lex.h"

struct sbuf {
	char *s;
	size_t n, cap;
	int err;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	size_t room, ncap;
	va_list ap;
	char *ns;
	int k;

	if (b->err)
		return;
	for (;;) {
		room = b->cap - b->n;

		va_start(ap, fmt);
		k = vsnprintf(b->s + b->n, room, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->err = -EINVAL;
			return;
		}
		if ((size_t)k < room) {
			b->n += (size_t)k;
			return;
		}
		ncap = b->cap * 2;
		while (ncap - b->n <= (size_t)k)
			ncap *= 2;
		ns = realloc(b->s, ncap);
		if (!ns) {
			b->err = -ENOMEM;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

/*
 * Print v as a multiple of pi when the text our parser would read
 * evaluates, operation by operation, to exactly v; else as a number.
 */
static void fmt_angle(char *buf, size_t len, double v)
{
	static const int dens[] = { 1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 32, 64, 128, 256,
				    512, 1024 };
	double q = v / M_PI;

	if (v != 0 && isfinite(v) && fabs(q) < 1e6) {
		for (size_t i = 0; i < sizeof(dens) / sizeof(dens[0]); i++) {
			double d = dens[i], n = nearbyint(q * d), w;

			if (n == 0)
				continue;
			/* "n*pi/d" reads as (n*pi)/d and "-pi/d" as (-pi)/d: the
			 * same operations in the same order as here. */
			w = (n * M_PI) / d;
			if (w != v)
				continue;
			if (fabs(n) == 1 && d == 1)
				snprintf(buf, len, "%spi", n < 0 ? "-" : "");
			else if (fabs(n) == 1)
				snprintf(buf, len, "%spi/%d", n < 0 ? "-" : "", dens[i]);
			else if (d == 1)
				snprintf(buf, len, "%.0f*pi", n);
			else
				snprintf(buf, len, "%.0f*pi/%d", n, dens[i]);
			return;
		}
	}
	qrtx_fmt_double(buf, len, v);
}

/* Register names as written: the circuit's when QASM can spell them. */
struct names {
	char (*q)[QRTX_NAME_MAX];
	char (*c)[QRTX_NAME_MAX];
	const struct qrtx_reg *qregs, *cregs;
	uint32_t nq, nc;
	struct qrtx_reg one_q, one_c;	/* when the registers do not tile */
};

static bool tiles(const struct qrtx_reg *regs, uint32_t n, uint32_t total)
{
	uint32_t at = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (regs[i].offset != at || !regs[i].size || regs[i].size > total - at)
			return false;
		at += regs[i].size;
	}
	return at == total;
}

static bool name_taken(const struct names *nm, uint32_t upto_q, uint32_t upto_c, const char *s)
{
	for (uint32_t i = 0; i < upto_q; i++)
		if (!strcmp(nm->q[i], s))
			return true;
	for (uint32_t i = 0; i < upto_c; i++)
		if (!strcmp(nm->c[i], s))
			return true;
	return false;
}

/* Keep a valid, unused name; else invent prefix<k>, unused by any register. */
static void pick_name(const struct names *nm, uint32_t upto_q, uint32_t upto_c,
		      const char *want, const char *prefix, char *out)
{
	if (qrtx_qasm_name_ok(want) && !name_taken(nm, upto_q, upto_c, want)) {
		strcpy(out, want);
		return;
	}
	for (uint32_t k = 0;; k++) {
		bool clash = false;

		snprintf(out, QRTX_NAME_MAX, "%s%u", prefix, k);
		if (name_taken(nm, upto_q, upto_c, out))
			continue;
		/* Nor a later register's own name, which it will keep. */
		for (uint32_t i = 0; i < nm->nq && !clash; i++)
			clash = !strcmp(nm->qregs[i].name, out);
		for (uint32_t i = 0; i < nm->nc && !clash; i++)
			clash = !strcmp(nm->cregs[i].name, out);
		if (!clash)
			return;
	}
}

static int names_init(struct names *nm, const struct qrtx_circuit *c)
{
	memset(nm, 0, sizeof(*nm));
	if (c->nqregs && tiles(c->qregs, c->nqregs, c->nqubits)) {
		nm->qregs = c->qregs;
		nm->nq = c->nqregs;
	} else if (c->nqubits) {
		strcpy(nm->one_q.name, "q");
		nm->one_q.size = c->nqubits;
		nm->qregs = &nm->one_q;
		nm->nq = 1;
	}
	if (c->ncregs && tiles(c->cregs, c->ncregs, c->nclbits)) {
		nm->cregs = c->cregs;
		nm->nc = c->ncregs;
	} else if (c->nclbits) {
		strcpy(nm->one_c.name, "c");
		nm->one_c.size = c->nclbits;
		nm->cregs = &nm->one_c;
		nm->nc = 1;
	}
	nm->q = calloc(nm->nq + 1, sizeof(*nm->q));
	nm->c = calloc(nm->nc + 1, sizeof(*nm->c));
	if (!nm->q || !nm->c)
		return -ENOMEM;
	for (uint32_t i = 0; i < nm->nq; i++)
		pick_name(nm, i, 0, nm->qregs[i].name, "q", nm->q[i]);
	for (uint32_t i = 0; i < nm->nc; i++)
		pick_name(nm, nm->nq, i, nm->cregs[i].name, "c", nm->c[i]);
	return 0;
}

/* Register holding global index x (registers tile, in order). */
static uint32_t reg_of(const struct qrtx_reg *regs, uint32_t n, uint32_t x)
{
	uint32_t lo = 0, hi = n;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (regs[mid].offset <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static void put_bit(struct sbuf *b, const struct qrtx_reg *regs, char (*names)[QRTX_NAME_MAX],
		    uint32_t n, uint32_t x)
{
	uint32_t r = reg_of(regs, n, x);

	sb_printf(b, "%s[%u]", names[r], x - regs[r].offset);
}

static int put_param(struct sbuf *b, const struct qrtx_circuit *c, const struct qrtx_param *p,
		     const double *symbol_values)
{
	char num[48], *text;
	double v;
	int k, err;

	if (p->expr >= 0 && !symbol_values) {
		k = qrtx_expr_print(c, p->expr, NULL, 0);
		if (k < 0)
			return k;
		/* Evaluate too: text that cannot be read back is an error here. */
		err = qrtx_expr_eval(c, p->expr, NULL, &v);
		if (err)
			return err;
		text = malloc((size_t)k + 1);
		if (!text)
			return -ENOMEM;
		qrtx_expr_print(c, p->expr, text, (size_t)k + 1);
		sb_printf(b, "%s", text);
		free(text);
		return 0;
	}
	err = qrtx_param_eval(c, p, symbol_values, &v);
	if (err)
		return err;
	if (!isfinite(v))
		return -EDOM;
	fmt_angle(num, sizeof(num), v);
	sb_printf(b, "%s", num);
	return 0;
}

static int put_op(struct sbuf *b, const struct qrtx_circuit *c, const struct names *nm,
		  const struct qrtx_op *op, const double *symbol_values)
{
	const struct qrtx_gate_info *gi;
	int err;

	if (op->cond.creg >= 0 && op->kind != QRTX_OP_BARRIER) {
		if ((uint32_t)op->cond.creg >= c->ncregs || nm->cregs != c->cregs)
			return -EINVAL;
		sb_printf(b, "if(%s==%llu) ", nm->c[op->cond.creg],
			  (unsigned long long)op->cond.value);
	}
	switch (op->kind) {
	case QRTX_OP_GATE:
		gi = qrtx_gate_info(op->gate);
		if ((unsigned int)op->gate >= QRTX_G_COUNT || !gi || op->nqubits != gi->nqubits ||
		    op->nparams != gi->nparams || !op->nqubits ||
		    op->nqubits > QRTX_GATE_MAX_QUBITS)
			return -EINVAL;
		for (uint32_t i = 0; i < op->nqubits; i++) {
			if (op->qubits[i] >= c->nqubits)
				return -EINVAL;
			for (uint32_t j = 0; j < i; j++)
				if (op->qubits[j] == op->qubits[i])
					return -EINVAL;
		}
		sb_printf(b, "%s", gi->name);
		for (uint32_t i = 0; i < op->nparams; i++) {
			sb_printf(b, i ? "," : "(");
			err = put_param(b, c, &op->params[i], symbol_values);
			if (err)
				return err;
		}
		sb_printf(b, "%s ", op->nparams ? ")" : "");
		for (uint32_t i = 0; i < op->nqubits; i++) {
			if (i)
				sb_printf(b, ",");
			put_bit(b, nm->qregs, nm->q, nm->nq, op->qubits[i]);
		}
		sb_printf(b, ";\n");
		return 0;
	case QRTX_OP_MEASURE:
		if (op->nqubits != 1 || op->qubits[0] >= c->nqubits || op->clbit >= c->nclbits)
			return -EINVAL;
		sb_printf(b, "measure ");
		put_bit(b, nm->qregs, nm->q, nm->nq, op->qubits[0]);
		sb_printf(b, " -> ");
		put_bit(b, nm->cregs, nm->c, nm->nc, op->clbit);
		sb_printf(b, ";\n");
		return 0;
	case QRTX_OP_RESET:
		if (op->nqubits != 1 || op->qubits[0] >= c->nqubits)
			return -EINVAL;
		sb_printf(b, "reset ");
		put_bit(b, nm->qregs, nm->q, nm->nq, op->qubits[0]);
		sb_printf(b, ";\n");
		return 0;
	case QRTX_OP_BARRIER:
		/* A full fence; QASM spells that as a barrier over every register. */
		if (!nm->nq)
			return 0;
		sb_printf(b, "barrier ");
		for (uint32_t i = 0; i < nm->nq; i++)
			sb_printf(b, "%s%s", i ? "," : "", nm->q[i]);
		sb_printf(b, ";\n");
		return 0;
	}
	return -EINVAL;
}

int qrtx_qasm_write(const struct qrtx_circuit *c, const double *symbol_values, char **out)
{
	struct sbuf b = { 0 };
	struct names nm;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!c || (!symbol_values && c->nsymbols))
		return -EINVAL;
	err = names_init(&nm, c);
	if (err)
		goto fail;
	b.cap = 4096 + c->nops * 32;
	b.s = malloc(b.cap);
	if (!b.s) {
		err = -ENOMEM;
		goto fail;
	}
	b.s[0] = '\0';
	sb_printf(&b, "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
	for (uint32_t i = 0; i < nm.nq; i++)
		sb_printf(&b, "qreg %s[%u];\n", nm.q[i], nm.qregs[i].size);
	for (uint32_t i = 0; i < nm.nc; i++)
		sb_printf(&b, "creg %s[%u];\n", nm.c[i], nm.cregs[i].size);
	for (size_t i = 0; i < c->nops && !err; i++)
		err = put_op(&b, c, &nm, &c->ops[i], symbol_values);
	if (!err)
		err = b.err;
fail:
	free(nm.q);
	free(nm.c);
	if (err) {
		free(b.s);
		return err;
	}
	*out = b.s;
	return 0;
}
