// SPDX-License-Identifier: MIT
/*
 * qrtx run: one job in-process, from a QASM or JSON file to printed counts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "qrtx/pipeline.h"
#include "qrtx/qasm.h"
#include "qrtx/submit.h"

#define MAX_OBSERVABLES QRTX_MAX_OBSERVABLES
#define TABLE_ROWS 32

void qrtx_cli_run_usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx run FILE.qasm|FILE.json [OPTIONS]\n"
		"\n"
		"Validate, compile, reserve, execute and persist one job in this process\n"
		"(no daemon, no kernel module needed), then print its results.\n"
		"\n"
		"Options:\n"
		"  --shots N              samples to draw (default 1024)\n"
		"  --seed S               seed for sampling, 0 to 2^63-1; the same seed\n"
		"                         gives the same counts for any thread count\n"
		"                         (default: random, printed and recorded)\n"
		"  --precision P          double (complex128, default) or single (complex64)\n"
		"  --threads T            engine threads (default: online CPUs)\n"
		"  --backend B            ideal@cpu (default) or ideal@cuda (CUDA device 0;\n"
		"                         'qrtx info' says whether it is available here)\n"
		"  --observable P         Pauli sum to estimate, e.g. '0.5*ZZI - 1.2*XIX'\n"
		"                         (qubit 0 is the last letter); repeatable\n"
		"  --exact                print the exact outcome distribution instead of\n"
		"                         samples (all measurements must be terminal)\n"
		"  --memory               also keep every shot's bitstring (results.json)\n"
		"  --fuse K               widest fused gate block (1: no fusion)\n"
		"  --state-dir DIR        where circuit_fs/<job_id>/ is written (default:\n"
		"                         $QRTX_STATE_DIR, /var/lib/qrtx for root, else\n"
		"                         $XDG_STATE_HOME/qrtx or ~/.local/state/qrtx)\n"
		"  --json                 print one JSON object (job_id, counts, ...)\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status: 0 the job completed; 1 it failed while running (allocation,\n"
		"execution, persistence); 2 bad usage; 3 the input is invalid.\n");
}

struct progress {
	struct timespec start;
	bool shown;
};

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A bar on stderr once a run has taken more than a second. */
static void show_progress(void *arg, double f)
{
	struct progress *p = arg;
	int width = 40, done = (int)(f * width + 0.5);

	if (!p->shown && since(&p->start) < 1.0)
		return;
	p->shown = true;
	fprintf(stderr, "\r[");
	for (int i = 0; i < width; i++)
		fputc(i < done ? '#' : '.', stderr);
	fprintf(stderr, "] %3d%%", (int)(f * 100 + 0.5));
	fflush(stderr);
}

/* The whole file, read to its end (so pipes work too), NUL-terminated. */
char *qrtx_cli_read_file(const char *path, size_t *len, int *err)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 0;
	char *buf = NULL;

	if (!f) {
		*err = -errno;
		return NULL;
	}
	for (;;) {
		size_t r;

		if (cap - n < 2) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = ncap > cap ? realloc(buf, ncap) : NULL;

			if (!nb) {
				*err = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		*err = errno ? -errno : -EIO;
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* A JSON graph by its name, else by its first character. */
bool qrtx_cli_is_json(const char *path, const char *text)
{
	const char *dot = strrchr(path, '.');

	if (dot && !strcmp(dot, ".json"))
		return true;
	if (dot && !strcmp(dot, ".qasm"))
		return false;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	return *text == '{';
}

struct run_args {
	const char *file, *state_dir, *backend;
	uint64_t shots, seed;
	bool shots_set, seed_set, exact, json, memory;
	int precision;			/* -1: as the job says */
	unsigned int threads, fuse;
	const char *observables[MAX_OBSERVABLES];
	unsigned int nobservables;
};

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-' || v < min || v > max) {
		if (max == UINT64_MAX)
			fprintf(stderr, "qrtx run: %s needs a whole number >= %llu, not '%s'\n",
				opt, (unsigned long long)min, s);
		else
			fprintf(stderr, "qrtx run: %s needs a whole number from %llu to %llu, "
				"not '%s'\n", opt, (unsigned long long)min,
				(unsigned long long)max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Returns 0, a usage error (2), or -1 for --help. */
static int parse_args(int argc, char **argv, struct run_args *a)
{
	enum { O_SHOTS = 256, O_SEED, O_PREC, O_THREADS, O_OBS, O_EXACT, O_JSON,
	       O_MEMORY, O_FUSE, O_STATE, O_BACKEND };
	static const struct option opts[] = {
		{ "shots", required_argument, NULL, O_SHOTS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "precision", required_argument, NULL, O_PREC },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "observable", required_argument, NULL, O_OBS },
		{ "exact", no_argument, NULL, O_EXACT },
		{ "json", no_argument, NULL, O_JSON },
		{ "memory", no_argument, NULL, O_MEMORY },
		{ "fuse", required_argument, NULL, O_FUSE },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint64_t v;
	int c;

	memset(a, 0, sizeof(*a));
	a->precision = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SHOTS:
			if (parse_u64("--shots", optarg, 1, UINT64_MAX, &a->shots))
				return 2;
			a->shots_set = true;
			break;
		case O_SEED:
			if (parse_u64("--seed", optarg, 0, INT64_MAX, &a->seed))
				return 2;
			a->seed_set = true;
			break;
		case O_PREC:
			if (!strcmp(optarg, "double")) {
				a->precision = QRTX_PREC_DOUBLE;
			} else if (!strcmp(optarg, "single")) {
				a->precision = QRTX_PREC_SINGLE;
			} else {
				fprintf(stderr, "qrtx run: --precision is single or double, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case O_THREADS:
			if (parse_u64("--threads", optarg, 1, 4096, &v))
				return 2;
			a->threads = (unsigned int)v;
			break;
		case O_FUSE:
			if (parse_u64("--fuse", optarg, 1, QRTX_SV_MAX_DENSE, &v))
				return 2;
			a->fuse = (unsigned int)v;
			break;
		case O_OBS:
			if (a->nobservables == MAX_OBSERVABLES) {
				fprintf(stderr, "qrtx run: at most %d --observable\n", MAX_OBSERVABLES);
				return 2;
			}
			a->observables[a->nobservables++] = optarg;
			break;
		case O_EXACT:
			a->exact = true;
			break;
		case O_JSON:
			a->json = true;
			break;
		case O_MEMORY:
			a->memory = true;
			break;
		case O_STATE:
			a->state_dir = optarg;
			break;
		case O_BACKEND:
			a->backend = optarg;
			break;
		case 'h':
			return -1;
		default:
			if (optopt)
				fprintf(stderr, "qrtx run: option '%s' needs a value or is unknown\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "qrtx run: unknown option '%s'\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, optind >= argc ? "qrtx run: which file? (see 'qrtx run --help')\n" :
			"qrtx run: one input file only (see 'qrtx run --help')\n");
		return 2;
	}
	a->file = argv[optind];
	return 0;
}

static void job_opts(const struct run_args *a, struct qrtx_job_opts *o)
{
	qrtx_job_opts_init(o);
	o->shots = a->shots;
	o->shots_set = a->shots_set;
	o->seed = a->seed;
	o->seed_set = a->seed_set;
	o->precision = a->precision;
	o->backend = a->backend;
	o->memory = a->memory;
	o->exact = a->exact;
	for (unsigned int i = 0; i < a->nobservables; i++)
		o->observables[i] = a->observables[i];
	o->nobservables = a->nobservables;
}

/* input.job.json for a QASM file: the source and the options it ran with. */
static char *qasm_input_json(const struct run_args *a, const char *text,
			     const struct qrtx_job_spec *job)
{
	json_t *o = json_pack("{s:s, s:i, s:{s:s, s:s, s:s}, s:I, s:s, s:s}",
			      "format", "qrtx-job", "version", 1,
			      "source", "kind", "qasm", "file", a->file, "text", text,
			      "shots", (json_int_t)job->shots,
			      "precision", job->precision == QRTX_PREC_SINGLE ? "single" : "double",
			      "backend", job->backend);
	json_t *obs = json_array();
	char *s;

	if (!o) {
		json_decref(obs);
		return NULL;
	}
	if (job->seed_set)
		json_object_set_new(o, "seed", json_integer((json_int_t)job->seed));
	for (unsigned int i = 0; i < a->nobservables; i++)
		json_array_append_new(obs, json_string(a->observables[i]));
	json_object_set_new(o, "observables", obs);
	json_object_set_new(o, "exact", json_boolean(a->exact));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int cmp_count_desc(const void *x, const void *y)
{
	const struct qrtx_outcome *a = x, *b = y;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return a->bits < b->bits ? -1 : a->bits > b->bits;
}

static int cmp_p_desc(const void *x, const void *y)
{
	const struct qrtx_outcome *a = x, *b = y;

	if (a->p != b->p)
		return a->p < b->p ? 1 : -1;
	return a->bits < b->bits ? -1 : a->bits > b->bits;
}

/* A bar of up to 40 cells for fraction f of the largest, on a terminal. */
void qrtx_cli_print_bar(double f, bool tty)
{
	int cells = (int)(f * 40 + 0.5);

	if (!tty)
		return;
	printf("  ");
	for (int i = 0; i < cells; i++)
		fputs("\u2588", stdout);
}

static void print_outcomes(const struct qrtx_pub_result *r, uint32_t nclbits, bool exact,
			   bool tty)
{
	size_t n = exact ? r->nprobs : r->ncounts;
	struct qrtx_outcome *o = malloc((n ? n : 1) * sizeof(*o));
	int width = nclbits > 7 ? (int)nclbits : 7;
	double top;
	char key[80];

	if (!o)
		return;
	memcpy(o, exact ? r->probs : r->counts, n * sizeof(*o));
	qsort(o, n, sizeof(*o), exact ? cmp_p_desc : cmp_count_desc);
	top = n ? (exact ? o[0].p : (double)o[0].count) : 1;
	if (exact)
		printf("%-*s  %14s\n", width, "outcome", "probability");
	else
		printf("%-*s  %10s  %11s\n", width, "outcome", "count", "probability");
	for (size_t i = 0; i < n && i < TABLE_ROWS; i++) {
		qrtx_outcome_format(o[i].bits, nclbits, key);
		if (exact) {
			printf("%-*s  %14.12f", width, key, o[i].p);
			qrtx_cli_print_bar(o[i].p / top, tty);
		} else {
			printf("%-*s  %10" PRIu64 "  %11.4f", width, key, o[i].count,
			       (double)o[i].count / (double)r->shots);
			qrtx_cli_print_bar((double)o[i].count / top, tty);
		}
		putchar('\n');
	}
	if (n > TABLE_ROWS)
		printf("... %zu more outcomes in results.json\n", n - TABLE_ROWS);
	free(o);
}

static void print_results(const struct run_args *a, const struct qrtx_job_spec *job,
			  const struct qrtx_run_result *res)
{
	bool tty = isatty(STDOUT_FILENO);

	printf("job %s: %s, %s precision, seed %" PRIu64 ", %s ledger\n", res->job_id,
	       job->backend, job->precision == QRTX_PREC_SINGLE ? "single" : "double",
	       res->seed, res->ledger);
	for (uint32_t i = 0; i < res->npubs; i++) {
		const struct qrtx_pub_result *r = &res->pubs[i];
		const struct qrtx_pub *pub = &job->pubs[i];

		if (res->npubs > 1) {
			printf("\nPUB %u (%s", i, r->kind == QRTX_PUB_SAMPLER ? "sampler" : "estimator");
			for (uint32_t s = 0; pub->values && s < job->circuit->nsymbols; s++)
				printf("%s%s=%.6g", s ? ", " : ": ", job->circuit->symbols[s],
				       pub->values[s]);
			printf(")\n");
		}
		if (r->kind == QRTX_PUB_SAMPLER) {
			if (a->exact) {
				print_outcomes(r, job->circuit->nclbits, true, tty);
			} else {
				printf("%" PRIu64 " shots\n", r->shots);
				print_outcomes(r, job->circuit->nclbits, false, tty);
			}
		} else {
			printf("%-30s  %14s  %12s\n", "observable", "value", "std error");
			for (uint32_t o = 0; o < r->nvalues; o++)
				printf("%-30s  %14.10f  %12.6f\n", pub->observables[o].text,
				       r->values[o], r->std_errors[o]);
		}
	}
	printf("\nartifacts: %s\n", res->dir);
}

static int exit_for(const struct qrtx_error *e)
{
	return e->category == QRTX_ERR_VALIDATION || e->category == QRTX_ERR_COMPILE ? 3 : 1;
}

int qrtx_cli_run(int argc, char **argv)
{
	struct qrtx_run_opts ro = { 0 };
	struct qrtx_run_result res = { 0 };
	struct qrtx_job_spec *job = NULL;
	struct qrtx_error err = { 0 };
	struct progress prog = { 0 };
	struct qrtx_job_opts jo;
	struct run_args a;
	char *text, *input = NULL, msg[1024];
	bool json;
	size_t len = 0;
	int ret, rc;

	rc = parse_args(argc, argv, &a);
	if (rc < 0) {
		qrtx_cli_run_usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	text = qrtx_cli_read_file(a.file, &len, &ret);
	if (!text) {
		fprintf(stderr, "qrtx run: %s: %s\n", a.file, strerror(-ret));
		return 3;
	}
	json = qrtx_cli_is_json(a.file, text);
	job_opts(&a, &jo);
	ret = qrtx_job_from_source(a.file, text, len, json, &jo, &job, &err);
	if (!ret && json)
		input = strdup(text);
	if (!ret && !input)
		input = qasm_input_json(&a, text, job);
	if (!ret && !input)
		ret = -ENOMEM;
	if (!ret && a.exact && qrtx_circuit_measurements_terminal(job->circuit) != 1) {
		ret = -EINVAL;
		qrtx_error_set(&err, QRTX_ERR_VALIDATION, ret, a.file, 0, 0,
			       "--exact needs every measurement to be terminal (no mid-circuit measurement, reset or if); run without --exact to sample");
	}
	if (ret) {
		if (err.category == QRTX_ERR_NONE)
			qrtx_error_set(&err, QRTX_ERR_VALIDATION, ret, a.file, 0, 0, "%s",
				       strerror(-ret));
		qrtx_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "qrtx run: %s\n", msg);
		rc = ret == -ENOMEM ? 1 : 3;
		goto out;
	}

	ro.state_dir = a.state_dir;
	ro.input_json = input;
	ro.exec.sv.threads = a.threads;
	ro.exec.fuse_max = a.fuse;
	ro.exec.exact = a.exact;
	if (isatty(STDERR_FILENO) && !a.json) {
		clock_gettime(CLOCK_MONOTONIC, &prog.start);
		ro.exec.progress = show_progress;
		ro.exec.progress_arg = &prog;
	}
	ret = qrtx_run_job(job, &ro, &res, &err);
	if (prog.shown)
		fprintf(stderr, "\r%*s\r", 50, "");
	if (ret) {
		qrtx_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "qrtx run: %s: %s\n", qrtx_error_category_name(err.category), msg);
		if (res.job_id[0])
			fprintf(stderr, "qrtx run: job %s failed; its record is in %s\n",
				res.job_id, res.dir);
		rc = exit_for(&err);
		goto out;
	}
	if (a.json)
		printf("%s\n", res.results_json);
	else
		print_results(&a, job, &res);
	rc = 0;
out:
	qrtx_run_result_free(&res);
	qrtx_job_spec_free(job);
	free(input);
	free(text);
	return rc;
}
