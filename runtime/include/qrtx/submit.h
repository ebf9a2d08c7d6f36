/* SPDX-License-Identifier: MIT */
/*
 * A job from what a user hands in: source text (OpenQASM 2.0 or a JSON
 * job graph) and options, as `qrtx run` takes them on its command line and
 * qrtxd over its socket. One place, so both make the same job of the same
 * input.
 */
#ifndef QRTX_SUBMIT_H
#define QRTX_SUBMIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qrtx/job.h"

#define QRTX_MAX_OBSERVABLES 64

struct qrtx_job_opts {
	uint64_t shots, seed;
	bool shots_set, seed_set;
	int precision;			/* -1: as the job says */
	const char *backend;		/* NULL: as the job says */
	bool memory, exact;
	bool priority_set, timeout_set;
	int32_t priority;
	double timeout_s;
	const char *observables[QRTX_MAX_OBSERVABLES];
	unsigned int nobservables;
};

void qrtx_job_opts_init(struct qrtx_job_opts *o);

/*
 * Parse text (a JSON graph when json, else QASM; name is the file name in
 * messages) and apply o: its options override the job's, observables add
 * an Estimator PUB, and a QASM circuit with measurements gets a Sampler
 * PUB. Errors are ValidationError (CompileError from the QASM front end).
 */
int qrtx_job_from_source(const char *name, const char *text, size_t len, bool json,
			 const struct qrtx_job_opts *o, struct qrtx_job_spec **out,
			 struct qrtx_error *err);

/* Options as the wire and input.job.json carry them (daemon.rst):
 * strings in o point into options, which must outlive o. */
int qrtx_job_opts_from_json(const json_t *options, struct qrtx_job_opts *o,
			    struct qrtx_error *err);

#endif
