// SPDX-License-Identifier: MIT
/*
 * One job through the state machine, in-process.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "qrtx/expr.h"
#include "qrtx/gpusv.h"
#include "qrtx/pipeline.h"
#include "qrtx/qasm.h"
#include "qrtx/resource.h"

static json_t *param_json(const struct qrtx_circuit *c, const struct qrtx_param *p)
{
	char buf[512];

	if (p->expr < 0)
		return json_real(p->value);
	qrtx_expr_print(c, p->expr, buf, sizeof(buf));
	return json_string(buf);
}

char *qrtx_circuit_to_aqo_json(const struct qrtx_circuit *c)
{
	json_t *root = json_object(), *ops = json_array(), *qregs = json_array();
	json_t *cregs = json_array(), *syms = json_array();
	char *text;

	for (uint32_t i = 0; i < c->nqregs; i++)
		json_array_append_new(qregs, json_pack("{s:s, s:I}", "name", c->qregs[i].name,
						       "size", (json_int_t)c->qregs[i].size));
	for (uint32_t i = 0; i < c->ncregs; i++)
		json_array_append_new(cregs, json_pack("{s:s, s:I}", "name", c->cregs[i].name,
						       "size", (json_int_t)c->cregs[i].size));
	for (uint32_t i = 0; i < c->nsymbols; i++)
		json_array_append_new(syms, json_string(c->symbols[i]));
	for (size_t i = 0; i < c->nops; i++) {
		const struct qrtx_op *op = &c->ops[i];
		json_t *o = json_object(), *qs = json_array();

		for (uint32_t q = 0; q < op->nqubits; q++)
			json_array_append_new(qs, json_integer(op->qubits[q]));
		switch (op->kind) {
		case QRTX_OP_GATE: {
			json_t *ps = json_array();

			json_object_set_new(o, "gate", json_string(qrtx_gate_info(op->gate)->name));
			json_object_set(o, "qubits", qs);
			for (uint32_t p = 0; p < op->nparams; p++)
				json_array_append_new(ps, param_json(c, &op->params[p]));
			if (op->nparams)
				json_object_set_new(o, "params", ps);
			else
				json_decref(ps);
			break;
		}
		case QRTX_OP_MEASURE:
			json_object_set_new(o, "measure", json_integer(op->qubits[0]));
			json_object_set_new(o, "clbit", json_integer(op->clbit));
			break;
		case QRTX_OP_RESET:
			json_object_set_new(o, "reset", json_integer(op->qubits[0]));
			break;
		case QRTX_OP_BARRIER:
			json_object_set_new(o, "barrier", json_true());
			break;
		}
		json_decref(qs);
		if (op->cond.creg >= 0)
			json_object_set_new(o, "if", json_pack("{s:s, s:I}", "creg",
					    c->cregs[op->cond.creg].name, "value",
					    (json_int_t)op->cond.value));
		json_array_append_new(ops, o);
	}
	json_object_set_new(root, "format", json_string("qrtx-aqo"));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "qubits", json_integer(c->nqubits));
	json_object_set_new(root, "clbits", json_integer(c->nclbits));
	json_object_set_new(root, "qregs", qregs);
	json_object_set_new(root, "cregs", cregs);
	json_object_set_new(root, "symbols", syms);
	json_object_set_new(root, "ops", ops);
	text = json_dumps(root, JSON_INDENT(1) | JSON_COMPACT);
	json_decref(root);
	return text;
}

static json_t *outcomes_json(const struct qrtx_outcome *o, size_t n, uint32_t nclbits,
			     bool probs)
{
	json_t *obj = json_object();
	char key[80];

	for (size_t i = 0; i < n; i++) {
		qrtx_outcome_format(o[i].bits, nclbits, key);
		json_object_set_new(obj, key, probs ? json_real(o[i].p) :
				    json_integer((json_int_t)o[i].count));
	}
	return obj;
}

/* Counts of one classical register, keyed by that register's bits. */
static json_t *register_counts_json(const struct qrtx_pub_result *r,
				    const struct qrtx_reg *reg)
{
	json_t *obj = json_object();
	char key[80];
	uint64_t mask = reg->size >= 64 ? ~0ull : (1ull << reg->size) - 1;

	for (size_t i = 0; i < r->ncounts; i++) {
		uint64_t v = r->counts[i].bits >> reg->offset & mask;
		json_t *old;

		qrtx_outcome_format(v, reg->size, key);
		old = json_object_get(obj, key);
		json_object_set_new(obj, key, json_integer((old ? json_integer_value(old) : 0) +
							   (json_int_t)r->counts[i].count));
	}
	return obj;
}

static json_t *pub_json(const struct qrtx_job_spec *job, const struct qrtx_pub *pub,
			const struct qrtx_pub_result *r)
{
	const struct qrtx_circuit *c = job->circuit;
	json_t *o = json_object();

	json_object_set_new(o, "kind", json_string(r->kind == QRTX_PUB_SAMPLER ?
						  "sampler" : "estimator"));
	json_object_set_new(o, "shots", json_integer((json_int_t)r->shots));
	if (pub->values) {
		json_t *b = json_object();

		for (uint32_t i = 0; i < c->nsymbols; i++)
			json_object_set_new(b, c->symbols[i], json_real(pub->values[i]));
		json_object_set_new(o, "parameters", b);
	}
	if (r->kind == QRTX_PUB_SAMPLER) {
		json_t *regs = json_object();

		json_object_set_new(o, "counts", outcomes_json(r->counts, r->ncounts,
							       c->nclbits, false));
		for (uint32_t i = 0; i < c->ncregs; i++)
			json_object_set_new(regs, c->cregs[i].name,
					    register_counts_json(r, &c->cregs[i]));
		json_object_set_new(o, "registers", regs);
		if (r->probs)
			json_object_set_new(o, "probabilities",
					    outcomes_json(r->probs, r->nprobs, c->nclbits, true));
		if (r->memory) {
			json_t *mem = json_array();
			char key[80];

			for (uint64_t s = 0; s < r->shots; s++) {
				qrtx_outcome_format(r->memory[s], c->nclbits, key);
				json_array_append_new(mem, json_string(key));
			}
			json_object_set_new(o, "memory", mem);
		}
	} else {
		json_t *obs = json_array();

		for (uint32_t i = 0; i < r->nvalues; i++)
			json_array_append_new(obs, json_pack("{s:s, s:f, s:f}",
				"observable", pub->observables[i].text,
				"value", r->values[i], "std_error", r->std_errors[i]));
		json_object_set_new(o, "observables", obs);
	}
	json_object_set_new(o, "gates", json_integer((json_int_t)r->ngates));
	json_object_set_new(o, "kernel_ops", json_integer((json_int_t)r->nkops));
	json_object_set_new(o, "per_shot", json_boolean(r->per_shot));
	return o;
}

static const char *precision_name(enum qrtx_precision p)
{
	return p == QRTX_PREC_SINGLE ? "single" : "double";
}

/* An artifact of the job: to the caller's persist hook, else to disk. */
static int put(const struct qrtx_run_opts *o, struct qrtx_store *s, const char *id,
	       const char *name, const char *data, struct qrtx_error *err)
{
	if (o->persist)
		return o->persist(o->persist_arg, name, data, strlen(data), err);
	return qrtx_store_write(s, id, name, data, strlen(data), err);
}

static int write_json(const struct qrtx_run_opts *o, struct qrtx_store *s, const char *id,
		      const char *name, json_t *doc, char **keep, struct qrtx_error *err)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	int ret;

	if (!text)
		return -ENOMEM;
	ret = put(o, s, id, name, text, err);
	if (keep)
		*keep = text;
	else
		free(text);
	return ret;
}

static int write_meta(const struct qrtx_run_opts *o, struct qrtx_store *s,
		      const struct qrtx_job_spec *job,
		      const struct qrtx_run_result *res, struct qrtx_error *err)
{
	json_t *meta = json_object(), *ts = json_object(), *resv = json_object();
	int ret;

	for (int i = 0; i < QRTX_JOB_NSTATES; i++)
		if (res->js.entered_ns[i])
			json_object_set_new(ts, qrtx_job_state_name(i),
				json_real((double)res->js.entered_ns[i] / 1e9));
	json_object_set_new(meta, "job_id", json_string(res->job_id));
	json_object_set_new(meta, "state", json_string(qrtx_job_state_name(res->js.state)));
	json_object_set_new(meta, "timestamps", ts);
	json_object_set_new(meta, "executor",
			    json_string(strcmp(job->backend, "ideal@cuda") ? "cpu" : "cuda"));
	json_object_set_new(meta, "backend", json_string(job->backend));
	json_object_set_new(meta, "precision", json_string(precision_name(job->precision)));
	json_object_set_new(meta, "seed", json_integer((json_int_t)res->seed));
	json_object_set_new(resv, "ledger", json_string(res->ledger ? res->ledger : "none"));
	json_object_set_new(resv, "qubits", json_integer((json_int_t)res->reserved_qubits));
	json_object_set_new(resv, "host_bytes", json_integer((json_int_t)res->reserved_host_bytes));
	if (res->gpu_index >= 0) {
		json_object_set_new(resv, "gpu_bytes",
				    json_integer((json_int_t)res->reserved_gpu_bytes));
		json_object_set_new(resv, "gpu_index", json_integer(res->gpu_index));
	}
	json_object_set_new(meta, "resources", resv);
	if (res->js.state == QRTX_JOB_FAILED) {
		char msg[1024];

		qrtx_error_format(&res->js.error, msg, sizeof(msg));
		json_object_set_new(meta, "error", json_pack("{s:s, s:s}", "category",
				    qrtx_error_category_name(res->js.error.category),
				    "message", msg));
	}
	ret = write_json(o, s, res->job_id, "meta.json", meta, NULL, err);
	json_decref(meta);
	return ret;
}

/*
 * The executor a backend names: the CPU engine (ideal@cpu), or the CUDA
 * engine on device 0 (ideal@cuda) when there is one; QRTX_CUDA_EMULATE=1
 * runs ideal@cuda on the engine's host emulation instead (tests).
 */
static int executor(const struct qrtx_job_spec *job, struct qrtx_exec_opts *eo,
		    struct qrtx_error *err)
{
	const char *emulate = getenv("QRTX_CUDA_EMULATE");
	char why[256];

	eo->cuda = false;
	if (!strcmp(job->backend, "ideal@cpu"))
		return 0;
	if (strcmp(job->backend, "ideal@cuda")) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
			       "backend '%s' is not available: the backends are ideal@cpu and ideal@cuda",
			       job->backend);
		return -EINVAL;
	}
	eo->cuda = true;
	eo->cuda_device = 0;
	if (emulate && !strcmp(emulate, "1") && qrtx_gpu_built()) {
		eo->cuda_device = QRTX_GPU_EMULATE;
		return 0;
	}
	if (qrtx_gpu_available(why, sizeof(why)) > 0)
		return 0;
	qrtx_error_set(err, QRTX_ERR_VALIDATION, -ENODEV, NULL, 0, 0,
		       "backend 'ideal@cuda' is not available: %s", why);
	return -ENODEV;
}

static int validate(const struct qrtx_job_spec *job, struct qrtx_exec_opts *eo,
		    struct qrtx_error *err)
{
	const struct qrtx_circuit *c = job->circuit;
	int ret = executor(job, eo, err);

	if (ret)
		return ret;
	if (!c->nqubits || c->nqubits > QRTX_SV_MAX_QUBITS) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
			       "the circuit has %u qubits; the engines run 1 to %d",
			       c->nqubits, QRTX_SV_MAX_QUBITS);
		return -EINVAL;
	}
	if (c->nclbits > 64) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
			       "the circuit has %u classical bits; at most 64 are supported",
			       c->nclbits);
		return -EINVAL;
	}
	if (!job->npubs) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
			       "the job has no PUB to run");
		return -EINVAL;
	}
	return 0;
}

static int compile_artifacts(const struct qrtx_run_opts *o, struct qrtx_store *s,
			     const struct qrtx_job_spec *job, const char *id,
			     struct qrtx_error *err)
{
	char *aqo = qrtx_circuit_to_aqo_json(job->circuit), *qasm = NULL;
	int ret;

	if (!aqo)
		return -ENOMEM;
	ret = put(o, s, id, "compiled.aqo.json", aqo, err);
	free(aqo);
	if (ret)
		return ret;
	/* QASM 2.0 has no free parameters: the first PUB's binding is used. */
	ret = qrtx_qasm_write(job->circuit, job->pubs[0].values, &qasm);
	if (ret) {
		qrtx_error_set(err, QRTX_ERR_COMPILE, ret, NULL, 0, 0,
			       "cannot express the circuit as OpenQASM 2.0: %s", strerror(-ret));
		return ret;
	}
	ret = put(o, s, id, "compiled.qasm", qasm, err);
	free(qasm);
	return ret;
}

static uint64_t pub_seed(uint64_t seed, uint32_t i)
{
	/* Distinct, reproducible streams per PUB (splitmix64 step). */
	uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void move(const struct qrtx_run_opts *o, struct qrtx_jobstate *js,
		 enum qrtx_job_state to)
{
	qrtx_jobstate_move(js, to);
	if (o->on_state)
		o->on_state(o->on_state_arg, js);
}

static void sub(const struct qrtx_run_opts *o, struct qrtx_jobstate *js,
		enum qrtx_exec_substate to)
{
	qrtx_jobstate_substate(js, to);
	if (o->on_state)
		o->on_state(o->on_state_arg, js);
}

int qrtx_run_job(const struct qrtx_job_spec *job, const struct qrtx_run_opts *opts,
		 struct qrtx_run_result *res, struct qrtx_error *err)
{
	struct qrtx_store *store = NULL;
	struct qrtx_res *ledger = NULL;
	struct qrtx_reserve req = { 0 };
	struct qrtx_exec_opts eo = opts->exec;
	bool reserved = false, gpu;
	int ret;

	memset(res, 0, sizeof(*res));
	res->gpu_index = -1;
	qrtx_jobstate_init(&res->js);
	res->seed = job->seed;
	if (!job->seed_set) {
		if (getrandom(&res->seed, sizeof(res->seed), 0) != sizeof(res->seed))
			res->seed = (uint64_t)time(NULL);
		/* Within 0 to 2^63-1, the range a seed can be given back in
		 * (JSON integers are signed 64-bit): a recorded seed reruns
		 * the job. */
		res->seed &= (uint64_t)INT64_MAX;
	}

	if (opts->persist && opts->job_id) {
		/* Nothing is written here: only the directory's name is. */
		char *def = opts->state_dir ? NULL : qrtx_store_default_dir(&ret);

		if (!opts->state_dir && !def) {
			qrtx_error_set(err, QRTX_ERR_PERSIST, ret, NULL, 0, 0,
				       "no state directory: set QRTX_STATE_DIR or HOME");
			return ret;
		}
		if (strlen(opts->job_id) >= sizeof(res->job_id)) {
			free(def);
			qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
				       "job id too long");
			return -EINVAL;
		}
		strcpy(res->job_id, opts->job_id);
		snprintf(res->dir, sizeof(res->dir), "%s/circuit_fs/%s",
			 opts->state_dir ? opts->state_dir : def, opts->job_id);
		free(def);
		goto validate;
	}
	ret = qrtx_store_open(opts->state_dir, &store, err);
	if (ret)
		return ret;
	if (opts->job_id) {
		if (strlen(opts->job_id) >= sizeof(res->job_id)) {
			qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
				       "job id too long");
			ret = -EINVAL;
			goto out_store;
		}
		strcpy(res->job_id, opts->job_id);
	} else {
		ret = qrtx_store_new_job(store, res->job_id, err);
		if (ret)
			goto out_store;
	}
	qrtx_store_path(store, res->job_id, NULL, res->dir, sizeof(res->dir));
	if (!opts->job_id) {
		ret = qrtx_store_write(store, res->job_id, "input.job.json", opts->input_json,
				       strlen(opts->input_json), err);
		if (ret)
			goto fail;
	}

validate:
	if (opts->part == QRTX_RUN_EXECUTE) {
		/* Validated and compiled by an earlier call: checked again,
		 * quietly; the compiled artifacts are there already. */
		qrtx_jobstate_move(&res->js, QRTX_JOB_VALIDATING);
		ret = validate(job, &eo, err);
		if (ret)
			goto fail;
		qrtx_jobstate_move(&res->js, QRTX_JOB_COMPILING);
		qrtx_jobstate_move(&res->js, QRTX_JOB_QUEUED);
	} else {
		move(opts, &res->js, QRTX_JOB_VALIDATING);
		ret = validate(job, &eo, err);
		if (ret)
			goto fail;

		move(opts, &res->js, QRTX_JOB_COMPILING);
		ret = compile_artifacts(opts, store, job, res->job_id, err);
		if (ret)
			goto fail;

		move(opts, &res->js, QRTX_JOB_QUEUED);
		if (opts->part == QRTX_RUN_PREPARE)
			goto out;
	}
	move(opts, &res->js, QRTX_JOB_ALLOCATING);
	ret = qrtx_res_open(opts->device, &ledger);
	if (ret) {
		qrtx_error_set(err, QRTX_ERR_ALLOCATION, ret, opts->device ? opts->device : "/dev/qrtx",
			       0, 0, "cannot open the resource ledger: %s", strerror(-ret));
		goto fail;
	}
	res->ledger = qrtx_res_backend_name(ledger);
	req.qubits = job->circuit->nqubits;
	req.timeout_ns = job->timeout_s > 0 ? (uint64_t)(job->timeout_s * 1e9) : 0;
	/* The state lives in device memory on a GPU (pool index = CUDA
	 * device index), in host memory otherwise (the emulation too). */
	gpu = eo.cuda && eo.cuda_device >= 0;
	if (gpu) {
		uint64_t fr, total;

		req.gpu_index = (uint32_t)eo.cuda_device;
		req.gpu_bytes = qrtx_exec_state_bytes(job->circuit, job->precision);
		/* A pool that has no total yet gets the device's size. */
		if (!qrtx_gpu_mem_info(eo.cuda_device, &fr, &total, NULL))
			qrtx_res_gpu_pool(ledger, req.gpu_index, total);
	} else {
		req.host_bytes = qrtx_exec_state_bytes(job->circuit, job->precision);
	}
	ret = qrtx_res_reserve(ledger, &req);
	if (ret == -ENODEV && gpu) {
		qrtx_error_set(err, QRTX_ERR_ALLOCATION, ret, NULL, 0, 0,
			       "the %s ledger has no GPU pool %u: an administrator sizes it (/sys/class/misc/qrtx/gpu_count and gpu%u/bytes_total)",
			       res->ledger, req.gpu_index, req.gpu_index);
		goto fail;
	}
	if (ret) {
		qrtx_error_set(err, QRTX_ERR_ALLOCATION, ret, NULL, 0, 0,
			       "cannot reserve %llu qubits and %llu bytes of %s memory (%s ledger): %s",
			       (unsigned long long)req.qubits,
			       (unsigned long long)(gpu ? req.gpu_bytes : req.host_bytes),
			       gpu ? "GPU" : "state", res->ledger,
			       ret == -ENOSPC ? "more than the pool holds" : strerror(-ret));
		goto fail;
	}
	reserved = true;
	res->reserved_qubits = req.qubits;
	res->reserved_host_bytes = req.host_bytes;
	res->reserved_gpu_bytes = req.gpu_bytes;
	res->gpu_index = gpu ? (int)req.gpu_index : -1;

	move(opts, &res->js, QRTX_JOB_EXECUTING);
	sub(opts, &res->js, QRTX_EXEC_QUANTUM_INITIALIZING);
	res->pubs = calloc(job->npubs, sizeof(*res->pubs));
	if (!res->pubs) {
		ret = -ENOMEM;
		goto fail;
	}
	sub(opts, &res->js, QRTX_EXEC_QUANTUM_RUNNING);
	eo.memory = eo.memory || job->memory;
	for (uint32_t i = 0; i < job->npubs; i++) {
		ret = qrtx_exec_pub(job, &job->pubs[i], pub_seed(res->seed, i), &eo,
				    &res->pubs[i], err);
		if (ret)
			goto fail;
		res->npubs = i + 1;
	}
	sub(opts, &res->js, QRTX_EXEC_POST_PROCESSING);

	/* Unload before reporting: the state is gone, the capacity returns. */
	qrtx_res_release(ledger, req.handle);
	reserved = false;

	move(opts, &res->js, QRTX_JOB_COMPLETING);
	{
		json_t *doc = json_object(), *pubs = json_array();

		for (uint32_t i = 0; i < res->npubs; i++)
			json_array_append_new(pubs, pub_json(job, &job->pubs[i], &res->pubs[i]));
		json_object_set_new(doc, "job_id", json_string(res->job_id));
		json_object_set_new(doc, "artifacts", json_string(res->dir));
		/* The first Sampler PUB's figures, for callers that run one. */
		for (uint32_t i = 0; i < res->npubs; i++) {
			json_t *p = json_array_get(pubs, i);

			if (res->pubs[i].kind != QRTX_PUB_SAMPLER)
				continue;
			json_object_set(doc, "counts", json_object_get(p, "counts"));
			json_object_set(doc, "shots", json_object_get(p, "shots"));
			if (json_object_get(p, "probabilities"))
				json_object_set(doc, "probabilities",
						json_object_get(p, "probabilities"));
			break;
		}
		json_object_set_new(doc, "backend", json_string(job->backend));
		json_object_set_new(doc, "precision", json_string(precision_name(job->precision)));
		json_object_set_new(doc, "seed", json_integer((json_int_t)res->seed));
		json_object_set_new(doc, "clbits", json_integer(job->circuit->nclbits));
		json_object_set_new(doc, "pubs", pubs);
		ret = write_json(opts, store, res->job_id, "results.json", doc,
				 &res->results_json, err);
		json_decref(doc);
		if (ret)
			goto fail;
	}
	move(opts, &res->js, QRTX_JOB_COMPLETED);
	ret = write_meta(opts, store, job, res, err);
	goto out;

fail:
	if (reserved)
		qrtx_res_release(ledger, req.handle);
	if (err->category == QRTX_ERR_NONE)
		qrtx_error_set(err, QRTX_ERR_EXECUTE, ret, NULL, 0, 0, "%s", strerror(-ret));
	qrtx_jobstate_fail(&res->js, err);
	if (res->job_id[0]) {
		struct qrtx_error ignored = { 0 };

		write_meta(opts, store, job, res, &ignored);
	}
out:
	qrtx_res_close(ledger);
out_store:
	qrtx_store_close(store);
	return ret;
}

void qrtx_run_result_free(struct qrtx_run_result *res)
{
	for (uint32_t i = 0; res->pubs && i < res->npubs; i++)
		qrtx_pub_result_free(&res->pubs[i]);
	free(res->pubs);
	free(res->results_json);
	res->results_json = NULL;
	res->pubs = NULL;
	res->npubs = 0;
}
