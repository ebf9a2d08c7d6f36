// SPDX-License-Identifier: MIT
/*
 * The qrtxd client: see qrtx/client.h and Documentation/runtime/daemon.rst.
 *
 * The blocking form: one request at a time on a blocking Unix stream
 * socket. After a transport failure or a response that cannot be trusted
 * (bad frame, wrong "id") the stream may be out of step with the daemon,
 * so the client refuses further calls with -ENOTCONN rather than read
 * someone else's answer.
 *
 * What both forms share (the socket, how a request is built, how an
 * answer is checked) is here too; the asynchronous form is in
 * client_async.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qrtx/client.h"
#include "qrtx/proto.h"
#include "qrtx/store.h"
#include "client_int.h"

#define ROOT_SOCKET "/run/qrtx/qrtxd.sock"

#define CAT_CONNECTION QRTX_CLIENT_CAT_CONNECTION
#define CAT_PROTOCOL QRTX_CLIENT_CAT_PROTOCOL
#define CAT_INTERNAL QRTX_CLIENT_CAT_INTERNAL

/* Short names for the helpers both forms share (client_int.h). */
#define set_err qrtx_client_set_err
#define clear_err qrtx_client_clear_err

struct qrtx_client {
	int fd;
	bool broken;		/* the stream can no longer be trusted */
	json_int_t next_id;
	char path[QRTX_CLIENT_PATH_MAX];
};

void qrtx_client_set_err(struct qrtx_reply_error *rerr, const char *cat, const char *fmt, ...)
{
	va_list ap;

	if (!rerr)
		return;
	snprintf(rerr->category, sizeof(rerr->category), "%s", cat);
	va_start(ap, fmt);
	vsnprintf(rerr->message, sizeof(rerr->message), fmt, ap);
	va_end(ap);
}

void qrtx_client_clear_err(struct qrtx_reply_error *rerr)
{
	if (rerr) {
		rerr->category[0] = '\0';
		rerr->message[0] = '\0';
	}
}

char *qrtx_client_default_socket(void)
{
	const char *env = getenv("QRTX_SOCKET");
	char *dir, *out;
	int err = 0;

	if (env && *env)
		return strdup(env);
	if (geteuid() == 0)
		return strdup(ROOT_SOCKET);
	dir = qrtx_store_default_dir(&err);
	if (!dir)
		return NULL;
	if (asprintf(&out, "%s/qrtxd.sock", dir) < 0)
		out = NULL;
	free(dir);
	return out;
}

int qrtx_client_dial(const char *path, char *path_out, struct qrtx_reply_error *rerr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *def = NULL;
	size_t len;
	int fd, ret;

	if (!path) {
		def = qrtx_client_default_socket();
		if (!def) {
			set_err(rerr, CAT_CONNECTION,
				"no qrtxd socket path: set QRTX_SOCKET, QRTX_STATE_DIR or HOME");
			return -ENOENT;
		}
		path = def;
	}
	len = strlen(path);
	if (len == 0) {
		set_err(rerr, CAT_CONNECTION, "the qrtxd socket path is empty");
		free(def);
		return -EINVAL;
	}
	if (len >= sizeof(sa.sun_path)) {
		set_err(rerr, CAT_CONNECTION,
			"cannot connect to qrtxd at %s: the path is too long (%zu bytes, at most %zu)",
			path, len, sizeof(sa.sun_path) - 1);
		free(def);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, len + 1);
	memcpy(path_out, path, len + 1);
	free(def);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		set_err(rerr, CAT_CONNECTION, "cannot create a socket: %s", strerror(-ret));
		return ret;
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		set_err(rerr, CAT_CONNECTION, "cannot connect to qrtxd at %s: %s%s", path_out,
			strerror(-ret),
			ret == -ENOENT || ret == -ECONNREFUSED ? " (is qrtxd running?)" : "");
		close(fd);
		return ret;
	}
	return fd;
}

int qrtx_client_connect(const char *path, struct qrtx_client **out,
			struct qrtx_reply_error *rerr)
{
	struct qrtx_client *c;

	*out = NULL;
	clear_err(rerr);
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(rerr, CAT_INTERNAL, "out of memory");
		return -ENOMEM;
	}
	c->next_id = 1;
	c->fd = qrtx_client_dial(path, c->path, rerr);
	if (c->fd < 0) {
		int ret = c->fd;

		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void qrtx_client_close(struct qrtx_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

json_t *qrtx_client_request(json_int_t id, const char *op, const json_t *args)
{
	json_t *req = json_object();

	if (!req || json_object_set_new(req, "v", json_integer(QRTX_PROTO_VERSION)) ||
	    json_object_set_new(req, "id", json_integer(id)) ||
	    json_object_set_new(req, "op", json_string(op)) ||
	    /* The members of args, but never over v, id and op. The cast is
	     * jansson's: args gains and loses references, nothing else. */
	    (args && json_object_update_missing(req, (json_t *)args))) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *qrtx_client_submit_args(const char *format, const char *name, const char *source,
				const json_t *options, int *ret, struct qrtx_reply_error *rerr)
{
	json_t *args;

	if (!format || !source || (options && !json_is_object(options))) {
		set_err(rerr, CAT_INTERNAL, "invalid submit call");
		*ret = -EINVAL;
		return NULL;
	}
	args = json_object();
	if (!args || json_object_set_new(args, "format", json_string(format)))
		goto nomem;
	if (json_object_set_new(args, "source", json_string(source))) {
		json_decref(args);
		set_err(rerr, "ValidationError", "the source is not UTF-8 text");
		*ret = -EINVAL;
		return NULL;
	}
	if (name && json_object_set_new(args, "name", json_string(name))) {
		json_decref(args);
		set_err(rerr, "ValidationError", "the name is not UTF-8 text");
		*ret = -EINVAL;
		return NULL;
	}
	if (options && json_object_set_new(args, "options", json_deep_copy(options)))
		goto nomem;
	*ret = 0;
	return args;
nomem:
	json_decref(args);
	set_err(rerr, CAT_INTERNAL, "out of memory");
	*ret = -ENOMEM;
	return NULL;
}

json_t *qrtx_client_wait_args(const char *job_id, int64_t timeout_ms)
{
	json_t *args = json_pack("{s:s}", "job_id", job_id);

	/* No limit: the member is left out, which the protocol reads so. */
	if (args && timeout_ms >= 0 &&
	    json_object_set_new(args, "timeout_ms", json_integer((json_int_t)timeout_ms))) {
		json_decref(args);
		args = NULL;
	}
	return args;
}

int qrtx_client_check_answer(const json_t *r, struct qrtx_reply_error *rerr)
{
	json_t *v = json_object_get(r, "v");

	if (v && !(json_is_integer(v) && json_integer_value(v) == QRTX_PROTO_VERSION)) {
		set_err(rerr, CAT_PROTOCOL, "malformed response from qrtxd: %s",
			"protocol version is not 1");
		return -EBADMSG;
	}
	if (!json_is_boolean(json_object_get(r, "ok"))) {
		set_err(rerr, CAT_PROTOCOL, "malformed response from qrtxd: %s",
			"no boolean \"ok\"");
		return -EBADMSG;
	}
	return 0;
}

int qrtx_client_answer_error(const json_t *r, struct qrtx_reply_error *rerr)
{
	json_t *e = json_object_get(r, "error");
	const char *cat = json_string_value(json_object_get(e, "category"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	set_err(rerr, cat && *cat ? cat : CAT_INTERNAL, "%s",
		msg ? msg : "qrtxd refused the request without saying why");
	return -EPROTO;
}

static int no_member(const char *want, const char *key, const char *op,
		     struct qrtx_reply_error *rerr)
{
	set_err(rerr, CAT_PROTOCOL, "malformed response from qrtxd: no %s \"%s\" in the answer to %s",
		want, key, op);
	return -EBADMSG;
}

int qrtx_client_check_shape(const json_t *r, enum qrtx_client_shape shape, const char *op,
			    struct qrtx_reply_error *rerr)
{
	json_t *m;

	switch (shape) {
	case QRTX_SHAPE_ANY:
		return 0;
	case QRTX_SHAPE_SUBMIT:
		m = json_object_get(r, "job_id");
		if (!json_is_string(m))
			return no_member("string", "job_id", op, rerr);
		if (json_string_length(m) == 0 || json_string_length(m) >= QRTX_JOB_ID_MAX ||
		    strlen(json_string_value(m)) != json_string_length(m)) {
			set_err(rerr, CAT_PROTOCOL, "malformed response from qrtxd: bad job_id");
			return -EBADMSG;
		}
		return 0;
	case QRTX_SHAPE_LIST:
		return json_is_array(json_object_get(r, "jobs")) ? 0 :
		       no_member("array", "jobs", op, rerr);
	case QRTX_SHAPE_STATS:
		return json_is_object(json_object_get(r, "stats")) ? 0 :
		       no_member("object", "stats", op, rerr);
	case QRTX_SHAPE_JOB:
	case QRTX_SHAPE_WAIT:
	case QRTX_SHAPE_RESULT:
		break;
	}
	if (!json_is_object(json_object_get(r, "job")))
		return no_member("object", "job", op, rerr);
	if (shape == QRTX_SHAPE_WAIT && !json_is_boolean(json_object_get(r, "timed_out"))) {
		set_err(rerr, CAT_PROTOCOL,
			"malformed response from qrtxd: no boolean \"timed_out\" in the answer to %s",
			op);
		return -EBADMSG;
	}
	m = json_object_get(r, "results");
	if (shape == QRTX_SHAPE_RESULT && m && !json_is_null(m) && !json_is_object(m)) {
		set_err(rerr, CAT_PROTOCOL,
			"malformed response from qrtxd: \"results\" is not an object");
		return -EBADMSG;
	}
	return 0;
}

/* A transport failure: the connection is not used again. */
static int transport_err(struct qrtx_client *c, int ret, bool sending,
			 struct qrtx_reply_error *rerr)
{
	c->broken = true;
	if (ret == -ENOMEM) {
		set_err(rerr, CAT_INTERNAL, "out of memory");
	} else if (ret == -ECONNRESET || ret == -EPIPE) {
		set_err(rerr, CAT_CONNECTION, "qrtxd at %s closed the connection %s",
			c->path, sending ? "before the request was sent" : "before answering");
	} else {
		set_err(rerr, CAT_CONNECTION, "cannot %s qrtxd at %s: %s",
			sending ? "send to" : "receive from", c->path, strerror(-ret));
	}
	return ret;
}

static int bad_response(struct qrtx_client *c, const char *why, struct qrtx_reply_error *rerr)
{
	c->broken = true;
	set_err(rerr, CAT_PROTOCOL, "malformed response from qrtxd: %s", why);
	return -EBADMSG;
}

int qrtx_client_call(struct qrtx_client *c, const char *op, const json_t *args,
		     json_t **resp, struct qrtx_reply_error *rerr)
{
	char errbuf[256] = "";
	json_t *req, *r = NULL, *ok, *id;
	json_int_t my_id;
	int ret;

	if (resp)
		*resp = NULL;
	clear_err(rerr);
	if (!c || !op || (args && !json_is_object(args))) {
		set_err(rerr, CAT_INTERNAL, "invalid call");
		return -EINVAL;
	}
	if (c->broken) {
		set_err(rerr, CAT_CONNECTION,
			"the connection to qrtxd at %s was lost by an earlier error", c->path);
		return -ENOTCONN;
	}
	my_id = c->next_id++;
	req = qrtx_client_request(my_id, op, args);
	if (!req) {
		set_err(rerr, CAT_INTERNAL, "out of memory (or op not UTF-8)");
		return -ENOMEM;
	}
	ret = qrtx_proto_send(c->fd, req);
	json_decref(req);
	if (ret == -EMSGSIZE) {
		/* Nothing was written: the connection is still good. */
		set_err(rerr, CAT_PROTOCOL, "request too large (the limit is %u MiB)",
			QRTX_PROTO_MAX_FRAME >> 20);
		return ret;
	}
	if (ret)
		return transport_err(c, ret, true, rerr);

	ret = qrtx_proto_recv(c->fd, &r, errbuf, sizeof(errbuf));
	if (ret == -EBADMSG || ret == -EMSGSIZE)
		return bad_response(c, errbuf[0] ? errbuf : "bad frame", rerr);
	if (ret)
		return transport_err(c, ret, false, rerr);

	ret = qrtx_client_check_answer(r, rerr);
	if (ret) {
		c->broken = true;
		goto out;
	}
	ok = json_object_get(r, "ok");
	id = json_object_get(r, "id");
	/* A daemon that could not read a request cannot echo its id: an
	 * error without one is still its answer to this request. */
	if (!(json_is_integer(id) && json_integer_value(id) == my_id) &&
	    !(json_is_false(ok) && (!id || json_is_null(id)))) {
		ret = bad_response(c, "\"id\" does not match the request's", rerr);
		goto out;
	}
	if (json_is_false(ok))
		ret = qrtx_client_answer_error(r, rerr);
out:
	if (resp && ret != -EBADMSG)
		*resp = r;
	else
		json_decref(r);
	return ret;
}

/* Call op with args (consumed) and check the answer has the shape of the
 * verb's: *resp gets the whole answer on success, else NULL. */
static int call_shape(struct qrtx_client *c, const char *op, json_t *args,
		      enum qrtx_client_shape shape, json_t **resp, struct qrtx_reply_error *rerr)
{
	int ret;

	*resp = NULL;
	if (!args) {
		clear_err(rerr);
		set_err(rerr, CAT_INTERNAL, "out of memory (or a string not UTF-8)");
		return -ENOMEM;
	}
	ret = qrtx_client_call(c, op, args, resp, rerr);
	json_decref(args);
	if (!ret)
		ret = qrtx_client_check_shape(*resp, shape, op, rerr);
	if (ret) {
		json_decref(*resp);
		*resp = NULL;
	}
	return ret;
}

/* A new reference to the member key of resp (NULL when absent). */
static json_t *take(json_t *resp, const char *key)
{
	return json_incref(json_object_get(resp, key));
}

static json_t *job_args(const char *job_id)
{
	return json_pack("{s:s}", "job_id", job_id);
}

static int no_job_id(struct qrtx_reply_error *rerr)
{
	clear_err(rerr);
	set_err(rerr, CAT_INTERNAL, "no job id given");
	return -EINVAL;
}

int qrtx_client_submit(struct qrtx_client *c, const char *format, const char *name,
		       const char *source, const json_t *options, char *job_id,
		       struct qrtx_reply_error *rerr)
{
	json_t *args, *resp;
	int ret;

	if (job_id)
		job_id[0] = '\0';
	clear_err(rerr);
	args = qrtx_client_submit_args(format, name, source, options, &ret, rerr);
	if (!args)
		return ret;
	ret = call_shape(c, "submit", args, QRTX_SHAPE_SUBMIT, &resp, rerr);
	if (ret)
		return ret;
	if (job_id) {
		json_t *id = json_object_get(resp, "job_id");

		memcpy(job_id, json_string_value(id), json_string_length(id) + 1);
	}
	json_decref(resp);
	return 0;
}

/* The verbs answered with {"job": ...}: *job gets it. */
static int job_verb(struct qrtx_client *c, const char *op, const char *job_id, json_t **job,
		    struct qrtx_reply_error *rerr)
{
	json_t *resp;
	int ret;

	if (job)
		*job = NULL;
	if (!job_id)
		return no_job_id(rerr);
	ret = call_shape(c, op, job_args(job_id), QRTX_SHAPE_JOB, &resp, rerr);
	if (ret)
		return ret;
	if (job)
		*job = take(resp, "job");
	json_decref(resp);
	return 0;
}

int qrtx_client_status(struct qrtx_client *c, const char *job_id, json_t **job,
		       struct qrtx_reply_error *rerr)
{
	return job_verb(c, "status", job_id, job, rerr);
}

int qrtx_client_wait(struct qrtx_client *c, const char *job_id, int64_t timeout_ms,
		     json_t **job, int *timed_out, struct qrtx_reply_error *rerr)
{
	json_t *resp;
	int ret;

	if (timed_out)
		*timed_out = 0;
	if (job)
		*job = NULL;
	if (!job_id)
		return no_job_id(rerr);
	ret = call_shape(c, "wait", qrtx_client_wait_args(job_id, timeout_ms), QRTX_SHAPE_WAIT,
			 &resp, rerr);
	if (ret)
		return ret;
	if (job)
		*job = take(resp, "job");
	if (timed_out)
		*timed_out = json_is_true(json_object_get(resp, "timed_out"));
	json_decref(resp);
	return 0;
}

int qrtx_client_result(struct qrtx_client *c, const char *job_id, json_t **job,
		       json_t **results, struct qrtx_reply_error *rerr)
{
	json_t *resp, *r;
	int ret;

	if (results)
		*results = NULL;
	if (job)
		*job = NULL;
	if (!job_id)
		return no_job_id(rerr);
	ret = call_shape(c, "result", job_args(job_id), QRTX_SHAPE_RESULT, &resp, rerr);
	if (ret)
		return ret;
	if (job)
		*job = take(resp, "job");
	r = json_object_get(resp, "results");
	if (results && json_is_object(r))
		*results = json_incref(r);
	json_decref(resp);
	return 0;
}

int qrtx_client_cancel(struct qrtx_client *c, const char *job_id, json_t **job,
		       struct qrtx_reply_error *rerr)
{
	return job_verb(c, "cancel", job_id, job, rerr);
}

int qrtx_client_list(struct qrtx_client *c, const char *state, json_t **jobs,
		     struct qrtx_reply_error *rerr)
{
	json_t *args = state ? json_pack("{s:s}", "state", state) : json_object();
	json_t *resp;
	int ret;

	if (jobs)
		*jobs = NULL;
	ret = call_shape(c, "list", args, QRTX_SHAPE_LIST, &resp, rerr);
	if (ret)
		return ret;
	if (jobs)
		*jobs = take(resp, "jobs");
	json_decref(resp);
	return 0;
}

int qrtx_client_stats(struct qrtx_client *c, json_t **stats, struct qrtx_reply_error *rerr)
{
	json_t *resp;
	int ret;

	if (stats)
		*stats = NULL;
	ret = call_shape(c, "stats", json_object(), QRTX_SHAPE_STATS, &resp, rerr);
	if (ret)
		return ret;
	if (stats)
		*stats = take(resp, "stats");
	json_decref(resp);
	return 0;
}
