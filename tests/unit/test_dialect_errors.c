/* Error shapes of every dialect, including the ones the recorded corpus
 * lacks: HTTP errors with each provider's body, errors inside a 200 stream
 * (Anthropic's `error` event, Gemini's error object, Ollama's NDJSON error
 * line, Bedrock's event-stream exception), and a Bedrock error named only in
 * the X-Amzn-ErrorType header. Each must give status "error" with the
 * provider's type and message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "feeder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct error_case {
    const char *name;
    const char *host, *method, *path, *req_body;
    int status;
    const char *resp_type, *extra_headers;
    const char *resp_body; /* NULL: use resp_bin */
    const unsigned char *resp_bin;
    size_t bin_len;
    const char *want_type, *want_message;
};

static unsigned char evs[1024];
static size_t evs_len;

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One AWS event-stream message with string headers (type 7). */
static size_t event_message(unsigned char *out, const char *const *hdrs, const char *payload)
{
    size_t h = 0, plen = strlen(payload);
    unsigned char hb[512];

    for (int i = 0; hdrs[i]; i += 2) {
        size_t nl = strlen(hdrs[i]), vl = strlen(hdrs[i + 1]);
        hb[h++] = (unsigned char)nl;
        memcpy(hb + h, hdrs[i], nl);
        h += nl;
        hb[h++] = 7;
        hb[h++] = (unsigned char)(vl >> 8);
        hb[h++] = (unsigned char)vl;
        memcpy(hb + h, hdrs[i + 1], vl);
        h += vl;
    }
    size_t total = 12 + h + plen + 4;
    put32(out, (uint32_t)total);
    put32(out + 4, (uint32_t)h);
    put32(out + 8, (uint32_t)crc32(0, out, 8));
    memcpy(out + 12, hb, h);
    memcpy(out + 12 + h, payload, plen);
    put32(out + total - 4, (uint32_t)crc32(0, out, (uInt)(total - 4)));
    return total;
}

static void build_bedrock_stream(void)
{
    static const char *const start[] = {
        ":message-type",    "event", ":event-type", "messageStart", ":content-type",
        "application/json", NULL};
    static const char *const exc[] = {
        ":message-type",    "exception", ":exception-type", "throttlingException", ":content-type",
        "application/json", NULL};
    evs_len = event_message(evs, start, "{\"role\":\"assistant\"}");
    evs_len += event_message(evs + evs_len, exc, "{\"message\":\"Too many requests, slow down\"}");
}

static const struct error_case cases[] = {
    {"anthropic stream error event", "api.anthropic.com", "POST", "/v1/messages",
     "{\"model\":\"claude-sonnet-4-5\",\"stream\":true,\"max_tokens\":5,\"messages\":[]}", 200,
     "text/event-stream", NULL,
     "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":"
     "\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":7,\"output_tokens\":1}}}\n\n"
     "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
     "\"message\":\"Overloaded\"}}\n\n",
     NULL, 0, "overloaded_error", "Overloaded"},
    {"anthropic 529", "api.anthropic.com", "POST", "/v1/messages",
     "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":5,\"messages\":[]}", 529, "application/json",
     NULL,
     "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
     NULL, 0, "overloaded_error", "Overloaded"},
    {"gemini error in a 200 stream", "generativelanguage.googleapis.com", "POST",
     "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "{\"contents\":[]}", 200,
     "text/event-stream", NULL,
     "data: {\"error\":{\"code\":500,\"message\":\"Internal error encountered.\","
     "\"status\":\"INTERNAL\"}}\r\n\r\n",
     NULL, 0, "INTERNAL", "Internal error encountered."},
    {"ollama 404", "localhost:11434", "POST", "/api/chat",
     "{\"model\":\"llama9\",\"messages\":[],\"stream\":false}", 404, "application/json", NULL,
     "{\"error\":\"model 'llama9' not found\"}", NULL, 0, "http_404", "model 'llama9' not found"},
    {"ollama error line in a stream", "localhost:11434", "POST", "/api/generate",
     "{\"model\":\"llama3\",\"prompt\":\"hi\"}", 200, "application/x-ndjson", NULL,
     "{\"model\":\"llama3\",\"response\":\"Hel\",\"done\":false}\n"
     "{\"error\":\"an error was encountered while running the model\"}\n",
     NULL, 0, NULL, "an error was encountered while running the model"},
    {"cohere 401", "api.cohere.com", "POST", "/v2/chat",
     "{\"model\":\"command-r-plus\",\"messages\":[]}", 401, "application/json", NULL,
     "{\"id\":\"x\",\"message\":\"invalid api token\"}", NULL, 0, "http_401", "invalid api token"},
    {"bedrock 400 named in X-Amzn-ErrorType", "bedrock-runtime.us-east-1.amazonaws.com", "POST",
     "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", "{\"messages\":[]}", 400,
     "application/json",
     "X-Amzn-ErrorType: ValidationException:http://internal.amazon.com/coral/"
     "com.amazon.bedrock/\r\n",
     "{\"message\":\"The model returned the following errors: messages: at least one message "
     "is required\"}",
     NULL, 0, "ValidationException",
     "The model returned the following errors: messages: at least one message is required"},
    {"bedrock exception inside a ConverseStream", "bedrock-runtime.us-east-1.amazonaws.com", "POST",
     "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream", "{\"messages\":[]}", 200,
     "application/vnd.amazon.eventstream", NULL, NULL, evs, 0, "throttlingException",
     "Too many requests, slow down"},
};

static void run_case(const struct error_case *c)
{
    char head[1024];
    const char *body = c->resp_body;
    size_t blen = body ? strlen(body) : evs_len;
    struct llm_feeder f;
    int n;

    if (!body)
        body = (const char *)c->resp_bin;
    llm_feed_init(&f);
    llm_feed_open(&f, 1, c->host);
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n%s",
                 c->method, c->path, c->host, strlen(c->req_body), c->req_body);
    llm_feed_msg(&f, 1, LLM_MSG_OUT, head, (size_t)n, 0);
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d X\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n\r\n", c->status,
                 c->resp_type, c->extra_headers ? c->extra_headers : "", blen);
    llm_feed_msg(&f, 1, LLM_MSG_IN, head, (size_t)n, 0);
    for (size_t off = 0; off < blen; off += 7) /* small pieces: the framers see splits */
        llm_feed_msg(&f, 1, LLM_MSG_IN, body + off, blen - off < 7 ? blen - off : 7, 0);
    llm_feed_msg(&f, 1, LLM_MSG_CLOSE, NULL, 0, 0);

    if (f.sink.n != 1)
        fail_msg("%s: %d records", c->name, f.sink.n);
    struct llm_record *r = &f.sink.recs[0];
    const char *st = llm_record_str(r, LLM_F_STATUS), *ty = llm_record_str(r, LLM_F_ERROR_TYPE),
               *msg = llm_record_str(r, LLM_F_ERROR_MESSAGE);
    if (!st || strcmp(st, "error"))
        fail_msg("%s: status %s", c->name, st ? st : "null");
    if (c->want_type && (!ty || strcmp(ty, c->want_type)))
        fail_msg("%s: error_type %s, want %s", c->name, ty ? ty : "null", c->want_type);
    if (!msg || strcmp(msg, c->want_message))
        fail_msg("%s: error_message %s, want %s", c->name, msg ? msg : "null", c->want_message);
    llm_feed_done(&f);
}

static void test_error_shapes(void **state)
{
    (void)state;
    build_bedrock_stream();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
