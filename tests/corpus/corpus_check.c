// SPDX-License-Identifier: MIT
/*
 * Reference corpus check (TAP): for every NAME.qasm beside a NAME.json
 * holding its exact outcome distribution,
 *   - our exact distribution in double precision is within total
 *     variation distance 1e-9 of the reference, and within 1e-4 in single;
 *   - counts sampled in double precision pass a chi-square goodness-of-fit
 *     test against the reference at significance 1e-3.
 *
 * usage: corpus_check [--shots N] [--seed S] [--engine cpu|cuda|cuda-emulated] DIR...
 *
 * --engine cuda runs on CUDA device 0, cuda-emulated on the CUDA engine's
 * host emulation (its kernels as loops: the same indexing and arithmetic).
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qrtx/exec.h"
#include "qrtx/gpusv.h"
#include "qrtx/qasm.h"

#define TVD_DOUBLE 1e-9
#define TVD_SINGLE 1e-4
#define ALPHA 1e-3

static unsigned int test_no, failures;
static bool use_cuda;
static int cuda_device;

static void tap(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u - ", ok ? "ok" : "not ok", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

/* Upper regularised incomplete gamma Q(a, x): series below a+1, else a
 * continued fraction (Lentz). */
static double gamma_q(double a, double x)
{
	double gln = lgamma(a);

	if (x <= 0)
		return 1;
	if (x < a + 1) {
		double sum = 1 / a, term = sum;

		for (int n = 1; n < 10000; n++) {
			term *= x / (a + n);
			sum += term;
			if (fabs(term) < fabs(sum) * 1e-15)
				break;
		}
		return 1 - sum * exp(-x + a * log(x) - gln);
	}
	double b = x + 1 - a, c = 1 / 1e-300, d = 1 / b, h = d;

	for (int i = 1; i < 10000; i++) {
		double an = -i * (i - a), del;

		b += 2;
		d = an * d + b;
		if (fabs(d) < 1e-300)
			d = 1e-300;
		c = b + an / c;
		if (fabs(c) < 1e-300)
			c = 1e-300;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-15)
			break;
	}
	return exp(-x + a * log(x) - gln) * h;
}

struct ref {
	uint64_t bits;
	double p;
};

static int cmp_ref(const void *a, const void *b)
{
	uint64_t x = ((const struct ref *)a)->bits, y = ((const struct ref *)b)->bits;

	return x < y ? -1 : x > y;
}

static int load_ref(const char *path, struct ref **out, size_t *n, uint32_t *clbits)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *probs;
	const char *key;
	json_t *val;
	size_t i = 0;

	if (!root)
		return -EINVAL;
	probs = json_object_get(root, "probabilities");
	*clbits = (uint32_t)json_integer_value(json_object_get(root, "clbits"));
	*n = json_object_size(probs);
	*out = calloc(*n ? *n : 1, sizeof(**out));
	if (!*out) {
		json_decref(root);
		return -ENOMEM;
	}
	json_object_foreach(probs, key, val) {
		uint64_t bits = 0;
		size_t len = strlen(key);

		for (size_t k = 0; k < len; k++)
			if (key[len - 1 - k] == '1')
				bits |= 1ull << k;
		(*out)[i].bits = bits;
		(*out)[i++].p = json_number_value(val);
	}
	qsort(*out, *n, sizeof(**out), cmp_ref);
	json_decref(root);
	return 0;
}

static double ref_p(const struct ref *r, size_t n, uint64_t bits)
{
	struct ref key = { .bits = bits }, *hit = bsearch(&key, r, n, sizeof(*r), cmp_ref);

	return hit ? hit->p : 0;
}

static int cmp_outcome(const void *a, const void *b)
{
	uint64_t x = ((const struct qrtx_outcome *)a)->bits;
	uint64_t y = ((const struct qrtx_outcome *)b)->bits;

	return x < y ? -1 : x > y;
}

/* An outcome's entry in a result list sorted by bits, or NULL. */
static const struct qrtx_outcome *find_outcome(const struct qrtx_outcome *o, size_t n,
					       uint64_t bits)
{
	struct qrtx_outcome key = { .bits = bits };

	return bsearch(&key, o, n, sizeof(*o), cmp_outcome);
}

/* Total variation distance between our distribution and the reference. */
static double tvd(const struct qrtx_pub_result *res, const struct ref *r, size_t n)
{
	double d = 0;

	for (size_t i = 0; i < res->nprobs; i++)
		d += fabs(res->probs[i].p - ref_p(r, n, res->probs[i].bits));
	/* Reference outcomes we gave no probability at all. */
	for (size_t i = 0; i < n; i++)
		if (!find_outcome(res->probs, res->nprobs, r[i].bits))
			d += r[i].p;
	return d / 2;
}

/* Chi-square over bins with expected count >= 5, the rest pooled. */
static double chi_square_p(const struct qrtx_pub_result *res, const struct ref *r,
			   size_t n, uint64_t shots, int *dof_out)
{
	double chi2 = 0, pool_exp = 0, pool_obs = 0, total_obs = 0;
	int bins = 0;

	for (size_t i = 0; i < n; i++) {
		const struct qrtx_outcome *hit = find_outcome(res->counts, res->ncounts, r[i].bits);
		double e = r[i].p * (double)shots, o = hit ? (double)hit->count : 0;

		total_obs += o;
		if (e >= 5) {
			chi2 += (o - e) * (o - e) / e;
			bins++;
		} else {
			pool_exp += e;
			pool_obs += o;
		}
	}
	/* Shots that landed on outcomes the reference does not list. */
	pool_obs += (double)shots - total_obs;
	if (pool_exp >= 5) {
		chi2 += (pool_obs - pool_exp) * (pool_obs - pool_exp) / pool_exp;
		bins++;
	} else if (pool_obs > 10 * (pool_exp + 1)) {
		*dof_out = 0;
		return 0;	/* far too many shots where almost none belong */
	}
	*dof_out = bins - 1;
	if (bins < 2)
		return 1;
	return gamma_q((bins - 1) / 2.0, chi2 / 2);
}

static int run(struct qrtx_job_spec *job, bool exact, uint64_t seed,
	       struct qrtx_pub_result *res, struct qrtx_error *err)
{
	struct qrtx_exec_opts o = { .exact = exact, .cuda = use_cuda, .cuda_device = cuda_device };

	return qrtx_exec_pub(job, &job->pubs[0], seed, &o, res, err);
}

static void check_one(const char *qasm, const char *refpath, uint64_t shots, uint64_t seed)
{
	struct qrtx_job_spec job = { .shots = shots, .npubs = 1 };
	struct qrtx_pub pub = { .kind = QRTX_PUB_SAMPLER, .shots = shots };
	struct qrtx_pub_result res = { 0 };
	struct qrtx_error err = { 0 };
	const char *name = strstr(qasm, "qasmbench/") ? strstr(qasm, "qasmbench/") + 10 : qasm;
	struct ref *r = NULL;
	size_t n = 0;
	uint32_t clbits;
	char msg[1024];
	double d, p;
	int dof;

	job.pubs = &pub;
	strcpy(job.backend, "ideal@cpu");
	if (load_ref(refpath, &r, &n, &clbits)) {
		tap(false, "%s: cannot read the reference %s", name, refpath);
		return;
	}
	if (qrtx_qasm_parse_file(qasm, &job.circuit, &err)) {
		qrtx_error_format(&err, msg, sizeof(msg));
		tap(false, "%s: parse: %s", name, msg);
		free(r);
		return;
	}
	tap(job.circuit->nclbits == clbits, "%s: %u classical bits as the reference",
	    name, job.circuit->nclbits);

	job.precision = QRTX_PREC_DOUBLE;
	if (run(&job, true, seed, &res, &err)) {
		qrtx_error_format(&err, msg, sizeof(msg));
		tap(false, "%s: double: %s", name, msg);
	} else {
		d = tvd(&res, r, n);
		tap(d <= TVD_DOUBLE, "%s: double exact, TVD %.3g <= %g", name, d, TVD_DOUBLE);
		p = chi_square_p(&res, r, n, shots, &dof);
		tap(p >= ALPHA, "%s: %llu shots, chi-square p %.3g (dof %d) >= %g", name,
		    (unsigned long long)shots, p, dof, ALPHA);
	}
	qrtx_pub_result_free(&res);

	job.precision = QRTX_PREC_SINGLE;
	qrtx_error_clear(&err);
	if (run(&job, true, seed, &res, &err)) {
		qrtx_error_format(&err, msg, sizeof(msg));
		tap(false, "%s: single: %s", name, msg);
	} else {
		d = tvd(&res, r, n);
		tap(d <= TVD_SINGLE, "%s: single exact, TVD %.3g <= %g", name, d, TVD_SINGLE);
	}
	qrtx_pub_result_free(&res);
	qrtx_circuit_free(job.circuit);
	free(r);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect every .qasm under dir that has a .json beside it. */
static void collect(const char *dir, char ***list, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *path;
		struct stat st;

		if (e->d_name[0] == '.' || asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			continue;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			collect(path, list, n);
			free(path);
		} else if (strlen(path) > 5 && !strcmp(path + strlen(path) - 5, ".qasm")) {
			*list = realloc(*list, (*n + 1) * sizeof(**list));
			(*list)[(*n)++] = path;
		} else {
			free(path);
		}
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	uint64_t shots = 8192, seed = 20261122;
	char **files = NULL;
	size_t nfiles = 0;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--shots"))
			shots = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--engine") && !strcmp(argv[i + 1], "cuda"))
			use_cuda = true;
		else if (!strcmp(argv[i], "--engine") && !strcmp(argv[i + 1], "cuda-emulated"))
			use_cuda = true, cuda_device = QRTX_GPU_EMULATE;
		else if (strcmp(argv[i], "--engine") || strcmp(argv[i + 1], "cpu"))
			i = argc;	/* unknown: usage */
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [--shots N] [--seed S] [--engine cpu|cuda|cuda-emulated] DIR...\n",
			argv[0]);
		return 2;
	}
	if (use_cuda && cuda_device != QRTX_GPU_EMULATE) {
		char why[256];

		if (qrtx_gpu_available(why, sizeof(why)) <= 0) {
			printf("1..1\nok 1 - the corpus on CUDA device 0 # SKIP %s\n", why);
			return 0;
		}
	}
	if (use_cuda && !qrtx_gpu_built()) {
		printf("1..1\nok 1 - the corpus on the CUDA engine # SKIP this build has no CUDA engine\n");
		return 0;
	}
	for (; i < argc; i++)
		collect(argv[i], &files, &nfiles);
	qsort(files, nfiles, sizeof(*files), cmp_str);
	for (size_t f = 0; f < nfiles; f++) {
		char *ref = strdup(files[f]);

		strcpy(ref + strlen(ref) - 5, ".json");
		check_one(files[f], ref, shots, seed + f);
		free(ref);
		free(files[f]);
	}
	free(files);
	printf("1..%u\n", test_no);
	return failures ? 1 : 0;
}
