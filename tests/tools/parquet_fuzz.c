/* parquet_fuzz DIR CASES SEED: random tables through tools/parquet.c for
 * parquet_check.mjs to read back with two independent readers (nodejs-polars
 * and DuckDB) and compare value by value. Case i is DIR/i.parquet, written
 * by the writer, and DIR/i.json, the values it was given:
 *   {"columns": [{"name": "c0", "type": "int64"}, ...],
 *    "rows": [[cell, ...], ...]}
 * cells null, or exact text: int64 and timestamp (microseconds) as decimal
 * strings, double as the 16 hex digits of its IEEE bits, string as the hex
 * of its UTF-8 bytes, bool as true/false.
 * Random: column count and types, rows (0 included), the row-group limits
 * (down to one row per group), null density (none, all, some), the order in
 * which a row's columns are set, string lengths (empty to 100 KiB, so
 * multi-byte varints and big pages), code points from 1 to 4 bytes,
 * extreme integers, NaN, infinities, -0.0 and subnormals. It also checks
 * the writer's refusals: a column set twice in a row, a value of the wrong
 * type, a column out of range (LLM_EINVAL, the row unchanged). */
#include "err.h"
#include "parquet.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t below(uint64_t n)
{
    return n ? next() % n : 0;
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "parquet_fuzz: %s: %d\n", what, rc);
    exit(1);
}

static int fwrite_cb(void *arg, const void *p, size_t n)
{
    return fwrite(p, 1, n, arg) == n ? 0 : -5;
}

static const char *type_name[] = {"bool", "int64", "double", "string", "timestamp"};

static int64_t rand_int(void)
{
    static const int64_t edge[] = {0, 1, -1, INT64_MAX, INT64_MIN, INT32_MAX, (int64_t)1 << 53};
    switch (below(4)) {
    case 0:
        return edge[below(sizeof(edge) / sizeof(edge[0]))];
    case 1:
        return (int64_t)below(1000);
    default:
        return (int64_t)next();
    }
}

static double rand_double(void)
{
    static const double edge[] = {0.0, -0.0, 1.0, -1.5, 1e308, -1e-308, 5e-324, 0.1, 2.0};
    uint64_t bits;
    double d;

    switch (below(6)) {
    case 0:
        return edge[below(sizeof(edge) / sizeof(edge[0]))];
    case 1:
        return below(2) ? INFINITY : below(2) ? -INFINITY : NAN;
    case 2:
        bits = next();
        memcpy(&d, &bits, 8);
        return isnan(d) ? 1.25 : d; /* only the canonical NaN: readers may canonicalise */
    default:
        return (double)(int64_t)below(2000000) / 1000.0;
    }
}

/* Random valid UTF-8 of about n bytes into s (room for n + 4). */
static size_t rand_utf8(unsigned char *s, size_t n)
{
    size_t k = 0;

    while (k < n) {
        uint32_t cp;
        switch (below(8)) {
        case 0:
            cp = 0x80 + (uint32_t)below(0x800 - 0x80);
            break;
        case 1:
            cp = 0x800 + (uint32_t)below(0xd800 - 0x800);
            break;
        case 2:
            cp = 0x10000 + (uint32_t)below(0x110000 - 0x10000);
            break;
        case 3:
            cp = (uint32_t)below(0x20); /* controls, NUL included */
            break;
        default:
            cp = 0x20 + (uint32_t)below(0x5f);
        }
        if (cp < 0x80) {
            s[k++] = (unsigned char)cp;
        } else if (cp < 0x800) {
            s[k++] = (unsigned char)(0xc0 | cp >> 6);
            s[k++] = (unsigned char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            s[k++] = (unsigned char)(0xe0 | cp >> 12);
            s[k++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            s[k++] = (unsigned char)(0x80 | (cp & 0x3f));
        } else {
            s[k++] = (unsigned char)(0xf0 | cp >> 18);
            s[k++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
            s[k++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            s[k++] = (unsigned char)(0x80 | (cp & 0x3f));
        }
    }
    return k;
}

static int set_cell(struct llm_pq *q, size_t c, enum llm_pq_type t, FILE *js, unsigned char *sbuf)
{
    int64_t i;
    double d;
    uint64_t bits;
    size_t n;

    switch (t) {
    case LLM_PQ_BOOL:
        i = (int64_t)below(2);
        fprintf(js, "%s", i ? "true" : "false");
        return llm_pq_bool(q, c, (int)i);
    case LLM_PQ_INT64:
        i = rand_int();
        fprintf(js, "\"%" PRId64 "\"", i);
        return llm_pq_int64(q, c, i);
    case LLM_PQ_TIMESTAMP_US: /* 1900..2200, which every reader's range holds */
        i = -2208988800000000LL + (int64_t)below(7258118400000000ULL);
        fprintf(js, "\"%" PRId64 "\"", i);
        return llm_pq_int64(q, c, i);
    case LLM_PQ_DOUBLE:
        d = rand_double();
        memcpy(&bits, &d, 8);
        fprintf(js, "\"%016" PRIx64 "\"", bits);
        return llm_pq_double(q, c, d);
    default:
        n = below(50) ? below(below(2) ? 20 : 300) : below(100000);
        n = rand_utf8(sbuf, n);
        fputc('"', js);
        for (size_t k = 0; k < n; k++)
            fprintf(js, "%02x", sbuf[k]);
        fputc('"', js);
        return llm_pq_string(q, c, sbuf, n);
    }
}

static void refusals(struct llm_pq *q, size_t ncols, const struct llm_pq_column *cols)
{
    /* column 0 was set in this row: setting it again is refused */
    int rc = cols[0].type == LLM_PQ_BOOL     ? llm_pq_bool(q, 0, 1)
             : cols[0].type == LLM_PQ_DOUBLE ? llm_pq_double(q, 0, 1.0)
             : cols[0].type == LLM_PQ_STRING ? llm_pq_string(q, 0, "x", 1)
                                             : llm_pq_int64(q, 0, 1);
    if (rc != LLM_EINVAL)
        die("a column set twice was not refused", rc);
    if ((rc = llm_pq_int64(q, ncols, 1)) != LLM_EINVAL)
        die("a column out of range was not refused", rc);
}

static void one_case(const char *dir, int k)
{
    char path[4096];
    size_t ncols = 1 + below(below(4) ? 12 : 60), nrows;
    struct llm_pq_column *cols = calloc(ncols, sizeof(*cols));
    char(*names)[16] = calloc(ncols, sizeof(*names));
    unsigned *nullpct = calloc(ncols, sizeof(*nullpct));
    size_t *order = calloc(ncols, sizeof(*order));
    unsigned char *sbuf = malloc(100000 + 8);
    struct llm_pq_limits lim = {0};
    struct llm_pq *q;
    FILE *pf, *js;
    int rc;

    if (!cols || !names || !nullpct || !order || !sbuf)
        die("out of memory", 0);
    switch (below(4)) {
    case 0:
        nrows = 0;
        break;
    case 1:
        nrows = 1 + below(5);
        break;
    default:
        nrows = below(below(3) ? 300 : 5000);
    }
    lim.max_rows = below(2) ? 1 + below(below(2) ? 3 : 400) : 0;
    lim.max_bytes = below(3) ? 0 : 1 + below(200000);
    lim.zstd_level = below(3) ? 0 : 1 + (int)below(19);
    snprintf(path, sizeof(path), "%s/%d.json", dir, k);
    js = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/%d.parquet", dir, k);
    pf = fopen(path, "wb");
    if (!js || !pf)
        die("create case files", 0);
    fprintf(js, "{\"columns\": [");
    for (size_t c = 0; c < ncols; c++) {
        snprintf(names[c], sizeof(names[c]), "c%zu", c);
        cols[c].name = names[c];
        cols[c].type = (enum llm_pq_type)below(5);
        nullpct[c] = below(3) == 0 ? 0 : below(2) ? 100 : (unsigned)below(101);
        order[c] = c;
        fprintf(js, "%s{\"name\": \"%s\", \"type\": \"%s\"}", c ? ", " : "", names[c],
                type_name[cols[c].type]);
    }
    fprintf(js, "],\n\"rows\": [");
    rc = llm_pq_open(cols, ncols, &lim, fwrite_cb, pf, &q);
    if (rc)
        die("open", rc);
    for (size_t r = 0; r < nrows; r++) {
        char **cell = calloc(ncols, sizeof(*cell));
        size_t *clen = calloc(ncols, sizeof(*clen));
        for (size_t c = ncols; c > 1; c--) { /* a new order of setting each row */
            size_t j = below(c), t = order[c - 1];
            order[c - 1] = order[j];
            order[j] = t;
        }
        for (size_t i = 0; i < ncols; i++) {
            size_t c = order[i];
            FILE *m = open_memstream(&cell[c], &clen[c]);
            if (below(100) < nullpct[c])
                fputs("null", m);
            else if ((rc = set_cell(q, c, cols[c].type, m, sbuf)))
                die("set", rc);
            fclose(m);
        }
        if (strcmp(cell[0], "null"))
            refusals(q, ncols, cols);
        else if ((rc = cols[0].type == LLM_PQ_DOUBLE ? llm_pq_bool(q, 0, 1)
                                                     : llm_pq_double(q, 0, 1.0)) != LLM_EINVAL)
            die("a value of the wrong type was not refused", rc); /* and col 0 stays null */
        fprintf(js, "%s\n[", r ? "," : "");
        for (size_t c = 0; c < ncols; c++) {
            fprintf(js, "%s%s", c ? "," : "", cell[c]);
            free(cell[c]);
        }
        fputc(']', js);
        free(cell);
        free(clen);
        if ((rc = llm_pq_row_end(q)))
            die("row end", rc);
    }
    fprintf(js, "]}\n");
    if ((rc = llm_pq_finish(q, "parquet_fuzz", NULL, 0)))
        die("finish", rc);
    if (llm_pq_rows(q) != nrows || llm_pq_bytes(q) != (uint64_t)ftell(pf))
        die("rows or bytes miscounted", 0);
    llm_pq_free(q);
    if (fclose(pf) || fclose(js))
        die("write case files", 0);
    free(cols);
    free(names);
    free(nullpct);
    free(order);
    free(sbuf);
}

int main(int argc, char **argv)
{
    int cases;

    if (argc != 4) {
        fprintf(stderr, "usage: parquet_fuzz DIR CASES SEED\n");
        return 2;
    }
    cases = atoi(argv[2]);
    rng = strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ULL | 1;
    for (int k = 0; k < cases; k++)
        one_case(argv[1], k);
    return 0;
}
