/* SPDX-License-Identifier: MIT */
/*
 * A job as submitted: one circuit, job options, and one or more PUBs
 * (primitive unified blocs): parameter bindings with either a Sampler
 * shot count or Estimator observables. A sweep of N points is N PUBs of
 * one job. Built by the JSON graph front end, or from a QASM file plus
 * command-line options.
 */
#ifndef QRTX_JOB_H
#define QRTX_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "qrtx/circuit.h"
#include "qrtx/error.h"
#include "qrtx/statevec.h"

#define QRTX_DEFAULT_SHOTS 1024

/* One Pauli term: coeff * P, P as a string over the circuit's qubits in
 * Qiskit order (the last character acts on qubit 0). */
struct qrtx_pauli_term {
	double coeff;
	uint64_t xmask, zmask;	/* X where x, Z where z, Y where both */
};

struct qrtx_observable {
	char *text;		/* as written, e.g. "0.5*ZZI - 1.2*XIX" */
	struct qrtx_pauli_term *terms;
	uint32_t nterms;
};

enum qrtx_pub_kind { QRTX_PUB_SAMPLER, QRTX_PUB_ESTIMATOR };

struct qrtx_pub {
	enum qrtx_pub_kind kind;
	double *values;		/* one per circuit symbol, NULL when none */
	uint64_t shots;		/* Sampler shots; Estimator shot budget (0: exact only) */
	struct qrtx_observable *observables;	/* Estimator */
	uint32_t nobservables;
};

struct qrtx_job_spec {
	struct qrtx_circuit *circuit;	/* owned */
	uint64_t shots;			/* default for PUBs that give none */
	uint64_t seed;
	bool seed_set;			/* else a seed is drawn and recorded */
	enum qrtx_precision precision;
	char backend[64];		/* "<model>@<executor>", default "ideal@cpu" */
	int32_t priority;
	double timeout_s;		/* 0: none */
	bool memory;			/* keep per-shot bitstrings */
	struct qrtx_pub *pubs;
	uint32_t npubs;
};

void qrtx_job_spec_free(struct qrtx_job_spec *j);
/* Parse "0.5*ZZI - 1.2*XIX" (also "ZZ", "-X0", "+1e-3 * YIZ") for a
 * circuit of nqubits; every term's string must have nqubits letters. */
int qrtx_observable_parse(const char *text, uint32_t nqubits,
			  struct qrtx_observable *out, struct qrtx_error *err);
void qrtx_observable_free(struct qrtx_observable *o);

/* JSON graph front end (Documentation/runtime/graph-format.rst). */
int qrtx_graph_parse(const char *text, size_t len, const char *filename,
		     struct qrtx_job_spec **out, struct qrtx_error *err);
int qrtx_graph_parse_file(const char *path, struct qrtx_job_spec **out,
			  struct qrtx_error *err);

#endif
