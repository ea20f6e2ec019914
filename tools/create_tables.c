/* `llmops create-tables --to TARGET`: creates the llm_operations and
 * llmops_meta tables in a database, or brings older ones up to this schema
 * (new columns added, rows kept), and says which it did. Exports and syncs
 * do the same on their own; this is for preparing a database up front (say,
 * by an owner, before hosts ship into it with a role that may only insert)
 * and for migrating one without exporting. The target is parsed in llmops.c:
 * sqlite:PATH (sqlite_db.c) or a postgresql:// URL (pg_schema.c), named in
 * the report without its password. */
#include "cli.h"
#include "err.h"
#include "pg.h"
#include "record.h"
#include "sqlite_db.h"

#include <errno.h>
#include <stdio.h>

static int report(const char *target, int created, int added, int from, int to)
{
    if (created)
        printf("%s: created llm_operations (schema %d)\n", target, to);
    else if (added)
        printf("%s: added %d column%s to llm_operations (schema %d -> %d)\n", target, added,
               added == 1 ? "" : "s", from, to);
    else if (from > LLM_SCHEMA_VERSION)
        printf("%s: llm_operations has a newer schema (%d) than this llmops (%d); "
               "left as it is\n",
               target, from, LLM_SCHEMA_VERSION);
    else
        printf("%s: llm_operations is up to date (schema %d)\n", target, to);
    if (fflush(stdout) || ferror(stdout)) {
        llm_cli_error(-EIO, "write standard output");
        return -EIO;
    }
    return 0;
}

int llm_create_tables_sqlite(const char *path)
{
    struct llm_sqlite_report rep;
    char what[4200], target[4200];
    sqlite3 *db;
    int rc = llm_sqlite_open(path, &db, &rep, what, sizeof(what));

    if (rc) {
        llm_cli_error(rc, "%s", what);
        return rc;
    }
    sqlite3_close(db);
    snprintf(target, sizeof(target), "sqlite:%s", path);
    return report(target, rep.created, rep.added, rep.from_version, rep.to_version);
}

int llm_create_tables_postgres(const char *url)
{
    struct llm_pg_report rep;
    struct llm_pg pg;
    char what[4200];
    int rc = llm_pg_connect(url, &pg, what, sizeof(what));

    if (!rc)
        rc = llm_pg_migrate(&pg, &rep);
    if (rc)
        llm_cli_error(rc, "%s", what);
    else
        rc = report(pg.name, rep.created, rep.added, rep.from_version, rep.to_version);
    llm_pg_close(&pg);
    return rc;
}
