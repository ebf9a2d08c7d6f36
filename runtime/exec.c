// SPDX-License-Identifier: MIT
/*
 * Executing a PUB on the CPU engine or the CUDA engine.
 *
 * When every measurement is terminal, the state is evolved once and all
 * shots are drawn from it. Otherwise the state before the first
 * non-unitary operation (measure, reset, if) is kept and every shot
 * continues from a copy of it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/exec.h"
#include "qrtx/gpusv.h"
#include "qrtx/rng.h"

/* Progress reports per evolution: few enough that the engine gets long
 * runs of gates to apply while a block of the state sits in cache. */
#define PROGRESS_STEPS 20

void qrtx_outcome_format(uint64_t bits, uint32_t nclbits, char *buf)
{
	for (uint32_t i = 0; i < nclbits; i++)
		buf[nclbits - 1 - i] = (bits >> i) & 1 ? '1' : '0';
	buf[nclbits] = '\0';
}

static bool circuit_per_shot(const struct qrtx_circuit *c)
{
	return qrtx_circuit_measurements_terminal(c) != 1;
}

uint64_t qrtx_exec_state_bytes(const struct qrtx_circuit *c, enum qrtx_precision p)
{
	uint64_t one = qrtx_sv_bytes(c->nqubits, p);

	return circuit_per_shot(c) ? 2 * one : one;
}

void qrtx_pub_result_free(struct qrtx_pub_result *res)
{
	if (!res)
		return;
	free(res->counts);
	free(res->memory);
	free(res->probs);
	free(res->values);
	free(res->std_errors);
	memset(res, 0, sizeof(*res));
}

static void progress(const struct qrtx_exec_opts *o, double f)
{
	if (o->progress)
		o->progress(o->progress_arg, f);
}

/*
 * The engine a PUB runs on: one of the two states is set. The CPU engine
 * cannot fail once its state exists; the CUDA engine's calls can, and
 * their failure is an ExecuteError with the CUDA text (gpu_fail).
 */
struct eng {
	struct qrtx_sv *cpu;
	struct qrtx_gpusv *gpu;
	struct qrtx_error *err;
};

static int gpu_fail(struct eng *e, int ret)
{
	if (ret)
		qrtx_error_set(e->err, QRTX_ERR_EXECUTE, ret, NULL, 0, 0, "CUDA engine: %s",
			       qrtx_gpusv_error(e->gpu)[0] ? qrtx_gpusv_error(e->gpu) :
			       strerror(-ret));
	return ret;
}

static int eng_new(struct eng *e, uint32_t n, const struct qrtx_exec_opts *o,
		   enum qrtx_precision prec, struct qrtx_error *err)
{
	struct qrtx_sv_config cfg = o->sv;

	e->err = err;
	if (o->cuda)
		return qrtx_gpusv_new(n, prec, o->cuda_device, &e->gpu, err);
	cfg.precision = prec;
	return qrtx_sv_new(n, &cfg, &e->cpu, err);
}

static void eng_free(struct eng *e)
{
	qrtx_sv_free(e->cpu);
	qrtx_gpusv_free(e->gpu);
}

static int eng_copy(struct eng *dst, const struct eng *src)
{
	if (dst->cpu) {
		qrtx_sv_copy(dst->cpu, src->cpu);
		return 0;
	}
	return gpu_fail(dst, qrtx_gpusv_copy(dst->gpu, src->gpu));
}

static int gpu_kop(struct eng *e, const struct qrtx_kop *k)
{
	switch (k->kind) {
	case QRTX_K_DENSE:
		return qrtx_gpusv_apply_dense(e->gpu, k->qubits, k->nq, k->m);
	case QRTX_K_DIAG:
		return qrtx_gpusv_apply_diag(e->gpu, k->qubits, k->nq, k->m);
	case QRTX_K_CONTROLLED:
		return qrtx_gpusv_apply_controlled(e->gpu, k->controls, k->nc, k->qubits, k->nq,
						   k->m);
	default:
		return 0;
	}
}

static void cpu_kop(struct qrtx_sv *sv, const struct qrtx_kop *k)
{
	switch (k->kind) {
	case QRTX_K_DENSE:
		qrtx_sv_apply_dense(sv, k->qubits, k->nq, k->m);
		break;
	case QRTX_K_DIAG:
		qrtx_sv_apply_diag(sv, k->qubits, k->nq, k->m);
		break;
	case QRTX_K_CONTROLLED:
		qrtx_sv_apply_controlled(sv, k->controls, k->nc, k->qubits, k->nq, k->m);
		break;
	default:
		break;
	}
}

/* One gate, whatever its condition says (the caller checked it). */
static int eng_kop(struct eng *e, const struct qrtx_kop *k)
{
	if (e->cpu) {
		cpu_kop(e->cpu, k);
		return 0;
	}
	return gpu_fail(e, gpu_kop(e, k));
}

/* As qrtx_program_apply: ops [from, to) up to the first that is not an
 * unconditioned gate, whose index *stop gets. */
static int eng_apply(struct eng *e, const struct qrtx_program *p, size_t from, size_t to,
		     size_t *stop)
{
	size_t i = from;
	int ret = 0;

	if (e->cpu) {
		*stop = qrtx_program_apply(p, from, to, e->cpu);
		return 0;
	}
	for (; i < to && !ret; i++) {
		const struct qrtx_kop *k = &p->ops[i];

		if (k->cond.creg >= 0 || (k->kind != QRTX_K_DENSE && k->kind != QRTX_K_DIAG &&
					  k->kind != QRTX_K_CONTROLLED))
			break;
		ret = gpu_fail(e, gpu_kop(e, k));
	}
	*stop = i;
	return ret;
}

static int eng_measure(struct eng *e, uint32_t q, double r, int *outcome)
{
	if (e->cpu) {
		*outcome = qrtx_sv_measure(e->cpu, q, r);
		return 0;
	}
	return gpu_fail(e, qrtx_gpusv_measure(e->gpu, q, r, outcome));
}

static int eng_reset(struct eng *e, uint32_t q, double r)
{
	if (e->cpu) {
		qrtx_sv_reset(e->cpu, q, r);
		return 0;
	}
	return gpu_fail(e, qrtx_gpusv_reset(e->gpu, q, r));
}

static int eng_probabilities(struct eng *e, const uint32_t *q, unsigned int n, double *probs)
{
	if (e->cpu)
		return qrtx_sv_probabilities(e->cpu, q, n, probs) ? -EINVAL : 0;
	return gpu_fail(e, qrtx_gpusv_probabilities(e->gpu, q, n, probs));
}

static int eng_sample(struct eng *e, const uint32_t *q, unsigned int n, uint64_t shots,
		      struct qrtx_rng *rng, uint64_t *out)
{
	if (e->cpu)
		return qrtx_sv_sample(e->cpu, q, n, shots, rng, out);
	return gpu_fail(e, qrtx_gpusv_sample(e->gpu, q, n, shots, rng, out));
}

static int eng_expect(struct eng *e, uint64_t x, uint64_t z, double *out)
{
	if (e->cpu) {
		*out = qrtx_sv_expect_pauli(e->cpu, x, z);
		return 0;
	}
	return gpu_fail(e, qrtx_gpusv_expect_pauli(e->gpu, x, z, out));
}

/* Evolve through every gate, skipping (terminal) measurements and barriers. */
static int evolve_terminal(const struct qrtx_program *p, struct eng *e,
			   const struct qrtx_exec_opts *o)
{
	size_t i = 0, stride = o->progress ? p->nops / PROGRESS_STEPS + 1 : p->nops;

	while (i < p->nops) {
		size_t to = i + stride < p->nops ? i + stride : p->nops, stop;
		int ret = eng_apply(e, p, i, to, &stop);

		if (ret)
			return ret;
		if (stop < to)
			stop++;	/* a measurement or barrier: nothing to do now */
		i = stop;
		progress(o, (double)i / (double)p->nops);
	}
	return 0;
}

/*
 * The qubits whose outcome ends up in a classical bit (the last
 * measurement into each bit wins), and for each such qubit the classical
 * bits it lands in.
 */
struct measured {
	uint32_t nq;
	uint32_t qubits[64];
	uint64_t clmask[64];	/* classical bits fed by qubits[j] */
};

static int measured_of(const struct qrtx_program *p, struct measured *m,
		       struct qrtx_error *err)
{
	int64_t writer[64];

	if (p->nclbits > 64) {
		qrtx_error_set(err, QRTX_ERR_COMPILE, -E2BIG, NULL, 0, 0,
			       "%u classical bits: at most 64 are supported",
			       p->nclbits);
		return -E2BIG;
	}
	for (int i = 0; i < 64; i++)
		writer[i] = -1;
	for (size_t i = 0; i < p->nops; i++)
		if (p->ops[i].kind == QRTX_K_MEASURE)
			writer[p->ops[i].clbit] = p->ops[i].qubits[0];
	memset(m, 0, sizeof(*m));
	for (uint32_t b = 0; b < p->nclbits; b++) {
		uint32_t j;

		if (writer[b] < 0)
			continue;
		for (j = 0; j < m->nq; j++)
			if (m->qubits[j] == (uint32_t)writer[b])
				break;
		if (j == m->nq)
			m->qubits[m->nq++] = (uint32_t)writer[b];
		m->clmask[j] |= 1ull << b;
	}
	return 0;
}

/* Map an outcome over m->qubits (bit j = qubits[j]) to classical bits. */
static uint64_t to_clbits(const struct measured *m, uint64_t q)
{
	uint64_t bits = 0;

	for (uint32_t j = 0; j < m->nq; j++)
		if (q >> j & 1)
			bits |= m->clmask[j];
	return bits;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Outcomes counted by direct indexing when their values lie below this
 * (and below 2 x shots): a table of that many counters costs less than
 * sorting the shots. */
#define TALLY_DIRECT_MAX (1u << 20)

/* Turn per-shot outcomes into counts sorted by outcome: through a table
 * of counters when the outcomes' values are small (the usual case: a few
 * classical bits), else by sorting a copy of the shots. */
static int tally(const uint64_t *shots, uint64_t n, struct qrtx_pub_result *res)
{
	uint64_t any = 0, range, *sorted;
	size_t distinct = 0;

	for (uint64_t i = 0; i < n; i++)
		any |= shots[i];
	/* every value v has v | any == any, so v <= any */
	if (any < TALLY_DIRECT_MAX && any < 2 * n + 64) {
		uint64_t *c;

		range = any + 1;
		c = calloc(range, sizeof(*c));

		if (!c)
			return -ENOMEM;
		for (uint64_t i = 0; i < n; i++)
			c[shots[i]]++;
		for (uint64_t v = 0; v < range; v++)
			distinct += c[v] != 0;
		res->counts = calloc(distinct ? distinct : 1, sizeof(*res->counts));
		if (!res->counts) {
			free(c);
			return -ENOMEM;
		}
		for (uint64_t v = 0; v < range; v++) {
			if (c[v]) {
				res->counts[res->ncounts].bits = v;
				res->counts[res->ncounts++].count = c[v];
			}
		}
		free(c);
		return 0;
	}
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, shots, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		if (!i || sorted[i] != sorted[i - 1])
			distinct++;
	res->counts = calloc(distinct ? distinct : 1, sizeof(*res->counts));
	if (!res->counts) {
		free(sorted);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (!i || sorted[i] != sorted[i - 1])
			res->counts[res->ncounts++].bits = sorted[i];
		res->counts[res->ncounts - 1].count++;
	}
	free(sorted);
	return 0;
}

static int exact_distribution(struct eng *e, const struct measured *m,
			      struct qrtx_pub_result *res, struct qrtx_error *err)
{
	uint64_t n = 1ull << m->nq;
	double *probs;

	if (m->nq > 28) {
		qrtx_error_set(err, QRTX_ERR_EXECUTE, -E2BIG, NULL, 0, 0,
			       "the exact distribution over %u measured qubits is too large (at most 28)",
			       m->nq);
		return -E2BIG;
	}
	probs = malloc(n * sizeof(*probs));
	if (!probs)
		return -ENOMEM;
	if (eng_probabilities(e, m->qubits, m->nq, probs)) {
		free(probs);
		return -EINVAL;
	}
	for (uint64_t i = 0; i < n; i++)
		if (probs[i] > 0)
			res->nprobs++;
	res->probs = calloc(res->nprobs ? res->nprobs : 1, sizeof(*res->probs));
	if (!res->probs) {
		free(probs);
		return -ENOMEM;
	}
	res->nprobs = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (probs[i] > 0) {
			res->probs[res->nprobs].bits = to_clbits(m, i);
			res->probs[res->nprobs++].p = probs[i];
		}
	}
	free(probs);
	/* Outcomes over qubits map one to one onto classical values. */
	qsort(res->probs, res->nprobs, sizeof(*res->probs), cmp_u64);
	return 0;
}

static int sample_terminal(struct eng *e, const struct measured *m,
			   uint64_t shots, struct qrtx_rng *rng, uint64_t *out)
{
	int err;

	if (!m->nq) {
		memset(out, 0, shots * sizeof(*out));
		return 0;
	}
	err = eng_sample(e, m->qubits, m->nq, shots, rng, out);
	if (err)
		return err;
	for (uint64_t s = 0; s < shots; s++)
		out[s] = to_clbits(m, out[s]);
	return 0;
}

static bool cond_holds(const struct qrtx_circuit *c, const struct qrtx_cond *cond,
		       uint64_t clbits)
{
	const struct qrtx_reg *r;
	uint64_t mask;

	if (cond->creg < 0)
		return true;
	r = &c->cregs[cond->creg];
	mask = r->size >= 64 ? ~0ull : (1ull << r->size) - 1;
	return ((clbits >> r->offset) & mask) == cond->value;
}

/* One shot from the prefix state onwards, starting at op index from. */
static int run_shot(const struct qrtx_circuit *c, const struct qrtx_program *p,
		    size_t from, struct eng *e, struct qrtx_rng *rng, uint64_t *out)
{
	uint64_t clbits = 0;
	size_t i = from;
	int ret = 0, o = 0;

	while (i < p->nops && !ret) {
		const struct qrtx_kop *k;

		ret = eng_apply(e, p, i, p->nops, &i);
		if (ret || i == p->nops)
			break;
		k = &p->ops[i++];
		if (!cond_holds(c, &k->cond, clbits))
			continue;
		switch (k->kind) {
		case QRTX_K_MEASURE:
			ret = eng_measure(e, k->qubits[0], qrtx_rng_uniform(rng), &o);
			if (o)
				clbits |= 1ull << k->clbit;
			else
				clbits &= ~(1ull << k->clbit);
			break;
		case QRTX_K_RESET:
			ret = eng_reset(e, k->qubits[0], qrtx_rng_uniform(rng));
			break;
		case QRTX_K_BARRIER:
			break;
		default:
			ret = eng_kop(e, k);
			break;
		}
	}
	*out = clbits;
	return ret;
}

/* Index of the first op that is not an unconditioned gate. */
static size_t first_non_unitary(const struct qrtx_program *p)
{
	for (size_t i = 0; i < p->nops; i++) {
		const struct qrtx_kop *k = &p->ops[i];

		if (k->cond.creg >= 0 || k->kind == QRTX_K_MEASURE ||
		    k->kind == QRTX_K_RESET)
			return i;
	}
	return p->nops;
}

static int estimate(struct eng *e, const struct qrtx_pub *pub, struct qrtx_pub_result *res)
{
	res->nvalues = pub->nobservables;
	res->values = calloc(pub->nobservables + 1, sizeof(double));
	res->std_errors = calloc(pub->nobservables + 1, sizeof(double));
	if (!res->values || !res->std_errors)
		return -ENOMEM;
	for (uint32_t o = 0; o < pub->nobservables; o++) {
		const struct qrtx_observable *obs = &pub->observables[o];
		double value = 0, var = 0;

		for (uint32_t t = 0; t < obs->nterms; t++) {
			const struct qrtx_pauli_term *term = &obs->terms[t];
			double v;
			int ret = eng_expect(e, term->xmask, term->zmask, &v);

			if (ret)
				return ret;
			value += term->coeff * v;
			/* A Pauli outcome is +-1: its variance is 1 - <P>^2. */
			var += term->coeff * term->coeff * (1 - v * v);
		}
		res->values[o] = value;
		res->std_errors[o] = pub->shots && var > 0 ?
			sqrt(var / (double)pub->shots) : 0;
	}
	return 0;
}

int qrtx_exec_pub(const struct qrtx_job_spec *job, const struct qrtx_pub *pub,
		  uint64_t seed, const struct qrtx_exec_opts *opts,
		  struct qrtx_pub_result *res, struct qrtx_error *err)
{
	const struct qrtx_circuit *c = job->circuit;
	struct qrtx_lower_opts lo = { .fuse_max = opts->fuse_max };
	struct qrtx_program *p = NULL;
	struct eng sv = { 0 }, work = { 0 };
	uint64_t *shots = NULL;
	struct measured m;
	struct qrtx_rng rng;
	int ret;

	memset(res, 0, sizeof(*res));
	res->kind = pub->kind;
	res->shots = pub->shots;
	res->per_shot = circuit_per_shot(c);
	qrtx_rng_seed(&rng, seed);

	ret = qrtx_lower(c, pub->values, &lo, &p, err);
	if (ret)
		goto out;
	res->ngates = p->ngates;
	res->nkops = p->nops;
	ret = measured_of(p, &m, err);
	if (ret)
		goto out;
	if (res->per_shot && (opts->exact || pub->kind == QRTX_PUB_ESTIMATOR)) {
		ret = -EINVAL;
		qrtx_error_set(err, QRTX_ERR_VALIDATION, ret, NULL, 0, 0,
			       "%s needs a circuit whose measurements are all terminal (no mid-circuit measurement, reset or if)",
			       opts->exact ? "an exact distribution" : "the Estimator");
		goto out;
	}
	ret = eng_new(&sv, c->nqubits, opts, job->precision, err);
	if (ret)
		goto out;

	if (pub->kind == QRTX_PUB_ESTIMATOR) {
		ret = evolve_terminal(p, &sv, opts);
		if (!ret)
			ret = estimate(&sv, pub, res);
		goto out;
	}

	shots = malloc((pub->shots ? pub->shots : 1) * sizeof(*shots));
	if (!shots) {
		ret = -ENOMEM;
		goto out;
	}
	if (!res->per_shot) {
		ret = evolve_terminal(p, &sv, opts);
		if (!ret && opts->exact)
			ret = exact_distribution(&sv, &m, res, err);
		if (!ret)
			ret = sample_terminal(&sv, &m, pub->shots, &rng, shots);
	} else {
		size_t prefix = first_non_unitary(p);

		/* The shared prefix; barriers in it are no-ops. */
		for (size_t i = 0; i < prefix && !ret; i++)
			ret = eng_apply(&sv, p, i, prefix, &i);
		if (!ret)
			ret = eng_new(&work, c->nqubits, opts, job->precision, err);
		for (uint64_t s = 0; s < pub->shots && !ret; s++) {
			ret = eng_copy(&work, &sv);
			if (!ret)
				ret = run_shot(c, p, prefix, &work, &rng, &shots[s]);
			if (!(s % 16))
				progress(opts, (double)s / (double)pub->shots);
		}
	}
	if (!ret)
		ret = tally(shots, pub->shots, res);
	if (!ret && opts->memory) {
		res->memory = shots;
		shots = NULL;
	}
	if (!ret)
		progress(opts, 1.0);
out:
	if (ret && err && err->category == QRTX_ERR_NONE)
		qrtx_error_set(err, QRTX_ERR_EXECUTE, ret, NULL, 0, 0,
			       "execution failed: %s", strerror(-ret));
	if (ret)
		qrtx_pub_result_free(res);
	free(shots);
	eng_free(&work);
	eng_free(&sv);
	qrtx_program_free(p);
	return ret;
}
