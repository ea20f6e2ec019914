/* mkstore: test-only generator of realistic stores for the llmops CLI tests.
 * It writes records the way the collector does (llm_record setters, then
 * llm_record_encode, then llm_store_put under ULID keys), but puts them in a
 * shuffled order so that the export's time order has to come from the keys.
 * The optional manifest lists, in time order, the fields each record was
 * given, built straight from the in-memory record: the test compares exports
 * against it, which checks the msgpack round trip end to end.
 * Values come from a seeded PRNG, so a seed always yields the same records
 * (apart from ULID randomness and, with --seconds, the clock). */
#include "err.h"
#include "record.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000000LL /* nanoseconds */
#define MAX_MIX 32

struct mix {
    char *provider, *model; /* NULL: leave the field unknown */
};

struct gen {
    uint64_t rng;
    struct mix mix[MAX_MIX];
    int nmix;
    int error_pct, null_tokens_pct;
    long seq; /* records generated so far */
};

struct item {
    uint8_t key[16];
    char *val;
    size_t len;
};

static const char usage[] =
    "usage: mkstore --db DIR [--count N] [--seed S] [--models P/M,...] [--error-pct P]\n"
    "               [--null-tokens-pct P] [--known] [--garbage] [--manifest FILE]\n"
    "               [--end TIME] [--json FILE]\n"
    "               [--seconds S [--batch B] [--pause-ms MS]]\n"
    "       mkstore --schema\n"
    "  --models     provider/model pairs picked at random; '-' leaves one unknown\n"
    "  --known      also write the fixed record the tests know by heart (first)\n"
    "  --garbage    also write one value that is not msgpack (last); prints its key\n"
    "  --json       also write the records in FILE, one JSON object of fields per\n"
    "               line, keyed by their timestamp (which they must have); keys\n"
    "               the schema does not know are written after the schema's, as\n"
    "               a newer llmops would\n"
    "  --manifest   write the fields of every record, in time order, as NDJSON\n"
    "  --end        place the records as if written up to TIME (RFC 3339), not now\n"
    "  --seconds    keep writing batches with the real clock for S seconds,\n"
    "               pausing MS milliseconds (default 2) between batches\n"
    "  --schema     print the record schema's field names, one per line\n";

static uint64_t next(struct gen *g)
{
    /* splitmix64: tiny, and good enough for test data */
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int pick(struct gen *g, int n)
{
    return (int)(next(g) % (uint64_t)n);
}

static int parse_mix(struct gen *g, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    int rc = 0;

    if (!copy)
        return LLM_ENOMEM;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *slash = strchr(tok, '/');
        if (!slash || g->nmix == MAX_MIX) {
            rc = LLM_EINVAL;
            break;
        }
        *slash = '\0';
        g->mix[g->nmix].provider = strcmp(tok, "-") ? strdup(tok) : NULL;
        g->mix[g->nmix].model = strcmp(slash + 1, "-") ? strdup(slash + 1) : NULL;
        g->nmix++;
    }
    free(copy);
    return g->nmix ? rc : LLM_EINVAL;
}

static void set_time(struct llm_record *r, enum llm_field f, int64_t ns)
{
    char t[LLM_RFC3339_LEN];
    llm_rfc3339(ns, t);
    llm_record_set_cstr(r, f, t);
}

static void set_fmt(struct llm_record *r, enum llm_field f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_fmt(struct llm_record *r, enum llm_field f, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    llm_record_set_cstr(r, f, buf);
}

/* Fields every record of a process shares. */
static void set_process(struct llm_record *r)
{
    llm_record_set_int(r, LLM_F_SCHEMA_VERSION, LLM_SCHEMA_VERSION);
    llm_record_set_cstr(r, LLM_F_OPERATION_TYPE, "chat");
    llm_record_set_cstr(r, LLM_F_HTTP_METHOD, "POST");
    llm_record_set_int(r, LLM_F_PID, 4242);
    llm_record_set_int(r, LLM_F_PPID, 4200);
    llm_record_set_cstr(r, LLM_F_EXE, "/usr/bin/python3.11");
    llm_record_set_cstr(r, LLM_F_ARGV, "[\"python3\",\"agent.py\",\"--task\",\"summarize\"]");
    llm_record_set_cstr(r, LLM_F_HOSTNAME, "devbox");
    llm_record_set_cstr(r, LLM_F_WORKSPACE, "/home/dev/project");
}

static void set_endpoint(struct llm_record *r, const char *provider)
{
    int openai = provider && !strcmp(provider, "openai");
    int anthropic = provider && !strcmp(provider, "anthropic");

    llm_record_set_cstr(r, LLM_F_API,
                        openai      ? "chat.completions"
                        : anthropic ? "messages"
                                    : "chat");
    llm_record_set_cstr(r, LLM_F_SERVER_ADDRESS,
                        openai      ? "api.openai.com"
                        : anthropic ? "api.anthropic.com"
                                    : "127.0.0.1");
    llm_record_set_int(r, LLM_F_SERVER_PORT, openai || anthropic ? 443 : 11434);
    llm_record_set_cstr(r, LLM_F_URL_PATH,
                        openai      ? "/v1/chat/completions"
                        : anthropic ? "/v1/messages"
                                    : "/api/chat");
    llm_record_set_cstr(r, LLM_F_HTTP_VERSION, openai ? "2" : "1.1");
    llm_record_set_cstr(r, LLM_F_CAPTURE, openai || anthropic ? "tls" : "plain");
}

static void set_usage(struct gen *g, struct llm_record *r, long i, int stream)
{
    int64_t in = 20 + pick(g, 4000), out = 1 + pick(g, 1500), cached = pick(g, 3) ? 0 : in / 2;

    llm_record_set_int(r, LLM_F_INPUT_TOKENS, in);
    llm_record_set_int(r, LLM_F_OUTPUT_TOKENS, out);
    llm_record_set_int(r, LLM_F_CACHE_READ_TOKENS, cached);
    llm_record_set_int(r, LLM_F_TOTAL_TOKENS, in + out);
    llm_record_set_cstr(r, LLM_F_USAGE_SOURCE, stream ? "stream" : "response");
    set_fmt(r, LLM_F_USAGE_RAW, "{\"prompt_tokens\":%lld,\"completion_tokens\":%lld}",
            (long long)in, (long long)out);
    llm_record_set_real(r, LLM_F_COST_USD, (double)(in * 25 + out * 100) / 1e7);
    llm_record_set_cstr(r, LLM_F_FINISH_REASON, i % 9 == 0 ? "length" : "stop");
}

/* One synthetic call at realtime ns; key gets its ULID. */
static void generate(struct gen *g, struct llm_record *r, int64_t ns, uint8_t key[16])
{
    const struct mix *m = &g->mix[pick(g, g->nmix)];
    long i = g->seq++;
    int stream = pick(g, 2), failed = pick(g, 100) < g->error_pct;
    double latency = (double)(50 + pick(g, 5000)) + (double)pick(g, 1000) / 1000.0;
    char ulid[LLM_ULID_LEN];

    llm_ulid_new(key, ns);
    llm_ulid_format(key, ulid);
    llm_record_init(r);
    set_process(r);
    llm_record_set_cstr(r, LLM_F_OPERATION_ID, ulid);
    set_time(r, LLM_F_TIMESTAMP, ns);
    llm_record_set_cstr(r, LLM_F_PROVIDER, m->provider);
    llm_record_set_cstr(r, LLM_F_REQUEST_MODEL, m->model);
    llm_record_set_cstr(r, LLM_F_RESPONSE_MODEL, failed ? NULL : m->model);
    llm_record_set_cstr(r, LLM_F_MODEL, m->model);
    set_endpoint(r, m->provider);
    llm_record_set_bool(r, LLM_F_STREAM, stream);
    llm_record_set_real(r, LLM_F_TEMPERATURE, (double)pick(g, 11) / 10.0);
    llm_record_set_int(r, LLM_F_MAX_TOKENS, 1024);
    set_fmt(r, LLM_F_COMPLETION_ARGS, "{\"max_tokens\":1024,\"stream\":%s}",
            stream ? "true" : "false");
    set_fmt(r, LLM_F_SESSION_ID, "sess-%ld", i / 10);
    set_fmt(r, LLM_F_ACTION_ID, "act-%ld", i);
    /* from i, not the PRNG, so a seed's other values stay what they were */
    if (i % 4 != 3)
        set_fmt(r, LLM_F_AGENT_ID, "agent-%ld", i % 4);
    if (i % 6 == 5)
        llm_record_set_cstr(r, LLM_F_OPERATION_TYPE, "embeddings");
    if (i % 2)
        llm_record_set_cstr(r, LLM_F_WORKSPACE, "/home/dev/other");
    llm_record_set_int(r, LLM_F_REQUEST_BYTES, 300 + pick(g, 20000));
    if (i % 25 != 24) { /* now and then the timing is lost */
        set_time(r, LLM_F_END_TIMESTAMP, ns + (int64_t)(latency * 1e6));
        llm_record_set_real(r, LLM_F_LATENCY_MS, latency);
        llm_record_set_real(r, LLM_F_TTFB_MS, latency / 8);
        if (stream)
            llm_record_set_real(r, LLM_F_TTFT_MS, latency / 4);
    }
    if (i % 5 != 4)
        set_fmt(r, LLM_F_EXTRAS,
                "{\"team\":\"search\",\"run\":%ld,\"tags\":[\"eval\",\"nightly\"],"
                "\"nested\":{\"ok\":%s,\"ratio\":0.25,\"note\":\"caf\\u00e9 \\\"q\\\"\"}}",
                i, i % 2 ? "true" : "false");
    if (failed) {
        int limited = pick(g, 2);
        llm_record_set_cstr(r, LLM_F_STATUS, "error");
        llm_record_set_int(r, LLM_F_HTTP_STATUS, limited ? 429 : 500);
        llm_record_set_cstr(r, LLM_F_ERROR_TYPE, limited ? "rate_limit_error" : "server_error");
        llm_record_set_cstr(r, LLM_F_ERROR_MESSAGE,
                            limited ? "Rate limit reached for requests" : "Internal error");
        llm_record_set_int(r, LLM_F_RESPONSE_BYTES, 180);
        return;
    }
    llm_record_set_cstr(r, LLM_F_STATUS, "ok");
    llm_record_set_int(r, LLM_F_HTTP_STATUS, 200);
    llm_record_set_int(r, LLM_F_RESPONSE_BYTES, 500 + pick(g, 60000));
    llm_record_set_bool(r, LLM_F_TRUNCATED, 0);
    set_fmt(r, LLM_F_RESPONSE, "Answer %ld: \"quoted\", a\ttab, a\\backslash,\nline 2 \xe2\x98\x83",
            i);
    if (pick(g, 100) >= g->null_tokens_pct)
        set_usage(g, r, i, stream);
    if (i % 7 == 3)
        llm_record_set_cstr(
            r, LLM_F_TOOL_CALLS,
            "[{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]");
}

/* The record test_cli.sh checks value by value. */
static void known(struct llm_record *r, uint8_t key[16])
{
    int64_t us;
    char ulid[LLM_ULID_LEN];

    llm_parse_time("2024-02-29T12:34:56.789012Z", &us);
    llm_ulid_new(key, us * 1000);
    llm_ulid_format(key, ulid);
    llm_record_init(r);
    set_process(r);
    llm_record_set_cstr(r, LLM_F_OPERATION_ID, ulid);
    set_time(r, LLM_F_TIMESTAMP, us * 1000);
    llm_record_set_cstr(r, LLM_F_PROVIDER, "openai");
    llm_record_set_cstr(r, LLM_F_MODEL, "gpt-4o-mini");
    llm_record_set_cstr(r, LLM_F_STATUS, "ok");
    llm_record_set_int(r, LLM_F_INPUT_TOKENS, 1234);
    llm_record_set_int(r, LLM_F_OUTPUT_TOKENS, 567);
    llm_record_set_real(r, LLM_F_LATENCY_MS, 812.5);
    llm_record_set_bool(r, LLM_F_STREAM, 1);
    llm_record_set_cstr(r, LLM_F_RESPONSE, "h\xc3\xa9llo \"w\"\n\\ \xe2\x98\x83");
    llm_record_set_cstr(r, LLM_F_EXTRAS,
                        "{\"team\":\"search\",\"n\":[1,2,3],\"deep\":{\"x\":null}}");
}

/* The fields r holds, as a JSON object, from memory rather than msgpack. */
static json_t *manifest_entry(const struct llm_record *r)
{
    json_t *o = json_object();

    for (int f = 0; o && f < LLM_F__COUNT; f++) {
        const struct llm_value *v = &r->f[f];
        json_t *j;
        if (!v->set)
            continue;
        switch (llm_schema[f].type) {
        case LLM_T_INT:
            j = json_integer(v->u.i);
            break;
        case LLM_T_REAL:
            j = json_real(v->u.d);
            break;
        case LLM_T_BOOL:
            j = json_boolean(v->u.b);
            break;
        case LLM_T_MAP:
        case LLM_T_ARRAY:
            j = json_loadb(v->u.s.p, v->u.s.n, 0, NULL);
            break;
        default:
            j = json_stringn(v->u.s.p, v->u.s.n);
        }
        json_object_set_new(o, llm_schema[f].name, j ? j : json_string("<mkstore: bad value>"));
    }
    return o;
}

static int add_item(struct item *it, struct llm_record *r, FILE *manifest)
{
    int rc = llm_record_encode(r, &it->val, &it->len);

    if (!rc && manifest) {
        json_t *m = manifest_entry(r);
        if (!m || json_dumpf(m, manifest, JSON_COMPACT) || fputc('\n', manifest) == EOF)
            rc = LLM_ENOMEM;
        json_decref(m);
    }
    llm_record_clear(r);
    return rc;
}

static int put_items(struct llm_store *s, struct item *items, size_t n, size_t batch)
{
    struct llm_kv *kv = calloc(batch, sizeof(*kv));
    int rc = 0;

    if (!kv)
        return LLM_ENOMEM;
    for (size_t off = 0; off < n && !rc; off += batch) {
        size_t k = n - off < batch ? n - off : batch;
        for (size_t i = 0; i < k; i++)
            kv[i] = (struct llm_kv){items[off + i].key, 16, items[off + i].val, items[off + i].len};
        rc = llm_store_put(s, kv, k);
    }
    free(kv);
    return rc;
}

static void free_items(struct item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i].val);
    free(items);
}

/* Writes count records (plus the known one) spread over the past. */
static int write_fixed(struct gen *g, struct llm_store *s, long count, int with_known,
                       int64_t end_ns, FILE *manifest)
{
    struct item *items = calloc((size_t)count + 1, sizeof(*items));
    struct llm_record r;
    int64_t t = end_ns - (int64_t)count * 3000 * MS;
    size_t n = 0;
    int rc = 0;

    if (!items)
        return LLM_ENOMEM;
    if (with_known) {
        known(&r, items[n].key);
        rc = add_item(&items[n++], &r, manifest);
    }
    for (long i = 0; i < count && !rc; i++) {
        t += (1000 + pick(g, 2000)) * MS; /* distinct milliseconds: keys sort by time */
        generate(g, &r, t, items[n].key);
        rc = add_item(&items[n++], &r, manifest);
    }
    for (size_t i = n; i > 1 && !rc; i--) { /* Fisher-Yates: put order is not time order */
        size_t j = (size_t)pick(g, (int)i);
        struct item tmp = items[i - 1];
        items[i - 1] = items[j];
        items[j] = tmp;
    }
    if (!rc)
        rc = put_items(s, items, n, 100);
    free_items(items, n);
    return rc;
}

/* Keeps writing batches stamped with the real clock, like a live collector. */
static int write_live(struct gen *g, struct llm_store *s, double seconds, size_t batch,
                      long pause_ms, FILE *manifest)
{
    struct item *items = calloc(batch, sizeof(*items));
    struct llm_record r;
    int64_t end = llm_mono_ns() + (int64_t)(seconds * 1e9), last = 0;
    long total = 0;
    int rc = 0;

    if (!items)
        return LLM_ENOMEM;
    while (!rc && llm_mono_ns() < end) {
        size_t n = 0;
        for (; n < batch && !rc; n++) {
            int64_t t = llm_now_ns();
            last = t > last + MS ? t : last + MS;
            generate(g, &r, last, items[n].key);
            rc = add_item(&items[n], &r, manifest);
        }
        if (!rc)
            rc = put_items(s, items, n, batch);
        for (size_t i = 0; i < n; i++)
            free(items[i].val);
        total += (long)n;
        nanosleep(&(struct timespec){pause_ms / 1000, pause_ms % 1000 * MS}, NULL);
    }
    free(items);
    if (!rc)
        printf("wrote %ld\n", total);
    return rc;
}

/* One field of a --json record, converted to its schema type. */
static int set_json_field(struct llm_record *r, int f, json_t *v)
{
    char *text;

    switch (llm_schema[f].type) {
    case LLM_T_INT:
        llm_record_set_int(r, f, json_integer_value(v));
        return json_is_integer(v) ? 0 : LLM_EINVAL;
    case LLM_T_REAL:
        llm_record_set_real(r, f, json_number_value(v));
        return json_is_number(v) ? 0 : LLM_EINVAL;
    case LLM_T_BOOL:
        llm_record_set_bool(r, f, json_is_true(v));
        return json_is_boolean(v) ? 0 : LLM_EINVAL;
    default:
        if (json_is_string(v))
            return llm_record_set_cstr(r, f, json_string_value(v));
        text = json_dumps(v, JSON_COMPACT); /* objects for the JSON-text fields */
        if (!text)
            return LLM_ENOMEM;
        llm_record_take_str(r, f, text, strlen(text));
        return 0;
    }
}

/* The encoded record (a map) with the members of extra after its own: a
 * record of a newer schema. Replaces *val. */
static int add_unknown(char **val, size_t *len, json_t *extra)
{
    const unsigned char *p = (const unsigned char *)*val;
    size_t hdr, count;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    const char *k;
    json_t *x;

    if (*p >= 0x80 && *p <= 0x8f)
        hdr = 1, count = *p & 0x0f;
    else if (*p == 0xde)
        hdr = 3, count = (size_t)p[1] << 8 | p[2];
    else
        return LLM_EINVAL;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, count + json_object_size(extra));
    msgpack_sbuffer_write(&sb, *val + hdr, *len - hdr);
    json_object_foreach(extra, k, x)
    {
        msgpack_pack_str_with_body(&pk, k, strlen(k));
        llm_msgpack_pack_json(&pk, x);
    }
    free(*val);
    *val = sb.data;
    *len = sb.size;
    return 0;
}

/* --json: records spelled out field by field, for tests that need exact values. */
static int write_json(struct llm_store *s, const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[1 << 16];
    int rc = 0;

    if (!fp)
        return -errno;
    while (!rc && fgets(line, sizeof(line), fp)) {
        json_t *o = json_loads(line, 0, NULL), *v, *extra = json_object();
        struct llm_record r;
        struct llm_kv kv;
        uint8_t key[16];
        char ulid[LLM_ULID_LEN], *val;
        const char *name;
        int64_t us;
        size_t len;

        if (!o || !json_is_string(json_object_get(o, "timestamp")) ||
            llm_parse_time(json_string_value(json_object_get(o, "timestamp")), &us)) {
            json_decref(o);
            json_decref(extra);
            rc = strspn(line, " \t\r\n") == strlen(line) ? 0 : LLM_EINVAL;
            continue;
        }
        llm_record_init(&r);
        llm_ulid_new(key, us * 1000);
        llm_ulid_format(key, ulid);
        llm_record_set_cstr(&r, LLM_F_OPERATION_ID, ulid);
        llm_record_set_int(&r, LLM_F_SCHEMA_VERSION, LLM_SCHEMA_VERSION);
        json_object_foreach(o, name, v)
        {
            int f = llm_field_lookup(name, strlen(name));
            if (f < 0)
                json_object_set(extra, name, v);
            else if (json_is_null(v))
                llm_record_unset(&r, f);
            else if (!rc)
                rc = set_json_field(&r, f, v);
        }
        json_decref(o);
        if (!rc)
            rc = llm_record_encode(&r, &val, &len);
        if (!rc && json_object_size(extra))
            rc = add_unknown(&val, &len, extra);
        json_decref(extra);
        llm_record_clear(&r);
        if (rc)
            break;
        kv = (struct llm_kv){key, 16, val, len};
        rc = llm_store_put(s, &kv, 1);
        free(val);
    }
    fclose(fp);
    return rc;
}

static int write_garbage(struct llm_store *s)
{
    static const char junk[] = "\xc1 this is not msgpack";
    uint8_t key[16];
    char ulid[LLM_ULID_LEN];
    struct llm_kv kv = {key, 16, junk, sizeof(junk) - 1};

    llm_ulid_new(key, llm_now_ns() + 1000 * MS); /* after everything else */
    llm_ulid_format(key, ulid);
    printf("%s\n", ulid);
    return llm_store_put(s, &kv, 1);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", 1, NULL, 'd'},      {"count", 1, NULL, 'n'},     {"seed", 1, NULL, 's'},
        {"models", 1, NULL, 'm'},  {"error-pct", 1, NULL, 'e'}, {"null-tokens-pct", 1, NULL, 't'},
        {"known", 0, NULL, 'k'},   {"garbage", 0, NULL, 'g'},   {"manifest", 1, NULL, 'M'},
        {"seconds", 1, NULL, 'S'}, {"batch", 1, NULL, 'b'},     {"pause-ms", 1, NULL, 'p'},
        {"schema", 0, NULL, 'x'},  {"help", 0, NULL, 'h'},      {"end", 1, NULL, 'E'},
        {"json", 1, NULL, 'J'},    {NULL, 0, NULL, 0},
    };
    struct gen g = {.rng = 1, .error_pct = 10, .null_tokens_pct = 10};
    const char *db = NULL, *mix = "openai/gpt-4o,openai/gpt-4o-mini,"
                                  "anthropic/claude-3-5-sonnet-20241022,ollama/-,-/-";
    const char *manifest_path = NULL, *json_path = NULL;
    long count = 100, batch = 50, pause_ms = 2;
    double seconds = 0;
    int64_t end_ns = llm_now_ns(), end_us;
    int c, with_known = 0, garbage = 0, rc = 0;
    struct llm_store *s;
    FILE *manifest = NULL;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'n':
            count = strtol(optarg, NULL, 10);
            break;
        case 's':
            g.rng = strtoull(optarg, NULL, 10);
            break;
        case 'm':
            mix = optarg;
            break;
        case 'e':
            g.error_pct = atoi(optarg);
            break;
        case 't':
            g.null_tokens_pct = atoi(optarg);
            break;
        case 'k':
            with_known = 1;
            break;
        case 'J':
            json_path = optarg;
            break;
        case 'g':
            garbage = 1;
            break;
        case 'M':
            manifest_path = optarg;
            break;
        case 'S':
            seconds = strtod(optarg, NULL);
            break;
        case 'b':
            batch = strtol(optarg, NULL, 10);
            break;
        case 'p':
            pause_ms = strtol(optarg, NULL, 10);
            break;
        case 'E':
            if (llm_parse_time(optarg, &end_us)) {
                fputs(usage, stderr);
                return 2;
            }
            end_ns = end_us * 1000;
            break;
        case 'x':
            for (int f = 0; f < LLM_F__COUNT; f++)
                puts(llm_schema[f].name);
            return 0;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!db || count < 0 || batch < 1 || pause_ms < 0 || optind < argc || parse_mix(&g, mix)) {
        fputs(usage, stderr);
        rc = 2;
        goto mix_free;
    }
    if (manifest_path && !(manifest = fopen(manifest_path, "w"))) {
        perror(manifest_path);
        rc = 1;
        goto mix_free;
    }
    rc = llm_store_open(db, LLM_STORE_NOSYNC, &s);
    if (rc)
        goto manifest_close;
    if (seconds > 0)
        rc = write_live(&g, s, seconds, (size_t)batch, pause_ms, manifest);
    else
        rc = write_fixed(&g, s, count, with_known, end_ns, manifest);
    if (!rc && json_path)
        rc = write_json(s, json_path);
    if (!rc && garbage)
        rc = write_garbage(s);
    llm_store_close(s);
manifest_close:
    if (manifest && fclose(manifest) && !rc)
        rc = -errno;
    if (rc) {
        fprintf(stderr, "mkstore: %s: %s\n", db, llm_strerror(rc));
        rc = 1;
    }
mix_free:
    for (int i = 0; i < g.nmix; i++) {
        free(g.mix[i].provider);
        free(g.mix[i].model);
    }
    return rc;
}
