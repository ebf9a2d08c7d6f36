// SPDX-License-Identifier: MIT
/*
 * qrtx submit, status, wait, result, cancel, list, stats: jobs run by
 * qrtxd, through its socket (qrtx/client.h; Documentation/runtime/daemon.rst).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "qrtx/client.h"
#include "qrtx/jobstate.h"
#include "qrtx/store.h"

enum {
	EX_OK = 0,
	EX_FAIL = 1,		/* the daemon reported an error, or the job failed */
	EX_USAGE = 2,
	EX_INPUT = 3,		/* the input file cannot be read */
	EX_TIMEDOUT = 4,	/* qrtx wait ran out of time */
	EX_CONNECT = 5,		/* qrtxd cannot be reached */
};

#define MAX_OBSERVABLES 64
#define TABLE_ROWS 32
#define POLL_MS 200

#define EXIT_TEXT_COMMON \
	"Exit status: 0 success; 1 qrtxd reported an error; 2 bad usage;\n" \
	"5 qrtxd cannot be reached.\n"

#define SOCKET_TEXT \
	"  --socket PATH          qrtxd's socket (default: $QRTX_SOCKET, else\n" \
	"                         /run/qrtx/qrtxd.sock for root, else\n" \
	"                         <state dir>/qrtxd.sock)\n"

void qrtx_cli_submit_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx submit FILE.qasm|FILE.json [OPTIONS]\n"
		"\n"
		"Send a circuit (OpenQASM 2.0, or a JSON job graph when the name ends in\n"
		".json or the text starts with '{') to qrtxd and print its job id.\n"
		"\n"
		"Options:\n"
		"  --shots N              samples to draw\n"
		"  --seed S               seed for sampling (0 to 2^63-1)\n"
		"  --precision P          double (complex128) or single (complex64)\n"
		"  --backend B            ideal@cpu (default) or ideal@cuda\n"
		"  --priority P           integer; higher runs first (default 0)\n"
		"  --timeout SECONDS      the job's time limit (a number > 0)\n"
		"  --observable P         Pauli sum to estimate, e.g. '0.5*ZZI - 1.2*XIX'\n"
		"                         (qubit 0 is the last letter); repeatable\n"
		"  --exact                exact outcome distribution instead of samples\n"
		"  --wait                 wait for the job to end, then print its results\n"
		"                         as 'qrtx result' does\n"
		SOCKET_TEXT
		"  --json                 print JSON: {\"job_id\": ...}, or with --wait the\n"
		"                         results as 'qrtx result --json' prints them\n"
		"  -h, --help             show this help\n"
		"\n"
		"Options a JSON job graph sets itself are overridden by those given here.\n"
		"\n"
		"Exit status: 0 the job was submitted (with --wait: it completed); 1 qrtxd\n"
		"refused it (with --wait: or it failed, was cancelled or timed out);\n"
		"2 bad usage; 3 FILE cannot be read; 5 qrtxd cannot be reached.\n");
}

void qrtx_cli_status_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx status JOB_ID [OPTIONS]\n"
		"\n"
		"Show a job's state, name, priority, times, error and artifacts directory.\n"
		"\n"
		"Options:\n"
		SOCKET_TEXT
		"  --json                 print the job object qrtxd returns\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 the job was found (whatever its state); 1 qrtxd reported\n"
		"an error (NotFound: no such job, or not yours); 2 bad usage; 5 qrtxd\n"
		"cannot be reached.\n");
}

void qrtx_cli_wait_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx wait JOB_ID [OPTIONS]\n"
		"\n"
		"Wait until a job is Completed, Failed, Cancelled or Timeout, and print\n"
		"its final state. On a terminal its state is shown on stderr meanwhile.\n"
		"\n"
		"Options:\n"
		"  --timeout SECONDS      give up after this long (default: no limit)\n"
		SOCKET_TEXT
		"  --json                 print {\"job\": <job object>, \"timed_out\": <bool>}\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 the job completed; 1 it failed, was cancelled or timed out,\n"
		"or qrtxd reported an error; 2 bad usage; 4 --timeout ran out first;\n"
		"5 qrtxd cannot be reached.\n");
}

void qrtx_cli_result_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx result JOB_ID [OPTIONS]\n"
		"\n"
		"Print a finished job's results: counts sorted by count (or the exact\n"
		"distribution, or observables' values), and its artifacts directory.\n"
		"\n"
		"Options:\n"
		SOCKET_TEXT
		"  --json                 print the job's results.json (for a job that did\n"
		"                         not complete: its job object)\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 the job completed; 1 it failed, was cancelled or timed out,\n"
		"or qrtxd reported an error (NotReady: it has not finished); 2 bad usage;\n"
		"5 qrtxd cannot be reached.\n");
}

void qrtx_cli_cancel_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx cancel JOB_ID [OPTIONS]\n"
		"\n"
		"Cancel a job: a waiting one at once, a running one by killing its worker.\n"
		"A job that has already finished is left as it is. Prints its state.\n"
		"\n"
		"Options:\n"
		SOCKET_TEXT
		"  --json                 print the job object qrtxd returns\n"
		"  -h, --help             show this help\n"
		"\n"
		EXIT_TEXT_COMMON);
}

void qrtx_cli_list_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx list [OPTIONS]\n"
		"\n"
		"List your jobs (root: everyone's), oldest first, one a line: job id,\n"
		"state, priority, name.\n"
		"\n"
		"Options:\n"
		"  --state STATE          only jobs in this state (Pending, Validating,\n"
		"                         Compiling, Queued, Allocating, Executing,\n"
		"                         Completing, Completed, Failed, Cancelled, Timeout)\n"
		SOCKET_TEXT
		"  --json                 print the array of job objects\n"
		"  -h, --help             show this help\n"
		"\n"
		EXIT_TEXT_COMMON);
}

void qrtx_cli_stats_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx stats [OPTIONS]\n"
		"\n"
		"Show qrtxd's counters: jobs by state, queue depth, workers (busy),\n"
		"jobs submitted and uptime.\n"
		"\n"
		"Options:\n"
		SOCKET_TEXT
		"  --json                 print the stats object\n"
		"  -h, --help             show this help\n"
		"\n"
		EXIT_TEXT_COMMON);
}

void qrtx_cli_gc_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx gc [--older-than DAYS] [--keep N] [--dry-run] [OPTIONS]\n"
		"\n"
		"Remove the artifacts (circuit_fs/<job_id>/) of your finished jobs (all\n"
		"jobs for root) that ended more than DAYS ago, and of all but the newest\n"
		"N finished ones. Jobs still waiting or running are never touched. The\n"
		"daemon also applies its own policy hourly (qrtxd --keep-days, --keep-jobs).\n"
		"\n"
		"Options:\n"
		"  --older-than DAYS      remove jobs that ended more than DAYS ago\n"
		"  --keep N               keep only the newest N finished jobs\n"
		"  --dry-run              list what would go, remove nothing\n"
		SOCKET_TEXT
		"  --json                 print the response's list of removed job ids\n"
		"  -h, --help             show this help\n"
		"\n"
		EXIT_TEXT_COMMON);
}

/* ---- common ---- */

struct common {
	const char *verb;
	const char *socket;
	bool json;
};

static int report(const struct common *cm, int ret, const struct qrtx_reply_error *e)
{
	fprintf(stderr, "qrtx %s: %s: %s\n", cm->verb,
		e->category[0] ? e->category : "Error",
		e->message[0] ? e->message : strerror(-ret));
	if (ret == -EPROTO)
		return EX_FAIL;
	return strcmp(e->category, "ConnectionError") ? EX_FAIL : EX_CONNECT;
}

static int open_client(const struct common *cm, struct qrtx_client **c)
{
	struct qrtx_reply_error e;
	int ret = qrtx_client_connect(cm->socket, c, &e);

	return ret ? report(cm, ret, &e) : EX_OK;
}

static void print_json(const json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s) {
		printf("%s\n", s);
		free(s);
	} else {
		printf("null\n");
	}
}

static int bad_option(const struct common *cm, int argc, char **argv)
{
	const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (optopt && optopt < 256 && optopt != '?')
		fprintf(stderr, "qrtx %s: unknown option '-%c' (see 'qrtx %s --help')\n",
			cm->verb, optopt, cm->verb);
	else if (optopt)
		fprintf(stderr, "qrtx %s: option '%s' needs a value (see 'qrtx %s --help')\n",
			cm->verb, opt, cm->verb);
	else
		fprintf(stderr, "qrtx %s: unknown option '%s' (see 'qrtx %s --help')\n",
			cm->verb, opt, cm->verb);
	return EX_USAGE;
}

static int parse_seconds(const struct common *cm, const char *opt, const char *s,
			 bool zero_ok, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || !*s || *end || !isfinite(v) || v < 0 || (!zero_ok && v == 0) ||
	    v > 1e9) {
		fprintf(stderr, "qrtx %s: %s needs a number of seconds %s 0, not '%s'\n",
			cm->verb, opt, zero_ok ? ">=" : ">", s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_int(const struct common *cm, const char *opt, const char *s,
		     long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || !*s || *end || v < min || v > max) {
		fprintf(stderr, "qrtx %s: %s needs a whole number from %lld to %lld, not '%s'\n",
			cm->verb, opt, min, max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *jstr(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

static bool state_is(const json_t *job, const char *state)
{
	return !strcmp(jstr(job, "state", ""), state);
}

static bool state_final(const json_t *job)
{
	return state_is(job, "Completed") || state_is(job, "Failed") ||
	       state_is(job, "Cancelled") || state_is(job, "Timeout");
}

/* "Executing (QuantumRunning)" or "Queued". */
static void state_text(const json_t *job, char *buf, size_t len)
{
	const char *sub = jstr(job, "substate", NULL);

	if (sub)
		snprintf(buf, len, "%s (%s)", jstr(job, "state", "?"), sub);
	else
		snprintf(buf, len, "%s", jstr(job, "state", "?"));
}

/* To stderr, for a job that ended without completing; returns 1. */
static int report_unfinished(const char *job_id, const json_t *job)
{
	const json_t *e = json_object_get(job, "error");

	if (e)
		fprintf(stderr, "job %s: %s: %s: %s\n", job_id, jstr(job, "state", "?"),
			jstr(e, "category", "Error"), jstr(e, "message", "(no message)"));
	else
		fprintf(stderr, "job %s: %s\n", job_id, jstr(job, "state", "?"));
	return EX_FAIL;
}

/*
 * Options common to every verb, then the verb's own. Returns the index of
 * the first positional argument, or -1 for --help, or -2 for a usage error
 * (already reported). handle gets the verb's own options: returns 0 or
 * EX_USAGE.
 */
typedef int (*opt_handler)(const struct common *cm, int c, const char *arg, void *ctx);

enum { O_SOCKET = 256, O_JSON, O_SHOTS, O_SEED, O_PREC, O_BACKEND, O_PRIO, O_TIMEOUT, O_OBS,
       O_EXACT, O_WAIT, O_STATE, O_OLDER, O_KEEP, O_DRY };

static int parse_common(struct common *cm, int argc, char **argv,
			const struct option *extra, size_t nextra, opt_handler handle,
			void *ctx, int npos_min, int npos_max)
{
	struct option opts[16];
	size_t n = 0;
	int c;

	opts[n++] = (struct option){ "socket", required_argument, NULL, O_SOCKET };
	opts[n++] = (struct option){ "json", no_argument, NULL, O_JSON };
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	for (size_t i = 0; i < nextra && n < 15; i++)
		opts[n++] = extra[i];
	opts[n] = (struct option){ 0 };

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET:
			cm->socket = optarg;
			break;
		case O_JSON:
			cm->json = true;
			break;
		case 'h':
			return -1;
		case '?':
		case ':':
			bad_option(cm, argc, argv);
			return -2;
		default:
			if (!handle || handle(cm, c, optarg, ctx))
				return -2;
			break;
		}
	}
	if (argc - optind < npos_min) {
		fprintf(stderr, "qrtx %s: %s (see 'qrtx %s --help')\n", cm->verb,
			npos_max == 1 && !strcmp(cm->verb, "submit") ? "which file?" :
			"which job? give its id", cm->verb);
		return -2;
	}
	if (argc - optind > npos_max) {
		fprintf(stderr, "qrtx %s: unexpected argument '%s' (see 'qrtx %s --help')\n",
			cm->verb, argv[optind + npos_max], cm->verb);
		return -2;
	}
	return optind;
}

/* ---- printing results ---- */

struct outcome {
	const char *key;
	double v;
};

static int cmp_outcome(const void *x, const void *y)
{
	const struct outcome *a = x, *b = y;

	if (a->v != b->v)
		return a->v < b->v ? 1 : -1;
	return strcmp(a->key, b->key);
}

/* A table of counts (exact: probabilities), highest first. */
static void print_outcomes(const json_t *table, double shots, bool exact, bool tty)
{
	size_t n = json_object_size(table), i = 0;
	struct outcome *o = malloc((n ? n : 1) * sizeof(*o));
	const char *key;
	json_t *val;
	int width = 7;
	double top;

	if (!o)
		return;
	json_object_foreach((json_t *)table, key, val) {
		if (!json_is_number(val))
			continue;
		o[i].key = key;
		o[i].v = json_number_value(val);
		if ((int)strlen(key) > width)
			width = (int)strlen(key);
		i++;
	}
	n = i;
	qsort(o, n, sizeof(*o), cmp_outcome);
	top = n && o[0].v > 0 ? o[0].v : 1;
	if (exact)
		printf("%-*s  %14s\n", width, "outcome", "probability");
	else
		printf("%-*s  %10s  %11s\n", width, "outcome", "count", "probability");
	for (i = 0; i < n && i < TABLE_ROWS; i++) {
		if (exact)
			printf("%-*s  %14.12f", width, o[i].key, o[i].v);
		else
			printf("%-*s  %10.0f  %11.4f", width, o[i].key, o[i].v,
			       shots > 0 ? o[i].v / shots : 0.0);
		qrtx_cli_print_bar(o[i].v / top, tty);
		putchar('\n');
	}
	if (n > TABLE_ROWS)
		printf("... %zu more outcomes in results.json\n", n - TABLE_ROWS);
	free(o);
}

static void print_pub(const json_t *pub, bool tty)
{
	const json_t *probs = json_object_get(pub, "probabilities");
	const json_t *obs = json_object_get(pub, "observables");
	double shots = json_number_value(json_object_get(pub, "shots"));

	if (!strcmp(jstr(pub, "kind", "sampler"), "estimator") || json_is_array(obs)) {
		size_t i;
		json_t *ob;

		printf("%-30s  %14s  %12s\n", "observable", "value", "std error");
		json_array_foreach(obs, i, ob)
			printf("%-30s  %14.10f  %12.6f\n", jstr(ob, "observable", "?"),
			       json_number_value(json_object_get(ob, "value")),
			       json_number_value(json_object_get(ob, "std_error")));
	} else if (json_is_object(probs)) {
		print_outcomes(probs, shots, true, tty);
	} else {
		printf("%.0f shots\n", shots);
		print_outcomes(json_object_get(pub, "counts"), shots, false, tty);
	}
}

static void print_results(const char *job_id, const json_t *job, const json_t *res)
{
	const json_t *pubs = json_object_get(res, "pubs");
	const json_t *seed = json_object_get(res, "seed");
	bool tty = isatty(STDOUT_FILENO);
	size_t npubs = json_array_size(pubs);

	printf("job %s: %s, %s precision", job_id, jstr(res, "backend", "?"),
	       jstr(res, "precision", "?"));
	if (json_is_integer(seed))
		printf(", seed %" PRIu64, (uint64_t)json_integer_value(seed));
	putchar('\n');
	if (npubs == 0 && json_object_get(res, "counts")) {
		/* results.json without PUBs: its top-level counts. */
		print_pub(res, tty);
	}
	for (size_t i = 0; i < npubs; i++) {
		const json_t *pub = json_array_get(pubs, i);

		if (npubs > 1) {
			const json_t *params = json_object_get(pub, "parameters");
			const char *k;
			json_t *v;
			bool first = true;

			printf("\nPUB %zu (%s", i, jstr(pub, "kind", "?"));
			json_object_foreach((json_t *)params, k, v) {
				printf("%s%s=%.6g", first ? ": " : ", ", k, json_number_value(v));
				first = false;
			}
			printf(")\n");
		}
		print_pub(pub, tty);
	}
	printf("\nartifacts: %s\n", jstr(job, "artifacts", jstr(res, "artifacts", "?")));
}

/* The result of a finished job, printed; the exit status. */
static int show_result(const struct common *cm, struct qrtx_client *c, const char *job_id)
{
	struct qrtx_reply_error e;
	json_t *job = NULL, *res = NULL;
	int ret, rc;

	ret = qrtx_client_result(c, job_id, &job, &res, &e);
	if (ret)
		return report(cm, ret, &e);
	if (cm->json)
		print_json(res ? res : job);
	if (res && state_is(job, "Completed")) {
		if (!cm->json)
			print_results(job_id, job, res);
		rc = EX_OK;
	} else if (res || !state_final(job)) {
		/* Not what the protocol answers: say what came. */
		if (!cm->json)
			fprintf(stderr, "qrtx %s: job %s is %s%s\n", cm->verb, job_id,
				jstr(job, "state", "?"), res ? " but has results" : "");
		rc = res ? EX_OK : EX_FAIL;
	} else {
		rc = report_unfinished(job_id, job);
	}
	json_decref(job);
	json_decref(res);
	return rc;
}

/* ---- wait ---- */

/* Wait for job_id, up to timeout_s (< 0: no limit), with a state line on
 * stderr when it is a terminal. *job gets the last job object. */
static int wait_job(const struct common *cm, struct qrtx_client *c, const char *job_id,
		    double timeout_s, json_t **job, int *timed_out)
{
	struct qrtx_reply_error e;
	bool progress = !cm->json && isatty(STDERR_FILENO);
	double t0 = now_s();
	int drawn = 0, ret;

	*job = NULL;
	*timed_out = 0;
	if (!progress) {
		int64_t ms = timeout_s < 0 ? -1 : (int64_t)ceil(timeout_s * 1000);

		ret = qrtx_client_wait(c, job_id, ms, job, timed_out, &e);
		return ret ? report(cm, ret, &e) : EX_OK;
	}
	for (;;) {
		double left = timeout_s < 0 ? -1 : timeout_s - (now_s() - t0);
		int64_t ms = POLL_MS;
		char st[96], line[128];
		int n;

		if (timeout_s >= 0 && left * 1000 < POLL_MS)
			ms = left > 0 ? (int64_t)ceil(left * 1000) : 0;
		json_decref(*job);
		*job = NULL;
		ret = qrtx_client_wait(c, job_id, ms, job, timed_out, &e);
		if (ret || !*timed_out || (timeout_s >= 0 && now_s() - t0 >= timeout_s))
			break;
		state_text(*job, st, sizeof(st));
		n = snprintf(line, sizeof(line), "%s %lds", st, (long)(now_s() - t0));
		fprintf(stderr, "\r%-*s", drawn > n ? drawn : n, line);
		fflush(stderr);
		if (n > drawn)
			drawn = n;
	}
	if (drawn) {
		fprintf(stderr, "\r%*s\r", drawn, "");
		fflush(stderr);
	}
	return ret ? report(cm, ret, &e) : EX_OK;
}

/* ---- submit ---- */

struct submit_args {
	long long shots, seed, priority;
	bool shots_set, seed_set, priority_set, timeout_set, exact, wait;
	const char *precision, *backend;
	double timeout_s;
	const char *observables[MAX_OBSERVABLES];
	unsigned int nobservables;
};

static int submit_opt(const struct common *cm, int c, const char *arg, void *ctx)
{
	struct submit_args *a = ctx;

	switch (c) {
	case O_SHOTS:
		if (parse_int(cm, "--shots", arg, 1, LLONG_MAX, &a->shots))
			return EX_USAGE;
		a->shots_set = true;
		break;
	case O_SEED:
		if (parse_int(cm, "--seed", arg, 0, LLONG_MAX, &a->seed))
			return EX_USAGE;
		a->seed_set = true;
		break;
	case O_PRIO:
		if (parse_int(cm, "--priority", arg, INT32_MIN, INT32_MAX, &a->priority))
			return EX_USAGE;
		a->priority_set = true;
		break;
	case O_PREC:
		if (strcmp(arg, "single") && strcmp(arg, "double")) {
			fprintf(stderr, "qrtx submit: --precision is single or double, not '%s'\n",
				arg);
			return EX_USAGE;
		}
		a->precision = arg;
		break;
	case O_BACKEND:
		a->backend = arg;
		break;
	case O_TIMEOUT:
		if (parse_seconds(cm, "--timeout", arg, false, &a->timeout_s))
			return EX_USAGE;
		a->timeout_set = true;
		break;
	case O_OBS:
		if (a->nobservables == MAX_OBSERVABLES) {
			fprintf(stderr, "qrtx submit: at most %d --observable\n", MAX_OBSERVABLES);
			return EX_USAGE;
		}
		a->observables[a->nobservables++] = arg;
		break;
	case O_EXACT:
		a->exact = true;
		break;
	case O_WAIT:
		a->wait = true;
		break;
	default:
		return EX_USAGE;
	}
	return 0;
}

static json_t *submit_options(const struct submit_args *a)
{
	json_t *o = json_object(), *obs;
	int bad = !o;

	if (bad)
		return NULL;
	if (a->shots_set)
		bad |= json_object_set_new(o, "shots", json_integer(a->shots));
	if (a->seed_set)
		bad |= json_object_set_new(o, "seed", json_integer(a->seed));
	if (a->precision)
		bad |= json_object_set_new(o, "precision", json_string(a->precision));
	if (a->backend)
		bad |= json_object_set_new(o, "backend", json_string(a->backend));
	if (a->priority_set)
		bad |= json_object_set_new(o, "priority", json_integer(a->priority));
	if (a->timeout_set)
		bad |= json_object_set_new(o, "timeout_s", json_real(a->timeout_s));
	if (a->nobservables) {
		obs = json_array();
		bad |= json_object_set_new(o, "observables", obs);
		for (unsigned int i = 0; !bad && i < a->nobservables; i++)
			bad |= json_array_append_new(obs, json_string(a->observables[i]));
	}
	if (a->exact)
		bad |= json_object_set_new(o, "exact", json_true());
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int qrtx_cli_submit(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "shots", required_argument, NULL, O_SHOTS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "precision", required_argument, NULL, O_PREC },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "priority", required_argument, NULL, O_PRIO },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "observable", required_argument, NULL, O_OBS },
		{ "exact", no_argument, NULL, O_EXACT },
		{ "wait", no_argument, NULL, O_WAIT },
	};
	struct common cm = { .verb = "submit" };
	struct submit_args a = { 0 };
	struct qrtx_reply_error e;
	struct qrtx_client *c = NULL;
	json_t *opts = NULL, *job = NULL;
	char job_id[QRTX_JOB_ID_MAX], *text = NULL;
	const char *file;
	size_t len = 0;
	int pos, ret = 0, rc, timed_out;

	pos = parse_common(&cm, argc, argv, extra, sizeof(extra) / sizeof(extra[0]),
			   submit_opt, &a, 1, 1);
	if (pos == -1) {
		qrtx_cli_submit_usage(stdout);
		return EX_OK;
	}
	if (pos < 0)
		return EX_USAGE;
	file = argv[pos];
	text = qrtx_cli_read_file(file, &len, &ret);
	if (!text) {
		fprintf(stderr, "qrtx submit: %s: %s\n", file, strerror(-ret));
		return ret == -ENOMEM ? EX_FAIL : EX_INPUT;
	}
	if (strlen(text) != len) {
		fprintf(stderr, "qrtx submit: %s: not a text file (it holds a NUL byte)\n", file);
		rc = EX_INPUT;
		goto out;
	}
	opts = submit_options(&a);
	if (!opts) {
		fprintf(stderr, "qrtx submit: out of memory, or an --observable is not UTF-8\n");
		rc = EX_USAGE;
		goto out;
	}
	rc = open_client(&cm, &c);
	if (rc)
		goto out;
	ret = qrtx_client_submit(c, qrtx_cli_is_json(file, text) ? "json" : "qasm", file, text,
				 json_object_size(opts) ? opts : NULL, job_id, &e);
	if (ret) {
		/* A file that is not UTF-8 is refused here, before it is sent. */
		rc = ret == -EINVAL && !strcmp(e.category, "ValidationError") ? EX_INPUT :
		     report(&cm, ret, &e);
		if (rc == EX_INPUT)
			fprintf(stderr, "qrtx submit: %s: %s\n", file, e.message);
		goto out;
	}
	if (!a.wait) {
		if (cm.json) {
			json_t *o = json_pack("{s:s}", "job_id", job_id);

			print_json(o);
			json_decref(o);
		} else {
			printf("job %s submitted\n", job_id);
		}
		rc = EX_OK;
		goto out;
	}
	if (!cm.json) {
		printf("job %s submitted\n", job_id);
		fflush(stdout);
	}
	rc = wait_job(&cm, c, job_id, -1, &job, &timed_out);
	if (!rc)
		rc = show_result(&cm, c, job_id);
out:
	json_decref(job);
	json_decref(opts);
	qrtx_client_close(c);
	free(text);
	return rc;
}

/* ---- status, wait, result, cancel ---- */

static void print_time_ns(const char *label, const json_t *ns)
{
	char buf[64];
	struct tm tm;
	time_t t;

	if (!json_is_number(ns))
		return;
	t = (time_t)(json_number_value(ns) / 1e9);
	if (!localtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm))
		return;
	printf("  %-10s %s\n", label, buf);
}

static void print_job(const char *job_id, const json_t *job)
{
	const json_t *e = json_object_get(job, "error");
	const json_t *prio = json_object_get(job, "priority");
	const json_t *uid = json_object_get(job, "uid");
	char st[96];

	state_text(job, st, sizeof(st));
	printf("job %s: %s\n", jstr(job, "job_id", job_id), st);
	printf("  %-10s %s\n", "name:", jstr(job, "name", "-"));
	if (json_is_integer(prio))
		printf("  %-10s %" JSON_INTEGER_FORMAT "\n", "priority:", json_integer_value(prio));
	if (json_is_integer(uid))
		printf("  %-10s %" JSON_INTEGER_FORMAT "\n", "uid:", json_integer_value(uid));
	print_time_ns("submitted:", json_object_get(job, "submitted_ns"));
	print_time_ns("finished:", json_object_get(job, "finished_ns"));
	if (e)
		printf("  %-10s %s: %s\n", "error:", jstr(e, "category", "Error"),
		       jstr(e, "message", "(no message)"));
	printf("  %-10s %s\n", "artifacts:", jstr(job, "artifacts", "-"));
}

static int job_verb(const char *verb, int argc, char **argv, void (*usage)(FILE *),
		    const struct option *extra, size_t nextra, opt_handler handle, void *ctx,
		    struct common *cm, struct qrtx_client **c, const char **job_id)
{
	int pos;

	cm->verb = verb;
	pos = parse_common(cm, argc, argv, extra, nextra, handle, ctx, 1, 1);
	if (pos == -1) {
		usage(stdout);
		return -1;
	}
	if (pos < 0)
		return EX_USAGE;
	*job_id = argv[pos];
	if (!**job_id) {
		fprintf(stderr, "qrtx %s: the job id is empty\n", verb);
		return EX_USAGE;
	}
	return open_client(cm, c);
}

/* A verb that answers one job object: status (printed whole) and cancel
 * (its state on one line). */
static int one_job_verb(const char *verb, int argc, char **argv, void (*usage)(FILE *),
			int (*call)(struct qrtx_client *, const char *, json_t **,
				    struct qrtx_reply_error *),
			bool whole)
{
	struct common cm = { 0 };
	struct qrtx_reply_error e;
	struct qrtx_client *c = NULL;
	const char *job_id;
	json_t *job = NULL;
	int rc, ret;

	rc = job_verb(verb, argc, argv, usage, NULL, 0, NULL, NULL, &cm, &c, &job_id);
	if (rc)
		return rc < 0 ? EX_OK : rc;
	ret = call(c, job_id, &job, &e);
	if (ret) {
		rc = report(&cm, ret, &e);
	} else if (cm.json) {
		print_json(job);
	} else if (whole) {
		print_job(job_id, job);
	} else {
		char st[96];

		state_text(job, st, sizeof(st));
		printf("job %s: %s\n", job_id, st);
	}
	json_decref(job);
	qrtx_client_close(c);
	return rc;
}

int qrtx_cli_status(int argc, char **argv)
{
	return one_job_verb("status", argc, argv, qrtx_cli_status_usage, qrtx_client_status,
			    true);
}

static int wait_opt(const struct common *cm, int c, const char *arg, void *ctx)
{
	double *timeout_s = ctx;

	if (c != O_TIMEOUT || parse_seconds(cm, "--timeout", arg, true, timeout_s))
		return EX_USAGE;
	return 0;
}

int qrtx_cli_wait(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "timeout", required_argument, NULL, O_TIMEOUT },
	};
	struct common cm = { 0 };
	struct qrtx_client *c = NULL;
	double timeout_s = -1;
	const char *job_id;
	json_t *job = NULL;
	int rc, timed_out;

	rc = job_verb("wait", argc, argv, qrtx_cli_wait_usage, extra, 1, wait_opt, &timeout_s,
		      &cm, &c, &job_id);
	if (rc)
		return rc < 0 ? EX_OK : rc;
	rc = wait_job(&cm, c, job_id, timeout_s, &job, &timed_out);
	if (rc)
		goto out;
	if (cm.json) {
		json_t *o = json_pack("{s:O, s:b}", "job", job, "timed_out", timed_out);

		print_json(o);
		json_decref(o);
	}
	if (timed_out) {
		char st[96];

		state_text(job, st, sizeof(st));
		fprintf(stderr, "qrtx wait: job %s is still %s after %gs\n", job_id, st,
			timeout_s);
		rc = EX_TIMEDOUT;
	} else if (state_is(job, "Completed")) {
		if (!cm.json)
			printf("job %s: Completed\n", job_id);
		rc = EX_OK;
	} else {
		rc = report_unfinished(job_id, job);
	}
out:
	json_decref(job);
	qrtx_client_close(c);
	return rc;
}

int qrtx_cli_result(int argc, char **argv)
{
	struct common cm = { 0 };
	struct qrtx_client *c = NULL;
	const char *job_id;
	int rc;

	rc = job_verb("result", argc, argv, qrtx_cli_result_usage, NULL, 0, NULL, NULL, &cm, &c,
		      &job_id);
	if (rc)
		return rc < 0 ? EX_OK : rc;
	rc = show_result(&cm, c, job_id);
	qrtx_client_close(c);
	return rc;
}

int qrtx_cli_cancel(int argc, char **argv)
{
	return one_job_verb("cancel", argc, argv, qrtx_cli_cancel_usage, qrtx_client_cancel,
			    false);
}

/* ---- list, stats ---- */

static int list_opt(const struct common *cm, int c, const char *arg, void *ctx)
{
	const char **state = ctx;

	if (c != O_STATE)
		return EX_USAGE;
	for (int i = 0; i < QRTX_JOB_NSTATES; i++) {
		if (!strcmp(arg, qrtx_job_state_name(i))) {
			*state = qrtx_job_state_name(i);
			return 0;
		}
	}
	fprintf(stderr, "qrtx %s: no state '%s' (see 'qrtx %s --help')\n", cm->verb, arg,
		cm->verb);
	return EX_USAGE;
}

int qrtx_cli_list(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "state", required_argument, NULL, O_STATE },
	};
	struct common cm = { .verb = "list" };
	struct qrtx_reply_error e;
	struct qrtx_client *c = NULL;
	const char *state = NULL;
	json_t *jobs = NULL, *job;
	size_t i;
	int pos, rc, ret, width = 8;

	pos = parse_common(&cm, argc, argv, extra, 1, list_opt, &state, 0, 0);
	if (pos == -1) {
		qrtx_cli_list_usage(stdout);
		return EX_OK;
	}
	if (pos < 0)
		return EX_USAGE;
	rc = open_client(&cm, &c);
	if (rc)
		return rc;
	ret = qrtx_client_list(c, state, &jobs, &e);
	if (ret) {
		rc = report(&cm, ret, &e);
	} else if (cm.json) {
		print_json(jobs);
	} else {
		json_array_foreach(jobs, i, job)
			if ((int)strlen(jstr(job, "job_id", "?")) > width)
				width = (int)strlen(jstr(job, "job_id", "?"));
		json_array_foreach(jobs, i, job)
			printf("%-*s  %-10s  %8" JSON_INTEGER_FORMAT "  %s\n", width,
			       jstr(job, "job_id", "?"), jstr(job, "state", "?"),
			       json_integer_value(json_object_get(job, "priority")),
			       jstr(job, "name", "-"));
	}
	json_decref(jobs);
	qrtx_client_close(c);
	return rc;
}

static void print_stat_int(const char *label, const json_t *v)
{
	if (json_is_number(v))
		printf("%-14s %.0f\n", label, json_number_value(v));
}

int qrtx_cli_stats(int argc, char **argv)
{
	struct common cm = { .verb = "stats" };
	struct qrtx_reply_error e;
	struct qrtx_client *c = NULL;
	json_t *stats = NULL, *jobs, *v;
	const char *k;
	int pos, rc, ret;

	pos = parse_common(&cm, argc, argv, NULL, 0, NULL, NULL, 0, 0);
	if (pos == -1) {
		qrtx_cli_stats_usage(stdout);
		return EX_OK;
	}
	if (pos < 0)
		return EX_USAGE;
	rc = open_client(&cm, &c);
	if (rc)
		return rc;
	ret = qrtx_client_stats(c, &stats, &e);
	if (ret) {
		rc = report(&cm, ret, &e);
		goto out;
	}
	if (cm.json) {
		print_json(stats);
		goto out;
	}
	jobs = json_object_get(stats, "jobs");
	printf("jobs:\n");
	json_object_foreach(jobs, k, v)
		printf("  %-12s %.0f\n", k, json_number_value(v));
	print_stat_int("queue depth:", json_object_get(stats, "queue_depth"));
	print_stat_int("workers:", json_object_get(stats, "workers"));
	print_stat_int("workers busy:", json_object_get(stats, "workers_busy"));
	{
		const char *k;
		json_t *e;

		/* each executor's workers: busy of how many */
		json_object_foreach(json_object_get(stats, "executors"), k, e)
			printf("  %-12s %.0f/%.0f busy\n", k,
			       json_number_value(json_object_get(e, "busy")),
			       json_number_value(json_object_get(e, "workers")));
	}
	print_stat_int("submitted:", json_object_get(stats, "submitted"));
	v = json_object_get(stats, "uptime_s");
	if (json_is_number(v))
		printf("%-14s %.0fs\n", "uptime:", json_number_value(v));
out:
	json_decref(stats);
	qrtx_client_close(c);
	return rc;
}

struct gc_args {
	double older_days;
	long keep;
	bool dry;
};

static int gc_opt(const struct common *cm, int c, const char *arg, void *ctx)
{
	struct gc_args *g = ctx;
	char *end;
	double v;

	if (c == O_DRY) {
		g->dry = true;
		return 0;
	}
	v = strtod(arg, &end);
	if (*end || !*arg || v < 0 || (c == O_KEEP && v != (double)(long)v)) {
		fprintf(stderr, "qrtx %s: --%s needs %s >= 0, not '%s'\n", cm->verb,
			c == O_KEEP ? "keep" : "older-than",
			c == O_KEEP ? "a whole number" : "a number", arg);
		return EX_USAGE;
	}
	if (c == O_KEEP)
		g->keep = (long)v;
	else
		g->older_days = v;
	return 0;
}

int qrtx_cli_gc(int argc, char **argv)
{
	static const struct option extra[] = {
		{ "older-than", required_argument, NULL, O_OLDER },
		{ "keep", required_argument, NULL, O_KEEP },
		{ "dry-run", no_argument, NULL, O_DRY },
	};
	struct common cm = { .verb = "gc" };
	struct gc_args g = { -1, -1, false };
	struct qrtx_reply_error e;
	struct qrtx_client *c = NULL;
	json_t *args, *resp = NULL, *removed, *id;
	size_t i;
	int pos, rc, ret;

	pos = parse_common(&cm, argc, argv, extra, 3, gc_opt, &g, 0, 0);
	if (pos == -1) {
		qrtx_cli_gc_usage(stdout);
		return EX_OK;
	}
	if (pos < 0)
		return EX_USAGE;
	if (g.older_days < 0 && g.keep < 0) {
		fprintf(stderr, "qrtx gc: say what to remove: --older-than DAYS, --keep N or "
			"both (see 'qrtx gc --help')\n");
		return EX_USAGE;
	}
	rc = open_client(&cm, &c);
	if (rc)
		return rc;
	args = json_object();
	if (g.older_days >= 0)
		json_object_set_new(args, "max_age_s", json_real(g.older_days * 86400.0));
	if (g.keep >= 0)
		json_object_set_new(args, "max_jobs", json_integer(g.keep));
	if (g.dry)
		json_object_set_new(args, "dry_run", json_true());
	ret = qrtx_client_call(c, "gc", args, &resp, &e);
	json_decref(args);
	if (ret) {
		rc = report(&cm, ret, &e);
	} else {
		removed = json_object_get(resp, "removed");
		if (cm.json) {
			print_json(removed);
		} else {
			json_array_foreach(removed, i, id)
				printf("%s\n", json_string_value(id));
			printf("%s %zu finished job%s\n", g.dry ? "would remove" : "removed",
			       json_array_size(removed), json_array_size(removed) == 1 ? "" : "s");
		}
	}
	json_decref(resp);
	qrtx_client_close(c);
	return rc;
}
