/* HTTP/2 on one connection: an incremental frame parser for both directions,
 * HPACK decoding (nghttp2's inflater, one per direction for the connection's
 * life) and one exchange per stream, so every stream becomes its own record.
 * conn.c creates one when a connection's first bytes are the client preface.
 * Collector thread only. */
#ifndef LLM_H2_H
#define LLM_H2_H

#include "conn.h"

#include <stddef.h>
#include <stdint.h>

#define LLM_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define LLM_H2_PREFACE_LEN 24
#define LLM_H2_MAX_STREAMS 256 /* streams tracked at once; more are recorded as lost */

struct llm_h2;

struct llm_h2 *llm_h2_new(struct llm_conns *cs, const struct llm_open_info *info);
/* After an h2c upgrade: stream 1 is the response to the HTTP/1.1 request
 * whose exchange is x (now h's; NULL when it was not an LLM call), which was
 * sent whole. Call before feeding any bytes. */
void llm_h2_adopt(struct llm_h2 *h, struct llm_exchange *x);
/* Bytes of one direction (LLM_MSG_OUT, starting with the preface, or
 * LLM_MSG_IN) seen at t/m. Any split gives the same records. Returns 0, or
 * LLM_EPARSE when the bytes are not HTTP/2 or HPACK fails (the caller then
 * calls llm_h2_fail). */
int llm_h2_feed(struct llm_h2 *h, int kind, const char *p, size_t n, int64_t t, int64_t m);
/* Stop parsing: open streams become incomplete records (error_type why);
 * later bytes are ignored. */
void llm_h2_fail(struct llm_h2 *h, const char *why, int64_t t, int64_t m);
/* The connection ended: open streams become incomplete records (why); frees h. */
void llm_h2_close(struct llm_h2 *h, const char *why, int64_t t, int64_t m);

#endif
