/* What the OpenAI family of dialects (chat, legacy completions, embeddings,
 * images, Responses) share: the request fields every one of them names the
 * same way, and the chat-shaped usage object that chat, completions and
 * embeddings return. Implemented in dialect_openai.c unless noted.
 * Collector thread. */
#ifndef LLM_DIALECT_OPENAI_H
#define LLM_DIALECT_OPENAI_H

#include "dialect.h"

/* model (or, on Azure, the deployment named in the URL when the body has
 * none), stream, temperature, top_p, max_tokens / max_completion_tokens.
 * body may be NULL: the URL still names an Azure deployment. */
void llm_openai_request(struct llm_call *c, json_t *body);
/* A chat-shaped usage object: prompt_tokens, completion_tokens, total_tokens
 * and their details; ignored unless it is an object. */
void llm_openai_usage(struct llm_call *c, json_t *u);
/* A Responses-shaped usage object (also gpt-image-1's): input_tokens,
 * output_tokens, total_tokens and their details. In
 * dialect_openai_responses.c. */
void llm_openai_responses_usage(struct llm_call *c, json_t *u);
/* Sets "stream" from the response's shape when the request did not say
 * (no request body was seen). */
void llm_openai_stream_seen(struct llm_call *c, int stream);

#endif
