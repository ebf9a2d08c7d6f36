// SPDX-License-Identifier: MIT
/*
 * State-vector engine benchmark. Builds two circuit families as IR,
 * lowers them (fused and unfused) and times the state evolution alone,
 * with and without cache blocking:
 *
 *   layered  depth 20: a u3 with random angles (fixed seed) on every qubit,
 *            then cx on brickwork pairs (0,1),(2,3).. on even layers,
 *            (1,2),(3,4).. on odd ones;
 *   qft      x on qubit 0, then h and the controlled-phase ladder on each
 *            qubit in turn, then the final swaps.
 *
 * Cache blocking is the engine's: qrtx_program_apply hands it each run of
 * gates at once, which it applies block by block while a block of the
 * state sits in cache; "blocking off" applies the same kops one call each,
 * one memory pass per kop, to show what each of fusion and blocking pays.
 *
 * For each qubit count and precision it prints the median of the timed
 * runs, the effective bandwidth gates x 2 x 2^n x bytes per amplitude /
 * time as a fraction of a STREAM triad measured in the same run with the
 * same thread count, single-qubit gate passes without fusion, and peak RSS
 * over the state size. Beside each figure stands the target from the
 * issue, scaled when this run's triad is slower than the reference
 * machine's. It prints figures and never judges them by its exit status.
 *
 * Each (qubits, precision) runs in a child process of its own, as does the
 * triad, so that peak RSS belongs to that state alone.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qrtx/circuit.h"
#include "qrtx/gates.h"
#include "qrtx/program.h"
#include "qrtx/rng.h"
#include "qrtx/statevec.h"

#include "families.h"

#define MAX_LIST	8
#define MAX_VARIANTS	(2 * (MAX_LIST + 1))
/* The triad the targets were set against (2 threads). */
#define REF_TRIAD_GBS	29.0


struct opts {
	unsigned int ns[MAX_LIST], nn;
	unsigned int fuses[MAX_LIST], nfuse;	/* fused widths; 0: default */
	unsigned int threads, reps, unfused_max;
	bool block[2];				/* blocking off, on */
	bool prec[2];				/* by enum qrtx_precision */
	bool fam[NFAM];
};

/* What a child reports for one circuit run. */
struct run_result {
	int ok;
	unsigned int fuse;		/* 1: unfused */
	bool blocked;			/* through qrtx_program_apply */
	size_t ngates, nops;
	double lower_s, median_s, min_s, max_s;
};

struct child_result {
	int ok;
	char isa[16];
	unsigned int threads;
	struct run_result runs[NFAM][2 * (MAX_LIST + 1)];
	unsigned int nruns[NFAM];
	double pass_mean_s, pass_worst_s;	/* one u3, per qubit */
	unsigned int pass_worst_q;
	double peak_rss;			/* bytes */
	double state_bytes;
	char err[512];
};

/* ---- STREAM triad ---- */

struct triad_ctx {
	double *a, *b, *c;
	size_t len;
	unsigned int nth, reps;
	pthread_barrier_t bar;
	double best;
};

struct triad_arg {
	struct triad_ctx *x;
	unsigned int tid;
};

static void *triad_thread(void *p)
{
	struct triad_arg *arg = p;
	struct triad_ctx *x = arg->x;
	size_t lo = x->len * arg->tid / x->nth, hi = x->len * (arg->tid + 1) / x->nth;
	const double s = 3.0;

	/* First touch by the thread that streams the slice. */
	for (size_t i = lo; i < hi; i++) {
		x->a[i] = 0;
		x->b[i] = 1;
		x->c[i] = 2;
	}
	for (unsigned int r = 0; r < x->reps; r++) {
		double t0 = 0;

		pthread_barrier_wait(&x->bar);
		if (!arg->tid)
			t0 = now();
		for (size_t i = lo; i < hi; i++)
			x->a[i] = x->b[i] + s * x->c[i];
		pthread_barrier_wait(&x->bar);
		if (!arg->tid) {
			double t = now() - t0;

			if (!x->best || t < x->best)
				x->best = t;
		}
	}
	return NULL;
}

/* Size of the last-level cache as the kernel reports it for CPU 0 (sysconf
 * can report the host's total under a hypervisor). */
static size_t llc_bytes(void)
{
	size_t best = 0;
	int best_level = 0;

	for (int i = 0; i < 8; i++) {
		char path[96], buf[32];
		int level = 0;
		unsigned long sz = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%d", &level) != 1)
			level = 0;
		fclose(f);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			char *end;

			sz = strtoul(buf, &end, 10);
			if (*end == 'K')
				sz <<= 10;
			else if (*end == 'M')
				sz <<= 20;
		}
		fclose(f);
		if (level > best_level && sz) {
			best_level = level;
			best = sz;
		}
	}
	if (!best) {
		long v = sysconf(_SC_LEVEL3_CACHE_SIZE);

		best = v > 0 ? (size_t)v : 32u << 20;
	}
	return best;
}

/* Triad bandwidth in GB/s (3 arrays of 8-byte elements per index). */
static double triad(unsigned int nth, size_t *array_bytes)
{
	struct triad_ctx x = { .nth = nth, .reps = 20 };
	struct triad_arg args[256];
	pthread_t tids[256];
	size_t bytes = 4 * llc_bytes();

	if (bytes < (64u << 20))
		bytes = 64u << 20;
	*array_bytes = bytes;
	x.len = bytes / sizeof(double);
	x.a = aligned_alloc(2u << 20, bytes);
	x.b = aligned_alloc(2u << 20, bytes);
	x.c = aligned_alloc(2u << 20, bytes);
	if (!x.a || !x.b || !x.c || nth > 256)
		return 0;
	/* The engine asks for huge pages for its state: so does the triad,
	 * or TLB misses would lower the yardstick. */
	madvise(x.a, bytes, MADV_HUGEPAGE);
	madvise(x.b, bytes, MADV_HUGEPAGE);
	madvise(x.c, bytes, MADV_HUGEPAGE);
	pthread_barrier_init(&x.bar, NULL, nth);
	for (unsigned int t = 0; t < nth; t++) {
		args[t] = (struct triad_arg){ &x, t };
		if (t && pthread_create(&tids[t], NULL, triad_thread, &args[t]))
			return 0;
	}
	triad_thread(&args[0]);
	for (unsigned int t = 1; t < nth; t++)
		pthread_join(tids[t], NULL);
	pthread_barrier_destroy(&x.bar);
	free(x.a);
	free(x.b);
	free(x.c);
	return 3.0 * (double)bytes / x.best / 1e9;
}

/* ---- one (qubits, precision) configuration, in a child ---- */

struct variant {
	unsigned int fuse;
	bool blocked;
};

/* The same kops, one engine call each: a memory pass per kop. */
static void apply_each(const struct qrtx_program *p, struct qrtx_sv *sv)
{
	for (size_t i = 0; i < p->nops; i++) {
		const struct qrtx_kop *k = &p->ops[i];

		if (k->kind == QRTX_K_DIAG)
			qrtx_sv_apply_diag(sv, k->qubits, k->nq, k->m);
		else if (k->kind == QRTX_K_CONTROLLED)
			qrtx_sv_apply_controlled(sv, k->controls, k->nc, k->qubits, k->nq, k->m);
		else if (k->kind == QRTX_K_DENSE)
			qrtx_sv_apply_dense(sv, k->qubits, k->nq, k->m);
	}
}

/*
 * Time each variant of one circuit. The variants take turns within every
 * repetition, so that a disturbance on a shared machine spreads over all
 * of them instead of spoiling one.
 */
static int time_circuit(struct qrtx_sv *sv, const struct qrtx_circuit *c,
			const struct variant *var, unsigned int nv, unsigned int reps,
			struct run_result *r)
{
	struct qrtx_program *p[MAX_VARIANTS] = { NULL };
	double t[MAX_VARIANTS][16];
	int ret = 0;

	for (unsigned int v = 0; v < nv; v++) {
		struct qrtx_lower_opts lo = { .fuse_max = var[v].fuse };
		struct qrtx_error err = { 0 };
		double t0 = now();

		memset(&r[v], 0, sizeof(r[v]));
		r[v].fuse = var[v].fuse;
		r[v].blocked = var[v].blocked;
		ret = qrtx_lower(c, NULL, &lo, &p[v], &err);
		if (ret) {
			fprintf(stderr, "sv_bench: lowering failed: %s\n", err.msg);
			goto out;
		}
		r[v].lower_s = now() - t0;
		r[v].ngates = p[v]->ngates;
		r[v].nops = p[v]->nops;
	}
	for (unsigned int i = 0; i < reps; i++) {
		for (unsigned int v = 0; v < nv; v++) {
			double t0;

			qrtx_sv_set_zero_state(sv);
			t0 = now();
			if (var[v].blocked)
				qrtx_program_apply(p[v], 0, p[v]->nops, sv);
			else
				apply_each(p[v], sv);
			t[v][i] = now() - t0;
		}
	}
	for (unsigned int v = 0; v < nv; v++) {
		r[v].min_s = r[v].max_s = t[v][0];
		for (unsigned int i = 1; i < reps; i++) {
			r[v].min_s = t[v][i] < r[v].min_s ? t[v][i] : r[v].min_s;
			r[v].max_s = t[v][i] > r[v].max_s ? t[v][i] : r[v].max_s;
		}
		r[v].median_s = median(t[v], reps);
		r[v].ok = 1;
	}
out:
	for (unsigned int v = 0; v < nv; v++)
		qrtx_program_free(p[v]);
	return ret;
}

/* One unfused u3 on each qubit in turn: the single-gate pass. */
static void time_passes(struct qrtx_sv *sv, unsigned int n, unsigned int reps,
			struct child_result *res)
{
	double complex m[4];
	double sum = 0;

	qrtx_gate_matrix(QRTX_G_U, (double[]){ 0.3, 1.1, -0.7 }, m);
	res->pass_worst_s = 0;
	for (uint32_t q = 0; q < n; q++) {
		double t[16];

		for (unsigned int i = 0; i < reps; i++) {
			double t0 = now();

			qrtx_sv_apply_dense(sv, &q, 1, m);
			t[i] = now() - t0;
		}
		t[0] = median(t, reps);
		sum += t[0];
		if (t[0] > res->pass_worst_s) {
			res->pass_worst_s = t[0];
			res->pass_worst_q = q;
		}
	}
	res->pass_mean_s = sum / n;
}

static void run_config(const struct opts *o, unsigned int n, enum qrtx_precision prec,
		       struct child_result *res)
{
	struct qrtx_sv_config cfg = { .precision = prec, .threads = o->threads };
	struct qrtx_error err = { 0 };
	struct qrtx_sv *sv = NULL;
	struct variant var[MAX_VARIANTS];
	unsigned int nv;
	struct rusage ru;

	memset(res, 0, sizeof(*res));
	if (qrtx_sv_new(n, &cfg, &sv, &err)) {
		snprintf(res->err, sizeof(res->err), "%s", err.msg);
		return;
	}
	snprintf(res->isa, sizeof(res->isa), "%s", qrtx_sv_isa(sv));
	res->threads = qrtx_sv_threads(sv);
	res->state_bytes = (double)qrtx_sv_bytes(n, prec);
	for (int f = 0; f < NFAM; f++) {
		struct qrtx_circuit *c;

		if (!o->fam[f])
			continue;
		c = build(f, n);
		if (!c) {
			snprintf(res->err, sizeof(res->err), "out of memory building circuits");
			break;
		}
		nv = 0;
		for (unsigned int i = 0; i <= o->nfuse; i++) {
			unsigned int fuse = i < o->nfuse ? o->fuses[i] : 1;

			if (i == o->nfuse && n > o->unfused_max)
				break;
			for (int b = 1; b >= 0; b--)
				if (o->block[b])
					var[nv++] = (struct variant){ fuse, b };
		}
		time_circuit(sv, c, var, nv, o->reps, res->runs[f]);
		res->nruns[f] = nv;
		qrtx_circuit_free(c);
	}
	time_passes(sv, n, o->reps, res);
	qrtx_sv_free(sv);
	getrusage(RUSAGE_SELF, &ru);
	res->peak_rss = (double)ru.ru_maxrss * 1024.0;
	res->ok = 1;
}

/* Run fn in a child and copy its result back through a pipe. */
static int in_child(void (*fn)(void *arg, void *out), void *arg, void *out, size_t len)
{
	int fd[2];
	pid_t pid;
	size_t got = 0;
	int status;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		size_t put = 0;

		close(fd[0]);
		fn(arg, out);
		while (put < len) {
			ssize_t w = write(fd[1], (char *)out + put, len - put);

			if (w <= 0)
				_exit(1);
			put += (size_t)w;
		}
		_exit(0);
	}
	close(fd[1]);
	while (got < len) {
		ssize_t r = read(fd[0], (char *)out + got, len - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd[0]);
	waitpid(pid, &status, 0);
	return got == len ? 0 : -EIO;
}

struct config_arg {
	const struct opts *o;
	unsigned int n;
	enum qrtx_precision prec;
};

static void config_fn(void *arg, void *out)
{
	struct config_arg *a = arg;

	run_config(a->o, a->n, a->prec, out);
}

struct triad_result {
	double gbs;
	size_t array_bytes;
};

static void triad_fn(void *arg, void *out)
{
	struct triad_result *r = out;

	r->gbs = triad(*(unsigned int *)arg, &r->array_bytes);
}

/* ---- report ---- */

/* Targets from the issue (double precision, 2 threads), in seconds. */
static double target_time(enum family f, unsigned int n)
{
	if (f == FAM_LAYERED && n == 24)
		return 1.0;
	if (f == FAM_LAYERED && n == 26)
		return 4.5;
	if (f == FAM_QFT && n == 24)
		return 1.0;
	return 0;
}

/* Published figures measured on the reference machine, for context. */
static const char *reference(enum family f, unsigned int n)
{
	if (f == FAM_LAYERED && n == 24)
		return "qsim(single) 1.07 s, QuEST 31.8 s";
	if (f == FAM_LAYERED && n == 26)
		return "qsim(single) 4.79 s, QuEST 133 s";
	if (f == FAM_QFT && n == 24)
		return "qsim(single) 1.46 s, QuEST 9.96 s";
	return "";
}

static const char *verdict(bool met)
{
	return met ? "met" : "MISSED";
}

static void fuse_name(unsigned int fuse, char *buf, size_t len)
{
	if (fuse == 1)
		snprintf(buf, len, "off");
	else if (fuse == 0)
		snprintf(buf, len, "default");
	else
		snprintf(buf, len, "%u", fuse);
}

static void print_config(const struct opts *o, unsigned int n, enum qrtx_precision prec,
			 const struct child_result *r, double tri, double scale)
{
	const char *pname = prec == QRTX_PREC_SINGLE ? "single" : "double";
	double amp = prec == QRTX_PREC_SINGLE ? 8 : 16;
	double bytes_per_gate = 2.0 * ldexp(1.0, (int)n) * amp;

	if (!r->ok) {
		printf("%3u %-7s  %-8s  error: %s\n", n, pname, "-", r->err[0] ? r->err : "failed");
		return;
	}
	for (int f = 0; f < NFAM; f++) {
		for (unsigned int i = 0; i < r->nruns[f]; i++) {
			const struct run_result *x = &r->runs[f][i];
			double bw = x->ngates * bytes_per_gate / x->median_s / 1e9;
			double tgt = target_time(f, n) * scale;
			char fz[16], tcol[64] = "";

			if (!x->ok)
				continue;
			fuse_name(x->fuse, fz, sizeof(fz));
			if (tgt > 0 && prec == QRTX_PREC_DOUBLE && x->fuse != 1)
				snprintf(tcol, sizeof(tcol), "<= %.2f s %s", tgt,
					 verdict(x->median_s <= tgt));
			printf("%3u %-7s  %-8s %-7s %-5s %6zu %5zu %9.4f %7.4f %7.4f %8.1f %6.2f  "
			       "%-16s %s\n",
			       n, pname, family_name[f], fz, x->blocked ? "on" : "off", x->ngates,
			       x->nops, x->median_s, x->min_s, x->max_s, bw, bw / tri, tcol,
			       prec == QRTX_PREC_DOUBLE && x->fuse != 1 && x->blocked ?
			       reference(f, n) : "");
		}
	}
	{
		double mbw = bytes_per_gate / r->pass_mean_s / 1e9;
		double wbw = bytes_per_gate / r->pass_worst_s / 1e9;

		printf("%3u %-7s  1q pass (unfused u3 on each qubit): mean %.4f s = %.1f GB/s = %.2f "
		       "of triad; slowest q%u %.2f of triad  (target >= 0.70: %s)\n",
		       n, pname, r->pass_mean_s, mbw, mbw / tri, r->pass_worst_q, wbw / tri,
		       verdict(mbw / tri >= 0.7));
	}
	printf("%3u %-7s  peak RSS %.1f MiB = %.3f x state (%.1f MiB)\n", n, pname,
	       r->peak_rss / 1048576.0, r->peak_rss / r->state_bytes,
	       r->state_bytes / 1048576.0);
	(void)o;
}

static void print_speedup(unsigned int n, const struct child_result *d,
			  const struct child_result *s)
{
	for (int f = 0; f < NFAM; f++) {
		for (unsigned int i = 0; i < d->nruns[f] && i < s->nruns[f]; i++) {
			const struct run_result *a = &d->runs[f][i], *b = &s->runs[f][i];
			double x = a->median_s / b->median_s;
			char fz[16], tcol[48] = "";

			if (!a->ok || !b->ok || a->fuse != b->fuse || a->blocked != b->blocked)
				continue;
			fuse_name(a->fuse, fz, sizeof(fz));
			if (n == 26 && a->fuse != 1)
				snprintf(tcol, sizeof(tcol), "  (target >= 1.70 at n=26: %s)",
					 verdict(x >= 1.7));
			printf("%3u single vs double, %s fusion %s blocking %s: %.2fx faster%s\n",
			       n, family_name[f], fz, a->blocked ? "on" : "off", x, tcol);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sv_bench [--quick] [--qubits N,N..] [--threads T] [--reps R]\n"
		"                [--fuse W,W..] [--unfused-max N] [--precision double|single|both]\n"
		"                [--family layered|qft|both] [--blocking on|off|both]\n"
		"  --qubits       qubit counts (default 20,24,26,28; --quick: 20,24)\n"
		"  --threads      engine and triad threads (default 2)\n"
		"  --reps         timed runs per figure, the median is printed (default 3)\n"
		"  --fuse         fused widths to time, 0 = the lowering's default (default 0)\n"
		"  --unfused-max  time unfused runs up to this many qubits (default 24)\n"
		"  --blocking     cache blocking (runs of gates per engine call) or one\n"
		"                 engine call per kop (default both)\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "qubits", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "reps", required_argument, NULL, 'r' },
		{ "fuse", required_argument, NULL, 'f' },
		{ "unfused-max", required_argument, NULL, 'u' },
		{ "precision", required_argument, NULL, 'p' },
		{ "family", required_argument, NULL, 'F' },
		{ "blocking", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct opts o = {
		.ns = { 20, 24, 26, 28 }, .nn = 4,
		.fuses = { 0 }, .nfuse = 1,
		.threads = 2, .reps = 3, .unfused_max = 24,
		.prec = { true, true }, .fam = { true, true }, .block = { true, true },
	};
	static struct child_result res[2];
	bool shown_isa = false;
	struct triad_result tr = { 0 };
	double scale;
	int c;

	while ((c = getopt_long(argc, argv, "qn:t:r:f:u:p:F:b:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o.ns[0] = 20;
			o.ns[1] = 24;
			o.nn = 2;
			break;
		case 'n':
			if (parse_list(optarg, o.ns, &o.nn, MAX_LIST, 1, QRTX_SV_MAX_QUBITS))
				goto bad;
			break;
		case 't':
			o.threads = (unsigned int)strtoul(optarg, NULL, 10);
			if (!o.threads || o.threads > 256)
				goto bad;
			break;
		case 'r':
			o.reps = (unsigned int)strtoul(optarg, NULL, 10);
			if (!o.reps || o.reps > 16)
				goto bad;
			break;
		case 'f':
			if (parse_list(optarg, o.fuses, &o.nfuse, MAX_LIST, 0, QRTX_SV_MAX_DENSE))
				goto bad;
			break;
		case 'u':
			o.unfused_max = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o.prec[QRTX_PREC_DOUBLE] = !strcmp(optarg, "double") || !strcmp(optarg, "both");
			o.prec[QRTX_PREC_SINGLE] = !strcmp(optarg, "single") || !strcmp(optarg, "both");
			if (!o.prec[0] && !o.prec[1])
				goto bad;
			break;
		case 'F':
			o.fam[FAM_LAYERED] = !strcmp(optarg, "layered") || !strcmp(optarg, "both");
			o.fam[FAM_QFT] = !strcmp(optarg, "qft") || !strcmp(optarg, "both");
			if (!o.fam[0] && !o.fam[1])
				goto bad;
			break;
		case 'b':
			o.block[0] = !strcmp(optarg, "off") || !strcmp(optarg, "both");
			o.block[1] = !strcmp(optarg, "on") || !strcmp(optarg, "both");
			if (!o.block[0] && !o.block[1])
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;

	if (in_child(triad_fn, &o.threads, &tr, sizeof(tr)) || tr.gbs <= 0) {
		fprintf(stderr, "sv_bench: the triad measurement failed\n");
		return 1;
	}
	scale = tr.gbs < REF_TRIAD_GBS ? REF_TRIAD_GBS / tr.gbs : 1.0;
	printf("QRTX state-vector benchmark: %u threads, median of %u runs, evolution only\n",
	       o.threads, o.reps);
	printf("STREAM triad a[i] = b[i] + s*c[i]: %.1f GB/s (%u threads, 3 x %zu MiB, best of 20)"
	       "; targets scaled x%.2f from %.0f GB/s\n\n",
	       tr.gbs, o.threads, tr.array_bytes >> 20, scale, REF_TRIAD_GBS);
	printf("  n prec     family   fusion  block  gates  kops  median_s   min_s   max_s  "
	       "eff_GB/s /triad  target           reference\n");
	for (unsigned int i = 0; i < o.nn; i++) {
		unsigned int n = o.ns[i];

		for (int p = 0; p < 2; p++) {
			struct config_arg a = { &o, n, p };

			memset(&res[p], 0, sizeof(res[p]));
			if (!o.prec[p])
				continue;
			if (in_child(config_fn, &a, &res[p], sizeof(res[p])))
				snprintf(res[p].err, sizeof(res[p].err), "the run died");
			if (!shown_isa && res[p].ok) {
				printf("    (engine kernels: %s, %u threads)\n", res[p].isa,
				       res[p].threads);
				shown_isa = true;
			}
			print_config(&o, n, p, &res[p], tr.gbs, scale);
		}
		if (res[0].ok && res[1].ok)
			print_speedup(n, &res[0], &res[1]);
		printf("\n");
		fflush(stdout);
	}
	return 0;

bad:
	usage(stderr);
	return 2;
}
