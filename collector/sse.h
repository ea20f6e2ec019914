/* text/event-stream framing (WHATWG "server-sent events"): lines end in
 * CRLF, LF or CR; "event:" names the event, "data:" lines are joined with
 * LF, ":" lines are comments, a blank line dispatches. Incremental and
 * split-proof; an event whose data outgrows the cap is dispatched cut, with
 * its truncated flag set. Collector thread only. */
#ifndef LLM_SSE_H
#define LLM_SSE_H

#include "buf.h"

#include <stddef.h>

struct llm_sse_event {
    const char *event; /* NUL-terminated; "" when the stream did not name it */
    const char *data;  /* NUL-terminated */
    size_t data_len;
    int truncated;
};

typedef void (*llm_sse_fn)(void *ctx, const struct llm_sse_event *ev);

struct llm_sse {
    struct llm_buf line;  /* the current line */
    struct llm_buf event; /* event name */
    struct llm_buf data;  /* joined data lines */
    int have_data;
    int last_cr; /* previous byte was CR: a following LF belongs to it */
    int bom;     /* bytes of a leading UTF-8 BOM matched so far; 3: done */
    llm_sse_fn fn;
    void *ctx;
};

void llm_sse_init(struct llm_sse *s, size_t max_event, llm_sse_fn fn, void *ctx);
void llm_sse_feed(struct llm_sse *s, const char *p, size_t n);
/* End of stream: an event not closed by a blank line is still dispatched
 * (servers that close right after the last data line). */
void llm_sse_finish(struct llm_sse *s);
void llm_sse_free(struct llm_sse *s);

#endif
