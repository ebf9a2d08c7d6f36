// SPDX-License-Identifier: MIT
/*
 * The qrtxd framing (runtime/proto.c): frames round-trip, lengths out of
 * range and nesting too deep are refused, and the frames of qrtxd and its
 * workers carry a raw tail after their JSON, byte for byte, through
 * encode_tail/parse_head and over a socket with send_tail/recv_tail.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "qrtx/proto.h"

static uint32_t frame_len(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void test_roundtrip(void **state)
{
	json_t *o = json_pack("{s:i, s:s}", "id", 7, "op", "ping"), *back;
	unsigned char *b;
	size_t n, need = 0;
	char err[128];

	(void)state;
	assert_int_equal(qrtx_proto_encode(o, &b, &n), 0);
	assert_int_equal(frame_len(b), n - 4);
	/* not whole yet: how much is needed */
	assert_int_equal(qrtx_proto_frame(b, 2, &need), 0);
	assert_int_equal(need, 4);
	assert_int_equal(qrtx_proto_frame(b, n - 1, &need), 0);
	assert_int_equal(need, n);
	assert_int_equal(qrtx_proto_frame(b, n, &need), 1);
	back = qrtx_proto_parse(b + 4, n - 4, err, sizeof(err));
	assert_non_null(back);
	assert_true(json_equal(o, back));
	json_decref(back);
	free(b);
	json_decref(o);
}

static void test_refused(void **state)
{
	unsigned char zero[4] = { 0, 0, 0, 0 }, huge[4] = { 0x7f, 0xff, 0xff, 0xff };
	char deep[4 * QRTX_PROTO_MAX_DEPTH + 8], err[128];
	size_t need, k = 0;

	(void)state;
	assert_int_equal(qrtx_proto_frame(zero, 4, &need), -EMSGSIZE);
	assert_int_equal(qrtx_proto_frame(huge, 4, &need), -EMSGSIZE);
	for (int i = 0; i <= QRTX_PROTO_MAX_DEPTH; i++)
		deep[k++] = '[';
	for (int i = 0; i <= QRTX_PROTO_MAX_DEPTH; i++)
		deep[k++] = ']';
	assert_null(qrtx_proto_parse((unsigned char *)deep, k, err, sizeof(err)));
	assert_non_null(strstr(err, "deeper"));
	assert_null(qrtx_proto_parse((const unsigned char *)"[1]", 3, err, sizeof(err)));
	assert_null(qrtx_proto_parse((const unsigned char *)"{\"a\":", 5, err, sizeof(err)));
}

static void test_tail(void **state)
{
	/* a tail with what JSON would escape, and bytes that look like JSON */
	static const char tail[] = "{\"x\": \"a\\\"b\"}\n\tq[0] -> c[0];\x01}";
	json_t *o = json_pack("{s:s, s:{s:i}}", "job_id", "j1", "artifacts", "t",
			      (int)(sizeof(tail) - 1)), *back;
	unsigned char *b;
	size_t n, used = 0;
	char err[128];

	(void)state;
	assert_int_equal(qrtx_proto_encode_tail(o, tail, sizeof(tail) - 1, &b, &n), 0);
	assert_int_equal(frame_len(b), n - 4);
	back = qrtx_proto_parse_head(b + 4, n - 4, &used, err, sizeof(err));
	assert_non_null(back);
	assert_true(json_equal(o, back));
	assert_int_equal(n - 4 - used, sizeof(tail) - 1);
	assert_memory_equal(b + 4 + used, tail, sizeof(tail) - 1);
	json_decref(back);
	free(b);
	/* no tail: the plain frame */
	assert_int_equal(qrtx_proto_encode_tail(o, NULL, 0, &b, &n), 0);
	back = qrtx_proto_parse_head(b + 4, n - 4, &used, err, sizeof(err));
	assert_non_null(back);
	assert_int_equal(used, n - 4);
	json_decref(back);
	free(b);
	/* a payload that does not start with an object */
	assert_null(qrtx_proto_parse_head((const unsigned char *)"[1]x", 4, &used, err,
					  sizeof(err)));
	json_decref(o);
}

/* A member added as raw text: the frame parses to the object with it. */
static void test_member(void **state)
{
	static const char raw[] = "{\"counts\":{\"00\":3,\"11\":5},\"s\":\"a\\\"}\"}";
	json_t *o = json_pack("{s:b, s:{s:s}}", "ok", 1, "job", "id", "j1"), *back, *want;
	unsigned char *b;
	size_t n, need;
	char err[128];

	(void)state;
	assert_int_equal(qrtx_proto_encode_member(o, "results", raw, &b, &n), 0);
	assert_int_equal(frame_len(b), n - 4);
	assert_int_equal(qrtx_proto_frame(b, n, &need), 1);
	assert_int_equal(need, n);
	back = qrtx_proto_parse(b + 4, n - 4, err, sizeof(err));
	assert_non_null(back);
	want = json_deep_copy(o);
	json_object_set_new(want, "results", json_loads(raw, 0, NULL));
	assert_true(json_equal(want, back));
	json_decref(want);
	json_decref(back);
	free(b);
	/* into an empty object: no leading comma */
	json_decref(o);
	o = json_object();
	assert_int_equal(qrtx_proto_encode_member(o, "r", "[1]", &b, &n), 0);
	assert_int_equal(n - 4, strlen("{\"r\":[1]}"));
	assert_memory_equal(b + 4, "{\"r\":[1]}", n - 4);
	free(b);
	/* not an object */
	json_decref(o);
	o = json_array();
	assert_int_equal(qrtx_proto_encode_member(o, "r", "1", &b, &n), -EINVAL);
	assert_null(b);
	json_decref(o);
}

static void test_socket_tail(void **state)
{
	static const char tail[] = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\n";
	json_t *o = json_pack("{s:s}", "op", "run"), *back = NULL;
	unsigned char *payload = NULL;
	size_t len = 0, used = 0;
	char err[128];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(qrtx_proto_send_tail(sv[0], o, tail, sizeof(tail) - 1), 0);
	assert_int_equal(qrtx_proto_recv_tail(sv[1], &back, &payload, &len, &used, err,
					      sizeof(err)), 0);
	assert_true(json_equal(o, back));
	assert_int_equal(len - used, sizeof(tail) - 1);
	assert_memory_equal(payload + used, tail, sizeof(tail) - 1);
	json_decref(back);
	free(payload);
	/* a clean end of stream */
	close(sv[0]);
	assert_int_equal(qrtx_proto_recv_tail(sv[1], &back, &payload, &len, &used, err,
					      sizeof(err)), -ECONNRESET);
	assert_null(back);
	assert_null(payload);
	close(sv[1]);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_member),
		cmocka_unit_test(test_socket_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
