/* OpenAI image generation (POST .../images/generations, /edits,
 * /variations). Kept small: the request model, errors, and the usage
 * gpt-image-1 reports (input/output tokens, Responses-shaped); the images
 * themselves are not output text. Edits and variations send multipart
 * bodies, so only the URL is known of their request. Streamed generations
 * (gpt-image-1) end with an image_generation.completed / image_edit.completed
 * event carrying the usage. Collector thread. */
#include "dialect_openai.h"

#include <string.h>

static void body(struct llm_call *c, json_t *data)
{
    json_t *err = json_object_get(data, "error");

    if (json_is_object(err) || json_is_string(err))
        llm_call_error(c, data);
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, data, "model");
    llm_openai_responses_usage(c, json_object_get(data, "usage"));
}

static void response(struct llm_call *c, json_t *data)
{
    llm_openai_stream_seen(c, 0);
    body(c, data);
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    llm_openai_stream_seen(c, 1);
    if (!data)
        return;
    if (json_object_get(data, "b64_json"))
        llm_call_first_token(c); /* a partial or final image */
    body(c, data);
}

const struct llm_dialect llm_dialect_openai_images = {
    .request = llm_openai_request,
    .response = response,
    .event = event,
};
