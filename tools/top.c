// SPDX-License-Identifier: MIT
/*
 * qrtx top: a live view of qrtxd. Every interval it asks the daemon for
 * its stats and its jobs (qrtx/client.h; Documentation/runtime/daemon.rst)
 * and draws one frame: the daemon's counters, jobs by state, the resource
 * pools of /dev/qrtx, and the jobs that have not finished.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "qrtx/client.h"
#include "qrtx/jobstate.h"
#include "qrtx/resource.h"

enum {
	EX_OK = 0,
	EX_FAIL = 1,		/* the daemon reported an error */
	EX_USAGE = 2,
	EX_CONNECT = 5,		/* qrtxd cannot be reached */
};

#define TOP_ROWS 20		/* rows of the table of unfinished jobs */
#define MIN_INTERVAL 0.1
#define CLEAR "\033[H\033[2J"

void qrtx_cli_top_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx top [OPTIONS]\n"
		"\n"
		"A live view of qrtxd. Every interval it asks the daemon for its stats and\n"
		"its jobs and draws a frame:\n"
		"  - the time, the daemon's uptime, jobs submitted since it started, the\n"
		"    queue depth (jobs waiting for a worker), workers busy/alive, zombie\n"
		"    workers (killed but not yet confirmed dead; their slots are held back);\n"
		"  - how many jobs are in each state;\n"
		"  - the resource pools (qubits, host state memory, GPU memory: used of\n"
		"    total) of /dev/qrtx when the module is loaded; without it, those of\n"
		"    the daemon's own ledger, which admits the runs;\n"
		"  - the jobs not yet Completed, Failed, Cancelled or Timeout: id, state\n"
		"    (and sub-state), priority, name; running ones first, then waiting\n"
		"    ones by priority; at most 20, then '... N more'.\n"
		"You see your own jobs (root: everyone's), as with 'qrtx list'.\n"
		"\n"
		"On a terminal the screen is cleared before each frame, and it runs until\n"
		"interrupted (Ctrl-C, SIGINT or SIGTERM: exit status 0) or --iterations\n"
		"frames are drawn. Otherwise (a pipe or a file), or with --json, frames are\n"
		"printed one after another without escape codes, and it stops after one\n"
		"frame unless --iterations says more: 'qrtx top | cat' prints a snapshot.\n"
		"\n"
		"Options:\n"
		"  --interval SECONDS     time between frames (default 1; at least 0.1)\n"
		"  --iterations N         stop after N frames (default: on a terminal, run\n"
		"                         until interrupted; else 1)\n"
		"  --socket PATH          qrtxd's socket (default: $QRTX_SOCKET, else\n"
		"                         /run/qrtx/qrtxd.sock for root, else\n"
		"                         <state dir>/qrtxd.sock)\n"
		"  --json                 one JSON object a frame, one a line:\n"
		"                         {\"stats\": <the stats object>, \"active\": [<job\n"
		"                         objects not in a final state, oldest first>],\n"
		"                         \"pools\": {\"backend\": \"kernel\" or \"daemon\",\n"
		"                         \"qubits\": {\"total\", \"used\"}, \"host_bytes\":\n"
		"                         {...}, \"gpus\": [...]} or null when not known}\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 success (or interrupted); 1 qrtxd reported an error; 2 bad\n"
		"usage; 5 qrtxd cannot be reached (or the connection to it was lost).\n");
}

/* ---- signals ---- */

static volatile sig_atomic_t top_stop;
static volatile sig_atomic_t top_in_call;

/*
 * Between frames a signal only asks the loop to stop. During a call to the
 * daemon (which retries on EINTR and would block as long as qrtxd does)
 * it ends the process at once: nothing is half-printed then, since every
 * frame is flushed before the next call.
 */
static void on_signal(int sig)
{
	(void)sig;
	if (top_in_call)
		_exit(EX_OK);
	top_stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sleep until the monotonic time deadline, or until SIGINT or SIGTERM. The
 * signals are blocked except inside ppoll, so none is missed between the
 * check of top_stop and the sleep. */
static void sleep_until(double deadline)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		double left = deadline - now_s();
		struct timespec ts;

		if (top_stop || left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 999999999L;
		ppoll(NULL, 0, &ts, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- options ---- */

struct top_args {
	const char *socket;
	double interval;
	long long iterations;	/* 0: not given */
	bool json;
};

enum { O_SOCKET = 256, O_JSON, O_INTERVAL, O_ITERATIONS };

static int bad_option(int argc, char **argv)
{
	const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (optopt && optopt < 256 && optopt != '?')
		fprintf(stderr, "qrtx top: unknown option '-%c' (see 'qrtx top --help')\n",
			optopt);
	else if (optopt)
		fprintf(stderr, "qrtx top: option '%s' needs a value (see 'qrtx top --help')\n",
			opt);
	else
		fprintf(stderr, "qrtx top: unknown option '%s' (see 'qrtx top --help')\n", opt);
	return EX_USAGE;
}

static int parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || !*s || *end || !isfinite(v) || v < MIN_INTERVAL || v > 1e9) {
		fprintf(stderr, "qrtx top: --interval needs a number of seconds >= %g, not '%s'\n",
			MIN_INTERVAL, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_iterations(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || !*s || *end || v < 1 || v > LLONG_MAX) {
		fprintf(stderr, "qrtx top: --iterations needs a whole number from 1 to %lld, not '%s'\n",
			LLONG_MAX, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* 0, or -1 for --help, or EX_USAGE (already reported). */
static int parse_args(struct top_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "iterations", required_argument, NULL, O_ITERATIONS },
		{ 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET:
			a->socket = optarg;
			break;
		case O_JSON:
			a->json = true;
			break;
		case O_INTERVAL:
			if (parse_interval(optarg, &a->interval))
				return EX_USAGE;
			break;
		case O_ITERATIONS:
			if (parse_iterations(optarg, &a->iterations))
				return EX_USAGE;
			break;
		case 'h':
			return -1;
		default:
			return bad_option(argc, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "qrtx top: unexpected argument '%s' (see 'qrtx top --help')\n",
			argv[optind]);
		return EX_USAGE;
	}
	return 0;
}

static int report(int ret, const struct qrtx_reply_error *e)
{
	fprintf(stderr, "qrtx top: %s: %s\n", e->category[0] ? e->category : "Error",
		e->message[0] ? e->message : strerror(-ret));
	if (ret == -EPROTO)
		return EX_FAIL;
	return strcmp(e->category, "ConnectionError") ? EX_FAIL : EX_CONNECT;
}

/* ---- jobs ---- */

static const char *jstr(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

/* The state's place in enum qrtx_job_state, or -1 for a name not known. */
static int state_index(const json_t *job)
{
	const char *s = jstr(job, "state", "");

	for (int i = 0; i < QRTX_JOB_NSTATES; i++)
		if (!strcmp(s, qrtx_job_state_name(i)))
			return i;
	return -1;
}

static bool job_final(const json_t *job)
{
	int i = state_index(job);

	return i >= 0 && qrtx_job_state_final(i);
}

/* The jobs not in a final state, in the order list gave them (oldest
 * first), each a new reference; NULL when out of memory. */
static json_t *active_jobs(const json_t *jobs)
{
	json_t *active = json_array(), *job;
	size_t i;

	if (!active)
		return NULL;
	json_array_foreach(jobs, i, job) {
		if (job_final(job))
			continue;
		if (json_array_append(active, job)) {
			json_decref(active);
			return NULL;
		}
	}
	return active;
}

struct row {
	const json_t *job;
	size_t seq;		/* its place in the list: oldest first */
};

/* Furthest along first (what runs), then priority, higher first, then the
 * oldest first: roughly the order in which they will finish or start. */
static int cmp_row(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int sa = state_index(a->job), sb = state_index(b->job);
	json_int_t pa = json_integer_value(json_object_get(a->job, "priority"));
	json_int_t pb = json_integer_value(json_object_get(b->job, "priority"));

	if (sa != sb)
		return sa < sb ? 1 : -1;
	if (pa != pb)
		return pa < pb ? 1 : -1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ---- drawing ---- */

static void fmt_duration(double s, char *buf, size_t len)
{
	unsigned long long t = s > 0 ? (unsigned long long)s : 0;
	unsigned long long d = t / 86400, h = t / 3600 % 24, m = t / 60 % 60, sec = t % 60;

	if (d)
		snprintf(buf, len, "%llud%02lluh%02llum", d, h, m);
	else if (h)
		snprintf(buf, len, "%lluh%02llum%02llus", h, m, sec);
	else if (m)
		snprintf(buf, len, "%llum%02llus", m, sec);
	else
		snprintf(buf, len, "%llus", sec);
}

static void fmt_bytes(unsigned long long b, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)b;
	unsigned int u = 0;

	while (v >= 1024 && u < sizeof(units) / sizeof(units[0]) - 1) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", b);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

static void print_count(FILE *f, const char *label, const json_t *v)
{
	if (json_is_number(v))
		fprintf(f, "  %s %.0f", label, json_number_value(v));
	else
		fprintf(f, "  %s -", label);
}

static void draw_header(FILE *f, const json_t *stats)
{
	const json_t *up = json_object_get(stats, "uptime_s");
	const json_t *w = json_object_get(stats, "workers");
	const json_t *busy = json_object_get(stats, "workers_busy");
	char clock[16] = "", dur[32] = "-";
	time_t t = time(NULL);
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (json_is_number(up))
		fmt_duration(json_number_value(up), dur, sizeof(dur));
	fprintf(f, "%s  qrtxd up %s", clock, dur);
	print_count(f, "submitted", json_object_get(stats, "submitted"));
	print_count(f, "queue", json_object_get(stats, "queue_depth"));
	if (json_is_number(w) && json_is_number(busy))
		fprintf(f, "  workers %.0f/%.0f busy", json_number_value(busy),
			json_number_value(w));
	else
		fprintf(f, "  workers -");
	{
		const char *k;
		json_t *e;
		bool first = true;

		/* (cpu 2/2, cuda 0/1) */
		json_object_foreach(json_object_get(stats, "executors"), k, e) {
			fprintf(f, "%s%s %.0f/%.0f", first ? " (" : ", ", k,
				json_number_value(json_object_get(e, "busy")),
				json_number_value(json_object_get(e, "workers")));
			first = false;
		}
		if (!first)
			fputc(')', f);
	}
	print_count(f, "zombies", json_object_get(stats, "zombies"));
	fputc('\n', f);
}

/* Counts in the order of the state machine, then any state not known here. */
static void draw_states(FILE *f, const json_t *stats)
{
	const json_t *by = json_object_get(stats, "jobs");
	const char *k;
	json_t *v;
	bool any = false;

	fprintf(f, "jobs:");
	for (int i = 0; i < QRTX_JOB_NSTATES; i++) {
		v = json_object_get(by, qrtx_job_state_name(i));
		if (json_is_number(v) && json_number_value(v) > 0) {
			fprintf(f, "%s %s %.0f", any ? "," : "", qrtx_job_state_name(i),
				json_number_value(v));
			any = true;
		}
	}
	json_object_foreach((json_t *)by, k, v) {
		bool known = false;

		for (int i = 0; i < QRTX_JOB_NSTATES && !known; i++)
			known = !strcmp(k, qrtx_job_state_name(i));
		if (!known && json_is_number(v)) {
			fprintf(f, "%s %s %.0f", any ? "," : "", k, json_number_value(v));
			any = true;
		}
	}
	fprintf(f, "%s\n", any ? "" : " none");
}

/* What the pools look like from here. */
struct pools {
	struct qrtx_res *res;	/* NULL: /dev/qrtx could not be opened */
	int open_err;		/* why not (-ENOENT: no module) */
	bool kernel;
};

static void draw_pool(FILE *f, const char *name, const struct qrtx_pool_stat *p, bool bytes)
{
	char used[32], total[32];

	if (bytes) {
		fmt_bytes(p->used, used, sizeof(used));
		fmt_bytes(p->total, total, sizeof(total));
	} else {
		snprintf(used, sizeof(used), "%llu", (unsigned long long)p->used);
		snprintf(total, sizeof(total), "%llu", (unsigned long long)p->total);
	}
	fprintf(f, ", %s %s/%s", name, used, total);
}

/* The pools' numbers into *info: 0, or -errno when they cannot be seen
 * (-ENOENT: no module, and a daemon that does not report its ledger).
 * Without the module they are the daemon's own ledger, from stats. */
static int pools_info(const struct pools *p, const json_t *stats, struct qrtx_info *info,
		      const char **backend)
{
	json_t *dp = json_object_get(stats, "pools");

	memset(info, 0, sizeof(*info));
	if (p->kernel) {
		*backend = qrtx_res_backend_name(p->res);
		return qrtx_res_info(p->res, info);
	}
	if (!json_is_object(dp))
		return p->open_err ? p->open_err : -ENOENT;
	*backend = "daemon";
	info->qubits.used = (uint64_t)json_integer_value(
		json_object_get(json_object_get(dp, "qubits"), "used"));
	info->qubits.total = (uint64_t)json_integer_value(
		json_object_get(json_object_get(dp, "qubits"), "total"));
	info->host_bytes.used = (uint64_t)json_integer_value(
		json_object_get(json_object_get(dp, "host_bytes"), "used"));
	info->host_bytes.total = (uint64_t)json_integer_value(
		json_object_get(json_object_get(dp, "host_bytes"), "total"));
	return 0;
}

static void draw_pools(FILE *f, const struct pools *p, int err, const struct qrtx_info *info,
		       const char *backend)
{
	if (err == -ENOENT && !p->kernel) {
		fprintf(f, "pools: not reported by this daemon, and no /dev/qrtx\n");
		return;
	}
	if (err) {
		fprintf(f, "pools: %s/dev/qrtx: %s\n", p->kernel ? "" : "cannot open ",
			strerror(-err));
		return;
	}
	fprintf(f, "pools (%s, used/total): qubits %llu/%llu", backend,
		(unsigned long long)info->qubits.used, (unsigned long long)info->qubits.total);
	draw_pool(f, "host", &info->host_bytes, true);
	for (uint32_t i = 0; i < info->gpu_count && i < QRTX_MAX_GPUS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "gpu%u", i);
		draw_pool(f, name, &info->gpu[i], true);
	}
	fputc('\n', f);
}

/* The "pools" member of --json: a new reference, JSON null when the
 * numbers cannot be seen from here; NULL when out of memory. */
static json_t *pools_json(int err, const struct qrtx_info *info, const char *backend)
{
	json_t *o, *gpus;

	if (err)
		return json_null();
	gpus = json_array();
	o = json_pack("{s:s, s:{s:I, s:I}, s:{s:I, s:I}, s:o}",
		      "backend", backend,
		      "qubits", "total", (json_int_t)info->qubits.total,
		      "used", (json_int_t)info->qubits.used,
		      "host_bytes", "total", (json_int_t)info->host_bytes.total,
		      "used", (json_int_t)info->host_bytes.used,
		      "gpus", gpus);
	for (uint32_t i = 0; o && i < info->gpu_count && i < QRTX_MAX_GPUS; i++) {
		if (json_array_append_new(gpus, json_pack("{s:I, s:I}",
				"total", (json_int_t)info->gpu[i].total,
				"used", (json_int_t)info->gpu[i].used))) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* s cut to at most max bytes, not inside a UTF-8 sequence. */
static int fit(const char *s, int max)
{
	int n = (int)strlen(s);

	if (max < 0)
		max = 0;
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* cols: the terminal's width, 0 when not a terminal (no cutting). */
static int draw_table(FILE *f, const json_t *active, int cols)
{
	size_t n = json_array_size(active), shown = n < TOP_ROWS ? n : TOP_ROWS;
	struct row *rows;
	int idw = 6, stw = 5, used;

	if (!n) {
		fprintf(f, "\nno unfinished jobs\n");
		return 0;
	}
	rows = malloc(n * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rows[i].job = json_array_get(active, i);
		rows[i].seq = i;
	}
	qsort(rows, n, sizeof(*rows), cmp_row);
	for (size_t i = 0; i < shown; i++) {
		const json_t *job = rows[i].job;
		const char *sub = jstr(job, "substate", NULL);
		int st = (int)strlen(jstr(job, "state", "?")) + (sub ? (int)strlen(sub) + 1 : 0);

		if ((int)strlen(jstr(job, "job_id", "?")) > idw)
			idw = (int)strlen(jstr(job, "job_id", "?"));
		if (st > stw)
			stw = st;
	}
	used = idw + 2 + stw + 2 + 8 + 2;
	fprintf(f, "\n%-*s  %-*s  %8s  %s\n", idw, "JOB ID", stw, "STATE", "PRIORITY", "NAME");
	for (size_t i = 0; i < shown; i++) {
		const json_t *job = rows[i].job;
		const char *sub = jstr(job, "substate", NULL), *name = jstr(job, "name", "-");
		char st[128];

		if (sub)
			snprintf(st, sizeof(st), "%s/%s", jstr(job, "state", "?"), sub);
		else
			snprintf(st, sizeof(st), "%s", jstr(job, "state", "?"));
		fprintf(f, "%-*s  %-*s  %8" JSON_INTEGER_FORMAT "  %.*s\n", idw,
			jstr(job, "job_id", "?"), stw, st,
			json_integer_value(json_object_get(job, "priority")),
			/* Cut to the terminal's width, but keep a little of it. */
			cols ? fit(name, cols - 1 - used > 16 ? cols - 1 - used : 16) :
			(int)strlen(name), name);
	}
	if (n > shown)
		fprintf(f, "... %zu more\n", n - shown);
	free(rows);
	return 0;
}

/* The terminal's width, or 0. */
static int term_cols(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

/* One JSON line: {"stats": ..., "active": [...], "pools": ...}. */
static int print_json_frame(const json_t *stats, json_t *active, json_t *pools)
{
	json_t *o = json_object();
	char *s = NULL;

	if (o && !json_object_set(o, "stats", (json_t *)stats) &&
	    !json_object_set(o, "active", active) && !json_object_set(o, "pools", pools))
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	return 0;
}

/*
 * One text frame (on a terminal after clearing the screen), built in
 * memory and written at once so that a terminal does not flicker.
 */
static int print_text_frame(bool tty, bool first, const json_t *stats, const json_t *active,
			    const struct pools *p, int perr, const struct qrtx_info *info,
			    const char *backend)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -ENOMEM;
	if (tty)
		fputs(CLEAR, f);
	else if (!first)
		fputc('\n', f);	/* between frames printed one after another */
	draw_header(f, stats);
	draw_states(f, stats);
	draw_pools(f, p, perr, info, backend);
	err = draw_table(f, active, tty ? term_cols() : 0);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err) {
		fwrite(buf, 1, len, stdout);
		fflush(stdout);
	}
	free(buf);
	return err;
}

/* One frame from one stats and one list answer. Returns 0 or -ENOMEM. */
static int draw_frame(const struct top_args *a, bool tty, bool first, const json_t *stats,
		      const json_t *jobs, const struct pools *p)
{
	json_t *active = active_jobs(jobs), *pools = NULL;
	struct qrtx_info info;
	const char *backend = "";
	int perr = pools_info(p, stats, &info, &backend), err = -ENOMEM;

	if (!active)
		return -ENOMEM;
	if (!a->json) {
		err = print_text_frame(tty, first, stats, active, p, perr, &info, backend);
	} else {
		pools = pools_json(perr, &info, backend);
		if (pools)
			err = print_json_frame(stats, active, pools);
	}
	json_decref(pools);
	json_decref(active);
	return err;
}

int qrtx_cli_top(int argc, char **argv)
{
	struct top_args a = { .interval = 1.0 };
	struct pools p = { 0 };
	struct qrtx_reply_error e;
	struct qrtx_client *c = NULL;
	bool tty;
	double next;
	int rc, ret;

	rc = parse_args(&a, argc, argv);
	if (rc == -1) {
		qrtx_cli_top_usage(stdout);
		return EX_OK;
	}
	if (rc)
		return rc;
	tty = !a.json && isatty(STDOUT_FILENO);
	if (!a.iterations)
		a.iterations = tty ? 0 : 1;	/* 0 now: until interrupted */

	catch_signals();
	top_in_call = 1;
	ret = qrtx_client_connect(a.socket, &c, &e);
	top_in_call = 0;
	if (ret)
		return report(ret, &e);
	p.open_err = qrtx_res_open(NULL, &p.res);
	if (!p.open_err && qrtx_res_backend(p.res) == QRTX_RES_KERNEL) {
		p.kernel = true;
	} else {
		/* A ledger of our own says nothing about the workers'. */
		qrtx_res_close(p.res);
		p.res = NULL;
	}

	next = now_s();
	for (long long i = 0; !a.iterations || i < a.iterations; i++) {
		json_t *stats = NULL, *jobs = NULL;

		if (i) {
			next += a.interval;
			/* Behind (a slow daemon, a stopped terminal): no burst to catch up. */
			if (next < now_s())
				next = now_s();
			sleep_until(next);
		}
		if (top_stop)
			break;
		top_in_call = 1;
		if (top_stop) {
			top_in_call = 0;
			break;
		}
		ret = qrtx_client_stats(c, &stats, &e);
		if (!ret)
			ret = qrtx_client_list(c, NULL, &jobs, &e);
		top_in_call = 0;
		if (ret) {
			rc = report(ret, &e);
		} else if (draw_frame(&a, tty, i == 0, stats, jobs, &p)) {
			fprintf(stderr, "qrtx top: out of memory\n");
			rc = EX_FAIL;
		}
		json_decref(stats);
		json_decref(jobs);
		if (rc)
			break;
	}
	qrtx_res_close(p.res);
	qrtx_client_close(c);
	return rc;
}
