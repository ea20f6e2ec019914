/* Secret removal before anything reaches the store: API keys in query
 * strings, in JSON bodies, and in the command line of the observed process.
 * Pure functions; collector thread. */
#ifndef LLM_REDACT_H
#define LLM_REDACT_H

#include <jansson.h>
#include <stddef.h>

#define LLM_REDACTED "REDACTED"

/* A copy of url (path and query) with the values of key=, api_key= and
 * similar parameters replaced. Caller frees; NULL on ENOMEM. */
char *llm_redact_url(const char *url, size_t n);
/* Replaces, in place, the values of object members whose names are secret
 * (api_key, authorization, x-api-key, ...). Returns how many were replaced. */
int llm_redact_json(json_t *root);
/* A copy of one command-line argument with secrets replaced; prev is the
 * argument before it (NULL for the first), for "--api-key VALUE" forms. */
char *llm_redact_arg(const char *arg, const char *prev);

#endif
