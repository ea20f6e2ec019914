/* Cost of a call: the price layers (the user's table, the curated table
 * prices.json, the genai-prices database: pricedb.h), which of them prices a
 * call and how, and what the call cost - or the cost its response reported.
 * Loaded once per process; exports and stats price every record at read
 * time, so corrected or newer prices re-price the whole history. */
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
    int defer; /* no rates: the next layer prices calls from effective_from */
};

struct llm_price_table {
    char *path, *as_of;
    struct llm_price *e;
    size_t n;
};

/* --prices FILE: the user's table, taking precedence over LLMOPS_PRICES. */
void llm_cost_set_path(const char *path);
/* Loads the layers once: the user's table (--prices, else $LLMOPS_PRICES);
 * the curated prices.json and the database (see llm_cost_db_path), each
 * beside the llmops binary (the build tree), else ../share/llmops/ from it,
 * else the install prefix's. A shipped file that is missing is left out (0
 * is returned; without any, every cost is null); a file that cannot be used
 * is an error, reported on stderr. required: no layer at all is an error
 * too. */
int llm_cost_load(int required);
/* The curated table, or NULL. */
const struct llm_price_table *llm_cost_table(void);

/* The entry pricing provider/model at time us: the most specific match (an
 * exact model beats a prefix, a longer prefix a shorter one) in effect then,
 * the latest such entry. NULL when none. */
const struct llm_price *llm_cost_lookup(const struct llm_price_table *t, const char *provider,
                                        const char *model, int64_t us);

#define LLM_PRICEDB_FILE "prices/genai-prices-data_slim.json"

struct llm_pricedb;

/* What the database priced a call by: its provider and model, how the
 * provider was found, the model's match rule and the conditional price used.
 * Strings belong to the database (valid while it is loaded). */
struct llm_pricedb_hit {
    const char *provider, *model; /* database ids */
    const char *how;              /* "provider name", "API URL" or "model name" */
    const char *via;              /* the fallback provider the model came from, or NULL */
    char rule[512];               /* the model's match rule, as JSON */
    char when[128];               /* the constraint of the price used, or "" */
    int nprices, index;           /* conditional prices, the one used (0-based) */
    struct llm_rates rates;       /* at the call's prompt size (tiers resolved) */
    int tiered;                   /* some rate has tiers by prompt size */
    double per_request;           /* USD per call (requests_kcount / 1000) */
};

/* The user's table (--prices, LLMOPS_PRICES), or NULL. */
const struct llm_price_table *llm_cost_user_table(void);
/* The genai-prices database and its path, or NULL. */
struct llm_pricedb *llm_cost_db(const char **path);
/* Where `prices update` puts a newer database ($XDG_DATA_HOME/llmops/...,
 * else ~/.local/share/llmops/...), and the database in use: that copy when
 * present, else the shipped one. 0, or LLM_ENOTFOUND. */
int llm_cost_db_user_path(char *out, size_t n);
int llm_cost_db_path(char *out, size_t n);

enum llm_cost_layer { LLM_LAYER_USER, LLM_LAYER_CURATED, LLM_LAYER_DB };

/* What prices a call: the layer, its entry (tables) or match (database), and
 * the rates at the call's prompt size. */
struct llm_cost_hit {
    enum llm_cost_layer layer;
    const struct llm_price *entry;
    struct llm_pricedb_hit db;
    struct llm_rates rates;
    double per_request; /* USD per call */
};

/* The layers, most specific first: the user's table, the curated table
 * (prices.json), the database. server/path (the host called and the URL
 * path) find the database's provider when the name does not; each may be
 * NULL. 0 with *hit set, or LLM_ENOTFOUND. */
int llm_cost_resolve(const char *provider, const char *server, const char *path, const char *model,
                     int64_t us, int64_t input_tokens, struct llm_cost_hit *hit);

enum llm_cost_result {
    LLM_COST_OK,       /* *usd is set */
    LLM_COST_NO_USAGE, /* neither input nor output tokens are known */
    LLM_COST_NO_PRICE, /* the table has no entry for the call */
};

/* Marks (sets to 1) the fields llm_cost_of reads: what a decoded record
 * must carry to be priced (see record_json.h). */
void llm_cost_fields(unsigned char want[LLM_F__COUNT]);
enum llm_cost_source {
    LLM_COST_FROM_PROVIDER, /* the response said what the call cost */
    LLM_COST_FROM_TABLE,    /* priced from the layers */
};

/* Prices a decoded record (see the rules in cost.c): the cost the provider
 * reported (cost_source "provider" with cost_usd), else the layers. */
enum llm_cost_result llm_cost_of(json_t *rec, double *usd);
/* The same, and where the cost comes from (set when LLM_COST_OK). */
enum llm_cost_result llm_cost_of_src(json_t *rec, double *usd, enum llm_cost_source *src);
/* Sets rec's cost_usd to its cost and cost_source to "provider" or "table",
 * or both null. Never fails the caller: on allocation failure the fields
 * stay as they were. */
void llm_cost_fill(json_t *rec);

#endif
