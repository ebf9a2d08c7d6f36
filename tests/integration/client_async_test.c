// SPDX-License-Identifier: MIT
/*
 * The asynchronous client (qrtx/client.h) against a real qrtxd on a
 * temporary socket and state directory, all on one io_uring ring of this
 * program's. TAP on stdout.
 *
 *   client_async_test QRTXD
 *
 * The example programs are run too when they sit where the build puts
 * them (../../examples/ from this program).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <liburing.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qrtx/client.h"

#include "circuits.h"
#include "harness.h"

#define SHOTS 100
#define APP_UD 0x1234u		/* user_data of this program's own operations */

static char dir[256], sock_path[300];
static pid_t daemon_pid;
static struct io_uring ring;
static unsigned int foreign;	/* completions the library left to us */
static unsigned int seq;	/* callbacks so far, to tell their order */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* --- the daemon -------------------------------------------------------- */

static void start_daemon(const char *qrtxd, int workers)
{
	daemon_pid = spawn_daemon(qrtxd, dir, sock_path, dir, workers, NULL, NULL);
	if (daemon_answers(sock_path, 300))
		return;
	printf("Bail out! qrtxd did not start (see %s/qrtxd.log)\n", dir);
	exit(1);
}

/* 0: it exited 0 on SIGTERM (under the sanitizers: no leak, no error). */
static int stop_daemon(void)
{
	int st = 0;

	if (daemon_pid <= 0)
		return 0;
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, &st, 0);
	daemon_pid = 0;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

static void kill_daemon_at_exit(void)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
	}
}

/* --- the ring ---------------------------------------------------------- */

/*
 * The event loop: submit, wait a little, hand every completion to the
 * library (counting those it leaves to us), until done(arg) or limit_s
 * seconds. Returns done(arg).
 */
static bool drive(bool (*done)(void *), void *arg, double limit_s)
{
	double end = now_s() + limit_s;

	while (!done(arg) && now_s() < end) {
		struct __kernel_timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
		struct io_uring_cqe *cqe;
		unsigned int head, n = 0;

		io_uring_submit(&ring);
		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts))
			continue;
		io_uring_for_each_cqe(&ring, head, cqe) {
			if (!qrtx_client_async_cqe(cqe)) {
				if (cqe->user_data == APP_UD)
					foreign++;
				else
					printf("# a completion nobody owns: user_data %llx\n",
					       (unsigned long long)cqe->user_data);
			}
			n++;
		}
		io_uring_cq_advance(&ring, n);
	}
	return done(arg);
}

/* --- what callbacks record --------------------------------------------- */

struct rec {
	unsigned int calls, seq;
	int ret;
	char cat[32], msg[512];
	json_t *resp;
};

static void record(struct qrtx_client_async *ac, int ret, json_t *resp,
		   const struct qrtx_reply_error *rerr, void *arg)
{
	struct rec *r = arg;

	(void)ac;
	r->calls++;
	r->seq = ++seq;
	r->ret = ret;
	snprintf(r->cat, sizeof(r->cat), "%s", rerr->category);
	snprintf(r->msg, sizeof(r->msg), "%s", rerr->message);
	if (resp && !r->resp)
		r->resp = json_incref(resp);
}

static void rec_clear(struct rec *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		json_decref(r[i].resp);
	memset(r, 0, n * sizeof(*r));
}

struct recs {
	struct rec *r;
	unsigned int n;
};

static bool all_called(void *arg)
{
	struct recs *rs = arg;

	for (unsigned int i = 0; i < rs->n; i++)
		if (!rs->r[i].calls)
			return false;
	return true;
}

static bool flag_set(void *arg)
{
	return *(bool *)arg;
}

static void set_flag(void *arg)
{
	*(bool *)arg = true;
}

static const char *job_state(const struct rec *r)
{
	const char *s = json_string_value(json_object_get(json_object_get(r->resp, "job"),
							  "state"));

	return s ? s : "?";
}

/* --- circuits ---------------------------------------------------------- */

static json_t *shots_opts(void)
{
	return json_pack("{s:i}", "shots", SHOTS);
}

/* Counts of a Bell pair: only "00" and "11", adding up to SHOTS. */
static bool bell_counts(const json_t *results)
{
	json_t *counts = json_object_get(results, "counts"), *n;
	json_int_t sum = 0;
	const char *key;

	if (!json_is_object(counts) || !json_object_size(counts))
		return false;
	json_object_foreach(counts, key, n) {
		if ((strcmp(key, "00") && strcmp(key, "11")) || !json_is_integer(n))
			return false;
		sum += json_integer_value(n);
	}
	return sum == SHOTS;
}

/* --- a job's way through: submit -> wait -> result --------------------- */

struct pjob {
	struct qrtx_client_async *ac;
	char id[64];
	unsigned int calls[3];	/* callbacks of submit, wait, result */
	int err;		/* the first failure */
	char why[512];
	bool done, good;
};

static unsigned int pjobs_done, peak;

static void pjob_end(struct pjob *j, int err, const char *why)
{
	if (j->done) {
		j->err = j->err ? j->err : -EALREADY;
		return;
	}
	j->done = true;
	j->err = err;
	snprintf(j->why, sizeof(j->why), "%s", why);
	j->good = !err;
	pjobs_done++;
}

static void note_peak(struct qrtx_client_async *ac)
{
	if (qrtx_client_async_outstanding(ac) > peak)
		peak = qrtx_client_async_outstanding(ac);
}

static void pj_result(struct qrtx_client_async *ac, int ret, json_t *resp,
		      const struct qrtx_reply_error *rerr, void *arg)
{
	struct pjob *j = arg;

	(void)ac;
	j->calls[2]++;
	if (ret)
		pjob_end(j, ret, rerr->message);
	else if (!bell_counts(json_object_get(resp, "results")))
		pjob_end(j, -EDOM, "counts are not a Bell pair's");
	else
		pjob_end(j, 0, "");
}

static void pj_wait(struct qrtx_client_async *ac, int ret, json_t *resp,
		    const struct qrtx_reply_error *rerr, void *arg)
{
	struct pjob *j = arg;
	const char *st = json_string_value(json_object_get(json_object_get(resp, "job"), "state"));

	j->calls[1]++;
	if (ret) {
		pjob_end(j, ret, rerr->message);
		return;
	}
	if (!st || strcmp(st, "Completed") || json_is_true(json_object_get(resp, "timed_out"))) {
		pjob_end(j, -EDOM, st ? st : "no state");
		return;
	}
	ret = qrtx_client_async_result(ac, j->id, pj_result, j);
	if (ret)
		pjob_end(j, ret, "cannot queue result");
	note_peak(ac);
}

static void pj_submit(struct qrtx_client_async *ac, int ret, json_t *resp,
		      const struct qrtx_reply_error *rerr, void *arg)
{
	struct pjob *j = arg;

	j->calls[0]++;
	if (ret) {
		pjob_end(j, ret, rerr->message);
		return;
	}
	snprintf(j->id, sizeof(j->id), "%s", json_string_value(json_object_get(resp, "job_id")));
	ret = qrtx_client_async_wait(ac, j->id, 120000, pj_wait, j);
	if (ret)
		pjob_end(j, ret, "cannot queue wait");
	note_peak(ac);
}

static unsigned int pjobs_total;

static bool pjobs_all_done(void *arg)
{
	(void)arg;
	return pjobs_done == pjobs_total;
}

/*
 * n Bell jobs over nconns connections on the ring, every submission queued
 * before the ring is first reaped. Returns how many went through with the
 * right counts, each of their three callbacks called once.
 */
static unsigned int run_jobs(unsigned int n, unsigned int nconns, double *secs,
			     char *first_id)
{
	struct qrtx_client_async *ac[16];
	struct qrtx_reply_error e;
	struct pjob *jobs = calloc(n, sizeof(*jobs));
	json_t *o = shots_opts();
	unsigned int good = 0, queued = 0, closed = 0;
	double t0 = now_s();

	pjobs_done = 0;
	pjobs_total = n;
	peak = 0;
	for (unsigned int i = 0; i < nconns; i++) {
		if (qrtx_client_async_open(&ring, sock_path, &ac[i], &e)) {
			printf("# open: %s\n", e.message);
			nconns = i;
			break;
		}
	}
	for (unsigned int i = 0; nconns && i < n; i++) {
		jobs[i].ac = ac[i % nconns];
		if (qrtx_client_async_submit(jobs[i].ac, "qasm", "bell.qasm", bell, o, pj_submit,
					     &jobs[i]))
			pjob_end(&jobs[i], -EIO, "cannot queue submit");
		else
			queued++;
		note_peak(jobs[i].ac);
	}
	if (nconns == 1)
		printf("# %u submissions queued, %u outstanding on the connection before the first reap\n",
		       queued, qrtx_client_async_outstanding(ac[0]));
	if (nconns)
		drive(pjobs_all_done, NULL, 600);
	*secs = now_s() - t0;
	for (unsigned int i = 0; i < n; i++) {
		if (jobs[i].good && jobs[i].calls[0] == 1 && jobs[i].calls[1] == 1 &&
		    jobs[i].calls[2] == 1)
			good++;
		else if (n - good < 5)
			printf("# job %u (%s): %s (%d), callbacks %u/%u/%u\n", i, jobs[i].id,
			       jobs[i].why, jobs[i].err, jobs[i].calls[0], jobs[i].calls[1],
			       jobs[i].calls[2]);
	}
	if (first_id)
		snprintf(first_id, 64, "%s", jobs[0].id);
	/* Nothing outstanding, nothing on the ring: freed at once. */
	for (unsigned int i = 0; i < nconns; i++) {
		bool gone = false;

		qrtx_client_async_close(ac[i], set_flag, &gone);
		closed += gone;
	}
	if (closed != nconns)
		printf("# %u of %u idle connections not freed by close\n", nconns - closed,
		       nconns);
	json_decref(o);
	free(jobs);
	return closed == nconns ? good : 0;
}

/* --- tests ------------------------------------------------------------- */

static char done_id[64];	/* a job that completed */

static void test_many_in_flight(void)
{
	unsigned int good;
	double s;

	good = run_jobs(200, 1, &s, done_id);
	ok(good == 200 && peak >= 200,
	   "200 Bell submissions in flight on one connection: %u of 200 go submit -> wait -> "
	   "result, each callback once, counts only 00/11 summing to %d (at most %u "
	   "outstanding, %.2f s)", good, SHOTS, peak, s);
}

static void test_many_connections(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	unsigned int good;
	double s;

	/* One operation of this program's own among the library's. */
	foreign = 0;
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, APP_UD);
	good = run_jobs(200, 4, &s, NULL);
	ok(good == 200, "4 connections on one ring, 50 Bell jobs each in flight: %u of 200 "
	   "complete with Bell counts (%.2f s)", good, s);
	ok(foreign == 1, "the library leaves the program's own completions to it (%u seen)",
	   foreign);
}

static void test_bad_requests(void)
{
	struct qrtx_client_async *ac;
	struct qrtx_reply_error e;
	struct rec r[7] = { 0 };
	struct recs rs = { r, 7 };
	json_t *notobj = json_array(), *o = shots_opts();
	size_t big = 17u << 20;
	char *huge = malloc(big);
	int q[7], e1, e2, e3, e4;
	bool gone = false;

	if (qrtx_client_async_open(&ring, sock_path, &ac, &e)) {
		ok(false, "open: %s", e.message);
		return;
	}
	q[0] = qrtx_client_async_status(ac, done_id, record, &r[0]);
	q[1] = qrtx_client_async_call(ac, "frobnicate", NULL, record, &r[1]);
	q[2] = qrtx_client_async_status(ac, "no-such-job", record, &r[2]);
	q[3] = qrtx_client_async_submit(ac, "qasm", "bad.qasm",
					"OPENQASM 2.0; qreg q[1]; bogus q[0];", o, record, &r[3]);
	q[4] = qrtx_client_async_call(ac, "ping", NULL, record, &r[4]);
	q[5] = qrtx_client_async_result(ac, done_id, record, &r[5]);
	q[6] = qrtx_client_async_list(ac, "Completed", record, &r[6]);
	drive(all_called, &rs, 60);
	ok(!q[0] && !q[1] && !q[2] && !q[3] && !q[4] && !q[5] && !q[6] &&
	   r[1].calls == 1 && r[1].ret == -EPROTO && !strcmp(r[1].cat, "ProtocolError") &&
	   r[2].calls == 1 && r[2].ret == -EPROTO && !strcmp(r[2].cat, "NotFound") &&
	   r[3].calls == 1 && r[3].ret == -EPROTO &&
	   (!strcmp(r[3].cat, "ValidationError") || !strcmp(r[3].cat, "CompileError")),
	   "bad requests among good ones: each gets its own error (unknown verb: %s, unknown "
	   "job: %s, bad QASM: %s)", r[1].cat, r[2].cat, r[3].cat);
	ok(r[0].calls == 1 && !r[0].ret && !strcmp(job_state(&r[0]), "Completed") &&
	   r[4].calls == 1 && !r[4].ret && r[5].calls == 1 && !r[5].ret &&
	   bell_counts(json_object_get(r[5].resp, "results")) &&
	   r[6].calls == 1 && !r[6].ret && json_array_size(json_object_get(r[6].resp, "jobs")) >= 400,
	   "and the good ones around them their answers (status, ping, result, list of %zu)",
	   json_array_size(json_object_get(r[6].resp, "jobs")));

	memset(huge, ' ', big - 1);
	huge[big - 1] = '\0';
	e1 = qrtx_client_async_status(ac, NULL, record, &r[0]);
	e2 = qrtx_client_async_call(ac, "ping", notobj, record, &r[0]);
	e3 = qrtx_client_async_submit(ac, "qasm", "huge.qasm", huge, NULL, record, &r[0]);
	e4 = qrtx_client_async_call(ac, "ping", NULL, NULL, NULL);
	ok(e1 == -EINVAL && e2 == -EINVAL && e3 == -EMSGSIZE && e4 == -EINVAL &&
	   r[0].calls == 1 && !qrtx_client_async_outstanding(ac),
	   "requests that cannot be queued are refused at once (%d %d %d %d), their callbacks "
	   "never called", e1, e2, e3, e4);
	rec_clear(r, 7);
	q[0] = qrtx_client_async_call(ac, "ping", NULL, record, &r[0]);
	rs.n = 1;
	drive(all_called, &rs, 30);
	ok(!q[0] && r[0].calls == 1 && !r[0].ret, "the connection still answers after all that");
	qrtx_client_async_close(ac, set_flag, &gone);
	ok(gone, "an idle connection is freed by close at once");
	rec_clear(r, 7);
	free(huge);
	json_decref(notobj);
	json_decref(o);
}

/*
 * A reader that falls behind: 60 list requests (answers of about 100 KiB
 * each) sent, then nothing read for 0.4 s, so the daemon's sends stop
 * part way through a frame with more frames queued behind it (which it
 * then sends joined to the rest of that frame). Every answer arrives
 * whole and in order, each the same list.
 */
static void test_slow_reader(void)
{
	enum { N = 60 };
	struct qrtx_client_async *ac;
	struct qrtx_reply_error e;
	struct rec *r = calloc(N, sizeof(*r));
	struct recs rs = { r, N };
	unsigned int good = 0;
	size_t len0 = 0;
	bool gone = false;

	if (!r || qrtx_client_async_open(&ring, sock_path, &ac, &e)) {
		ok(false, "open: %s", r ? e.message : "out of memory");
		free(r);
		return;
	}
	for (int i = 0; i < N; i++)
		qrtx_client_async_list(ac, NULL, record, &r[i]);
	io_uring_submit(&ring);
	usleep(400000);
	drive(all_called, &rs, 60);
	len0 = json_array_size(json_object_get(r[0].resp, "jobs"));
	for (int i = 0; i < N; i++)
		good += r[i].calls == 1 && !r[i].ret && (!i || r[i].seq > r[i - 1].seq) &&
			json_array_size(json_object_get(r[i].resp, "jobs")) == len0;
	ok(good == N && len0 >= 400,
	   "a reader that falls behind: %u of %d list answers (%zu jobs each) whole and in order",
	   good, N, len0);
	qrtx_client_async_close(ac, set_flag, &gone);
	drive(flag_set, &gone, 10);
	rec_clear(r, N);
	free(r);
}

/* Requests far larger than the socket's buffer: sent in parts, or in one
 * send the kernel finishes in parts; either way whole frames arrive. */
static void test_big_requests(void)
{
	enum { N = 3 };
	size_t pad = 6u << 20, len = strlen(bell);
	struct qrtx_client_async *ac;
	struct qrtx_reply_error e;
	struct pjob jobs[N];
	json_t *o = shots_opts();
	char *src = malloc(pad + len + 1);
	unsigned int good = 0;
	bool gone = false;

	/* Comment lines of 100 bytes in front of the circuit. */
	for (size_t i = 0; i < pad; i += 100) {
		memset(src + i, 'x', 100);
		memcpy(src + i, "// ", 3);
		src[i + 99] = '\n';
	}
	memcpy(src + pad, bell, len + 1);
	memset(jobs, 0, sizeof(jobs));
	pjobs_done = 0;
	pjobs_total = N;
	if (qrtx_client_async_open(&ring, sock_path, &ac, &e)) {
		ok(false, "open: %s", e.message);
		goto out;
	}
	for (int i = 0; i < N; i++) {
		jobs[i].ac = ac;
		if (qrtx_client_async_submit(ac, "qasm", "big.qasm", src, o, pj_submit, &jobs[i]))
			pjob_end(&jobs[i], -EIO, "cannot queue submit");
	}
	drive(pjobs_all_done, NULL, 300);
	for (int i = 0; i < N; i++) {
		good += jobs[i].good && jobs[i].calls[0] == 1 && jobs[i].calls[1] == 1 &&
			jobs[i].calls[2] == 1;
		if (!jobs[i].good)
			printf("# big job %d: %s\n", i, jobs[i].why);
	}
	ok(good == N, "%d submissions of %zu MiB each pipelined on one connection: %u complete "
	   "with Bell counts", N, pad >> 20, good);
	qrtx_client_async_close(ac, set_flag, &gone);
	drive(flag_set, &gone, 10);
out:
	json_decref(o);
	free(src);
}

static void test_wait_and_cancel(void)
{
	struct qrtx_client_async *ac;
	struct qrtx_reply_error e;
	struct rec sub = { 0 }, w1 = { 0 }, w2 = { 0 }, p = { 0 }, c = { 0 }, w3 = { 0 };
	struct recs rs = { &sub, 1 };
	char *slow = layered_source(24, 60), id[64];
	bool gone = false;
	double t0, dt;

	if (qrtx_client_async_open(&ring, sock_path, &ac, &e)) {
		ok(false, "open: %s", e.message);
		free(slow);
		return;
	}
	qrtx_client_async_submit(ac, "qasm", "slow.qasm", slow, NULL, record, &sub);
	drive(all_called, &rs, 60);
	snprintf(id, sizeof(id), "%s",
		 sub.ret ? "" : json_string_value(json_object_get(sub.resp, "job_id")));

	t0 = now_s();
	qrtx_client_async_wait(ac, id, 300, record, &w1);
	qrtx_client_async_wait(ac, id, -1, record, &w2);
	qrtx_client_async_call(ac, "ping", NULL, record, &p);
	rs.r = &w1;
	drive(all_called, &rs, 60);
	dt = now_s() - t0;
	ok(w1.calls == 1 && !w1.ret && json_is_true(json_object_get(w1.resp, "timed_out")) &&
	   strcmp(job_state(&w1), "Completed") && dt >= 0.25,
	   "wait with a 300 ms limit on a long job: timed_out after %.0f ms, job %s", dt * 1e3,
	   job_state(&w1));
	ok(p.calls == 1 && !p.ret && p.seq < w1.seq && !w2.calls,
	   "answers are matched by id: a ping queued after two waits is answered first, the "
	   "unlimited wait still outstanding");

	qrtx_client_async_cancel(ac, id, record, &c);
	rs.r = &c;
	drive(all_called, &rs, 60);
	rs.r = &w2;
	drive(all_called, &rs, 60);
	ok(c.calls == 1 && !c.ret && !strcmp(job_state(&c), "Cancelled"),
	   "cancel a running job: answered with the job Cancelled (%s)", job_state(&c));
	ok(w2.calls == 1 && !w2.ret && json_is_false(json_object_get(w2.resp, "timed_out")) &&
	   !strcmp(job_state(&w2), "Cancelled"),
	   "the outstanding unlimited wait is answered with it (%s)", job_state(&w2));
	qrtx_client_async_wait(ac, id, 0, record, &w3);
	rs.r = &w3;
	drive(all_called, &rs, 30);
	ok(w3.calls == 1 && !w3.ret && !strcmp(job_state(&w3), "Cancelled") &&
	   json_is_false(json_object_get(w3.resp, "timed_out")),
	   "a wait on a finished job is answered at once, not timed out");
	qrtx_client_async_close(ac, set_flag, &gone);
	drive(flag_set, &gone, 10);
	rec_clear(&sub, 1);
	rec_clear(&w1, 1);
	rec_clear(&w2, 1);
	rec_clear(&w3, 1);
	rec_clear(&p, 1);
	rec_clear(&c, 1);
	free(slow);
}

/* Close from inside a callback: closes its own connection. */
static struct qrtx_client_async *self_close_ac;
static bool self_close_gone;

static void close_in_callback(struct qrtx_client_async *ac, int ret, json_t *resp,
			      const struct qrtx_reply_error *rerr, void *arg)
{
	record(ac, ret, resp, rerr, arg);
	qrtx_client_async_close(self_close_ac, set_flag, &self_close_gone);
	/* Both are refused now, without a callback. */
	if (qrtx_client_async_call(ac, "ping", NULL, record, arg) != -ENOTCONN)
		((struct rec *)arg)->calls += 100;
}

static void test_close_in_flight(void)
{
	enum { N = 40 };
	struct qrtx_client_async *ac;
	struct qrtx_reply_error e;
	struct rec r[N];
	json_t *o = shots_opts();

	for (int submitted = 1; submitted >= 0; submitted--) {
		unsigned int once = 0, cancelled = 0;
		bool gone = false, gone_at_close;

		memset(r, 0, sizeof(r));
		if (qrtx_client_async_open(&ring, sock_path, &ac, &e)) {
			ok(false, "open: %s", e.message);
			break;
		}
		for (int i = 0; i < N; i++) {
			if (i % 2)
				qrtx_client_async_submit(ac, "qasm", "bell.qasm", bell, o, record,
							 &r[i]);
			else
				qrtx_client_async_list(ac, NULL, record, &r[i]);
		}
		if (submitted)
			io_uring_submit(&ring);
		qrtx_client_async_close(ac, set_flag, &gone);
		gone_at_close = gone;
		for (int i = 0; i < N; i++) {
			once += r[i].calls == 1;
			cancelled += r[i].ret == -ECANCELED &&
				     !strcmp(r[i].cat, "ConnectionError");
		}
		ok(once == N && cancelled == N && !gone_at_close,
		   "close with %d requests %s: each callback called once with -ECANCELED before "
		   "close returns (%u, %u), the memory kept while the ring still has its operations",
		   N, submitted ? "sent to the daemon" : "queued but not yet submitted", once,
		   cancelled);
		ok(drive(flag_set, &gone, 10), "and freed once they complete (closed callback "
		   "called)");
		rec_clear(r, N);
	}

	/* A callback that closes its own connection, others outstanding. */
	memset(r, 0, sizeof(r));
	self_close_gone = false;
	if (!qrtx_client_async_open(&ring, sock_path, &self_close_ac, &e)) {
		struct recs rs = { r, 3 };
		bool none_after;

		qrtx_client_async_call(self_close_ac, "ping", NULL, close_in_callback, &r[0]);
		qrtx_client_async_call(self_close_ac, "ping", NULL, record, &r[1]);
		qrtx_client_async_list(self_close_ac, NULL, record, &r[2]);
		drive(all_called, &rs, 30);
		none_after = r[1].calls == 1 && r[2].calls == 1;
		drive(flag_set, &self_close_gone, 10);
		ok(r[0].calls == 1 && !r[0].ret && none_after && r[1].ret == -ECANCELED &&
		   r[2].ret == -ECANCELED && r[1].seq < r[2].seq && self_close_gone,
		   "a callback closes its own connection: the requests after it get -ECANCELED "
		   "once, in order, and the connection is freed");
	}
	rec_clear(r, N);
	json_decref(o);
}

/* Append line to out (size bytes, *len used) as a TAP comment, as much
 * as fits: what an example printed, shown when it fails. */
static void keep_line(char *out, size_t size, size_t *len, const char *line)
{
	*len += (size_t)snprintf(out + *len, size - *len, "#   %s", line);
	if (*len >= size)
		*len = size - 1;
}

static void test_examples(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	char path[1024], cmd[2400], line[512], out[4096] = "";
	bool found = false, counts = false;
	size_t out_len = 0;
	FILE *p;
	int st;

	snprintf(path, sizeof(path), "%.*s../../examples/client_blocking",
		 slash ? (int)(slash - argv0 + 1) : 0, argv0);
	if (access(path, X_OK)) {
		skip("examples/client_blocking and client_async against the daemon",
		     "not built next to this program");
		skip("examples/client_async", "not built next to this program");
		return;
	}
	snprintf(cmd, sizeof(cmd), "%s examples/bell.qasm '%s' 2>&1", path, sock_path);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		found |= strstr(line, ": Completed") != NULL;
		counts |= strstr(line, "  00: ") != NULL || strstr(line, "  11: ") != NULL;
		keep_line(out, sizeof(out), &out_len, line);
	}
	st = p ? pclose(p) : -1;
	ok(st == 0 && found && counts, "examples/client_blocking: submit, wait, counts (status %d)",
	   st);
	if (st != 0 || !found || !counts)
		printf("# what it printed:\n%s", out);

	snprintf(path, sizeof(path), "%.*s../../examples/client_async",
		 slash ? (int)(slash - argv0 + 1) : 0, argv0);
	snprintf(cmd, sizeof(cmd), "%s -n 40 -c 2 -s '%s' examples/bell.qasm 2>&1", path,
		 sock_path);
	found = false;
	out[0] = 0;
	out_len = 0;
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		found |= strstr(line, "40 completed, 0 not") != NULL;
		keep_line(out, sizeof(out), &out_len, line);
	}
	st = p ? pclose(p) : -1;
	ok(st == 0 && found, "examples/client_async: 40 jobs over 2 connections (status %d)", st);
	if (st != 0 || !found)
		printf("# what it printed:\n%s", out);
}

static void test_daemon_killed(void)
{
	enum { NW = 5, NB = 30, NC = 2 };
	struct qrtx_client_async *ac[NC];
	struct qrtx_reply_error e;
	struct rec sub[NC], r[NC][NW + NB];
	struct recs rs = { sub, NC };
	char *slow = layered_source(24, 60), id[NC][64];
	json_t *o = shots_opts();
	unsigned int once = 0, errors = 0, answered = 0, total = NC * (NW + NB), closed = 0;
	bool gone[NC] = { false }, before_ok;
	int after, st;
	double t0, dt;

	memset(sub, 0, sizeof(sub));
	memset(r, 0, sizeof(r));
	for (int c = 0; c < NC; c++) {
		if (qrtx_client_async_open(&ring, sock_path, &ac[c], &e)) {
			ok(false, "open: %s", e.message);
			return;
		}
		qrtx_client_async_submit(ac[c], "qasm", "slow.qasm", slow, NULL, record, &sub[c]);
	}
	drive(all_called, &rs, 60);
	before_ok = true;
	for (int c = 0; c < NC; c++) {
		before_ok &= !sub[c].ret;
		snprintf(id[c], sizeof(id[c]), "%s",
			 sub[c].ret ? "" : json_string_value(json_object_get(sub[c].resp, "job_id")));
		for (int i = 0; i < NW; i++)
			qrtx_client_async_wait(ac[c], id[c], -1, record, &r[c][i]);
	}
	/* Let the waits reach the daemon, then more that may not. */
	for (double end = now_s() + 0.3; now_s() < end;)
		drive(flag_set, &(bool){ false }, 0.05);
	for (int c = 0; c < NC; c++)
		for (int i = NW; i < NW + NB; i++)
			qrtx_client_async_submit(ac[c], "qasm", "bell.qasm", bell, o, record,
						 &r[c][i]);
	io_uring_submit(&ring);
	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, &st, 0);
	daemon_pid = 0;

	t0 = now_s();
	rs.r = &r[0][0];
	rs.n = total;
	drive(all_called, &rs, 30);
	/* Anything called twice would show by now. */
	drive(flag_set, &(bool){ false }, 0.2);
	dt = now_s() - t0;
	for (int c = 0; c < NC; c++) {
		for (int i = 0; i < NW + NB; i++) {
			struct rec *x = &r[c][i];

			once += x->calls == 1;
			if (x->calls && x->ret && x->ret != -EPROTO && !x->resp &&
			    !strcmp(x->cat, "ConnectionError"))
				errors++;
			else if (x->calls && !x->ret)
				answered++;
		}
	}
	ok(before_ok && once == total && errors + answered == total && errors >= NC * NW,
	   "qrtxd killed (SIGKILL) with %u requests outstanding on %d connections: every "
	   "callback called exactly once (%u), %u with a connection error, %u answered "
	   "before, in %.2f s", total, NC, once, errors, answered, dt);
	after = qrtx_client_async_call(ac[0], "ping", NULL, record, &sub[0]);
	ok(after == -ENOTCONN, "a lost connection refuses new requests (%d)", after);
	for (int c = 0; c < NC; c++)
		qrtx_client_async_close(ac[c], set_flag, &gone[c]);
	for (int c = 0; c < NC; c++) {
		drive(flag_set, &gone[c], 10);
		closed += gone[c];
	}
	ok(closed == NC, "and both are freed by close (%u of %d)", closed, NC);
	rec_clear(sub, NC);
	rec_clear(&r[0][0], total);
	json_decref(o);
	free(slow);
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 2) {
		fprintf(stderr, "usage: client_async_test QRTXD\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/qrtx-client-test-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/s.sock", dir);
	/* Small on purpose: the library must make room in a full queue. */
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret) {
		printf("Bail out! io_uring_queue_init: %s\n", strerror(-ret));
		return 1;
	}
	atexit(kill_daemon_at_exit);
	start_daemon(argv[1], 2);

	test_many_in_flight();
	test_many_connections();
	test_bad_requests();
	test_slow_reader();
	test_big_requests();
	test_wait_and_cancel();
	test_close_in_flight();
	test_examples(argv[0]);
	ok(!stop_daemon(), "qrtxd stopped by SIGTERM exits 0 (under the sanitizers: no leak)");
	start_daemon(argv[1], 2);
	test_daemon_killed();

	io_uring_queue_exit(&ring);
	return finish(dir);
}
