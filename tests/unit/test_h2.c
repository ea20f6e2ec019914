/* HTTP/2 that no SNI names: h2peek.c reading a connection's first request
 * (prior knowledge, TLS to an unknown host), classify.c deciding on it at
 * every prefix, the h2c upgrade (RFC 7540 section 3.2) in classify.c,
 * h1conn.c and conn.c: taken up (the response comes on stream 1), taken up
 * after a request that is not an LLM call (nghttp's "OPTIONS *"), and
 * declined (the connection stays HTTP/1.1). Frames are built here, header
 * blocks coded by nghttp2's HPACK deflater. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "classify.h"
#include "err.h"
#include "feeder.h"
#include "h2.h"
#include "h2peek.h"
#include "record.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct bytes {
    char p[65536];
    size_t n;
};

static void put(struct bytes *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof(b->p));
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void putstr(struct bytes *b, const char *s)
{
    put(b, s, strlen(s));
}

static void frame(struct bytes *b, int type, int flags, uint32_t sid, const void *p, size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16),   (uint8_t)(n >> 8),   (uint8_t)n,
                    (uint8_t)type,        (uint8_t)flags,      (uint8_t)(sid >> 24),
                    (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
    put(b, h, 9);
    put(b, p, n);
}

/* A header block for "name: value" pairs, coded by d. */
static size_t block(nghttp2_hd_deflater *d, uint8_t *out, size_t cap, const char *const *kv)
{
    nghttp2_nv nv[16];
    size_t n = 0;

    for (; kv[2 * n]; n++)
        nv[n] = (nghttp2_nv){(uint8_t *)kv[2 * n], (uint8_t *)kv[2 * n + 1], strlen(kv[2 * n]),
                             strlen(kv[2 * n + 1]), NGHTTP2_NV_FLAG_NONE};
    ssize_t rv = nghttp2_hd_deflate_hd(d, out, cap, nv, n);
    assert_true(rv > 0);
    return (size_t)rv;
}

static void headers(struct bytes *b, nghttp2_hd_deflater *d, uint32_t sid, int end_stream,
                    const char *const *kv)
{
    uint8_t blk[4096];
    size_t n = block(d, blk, sizeof(blk), kv);
    frame(b, 1, 0x4 | (end_stream ? 0x1 : 0), sid, blk, n);
}

static const uint8_t settings_payload[] = {0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0};
static const uint8_t window_update[] = {0, 0x0f, 0, 1};

static const char req_body[] = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
                               "\"content\":\"hi\"}]}";
static const char resp_body[] =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini-2024-07-18\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hello\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"
    "\"total_tokens\":11}}";

/* A client's first bytes: preface, SETTINGS, WINDOW_UPDATE, HEADERS (path,
 * authority), DATA. *hend: where the HEADERS frame ends. */
static void client_start(struct bytes *b, const char *path, const char *authority, size_t *hend)
{
    nghttp2_hd_deflater *d;
    const char *const kv[] = {":method",
                              "POST",
                              ":scheme",
                              "https",
                              ":path",
                              path,
                              ":authority",
                              authority,
                              "content-type",
                              "application/json",
                              "authorization",
                              "Bearer sk-x",
                              NULL};

    assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
    putstr(b, PREFACE);
    frame(b, 4, 0, 0, settings_payload, sizeof(settings_payload));
    frame(b, 8, 0, 0, window_update, sizeof(window_update));
    headers(b, d, 1, 0, kv);
    *hend = b->n;
    frame(b, 0, 1, 1, req_body, strlen(req_body));
    nghttp2_hd_deflate_del(d);
}

static int cls_str(const char *s)
{
    return llm_classify(s, strlen(s), NULL, llm_h2peek_request);
}

/* --- h2peek.c and classify.c on HTTP/2 with no helpful SNI --- */

static void test_peek_every_prefix(void **state)
{
    static struct bytes b;
    struct llm_h2peek pk;
    size_t hend;

    (void)state;
    b.n = 0;
    client_start(&b, "/v1/chat/completions", "llm.internal:8443", &hend);
    assert_int_equal(llm_h2peek_request(b.p, b.n, &pk), (int)hend);
    assert_string_equal(pk.path, "/v1/chat/completions");
    assert_string_equal(pk.authority, "llm.internal:8443");
    assert_int_equal(pk.stream_id, 1);
    for (size_t k = 1; k < hend; k++) {
        int r = llm_classify(b.p, k, NULL, llm_h2peek_request);
        int want = k == 1 ? LLM_CLASS_MORE : LLM_CLASS_MORE_H2; /* "P" may be a POST */
        if (r != want)
            fail_msg("prefix %zu of %zu: %d, want %d", k, hend, r, want);
        assert_int_equal(llm_h2peek_request(b.p, k, &pk), LLM_EPARTIAL);
    }
    for (size_t k = hend; k <= b.n; k++)
        assert_int_equal(llm_classify(b.p, k, NULL, llm_h2peek_request), LLM_CLASS_LLM);
    /* without the core's reader only the SNI can tell */
    assert_int_equal(llm_classify(b.p, b.n, NULL, NULL), LLM_CLASS_OTHER);
    assert_int_equal(llm_classify(b.p, b.n, "example.org", NULL), LLM_CLASS_OTHER);
    assert_int_equal(llm_classify(b.p, 24, "api.openai.com", NULL), LLM_CLASS_LLM);
    assert_int_equal(llm_classify(b.p, 10, NULL, NULL), LLM_CLASS_MORE_H2);
}

static void test_peek_decides(void **state)
{
    static struct bytes b;
    size_t hend;

    (void)state;
    /* a known host in :authority, whatever the path */
    b.n = 0;
    client_start(&b, "/", "api.anthropic.com:443", &hend);
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_LLM);
    /* neither path nor host: not ours */
    b.n = 0;
    client_start(&b, "/index.html", "example.com", &hend);
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_OTHER);
    /* a DATA frame before any HEADERS is not a client's start */
    b.n = 0;
    putstr(&b, PREFACE);
    frame(&b, 0, 0, 1, "x", 1);
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_OTHER);
    /* the preface itself is wrong */
    assert_int_equal(llm_classify("PRI * HTTP/2.0\r\n\r\nXX", 20, NULL, llm_h2peek_request),
                     LLM_CLASS_OTHER);
}

/* HEADERS padded, with priority, continued in two CONTINUATION frames. */
static void test_peek_continuation(void **state)
{
    static struct bytes b;
    nghttp2_hd_deflater *d;
    uint8_t blk[4096], pay[4200];
    const char *const kv[] = {":method",    "POST",
                              ":scheme",    "http",
                              ":path",      "/api/chat",
                              ":authority", "127.0.0.1:11434",
                              "x-pad",      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                              NULL};
    struct llm_h2peek pk;
    size_t n, a, c;

    (void)state;
    assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
    n = block(d, blk, sizeof(blk), kv);
    a = n / 3;
    c = 2 * n / 3;
    b.n = 0;
    putstr(&b, PREFACE);
    frame(&b, 4, 0, 0, "", 0);
    pay[0] = 3;            /* pad length */
    memset(pay + 1, 0, 5); /* stream dependency and weight */
    memcpy(pay + 6, blk, a);
    memset(pay + 6 + a, 0, 3);
    frame(&b, 1, 0x8 | 0x20, 1, pay, 6 + a + 3);
    frame(&b, 9, 0, 1, blk + a, c - a);
    for (size_t k = 2; k < b.n; k++)
        assert_int_equal(llm_classify(b.p, k, NULL, llm_h2peek_request), LLM_CLASS_MORE_H2);
    frame(&b, 9, 0x4, 1, blk + c, n - c);
    assert_int_equal(llm_h2peek_request(b.p, b.n, &pk), (int)b.n);
    assert_string_equal(pk.path, "/api/chat");
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_LLM);
    /* a CONTINUATION of another stream breaks the block */
    b.n -= 9 + (n - c);
    frame(&b, 9, 0x4, 3, blk + c, n - c);
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_OTHER);
    nghttp2_hd_deflate_del(d);
}

static void test_peek_too_big(void **state)
{
    static struct bytes b;
    static char big[2 * LLM_H2PEEK_BLOCK_MAX]; /* Huffman-coded to ~7/8 */
    nghttp2_hd_deflater *d;

    (void)state;
    memset(big, 'q', sizeof(big) - 1);
    const char *const kv[] = {":method", "POST", ":path", "/v1/chat/completions",
                              "x-big",   big,    NULL};
    static uint8_t blk[sizeof(big) + 100];
    assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
    size_t n = block(d, blk, sizeof(blk), kv);
    b.n = 0;
    putstr(&b, PREFACE);
    frame(&b, 1, 0x4, 1, blk, n);
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_OTHER);
    nghttp2_hd_deflate_del(d);
}

/* --- the h2c upgrade --- */

#define UPGRADE_HDRS                                                                               \
    "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: "                      \
    "AAMAAABkAAQCAAAAAAIAAAAA\r\n"

static void test_upgrade_classify(void **state)
{
    static struct bytes b;
    nghttp2_hd_deflater *d;
    const char *const kv[] = {":method",    "POST",          ":scheme",
                              "http",       ":path",         "/v1/chat/completions",
                              ":authority", "10.1.2.3:8000", NULL};
    const char *opt = "OPTIONS * HTTP/1.1\r\nHost: 10.1.2.3:8000\r\n" UPGRADE_HDRS "\r\n";

    (void)state;
    assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
    b.n = 0;
    putstr(&b, opt);
    putstr(&b, PREFACE);
    frame(&b, 4, 0, 0, settings_payload, sizeof(settings_payload));
    headers(&b, d, 3, 0, kv);
    for (size_t k = 1; k < b.n; k++) {
        int r = llm_classify(b.p, k, NULL, llm_h2peek_request);
        int want = k < strlen(opt) ? LLM_CLASS_MORE : LLM_CLASS_MORE_H2;
        if (r != want)
            fail_msg("prefix %zu: %d, want %d", k, r, want);
    }
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_LLM);
    /* the same request without the offer: not ours */
    assert_int_equal(cls_str("OPTIONS * HTTP/1.1\r\nHost: 10.1.2.3:8000\r\n\r\n"), LLM_CLASS_OTHER);
    /* an offer to upgrade to something else (websocket) */
    assert_int_equal(cls_str("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"),
                     LLM_CLASS_OTHER);
    /* a body is skipped by its length before the preface is looked for */
    b.n = 0;
    putstr(&b,
           "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n" UPGRADE_HDRS "\r\nhello");
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_MORE_H2);
    putstr(&b, "PRI * HTTP/2.0\r\n");
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_MORE_H2);
    putstr(&b, "GET / HTTP/1.1\r\n\r\n");
    assert_int_equal(llm_classify(b.p, b.n, NULL, llm_h2peek_request), LLM_CLASS_OTHER);
    nghttp2_hd_deflate_del(d);
}

/* Server side of an accepted upgrade: 101, SETTINGS, then the response on
 * stream sid (a JSON chat completion), optionally after a 404 on stream 1. */
static void server_after_101(struct bytes *b, uint32_t sid)
{
    nghttp2_hd_deflater *d;
    char cl[16];

    snprintf(cl, sizeof(cl), "%zu", strlen(resp_body));
    const char *const ok[] = {
        ":status", "200", "content-type", "application/json", "content-length", cl, NULL};
    const char *const nf[] = {":status", "404", "content-length", "0", NULL};
    assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
    putstr(b, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
    frame(b, 4, 0, 0, settings_payload, sizeof(settings_payload));
    if (sid != 1)
        headers(b, d, 1, 1, nf);
    headers(b, d, sid, 0, ok);
    frame(b, 0, 1, sid, resp_body, strlen(resp_body));
    nghttp2_hd_deflate_del(d);
}

static void expect_chat(const struct llm_record *r, const char *version)
{
    assert_string_equal(llm_record_str(r, LLM_F_STATUS), "ok");
    assert_string_equal(llm_record_str(r, LLM_F_HTTP_VERSION), version);
    assert_string_equal(llm_record_str(r, LLM_F_MODEL), "gpt-4o-mini-2024-07-18");
    assert_string_equal(llm_record_str(r, LLM_F_URL_PATH), "/v1/chat/completions");
    assert_int_equal(r->f[LLM_F_HTTP_STATUS].u.i, 200);
    assert_int_equal(r->f[LLM_F_INPUT_TOKENS].u.i, 9);
    assert_int_equal(r->f[LLM_F_OUTPUT_TOKENS].u.i, 2);
}

/* The LLM request itself offers h2c; the server's bytes are split at every
 * offset (the switch may fall anywhere in a read). */
static void test_upgrade_taken(void **state)
{
    static struct bytes out, in, cli;
    char req[1024];

    (void)state;
    snprintf(req, sizeof(req),
             "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n" UPGRADE_HDRS
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(req_body), req_body);
    out.n = in.n = cli.n = 0;
    putstr(&out, req);
    server_after_101(&in, 1);
    putstr(&cli, PREFACE);
    frame(&cli, 4, 0, 0, settings_payload, sizeof(settings_payload));
    for (size_t k = 0; k <= in.n; k++) {
        struct llm_feeder f;
        llm_feed_init(&f);
        llm_feed_open(&f, 1, "");
        llm_feed_msg(&f, 1, LLM_MSG_OUT, out.p, out.n, 0);
        if (k)
            llm_feed_msg(&f, 1, LLM_MSG_IN, in.p, k, 0);
        llm_feed_msg(&f, 1, LLM_MSG_OUT, cli.p, cli.n, 0);
        if (k < in.n)
            llm_feed_msg(&f, 1, LLM_MSG_IN, in.p + k, in.n - k, 0);
        if (f.sink.n != 1)
            fail_msg("split %zu: %d records", k, f.sink.n);
        expect_chat(&f.sink.recs[0], "2");
        llm_feed_done(&f);
    }
}

/* nghttp -u: the offer rides on "OPTIONS *"; the call is stream 3. The tap
 * delivers everything the client sent before the server's first byte. */
static void test_upgrade_options(void **state)
{
    static struct bytes out, in;
    nghttp2_hd_deflater *d;
    const char *const kv[] = {":method",
                              "POST",
                              ":scheme",
                              "http",
                              ":path",
                              "/v1/chat/completions",
                              ":authority",
                              "127.0.0.1:8000",
                              "content-type",
                              "application/json",
                              NULL};
    struct llm_feeder f;

    (void)state;
    assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
    out.n = in.n = 0;
    putstr(&out, "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n" UPGRADE_HDRS "\r\n");
    putstr(&out, PREFACE);
    frame(&out, 4, 0, 0, settings_payload, sizeof(settings_payload));
    headers(&out, d, 3, 0, kv);
    frame(&out, 0, 1, 3, req_body, strlen(req_body));
    server_after_101(&in, 3);
    llm_feed_init(&f);
    llm_feed_open(&f, 1, "");
    llm_feed_msg(&f, 1, LLM_MSG_OUT, out.p, out.n, 0);
    llm_feed_msg(&f, 1, LLM_MSG_IN, in.p, in.n, 0);
    assert_int_equal(f.sink.n, 1);
    expect_chat(&f.sink.recs[0], "2");
    llm_feed_done(&f);
    nghttp2_hd_deflate_del(d);
}

/* The server ignores the offer: HTTP/1.1 goes on, including a second
 * request the client sent before the first answer arrived. */
static void test_upgrade_declined(void **state)
{
    static struct bytes out, in;
    char req[1024], resp[1024];
    struct llm_feeder f;

    (void)state;
    snprintf(req, sizeof(req),
             "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n" UPGRADE_HDRS
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(req_body), req_body);
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(resp_body), resp_body);
    out.n = in.n = 0;
    putstr(&out, req);
    llm_feed_init(&f);
    llm_feed_open(&f, 1, "");
    llm_feed_msg(&f, 1, LLM_MSG_OUT, out.p, out.n, 0);
    llm_feed_msg(&f, 1, LLM_MSG_OUT, req + 0, strlen(req), 0); /* held until the answer */
    llm_feed_msg(&f, 1, LLM_MSG_IN, resp, strlen(resp), 0);
    assert_int_equal(f.sink.n, 1);
    llm_feed_msg(&f, 1, LLM_MSG_IN, resp, strlen(resp), 0);
    assert_int_equal(f.sink.n, 2);
    expect_chat(&f.sink.recs[0], "1.1");
    expect_chat(&f.sink.recs[1], "1.1");
    llm_feed_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peek_every_prefix), cmocka_unit_test(test_peek_decides),
        cmocka_unit_test(test_peek_continuation), cmocka_unit_test(test_peek_too_big),
        cmocka_unit_test(test_upgrade_classify),  cmocka_unit_test(test_upgrade_taken),
        cmocka_unit_test(test_upgrade_options),   cmocka_unit_test(test_upgrade_declined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
