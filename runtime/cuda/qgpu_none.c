// SPDX-License-Identifier: MIT
/*
 * The CUDA engine's core in a build without nvcc: there is none, and
 * every entry says so. Nothing can make a state, so the calls that take
 * one are never reached.
 */
#include <errno.h>
#include <stdio.h>

#include "qgpu.h"

#define NO_ENGINE "this build has no CUDA engine (nvcc was not found when it was built)"

int qgpu_built(void)
{
	return 0;
}

int qgpu_count(char *why, size_t len)
{
	snprintf(why, len, NO_ENGINE);
	return -ENODEV;
}

int qgpu_mem_info(int dev, uint64_t *free_bytes, uint64_t *total_bytes, char *why, size_t len)
{
	(void)dev;
	*free_bytes = *total_bytes = 0;
	snprintf(why, len, NO_ENGINE);
	return -ENODEV;
}

int qgpu_name(int dev, char *buf, size_t len)
{
	(void)dev;
	snprintf(buf, len, NO_ENGINE);
	return -ENODEV;
}

int qgpu_new(uint32_t n, int single, int dev, struct qgpu **out, char *why, size_t len)
{
	(void)n;
	(void)single;
	(void)dev;
	*out = NULL;
	snprintf(why, len, NO_ENGINE);
	return -ENODEV;
}

void qgpu_free(struct qgpu *g)
{
	(void)g;
}

const char *qgpu_error(const struct qgpu *g)
{
	(void)g;
	return NO_ENGINE;
}

int qgpu_zero(struct qgpu *g)
{
	(void)g;
	return -ENODEV;
}

int qgpu_copy(struct qgpu *dst, const struct qgpu *src)
{
	(void)dst;
	(void)src;
	return -ENODEV;
}

int qgpu_read(struct qgpu *g, double *out)
{
	(void)g;
	(void)out;
	return -ENODEV;
}

int qgpu_load(struct qgpu *g, const double *in)
{
	(void)g;
	(void)in;
	return -ENODEV;
}

int qgpu_gate(struct qgpu *g, int diag, const uint32_t *targets, unsigned int k,
	      const uint32_t *controls, unsigned int nc, const double *m)
{
	(void)g;
	(void)diag;
	(void)targets;
	(void)k;
	(void)controls;
	(void)nc;
	(void)m;
	return -ENODEV;
}

int qgpu_prob01(struct qgpu *g, uint32_t q, double *p)
{
	(void)g;
	(void)q;
	(void)p;
	return -ENODEV;
}

int qgpu_collapse(struct qgpu *g, uint32_t q, int outcome, double scale, int reset)
{
	(void)g;
	(void)q;
	(void)outcome;
	(void)scale;
	(void)reset;
	return -ENODEV;
}

int qgpu_norm2(struct qgpu *g, double *out)
{
	(void)g;
	(void)out;
	return -ENODEV;
}

int qgpu_probabilities(struct qgpu *g, const uint32_t *q, unsigned int n, double *probs)
{
	(void)g;
	(void)q;
	(void)n;
	(void)probs;
	return -ENODEV;
}

int qgpu_sample_full(struct qgpu *g, const uint32_t *q, unsigned int n, uint64_t shots,
		     const double *u, uint64_t *out)
{
	(void)g;
	(void)q;
	(void)n;
	(void)shots;
	(void)u;
	(void)out;
	return -ENODEV;
}

int qgpu_expect_pauli(struct qgpu *g, uint64_t xmask, uint64_t zmask, double *out)
{
	(void)g;
	(void)xmask;
	(void)zmask;
	(void)out;
	return -ENODEV;
}

int qgpu_sync(struct qgpu *g)
{
	(void)g;
	return -ENODEV;
}

int qgpu_copy_bw(int dev, size_t bytes, int reps, double *bytes_per_s, char *why, size_t len)
{
	(void)dev;
	(void)bytes;
	(void)reps;
	*bytes_per_s = 0;
	snprintf(why, len, NO_ENGINE);
	return -ENODEV;
}
