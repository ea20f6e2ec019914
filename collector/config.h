/* The environment, read in one place with one grammar: llmops' settings
 * (README, Environment) as one struct llm_config, loaded once by each
 * product at its start (the shim, the core's writer, libllmops-api.so) and
 * handed to the modules that need it. Sizes take a k, m or g suffix (powers
 * of 1024); booleans are false for 0, false, no, off (any case), true for
 * any other non-empty value, the default when unset or empty. A value that
 * does not parse or is out of range is logged to LLMOPS_LOG and the default
 * kept. libc only: the shim reads it on the app thread. */
#ifndef LLM_CONFIG_H
#define LLM_CONFIG_H

#include <stddef.h>

struct llm_config {
    int disable;          /* LLMOPS_DISABLE: pure pass-through, no API records */
    const char *log;      /* LLMOPS_LOG, or NULL */
    const char *hosts;    /* LLMOPS_HOSTS, or NULL */
    int flush_timeout_ms; /* LLMOPS_FLUSH_TIMEOUT_MS, 0..600000 */
    size_t queue_max;     /* LLMOPS_QUEUE_MAX, 64k..16g */
    size_t max_body;      /* LLMOPS_MAX_BODY, >= 1k */
    size_t max_parse;     /* LLMOPS_MAX_PARSE, >= 1k */
    size_t max_event;     /* LLMOPS_MAX_EVENT, >= 1k */
    size_t max_head;      /* LLMOPS_MAX_HEAD, >= 1k */
    int capture_content;  /* LLMOPS_CAPTURE_CONTENT */
    const char *proxy;    /* LLMOPS_PROXY (set by llmops run), or NULL */
};

/* Fills every field of c from the environment (defaults where unset) and,
 * unless LLMOPS_DISABLE is true, opens the log (llm_log_init) so that
 * ignored values are reported. */
void llm_config_load(struct llm_config *c);

/* The grammars, for values read elsewhere. Both return 0, or LLM_EINVAL
 * (*out untouched) when v does not parse or, for a size, is outside
 * [min, max]. */
int llm_config_size(const char *v, size_t min, size_t max, size_t *out);
int llm_config_bool(const char *v, int *out);

#endif
