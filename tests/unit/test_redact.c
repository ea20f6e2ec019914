/* redact.c: secrets out of URLs (query values by parameter name, case,
 * empty values, many parameters), JSON bodies (nested objects and arrays,
 * strings and numbers, not containers) and command-line arguments
 * ("--api-key VALUE", "--token=VALUE", header forms, bare key shapes,
 * URLs), with exact output strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "redact.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void url_is(const char *in, const char *want)
{
    char *got = llm_redact_url(in, strlen(in));
    assert_non_null(got);
    if (strcmp(got, want))
        fail_msg("redact_url(%s) = %s, want %s", in, got, want);
    free(got);
}

static void test_url(void **state)
{
    (void)state;
    url_is("/v1/chat/completions", "/v1/chat/completions");
    url_is("/v1beta/models/gemini:generateContent?key=AIzaSyDEADBEEF",
           "/v1beta/models/gemini:generateContent?key=REDACTED");
    url_is("/x?alt=sse&key=AIza123&b=2", "/x?alt=sse&key=REDACTED&b=2");
    url_is("/x?API_KEY=1&Api-Key=2&apikey=3&token=4&access_token=5",
           "/x?API_KEY=REDACTED&Api-Key=REDACTED&apikey=REDACTED&token=REDACTED"
           "&access_token=REDACTED");
    url_is("/openai/deployments/d/chat/completions?api-version=2024-02-01",
           "/openai/deployments/d/chat/completions?api-version=2024-02-01");
    /* empty values grow to REDACTED: the copy must have room for all */
    url_is("/x?key=&key=&key=&key=&key=", "/x?key=REDACTED&key=REDACTED&key=REDACTED"
                                          "&key=REDACTED&key=REDACTED");
    url_is("/x?key", "/x?key");
    url_is("/x?", "/x?");
    url_is("/x?&&", "/x?&&");
    url_is("/x?monkey=1&keys=2", "/x?monkey=1&keys=2");
    /* the length bounds the input: no NUL needed */
    char *got = llm_redact_url("/a?key=secret/ignored", 13);
    assert_string_equal(got, "/a?key=REDACTED");
    free(got);
}

static void json_is(const char *in, const char *want, int count)
{
    json_error_t e;
    json_t *j = json_loads(in, JSON_DECODE_ANY, &e);
    assert_non_null(j);
    assert_int_equal(llm_redact_json(j), count);
    char *got = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (strcmp(got, want))
        fail_msg("redact_json(%s) = %s, want %s", in, got, want);
    free(got);
    json_decref(j);
}

static void test_json(void **state)
{
    (void)state;
    json_is("{\"model\":\"m\",\"api_key\":\"sk-1\",\"messages\":[]}",
            "{\"model\":\"m\",\"api_key\":\"REDACTED\",\"messages\":[]}", 1);
    json_is(
        "{\"a\":{\"Authorization\":\"Bearer x\",\"b\":[{\"password\":123},{\"secret\":\"s\"}]}}",
        "{\"a\":{\"Authorization\":\"REDACTED\",\"b\":[{\"password\":\"REDACTED\"},"
        "{\"secret\":\"REDACTED\"}]}}",
        3);
    /* containers under a secret name are searched, not replaced */
    json_is("{\"key\":{\"inner\":1,\"token\":\"t\"},\"x\":null}",
            "{\"key\":{\"inner\":1,\"token\":\"REDACTED\"},\"x\":null}", 1);
    /* booleans and nulls carry nothing */
    json_is("{\"api_key\":null,\"token\":true}", "{\"api_key\":null,\"token\":true}", 0);
    json_is("{\"max_tokens\":10,\"tokens\":5,\"keyword\":\"k\"}",
            "{\"max_tokens\":10,\"tokens\":5,\"keyword\":\"k\"}", 0);
    json_is("[{\"x-api-key\":\"a\"},[{\"client_secret\":\"b\"}]]",
            "[{\"x-api-key\":\"REDACTED\"},[{\"client_secret\":\"REDACTED\"}]]", 2);
    json_is("\"api_key\"", "\"api_key\"", 0);
    assert_int_equal(llm_redact_json(NULL), 0);
}

static void arg_is(const char *arg, const char *prev, const char *want)
{
    char *got = llm_redact_arg(arg, prev);
    assert_non_null(got);
    if (strcmp(got, want))
        fail_msg("redact_arg(%s, %s) = %s, want %s", arg, prev ? prev : "NULL", got, want);
    free(got);
}

static void test_args(void **state)
{
    (void)state;
    arg_is("python", NULL, "python");
    arg_is("app.py", "python", "app.py");
    arg_is("hunter2", "--api-key", "REDACTED");
    arg_is("hunter2", "-password", "REDACTED");
    arg_is("hunter2", "--model", "hunter2");
    arg_is("--token=abc", NULL, "--token=REDACTED");
    arg_is("--api_key=abc", "x", "--api_key=REDACTED");
    arg_is("--model=gpt-4o", NULL, "--model=gpt-4o");
    arg_is("sk-proj-0123456789abcdef", NULL, "REDACTED");
    arg_is("AIzaSyA-0123456789", "--x", "REDACTED");
    arg_is("sk-short", NULL, "sk-short");
    arg_is("Authorization: Bearer sk-0123456789", "-H", "Authorization: REDACTED");
    arg_is("x-api-key:abc", "-H", "x-api-key: REDACTED");
    arg_is("  Cookie: a=b", "--header", "  Cookie: REDACTED");
    arg_is("Content-Type: application/json", "-H", "Content-Type: application/json");
    arg_is("https://h/v1beta/models/m:generateContent?key=AIza1&alt=sse", "curl",
           "https://h/v1beta/models/m:generateContent?key=REDACTED&alt=sse");
    arg_is("what?", NULL, "what?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
