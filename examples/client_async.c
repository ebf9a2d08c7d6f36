// SPDX-License-Identifier: MIT
/*
 * The asynchronous client: many jobs in flight at once on the program's
 * own io_uring ring. Every job goes submit -> wait -> result, each step
 * queued from the callback of the one before; the event loop only submits
 * the ring and hands completions to the library.
 *
 *   client_async [-n JOBS] [-c CONNECTIONS] [-s SOCKET] [FILE]
 *
 * JOBS defaults to 100, CONNECTIONS to 1, FILE to examples/bell.qasm and
 * SOCKET to the daemon's default socket ($QRTX_SOCKET, ...). Prints a
 * summary: jobs completed, time, and the counts of all jobs added up.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qrtx/client.h"

#include "example.h"

#define SHOTS 1000

struct job {
	struct qrtx_client_async *ac;
	char id[64];
};

static unsigned int njobs = 100, finished, completed, peak, open_conns;
static json_t *totals;		/* bitstring -> count over every job */
static const char *file = "examples/bell.qasm";

/* e: what the daemon or the library said, NULL when queueing failed. */
static void job_failed(struct job *j, const char *step, int ret,
		       const struct qrtx_reply_error *e)
{
	fprintf(stderr, "job %s: %s: %s\n", j->id[0] ? j->id : "(not submitted)", step,
		e ? e->message : strerror(-ret));
	finished++;
}

static void note_peak(struct qrtx_client_async *ac)
{
	if (qrtx_client_async_outstanding(ac) > peak)
		peak = qrtx_client_async_outstanding(ac);
}

static void on_result(struct qrtx_client_async *ac, int ret, json_t *resp,
		      const struct qrtx_reply_error *e, void *arg)
{
	struct job *j = arg;
	json_t *counts, *n;
	const char *key;

	(void)ac;
	if (ret) {
		job_failed(j, "result", ret, e);
		return;
	}
	counts = json_object_get(json_object_get(resp, "results"), "counts");
	json_object_foreach(counts, key, n) {
		json_int_t had = json_integer_value(json_object_get(totals, key));

		json_object_set_new(totals, key, json_integer(had + json_integer_value(n)));
	}
	completed++;
	finished++;
}

static void on_waited(struct qrtx_client_async *ac, int ret, json_t *resp,
		      const struct qrtx_reply_error *e, void *arg)
{
	struct job *j = arg;
	json_t *job = json_object_get(resp, "job");
	const char *state = json_string_value(json_object_get(job, "state"));

	if (ret) {
		job_failed(j, "wait", ret, e);
		return;
	}
	if (!state || strcmp(state, "Completed")) {
		fprintf(stderr, "job %s: %s\n", j->id, state ? state : "?");
		finished++;
		return;
	}
	ret = qrtx_client_async_result(ac, j->id, on_result, j);
	if (ret)
		job_failed(j, "queue result", ret, NULL);
	note_peak(ac);
}

static void on_submitted(struct qrtx_client_async *ac, int ret, json_t *resp,
			 const struct qrtx_reply_error *e, void *arg)
{
	struct job *j = arg;

	if (ret) {
		job_failed(j, "submit", ret, e);
		return;
	}
	snprintf(j->id, sizeof(j->id), "%s", json_string_value(json_object_get(resp, "job_id")));
	/* No time limit: answered when the job ends, whatever is asked
	 * on this connection meanwhile. */
	ret = qrtx_client_async_wait(ac, j->id, -1, on_waited, j);
	if (ret)
		job_failed(j, "queue wait", ret, NULL);
	note_peak(ac);
}

static void on_closed(void *arg)
{
	(void)arg;
	open_conns--;
}

/* Submit the ring, wait for at least one completion, and hand each one to
 * the library (this program puts nothing of its own on the ring). */
static int reap(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int ret = io_uring_submit_and_wait(ring, 1);

	if (ret < 0 && ret != -EINTR)
		return ret;
	io_uring_for_each_cqe(ring, head, cqe) {
		if (!qrtx_client_async_cqe(cqe))
			fprintf(stderr, "a completion that is not the library's\n");
		n++;
	}
	io_uring_cq_advance(ring, n);
	return 0;
}

int main(int argc, char **argv)
{
	struct qrtx_client_async **conns;
	struct qrtx_reply_error e;
	struct timespec t0, t1;
	struct io_uring ring;
	unsigned int nconns = 1;
	const char *sock = NULL, *key;
	struct job *jobs;
	json_t *opts, *n;
	char *src;
	int opt, ret, rc = 1;
	double s;

	while ((opt = getopt(argc, argv, "n:c:s:")) != -1) {
		switch (opt) {
		case 'n':
			njobs = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			nconns = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 's':
			sock = optarg;
			break;
		default:
			fprintf(stderr, "usage: client_async [-n JOBS] [-c CONNECTIONS] "
				"[-s SOCKET] [FILE]\n");
			return 2;
		}
	}
	if (optind < argc)
		file = argv[optind];
	if (!njobs || !nconns) {
		fprintf(stderr, "client_async: -n and -c take a number of at least 1\n");
		return 2;
	}
	src = read_file(file);
	if (!src) {
		fprintf(stderr, "client_async: cannot read %s: %s\n", file, strerror(errno));
		return 1;
	}
	ret = io_uring_queue_init(256, &ring, 0);
	if (ret) {
		fprintf(stderr, "client_async: io_uring_queue_init: %s\n", strerror(-ret));
		free(src);
		return 1;
	}
	conns = calloc(nconns, sizeof(*conns));
	jobs = calloc(njobs, sizeof(*jobs));
	totals = json_object();
	opts = json_pack("{s:i}", "shots", SHOTS);
	if (!conns || !jobs || !totals || !opts) {
		fprintf(stderr, "client_async: out of memory\n");
		goto out;
	}
	for (unsigned int i = 0; i < nconns; i++) {
		if (qrtx_client_async_open(&ring, sock, &conns[i], &e)) {
			fprintf(stderr, "client_async: %s\n", e.message);
			goto out;
		}
		open_conns++;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Every submission queued at once; the callbacks do the rest. */
	for (unsigned int i = 0; i < njobs; i++) {
		jobs[i].ac = conns[i % nconns];
		ret = qrtx_client_async_submit(jobs[i].ac, src[0] == '{' ? "json" : "qasm", file,
					       src, opts, on_submitted, &jobs[i]);
		if (ret) {
			fprintf(stderr, "client_async: cannot queue job %u: %s\n", i,
				strerror(-ret));
			finished++;
		}
		note_peak(jobs[i].ac);
	}
	while (finished < njobs) {
		ret = reap(&ring);
		if (ret) {
			fprintf(stderr, "client_async: io_uring: %s\n", strerror(-ret));
			goto out;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("%u jobs of %s over %u connection%s: %u completed, %u not, in %.3f s "
	       "(%.0f jobs/s); at most %u requests outstanding on a connection\n",
	       njobs, file, nconns, nconns == 1 ? "" : "s", completed, njobs - completed, s,
	       njobs / s, peak);
	printf("counts over all jobs (%u shots each):\n", SHOTS);
	json_object_foreach(totals, key, n)
		printf("  %s: %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(n));
	rc = completed == njobs ? 0 : 1;
out:
	/* A closed connection's memory goes once its last operation on the
	 * ring completes: reap until every one is gone, then tear down. */
	for (unsigned int i = 0; conns && i < nconns; i++)
		qrtx_client_async_close(conns[i], on_closed, NULL);
	while (open_conns && !reap(&ring))
		;
	io_uring_queue_exit(&ring);
	json_decref(opts);
	json_decref(totals);
	free(jobs);
	free(conns);
	free(src);
	return rc;
}
