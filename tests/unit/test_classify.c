/* classify.c + providers.c + apis.c: first-bytes classification (LLM
 * paths, provider hosts by Host header, SNI, absolute-form proxy URLs),
 * early answers for non-HTTP bytes, MORE until the head is complete at every
 * prefix length, the head-size limit, the provider tables incl. LLMOPS_HOSTS
 * rules, and the API table: every API's paths, and every corpus vector's,
 * are tapped on a host nobody knows and go to the dialect that parses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apis.h"
#include "classify.h"
#include "dialect.h"
#include "err.h"
#include "providers.h"

#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cls(const char *s, const char *sni)
{
    return llm_classify(s, strlen(s), sni, NULL);
}

static void test_llm_paths(void **state)
{
    (void)state;
    assert_int_equal(cls("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("POST /v1/messages?beta=true HTTP/1.1\r\nHost: x\r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("POST /api/chat HTTP/1.1\nHost: 127.0.0.1:11434\n\n", NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("POST /v1beta/models/gemini-pro:streamGenerateContent?alt=sse HTTP/1.1\r\n"
                         "Host: example.test\r\n\r\n",
                         NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("POST /v1/chat/completions/ HTTP/1.1\r\nHost: x\r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    /* GET to a known path is still an LLM connection */
    assert_int_equal(cls("GET /v1/embeddings HTTP/1.1\r\n\r\n", NULL), LLM_CLASS_LLM);
    /* unrelated paths on unrelated hosts */
    assert_int_equal(cls("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n", NULL),
                     LLM_CLASS_OTHER);
    assert_int_equal(cls("POST /v1/chat/completions-not HTTP/1.1\r\nHost: x\r\n\r\n", NULL),
                     LLM_CLASS_OTHER);
}

static void test_hosts_and_sni(void **state)
{
    (void)state;
    assert_int_equal(cls("GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("GET /v1/models HTTP/1.1\r\nhOsT:   API.OpenAI.com:443  \r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("GET /v1/models HTTP/1.1\r\nAccept: */*\r\nHost: api.anthropic.com"
                         "\r\nUser-Agent: t\r\n\r\n",
                         NULL),
                     LLM_CLASS_LLM);
    /* no Host match: the SNI decides */
    assert_int_equal(cls("GET /v1/models HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n", "api.groq.com"),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("GET /v1/models HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n", "example.com"),
                     LLM_CLASS_OTHER);
    /* a header whose value merely contains the host does not count */
    assert_int_equal(cls("GET / HTTP/1.1\r\nX-Host: api.openai.com\r\nHost: a.b\r\n\r\n", NULL),
                     LLM_CLASS_OTHER);
    /* a body after the head is not searched for a Host line */
    assert_int_equal(cls("POST /x HTTP/1.1\r\nHost: a.b\r\n\r\nHost: api.openai.com\r\n", NULL),
                     LLM_CLASS_OTHER);
    /* IPv6 literal hosts keep their brackets and are not mistaken for ports */
    assert_int_equal(cls("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", NULL), LLM_CLASS_OTHER);
}

static void test_absolute_form(void **state)
{
    (void)state;
    assert_int_equal(cls("GET http://api.mistral.ai/v1/models HTTP/1.1\r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("GET https://api.x.ai:443/v1/models HTTP/1.1\r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("POST http://proxy.local/v1/chat/completions HTTP/1.1\r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    assert_int_equal(cls("GET http://example.com/index.html HTTP/1.1\r\n\r\n", NULL),
                     LLM_CLASS_OTHER);
    assert_int_equal(cls("GET http://example.com HTTP/1.1\r\n\r\n", NULL), LLM_CLASS_OTHER);
}

static void test_not_http(void **state)
{
    static const unsigned char tls_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};

    (void)state;
    /* the first byte that cannot start a method ends the question */
    assert_int_equal(llm_classify((const char *)tls_hello, 1, NULL, NULL), LLM_CLASS_OTHER);
    assert_int_equal(llm_classify((const char *)tls_hello, sizeof(tls_hello), NULL, NULL),
                     LLM_CLASS_OTHER);
    assert_int_equal(cls("SSH-2.0-OpenSSH_9.2\r\n", NULL), LLM_CLASS_OTHER);
    assert_int_equal(cls("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", NULL), LLM_CLASS_OTHER);
    assert_int_equal(cls("POSTX /v1/chat/completions HTTP/1.1\r\n\r\n", NULL), LLM_CLASS_OTHER);
    assert_int_equal(cls("post /v1/chat/completions HTTP/1.1\r\n\r\n", NULL), LLM_CLASS_OTHER);
    /* even for an LLM host: bytes that are not HTTP are not ours */
    assert_int_equal(cls("\x16\x03\x01", "api.openai.com"), LLM_CLASS_OTHER);
    assert_int_equal(llm_classify("", 0, "api.openai.com", NULL), LLM_CLASS_MORE);
    /* a request line with no version */
    assert_int_equal(cls("GET /v1/chat/completions\r\n\r\n", NULL), LLM_CLASS_OTHER);
}

/* Every proper prefix of an LLM request head says MORE, the whole says LLM
 * (an LLM path says so as soon as its request line is complete, an LLM
 * host as soon as its Host line is); every
 * prefix of a method says MORE. */
static void test_every_prefix(void **state)
{
    static const char *const heads[] = {
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:8080\r\nContent-Length: 2\r\n\r\n",
        "PATCH /a HTTP/1.1\r\nHost: api.openai.com\r\n\r\n",
        "OPTIONS /a HTTP/1.1\nHost: api.cohere.ai\n\n",
        "DELETE /v1/responses HTTP/1.1\r\n\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        size_t n = strlen(heads[i]);
        size_t line = (size_t)(strchr(heads[i], '\n') + 1 - heads[i]);
        int by_path = i == 0 || i == 3, by_host = i == 1 || i == 2;
        size_t host =
            by_host ? (size_t)(strchr(strstr(heads[i], "Host:"), '\n') + 1 - heads[i]) : n;
        for (size_t k = 1; k < n; k++) {
            int r = llm_classify(heads[i], k, NULL, NULL);
            int want = (by_path && k >= line) || k >= host ? LLM_CLASS_LLM : LLM_CLASS_MORE;
            if (r != want)
                fail_msg("head %zu prefix %zu: %d, want %d", i, k, r, want);
        }
        assert_int_equal(llm_classify(heads[i], n, NULL, NULL), LLM_CLASS_LLM);
    }
    /* non-LLM heads are OTHER only once complete, MORE before */
    const char *other = "GET /favicon.ico HTTP/1.1\r\nHost: example.org\r\n\r\n";
    for (size_t k = 1; k < strlen(other); k++)
        assert_int_equal(llm_classify(other, k, NULL, NULL), LLM_CLASS_MORE);
    assert_int_equal(cls(other, NULL), LLM_CLASS_OTHER);
}

static void test_head_limit(void **state)
{
    size_t n = LLM_CLASS_HEAD_MAX + 100;
    char *big = malloc(n);

    (void)state;
    /* a head that never ends, to a path only its Host could make ours:
     * MORE until the limit, OTHER from it on */
    const char *start = "POST /static/assets/a.css HTTP/1.1\r\nX-Pad: ";
    size_t sl = strlen(start);
    memcpy(big, start, sl);
    memset(big + sl, 'a', n - sl);
    assert_int_equal(llm_classify(big, LLM_CLASS_HEAD_MAX - 1, NULL, NULL), LLM_CLASS_MORE);
    assert_int_equal(llm_classify(big, LLM_CLASS_HEAD_MAX, NULL, NULL), LLM_CLASS_OTHER);
    assert_int_equal(llm_classify(big, n, NULL, NULL), LLM_CLASS_OTHER);
    /* ... but to a known LLM host (SNI) it is ours from its request line */
    assert_int_equal(llm_classify(big, 40, "api.openai.com", NULL), LLM_CLASS_LLM);
    assert_int_equal(llm_classify(big, n, "api.openai.com", NULL), LLM_CLASS_LLM);
    /* an LLM path decides at the request line, whatever the head's size
     * (a 16,500-byte Cookie must not cost the call) */
    start = "POST /v1/chat/completions HTTP/1.1\r\nCookie: ";
    sl = strlen(start);
    memcpy(big, start, sl);
    assert_int_equal(llm_classify(big, 20, NULL, NULL), LLM_CLASS_MORE);
    assert_int_equal(llm_classify(big, sl, NULL, NULL), LLM_CLASS_LLM);
    assert_int_equal(llm_classify(big, n, NULL, NULL), LLM_CLASS_LLM);
    /* a known LLM Host decides once its line is complete, before the rest
     * of a long head (a cookie past the classifier's limit) arrives */
    start = "POST /custom/route HTTP/1.1\r\nHost: api.openai.com\r\nCookie: ";
    sl = strlen(start);
    memcpy(big, start, sl);
    assert_int_equal(llm_classify(big, sl - 12, NULL, NULL), LLM_CLASS_MORE);
    assert_int_equal(llm_classify(big, sl, NULL, NULL), LLM_CLASS_LLM);
    assert_int_equal(llm_classify(big, n, NULL, NULL), LLM_CLASS_LLM);
    free(big);
}

static void test_provider_hosts(void **state)
{
    static const struct {
        const char *host, *provider;
    } cases[] = {
        {"api.openai.com", "openai"},
        {"API.OPENAI.COM", "openai"},
        {"api.openai.com.", "openai"},
        {"myres.openai.azure.com", "azure.ai.openai"},
        {"a.b.openai.azure.com", "azure.ai.openai"},
        {"api.anthropic.com", "anthropic"},
        {"generativelanguage.googleapis.com", "gcp.gemini"},
        {"us-central1-aiplatform.googleapis.com", "gcp.vertex_ai"},
        {"aiplatform.googleapis.com", "gcp.vertex_ai"},
        {"bedrock-runtime.us-east-1.amazonaws.com", "aws.bedrock"},
        {"api.mistral.ai", "mistral_ai"},
        {"openrouter.ai", "openrouter"},
        {"api.x.ai", "x_ai"},
        {"api.deepseek.com", "deepseek"},
        {"api.together.xyz", "together_ai"},
        {"bedrock-runtime.a.b.amazonaws.com", NULL}, /* inner * is one label */
        {"openai.azure.com", NULL},                  /* *.x needs a subdomain */
        {"api.openai.com.evil.com", NULL},
        {"xapi.openai.com", NULL},
        {"example.com", NULL},
        {"", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *p = llm_provider_for_host(cases[i].host, strlen(cases[i].host));
        if (!cases[i].provider ? p != NULL : (!p || strcmp(p, cases[i].provider)))
            fail_msg("%s: got %s want %s", cases[i].host, p ? p : "NULL",
                     cases[i].provider ? cases[i].provider : "NULL");
    }
    assert_null(llm_provider_for_host(NULL, 0));
    /* the length bounds the lookup: no NUL needed */
    assert_string_equal(llm_provider_for_host("api.groq.com:443", 12), "groq");
}

static void test_paths(void **state)
{
    static const struct {
        const char *path;
        int llm;
    } cases[] = {
        {"/v1/chat/completions", 1},
        {"/openai/deployments/x/chat/completions?api-version=2024-02-01", 1},
        {"/v1/completions", 1},
        {"/v1/embeddings", 1},
        {"/v1/responses", 1},
        {"/v1/messages", 1},
        {"/v1/complete", 1},
        {"/api/generate", 1},
        {"/v1beta/models/gemini-2.0-flash:generateContent", 1},
        {"/model/anthropic.claude-v2/invoke-with-response-stream", 1},
        {"/model/x/converse-stream", 1},
        {"/v2/chat", 1},
        {"/v1/models", 0},
        {"/", 0},
        {"/v1/chat/completions2", 0},
        {"/index.html?x=/v1/chat/completions", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (llm_path_is_llm(cases[i].path, strlen(cases[i].path)) != cases[i].llm)
            fail_msg("%s: want %d", cases[i].path, cases[i].llm);
}

static void test_user_hosts(void **state)
{
    (void)state;
    assert_int_equal(llm_providers_configure("llm.corp.local=vllm, *.inference.test=tgi"), 0);
    assert_string_equal(llm_provider_for_host("llm.corp.local", 14), "vllm");
    assert_string_equal(llm_provider_for_host("a.inference.test", 16), "tgi");
    assert_null(llm_provider_for_host("inference.test", 14));
    assert_int_equal(cls("GET /health HTTP/1.1\r\nHost: llm.corp.local:8000\r\n\r\n", NULL),
                     LLM_CLASS_LLM);
    /* user rules come first: they may rename a built-in provider */
    assert_int_equal(llm_providers_configure("api.openai.com=mine"), 0);
    assert_string_equal(llm_provider_for_host("api.openai.com", 14), "mine");
    /* bad entries are reported, the good ones kept */
    assert_int_equal(llm_providers_configure("ok.test=p,=x,nohost,y.test="), LLM_EINVAL);
    assert_string_equal(llm_provider_for_host("ok.test", 7), "p");
    assert_null(llm_provider_for_host("y.test", 6));
    /* reset: back to the built-in table */
    assert_int_equal(llm_providers_configure(NULL), 0);
    assert_null(llm_provider_for_host("ok.test", 7));
    assert_string_equal(llm_provider_for_host("api.openai.com", 14), "openai");
}

/* A request for path to localhost:8000 (a host no table knows) is tapped,
 * and the dispatch gives it to the API named want (NULL: to none, "*": to
 * any). */
static void tapped_and_dispatched(const char *method, const char *path, const char *provider,
                                  const char *want)
{
    char head[1024];
    const struct llm_api *api = NULL;
    const struct llm_dialect *d;

    snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: localhost:8000\r\n\r\n", method, path);
    if (cls(head, NULL) != LLM_CLASS_LLM)
        fail_msg("%s %s: not classified as LLM traffic", method, path);
    d = llm_dialect_find(method, path, strlen(path), provider, &api);
    if (!want) {
        if (d)
            fail_msg("%s %s: dispatched to %s, want none", method, path, api->name);
        return;
    }
    if (!d || (strcmp(want, "*") && strcmp(api->name, want)))
        fail_msg("%s %s: dispatched to %s, want %s", method, path, d ? api->name : "none", want);
}

static void test_every_api_tapped(void **state)
{
    static const struct {
        const char *path, *provider, *api;
    } cases[] = {
        {"/v1/chat/completions", NULL, "openai.chat_completions"},
        {"/openai/deployments/d/chat/completions?api-version=2024-10-21", NULL,
         "openai.chat_completions"},
        {"/v1/responses", NULL, "openai.responses"},
        {"/v1/completions", NULL, "openai.completions"},
        {"/v1/embeddings/", NULL, "openai.embeddings"},
        {"/v1/images/generations", NULL, "openai.images"},
        {"/v1/images/edits", NULL, "openai.images"},
        {"/openai/deployments/dalle/images/variations", NULL, "openai.images"},
        {"/v1/messages?beta=true", NULL, "anthropic.messages"},
        {"/proxy/messages", "anthropic", "anthropic.messages"},
        {"/v1/complete", NULL, "anthropic.complete"},
        {"/v1beta/models/gemini-2.5-flash:generateContent", NULL, "gemini.generate_content"},
        {"/v1/projects/p/locations/l/publishers/google/models/m%3AstreamGenerateContent?alt=sse",
         NULL, "gemini.generate_content"},
        {"/api/chat", NULL, "ollama.chat"},
        {"/api/generate", NULL, "ollama.generate"},
        {"/api/embed", NULL, "ollama.embed"},
        {"/api/embeddings", NULL, "ollama.embed"},
        {"/v1/chat", NULL, "cohere.chat_v1"},
        {"/v2/chat", NULL, "cohere.chat_v2"},
        {"/model/meta.llama3-70b-instruct-v1%3A0/converse", NULL, "bedrock.converse"},
        {"/model/m/converse-stream", NULL, "bedrock.converse"},
        {"/model/amazon.titan-text-express-v1/invoke", NULL, "bedrock.invoke"},
        {"/model/m/invoke-with-response-stream", NULL, "bedrock.invoke"},
    };
    int seen[LLM_API__COUNT] = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *prov = cases[i].provider ? cases[i].provider : "openai_compatible";
        tapped_and_dispatched("POST", cases[i].path, prov, cases[i].api);
        for (int k = 0; k < LLM_API__COUNT; k++)
            seen[k] |= !strcmp(llm_apis[k].name, cases[i].api);
    }
    /* a new line in apis.def needs its example here */
    for (int k = 0; k < LLM_API__COUNT; k++)
        if (!seen[k])
            fail_msg("apis.def line %d (%s) has no example path in this test", k, llm_apis[k].name);
    /* tapped (the connection may carry calls) but not calls themselves */
    tapped_and_dispatched("GET", "/v1/chat/completions", "openai_compatible", NULL);
    tapped_and_dispatched("GET", "/v1/responses", "openai_compatible", NULL);
    tapped_and_dispatched("POST", "/proxy/messages", "openai_compatible", NULL);
    /* the patterns' edges: a whole segment for '*', whole suffixes */
    assert_false(llm_path_is_llm("/model//converse", 16));
    assert_false(llm_path_is_llm("/invoke", 7));
    assert_false(llm_path_is_llm("/v1/images/generations2", 23));
    assert_false(llm_path_is_llm("/models/x:generateContentX", 26));
    assert_true(llm_path_is_llm("/models/x%3agenerateContent", 27));
}

/* Every recorded call in the corpus, sent to a host nobody knows, is tapped
 * and dispatched (the provider is what the vector's own host maps to). */
static void test_corpus_paths_tapped(void **state)
{
    const char *dir = getenv("LLMOPS_CORPUS");
    char pat[4096];
    glob_t g;

    (void)state;
    assert_non_null(dir);
    snprintf(pat, sizeof(pat), "%s/*.json", dir);
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 84);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        json_t *v = json_load_file(g.gl_pathv[i], 0, NULL);
        const char *url = json_string_value(json_object_get(v, "url"));
        const char *method = json_string_value(json_object_get(v, "method"));
        const char *host, *path, *prov;
        char h[256], p[2048];

        assert_non_null(url);
        assert_non_null(method);
        host = strstr(url, "//") + 2;
        path = strchr(host, '/');
        assert_non_null(path);
        snprintf(h, sizeof(h), "%.*s", (int)strcspn(host, ":/"), host);
        snprintf(p, sizeof(p), "%.*s", (int)strcspn(path, "#"), path); /* not sent */
        prov = llm_provider_for_host(h, strlen(h));
        tapped_and_dispatched(method, p, prov ? prov : "openai_compatible", "*");
        json_decref(v);
    }
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llm_paths),           cmocka_unit_test(test_hosts_and_sni),
        cmocka_unit_test(test_absolute_form),       cmocka_unit_test(test_not_http),
        cmocka_unit_test(test_every_prefix),        cmocka_unit_test(test_head_limit),
        cmocka_unit_test(test_provider_hosts),      cmocka_unit_test(test_paths),
        cmocka_unit_test(test_user_hosts),          cmocka_unit_test(test_every_api_tapped),
        cmocka_unit_test(test_corpus_paths_tapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
