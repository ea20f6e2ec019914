/* Which hosts are LLM endpoints, and whose (the API paths are apis.h's).
 * Pure lookups over a static table (plus LLMOPS_HOSTS, parsed once at
 * start), cheap enough for the app thread's classification of a connection. */
#ifndef LLM_PROVIDERS_H
#define LLM_PROVIDERS_H

#include <stddef.h>

/* Parses "host=provider,host2=provider2" (LLMOPS_HOSTS). Call before any
 * lookup, from one thread. Returns 0 or LLM_EINVAL (the valid entries are
 * kept). A host may start with "*." to match every subdomain. */
int llm_providers_configure(const char *spec);

/* Provider name (OpenTelemetry gen_ai.provider.name where defined) for a host
 * name without port, or NULL when the host is not a known LLM endpoint. */
const char *llm_provider_for_host(const char *host, size_t len);

/* The host patterns known (LLMOPS_HOSTS first, then the built-in table):
 * the i-th, or NULL past the last. */
const char *llm_providers_host_at(size_t i);

#endif
