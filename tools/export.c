/* `llmops export`: the records that pass the filters, in key (= time) order,
 * in one of several formats. This file is the driver: it opens the store and
 * the output, runs one filtered scan and hands each record, decoded by
 * llm_record_to_json() (every schema field, in schema order, null where
 * unknown) and priced, to the chosen exporter (export_*.c). The JSON
 * exporters take the record's JSON text instead, written from its msgpack
 * by record_json.c (only the fields filters and price read are decoded), and
 * the table exporters (CSV, SQLite) its values read from the msgpack one by
 * one (llm_rjson_cell): the same values, without the jansson tree.
 * Records stream from one read transaction, so the export is one consistent
 * snapshot even while writers keep adding, and only one record is in memory.
 * A named output file of a stream format is written under a temporary name
 * and renamed at the end: a failed export never leaves a file that looks
 * complete. (The SQLite exporter has transactions for that instead.) */
#include "export.h"
#include "cost.h"
#include "err.h"
#include "filter.h"
#include "record_json.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct out {
    FILE *fp;
    const char *name; /* for messages */
    char *tmp;        /* the temporary file to rename over name, or NULL */
};

static int write_errno(void)
{
    return errno ? -errno : -EIO;
}

int llm_export_write(struct llm_export *x, const void *p, size_t n)
{
    errno = 0;
    if (n && fwrite(p, 1, n, x->fp) != n) {
        snprintf(x->what, sizeof(x->what), "write %s", x->out_name);
        return write_errno();
    }
    return 0;
}

int llm_export_puts(struct llm_export *x, const char *s)
{
    return llm_export_write(x, s, strlen(s));
}

static int out_open(const char *path, struct out *o)
{
    struct stat st;
    int fd, rc;

    memset(o, 0, sizeof(*o));
    if (!path || !strcmp(path, "-")) {
        o->fp = stdout;
        o->name = "standard output";
        return 0;
    }
    o->name = path;
    if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
        /* a device or a pipe: nothing to rename, write it in place */
        o->fp = fopen(path, "w");
        return o->fp ? 0 : -errno;
    }
    o->tmp = malloc(strlen(path) + sizeof(".XXXXXX"));
    if (!o->tmp)
        return LLM_ENOMEM;
    sprintf(o->tmp, "%s.XXXXXX", path);
    fd = mkstemp(o->tmp); /* 0600 is right: exports carry prompts and responses */
    if (fd < 0) {
        rc = -errno;
        goto tmp_free;
    }
    o->fp = fdopen(fd, "w");
    if (!o->fp) {
        rc = -errno;
        goto fd_close;
    }
    return 0;

fd_close:
    close(fd);
    unlink(o->tmp);
tmp_free:
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

/* Flushes and closes the output; renames it into place only if keep. */
static int out_close(struct out *o, int keep)
{
    int rc = 0;

    errno = 0;
    if (o->fp == stdout) {
        if (fflush(stdout) || ferror(stdout))
            rc = write_errno();
        return rc;
    }
    if (ferror(o->fp))
        rc = -EIO;
    if (fclose(o->fp) && !rc)
        rc = write_errno();
    if (o->tmp) {
        if (!rc && keep && rename(o->tmp, o->name))
            rc = -errno;
        if (rc || !keep)
            unlink(o->tmp);
        free(o->tmp);
    }
    return rc;
}

static const struct llm_exporter *exporter(enum llm_export_format f)
{
    switch (f) {
    case LLM_EXPORT_JSON:
        return &llm_exporter_json;
    case LLM_EXPORT_CSV:
        return &llm_exporter_csv;
    case LLM_EXPORT_SQLITE:
        return &llm_exporter_sqlite;
    case LLM_EXPORT_SQL:
        return &llm_exporter_sql;
    case LLM_EXPORT_POSTGRES:
        return &llm_exporter_postgres;
    case LLM_EXPORT_PARQUET:
        return &llm_exporter_parquet;
    case LLM_EXPORT_OTLP_JSON:
        return &llm_exporter_otlp_json;
    default:
        return &llm_exporter_ndjson;
    }
}

/* LLMOPS_DEBUG_JANSSON=1 (as in record_json.c) keeps every format on the
 * jansson row path, so that the tests can compare the two byte for byte. */
static llm_export_cells_fn cells_row(enum llm_export_format f)
{
    static int forced = -1;

    if (forced < 0) {
        const char *e = getenv("LLMOPS_DEBUG_JANSSON");
        forced = e && !strcmp(e, "1");
    }
    if (forced)
        return NULL;
    switch (f) {
    case LLM_EXPORT_CSV:
        return llm_export_csv_cells;
    case LLM_EXPORT_SQLITE:
        return llm_export_sqlite_cells;
    default:
        return NULL;
    }
}

static int put_row(void *arg, const void *key, size_t klen, json_t *rec)
{
    struct llm_export *x = arg;
    const struct llm_exporter *e = exporter(x->o->format);
    int rc;

    if (klen == 16)
        llm_ulid_format(key, x->ulid);
    else
        x->ulid[0] = '\0';
    llm_cost_fill(rec); /* priced now, from the current table: see cost.c */
    rc = e->row(x, rec);
    x->rows++;
    return rc;
}

static int put_text(void *arg, const void *key, size_t klen, struct llm_rjson *rj)
{
    struct llm_export *x = arg;
    const struct llm_exporter *e = exporter(x->o->format);
    const char *text;
    size_t n;
    int rc;

    /* x->ulid stays unset: the text exporters do not use it */
    llm_cost_fill(rj->rec); /* as put_row; the text carries this cost_usd */
    rc = llm_rjson_text(rj, &text, &n);
    if (rc)
        llm_cli_key_name(key, klen, x->what, sizeof(x->what));
    else
        rc = e->text_row(x, text, n);
    x->rows++;
    return rc;
}

static int put_cells(void *arg, const void *key, size_t klen, struct llm_rjson *rj)
{
    struct llm_export *x = arg;
    int rc;

    x->key = key; /* x->ulid is made only where a record lacks its id */
    x->klen = klen;
    llm_cost_fill(rj->rec); /* as put_row */
    rc = cells_row(x->o->format)(x, rj);
    x->rows++;
    return rc;
}

static int scan_text(struct llm_export *x, struct llm_store *s)
{
    struct llm_rjson rj;
    int rc;

    llm_rjson_init(&rj);
    llm_cost_fields(rj.want);
    rc = llm_filter_scan_text(s, x->o->filter, &rj, cells_row(x->o->format) ? put_cells : put_text,
                              x, x->what, sizeof(x->what));
    llm_rjson_free(&rj);
    return rc;
}

static int run(struct llm_export *x, struct llm_store *s, const struct llm_exporter *e)
{
    int rc = e->begin(x), end_rc;

    if (rc)
        return rc;
    snprintf(x->what, sizeof(x->what), "read database %s", x->o->db);
    if (e->text_row || cells_row(x->o->format))
        rc = scan_text(x, s);
    else
        rc = llm_filter_scan(s, x->o->filter, put_row, x, x->what, sizeof(x->what));
    end_rc = e->end(x, rc != 0); /* after a failure it keeps x->what as it is */
    return rc ? rc : end_rc;
}

int llm_export_run(const struct llm_export_opts *o)
{
    const struct llm_exporter *e = exporter(o->format);
    struct llm_store *s;
    struct out out = {.fp = NULL};
    struct llm_export *x;
    int rc, close_rc;

    x = calloc(1, sizeof(*x));
    if (!x) {
        llm_cli_error(LLM_ENOMEM, "export");
        return LLM_ENOMEM;
    }
    x->o = o;
    rc = llm_cli_open(o->db, &s);
    if (rc)
        goto export_free;
    if (e->stream) {
        rc = out_open(o->out, &out);
        if (rc) {
            llm_cli_error(rc, "create %s", o->out);
            goto store_close;
        }
        x->fp = out.fp;
        x->out_name = out.name;
    } else {
        x->out_name = o->out;
    }
    rc = run(x, s, e);
    if (rc)
        llm_cli_error(rc, "%s", x->what);
    if (e->stream) {
        close_rc = out_close(&out, rc == 0);
        if (!rc && close_rc) {
            rc = close_rc;
            llm_cli_error(rc, "write %s", out.name);
        }
    }
store_close:
    llm_store_close(s);
export_free:
    free(x);
    return rc;
}
