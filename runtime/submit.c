// SPDX-License-Identifier: MIT
/*
 * A job from source text and options: see qrtx/submit.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/qasm.h"
#include "qrtx/submit.h"

void qrtx_job_opts_init(struct qrtx_job_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->precision = -1;
}

/* Whether any op measures: a circuit without measurements has no counts. */
static bool has_measure(const struct qrtx_circuit *c)
{
	for (size_t i = 0; i < c->nops; i++)
		if (c->ops[i].kind == QRTX_OP_MEASURE)
			return true;
	return false;
}

static int job_from_qasm(const char *name, const char *text, size_t len,
			 struct qrtx_job_spec **out, struct qrtx_error *err)
{
	struct qrtx_job_spec *job = calloc(1, sizeof(*job));
	int ret;

	if (!job)
		return -ENOMEM;
	ret = qrtx_qasm_parse(text, len, name, &job->circuit, err);
	if (ret) {
		free(job);
		return ret;
	}
	job->shots = QRTX_DEFAULT_SHOTS;
	strcpy(job->backend, "ideal@cpu");
	*out = job;
	return 0;
}

/* Options override the job's, and observables add a PUB. */
static int apply_opts(const char *name, const struct qrtx_job_opts *a,
		      struct qrtx_job_spec *job, struct qrtx_error *err)
{
	uint32_t n = job->npubs;
	struct qrtx_pub *pubs;

	if (a->shots_set)
		job->shots = a->shots;
	if (a->seed_set) {
		job->seed = a->seed;
		job->seed_set = true;
	}
	if (a->precision >= 0)
		job->precision = (enum qrtx_precision)a->precision;
	if (a->backend) {
		if (strlen(a->backend) >= sizeof(job->backend)) {
			qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, name, 0, 0,
				       "backend name too long: '%.40s...'", a->backend);
			return -EINVAL;
		}
		strcpy(job->backend, a->backend);
	}
	if (a->memory)
		job->memory = true;
	if (a->priority_set)
		job->priority = a->priority;
	if (a->timeout_set)
		job->timeout_s = a->timeout_s;
	for (uint32_t i = 0; i < job->npubs; i++)
		if (a->shots_set && job->pubs[i].kind == QRTX_PUB_SAMPLER)
			job->pubs[i].shots = a->shots;
	if (n && !a->nobservables)
		return 0;

	pubs = realloc(job->pubs, (n + 2) * sizeof(*pubs));
	if (!pubs)
		return -ENOMEM;
	job->pubs = pubs;
	if (job->circuit->nsymbols && !n) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, name, 0, 0,
			       "the circuit has free parameters but no PUB binds them");
		return -EINVAL;
	}
	if (!n && (has_measure(job->circuit) || !a->nobservables)) {
		memset(&pubs[n], 0, sizeof(pubs[n]));
		pubs[n].kind = QRTX_PUB_SAMPLER;
		pubs[n++].shots = job->shots;
	}
	if (a->nobservables) {
		struct qrtx_pub *p = &pubs[n];

		memset(p, 0, sizeof(*p));
		p->kind = QRTX_PUB_ESTIMATOR;
		p->shots = job->shots;
		if (job->npubs && job->pubs[0].values) {
			p->values = malloc(job->circuit->nsymbols * sizeof(double));
			if (!p->values)
				return -ENOMEM;
			memcpy(p->values, job->pubs[0].values,
			       job->circuit->nsymbols * sizeof(double));
		}
		p->observables = calloc(a->nobservables, sizeof(*p->observables));
		if (!p->observables)
			return -ENOMEM;
		n++;
		job->npubs = n;
		for (unsigned int i = 0; i < a->nobservables; i++) {
			int ret = qrtx_observable_parse(a->observables[i],
							job->circuit->nqubits,
							&p->observables[i], err);
			if (ret)
				return ret;
			p->nobservables++;
		}
	}
	job->npubs = n;
	return 0;
}

int qrtx_job_from_source(const char *name, const char *text, size_t len, bool json,
			 const struct qrtx_job_opts *o, struct qrtx_job_spec **out,
			 struct qrtx_error *err)
{
	struct qrtx_job_spec *job = NULL;
	int ret;

	*out = NULL;
	ret = json ? qrtx_graph_parse(text, len, name, &job, err) :
		     job_from_qasm(name, text, len, &job, err);
	if (ret)
		return ret;
	ret = apply_opts(name, o, job, err);
	if (ret) {
		qrtx_job_spec_free(job);
		return ret;
	}
	*out = job;
	return 0;
}

static int bad_option(struct qrtx_error *err, const char *what)
{
	qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0, "option %s", what);
	return -EINVAL;
}

int qrtx_job_opts_from_json(const json_t *options, struct qrtx_job_opts *o,
			    struct qrtx_error *err)
{
	const char *key;
	json_t *v;

	qrtx_job_opts_init(o);
	if (!options || json_is_null(options))
		return 0;
	if (!json_is_object(options))
		return bad_option(err, "list must be a JSON object");
	json_object_foreach((json_t *)options, key, v) {
		if (!strcmp(key, "shots")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1)
				return bad_option(err, "\"shots\" must be an integer >= 1");
			o->shots = (uint64_t)json_integer_value(v);
			o->shots_set = true;
		} else if (!strcmp(key, "seed")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return bad_option(err, "\"seed\" must be an integer >= 0");
			o->seed = (uint64_t)json_integer_value(v);
			o->seed_set = true;
		} else if (!strcmp(key, "precision")) {
			const char *s = json_string_value(v);

			if (s && !strcmp(s, "double"))
				o->precision = QRTX_PREC_DOUBLE;
			else if (s && !strcmp(s, "single"))
				o->precision = QRTX_PREC_SINGLE;
			else
				return bad_option(err, "\"precision\" is \"single\" or \"double\"");
		} else if (!strcmp(key, "backend")) {
			if (!json_is_string(v))
				return bad_option(err, "\"backend\" must be a string such as \"ideal@cuda\"");
			o->backend = json_string_value(v);
		} else if (!strcmp(key, "priority")) {
			json_int_t p = json_integer_value(v);

			if (!json_is_integer(v) || p < INT32_MIN || p > INT32_MAX)
				return bad_option(err, "\"priority\" must be a 32-bit integer");
			o->priority = (int32_t)p;
			o->priority_set = true;
		} else if (!strcmp(key, "timeout_s")) {
			double t = json_number_value(v);

			if (!json_is_number(v) || !isfinite(t) || t <= 0)
				return bad_option(err, "\"timeout_s\" must be a number > 0");
			o->timeout_s = t;
			o->timeout_set = true;
		} else if (!strcmp(key, "observables")) {
			size_t i;
			json_t *e;

			if (!json_is_array(v) || json_array_size(v) > QRTX_MAX_OBSERVABLES)
				return bad_option(err, "\"observables\" must be an array of at most 64 strings");
			json_array_foreach(v, i, e) {
				if (!json_is_string(e))
					return bad_option(err, "\"observables\" must be an array of strings");
				o->observables[o->nobservables++] = json_string_value(e);
			}
		} else if (!strcmp(key, "exact")) {
			if (!json_is_boolean(v))
				return bad_option(err, "\"exact\" must be true or false");
			o->exact = json_is_true(v);
		} else if (!strcmp(key, "memory")) {
			if (!json_is_boolean(v))
				return bad_option(err, "\"memory\" must be true or false");
			o->memory = json_is_true(v);
		} else {
			qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
				       "unknown option \"%s\"", key);
			return -EINVAL;
		}
	}
	return 0;
}
