/* The price layers and the cost of a call. Tool only (main thread).
 *
 * Layers, most specific first: the user's table (--prices, LLMOPS_PRICES),
 * the curated table (tools/prices.json, installed as
 * share/llmops/prices.json), the genai-prices database (pricedb.c). The
 * tables are validated as a whole when loaded: a bad entry is an error
 * naming the file and the entry, never a silently wrong cost. Entries are
 * kept as written; a table's lookup picks, among the entries in effect at
 * the call's timestamp, the most specific match and of those the latest, so
 * a correction is a new entry with a later effective_from and old calls keep
 * their old price; a "defer" entry in effect hands the call to the next
 * layer. A cost the response reported (cost_source "provider", stored by the
 * collector) is the call's cost whatever the layers say.
 *
 * Cost rules, from the record's raw counts (input_tokens is the whole
 * prompt, cache reads and writes included; output_tokens includes reasoning):
 *   uncached = input_tokens - cache_read_tokens - cache_write_tokens (>= 0)
 *   cost = uncached * input + cache_read_tokens * cache_read
 *        + cache_write_tokens * cache_write + output_tokens * output
 * so cached tokens are billed once, at their own rate, and reasoning is not
 * added again. When the entry has a long_context tier and input_tokens is
 * above its threshold, the tier's rates price the whole call (the database:
 * each rate's tier by input_tokens). A cache rate left out is the tier's
 * input rate; an input or output rate the database leaves out is 0, and its
 * per-request price is added. Anthropic's one-hour cache
 * writes (usage_raw.cache_creation.ephemeral_1h_input_tokens) take
 * cache_write_1h when the entry has it. Unknown counts are 0, but a call
 * with neither input nor output known has no cost (null), as has a call the
 * table does not price. Costs are rounded to whole picodollars (1e-12 USD):
 * far below any price step, and it keeps a call's cost (up to $1000) within
 * the 15 significant digits exports print, so JSON, CSV and SQLite carry the
 * very same number. */
#include "cost.h"
#include "cli.h"
#include "pricedb.h"
#include "err.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LLMOPS_PRICES_INSTALLED
#define LLMOPS_PRICES_INSTALLED "/usr/local/share/llmops/prices.json"
#endif
#ifndef LLMOPS_PRICEDB_INSTALLED
#define LLMOPS_PRICEDB_INSTALLED "/usr/local/share/llmops/" LLM_PRICEDB_FILE
#endif

#define TABLE_VERSION 1

static const char *override_path;
static struct llm_price_table *user, *table; /* --prices / LLMOPS_PRICES, prices.json */
static struct llm_pricedb *db;
static char *db_path;
static int loaded;

void llm_cost_set_path(const char *path)
{
    override_path = path;
}

const struct llm_price_table *llm_cost_table(void)
{
    return table;
}

const struct llm_price_table *llm_cost_user_table(void)
{
    return user;
}

struct llm_pricedb *llm_cost_db(const char **path)
{
    if (path)
        *path = db_path;
    return db;
}

static void table_free(struct llm_price_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->e[i].provider);
        free(t->e[i].model);
        free(t->e[i].from);
        free(t->e[i].source);
        free(t->e[i].note);
    }
    free(t->e);
    free(t->path);
    free(t->as_of);
    free(t);
}

/* Reads one rate; absent or null leaves NAN. */
static int get_rate(json_t *obj, const char *name, double *out, int required, char *why, size_t n)
{
    json_t *v = json_object_get(obj, name);

    *out = NAN;
    if (!v || json_is_null(v)) {
        if (required)
            snprintf(why, n, "missing %s", name);
        return required ? LLM_EINVAL : 0;
    }
    if (!json_is_number(v) || json_number_value(v) < 0) {
        snprintf(why, n, "%s is not a number >= 0", name);
        return LLM_EINVAL;
    }
    *out = json_number_value(v);
    return 0;
}

static int get_rates(json_t *obj, struct llm_rates *r, char *why, size_t n)
{
    if (!json_is_object(obj)) {
        snprintf(why, n, "rates are not an object");
        return LLM_EINVAL;
    }
    if (get_rate(obj, "input", &r->input, 1, why, n) ||
        get_rate(obj, "output", &r->output, 1, why, n) ||
        get_rate(obj, "cache_read", &r->cache_read, 0, why, n) ||
        get_rate(obj, "cache_write", &r->cache_write, 0, why, n) ||
        get_rate(obj, "cache_write_1h", &r->cache_write_1h, 0, why, n))
        return LLM_EINVAL;
    return 0;
}

static int dup_str(json_t *obj, const char *name, char **out, char *why, size_t n)
{
    json_t *v = json_object_get(obj, name);

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || !json_string_length(v)) {
        snprintf(why, n, "%s is not a non-empty string", name);
        return LLM_EINVAL;
    }
    *out = strdup(json_string_value(v));
    return *out ? 0 : LLM_ENOMEM;
}

static int parse_long(json_t *lc, struct llm_price *p, char *why, size_t n)
{
    json_t *thr = json_object_get(lc, "threshold_input_tokens");

    if (!json_is_object(lc)) {
        snprintf(why, n, "long_context is not an object");
        return LLM_EINVAL;
    }
    if (!json_is_integer(thr) || json_integer_value(thr) <= 0) {
        snprintf(why, n, "long_context.threshold_input_tokens is not a whole number > 0");
        return LLM_EINVAL;
    }
    p->has_long = 1;
    p->long_threshold = json_integer_value(thr);
    return get_rates(lc, &p->lng, why, n);
}

static int parse_entry(json_t *e, struct llm_price *p, char *why, size_t n)
{
    json_t *model = json_object_get(e, "model"), *prefix = json_object_get(e, "model_prefix");
    json_t *lc = json_object_get(e, "long_context"), *defer;
    int rc;

    if (!json_is_object(e)) {
        snprintf(why, n, "not an object");
        return LLM_EINVAL;
    }
    if (!!model == !!prefix) {
        snprintf(why, n, "wants exactly one of model and model_prefix");
        return LLM_EINVAL;
    }
    p->prefix = !!prefix;
    rc = dup_str(e, "provider", &p->provider, why, n);
    if (!rc)
        rc = dup_str(e, prefix ? "model_prefix" : "model", &p->model, why, n);
    if (!rc)
        rc = dup_str(e, "effective_from", &p->from, why, n);
    if (!rc)
        rc = dup_str(e, "source", &p->source, why, n);
    if (!rc)
        rc = dup_str(e, "note", &p->note, why, n);
    if (rc)
        return rc;
    if (!p->provider || !p->model || !p->from || !p->source) {
        snprintf(why, n, "wants provider, model or model_prefix, effective_from and source");
        return LLM_EINVAL;
    }
    if (llm_parse_time(p->from, &p->from_us)) {
        snprintf(why, n, "effective_from '%s' is not a date or an RFC 3339 time", p->from);
        return LLM_EINVAL;
    }
    defer = json_object_get(e, "defer");
    if (defer && !json_is_true(defer)) {
        snprintf(why, n, "defer is not true");
        return LLM_EINVAL;
    }
    if (defer) { /* the next layer prices calls from here on: no rates */
        p->defer = 1;
        if (!json_object_get(e, "usd_per_mtok") && !lc)
            return 0;
        snprintf(why, n, "a defer entry has no usd_per_mtok or long_context");
        return LLM_EINVAL;
    }
    rc = get_rates(json_object_get(e, "usd_per_mtok"), &p->base, why, n);
    if (rc) {
        char sub[256];
        snprintf(sub, sizeof(sub), "%s", why);
        snprintf(why, n, "usd_per_mtok: %s", sub);
        return rc;
    }
    if (lc && !json_is_null(lc))
        return parse_long(lc, p, why, n);
    return 0;
}

/* Two entries for the same match and date would make the price ambiguous. */
static int check_unique(const struct llm_price_table *t, size_t i, char *why, size_t n)
{
    const struct llm_price *p = &t->e[i];

    for (size_t j = 0; j < i; j++) {
        const struct llm_price *q = &t->e[j];
        if (q->prefix == p->prefix && q->from_us == p->from_us &&
            !strcmp(q->provider, p->provider) && !strcmp(q->model, p->model)) {
            snprintf(why, n, "same provider, model and effective_from as entry %zu", j);
            return LLM_EINVAL;
        }
    }
    return 0;
}

static int parse_table(json_t *doc, struct llm_price_table *t, char *why, size_t n)
{
    json_t *ver = json_object_get(doc, "version"), *entries = json_object_get(doc, "entries");
    json_t *as_of = json_object_get(doc, "as_of");
    size_t i;
    json_t *e;
    int rc;

    if (!json_is_object(doc) || !json_is_array(entries)) {
        snprintf(why, n, "not a price table (an object with an \"entries\" array)");
        return LLM_EINVAL;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) != TABLE_VERSION) {
        snprintf(why, n, "table version is not %d", TABLE_VERSION);
        return LLM_EINVAL;
    }
    if (json_is_string(as_of) && !(t->as_of = strdup(json_string_value(as_of))))
        return LLM_ENOMEM;
    t->e = calloc(json_array_size(entries) + 1, sizeof(*t->e));
    if (!t->e)
        return LLM_ENOMEM;
    json_array_foreach(entries, i, e)
    {
        char sub[512] = "";
        rc = parse_entry(e, &t->e[i], sub, sizeof(sub));
        t->n = i + 1; /* what parse_entry allocated is freed with the table */
        if (!rc)
            rc = check_unique(t, i, sub, sizeof(sub));
        if (rc) {
            snprintf(why, n, "entry %zu: %s", i, sub);
            return rc;
        }
    }
    return 0;
}

static int load_file(const char *path, struct llm_price_table **out)
{
    struct llm_price_table *t = calloc(1, sizeof(*t));
    json_error_t jerr;
    json_t *doc;
    char why[600] = "";
    int rc;

    if (!t || !(t->path = strdup(path))) {
        free(t);
        llm_cli_error(LLM_ENOMEM, "price table %s", path);
        return LLM_ENOMEM;
    }
    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        rc = access(path, R_OK) ? -errno : LLM_EPARSE;
        if (rc == LLM_EPARSE)
            llm_cli_error(rc, "price table %s: line %d: %s", path, jerr.line, jerr.text);
        else
            llm_cli_error(rc, "price table %s", path);
        table_free(t);
        return rc;
    }
    rc = parse_table(doc, t, why, sizeof(why));
    json_decref(doc);
    if (rc) {
        llm_cli_error(rc, "price table %s: %s", path, why);
        table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* A shipped data file (name: prices.json, prices/genai-prices-...): beside
 * the binary in the build tree, else installed next to it, else at the
 * install prefix. */
static int find_shipped(const char *name, const char *installed, char *out, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (len > 0) {
        char *slash;
        exe[len] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(out, n, "%s/%s", exe, name);
            if (!access(out, R_OK))
                return 0;
            snprintf(out, n, "%s/../share/llmops/%s", exe, name);
            if (!access(out, R_OK))
                return 0;
        }
    }
    snprintf(out, n, "%s", installed);
    return access(out, R_OK) ? LLM_ENOTFOUND : 0;
}

int llm_cost_db_user_path(char *out, size_t n)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

    if (xdg && *xdg == '/')
        snprintf(out, n, "%s/llmops/%s", xdg, LLM_PRICEDB_FILE);
    else if (home && *home)
        snprintf(out, n, "%s/.local/share/llmops/%s", home, LLM_PRICEDB_FILE);
    else
        return LLM_ENOTFOUND;
    return 0;
}

int llm_cost_db_path(char *out, size_t n)
{
    if (!llm_cost_db_user_path(out, n) && !access(out, F_OK))
        return 0;
    return find_shipped(LLM_PRICEDB_FILE, LLMOPS_PRICEDB_INSTALLED, out, n);
}

static int load_db(void)
{
    char path[PATH_MAX + 64], why[700] = "";
    int rc;

    if (llm_cost_db_path(path, sizeof(path)))
        return 0; /* no database: the tables alone price */
    rc = llm_pricedb_load(path, &db, why, sizeof(why));
    if (rc) {
        llm_cli_error(rc, "price database %s: %s", path, why);
        return rc;
    }
    db_path = strdup(path);
    return db_path ? 0 : LLM_ENOMEM;
}

int llm_cost_load(int required)
{
    static int rc;
    const char *env = getenv("LLMOPS_PRICES");
    char path[PATH_MAX + 64];

    if (loaded)
        return rc;
    loaded = 1;
    if (override_path)
        rc = load_file(override_path, &user);
    else if (env && *env)
        rc = load_file(env, &user);
    if (rc)
        return rc;
    if (!find_shipped("prices.json", LLMOPS_PRICES_INSTALLED, path, sizeof(path)) &&
        (rc = load_file(path, &table)))
        return rc;
    if ((rc = load_db()))
        return rc;
    if (required && !user && !table && !db) {
        llm_cli_error(LLM_ENOTFOUND, "price table (--prices FILE, LLMOPS_PRICES, or %s)",
                      LLMOPS_PRICES_INSTALLED);
        return rc = LLM_ENOTFOUND;
    }
    return rc;
}

static int matches(const struct llm_price *p, const char *provider, const char *model)
{
    if (strcmp(p->provider, provider))
        return 0;
    return p->prefix ? !strncmp(model, p->model, strlen(p->model)) : !strcmp(model, p->model);
}

const struct llm_price *llm_cost_lookup(const struct llm_price_table *t, const char *provider,
                                        const char *model, int64_t us)
{
    const struct llm_price *best = NULL;
    size_t best_spec = 0;

    if (!t || !provider || !model)
        return NULL;
    for (size_t i = 0; i < t->n; i++) {
        const struct llm_price *p = &t->e[i];
        size_t spec;
        if (p->from_us > us || !matches(p, provider, model))
            continue;
        spec = p->prefix ? strlen(p->model) : SIZE_MAX;
        if (!best || spec > best_spec || (spec == best_spec && p->from_us > best->from_us)) {
            best = p;
            best_spec = spec;
        }
    }
    return best;
}

static int get_count(json_t *rec, const char *field, int64_t *out)
{
    json_t *v = json_object_get(rec, field);

    *out = json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
    return json_is_integer(v);
}

static const char *get_str(json_t *rec, const char *field)
{
    json_t *v = json_object_get(rec, field);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Anthropic splits cache writes by lifetime in usage_raw (JSON text). */
static int64_t one_hour_writes(json_t *rec, int64_t writes)
{
    const char *raw = get_str(rec, "usage_raw");
    json_t *u, *v;
    int64_t n = 0;

    if (!raw || !strstr(raw, "ephemeral_1h_input_tokens"))
        return 0;
    u = json_loads(raw, 0, NULL);
    v = json_object_get(json_object_get(u, "cache_creation"), "ephemeral_1h_input_tokens");
    if (json_is_integer(v) && json_integer_value(v) > 0)
        n = json_integer_value(v);
    json_decref(u);
    return n < writes ? n : writes;
}

static double rate(double r, double fallback)
{
    return isnan(r) ? fallback : r;
}

int llm_cost_resolve(const char *provider, const char *server, const char *path, const char *model,
                     int64_t us, int64_t input_tokens, struct llm_cost_hit *hit)
{
    const struct llm_price_table *layers[] = {user, table};

    memset(hit, 0, sizeof(*hit));
    for (int l = 0; l < 2; l++) {
        const struct llm_price *p = llm_cost_lookup(layers[l], provider, model, us);
        if (!p || p->defer)
            continue;
        hit->layer = l ? LLM_LAYER_CURATED : LLM_LAYER_USER;
        hit->entry = p;
        hit->rates = p->has_long && input_tokens > p->long_threshold ? p->lng : p->base;
        return 0;
    }
    if (llm_pricedb_price(db, provider, server, path, model, us, input_tokens, &hit->db))
        return LLM_ENOTFOUND;
    hit->layer = LLM_LAYER_DB;
    hit->rates = hit->db.rates;
    hit->per_request = hit->db.per_request;
    return 0;
}

void llm_cost_fields(unsigned char want[LLM_F__COUNT])
{
    /* keep in step with llm_cost_of, get_count and one_hour_writes */
    static const enum llm_field read[] = {
        LLM_F_TIMESTAMP,          LLM_F_PROVIDER,      LLM_F_MODEL,
        LLM_F_INPUT_TOKENS,       LLM_F_OUTPUT_TOKENS, LLM_F_CACHE_READ_TOKENS,
        LLM_F_CACHE_WRITE_TOKENS, LLM_F_USAGE_RAW,     LLM_F_SERVER_ADDRESS,
        LLM_F_URL_PATH,           LLM_F_COST_USD,      LLM_F_COST_SOURCE,
    };

    for (size_t i = 0; i < sizeof(read) / sizeof(read[0]); i++)
        want[read[i]] = 1;
}

/* A field read here must be marked by llm_cost_fields too (see there). */
enum llm_cost_result llm_cost_of_src(json_t *rec, double *usd, enum llm_cost_source *src)
{
    int64_t in, out, cr, cw, cw1h = 0, uncached, us;
    double usd_e6, input;
    const char *ts = get_str(rec, "timestamp"), *s;
    const struct llm_rates *r;
    struct llm_cost_hit hit;
    int have_in = get_count(rec, "input_tokens", &in);
    int have_out = get_count(rec, "output_tokens", &out);

    *src = LLM_COST_FROM_PROVIDER;
    if (json_is_number(json_object_get(rec, "cost_usd")) && (s = get_str(rec, "cost_source")) &&
        !strcmp(s, "provider")) { /* what the call cost, as its response said */
        *usd = json_number_value(json_object_get(rec, "cost_usd"));
        return LLM_COST_OK;
    }
    *src = LLM_COST_FROM_TABLE;
    if (!have_in && !have_out)
        return LLM_COST_NO_USAGE;
    if (!ts || llm_parse_time(ts, &us))
        us = llm_now_ns() / 1000;
    if (llm_cost_resolve(get_str(rec, "provider"), get_str(rec, "server_address"),
                         get_str(rec, "url_path"), get_str(rec, "model"), us, in, &hit))
        return LLM_COST_NO_PRICE;
    get_count(rec, "cache_read_tokens", &cr);
    get_count(rec, "cache_write_tokens", &cw);
    r = &hit.rates;
    input = rate(r->input, 0); /* the database may leave a rate out: it costs nothing */
    uncached = in - cr - cw;
    if (uncached < 0)
        uncached = 0;
    if (!isnan(r->cache_write_1h) && cw)
        cw1h = one_hour_writes(rec, cw);
    usd_e6 = (double)uncached * input + (double)cr * rate(r->cache_read, input) +
             (double)(cw - cw1h) * rate(r->cache_write, input) +
             (double)cw1h * rate(r->cache_write_1h, input) + (double)out * rate(r->output, 0) +
             hit.per_request * 1e6;
    *usd = nearbyint(usd_e6 * 1e6) / 1e12; /* whole picodollars: see the top */
    return LLM_COST_OK;
}

enum llm_cost_result llm_cost_of(json_t *rec, double *usd)
{
    enum llm_cost_source src;

    return llm_cost_of_src(rec, usd, &src);
}

void llm_cost_fill(json_t *rec)
{
    static const char *const names[] = {"provider", "table"};
    enum llm_cost_source src;
    double usd;

    if (llm_cost_of_src(rec, &usd, &src) == LLM_COST_OK) {
        json_object_set_new(rec, "cost_usd", json_real(usd));
        json_object_set_new(rec, "cost_source", json_string(names[src]));
    } else {
        json_object_set_new(rec, "cost_usd", json_null());
        json_object_set_new(rec, "cost_source", json_null());
    }
}
