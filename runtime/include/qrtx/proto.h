/* SPDX-License-Identifier: MIT */
/*
 * The qrtxd wire protocol, version 1 (Documentation/runtime/daemon.rst).
 *
 * A message is a frame: a 4-byte big-endian length N, 1 <= N <=
 * QRTX_PROTO_MAX_FRAME, then N bytes of one UTF-8 JSON object. A request
 * carries "v" (1), "id" (any integer, echoed) and "op"; every request gets
 * exactly one response with the same "id", "ok" (true or false) and, when
 * false, "error": {"category", "message"}.
 *
 * These helpers frame and unframe messages; they do no I/O of their own
 * except qrtx_proto_send/recv, the blocking forms for clients.
 */
#ifndef QRTX_PROTO_H
#define QRTX_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define QRTX_PROTO_VERSION 1
#define QRTX_PROTO_MAX_FRAME (16u << 20)
/* Deepest JSON nesting a frame may have (jansson's own limit is larger). */
#define QRTX_PROTO_MAX_DEPTH 64

/* Error categories on the wire: the job ones of the design, and these. */
#define QRTX_PROTO_ERR_PROTOCOL	"ProtocolError"	/* bad frame or request */
#define QRTX_PROTO_ERR_NOTFOUND	"NotFound"	/* no such job (or not yours) */
#define QRTX_PROTO_ERR_NOTREADY	"NotReady"	/* result of an unfinished job */
#define QRTX_PROTO_ERR_INTERNAL	"InternalError"

/* Frame o (compact JSON) into a malloc'd buffer of *len bytes. */
int qrtx_proto_encode(const json_t *o, unsigned char **buf, size_t *len);

/*
 * Look for one whole frame at the start of buf[0..len). Returns 0 and
 * *need > 0 when more bytes are needed (*need: the total frame size when
 * known, else 4); 1 with the frame's size in *need and its payload at
 * buf + 4 when complete; -EMSGSIZE for a length of 0 or above the limit.
 */
int qrtx_proto_frame(const unsigned char *buf, size_t len, size_t *need);

/* Parse a payload into a JSON object: NULL with why in errbuf when it is
 * not one object, or nests deeper than QRTX_PROTO_MAX_DEPTH. */
json_t *qrtx_proto_parse(const unsigned char *payload, size_t len, char *errbuf,
			 size_t errlen);

/* Blocking send and receive of one frame on a stream socket (clients,
 * workers). recv returns -ECONNRESET at a clean end of stream. */
int qrtx_proto_send(int fd, const json_t *o);
int qrtx_proto_recv(int fd, json_t **out, char *errbuf, size_t errlen);

/*
 * Frames of qrtxd and its own workers only (not the client protocol):
 * o's JSON text followed by tail[0..taillen) as it is, for texts that
 * would otherwise be escaped into JSON strings and back. parse_head
 * parses the object at the start of a payload and says in *used how many
 * bytes it took (the tail follows); no nesting check (trusted peers).
 * recv_tail also hands over the payload (malloc'd, *len bytes).
 */
int qrtx_proto_encode_tail(const json_t *o, const void *tail, size_t taillen,
			   unsigned char **buf, size_t *len);
/*
 * A frame of o's JSON (an object) with "key": raw added as its last
 * member, raw being JSON text put in as it is: a document kept as text
 * (key plain, needing no escapes) is not parsed only to be written out
 * again. -EMSGSIZE when the frame would be too long, -EINVAL when o is
 * not an object, -ENOMEM.
 */
int qrtx_proto_encode_member(const json_t *o, const char *key, const char *raw,
			     unsigned char **buf, size_t *len);
json_t *qrtx_proto_parse_head(const unsigned char *payload, size_t len, size_t *used,
			      char *errbuf, size_t errlen);
int qrtx_proto_send_tail(int fd, const json_t *o, const void *tail, size_t taillen);
int qrtx_proto_recv_tail(int fd, json_t **out, unsigned char **payload, size_t *len,
			 size_t *used, char *errbuf, size_t errlen);

#endif
