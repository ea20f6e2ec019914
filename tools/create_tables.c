/* `llmops create-tables --to TARGET`: creates the llm_operations and
 * llmops_meta tables in a database, or brings older ones up to this schema
 * (new columns added, rows kept), and says which it did. Exports into SQLite
 * do the same on their own; this is for preparing a database up front and
 * for migrating one without exporting. The target is parsed in llmops.c;
 * postgresql:// will land here too once the tool links libpq. */
#include "cli.h"
#include "err.h"
#include "record.h"
#include "sqlite_db.h"

#include <errno.h>
#include <stdio.h>

int llm_create_tables_sqlite(const char *path)
{
    struct llm_sqlite_report rep;
    char what[4200];
    sqlite3 *db;
    int rc = llm_sqlite_open(path, &db, &rep, what, sizeof(what));

    if (rc) {
        llm_cli_error(rc, "%s", what);
        return rc;
    }
    sqlite3_close(db);
    if (rep.created)
        printf("sqlite:%s: created llm_operations (schema %d)\n", path, rep.to_version);
    else if (rep.added)
        printf("sqlite:%s: added %d column%s to llm_operations (schema %d -> %d)\n", path,
               rep.added, rep.added == 1 ? "" : "s", rep.from_version, rep.to_version);
    else if (rep.from_version > LLM_SCHEMA_VERSION)
        printf("sqlite:%s: llm_operations has a newer schema (%d) than this llmops (%d); "
               "left as it is\n",
               path, rep.from_version, LLM_SCHEMA_VERSION);
    else
        printf("sqlite:%s: llm_operations is up to date (schema %d)\n", path, rep.to_version);
    if (fflush(stdout) || ferror(stdout)) {
        llm_cli_error(-EIO, "write standard output");
        return -EIO;
    }
    return 0;
}
