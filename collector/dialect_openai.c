/* OpenAI chat completions (POST .../chat/completions), as served by OpenAI
 * and by every OpenAI-compatible server. Streams are SSE chunks: text in
 * choices[0].delta.content, tool calls as indexed fragments to merge,
 * finish_reason once, and usage only in a final chunk when the client asked
 * for it (stream_options.include_usage) - we never ask on its behalf.
 * Collector thread. */
#include "dialect.h"

#include <string.h>

static int match(const char *method, const char *path, size_t n, const char *provider)
{
    static const char suffix[] = "/chat/completions";
    size_t k = sizeof(suffix) - 1;
    return n >= k && !memcmp(path + n - k, suffix, k);
}

static void request(struct llm_call *c, json_t *body)
{
    json_t *stream = json_object_get(body, "stream");

    if (!body)
        return;
    llm_json_set_str(c, LLM_F_REQUEST_MODEL, body, "model");
    llm_record_set_bool(&c->rec, LLM_F_STREAM, json_is_true(stream));
    llm_json_set_real(c, LLM_F_TEMPERATURE, body, "temperature");
    llm_json_set_real(c, LLM_F_TOP_P, body, "top_p");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "max_tokens");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "max_completion_tokens");
}

static void usage(struct llm_call *c, json_t *u)
{
    if (!json_is_object(u))
        return;
    llm_json_set_int(c, LLM_F_INPUT_TOKENS, u, "prompt_tokens");
    llm_json_set_int(c, LLM_F_OUTPUT_TOKENS, u, "completion_tokens");
    llm_json_set_int(c, LLM_F_TOTAL_TOKENS, u, "total_tokens");
    llm_json_set_int(c, LLM_F_CACHE_READ_TOKENS, u, "prompt_tokens_details.cached_tokens");
    llm_json_set_int(c, LLM_F_REASONING_TOKENS, u, "completion_tokens_details.reasoning_tokens");
    llm_call_usage_raw(c, u);
}

static void finish_reason(struct llm_call *c, json_t *choice)
{
    /* a null finish_reason in a later chunk must not erase the real one */
    llm_json_set_str(c, LLM_F_FINISH_REASON, choice, "finish_reason");
}

static void response(struct llm_call *c, json_t *body)
{
    json_t *choice, *msg, *content, *tools;

    if (llm_call_error(c, body))
        return;
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, body, "model");
    usage(c, json_object_get(body, "usage"));
    choice = json_array_get(json_object_get(body, "choices"), 0);
    if (!choice)
        return;
    finish_reason(c, choice);
    msg = json_object_get(choice, "message");
    content = json_object_get(msg, "content");
    if (json_is_string(content))
        llm_call_output(c, json_string_value(content), json_string_length(content));
    tools = json_object_get(msg, "tool_calls");
    if (json_is_array(tools)) {
        size_t i;
        json_t *t;
        json_array_foreach(tools, i, t)
        {
            json_t *fn = json_object_get(t, "function"), *args = json_object_get(fn, "arguments");
            llm_call_tool(c, (int64_t)i, json_string_value(json_object_get(t, "id")),
                          json_string_value(json_object_get(fn, "name")),
                          json_string_value(args), json_string_length(args));
        }
    }
}

/* One streamed tool-call fragment, merged by its index. */
static void tool_fragment(struct llm_call *c, json_t *frag)
{
    int64_t index = 0;
    json_t *fn = json_object_get(frag, "function"), *args = json_object_get(fn, "arguments");

    llm_json_int(frag, "index", &index);
    llm_call_tool(c, index, json_string_value(json_object_get(frag, "id")),
                  json_string_value(json_object_get(fn, "name")), json_string_value(args),
                  json_string_length(args));
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    json_t *choice, *delta, *content, *tools, *v;
    size_t i;

    if (!data) /* "[DONE]" */
        return;
    if (json_object_get(data, "error") && llm_call_error(c, data))
        return;
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, data, "model");
    v = json_object_get(data, "usage");
    if (json_is_object(v))
        usage(c, v);
    choice = json_array_get(json_object_get(data, "choices"), 0);
    if (!choice)
        return;
    finish_reason(c, choice);
    delta = json_object_get(choice, "delta");
    content = json_object_get(delta, "content");
    if (json_is_string(content))
        llm_call_output(c, json_string_value(content), json_string_length(content));
    tools = json_object_get(delta, "tool_calls");
    if (json_is_array(tools))
        json_array_foreach(tools, i, v) tool_fragment(c, v);
}

static void finish(struct llm_call *c)
{
    (void)c; /* tool calls and text are moved into the record by the caller */
}

const struct llm_dialect llm_dialect_openai_chat = {
    .api = "openai.chat_completions",
    .operation = "chat",
    .match = match,
    .request = request,
    .response = response,
    .event = event,
    .finish = finish,
};
