// SPDX-License-Identifier: GPL-2.0
/*
 * The commands through io_uring: IORING_OP_URING_CMD on an SQE128 ring,
 * struct qrtx_uring_cmd in the SQE's command area pointing at the same
 * struct the ioctl takes.
 */
#include <errno.h>
#include <string.h>

#include "qrtx_test.h"

#define BATCH	64

static int open_with_ring(struct io_uring *ring, unsigned int entries)
{
	int fd = qrtx_open();

	assert_true(fd >= 0);
	assert_ok(qrtx_ring_init(ring, entries, true));
	return fd;
}

static void test_uring_info_matches_ioctl(void **state)
{
	struct qrtx_info by_ioctl, by_uring;
	struct io_uring ring;
	int fd;

	(void)state;
	fd = open_with_ring(&ring, 4);
	memset(&by_uring, 0, sizeof(by_uring));
	assert_ok(qrtx_uring_cmd(&ring, fd, QRTX_IOC_INFO, &by_uring, sizeof(by_uring)));
	assert_ok(qrtx_info(fd, &by_ioctl));
	assert_int_equal(by_uring.abi_version, QRTX_ABI_VERSION);
	assert_memory_equal(&by_uring, &by_ioctl, sizeof(by_ioctl));
}

static void test_uring_reserve_list_release(void **state)
{
	struct qrtx_resv_desc d[4];
	struct qrtx_reserve req[2];
	struct qrtx_release rel;
	struct qrtx_list list;
	struct qrtx_amount amt;
	struct qrtx_info info;
	struct io_uring ring;
	int fd;

	(void)state;
	fd = open_with_ring(&ring, 4);
	assert_ok(qrtx_info(fd, &info));
	qrtx_amount_small(&info, &amt);

	for (int i = 0; i < 2; i++) {
		qrtx_req_init(&req[i], &amt, QRTX_RESERVE_NONBLOCK, 0);
		req[i].tag = 0x7a6700 + (uint64_t)i;
		assert_ok(qrtx_uring_cmd(&ring, fd, QRTX_IOC_RESERVE, &req[i],
					 sizeof(req[i])));
		assert_u64_ne(req[i].handle, 0);
	}
	assert_u64_ne(req[0].handle, req[1].handle);
	assert_ok(qrtx_info(fd, &info));
	assert_u64_eq(info.qubits.used, 2 * amt.qubits);
	assert_u64_eq(info.host_bytes.used, 2 * amt.host_bytes);

	list = (struct qrtx_list){
		.entries = (uint64_t)(uintptr_t)d,
		.count = ARRAY_SIZE(d),
	};
	assert_ok(qrtx_uring_cmd(&ring, fd, QRTX_IOC_LIST, &list, sizeof(list)));
	assert_int_equal(list.count, 2);
	for (int i = 0; i < 2; i++) {
		assert_u64_eq(d[i].handle, req[i].handle);
		assert_u64_eq(d[i].tag, req[i].tag);
		assert_u64_eq(d[i].qubits, amt.qubits);
	}

	/* Same ledger whichever way in: one back by ioctl, one by uring. */
	assert_ok(qrtx_release(fd, req[0].handle));
	rel = (struct qrtx_release){ .handle = req[1].handle };
	assert_ok(qrtx_uring_cmd(&ring, fd, QRTX_IOC_RELEASE, &rel, sizeof(rel)));
	assert_ok(qrtx_info(fd, &info));
	assert_u64_eq(info.qubits.used, 0);
	assert_u64_eq(info.host_bytes.used, 0);
}

/* Submit prepared SQEs in one go and collect every CQE by user_data. */
static void submit_and_reap(struct io_uring *ring, unsigned int n, int *res)
{
	struct io_uring_cqe cqe;

	assert_int_equal(io_uring_submit(ring), (int)n);
	for (unsigned int i = 0; i < n; i++)
		res[i] = QRTX_ACT_NOREPLY;
	for (unsigned int i = 0; i < n; i++) {
		assert_ok(qrtx_ring_wait(ring, 5000, &cqe));
		assert_true(cqe.user_data < n);
		assert_int_equal(res[cqe.user_data], QRTX_ACT_NOREPLY);
		res[cqe.user_data] = cqe.res;
	}
}

static void test_uring_batch_of_64(void **state)
{
	static struct qrtx_reserve req[BATCH];
	static struct qrtx_release rel[BATCH];
	uint64_t handles[BATCH];
	struct qrtx_amount amt = { .host_bytes = 1 };
	struct qrtx_info info;
	struct io_uring ring;
	int res[BATCH], fd;
	uint32_t count = 0;

	(void)state;
	fd = open_with_ring(&ring, 2 * BATCH);
	assert_ok(qrtx_info(fd, &info));
	if (info.host_bytes.total < BATCH)
		skip_because("host_bytes_total below %d", BATCH);
	if (info.qubits.total >= BATCH)
		amt.qubits = 1;

	for (unsigned int i = 0; i < BATCH; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		assert_non_null(sqe);
		qrtx_req_init(&req[i], &amt, QRTX_RESERVE_NONBLOCK, 0);
		req[i].tag = i;
		qrtx_prep_cmd(&ring, sqe, fd, QRTX_IOC_RESERVE, &req[i],
			      sizeof(req[i]), i);
	}
	submit_and_reap(&ring, BATCH, res);
	for (unsigned int i = 0; i < BATCH; i++) {
		if (res[i])
			fail_msg("reserve %u: %s", i, qrtx_errname(res[i]));
		handles[i] = req[i].handle;
		assert_u64_ne(handles[i], 0);
	}
	assert_true(qrtx_distinct_u64(handles, BATCH));

	assert_ok(qrtx_list(fd, NULL, &count));
	assert_int_equal(count, BATCH);
	assert_u64_eq(sysfs_get("qubits_used"), BATCH * amt.qubits);
	assert_u64_eq(sysfs_get("host_bytes_used"), BATCH * amt.host_bytes);

	for (unsigned int i = 0; i < BATCH; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		assert_non_null(sqe);
		rel[i] = (struct qrtx_release){ .handle = req[i].handle };
		qrtx_prep_cmd(&ring, sqe, fd, QRTX_IOC_RELEASE, &rel[i],
			      sizeof(rel[i]), i);
	}
	submit_and_reap(&ring, BATCH, res);
	for (unsigned int i = 0; i < BATCH; i++)
		if (res[i])
			fail_msg("release %u: %s", i, qrtx_errname(res[i]));
	count = 0;
	assert_ok(qrtx_list(fd, NULL, &count));
	assert_int_equal(count, 0);
	assert_u64_eq(sysfs_get("qubits_used"), 0);
	assert_u64_eq(sysfs_get("host_bytes_used"), 0);
}

static void test_uring_reservations_reclaimed(void **state)
{
	struct qrtx_counters before;
	struct qrtx_reserve req;
	struct qrtx_amount amt;
	struct qrtx_info info;
	struct io_uring ring;
	int fd;

	(void)state;
	fd = open_with_ring(&ring, 4);
	assert_ok(qrtx_info(fd, &info));
	qrtx_amount_small(&info, &amt);
	assert_ok(qrtx_counters_read(&before));
	qrtx_req_init(&req, &amt, QRTX_RESERVE_NONBLOCK, 0);
	assert_ok(qrtx_uring_cmd(&ring, fd, QRTX_IOC_RESERVE, &req, sizeof(req)));

	/* The ring may hold the file a little longer; that is all. */
	assert_ok(qrtx_close(fd));
	qrtx_ring_exit(&ring);
	assert_ok(qrtx_wait_idle(QRTX_SETTLE_MS));
	assert_u64_eq(sysfs_get("reservations_reclaimed"), before.reclaimed + 1);
	assert_u64_eq(sysfs_get("qubits_reclaimed"), before.pool[0].reclaimed + amt.qubits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		QRTX_TEST(test_uring_info_matches_ioctl),
		QRTX_TEST(test_uring_reserve_list_release),
		QRTX_TEST(test_uring_batch_of_64),
		QRTX_TEST(test_uring_reservations_reclaimed),
	};

	qrtx_require_device();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return qrtx_ksft_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
