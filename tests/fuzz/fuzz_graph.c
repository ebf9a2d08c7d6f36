// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the JSON graph front end: any input must either
 * parse into a job spec or yield one error, never crash or leak.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuapi -Iruntime/include \
 *	-D_GNU_SOURCE tests/fuzz/fuzz_graph.c runtime/graph.c runtime/observable.c \
 *	runtime/job_spec.c runtime/circuit.c runtime/error.c runtime/gates.c \
 *	runtime/expr.c runtime/qasm_lex.c -ljansson -lm -lpthread
 *   ./a.out -max_total_time=60 tests/fuzz/corpus/graph
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qrtx_error err = { 0 };
	struct qrtx_job_spec *job = NULL;
	char buf[1024];
	int ret;

	ret = qrtx_graph_parse((const char *)data, size, "fuzz.json", &job, &err);
	if (ret) {
		/* A failure is always explained, and never leaves a job. */
		if (job || err.category == QRTX_ERR_NONE || !err.msg[0])
			abort();
		qrtx_error_format(&err, buf, sizeof(buf));
		return 0;
	}
	if (!job || !job->circuit || !job->npubs)
		abort();
	/* Touch what consumers read, so a bad index shows up here. */
	for (size_t i = 0; i < job->circuit->nops; i++) {
		const struct qrtx_op *op = &job->circuit->ops[i];

		for (uint32_t q = 0; q < op->nqubits; q++)
			if (op->qubits[q] >= job->circuit->nqubits)
				abort();
		if (op->kind == QRTX_OP_MEASURE && op->clbit >= job->circuit->nclbits)
			abort();
		for (uint32_t p = 0; p < op->nparams; p++) {
			double v;

			if (qrtx_param_eval(job->circuit, &op->params[p], job->pubs[0].values, &v))
				abort();
		}
	}
	qrtx_job_spec_free(job);
	return 0;
}
