// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/class/misc/qrtx: figures agree with INFO, totals can be resized
 * (never below what is in use), bad writes are refused, open_files
 * counts open file descriptions; and the module cannot be unloaded while
 * a file is open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qrtx_test.h"

static unsigned int pools_now(struct qrtx_info *info,
			      struct qrtx_pool_ref refs[QRTX_MAX_POOLS])
{
	assert_ok(qrtx_info_snapshot(info));
	return qrtx_pools(info, refs);
}

static uint64_t pool_sysfs(const struct qrtx_pool_ref *pool, const char *figure)
{
	char attr[64];

	qrtx_pool_attr(pool, figure, attr, sizeof(attr));
	return sysfs_get(attr);
}

/* Every pool's total and used, in sysfs and INFO, while something is held. */
static void assert_sysfs_matches_info(void)
{
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	struct qrtx_info info;
	unsigned int n = pools_now(&info, refs);

	assert_u64_eq(sysfs_get("gpu_count"), info.gpu_count);
	for (unsigned int p = 0; p < n; p++) {
		const struct qrtx_pool_stat *st = qrtx_pool_stat(&info, &refs[p]);

		assert_u64_eq(pool_sysfs(&refs[p], "total"), st->total);
		assert_u64_eq(pool_sysfs(&refs[p], "used"), st->used);
		assert_u64_ge(pool_sysfs(&refs[p], "peak"), st->used);
	}
}

static void test_values_match_info(void **state)
{
	struct qrtx_amount amt;
	struct qrtx_info info;
	char attr[64];
	int fd;

	(void)state;
	assert_u64_eq(sysfs_get("abi_version"), QRTX_ABI_VERSION);
	/* A directory for every GPU the module could have. */
	for (unsigned int i = 0; i < QRTX_MAX_GPUS; i++) {
		snprintf(attr, sizeof(attr), "gpu%u/bytes_total", i);
		(void)sysfs_get(attr);
	}
	assert_sysfs_matches_info();

	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_info(fd, &info));
	qrtx_amount_small(&info, &amt);
	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, NULL));
	assert_sysfs_matches_info();
	assert_u64_eq(sysfs_get("reservations_active"), 1);
}

static void test_peak_is_high_water(void **state)
{
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	struct qrtx_info info;
	unsigned int n = pools_now(&info, refs);
	int fd;

	(void)state;
	fd = qrtx_open();
	assert_true(fd >= 0);
	for (unsigned int p = 0; p < n; p++) {
		uint64_t total = qrtx_pool_stat(&info, &refs[p])->total;
		uint64_t peak0 = pool_sysfs(&refs[p], "peak");
		struct qrtx_amount amt;
		uint64_t h;

		if (!total)
			continue;
		qrtx_amount_of(&refs[p], total, &amt);
		assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &h));
		assert_u64_eq(pool_sysfs(&refs[p], "peak"), peak0 > total ? peak0 : total);
		assert_ok(qrtx_release(fd, h));
		assert_u64_eq(pool_sysfs(&refs[p], "used"), 0);
		assert_u64_eq(pool_sysfs(&refs[p], "peak"), peak0 > total ? peak0 : total);
	}
}

/* Grow, empty and shrink each pool's total; INFO and requests follow. */
static void test_resize_totals(void **state)
{
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	struct qrtx_info info, now;
	unsigned int n = pools_now(&info, refs);
	int fd;

	(void)state;
	fd = qrtx_open();
	assert_true(fd >= 0);
	for (unsigned int p = 0; p < n; p++) {
		uint64_t orig = qrtx_pool_stat(&info, &refs[p])->total;
		const uint64_t sizes[] = { orig + 7, 0, orig / 2 + 1, orig };
		char attr[64];

		qrtx_pool_attr(&refs[p], "total", attr, sizeof(attr));
		assert_ok(qrtx_sysfs_save(attr));
		for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
			struct qrtx_amount all, more;
			uint64_t h;

			assert_ok(qrtx_sysfs_write(attr, sizes[s]));
			assert_u64_eq(sysfs_get(attr), sizes[s]);
			assert_ok(qrtx_info(fd, &now));
			assert_u64_eq(qrtx_pool_stat(&now, &refs[p])->total, sizes[s]);

			qrtx_amount_of(&refs[p], sizes[s] + 1, &more);
			assert_err(qrtx_reserve_amount(fd, &more, QRTX_RESERVE_NONBLOCK,
						       0, &h), -ENOSPC);
			if (!sizes[s])
				continue;
			qrtx_amount_of(&refs[p], sizes[s], &all);
			assert_ok(qrtx_reserve_amount(fd, &all, QRTX_RESERVE_NONBLOCK,
						      0, &h));
			assert_ok(qrtx_release(fd, h));
		}
	}
}

/* Saved last, gpu_count is put back first, then the GPUs' totals. */
static void save_all_gpu_totals(void)
{
	char attr[64];

	for (unsigned int i = 0; i < QRTX_MAX_GPUS; i++) {
		snprintf(attr, sizeof(attr), "gpu%u/bytes_total", i);
		assert_ok(qrtx_sysfs_save(attr));
	}
	assert_ok(qrtx_sysfs_save("gpu_count"));
}

static void assert_gpu_count(int fd, uint32_t want)
{
	struct qrtx_amount one = { .gpu_bytes = 1, .gpu_index = want };
	struct qrtx_info info;

	assert_u64_eq(sysfs_get("gpu_count"), want);
	assert_ok(qrtx_info(fd, &info));
	assert_int_equal(info.gpu_count, want);
	if (want < QRTX_MAX_GPUS)
		assert_err(qrtx_reserve_amount(fd, &one, QRTX_RESERVE_NONBLOCK, 0, NULL),
			   -ENODEV);
	if (want) {
		char attr[64];

		snprintf(attr, sizeof(attr), "gpu%u/bytes_total", want - 1);
		assert_u64_eq(info.gpu[want - 1].total, sysfs_get(attr));
	}
}

static void test_resize_gpu_count(void **state)
{
	uint32_t count = (uint32_t)sysfs_get("gpu_count");
	int fd, err;

	(void)state;
	save_all_gpu_totals();
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_gpu_count(fd, count);

	if (count < QRTX_MAX_GPUS) {
		assert_ok(qrtx_sysfs_write("gpu_count", count + 1));
		assert_gpu_count(fd, count + 1);
	}
	if (count > 0) {
		assert_ok(qrtx_sysfs_write("gpu_count", count - 1));
		assert_gpu_count(fd, count - 1);
	}
	assert_ok(qrtx_sysfs_write("gpu_count", QRTX_MAX_GPUS));
	assert_gpu_count(fd, QRTX_MAX_GPUS);
	assert_ok(qrtx_sysfs_write("gpu_count", count));
	assert_gpu_count(fd, count);

	err = qrtx_sysfs_write("gpu_count", QRTX_MAX_GPUS + 1);
	if (err != -EINVAL && err != -ERANGE)
		fail_msg("gpu_count=%d: %s, want EINVAL or ERANGE",
			 QRTX_MAX_GPUS + 1, qrtx_errname(err));
	assert_gpu_count(fd, count);
}

static void test_shrink_below_used_ebusy(void **state)
{
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	struct qrtx_info info;
	unsigned int n = pools_now(&info, refs);
	int fd;

	(void)state;
	fd = qrtx_open();
	assert_true(fd >= 0);
	for (unsigned int p = 0; p < n; p++) {
		uint64_t total = qrtx_pool_stat(&info, &refs[p])->total;
		struct qrtx_amount two;
		char attr[64];
		uint64_t h;

		if (total < 2)
			continue;
		qrtx_pool_attr(&refs[p], "total", attr, sizeof(attr));
		assert_ok(qrtx_sysfs_save(attr));
		qrtx_amount_of(&refs[p], 2, &two);
		assert_ok(qrtx_reserve_amount(fd, &two, QRTX_RESERVE_NONBLOCK, 0, &h));

		assert_err(qrtx_sysfs_write(attr, 1), -EBUSY);
		assert_err(qrtx_sysfs_write(attr, 0), -EBUSY);
		assert_u64_eq(sysfs_get(attr), total);
		/* Down to exactly what is used is allowed. */
		assert_ok(qrtx_sysfs_write(attr, 2));
		assert_ok(qrtx_sysfs_write(attr, total));
		assert_ok(qrtx_release(fd, h));
	}

	/* Dropping a GPU that has bytes in use. */
	if (info.gpu_count && info.gpu[info.gpu_count - 1].total) {
		struct qrtx_amount one = {
			.gpu_bytes = 1, .gpu_index = info.gpu_count - 1,
		};

		save_all_gpu_totals();
		assert_ok(qrtx_reserve_amount(fd, &one, QRTX_RESERVE_NONBLOCK, 0, NULL));
		assert_err(qrtx_sysfs_write("gpu_count", info.gpu_count - 1), -EBUSY);
		assert_err(qrtx_sysfs_write("gpu_count", 0), -EBUSY);
		assert_u64_eq(sysfs_get("gpu_count"), info.gpu_count);
	}
}

static unsigned int rw_attrs(char attrs[][64], unsigned int gpu_count)
{
	unsigned int n = 0;

	snprintf(attrs[n++], 64, "qubits_total");
	snprintf(attrs[n++], 64, "host_bytes_total");
	snprintf(attrs[n++], 64, "gpu_count");
	for (unsigned int i = 0; i < gpu_count; i++)
		snprintf(attrs[n++], 64, "gpu%u/bytes_total", i);
	return n;
}

static void test_non_numeric_einval(void **state)
{
	static const char *const junk[] = { "abc", "12abc", "-1", "1.5", " \n", "x\n" };
	char attrs[3 + QRTX_MAX_GPUS][64];
	unsigned int n;

	(void)state;
	n = rw_attrs(attrs, (unsigned int)sysfs_get("gpu_count"));
	for (unsigned int a = 0; a < n; a++) {
		uint64_t before = sysfs_get(attrs[a]);
		int err;

		assert_ok(qrtx_sysfs_save(attrs[a]));
		for (size_t j = 0; j < ARRAY_SIZE(junk); j++) {
			err = qrtx_sysfs_write_str(attrs[a], junk[j]);
			if (err != -EINVAL)
				fail_msg("%s <- \"%s\": %s, want EINVAL", attrs[a],
					 junk[j], qrtx_errname(err));
		}
		err = qrtx_sysfs_write_str(attrs[a], "99999999999999999999999\n");
		if (err != -EINVAL && err != -ERANGE)
			fail_msg("%s <- overflow: %s", attrs[a], qrtx_errname(err));
		assert_u64_eq(sysfs_get(attrs[a]), before);
	}
}

static void test_read_only_attrs(void **state)
{
	static const char *const ro[] = {
		"abi_version", "qubits_used", "qubits_peak", "qubits_reclaimed",
		"host_bytes_used", "host_bytes_peak", "host_bytes_reclaimed",
		"gpu0/bytes_used", "gpu0/bytes_peak", "gpu0/bytes_reclaimed",
		"open_files", "reservations_granted", "reservations_failed",
		"reservations_released", "reservations_reclaimed",
		"reservations_active", "waiters",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++) {
		uint64_t before = sysfs_get(ro[i]);

		if (!qrtx_sysfs_write(ro[i], 12345))
			fail_msg("%s accepted a write", ro[i]);
		assert_u64_eq(sysfs_get(ro[i]), before);
	}
}

static void test_totals_need_root(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	assert_ok(qrtx_sysfs_save("qubits_total"));
	pid = qrtx_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err;

		if (setgid(65534) || setuid(65534))
			qrtx_child_fail("cannot drop to uid 65534: %m");
		err = qrtx_sysfs_write("qubits_total", 1);
		if (err != -EACCES && err != -EPERM)
			qrtx_child_fail("unprivileged write: %s", qrtx_errname(err));
		_exit(0);
	}
	assert_ok(qrtx_reap(pid, &status, QRTX_SETTLE_MS));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_open_files_counts_descriptions(void **state)
{
	uint64_t base = sysfs_get("open_files");
	struct qrtx_actor child;
	int fds[3], dup_fd;

	(void)state;
	for (int i = 0; i < 3; i++) {
		fds[i] = qrtx_open();
		assert_true(fds[i] >= 0);
		assert_u64_eq(sysfs_get("open_files"), base + (uint64_t)i + 1);
	}
	/* Copies of a descriptor are not new files. */
	dup_fd = dup(fds[0]);
	assert_true(dup_fd >= 0);
	assert_ok(qrtx_actor_start(&child, fds[1]));
	assert_u64_eq(sysfs_get("open_files"), base + 3);
	assert_int_equal(close(dup_fd), 0);
	assert_int_equal(qrtx_actor_stop(&child), 0);
	assert_u64_eq(sysfs_get("open_files"), base + 3);

	for (int i = 0; i < 3; i++) {
		assert_ok(qrtx_close(fds[i]));
		assert_u64_eq(sysfs_get("open_files"), base + 2 - (uint64_t)i);
	}
}

/* Must stay last: a module that does let go would take the device with it. */
static void test_unload_refused_while_open(void **state)
{
	struct qrtx_info info;
	struct stat st;
	int fd;

	(void)state;
	fd = qrtx_open();
	assert_true(fd >= 0);
	errno = 0;
	assert_int_equal(syscall(SYS_delete_module, "qrtx", O_NONBLOCK), -1);
	if (errno != EBUSY && errno != EWOULDBLOCK)
		fail_msg("delete_module: %s, want EBUSY or EWOULDBLOCK",
			 qrtx_errname(errno));
	assert_int_equal(stat("/sys/module/qrtx", &st), 0);
	assert_ok(qrtx_info(fd, &info));
	assert_int_equal(info.abi_version, QRTX_ABI_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		QRTX_TEST(test_values_match_info),
		QRTX_TEST(test_peak_is_high_water),
		QRTX_TEST(test_resize_totals),
		QRTX_TEST(test_resize_gpu_count),
		QRTX_TEST(test_shrink_below_used_ebusy),
		QRTX_TEST(test_non_numeric_einval),
		QRTX_TEST(test_read_only_attrs),
		QRTX_TEST(test_totals_need_root),
		QRTX_TEST(test_open_files_counts_descriptions),
		QRTX_TEST(test_unload_refused_while_open),
	};

	qrtx_require_device();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return qrtx_ksft_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
