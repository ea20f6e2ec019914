/* Output of `llmops stats`: the same rows as an aligned text table (for
 * people: rounded, '-' for unknown, the unpriced models named underneath),
 * CSV or JSON (for programs: full precision, empty/null for unknown, an
 * unpriced_calls column). Groups sort by their key values as displayed, so
 * the order is the same in every format. */
#include "stats_out.h"
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum {
    C_CALLS,
    C_ERRORS,
    C_TOK0,
    C_COST = C_TOK0 + LLM_STATS_NTOK,
    C_UNPRICED,
    C_P50,
    C_P95,
    C_P99,
    C_TTFT,
    C_SPEED,
    NCOL
};

static const char *const heads[NCOL] = {
    "CALLS",    "ERRORS", "INPUT",  "OUTPUT", "CACHE_READ", "CACHE_WRITE", "REASONING",
    "COST_USD", NULL,     "P50_MS", "P95_MS", "P99_MS",     "TTFT_P50_MS", "OUT_TOK_S",
};

static const char *const names[NCOL] = {
    "calls",
    "errors",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "cost_usd",
    "unpriced_calls",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "ttft_p50_ms",
    "output_tokens_per_s",
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *shown(const char *v)
{
    return v ? v : "-";
}

static int cmp_unpriced(const void *a, const void *b)
{
    return strcmp(((const struct llm_stats_unpriced *)a)->name,
                  ((const struct llm_stats_unpriced *)b)->name);
}

static int nby_sort; /* qsort has no context argument */

static int cmp_group(const void *a, const void *b)
{
    const struct llm_stats_group *x = a, *y = b;

    for (int i = 0; i < nby_sort; i++) {
        int d = strcmp(shown(x->val[i]), shown(y->val[i]));
        if (d)
            return d;
    }
    return 0;
}

/* Nearest rank: the smallest value with at least pct% of values <= it.
 * Integer arithmetic, so 95% of 20 is rank 19, not a rounding accident. */
int llm_stats_percentile(const struct llm_stats_vec *v, unsigned pct, double *out)
{
    size_t rank;

    if (!v->n)
        return 0;
    rank = (pct * v->n + 99) / 100;
    *out = v->v[rank ? rank - 1 : 0];
    return 1;
}

/* A count column's value. */
static int64_t count(const struct llm_stats_group *g, int col)
{
    if (col == C_CALLS)
        return (int64_t)g->calls;
    if (col == C_ERRORS)
        return (int64_t)g->errors;
    if (col == C_UNPRICED)
        return (int64_t)g->unpriced;
    return g->tokens[col - C_TOK0];
}

static int is_count(int col)
{
    return col < C_COST || col == C_UNPRICED;
}

/* A measured column's value: 1 and *d set, or 0 when unknown. */
static int value(const struct llm_stats_group *g, int col, double *d)
{
    switch (col) {
    case C_COST:
        *d = g->cost;
        return g->priced > 0;
    case C_P50:
        return llm_stats_percentile(&g->lat, 50, d);
    case C_P95:
        return llm_stats_percentile(&g->lat, 95, d);
    case C_P99:
        return llm_stats_percentile(&g->lat, 99, d);
    case C_TTFT:
        return llm_stats_percentile(&g->ttft, 50, d);
    default: /* C_SPEED */
        *d = g->speed_s > 0 ? g->speed_tokens / g->speed_s : 0;
        return g->speed_s > 0;
    }
}

static void table_cell(const struct llm_stats_group *g, int col, char *out, size_t n)
{
    double d;

    if (is_count(col))
        snprintf(out, n, "%" PRId64, count(g, col));
    else if (!value(g, col, &d))
        snprintf(out, n, "-");
    else
        snprintf(out, n, col == C_COST ? "%.6f" : "%.1f", d);
}

static void put_padded(FILE *fp, const char *s, int width, int left, int last)
{
    fprintf(fp, left ? "%-*s%s" : "%*s%s", last && left ? 0 : width, s, last ? "\n" : "  ");
}

static void print_table(const struct llm_stats *s, FILE *fp)
{
    int wkey[LLM_STATS_MAX_BY], wcol[NCOL];
    uint64_t priced = 0, usage = 0;
    char cell[64];

    for (int i = 0; i < s->nby; i++)
        wkey[i] = (int)strlen(s->by[i]);
    for (int c = 0; c < NCOL; c++)
        wcol[c] = heads[c] ? (int)strlen(heads[c]) : 0;
    for (size_t r = 0; r < s->n; r++) {
        for (int i = 0; i < s->nby; i++) {
            int len = (int)strlen(shown(s->g[r].val[i]));
            wkey[i] = len > wkey[i] ? len : wkey[i];
        }
        for (int c = 0; c < NCOL; c++) {
            table_cell(&s->g[r], c, cell, sizeof(cell));
            wcol[c] = (int)strlen(cell) > wcol[c] ? (int)strlen(cell) : wcol[c];
        }
    }
    for (int i = 0; i < s->nby; i++) {
        char up[32];
        size_t k;
        for (k = 0; s->by[i][k] && k + 1 < sizeof(up); k++)
            up[k] = (char)toupper((unsigned char)s->by[i][k]);
        up[k] = '\0';
        put_padded(fp, up, wkey[i], 1, 0);
    }
    for (int c = 0; c < NCOL; c++) {
        if (heads[c])
            put_padded(fp, heads[c], wcol[c], 0, c == NCOL - 1);
    }
    for (size_t r = 0; r < s->n; r++) {
        for (int i = 0; i < s->nby; i++)
            put_padded(fp, shown(s->g[r].val[i]), wkey[i], 1, 0);
        for (int c = 0; c < NCOL; c++) {
            if (!heads[c])
                continue;
            table_cell(&s->g[r], c, cell, sizeof(cell));
            put_padded(fp, cell, wcol[c], 0, c == NCOL - 1);
        }
    }
    for (size_t r = 0; r < s->n; r++) {
        priced += s->g[r].priced;
        usage += s->g[r].priced + s->g[r].unpriced;
    }
    if (usage)
        fputc('\n', fp);
    for (size_t i = 0; i < s->nunpriced; i++)
        fprintf(fp, "no price for: %s (%" PRIu64 " call%s)\n", s->unpriced[i].name,
                s->unpriced[i].calls, s->unpriced[i].calls == 1 ? "" : "s");
    if (usage) /* the share of the calls that could be priced (they have token counts) */
        fprintf(fp, "priced: %" PRIu64 " of %" PRIu64 " call%s with token counts (%.1f%%)\n",
                priced, usage, usage == 1 ? "" : "s", 100.0 * (double)priced / (double)usage);
}

static void csv_field(FILE *fp, const char *v)
{
    if (!v)
        return;
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, fp);
        return;
    }
    fputc('"', fp);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', fp);
        fputc(*v, fp);
    }
    fputc('"', fp);
}

static void print_csv(const struct llm_stats *s, FILE *fp)
{
    char cell[64];
    double d;

    for (int i = 0; i < s->nby; i++)
        fprintf(fp, "%s,", s->by[i]);
    for (int c = 0; c < NCOL; c++)
        fprintf(fp, "%s%s", names[c], c + 1 < NCOL ? "," : "\r\n");
    for (size_t r = 0; r < s->n; r++) {
        const struct llm_stats_group *g = &s->g[r];
        for (int i = 0; i < s->nby; i++) {
            csv_field(fp, g->val[i]);
            fputc(',', fp);
        }
        for (int c = 0; c < NCOL; c++) {
            if (is_count(c)) {
                fprintf(fp, "%" PRId64, count(g, c));
            } else if (value(g, c, &d)) {
                llm_cli_real(d, cell, sizeof(cell));
                fputs(cell, fp);
            }
            fputs(c + 1 < NCOL ? "," : "\r\n", fp);
        }
    }
}

json_t *llm_stats_group_json(const struct llm_stats *s, const struct llm_stats_group *g)
{
    json_t *o = json_object();
    double d;

    for (int i = 0; o && i < s->nby; i++)
        json_object_set_new(o, s->by[i], g->val[i] ? json_string(g->val[i]) : json_null());
    for (int c = 0; o && c < NCOL; c++) {
        json_t *v = is_count(c)       ? json_integer(count(g, c))
                    : value(g, c, &d) ? json_real(d)
                                      : json_null();
        json_object_set_new(o, names[c], v);
    }
    return o;
}

static int print_json(const struct llm_stats *s, FILE *fp)
{
    json_t *arr = json_array();
    int rc = 0;

    for (size_t r = 0; arr && r < s->n && !rc; r++) {
        json_t *o = llm_stats_group_json(s, &s->g[r]);
        rc = o ? json_array_append_new(arr, o) : -ENOMEM;
    }
    if (!arr || rc || json_dumpf(arr, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) ||
        fputc('\n', fp) == EOF)
        rc = -EIO;
    json_decref(arr);
    return rc;
}

void llm_stats_sort(struct llm_stats *s)
{
    nby_sort = s->nby;
    if (s->n) /* qsort's array must not be NULL, even when empty */
        qsort(s->g, s->n, sizeof(*s->g), cmp_group);
    if (s->nunpriced)
        qsort(s->unpriced, s->nunpriced, sizeof(*s->unpriced), cmp_unpriced);
    for (size_t r = 0; r < s->n; r++) {
        struct llm_stats_group *g = &s->g[r];
        if (g->lat.n)
            qsort(g->lat.v, g->lat.n, sizeof(double), cmp_double);
        if (g->ttft.n)
            qsort(g->ttft.v, g->ttft.n, sizeof(double), cmp_double);
    }
}

int llm_stats_print(struct llm_stats *s, FILE *fp)
{
    int rc = 0;

    llm_stats_sort(s);
    if (s->format == LLM_STATS_CSV)
        print_csv(s, fp);
    else if (s->format == LLM_STATS_JSON)
        rc = print_json(s, fp);
    else
        print_table(s, fp);
    errno = 0;
    if (fflush(fp) || ferror(fp))
        return errno ? -errno : -EIO;
    return rc;
}

void llm_stats_group_free(struct llm_stats_group *g)
{
    free(g->key);
    for (int i = 0; i < LLM_STATS_MAX_BY; i++)
        free(g->val[i]);
    free(g->lat.v);
    free(g->ttft.v);
}

void llm_stats_free(struct llm_stats *s)
{
    for (size_t i = 0; i < s->n; i++)
        llm_stats_group_free(&s->g[i]);
    free(s->g);
    for (size_t i = 0; i < s->nunpriced; i++)
        free(s->unpriced[i].name);
    free(s->unpriced);
}
