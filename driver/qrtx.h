/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QRTX driver internals: the pools, the per-file ledgers and the waiters.
 *
 * There is one device, so its state is one static instance (qrtx_dev).
 * Everything that changes on a grant or a return of capacity is protected
 * by qrtx_dev.lock: pools, every ledger's reservation list and totals, the
 * wait list and the counters. Critical sections never sleep; allocations
 * and user copies happen outside the lock.
 */
#ifndef _QRTX_H
#define _QRTX_H

#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <uapi/linux/qrtx.h>

/* Pool indices: one bit each in a pool mask. */
#define QRTX_POOL_QUBITS	0
#define QRTX_POOL_HOST		1
#define QRTX_POOL_GPU(i)	(2 + (i))
#define QRTX_NR_POOLS		QRTX_POOL_GPU(QRTX_MAX_GPUS)

struct qrtx_pool {
	u64 total;
	u64 used;
	u64 peak;
	u64 reclaimed;	/* returned by .release rather than RELEASE */
};

/* The non-zero parts of one request: at most qubits, host and one GPU. */
struct qrtx_ask {
	unsigned int nr;
	struct {
		unsigned int pool;
		u64 amount;
	} part[3];
};

struct qrtx_resv {
	struct list_head node;		/* in qrtx_file.resvs, oldest first */
	u64 handle;
	u64 tag;
	u64 qubits;
	u64 host_bytes;
	u64 gpu_bytes;
	u32 gpu_index;
	u64 granted_ns;
};

/* One open file description of /dev/qrtx: the ledger. */
struct qrtx_file {
	struct list_head node;		/* in qrtx_dev.files */
	struct list_head resvs;
	unsigned int nr_resvs;
	u64 held[QRTX_NR_POOLS];
	/* return_seq seen at this file's last failed RESERVE (or open) */
	u64 fail_seq;

	/* the opener, for display only: ownership is the file's */
	pid_t tgid;
	kuid_t uid;
	char comm[TASK_COMM_LEN];
	u64 opened_ns;
};

/* A thread sleeping in RESERVE; lives on that thread's stack. */
struct qrtx_waiter {
	struct list_head node;		/* in qrtx_dev.waiters, FIFO */
	struct qrtx_file *qf;
	struct qrtx_resv *resv;		/* filled in, linked on grant */
	struct qrtx_ask ask;
	int status;			/* 1 waiting, 0 granted, or -errno */
};

struct qrtx_dev {
	spinlock_t lock;
	struct qrtx_pool pool[QRTX_NR_POOLS];
	u32 gpu_count;
	struct list_head files;
	struct list_head waiters;
	u64 open_files;
	u64 nr_waiters;
	u64 granted;
	u64 failed;
	u64 released;
	u64 reclaimed;
	u64 active;
	u64 next_handle;

	/*
	 * Bumped (under lock) whenever capacity returns to a pool; poll()
	 * compares it with a file's fail_seq without the lock.
	 */
	atomic64_t return_seq;
	/* blocked RESERVE callers and poll()ers */
	wait_queue_head_t wq;

	struct miscdevice misc;
	struct dentry *debugfs;
};

extern struct qrtx_dev qrtx_dev;
extern unsigned int qrtx_max_reservations;
extern const struct attribute_group *qrtx_attr_groups[];

/* qrtx_pool.c */
void qrtx_file_init(struct qrtx_file *qf);
void qrtx_file_reclaim(struct qrtx_file *qf);
long qrtx_reserve(struct qrtx_file *qf, struct qrtx_reserve *req,
		  bool may_block);
long qrtx_release(struct qrtx_file *qf, u64 handle);
int qrtx_set_total(unsigned int pool, u64 total);
int qrtx_set_gpu_count(u32 count);

/* qrtx_sysfs.c */
void qrtx_sysfs_init(void);
void qrtx_debugfs_init(void);
void qrtx_debugfs_exit(void);

#endif /* _QRTX_H */
