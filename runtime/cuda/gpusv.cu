// SPDX-License-Identifier: MIT
/*
 * The CUDA state-vector engine's core: see qgpu.h and qrtx/gpusv.h.
 *
 * Every kernel is a functor whose operator() is the work of one thread
 * (one group of amplitudes, one amplitude, or one term of a sum), run by
 * a grid-stride loop on the device, or by a plain loop on the host when
 * the state is emulated (QGPU_EMULATE), so the same indexing and
 * arithmetic are tested where there is no GPU.
 *
 * Sums are deterministic for a given device: a fixed partition of the
 * index range into blocks that depends only on its length, a tree inside
 * each block, and the block sums added on the host in order.
 */
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qgpu.h"

#define THREADS 256
#define RED_BLOCKS 1024		/* partial sums of a reduction */
#define CHUNK 4096		/* amplitudes a block walks when sampling */
#define MAX_K 6

/* Unrolling is for the device pass; the host compiler does not know it. */
#ifdef __CUDA_ARCH__
#define UNROLL _Pragma("unroll")
#else
#define UNROLL
#endif

template <typename T> struct cx {
	T re, im;
};

template <typename T> __host__ __device__ static inline cx<T> cmul(cx<T> a, cx<T> b)
{
	return { a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re };
}

template <typename T> __host__ __device__ static inline double norm2(cx<T> a)
{
	return (double)a.re * a.re + (double)a.im * a.im;
}

__host__ __device__ static inline uint64_t insert_zero(uint64_t x, unsigned int b)
{
	uint64_t low = x & ((1ull << b) - 1);

	return ((x ^ low) << 1) | low;
}

struct qgpu {
	uint32_t n;
	int single;
	int dev;		/* QGPU_EMULATE: host memory */
	uint64_t len;
	size_t bytes;
	void *amps;
	cudaStream_t stream;
	double *part_d, *part_h;	/* RED_BLOCKS partial sums */
	bool sticky;		/* an error that spoils the context */
	char err[256];
};

static bool emu(const qgpu *g)
{
	return g->dev == QGPU_EMULATE;
}

static int fail(const qgpu *g, cudaError_t e, const char *what)
{
	qgpu *w = (qgpu *)g;

	snprintf(w->err, sizeof(w->err), "%s: %s (%s)", what, cudaGetErrorString(e),
		 cudaGetErrorName(e));
	/* Clear the error so the next call starts clean; one that spoils
	 * the context (a kernel fault) is cleared by resetting the device
	 * when the state is freed, so that the next job runs normally. */
	cudaGetLastError();
	w->sticky |= e == cudaErrorIllegalAddress || e == cudaErrorLaunchFailure ||
		     e == cudaErrorHardwareStackError || e == cudaErrorIllegalInstruction ||
		     e == cudaErrorMisalignedAddress || e == cudaErrorInvalidPc ||
		     e == cudaErrorAssert;
	return e == cudaErrorMemoryAllocation ? -ENOMEM : -EIO;
}

/* --- launching --------------------------------------------------------- */

template <class F> __global__ void each_kernel(F f, uint64_t n)
{
	uint64_t stride = (uint64_t)gridDim.x * blockDim.x;

	for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n; i += stride)
		f(i);
}

/* f(i) for i in [0, n). */
template <class F> static int each(qgpu *g, const F &f, uint64_t n)
{
	uint64_t blocks = (n + THREADS - 1) / THREADS;
	cudaError_t e;

	if (!n)
		return 0;
	if (emu(g)) {
		for (uint64_t i = 0; i < n; i++)
			f(i);
		return 0;
	}
	if (blocks > (1u << 20))
		blocks = 1u << 20;
	each_kernel<<<(unsigned int)blocks, THREADS, 0, g->stream>>>(f, n);
	e = cudaGetLastError();
	return e == cudaSuccess ? 0 : fail(g, e, "kernel launch");
}

/* The block's threads' s added as a tree: the total, in thread 0. */
__device__ static double block_sum(double s)
{
	__shared__ double sh[THREADS];

	sh[threadIdx.x] = s;
	__syncthreads();
	for (unsigned int w = blockDim.x / 2; w; w /= 2) {
		if (threadIdx.x < w)
			sh[threadIdx.x] += sh[threadIdx.x + w];
		__syncthreads();
	}
	return sh[0];
}

/* Block b of nb sums f over [n b / nb, n (b + 1) / nb). */
template <class F> __global__ void sum_kernel(F f, uint64_t n, double *part)
{
	uint64_t b = blockIdx.x, nb = gridDim.x;
	uint64_t lo = n * b / nb, hi = n * (b + 1) / nb;
	double s = 0;

	for (uint64_t i = lo + threadIdx.x; i < hi; i += blockDim.x)
		s += f(i);
	s = block_sum(s);
	if (!threadIdx.x)
		part[b] = s;
}

/* The sum of f(i) over [0, n). */
template <class F> static int sum(qgpu *g, const F &f, uint64_t n, double *out)
{
	uint64_t nb = (n + THREADS - 1) / THREADS;
	double s = 0;
	cudaError_t e;

	if (nb > RED_BLOCKS)
		nb = RED_BLOCKS;
	*out = 0;
	if (!n)
		return 0;
	if (emu(g)) {
		for (uint64_t b = 0; b < nb; b++) {
			double t = 0;

			for (uint64_t i = n * b / nb; i < n * (b + 1) / nb; i++)
				t += f(i);
			s += t;
		}
		*out = s;
		return 0;
	}
	sum_kernel<<<(unsigned int)nb, THREADS, 0, g->stream>>>(f, n, g->part_d);
	e = cudaMemcpyAsync(g->part_h, g->part_d, nb * sizeof(double), cudaMemcpyDeviceToHost,
			    g->stream);
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(g->stream);
	if (e != cudaSuccess)
		return fail(g, e, "reduction");
	for (uint64_t b = 0; b < nb; b++)
		s += g->part_h[b];
	*out = s;
	return 0;
}

/* --- devices ----------------------------------------------------------- */

extern "C" int qgpu_built(void)
{
	return 1;
}

extern "C" int qgpu_count(char *why, size_t len)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);

	if (e == cudaSuccess && n > 0)
		return n;
	if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice) {
		void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);

		if (!h) {
			snprintf(why, len, "no NVIDIA driver on this machine (libcuda.so.1 not found)");
			cudaGetLastError();
			return -ENODEV;
		}
		dlclose(h);
	}
	if (e == cudaSuccess)
		snprintf(why, len, "no CUDA device");
	else
		snprintf(why, len, "no usable CUDA device: %s (%s)", cudaGetErrorString(e),
			 cudaGetErrorName(e));
	cudaGetLastError();
	return -ENODEV;
}

extern "C" int qgpu_mem_info(int dev, uint64_t *free_bytes, uint64_t *total_bytes, char *why,
			     size_t len)
{
	size_t f = 0, t = 0;
	cudaError_t e = cudaSetDevice(dev);

	if (e == cudaSuccess)
		e = cudaMemGetInfo(&f, &t);
	if (e != cudaSuccess) {
		snprintf(why, len, "cudaMemGetInfo: %s (%s)", cudaGetErrorString(e),
			 cudaGetErrorName(e));
		cudaGetLastError();
		return -EIO;
	}
	*free_bytes = f;
	*total_bytes = t;
	return 0;
}

extern "C" int qgpu_name(int dev, char *buf, size_t len)
{
	cudaDeviceProp p;
	cudaError_t e = cudaGetDeviceProperties(&p, dev);

	if (e != cudaSuccess) {
		snprintf(buf, len, "device %d: %s", dev, cudaGetErrorString(e));
		cudaGetLastError();
		return -EIO;
	}
	snprintf(buf, len, "%s, sm_%d%d, %.1f GiB", p.name, p.major, p.minor,
		 (double)p.totalGlobalMem / (1ull << 30));
	return 0;
}

/* --- the state --------------------------------------------------------- */

extern "C" int qgpu_new(uint32_t n, int single, int dev, qgpu **out, char *why, size_t len)
{
	qgpu *g = (qgpu *)calloc(1, sizeof(*g));
	cudaError_t e;

	*out = NULL;
	if (!g || n > 40) {
		free(g);
		snprintf(why, len, n > 40 ? "more than 40 qubits" : "out of host memory");
		return n > 40 ? -EINVAL : -ENOMEM;
	}
	g->n = n;
	g->single = single;
	g->dev = dev;
	g->len = 1ull << n;
	g->bytes = (size_t)g->len * (single ? 2 * sizeof(float) : 2 * sizeof(double));
	if (emu(g)) {
		g->amps = calloc(1, g->bytes);
		if (!g->amps) {
			snprintf(why, len, "out of host memory for %zu bytes", g->bytes);
			free(g);
			return -ENOMEM;
		}
	} else {
		e = cudaSetDevice(dev);
		if (e == cudaSuccess)
			e = cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking);
		if (e == cudaSuccess)
			e = cudaMalloc(&g->part_d, RED_BLOCKS * sizeof(double));
		if (e == cudaSuccess)
			e = cudaMallocHost(&g->part_h, RED_BLOCKS * sizeof(double));
		if (e == cudaSuccess)
			e = cudaMalloc(&g->amps, g->bytes);
		if (e != cudaSuccess) {
			size_t f = 0, t = 0;

			cudaGetLastError();
			cudaMemGetInfo(&f, &t);
			if (e == cudaErrorMemoryAllocation)
				snprintf(why, len, "the state needs %zu bytes of device memory, "
					 "%zu are free on device %d", g->bytes, f, dev);
			else
				snprintf(why, len, "device %d: %s (%s)", dev, cudaGetErrorString(e),
					 cudaGetErrorName(e));
			qgpu_free(g);
			return e == cudaErrorMemoryAllocation ? -ENOMEM : -EIO;
		}
	}
	if (qgpu_zero(g)) {
		snprintf(why, len, "%s", g->err);
		qgpu_free(g);
		return -EIO;
	}
	*out = g;
	return 0;
}

extern "C" void qgpu_free(qgpu *g)
{
	if (!g)
		return;
	if (emu(g)) {
		free(g->amps);
	} else {
		cudaSetDevice(g->dev);
		if (g->stream)
			cudaStreamSynchronize(g->stream);
		cudaFree(g->amps);
		cudaFree(g->part_d);
		cudaFreeHost(g->part_h);
		if (g->stream)
			cudaStreamDestroy(g->stream);
		cudaDeviceSynchronize();
		if (g->sticky)
			cudaDeviceReset();
		/* Give the freed bytes back to the device, not to a cache. */
		{
			cudaMemPool_t pool;

			if (cudaDeviceGetDefaultMemPool(&pool, g->dev) == cudaSuccess)
				cudaMemPoolTrimTo(pool, 0);
		}
		cudaGetLastError();
	}
	free(g);
}

extern "C" const char *qgpu_error(const qgpu *g)
{
	return g->err;
}

template <typename T> struct zero_f {
	cx<T> *a;

	__host__ __device__ void operator()(uint64_t i) const
	{
		a[i].re = i == 0 ? (T)1 : (T)0;
		a[i].im = 0;
	}
};

extern "C" int qgpu_zero(qgpu *g)
{
	if (g->single)
		return each(g, zero_f<float>{ (cx<float> *)g->amps }, g->len);
	return each(g, zero_f<double>{ (cx<double> *)g->amps }, g->len);
}

extern "C" int qgpu_sync(qgpu *g)
{
	cudaError_t e;

	if (emu(g))
		return 0;
	e = cudaStreamSynchronize(g->stream);
	return e == cudaSuccess ? 0 : fail(g, e, "synchronise");
}

extern "C" int qgpu_copy_bw(int dev, size_t bytes, int reps, double *bytes_per_s, char *why,
			    size_t len)
{
	void *a = NULL, *b = NULL;
	cudaEvent_t t0 = NULL, t1 = NULL;
	cudaError_t e = cudaSetDevice(dev);
	float best = 0;

	if (e == cudaSuccess)
		e = cudaMalloc(&a, bytes);
	if (e == cudaSuccess)
		e = cudaMalloc(&b, bytes);
	if (e == cudaSuccess)
		e = cudaMemset(a, 1, bytes);
	if (e == cudaSuccess)
		e = cudaEventCreate(&t0);
	if (e == cudaSuccess)
		e = cudaEventCreate(&t1);
	for (int r = 0; r <= reps && e == cudaSuccess; r++) {
		float ms = 0;

		e = cudaEventRecord(t0);
		if (e == cudaSuccess)
			e = cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice);
		if (e == cudaSuccess)
			e = cudaEventRecord(t1);
		if (e == cudaSuccess)
			e = cudaEventSynchronize(t1);
		if (e == cudaSuccess)
			e = cudaEventElapsedTime(&ms, t0, t1);
		/* the first copy warms up */
		if (e == cudaSuccess && r && (!best || ms < best))
			best = ms;
	}
	if (e != cudaSuccess)
		snprintf(why, len, "copy bandwidth: %s (%s)", cudaGetErrorString(e),
			 cudaGetErrorName(e));
	cudaGetLastError();
	cudaFree(a);
	cudaFree(b);
	if (t0)
		cudaEventDestroy(t0);
	if (t1)
		cudaEventDestroy(t1);
	*bytes_per_s = e == cudaSuccess && best > 0 ? 2.0 * (double)bytes / (best * 1e-3) : 0;
	return e == cudaSuccess ? 0 : -EIO;
}

extern "C" int qgpu_copy(qgpu *dst, const qgpu *src)
{
	cudaError_t e;

	if (dst->n != src->n || dst->single != src->single || dst->dev != src->dev)
		return -EINVAL;
	if (emu(dst)) {
		memcpy(dst->amps, src->amps, dst->bytes);
		return 0;
	}
	e = cudaMemcpyAsync(dst->amps, src->amps, dst->bytes, cudaMemcpyDeviceToDevice,
			    dst->stream);
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(dst->stream);
	return e == cudaSuccess ? 0 : fail(dst, e, "copy");
}

/* Move the amplitudes between the device and interleaved host doubles. */
static int transfer(qgpu *g, double *host, bool to_host)
{
	size_t n = 2 * g->len;
	void *buf = host;
	cudaError_t e = cudaSuccess;

	if (g->single) {
		buf = malloc(n * sizeof(float));
		if (!buf)
			return -ENOMEM;
		if (!to_host)
			for (size_t i = 0; i < n; i++)
				((float *)buf)[i] = (float)host[i];
	}
	if (emu(g)) {
		memcpy(to_host ? buf : g->amps, to_host ? g->amps : buf, g->bytes);
	} else {
		/* On the state's stream, which does not wait for the default
		 * one (nor it for this): in order with the kernels. */
		e = cudaMemcpyAsync(to_host ? buf : g->amps, to_host ? g->amps : buf, g->bytes,
				    to_host ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice,
				    g->stream);
		if (e == cudaSuccess)
			e = cudaStreamSynchronize(g->stream);
	}
	if (g->single) {
		if (to_host && e == cudaSuccess)
			for (size_t i = 0; i < n; i++)
				host[i] = ((float *)buf)[i];
		free(buf);
	}
	return e == cudaSuccess ? 0 : fail(g, e, "copy between host and device");
}

extern "C" int qgpu_read(qgpu *g, double *out)
{
	return transfer(g, out, true);
}

extern "C" int qgpu_load(qgpu *g, const double *in)
{
	return transfer(g, (double *)in, false);
}

/* --- gates ------------------------------------------------------------- */

/*
 * One group of K amplitudes: base has the target and control bits (ins[],
 * ascending) zero but for the controls (cmask), the group's index in the
 * others; off[h] sets the targets to pattern h (bit j = targets[j]).
 */
template <typename T, int K>
__host__ __device__ static inline void apply_group(cx<T> *a, uint64_t g, uint32_t nins,
						   const uint32_t *ins, uint64_t cmask,
						   const uint64_t *off, const cx<T> *m)
{
	uint64_t base = g;
	cx<T> x[K];

	for (uint32_t i = 0; i < nins; i++)
		base = insert_zero(base, ins[i]);
	base |= cmask;
UNROLL
	for (int h = 0; h < K; h++)
		x[h] = a[base + off[h]];
UNROLL
	for (int r = 0; r < K; r++) {
		cx<T> s = { 0, 0 };

UNROLL
		for (int c = 0; c < K; c++) {
			cx<T> p = cmul(m[r * K + c], x[c]);

			s.re += p.re;
			s.im += p.im;
		}
		a[base + off[r]] = s;
	}
}

struct group_t {
	uint32_t nins;
	uint32_t ins[MAX_K + 40];
	uint64_t cmask;
};

/* The matrix in the kernel's parameters (up to 32 x 32: 16 KiB). */
template <typename T, int K> struct dense_f {
	cx<T> *a;
	group_t gr;
	uint64_t off[K];
	cx<T> m[K * K];

	__host__ __device__ void operator()(uint64_t g) const
	{
		apply_group<T, K>(a, g, gr.nins, gr.ins, gr.cmask, off, m);
	}
};

/* The matrix in device memory (64 x 64). */
template <typename T, int K> struct dense_ptr_f {
	cx<T> *a;
	group_t gr;
	uint64_t off[K];
	const cx<T> *m;

	__host__ __device__ void operator()(uint64_t g) const
	{
		apply_group<T, K>(a, g, gr.nins, gr.ins, gr.cmask, off, m);
	}
};

/* Amplitude i times d[pattern of the k qubits q[] in i]. */
template <typename T> struct diag_f {
	cx<T> *a;
	uint32_t k;
	uint32_t q[MAX_K];
	cx<T> d[1 << MAX_K];

	__host__ __device__ void operator()(uint64_t i) const
	{
		uint32_t p = 0;

		for (uint32_t j = 0; j < k; j++)
			p |= (uint32_t)(i >> q[j] & 1) << j;
		a[i] = cmul(d[p], a[i]);
	}
};

static void sort_u32(uint32_t *v, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++)
		for (unsigned int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void group_of(group_t *gr, uint64_t *off, unsigned int k, const uint32_t *t,
		     const uint32_t *c, unsigned int nc)
{
	gr->nins = k + nc;
	gr->cmask = 0;
	for (unsigned int i = 0; i < k; i++)
		gr->ins[i] = t[i];
	for (unsigned int i = 0; i < nc; i++) {
		gr->ins[k + i] = c[i];
		gr->cmask |= 1ull << c[i];
	}
	sort_u32(gr->ins, gr->nins);
	for (unsigned int h = 0; h < 1u << k; h++) {
		off[h] = 0;
		for (unsigned int j = 0; j < k; j++)
			off[h] |= (uint64_t)(h >> j & 1) << t[j];
	}
}

template <typename T> static void put_matrix(cx<T> *dst, const double *m, unsigned int cnt)
{
	for (unsigned int e = 0; e < cnt; e++) {
		dst[e].re = (T)m[2 * e];
		dst[e].im = (T)m[2 * e + 1];
	}
}

template <typename T, int K>
static int dense(qgpu *g, unsigned int k, const uint32_t *t, const uint32_t *c, unsigned int nc,
		 const double *m)
{
	dense_f<T, K> f;

	f.a = (cx<T> *)g->amps;
	group_of(&f.gr, f.off, k, t, c, nc);
	put_matrix(f.m, m, K * K);
	return each(g, f, g->len >> f.gr.nins);
}

template <typename T, int K>
static int dense_ptr(qgpu *g, unsigned int k, const uint32_t *t, const uint32_t *c,
		     unsigned int nc, const double *m)
{
	dense_ptr_f<T, K> f;
	cx<T> *hm = (cx<T> *)malloc(sizeof(cx<T>) * K * K), *dm = NULL;
	cudaError_t e;
	int ret;

	if (!hm)
		return -ENOMEM;
	put_matrix(hm, m, K * K);
	f.a = (cx<T> *)g->amps;
	group_of(&f.gr, f.off, k, t, c, nc);
	if (emu(g)) {
		f.m = hm;
		ret = each(g, f, g->len >> f.gr.nins);
		free(hm);
		return ret;
	}
	e = cudaMallocAsync(&dm, sizeof(cx<T>) * K * K, g->stream);
	if (e == cudaSuccess)
		e = cudaMemcpyAsync(dm, hm, sizeof(cx<T>) * K * K, cudaMemcpyHostToDevice,
				    g->stream);
	/* The copy reads hm before the call returns only when it is waited
	 * for: pageable memory is staged, so wait before freeing it. */
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(g->stream);
	free(hm);
	if (e != cudaSuccess) {
		if (dm)
			cudaFreeAsync(dm, g->stream);
		return fail(g, e, "matrix upload");
	}
	f.m = dm;
	ret = each(g, f, g->len >> f.gr.nins);
	cudaFreeAsync(dm, g->stream);
	return ret;
}

template <typename T>
static int diag(qgpu *g, const uint32_t *q, unsigned int k, const double *d)
{
	diag_f<T> f;

	f.a = (cx<T> *)g->amps;
	f.k = k;
	for (unsigned int j = 0; j < k; j++)
		f.q[j] = q[j];
	for (unsigned int e = 0; e < 1u << k; e++) {
		f.d[e].re = (T)d[2 * e];
		f.d[e].im = (T)d[2 * e + 1];
	}
	return each(g, f, g->len);
}

template <typename T>
static int gate(qgpu *g, int dg, const uint32_t *t, unsigned int k, const uint32_t *c,
		unsigned int nc, const double *m)
{
	if (dg)
		return diag<T>(g, t, k, m);
	switch (k) {
	case 1: return dense<T, 2>(g, k, t, c, nc, m);
	case 2: return dense<T, 4>(g, k, t, c, nc, m);
	case 3: return dense<T, 8>(g, k, t, c, nc, m);
	case 4: return dense<T, 16>(g, k, t, c, nc, m);
	case 5: return dense<T, 32>(g, k, t, c, nc, m);
	default: return dense_ptr<T, 64>(g, k, t, c, nc, m);
	}
}

extern "C" int qgpu_gate(qgpu *g, int dg, const uint32_t *targets, unsigned int k,
			 const uint32_t *controls, unsigned int nc, const double *m)
{
	uint64_t seen = 0;

	if (k < 1 || k > MAX_K || nc > 40 || k + nc > g->n)
		return -EINVAL;
	for (unsigned int i = 0; i < k + nc; i++) {
		uint32_t q = i < k ? targets[i] : controls[i - k];

		if (q >= g->n || (seen >> q & 1))
			return -EINVAL;
		seen |= 1ull << q;
	}
	if (dg && nc)
		return -EINVAL;
	if (g->single)
		return gate<float>(g, dg, targets, k, controls, nc, m);
	return gate<double>(g, dg, targets, k, controls, nc, m);
}

/* --- measurement ------------------------------------------------------- */

/* |a|^2 where qubit q reads v: term j is the amplitude with j's bits
 * around q. */
template <typename T> struct half_f {
	const cx<T> *a;
	uint32_t q;
	uint64_t v;

	__host__ __device__ double operator()(uint64_t j) const
	{
		return norm2(a[insert_zero(j, q) | v << q]);
	}
};

template <typename T> struct norm_f {
	const cx<T> *a;

	__host__ __device__ double operator()(uint64_t i) const
	{
		return norm2(a[i]);
	}
};

template <typename T> struct collapse_f {
	cx<T> *a;
	uint32_t q;
	int outcome, reset;
	T scale;

	__host__ __device__ void operator()(uint64_t j) const
	{
		uint64_t i0 = insert_zero(j, q), i1 = i0 | 1ull << q;
		cx<T> keep = a[outcome ? i1 : i0], z = { 0, 0 };

		keep.re *= scale;
		keep.im *= scale;
		if (outcome && reset) {
			a[i0] = keep;
			a[i1] = z;
		} else {
			a[outcome ? i1 : i0] = keep;
			a[outcome ? i0 : i1] = z;
		}
	}
};

extern "C" int qgpu_prob01(qgpu *g, uint32_t q, double *p)
{
	int ret = 0;

	if (q >= g->n)
		return -EINVAL;
	for (uint64_t v = 0; v < 2 && !ret; v++)
		ret = g->single ?
		      sum(g, half_f<float>{ (const cx<float> *)g->amps, q, v }, g->len / 2, &p[v]) :
		      sum(g, half_f<double>{ (const cx<double> *)g->amps, q, v }, g->len / 2, &p[v]);
	return ret;
}

extern "C" int qgpu_collapse(qgpu *g, uint32_t q, int outcome, double scale, int reset)
{
	if (q >= g->n)
		return -EINVAL;
	if (g->single)
		return each(g, collapse_f<float>{ (cx<float> *)g->amps, q, outcome, reset,
						  (float)scale }, g->len / 2);
	return each(g, collapse_f<double>{ (cx<double> *)g->amps, q, outcome, reset, scale },
		    g->len / 2);
}

extern "C" int qgpu_norm2(qgpu *g, double *out)
{
	if (g->single)
		return sum(g, norm_f<float>{ (const cx<float> *)g->amps }, g->len, out);
	return sum(g, norm_f<double>{ (const cx<double> *)g->amps }, g->len, out);
}

/*
 * Marginals: bin o holds the amplitudes whose measured bits read o; its
 * r-th amplitude puts r's bits on the other qubits. Block o of the grid
 * sums bin o (a tree, as sum_kernel), so the result does not depend on
 * scheduling.
 */
template <typename T> struct bin_f {
	const cx<T> *a;
	uint32_t n, m;
	uint32_t q[40];		/* measured, outcome bit j = q[j] */
	uint32_t rest[40];	/* the others, ascending */

	__host__ __device__ double operator()(uint64_t o, uint64_t r) const
	{
		uint64_t i = 0;

		for (uint32_t j = 0; j < m; j++)
			i |= (o >> j & 1) << q[j];
		for (uint32_t j = 0; j < n - m; j++)
			i |= (r >> j & 1) << rest[j];
		return norm2(a[i]);
	}
};

template <class F> __global__ void bins_kernel(F f, uint64_t per, double *out)
{
	double s = 0;

	for (uint64_t r = threadIdx.x; r < per; r += blockDim.x)
		s += f(blockIdx.x, r);
	s = block_sum(s);
	if (!threadIdx.x)
		out[blockIdx.x] = s;
}

/* out[o] = the sum of f(o, r) over r in [0, per), o in [0, nout): a block
 * per bin on the device, a loop on the host. */
template <class F>
static int run_bins(qgpu *g, const F &f, uint64_t nout, uint64_t per, double *out,
		    const char *what)
{
	double *d = NULL;
	cudaError_t e;

	if (emu(g)) {
		for (uint64_t o = 0; o < nout; o++) {
			double s = 0;

			for (uint64_t r = 0; r < per; r++)
				s += f(o, r);
			out[o] = s;
		}
		return 0;
	}
	e = cudaMallocAsync(&d, nout * sizeof(double), g->stream);
	if (e == cudaSuccess) {
		bins_kernel<<<(unsigned int)nout, THREADS, 0, g->stream>>>(f, per, d);
		e = cudaGetLastError();
	}
	if (e == cudaSuccess)
		e = cudaMemcpyAsync(out, d, nout * sizeof(double), cudaMemcpyDeviceToHost,
				    g->stream);
	if (d)
		cudaFreeAsync(d, g->stream);
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(g->stream);
	return e == cudaSuccess ? 0 : fail(g, e, what);
}

template <typename T>
static int bins(qgpu *g, const uint32_t *q, unsigned int m, double *probs)
{
	bin_f<T> f;
	uint64_t seen = 0, per = 1ull << (g->n - m), nout = 1ull << m;
	unsigned int k = 0;

	f.a = (const cx<T> *)g->amps;
	f.n = g->n;
	f.m = m;
	for (unsigned int j = 0; j < m; j++) {
		if (q[j] >= g->n || (seen >> q[j] & 1))
			return -EINVAL;
		seen |= 1ull << q[j];
		f.q[j] = q[j];
	}
	for (uint32_t b = 0; b < g->n; b++)
		if (!(seen >> b & 1))
			f.rest[k++] = b;
	return run_bins(g, f, nout, per, probs, "marginal probabilities");
}

extern "C" int qgpu_probabilities(qgpu *g, const uint32_t *q, unsigned int n, double *probs)
{
	if (n > 30 || n > g->n)
		return -EINVAL;
	if (g->single)
		return bins<float>(g, q, n, probs);
	return bins<double>(g, q, n, probs);
}

/*
 * Sampling over the whole state: chunk sums (a block per CHUNK
 * amplitudes), their running total on the host, each shot given to the
 * chunk its uniform falls in; then a block per chunk that holds shots
 * scans the chunk's |a|^2 and finds, for each of them, the first
 * amplitude whose running sum exceeds the shot's offset in the chunk.
 */
template <typename T> struct chunk_f {
	const cx<T> *a;

	__host__ __device__ double operator()(uint64_t o, uint64_t r) const
	{
		return norm2(a[o * CHUNK + r]);
	}
};

struct shot_t {
	double x;		/* offset in the chunk */
	uint64_t chunk;
	uint64_t s;		/* shot number */
};

static int shot_cmp(const void *a, const void *b)
{
	const shot_t *x = (const shot_t *)a, *y = (const shot_t *)b;

	if (x->chunk != y->chunk)
		return x->chunk < y->chunk ? -1 : 1;
	if (x->x != y->x)
		return x->x < y->x ? -1 : 1;
	return x->s < y->s ? -1 : x->s > y->s;
}

/* Shots first[c] .. first[c] + count[c] - 1 of the sorted list fall in
 * chunk chunks[c]; idx[k] gets the amplitude index of sorted shot k. */
template <typename T> struct walk_f {
	const cx<T> *a;
	const uint64_t *chunks, *first, *count;
	const shot_t *sh;
	uint64_t *idx;

	/* The host form: one chunk, sequentially. */
	__host__ __device__ void chunk(uint64_t c) const
	{
		uint64_t base = chunks[c] * CHUNK, k = first[c], end = first[c] + count[c];
		uint64_t last = base;
		double run = 0;

		for (uint64_t j = 0; j < CHUNK && k < end; j++) {
			double p = norm2(a[base + j]);

			if (p > 0)
				last = base + j;
			run += p;
			while (k < end && run > sh[k].x)
				idx[k++] = base + j;
		}
		while (k < end)
			idx[k++] = last;
	}
};

/* One thread per chunk that holds shots: a chunk is CHUNK amplitudes, a
 * short walk next to the whole state, and its shots are sorted. */
template <typename T> __global__ void walk_bounded(walk_f<T> w, uint64_t n)
{
	uint64_t c = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x;

	if (c < n)
		w.chunk(c);
}

template <typename T>
static int sample_full(qgpu *g, const uint32_t *q, unsigned int n, uint64_t shots,
		       const double *u, uint64_t *out)
{
	uint64_t nch = (g->len + CHUNK - 1) / CHUNK, per = g->len < CHUNK ? g->len : CHUNK;
	double *sums = (double *)malloc(nch * sizeof(double));
	double *start = (double *)malloc((nch + 1) * sizeof(double));
	shot_t *sh = (shot_t *)malloc(shots * sizeof(shot_t));
	uint64_t *chunks = (uint64_t *)malloc(shots * sizeof(uint64_t) * 3);
	uint64_t *idx = (uint64_t *)malloc(shots * sizeof(uint64_t));
	uint64_t *first = chunks ? chunks + shots : NULL, *count = chunks ? chunks + 2 * shots : NULL;
	uint64_t last_nz = 0, nc = 0;
	chunk_f<T> cf = { (const cx<T> *)g->amps };
	walk_f<T> w;
	int ret = -ENOMEM;
	cudaError_t e = cudaSuccess;

	if (!sums || !start || !sh || !chunks || !idx)
		goto out;
	/* chunk sums */
	ret = run_bins(g, cf, nch, per, sums, "sampling");
	if (ret)
		goto out;
	ret = -ENOMEM;
	start[0] = 0;
	for (uint64_t c = 0; c < nch; c++) {
		start[c + 1] = start[c] + sums[c];
		if (sums[c] > 0)
			last_nz = c;
	}
	for (uint64_t s = 0; s < shots; s++) {
		double x = u[s] * start[nch];
		uint64_t lo = 0, hi = last_nz;

		/* the chunk: the last c <= last_nz with start[c] <= x */
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo + 1) / 2;

			if (start[mid] <= x)
				lo = mid;
			else
				hi = mid - 1;
		}
		sh[s].chunk = lo;
		sh[s].x = x - start[lo];
		sh[s].s = s;
	}
	qsort(sh, shots, sizeof(*sh), shot_cmp);
	for (uint64_t k = 0; k < shots; k++) {
		if (!nc || chunks[nc - 1] != sh[k].chunk) {
			chunks[nc] = sh[k].chunk;
			first[nc] = k;
			count[nc++] = 0;
		}
		count[nc - 1]++;
	}
	w.a = (const cx<T> *)g->amps;
	if (emu(g)) {
		w.chunks = chunks;
		w.first = first;
		w.count = count;
		w.sh = sh;
		w.idx = idx;
		for (uint64_t c = 0; c < nc; c++)
			w.chunk(c);
	} else {
		void *dbuf = NULL;
		size_t lists = nc * 3 * sizeof(uint64_t), shb = shots * sizeof(shot_t);

		e = cudaMallocAsync(&dbuf, lists + shb + shots * sizeof(uint64_t), g->stream);
		if (e == cudaSuccess) {
			uint64_t *dl = (uint64_t *)dbuf;

			w.chunks = dl;
			w.first = dl + nc;
			w.count = dl + 2 * nc;
			w.sh = (const shot_t *)((char *)dbuf + lists);
			w.idx = (uint64_t *)((char *)dbuf + lists + shb);
			e = cudaMemcpyAsync(dl, chunks, nc * sizeof(uint64_t),
					    cudaMemcpyHostToDevice, g->stream);
			if (e == cudaSuccess)
				e = cudaMemcpyAsync(dl + nc, first, nc * sizeof(uint64_t),
						    cudaMemcpyHostToDevice, g->stream);
			if (e == cudaSuccess)
				e = cudaMemcpyAsync(dl + 2 * nc, count, nc * sizeof(uint64_t),
						    cudaMemcpyHostToDevice, g->stream);
			if (e == cudaSuccess)
				e = cudaMemcpyAsync((void *)w.sh, sh, shb, cudaMemcpyHostToDevice,
						    g->stream);
			if (e == cudaSuccess) {
				walk_bounded<T><<<(unsigned int)((nc + 127) / 128), 128, 0,
						  g->stream>>>(w, nc);
				e = cudaGetLastError();
			}
			if (e == cudaSuccess)
				e = cudaMemcpyAsync(idx, w.idx, shots * sizeof(uint64_t),
						    cudaMemcpyDeviceToHost, g->stream);
			cudaFreeAsync(dbuf, g->stream);
			if (e == cudaSuccess)
				e = cudaStreamSynchronize(g->stream);
		}
		if (e != cudaSuccess) {
			ret = fail(g, e, "sampling");
			goto out;
		}
	}
	for (uint64_t k = 0; k < shots; k++) {
		uint64_t o = 0;

		for (unsigned int j = 0; j < n; j++)
			o |= (idx[k] >> q[j] & 1) << j;
		out[sh[k].s] = o;
	}
	ret = 0;
out:
	free(sums);
	free(start);
	free(sh);
	free(chunks);
	free(idx);
	return ret;
}

extern "C" int qgpu_sample_full(qgpu *g, const uint32_t *q, unsigned int n, uint64_t shots,
				const double *u, uint64_t *out)
{
	if (n > 64 || n > g->n)
		return -EINVAL;
	if (!shots)
		return 0;
	if (g->single)
		return sample_full<float>(g, q, n, shots, u, out);
	return sample_full<double>(g, q, n, shots, u, out);
}

/*
 * <psi|P|psi> for P = i^ny X^x Z^z (Y = i X Z on each qubit): the sum over
 * i of conj(a[i]) (-1)^popcount((i ^ x) & z) a[i ^ x], times i^ny; term i
 * is already multiplied by i^ny and its real part taken.
 */
template <typename T> struct pauli_f {
	const cx<T> *a;
	uint64_t x, z;
	int ny;

	__host__ __device__ double operator()(uint64_t i) const
	{
		cx<T> u = a[i], v = a[i ^ x];
		double re = (double)u.re * v.re + (double)u.im * v.im;	/* conj(u) v */
		double im = (double)u.re * v.im - (double)u.im * v.re;
		double sgn = popc((i ^ x) & z) & 1 ? -1.0 : 1.0;

		/* Re(i^ny (re + i im)) */
		switch (ny) {
		case 0: return sgn * re;
		case 1: return -sgn * im;
		case 2: return -sgn * re;
		default: return sgn * im;
		}
	}

	__host__ __device__ static int popc(uint64_t v)
	{
#ifdef __CUDA_ARCH__
		return __popcll(v);
#else
		return __builtin_popcountll(v);
#endif
	}
};

extern "C" int qgpu_expect_pauli(qgpu *g, uint64_t xmask, uint64_t zmask, double *out)
{
	int ny = __builtin_popcountll(xmask & zmask) & 3;

	if (g->n < 64 && (xmask | zmask) >> g->n)
		return -EINVAL;
	if (g->single)
		return sum(g, pauli_f<float>{ (const cx<float> *)g->amps, xmask, zmask, ny },
			   g->len, out);
	return sum(g, pauli_f<double>{ (const cx<double> *)g->amps, xmask, zmask, ny },
		   g->len, out);
}
