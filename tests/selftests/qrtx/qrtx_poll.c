// SPDX-License-Identifier: GPL-2.0
/*
 * poll(): a file is readable once capacity has been returned (RELEASE,
 * reclaim, a raised total) since its last failed RESERVE; each failure
 * re-arms it. IORING_OP_POLL_ADD sees the same readiness.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qrtx_test.h"

#define READABLE	(POLLIN | POLLRDNORM)

static void fail_nonblock(int fd)
{
	struct qrtx_amount one = { .qubits = 1 };

	assert_err(qrtx_reserve_amount(fd, &one, QRTX_RESERVE_NONBLOCK, 0, NULL),
		   -EAGAIN);
}

static short poll_events(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = READABLE };
	int n = poll(&pfd, 1, timeout_ms);

	assert_true(n >= 0);
	return n ? pfd.revents : 0;
}

static void test_readable_after_release(void **state)
{
	struct qrtx_actor_msg rel = { .op = QRTX_ACT_RELEASE, .delay_ms = 200 };
	struct qrtx_amount one = { .qubits = 1 };
	struct pollfd pfd[2];
	struct qrtx_actor holder;
	uint64_t total, t0;

	(void)state;
	hold_all_qubits(&holder, &total, &rel.handle);
	for (int i = 0; i < 2; i++) {
		pfd[i] = (struct pollfd){ .fd = qrtx_open(), .events = READABLE };
		assert_true(pfd[i].fd >= 0);
		fail_nonblock(pfd[i].fd);
		assert_int_equal(poll_events(pfd[i].fd, 0), 0);
	}
	assert_int_equal(poll(pfd, 2, 100), 0);

	/* Both sleeping pollers wake when the holder lets go 200 ms later. */
	assert_ok(qrtx_actor_send(&holder, &rel, -1));
	t0 = qrtx_now_ns();
	for (int i = 0; i < 2; i++) {
		int left = 5000 - (int)((qrtx_now_ns() - t0) / NSEC_PER_MSEC);

		assert_int_equal(poll(&pfd[i], 1, left > 0 ? left : 0), 1);
		assert_int_equal(pfd[i].revents & READABLE, READABLE);
	}
	assert_u64_ge(qrtx_now_ns() - t0, 100 * NSEC_PER_MSEC);
	assert_ok(qrtx_actor_recv(&holder, &rel, QRTX_SETTLE_MS));

	/* Readable meant it: the request fits now. */
	assert_ok(qrtx_reserve_amount(pfd[0].fd, &one, QRTX_RESERVE_NONBLOCK, 0, NULL));
}

static void test_failure_rearms(void **state)
{
	struct qrtx_amount one = { .qubits = 1 }, all;
	struct qrtx_actor holder;
	uint64_t total, h;
	int fd;

	(void)state;
	hold_all_qubits(&holder, &total, &h);
	all = (struct qrtx_amount){ .qubits = total };
	fd = qrtx_open();
	assert_true(fd >= 0);

	/* EAGAIN re-arms. */
	fail_nonblock(fd);
	assert_int_equal(poll_events(fd, 0), 0);
	assert_ok(qrtx_actor_release(&holder, h));
	assert_int_equal(poll_events(fd, 1000) & READABLE, READABLE);
	assert_ok(qrtx_actor_reserve(&holder, &all, QRTX_RESERVE_NONBLOCK, 0, &h));
	fail_nonblock(fd);
	assert_int_equal(poll_events(fd, 0), 0);

	/* So does ETIMEDOUT. */
	assert_ok(qrtx_actor_release(&holder, h));
	assert_int_equal(poll_events(fd, 1000) & READABLE, READABLE);
	assert_ok(qrtx_actor_reserve(&holder, &all, QRTX_RESERVE_NONBLOCK, 0, &h));
	assert_err(qrtx_reserve_amount(fd, &one, 0, 20 * NSEC_PER_MSEC, NULL),
		   -ETIMEDOUT);
	assert_int_equal(poll_events(fd, 0), 0);
}

static void test_readable_after_reclaim(void **state)
{
	struct qrtx_actor holder;
	uint64_t total;
	int fd;

	(void)state;
	hold_all_qubits(&holder, &total, NULL);
	fd = qrtx_open();
	assert_true(fd >= 0);
	fail_nonblock(fd);
	assert_int_equal(poll_events(fd, 0), 0);

	assert_ok(qrtx_actor_kill(&holder));
	assert_int_equal(poll_events(fd, 5000) & READABLE, READABLE);
}

static void test_readable_after_total_raised(void **state)
{
	struct qrtx_actor holder;
	uint64_t total;
	int fd;

	(void)state;
	hold_all_qubits(&holder, &total, NULL);
	fd = qrtx_open();
	assert_true(fd >= 0);
	fail_nonblock(fd);
	assert_int_equal(poll_events(fd, 0), 0);

	assert_ok(qrtx_sysfs_save("qubits_total"));
	assert_ok(qrtx_sysfs_write("qubits_total", total + 1));
	assert_int_equal(poll_events(fd, 5000) & READABLE, READABLE);
}

static void test_uring_poll_add(void **state)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	struct qrtx_actor holder;
	uint64_t total, h;
	int fd;

	(void)state;
	hold_all_qubits(&holder, &total, &h);
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_ring_init(&ring, 8, false));
	fail_nonblock(fd);

	sqe = io_uring_get_sqe(&ring);
	assert_non_null(sqe);
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, 42);
	assert_int_equal(io_uring_submit(&ring), 1);
	assert_err(qrtx_ring_wait(&ring, 200, &cqe), -ETIME);

	assert_ok(qrtx_actor_release(&holder, h));
	assert_ok(qrtx_ring_wait(&ring, 5000, &cqe));
	assert_u64_eq(cqe.user_data, 42);
	assert_true(cqe.res > 0);
	assert_true(cqe.res & POLLIN);
	qrtx_ring_exit(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		QRTX_TEST(test_readable_after_release),
		QRTX_TEST(test_failure_rearms),
		QRTX_TEST(test_readable_after_reclaim),
		QRTX_TEST(test_readable_after_total_raised),
		QRTX_TEST(test_uring_poll_add),
	};

	qrtx_require_device();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return qrtx_ksft_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
