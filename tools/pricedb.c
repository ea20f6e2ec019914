/* The genai-prices database: load, validate, match, price. Runs in the tool
 * (main thread); the database is immutable once loaded, apart from the
 * lookup cache.
 *
 * Semantics follow the database's own reference implementation:
 *  - provider: our provider name (mapped to the database's ids, else its id
 *    or provider_match rule), else the API URL ("https://" server path)
 *    against api_pattern (anchored at the start), else the provider whose
 *    model_match takes the model;
 *  - model: lower-cased and trimmed; the first model of the provider whose
 *    rule matches (equals, starts_with, ends_with, contains: case-insensitive;
 *    regex: PCRE2, on the lower-cased name; and/or), else the same in each
 *    fallback_model_providers; else all of it again with compact dates
 *    spelled out (-20250514 -> -2025-05-14);
 *  - price: a plain price, or conditional prices tried last to first (a
 *    start_date in force at the call's time, a time-of-day window containing
 *    it, or no constraint), else the first; a tiered rate takes the price of
 *    the highest tier whose start the prompt (input_tokens) exceeds.
 * Validation mirrors genai-prices-data_slim.schema.json (plus the
 * pricing_urls list the data carries and the schema omits): an entry the
 * schema refuses is refused here, so `prices update` cannot install a file
 * the tool would misread. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pricedb.h"
#include "err.h"
#include "util.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum clause_kind { C_EQ, C_STARTS, C_ENDS, C_CONTAINS, C_REGEX, C_AND, C_OR };

struct clause {
    enum clause_kind k;
    char *s; /* lower-cased */
    size_t n;
    pcre2_code *re;
    struct clause *sub;
    size_t nsub;
};

struct db_model {
    const char *id;
    json_t *match, *prices; /* borrowed from the document */
    struct clause c;
};

struct db_provider {
    const char *id;
    pcre2_code *api;
    struct clause pmatch, mmatch;
    int has_pmatch, has_mmatch;
    json_t *fallback;
    struct db_model *m;
    size_t nm;
};

#define CACHE_SLOTS 1024

struct cache_slot {
    char *key;
    int prov, model, fb; /* -1: none */
    int how;
};

struct llm_pricedb {
    json_t *doc;
    struct db_provider *p;
    size_t np, nmodels;
    struct cache_slot cache[CACHE_SLOTS];
};

/* Our provider names (OpenTelemetry gen_ai.provider.name) where they are not
 * the database's ids. */
static const char *const name_map[][2] = {
    {"aws.bedrock", "aws"},          {"azure.ai.openai", "azure"},
    {"azure.ai.inference", "azure"}, {"gcp.gemini", "google"},
    {"gcp.vertex_ai", "google"},     {"gcp.gen_ai", "google"},
    {"mistral_ai", "mistral"},       {"x_ai", "x-ai"},
    {"together_ai", "together"},     {"openrouter.ai", "openrouter"},
};

static const char *const how_names[] = {"provider name", "API URL", "model name"};

/* ------------------------------------------------------------- clauses */

static void clause_free(struct clause *c)
{
    for (size_t i = 0; i < c->nsub; i++)
        clause_free(&c->sub[i]);
    free(c->sub);
    free(c->s);
    if (c->re)
        pcre2_code_free(c->re);
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);

    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static pcre2_code *re_compile(const char *pat, char *why, size_t n)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);

    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof(msg));
        snprintf(why, n, "regex '%s': %s at %zu", pat, (char *)msg, (size_t)off);
    }
    return re;
}

static int clause_parse(json_t *j, struct clause *c, int depth, char *why, size_t n)
{
    static const char *const names[] = {"equals", "starts_with", "ends_with", "contains",
                                        "regex",  "and",         "or"};
    const char *key;
    json_t *v;

    memset(c, 0, sizeof(*c));
    if (!json_is_object(j) || json_object_size(j) != 1 || depth > 16) {
        snprintf(why, n,
                 "a match rule is an object with one of equals, starts_with, ends_with, "
                 "contains, regex, and, or");
        return LLM_EINVAL;
    }
    key = json_object_iter_key(json_object_iter(j));
    v = json_object_iter_value(json_object_iter(j));
    for (c->k = C_EQ; c->k <= C_OR; c->k++)
        if (!strcmp(key, names[c->k]))
            break;
    if (c->k > C_OR) {
        snprintf(why, n, "unknown match rule '%s'", key);
        return LLM_EINVAL;
    }
    if (c->k == C_AND || c->k == C_OR) {
        size_t i;
        json_t *s;
        if (!json_is_array(v)) {
            snprintf(why, n, "'%s' wants an array of rules", key);
            return LLM_EINVAL;
        }
        c->sub = calloc(json_array_size(v) + 1, sizeof(*c->sub));
        if (!c->sub)
            return LLM_ENOMEM;
        json_array_foreach(v, i, s)
        {
            int rc = clause_parse(s, &c->sub[i], depth + 1, why, n);
            c->nsub = i + 1;
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!json_is_string(v)) {
        snprintf(why, n, "'%s' wants a string", key);
        return LLM_EINVAL;
    }
    if (c->k == C_REGEX) {
        c->re = re_compile(json_string_value(v), why, n);
        return c->re ? 0 : LLM_EINVAL;
    }
    c->s = lower_dup(json_string_value(v));
    c->n = c->s ? strlen(c->s) : 0;
    return c->s ? 0 : LLM_ENOMEM;
}

static int re_match(pcre2_code *re, const char *s)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc;

    if (!md)
        return 0;
    rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* s is lower-cased */
static int clause_match(const struct clause *c, const char *s)
{
    size_t len = strlen(s);

    switch (c->k) {
    case C_EQ:
        return !strcmp(s, c->s);
    case C_STARTS:
        return !strncmp(s, c->s, c->n);
    case C_ENDS:
        return len >= c->n && !strcmp(s + len - c->n, c->s);
    case C_CONTAINS:
        return strstr(s, c->s) != NULL;
    case C_REGEX:
        return re_match(c->re, s);
    case C_AND:
        for (size_t i = 0; i < c->nsub; i++)
            if (!clause_match(&c->sub[i], s))
                return 0;
        return 1;
    case C_OR:
        for (size_t i = 0; i < c->nsub; i++)
            if (clause_match(&c->sub[i], s))
                return 1;
        return 0;
    }
    return 0;
}

/* ----------------------------------------------------------- validation */

static int only_keys(json_t *o, const char *const *keys, const char *what, char *why, size_t n)
{
    const char *k;
    json_t *v;

    json_object_foreach(o, k, v)
    {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k))
            i++;
        if (!keys[i]) {
            snprintf(why, n, "%s: unexpected member '%s'", what, k);
            return LLM_EINVAL;
        }
    }
    return 0;
}

static int is_price(json_t *v)
{
    return json_is_number(v) && json_number_value(v) >= 0 && isfinite(json_number_value(v));
}

/* A number, or {base, tiers: [{start, price}]}. */
static int check_rate(json_t *v, const char *key, char *why, size_t n)
{
    static const char *const tkeys[] = {"base", "tiers", NULL}, *const ikeys[] = {"start", "price",
                                                                                  NULL};
    json_t *tiers = json_object_get(v, "tiers"), *t;
    size_t i;

    if (is_price(v))
        return 0;
    if (!json_is_object(v) || only_keys(v, tkeys, key, why, n) ||
        !is_price(json_object_get(v, "base")) || !json_is_array(tiers))
        goto bad;
    json_array_foreach(tiers, i, t)
    {
        json_t *start = json_object_get(t, "start");
        if (!json_is_object(t) || only_keys(t, ikeys, key, why, n) || !json_is_integer(start) ||
            json_integer_value(start) < 0 || !is_price(json_object_get(t, "price")))
            goto bad;
    }
    return 0;
bad:
    snprintf(why, n, "%s is not a price >= 0 nor {base, tiers: [{start, price}]}", key);
    return LLM_EINVAL;
}

static int check_model_price(json_t *p, char *why, size_t n)
{
    const char *k;
    json_t *v;

    if (!json_is_object(p)) {
        snprintf(why, n, "prices is not an object");
        return LLM_EINVAL;
    }
    json_object_foreach(p, k, v)
    {
        size_t kl = strlen(k);
        if (!strcmp(k, "requests_kcount") ? !is_price(v) : check_rate(v, k, why, n) != 0) {
            if (!strcmp(k, "requests_kcount"))
                snprintf(why, n, "requests_kcount is not a number >= 0");
            return LLM_EINVAL;
        }
        if (strcmp(k, "requests_kcount") && (kl < 6 || strcmp(k + kl - 5, "_mtok"))) {
            snprintf(why, n, "unknown price '%s'", k);
            return LLM_EINVAL;
        }
    }
    return 0;
}

static int parse_clock(const char *s, int *secs); /* below */
static int parse_day(const char *s, int64_t *us);

static int check_prices(json_t *prices, char *why, size_t n)
{
    static const char *const ckeys[] = {"constraint", "prices", NULL};
    size_t i;
    json_t *c;

    if (!json_is_array(prices))
        return check_model_price(prices, why, n);
    if (!json_array_size(prices)) {
        snprintf(why, n, "prices is an empty list");
        return LLM_EINVAL;
    }
    json_array_foreach(prices, i, c)
    {
        json_t *con = json_object_get(c, "constraint");
        if (!json_is_object(c) || only_keys(c, ckeys, "conditional price", why, n))
            return LLM_EINVAL;
        if (con) {
            json_t *sd = json_object_get(con, "start_date"),
                   *st = json_object_get(con, "start_time"), *et = json_object_get(con, "end_time");
            int64_t us;
            int secs;
            int ok = json_is_object(con) &&
                     ((json_object_size(con) == 1 && json_is_string(sd) &&
                       !parse_day(json_string_value(sd), &us)) ||
                      (json_object_size(con) == 2 && json_is_string(st) && json_is_string(et) &&
                       !parse_clock(json_string_value(st), &secs) &&
                       !parse_clock(json_string_value(et), &secs)));
            if (!ok) {
                snprintf(why, n,
                         "constraint %zu is neither {start_date: YYYY-MM-DD} nor "
                         "{start_time, end_time: HH:MM:SSZ}",
                         i);
                return LLM_EINVAL;
            }
        }
        if (check_model_price(json_object_get(c, "prices"), why, n))
            return LLM_EINVAL;
    }
    return 0;
}

static int parse_model(json_t *j, struct db_model *m, char *why, size_t n)
{
    static const char *const keys[] = {"id",         "match",          "context_window",
                                       "prices",     "name",           "description",
                                       "deprecated", "price_comments", NULL};
    json_t *id = json_object_get(j, "id");

    if (!json_is_object(j) || only_keys(j, keys, "model", why, n))
        return LLM_EINVAL;
    if (!json_is_string(id) || !json_string_length(id)) {
        snprintf(why, n, "model without an id");
        return LLM_EINVAL;
    }
    m->id = json_string_value(id);
    m->match = json_object_get(j, "match");
    m->prices = json_object_get(j, "prices");
    if (!m->prices || check_prices(m->prices, why, n) || clause_parse(m->match, &m->c, 0, why, n)) {
        char sub[400];
        snprintf(sub, sizeof(sub), "%s", m->prices ? why : "missing prices");
        snprintf(why, n, "model %s: %s", m->id, sub);
        return LLM_EINVAL;
    }
    return 0;
}

static int parse_provider(json_t *j, struct db_provider *p, char *why, size_t n)
{
    static const char *const keys[] = {"id",
                                       "name",
                                       "api_pattern",
                                       "model_match",
                                       "provider_match",
                                       "extractors",
                                       "fallback_model_providers",
                                       "models",
                                       "pricing_urls",
                                       "description",
                                       "price_comments",
                                       NULL};
    json_t *id = json_object_get(j, "id"), *api = json_object_get(j, "api_pattern");
    json_t *models = json_object_get(j, "models"), *mm = json_object_get(j, "model_match");
    json_t *pm = json_object_get(j, "provider_match"), *v;
    char pat[1024];
    size_t i;
    int rc;

    if (!json_is_object(j) || only_keys(j, keys, "provider", why, n))
        return LLM_EINVAL;
    if (!json_is_string(id) || !json_is_string(json_object_get(j, "name")) ||
        !json_is_string(api) || !json_is_array(models)) {
        snprintf(why, n, "a provider wants id, name, api_pattern and models");
        return LLM_EINVAL;
    }
    p->id = json_string_value(id);
    p->fallback = json_object_get(j, "fallback_model_providers");
    if (p->fallback && !json_is_array(p->fallback)) {
        snprintf(why, n, "provider %s: fallback_model_providers is not a list", p->id);
        return LLM_EINVAL;
    }
    snprintf(pat, sizeof(pat), "^(?:%s)", json_string_value(api));
    if (!(p->api = re_compile(pat, why, n)))
        return LLM_EINVAL;
    if ((mm && (rc = clause_parse(mm, &p->mmatch, 0, why, n))) ||
        (pm && (rc = clause_parse(pm, &p->pmatch, 0, why, n))))
        return rc;
    p->has_mmatch = !!mm;
    p->has_pmatch = !!pm;
    p->m = calloc(json_array_size(models) + 1, sizeof(*p->m));
    if (!p->m)
        return LLM_ENOMEM;
    json_array_foreach(models, i, v)
    {
        rc = parse_model(v, &p->m[i], why, n);
        p->nm = i + 1;
        if (rc)
            return rc;
    }
    return 0;
}

void llm_pricedb_free(struct llm_pricedb *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->np; i++) {
        struct db_provider *p = &db->p[i];
        for (size_t k = 0; k < p->nm; k++)
            clause_free(&p->m[k].c);
        free(p->m);
        clause_free(&p->pmatch);
        clause_free(&p->mmatch);
        if (p->api)
            pcre2_code_free(p->api);
    }
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        free(db->cache[i].key);
    free(db->p);
    json_decref(db->doc);
    free(db);
}

int llm_pricedb_load(const char *path, struct llm_pricedb **out, char *why, size_t n)
{
    struct llm_pricedb *db = calloc(1, sizeof(*db));
    json_error_t jerr;
    size_t i;
    json_t *v;
    int rc = 0;

    if (!db)
        return LLM_ENOMEM;
    db->doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!db->doc) {
        snprintf(why, n, "line %d: %s", jerr.line, jerr.text);
        rc = LLM_EPARSE;
        goto fail;
    }
    if (!json_is_array(db->doc) || !json_array_size(db->doc)) {
        snprintf(why, n, "not a genai-prices database (a list of providers)");
        rc = LLM_EINVAL;
        goto fail;
    }
    db->p = calloc(json_array_size(db->doc), sizeof(*db->p));
    if (!db->p) {
        rc = LLM_ENOMEM;
        goto fail;
    }
    json_array_foreach(db->doc, i, v)
    {
        char sub[600] = "";
        rc = parse_provider(v, &db->p[i], sub, sizeof(sub));
        db->np = i + 1;
        if (rc) {
            snprintf(why, n, "provider %zu: %s", i, sub);
            goto fail;
        }
        db->nmodels += db->p[i].nm;
    }
    for (i = 0; i < CACHE_SLOTS; i++)
        db->cache[i].prov = -1;
    *out = db;
    return 0;
fail:
    llm_pricedb_free(db);
    return rc;
}

size_t llm_pricedb_count(const struct llm_pricedb *db, size_t *models)
{
    if (models)
        *models = db ? db->nmodels : 0;
    return db ? db->np : 0;
}

/* --------------------------------------------------------------- lookup */

static int provider_by_id(const struct llm_pricedb *db, const char *id)
{
    for (size_t i = 0; i < db->np; i++)
        if (!strcmp(db->p[i].id, id))
            return (int)i;
    return -1;
}

static int find_provider(const struct llm_pricedb *db, const char *provider, const char *url,
                         const char *model, int *how)
{
    int i = -1;

    if (provider && *provider) {
        char *name = lower_dup(provider);
        const char *id = name;
        for (size_t k = 0; name && k < sizeof(name_map) / sizeof(name_map[0]); k++)
            if (!strcmp(name, name_map[k][0]))
                id = name_map[k][1];
        i = name ? provider_by_id(db, id) : -1;
        for (size_t k = 0; name && i < 0 && k < db->np; k++)
            if (db->p[k].has_pmatch && clause_match(&db->p[k].pmatch, name))
                i = (int)k;
        free(name);
        *how = 0;
    }
    for (size_t k = 0; i < 0 && url && k < db->np; k++)
        if (re_match(db->p[k].api, url)) {
            i = (int)k;
            *how = 1;
        }
    for (size_t k = 0; i < 0 && k < db->np; k++)
        if (db->p[k].has_mmatch && clause_match(&db->p[k].mmatch, model)) {
            i = (int)k;
            *how = 2;
        }
    return i;
}

static int model_in(const struct db_provider *p, const char *model)
{
    for (size_t k = 0; k < p->nm; k++)
        if (clause_match(&p->m[k].c, model))
            return (int)k;
    return -1;
}

/* The model in provider pi, else in its fallbacks (*fb: the provider it was
 * found in). */
static int find_model(const struct llm_pricedb *db, int pi, const char *model, int *fb)
{
    const struct db_provider *p = &db->p[pi];
    size_t i;
    json_t *f;
    int m = model_in(p, model);

    *fb = pi;
    if (m >= 0)
        return m;
    json_array_foreach(p->fallback, i, f)
    {
        int q = json_is_string(f) ? provider_by_id(db, json_string_value(f)) : -1;
        if (q >= 0 && (m = model_in(&db->p[q], model)) >= 0) {
            *fb = q;
            return m;
        }
    }
    return -1;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100) || y % 400 == 0;
}

/* -YYYYMMDD (a valid date, followed by '-', ':' or the end) -> -YYYY-MM-DD;
 * returns whether anything changed. out holds 2 more bytes per date. */
static int spell_dates(const char *in, char *out, size_t n)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t o = 0;
    int changed = 0;

    for (const char *p = in; *p && o + 12 < n;) {
        int ok = p[0] == '-' && p[1] == '2' && p[2] == '0';
        for (int k = 3; ok && k < 9; k++)
            ok = isdigit((unsigned char)p[k]);
        ok = ok && (p[9] == '-' || p[9] == ':' || !p[9]);
        if (ok) {
            int y = atoi((char[]){p[1], p[2], p[3], p[4], 0});
            int mo = (p[5] - '0') * 10 + p[6] - '0', d = (p[7] - '0') * 10 + p[8] - '0';
            ok = mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] + (mo == 2 && is_leap(y));
        }
        if (ok) {
            o += (size_t)snprintf(out + o, n - o, "-%.4s-%.2s-%.2s", p + 1, p + 5, p + 7);
            p += 9;
            changed = 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return changed;
}

static unsigned long hash(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

/* Provider, model and fallback indexes for a call, memoised. */
static int resolve(struct llm_pricedb *db, const char *provider, const char *url, const char *model,
                   int *pi, int *mi, int *fb, int *how)
{
    char key[2048], lm[512], spelled[600];
    struct cache_slot *s;
    size_t a, b;

    a = strspn(model, " \t\r\n");
    snprintf(lm, sizeof(lm), "%s", model + a);
    for (b = strlen(lm); b && isspace((unsigned char)lm[b - 1]); b--)
        lm[b - 1] = '\0';
    for (char *p = lm; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(key, sizeof(key), "%.256s\x1f%.1024s\x1f%s", provider ? provider : "", url ? url : "",
             lm);
    s = &db->cache[hash(key) % CACHE_SLOTS];
    if (!s->key || strcmp(s->key, key)) {
        free(s->key);
        s->key = strdup(key);
        s->how = 0;
        s->model = -1;
        s->prov = find_provider(db, provider, url, lm, &s->how);
        if (s->prov >= 0) {
            s->model = find_model(db, s->prov, lm, &s->fb);
            if (s->model < 0 && spell_dates(lm, spelled, sizeof(spelled)))
                s->model = find_model(db, s->prov, spelled, &s->fb);
        }
    }
    *pi = s->prov;
    *mi = s->model;
    *fb = s->fb;
    *how = s->how;
    return s->prov >= 0 && s->model >= 0 ? 0 : LLM_ENOTFOUND;
}

/* ---------------------------------------------------------------- price */

/* HH:MM:SS[.frac](Z|+HH:MM|-HH:MM) -> seconds into the UTC day. */
static int parse_clock(const char *s, int *secs)
{
    int h, m, sec, oh = 0, om = 0, used = 0;
    const char *p;

    if (sscanf(s, "%2d:%2d:%2d%n", &h, &m, &sec, &used) != 3 || used != 8 || h > 23 || m > 59 ||
        sec > 59)
        return LLM_EINVAL;
    p = s + 8;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (*p == 'Z' && !p[1]) {
        *secs = h * 3600 + m * 60 + sec;
        return 0;
    }
    if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2d:%2d%n", &oh, &om, &used) != 2 || used != 5 ||
        p[6] || oh > 23 || om > 59)
        return LLM_EINVAL;
    *secs =
        ((h * 3600 + m * 60 + sec - (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60)) + 86400) % 86400;
    return 0;
}

static int parse_day(const char *s, int64_t *us)
{
    return strlen(s) == 10 ? llm_parse_time(s, us) : LLM_EINVAL;
}

/* The prices in force at us, and which (index, constraint). */
static json_t *pick_prices(json_t *prices, int64_t us, struct llm_pricedb_hit *hit)
{
    int64_t day = ((us / 1000000) % 86400 + 86400) % 86400;

    hit->nprices = json_is_array(prices) ? (int)json_array_size(prices) : 0;
    hit->index = 0;
    hit->when[0] = '\0';
    if (!json_is_array(prices))
        return prices;
    for (int i = hit->nprices - 1; i >= 0; i--) {
        json_t *c = json_array_get(prices, (size_t)i), *con = json_object_get(c, "constraint");
        const char *sd = json_string_value(json_object_get(con, "start_date"));
        const char *st = json_string_value(json_object_get(con, "start_time"));
        const char *et = json_string_value(json_object_get(con, "end_time"));
        int64_t from;
        int a, b, in;
        if (!con) {
            in = 1;
        } else if (sd) {
            in = !parse_day(sd, &from) && us >= from;
            snprintf(hit->when, sizeof(hit->when), "from %s", sd);
        } else {
            in = st && et && !parse_clock(st, &a) && !parse_clock(et, &b) &&
                 (b < a ? day >= a || day < b : day >= a && day < b);
            snprintf(hit->when, sizeof(hit->when), "daily %s-%s", st ? st : "?", et ? et : "?");
        }
        if (in) {
            hit->index = i;
            if (!con)
                hit->when[0] = '\0';
            return json_object_get(c, "prices");
        }
    }
    hit->when[0] = '\0';
    return json_object_get(json_array_get(prices, 0), "prices");
}

/* A rate at this prompt size; NAN when absent. */
static double rate_at(json_t *p, const char *key, int64_t input, int *tiered)
{
    json_t *v = json_object_get(p, key), *t;
    double r;
    size_t i;
    int64_t best = -1;

    if (!v)
        return NAN;
    if (json_is_number(v))
        return json_number_value(v);
    *tiered = 1;
    r = json_number_value(json_object_get(v, "base"));
    json_array_foreach(json_object_get(v, "tiers"), i, t)
    {
        int64_t start = json_integer_value(json_object_get(t, "start"));
        if (input > start && start >= best) {
            best = start;
            r = json_number_value(json_object_get(t, "price"));
        }
    }
    return r;
}

int llm_pricedb_price(struct llm_pricedb *db, const char *provider, const char *server,
                      const char *path, const char *model, int64_t us, int64_t input_tokens,
                      struct llm_pricedb_hit *hit)
{
    char url[1024], *rule;
    int pi, mi, fb, how;
    json_t *p;
    const struct db_model *m;

    if (!db || !model)
        return LLM_ENOTFOUND;
    if (server && *server)
        snprintf(url, sizeof(url), "https://%s%s", server, path ? path : "");
    if (resolve(db, provider, server && *server ? url : NULL, model, &pi, &mi, &fb, &how))
        return LLM_ENOTFOUND;
    m = &db->p[fb].m[mi];
    memset(hit, 0, sizeof(*hit));
    hit->provider = db->p[pi].id;
    hit->via = fb != pi ? db->p[fb].id : NULL;
    hit->model = m->id;
    hit->how = how_names[how];
    rule = json_dumps(m->match, JSON_COMPACT);
    snprintf(hit->rule, sizeof(hit->rule), "%s", rule ? rule : "?");
    free(rule);
    p = pick_prices(m->prices, us, hit);
    hit->rates.input = rate_at(p, "input_mtok", input_tokens, &hit->tiered);
    hit->rates.output = rate_at(p, "output_mtok", input_tokens, &hit->tiered);
    hit->rates.cache_read = rate_at(p, "cache_read_mtok", input_tokens, &hit->tiered);
    hit->rates.cache_write = rate_at(p, "cache_write_mtok", input_tokens, &hit->tiered);
    hit->rates.cache_write_1h = NAN;
    hit->per_request = json_is_number(json_object_get(p, "requests_kcount"))
                           ? json_number_value(json_object_get(p, "requests_kcount")) / 1000
                           : 0;
    return 0;
}
