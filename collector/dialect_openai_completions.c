/* OpenAI legacy text completions (POST .../completions, not
 * .../chat/completions): the answer is choices[0].text, in the whole body
 * or as one fragment per stream chunk; usage is chat-shaped and, in
 * streams, present only when the server volunteers it. Together, Fireworks,
 * vLLM and Azure serve the same shape. Collector thread. */
#include "dialect_openai.h"

#include <string.h>

static void chunk(struct llm_call *c, json_t *data)
{
    json_t *choice, *text, *err = json_object_get(data, "error");

    if (json_is_object(err) || json_is_string(err) || !json_object_get(data, "choices"))
        llm_call_error(c, data);
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, data, "model");
    llm_openai_usage(c, json_object_get(data, "usage"));
    choice = json_array_get(json_object_get(data, "choices"), 0);
    llm_json_set_str(c, LLM_F_FINISH_REASON, choice, "finish_reason");
    text = json_object_get(choice, "text");
    if (json_is_string(text))
        llm_call_output(c, json_string_value(text), json_string_length(text));
}

static void response(struct llm_call *c, json_t *body)
{
    llm_openai_stream_seen(c, 0);
    chunk(c, body);
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    llm_openai_stream_seen(c, 1);
    if (data) /* else "[DONE]" */
        chunk(c, data);
}

const struct llm_dialect llm_dialect_openai_completions = {
    .request = llm_openai_request,
    .response = response,
    .event = event,
};
