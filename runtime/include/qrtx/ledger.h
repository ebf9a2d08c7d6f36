/* SPDX-License-Identifier: MIT */
/*
 * In-process ledger: the accounting of /dev/qrtx for processes that run
 * without the kernel module. Same structs, same rules, same errno values
 * (see Documentation/userspace-api/qrtx.rst); it lives and dies with the
 * process, so only the module adds protection against a crashed runtime.
 *
 * A ledger holds the pools; an account is one holder in it (the
 * counterpart of an open file of /dev/qrtx). Thread-safe.
 */
#ifndef QRTX_LEDGER_H
#define QRTX_LEDGER_H

#include <stdint.h>
#include <linux/qrtx.h>

struct qrtx_ledger;
struct qrtx_account;

/* Pool totals; gpu_count <= QRTX_MAX_GPUS. */
struct qrtx_ledger_config {
	uint64_t qubits;
	uint64_t host_bytes;
	uint32_t gpu_count;
	uint64_t gpu_bytes[QRTX_MAX_GPUS];
	uint32_t max_reservations;	/* per account; 0: 1024 */
};

/* All return 0 or -errno. */
int qrtx_ledger_new(const struct qrtx_ledger_config *cfg, struct qrtx_ledger **out);
/* Every account must have been closed. */
void qrtx_ledger_free(struct qrtx_ledger *l);
int qrtx_ledger_set_total(struct qrtx_ledger *l, unsigned int pool, uint64_t total);
/* Number of GPU pools; -EBUSY when one to be dropped is in use. */
int qrtx_ledger_set_gpu_count(struct qrtx_ledger *l, uint32_t count);

int qrtx_account_open(struct qrtx_ledger *l, struct qrtx_account **out);
/* Returns everything the account holds (counted as reclaimed). */
void qrtx_account_close(struct qrtx_account *a);

int qrtx_account_info(struct qrtx_account *a, struct qrtx_info *info);
int qrtx_account_reserve(struct qrtx_account *a, struct qrtx_reserve *req);
int qrtx_account_release(struct qrtx_account *a, uint64_t handle);
int qrtx_account_list(struct qrtx_account *a, struct qrtx_list *lst);

/* The counters sysfs shows for the module. */
struct qrtx_ledger_stats {
	uint64_t granted, failed, released, reclaimed, active, waiters;
	uint64_t peak[2 + QRTX_MAX_GPUS];
	uint64_t reclaimed_amount[2 + QRTX_MAX_GPUS];
};
void qrtx_ledger_stats(struct qrtx_ledger *l, struct qrtx_ledger_stats *st);

/* Pool indices for qrtx_ledger_set_total() and the stats arrays. */
#define QRTX_LEDGER_POOL_QUBITS	0
#define QRTX_LEDGER_POOL_HOST	1
#define QRTX_LEDGER_POOL_GPU(i)	(2 + (i))

#endif
