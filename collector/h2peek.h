/* Reads the first request of an HTTP/2 connection from the client's first
 * bytes (preface, control frames, the first HEADERS block) without keeping
 * any state, so the tap can classify HTTP/2 that no SNI names. */
#ifndef LLM_H2PEEK_H
#define LLM_H2PEEK_H

#include <stddef.h>
#include <stdint.h>

/* A first header block (HPACK-coded) larger than this is not an LLM call. */
#define LLM_H2PEEK_BLOCK_MAX 8192

struct llm_h2peek {
    uint32_t stream_id;
    char path[1024];     /* :path, cut to fit */
    char authority[256]; /* :authority (or host), cut to fit */
};

/* p starts with the client preface. Returns the bytes up to the end of the
 * first header block (> 0) with out filled; LLM_EPARTIAL when more bytes are
 * needed; LLM_EPARSE when this is not the start of an HTTP/2 client stream
 * or HPACK fails; LLM_ETOOBIG past LLM_H2PEEK_BLOCK_MAX. */
int llm_h2peek_request(const char *p, size_t n, struct llm_h2peek *out);
/* Its type, for the tap, which reaches it through libllmops-core.so. */
typedef int (*llm_h2peek_fn)(const char *p, size_t n, struct llm_h2peek *out);

#endif
