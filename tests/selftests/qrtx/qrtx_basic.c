// SPDX-License-Identifier: GPL-2.0
/*
 * INFO, RESERVE, RELEASE and LIST on their good paths; all-or-nothing
 * across pools; handle uniqueness; what fdinfo and debugfs show.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "qrtx_test.h"

static void test_info_reports_abi_and_pools(void **state)
{
	struct qrtx_info info;
	int fd;

	(void)state;
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_info(fd, &info));

	assert_int_equal(info.abi_version, QRTX_ABI_VERSION);
	assert_int_equal(info.max_gpus, QRTX_MAX_GPUS);
	assert_true(info.gpu_count <= QRTX_MAX_GPUS);
	assert_int_equal(info.flags, 0);
	assert_u64_eq(info.qubits.used, 0);
	assert_u64_eq(info.host_bytes.used, 0);
	for (unsigned int i = 0; i < QRTX_MAX_GPUS; i++) {
		assert_u64_eq(info.gpu[i].used, 0);
		if (i >= info.gpu_count)
			assert_u64_eq(info.gpu[i].total, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(info.reserved); i++)
		assert_u64_eq(info.reserved[i], 0);
}

static void test_reserve_release_roundtrip(void **state)
{
	struct qrtx_counters before, after;
	struct qrtx_info info, held, back;
	struct qrtx_amount amt;
	uint64_t handle;
	int fd;

	(void)state;
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_info(fd, &info));
	qrtx_amount_small(&info, &amt);
	assert_ok(qrtx_counters_read(&before));

	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &handle));
	assert_u64_ne(handle, 0);
	assert_ok(qrtx_info(fd, &held));
	assert_u64_eq(held.qubits.used, amt.qubits);
	assert_u64_eq(held.host_bytes.used, amt.host_bytes);
	if (info.gpu_count)
		assert_u64_eq(held.gpu[0].used, amt.gpu_bytes);
	assert_u64_eq(sysfs_get("qubits_used"), amt.qubits);
	assert_u64_eq(sysfs_get("host_bytes_used"), amt.host_bytes);
	assert_u64_eq(sysfs_get("reservations_active"), 1);

	assert_ok(qrtx_release(fd, handle));
	assert_ok(qrtx_info(fd, &back));
	assert_usage_same(&info, &back);

	assert_ok(qrtx_counters_read(&after));
	assert_u64_eq(after.granted, before.granted + 1);
	assert_u64_eq(after.released, before.released + 1);
	assert_u64_eq(after.reclaimed, before.reclaimed);
	assert_u64_eq(after.active, 0);
}

/*
 * For every pool in turn: fill it from one file, then ask from another for
 * a bit of every pool including the full one. Nothing at all may be taken,
 * whether the request is refused at once, times out, or can never fit.
 */
static void test_all_or_nothing(void **state)
{
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	struct qrtx_info info, before, after;
	unsigned int npools;
	int filler, asker;

	(void)state;
	filler = qrtx_open();
	asker = qrtx_open();
	assert_true(filler >= 0 && asker >= 0);
	assert_ok(qrtx_info(asker, &info));
	npools = qrtx_pools(&info, refs);

	for (unsigned int p = 0; p < npools; p++) {
		uint64_t total = qrtx_pool_stat(&info, &refs[p])->total;
		struct qrtx_amount fill, ask;
		uint64_t fill_handle, h;

		if (!total)
			continue;
		qrtx_amount_of(&refs[p], total, &fill);
		assert_ok(qrtx_reserve_amount(filler, &fill, QRTX_RESERVE_NONBLOCK,
					      0, &fill_handle));

		/* A small part of every pool; the full one's total is > 0. */
		qrtx_amount_small(&info, &ask);
		if (refs[p].gpu >= 0) {
			ask.gpu_index = (uint32_t)refs[p].gpu;
			ask.gpu_bytes = 1;
		}
		assert_ok(qrtx_info(asker, &before));

		assert_err(qrtx_reserve_amount(asker, &ask, QRTX_RESERVE_NONBLOCK,
					       0, &h), -EAGAIN);
		assert_ok(qrtx_info(asker, &after));
		assert_usage_same(&before, &after);

		assert_err(qrtx_reserve_amount(asker, &ask, 0,
					       50 * NSEC_PER_MSEC, &h),
			   -ETIMEDOUT);
		assert_ok(qrtx_info(asker, &after));
		assert_usage_same(&before, &after);

		assert_ok(qrtx_release(filler, fill_handle));

		/* Now the other parts fit but this one never can. */
		if (refs[p].gpu >= 0)
			ask.gpu_bytes = total + 1;
		else if (!strcmp(refs[p].label, "qubits"))
			ask.qubits = total + 1;
		else
			ask.host_bytes = total + 1;
		assert_ok(qrtx_info(asker, &before));
		assert_err(qrtx_reserve_amount(asker, &ask, 0, 0, &h), -ENOSPC);
		assert_ok(qrtx_info(asker, &after));
		assert_usage_same(&before, &after);
		assert_u64_eq(sysfs_get("reservations_active"), 0);
	}
}

static void test_handles_unique(void **state)
{
	enum { ROUNDS = 3, PER_ROUND = 32 };
	uint64_t seen[ROUNDS * PER_ROUND];
	struct qrtx_amount one = { .host_bytes = 1 };
	struct qrtx_info info;
	unsigned int n = 0;
	int fds[2];

	(void)state;
	fds[0] = qrtx_open();
	fds[1] = qrtx_open();
	assert_true(fds[0] >= 0 && fds[1] >= 0);
	assert_ok(qrtx_info(fds[0], &info));
	if (info.host_bytes.total < PER_ROUND)
		skip_because("host_bytes_total below %d", PER_ROUND);

	/* Release each round before the next: handles must never come back. */
	for (unsigned int r = 0; r < ROUNDS; r++) {
		unsigned int first = n;

		for (unsigned int i = 0; i < PER_ROUND; i++, n++) {
			assert_ok(qrtx_reserve_amount(fds[i % 2], &one,
						      QRTX_RESERVE_NONBLOCK, 0,
						      &seen[n]));
			assert_u64_ne(seen[n], 0);
		}
		for (unsigned int i = first; i < n; i++)
			assert_ok(qrtx_release(fds[(i - first) % 2], seen[i]));
	}
	assert_true(qrtx_distinct_u64(seen, n));
}

static void test_list_matches_reservations(void **state)
{
	struct qrtx_resv_desc d[8];
	struct qrtx_amount amt[3];
	uint64_t handle[3], tag[3] = { 0x1111, 0xfeedfacecafebeefULL, 0 };
	uint64_t t0, t1;
	struct qrtx_info info;
	uint32_t count;
	int fd, other;

	(void)state;
	fd = qrtx_open();
	other = qrtx_open();
	assert_true(fd >= 0 && other >= 0);
	assert_ok(qrtx_info(fd, &info));
	if (info.qubits.total < 3 || info.host_bytes.total < 3)
		skip_because("pools too small for three reservations");

	memset(amt, 0, sizeof(amt));
	amt[0].qubits = 1;
	amt[1].host_bytes = 2;
	amt[1].qubits = 1;
	amt[2].host_bytes = 1;
	if (info.gpu_count) {
		amt[2].gpu_index = info.gpu_count - 1;
		amt[2].gpu_bytes = info.gpu[info.gpu_count - 1].total ? 1 : 0;
	}

	t0 = qrtx_boottime_ns();
	for (int i = 0; i < 3; i++) {
		struct qrtx_reserve req;

		qrtx_req_init(&req, &amt[i], QRTX_RESERVE_NONBLOCK, 0);
		req.tag = tag[i];
		assert_ok(qrtx_reserve(fd, &req));
		handle[i] = req.handle;
	}
	t1 = qrtx_boottime_ns();

	count = 0;	/* a size query */
	assert_ok(qrtx_list(fd, NULL, &count));
	assert_int_equal(count, 3);

	memset(d, 0xa5, sizeof(d));
	count = ARRAY_SIZE(d);
	assert_ok(qrtx_list(fd, d, &count));
	assert_int_equal(count, 3);
	for (int i = 0; i < 3; i++) {
		assert_u64_eq(d[i].handle, handle[i]);
		assert_u64_eq(d[i].tag, tag[i]);
		assert_u64_eq(d[i].qubits, amt[i].qubits);
		assert_u64_eq(d[i].host_bytes, amt[i].host_bytes);
		assert_u64_eq(d[i].gpu_bytes, amt[i].gpu_bytes);
		assert_int_equal(d[i].gpu_index,
				 amt[i].gpu_bytes ? amt[i].gpu_index : 0);
		assert_int_equal(d[i].reserved, 0);
		assert_u64_ge(d[i].granted_ns, t0);
		assert_u64_le(d[i].granted_ns, t1);
		if (i)
			assert_u64_ge(d[i].granted_ns, d[i - 1].granted_ns);
	}

	/* Another file has its own, empty ledger. */
	count = ARRAY_SIZE(d);
	assert_ok(qrtx_list(other, d, &count));
	assert_int_equal(count, 0);

	/* Dropping the middle one keeps the others oldest first. */
	assert_ok(qrtx_release(fd, handle[1]));
	count = ARRAY_SIZE(d);
	assert_ok(qrtx_list(fd, d, &count));
	assert_int_equal(count, 2);
	assert_u64_eq(d[0].handle, handle[0]);
	assert_u64_eq(d[1].handle, handle[2]);
}

static void read_comm(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/comm", "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, (int)len, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static void assert_fdinfo_u64(int fd, const char *key, uint64_t want)
{
	uint64_t v = 0;
	int err = qrtx_fdinfo_u64(fd, key, &v);

	if (err)
		fail_msg("fdinfo %s: %s", key, qrtx_errname(err));
	if (v != want)
		fail_msg("fdinfo %s: %llu, want %llu", key,
			 (unsigned long long)v, (unsigned long long)want);
}

static void assert_fdinfo_gpus(int fd, const struct qrtx_info *info,
			       int held_gpu, uint64_t bytes)
{
	for (unsigned int i = 0; i < info->gpu_count; i++) {
		char key[32];
		uint64_t v;

		snprintf(key, sizeof(key), "qrtx-gpu%u-bytes", i);
		if ((int)i == held_gpu && bytes)
			assert_fdinfo_u64(fd, key, bytes);
		else
			assert_err(qrtx_fdinfo_u64(fd, key, &v), -ENOENT);
	}
}

static void test_fdinfo_lines(void **state)
{
	char comm[32], val[64];
	struct qrtx_amount amt;
	struct qrtx_info info;
	uint64_t h[2];
	int fd;

	(void)state;
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_info(fd, &info));
	read_comm(comm, sizeof(comm));

	assert_fdinfo_u64(fd, "qrtx-owner-tgid", (uint64_t)getpid());
	assert_ok(qrtx_fdinfo_str(fd, "qrtx-owner-comm", val, sizeof(val)));
	assert_string_equal(val, comm);
	assert_fdinfo_u64(fd, "qrtx-owner-uid", getuid());
	assert_fdinfo_u64(fd, "qrtx-reservations", 0);
	assert_fdinfo_u64(fd, "qrtx-qubits", 0);
	assert_fdinfo_u64(fd, "qrtx-host-bytes", 0);
	assert_fdinfo_gpus(fd, &info, -1, 0);

	qrtx_amount_small(&info, &amt);
	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &h[0]));
	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &h[1]));
	assert_fdinfo_u64(fd, "qrtx-reservations", 2);
	assert_fdinfo_u64(fd, "qrtx-qubits", 2 * amt.qubits);
	assert_fdinfo_u64(fd, "qrtx-host-bytes", 2 * amt.host_bytes);
	assert_fdinfo_gpus(fd, &info, 0, 2 * amt.gpu_bytes);

	assert_ok(qrtx_release(fd, h[0]));
	assert_fdinfo_u64(fd, "qrtx-reservations", 1);
	assert_fdinfo_u64(fd, "qrtx-qubits", amt.qubits);
	assert_fdinfo_u64(fd, "qrtx-host-bytes", amt.host_bytes);
	assert_fdinfo_gpus(fd, &info, 0, amt.gpu_bytes);
}

/* "tgid comm uid qubits host_bytes gpu_bytes reservations age_ms" */
struct holder_line {
	long tgid;
	char comm[64];
	unsigned long uid;
	unsigned long long qubits, host_bytes, gpu_bytes, reservations, age_ms;
};

static int find_holder(const char *table, long tgid, struct holder_line *out)
{
	const char *line = strchr(table, '\n');	/* past the header */
	int found = 0;

	while (line && *++line) {
		struct holder_line h;

		if (sscanf(line, "%ld %63s %lu %llu %llu %llu %llu %llu",
			   &h.tgid, h.comm, &h.uid, &h.qubits, &h.host_bytes,
			   &h.gpu_bytes, &h.reservations, &h.age_ms) == 8 &&
		    h.tgid == tgid) {
			*out = h;
			found++;
		}
		line = strchr(line, '\n');
	}
	return found;
}

static void test_debugfs_holders(void **state)
{
	static char table[65536];
	struct holder_line h;
	struct qrtx_amount amt;
	struct qrtx_info info;
	char comm[32];
	uint64_t handle;
	int fd, err;

	(void)state;
	fd = qrtx_open();
	assert_true(fd >= 0);
	assert_ok(qrtx_info(fd, &info));
	qrtx_amount_small(&info, &amt);
	assert_ok(qrtx_reserve_amount(fd, &amt, QRTX_RESERVE_NONBLOCK, 0, &handle));
	read_comm(comm, sizeof(comm));

	err = qrtx_holders_read(table, sizeof(table));
	if (err == -ENOENT)
		skip_because("debugfs holders table not available");
	assert_ok(err);
	assert_non_null(strchr(table, '\n'));
	assert_int_equal(find_holder(table, getpid(), &h), 1);
	assert_string_equal(h.comm, comm);
	assert_int_equal(h.uid, getuid());
	assert_u64_eq(h.qubits, amt.qubits);
	assert_u64_eq(h.host_bytes, amt.host_bytes);
	assert_u64_eq(h.gpu_bytes, amt.gpu_bytes);
	assert_u64_eq(h.reservations, 1);

	/* The line goes with the file. */
	assert_ok(qrtx_close(fd));
	assert_ok(qrtx_holders_read(table, sizeof(table)));
	assert_int_equal(find_holder(table, getpid(), &h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		QRTX_TEST(test_info_reports_abi_and_pools),
		QRTX_TEST(test_reserve_release_roundtrip),
		QRTX_TEST(test_all_or_nothing),
		QRTX_TEST(test_handles_unique),
		QRTX_TEST(test_list_matches_reservations),
		QRTX_TEST(test_fdinfo_lines),
		QRTX_TEST(test_debugfs_holders),
	};

	qrtx_require_device();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return qrtx_ksft_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
