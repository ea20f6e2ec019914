/* One HTTP request/response pair on an LLM connection, from the request
 * head to the finished record. The connection layer (conn.c) drives it with
 * parsed HTTP pieces and the monotonic/real time of the bytes that carried
 * them; the exchange routes bodies through body.c to its dialect.
 * Collector thread only. */
#ifndef LLM_EXCHANGE_H
#define LLM_EXCHANGE_H

#include "body.h"
#include "dialect.h"
#include "http1.h"
#include "queue.h"

#include <stdint.h>

struct llm_core_opts {
    size_t max_body;  /* content kept per field (LLMOPS_MAX_BODY) */
    size_t max_parse; /* bytes of a JSON body parsed for model and usage */
    size_t max_event; /* bytes of one stream event */
    size_t max_head;  /* URL + header bytes kept per HTTP/1 head (0: LLM_H1_HEAD_MAX) */
    int capture_content;
};

struct llm_exchange {
    struct llm_exchange *next;
    const struct llm_core_opts *opts;
    struct llm_call call;
    struct llm_body req, resp;
    int resp_started; /* response head seen */
    int done;         /* response complete */
    int request_seen; /* the dialect has seen the request */
    char *path;       /* request path without query */
    int64_t t_start, m_start, m_first_byte, m_end, t_end;
    uint64_t req_bytes, resp_bytes; /* body bytes as on the wire (before decoding) */
    int http_major, http_minor;
};

/* head: the request head; info: the connection; t/m: when its first byte
 * was sent. Returns NULL when the request is no LLM API call we record
 * (the caller still keeps a placeholder for response pairing). */
struct llm_exchange *llm_exchange_new(const struct llm_h1_head *head,
                                      const struct llm_open_info *info,
                                      const struct llm_core_opts *opts, int64_t t, int64_t m);
void llm_exchange_request_body(struct llm_exchange *x, const char *p, size_t n);
void llm_exchange_request_end(struct llm_exchange *x);
void llm_exchange_response_head(struct llm_exchange *x, const struct llm_h1_head *head);
void llm_exchange_response_body(struct llm_exchange *x, const char *p, size_t n);
void llm_exchange_response_end(struct llm_exchange *x, int64_t t, int64_t m);
/* Builds the record. why: NULL for a completed exchange, else the
 * error_type of an incomplete one ("connection_closed", "process_exit",
 * "capture_lost"). The record moves to *out; the exchange is freed. */
void llm_exchange_finish(struct llm_exchange *x, const char *why, int64_t t, int64_t m,
                         struct llm_record *out);
void llm_exchange_free(struct llm_exchange *x);
/* The record for a connection to an LLM host through a TLS library we
 * cannot hook: status "not_observable", naming the host, at time t. */
void llm_exchange_opaque(const struct llm_open_info *info, int64_t t, struct llm_record *out);

#endif
