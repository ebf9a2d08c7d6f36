// SPDX-License-Identifier: GPL-2.0
/*
 * Every way a caller can get a command wrong, table by table, each with
 * the errno the contract names; through ioctl and, where it applies,
 * through io_uring. A refused command must leave the ledger and the pools
 * as they were.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qrtx_test.h"

enum via { VIA_IOCTL, VIA_URING };
static const char *const via_name[] = { "ioctl", "uring" };

union qrtx_arg {
	struct qrtx_info info;
	struct qrtx_reserve reserve;
	struct qrtx_release release;
	struct qrtx_list list;
	unsigned char bytes[512];	/* room for any command's struct */
};

static const struct {
	const char *name;
	uint32_t cmd;
	uint32_t size;
} cmds[] = {
	{ "INFO", QRTX_IOC_INFO, sizeof(struct qrtx_info) },
	{ "RESERVE", QRTX_IOC_RESERVE, sizeof(struct qrtx_reserve) },
	{ "RELEASE", QRTX_IOC_RELEASE, sizeof(struct qrtx_release) },
	{ "LIST", QRTX_IOC_LIST, sizeof(struct qrtx_list) },
};

/* One file holding one reservation, an SQE128 ring, and what INFO said. */
struct ctx {
	int fd;
	struct io_uring ring;
	uint64_t held;
	struct qrtx_info info;
	struct qrtx_resv_desc entries[4];
	union qrtx_arg arg;
};

static struct ctx ctx;

static void ctx_init(struct ctx *c)
{
	struct qrtx_amount one = { .qubits = 1 };

	memset(c, 0, sizeof(*c));
	c->fd = qrtx_open();
	assert_true(c->fd >= 0);
	assert_ok(qrtx_ring_init(&c->ring, 8, true));
	assert_ok(qrtx_info(c->fd, &c->info));
	if (c->info.qubits.total < 2)
		skip_because("fewer than 2 qubits");
	assert_ok(qrtx_reserve_amount(c->fd, &one, QRTX_RESERVE_NONBLOCK, 0, &c->held));
	assert_ok(qrtx_info(c->fd, &c->info));
}

/* A valid argument for cmds[i] in c->arg. */
static void build_valid(struct ctx *c, size_t i)
{
	memset(&c->arg, 0, sizeof(c->arg));
	switch (cmds[i].cmd) {
	case QRTX_IOC_RESERVE:
		c->arg.reserve.flags = QRTX_RESERVE_NONBLOCK;
		c->arg.reserve.qubits = 1;
		break;
	case QRTX_IOC_RELEASE:
		c->arg.release.handle = c->held;
		break;
	case QRTX_IOC_LIST:
		c->arg.list.entries = (uint64_t)(uintptr_t)c->entries;
		c->arg.list.count = ARRAY_SIZE(c->entries);
		break;
	}
}

static int call(struct ctx *c, enum via via, uint32_t cmd, void *arg,
		uint32_t len)
{
	if (via == VIA_URING)
		return qrtx_uring_cmd(&c->ring, c->fd, cmd, arg, len);
	return qrtx_ioctl(c->fd, cmd, arg);
}

/* The refused call changed nothing: same pools, same single reservation. */
static void assert_untouched(struct ctx *c)
{
	struct qrtx_resv_desc d[4];
	struct qrtx_info now;
	uint32_t count = ARRAY_SIZE(d);

	assert_ok(qrtx_info(c->fd, &now));
	assert_usage_same(&c->info, &now);
	assert_ok(qrtx_list(c->fd, d, &count));
	assert_int_equal(count, 1);
	assert_u64_eq(d[0].handle, c->held);
}

#define ZERO_FIELD(cmd, type, field) \
	{ #type "." #field, cmd, offsetof(struct type, field), \
	  sizeof(((struct type *)0)->field) }

/* Every input field the contract says must be zero. */
static const struct {
	const char *name;
	uint32_t cmd;
	size_t off;
	size_t width;
} zero_fields[] = {
	ZERO_FIELD(QRTX_IOC_INFO, qrtx_info, flags),
	ZERO_FIELD(QRTX_IOC_INFO, qrtx_info, reserved[0]),
	ZERO_FIELD(QRTX_IOC_INFO, qrtx_info, reserved[1]),
	ZERO_FIELD(QRTX_IOC_INFO, qrtx_info, reserved[2]),
	ZERO_FIELD(QRTX_IOC_INFO, qrtx_info, reserved[3]),
	ZERO_FIELD(QRTX_IOC_RESERVE, qrtx_reserve, handle),
	ZERO_FIELD(QRTX_IOC_RESERVE, qrtx_reserve, reserved[0]),
	ZERO_FIELD(QRTX_IOC_RESERVE, qrtx_reserve, reserved[1]),
	ZERO_FIELD(QRTX_IOC_RESERVE, qrtx_reserve, reserved[2]),
	ZERO_FIELD(QRTX_IOC_RELEASE, qrtx_release, flags),
	ZERO_FIELD(QRTX_IOC_RELEASE, qrtx_release, reserved),
	ZERO_FIELD(QRTX_IOC_LIST, qrtx_list, flags),
	ZERO_FIELD(QRTX_IOC_LIST, qrtx_list, reserved),
};

static size_t cmd_index(uint32_t cmd)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (cmds[i].cmd == cmd)
			return i;
	fail_msg("unknown command %#x", cmd);
	return 0;
}

static void test_nonzero_reserved_fields(void **state)
{
	(void)state;
	ctx_init(&ctx);
	for (size_t f = 0; f < ARRAY_SIZE(zero_fields); f++) {
		size_t i = cmd_index(zero_fields[f].cmd);
		unsigned int bits = (unsigned int)zero_fields[f].width * 8;
		const uint64_t values[] = { 1, 1ULL << (bits - 1) };

		for (enum via via = VIA_IOCTL; via <= VIA_URING; via++) {
			for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
				uint64_t v64 = values[v];
				uint32_t v32 = (uint32_t)v64;
				const void *src = zero_fields[f].width == 4 ?
						  (const void *)&v32 : (const void *)&v64;
				int ret;

				build_valid(&ctx, i);
				memcpy(ctx.arg.bytes + zero_fields[f].off, src,
				       zero_fields[f].width);
				ret = call(&ctx, via, cmds[i].cmd, &ctx.arg, cmds[i].size);
				if (ret != -EINVAL)
					fail_msg("%s=%#llx via %s: %s, want EINVAL",
						 zero_fields[f].name,
						 (unsigned long long)values[v],
						 via_name[via], qrtx_errname(ret));
				assert_untouched(&ctx);
			}
		}
	}
}

/* RESERVE: the request starts as { NONBLOCK, 1 qubit } and is spoiled one way. */
struct reserve_case {
	const char *name;
	void (*spoil)(struct qrtx_reserve *r, const struct qrtx_info *info);
	int want;
	bool needs_gpu;
	bool ioctl_only;	/* blocking: io_uring refuses it for other reasons */
};

#define SPOIL(fn, body) \
	static void fn(struct qrtx_reserve *r, const struct qrtx_info *info) \
	{ (void)info; body; }

SPOIL(flag_bit1, r->flags |= 1U << 1)
SPOIL(flag_bit31, r->flags |= 1U << 31)
SPOIL(flags_all, r->flags = ~0U)
SPOIL(no_amounts, r->qubits = 0)
SPOIL(index_without_bytes, r->gpu_index = 1)
SPOIL(max_index_without_bytes, r->gpu_index = UINT32_MAX)
SPOIL(no_amounts_with_index, r->qubits = 0; r->gpu_index = 1)
SPOIL(gpu_index_eq_count, r->gpu_bytes = 1; r->gpu_index = info->gpu_count)
SPOIL(gpu_index_max_gpus, r->gpu_bytes = 1; r->gpu_index = QRTX_MAX_GPUS)
SPOIL(gpu_index_u32_max, r->gpu_bytes = 1; r->gpu_index = UINT32_MAX)
SPOIL(qubits_over_total, r->qubits = info->qubits.total + 1)
SPOIL(qubits_u64_max, r->qubits = UINT64_MAX)
SPOIL(host_over_total, r->host_bytes = info->host_bytes.total + 1)
SPOIL(host_u64_max, r->host_bytes = UINT64_MAX)
SPOIL(gpu_over_total, r->gpu_bytes = info->gpu[0].total + 1)
SPOIL(gpu_u64_max, r->gpu_bytes = UINT64_MAX)
SPOIL(last_gpu_over_total,
      r->gpu_index = info->gpu_count - 1;
      r->gpu_bytes = info->gpu[info->gpu_count - 1].total + 1)
SPOIL(reserved_before_enospc, r->reserved[1] = 1; r->qubits = UINT64_MAX)
SPOIL(handle_before_enospc, r->handle = 1; r->host_bytes = UINT64_MAX)
SPOIL(enodev_before_enospc,
      r->qubits = UINT64_MAX; r->gpu_bytes = 1; r->gpu_index = info->gpu_count)
SPOIL(blocking_enospc,
      r->flags = 0; r->timeout_ns = 2 * NSEC_PER_SEC; r->qubits = UINT64_MAX)

#define RESERVE_CASE(n, fn, err, ...) \
	{ .name = n, .spoil = fn, .want = err, __VA_ARGS__ }

static const struct reserve_case reserve_cases[] = {
	RESERVE_CASE("unknown flag bit 1", flag_bit1, -EINVAL),
	RESERVE_CASE("unknown flag bit 31", flag_bit31, -EINVAL),
	RESERVE_CASE("all flag bits", flags_all, -EINVAL),
	RESERVE_CASE("all amounts zero", no_amounts, -EINVAL),
	RESERVE_CASE("gpu_index 1 without gpu_bytes", index_without_bytes, -EINVAL),
	RESERVE_CASE("gpu_index max without gpu_bytes", max_index_without_bytes, -EINVAL),
	RESERVE_CASE("zero amounts, gpu_index 1", no_amounts_with_index, -EINVAL),
	RESERVE_CASE("gpu_index == gpu_count", gpu_index_eq_count, -ENODEV),
	RESERVE_CASE("gpu_index == QRTX_MAX_GPUS", gpu_index_max_gpus, -ENODEV),
	RESERVE_CASE("gpu_index UINT32_MAX", gpu_index_u32_max, -ENODEV),
	RESERVE_CASE("qubits total + 1", qubits_over_total, -ENOSPC),
	RESERVE_CASE("qubits UINT64_MAX", qubits_u64_max, -ENOSPC),
	RESERVE_CASE("host_bytes total + 1", host_over_total, -ENOSPC),
	RESERVE_CASE("host_bytes UINT64_MAX", host_u64_max, -ENOSPC),
	RESERVE_CASE("gpu0 bytes total + 1", gpu_over_total, -ENOSPC, .needs_gpu = true),
	RESERVE_CASE("gpu0 bytes UINT64_MAX", gpu_u64_max, -ENOSPC, .needs_gpu = true),
	RESERVE_CASE("last gpu bytes total + 1", last_gpu_over_total, -ENOSPC, .needs_gpu = true),
	RESERVE_CASE("reserved checked before ENOSPC", reserved_before_enospc, -EINVAL),
	RESERVE_CASE("handle checked before ENOSPC", handle_before_enospc, -EINVAL),
	RESERVE_CASE("ENODEV before ENOSPC", enodev_before_enospc, -ENODEV),
	RESERVE_CASE("blocking ENOSPC does not wait", blocking_enospc, -ENOSPC,
		     .ioctl_only = true),
};

static void test_reserve_errors(void **state)
{
	(void)state;
	ctx_init(&ctx);
	for (size_t k = 0; k < ARRAY_SIZE(reserve_cases); k++) {
		const struct reserve_case *rc = &reserve_cases[k];

		if (rc->needs_gpu && !ctx.info.gpu_count)
			continue;
		for (enum via via = VIA_IOCTL; via <= VIA_URING; via++) {
			uint64_t failed0, failed1, t0, elapsed;
			int ret;

			if (via == VIA_URING && rc->ioctl_only)
				continue;
			build_valid(&ctx, cmd_index(QRTX_IOC_RESERVE));
			rc->spoil(&ctx.arg.reserve, &ctx.info);
			failed0 = sysfs_get("reservations_failed");
			t0 = qrtx_now_ns();
			ret = call(&ctx, via, QRTX_IOC_RESERVE, &ctx.arg.reserve,
				   sizeof(ctx.arg.reserve));
			elapsed = qrtx_now_ns() - t0;
			if (ret != rc->want)
				fail_msg("%s via %s: %s, want %s", rc->name,
					 via_name[via], qrtx_errname(ret),
					 qrtx_errname(rc->want));
			assert_untouched(&ctx);
			/* Capacity refusals are counted, malformed requests not. */
			failed1 = sysfs_get("reservations_failed");
			if (rc->want == -EINVAL)
				assert_u64_eq(failed1, failed0);
			if (rc->want == -ENOSPC)
				assert_u64_eq(failed1, failed0 + 1);
			assert_u64_le(elapsed, NSEC_PER_SEC);
		}
	}
}

enum handle_kind { H_ZERO, H_FOREIGN, H_STALE, H_NEVER_ISSUED };

static const struct {
	const char *name;
	enum handle_kind kind;
} release_cases[] = {
	{ "handle 0", H_ZERO },
	{ "another file's handle", H_FOREIGN },
	{ "released handle", H_STALE },
	{ "never issued", H_NEVER_ISSUED },
};

static void test_release_unknown_handles(void **state)
{
	struct qrtx_amount one = { .qubits = 1 };
	uint64_t foreign, stale, h;
	uint32_t count = 0;
	int other;

	(void)state;
	ctx_init(&ctx);
	other = qrtx_open();
	assert_true(other >= 0);
	assert_ok(qrtx_reserve_amount(other, &one, QRTX_RESERVE_NONBLOCK, 0, &foreign));
	assert_ok(qrtx_reserve_amount(ctx.fd, &one, QRTX_RESERVE_NONBLOCK, 0, &stale));
	assert_ok(qrtx_release(ctx.fd, stale));
	assert_ok(qrtx_info(ctx.fd, &ctx.info));

	for (size_t k = 0; k < ARRAY_SIZE(release_cases); k++) {
		for (enum via via = VIA_IOCTL; via <= VIA_URING; via++) {
			int ret;

			switch (release_cases[k].kind) {
			case H_ZERO: h = 0; break;
			case H_FOREIGN: h = foreign; break;
			case H_STALE: h = stale; break;
			case H_NEVER_ISSUED:
			default: h = UINT64_MAX; break;
			}
			build_valid(&ctx, cmd_index(QRTX_IOC_RELEASE));
			ctx.arg.release.handle = h;
			ret = call(&ctx, via, QRTX_IOC_RELEASE, &ctx.arg.release,
				   sizeof(ctx.arg.release));
			if (ret != -ENOENT)
				fail_msg("%s via %s: %s, want ENOENT",
					 release_cases[k].name, via_name[via],
					 qrtx_errname(ret));
			assert_untouched(&ctx);
		}
	}
	/* The owner still holds it and can let it go. */
	assert_ok(qrtx_list(other, NULL, &count));
	assert_int_equal(count, 1);
	assert_ok(qrtx_release(other, foreign));
}

static void test_list_short_buffer(void **state)
{
	struct qrtx_amount one = { .qubits = 1 };
	struct qrtx_resv_desc d[2], pristine[2];

	(void)state;
	ctx_init(&ctx);
	if (ctx.info.qubits.total < 3)
		skip_because("fewer than 3 qubits");
	for (int i = 0; i < 2; i++)
		assert_ok(qrtx_reserve_amount(ctx.fd, &one, QRTX_RESERVE_NONBLOCK,
					      0, NULL));
	memset(pristine, 0x5a, sizeof(pristine));

	for (uint32_t cap = 1; cap <= 2; cap++) {
		for (enum via via = VIA_IOCTL; via <= VIA_URING; via++) {
			struct qrtx_list list = {
				.entries = (uint64_t)(uintptr_t)d,
				.count = cap,
			};

			memcpy(d, pristine, sizeof(d));
			assert_err(call(&ctx, via, QRTX_IOC_LIST, &list, sizeof(list)),
				   -EOVERFLOW);
			assert_int_equal(list.count, 3);
			assert_memory_equal(d, pristine, sizeof(d));
		}
	}
}

static void test_unknown_ioctls(void **state)
{
	static const struct {
		const char *name;
		uint32_t cmd;
	} unknown[] = {
		{ "next free number", _IOWR(QRTX_IOC_MAGIC, 0x04, struct qrtx_list) },
		{ "number 0xff", _IOWR(QRTX_IOC_MAGIC, 0xff, struct qrtx_info) },
		{ "no-argument form", _IO(QRTX_IOC_MAGIC, 0x7f) },
		{ "INFO number, wrong size", _IOWR(QRTX_IOC_MAGIC, 0x00, __u64) },
		{ "RESERVE number, wrong direction",
		  _IOR(QRTX_IOC_MAGIC, 0x01, struct qrtx_reserve) },
		{ "another magic", _IOWR(QRTX_IOC_MAGIC + 1, 0x00, struct qrtx_info) },
		{ "zero", 0 },
	};

	(void)state;
	ctx_init(&ctx);
	for (size_t k = 0; k < ARRAY_SIZE(unknown); k++) {
		for (enum via via = VIA_IOCTL; via <= VIA_URING; via++) {
			int ret;

			memset(&ctx.arg, 0, sizeof(ctx.arg));
			ret = call(&ctx, via, unknown[k].cmd, &ctx.arg,
				   sizeof(struct qrtx_info));
			if (ret != -ENOTTY)
				fail_msg("%s (%#x) via %s: %s, want ENOTTY",
					 unknown[k].name, unknown[k].cmd,
					 via_name[via], qrtx_errname(ret));
			assert_untouched(&ctx);
		}
	}
}

static void test_bad_user_pointers(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *map;

	(void)state;
	ctx_init(&ctx);
	/* Two pages, the second unmapped: a hole and an edge to straddle. */
	map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(munmap(map + page, (size_t)page), 0);

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		void *bad[] = { NULL, map + page, map + page - 8 };

		for (size_t b = 0; b < ARRAY_SIZE(bad); b++) {
			for (enum via via = VIA_IOCTL; via <= VIA_URING; via++) {
				int ret;

				if (bad[b] == map + page - 8) {
					memset(map, 0, (size_t)page);
					if (cmds[i].cmd == QRTX_IOC_RESERVE)
						*(uint32_t *)bad[b] = QRTX_RESERVE_NONBLOCK;
				}
				ret = call(&ctx, via, cmds[i].cmd, bad[b], cmds[i].size);
				if (ret != -EFAULT)
					fail_msg("%s at %p via %s: %s, want EFAULT",
						 cmds[i].name, bad[b], via_name[via],
						 qrtx_errname(ret));
				assert_untouched(&ctx);
			}
		}
	}

	/* LIST with a good struct whose entries point nowhere. */
	for (enum via via = VIA_IOCTL; via <= VIA_URING; via++) {
		struct qrtx_list list = {
			.entries = (uint64_t)(uintptr_t)(map + page),
			.count = 4,
		};

		assert_err(call(&ctx, via, QRTX_IOC_LIST, &list, sizeof(list)), -EFAULT);
		assert_untouched(&ctx);
	}
	munmap(map, (size_t)page);
}

static void test_edquot_at_limit(void **state)
{
	struct qrtx_amount one = { .host_bytes = 1 }, too_big;
	uint64_t limit, h;
	int fd, other;

	(void)state;
	if (qrtx_read_u64_file(QRTX_MODPARAM_DIR "/max_reservations", &limit))
		skip_because("max_reservations is not readable");
	fd = qrtx_open();
	other = qrtx_open();
	assert_true(fd >= 0 && other >= 0);
	if (limit > 65536 || sysfs_get("host_bytes_total") <= limit)
		skip_because("max_reservations %llu too large to reach",
			     (unsigned long long)limit);

	for (uint64_t i = 0; i < limit; i++)
		assert_ok(qrtx_reserve_amount(fd, &one, QRTX_RESERVE_NONBLOCK, 0, NULL));
	assert_err(qrtx_reserve_amount(fd, &one, QRTX_RESERVE_NONBLOCK, 0, &h), -EDQUOT);
	assert_err(qrtx_reserve_amount(fd, &one, 0, NSEC_PER_SEC, &h), -EDQUOT);
	/* ENOSPC is checked first. */
	too_big = (struct qrtx_amount){ .host_bytes = UINT64_MAX };
	assert_err(qrtx_reserve_amount(fd, &too_big, QRTX_RESERVE_NONBLOCK, 0, &h),
		   -ENOSPC);
	/* The limit is per file. */
	assert_ok(qrtx_reserve_amount(other, &one, QRTX_RESERVE_NONBLOCK, 0, &h));
}

static void test_uring_ring_without_sqe128(void **state)
{
	struct io_uring small;
	struct qrtx_info info;

	(void)state;
	ctx_init(&ctx);
	assert_ok(qrtx_ring_init(&small, 4, false));
	assert_err(qrtx_uring_cmd(&small, ctx.fd, QRTX_IOC_INFO, &info, sizeof(info)),
		   -EINVAL);
	qrtx_ring_exit(&small);
}

/* Payload spoilers; len is the right size when they are applied. */
#define SPOIL_PAYLOAD(fn, body) \
	static void fn(struct qrtx_uring_cmd *p) { body; }

SPOIL_PAYLOAD(pl_flags_1, p->flags = 1)
SPOIL_PAYLOAD(pl_flags_bit31, p->flags = 1U << 31)
SPOIL_PAYLOAD(pl_reserved0, p->reserved[0] = 1)
SPOIL_PAYLOAD(pl_reserved1, p->reserved[1] = 1)
SPOIL_PAYLOAD(pl_len_minus_1, p->len -= 1)
SPOIL_PAYLOAD(pl_len_plus_1, p->len += 1)
SPOIL_PAYLOAD(pl_len_plus_8, p->len += 8)
SPOIL_PAYLOAD(pl_len_0, p->len = 0)
SPOIL_PAYLOAD(pl_len_max, p->len = UINT32_MAX)

static const struct {
	const char *name;
	void (*spoil)(struct qrtx_uring_cmd *p);
} payload_cases[] = {
	{ "flags = 1", pl_flags_1 },
	{ "flags bit 31", pl_flags_bit31 },
	{ "reserved[0] = 1", pl_reserved0 },
	{ "reserved[1] = 1", pl_reserved1 },
	{ "len - 1", pl_len_minus_1 },
	{ "len + 1", pl_len_plus_1 },
	{ "len + 8", pl_len_plus_8 },
	{ "len 0", pl_len_0 },
	{ "len UINT32_MAX", pl_len_max },
};

static void test_uring_bad_payload(void **state)
{
	(void)state;
	ctx_init(&ctx);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (size_t k = 0; k < ARRAY_SIZE(payload_cases); k++) {
			struct qrtx_uring_cmd pl = {
				.addr = (uint64_t)(uintptr_t)&ctx.arg,
				.len = cmds[i].size,
			};
			int ret;

			build_valid(&ctx, i);
			payload_cases[k].spoil(&pl);
			ret = qrtx_uring_cmd_payload(&ctx.ring, ctx.fd, cmds[i].cmd, &pl);
			if (ret != -EINVAL)
				fail_msg("%s payload %s: %s, want EINVAL", cmds[i].name,
					 payload_cases[k].name, qrtx_errname(ret));
			assert_untouched(&ctx);
		}
	}
}

static void test_uring_reserve_must_not_block(void **state)
{
	const uint64_t timeouts[] = { 0, NSEC_PER_SEC };

	(void)state;
	ctx_init(&ctx);
	for (size_t t = 0; t < ARRAY_SIZE(timeouts); t++) {
		build_valid(&ctx, cmd_index(QRTX_IOC_RESERVE));
		ctx.arg.reserve.flags = 0;
		ctx.arg.reserve.timeout_ns = timeouts[t];
		assert_err(qrtx_uring_cmd(&ctx.ring, ctx.fd, QRTX_IOC_RESERVE,
					  &ctx.arg.reserve, sizeof(ctx.arg.reserve)),
			   -EINVAL);
		assert_untouched(&ctx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		QRTX_TEST(test_nonzero_reserved_fields),
		QRTX_TEST(test_reserve_errors),
		QRTX_TEST(test_release_unknown_handles),
		QRTX_TEST(test_list_short_buffer),
		QRTX_TEST(test_unknown_ioctls),
		QRTX_TEST(test_bad_user_pointers),
		QRTX_TEST(test_edquot_at_limit),
		QRTX_TEST(test_uring_ring_without_sqe128),
		QRTX_TEST(test_uring_bad_payload),
		QRTX_TEST(test_uring_reserve_must_not_block),
	};

	qrtx_require_device();
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return qrtx_ksft_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
