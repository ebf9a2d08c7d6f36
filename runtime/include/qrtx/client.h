/* SPDX-License-Identifier: MIT */
/*
 * The qrtxd client: blocking calls over the daemon's Unix socket, one
 * request and its response at a time (Documentation/runtime/daemon.rst
 * has the protocol and what each verb returns).
 *
 * Every call returns 0 on success. When the daemon answers "ok": false
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

#endif
