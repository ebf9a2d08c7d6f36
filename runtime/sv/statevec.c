// SPDX-License-Identifier: MIT
/*
 * CPU state-vector engine: the state's life cycle, placement in memory,
 * and the dispatch of gates onto the kernels. Reductions, measurement and
 * sampling live in measure.c.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "qrtx/statevec.h"
#include "sv.h"

#define HUGE_PAGE (2ull << 20)

uint64_t qrtx_sv_bytes(uint32_t nqubits, enum qrtx_precision p)
{
	unsigned int shift = p == QRTX_PREC_SINGLE ? 3 : 4;

	if (nqubits + shift >= 64)
		return 0;
	return 1ull << (nqubits + shift);
}

/* Value of "key:" in a /proc-style file, times unit; false if absent. */
static bool read_field(const char *path, const char *key, uint64_t unit, uint64_t *out)
{
	char line[256];
	size_t klen = strlen(key);
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (strncmp(line, key, klen) == 0 &&
		    sscanf(line + klen, " %llu", &v) == 1) {
			*out = v * unit;
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

#define SV_UNCHECKED_BYTES (16ull << 20)

/* A cgroup v2 limit of this process, so that a container's cap counts. */
static bool cgroup_room(uint64_t *out)
{
	char rel[512], path[640], buf[64];
	uint64_t max, cur;
	FILE *f = fopen("/proc/self/cgroup", "re");
	bool ok = false;

	if (!f)
		return false;
	while (fgets(rel, sizeof(rel), f)) {
		if (strncmp(rel, "0::", 3) == 0) {
			rel[strcspn(rel, "\n")] = 0;
			ok = true;
			break;
		}
	}
	fclose(f);
	if (!ok)
		return false;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", rel + 3);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%" SCNu64, &max) == 1;
	fclose(f);
	if (!ok)
		return false;	/* "max": no limit */
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.current", rel + 3);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%" SCNu64, &cur) == 1;
	fclose(f);
	if (!ok)
		return false;
	*out = cur < max ? max - cur : 0;
	return true;
}

/* Bytes this process could still fill without swapping: MemAvailable (or
 * free + buffers from sysinfo), lowered by a cgroup limit. */
static uint64_t mem_available(const char **what)
{
	uint64_t avail = 0, room;
	struct sysinfo si;

	*what = "MemAvailable";
	if (!read_field("/proc/meminfo", "MemAvailable:", 1024, &avail)) {
		*what = "free memory";
		if (sysinfo(&si) == 0)
			avail = ((uint64_t)si.freeram + si.bufferram) * si.mem_unit;
	}
	if (cgroup_room(&room) && room < avail) {
		avail = room;
		*what = "cgroup memory.max";
	}
	return avail;
}

const struct sv_isa *sv_isa_select(bool no_simd)
{
	const char *force = getenv("QRTX_SV_ISA");

	if (no_simd)
		return &sv_isa_portable;
	__builtin_cpu_init();
	if (force && strcmp(force, "portable") == 0)
		return &sv_isa_portable;
	if ((!force || strcmp(force, "avx2") != 0) &&
	    __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
		return &sv_isa_avx512;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return &sv_isa_avx2;
	return &sv_isa_portable;
}

/* Reserve address space only: pages are placed by their first touch
 * (zero state, done by the pool) or by the NUMA policy set here. */
static int alloc_amps(struct qrtx_sv *sv, const struct qrtx_sv_config *cfg)
{
	if (sv->bytes < HUGE_PAGE) {
		void *p;

		if (posix_memalign(&p, 64, sv->bytes))
			return -ENOMEM;
		sv->amps = sv->map = p;
		sv->map_len = 0;
		return 0;
	}
	{
		size_t len = sv->bytes + HUGE_PAGE;
		unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		uintptr_t start, end;

		if (m == MAP_FAILED)
			return -ENOMEM;
		/* Trim to a 2 MiB-aligned window so every page can be huge. */
		start = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
		end = start + sv->bytes;
		if (start > (uintptr_t)m)
			munmap(m, start - (uintptr_t)m);
		if ((uintptr_t)m + len > end)
			munmap((void *)end, (uintptr_t)m + len - end);
		sv->amps = sv->map = (void *)start;
		sv->map_len = sv->bytes;
		/* Best effort: THP may be disabled, which only costs TLB misses. */
		madvise(sv->amps, sv->bytes, MADV_HUGEPAGE);
		if (!cfg->no_numa && numa_available() >= 0 && numa_num_configured_nodes() > 1)
			/* Gates on high qubits pair amplitudes far apart, so no
			 * node owns a fixed slice of the work: spread pages evenly
			 * so every thread sees the same mix of local and remote. */
			numa_interleave_memory(sv->amps, sv->bytes, numa_all_nodes_ptr);
	}
	return 0;
}

static void free_amps(struct qrtx_sv *sv)
{
	if (sv->map_len)
		munmap(sv->map, sv->map_len);
	else
		free(sv->map);
}

int qrtx_sv_new(uint32_t nqubits, const struct qrtx_sv_config *cfg,
		struct qrtx_sv **out, struct qrtx_error *err)
{
	static const struct qrtx_sv_config defaults;
	enum qrtx_precision prec;
	struct qrtx_sv *sv;
	uint64_t need, avail;
	const char *what;
	long ncpu;
	unsigned int nthreads;
	int ret;

	if (!cfg)
		cfg = &defaults;
	prec = cfg->precision;
	*out = NULL;
	if (nqubits > QRTX_SV_MAX_QUBITS) {
		qrtx_error_set(err, QRTX_ERR_ALLOCATION, -EINVAL, NULL, 0, 0,
			       "%u qubits exceed the CPU engine's limit of %u",
			       nqubits, QRTX_SV_MAX_QUBITS);
		return -EINVAL;
	}
	need = qrtx_sv_bytes(nqubits, prec);
	/* A small state is not weighed against the memory available (that
	 * reads /proc and sysfs): its allocation says if it fails. */
	avail = need <= SV_UNCHECKED_BYTES ? need : mem_available(&what);
	if (need > avail) {
		qrtx_error_set(err, QRTX_ERR_ALLOCATION, -ENOMEM, NULL, 0, 0,
			       "state vector of %u qubits (%s) needs %" PRIu64
			       " bytes (%.2f GiB) but only %" PRIu64
			       " bytes (%.2f GiB) are available (%s)",
			       nqubits, prec == QRTX_PREC_SINGLE ? "complex64" : "complex128",
			       need, need / 1073741824.0, avail, avail / 1073741824.0, what);
		return -ENOMEM;
	}

	sv = calloc(1, sizeof(*sv));
	if (!sv)
		goto nomem;
	sv->n = nqubits;
	sv->prec = prec;
	sv->len = 1ull << nqubits;
	sv->bytes = need;
	sv->isa = sv_isa_select(cfg->no_simd);
	sv->L = sv->isa->L[prec];
	if (nqubits < sv->L) {
		/* Fewer amplitudes than one vector holds. */
		sv->isa = &sv_isa_portable;
		sv->L = 0;
	}
	if (posix_memalign(&sv->scratch, 64, SV_SCRATCH_BYTES))
		goto nomem_sv;
	sv->block_bits = sv_pick_block_bits(prec);
	if (alloc_amps(sv, cfg)) {
		free(sv->scratch);
		free(sv);
		qrtx_error_set(err, QRTX_ERR_ALLOCATION, -ENOMEM, NULL, 0, 0,
			       "cannot map %" PRIu64 " bytes for a state vector of %u qubits "
			       "(%" PRIu64 " bytes available)", need, nqubits, avail);
		return -ENOMEM;
	}
	/* A state too small to split never wakes a worker: don't start any
	 * (nor read the CPUs online, which costs a sysfs read). */
	if (sv->len < SV_PAR_MIN_LEN) {
		nthreads = 1;
	} else {
		ncpu = cfg->threads ? 0 : sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = cfg->threads ? cfg->threads : (ncpu > 0 ? (unsigned int)ncpu : 1);
		if (nthreads > 1024)
			nthreads = 1024;
	}
	sv->nthreads = nthreads;
	ret = sv_pool_new(sv->nthreads, &sv->pool);
	if (ret) {
		qrtx_error_set(err, QRTX_ERR_ALLOCATION, ret, NULL, 0, 0,
			       "cannot start %u threads for the state vector", sv->nthreads);
		free_amps(sv);
		free(sv->scratch);
		free(sv);
		return ret;
	}
	qrtx_sv_set_zero_state(sv);
	*out = sv;
	return 0;

nomem_sv:
	free(sv);
nomem:
	qrtx_error_set(err, QRTX_ERR_ALLOCATION, -ENOMEM, NULL, 0, 0,
		       "out of memory setting up a state vector of %u qubits", nqubits);
	return -ENOMEM;
}

void qrtx_sv_free(struct qrtx_sv *sv)
{
	if (!sv)
		return;
	sv_pool_free(sv->pool);
	free_amps(sv);
	free(sv->scratch);
	free(sv->plans);
	free(sv);
}

uint32_t qrtx_sv_nqubits(const struct qrtx_sv *sv)
{
	return sv->n;
}

enum qrtx_precision qrtx_sv_precision(const struct qrtx_sv *sv)
{
	return sv->prec;
}

unsigned int qrtx_sv_threads(const struct qrtx_sv *sv)
{
	return sv->nthreads;
}

const char *qrtx_sv_isa(const struct qrtx_sv *sv)
{
	return sv->isa->name;
}

void sv_run(const struct qrtx_sv *sv, sv_task_fn fn, void *ctx)
{
	if (sv->nthreads == 1 || sv->len < SV_PAR_MIN_LEN)
		fn(ctx, 0, 1, 0);
	else
		sv_pool_run(sv->pool, sv->nthreads * SV_PARTS_PER_THREAD, fn, ctx);
}

/* --- whole-state copies ---------------------------------------------- */

struct bytes_task {
	unsigned char *dst;
	const unsigned char *src;	/* NULL: zero fill */
	uint64_t len;
};

static void bytes_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct bytes_task *t = c;
	uint64_t b, e;

	(void)thread;
	/* Cache-line aligned pieces: no line is written by two threads. */
	sv_split(t->len / 64, part, nparts, &b, &e);
	b *= 64;
	e = part == nparts - 1 ? t->len : e * 64;
	if (t->src)
		memcpy(t->dst + b, t->src + b, e - b);
	else
		memset(t->dst + b, 0, e - b);
}

void qrtx_sv_set_zero_state(struct qrtx_sv *sv)
{
	struct bytes_task t = { .dst = sv->amps, .len = sv->bytes };

	/* Also the first touch, in parallel so it runs at memory speed; on
	 * several NUMA nodes the interleave policy set in alloc_amps places
	 * the pages, since no thread owns a fixed slice of the work. */
	sv_run(sv, bytes_run, &t);
	if (sv->prec == QRTX_PREC_SINGLE)
		((float *)sv->amps)[0] = 1.0f;
	else
		((double *)sv->amps)[0] = 1.0;
}

void qrtx_sv_copy(struct qrtx_sv *dst, const struct qrtx_sv *src)
{
	struct bytes_task t = { .dst = dst->amps, .src = src->amps, .len = src->bytes };

	assert(dst->n == src->n && dst->prec == src->prec);
	sv_run(dst, bytes_run, &t);
}

double complex qrtx_sv_amp(const struct qrtx_sv *sv, uint64_t i)
{
	assert(i < sv->len);
	if (sv->prec == QRTX_PREC_SINGLE) {
		const float *f = sv->amps;

		return CMPLX((double)f[2 * i], (double)f[2 * i + 1]);
	}
	return ((const double complex *)sv->amps)[i];
}

struct load_task {
	struct qrtx_sv *sv;
	const double complex *src;
};

static void load_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct load_task *t = c;
	uint64_t b, e;

	(void)thread;
	sv_split(t->sv->len, part, nparts, &b, &e);
	if (t->sv->prec == QRTX_PREC_SINGLE) {
		float *f = t->sv->amps;

		for (uint64_t i = b; i < e; i++) {
			f[2 * i] = (float)creal(t->src[i]);
			f[2 * i + 1] = (float)cimag(t->src[i]);
		}
	} else {
		memcpy((double complex *)t->sv->amps + b, t->src + b, (e - b) * sizeof(*t->src));
	}
}

void qrtx_sv_load(struct qrtx_sv *sv, const double complex *amps)
{
	struct load_task t = { .sv = sv, .src = amps };

	sv_run(sv, load_run, &t);
}

/* --- gates ------------------------------------------------------------ */

struct plan_task {
	const struct sv_gate_plan *gp;
	void *amps;
};

static void plan_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct plan_task *t = c;
	uint64_t b, e;

	(void)thread;
	sv_split(t->gp->p.ngroups, part, nparts, &b, &e);
	if (b < e)
		t->gp->fn(&t->gp->p, t->amps, b, e);
}

static bool is_diagonal(const double complex *m, unsigned int K)
{
	for (unsigned int r = 0; r < K; r++)
		for (unsigned int c = 0; c < K; c++)
			if (r != c && m[(size_t)r * K + c] != 0)
				return false;
	return true;
}

/* QRTX_SV_PAIR=0 turns paired plans off (benchmarks compare with it). */
static bool sv_pairing(void)
{
	static int on = -1;

	if (on < 0) {
		const char *e = getenv("QRTX_SV_PAIR");

		on = !(e && e[0] == '0');
	}
	return on;
}

int sv_gate_plan(const struct qrtx_sv *sv, unsigned int n, bool diag,
		 const uint32_t *t, unsigned int k, const uint32_t *c, unsigned int nc,
		 const double complex *m, struct sv_arena *tmp, struct sv_arena *a,
		 struct sv_gate_plan *gp)
{
	const struct sv_isa *isa = sv->isa;
	unsigned int L = sv->L;
	int ret;

	if (n < L) {
		isa = &sv_isa_portable;
		L = 0;
	}
	if (!diag && nc == 0 && k > 0 && is_diagonal(m, 1u << k)) {
		/* Half the arithmetic and no pairing of amplitudes. */
		size_t save = tmp->used;
		double complex *d = sv_arena_alloc(tmp, sizeof(*d) << k);

		if (!d)
			return -ENOSPC;
		for (unsigned int i = 0; i < (1u << k); i++)
			d[i] = m[(size_t)i * ((1u << k) + 1)];
		ret = sv_plan_diag(&gp->p, n, sv->prec, L, t, k, d, a);
		tmp->used = save;
		gp->fn = isa->diag[sv->prec];
		return ret;
	}
	if (diag) {
		gp->fn = isa->diag[sv->prec];
		return sv_plan_diag(&gp->p, n, sv->prec, L, t, k, m, a);
	}
	ret = sv_plan_dense(&gp->p, n, sv->prec, L, t, k, c, nc, m, tmp, a);
	if (ret == -E2BIG) {
		/* Low controls would widen the gate past the vector kernels. */
		isa = &sv_isa_portable;
		ret = sv_plan_dense(&gp->p, n, sv->prec, 0, t, k, c, nc, m, tmp, a);
	}
	if (!ret && isa->pair3m && sv_pairing())
		ret = sv_plan_pair(&gp->p, sv->prec, a);
	gp->fn = isa->dense[sv->prec];
	return ret;
}

/* Contract checks: a violation is a caller's bug, so fail loudly. */
static void check_qubits(const struct qrtx_sv *sv, const uint32_t *a, unsigned int na,
			 const uint32_t *b, unsigned int nb)
{
	uint64_t seen = 0;

	for (unsigned int i = 0; i < na + nb; i++) {
		uint32_t q = i < na ? a[i] : b[i - na];

		assert(q < sv->n);
		assert(!(seen & (1ull << q)));
		seen |= 1ull << q;
	}
	(void)seen;
}

struct wide_diag_task {
	struct qrtx_sv *sv;
	const uint32_t *q;
	unsigned int k;
	const double complex *d;
};

/* Diagonals with more high qubits than a table takes: index per amplitude. */
static void wide_diag_run(void *c, unsigned int part, unsigned int nparts, unsigned int thread)
{
	struct wide_diag_task *t = c;
	uint64_t b, e;

	(void)thread;
	sv_split(t->sv->len, part, nparts, &b, &e);
	for (uint64_t i = b; i < e; i++) {
		uint64_t idx = 0;
		double complex v;

		for (unsigned int j = 0; j < t->k; j++)
			idx |= ((i >> t->q[j]) & 1) << j;
		v = t->d[idx];
		if (t->sv->prec == QRTX_PREC_SINGLE) {
			float *f = (float *)t->sv->amps + 2 * i;
			float vr = (float)creal(v), vi = (float)cimag(v), ar = f[0], ai = f[1];

			f[0] = vr * ar - vi * ai;
			f[1] = vr * ai + vi * ar;
		} else {
			double *f = (double *)t->sv->amps + 2 * i;
			double vr = creal(v), vi = cimag(v), ar = f[0], ai = f[1];

			f[0] = vr * ar - vi * ai;
			f[1] = vr * ai + vi * ar;
		}
	}
}

static void apply_gate(struct qrtx_sv *sv, bool diag, const uint32_t *c, unsigned int nc,
		       const uint32_t *t, unsigned int k, const double complex *m)
{
	struct sv_arena tmp = { .base = sv->scratch, .len = SV_SCRATCH_TMP };
	struct sv_arena a = { .base = (unsigned char *)sv->scratch + SV_SCRATCH_TMP,
			      .len = SV_SCRATCH_BYTES - SV_SCRATCH_TMP };
	struct sv_gate_plan gp;
	struct plan_task pt = { .gp = &gp, .amps = sv->amps };
	int ret;

	assert(diag || k <= QRTX_SV_MAX_DENSE);
	check_qubits(sv, t, k, c, nc);
	ret = sv_gate_plan(sv, sv->n, diag, t, k, c, nc, m, &tmp, &a, &gp);
	if (ret == -E2BIG) {
		struct wide_diag_task wt = { .sv = sv, .q = t, .k = k, .d = m };

		sv_run(sv, wide_diag_run, &wt);
		return;
	}
	assert(ret == 0);
	sv_run(sv, plan_run, &pt);
}

void qrtx_sv_apply_diag(struct qrtx_sv *sv, const uint32_t *qubits,
			unsigned int k, const double complex *d)
{
	apply_gate(sv, true, NULL, 0, qubits, k, d);
}

void qrtx_sv_apply_dense(struct qrtx_sv *sv, const uint32_t *qubits,
			 unsigned int k, const double complex *m)
{
	apply_gate(sv, false, NULL, 0, qubits, k, m);
}

void qrtx_sv_apply_controlled(struct qrtx_sv *sv, const uint32_t *controls,
			      unsigned int ncontrols, const uint32_t *targets,
			      unsigned int k, const double complex *m)
{
	apply_gate(sv, false, controls, ncontrols, targets, k, m);
}
