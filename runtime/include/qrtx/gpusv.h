/* SPDX-License-Identifier: MIT */
/*
 * The CUDA state-vector engine: the state in device memory (cudaMalloc,
 * never managed memory), complex128 or complex64 interleaved as the CPU
 * engine's, gates, measurement, sampling and Pauli expectation values
 * computed on the device, only results copied back.
 *
 * Built when nvcc was found (runtime/cuda/gpusv.cu); otherwise every call
 * says so (qrtx_gpu_available). Calls return 0 or -errno and, where they
 * take one, fill err with the CUDA error's name and text.
 *
 * Host emulation (tests): a state made with QRTX_GPU_EMULATE lives in host
 * memory and every kernel runs as a loop over the same per-thread code on
 * the calling thread, so the engine's indexing and arithmetic are tested
 * on machines without a GPU. It is not a backend.
 */
#ifndef QRTX_GPUSV_H
#define QRTX_GPUSV_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qrtx/error.h"
#include "qrtx/statevec.h"

struct qrtx_gpusv;
struct qrtx_rng;

/* Device index meaning "the host, emulated" (tests only). */
#define QRTX_GPU_EMULATE (-1)

/* Whether this build has the engine. */
bool qrtx_gpu_built(void);
/* Number of usable CUDA devices (> 0), or -ENODEV with why filled (no
 * engine in this build, no driver, no device). */
int qrtx_gpu_available(char *why, size_t len);
/* Free and total bytes of device dev (cudaMemGetInfo). */
int qrtx_gpu_mem_info(int dev, uint64_t *free_bytes, uint64_t *total_bytes,
		      struct qrtx_error *err);
/* "NVIDIA H100 80GB HBM3, sm_90" or the like. */
int qrtx_gpu_name(int dev, char *buf, size_t len);

/* Bytes of device memory a state takes (amplitudes only). */
uint64_t qrtx_gpusv_bytes(uint32_t nqubits, enum qrtx_precision p);

/* |0...0> on device dev (or QRTX_GPU_EMULATE). -ENOMEM when it does not
 * fit (the message gives bytes needed and free), other CUDA failures as
 * -EIO with the CUDA text. */
int qrtx_gpusv_new(uint32_t nqubits, enum qrtx_precision p, int dev,
		   struct qrtx_gpusv **out, struct qrtx_error *err);
/* Free the state, synchronise the device and trim its memory pool. */
void qrtx_gpusv_free(struct qrtx_gpusv *sv);
uint32_t qrtx_gpusv_nqubits(const struct qrtx_gpusv *sv);

int qrtx_gpusv_set_zero_state(struct qrtx_gpusv *sv);
/* Wait until every operation queued on the state is done (benchmarks). */
int qrtx_gpusv_sync(struct qrtx_gpusv *sv);
/* Device-to-device copy bandwidth of device dev: read plus written bytes
 * per second, best of 5 copies of bytes (benchmarks' baseline). */
int qrtx_gpu_copy_bandwidth(int dev, uint64_t bytes, double *bytes_per_s, char *why, size_t len);
/* dst must have src's size and precision (and device). */
int qrtx_gpusv_copy(struct qrtx_gpusv *dst, const struct qrtx_gpusv *src);
/* Copy amplitudes [0, 2^n) back to the host (tests). */
int qrtx_gpusv_read(const struct qrtx_gpusv *sv, double complex *out);
/* Replace the whole state from the host (tests). */
int qrtx_gpusv_load(struct qrtx_gpusv *sv, const double complex *amps);

/* Gates, with the contracts of qrtx_sv_apply_dense/diag/controlled;
 * k <= QRTX_SV_MAX_DENSE, ncontrols + k <= nqubits. */
int qrtx_gpusv_apply_dense(struct qrtx_gpusv *sv, const uint32_t *qubits, unsigned int k,
			   const double complex *m);
int qrtx_gpusv_apply_diag(struct qrtx_gpusv *sv, const uint32_t *qubits, unsigned int k,
			  const double complex *d);
int qrtx_gpusv_apply_controlled(struct qrtx_gpusv *sv, const uint32_t *controls,
				unsigned int ncontrols, const uint32_t *targets, unsigned int k,
				const double complex *m);

/* As qrtx_sv_measure / _reset: r uniform in [0, 1) from the caller. */
int qrtx_gpusv_measure(struct qrtx_gpusv *sv, uint32_t qubit, double r, int *outcome);
int qrtx_gpusv_reset(struct qrtx_gpusv *sv, uint32_t qubit, double r);
int qrtx_gpusv_norm2(const struct qrtx_gpusv *sv, double *out);
/* As qrtx_sv_probabilities (n <= 30). */
int qrtx_gpusv_probabilities(const struct qrtx_gpusv *sv, const uint32_t *qubits,
			     unsigned int n, double *probs);
/* As qrtx_sv_sample: the same uniforms give the same outcomes as the CPU
 * engine's, up to rounding at the boundaries. */
int qrtx_gpusv_sample(const struct qrtx_gpusv *sv, const uint32_t *qubits, unsigned int n,
		      uint64_t shots, struct qrtx_rng *rng, uint64_t *outcomes);
int qrtx_gpusv_expect_pauli(const struct qrtx_gpusv *sv, uint64_t xmask, uint64_t zmask,
			    double *out);

/* The last CUDA error's text for this state (empty when none). */
const char *qrtx_gpusv_error(const struct qrtx_gpusv *sv);

#endif
