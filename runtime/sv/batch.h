/* SPDX-License-Identifier: MIT */
/*
 * Cache-blocked application of a run of gates: a PROPOSAL for statevec.h,
 * private to runtime/sv/ until the lead adopts it. A caller elsewhere in
 * runtime/ can reach it with #include "sv/batch.h".
 *
 * Applying gates one by one streams the whole state through memory once
 * per gate; for states beyond the caches that makes every gate cost a
 * full memory pass. qrtx_sv_apply_batch applies a list of gates with the
 * same result as applying them in order, but in as few passes as it can:
 *
 * - It walks the list greedily, collecting gates into "runs" whose qubits
 *   (targets and controls) together number at most B, the block width
 *   (about half a core's L2: 15 qubits of complex128, 16 of complex64 on
 *   a 1 MiB L2; QRTX_SV_BLOCK_BITS overrides). A gate may join a run ahead
 *   of earlier gates that it doesn't share a qubit with (those commute).
 * - Each run is one pass: the state splits into blocks of 2^B amplitudes
 *   that differ only in the run's qubits (plus the lowest qubits, so a
 *   block is made of contiguous segments of at least 16 KiB); each thread
 *   takes blocks one at a time, applies every gate of the run to a block
 *   while it sits in cache, and moves on. Every block is processed in
 *   place: one of the lowest B qubits is contiguous; any other is
 *   "strided", its segments addressed by the kernels through the plans
 *   (struct sv_plan's smask), so a run may hold B - 10 qubits of its own
 *   above the lowest 10 (double; B - 11 above 11 in single).
 *
 * Fusion and blocking compose: fuse neighbouring gates into dense blocks
 * of a few qubits (flops), then hand the fused list to this function
 * (memory passes). A caller that reorders or remaps qubits so that most
 * gates act on few distinct qubits between fences gets the fewest runs.
 *
 * Memory: the gates' plans only.
 *
 * Measured (n = 24, layered benchmark family, 2 threads, fused to width
 * 3): 118 kops in 22 passes, a strided pass taking two to four
 * three-qubit blocks on high qubits, as fast per kop as the in-place runs
 * (9 to 11 ms a kop): the fused circuit is bound by arithmetic. Before
 * strided blocks, each such kop was a whole-state pass of its own, bound
 * by memory (13.5 ms of traffic against 8 ms of arithmetic).
 */
#ifndef QRTX_SV_BATCH_H
#define QRTX_SV_BATCH_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#include "qrtx/statevec.h"

#define QRTX_SV_GATE_MAX_CONTROLS 8

enum qrtx_sv_gate_kind {
	QRTX_SV_GATE_DENSE,		/* m: 2^k x 2^k on targets */
	QRTX_SV_GATE_DIAG,		/* m: 2^k diagonal on targets */
	QRTX_SV_GATE_CONTROLLED,	/* dense where every control is 1 */
};

struct qrtx_sv_gate {
	enum qrtx_sv_gate_kind kind;
	uint32_t k;			/* <= QRTX_SV_MAX_DENSE */
	uint32_t targets[QRTX_SV_MAX_DENSE];
	uint32_t nc;
	uint32_t controls[QRTX_SV_GATE_MAX_CONTROLS];
	const double complex *m;	/* as for qrtx_sv_apply_*; read during the call */
};

struct qrtx_sv_batch_stats {
	size_t passes;		/* runs executed: memory passes over the state */
	size_t blocked;		/* of which with more than one gate */
	size_t strided;		/* of which on blocks beyond the lowest B qubits */
};

/* Apply gates[0..n) in order (as if one by one). The arguments follow the
 * contracts of qrtx_sv_apply_dense/diag/controlled. Falls back on one
 * gate at a time where memory for plans or buffers is short, so it always
 * applies every gate. stats (may be NULL) says how it went. */
void qrtx_sv_apply_batch(struct qrtx_sv *sv, const struct qrtx_sv_gate *gates, size_t n,
			 struct qrtx_sv_batch_stats *stats);

/* The block width B in use for this state (tests, benchmarks). */
unsigned int qrtx_sv_block_bits(const struct qrtx_sv *sv);

#endif
