/* The PostgreSQL exporter: `--format postgres --to postgresql://...` loads
 * the records straight into llm_operations (created or migrated on the way
 * in) through libpq. The whole export is one batch of pg_copy.c, so one
 * transaction: a failed export adds nothing, and exporting again adds only
 * what is new (ON CONFLICT (operation_id) DO NOTHING). It never touches a
 * sync cursor: only `llmops sync` moves those. */
#include "err.h"
#include "export.h"
#include "pg.h"

#include <stdlib.h>

static int pg_begin(struct llm_export *x)
{
    struct llm_pg *pg = calloc(1, sizeof(*pg));
    int rc;

    if (!pg) {
        snprintf(x->what, sizeof(x->what), "export");
        return LLM_ENOMEM;
    }
    rc = llm_pg_connect(x->o->to, pg, x->what, sizeof(x->what));
    if (!rc)
        rc = llm_pg_migrate(pg, NULL);
    if (rc) {
        llm_pg_close(pg);
        free(pg);
        return rc;
    }
    x->priv = pg;
    return 0;
}

static int pg_row(struct llm_export *x, json_t *rec)
{
    return llm_pg_batch_row(x->priv, rec, x->ulid);
}

static int pg_end(struct llm_export *x, int failed)
{
    struct llm_pg *pg = x->priv;
    long long inserted;
    int rc = 0;

    if (failed)
        llm_pg_batch_abort(pg);
    else
        rc = llm_pg_batch_commit(pg, &inserted);
    llm_pg_close(pg);
    free(pg);
    x->priv = NULL;
    return rc;
}

const struct llm_exporter llm_exporter_postgres = {0, pg_begin, pg_row, pg_end, NULL};
