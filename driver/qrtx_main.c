// SPDX-License-Identifier: GPL-2.0
/*
 * QRTX: /dev/qrtx, a ledger of quantum-simulation resources per open file.
 *
 * Every open file description holds reservations of three kinds of pool:
 * logical qubits, host state-vector bytes, and bytes on each configured
 * GPU. Whatever a file holds returns to the pools in .release, so no
 * process can leak capacity by exiting or being killed.
 */
#include <linux/compat.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "qrtx.h"
#include "qrtx_uring_compat.h"

struct qrtx_dev qrtx_dev = {
	.lock = __SPIN_LOCK_UNLOCKED(qrtx_dev.lock),
	.files = LIST_HEAD_INIT(qrtx_dev.files),
	.waiters = LIST_HEAD_INIT(qrtx_dev.waiters),
	.wq = __WAIT_QUEUE_HEAD_INITIALIZER(qrtx_dev.wq),
};

static unsigned long long qubits = 64;
module_param(qubits, ullong, 0444);
MODULE_PARM_DESC(qubits, "Logical qubits in the pool at load (default 64)");

static unsigned long long host_bytes;
module_param(host_bytes, ullong, 0444);
MODULE_PARM_DESC(host_bytes, "Host state-vector bytes in the pool at load (default: half of RAM)");

static unsigned int gpus;
module_param(gpus, uint, 0444);
MODULE_PARM_DESC(gpus, "Number of GPU memory pools at load (0-16)");

static unsigned long long gpu_bytes[QRTX_MAX_GPUS];
static int nr_gpu_bytes;
module_param_array(gpu_bytes, ullong, &nr_gpu_bytes, 0444);
MODULE_PARM_DESC(gpu_bytes, "Bytes in each GPU's pool at load, comma separated");

unsigned int qrtx_max_reservations = 1024;
module_param_named(max_reservations, qrtx_max_reservations, uint, 0644);
MODULE_PARM_DESC(max_reservations, "Reservations one open file may hold (default 1024)");

static int qrtx_open(struct inode *inode, struct file *file)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_file *qf;

	qf = kzalloc(sizeof(*qf), GFP_KERNEL_ACCOUNT);
	if (!qf)
		return -ENOMEM;
	qrtx_file_init(qf);
	qf->tgid = task_tgid_nr(current);
	qf->uid = current_uid();
	get_task_comm(qf->comm, current);
	qf->opened_ns = ktime_get_boottime_ns();

	spin_lock(&d->lock);
	list_add_tail(&qf->node, &d->files);
	d->open_files++;
	spin_unlock(&d->lock);

	file->private_data = qf;
	return stream_open(inode, file);
}

static int qrtx_release_file(struct inode *inode, struct file *file)
{
	struct qrtx_file *qf = file->private_data;

	qrtx_file_reclaim(qf);
	kfree(qf);
	return 0;
}

static long qrtx_ioc_info(void __user *arg)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_info info;
	u32 i;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	if (info.flags || memchr_inv(info.reserved, 0, sizeof(info.reserved)))
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.abi_version = QRTX_ABI_VERSION;
	info.max_gpus = QRTX_MAX_GPUS;
	spin_lock(&d->lock);
	info.gpu_count = d->gpu_count;
	info.qubits.total = d->pool[QRTX_POOL_QUBITS].total;
	info.qubits.used = d->pool[QRTX_POOL_QUBITS].used;
	info.host_bytes.total = d->pool[QRTX_POOL_HOST].total;
	info.host_bytes.used = d->pool[QRTX_POOL_HOST].used;
	for (i = 0; i < d->gpu_count; i++) {
		info.gpu[i].total = d->pool[QRTX_POOL_GPU(i)].total;
		info.gpu[i].used = d->pool[QRTX_POOL_GPU(i)].used;
	}
	spin_unlock(&d->lock);

	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long qrtx_ioc_reserve(struct qrtx_file *qf, void __user *arg,
			     bool may_block)
{
	struct qrtx_reserve __user *ureq = arg;
	struct qrtx_reserve req;
	long ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = qrtx_reserve(qf, &req, may_block);
	if (ret)
		return ret;
	if (put_user(req.handle, &ureq->handle)) {
		/* The caller cannot learn the handle: take the grant back. */
		qrtx_release(qf, req.handle);
		return -EFAULT;
	}
	return 0;
}

static long qrtx_ioc_release(struct qrtx_file *qf, void __user *arg)
{
	struct qrtx_release rel;

	if (copy_from_user(&rel, arg, sizeof(rel)))
		return -EFAULT;
	if (rel.flags || rel.reserved)
		return -EINVAL;
	return qrtx_release(qf, rel.handle);
}

static long qrtx_ioc_list(struct qrtx_file *qf, void __user *arg)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_resv_desc *descs = NULL;
	struct qrtx_list lst;
	struct qrtx_resv *r;
	u32 cap, held, n = 0;
	long ret = 0;

	if (copy_from_user(&lst, arg, sizeof(lst)))
		return -EFAULT;
	if (lst.flags || lst.reserved)
		return -EINVAL;

	/* A file never holds more than qrtx_max_reservations. */
	cap = min(lst.count, READ_ONCE(qrtx_max_reservations));
	if (cap) {
		descs = kvcalloc(cap, sizeof(*descs), GFP_KERNEL_ACCOUNT);
		if (!descs)
			return -ENOMEM;
	}

	spin_lock(&d->lock);
	held = qf->nr_resvs;
	if (lst.count && held <= cap) {
		list_for_each_entry(r, &qf->resvs, node) {
			struct qrtx_resv_desc *e = &descs[n++];

			e->handle = r->handle;
			e->tag = r->tag;
			e->qubits = r->qubits;
			e->host_bytes = r->host_bytes;
			e->gpu_bytes = r->gpu_bytes;
			e->gpu_index = r->gpu_index;
			e->granted_ns = r->granted_ns;
		}
	}
	spin_unlock(&d->lock);

	if (lst.count && held > lst.count)
		ret = -EOVERFLOW;
	else if (n && copy_to_user(u64_to_user_ptr(lst.entries), descs,
				   array_size(n, sizeof(*descs))))
		ret = -EFAULT;
	kvfree(descs);

	if (ret == -EFAULT)
		return ret;
	lst.count = held;
	if (copy_to_user(arg, &lst, sizeof(lst)))
		return -EFAULT;
	return ret;
}

static long qrtx_dispatch(struct file *file, unsigned int cmd,
			  void __user *arg, bool may_block)
{
	struct qrtx_file *qf = file->private_data;

	switch (cmd) {
	case QRTX_IOC_INFO:
		return qrtx_ioc_info(arg);
	case QRTX_IOC_RESERVE:
		return qrtx_ioc_reserve(qf, arg, may_block);
	case QRTX_IOC_RELEASE:
		return qrtx_ioc_release(qf, arg);
	case QRTX_IOC_LIST:
		return qrtx_ioc_list(qf, arg);
	default:
		return -ENOTTY;
	}
}

static long qrtx_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return qrtx_dispatch(file, cmd, (void __user *)arg, true);
}

static bool qrtx_known_cmd(u32 cmd)
{
	return cmd == QRTX_IOC_INFO || cmd == QRTX_IOC_RESERVE ||
	       cmd == QRTX_IOC_RELEASE || cmd == QRTX_IOC_LIST;
}

/*
 * Every command completes inline; RESERVE must be non-blocking here, so
 * an event loop waits for capacity with IORING_OP_POLL_ADD instead.
 */
static int qrtx_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct qrtx_uring_cmd pl;
	long ret;

	if (!(issue_flags & IO_URING_F_SQE128)) {
		ret = -EINVAL;
		goto done;
	}
	/* The SQE is shared with userspace: read it once, then validate. */
	memcpy(&pl, qrtx_uring_payload(ioucmd), sizeof(pl));
	barrier();

	if (!qrtx_known_cmd(ioucmd->cmd_op))
		ret = -ENOTTY;
	else if (pl.flags || pl.reserved[0] || pl.reserved[1] ||
		 pl.len != _IOC_SIZE(ioucmd->cmd_op))
		ret = -EINVAL;
	else
		ret = qrtx_dispatch(ioucmd->file, ioucmd->cmd_op,
				    u64_to_user_ptr(pl.addr), false);
done:
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags);
	return -EIOCBQUEUED;
}

static __poll_t qrtx_poll(struct file *file, poll_table *wait)
{
	struct qrtx_file *qf = file->private_data;

	poll_wait(file, &qrtx_dev.wq, wait);
	if (atomic64_read(&qrtx_dev.return_seq) != READ_ONCE(qf->fail_seq))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

static void qrtx_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct qrtx_file *qf = file->private_data;
	u64 held[QRTX_NR_POOLS];
	unsigned int nr, i;

	spin_lock(&qrtx_dev.lock);
	memcpy(held, qf->held, sizeof(held));
	nr = qf->nr_resvs;
	spin_unlock(&qrtx_dev.lock);

	seq_printf(m, "qrtx-owner-tgid:\t%d\n", qf->tgid);
	seq_printf(m, "qrtx-owner-comm:\t%s\n", qf->comm);
	seq_printf(m, "qrtx-owner-uid:\t%u\n",
		   from_kuid_munged(seq_user_ns(m), qf->uid));
	seq_printf(m, "qrtx-reservations:\t%u\n", nr);
	seq_printf(m, "qrtx-qubits:\t%llu\n", held[QRTX_POOL_QUBITS]);
	seq_printf(m, "qrtx-host-bytes:\t%llu\n", held[QRTX_POOL_HOST]);
	for (i = 0; i < QRTX_MAX_GPUS; i++)
		if (held[QRTX_POOL_GPU(i)])
			seq_printf(m, "qrtx-gpu%u-bytes:\t%llu\n", i,
				   held[QRTX_POOL_GPU(i)]);
}

static const struct file_operations qrtx_fops = {
	.owner		= THIS_MODULE,
	.open		= qrtx_open,
	.release	= qrtx_release_file,
	.unlocked_ioctl	= qrtx_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= qrtx_uring_cmd,
	.poll		= qrtx_poll,
	.show_fdinfo	= qrtx_show_fdinfo,
};

static int __init qrtx_init(void)
{
	struct qrtx_dev *d = &qrtx_dev;
	int i, err;

	if (gpus > QRTX_MAX_GPUS) {
		pr_err("qrtx: gpus=%u exceeds the maximum of %d\n", gpus,
		       QRTX_MAX_GPUS);
		return -EINVAL;
	}
	d->pool[QRTX_POOL_QUBITS].total = qubits;
	d->pool[QRTX_POOL_HOST].total = host_bytes ? host_bytes :
		((u64)totalram_pages() << PAGE_SHIFT) / 2;
	d->gpu_count = gpus;
	for (i = 0; i < nr_gpu_bytes; i++)
		d->pool[QRTX_POOL_GPU(i)].total = gpu_bytes[i];

	qrtx_sysfs_init();
	d->misc.minor = MISC_DYNAMIC_MINOR;
	d->misc.name = "qrtx";
	d->misc.fops = &qrtx_fops;
	d->misc.groups = qrtx_attr_groups;
	err = misc_register(&d->misc);
	if (err)
		return err;
	qrtx_debugfs_init();
	return 0;
}

static void __exit qrtx_exit(void)
{
	qrtx_debugfs_exit();
	misc_deregister(&qrtx_dev.misc);
}

module_init(qrtx_init);
module_exit(qrtx_exit);

MODULE_DESCRIPTION("QRTX quantum-simulation resource ledger");
MODULE_AUTHOR("QRTX developers");
MODULE_LICENSE("GPL");
