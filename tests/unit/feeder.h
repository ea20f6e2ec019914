/* Test support: drive the collector's connection layer (conn.c) with queue
 * messages the way the tap would, and collect the records it emits. */
#ifndef LLM_TEST_FEEDER_H
#define LLM_TEST_FEEDER_H

#include "conn.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

#define LLM_FEED_MAX_RECS 16

struct llm_feed_sink {
    struct llm_record recs[LLM_FEED_MAX_RECS];
    int n; /* records emitted (may exceed the array: the extra are dropped) */
};

struct llm_feeder {
    struct llm_conns cs;
    struct llm_feed_sink sink;
    int64_t t; /* the next message's time; 1 ms per message */
};

/* Content caps of 1 MiB, parse 64 MiB, events 4 MiB, content captured. */
extern const struct llm_core_opts llm_feed_opts;

void llm_feed_init(struct llm_feeder *f);
void llm_feed_init_opts(struct llm_feeder *f, const struct llm_core_opts *opts);
/* Ends every connection ("process_exit") and frees the records. */
void llm_feed_done(struct llm_feeder *f);
void llm_feed_msg(struct llm_feeder *f, uint64_t conn, int kind, const void *p, size_t n,
                  int flags);
/* OPEN for a TLS connection seen through OpenSSL, with this SNI. */
void llm_feed_open(struct llm_feeder *f, uint64_t conn, const char *sni);

/* Standard base64 (the corpus keeps binary bodies that way; padding and
 * newlines are skipped); returns the bytes written to out (>= n * 3 / 4). */
size_t llm_feed_b64_decode(const char *in, size_t n, unsigned char *out);

/* A header of a corpus vector's request_headers or response_headers (a
 * string or the first of an array), any case; NULL if absent. */
const char *llm_feed_header(json_t *headers, const char *name);
/* A corpus vector replayed through the connection layer as test_conn does
 * (whole messages, Content-Length framing, one TLS connection with the
 * URL's host as SNI): f is initialised here, its records are in f->sink,
 * and the caller ends with llm_feed_done. -1 (f untouched) when the vector
 * has no URL, method or response body. */
int llm_feed_vector(struct llm_feeder *f, json_t *root);

#endif
