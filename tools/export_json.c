/* The JSON exporters: NDJSON (one object per line) and JSON (one array).
 * Each object is the record's JSON text from record_json.c: byte for byte
 * what json_dumpb makes of llm_record_to_json()'s object, so it has every
 * schema field in schema order, null where unknown, and any field a newer
 * writer added after them. Reals print with 15 significant digits: what a
 * double holds exactly, no 44.020490000000002. */
#include "export.h"

static int nothing(struct llm_export *x)
{
    return 0;
}

static int ndjson_row(struct llm_export *x, const char *text, size_t n)
{
    int rc = llm_export_write(x, text, n);
    return rc ? rc : llm_export_write(x, "\n", 1);
}

static int ndjson_end(struct llm_export *x, int failed)
{
    return 0;
}

static int json_begin(struct llm_export *x)
{
    return llm_export_puts(x, "[");
}

static int json_row(struct llm_export *x, const char *text, size_t n)
{
    int rc = llm_export_puts(x, x->rows ? ",\n" : "\n");
    return rc ? rc : llm_export_write(x, text, n);
}

static int json_end(struct llm_export *x, int failed)
{
    return failed ? 0 : llm_export_puts(x, x->rows ? "\n]\n" : "]\n");
}

const struct llm_exporter llm_exporter_ndjson = {
    .stream = 1, .begin = nothing, .text_row = ndjson_row, .end = ndjson_end};
const struct llm_exporter llm_exporter_json = {
    .stream = 1, .begin = json_begin, .text_row = json_row, .end = json_end};
