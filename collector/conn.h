/* The collector's view of connections: a table from connection id to the
 * protocol state that parses it (h1conn.h for HTTP/1.1, h2.h for HTTP/2,
 * chosen by the first outgoing bytes). Fed one queue message at a time;
 * finished records are handed to a sink. Collector thread only. */
#ifndef LLM_CONN_H
#define LLM_CONN_H

#include "exchange.h"
#include "http1.h"
#include "queue.h"

typedef void (*llm_record_sink)(void *ctx, struct llm_record *r);

struct llm_conn;

struct llm_conns {
    struct llm_conn *buckets[256];
    const struct llm_core_opts *opts;
    llm_record_sink sink;
    void *ctx;
    size_t count;
};

void llm_conns_init(struct llm_conns *cs, const struct llm_core_opts *opts, llm_record_sink sink,
                    void *ctx);
/* Consumes one message (the caller still frees it). */
void llm_conns_feed(struct llm_conns *cs, const struct llm_msg *m);
/* Ends every connection: exchanges still open become incomplete records
 * with error_type why. */
void llm_conns_close_all(struct llm_conns *cs, const char *why, int64_t t, int64_t mono);
/* Forgets every connection without emitting anything (after fork). */
void llm_conns_forget(struct llm_conns *cs);

#endif
