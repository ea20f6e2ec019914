/* The record schema as SQL: column list, types per dialect, the statements
 * that create the tables, and the conversion of a decoded record's fields
 * into typed SQL values. Derived from llm_schema, so a new record field is a
 * new column everywhere (and create-tables adds it to existing tables).
 *
 * Types: text TEXT; int INTEGER/BIGINT; float REAL/DOUBLE PRECISION; bool
 * INTEGER 0/1 in SQLite, BOOLEAN in PostgreSQL; times RFC 3339 TEXT in
 * SQLite, TIMESTAMPTZ in PostgreSQL, and a microseconds INTEGER/BIGINT
 * beside each; JSON text and nested values (extras, argv) TEXT in SQLite,
 * JSONB in PostgreSQL. A last column, extra_fields (JSON), keeps the members
 * of a record that a newer llmops wrote and this schema does not know. */
#include "schema_sql.h"
#include "err.h"
#include "record.h"
#include "record_json.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS (LLM_F__COUNT + 3)

const char *const llm_sql_indexed[] = {"timestamp_us", "provider", "model", "session_id", NULL};

static enum llm_sql_kind kind_of(enum llm_type t)
{
    switch (t) {
    case LLM_T_INT:
        return LLM_SQL_K_INT;
    case LLM_T_REAL:
        return LLM_SQL_K_REAL;
    case LLM_T_BOOL:
        return LLM_SQL_K_BOOL;
    case LLM_T_TIME:
        return LLM_SQL_K_TIME;
    case LLM_T_JSON:
    case LLM_T_MAP:
    case LLM_T_ARRAY:
        return LLM_SQL_K_JSON;
    default:
        return LLM_SQL_K_TEXT;
    }
}

const struct llm_sql_column *llm_sql_columns(size_t *n)
{
    static struct llm_sql_column cols[NCOLS];
    static size_t ncols;

    if (!ncols) { /* the tool is single-threaded */
        for (int f = 0; f < LLM_F__COUNT; f++) {
            cols[ncols++] = (struct llm_sql_column){llm_schema[f].name, llm_schema[f].name,
                                                    kind_of(llm_schema[f].type)};
            if (f == LLM_F_END_TIMESTAMP) { /* the microseconds beside the times */
                cols[ncols++] =
                    (struct llm_sql_column){"timestamp_us", "timestamp", LLM_SQL_K_TIME_US};
                cols[ncols++] =
                    (struct llm_sql_column){"end_timestamp_us", "end_timestamp", LLM_SQL_K_TIME_US};
            }
        }
        /* what a newer writer added beyond the schema (record_json.h) */
        cols[ncols++] = (struct llm_sql_column){LLM_RJSON_EXTRA_NAME, NULL, LLM_SQL_K_JSON};
    }
    *n = ncols;
    return cols;
}

const char *llm_sql_type(const struct llm_sql_column *c, enum llm_sql_dialect d)
{
    int pg = d == LLM_SQL_POSTGRES;

    switch (c->kind) {
    case LLM_SQL_K_INT:
    case LLM_SQL_K_TIME_US:
        return pg ? "BIGINT" : "INTEGER";
    case LLM_SQL_K_REAL:
        return pg ? "DOUBLE PRECISION" : "REAL";
    case LLM_SQL_K_BOOL:
        return pg ? "BOOLEAN" : "INTEGER";
    case LLM_SQL_K_TIME:
        return pg ? "TIMESTAMPTZ" : "TEXT";
    case LLM_SQL_K_JSON:
        return pg ? "JSONB" : "TEXT";
    default:
        return "TEXT";
    }
}

/* open_memstream's text (*p is only final after fclose), or NULL if a write failed. */
static char *mem_close(FILE *fp, char **p)
{
    int bad = ferror(fp);

    if (fclose(fp) || bad) {
        free(*p);
        return NULL;
    }
    return *p;
}

char *llm_sql_create_table(enum llm_sql_dialect d)
{
    size_t n, len;
    const struct llm_sql_column *c = llm_sql_columns(&n);
    char *p = NULL;
    FILE *fp = open_memstream(&p, &len);

    if (!fp)
        return NULL;
    fprintf(fp, "CREATE TABLE IF NOT EXISTS " LLM_SQL_TABLE " (\n");
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "    %s %s%s%s\n", c[i].name, llm_sql_type(&c[i], d),
                strcmp(c[i].name, "operation_id") ? "" : " NOT NULL PRIMARY KEY",
                i + 1 < n ? "," : "");
    fprintf(fp, ")");
    return mem_close(fp, &p);
}

char *llm_sql_add_column(const struct llm_sql_column *c, enum llm_sql_dialect d)
{
    size_t len;
    char *p = NULL;
    FILE *fp = open_memstream(&p, &len);

    if (!fp)
        return NULL;
    fprintf(fp, "ALTER TABLE " LLM_SQL_TABLE " ADD COLUMN %s%s %s",
            d == LLM_SQL_POSTGRES ? "IF NOT EXISTS " : "", c->name, llm_sql_type(c, d));
    return mem_close(fp, &p);
}

char *llm_sql_create_index(const char *column)
{
    size_t len;
    char *p = NULL;
    FILE *fp = open_memstream(&p, &len);

    if (!fp)
        return NULL;
    fprintf(fp, "CREATE INDEX IF NOT EXISTS " LLM_SQL_TABLE "_%s ON " LLM_SQL_TABLE " (%s)", column,
            column);
    return mem_close(fp, &p);
}

char *llm_sql_insert_head(enum llm_sql_dialect d)
{
    size_t n, len;
    const struct llm_sql_column *c = llm_sql_columns(&n);
    char *p = NULL;
    FILE *fp = open_memstream(&p, &len);

    if (!fp)
        return NULL;
    fprintf(fp, "INSERT %sINTO " LLM_SQL_TABLE " (", d == LLM_SQL_SQLITE ? "OR IGNORE " : "");
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%s%s", c[i].name, i + 1 < n ? ", " : ") VALUES");
    return mem_close(fp, &p);
}

const char *llm_sql_insert_tail(enum llm_sql_dialect d)
{
    return d == LLM_SQL_POSTGRES ? " ON CONFLICT (operation_id) DO NOTHING" : "";
}

static void set_text(struct llm_sql_value *v, const char *s, size_t n)
{
    v->type = LLM_SQL_TEXT;
    v->s = s;
    v->n = n;
}

static int set_owned(struct llm_sql_value *v, char *s)
{
    if (!s)
        return LLM_ENOMEM;
    v->owned = s;
    set_text(v, s, strlen(s));
    return 0;
}

/* JSON text for a JSONB column: as it is if it parses, else as a JSON string.
 * (jansson, like PostgreSQL, refuses \u0000, which JSONB cannot hold; the
 * string stops at a NUL byte for the same reason.) */
static int pg_json(struct llm_sql_value *v)
{
    json_t *j = json_loadb(v->s, v->n, JSON_DECODE_ANY, NULL), *str;
    char *text;

    if (j) {
        json_decref(j);
        return 0;
    }
    str = json_stringn(v->s, strnlen(v->s, v->n));
    text = str ? json_dumps(str, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(str);
    if (!text)
        return LLM_ENOMEM;
    free(v->owned); /* v->s may point into it: used above, not after */
    v->owned = NULL;
    return set_owned(v, text);
}

/* JSON text (an object or array as its dump, a string as it is): TEXT. */
static int json_value(const struct llm_cell *j, enum llm_sql_dialect d, struct llm_sql_value *v)
{
    if (j->k != LLM_CELL_STR && j->k != LLM_CELL_JSON)
        return 0; /* the wrong type: NULL */
    set_text(v, j->s, j->n);
    return d == LLM_SQL_POSTGRES ? pg_json(v) : 0;
}

/* The value of column c when the record's field holds cell j (its text, if
 * any, borrowed: it must outlive v). */
int llm_sql_value_cell(const struct llm_sql_column *c, const struct llm_cell *j, const char *ulid,
                       enum llm_sql_dialect d, struct llm_sql_value *v)
{
    int64_t us;

    memset(v, 0, sizeof(*v));
    if (j->k != LLM_CELL_STR && !strcmp(c->name, "operation_id") && ulid && *ulid) {
        set_text(v, ulid, strlen(ulid)); /* the key is the record's identity */
        return 0;
    }
    switch (c->kind) {
    case LLM_SQL_K_INT:
        if (j->k == LLM_CELL_INT) {
            v->type = LLM_SQL_INT;
            v->i = j->i;
        }
        return 0;
    case LLM_SQL_K_REAL:
        if (j->k == LLM_CELL_INT || j->k == LLM_CELL_REAL) {
            v->type = LLM_SQL_REAL;
            v->d = j->k == LLM_CELL_INT ? (double)j->i : j->d;
        }
        return 0;
    case LLM_SQL_K_BOOL:
        if (j->k == LLM_CELL_TRUE || j->k == LLM_CELL_FALSE) {
            v->type = LLM_SQL_BOOL;
            v->i = j->k == LLM_CELL_TRUE;
        }
        return 0;
    case LLM_SQL_K_TIME_US:
        if (j->k == LLM_CELL_STR && !llm_parse_time(j->s, &us)) {
            v->type = LLM_SQL_INT;
            v->i = us;
        }
        return 0;
    case LLM_SQL_K_TIME:
        if (j->k == LLM_CELL_STR && (d != LLM_SQL_POSTGRES || !llm_parse_time(j->s, &us)))
            set_text(v, j->s, j->n);
        return 0;
    case LLM_SQL_K_JSON:
        return json_value(j, d, v);
    default:
        if (j->k == LLM_CELL_STR)
            set_text(v, j->s, j->n);
        return 0;
    }
}

int llm_sql_value(const struct llm_sql_column *c, json_t *rec, const char *ulid,
                  enum llm_sql_dialect d, struct llm_sql_value *v)
{
    struct llm_cell j;
    char *owned = NULL;
    int rc = c->field ? llm_cell_of_json(json_object_get(rec, c->field), &j, &owned)
                      : llm_cell_extra_of_json(rec, &j, &owned);

    if (!rc)
        rc = llm_sql_value_cell(c, &j, ulid, d, v);
    if (owned && v->s == owned && !v->owned)
        v->owned = owned; /* the dump of an object or array: v keeps it */
    else
        free(owned);
    return rc;
}

void llm_sql_value_free(struct llm_sql_value *v)
{
    free(v->owned);
    v->owned = NULL;
}
