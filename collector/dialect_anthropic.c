/* Anthropic Messages (POST /v1/messages) and the legacy Text Completions
 * (POST /v1/complete). Anthropic's input_tokens excludes cache reads and
 * writes; the record's input_tokens is the whole prompt, so the three are
 * added. Streams report input and cache counts in message_start and the
 * cumulative output count in message_delta (newer servers repeat the input
 * counts there): values are merged, never summed across events.
 * Collector thread. */
#include "dialect.h"

#include <stdlib.h>
#include <string.h>

struct anthropic {
    json_t *usage; /* merged usage object, as the provider reported it */
};

static struct anthropic *state(struct llm_call *c)
{
    if (!c->priv)
        c->priv = calloc(1, sizeof(struct anthropic));
    return c->priv;
}

static void request(struct llm_call *c, json_t *body)
{
    if (!body)
        return;
    llm_json_set_str(c, LLM_F_REQUEST_MODEL, body, "model");
    llm_record_set_bool(&c->rec, LLM_F_STREAM, json_is_true(json_object_get(body, "stream")));
    llm_json_set_real(c, LLM_F_TEMPERATURE, body, "temperature");
    llm_json_set_real(c, LLM_F_TOP_P, body, "top_p");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "max_tokens");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "max_tokens_to_sample");
}

/* Overlays one usage object on the merged one. */
static void merge_usage(struct llm_call *c, json_t *u)
{
    struct anthropic *a = state(c);

    if (!json_is_object(u) || !a)
        return;
    if (!a->usage)
        a->usage = json_object();
    json_object_update(a->usage, u);
    c->usage_seen = 1;
}

static void content_block(struct llm_call *c, int64_t index, json_t *b)
{
    const char *type = json_string_value(json_object_get(b, "type"));
    json_t *v;

    if (!type)
        return;
    if (!strcmp(type, "text") && json_is_string(v = json_object_get(b, "text"))) {
        llm_call_output(c, json_string_value(v), json_string_length(v));
    } else if (!strcmp(type, "tool_use")) {
        char *args = NULL;
        v = json_object_get(b, "input");
        /* streamed tool_use blocks start with input {} and get their JSON
         * as input_json_delta fragments */
        if (json_is_object(v) && json_object_size(v))
            args = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        llm_call_tool(c, index, json_string_value(json_object_get(b, "id")),
                      json_string_value(json_object_get(b, "name")), args,
                      args ? strlen(args) : 0);
        free(args);
    }
}

static void error_or(struct llm_call *c, json_t *body)
{
    llm_call_error(c, body);
}

static void response(struct llm_call *c, json_t *body)
{
    json_t *content, *b, *comp;
    size_t i;

    if (json_is_string(json_object_get(body, "type")) &&
        !strcmp(json_string_value(json_object_get(body, "type")), "error")) {
        error_or(c, body);
        return;
    }
    if (json_object_get(body, "error")) {
        error_or(c, body);
        return;
    }
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, body, "model");
    llm_json_set_str(c, LLM_F_FINISH_REASON, body, "stop_reason");
    merge_usage(c, json_object_get(body, "usage"));
    content = json_object_get(body, "content");
    json_array_foreach(content, i, b) content_block(c, (int64_t)i, b);
    comp = json_object_get(body, "completion"); /* legacy /v1/complete */
    if (json_is_string(comp))
        llm_call_output(c, json_string_value(comp), json_string_length(comp));
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    const char *type;
    json_t *msg, *delta, *v;
    int64_t index = 0;

    if (!data)
        return;
    type = json_string_value(json_object_get(data, "type"));
    if (!type)
        type = name ? name : "";
    llm_json_int(data, "index", &index);
    if (!strcmp(type, "message_start")) {
        msg = json_object_get(data, "message");
        llm_json_set_str(c, LLM_F_RESPONSE_MODEL, msg, "model");
        merge_usage(c, json_object_get(msg, "usage"));
    } else if (!strcmp(type, "content_block_start")) {
        content_block(c, index, json_object_get(data, "content_block"));
    } else if (!strcmp(type, "content_block_delta")) {
        delta = json_object_get(data, "delta");
        if (json_is_string(v = json_object_get(delta, "text")))
            llm_call_output(c, json_string_value(v), json_string_length(v));
        else if (json_is_string(v = json_object_get(delta, "partial_json")))
            llm_call_tool(c, index, NULL, NULL, json_string_value(v), json_string_length(v));
        else if (json_object_get(delta, "thinking"))
            llm_call_first_token(c); /* thinking is output too, just not text we keep */
    } else if (!strcmp(type, "message_delta")) {
        llm_json_set_str(c, LLM_F_FINISH_REASON, json_object_get(data, "delta"), "stop_reason");
        merge_usage(c, json_object_get(data, "usage"));
    } else if (!strcmp(type, "error")) {
        llm_call_error(c, data);
    } else if (!strcmp(type, "completion")) { /* legacy stream */
        llm_json_set_str(c, LLM_F_RESPONSE_MODEL, data, "model");
        llm_json_set_str(c, LLM_F_FINISH_REASON, data, "stop_reason");
        if (json_is_string(v = json_object_get(data, "completion")))
            llm_call_output(c, json_string_value(v), json_string_length(v));
    }
}

static void finish(struct llm_call *c)
{
    struct anthropic *a = c->priv;
    int64_t in = 0, out = 0, cr = 0, cw = 0;
    int have_in, have_cr, have_cw;

    if (!a)
        return;
    if (a->usage) {
        have_in = llm_json_int(a->usage, "input_tokens", &in);
        have_cr = llm_json_int(a->usage, "cache_read_input_tokens", &cr);
        have_cw = llm_json_int(a->usage, "cache_creation_input_tokens", &cw);
        if (have_in)
            llm_record_set_int(&c->rec, LLM_F_INPUT_TOKENS, in + cr + cw);
        if (llm_json_int(a->usage, "output_tokens", &out))
            llm_record_set_int(&c->rec, LLM_F_OUTPUT_TOKENS, out);
        if (have_cr)
            llm_record_set_int(&c->rec, LLM_F_CACHE_READ_TOKENS, cr);
        if (have_cw)
            llm_record_set_int(&c->rec, LLM_F_CACHE_WRITE_TOKENS, cw);
        llm_call_usage_raw(c, a->usage);
        json_decref(a->usage);
    }
    free(a);
    c->priv = NULL;
}

const struct llm_dialect llm_dialect_anthropic_messages = {
    .request = request,
    .response = response,
    .event = event,
    .finish = finish,
};

const struct llm_dialect llm_dialect_anthropic_complete = {
    .request = request,
    .response = response,
    .event = event,
    .finish = finish,
};
