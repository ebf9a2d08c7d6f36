/* SPDX-License-Identifier: MIT */
/*
 * Executing one PUB of a job on the CPU engine or the CUDA engine:
 * Sampler counts, exact outcome probabilities, Estimator expectation
 * values.
 *
 * Outcomes are integers over all classical bits (bit i = classical bit i;
 * bits never written by a measurement read 0) and print as bitstrings with
 * classical bit 0 rightmost, as Qiskit and the reference corpus do.
 * Circuits with more than 64 classical bits are refused.
 */
#ifndef QRTX_EXEC_H
#define QRTX_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "qrtx/error.h"
#include "qrtx/job.h"
#include "qrtx/program.h"
#include "qrtx/statevec.h"

struct qrtx_outcome {
	uint64_t bits;
	uint64_t count;		/* Sampler */
	double p;		/* exact */
};

struct qrtx_pub_result {
	enum qrtx_pub_kind kind;
	uint64_t shots;
	/* Sampler: distinct outcomes sorted by bits, with counts */
	struct qrtx_outcome *counts;
	size_t ncounts;
	uint64_t *memory;	/* per-shot outcomes in shot order, when asked */
	/* exact distribution (when asked): outcomes with p > 0 sorted by bits */
	struct qrtx_outcome *probs;
	size_t nprobs;
	/* Estimator */
	double *values, *std_errors;
	uint32_t nvalues;
	/* lowering figures */
	size_t ngates, nkops;
	bool per_shot;		/* mid-circuit measurement, reset or if */
};

/* Called now and then with the fraction done, from the executing thread. */
typedef void (*qrtx_progress_fn)(void *arg, double fraction);

struct qrtx_exec_opts {
	struct qrtx_sv_config sv;	/* the CPU engine's (precision: the job's) */
	/* The CUDA engine on cuda_device (QRTX_GPU_EMULATE: its host
	 * emulation, for tests) instead of the CPU engine. */
	bool cuda;
	int cuda_device;
	unsigned int fuse_max;		/* 0: default */
	bool exact;			/* also compute the exact distribution */
	bool memory;			/* keep per-shot outcomes */
	qrtx_progress_fn progress;
	void *progress_arg;
};

/* Memory the state needs for this circuit: one state, or two when the
 * circuit must be simulated shot by shot (the prefix is kept). */
uint64_t qrtx_exec_state_bytes(const struct qrtx_circuit *c, enum qrtx_precision p);

/* Run pub of job with the given rng seed. On failure err says why
 * (QRTX_ERR_COMPILE, QRTX_ERR_ALLOCATION, QRTX_ERR_EXECUTE). */
int qrtx_exec_pub(const struct qrtx_job_spec *job, const struct qrtx_pub *pub,
		  uint64_t seed, const struct qrtx_exec_opts *opts,
		  struct qrtx_pub_result *res, struct qrtx_error *err);
void qrtx_pub_result_free(struct qrtx_pub_result *res);

/* Bitstring of an outcome over nclbits, classical bit 0 rightmost;
 * buf needs nclbits + 1 bytes. */
void qrtx_outcome_format(uint64_t bits, uint32_t nclbits, char *buf);

#endif
