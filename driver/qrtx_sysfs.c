// SPDX-License-Identifier: GPL-2.0
/*
 * QRTX visibility: sysfs attributes of the misc device (one value per
 * file, see Documentation/ABI/testing/sysfs-class-misc-qrtx) and the
 * debugfs holders table.
 */
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>

#include "qrtx.h"

enum qrtx_pool_field { QRTX_TOTAL, QRTX_USED, QRTX_PEAK, QRTX_RECLAIMED };

struct qrtx_pool_attr {
	struct device_attribute attr;
	unsigned int pool;
	enum qrtx_pool_field field;
};

static u64 qrtx_pool_field(const struct qrtx_pool *p, enum qrtx_pool_field f)
{
	switch (f) {
	case QRTX_TOTAL:
		return p->total;
	case QRTX_USED:
		return p->used;
	case QRTX_PEAK:
		return p->peak;
	default:
		return p->reclaimed;
	}
}

static ssize_t pool_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct qrtx_pool_attr *pa = container_of(attr, struct qrtx_pool_attr, attr);
	u64 val;

	spin_lock(&qrtx_dev.lock);
	val = qrtx_pool_field(&qrtx_dev.pool[pa->pool], pa->field);
	spin_unlock(&qrtx_dev.lock);
	return sysfs_emit(buf, "%llu\n", val);
}

static ssize_t pool_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct qrtx_pool_attr *pa = container_of(attr, struct qrtx_pool_attr, attr);
	u64 val;
	int err;

	err = kstrtou64(buf, 0, &val);
	if (err)
		return err;
	err = qrtx_set_total(pa->pool, val);
	return err ? err : count;
}

#define QRTX_POOL_ATTR(_var, _name, _mode, _pool, _field)		\
	static struct qrtx_pool_attr _var = {				\
		.attr = __ATTR(_name, _mode, pool_show, pool_store),	\
		.pool = _pool,						\
		.field = _field,					\
	}

QRTX_POOL_ATTR(qubits_total, qubits_total, 0644, QRTX_POOL_QUBITS, QRTX_TOTAL);
QRTX_POOL_ATTR(qubits_used, qubits_used, 0444, QRTX_POOL_QUBITS, QRTX_USED);
QRTX_POOL_ATTR(qubits_peak, qubits_peak, 0444, QRTX_POOL_QUBITS, QRTX_PEAK);
QRTX_POOL_ATTR(qubits_reclaimed, qubits_reclaimed, 0444, QRTX_POOL_QUBITS, QRTX_RECLAIMED);
QRTX_POOL_ATTR(host_total, host_bytes_total, 0644, QRTX_POOL_HOST, QRTX_TOTAL);
QRTX_POOL_ATTR(host_used, host_bytes_used, 0444, QRTX_POOL_HOST, QRTX_USED);
QRTX_POOL_ATTR(host_peak, host_bytes_peak, 0444, QRTX_POOL_HOST, QRTX_PEAK);
QRTX_POOL_ATTR(host_reclaimed, host_bytes_reclaimed, 0444, QRTX_POOL_HOST, QRTX_RECLAIMED);

/* Device-wide counters, read under the lock so related values agree. */
#define QRTX_COUNTER_ATTR(_name, _expr)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	u64 val;							\
									\
	spin_lock(&qrtx_dev.lock);					\
	val = (_expr);							\
	spin_unlock(&qrtx_dev.lock);					\
	return sysfs_emit(buf, "%llu\n", val);				\
}									\
static DEVICE_ATTR_RO(_name)

QRTX_COUNTER_ATTR(open_files, qrtx_dev.open_files);
QRTX_COUNTER_ATTR(waiters, qrtx_dev.nr_waiters);
QRTX_COUNTER_ATTR(reservations_granted, qrtx_dev.granted);
QRTX_COUNTER_ATTR(reservations_failed, qrtx_dev.failed);
QRTX_COUNTER_ATTR(reservations_released, qrtx_dev.released);
QRTX_COUNTER_ATTR(reservations_reclaimed, qrtx_dev.reclaimed);
QRTX_COUNTER_ATTR(reservations_active, qrtx_dev.active);

static ssize_t abi_version_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", QRTX_ABI_VERSION);
}
static DEVICE_ATTR_RO(abi_version);

static ssize_t gpu_count_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(qrtx_dev.gpu_count));
}

static ssize_t gpu_count_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	u32 val;
	int err;

	err = kstrtou32(buf, 0, &val);
	if (err)
		return err;
	err = qrtx_set_gpu_count(val);
	return err ? err : count;
}
static DEVICE_ATTR_RW(gpu_count);

static struct attribute *qrtx_attrs[] = {
	&dev_attr_abi_version.attr,
	&qubits_total.attr.attr,
	&qubits_used.attr.attr,
	&qubits_peak.attr.attr,
	&qubits_reclaimed.attr.attr,
	&host_total.attr.attr,
	&host_used.attr.attr,
	&host_peak.attr.attr,
	&host_reclaimed.attr.attr,
	&dev_attr_gpu_count.attr,
	&dev_attr_open_files.attr,
	&dev_attr_waiters.attr,
	&dev_attr_reservations_granted.attr,
	&dev_attr_reservations_failed.attr,
	&dev_attr_reservations_released.attr,
	&dev_attr_reservations_reclaimed.attr,
	&dev_attr_reservations_active.attr,
	NULL
};

static const struct attribute_group qrtx_group = {
	.attrs = qrtx_attrs,
};

/* gpu<N>/ directories: the same four figures for each GPU pool. */
static const char * const qrtx_gpu_field_names[] = {
	[QRTX_TOTAL] = "bytes_total",
	[QRTX_USED] = "bytes_used",
	[QRTX_PEAK] = "bytes_peak",
	[QRTX_RECLAIMED] = "bytes_reclaimed",
};

#define QRTX_GPU_FIELDS ARRAY_SIZE(qrtx_gpu_field_names)

static struct qrtx_pool_attr qrtx_gpu_attrs[QRTX_MAX_GPUS][QRTX_GPU_FIELDS];
static struct attribute *qrtx_gpu_attr_ptrs[QRTX_MAX_GPUS][QRTX_GPU_FIELDS + 1];
static char qrtx_gpu_names[QRTX_MAX_GPUS][8];
static struct attribute_group qrtx_gpu_groups[QRTX_MAX_GPUS];

const struct attribute_group *qrtx_attr_groups[QRTX_MAX_GPUS + 2] = {
	&qrtx_group,
};

void qrtx_sysfs_init(void)
{
	unsigned int g, f;

	for (g = 0; g < QRTX_MAX_GPUS; g++) {
		for (f = 0; f < QRTX_GPU_FIELDS; f++) {
			struct qrtx_pool_attr *pa = &qrtx_gpu_attrs[g][f];

			sysfs_attr_init(&pa->attr.attr);
			pa->attr.attr.name = qrtx_gpu_field_names[f];
			pa->attr.attr.mode = f == QRTX_TOTAL ? 0644 : 0444;
			pa->attr.show = pool_show;
			pa->attr.store = f == QRTX_TOTAL ? pool_store : NULL;
			pa->pool = QRTX_POOL_GPU(g);
			pa->field = f;
			qrtx_gpu_attr_ptrs[g][f] = &pa->attr.attr;
		}
		snprintf(qrtx_gpu_names[g], sizeof(qrtx_gpu_names[g]), "gpu%u", g);
		qrtx_gpu_groups[g].name = qrtx_gpu_names[g];
		qrtx_gpu_groups[g].attrs = qrtx_gpu_attr_ptrs[g];
		qrtx_attr_groups[g + 1] = &qrtx_gpu_groups[g];
	}
}

/* debugfs qrtx/holders: who holds what, one line per open file. */
static int qrtx_holders_show(struct seq_file *m, void *unused)
{
	struct qrtx_dev *d = &qrtx_dev;
	u64 now = ktime_get_boottime_ns();
	struct qrtx_file *qf;
	unsigned int i;

	seq_puts(m, "tgid comm uid qubits host_bytes gpu_bytes reservations age_ms\n");
	spin_lock(&d->lock);
	list_for_each_entry(qf, &d->files, node) {
		u64 gpu = 0;

		for (i = 0; i < QRTX_MAX_GPUS; i++)
			gpu += qf->held[QRTX_POOL_GPU(i)];
		seq_printf(m, "%d %s %u %llu %llu %llu %u %llu\n", qf->tgid,
			   qf->comm, from_kuid_munged(&init_user_ns, qf->uid),
			   qf->held[QRTX_POOL_QUBITS], qf->held[QRTX_POOL_HOST],
			   gpu, qf->nr_resvs,
			   div_u64(now - qf->opened_ns, NSEC_PER_MSEC));
	}
	spin_unlock(&d->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(qrtx_holders);

void qrtx_debugfs_init(void)
{
	qrtx_dev.debugfs = debugfs_create_dir("qrtx", NULL);
	debugfs_create_file("holders", 0400, qrtx_dev.debugfs, NULL,
			    &qrtx_holders_fops);
}

void qrtx_debugfs_exit(void)
{
	debugfs_remove_recursive(qrtx_dev.debugfs);
}
