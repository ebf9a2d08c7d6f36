// SPDX-License-Identifier: MIT
/*
 * The in-process ledger must answer exactly as /dev/qrtx does.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "qrtx/ledger.h"
#include "qrtx/resource.h"

struct fixture {
	struct qrtx_ledger *l;
	struct qrtx_account *a, *b;
};

static int setup(void **state)
{
	static struct fixture f;
	struct qrtx_ledger_config cfg = {
		.qubits = 10, .host_bytes = 1000, .gpu_count = 2,
		.gpu_bytes = { 100, 50 }, .max_reservations = 8,
	};

	assert_int_equal(qrtx_ledger_new(&cfg, &f.l), 0);
	assert_int_equal(qrtx_account_open(f.l, &f.a), 0);
	assert_int_equal(qrtx_account_open(f.l, &f.b), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	qrtx_account_close(f->a);
	qrtx_account_close(f->b);
	qrtx_ledger_free(f->l);
	return 0;
}

static int reserve(struct qrtx_account *a, uint64_t q, uint64_t h, uint64_t g,
		   uint32_t gi, uint32_t flags, uint64_t *handle)
{
	struct qrtx_reserve r = { .flags = flags, .qubits = q, .host_bytes = h,
				  .gpu_bytes = g, .gpu_index = gi, .tag = 7 };
	int err = qrtx_account_reserve(a, &r);

	if (!err && handle)
		*handle = r.handle;
	return err;
}

static struct qrtx_info info_of(struct qrtx_account *a)
{
	struct qrtx_info info = { 0 };

	assert_int_equal(qrtx_account_info(a, &info), 0);
	return info;
}

static void test_info(void **state)
{
	struct fixture *f = *state;
	struct qrtx_info info = info_of(f->a);

	assert_int_equal(info.abi_version, QRTX_ABI_VERSION);
	assert_int_equal(info.max_gpus, QRTX_MAX_GPUS);
	assert_int_equal(info.gpu_count, 2);
	assert_int_equal(info.qubits.total, 10);
	assert_int_equal(info.host_bytes.total, 1000);
	assert_int_equal(info.gpu[1].total, 50);
	info.reserved[3] = 1;
	assert_int_equal(qrtx_account_info(f->a, &info), -EINVAL);
}

static void test_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	uint64_t h = 0;
	struct qrtx_info info;

	assert_int_equal(reserve(f->a, 4, 100, 40, 1, QRTX_RESERVE_NONBLOCK, &h), 0);
	/* The GPU part cannot be met: neither may the qubit part be taken. */
	assert_int_equal(reserve(f->a, 2, 0, 20, 1, QRTX_RESERVE_NONBLOCK, NULL), -EAGAIN);
	info = info_of(f->a);
	assert_int_equal(info.qubits.used, 4);
	assert_int_equal(info.gpu[1].used, 40);
	assert_int_equal(qrtx_account_release(f->a, h), 0);
	info = info_of(f->a);
	assert_int_equal(info.qubits.used, 0);
	assert_int_equal(info.gpu[1].used, 0);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct qrtx_reserve r = { .qubits = 1, .flags = QRTX_RESERVE_NONBLOCK };
	uint64_t h = 0;

	r.reserved[2] = 1;
	assert_int_equal(qrtx_account_reserve(f->a, &r), -EINVAL);
	assert_int_equal(reserve(f->a, 1, 0, 0, 0, 0x80, NULL), -EINVAL);
	assert_int_equal(reserve(f->a, 0, 0, 0, 0, QRTX_RESERVE_NONBLOCK, NULL), -EINVAL);
	assert_int_equal(reserve(f->a, 1, 0, 0, 1, QRTX_RESERVE_NONBLOCK, NULL), -EINVAL);
	assert_int_equal(reserve(f->a, 0, 0, 1, 2, QRTX_RESERVE_NONBLOCK, NULL), -ENODEV);
	assert_int_equal(reserve(f->a, 0, 0, 1, QRTX_MAX_GPUS, QRTX_RESERVE_NONBLOCK, NULL), -ENODEV);
	assert_int_equal(reserve(f->a, 11, 0, 0, 0, QRTX_RESERVE_NONBLOCK, NULL), -ENOSPC);
	assert_int_equal(reserve(f->a, 0, UINT64_MAX, 0, 0, 0, NULL), -ENOSPC);
	/* A handle is only good on the account that holds it. */
	assert_int_equal(reserve(f->a, 1, 0, 0, 0, QRTX_RESERVE_NONBLOCK, &h), 0);
	assert_int_equal(qrtx_account_release(f->b, h), -ENOENT);
	assert_int_equal(qrtx_account_release(f->a, h), 0);
	assert_int_equal(qrtx_account_release(f->a, h), -ENOENT);
}

static void test_quota_and_list(void **state)
{
	struct fixture *f = *state;
	struct qrtx_resv_desc d[8];
	struct qrtx_list lst = { .entries = (uintptr_t)d, .count = 2 };
	uint64_t h[8];

	for (int i = 0; i < 8; i++)
		assert_int_equal(reserve(f->a, 0, 1, 0, 0, QRTX_RESERVE_NONBLOCK, &h[i]), 0);
	assert_int_equal(reserve(f->a, 0, 1, 0, 0, QRTX_RESERVE_NONBLOCK, NULL), -EDQUOT);
	assert_int_equal(qrtx_account_list(f->a, &lst), -EOVERFLOW);
	assert_int_equal(lst.count, 8);
	lst.count = 0;
	assert_int_equal(qrtx_account_list(f->a, &lst), 0);
	assert_int_equal(lst.count, 8);
	lst.count = 8;
	assert_int_equal(qrtx_account_list(f->a, &lst), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(d[i].handle, h[i]);
		assert_int_equal(d[i].tag, 7);
		assert_int_equal(d[i].host_bytes, 1);
	}
	for (int i = 0; i < 8; i++)
		assert_int_equal(qrtx_account_release(f->a, h[i]), 0);
}

static void test_reclaim_on_close(void **state)
{
	struct fixture *f = *state;
	struct qrtx_account *c;
	struct qrtx_ledger_stats st;

	assert_int_equal(qrtx_account_open(f->l, &c), 0);
	assert_int_equal(reserve(c, 3, 10, 5, 0, QRTX_RESERVE_NONBLOCK, NULL), 0);
	assert_int_equal(info_of(f->a).qubits.used, 3);
	qrtx_account_close(c);
	assert_int_equal(info_of(f->a).qubits.used, 0);
	qrtx_ledger_stats(f->l, &st);
	assert_int_equal(st.reclaimed, 1);
	assert_int_equal(st.reclaimed_amount[QRTX_LEDGER_POOL_GPU(0)], 5);
	assert_int_equal(st.granted, st.released + st.reclaimed);
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	struct qrtx_reserve r = { .qubits = 10, .timeout_ns = 20000000 };
	struct timespec t0, t1;
	uint64_t h = 0;

	assert_int_equal(reserve(f->a, 1, 0, 0, 0, 0, &h), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(qrtx_account_reserve(f->b, &r), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) >= 20000000L);
	assert_int_equal(qrtx_account_release(f->a, h), 0);
}

struct blocked {
	struct qrtx_account *acct;
	uint64_t qubits;
	int err;
};

static void *blocked_reserve(void *arg)
{
	struct blocked *b = arg;

	b->err = reserve(b->acct, b->qubits, 0, 0, 0, 0, NULL);
	return NULL;
}

static void wait_waiters(struct qrtx_ledger *l, uint64_t n)
{
	struct qrtx_ledger_stats st;

	for (int i = 0; i < 5000; i++) {
		qrtx_ledger_stats(l, &st);
		if (st.waiters == n)
			return;
		usleep(1000);
	}
	fail_msg("waiters never reached %llu", (unsigned long long)n);
}

/* A large waiter is not overtaken on its pool by later small requests. */
static void test_fifo_fairness(void **state)
{
	struct fixture *f = *state;
	struct blocked big = { .acct = f->b, .qubits = 8 };
	pthread_t t;
	uint64_t h[5];

	for (int i = 0; i < 5; i++)
		assert_int_equal(reserve(f->a, 2, 0, 0, 0, 0, &h[i]), 0);
	assert_int_equal(pthread_create(&t, NULL, blocked_reserve, &big), 0);
	wait_waiters(f->l, 1);
	assert_int_equal(qrtx_account_release(f->a, h[0]), 0);
	/* Two qubits are free, but the big waiter came first. */
	assert_int_equal(reserve(f->a, 1, 0, 0, 0, QRTX_RESERVE_NONBLOCK, NULL), -EAGAIN);
	/* Other pools are not held up by it. */
	assert_int_equal(reserve(f->a, 0, 10, 0, 0, QRTX_RESERVE_NONBLOCK, &h[0]), 0);
	assert_int_equal(qrtx_account_release(f->a, h[0]), 0);
	for (int i = 1; i < 4; i++)
		assert_int_equal(qrtx_account_release(f->a, h[i]), 0);
	pthread_join(t, NULL);
	assert_int_equal(big.err, 0);
	assert_int_equal(info_of(f->a).qubits.used, 10);
	assert_int_equal(qrtx_account_release(f->a, h[4]), 0);
	qrtx_account_close(f->b);
	assert_int_equal(qrtx_account_open(f->l, &f->b), 0);
	assert_int_equal(info_of(f->a).qubits.used, 0);
}

static void test_resize(void **state)
{
	struct fixture *f = *state;
	struct blocked big = { .acct = f->b, .qubits = 10 };
	pthread_t t;
	uint64_t h = 0;

	assert_int_equal(reserve(f->a, 5, 0, 0, 0, 0, &h), 0);
	assert_int_equal(qrtx_ledger_set_total(f->l, QRTX_LEDGER_POOL_QUBITS, 4), -EBUSY);
	assert_int_equal(pthread_create(&t, NULL, blocked_reserve, &big), 0);
	wait_waiters(f->l, 1);
	/* Shrinking below the waiter's request fails it rather than strand it. */
	assert_int_equal(qrtx_ledger_set_total(f->l, QRTX_LEDGER_POOL_QUBITS, 6), 0);
	pthread_join(t, NULL);
	assert_int_equal(big.err, -ENOSPC);
	assert_int_equal(qrtx_ledger_set_total(f->l, QRTX_LEDGER_POOL_QUBITS, 10), 0);
	assert_int_equal(qrtx_account_release(f->a, h), 0);
}

/* GPU pools come and go (as the device's gpu_count), never one in use. */
static void test_gpu_count(void **state)
{
	struct fixture *f = *state;
	uint64_t h = 0;

	assert_int_equal(reserve(f->a, 1, 0, 10, 2, 0, NULL), -ENODEV);
	assert_int_equal(qrtx_ledger_set_gpu_count(f->l, 3), 0);
	assert_int_equal(info_of(f->a).gpu_count, 3);
	/* a new pool holds nothing until it is given a total */
	assert_int_equal(reserve(f->a, 1, 0, 10, 2, QRTX_RESERVE_NONBLOCK, NULL), -ENOSPC);
	assert_int_equal(qrtx_ledger_set_total(f->l, QRTX_LEDGER_POOL_GPU(2), 30), 0);
	assert_int_equal(reserve(f->a, 1, 0, 10, 2, 0, &h), 0);
	assert_int_equal(info_of(f->a).gpu[2].used, 10);
	assert_int_equal(qrtx_ledger_set_gpu_count(f->l, 2), -EBUSY);
	assert_int_equal(qrtx_ledger_set_gpu_count(f->l, QRTX_MAX_GPUS + 1), -EINVAL);
	assert_int_equal(qrtx_account_release(f->a, h), 0);
	assert_int_equal(qrtx_ledger_set_gpu_count(f->l, 1), 0);
	assert_int_equal(info_of(f->a).gpu_count, 1);
	assert_int_equal(reserve(f->a, 1, 0, 10, 1, 0, NULL), -ENODEV);
}

/* The runtime gives a CUDA device's pool its size when it has none: in
 * the in-process ledger always, and only then. */
static void test_res_gpu_pool(void **state)
{
	struct qrtx_res *r;
	struct qrtx_info info = { 0 };
	struct qrtx_reserve req = { .qubits = 1, .gpu_bytes = 600, .gpu_index = 1 };

	(void)state;
	if (!access("/dev/qrtx", F_OK)) {
		print_message("# /dev/qrtx exists: its pools are the administrator's\n");
		skip();
	}
	assert_int_equal(qrtx_res_open(NULL, &r), 0);
	assert_int_equal(qrtx_res_backend(r), QRTX_RES_INPROCESS);
	assert_int_equal(qrtx_res_reserve(r, &req), -ENODEV);
	assert_int_equal(qrtx_res_gpu_pool(r, 1, 1000), 0);
	assert_int_equal(qrtx_res_info(r, &info), 0);
	assert_int_equal(info.gpu_count, 2);
	assert_int_equal(info.gpu[1].total, 1000);
	assert_int_equal(info.gpu[0].total, 0);
	assert_int_equal(qrtx_res_reserve(r, &req), 0);
	/* sized once: a second call keeps the total */
	assert_int_equal(qrtx_res_gpu_pool(r, 1, 5000), 0);
	assert_int_equal(qrtx_res_info(r, &info), 0);
	assert_int_equal(info.gpu[1].total, 1000);
	assert_int_equal(info.gpu[1].used, 600);
	assert_int_equal(qrtx_res_gpu_pool(r, QRTX_MAX_GPUS, 1), -EINVAL);
	assert_int_equal(qrtx_res_release(r, req.handle), 0);
	qrtx_res_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_on_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_fairness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpu_count, setup, teardown),
		cmocka_unit_test(test_res_gpu_pool),
	};

	return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
