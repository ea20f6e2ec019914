/* OpenAI Responses API (POST .../responses; Azure serves it too). The whole
 * body is a response object: output[] holds message items (output_text
 * parts) and function_call items, usage is input/output tokens with cached
 * and reasoning details, and there is no finish_reason - the record keeps
 * response.status (completed, incomplete, failed) in its place.
 *
 * Streams are typed SSE events; text and tool-call arguments arrive as
 * deltas, and the final response object (response.completed, .incomplete
 * or .failed) repeats the whole output, so from it only model, status,
 * usage and error are read. A failure can come as an `error` event, as
 * response.failed, or both; the first error read is the one kept.
 * Collector thread. */
#include "dialect_openai.h"

#include <string.h>

static void request(struct llm_call *c, json_t *body)
{
    llm_openai_request(c, body);
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "max_output_tokens");
}

void llm_openai_responses_usage(struct llm_call *c, json_t *u)
{
    if (!json_is_object(u))
        return;
    llm_json_set_int(c, LLM_F_INPUT_TOKENS, u, "input_tokens");   /* includes cached */
    llm_json_set_int(c, LLM_F_OUTPUT_TOKENS, u, "output_tokens"); /* includes reasoning */
    llm_json_set_int(c, LLM_F_TOTAL_TOKENS, u, "total_tokens");
    llm_json_set_int(c, LLM_F_CACHE_READ_TOKENS, u, "input_tokens_details.cached_tokens");
    llm_json_set_int(c, LLM_F_REASONING_TOKENS, u, "output_tokens_details.reasoning_tokens");
    llm_call_usage_raw(c, u);
}

static void output_item(struct llm_call *c, int64_t slot, json_t *item)
{
    const char *type = json_string_value(json_object_get(item, "type"));
    json_t *part, *v;
    size_t i;

    if (!type)
        return;
    if (!strcmp(type, "message")) {
        json_array_foreach(json_object_get(item, "content"), i, part)
        {
            v = json_object_get(part, "text"); /* output_text */
            if (!json_is_string(v))
                v = json_object_get(part, "refusal");
            if (json_is_string(v))
                llm_call_output(c, json_string_value(v), json_string_length(v));
        }
    } else if (!strcmp(type, "function_call")) {
        v = json_object_get(item, "arguments");
        llm_call_tool(c, slot, json_string_value(json_object_get(item, "call_id")),
                      json_string_value(json_object_get(item, "name")), json_string_value(v),
                      json_string_length(v));
    }
}

/* A response object: the whole body, or the one a stream ends with. */
static void response_object(struct llm_call *c, json_t *r, int with_output)
{
    const char *status = json_string_value(json_object_get(r, "status"));
    json_t *item;
    size_t i;

    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, r, "model");
    llm_json_set_str(c, LLM_F_FINISH_REASON, r, "status");
    llm_openai_responses_usage(c, json_object_get(r, "usage"));
    if (json_is_object(json_object_get(r, "error")) && !c->error_seen)
        llm_call_error(c, r);
    if (status && !strcmp(status, "failed"))
        c->error_seen = 1;
    if (!with_output)
        return;
    json_array_foreach(json_object_get(r, "output"), i, item)
    {
        output_item(c, (int64_t)i, item);
    }
}

static void response(struct llm_call *c, json_t *body)
{
    llm_openai_stream_seen(c, 0);
    if (!json_object_get(body, "status")) { /* not a response: an error body */
        llm_call_error(c, body);
        return;
    }
    response_object(c, body, 1);
}

/* The `error` event: {"type":"error","error":{type,code,message,param}},
 * or, in older streams, code/message/param at the top level. */
static void error_event(struct llm_call *c, json_t *data)
{
    json_t *code = json_object_get(data, "code"), *msg = json_object_get(data, "message");

    if (c->error_seen)
        return;
    if (json_is_object(json_object_get(data, "error"))) {
        llm_call_error(c, data);
        return;
    }
    llm_record_set_cstr(&c->rec, LLM_F_ERROR_TYPE,
                        json_is_string(code) ? json_string_value(code) : "error");
    if (json_is_string(msg))
        llm_record_set_str(&c->rec, LLM_F_ERROR_MESSAGE, json_string_value(msg),
                           json_string_length(msg));
    c->error_seen = 1;
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    const char *type;
    json_t *delta;
    int64_t slot = 0;

    llm_openai_stream_seen(c, 1);
    if (!data) /* "[DONE]" from some compatible servers */
        return;
    type = json_string_value(json_object_get(data, "type"));
    if (!type)
        type = name ? name : "";
    delta = json_object_get(data, "delta");
    llm_json_int(data, "output_index", &slot);
    if (!strcmp(type, "response.output_text.delta") || !strcmp(type, "response.refusal.delta")) {
        if (json_is_string(delta))
            llm_call_output(c, json_string_value(delta), json_string_length(delta));
    } else if (!strcmp(type, "response.function_call_arguments.delta")) {
        llm_call_tool(c, slot, NULL, NULL, json_string_value(delta), json_string_length(delta));
    } else if (!strcmp(type, "response.output_item.added")) {
        json_t *item = json_object_get(data, "item");
        const char *it = json_string_value(json_object_get(item, "type"));
        if (it && !strcmp(it, "function_call"))
            output_item(c, slot, item); /* id and name; arguments follow as deltas */
    } else if (!strncmp(type, "response.reasoning", 18) && strstr(type, ".delta")) {
        llm_call_first_token(c); /* output the client waits for, not the answer */
    } else if (!strcmp(type, "response.completed") || !strcmp(type, "response.incomplete") ||
               !strcmp(type, "response.failed")) {
        response_object(c, json_object_get(data, "response"), 0);
    } else if (!strcmp(type, "response.created") || !strcmp(type, "response.in_progress")) {
        llm_json_set_str(c, LLM_F_RESPONSE_MODEL, json_object_get(data, "response"), "model");
    } else if (!strcmp(type, "error")) {
        error_event(c, data);
    }
}

const struct llm_dialect llm_dialect_openai_responses = {
    .request = request,
    .response = response,
    .event = event,
};
