/* SPDX-License-Identifier: MIT */
/*
 * The qrtxd client (Documentation/runtime/daemon.rst has the protocol and
 * what each verb returns; Documentation/runtime/client.rst shows both
 * forms in use). Two forms over the daemon's Unix socket:
 *
 * - blocking (qrtx_client_*): one request and its response at a time;
 * - asynchronous (qrtx_client_async_*): many requests in flight on one
 *   connection, and many connections, all on the application's own
 *   io_uring ring. Linking it needs liburing (-luring); the blocking form
 *   does not.
 *
 * Blocking calls return 0 on success. When the daemon answers "ok": false
 * the call returns -EPROTO and fills *rerr with the category and message
 * it sent; transport failures return -errno with rerr->category
 * "ConnectionError" and a message saying what failed.
 */
#ifndef QRTX_CLIENT_H
#define QRTX_CLIENT_H

#include <jansson.h>
#include <stdint.h>

struct qrtx_client;

struct qrtx_reply_error {
	char category[32];
	char message[512];
};

/* The socket clients use by default: $QRTX_SOCKET, else
 * /run/qrtx/qrtxd.sock for root, else <default state dir>/qrtxd.sock.
 * malloc'd, or NULL when no home directory can be found. */
char *qrtx_client_default_socket(void);

/* path NULL: the default socket. */
int qrtx_client_connect(const char *path, struct qrtx_client **out,
			struct qrtx_reply_error *rerr);
void qrtx_client_close(struct qrtx_client *c);

/* Send {"v": 1, "id": <next>, "op": op, <args' members>} and wait for
 * its response; *resp (may be NULL) gets the whole response object,
 * which the caller releases with json_decref. args may be NULL; it is
 * not consumed. */
int qrtx_client_call(struct qrtx_client *c, const char *op, const json_t *args,
		     json_t **resp, struct qrtx_reply_error *rerr);

/* The verbs. job_id buffers hold at least 64 bytes. options may be NULL. */
int qrtx_client_submit(struct qrtx_client *c, const char *format, const char *name,
		       const char *source, const json_t *options, char *job_id,
		       struct qrtx_reply_error *rerr);
/* *job: the job object (caller decrefs). */
int qrtx_client_status(struct qrtx_client *c, const char *job_id, json_t **job,
		       struct qrtx_reply_error *rerr);
/* timeout_ms < 0: no limit. *timed_out tells whether it ran out. */
int qrtx_client_wait(struct qrtx_client *c, const char *job_id, int64_t timeout_ms,
		     json_t **job, int *timed_out, struct qrtx_reply_error *rerr);
/* *results: results.json of a completed job, else NULL. */
int qrtx_client_result(struct qrtx_client *c, const char *job_id, json_t **job,
		       json_t **results, struct qrtx_reply_error *rerr);
int qrtx_client_cancel(struct qrtx_client *c, const char *job_id, json_t **job,
		       struct qrtx_reply_error *rerr);
/* state NULL: every state. *jobs: an array of job objects. */
int qrtx_client_list(struct qrtx_client *c, const char *state, json_t **jobs,
		     struct qrtx_reply_error *rerr);
int qrtx_client_stats(struct qrtx_client *c, json_t **stats, struct qrtx_reply_error *rerr);

/*
 * The asynchronous form.
 *
 * The library never waits and never reaps the ring: it puts its sends and
 * receives on the ring the application gives it, and the application
 * hands it their completions.
 *
 * - qrtx_client_async_open() connects (a connect to a local socket that
 *   qrtxd listens on completes at once; nothing after it blocks) and
 *   attaches the connection to the ring.
 * - qrtx_client_async_call() and the verbs below queue a request. Once
 *   queued (return 0), its callback is called exactly once, never from
 *   inside the queueing call: with the answer, or with an error when the
 *   connection is lost or closed first. Any number of requests may be
 *   outstanding on one connection; answers are matched to requests by
 *   their "id", never by their order ("wait" is answered when its job
 *   ends, after the answers to later requests).
 * - The application submits the ring as for its own operations
 *   (io_uring_submit, io_uring_submit_and_wait in its event loop). The
 *   library prepares SQEs and submits only to make room when the
 *   submission queue is full; it never holds one back, so the application
 *   must not call into it while holding an SQE it has not prepared yet.
 * - Every CQE goes to qrtx_client_async_cqe() first: 1 means it was the
 *   library's and has been dealt with (callbacks run from inside this
 *   call), 0 that it is the application's own. Either way the application
 *   marks it seen (io_uring_cqe_seen, io_uring_cq_advance). The library's
 *   operations carry user_data whose top byte is QRTX_CLIENT_ASYNC_UD_TAG;
 *   the application's own user_data must never have that top byte
 *   (pointers and small integers do not).
 * - qrtx_client_async_close() calls every outstanding callback with
 *   -ECANCELED before it returns, but the kernel may still be using the
 *   connection's buffers: its memory is freed only when its last operation
 *   on the ring has completed (shortly: close shuts the socket down). Keep
 *   handing CQEs to qrtx_client_async_cqe() until the closed callback
 *   has run; only then may the ring be torn down. A connection that was
 *   lost (every callback got the error, new requests get -ENOTCONN) is
 *   freed the same way: it, too, needs qrtx_client_async_close().
 *
 * One thread: every connection on a ring belongs to the thread that reaps
 * it. Callbacks may queue requests and close connections (their own too),
 * but must not reap the ring themselves.
 */
struct io_uring;
struct io_uring_cqe;
struct qrtx_client_async;

#define QRTX_CLIENT_ASYNC_UD_SHIFT	56
#define QRTX_CLIENT_ASYNC_UD_TAG	0x51u	/* 'Q' */

/* Whether a CQE's user_data is one of the library's. */
static inline int qrtx_client_async_owns(uint64_t user_data)
{
	return (user_data >> QRTX_CLIENT_ASYNC_UD_SHIFT) == QRTX_CLIENT_ASYNC_UD_TAG;
}

/*
 * A request's callback. ret:
 *   0          the daemon answered "ok": true and the answer has what the
 *              verb promises (see each verb); resp is the whole answer.
 *   -EPROTO    the daemon answered "ok": false; rerr has its category and
 *              message, resp the whole answer. Only this request failed.
 *   -EBADMSG   an answer that cannot be trusted: with resp, well framed
 *              but without what the verb promises (only this request
 *              failed); without, a stream that cannot be read, and the
 *              connection is lost.
 *   -ECANCELED qrtx_client_async_close() was called first.
 *   -ECONNRESET, -EPIPE, other -errno: the connection was lost (the daemon
 *              closed it or died, or the socket failed); no answer comes.
 * After any error but -EPROTO and -EBADMSG with resp, resp is NULL and
 * rerr->category is "ConnectionError" ("ProtocolError" for -EBADMSG,
 * "InternalError" for -ENOMEM). rerr is never NULL; on success its strings
 * are empty. resp is borrowed: json_incref() it to keep it.
 */
typedef void (*qrtx_client_async_cb)(struct qrtx_client_async *ac, int ret, json_t *resp,
				     const struct qrtx_reply_error *rerr, void *arg);

/* path NULL: the default socket. 0 with *out set, or -errno with rerr
 * filled, as for qrtx_client_connect(). Puts nothing on the ring yet. */
int qrtx_client_async_open(struct io_uring *ring, const char *path,
			   struct qrtx_client_async **out, struct qrtx_reply_error *rerr);

/* Give a CQE to the library: 1 when it was the library's (dealt with),
 * 0 when it is the application's. It does not mark the CQE seen. */
int qrtx_client_async_cqe(const struct io_uring_cqe *cqe);

/*
 * Close: every outstanding callback is called with -ECANCELED, in the
 * order the requests were queued, before this returns; ac may not be used
 * after it. closed(closed_arg) (closed may be NULL) is called once the
 * connection's memory is freed: from inside this call when no operation
 * is on the ring, else from inside qrtx_client_async_cqe() with the last
 * one's completion. ac NULL: nothing.
 */
void qrtx_client_async_close(struct qrtx_client_async *ac, void (*closed)(void *arg),
			     void *closed_arg);

/* Requests queued and not answered yet. */
unsigned int qrtx_client_async_outstanding(const struct qrtx_client_async *ac);

/*
 * Queue {"v": 1, "id": <next>, "op": op, <args' members>} (args may be
 * NULL; it is not consumed). Returns 0 when queued, else the callback is
 * never called and:
 *   -EINVAL    a NULL connection, op or callback, or args not an object
 *              (the verbs: a NULL job id, format or source, options not
 *              an object, or text that is not UTF-8);
 *   -ENOTCONN  the connection was lost, or is being closed;
 *   -EMSGSIZE  the request is over the frame limit (16 MiB);
 *   -EBUSY     no room on the ring's submission queue, even after
 *              submitting it;
 *   -ENOMEM    out of memory (for op, job_id and state: or not UTF-8).
 */
int qrtx_client_async_call(struct qrtx_client_async *ac, const char *op, const json_t *args,
			   qrtx_client_async_cb cb, void *arg);

/* The verbs, as the blocking ones; what resp has when ret is 0: */
/* "job_id": a string shorter than 64 bytes. options may be NULL. */
int qrtx_client_async_submit(struct qrtx_client_async *ac, const char *format,
			     const char *name, const char *source, const json_t *options,
			     qrtx_client_async_cb cb, void *arg);
/* "job": the job object. */
int qrtx_client_async_status(struct qrtx_client_async *ac, const char *job_id,
			     qrtx_client_async_cb cb, void *arg);
/* "job" and "timed_out" (a boolean). timeout_ms < 0: no limit. */
int qrtx_client_async_wait(struct qrtx_client_async *ac, const char *job_id,
			   int64_t timeout_ms, qrtx_client_async_cb cb, void *arg);
/* "job", and "results" (an object) when the job completed. */
int qrtx_client_async_result(struct qrtx_client_async *ac, const char *job_id,
			     qrtx_client_async_cb cb, void *arg);
/* "job". */
int qrtx_client_async_cancel(struct qrtx_client_async *ac, const char *job_id,
			     qrtx_client_async_cb cb, void *arg);
/* "jobs": an array of job objects. state NULL: every state. */
int qrtx_client_async_list(struct qrtx_client_async *ac, const char *state,
			   qrtx_client_async_cb cb, void *arg);
/* "stats": an object. */
int qrtx_client_async_stats(struct qrtx_client_async *ac, qrtx_client_async_cb cb, void *arg);

#endif
