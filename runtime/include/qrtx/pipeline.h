/* SPDX-License-Identifier: MIT */
/*
 * The in-process pipeline behind `qrtx run`: one job through validate,
 * compile, queue, reserve, execute and complete, with every artifact
 * persisted under circuit_fs/<job_id>/. No daemon and no kernel module are
 * needed: reservations go through /dev/qrtx when it exists, else through
 * the in-process ledger.
 *
 * Lifecycle guarantee: whatever happens, the state vector is freed and the
 * reservation released before the function returns its error.
 */
#ifndef QRTX_PIPELINE_H
#define QRTX_PIPELINE_H

#include <stdint.h>

#include "qrtx/exec.h"
#include "qrtx/job.h"
#include "qrtx/jobstate.h"
#include "qrtx/store.h"

/* Which part of the pipeline a call runs (qrtxd holds a job in Queued
 * between the two parts, without a worker). */
enum qrtx_run_part {
	QRTX_RUN_WHOLE = 0,
	QRTX_RUN_PREPARE,	/* validate and compile, stop in Queued */
	QRTX_RUN_EXECUTE,	/* prepared before: from Allocating to the end */
};

struct qrtx_run_opts {
	const char *state_dir;		/* NULL: qrtx_store_default_dir() */
	const char *device;		/* NULL: /dev/qrtx, else in-process */
	const char *input_json;		/* input.job.json, as submitted */
	/* A job that exists already (qrtxd made it and wrote its
	 * input.job.json before acknowledging it): run it under this id
	 * and leave its input alone; input_json is then unused. */
	const char *job_id;
	/* Called after every move of the job's state (and Executing
	 * sub-state), e.g. for a worker to report progress. */
	void (*on_state)(void *arg, const struct qrtx_jobstate *js);
	void *on_state_arg;
	/* When set, every artifact after input.job.json goes here instead
	 * of being written under circuit_fs/<job_id>/ (qrtxd's workers hand
	 * them to the daemon, which writes them). Returns 0 or -errno with
	 * err set; a failure fails the job like a failed write would. */
	int (*persist)(void *arg, const char *name, const char *data, size_t len,
		       struct qrtx_error *err);
	void *persist_arg;
	enum qrtx_run_part part;
	struct qrtx_exec_opts exec;
};

struct qrtx_run_result {
	char job_id[QRTX_JOB_ID_MAX];
	char dir[4096];			/* the job's artifact directory */
	struct qrtx_jobstate js;
	uint64_t seed;
	const char *ledger;		/* "kernel" or "in-process" */
	uint64_t reserved_qubits, reserved_host_bytes, reserved_gpu_bytes;
	int gpu_index;			/* the GPU pool reserved from, or -1 */
	struct qrtx_pub_result *pubs;
	uint32_t npubs;
	char *results_json;		/* results.json as written (malloc'd) */
};

/* Returns 0 when the job completed (QRTX_RUN_PREPARE: when it reached
 * Queued, with no meta.json written); otherwise -errno with err set (and
 * res->js in Failed) — res->job_id is set as soon as the job exists. */
int qrtx_run_job(const struct qrtx_job_spec *job, const struct qrtx_run_opts *opts,
		 struct qrtx_run_result *res, struct qrtx_error *err);
void qrtx_run_result_free(struct qrtx_run_result *res);

/* The compiled IR as the compiled.aqo.json document (malloc'd text). */
char *qrtx_circuit_to_aqo_json(const struct qrtx_circuit *c);

#endif
