// SPDX-License-Identifier: GPL-2.0
/*
 * Blocking RESERVE: woken by a holder's exit or a raised total, ended by
 * its timeout, a signal, or a total shrunk below the request; FIFO per
 * pool, so a large request is not starved by a stream of small ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrtx_test.h"

static uint64_t qubits_total(void)
{
	struct qrtx_info info;

	assert_ok(qrtx_info_snapshot(&info));
	return info.qubits.total;
}

static void test_woken_by_holder_exit(void **state)
{
	struct qrtx_actor_msg bye = { .op = QRTX_ACT_EXIT, .when_waiters = 1 };
	struct qrtx_amount one = { .qubits = 1 };
	struct qrtx_counters before;
	struct qrtx_actor holder;
	uint64_t h;
	int fd;

	(void)state;
	hold_all_qubits(&holder, NULL, NULL);
	assert_ok(qrtx_counters_read(&before));
	fd = qrtx_open();
	assert_true(fd >= 0);

	/* The holder exits once it sees us waiting. */
	assert_ok(qrtx_actor_send(&holder, &bye, -1));
	assert_ok(qrtx_reserve_amount(fd, &one, 0, 30 * NSEC_PER_SEC, &h));
	assert_int_equal(qrtx_actor_stop(&holder), 0);

	assert_u64_eq(sysfs_get("qubits_used"), 1);
	assert_u64_eq(sysfs_get("reservations_reclaimed"), before.reclaimed + 1);
	assert_u64_eq(sysfs_get("waiters"), 0);
}

static void test_timeout(void **state)
{
	const uint64_t timeout = 200 * NSEC_PER_MSEC;
	struct qrtx_amount one = { .qubits = 1 };
	struct qrtx_counters before, after;
	struct qrtx_actor holder;
	uint64_t t0, elapsed, h;
	int fd;

	(void)state;
	hold_all_qubits(&holder, NULL, NULL);
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_counters_read(&before));

	t0 = qrtx_now_ns();
	assert_err(qrtx_reserve_amount(fd, &one, 0, timeout, &h), -ETIMEDOUT);
	elapsed = qrtx_now_ns() - t0;
	assert_u64_ge(elapsed, timeout);
	assert_u64_le(elapsed, 10 * NSEC_PER_SEC);

	assert_ok(qrtx_counters_read(&after));
	assert_u64_eq(after.waiters, 0);
	assert_u64_eq(after.pool[0].used, before.pool[0].used);
	assert_u64_eq(after.failed, before.failed + 1);
	assert_u64_eq(after.granted, before.granted);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * Block on a full pool, get SIGALRM after 150 ms; the holder gives up the
 * pool at 600 ms. Only a restartable wait (no timeout, SA_RESTART) may
 * survive the signal and be granted.
 */
static void check_signal(uint64_t timeout_ns, int sa_flags, int want)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = sa_flags };
	struct itimerval it = { .it_value = { .tv_usec = 150000 } };
	struct itimerval off = { 0 };
	struct qrtx_amount one = { .qubits = 1 };
	struct qrtx_actor_msg rel = { .op = QRTX_ACT_RELEASE, .delay_ms = 600 };
	struct qrtx_counters before, after;
	struct qrtx_actor holder;
	struct sigaction old;
	uint64_t t0, elapsed;
	int fd, ret;

	hold_all_qubits(&holder, NULL, &rel.handle);
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_counters_read(&before));
	assert_ok(qrtx_actor_send(&holder, &rel, -1));

	alarms = 0;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	t0 = qrtx_now_ns();
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	ret = qrtx_reserve_amount(fd, &one, 0, timeout_ns, NULL);
	elapsed = qrtx_now_ns() - t0;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);

	assert_err(ret, want);
	assert_int_equal(alarms, 1);
	assert_ok(qrtx_actor_recv(&holder, &rel, QRTX_SETTLE_MS));
	assert_ok(qrtx_counters_read(&after));
	assert_u64_eq(after.waiters, 0);
	if (want == -EINTR) {
		assert_u64_le(elapsed, 600 * NSEC_PER_MSEC);
		assert_u64_eq(after.pool[0].used, 0);
		if (timeout_ns)
			assert_u64_eq(after.failed, before.failed + 1);
	} else {
		/* granted by the release, not before it */
		assert_u64_ge(elapsed, 500 * NSEC_PER_MSEC);
		assert_u64_eq(after.pool[0].used, 1);
	}
}

static void test_signal_with_timeout_eintr(void **state)
{
	(void)state;
	check_signal(10 * NSEC_PER_SEC, 0, -EINTR);
}

static void test_signal_with_timeout_eintr_despite_sa_restart(void **state)
{
	(void)state;
	check_signal(10 * NSEC_PER_SEC, SA_RESTART, -EINTR);
}

static void test_signal_no_timeout_eintr(void **state)
{
	(void)state;
	check_signal(0, 0, -EINTR);
}

static void test_signal_no_timeout_restarts(void **state)
{
	(void)state;
	check_signal(0, SA_RESTART, 0);
}

static void test_shrunk_total_fails_waiter(void **state)
{
	struct qrtx_amount one = { .qubits = 1 }, all;
	struct qrtx_actor holder, waiter;
	uint64_t total = qubits_total();

	(void)state;
	if (total < 2)
		skip_because("fewer than 2 qubits");
	all = (struct qrtx_amount){ .qubits = total };
	assert_ok(qrtx_actor_start(&holder, -1));
	assert_ok(qrtx_actor_start(&waiter, -1));
	assert_ok(qrtx_actor_reserve(&holder, &one, QRTX_RESERVE_NONBLOCK, 0, NULL));
	assert_ok(qrtx_actor_reserve_async(&waiter, &all, 0, 0));
	assert_sysfs_settles("waiters", 1);

	assert_ok(qrtx_sysfs_save("qubits_total"));
	assert_ok(qrtx_sysfs_write("qubits_total", total - 1));
	assert_err(qrtx_actor_reserve_wait(&waiter, NULL, QRTX_SETTLE_MS), -ENOSPC);
	assert_u64_eq(sysfs_get("waiters"), 0);
	assert_u64_eq(sysfs_get("qubits_used"), 1);
}

static void test_raised_total_wakes_waiter(void **state)
{
	struct qrtx_amount one = { .qubits = 1 };
	struct qrtx_actor holder, waiter;
	uint64_t total, h;

	(void)state;
	hold_all_qubits(&holder, &total, NULL);
	assert_ok(qrtx_actor_start(&waiter, -1));
	assert_ok(qrtx_actor_reserve_async(&waiter, &one, 0, 10 * NSEC_PER_SEC));
	assert_sysfs_settles("waiters", 1);

	assert_ok(qrtx_sysfs_save("qubits_total"));
	assert_ok(qrtx_sysfs_write("qubits_total", total + 1));
	assert_ok(qrtx_actor_reserve_wait(&waiter, &h, QRTX_SETTLE_MS));
	assert_u64_eq(sysfs_get("qubits_used"), total + 1);
	assert_ok(qrtx_actor_release(&waiter, h));
}

/* Fill the qubit pool exactly with reservations of `small` (the last may be less). */
static unsigned int fill_qubits(int fd, uint64_t total, uint64_t small,
				uint64_t *handles, unsigned int cap)
{
	unsigned int n = 0;

	for (uint64_t left = total; left; n++) {
		struct qrtx_amount a = { .qubits = left < small ? left : small };

		assert_true(n < cap);
		assert_ok(qrtx_reserve_amount(fd, &a, QRTX_RESERVE_NONBLOCK, 0,
					      &handles[n]));
		left -= a.qubits;
	}
	return n;
}

static void test_nonblock_refused_behind_waiter(void **state)
{
	uint64_t total = qubits_total(), small, handles[16], h;
	struct qrtx_amount large, one_small;
	struct qrtx_actor waiter;
	struct qrtx_actor_msg reply;
	struct qrtx_info info;
	unsigned int n;
	int filler, other;

	(void)state;
	if (total < 2)
		skip_because("fewer than 2 qubits");
	small = total / 8 ? total / 8 : 1;
	large = (struct qrtx_amount){ .qubits = total };
	one_small = (struct qrtx_amount){ .qubits = small };
	filler = qrtx_open();
	other = qrtx_open();
	assert_true(filler >= 0 && other >= 0);
	n = fill_qubits(filler, total, small, handles, ARRAY_SIZE(handles));

	assert_ok(qrtx_actor_start(&waiter, -1));
	assert_ok(qrtx_actor_reserve_async(&waiter, &large, 0, 30 * NSEC_PER_SEC));
	assert_sysfs_settles("waiters", 1);

	/* Room for a small one now, but it would overtake the waiter. */
	assert_ok(qrtx_release(filler, handles[0]));
	assert_err(qrtx_reserve_amount(other, &one_small, QRTX_RESERVE_NONBLOCK, 0, &h),
		   -EAGAIN);
	assert_err(qrtx_reserve_amount(other, &one_small, 0, 100 * NSEC_PER_MSEC, &h),
		   -ETIMEDOUT);
	assert_u64_eq(sysfs_get("waiters"), 1);

	/* Pools the waiter does not want are not held up. */
	assert_ok(qrtx_info(other, &info));
	if (info.host_bytes.total) {
		struct qrtx_amount host = { .host_bytes = 1 };

		assert_ok(qrtx_reserve_amount(other, &host, QRTX_RESERVE_NONBLOCK, 0, &h));
		assert_ok(qrtx_release(other, h));
	}
	if (info.gpu_count && info.gpu[0].total) {
		struct qrtx_amount gpu = { .gpu_bytes = 1 };

		assert_ok(qrtx_reserve_amount(other, &gpu, QRTX_RESERVE_NONBLOCK, 0, &h));
		assert_ok(qrtx_release(other, h));
	}
	assert_int_equal(qrtx_actor_recv(&waiter, &reply, 0), QRTX_ACT_NOREPLY);

	for (unsigned int i = 1; i < n; i++)
		assert_ok(qrtx_release(filler, handles[i]));
	assert_ok(qrtx_actor_reserve_wait(&waiter, NULL, QRTX_SETTLE_MS));
	assert_u64_eq(sysfs_get("qubits_used"), total);
}

/*
 * Churn: CHURN_PROCS processes of CHURN_THREADS threads, each thread with
 * its own file, share the full qubit pool in small pieces and keep
 * releasing one and asking for one again, alternately NONBLOCK and
 * blocking with a short timeout.
 */
#define CHURN_PROCS	3
#define CHURN_THREADS	2
#define CHURN_UNITS	(CHURN_PROCS * CHURN_THREADS)
#define CHURN_MAX_HELD	64

struct churn_shared {
	int stop;
	int ready;
	int errors;
	int first_errno;
	uint64_t refused;
};

struct churn_unit {
	struct churn_shared *sh;
	uint64_t small;
	unsigned int share;
};

static void churn_error(struct churn_shared *sh, int err)
{
	int none = 0;

	__atomic_compare_exchange_n(&sh->first_errno, &none, err, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
}

static void *churn_thread(void *arg)
{
	const struct churn_unit *u = arg;
	struct qrtx_amount a = { .qubits = u->small };
	uint64_t held[CHURN_MAX_HELD];
	unsigned int n = 0, iter = 0;
	int fd = open(QRTX_DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		churn_error(u->sh, errno);
		return NULL;
	}
	for (; n < u->share; n++) {
		int err = qrtx_reserve_amount(fd, &a, QRTX_RESERVE_NONBLOCK, 0, &held[n]);

		if (err) {
			churn_error(u->sh, -err);
			break;
		}
	}
	__atomic_add_fetch(&u->sh->ready, 1, __ATOMIC_SEQ_CST);

	while (!__atomic_load_n(&u->sh->stop, __ATOMIC_SEQ_CST)) {
		bool nonblock = iter++ % 2 == 0;
		int err;

		if (n) {
			err = qrtx_release(fd, held[--n]);
			if (err)
				churn_error(u->sh, -err);
		}
		err = qrtx_reserve_amount(fd, &a, nonblock ? QRTX_RESERVE_NONBLOCK : 0,
					  nonblock ? 0 : 20 * NSEC_PER_MSEC, &held[n]);
		if (!err)
			n++;
		else if (err == -EAGAIN || err == -ETIMEDOUT)
			__atomic_add_fetch(&u->sh->refused, 1, __ATOMIC_RELAXED);
		else
			churn_error(u->sh, -err);
		if (!n)
			qrtx_sleep_ms(1);
	}
	close(fd);
	return NULL;
}

__attribute__((noreturn))
static void churn_process(struct churn_shared *sh, uint64_t small,
			  const unsigned int share[CHURN_THREADS])
{
	struct churn_unit units[CHURN_THREADS];
	pthread_t tid[CHURN_THREADS];

	for (int t = 0; t < CHURN_THREADS; t++) {
		units[t] = (struct churn_unit){ .sh = sh, .small = small,
						.share = share[t] };
		if (pthread_create(&tid[t], NULL, churn_thread, &units[t]))
			qrtx_child_fail("pthread_create");
	}
	for (int t = 0; t < CHURN_THREADS; t++)
		pthread_join(tid[t], NULL);
	_exit(0);
}

static void test_large_not_starved_by_churn(void **state)
{
	uint64_t total = qubits_total(), small, pieces, t0, h;
	struct qrtx_amount large;
	struct churn_shared *sh;
	pid_t pids[CHURN_PROCS];
	int fd, err;

	(void)state;
	if (total < CHURN_UNITS)
		skip_because("fewer than %d qubits", CHURN_UNITS);
	small = total / (CHURN_UNITS * 4) ? total / (CHURN_UNITS * 4) : 1;
	pieces = total / small;
	if (pieces > CHURN_UNITS * (CHURN_MAX_HELD - 1))
		skip_because("too many qubits to share out");
	sh = qrtx_shared_zalloc(sizeof(*sh));
	assert_non_null(sh);

	for (int p = 0; p < CHURN_PROCS; p++) {
		unsigned int share[CHURN_THREADS];

		for (int t = 0; t < CHURN_THREADS; t++) {
			unsigned int u = (unsigned int)(p * CHURN_THREADS + t);

			share[t] = (unsigned int)(pieces / CHURN_UNITS +
						  (u < pieces % CHURN_UNITS));
		}
		pids[p] = qrtx_fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			qrtx_close_fds_except(-1, -1);
			churn_process(sh, small, share);
		}
	}
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < CHURN_UNITS)
		qrtx_sleep_ms(1);

	large = (struct qrtx_amount){ .qubits = total };
	fd = qrtx_open();
	assert_true(fd >= 0);
	t0 = qrtx_now_ns();
	err = qrtx_reserve_amount(fd, &large, 0, 30 * NSEC_PER_SEC, &h);
	print_message("# large request of %llu qubits: %s after %llu ms, %llu small refusals\n",
		      (unsigned long long)total, qrtx_errname(err),
		      (unsigned long long)((qrtx_now_ns() - t0) / NSEC_PER_MSEC),
		      (unsigned long long)sh->refused);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	assert_ok(err);
	assert_u64_eq(sysfs_get("qubits_used"), total);

	for (int p = 0; p < CHURN_PROCS; p++) {
		int status;

		assert_ok(qrtx_reap(pids[p], &status, 10000));
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	if (sh->errors)
		fail_msg("%d unexpected errors in churners, first %s", sh->errors,
			 qrtx_errname(sh->first_errno));
	assert_ok(qrtx_release(fd, h));
	qrtx_shared_free(sh, sizeof(*sh));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		QRTX_TEST(test_woken_by_holder_exit),
		QRTX_TEST(test_timeout),
		QRTX_TEST(test_signal_with_timeout_eintr),
		QRTX_TEST(test_signal_with_timeout_eintr_despite_sa_restart),
		QRTX_TEST(test_signal_no_timeout_eintr),
		QRTX_TEST(test_signal_no_timeout_restarts),
		QRTX_TEST(test_shrunk_total_fails_waiter),
		QRTX_TEST(test_raised_total_wakes_waiter),
		QRTX_TEST(test_nonblock_refused_behind_waiter),
		QRTX_TEST(test_large_not_starved_by_churn),
	};

	qrtx_require_device();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return qrtx_ksft_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
