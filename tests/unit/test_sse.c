/* sse.c: text/event-stream framing as a log of dispatched events that must
 * be identical for every split of the bytes: CRLF, LF and CR line endings
 * (and CRLF split across feeds), comments, multi-line data, event names and
 * their reset, fields without a value, ignored fields, dispatch at finish,
 * and events whose data outgrows the cap (delivered cut, flagged). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct log {
    struct llm_buf b;
    int n;
};

static void on_event(void *ctx, const struct llm_sse_event *ev)
{
    struct log *l = ctx;
    char head[300];

    /* data_len must agree with the terminated string */
    assert_int_equal(strlen(ev->data), ev->data_len);
    int k = snprintf(head, sizeof(head), "<%s|%s", ev->event, ev->truncated ? "T|" : "");
    llm_buf_append(&l->b, head, (size_t)k);
    llm_buf_append(&l->b, ev->data, ev->data_len);
    llm_buf_append(&l->b, ">", 1);
    l->n++;
}

static char *run(const char *s, size_t n, size_t k, size_t max, int finish, int *nev)
{
    struct llm_sse sse;
    struct log l;

    memset(&l, 0, sizeof(l));
    llm_buf_init(&l.b, 1 << 20);
    llm_buf_append(&l.b, "", 0);
    llm_sse_init(&sse, max, on_event, &l);
    for (size_t off = 0; off < n; off += k)
        llm_sse_feed(&sse, s + off, n - off < k ? n - off : k);
    if (finish)
        llm_sse_finish(&sse);
    llm_sse_free(&sse);
    if (nev)
        *nev = l.n;
    return l.b.p;
}

static void check(const char *s, size_t max, int finish, const char *want)
{
    size_t n = strlen(s);
    for (size_t k = 1; k <= n; k++) {
        char *got = run(s, n, k, max, finish, NULL);
        if (strcmp(got, want))
            fail_msg("k=%zu\n got: %s\nwant: %s", k, got, want);
        free(got);
    }
}

static void test_line_endings(void **state)
{
    (void)state;
    check("data: a\n\ndata: b\n\n", 1024, 0, "<|a><|b>");
    check("data: a\r\n\r\ndata: b\r\n\r\n", 1024, 0, "<|a><|b>");
    check("data: a\r\rdata: b\r\r", 1024, 0, "<|a><|b>");
    /* mixed within one stream */
    check("data: a\r\n\ndata: b\r\rdata: c\n\r\n", 1024, 0, "<|a><|b><|c>");
    /* CR CR LF: the LF belongs to the second CR */
    check("data: a\r\r\ndata: b\n\n", 1024, 0, "<|a><|b>");
}

static void test_comments_and_fields(void **state)
{
    (void)state;
    check(": OPENROUTER PROCESSING\n\n: x\ndata: {\"a\":1}\n\n", 1024, 0, "<|{\"a\":1}>");
    /* only one leading space is stripped; no space is fine too */
    check("data:x\n\ndata:  y\n\n", 1024, 0, "<|x><| y>");
    /* id, retry and unknown fields are ignored; a blank line without data
     * dispatches nothing */
    check("id: 7\nretry: 100\nfoo: bar\n\nevent: ping\n\ndata: z\n\n", 1024, 0, "<|z>");
    /* a "data" field with no colon is an empty data line */
    check("data\n\n", 1024, 0, "<|>");
    check("data:\n\n", 1024, 0, "<|>");
}

static void test_multiline_data(void **state)
{
    (void)state;
    check("data: line1\ndata: line2\ndata:\ndata: line4\n\n", 1024, 0, "<|line1\nline2\n\nline4>");
    check("data: a\r\n: comment in the middle\r\ndata: b\r\n\r\n", 1024, 0, "<|a\nb>");
}

static void test_event_names(void **state)
{
    (void)state;
    check("event: message_start\ndata: {}\n\n"
          "data: unnamed\n\n"
          "event: a\nevent: b\ndata: last name wins\n\n"
          "event:delta\r\ndata: x\r\n\r\n",
          1024, 0, "<message_start|{}><|unnamed><b|last name wins><delta|x>");
    /* a name without data is forgotten at the blank line */
    check("event: lost\n\ndata: d\n\n", 1024, 0, "<|d>");
}

static void test_finish(void **state)
{
    int n;
    char *got;

    (void)state;
    /* a last event not closed by a blank line is still dispatched at finish */
    check("data: a\n\ndata: b\n", 1024, 1, "<|a><|b>");
    check("data: a\n\ndata: b", 1024, 1, "<|a><|b>");
    check("event: e\ndata: b\r", 1024, 1, "<e|b>");
    /* but not before */
    got = run("data: a\n\ndata: b\n", 17, 17, 1024, 0, &n);
    assert_string_equal(got, "<|a>");
    assert_int_equal(n, 1);
    free(got);
    /* nothing pending: finish dispatches nothing */
    got = run("data: a\n\n: bye\n", 15, 3, 1024, 1, &n);
    assert_string_equal(got, "<|a>");
    assert_int_equal(n, 1);
    free(got);
}

static void test_oversize(void **state)
{
    char s[512], want[512];
    size_t max = 32;

    (void)state;
    /* one data line longer than the cap: cut, flagged, the stream goes on */
    snprintf(s, sizeof(s), "data: %s\n\ndata: next\n\n",
             "0123456789012345678901234567890123456789");
    /* the line buffer holds max bytes incl. "data: " */
    snprintf(want, sizeof(want), "<|T|%.*s><|next>", (int)(max - 6),
             "0123456789012345678901234567890123456789");
    check(s, max, 0, want);
    /* many short lines that together outgrow the cap */
    check("data: 0123456789\ndata: 0123456789\ndata: 0123456789\ndata: 0123456789\n\n"
          "data: ok\n\n",
          max, 0, "<|T|0123456789\n0123456789\n0123456789><|ok>");
    /* a cut event does not leave its flag on the next one */
    check("data: 0123456789012345678901234567890123456789\n\ndata: a\n\n", max, 0,
          "<|T|01234567890123456789012345><|a>");
}

/* WHATWG: a U+FEFF byte order mark at the start of the stream is ignored
 * (only there: later it is content). */
static void test_byte_order_mark(void **state)
{
    (void)state;
    check("\xef\xbb\xbf"
          "data: a\n\n",
          1024, 0, "<|a>");
    check("\xef\xbb\xbf"
          "event: e\r\ndata: b\r\n\r\n",
          1024, 0, "<e|b>");
    check("data: \xef\xbb\xbf"
          "c\n\n",
          1024, 0,
          "<|\xef\xbb\xbf"
          "c>");
}

static void test_big_stream(void **state)
{
    struct llm_buf s, want;
    char line[64];

    (void)state;
    llm_buf_init(&s, 1 << 20);
    llm_buf_init(&want, 1 << 20);
    for (int i = 0; i < 500; i++) {
        int n = snprintf(line, sizeof(line), "event: e%d\r\ndata: {\"i\":%d}\r\n\r\n", i % 3, i);
        llm_buf_append(&s, line, (size_t)n);
        n = snprintf(line, sizeof(line), "<e%d|{\"i\":%d}>", i % 3, i);
        llm_buf_append(&want, line, (size_t)n);
    }
    for (size_t k = 1; k < 200; k += 7) {
        int n;
        char *got = run(s.p, s.len, k, 4096, 1, &n);
        assert_int_equal(n, 500);
        assert_string_equal(got, want.p);
        free(got);
    }
    llm_buf_free(&s);
    llm_buf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_endings),    cmocka_unit_test(test_comments_and_fields),
        cmocka_unit_test(test_multiline_data),  cmocka_unit_test(test_event_names),
        cmocka_unit_test(test_finish),          cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_byte_order_mark), cmocka_unit_test(test_big_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
