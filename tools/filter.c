/* Filters for `export` and `stats`: parsing the options, matching a decoded
 * record, and the scan that applies them.
 *
 * Time ranges cost only what they select: store keys are ULIDs whose first
 * 48 bits are the record's millisecond time, so --since/--until become the
 * keys [since_ms, 0...) and [until_ms rounded up, 0...) handed to
 * llm_store_scan. Within the boundary milliseconds the record's own
 * microsecond timestamp decides, so the result is exact to the microsecond.
 * The other filters need the decoded record and are checked per record.
 * A filtered field that is null never matches. The text scan (NDJSON/JSON
 * export) decodes only the fields the filters and the price read, and the
 * record is then written from its msgpack (record_json.c). */
#include "filter.h"
#include "cli.h"
#include "err.h"
#include "progress.h"
#include "record.h"
#include "record_json.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ULID_MS_MAX ((int64_t)0xffffffffffff) /* 48 bits */

/* The record field each exact-match option compares, in enum order. */
static const struct {
    const char *flag, *field;
} eq_opts[LLM_FILTER_NEQ] = {
    {"--provider", "provider"},   {"--model", "model"},    {"--operation-type", "operation_type"},
    {"--session", "session_id"},  {"--agent", "agent_id"}, {"--action", "action_id"},
    {"--workspace", "workspace"}, {"--status", "status"},
};

int llm_filter_is_option(int opt)
{
    return opt >= LLM_FO_SINCE && opt <= LLM_FO_MAX_LATENCY;
}

static int parse_count(const char *flag, const char *arg, int64_t *out, char *why, size_t n)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < 0) {
        snprintf(why, n, "%s wants a whole number >= 0, not '%s'", flag, arg);
        return LLM_EINVAL;
    }
    *out = v;
    return 0;
}

static int parse_ms(const char *flag, const char *arg, double *out, char *why, size_t n)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < 0) {
        snprintf(why, n, "%s wants milliseconds >= 0, not '%s'", flag, arg);
        return LLM_EINVAL;
    }
    *out = v;
    return 0;
}

/* llm_parse_time() takes any day up to 31 (timegm then rolls 02-30 over into
 * March); a filter bound that names no real day is a typo worth reporting. */
static int real_day(const char *s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1)
        return 0;
    if (m == 2 && d == 29)
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1];
}

static int parse_when(const char *flag, const char *arg, int64_t *us, char *why, size_t n)
{
    if (llm_parse_time(arg, us) || !real_day(arg)) {
        snprintf(why, n, "%s wants a date YYYY-MM-DD or an RFC 3339 time, not '%s'", flag, arg);
        return LLM_EINVAL;
    }
    return 0;
}

int llm_filter_option(struct llm_filter *f, int opt, const char *arg, char *why, size_t n)
{
    switch (opt) {
    case LLM_FO_SINCE:
        f->has_since = 1;
        return parse_when("--since", arg, &f->since_us, why, n);
    case LLM_FO_UNTIL:
        f->has_until = 1;
        return parse_when("--until", arg, &f->until_us, why, n);
    case LLM_FO_MIN_TOKENS:
        f->has_min_tokens = 1;
        return parse_count("--min-tokens", arg, &f->min_tokens, why, n);
    case LLM_FO_MAX_TOKENS:
        f->has_max_tokens = 1;
        return parse_count("--max-tokens", arg, &f->max_tokens, why, n);
    case LLM_FO_MIN_LATENCY:
        f->has_min_latency = 1;
        return parse_ms("--min-latency", arg, &f->min_latency, why, n);
    case LLM_FO_MAX_LATENCY:
        f->has_max_latency = 1;
        return parse_ms("--max-latency", arg, &f->max_latency, why, n);
    default:
        if (opt < LLM_FO_PROVIDER || opt > LLM_FO_STATUS) {
            snprintf(why, n, "not a filter option");
            return LLM_EINVAL;
        }
        f->eq[opt - LLM_FO_PROVIDER] = arg;
        return 0;
    }
}

/* The record's own start time decides at the boundaries of the key range. */
static int in_time_range(const struct llm_filter *f, json_t *rec)
{
    json_t *ts = json_object_get(rec, "timestamp");
    int64_t us;

    if (!json_is_string(ts) || llm_parse_time(json_string_value(ts), &us))
        return 1; /* no usable timestamp: its key put it in range */
    return (!f->has_since || us >= f->since_us) && (!f->has_until || us < f->until_us);
}

static int tokens_match(const struct llm_filter *f, json_t *rec)
{
    json_t *in = json_object_get(rec, "input_tokens"), *out = json_object_get(rec, "output_tokens");
    int64_t sum = 0;

    if (!json_is_integer(in) && !json_is_integer(out))
        return 0;
    if (json_is_integer(in))
        sum += json_integer_value(in);
    if (json_is_integer(out))
        sum += json_integer_value(out);
    return (!f->has_min_tokens || sum >= f->min_tokens) &&
           (!f->has_max_tokens || sum <= f->max_tokens);
}

static int latency_match(const struct llm_filter *f, json_t *rec)
{
    json_t *lat = json_object_get(rec, "latency_ms");
    double ms;

    if (!json_is_number(lat))
        return 0;
    ms = json_number_value(lat);
    return (!f->has_min_latency || ms >= f->min_latency) &&
           (!f->has_max_latency || ms <= f->max_latency);
}

/* A field read here must be marked by llm_filter_fields too: the JSON
 * exports and tail hand over records with only the marked fields decoded. */
int llm_filter_match(const struct llm_filter *f, json_t *rec)
{
    for (int i = 0; i < LLM_FILTER_NEQ; i++) {
        json_t *v;
        if (!f->eq[i])
            continue;
        v = json_object_get(rec, eq_opts[i].field);
        if (!json_is_string(v) || strcmp(json_string_value(v), f->eq[i]))
            return 0;
    }
    if ((f->has_since || f->has_until) && !in_time_range(f, rec))
        return 0;
    if ((f->has_min_tokens || f->has_max_tokens) && !tokens_match(f, rec))
        return 0;
    if ((f->has_min_latency || f->has_max_latency) && !latency_match(f, rec))
        return 0;
    return 1;
}

void llm_filter_fields(const struct llm_filter *f, unsigned char want[LLM_F__COUNT])
{
    for (int i = 0; i < LLM_FILTER_NEQ; i++) {
        int k = llm_field_lookup(eq_opts[i].field, strlen(eq_opts[i].field));
        if (f->eq[i] && k >= 0)
            want[k] = 1;
    }
    if (f->has_since || f->has_until)
        want[LLM_F_TIMESTAMP] = 1;
    if (f->has_min_tokens || f->has_max_tokens)
        want[LLM_F_INPUT_TOKENS] = want[LLM_F_OUTPUT_TOKENS] = 1;
    if (f->has_min_latency || f->has_max_latency)
        want[LLM_F_LATENCY_MS] = 1;
}

/* The key of the first record at or after millisecond ms: ms, then zero bits. */
static void key_at(int64_t ms, uint8_t key[16])
{
    memset(key, 0, 16);
    for (int i = 0; i < 6; i++)
        key[i] = (uint8_t)((uint64_t)ms >> (40 - 8 * i));
}

struct scan_ctx {
    const struct llm_filter *f;
    llm_filter_visit_fn fn;
    llm_filter_text_fn text_fn; /* instead of fn: the text scan */
    struct llm_rjson *rj;
    void *ctx;
    size_t scanned;
    char *what;
    size_t n;
};

static size_t corrupt_skipped;

size_t llm_filter_corrupt_skipped(void)
{
    return corrupt_skipped;
}

/* A record that cannot be decoded is skipped with a warning naming its key:
 * one bad record must not cost every other one (the caller reports the
 * count at the end, see llm_filter_corrupt_skipped). */
static int skip_corrupt(const void *key, size_t klen, int rc)
{
    char name[96];

    if (rc != LLM_ECORRUPT)
        return rc;
    llm_cli_key_name(key, klen, name, sizeof(name));
    fprintf(stderr, "llmops: %s: %s; skipped\n", name, llm_strerror(rc));
    corrupt_skipped++;
    return 0;
}

static int visit(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct scan_ctx *c = arg;
    void *p;
    int rc;

    c->scanned++;
    llm_progress_tick();
    rc = llm_record_to_json(val, vlen, &p);
    if (rc == LLM_ECORRUPT)
        return skip_corrupt(key, klen, rc);
    if (rc) {
        llm_cli_key_name(key, klen, c->what, c->n);
        return rc;
    }
    if (llm_filter_match(c->f, p))
        rc = c->fn(c->ctx, key, klen, p);
    json_decref(p);
    return rc;
}

/* The text scan's visit: the record loaded once, for the filters and for
 * the text (see record_json.h), never decoded twice. */
static int visit_text(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct scan_ctx *c = arg;
    int rc;

    c->scanned++;
    llm_progress_tick();
    rc = llm_rjson_load(c->rj, val, vlen);
    if (rc == LLM_ECORRUPT)
        return skip_corrupt(key, klen, rc);
    if (rc) {
        llm_cli_key_name(key, klen, c->what, c->n);
        return rc;
    }
    return llm_filter_match(c->f, c->rj->rec) ? c->text_fn(c->ctx, key, klen, c->rj) : 0;
}

/* key + 1 as a 128-bit big-endian number; 0 when key is the last possible one. */
static int key_next(const uint8_t key[16], uint8_t next[16])
{
    int i = 15;

    memcpy(next, key, 16);
    while (i >= 0 && ++next[i] == 0)
        i--;
    return i >= 0;
}

/* The scan of c->f's key range (past after, if not NULL) with c's visitor. */
static int scan(struct llm_store *s, struct scan_ctx *c, const uint8_t *after)
{
    const struct llm_filter *f = c->f;
    uint8_t from[16], to[16], next[16];
    const uint8_t *fromp = NULL, *top = NULL;
    const char *debug = getenv("LLMOPS_DEBUG_SCAN");
    int rc = 0;

    if (f->has_since && f->since_us > 0) {
        int64_t ms = f->since_us / 1000;
        if (ms > ULID_MS_MAX)
            goto scanned; /* after every possible key */
        key_at(ms, from);
        fromp = from;
    }
    if (f->has_until) {
        int64_t ms = f->until_us <= 0 ? 0 : (f->until_us + 999) / 1000; /* ceil: exclusive */
        if (ms <= ULID_MS_MAX) {
            key_at(ms, to);
            top = to;
        }
    }
    if (after) {
        if (!key_next(after, next))
            goto scanned; /* nothing comes after the last key */
        if (!fromp || memcmp(next, fromp, 16) > 0)
            fromp = next;
    }
    if (fromp && top && memcmp(fromp, top, 16) >= 0)
        goto scanned; /* an empty range */
    llm_progress_begin(s, fromp, top);
    rc = llm_store_scan(s, fromp, top, c->text_fn ? visit_text : visit, c);
    llm_progress_end();
scanned:
    if (!rc && debug && !strcmp(debug, "1"))
        fprintf(stderr, "scanned %zu\n", c->scanned);
    return rc;
}

int llm_filter_scan(struct llm_store *s, const struct llm_filter *f, llm_filter_visit_fn fn,
                    void *ctx, char *what, size_t n)
{
    return llm_filter_scan_after(s, f, NULL, fn, ctx, what, n);
}

int llm_filter_scan_text(struct llm_store *s, const struct llm_filter *f, struct llm_rjson *rj,
                         llm_filter_text_fn fn, void *ctx, char *what, size_t n)
{
    struct scan_ctx c = {.f = f, .text_fn = fn, .rj = rj, .ctx = ctx, .what = what, .n = n};

    llm_filter_fields(f, rj->want);
    return scan(s, &c, NULL);
}

int llm_filter_scan_after(struct llm_store *s, const struct llm_filter *f, const uint8_t *after,
                          llm_filter_visit_fn fn, void *ctx, char *what, size_t n)
{
    struct scan_ctx c = {.f = f, .fn = fn, .ctx = ctx, .what = what, .n = n};

    return scan(s, &c, after);
}
