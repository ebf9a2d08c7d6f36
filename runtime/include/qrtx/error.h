/* SPDX-License-Identifier: MIT */
/*
 * Errors reported to a user: one message with where it happened.
 * Front ends fill file/line/column (1-based; 0 when not applicable) so the
 * CLI prints "file:line:column: message".
 */
#ifndef QRTX_ERROR_H
#define QRTX_ERROR_H

#include <stddef.h>

/* The design's error categories; the job state machine reports them. */
enum qrtx_error_category {
	QRTX_ERR_NONE = 0,
	QRTX_ERR_VALIDATION,
	QRTX_ERR_COMPILE,
	QRTX_ERR_ALLOCATION,
	QRTX_ERR_EXECUTE,
	QRTX_ERR_PERSIST,
};

struct qrtx_error {
	enum qrtx_error_category category;
	int code;		/* -errno where one applies, else -EINVAL */
	char file[256];
	unsigned int line, col;
	char msg[512];
};

/* Record the first error only: later calls do not overwrite it. */
void qrtx_error_set(struct qrtx_error *e, enum qrtx_error_category cat,
		    int code, const char *file, unsigned int line,
		    unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void qrtx_error_clear(struct qrtx_error *e);
/* "file:line:col: msg", "file: msg" or "msg", whichever is known. */
int qrtx_error_format(const struct qrtx_error *e, char *buf, size_t len);
const char *qrtx_error_category_name(enum qrtx_error_category cat);

#endif
