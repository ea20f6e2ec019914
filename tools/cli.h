/* Shared pieces of the `llmops` tool: the subcommands, and the helpers they
 * use to open a store for reading and to report the one error line.
 * Every run function prints at most one error line itself and returns 0 or a
 * negative llm code; main() turns that into the exit status. */
#ifndef LLM_CLI_H
#define LLM_CLI_H

#include <stddef.h>
#include <stdint.h>

struct llm_store;
struct llm_filter;

enum llm_export_format {
    LLM_EXPORT_NDJSON,
    LLM_EXPORT_JSON,
    LLM_EXPORT_CSV,
    LLM_EXPORT_SQLITE,
    LLM_EXPORT_SQL,
    LLM_EXPORT_POSTGRES,
    LLM_EXPORT_PARQUET,   /* export_parquet.c */
    LLM_EXPORT_OTLP_JSON, /* export_otlp.c */
};

enum llm_sql_dialect {
    LLM_SQL_SQLITE,
    LLM_SQL_POSTGRES,
};

struct llm_export_opts {
    const char *db;
    enum llm_export_format format;
    enum llm_sql_dialect dialect; /* for LLM_EXPORT_SQL */
    const char *out;              /* NULL or "-": standard output */
    const char *to;               /* LLM_EXPORT_POSTGRES: the postgresql:// URL */
    const struct llm_filter *filter;
};

int llm_export_run(const struct llm_export_opts *o);
/* Creates or migrates the tables in the SQLite file at path; says what it
 * did on standard output. */
int llm_create_tables_sqlite(const char *path);
/* The same in the PostgreSQL database at url. */
int llm_create_tables_postgres(const char *url);

struct llm_sync_opts {
    const char *db, *to; /* the store; the postgresql:// URL */
    const struct llm_filter *filter;
    long batch;                 /* records per destination transaction */
    long settle_s;              /* the cursor stays this many seconds behind now */
    const char *const *headers; /* otlp+http(s): "Name: value" lines (--header) */
    size_t nheaders;
};

/* Ships what the destination lacks, resuming from the store's cursor for it. */
int llm_sync_run(const struct llm_sync_opts *o);
/* The same to an OpenTelemetry receiver: --to otlp+http(s)://HOST[:PORT] (otlp_sync.c). */
int llm_otlp_sync_run(const struct llm_sync_opts *o);

/* What both syncs share (sync.c): a destination's cursor in the store's
 * meta table (the last settled key shipped), the settle horizon, and the
 * store opened for it. */
struct llm_store;
int llm_sync_cursor_get(struct llm_store *s, const char *name, uint8_t key[16], int *found);
int llm_sync_cursor_put(struct llm_store *s, const char *name, const uint8_t key[16]);
void llm_sync_horizon(long settle_s, uint8_t key[16]);
int llm_sync_store_open(const char *db, struct llm_store **s);
int llm_sync_report(long long shipped, const uint8_t *settled, char *what, size_t n);
/* Returns the exit status itself: 0 observable, 1 not, 2 unreadable. */
int llm_doctor_run(const char *program);

/* Prints "llmops: <what>: <llm_strerror(rc)>" on stderr. */
void llm_cli_error(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens db read-only and arms the SIGBUS guard for it; reports its own error. */
int llm_cli_open(const char *db, struct llm_store **out);
/* Names a record for an error message: its ULID, or its key in hex. */
void llm_cli_key_name(const void *key, size_t klen, char *out, size_t n);
/* A float as exports write it: 15 significant digits (what a double holds
 * exactly, as the JSON export), always with a '.' or an exponent so that
 * readers that infer types (Polars, DuckDB) see a float even for 2.0. */
void llm_cli_real(double d, char *out, size_t n);

#endif
