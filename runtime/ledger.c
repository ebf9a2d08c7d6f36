// SPDX-License-Identifier: MIT
/*
 * In-process ledger with the semantics of /dev/qrtx: all-or-nothing
 * grants, FIFO service per pool, NONBLOCK, timeouts, reclaim on close.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qrtx/ledger.h"

#define NR_POOLS (2 + QRTX_MAX_GPUS)

struct pool {
	uint64_t total, used, peak, reclaimed;
};

struct ask {
	unsigned int nr;
	struct {
		unsigned int pool;
		uint64_t amount;
	} part[3];
};

struct resv {
	struct resv *next;
	struct qrtx_resv_desc d;
};

struct waiter {
	struct waiter *next;
	struct qrtx_account *acct;
	struct ask ask;
	struct resv *resv;
	int status;		/* 1 waiting, 0 granted, or -errno */
};

struct qrtx_ledger {
	pthread_mutex_t lock;	/* everything below and in every account */
	pthread_cond_t served;	/* a waiter's status changed */
	struct pool pool[NR_POOLS];
	uint32_t gpu_count;
	uint32_t max_resv;
	struct waiter *waiters;	/* FIFO */
	uint64_t next_handle;
	uint64_t granted, failed, released, reclaimed, active, nr_waiters;
	unsigned int accounts;
};

struct qrtx_account {
	struct qrtx_ledger *l;
	struct resv *resvs;	/* oldest first */
	unsigned int nr;
};

static struct timespec clock_ns_to_ts(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000u,
			       .tv_nsec = ns % 1000000000u };
	return ts;
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

int qrtx_ledger_new(const struct qrtx_ledger_config *cfg, struct qrtx_ledger **out)
{
	struct qrtx_ledger *l;
	pthread_condattr_t ca;

	if (!cfg || cfg->gpu_count > QRTX_MAX_GPUS)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->served, &ca);
	pthread_condattr_destroy(&ca);
	l->pool[QRTX_LEDGER_POOL_QUBITS].total = cfg->qubits;
	l->pool[QRTX_LEDGER_POOL_HOST].total = cfg->host_bytes;
	for (unsigned int i = 0; i < QRTX_MAX_GPUS; i++)
		l->pool[QRTX_LEDGER_POOL_GPU(i)].total = cfg->gpu_bytes[i];
	l->gpu_count = cfg->gpu_count;
	l->max_resv = cfg->max_reservations ? cfg->max_reservations : 1024;
	*out = l;
	return 0;
}

void qrtx_ledger_free(struct qrtx_ledger *l)
{
	if (!l)
		return;
	pthread_cond_destroy(&l->served);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void ask_add(struct ask *a, unsigned int pool, uint64_t amount)
{
	if (amount) {
		a->part[a->nr].pool = pool;
		a->part[a->nr].amount = amount;
		a->nr++;
	}
}

static void ask_of(struct ask *a, const struct qrtx_resv_desc *d)
{
	a->nr = 0;
	ask_add(a, QRTX_LEDGER_POOL_QUBITS, d->qubits);
	ask_add(a, QRTX_LEDGER_POOL_HOST, d->host_bytes);
	ask_add(a, QRTX_LEDGER_POOL_GPU(d->gpu_index), d->gpu_bytes);
}

static uint64_t ask_mask(const struct ask *a)
{
	uint64_t m = 0;

	for (unsigned int i = 0; i < a->nr; i++)
		m |= 1ull << a->part[i].pool;
	return m;
}

static int ask_possible(const struct qrtx_ledger *l, const struct ask *a,
			const struct qrtx_resv_desc *d)
{
	if (d->gpu_bytes && d->gpu_index >= l->gpu_count)
		return -ENODEV;
	for (unsigned int i = 0; i < a->nr; i++)
		if (a->part[i].amount > l->pool[a->part[i].pool].total)
			return -ENOSPC;
	return 0;
}

static bool ask_fits(const struct qrtx_ledger *l, const struct ask *a)
{
	for (unsigned int i = 0; i < a->nr; i++) {
		const struct pool *p = &l->pool[a->part[i].pool];

		if (a->part[i].amount > p->total - p->used)
			return false;
	}
	return true;
}

static void take(struct qrtx_account *acct, const struct ask *a, struct resv *r)
{
	struct qrtx_ledger *l = acct->l;
	struct resv **tail = &acct->resvs;

	for (unsigned int i = 0; i < a->nr; i++) {
		struct pool *p = &l->pool[a->part[i].pool];

		p->used += a->part[i].amount;
		if (p->used > p->peak)
			p->peak = p->used;
	}
	r->d.handle = ++l->next_handle;
	r->d.granted_ns = now_ns(CLOCK_BOOTTIME);
	while (*tail)
		tail = &(*tail)->next;
	r->next = NULL;
	*tail = r;
	acct->nr++;
	l->granted++;
	l->active++;
}

/* Grant in FIFO order per pool; fail waiters that can never be met. */
static void serve_waiters(struct qrtx_ledger *l)
{
	struct waiter **pw = &l->waiters;
	uint64_t blocked = 0;
	bool changed = false;

	while (*pw) {
		struct waiter *w = *pw;
		uint64_t m = ask_mask(&w->ask);
		int err = ask_possible(l, &w->ask, &w->resv->d);

		if (!err && w->acct->nr >= l->max_resv)
			err = -EDQUOT;
		if (!err && ((m & blocked) || !ask_fits(l, &w->ask))) {
			blocked |= m;
			pw = &w->next;
			continue;
		}
		if (!err)
			take(w->acct, &w->ask, w->resv);
		else
			l->failed++;
		*pw = w->next;
		l->nr_waiters--;
		w->status = err;
		changed = true;
	}
	if (changed)
		pthread_cond_broadcast(&l->served);
}

static void give_back(struct qrtx_account *acct, struct resv *r, bool reclaim)
{
	struct qrtx_ledger *l = acct->l;
	struct ask a;

	ask_of(&a, &r->d);
	for (unsigned int i = 0; i < a.nr; i++) {
		struct pool *p = &l->pool[a.part[i].pool];

		p->used -= a.part[i].amount;
		if (reclaim)
			p->reclaimed += a.part[i].amount;
	}
	acct->nr--;
	l->active--;
	if (reclaim)
		l->reclaimed++;
	else
		l->released++;
}

int qrtx_ledger_set_total(struct qrtx_ledger *l, unsigned int pool, uint64_t total)
{
	int err = 0;

	if (pool >= NR_POOLS)
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	if (total < l->pool[pool].used)
		err = -EBUSY;
	else
		l->pool[pool].total = total;
	serve_waiters(l);
	pthread_mutex_unlock(&l->lock);
	return err;
}

int qrtx_ledger_set_gpu_count(struct qrtx_ledger *l, uint32_t count)
{
	int err = 0;

	if (count > QRTX_MAX_GPUS)
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	/* As the device's gpu_count: pools in use are never dropped. */
	for (uint32_t i = count; i < l->gpu_count && !err; i++)
		if (l->pool[QRTX_LEDGER_POOL_GPU(i)].used)
			err = -EBUSY;
	if (!err)
		l->gpu_count = count;
	serve_waiters(l);
	pthread_mutex_unlock(&l->lock);
	return err;
}

int qrtx_account_open(struct qrtx_ledger *l, struct qrtx_account **out)
{
	struct qrtx_account *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->l = l;
	pthread_mutex_lock(&l->lock);
	l->accounts++;
	pthread_mutex_unlock(&l->lock);
	*out = a;
	return 0;
}

void qrtx_account_close(struct qrtx_account *a)
{
	struct qrtx_ledger *l;
	struct resv *r;

	if (!a)
		return;
	l = a->l;
	pthread_mutex_lock(&l->lock);
	r = a->resvs;
	for (struct resv *it = r; it; it = it->next)
		give_back(a, it, true);
	a->resvs = NULL;
	l->accounts--;
	serve_waiters(l);
	pthread_mutex_unlock(&l->lock);
	while (r) {
		struct resv *next = r->next;

		free(r);
		r = next;
	}
	free(a);
}

int qrtx_account_info(struct qrtx_account *a, struct qrtx_info *info)
{
	struct qrtx_ledger *l = a->l;

	if (info->flags)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(info->reserved) / sizeof(info->reserved[0]); i++)
		if (info->reserved[i])
			return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->abi_version = QRTX_ABI_VERSION;
	info->max_gpus = QRTX_MAX_GPUS;
	pthread_mutex_lock(&l->lock);
	info->gpu_count = l->gpu_count;
	info->qubits.total = l->pool[QRTX_LEDGER_POOL_QUBITS].total;
	info->qubits.used = l->pool[QRTX_LEDGER_POOL_QUBITS].used;
	info->host_bytes.total = l->pool[QRTX_LEDGER_POOL_HOST].total;
	info->host_bytes.used = l->pool[QRTX_LEDGER_POOL_HOST].used;
	for (uint32_t i = 0; i < l->gpu_count; i++) {
		info->gpu[i].total = l->pool[QRTX_LEDGER_POOL_GPU(i)].total;
		info->gpu[i].used = l->pool[QRTX_LEDGER_POOL_GPU(i)].used;
	}
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static int wait_served(struct qrtx_ledger *l, struct waiter *w, uint64_t timeout_ns)
{
	struct timespec deadline;

	if (timeout_ns)
		deadline = clock_ns_to_ts(now_ns(CLOCK_MONOTONIC) + timeout_ns);
	while (w->status == 1) {
		int rc = timeout_ns ?
			pthread_cond_timedwait(&l->served, &l->lock, &deadline) :
			pthread_cond_wait(&l->served, &l->lock);

		if (rc == ETIMEDOUT)
			return -ETIMEDOUT;
	}
	return 0;
}

int qrtx_account_reserve(struct qrtx_account *a, struct qrtx_reserve *req)
{
	struct qrtx_ledger *l = a->l;
	struct waiter w = { .acct = a, .status = 1 };
	struct resv *r;
	int err;

	if ((req->flags & ~QRTX_RESERVE_FLAGS) || req->handle ||
	    req->reserved[0] || req->reserved[1] || req->reserved[2])
		return -EINVAL;
	if (!req->qubits && !req->host_bytes && !req->gpu_bytes)
		return -EINVAL;
	if (!req->gpu_bytes && req->gpu_index)
		return -EINVAL;
	if (req->gpu_bytes && req->gpu_index >= QRTX_MAX_GPUS)
		return -ENODEV;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->d.tag = req->tag;
	r->d.qubits = req->qubits;
	r->d.host_bytes = req->host_bytes;
	r->d.gpu_bytes = req->gpu_bytes;
	r->d.gpu_index = req->gpu_index;
	ask_of(&w.ask, &r->d);
	w.resv = r;

	pthread_mutex_lock(&l->lock);
	err = ask_possible(l, &w.ask, &r->d);
	if (err == -ENOSPC)
		l->failed++;
	if (!err && a->nr >= l->max_resv)
		err = -EDQUOT;
	if (!err) {
		uint64_t waiting = 0;

		for (struct waiter *it = l->waiters; it; it = it->next)
			waiting |= ask_mask(&it->ask);
		if (!(waiting & ask_mask(&w.ask)) && ask_fits(l, &w.ask)) {
			take(a, &w.ask, r);
			w.status = 0;
		} else if (req->flags & QRTX_RESERVE_NONBLOCK) {
			l->failed++;
			err = -EAGAIN;
		} else {
			struct waiter **tail = &l->waiters;

			while (*tail)
				tail = &(*tail)->next;
			*tail = &w;
			l->nr_waiters++;
			if (wait_served(l, &w, req->timeout_ns) && w.status == 1) {
				struct waiter **pw = &l->waiters;

				while (*pw != &w)
					pw = &(*pw)->next;
				*pw = w.next;
				l->nr_waiters--;
				l->failed++;
				w.status = -ETIMEDOUT;
				serve_waiters(l);
			}
			err = w.status;
		}
	}
	if (!err)
		req->handle = r->d.handle;
	pthread_mutex_unlock(&l->lock);
	if (err)
		free(r);
	return err;
}

int qrtx_account_release(struct qrtx_account *a, uint64_t handle)
{
	struct qrtx_ledger *l = a->l;
	struct resv **pr, *r = NULL;

	pthread_mutex_lock(&l->lock);
	for (pr = &a->resvs; *pr; pr = &(*pr)->next) {
		if ((*pr)->d.handle == handle) {
			r = *pr;
			*pr = r->next;
			give_back(a, r, false);
			serve_waiters(l);
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	if (!r)
		return -ENOENT;
	free(r);
	return 0;
}

int qrtx_account_list(struct qrtx_account *a, struct qrtx_list *lst)
{
	struct qrtx_ledger *l = a->l;
	struct qrtx_resv_desc *out = (struct qrtx_resv_desc *)(uintptr_t)lst->entries;
	int err = 0;

	if (lst->flags || lst->reserved)
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	if (lst->count && a->nr > lst->count) {
		err = -EOVERFLOW;
	} else if (lst->count) {
		unsigned int n = 0;

		if (a->nr && !out)
			err = -EFAULT;
		for (struct resv *r = a->resvs; r && !err; r = r->next)
			out[n++] = r->d;
	}
	lst->count = a->nr;
	pthread_mutex_unlock(&l->lock);
	return err;
}

void qrtx_ledger_stats(struct qrtx_ledger *l, struct qrtx_ledger_stats *st)
{
	pthread_mutex_lock(&l->lock);
	st->granted = l->granted;
	st->failed = l->failed;
	st->released = l->released;
	st->reclaimed = l->reclaimed;
	st->active = l->active;
	st->waiters = l->nr_waiters;
	for (unsigned int i = 0; i < NR_POOLS; i++) {
		st->peak[i] = l->pool[i].peak;
		st->reclaimed_amount[i] = l->pool[i].reclaimed;
	}
	pthread_mutex_unlock(&l->lock);
}
