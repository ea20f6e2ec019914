/* SSE framing. The only state carried between calls is the partial line,
 * the event being built and whether the last byte was a CR. */
#include "sse.h"

#include <string.h>

void llm_sse_init(struct llm_sse *s, size_t max_event, llm_sse_fn fn, void *ctx)
{
    memset(s, 0, sizeof(*s));
    llm_buf_init(&s->line, max_event);
    llm_buf_init(&s->event, 256);
    llm_buf_init(&s->data, max_event);
    s->fn = fn;
    s->ctx = ctx;
}

static void dispatch(struct llm_sse *s)
{
    struct llm_sse_event ev;

    if (s->have_data) {
        ev.event = s->event.p ? s->event.p : "";
        ev.data = s->data.p ? s->data.p : "";
        ev.data_len = s->data.len;
        ev.truncated = s->data.truncated;
        s->fn(s->ctx, &ev);
    }
    llm_buf_reset(&s->event);
    llm_buf_reset(&s->data);
    s->have_data = 0;
}

static void line(struct llm_sse *s, const char *p, size_t n, int cut)
{
    const char *colon, *v;
    size_t fl, vl;

    if (n == 0) {
        dispatch(s);
        return;
    }
    if (p[0] == ':')
        return; /* comment (OpenRouter's ": OPENROUTER PROCESSING") */
    colon = memchr(p, ':', n);
    fl = colon ? (size_t)(colon - p) : n;
    v = colon ? colon + 1 : p + n;
    vl = colon ? n - fl - 1 : 0;
    if (vl && *v == ' ')
        v++, vl--;
    if (fl == 4 && !memcmp(p, "data", 4)) {
        if (s->have_data)
            llm_buf_append(&s->data, "\n", 1);
        llm_buf_append(&s->data, v, vl);
        if (cut)
            s->data.truncated = 1;
        s->have_data = 1;
    } else if (fl == 5 && !memcmp(p, "event", 5)) {
        llm_buf_reset(&s->event);
        llm_buf_append(&s->event, v, vl);
    }
    /* id and retry do not matter to us */
}

void llm_sse_feed(struct llm_sse *s, const char *p, size_t n)
{
    static const char bom[3] = "\xef\xbb\xbf";
    const char *end = p + n;

    /* the stream may start with a byte-order mark, which is not a field */
    while (s->bom < 3 && p < end) {
        if (*p != bom[s->bom]) {
            llm_buf_append(&s->line, bom, (size_t)s->bom); /* not a BOM after all */
            s->bom = 3;
            break;
        }
        s->bom++;
        p++;
    }

    while (p < end) {
        if (s->last_cr && *p == '\n') { /* second half of CRLF */
            s->last_cr = 0;
            p++;
            continue;
        }
        s->last_cr = 0;
        const char *nl = p;
        while (nl < end && *nl != '\n' && *nl != '\r')
            nl++;
        if (nl > p)
            llm_buf_append(&s->line, p, (size_t)(nl - p));
        if (nl == end)
            break;
        s->last_cr = *nl == '\r';
        line(s, s->line.p ? s->line.p : "", s->line.len, s->line.truncated);
        llm_buf_reset(&s->line);
        p = nl + 1;
    }
}

void llm_sse_finish(struct llm_sse *s)
{
    if (s->line.len) {
        line(s, s->line.p, s->line.len, s->line.truncated);
        llm_buf_reset(&s->line);
    }
    dispatch(s);
}

void llm_sse_free(struct llm_sse *s)
{
    llm_buf_free(&s->line);
    llm_buf_free(&s->event);
    llm_buf_free(&s->data);
}
