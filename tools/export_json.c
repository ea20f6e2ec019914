/* The JSON exporters: NDJSON (one object per line) and JSON (one array).
 * Each object is the record as llm_record_to_json() decoded it, so it has
 * every schema field in schema order, null where unknown, and any field a
 * newer writer added after them. Reals print with 15 significant digits:
 * what a double holds exactly, no 44.020490000000002. */
#include "export.h"

#include <errno.h>
#include <stdlib.h>

/* Each object is serialised into one buffer and written with one fwrite:
 * json_dumpf would call fwrite for every token, which dominated exports of
 * millions of records. The buffer grows to the largest record and stays. */
static int put_object(struct llm_export *x, json_t *rec)
{
    static char *buf;
    static size_t cap;
    size_t n = json_dumpb(rec, buf, cap, LLM_EXPORT_JSON_FLAGS);

    if (n > cap) {
        size_t want = n + n / 2 + 4096;
        char *p = realloc(buf, want);
        if (!p)
            return -ENOMEM;
        buf = p;
        cap = want;
        n = json_dumpb(rec, buf, cap, LLM_EXPORT_JSON_FLAGS);
    }
    errno = 0;
    if (!n || fwrite(buf, 1, n, x->fp) != n) {
        snprintf(x->what, sizeof(x->what), "write %s", x->out_name);
        return errno ? -errno : -EIO;
    }
    return 0;
}

static int nothing(struct llm_export *x)
{
    return 0;
}

static int ndjson_row(struct llm_export *x, json_t *rec)
{
    int rc = put_object(x, rec);
    return rc ? rc : llm_export_puts(x, "\n");
}

static int ndjson_end(struct llm_export *x, int failed)
{
    return 0;
}

static int json_begin(struct llm_export *x)
{
    return llm_export_puts(x, "[");
}

static int json_row(struct llm_export *x, json_t *rec)
{
    int rc = llm_export_puts(x, x->rows ? ",\n" : "\n");
    return rc ? rc : put_object(x, rec);
}

static int json_end(struct llm_export *x, int failed)
{
    return failed ? 0 : llm_export_puts(x, x->rows ? "\n]\n" : "]\n");
}

const struct llm_exporter llm_exporter_ndjson = {1, nothing, ndjson_row, ndjson_end};
const struct llm_exporter llm_exporter_json = {1, json_begin, json_row, json_end};
