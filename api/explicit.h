/* Explicit records: a call described by the program itself as one JSON
 * object of record fields, checked against the schema and turned into a
 * store entry. Shared by `llmops record` and libllmops-api. Pure (no
 * globals); any thread. */
#ifndef LLM_EXPLICIT_H
#define LLM_EXPLICIT_H

#include "attrib.h"
#include "store.h"

#include <stddef.h>

/* Checks the JSON text (len bytes) and builds its entry in *kv: the 16-byte
 * binary ULID key and the msgpack record, both malloc'd (llm_explicit_free).
 * Fills operation_id, schema_version and timestamp when absent, drops
 * cost_usd, removes secrets as the shim does (url_path, completion_args,
 * argv), then applies the attribution defaults a (may be NULL). Returns 0
 * or an LLMOPS_E* code with a one-line reason in why. */
int llm_explicit_entry(const char *text, size_t len, const struct llm_attrib *a, struct llm_kv *kv,
                       char *why, size_t why_len);
void llm_explicit_free(struct llm_kv *kv);

#endif
