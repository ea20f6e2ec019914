/* The CSV exporter: RFC 4180 (CRLF line ends; a field holding a comma, a
 * quote, CR or LF is quoted, its quotes doubled), a header row naming every
 * schema field, one row per record with exactly those columns.
 * Typed so that readers that infer types get them right: integers as digits,
 * floats always with a '.' or an exponent (2.0, not 2), booleans true/false,
 * null as an empty field and an empty string as "" (so the two stay apart).
 * Nested values (extras, argv) are compact JSON text; the fields that hold
 * JSON text (usage_raw, completion_args, tool_calls) are written as they are.
 * Fields a newer writer added beyond the schema are not exported here. */
#include "export.h"
#include "err.h"
#include "record.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int put_text(struct llm_export *x, const char *s, size_t n)
{
    const char *q;
    int rc;

    if (!n)
        return llm_export_puts(x, "\"\"");
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\r', n) && !memchr(s, '\n', n))
        return llm_export_write(x, s, n);
    rc = llm_export_puts(x, "\"");
    while (!rc && (q = memchr(s, '"', n))) { /* each quote goes out twice */
        size_t k = (size_t)(q - s) + 1;
        rc = llm_export_write(x, s, k);
        if (!rc)
            rc = llm_export_puts(x, "\"");
        s += k;
        n -= k;
    }
    if (!rc)
        rc = llm_export_write(x, s, n);
    return rc ? rc : llm_export_puts(x, "\"");
}

static int put_cell(struct llm_export *x, json_t *v, enum llm_type type)
{
    char num[64];
    char *text;
    int rc;

    switch (json_typeof(v)) {
    case JSON_STRING:
        return put_text(x, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        if (type == LLM_T_REAL) { /* keep the column a float column */
            llm_cli_real((double)json_integer_value(v), num, sizeof(num));
            return llm_export_puts(x, num);
        }
        snprintf(num, sizeof(num), "%" PRId64, (int64_t)json_integer_value(v));
        return llm_export_puts(x, num);
    case JSON_REAL:
        llm_cli_real(json_real_value(v), num, sizeof(num));
        return llm_export_puts(x, num);
    case JSON_TRUE:
        return llm_export_puts(x, "true");
    case JSON_FALSE:
        return llm_export_puts(x, "false");
    case JSON_OBJECT:
    case JSON_ARRAY:
        text = json_dumps(v, LLM_EXPORT_JSON_FLAGS);
        if (!text) {
            snprintf(x->what, sizeof(x->what), "export");
            return LLM_ENOMEM;
        }
        rc = put_text(x, text, strlen(text));
        free(text);
        return rc;
    default:
        return 0; /* null: an empty field */
    }
}

static int csv_begin(struct llm_export *x)
{
    int rc = 0;

    for (int f = 0; f < LLM_F__COUNT && !rc; f++) {
        rc = llm_export_puts(x, llm_schema[f].name);
        if (!rc)
            rc = llm_export_puts(x, f + 1 < LLM_F__COUNT ? "," : "\r\n");
    }
    return rc;
}

static int csv_row(struct llm_export *x, json_t *rec)
{
    int rc = 0;

    for (int f = 0; f < LLM_F__COUNT && !rc; f++) {
        json_t *v = json_object_get(rec, llm_schema[f].name);
        if (v)
            rc = put_cell(x, v, llm_schema[f].type);
        if (!rc)
            rc = llm_export_puts(x, f + 1 < LLM_F__COUNT ? "," : "\r\n");
    }
    return rc;
}

static int csv_end(struct llm_export *x, int failed)
{
    return 0;
}

const struct llm_exporter llm_exporter_csv = {1, csv_begin, csv_row, csv_end, NULL};
