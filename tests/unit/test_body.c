/* body.c: content decoding (identity, gzip, deflate with a zlib header and
 * raw, br, zstd, unsupported, corrupt) and framing by media type (WHOLE once at the
 * end, SSE events, NDJSON lines), each checked as an exact callback log for
 * every split of the wire bytes; a JSON error sent under text/event-stream
 * is still delivered whole; byte counters and the WHOLE cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "body.h"
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#ifdef LLMOPS_TEST_BROTLIENC
#include <brotli/encode.h>
#endif

struct log {
    struct llm_buf b;
    int calls;
};

static void on_item(void *ctx, int kind, const char *event, const char *data, size_t n,
                    int truncated)
{
    struct log *l = ctx;
    char head[300];

    assert_int_equal(data[n], '\0');
    int k = snprintf(head, sizeof(head), "<%s%s%s%s|",
                     kind == LLM_FRAME_WHOLE ? "W"
                     : kind == LLM_FRAME_SSE ? "S"
                                             : "N",
                     event ? ":" : "", event ? event : "", truncated ? "!" : "");
    if (kind == LLM_FRAME_WHOLE)
        assert_null(event);
    llm_buf_append(&l->b, head, (size_t)k);
    llm_buf_append(&l->b, data, n);
    llm_buf_append(&l->b, ">", 1);
    l->calls++;
}

/* wbits: 16+15 gzip, 15 zlib, -15 raw deflate */
static unsigned char *compress_(const char *s, size_t n, int wbits, size_t *out_len)
{
    z_stream z;
    size_t cap = compressBound((uLong)n) + 64;
    unsigned char *out = malloc(cap);

    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)s;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static unsigned char *zstd_(const char *s, size_t n, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(n);
    unsigned char *out = malloc(cap);
    size_t rc = ZSTD_compress(out, cap, s, n, 3);

    assert_false(ZSTD_isError(rc));
    *out_len = rc;
    return out;
}

#ifdef LLMOPS_TEST_BROTLIENC
static unsigned char *brotli_(const char *s, size_t n, size_t *out_len)
{
    size_t cap = BrotliEncoderMaxCompressedSize(n) + 64;
    unsigned char *out = malloc(cap);

    *out_len = cap;
    assert_int_equal(
        BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, n, (const uint8_t *)s, out_len, out),
        BROTLI_TRUE);
    return out;
}
#endif

struct result {
    char *log;
    uint64_t wire, decoded, events;
    int decode_error;
    enum llm_framing framing;
    enum llm_encoding encoding;
};

static struct result run(const char *ct, const char *ce, const void *wire, size_t n, size_t k,
                         size_t max_whole, size_t max_event)
{
    struct llm_body b;
    struct log l;
    struct result r;

    memset(&l, 0, sizeof(l));
    llm_buf_init(&l.b, 1 << 22);
    llm_buf_append(&l.b, "", 0);
    llm_body_init(&b, ct, ct ? strlen(ct) : 0, ce, ce ? strlen(ce) : 0, max_whole, max_event,
                  on_item, &l);
    for (size_t off = 0; off < n; off += k)
        llm_body_feed(&b, (const char *)wire + off, n - off < k ? n - off : k);
    llm_body_finish(&b);
    r.log = l.b.p;
    r.wire = b.wire_bytes;
    r.decoded = b.decoded_bytes;
    r.events = b.events;
    r.decode_error = b.decode_error;
    r.framing = b.framing;
    r.encoding = b.encoding;
    llm_body_free(&b);
    return r;
}

/* The log must be want for every split (every k up to 64, then a spread). */
static void check(const char *ct, const char *ce, const void *wire, size_t n, const char *want,
                  uint64_t decoded)
{
    for (size_t k = 1; k <= n; k = k < 64 ? k + 1 : k * 3 / 2) {
        struct result r = run(ct, ce, wire, n, k, 1 << 20, 1 << 16);
        if (strcmp(r.log, want) || r.decode_error || r.wire != n || r.decoded != decoded)
            fail_msg("ct=%s ce=%s k=%zu err=%d wire=%llu decoded=%llu\n got: %.300s\nwant: "
                     "%.300s",
                     ct ? ct : "-", ce ? ce : "-", k, r.decode_error, (unsigned long long)r.wire,
                     (unsigned long long)r.decoded, r.log, want);
        free(r.log);
    }
    /* and the whole thing in one piece */
    struct result r = run(ct, ce, wire, n, n ? n : 1, 1 << 20, 1 << 16);
    assert_string_equal(r.log, want);
    free(r.log);
}

static const char JSON[] = "{\"id\":\"chatcmpl-1\",\"choices\":[{\"message\":{\"content\":"
                           "\"Hello, hello, hello, hello!\"}}],\"usage\":{\"prompt_tokens\":3}}";

static void test_identity_whole(void **state)
{
    char want[512];

    (void)state;
    snprintf(want, sizeof(want), "<W|%s>", JSON);
    check("application/json", NULL, JSON, strlen(JSON), want, strlen(JSON));
    check(NULL, "identity", JSON, strlen(JSON), want, strlen(JSON));
    check("text/plain", "", JSON, strlen(JSON), want, strlen(JSON));
    /* an empty body still gives its one WHOLE call */
    struct result r = run("application/json", NULL, "", 0, 1, 1024, 1024);
    assert_string_equal(r.log, "<W|>");
    free(r.log);
}

static void test_compressed_whole(void **state)
{
    static const struct {
        const char *ce;
        int wbits;
    } encs[] = {
        {"gzip", 16 + 15}, {"x-gzip", 16 + 15}, {"deflate", 15}, /* RFC 9110: zlib format */
        {"deflate", -15}, /* what some servers send: raw deflate */
        {"GZip", 16 + 15},
    };
    char want[512];

    (void)state;
    snprintf(want, sizeof(want), "<W|%s>", JSON);
    for (size_t i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
        size_t zn;
        unsigned char *z = compress_(JSON, strlen(JSON), encs[i].wbits, &zn);
        struct result r = run("application/json", encs[i].ce, z, zn, zn, 1 << 20, 1 << 16);
        assert_int_equal(r.encoding, encs[i].wbits == 16 + 15 ? LLM_ENC_GZIP : LLM_ENC_DEFLATE);
        free(r.log);
        check("application/json", encs[i].ce, z, zn, want, strlen(JSON));
        free(z);
    }
    size_t zn;
    unsigned char *z = zstd_(JSON, strlen(JSON), &zn);
    check("application/json", "zstd", z, zn, want, strlen(JSON));
    free(z);
#ifdef LLMOPS_TEST_BROTLIENC
    z = brotli_(JSON, strlen(JSON), &zn);
    check("application/json", "br", z, zn, want, strlen(JSON));
    free(z);
#endif
}

/* Raw deflate has no trailer: the input can run out while inflate still
 * holds output (the tail of a long match). Sizes just past a multiple of the
 * 16 KB output block must decode in full all the same. */
static void test_raw_deflate_tail(void **state)
{
    (void)state;
    for (size_t n = 16380; n <= 16400; n++) {
        char *s = malloc(n + 1);
        size_t zn;
        memset(s, 'a', n);
        s[n] = '\0';
        unsigned char *z = compress_(s, n, -15, &zn);
        static const size_t ks[] = {1, 3, 4096};
        for (size_t i = 0; i < 4; i++) {
            size_t k = i < 3 ? ks[i] : zn;
            struct result r = run("application/json", "deflate", z, zn, k, 1 << 20, 1 << 16);
            if (r.decoded != n || r.decode_error || strlen(r.log) != n + 4)
                fail_msg("n=%zu k=%zu: decoded %llu bytes, error %d", n, k,
                         (unsigned long long)r.decoded, r.decode_error);
            free(r.log);
        }
        free(z);
        free(s);
    }
}

static void test_big_gzip(void **state)
{
    size_t n = 3 << 20, zn;
    char *big = malloc(n + 1);
    char want_head[64];

    (void)state;
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + (i * i) % 7);
    big[n] = '\0';
    unsigned char *z = compress_(big, n, 16 + 15, &zn);
    /* decoding goes on past the WHOLE cap: counted, cut, flagged */
    struct result r = run("application/json", "gzip", z, zn, 4096, 1 << 20, 1 << 16);
    assert_int_equal(r.decode_error, 0);
    assert_int_equal(r.decoded, n);
    assert_int_equal(r.wire, zn);
    snprintf(want_head, sizeof(want_head), "<W!|%.20s", big);
    assert_memory_equal(r.log, want_head, strlen(want_head));
    assert_int_equal(strlen(r.log), strlen("<W!|>") + (1 << 20));
    assert_memory_equal(r.log + 4, big, 1 << 20);
    free(r.log);
    free(z);
    free(big);
}

/* Large compressed SSE streams: every event arrives, whatever the codec. */
static void test_big_compressed_sse(void **state)
{
    struct llm_buf sse, want;
    char line[128];
    size_t zn;
    unsigned char *z;

    (void)state;
    llm_buf_init(&sse, 1 << 22);
    llm_buf_init(&want, 1 << 22);
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(line, sizeof(line), "data: {\"i\":%d,\"pad\":\"%0*d\"}\n\n", i, i % 50, 0);
        llm_buf_append(&sse, line, (size_t)n);
        n = snprintf(line, sizeof(line), "<S:|{\"i\":%d,\"pad\":\"%0*d\"}>", i, i % 50, 0);
        llm_buf_append(&want, line, (size_t)n);
    }
    for (int codec = 0; codec < 4; codec++) {
        const char *ce = codec == 0 ? "gzip" : codec == 1 ? "deflate" : codec == 2 ? "zstd" : "br";
        if (codec == 0)
            z = compress_(sse.p, sse.len, 16 + 15, &zn);
        else if (codec == 1)
            z = compress_(sse.p, sse.len, -15, &zn);
        else if (codec == 2)
            z = zstd_(sse.p, sse.len, &zn);
        else
#ifdef LLMOPS_TEST_BROTLIENC
            z = brotli_(sse.p, sse.len, &zn);
#else
            continue;
#endif
        static const size_t ks[] = {1, 7, 4096, 65536};
        for (size_t i = 0; i < 4; i++) {
            struct result r = run("text/event-stream", ce, z, zn, ks[i], 1 << 20, 1 << 16);
            if (strcmp(r.log, want.p) || r.decoded != sse.len || r.events != 20000)
                fail_msg("%s k=%zu: decoded %llu of %zu, %llu events", ce, ks[i],
                         (unsigned long long)r.decoded, sse.len, (unsigned long long)r.events);
            free(r.log);
        }
        free(z);
    }
    llm_buf_free(&sse);
    llm_buf_free(&want);
}

static void test_sse_framing(void **state)
{
    static const char sse[] = "event: start\r\ndata: {\"a\":1}\r\n\r\n"
                              ": keep-alive\r\n\r\n"
                              "data: {\"b\":2}\r\ndata: {\"c\":3}\r\n\r\n"
                              "data: [DONE]\r\n\r\n";
    static const char want[] = "<S:start|{\"a\":1}><S:|{\"b\":2}\n{\"c\":3}><S:|[DONE]>";
    size_t zn;

    (void)state;
    check("text/event-stream; charset=utf-8", NULL, sse, strlen(sse), want, strlen(sse));
    check("Text/Event-Stream", "identity", sse, strlen(sse), want, strlen(sse));
    unsigned char *z = compress_(sse, strlen(sse), 16 + 15, &zn);
    check("text/event-stream", "gzip", z, zn, want, strlen(sse));
    free(z);
    /* an event cut off by the end of the body is still delivered */
    check("text/event-stream", NULL, "data: x\n\ndata: y", 16, "<S:|x><S:|y>", 16);
    struct result r = run("text/event-stream", NULL, sse, strlen(sse), 5, 1 << 20, 1 << 16);
    assert_int_equal(r.framing, LLM_FRAME_SSE);
    assert_int_equal(r.events, 3);
    free(r.log);
}

static void test_sse_oversize_event(void **state)
{
    static const char sse[] = "data: 0123456789012345678901234567890123456789\n\ndata: ok\n\n";
    struct result r;

    (void)state;
    r = run("text/event-stream", NULL, sse, strlen(sse), 3, 1 << 20, 16);
    assert_string_equal(r.log, "<S:!|0123456789><S:|ok>");
    free(r.log);
}

static void test_json_error_under_event_stream(void **state)
{
    static const char err[] =
        "{\n  \"error\": {\n    \"code\": 401,\n    \"message\": \"API key not "
        "valid\",\n    \"status\": \"UNAUTHENTICATED\"\n  }\n}\n";
    char want[512];
    size_t zn;

    (void)state;
    snprintf(want, sizeof(want), "<W|%s>", err);
    check("text/event-stream", NULL, err, strlen(err), want, strlen(err));
    unsigned char *z = compress_(err, strlen(err), 16 + 15, &zn);
    check("text/event-stream", "gzip", z, zn, want, strlen(err));
    free(z);
    /* the same for an NDJSON content type carrying a one-line error: the
     * line is an event, so it goes out as one */
    check("application/x-ndjson", NULL, "{\"error\":\"x\"}", 13, "<N|{\"error\":\"x\"}>", 13);
}

static void test_ndjson(void **state)
{
    static const char nd[] = "{\"a\":1}\n\n{\"b\":2}\r\n{\"done\":true}";
    static const char want[] = "<N|{\"a\":1}><N|{\"b\":2}><N|{\"done\":true}>";
    size_t zn;

    (void)state;
    check("application/x-ndjson", NULL, nd, strlen(nd), want, strlen(nd));
    check("application/stream+json", NULL, nd, strlen(nd), want, strlen(nd));
    check("application/jsonl", NULL, nd, strlen(nd), want, strlen(nd));
    unsigned char *z = compress_(nd, strlen(nd), 15, &zn);
    check("application/x-ndjson", "deflate", z, zn, want, strlen(nd));
    free(z);
    /* an over-long line is cut to the event cap and flagged */
    struct result r =
        run("application/x-ndjson", NULL, "0123456789abcdef0123\n{}\n", 24, 4, 1 << 20, 8);
    assert_string_equal(r.log, "<N!|01234567><N|{}>");
    free(r.log);
}

static void test_unsupported_and_corrupt(void **state)
{
    struct result r;
    unsigned char junk[64];

    (void)state;
    r = run("application/json", "compress", JSON, strlen(JSON), 7, 1 << 20, 1 << 16);
    assert_int_equal(r.encoding, LLM_ENC_UNSUPPORTED);
    assert_int_equal(r.decode_error, 1);
    assert_int_equal(r.wire, strlen(JSON));
    assert_int_equal(r.decoded, 0);
    assert_string_equal(r.log, "<W|>"); /* nothing decoded, nothing invented */
    free(r.log);
    /* corrupt gzip: flagged, no garbage delivered */
    memset(junk, 0x5a, sizeof(junk));
    r = run("application/json", "gzip", junk, sizeof(junk), 1, 1 << 20, 1 << 16);
    assert_int_equal(r.decode_error, 1);
    assert_int_equal(r.decoded, 0);
    assert_string_equal(r.log, "<W|>");
    free(r.log);
    /* gzip cut short: what was decoded is delivered, no error flagged */
    size_t zn;
    unsigned char *z = compress_(JSON, strlen(JSON), 16 + 15, &zn);
    r = run("application/json", "gzip", z, zn - 8, 3, 1 << 20, 1 << 16);
    assert_int_equal(r.decode_error, 0);
    char want[512];
    snprintf(want, sizeof(want), "<W|%s>", JSON);
    assert_string_equal(r.log, want);
    free(r.log);
    free(z);
}

static void test_whole_cap(void **state)
{
    struct result r;

    (void)state;
    r = run("application/json", NULL, JSON, strlen(JSON), 5, 10, 1 << 16);
    assert_string_equal(r.log, "<W!|{\"id\":\"cha>");
    assert_int_equal(r.decoded, strlen(JSON));
    free(r.log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_whole),
        cmocka_unit_test(test_compressed_whole),
        cmocka_unit_test(test_raw_deflate_tail),
        cmocka_unit_test(test_big_gzip),
        cmocka_unit_test(test_big_compressed_sse),
        cmocka_unit_test(test_sse_framing),
        cmocka_unit_test(test_sse_oversize_event),
        cmocka_unit_test(test_json_error_under_event_stream),
        cmocka_unit_test(test_ndjson),
        cmocka_unit_test(test_unsupported_and_corrupt),
        cmocka_unit_test(test_whole_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
