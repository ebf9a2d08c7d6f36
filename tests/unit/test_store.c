// SPDX-License-Identifier: MIT
/* circuit_fs: job directories and atomic, private artifact writes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "qrtx/store.h"

static char root[256];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/qrtx-store-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_write_read(void **state)
{
	struct qrtx_store *s;
	struct qrtx_error err = { 0 };
	char id[QRTX_JOB_ID_MAX], id2[QRTX_JOB_ID_MAX], path[4096], buf[64] = { 0 };
	struct stat st;
	FILE *f;

	(void)state;
	assert_int_equal(qrtx_store_open(root, &s, &err), 0);
	assert_int_equal(qrtx_store_new_job(s, id, &err), 0);
	assert_int_equal(qrtx_store_new_job(s, id2, &err), 0);
	assert_string_not_equal(id, id2);
	assert_int_equal(qrtx_store_write(s, id, "results.json", "{\"a\":1}", 7, &err), 0);
	assert_int_equal(qrtx_store_write(s, id, "results.json", "{\"b\":2}", 7, &err), 0);
	assert_int_equal(qrtx_store_path(s, id, "results.json", path, sizeof(path)), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 7);
	fclose(f);
	assert_string_equal(buf, "{\"b\":2}");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(qrtx_store_path(s, id, NULL, path, sizeof(path)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* No temporary file is left behind. */
	strcat(path, "/.results.json.tmp");
	assert_int_equal(access(path, F_OK), -1);
	qrtx_store_close(s);
}

static void test_errors(void **state)
{
	struct qrtx_store *s;
	struct qrtx_error err = { 0 };

	(void)state;
	assert_int_equal(qrtx_store_open(root, &s, &err), 0);
	assert_int_equal(qrtx_store_write(s, "no-such-job", "meta.json", "x", 1, &err), -ENOENT);
	assert_int_equal(err.category, QRTX_ERR_PERSIST);
	assert_non_null(strstr(err.file, "no-such-job/meta.json"));
	qrtx_store_close(s);
	qrtx_error_clear(&err);
	assert_int_equal(qrtx_store_open("/proc/qrtx-cannot-exist", &s, &err), -ENOENT);
	assert_int_equal(err.category, QRTX_ERR_PERSIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
