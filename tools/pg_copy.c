/* Loading records into PostgreSQL in batches. A batch is one transaction:
 * rows stream through COPY (text format) into llmops_stage, a temporary
 * table with exactly our columns and the destination's types, and then one
 * INSERT ... SELECT ... ON CONFLICT (operation_id) DO NOTHING moves them
 * into llm_operations. COPY is what makes it fast; the staging table is what
 * makes it idempotent (COPY itself has no ON CONFLICT). ON COMMIT DELETE
 * ROWS empties the staging table at each commit, and a failed batch rolls
 * back its rows with it, so the destination gets all of a batch or none.
 * Values come from schema_sql.c: times that do not parse are NULL and JSON
 * that does not parse is a JSON string, so no row fails a cast. In COPY
 * text, backslash, tab, newline and CR are escaped and NUL bytes (which
 * PostgreSQL text cannot hold) are left out. */
#include "cli.h"
#include "err.h"
#include "pg.h"
#include "schema_sql.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE "llmops_stage"

static int reserve(struct llm_pg *pg, size_t len, size_t more)
{
    size_t cap = pg->cap ? pg->cap : 4096;
    char *p;

    if (len + more <= pg->cap)
        return 0;
    while (cap < len + more)
        cap *= 2;
    p = realloc(pg->row, cap);
    if (!p)
        return LLM_ENOMEM;
    pg->row = p;
    pg->cap = cap;
    return 0;
}

/* "prefix col, col, ... suffix", malloc'd. */
static char *with_columns(const char *prefix, const char *suffix)
{
    size_t n, len;
    const struct llm_sql_column *c = llm_sql_columns(&n);
    char *p = NULL;
    FILE *fp = open_memstream(&p, &len);
    int bad;

    if (!fp)
        return NULL;
    fputs(prefix, fp);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%s%s", i ? ", " : "", c[i].name);
    fputs(suffix, fp);
    bad = ferror(fp);
    if (fclose(fp) || bad) {
        free(p);
        return NULL;
    }
    return p;
}

/* Runs sql (malloc'd, freed here); *res gets the result to PQclear. */
static int run(struct llm_pg *pg, char *sql, ExecStatusType want, PGresult **res)
{
    int rc = 0;

    if (!sql) {
        *res = NULL;
        snprintf(pg->what, pg->n, "%s", pg->name);
        return LLM_ENOMEM;
    }
    *res = PQexec(pg->conn, sql);
    free(sql);
    if (PQresultStatus(*res) != want)
        rc = llm_pg_error(pg, *res);
    return rc;
}

static int batch_begin(struct llm_pg *pg)
{
    PGresult *res;
    int rc = llm_pg_exec(pg, "BEGIN");

    if (rc)
        return rc;
    pg->in_batch = 1;
    pg->rows = 0;
    rc = run(pg,
             with_columns("CREATE TEMP TABLE IF NOT EXISTS " STAGE
                          " ON COMMIT DELETE ROWS AS SELECT ",
                          " FROM " LLM_SQL_TABLE " WITH NO DATA"),
             PGRES_COMMAND_OK, &res);
    PQclear(res);
    if (rc)
        return rc;
    rc = run(pg, strdup("COPY " STAGE " FROM STDIN"), PGRES_COPY_IN, &res);
    pg->in_copy = !rc;
    PQclear(res);
    return rc;
}

/* Appends v as a COPY text field at pg->row + *len. */
static int encode(struct llm_pg *pg, size_t *len, const struct llm_sql_value *v)
{
    char num[64];
    const char *s = num;
    size_t n;

    switch (v->type) {
    case LLM_SQL_INT:
        snprintf(num, sizeof(num), "%" PRId64, v->i);
        break;
    case LLM_SQL_REAL:
        llm_cli_real(v->d, num, sizeof(num));
        break;
    case LLM_SQL_BOOL:
        s = v->i ? "t" : "f";
        break;
    case LLM_SQL_TEXT:
        if (reserve(pg, *len, 2 * v->n))
            return LLM_ENOMEM;
        for (size_t i = 0; i < v->n; i++) {
            char c = v->s[i], *o = pg->row + *len;
            if (!c)
                continue;
            if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
                o[0] = '\\';
                o[1] = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
                *len += 2;
            } else {
                o[0] = c;
                *len += 1;
            }
        }
        return 0;
    default:
        s = "\\N";
    }
    n = strlen(s);
    if (reserve(pg, *len, n))
        return LLM_ENOMEM;
    memcpy(pg->row + *len, s, n);
    *len += n;
    return 0;
}

int llm_pg_batch_row(struct llm_pg *pg, json_t *rec, const char *ulid)
{
    size_t n, len = 0;
    const struct llm_sql_column *c = llm_sql_columns(&n);
    struct llm_sql_value v;
    int rc = 0;

    if (!pg->in_batch && (rc = batch_begin(pg)))
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = llm_sql_value(&c[i], rec, ulid, LLM_SQL_POSTGRES, &v);
        if (!rc)
            rc = reserve(pg, len, 2);
        if (!rc && i)
            pg->row[len++] = '\t';
        if (!rc)
            rc = encode(pg, &len, &v);
        llm_sql_value_free(&v);
    }
    if (!rc)
        rc = reserve(pg, len, 1);
    if (rc) {
        snprintf(pg->what, pg->n, "%s", pg->name);
        return rc;
    }
    pg->row[len++] = '\n';
    if (PQputCopyData(pg->conn, pg->row, (int)len) != 1)
        return llm_pg_error(pg, NULL);
    pg->rows++;
    return 0;
}

/* Ends the COPY; its result says whether every row went in. A failure
 * message abandons it instead, and then nothing is reported. */
static int copy_end(struct llm_pg *pg, const char *failure)
{
    PGresult *res;
    int rc = 0;

    pg->in_copy = 0;
    if (PQputCopyEnd(pg->conn, failure) != 1)
        return failure ? LLM_ESTORE : llm_pg_error(pg, NULL);
    while ((res = PQgetResult(pg->conn))) {
        if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = failure ? LLM_ESTORE : llm_pg_error(pg, res);
        PQclear(res);
    }
    return rc;
}

int llm_pg_batch_commit(struct llm_pg *pg, long long *inserted)
{
    PGresult *res;
    int rc;

    *inserted = 0;
    if (!pg->in_batch)
        return 0;
    rc = copy_end(pg, NULL);
    if (rc)
        goto batch_abort;
    rc = run(pg,
             with_columns("INSERT INTO " LLM_SQL_TABLE " (",
                          ") SELECT * FROM " STAGE " ON CONFLICT (operation_id) DO NOTHING"),
             PGRES_COMMAND_OK, &res);
    if (!rc)
        *inserted = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    if (rc)
        goto batch_abort;
    rc = run(pg, strdup("COMMIT"), PGRES_COMMAND_OK, &res);
    if (!rc && strcmp(PQcmdStatus(res), "COMMIT")) /* a failed transaction "commits" as ROLLBACK */
        rc = llm_pg_error(pg, res);
    PQclear(res);
    if (rc)
        goto batch_abort;
    pg->in_batch = 0;
    pg->rows = 0;
    return 0;

batch_abort:
    *inserted = 0;
    llm_pg_batch_abort(pg);
    return rc;
}

void llm_pg_batch_abort(struct llm_pg *pg)
{
    if (pg->in_copy)
        copy_end(pg, "llmops: the load was abandoned");
    if (pg->in_batch && PQstatus(pg->conn) == CONNECTION_OK)
        PQclear(PQexec(pg->conn, "ROLLBACK"));
    pg->in_batch = 0;
    pg->rows = 0;
}
