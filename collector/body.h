/* One HTTP body on its way to a dialect: content decoding (identity, gzip,
 * deflate in its zlib and raw forms, br, zstd), then framing by media type
 * into events: each SSE event, each NDJSON line, each AWS event-stream
 * message, or, for any other body, the whole body once at the end. The
 * first bytes of every body are also kept whole, so a JSON error sent under
 * an event-stream content type is still delivered. Collector thread only. */
#ifndef LLM_BODY_H
#define LLM_BODY_H

#include "buf.h"
#include "eventstream.h"
#include "sse.h"

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

struct BrotliDecoderStateStruct;
struct ZSTD_DCtx_s;

enum llm_framing { LLM_FRAME_WHOLE, LLM_FRAME_SSE, LLM_FRAME_NDJSON, LLM_FRAME_EVENTSTREAM };
enum llm_encoding {
    LLM_ENC_IDENTITY,
    LLM_ENC_GZIP,
    LLM_ENC_DEFLATE,
    LLM_ENC_BR,
    LLM_ENC_ZSTD,
    LLM_ENC_UNSUPPORTED
};

/* kind: LLM_FRAME_WHOLE for the whole body (event NULL), else the framing
 * that produced it. data is NUL-terminated. event: the SSE event name ("" if
 * unnamed), NULL for NDJSON; for LLM_FRAME_EVENTSTREAM (application/
 * vnd.amazon.eventstream) the ":event-type" header of an event message,
 * "exception:<:exception-type>" for an exception message (data = its JSON
 * payload) and "error:<:error-code>" for an error message (data = the
 * ":error-message" text). */
typedef void (*llm_body_fn)(void *ctx, int kind, const char *event, const char *data, size_t n,
                            int truncated);

struct llm_body {
    enum llm_framing framing;
    enum llm_encoding encoding;
    z_stream z;
    int z_ready, z_done;
    unsigned char hdr[2]; /* first bytes of a deflate body */
    size_t hdr_len;
    struct BrotliDecoderStateStruct *br;
    struct ZSTD_DCtx_s *zstd;
    struct llm_sse sse;
    struct llm_eventstream es;
    struct llm_buf whole; /* the body (capped) for WHOLE, the head otherwise */
    struct llm_buf line;  /* NDJSON line being assembled */
    uint64_t wire_bytes;    /* as received */
    uint64_t decoded_bytes; /* after content decoding */
    uint64_t events;        /* events dispatched */
    int decode_error; /* content decoding failed, or framing lost after events */
    llm_body_fn fn;
    void *ctx;
};

/* content_type / content_encoding: header values (may be NULL). */
void llm_body_init(struct llm_body *b, const char *content_type, size_t ct_len,
                   const char *content_encoding, size_t ce_len, size_t max_whole,
                   size_t max_event, llm_body_fn fn, void *ctx);
void llm_body_feed(struct llm_body *b, const char *p, size_t n);
/* The body ended (or the connection did): flushes framers and, for WHOLE
 * bodies or streams that produced no event, delivers the whole body. */
void llm_body_finish(struct llm_body *b);
void llm_body_free(struct llm_body *b);

#endif
