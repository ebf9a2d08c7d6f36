// SPDX-License-Identifier: GPL-2.0
/*
 * Many processes and threads reserve and release at random, on files of
 * their own and on files shared between threads, while a killer process
 * SIGKILLs random workers and starts new ones. Afterwards the books must
 * balance: nothing used, nothing active, nobody waiting, and every grant
 * either released or reclaimed.
 *
 * QRTX_STRESS_SECONDS overrides the duration (default 20).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrtx_test.h"

#define STRESS_PROCS		16
#define STRESS_THREADS		4
#define STRESS_MAX_HELD		8	/* per thread and file */
#define STRESS_DEFAULT_SECONDS	20

struct stress_shared {
	int stop;
	uint64_t ops, grants, refusals, releases, lists, reopens;
	uint64_t kills, spawns, stuck;
	uint32_t errors;
	int error_claimed;
	char first_error[160];
};

static struct stress_shared *sh;

__attribute__((format(printf, 1, 2)))
static void stress_error(const char *fmt, ...)
{
	int none = 0;
	va_list ap;

	__atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_compare_exchange_n(&sh->error_claimed, &none, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(sh->first_error, sizeof(sh->first_error), fmt, ap);
	va_end(ap);
}

static void count(uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST);
}

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* Handles one thread holds on one file. */
struct held {
	uint64_t h[STRESS_MAX_HELD];
	unsigned int n;
};

struct worker_thread {
	int index;
	int shared_fd;
	const struct qrtx_info *info;
	pthread_t tid;
};

static void random_amount(uint64_t *s, const struct qrtx_info *info,
			  struct qrtx_amount *amt)
{
	memset(amt, 0, sizeof(*amt));
	/* Sized so that a few dozen holders contend but most requests fit. */
	amt->qubits = rnd_below(s, info->qubits.total / 8 + 1);
	if (rnd_below(s, 2))
		amt->host_bytes = rnd_below(s, info->host_bytes.total / 16 + 1);
	if (info->gpu_count && !rnd_below(s, 3)) {
		uint32_t g = (uint32_t)rnd_below(s, info->gpu_count);

		if (info->gpu[g].total) {
			amt->gpu_index = g;
			amt->gpu_bytes = 1 + rnd_below(s, info->gpu[g].total / 8);
		}
	}
	if (!amt->qubits && !amt->host_bytes && !amt->gpu_bytes) {
		if (info->qubits.total)
			amt->qubits = 1;
		else
			amt->host_bytes = 1;
	}
}

static void do_reserve(uint64_t *s, int fd, struct held *held, uint64_t tag,
		       const struct qrtx_info *info)
{
	bool nonblock = rnd_below(s, 2);
	struct qrtx_amount amt;
	struct qrtx_reserve req;
	int err;

	random_amount(s, info, &amt);
	qrtx_req_init(&req, &amt, nonblock ? QRTX_RESERVE_NONBLOCK : 0,
		      nonblock ? 0 : (1 + rnd_below(s, 50)) * NSEC_PER_MSEC);
	req.tag = tag;
	err = qrtx_reserve(fd, &req);
	if (!err) {
		held->h[held->n++] = req.handle;
		count(&sh->grants);
	} else if (err == -EAGAIN || err == -ETIMEDOUT) {
		count(&sh->refusals);
	} else {
		stress_error("RESERVE q=%llu h=%llu g%u=%llu: %s",
			     (unsigned long long)amt.qubits,
			     (unsigned long long)amt.host_bytes, amt.gpu_index,
			     (unsigned long long)amt.gpu_bytes, qrtx_errname(err));
	}
}

static void do_release(uint64_t *s, int fd, struct held *held)
{
	unsigned int i = (unsigned int)rnd_below(s, held->n);
	uint64_t h = held->h[i];
	int err;

	held->h[i] = held->h[--held->n];
	err = qrtx_release(fd, h);
	if (err)
		stress_error("RELEASE %llu: %s", (unsigned long long)h,
			     qrtx_errname(err));
	else
		count(&sh->releases);
}

/* A file of one thread's own lists exactly what the thread holds there. */
static void check_list(int fd, const struct held *held, uint64_t tag)
{
	struct qrtx_resv_desc d[STRESS_MAX_HELD];
	uint32_t n = STRESS_MAX_HELD;
	int err = qrtx_list(fd, d, &n);

	count(&sh->lists);
	if (err || n != held->n) {
		stress_error("LIST: %s, %u entries, holding %u", qrtx_errname(err),
			     n, held->n);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		bool found = false;

		for (unsigned int j = 0; j < held->n; j++)
			found |= d[i].handle == held->h[j];
		if (!found || d[i].tag != tag)
			stress_error("LIST: stray handle %llu tag %llx",
				     (unsigned long long)d[i].handle,
				     (unsigned long long)d[i].tag);
	}
}

static int open_or_fail(void)
{
	int fd = open(QRTX_DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		stress_error("open: %s", qrtx_errname(errno));
	return fd;
}

static void *worker_thread(void *arg)
{
	struct worker_thread *wt = arg;
	uint64_t seed = ((uint64_t)getpid() << 20) ^ ((uint64_t)wt->index << 8) ^
			qrtx_now_ns();
	uint64_t tag = ((uint64_t)getpid() << 8) | (uint64_t)wt->index;
	struct held own = { .n = 0 }, shared = { .n = 0 };
	int own_fd = open_or_fail();

	if (own_fd < 0)
		return NULL;
	while (!stopping()) {
		bool use_own = rnd_below(&seed, 2);
		int fd = use_own ? own_fd : wt->shared_fd;
		struct held *held = use_own ? &own : &shared;
		uint64_t r = rnd_below(&seed, 100);

		count(&sh->ops);
		if (r < 50 && held->n < STRESS_MAX_HELD) {
			do_reserve(&seed, fd, held, tag, wt->info);
		} else if (r < 88) {
			if (held->n)
				do_release(&seed, fd, held);
		} else if (r < 96) {
			check_list(own_fd, &own, tag);
		} else {
			/* Drop the file with whatever it holds: reclaim. */
			close(own_fd);
			own.n = 0;
			count(&sh->reopens);
			own_fd = open_or_fail();
			if (own_fd < 0)
				return NULL;
		}
	}
	return NULL;
}

__attribute__((noreturn))
static void worker_main(void)
{
	struct worker_thread wt[STRESS_THREADS];
	struct qrtx_info info;
	int shared_fd = open_or_fail();

	if (shared_fd < 0 || qrtx_info(shared_fd, &info))
		_exit(1);
	for (int t = 0; t < STRESS_THREADS; t++) {
		wt[t] = (struct worker_thread){
			.index = t, .shared_fd = shared_fd, .info = &info,
		};
		if (pthread_create(&wt[t].tid, NULL, worker_thread, &wt[t])) {
			stress_error("pthread_create failed");
			_exit(1);
		}
	}
	for (int t = 0; t < STRESS_THREADS; t++)
		pthread_join(wt[t].tid, NULL);
	/* Whatever is still held goes back by exit. */
	_exit(0);
}

static pid_t spawn_worker(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* A killer that dies takes its workers along. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		worker_main();
	}
	if (pid < 0)
		stress_error("fork: %s", qrtx_errname(errno));
	else
		count(&sh->spawns);
	return pid;
}

/* Stop every worker; one that does not stop in time is stuck in the driver. */
static void stop_workers(pid_t *pids)
{
	uint64_t deadline = qrtx_now_ns() + 15 * NSEC_PER_SEC;

	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < STRESS_PROCS; i++) {
		int status = 0;

		if (pids[i] <= 0)
			continue;
		while (waitpid(pids[i], &status, WNOHANG) == 0) {
			if (qrtx_now_ns() > deadline) {
				count(&sh->stuck);
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
				break;
			}
			qrtx_sleep_ms(5);
		}
		if (WIFEXITED(status) && WEXITSTATUS(status))
			stress_error("worker exited with %d", WEXITSTATUS(status));
	}
}

__attribute__((noreturn))
static void killer_main(unsigned int seconds)
{
	uint64_t seed = qrtx_now_ns() | 1;
	uint64_t end = qrtx_now_ns() + seconds * NSEC_PER_SEC;
	pid_t pids[STRESS_PROCS];

	for (int i = 0; i < STRESS_PROCS; i++)
		pids[i] = spawn_worker();
	while (qrtx_now_ns() < end) {
		int slot = (int)rnd_below(&seed, STRESS_PROCS);
		int status;

		qrtx_sleep_ms(5 + (unsigned int)rnd_below(&seed, 100));
		if (pids[slot] <= 0)
			continue;
		kill(pids[slot], SIGKILL);
		waitpid(pids[slot], &status, 0);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			stress_error("worker %d ended before the kill: status %#x",
				     slot, status);
		count(&sh->kills);
		pids[slot] = spawn_worker();
	}
	stop_workers(pids);
	_exit(0);
}

static unsigned int stress_seconds(void)
{
	const char *env = getenv("QRTX_STRESS_SECONDS");
	unsigned long v;
	char *end;

	if (!env || !*env)
		return STRESS_DEFAULT_SECONDS;
	v = strtoul(env, &end, 10);
	return *end || !v || v > 86400 ? STRESS_DEFAULT_SECONDS : (unsigned int)v;
}

static void test_random_churn_with_kills(void **state)
{
	unsigned int seconds = stress_seconds();
	struct qrtx_counters before, after;
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	uint64_t reclaimed_amounts = 0;
	struct qrtx_info info;
	unsigned int npools;
	int status;
	pid_t killer;

	(void)state;
	sh = qrtx_shared_zalloc(sizeof(*sh));
	assert_non_null(sh);
	assert_ok(qrtx_counters_read(&before));

	killer = qrtx_fork();
	assert_true(killer >= 0);
	if (killer == 0) {
		qrtx_close_fds_except(-1, -1);
		killer_main(seconds);
	}
	assert_ok(qrtx_reap(killer, &status, (int)(seconds + 60) * 1000));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	print_message("# %u s: %llu ops, %llu grants, %llu refusals, %llu releases, "
		      "%llu lists, %llu reopens, %llu kills, %llu spawns\n",
		      seconds, (unsigned long long)sh->ops,
		      (unsigned long long)sh->grants, (unsigned long long)sh->refusals,
		      (unsigned long long)sh->releases, (unsigned long long)sh->lists,
		      (unsigned long long)sh->reopens, (unsigned long long)sh->kills,
		      (unsigned long long)sh->spawns);
	if (sh->errors)
		fail_msg("%u unexpected results, first: %s", sh->errors, sh->first_error);
	assert_u64_eq(sh->stuck, 0);
	assert_u64_gt(sh->grants, 0);
	assert_u64_gt(sh->kills, 0);

	/* Every worker is gone: the books must balance. */
	assert_ok(qrtx_wait_idle(QRTX_SETTLE_MS));
	assert_ok(qrtx_counters_read(&after));
	assert_u64_eq(after.open_files, before.open_files);
	assert_u64_eq(after.active, 0);
	assert_u64_eq(after.waiters, 0);
	assert_u64_eq(after.released + after.reclaimed, after.granted);
	assert_u64_ge(after.granted - before.granted, sh->grants);
	assert_u64_ge(after.released - before.released, sh->releases);
	assert_u64_gt(after.reclaimed, before.reclaimed);
	for (unsigned int p = 0; p < after.npools; p++) {
		assert_u64_eq(after.pool[p].used, 0);
		reclaimed_amounts += after.pool[p].reclaimed - before.pool[p].reclaimed;
	}
	assert_u64_gt(reclaimed_amounts, 0);

	assert_ok(qrtx_info_snapshot(&info));
	npools = qrtx_pools(&info, refs);
	for (unsigned int p = 0; p < npools; p++)
		assert_u64_eq(qrtx_pool_stat(&info, &refs[p])->used, 0);
	qrtx_shared_free(sh, sizeof(*sh));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		QRTX_TEST(test_random_churn_with_kills),
	};

	qrtx_require_device();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return qrtx_ksft_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
