/* The CSV exporter: RFC 4180 (CRLF line ends; a field holding a comma, a
 * quote, CR or LF is quoted, its quotes doubled), a header row naming every
 * schema field, one row per record with exactly those columns.
 * Typed so that readers that infer types get them right: integers as digits,
 * floats always with a '.' or an exponent (2.0, not 2), booleans true/false,
 * null as an empty field and an empty string as "" (so the two stay apart).
 * Nested values (extras, argv) are compact JSON text; the fields that hold
 * JSON text (usage_raw, completion_args, tool_calls) are written as they are.
 * Fields a newer writer added beyond the schema go into a last column,
 * extra_fields: one JSON object of them, empty (null) when there are none. */
#include "export.h"
#include "err.h"
#include "record.h"
#include "record_json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A row is put together here and written with one call: the many small
 * writes per field were a quarter of the export's time. */
struct row {
    char *p;
    size_t n, cap;
};

static int grow(struct row *b, size_t more)
{
    size_t want;
    char *p;

    if (more <= b->cap - b->n)
        return 0;
    want = (b->n + more) * 2 + 4096;
    p = realloc(b->p, want);
    if (!p)
        return LLM_ENOMEM;
    b->p = p;
    b->cap = want;
    return 0;
}

static int put(struct row *b, const void *s, size_t n)
{
    int rc = grow(b, n);

    if (!rc && n) {
        memcpy(b->p + b->n, s, n);
        b->n += n;
    }
    return rc;
}

static int put_text(struct row *b, const char *s, size_t n)
{
    const char *q;
    int rc;

    if (!n)
        return put(b, "\"\"", 2);
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\r', n) && !memchr(s, '\n', n))
        return put(b, s, n);
    rc = grow(b, 2 * n + 2); /* every byte a quote, doubled, at worst */
    if (rc)
        return rc;
    b->p[b->n++] = '"';
    while ((q = memchr(s, '"', n))) { /* each quote goes out twice */
        size_t k = (size_t)(q - s) + 1;
        memcpy(b->p + b->n, s, k);
        b->n += k;
        b->p[b->n++] = '"';
        s += k;
        n -= k;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n++] = '"';
    return 0;
}

/* llm_cli_real's text: %.15g, ".0" added to an integral value */
static int put_real(struct row *b, double d)
{
    char num[64];
    int len = llm_rjson_g15(d, num);

    if (len > 0 && (size_t)len + 2 < sizeof(num) && !strpbrk(num, ".eEni"))
        memcpy(num + len, ".0", 3), len += 2;
    return put(b, num, len > 0 ? (size_t)len : 0);
}

static int put_int(struct row *b, int64_t v)
{
    char buf[24], *e = buf + sizeof(buf), *p = e;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    return put(b, p, (size_t)(e - p));
}

/* One value as the row exporters read it (record_json.h). */
static int put_cell(struct row *b, const struct llm_cell *c, enum llm_type type)
{
    switch (c->k) {
    case LLM_CELL_STR:
    case LLM_CELL_JSON: /* nested values as compact JSON text */
        return put_text(b, c->s, c->n);
    case LLM_CELL_INT:
        if (type == LLM_T_REAL) /* keep the column a float column */
            return put_real(b, (double)c->i);
        return put_int(b, c->i);
    case LLM_CELL_REAL:
        return put_real(b, c->d);
    case LLM_CELL_TRUE:
        return put(b, "true", 4);
    case LLM_CELL_FALSE:
        return put(b, "false", 5);
    default:
        return 0; /* null: an empty field */
    }
}

static int csv_begin(struct llm_export *x)
{
    int rc = 0;

    x->priv = calloc(1, sizeof(struct row));
    if (!x->priv) {
        snprintf(x->what, sizeof(x->what), "export");
        return LLM_ENOMEM;
    }
    for (int f = 0; f < LLM_F__COUNT && !rc; f++) {
        rc = llm_export_puts(x, llm_schema[f].name);
        if (!rc)
            rc = llm_export_puts(x, ",");
    }
    if (!rc)
        rc = llm_export_puts(x, LLM_RJSON_EXTRA_NAME "\r\n");
    if (rc) { /* end() is not called after a failed begin() */
        free(x->priv);
        x->priv = NULL;
    }
    return rc;
}

/* The row is complete (rc 0) or failed: written, or the failure named. */
static int row_end(struct llm_export *x, struct row *b, int rc)
{
    if (!rc)
        rc = llm_export_write(x, b->p, b->n);
    else if (rc == LLM_ENOMEM)
        snprintf(x->what, sizeof(x->what), "export");
    b->n = 0;
    return rc;
}

static int csv_row(struct llm_export *x, json_t *rec)
{
    struct row *b = x->priv;
    struct llm_cell c;
    char *owned;
    int rc = 0;

    for (int f = 0; f <= LLM_RJSON_EXTRA && !rc; f++) {
        owned = NULL;
        if (f == LLM_RJSON_EXTRA)
            rc = llm_cell_extra_of_json(rec, &c, &owned);
        else
            rc = llm_cell_of_json(json_object_get(rec, llm_schema[f].name), &c, &owned);
        if (!rc)
            rc = put_cell(b, &c, f == LLM_RJSON_EXTRA ? LLM_T_JSON : llm_schema[f].type);
        free(owned);
        if (!rc)
            rc = put(b, f < LLM_RJSON_EXTRA ? "," : "\r\n", f < LLM_RJSON_EXTRA ? 1 : 2);
    }
    return row_end(x, b, rc);
}

/* The same row with the values read straight from the msgpack. */
int llm_export_csv_cells(struct llm_export *x, struct llm_rjson *rj)
{
    struct row *b = x->priv;
    struct llm_cell c;
    int rc = 0;

    for (int f = 0; f <= LLM_RJSON_EXTRA && !rc; f++) {
        rc = llm_rjson_cell(rj, f, &c);
        if (!rc)
            rc = put_cell(b, &c, f == LLM_RJSON_EXTRA ? LLM_T_JSON : llm_schema[f].type);
        if (!rc)
            rc = put(b, f < LLM_RJSON_EXTRA ? "," : "\r\n", f < LLM_RJSON_EXTRA ? 1 : 2);
    }
    return row_end(x, b, rc);
}

static int csv_end(struct llm_export *x, int failed)
{
    struct row *b = x->priv;

    free(b->p);
    free(b);
    x->priv = NULL;
    return 0;
}

const struct llm_exporter llm_exporter_csv = {1, csv_begin, csv_row, csv_end, NULL};
