/* Opening an SQLite target and migrating it: CREATE TABLE IF NOT EXISTS for
 * a new file, ALTER TABLE ADD COLUMN for each column of this schema that an
 * older llmops did not create (SQLite adds columns without rewriting rows),
 * CREATE INDEX IF NOT EXISTS, and the version in llmops_meta, all in one
 * IMMEDIATE transaction so two exports starting together cannot both
 * migrate. A file from a newer llmops keeps its higher version: its table has
 * every column this build writes. A new file is made 0600 first (SQLite
 * would make it 0644): exports carry prompts and responses. */
#include "sqlite_db.h"
#include "err.h"
#include "record.h"
#include "schema_sql.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 10000 /* another export holding the write lock */

struct mig {
    sqlite3 *db;
    const char *path;
    char *what;
    size_t n;
};

int llm_sqlite_error(sqlite3 *db, int src, const char *path, char *what, size_t n)
{
    snprintf(what, n, "sqlite %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
    switch (src & 0xff) {
    case SQLITE_NOMEM:
        return LLM_ENOMEM;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return LLM_ECORRUPT;
    default:
        return LLM_ESTORE;
    }
}

static int fail(struct mig *m, int src)
{
    return llm_sqlite_error(m->db, src, m->path, m->what, m->n);
}

static int exec(struct mig *m, const char *sql)
{
    int src;

    if (!sql) {
        snprintf(m->what, m->n, "sqlite %s", m->path);
        return LLM_ENOMEM;
    }
    src = sqlite3_exec(m->db, sql, NULL, NULL, NULL);
    return src == SQLITE_OK ? 0 : fail(m, src);
}

/* Runs a query with one optional text parameter; *found says whether it
 * returned a row, *value gets its first column as an integer. */
static int query(struct mig *m, const char *sql, const char *param, int *found, int *value)
{
    sqlite3_stmt *st;
    int src = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);

    if (src != SQLITE_OK)
        return fail(m, src);
    if (param)
        sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    *found = src == SQLITE_ROW;
    if (*found && value)
        *value = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return src == SQLITE_ROW || src == SQLITE_DONE ? 0 : fail(m, src);
}

static int exec_owned(struct mig *m, char *sql)
{
    int rc = exec(m, sql);
    free(sql);
    return rc;
}

static int add_missing_columns(struct mig *m, struct llm_sqlite_report *rep)
{
    size_t n;
    const struct llm_sql_column *c = llm_sql_columns(&n);
    int rc = 0, found;

    for (size_t i = 0; i < n && !rc; i++) {
        rc = query(m,
                   "SELECT 1 FROM pragma_table_info('" LLM_SQL_TABLE "') "
                   "WHERE name = ?1 COLLATE NOCASE",
                   c[i].name, &found, NULL);
        if (!rc && !found) {
            rc = exec_owned(m, llm_sql_add_column(&c[i], LLM_SQL_SQLITE));
            rep->added++;
        }
    }
    return rc;
}

static int migrate(struct mig *m, struct llm_sqlite_report *rep)
{
    int rc, found, version = 0;
    char sql[160];

    rc = exec(m, LLM_SQL_META_CREATE);
    if (!rc)
        rc = query(m, "SELECT value FROM " LLM_SQL_META " WHERE name = 'schema_version'", NULL,
                   &found, &version);
    if (!rc)
        rc = query(m, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                   LLM_SQL_TABLE, &found, NULL);
    if (rc)
        return rc;
    rep->created = !found;
    rep->from_version = version;
    rep->to_version = version > LLM_SCHEMA_VERSION ? version : LLM_SCHEMA_VERSION;
    rc = exec_owned(m, llm_sql_create_table(LLM_SQL_SQLITE));
    if (!rc && !rep->created)
        rc = add_missing_columns(m, rep);
    for (int i = 0; !rc && llm_sql_indexed[i]; i++)
        rc = exec_owned(m, llm_sql_create_index(llm_sql_indexed[i]));
    if (!rc && version < LLM_SCHEMA_VERSION) {
        snprintf(sql, sizeof(sql),
                 "INSERT OR REPLACE INTO " LLM_SQL_META " VALUES ('schema_version', '%d')",
                 LLM_SCHEMA_VERSION);
        rc = exec(m, sql);
    }
    return rc;
}

int llm_sqlite_open(const char *path, sqlite3 **out, struct llm_sqlite_report *rep, char *what,
                    size_t n)
{
    struct mig m = {NULL, path, what, n};
    struct llm_sqlite_report ignored;
    int src, rc, fd;

    *out = NULL;
    if (!rep)
        rep = &ignored;
    *rep = (struct llm_sqlite_report){0};
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) /* an empty file is a new database to SQLite; other errors are its to report */
        close(fd);
    /* NOMUTEX: the tool uses a connection from one thread; no lock per call */
    src = sqlite3_open_v2(path, &m.db,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = fail(&m, src);
        goto db_close;
    }
    sqlite3_busy_timeout(m.db, BUSY_TIMEOUT_MS);
    rc = exec(&m, "BEGIN IMMEDIATE");
    if (rc)
        goto db_close;
    rc = migrate(&m, rep);
    if (!rc)
        rc = exec(&m, "COMMIT");
    if (rc) {
        sqlite3_exec(m.db, "ROLLBACK", NULL, NULL, NULL); /* what keeps the first error */
        goto db_close;
    }
    *out = m.db;
    return 0;

db_close:
    sqlite3_close(m.db);
    return rc;
}
