/* The SQL script exporter: `--format sql --dialect sqlite|postgres` writes a
 * script that creates llm_operations if it is missing (schema_sql.h) and
 * inserts the records, all in one BEGIN/COMMIT, and that can be replayed:
 * INSERT OR IGNORE (SQLite) or ON CONFLICT (operation_id) DO NOTHING
 * (PostgreSQL) keeps one row per operation. Rows go 100 to an INSERT to keep
 * the script small without making any one statement huge.
 * Strings are single-quoted with quotes doubled. For PostgreSQL the script
 * first sets standard_conforming_strings on, so a backslash is always just a
 * backslash. NUL bytes, which neither database's text can hold in a script,
 * are left out. */
#include "err.h"
#include "export.h"
#include "record.h"
#include "schema_sql.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_PER_INSERT 100

struct sql_state {
    enum llm_sql_dialect d;
    char *head;
    const struct llm_sql_column *cols;
    size_t ncols;
    size_t pending; /* rows in the INSERT being written */
};

static int put_quoted(struct llm_export *x, const char *s, size_t n)
{
    int rc = llm_export_puts(x, "'");

    while (!rc && n) {
        size_t k = strcspn(s, "'"); /* stops at a quote or a NUL byte */
        if (k > n)
            k = n;
        rc = llm_export_write(x, s, k);
        if (!rc && k < n && s[k] == '\'')
            rc = llm_export_puts(x, "''");
        if (k < n)
            k++; /* the quote just doubled, or a NUL left out */
        s += k;
        n -= k;
    }
    return rc ? rc : llm_export_puts(x, "'");
}

static int put_value(struct llm_export *x, const struct llm_sql_value *v, enum llm_sql_dialect d)
{
    char num[64];

    switch (v->type) {
    case LLM_SQL_INT:
        snprintf(num, sizeof(num), "%" PRId64, v->i);
        return llm_export_puts(x, num);
    case LLM_SQL_REAL:
        llm_cli_real(v->d, num, sizeof(num));
        return llm_export_puts(x, num);
    case LLM_SQL_BOOL:
        if (d == LLM_SQL_POSTGRES)
            return llm_export_puts(x, v->i ? "TRUE" : "FALSE");
        return llm_export_puts(x, v->i ? "1" : "0");
    case LLM_SQL_TEXT:
        return put_quoted(x, v->s, v->n);
    default:
        return llm_export_puts(x, "NULL");
    }
}

static int put_statement(struct llm_export *x, char *sql)
{
    int rc;

    if (!sql) {
        snprintf(x->what, sizeof(x->what), "export");
        return LLM_ENOMEM;
    }
    rc = llm_export_puts(x, sql);
    free(sql);
    return rc ? rc : llm_export_puts(x, ";\n");
}

static int sql_begin(struct llm_export *x)
{
    struct sql_state *st = calloc(1, sizeof(*st));
    int pg = x->o->dialect == LLM_SQL_POSTGRES, rc;
    char line[200];

    if (!st) {
        snprintf(x->what, sizeof(x->what), "export");
        return LLM_ENOMEM;
    }
    x->priv = st;
    st->d = x->o->dialect;
    st->cols = llm_sql_columns(&st->ncols);
    st->head = llm_sql_insert_head(st->d);
    if (!st->head) {
        snprintf(x->what, sizeof(x->what), "export");
        rc = LLM_ENOMEM;
        goto state_free;
    }
    snprintf(line, sizeof(line),
             "-- llmops export: record schema %d, %s dialect; replaying it adds only new rows\n",
             LLM_SCHEMA_VERSION, pg ? "postgres" : "sqlite");
    rc = llm_export_puts(x, line);
    if (!rc && pg)
        rc = llm_export_puts(x, "SET standard_conforming_strings = on;\n");
    if (!rc)
        rc = llm_export_puts(x, "BEGIN;\n");
    if (!rc)
        rc = put_statement(x, llm_sql_create_table(st->d));
    for (int i = 0; !rc && llm_sql_indexed[i]; i++)
        rc = put_statement(x, llm_sql_create_index(llm_sql_indexed[i]));
    if (rc)
        goto head_free;
    return 0;

head_free:
    free(st->head);
state_free:
    free(st);
    x->priv = NULL;
    return rc;
}

static int sql_row(struct llm_export *x, json_t *rec)
{
    struct sql_state *st = x->priv;
    struct llm_sql_value v;
    int rc;

    if (st->pending) {
        rc = llm_export_puts(x, ",\n(");
    } else {
        rc = llm_export_puts(x, st->head);
        if (!rc)
            rc = llm_export_puts(x, "\n(");
    }
    for (size_t i = 0; i < st->ncols && !rc; i++) {
        rc = llm_sql_value(&st->cols[i], rec, x->ulid, st->d, &v);
        if (rc)
            snprintf(x->what, sizeof(x->what), "export");
        if (!rc && i)
            rc = llm_export_puts(x, ", ");
        if (!rc)
            rc = put_value(x, &v, st->d);
        llm_sql_value_free(&v);
    }
    if (!rc)
        rc = llm_export_puts(x, ")");
    if (!rc && ++st->pending == ROWS_PER_INSERT) {
        st->pending = 0;
        rc = llm_export_puts(x, llm_sql_insert_tail(st->d));
        if (!rc)
            rc = llm_export_puts(x, ";\n");
    }
    return rc;
}

static int sql_end(struct llm_export *x, int failed)
{
    struct sql_state *st = x->priv;
    int rc = 0;

    if (!failed && st->pending) {
        rc = llm_export_puts(x, llm_sql_insert_tail(st->d));
        if (!rc)
            rc = llm_export_puts(x, ";\n");
    }
    if (!failed && !rc)
        rc = llm_export_puts(x, "COMMIT;\n");
    free(st->head);
    free(st);
    x->priv = NULL;
    return rc;
}

const struct llm_exporter llm_exporter_sql = {1, sql_begin, sql_row, sql_end, NULL};
