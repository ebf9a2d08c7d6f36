// SPDX-License-Identifier: MIT
/*
 * qrtxd against itself: starts a real daemon on a temporary socket and
 * state directory and talks to it through the client library and raw
 * sockets. TAP on stdout.
 *
 *   daemon_test QRTXD [CORPUS_DIR|""] [quick]
 *
 * quick: 8 x 25 jobs in the concurrency test instead of 8 x 500, and no
 * RSS check (for the sanitizer build).
 */
#include <ftw.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qrtx/client.h"
#include "qrtx/pipeline.h"
#include "qrtx/proto.h"
#include "qrtx/submit.h"

#include "circuits.h"
#include "harness.h"

static char dir[256], sock_path[300];
static const char *state_dir;	/* NULL: dir */
static const char *extra_arg[2];	/* more daemon options */
static pid_t daemon_pid;

static void start_daemon(const char *qrtxd, int workers)
{
	daemon_pid = spawn_daemon(qrtxd, dir, sock_path, state_dir ? state_dir : dir, workers,
				  extra_arg[0], extra_arg[1]);
	if (daemon_answers(sock_path, 200))
		return;
	printf("Bail out! qrtxd did not start (see %s/qrtxd.log)\n", dir);
	exit(1);
}

/* Daemons stopped by SIGTERM that did not exit 0 (under the sanitizers:
 * a leak or an error report at exit). */
static int unclean_stops, stops;

static void stop_daemon(void)
{
	int st;

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, &st, 0);
		daemon_pid = 0;
		stops++;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			unclean_stops++;
	}
}

/* Restart the daemon as its fault-injection build (one worker) with the
 * switch env=val set for it alone. false, with what skipped, when that
 * build is missing. */
static bool start_faulty(const char *faults, const char *env, const char *val,
			 const char *what)
{
	if (access(faults, X_OK)) {
		skip(what, "no fault-injection daemon built");
		return false;
	}
	stop_daemon();
	setenv(env, val, 1);
	start_daemon(faults, 1);
	unsetenv(env);
	return true;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = 0;
	fclose(f);
	return b;
}

/* Counts of the same source run in this process, as results.json keeps
 * them. */
static json_t *local_counts(const char *name, const char *text, uint64_t shots,
			    uint64_t seed)
{
	struct qrtx_run_opts ro = { 0 };
	struct qrtx_run_result res;
	struct qrtx_job_spec *job;
	struct qrtx_error err = { 0 };
	struct qrtx_job_opts jo;
	char sd[400];
	json_t *doc, *counts = NULL;
	json_error_t je;

	qrtx_job_opts_init(&jo);
	jo.shots = shots;
	jo.shots_set = true;
	jo.seed = seed;
	jo.seed_set = true;
	if (qrtx_job_from_source(name, text, strlen(text), false, &jo, &job, &err))
		return NULL;
	snprintf(sd, sizeof(sd), "%s/local", dir);
	ro.state_dir = sd;
	ro.input_json = "{}";
	if (!qrtx_run_job(job, &ro, &res, &err) && res.results_json) {
		doc = json_loads(res.results_json, 0, &je);
		counts = json_incref(json_object_get(doc, "counts"));
		json_decref(doc);
	}
	qrtx_run_result_free(&res);
	qrtx_job_spec_free(job);
	return counts;
}

#define MAX_CORPUS 256
static char corpus_files[MAX_CORPUS][1024];
static unsigned int ncorpus;

static int collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t n = strlen(path);

	(void)sb;
	(void)ftw;
	if (type == FTW_F && n > 5 && !strcmp(path + n - 5, ".qasm") && ncorpus < MAX_CORPUS)
		snprintf(corpus_files[ncorpus++], sizeof(corpus_files[0]), "%s", path);
	return 0;
}

static const char *state_of(json_t *job)
{
	const char *s = json_string_value(json_object_get(job, "state"));

	return s ? s : "?";
}

static json_t *opts_pack(uint64_t shots, uint64_t seed, int priority)
{
	return json_pack("{s:I, s:I, s:i}", "shots", (json_int_t)shots, "seed", (json_int_t)seed,
			 "priority", priority);
}

/* kill -9 the daemon and start it again; *c (NULL: none) is closed
 * first and connected again after. */
static void kill9_restart(const char *qrtxd, int workers, struct qrtx_client **c)
{
	struct qrtx_reply_error re = { 0 };
	int st;

	if (c)
		qrtx_client_close(*c);
	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, &st, 0);
	daemon_pid = 0;
	start_daemon(qrtxd, workers);
	if (c)
		qrtx_client_connect(sock_path, c, &re);
}

static char *slow_source(void)
{
	return layered_source(24, 40);
}

static int raw_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(a.sun_path, sock_path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_raw(int fd, const void *b, size_t n)
{
	if (write(fd, b, n) != (ssize_t)n)
		perror("write");
}

static void send_frame(int fd, const char *payload)
{
	uint32_t n = (uint32_t)strlen(payload);
	unsigned char h[4] = { n >> 24, n >> 16, n >> 8, n };

	send_raw(fd, h, 4);
	send_raw(fd, payload, n);
}

/* The error category of the next response on fd, or "" (malloc'd). */
static char *next_category(int fd)
{
	char ebuf[128];
	json_t *r;
	char *cat;

	if (qrtx_proto_recv(fd, &r, ebuf, sizeof(ebuf)))
		return strdup("");
	cat = strdup(json_is_false(json_object_get(r, "ok")) ?
		     json_string_value(json_object_get(json_object_get(r, "error"),
						       "category")) : "ok");
	json_decref(r);
	return cat;
}

static void test_end_to_end(struct qrtx_client *c, const char *corpus)
{
	struct qrtx_reply_error re = { 0 };
	char id[64];
	json_t *job = NULL, *results = NULL, *local;
	int to = 0, ret;
	unsigned int nfiles = 0, nsame = 0;

	ret = qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id, &re);
	ok(!ret, "submit a Bell job (%s)", ret ? re.message : id);
	ret = qrtx_client_wait(c, id, 30000, &job, &to, &re);
	ok(!ret && !to && !strcmp(state_of(job), "Completed"), "the Bell job completes (%s)",
	   ret ? re.message : state_of(job));
	json_decref(job);

	/* Same seed, same counts as in-process. */
	{
		json_t *o = opts_pack(2000, 99, 0);

		ret = qrtx_client_submit(c, "qasm", "bell.qasm", bell, o, id, &re);
		json_decref(o);
	}
	qrtx_client_wait(c, id, 30000, &job, &to, &re);
	json_decref(job);
	ret = qrtx_client_result(c, id, &job, &results, &re);
	local = local_counts("bell.qasm", bell, 2000, 99);
	ok(!ret && results && local && json_equal(json_object_get(results, "counts"), local),
	   "daemon counts equal in-process counts for the same seed");
	json_decref(job);
	json_decref(results);
	json_decref(local);

	if (!corpus || nftw(corpus, collect, 16, 0) || !ncorpus) {
		skip("corpus through the daemon",
		     "no corpus directory given (make check gives it to the release build: under the sanitizers it would take minutes)");
		return;
	}
	/* Every corpus circuit: submit all, then compare. */
	{
		static char ids[MAX_CORPUS][64];
		unsigned int n = 0;

		for (unsigned int i = 0; i < ncorpus; i++) {
			char *text = read_text(corpus_files[i]);
			json_t *o = opts_pack(1024, 5, 0);

			ids[i][0] = 0;
			if (text && !qrtx_client_submit(c, "qasm", corpus_files[i], text, o, ids[i],
							&re))
				n++;
			json_decref(o);
			free(text);
		}
		for (unsigned int i = 0; i < ncorpus; i++) {
			char *text = read_text(corpus_files[i]);

			nfiles++;
			job = results = NULL;
			if (ids[i][0] && !qrtx_client_wait(c, ids[i], 300000, &job, &to, &re) &&
			    !qrtx_client_result(c, ids[i], &job, &results, &re)) {
				local = local_counts(corpus_files[i], text, 1024, 5);
				if (local && results &&
				    json_equal(json_object_get(results, "counts"), local))
					nsame++;
				else
					printf("# differs: %s\n", corpus_files[i]);
				json_decref(local);
			} else {
				printf("# no result: %s (%s)\n", corpus_files[i], re.message);
			}
			json_decref(job);
			json_decref(results);
			free(text);
		}
		(void)n;
	}
	ok(nfiles > 0 && nsame == nfiles,
	   "corpus through the daemon: %u of %u circuits give the in-process counts", nsame,
	   nfiles);
}

static void test_bad_input(struct qrtx_client *c)
{
	int fd = raw_connect();
	char *cat;
	static char deep[4096];
	struct qrtx_reply_error re = { 0 };
	json_t *job = NULL;

	send_frame(fd, "this is not json");
	cat = next_category(fd);
	ok(!strcmp(cat, "ProtocolError"), "garbage payload: ProtocolError (%s)", cat);
	free(cat);
	send_frame(fd, "{\"v\":1,\"id\":1,\"op\":\"no-such-verb\"}");
	cat = next_category(fd);
	ok(!strcmp(cat, "ProtocolError"), "unknown verb: ProtocolError, connection still open (%s)",
	   cat);
	free(cat);
	for (int i = 0; i < 200; i++)
		deep[i] = '[';
	send_frame(fd, deep);
	cat = next_category(fd);
	ok(!strcmp(cat, "ProtocolError"), "200-deep nesting: ProtocolError (%s)", cat);
	free(cat);
	send_frame(fd, "{\"v\":1,\"id\":2,\"op\":\"status\",\"job_id\":\"nope\"}");
	cat = next_category(fd);
	ok(!strcmp(cat, "NotFound"), "unknown job id: NotFound (%s)", cat);
	free(cat);
	send_frame(fd, "{\"v\":1,\"id\":3,\"op\":\"submit\",\"format\":\"qasm\",\"source\":\"OPENQASM 2.0; qreg q[1]; bogus q[0];\"}");
	cat = next_category(fd);
	ok(!strcmp(cat, "CompileError") || !strcmp(cat, "ValidationError"),
	   "bad QASM: refused with a job error category (%s)", cat);
	free(cat);
	/* A truncated frame, then an oversize one: the latter closes. */
	send_raw(fd, "\x00\x00\x00\x10{\"v\":", 9);
	close(fd);
	fd = raw_connect();
	send_raw(fd, "\x7f\xff\xff\xff", 4);
	cat = next_category(fd);
	ok(!strcmp(cat, "ProtocolError"), "oversize frame: ProtocolError (%s)", cat);
	free(cat);
	{
		char b;

		ok(read(fd, &b, 1) == 0, "and the connection is closed after it");
	}
	close(fd);
	ok(!qrtx_client_list(c, NULL, &job, &re), "other clients unaffected: list still answers");
	json_decref(job);
}

/* nobody's job: its directory and every file in it are nobody's, 0700
 * and 0600, and nobody reads its result through the daemon. */
static void test_owner(void)
{
	char id[64] = "", path[700];
	int pfd[2], st, bad = 0, files = 0;
	struct dirent *e;
	struct stat sb;
	DIR *dd;
	pid_t p;

	if (pipe(pfd))
		return;
	p = fork();
	if (p == 0) {
		struct qrtx_reply_error re = { 0 };
		struct qrtx_client *o;
		json_t *job = NULL, *res = NULL;
		int to;

		close(pfd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(3);
		if (qrtx_client_connect(sock_path, &o, NULL) ||
		    qrtx_client_submit(o, "qasm", "bell.qasm", bell, NULL, id, &re) ||
		    qrtx_client_wait(o, id, 30000, &job, &to, &re) ||
		    strcmp(state_of(job), "Completed") ||
		    qrtx_client_result(o, id, NULL, &res, &re) || !res)
			_exit(1);
		if (write(pfd[1], id, strlen(id) + 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], id, sizeof(id) - 1) <= 0)
		id[0] = 0;
	close(pfd[0]);
	waitpid(p, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && id[0],
	   "another user's job completes and they read its result (child status %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	snprintf(path, sizeof(path), "%s/circuit_fs/%s", dir, id);
	if (stat(path, &sb) || sb.st_uid != 65534 || (sb.st_mode & 07777) != 0700)
		bad++;
	dd = opendir(path);
	while (dd && (e = readdir(dd))) {
		char f[1024];

		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		files++;
		if (stat(f, &sb) || sb.st_uid != 65534 || sb.st_gid != 65534 ||
		    (sb.st_mode & 07777) != 0600) {
			printf("# %s: uid %u gid %u mode %o\n", e->d_name, (unsigned int)sb.st_uid,
			       (unsigned int)sb.st_gid, (unsigned int)(sb.st_mode & 07777));
			bad++;
		}
	}
	if (dd)
		closedir(dd);
	ok(!bad && files == 5,
	   "their job directory (0700) and its %d files (0600) belong to them (%d wrong)", files,
	   bad);
}

static void test_other_user(struct qrtx_client *c)
{
	struct qrtx_reply_error re = { 0 };
	char id[64];
	json_t *job = NULL;
	int to, st;
	pid_t p;

	if (geteuid() != 0) {
		skip("another user's job is not visible", "needs root to connect as another user");
		return;
	}
	qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id, &re);
	qrtx_client_wait(c, id, 30000, &job, &to, &re);
	json_decref(job);
	chmod(dir, 0711);	/* the socket's directory, for the other user */
	p = fork();
	if (p == 0) {
		struct qrtx_client *o;
		json_t *jobs = NULL;
		int r1, r2;

		if (setgid(65534) || setuid(65534))
			_exit(3);
		if (qrtx_client_connect(sock_path, &o, NULL))
			_exit(4);
		r1 = qrtx_client_status(o, id, &job, &re);
		if (r1 != -EPROTO || strcmp(re.category, "NotFound"))
			_exit(1);
		r2 = qrtx_client_list(o, NULL, &jobs, &re);
		_exit(!r2 && json_array_size(jobs) == 0 ? 0 : 2);
	}
	waitpid(p, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "another user sees neither the job nor it in list (NotFound) (child status %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	test_owner();
}

static void test_cancel_and_kill(struct qrtx_client *c)
{
	struct qrtx_reply_error re = { 0 };
	char *slow = slow_source(), id[64], id2[64];
	json_t *job = NULL, *o = opts_pack(100000, 1, 0);
	int to = 0;

	/* Cancel while running. */
	qrtx_client_submit(c, "qasm", "slow.qasm", slow, o, id, &re);
	for (int i = 0; i < 100; i++) {
		json_decref(job);
		job = NULL;
		qrtx_client_status(c, id, &job, &re);
		if (!strcmp(state_of(job), "Executing"))
			break;
		usleep(20000);
	}
	json_decref(job);
	job = NULL;
	qrtx_client_cancel(c, id, &job, &re);
	ok(!strcmp(state_of(job), "Cancelled"), "cancel while running: Cancelled (%s)",
	   state_of(job));
	json_decref(job);
	qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id2, &re);
	qrtx_client_wait(c, id2, 30000, &job, &to, &re);
	ok(!strcmp(state_of(job), "Completed"), "the next job runs on a fresh worker (%s)",
	   state_of(job));
	json_decref(job);

	/* Cancel while waiting: with every worker busy, a queued job. */
	{
		char busy[8][64], q[64];
		json_t *st = NULL;
		int nw;

		qrtx_client_stats(c, &st, &re);
		nw = (int)json_integer_value(json_object_get(st, "workers"));
		json_decref(st);
		for (int i = 0; i < nw && i < 8; i++)
			qrtx_client_submit(c, "qasm", "slow.qasm", slow, o, busy[i], &re);
		qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, q, &re);
		qrtx_client_status(c, q, &job, &re);
		ok(!strcmp(state_of(job), "Pending"), "with every worker busy a job waits (%s)",
		   state_of(job));
		json_decref(job);
		qrtx_client_cancel(c, q, &job, &re);
		ok(!strcmp(state_of(job), "Cancelled"), "cancel while waiting: Cancelled (%s)",
		   state_of(job));
		json_decref(job);
		for (int i = 0; i < nw && i < 8; i++) {
			qrtx_client_cancel(c, busy[i], &job, &re);
			json_decref(job);
		}
	}

	/* A worker killed from outside: the job fails, the next one runs. */
	qrtx_client_submit(c, "qasm", "slow.qasm", slow, o, id, &re);
	{
		json_t *st = NULL, *w;
		size_t i;
		pid_t victim = 0;

		for (int t = 0; t < 100 && !victim; t++) {
			qrtx_client_stats(c, &st, &re);
			json_array_foreach(json_object_get(st, "worker_list"),
					   i, w) {
				const char *j = json_string_value(json_object_get(w, "job_id"));

				if (j && !strcmp(j, id))
					victim = (pid_t)json_integer_value(json_object_get(w, "pid"));
			}
			json_decref(st);
			st = NULL;
			if (!victim)
				usleep(20000);
		}
		if (victim)
			kill(victim, SIGKILL);
		qrtx_client_wait(c, id, 30000, &job, &to, &re);
		ok(victim && !strcmp(state_of(job), "Failed") &&
		   !strcmp(json_string_value(json_object_get(json_object_get(job, "error"),
							      "category")) ?: "", "ExecuteError"),
		   "worker SIGKILLed mid-run: job Failed with ExecuteError (%s)", state_of(job));
		json_decref(job);
	}
	qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id2, &re);
	qrtx_client_wait(c, id2, 30000, &job, &to, &re);
	ok(!strcmp(state_of(job), "Completed"), "and the next job completes (%s)", state_of(job));
	json_decref(job);
	json_decref(o);
	free(slow);
}

/* Submit QASM text src (opts may be NULL) and wait up to ms for the
 * job's end: the job (NULL when the submission was refused, re saying
 * why); its id in id. */
static json_t *run_job(struct qrtx_client *c, const char *name, const char *src, json_t *opts,
		       char id[64], int ms, struct qrtx_reply_error *re)
{
	json_t *job = NULL;
	int to;

	id[0] = 0;
	if (!qrtx_client_submit(c, "qasm", name, src, opts, id, re))
		qrtx_client_wait(c, id, ms, &job, &to, re);
	return job;
}

/* Entries of directory path whose names start with '.' or not (dot). */
static int count_entries(const char *path, bool dot)
{
	DIR *dd = opendir(path);
	struct dirent *e;
	int n = 0;

	while (dd && (e = readdir(dd)))
		n += (e->d_name[0] == '.') == dot && strcmp(e->d_name, ".") &&
		     strcmp(e->d_name, "..");
	if (dd)
		closedir(dd);
	return n;
}

static void wait_executing(struct qrtx_client *c, const char *id)
{
	struct qrtx_reply_error re = { 0 };
	json_t *job = NULL;

	for (int i = 0; i < 500; i++) {
		json_decref(job);
		job = NULL;
		qrtx_client_status(c, id, &job, &re);
		if (!strcmp(state_of(job), "Executing"))
			break;
		usleep(10000);
	}
	json_decref(job);
}

static void test_timeout(struct qrtx_client *c)
{
	struct qrtx_reply_error re = { 0 };
	char *slow = slow_source(), id[64];
	json_t *o = json_pack("{s:f}", "timeout_s", 0.5), *job = NULL;
	int to = 0;

	qrtx_client_submit(c, "qasm", "slow.qasm", slow, o, id, &re);
	qrtx_client_wait(c, id, 30000, &job, &to, &re);
	ok(!strcmp(state_of(job), "Timeout"), "timeout_s 0.5 on a long job: Timeout (%s)",
	   state_of(job));
	json_decref(job);
	json_decref(o);
	free(slow);
}

/*
 * Workers per executor (--workers 1 --cuda-workers 1; ideal@cuda on the
 * host emulation): an ideal@cuda job runs while the only cpu worker is
 * busy, an ideal@cpu job waits for that worker rather than take the idle
 * cuda one, stats counts each executor's workers, and a daemon with no
 * cuda workers refuses ideal@cuda jobs.
 */
static void test_executors(const char *qrtxd)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char *slow = slow_source(), sid[64], gid[64], cid[64] = "";
	json_t *cuda = json_pack("{s:s}", "backend", "ideal@cuda"), *job = NULL, *st = NULL;
	json_t *ex;
	int to, r;
	bool slow_runs;

	stop_daemon();
	setenv("QRTX_CUDA_EMULATE", "1", 1);
	extra_arg[0] = "--cuda-workers";
	extra_arg[1] = "1";
	start_daemon(qrtxd, 1);
	unsetenv("QRTX_CUDA_EMULATE");
	qrtx_client_connect(sock_path, &c, &re);
	qrtx_client_submit(c, "qasm", "slow.qasm", slow, NULL, sid, &re);
	wait_executing(c, sid);
	job = run_job(c, "bell.qasm", bell, cuda, gid, 30000, &re);
	qrtx_client_status(c, sid, &st, &re);
	slow_runs = !strcmp(state_of(st), "Executing");
	ok(job && !strcmp(state_of(job), "Completed") && slow_runs,
	   "an ideal@cuda job runs on the cuda worker while the only cpu worker is busy "
	   "(%s; the cpu job %s)", job ? state_of(job) : re.message, state_of(st));
	json_decref(job);
	json_decref(st);
	job = st = NULL;
	qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, cid, &re);
	usleep(200000);
	qrtx_client_status(c, cid, &job, &re);
	ok(!strcmp(state_of(job), "Pending"),
	   "an ideal@cpu job waits for the busy cpu worker, not the idle cuda one (%s)",
	   state_of(job));
	json_decref(job);
	job = NULL;
	qrtx_client_stats(c, &st, &re);
	ex = json_object_get(st, "executors");
	ok(json_integer_value(json_object_get(json_object_get(ex, "cpu"), "workers")) == 1 &&
	   json_integer_value(json_object_get(json_object_get(ex, "cpu"), "busy")) == 1 &&
	   json_integer_value(json_object_get(json_object_get(ex, "cuda"), "workers")) == 1 &&
	   json_integer_value(json_object_get(json_object_get(ex, "cuda"), "busy")) == 0 &&
	   json_integer_value(json_object_get(st, "workers")) == 2,
	   "stats counts each executor's workers: cpu 1 (busy), cuda 1 (idle)");
	json_decref(st);
	st = NULL;
	qrtx_client_cancel(c, sid, &job, &re);
	json_decref(job);
	job = NULL;
	qrtx_client_wait(c, cid, 30000, &job, &to, &re);
	ok(job && !strcmp(state_of(job), "Completed"),
	   "once the cpu worker is free again, the ideal@cpu job runs (%s%s%s)",
	   job ? state_of(job) : re.message, job ? " " : "",
	   json_string_value(json_object_get(json_object_get(job, "error"), "message")) ?: "");
	json_decref(job);
	job = NULL;
	qrtx_client_close(c);

	stop_daemon();
	extra_arg[1] = "0";
	start_daemon(qrtxd, 1);
	qrtx_client_connect(sock_path, &c, &re);
	r = qrtx_client_submit(c, "qasm", "bell.qasm", bell, cuda, gid, &re);
	ok(r == -EPROTO && !strcmp(re.category, "ValidationError") &&
	   strstr(re.message, "--cuda-workers 0"),
	   "with --cuda-workers 0 an ideal@cuda job is refused (%s: %s)", re.category,
	   re.message);
	qrtx_client_close(c);
	stop_daemon();
	extra_arg[0] = extra_arg[1] = NULL;
	start_daemon(qrtxd, 2);
	json_decref(cuda);
	free(slow);
}

/* kill -9 of the daemon under load, then a restart: every acknowledged
 * job is there and ends. */
static void test_restart(const char *qrtxd)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char *slow = layered_source(22, 30), ids[6][64];
	json_t *job = NULL;
	int to, done = 0;

	stop_daemon();
	start_daemon(qrtxd, 1);
	qrtx_client_connect(sock_path, &c, &re);
	qrtx_client_submit(c, "qasm", "slow.qasm", slow, NULL, ids[0], &re);
	for (int i = 1; i < 6; i++)
		qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, ids[i], &re);
	wait_executing(c, ids[0]);
	kill9_restart(qrtxd, 1, &c);
	for (int i = 0; i < 6; i++) {
		job = NULL;
		if (!qrtx_client_wait(c, ids[i], 120000, &job, &to, &re) &&
		    !strcmp(state_of(job), "Completed"))
			done++;
		else
			printf("# %s: %s\n", ids[i], job ? state_of(job) : re.message);
		json_decref(job);
	}
	ok(done == 6, "daemon kill -9 with a job running and 5 queued, then a restart: "
	   "%d of 6 acknowledged jobs complete", done);
	{
		char path[600], line[128];
		FILE *f;
		unsigned int a = 0;

		/* The run records: a line per run started. */
		snprintf(path, sizeof(path), "%s/qrtxd.attempts", dir);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			a += !strcmp(line, ids[0]);
		}
		if (f)
			fclose(f);
		ok(a == 2, "the interrupted job ran again, once (attempts %u)", a);
	}
	{
		/* After another restart results come from disk: whole, or,
		 * when results.json is damaged, PersistError. */
		json_t *res = NULL, *v;
		const char *key;
		json_int_t sum = 0;
		char path[600];
		FILE *f;
		int r;

		snprintf(path, sizeof(path), "%s/circuit_fs/%s/results.json", dir, ids[2]);
		f = fopen(path, "w");
		if (f) {
			fputs("{\"counts\": {", f);
			fclose(f);
		}
		/* meta.json says Completed, results.json is gone (what a
		 * file system that reorders renames could leave): run again. */
		snprintf(path, sizeof(path), "%s/circuit_fs/%s/results.json", dir, ids[3]);
		unlink(path);
		kill9_restart(qrtxd, 1, &c);
		job = NULL;
		r = qrtx_client_wait(c, ids[3], 120000, &job, &to, &re);
		ok(!r && !strcmp(state_of(job), "Completed") && !access(path, F_OK),
		   "a Completed job whose results.json is missing after a restart runs again "
		   "and completes (%s, results.json %s)", job ? state_of(job) : re.message,
		   access(path, F_OK) ? "missing" : "there");
		json_decref(job);
		r = qrtx_client_result(c, ids[1], NULL, &res, &re);
		json_object_foreach(json_object_get(res, "counts"), key, v)
			sum += json_integer_value(v);
		ok(!r && res && sum == json_integer_value(json_object_get(res, "shots")) && sum > 0,
		   "after a restart, a completed job's results are read from disk, whole");
		json_decref(res);
		res = NULL;
		r = qrtx_client_result(c, ids[2], NULL, &res, &re);
		ok(r == -EPROTO && !strcmp(re.category, "PersistError") && !res,
		   "a damaged results.json: PersistError (%s: %s)", re.category, re.message);
		json_decref(res);
	}
	qrtx_client_close(c);
	free(slow);
}

static json_t *job_status(struct qrtx_client *c, const char *id)
{
	struct qrtx_reply_error re = { 0 };
	json_t *job = NULL;

	qrtx_client_status(c, id, &job, &re);
	return job;
}

/* Wait (10 s at most) for job id to be in state st. */
static bool wait_state(struct qrtx_client *c, const char *id, const char *st)
{
	for (int i = 0; i < 500; i++) {
		json_t *job = job_status(c, id);
		bool there = job && !strcmp(state_of(job), st);

		json_decref(job);
		if (there)
			return true;
		usleep(20000);
	}
	return false;
}

/*
 * Capacity short (the daemon's own ledger sized to one 22-qubit run): a
 * second such job is validated and compiled, then waits in Queued
 * without a worker; it can be cancelled there; it runs once the first
 * one's capacity returns.
 */
static void test_admission(const char *qrtxd)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char *slow = layered_source(22, 30), *quick = layered_source(22, 1);
	char a[64] = "", b[64] = "", x[64] = "";
	json_t *st = NULL, *job = NULL, *pools;
	int to;
	bool queued;

	stop_daemon();
	extra_arg[0] = "--pool-qubits";
	extra_arg[1] = "22";
	start_daemon(qrtxd, 2);
	qrtx_client_connect(sock_path, &c, &re);
	qrtx_client_submit(c, "qasm", "slow.qasm", slow, NULL, a, &re);
	wait_executing(c, a);
	qrtx_client_submit(c, "qasm", "quick.qasm", quick, NULL, b, &re);
	queued = wait_state(c, b, "Queued");
	usleep(100000);
	qrtx_client_stats(c, &st, &re);
	pools = json_object_get(json_object_get(st, "pools"), "qubits");
	ok(queued && json_integer_value(json_object_get(st, "workers_busy")) == 1,
	   "capacity short: the second job waits in Queued without a worker (%s, %d of 2 "
	   "workers busy)", queued ? "Queued" : "not Queued",
	   (int)json_integer_value(json_object_get(st, "workers_busy")));
	ok(!strcmp(json_string_value(json_object_get(json_object_get(st, "pools"), "ledger")) ?: "",
		   "daemon") &&
	   json_integer_value(json_object_get(pools, "total")) == 22 &&
	   json_integer_value(json_object_get(pools, "used")) == 22,
	   "stats shows the daemon's ledger: 22 of 22 qubits held by the running job");
	json_decref(st);
	{
		/* qrtx top sees the same, and the job waiting. */
		char cmd[1200], line[65536];
		const char *slash = strrchr(qrtxd, '/');
		json_error_t je;
		json_t *frame = NULL, *jp, *act, *e;
		bool seen = false;
		size_t i;
		FILE *pf;

		snprintf(cmd, sizeof(cmd), "%.*sqrtx top --json --iterations 1 --socket %s",
			 slash ? (int)(slash - qrtxd + 1) : 0, qrtxd, sock_path);
		pf = popen(cmd, "r");
		if (pf && fgets(line, sizeof(line), pf))
			frame = json_loads(line, 0, &je);
		if (pf)
			pclose(pf);
		jp = json_object_get(frame, "pools");
		act = json_object_get(frame, "active");
		json_array_foreach(act, i, e)
			seen |= !strcmp(json_string_value(json_object_get(e, "job_id")) ?: "", b) &&
				!strcmp(state_of(e), "Queued");
		ok(!strcmp(json_string_value(json_object_get(jp, "backend")) ?: "", "daemon") &&
		   json_integer_value(json_object_get(json_object_get(jp, "qubits"), "used")) == 22 &&
		   seen, "qrtx top --json: the daemon's pools, and the job waiting in Queued");
		json_decref(frame);
	}
	qrtx_client_submit(c, "qasm", "quick.qasm", quick, NULL, x, &re);
	queued = wait_state(c, x, "Queued");
	qrtx_client_cancel(c, x, &job, &re);
	ok(queued && job && !strcmp(state_of(job), "Cancelled"),
	   "cancel while Queued: Cancelled (%s)", job ? state_of(job) : re.message);
	json_decref(job);
	job = NULL;
	qrtx_client_cancel(c, a, NULL, &re);
	qrtx_client_wait(c, b, 60000, &job, &to, &re);
	ok(job && !strcmp(state_of(job), "Completed"),
	   "once the running job's capacity returns, the queued one runs (%s)",
	   job ? state_of(job) : re.message);
	json_decref(job);
	qrtx_client_close(c);
	stop_daemon();
	extra_arg[0] = extra_arg[1] = NULL;
	start_daemon(qrtxd, 2);
	free(slow);
	free(quick);
}

/*
 * kill -9 of the daemon at random moments while a client keeps
 * submitting: every acknowledged job is there after the restarts and
 * ends (Completed, or Failed for having been interrupted twice), with
 * whole results; none is lost.
 */
static void test_kill_under_load(const char *qrtxd, int jobs)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	int pfd[2], st, acked = 0, done = 0, interrupted = 0, lost = 0, bad = 0;
	char (*ids)[64] = calloc((size_t)jobs, 64), delays[128] = "";
	FILE *in;
	pid_t kid;

	if (!ids || pipe(pfd))
		return;
	stop_daemon();
	start_daemon(qrtxd, 2);
	kid = fork();
	if (kid == 0) {
		struct qrtx_client *k = NULL;
		int n = 0;

		close(pfd[0]);
		for (int tries = 0; n < jobs && tries < 20 * jobs; tries++) {
			char id[64];

			if (!k && qrtx_client_connect(sock_path, &k, NULL)) {
				k = NULL;
				usleep(10000);
				continue;
			}
			if (qrtx_client_submit(k, "qasm", "bell.qasm", bell, NULL, id, &re)) {
				/* Not acknowledged (the daemon died): not counted. */
				qrtx_client_close(k);
				k = NULL;
				continue;
			}
			dprintf(pfd[1], "%s\n", id);
			n++;
		}
		qrtx_client_close(k);
		_exit(n == jobs ? 0 : 1);
	}
	close(pfd[1]);
	srand(seed);
	for (int round = 0; round < 3; round++) {
		int ms = 50 + rand() % 400;

		usleep((useconds_t)ms * 1000);
		snprintf(delays + strlen(delays), sizeof(delays) - strlen(delays), " %d ms", ms);
		kill9_restart(qrtxd, 2, NULL);
	}
	waitpid(kid, &st, 0);
	in = fdopen(pfd[0], "r");
	while (in && acked < jobs && fgets(ids[acked], 64, in)) {
		ids[acked][strcspn(ids[acked], "\n")] = 0;
		acked++;
	}
	if (in)
		fclose(in);
	qrtx_client_connect(sock_path, &c, &re);
	for (int i = 0; i < acked; i++) {
		json_t *job = NULL, *res = NULL;
		int to;

		if (qrtx_client_wait(c, ids[i], 60000, &job, &to, &re)) {
			lost++;
			printf("# %s: %s\n", ids[i], re.message);
			continue;
		}
		if (!strcmp(state_of(job), "Completed")) {
			json_t *counts;
			const char *key;
			json_t *v;
			json_int_t sum = 0;

			qrtx_client_result(c, ids[i], NULL, &res, &re);
			counts = json_object_get(res, "counts");
			json_object_foreach(counts, key, v)
				sum += json_integer_value(v);
			if (!res || sum != json_integer_value(json_object_get(res, "shots")))
				bad++;
			done++;
		} else if (!strcmp(state_of(job), "Failed") &&
			   strstr(json_string_value(json_object_get(json_object_get(job, "error"),
								   "message")) ?: "", "interrupted")) {
			interrupted++;
		} else {
			bad++;
			printf("# %s: %s\n", ids[i], state_of(job));
		}
		json_decref(job);
		json_decref(res);
	}
	qrtx_client_close(c);
	printf("# seed %u, kills after%s\n", seed, delays);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && acked == jobs && !lost && !bad &&
	   done + interrupted == acked,
	   "daemon kill -9 three times under load: all %d acknowledged jobs there and ended "
	   "(%d completed with whole results, %d failed as interrupted twice, %d lost, %d bad)",
	   acked, done, interrupted, lost, bad);
	free(ids);
}

/* A job whose runs two restarts interrupted is not run a third time. */
static void test_max_attempts(const char *qrtxd)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char *slow = layered_source(22, 30), id[64] = "";
	json_t *job = NULL;
	int to;

	stop_daemon();
	start_daemon(qrtxd, 1);
	qrtx_client_connect(sock_path, &c, &re);
	qrtx_client_submit(c, "qasm", "slow.qasm", slow, NULL, id, &re);
	for (int round = 0; round < 2; round++) {
		wait_executing(c, id);
		kill9_restart(qrtxd, 1, &c);
	}
	qrtx_client_wait(c, id, 60000, &job, &to, &re);
	ok(job && !strcmp(state_of(job), "Failed") &&
	   !strcmp(json_string_value(json_object_get(json_object_get(job, "error"), "category")) ?: "",
		   "ExecuteError"),
	   "a job interrupted by two restarts while running fails with ExecuteError (%s)",
	   job ? state_of(job) : re.message);
	json_decref(job);
	qrtx_client_close(c);
	free(slow);
}

/*
 * No inode left (a tmpfs with few): a submission whose job directory
 * cannot be made is refused with PersistError naming the directory,
 * nothing of it stays, and with inodes again jobs run.
 */
static void test_no_inodes(const char *qrtxd)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c = NULL;
	char small[300], path[400], id[64] = "";
	json_t *job = NULL;
	int r, nfill = 0, ndirs = 0;

	snprintf(small, sizeof(small), "%s/fewinodes", dir);
	if (geteuid() != 0 || mkdir(small, 0700) ||
	    mount("qrtx-test", small, "tmpfs", 0, "size=4m,nr_inodes=64,mode=0700")) {
		skip("no inode left: a submission refused with PersistError",
		     geteuid() ? "needs root to mount a small tmpfs" : "cannot mount a tmpfs");
		return;
	}
	stop_daemon();
	state_dir = small;
	start_daemon(qrtxd, 1);
	qrtx_client_connect(sock_path, &c, &re);
	/* Every inode left taken by empty files. */
	for (;; nfill++) {
		int fd;

		snprintf(path, sizeof(path), "%s/fill%d", small, nfill);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			break;
		close(fd);
	}
	r = qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id, &re);
	ok(r == -EPROTO && !strcmp(re.category, "PersistError") &&
	   strstr(re.message, "No space left") && !strstr(re.message, "input.job.json"),
	   "no inode left: a submission whose directory cannot be made is refused with "
	   "PersistError naming the directory (%s: %s)", re.category, re.message);
	snprintf(path, sizeof(path), "%s/circuit_fs", small);
	ndirs = count_entries(path, false);
	for (int i = 0; i < nfill; i++) {
		snprintf(path, sizeof(path), "%s/fill%d", small, i);
		unlink(path);
	}
	job = run_job(c, "bell.qasm", bell, NULL, id, 30000, &re);
	ok(ndirs == 0 && job && !strcmp(state_of(job), "Completed"),
	   "nothing of it stayed (%d job directories), and with inodes again the next job "
	   "completes (%s)", ndirs, job ? state_of(job) : re.message);
	json_decref(job);
	qrtx_client_close(c);
	stop_daemon();
	state_dir = NULL;
	umount2(small, MNT_DETACH);
	rmdir(small);
}

/*
 * A full disk (a small tmpfs as the state directory): a submission that
 * cannot be written is refused with PersistError, a run whose artifacts
 * cannot be written fails with PersistError, the daemon stays up, what
 * was written before stays whole, and with room again jobs run.
 */
static void test_disk_full(const char *qrtxd)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c = NULL;
	char small[300], filler[400], id0[64] = "", id[64] = "";
	json_t *job = NULL, *res = NULL;
	int to, fd, r, bad = 0;
	off_t size = 0;
	char page[4096];

	snprintf(small, sizeof(small), "%s/small", dir);
	if (geteuid() != 0 || mkdir(small, 0700) ||
	    mount("qrtx-test", small, "tmpfs", 0, "size=1m,mode=0700")) {
		skip("disk full: PersistError, daemon up, nothing corrupted",
		     geteuid() ? "needs root to mount a small tmpfs" : "cannot mount a tmpfs");
		return;
	}
	stop_daemon();
	state_dir = small;
	start_daemon(qrtxd, 1);
	qrtx_client_connect(sock_path, &c, &re);
	qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id0, &re);
	qrtx_client_wait(c, id0, 30000, &job, &to, &re);
	json_decref(job);
	job = NULL;

	snprintf(filler, sizeof(filler), "%s/filler", small);
	memset(page, 'x', sizeof(page));
	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	while (fd >= 0 && (r = (int)write(fd, page, sizeof(page))) > 0)
		size += r;
	r = qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id, &re);
	ok(r == -EPROTO && !strcmp(re.category, "PersistError"),
	   "disk full: a submission is refused with PersistError (%s: %s)", re.category,
	   re.message);

	/* Room for the submission, none for the run's artifacts. */
	if (fd >= 0 && ftruncate(fd, size - (off_t)sizeof(page)))
		bad++;
	r = qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id, &re);
	if (!r)
		qrtx_client_wait(c, id, 30000, &job, &to, &re);
	ok(!r && job && !strcmp(state_of(job), "Failed") &&
	   !strcmp(json_string_value(json_object_get(json_object_get(job, "error"), "category")) ?: "",
		   "PersistError"),
	   "disk full: a job whose artifacts cannot be written fails with PersistError (%s: %s)",
	   job ? state_of(job) : re.message,
	   json_string_value(json_object_get(json_object_get(job, "error"), "message")) ?: "");
	json_decref(job);
	job = NULL;
	ok(!qrtx_client_result(c, id0, NULL, &res, &re) && res,
	   "the daemon is up, and a job finished before still gives its result");
	json_decref(res);
	res = NULL;

	/* Nothing half-written: every artifact parses, no temporary file. */
	{
		char path[700];
		DIR *cd;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s/circuit_fs", small);
		cd = opendir(path);
		while (cd && (e = readdir(cd))) {
			char jd[1024];
			DIR *dd;
			struct dirent *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(jd, sizeof(jd), "%s/%s", path, e->d_name);
			dd = opendir(jd);
			while (dd && (f = readdir(dd))) {
				char fp[1300];
				json_error_t je;
				json_t *doc;

				if (!strcmp(f->d_name, ".") || !strcmp(f->d_name, ".."))
					continue;
				if (f->d_name[0] == '.') {
					printf("# stray %s/%s\n", e->d_name, f->d_name);
					bad++;
					continue;
				}
				if (!strstr(f->d_name, ".json"))
					continue;
				snprintf(fp, sizeof(fp), "%s/%s", jd, f->d_name);
				doc = json_load_file(fp, 0, &je);
				if (!doc) {
					printf("# %s/%s: %s\n", e->d_name, f->d_name, je.text);
					bad++;
				}
				json_decref(doc);
			}
			if (dd)
				closedir(dd);
		}
		if (cd)
			closedir(cd);
	}
	ok(!bad, "disk full: every artifact on disk is whole, no temporary file left");

	if (fd >= 0)
		close(fd);
	unlink(filler);
	id[0] = 0;
	r = qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id, &re);
	if (!r)
		qrtx_client_wait(c, id, 30000, &job, &to, &re);
	ok(!r && job && !strcmp(state_of(job), "Completed"),
	   "with room again, the next job completes (%s)", job ? state_of(job) : re.message);
	json_decref(job);
	qrtx_client_close(c);
	stop_daemon();
	state_dir = NULL;
	umount2(small, MNT_DETACH);
	rmdir(small);
}

/* Kills that fail (injected): the slot is a zombie, then recovered. */
static void test_zombie(const char *faults)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char *slow = slow_source(), id[64];
	json_t *st = NULL, *job = NULL;
	int to, saw = 0, back = 0;

	if (!start_faulty(faults, "QRTX_FAULT_KILL_FAILS", "3",
			  "zombie worker quarantined and recovered")) {
		free(slow);
		return;
	}
	qrtx_client_connect(sock_path, &c, &re);
	qrtx_client_submit(c, "qasm", "slow.qasm", slow, NULL, id, &re);
	wait_executing(c, id);
	qrtx_client_cancel(c, id, &job, &re);
	ok(!strcmp(state_of(job), "Cancelled"), "cancel with the kill failing: Cancelled (%s)",
	   state_of(job));
	json_decref(job);
	for (int i = 0; i < 300 && !back; i++) {
		qrtx_client_stats(c, &st, &re);
		if (json_integer_value(json_object_get(st, "zombies")) == 1)
			saw = 1;
		else if (saw)
			back = 1;
		json_decref(st);
		st = NULL;
		usleep(20000);
	}
	ok(saw, "the worker that did not die is a zombie in stats");
	ok(back, "the recovery loop confirms it dead and the slot returns");
	qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id, &re);
	qrtx_client_wait(c, id, 30000, &job, &to, &re);
	ok(!strcmp(state_of(job), "Completed"), "and the next job runs (%s)", state_of(job));
	json_decref(job);
	qrtx_client_close(c);
	free(slow);
}

/*
 * A run record that cannot be synced (injected): the run it was for
 * fails with PersistError, whether it is still running (its worker is
 * killed) or already over (its end is dropped), and the next job runs.
 */
static void test_record_fails(const char *faults)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char *slow = slow_source(), id[64];
	const char *what[2] = { "still running", "short" };
	json_t *job = NULL;

	if (!start_faulty(faults, "QRTX_FAULT_ALOG_FAILS", "2",
			  "a run record that cannot be synced: PersistError")) {
		free(slow);
		return;
	}
	qrtx_client_connect(sock_path, &c, &re);
	for (int k = 0; k < 2; k++) {
		const char *msg;

		job = run_job(c, k ? "bell.qasm" : "slow.qasm", k ? bell : slow, NULL, id, 60000,
			      &re);
		msg = json_string_value(json_object_get(json_object_get(job, "error"),
							"message")) ?: "";
		ok(job && !strcmp(state_of(job), "Failed") &&
		   strstr(msg, "cannot record the start of the run"),
		   "run record not synced, job %s: Failed with PersistError (%s: %s)", what[k],
		   job ? state_of(job) : re.message, msg);
		json_decref(job);
	}
	job = run_job(c, "bell.qasm", bell, NULL, id, 30000, &re);
	ok(job && !strcmp(state_of(job), "Completed"), "and the next job runs (%s)",
	   job ? state_of(job) : re.message);
	json_decref(job);
	job = NULL;
	qrtx_client_stats(c, &job, &re);
	ok(job && json_integer_value(json_object_get(job, "invalid_moves")) == 0,
	   "every move on the way was one the state machine allows (%lld refused)",
	   job ? (long long)json_integer_value(json_object_get(job, "invalid_moves")) : -1);
	json_decref(job);
	qrtx_client_close(c);
	free(slow);
}

/*
 * Syncs of temporary files that fail (injected: the 1st and the 3rd of
 * the daemon's life): the submission whose input.job.json's sync fails is
 * refused and nothing of it stays; the job one of whose end's syncs fails
 * is Failed with PersistError, with none of its artifacts renamed into
 * place (a rename never follows a failed sync) and no temporary file left.
 */
static void test_sync_fails(const char *faults)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char id[64] = "", path[700];
	json_t *job = NULL;
	int r, there = 0, stray = 0, ndirs = 0;
	const char *msg;

	if (!start_faulty(faults, "QRTX_FAULT_FSYNC_AT", "1,3",
			  "a temporary file's sync that fails: nothing renamed into place"))
		return;
	qrtx_client_connect(sock_path, &c, &re);
	r = -1;
	snprintf(path, sizeof(path), "%s/circuit_fs", dir);
	for (int k = 0, before = 0; k < 200; k++) {
		/* the job directories after the submission, less before (its
		 * directory is removed after the answer: a while to go) */
		if (k == 1)
			r = qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id, &re);
		else if (k)
			usleep(10000);
		ndirs = count_entries(path, false);
		if (!k)
			before = ndirs;
		ndirs -= before;
		if (k && !ndirs)
			break;
	}
	ok(r == -EPROTO && !strcmp(re.category, "PersistError") &&
	   strstr(re.message, "input.job.json") && ndirs == 0,
	   "input.job.json's sync fails: the submission is refused and nothing of it stays "
	   "(%s: %s; %d job directories)", re.category, re.message, ndirs);
	job = run_job(c, "bell.qasm", bell, NULL, id, 30000, &re);
	msg = json_string_value(json_object_get(json_object_get(job, "error"), "message")) ?: "";
	/* The Failed end's meta.json is written after the state shows. */
	snprintf(path, sizeof(path), "%s/circuit_fs/%s/meta.json", dir, id);
	for (int i = 0; i < 200 && access(path, F_OK); i++)
		usleep(10000);
	for (int i = 0; i < 3; i++) {
		static const char *const arts[] = { "compiled.aqo.json", "compiled.qasm",
						    "results.json" };

		snprintf(path, sizeof(path), "%s/circuit_fs/%s/%s", dir, id, arts[i]);
		there += !access(path, F_OK);
	}
	snprintf(path, sizeof(path), "%s/circuit_fs/%s", dir, id);
	stray = count_entries(path, true);
	ok(job && !strcmp(state_of(job), "Failed") && strstr(msg, "Input/output error") &&
	   !there && !stray,
	   "a sync of the job's end fails: Failed with PersistError, no artifact renamed into "
	   "place, no temporary file left (%s: %s; %d artifacts, %d temporary files)",
	   job ? state_of(job) : re.message, msg, there, stray);
	json_decref(job);
	job = run_job(c, "bell.qasm", bell, NULL, id, 30000, &re);
	ok(job && !strcmp(state_of(job), "Completed"), "and the next job completes (%s)",
	   job ? state_of(job) : re.message);
	json_decref(job);
	qrtx_client_close(c);
}

/* The next_job_id of the worker running job id, in root's stats. */
static bool ahead_of(struct qrtx_client *c, const char *id, const char *next, pid_t *pid)
{
	struct qrtx_reply_error re = { 0 };
	json_t *st = NULL, *w;
	bool found = false;
	size_t i;

	qrtx_client_stats(c, &st, &re);
	json_array_foreach(json_object_get(st, "worker_list"), i, w) {
		const char *j = json_string_value(json_object_get(w, "job_id"));
		const char *n = json_string_value(json_object_get(w, "next_job_id"));

		if (j && !strcmp(j, id) && n && !strcmp(n, next)) {
			found = true;
			*pid = (pid_t)json_integer_value(json_object_get(w, "pid"));
		}
	}
	json_decref(st);
	return found;
}

/*
 * Job ids that would repeat (test build: QRTX_FAULT_SAME_IDS makes the
 * first draw of each of the next 6 ids the same 32 bits): submissions in
 * the same second are all taken, under ids of their own, and complete;
 * before ids were checked against the known ones, the second such
 * submission was refused (its directory existed).
 */
static void test_same_ids(const char *faults)
{
	enum { N = 6 };
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char id[N][64];
	json_t *job = NULL;
	unsigned int taken = 0, done = 0, distinct = 0, drawn = 0;
	int to;

	if (!start_faulty(faults, "QRTX_FAULT_SAME_IDS", "6",
			  "job ids drawn twice in one second are drawn again"))
		return;
	qrtx_client_connect(sock_path, &c, &re);
	for (int i = 0; i < N; i++)
		taken += !qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, id[i], &re);
	for (int i = 0; i < N && taken == N; i++) {
		bool again = false;

		for (int k = 0; k < i; k++)
			again |= !strcmp(id[i], id[k]);
		distinct += !again;
		drawn += strstr(id[i], "-00c0ffee") != NULL;
		if (!qrtx_client_wait(c, id[i], 30000, &job, &to, &re))
			done += !strcmp(state_of(job), "Completed");
		json_decref(job);
		job = NULL;
	}
	ok(taken == N && distinct == N && done == N && drawn >= 1,
	   "%d submissions whose ids were drawn alike: %u taken (%s), %u ids distinct, "
	   "%u completed", N, taken, taken == N ? "none refused" : re.message, distinct, done);
	qrtx_client_close(c);
}

/*
 * Jobs sent ahead to a busy worker (test build: QRTX_FAULT_ALL_QUICK
 * makes every job count as quick, so one goes ahead of a long one): a
 * cancel ends it at once without touching the running job; when the
 * worker dies, the job ahead of it goes back and runs on a fresh worker.
 */
static void test_ahead(const char *faults)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char *slow = slow_source(), sid[64], bid[64];
	json_t *job = NULL, *st = NULL;
	pid_t victim = 0;
	bool ahead = false;
	int to;

	if (!start_faulty(faults, "QRTX_FAULT_ALL_QUICK", "1",
			  "jobs sent ahead to a busy worker")) {
		free(slow);
		return;
	}
	qrtx_client_connect(sock_path, &c, &re);
	for (int k = 0; k < 2; k++) {
		/* k = 0: the worker killed; k = 1: the job ahead cancelled */
		qrtx_client_submit(c, "qasm", "slow.qasm", slow, NULL, sid, &re);
		wait_executing(c, sid);
		qrtx_client_submit(c, "qasm", "bell.qasm", bell, NULL, bid, &re);
		ahead = false;
		for (int i = 0; i < 100 && !(ahead = ahead_of(c, sid, bid, &victim)); i++)
			usleep(10000);
		if (!k) {
			if (ahead && victim > 0)
				kill(victim, SIGKILL);
			qrtx_client_wait(c, sid, 30000, &job, &to, &re);
			qrtx_client_wait(c, bid, 30000, &st, &to, &re);
			ok(ahead && !strcmp(state_of(job), "Failed") &&
			   !strcmp(state_of(st), "Completed"),
			   "a job sent ahead to a busy worker: the worker killed, the running "
			   "job fails and the job ahead runs on a fresh worker (%s, %s; ahead %d)",
			   state_of(job), state_of(st), ahead);
		} else {
			qrtx_client_cancel(c, bid, &job, &re);
			qrtx_client_status(c, sid, &st, &re);
			ok(ahead && !strcmp(state_of(job), "Cancelled") &&
			   !strcmp(state_of(st), "Executing"),
			   "a job sent ahead cancelled: Cancelled at once, and the running job "
			   "runs on (%s, %s; ahead %d)", state_of(job), state_of(st), ahead);
			json_decref(job);
			job = NULL;
			qrtx_client_cancel(c, sid, &job, &re);
		}
		json_decref(job);
		json_decref(st);
		job = st = NULL;
	}
	qrtx_client_stats(c, &st, &re);
	ok(st && json_integer_value(json_object_get(st, "invalid_moves")) == 0,
	   "and every move was one the state machine allows");
	json_decref(st);
	qrtx_client_close(c);
	free(slow);
}

static long daemon_fds(void)
{
	char path[64];
	DIR *dd;
	struct dirent *e;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)daemon_pid);
	dd = opendir(path);
	if (!dd)
		return -1;
	while ((e = readdir(dd)))
		n += e->d_name[0] != '.';
	closedir(dd);
	return n;
}

static long daemon_rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)daemon_pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* 8 client processes, each submitting per_client jobs of mixed priority
 * and then waiting for all of them. */
static void test_concurrency(int per_client, bool check_rss)
{
	enum { CLIENTS = 8 };
	pid_t kids[CLIENTS];
	long fd0 = daemon_fds(), rss0 = daemon_rss_kb(), fd1, rss1;
	int good = 0;
	double t0;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
	for (int k = 0; k < CLIENTS; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			struct qrtx_reply_error re = { 0 };
			struct qrtx_client *c;
			char (*ids)[64] = calloc((size_t)per_client, 64);
			int done = 0, to;

			if (qrtx_client_connect(sock_path, &c, &re))
				_exit(2);
			for (int i = 0; i < per_client; i++) {
				json_t *o = opts_pack(16, (uint64_t)i, (i * 7 + k) % 5 - 2);

				if (qrtx_client_submit(c, "qasm", "bell.qasm", bell, o, ids[i], &re))
					ids[i][0] = 0;
				json_decref(o);
			}
			for (int i = 0; i < per_client; i++) {
				json_t *job = NULL;

				if (ids[i][0] && !qrtx_client_wait(c, ids[i], 300000, &job, &to, &re) &&
				    !strcmp(state_of(job), "Completed"))
					done++;
				json_decref(job);
			}
			qrtx_client_close(c);
			free(ids);
			_exit(done == per_client ? 0 : 1);
		}
	}
	for (int k = 0; k < CLIENTS; k++) {
		int st;

		waitpid(kids[k], &st, 0);
		good += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("# %d jobs in %.1f s\n", CLIENTS * per_client,
	       (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - t0);
	ok(good == CLIENTS, "%d clients x %d jobs of mixed priority: every job completes "
	   "(%d of %d clients saw all theirs)", CLIENTS, per_client, good, CLIENTS);
	usleep(200000);
	fd1 = daemon_fds();
	rss1 = daemon_rss_kb();
	ok(fd0 > 0 && fd1 == fd0, "no fd growth in the daemon (%ld before, %ld after)", fd0,
	   fd1);
	/* The daemon keeps a record of every job (under 1 KiB each), so its
	 * memory may grow by that much and no more. */
	if (!check_rss)
		skip("no memory growth beyond the job records",
		     "RSS under the sanitizers includes their quarantine");
	else
		ok(rss0 > 0 && rss1 - rss0 <= (long)CLIENTS * per_client * 2 + 2048,
		   "no memory growth beyond the job records (%ld kB before, %ld kB after, %d jobs)",
		   rss0, rss1, CLIENTS * per_client);
}

static size_t count_finished(struct qrtx_client *c)
{
	struct qrtx_reply_error re = { 0 };
	json_t *jobs = NULL, *j;
	size_t i, n = 0;

	qrtx_client_list(c, NULL, &jobs, &re);
	json_array_foreach(jobs, i, j) {
		const char *st = state_of(j);

		n += !strcmp(st, "Completed") || !strcmp(st, "Failed") ||
		     !strcmp(st, "Cancelled") || !strcmp(st, "Timeout");
	}
	json_decref(jobs);
	return n;
}

/* Retention by hand: a dry run removes nothing, then all but 2 go. */
static void test_gc(struct qrtx_client *c)
{
	struct qrtx_reply_error re = { 0 };
	size_t before = count_finished(c), after;
	json_t *args = json_pack("{s:i, s:b}", "max_jobs", 2, "dry_run", 1), *r = NULL, *job;
	const char *gone;
	char path[600];
	struct stat sb;

	qrtx_client_call(c, "gc", args, &r, &re);
	json_decref(args);
	ok(json_array_size(json_object_get(r, "removed")) == before - 2 &&
	   count_finished(c) == before, "gc --dry-run lists %zu of %zu finished jobs, removes "
	   "none", json_array_size(json_object_get(r, "removed")), before);
	json_decref(r);
	/* A worker killed mid-write leaves a temporary file: gc takes it too. */
	{
		json_t *jobs = NULL;
		const char *oldest;
		FILE *f;

		qrtx_client_list(c, "Completed", &jobs, &re);
		oldest = json_string_value(json_object_get(json_array_get(jobs, 0), "job_id"));
		snprintf(path, sizeof(path), "%s/circuit_fs/%s/.results.json.tmp", dir,
			 oldest ? oldest : "?");
		f = fopen(path, "w");
		if (f)
			fclose(f);
		/* and a file of a name the daemon does not make */
		snprintf(path, sizeof(path), "%s/circuit_fs/%s/notes.txt", dir,
			 oldest ? oldest : "?");
		f = fopen(path, "w");
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "%s/circuit_fs/%s", dir, oldest ? oldest : "?");
		json_decref(jobs);
	}
	args = json_pack("{s:i}", "max_jobs", 2);
	r = NULL;
	qrtx_client_call(c, "gc", args, &r, &re);
	json_decref(args);
	after = count_finished(c);
	ok(stat(path, &sb) && errno == ENOENT, "gc removes a job directory with a stray "
	   "temporary file and a file of another name in it");
	gone = json_string_value(json_array_get(json_object_get(r, "removed"), 0));
	snprintf(path, sizeof(path), "%s/circuit_fs/%s", dir, gone ? gone : "?");
	job = NULL;
	ok(after == 2 && gone && stat(path, &sb) && errno == ENOENT &&
	   qrtx_client_status(c, gone, &job, &re) == -EPROTO && !strcmp(re.category, "NotFound"),
	   "gc keeping 2: %zu finished jobs left, a removed one's directory and record are gone",
	   after);
	json_decref(job);
	json_decref(r);
}

static void test_priority(const char *qrtxd)
{
	struct qrtx_reply_error re = { 0 };
	struct qrtx_client *c;
	char *slow = layered_source(22, 30), blocker[64], lo[64], hi[64];
	json_t *o = opts_pack(2000, 1, 0), *jl = NULL, *jh = NULL;
	int to;

	stop_daemon();
	start_daemon(qrtxd, 1);
	qrtx_client_connect(sock_path, &c, &re);
	qrtx_client_submit(c, "qasm", "slow.qasm", slow, o, blocker, &re);
	json_decref(o);
	o = opts_pack(10, 1, -5);
	qrtx_client_submit(c, "qasm", "lo.qasm", bell, o, lo, &re);
	json_decref(o);
	o = opts_pack(10, 1, 5);
	qrtx_client_submit(c, "qasm", "hi.qasm", bell, o, hi, &re);
	/* Both wait behind the blocker (answered only once durable); then
	 * the worker comes free. */
	qrtx_client_cancel(c, blocker, NULL, &re);
	qrtx_client_wait(c, lo, 60000, &jl, &to, &re);
	qrtx_client_wait(c, hi, 60000, &jh, &to, &re);
	{
		/* Started (their ends are written in parallel, so the order
		 * they are shown in may differ). */
		char path[600];
		json_error_t je;
		json_t *ml, *mh;
		double tl, th;

		snprintf(path, sizeof(path), "%s/circuit_fs/%s/meta.json", dir, lo);
		ml = json_load_file(path, 0, &je);
		snprintf(path, sizeof(path), "%s/circuit_fs/%s/meta.json", dir, hi);
		mh = json_load_file(path, 0, &je);
		tl = json_number_value(json_object_get(json_object_get(ml, "timestamps"), "Executing"));
		th = json_number_value(json_object_get(json_object_get(mh, "timestamps"), "Executing"));
		ok(tl > 0 && th > 0 && th < tl,
		   "priority: the later high-priority job runs before the earlier low one");
		json_decref(ml);
		json_decref(mh);
	}
	json_decref(jl);
	json_decref(jh);
	json_decref(o);
	qrtx_client_close(c);
	free(slow);
}

int main(int argc, char **argv)
{
	struct qrtx_client *c;
	struct qrtx_reply_error re = { 0 };
	json_t *st = NULL;
	bool quick;

	if (argc < 2) {
		fprintf(stderr, "usage: daemon_test QRTXD [CORPUS_DIR]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/qrtxd-test-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/s.sock", dir);
	start_daemon(argv[1], 2);
	if (qrtx_client_connect(sock_path, &c, &re)) {
		printf("Bail out! %s\n", re.message);
		return 1;
	}
	quick = argc > 3 && !strcmp(argv[3], "quick");
	test_end_to_end(c, argc > 2 ? argv[2] : NULL);
	test_bad_input(c);
	test_other_user(c);
	test_cancel_and_kill(c);
	test_timeout(c);
	test_concurrency(quick ? 25 : 500, !quick);
	ok(!qrtx_client_stats(c, &st, &re), "the daemon is still up after all of it");
	{
		json_t *ex = json_object_get(json_object_get(st, "stage_seconds"), "Executing");
		json_t *fin = json_object_get(st, "finished");

		ok(json_integer_value(json_object_get(ex, "count")) > 0 &&
		   json_integer_value(json_object_get(fin, "Completed")) > 0 &&
		   json_object_get(st, "error_ratio"),
		   "stats: per-stage latency histograms, finished counts, error ratio");
	}
	json_decref(st);
	test_gc(c);
	qrtx_client_close(c);
	stop_daemon();
	{
		char path[400], *m;

		snprintf(path, sizeof(path), "%s/qrtxd.prom", dir);
		m = read_text(path);
		ok(m && strstr(m, "# TYPE qrtxd_stage_seconds histogram") &&
		   strstr(m, "qrtxd_jobs_submitted_total ") &&
		   strstr(m, "qrtxd_execution_seconds_bucket{le=\"+Inf\"}") &&
		   strstr(m, "qrtxd_jobs_finished_total{state=\"Completed\"}") &&
		   strstr(m, "qrtxd_queue_depth ") && strstr(m, "qrtxd_executor_error_ratio ") &&
		   strstr(m, "qrtxd_executor_error_ratio{executor=\"cpu\"} ") &&
		   strstr(m, "qrtxd_workers{executor=\"cuda\",state=\"idle\"} "),
		   "metrics in Prometheus text format in <state dir>/qrtxd.prom");
		free(m);
	}
	test_priority(argv[1]);
	test_executors(argv[1]);
	test_restart(argv[1]);
	test_max_attempts(argv[1]);
	test_kill_under_load(argv[1], quick ? 40 : 300);
	test_admission(argv[1]);
	test_disk_full(argv[1]);
	test_no_inodes(argv[1]);
	{
		char faults[1024];
		const char *slash = strrchr(argv[0], '/');

		snprintf(faults, sizeof(faults), "%.*sqrtxd-faults",
			 slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
		test_zombie(faults);
		test_record_fails(faults);
		test_sync_fails(faults);
		test_ahead(faults);
		test_same_ids(faults);
	}
	stop_daemon();
	ok(stops > 0 && !unclean_stops, "every daemon stopped by SIGTERM exited 0 (%d of %d did "
	   "not; under the sanitizers that means a leak or an error at exit)", unclean_stops, stops);
	return finish(dir);
}
