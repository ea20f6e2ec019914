/* Which requests are LLM API calls, and of which API: the table of
 * apis.def with its path matcher. The tap's classifier asks "is this path
 * any API?" (llm_path_is_llm, on the app thread, libc only) and the
 * collector's dispatch asks "which API?" (llm_api_find, via
 * llm_dialect_find); both read the same lines, so a path is tapped exactly
 * when some dialect could parse it. Pure functions over static data. */
#ifndef LLM_APIS_H
#define LLM_APIS_H

#include <stddef.h>

/* LLM_API_<id>: a line's index in llm_apis[] */
enum llm_api_id {
#define LLM_API(id, api, operation, method, paths, provider) LLM_API_##id,
#include "apis.def"
#undef LLM_API
    LLM_API__COUNT
};

struct llm_api {
    const char *name;      /* the record's "api", e.g. "openai.chat_completions" */
    const char *operation; /* OpenTelemetry gen_ai.operation.name */
    const char *method;    /* the only method that is a call, or NULL for any */
    const char *paths;     /* path patterns (grammar in apis.def) */
    const char *provider;  /* provider for hosts not in the table, or NULL */
};

extern const struct llm_api llm_apis[LLM_API__COUNT];

/* The path up to its query string, without trailing '/' (a lone "/" kept):
 * the part of a request path the patterns are matched against. */
size_t llm_api_path_len(const char *path, size_t len);

/* The index of the first line that matches, or -1. method NULL: any method;
 * provider NULL: any provider (the classifier knows neither). */
int llm_api_find(const char *method, const char *path, size_t len, const char *provider);

/* Non-zero when the path (query string ignored) is an LLM API path for some
 * method and provider: the tap's question for a host it does not know. */
int llm_path_is_llm(const char *path, size_t len);

#endif
