/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the /dev/qrtx selftests and of bench/qrtx_bench.
 *
 * Everything here returns 0 or -errno and never calls into cmocka, so the
 * benchmark links it without the test framework. The assertion macros at
 * the end expand to cmocka calls and are only usable from test programs.
 *
 * Tests must leave the module as they found it. Files, rings and children
 * made through these helpers, and sysfs values saved with
 * qrtx_sysfs_save(), are tracked; qrtx_test_teardown() closes, kills and
 * restores whatever a failed test left behind.
 */
#ifndef QRTX_TEST_H
#define QRTX_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <liburing.h>

#include "uapi/linux/qrtx.h"

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

#define QRTX_DEV_PATH		"/dev/qrtx"
#define QRTX_SYSFS_DIR		"/sys/class/misc/qrtx"
#define QRTX_DEBUGFS_MNT	"/sys/kernel/debug"
#define QRTX_HOLDERS_PATH	QRTX_DEBUGFS_MNT "/qrtx/holders"
#define QRTX_MODPARAM_DIR	"/sys/module/qrtx/parameters"

#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

/* Bound on every wait for the module to reach an expected state. */
#define QRTX_SETTLE_MS		5000

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* ---- process-wide ---- */

bool qrtx_device_present(void);
/* Print the kselftest skip plan and exit KSFT_SKIP when the device is absent. */
void qrtx_require_device(void);
/* Map cmocka's failure count to a kselftest exit code. */
int qrtx_ksft_exit(int failed);

uint64_t qrtx_now_ns(void);		/* CLOCK_MONOTONIC */
uint64_t qrtx_boottime_ns(void);	/* CLOCK_BOOTTIME */
void qrtx_sleep_ms(unsigned int ms);
const char *qrtx_errname(int err);	/* "0", "EINVAL", ... for 0 or +-errno */

/* ---- files and ioctls ---- */

int qrtx_open(void);			/* tracked, O_CLOEXEC; fd or -errno */
int qrtx_close(int fd);

int qrtx_ioctl(int fd, unsigned long cmd, void *arg);
int qrtx_info(int fd, struct qrtx_info *info);
/* INFO through a short-lived file of its own. */
int qrtx_info_snapshot(struct qrtx_info *info);
int qrtx_reserve(int fd, struct qrtx_reserve *req);
int qrtx_release(int fd, uint64_t handle);
/* *count: capacity in, reservations held out. */
int qrtx_list(int fd, struct qrtx_resv_desc *entries, uint32_t *count);

/* What one reservation asks for; gpu_index only matters with gpu_bytes. */
struct qrtx_amount {
	uint64_t qubits;
	uint64_t host_bytes;
	uint64_t gpu_bytes;
	uint32_t gpu_index;
};

void qrtx_req_init(struct qrtx_reserve *req, const struct qrtx_amount *amt,
		   uint32_t flags, uint64_t timeout_ns);
int qrtx_reserve_amount(int fd, const struct qrtx_amount *amt, uint32_t flags,
			uint64_t timeout_ns, uint64_t *handle);
/* A modest request on every pool the module has (GPU 0 when present). */
void qrtx_amount_small(const struct qrtx_info *info, struct qrtx_amount *amt);

/* 0 when every pool's used is equal in a and b; else -EBUSY and why. */
int qrtx_usage_cmp(const struct qrtx_info *a, const struct qrtx_info *b,
		   char *why, size_t len);

/* ---- pools: qubits, host bytes, then one per GPU ---- */

#define QRTX_MAX_POOLS	(2 + QRTX_MAX_GPUS)

struct qrtx_pool_ref {
	char label[16];		/* "qubits", "host_bytes", "gpu3" */
	int gpu;		/* -1 for qubits and host bytes */
};

/* Fill refs for the pools INFO reports; returns how many. */
unsigned int qrtx_pools(const struct qrtx_info *info,
			struct qrtx_pool_ref refs[QRTX_MAX_POOLS]);
/* sysfs name of a pool's figure: "total", "used", "peak", "reclaimed". */
void qrtx_pool_attr(const struct qrtx_pool_ref *pool, const char *figure,
		    char *buf, size_t len);
const struct qrtx_pool_stat *qrtx_pool_stat(const struct qrtx_info *info,
					    const struct qrtx_pool_ref *pool);
/* What amt asks of this pool. */
uint64_t qrtx_amount_in(const struct qrtx_amount *amt,
			const struct qrtx_pool_ref *pool);
/* An amount asking n of this pool only. */
void qrtx_amount_of(const struct qrtx_pool_ref *pool, uint64_t n,
		    struct qrtx_amount *amt);

/* ---- sysfs ---- */

/* One decimal value from any file (a module parameter, say). */
int qrtx_read_u64_file(const char *path, uint64_t *val);
int qrtx_sysfs_read(const char *name, uint64_t *val);
int qrtx_sysfs_write_str(const char *name, const char *val);
int qrtx_sysfs_write(const char *name, uint64_t val);
/* Remember the current value; teardown writes it back. */
int qrtx_sysfs_save(const char *name);
int qrtx_sysfs_restore_all(void);
/* Poll until name == want; -ETIMEDOUT (last value in *last) otherwise. */
int qrtx_sysfs_wait(const char *name, uint64_t want, int timeout_ms,
		    uint64_t *last);
int qrtx_sysfs_wait_ge(const char *name, uint64_t want, int timeout_ms,
		       uint64_t *last);

struct qrtx_counters {
	uint64_t open_files;
	uint64_t granted;
	uint64_t failed;
	uint64_t released;
	uint64_t reclaimed;
	uint64_t active;
	uint64_t waiters;
	uint64_t gpu_count;
	unsigned int npools;
	struct {
		uint64_t total, used, peak, reclaimed;
	} pool[QRTX_MAX_POOLS];		/* in qrtx_pools() order */
};

int qrtx_counters_read(struct qrtx_counters *c);
/* Wait until nothing is used, held or waited for. */
int qrtx_wait_idle(int timeout_ms);

/* ---- fdinfo and debugfs ---- */

/* Value of "key:\tvalue" in /proc/self/fdinfo/<fd>; -ENOENT if absent. */
int qrtx_fdinfo_str(int fd, const char *key, char *val, size_t len);
int qrtx_fdinfo_u64(int fd, const char *key, uint64_t *val);
/* Read the debugfs holders table, mounting debugfs if needed. */
int qrtx_holders_read(char *buf, size_t len);

/* ---- children ---- */

/*
 * fork() with stdio flushed; the parent tracks the child for teardown and
 * the child gets SIGKILL if its parent dies first.
 */
pid_t qrtx_fork(void);
/* waitpid with a bound; 0 and *status, or -ETIMEDOUT. */
int qrtx_reap(pid_t pid, int *status, int timeout_ms);
/* Leave a child process: report why on stderr as a TAP comment, exit 1. */
__attribute__((noreturn, format(printf, 1, 2)))
void qrtx_child_fail(const char *fmt, ...);
/* In a child: close every fd above 2 except the two given (-1: none). */
void qrtx_close_fds_except(int keep_a, int keep_b);

/*
 * An actor is a child process holding one /dev/qrtx file (its ledger) and
 * doing what the parent asks over a socket, so a test can have another
 * process reserve, block, release, receive a file by SCM_RIGHTS, or die
 * at a chosen moment.
 */
struct qrtx_actor {
	pid_t pid;
	int sock;
};

enum qrtx_actor_op {
	QRTX_ACT_RESERVE = 1,
	QRTX_ACT_RELEASE,
	QRTX_ACT_LIST,
	QRTX_ACT_ADOPT_FD,	/* the file passed along replaces the ledger */
	QRTX_ACT_CLOSE,		/* close the ledger file */
	QRTX_ACT_EXIT,		/* _exit(0) without replying */
};

#define QRTX_ACT_LIST_MAX	8

struct qrtx_actor_msg {
	uint32_t op;
	uint32_t delay_ms;	/* sleep this long before acting */
	uint32_t when_waiters;	/* first wait until sysfs waiters >= this */
	int32_t ret;		/* reply: 0 or -errno */
	struct qrtx_reserve req;
	uint64_t handle;
	uint32_t count;
	uint32_t pad;
	uint64_t handles[QRTX_ACT_LIST_MAX];
};

/* Returned by the waiting calls when the actor did not answer in time. */
#define QRTX_ACT_NOREPLY	(-100000)

/* own_fd < 0: the actor opens its own file; else it keeps this inherited one. */
int qrtx_actor_start(struct qrtx_actor *a, int own_fd);
int qrtx_actor_send(struct qrtx_actor *a, const struct qrtx_actor_msg *m,
		    int pass_fd);
/* Reply's ret, or QRTX_ACT_NOREPLY. */
int qrtx_actor_recv(struct qrtx_actor *a, struct qrtx_actor_msg *m,
		    int timeout_ms);

int qrtx_actor_reserve(struct qrtx_actor *a, const struct qrtx_amount *amt,
		       uint32_t flags, uint64_t timeout_ns, uint64_t *handle);
int qrtx_actor_reserve_async(struct qrtx_actor *a,
			     const struct qrtx_amount *amt, uint32_t flags,
			     uint64_t timeout_ns);
int qrtx_actor_reserve_wait(struct qrtx_actor *a, uint64_t *handle,
			    int timeout_ms);
int qrtx_actor_release(struct qrtx_actor *a, uint64_t handle);
int qrtx_actor_list(struct qrtx_actor *a, uint32_t *count,
		    uint64_t handles[QRTX_ACT_LIST_MAX]);
int qrtx_actor_adopt_fd(struct qrtx_actor *a, int fd);
int qrtx_actor_close(struct qrtx_actor *a);
/* Ask it to exit and reap it; returns its exit status or -errno. */
int qrtx_actor_stop(struct qrtx_actor *a);
/* SIGKILL and reap; 0 if it died of SIGKILL. */
int qrtx_actor_kill(struct qrtx_actor *a);
/* Start an actor holding the whole qubit pool; -ENOSPC if the pool is empty. */
int qrtx_actor_hold_all_qubits(struct qrtx_actor *a, uint64_t *total,
			       uint64_t *handle);

/* ---- odds and ends ---- */

/* Zeroed memory shared with children forked later; NULL on failure. */
void *qrtx_shared_zalloc(size_t size);
void qrtx_shared_free(void *p, size_t size);
/* Whether the n values are pairwise distinct; sorts them. */
bool qrtx_distinct_u64(uint64_t *v, size_t n);

/* ---- io_uring ---- */

/* Tracked; sqe128 selects IORING_SETUP_SQE128. */
int qrtx_ring_init(struct io_uring *ring, unsigned int entries, bool sqe128);
void qrtx_ring_exit(struct io_uring *ring);

/* Fill sqe as IORING_OP_URING_CMD with this payload in its command area. */
void qrtx_prep_cmd_payload(struct io_uring *ring, struct io_uring_sqe *sqe,
			   int fd, uint32_t cmd_op,
			   const struct qrtx_uring_cmd *payload,
			   uint64_t user_data);
void qrtx_prep_cmd(struct io_uring *ring, struct io_uring_sqe *sqe, int fd,
		   uint32_t cmd_op, void *arg, uint32_t len, uint64_t user_data);
/* Take the next completion within timeout_ms; 0 or -ETIME. */
int qrtx_ring_wait(struct io_uring *ring, int timeout_ms,
		   struct io_uring_cqe *out);
/* Submit one command and wait for it: cqe->res, or -errno of the ring. */
int qrtx_uring_cmd_payload(struct io_uring *ring, int fd, uint32_t cmd_op,
			   const struct qrtx_uring_cmd *payload);
int qrtx_uring_cmd(struct io_uring *ring, int fd, uint32_t cmd_op, void *arg,
		   uint32_t len);

/* ---- cmocka glue ---- */

/* Per test: the module must be idle before, and is put back after. */
int qrtx_test_setup(void **state);
int qrtx_test_teardown(void **state);

#define QRTX_TEST(fn) \
	cmocka_unit_test_setup_teardown(fn, qrtx_test_setup, qrtx_test_teardown)

/*
 * The assertions print errno names and decimal values. Each stringifies
 * its own arguments, so a message shows the expression as written.
 */
#define qrtx_assert_err(got_expr, want_expr, text) do {			\
	int __got = (got_expr), __want = (want_expr);			\
	if (__got != __want)						\
		fail_msg("%s: got %d (%s), want %d (%s)", text,		\
			 __got, qrtx_errname(__got), __want,		\
			 qrtx_errname(__want));				\
} while (0)

#define assert_err(expr, want)	qrtx_assert_err(expr, want, #expr)
#define assert_ok(expr)		qrtx_assert_err(expr, 0, #expr)

#define qrtx_assert_u64(a, op, b, text) do {				\
	uint64_t __a = (a), __b = (b);					\
	if (!(__a op __b))						\
		fail_msg("%s: %llu vs %llu", text,			\
			 (unsigned long long)__a,			\
			 (unsigned long long)__b);			\
} while (0)

#define assert_u64_eq(a, b)	qrtx_assert_u64(a, ==, b, #a " == " #b)
#define assert_u64_ne(a, b)	qrtx_assert_u64(a, !=, b, #a " != " #b)
#define assert_u64_ge(a, b)	qrtx_assert_u64(a, >=, b, #a " >= " #b)
#define assert_u64_gt(a, b)	qrtx_assert_u64(a, >, b, #a " > " #b)
#define assert_u64_le(a, b)	qrtx_assert_u64(a, <=, b, #a " <= " #b)

#define assert_usage_same(a, b) do {					\
	char __why[128];						\
	if (qrtx_usage_cmp((a), (b), __why, sizeof(__why)))		\
		fail_msg("usage changed: %s", __why);			\
} while (0)

/* Skip the running test, saying why (the harness shows the last line). */
#define skip_because(...) do {						\
	print_message("# " __VA_ARGS__);				\
	print_message("\n");						\
	skip();								\
} while (0)

/* An actor holds every qubit from here on, or the test is skipped. */
#define hold_all_qubits(actor, total, handle) do {			\
	int __e = qrtx_actor_hold_all_qubits((actor), (total), (handle)); \
	if (__e == -ENOSPC)						\
		skip_because("the qubit pool is empty");		\
	assert_ok(__e);							\
} while (0)

/* Read a sysfs value or fail the test. */
#define sysfs_get(name) ({						\
	uint64_t __v = 0;						\
	int __e = qrtx_sysfs_read((name), &__v);			\
	if (__e)							\
		fail_msg("read %s: %s", (name), qrtx_errname(__e));	\
	__v;								\
})

#define assert_sysfs_settles(name, want) do {				\
	uint64_t __last = 0, __w = (want);				\
	if (qrtx_sysfs_wait((name), __w, QRTX_SETTLE_MS, &__last))	\
		fail_msg("%s stayed %llu, want %llu", (name),		\
			 (unsigned long long)__last,			\
			 (unsigned long long)__w);			\
} while (0)

#endif /* QRTX_TEST_H */
