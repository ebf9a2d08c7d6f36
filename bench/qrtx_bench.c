// SPDX-License-Identifier: GPL-2.0
/*
 * Cost of a RESERVE+RELEASE pair on /dev/qrtx: through ioctl, and through
 * io_uring with batches of 1 and 32 (per pair, amortised), each also as a
 * multiple of a trivial system call measured in the same run. Prints the
 * median of several rounds; never judges the figures.
 *
 * QRTX_BENCH_PAIRS (pairs per round, default 20000) and QRTX_BENCH_ROUNDS
 * (default 7) override the sizes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "qrtx_test.h"

#define MAX_BATCH	32
#define MAX_ROUNDS	101

struct bench {
	int fd;
	struct io_uring ring;
	struct qrtx_amount amt;
	struct qrtx_reserve req[MAX_BATCH];
	struct qrtx_release rel[MAX_BATCH];
};

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "qrtx_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static unsigned long env_ulong(const char *name, unsigned long def,
			       unsigned long max)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	v = strtoul(s, &end, 10);
	return *end || !v || v > max ? def : v;
}

/* Nanoseconds for n trivial system calls. */
static uint64_t run_syscall(struct bench *b, unsigned long n)
{
	uint64_t t0 = qrtx_now_ns();

	(void)b;
	for (unsigned long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return qrtx_now_ns() - t0;
}

static uint64_t run_ioctl(struct bench *b, unsigned long n)
{
	uint64_t t0 = qrtx_now_ns();

	for (unsigned long i = 0; i < n; i++) {
		uint64_t h;
		int err = qrtx_reserve_amount(b->fd, &b->amt, QRTX_RESERVE_NONBLOCK,
					      0, &h);

		if (err)
			die("RESERVE: %s", qrtx_errname(err));
		err = qrtx_release(b->fd, h);
		if (err)
			die("RELEASE: %s", qrtx_errname(err));
	}
	return qrtx_now_ns() - t0;
}

/* One submit of `batch` commands, waiting for all; every result must be 0. */
static void uring_round_trip(struct bench *b, uint32_t cmd, unsigned int batch)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int ret;

	for (unsigned int i = 0; i < batch; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
		void *arg = cmd == QRTX_IOC_RESERVE ? (void *)&b->req[i] :
						      (void *)&b->rel[i];
		uint32_t len = cmd == QRTX_IOC_RESERVE ? sizeof(b->req[i]) :
							 sizeof(b->rel[i]);

		if (!sqe)
			die("no free SQE");
		qrtx_prep_cmd(&b->ring, sqe, b->fd, cmd, arg, len, i);
	}
	ret = io_uring_submit_and_wait(&b->ring, batch);
	if (ret != (int)batch)
		die("io_uring_submit_and_wait: %s", qrtx_errname(ret < 0 ? ret : -EIO));
	io_uring_for_each_cqe(&b->ring, head, cqe) {
		if (cqe->res)
			die("uring command %#x: %s", cmd, qrtx_errname(cqe->res));
		seen++;
	}
	io_uring_cq_advance(&b->ring, seen);
	if (seen != batch)
		die("%u of %u completions", seen, batch);
}

static uint64_t run_uring(struct bench *b, unsigned long n, unsigned int batch)
{
	uint64_t t0 = qrtx_now_ns();

	for (unsigned long done = 0; done < n; done += batch) {
		for (unsigned int i = 0; i < batch; i++)
			qrtx_req_init(&b->req[i], &b->amt, QRTX_RESERVE_NONBLOCK, 0);
		uring_round_trip(b, QRTX_IOC_RESERVE, batch);
		for (unsigned int i = 0; i < batch; i++)
			b->rel[i] = (struct qrtx_release){ .handle = b->req[i].handle };
		uring_round_trip(b, QRTX_IOC_RELEASE, batch);
	}
	return qrtx_now_ns() - t0;
}

static uint64_t run_uring_1(struct bench *b, unsigned long n)
{
	return run_uring(b, n, 1);
}

static uint64_t run_uring_32(struct bench *b, unsigned long n)
{
	return run_uring(b, n, MAX_BATCH);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median nanoseconds per operation over rounds, after one warm-up round. */
static double median_ns(struct bench *b, uint64_t (*run)(struct bench *, unsigned long),
			unsigned long n, unsigned int rounds)
{
	double per_op[MAX_ROUNDS];

	run(b, n / 10 ? n / 10 : 1);
	for (unsigned int r = 0; r < rounds; r++)
		per_op[r] = (double)run(b, n) / (double)n;
	qsort(per_op, rounds, sizeof(per_op[0]), cmp_double);
	return per_op[rounds / 2];
}

int main(void)
{
	static const struct {
		const char *name;
		uint64_t (*run)(struct bench *, unsigned long);
	} rows[] = {
		{ "getppid() system call", run_syscall },
		{ "RESERVE+RELEASE, ioctl", run_ioctl },
		{ "RESERVE+RELEASE, io_uring batch 1", run_uring_1 },
		{ "RESERVE+RELEASE, io_uring batch 32", run_uring_32 },
	};
	unsigned long pairs = env_ulong("QRTX_BENCH_PAIRS", 20000, 100000000);
	unsigned int rounds = (unsigned int)env_ulong("QRTX_BENCH_ROUNDS", 7, MAX_ROUNDS);
	static struct bench b;
	struct qrtx_info info;
	double ns[ARRAY_SIZE(rows)];
	int err;

	if (!qrtx_device_present()) {
		printf("qrtx_bench: %s not present, nothing to measure\n", QRTX_DEV_PATH);
		return KSFT_SKIP;
	}
	pairs = (pairs + MAX_BATCH - 1) / MAX_BATCH * MAX_BATCH;
	b.fd = qrtx_open();
	if (b.fd < 0)
		die("open %s: %s", QRTX_DEV_PATH, qrtx_errname(b.fd));
	err = qrtx_info(b.fd, &info);
	if (err)
		die("INFO: %s", qrtx_errname(err));
	err = qrtx_ring_init(&b.ring, 2 * MAX_BATCH, true);
	if (err)
		die("io_uring with SQE128: %s", qrtx_errname(err));
	/* One unit of a pool with room for a whole batch. */
	if (info.qubits.total >= MAX_BATCH)
		b.amt.qubits = 1;
	else if (info.host_bytes.total >= MAX_BATCH)
		b.amt.host_bytes = 1;
	else
		die("no pool has room for %d reservations", MAX_BATCH);

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		ns[i] = median_ns(&b, rows[i].run, pairs, rounds);

	printf("qrtx_bench: %lu operations per round, median of %u rounds\n\n",
	       pairs, rounds);
	printf("%-38s %12s %12s\n", "operation", "ns each", "x getppid");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		printf("%-38s %12.1f %12.1f\n", rows[i].name, ns[i], ns[i] / ns[0]);

	qrtx_ring_exit(&b.ring);
	qrtx_close(b.fd);
	return 0;
}
