/* OpenAI-shaped embeddings (POST .../embeddings: OpenAI, Azure, Mistral,
 * Together and most compatible servers). The vectors are not kept: the
 * record wants the model and the usage (prompt_tokens, total_tokens; Mistral
 * adds completion_tokens 0). Ollama's native /api/embeddings has its own
 * shape and is left to its dialect. Collector thread. */
#include "dialect_openai.h"

#include <string.h>

static void response(struct llm_call *c, json_t *body)
{
    json_t *err = json_object_get(body, "error");

    llm_openai_stream_seen(c, 0);
    if (json_is_object(err) || json_is_string(err) || !json_object_get(body, "data"))
        llm_call_error(c, body);
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, body, "model");
    llm_openai_usage(c, json_object_get(body, "usage"));
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    if (data) /* no embeddings API streams; read whatever came as a body */
        response(c, data);
}

const struct llm_dialect llm_dialect_openai_embeddings = {
    .request = llm_openai_request,
    .response = response,
    .event = event,
};
