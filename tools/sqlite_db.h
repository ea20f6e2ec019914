/* The SQLite side of the SQL targets: opening a database file and bringing
 * its tables to this build's schema (schema_sql.h), shared by the SQLite
 * exporter and `llmops create-tables`. */
#ifndef LLM_SQLITE_DB_H
#define LLM_SQLITE_DB_H

#include <sqlite3.h>
#include <stddef.h>

struct llm_sqlite_report {
    int created;      /* llm_operations did not exist */
    int from_version; /* llmops_meta's schema_version before; 0: none recorded */
    int to_version;   /* after: this build's, or a newer one that was there */
    int added;        /* columns added to an existing llm_operations */
};

/* Opens (creating) the database at path and, in one transaction, creates
 * what is missing: the tables, the columns a newer schema added, the
 * indexes, and the version in llmops_meta. Rows are never touched.
 * On failure *out is NULL and what says why. Returns 0 or a negative code. */
int llm_sqlite_open(const char *path, sqlite3 **out, struct llm_sqlite_report *rep, char *what,
                    size_t n);
/* Turns a failed SQLite call into an llm code and "sqlite PATH: message" in what. */
int llm_sqlite_error(sqlite3 *db, int src, const char *path, char *what, size_t n);

#endif
