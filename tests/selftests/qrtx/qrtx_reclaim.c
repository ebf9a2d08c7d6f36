// SPDX-License-Identifier: GPL-2.0
/*
 * Whatever a ledger holds comes back at the last close of its file: close,
 * exit, SIGKILL (even in the middle of a blocking RESERVE), exec with
 * close-on-exec. A file shared by fork() or passed with SCM_RIGHTS keeps
 * its holdings until its last user lets go.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrtx_test.h"

#define EXEC_PROBE_ARG	"--exec-probe"

static void small_amount(struct qrtx_amount *amt)
{
	struct qrtx_info info;

	assert_ok(qrtx_info_snapshot(&info));
	qrtx_amount_small(&info, amt);
}

/* Every pool is back to idle and its reclaimed figure rose by what amt held. */
static void assert_reclaimed(const struct qrtx_counters *before,
			     const struct qrtx_amount *amt, uint64_t nresv)
{
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	struct qrtx_counters after;
	struct qrtx_info info;
	unsigned int n;

	assert_ok(qrtx_wait_idle(QRTX_SETTLE_MS));
	assert_ok(qrtx_counters_read(&after));
	assert_ok(qrtx_info_snapshot(&info));
	n = qrtx_pools(&info, refs);
	for (unsigned int p = 0; p < n; p++) {
		uint64_t want = before->pool[p].reclaimed +
				nresv * qrtx_amount_in(amt, &refs[p]);

		if (after.pool[p].reclaimed != want)
			fail_msg("%s reclaimed %llu, want %llu", refs[p].label,
				 (unsigned long long)after.pool[p].reclaimed,
				 (unsigned long long)want);
		assert_u64_eq(qrtx_pool_stat(&info, &refs[p])->used, 0);
	}
	assert_u64_eq(after.reclaimed, before->reclaimed + nresv);
	assert_u64_eq(after.released + after.reclaimed, after.granted);
	assert_u64_eq(after.active, 0);
}

/* Nothing was given back yet: used is what amt * nresv asks. */
static void assert_still_held(const struct qrtx_counters *before,
			      const struct qrtx_amount *amt, uint64_t nresv)
{
	struct qrtx_counters now;

	assert_ok(qrtx_counters_read(&now));
	assert_u64_eq(now.pool[0].used, nresv * amt->qubits);
	assert_u64_eq(now.pool[1].used, nresv * amt->host_bytes);
	assert_u64_eq(now.reclaimed, before->reclaimed);
	assert_u64_eq(now.active, nresv);
}

static void test_reclaim_on_last_close(void **state)
{
	struct qrtx_counters before;
	struct qrtx_amount amt;
	uint64_t h;
	int fd, dup_fd;

	(void)state;
	small_amount(&amt);
	assert_ok(qrtx_counters_read(&before));
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &h));
	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &h));

	/* A dup shares the file description: closing one copy returns nothing. */
	dup_fd = dup(fd);
	assert_true(dup_fd >= 0);
	assert_ok(qrtx_close(fd));
	assert_still_held(&before, &amt, 2);

	assert_int_equal(close(dup_fd), 0);
	assert_reclaimed(&before, &amt, 2);
}

static void test_reclaim_on_exit(void **state)
{
	struct qrtx_counters before;
	struct qrtx_actor holder;
	struct qrtx_amount amt;

	(void)state;
	small_amount(&amt);
	assert_ok(qrtx_counters_read(&before));
	assert_ok(qrtx_actor_start(&holder, -1));
	assert_ok(qrtx_actor_reserve(&holder, &amt, QRTX_RESERVE_NONBLOCK, 0, NULL));
	assert_still_held(&before, &amt, 1);

	assert_int_equal(qrtx_actor_stop(&holder), 0);
	assert_reclaimed(&before, &amt, 1);
}

static void test_reclaim_on_sigkill_while_blocked(void **state)
{
	struct qrtx_counters before;
	struct qrtx_actor holder;
	struct qrtx_actor_msg reply;
	struct qrtx_amount amt, all_qubits;
	struct qrtx_info info;
	uint64_t h;
	int fd;

	(void)state;
	assert_ok(qrtx_info_snapshot(&info));
	if (!info.qubits.total)
		skip_because("the qubit pool is empty");
	qrtx_amount_small(&info, &amt);
	all_qubits = (struct qrtx_amount){ .qubits = info.qubits.total };
	assert_ok(qrtx_counters_read(&before));

	/* It holds some, then waits forever for what its holding prevents. */
	assert_ok(qrtx_actor_start(&holder, -1));
	assert_ok(qrtx_actor_reserve(&holder, &amt, QRTX_RESERVE_NONBLOCK, 0, NULL));
	assert_ok(qrtx_actor_reserve_async(&holder, &all_qubits, 0, 0));
	assert_sysfs_settles("waiters", 1);
	assert_int_equal(qrtx_actor_recv(&holder, &reply, 0), QRTX_ACT_NOREPLY);
	assert_still_held(&before, &amt, 1);

	assert_ok(qrtx_actor_kill(&holder));
	assert_sysfs_settles("waiters", 0);
	assert_reclaimed(&before, &amt, 1);

	/* No trace of the dead waiter: the whole pool is grantable at once. */
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_reserve_amount(fd, &all_qubits, QRTX_RESERVE_NONBLOCK, 0, &h));
	assert_ok(qrtx_release(fd, h));
}

static void test_fork_shares_ledger(void **state)
{
	struct qrtx_counters before;
	struct qrtx_resv_desc d[4];
	struct qrtx_actor child;
	struct qrtx_amount amt;
	uint64_t mine, childs;
	uint32_t count = ARRAY_SIZE(d);
	int fd;

	(void)state;
	small_amount(&amt);
	assert_ok(qrtx_counters_read(&before));
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &mine));

	/* The child reserves on the inherited file, then exits. */
	assert_ok(qrtx_actor_start(&child, fd));
	assert_ok(qrtx_actor_reserve(&child, &amt, QRTX_RESERVE_NONBLOCK, 0, &childs));
	assert_int_equal(qrtx_actor_stop(&child), 0);
	assert_still_held(&before, &amt, 2);

	/* Its reservation is in our ledger and ours to release. */
	assert_ok(qrtx_list(fd, d, &count));
	assert_int_equal(count, 2);
	assert_u64_eq(d[0].handle, mine);
	assert_u64_eq(d[1].handle, childs);
	assert_ok(qrtx_release(fd, childs));
	assert_still_held(&before, &amt, 1);

	assert_ok(qrtx_close(fd));
	assert_reclaimed(&before, &amt, 1);
}

static void test_scm_rights_receiver_keeps_ledger(void **state)
{
	uint64_t handles[QRTX_ACT_LIST_MAX], h;
	struct qrtx_counters before;
	struct qrtx_actor receiver;
	struct qrtx_amount amt;
	uint32_t count;
	int fd;

	(void)state;
	small_amount(&amt);
	assert_ok(qrtx_counters_read(&before));
	assert_ok(qrtx_actor_start(&receiver, -1));
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &h));

	assert_ok(qrtx_actor_adopt_fd(&receiver, fd));
	assert_ok(qrtx_close(fd));
	assert_still_held(&before, &amt, 1);

	assert_ok(qrtx_actor_list(&receiver, &count, handles));
	assert_int_equal(count, 1);
	assert_u64_eq(handles[0], h);

	assert_ok(qrtx_actor_close(&receiver));
	assert_reclaimed(&before, &amt, 1);
	assert_int_equal(qrtx_actor_stop(&receiver), 0);
}

/* Run by exec: say so on stdout, then live until stdin closes. */
static int exec_probe(void)
{
	char c;

	if (write(STDOUT_FILENO, "e", 1) != 1)
		return 1;
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}

static void read_byte(int fd, char want)
{
	char c = 0;

	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, want);
}

static void check_exec(bool cloexec)
{
	struct qrtx_counters before;
	struct qrtx_amount amt;
	int to_child[2], from_child[2], status;
	pid_t pid;

	small_amount(&amt);
	assert_ok(qrtx_counters_read(&before));
	assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from_child, O_CLOEXEC), 0);

	pid = qrtx_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		if (dup2(to_child[0], STDIN_FILENO) < 0 ||
		    dup2(from_child[1], STDOUT_FILENO) < 0)
			qrtx_child_fail("dup2: %m");
		qrtx_close_fds_except(-1, -1);
		fd = open(QRTX_DEV_PATH, O_RDWR | (cloexec ? O_CLOEXEC : 0));
		if (fd < 0 || qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, NULL))
			qrtx_child_fail("open or reserve failed");
		if (write(STDOUT_FILENO, "r", 1) != 1)
			qrtx_child_fail("write: %m");
		execl("/proc/self/exe", "qrtx_reclaim", EXEC_PROBE_ARG, (char *)NULL);
		qrtx_child_fail("exec: %m");
	}
	close(to_child[0]);
	close(from_child[1]);

	read_byte(from_child[0], 'r');
	read_byte(from_child[0], 'e');
	if (cloexec) {
		assert_reclaimed(&before, &amt, 1);
	} else {
		assert_still_held(&before, &amt, 1);
	}

	close(to_child[1]);
	assert_ok(qrtx_reap(pid, &status, QRTX_SETTLE_MS));
	close(from_child[0]);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_reclaimed(&before, &amt, 1);
}

static void test_reclaim_on_exec_cloexec(void **state)
{
	(void)state;
	check_exec(true);
}

static void test_exec_keeps_inherited_file(void **state)
{
	(void)state;
	check_exec(false);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		QRTX_TEST(test_reclaim_on_last_close),
		QRTX_TEST(test_reclaim_on_exit),
		QRTX_TEST(test_reclaim_on_sigkill_while_blocked),
		QRTX_TEST(test_fork_shares_ledger),
		QRTX_TEST(test_scm_rights_receiver_keeps_ledger),
		QRTX_TEST(test_reclaim_on_exec_cloexec),
		QRTX_TEST(test_exec_keeps_inherited_file),
	};

	if (argc > 1 && !strcmp(argv[1], EXEC_PROBE_ARG))
		return exec_probe();
	qrtx_require_device();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return qrtx_ksft_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
