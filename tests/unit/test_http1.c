/* http1.c: HTTP/1.x framing over http-parser, as a log of callbacks that must
 * be identical for every split of the bytes: Content-Length, chunked (with
 * extensions and trailers), keep-alive sequences, 1xx interim responses,
 * HEAD responses, close-delimited bodies ended by llm_h1_eof, header lookup
 * (case, whitespace, pieces), header caps, and non-HTTP input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "http1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The callback log: "HEAD(...)" "BODY(...)" "END(0|1)", body pieces merged. */
struct rec {
    struct llm_buf log;
    int in_body;
    const char *head_for_method; /* answer 1 to on_head when the status is 200 */
    int heads;
};

static void logf_(struct rec *r, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    llm_buf_append(&r->log, tmp, (size_t)n);
}

static void close_body(struct rec *r)
{
    if (r->in_body) {
        logf_(r, ")");
        r->in_body = 0;
    }
}

static int on_head(void *ctx, struct llm_h1_head *h)
{
    struct rec *r = ctx;
    size_t len;
    const char *v;

    close_body(r);
    r->heads++;
    if (h->is_request)
        logf_(r, "HEAD(%s %s %d.%d", h->method, h->url, h->http_major, h->http_minor);
    else
        logf_(r, "HEAD(%d %d.%d", h->status, h->http_major, h->http_minor);
    for (size_t i = 0; i < h->nheaders; i++) {
        /* values are logged trimmed: the whitespace around them is no content */
        const char *val = h->raw.p + h->headers[i].value;
        size_t vl = h->headers[i].value_len;
        while (vl && (*val == ' ' || *val == '\t'))
            val++, vl--;
        while (vl && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
            vl--;
        logf_(r, " [%.*s=%.*s]", (int)h->headers[i].name_len, h->raw.p + h->headers[i].name,
              (int)vl, val);
    }
    v = llm_h1_header(h, "content-type", &len);
    logf_(r, " ct=%.*s%s)", v ? (int)len : 4, v ? v : "NULL", h->truncated ? " TRUNC" : "");
    return r->head_for_method && !h->is_request && h->status == 200;
}

static void on_body(void *ctx, const char *p, size_t n)
{
    struct rec *r = ctx;
    if (!r->in_body) {
        logf_(r, "BODY(");
        r->in_body = 1;
    }
    llm_buf_append(&r->log, p, n);
}

static void on_end(void *ctx, int interim)
{
    struct rec *r = ctx;
    close_body(r);
    logf_(r, "END(%d)", interim);
}

static const struct llm_h1_callbacks cbs = {on_head, on_body, on_end};

/* Feeds s in pieces of k bytes (then EOF when eof is set); returns the log. */
static char *run(int is_request, const char *s, size_t n, size_t k, int eof, int head_mode,
                 int *rc_out)
{
    struct llm_h1 h;
    struct rec r;
    int rc = 0;

    memset(&r, 0, sizeof(r));
    llm_buf_init(&r.log, 1 << 20);
    r.head_for_method = head_mode ? "HEAD" : NULL;
    llm_h1_init(&h, is_request, &cbs, &r);
    for (size_t off = 0; off < n && rc >= 0; off += k) {
        size_t m = n - off < k ? n - off : k;
        rc = llm_h1_feed(&h, s + off, m);
        if (rc >= 0 && (size_t)rc != m)
            fail_msg("feed returned %d for %zu bytes", rc, m);
    }
    if (rc >= 0 && eof)
        rc = llm_h1_eof(&h);
    close_body(&r);
    if (rc_out)
        *rc_out = rc < 0 ? rc : 0;
    llm_h1_free(&h);
    return r.log.p ? r.log.p : strdup("");
}

/* The log must be want for every split k = 1..n. */
static void check_all_splits(int is_request, const char *s, int eof, int head_mode,
                             const char *want)
{
    size_t n = strlen(s);
    for (size_t k = 1; k <= n; k++) {
        int rc;
        char *got = run(is_request, s, n, k, eof, head_mode, &rc);
        if (rc != 0 || strcmp(got, want))
            fail_msg("k=%zu rc=%d\n got: %s\nwant: %s", k, rc, got, want);
        free(got);
    }
}

static void test_request_content_length(void **state)
{
    (void)state;
    check_all_splits(1,
                     "POST /v1/chat/completions?x=1 HTTP/1.1\r\n"
                     "Host: api.openai.com\r\n"
                     "Content-Type:   application/json  \r\n"
                     "Content-Length: 13\r\n\r\n"
                     "{\"model\":\"m\"}",
                     0, 0,
                     "HEAD(POST /v1/chat/completions?x=1 1.1 [Host=api.openai.com]"
                     " [Content-Type=application/json] [Content-Length=13]"
                     " ct=application/json)BODY({\"model\":\"m\"})END(0)");
}

static void test_response_chunked(void **state)
{
    (void)state;
    check_all_splits(0,
                     "HTTP/1.1 200 OK\r\n"
                     "content-type: text/event-stream\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n"
                     "1;ext=1\r\n \r\n"
                     "A\r\n0123456789\r\n"
                     "0\r\nX-Trailer: t\r\n\r\n",
                     0, 0,
                     "HEAD(200 1.1 [content-type=text/event-stream]"
                     " [Transfer-Encoding=chunked] ct=text/event-stream)"
                     "BODY(hello 0123456789)END(0)");
}

static void test_keep_alive_sequence(void **state)
{
    (void)state;
    /* two requests back to back, the second without a body; heads reset */
    check_all_splits(1,
                     "POST /a HTTP/1.1\r\nContent-Type: x\r\nContent-Length: 3\r\n\r\nabc"
                     "GET /b HTTP/1.1\r\nAccept: */*\r\n\r\n"
                     "POST /c HTTP/1.0\r\nContent-Length: 0\r\n\r\n"
                     "GET /d HTTP/1.1\r\n\r\n",
                     0, 0,
                     "HEAD(POST /a 1.1 [Content-Type=x] [Content-Length=3] ct=x)"
                     "BODY(abc)END(0)"
                     "HEAD(GET /b 1.1 [Accept=*/*] ct=NULL)END(0)"
                     "HEAD(POST /c 1.0 [Content-Length=0] ct=NULL)END(0)"
                     "HEAD(GET /d 1.1 ct=NULL)END(0)");
    check_all_splits(0,
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                     "HTTP/1.1 404 Not Found\r\nContent-Type: a/b\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n"
                     "HTTP/1.1 204 No Content\r\n\r\n",
                     0, 0,
                     "HEAD(200 1.1 [Content-Length=2] ct=NULL)BODY(ok)END(0)"
                     "HEAD(404 1.1 [Content-Type=a/b] [Transfer-Encoding=chunked] ct=a/b)"
                     "BODY(no)END(0)"
                     "HEAD(204 1.1 ct=NULL)END(0)");
}

static void test_interim_responses(void **state)
{
    (void)state;
    check_all_splits(0,
                     "HTTP/1.1 100 Continue\r\n\r\n"
                     "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
                     0, 0,
                     "HEAD(100 1.1 ct=NULL)END(1)"
                     "HEAD(103 1.1 [Link=</x>] ct=NULL)END(1)"
                     "HEAD(200 1.1 [Content-Length=2] ct=NULL)BODY({})END(0)");
}

static void test_head_response_has_no_body(void **state)
{
    (void)state;
    /* on_head answers 1 for the 200: its Content-Length describes nothing */
    check_all_splits(0,
                     "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
                     "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nab",
                     0, 1,
                     "HEAD(200 1.1 [Content-Length=1234] ct=NULL)END(0)"
                     "HEAD(201 1.1 [Content-Length=2] ct=NULL)BODY(ab)END(0)");
}

static void test_close_delimited(void **state)
{
    (void)state;
    check_all_splits(0,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\n\r\n{\"a\":1}\n",
                     1, 0,
                     "HEAD(200 1.1 [Content-Type=application/json] [Connection=close]"
                     " ct=application/json)BODY({\"a\":1}\n)END(0)");
    /* HTTP/1.0 without a length: the same */
    check_all_splits(0, "HTTP/1.0 200 OK\r\n\r\nbody", 1, 0,
                     "HEAD(200 1.0 ct=NULL)BODY(body)END(0)");
    /* without the EOF the message is still open */
    {
        struct llm_h1 h;
        struct rec r;
        memset(&r, 0, sizeof(r));
        llm_buf_init(&r.log, 4096);
        llm_h1_init(&h, 0, &cbs, &r);
        const char *s = "HTTP/1.1 200 OK\r\n\r\npartial";
        assert_int_equal(llm_h1_feed(&h, s, strlen(s)), (int)strlen(s));
        assert_int_equal(llm_h1_in_message(&h), 1);
        assert_null(strstr(r.log.p, "END"));
        assert_int_equal(llm_h1_eof(&h), 0);
        assert_int_equal(llm_h1_in_message(&h), 0);
        assert_non_null(strstr(r.log.p, "END(0)"));
        llm_h1_free(&h);
        llm_buf_free(&r.log);
    }
}

static void test_eof_mid_body_is_error(void **state)
{
    int rc;
    char *log;

    (void)state;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    log = run(0, s, strlen(s), 4, 1, 0, &rc);
    assert_int_equal(rc, LLM_EPARSE);
    assert_string_equal(log, "HEAD(200 1.1 [Content-Length=10] ct=NULL)BODY(abc)");
    free(log);
    s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
    log = run(0, s, strlen(s), 1, 1, 0, &rc);
    assert_int_equal(rc, LLM_EPARSE);
    assert_string_equal(log, "HEAD(200 1.1 [Transfer-Encoding=chunked] ct=NULL)BODY(ab)");
    free(log);
}

static void test_not_http(void **state)
{
    struct llm_h1 h;
    struct rec r;

    (void)state;
    memset(&r, 0, sizeof(r));
    llm_buf_init(&r.log, 4096);
    llm_h1_init(&h, 0, &cbs, &r);
    assert_int_equal(llm_h1_feed(&h, "\x16\x03\x01\x00\x10", 5), LLM_EPARSE);
    /* failed for good: even valid bytes are refused now */
    assert_int_equal(llm_h1_feed(&h, "HTTP/1.1 200 OK\r\n\r\n", 19), LLM_EPARSE);
    assert_int_equal(llm_h1_eof(&h), LLM_EPARSE);
    assert_int_equal(r.heads, 0);
    llm_h1_free(&h);
    /* a request parser refuses a bad request line */
    llm_h1_init(&h, 1, &cbs, &r);
    assert_int_equal(llm_h1_feed(&h, "FOO BAR\r\n\r\n", 11), LLM_EPARSE);
    llm_h1_free(&h);
    /* a bad chunk size */
    llm_h1_init(&h, 0, &cbs, &r);
    const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    assert_int_equal(llm_h1_feed(&h, s, strlen(s)), LLM_EPARSE);
    llm_h1_free(&h);
    llm_buf_free(&r.log);
}

/* Header lookup on a head captured in on_head. */
struct grab {
    char ct[64], auth[64], missing[8], last[64];
    int have_missing, nheaders, truncated;
    char h63[64];
};

static int grab_head(void *ctx, struct llm_h1_head *h)
{
    struct grab *g = ctx;
    size_t len;
    const char *v;

    g->nheaders = (int)h->nheaders;
    g->truncated = h->truncated;
    if ((v = llm_h1_header(h, "CONTENT-TYPE", &len)))
        snprintf(g->ct, sizeof(g->ct), "%.*s", (int)len, v);
    if ((v = llm_h1_header(h, "authorization", &len)))
        snprintf(g->auth, sizeof(g->auth), "%.*s", (int)len, v);
    g->have_missing = llm_h1_header(h, "content-typ", &len) != NULL;
    if ((v = llm_h1_header(h, "X-H063", &len)))
        snprintf(g->h63, sizeof(g->h63), "%.*s", (int)len, v);
    return 0;
}

static const struct llm_h1_callbacks grab_cbs = {grab_head, NULL, NULL};

static void test_header_lookup(void **state)
{
    /* an empty value between two headers must not merge their names */
    const char *s = "GET / HTTP/1.1\r\nauthorization:\tBearer  x \t\r\nEmpty:\r\n"
                    "Content-Type:text/plain\r\n\r\n";

    (void)state;
    for (size_t k = 1; k <= strlen(s); k++) {
        struct llm_h1 h;
        struct grab g;
        memset(&g, 0, sizeof(g));
        llm_h1_init(&h, 1, &grab_cbs, &g);
        for (size_t off = 0; off < strlen(s); off += k) {
            size_t m = strlen(s) - off < k ? strlen(s) - off : k;
            assert_int_equal(llm_h1_feed(&h, s + off, m), (int)m);
        }
        assert_string_equal(g.ct, "text/plain");
        assert_string_equal(g.auth, "Bearer  x");
        assert_int_equal(g.have_missing, 0);
        assert_int_equal(g.nheaders, 3);
        llm_h1_free(&h);
    }
}

static void test_too_many_headers(void **state)
{
    struct llm_buf b;
    struct llm_h1 h;
    struct grab g;
    char line[64];

    (void)state;
    llm_buf_init(&b, 1 << 16);
    llm_buf_append(&b, "HTTP/1.1 200 OK\r\n", 17);
    for (int i = 0; i < LLM_H1_MAX_HEADERS + 6; i++) {
        int n = snprintf(line, sizeof(line), "X-H%03d: v%03d\r\n", i, i);
        llm_buf_append(&b, line, (size_t)n);
    }
    llm_buf_append(&b, "Content-Type: late\r\n\r\n", 22);
    for (size_t k = 1; k <= b.len; k += (k < 16 ? 1 : 97)) {
        memset(&g, 0, sizeof(g));
        llm_h1_init(&h, 0, &grab_cbs, &g);
        for (size_t off = 0; off < b.len; off += k) {
            size_t m = b.len - off < k ? b.len - off : k;
            assert_int_equal(llm_h1_feed(&h, b.p + off, m), (int)m);
        }
        assert_int_equal(g.nheaders, LLM_H1_MAX_HEADERS);
        assert_int_equal(g.truncated, 1);
        /* the headers that were kept keep their own values */
        if (strcmp(g.h63, "v063"))
            fail_msg("k=%zu: X-H063 = \"%s\", want \"v063\"", k, g.h63);
        assert_string_equal(g.ct, ""); /* dropped: past the cap */
        llm_h1_free(&h);
    }
    llm_buf_free(&b);
}

static void test_oversized_head(void **state)
{
    size_t n = LLM_H1_HEAD_MAX + 1000;
    char *s = malloc(n + 200);
    struct llm_h1 h;
    struct grab g;

    (void)state;
    /* one header value over the cap: kept up to it, flagged, framing intact */
    int p = sprintf(s, "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nX-Big: ");
    memset(s + p, 'v', n);
    p += (int)n;
    p += sprintf(s + p, "\r\nContent-Length: 0\r\n\r\n");
    memset(&g, 0, sizeof(g));
    llm_h1_init(&h, 0, &grab_cbs, &g);
    int rc = llm_h1_feed(&h, s, (size_t)p);
    /* past http-parser's own 80 KB limit too: llm_h1_feed lifts it */
    assert_int_equal(rc, p);
    assert_int_equal(g.truncated, 1);
    assert_string_equal(g.ct, "a/b");
    assert_int_equal(llm_h1_in_message(&h), 0);
    llm_h1_free(&h);
    free(s);
}

/* A message that switches protocols ends HTTP/1.1 where it ends: the bytes
 * after it are not consumed, later feeds fail, and a restart (an upgrade
 * the server declined) parses HTTP/1.1 again. */
static void test_upgrade(void **state)
{
    static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                               "Upgrade: h2c\r\n\r\n";
    static const char req[] =
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings"
        "\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
    char buf[512];
    struct llm_h1 h;
    struct rec r;

    (void)state;
    memset(&r, 0, sizeof(r));
    llm_buf_init(&r.log, 4096);
    llm_h1_init(&h, 0, &cbs, &r);
    snprintf(buf, sizeof(buf), "%s%s", resp, "\0\0\0\4\0\0\0\0\0");
    assert_int_equal(llm_h1_feed(&h, buf, sizeof(resp) - 1 + 9), (int)sizeof(resp) - 1);
    assert_int_equal(llm_h1_upgraded(&h), 1);
    assert_int_equal(llm_h1_feed(&h, "x", 1), LLM_EPARSE);
    llm_h1_free(&h);
    /* ending exactly at the end of the bytes: only the flag says so */
    llm_h1_init(&h, 0, &cbs, &r);
    assert_int_equal(llm_h1_feed(&h, resp, sizeof(resp) - 1), (int)sizeof(resp) - 1);
    assert_int_equal(llm_h1_upgraded(&h), 1);
    llm_h1_free(&h);
    /* a request offering an upgrade, then (declined) the next request */
    llm_h1_init(&h, 1, &cbs, &r);
    assert_int_equal(llm_h1_feed(&h, req, sizeof(req) - 1), (int)sizeof(req) - 1);
    assert_int_equal(llm_h1_upgraded(&h), 1);
    llm_h1_restart(&h);
    assert_int_equal(llm_h1_upgraded(&h), 0);
    assert_int_equal(llm_h1_feed(&h, "GET /b HTTP/1.1\r\n\r\n", 19), 19);
    assert_int_equal(r.heads, 4);
    llm_h1_free(&h);
    llm_buf_free(&r.log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_content_length),
        cmocka_unit_test(test_response_chunked),
        cmocka_unit_test(test_keep_alive_sequence),
        cmocka_unit_test(test_interim_responses),
        cmocka_unit_test(test_head_response_has_no_body),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_eof_mid_body_is_error),
        cmocka_unit_test(test_not_http),
        cmocka_unit_test(test_header_lookup),
        cmocka_unit_test(test_too_many_headers),
        cmocka_unit_test(test_oversized_head),
        cmocka_unit_test(test_upgrade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
