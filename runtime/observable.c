// SPDX-License-Identifier: MIT
/*
 * Pauli-sum observables: "0.5*ZZI - 1.2*XIX", "ZZ", "-X0", "2*Z0 Z1".
 *
 * Grammar (Documentation/runtime/graph-format.rst, "Observables"):
 *
 *   sum     := [sign] term { sign term }
 *   term    := coeff | [coeff '*'] pauli
 *   pauli   := dense | factor { ['*'] factor }
 *   dense   := one of I X Y Z for every qubit, qubit 0 last (Qiskit order)
 *   factor  := X|Y|Z|I followed by a qubit index (sparse form: "Z0 Z3")
 *   coeff   := digits ['.' digits] [('e'|'E') [sign] digits]  (or ".5")
 *
 * Whitespace may separate any two tokens. A term without a coefficient has
 * coefficient 1; a bare coefficient is that multiple of the identity.
 * Coefficients are real (observables must be Hermitian) and carry no sign
 * of their own: the sign in front of a term is its sign.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qrtx/job.h"

/* Pauli masks are 64-bit: one bit per qubit. */
#define OBS_MAX_QUBITS 64
/* Longest coefficient lexeme we accept; longer is a typo, not a number. */
#define OBS_COEFF_MAX 64

struct obs_parser {
	const char *s;
	size_t pos;
	uint32_t nqubits;
	struct qrtx_observable *out;
	size_t cap;
	struct qrtx_error *err;
};

static int obs_fail(struct obs_parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int obs_fail(struct obs_parser *p, size_t at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Line 1, column = character of the observable text: callers that
	 * embed the text elsewhere (a JSON string) shift the column. */
	qrtx_error_set(p->err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 1,
		       (unsigned int)at + 1, "bad observable at character %zu: %s",
		       at + 1, msg);
	return -EINVAL;
}

static void skip_ws(struct obs_parser *p)
{
	while (p->s[p->pos] && isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static bool is_pauli(char c)
{
	return c == 'I' || c == 'X' || c == 'Y' || c == 'Z';
}

static void set_pauli(struct qrtx_pauli_term *t, char letter, uint32_t q)
{
	uint64_t bit = 1ULL << q;

	if (letter == 'X' || letter == 'Y')
		t->xmask |= bit;
	if (letter == 'Z' || letter == 'Y')
		t->zmask |= bit;
}

static int parse_coeff(struct obs_parser *p, double *coeff)
{
	const char *s = p->s;
	size_t start = p->pos, i = p->pos, ndigits = 0;
	char buf[OBS_COEFF_MAX + 1];

	while (isdigit((unsigned char)s[i])) {
		i++;
		ndigits++;
	}
	if (s[i] == '.') {
		i++;
		while (isdigit((unsigned char)s[i])) {
			i++;
			ndigits++;
		}
	}
	if (!ndigits)
		return obs_fail(p, start, "expected a number");
	if (s[i] == 'e' || s[i] == 'E') {
		size_t e = ++i;

		if (s[i] == '+' || s[i] == '-')
			i++;
		if (!isdigit((unsigned char)s[i]))
			return obs_fail(p, e, "expected digits in the exponent");
		while (isdigit((unsigned char)s[i]))
			i++;
	}
	if (i - start > OBS_COEFF_MAX)
		return obs_fail(p, start, "coefficient too long");
	/* Letters glued to a number ("2ZZ", "1.5x") are a missing '*' or a
	 * typo; say so rather than guess. */
	if (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.')
		return obs_fail(p, i, "expected '*' between the coefficient and the Pauli string");
	memcpy(buf, s + start, i - start);
	buf[i - start] = '\0';
	*coeff = strtod(buf, NULL);
	if (!isfinite(*coeff))
		return obs_fail(p, start, "coefficient '%s' is out of range", buf);
	p->pos = i;
	return 0;
}

/* One sparse factor at p->pos: letter then qubit index. */
static int parse_factor(struct obs_parser *p, struct qrtx_pauli_term *t,
			uint64_t *seen)
{
	size_t at = p->pos, i;
	char letter = p->s[p->pos];
	uint64_t q = 0;

	if (!is_pauli(letter))
		return obs_fail(p, at, "expected a Pauli factor such as Z0");
	i = at + 1;
	if (!isdigit((unsigned char)p->s[i]))
		return obs_fail(p, i, "expected a qubit index after '%c'", letter);
	while (isdigit((unsigned char)p->s[i])) {
		q = q * 10 + (uint64_t)(p->s[i] - '0');
		if (q > UINT32_MAX)
			return obs_fail(p, at, "qubit index too large");
		i++;
	}
	/* "Z0Z1" may go without a separator; anything else glued on may not. */
	if ((isalpha((unsigned char)p->s[i]) || p->s[i] == '_') &&
	    !(is_pauli(p->s[i]) && isdigit((unsigned char)p->s[i + 1])))
		return obs_fail(p, i, "unexpected '%c' after a Pauli factor", p->s[i]);
	if (q >= p->nqubits)
		return obs_fail(p, at, "qubit %llu out of range (the observable acts on %u qubits)",
				(unsigned long long)q, p->nqubits);
	if (*seen & (1ULL << q))
		return obs_fail(p, at, "qubit %llu appears twice in one term",
				(unsigned long long)q);
	*seen |= 1ULL << q;
	set_pauli(t, letter, (uint32_t)q);
	p->pos = i;
	return 0;
}

static int parse_sparse(struct obs_parser *p, struct qrtx_pauli_term *t)
{
	uint64_t seen = 0;
	int ret;

	for (;;) {
		size_t save;

		ret = parse_factor(p, t, &seen);
		if (ret)
			return ret;
		save = p->pos;
		skip_ws(p);
		if (p->s[p->pos] == '*') {
			p->pos++;
			skip_ws(p);
			continue;
		}
		if (is_pauli(p->s[p->pos]) && isdigit((unsigned char)p->s[p->pos + 1]))
			continue;
		p->pos = save;
		return 0;
	}
}

static int parse_dense(struct obs_parser *p, struct qrtx_pauli_term *t)
{
	size_t start = p->pos, i = p->pos, n;

	while (isalnum((unsigned char)p->s[i]) || p->s[i] == '_') {
		if (isdigit((unsigned char)p->s[i]))
			return obs_fail(p, i, "unexpected digit after the Pauli string "
					"(a sparse term is written like Z0 Z1)");
		if (!is_pauli(p->s[i]))
			return obs_fail(p, i, "bad Pauli letter '%c' (use I, X, Y or Z)", p->s[i]);
		i++;
	}
	n = i - start;
	if (n != p->nqubits)
		return obs_fail(p, start,
				"Pauli string '%.*s' has %zu letters, the circuit has %u qubits",
				n > 70 ? 70 : (int)n, p->s + start, n, p->nqubits);
	for (size_t k = 0; k < n; k++)
		set_pauli(t, p->s[start + k], (uint32_t)(n - 1 - k));
	p->pos = i;
	return 0;
}

static int push_term(struct obs_parser *p, const struct qrtx_pauli_term *t)
{
	struct qrtx_observable *o = p->out;

	if (o->nterms == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 4;
		struct qrtx_pauli_term *n;

		if (ncap > UINT32_MAX)
			return obs_fail(p, p->pos, "too many terms");
		n = realloc(o->terms, ncap * sizeof(*n));
		if (!n) {
			qrtx_error_set(p->err, QRTX_ERR_VALIDATION, -ENOMEM, NULL, 0, 0,
				       "out of memory parsing an observable");
			return -ENOMEM;
		}
		o->terms = n;
		p->cap = ncap;
	}
	o->terms[o->nterms++] = *t;
	return 0;
}

static int parse_term(struct obs_parser *p, double sign)
{
	struct qrtx_pauli_term t = { .coeff = sign };
	const char *s = p->s;
	char c = s[p->pos];
	int ret;

	if (isdigit((unsigned char)c) || c == '.') {
		double v = 0;

		ret = parse_coeff(p, &v);
		if (ret)
			return ret;
		t.coeff *= v;
		skip_ws(p);
		if (s[p->pos] != '*') {
			/* A bare coefficient: a multiple of the identity. */
			if (s[p->pos] && s[p->pos] != '+' && s[p->pos] != '-')
				return obs_fail(p, p->pos,
						"expected '*' between the coefficient and the "
						"Pauli string");
			return push_term(p, &t);
		}
		p->pos++;
		skip_ws(p);
		c = s[p->pos];
	}
	if (!c)
		return obs_fail(p, p->pos, "expected a Pauli string at the end");
	if (!isalpha((unsigned char)c))
		return obs_fail(p, p->pos, "expected a coefficient or a Pauli string, found '%c'",
				c);
	if (is_pauli(c) && isdigit((unsigned char)s[p->pos + 1]))
		ret = parse_sparse(p, &t);
	else
		ret = parse_dense(p, &t);
	if (ret)
		return ret;
	return push_term(p, &t);
}

void qrtx_observable_free(struct qrtx_observable *o)
{
	if (!o)
		return;
	free(o->text);
	free(o->terms);
	memset(o, 0, sizeof(*o));
}

int qrtx_observable_parse(const char *text, uint32_t nqubits,
			  struct qrtx_observable *out, struct qrtx_error *err)
{
	struct obs_parser p = { .s = text, .nqubits = nqubits, .out = out, .err = err };
	bool first = true;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!text) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
			       "bad observable: no text");
		return -EINVAL;
	}
	if (nqubits > OBS_MAX_QUBITS) {
		qrtx_error_set(err, QRTX_ERR_VALIDATION, -EINVAL, NULL, 0, 0,
			       "observables act on at most %d qubits, the circuit has %u",
			       OBS_MAX_QUBITS, nqubits);
		return -EINVAL;
	}
	skip_ws(&p);
	if (!text[p.pos]) {
		obs_fail(&p, p.pos, "empty observable");
		return -EINVAL;
	}
	while (text[p.pos]) {
		double sign = 1.0;
		char c = text[p.pos];

		if (c == '+' || c == '-') {
			sign = c == '-' ? -1.0 : 1.0;
			p.pos++;
			skip_ws(&p);
		} else if (!first) {
			ret = obs_fail(&p, p.pos, "expected '+' or '-' between terms, found '%c'",
				       c);
			break;
		}
		ret = parse_term(&p, sign);
		if (ret)
			break;
		first = false;
		skip_ws(&p);
	}
	if (!ret) {
		out->text = strdup(text);
		if (!out->text) {
			qrtx_error_set(err, QRTX_ERR_VALIDATION, -ENOMEM, NULL, 0, 0,
				       "out of memory parsing an observable");
			ret = -ENOMEM;
		}
	}
	if (ret)
		qrtx_observable_free(out);
	return ret;
}
