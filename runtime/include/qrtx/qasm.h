/* SPDX-License-Identifier: MIT */
/*
 * OpenQASM 2.0 front end: text to circuit IR. include "qelib1.inc" is the
 * built-in gate library (gates.h); other includes are read relative to the
 * including file. User gate definitions are inlined. Errors are reported
 * as file:line:column: message.
 */
#ifndef QRTX_QASM_H
#define QRTX_QASM_H

#include <stddef.h>

#include "qrtx/circuit.h"
#include "qrtx/error.h"

/* filename is used in messages and to resolve includes. It may be NULL
 * ("<input>" in messages): then only include "qelib1.inc" is allowed, so
 * untrusted text never reaches the filesystem. */
int qrtx_qasm_parse(const char *text, size_t len, const char *filename,
		    struct qrtx_circuit **out, struct qrtx_error *err);
int qrtx_qasm_parse_file(const char *path, struct qrtx_circuit **out,
			 struct qrtx_error *err);
/* Write c as OpenQASM 2.0 that qrtx_qasm_parse reads back to the same
 * circuit (parameters bound with symbol_values, or printed as
 * expressions when NULL and the circuit has no symbols). Returns 0 or
 * -errno; *out is malloc'd text. */
int qrtx_qasm_write(const struct qrtx_circuit *c, const double *symbol_values,
		    char **out);

#endif
