/* The dashboard's numbers (see dash_agg.h). One pass over the filter's key
 * range, in time order, decoding only the fields the breakdowns read (the
 * text scan's field subset, record_json.h): each record is added to one
 * stats accumulator per breakdown and its key kept in a ring of the newest
 * matches. Nothing else of the store stays in memory: the calls table's rows
 * and whole records are read again by key afterwards, a page at a time.
 * Breakdowns with unbounded values (sessions, actions) keep at most
 * MAX_GROUPS groups and send the busiest TOP of them. Runs on the caller's
 * thread; every scan is its own LMDB read transaction, next to live writers. */
#include "dash_agg.h"
#include "cost.h"
#include "err.h"
#include "record.h"
#include "record_json.h"
#include "stats_out.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 10000
#define TOP 100
#define NHIST 15

static const struct dim {
    const char *name, *by[2], *field[2];
    int samples, top; /* keep latency samples; send only the busiest top groups */
} dims[] = {
    {"total", {NULL}, {NULL}, 1, 0},
    {"provider_model", {"provider", "model"}, {"provider", "model"}, 1, 0},
    {"provider", {"provider"}, {"provider"}, 1, 0},
    {"model", {"model"}, {"model"}, 1, 0},
    {"day", {"day"}, {"timestamp"}, 1, 0},
    {"hour", {"hour"}, {"timestamp"}, 1, 0},
    {"day_model", {"day", "model"}, {"timestamp", "model"}, 0, 0},
    {"agent", {"agent"}, {"agent_id"}, 0, TOP},
    {"action", {"action"}, {"action_id"}, 0, TOP},
    {"session", {"session"}, {"session_id"}, 0, TOP},
    {"workspace", {"workspace"}, {"workspace"}, 0, TOP},
    {"exe", {"exe"}, {"exe"}, 0, TOP},
    {"host", {"host"}, {"hostname"}, 0, TOP},
    {"operation_type", {"operation_type"}, {"operation_type"}, 0, TOP},
    {"status", {"status"}, {"status"}, 0, 0},
    {"error_type", {"error_type"}, {"error_type"}, 0, TOP},
    {"http_status", {"http_status"}, {"http_status"}, 0, 0},
};

#define NDIMS (sizeof(dims) / sizeof(dims[0]))

/* Upper bounds (ms) of the latency histogram's buckets; the last is open. */
static const double hist_edges[NHIST - 1] = {10,   25,   50,    100,   250,   500,    1000,
                                             2500, 5000, 10000, 25000, 50000, 100000, 250000};

static const enum llm_field wanted[] = {
    LLM_F_TIMESTAMP,
    LLM_F_PROVIDER,
    LLM_F_MODEL,
    LLM_F_STATUS,
    LLM_F_ERROR_TYPE,
    LLM_F_HTTP_STATUS,
    LLM_F_INPUT_TOKENS,
    LLM_F_OUTPUT_TOKENS,
    LLM_F_CACHE_READ_TOKENS,
    LLM_F_CACHE_WRITE_TOKENS,
    LLM_F_REASONING_TOKENS,
    LLM_F_LATENCY_MS,
    LLM_F_TTFT_MS,
    LLM_F_STREAM,
    LLM_F_AGENT_ID,
    LLM_F_ACTION_ID,
    LLM_F_SESSION_ID,
    LLM_F_WORKSPACE,
    LLM_F_EXE,
    LLM_F_HOSTNAME,
    LLM_F_OPERATION_TYPE,
};

static const struct {
    const char *name;
    int opt;
} params[] = {
    {"since", LLM_FO_SINCE},
    {"until", LLM_FO_UNTIL},
    {"provider", LLM_FO_PROVIDER},
    {"model", LLM_FO_MODEL},
    {"operation-type", LLM_FO_OPERATION_TYPE},
    {"session", LLM_FO_SESSION},
    {"agent", LLM_FO_AGENT},
    {"action", LLM_FO_ACTION},
    {"workspace", LLM_FO_WORKSPACE},
    {"status", LLM_FO_STATUS},
    {"min-tokens", LLM_FO_MIN_TOKENS},
    {"max-tokens", LLM_FO_MAX_TOKENS},
    {"min-latency", LLM_FO_MIN_LATENCY},
    {"max-latency", LLM_FO_MAX_LATENCY},
};

int llm_dash_param(struct llm_filter *f, const char *name, const char *value, char *why, size_t n)
{
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        if (strcmp(name, params[i].name))
            continue;
        if (!value || !*value)
            return 0; /* an empty form field filters nothing */
        return llm_filter_option(f, params[i].opt, value, why, n);
    }
    snprintf(why, n, "unknown parameter '%.100s'", name);
    return LLM_EINVAL;
}

static atomic_int cancelled;

void llm_dash_cancel(void)
{
    atomic_store(&cancelled, 1);
}

struct agg {
    struct llm_stats_acc acc[NDIMS];
    int summary;
    uint64_t hist[NHIST], matched;
    char first[LLM_RFC3339_LEN], last[LLM_RFC3339_LEN];
    uint8_t (*ring)[16]; /* the newest matches' keys, oldest overwritten */
    size_t cap, head;
};

static void note_time(struct agg *a, json_t *rec)
{
    json_t *ts = json_object_get(rec, "timestamp");

    if (!json_is_string(ts))
        return;
    if (!a->first[0])
        snprintf(a->first, sizeof(a->first), "%s", json_string_value(ts));
    snprintf(a->last, sizeof(a->last), "%s", json_string_value(ts));
}

static int visit(void *arg, const void *key, size_t klen, struct llm_rjson *rj)
{
    struct agg *a = arg;
    struct llm_stats_call k;
    json_t *lat;
    int rc = 0, b;

    if (atomic_load_explicit(&cancelled, memory_order_relaxed))
        return -ECANCELED;
    if (a->cap && klen == 16)
        memcpy(a->ring[a->matched % a->cap], key, 16);
    a->matched++;
    if (!a->summary)
        return 0;
    note_time(a, rj->rec);
    llm_stats_call_of(rj->rec, &k);
    for (size_t d = 0; d < NDIMS && !rc; d++)
        rc = llm_stats_add_call(&a->acc[d], rj->rec, &k);
    lat = json_object_get(rj->rec, "latency_ms");
    if (json_is_number(lat)) {
        for (b = 0; b < NHIST - 1 && json_number_value(lat) > hist_edges[b]; b++)
            ;
        a->hist[b]++;
    }
    return rc;
}

static void set_real(json_t *o, const char *k, int known, double d)
{
    json_object_set_new(o, k, known ? json_real(d) : json_null());
}

static void set_pct(json_t *o, const char *k, const struct llm_stats_vec *v, unsigned p)
{
    double d = 0;
    int known = llm_stats_percentile(v, p, &d);

    set_real(o, k, known, d);
}

/* A group as stats writes it, plus what the dashboard shows beyond stats. */
static json_t *group_json(const struct llm_stats *s, const struct llm_stats_group *g)
{
    json_t *o = llm_stats_group_json(s, g);

    if (!o)
        return NULL;
    if (g->lat.n || g->ttft.n) {
        set_pct(o, "latency_p90_ms", &g->lat, 90);
        for (unsigned p = 90; p <= 99; p += p == 90 ? 5 : 4) {
            char k[24];
            snprintf(k, sizeof(k), "ttft_p%u_ms", p);
            set_pct(o, k, &g->ttft, p);
        }
    }
    set_real(o, "latency_avg_ms", g->lat_n > 0, g->lat_n ? g->lat_sum / (double)g->lat_n : 0);
    set_real(o, "latency_min_ms", g->lat_n > 0, g->lat_min);
    set_real(o, "latency_max_ms", g->lat_n > 0, g->lat_max);
    json_object_set_new(o, "priced_calls", json_integer((json_int_t)g->priced));
    set_real(o, "cost_max_usd", g->priced > 0, g->cost_max);
    return o;
}

static int by_calls(const void *x, const void *y)
{
    const struct llm_stats_group *a = x, *b = y;
    return (a->calls < b->calls) - (a->calls > b->calls);
}

static json_t *dim_json(const struct dim *d, struct llm_stats_acc *acc)
{
    json_t *o = json_object(), *arr = json_array();
    size_t n = acc->s.n;

    llm_stats_sort(&acc->s);
    if (d->top) {
        if (n) /* stable enough: ties keep their key order from the sort */
            qsort(acc->s.g, n, sizeof(*acc->s.g), by_calls);
        n = n > (size_t)d->top ? (size_t)d->top : n;
    }
    for (size_t i = 0; o && arr && i < n; i++)
        json_array_append_new(arr, group_json(&acc->s, &acc->s.g[i]));
    json_object_set_new(o, "groups", arr);
    json_object_set_new(o, "distinct", json_integer((json_int_t)acc->s.n));
    json_object_set_new(o, "capped", json_boolean(acc->s.n >= MAX_GROUPS));
    return o;
}

struct one {
    json_t *rec;
    int rc;
};

static int get_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct one *o = arg;

    o->rc = llm_record_to_json(val, vlen, (void **)&o->rec);
    if (!o->rc)
        llm_cost_fill(o->rec);
    return 1; /* the first key at or after the one asked for: stop */
}

/* The whole record stored under key, or NULL with *rc set. */
static json_t *load(struct llm_store *s, const uint8_t key[16], int *rc)
{
    struct one o = {0};
    uint8_t next[16];
    int i = 15;

    memcpy(next, key, 16);
    while (i >= 0 && ++next[i] == 0)
        i--;
    *rc = llm_store_scan(s, key, i >= 0 ? next : NULL, get_one, &o);
    if (*rc == 1)
        *rc = o.rc;
    else if (!*rc)
        *rc = LLM_ENOTFOUND;
    if (*rc && o.rec) {
        json_decref(o.rec);
        o.rec = NULL;
    }
    return o.rec;
}

static const char *const row_fields[] = {
    "operation_id",  "timestamp",        "provider",    "model",     "operation_type",
    "status",        "error_type",       "http_status", "stream",    "input_tokens",
    "output_tokens", "reasoning_tokens", "latency_ms",  "ttft_ms",   "cost_usd",
    "exe",           "hostname",         "agent_id",    "action_id", "session_id",
};

/* The newest `rows` kept keys past the newest `offset`, newest first. A call
 * pruned since the scan is left out. */
static json_t *rows_json(struct llm_store *s, struct agg *a, size_t offset, size_t rows,
                         int records)
{
    json_t *arr = json_array();
    size_t have = a->matched < a->cap ? (size_t)a->matched : a->cap;

    for (size_t i = offset; arr && i < have && i < offset + rows; i++) {
        const uint8_t *key = a->ring[(a->matched - 1 - i) % a->cap];
        char ulid[LLM_ULID_LEN];
        int rc;
        json_t *rec = load(s, key, &rc), *row;

        if (!rec)
            continue;
        row = json_object();
        llm_ulid_format(key, ulid);
        json_object_set_new(row, "key", json_string(ulid));
        for (size_t f = 0; f < sizeof(row_fields) / sizeof(row_fields[0]); f++) {
            json_t *v = json_object_get(rec, row_fields[f]);
            json_object_set(row, row_fields[f], v ? v : json_null());
        }
        if (records)
            json_object_set(row, "record", rec);
        json_decref(rec);
        json_array_append_new(arr, row);
    }
    return arr;
}

static int run(struct llm_store *s, const struct llm_filter *f, struct agg *a, size_t offset,
               size_t rows, char *what, size_t n)
{
    struct llm_rjson rj;
    int rc;

    if (offset > LLM_DASH_MAX_ROWS)
        offset = LLM_DASH_MAX_ROWS;
    a->cap = offset + rows;
    if (a->cap && !(a->ring = calloc(a->cap, 16)))
        return LLM_ENOMEM;
    llm_rjson_init(&rj);
    if (a->summary) {
        for (size_t w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++)
            rj.want[wanted[w]] = 1;
        llm_cost_fields(rj.want);
    }
    rc = llm_filter_scan_text(s, f, &rj, visit, a, what, n);
    llm_rjson_free(&rj);
    return rc;
}

static void agg_free(struct agg *a)
{
    for (size_t d = 0; d < NDIMS; d++)
        llm_stats_acc_free(&a->acc[d]);
    free(a->ring);
}

static json_t *totals_json(struct agg *a)
{
    struct llm_stats_acc *t = &a->acc[0];
    struct llm_stats_group zero = {0};

    llm_stats_sort(&t->s);
    return group_json(&t->s, t->s.n ? &t->s.g[0] : &zero);
}

static json_t *hist_json(const struct agg *a)
{
    json_t *o = json_object(), *edges = json_array(), *counts = json_array();

    for (int b = 0; b < NHIST; b++) {
        if (b < NHIST - 1)
            json_array_append_new(edges, json_real(hist_edges[b]));
        json_array_append_new(counts, json_integer((json_int_t)a->hist[b]));
    }
    json_object_set_new(o, "edges_ms", edges);
    json_object_set_new(o, "counts", counts);
    return o;
}

int llm_dash_summary(struct llm_store *s, const struct llm_filter *f, size_t offset, size_t rows,
                     int records, json_t **out, char *what, size_t n)
{
    struct agg a = {.summary = 1};
    json_t *o = NULL, *bd;
    char now[LLM_RFC3339_LEN];
    int rc = 0;

    for (size_t d = 0; d < NDIMS && !rc; d++) {
        a.acc[d].no_samples = !dims[d].samples;
        a.acc[d].no_names = d > 0;
        a.acc[d].max_groups = d ? MAX_GROUPS : 0;
        for (int k = 0; k < 2 && dims[d].by[k] && !rc; k++)
            rc = llm_stats_acc_by(&a.acc[d], dims[d].by[k], dims[d].field[k]);
    }
    if (!rc)
        rc = run(s, f, &a, offset, rows, what, n);
    if (rc)
        goto out;
    o = json_object();
    bd = json_object();
    llm_rfc3339(llm_now_ns(), now);
    json_object_set_new(o, "generated", json_string(now));
    json_object_set_new(o, "first", a.first[0] ? json_string(a.first) : json_null());
    json_object_set_new(o, "last", a.last[0] ? json_string(a.last) : json_null());
    json_object_set_new(o, "totals", totals_json(&a));
    for (size_t d = 1; d < NDIMS; d++)
        json_object_set_new(bd, dims[d].name, dim_json(&dims[d], &a.acc[d]));
    json_object_set_new(o, "by", bd);
    json_object_set_new(o, "latency_hist", hist_json(&a));
    json_object_set_new(o, "total", json_integer((json_int_t)a.matched));
    json_object_set_new(o, "offset", json_integer((json_int_t)offset));
    json_object_set_new(o, "rows", rows_json(s, &a, offset, rows, records));
    if (!o || !bd)
        rc = LLM_ENOMEM;
out:
    agg_free(&a);
    if (rc) {
        json_decref(o);
        o = NULL;
    }
    *out = o;
    return rc;
}

int llm_dash_calls(struct llm_store *s, const struct llm_filter *f, size_t offset, size_t rows,
                   json_t **out, char *what, size_t n)
{
    struct agg a = {0};
    int rc = run(s, f, &a, offset, rows, what, n);

    *out = NULL;
    if (!rc) {
        *out = json_object();
        json_object_set_new(*out, "total", json_integer((json_int_t)a.matched));
        json_object_set_new(*out, "offset", json_integer((json_int_t)offset));
        json_object_set_new(*out, "rows", rows_json(s, &a, offset, rows, 0));
        if (!*out)
            rc = LLM_ENOMEM;
    }
    agg_free(&a);
    return rc;
}

int llm_dash_record(struct llm_store *s, const char *ulid, json_t **out)
{
    uint8_t key[16];
    int rc;

    *out = NULL;
    if (strlen(ulid) != LLM_ULID_LEN - 1 || llm_ulid_parse(ulid, key))
        return LLM_EINVAL;
    *out = load(s, key, &rc);
    return rc;
}

json_t *llm_dash_filter_json(const struct llm_filter *f)
{
    json_t *o = json_object();
    char t[LLM_RFC3339_LEN];

    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        int opt = params[i].opt;
        json_t *v = NULL;
        if (opt == LLM_FO_SINCE && f->has_since) {
            llm_rfc3339(f->since_us * 1000, t);
            v = json_string(t);
        } else if (opt == LLM_FO_UNTIL && f->has_until) {
            llm_rfc3339(f->until_us * 1000, t);
            v = json_string(t);
        } else if (opt >= LLM_FO_PROVIDER && opt <= LLM_FO_STATUS && f->eq[opt - LLM_FO_PROVIDER]) {
            v = json_string(f->eq[opt - LLM_FO_PROVIDER]);
        } else if (opt == LLM_FO_MIN_TOKENS && f->has_min_tokens) {
            v = json_integer(f->min_tokens);
        } else if (opt == LLM_FO_MAX_TOKENS && f->has_max_tokens) {
            v = json_integer(f->max_tokens);
        } else if (opt == LLM_FO_MIN_LATENCY && f->has_min_latency) {
            v = json_real(f->min_latency);
        } else if (opt == LLM_FO_MAX_LATENCY && f->has_max_latency) {
            v = json_real(f->max_latency);
        }
        if (v)
            json_object_set_new(o, params[i].name, v);
    }
    return o;
}

int llm_dash_json_text(json_t *j, char **text, size_t *len)
{
    char *raw = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15)), *o;
    size_t extra = 0, k = 0;

    *text = NULL;
    if (!raw)
        return LLM_ENOMEM;
    for (const char *p = raw; *p; p++)
        extra += (*p == '<' || *p == '>' || *p == '&') * 5;
    if (!(o = malloc(strlen(raw) + extra + 1))) {
        free(raw);
        return LLM_ENOMEM;
    }
    for (const char *p = raw; *p; p++) {
        if (*p == '<' || *p == '>' || *p == '&')
            k += (size_t)sprintf(o + k, "\\u%04x", (unsigned)*p);
        else
            o[k++] = *p;
    }
    o[k] = '\0';
    free(raw);
    *text = o;
    *len = k;
    return 0;
}
