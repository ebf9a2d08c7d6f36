/* SPDX-License-Identifier: MIT */
/*
 * Private to the CPU state-vector engine (runtime/sv/): the state object,
 * the thread pool, gate plans and the per-ISA kernel tables. Nothing here
 * is a contract for other parts of the runtime; statevec.h is.
 *
 * Layout: amplitudes are stored interleaved (re, im), as C's complex
 * types are, aligned to 2 MiB for states of 2 MiB or more (huge pages)
 * and to 64 bytes otherwise.
 *
 * Vector kernels see the state as vectors of W = 2^L amplitudes (L "lane
 * bits": the lowest L qubits). A gate whose targets are all >= L pairs
 * whole vectors ("broadcast" kernels: each matrix entry is broadcast to
 * every lane); a target < L mixes lanes of one vector, which the "lane"
 * kernels do with in-register permutes and per-lane coefficient vectors.
 * A control < L is promoted to a target with a block-diagonal matrix. The
 * portable kernels are the same code with W = 1 (L = 0).
 */
#ifndef QRTX_SV_PRIV_H
#define QRTX_SV_PRIV_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qrtx/statevec.h"

/* Widest gate (targets plus promoted low controls) the plans take. */
#define SV_MAX_K	QRTX_SV_MAX_DENSE
#define SV_MAX_KK	(1u << SV_MAX_K)
/* Widest diagonal a table-driven plan takes; wider ones run portably. */
#define SV_MAX_DIAG_TABLE 12
/* Gates at least this wide (2^k) with a target among the lane bits use
 * exchange mode (see struct sv_plan) when a partner qubit is free; twice
 * as wide when every target is a lane bit (the exchanges then cost more
 * than the lane kernels' table loads; measured in cache, n = 13). */
#define SV_XCH_MIN_KK 8
/* Largest vector: 2^SV_MAX_L amplitudes (AVX-512, single precision). */
#define SV_MAX_L	3
/* Plan scratch: temporaries (the promoted and the sorted matrix, 64 x 64
 * double complex each) and a plan's tables (at most 512 KiB). */
#define SV_SCRATCH_TMP	(256u << 10)
#define SV_SCRATCH_BYTES (1u << 20)

/* --- thread pool ------------------------------------------------------ */

struct sv_pool;
/* Part part of nparts of a job, run by pool thread tid (0: the caller). */
typedef void (*sv_task_fn)(void *ctx, unsigned int part, unsigned int nparts,
			   unsigned int tid);

int sv_pool_new(unsigned int nthreads, struct sv_pool **out);
void sv_pool_free(struct sv_pool *p);
unsigned int sv_pool_threads(const struct sv_pool *p);
/* Run parts 0..nparts-1 of fn over the pool's threads, the caller
 * included, and return when all are done. Which thread runs which part is
 * not fixed. Not reentrant: one caller at a time. */
void sv_pool_run(struct sv_pool *p, uint32_t nparts, sv_task_fn fn, void *ctx);

/* Part tid of nth of [0, count): contiguous, fixed by (count, tid, nth). */
static inline void sv_split(uint64_t count, unsigned int tid, unsigned int nth,
			    uint64_t *begin, uint64_t *end)
{
	*begin = (uint64_t)((unsigned __int128)count * tid / nth);
	*end = (uint64_t)((unsigned __int128)count * (tid + 1) / nth);
}

/* --- plans ------------------------------------------------------------ */

/*
 * A gate prepared for one state (or block of one) and one kernel family.
 * Dense plans iterate over "groups": one group is the 2^(k-klo) vectors
 * a gate mixes, found at base + off[h], where base has the bits of ins[]
 * (targets and controls >= L, ascending) zero apart from cmask and the
 * remaining bits >= L counting the group index. Diagonal plans iterate
 * over vectors.
 *
 * Exchange mode (xch): targets < L are each paired with a free qubit
 * s[j] >= L; a group is then 2^k vectors (off[] over all of them), and
 * swapping lane bit t[j] with the vector bit of s[j] inside registers
 * turns the gate into one whose targets are all vector bits, applied with
 * broadcast coefficients, before swapping back. That keeps the
 * coefficients compact (K x K scalars) for wide gates on low qubits.
 */
struct sv_plan {
	unsigned int n;		/* qubits of the (sub)state it runs on */
	unsigned int L;		/* lane bits of the kernel family */
	unsigned int k;		/* targets incl. promoted controls */
	unsigned int klo;	/* targets < L */
	bool xch;		/* exchange mode */
	bool real;		/* dense: every entry real (kernels skip the
				 * imaginary half of the arithmetic) */
	/*
	 * Paired (dense, complex, targets >= L or exchange mode, no promoted
	 * controls, ISAs with pair3m): a group is
	 * processed together with the one pair_off amplitudes above it (the
	 * top bit of the group index), ngroups counts pairs, and coef3 holds
	 * per entry u = c + di the three scalars c, d - c, c + d (Gauss's
	 * three-multiplication product on split real and imaginary parts).
	 */
	bool paired;
	bool promoted;		/* some targets are promoted controls */
	uint64_t pair_off;
	const void *coef3;
	uint32_t t[SV_MAX_K];	/* targets ascending */
	uint32_t s[SV_MAX_L];	/* xch: partner of lane target t[j] */
	unsigned int nins;
	uint32_t ins[QRTX_SV_MAX_QUBITS];
	uint64_t cmask;		/* control bits >= L (all set in every base) */
	uint64_t ngroups;	/* dense: groups; diag: vectors */
	uint64_t off[SV_MAX_KK];	/* dense: offsets of a group's vectors */
	uint32_t dmask[1u << SV_MAX_L];	/* lane-XOR mask for each lo pattern */
	/*
	 * Dense, klo == 0 or xch: K x K matrix in the state's element type,
	 * targets ascending, interleaved (re, im), row-major.
	 * Dense, klo > 0: for each (row vector hp, column vector h, lane
	 * pattern d), two vectors CR (re, re per lane) and CI (-im, im per
	 * lane) so that out += CR * p + CI * swap(p), p = x[h] permuted by
	 * dmask[d]. Diagonal: the same pair of vectors per hi pattern.
	 */
	const void *coef;
	/* diagonal: qubits >= L ascending; the coefficient pair index is the
	 * pattern of these bits (bit i = qubit hq[i]) */
	unsigned int nhi;
	uint32_t hq[SV_MAX_DIAG_TABLE];
	/*
	 * A block of a larger state, in place (see batch.c): when smask is
	 * not 0, the plan was made for a (sub)state of n qubits whose bit i
	 * is the i-th set bit of smask in the real state, the lowest seg of
	 * them the same. Kernels then address local index x at
	 * sv_deposit(x): off[] and pair_off already hold real offsets, and a
	 * run of consecutive vectors stops at every 2^seg amplitudes.
	 */
	unsigned int seg;
	uint64_t smask;
};

/* Local index x of plan p at its real place (see smask above). */
static inline uint64_t sv_deposit(const struct sv_plan *p, uint64_t x)
{
	uint64_t r, m;

	if (!p->smask)
		return x;
	r = x & ((1ull << p->seg) - 1);
	m = p->smask & ~((1ull << p->seg) - 1);
	for (x >>= p->seg; m; x >>= 1, m &= m - 1)
		r |= (m & -m) & -(x & 1);
	return r;
}

/* A bump allocator over caller-owned bytes, 64-byte aligned pieces. */
struct sv_arena {
	unsigned char *base;
	size_t len, used;
};

void *sv_arena_alloc(struct sv_arena *a, size_t bytes);

/* Build a dense (controlled when nc > 0) plan for a state of n qubits,
 * kernels of L lane bits; tmp gives scratch (returned before this does),
 * a what the plan keeps. Returns -E2BIG when promoting low controls would
 * exceed SV_MAX_K (run it with L = 0 instead), -ENOSPC when an arena is
 * too small. */
int sv_plan_dense(struct sv_plan *p, unsigned int n,
		  enum qrtx_precision prec, unsigned int L,
		  const uint32_t *q, unsigned int k,
		  const uint32_t *c, unsigned int nc,
		  const double complex *m, struct sv_arena *tmp, struct sv_arena *a);
/* Make a dense plan paired when that pays (see struct sv_plan); a no-op
 * otherwise. -ENOSPC when the arena is too small. */
int sv_plan_pair(struct sv_plan *p, enum qrtx_precision prec, struct sv_arena *a);
/* -E2BIG when more than SV_MAX_DIAG_TABLE qubits are >= L. */
int sv_plan_diag(struct sv_plan *p, unsigned int n,
		 enum qrtx_precision prec, unsigned int L,
		 const uint32_t *q, unsigned int k, const double complex *d,
		 struct sv_arena *a);

/* --- kernels ---------------------------------------------------------- */

/* Apply plan p to the (sub)state at amps, groups or vectors [begin, end). */
typedef void (*sv_kernel_fn)(const struct sv_plan *p, void *amps, uint64_t begin,
			     uint64_t end);

struct sv_isa {
	const char *name;
	unsigned int L[2];		/* indexed by enum qrtx_precision */
	sv_kernel_fn dense[2];		/* groups [begin, end) */
	sv_kernel_fn diag[2];		/* vectors [begin, end) */
	bool pair3m;			/* dense kernels take paired plans */
};

extern const struct sv_isa sv_isa_portable;
extern const struct sv_isa sv_isa_avx2;
extern const struct sv_isa sv_isa_avx512;

/* --- the state -------------------------------------------------------- */

struct qrtx_sv {
	uint32_t n;
	enum qrtx_precision prec;
	uint64_t len;			/* 2^n amplitudes */
	uint64_t bytes;			/* of the amplitudes */
	void *amps;
	void *map;			/* what to munmap (or free) */
	size_t map_len;			/* 0: amps came from posix_memalign */
	const struct sv_isa *isa;
	unsigned int L;			/* isa->L[prec] */
	struct sv_pool *pool;
	unsigned int nthreads;
	void *scratch;			/* SV_SCRATCH_BYTES for plans */
	/* cache blocking (batch.c) */
	unsigned int block_bits;	/* B: a block is 2^B amplitudes */
	void *plans;			/* a run's plans and tables, grown as needed */
	size_t plans_len;
};

/* B for a state: half of a core's L2 (QRTX_SV_BLOCK_BITS overrides). */
unsigned int sv_pick_block_bits(enum qrtx_precision prec);

static inline size_t sv_amp_size(enum qrtx_precision p)
{
	return p == QRTX_PREC_SINGLE ? 2 * sizeof(float) : 2 * sizeof(double);
}

/* States below this many amplitudes run on the calling thread only: the
 * pool's wake-up would cost more than the work. */
#define SV_PAR_MIN_LEN (1ull << 14)

/* Parts per thread in a job: enough that a late thread's share is taken
 * up by the others. */
#define SV_PARTS_PER_THREAD 8

/* Run fn over the pool in nthreads * SV_PARTS_PER_THREAD parts when the
 * state is large enough, else on the caller as part 0 of 1. A task splits
 * its own index range by (part, nparts); anything that must not depend on
 * the thread count (sums) uses a fixed partition of its own inside. */
void sv_run(const struct qrtx_sv *sv, sv_task_fn fn, void *ctx);

/* A plan with the kernel that runs it. */
struct sv_gate_plan {
	struct sv_plan p;
	sv_kernel_fn fn;
};

/*
 * Plan one gate (dense when nc == 0, controlled otherwise, diagonal when
 * diag) for a (sub)state of n qubits of sv's precision and kernel family:
 * dense gates with a diagonal matrix become diagonal plans, gates the
 * vector kernels can't take fall back to the portable ones. tmp holds
 * scratch that may be reused once this returns; a holds what the plan
 * keeps. -E2BIG: a diagonal too wide for a table; -ENOSPC: arena full.
 */
int sv_gate_plan(const struct qrtx_sv *sv, unsigned int n, bool diag,
		 const uint32_t *t, unsigned int k, const uint32_t *c, unsigned int nc,
		 const double complex *m, struct sv_arena *tmp, struct sv_arena *a,
		 struct sv_gate_plan *gp);

/* The kernel family for a new state: portable when no_simd, else the
 * widest the CPU runs. QRTX_SV_ISA=avx2 or =portable in the environment
 * caps it (tests use this to cover the AVX2 kernels on AVX-512 CPUs). */
const struct sv_isa *sv_isa_select(bool no_simd);

static inline uint64_t sv_insert_zero(uint64_t x, unsigned int bit)
{
	uint64_t low = x & ((1ull << bit) - 1);

	return ((x ^ low) << 1) | low;
}

#endif
