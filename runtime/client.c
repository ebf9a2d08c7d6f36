// SPDX-License-Identifier: MIT
/*
 * The qrtxd client: see qrtx/client.h and Documentation/runtime/daemon.rst.
 *
 * One request at a time on a blocking Unix stream socket. After a transport
 * failure or a response that cannot be trusted (bad frame, wrong "id") the
 * stream may be out of step with the daemon, so the client refuses further
 * calls with -ENOTCONN rather than read someone else's answer.
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

#define ROOT_SOCKET "/run/qrtx/qrtxd.sock"

#define CAT_CONNECTION "ConnectionError"
#define CAT_PROTOCOL QRTX_PROTO_ERR_PROTOCOL
#define CAT_INTERNAL QRTX_PROTO_ERR_INTERNAL

struct qrtx_client {
	int fd;
	bool broken;		/* the stream can no longer be trusted */
	json_int_t next_id;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void set_err(struct qrtx_reply_error *rerr, const char *cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(struct qrtx_reply_error *rerr, const char *cat, const char *fmt, ...)
{
	va_list ap;

	if (!rerr)
		return;
	snprintf(rerr->category, sizeof(rerr->category), "%s", cat);
	va_start(ap, fmt);
	vsnprintf(rerr->message, sizeof(rerr->message), fmt, ap);
	va_end(ap);
}

static void clear_err(struct qrtx_reply_error *rerr)
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

int qrtx_client_connect(const char *path, struct qrtx_client **out,
			struct qrtx_reply_error *rerr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qrtx_client *c;
	char *def = NULL;
	size_t len;
	int ret;

	*out = NULL;
	clear_err(rerr);
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

	c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(rerr, CAT_INTERNAL, "out of memory");
		free(def);
		return -ENOMEM;
	}
	memcpy(c->path, path, len + 1);
	c->next_id = 1;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ret = -errno;
		set_err(rerr, CAT_CONNECTION, "cannot create a socket: %s", strerror(-ret));
		goto fail;
	}
	while (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		set_err(rerr, CAT_CONNECTION, "cannot connect to qrtxd at %s: %s%s", path,
			strerror(-ret),
			ret == -ENOENT || ret == -ECONNREFUSED ? " (is qrtxd running?)" : "");
		close(c->fd);
		goto fail;
	}
	free(def);
	*out = c;
	return 0;
fail:
	free(c);
	free(def);
	return ret;
}

void qrtx_client_close(struct qrtx_client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
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
	json_t *req, *r = NULL, *ok, *id, *v, *e;
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
	req = json_object();
	if (!req || json_object_set_new(req, "v", json_integer(QRTX_PROTO_VERSION)) ||
	    json_object_set_new(req, "id", json_integer(my_id)) ||
	    json_object_set_new(req, "op", json_string(op)) ||
	    /* The members of args, but never over v, id and op. The cast is
	     * jansson's: args gains and loses references, nothing else. */
	    (args && json_object_update_missing(req, (json_t *)args))) {
		json_decref(req);
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

	ok = json_object_get(r, "ok");
	id = json_object_get(r, "id");
	v = json_object_get(r, "v");
	if (v && !(json_is_integer(v) && json_integer_value(v) == QRTX_PROTO_VERSION)) {
		ret = bad_response(c, "protocol version is not 1", rerr);
		goto out;
	}
	if (!json_is_boolean(ok)) {
		ret = bad_response(c, "no boolean \"ok\"", rerr);
		goto out;
	}
	/* A daemon that could not read a request cannot echo its id: an
	 * error without one is still its answer to this request. */
	if (!(json_is_integer(id) && json_integer_value(id) == my_id) &&
	    !(json_is_false(ok) && (!id || json_is_null(id)))) {
		ret = bad_response(c, "\"id\" does not match the request's", rerr);
		goto out;
	}
	if (json_is_false(ok)) {
		const char *cat, *msg;

		e = json_object_get(r, "error");
		cat = json_string_value(json_object_get(e, "category"));
		msg = json_string_value(json_object_get(e, "message"));
		set_err(rerr, cat && *cat ? cat : CAT_INTERNAL, "%s",
			msg ? msg : "qrtxd refused the request without saying why");
		ret = -EPROTO;
	}
out:
	if (resp && ret != -EBADMSG)
		*resp = r;
	else
		json_decref(r);
	return ret;
}

/* Call op with args (consumed) and, on success, take the member key of
 * the response, which must have the JSON type want (or be absent when
 * optional): *val gets a new reference, or NULL. */
static int call_get(struct qrtx_client *c, const char *op, json_t *args,
		    const char *key, json_type want, bool optional, json_t **val,
		    json_t **resp_out, struct qrtx_reply_error *rerr)
{
	json_t *resp = NULL, *m;
	int ret;

	if (val)
		*val = NULL;
	if (resp_out)
		*resp_out = NULL;
	if (!args) {
		clear_err(rerr);
		set_err(rerr, CAT_INTERNAL, "out of memory (or a string not UTF-8)");
		return -ENOMEM;
	}
	ret = qrtx_client_call(c, op, args, &resp, rerr);
	json_decref(args);
	if (ret) {
		json_decref(resp);
		return ret;
	}
	m = json_object_get(resp, key);
	if (m ? json_typeof(m) != want : !optional) {
		char why[96];

		snprintf(why, sizeof(why), "no %s \"%s\" in the answer to %s",
			 want == JSON_OBJECT ? "object" : want == JSON_ARRAY ? "array" :
			 want == JSON_STRING ? "string" : "valid", key, op);
		json_decref(resp);
		/* The framing was fine: only this answer is bad. */
		set_err(rerr, CAT_PROTOCOL, "malformed response from qrtxd: %s", why);
		return -EBADMSG;
	}
	if (val)
		*val = json_incref(m);
	if (resp_out)
		*resp_out = resp;
	else
		json_decref(resp);
	return 0;
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
	json_t *args, *id = NULL;
	int ret;

	if (job_id)
		job_id[0] = '\0';
	clear_err(rerr);
	if (!format || !source || (options && !json_is_object(options))) {
		set_err(rerr, CAT_INTERNAL, "invalid submit call");
		return -EINVAL;
	}
	args = json_object();
	if (!args)
		goto nomem;
	if (json_object_set_new(args, "format", json_string(format)))
		goto nomem;
	if (json_object_set_new(args, "source", json_string(source))) {
		json_decref(args);
		set_err(rerr, "ValidationError", "the source is not UTF-8 text");
		return -EINVAL;
	}
	if (name && json_object_set_new(args, "name", json_string(name))) {
		json_decref(args);
		set_err(rerr, "ValidationError", "the name is not UTF-8 text");
		return -EINVAL;
	}
	if (options && json_object_set_new(args, "options", json_deep_copy(options)))
		goto nomem;
	ret = call_get(c, "submit", args, "job_id", JSON_STRING, false, &id, NULL, rerr);
	if (ret)
		return ret;
	if (json_string_length(id) == 0 || json_string_length(id) >= QRTX_JOB_ID_MAX ||
	    strlen(json_string_value(id)) != json_string_length(id)) {
		json_decref(id);
		set_err(rerr, CAT_PROTOCOL, "malformed response from qrtxd: bad job_id");
		return -EBADMSG;
	}
	if (job_id)
		memcpy(job_id, json_string_value(id), json_string_length(id) + 1);
	json_decref(id);
	return 0;
nomem:
	json_decref(args);
	set_err(rerr, CAT_INTERNAL, "out of memory");
	return -ENOMEM;
}

int qrtx_client_status(struct qrtx_client *c, const char *job_id, json_t **job,
		       struct qrtx_reply_error *rerr)
{
	if (!job_id) {
		if (job)
			*job = NULL;
		return no_job_id(rerr);
	}
	return call_get(c, "status", job_args(job_id), "job", JSON_OBJECT, false, job, NULL,
			rerr);
}

int qrtx_client_wait(struct qrtx_client *c, const char *job_id, int64_t timeout_ms,
		     json_t **job, int *timed_out, struct qrtx_reply_error *rerr)
{
	json_t *args, *resp = NULL, *to;
	int ret;

	if (timed_out)
		*timed_out = 0;
	if (!job_id) {
		if (job)
			*job = NULL;
		return no_job_id(rerr);
	}
	args = job_args(job_id);
	/* No limit: the member is left out, which the protocol reads so. */
	if (args && timeout_ms >= 0 &&
	    json_object_set_new(args, "timeout_ms", json_integer((json_int_t)timeout_ms))) {
		json_decref(args);
		args = NULL;
	}
	ret = call_get(c, "wait", args, "job", JSON_OBJECT, false, job, &resp, rerr);
	if (ret)
		return ret;
	to = json_object_get(resp, "timed_out");
	if (!json_is_boolean(to)) {
		json_decref(resp);
		if (job) {
			json_decref(*job);
			*job = NULL;
		}
		set_err(rerr, CAT_PROTOCOL,
			"malformed response from qrtxd: no boolean \"timed_out\" in the answer to wait");
		return -EBADMSG;
	}
	if (timed_out)
		*timed_out = json_is_true(to);
	json_decref(resp);
	return 0;
}

int qrtx_client_result(struct qrtx_client *c, const char *job_id, json_t **job,
		       json_t **results, struct qrtx_reply_error *rerr)
{
	json_t *resp = NULL, *r;
	int ret;

	if (results)
		*results = NULL;
	if (!job_id) {
		if (job)
			*job = NULL;
		return no_job_id(rerr);
	}
	ret = call_get(c, "result", job_args(job_id), "job", JSON_OBJECT, false, job, &resp,
		       rerr);
	if (ret)
		return ret;
	r = json_object_get(resp, "results");
	if (r && !json_is_null(r) && !json_is_object(r)) {
		json_decref(resp);
		if (job) {
			json_decref(*job);
			*job = NULL;
		}
		set_err(rerr, CAT_PROTOCOL,
			"malformed response from qrtxd: \"results\" is not an object");
		return -EBADMSG;
	}
	if (results && json_is_object(r))
		*results = json_incref(r);
	json_decref(resp);
	return 0;
}

int qrtx_client_cancel(struct qrtx_client *c, const char *job_id, json_t **job,
		       struct qrtx_reply_error *rerr)
{
	if (!job_id) {
		if (job)
			*job = NULL;
		return no_job_id(rerr);
	}
	return call_get(c, "cancel", job_args(job_id), "job", JSON_OBJECT, false, job, NULL,
			rerr);
}

int qrtx_client_list(struct qrtx_client *c, const char *state, json_t **jobs,
		     struct qrtx_reply_error *rerr)
{
	json_t *args = state ? json_pack("{s:s}", "state", state) : json_object();

	return call_get(c, "list", args, "jobs", JSON_ARRAY, false, jobs, NULL, rerr);
}

int qrtx_client_stats(struct qrtx_client *c, json_t **stats, struct qrtx_reply_error *rerr)
{
	return call_get(c, "stats", json_object(), "stats", JSON_OBJECT, false, stats, NULL,
			rerr);
}
