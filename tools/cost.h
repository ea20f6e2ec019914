/* Cost of a call from the price table (prices.json): which table is used,
 * which entry prices a call, and what the call cost. One table per process,
 * loaded once; exports and stats price every record from it at read time, so
 * a corrected table re-prices the whole history. */
#ifndef LLM_COST_H
#define LLM_COST_H

#include "record.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* USD per million tokens; NAN where the table gives none. */
struct llm_rates {
    double input, output, cache_read, cache_write, cache_write_1h;
};

struct llm_price {
    char *provider;
    char *model; /* the exact model name, or the prefix when prefix is set */
    int prefix;
    int64_t from_us; /* effective_from, microseconds since the epoch */
    char *from;      /* effective_from as written */
    struct llm_rates base;
    int has_long;
    int64_t long_threshold; /* long rates apply when input_tokens > this */
    struct llm_rates lng;
    char *source, *note;
};

struct llm_price_table {
    char *path, *as_of;
    struct llm_price *e;
    size_t n;
};

/* --prices FILE: takes precedence over LLMOPS_PRICES and the shipped table. */
void llm_cost_set_path(const char *path);
/* Loads the table once: --prices, else $LLMOPS_PRICES, else prices.json
 * beside the llmops binary (the build tree), else ../share/llmops/ from it,
 * else the install prefix's. Without a shipped table every cost is null (0
 * is returned); a named file that cannot be used is an error, reported on
 * stderr. required: a missing table is an error too. */
int llm_cost_load(int required);
/* The loaded table, or NULL. */
const struct llm_price_table *llm_cost_table(void);

/* The entry pricing provider/model at time us: the most specific match (an
 * exact model beats a prefix, a longer prefix a shorter one) in effect then,
 * the latest such entry. NULL when none. */
const struct llm_price *llm_cost_lookup(const struct llm_price_table *t, const char *provider,
                                        const char *model, int64_t us);

enum llm_cost_result {
    LLM_COST_OK,       /* *usd is set */
    LLM_COST_NO_USAGE, /* neither input nor output tokens are known */
    LLM_COST_NO_PRICE, /* the table has no entry for the call */
};

/* Marks (sets to 1) the fields llm_cost_of reads: what a decoded record
 * must carry to be priced (see record_json.h). */
void llm_cost_fields(unsigned char want[LLM_F__COUNT]);
/* Prices a decoded record (see the rules in cost.c). */
enum llm_cost_result llm_cost_of(json_t *rec, double *usd);
/* Sets rec's cost_usd to its price, or null. Never fails the caller:
 * on allocation failure the field stays as it was. */
void llm_cost_fill(json_t *rec);

#endif
