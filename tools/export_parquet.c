/* The Parquet exporter (`export --format parquet`): one column per schema
 * field, in schema order, each typed (parquet.c writes the file):
 *   text                          -> STRING (UTF-8)
 *   int (tokens, status, pid ...) -> INT64
 *   float (latencies, cost ...)   -> DOUBLE
 *   bool (stream, truncated)      -> BOOLEAN
 *   time (timestamp ...)          -> TIMESTAMP(MICROS, UTC); a time that does
 *                                    not parse is null
 *   JSON text, extras, argv       -> STRING holding compact JSON text
 * Every column is nullable; a value of the wrong JSON type is null (as in
 * the SQL exports). Fields a newer writer added beyond the schema go into a
 * last STRING column, extra_fields: one JSON object, null when none. Rows come from the decoded,
 * priced record (export.c). Row groups hold 65536 rows or 64 MiB of values, whichever comes first
 * (LLMOPS_PARQUET_ROWS overrides the rows, for tests), so memory stays flat
 * however large the export. The key/value metadata names the record schema
 * version (llmops.schema_version). */
#include "export.h"
#include "err.h"
#include "parquet.h"
#include "record.h"
#include "record_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pqx {
    struct llm_pq *q;
    struct llm_pq_column cols[LLM_F__COUNT + 1]; /* and extra_fields */
    int write_failed; /* x->what names the write that failed */
};

static enum llm_pq_type pq_type(enum llm_type t)
{
    switch (t) {
    case LLM_T_INT:
        return LLM_PQ_INT64;
    case LLM_T_REAL:
        return LLM_PQ_DOUBLE;
    case LLM_T_BOOL:
        return LLM_PQ_BOOL;
    case LLM_T_TIME:
        return LLM_PQ_TIMESTAMP_US;
    default:
        return LLM_PQ_STRING;
    }
}

static int pq_write(void *arg, const void *p, size_t n)
{
    struct llm_export *x = arg;
    int rc = llm_export_write(x, p, n);

    if (rc)
        ((struct pqx *)x->priv)->write_failed = 1;
    return rc;
}

/* x->what for a failure of the writer (a failed write has named itself). */
static int failed(struct llm_export *x, int rc)
{
    struct pqx *p = x->priv;

    if (rc == LLM_ENOMEM)
        snprintf(x->what, sizeof(x->what), "export");
    else if (rc && !p->write_failed)
        snprintf(x->what, sizeof(x->what), "write %s", x->out_name);
    return rc;
}

static int pq_begin(struct llm_export *x)
{
    struct pqx *p = calloc(1, sizeof(*p));
    struct llm_pq_limits lim = {0};
    const char *rows = getenv("LLMOPS_PARQUET_ROWS");
    int rc;

    if (!p) {
        snprintf(x->what, sizeof(x->what), "export");
        return LLM_ENOMEM;
    }
    for (int f = 0; f < LLM_F__COUNT; f++)
        p->cols[f] = (struct llm_pq_column){llm_schema[f].name, pq_type(llm_schema[f].type)};
    p->cols[LLM_RJSON_EXTRA] = (struct llm_pq_column){LLM_RJSON_EXTRA_NAME, LLM_PQ_STRING};
    if (rows && *rows)
        lim.max_rows = strtoul(rows, NULL, 10);
    x->priv = p;
    rc = failed(x, llm_pq_open(p->cols, LLM_F__COUNT + 1, &lim, pq_write, x, &p->q));
    if (rc) {
        free(p);
        x->priv = NULL;
    }
    return rc;
}

static int pq_cell(struct llm_pq *q, int f, json_t *v)
{
    int64_t us;
    char *text;
    int rc;

    switch (llm_schema[f].type) {
    case LLM_T_INT:
        return json_is_integer(v) ? llm_pq_int64(q, f, json_integer_value(v)) : 0;
    case LLM_T_REAL:
        return json_is_number(v) ? llm_pq_double(q, f, json_number_value(v)) : 0;
    case LLM_T_BOOL:
        return json_is_boolean(v) ? llm_pq_bool(q, f, json_is_true(v)) : 0;
    case LLM_T_TIME:
        if (json_is_string(v) && !llm_parse_time(json_string_value(v), &us))
            return llm_pq_int64(q, f, us);
        return 0;
    default:
        if (json_is_string(v))
            return llm_pq_string(q, f, json_string_value(v), json_string_length(v));
        if (!json_is_object(v) && !json_is_array(v))
            return 0;
        text = json_dumps(v, LLM_EXPORT_JSON_FLAGS);
        if (!text)
            return LLM_ENOMEM;
        rc = llm_pq_string(q, f, text, strlen(text));
        free(text);
        return rc;
    }
}

static int pq_row(struct llm_export *x, json_t *rec)
{
    struct pqx *p = x->priv;
    int rc = 0;

    for (int f = 0; f < LLM_F__COUNT && !rc; f++) {
        json_t *v = json_object_get(rec, llm_schema[f].name);
        if (f == LLM_F_OPERATION_ID && !json_is_string(v) && x->ulid[0])
            rc = llm_pq_string(p->q, f, x->ulid, strlen(x->ulid)); /* the key is its identity */
        else
            rc = pq_cell(p->q, f, v);
    }
    if (!rc) {
        struct llm_cell c;
        char *owned = NULL;
        rc = llm_cell_extra_of_json(rec, &c, &owned);
        if (!rc && c.k == LLM_CELL_JSON)
            rc = llm_pq_string(p->q, LLM_RJSON_EXTRA, c.s, c.n);
        free(owned);
    }
    if (!rc)
        rc = llm_pq_row_end(p->q);
    return failed(x, rc);
}

static int pq_end(struct llm_export *x, int was_failed)
{
    struct pqx *p = x->priv;
    char version[16];
    const char *kv[2] = {"llmops.schema_version", version};
    int rc = 0;

    snprintf(version, sizeof(version), "%d", LLM_SCHEMA_VERSION);
    if (!was_failed)
        rc = failed(x, llm_pq_finish(p->q, "llmops", kv, 1));
    llm_pq_free(p->q);
    free(p);
    x->priv = NULL;
    return rc;
}

const struct llm_exporter llm_exporter_parquet = {1, pq_begin, pq_row, pq_end, NULL};
