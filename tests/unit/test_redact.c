/* redact.c, table-driven: each row an input and the exact output wanted,
 * for the name net (JSON of any strictness, escaped JSON, form bodies, query
 * strings with & and ;, percent-encoded names, URLs with userinfo, headers,
 * NAME=value words), the shape net (key prefixes, AWS ids, JWTs, Bearer),
 * what must pass untouched (max_tokens, monkey, prose), command-line
 * arguments with the one before them, parsed JSON, and whole records
 * (every free-text field; LLMOPS_CAPTURE_CONTENT=0). Every output is also
 * checked to be a fixed point of a second pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "record.h"
#include "redact.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define R LLM_REDACTED
#define SK "sk-proj-AbCdEfGh0123456789xyzXYZ"

struct row {
    const char *in, *want;
};

static const struct row text_rows[] = {
    /* finding 1: bodies jansson rejects */
    {"{\"api_key\":\"K\",\"temperature\":NaN}", "{\"api_key\":\"" R "\",\"temperature\":NaN}"},
    {"{\"x\":\"\\ud800\",\"api_key\":\"K\"}", "{\"x\":\"\\ud800\",\"api_key\":\"" R "\"}"},
    {"[{\"api_key\":\"K\"},1]", "[{\"api_key\":\"" R "\"},1]"},
    {"{\"api_key\":[\"K\",\"L\"],\"n\":1}", "{\"api_key\":[\"" R "\",\"" R "\"],\"n\":1}"},
    {"{\"api_key\": 12345, \"t\":NaN}", "{\"api_key\": \"" R "\", \"t\":NaN}"},
    {"{\"token\":null,\"key\":true}", "{\"token\":null,\"key\":true}"},
    {"{\"model\":\"m\",\"api_key\":\"head of a body cut he", "{\"model\":\"m\",\"api_key\":\"" R},
    {"model=x&api_key=K&n=1", "model=x&api_key=" R "&n=1"},
    {"{\\\"api_key\\\":\\\"K\\\",\\\"m\\\":1}", "{\\\"api_key\\\":\\\"" R "\\\",\\\"m\\\":1}"},
    /* finding 2: the credential vocabulary */
    {"{\"openai_api_key\":\"K\",\"aws_secret_access_key\":\"K\",\"secret_key\":\"K\"}",
     "{\"openai_api_key\":\"" R "\",\"aws_secret_access_key\":\"" R "\",\"secret_key\":\"" R "\"}"},
    {"{\"private_key\":\"K\",\"access_key\":\"K\",\"api_token\":\"K\",\"refresh_token\":\"K\"}",
     "{\"private_key\":\"" R "\",\"access_key\":\"" R "\",\"api_token\":\"" R
     "\",\"refresh_token\":\"" R "\"}"},
    {"{\"id_token\":\"K\",\"credentials\":\"K\",\"passwd\":\"K\",\"bearer\":\"K\",\"auth\":\"K\"}",
     "{\"id_token\":\"" R "\",\"credentials\":\"" R "\",\"passwd\":\"" R "\",\"bearer\":\"" R
     "\",\"auth\":\"" R "\"}"},
    {"{\"apiKey\":\"K\",\"X-Api-Key\":\"K\",\"api\\u005fkey\":\"K\"}",
     "{\"apiKey\":\"" R "\",\"X-Api-Key\":\"" R "\",\"api\\u005fkey\":\"" R "\"}"},
    {"{\"note\":\"Bearer abcdef0123456789\"}", "{\"note\":\"Bearer " R "\"}"},
    /* finding 3: query strings */
    {"/v1/x?api%5Fkey=K&a=1", "/v1/x?api%5Fkey=" R "&a=1"},
    {"/o?X-Amz-Signature=abc&X-Amz-Credential=c%2F1&X-Amz-Date=1",
     "/o?X-Amz-Signature=" R "&X-Amz-Credential=" R "&X-Amz-Date=1"},
    {"/b?sv=2020&sig=S&se=1", "/b?sv=2020&sig=" R "&se=1"},
    {"/x?api-token=K&apitoken=K&auth=K&private_token=K&refresh_token=K&code=K",
     "/x?api-token=" R "&apitoken=" R "&auth=" R "&private_token=" R "&refresh_token=" R
     "&code=" R},
    {"/x?a=1;key=K;b=2", "/x?a=1;key=" R ";b=2"},
    {"/v1beta/models/gemini:generateContent?key=AIzaSyDEADBEEF&alt=sse",
     "/v1beta/models/gemini:generateContent?key=" R "&alt=sse"},
    {"/x?key=&token", "/x?key=&token"},
    /* finding 4: argument and header forms, as text */
    {"https://user:K@host/p", "https://user:" R "@host/p"},
    {"-HAuthorization: Bearer K", "-HAuthorization: " R},
    {"--header=Authorization: Bearer K", "--header=Authorization: " R},
    {"X-Auth-Token: K", "X-Auth-Token: " R},
    {"OPENAI_API_KEY=K", "OPENAI_API_KEY=" R},
    {"export ANTHROPIC_API_KEY='K K' && x", "export ANTHROPIC_API_KEY='" R "' && x"},
    {"--api-key=K", "--api-key=" R},
    /* finding 5/6: shapes anywhere */
    {"Incorrect API key provided: " SK ". You can", "Incorrect API key provided: " R ". You can"},
    {"my key is sk-ant-api03-AbCdEfGh0123456789 ok", "my key is " R " ok"},
    {"AIzaSyA-0123456789abcdefghij gsk_0123456789abcdefABCD xai-0123456789abcdefABCD",
     R " " R " " R},
    {"hf_AbCdEfGhIjKlMnOpQrSt ghp_AbCdEfGhIjKlMnOpQrStUv github_pat_11AbCdEfGhIjKlMnOpQrSt",
     R " " R " " R},
    {"AKIAABCDEFGHIJKLMNOP and ASIA0123456789ABCDEF", R " and " R},
    {"t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFU",
     "t=" R},
    {"<pre>Authorization: Bearer abc0123456789</pre>\nnext", "<pre>Authorization: " R "\nnext"},
    /* what passes */
    {"{\"max_tokens\":10,\"tokens\":5,\"keyword\":\"k\",\"prompt_cache_key\":\"p\"}",
     "{\"max_tokens\":10,\"tokens\":5,\"keyword\":\"k\",\"prompt_cache_key\":\"p\"}"},
    {"/x?monkey=1&keys=2&api-version=2024", "/x?monkey=1&keys=2&api-version=2024"},
    {"The key: remember it. A token: none. sk-short",
     "The key: remember it. A token: none. sk-short"},
    {"Bearer tokens use bearer authentication", "Bearer tokens use bearer authentication"},
    {"exit code: 1, status=ok", "exit code: 1, status=ok"},
    {"https://api.openai.com/v1/chat", "https://api.openai.com/v1/chat"},
    {"", ""},
};

static void text_is(const char *in, size_t n, const char *want)
{
    size_t len = 0, len2 = 0;
    int k = 0, k2 = 0;
    char *got = llm_redact_text(in, n, &len, &k), *again;

    assert_non_null(got);
    if (strcmp(got, want) || len != strlen(want))
        fail_msg("redact_text(%s)\n  = %s\nwant %s", in, got, want);
    assert_true(len <= n + (size_t)k * LLM_REDACT_GROWTH);
    again = llm_redact_text(got, len, &len2, &k2);
    if (strcmp(again, got) || k2)
        fail_msg("second pass over %s gave %s", got, again);
    free(again);
    free(got);
}

static void test_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(text_rows) / sizeof(text_rows[0]); i++)
        text_is(text_rows[i].in, strlen(text_rows[i].in), text_rows[i].want);
    /* the length bounds the input: no NUL needed */
    text_is("/a?key=secret/ignored", 13, "/a?key=" R);
}

struct arg_row {
    const char *prev, *arg, *want;
};

static const struct arg_row arg_rows[] = {
    {NULL, "python", "python"},
    {"python", "app.py", "app.py"},
    {"--api-key", "hunter2", R},
    {"--openai-api-key", "K", R},
    {"--anthropic_api_key", "K", R},
    {"--api-token", "K", R},
    {"--secret-key", "K", R},
    {"-password", "hunter2", R},
    {"--model", "hunter2", "hunter2"},
    {"--max-tokens", "100", "100"},
    {NULL, "--token=abc", "--token=" R},
    {"x", "--api_key=abc", "--api_key=" R},
    {NULL, "--model=gpt-4o", "--model=gpt-4o"},
    {NULL, SK, R},
    {"--x", "AIzaSyA-0123456789abcdef", R},
    {NULL, "sk-short", "sk-short"},
    {"-H", "Authorization: Bearer sk-0123456789", "Authorization: " R},
    {"-H", "x-api-key:abc", "x-api-key:" R},
    {"--header", "  Cookie: a=b", "  Cookie: " R},
    {"-H", "X-Auth-Token: K", "X-Auth-Token: " R},
    {"-H", "Content-Type: application/json", "Content-Type: application/json"},
    {"curl", "-HAuthorization: Bearer K", "-HAuthorization: " R},
    {"curl", "--header=Authorization: Bearer K", "--header=Authorization: " R},
    {"curl", "-uuser:K", "-uuser:" R},
    {"-u", "user:K", "user:" R},
    {"curl", "--user=user:K", "--user=user:" R},
    {"curl", "https://user:K@host/", "https://user:" R "@host/"},
    {"env", "OPENAI_API_KEY=K", "OPENAI_API_KEY=" R},
    {"-d", "model=x&api_key=K", "model=x&api_key=" R},
    {"-d", "{\"model\":\"m\",\"api_key\":\"K\"}", "{\"model\":\"m\",\"api_key\":\"" R "\"}"},
    {"curl", "https://h/v1beta/models/m:generateContent?key=AIza1&alt=sse",
     "https://h/v1beta/models/m:generateContent?key=" R "&alt=sse"},
    {NULL, "what?", "what?"},
};

static void test_args(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(arg_rows) / sizeof(arg_rows[0]); i++) {
        const struct arg_row *a = &arg_rows[i];
        char *got = llm_redact_arg(a->arg, a->prev), *again;
        assert_non_null(got);
        if (strcmp(got, a->want))
            fail_msg("redact_arg(%s, %s) = %s, want %s", a->arg, a->prev ? a->prev : "NULL", got,
                     a->want);
        again = llm_redact_arg(got, a->prev);
        assert_string_equal(again, got);
        free(again);
        free(got);
    }
}

static void test_flags(void **state)
{
    static const struct row rows[] = {
        {"--model=gpt-4o", "--model"}, {"-HAuthorization: K", "-H"}, {"-d", "-d"},
        {"--header", "--header"},      {"question text", NULL},      {"-", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *got = llm_redact_flag(rows[i].in);
        if (!rows[i].want)
            assert_null(got);
        else
            assert_string_equal(got, rows[i].want);
        free(got);
    }
}

static const struct row json_rows[] = {
    {"{\"model\":\"m\",\"api_key\":\"sk-1\",\"messages\":[]}",
     "{\"model\":\"m\",\"api_key\":\"" R "\",\"messages\":[]}"},
    {"{\"a\":{\"Authorization\":\"Bearer x\",\"b\":[{\"password\":123},{\"secret\":\"s\"}]}}",
     "{\"a\":{\"Authorization\":\"" R "\",\"b\":[{\"password\":\"" R "\"},{\"secret\":\"" R
     "\"}]}}"},
    /* objects under a secret name are searched, arrays replaced */
    {"{\"key\":{\"inner\":1,\"token\":\"t\"},\"x\":null}",
     "{\"key\":{\"inner\":1,\"token\":\"" R "\"},\"x\":null}"},
    {"{\"api_key\":[\"K\",[\"L\"]]}", "{\"api_key\":[\"" R "\",[\"" R "\"]]}"},
    {"{\"api_key\":null,\"token\":true}", "{\"api_key\":null,\"token\":true}"},
    /* strings are scanned as text: prompts, nested JSON in strings */
    {"{\"messages\":[{\"content\":\"use " SK " please\"}]}",
     "{\"messages\":[{\"content\":\"use " R " please\"}]}"},
    {"{\"arguments\":\"{\\\"api_key\\\":\\\"K\\\"}\"}",
     "{\"arguments\":\"{\\\"api_key\\\":\\\"" R "\\\"}\"}"},
    {"[\"curl\",\"-H\",\"Authorization: Bearer abc0123456789\"]",
     "[\"curl\",\"-H\",\"Authorization: " R "\"]"},
    /* nothing found: the sender's exact text */
    {"{ \"model\" : \"m\", \"t\" : 1.50 }", "{ \"model\" : \"m\", \"t\" : 1.50 }"},
    /* not strict JSON: scanned as text */
    {"{\"api_key\":\"K\",\"t\":NaN}", "{\"api_key\":\"" R "\",\"t\":NaN}"},
};

static void test_json(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(json_rows) / sizeof(json_rows[0]); i++) {
        size_t len;
        char *got = llm_redact_json_text(json_rows[i].in, strlen(json_rows[i].in), &len, NULL);
        assert_non_null(got);
        if (strcmp(got, json_rows[i].want))
            fail_msg("redact_json_text(%s)\n  = %s\nwant %s", json_rows[i].in, got,
                     json_rows[i].want);
        free(got);
    }
    assert_int_equal(llm_redact_json(NULL), 0);
}

static void test_record(void **state)
{
    struct llm_record r;
    (void)state;

    llm_record_init(&r);
    llm_record_set_cstr(&r, LLM_F_URL_PATH, "/v1/x?api_key=K");
    llm_record_set_cstr(&r, LLM_F_ERROR_MESSAGE, "Incorrect API key provided: " SK);
    llm_record_set_cstr(&r, LLM_F_ERROR_TYPE, "invalid_api_key");
    llm_record_set_cstr(&r, LLM_F_RESPONSE, "here: " SK);
    llm_record_set_cstr(&r, LLM_F_COMPLETION_ARGS, "{\"api_key\":\"K\",\"t\":NaN}");
    llm_record_set_cstr(&r, LLM_F_USAGE_RAW, "{\"token\":\"K\"}");
    llm_record_set_cstr(&r, LLM_F_EXTRAS, "{\"note\":\"" SK "\"}");
    llm_record_set_cstr(&r, LLM_F_ARGV, "[\"x\",\"OPENAI_API_KEY=K\"]");
    llm_redact_record(&r, 1);
    assert_string_equal(llm_record_str(&r, LLM_F_URL_PATH), "/v1/x?api_key=" R);
    assert_string_equal(llm_record_str(&r, LLM_F_ERROR_MESSAGE), "Incorrect API key provided: " R);
    assert_string_equal(llm_record_str(&r, LLM_F_RESPONSE), "here: " R);
    assert_string_equal(llm_record_str(&r, LLM_F_COMPLETION_ARGS),
                        "{\"api_key\":\"" R "\",\"t\":NaN}");
    assert_string_equal(llm_record_str(&r, LLM_F_USAGE_RAW), "{\"token\":\"" R "\"}");
    assert_string_equal(llm_record_str(&r, LLM_F_EXTRAS), "{\"note\":\"" R "\"}");
    assert_string_equal(llm_record_str(&r, LLM_F_ARGV), "[\"x\",\"OPENAI_API_KEY=" R "\"]");
    /* without content capture: the server's text reduced to its type */
    llm_record_set_cstr(&r, LLM_F_ERROR_MESSAGE, "You said: my secret prompt");
    llm_redact_record(&r, 0);
    assert_string_equal(llm_record_str(&r, LLM_F_ERROR_MESSAGE), "invalid_api_key");
    assert_null(llm_record_str(&r, LLM_F_RESPONSE));
    assert_null(llm_record_str(&r, LLM_F_COMPLETION_ARGS));
    llm_record_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text), cmocka_unit_test(test_args),   cmocka_unit_test(test_flags),
        cmocka_unit_test(test_json), cmocka_unit_test(test_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
