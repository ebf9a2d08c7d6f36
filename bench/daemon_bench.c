// SPDX-License-Identifier: MIT
/*
 * qrtxd round trip and throughput, each beside a baseline measured in the
 * same run: a plain Unix-socket echo of messages of the same size.
 *
 *   daemon_bench QRTXD [--jobs N] [--rounds R] [--workers W] [--dir PARENT]
 *
 * Round trip: one Bell job at a time, submit then wait then result, one
 * connection; p50 and p99 over N jobs in each of R rounds, pooled.
 * Throughput: 64 and 1024 Bell jobs in flight over 8 connections (submits
 * pipelined, then waits), jobs per second, the median of R rounds. The
 * echo baseline does the same three exchanges per job with frames of the
 * same sizes, its rounds taking turns with the daemon's. Figures only;
 * nothing is asserted.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qrtx/proto.h"

static char dir[80], sock_path[100], echo_path[100];

static const char *bell =
	"OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\n"
	"h q[0];\ncx q[0],q[1];\nmeasure q -> c;\n";

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* --- the echo baseline -------------------------------------------------- */

static void *echo_conn(void *arg)
{
	int fd = (int)(long)arg;
	char ebuf[64];
	json_t *m;

	while (!qrtx_proto_recv(fd, &m, ebuf, sizeof(ebuf))) {
		qrtx_proto_send(fd, m);
		json_decref(m);
	}
	close(fd);
	return NULL;
}

static void *echo_server(void *arg)
{
	int lfd = (int)(long)arg;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pthread_t t;

		if (fd < 0)
			return NULL;
		pthread_create(&t, NULL, echo_conn, (void *)(long)fd);
		pthread_detach(t);
	}
}

static void start_echo(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	pthread_t t;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", echo_path);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 128)) {
		perror("echo");
		exit(1);
	}
	pthread_create(&t, NULL, echo_server, (void *)(long)lfd);
	pthread_detach(t);
}

/* --- one exchange -------------------------------------------------------- */

static json_t *call(int fd, json_t *req)
{
	char ebuf[128];
	json_t *r = NULL;

	if (qrtx_proto_send(fd, req) || qrtx_proto_recv(fd, &r, ebuf, sizeof(ebuf))) {
		fprintf(stderr, "daemon_bench: exchange failed\n");
		exit(1);
	}
	return r;
}

static json_t *submit_req(int id)
{
	return json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:{s:i}}", "v", 1, "id", id, "op",
			 "submit", "format", "qasm", "name", "bell.qasm", "source", bell,
			 "options", "shots", 100);
}

static json_t *job_req(int id, const char *op, const char *job_id)
{
	json_t *r = json_pack("{s:i, s:i, s:s, s:s}", "v", 1, "id", id, "op", op, "job_id",
			      job_id);

	if (!strcmp(op, "wait"))
		json_object_set_new(r, "timeout_ms", json_integer(60000));
	return r;
}

/* A job's three exchanges, on the daemon or (echo) the baseline; the
 * baseline's messages are the daemon's requests, echoed. */
static void one_job(int fd, bool echo, int id)
{
	json_t *s = submit_req(id), *r = call(fd, s), *w, *x;
	const char *jid = echo ? "20260101-000000-00000000" :
			  json_string_value(json_object_get(r, "job_id"));
	char j[64];

	snprintf(j, sizeof(j), "%s", jid ? jid : "?");
	json_decref(s);
	json_decref(r);
	w = job_req(id, "wait", j);
	r = call(fd, w);
	json_decref(w);
	json_decref(r);
	x = job_req(id, "result", j);
	r = call(fd, x);
	json_decref(x);
	json_decref(r);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAX_ROUNDS 9

/* The median of v[0..n) (reordered). */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The file system's share: what the six inodes of a job directory (the
 * directory, and five files written and renamed into place, without a
 * sync) cost in this run, in a scratch directory beside the state; the
 * daemon cannot do better than that.
 */
static double fs_floor_s(void)
{
	char scratch[200], p[300], q[300];
	int n = 100;
	double t0;

	snprintf(scratch, sizeof(scratch), "%s/floor", dir);
	if (mkdir(scratch, 0700))
		return 0;
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%d", scratch, i);
		if (mkdir(p, 0700))
			return 0;
		for (int k = 0; k < 5; k++) {
			int fd;

			snprintf(p, sizeof(p), "%s/%d/.%d.tmp", scratch, i, k);
			snprintf(q, sizeof(q), "%s/%d/%d", scratch, i, k);
			fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0 || write(fd, "{\"x\": 1}\n", 9) != 9 || close(fd) || rename(p, q))
				return 0;
		}
	}
	return (now_s() - t0) / n;
}

/* n round trips, one at a time, after 20 untimed: their times in t[]. */
static void round_trip(const char *path, bool echo, int n, double *t)
{
	int fd = connect_to(path);

	for (int i = 0; i < 20; i++)	/* warm up */
		one_job(fd, echo, i);
	for (int i = 0; i < n; i++) {
		double t0 = now_s();

		one_job(fd, echo, i);
		t[i] = now_s() - t0;
	}
	close(fd);
}

struct tp_arg {
	const char *path;
	bool echo;
	int inflight, total;
};

/* Keep inflight jobs going on one connection until total are done:
 * submits pipelined, then a wait and a result for each. */
static void *tp_thread(void *p)
{
	struct tp_arg *a = p;
	int fd = connect_to(a->path), done = 0;
	char (*ids)[64] = calloc((size_t)a->inflight, 64);
	char ebuf[128];

	while (done < a->total) {
		int k = a->total - done < a->inflight ? a->total - done : a->inflight;

		for (int i = 0; i < k; i++) {
			json_t *s = submit_req(i);

			qrtx_proto_send(fd, s);
			json_decref(s);
		}
		for (int i = 0; i < k; i++) {
			json_t *r;
			const char *jid;

			if (qrtx_proto_recv(fd, &r, ebuf, sizeof(ebuf)))
				exit(1);
			jid = a->echo ? "20260101-000000-00000000" :
			      json_string_value(json_object_get(r, "job_id"));
			snprintf(ids[i], 64, "%s", jid ? jid : "?");
			json_decref(r);
		}
		for (int i = 0; i < k; i++) {
			json_t *w = job_req(i, "wait", ids[i]);

			qrtx_proto_send(fd, w);
			json_decref(w);
		}
		for (int i = 0; i < k; i++) {
			json_t *r;

			if (qrtx_proto_recv(fd, &r, ebuf, sizeof(ebuf)))
				exit(1);
			json_decref(r);
		}
		for (int i = 0; i < k; i++) {
			json_t *x = job_req(i, "result", ids[i]);

			qrtx_proto_send(fd, x);
			json_decref(x);
		}
		for (int i = 0; i < k; i++) {
			json_t *r;

			if (qrtx_proto_recv(fd, &r, ebuf, sizeof(ebuf)))
				exit(1);
			json_decref(r);
		}
		done += k;
	}
	free(ids);
	close(fd);
	return NULL;
}

/* CPU time in ns of every thread of process pid (from schedstat), those
 * named iou-wrk-* (the ring's workers) apart. */
static void proc_cpu(pid_t pid, double *all, double *iowq)
{
	char path[96], comm[32];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		unsigned long long ns = 0;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", (int)pid, e->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		if (f)
			fclose(f);
		*all += (double)ns;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/comm", (int)pid, e->d_name);
		f = fopen(path, "r");
		comm[0] = 0;
		if (f && !fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		if (f)
			fclose(f);
		if (!strncmp(comm, "iou-wrk-", 8))
			*iowq += (double)ns;
	}
	if (d)
		closedir(d);
}

/* CPU so far: the daemon (its loop and its ring's workers), its worker
 * processes, this process (the client threads). */
struct cpu { double daemon, iowq, workers, client; };

static struct cpu cpu_now(pid_t daemon)
{
	struct cpu c = { 0 };
	struct timespec t;
	char path[64];
	double dummy = 0;
	FILE *f;
	int child;

	proc_cpu(daemon, &c.daemon, &c.iowq);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)daemon, (int)daemon);
	f = fopen(path, "r");
	while (f && fscanf(f, "%d", &child) == 1)
		proc_cpu(child, &c.workers, &dummy);
	if (f)
		fclose(f);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	c.client = 1e9 * (double)t.tv_sec + (double)t.tv_nsec;
	return c;
}

static double throughput(const char *path, bool echo, int inflight, int total)
{
	enum { CONNS = 8 };
	pthread_t t[CONNS];
	struct tp_arg a[CONNS];
	double t0 = now_s();

	for (int i = 0; i < CONNS; i++) {
		a[i] = (struct tp_arg){ path, echo, inflight / CONNS, total / CONNS };
		pthread_create(&t[i], NULL, tp_thread, &a[i]);
	}
	for (int i = 0; i < CONNS; i++)
		pthread_join(t[i], NULL);
	return (double)(total / CONNS * CONNS) / (now_s() - t0);
}

int main(int argc, char **argv)
{
	int n = 200, workers = 2, rounds = 3;
	const char *parent = "/tmp";
	struct statfs sf;
	pid_t pid;
	double d50, d99, e50, e99;

	static const char use[] =
		"usage: daemon_bench QRTXD [--jobs N] [--rounds R] [--workers W] [--dir PARENT]\n"
		"  QRTXD      the daemon to measure (build/release/qrtxd)\n"
		"  --jobs     round trips timed in a round, one at a time (default 200, at\n"
		"             least 10)\n"
		"  --rounds   rounds of each measurement, the daemon's and the echo's in\n"
		"             turn: round trips pooled, throughput their median (default 3,\n"
		"             1 to 9)\n"
		"  --workers  the daemon's workers (default 2)\n"
		"  --dir      where its state directory is made (default /tmp)\n";

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(use, stdout);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-' || access(argv[1], X_OK)) {
		if (argc >= 2 && argv[1][0] != '-')
			fprintf(stderr, "daemon_bench: %s is not an executable\n", argv[1]);
		fputs(use, stderr);
		return 2;
	}
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 == argc) {
			fprintf(stderr, "daemon_bench: %s needs a value\n%s", argv[i], use);
			return 2;
		}
		if (!strcmp(argv[i], "--jobs")) {
			n = atoi(argv[i + 1]);
		} else if (!strcmp(argv[i], "--rounds")) {
			rounds = atoi(argv[i + 1]);
			if (rounds < 1 || rounds > MAX_ROUNDS) {
				fprintf(stderr, "daemon_bench: --rounds takes 1 to %d\n%s",
					MAX_ROUNDS, use);
				return 2;
			}
		} else if (!strcmp(argv[i], "--workers")) {
			workers = atoi(argv[i + 1]);
		} else if (!strcmp(argv[i], "--dir")) {
			parent = argv[i + 1];
		} else {
			fprintf(stderr, "daemon_bench: unknown option %s\n%s", argv[i], use);
			return 2;
		}
	}
	if (n < 10)
		n = 10;
	snprintf(dir, sizeof(dir), "%.50s/qrtxd-bench-XXXXXX", parent);
	if (!mkdtemp(dir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/s.sock", dir);
	snprintf(echo_path, sizeof(echo_path), "%s/echo.sock", dir);
	start_echo();
	pid = fork();
	if (pid == 0) {
		char w[16];

		snprintf(w, sizeof(w), "%d", workers);
		freopen("/dev/null", "w", stderr);
		execl(argv[1], "qrtxd", "--socket", sock_path, "--state-dir", dir, "--workers", w,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		int fd = connect_to(sock_path);

		if (fd >= 0) {
			close(fd);
			break;
		}
		usleep(20000);
	}

	printf("qrtxd benchmark: Bell jobs (100 shots), %d workers; baseline: a Unix-socket "
	       "echo of the same messages\n", workers);
	if (!statfs(dir, &sf)) {
		double f = fs_floor_s();
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		printf("state directory on %s (%s)\n", parent,
		       sf.f_type == 0xEF53 ? "ext4" : sf.f_type == 0x01021994 ? "tmpfs" :
		       sf.f_type == 0x58465342 ? "xfs" : sf.f_type == 0x9123683E ? "btrfs" :
		       "another file system");
		if (f > 0)
			printf("file system floor: a job directory's 6 inodes (made, written, renamed; "
			       "no sync) take %.0f us here: at most %.0f jobs/s on %ld cores from "
			       "that alone\n", f * 1e6, (double)(ncpu > 0 ? ncpu : 1) / f, ncpu);
	}
	/* Rounds alternate the daemon and the echo, so that both see the
	 * same spells of this machine's speed. */
	{
		double *dt = malloc(sizeof(double) * (size_t)(n * rounds));
		double *et = malloc(sizeof(double) * (size_t)(n * rounds));
		int all = n * rounds;

		if (!dt || !et)
			return 1;
		for (int r = 0; r < rounds; r++) {
			round_trip(sock_path, false, n, dt + r * n);
			round_trip(echo_path, true, n, et + r * n);
		}
		qsort(dt, (size_t)all, sizeof(*dt), cmp_d);
		qsort(et, (size_t)all, sizeof(*et), cmp_d);
		d50 = dt[all / 2];
		d99 = dt[(all * 99) / 100];
		e50 = et[all / 2];
		e99 = et[(all * 99) / 100];
		free(dt);
		free(et);
	}
	printf("round trip submit+wait+result, 1 in flight, %d jobs in %d round%s: p50 %.1f us "
	       "(echo %.1f us, %.1f x), p99 %.1f us (echo %.1f us)\n", n * rounds, rounds,
	       rounds > 1 ? "s" : "", d50 * 1e6, e50 * 1e6, d50 / e50, d99 * 1e6, e99 * 1e6);
	printf("  target: p50 <= 10 x echo: %s\n", d50 <= 10 * e50 ? "met" : "MISSED");
	for (int k = 0; k < 2; k++) {
		int inflight = k ? 1024 : 64, total = k ? 4096 : 2048;
		double dj[MAX_ROUNDS], ej[MAX_ROUNDS], sum, djm, ejm;
		struct cpu c0, c1, cs = { 0 };
		char list[MAX_ROUNDS * 12] = "";
		size_t at = 0;

		for (int r = 0; r < rounds; r++) {
			c0 = cpu_now(pid);
			dj[r] = throughput(sock_path, false, inflight, total);
			c1 = cpu_now(pid);
			ej[r] = throughput(echo_path, true, inflight, total);
			cs.daemon += c1.daemon - c0.daemon;
			cs.iowq += c1.iowq - c0.iowq;
			cs.workers += c1.workers - c0.workers;
			cs.client += c1.client - c0.client;
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%.0f", r ? ", " : "",
					       dj[r]);
		}
		djm = median(dj, rounds);
		ejm = median(ej, rounds);
		printf("throughput, %4d in flight, %d jobs: %.0f jobs/s (echo %.0f exchanges-of-3/s)"
		       "  target >= 5000 jobs/s: %s\n", inflight, total, djm, ejm,
		       djm >= 5000 ? "met" : "MISSED");
		if (rounds > 1)
			printf("  the median of %d rounds: %s jobs/s\n", rounds, list);
		/* (the workers that ran the jobs are the same ones before and
		 * after: a worker replaced meanwhile would make this wrong) */
		sum = cs.daemon + cs.workers + cs.client;
		total *= rounds;
		printf("  CPU per job: daemon %.0f us (its loop %.0f, its ring's file-system "
		       "workers %.0f), job workers %.0f us, clients %.0f us; %.0f us in all: at most "
		       "%.0f jobs/s on %ld cores\n",
		       cs.daemon / total / 1e3, (cs.daemon - cs.iowq) / total / 1e3,
		       cs.iowq / total / 1e3, cs.workers / total / 1e3, cs.client / total / 1e3,
		       sum / total / 1e3,
		       (double)sysconf(_SC_NPROCESSORS_ONLN) * total / (sum / 1e9),
		       sysconf(_SC_NPROCESSORS_ONLN));
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			return 1;
	}
	return 0;
}
