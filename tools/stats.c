/* `llmops stats`: one row per group of calls (--by, default provider,model)
 * with calls, errors, token sums by kind, cost, latency percentiles, median
 * time to first token and output speed; as an aligned table, CSV or JSON.
 * Errors are calls whose status is anything but "ok" (a missing status
 * included: a call that never got an answer did not succeed). Token sums
 * add the counts that are known. Percentiles are nearest-rank over the calls
 * whose value is known. Cost is priced from the table at read time (cost.c)
 * and sums the calls that have a price; calls with tokens but no price are
 * counted per provider/model and named under the table. Groups can be many
 * (--by session), so they live in a hash table keyed by their joined key.
 * The filters (filter.h) pick the calls that count. */
#include "cli.h"
#include "cmd.h"
#include "cost.h"
#include "err.h"
#include "filter.h"
#include "record_json.h"
#include "stats_out.h"
#include "store.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name, *field;
} keys[] = {
    {"provider", "provider"},   {"model", "model"}, {"agent", "agent_id"},
    {"session", "session_id"},  {"exe", "exe"},     {"day", "timestamp"},
    {"workspace", "workspace"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char usage[] =
    "usage: llmops stats [--db DIR] [--by KEYS] [--format table|csv|json]\n"
    "                    [--prices FILE] [filters]\n"
    "\n"
    "Prints one row per group of calls: CALLS; ERRORS (status is not \"ok\");\n"
    "the sums of the known INPUT (whole prompt, cache included), OUTPUT\n"
    "(reasoning included), CACHE_READ, CACHE_WRITE and REASONING tokens;\n"
    "COST_USD, the sum over the calls the price table prices (see 'llmops\n"
    "prices --help'; calls with tokens but no price are listed under the\n"
    "table as 'no price for: provider/model (N calls)'); P50/P95/P99 of\n"
    "latency_ms and P50 of ttft_ms, nearest-rank percentiles over the calls\n"
    "that know them; OUT_TOK_S, output tokens per second: the sum of\n"
    "output_tokens over the sum of generation time, which is latency_ms -\n"
    "ttft_ms for streams that report ttft_ms and latency_ms for other calls.\n"
    "'-' stands for an unknown key or value. Only the records that pass the\n"
    "filters count.\n"
    "\n"
    "  --db DIR          the database directory (default: see 'llmops help')\n"
    "  --by KEYS         a comma list of provider, model, agent, session, exe,\n"
    "                    day (UTC date), workspace (default: provider,model)\n"
    "  --format FORMAT   table (the default, also when stdout is not a\n"
    "                    terminal), csv (RFC 4180 with a header row, no footer;\n"
    "                    an unpriced_calls column instead) or json (an array of\n"
    "                    objects, null for unknown values, with unpriced_calls)\n" LLM_PRICES_HELP
    "  -h, --help        show this help\n"
    "\n" LLM_FILTER_HELP;

enum { OPT_BY = LLM_CO_OWN, OPT_FORMAT };

static const struct option opts[] = {
    LLM_CMD_DB_OPT,
    LLM_CMD_PRICES_OPT,
    LLM_CMD_HELP_OPT,
    {"by", required_argument, NULL, OPT_BY},
    {"format", required_argument, NULL, OPT_FORMAT},
    LLM_FILTER_LONGOPTS,
    {NULL, 0, NULL, 0},
};

struct stats_ctx {
    struct llm_stats_acc a;
    char what[4200]; /* what failed: the database, or the record */
};

static int parse_by(struct llm_stats *s, const char *list, char *why, size_t n)
{
    const char *p = list;

    s->nby = 0;
    while (*p) {
        size_t len = strcspn(p, ","), k;
        for (k = 0; k < NKEYS; k++) {
            if (strlen(keys[k].name) == len && !strncmp(p, keys[k].name, len))
                break;
        }
        if (k == NKEYS || s->nby == LLM_STATS_MAX_BY) {
            snprintf(why, n,
                     "--by wants a comma list of provider, model, agent, session, exe, "
                     "day, workspace, not '%s'",
                     list);
            return LLM_EINVAL;
        }
        s->by[s->nby] = keys[k].name;
        s->field[s->nby++] = keys[k].field;
        p += len;
        if (*p == ',' && *++p == '\0')
            break;
    }
    if (!s->nby || p[-1] == ',') {
        snprintf(why, n, "--by wants a comma list of keys, not '%s'", list);
        return LLM_EINVAL;
    }
    return 0;
}

static int own_opt(void *arg, int c, const char *val, char *why, size_t n)
{
    struct llm_stats *s = arg;

    if (c == OPT_BY)
        return parse_by(s, val, why, n);
    if (c != OPT_FORMAT)
        return LLM_EINVAL;
    if (!strcmp(val, "table"))
        s->format = LLM_STATS_TABLE;
    else if (!strcmp(val, "csv"))
        s->format = LLM_STATS_CSV;
    else if (!strcmp(val, "json"))
        s->format = LLM_STATS_JSON;
    else {
        snprintf(why, n, "unknown format '%s' (table, csv or json)", val);
        return LLM_EINVAL;
    }
    return 0;
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int grow_slots(struct llm_stats_acc *c)
{
    size_t n = c->nslot ? c->nslot * 2 : 64;
    size_t *slot = calloc(n, sizeof(*slot));

    if (!slot)
        return LLM_ENOMEM;
    for (size_t i = 0; i < c->s.n; i++) {
        size_t h = hash(c->s.g[i].key) & (n - 1);
        while (slot[h])
            h = (h + 1) & (n - 1);
        slot[h] = i + 1;
    }
    free(c->slot);
    c->slot = slot;
    c->nslot = n;
    return 0;
}

static struct llm_stats_group *new_group(struct llm_stats_acc *c, const char *key,
                                         const char *val[LLM_STATS_MAX_BY])
{
    struct llm_stats_group *g;

    if (c->s.n == c->s.alloc) {
        size_t na = c->s.alloc ? c->s.alloc * 2 : 16;
        struct llm_stats_group *ng = realloc(c->s.g, na * sizeof(*ng));
        if (!ng)
            return NULL;
        c->s.g = ng;
        c->s.alloc = na;
    }
    g = &c->s.g[c->s.n];
    memset(g, 0, sizeof(*g));
    if (!(g->key = strdup(key)))
        return NULL;
    for (int i = 0; i < c->s.nby; i++) {
        if (val[i] && !(g->val[i] = strdup(val[i]))) {
            llm_stats_group_free(g);
            return NULL;
        }
    }
    c->s.n++;
    return g;
}

/* A key value of rec as text: strings as they are, integers (http_status)
 * written into buf, the day or hour of a timestamp; NULL when unknown. */
static const char *key_value(json_t *rec, const char *by, const char *field, char *buf, size_t n)
{
    json_t *v = json_object_get(rec, field);

    if (json_is_integer(v)) {
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (!json_is_string(v))
        return NULL;
    if (!strcmp(by, "day") || !strcmp(by, "hour")) {
        size_t len = strnlen(json_string_value(v), by[0] == 'd' ? 10 : 13);
        memcpy(buf, json_string_value(v), len < n ? len : n - 1);
        buf[len < n ? len : n - 1] = '\0';
        return buf;
    }
    return json_string_value(v);
}

/* The group of a record: key values joined by US, NUL-free; "\x01" for null.
 * Past max_groups, a key not seen yet counts in the one "(other)" group. */
static struct llm_stats_group *find_group(struct llm_stats_acc *c, json_t *rec)
{
    static const char *const other[LLM_STATS_MAX_BY] = {"(other)", "(other)", "(other)", "(other)",
                                                        "(other)", "(other)", "(other)"};
    const char *val[LLM_STATS_MAX_BY];
    char key[4096], buf[LLM_STATS_MAX_BY][32];
    size_t off = 0, h;

    key[0] = '\0'; /* not an initializer: that would clear all 4096 bytes per call */
    for (int i = 0; i < c->s.nby; i++) {
        val[i] = key_value(rec, c->s.by[i], c->s.field[i], buf[i], sizeof(buf[i]));
        const char *v = val[i] ? val[i] : "\x01";
        size_t len = strlen(v);
        if (off + len + 2 > sizeof(key)) /* absurdly long values: grouped by their head */
            len = sizeof(key) - 2 - off;
        memcpy(key + off, v, len);
        off += len;
        key[off++] = '\x1f';
        key[off] = '\0';
    }
    /* records in time order often repeat the last key (same day, program, host) */
    if (c->last && c->last <= c->s.n && !strcmp(c->s.g[c->last - 1].key, key))
        return &c->s.g[c->last - 1];
    for (int pass = 0; pass < 2; pass++) {
        if ((c->s.n + 1) * 2 > c->nslot && grow_slots(c))
            return NULL;
        for (h = hash(key) & (c->nslot - 1); c->slot[h]; h = (h + 1) & (c->nslot - 1)) {
            if (!strcmp(c->s.g[c->slot[h] - 1].key, key)) {
                c->last = c->slot[h];
                return &c->s.g[c->slot[h] - 1];
            }
        }
        if (!c->max_groups || c->s.n < c->max_groups || pass)
            break;
        snprintf(key, sizeof(key), "\x02other"); /* look the overflow group up instead */
        memcpy(val, other, sizeof(val));
    }
    if (!new_group(c, key, val))
        return NULL;
    c->slot[h] = c->last = c->s.n;
    return &c->s.g[c->s.n - 1];
}

static int push(struct llm_stats_vec *v, double d)
{
    if (v->n == v->alloc) {
        size_t na = v->alloc ? v->alloc * 2 : 64;
        double *nv = realloc(v->v, na * sizeof(*nv));
        if (!nv)
            return LLM_ENOMEM;
        v->v = nv;
        v->alloc = na;
    }
    v->v[v->n++] = d;
    return 0;
}

static int add_unpriced(struct llm_stats *s, json_t *rec)
{
    json_t *p = json_object_get(rec, "provider"), *m = json_object_get(rec, "model");
    char name[1024];

    snprintf(name, sizeof(name), "%s/%s", json_is_string(p) ? json_string_value(p) : "-",
             json_is_string(m) ? json_string_value(m) : "-");
    for (size_t i = 0; i < s->nunpriced; i++) {
        if (!strcmp(s->unpriced[i].name, name)) {
            s->unpriced[i].calls++;
            return 0;
        }
    }
    if (s->nunpriced == s->aunpriced) {
        size_t na = s->aunpriced ? s->aunpriced * 2 : 8;
        struct llm_stats_unpriced *nu = realloc(s->unpriced, na * sizeof(*nu));
        if (!nu)
            return LLM_ENOMEM;
        s->unpriced = nu;
        s->aunpriced = na;
    }
    if (!(s->unpriced[s->nunpriced].name = strdup(name)))
        return LLM_ENOMEM;
    s->unpriced[s->nunpriced++].calls = 1;
    return 0;
}

static const char *const tok_fields[LLM_STATS_NTOK] = {
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
};

void llm_stats_call_of(json_t *rec, struct llm_stats_call *k)
{
    json_t *status = json_object_get(rec, "status"), *v;
    json_t *lat = json_object_get(rec, "latency_ms"), *ttft = json_object_get(rec, "ttft_ms");

    memset(k, 0, sizeof(*k));
    k->ok = json_is_string(status) && !strcmp(json_string_value(status), "ok");
    for (int i = 0; i < LLM_STATS_NTOK; i++) {
        v = json_object_get(rec, tok_fields[i]);
        if (json_is_integer(v))
            k->tok[i] = json_integer_value(v);
    }
    k->cost = (int)llm_cost_of(rec, &k->usd);
    if ((k->has_lat = json_is_number(lat)))
        k->lat = json_number_value(lat);
    if ((k->has_ttft = json_is_number(ttft)))
        k->ttft = json_number_value(ttft);
    /* output speed: tokens over the time spent producing them */
    v = json_object_get(rec, "output_tokens");
    if (json_is_integer(v) && k->has_lat) {
        double ms = k->lat;
        if (json_is_true(json_object_get(rec, "stream")) && k->has_ttft)
            ms -= k->ttft;
        if (ms > 0) {
            k->has_speed = 1;
            k->speed_tokens = (double)json_integer_value(v);
            k->speed_s = ms / 1000;
        }
    }
}

int llm_stats_add_call(struct llm_stats_acc *c, json_t *rec, const struct llm_stats_call *k)
{
    struct llm_stats_group *g = find_group(c, rec);
    int rc = 0;

    if (!g)
        return LLM_ENOMEM;
    g->calls++;
    g->errors += !k->ok;
    for (int i = 0; i < LLM_STATS_NTOK; i++)
        g->tokens[i] += k->tok[i];
    if (k->cost == LLM_COST_OK) {
        g->cost += k->usd;
        g->cost_max = !g->priced || k->usd > g->cost_max ? k->usd : g->cost_max;
        g->priced++;
    } else if (k->cost == LLM_COST_NO_PRICE) {
        g->unpriced++;
        if (!c->no_names)
            rc = add_unpriced(&c->s, rec);
    }
    if (k->has_speed) {
        g->speed_tokens += k->speed_tokens;
        g->speed_s += k->speed_s;
    }
    if (k->has_lat) {
        g->lat_min = !g->lat_n || k->lat < g->lat_min ? k->lat : g->lat_min;
        g->lat_max = !g->lat_n || k->lat > g->lat_max ? k->lat : g->lat_max;
        g->lat_sum += k->lat;
        g->lat_n++;
        if (!rc && !c->no_samples)
            rc = push(&g->lat, k->lat);
    }
    if (!rc && !c->no_samples && k->has_ttft)
        rc = push(&g->ttft, k->ttft);
    return rc;
}

int llm_stats_add(struct llm_stats_acc *c, json_t *rec)
{
    struct llm_stats_call k;

    llm_stats_call_of(rec, &k);
    return llm_stats_add_call(c, rec, &k);
}

int llm_stats_acc_by(struct llm_stats_acc *c, const char *name, const char *field)
{
    if (c->s.nby == LLM_STATS_MAX_BY)
        return LLM_EINVAL;
    c->s.by[c->s.nby] = name;
    c->s.field[c->s.nby++] = field;
    return 0;
}

void llm_stats_acc_free(struct llm_stats_acc *c)
{
    llm_stats_free(&c->s);
    free(c->slot);
    memset(c, 0, sizeof(*c));
}

static int add_record(void *arg, const void *key, size_t klen, json_t *rec)
{
    struct stats_ctx *c = arg;

    return llm_stats_add(&c->a, rec);
}

/* The record reduced to the fields counted here (record_json.h): decoding
 * each whole record through jansson was most of the time. */
static int add_loaded(void *arg, const void *key, size_t klen, struct llm_rjson *rj)
{
    return add_record(arg, key, klen, rj->rec);
}

static void want(struct llm_rjson *rj, const char *name)
{
    int f = llm_field_lookup(name, strlen(name));

    if (f >= 0)
        rj->want[f] = 1;
}

static int scan(struct stats_ctx *c, struct llm_store *st, const struct llm_filter *filter)
{
    static const char *const read_here[] = {"status",     "provider", "model",        "stream",
                                            "latency_ms", "ttft_ms",  "output_tokens"};
    const char *old = getenv("LLMOPS_DEBUG_JANSSON"); /* the tests compare the two */
    struct llm_rjson rj;
    int rc;

    if (old && !strcmp(old, "1"))
        return llm_filter_scan(st, filter, add_record, c, c->what, sizeof(c->what));
    llm_rjson_init(&rj);
    llm_cost_fields(rj.want);
    for (size_t i = 0; i < sizeof(read_here) / sizeof(read_here[0]); i++)
        want(&rj, read_here[i]);
    for (int i = 0; i < LLM_STATS_NTOK; i++)
        want(&rj, tok_fields[i]);
    for (int i = 0; i < c->a.s.nby; i++)
        want(&rj, c->a.s.field[i]);
    rc = llm_filter_scan_text(st, filter, &rj, add_loaded, c, c->what, sizeof(c->what));
    llm_rjson_free(&rj);
    return rc;
}

int llm_stats_main(int argc, char **argv)
{
    struct stats_ctx c = {.a = {.s = {.format = LLM_STATS_TABLE}}};
    struct llm_cmd cmd = {.name = "stats",
                          .usage = usage,
                          .opts = opts,
                          .needs_db = 1,
                          .filters = 1,
                          .opt = own_opt,
                          .ctx = &c.a.s};
    struct llm_cmd_args a;
    struct llm_store *st;
    int rc = llm_cmd_parse(&cmd, argc, argv, &a);
    char why[64];

    if (rc >= 0)
        return rc;
    if (!c.a.s.nby)
        parse_by(&c.a.s, "provider,model", why, sizeof(why));
    if (llm_cost_load(0))
        return LLM_EXIT_RUNTIME;
    if (llm_cli_open(a.db, &st))
        return LLM_EXIT_RUNTIME;
    snprintf(c.what, sizeof(c.what), "read database %s", a.db);
    rc = scan(&c, st, &a.filter);
    if (rc)
        llm_cli_error(rc, "%s", c.what);
    else if ((rc = llm_stats_print(&c.a.s, stdout)))
        llm_cli_error(rc, "write standard output");
    llm_stats_acc_free(&c.a);
    llm_store_close(st);
    return rc ? LLM_EXIT_RUNTIME : 0;
}
