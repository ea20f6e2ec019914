/* Bringing a PostgreSQL database to this build's schema: the tables of
 * schema_sql.h (TIMESTAMPTZ, JSONB, BIGINT, DOUBLE PRECISION, BOOLEAN),
 * ALTER TABLE ADD COLUMN IF NOT EXISTS for the columns an older llmops did
 * not create, the indexes, and the version in llmops_meta.
 * One transaction under a transaction-scoped advisory lock, so hosts that
 * sync into one database at the same moment migrate one after the other
 * (concurrent CREATE TABLE IF NOT EXISTS can otherwise fail on the catalog).
 * The catalogs are read first and DDL runs only for what is missing: an
 * up-to-date database takes no table lock, and a role that may only insert
 * can still ship into tables an owner created. Names resolve through the
 * search_path, as the inserts do. A newer schema version is left as it is. */
#include "err.h"
#include "pg.h"
#include "record.h"
#include "schema_sql.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_KEY "119212948287603" /* any constant: "llmops" in ASCII */

/* Runs a query returning rows; *out is the result to PQclear. */
static int query(struct llm_pg *pg, const char *sql, PGresult **out)
{
    *out = PQexec(pg->conn, sql);
    if (PQresultStatus(*out) == PGRES_TUPLES_OK)
        return 0;
    llm_pg_error(pg, *out);
    PQclear(*out);
    *out = NULL;
    return LLM_ESTORE;
}

/* Does a row of res have name in its first column? */
static int has(const PGresult *res, const char *name)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (!strcmp(PQgetvalue(res, i, 0), name))
            return 1;
    return 0;
}

static int exec_owned(struct llm_pg *pg, char *sql)
{
    int rc = llm_pg_exec(pg, sql);

    free(sql);
    return rc;
}

static int add_missing_columns(struct llm_pg *pg, struct llm_pg_report *rep)
{
    size_t n;
    const struct llm_sql_column *c = llm_sql_columns(&n);
    PGresult *res;
    int rc = query(pg,
                   "SELECT attname FROM pg_attribute WHERE attrelid = '" LLM_SQL_TABLE
                   "'::regclass AND attnum > 0 AND NOT attisdropped",
                   &res);

    for (size_t i = 0; i < n && !rc; i++) {
        if (has(res, c[i].name))
            continue;
        rc = exec_owned(pg, llm_sql_add_column(&c[i], LLM_SQL_POSTGRES));
        rep->added++;
    }
    PQclear(res);
    return rc;
}

static int add_missing_indexes(struct llm_pg *pg)
{
    char name[128];
    PGresult *res;
    int rc = query(pg,
                   "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   "WHERE i.indrelid = '" LLM_SQL_TABLE "'::regclass",
                   &res);

    for (int i = 0; !rc && llm_sql_indexed[i]; i++) {
        snprintf(name, sizeof(name), LLM_SQL_TABLE "_%s", llm_sql_indexed[i]);
        if (!has(res, name))
            rc = exec_owned(pg, llm_sql_create_index(llm_sql_indexed[i]));
    }
    PQclear(res);
    return rc;
}

/* The tables that exist, and the recorded version (0: none). */
static int look(struct llm_pg *pg, int *has_meta, int *has_table, int *version)
{
    PGresult *res;
    int rc = query(pg,
                   "SELECT to_regclass('" LLM_SQL_META "') IS NOT NULL, to_regclass('" LLM_SQL_TABLE
                   "') IS NOT NULL",
                   &res);

    if (rc)
        return rc;
    *has_meta = !strcmp(PQgetvalue(res, 0, 0), "t");
    *has_table = !strcmp(PQgetvalue(res, 0, 1), "t");
    PQclear(res);
    *version = 0;
    if (!*has_meta)
        return 0;
    rc = query(pg, "SELECT value FROM " LLM_SQL_META " WHERE name = 'schema_version'", &res);
    if (!rc && PQntuples(res) == 1)
        *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

static int migrate(struct llm_pg *pg, struct llm_pg_report *rep)
{
    int rc, has_meta, has_table, version;
    char sql[200];

    rc = llm_pg_exec(pg, "SELECT pg_advisory_xact_lock(" LOCK_KEY ")");
    if (!rc)
        rc = look(pg, &has_meta, &has_table, &version);
    if (rc)
        return rc;
    rep->created = !has_table;
    rep->from_version = version;
    rep->to_version = version > LLM_SCHEMA_VERSION ? version : LLM_SCHEMA_VERSION;
    if (!has_meta)
        rc = llm_pg_exec(pg, LLM_SQL_META_CREATE);
    if (!rc && !has_table)
        rc = exec_owned(pg, llm_sql_create_table(LLM_SQL_POSTGRES));
    else if (!rc)
        rc = add_missing_columns(pg, rep);
    if (!rc)
        rc = add_missing_indexes(pg);
    if (!rc && version < LLM_SCHEMA_VERSION) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO " LLM_SQL_META " VALUES ('schema_version', '%d') "
                 "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                 LLM_SCHEMA_VERSION);
        rc = llm_pg_exec(pg, sql);
    }
    return rc;
}

int llm_pg_migrate(struct llm_pg *pg, struct llm_pg_report *rep)
{
    struct llm_pg_report ignored;
    int rc;

    if (!rep)
        rep = &ignored;
    *rep = (struct llm_pg_report){0};
    rc = llm_pg_exec(pg, "BEGIN");
    if (rc)
        return rc;
    rc = migrate(pg, rep);
    if (!rc)
        rc = llm_pg_exec(pg, "COMMIT");
    if (rc)
        PQclear(PQexec(pg->conn, "ROLLBACK")); /* what keeps the first error */
    return rc;
}
