// SPDX-License-Identifier: GPL-2.0
/*
 * Shared helpers of the /dev/qrtx selftests and of bench/qrtx_bench.
 * No cmocka calls in here: see qrtx_test.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qrtx_test.h"

/* Upper bound on one actor round trip (blocking reserves included). */
#define QRTX_ACT_CALL_MS	30000

/* ---- what teardown puts back ---- */

static struct {
	int fds[128];
	unsigned int nfds;
	pid_t children[128];
	unsigned int nchildren;
	struct io_uring *rings[16];
	unsigned int nrings;
	struct {
		char name[64];
		uint64_t value;
	} saved[32];
	unsigned int nsaved;
} track;

static void track_add(int *arr, unsigned int *n, unsigned int cap, int v)
{
	if (*n < cap)
		arr[(*n)++] = v;
	else
		fprintf(stderr, "# qrtx_test: tracking table full, %d untracked\n", v);
}

static void track_del(int *arr, unsigned int *n, int v)
{
	for (unsigned int i = 0; i < *n; i++) {
		if (arr[i] == v) {
			arr[i] = arr[--(*n)];
			return;
		}
	}
}

/* ---- process-wide ---- */

bool qrtx_device_present(void)
{
	return access(QRTX_DEV_PATH, F_OK) == 0;
}

void qrtx_require_device(void)
{
	if (!qrtx_device_present()) {
		printf("1..0 # SKIP %s not present\n", QRTX_DEV_PATH);
		fflush(stdout);
		exit(KSFT_SKIP);
	}
	/* A peer that died must show up as an error, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
}

int qrtx_ksft_exit(int failed)
{
	return failed ? KSFT_FAIL : KSFT_PASS;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t qrtx_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t qrtx_boottime_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

void qrtx_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const char *qrtx_errname(int err)
{
	const char *name;

	if (err == 0)
		return "0";
	if (err == QRTX_ACT_NOREPLY)
		return "no reply";
	name = strerrorname_np(err < 0 ? -err : err);
	return name ? name : "E?";
}

/* ---- files and ioctls ---- */

int qrtx_open(void)
{
	int fd = open(QRTX_DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	track_add(track.fds, &track.nfds, ARRAY_SIZE(track.fds), fd);
	return fd;
}

int qrtx_close(int fd)
{
	track_del(track.fds, &track.nfds, fd);
	return close(fd) ? -errno : 0;
}

int qrtx_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int qrtx_info(int fd, struct qrtx_info *info)
{
	memset(info, 0, sizeof(*info));
	return qrtx_ioctl(fd, QRTX_IOC_INFO, info);
}

int qrtx_info_snapshot(struct qrtx_info *info)
{
	int fd = open(QRTX_DEV_PATH, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = qrtx_info(fd, info);
	close(fd);
	return ret;
}

int qrtx_reserve(int fd, struct qrtx_reserve *req)
{
	return qrtx_ioctl(fd, QRTX_IOC_RESERVE, req);
}

int qrtx_release(int fd, uint64_t handle)
{
	struct qrtx_release rel = { .handle = handle };

	return qrtx_ioctl(fd, QRTX_IOC_RELEASE, &rel);
}

int qrtx_list(int fd, struct qrtx_resv_desc *entries, uint32_t *count)
{
	struct qrtx_list list = {
		.entries = (uint64_t)(uintptr_t)entries,
		.count = *count,
	};
	int ret = qrtx_ioctl(fd, QRTX_IOC_LIST, &list);

	*count = list.count;
	return ret;
}

void qrtx_req_init(struct qrtx_reserve *req, const struct qrtx_amount *amt,
		   uint32_t flags, uint64_t timeout_ns)
{
	memset(req, 0, sizeof(*req));
	req->flags = flags;
	req->qubits = amt->qubits;
	req->host_bytes = amt->host_bytes;
	req->gpu_bytes = amt->gpu_bytes;
	req->gpu_index = amt->gpu_bytes ? amt->gpu_index : 0;
	req->timeout_ns = timeout_ns;
}

int qrtx_reserve_amount(int fd, const struct qrtx_amount *amt, uint32_t flags,
			uint64_t timeout_ns, uint64_t *handle)
{
	struct qrtx_reserve req;
	int ret;

	qrtx_req_init(&req, amt, flags, timeout_ns);
	ret = qrtx_reserve(fd, &req);
	if (handle)
		*handle = ret ? 0 : req.handle;
	return ret;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void qrtx_amount_small(const struct qrtx_info *info, struct qrtx_amount *amt)
{
	memset(amt, 0, sizeof(*amt));
	amt->qubits = min_u64(2, info->qubits.total);
	amt->host_bytes = min_u64(1 << 20, info->host_bytes.total);
	if (info->gpu_count > 0)
		amt->gpu_bytes = min_u64(1 << 20, info->gpu[0].total);
}

/* ---- pools ---- */

static unsigned int pools_for(unsigned int gpu_count,
			      struct qrtx_pool_ref refs[QRTX_MAX_POOLS])
{
	unsigned int n = 0;

	if (gpu_count > QRTX_MAX_GPUS)
		gpu_count = QRTX_MAX_GPUS;
	refs[n++] = (struct qrtx_pool_ref){ .label = "qubits", .gpu = -1 };
	refs[n++] = (struct qrtx_pool_ref){ .label = "host_bytes", .gpu = -1 };
	for (unsigned int i = 0; i < gpu_count; i++, n++) {
		snprintf(refs[n].label, sizeof(refs[n].label), "gpu%u", i);
		refs[n].gpu = (int)i;
	}
	return n;
}

unsigned int qrtx_pools(const struct qrtx_info *info,
			struct qrtx_pool_ref refs[QRTX_MAX_POOLS])
{
	return pools_for(info->gpu_count, refs);
}

void qrtx_pool_attr(const struct qrtx_pool_ref *pool, const char *figure,
		    char *buf, size_t len)
{
	if (pool->gpu >= 0)
		snprintf(buf, len, "gpu%d/bytes_%.15s", pool->gpu, figure);
	else
		snprintf(buf, len, "%.15s_%.15s", pool->label, figure);
}

const struct qrtx_pool_stat *qrtx_pool_stat(const struct qrtx_info *info,
					    const struct qrtx_pool_ref *pool)
{
	if (pool->gpu >= 0)
		return &info->gpu[pool->gpu];
	return strcmp(pool->label, "qubits") ? &info->host_bytes : &info->qubits;
}

uint64_t qrtx_amount_in(const struct qrtx_amount *amt,
			const struct qrtx_pool_ref *pool)
{
	if (pool->gpu >= 0)
		return (int)amt->gpu_index == pool->gpu ? amt->gpu_bytes : 0;
	return strcmp(pool->label, "qubits") ? amt->host_bytes : amt->qubits;
}

void qrtx_amount_of(const struct qrtx_pool_ref *pool, uint64_t n,
		    struct qrtx_amount *amt)
{
	memset(amt, 0, sizeof(*amt));
	if (pool->gpu >= 0) {
		amt->gpu_index = (uint32_t)pool->gpu;
		amt->gpu_bytes = n;
	} else if (!strcmp(pool->label, "qubits")) {
		amt->qubits = n;
	} else {
		amt->host_bytes = n;
	}
}

int qrtx_usage_cmp(const struct qrtx_info *a, const struct qrtx_info *b,
		   char *why, size_t len)
{
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	unsigned int n = qrtx_pools(a, refs);

	if (a->gpu_count != b->gpu_count) {
		snprintf(why, len, "gpu_count %u then %u", a->gpu_count,
			 b->gpu_count);
		return -EBUSY;
	}
	for (unsigned int p = 0; p < n; p++) {
		uint64_t ua = qrtx_pool_stat(a, &refs[p])->used;
		uint64_t ub = qrtx_pool_stat(b, &refs[p])->used;

		if (ua != ub) {
			snprintf(why, len, "%s used %" PRIu64 " then %" PRIu64,
				 refs[p].label, ua, ub);
			return -EBUSY;
		}
	}
	return 0;
}

/* ---- sysfs ---- */

static int sysfs_path(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", QRTX_SYSFS_DIR, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int qrtx_read_u64_file(const char *path, uint64_t *val)
{
	char buf[64], *end;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

int qrtx_sysfs_read(const char *name, uint64_t *val)
{
	char path[256];
	int err = sysfs_path(name, path, sizeof(path));

	return err ? err : qrtx_read_u64_file(path, val);
}

int qrtx_sysfs_write_str(const char *name, const char *val)
{
	char path[256];
	size_t len = strlen(val);
	ssize_t n;
	int fd, err;

	err = sysfs_path(name, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	return (size_t)n == len ? 0 : -EIO;
}

int qrtx_sysfs_write(const char *name, uint64_t val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", val);
	return qrtx_sysfs_write_str(name, buf);
}

int qrtx_sysfs_save(const char *name)
{
	uint64_t v;
	int err;

	for (unsigned int i = 0; i < track.nsaved; i++)
		if (!strcmp(track.saved[i].name, name))
			return 0;	/* keep the oldest value */
	if (track.nsaved == ARRAY_SIZE(track.saved))
		return -ENOSPC;
	err = qrtx_sysfs_read(name, &v);
	if (err)
		return err;
	snprintf(track.saved[track.nsaved].name,
		 sizeof(track.saved[track.nsaved].name), "%s", name);
	track.saved[track.nsaved++].value = v;
	return 0;
}

int qrtx_sysfs_restore_all(void)
{
	int ret = 0;

	/* Newest first, so a value saved after gpu_count is put back before it. */
	while (track.nsaved) {
		unsigned int i = --track.nsaved;
		uint64_t now;
		int err;

		if (!qrtx_sysfs_read(track.saved[i].name, &now) &&
		    now == track.saved[i].value)
			continue;
		err = qrtx_sysfs_write(track.saved[i].name, track.saved[i].value);
		if (err) {
			fprintf(stderr, "# restore %s=%" PRIu64 ": %s\n",
				track.saved[i].name, track.saved[i].value,
				qrtx_errname(err));
			ret = err;
		}
	}
	return ret;
}

static int sysfs_wait(const char *name, uint64_t want, bool at_least,
		      int timeout_ms, uint64_t *last)
{
	uint64_t deadline = qrtx_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	uint64_t v = 0;
	int err;

	for (;;) {
		err = qrtx_sysfs_read(name, &v);
		if (last)
			*last = v;
		if (err)
			return err;
		if (at_least ? v >= want : v == want)
			return 0;
		if (qrtx_now_ns() >= deadline)
			return -ETIMEDOUT;
		qrtx_sleep_ms(2);
	}
}

int qrtx_sysfs_wait(const char *name, uint64_t want, int timeout_ms,
		    uint64_t *last)
{
	return sysfs_wait(name, want, false, timeout_ms, last);
}

int qrtx_sysfs_wait_ge(const char *name, uint64_t want, int timeout_ms,
		       uint64_t *last)
{
	return sysfs_wait(name, want, true, timeout_ms, last);
}

int qrtx_counters_read(struct qrtx_counters *c)
{
	static const struct {
		const char *name;
		size_t off;
	} scalars[] = {
		{ "open_files", offsetof(struct qrtx_counters, open_files) },
		{ "reservations_granted", offsetof(struct qrtx_counters, granted) },
		{ "reservations_failed", offsetof(struct qrtx_counters, failed) },
		{ "reservations_released", offsetof(struct qrtx_counters, released) },
		{ "reservations_reclaimed", offsetof(struct qrtx_counters, reclaimed) },
		{ "reservations_active", offsetof(struct qrtx_counters, active) },
		{ "waiters", offsetof(struct qrtx_counters, waiters) },
		{ "gpu_count", offsetof(struct qrtx_counters, gpu_count) },
	};
	struct qrtx_pool_ref refs[QRTX_MAX_POOLS];
	char attr[64];
	int err;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < ARRAY_SIZE(scalars); i++) {
		err = qrtx_sysfs_read(scalars[i].name,
				      (uint64_t *)((char *)c + scalars[i].off));
		if (err)
			return err;
	}
	c->npools = pools_for((unsigned int)c->gpu_count, refs);
	for (unsigned int p = 0; p < c->npools; p++) {
		const char *figure[] = { "total", "used", "peak", "reclaimed" };
		uint64_t *dst[] = { &c->pool[p].total, &c->pool[p].used,
				    &c->pool[p].peak, &c->pool[p].reclaimed };

		for (size_t f = 0; f < ARRAY_SIZE(figure); f++) {
			qrtx_pool_attr(&refs[p], figure[f], attr, sizeof(attr));
			err = qrtx_sysfs_read(attr, dst[f]);
			if (err)
				return err;
		}
	}
	return 0;
}

static bool counters_idle(const struct qrtx_counters *c)
{
	if (c->active || c->waiters)
		return false;
	for (unsigned int p = 0; p < c->npools; p++)
		if (c->pool[p].used)
			return false;
	return true;
}

int qrtx_wait_idle(int timeout_ms)
{
	uint64_t deadline = qrtx_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	struct qrtx_counters c;
	int err;

	for (;;) {
		err = qrtx_counters_read(&c);
		if (err)
			return err;
		if (counters_idle(&c))
			return 0;
		if (qrtx_now_ns() >= deadline)
			break;
		qrtx_sleep_ms(5);
	}
	fprintf(stderr, "# qrtx not idle: active=%" PRIu64 " waiters=%" PRIu64
		" qubits_used=%" PRIu64 " host_bytes_used=%" PRIu64 "\n",
		c.active, c.waiters, c.pool[0].used, c.pool[1].used);
	return -ETIMEDOUT;
}

/* ---- fdinfo and debugfs ---- */

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (off + 1 < len && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += (size_t)n;
	n = n < 0 ? -errno : (ssize_t)off;
	close(fd);
	buf[off] = '\0';
	return n;
}

int qrtx_fdinfo_str(int fd, const char *key, char *val, size_t len)
{
	char path[64], buf[4096];
	size_t klen = strlen(key);
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	n = read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (char *line = buf; *line;) {
		char *eol = strchrnul(line, '\n');

		if (!strncmp(line, key, klen) && line[klen] == ':') {
			char *v = line + klen + 1;

			v += strspn(v, " \t");
			snprintf(val, len, "%.*s", (int)(eol - v), v);
			return 0;
		}
		line = *eol ? eol + 1 : eol;
	}
	return -ENOENT;
}

int qrtx_fdinfo_u64(int fd, const char *key, uint64_t *val)
{
	char buf[64], *end;
	int err = qrtx_fdinfo_str(fd, key, buf, sizeof(buf));

	if (err)
		return err;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	return errno || end == buf || *end ? -EINVAL : 0;
}

int qrtx_holders_read(char *buf, size_t len)
{
	bool mounted = false;
	ssize_t n;

	if (access(QRTX_HOLDERS_PATH, R_OK)) {
		if (mount("debugfs", QRTX_DEBUGFS_MNT, "debugfs", 0, NULL))
			return -ENOENT;
		mounted = true;
	}
	n = read_file(QRTX_HOLDERS_PATH, buf, len);
	if (mounted)
		umount(QRTX_DEBUGFS_MNT);
	return n < 0 ? (int)n : 0;
}

/* ---- children ---- */

pid_t qrtx_fork(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* What the parent tracks is not the child's to clean up. */
		track.nfds = track.nchildren = track.nrings = track.nsaved = 0;
		/* Never outlive a test that died: it could not reap us. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	} else if (pid > 0) {
		track_add(track.children, &track.nchildren,
			  ARRAY_SIZE(track.children), pid);
	}
	return pid;
}

int qrtx_reap(pid_t pid, int *status, int timeout_ms)
{
	uint64_t deadline = qrtx_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	int st = 0;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (qrtx_now_ns() >= deadline)
			return -ETIMEDOUT;
		qrtx_sleep_ms(1);
	}
	track_del(track.children, &track.nchildren, pid);
	if (status)
		*status = st;
	return 0;
}

void qrtx_child_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "# child %d: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(1);
}

static void close_between(int lo, int hi)
{
	if (lo <= hi)
		close_range((unsigned int)lo, (unsigned int)hi, 0);
}

void qrtx_close_fds_except(int keep_a, int keep_b)
{
	int lo = keep_a < keep_b ? keep_a : keep_b;
	int hi = keep_a < keep_b ? keep_b : keep_a;

	if (lo < 3)
		lo = hi;	/* -1 or a standard stream: one fd to keep */
	if (hi < 3) {
		close_range(3, ~0U, 0);
		return;
	}
	close_between(3, lo - 1);
	close_between(lo + 1, hi - 1);
	close_range((unsigned int)hi + 1, ~0U, 0);
}

/* ---- actors ---- */

static ssize_t actor_recvmsg(int sock, struct qrtx_actor_msg *m, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return n;
}

static void actor_wait_waiters(uint32_t want)
{
	if (want)
		qrtx_sysfs_wait_ge("waiters", want, 10000, NULL);
}

static void actor_list(int fd, struct qrtx_actor_msg *m)
{
	struct qrtx_resv_desc d[QRTX_ACT_LIST_MAX];
	uint32_t count = QRTX_ACT_LIST_MAX;

	m->ret = qrtx_list(fd, d, &count);
	m->count = count;
	for (uint32_t i = 0; !m->ret && i < count; i++)
		m->handles[i] = d[i].handle;
}

__attribute__((noreturn))
static void actor_main(int sock, int fd)
{
	for (;;) {
		struct qrtx_actor_msg m;
		int passed;

		if (actor_recvmsg(sock, &m, &passed) != sizeof(m))
			_exit(0);	/* the parent is gone */
		actor_wait_waiters(m.when_waiters);
		if (m.delay_ms)
			qrtx_sleep_ms(m.delay_ms);
		switch (m.op) {
		case QRTX_ACT_RESERVE:
			m.ret = qrtx_reserve(fd, &m.req);
			break;
		case QRTX_ACT_RELEASE:
			m.ret = qrtx_release(fd, m.handle);
			break;
		case QRTX_ACT_LIST:
			actor_list(fd, &m);
			break;
		case QRTX_ACT_ADOPT_FD:
			if (fd >= 0)
				close(fd);
			fd = passed;
			m.ret = fd >= 0 ? 0 : -EBADMSG;
			passed = -1;
			break;
		case QRTX_ACT_CLOSE:
			m.ret = close(fd) ? -errno : 0;
			fd = -1;
			break;
		case QRTX_ACT_EXIT:
			_exit(0);
		default:
			m.ret = -EOPNOTSUPP;
		}
		if (passed >= 0)
			close(passed);
		if (send(sock, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
			_exit(0);
	}
}

int qrtx_actor_start(struct qrtx_actor *a, int own_fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = qrtx_fork();
	if (pid < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		int fd = own_fd;

		/* Other files of the parent must not outlive their close there. */
		qrtx_close_fds_except(sv[1], own_fd);
		if (fd < 0) {
			fd = open(QRTX_DEV_PATH, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				qrtx_child_fail("open %s: %m", QRTX_DEV_PATH);
		}
		actor_main(sv[1], fd);
	}
	close(sv[1]);
	a->pid = pid;
	a->sock = sv[0];
	return 0;
}

int qrtx_actor_send(struct qrtx_actor *a, const struct qrtx_actor_msg *m,
		    int pass_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	if (sendmsg(a->sock, &mh, MSG_NOSIGNAL) != sizeof(*m))
		return -errno;
	return 0;
}

int qrtx_actor_recv(struct qrtx_actor *a, struct qrtx_actor_msg *m,
		    int timeout_ms)
{
	struct pollfd pfd = { .fd = a->sock, .events = POLLIN };
	int passed, r;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r <= 0)
		return QRTX_ACT_NOREPLY;
	if (actor_recvmsg(a->sock, m, &passed) != sizeof(*m))
		return QRTX_ACT_NOREPLY;
	if (passed >= 0)
		close(passed);
	return m->ret;
}

static int actor_call(struct qrtx_actor *a, struct qrtx_actor_msg *m, int pass_fd)
{
	int err = qrtx_actor_send(a, m, pass_fd);

	return err ? err : qrtx_actor_recv(a, m, QRTX_ACT_CALL_MS);
}

static void actor_reserve_msg(struct qrtx_actor_msg *m,
			      const struct qrtx_amount *amt, uint32_t flags,
			      uint64_t timeout_ns)
{
	memset(m, 0, sizeof(*m));
	m->op = QRTX_ACT_RESERVE;
	qrtx_req_init(&m->req, amt, flags, timeout_ns);
}

int qrtx_actor_reserve(struct qrtx_actor *a, const struct qrtx_amount *amt,
		       uint32_t flags, uint64_t timeout_ns, uint64_t *handle)
{
	struct qrtx_actor_msg m;
	int ret;

	actor_reserve_msg(&m, amt, flags, timeout_ns);
	ret = actor_call(a, &m, -1);
	if (handle)
		*handle = ret ? 0 : m.req.handle;
	return ret;
}

int qrtx_actor_reserve_async(struct qrtx_actor *a,
			     const struct qrtx_amount *amt, uint32_t flags,
			     uint64_t timeout_ns)
{
	struct qrtx_actor_msg m;

	actor_reserve_msg(&m, amt, flags, timeout_ns);
	return qrtx_actor_send(a, &m, -1);
}

int qrtx_actor_reserve_wait(struct qrtx_actor *a, uint64_t *handle,
			    int timeout_ms)
{
	struct qrtx_actor_msg m;
	int ret = qrtx_actor_recv(a, &m, timeout_ms);

	if (handle)
		*handle = ret ? 0 : m.req.handle;
	return ret;
}

static int actor_simple(struct qrtx_actor *a, uint32_t op, uint64_t handle)
{
	struct qrtx_actor_msg m = { .op = op, .handle = handle };

	return actor_call(a, &m, -1);
}

int qrtx_actor_release(struct qrtx_actor *a, uint64_t handle)
{
	return actor_simple(a, QRTX_ACT_RELEASE, handle);
}

int qrtx_actor_list(struct qrtx_actor *a, uint32_t *count,
		    uint64_t handles[QRTX_ACT_LIST_MAX])
{
	struct qrtx_actor_msg m = { .op = QRTX_ACT_LIST };
	int ret = actor_call(a, &m, -1);

	*count = m.count;
	if (handles)
		memcpy(handles, m.handles, sizeof(m.handles));
	return ret;
}

int qrtx_actor_adopt_fd(struct qrtx_actor *a, int fd)
{
	struct qrtx_actor_msg m = { .op = QRTX_ACT_ADOPT_FD };

	return actor_call(a, &m, fd);
}

int qrtx_actor_close(struct qrtx_actor *a)
{
	return actor_simple(a, QRTX_ACT_CLOSE, 0);
}

static int actor_reap(struct qrtx_actor *a, int *status)
{
	int err = qrtx_reap(a->pid, status, QRTX_SETTLE_MS);

	if (err == -ETIMEDOUT) {
		kill(a->pid, SIGKILL);
		qrtx_reap(a->pid, status, QRTX_SETTLE_MS);
	}
	close(a->sock);
	a->sock = -1;
	a->pid = 0;
	return err;
}

int qrtx_actor_stop(struct qrtx_actor *a)
{
	struct qrtx_actor_msg m = { .op = QRTX_ACT_EXIT };
	int status = 0, err;

	qrtx_actor_send(a, &m, -1);
	err = actor_reap(a, &status);
	if (err)
		return err;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
}

int qrtx_actor_kill(struct qrtx_actor *a)
{
	int status = 0, err;

	kill(a->pid, SIGKILL);
	err = actor_reap(a, &status);
	if (err)
		return err;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -ECHILD;
}

int qrtx_actor_hold_all_qubits(struct qrtx_actor *a, uint64_t *total,
			       uint64_t *handle)
{
	struct qrtx_amount all = { 0 };
	struct qrtx_info info;
	int err = qrtx_info_snapshot(&info);

	if (err)
		return err;
	if (!info.qubits.total)
		return -ENOSPC;
	all.qubits = info.qubits.total;
	err = qrtx_actor_start(a, -1);
	if (err)
		return err;
	if (total)
		*total = all.qubits;
	return qrtx_actor_reserve(a, &all, QRTX_RESERVE_NONBLOCK, 0, handle);
}

/* ---- odds and ends ---- */

void *qrtx_shared_zalloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;	/* anonymous maps come zeroed */
}

void qrtx_shared_free(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

bool qrtx_distinct_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			return false;
	return true;
}

/* ---- io_uring ---- */

int qrtx_ring_init(struct io_uring *ring, unsigned int entries, bool sqe128)
{
	int err = io_uring_queue_init(entries, ring,
				      sqe128 ? IORING_SETUP_SQE128 : 0);

	if (err)
		return err;
	if (track.nrings < ARRAY_SIZE(track.rings))
		track.rings[track.nrings++] = ring;
	return 0;
}

void qrtx_ring_exit(struct io_uring *ring)
{
	for (unsigned int i = 0; i < track.nrings; i++) {
		if (track.rings[i] == ring) {
			track.rings[i] = track.rings[--track.nrings];
			break;
		}
	}
	io_uring_queue_exit(ring);
}

void qrtx_prep_cmd_payload(struct io_uring *ring, struct io_uring_sqe *sqe,
			   int fd, uint32_t cmd_op,
			   const struct qrtx_uring_cmd *payload,
			   uint64_t user_data)
{
	/* The command area is 16 bytes in a 64-byte SQE, 80 in a 128-byte one. */
	size_t area = ring->flags & IORING_SETUP_SQE128 ? 80 : 16;
	unsigned char *cmd = (unsigned char *)sqe +
			     offsetof(struct io_uring_sqe, cmd);

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	sqe->__pad1 = 0;
	memset(cmd, 0, area);
	memcpy(cmd, payload, min_u64(sizeof(*payload), area));
	io_uring_sqe_set_data64(sqe, user_data);
}

void qrtx_prep_cmd(struct io_uring *ring, struct io_uring_sqe *sqe, int fd,
		   uint32_t cmd_op, void *arg, uint32_t len, uint64_t user_data)
{
	struct qrtx_uring_cmd payload = {
		.addr = (uint64_t)(uintptr_t)arg,
		.len = len,
	};

	qrtx_prep_cmd_payload(ring, sqe, fd, cmd_op, &payload, user_data);
}

int qrtx_ring_wait(struct io_uring *ring, int timeout_ms,
		   struct io_uring_cqe *out)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long long)(timeout_ms % 1000) * 1000000LL,
	};
	struct io_uring_cqe *cqe;
	int err;

	do {
		err = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	} while (err == -EINTR);
	if (err)
		return err;
	*out = *cqe;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

int qrtx_uring_cmd_payload(struct io_uring *ring, int fd, uint32_t cmd_op,
			   const struct qrtx_uring_cmd *payload)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	qrtx_prep_cmd_payload(ring, sqe, fd, cmd_op, payload, 0x5158);
	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	if (ret != 1)
		return -EIO;
	ret = qrtx_ring_wait(ring, 10000, &cqe);
	if (ret)
		return ret;
	return cqe.user_data == 0x5158 ? cqe.res : -EPROTO;
}

int qrtx_uring_cmd(struct io_uring *ring, int fd, uint32_t cmd_op, void *arg,
		   uint32_t len)
{
	struct qrtx_uring_cmd payload = {
		.addr = (uint64_t)(uintptr_t)arg,
		.len = len,
	};

	return qrtx_uring_cmd_payload(ring, fd, cmd_op, &payload);
}

/* ---- cmocka glue ---- */

int qrtx_test_setup(void **state)
{
	(void)state;
	if (qrtx_wait_idle(QRTX_SETTLE_MS)) {
		fprintf(stderr, "# the module was not idle before the test\n");
		return -1;
	}
	return 0;
}

int qrtx_test_teardown(void **state)
{
	int ret = 0;

	(void)state;
	while (track.nchildren) {
		pid_t pid = track.children[track.nchildren - 1];

		kill(pid, SIGKILL);
		if (qrtx_reap(pid, NULL, QRTX_SETTLE_MS))
			track.nchildren--;	/* not ours to wait for any more */
	}
	while (track.nrings)
		qrtx_ring_exit(track.rings[track.nrings - 1]);
	while (track.nfds)
		qrtx_close(track.fds[track.nfds - 1]);
	if (qrtx_sysfs_restore_all())
		ret = -1;
	if (qrtx_wait_idle(QRTX_SETTLE_MS)) {
		fprintf(stderr, "# the module did not return to idle after the test\n");
		ret = -1;
	}
	return ret;
}
