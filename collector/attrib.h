/* Attribution: whom a call is for (session, workspace, agent, action and
 * free-form extras). A process names its defaults in LLMOPS_* variables,
 * read once; one request can name its own in X-LLMOps-* headers, which win
 * field by field (extras: key by key). The headers are read, never removed:
 * the shim does not change traffic. Collector thread, the tool, the API. */
#ifndef LLM_ATTRIB_H
#define LLM_ATTRIB_H

#include "http1.h"
#include "record.h"

#include <jansson.h>

#define LLM_ATTRIB_MAX 256 /* bytes kept of one header value (or extras name) */

struct llm_attrib {
    char *session, *workspace, *agent, *action; /* NULL when unset or empty */
    json_t *extras;                             /* LLMOPS_EXTRAS, an object, or NULL */
};

/* Reads LLMOPS_SESSION_ID, _WORKSPACE, _AGENT_ID, _ACTION_ID and _EXTRAS
 * (ignored, and logged, when not a JSON object). */
void llm_attrib_load(struct llm_attrib *a);
void llm_attrib_free(struct llm_attrib *a);

/* Sets the fields a request head names: X-LLMOps-Session, -Workspace, -Agent,
 * -Action, and X-LLMOps-Extra-<name> as extras[<name lowercased>] (strings).
 * Names are case-insensitive, empty values ignored, the first of repeated
 * headers wins. Also the trace context (llm_attrib_trace). Returns 1 when a
 * value was cut to LLM_ATTRIB_MAX bytes. */
int llm_attrib_from_head(struct llm_record *r, const struct llm_h1_head *h);

/* W3C Trace Context (https://www.w3.org/TR/trace-context/): a valid
 * traceparent header sets trace_id (32 hex digits) and parent_span_id (16),
 * and then tracestate, if any, sets trace_state (cut to LLM_TRACESTATE_MAX
 * bytes at a list-member boundary, as the spec lets a vendor do). An invalid
 * traceparent (wrong shape, upper-case or non-hex digits, version ff, an
 * all-zero id) is ignored together with its tracestate. The first header of
 * each name counts. llm_attrib_from_head calls it. */
#define LLM_TRACESTATE_MAX 512
void llm_attrib_trace(struct llm_record *r, const struct llm_h1_head *h);

/* Fills what r lacks from a and merges the extras (r's keys win); extras is
 * always set afterwards ({} at least). */
void llm_attrib_apply(const struct llm_attrib *a, struct llm_record *r);

#endif
