// SPDX-License-Identifier: MIT
/*
 * Resource client over /dev/qrtx or the in-process ledger.
 *
 * Global state: the in-process ledger is one per process, shared by every
 * qrtx_res of the process as the kernel's pools are shared by every open
 * file. It exists while at least one qrtx_res uses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "qrtx/ledger.h"
#include "qrtx/resource.h"

#define QRTX_INPROCESS_QUBITS 64

struct qrtx_res {
	enum qrtx_res_backend backend;
	int fd;
	struct qrtx_account *acct;
};

static pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;
static struct qrtx_ledger *process_ledger;	/* under ledger_lock */
static unsigned int process_ledger_users;	/* under ledger_lock */

static int process_account_open(struct qrtx_account **out)
{
	int err = 0;

	pthread_mutex_lock(&ledger_lock);
	if (!process_ledger) {
		struct qrtx_ledger_config cfg = { .qubits = QRTX_INPROCESS_QUBITS };
		long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

		/* The module's default: half of the machine's memory. */
		if (pages > 0 && psize > 0)
			cfg.host_bytes = (uint64_t)pages * (uint64_t)psize / 2;
		err = qrtx_ledger_new(&cfg, &process_ledger);
	}
	if (!err)
		err = qrtx_account_open(process_ledger, out);
	if (!err)
		process_ledger_users++;
	pthread_mutex_unlock(&ledger_lock);
	return err;
}

static void process_account_close(struct qrtx_account *a)
{
	qrtx_account_close(a);
	pthread_mutex_lock(&ledger_lock);
	if (--process_ledger_users == 0) {
		qrtx_ledger_free(process_ledger);
		process_ledger = NULL;
	}
	pthread_mutex_unlock(&ledger_lock);
}

int qrtx_res_open(const char *path, struct qrtx_res **out)
{
	struct qrtx_res *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->fd = open(path ? path : "/dev/qrtx", O_RDWR | O_CLOEXEC);
	if (r->fd >= 0) {
		r->backend = QRTX_RES_KERNEL;
		*out = r;
		return 0;
	}
	err = -errno;
	/* Only a missing device means "no module"; EACCES is the admin's call. */
	if (err != -ENOENT || path) {
		free(r);
		return err;
	}
	err = process_account_open(&r->acct);
	if (err) {
		free(r);
		return err;
	}
	r->backend = QRTX_RES_INPROCESS;
	*out = r;
	return 0;
}

/* Write v to /sys/class/misc/qrtx/<attr>: root sizes the device's pools. */
static int sysfs_write(const char *attr, uint64_t v)
{
	char path[128], buf[32];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), "/sys/class/misc/qrtx/%s", attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	if (write(fd, buf, (size_t)n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

int qrtx_res_gpu_pool(struct qrtx_res *r, uint32_t gpu, uint64_t total)
{
	struct qrtx_info info = { 0 };
	char attr[32];
	int ret;

	if (gpu >= QRTX_MAX_GPUS)
		return -EINVAL;
	ret = qrtx_res_info(r, &info);
	if (ret)
		return ret;
	if (gpu < info.gpu_count && info.gpu[gpu].total)
		return 0;
	if (r->backend == QRTX_RES_INPROCESS) {
		struct qrtx_ledger *l = process_ledger;

		if (gpu >= info.gpu_count)
			ret = qrtx_ledger_set_gpu_count(l, gpu + 1);
		if (!ret)
			ret = qrtx_ledger_set_total(l, QRTX_LEDGER_POOL_GPU(gpu), total);
		return ret;
	}
	/* The device's pools are the administrator's; root may size one. */
	if (gpu >= info.gpu_count)
		ret = sysfs_write("gpu_count", gpu + 1);
	snprintf(attr, sizeof(attr), "gpu%u/bytes_total", gpu);
	if (!ret)
		ret = sysfs_write(attr, total);
	return ret;
}

void qrtx_res_close(struct qrtx_res *r)
{
	if (!r)
		return;
	if (r->backend == QRTX_RES_KERNEL)
		close(r->fd);
	else
		process_account_close(r->acct);
	free(r);
}

enum qrtx_res_backend qrtx_res_backend(const struct qrtx_res *r)
{
	return r->backend;
}

const char *qrtx_res_backend_name(const struct qrtx_res *r)
{
	return r->backend == QRTX_RES_KERNEL ? "kernel" : "in-process";
}

static int res_ioctl(struct qrtx_res *r, unsigned long cmd, void *arg)
{
	return ioctl(r->fd, cmd, arg) ? -errno : 0;
}

int qrtx_res_fd(const struct qrtx_res *r)
{
	return r->backend == QRTX_RES_KERNEL ? r->fd : -1;
}

int qrtx_res_info(struct qrtx_res *r, struct qrtx_info *info)
{
	if (r->backend == QRTX_RES_KERNEL)
		return res_ioctl(r, QRTX_IOC_INFO, info);
	return qrtx_account_info(r->acct, info);
}

int qrtx_res_reserve(struct qrtx_res *r, struct qrtx_reserve *req)
{
	if (r->backend == QRTX_RES_KERNEL)
		return res_ioctl(r, QRTX_IOC_RESERVE, req);
	return qrtx_account_reserve(r->acct, req);
}

int qrtx_res_release(struct qrtx_res *r, uint64_t handle)
{
	struct qrtx_release rel = { .handle = handle };

	if (r->backend == QRTX_RES_KERNEL)
		return res_ioctl(r, QRTX_IOC_RELEASE, &rel);
	return qrtx_account_release(r->acct, handle);
}

int qrtx_res_list(struct qrtx_res *r, struct qrtx_list *lst)
{
	if (r->backend == QRTX_RES_KERNEL)
		return res_ioctl(r, QRTX_IOC_LIST, lst);
	return qrtx_account_list(r->acct, lst);
}
