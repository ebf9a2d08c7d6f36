/* SPDX-License-Identifier: MIT */
/*
 * CPU state-vector engine. The state of n qubits is 2^n amplitudes,
 * complex128 or complex64, index bit q = state of qubit q (qubit 0 is the
 * least significant bit). Work is spread over a persistent thread pool;
 * results never depend on the thread count (reductions use a fixed
 * partition of the index space).
 *
 * Gate matrices follow gates.h's convention: matrix index bit j is the
 * state of qubits[j]. Matrices are given in double precision and rounded
 * once for a single-precision state.
 */
#ifndef QRTX_STATEVEC_H
#define QRTX_STATEVEC_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qrtx/error.h"

#define QRTX_SV_MAX_QUBITS 40
/* Widest dense block the kernels apply (fusion never exceeds it). */
#define QRTX_SV_MAX_DENSE 6

enum qrtx_precision { QRTX_PREC_DOUBLE, QRTX_PREC_SINGLE };

struct qrtx_sv_config {
	enum qrtx_precision precision;
	unsigned int threads;	/* 0: online CPUs */
	bool no_numa;		/* skip libnuma placement */
	bool no_simd;		/* portable kernels only (tests) */
};

struct qrtx_sv;

/* Bytes of the amplitudes alone, or 0 on overflow. */
uint64_t qrtx_sv_bytes(uint32_t nqubits, enum qrtx_precision p);
/* Allocate |0...0>. Refuses with -ENOMEM and a message giving bytes needed
 * and bytes available when the state does not fit in memory. */
int qrtx_sv_new(uint32_t nqubits, const struct qrtx_sv_config *cfg,
		struct qrtx_sv **out, struct qrtx_error *err);
void qrtx_sv_free(struct qrtx_sv *sv);
uint32_t qrtx_sv_nqubits(const struct qrtx_sv *sv);
enum qrtx_precision qrtx_sv_precision(const struct qrtx_sv *sv);
unsigned int qrtx_sv_threads(const struct qrtx_sv *sv);
/* Which kernels run: "avx512", "avx2" or "portable". */
const char *qrtx_sv_isa(const struct qrtx_sv *sv);

void qrtx_sv_set_zero_state(struct qrtx_sv *sv);
/* dst must have src's size and precision. */
void qrtx_sv_copy(struct qrtx_sv *dst, const struct qrtx_sv *src);
/* Amplitude i, widened to double. */
double complex qrtx_sv_amp(const struct qrtx_sv *sv, uint64_t i);
/* Replace the whole state (tests); len must be 2^n. */
void qrtx_sv_load(struct qrtx_sv *sv, const double complex *amps);

/* Gates. k targets, distinct, < nqubits; m is 2^k x 2^k row-major. */
void qrtx_sv_apply_dense(struct qrtx_sv *sv, const uint32_t *qubits,
			 unsigned int k, const double complex *m);
/* Diagonal of length 2^k: touches each amplitude once, no pairing. */
void qrtx_sv_apply_diag(struct qrtx_sv *sv, const uint32_t *qubits,
			unsigned int k, const double complex *d);
/* Apply m (2^k x 2^k on targets) only where every control qubit is 1:
 * only the affected amplitudes are touched. */
void qrtx_sv_apply_controlled(struct qrtx_sv *sv, const uint32_t *controls,
			      unsigned int ncontrols, const uint32_t *targets,
			      unsigned int k, const double complex *m);

/* Measurement. r is a uniform draw in [0, 1) supplied by the caller so the
 * caller owns determinism. Collapses and renormalises; returns 0 or 1. */
int qrtx_sv_measure(struct qrtx_sv *sv, uint32_t qubit, double r);
/* Measure then flip to |0> when the outcome was 1. */
void qrtx_sv_reset(struct qrtx_sv *sv, uint32_t qubit, double r);
double qrtx_sv_prob_one(const struct qrtx_sv *sv, uint32_t qubit);
double qrtx_sv_norm2(const struct qrtx_sv *sv);

/* Marginal distribution over qubits[0..n-1] (bit j of the outcome index
 * is qubits[j]); probs has 2^n entries. n <= 30. */
int qrtx_sv_probabilities(const struct qrtx_sv *sv, const uint32_t *qubits,
			  unsigned int n, double *probs);
/* Draw shots outcomes over qubits[0..n-1] from the state without
 * collapsing it, using uniforms from the caller's generator. outcome
 * bit j = qubits[j]. n <= 64. */
struct qrtx_rng;
int qrtx_sv_sample(const struct qrtx_sv *sv, const uint32_t *qubits,
		   unsigned int n, uint64_t shots, struct qrtx_rng *rng,
		   uint64_t *outcomes);
/* How qrtx_sv_sample draws n outcomes from a state of state_bytes: from
 * a table of the marginal (true), or by walking the state. */
bool qrtx_sample_by_table(uint64_t state_bytes, unsigned int n);
/* Draw shots outcomes from probs[0..nout), turned into its running sums
 * in place: the first outcome whose running sum exceeds a uniform from rng
 * times the total. The engines draw from marginal tables this way, so
 * that equal tables and seeds give equal outcomes on either. */
void qrtx_sample_cdf(double *probs, uint64_t nout, uint64_t shots, struct qrtx_rng *rng,
		     uint64_t *outcomes);
/* <psi| P |psi> for the Pauli string with X on xmask bits and Z on zmask
 * bits (Y where both), real because P is Hermitian. */
double qrtx_sv_expect_pauli(const struct qrtx_sv *sv, uint64_t xmask,
			    uint64_t zmask);

#endif
