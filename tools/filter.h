/* Record filters shared by `export` and `stats`, and the scan that applies
 * them. A time range becomes a range of store keys (ULIDs start with their
 * 48-bit millisecond time), so --since/--until visit only the records in the
 * range instead of the whole store. */
#ifndef LLM_FILTER_H
#define LLM_FILTER_H

#include "record.h"

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct llm_store;
struct llm_rjson;

/* getopt_long values of the filter options; commands' own options stay below 1000. */
enum llm_filter_opt {
    LLM_FO_SINCE = 1000, /* past every character getopt could return */
    LLM_FO_UNTIL,
    LLM_FO_PROVIDER, /* the exact-match options, in llm_filter.eq order */
    LLM_FO_MODEL,
    LLM_FO_OPERATION_TYPE,
    LLM_FO_SESSION,
    LLM_FO_AGENT,
    LLM_FO_ACTION,
    LLM_FO_WORKSPACE,
    LLM_FO_STATUS,
    LLM_FO_MIN_TOKENS,
    LLM_FO_MAX_TOKENS,
    LLM_FO_MIN_LATENCY,
    LLM_FO_MAX_LATENCY,
};

#define LLM_FILTER_NEQ (LLM_FO_STATUS - LLM_FO_PROVIDER + 1)

/* clang-format off */
#define LLM_FILTER_LONGOPTS                                                                        \
    {"since", required_argument, NULL, LLM_FO_SINCE},                                              \
    {"until", required_argument, NULL, LLM_FO_UNTIL},                                              \
    {"provider", required_argument, NULL, LLM_FO_PROVIDER},                                        \
    {"model", required_argument, NULL, LLM_FO_MODEL},                                              \
    {"operation-type", required_argument, NULL, LLM_FO_OPERATION_TYPE},                            \
    {"session", required_argument, NULL, LLM_FO_SESSION},                                          \
    {"agent", required_argument, NULL, LLM_FO_AGENT},                                              \
    {"action", required_argument, NULL, LLM_FO_ACTION},                                            \
    {"workspace", required_argument, NULL, LLM_FO_WORKSPACE},                                      \
    {"status", required_argument, NULL, LLM_FO_STATUS},                                            \
    {"min-tokens", required_argument, NULL, LLM_FO_MIN_TOKENS},                                    \
    {"max-tokens", required_argument, NULL, LLM_FO_MAX_TOKENS},                                    \
    {"min-latency", required_argument, NULL, LLM_FO_MIN_LATENCY},                                  \
    {"max-latency", required_argument, NULL, LLM_FO_MAX_LATENCY}
/* clang-format on */

#define LLM_FILTER_HELP                                                                            \
    "Filters (each given once; all must hold):\n"                                                  \
    "  --since TIME, --until TIME  records from TIME on / before TIME; a date\n"                   \
    "                   YYYY-MM-DD (UTC midnight) or RFC 3339; reads only that range\n"            \
    "  --provider P, --model M, --operation-type T, --session S, --agent A,\n"                     \
    "  --action A, --workspace W, --status S   exact match of that field\n"                        \
    "  --min-tokens N, --max-tokens N  bounds (inclusive) on input + output tokens;\n"             \
    "                   records with neither count known are left out\n"                           \
    "  --min-latency MS, --max-latency MS  bounds (inclusive) on latency_ms;\n"                    \
    "                   records with unknown latency are left out\n"

struct llm_filter {
    int has_since, has_until;
    int64_t since_us, until_us;     /* until is exclusive */
    const char *eq[LLM_FILTER_NEQ]; /* NULL: not filtered */
    int has_min_tokens, has_max_tokens, has_min_latency, has_max_latency;
    int64_t min_tokens, max_tokens;
    double min_latency, max_latency;
};

/* Is opt one of the filter options? */
int llm_filter_is_option(int opt);
/* Records one option. On a bad value returns LLM_EINVAL with why set. */
int llm_filter_option(struct llm_filter *f, int opt, const char *arg, char *why, size_t n);
int llm_filter_match(const struct llm_filter *f, json_t *rec);
/* Marks (sets to 1) the fields llm_filter_match reads under f: what a
 * decoded record must carry for it (see record_json.h). */
void llm_filter_fields(const struct llm_filter *f, unsigned char want[LLM_F__COUNT]);

/* Called with each record that passes the filter, decoded; rec is only
 * borrowed. A non-zero return stops the scan and is returned. */
typedef int (*llm_filter_visit_fn)(void *ctx, const void *key, size_t klen, json_t *rec);

/* Records skipped so far because they could not be decoded (each with a
 * warning line naming its key): scans go on past them. */
size_t llm_filter_corrupt_skipped(void);

/* Scans the filter's key range in key order. On failure, what names the
 * record that could not be read (left alone when the store itself failed).
 * With LLMOPS_DEBUG_SCAN=1, prints "scanned N" on stderr (records visited). */
int llm_filter_scan(struct llm_store *s, const struct llm_filter *f, llm_filter_visit_fn fn,
                    void *ctx, char *what, size_t n);
/* The same for callers that want the records as JSON text: each record is
 * loaded into rj (llm_rjson_load), matched on rj->rec, and handed over
 * loaded; the filter's fields are added to rj->want first. */
typedef int (*llm_filter_text_fn)(void *ctx, const void *key, size_t klen, struct llm_rjson *rj);
int llm_filter_scan_text(struct llm_store *s, const struct llm_filter *f, struct llm_rjson *rj,
                         llm_filter_text_fn fn, void *ctx, char *what, size_t n);
/* The same, only past the key after (16 bytes; NULL: no bound): how sync
 * resumes from its cursor. */
int llm_filter_scan_after(struct llm_store *s, const struct llm_filter *f, const uint8_t *after,
                          llm_filter_visit_fn fn, void *ctx, char *what, size_t n);

#endif
