/* buf.c: llm_buf (bounded prefix: appends, the cap, truncation flag, reset,
 * steal) and llm_cap (head + tail ring with the truncation marker), checked
 * against exact byte contents for every way of splitting the appends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_buf_append_basic(void **state)
{
    struct llm_buf b;

    (void)state;
    llm_buf_init(&b, 100);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(llm_buf_append(&b, "hello", 5), 0);
    assert_int_equal(llm_buf_append(&b, " world", 6), 0);
    assert_int_equal(b.len, 11);
    assert_string_equal(b.p, "hello world");
    assert_int_equal(b.truncated, 0);
    /* an empty append still yields a terminated buffer */
    assert_int_equal(llm_buf_append(&b, "", 0), 0);
    assert_string_equal(b.p, "hello world");
    llm_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.p, "");
    assert_int_equal(llm_buf_append(&b, "x", 1), 0);
    assert_string_equal(b.p, "x");
    llm_buf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
}

static void test_buf_empty_append_allocates(void **state)
{
    struct llm_buf b;

    (void)state;
    llm_buf_init(&b, 10);
    assert_int_equal(llm_buf_append(&b, NULL, 0), 0);
    assert_non_null(b.p);
    assert_string_equal(b.p, "");
    llm_buf_free(&b);
}

static void test_buf_cap(void **state)
{
    struct llm_buf b;

    (void)state;
    llm_buf_init(&b, 8);
    assert_int_equal(llm_buf_append(&b, "abcde", 5), 0);
    assert_int_equal(llm_buf_append(&b, "fghij", 5), LLM_ETOOBIG);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.p, "abcdefgh");
    assert_int_equal(b.truncated, 1);
    /* once full, every append is cut to nothing */
    assert_int_equal(llm_buf_append(&b, "k", 1), LLM_ETOOBIG);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.p, "abcdefgh");
    assert_true(b.alloc >= 8);
    llm_buf_reset(&b);
    assert_int_equal(b.truncated, 0);
    assert_int_equal(llm_buf_append(&b, "12345678", 8), 0);
    assert_int_equal(b.truncated, 0);
    assert_string_equal(b.p, "12345678");
    llm_buf_free(&b);
}

static void test_buf_zero_cap(void **state)
{
    struct llm_buf b;

    (void)state;
    llm_buf_init(&b, 0);
    assert_int_equal(llm_buf_append(&b, "a", 1), LLM_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.truncated, 1);
    assert_non_null(b.p);
    assert_string_equal(b.p, "");
    llm_buf_free(&b);
}

static void test_buf_growth(void **state)
{
    struct llm_buf b;
    char chunk[97];
    size_t total = 0;

    (void)state;
    llm_buf_init(&b, 100000);
    for (int i = 0; i < 1000; i++) {
        memset(chunk, 'a' + i % 26, sizeof(chunk));
        assert_int_equal(llm_buf_append(&b, chunk, sizeof(chunk)), 0);
        total += sizeof(chunk);
    }
    assert_int_equal(b.len, total);
    assert_true(b.alloc >= total && b.alloc <= 100000);
    for (size_t i = 0; i < total; i++)
        assert_int_equal(b.p[i], 'a' + (int)(i / sizeof(chunk)) % 26);
    assert_int_equal(b.p[total], '\0');
    /* the next append crosses the cap: cut exactly at it */
    char big[4000];
    memset(big, 'Z', sizeof(big));
    assert_int_equal(llm_buf_append(&b, big, sizeof(big)), LLM_ETOOBIG);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.alloc, 100000);
    assert_int_equal(b.p[99999], 'Z');
    assert_int_equal(b.p[100000], '\0');
    llm_buf_free(&b);
}

static void test_buf_steal(void **state)
{
    struct llm_buf b;
    size_t len = 0;
    char *p;

    (void)state;
    llm_buf_init(&b, 16);
    llm_buf_append(&b, "0123456789abcdefXYZ", 19);
    assert_int_equal(b.truncated, 1);
    p = llm_buf_steal(&b, &len);
    assert_int_equal(len, 16);
    assert_string_equal(p, "0123456789abcdef");
    free(p);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.truncated, 0);
    assert_int_equal(b.max, 16);
    /* still usable after a steal */
    assert_int_equal(llm_buf_append(&b, "ok", 2), 0);
    assert_string_equal(b.p, "ok");
    llm_buf_free(&b);
    /* stealing an empty buffer gives NULL and length 0 */
    llm_buf_init(&b, 16);
    len = 99;
    assert_null(llm_buf_steal(&b, &len));
    assert_int_equal(len, 0);
}

static void test_cap_small(void **state)
{
    struct llm_cap c;
    size_t len;
    char *s;

    (void)state;
    llm_cap_init(&c, 10);
    llm_cap_append(&c, "hello", 5);
    assert_int_equal(llm_cap_truncated(&c), 0);
    s = llm_cap_join(&c, &len);
    assert_int_equal(len, 5);
    assert_string_equal(s, "hello");
    free(s);
    llm_cap_append(&c, "world", 5); /* exactly max: head 5 + tail 5 */
    assert_int_equal(llm_cap_truncated(&c), 0);
    s = llm_cap_join(&c, &len);
    assert_int_equal(len, 10);
    assert_string_equal(s, "helloworld");
    free(s);
    assert_int_equal(c.total, 10);
    llm_cap_free(&c);
}

static void test_cap_empty(void **state)
{
    struct llm_cap c;
    size_t len = 99;
    char *s;

    (void)state;
    llm_cap_init(&c, 10);
    s = llm_cap_join(&c, &len);
    assert_non_null(s);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    free(s);
    llm_cap_free(&c);
}

/* Expected join of the stream s[0..n) under a cap of max. */
static char *cap_expected(const char *s, size_t n, size_t max, size_t *out_len)
{
    size_t head = max / 2, tail = max - max / 2;
    char marker[96];
    char *out;

    if (n <= max) {
        out = malloc(n + 1);
        memcpy(out, s, n);
        out[n] = '\0';
        *out_len = n;
        return out;
    }
    int m = snprintf(marker, sizeof(marker), "\n[llmops: %zu bytes truncated]\n", n - head - tail);
    out = malloc(head + (size_t)m + tail + 1);
    memcpy(out, s, head);
    memcpy(out + head, marker, (size_t)m);
    memcpy(out + head + (size_t)m, s + n - tail, tail);
    *out_len = head + (size_t)m + tail;
    out[*out_len] = '\0';
    return out;
}

static void test_cap_every_split(void **state)
{
    char src[200];
    static const size_t maxes[] = {1, 2, 7, 10, 33, 64};

    (void)state;
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (char)('A' + (i * 7) % 53);
    for (size_t mi = 0; mi < sizeof(maxes) / sizeof(maxes[0]); mi++) {
        size_t max = maxes[mi];
        for (size_t n = 0; n <= sizeof(src); n += 13) {
            for (size_t k = 1; k <= n + 1; k++) {
                struct llm_cap c;
                size_t len, elen;
                llm_cap_init(&c, max);
                for (size_t off = 0; off < n; off += k)
                    llm_cap_append(&c, src + off, n - off < k ? n - off : k);
                char *got = llm_cap_join(&c, &len);
                char *want = cap_expected(src, n, max, &elen);
                assert_int_equal(c.total, n);
                assert_int_equal(llm_cap_truncated(&c), n > max);
                assert_int_equal(len, elen);
                assert_memory_equal(got, want, elen);
                assert_int_equal(got[len], '\0');
                free(got);
                free(want);
                llm_cap_free(&c);
            }
        }
    }
}

static void test_cap_marker_text(void **state)
{
    struct llm_cap c;
    size_t len;
    char *s;

    (void)state;
    llm_cap_init(&c, 4);
    llm_cap_append(&c, "abcdefghij", 10);
    s = llm_cap_join(&c, &len);
    assert_string_equal(s, "ab\n[llmops: 6 bytes truncated]\nij");
    assert_int_equal(len, strlen(s));
    free(s);
    llm_cap_free(&c);
    assert_int_equal(c.total, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_basic), cmocka_unit_test(test_buf_empty_append_allocates),
        cmocka_unit_test(test_buf_cap),          cmocka_unit_test(test_buf_zero_cap),
        cmocka_unit_test(test_buf_growth),       cmocka_unit_test(test_buf_steal),
        cmocka_unit_test(test_cap_small),        cmocka_unit_test(test_cap_empty),
        cmocka_unit_test(test_cap_every_split),  cmocka_unit_test(test_cap_marker_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
