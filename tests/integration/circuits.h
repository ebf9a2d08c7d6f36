/* SPDX-License-Identifier: MIT */
/*
 * Circuits the daemon tests submit: a Bell pair, and layers that run for
 * a while.
 */
#ifndef QRTX_TEST_CIRCUITS_H
#define QRTX_TEST_CIRCUITS_H

#include <stdio.h>
#include <stdlib.h>

static const char *const bell =
	"OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\n"
	"h q[0];\ncx q[0],q[1];\nmeasure q -> c;\n";

/* Layers of u3 on n qubits and cx between neighbours (24 qubits and 40
 * layers: seconds). malloc'd. */
static inline char *layered_source(int n, int layers)
{
	size_t cap = 1 << 20, len = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	len += (size_t)snprintf(s + len, cap - len,
				"OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[%d];\ncreg c[%d];\n",
				n, n);
	for (int l = 0; l < layers; l++) {
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(s + len, cap - len, "u3(%d.1,%d.2,%d.3) q[%d];\n",
						l, i, l + i, i);
		for (int i = l % 2; i + 1 < n; i += 2)
			len += (size_t)snprintf(s + len, cap - len, "cx q[%d],q[%d];\n", i, i + 1);
	}
	snprintf(s + len, cap - len, "measure q -> c;\n");
	return s;
}

#endif
