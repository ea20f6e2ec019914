/* The SQLite exporter: --out FILE is an SQLite database with a typed
 * llm_operations table (schema_sql.h), created or migrated on the way in.
 * Exporting again into the same file adds only what is new: rows go in with
 * INSERT OR IGNORE keyed by operation_id. All rows go in one transaction
 * through one prepared statement, bound per row, so a failed export adds
 * nothing and a large one stays fast. */
#include "err.h"
#include "export.h"
#include "schema_sql.h"
#include "sqlite_db.h"

#include <stdlib.h>
#include <string.h>

struct sqlite_state {
    sqlite3 *db;
    sqlite3_stmt *insert;
    const struct llm_sql_column *cols;
    size_t ncols;
    int *field;    /* each column's record field (llm_rjson_cell) */
    size_t id_col; /* operation_id's column */
    struct {
        char *p;
        size_t cap;
    } * text; /* each column's text until the step: bound SQLITE_STATIC */
};

static int fail(struct llm_export *x, struct sqlite_state *st, int src)
{
    return llm_sqlite_error(st->db, src, x->out_name, x->what, sizeof(x->what));
}

static int prepare_insert(struct llm_export *x, struct sqlite_state *st)
{
    char *head = llm_sql_insert_head(LLM_SQL_SQLITE), *sql;
    size_t len;
    int src;

    if (!head)
        return LLM_ENOMEM;
    len = strlen(head);
    sql = malloc(len + 2 * st->ncols + 2);
    if (!sql) {
        free(head);
        return LLM_ENOMEM;
    }
    memcpy(sql, head, len);
    free(head);
    for (size_t i = 0; i < st->ncols; i++) { /* " (?,?,...,?)" */
        sql[len++] = i ? ',' : '(';
        sql[len++] = '?';
    }
    memcpy(sql + len, ")", 2);
    src = sqlite3_prepare_v2(st->db, sql, -1, &st->insert, NULL);
    free(sql);
    return src == SQLITE_OK ? 0 : fail(x, st, src);
}

static int sqlite_begin(struct llm_export *x)
{
    struct sqlite_state *st = calloc(1, sizeof(*st));
    int rc, src;

    if (!st) {
        snprintf(x->what, sizeof(x->what), "export");
        return LLM_ENOMEM;
    }
    st->cols = llm_sql_columns(&st->ncols);
    st->field = malloc(st->ncols * sizeof(*st->field));
    if (!st->field) {
        rc = LLM_ENOMEM;
        goto state_free;
    }
    st->text = calloc(st->ncols, sizeof(*st->text));
    if (!st->text) {
        rc = LLM_ENOMEM;
        goto state_free;
    }
    st->id_col = st->ncols;
    for (size_t i = 0; i < st->ncols; i++) {
        st->field[i] = st->cols[i].field
                           ? llm_field_lookup(st->cols[i].field, strlen(st->cols[i].field))
                           : LLM_RJSON_EXTRA;
        if (!strcmp(st->cols[i].name, "operation_id"))
            st->id_col = i;
    }
    rc = llm_sqlite_open(x->out_name, &st->db, NULL, x->what, sizeof(x->what));
    if (rc)
        goto state_free;
    rc = prepare_insert(x, st);
    if (rc)
        goto db_close;
    src = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        rc = fail(x, st, src);
        goto insert_finalize;
    }
    x->priv = st;
    return 0;

insert_finalize:
    sqlite3_finalize(st->insert);
db_close:
    sqlite3_close(st->db);
state_free:
    free(st->text);
    free(st->field);
    free(st);
    if (rc == LLM_ENOMEM)
        snprintf(x->what, sizeof(x->what), "export");
    return rc;
}

static int bind(sqlite3_stmt *stmt, int i, const struct llm_sql_value *v)
{
    switch (v->type) {
    case LLM_SQL_INT:
    case LLM_SQL_BOOL:
        return sqlite3_bind_int64(stmt, i, v->i);
    case LLM_SQL_REAL:
        return sqlite3_bind_double(stmt, i, v->d);
    case LLM_SQL_TEXT: /* TRANSIENT: owned values are freed before the step */
        return sqlite3_bind_text64(stmt, i, v->s, v->n, SQLITE_TRANSIENT, SQLITE_UTF8);
    default:
        return sqlite3_bind_null(stmt, i);
    }
}

static int sqlite_row(struct llm_export *x, json_t *rec)
{
    struct sqlite_state *st = x->priv;
    struct llm_sql_value v;
    int rc = 0, src = SQLITE_OK;

    for (size_t i = 0; i < st->ncols && !rc && src == SQLITE_OK; i++) {
        rc = llm_sql_value(&st->cols[i], rec, x->ulid, LLM_SQL_SQLITE, &v);
        if (!rc)
            src = bind(st->insert, (int)i + 1, &v);
        llm_sql_value_free(&v);
    }
    if (rc) {
        snprintf(x->what, sizeof(x->what), "export");
        return rc;
    }
    if (src == SQLITE_OK)
        src = sqlite3_step(st->insert);
    sqlite3_reset(st->insert);
    return src == SQLITE_OK || src == SQLITE_DONE ? 0 : fail(x, st, src);
}

/* Binds text that stays put until the next row (SQLite copies TRANSIENT text
 * into memory of its own, which cost more than the rest of the bind). */
static int bind_static(struct sqlite_state *st, size_t i, const struct llm_sql_value *v)
{
    if (v->type != LLM_SQL_TEXT)
        return bind(st->insert, (int)i + 1, v);
    if (v->n + 1 > st->text[i].cap) {
        size_t cap = v->n + 1 + v->n / 2 + 64;
        char *p = realloc(st->text[i].p, cap);
        if (!p)
            return SQLITE_NOMEM;
        st->text[i].p = p;
        st->text[i].cap = cap;
    }
    memcpy(st->text[i].p, v->s, v->n + 1);
    return sqlite3_bind_text64(st->insert, (int)i + 1, st->text[i].p, v->n, SQLITE_STATIC,
                               SQLITE_UTF8);
}

/* sqlite_row's values, read from the msgpack (export.c, llm_rjson_cell). */
int llm_export_sqlite_cells(struct llm_export *x, struct llm_rjson *rj)
{
    struct sqlite_state *st = x->priv;
    struct llm_sql_value v = {.type = LLM_SQL_NULL};
    struct llm_cell c = {.k = LLM_CELL_NULL};
    int rc = 0, src = SQLITE_OK;

    for (size_t i = 0; i < st->ncols && !rc && src == SQLITE_OK; i++) {
        rc = st->field[i] >= 0 ? llm_rjson_cell(rj, st->field[i], &c) : 0;
        if (!rc && i == st->id_col && c.k != LLM_CELL_STR && x->klen == 16) /* the key stands in */
            llm_ulid_format(x->key, x->ulid);
        if (!rc)
            rc = llm_sql_value_cell(&st->cols[i], &c, x->klen == 16 ? x->ulid : "", LLM_SQL_SQLITE,
                                    &v);
        if (!rc)
            src = bind_static(st, i, &v); /* copies: c is reused */
        llm_sql_value_free(&v);
        c.k = LLM_CELL_NULL;
    }
    if (rc) {
        snprintf(x->what, sizeof(x->what), "export");
        return rc;
    }
    if (src == SQLITE_OK)
        src = sqlite3_step(st->insert);
    sqlite3_reset(st->insert);
    return src == SQLITE_OK || src == SQLITE_DONE ? 0 : fail(x, st, src);
}

static int sqlite_end(struct llm_export *x, int failed)
{
    struct sqlite_state *st = x->priv;
    int rc = 0, src;

    sqlite3_finalize(st->insert);
    if (failed) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        src = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            rc = fail(x, st, src);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    if (sqlite3_close(st->db) != SQLITE_OK && !rc) {
        snprintf(x->what, sizeof(x->what), "sqlite %s: close", x->out_name);
        rc = LLM_ESTORE;
    }
    for (size_t i = 0; st->text && i < st->ncols; i++)
        free(st->text[i].p);
    free(st->text);
    free(st->field);
    free(st);
    x->priv = NULL;
    return rc;
}

const struct llm_exporter llm_exporter_sqlite = {0, sqlite_begin, sqlite_row, sqlite_end, NULL};
