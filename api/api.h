/* What the two halves of libllmops-api share (api.c: the synchronous call,
 * the store and the fork handlers; async.c: the queue and its thread). */
#ifndef LLM_API_H
#define LLM_API_H

#include "config.h"
#include "store.h"

#include <stddef.h>

/* Checks a JSON record and builds its store entry with the process's
 * attribution defaults. Returns 0 or an LLMOPS_E* code (logged to
 * LLMOPS_LOG), or LLM_API_OFF (no entry) when LLMOPS_DISABLE is set: the
 * public calls then return 0 and record nothing. */
int llm_api_entry(const char *json, struct llm_kv *kv);
#define LLM_API_OFF 1
/* The environment as read at the first call (config.h). */
const struct llm_config *llm_api_config(void);
/* Commits n entries in one transaction, opening the store on first use. */
int llm_api_commit(const struct llm_kv *kv, size_t n);

/* async.c's part of the fork handlers, called with the store lock order kept:
 * queue lock first. */
void llm_api_async_prepare(void);
void llm_api_async_parent(void);
void llm_api_async_child(void);

#endif
