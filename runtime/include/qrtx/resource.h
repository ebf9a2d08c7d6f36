/* SPDX-License-Identifier: MIT */
/*
 * Resource client: reservations through /dev/qrtx when the module is
 * loaded, otherwise through an in-process ledger with the same rules.
 * The caller sees one interface and which backend answered.
 */
#ifndef QRTX_RESOURCE_H
#define QRTX_RESOURCE_H

#include <stdint.h>
#include <linux/qrtx.h>

struct qrtx_res;

enum qrtx_res_backend {
	QRTX_RES_KERNEL,	/* /dev/qrtx: survives a crash of this process */
	QRTX_RES_INPROCESS,	/* ledger inside this process */
};

/* Open the device at @path (NULL: /dev/qrtx), or fall back in-process
 * when it does not exist. Returns 0 or -errno. */
int qrtx_res_open(const char *path, struct qrtx_res **out);
/* Returns everything still held, as the kernel does at close. */
void qrtx_res_close(struct qrtx_res *r);

enum qrtx_res_backend qrtx_res_backend(const struct qrtx_res *r);
/* The device's file (to poll for returned capacity), -1 in-process. */
int qrtx_res_fd(const struct qrtx_res *r);
const char *qrtx_res_backend_name(const struct qrtx_res *r);

int qrtx_res_info(struct qrtx_res *r, struct qrtx_info *info);
int qrtx_res_reserve(struct qrtx_res *r, struct qrtx_reserve *req);
int qrtx_res_release(struct qrtx_res *r, uint64_t handle);
int qrtx_res_list(struct qrtx_res *r, struct qrtx_list *lst);
/* Give GPU pool gpu a total of total bytes when it has none: in-process
 * always, on the device through sysfs when this process may (root).
 * 0 when the pool has a total afterwards. */
int qrtx_res_gpu_pool(struct qrtx_res *r, uint32_t gpu, uint64_t total);

#endif
