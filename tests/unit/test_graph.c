// SPDX-License-Identifier: MIT
/*
 * The JSON graph front end: what a valid document becomes, and that every
 * malformed one gets one error naming the right place.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "qrtx/job.h"

#define HDR "\"format\":\"qrtx-graph\",\"version\":1,"
#define ANY UINT_MAX

static struct qrtx_job_spec *parse_ok(const char *json)
{
	struct qrtx_job_spec *job = NULL;
	struct qrtx_error e = { 0 };
	int ret = qrtx_graph_parse(json, strlen(json), "t.json", &job, &e);

	if (ret)
		print_message("%s:%u:%u: %s\n", e.file, e.line, e.col, e.msg);
	assert_int_equal(ret, 0);
	assert_non_null(job);
	assert_int_equal(e.category, QRTX_ERR_NONE);
	return job;
}

/* The 1-based column of needle's first occurrence in a one-line json. */
static unsigned int col_of(const char *json, const char *needle)
{
	const char *p = strstr(json, needle);

	assert_non_null(p);
	return (unsigned int)(p - json) + 1;
}

static void parse_bad(const char *json, const char *want, unsigned int line, unsigned int col)
{
	struct qrtx_job_spec *job = (void *)1;
	struct qrtx_error e = { 0 };
	int ret = qrtx_graph_parse(json, strlen(json), "t.json", &job, &e);

	if (!ret || !strstr(e.msg, want) || (line != ANY && e.line != line) ||
	    (col != ANY && e.col != col))
		print_message("got %d %u:%u \"%s\"; wanted %u:%u \"%s\"\n", ret, e.line, e.col,
			      e.msg, line, col, want);
	assert_int_equal(ret, -EINVAL);
	assert_null(job);
	assert_int_equal(e.category, QRTX_ERR_VALIDATION);
	assert_string_equal(e.file, "t.json");
	assert_non_null(strstr(e.msg, want));
	if (line != ANY)
		assert_int_equal(e.line, line);
	if (col != ANY)
		assert_int_equal(e.col, col);
}

/* A one-line document whose error sits at the first occurrence of at. */
static void bad_at(const char *json, const char *want, const char *at)
{
	parse_bad(json, want, 1, col_of(json, at));
}

static void test_bell_defaults(void **state)
{
	const char *json = "{" HDR "\"qubits\":2,\"clbits\":2,\"ops\":[\n"
			   "  {\"gate\":\"h\",\"qubits\":[0]},\n"
			   "  {\"gate\":\"CX\",\"qubits\":[0,1]},\n"
			   "  {\"measure\":0,\"clbit\":0},{\"measure\":1,\"clbit\":1}]}";
	struct qrtx_job_spec *job = parse_ok(json);
	const struct qrtx_circuit *c = job->circuit;

	(void)state;
	assert_int_equal(c->nqubits, 2);
	assert_int_equal(c->nclbits, 2);
	assert_int_equal(c->nqregs, 1);
	assert_string_equal(c->qregs[0].name, "q");
	assert_string_equal(c->cregs[0].name, "c");
	assert_int_equal(c->nops, 4);
	assert_int_equal(c->ops[0].kind, QRTX_OP_GATE);
	assert_int_equal(c->ops[0].gate, QRTX_G_H);
	assert_int_equal(c->ops[0].cond.creg, -1);
	assert_int_equal(c->ops[1].gate, QRTX_G_CX);
	assert_int_equal(c->ops[1].nqubits, 2);
	assert_int_equal(c->ops[1].qubits[1], 1);
	assert_int_equal(c->ops[3].kind, QRTX_OP_MEASURE);
	assert_int_equal(c->ops[3].qubits[0], 1);
	assert_int_equal(c->ops[3].clbit, 1);
	/* Where each op was written, for later stages' messages. */
	assert_int_equal(c->ops[0].line, 2);
	assert_int_equal(c->ops[0].col, 3);
	assert_int_equal(c->ops[3].line, 4);
	assert_int_equal(c->ops[3].col, 27);

	assert_int_equal(job->shots, QRTX_DEFAULT_SHOTS);
	assert_false(job->seed_set);
	assert_int_equal(job->precision, QRTX_PREC_DOUBLE);
	assert_string_equal(job->backend, "ideal@cpu");
	assert_int_equal(job->priority, 0);
	assert_float_equal(job->timeout_s, 0, 0);
	assert_false(job->memory);
	assert_int_equal(job->npubs, 1);
	assert_int_equal(job->pubs[0].kind, QRTX_PUB_SAMPLER);
	assert_int_equal(job->pubs[0].shots, QRTX_DEFAULT_SHOTS);
	assert_null(job->pubs[0].values);
	qrtx_job_spec_free(job);
}

static void test_job_fields(void **state)
{
	struct qrtx_job_spec *job = parse_ok(
		"{" HDR "\"name\":\"demo\",\"description\":\"x\",\"qubits\":1,\"ops\":[],"
		"\"shots\":77,\"seed\":12345678901,\"precision\":\"single\","
		"\"backend\":\"fake-5q.v2@cuda\",\"priority\":-5,\"timeout\":1.5,\"memory\":true}");

	(void)state;
	assert_string_equal(job->circuit->name, "demo");
	assert_int_equal(job->shots, 77);
	assert_true(job->seed_set);
	assert_int_equal(job->seed, 12345678901ULL);
	assert_int_equal(job->precision, QRTX_PREC_SINGLE);
	assert_string_equal(job->backend, "fake-5q.v2@cuda");
	assert_int_equal(job->priority, -5);
	assert_float_equal(job->timeout_s, 1.5, 0);
	assert_true(job->memory);
	assert_int_equal(job->pubs[0].shots, 77);
	qrtx_job_spec_free(job);
}

static void test_registers_and_broadcast(void **state)
{
	struct qrtx_job_spec *job = parse_ok(
		"{" HDR "\"qregs\":[{\"name\":\"a\",\"size\":2},{\"name\":\"anc\",\"size\":3}],"
		"\"cregs\":[{\"name\":\"m\",\"size\":1},{\"name\":\"out\",\"size\":3}],\"ops\":["
		"{\"gate\":\"ccx\",\"qubits\":[\"a[1]\",\"anc[0]\",4]},"
		"{\"reset\":\"anc\"},"
		"{\"measure\":\"anc\",\"clbit\":\"out\",\"if\":{\"creg\":\"m\",\"value\":1}},"
		"{\"measure\":\"a[0]\",\"clbit\":\"m[0]\"},"
		"{\"barrier\":[\"a\",\"anc[2]\"]},{\"barrier\":true}]}");
	const struct qrtx_circuit *c = job->circuit;

	(void)state;
	assert_int_equal(c->nqubits, 5);
	assert_int_equal(c->nclbits, 4);
	assert_int_equal(c->qregs[1].offset, 2);
	assert_int_equal(c->cregs[1].offset, 1);
	assert_int_equal(c->ops[0].qubits[0], 1);
	assert_int_equal(c->ops[0].qubits[1], 2);
	assert_int_equal(c->ops[0].qubits[2], 4);
	/* reset anc: three resets; measure anc -> out: three measurements. */
	assert_int_equal(c->nops, 1 + 3 + 3 + 1 + 2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c->ops[1 + i].kind, QRTX_OP_RESET);
		assert_int_equal(c->ops[1 + i].qubits[0], 2 + i);
		assert_int_equal(c->ops[4 + i].kind, QRTX_OP_MEASURE);
		assert_int_equal(c->ops[4 + i].qubits[0], 2 + i);
		assert_int_equal(c->ops[4 + i].clbit, 1 + i);
		assert_int_equal(c->ops[4 + i].cond.creg, 0);
		assert_int_equal(c->ops[4 + i].cond.value, 1);
	}
	assert_int_equal(c->ops[7].clbit, 0);
	assert_int_equal(c->ops[8].kind, QRTX_OP_BARRIER);
	assert_int_equal(c->ops[8].nqubits, 0);
	assert_int_equal(c->ops[9].kind, QRTX_OP_BARRIER);
	qrtx_job_spec_free(job);
}

static void test_params_and_folding(void **state)
{
	struct qrtx_job_spec *job = parse_ok(
		"{" HDR "\"qubits\":2,\"ops\":["
		"{\"gate\":\"u3\",\"qubits\":[0],\"params\":[0.25,\"pi/2\",\"-2*theta+phi\"]},"
		"{\"gate\":\"cp\",\"qubits\":[0,1],\"params\":[\"theta\"]}],"
		"\"pubs\":[{\"parameters\":{\"phi\":0.5,\"theta\":2}}]}");
	const struct qrtx_circuit *c = job->circuit;
	double v;

	(void)state;
	assert_int_equal(c->ops[0].gate, QRTX_G_U);
	assert_int_equal(c->ops[0].nparams, 3);
	assert_int_equal(c->ops[0].params[0].expr, -1);
	assert_float_equal(c->ops[0].params[0].value, 0.25, 0);
	/* Constant expressions are folded to numbers. */
	assert_int_equal(c->ops[0].params[1].expr, -1);
	assert_float_equal(c->ops[0].params[1].value, M_PI / 2, 1e-15);
	assert_true(c->ops[0].params[2].expr >= 0);
	assert_int_equal(c->ops[1].gate, QRTX_G_CU1);
	/* Symbols in first-use order; values follow that order. */
	assert_int_equal(c->nsymbols, 2);
	assert_string_equal(c->symbols[0], "theta");
	assert_string_equal(c->symbols[1], "phi");
	assert_int_equal(job->npubs, 1);
	assert_float_equal(job->pubs[0].values[0], 2, 0);
	assert_float_equal(job->pubs[0].values[1], 0.5, 0);
	assert_int_equal(qrtx_param_eval(c, &c->ops[0].params[2], job->pubs[0].values, &v), 0);
	assert_float_equal(v, -3.5, 1e-15);
	qrtx_job_spec_free(job);
}

static void test_sweep(void **state)
{
	struct qrtx_job_spec *job = parse_ok(
		"{" HDR "\"qubits\":1,\"clbits\":1,\"ops\":["
		"{\"gate\":\"rx\",\"qubits\":[0],\"params\":[\"a*b\"]},"
		"{\"measure\":0,\"clbit\":0}],\"shots\":10,"
		"\"pubs\":[{\"parameters\":{\"a\":[0,1,2],\"b\":3},\"shots\":5},"
		"{\"parameters\":{\"a\":7,\"b\":[8]}}]}");

	(void)state;
	/* Three points, then one: scalars are shared by every point. */
	assert_int_equal(job->npubs, 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(job->pubs[i].kind, QRTX_PUB_SAMPLER);
		assert_int_equal(job->pubs[i].shots, 5);
		assert_float_equal(job->pubs[i].values[0], i, 0);
		assert_float_equal(job->pubs[i].values[1], 3, 0);
	}
	assert_int_equal(job->pubs[3].shots, 10);
	assert_float_equal(job->pubs[3].values[0], 7, 0);
	assert_float_equal(job->pubs[3].values[1], 8, 0);
	qrtx_job_spec_free(job);
}

static void test_estimator(void **state)
{
	struct qrtx_job_spec *job = parse_ok(
		"{" HDR "\"qubits\":3,\"ops\":["
		"{\"gate\":\"ry\",\"qubits\":[2],\"params\":[\"t\"]}],"
		"\"shots\":300,\"pubs\":["
		"{\"parameters\":{\"t\":[0.1,0.2]},\"observables\":[\"0.5*ZZI - 1.2*XIX\",\"Z2\"]},"
		"{\"parameters\":{\"t\":1},\"observables\":\"IIZ\",\"shots\":0}]}");
	const struct qrtx_pub *p;

	(void)state;
	assert_int_equal(job->npubs, 3);
	p = &job->pubs[1];
	assert_int_equal(p->kind, QRTX_PUB_ESTIMATOR);
	assert_int_equal(p->shots, 300);
	assert_float_equal(p->values[0], 0.2, 0);
	assert_int_equal(p->nobservables, 2);
	assert_string_equal(p->observables[0].text, "0.5*ZZI - 1.2*XIX");
	assert_int_equal(p->observables[0].nterms, 2);
	assert_int_equal(p->observables[0].terms[1].xmask, 0x5);
	assert_int_equal(p->observables[1].terms[0].zmask, 0x4);
	/* Each point owns its copy. */
	assert_ptr_not_equal(job->pubs[0].observables[0].terms, p->observables[0].terms);
	p = &job->pubs[2];
	assert_int_equal(p->shots, 0);
	assert_int_equal(p->nobservables, 1);
	assert_int_equal(p->observables[0].terms[0].zmask, 0x1);
	qrtx_job_spec_free(job);
}

static void test_json_errors(void **state)
{
	(void)state;
	/* jansson's own position for syntax errors. */
	parse_bad("{\n  \"format\": \"qrtx-graph\",\n  \"version\": 1,,\n}", "invalid JSON", 3, 16);
	parse_bad("", "invalid JSON", ANY, ANY);
	parse_bad("{" HDR "\"qubits\":1,\"ops\":[],\"shots\":1,\"shots\":2}", "duplicate", ANY,
		  ANY);
	parse_bad("[1]", "the top level must be an object, got an array", 1, 1);
	parse_bad("{}", "missing \"format\"", 1, 1);
	parse_bad("{\"version\":1}", "missing \"format\"", 1, 1);
	bad_at("{\"format\":\"qasm\",\"version\":1}", "expected \"qrtx-graph\"", "\"qasm");
	bad_at("{\"format\":\"qrtx-graph\",\"version\":2}", "unsupported version 2", "2}");
	bad_at("{\"format\":\"qrtx-graph\",\"version\":\"1\"}", "expected an integer", "\"1\"");
}

static void test_unknown_fields(void **state)
{
	(void)state;
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"shtos\":5}",
	       "unknown field \"shtos\"; did you mean \"shots\"?", "\"shtos");
	bad_at("{" HDR "\"qubits\":1,\"opps\":[]}", "did you mean \"ops\"?", "\"opps");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"zzz\":0}",
	       "unknown field \"zzz\" (known fields: format",
	       "\"zzz");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[{\"gate\":\"h\",\"qubit\":[0]}]}",
	       "ops[0]: unknown field \"qubit\"; did you mean \"qubits\"?", "\"qubit\"");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[{\"gtae\":\"h\"}]}", "did you mean \"gate\"?",
	       "\"gtae");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[{\"measure\":0,\"clbits\":0}]}",
	       "did you mean \"clbit\"?", "\"clbits");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"pubs\":[{\"obsevables\":\"Z\"}]}",
	       "pubs[0]: unknown field \"obsevables\"; did you mean \"observables\"?", "\"obsev");
	bad_at("{" HDR "\"qregs\":[{\"name\":\"q\",\"sise\":1}],\"ops\":[]}",
	       "qregs[0]: unknown field \"sise\"; did you mean \"size\"?", "\"sise");
	bad_at("{" HDR "\"qubits\":1,\"clbits\":1,\"ops\":[{\"reset\":0,"
	       "\"if\":{\"creg\":\"c\",\"val\":0}}]}",
	       "ops[0].if: unknown field \"val\"", "\"val\"");
	/* Escaped keys are found by position too. */
	bad_at("{" HDR "\"\\u0071ubits\":1,\"ops\":[],\"x\\ty\":1}", "unknown field \"x?y\"",
	       "\"x\\ty");
}

static void test_register_errors(void **state)
{
	(void)state;
	parse_bad("{" HDR "\"ops\":[]}", "missing \"qubits\" (a count) or \"qregs\"", 1, 1);
	bad_at("{" HDR "\"qubits\":1,\"qregs\":[],\"ops\":[]}",
	       "give \"qubits\" or \"qregs\", not both",
	       "\"qregs");
	bad_at("{" HDR "\"qubits\":0,\"ops\":[]}", "0 is out of range (1 to 1024)", "0,");
	bad_at("{" HDR "\"qubits\":5000,\"ops\":[]}", "out of range", "5000");
	bad_at("{" HDR "\"qubits\":-1,\"ops\":[]}", "out of range", "-1");
	bad_at("{" HDR "\"qubits\":2.0,\"ops\":[]}", "expected an integer, got a real number",
	       "2.0");
	bad_at("{" HDR "\"qregs\":[{\"name\":\"Q\",\"size\":1}],\"ops\":[]}", "not a register name",
	       "\"Q\"");
	bad_at("{" HDR "\"qregs\":[{\"name\":\"gate\",\"size\":1}],\"ops\":[]}",
	       "not a register name",
	       "\"gate\"");
	bad_at("{" HDR "\"qregs\":[{\"name\":\"r\",\"size\":1},"
	       "{\"name\":\"r\",\"size\":1}],\"ops\":[]}",
	       "declared twice", "\"r\",\"size\":1}]");
	bad_at("{" HDR "\"qregs\":[{\"name\":\"c\",\"size\":1}],\"clbits\":1,\"ops\":[]}",
	       "clashes", "1,\"ops");
	bad_at("{" HDR "\"qregs\":[{\"name\":\"r\",\"size\":1000},{\"name\":\"s\",\"size\":100}],"
	       "\"ops\":[]}", "more than 1024 qubits", "100}");
	bad_at("{" HDR "\"qregs\":[{\"size\":1}],\"ops\":[]}", "qregs[0]: missing \"name\"",
	       "{\"size");
	bad_at("{" HDR "\"qregs\":[],\"ops\":[]}", "at least one qubit", "[]");
}

static void test_op_errors(void **state)
{
	(void)state;
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"h\",\"qubits\":[0]},"
	       "{\"gate\":\"cx\",\"qubits\":[0,5]}]}",
	       "ops[1].qubits[1]: qubit 5 out of range (the circuit has 2 qubits)", "5]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"cx\",\"qubits\":[1,\"q[1]\"]}]}",
	       "ops[0].qubits[1]: qubit 1 is used twice by gate \"cx\"", "\"q[1]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"cx\",\"qubits\":[1]}]}",
	       "gate \"cx\" acts on 2 qubits, got 1", "[1]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"hh\",\"qubits\":[1]}]}",
	       "ops[0].gate: unknown gate \"hh\"; did you mean \"h\"?", "\"hh");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"frob\",\"qubits\":[1]}]}",
	       "unknown gate \"frob\"", "\"frob");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"measure\",\"qubits\":[1]}]}",
	       "\"measure\" is not a gate", "\"measure");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"rx\",\"qubits\":[1]}]}",
	       "ops[0]: gate \"rx\" takes 1 parameter, got 0", "{\"gate");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"h\",\"qubits\":[1],\"params\":[1]}]}",
	       "ops[0].params: gate \"h\" takes 0 parameters, got 1", "[1]}");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"rx\",\"qubits\":[1],\"params\":[true]}]}",
	       "a parameter is a number or an expression string, got true", "true");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"rx\",\"qubits\":[1],"
	       "\"params\":[\"ln(0)\"]}]}",
	       "\"ln(0)\" is not a finite number", "\"ln");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"x\",\"qubits\":[\"q\"]}]}",
	       "\"q\" is a whole register; name one qubit, e.g. \"q[0]\"", "\"q\"]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"x\",\"qubits\":[\"r[0]\"]}]}",
	       "no quantum register named \"r\" (registers: q)", "\"r[0]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"x\",\"qubits\":[\"q[2]\"]}]}",
	       "index 2 out of range for register \"q\" of size 2", "\"q[2]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"x\",\"qubits\":[\"q[0] \"]}]}",
	       "bad qubit reference", "\"q[0] ");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"x\",\"qubits\":[\"q[-1]\"]}]}",
	       "bad qubit reference", "\"q[-1]");
	bad_at("{" HDR "\"qubits\":2,\"clbits\":1,"
	       "\"ops\":[{\"gate\":\"x\",\"qubits\":[\"c[0]\"]}]}",
	       "\"c\" is a classical register, expected a quantum one", "\"c[0]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"x\",\"qubits\":[null]}]}",
	       "expected a qubit index or \"reg[i]\", got null", "null");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"x\",\"qubits\":0}]}",
	       "expected an array of qubits", "0}");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"gate\":\"x\",\"measure\":0}]}",
	       "has both \"gate\" and \"measure\"", "{\"gate");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{}]}", "an operation needs one of", "{}");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[3]}", "an operation is an object, got an integer",
	       "3]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":{}}", "expected an array of operations", "{}");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"measure\":0}]}", "a measurement needs \"clbit\"",
	       "{\"measure");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"measure\":0,\"clbit\":0}]}",
	       "the circuit has no classical bits", "0}");
	bad_at("{" HDR "\"qubits\":2,\"clbits\":1,\"ops\":[{\"measure\":\"q\",\"clbit\":\"c\"}]}",
	       "ops[0].clbit: measures 2 qubits into 1 classical bit", "\"c\"}");
	bad_at("{" HDR "\"qubits\":2,\"clbits\":1,\"ops\":[{\"measure\":0,\"clbit\":\"q[0]\"}]}",
	       "\"q\" is a quantum register, expected a classical one", "\"q[0]");
	bad_at("{" HDR "\"qubits\":2,\"clbits\":1,\"ops\":[{\"gate\":\"x\",\"qubits\":[0],"
	       "\"if\":{\"creg\":\"c\",\"value\":2}}]}",
	       "2 does not fit in register \"c\" of 1 bit",
	       "2}");
	bad_at("{" HDR "\"qubits\":2,\"clbits\":1,\"ops\":[{\"gate\":\"x\",\"qubits\":[0],"
	       "\"if\":{\"creg\":\"d\",\"value\":0}}]}", "no classical register named \"d\"",
	       "\"d\"");
	bad_at("{" HDR "\"qubits\":2,\"clbits\":1,\"ops\":[{\"reset\":0,\"if\":{\"creg\":\"c\"}}]}",
	       "ops[0].if: missing \"value\"", "{\"creg");
	bad_at("{" HDR "\"qubits\":2,\"clbits\":1,\"ops\":[{\"barrier\":true,"
	       "\"if\":{\"creg\":\"c\",\"value\":0}}]}", "a barrier cannot be conditional", "\"if");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"barrier\":[0,\"q\"]}]}",
	       "ops[0].barrier[1]: qubit 0 is listed twice", "\"q\"]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"barrier\":[]}]}", "an empty barrier", "[]");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[{\"barrier\":false}]}",
	       "expected true or an array of qubits, got false", "false");
}

static void test_expression_position(void **state)
{
	const char *json = "{" HDR "\"qubits\":1,\"ops\":[{\"gate\":\"rx\",\"qubits\":[0],"
			   "\"params\":[\"1 + * 2\"]}]}";
	struct qrtx_job_spec *job = (void *)1;
	struct qrtx_error e = { 0 };
	unsigned int start = col_of(json, "\"1 + ");

	(void)state;
	assert_int_equal(qrtx_graph_parse(json, strlen(json), "t.json", &job, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "ops[0].params[0]: bad expression \"1 + * 2\""));
	/* The column points into the string, at or after its quote. */
	assert_int_equal(e.line, 1);
	assert_true(e.col >= start && e.col <= start + 8);
}

static void test_binding_errors(void **state)
{
#define RX "\"qubits\":1,\"ops\":[{\"gate\":\"rx\",\"qubits\":[0],\"params\":[\"theta\"]}]"
	(void)state;
	parse_bad("{" HDR RX "}", "free parameters (theta) but no \"pubs\" binds them", 1, 1);
	bad_at("{" HDR RX ",\"pubs\":[{}]}", "pubs[0]: missing \"parameters\" (the circuit's "
	       "parameters: theta)", "{}");
	bad_at("{" HDR RX ",\"pubs\":[{\"parameters\":{\"thetaa\":1}}]}",
	       "pubs[0].parameters: \"thetaa\" is not a parameter of the circuit; did you mean "
	       "\"theta\"?", "\"thetaa");
	bad_at("{" HDR RX ",\"pubs\":[{\"parameters\":{\"theta\":1,\"zz\":2}}]}",
	       "\"zz\" is not a parameter of the circuit (its parameters: theta)", "\"zz");
	bad_at("{" HDR RX ",\"pubs\":[{\"parameters\":{}}]}",
	       "pubs[0].parameters: parameter \"theta\" is not bound", "{}");
	bad_at("{" HDR RX ",\"pubs\":[{\"parameters\":{\"theta\":\"1\"}}]}",
	       "pubs[0].parameters.theta: expected a number or an array of numbers, got a string",
	       "\"1\"");
	bad_at("{" HDR RX ",\"pubs\":[{\"parameters\":{\"theta\":[]}}]}",
	       "a sweep needs at least one value", "[]");
	bad_at("{" HDR RX ",\"pubs\":[{\"parameters\":{\"theta\":[1,null]}}]}",
	       "pubs[0].parameters.theta[1]: expected a number, got null", "null");
	bad_at("{" HDR RX ",\"pubs\":[{\"parameters\":{\"theta\":1}},"
	       "{\"parameters\":{\"theta\":[]}}]}",
	       "pubs[1].parameters.theta", "[]");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"pubs\":[{\"parameters\":{\"a\":1}}]}",
	       "\"a\" is not a parameter: the circuit has none", "\"a\"");
	bad_at("{" HDR "\"qubits\":1,"
	       "\"ops\":[{\"gate\":\"rx\",\"qubits\":[0],\"params\":[\"a*b\"]}],"
	       "\"pubs\":[{\"parameters\":{\"a\":[1,2],\"b\":[1,2,3]}}]}",
	       "pubs[0].parameters.b: 3 values, but \"a\" sweeps 2", "[1,2,3]");
	bad_at("{" HDR "\"qubits\":1,"
	       "\"ops\":[{\"gate\":\"rx\",\"qubits\":[0],\"params\":[\"ln(t)\"]}],"
	       "\"pubs\":[{\"parameters\":{\"t\":[1,-1]}}]}",
	       "pubs[0]: at sweep point 1, ops[0].params[0] is not a finite number",
	       "{\"parameters");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"pubs\":[{\"shots\":0}]}",
	       "pubs[0].shots: a Sampler PUB needs at least one shot", "0}");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"shots\":0}",
	       "shots: a Sampler job needs at least one shot", "0}");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"pubs\":[]}", "no PUBs", "[]}");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"pubs\":{}}", "expected an array of PUBs", "{}");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"pubs\":[1]}", "pubs[0]: a PUB is an object",
	       "1]");
#undef RX
}

static void test_observable_errors(void **state)
{
	(void)state;
	/* The column lands on the offending character inside the string. */
	bad_at("{" HDR "\"qubits\":2,\"ops\":[],\"pubs\":[{\"observables\":[\"ZZ\",\"0.5*ZQ\"]}]}",
	       "pubs[0].observables[1]: bad observable at character 6: bad Pauli letter 'Q'",
	       "Q\"");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[],\"pubs\":[{\"observables\":\"ZZZ\"}]}",
	       "pubs[0].observables: bad observable at character 1: "
	       "Pauli string 'ZZZ' has 3 letters",
	       "ZZZ");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[],\"pubs\":[{\"observables\":\"ZZ - 1e999*XX\"}]}",
	       "out of range", "1e999");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[],\"pubs\":[{\"observables\":[]}]}",
	       "at least one observable", "[]}");
	bad_at("{" HDR "\"qubits\":2,\"ops\":[],\"pubs\":[{\"observables\":[1]}]}",
	       "pubs[0].observables[0]: expected a Pauli sum", "1]");
	bad_at("{" HDR "\"qubits\":70,\"ops\":[],\"pubs\":[{\"observables\":\"Z0\"}]}",
	       "observables act on at most 64 qubits, the circuit has 70", "\"Z0");
	/* Without observables a wide circuit is the engine's call. */
	qrtx_job_spec_free(parse_ok("{" HDR "\"qubits\":70,\"ops\":[]}"));
}

static void test_job_field_errors(void **state)
{
	(void)state;
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"backend\":\"cpu\"}",
	       "backend: \"cpu\" is not a backend name", "\"cpu");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"backend\":\"a b@cpu\"}", "not a backend name",
	       "\"a b");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"precision\":\"half\"}",
	       "precision: expected \"double\" or \"single\", got \"half\"", "\"half");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"shots\":1.5}", "expected an integer", "1.5");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"seed\":-1}", "seed: -1 is out of range", "-1");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"priority\":4294967296}", "out of range",
	       "4294967296");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"timeout\":-2}", "timeout: -2 is out of range",
	       "-2");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"memory\":1}",
	       "expected true or false, got an integer",
	       "1}");
	bad_at("{" HDR "\"qubits\":1,\"ops\":[],\"name\":\"a\\nb\"}", "control characters", "\"a");
	parse_bad("{" HDR "\"qubits\":1,\"ops\":[],\"seed\":99999999999999999999}", "invalid JSON",
		  ANY, ANY);
}

/* Every prefix of a rich document fails cleanly (ASan checks the rest). */
static void test_truncations(void **state)
{
	static const char json[] = "{" HDR "\"qregs\":[{\"name\":\"q\",\"size\":3}],"
		"\"cregs\":[{\"name\":\"c\",\"size\":2}],\"ops\":["
		"{\"gate\":\"u3\",\"qubits\":[\"q[0]\"],\"params\":[0.1,\"a\",\"-pi/2\"]},"
		"{\"measure\":\"q[1]\",\"clbit\":1,\"if\":{\"creg\":\"c\",\"value\":3}},"
		"{\"barrier\":[0,1]}],\"pubs\":[{\"parameters\":{\"a\":[1,2]},\"observables\":"
		"[\"0.5*ZZI - Z0\"]}]}";
	size_t n = strlen(json);

	(void)state;
	for (size_t len = 0; len < n; len++) {
		struct qrtx_job_spec *job = NULL;
		struct qrtx_error e = { 0 };

		assert_int_equal(qrtx_graph_parse(json, len, NULL, &job, &e), -EINVAL);
		assert_null(job);
		assert_string_equal(e.file, "<input>");
	}
	qrtx_job_spec_free(parse_ok(json));
}

static void test_deep_nesting(void **state)
{
	size_t depth = 100000, n = 2 * depth + 64;
	char *json = malloc(n);
	struct qrtx_job_spec *job = NULL;
	struct qrtx_error e = { 0 };
	size_t len;

	(void)state;
	assert_non_null(json);
	len = (size_t)snprintf(json, n, "{" HDR "\"x\":");
	memset(json + len, '[', depth);
	memset(json + len + depth, ']', depth);
	len += 2 * depth;
	json[len++] = '}';
	assert_int_equal(qrtx_graph_parse(json, len, "deep.json", &job, &e), -EINVAL);
	assert_null(job);
	assert_non_null(strstr(e.msg, "invalid JSON"));
	free(json);
}

/* A sweep copies its observables to every point: that is bounded. */
static void test_sweep_storage_limit(void **state)
{
	size_t pad = 300000, points = 1000, n = pad + 16 * points + 256, len;
	char *json = malloc(n);
	struct qrtx_job_spec *job = NULL;
	struct qrtx_error e = { 0 };

	(void)state;
	assert_non_null(json);
	len = (size_t)snprintf(json, n, "{" HDR "\"qubits\":1,\"ops\":[{\"gate\":\"rx\","
			       "\"qubits\":[0],\"params\":[\"t\"]}],"
			       "\"pubs\":[{\"observables\":\"Z0");
	memset(json + len, ' ', pad);
	len += pad;
	len += (size_t)snprintf(json + len, n - len, "\",\"parameters\":{\"t\":[0");
	for (size_t i = 1; i < points; i++)
		len += (size_t)snprintf(json + len, n - len, ",%zu", i);
	len += (size_t)snprintf(json + len, n - len, "]}}]}");
	assert_true(len < n);
	assert_int_equal(qrtx_graph_parse(json, len, "t.json", &job, &e), -EINVAL);
	assert_null(job);
	assert_non_null(strstr(e.msg, "pubs[0]: the job's PUBs would take more than 256 MiB"));
	free(json);
}

static void test_parse_file(void **state)
{
	char path[] = "/tmp/qrtx-test-graph-XXXXXX";
	static const char json[] = "{" HDR "\"qubits\":1,"
		"\"ops\":[{\"gate\":\"x\",\"qubits\":[0]}]}";
	struct qrtx_job_spec *job = NULL;
	struct qrtx_error e = { 0 };
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	assert_int_equal(qrtx_graph_parse_file(path, &job, &e), 0);
	assert_int_equal(job->circuit->nops, 1);
	qrtx_job_spec_free(job);
	unlink(path);

	assert_int_equal(qrtx_graph_parse_file(path, &job, &e), -ENOENT);
	assert_null(job);
	assert_string_equal(e.file, path);
	assert_non_null(strstr(e.msg, "cannot read"));

	qrtx_error_clear(&e);
	assert_int_equal(qrtx_graph_parse_file("/tmp", &job, &e), -EISDIR);
}

/* The shipped examples parse; skipped when run away from the tree. */
static void test_examples(void **state)
{
	static const char *const files[] = { "bell.json", "sweep.json", "estimator.json" };
	char path[512];
	const char *src = __FILE__;
	const char *slash = strrchr(src, '/');
	int found = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct qrtx_job_spec *job = NULL;
		struct qrtx_error e = { 0 };

		snprintf(path, sizeof(path), "%.*s/../../examples/%s",
			 slash ? (int)(slash - src) : 1, slash ? src : ".", files[i]);
		if (access(path, R_OK))
			continue;
		found++;
		if (qrtx_graph_parse_file(path, &job, &e))
			print_message("%s:%u:%u: %s\n", e.file, e.line, e.col, e.msg);
		assert_non_null(job);
		if (i == 1)
			assert_int_equal(job->npubs, 5);
		qrtx_job_spec_free(job);
	}
	if (!found)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bell_defaults),
		cmocka_unit_test(test_job_fields),
		cmocka_unit_test(test_registers_and_broadcast),
		cmocka_unit_test(test_params_and_folding),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_estimator),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_register_errors),
		cmocka_unit_test(test_op_errors),
		cmocka_unit_test(test_expression_position),
		cmocka_unit_test(test_binding_errors),
		cmocka_unit_test(test_observable_errors),
		cmocka_unit_test(test_job_field_errors),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_sweep_storage_limit),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
