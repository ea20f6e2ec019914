/* http-parser glue. Header names and values may arrive in pieces; they are
 * appended to head.raw and the offsets of the current header grow with them.
 * The parser pauses nothing and never copies body bytes: they are handed to
 * the callback as they arrive. Collector thread only. */
#include "http1.h"
#include "err.h"

#include <string.h>
#include <strings.h>

static struct llm_h1 *self(http_parser *p)
{
    return p->data;
}

static void head_reset(struct llm_h1_head *hd)
{
    struct llm_buf raw = hd->raw;
    int is_request = hd->is_request;

    llm_buf_reset(&raw);
    memset(hd, 0, sizeof(*hd));
    hd->raw = raw;
    hd->is_request = is_request;
}

static int on_message_begin(http_parser *p)
{
    struct llm_h1 *h = self(p);
    head_reset(&h->head);
    h->in_value = 0;
    h->in_msg = 1;
    h->skipping = 0;
    return 0;
}

static int append(struct llm_h1 *h, const char *at, size_t n)
{
    if (llm_buf_append(&h->head.raw, at, n)) {
        h->head.truncated = 1;
        return -1;
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct llm_h1 *h = self(p);
    append(h, at, n);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct llm_h1 *h = self(p);
    struct llm_h1_head *hd = &h->head;

    if (!hd->url) { /* the URL is complete: terminate it in place */
        append(h, "", 1);
        hd->url = "";
    }
    if (h->skipping)
        return 0;
    if (h->in_value || hd->nheaders == 0) {
        if (hd->nheaders == LLM_H1_MAX_HEADERS) {
            hd->truncated = 1;
            h->skipping = 1;
            return 0;
        }
        hd->headers[hd->nheaders].name = hd->raw.len;
        hd->headers[hd->nheaders].name_len = 0;
        hd->headers[hd->nheaders].value = hd->raw.len;
        hd->headers[hd->nheaders].value_len = 0;
        hd->nheaders++;
        h->in_value = 0;
    }
    if (!append(h, at, n))
        hd->headers[hd->nheaders - 1].name_len += n;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct llm_h1 *h = self(p);
    struct llm_h1_head *hd = &h->head;

    if (!hd->nheaders || h->skipping)
        return 0;
    if (!h->in_value) {
        hd->headers[hd->nheaders - 1].value = hd->raw.len;
        h->in_value = 1;
    }
    if (!append(h, at, n))
        hd->headers[hd->nheaders - 1].value_len += n;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct llm_h1 *h = self(p);
    struct llm_h1_head *hd = &h->head;

    if (!hd->url)
        append(h, "", 1);
    /* the URL is the first bytes of raw; raw may have moved while growing */
    hd->url = hd->raw.p ? hd->raw.p : "";
    hd->http_major = p->http_major;
    hd->http_minor = p->http_minor;
    if (hd->is_request)
        hd->method = http_method_str((enum http_method)p->method);
    else
        hd->status = (int)p->status_code;
    return h->cb->on_head ? h->cb->on_head(h->ctx, hd) : 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct llm_h1 *h = self(p);
    if (h->cb->on_body)
        h->cb->on_body(h->ctx, at, n);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct llm_h1 *h = self(p);
    int interim = !h->head.is_request && h->head.status >= 100 && h->head.status < 200;

    h->in_msg = 0;

    if (h->cb->on_end)
        h->cb->on_end(h->ctx, interim);
    return 0;
}

void llm_h1_init(struct llm_h1 *h, int is_request, const struct llm_h1_callbacks *cb, void *ctx)
{
    memset(h, 0, sizeof(*h));
    http_parser_init(&h->parser, is_request ? HTTP_REQUEST : HTTP_RESPONSE);
    h->parser.data = h;
    http_parser_settings_init(&h->settings);
    h->settings.on_message_begin = on_message_begin;
    h->settings.on_url = on_url;
    h->settings.on_header_field = on_header_field;
    h->settings.on_header_value = on_header_value;
    h->settings.on_headers_complete = on_headers_complete;
    h->settings.on_body = on_body;
    h->settings.on_message_complete = on_message_complete;
    h->cb = cb;
    h->ctx = ctx;
    h->head.is_request = is_request;
    llm_buf_init(&h->head.raw, LLM_H1_HEAD_MAX);
}

void llm_h1_free(struct llm_h1 *h)
{
    llm_buf_free(&h->head.raw);
}

void llm_h1_set_head_max(struct llm_h1 *h, size_t max)
{
    llm_buf_free(&h->head.raw);
    llm_buf_init(&h->head.raw, max ? max : LLM_H1_HEAD_MAX);
}

/* http-parser refuses a head over its own limit (80 KB), a process-wide
 * setting (http_parser_set_max_header_size) the host may rely on too. So
 * bytes go in slices and the parser's per-head count is reset before each:
 * the head limit is ours (head.raw's cap), and a head past it costs that
 * message its later headers, never the connection its framing. */
#define FEED_SLICE 16384

int llm_h1_feed(struct llm_h1 *h, const char *p, size_t n)
{
    size_t off = 0;

    if (h->failed || h->upgraded)
        return LLM_EPARSE;
    while (off < n) {
        size_t k = n - off < FEED_SLICE ? n - off : FEED_SLICE, used;
        h->parser.nread = 0;
        used = http_parser_execute(&h->parser, &h->settings, p + off, k);
        if (HTTP_PARSER_ERRNO(&h->parser) != HPE_OK) {
            h->failed = 1;
            return LLM_EPARSE;
        }
        off += used;
        /* http-parser stops early only on an upgrade; an upgrade message
         * that ends exactly at the end of a slice shows only in the flag */
        if (h->parser.upgrade && !h->in_msg) {
            h->upgraded = 1;
            break;
        }
        if (used != k) {
            h->failed = 1;
            return LLM_EPARSE;
        }
    }
    return (int)off;
}

int llm_h1_eof(struct llm_h1 *h)
{
    if (h->failed)
        return LLM_EPARSE;
    http_parser_execute(&h->parser, &h->settings, NULL, 0);
    return HTTP_PARSER_ERRNO(&h->parser) == HPE_OK ? 0 : LLM_EPARSE;
}

int llm_h1_upgraded(const struct llm_h1 *h)
{
    return h->upgraded;
}

void llm_h1_restart(struct llm_h1 *h)
{
    http_parser_init(&h->parser, h->head.is_request ? HTTP_REQUEST : HTTP_RESPONSE);
    h->parser.data = h;
    h->upgraded = 0;
    h->in_msg = 0;
}

int llm_h1_in_message(const struct llm_h1 *h)
{
    return h->in_msg;
}

const char *llm_h1_header(const struct llm_h1_head *h, const char *name, size_t *len)
{
    size_t nl = strlen(name);

    for (size_t i = 0; i < h->nheaders; i++) {
        const struct llm_h1_header *x = &h->headers[i];
        if (x->name_len == nl && !strncasecmp(h->raw.p + x->name, name, nl)) {
            const char *v = h->raw.p + x->value;
            size_t vl = x->value_len;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            *len = vl;
            return v;
        }
    }
    return NULL;
}
