/* What the dashboard shows, computed from the store: shared by `llmops serve`
 * (per request, through its own LMDB read transactions) and `llmops report`
 * (once, into the file). Every number is gathered with the stats accumulator
 * (stats_out.h), so the page agrees with `llmops stats` for the same
 * filters. */
#ifndef LLM_DASH_AGG_H
#define LLM_DASH_AGG_H

#include "filter.h"

#include <jansson.h>
#include <stddef.h>

struct llm_store;

#define LLM_DASH_MAX_ROWS 100000 /* the deepest the calls table pages */

/* One URL query parameter (name=value) into f: the filter options' names
 * without their dashes (provider, since, min-tokens...). LLM_EINVAL with why
 * set for an unknown name or a bad value. Values must outlive f. */
int llm_dash_param(struct llm_filter *f, const char *name, const char *value, char *why, size_t n);

/* The whole summary (totals, every breakdown, the latency histogram) and
 * the newest `rows` calls past the newest `offset` (newest first) in one
 * scan of the filter's range. With records set, each row carries its whole
 * record as "record". On failure what names the record or the store. */
int llm_dash_summary(struct llm_store *s, const struct llm_filter *f, size_t offset, size_t rows,
                     int records, json_t **out, char *what, size_t n);
/* Only the calls page: {"total": N, "offset": O, "rows": [...]}. */
int llm_dash_calls(struct llm_store *s, const struct llm_filter *f, size_t offset, size_t rows,
                   json_t **out, char *what, size_t n);
/* The whole record of one call by its ULID, priced; LLM_ENOTFOUND if none. */
int llm_dash_record(struct llm_store *s, const char *ulid, json_t **out);

/* Makes every scan running or to come stop at its next record with
 * -ECANCELED: how `serve` stops promptly in the middle of a long one. Safe
 * from any thread. */
void llm_dash_cancel(void);

/* The filter as URL parameters (name: value), for the page to show. */
json_t *llm_dash_filter_json(const struct llm_filter *f);

/* JSON text safe inside an HTML <script> element: '<', '>' and '&' (only
 * ever inside strings) written as \u escapes, so no "</script>" or "<!--"
 * can appear. Caller frees *text. */
int llm_dash_json_text(json_t *j, char **text, size_t *len);

#endif
