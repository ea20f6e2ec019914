/* Classifies a connection from the first bytes the client sends: is it an
 * HTTP/1.x request to an LLM endpoint, or HTTP/2 to a known LLM host (by
 * SNI) or whose first request is an LLM call (read by the core's
 * llm_h2peek_request, when loaded)? A pure function of (bytes, SNI), run on
 * the app thread, so it only scans the request line and a few headers. */
#ifndef LLM_CLASSIFY_H
#define LLM_CLASSIFY_H

#include "h2peek.h"

#include <stddef.h>

#define LLM_CLASS_MORE 0  /* need more bytes */
#define LLM_CLASS_LLM 1   /* an LLM API request, or a connection to an LLM host */
#define LLM_CLASS_OTHER 2 /* not ours: pass through from now on */

/* need more bytes; until then the server may speak (HTTP/2 SETTINGS, the 101
 * of an h2c upgrade), and what it says must be kept for the collector */
#define LLM_CLASS_MORE_H2 3
#define LLM_CLASS_HEAD_MAX 16384 /* request heads larger than this are not LLM calls */

/* sni and peek may be NULL (without peek, HTTP/2 is judged by SNI alone). */
int llm_classify(const char *buf, size_t len, const char *sni, llm_h2peek_fn peek);

#endif
