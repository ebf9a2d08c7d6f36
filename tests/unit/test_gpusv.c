// SPDX-License-Identifier: MIT
/*
 * The CUDA engine against the CPU engine: the same random state, the same
 * operation, the same amplitudes, outcomes and values.
 *
 * Each case runs twice: on the host emulation of the engine (its kernels'
 * per-thread code run as loops: indexing and arithmetic, everywhere the
 * engine is built) and on CUDA device 0, which skips, saying why, on a
 * machine without one. A build without nvcc skips both.
 */
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qrtx/gpusv.h"
#include "qrtx/pipeline.h"
#include "qrtx/submit.h"
#include "qrtx/rng.h"
#include "qrtx/statevec.h"

#define NQ 10

struct fix {
	int dev;
	enum qrtx_precision prec;
	double tol;
	struct qrtx_sv *cpu;
	struct qrtx_gpusv *gpu;
	struct qrtx_rng rng;
};

static int setup(void **state, int dev, enum qrtx_precision prec)
{
	static struct fix fixes[4];
	struct fix *f = &fixes[(dev == QRTX_GPU_EMULATE ? 0 : 2) + (prec == QRTX_PREC_SINGLE)];
	char why[256];

	memset(f, 0, sizeof(*f));
	f->dev = dev;
	f->prec = prec;
	f->tol = prec == QRTX_PREC_SINGLE ? 2e-5 : 1e-12;
	*state = f;
	if (!qrtx_gpu_built()) {
		qrtx_gpu_available(why, sizeof(why));
		print_message("# %s\n", why);
		return 0;
	}
	if (dev != QRTX_GPU_EMULATE && qrtx_gpu_available(why, sizeof(why)) <= 0) {
		print_message("# %s\n", why);
		return 0;
	}
	qrtx_rng_seed(&f->rng, 7);
	return 0;
}

static int setup_emu_d(void **state)
{
	return setup(state, QRTX_GPU_EMULATE, QRTX_PREC_DOUBLE);
}

static int setup_emu_s(void **state)
{
	return setup(state, QRTX_GPU_EMULATE, QRTX_PREC_SINGLE);
}

static int setup_dev_d(void **state)
{
	return setup(state, 0, QRTX_PREC_DOUBLE);
}

static int setup_dev_s(void **state)
{
	return setup(state, 0, QRTX_PREC_SINGLE);
}

/* Skip unless the engine runs here; else make both states, equal and
 * random (n qubits). */
static struct fix *begin(void **state, uint32_t n)
{
	struct fix *f = *state;
	struct qrtx_sv_config cfg = { .precision = f->prec, .threads = 1 };
	char why[256];
	double complex *a;
	double norm = 0;

	if (!qrtx_gpu_built() ||
	    (f->dev != QRTX_GPU_EMULATE && qrtx_gpu_available(why, sizeof(why)) <= 0))
		skip();
	assert_int_equal(qrtx_sv_new(n, &cfg, &f->cpu, NULL), 0);
	assert_int_equal(qrtx_gpusv_new(n, f->prec, f->dev, &f->gpu, NULL), 0);
	a = malloc(sizeof(*a) << n);
	assert_non_null(a);
	for (uint64_t i = 0; i < 1ull << n; i++) {
		a[i] = (qrtx_rng_uniform(&f->rng) - 0.5) + I * (qrtx_rng_uniform(&f->rng) - 0.5);
		norm += creal(a[i] * conj(a[i]));
	}
	for (uint64_t i = 0; i < 1ull << n; i++)
		a[i] /= sqrt(norm);
	qrtx_sv_load(f->cpu, a);
	assert_int_equal(qrtx_gpusv_load(f->gpu, a), 0);
	free(a);
	return f;
}

static void end(struct fix *f)
{
	qrtx_sv_free(f->cpu);
	qrtx_gpusv_free(f->gpu);
	f->cpu = NULL;
	f->gpu = NULL;
}

static void same_state(const struct fix *f)
{
	uint32_t n = qrtx_sv_nqubits(f->cpu);
	double complex *g = malloc(sizeof(*g) << n);

	assert_non_null(g);
	assert_int_equal(qrtx_gpusv_read(f->gpu, g), 0);
	for (uint64_t i = 0; i < 1ull << n; i++) {
		double complex c = qrtx_sv_amp(f->cpu, i);

		if (cabs(c - g[i]) > f->tol)
			fail_msg("amplitude %llu: cpu %.15g%+.15gi, gpu %.15g%+.15gi",
				 (unsigned long long)i, creal(c), cimag(c), creal(g[i]),
				 cimag(g[i]));
	}
	free(g);
}

/* k distinct qubits of n, drawn from rng. */
static void pick(struct qrtx_rng *r, uint32_t n, uint32_t *q, unsigned int k)
{
	for (unsigned int i = 0; i < k; i++) {
		bool again;

		do {
			q[i] = (uint32_t)(qrtx_rng_next(r) % n);
			again = false;
			for (unsigned int j = 0; j < i; j++)
				again |= q[j] == q[i];
		} while (again);
	}
}

static void random_matrix(struct qrtx_rng *r, double complex *m, unsigned int K)
{
	for (unsigned int e = 0; e < K * K; e++)
		m[e] = (qrtx_rng_uniform(r) - 0.5) + I * (qrtx_rng_uniform(r) - 0.5);
}

static void dense_gates(void **state)
{
	struct fix *f = begin(state, NQ);
	double complex m[64 * 64];
	uint32_t q[6];

	for (unsigned int k = 1; k <= 6; k++)
		for (int rep = 0; rep < 3; rep++) {
			pick(&f->rng, NQ, q, k);
			random_matrix(&f->rng, m, 1u << k);
			/* keep the state's scale: a random matrix is no
			 * unitary, but both engines take it the same */
			for (unsigned int e = 0; e < 1u << 2 * k; e++)
				m[e] /= 1u << k;
			qrtx_sv_apply_dense(f->cpu, q, k, m);
			assert_int_equal(qrtx_gpusv_apply_dense(f->gpu, q, k, m), 0);
			same_state(f);
		}
	end(f);
}

static void controlled_gates(void **state)
{
	struct fix *f = begin(state, NQ);
	double complex m[16];
	uint32_t q[4];

	for (unsigned int k = 1; k <= 2; k++)
		for (unsigned int nc = 1; nc <= 2; nc++) {
			pick(&f->rng, NQ, q, k + nc);
			random_matrix(&f->rng, m, 1u << k);
			qrtx_sv_apply_controlled(f->cpu, q + k, nc, q, k, m);
			assert_int_equal(qrtx_gpusv_apply_controlled(f->gpu, q + k, nc, q, k, m), 0);
			same_state(f);
		}
	end(f);
}

static void diagonal_gates(void **state)
{
	struct fix *f = begin(state, NQ);
	double complex d[64];
	uint32_t q[6];

	for (unsigned int k = 1; k <= 6; k++) {
		pick(&f->rng, NQ, q, k);
		for (unsigned int e = 0; e < 1u << k; e++)
			d[e] = cexp(I * 6.28 * qrtx_rng_uniform(&f->rng));
		qrtx_sv_apply_diag(f->cpu, q, k, d);
		assert_int_equal(qrtx_gpusv_apply_diag(f->gpu, q, k, d), 0);
		same_state(f);
	}
	end(f);
}

static void bad_operands(void **state)
{
	struct fix *f = begin(state, 4);
	double complex m[4] = { 0, 1, 1, 0 };
	uint32_t q[2] = { 1, 1 }, far = 4;

	assert_int_equal(qrtx_gpusv_apply_dense(f->gpu, q, 2, m), -EINVAL);
	assert_int_equal(qrtx_gpusv_apply_dense(f->gpu, &far, 1, m), -EINVAL);
	assert_int_equal(qrtx_gpusv_apply_dense(f->gpu, q, 7, m), -EINVAL);
	end(f);
}

static void measure_and_reset(void **state)
{
	struct fix *f = begin(state, NQ);

	for (uint32_t q = 0; q < NQ; q += 3) {
		double r = qrtx_rng_uniform(&f->rng), n;
		int o = -1;

		assert_int_equal(qrtx_gpusv_measure(f->gpu, q, r, &o), 0);
		assert_int_equal(o, qrtx_sv_measure(f->cpu, q, r));
		same_state(f);
		r = qrtx_rng_uniform(&f->rng);
		qrtx_sv_reset(f->cpu, (q + 1) % NQ, r);
		assert_int_equal(qrtx_gpusv_reset(f->gpu, (q + 1) % NQ, r), 0);
		same_state(f);
		assert_int_equal(qrtx_gpusv_norm2(f->gpu, &n), 0);
		assert_true(fabs(n - 1) < 100 * f->tol);
	}
	end(f);
}

static void marginals(void **state)
{
	struct fix *f = begin(state, NQ);
	double pc[1 << NQ], pg[1 << NQ];
	uint32_t q[NQ];

	for (unsigned int n = 1; n <= NQ; n += 3) {
		pick(&f->rng, NQ, q, n);
		assert_int_equal(qrtx_sv_probabilities(f->cpu, q, n, pc), 0);
		assert_int_equal(qrtx_gpusv_probabilities(f->gpu, q, n, pg), 0);
		for (unsigned int o = 0; o < 1u << n; o++)
			assert_true(fabs(pc[o] - pg[o]) < f->tol);
	}
	end(f);
}

/* Equal seeds, equal outcomes: through a marginal table (few qubits
 * measured) and by walking the whole state (all of 14 measured). */
static void sampling(void **state)
{
	struct fix *f = *state;
	uint32_t q[14];
	uint64_t *oc = malloc(4096 * sizeof(uint64_t)), *og = malloc(4096 * sizeof(uint64_t));
	uint64_t differ = 0;

	assert_non_null(oc);
	assert_non_null(og);
	for (int pass = 0; pass < 2; pass++) {
		uint32_t n = pass ? 14 : NQ, k = pass ? 14 : 3;
		struct qrtx_rng a, b;

		f = begin(state, n);
		for (uint32_t j = 0; j < k; j++)
			q[j] = pass ? j : 2 * j + 1;
		assert_int_equal(qrtx_sample_by_table(qrtx_gpusv_bytes(n, f->prec), k), !pass);
		qrtx_rng_seed(&a, 99);
		qrtx_rng_seed(&b, 99);
		assert_int_equal(qrtx_sv_sample(f->cpu, q, k, 4096, &a, oc), 0);
		assert_int_equal(qrtx_gpusv_sample(f->gpu, q, k, 4096, &b, og), 0);
		for (int s = 0; s < 4096; s++)
			differ += oc[s] != og[s];
		/* single precision sums differ in the last bits: a shot may
		 * land on the other side of a boundary */
		assert_true(f->prec == QRTX_PREC_SINGLE ? differ < 8 : differ == 0);
		end(f);
	}
	free(oc);
	free(og);
}

static void pauli_expectations(void **state)
{
	struct fix *f = begin(state, NQ);

	for (int rep = 0; rep < 12; rep++) {
		uint64_t x = qrtx_rng_next(&f->rng) & ((1u << NQ) - 1);
		uint64_t z = qrtx_rng_next(&f->rng) & ((1u << NQ) - 1);
		double g;

		if (rep == 0)
			x = 0;
		assert_int_equal(qrtx_gpusv_expect_pauli(f->gpu, x, z, &g), 0);
		assert_true(fabs(g - qrtx_sv_expect_pauli(f->cpu, x, z)) < 10 * f->tol);
	}
	end(f);
}

static void copy_and_zero(void **state)
{
	struct fix *f = begin(state, NQ);
	struct qrtx_gpusv *other = NULL;
	double complex *a = malloc(sizeof(*a) << NQ);

	assert_non_null(a);
	assert_int_equal(qrtx_gpusv_new(NQ, f->prec, f->dev, &other, NULL), 0);
	assert_int_equal(qrtx_gpusv_copy(other, f->gpu), 0);
	qrtx_gpusv_free(f->gpu);
	f->gpu = other;
	same_state(f);
	assert_int_equal(qrtx_gpusv_set_zero_state(f->gpu), 0);
	assert_int_equal(qrtx_gpusv_read(f->gpu, a), 0);
	assert_true(a[0] == 1);
	for (int i = 1; i < 1 << NQ; i++)
		assert_true(a[i] == 0);
	free(a);
	end(f);
}

/* Too large for the memory there is: a clear refusal. */
static void too_large(void **state)
{
	struct fix *f = *state;
	struct qrtx_gpusv *sv = NULL;
	struct qrtx_error err = { 0 };
	char why[256];

	if (!qrtx_gpu_built() || f->dev == QRTX_GPU_EMULATE ||
	    qrtx_gpu_available(why, sizeof(why)) <= 0)
		skip();
	assert_int_equal(qrtx_gpusv_new(40, f->prec, f->dev, &sv, &err), -ENOMEM);
	assert_null(sv);
	assert_int_equal(err.category, QRTX_ERR_ALLOCATION);
	assert_non_null(strstr(err.msg, "bytes"));
}

/*
 * 200 jobs back to back through the whole pipeline on ideal@cuda (device
 * 0; a 20-qubit circuit with mid-circuit measurement, so each job also
 * holds a second state): afterwards the device's free memory is back where
 * it started and the GPU pool holds nothing.
 */
static void jobs_leave_no_device_memory(void **state)
{
	static const char src[] = "OPENQASM 2.0; include \"qelib1.inc\"; qreg q[20]; creg c[20];"
		"h q; cx q[0],q[19]; measure q[0] -> c[0]; if(c==1) x q[1]; measure q -> c;";
	struct fix *f = *state;
	struct qrtx_job_opts jo;
	struct qrtx_job_spec *job = NULL;
	struct qrtx_error err = { 0 };
	char dir[] = "/tmp/qrtx-gpuleak-XXXXXX", cmd[64], why[256];
	uint64_t free0, free1, total;

	if (!qrtx_gpu_built() || f->dev == QRTX_GPU_EMULATE ||
	    qrtx_gpu_available(why, sizeof(why)) <= 0)
		skip();
	qrtx_job_opts_init(&jo);
	jo.backend = "ideal@cuda";
	jo.shots = 4;
	jo.shots_set = true;
	jo.precision = f->prec;
	assert_int_equal(qrtx_job_from_source("leak.qasm", src, strlen(src), false, &jo, &job,
					      &err), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(qrtx_gpu_mem_info(0, &free0, &total, NULL), 0);
	for (int i = 0; i < 200; i++) {
		struct qrtx_run_opts o = { .input_json = "{}", .state_dir = dir };
		struct qrtx_run_result res;

		if (qrtx_run_job(job, &o, &res, &err))
			fail_msg("job %d: %s", i, err.msg);
		assert_int_equal(res.gpu_index, 0);
		qrtx_run_result_free(&res);
	}
	assert_int_equal(qrtx_gpu_mem_info(0, &free1, &total, NULL), 0);
	print_message("# device memory free before %llu, after %llu\n",
		      (unsigned long long)free0, (unsigned long long)free1);
	/* The driver's own bookkeeping may move by a page or two. */
	assert_true(free1 + (4u << 20) >= free0);
	qrtx_job_spec_free(job);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

#define CASES(s)								\
	cmocka_unit_test_setup(dense_gates, s),				\
	cmocka_unit_test_setup(controlled_gates, s),				\
	cmocka_unit_test_setup(diagonal_gates, s),				\
	cmocka_unit_test_setup(bad_operands, s),				\
	cmocka_unit_test_setup(measure_and_reset, s),				\
	cmocka_unit_test_setup(marginals, s),					\
	cmocka_unit_test_setup(sampling, s),					\
	cmocka_unit_test_setup(pauli_expectations, s),				\
	cmocka_unit_test_setup(copy_and_zero, s)

int main(void)
{
	const struct CMUnitTest emu_double[] = { CASES(setup_emu_d) };
	const struct CMUnitTest emu_single[] = { CASES(setup_emu_s) };
	const struct CMUnitTest dev_double[] = {
		CASES(setup_dev_d), cmocka_unit_test_setup(too_large, setup_dev_d),
		cmocka_unit_test_setup(jobs_leave_no_device_memory, setup_dev_d) };
	const struct CMUnitTest dev_single[] = {
		CASES(setup_dev_s), cmocka_unit_test_setup(too_large, setup_dev_s),
		cmocka_unit_test_setup(jobs_leave_no_device_memory, setup_dev_s) };
	char why[256];
	int fails = 0;

	if (!qrtx_gpu_built()) {
		qrtx_gpu_available(why, sizeof(why));
		printf("1..1\nok 1 - the CUDA engine # SKIP %s\n", why);
		return 0;
	}
	fails += cmocka_run_group_tests_name("host emulation, double", emu_double, NULL, NULL);
	fails += cmocka_run_group_tests_name("host emulation, single", emu_single, NULL, NULL);
	if (qrtx_gpu_available(why, sizeof(why)) <= 0) {
		/* One line for the device's cases, with the reason. */
		printf("1..1\nok 1 - the engine on CUDA device 0 # SKIP %s\n", why);
		return fails ? 1 : 0;
	}
	fails += cmocka_run_group_tests_name("device 0, double", dev_double, NULL, NULL);
	fails += cmocka_run_group_tests_name("device 0, single", dev_single, NULL, NULL);
	return fails ? 1 : 0;
}
