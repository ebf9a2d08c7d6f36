// SPDX-License-Identifier: GPL-2.0
/*
 * QRTX pools: all-or-nothing grants, FIFO waiters, reclaim on release.
 *
 * Fairness policy: waiters are served in arrival order per pool. A
 * request, new or waiting, is granted only when it fits and no earlier
 * waiter asking for one of the same pools is still waiting. A large
 * request is therefore never overtaken on its pools by later small ones,
 * while requests for disjoint pools are not held up by it.
 */
#include <linux/bitops.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "qrtx.h"

static u64 qrtx_ask_mask(const struct qrtx_ask *ask)
{
	u64 mask = 0;
	unsigned int i;

	for (i = 0; i < ask->nr; i++)
		mask |= BIT_ULL(ask->part[i].pool);
	return mask;
}

static void qrtx_ask_add(struct qrtx_ask *ask, unsigned int pool, u64 amount)
{
	if (!amount)
		return;
	ask->part[ask->nr].pool = pool;
	ask->part[ask->nr].amount = amount;
	ask->nr++;
}

static void qrtx_ask_of(struct qrtx_ask *ask, u64 qubits, u64 host_bytes,
			u64 gpu_bytes, u32 gpu_index)
{
	ask->nr = 0;
	qrtx_ask_add(ask, QRTX_POOL_QUBITS, qubits);
	qrtx_ask_add(ask, QRTX_POOL_HOST, host_bytes);
	qrtx_ask_add(ask, QRTX_POOL_GPU(gpu_index), gpu_bytes);
}

/* Whether the request can ever be met with the current configuration. */
static int qrtx_ask_possible(const struct qrtx_ask *ask, const struct qrtx_resv *r)
{
	struct qrtx_dev *d = &qrtx_dev;
	unsigned int i;

	lockdep_assert_held(&d->lock);
	if (r->gpu_bytes && r->gpu_index >= d->gpu_count)
		return -ENODEV;
	for (i = 0; i < ask->nr; i++)
		if (ask->part[i].amount > d->pool[ask->part[i].pool].total)
			return -ENOSPC;
	return 0;
}

static bool qrtx_ask_fits(const struct qrtx_ask *ask)
{
	struct qrtx_dev *d = &qrtx_dev;
	unsigned int i;

	for (i = 0; i < ask->nr; i++) {
		const struct qrtx_pool *p = &d->pool[ask->part[i].pool];

		if (p->used > p->total || ask->part[i].amount > p->total - p->used)
			return false;
	}
	return true;
}

/* Pools that waiters queued so far are still waiting for. */
static u64 qrtx_waiting_mask(void)
{
	struct qrtx_waiter *w;
	u64 mask = 0;

	list_for_each_entry(w, &qrtx_dev.waiters, node)
		mask |= qrtx_ask_mask(&w->ask);
	return mask;
}

static void qrtx_take(struct qrtx_file *qf, const struct qrtx_ask *ask,
		      struct qrtx_resv *r)
{
	struct qrtx_dev *d = &qrtx_dev;
	unsigned int i;

	for (i = 0; i < ask->nr; i++) {
		struct qrtx_pool *p = &d->pool[ask->part[i].pool];

		p->used += ask->part[i].amount;
		p->peak = max(p->peak, p->used);
		qf->held[ask->part[i].pool] += ask->part[i].amount;
	}
	r->handle = ++d->next_handle;
	r->granted_ns = ktime_get_boottime_ns();
	list_add_tail(&r->node, &qf->resvs);
	qf->nr_resvs++;
	d->granted++;
	d->active++;
}

/*
 * Grant what the freed capacity allows, in FIFO order per pool, and fail
 * waiters whose request can no longer be met at all. Returns whether any
 * waiter changed state.
 */
static bool qrtx_serve_waiters(void)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_waiter *w, *tmp;
	u64 blocked = 0;
	bool woke = false;

	lockdep_assert_held(&d->lock);
	list_for_each_entry_safe(w, tmp, &d->waiters, node) {
		u64 mask = qrtx_ask_mask(&w->ask);
		int err = qrtx_ask_possible(&w->ask, w->resv);

		if (!err && w->qf->nr_resvs >= qrtx_max_reservations)
			err = -EDQUOT;
		if (!err && ((mask & blocked) || !qrtx_ask_fits(&w->ask))) {
			blocked |= mask;
			continue;
		}
		if (!err)
			qrtx_take(w->qf, &w->ask, w->resv);
		else
			d->failed++;
		list_del_init(&w->node);
		d->nr_waiters--;
		WRITE_ONCE(w->status, err);
		woke = true;
	}
	return woke;
}

/* Capacity came back: let waiters and pollers see it. */
static void qrtx_capacity_returned(void)
{
	lockdep_assert_held(&qrtx_dev.lock);
	atomic64_inc(&qrtx_dev.return_seq);
	qrtx_serve_waiters();
}

static void qrtx_return(struct qrtx_file *qf, struct qrtx_resv *r, bool reclaim)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_ask ask;
	unsigned int i;

	qrtx_ask_of(&ask, r->qubits, r->host_bytes, r->gpu_bytes, r->gpu_index);
	for (i = 0; i < ask.nr; i++) {
		struct qrtx_pool *p = &d->pool[ask.part[i].pool];

		p->used -= ask.part[i].amount;
		if (reclaim)
			p->reclaimed += ask.part[i].amount;
		qf->held[ask.part[i].pool] -= ask.part[i].amount;
	}
	list_del(&r->node);
	qf->nr_resvs--;
	d->active--;
	if (reclaim)
		d->reclaimed++;
	else
		d->released++;
}

void qrtx_file_init(struct qrtx_file *qf)
{
	INIT_LIST_HEAD(&qf->resvs);
	qf->fail_seq = atomic64_read(&qrtx_dev.return_seq);
}

/* .release: everything the ledger still holds goes back to the pools. */
void qrtx_file_reclaim(struct qrtx_file *qf)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_resv *r, *tmp;
	LIST_HEAD(freed);

	spin_lock(&d->lock);
	list_del(&qf->node);
	d->open_files--;
	list_for_each_entry_safe(r, tmp, &qf->resvs, node) {
		qrtx_return(qf, r, true);
		list_add(&r->node, &freed);
	}
	if (!list_empty(&freed))
		qrtx_capacity_returned();
	spin_unlock(&d->lock);

	if (!list_empty(&freed))
		wake_up_all(&d->wq);
	list_for_each_entry_safe(r, tmp, &freed, node)
		kfree(r);
}

static void qrtx_note_failure(struct qrtx_file *qf)
{
	lockdep_assert_held(&qrtx_dev.lock);
	qrtx_dev.failed++;
	WRITE_ONCE(qf->fail_seq, atomic64_read(&qrtx_dev.return_seq));
}

static int qrtx_wait(struct qrtx_waiter *w, u64 timeout_ns)
{
	if (!timeout_ns || timeout_ns > KTIME_MAX)
		return wait_event_interruptible(qrtx_dev.wq,
						READ_ONCE(w->status) <= 0);
	return wait_event_interruptible_hrtimeout(qrtx_dev.wq,
						  READ_ONCE(w->status) <= 0,
						  ns_to_ktime(timeout_ns));
}

/*
 * Grant @req at once if it fits and no earlier waiter wants its pools;
 * otherwise fail (NONBLOCK) or sleep until the waiter list serves it.
 */
long qrtx_reserve(struct qrtx_file *qf, struct qrtx_reserve *req,
		  bool may_block)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_waiter w = { .qf = qf, .status = 1 };
	bool nonblock = req->flags & QRTX_RESERVE_NONBLOCK;
	struct qrtx_resv *r;
	int err, wait_err;

	if (req->flags & ~QRTX_RESERVE_FLAGS || req->handle ||
	    req->reserved[0] || req->reserved[1] || req->reserved[2])
		return -EINVAL;
	if (!req->qubits && !req->host_bytes && !req->gpu_bytes)
		return -EINVAL;
	if (!req->gpu_bytes && req->gpu_index)
		return -EINVAL;
	if (req->gpu_bytes && req->gpu_index >= QRTX_MAX_GPUS)
		return -ENODEV;
	if (!nonblock && !may_block)
		return -EINVAL;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->tag = req->tag;
	r->qubits = req->qubits;
	r->host_bytes = req->host_bytes;
	r->gpu_bytes = req->gpu_bytes;
	r->gpu_index = req->gpu_index;
	qrtx_ask_of(&w.ask, r->qubits, r->host_bytes, r->gpu_bytes, r->gpu_index);
	w.resv = r;

	spin_lock(&d->lock);
	err = qrtx_ask_possible(&w.ask, r);
	if (err == -ENOSPC)
		qrtx_note_failure(qf);
	if (!err && qf->nr_resvs >= qrtx_max_reservations)
		err = -EDQUOT;
	if (!err) {
		if (!(qrtx_waiting_mask() & qrtx_ask_mask(&w.ask)) &&
		    qrtx_ask_fits(&w.ask)) {
			qrtx_take(qf, &w.ask, r);
			w.status = 0;
		} else if (nonblock) {
			qrtx_note_failure(qf);
			err = -EAGAIN;
		} else {
			list_add_tail(&w.node, &d->waiters);
			d->nr_waiters++;
		}
	}
	spin_unlock(&d->lock);

	if (err) {
		kfree(r);
		return err;
	}
	if (w.status == 0)
		goto granted;

	wait_err = qrtx_wait(&w, req->timeout_ns);

	spin_lock(&d->lock);
	if (w.status == 1) {
		/* Timed out or interrupted while still queued. */
		list_del(&w.node);
		d->nr_waiters--;
		qrtx_note_failure(qf);
		/* Leaving the queue may unblock waiters behind us. */
		if (qrtx_serve_waiters())
			wake_up_all(&d->wq);
		if (wait_err == -ETIME)
			w.status = -ETIMEDOUT;
		else
			w.status = req->timeout_ns ? -EINTR : -ERESTARTSYS;
	} else if (w.status < 0) {
		WRITE_ONCE(qf->fail_seq, atomic64_read(&d->return_seq));
	}
	spin_unlock(&d->lock);

	if (w.status) {
		kfree(r);
		return w.status;
	}
granted:
	req->handle = r->handle;
	return 0;
}

static struct qrtx_resv *qrtx_find(struct qrtx_file *qf, u64 handle)
{
	struct qrtx_resv *r;

	list_for_each_entry(r, &qf->resvs, node)
		if (r->handle == handle)
			return r;
	return NULL;
}

long qrtx_release(struct qrtx_file *qf, u64 handle)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_resv *r;

	spin_lock(&d->lock);
	r = qrtx_find(qf, handle);
	if (r) {
		qrtx_return(qf, r, false);
		qrtx_capacity_returned();
	}
	spin_unlock(&d->lock);

	if (!r)
		return -ENOENT;
	wake_up_all(&d->wq);
	kfree(r);
	return 0;
}

/* Administrators resize a pool; never below what is in use. */
int qrtx_set_total(unsigned int pool, u64 total)
{
	struct qrtx_dev *d = &qrtx_dev;
	struct qrtx_pool *p = &d->pool[pool];
	int err = 0;

	spin_lock(&d->lock);
	if (total < p->used) {
		err = -EBUSY;
	} else if (total > p->total) {
		p->total = total;
		qrtx_capacity_returned();
	} else {
		p->total = total;
		/* Waiters that can no longer be met fail now. */
		qrtx_serve_waiters();
	}
	spin_unlock(&d->lock);
	wake_up_all(&d->wq);
	return err;
}

int qrtx_set_gpu_count(u32 count)
{
	struct qrtx_dev *d = &qrtx_dev;
	int err = 0;
	u32 i;

	if (count > QRTX_MAX_GPUS)
		return -EINVAL;
	spin_lock(&d->lock);
	for (i = count; i < d->gpu_count; i++)
		if (d->pool[QRTX_POOL_GPU(i)].used)
			err = -EBUSY;
	if (!err) {
		bool grew = count > d->gpu_count;

		d->gpu_count = count;
		if (grew)
			qrtx_capacity_returned();
		else
			qrtx_serve_waiters();
	}
	spin_unlock(&d->lock);
	wake_up_all(&d->wq);
	return err;
}
