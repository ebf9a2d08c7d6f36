// SPDX-License-Identifier: MIT
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "qrtx/jobstate.h"

#define S(x) (1u << QRTX_JOB_##x)
#define ENDS (S(FAILED) | S(CANCELLED) | S(TIMEOUT))

/* to-states allowed from each state; the table is the specification. */
static const uint32_t transitions[QRTX_JOB_NSTATES] = {
	[QRTX_JOB_PENDING]	= S(VALIDATING) | S(CANCELLED) | S(TIMEOUT),
	[QRTX_JOB_VALIDATING]	= S(COMPILING) | ENDS,
	[QRTX_JOB_COMPILING]	= S(QUEUED) | ENDS,
	[QRTX_JOB_QUEUED]	= S(ALLOCATING) | S(CANCELLED) | S(TIMEOUT),
	[QRTX_JOB_ALLOCATING]	= S(EXECUTING) | S(QUEUED) | ENDS,
	[QRTX_JOB_EXECUTING]	= S(COMPLETING) | ENDS,
	[QRTX_JOB_COMPLETING]	= S(COMPLETED) | ENDS,
};

static const char *const state_names[QRTX_JOB_NSTATES] = {
	"Pending", "Validating", "Compiling", "Queued", "Allocating",
	"Executing", "Completing", "Completed", "Failed", "Cancelled", "Timeout",
};

static const char *const sub_names[QRTX_EXEC_NSUBSTATES] = {
	"", "QuantumInitializing", "QuantumRunning", "ClassicalRunning",
	"Measuring", "PostProcessing",
};

/* Process-wide count of refused moves: telemetry, documented global. */
static atomic_uint_fast64_t invalid_moves;

const char *qrtx_job_state_name(enum qrtx_job_state s)
{
	return (unsigned int)s < QRTX_JOB_NSTATES ? state_names[s] : "Unknown";
}

const char *qrtx_exec_substate_name(enum qrtx_exec_substate s)
{
	return (unsigned int)s < QRTX_EXEC_NSUBSTATES ? sub_names[s] : "Unknown";
}

bool qrtx_job_state_final(enum qrtx_job_state s)
{
	return s == QRTX_JOB_COMPLETED || s == QRTX_JOB_FAILED ||
	       s == QRTX_JOB_CANCELLED || s == QRTX_JOB_TIMEOUT;
}

bool qrtx_job_transition_valid(enum qrtx_job_state from, enum qrtx_job_state to)
{
	if ((unsigned int)from >= QRTX_JOB_NSTATES || (unsigned int)to >= QRTX_JOB_NSTATES)
		return false;
	return transitions[from] & (1u << to);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void qrtx_jobstate_init(struct qrtx_jobstate *js)
{
	memset(js, 0, sizeof(*js));
	js->state = QRTX_JOB_PENDING;
	js->entered_ns[QRTX_JOB_PENDING] = now_ns();
}

static int refuse(void)
{
	atomic_fetch_add(&invalid_moves, 1);
#ifdef QRTX_DEBUG
	assert(!"invalid job state transition");
#endif
	return -EINVAL;
}

int qrtx_jobstate_move(struct qrtx_jobstate *js, enum qrtx_job_state to)
{
	if (!qrtx_job_transition_valid(js->state, to))
		return refuse();
	js->state = to;
	js->sub = QRTX_EXEC_NONE;
	js->entered_ns[to] = now_ns();
	return 0;
}

int qrtx_jobstate_substate(struct qrtx_jobstate *js, enum qrtx_exec_substate sub)
{
	if (js->state != QRTX_JOB_EXECUTING || sub <= js->sub ||
	    (unsigned int)sub >= QRTX_EXEC_NSUBSTATES)
		return refuse();
	js->sub = sub;
	return 0;
}

int qrtx_jobstate_fail(struct qrtx_jobstate *js, const struct qrtx_error *err)
{
	int ret = qrtx_jobstate_move(js, QRTX_JOB_FAILED);

	if (!ret && err)
		js->error = *err;
	return ret;
}

uint64_t qrtx_jobstate_invalid_moves(void)
{
	return atomic_load(&invalid_moves);
}
