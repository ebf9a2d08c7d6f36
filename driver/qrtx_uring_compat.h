/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The uring_cmd interface moved between kernel releases; the driver sees
 * only these helpers.
 *   6.1: payload in ioucmd->cmd, 4-argument io_uring_cmd_done()
 *   6.5: payload through io_uring_sqe_cmd(ioucmd->sqe)
 *   6.8: declarations moved to <linux/io_uring/cmd.h>
 */
#ifndef _QRTX_URING_COMPAT_H
#define _QRTX_URING_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#endif

static inline const void *qrtx_uring_payload(struct io_uring_cmd *ioucmd)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return io_uring_sqe_cmd(ioucmd->sqe);
#else
	return ioucmd->cmd;
#endif
}

#endif /* _QRTX_URING_COMPAT_H */
