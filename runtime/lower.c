// SPDX-License-Identifier: MIT
/*
 * Lowering: bind parameters, turn every op into an engine op (kop), and
 * fuse neighbouring gates into dense or diagonal blocks.
 *
 * Why fuse: a state-vector pass is bound by memory bandwidth (each gate
 * streams the whole state in and out), so merging g gates that together
 * touch at most fuse_max qubits into one 2^k x 2^k block replaces g passes
 * by one, at the price of 2^k complex multiply-adds per amplitude. The
 * width where the extra arithmetic stops paying is measured by
 * bench/sv_bench (see Documentation/runtime/engine.rst).
 *
 * The fuser is greedy. It takes the earliest gate not yet emitted, opens a
 * block on its qubits, and scans forward. A later gate joins the block
 * when it can be moved up to it, i.e. it commutes with every gate it would
 * jump over (those were left out of the block), and the block stays within
 * its width. Two facts decide "commutes": gates on disjoint qubits
 * commute, and diagonal gates commute with each other whatever their
 * qubits. A gate that does not join blocks its qubits for the rest of the
 * scan: for every later gate if it is not diagonal, for non-diagonal ones
 * only if it is. Blocks made only of diagonal gates stay diagonal (one
 * cheap pass with no arithmetic growth), so they may be wider than dense
 * ones; when a block starts with a diagonal gate, the fuser also picks the
 * qubits of the diagonal block that takes the most gates (select_diag) and
 * keeps the better of the two.
 *
 * Measurements and resets block their qubit; barriers and conditional
 * ops block every qubit: no gate moves across them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/gates.h"
#include "qrtx/program.h"

/* The engine's cache-blocked runs: a proposal for statevec.h, reached
 * here until it is adopted there. */
#include "sv/batch.h"

/*
 * Default widest dense block. Measured with bench/sv_bench on the layered
 * and QFT families at n = 24, 2 threads; see Documentation/runtime/engine.rst.
 */
#define FUSE_DEFAULT 3
/* Widest diagonal block: the kop holds at most QRTX_SV_MAX_DENSE qubits. */
#define DIAG_MAX QRTX_SV_MAX_DENSE
/* How far the fuser looks ahead from a block's first gate; bounds the
 * work on long circuits to O(ops x window). */
#define SCAN_WINDOW 4096

enum item_kind { IT_GATE, IT_MEASURE, IT_RESET, IT_BARRIER };

/* One op of the circuit, bound and ready to fuse. */
struct item {
	enum item_kind kind;
	uint32_t nq, nc;
	uint32_t qubits[QRTX_GATE_MAX_QUBITS];
	uint64_t mask;		/* qubits, when the circuit has <= 64 */
	bool diag;
	bool fence_all;		/* barrier or conditional op */
	double complex *m;	/* full 2^nq x 2^nq matrix (gates) */
	uint32_t clbit;
	struct qrtx_cond cond;
	/* Pending list: items not yet emitted, in circuit order. */
	int64_t prev, next;
};

struct lower_ctx {
	const struct qrtx_circuit *c;
	struct item *items;
	size_t nitems;
	int64_t head;
	unsigned int fuse_max, diag_max;
	struct sparse_gate *sparse;	/* scratch for emit_block */
	struct qrtx_program *p;
	size_t ops_cap;
	struct qrtx_error *err;
};

static void compile_error(struct lower_ctx *x, const struct qrtx_op *op, int code,
			  const char *what)
{
	qrtx_error_set(x->err, QRTX_ERR_COMPILE, code, NULL, op ? op->line : 0,
		       op ? op->col : 0, "%s", what);
}

static int push_kop(struct lower_ctx *x, struct qrtx_kop **out)
{
	struct qrtx_program *p = x->p;

	if (p->nops == x->ops_cap) {
		size_t ncap = x->ops_cap ? 2 * x->ops_cap : 64;
		struct qrtx_kop *n = realloc(p->ops, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->ops = n;
		x->ops_cap = ncap;
	}
	*out = &p->ops[p->nops++];
	memset(*out, 0, sizeof(**out));
	(*out)->cond.creg = -1;
	return 0;
}

static bool is_identity_gate(enum qrtx_gate_id g)
{
	return g == QRTX_G_ID || g == QRTX_G_U0;
}

/* Check an op's operands and bind its parameters into an item. */
static int bind_op(struct lower_ctx *x, const struct qrtx_op *op, const double *symv,
		   struct item *it)
{
	const struct qrtx_circuit *c = x->c;
	double params[QRTX_GATE_MAX_PARAMS] = { 0 };
	const struct qrtx_gate_info *gi;
	unsigned int dim;

	memset(it, 0, sizeof(*it));
	it->cond = op->cond;
	if (op->cond.creg >= 0 && (uint32_t)op->cond.creg >= c->ncregs) {
		compile_error(x, op, -EINVAL, "condition names an unknown classical register");
		return -EINVAL;
	}
	it->fence_all = op->cond.creg >= 0;
	for (uint32_t i = 0; i < op->nqubits && i < QRTX_GATE_MAX_QUBITS; i++) {
		if (op->qubits[i] >= c->nqubits) {
			compile_error(x, op, -EINVAL, "qubit index out of range");
			return -EINVAL;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (op->qubits[j] == op->qubits[i]) {
				compile_error(x, op, -EINVAL, "duplicate qubit operand");
				return -EINVAL;
			}
		}
		it->qubits[i] = op->qubits[i];
		if (op->qubits[i] < 64)
			it->mask |= 1ull << op->qubits[i];
	}

	switch (op->kind) {
	case QRTX_OP_BARRIER:
		it->kind = IT_BARRIER;
		it->fence_all = true;
		return 0;
	case QRTX_OP_MEASURE:
	case QRTX_OP_RESET:
		if (op->nqubits != 1) {
			compile_error(x, op, -EINVAL, "measure and reset take one qubit");
			return -EINVAL;
		}
		if (op->kind == QRTX_OP_MEASURE && op->clbit >= c->nclbits) {
			compile_error(x, op, -EINVAL, "classical bit index out of range");
			return -EINVAL;
		}
		it->kind = op->kind == QRTX_OP_MEASURE ? IT_MEASURE : IT_RESET;
		it->nq = 1;
		it->clbit = op->clbit;
		return 0;
	case QRTX_OP_GATE:
		break;
	default:
		compile_error(x, op, -EINVAL, "unknown operation kind");
		return -EINVAL;
	}

	gi = qrtx_gate_info(op->gate);
	if (!gi) {
		compile_error(x, op, -EINVAL, "unknown gate");
		return -EINVAL;
	}
	if (op->nqubits != gi->nqubits || op->nparams != gi->nparams) {
		qrtx_error_set(x->err, QRTX_ERR_COMPILE, -EINVAL, NULL, op->line, op->col,
			       "gate %s takes %u qubits and %u parameters, got %u and %u",
			       gi->name, gi->nqubits, gi->nparams, op->nqubits, op->nparams);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < op->nparams; i++) {
		int ret;

		if (op->params[i].expr >= 0 && c->nsymbols && !symv) {
			compile_error(x, op, -EINVAL,
				      "the circuit has free parameters but no values were bound");
			return -EINVAL;
		}
		ret = qrtx_param_eval(c, &op->params[i], symv, &params[i]);
		if (ret) {
			qrtx_error_set(x->err, QRTX_ERR_COMPILE, ret, NULL, op->line, op->col,
				       "parameter %u of %s does not evaluate to a finite number",
				       i + 1, gi->name);
			return ret;
		}
	}
	it->kind = IT_GATE;
	it->nq = gi->nqubits;
	it->nc = gi->ncontrols;
	it->diag = gi->diagonal;
	dim = 1u << it->nq;
	it->m = malloc(sizeof(double complex) * dim * dim);
	if (!it->m)
		return -ENOMEM;
	qrtx_gate_matrix(op->gate, params, it->m);
	return 0;
}

/* Emit a gate on its own, in the cheapest form its shape allows. */
static int emit_single(struct lower_ctx *x, const struct item *it)
{
	unsigned int dim = 1u << it->nq, nt = it->nq - it->nc;
	unsigned int tdim = 1u << nt, on = (1u << it->nc) - 1;
	struct qrtx_kop *k;
	int ret = push_kop(x, &k);

	if (ret)
		return ret;
	k->cond = it->cond;
	k->ngates = 1;
	if (it->diag) {
		k->kind = QRTX_K_DIAG;
		k->nq = it->nq;
		memcpy(k->qubits, it->qubits, sizeof(uint32_t) * it->nq);
		k->m = malloc(sizeof(double complex) * dim);
		if (!k->m)
			return -ENOMEM;
		for (unsigned int i = 0; i < dim; i++)
			k->m[i] = it->m[i * dim + i];
		return 0;
	}
	if (it->nc) {
		/* Only the block where every control is 1 differs from the
		 * identity: the engine touches just those amplitudes. */
		k->kind = QRTX_K_CONTROLLED;
		k->nc = it->nc;
		memcpy(k->controls, it->qubits, sizeof(uint32_t) * it->nc);
		k->nq = nt;
		memcpy(k->qubits, it->qubits + it->nc, sizeof(uint32_t) * nt);
		k->m = malloc(sizeof(double complex) * tdim * tdim);
		if (!k->m)
			return -ENOMEM;
		for (unsigned int r = 0; r < tdim; r++)
			for (unsigned int col = 0; col < tdim; col++)
				k->m[r * tdim + col] =
					it->m[((r << it->nc) | on) * dim + ((col << it->nc) | on)];
		return 0;
	}
	k->kind = QRTX_K_DENSE;
	k->nq = it->nq;
	memcpy(k->qubits, it->qubits, sizeof(uint32_t) * it->nq);
	k->m = malloc(sizeof(double complex) * dim * dim);
	if (!k->m)
		return -ENOMEM;
	memcpy(k->m, it->m, sizeof(double complex) * dim * dim);
	return 0;
}

static int emit_nongate(struct lower_ctx *x, const struct item *it)
{
	struct qrtx_kop *k;
	int ret = push_kop(x, &k);

	if (ret)
		return ret;
	k->cond = it->cond;
	switch (it->kind) {
	case IT_MEASURE:
		k->kind = QRTX_K_MEASURE;
		k->nq = 1;
		k->qubits[0] = it->qubits[0];
		k->clbit = it->clbit;
		break;
	case IT_RESET:
		k->kind = QRTX_K_RESET;
		k->nq = 1;
		k->qubits[0] = it->qubits[0];
		break;
	default:
		k->kind = QRTX_K_BARRIER;
		break;
	}
	return 0;
}

/* Where each of a gate's operands sits in the block's qubit list. */
static void operand_positions(const struct item *it, const uint32_t *bq, unsigned int nb,
			      unsigned int *pos)
{
	for (unsigned int j = 0; j < it->nq; j++)
		for (unsigned int b = 0; b < nb; b++)
			if (bq[b] == it->qubits[j])
				pos[j] = b;
}

/* Bits of i at positions pos[0..k-1], packed (bit j from pos[j]). */
static unsigned int gather(unsigned int i, const unsigned int *pos, unsigned int k)
{
	unsigned int s = 0;

	for (unsigned int j = 0; j < k; j++)
		s |= ((i >> pos[j]) & 1u) << j;
	return s;
}

/*
 * The rows of a gate's matrix that differ from the identity's, stored
 * sparse: controlled gates are mostly identity, and multiplying only the
 * rest keeps fusing wide blocks cheap on circuits of many gates.
 */
struct sparse_gate {
	unsigned int nrows;
	unsigned int row[1u << QRTX_GATE_MAX_QUBITS];
	unsigned int start[(1u << QRTX_GATE_MAX_QUBITS) + 1];
	unsigned int col[1u << (2 * QRTX_GATE_MAX_QUBITS)];
	double complex val[1u << (2 * QRTX_GATE_MAX_QUBITS)];
};

static void sparsify(const struct item *it, struct sparse_gate *sg)
{
	unsigned int gdim = 1u << it->nq, nz = 0;

	sg->nrows = 0;
	for (unsigned int r = 0; r < gdim; r++) {
		const double complex *row = it->m + r * gdim;
		bool ident = true;

		for (unsigned int c = 0; c < gdim && ident; c++)
			ident = row[c] == (c == r ? 1 : 0);
		if (ident)
			continue;
		sg->row[sg->nrows] = r;
		sg->start[sg->nrows] = nz;
		for (unsigned int c = 0; c < gdim; c++) {
			if (row[c] != 0) {
				sg->col[nz] = c;
				sg->val[nz++] = row[c];
			}
		}
		sg->nrows++;
	}
	sg->start[sg->nrows] = nz;
}

/*
 * M <- G M, G being a gate on some of the block's qubits: each column of M
 * is a state of the block and G acts on it like an engine pass would.
 */
static void left_multiply(double complex *M, unsigned int nb, const struct item *it,
			  const unsigned int *pos, struct sparse_gate *sg)
{
	unsigned int dim = 1u << nb, gdim = 1u << it->nq, gmask = 0;
	unsigned int idx[1u << QRTX_GATE_MAX_QUBITS];
	double complex v[1u << QRTX_GATE_MAX_QUBITS], out[1u << QRTX_GATE_MAX_QUBITS];

	sparsify(it, sg);
	for (unsigned int j = 0; j < it->nq; j++)
		gmask |= 1u << pos[j];
	for (unsigned int base = 0; base < dim; base++) {
		if (base & gmask)
			continue;
		for (unsigned int s = 0; s < gdim; s++) {
			unsigned int i = base;

			for (unsigned int j = 0; j < it->nq; j++)
				if (s >> j & 1)
					i |= 1u << pos[j];
			idx[s] = i;
		}
		for (unsigned int col = 0; col < dim; col++) {
			for (unsigned int s = 0; s < gdim; s++)
				v[s] = M[idx[s] * dim + col];
			for (unsigned int r = 0; r < sg->nrows; r++) {
				double complex acc = 0;

				for (unsigned int e = sg->start[r]; e < sg->start[r + 1]; e++)
					acc += sg->val[e] * v[sg->col[e]];
				out[r] = acc;
			}
			for (unsigned int r = 0; r < sg->nrows; r++)
				M[idx[sg->row[r]] * dim + col] = out[r];
		}
	}
}

/* Emit members (indices into items, in circuit order) as one block. */
static int emit_block(struct lower_ctx *x, const size_t *members, size_t n, uint64_t qmask,
		      bool all_diag)
{
	uint32_t bq[QRTX_SV_MAX_DENSE];
	unsigned int nb = 0, dim, pos[QRTX_GATE_MAX_QUBITS];
	struct qrtx_kop *k;
	int ret;

	if (n == 1)
		return emit_single(x, &x->items[members[0]]);
	/* Ascending qubit order: a fixed layout the kernels can rely on. */
	for (uint32_t q = 0; q < 64 && nb < QRTX_SV_MAX_DENSE; q++)
		if (qmask >> q & 1)
			bq[nb++] = q;
	dim = 1u << nb;
	ret = push_kop(x, &k);
	if (ret)
		return ret;
	k->ngates = (uint32_t)n;
	k->nq = nb;
	memcpy(k->qubits, bq, sizeof(uint32_t) * nb);
	if (all_diag) {
		k->kind = QRTX_K_DIAG;
		k->m = malloc(sizeof(double complex) * dim);
		if (!k->m)
			return -ENOMEM;
		for (unsigned int i = 0; i < dim; i++)
			k->m[i] = 1;
		for (size_t g = 0; g < n; g++) {
			const struct item *it = &x->items[members[g]];
			unsigned int gdim = 1u << it->nq;

			operand_positions(it, bq, nb, pos);
			for (unsigned int i = 0; i < dim; i++) {
				unsigned int s = gather(i, pos, it->nq);

				k->m[i] *= it->m[s * gdim + s];
			}
		}
		return 0;
	}
	k->kind = QRTX_K_DENSE;
	k->m = calloc((size_t)dim * dim, sizeof(double complex));
	if (!k->m)
		return -ENOMEM;
	for (unsigned int i = 0; i < dim; i++)
		k->m[i * dim + i] = 1;
	for (size_t g = 0; g < n; g++) {
		const struct item *it = &x->items[members[g]];

		operand_positions(it, bq, nb, pos);
		left_multiply(k->m, nb, it, pos, x->sparse);
	}
	return 0;
}

static void unlink_item(struct lower_ctx *x, size_t i)
{
	struct item *it = &x->items[i];

	if (it->prev >= 0)
		x->items[it->prev].next = it->next;
	else
		x->head = it->next;
	if (it->next >= 0)
		x->items[it->next].prev = it->prev;
}

/*
 * The greedy block: members in circuit order, the head first. Gates join
 * while the block stays within its width; see the comment at the top.
 */
static size_t select_greedy(struct lower_ctx *x, size_t head, uint64_t all_qubits,
			    size_t *members, uint64_t *qmask, bool *all_diag)
{
	const struct item *f = &x->items[head];
	uint64_t q = f->mask, blocked = 0, blocked_diag = 0;
	bool diag = f->diag;
	size_t n = 0, scanned = 0;
	int64_t j = f->next;

	members[n++] = head;
	/* A gate wider than a dense block can still head a diagonal one. */
	if (f->nq > x->fuse_max && !f->diag)
		j = -1;
	while (j >= 0 && scanned++ < SCAN_WINDOW && blocked != all_qubits) {
		const struct item *it = &x->items[j];
		bool movable;

		if (it->fence_all)
			break;
		if (it->kind != IT_GATE) {
			blocked |= it->mask;
			j = it->next;
			continue;
		}
		/* Diagonal gates pass other diagonal gates, nothing passes
		 * a non-diagonal gate it shares a qubit with. */
		movable = !(it->mask & blocked) && (it->diag || !(it->mask & blocked_diag));
		if (movable) {
			uint64_t nq = q | it->mask;
			bool nd = diag && it->diag;
			unsigned int width = (unsigned int)__builtin_popcountll(nq);

			if (width <= (nd ? x->diag_max : x->fuse_max)) {
				q = nq;
				diag = nd;
				members[n++] = (size_t)j;
				j = it->next;
				continue;
			}
		}
		if (it->diag)
			blocked_diag |= it->mask;
		else
			blocked |= it->mask;
		j = it->next;
		/* Full and fenced on every qubit: nothing more can join. */
		if (!(q & ~blocked) &&
		    (unsigned int)__builtin_popcountll(q) >= (diag ? x->diag_max : x->fuse_max))
			break;
	}
	*qmask = q;
	*all_diag = diag;
	return n;
}

/*
 * A diagonal block headed by a diagonal gate, choosing its qubits for the
 * most gates rather than in circuit order. Every diagonal gate that can be
 * moved up to the head is a candidate (all of them commute with one
 * another); qubits are added one at a time, each time the one that
 * completes the most candidates. This is what packs the long phase
 * ladders of QFT-like circuits: taken in order, a ladder fills a block
 * with one control and five targets (5 gates), while the best six
 * qubits take 3 x 3 = 9.
 */
static size_t select_diag(struct lower_ctx *x, size_t head, uint64_t all_qubits,
			  size_t *members, size_t *cand, uint64_t *qmask)
{
	const struct item *f = &x->items[head];
	uint64_t s = f->mask, blocked = 0;
	size_t ncand = 0, scanned = 0, n = 0;
	unsigned int gain[64];
	int64_t j = f->next;

	while (j >= 0 && scanned++ < SCAN_WINDOW && blocked != all_qubits) {
		const struct item *it = &x->items[j];

		if (it->fence_all)
			break;
		if (it->kind == IT_GATE && it->diag && !(it->mask & blocked)) {
			if (it->nq <= x->diag_max)
				cand[ncand++] = (size_t)j;
		} else if (!(it->kind == IT_GATE && it->diag)) {
			blocked |= it->mask;
		}
		j = it->next;
	}

	while ((unsigned int)__builtin_popcountll(s) < x->diag_max) {
		unsigned int best = 64, room = x->diag_max - (unsigned int)__builtin_popcountll(s);
		uint64_t fallback = 0;

		memset(gain, 0, sizeof(gain));
		for (size_t i = 0; i < ncand; i++) {
			uint64_t rest = x->items[cand[i]].mask & ~s;
			unsigned int out = (unsigned int)__builtin_popcountll(rest);

			if (out == 1)
				gain[__builtin_ctzll(rest)]++;
			else if (out > 1 && out <= room && !fallback)
				fallback = rest;
		}
		/* Ties go to the lowest qubit: any fixed rule keeps the
		 * result independent of anything but the circuit. */
		for (unsigned int b = 0; b < 64; b++)
			if (gain[b] && (best == 64 || gain[b] > gain[best]))
				best = b;
		if (best < 64)
			s |= 1ull << best;
		else if (fallback)
			s |= fallback;	/* the earliest gate that still fits */
		else
			break;
	}

	members[n++] = head;
	for (size_t i = 0; i < ncand; i++)
		if (!(x->items[cand[i]].mask & ~s))
			members[n++] = cand[i];
	*qmask = s;
	return n;
}

/* Grow a block from the first pending item (a gate) and emit it. */
static int fuse_from(struct lower_ctx *x, uint64_t all_qubits, size_t *members, size_t *alt,
		     size_t *cand)
{
	size_t head = (size_t)x->head, n;
	uint64_t q;
	bool all_diag;

	n = select_greedy(x, head, all_qubits, members, &q, &all_diag);
	if (x->items[head].diag) {
		/* Keep whichever block takes more gates into its pass; on a
		 * tie the diagonal one, which costs less arithmetic. */
		uint64_t dq;
		size_t dn = select_diag(x, head, all_qubits, alt, cand, &dq);

		if (dn >= n) {
			memcpy(members, alt, dn * sizeof(*alt));
			n = dn;
			q = dq;
			all_diag = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		unlink_item(x, members[i]);
	return emit_block(x, members, n, q, all_diag);
}

static int lower_items(struct lower_ctx *x)
{
	uint32_t nq = x->c->nqubits;
	uint64_t all_qubits = 0;
	bool fuse = x->fuse_max > 1 && nq <= 64;
	size_t *members = NULL;
	int ret = 0;

	/* Scans end once every qubit that gates use is fenced. */
	for (size_t i = 0; i < x->nitems; i++)
		all_qubits |= x->items[i].mask;
	if (fuse) {
		/* three lists: the block, the alternative block, candidates */
		members = malloc(sizeof(*members) * 3 * (SCAN_WINDOW + 1));
		x->sparse = malloc(sizeof(*x->sparse));
		if (!members || !x->sparse) {
			free(members);
			free(x->sparse);
			x->sparse = NULL;
			return -ENOMEM;
		}
	}
	while (x->head >= 0 && !ret) {
		size_t i = (size_t)x->head;
		struct item *it = &x->items[i];

		if (it->kind != IT_GATE || it->fence_all || !fuse) {
			unlink_item(x, i);
			ret = it->kind == IT_GATE ? emit_single(x, it) : emit_nongate(x, it);
			continue;
		}
		ret = fuse_from(x, all_qubits, members, members + SCAN_WINDOW + 1,
				members + 2 * (SCAN_WINDOW + 1));
	}
	free(members);
	free(x->sparse);
	x->sparse = NULL;
	return ret;
}

static void free_items(struct lower_ctx *x)
{
	for (size_t i = 0; i < x->nitems; i++)
		free(x->items[i].m);
	free(x->items);
}

int qrtx_lower(const struct qrtx_circuit *c, const double *symbol_values,
	       const struct qrtx_lower_opts *opts, struct qrtx_program **out,
	       struct qrtx_error *err)
{
	struct lower_ctx x = { .c = c, .head = -1, .err = err };
	int64_t tail = -1;
	int ret = 0;

	*out = NULL;
	x.fuse_max = opts && opts->fuse_max ? opts->fuse_max : FUSE_DEFAULT;
	if (x.fuse_max > QRTX_SV_MAX_DENSE)
		x.fuse_max = QRTX_SV_MAX_DENSE;
	x.diag_max = DIAG_MAX;
	x.p = calloc(1, sizeof(*x.p));
	x.items = calloc(c->nops ? c->nops : 1, sizeof(*x.items));
	if (!x.p || !x.items) {
		ret = -ENOMEM;
		goto fail;
	}
	x.p->nqubits = c->nqubits;
	x.p->nclbits = c->nclbits;

	for (size_t i = 0; i < c->nops; i++) {
		const struct qrtx_op *op = &c->ops[i];
		struct item *it = &x.items[x.nitems];

		ret = bind_op(&x, op, symbol_values, it);
		if (ret) {
			free(it->m);
			goto fail;
		}
		if (op->kind == QRTX_OP_GATE) {
			x.p->ngates++;
			/* id and u0 change nothing: no pass for them. */
			if (is_identity_gate(op->gate)) {
				free(it->m);
				continue;
			}
		}
		it->prev = tail;
		it->next = -1;
		if (tail >= 0)
			x.items[tail].next = (int64_t)x.nitems;
		else
			x.head = (int64_t)x.nitems;
		tail = (int64_t)x.nitems++;
	}

	ret = lower_items(&x);
	if (ret)
		goto fail;
	free_items(&x);
	*out = x.p;
	return 0;

fail:
	if (ret == -ENOMEM)
		qrtx_error_set(err, QRTX_ERR_COMPILE, ret, NULL, 0, 0,
			       "out of memory while lowering the circuit");
	free_items(&x);
	qrtx_program_free(x.p);
	return ret;
}

void qrtx_program_free(struct qrtx_program *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nops; i++)
		free(p->ops[i].m);
	free(p->ops);
	free(p);
}

static bool is_plain_gate(const struct qrtx_kop *k)
{
	return k->cond.creg < 0 && (k->kind == QRTX_K_DENSE || k->kind == QRTX_K_DIAG ||
				    k->kind == QRTX_K_CONTROLLED);
}

static void to_sv_gate(const struct qrtx_kop *k, struct qrtx_sv_gate *g)
{
	g->kind = k->kind == QRTX_K_DIAG ? QRTX_SV_GATE_DIAG :
		  k->kind == QRTX_K_CONTROLLED ? QRTX_SV_GATE_CONTROLLED : QRTX_SV_GATE_DENSE;
	g->k = k->nq;
	memcpy(g->targets, k->qubits, sizeof(uint32_t) * k->nq);
	g->nc = k->kind == QRTX_K_CONTROLLED ? k->nc : 0;
	memcpy(g->controls, k->controls, sizeof(uint32_t) * g->nc);
	g->m = k->m;
}

/*
 * Each maximal run of unconditioned gates goes to the engine in one call,
 * so that it can apply the run block by block while each block of the
 * state sits in cache (cache blocking; see runtime/sv/batch.h) instead of
 * streaming the whole state once per kop.
 */
size_t qrtx_program_apply(const struct qrtx_program *p, size_t from, size_t to,
			  struct qrtx_sv *sv)
{
	struct qrtx_sv_gate small[16], *g;
	size_t cap, i = from;

	if (to > p->nops)
		to = p->nops;
	if (from >= to)
		return to;
	cap = to - from;
	g = cap > 16 ? malloc(cap * sizeof(*g)) : NULL;
	if (!g) {
		/* Short range, or no memory: runs of at most 16 still batch. */
		g = small;
		cap = 16;
	}
	while (i < to && is_plain_gate(&p->ops[i])) {
		size_t n = 0;

		while (i + n < to && n < cap && is_plain_gate(&p->ops[i + n])) {
			to_sv_gate(&p->ops[i + n], &g[n]);
			n++;
		}
		qrtx_sv_apply_batch(sv, g, n, NULL);
		i += n;
	}
	if (g != small)
		free(g);
	return i;
}
