// SPDX-License-Identifier: MIT
/*
 * Framing of the qrtxd protocol: see qrtx/proto.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qrtx/proto.h"

/* The frame's length, n payload bytes, big-endian at b[0..4). */
static void put_len(unsigned char *b, size_t n)
{
	b[0] = (unsigned char)(n >> 24);
	b[1] = (unsigned char)(n >> 16);
	b[2] = (unsigned char)(n >> 8);
	b[3] = (unsigned char)n;
}

/* A frame for n payload bytes, its length written: 0, -EMSGSIZE or
 * -ENOMEM. */
static int frame_new(size_t n, unsigned char **b)
{
	*b = NULL;
	if (n == 0 || n > QRTX_PROTO_MAX_FRAME)
		return -EMSGSIZE;
	*b = malloc(n + 4);
	if (!*b)
		return -ENOMEM;
	put_len(*b, n);
	return 0;
}

int qrtx_proto_encode(const json_t *o, unsigned char **buf, size_t *len)
{
	char *s = json_dumps(o, JSON_COMPACT);
	size_t n = s ? strlen(s) : 0;
	unsigned char *b;
	int ret = s ? frame_new(n, &b) : -ENOMEM;

	*buf = NULL;
	*len = 0;
	if (!ret) {
		memcpy(b + 4, s, n);
		*buf = b;
		*len = n + 4;
	}
	free(s);
	return ret;
}

int qrtx_proto_encode_tail(const json_t *o, const void *tail, size_t taillen,
			   unsigned char **buf, size_t *len)
{
	unsigned char *b;
	size_t n;
	int ret = qrtx_proto_encode(o, &b, &n);

	if (ret || !taillen)
		goto out;
	if (n - 4 + taillen > QRTX_PROTO_MAX_FRAME) {
		free(b);
		return -EMSGSIZE;
	}
	{
		unsigned char *nb = realloc(b, n + taillen);

		if (!nb) {
			free(b);
			return -ENOMEM;
		}
		b = nb;
	}
	memcpy(b + n, tail, taillen);
	n += taillen;
	put_len(b, n - 4);
out:
	*buf = ret ? NULL : b;
	*len = ret ? 0 : n;
	return ret;
}

int qrtx_proto_encode_member(const json_t *o, const char *key, const char *raw,
			     unsigned char **buf, size_t *len)
{
	char *s = json_dumps(o, JSON_COMPACT);
	size_t hl = s ? strlen(s) : 0, kl = strlen(key), rl = strlen(raw), n;
	unsigned char *b;
	int ret;

	*buf = NULL;
	*len = 0;
	if (!s || hl < 2 || s[hl - 1] != '}') {
		free(s);
		return s ? -EINVAL : -ENOMEM;
	}
	/* {...} becomes {...,"key":raw}, or {"key":raw} from {} */
	n = hl - 1 + (hl > 2) + kl + 3 + rl + 1;
	ret = frame_new(n, &b);
	if (ret) {
		free(s);
		return ret;
	}
	*buf = b;
	*len = n + 4;
	b += 4;
	memcpy(b, s, hl - 1);
	b += hl - 1;
	if (hl > 2)
		*b++ = ',';
	*b++ = '"';
	memcpy(b, key, kl);
	b += kl;
	*b++ = '"';
	*b++ = ':';
	memcpy(b, raw, rl);
	b[rl] = '}';
	free(s);
	return 0;
}

json_t *qrtx_proto_parse_head(const unsigned char *payload, size_t len, size_t *used,
			      char *errbuf, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb((const char *)payload, len,
			       JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &je);

	if (!o || !json_is_object(o)) {
		json_decref(o);
		snprintf(errbuf, errlen, "not a JSON object at the start of the frame");
		return NULL;
	}
	*used = (size_t)je.position;
	return o;
}

int qrtx_proto_frame(const unsigned char *buf, size_t len, size_t *need)
{
	uint32_t n;

	if (len < 4) {
		*need = 4;
		return 0;
	}
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (n == 0 || n > QRTX_PROTO_MAX_FRAME)
		return -EMSGSIZE;
	*need = (size_t)n + 4;
	return len >= *need;
}

/* Nesting depth of JSON text, counted over brackets outside strings: the
 * check runs before jansson, whose recursion it bounds. */
static bool too_deep(const unsigned char *p, size_t len)
{
	int depth = 0;
	bool str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				str = false;
			continue;
		}
		if (c == '"')
			str = true;
		else if (c == '[' || c == '{')
			depth++;
		else if (c == ']' || c == '}')
			depth--;
		if (depth > QRTX_PROTO_MAX_DEPTH)
			return true;
	}
	return false;
}

json_t *qrtx_proto_parse(const unsigned char *payload, size_t len, char *errbuf,
			 size_t errlen)
{
	json_error_t je;
	json_t *o;

	if (too_deep(payload, len)) {
		snprintf(errbuf, errlen, "JSON nested deeper than %d levels", QRTX_PROTO_MAX_DEPTH);
		return NULL;
	}
	o = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		snprintf(errbuf, errlen, "not JSON: %s (offset %d)", je.text, je.position);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(errbuf, errlen, "a message must be a JSON object");
		return NULL;
	}
	return o;
}

static int write_all(int fd, const unsigned char *b, size_t n)
{
	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, unsigned char *b, size_t n)
{
	while (n) {
		ssize_t r = read(fd, b, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int qrtx_proto_send(int fd, const json_t *o)
{
	unsigned char *b;
	size_t n;
	int ret = qrtx_proto_encode(o, &b, &n);

	if (ret)
		return ret;
	ret = write_all(fd, b, n);
	free(b);
	return ret;
}

int qrtx_proto_send_tail(int fd, const json_t *o, const void *tail, size_t taillen)
{
	unsigned char *b;
	size_t n;
	int ret = qrtx_proto_encode_tail(o, tail, taillen, &b, &n);

	if (ret)
		return ret;
	ret = write_all(fd, b, n);
	free(b);
	return ret;
}

/* Read one frame's payload (malloc'd, *len bytes) from fd. */
static int read_frame(int fd, unsigned char **payload, size_t *len, char *errbuf,
		      size_t errlen)
{
	unsigned char hdr[4], *p;
	size_t need;
	int ret;

	*payload = NULL;
	ret = read_all(fd, hdr, 4);
	if (ret)
		return ret;
	ret = qrtx_proto_frame(hdr, 4, &need);
	if (ret < 0) {
		snprintf(errbuf, errlen, "frame length out of range");
		return ret;
	}
	p = malloc(need - 4);
	if (!p)
		return -ENOMEM;
	ret = read_all(fd, p, need - 4);
	if (ret) {
		free(p);
		return ret;
	}
	*payload = p;
	*len = need - 4;
	return 0;
}

int qrtx_proto_recv_tail(int fd, json_t **out, unsigned char **payload, size_t *len,
			 size_t *used, char *errbuf, size_t errlen)
{
	int ret = read_frame(fd, payload, len, errbuf, errlen);

	*out = NULL;
	if (ret)
		return ret;
	*out = qrtx_proto_parse_head(*payload, *len, used, errbuf, errlen);
	if (!*out) {
		free(*payload);
		*payload = NULL;
		return -EBADMSG;
	}
	return 0;
}

int qrtx_proto_recv(int fd, json_t **out, char *errbuf, size_t errlen)
{
	unsigned char *p;
	size_t n;
	int ret = read_frame(fd, &p, &n, errbuf, errlen);

	*out = NULL;
	if (ret)
		return ret;
	*out = qrtx_proto_parse(p, n, errbuf, errlen);
	free(p);
	return *out ? 0 : -EBADMSG;
}
