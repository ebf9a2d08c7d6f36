// SPDX-License-Identifier: MIT
/*
 * The qrtxd client's asynchronous form: see qrtx/client.h.
 *
 * A connection has at most two operations on the application's ring at a
 * time: one send and one receive. Each is a struct aop inside the
 * connection, and its address, tagged in the top byte, is the operation's
 * user_data, so a completion leads straight to its connection.
 *
 * Output: requests are framed into q; the send in flight points into tx,
 * which is never reallocated while the kernel may read it. When tx has
 * all gone out, q becomes tx, so whatever was queued meanwhile leaves in
 * one send.
 *
 * Input: one buffer, received into at its end while requests are
 * outstanding, whole frames taken from its head. While its frames are
 * handed to callbacks no receive is armed (the kernel would write into the
 * buffer being read); it is armed again after them.
 *
 * Outstanding requests are kept in the order they were queued (which is
 * the order their callbacks get an error in when the connection goes) and
 * in a table by id (which is how an answer finds its request).
 *
 * A connection is freed only when it is closed, no operation of it is on
 * the ring and no callback of it is running: the kernel may write into its
 * buffers until the completion is seen, and a callback may close the
 * connection it was called for.
 */
#include <errno.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qrtx/client.h"
#include "qrtx/proto.h"
#include "client_int.h"

#define UD_TAG ((uint64_t)QRTX_CLIENT_ASYNC_UD_TAG << QRTX_CLIENT_ASYNC_UD_SHIFT)
#define UD_PTR_MASK (((uint64_t)1 << QRTX_CLIENT_ASYNC_UD_SHIFT) - 1)
#define AOP_MAGIC 0x51525458u		/* "QRTX" */

#define RECV_CHUNK (64u << 10)		/* the input buffer's first size */
#define BUF_KEEP (1u << 20)		/* larger buffers are freed once empty */
#define SEND_MAX (1u << 30)		/* the most one send is given */
#define HASH_MIN 64

enum aop_kind { AOP_SEND, AOP_RECV };

struct aop {
	uint32_t magic;
	enum aop_kind kind;
	bool inflight;
	struct qrtx_client_async *ac;
};

struct areq {
	struct areq *prev, *next;	/* outstanding, in the order queued */
	struct areq *hnext;		/* the same bucket of the id table */
	json_int_t id;
	enum qrtx_client_shape shape;
	const char *op;			/* a verb's name, for messages */
	qrtx_client_async_cb cb;
	void *arg;
};

struct obuf {
	unsigned char *data;
	size_t len, cap;
	size_t off;			/* bytes of data already sent */
};

struct qrtx_client_async {
	struct io_uring *ring;
	int fd;
	struct aop send_op, recv_op;
	unsigned int ops;		/* operations on the ring */
	unsigned int depth;		/* callbacks of this connection running */
	bool dispatching;		/* handing out frames from in: no receive */
	bool lost;			/* the stream can no longer be used */
	bool closing;
	struct obuf tx, q;
	unsigned char *in;
	size_t in_len, in_cap;
	struct areq *head, *tail;
	struct areq **table;
	size_t nbuckets, nreqs;
	json_int_t next_id;
	void (*closed)(void *arg);
	void *closed_arg;
	char path[QRTX_CLIENT_PATH_MAX];
};

/* --- outstanding requests ---------------------------------------------- */

static size_t bucket(const struct qrtx_client_async *ac, json_int_t id)
{
	return (size_t)id & (ac->nbuckets - 1);
}

static int table_grow(struct qrtx_client_async *ac)
{
	size_t n = ac->nbuckets ? 2 * ac->nbuckets : HASH_MIN;
	struct areq **t = calloc(n, sizeof(*t));

	if (!t)
		return -ENOMEM;
	free(ac->table);
	ac->table = t;
	ac->nbuckets = n;
	for (struct areq *r = ac->head; r; r = r->next) {
		size_t b = bucket(ac, r->id);

		r->hnext = t[b];
		t[b] = r;
	}
	return 0;
}

static void req_add(struct qrtx_client_async *ac, struct areq *r)
{
	size_t b = bucket(ac, r->id);

	r->prev = ac->tail;
	r->next = NULL;
	if (ac->tail)
		ac->tail->next = r;
	else
		ac->head = r;
	ac->tail = r;
	r->hnext = ac->table[b];
	ac->table[b] = r;
	ac->nreqs++;
}

static void req_unlink(struct qrtx_client_async *ac, struct areq *r)
{
	struct areq **pp = &ac->table[bucket(ac, r->id)];

	while (*pp != r)
		pp = &(*pp)->hnext;
	*pp = r->hnext;
	if (r->prev)
		r->prev->next = r->next;
	else
		ac->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		ac->tail = r->prev;
	ac->nreqs--;
}

static struct areq *req_take(struct qrtx_client_async *ac, json_int_t id)
{
	struct areq *r;

	if (!ac->nbuckets)
		return NULL;
	for (r = ac->table[bucket(ac, id)]; r; r = r->hnext)
		if (r->id == id)
			break;
	if (r)
		req_unlink(ac, r);
	return r;
}

/* Every outstanding callback gets ret and rerr, in the order queued. */
static void fail_all(struct qrtx_client_async *ac, int ret, const struct qrtx_reply_error *rerr)
{
	struct areq *r;

	ac->depth++;
	while ((r = ac->head)) {
		req_unlink(ac, r);
		r->cb(ac, ret, NULL, rerr, r->arg);
		free(r);
	}
	ac->depth--;
}

/* --- the ring ---------------------------------------------------------- */

static struct io_uring_sqe *sqe_get(struct qrtx_client_async *ac)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ac->ring);

	if (!sqe) {
		/* The queue is full: hand it to the kernel to make room. */
		io_uring_submit(ac->ring);
		sqe = io_uring_get_sqe(ac->ring);
	}
	return sqe;
}

/* Make sure n SQEs can be had. */
static int sqe_reserve(struct qrtx_client_async *ac, unsigned int n)
{
	if (io_uring_sq_space_left(ac->ring) < n)
		io_uring_submit(ac->ring);
	return io_uring_sq_space_left(ac->ring) < n ? -EBUSY : 0;
}

static void aop_start(struct qrtx_client_async *ac, struct aop *op, struct io_uring_sqe *sqe)
{
	io_uring_sqe_set_data64(sqe, UD_TAG | (uint64_t)(uintptr_t)op);
	op->inflight = true;
	ac->ops++;
}

static void obuf_reset(struct obuf *b)
{
	b->len = b->off = 0;
	if (b->cap > BUF_KEEP) {
		free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

/* Send what is left of tx, else what q holds. 0 also when there is
 * nothing to send or a send is already on the ring. */
static int arm_send(struct qrtx_client_async *ac)
{
	struct io_uring_sqe *sqe;
	size_t n;

	if (ac->send_op.inflight || ac->lost || ac->closing)
		return 0;
	if (ac->tx.off == ac->tx.len) {
		struct obuf t = ac->tx;

		ac->tx = ac->q;
		ac->q = t;
		obuf_reset(&ac->q);
	}
	if (ac->tx.off == ac->tx.len)
		return 0;
	sqe = sqe_get(ac);
	if (!sqe)
		return -EBUSY;
	n = ac->tx.len - ac->tx.off;
	io_uring_prep_send(sqe, ac->fd, ac->tx.data + ac->tx.off, n > SEND_MAX ? SEND_MAX : n,
			   MSG_NOSIGNAL);
	aop_start(ac, &ac->send_op, sqe);
	return 0;
}

/* Receive while any request is outstanding. */
static int arm_recv(struct qrtx_client_async *ac)
{
	struct io_uring_sqe *sqe;

	if (ac->recv_op.inflight || ac->dispatching || ac->lost || ac->closing || !ac->nreqs)
		return 0;
	if (ac->in_len == ac->in_cap) {
		size_t n = ac->in_cap ? 2 * ac->in_cap : RECV_CHUNK;
		unsigned char *b = realloc(ac->in, n);

		if (!b)
			return -ENOMEM;
		ac->in = b;
		ac->in_cap = n;
	}
	sqe = sqe_get(ac);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv(sqe, ac->fd, ac->in + ac->in_len, ac->in_cap - ac->in_len, 0);
	aop_start(ac, &ac->recv_op, sqe);
	return 0;
}

/* --- losing, closing, freeing ------------------------------------------ */

static void lose(struct qrtx_client_async *ac, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The stream can no longer be used: shut it down (which ends the
 * operations on the ring) and fail every outstanding request. */
static void lose(struct qrtx_client_async *ac, int ret, const char *fmt, ...)
{
	struct qrtx_reply_error rerr;
	char msg[sizeof(rerr.message)];
	va_list ap;

	if (ac->lost || ac->closing)
		return;
	ac->lost = true;
	shutdown(ac->fd, SHUT_RDWR);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	qrtx_client_set_err(&rerr, ret == -EBADMSG ? QRTX_CLIENT_CAT_PROTOCOL :
			    ret == -ENOMEM ? QRTX_CLIENT_CAT_INTERNAL : QRTX_CLIENT_CAT_CONNECTION,
			    "%s", msg);
	fail_all(ac, ret, &rerr);
}

static void lose_io(struct qrtx_client_async *ac, int ret, bool sending)
{
	if (ret == -ENOMEM)
		lose(ac, ret, "out of memory");
	else if (ret == -EBUSY)
		lose(ac, ret, "no room on the ring's submission queue for the connection to qrtxd at %s",
		     ac->path);
	else if (ret == -ECONNRESET || ret == -EPIPE)
		lose(ac, ret, "qrtxd at %s closed the connection %s", ac->path,
		     sending ? "before the request was sent" : "before answering");
	else
		lose(ac, ret, "cannot %s qrtxd at %s: %s", sending ? "send to" : "receive from",
		     ac->path, strerror(-ret));
}

static void maybe_free(struct qrtx_client_async *ac)
{
	void (*closed)(void *arg) = ac->closed;
	void *arg = ac->closed_arg;

	if (!ac->closing || ac->ops || ac->depth)
		return;
	close(ac->fd);
	free(ac->tx.data);
	free(ac->q.data);
	free(ac->in);
	free(ac->table);
	free(ac);
	if (closed)
		closed(arg);
}

void qrtx_client_async_close(struct qrtx_client_async *ac, void (*closed)(void *arg),
			     void *closed_arg)
{
	struct qrtx_reply_error rerr;

	if (!ac || ac->closing)
		return;
	ac->closing = true;
	ac->closed = closed;
	ac->closed_arg = closed_arg;
	/* Ends the operations on the ring (which holds the file open). */
	if (ac->ops && !ac->lost)
		shutdown(ac->fd, SHUT_RDWR);
	qrtx_client_set_err(&rerr, QRTX_CLIENT_CAT_CONNECTION,
			    "the connection to qrtxd at %s was closed with the request outstanding",
			    ac->path);
	fail_all(ac, -ECANCELED, &rerr);
	maybe_free(ac);
}

/* --- completions ------------------------------------------------------- */

static void on_send(struct qrtx_client_async *ac, int res)
{
	int ret;

	if (ac->lost || ac->closing)
		return;
	if (res == -EINTR || res == -EAGAIN) {
		res = 0;
	} else if (res < 0) {
		lose_io(ac, res, true);
		return;
	} else if (res == 0) {
		lose_io(ac, -EPIPE, true);
		return;
	}
	ac->tx.off += (size_t)res;
	if (ac->tx.off == ac->tx.len)
		obuf_reset(&ac->tx);
	ret = arm_send(ac);
	if (ret)
		lose_io(ac, ret, true);
}

/* One answer: to its request's callback. Consumes r. */
static void on_answer(struct qrtx_client_async *ac, json_t *r)
{
	struct qrtx_reply_error rerr = { { 0 }, { 0 } };
	json_t *id = json_object_get(r, "id");
	struct areq *req;
	int ret;

	if (qrtx_client_check_answer(r, &rerr)) {
		lose(ac, -EBADMSG, "%s", rerr.message);
		goto out;
	}
	if (!json_is_integer(id)) {
		if (json_is_false(json_object_get(r, "ok"))) {
			qrtx_client_answer_error(r, &rerr);
			lose(ac, -EBADMSG, "qrtxd answered no request in particular: %s: %s",
			     rerr.category, rerr.message);
		} else {
			lose(ac, -EBADMSG, "malformed response from qrtxd: no \"id\"");
		}
		goto out;
	}
	req = req_take(ac, json_integer_value(id));
	if (!req) {
		lose(ac, -EBADMSG, "malformed response from qrtxd: \"id\" %" JSON_INTEGER_FORMAT
		     " is no outstanding request's", json_integer_value(id));
		goto out;
	}
	if (json_is_false(json_object_get(r, "ok")))
		ret = qrtx_client_answer_error(r, &rerr);
	else
		ret = qrtx_client_check_shape(r, req->shape, req->op, &rerr);
	req->cb(ac, ret, r, &rerr, req->arg);
	free(req);
out:
	json_decref(r);
}

static void on_recv(struct qrtx_client_async *ac, int res)
{
	size_t off = 0, need = 0;
	int st = 0, ret;

	if (ac->lost || ac->closing)
		return;
	if (res == -EINTR || res == -EAGAIN) {
		res = 0;
	} else if (res < 0) {
		lose_io(ac, res, false);
		return;
	} else if (res == 0) {
		lose_io(ac, -ECONNRESET, false);
		return;
	}
	ac->in_len += (size_t)res;

	ac->dispatching = true;
	while (!ac->lost && !ac->closing) {
		char ebuf[256];
		json_t *r;

		st = qrtx_proto_frame(ac->in + off, ac->in_len - off, &need);
		if (st < 0) {
			lose(ac, -EBADMSG, "malformed response from qrtxd: %s",
			     "frame length out of range");
			break;
		}
		if (st == 0)
			break;
		r = qrtx_proto_parse(ac->in + off + 4, need - 4, ebuf, sizeof(ebuf));
		off += need;
		if (!r) {
			lose(ac, -EBADMSG, "malformed response from qrtxd: %s", ebuf);
			break;
		}
		on_answer(ac, r);
	}
	ac->dispatching = false;
	if (ac->lost || ac->closing)
		return;

	memmove(ac->in, ac->in + off, ac->in_len - off);
	ac->in_len -= off;
	if (need > ac->in_cap) {
		/* Room for the whole of the frame that has begun. */
		unsigned char *b = realloc(ac->in, need);

		if (!b) {
			lose_io(ac, -ENOMEM, false);
			return;
		}
		ac->in = b;
		ac->in_cap = need;
	} else if (!ac->in_len && ac->in_cap > BUF_KEEP) {
		free(ac->in);
		ac->in = NULL;
		ac->in_cap = 0;
	}
	ret = arm_recv(ac);
	if (ret)
		lose_io(ac, ret, false);
}

int qrtx_client_async_cqe(const struct io_uring_cqe *cqe)
{
	struct qrtx_client_async *ac;
	struct aop *op;

	if (!qrtx_client_async_owns(cqe->user_data))
		return 0;
	op = (struct aop *)(uintptr_t)(cqe->user_data & UD_PTR_MASK);
	if (op->magic != AOP_MAGIC || !op->inflight)
		return 0;
	ac = op->ac;
	op->inflight = false;
	ac->ops--;
	ac->depth++;
	if (op->kind == AOP_SEND)
		on_send(ac, cqe->res);
	else
		on_recv(ac, cqe->res);
	ac->depth--;
	maybe_free(ac);
	return 1;
}

/* --- opening and queueing ---------------------------------------------- */

int qrtx_client_async_open(struct io_uring *ring, const char *path,
			   struct qrtx_client_async **out, struct qrtx_reply_error *rerr)
{
	struct qrtx_client_async *ac;

	*out = NULL;
	qrtx_client_clear_err(rerr);
	if (!ring) {
		qrtx_client_set_err(rerr, QRTX_CLIENT_CAT_INTERNAL, "no ring given");
		return -EINVAL;
	}
	ac = calloc(1, sizeof(*ac));
	if (!ac) {
		qrtx_client_set_err(rerr, QRTX_CLIENT_CAT_INTERNAL, "out of memory");
		return -ENOMEM;
	}
	/* The operations' addresses must fit under the tag. */
	if (((uint64_t)(uintptr_t)ac + sizeof(*ac)) >> QRTX_CLIENT_ASYNC_UD_SHIFT) {
		free(ac);
		qrtx_client_set_err(rerr, QRTX_CLIENT_CAT_INTERNAL,
				    "memory above the range the ring's user_data can tag");
		return -EOVERFLOW;
	}
	ac->ring = ring;
	ac->next_id = 1;
	ac->send_op = (struct aop){ .magic = AOP_MAGIC, .kind = AOP_SEND, .ac = ac };
	ac->recv_op = (struct aop){ .magic = AOP_MAGIC, .kind = AOP_RECV, .ac = ac };
	ac->fd = qrtx_client_dial(path, ac->path, rerr);
	if (ac->fd < 0) {
		int ret = ac->fd;

		free(ac);
		return ret;
	}
	*out = ac;
	return 0;
}

unsigned int qrtx_client_async_outstanding(const struct qrtx_client_async *ac)
{
	return ac ? (unsigned int)ac->nreqs : 0;
}

static int obuf_append(struct obuf *b, const unsigned char *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int enqueue(struct qrtx_client_async *ac, const char *op, const json_t *args,
		   enum qrtx_client_shape shape, qrtx_client_async_cb cb, void *arg)
{
	unsigned char *frame;
	struct areq *r;
	json_t *req;
	size_t len;
	int ret;

	if (!ac || !op || !cb || (args && !json_is_object(args)))
		return -EINVAL;
	if (ac->lost || ac->closing)
		return -ENOTCONN;
	req = qrtx_client_request(ac->next_id, op, args);
	if (!req)
		return -ENOMEM;
	ret = qrtx_proto_encode(req, &frame, &len);
	json_decref(req);
	if (ret)
		return ret;
	/* Everything that can fail, before anything is changed: a request
	 * is queued whole or not at all, and its callback is never called
	 * from in here. */
	ret = sqe_reserve(ac, !ac->send_op.inflight + (!ac->recv_op.inflight && !ac->dispatching));
	if (ret)
		goto out;
	ret = -ENOMEM;
	if (!ac->in) {
		ac->in = malloc(RECV_CHUNK);
		if (!ac->in)
			goto out;
		ac->in_cap = RECV_CHUNK;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out;
	if ((ac->nreqs >= ac->nbuckets && table_grow(ac)) || obuf_append(&ac->q, frame, len)) {
		free(r);
		goto out;
	}
	r->id = ac->next_id++;
	r->shape = shape;
	/* Only the verbs' names are kept (static): the caller's op may go. */
	r->op = shape == QRTX_SHAPE_ANY ? NULL : op;
	r->cb = cb;
	r->arg = arg;
	req_add(ac, r);
	/* Neither can fail now: the SQEs are there, and so is the input
	 * buffer, which has room (it only grows while requests are out). */
	arm_send(ac);
	arm_recv(ac);
	ret = 0;
out:
	free(frame);
	return ret;
}

int qrtx_client_async_call(struct qrtx_client_async *ac, const char *op, const json_t *args,
			   qrtx_client_async_cb cb, void *arg)
{
	return enqueue(ac, op, args, QRTX_SHAPE_ANY, cb, arg);
}

/* Queue a verb whose arguments were just built (args consumed). */
static int verb(struct qrtx_client_async *ac, const char *op, json_t *args,
		enum qrtx_client_shape shape, qrtx_client_async_cb cb, void *arg)
{
	int ret;

	if (!args)
		return -ENOMEM;
	ret = enqueue(ac, op, args, shape, cb, arg);
	json_decref(args);
	return ret;
}

int qrtx_client_async_submit(struct qrtx_client_async *ac, const char *format,
			     const char *name, const char *source, const json_t *options,
			     qrtx_client_async_cb cb, void *arg)
{
	json_t *args;
	int ret;

	args = qrtx_client_submit_args(format, name, source, options, &ret, NULL);
	if (!args)
		return ret;
	return verb(ac, "submit", args, QRTX_SHAPE_SUBMIT, cb, arg);
}

static int job_verb(struct qrtx_client_async *ac, const char *op, const char *job_id,
		    enum qrtx_client_shape shape, qrtx_client_async_cb cb, void *arg)
{
	if (!job_id)
		return -EINVAL;
	return verb(ac, op, json_pack("{s:s}", "job_id", job_id), shape, cb, arg);
}

int qrtx_client_async_status(struct qrtx_client_async *ac, const char *job_id,
			     qrtx_client_async_cb cb, void *arg)
{
	return job_verb(ac, "status", job_id, QRTX_SHAPE_JOB, cb, arg);
}

int qrtx_client_async_wait(struct qrtx_client_async *ac, const char *job_id,
			   int64_t timeout_ms, qrtx_client_async_cb cb, void *arg)
{
	if (!job_id)
		return -EINVAL;
	return verb(ac, "wait", qrtx_client_wait_args(job_id, timeout_ms), QRTX_SHAPE_WAIT, cb,
		    arg);
}

int qrtx_client_async_result(struct qrtx_client_async *ac, const char *job_id,
			     qrtx_client_async_cb cb, void *arg)
{
	return job_verb(ac, "result", job_id, QRTX_SHAPE_RESULT, cb, arg);
}

int qrtx_client_async_cancel(struct qrtx_client_async *ac, const char *job_id,
			     qrtx_client_async_cb cb, void *arg)
{
	return job_verb(ac, "cancel", job_id, QRTX_SHAPE_JOB, cb, arg);
}

int qrtx_client_async_list(struct qrtx_client_async *ac, const char *state,
			   qrtx_client_async_cb cb, void *arg)
{
	return verb(ac, "list", state ? json_pack("{s:s}", "state", state) : json_object(),
		    QRTX_SHAPE_LIST, cb, arg);
}

int qrtx_client_async_stats(struct qrtx_client_async *ac, qrtx_client_async_cb cb, void *arg)
{
	return verb(ac, "stats", json_object(), QRTX_SHAPE_STATS, cb, arg);
}
