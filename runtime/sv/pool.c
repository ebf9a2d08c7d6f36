// SPDX-License-Identifier: MIT
/*
 * Persistent worker pool for the state-vector kernels.
 *
 * Gates come one after another at rates up to ~10^5/s for small states,
 * so a dispatch must cost microseconds: workers spin briefly on a
 * generation counter before sleeping on it with futex(2), the caller works
 * as thread 0, and wake-up system calls are only made when someone sleeps.
 *
 * A job is cut into more parts than threads and every thread, the caller
 * included, takes parts until none is left. A worker that is slow to wake
 * (the machine is shared, or oversubscribed) then costs nothing: the
 * others do its share. Parts are handed out through one 64-bit ticket,
 * generation << 32 | next part, claimed by compare-and-swap: a claim
 * succeeds only while its job is current, and a job is not complete (so
 * no next job can be published over its descriptor) until every claimed
 * part has finished.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sv.h"

/* Iterations of a pause loop before sleeping: a few tens of microseconds,
 * longer than the gap between two gates, shorter than a scheduler tick.
 * With more threads than CPUs a spinner only delays the thread it waits
 * for, so such pools sleep at once. */
#define SPIN_ITERS 20000

/* Read by workers before their claim is known to be valid, hence atomic
 * (relaxed: the ticket orders them). */
struct job {
	_Atomic(sv_task_fn) fn;
	_Atomic(void *) ctx;
	_Atomic uint32_t nparts;
};

struct sv_pool {
	unsigned int nthreads;		/* including the caller */
	int spin;			/* SPIN_ITERS, or 0 when oversubscribed */
	pthread_t *tids;
	/* Two descriptors: job g lives in jobs[g & 1], so publishing g + 1
	 * never writes the one a late worker may still be reading. */
	struct job jobs[2];
	bool stop;
	_Atomic uint64_t ticket;	/* gen << 32 | next part */
	_Atomic uint32_t gen;		/* futex: a new job (or stop) */
	_Atomic uint32_t sleepers;	/* workers inside futex_wait(gen) */
	_Atomic uint32_t done;		/* futex: parts finished in this job */
	_Atomic uint32_t caller_sleeps;	/* caller inside futex_wait(done) */
};

struct worker_arg {
	struct sv_pool *p;
	unsigned int tid;
};

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Claim and run parts of the current job until there are none; true
 * when this thread finished the job's last part. */
static bool take_parts(struct sv_pool *p, unsigned int tid)
{
	bool last = false;

	for (;;) {
		uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
		uint32_t g = (uint32_t)(t >> 32), part = (uint32_t)t;
		struct job *j = &p->jobs[g & 1];
		sv_task_fn fn = atomic_load_explicit(&j->fn, memory_order_relaxed);
		void *ctx = atomic_load_explicit(&j->ctx, memory_order_relaxed);
		uint32_t nparts = atomic_load_explicit(&j->nparts, memory_order_relaxed);

		if (part >= nparts)
			return last;
		/* Success proves job g was still current, so job was read
		 * intact; it stays so until this part is done. */
		if (!atomic_compare_exchange_weak_explicit(&p->ticket, &t, t + 1,
							   memory_order_acq_rel,
							   memory_order_relaxed))
			continue;
		fn(ctx, part, nparts, tid);
		/* seq_cst: pairs with the caller's caller_sleeps store */
		if (atomic_fetch_add(&p->done, 1) + 1 == nparts)
			last = true;
	}
}

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct sv_pool *p = wa->p;
	unsigned int tid = wa->tid;
	uint32_t seen = 0;

	free(wa);
	for (;;) {
		uint32_t g;
		int spin = 0;

		while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen) {
			if (++spin < p->spin) {
				cpu_relax();
				continue;
			}
			/* Announce the sleep, then re-check: the caller bumps gen
			 * before reading sleepers, so one of us sees the other. */
			atomic_fetch_add(&p->sleepers, 1);
			if (atomic_load(&p->gen) == seen)
				futex_wait(&p->gen, seen);
			atomic_fetch_sub(&p->sleepers, 1);
			spin = 0;
		}
		seen = g;
		if (p->stop)
			break;
		if (take_parts(p, tid) && atomic_load(&p->caller_sleeps))
			futex_wake(&p->done, 1);
	}
	return NULL;
}

int sv_pool_new(unsigned int nthreads, struct sv_pool **out)
{
	struct sv_pool *p;
	unsigned int i;
	long ncpu;

	if (nthreads == 0)
		nthreads = 1;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nthreads = nthreads;
	/* One thread never waits for another: no need to ask (a sysfs read). */
	ncpu = nthreads > 1 ? sysconf(_SC_NPROCESSORS_ONLN) : 0;
	p->spin = ncpu > 0 && nthreads > (unsigned long)ncpu ? 0 : SPIN_ITERS;
	if (nthreads > 1) {
		p->tids = calloc(nthreads - 1, sizeof(*p->tids));
		if (!p->tids) {
			free(p);
			return -ENOMEM;
		}
	}
	for (i = 1; i < nthreads; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		int err;

		if (!wa) {
			err = ENOMEM;
		} else {
			wa->p = p;
			wa->tid = i;
			err = pthread_create(&p->tids[i - 1], NULL, worker, wa);
			if (err)
				free(wa);
		}
		if (err) {
			/* Stop the ones already running. */
			p->nthreads = i;
			sv_pool_free(p);
			return -err;
		}
	}
	*out = p;
	return 0;
}

static void publish_gen(struct sv_pool *p)
{
	atomic_fetch_add(&p->gen, 1);	/* seq_cst: ordered before the load */
	if (atomic_load(&p->sleepers))
		futex_wake(&p->gen, INT_MAX);
}

void sv_pool_free(struct sv_pool *p)
{
	unsigned int i;

	if (!p)
		return;
	p->stop = true;
	publish_gen(p);
	for (i = 1; i < p->nthreads; i++)
		pthread_join(p->tids[i - 1], NULL);
	free(p->tids);
	free(p);
}

unsigned int sv_pool_threads(const struct sv_pool *p)
{
	return p->nthreads;
}

void sv_pool_run(struct sv_pool *p, uint32_t nparts, sv_task_fn fn, void *ctx)
{
	uint64_t t = atomic_load_explicit(&p->ticket, memory_order_relaxed);
	uint32_t g = (uint32_t)(t >> 32) + 1, d;
	int spin = 0;

	if (p->nthreads == 1 || nparts <= 1) {
		for (uint32_t i = 0; i < nparts; i++)
			fn(ctx, i, nparts, 0);
		return;
	}
	atomic_store_explicit(&p->jobs[g & 1].fn, fn, memory_order_relaxed);
	atomic_store_explicit(&p->jobs[g & 1].ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&p->jobs[g & 1].nparts, nparts, memory_order_relaxed);
	atomic_store_explicit(&p->done, 0, memory_order_relaxed);
	atomic_store_explicit(&p->ticket, (uint64_t)g << 32, memory_order_release);
	publish_gen(p);
	take_parts(p, 0);
	while ((d = atomic_load_explicit(&p->done, memory_order_acquire)) != nparts) {
		if (++spin < p->spin) {
			cpu_relax();
			continue;
		}
		atomic_store(&p->caller_sleeps, 1);
		if (atomic_load(&p->done) == d)
			futex_wait(&p->done, d);
		atomic_store(&p->caller_sleeps, 0);
		spin = 0;
	}
}
