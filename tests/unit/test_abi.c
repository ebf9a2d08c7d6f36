// SPDX-License-Identifier: MIT
/*
 * The ABI's layout is a promise: field offsets and command numbers may
 * never change once released.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/qrtx.h>

static void test_offsets(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct qrtx_info, qubits), 16);
	assert_int_equal(offsetof(struct qrtx_info, gpu), 48);
	assert_int_equal(offsetof(struct qrtx_info, reserved), 304);
	assert_int_equal(offsetof(struct qrtx_reserve, qubits), 8);
	assert_int_equal(offsetof(struct qrtx_reserve, handle), 48);
	assert_int_equal(offsetof(struct qrtx_reserve, reserved), 56);
	assert_int_equal(offsetof(struct qrtx_resv_desc, granted_ns), 48);
	assert_int_equal(offsetof(struct qrtx_list, reserved), 16);
	assert_int_equal(offsetof(struct qrtx_uring_cmd, reserved), 16);
}

static void test_numbers(void **state)
{
	(void)state;
	/* _IOC(dir, 0xD7, nr, size) as released in ABI 1. */
	assert_int_equal(QRTX_IOC_INFO, 0xc150d700u);
	assert_int_equal(QRTX_IOC_RESERVE, 0xc050d701u);
	assert_int_equal(QRTX_IOC_RELEASE, 0x4010d702u);
	assert_int_equal(QRTX_IOC_LIST, 0xc018d703u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
