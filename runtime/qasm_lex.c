// SPDX-License-Identifier: MIT
/*
 * Tokenizer shared by the OpenQASM 2.0 parser and the expression parser.
 * Positions are 1-based lines and byte columns, as editors and compilers
 * print them.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qasm_lex.h"

/* A number literal longer than this is not a plausible angle or index. */
#define NUMBER_MAX 256

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_ident_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_ident(char ch)
{
	return is_ident_start(ch) || is_digit(ch);
}

int qrtx_lex_error(const struct qrtx_lexer *lx, const struct qrtx_tok *tok,
		   const char *fmt, ...)
{
	char msg[sizeof(((struct qrtx_error *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	qrtx_error_set(lx->err, QRTX_ERR_VALIDATION, -EINVAL,
		       lx->file ? lx->file : "", tok->line, tok->col, "%s", msg);
	return -EINVAL;
}

static char peek(const struct qrtx_lexer *lx, size_t ahead)
{
	return lx->pos + ahead < lx->len ? lx->text[lx->pos + ahead] : '\0';
}

static bool at_end(const struct qrtx_lexer *lx)
{
	return lx->pos >= lx->len;
}

static void advance(struct qrtx_lexer *lx)
{
	if (lx->text[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

static void describe_char(char ch, char *buf, size_t len)
{
	unsigned char u = (unsigned char)ch;

	if (u >= 0x20 && u < 0x7f)
		snprintf(buf, len, "'%c'", ch);
	else
		snprintf(buf, len, "byte 0x%02x", u);
}

/* Skip blanks and comments; an unclosed block comment is an error. */
static int skip_space(struct qrtx_lexer *lx)
{
	while (!at_end(lx)) {
		char ch = peek(lx, 0);

		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		    ch == '\f' || ch == '\v') {
			advance(lx);
		} else if (ch == '/' && peek(lx, 1) == '/') {
			while (!at_end(lx) && peek(lx, 0) != '\n')
				advance(lx);
		} else if (ch == '/' && peek(lx, 1) == '*') {
			struct qrtx_tok open = { .line = lx->line, .col = lx->col };

			advance(lx);
			advance(lx);
			while (!(peek(lx, 0) == '*' && peek(lx, 1) == '/')) {
				if (at_end(lx))
					return qrtx_lex_error(lx, &open, "comment is not "
							      "closed ('*/' missing)");
				advance(lx);
			}
			advance(lx);
			advance(lx);
		} else {
			break;
		}
	}
	return 0;
}

static int lex_number(struct qrtx_lexer *lx, struct qrtx_tok *t)
{
	char buf[NUMBER_MAX + 1];
	bool real = false;
	size_t start = lx->pos;
	char *end;

	while (is_digit(peek(lx, 0)))
		advance(lx);
	if (peek(lx, 0) == '.') {
		real = true;
		advance(lx);
		while (is_digit(peek(lx, 0)))
			advance(lx);
	}
	if (peek(lx, 0) == 'e' || peek(lx, 0) == 'E') {
		size_t sign = (peek(lx, 1) == '+' || peek(lx, 1) == '-') ? 1 : 0;

		if (!is_digit(peek(lx, 1 + sign)))
			return qrtx_lex_error(lx, t, "malformed number: exponent has no digits");
		real = true;
		advance(lx);
		if (sign)
			advance(lx);
		while (is_digit(peek(lx, 0)))
			advance(lx);
	}
	if (is_ident(peek(lx, 0)) || peek(lx, 0) == '.')
		return qrtx_lex_error(lx, t, "malformed number: unexpected '%c' after '%.*s'",
				      peek(lx, 0), (int)(lx->pos - start), lx->text + start);
	t->s = lx->text + start;
	t->len = lx->pos - start;
	if (t->len > NUMBER_MAX)
		return qrtx_lex_error(lx, t, "number has more than %d characters", NUMBER_MAX);
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	t->kind = real ? QRTX_TK_REAL : QRTX_TK_INT;
	t->num = strtod(buf, &end);
	if (!isfinite(t->num))
		return qrtx_lex_error(lx, t, "number '%s' is out of range", buf);
	if (!real) {
		t->ival = 0;
		t->ival_ok = true;
		for (size_t i = 0; i < t->len; i++) {
			unsigned int d = (unsigned int)(buf[i] - '0');

			if (t->ival > (UINT64_MAX - d) / 10) {
				t->ival_ok = false;
				break;
			}
			t->ival = t->ival * 10 + d;
		}
	}
	return 0;
}

int qrtx_lex_next(struct qrtx_lexer *lx)
{
	struct qrtx_tok *t = &lx->tok;
	char ch, desc[16];
	int err;

	err = skip_space(lx);
	memset(t, 0, sizeof(*t));
	t->line = lx->line;
	t->col = lx->col;
	t->s = lx->text + lx->pos;
	if (err)
		return err;
	if (at_end(lx)) {
		t->kind = QRTX_TK_EOF;
		return 0;
	}
	ch = peek(lx, 0);
	if (is_ident_start(ch)) {
		while (is_ident(peek(lx, 0)))
			advance(lx);
		t->kind = QRTX_TK_ID;
		t->len = (size_t)(lx->text + lx->pos - t->s);
		if (t->len > QRTX_IDENT_MAX)
			return qrtx_lex_error(lx, t, "identifier '%.20s...' is longer than %d "
					      "characters", t->s, QRTX_IDENT_MAX);
		return 0;
	}
	if (is_digit(ch) || (ch == '.' && is_digit(peek(lx, 1))))
		return lex_number(lx, t);
	if (ch == '"') {
		advance(lx);
		while (peek(lx, 0) != '"') {
			unsigned char u = (unsigned char)peek(lx, 0);

			if (at_end(lx) || u == '\n')
				return qrtx_lex_error(lx, t, "string is not closed ('\"' missing)");
			/* Strings are echoed in messages: no terminal controls. */
			if (u < 0x20 || u == 0x7f)
				return qrtx_lex_error(lx, t, "control character (byte 0x%02x) in "
						      "string", u);
			advance(lx);
		}
		advance(lx);
		t->kind = QRTX_TK_STRING;
		t->s++;
		t->len = (size_t)(lx->text + lx->pos - t->s) - 1;
		return 0;
	}

	t->len = 1;
	switch (ch) {
	case ';': t->kind = QRTX_TK_SEMI; break;
	case ',': t->kind = QRTX_TK_COMMA; break;
	case '[': t->kind = QRTX_TK_LBRACK; break;
	case ']': t->kind = QRTX_TK_RBRACK; break;
	case '(': t->kind = QRTX_TK_LPAREN; break;
	case ')': t->kind = QRTX_TK_RPAREN; break;
	case '{': t->kind = QRTX_TK_LBRACE; break;
	case '}': t->kind = QRTX_TK_RBRACE; break;
	case '+': t->kind = QRTX_TK_PLUS; break;
	case '*': t->kind = QRTX_TK_STAR; break;
	case '/': t->kind = QRTX_TK_SLASH; break;
	case '^': t->kind = QRTX_TK_CARET; break;
	case '-':
		if (peek(lx, 1) == '>') {
			t->kind = QRTX_TK_ARROW;
			t->len = 2;
		} else {
			t->kind = QRTX_TK_MINUS;
		}
		break;
	case '=':
		if (peek(lx, 1) != '=')
			return qrtx_lex_error(lx, t,
					      "unexpected '=' (comparisons are written '==')");
		t->kind = QRTX_TK_EQEQ;
		t->len = 2;
		break;
	default:
		describe_char(ch, desc, sizeof(desc));
		return qrtx_lex_error(lx, t, "unexpected character %s", desc);
	}
	for (size_t i = 0; i < t->len; i++)
		advance(lx);
	return 0;
}

int qrtx_lex_init(struct qrtx_lexer *lx, const char *text, size_t len,
		  const char *file, struct qrtx_error *err)
{
	memset(lx, 0, sizeof(*lx));
	lx->text = text;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
	lx->file = file;
	lx->err = err;
	return qrtx_lex_next(lx);
}

void qrtx_tok_describe(const struct qrtx_tok *tok, char *buf, size_t len)
{
	switch (tok->kind) {
	case QRTX_TK_EOF:
		snprintf(buf, len, "end of input");
		break;
	case QRTX_TK_STRING:
		snprintf(buf, len, "string \"%.*s\"", tok->len > 40 ? 40 : (int)tok->len, tok->s);
		break;
	case QRTX_TK_ID:
	case QRTX_TK_INT:
	case QRTX_TK_REAL:
	default:
		snprintf(buf, len, "'%.*s'", tok->len > 40 ? 40 : (int)tok->len, tok->s);
		break;
	}
}

bool qrtx_tok_is(const struct qrtx_tok *tok, const char *word)
{
	return tok->kind == QRTX_TK_ID && strlen(word) == tok->len &&
	       !memcmp(tok->s, word, tok->len);
}
