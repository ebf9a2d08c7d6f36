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
	free(c->reg_index.slot);
	free(c->sym_index.slot);
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
 * Names found by hash: files with thousands of registers or symbols made
 * every declaration and every use a scan of all of them. An index is an
 * open-addressing table (a power of two, at least twice as many slots as
 * entries) of nonzero ids: a register's is 1 + its index, with
 * REG_CLASSICAL set for classical ones; a symbol's is 1 + its index. A
 * symbol dropped by a failed parse may leave its id behind: lookups check
 * the name (and that the id is still in range), and a rebuild drops it.
 */
#define REG_CLASSICAL (1u << 31)

static size_t name_hash(const char *name)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return (size_t)h;
}

static const struct qrtx_reg *reg_of(const struct qrtx_circuit *c, uint32_t id)
{
	uint32_t i = (id & ~REG_CLASSICAL) - 1;

	return id & REG_CLASSICAL ? &c->cregs[i] : &c->qregs[i];
}

/* The name of id in index ix of c; NULL for a symbol no longer there. */
static const char *id_name(const struct qrtx_circuit *c, const struct qrtx_name_index *ix,
			   uint32_t id)
{
	if (ix == &c->reg_index)
		return reg_of(c, id)->name;
	return id - 1 < c->nsymbols ? c->symbols[id - 1] : NULL;
}

static void index_put(const struct qrtx_circuit *c, struct qrtx_name_index *ix, uint32_t id)
{
	size_t mask = ix->cap - 1, h = name_hash(id_name(c, ix, id)) & mask;

	while (ix->slot[h])
		h = (h + 1) & mask;
	ix->slot[h] = id;
	ix->used++;
}

/* The id of name in ix whose kind bits are kind (0 for symbols), or 0. */
static uint32_t index_find(const struct qrtx_circuit *c, const struct qrtx_name_index *ix,
			   const char *name, uint32_t kind)
{
	size_t mask = ix->cap - 1;

	if (!ix->cap)
		return 0;
	for (size_t h = name_hash(name) & mask; ix->slot[h]; h = (h + 1) & mask) {
		uint32_t id = ix->slot[h];
		const char *n = (id & REG_CLASSICAL) == kind ? id_name(c, ix, id) : NULL;

		if (n && !strcmp(n, name))
			return id;
	}
	return 0;
}

/* Room in ix for one more id; when short, rebuilt from the n ids there
 * are now (1..n for symbols; quantum then classical registers). */
static int index_room(struct qrtx_circuit *c, struct qrtx_name_index *ix, size_t n)
{
	size_t cap = 16;
	uint32_t *t;

	if (2 * (ix->used + 1) <= ix->cap)
		return 0;
	while (2 * (n + 1) > cap)
		cap *= 2;
	if (cap < ix->cap)
		cap = ix->cap;
	t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	free(ix->slot);
	ix->slot = t;
	ix->cap = cap;
	ix->used = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = i + 1;

		if (ix == &c->reg_index && i >= c->nqregs)
			id = (i - c->nqregs + 1) | REG_CLASSICAL;
		index_put(c, ix, id);
	}
	return 0;
}

static const struct qrtx_reg *find_reg(const struct qrtx_circuit *c, bool classical,
				       const char *name)
{
	uint32_t id = index_find(c, &c->reg_index, name, classical ? REG_CLASSICAL : 0);

	return id ? reg_of(c, id) : NULL;
}

static int add_reg(struct qrtx_circuit *c, bool classical, const char *name, uint32_t size)
{
	struct qrtx_reg **regs = classical ? &c->cregs : &c->qregs;
	uint32_t *nregs = classical ? &c->ncregs : &c->nqregs;
	uint32_t *total = classical ? &c->nclbits : &c->nqubits;
	size_t cap = *nregs;
	struct qrtx_reg *r;

	if (!name || !*name || strlen(name) >= QRTX_NAME_MAX || !size ||
	    size > UINT32_MAX - *total || *nregs >= REG_CLASSICAL - 1)
		return -EINVAL;
	if (find_reg(c, classical, name))
		return -EEXIST;
	if (grow(regs, &cap, *nregs + 1, sizeof(**regs)) ||
	    index_room(c, &c->reg_index, (size_t)c->nqregs + c->ncregs))
		return -ENOMEM;
	r = &(*regs)[(*nregs)++];
	memset(r, 0, sizeof(*r));
	strcpy(r->name, name);
	r->offset = *total;
	r->size = size;
	*total += size;
	index_put(c, &c->reg_index, *nregs | (classical ? REG_CLASSICAL : 0));
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
	uint32_t id;

	if (!name || !*name || strlen(name) >= QRTX_NAME_MAX)
		return -EINVAL;
	id = index_find(c, &c->sym_index, name, 0);
	if (id) {
		*index = id - 1;
		return 0;
	}
	if (c->nsymbols >= REG_CLASSICAL - 1 ||
	    grow(&c->symbols, &cap, c->nsymbols + 1, sizeof(*c->symbols)) ||
	    index_room(c, &c->sym_index, c->nsymbols))
		return -ENOMEM;
	strcpy(c->symbols[c->nsymbols], name);
	*index = c->nsymbols++;
	index_put(c, &c->sym_index, c->nsymbols);
	return 0;
}

int qrtx_circuit_find_symbol(const struct qrtx_circuit *c, const char *name)
{
	uint32_t id = name ? index_find(c, &c->sym_index, name, 0) : 0;

	return id ? (int)(id - 1) : -1;
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
