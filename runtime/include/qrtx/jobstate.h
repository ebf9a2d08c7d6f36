/* SPDX-License-Identifier: MIT */
/*
 * The job state machine of the design: the task states of the QRTX RFC
 * and no others. Moves are checked against a transition table on every
 * call; an invalid move is refused, counted, and asserted in debug builds.
 */
#ifndef QRTX_JOBSTATE_H
#define QRTX_JOBSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "qrtx/error.h"

enum qrtx_job_state {
	QRTX_JOB_PENDING,
	QRTX_JOB_VALIDATING,
	QRTX_JOB_COMPILING,
	QRTX_JOB_QUEUED,
	QRTX_JOB_ALLOCATING,
	QRTX_JOB_EXECUTING,
	QRTX_JOB_COMPLETING,
	QRTX_JOB_COMPLETED,
	QRTX_JOB_FAILED,
	QRTX_JOB_CANCELLED,
	QRTX_JOB_TIMEOUT,
	QRTX_JOB_NSTATES
};

enum qrtx_exec_substate {
	QRTX_EXEC_NONE,
	QRTX_EXEC_QUANTUM_INITIALIZING,
	QRTX_EXEC_QUANTUM_RUNNING,
	QRTX_EXEC_CLASSICAL_RUNNING,
	QRTX_EXEC_MEASURING,
	QRTX_EXEC_POST_PROCESSING,
	QRTX_EXEC_NSUBSTATES
};

struct qrtx_jobstate {
	enum qrtx_job_state state;
	enum qrtx_exec_substate sub;
	/* CLOCK_REALTIME ns of entering each state (0: never) */
	uint64_t entered_ns[QRTX_JOB_NSTATES];
	struct qrtx_error error;	/* the last error, for Failed */
};

const char *qrtx_job_state_name(enum qrtx_job_state s);
const char *qrtx_exec_substate_name(enum qrtx_exec_substate s);
bool qrtx_job_state_final(enum qrtx_job_state s);
bool qrtx_job_transition_valid(enum qrtx_job_state from, enum qrtx_job_state to);

void qrtx_jobstate_init(struct qrtx_jobstate *js);
/* Returns 0, or -EINVAL for a move the table does not allow. */
int qrtx_jobstate_move(struct qrtx_jobstate *js, enum qrtx_job_state to);
/* Sub-states only while Executing, forward only. */
int qrtx_jobstate_substate(struct qrtx_jobstate *js, enum qrtx_exec_substate sub);
/* Move to Failed with the error recorded. */
int qrtx_jobstate_fail(struct qrtx_jobstate *js, const struct qrtx_error *err);
/* Invalid moves refused since the process started (all job machines). */
uint64_t qrtx_jobstate_invalid_moves(void);

#endif
