/* The PostgreSQL side of the SQL targets, through libpq: connecting to a
 * postgresql:// URL, bringing its tables to this build's schema
 * (schema_sql.h), and loading records in batches: each batch is one
 * transaction that COPYs rows into a temporary table and then inserts them
 * into llm_operations with ON CONFLICT (operation_id) DO NOTHING, so loading
 * a record twice keeps one row. Used by `export --format postgres`,
 * `create-tables` and `sync`. Messages name the URL without its password. */
#ifndef LLM_PG_H
#define LLM_PG_H

#include <jansson.h>
#include <stddef.h>

struct pg_conn;
struct pg_result;

struct llm_pg {
    struct pg_conn *conn; /* libpq's PGconn */
    const char *url;      /* as given: never printed */
    char name[1024];      /* the URL without its password */
    char *what;           /* where a failure is described */
    size_t n;
    char *row; /* the COPY text of a row being encoded */
    size_t cap;
    size_t rows;  /* rows in the batch in progress */
    int in_batch; /* a batch transaction is open */
    int in_copy;  /* and its COPY still takes rows */
};

struct llm_pg_report {
    int created;      /* llm_operations did not exist */
    int from_version; /* llmops_meta's schema_version before; 0: none recorded */
    int to_version;   /* after: this build's, or a newer one that was there */
    int added;        /* columns added to an existing llm_operations */
};

/* Is s a postgresql:// or postgres:// URL? */
int llm_pg_is_url(const char *s);
/* url without a password (in the user part or a password= parameter). */
void llm_pg_redact(const char *url, char *out, size_t n);

/* Connects; failures are described in what (one line, libpq's reason).
 * Returns 0 or a negative llm code; pg is then ready for llm_pg_close(). */
int llm_pg_connect(const char *url, struct llm_pg *pg, char *what, size_t n);
void llm_pg_close(struct llm_pg *pg);

/* For pg_*.c: runs a statement that returns no rows; describes a failure
 * (of res, else of the connection) in pg->what and returns LLM_ESTORE. */
int llm_pg_exec(struct llm_pg *pg, const char *sql);
int llm_pg_error(struct llm_pg *pg, const struct pg_result *res);

/* Creates what is missing, in one transaction under an advisory lock (so
 * concurrent exports and syncs migrate once): the tables, the columns a
 * newer schema added, the indexes, the version in llmops_meta. */
int llm_pg_migrate(struct llm_pg *pg, struct llm_pg_report *rep);

/* A batch: rows go into the COPY of an open transaction (begun with the
 * first row); commit ends it and says how many rows were new to the
 * table; abort rolls back whatever is open. */
int llm_pg_batch_row(struct llm_pg *pg, json_t *rec, const char *ulid);
int llm_pg_batch_commit(struct llm_pg *pg, long long *inserted);
void llm_pg_batch_abort(struct llm_pg *pg);

#endif
