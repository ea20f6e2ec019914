/* util.c: RFC 3339 formatting and parsing (dates, fractions, offsets,
 * rejects), ULID layout (time prefix, sort order, base32 round trip, parse
 * rejects), the clocks, the database path precedence, and err.c names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_rfc3339_format(void **state)
{
    char out[LLM_RFC3339_LEN];

    (void)state;
    llm_rfc3339(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
    /* 2026-11-27T18:49:22.123456789Z: nanoseconds are cut, not rounded */
    llm_rfc3339(1795805362123456789LL, out);
    assert_string_equal(out, "2026-11-27T18:49:22.123456Z");
    llm_rfc3339(951782400000000000LL, out); /* leap day 2000 */
    assert_string_equal(out, "2000-02-29T00:00:00.000000Z");
    assert_int_equal(strlen(out), LLM_RFC3339_LEN - 1);
}

static void test_parse_time_ok(void **state)
{
    int64_t us = -1;

    (void)state;
    assert_int_equal(llm_parse_time("1970-01-01", &us), 0);
    assert_int_equal(us, 0);
    assert_int_equal(llm_parse_time("2026-11-27", &us), 0);
    assert_int_equal(us, 1795737600LL * 1000000);
    assert_int_equal(llm_parse_time("2026-11-27T18:49:22.123456Z", &us), 0);
    assert_int_equal(us, 1795805362123456LL);
    assert_int_equal(llm_parse_time("2026-11-27t18:49:22z", &us), 0);
    assert_int_equal(us, 1795805362000000LL);
    assert_int_equal(llm_parse_time("2028-02-29", &us), 0); /* leap year */
    assert_int_equal(us, 1835395200LL * 1000000);
    assert_int_equal(llm_parse_time("2026-11-27 18:49", &us), 0);
    assert_int_equal(us, 1795805340000000LL);
    /* fractions: fewer digits are scaled, more are cut */
    assert_int_equal(llm_parse_time("2026-11-27T18:49:22.5Z", &us), 0);
    assert_int_equal(us, 1795805362500000LL);
    assert_int_equal(llm_parse_time("2026-11-27T18:49:22.123456999Z", &us), 0);
    assert_int_equal(us, 1795805362123456LL);
    /* offsets move the instant to UTC */
    assert_int_equal(llm_parse_time("2026-11-27T20:49:22+02:00", &us), 0);
    assert_int_equal(us, 1795805362000000LL);
    assert_int_equal(llm_parse_time("2026-11-27T13:19:22-05:30", &us), 0);
    assert_int_equal(us, 1795805362000000LL);
}

static void test_parse_time_roundtrip(void **state)
{
    char out[LLM_RFC3339_LEN];
    int64_t us;

    (void)state;
    for (int64_t ns = 0; ns < 4000000000000000000LL; ns += 123456789123456789LL) {
        llm_rfc3339(ns, out);
        assert_int_equal(llm_parse_time(out, &us), 0);
        assert_int_equal(us, ns / 1000);
    }
}

static void test_parse_time_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "2026",
        "2026-1-01",
        "2026-13-01",
        "2026-00-10",
        "2026-01-32",
        "2026-01-01T",
        "2026-01-01T25:00",
        "2026-01-01T10:60",
        "2026-01-01T10:00:61",
        "2026-01-01T10:00Zjunk",
        "2026-01-01x",
        "2026-01-01T10:00+0200",
        "yyyy-mm-dd",
        "2026-01-01T10",
        /* days the month does not have (timegm would roll them over) */
        "2026-02-29",
        "2026-02-30",
        "2026-04-31",
        "2026-06-31T00:00:00Z",
    };
    int64_t us = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (llm_parse_time(bad[i], &us) != LLM_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

static void test_ulid_layout(void **state)
{
    uint8_t id[16], back[16];
    char s[LLM_ULID_LEN];
    int64_t ns = 1795805362123456789LL;
    uint64_t ms = 1795805362123ULL;

    (void)state;
    llm_ulid_new(id, ns);
    for (int i = 0; i < 6; i++)
        assert_int_equal(id[i], (uint8_t)(ms >> (40 - 8 * i)));
    llm_ulid_format(id, s);
    assert_int_equal(strlen(s), 26);
    assert_true(s[0] >= '0' && s[0] <= '7');
    for (int i = 0; i < 26; i++)
        assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", s[i]));
    assert_int_equal(llm_ulid_parse(s, back), 0);
    assert_memory_equal(id, back, 16);
    /* the random part differs between two ids of the same millisecond */
    uint8_t id2[16];
    llm_ulid_new(id2, ns);
    assert_memory_equal(id, id2, 6);
    assert_memory_not_equal(id + 6, id2 + 6, 10);
}

static void test_ulid_known_values(void **state)
{
    uint8_t zero[16] = {0}, ones[16], out[16];
    char s[LLM_ULID_LEN];

    (void)state;
    memset(ones, 0xff, sizeof(ones));
    llm_ulid_format(zero, s);
    assert_string_equal(s, "00000000000000000000000000");
    llm_ulid_format(ones, s);
    assert_string_equal(s, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    /* the last byte lands in the last two digits */
    uint8_t one[16] = {0};
    one[15] = 1;
    llm_ulid_format(one, s);
    assert_string_equal(s, "00000000000000000000000001");
    one[15] = 0x20;
    llm_ulid_format(one, s);
    assert_string_equal(s, "00000000000000000000000010");
    /* a well-known ULID (ulid/spec README) */
    assert_int_equal(llm_ulid_parse("01ARZ3NDEKTSV4RRFFQ69G5FAV", out), 0);
    llm_ulid_format(out, s);
    assert_string_equal(s, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    /* time part 01ARZ3NDEK = 1469922850259 ms */
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | out[i];
    assert_int_equal(ms, 1469922850259ULL);
    /* parsing is case-insensitive */
    assert_int_equal(llm_ulid_parse("01arz3ndektsv4rrffq69g5fav", zero), 0);
    assert_memory_equal(zero, out, 16);
}

static void test_ulid_parse_rejects(void **state)
{
    uint8_t out[16];

    (void)state;
    assert_int_equal(llm_ulid_parse("", out), LLM_EINVAL);
    assert_int_equal(llm_ulid_parse("01ARZ3NDEKTSV4RRFFQ69G5FA", out), LLM_EINVAL);
    assert_int_equal(llm_ulid_parse("01ARZ3NDEKTSV4RRFFQ69G5FAVV", out), LLM_EINVAL);
    assert_int_equal(llm_ulid_parse("01ARZ3NDEKTSV4RRFFQ69G5FAU", out), LLM_EINVAL); /* U */
    assert_int_equal(llm_ulid_parse("01ARZ3NDEKTSV4RRFFQ69G5FA!", out), LLM_EINVAL);
    /* first digit above 7 overflows 128 bits */
    assert_int_equal(llm_ulid_parse("80000000000000000000000000", out), LLM_EINVAL);
    assert_int_equal(llm_ulid_parse("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", out), 0);
}

static void test_ulid_sorts_by_time(void **state)
{
    uint8_t prev[16], cur[16];
    char ps[LLM_ULID_LEN], cs[LLM_ULID_LEN];

    (void)state;
    llm_ulid_new(prev, 1000000);
    llm_ulid_format(prev, ps);
    for (int64_t ms = 2; ms < 100000000000LL; ms = ms * 3 + 1) {
        llm_ulid_new(cur, ms * 1000000);
        llm_ulid_format(cur, cs);
        assert_true(memcmp(prev, cur, 16) < 0);
        assert_true(strcmp(ps, cs) < 0); /* text order == byte order */
        memcpy(prev, cur, 16);
        memcpy(ps, cs, sizeof(ps));
    }
}

static void test_clocks(void **state)
{
    int64_t a = llm_mono_ns(), b = llm_mono_ns();
    int64_t now = llm_now_ns();

    (void)state;
    assert_true(b >= a);
    assert_true(now > 1700000000LL * 1000000000); /* after 2023 */
}

static void test_db_path(void **state)
{
    char out[4096];
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

    (void)state;
    setenv("LLMOPS_DB", "/x/db", 1);
    setenv("XDG_DATA_HOME", "/xdg", 1);
    setenv("HOME", "/home/u", 1);
    assert_int_equal(llm_db_path(out, sizeof(out)), 0);
    assert_string_equal(out, "/x/db");
    unsetenv("LLMOPS_DB");
    assert_int_equal(llm_db_path(out, sizeof(out)), 0);
    assert_string_equal(out, "/xdg/llmops");
    setenv("LLMOPS_DB", "", 1);             /* empty: ignored */
    setenv("XDG_DATA_HOME", "relative", 1); /* not absolute: ignored (XDG spec) */
    assert_int_equal(llm_db_path(out, sizeof(out)), 0);
    assert_string_equal(out, "/home/u/.local/share/llmops");
    /* too small for the result */
    assert_int_equal(llm_db_path(out, 10), LLM_EINVAL);
    unsetenv("XDG_DATA_HOME");
    unsetenv("LLMOPS_DB");
    if (home) {
        setenv("HOME", home, 1);
        free(home);
    } else {
        unsetenv("HOME");
    }
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(llm_strerror(0), "success");
    assert_string_equal(llm_strerror(LLM_EPARTIAL), "need more input");
    assert_string_equal(llm_strerror(LLM_ECORRUPT), "database or record is corrupt");
    assert_string_equal(llm_strerror(LLM_ENOCORE), "collector core could not be loaded");
    assert_string_equal(llm_strerror(-ENOENT), "No such file or directory");
    assert_string_equal(llm_strerror(LLM_ERR_LAST), "unknown error");
    assert_string_equal(llm_strerror(1), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_format),
        cmocka_unit_test(test_parse_time_ok),
        cmocka_unit_test(test_parse_time_roundtrip),
        cmocka_unit_test(test_parse_time_rejects),
        cmocka_unit_test(test_ulid_layout),
        cmocka_unit_test(test_ulid_known_values),
        cmocka_unit_test(test_ulid_parse_rejects),
        cmocka_unit_test(test_ulid_sorts_by_time),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_db_path),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
