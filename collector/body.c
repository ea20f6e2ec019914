/* Body decoding and framing. Decoded bytes go to the active framer; the
 * framers (sse.c, eventstream.c, the NDJSON line splitter here) only see
 * decoded bytes. */
#include "body.h"

#include <brotli/decode.h>
#include <string.h>
#include <zstd.h>
#include <strings.h>

#define WHOLE_HEAD_MAX 65536 /* kept for stream bodies, for the no-event fallback */

/* Does v[0..n) contain tok anywhere (case-insensitively)? Not
 * llm_has_token: media types are matched inside vendor prefixes and
 * parameters ("application/x-ndjson", "text/event-stream;charset=utf-8"). */
static int contains(const char *v, size_t n, const char *tok)
{
    size_t k = strlen(tok);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(v + i, tok, k))
            return 1;
    return 0;
}

static void sse_event(void *ctx, const struct llm_sse_event *ev)
{
    struct llm_body *b = ctx;
    b->events++;
    b->fn(b->ctx, LLM_FRAME_SSE, ev->event, ev->data, ev->data_len, ev->truncated);
}

static void es_message(void *ctx, const struct llm_eventstream_msg *m)
{
    struct llm_body *b = ctx;
    b->events++;
    b->fn(b->ctx, LLM_FRAME_EVENTSTREAM, m->event, m->data, m->data_len, m->truncated);
}

/* Event-stream framing lost: after events that is lost content; before any,
 * the body was something else (a JSON error) and the whole fallback reads it. */
static void es_check(struct llm_body *b)
{
    if (b->es.error && b->events)
        b->decode_error = 1;
}

void llm_body_init(struct llm_body *b, const char *ct, size_t ct_len, const char *ce,
                   size_t ce_len, size_t max_whole, size_t max_event, llm_body_fn fn, void *ctx)
{
    memset(b, 0, sizeof(*b));
    b->fn = fn;
    b->ctx = ctx;
    b->framing = LLM_FRAME_WHOLE;
    if (ct && contains(ct, ct_len, "text/event-stream"))
        b->framing = LLM_FRAME_SSE;
    else if (ct && contains(ct, ct_len, "application/vnd.amazon.eventstream"))
        b->framing = LLM_FRAME_EVENTSTREAM;
    else if (ct && (contains(ct, ct_len, "ndjson") || contains(ct, ct_len, "stream+json") ||
                    contains(ct, ct_len, "jsonl")))
        b->framing = LLM_FRAME_NDJSON;
    if (!ce || !ce_len || contains(ce, ce_len, "identity"))
        b->encoding = LLM_ENC_IDENTITY;
    else if (contains(ce, ce_len, "gzip"))
        b->encoding = LLM_ENC_GZIP;
    else if (contains(ce, ce_len, "deflate"))
        b->encoding = LLM_ENC_DEFLATE;
    else if (contains(ce, ce_len, "br"))
        b->encoding = LLM_ENC_BR;
    else if (contains(ce, ce_len, "zstd"))
        b->encoding = LLM_ENC_ZSTD;
    else
        b->encoding = LLM_ENC_UNSUPPORTED;
    llm_buf_init(&b->whole, b->framing == LLM_FRAME_WHOLE ? max_whole : WHOLE_HEAD_MAX);
    llm_buf_init(&b->line, max_event);
    if (b->framing == LLM_FRAME_SSE)
        llm_sse_init(&b->sse, max_event, sse_event, b);
    if (b->framing == LLM_FRAME_EVENTSTREAM)
        llm_eventstream_init(&b->es, max_event, es_message, b);
}

static void ndjson(struct llm_body *b, const char *p, size_t n)
{
    const char *end = p + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
        llm_buf_append(&b->line, p, k);
        if (!nl)
            break;
        if (b->line.len && b->line.p[b->line.len - 1] == '\r')
            b->line.p[--b->line.len] = '\0';
        if (b->line.len) {
            b->events++;
            b->fn(b->ctx, LLM_FRAME_NDJSON, NULL, b->line.p, b->line.len, b->line.truncated);
        }
        llm_buf_reset(&b->line);
        p = nl + 1;
    }
}

static void decoded(struct llm_body *b, const char *p, size_t n)
{
    b->decoded_bytes += n;
    llm_buf_append(&b->whole, p, n);
    if (b->framing == LLM_FRAME_SSE) {
        llm_sse_feed(&b->sse, p, n);
    } else if (b->framing == LLM_FRAME_NDJSON) {
        ndjson(b, p, n);
    } else if (b->framing == LLM_FRAME_EVENTSTREAM) {
        llm_eventstream_feed(&b->es, p, n);
        es_check(b);
    }
}

static void inflate_run(struct llm_body *b, const char *p, size_t n)
{
    unsigned char out[16384];
    int rc;

    b->z.next_in = (unsigned char *)p;
    b->z.avail_in = (unsigned)n;
    /* go on while there is input, or while the last call filled the output
     * buffer: inflate may still hold the tail of a long match, and raw
     * deflate has no trailer that would make us call it again */
    do {
        b->z.next_out = out;
        b->z.avail_out = sizeof(out);
        rc = inflate(&b->z, Z_NO_FLUSH);
        if (sizeof(out) - b->z.avail_out)
            decoded(b, (const char *)out, sizeof(out) - b->z.avail_out);
        if (rc == Z_STREAM_END) {
            b->z_done = 1;
        } else if (rc == Z_BUF_ERROR) {
            break; /* no progress possible until more input arrives */
        } else if (rc != Z_OK) {
            b->decode_error = 1;
            return;
        }
    } while (!b->z_done && (b->z.avail_in || b->z.avail_out == 0));
}

static void inflate_feed(struct llm_body *b, const char *p, size_t n)
{
    if (!b->z_ready) {
        int wbits = 16 + 15; /* gzip */
        if (b->encoding == LLM_ENC_DEFLATE) {
            /* "deflate" is meant to be zlib-wrapped, but servers also send it
             * raw: look at the first two bytes before choosing */
            while (b->hdr_len < 2 && n) {
                b->hdr[b->hdr_len++] = (unsigned char)*p++;
                n--;
            }
            if (b->hdr_len < 2)
                return;
            int zlib = (b->hdr[0] & 0x0f) == 8 && ((b->hdr[0] << 8) | b->hdr[1]) % 31 == 0;
            wbits = zlib ? 15 : -15;
        }
        if (inflateInit2(&b->z, wbits) != Z_OK) {
            b->decode_error = 1;
            return;
        }
        b->z_ready = 1;
        if (b->hdr_len)
            inflate_run(b, (const char *)b->hdr, b->hdr_len);
    }
    if (n)
        inflate_run(b, p, n);
}

static void brotli_feed(struct llm_body *b, const char *p, size_t n)
{
    uint8_t out[16384];
    const uint8_t *in = (const uint8_t *)p;
    BrotliDecoderResult rc;

    if (!b->br && !(b->br = BrotliDecoderCreateInstance(NULL, NULL, NULL))) {
        b->decode_error = 1;
        return;
    }
    do {
        uint8_t *o = out;
        size_t avail_out = sizeof(out);
        rc = BrotliDecoderDecompressStream(b->br, &n, &in, &avail_out, &o, NULL);
        if (sizeof(out) - avail_out)
            decoded(b, (const char *)out, sizeof(out) - avail_out);
    } while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT ||
             (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT && BrotliDecoderHasMoreOutput(b->br)));
    if (rc == BROTLI_DECODER_RESULT_ERROR)
        b->decode_error = 1;
}

static void zstd_feed(struct llm_body *b, const char *p, size_t n)
{
    char out[16384];
    ZSTD_inBuffer in = {p, n, 0};

    if (!b->zstd && !(b->zstd = ZSTD_createDCtx())) {
        b->decode_error = 1;
        return;
    }
    /* loop until the input is used and the output buffer was not filled */
    for (;;) {
        ZSTD_outBuffer o = {out, sizeof(out), 0};
        size_t rc = ZSTD_decompressStream(b->zstd, &o, &in);
        if (ZSTD_isError(rc)) {
            b->decode_error = 1;
            return;
        }
        if (o.pos)
            decoded(b, out, o.pos);
        if (in.pos == in.size && o.pos < o.size)
            break;
    }
}

void llm_body_feed(struct llm_body *b, const char *p, size_t n)
{
    b->wire_bytes += n;
    if (b->decode_error || !n)
        return;
    switch (b->encoding) {
    case LLM_ENC_IDENTITY:
        decoded(b, p, n);
        break;
    case LLM_ENC_BR:
        brotli_feed(b, p, n);
        break;
    case LLM_ENC_ZSTD:
        zstd_feed(b, p, n);
        break;
    case LLM_ENC_UNSUPPORTED:
        b->decode_error = 1;
        break;
    default:
        inflate_feed(b, p, n);
    }
}

void llm_body_finish(struct llm_body *b)
{
    if (b->framing == LLM_FRAME_SSE)
        llm_sse_finish(&b->sse);
    else if (b->framing == LLM_FRAME_NDJSON && b->line.len) {
        b->events++;
        b->fn(b->ctx, LLM_FRAME_NDJSON, NULL, b->line.p, b->line.len, b->line.truncated);
        llm_buf_reset(&b->line);
    } else if (b->framing == LLM_FRAME_EVENTSTREAM) {
        llm_eventstream_finish(&b->es);
        es_check(b);
    }
    if (b->framing == LLM_FRAME_WHOLE || b->events == 0)
        b->fn(b->ctx, LLM_FRAME_WHOLE, NULL, b->whole.p ? b->whole.p : "", b->whole.len,
              b->whole.truncated);
}

void llm_body_free(struct llm_body *b)
{
    if (b->z_ready)
        inflateEnd(&b->z);
    if (b->br)
        BrotliDecoderDestroyInstance(b->br);
    if (b->zstd)
        ZSTD_freeDCtx(b->zstd);
    if (b->framing == LLM_FRAME_SSE)
        llm_sse_free(&b->sse);
    if (b->framing == LLM_FRAME_EVENTSTREAM)
        llm_eventstream_free(&b->es);
    llm_buf_free(&b->whole);
    llm_buf_free(&b->line);
}
