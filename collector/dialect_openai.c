/* OpenAI chat completions (POST .../chat/completions), as served by OpenAI,
 * Azure OpenAI and every OpenAI-compatible server, plus the request and
 * usage readers the rest of the OpenAI family shares (dialect_openai.h).
 *
 * Streams are SSE chunks: text in choices[0].delta.content, tool calls as
 * indexed fragments to merge, finish_reason once. Usage comes only when the
 * server volunteers it - we never ask on the client's behalf - and where it
 * comes differs: a final choices:[] chunk (OpenAI, xAI, OpenRouter, whose
 * chunk repeats finish_reason as null), the finish chunk (DeepSeek,
 * Mistral), x_groq.usage (Groq), or inside choices[0] (some compatible
 * servers). Values overwrite, never add: every usage object is cumulative.
 * An error object inside a 200 stream (OpenRouter) marks the call failed but
 * the rest of that chunk, usage included, still counts.
 *
 * Token semantics: input includes cache reads, output includes reasoning.
 * xAI reports reasoning outside completion_tokens, so there it is added;
 * the usage object kept verbatim shows the provider's own numbers.
 * Collector thread. */
#include "dialect_openai.h"

#include <string.h>

/* Azure names the deployment in the URL
 * (/openai/deployments/{name}/chat/completions); the body need not name a
 * model at all. */
static void azure_deployment(struct llm_call *c)
{
    static const char key[] = "/deployments/";
    const char *p = strstr(c->path, key), *end;

    if (!p)
        return;
    p += sizeof(key) - 1;
    end = strchr(p, '/');
    if (end && end > p)
        llm_record_set_str(&c->rec, LLM_F_REQUEST_MODEL, p, (size_t)(end - p));
}

void llm_openai_request(struct llm_call *c, json_t *body)
{
    llm_json_set_str(c, LLM_F_REQUEST_MODEL, body, "model");
    if (!c->rec.f[LLM_F_REQUEST_MODEL].set)
        azure_deployment(c);
    if (!body)
        return;
    llm_record_set_bool(&c->rec, LLM_F_STREAM, json_is_true(json_object_get(body, "stream")));
    llm_json_set_real(c, LLM_F_TEMPERATURE, body, "temperature");
    llm_json_set_real(c, LLM_F_TOP_P, body, "top_p");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "max_tokens");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "max_completion_tokens");
}

void llm_openai_stream_seen(struct llm_call *c, int stream)
{
    if (!c->rec.f[LLM_F_STREAM].set)
        llm_record_set_bool(&c->rec, LLM_F_STREAM, stream);
}

/* Whether completion_tokens leaves reasoning out. The arithmetic decides
 * when the body has a total; without one, the provider's known habit. */
static int reasoning_excluded(struct llm_call *c, json_t *u, int64_t out, int64_t r)
{
    int64_t p, t;
    const char *provider = llm_record_str(&c->rec, LLM_F_PROVIDER);

    if (llm_json_int(u, "prompt_tokens", &p) && llm_json_int(u, "total_tokens", &t))
        return t == p + out + r;
    return provider && !strcmp(provider, "x_ai");
}

/* The cost the provider reports, USD (OpenRouter: usage.cost; with a key of
 * the user's own, BYOK, the upstream provider's charge is apart in
 * cost_details.upstream_inference_cost). The tool keeps it over its price. */
static void provider_cost(struct llm_call *c, json_t *u)
{
    json_t *cost = json_object_get(u, "cost");
    json_t *up = llm_json_path(u, "cost_details.upstream_inference_cost");
    double usd;

    if (!json_is_number(cost) || json_number_value(cost) < 0)
        return;
    usd = json_number_value(cost);
    if (json_is_true(json_object_get(u, "is_byok")) && json_is_number(up) &&
        json_number_value(up) > 0)
        usd += json_number_value(up);
    llm_record_set_real(&c->rec, LLM_F_COST_USD, usd);
    llm_record_set_cstr(&c->rec, LLM_F_COST_SOURCE, "provider");
}

void llm_openai_usage(struct llm_call *c, json_t *u)
{
    int64_t out, r;

    if (!json_is_object(u))
        return;
    llm_json_set_int(c, LLM_F_INPUT_TOKENS, u, "prompt_tokens");
    if (llm_json_int(u, "completion_tokens", &out)) {
        if (llm_json_int(u, "completion_tokens_details.reasoning_tokens", &r) && r > 0 &&
            reasoning_excluded(c, u, out, r))
            out += r;
        llm_record_set_int(&c->rec, LLM_F_OUTPUT_TOKENS, out);
    }
    llm_json_set_int(c, LLM_F_TOTAL_TOKENS, u, "total_tokens");
    /* DeepSeek's own name first, the standard one wins when both exist */
    llm_json_set_int(c, LLM_F_CACHE_READ_TOKENS, u, "prompt_cache_hit_tokens");
    llm_json_set_int(c, LLM_F_CACHE_READ_TOKENS, u, "prompt_tokens_details.cached_tokens");
    llm_json_set_int(c, LLM_F_REASONING_TOKENS, u, "completion_tokens_details.reasoning_tokens");
    provider_cost(c, u);
    llm_call_usage_raw(c, u);
}

static void request(struct llm_call *c, json_t *body)
{
    llm_openai_request(c, body);
}

/* Content is a string, or (Mistral reasoning models) an array of typed
 * parts of which only "text" parts are the answer. */
static void content(struct llm_call *c, json_t *v)
{
    json_t *part, *text;
    size_t i;

    if (json_is_string(v)) {
        llm_call_output(c, json_string_value(v), json_string_length(v));
        return;
    }
    json_array_foreach(v, i, part)
    {
        const char *type = json_string_value(json_object_get(part, "type"));
        text = json_object_get(part, "text");
        if (type && !strcmp(type, "text") && json_is_string(text))
            llm_call_output(c, json_string_value(text), json_string_length(text));
        else if (type)
            llm_call_first_token(c); /* thinking is output, just not the answer */
    }
}

/* What a message (whole response) or a delta (stream chunk) carries. */
static void message(struct llm_call *c, json_t *msg)
{
    json_t *v, *t, *fn, *args;
    size_t i;

    content(c, json_object_get(msg, "content"));
    content(c, json_object_get(msg, "refusal"));
    /* reasoning text (DeepSeek, xAI: reasoning_content; OpenRouter:
     * reasoning) is output the client waits for, though not the answer */
    v = json_object_get(msg, "reasoning_content");
    if (!json_string_length(v))
        v = json_object_get(msg, "reasoning");
    if (json_string_length(v))
        llm_call_first_token(c);
    json_array_foreach(json_object_get(msg, "tool_calls"), i, t)
    {
        int64_t slot = (int64_t)i;
        fn = json_object_get(t, "function");
        args = json_object_get(fn, "arguments");
        llm_json_int(t, "index", &slot); /* streamed fragments say which call */
        llm_call_tool(c, slot, json_string_value(json_object_get(t, "id")),
                      json_string_value(json_object_get(fn, "name")), json_string_value(args),
                      json_string_length(args));
    }
}

/* One whole response or one chunk: the shapes differ only in message vs
 * delta. */
static void chunk(struct llm_call *c, json_t *data, const char *msg_key)
{
    json_t *choice, *u, *err = json_object_get(data, "error");

    if (json_is_object(err) || json_is_string(err) || !json_object_get(data, "choices"))
        llm_call_error(c, data);
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, data, "model"); /* Azure's first: "" */
    choice = json_array_get(json_object_get(data, "choices"), 0);
    u = json_object_get(data, "usage");
    if (!json_is_object(u))
        u = llm_json_path(data, "x_groq.usage");
    if (!json_is_object(u))
        u = json_object_get(choice, "usage");
    llm_openai_usage(c, u);
    if (!choice)
        return;
    /* null in OpenRouter's trailing usage chunk: must not erase the real one */
    llm_json_set_str(c, LLM_F_FINISH_REASON, choice, "finish_reason");
    message(c, json_object_get(choice, msg_key));
}

static void response(struct llm_call *c, json_t *body)
{
    llm_openai_stream_seen(c, 0);
    chunk(c, body, "message");
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    llm_openai_stream_seen(c, 1);
    if (data) /* else "[DONE]" */
        chunk(c, data, "delta");
}

const struct llm_dialect llm_dialect_openai_chat = {
    .request = request,
    .response = response,
    .event = event,
};
