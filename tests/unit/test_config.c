/* config.c: the one size grammar (k/m/g, bounds, garbage refused), the one
 * boolean grammar, and llm_config_load from the environment: defaults,
 * every variable, bad values ignored and logged, LLMOPS_DISABLE=true. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const vars[] = {"LLMOPS_DISABLE",          "LLMOPS_LOG",       "LLMOPS_HOSTS",
                                   "LLMOPS_FLUSH_TIMEOUT_MS", "LLMOPS_QUEUE_MAX", "LLMOPS_MAX_BODY",
                                   "LLMOPS_MAX_PARSE",        "LLMOPS_MAX_EVENT", "LLMOPS_MAX_HEAD",
                                   "LLMOPS_CAPTURE_CONTENT"};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    return 0;
}

static void test_size_grammar(void **state)
{
    static const struct {
        const char *v;
        size_t want; /* 0: refused */
    } cases[] = {
        {"1024", 1024},
        {"4k", 4096},
        {"4K", 4096},
        {"3m", 3 << 20},
        {"2M", 2 << 20},
        {"1g", 1 << 30},
        {"16G", (size_t)16 << 30},
        {"", 0},
        {"k", 0},
        {"-1", 0},
        {"+4", 0},
        {" 4", 0},
        {"4kb", 0},
        {"4t", 0},
        {"1.5m", 0},
        {"99999999999999999999", 0},
        {"17179869184g", 0},
    };
    size_t out;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        out = 7;
        int rc = llm_config_size(cases[i].v, 0, SIZE_MAX, &out);
        if (cases[i].want ? rc || out != cases[i].want : rc != LLM_EINVAL || out != 7)
            fail_msg("%s: rc %d, %zu", cases[i].v, rc, out);
    }
    /* bounds are inclusive, checked after the suffix */
    assert_int_equal(llm_config_size("64k", 64 << 10, 1 << 20, &out), 0);
    assert_int_equal(out, 64 << 10);
    assert_int_equal(llm_config_size("1m", 64 << 10, 1 << 20, &out), 0);
    assert_int_equal(llm_config_size("65535", 64 << 10, 1 << 20, &out), LLM_EINVAL);
    assert_int_equal(llm_config_size("2m", 64 << 10, 1 << 20, &out), LLM_EINVAL);
    assert_int_equal(llm_config_size(NULL, 0, 1, &out), LLM_EINVAL);
}

static void test_bool_grammar(void **state)
{
    static const char *const no[] = {"0", "false", "FALSE", "No", "off"};
    static const char *const yes[] = {"1", "true", "yes", "on", "TRUE", "2", "anything"};
    int b;

    (void)state;
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        b = 7;
        assert_int_equal(llm_config_bool(no[i], &b), 0);
        assert_int_equal(b, 0);
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        b = 7;
        assert_int_equal(llm_config_bool(yes[i], &b), 0);
        assert_int_equal(b, 1);
    }
    b = 7;
    assert_int_equal(llm_config_bool("", &b), LLM_EINVAL);
    assert_int_equal(llm_config_bool(NULL, &b), LLM_EINVAL);
    assert_int_equal(b, 7);
}

static void test_defaults(void **state)
{
    struct llm_config c;

    (void)state;
    llm_config_load(&c);
    assert_false(c.disable);
    assert_null(c.log);
    assert_null(c.hosts);
    assert_int_equal(c.flush_timeout_ms, 3000);
    assert_int_equal(c.queue_max, 64 << 20);
    assert_int_equal(c.max_body, 1 << 20);
    assert_int_equal(c.max_parse, 64 << 20);
    assert_int_equal(c.max_event, 4 << 20);
    assert_int_equal(c.max_head, 1 << 20);
    assert_true(c.capture_content);
}

static void test_every_variable(void **state)
{
    struct llm_config c;

    (void)state;
    setenv("LLMOPS_HOSTS", "a.test=p", 1);
    setenv("LLMOPS_FLUSH_TIMEOUT_MS", "250", 1);
    setenv("LLMOPS_QUEUE_MAX", "1g", 1);
    setenv("LLMOPS_MAX_BODY", "2k", 1);
    setenv("LLMOPS_MAX_PARSE", "1G", 1);
    setenv("LLMOPS_MAX_EVENT", "8m", 1);
    setenv("LLMOPS_MAX_HEAD", "256k", 1);
    setenv("LLMOPS_CAPTURE_CONTENT", "false", 1);
    llm_config_load(&c);
    assert_false(c.disable);
    assert_string_equal(c.hosts, "a.test=p");
    assert_int_equal(c.flush_timeout_ms, 250);
    assert_int_equal(c.queue_max, 1 << 30);
    assert_int_equal(c.max_body, 2048);
    assert_int_equal(c.max_parse, 1 << 30);
    assert_int_equal(c.max_event, 8 << 20);
    assert_int_equal(c.max_head, 256 << 10);
    assert_false(c.capture_content);
    setenv("LLMOPS_CAPTURE_CONTENT", "0", 1);
    llm_config_load(&c);
    assert_false(c.capture_content);
    setenv("LLMOPS_CAPTURE_CONTENT", "yes", 1);
    llm_config_load(&c);
    assert_true(c.capture_content);
}

/* Out of range or unparsable: the default, and one line in LLMOPS_LOG. */
static void test_bad_values_logged(void **state)
{
    char log[] = "/tmp/llmops-config-XXXXXX", text[4096];
    struct llm_config c;
    FILE *f;
    size_t n;
    int fd = mkstemp(log);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    setenv("LLMOPS_LOG", log, 1);
    setenv("LLMOPS_QUEUE_MAX", "1k", 1);        /* under 64k */
    setenv("LLMOPS_MAX_BODY", "lots", 1);       /* not a size */
    setenv("LLMOPS_FLUSH_TIMEOUT_MS", "1k", 1); /* a count, no suffix */
    setenv("LLMOPS_MAX_EVENT", "100", 1);       /* under 1k */
    llm_config_load(&c);
    assert_int_equal(c.queue_max, 64 << 20);
    assert_int_equal(c.max_body, 1 << 20);
    assert_int_equal(c.flush_timeout_ms, 3000);
    assert_int_equal(c.max_event, 4 << 20);
    f = fopen(log, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(log);
    assert_non_null(strstr(text, "ignoring LLMOPS_QUEUE_MAX=1k"));
    assert_non_null(strstr(text, "ignoring LLMOPS_MAX_BODY=lots"));
    assert_non_null(strstr(text, "ignoring LLMOPS_FLUSH_TIMEOUT_MS=1k"));
    assert_non_null(strstr(text, "ignoring LLMOPS_MAX_EVENT=100"));
}

/* One boolean grammar: "true" disables like "1"; "0" and "false" do not. */
static void test_disable(void **state)
{
    static const struct {
        const char *v;
        int off;
    } cases[] = {{"1", 1}, {"true", 1}, {"yes", 1}, {"0", 0}, {"false", 0}, {"", 0}};
    struct llm_config c;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("LLMOPS_DISABLE", cases[i].v, 1);
        llm_config_load(&c);
        if (c.disable != cases[i].off)
            fail_msg("LLMOPS_DISABLE=%s: disable %d", cases[i].v, c.disable);
        assert_int_equal(c.max_body, 1 << 20); /* every field filled either way */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_size_grammar, clear_env),
        cmocka_unit_test_setup(test_bool_grammar, clear_env),
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_every_variable, clear_env),
        cmocka_unit_test_setup(test_bad_values_logged, clear_env),
        cmocka_unit_test_setup(test_disable, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
