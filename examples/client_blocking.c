// SPDX-License-Identifier: MIT
/*
 * The blocking client: submit a circuit to qrtxd, wait for it, print its
 * counts.
 *
 *   client_blocking [FILE [SOCKET]]
 *
 * FILE defaults to examples/bell.qasm (OpenQASM 2.0, or a JSON job graph
 * when it starts with '{'); SOCKET to the daemon's default socket
 * ($QRTX_SOCKET, ...). Start a daemon first, e.g.
 *
 *   qrtxd --socket /tmp/q.sock --state-dir /tmp/q &
 *   client_blocking examples/bell.qasm /tmp/q.sock
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/client.h"

#include "example.h"

int main(int argc, char **argv)
{
	const char *file = argc > 1 ? argv[1] : "examples/bell.qasm";
	const char *sock = argc > 2 ? argv[2] : NULL;	/* NULL: the default */
	struct qrtx_reply_error e;
	struct qrtx_client *c;
	json_t *opts, *job = NULL, *results = NULL, *counts, *n;
	const char *key, *state;
	char job_id[64], *src;
	int timed_out, ret, rc = 1;

	src = read_file(file);
	if (!src) {
		fprintf(stderr, "client_blocking: cannot read %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (qrtx_client_connect(sock, &c, &e)) {
		fprintf(stderr, "client_blocking: %s\n", e.message);
		free(src);
		return 1;
	}

	opts = json_pack("{s:i}", "shots", 1024);
	ret = qrtx_client_submit(c, src[0] == '{' ? "json" : "qasm", file, src, opts, job_id, &e);
	json_decref(opts);
	if (ret) {
		fprintf(stderr, "client_blocking: submit: %s: %s\n", e.category, e.message);
		goto out;
	}
	printf("submitted %s as job %s\n", file, job_id);

	/* No time limit (-1): the answer comes when the job ends. */
	ret = qrtx_client_wait(c, job_id, -1, &job, &timed_out, &e);
	if (ret) {
		fprintf(stderr, "client_blocking: wait: %s: %s\n", e.category, e.message);
		goto out;
	}
	state = json_string_value(json_object_get(job, "state"));
	if (!state)
		state = "?";
	printf("job %s: %s\n", job_id, state);
	if (strcmp(state, "Completed")) {
		json_t *err = json_object_get(job, "error");

		if (err)
			printf("  %s: %s\n", json_string_value(json_object_get(err, "category")),
			       json_string_value(json_object_get(err, "message")));
		goto out;
	}

	ret = qrtx_client_result(c, job_id, NULL, &results, &e);
	if (ret) {
		fprintf(stderr, "client_blocking: result: %s: %s\n", e.category, e.message);
		goto out;
	}
	counts = json_object_get(results, "counts");
	json_object_foreach(counts, key, n)
		printf("  %s: %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(n));
	rc = 0;
out:
	json_decref(job);
	json_decref(results);
	qrtx_client_close(c);
	free(src);
	return rc;
}
