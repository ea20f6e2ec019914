/* AWS event-stream framing. State between calls: the prelude (12 bytes,
 * fixed), then the headers and payload in capped buffers, then the 4 CRC
 * bytes; the message CRC runs over every byte as it arrives, so a payload
 * cut at the cap is still checked whole. Headers are parsed only after the
 * message CRC matched. */
#include "eventstream.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define PRELUDE 12
#define MAX_HEADERS (128 * 1024) /* the protocol's limit */

void llm_eventstream_init(struct llm_eventstream *s, size_t max_event, llm_eventstream_fn fn,
                          void *ctx)
{
    memset(s, 0, sizeof(*s));
    llm_buf_init(&s->headers, MAX_HEADERS);
    llm_buf_init(&s->payload, max_event);
    s->fn = fn;
    s->ctx = ctx;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The string headers a message is named by; pointers into the headers. */
struct names {
    const char *v[4];
    size_t n[4];
};
enum { MTYPE, EVENT, EXC, ERRMSG };

/* Walks the headers. Returns 0, or -1 when they do not parse (an unknown
 * value type, a value running past the end). */
static int walk(const unsigned char *h, size_t n, struct names *o)
{
    /* value sizes by type: 0/1 bool, 2 byte, 3 short, 4 int, 5 long,
     * 6 bytes and 7 string (u16 length first), 8 timestamp, 9 uuid */
    static const int fixed[] = {0, 0, 1, 2, 4, 8, -1, -1, 8, 16};
    static const char *const keys[] = {":message-type", ":event-type", ":exception-type",
                                       ":error-message", ":error-code"};
    size_t i = 0;

    memset(o, 0, sizeof(*o));
    while (i < n) {
        size_t kl = h[i++], vl;
        const unsigned char *k = h + i;
        if (i + kl + 1 > n || h[i + kl] > 9)
            return -1;
        int type = h[i + kl];
        i += kl + 1;
        if (fixed[type] >= 0) {
            vl = (size_t)fixed[type];
        } else {
            if (i + 2 > n)
                return -1;
            vl = (size_t)h[i] << 8 | h[i + 1];
            i += 2;
        }
        if (i + vl > n)
            return -1;
        for (int w = 0; type == 7 && w < 5; w++) {
            if (kl == strlen(keys[w]) && !memcmp(k, keys[w], kl)) {
                int slot = w == 4 ? EXC : w; /* :error-code names like :exception-type */
                o->v[slot] = (const char *)h + i;
                o->n[slot] = vl;
            }
        }
        i += vl;
    }
    return 0;
}

static void dispatch(struct llm_eventstream *s)
{
    char name[LLM_ES_NAME_MAX];
    struct llm_eventstream_msg m;
    struct names o;

    if ((uint32_t)s->crc != be32(s->crc_in) || s->headers.len != s->hlen ||
        walk((const unsigned char *)s->headers.p, s->headers.len, &o)) {
        s->error = 1;
        return;
    }
    if (!o.v[MTYPE] || (o.n[MTYPE] == 5 && !memcmp(o.v[MTYPE], "event", 5))) {
        snprintf(name, sizeof(name), "%.*s", (int)o.n[EVENT], o.v[EVENT] ? o.v[EVENT] : "");
    } else {
        snprintf(name, sizeof(name), "%.*s:%.*s", (int)o.n[MTYPE], o.v[MTYPE], (int)o.n[EXC],
                 o.v[EXC] ? o.v[EXC] : "");
        /* an :error message carries its text in a header, not the payload */
        if (!s->payload.len && o.v[ERRMSG])
            llm_buf_append(&s->payload, o.v[ERRMSG], o.n[ERRMSG]);
    }
    m.event = name;
    m.data = s->payload.p ? s->payload.p : "";
    m.data_len = s->payload.len;
    m.truncated = s->payload.truncated;
    s->fn(s->ctx, &m);
}

/* The prelude is complete: check it and size the message. */
static void prelude(struct llm_eventstream *s)
{
    s->total = be32(s->prelude);
    s->hlen = be32(s->prelude + 4);
    s->crc = crc32(0L, s->prelude, 8);
    if ((uint32_t)s->crc != be32(s->prelude + 8) || s->total < PRELUDE + 4 ||
        s->hlen > s->total - PRELUDE - 4 || s->hlen > MAX_HEADERS)
        s->error = 1;
    s->crc = crc32(s->crc, s->prelude + 8, 4);
}

void llm_eventstream_feed(struct llm_eventstream *s, const char *p, size_t n)
{
    while (n && !s->error) {
        const unsigned char *u = (const unsigned char *)p;
        uint32_t k, body_end = s->total - 4;

        if (s->have < PRELUDE) {
            k = PRELUDE - s->have < n ? PRELUDE - s->have : (uint32_t)n;
            memcpy(s->prelude + s->have, p, k);
            if ((s->have += k) == PRELUDE)
                prelude(s);
        } else if (s->have < body_end) {
            uint32_t hend = PRELUDE + s->hlen;
            uint32_t stop = s->have < hend ? hend : body_end;
            k = stop - s->have < n ? stop - s->have : (uint32_t)n;
            llm_buf_append(s->have < hend ? &s->headers : &s->payload, p, k);
            s->crc = crc32(s->crc, u, k);
            s->have += k;
        } else {
            k = s->total - s->have < n ? s->total - s->have : (uint32_t)n;
            memcpy(s->crc_in + (s->have - body_end), p, k);
            if ((s->have += k) == s->total) {
                dispatch(s);
                s->have = 0;
                llm_buf_reset(&s->headers);
                llm_buf_reset(&s->payload);
            }
        }
        p += k;
        n -= k;
    }
}

void llm_eventstream_finish(struct llm_eventstream *s)
{
    if (s->have)
        s->error = 1;
}

void llm_eventstream_free(struct llm_eventstream *s)
{
    llm_buf_free(&s->headers);
    llm_buf_free(&s->payload);
}
