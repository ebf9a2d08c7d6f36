// SPDX-License-Identifier: MIT
/*
 * JSON graph front end: a "qrtx-graph" document (one circuit, job options
 * and PUBs) to a struct qrtx_job_spec. The format is specified in
 * Documentation/runtime/graph-format.rst; this file is its reference
 * reader and is strict on purpose: unknown fields, wrong types and
 * anything out of range are errors, because a silently ignored typo
 * ("shtos") runs the wrong experiment.
 *
 * Errors name the JSON path of the offending value (ops[3].qubits[1]) and,
 * since jansson keeps no positions for values, its line and column are
 * found again by walking the (already validated) text along that path.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "qrtx/expr.h"
#include "qrtx/job.h"

#define GRAPH_FORMAT	"qrtx-graph"
#define GRAPH_VERSION	1

/* Format limits (documented): they keep every allocation proportional to
 * the input and far below anything an engine could run anyway. */
#define GRAPH_MAX_QUBITS	1024
#define GRAPH_MAX_CLBITS	1024
#define GRAPH_MAX_SHOTS		(1ULL << 53)	/* exact in a JSON double */
#define GRAPH_MAX_PUBS		(1u << 20)
/* What the PUBs of a job may take once sweeps are expanded: every point
 * holds its own values and copies of its observables. */
#define GRAPH_MAX_PUB_BYTES	(256ull << 20)
#define GRAPH_MAX_TIMEOUT	(365.0 * 86400.0)
#define GRAPH_MAX_FILE		(256u << 20)
#define OBS_MAX_QUBITS		64

/* Deepest path we ever name: pubs[i].parameters.name[j] is 5. */
#define PATH_MAX_DEPTH 8

struct path_elem {
	const json_t *parent;	/* object holding key; NULL for an index */
	const char *key;
	size_t index;
};

struct gctx {
	const char *text;
	size_t len;
	const char *file;
	struct qrtx_error *err;
	struct path_elem path[PATH_MAX_DEPTH];
	int depth;
	struct qrtx_circuit *c;
	struct qrtx_job_spec *job;
	uint64_t pub_bytes;	/* what the PUBs stored so far take */
	size_t pubs_cap;	/* job->pubs has room for this many */
	/* Parameters that stay expressions, checked per PUB point. */
	struct { uint32_t op, param; } *exprs;
	size_t nexprs;
};

/* ---- locating a path in the text ------------------------------------ */

static size_t skip_ws(const struct gctx *g, size_t pos)
{
	while (pos < g->len && (g->text[pos] == ' ' || g->text[pos] == '\t' ||
				g->text[pos] == '\n' || g->text[pos] == '\r'))
		pos++;
	return pos;
}

static size_t skip_string(const struct gctx *g, size_t pos)
{
	for (pos++; pos < g->len; pos++) {
		if (g->text[pos] == '\\')
			pos++;
		else if (g->text[pos] == '"')
			return pos + 1;
	}
	return g->len;
}

/* The text was accepted by jansson, so a bracket count is enough. */
static size_t skip_value(const struct gctx *g, size_t pos)
{
	size_t depth = 0;

	if (pos >= g->len)
		return g->len;
	if (g->text[pos] == '"')
		return skip_string(g, pos);
	if (g->text[pos] != '{' && g->text[pos] != '[') {
		while (pos < g->len && !strchr(",}] \t\r\n", g->text[pos]))
			pos++;
		return pos;
	}
	while (pos < g->len) {
		char ch = g->text[pos];

		if (ch == '"') {
			pos = skip_string(g, pos);
			continue;
		}
		if (ch == '{' || ch == '[')
			depth++;
		else if ((ch == '}' || ch == ']') && --depth == 0)
			return pos + 1;
		pos++;
	}
	return g->len;
}

/* Index of key among parent's members in document order: jansson
 * iterates objects in insertion order, and duplicates are rejected. */
static long member_ordinal(const json_t *parent, const char *key)
{
	const char *k;
	json_t *v;
	long n = 0;

	json_object_foreach((json_t *)parent, k, v) {
		if (!strcmp(k, key))
			return n;
		n++;
	}
	return -1;
}

/* Byte offset of the value (or, with want_key, the key) at path[0..depth). */
static bool locate(const struct gctx *g, int depth, bool want_key, size_t *off)
{
	size_t pos = skip_ws(g, 0);

	if (depth > PATH_MAX_DEPTH)
		return false;
	for (int i = 0; i < depth; i++) {
		const struct path_elem *e = &g->path[i];

		if (e->key) {
			long want = member_ordinal(e->parent, e->key);

			if (want < 0 || pos >= g->len || g->text[pos] != '{')
				return false;
			pos++;
			for (long k = 0;; k++) {
				size_t key_pos;

				pos = skip_ws(g, pos);
				if (pos >= g->len || g->text[pos] != '"')
					return false;
				key_pos = pos;
				pos = skip_ws(g, skip_string(g, pos));
				if (pos >= g->len || g->text[pos] != ':')
					return false;
				pos = skip_ws(g, pos + 1);
				if (k == want) {
					if (want_key && i == depth - 1) {
						*off = key_pos;
						return true;
					}
					break;
				}
				pos = skip_ws(g, skip_value(g, pos));
				if (pos >= g->len || g->text[pos] != ',')
					return false;
				pos++;
			}
		} else {
			if (pos >= g->len || g->text[pos] != '[')
				return false;
			pos++;
			for (size_t k = 0; k < e->index; k++) {
				pos = skip_ws(g, skip_value(g, skip_ws(g, pos)));
				if (pos >= g->len || g->text[pos] != ',')
					return false;
				pos++;
			}
			pos = skip_ws(g, pos);
		}
	}
	if (pos >= g->len)
		return false;
	*off = pos;
	return true;
}

/* Line and column advance together so that a walk over all ops stays
 * linear. Columns count characters, as jansson's do (UTF-8 continuation
 * bytes are not counted). */
struct lc_cursor {
	size_t off;
	unsigned int line, col;
};

static void lc_advance(const struct gctx *g, struct lc_cursor *cur, size_t off)
{
	for (; cur->off < off && cur->off < g->len; cur->off++) {
		unsigned char ch = (unsigned char)g->text[cur->off];

		if (ch == '\n') {
			cur->line++;
			cur->col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			cur->col++;
		}
	}
}

/* ---- errors ---------------------------------------------------------- */

/* A user string fit for a message: printable ASCII, at most 40 chars. */
static const char *clip(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 4 < size && n < 40; s++)
		buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s)
		n += (size_t)snprintf(buf + n, size - n, "...");
	buf[n < size ? n : size - 1] = '\0';
	return buf;
}

static void path_string(const struct gctx *g, int depth, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < depth && i < PATH_MAX_DEPTH && n < size; i++) {
		const struct path_elem *e = &g->path[i];
		char tmp[64];

		if (e->key)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? "." : "",
					      clip(e->key, tmp, sizeof(tmp)));
		else
			n += (size_t)snprintf(buf + n, size - n, "[%zu]", e->index);
	}
}

enum loc { LOC_VALUE, LOC_KEY };

/* Record the error at the current path. inner > 0 points at that
 * character (1-based) inside a string value, when the string has no
 * escapes and the column can therefore be computed. Always -EINVAL. */
static int vfail(struct gctx *g, enum loc how, size_t inner, const char *fmt, va_list ap)
{
	struct lc_cursor cur = { .line = 1, .col = 1 };
	char msg[400], path[200];
	int depth = how == LOC_KEY ? g->depth - 1 : g->depth;
	size_t off;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	path_string(g, depth, path, sizeof(path));
	if (locate(g, g->depth, how == LOC_KEY, &off)) {
		if (inner && how == LOC_VALUE && g->text[off] == '"') {
			size_t end = skip_string(g, off);

			if (!memchr(g->text + off, '\\', end - off) && off + inner <= end - 1)
				off += inner;
		}
		lc_advance(g, &cur, off);
	} else {
		cur.line = cur.col = 0;
	}
	qrtx_error_set(g->err, QRTX_ERR_VALIDATION, -EINVAL, g->file, cur.line, cur.col,
		       "%s%s%s", path, path[0] ? ": " : "", msg);
	return -EINVAL;
}

static int fail(struct gctx *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct gctx *g, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(g, LOC_VALUE, 0, fmt, ap);
	va_end(ap);
	return ret;
}

static int fail_key(struct gctx *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_key(struct gctx *g, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(g, LOC_KEY, 0, fmt, ap);
	va_end(ap);
	return ret;
}

static int fail_inner(struct gctx *g, size_t inner, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_inner(struct gctx *g, size_t inner, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(g, LOC_VALUE, inner, fmt, ap);
	va_end(ap);
	return ret;
}

static int oom(struct gctx *g)
{
	qrtx_error_set(g->err, QRTX_ERR_VALIDATION, -ENOMEM, g->file, 0, 0,
		       "out of memory reading the graph");
	return -ENOMEM;
}

static void push_key(struct gctx *g, const json_t *parent, const char *key)
{
	if (g->depth < PATH_MAX_DEPTH)
		g->path[g->depth] = (struct path_elem){ .parent = parent, .key = key };
	g->depth++;
}

static void push_index(struct gctx *g, size_t index)
{
	if (g->depth < PATH_MAX_DEPTH)
		g->path[g->depth] = (struct path_elem){ .index = index };
	g->depth++;
}

static void pop(struct gctx *g)
{
	g->depth--;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:	return "an object";
	case JSON_ARRAY:	return "an array";
	case JSON_STRING:	return "a string";
	case JSON_INTEGER:	return "an integer";
	case JSON_REAL:		return "a real number";
	case JSON_TRUE:		return "true";
	case JSON_FALSE:	return "false";
	case JSON_NULL:		return "null";
	}
	return "something else";
}

/* ---- suggestions ----------------------------------------------------- */

/* Optimal string alignment distance, case-insensitive; long strings are
 * never typos of our short names. */
static unsigned int edit_distance(const char *a, const char *b)
{
	enum { N = 64 };
	unsigned int d[3][N + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > N || lb > N)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int *cur = d[i % 3], *prev = d[(i - 1) % 3], *pp = d[(i + 1) % 3];

		cur[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int cost = tolower((unsigned char)a[i - 1]) !=
					    tolower((unsigned char)b[j - 1]);
			unsigned int v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

static const char *suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned int best_d = UINT_MAX;

	for (size_t i = 0; i < n; i++) {
		unsigned int d = edit_distance(word, cands[i]);
		unsigned int limit = strlen(cands[i]) <= 4 ? 1 : 2;

		if (d <= limit && d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

/* "a, b, c" (clipped) into buf. */
static const char *join(const char *const *names, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len + 8 < size; i++) {
		int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);

		if (w < 0 || (size_t)w >= size - len) {
			snprintf(buf + len, size - len, "...");
			break;
		}
		len += (size_t)w;
	}
	return buf;
}

static size_t count_names(const char *const *names)
{
	size_t n = 0;

	while (names[n])
		n++;
	return n;
}

/* Reject any member of obj not in known (NULL-terminated). */
static int check_fields(struct gctx *g, const json_t *obj, const char *const *known)
{
	size_t n = count_names(known);
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		const char *best;
		char kb[64], list[256];
		bool ok = false;

		for (size_t i = 0; i < n && !ok; i++)
			ok = !strcmp(key, known[i]);
		if (ok)
			continue;
		push_key(g, obj, key);
		best = suggest(key, known, n);
		if (best)
			return fail_key(g, "unknown field \"%s\"; did you mean \"%s\"?",
					clip(key, kb, sizeof(kb)), best);
		return fail_key(g, "unknown field \"%s\" (known fields: %s)",
				clip(key, kb, sizeof(kb)), join(known, n, list, sizeof(list)));
	}
	return 0;
}

/* ---- scalars --------------------------------------------------------- */

static int want_int(struct gctx *g, const json_t *v, long long min, long long max,
		    long long *out)
{
	long long n;

	if (!json_is_integer(v))
		return fail(g, "expected an integer, got %s", type_name(v));
	n = json_integer_value(v);
	if (n < min || n > max)
		return fail(g, "%lld is out of range (%lld to %lld)", n, min, max);
	*out = n;
	return 0;
}

static int want_string(struct gctx *g, const json_t *v, const char **out)
{
	if (!json_is_string(v))
		return fail(g, "expected a string, got %s", type_name(v));
	*out = json_string_value(v);
	return 0;
}

/* ---- registers ------------------------------------------------------- */

static bool valid_reg_name(const char *s)
{
	static const char *const reserved[] = {
		"barrier", "cos", "creg", "exp", "gate", "if", "include", "ln",
		"measure", "opaque", "pi", "qreg", "reset", "sin", "sqrt", "tan",
	};
	size_t n = strlen(s);

	/* Names must survive the trip through compiled.qasm. */
	if (!n || n >= QRTX_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(s, reserved[i]))
			return false;
	return true;
}

static void reg_names(const struct qrtx_reg *regs, uint32_t n, char *buf, size_t size)
{
	const char *names[16];
	uint32_t k = n < 16 ? n : 16;

	for (uint32_t i = 0; i < k; i++)
		names[i] = regs[i].name;
	join(names, k, buf, size);
}

static int parse_regs(struct gctx *g, const json_t *root, bool quantum)
{
	static const char *const reg_fields[] = { "name", "size", NULL };
	const char *count_key = quantum ? "qubits" : "clbits";
	const char *regs_key = quantum ? "qregs" : "cregs";
	const char *what = quantum ? "qubits" : "classical bits";
	const uint32_t max = quantum ? GRAPH_MAX_QUBITS : GRAPH_MAX_CLBITS;
	json_t *count = json_object_get(root, count_key);
	json_t *regs = json_object_get(root, regs_key);
	struct qrtx_circuit *c = g->c;
	uint64_t total = 0;
	long long n;
	int ret;

	if (count && regs) {
		push_key(g, root, regs_key);
		return fail_key(g, "give \"%s\" or \"%s\", not both", count_key, regs_key);
	}
	if (!count && !regs) {
		if (!quantum)
			return 0;
		return fail(g, "missing \"qubits\" (a count) or \"qregs\" (named registers)");
	}
	if (count) {
		push_key(g, root, count_key);
		ret = want_int(g, count, quantum ? 1 : 0, max, &n);
		if (ret)
			return ret;
		pop(g);
		if (!n)
			return 0;
		if (!quantum && qrtx_circuit_find_qreg(c, "c")) {
			push_key(g, root, count_key);
			return fail(g, "the implicit register \"c\" clashes with the "
				    "quantum register \"c\"; declare \"cregs\" instead");
		}
		ret = quantum ? qrtx_circuit_add_qreg(c, "q", (uint32_t)n) :
				qrtx_circuit_add_creg(c, "c", (uint32_t)n);
		return ret ? oom(g) : 0;
	}

	push_key(g, root, regs_key);
	if (!json_is_array(regs))
		return fail(g, "expected an array of {\"name\", \"size\"}, got %s",
			    type_name(regs));
	if (quantum && !json_array_size(regs))
		return fail(g, "a circuit needs at least one qubit");
	for (size_t i = 0; i < json_array_size(regs); i++) {
		json_t *r = json_array_get(regs, i), *name, *size;
		const char *s = "";
		char nb[64];

		push_index(g, i);
		if (!json_is_object(r))
			return fail(g, "expected {\"name\": ..., \"size\": ...}, got %s",
				    type_name(r));
		ret = check_fields(g, r, reg_fields);
		if (ret)
			return ret;
		name = json_object_get(r, "name");
		size = json_object_get(r, "size");
		if (!name)
			return fail(g, "missing \"name\"");
		if (!size)
			return fail(g, "missing \"size\"");
		push_key(g, r, "name");
		ret = want_string(g, name, &s);
		if (ret)
			return ret;
		if (!valid_reg_name(s))
			return fail(g, "\"%s\" is not a register name (a lower-case letter, then "
				    "letters, digits or _, not a QASM keyword)",
				    clip(s, nb, sizeof(nb)));
		if (qrtx_circuit_find_qreg(c, s) || qrtx_circuit_find_creg(c, s))
			return fail(g, "register \"%s\" is declared twice (quantum and classical "
				    "registers share one namespace)", s);
		pop(g);
		push_key(g, r, "size");
		ret = want_int(g, size, 1, max, &n);
		if (ret)
			return ret;
		total += (uint64_t)n;
		if (total > max)
			return fail(g, "more than %u %s in all", max, what);
		ret = quantum ? qrtx_circuit_add_qreg(c, s, (uint32_t)n) :
				qrtx_circuit_add_creg(c, s, (uint32_t)n);
		if (ret)
			return ret == -ENOMEM ? oom(g) : fail(g, "cannot add register");
		pop(g);
		pop(g);
	}
	pop(g);
	return 0;
}

/* A bit operand: an integer (global index), "reg[i]", or, where a whole
 * register may stand (allow_reg), "reg". Yields a range of global bits. */
static int parse_bits(struct gctx *g, const json_t *v, bool quantum, bool allow_reg,
		      uint32_t *first, uint32_t *count)
{
	const struct qrtx_circuit *c = g->c;
	const char *what = quantum ? "qubit" : "classical bit";
	uint32_t nbits = quantum ? c->nqubits : c->nclbits;
	const struct qrtx_reg *reg;
	char name[QRTX_NAME_MAX], sb[64], list[256];
	const char *s, *br;
	size_t nlen;

	if (json_is_integer(v)) {
		long long i = json_integer_value(v);

		if (!nbits)
			return fail(g, "the circuit has no classical bits (declare \"clbits\" or "
				    "\"cregs\")");
		if (i < 0 || i >= nbits)
			return fail(g, "%s %lld out of range (the circuit has %u %ss)",
				    what, i, nbits, what);
		*first = (uint32_t)i;
		*count = 1;
		return 0;
	}
	if (!json_is_string(v))
		return fail(g, "expected a %s index or \"reg[i]\", got %s", what, type_name(v));
	s = json_string_value(v);
	br = strchr(s, '[');
	nlen = br ? (size_t)(br - s) : strlen(s);
	if (!nlen || nlen >= sizeof(name))
		return fail(g, "bad %s reference \"%s\" (write an index or \"reg[i]\")",
			    what, clip(s, sb, sizeof(sb)));
	memcpy(name, s, nlen);
	name[nlen] = '\0';
	reg = quantum ? qrtx_circuit_find_qreg(c, name) : qrtx_circuit_find_creg(c, name);
	if (!reg) {
		if (quantum ? qrtx_circuit_find_creg(c, name) : qrtx_circuit_find_qreg(c, name))
			return fail(g, "\"%s\" is a %s register, expected a %s one", name,
				    quantum ? "classical" : "quantum",
				    quantum ? "quantum" : "classical");
		if (quantum)
			reg_names(c->qregs, c->nqregs, list, sizeof(list));
		else
			reg_names(c->cregs, c->ncregs, list, sizeof(list));
		return fail(g, "no %s register named \"%s\"%s%s%s",
			    quantum ? "quantum" : "classical",
			    clip(name, sb, sizeof(sb)), list[0] ? " (registers: " : "", list,
			    list[0] ? ")" : "");
	}
	if (!br) {
		if (!allow_reg)
			return fail(g, "\"%s\" is a whole register; name one %s, e.g. \"%s[0]\"",
				    name, what, name);
		*first = reg->offset;
		*count = reg->size;
		return 0;
	}
	{
		const char *p = br + 1;
		unsigned long long idx = 0;

		if (!isdigit((unsigned char)*p))
			return fail(g, "bad %s reference \"%s\" (write \"%s[i]\")", what,
				    clip(s, sb, sizeof(sb)), name);
		for (; isdigit((unsigned char)*p); p++) {
			idx = idx * 10 + (unsigned long long)(*p - '0');
			if (idx > UINT32_MAX)
				return fail(g, "index in \"%s\" is too large",
					    clip(s, sb, sizeof(sb)));
		}
		if (p[0] != ']' || p[1])
			return fail(g, "bad %s reference \"%s\" (write \"%s[i]\")", what,
				    clip(s, sb, sizeof(sb)), name);
		if (idx >= reg->size)
			return fail(g, "index %llu out of range for register \"%s\" of size %u",
				    idx, name, reg->size);
		*first = reg->offset + (uint32_t)idx;
		*count = 1;
	}
	return 0;
}

/* ---- operations ------------------------------------------------------ */

static int parse_cond(struct gctx *g, const json_t *op, struct qrtx_cond *cond)
{
	static const char *const cond_fields[] = { "creg", "value", NULL };
	json_t *v = json_object_get(op, "if"), *creg, *value;
	const struct qrtx_reg *reg;
	char sb[64], list[256];
	const char *name = "";
	long long n;
	int ret;

	cond->creg = -1;
	cond->value = 0;
	if (!v)
		return 0;
	push_key(g, op, "if");
	if (!json_is_object(v))
		return fail(g, "expected {\"creg\": name, \"value\": n}, got %s", type_name(v));
	ret = check_fields(g, v, cond_fields);
	if (ret)
		return ret;
	creg = json_object_get(v, "creg");
	value = json_object_get(v, "value");
	if (!creg)
		return fail(g, "missing \"creg\"");
	if (!value)
		return fail(g, "missing \"value\"");
	push_key(g, v, "creg");
	ret = want_string(g, creg, &name);
	if (ret)
		return ret;
	reg = qrtx_circuit_find_creg(g->c, name);
	if (!reg) {
		reg_names(g->c->cregs, g->c->ncregs, list, sizeof(list));
		return fail(g, "no classical register named \"%s\"%s%s%s",
			    clip(name, sb, sizeof(sb)),
			    list[0] ? " (registers: " : "", list, list[0] ? ")" : "");
	}
	pop(g);
	push_key(g, v, "value");
	ret = want_int(g, value, 0, LLONG_MAX, &n);
	if (ret)
		return ret;
	if (reg->size < 64 && (unsigned long long)n >> reg->size)
		return fail(g, "%lld does not fit in register \"%s\" of %u bit%s", n, reg->name,
			    reg->size, reg->size == 1 ? "" : "s");
	pop(g);
	pop(g);
	cond->creg = (int32_t)(reg - g->c->cregs);
	cond->value = (uint64_t)n;
	return 0;
}

static int parse_param(struct gctx *g, const json_t *v, struct qrtx_param *out)
{
	struct qrtx_circuit *c = g->c;
	struct qrtx_error e = { 0 };
	size_t saved = c->nexprs;
	bool symbolic = false;
	const char *s = "";
	char sb[64];
	int32_t root;
	double val;
	int ret;

	if (json_is_number(v)) {
		out->value = json_number_value(v);
		out->expr = -1;
		return 0;
	}
	if (!json_is_string(v))
		return fail(g, "a parameter is a number or an expression string, got %s",
			    type_name(v));
	s = json_string_value(v);
	ret = qrtx_expr_parse(c, s, &root, &e);
	if (ret == -ENOMEM)
		return oom(g);
	if (ret)
		return fail_inner(g, e.col, "bad expression \"%s\": %s", clip(s, sb, sizeof(sb)),
				  e.msg[0] ? e.msg : "syntax error");
	for (size_t i = saved; i < c->nexprs; i++)
		symbolic |= c->exprs[i].kind == QRTX_E_SYM;
	if (symbolic) {
		out->expr = root;
		out->value = 0;
		return 0;
	}
	/* Constant: fold it now, so engines see a number and the expression
	 * pool only holds what PUBs bind. The parse only appended nodes. */
	ret = qrtx_expr_eval(c, root, NULL, &val);
	if (ret)
		return fail(g, "\"%s\" is not a finite number", clip(s, sb, sizeof(sb)));
	c->nexprs = saved;
	out->value = val;
	out->expr = -1;
	return 0;
}

static const char *const gate_fields[] = { "gate", "qubits", "params", "if", NULL };
static const char *const measure_fields[] = { "measure", "clbit", "if", NULL };
static const char *const reset_fields[] = { "reset", "if", NULL };
static const char *const barrier_fields[] = { "barrier", NULL };
static const char *const any_op_fields[] = {
	"gate", "measure", "reset", "barrier", "qubits", "params", "clbit", "if", NULL
};

static int unknown_gate(struct gctx *g, const char *name)
{
	static const char *const aliases[] = { "u", "p", "cp", "U", "CX" };
	const char *cands[QRTX_G_COUNT + 5];
	size_t n = 0;
	const char *best;
	char sb[64];

	for (int i = 0; i < QRTX_G_COUNT; i++)
		if (qrtx_gate_info((enum qrtx_gate_id)i))
			cands[n++] = qrtx_gate_info((enum qrtx_gate_id)i)->name;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (qrtx_gate_lookup(aliases[i]) >= 0)
			cands[n++] = aliases[i];
	if (!strcmp(name, "measure") || !strcmp(name, "reset") || !strcmp(name, "barrier"))
		return fail(g, "\"%s\" is not a gate; write {\"%s\": ...} as an operation "
			    "of its own", name, name);
	best = suggest(name, cands, n);
	if (best)
		return fail(g, "unknown gate \"%s\"; did you mean \"%s\"?",
			    clip(name, sb, sizeof(sb)),
			    best);
	return fail(g, "unknown gate \"%s\" (the gate set is qelib1.inc's; see "
		    "Documentation/runtime/graph-format.rst)", clip(name, sb, sizeof(sb)));
}

static int parse_gate(struct gctx *g, const json_t *obj, struct qrtx_op *op)
{
	const json_t *name = json_object_get(obj, "gate");
	const json_t *qubits = json_object_get(obj, "qubits");
	const json_t *params = json_object_get(obj, "params");
	const struct qrtx_gate_info *info;
	const char *s = "";
	size_t nq, np;
	int id, ret;

	push_key(g, obj, "gate");
	ret = want_string(g, name, &s);
	if (ret)
		return ret;
	id = qrtx_gate_lookup(s);
	info = id >= 0 ? qrtx_gate_info((enum qrtx_gate_id)id) : NULL;
	if (!info)
		return unknown_gate(g, s);
	pop(g);

	if (!qubits)
		return fail(g, "gate \"%s\" needs \"qubits\"", info->name);
	push_key(g, obj, "qubits");
	if (!json_is_array(qubits))
		return fail(g, "expected an array of qubits, got %s", type_name(qubits));
	nq = json_array_size(qubits);
	if (nq != info->nqubits)
		return fail(g, "gate \"%s\" acts on %u qubit%s, got %zu", info->name, info->nqubits,
			    info->nqubits == 1 ? "" : "s", nq);
	for (size_t i = 0; i < nq; i++) {
		uint32_t q, n;

		push_index(g, i);
		ret = parse_bits(g, json_array_get(qubits, i), true, false, &q, &n);
		if (ret)
			return ret;
		for (size_t k = 0; k < i; k++)
			if (op->qubits[k] == q)
				return fail(g, "qubit %u is used twice by gate \"%s\"", q,
					    info->name);
		op->qubits[i] = q;
		pop(g);
	}
	pop(g);
	op->nqubits = (uint32_t)nq;

	np = 0;
	if (params) {
		push_key(g, obj, "params");
		if (!json_is_array(params))
			return fail(g, "expected an array of parameters, got %s",
				    type_name(params));
		np = json_array_size(params);
		pop(g);
	}
	if (np != info->nparams) {
		if (params)
			push_key(g, obj, "params");
		return fail(g, "gate \"%s\" takes %u parameter%s, got %zu", info->name,
			    info->nparams, info->nparams == 1 ? "" : "s", np);
	}
	if (np) {
		push_key(g, obj, "params");
		for (size_t i = 0; i < np; i++) {
			push_index(g, i);
			ret = parse_param(g, json_array_get(params, i), &op->params[i]);
			if (ret)
				return ret;
			pop(g);
		}
		pop(g);
	}
	op->nparams = (uint32_t)np;
	op->kind = QRTX_OP_GATE;
	op->gate = (enum qrtx_gate_id)id;
	return 0;
}

static int append(struct gctx *g, const struct qrtx_op *op)
{
	return qrtx_circuit_append(g->c, op) ? oom(g) : 0;
}

static int parse_measure(struct gctx *g, const json_t *obj, struct qrtx_op *op)
{
	const json_t *clbit = json_object_get(obj, "clbit");
	uint32_t qf, qn, cf, cn;
	int ret;

	push_key(g, obj, "measure");
	ret = parse_bits(g, json_object_get(obj, "measure"), true, true, &qf, &qn);
	if (ret)
		return ret;
	pop(g);
	if (!clbit)
		return fail(g, "a measurement needs \"clbit\"");
	push_key(g, obj, "clbit");
	ret = parse_bits(g, clbit, false, true, &cf, &cn);
	if (ret)
		return ret;
	if (qn != cn)
		return fail(g, "measures %u qubit%s into %u classical bit%s", qn,
			    qn == 1 ? "" : "s",
			    cn, cn == 1 ? "" : "s");
	pop(g);
	op->kind = QRTX_OP_MEASURE;
	op->nqubits = 1;
	for (uint32_t i = 0; i < qn; i++) {
		op->qubits[0] = qf + i;
		op->clbit = cf + i;
		ret = append(g, op);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_reset(struct gctx *g, const json_t *obj, struct qrtx_op *op)
{
	uint32_t qf, qn;
	int ret;

	push_key(g, obj, "reset");
	ret = parse_bits(g, json_object_get(obj, "reset"), true, true, &qf, &qn);
	if (ret)
		return ret;
	pop(g);
	op->kind = QRTX_OP_RESET;
	op->nqubits = 1;
	for (uint32_t i = 0; i < qn; i++) {
		op->qubits[0] = qf + i;
		ret = append(g, op);
		if (ret)
			return ret;
	}
	return 0;
}

/* The IR's barrier fences every qubit; a list is validated and recorded
 * as that (a wider fence than asked, never a narrower one). */
static int parse_barrier(struct gctx *g, const json_t *obj, struct qrtx_op *op)
{
	const json_t *v = json_object_get(obj, "barrier");
	bool *seen;
	int ret = 0;

	push_key(g, obj, "barrier");
	if (json_is_array(v)) {
		if (!json_array_size(v))
			return fail(g, "an empty barrier; list qubits or write true");
		seen = calloc(g->c->nqubits, sizeof(*seen));
		if (!seen)
			return oom(g);
		for (size_t i = 0; i < json_array_size(v) && !ret; i++) {
			uint32_t f, n;

			push_index(g, i);
			ret = parse_bits(g, json_array_get(v, i), true, true, &f, &n);
			for (uint32_t k = 0; !ret && k < n; k++) {
				if (seen[f + k])
					ret = fail(g, "qubit %u is listed twice", f + k);
				seen[f + k] = true;
			}
			if (!ret)
				pop(g);
		}
		free(seen);
		if (ret)
			return ret;
	} else if (!json_is_true(v)) {
		return fail(g, "expected true or an array of qubits, got %s", type_name(v));
	}
	pop(g);
	op->kind = QRTX_OP_BARRIER;
	op->nqubits = 0;
	return append(g, op);
}

static int parse_op(struct gctx *g, const json_t *obj, struct qrtx_op *op)
{
	static const char *const kinds[] = { "gate", "measure", "reset", "barrier" };
	static const char *const *const fields[] = {
		gate_fields, measure_fields, reset_fields, barrier_fields
	};
	int kind = -1, ret;

	if (!json_is_object(obj))
		return fail(g, "an operation is an object, got %s", type_name(obj));
	for (int k = 0; k < 4; k++) {
		if (!json_object_get(obj, kinds[k]))
			continue;
		if (kind >= 0)
			return fail(g, "has both \"%s\" and \"%s\"; write one operation per object",
				    kinds[kind], kinds[k]);
		kind = k;
	}
	if (kind < 0) {
		ret = check_fields(g, obj, any_op_fields);
		if (ret)
			return ret;
		return fail(g, "an operation needs one of \"gate\", \"measure\", \"reset\" or "
			    "\"barrier\"");
	}
	if (kind == 3 && json_object_get(obj, "if")) {
		push_key(g, obj, "if");
		return fail_key(g, "a barrier cannot be conditional");
	}
	ret = check_fields(g, obj, fields[kind]);
	if (ret)
		return ret;
	ret = parse_cond(g, obj, &op->cond);
	if (ret)
		return ret;
	switch (kind) {
	case 0:
		ret = parse_gate(g, obj, op);
		return ret ? ret : append(g, op);
	case 1:
		return parse_measure(g, obj, op);
	case 2:
		return parse_reset(g, obj, op);
	default:
		return parse_barrier(g, obj, op);
	}
}

static int parse_ops(struct gctx *g, const json_t *root)
{
	const json_t *ops = json_object_get(root, "ops");
	struct lc_cursor cur = { .line = 1, .col = 1 };
	size_t pos = 0;
	bool have_pos;
	int ret;

	if (!ops)
		return fail(g, "missing \"ops\" (the list of operations; [] for none)");
	push_key(g, root, "ops");
	if (!json_is_array(ops))
		return fail(g, "expected an array of operations, got %s", type_name(ops));
	/* Positions for later stages' messages: one linear walk. */
	have_pos = locate(g, g->depth, false, &pos) && g->text[pos] == '[';
	pos++;
	for (size_t i = 0; i < json_array_size(ops); i++) {
		struct qrtx_op op = { 0 };

		if (have_pos) {
			pos = skip_ws(g, pos);
			lc_advance(g, &cur, pos);
			op.line = cur.line;
			op.col = cur.col;
			pos = skip_ws(g, skip_value(g, pos));
			if (pos < g->len && g->text[pos] == ',')
				pos++;
		}
		push_index(g, i);
		ret = parse_op(g, json_array_get(ops, i), &op);
		if (ret)
			return ret;
		pop(g);
	}
	pop(g);

	/* Remember which parameters stay symbolic: every PUB point must
	 * give each a finite value. */
	for (size_t i = 0; i < g->c->nops; i++)
		for (uint32_t k = 0; k < g->c->ops[i].nparams; k++)
			g->nexprs += g->c->ops[i].params[k].expr >= 0;
	if (g->nexprs) {
		size_t n = 0;

		g->exprs = calloc(g->nexprs, sizeof(*g->exprs));
		if (!g->exprs)
			return oom(g);
		for (size_t i = 0; i < g->c->nops; i++)
			for (uint32_t k = 0; k < g->c->ops[i].nparams; k++)
				if (g->c->ops[i].params[k].expr >= 0) {
					g->exprs[n].op = (uint32_t)i;
					g->exprs[n].param = k;
					n++;
				}
	}
	return 0;
}

/* ---- job fields ------------------------------------------------------ */

static bool valid_backend(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (!at || at == s || !at[1] || n >= sizeof(((struct qrtx_job_spec *)0)->backend))
		return false;
	for (const char *p = s; *p; p++)
		if (p != at && !isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

static int parse_job_fields(struct gctx *g, const json_t *root)
{
	struct qrtx_job_spec *job = g->job;
	json_t *v;
	long long n;
	const char *s = "";
	char sb[64];
	int ret;

	if ((v = json_object_get(root, "name"))) {
		push_key(g, root, "name");
		ret = want_string(g, v, &s);
		if (ret)
			return ret;
		if (strlen(s) >= sizeof(g->c->name))
			return fail(g, "longer than %zu characters", sizeof(g->c->name) - 1);
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return fail(g, "control characters are not allowed in a name");
		strcpy(g->c->name, s);
		pop(g);
	}
	if ((v = json_object_get(root, "description"))) {
		push_key(g, root, "description");
		ret = want_string(g, v, &s);
		if (ret)
			return ret;
		pop(g);
	}
	if ((v = json_object_get(root, "shots"))) {
		push_key(g, root, "shots");
		ret = want_int(g, v, 0, (long long)GRAPH_MAX_SHOTS, &n);
		if (ret)
			return ret;
		job->shots = (uint64_t)n;
		pop(g);
	}
	if ((v = json_object_get(root, "seed"))) {
		push_key(g, root, "seed");
		ret = want_int(g, v, 0, LLONG_MAX, &n);
		if (ret)
			return ret;
		job->seed = (uint64_t)n;
		job->seed_set = true;
		pop(g);
	}
	if ((v = json_object_get(root, "precision"))) {
		push_key(g, root, "precision");
		ret = want_string(g, v, &s);
		if (ret)
			return ret;
		if (!strcmp(s, "double"))
			job->precision = QRTX_PREC_DOUBLE;
		else if (!strcmp(s, "single"))
			job->precision = QRTX_PREC_SINGLE;
		else
			return fail(g, "expected \"double\" or \"single\", got \"%s\"",
				    clip(s, sb, sizeof(sb)));
		pop(g);
	}
	if ((v = json_object_get(root, "backend"))) {
		push_key(g, root, "backend");
		ret = want_string(g, v, &s);
		if (ret)
			return ret;
		if (!valid_backend(s))
			return fail(g, "\"%s\" is not a backend name (\"<model>@<executor>\", e.g. "
				    "\"ideal@cpu\")", clip(s, sb, sizeof(sb)));
		snprintf(job->backend, sizeof(job->backend), "%s", s);
		pop(g);
	}
	if ((v = json_object_get(root, "priority"))) {
		push_key(g, root, "priority");
		ret = want_int(g, v, INT32_MIN, INT32_MAX, &n);
		if (ret)
			return ret;
		job->priority = (int32_t)n;
		pop(g);
	}
	if ((v = json_object_get(root, "timeout"))) {
		double t;

		push_key(g, root, "timeout");
		if (!json_is_number(v))
			return fail(g, "expected a number of seconds, got %s", type_name(v));
		t = json_number_value(v);
		if (!(t >= 0 && t <= GRAPH_MAX_TIMEOUT))
			return fail(g, "%g is out of range (0 to %.0f seconds; 0 means none)", t,
				    GRAPH_MAX_TIMEOUT);
		job->timeout_s = t;
		pop(g);
	}
	if ((v = json_object_get(root, "memory"))) {
		push_key(g, root, "memory");
		if (!json_is_boolean(v))
			return fail(g, "expected true or false, got %s", type_name(v));
		job->memory = json_is_true(v);
		pop(g);
	}
	return 0;
}

/* ---- PUBs ------------------------------------------------------------ */

static int symbol_list(const struct qrtx_circuit *c, char *buf, size_t size)
{
	const char *names[16];
	uint32_t k = c->nsymbols < 16 ? c->nsymbols : 16;

	for (uint32_t i = 0; i < k; i++)
		names[i] = c->symbols[i];
	join(names, k, buf, size);
	return 0;
}

static int unknown_symbol(struct gctx *g, const char *key)
{
	const struct qrtx_circuit *c = g->c;
	const char **cands;
	const char *best;
	char kb[64], list[256];

	if (!c->nsymbols)
		return fail_key(g, "\"%s\" is not a parameter: the circuit has none",
				clip(key, kb, sizeof(kb)));
	cands = malloc(c->nsymbols * sizeof(*cands));
	if (!cands)
		return oom(g);
	for (uint32_t i = 0; i < c->nsymbols; i++)
		cands[i] = c->symbols[i];
	best = suggest(key, cands, c->nsymbols);
	symbol_list(c, list, sizeof(list));
	if (best) {
		char bb[64];

		clip(best, bb, sizeof(bb));
		free(cands);
		return fail_key(g, "\"%s\" is not a parameter of the circuit; did you mean \"%s\"?",
				clip(key, kb, sizeof(kb)), bb);
	}
	free(cands);
	return fail_key(g, "\"%s\" is not a parameter of the circuit (its parameters: %s)",
			clip(key, kb, sizeof(kb)), list);
}

/* Validate "parameters": names, types, and the sweep length (0: no
 * arrays, one point). */
static int check_bindings(struct gctx *g, const json_t *pub, const json_t *params,
			  size_t *npoints)
{
	const char *key, *first = NULL;
	size_t len = 0;
	json_t *v;
	char kb[64];
	int ret;

	push_key(g, pub, "parameters");
	if (!json_is_object(params))
		return fail(g, "expected an object of parameter values, got %s", type_name(params));
	json_object_foreach((json_t *)params, key, v) {
		push_key(g, params, key);
		if (qrtx_circuit_find_symbol(g->c, key) < 0)
			return unknown_symbol(g, key);
		if (json_is_array(v)) {
			size_t n = json_array_size(v);

			if (!n)
				return fail(g, "a sweep needs at least one value");
			if (first && n != len)
				return fail(g, "%zu values, but \"%s\" sweeps %zu (swept "
					    "parameters need equal lengths)", n,
					    clip(first, kb, sizeof(kb)), len);
			for (size_t i = 0; i < n; i++) {
				if (!json_is_number(json_array_get(v, i))) {
					push_index(g, i);
					return fail(g, "expected a number, got %s",
						    type_name(json_array_get(v, i)));
				}
			}
			first = key;
			len = n;
		} else if (!json_is_number(v)) {
			return fail(g, "expected a number or an array of numbers, got %s",
				    type_name(v));
		}
		pop(g);
	}
	for (uint32_t i = 0; i < g->c->nsymbols; i++) {
		if (!json_object_get(params, g->c->symbols[i])) {
			ret = fail(g, "parameter \"%s\" is not bound", g->c->symbols[i]);
			return ret;
		}
	}
	pop(g);
	*npoints = len;
	return 0;
}

static int parse_observables(struct gctx *g, const json_t *pub, const json_t *v,
			     struct qrtx_observable **out, uint32_t *nout)
{
	bool one = json_is_string(v);
	size_t n = one ? 1 : json_array_size(v);
	struct qrtx_observable *obs;
	int ret;

	push_key(g, pub, "observables");
	if (!one && !json_is_array(v))
		return fail(g, "expected a Pauli sum string or an array of them, got %s",
			    type_name(v));
	if (!n)
		return fail(g, "an Estimator PUB needs at least one observable");
	if (g->c->nqubits > OBS_MAX_QUBITS)
		return fail(g, "observables act on at most %d qubits, the circuit has %u",
			    OBS_MAX_QUBITS, g->c->nqubits);
	obs = calloc(n, sizeof(*obs));
	if (!obs)
		return oom(g);
	*out = obs;
	*nout = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		const json_t *s = one ? v : json_array_get(v, i);
		struct qrtx_error e = { 0 };

		if (!one)
			push_index(g, i);
		if (!json_is_string(s))
			return fail(g, "expected a Pauli sum such as \"0.5*ZZ - XI\", got %s",
				    type_name(s));
		ret = qrtx_observable_parse(json_string_value(s), g->c->nqubits, &obs[i], &e);
		if (ret == -ENOMEM)
			return oom(g);
		if (ret) {
			/* e.msg carries the character; the position is made absolute. */
			return fail_inner(g, e.col, "%s", e.msg);
		}
		if (!one)
			pop(g);
	}
	pop(g);
	return 0;
}

static int copy_observable(struct qrtx_observable *dst, const struct qrtx_observable *src)
{
	dst->text = strdup(src->text);
	dst->terms = malloc(src->nterms * sizeof(*dst->terms));
	if (!dst->text || !dst->terms)
		return -ENOMEM;
	memcpy(dst->terms, src->terms, src->nterms * sizeof(*dst->terms));
	dst->nterms = src->nterms;
	return 0;
}

static void free_observables(struct qrtx_observable *obs, uint32_t n)
{
	for (uint32_t i = 0; obs && i < n; i++)
		qrtx_observable_free(&obs[i]);
	free(obs);
}

/* Fill pub (already counted in the job) for one sweep point. */
static int fill_pub(struct gctx *g, struct qrtx_pub *pub, const json_t *params, size_t point,
		    bool sweep, const struct qrtx_observable *obs, uint32_t nobs)
{
	const struct qrtx_circuit *c = g->c;

	if (c->nsymbols) {
		pub->values = calloc(c->nsymbols, sizeof(double));
		if (!pub->values)
			return oom(g);
		for (uint32_t i = 0; i < c->nsymbols; i++) {
			const json_t *v = json_object_get(params, c->symbols[i]);

			if (json_is_array(v))
				v = json_array_get(v, point);
			pub->values[i] = json_number_value(v);
		}
	}
	if (nobs) {
		pub->observables = calloc(nobs, sizeof(*pub->observables));
		if (!pub->observables)
			return oom(g);
		pub->nobservables = nobs;
		for (uint32_t i = 0; i < nobs; i++)
			if (copy_observable(&pub->observables[i], &obs[i]))
				return oom(g);
	}
	/* Symbolic parameters must be finite at every point ("ln(theta)"
	 * with theta = -1 is a bad binding, better told now than mid-run). */
	for (size_t k = 0; k < g->nexprs; k++) {
		const struct qrtx_op *op = &c->ops[g->exprs[k].op];
		double val;

		if (qrtx_param_eval(c, &op->params[g->exprs[k].param], pub->values, &val)) {
			if (sweep)
				return fail(g, "at sweep point %zu, ops[%u].params[%u] is not a "
					    "finite number", point, g->exprs[k].op,
					    g->exprs[k].param);
			return fail(g, "ops[%u].params[%u] is not a finite number with these "
				    "parameters", g->exprs[k].op, g->exprs[k].param);
		}
	}
	return 0;
}

static int parse_pub(struct gctx *g, const json_t *pub)
{
	static const char *const pub_fields[] = { "parameters", "shots", "observables", NULL };
	struct qrtx_job_spec *job = g->job;
	const json_t *params = json_object_get(pub, "parameters");
	const json_t *shots = json_object_get(pub, "shots");
	const json_t *observables = json_object_get(pub, "observables");
	struct qrtx_observable *obs = NULL;
	uint32_t nobs = 0;
	size_t npoints = 0;
	bool sweep;
	uint64_t nshots = job->shots;
	long long n;
	int ret;

	if (!json_is_object(pub))
		return fail(g, "a PUB is an object, got %s", type_name(pub));
	ret = check_fields(g, pub, pub_fields);
	if (ret)
		return ret;
	if (params) {
		ret = check_bindings(g, pub, params, &npoints);
		if (ret)
			return ret;
	} else if (g->c->nsymbols) {
		char list[256];

		symbol_list(g->c, list, sizeof(list));
		return fail(g, "missing \"parameters\" (the circuit's parameters: %s)", list);
	}
	if (shots) {
		push_key(g, pub, "shots");
		ret = want_int(g, shots, 0, (long long)GRAPH_MAX_SHOTS, &n);
		if (ret)
			return ret;
		nshots = (uint64_t)n;
		pop(g);
	}
	if (!observables && !nshots) {
		if (shots)
			push_key(g, pub, "shots");
		return fail(g, "a Sampler PUB needs at least one shot");
	}
	if (observables) {
		ret = parse_observables(g, pub, observables, &obs, &nobs);
		if (ret) {
			free_observables(obs, nobs);
			return ret;
		}
	}
	sweep = npoints > 0;
	if (!npoints)
		npoints = 1;
	{
		uint64_t per_point = sizeof(struct qrtx_pub) + g->c->nsymbols * sizeof(double);

		for (uint32_t i = 0; i < nobs; i++)
			per_point += sizeof(*obs) + strlen(obs[i].text) + 1 +
				     obs[i].nterms * sizeof(*obs[i].terms);
		if (job->npubs + npoints > GRAPH_MAX_PUBS) {
			free_observables(obs, nobs);
			return fail(g, "the job would hold more than %u PUBs", GRAPH_MAX_PUBS);
		}
		if (g->pub_bytes + per_point * npoints > GRAPH_MAX_PUB_BYTES) {
			free_observables(obs, nobs);
			return fail(g, "the job's PUBs would take more than %llu MiB "
				    "(%zu points of %llu bytes)", GRAPH_MAX_PUB_BYTES >> 20,
				    npoints, (unsigned long long)per_point);
		}
		g->pub_bytes += per_point * npoints;
	}
	if (job->npubs + npoints > g->pubs_cap) {
		size_t cap = g->pubs_cap ? g->pubs_cap : 4;
		struct qrtx_pub *np;

		while (cap < job->npubs + npoints)
			cap *= 2;
		np = realloc(job->pubs, cap * sizeof(*np));
		if (!np) {
			free_observables(obs, nobs);
			return oom(g);
		}
		job->pubs = np;
		g->pubs_cap = cap;
	}
	for (size_t p = 0; p < npoints; p++) {
		struct qrtx_pub *slot = &job->pubs[job->npubs++];

		memset(slot, 0, sizeof(*slot));
		slot->kind = observables ? QRTX_PUB_ESTIMATOR : QRTX_PUB_SAMPLER;
		slot->shots = nshots;
		ret = fill_pub(g, slot, params, p, sweep, obs, nobs);
		if (ret)
			break;
	}
	free_observables(obs, nobs);
	return ret;
}

static int parse_pubs(struct gctx *g, const json_t *root)
{
	const json_t *pubs = json_object_get(root, "pubs");
	struct qrtx_job_spec *job = g->job;
	int ret;

	if (!pubs) {
		char list[256];

		if (g->c->nsymbols) {
			symbol_list(g->c, list, sizeof(list));
			return fail(g, "the circuit has free parameters (%s) but no \"pubs\" "
				    "binds them", list);
		}
		if (!job->shots) {
			push_key(g, root, "shots");
			return fail(g, "a Sampler job needs at least one shot");
		}
		job->pubs = calloc(1, sizeof(*job->pubs));
		if (!job->pubs)
			return oom(g);
		job->npubs = 1;
		job->pubs[0].kind = QRTX_PUB_SAMPLER;
		job->pubs[0].shots = job->shots;
		return 0;
	}
	push_key(g, root, "pubs");
	if (!json_is_array(pubs))
		return fail(g, "expected an array of PUBs, got %s", type_name(pubs));
	if (!json_array_size(pubs))
		return fail(g, "no PUBs (leave \"pubs\" out for one Sampler PUB with the job's "
			    "shots)");
	for (size_t i = 0; i < json_array_size(pubs); i++) {
		push_index(g, i);
		ret = parse_pub(g, json_array_get(pubs, i));
		if (ret)
			return ret;
		pop(g);
	}
	pop(g);
	return 0;
}

/* ---- entry points ---------------------------------------------------- */

static const char *const top_fields[] = {
	"format", "version", "name", "description", "qubits", "qregs", "clbits", "cregs",
	"ops", "shots", "seed", "precision", "backend", "priority", "timeout", "memory",
	"pubs", NULL
};

static int parse_root(struct gctx *g, const json_t *root)
{
	const json_t *v;
	const char *s = "";
	char sb[64];
	long long n;
	int ret;

	if (!json_is_object(root))
		return fail(g, "the top level must be an object, got %s", type_name(root));
	ret = check_fields(g, root, top_fields);
	if (ret)
		return ret;
	v = json_object_get(root, "format");
	if (!v)
		return fail(g, "missing \"format\": \"" GRAPH_FORMAT "\"");
	push_key(g, root, "format");
	ret = want_string(g, v, &s);
	if (ret)
		return ret;
	if (strcmp(s, GRAPH_FORMAT))
		return fail(g, "expected \"" GRAPH_FORMAT "\", got \"%s\"",
			    clip(s, sb, sizeof(sb)));
	pop(g);
	v = json_object_get(root, "version");
	if (!v)
		return fail(g, "missing \"version\": %d", GRAPH_VERSION);
	push_key(g, root, "version");
	if (!json_is_integer(v))
		return fail(g, "expected an integer, got %s", type_name(v));
	n = json_integer_value(v);
	if (n != GRAPH_VERSION)
		return fail(g, "unsupported version %lld (this runtime reads version %d)", n,
			    GRAPH_VERSION);
	pop(g);

	ret = parse_regs(g, root, true);
	if (!ret)
		ret = parse_regs(g, root, false);
	if (!ret)
		ret = parse_ops(g, root);
	if (!ret)
		ret = parse_job_fields(g, root);
	if (!ret)
		ret = parse_pubs(g, root);
	return ret;
}

int qrtx_graph_parse(const char *text, size_t len, const char *filename,
		     struct qrtx_job_spec **out, struct qrtx_error *err)
{
	struct gctx g = {
		.text = text, .len = len, .file = filename ? filename : "<input>", .err = err,
	};
	struct qrtx_job_spec *job;
	json_error_t jerr;
	json_t *root;
	int ret;

	*out = NULL;
	if (!text && len) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, g.file, 0, 0, "no input");
		return -EINVAL;
	}
	root = json_loadb(text ? text : "", len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, g.file,
			       jerr.line > 0 ? (unsigned int)jerr.line : 0,
			       jerr.column > 0 ? (unsigned int)jerr.column : 0,
			       "invalid JSON: %s", jerr.text);
		return -EINVAL;
	}
	job = calloc(1, sizeof(*job));
	if (!job || !(job->circuit = qrtx_circuit_new())) {
		free(job);
		json_decref(root);
		return oom(&g);
	}
	job->shots = QRTX_DEFAULT_SHOTS;
	job->precision = QRTX_PREC_DOUBLE;
	snprintf(job->backend, sizeof(job->backend), "ideal@cpu");
	g.c = job->circuit;
	g.job = job;

	ret = parse_root(&g, root);
	free(g.exprs);
	json_decref(root);
	if (ret) {
		qrtx_job_spec_free(job);
		return ret;
	}
	*out = job;
	return 0;
}

int qrtx_graph_parse_file(const char *path, struct qrtx_job_spec **out,
			  struct qrtx_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		goto io_error;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto io_error;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > GRAPH_MAX_FILE) {
		ret = -EFBIG;
		goto io_error;
	}
	/* Read to EOF rather than trusting st_size: pipes and /proc files. */
	for (size_t cap = 0;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap)
				cap *= 2;
			else
				cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
			if (cap > GRAPH_MAX_FILE + 1) {
				ret = -EFBIG;
				goto io_error;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				goto io_error;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto io_error;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	ret = qrtx_graph_parse(buf, len, path, out, err);
	free(buf);
	return ret;

io_error:
	if (fd >= 0)
		close(fd);
	free(buf);
	qrtx_error_set(err, QRTX_ERR_VALIDATION, ret, path, 0, 0, "cannot read the graph: %s",
		       ret == -EFBIG ? "file larger than 256 MiB" : strerror(-ret));
	return ret;
}
