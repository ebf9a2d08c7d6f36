// SPDX-License-Identifier: MIT
/*
 * Cache-blocked gate runs: see batch.h for what and why.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "batch.h"
#include "sv.h"

/* How far ahead of the first pending gate a run may reach. */
#define SCAN_WINDOW 4096
/* A block away from the lowest qubits is processed in place all the
 * same: its amplitudes lie in 2^(B - c) segments of 2^c consecutive ones
 * (c: the lowest qubits it always includes), and the kernels address
 * them through the plan's smask. Short segments cost memory speed (each
 * starts a new stream for the prefetchers), long ones leave fewer of the
 * B qubits for high ones. Measured at n = 24 and 26 (double, fused
 * width 3, 2 threads, the layered family): 4 to 16 KiB segments 10 to
 * 17 % faster than 64 KiB ones copied through a per-thread buffer (the
 * way this worked before), 2 KiB ones less; the QFT did not move. */
#define SEGMENT_BYTES (16u << 10)

unsigned int sv_pick_block_bits(enum qrtx_precision prec)
{
	const char *env = getenv("QRTX_SV_BLOCK_BITS");
	long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
	size_t budget = l2 > 0 ? (size_t)l2 / 2 : 256u << 10;
	unsigned int b = 0;

	if (env && atoi(env) >= 8 && atoi(env) <= 30)
		return (unsigned int)atoi(env);
	while ((sv_amp_size(prec) << (b + 1)) <= budget)
		b++;
	return b < 10 ? 10 : b > 20 ? 20 : b;
}

unsigned int qrtx_sv_block_bits(const struct qrtx_sv *sv)
{
	return sv->block_bits;
}

/* Lowest qubits every strided block includes: SEGMENT_BYTES worth, but
 * leaving at least 3 of the B qubits for high ones. */
static unsigned int low_fill(const struct qrtx_sv *sv)
{
	unsigned int lf = 0;

	while ((sv_amp_size(sv->prec) << lf) < SEGMENT_BYTES)
		lf++;
	return lf + 3 > sv->block_bits ? sv->block_bits - 3 : lf;
}

static uint64_t gate_mask(const struct qrtx_sv_gate *g)
{
	uint64_t m = 0;

	for (uint32_t i = 0; i < g->k; i++)
		m |= 1ull << g->targets[i];
	if (g->kind == QRTX_SV_GATE_CONTROLLED)
		for (uint32_t i = 0; i < g->nc; i++)
			m |= 1ull << g->controls[i];
	return m;
}

static void apply_one(struct qrtx_sv *sv, const struct qrtx_sv_gate *g)
{
	switch (g->kind) {
	case QRTX_SV_GATE_DIAG:
		qrtx_sv_apply_diag(sv, g->targets, g->k, g->m);
		break;
	case QRTX_SV_GATE_CONTROLLED:
		qrtx_sv_apply_controlled(sv, g->controls, g->nc, g->targets, g->k, g->m);
		break;
	default:
		qrtx_sv_apply_dense(sv, g->targets, g->k, g->m);
		break;
	}
}

struct run {
	unsigned int B;
	uint32_t free[64];	/* qubits outside the block, ascending */
	unsigned int nfree;
	size_t ng;
	struct sv_gate_plan *gp;
};

struct run_task {
	struct qrtx_sv *sv;
	const struct run *r;
};

static void run_blocks(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct run_task *t = c;
	const struct run *r = t->r;
	struct qrtx_sv *sv = t->sv;
	size_t asz = sv_amp_size(sv->prec);
	unsigned char *amps = sv->amps;
	uint64_t b, e;

	(void)thread;
	sv_split(1ull << r->nfree, part, nparts, &b, &e);
	for (uint64_t blk = b; blk < e; blk++) {
		uint64_t base = 0;

		for (unsigned int i = 0; i < r->nfree; i++)
			base |= ((blk >> i) & 1) << r->free[i];
		for (size_t i = 0; i < r->ng; i++)
			r->gp[i].fn(&r->gp[i].p, amps + base * asz, 0, r->gp[i].p.ngroups);
	}
}

/* Plan every gate of the run on a block of B qubits, in sv->plans: the
 * plans first, then their tables; grown (and kept) as runs need. */
static int plan_run(struct qrtx_sv *sv, struct run *r, const struct qrtx_sv_gate *gates,
		    const size_t *idx, const uint32_t *s)
{
	uint32_t local[64];
	size_t head = (sizeof(struct sv_gate_plan) * r->ng + 63) & ~(size_t)63;
	size_t want = head + (64u << 10);

	for (unsigned int i = 0; i < r->B; i++)
		local[s[i]] = i;
	for (;;) {
		struct sv_arena tmp = { .base = sv->scratch, .len = SV_SCRATCH_TMP };
		struct sv_arena a;
		int ret = 0;

		if (sv->plans_len < want) {
			size_t len = 256u << 10;
			void *mem;

			while (len < want)
				len *= 2;
			if (posix_memalign(&mem, 64, len))
				return -ENOMEM;
			free(sv->plans);
			sv->plans = mem;
			sv->plans_len = len;
		}
		r->gp = sv->plans;
		a.base = (unsigned char *)sv->plans + head;
		a.len = sv->plans_len - head;
		a.used = 0;
		for (size_t i = 0; i < r->ng && !ret; i++) {
			const struct qrtx_sv_gate *g = &gates[idx[i]];
			uint32_t t[QRTX_SV_MAX_DENSE], cq[QRTX_SV_GATE_MAX_CONTROLS];
			unsigned int nc = g->kind == QRTX_SV_GATE_CONTROLLED ? g->nc : 0;

			for (uint32_t j = 0; j < g->k; j++)
				t[j] = local[g->targets[j]];
			for (uint32_t j = 0; j < nc; j++)
				cq[j] = local[g->controls[j]];
			ret = sv_gate_plan(sv, r->B, g->kind == QRTX_SV_GATE_DIAG, t, g->k, cq, nc,
					   g->m, &tmp, &a, &r->gp[i]);
		}
		if (ret != -ENOSPC)
			return ret;
		/* Tables did not fit: grow and plan again. */
		want = 2 * sv->plans_len;
	}
}

static int exec_run(struct qrtx_sv *sv, const struct qrtx_sv_gate *gates, const size_t *idx,
		    size_t ng, uint64_t U, struct qrtx_sv_batch_stats *st)
{
	struct run r = { .B = sv->block_bits, .ng = ng };
	struct run_task t = { .sv = sv, .r = &r };
	unsigned int lowfill = low_fill(sv), ns = 0, c0 = 0;
	uint32_t s[64];
	uint64_t S;
	int ret;

	if ((U >> r.B) == 0) {
		S = (1ull << r.B) - 1;
	} else {
		S = U | ((1ull << lowfill) - 1);
		for (uint32_t q = 0; __builtin_popcountll(S) < (int)r.B; q++)
			S |= 1ull << q;
	}
	for (uint32_t q = 0; q < sv->n; q++) {
		if (S & (1ull << q))
			s[ns++] = q;
		else
			r.free[r.nfree++] = q;
	}
	while (c0 < r.B && s[c0] == c0)
		c0++;
	ret = plan_run(sv, &r, gates, idx, s);
	if (ret)
		return ret;
	if (c0 < r.B) {
		/* Strided: the plans' offsets become offsets in the state. */
		for (size_t i = 0; i < ng; i++) {
			struct sv_plan *p = &r.gp[i].p;

			p->seg = c0;
			p->smask = S;
			for (unsigned int h = 0; h < SV_MAX_KK; h++)
				p->off[h] = sv_deposit(p, p->off[h]);
			p->pair_off = sv_deposit(p, p->pair_off);
		}
	}
	sv_run(sv, run_blocks, &t);
	st->passes++;
	st->blocked++;
	st->strided += c0 < r.B;
	return 0;
}

void qrtx_sv_apply_batch(struct qrtx_sv *sv, const struct qrtx_sv_gate *gates, size_t n,
			 struct qrtx_sv_batch_stats *stats)
{
	struct qrtx_sv_batch_stats st = { 0 };
	unsigned int B = sv->block_bits, lowfill = low_fill(sv);
	uint64_t all = sv->n == 64 ? ~0ull : (1ull << sv->n) - 1, lowmask;
	unsigned char *done = NULL;
	size_t *idx = NULL, first = 0;

	lowmask = (1ull << lowfill) - 1;
	if (sv->n > B) {
		done = calloc(n, 1);
		idx = malloc(n * sizeof(*idx));
	}
	if (!done || !idx) {
		/* Small state (it is all one block) or no memory: one by one. */
		for (size_t i = 0; i < n; i++)
			apply_one(sv, &gates[i]);
		st.passes = n;
		goto out;
	}
	while (first < n) {
		uint64_t U = 0, blocked = 0;
		size_t ng = 0;

		for (size_t i = first; i < n && i - first < SCAN_WINDOW && blocked != all; i++) {
			uint64_t gm;
			bool fits;

			if (done[i])
				continue;
			gm = gate_mask(&gates[i]);
			fits = !(gm & blocked) && __builtin_popcountll(U | gm) <= (int)B &&
			       (((U | gm) >> B) == 0 ||
				__builtin_popcountll(U | gm | lowmask) <= (int)B);
			if (fits) {
				U |= gm;
				idx[ng++] = i;
				done[i] = 1;
			} else {
				/* Later gates on these qubits must wait for it. */
				blocked |= gm;
			}
		}
		if (ng == 0) {
			/* Wider than a block (many controls): on its own. */
			idx[ng++] = first;
			done[first] = 1;
		}
		while (first < n && done[first])
			first++;
		if (ng == 1 || exec_run(sv, gates, idx, ng, U, &st)) {
			for (size_t i = 0; i < ng; i++)
				apply_one(sv, &gates[idx[i]]);
			st.passes += ng;
		}
	}
out:
	free(done);
	free(idx);
	if (stats)
		*stats = st;
}
