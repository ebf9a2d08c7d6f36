// SPDX-License-Identifier: MIT
/*
 * The CPU engine's NUMA placement, on a machine with more than one node:
 * the test VM boots with two (tests/vm/run.sh), this machine has one, so
 * it runs there (run-all.sh hands it to the VM with --test) and skips
 * elsewhere, saying why.
 *
 * A state of 2 MiB or more is spread over every node, page by page
 * (statevec.c: gates on high qubits pair amplitudes far apart, so no node
 * owns a fixed slice of the work); with no_numa it keeps the default
 * policy. Placement must not change a single amplitude.
 */
#include <complex.h>
#include <math.h>
#include <numa.h>
#include <numaif.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "qrtx/statevec.h"
#include "../../runtime/sv/sv.h"

#define NQ 22	/* 64 MiB in complex128: 32 huge pages, 16384 small ones */

static int need_nodes(void **state)
{
	(void)state;
	if (numa_available() < 0 || numa_num_configured_nodes() < 2) {
		print_message("# this machine has %d NUMA node(s); the test VM has two\n",
			      numa_available() < 0 ? 1 : numa_num_configured_nodes());
		skip();
	}
	return 0;
}

static struct qrtx_sv *new_state(bool no_numa)
{
	struct qrtx_sv_config cfg = { .precision = QRTX_PREC_DOUBLE, .threads = 2,
				      .no_numa = no_numa };
	struct qrtx_sv *sv = NULL;

	assert_int_equal(qrtx_sv_new(NQ, &cfg, &sv, NULL), 0);
	qrtx_sv_set_zero_state(sv);
	return sv;
}

static int policy_of(void *addr)
{
	int mode = -1;

	assert_int_equal(get_mempolicy(&mode, NULL, 0, addr, MPOL_F_ADDR), 0);
	return mode;
}

/* Every page of the state is present, and each node holds its share. */
static void pages_spread(void **state)
{
	struct qrtx_sv *sv;
	long psz = sysconf(_SC_PAGESIZE);
	unsigned long count;
	unsigned long per[64] = { 0 };
	int nodes;
	void **pages;
	int *status;

	need_nodes(state);
	nodes = numa_num_configured_nodes();
	sv = new_state(false);
	assert_int_equal(policy_of(sv->amps), MPOL_INTERLEAVE);
	count = sv->bytes / (unsigned long)psz;
	pages = calloc(count, sizeof(*pages));
	status = calloc(count, sizeof(*status));
	assert_non_null(pages);
	assert_non_null(status);
	for (unsigned long i = 0; i < count; i++)
		pages[i] = (char *)sv->amps + i * (unsigned long)psz;
	assert_int_equal(numa_move_pages(0, count, pages, NULL, status, 0), 0);
	for (unsigned long i = 0; i < count; i++) {
		if (status[i] < 0 || status[i] >= 64)
			fail_msg("page %lu of the state: status %d (not present?)", i, status[i]);
		per[status[i]]++;
	}
	for (int n = 0; n < nodes; n++) {
		print_message("# node %d holds %lu of %lu pages\n", n, per[n], count);
		/* Even to within a tenth: interleaving is page by page (or
		 * huge page by huge page). */
		assert_true(per[n] * 10 * (unsigned long)nodes >= count * 9);
	}
	free(pages);
	free(status);
	qrtx_sv_free(sv);
}

/* no_numa: the engine leaves the placement to the kernel's default. */
static void no_numa_keeps_default(void **state)
{
	struct qrtx_sv *sv;

	need_nodes(state);
	sv = new_state(true);
	assert_int_equal(policy_of(sv->amps), MPOL_DEFAULT);
	qrtx_sv_free(sv);
}

/* The same gates on a spread state and on a default one: equal bits. */
static void placement_changes_no_amplitude(void **state)
{
	struct qrtx_sv *a, *b;
	double complex m[4], cz[4] = { 1, 1, 1, -1 };

	need_nodes(state);
	a = new_state(false);
	b = new_state(true);
	for (uint32_t layer = 0; layer < 3; layer++) {
		for (uint32_t q = 0; q < NQ; q++) {
			double t = 0.1 + 0.37 * q + layer, p = 0.2 * q;

			m[0] = cos(t);
			m[1] = -cexp(I * p) * sin(t);
			m[2] = cexp(I * (p + 0.5)) * sin(t);
			m[3] = cexp(I * (2 * p + 0.5)) * cos(t);
			qrtx_sv_apply_dense(a, &q, 1, m);
			qrtx_sv_apply_dense(b, &q, 1, m);
		}
		for (uint32_t q = layer % 2; q + 1 < NQ; q += 2) {
			uint32_t pq[2] = { q, q + 1 };

			qrtx_sv_apply_diag(a, pq, 2, cz);
			qrtx_sv_apply_diag(b, pq, 2, cz);
		}
	}
	assert_memory_equal(a->amps, b->amps, a->bytes);
	assert_true(fabs(qrtx_sv_norm2(a) - 1) < 1e-12);
	qrtx_sv_free(a);
	qrtx_sv_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pages_spread),
		cmocka_unit_test(no_numa_keeps_default),
		cmocka_unit_test(placement_changes_no_amplitude),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
