/* `llmops stats`: one row per (provider, model) with calls, errors, token
 * sums and latency percentiles, as an aligned text table.
 * Errors are calls whose status is anything but "ok" (a missing status
 * included: a call that never got an answer did not succeed). Token sums
 * add the counts that are known; percentiles are nearest-rank over the calls
 * whose latency_ms is known, "-" when there are none. Groups are few, so a
 * linear search with a last-hit shortcut beats a hash table here.
 * The filters (filter.h) pick the calls that count. */
#include "cli.h"
#include "err.h"
#include "filter.h"
#include "record.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct group {
    char *provider, *model; /* "-" when unknown */
    uint64_t calls, errors;
    int64_t in_tokens, out_tokens;
    double *lat;
    size_t nlat, alat;
};

struct stats_ctx {
    struct group *g;
    size_t n, alloc, last;
    char what[4200]; /* what failed: the database, or the record */
};

static const char *str_or_dash(json_t *obj, const char *field)
{
    json_t *v = json_object_get(obj, field);
    return json_is_string(v) ? json_string_value(v) : "-";
}

static int64_t int_or_zero(json_t *obj, const char *field)
{
    json_t *v = json_object_get(obj, field);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static struct group *find_group(struct stats_ctx *c, const char *provider, const char *model)
{
    struct group *g;

    if (c->last < c->n && !strcmp(c->g[c->last].provider, provider) &&
        !strcmp(c->g[c->last].model, model))
        return &c->g[c->last];
    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->g[i].provider, provider) && !strcmp(c->g[i].model, model)) {
            c->last = i;
            return &c->g[i];
        }
    }
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 16;
        struct group *ng = realloc(c->g, na * sizeof(*ng));
        if (!ng)
            return NULL;
        c->g = ng;
        c->alloc = na;
    }
    g = &c->g[c->n];
    memset(g, 0, sizeof(*g));
    g->provider = strdup(provider);
    g->model = strdup(model);
    if (!g->provider || !g->model) {
        free(g->provider);
        free(g->model);
        return NULL;
    }
    c->last = c->n++;
    return g;
}

static int add_latency(struct group *g, double ms)
{
    if (g->nlat == g->alat) {
        size_t na = g->alat ? g->alat * 2 : 64;
        double *nl = realloc(g->lat, na * sizeof(*nl));
        if (!nl)
            return LLM_ENOMEM;
        g->lat = nl;
        g->alat = na;
    }
    g->lat[g->nlat++] = ms;
    return 0;
}

static int add_record(void *arg, const void *key, size_t klen, json_t *obj)
{
    struct stats_ctx *c = arg;
    struct group *g;
    json_t *lat;

    g = find_group(c, str_or_dash(obj, "provider"), str_or_dash(obj, "model"));
    if (!g)
        return LLM_ENOMEM;
    g->calls++;
    if (strcmp(str_or_dash(obj, "status"), "ok"))
        g->errors++;
    g->in_tokens += int_or_zero(obj, "input_tokens");
    g->out_tokens += int_or_zero(obj, "output_tokens");
    lat = json_object_get(obj, "latency_ms");
    if (json_is_number(lat))
        return add_latency(g, json_number_value(lat));
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    int d = strcmp(x->provider, y->provider);
    return d ? d : strcmp(x->model, y->model);
}

/* Nearest rank: the smallest value with at least pct% of values <= it.
 * Integer arithmetic, so 95% of 20 is rank 19, not a rounding accident. */
static void percentile(const struct group *g, unsigned pct, char *out, size_t n)
{
    size_t rank;

    if (!g->nlat) {
        snprintf(out, n, "-");
        return;
    }
    rank = (pct * g->nlat + 99) / 100;
    snprintf(out, n, "%.1f", g->lat[rank ? rank - 1 : 0]);
}

enum { COL_PROVIDER, COL_MODEL, COL_CALLS, COL_ERRORS, COL_IN, COL_OUT, COL_P50, COL_P95, NCOL };

static const char *const headers[NCOL] = {
    "PROVIDER", "MODEL", "CALLS", "ERRORS", "INPUT_TOKENS", "OUTPUT_TOKENS", "P50_MS", "P95_MS",
};

static void row_cells(const struct group *g, char cells[NCOL][32])
{
    snprintf(cells[COL_CALLS], 32, "%" PRIu64, g->calls);
    snprintf(cells[COL_ERRORS], 32, "%" PRIu64, g->errors);
    snprintf(cells[COL_IN], 32, "%" PRId64, g->in_tokens);
    snprintf(cells[COL_OUT], 32, "%" PRId64, g->out_tokens);
    percentile(g, 50, cells[COL_P50], 32);
    percentile(g, 95, cells[COL_P95], 32);
}

static void print_row(const char *const cell[NCOL], const int width[NCOL])
{
    for (int i = 0; i < NCOL; i++) {
        const char *sep = i + 1 < NCOL ? "  " : "\n";
        if (i <= COL_MODEL) /* text left-aligned, numbers right-aligned */
            printf("%-*s%s", width[i], cell[i], sep);
        else
            printf("%*s%s", width[i], cell[i], sep);
    }
}

static int print_table(struct stats_ctx *c)
{
    int width[NCOL];
    char cells[NCOL][32];
    const char *cell[NCOL];

    for (int i = 0; i < NCOL; i++)
        width[i] = (int)strlen(headers[i]);
    if (c->n) /* qsort's array must not be NULL, even when empty */
        qsort(c->g, c->n, sizeof(*c->g), cmp_group);
    for (size_t r = 0; r < c->n; r++) {
        struct group *g = &c->g[r];
        if (g->nlat)
            qsort(g->lat, g->nlat, sizeof(*g->lat), cmp_double);
        row_cells(g, cells);
        cells[COL_PROVIDER][0] = cells[COL_MODEL][0] = '\0';
        for (int i = 0; i < NCOL; i++) {
            int len = (int)strlen(i == COL_PROVIDER ? g->provider
                                  : i == COL_MODEL  ? g->model
                                                    : cells[i]);
            if (len > width[i])
                width[i] = len;
        }
    }
    print_row(headers, width);
    for (size_t r = 0; r < c->n; r++) {
        row_cells(&c->g[r], cells);
        for (int i = 0; i < NCOL; i++)
            cell[i] = cells[i];
        cell[COL_PROVIDER] = c->g[r].provider;
        cell[COL_MODEL] = c->g[r].model;
        print_row(cell, width);
    }
    if (fflush(stdout) || ferror(stdout))
        return -EIO;
    return 0;
}

int llm_stats_run(const char *db, const struct llm_filter *filter)
{
    struct llm_store *s;
    struct stats_ctx c = {0};
    int rc = llm_cli_open(db, &s);

    if (rc)
        return rc;
    snprintf(c.what, sizeof(c.what), "read database %s", db);
    rc = llm_filter_scan(s, filter, add_record, &c, c.what, sizeof(c.what));
    if (rc) {
        llm_cli_error(rc, "%s", c.what);
        goto groups_free;
    }
    rc = print_table(&c);
    if (rc)
        llm_cli_error(rc, "write standard output");
groups_free:
    for (size_t i = 0; i < c.n; i++) {
        free(c.g[i].provider);
        free(c.g[i].model);
        free(c.g[i].lat);
    }
    free(c.g);
    llm_store_close(s);
    return rc;
}
