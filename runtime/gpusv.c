// SPDX-License-Identifier: MIT
/*
 * The CUDA engine's public interface (qrtx/gpusv.h) over its core:
 * runtime/cuda/gpusv.cu, or in a build without nvcc runtime/cuda/qgpu_none.c,
 * which says there is no engine.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/gpusv.h"
#include "qrtx/rng.h"
#include "cuda/qgpu.h"

struct qrtx_gpusv {
	struct qgpu *g;
	uint32_t n;
	enum qrtx_precision prec;
};

bool qrtx_gpu_built(void)
{
	return qgpu_built();
}

uint64_t qrtx_gpusv_bytes(uint32_t nqubits, enum qrtx_precision p)
{
	return nqubits > 40 ? 0 : (uint64_t)(p == QRTX_PREC_SINGLE ? 8 : 16) << nqubits;
}

int qrtx_gpu_available(char *why, size_t len)
{
	return qgpu_count(why, len);
}

int qrtx_gpu_mem_info(int dev, uint64_t *free_bytes, uint64_t *total_bytes,
		      struct qrtx_error *err)
{
	char why[256] = "";
	int ret = qgpu_mem_info(dev, free_bytes, total_bytes, why, sizeof(why));

	if (ret)
		qrtx_error_set(err, QRTX_ERR_EXECUTE, ret, NULL, 0, 0, "%s", why);
	return ret;
}

int qrtx_gpu_name(int dev, char *buf, size_t len)
{
	return qgpu_name(dev, buf, len);
}

int qrtx_gpusv_new(uint32_t nqubits, enum qrtx_precision p, int dev,
		   struct qrtx_gpusv **out, struct qrtx_error *err)
{
	struct qrtx_gpusv *sv = calloc(1, sizeof(*sv));
	char why[256] = "";
	int ret;

	*out = NULL;
	if (!sv)
		return -ENOMEM;
	ret = qgpu_new(nqubits, p == QRTX_PREC_SINGLE, dev == QRTX_GPU_EMULATE ? QGPU_EMULATE : dev,
		       &sv->g, why, sizeof(why));
	if (ret) {
		free(sv);
		qrtx_error_set(err, ret == -ENOMEM ? QRTX_ERR_ALLOCATION : QRTX_ERR_EXECUTE, ret,
			       NULL, 0, 0, "%s", why);
		return ret;
	}
	sv->n = nqubits;
	sv->prec = p;
	*out = sv;
	return 0;
}

void qrtx_gpusv_free(struct qrtx_gpusv *sv)
{
	if (!sv)
		return;
	qgpu_free(sv->g);
	free(sv);
}

uint32_t qrtx_gpusv_nqubits(const struct qrtx_gpusv *sv)
{
	return sv->n;
}

int qrtx_gpusv_sync(struct qrtx_gpusv *sv)
{
	return qgpu_sync(sv->g);
}

int qrtx_gpu_copy_bandwidth(int dev, uint64_t bytes, double *bytes_per_s, char *why, size_t len)
{
	return qgpu_copy_bw(dev, bytes, 5, bytes_per_s, why, len);
}

int qrtx_gpusv_set_zero_state(struct qrtx_gpusv *sv)
{
	return qgpu_zero(sv->g);
}

int qrtx_gpusv_copy(struct qrtx_gpusv *dst, const struct qrtx_gpusv *src)
{
	return qgpu_copy(dst->g, src->g);
}

int qrtx_gpusv_read(const struct qrtx_gpusv *sv, double complex *out)
{
	return qgpu_read(sv->g, (double *)out);
}

int qrtx_gpusv_load(struct qrtx_gpusv *sv, const double complex *amps)
{
	return qgpu_load(sv->g, (const double *)amps);
}

int qrtx_gpusv_apply_dense(struct qrtx_gpusv *sv, const uint32_t *qubits, unsigned int k,
			   const double complex *m)
{
	return qgpu_gate(sv->g, 0, qubits, k, NULL, 0, (const double *)m);
}

int qrtx_gpusv_apply_diag(struct qrtx_gpusv *sv, const uint32_t *qubits, unsigned int k,
			  const double complex *d)
{
	return qgpu_gate(sv->g, 1, qubits, k, NULL, 0, (const double *)d);
}

int qrtx_gpusv_apply_controlled(struct qrtx_gpusv *sv, const uint32_t *controls,
				unsigned int ncontrols, const uint32_t *targets, unsigned int k,
				const double complex *m)
{
	return qgpu_gate(sv->g, 0, targets, k, controls, ncontrols, (const double *)m);
}

/* As the CPU engine (measure.c): outcome 0 when r (P(0) + P(1)) < P(0),
 * never one of probability 0, then renormalise. */
static int measure(struct qrtx_gpusv *sv, uint32_t qubit, double r, int *outcome, int reset)
{
	double p[2];
	int o, ret = qgpu_prob01(sv->g, qubit, p);

	if (ret)
		return ret;
	o = r * (p[0] + p[1]) < p[0] ? 0 : 1;
	if (p[o] <= 0)
		o ^= 1;
	ret = qgpu_collapse(sv->g, qubit, o, p[o] > 0 ? 1 / sqrt(p[o]) : 1.0, reset);
	if (!ret && outcome)
		*outcome = o;
	return ret;
}

int qrtx_gpusv_measure(struct qrtx_gpusv *sv, uint32_t qubit, double r, int *outcome)
{
	return measure(sv, qubit, r, outcome, 0);
}

int qrtx_gpusv_reset(struct qrtx_gpusv *sv, uint32_t qubit, double r)
{
	return measure(sv, qubit, r, NULL, 1);
}

int qrtx_gpusv_norm2(const struct qrtx_gpusv *sv, double *out)
{
	return qgpu_norm2(sv->g, out);
}

int qrtx_gpusv_probabilities(const struct qrtx_gpusv *sv, const uint32_t *qubits,
			     unsigned int n, double *probs)
{
	return qgpu_probabilities(sv->g, qubits, n, probs);
}

int qrtx_gpusv_sample(const struct qrtx_gpusv *sv, const uint32_t *qubits, unsigned int n,
		      uint64_t shots, struct qrtx_rng *rng, uint64_t *outcomes)
{
	double *u;
	int ret;

	if (n > 64 || n > sv->n)
		return -EINVAL;
	if (!shots)
		return 0;
	/* The CPU engine's choice, so that the same uniforms give the same
	 * outcomes: a marginal table while it is small. */
	if (qrtx_sample_by_table(qrtx_gpusv_bytes(sv->n, sv->prec), n)) {
		double *cdf = malloc(sizeof(*cdf) << n);

		if (!cdf)
			return -ENOMEM;
		ret = qgpu_probabilities(sv->g, qubits, n, cdf);
		if (!ret)
			qrtx_sample_cdf(cdf, 1ull << n, shots, rng, outcomes);
		free(cdf);
		return ret;
	}
	u = malloc(shots * sizeof(*u));
	if (!u)
		return -ENOMEM;
	for (uint64_t s = 0; s < shots; s++)
		u[s] = qrtx_rng_uniform(rng);
	ret = qgpu_sample_full(sv->g, qubits, n, shots, u, outcomes);
	free(u);
	return ret;
}

int qrtx_gpusv_expect_pauli(const struct qrtx_gpusv *sv, uint64_t xmask, uint64_t zmask,
			    double *out)
{
	return qgpu_expect_pauli(sv->g, xmask, zmask, out);
}

const char *qrtx_gpusv_error(const struct qrtx_gpusv *sv)
{
	return qgpu_error(sv->g);
}
