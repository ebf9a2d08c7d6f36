// SPDX-License-Identifier: MIT
/* The job state machine accepts exactly the design's transitions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "qrtx/jobstate.h"

#define J(x) QRTX_JOB_##x

static const struct { enum qrtx_job_state from, to; } valid[] = {
	{ J(PENDING), J(VALIDATING) }, { J(PENDING), J(CANCELLED) }, { J(PENDING), J(TIMEOUT) },
	{ J(VALIDATING), J(COMPILING) }, { J(VALIDATING), J(FAILED) },
	{ J(VALIDATING), J(CANCELLED) }, { J(VALIDATING), J(TIMEOUT) },
	{ J(COMPILING), J(QUEUED) }, { J(COMPILING), J(FAILED) },
	{ J(COMPILING), J(CANCELLED) }, { J(COMPILING), J(TIMEOUT) },
	{ J(QUEUED), J(ALLOCATING) }, { J(QUEUED), J(CANCELLED) }, { J(QUEUED), J(TIMEOUT) },
	{ J(ALLOCATING), J(EXECUTING) }, { J(ALLOCATING), J(QUEUED) },
	{ J(ALLOCATING), J(FAILED) }, { J(ALLOCATING), J(CANCELLED) },
	{ J(ALLOCATING), J(TIMEOUT) },
	{ J(EXECUTING), J(COMPLETING) }, { J(EXECUTING), J(FAILED) },
	{ J(EXECUTING), J(CANCELLED) }, { J(EXECUTING), J(TIMEOUT) },
	{ J(COMPLETING), J(COMPLETED) }, { J(COMPLETING), J(FAILED) },
	{ J(COMPLETING), J(CANCELLED) }, { J(COMPLETING), J(TIMEOUT) },
};

static bool listed(enum qrtx_job_state f, enum qrtx_job_state t)
{
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (valid[i].from == f && valid[i].to == t)
			return true;
	return false;
}

/* Every pair: the listed ones are accepted, all others refused and counted. */
static void test_table(void **state)
{
	(void)state;
	for (int f = 0; f < QRTX_JOB_NSTATES; f++) {
		for (int t = 0; t < QRTX_JOB_NSTATES; t++) {
			struct qrtx_jobstate js;
			uint64_t before = qrtx_jobstate_invalid_moves();

			qrtx_jobstate_init(&js);
			js.state = f;
			if (listed(f, t)) {
				assert_int_equal(qrtx_jobstate_move(&js, t), 0);
				assert_int_equal(js.state, t);
				assert_true(js.entered_ns[t] > 0);
				assert_int_equal(qrtx_jobstate_invalid_moves(), before);
			} else {
				assert_int_equal(qrtx_jobstate_move(&js, t), -EINVAL);
				assert_int_equal(js.state, f);
				assert_int_equal(qrtx_jobstate_invalid_moves(), before + 1);
			}
		}
	}
}

static void test_final_states(void **state)
{
	(void)state;
	assert_true(qrtx_job_state_final(J(COMPLETED)));
	assert_true(qrtx_job_state_final(J(FAILED)));
	assert_true(qrtx_job_state_final(J(CANCELLED)));
	assert_true(qrtx_job_state_final(J(TIMEOUT)));
	assert_false(qrtx_job_state_final(J(EXECUTING)));
	assert_string_equal(qrtx_job_state_name(J(ALLOCATING)), "Allocating");
}

static void test_substates(void **state)
{
	struct qrtx_jobstate js;
	struct qrtx_error e = { .category = QRTX_ERR_EXECUTE, .msg = "boom" };

	(void)state;
	qrtx_jobstate_init(&js);
	assert_int_equal(qrtx_jobstate_substate(&js, QRTX_EXEC_QUANTUM_RUNNING), -EINVAL);
	js.state = J(ALLOCATING);
	assert_int_equal(qrtx_jobstate_move(&js, J(EXECUTING)), 0);
	assert_int_equal(qrtx_jobstate_substate(&js, QRTX_EXEC_QUANTUM_INITIALIZING), 0);
	assert_int_equal(qrtx_jobstate_substate(&js, QRTX_EXEC_MEASURING), 0);
	assert_int_equal(qrtx_jobstate_substate(&js, QRTX_EXEC_QUANTUM_RUNNING), -EINVAL);
	assert_string_equal(qrtx_exec_substate_name(js.sub), "Measuring");
	assert_int_equal(qrtx_jobstate_fail(&js, &e), 0);
	assert_int_equal(js.state, J(FAILED));
	assert_string_equal(js.error.msg, "boom");
	assert_int_equal(js.sub, QRTX_EXEC_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_final_states),
		cmocka_unit_test(test_substates),
	};

	return cmocka_run_group_tests_name("jobstate", tests, NULL, NULL);
}
