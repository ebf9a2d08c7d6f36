// SPDX-License-Identifier: MIT
#include <stdlib.h>

#include "qrtx/job.h"

void qrtx_job_spec_free(struct qrtx_job_spec *j)
{
	if (!j)
		return;
	for (uint32_t i = 0; i < j->npubs; i++) {
		struct qrtx_pub *p = &j->pubs[i];

		free(p->values);
		for (uint32_t k = 0; k < p->nobservables; k++)
			qrtx_observable_free(&p->observables[k]);
		free(p->observables);
	}
	free(j->pubs);
	qrtx_circuit_free(j->circuit);
	free(j);
}
