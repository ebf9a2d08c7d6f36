// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qrtx/error.h"

void qrtx_error_clear(struct qrtx_error *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

void qrtx_error_set(struct qrtx_error *e, enum qrtx_error_category cat,
		    int code, const char *file, unsigned int line,
		    unsigned int col, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->category != QRTX_ERR_NONE)
		return;
	e->category = cat;
	e->code = code;
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int qrtx_error_format(const struct qrtx_error *e, char *buf, size_t len)
{
	if (e->file[0] && e->line && e->col)
		return snprintf(buf, len, "%s:%u:%u: %s", e->file, e->line, e->col, e->msg);
	if (e->file[0] && e->line)
		return snprintf(buf, len, "%s:%u: %s", e->file, e->line, e->msg);
	if (e->file[0])
		return snprintf(buf, len, "%s: %s", e->file, e->msg);
	return snprintf(buf, len, "%s", e->msg);
}

const char *qrtx_error_category_name(enum qrtx_error_category cat)
{
	static const char *const names[] = {
		[QRTX_ERR_NONE] = "None",
		[QRTX_ERR_VALIDATION] = "ValidationError",
		[QRTX_ERR_COMPILE] = "CompileError",
		[QRTX_ERR_ALLOCATION] = "AllocationError",
		[QRTX_ERR_EXECUTE] = "ExecuteError",
		[QRTX_ERR_PERSIST] = "PersistError",
	};

	if ((unsigned int)cat >= sizeof(names) / sizeof(names[0]))
		return "UnknownError";
	return names[cat];
}
