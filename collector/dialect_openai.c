/* OpenAI chat completions (POST .../chat/completions), as served by OpenAI
 * and by every OpenAI-compatible server. Streams are SSE chunks: text in
 * choices[0].delta.content, tool calls as indexed fragments to merge,
 * finish_reason once, and usage only in a final chunk when the client asked
 * for it (stream_options.include_usage) - we never ask on its behalf.
 * Collector thread. */
#include "dialect.h"

#include <stdlib.h>
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
    if (json_is_array(tools) && json_array_size(tools)) {
        json_decref(c->tool_calls);
        c->tool_calls = json_deep_copy(tools);
    }
}

/* Merges one streamed tool-call fragment into c->tool_calls[index]. */
static void merge_tool_call(struct llm_call *c, json_t *frag)
{
    int64_t index = 0;
    json_t *tc, *fn, *ffn, *v;

    llm_json_int(frag, "index", &index);
    if (index < 0 || index > 1024)
        return;
    if (!c->tool_calls)
        c->tool_calls = json_array();
    while ((int64_t)json_array_size(c->tool_calls) <= index)
        json_array_append_new(c->tool_calls,
                              json_pack("{s:n,s:s,s:{s:s,s:s}}", "id", "type", "function",
                                        "function", "name", "", "arguments", ""));
    tc = json_array_get(c->tool_calls, (size_t)index);
    if (json_is_string(v = json_object_get(frag, "id")))
        json_object_set(tc, "id", v);
    if (json_is_string(v = json_object_get(frag, "type")))
        json_object_set(tc, "type", v);
    fn = json_object_get(tc, "function");
    ffn = json_object_get(frag, "function");
    if (json_is_string(v = json_object_get(ffn, "name")) && json_string_length(v))
        json_object_set(fn, "name", v);
    if (json_is_string(v = json_object_get(ffn, "arguments")) && json_string_length(v)) {
        json_t *old = json_object_get(fn, "arguments");
        size_t ol = json_string_length(old), nl = json_string_length(v);
        char *s = malloc(ol + nl + 1);
        if (s) {
            memcpy(s, json_string_value(old), ol);
            memcpy(s + ol, json_string_value(v), nl);
            json_object_set_new(fn, "arguments", json_stringn(s, ol + nl));
            free(s);
        }
    }
    llm_call_first_token(c);
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
        json_array_foreach(tools, i, v) merge_tool_call(c, v);
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
