/* Classifies a connection from the first bytes the client sends: is it an
 * HTTP/1.x request to an LLM endpoint, or an HTTP/2 preface to a known LLM
 * host (by SNI)? A pure function of (bytes, SNI), run on the app thread, so
 * it only scans the request line and the Host header. */
#ifndef LLM_CLASSIFY_H
#define LLM_CLASSIFY_H

#include <stddef.h>

#define LLM_CLASS_MORE 0  /* need more bytes */
#define LLM_CLASS_LLM 1   /* an LLM API request, or a connection to an LLM host */
#define LLM_CLASS_OTHER 2 /* not ours: pass through from now on */

#define LLM_CLASS_HEAD_MAX 16384 /* request heads larger than this are not LLM calls */

/* sni may be NULL. */
int llm_classify(const char *buf, size_t len, const char *sni);

#endif
