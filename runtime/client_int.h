/* SPDX-License-Identifier: MIT */
/*
 * Private to the two forms of the qrtxd client: client.c (blocking) and
 * client_async.c (on the application's io_uring ring). What both build,
 * say and check, so that they say and check it the same way.
 */
#ifndef QRTX_CLIENT_INT_H
#define QRTX_CLIENT_INT_H

#include <jansson.h>
#include <sys/un.h>

#include "qrtx/client.h"
#include "qrtx/proto.h"

#define QRTX_CLIENT_CAT_CONNECTION	"ConnectionError"
#define QRTX_CLIENT_CAT_PROTOCOL	QRTX_PROTO_ERR_PROTOCOL
#define QRTX_CLIENT_CAT_INTERNAL	QRTX_PROTO_ERR_INTERNAL

/* Room for a socket path, its NUL included. */
#define QRTX_CLIENT_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

void qrtx_client_set_err(struct qrtx_reply_error *rerr, const char *cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void qrtx_client_clear_err(struct qrtx_reply_error *rerr);

/*
 * A blocking stream socket connected to path (NULL: the default socket),
 * close-on-exec. path_out (QRTX_CLIENT_PATH_MAX bytes) gets the path used.
 * Returns the descriptor, or -errno with rerr filled.
 */
int qrtx_client_dial(const char *path, char *path_out, struct qrtx_reply_error *rerr);

/* {"v": 1, "id": id, "op": op, <the members of args, never over those>};
 * NULL when out of memory or op is not UTF-8. args is not consumed. */
json_t *qrtx_client_request(json_int_t id, const char *op, const json_t *args);

/* The members of a submit request, or NULL with -errno in *ret and rerr
 * filled (-EINVAL: a bad argument or text that is not UTF-8). */
json_t *qrtx_client_submit_args(const char *format, const char *name, const char *source,
				const json_t *options, int *ret, struct qrtx_reply_error *rerr);

/* The members of a wait request (timeout_ms < 0: no limit), or NULL. */
json_t *qrtx_client_wait_args(const char *job_id, int64_t timeout_ms);

/* What every response must have: "v" 1 when present, a boolean "ok".
 * 0, or -EBADMSG with why in rerr. */
int qrtx_client_check_answer(const json_t *r, struct qrtx_reply_error *rerr);

/* The "error" of an "ok": false response into rerr; returns -EPROTO. */
int qrtx_client_answer_error(const json_t *r, struct qrtx_reply_error *rerr);

/* What an "ok": true answer to a verb must hold. */
enum qrtx_client_shape {
	QRTX_SHAPE_ANY,		/* nothing more (qrtx_client_call) */
	QRTX_SHAPE_SUBMIT,	/* "job_id": a non-empty string shorter than QRTX_JOB_ID_MAX */
	QRTX_SHAPE_JOB,		/* "job": an object (status, cancel) */
	QRTX_SHAPE_WAIT,	/* "job" and a boolean "timed_out" */
	QRTX_SHAPE_RESULT,	/* "job" and "results" an object, null or absent */
	QRTX_SHAPE_LIST,	/* "jobs": an array */
	QRTX_SHAPE_STATS,	/* "stats": an object */
};

/* 0 when r has what the shape asks, else -EBADMSG with why in rerr
 * (the framing was fine: only this answer is bad). */
int qrtx_client_check_shape(const json_t *r, enum qrtx_client_shape shape, const char *op,
			    struct qrtx_reply_error *rerr);

#endif
