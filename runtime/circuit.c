// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <stdbool.h>
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

static int add_reg(struct qrtx_reg **regs, uint32_t *nregs, uint32_t *total,
		   const char *name, uint32_t size)
{
	struct qrtx_reg *r;
	size_t cap = *nregs;

	if (!name || !*name || strlen(name) >= QRTX_NAME_MAX || !size ||
	    size > UINT32_MAX - *total)
		return -EINVAL;
	if (grow(regs, &cap, *nregs + 1, sizeof(**regs)))
		return -ENOMEM;
	r = &(*regs)[(*nregs)++];
	memset(r, 0, sizeof(*r));
	strcpy(r->name, name);
	r->offset = *total;
	r->size = size;
	*total += size;
	return 0;
}

static const struct qrtx_reg *find_reg(const struct qrtx_reg *regs, uint32_t n,
				       const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(regs[i].name, name))
			return &regs[i];
	return NULL;
}

int qrtx_circuit_add_qreg(struct qrtx_circuit *c, const char *name, uint32_t size)
{
	if (find_reg(c->qregs, c->nqregs, name))
		return -EEXIST;
	return add_reg(&c->qregs, &c->nqregs, &c->nqubits, name, size);
}

int qrtx_circuit_add_creg(struct qrtx_circuit *c, const char *name, uint32_t size)
{
	if (find_reg(c->cregs, c->ncregs, name))
		return -EEXIST;
	return add_reg(&c->cregs, &c->ncregs, &c->nclbits, name, size);
}

const struct qrtx_reg *qrtx_circuit_find_qreg(const struct qrtx_circuit *c, const char *name)
{
	return find_reg(c->qregs, c->nqregs, name);
}

const struct qrtx_reg *qrtx_circuit_find_creg(const struct qrtx_circuit *c, const char *name)
{
	return find_reg(c->cregs, c->ncregs, name);
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
