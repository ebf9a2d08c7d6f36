// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qrtx/store.h"

struct qrtx_store {
	char *dir;		/* <state_dir>/circuit_fs */
	int dirfd;
};

char *qrtx_store_default_dir(int *err_code)
{
	const char *env = getenv("QRTX_STATE_DIR");
	char *out = NULL;
	int n = -1;

	if (env && *env)
		n = asprintf(&out, "%s", env);
	else if (geteuid() == 0)
		n = asprintf(&out, "/var/lib/qrtx");
	else if ((env = getenv("XDG_STATE_HOME")) && *env)
		n = asprintf(&out, "%s/qrtx", env);
	else if ((env = getenv("HOME")) && *env)
		n = asprintf(&out, "%s/.local/state/qrtx", env);
	if (n < 0) {
		*err_code = env ? -ENOMEM : -ENOENT;
		return NULL;
	}
	return out;
}

/* mkdir -p with mode for every component created. */
static int mkdirs(const char *path, mode_t mode)
{
	char *p = strdup(path);
	int ret = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			if (mkdir(p, mode) && errno != EEXIST) {
				ret = -errno;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return ret;
}

int qrtx_store_open(const char *state_dir, struct qrtx_store **out,
		    struct qrtx_error *err)
{
	struct qrtx_store *s = calloc(1, sizeof(*s));
	char *def = NULL;
	int ret;

	if (!s)
		return -ENOMEM;
	if (!state_dir) {
		def = qrtx_store_default_dir(&ret);
		if (!def) {
			qrtx_error_set(err, QRTX_ERR_PERSIST, ret, NULL, 0, 0,
				       "no state directory: set QRTX_STATE_DIR or HOME");
			free(s);
			return ret;
		}
		state_dir = def;
	}
	if (asprintf(&s->dir, "%s/circuit_fs", state_dir) < 0) {
		s->dir = NULL;
		ret = -ENOMEM;
		goto fail;
	}
	ret = mkdirs(s->dir, 0700);
	if (!ret) {
		s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0)
			ret = -errno;
	}
	if (ret) {
		qrtx_error_set(err, QRTX_ERR_PERSIST, ret, s->dir, 0, 0, "%s",
			       strerror(-ret));
		goto fail;
	}
	free(def);
	*out = s;
	return 0;
fail:
	free(def);
	free(s->dir);
	free(s);
	return ret;
}

void qrtx_store_close(struct qrtx_store *s)
{
	if (!s)
		return;
	close(s->dirfd);
	free(s->dir);
	free(s);
}

const char *qrtx_store_dir(const struct qrtx_store *s)
{
	return s->dir;
}

int qrtx_store_new_job(struct qrtx_store *s, char job_id[QRTX_JOB_ID_MAX],
		       struct qrtx_error *err)
{
	struct timespec ts;
	struct tm tm;
	uint32_t rnd;
	int ret;

	for (int attempt = 0; attempt < 8; attempt++) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)rand();
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(job_id, QRTX_JOB_ID_MAX, "%04d%02d%02d-%02d%02d%02d-%08x",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, rnd);
		if (!mkdirat(s->dirfd, job_id, 0700))
			return fsync(s->dirfd) ? -errno : 0;
		if (errno != EEXIST)
			break;
	}
	ret = -errno;
	qrtx_error_set(err, QRTX_ERR_PERSIST, ret, s->dir, 0, 0,
		       "cannot create a job directory: %s", strerror(-ret));
	return ret;
}

int qrtx_store_path(const struct qrtx_store *s, const char *job_id,
		    const char *name, char *buf, size_t len)
{
	int n = name ? snprintf(buf, len, "%s/%s/%s", s->dir, job_id, name) :
		       snprintf(buf, len, "%s/%s", s->dir, job_id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int qrtx_store_write(struct qrtx_store *s, const char *job_id, const char *name,
		     const void *data, size_t len, struct qrtx_error *err)
{
	char tmp[128], path[4096];
	int jfd, fd, ret = 0;

	jfd = openat(s->dirfd, job_id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (jfd < 0) {
		ret = -errno;
		goto report;
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(jfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
	} else {
		ret = write_all(fd, data, len);
		if (!ret && fsync(fd))
			ret = -errno;
		if (close(fd) && !ret)
			ret = -errno;
		if (!ret && renameat(jfd, tmp, jfd, name))
			ret = -errno;
		if (!ret && fsync(jfd))
			ret = -errno;
		if (ret)
			unlinkat(jfd, tmp, 0);
	}
	close(jfd);
report:
	if (ret) {
		qrtx_store_path(s, job_id, name, path, sizeof(path));
		qrtx_error_set(err, QRTX_ERR_PERSIST, ret, path, 0, 0,
			       "cannot write: %s", strerror(-ret));
	}
	return ret;
}
