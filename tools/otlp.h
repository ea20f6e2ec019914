/* Records as OpenTelemetry (OTLP/JSON, opentelemetry-proto 1.x): one CLIENT
 * span per record following the GenAI semantic conventions, and the GenAI
 * client metrics. Used by `export --format otlp-json` (export_otlp.c) and
 * `sync --to otlp+http(s)://` (otlp_sync.c). See otlp.c for the mapping. */
#ifndef LLM_OTLP_H
#define LLM_OTLP_H

#include <jansson.h>
#include <stddef.h>

/* Appends to resource_spans (a JSON array) one ResourceSpans holding the
 * span of rec (decoded and priced); ulid stands in for a missing
 * operation_id. Returns 0, LLM_ENOMEM, or LLM_EINVAL when the record has no
 * usable start time (no span can be made; the caller skips it). */
int llm_otlp_add_span(json_t *resource_spans, json_t *rec, const char *ulid);

/* Appends to resource_metrics one ResourceMetrics with the record's
 * gen_ai.client.token.usage and gen_ai.client.operation.duration histogram
 * points (delta, one point per value). Same returns. */
int llm_otlp_add_metrics(json_t *resource_metrics, json_t *rec, const char *ulid);

#endif
