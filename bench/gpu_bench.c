// SPDX-License-Identifier: MIT
/*
 * CUDA engine benchmark: the CPU benchmark's two families (families.h) on
 * one GPU, n = 24 to 32 by default, each time beside a device-to-device
 * copy bandwidth measured at the start of the same run:
 *
 *   - the state evolution's wall time (kops applied, then a wait for the
 *     device), median of --reps, and its effective bandwidth gates x 2 x
 *     2^n x bytes per amplitude / time as a fraction of the copy's;
 *   - one unfused u3 pass on each qubit (at the --passes qubit counts,
 *     default 30): mean and slowest, as fractions of the copy bandwidth.
 *
 * Beside the figures stand the targets on an H100: unfused
 * one-qubit passes >= 0.8 of copy bandwidth at n = 30; layered n = 30,
 * double, fused, under 1.0 s. It prints figures and never judges them by
 * its exit status; without a GPU it says why and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/gpusv.h"
#include "qrtx/program.h"

#include "families.h"

#define MAX_LIST 12

struct opts {
	unsigned int ns[MAX_LIST], nn, fuses[MAX_LIST], nfuse, passes[MAX_LIST], npasses;
	unsigned int reps;
	int dev;
	bool prec[2];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gpu_bench [--qubits N,N..] [--precision double|single|both] [--reps R]\n"
		"                 [--fuse W,W..] [--passes N,N..] [--device D]\n"
		"  --qubits     qubit counts (default 24,26,28,30,32; those that do not fit\n"
		"               in the device's free memory are skipped, saying so)\n"
		"  --precision  default both\n"
		"  --reps       timed runs per figure, the median is printed (default 3)\n"
		"  --fuse       fused widths, 0 = the lowering's default (default 0)\n"
		"  --passes     qubit counts at which every qubit's unfused u3 pass is\n"
		"               timed (default 30)\n"
		"  --device     CUDA device (default 0)\n");
}

static int evolve(struct qrtx_gpusv *sv, const struct qrtx_program *p)
{
	int ret = qrtx_gpusv_set_zero_state(sv);

	for (size_t i = 0; i < p->nops && !ret; i++) {
		const struct qrtx_kop *k = &p->ops[i];

		if (k->kind == QRTX_K_DENSE)
			ret = qrtx_gpusv_apply_dense(sv, k->qubits, k->nq, k->m);
		else if (k->kind == QRTX_K_DIAG)
			ret = qrtx_gpusv_apply_diag(sv, k->qubits, k->nq, k->m);
		else if (k->kind == QRTX_K_CONTROLLED)
			ret = qrtx_gpusv_apply_controlled(sv, k->controls, k->nc, k->qubits, k->nq,
							  k->m);
	}
	return ret ? ret : qrtx_gpusv_sync(sv);
}

static void run_family(struct qrtx_gpusv *sv, enum family f, unsigned int n,
		       enum qrtx_precision prec, unsigned int fuse, unsigned int reps, double copy)
{
	struct qrtx_circuit *c = build(f, n);
	struct qrtx_lower_opts lo = { .fuse_max = fuse };
	struct qrtx_program *p = NULL;
	struct qrtx_error err = { 0 };
	double t[32], amp = prec == QRTX_PREC_SINGLE ? 8 : 16, med, bw;
	bool target = f == FAM_LAYERED && n == 30 && prec == QRTX_PREC_DOUBLE;

	if (!c || qrtx_lower(c, NULL, &lo, &p, &err)) {
		printf("%3u %-6s %-8s error: cannot build or lower the circuit\n", n,
		       prec ? "single" : "double", family_name[f]);
		qrtx_circuit_free(c);
		return;
	}
	evolve(sv, p);	/* warm-up: kernels loaded, memory touched */
	for (unsigned int r = 0; r < reps; r++) {
		double t0 = now();
		int ret = evolve(sv, p);

		t[r] = now() - t0;
		if (ret) {
			printf("%3u %-6s %-8s error: %s\n", n, prec ? "single" : "double",
			       family_name[f], qrtx_gpusv_error(sv));
			goto out;
		}
	}
	med = median(t, reps);
	bw = (double)p->ngates * 2 * amp * (double)(1ull << n) / med;
	printf("%3u %-6s %-8s %5u %6zu %5zu %9.4f %9.1f %6.2f  %s\n", n,
	       prec ? "single" : "double", family_name[f], fuse, p->ngates, p->nops, med,
	       bw / 1e9, bw / copy,
	       target ? (med < 1.0 ? "target < 1.0 s: met" : "target < 1.0 s: MISSED") : "");
out:
	qrtx_program_free(p);
	qrtx_circuit_free(c);
}

static void run_passes(struct qrtx_gpusv *sv, unsigned int n, enum qrtx_precision prec,
		       unsigned int reps, double copy)
{
	double complex m[4];
	double amp = prec == QRTX_PREC_SINGLE ? 8 : 16, sum = 0, worst = 0;
	unsigned int wq = 0;

	qrtx_gate_matrix(QRTX_G_U, (double[]){ 0.3, 1.1, -0.7 }, m);
	for (uint32_t q = 0; q < n; q++) {
		double t[32];

		for (unsigned int r = 0; r < reps; r++) {
			double t0 = now();

			qrtx_gpusv_apply_dense(sv, &q, 1, m);
			qrtx_gpusv_sync(sv);
			t[r] = now() - t0;
		}
		t[0] = median(t, reps);
		sum += t[0];
		if (t[0] > worst) {
			worst = t[0];
			wq = q;
		}
	}
	{
		double bytes = 2 * amp * (double)(1ull << n), mean = bytes / (sum / n) / copy;
		double slow = bytes / worst / copy;

		printf("%3u %-6s 1q pass (unfused u3 on each qubit): mean %.2f of copy, slowest q%u "
		       "%.2f%s\n", n, prec ? "single" : "double", mean, wq, slow,
		       n == 30 ? (slow >= 0.8 ? "  (target >= 0.80: met)" :
				  "  (target >= 0.80: MISSED)") : "");
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "qubits", required_argument, NULL, 'q' },
		{ "precision", required_argument, NULL, 'p' },
		{ "reps", required_argument, NULL, 'r' },
		{ "fuse", required_argument, NULL, 'f' },
		{ "passes", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct opts o = { .ns = { 24, 26, 28, 30, 32 }, .nn = 5, .nfuse = 1,
			  .passes = { 30 }, .npasses = 1, .reps = 3, .prec = { true, true } };
	char why[256], name[256];
	double copy;
	int c, ndev;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (parse_list(optarg, o.ns, &o.nn, MAX_LIST, 1, 34))
				goto bad;
			break;
		case 'f':
			if (parse_list(optarg, o.fuses, &o.nfuse, MAX_LIST, 0, QRTX_SV_MAX_DENSE))
				goto bad;
			break;
		case 's':
			if (parse_list(optarg, o.passes, &o.npasses, MAX_LIST, 1, 34))
				goto bad;
			break;
		case 'r':
			o.reps = (unsigned int)atoi(optarg);
			if (o.reps < 1 || o.reps > 32)
				goto bad;
			break;
		case 'd':
			o.dev = atoi(optarg);
			break;
		case 'p':
			o.prec[0] = strcmp(optarg, "single");
			o.prec[1] = strcmp(optarg, "double");
			if (!o.prec[0] && !o.prec[1])
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
	ndev = qrtx_gpu_available(why, sizeof(why));
	if (ndev <= 0) {
		printf("gpu_bench: nothing to measure here: %s\n", why);
		return 0;
	}
	if (o.dev < 0 || o.dev >= ndev) {
		fprintf(stderr, "gpu_bench: no device %d (%d found)\n", o.dev, ndev);
		return 2;
	}
	qrtx_gpu_name(o.dev, name, sizeof(name));
	if (qrtx_gpu_copy_bandwidth(o.dev, 1ull << 30, &copy, why, sizeof(why))) {
		printf("gpu_bench: %s\n", why);
		return 1;
	}
	printf("QRTX CUDA engine benchmark: device %d, %s\n", o.dev, name);
	printf("device-to-device copy: %.1f GB/s (read + write, 1 GiB, best of 5)\n\n",
	       copy / 1e9);
	printf("  n prec   family   fuse  gates  kops  median_s  eff_GB/s  /copy\n");
	for (int pi = 0; pi < 2; pi++) {
		enum qrtx_precision prec = pi ? QRTX_PREC_SINGLE : QRTX_PREC_DOUBLE;

		if (!o.prec[pi])
			continue;
		for (unsigned int i = 0; i < o.nn; i++) {
			unsigned int n = o.ns[i];
			struct qrtx_gpusv *sv = NULL;
			struct qrtx_error err = { 0 };
			uint64_t fr = 0, total = 0;

			qrtx_gpu_mem_info(o.dev, &fr, &total, NULL);
			if (qrtx_gpusv_bytes(n, prec) > fr / 10 * 9) {
				printf("%3u %-6s skipped: the state needs %.1f GiB, %.1f GiB are free\n",
				       n, pi ? "single" : "double",
				       (double)qrtx_gpusv_bytes(n, prec) / (1ull << 30),
				       (double)fr / (1ull << 30));
				continue;
			}
			if (qrtx_gpusv_new(n, prec, o.dev, &sv, &err)) {
				printf("%3u %-6s error: %s\n", n, pi ? "single" : "double", err.msg);
				continue;
			}
			for (int f = 0; f < NFAM; f++)
				for (unsigned int w = 0; w < o.nfuse; w++)
					run_family(sv, (enum family)f, n, prec, o.fuses[w], o.reps, copy);
			for (unsigned int s = 0; s < o.npasses; s++)
				if (o.passes[s] == n)
					run_passes(sv, n, prec, o.reps, copy);
			qrtx_gpusv_free(sv);
		}
	}
	return 0;
bad:
	usage(stderr);
	return 2;
}
