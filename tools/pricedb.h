/* The genai-prices database (tools/prices/genai-prices-data_slim.json): the
 * third and broadest price layer under the user's file and our curated table
 * (see cost.h). Loaded by the tool only, never by the shim; read-only once
 * loaded. */
#ifndef LLM_PRICEDB_H
#define LLM_PRICEDB_H

#include "cost.h"

#include <stddef.h>
#include <stdint.h>

struct llm_pricedb;

/* Reads and validates the whole file (the structure its JSON Schema gives,
 * plus compiling every regex); why says what is wrong. */
int llm_pricedb_load(const char *path, struct llm_pricedb **out, char *why, size_t n);
void llm_pricedb_free(struct llm_pricedb *db);
size_t llm_pricedb_count(const struct llm_pricedb *db, size_t *models);

/* The price of a call to model at time us (microseconds since the epoch)
 * with input_tokens of prompt. provider is our provider name, server the
 * host called and path its URL path (each may be NULL). 0 with *hit set, or
 * LLM_ENOTFOUND. */
int llm_pricedb_price(struct llm_pricedb *db, const char *provider, const char *server,
                      const char *path, const char *model, int64_t us, int64_t input_tokens,
                      struct llm_pricedb_hit *hit);

#endif
