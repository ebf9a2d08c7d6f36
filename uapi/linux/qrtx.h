/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * QRTX: accounting of quantum-simulation resources through /dev/qrtx.
 *
 * This is the only header shared by the kernel module and userspace.
 * Every open file of /dev/qrtx is a ledger; what it holds is returned to
 * the pools when the file is released. See
 * Documentation/userspace-api/qrtx.rst for the full contract.
 *
 * Layout rules: only __u32/__u64, explicit padding, pointers as __u64,
 * reserved fields must be zero. Sizes are pinned below so the layout is
 * identical for i386 and x86-64 callers.
 */
#ifndef _UAPI_LINUX_QRTX_H
#define _UAPI_LINUX_QRTX_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define QRTX_ABI_VERSION	1

/* Highest number of GPU memory pools the module can account for. */
#define QRTX_MAX_GPUS		16

/* Magic 0xD7 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define QRTX_IOC_MAGIC		0xD7

/* One pool's figures as reported by INFO. */
struct qrtx_pool_stat {
	__u64 total;
	__u64 used;
};

/*
 * QRTX_IOC_INFO: snapshot of the pools.
 * In: flags and reserved[] must be zero. Everything else is output.
 * gpu[i] is meaningful for i < gpu_count; the rest reads as zero.
 */
struct qrtx_info {
	__u32 abi_version;
	__u32 gpu_count;
	__u32 max_gpus;
	__u32 flags;
	struct qrtx_pool_stat qubits;
	struct qrtx_pool_stat host_bytes;
	struct qrtx_pool_stat gpu[QRTX_MAX_GPUS];
	__u64 reserved[4];
};

/* Fail with -EAGAIN instead of sleeping when capacity is short. */
#define QRTX_RESERVE_NONBLOCK	(1U << 0)
#define QRTX_RESERVE_FLAGS	(QRTX_RESERVE_NONBLOCK)

/*
 * QRTX_IOC_RESERVE: take qubits, host bytes and optionally bytes of one
 * GPU, all or nothing, under one handle.
 * In:  flags, qubits, host_bytes, gpu_bytes (0: no GPU part, then
 *      gpu_index must be 0), gpu_index, timeout_ns (0: no timeout;
 *      ignored with NONBLOCK), tag (opaque, shown by LIST).
 *      handle and reserved[] must be zero.
 * Out: handle, unique for the lifetime of the module.
 */
struct qrtx_reserve {
	__u32 flags;
	__u32 gpu_index;
	__u64 qubits;
	__u64 host_bytes;
	__u64 gpu_bytes;
	__u64 timeout_ns;
	__u64 tag;
	__u64 handle;
	__u64 reserved[3];
};

/* QRTX_IOC_RELEASE: return one reservation of this file. */
struct qrtx_release {
	__u64 handle;
	__u32 flags;
	__u32 reserved;
};

/* One reservation as reported by LIST. */
struct qrtx_resv_desc {
	__u64 handle;
	__u64 tag;
	__u64 qubits;
	__u64 host_bytes;
	__u64 gpu_bytes;
	__u32 gpu_index;
	__u32 reserved;
	__u64 granted_ns;	/* CLOCK_BOOTTIME of the grant */
};

/*
 * QRTX_IOC_LIST: the caller's reservations, oldest first.
 * In:  entries (user pointer to count descriptors), count (capacity),
 *      flags and reserved must be zero.
 * Out: count = reservations held. If they do not fit, nothing is
 *      written but count and the call fails with -EOVERFLOW; a call with
 *      count 0 is a size query and succeeds.
 */
struct qrtx_list {
	__u64 entries;
	__u32 count;
	__u32 flags;
	__u64 reserved;
};

/*
 * io_uring: IORING_OP_URING_CMD on a ring set up with IORING_SETUP_SQE128;
 * sqe->cmd_op is one of the QRTX_IOC_* numbers and the SQE's command area
 * holds this payload, which points at the same struct the ioctl takes.
 * The CQE's res is 0 or -errno. Only non-blocking RESERVE is accepted.
 */
struct qrtx_uring_cmd {
	__u64 addr;	/* user pointer to the command's struct */
	__u32 len;	/* sizeof that struct */
	__u32 flags;	/* must be zero */
	__u64 reserved[2];
};

#define QRTX_IOC_INFO		_IOWR(QRTX_IOC_MAGIC, 0x00, struct qrtx_info)
#define QRTX_IOC_RESERVE	_IOWR(QRTX_IOC_MAGIC, 0x01, struct qrtx_reserve)
#define QRTX_IOC_RELEASE	_IOW(QRTX_IOC_MAGIC, 0x02, struct qrtx_release)
#define QRTX_IOC_LIST		_IOWR(QRTX_IOC_MAGIC, 0x03, struct qrtx_list)

/* Pin every layout; any C11 or C++11 compiler checks it. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define QRTX_STATIC_ASSERT(e, m) static_assert(e, m)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define QRTX_STATIC_ASSERT(e, m) _Static_assert(e, m)
#endif

#ifdef QRTX_STATIC_ASSERT
QRTX_STATIC_ASSERT(sizeof(struct qrtx_pool_stat) == 16, "qrtx_pool_stat layout");
QRTX_STATIC_ASSERT(sizeof(struct qrtx_info) == 336, "qrtx_info layout");
QRTX_STATIC_ASSERT(sizeof(struct qrtx_reserve) == 80, "qrtx_reserve layout");
QRTX_STATIC_ASSERT(sizeof(struct qrtx_release) == 16, "qrtx_release layout");
QRTX_STATIC_ASSERT(sizeof(struct qrtx_resv_desc) == 56, "qrtx_resv_desc layout");
QRTX_STATIC_ASSERT(sizeof(struct qrtx_list) == 24, "qrtx_list layout");
QRTX_STATIC_ASSERT(sizeof(struct qrtx_uring_cmd) == 32, "qrtx_uring_cmd layout");
#undef QRTX_STATIC_ASSERT
#endif

#endif /* _UAPI_LINUX_QRTX_H */
