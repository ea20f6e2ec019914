/* The SQL shape of a record, in one place for every SQL target: the SQLite
 * file (export_sqlite.c, create-tables), SQL scripts (export_sql.c) and
 * PostgreSQL through libpq (pg*.c). One table, llm_operations: a column per
 * schema field, typed per dialect, plus timestamp_us and end_timestamp_us
 * (microseconds since the epoch, for range queries); operation_id is the
 * primary key, so loading a record twice keeps one row. llmops_meta holds
 * the schema version the tables were brought to. */
#ifndef LLM_SCHEMA_SQL_H
#define LLM_SCHEMA_SQL_H

#include "cli.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LLM_SQL_TABLE "llm_operations"
#define LLM_SQL_META "llmops_meta"
#define LLM_SQL_META_CREATE                                                                        \
    "CREATE TABLE IF NOT EXISTS " LLM_SQL_META " (name TEXT PRIMARY KEY, value TEXT NOT NULL)"

enum llm_sql_kind {
    LLM_SQL_K_TEXT,
    LLM_SQL_K_INT,
    LLM_SQL_K_REAL,
    LLM_SQL_K_BOOL,
    LLM_SQL_K_TIME,    /* RFC 3339 text; TIMESTAMPTZ where there is one */
    LLM_SQL_K_TIME_US, /* derived: the field's time in microseconds */
    LLM_SQL_K_JSON,    /* JSON text; JSONB where there is one */
};

struct llm_sql_column {
    const char *name;
    const char *field; /* the record field it comes from; NULL: extra_fields */
    enum llm_sql_kind kind;
};

/* The columns in table order; *n gets their count. */
const struct llm_sql_column *llm_sql_columns(size_t *n);
const char *llm_sql_type(const struct llm_sql_column *c, enum llm_sql_dialect d);

/* Statements as malloc'd text without the final ';' (NULL: out of memory). */
char *llm_sql_create_table(enum llm_sql_dialect d);
char *llm_sql_add_column(const struct llm_sql_column *c, enum llm_sql_dialect d);
/* "INSERT ... INTO llm_operations (every column) VALUES"; rows follow, then the tail. */
char *llm_sql_insert_head(enum llm_sql_dialect d);
const char *llm_sql_insert_tail(enum llm_sql_dialect d);

/* The indexed columns, NULL-terminated; the index statement for one. */
extern const char *const llm_sql_indexed[];
char *llm_sql_create_index(const char *column);

enum llm_sql_vtype { LLM_SQL_NULL, LLM_SQL_INT, LLM_SQL_REAL, LLM_SQL_BOOL, LLM_SQL_TEXT };

struct llm_sql_value {
    enum llm_sql_vtype type;
    int64_t i; /* INT; BOOL as 0/1 */
    double d;
    const char *s; /* TEXT, s[n] == '\0'; borrowed from the record or owned */
    size_t n;
    char *owned;
};

/* The value of column c for a decoded record. ulid stands in for a missing
 * operation_id (the record's key). A value of the wrong JSON type is NULL.
 * For PostgreSQL, a time that does not parse is NULL and JSON text that does
 * not parse (cut by LLMOPS_MAX_BODY, say) becomes a JSON string, so a load
 * never fails on a TIMESTAMPTZ or JSONB cast. Returns 0 or LLM_ENOMEM. */
int llm_sql_value(const struct llm_sql_column *c, json_t *rec, const char *ulid,
                  enum llm_sql_dialect d, struct llm_sql_value *v);
void llm_sql_value_free(struct llm_sql_value *v);
/* The same from one value of the record (record_json.h), not copied: its
 * text must outlive v. */
struct llm_cell;
int llm_sql_value_cell(const struct llm_sql_column *c, const struct llm_cell *j, const char *ulid,
                       enum llm_sql_dialect d, struct llm_sql_value *v);

#endif
