/* Cohere chat: v1 (POST /v1/chat; streams as NDJSON lines with event_type,
 * usage in the stream-end line's response.meta) and v2 (POST /v2/chat; SSE
 * with named events, usage and finish_reason only in message-end). Token
 * counts are usage.tokens / meta.tokens; billed_units are what Cohere
 * charges, kept in usage_raw, never taken as tokens. Neither version names
 * the model in its response. Collector thread. */
#include "dialect.h"

#include <stdlib.h>
#include <string.h>

struct cohere {
    int streamed_tools; /* v1: tool calls arrived as tool-calls-chunk fragments */
};

static void request(struct llm_call *c, json_t *body)
{
    if (!body)
        return;
    llm_json_set_str(c, LLM_F_REQUEST_MODEL, body, "model");
    llm_record_set_bool(&c->rec, LLM_F_STREAM, json_is_true(json_object_get(body, "stream")));
    llm_json_set_real(c, LLM_F_TEMPERATURE, body, "temperature");
    llm_json_set_real(c, LLM_F_TOP_P, body, "p");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "max_tokens");
}

/* usage: v2's usage object, or v1's meta (of which billed_units and tokens
 * are the usage). */
static void usage(struct llm_call *c, json_t *u)
{
    json_t *raw;

    if (!json_is_object(u))
        return;
    raw = json_object();
    if (!raw)
        return;
    json_object_update(raw, u);
    json_object_del(raw, "api_version"); /* v1 meta carries more than usage */
    json_object_del(raw, "warnings");
    if (!json_object_size(raw)) {
        json_decref(raw);
        return;
    }
    llm_json_set_int(c, LLM_F_INPUT_TOKENS, raw, "tokens.input_tokens");
    llm_json_set_int(c, LLM_F_OUTPUT_TOKENS, raw, "tokens.output_tokens");
    llm_json_set_int(c, LLM_F_CACHE_READ_TOKENS, raw, "cached_tokens");
    llm_call_usage_raw(c, raw);
    json_decref(raw);
}

/* Cohere errors are {"message": "..."} (sometimes with an id), v2 may send
 * {"error": ...}; a success body always has text/message/finish_reason. */
static int cohere_error(struct llm_call *c, json_t *body)
{
    if (json_object_get(body, "finish_reason") || json_object_get(body, "text") ||
        json_is_object(json_object_get(body, "message")))
        return 0;
    return llm_call_error(c, body);
}

/* v1 tool calls: [{"name", "parameters": {...}}], whole. */
static void v1_tools(struct llm_call *c, json_t *calls)
{
    json_t *t;
    size_t i;

    json_array_foreach(calls, i, t)
    {
        json_t *params = json_object_get(t, "parameters");
        char *a = params ? json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        llm_call_tool(c, (int64_t)i, NULL, json_string_value(json_object_get(t, "name")), a,
                      a ? strlen(a) : 0);
        free(a);
    }
}

static void v1_response(struct llm_call *c, json_t *body)
{
    json_t *v;

    if (!json_is_object(body) || cohere_error(c, body))
        return;
    llm_json_set_str(c, LLM_F_FINISH_REASON, body, "finish_reason");
    usage(c, json_object_get(body, "meta"));
    if (json_is_string(v = json_object_get(body, "text")))
        llm_call_output(c, json_string_value(v), json_string_length(v));
    v1_tools(c, json_object_get(body, "tool_calls"));
}

static void v1_event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    struct cohere *st = c->priv;
    const char *type = json_string_value(json_object_get(data, "event_type"));
    json_t *v, *d;

    if (!data)
        return;
    if (!type) {
        cohere_error(c, data);
        return;
    }
    if (!st && !(st = c->priv = calloc(1, sizeof(*st))))
        return;
    if (!strcmp(type, "text-generation")) {
        if (json_is_string(v = json_object_get(data, "text")))
            llm_call_output(c, json_string_value(v), json_string_length(v));
    } else if (!strcmp(type, "tool-calls-chunk")) {
        int64_t index = 0;
        d = json_object_get(data, "tool_call_delta");
        v = json_object_get(d, "parameters");
        if (!json_is_string(v) && !json_object_get(d, "name"))
            return; /* tool plan text, not a call */
        st->streamed_tools = 1;
        llm_json_int(d, "index", &index);
        llm_call_tool(c, index, NULL, json_string_value(json_object_get(d, "name")),
                      json_string_value(v), json_string_length(v));
    } else if (!strcmp(type, "tool-calls-generation")) {
        if (!st->streamed_tools) /* the same calls, whole, after their fragments */
            v1_tools(c, json_object_get(data, "tool_calls"));
    } else if (!strcmp(type, "stream-end")) {
        /* its response repeats the text and tool calls already streamed */
        d = json_object_get(data, "response");
        llm_json_set_str(c, LLM_F_FINISH_REASON, data, "finish_reason");
        llm_json_set_str(c, LLM_F_FINISH_REASON, d, "finish_reason");
        usage(c, json_object_get(d, "meta"));
    }
}

static void v2_response(struct llm_call *c, json_t *body)
{
    json_t *msg, *b, *t;
    size_t i;

    if (!json_is_object(body) || cohere_error(c, body))
        return;
    llm_json_set_str(c, LLM_F_FINISH_REASON, body, "finish_reason");
    usage(c, json_object_get(body, "usage"));
    msg = json_object_get(body, "message");
    json_array_foreach(json_object_get(msg, "content"), i, b)
    {
        json_t *text = json_object_get(b, "text");
        if (json_is_string(text))
            llm_call_output(c, json_string_value(text), json_string_length(text));
    }
    json_array_foreach(json_object_get(msg, "tool_calls"), i, t)
    {
        json_t *fn = json_object_get(t, "function"), *args = json_object_get(fn, "arguments");
        llm_call_tool(c, (int64_t)i, json_string_value(json_object_get(t, "id")),
                      json_string_value(json_object_get(fn, "name")), json_string_value(args),
                      json_string_length(args));
    }
}

static void v2_event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    const char *type = json_string_value(json_object_get(data, "type"));
    json_t *m = llm_json_path(data, "delta.message"), *v;
    int64_t index = 0;

    if (!data) /* "[DONE]" */
        return;
    if (!type)
        type = name ? name : "";
    llm_json_int(data, "index", &index);
    if (!strcmp(type, "content-delta")) {
        if (json_is_string(v = llm_json_path(m, "content.text")))
            llm_call_output(c, json_string_value(v), json_string_length(v));
        else if (json_string_length(llm_json_path(m, "content.thinking")))
            llm_call_first_token(c); /* thinking is output, just not response text */
    } else if (!strcmp(type, "tool-call-start") || !strcmp(type, "tool-call-delta")) {
        json_t *tc = json_object_get(m, "tool_calls"), *fn = json_object_get(tc, "function");
        v = json_object_get(fn, "arguments");
        llm_call_tool(c, index, json_string_value(json_object_get(tc, "id")),
                      json_string_value(json_object_get(fn, "name")), json_string_value(v),
                      json_string_length(v));
    } else if (!strcmp(type, "message-end")) {
        llm_json_set_str(c, LLM_F_FINISH_REASON, data, "delta.finish_reason");
        usage(c, llm_json_path(data, "delta.usage"));
        if (json_object_get(llm_json_path(data, "delta"), "error"))
            llm_call_error(c, json_object_get(data, "delta"));
    } else if (json_object_get(data, "error") || !strcmp(type, "error")) {
        llm_call_error(c, data);
    }
}

static void finish(struct llm_call *c)
{
    free(c->priv);
    c->priv = NULL;
}

const struct llm_dialect llm_dialect_cohere_chat_v1 = {
    .request = request,
    .response = v1_response,
    .event = v1_event,
    .finish = finish,
};

const struct llm_dialect llm_dialect_cohere_chat_v2 = {
    .request = request,
    .response = v2_response,
    .event = v2_event,
    .finish = finish,
};
