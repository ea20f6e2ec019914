/* HTTP/1.1 on one connection: parsers for both directions and the FIFO of
 * exchanges waiting for their response (HTTP/1.1 answers in request order,
 * pipelined or not). conn.c creates one when a connection's first bytes are
 * not the HTTP/2 preface. Collector thread only. */
#ifndef LLM_H1CONN_H
#define LLM_H1CONN_H

#include "conn.h"

#include <stddef.h>
#include <stdint.h>

struct llm_h1conn;

struct llm_h1conn *llm_h1conn_new(struct llm_conns *cs, const struct llm_open_info *info);
#define LLM_H1CONN_H2C 1 /* llm_h1conn_feed: the connection is HTTP/2 from now on */

/* Bytes of one direction (LLM_MSG_OUT or LLM_MSG_IN) seen at t/m. Returns 0;
 * LLM_EPARSE when the stream is not HTTP/1.1 (the caller then calls
 * llm_h1conn_fail); or LLM_H1CONN_H2C when the server accepted an upgrade
 * to h2c (RFC 7540 section 3.2) in these bytes: the caller then takes the
 * rest with llm_h1conn_upgrade. */
int llm_h1conn_feed(struct llm_h1conn *s, int kind, const char *p, size_t n, int64_t t, int64_t m);
/* After LLM_H1CONN_H2C: *x is the upgrade request's exchange (now the
 * caller's: HTTP/2 stream 1 answers it; NULL when it was not an LLM call),
 * *out and *out_n the client bytes sent after that request (the HTTP/2 preface
 * on), *in_off where HTTP/2 starts in the bytes just fed. s stays owned by
 * the caller, who closes it once done with out. */
void llm_h1conn_upgrade(struct llm_h1conn *s, struct llm_exchange **x, const char **out,
                        size_t *out_n, size_t *in_off);
/* Stop parsing: exchanges still open become incomplete records (error_type
 * why); later bytes are ignored. */
void llm_h1conn_fail(struct llm_h1conn *s, const char *why, int64_t t, int64_t m);
/* The connection ended: completes a close-delimited response, records the
 * rest as incomplete (why) and frees s. */
void llm_h1conn_close(struct llm_h1conn *s, const char *why, int64_t t, int64_t m);

#endif
