/* attrib.c's W3C trace context (llm_attrib_trace, through
 * llm_attrib_from_head): request heads parsed by http1.c, and the trace_id,
 * parent_span_id and trace_state they leave in a record. Valid traceparents
 * (version 00, a later version with and without its extra fields, spaces
 * around the value) are taken; every malformed one (short, long for 00,
 * upper case, non-hex, version ff, all-zero ids, misplaced dashes) is ignored
 * with its tracestate; a tracestate past 512 bytes keeps whole members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "attrib.h"
#include "http1.h"
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define SID "00f067aa0ba902b7"

static int on_head(void *ctx, struct llm_h1_head *h)
{
    llm_attrib_from_head(ctx, h);
    return 0;
}

static void noop_body(void *ctx, const char *p, size_t n)
{
    (void)ctx, (void)p, (void)n;
}

static void noop_end(void *ctx, int interim)
{
    (void)ctx, (void)interim;
}

/* The record a request with these extra header lines gets. */
static void parse(struct llm_record *r, const char *headers)
{
    static const struct llm_h1_callbacks cb = {on_head, noop_body, noop_end};
    struct llm_h1 *h = calloc(1, sizeof(*h));
    char req[4096];
    int n = snprintf(req, sizeof(req),
                     "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n%s"
                     "Content-Length: 0\r\n\r\n",
                     headers);

    assert_non_null(h);
    llm_record_init(r);
    llm_h1_init(h, 1, &cb, r);
    assert_true(llm_h1_feed(h, req, (size_t)n) >= 0);
    llm_h1_free(h);
    free(h);
}

static void expect(const char *headers, const char *tid, const char *sid, const char *state)
{
    struct llm_record r;

    parse(&r, headers);
    if (tid) {
        assert_non_null(llm_record_str(&r, LLM_F_TRACE_ID));
        assert_string_equal(llm_record_str(&r, LLM_F_TRACE_ID), tid);
        assert_string_equal(llm_record_str(&r, LLM_F_PARENT_SPAN_ID), sid);
    } else {
        if (llm_record_str(&r, LLM_F_TRACE_ID))
            fail_msg("taken: %s", headers);
        assert_null(llm_record_str(&r, LLM_F_PARENT_SPAN_ID));
    }
    if (state) {
        assert_non_null(llm_record_str(&r, LLM_F_TRACE_STATE));
        assert_string_equal(llm_record_str(&r, LLM_F_TRACE_STATE), state);
    } else {
        assert_null(llm_record_str(&r, LLM_F_TRACE_STATE));
    }
    llm_record_clear(&r);
}

static void test_valid(void **state)
{
    (void)state;
    expect("traceparent: 00-" TID "-" SID "-01\r\n", TID, SID, NULL);
    expect("Traceparent: 00-" TID "-" SID "-00\r\ntracestate: congo=t61rcWkgMzE,rojo=" SID "\r\n",
           TID, SID, "congo=t61rcWkgMzE,rojo=" SID);
    expect("TRACEPARENT:   00-" TID "-" SID "-01  \r\nTraceState:  a=1 \r\n", TID, SID, "a=1");
    /* a later version may carry more fields after a dash */
    expect("traceparent: 01-" TID "-" SID "-01\r\n", TID, SID, NULL);
    expect("traceparent: cc-" TID "-" SID "-01-what-the-future-holds\r\n", TID, SID, NULL);
    /* the first of repeated headers counts */
    expect("traceparent: 00-" TID "-" SID "-01\r\ntraceparent: 00-11111111111111111111111111111111-"
           "2222222222222222-01\r\n",
           TID, SID, NULL);
    /* no traceparent: a tracestate alone means nothing */
    expect("tracestate: a=1\r\n", NULL, NULL, NULL);
    expect("", NULL, NULL, NULL);
}

static void test_invalid(void **state)
{
    static const char *const bad[] = {
        "00-" TID "-" SID "-0",                                    /* short */
        "00-" TID "-" SID "-01-extra",                             /* 00 is exactly 55 */
        "cc-" TID "-" SID "-01x",                                  /* no dash after 55 */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01",          /* upper case */
        "00-" TID "-00F067AA0BA902B7-01",                          /* upper case */
        "00-4bf92f3577b34da6a3ce929d0e0e473g-" SID "-01",          /* not hex */
        "ff-" TID "-" SID "-01",                                   /* version ff */
        "0g-" TID "-" SID "-01",                                   /* version not hex */
        "00-00000000000000000000000000000000-" SID "-01",          /* zero trace id */
        "00-" TID "-0000000000000000-01",                          /* zero parent id */
        "00-" TID "-" SID "-0x",                                   /* flags not hex */
        "00_" TID "-" SID "-01",                                   /* separator */
        "00-" TID "_" SID "-01",                                   /* separator */
        "00-" TID "-" SID "_01",                                   /* separator */
        "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01", /* dash moved */
    };
    char h[512];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(h, sizeof(h), "traceparent: %s\r\ntracestate: a=1\r\n", bad[i]);
        expect(h, NULL, NULL, NULL);
    }
}

static void test_long_tracestate(void **state)
{
    char h[2048], want[600];
    size_t n = 0, w = 0;

    (void)state;
    n += (size_t)snprintf(h, sizeof(h), "traceparent: 00-" TID "-" SID "-01\r\ntracestate: ");
    /* 40 members of 19 bytes + ',' : 800 bytes; 512 keep 25 whole members */
    for (int i = 0; i < 40; i++) {
        char m[32];
        int k = snprintf(m, sizeof(m), "%svendor%02d=abcdefghij", i ? "," : "", i);
        memcpy(h + n, m, (size_t)k);
        n += (size_t)k;
        if (w + (size_t)k <= 512) {
            memcpy(want + w, m, (size_t)k);
            w += (size_t)k;
        }
    }
    memcpy(h + n, "\r\n", 3);
    want[w] = '\0';
    assert_true(strlen(want) <= LLM_TRACESTATE_MAX && strlen(want) > 400);
    expect(h, TID, SID, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_long_tracestate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
