// SPDX-License-Identifier: MIT
/*
 * qrtx: the command-line front end. It parses arguments and prints; the
 * work is done by libqrtx.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "qrtx/gpusv.h"
#include "qrtx/resource.h"

#define QRTX_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qrtx COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  run FILE        run a circuit (OpenQASM 2.0 or JSON graph) in this\n"
		"                  process and print its results; 'qrtx run --help'\n"
		"  info [--json]   show the resource pools: logical qubits, host state\n"
		"                  memory and GPU memory, their totals and use, from\n"
		"                  /dev/qrtx when the module is loaded, else from the\n"
		"                  in-process ledger\n"
		"\n"
		"Jobs run by the daemon, qrtxd ('qrtx COMMAND --help' for each):\n"
		"  submit FILE     send a circuit to qrtxd; print its job id (--wait: and\n"
		"                  its results)\n"
		"  status JOB_ID   show a job's state\n"
		"  wait JOB_ID     wait until a job ends\n"
		"  result JOB_ID   print a finished job's results\n"
		"  cancel JOB_ID   cancel a job\n"
		"  list            list your jobs (--state STATE: those in one state)\n"
		"  stats           show qrtxd's counters\n"
		"  top             a live view of qrtxd: counters, pools, unfinished jobs\n"
		"  gc              remove the artifacts of old finished jobs\n"
		"  These take --socket PATH (default: $QRTX_SOCKET, /run/qrtx/qrtxd.sock\n"
		"  for root, else <state dir>/qrtxd.sock) and --json.\n"
		"\n"
		"Options:\n"
		"  -h, --help      show this help\n"
		"  --version       show the version and the ABI version\n"
		"\n"
		"Exit status: 0 success, 1 the command failed (or the daemon reported an\n"
		"error, or the job failed), 2 bad usage, 3 invalid input (qrtx run) or an\n"
		"input file that cannot be read (qrtx submit), 4 qrtx wait timed out,\n"
		"5 qrtxd cannot be reached.\n");
}

static void print_pool(const char *name, const struct qrtx_pool_stat *p)
{
	printf("%-12s %20llu %20llu\n", name,
	       (unsigned long long)p->total, (unsigned long long)p->used);
}

/* The backends qrtx run and qrtxd take, and whether they run here. */
static json_t *executors(void)
{
	json_t *o = json_object(), *cuda = json_object(), *devs = json_array();
	char why[256];
	int n = qrtx_gpu_available(why, sizeof(why));

	json_object_set_new(o, "ideal@cpu", json_pack("{s:b}", "available", 1));
	json_object_set_new(cuda, "available", json_boolean(n > 0));
	if (n <= 0)
		json_object_set_new(cuda, "reason", json_string(why));
	for (int d = 0; d < n; d++) {
		char name[256];

		qrtx_gpu_name(d, name, sizeof(name));
		json_array_append_new(devs, json_string(name));
	}
	json_object_set_new(cuda, "devices", devs);
	json_object_set_new(o, "ideal@cuda", cuda);
	return o;
}

static void print_executors_json(void)
{
	json_t *o = executors();
	char *s = json_dumps(o, JSON_COMPACT);

	fputs(s ? s : "{}", stdout);
	free(s);
	json_decref(o);
}

static void print_executors(void)
{
	json_t *o = executors(), *cuda = json_object_get(o, "ideal@cuda"), *d;
	size_t i;

	printf("\nbackends:\n  ideal@cpu    available\n");
	if (json_is_true(json_object_get(cuda, "available"))) {
		printf("  ideal@cuda   available:");
		json_array_foreach(json_object_get(cuda, "devices"), i, d)
			printf("%s device %zu: %s", i ? ";" : "", i, json_string_value(d));
		printf("\n");
	} else {
		printf("  ideal@cuda   not available: %s\n",
		       json_string_value(json_object_get(cuda, "reason")));
	}
	json_decref(o);
}

static int cmd_info(int argc, char **argv)
{
	struct qrtx_info info = { 0 };
	struct qrtx_res *res;
	bool json = false;
	int err;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "qrtx info: unknown option '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	err = qrtx_res_open(NULL, &res);
	if (err) {
		fprintf(stderr, "qrtx info: cannot open /dev/qrtx: %s\n", strerror(-err));
		return EXIT_FAIL;
	}
	err = qrtx_res_info(res, &info);
	if (err) {
		fprintf(stderr, "qrtx info: %s\n", strerror(-err));
		qrtx_res_close(res);
		return EXIT_FAIL;
	}
	if (json) {
		printf("{\"backend\":\"%s\",\"abi_version\":%u,"
		       "\"qubits\":{\"total\":%llu,\"used\":%llu},"
		       "\"host_bytes\":{\"total\":%llu,\"used\":%llu},"
		       "\"gpus\":[",
		       qrtx_res_backend_name(res), info.abi_version,
		       (unsigned long long)info.qubits.total,
		       (unsigned long long)info.qubits.used,
		       (unsigned long long)info.host_bytes.total,
		       (unsigned long long)info.host_bytes.used);
		for (uint32_t i = 0; i < info.gpu_count; i++)
			printf("%s{\"total\":%llu,\"used\":%llu}",
			       i ? "," : "", (unsigned long long)info.gpu[i].total,
			       (unsigned long long)info.gpu[i].used);
		printf("],\"executors\":");
		print_executors_json();
		printf("}\n");
	} else {
		printf("backend: %s (ABI %u)\n", qrtx_res_backend_name(res),
		       info.abi_version);
		printf("%-12s %20s %20s\n", "pool", "total", "used");
		print_pool("qubits", &info.qubits);
		print_pool("host_bytes", &info.host_bytes);
		for (uint32_t i = 0; i < info.gpu_count; i++) {
			char name[32];

			snprintf(name, sizeof(name), "gpu%u_bytes", i);
			print_pool(name, &info.gpu[i]);
		}
		print_executors();
	}
	qrtx_res_close(res);
	return EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} verbs[] = {
	{ "submit", qrtx_cli_submit },
	{ "status", qrtx_cli_status },
	{ "wait", qrtx_cli_wait },
	{ "result", qrtx_cli_result },
	{ "cancel", qrtx_cli_cancel },
	{ "list", qrtx_cli_list },
	{ "stats", qrtx_cli_stats },
	{ "top", qrtx_cli_top },
	{ "gc", qrtx_cli_gc },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("qrtx %s (ABI %d)\n", QRTX_VERSION, QRTX_ABI_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "run"))
		return qrtx_cli_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 2, argv + 2);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "qrtx: unknown command '%s' (see 'qrtx --help')\n", argv[1]);
	return EXIT_USAGE;
}
