/* `export --format otlp-json`: one OTLP/JSON ExportTraceServiceRequest per
 * line (the layout an OpenTelemetry Collector's otlpjsonfile receiver
 * reads), each holding the span of one record (otlp.c). A record without a
 * usable start time makes no span and no line. */
#include "export.h"
#include "err.h"
#include "otlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int otlp_begin(struct llm_export *x)
{
    return 0;
}

static int otlp_row(struct llm_export *x, json_t *rec)
{
    json_t *spans = json_array(), *req;
    char *text = NULL;
    int rc = spans ? llm_otlp_add_span(spans, rec, x->ulid[0] ? x->ulid : NULL) : LLM_ENOMEM;

    if (rc == LLM_EINVAL) { /* no start time: no span */
        json_decref(spans);
        return 0;
    }
    req = rc ? NULL : json_pack("{s:O}", "resourceSpans", spans);
    text = req ? json_dumps(req, LLM_EXPORT_JSON_FLAGS) : NULL;
    json_decref(req);
    json_decref(spans);
    if (!text) {
        snprintf(x->what, sizeof(x->what), "export");
        return LLM_ENOMEM;
    }
    rc = llm_export_puts(x, text);
    free(text);
    return rc ? rc : llm_export_write(x, "\n", 1);
}

static int otlp_end(struct llm_export *x, int failed)
{
    return 0;
}

const struct llm_exporter llm_exporter_otlp_json = {1, otlp_begin, otlp_row, otlp_end, NULL};
