/* HTTP/1.x message framing for one direction of one connection, on top of
 * the packaged http-parser (Content-Length, chunked, close-delimited,
 * keep-alive sequences, 1xx interim responses). Incremental: any split of the
 * bytes gives the same callbacks. Collector thread only. */
#ifndef LLM_HTTP1_H
#define LLM_HTTP1_H

#include "buf.h"

#include <http_parser.h>
#include <stddef.h>

#define LLM_H1_MAX_HEADERS 64
#define LLM_H1_HEAD_MAX (1u << 20) /* URL + header bytes kept per message (LLMOPS_MAX_HEAD) */

struct llm_h1_header {
    size_t name, name_len, value, value_len; /* offsets into llm_h1_head.raw */
};

struct llm_h1_head {
    int is_request;
    const char *method; /* requests */
    int status;         /* responses */
    int http_major, http_minor;
    const char *url; /* NUL-terminated, in raw */
    size_t nheaders;
    struct llm_h1_header headers[LLM_H1_MAX_HEADERS];
    struct llm_buf raw; /* url and header bytes */
    int truncated;      /* headers past the caps were dropped */
};

/* Returns the value of a header (case-insensitive name) or NULL, and its
 * length in *len. Values are not NUL-terminated. */
const char *llm_h1_header(const struct llm_h1_head *h, const char *name, size_t *len);

struct llm_h1_callbacks {
    /* the head is complete; return 1 to announce the message has no body
     * (a response to HEAD), else 0 */
    int (*on_head)(void *ctx, struct llm_h1_head *h);
    void (*on_body)(void *ctx, const char *p, size_t n);
    void (*on_end)(void *ctx, int interim); /* interim: a 1xx response */
};

struct llm_h1 {
    http_parser parser;
    http_parser_settings settings;
    const struct llm_h1_callbacks *cb;
    void *ctx;
    struct llm_h1_head head;
    int in_value;  /* last header callback was a value */
    int in_msg;    /* between message begin and message complete */
    int skipping;  /* the header table is full: later headers are dropped */
    int failed;    /* the parser gave up: the stream is not HTTP */
    int upgraded;  /* a message that switches protocols has ended */
};

void llm_h1_init(struct llm_h1 *h, int is_request, const struct llm_h1_callbacks *cb, void *ctx);
void llm_h1_free(struct llm_h1 *h);
/* URL + header bytes kept per message (0: LLM_H1_HEAD_MAX); a longer head
 * is cut there, flagged truncated and parsed on, so the messages after it
 * keep their framing. Before the first feed. */
void llm_h1_set_head_max(struct llm_h1 *h, size_t max);
/* Returns the bytes consumed or LLM_EPARSE; after an error the parser
 * stays failed. Fewer than n only after a message that switches protocols
 * (a 101 response, a request with Upgrade, CONNECT): the bytes after it are
 * not HTTP/1.1; llm_h1_upgraded() then says so, and later feeds fail. */
int llm_h1_feed(struct llm_h1 *h, const char *p, size_t n);
/* Non-zero once a message that switches protocols has ended. */
int llm_h1_upgraded(const struct llm_h1 *h);
/* Parse HTTP/1.1 again from a message boundary (a request with Upgrade that
 * the server did not take up: the connection stays HTTP/1.1). */
void llm_h1_restart(struct llm_h1 *h);
/* The connection ended: completes a close-delimited body. */
int llm_h1_eof(struct llm_h1 *h);
/* Non-zero while a message has started and not ended. */
int llm_h1_in_message(const struct llm_h1 *h);

#endif
