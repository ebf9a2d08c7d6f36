// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/circuit.h"
#include "qrtx/expr.h"

struct qrtx_circuit *qrtx_circuit_new(void)
{
	return calloc(1, sizeof(struct qrtx_circuit));
}

void qrtx_circuit_free(struct qrtx_circuit *c)
{
	if (!c)
		return;
	free(c->qregs);
	free(c->cregs);
	free(c->ops);
	free(c->exprs);
	free(c->symbols);
	free(c->reg_hash);
	free(c);
}

/* Grow *arr (of elem-sized items, *cap of them) to hold n. */
static int grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	void **p = arr;
	size_t ncap;
	void *np;

	if (n <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < n)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/*
 * Registers by name, both kinds in one open-addressing table (a power of
 * two, at least twice as many slots as registers): an entry is 1 + the
 * register's index, with REG_CLASSICAL set for classical ones. Files with
 * thousands of registers made every declaration and every operand a scan
 * of all of them.
 */
#define REG_CLASSICAL (1u << 31)

static size_t reg_name_hash(const char *name)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return (size_t)h;
}

static const struct qrtx_reg *reg_of(const struct qrtx_circuit *c, uint32_t e)
{
	uint32_t i = (e & ~REG_CLASSICAL) - 1;

	return e & REG_CLASSICAL ? &c->cregs[i] : &c->qregs[i];
}

static void reg_put(struct qrtx_circuit *c, uint32_t e)
{
	size_t mask = c->reg_hash_cap - 1, h = reg_name_hash(reg_of(c, e)->name) & mask;

	while (c->reg_hash[h])
		h = (h + 1) & mask;
	c->reg_hash[h] = e;
}

static const struct qrtx_reg *find_reg(const struct qrtx_circuit *c, bool classical,
				       const char *name)
{
	size_t mask = c->reg_hash_cap - 1;

	if (!c->reg_hash_cap)
		return NULL;
	for (size_t h = reg_name_hash(name) & mask; c->reg_hash[h]; h = (h + 1) & mask) {
		uint32_t e = c->reg_hash[h];

		if (!(e & REG_CLASSICAL) == !classical && !strcmp(reg_of(c, e)->name, name))
			return reg_of(c, e);
	}
	return NULL;
}

static int add_reg(struct qrtx_circuit *c, bool classical, const char *name, uint32_t size)
{
	struct qrtx_reg **regs = classical ? &c->cregs : &c->qregs;
	uint32_t *nregs = classical ? &c->ncregs : &c->nqregs;
	uint32_t *total = classical ? &c->nclbits : &c->nqubits;
	size_t cap = *nregs, all = (size_t)c->nqregs + c->ncregs + 1;
	struct qrtx_reg *r;

	if (!name || !*name || strlen(name) >= QRTX_NAME_MAX || !size ||
	    size > UINT32_MAX - *total || *nregs >= REG_CLASSICAL - 1)
		return -EINVAL;
	if (find_reg(c, classical, name))
		return -EEXIST;
	if (grow(regs, &cap, *nregs + 1, sizeof(**regs)))
		return -ENOMEM;
	if (2 * all > c->reg_hash_cap) {
		size_t ncap = c->reg_hash_cap ? 2 * c->reg_hash_cap : 16;
		uint32_t *t = calloc(ncap, sizeof(*t));

		if (!t)
			return -ENOMEM;
		free(c->reg_hash);
		c->reg_hash = t;
		c->reg_hash_cap = ncap;
		for (uint32_t i = 0; i < c->nqregs; i++)
			reg_put(c, i + 1);
		for (uint32_t i = 0; i < c->ncregs; i++)
			reg_put(c, (i + 1) | REG_CLASSICAL);
	}
	r = &(*regs)[(*nregs)++];
	memset(r, 0, sizeof(*r));
	strcpy(r->name, name);
	r->offset = *total;
	r->size = size;
	*total += size;
	reg_put(c, *nregs | (classical ? REG_CLASSICAL : 0));
	return 0;
}

int qrtx_circuit_add_qreg(struct qrtx_circuit *c, const char *name, uint32_t size)
{
	return add_reg(c, false, name, size);
}

int qrtx_circuit_add_creg(struct qrtx_circuit *c, const char *name, uint32_t size)
{
	return add_reg(c, true, name, size);
}

const struct qrtx_reg *qrtx_circuit_find_qreg(const struct qrtx_circuit *c, const char *name)
{
	return find_reg(c, false, name);
}

const struct qrtx_reg *qrtx_circuit_find_creg(const struct qrtx_circuit *c, const char *name)
{
	return find_reg(c, true, name);
}

int qrtx_circuit_append(struct qrtx_circuit *c, const struct qrtx_op *op)
{
	if (grow(&c->ops, &c->ops_cap, c->nops + 1, sizeof(*c->ops)))
		return -ENOMEM;
	c->ops[c->nops++] = *op;
	return 0;
}

int qrtx_circuit_symbol(struct qrtx_circuit *c, const char *name, uint32_t *index)
{
	size_t cap = c->nsymbols;

	if (!name || !*name || strlen(name) >= QRTX_NAME_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < c->nsymbols; i++) {
		if (!strcmp(c->symbols[i], name)) {
			*index = i;
			return 0;
		}
	}
	if (grow(&c->symbols, &cap, c->nsymbols + 1, sizeof(*c->symbols)))
		return -ENOMEM;
	strcpy(c->symbols[c->nsymbols], name);
	*index = c->nsymbols++;
	return 0;
}

int32_t qrtx_circuit_add_expr(struct qrtx_circuit *c, const struct qrtx_expr *e)
{
	if (c->nexprs >= INT32_MAX ||
	    grow(&c->exprs, &c->exprs_cap, c->nexprs + 1, sizeof(*c->exprs)))
		return -ENOMEM;
	c->exprs[c->nexprs] = *e;
	return (int32_t)c->nexprs++;
}

int qrtx_param_eval(const struct qrtx_circuit *c, const struct qrtx_param *p,
		    const double *symbol_values, double *out)
{
	if (p->expr < 0) {
		*out = p->value;
		return 0;
	}
	return qrtx_expr_eval(c, p->expr, symbol_values, out);
}

int qrtx_circuit_measurements_terminal(const struct qrtx_circuit *c)
{
	bool *measured = calloc(c->nqubits ? c->nqubits : 1, sizeof(bool));
	int terminal = 1;

	if (!measured)
		return -ENOMEM;
	for (size_t i = 0; i < c->nops && terminal; i++) {
		const struct qrtx_op *op = &c->ops[i];

		if (op->cond.creg >= 0 || op->kind == QRTX_OP_RESET) {
			terminal = 0;
		} else if (op->kind == QRTX_OP_MEASURE) {
			measured[op->qubits[0]] = true;
		} else if (op->kind == QRTX_OP_GATE) {
			for (uint32_t q = 0; q < op->nqubits; q++)
				if (measured[op->qubits[q]])
					terminal = 0;
		}
	}
	free(measured);
	return terminal;
}
