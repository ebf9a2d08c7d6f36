/* SPDX-License-Identifier: MIT */
/*
 * The CUDA engine's core (gpusv.cu), in plain C types so that it is
 * compiled by nvcc as C++ and called from C: amplitudes and matrices as
 * interleaved (re, im) doubles, errors as -errno with the text kept in the
 * state (or in why). The public interface is qrtx/gpusv.h (runtime/gpusv.c).
 */
#ifndef QRTX_QGPU_H
#define QRTX_QGPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct qgpu;

#define QGPU_EMULATE (-1)	/* host memory, kernels as loops (tests) */

/* 1 when the engine was built (nvcc found), 0 in qgpu_none.c. */
int qgpu_built(void);
int qgpu_count(char *why, size_t len);
int qgpu_mem_info(int dev, uint64_t *free_bytes, uint64_t *total_bytes, char *why, size_t len);
int qgpu_name(int dev, char *buf, size_t len);

int qgpu_new(uint32_t n, int single, int dev, struct qgpu **out, char *why, size_t len);
void qgpu_free(struct qgpu *g);
const char *qgpu_error(const struct qgpu *g);

int qgpu_zero(struct qgpu *g);
/* Wait for everything queued on the state. */
int qgpu_sync(struct qgpu *g);
/* Device-to-device copy bandwidth of dev (read + write bytes per second,
 * best of reps copies of bytes). */
int qgpu_copy_bw(int dev, size_t bytes, int reps, double *bytes_per_s, char *why, size_t len);
int qgpu_copy(struct qgpu *dst, const struct qgpu *src);
int qgpu_read(struct qgpu *g, double *out);
int qgpu_load(struct qgpu *g, const double *in);

/* diag: d has 2^k entries; else m is 2^k x 2^k, applied where every
 * control is 1. Targets and controls distinct, k <= 6. */
int qgpu_gate(struct qgpu *g, int diag, const uint32_t *targets, unsigned int k,
	      const uint32_t *controls, unsigned int nc, const double *m);

/* p[v]: the probability that qubit q reads v. */
int qgpu_prob01(struct qgpu *g, uint32_t q, double *p);
/* Keep the amplitudes with qubit q == outcome, scaled by scale; with reset
 * and outcome 1, move them to q == 0. */
int qgpu_collapse(struct qgpu *g, uint32_t q, int outcome, double scale, int reset);
int qgpu_norm2(struct qgpu *g, double *out);
/* Marginal over q[0..n), n <= 30, probs[2^n]. */
int qgpu_probabilities(struct qgpu *g, const uint32_t *q, unsigned int n, double *probs);
/* Outcomes over q[0..n) for uniforms x[s] in [0, total) where total is
 * the state's norm (the first index whose running sum of |a|^2 exceeds
 * x[s]), walking the whole state. */
int qgpu_sample_full(struct qgpu *g, const uint32_t *q, unsigned int n, uint64_t shots,
		     const double *u, uint64_t *out);
int qgpu_expect_pauli(struct qgpu *g, uint64_t xmask, uint64_t zmask, double *out);

#ifdef __cplusplus
}
#endif

#endif
