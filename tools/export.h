/* The exporters behind `llmops export`: one file each, each a table of
 * callbacks that export.c drives from a single scan of the store.
 * begin() runs once before the first record, row() once per record that
 * passes the filters (in key = time order), end() once after begin()
 * succeeded, told whether the export failed so it can commit or roll back.
 * Whoever fails fills x->what ("write FILE", "record ULID", ...) and returns a
 * negative llm code; the driver prints the one error line. */
#ifndef LLM_EXPORT_H
#define LLM_EXPORT_H

#include "cli.h"
#include "record_json.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>

/* JSON text inside exports, as in the JSON export itself. */
#define LLM_EXPORT_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

struct llm_export {
    const struct llm_export_opts *o;
    FILE *fp;                /* stream exporters: the output */
    const char *out_name;    /* for messages */
    char ulid[LLM_ULID_LEN]; /* the current record's key as a ULID ("" if not one) */
    const void *key;         /* cell exporters: the record's key (ulid is left unset) */
    size_t klen;
    size_t rows; /* rows handed to row() so far */
    void *priv;  /* the exporter's own state */
    char what[4200];
};

struct llm_exporter {
    int stream; /* 1: writes bytes to x->fp (--out FILE is replaced atomically);
                 * 0: opens --out itself */
    int (*begin)(struct llm_export *x);
    int (*row)(struct llm_export *x, json_t *rec); /* the record decoded and priced */
    int (*end)(struct llm_export *x, int failed);
    /* instead of row: the record as JSON text (record_json.h), the bytes
     * json_dumpb makes of what row gets, without decoding the whole record */
    int (*text_row)(struct llm_export *x, const char *text, size_t n);
};

/* Instead of row, for the table formats: the record loaded and priced, its
 * values read one by one with llm_rjson_cell() (the very values row would
 * find in rec), without building the jansson record. */
typedef int (*llm_export_cells_fn)(struct llm_export *x, struct llm_rjson *rj);
int llm_export_csv_cells(struct llm_export *x, struct llm_rjson *rj);
int llm_export_sqlite_cells(struct llm_export *x, struct llm_rjson *rj);

extern const struct llm_exporter llm_exporter_ndjson, llm_exporter_json, llm_exporter_csv,
    llm_exporter_sqlite, llm_exporter_sql, llm_exporter_postgres;
extern const struct llm_exporter llm_exporter_parquet, llm_exporter_otlp_json;

/* Writes to x->fp; on failure sets x->what and returns -errno. */
int llm_export_write(struct llm_export *x, const void *p, size_t n);
int llm_export_puts(struct llm_export *x, const char *s);

#endif
