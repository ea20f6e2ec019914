/* Ollama's native API: POST /api/chat, /api/generate, /api/embed and the
 * older /api/embeddings (its /v1/... paths are OpenAI's shape and go to those
 * dialects). Ollama streams unless the body says "stream": false, as NDJSON
 * lines; counts, durations and done_reason come only on the done:true line
 * (the whole body when not streaming). Ollama has no usage object: the
 * counts and durations of that line are kept as usage_raw. It usually runs
 * on a host the provider table cannot know (localhost:11434), so a native
 * Ollama path on an unknown host is recorded as provider "ollama".
 * Collector thread. */
#include "dialect.h"

#include <stdlib.h>
#include <string.h>

static const char *const usage_keys[] = {"prompt_eval_count",    "eval_count",
                                         "total_duration",       "load_duration",
                                         "prompt_eval_duration", "eval_duration"};

static void request(struct llm_call *c, json_t *body)
{
    json_t *opts = json_object_get(body, "options");
    int stream = !json_is_false(json_object_get(body, "stream"));

    if (!body)
        return;
    llm_json_set_str(c, LLM_F_REQUEST_MODEL, body, "model");
    llm_record_set_bool(&c->rec, LLM_F_STREAM, stream);
    llm_json_set_real(c, LLM_F_TEMPERATURE, opts, "temperature");
    llm_json_set_real(c, LLM_F_TOP_P, opts, "top_p");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, opts, "num_predict");
}

static void request_embed(struct llm_call *c, json_t *body)
{
    if (!body)
        return;
    llm_json_set_str(c, LLM_F_REQUEST_MODEL, body, "model");
    llm_record_set_bool(&c->rec, LLM_F_STREAM, 0);
}

/* The counts and durations of a final object, as usage. */
static void usage(struct llm_call *c, json_t *j)
{
    json_t *u = json_object(), *v;

    if (!u)
        return;
    for (size_t i = 0; i < sizeof(usage_keys) / sizeof(usage_keys[0]); i++)
        if (json_is_number(v = json_object_get(j, usage_keys[i])))
            json_object_set(u, usage_keys[i], v);
    if (json_object_size(u)) {
        llm_json_set_int(c, LLM_F_INPUT_TOKENS, u, "prompt_eval_count");
        llm_json_set_int(c, LLM_F_OUTPUT_TOKENS, u, "eval_count");
        llm_call_usage_raw(c, u);
    }
    json_decref(u);
}

static void tool_calls(struct llm_call *c, json_t *calls)
{
    json_t *t;
    size_t i;

    json_array_foreach(calls, i, t)
    {
        json_t *fn = json_object_get(t, "function"), *args = json_object_get(fn, "arguments");
        char *a = NULL;
        /* an object from Ollama; some servers copying its API send a string */
        if (json_is_string(args))
            a = strdup(json_string_value(args));
        else if (args)
            a = json_dumps(args, JSON_COMPACT | JSON_PRESERVE_ORDER);
        /* whole calls, never fragments: each takes the next slot */
        int64_t slot = c->tool_calls ? (int64_t)json_array_size(c->tool_calls) : 0;
        llm_call_tool(c, slot, json_string_value(json_object_get(t, "id")),
                      json_string_value(json_object_get(fn, "name")), a, a ? strlen(a) : 0);
        free(a);
    }
}

/* One object: the whole body, or one NDJSON line of a stream. */
static void object(struct llm_call *c, json_t *j)
{
    json_t *msg = json_object_get(j, "message"), *v;

    if (!json_is_object(j) || llm_call_error(c, j))
        return;
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, j, "model");
    if (json_is_string(v = json_object_get(msg, "content")) ||
        json_is_string(v = json_object_get(j, "response")))
        llm_call_output(c, json_string_value(v), json_string_length(v));
    v = json_object_get(msg, "thinking");
    if (!v)
        v = json_object_get(j, "thinking");
    if (json_string_length(v))
        llm_call_first_token(c); /* thinking is output, just not response text */
    tool_calls(c, json_object_get(msg, "tool_calls"));
    if (json_is_true(json_object_get(j, "done"))) {
        llm_json_set_str(c, LLM_F_FINISH_REASON, j, "done_reason");
        usage(c, j);
    }
}

static void response(struct llm_call *c, json_t *body)
{
    object(c, body);
}

static void response_embed(struct llm_call *c, json_t *body)
{
    if (!json_is_object(body) || llm_call_error(c, body))
        return;
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, body, "model");
    usage(c, body); /* /api/embed has prompt_eval_count; /api/embeddings has none */
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    object(c, data);
}

const struct llm_dialect llm_dialect_ollama_chat = {
    .request = request,
    .response = response,
    .event = event,
};

const struct llm_dialect llm_dialect_ollama_generate = {
    .request = request,
    .response = response,
    .event = event,
};

const struct llm_dialect llm_dialect_ollama_embed = {
    .request = request_embed,
    .response = response_embed,
    .event = event,
};
