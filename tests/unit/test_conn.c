/* conn.c (with exchange.c, body.c, http1.c, sse.c and the OpenAI chat
 * dialect behind it): replays the recorded corpus (tests/corpus, argv[1] or
 * LLMOPS_CORPUS) as raw HTTP/1.1 bytes fed through llm_conns_feed - OPEN,
 * the request in OUT messages, the response (Content-Length, then chunked)
 * in IN messages, CLOSE - split at every message size k = 1..len (for long
 * vectors k = 1..64, a spread of larger sizes and random split patterns).
 * Each run must give exactly one record matching the vector's `expected`,
 * identical (times and ids aside) for every split. OpenAI chat vectors must
 * all pass; the OpenAI-compatible ones may fail only if listed in
 * known_gaps. Then connection-level cases: keep-alive and pipelined
 * exchanges, a stream cut by CLOSE, lost bytes, a non-LLM request on the
 * same connection, 100 Continue, close-delimited bodies, interleaved
 * connections, gzip bodies both ways, a HEAD request, the port in the Host
 * header, close_all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "conn.h"
#include "queue.h"
#include "record.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "feeder.h"

static const char *corpus_dir;

/* Vectors that do not match `expected` yet. A listed vector that starts
 * passing fails the test: take it off the list. Empty: every vector passes. */
static const char *const known_gaps[] = {
    NULL,
};

/* ------------------------------------------------------------ vectors */

struct vec {
    char name[128];
    json_t *root;
    char host[256], path[2048];
    const char *method;
    const char *req_body, *req_ct;
    size_t req_len;
    int status;
    const char *resp_ct; /* NULL: send no Content-Type */
    const char *resp_body;
    size_t resp_len;
    json_t *exp;
    const char *provider; /* the collector's name for the host */
    char server[256];     /* host without port */
    int port;
    unsigned char *bin; /* decoded binary body (AWS event stream), owned */
};

static const char *header_of(json_t *headers, const char *name)
{
    const char *k;
    json_t *v;

    json_object_foreach(headers, k, v)
    {
        if (!strcasecmp(k, name) && json_is_string(v))
            return json_string_value(v);
    }
    return NULL;
}

static const char *collector_provider(const char *corpus_provider)
{
    static const char *const map[][2] = {
        {"openai", "openai"},           {"azure_openai", "azure.ai.openai"},
        {"deepseek", "deepseek"},       {"groq", "groq"},
        {"mistral", "mistral_ai"},      {"openrouter", "openrouter"},
        {"together", "together_ai"},    {"xai", "x_ai"},
        {"anthropic", "anthropic"},     {"gemini", "gcp.gemini"},
        {"vertex_ai", "gcp.vertex_ai"}, {"bedrock", "aws.bedrock"},
        {"cohere", "cohere"},           {"ollama", "ollama"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(map[i][0], corpus_provider))
            return map[i][1];
    return NULL;
}

static int load_vec(const char *name, struct vec *v)
{
    char file[1024];
    json_error_t err;
    const char *url, *p, *slash;
    json_t *j;

    memset(v, 0, sizeof(*v));
    snprintf(v->name, sizeof(v->name), "%s", name);
    snprintf(file, sizeof(file), "%s/%s.json", corpus_dir, name);
    v->root = json_load_file(file, 0, &err);
    if (!v->root) {
        print_error("%s: %s\n", file, err.text);
        return -1;
    }
    url = json_string_value(json_object_get(v->root, "url"));
    v->method = json_string_value(json_object_get(v->root, "method"));
    assert_non_null(url);
    assert_non_null(v->method);
    p = strstr(url, "://");
    p = p ? p + 3 : url;
    slash = strchr(p, '/');
    snprintf(v->host, sizeof(v->host), "%.*s", (int)(slash ? slash - p : (long)strlen(p)), p);
    /* a fragment never goes on the wire */
    snprintf(v->path, sizeof(v->path), "%.*s", (int)strcspn(slash ? slash : "/", "#"),
             slash ? slash : "/");
    j = json_object_get(v->root, "request_body");
    if (json_is_string(j)) {
        v->req_body = json_string_value(j);
        v->req_len = json_string_length(j);
    } else {
        v->req_body = "";
    }
    v->req_ct = header_of(json_object_get(v->root, "request_headers"), "content-type");
    if (!v->req_ct)
        v->req_ct = "application/json";
    j = json_object_get(v->root, "status");
    if (!json_is_integer(j))
        j = json_object_get(v->root, "status_inferred");
    v->status = json_is_integer(j) ? (int)json_integer_value(j) : 200;
    v->resp_ct = header_of(json_object_get(v->root, "response_headers"), "content-type");
    j = json_object_get(v->root, "response_body_sse_reconstructed");
    if (json_is_string(j)) {
        v->resp_ct = "text/event-stream";
    } else {
        j = json_object_get(v->root, "response_body");
    }
    assert_true(json_is_string(j));
    v->resp_body = json_string_value(j);
    v->resp_len = json_string_length(j);
    if (!strcmp(json_string_value(json_object_get(v->root, "decoded")) ?: "",
                "binary-kept-as-base64")) {
        v->bin = malloc(v->resp_len);
        assert_non_null(v->bin);
        v->resp_len = llm_feed_b64_decode(v->resp_body, v->resp_len, v->bin);
        v->resp_body = (const char *)v->bin;
    }
    {
        const char *colon = strchr(v->host, ':');
        snprintf(v->server, sizeof(v->server), "%.*s",
                 (int)(colon ? colon - v->host : (long)strlen(v->host)), v->host);
        v->port = colon ? atoi(colon + 1) : 443;
    }
    v->exp = json_object_get(v->root, "expected");
    assert_true(json_is_object(v->exp));
    v->provider = collector_provider(json_string_value(json_object_get(v->root, "provider")));
    assert_non_null(v->provider);
    return 0;
}

static void free_vec(struct vec *v)
{
    json_decref(v->root);
    free(v->bin);
}

static void build_request(const struct vec *v, struct llm_buf *b, const char *extra)
{
    char head[4096];
    int n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n",
                     v->method, v->path, v->host, v->req_ct);
    llm_buf_append(b, head, (size_t)n);
    if (extra) /* any size (big heads) */
        llm_buf_append(b, extra, strlen(extra));
    n = snprintf(head, sizeof(head), "Content-Length: %zu\r\n\r\n", v->req_len);
    llm_buf_append(b, head, (size_t)n);
    llm_buf_append(b, v->req_body, v->req_len);
}

/* Chunk sizes vary so chunk boundaries fall everywhere. */
static void append_chunked(struct llm_buf *b, const char *body, size_t len)
{
    char line[32];
    size_t off = 0;

    for (int i = 0; off < len; i++) {
        size_t c = (size_t)(i * 37 % 500) + 1;
        if (c > len - off)
            c = len - off;
        int n = snprintf(line, sizeof(line), "%zx\r\n", c);
        llm_buf_append(b, line, (size_t)n);
        llm_buf_append(b, body + off, c);
        llm_buf_append(b, "\r\n", 2);
        off += c;
    }
    llm_buf_append(b, "0\r\n\r\n", 5);
}

enum framing { FR_LENGTH, FR_CHUNKED, FR_CLOSE };

static void build_response(const struct vec *v, int framing, struct llm_buf *b)
{
    char head[1024];
    int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n", v->status);
    llm_buf_append(b, head, (size_t)n);
    if (v->resp_ct) {
        n = snprintf(head, sizeof(head), "Content-Type: %s\r\n", v->resp_ct);
        llm_buf_append(b, head, (size_t)n);
    }
    { /* the recorded headers that say something (Bedrock puts usage there) */
        const char *k;
        json_t *hv;
        json_object_foreach(json_object_get(v->root, "response_headers"), k, hv)
        {
            if (!json_is_string(hv) || !strncasecmp(k, "content-", 8) ||
                !strcasecmp(k, "transfer-encoding") || !strcasecmp(k, "connection"))
                continue;
            n = snprintf(head, sizeof(head), "%s: %s\r\n", k, json_string_value(hv));
            if (n > 0 && (size_t)n < sizeof(head))
                llm_buf_append(b, head, (size_t)n);
        }
    }
    if (framing == FR_LENGTH) {
        n = snprintf(head, sizeof(head), "Content-Length: %zu\r\n\r\n", v->resp_len);
        llm_buf_append(b, head, (size_t)n);
        llm_buf_append(b, v->resp_body, v->resp_len);
    } else if (framing == FR_CHUNKED) {
        llm_buf_append(b, "Transfer-Encoding: chunked\r\n\r\n", 30);
        append_chunked(b, v->resp_body, v->resp_len);
    } else {
        llm_buf_append(b, "Connection: close\r\n\r\n", 21);
        llm_buf_append(b, v->resp_body, v->resp_len);
    }
}

/* ------------------------------------------------------------- feeding */

/* How a byte string is cut into messages: every k bytes, or random sizes. */
struct split {
    size_t k;      /* fixed size when rmax == 0 */
    size_t rmax;   /* random sizes 1..rmax */
    uint32_t seed; /* xorshift state */
};

static size_t next_size(struct split *s, size_t left)
{
    size_t n = s->k;
    if (s->rmax) {
        s->seed ^= s->seed << 13;
        s->seed ^= s->seed >> 17;
        s->seed ^= s->seed << 5;
        n = 1 + s->seed % s->rmax;
    }
    return n < left ? n : left;
}

static void send_split(struct llm_feeder *f, uint64_t conn, int kind, const char *p, size_t n,
                       struct split *sp)
{
    for (size_t off = 0; off < n;) {
        size_t c = next_size(sp, n - off);
        llm_feed_msg(f, conn, kind, p + off, c, 0);
        off += c;
    }
}

static void describe_split(const struct split *sp, char *out, size_t n)
{
    if (sp->rmax)
        snprintf(out, n, "random 1..%zu seed %u", sp->rmax, sp->seed);
    else
        snprintf(out, n, "k=%zu", sp->k);
}

/* ------------------------------------------------------------ checking */

struct fails {
    char text[8192];
    size_t len;
    int n;
};

static void addf(struct fails *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct fails *f, const char *fmt, ...)
{
    va_list ap;

    f->n++;
    if (f->len >= sizeof(f->text) - 2)
        return;
    f->text[f->len++] = ' ';
    f->text[f->len] = '\0';
    va_start(ap, fmt);
    int k = vsnprintf(f->text + f->len, sizeof(f->text) - f->len, fmt, ap);
    va_end(ap);
    f->len += k > 0 ? (size_t)k : 0;
    if (f->len >= sizeof(f->text))
        f->len = sizeof(f->text) - 1;
}

static void want_str(struct fails *f, const struct llm_record *r, enum llm_field fld,
                     const char *want)
{
    const char *got = llm_record_str(r, fld);
    if (!want && got)
        addf(f, "%s=\"%s\" (want null);", llm_schema[fld].name, got);
    else if (want && (!got || strcmp(got, want)))
        addf(f, "%s=%s%s%s (want \"%s\");", llm_schema[fld].name, got ? "\"" : "",
             got ? got : "null", got ? "\"" : "", want);
}

static void want_int(struct fails *f, const struct llm_record *r, enum llm_field fld, json_t *want)
{
    const struct llm_value *v = &r->f[fld];
    if (json_is_null(want) || !want) {
        if (v->set)
            addf(f, "%s=%lld (want null);", llm_schema[fld].name, (long long)v->u.i);
    } else if (!v->set || v->u.i != json_integer_value(want)) {
        if (v->set)
            addf(f, "%s=%lld (want %lld);", llm_schema[fld].name, (long long)v->u.i,
                 (long long)json_integer_value(want));
        else
            addf(f, "%s=null (want %lld);", llm_schema[fld].name,
                 (long long)json_integer_value(want));
    }
}

static const char *exp_str(const struct vec *v, const char *key)
{
    return json_string_value(json_object_get(v->exp, key));
}

/* `expected` keeps raw provider values; the record normalises them (README):
 * input_tokens is the whole prompt (Anthropic and Bedrock leave cache reads
 * and writes out of theirs) and output_tokens includes reasoning (xAI and
 * Gemini report it apart). Bedrock's Cohere bodies carry usage only in
 * headers, which the corpus notes as *_from_headers. Returns a new ref. */
static json_t *norm_tokens(const struct vec *v, const char *which)
{
    const char *prov = json_string_value(json_object_get(v->root, "provider"));
    json_t *e = v->exp, *raw = json_object_get(e, which);
    char hdr[64];

    if (json_is_null(raw) || !raw) {
        snprintf(hdr, sizeof(hdr), "%s_from_headers", which);
        raw = json_object_get(e, hdr);
        return raw ? json_incref(raw) : json_null();
    }
    json_int_t n = json_integer_value(raw);
    if (!strcmp(which, "input_tokens") && (!strcmp(prov, "anthropic") || !strcmp(prov, "bedrock")))
        n += json_integer_value(json_object_get(e, "cached_input_tokens")) +
             json_integer_value(json_object_get(e, "cache_creation_input_tokens"));
    if (!strcmp(which, "output_tokens") &&
        (!strcmp(prov, "xai") || !strcmp(prov, "gemini") || !strcmp(prov, "vertex_ai")))
        n += json_integer_value(json_object_get(e, "reasoning_tokens"));
    return json_integer(n);
}

/* The record against the vector's `expected` and the request we sent. */
static void check_record(const struct vec *v, const struct llm_record *r, struct fails *f)
{
    json_t *e = v->exp, *err = json_object_get(e, "error");
    int is_error = (err && !json_is_null(err)) || v->status >= 400;

    /* one recorded URL is a template (".../models/{model}:generateContent"):
     * the model the wire names is then "{model}", where `expected` has null */
    const char *tmpl = strstr(v->path, "{model}") ? "{model}" : NULL;
    want_str(f, r, LLM_F_REQUEST_MODEL, tmpl ? tmpl : exp_str(v, "request_model"));
    want_str(f, r, LLM_F_RESPONSE_MODEL, exp_str(v, "response_model"));
    want_str(f, r, LLM_F_MODEL, tmpl && !exp_str(v, "model") ? tmpl : exp_str(v, "model"));
    json_t *in = norm_tokens(v, "input_tokens"), *out = norm_tokens(v, "output_tokens");
    want_int(f, r, LLM_F_INPUT_TOKENS, in);
    want_int(f, r, LLM_F_OUTPUT_TOKENS, out);
    want_int(f, r, LLM_F_CACHE_READ_TOKENS, json_object_get(e, "cached_input_tokens"));
    want_int(f, r, LLM_F_REASONING_TOKENS, json_object_get(e, "reasoning_tokens"));
    want_int(f, r, LLM_F_TOTAL_TOKENS, json_object_get(e, "total_tokens"));
    want_str(f, r, LLM_F_FINISH_REASON, exp_str(v, "finish_reason"));
    json_t *stream = json_object_get(e, "stream");
    if (!r->f[LLM_F_STREAM].set)
        addf(f, "stream=null (want %s);", json_is_true(stream) ? "true" : "false");
    else if (r->f[LLM_F_STREAM].u.b != json_is_true(stream))
        addf(f, "stream=%s;", r->f[LLM_F_STREAM].u.b ? "true" : "false");
    json_t *status = json_integer(v->status);
    want_int(f, r, LLM_F_HTTP_STATUS, status);
    json_decref(status);
    want_str(f, r, LLM_F_STATUS, is_error ? "error" : "ok");
    int usage = !json_is_null(in) || !json_is_null(out) ||
                !json_is_null(json_object_get(e, "total_tokens"));
    json_decref(in);
    json_decref(out);
    want_str(f, r, LLM_F_USAGE_SOURCE, usage ? "provider" : "missing");
    if (json_is_object(err)) {
        json_t *type = json_object_get(err, "type"), *code = json_object_get(err, "code");
        json_t *gstatus = json_object_get(err, "status"); /* Google: INVALID_ARGUMENT... */
        char want_type[64] = "";
        if (json_is_string(gstatus) && json_string_length(gstatus))
            snprintf(want_type, sizeof(want_type), "%s", json_string_value(gstatus));
        else if (json_is_string(type) && json_string_length(type))
            snprintf(want_type, sizeof(want_type), "%s", json_string_value(type));
        else if (json_is_string(code))
            snprintf(want_type, sizeof(want_type), "%s", json_string_value(code));
        else if (json_is_integer(code))
            snprintf(want_type, sizeof(want_type), "%lld", (long long)json_integer_value(code));
        if (want_type[0])
            want_str(f, r, LLM_F_ERROR_TYPE, want_type);
        if (json_is_string(json_object_get(err, "message")))
            want_str(f, r, LLM_F_ERROR_MESSAGE, json_string_value(json_object_get(err, "message")));
    } else if (!is_error) {
        want_str(f, r, LLM_F_ERROR_TYPE, NULL);
    }
    /* what the collector knows from the bytes we sent */
    if (!strcmp(json_string_value(json_object_get(v->root, "api")) ?: "", "chat.completions")) {
        want_str(f, r, LLM_F_API, "openai.chat_completions");
        want_str(f, r, LLM_F_OPERATION_TYPE, "chat");
    } else if (!llm_record_str(r, LLM_F_API) || !llm_record_str(r, LLM_F_OPERATION_TYPE)) {
        addf(f, "api or operation_type missing;");
    }
    want_str(f, r, LLM_F_HTTP_METHOD, v->method);
    want_str(f, r, LLM_F_URL_PATH, v->path);
    want_str(f, r, LLM_F_SERVER_ADDRESS, v->server);
    want_str(f, r, LLM_F_PROVIDER, v->provider);
    want_str(f, r, LLM_F_CAPTURE, "openssl");
    want_str(f, r, LLM_F_HTTP_VERSION, "1.1");
    json_t *n = json_integer(v->port);
    want_int(f, r, LLM_F_SERVER_PORT, n);
    json_decref(n);
    n = json_integer(LLM_SCHEMA_VERSION);
    want_int(f, r, LLM_F_SCHEMA_VERSION, n);
    json_decref(n);
    n = json_integer((json_int_t)v->req_len);
    want_int(f, r, LLM_F_REQUEST_BYTES, n);
    json_decref(n);
    n = json_integer((json_int_t)v->resp_len);
    want_int(f, r, LLM_F_RESPONSE_BYTES, n);
    json_decref(n);
    if (!r->f[LLM_F_TRUNCATED].set || r->f[LLM_F_TRUNCATED].u.b)
        addf(f, "truncated is not false;");
    const char *id = llm_record_str(r, LLM_F_OPERATION_ID);
    if (!id || strlen(id) != 26)
        addf(f, "operation_id=%s;", id ? id : "null");
    if (!llm_record_str(r, LLM_F_TIMESTAMP) || !llm_record_str(r, LLM_F_END_TIMESTAMP))
        addf(f, "timestamps missing;");
    if (!r->f[LLM_F_LATENCY_MS].set || r->f[LLM_F_LATENCY_MS].u.d < 0)
        addf(f, "latency_ms missing or negative;");
}

static int time_field(int i)
{
    return i == LLM_F_OPERATION_ID || i == LLM_F_TIMESTAMP || i == LLM_F_END_TIMESTAMP ||
           i == LLM_F_LATENCY_MS || i == LLM_F_TTFB_MS || i == LLM_F_TTFT_MS;
}

/* Every field but ids and times must be the same. */
static void diff_records(const struct llm_record *a, const struct llm_record *b, struct fails *f)
{
    for (int i = 0; i < LLM_F__COUNT; i++) {
        const struct llm_value *x = &a->f[i], *y = &b->f[i];
        int same;
        if (time_field(i))
            continue;
        if (x->set != y->set) {
            addf(f, "%s %s vs %s;", llm_schema[i].name, x->set ? "set" : "unset",
                 y->set ? "set" : "unset");
            continue;
        }
        if (!x->set)
            continue;
        switch (llm_schema[i].type) {
        case LLM_T_INT:
            same = x->u.i == y->u.i;
            break;
        case LLM_T_REAL:
            same = x->u.d == y->u.d;
            break;
        case LLM_T_BOOL:
            same = x->u.b == y->u.b;
            break;
        default:
            same = x->u.s.n == y->u.s.n && !memcmp(x->u.s.p, y->u.s.p, x->u.s.n);
        }
        if (!same)
            addf(f, "%s differs from the reference split;", llm_schema[i].name);
    }
}

/* ---------------------------------------------------------- replaying */

/* One replay: OPEN, request, response, CLOSE. Returns the record count;
 * the first record goes to *out (the caller clears it). */
static int replay(const struct vec *v, const struct llm_buf *req, const struct llm_buf *resp,
                  struct split sp, struct llm_record *out)
{
    struct llm_feeder f;
    int n;

    llm_feed_init(&f);
    llm_feed_open(&f, 7, v->host);
    send_split(&f, 7, LLM_MSG_OUT, req->p, req->len, &sp);
    send_split(&f, 7, LLM_MSG_IN, resp->p, resp->len, &sp);
    llm_feed_msg(&f, 7, LLM_MSG_CLOSE, NULL, 0, 0);
    n = f.sink.n;
    llm_record_init(out);
    if (n >= 1) {
        *out = f.sink.recs[0];
        llm_record_init(&f.sink.recs[0]);
    }
    llm_feed_done(&f);
    return n;
}

#define FULL_SWEEP_MAX 4096 /* messages up to this size get every k */
#define RANDOM_SPLITS 8

/* The splits for messages of up to len bytes: the whole message first (the
 * reference), every k below it (or 1..64 and a geometric spread for long
 * messages), then random patterns. */
static struct split *make_splits(size_t len, size_t *n)
{
    struct split *s = calloc(len + 200, sizeof(*s));
    size_t i = 0;

    s[i++].k = len;
    if (len <= FULL_SWEEP_MAX) {
        for (size_t k = 1; k < len; k++)
            s[i++].k = k;
    } else {
        for (size_t k = 1; k <= 64; k++)
            s[i++].k = k;
        for (size_t k = 65; k < len; k += k / 8 + 1)
            s[i++].k = k;
    }
    for (uint32_t r = 0; r < RANDOM_SPLITS; r++) {
        s[i].rmax = r % 2 ? 16 : 1500;
        s[i++].seed = (r + 1) * 2654435761u;
    }
    *n = i;
    return s;
}

/* Runs every split of one vector; returns the number of failing runs and
 * describes the first failure in *f. stop_early: give up at the first. */
static int run_vector(const struct vec *v, struct fails *first, int stop_early, int *runs)
{
    struct llm_buf req, resp[2];
    struct llm_record ref, r;
    int bad = 0, have_ref = 0;
    static const int framings[] = {FR_LENGTH, FR_CHUNKED};

    llm_buf_init(&req, 1 << 24);
    build_request(v, &req, NULL);
    for (int i = 0; i < 2; i++) {
        llm_buf_init(&resp[i], 1 << 24);
        build_response(v, framings[i], &resp[i]);
    }
    llm_record_init(&ref);
    for (int fi = 0; fi < 2; fi++) {
        size_t len = req.len > resp[fi].len ? req.len : resp[fi].len;
        size_t nsp = 0;
        struct split *splits = make_splits(len, &nsp);
        for (size_t si = 0; si < nsp; si++) {
            struct split sp = splits[si];
            struct fails f;
            memset(&f, 0, sizeof(f));
            char how[64];
            describe_split(&sp, how, sizeof(how));
            int n = replay(v, &req, &resp[fi], sp, &r);
            (*runs)++;
            if (n != 1)
                addf(&f, "%d records (want 1);", n);
            else
                check_record(v, &r, &f);
            if (n == 1 && !f.n) {
                if (!have_ref) {
                    ref = r;
                    have_ref = 1;
                    continue;
                }
                diff_records(&ref, &r, &f);
            }
            llm_record_clear(&r);
            if (f.n) {
                if (!bad++)
                    snprintf(first->text, sizeof(first->text), "%s, %s:%.7000s",
                             fi ? "chunked" : "content-length", how, f.text);
                first->n += f.n;
                if (stop_early) {
                    free(splits);
                    goto out;
                }
            }
        }
        free(splits);
    }
out:
    llm_record_clear(&ref);
    llm_buf_free(&req);
    for (int i = 0; i < 2; i++)
        llm_buf_free(&resp[i]);
    return bad;
}

static int has_prefix(const char *s, const char *const *prefixes)
{
    for (; *prefixes; prefixes++)
        if (!strncmp(s, *prefixes, strlen(*prefixes)))
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names (without .json) of corpus files with one of the prefixes, sorted. */
static char **list_vectors(const char *const *prefixes, size_t *count)
{
    DIR *d = opendir(corpus_dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    if (!d)
        fail_msg("cannot open the corpus dir %s", corpus_dir);
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") || !has_prefix(e->d_name, prefixes))
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        names[n++] = strndup(e->d_name, l - 5);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    *count = n;
    return names;
}

static int is_known_gap(const char *name)
{
    for (size_t i = 0; known_gaps[i]; i++)
        if (!strcmp(known_gaps[i], name))
            return 1;
    return 0;
}

static void test_corpus_openai_chat(void **state)
{
    static const char *const prefixes[] = {"openai_chat_", "openai_chat-error_", NULL};
    size_t n;
    char **names = list_vectors(prefixes, &n);
    int failed = 0, runs = 0;

    (void)state;
    assert_true(n >= 11); /* the corpus is there */
    for (size_t i = 0; i < n; i++) {
        struct vec v;
        struct fails f;
        memset(&f, 0, sizeof(f));
        assert_int_equal(load_vec(names[i], &v), 0);
        int bad = run_vector(&v, &f, 0, &runs);
        if (bad) {
            print_error("FAIL %s: %d failing splits; first: %s\n", v.name, bad, f.text);
            failed++;
        }
        free_vec(&v);
        free(names[i]);
    }
    free(names);
    print_message("openai chat vectors: %zu, replays: %d, failing vectors: %d\n", n, runs, failed);
    assert_int_equal(failed, 0);
}

/* Every vector of every provider and API in the corpus. */
static void test_corpus_all(void **state)
{
    static const char *const prefixes[] = {"", NULL};
    size_t n, ngaps = 0;
    char **names = list_vectors(prefixes, &n);
    int unexpected = 0, runs = 0, gaps_seen = 0;

    (void)state;
    while (known_gaps[ngaps])
        ngaps++;
    assert_true(n >= 84);
    for (size_t i = 0; i < n; i++) {
        struct vec v;
        struct fails f;
        int gap = is_known_gap(names[i]);
        memset(&f, 0, sizeof(f));
        assert_int_equal(load_vec(names[i], &v), 0);
        int bad = run_vector(&v, &f, gap, &runs);
        if (gap) {
            gaps_seen++;
            if (bad) {
                print_message("known gap %s: %s\n", v.name, f.text);
            } else {
                print_error("FIXED %s passes now: remove it from known_gaps\n", v.name);
                unexpected++;
            }
        } else if (bad) {
            print_error("FAIL %s (not a known gap): %d failing splits; first: %s\n", v.name, bad,
                        f.text);
            unexpected++;
        }
        free_vec(&v);
        free(names[i]);
    }
    free(names);
    print_message("all vectors: %zu, replays: %d, known gaps: %d\n", n, runs, gaps_seen);
    /* every listed gap names a vector that exists */
    assert_int_equal(gaps_seen, (int)ngaps);
    assert_int_equal(unexpected, 0);
}

/* ---------------------------------------------- connection-level cases */

static void load_or_fail(const char *name, struct vec *v)
{
    assert_int_equal(load_vec(name, v), 0);
}

static void expect_ok(const struct vec *v, const struct llm_record *r, const char *ctx)
{
    struct fails f;
    memset(&f, 0, sizeof(f));
    check_record(v, r, &f);
    if (f.n)
        fail_msg("%s, %s:%s", ctx, v->name, f.text);
}

/* Several exchanges on one keep-alive connection, alternating or pipelined,
 * responses framed by length and chunked in turn. */
static void test_keep_alive(void **state)
{
    static const char *const names[] = {"openai_chat_nostream_1", "openai_chat_stream_2",
                                        "openai_chat-error_nostream_1", "openai_chat_stream_3",
                                        "openai_chat_nostream_4"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    struct vec v[N];
    struct llm_buf req[N], resp[N], all_req, all_resp;
    static const size_t ks[] = {1, 2, 7, 64, 333, 4096, 1 << 20};

    (void)state;
    llm_buf_init(&all_req, 1 << 24);
    llm_buf_init(&all_resp, 1 << 24);
    for (int i = 0; i < N; i++) {
        load_or_fail(names[i], &v[i]);
        llm_buf_init(&req[i], 1 << 24);
        llm_buf_init(&resp[i], 1 << 24);
        build_request(&v[i], &req[i], NULL);
        build_response(&v[i], i % 2 ? FR_CHUNKED : FR_LENGTH, &resp[i]);
        llm_buf_append(&all_req, req[i].p, req[i].len);
        llm_buf_append(&all_resp, resp[i].p, resp[i].len);
    }
    for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
        for (int pipelined = 0; pipelined < 2; pipelined++) {
            struct llm_feeder f;
            struct split sp = {ks[ki], 0, 0};
            char ctx[64];
            llm_feed_init(&f);
            llm_feed_open(&f, 1, "api.openai.com");
            if (pipelined) {
                send_split(&f, 1, LLM_MSG_OUT, all_req.p, all_req.len, &sp);
                send_split(&f, 1, LLM_MSG_IN, all_resp.p, all_resp.len, &sp);
            } else {
                for (int i = 0; i < N; i++) {
                    send_split(&f, 1, LLM_MSG_OUT, req[i].p, req[i].len, &sp);
                    send_split(&f, 1, LLM_MSG_IN, resp[i].p, resp[i].len, &sp);
                    /* each record is out as soon as its response ended */
                    assert_int_equal(f.sink.n, i + 1);
                }
            }
            assert_int_equal(f.sink.n, N);
            llm_feed_msg(&f, 1, LLM_MSG_CLOSE, NULL, 0, 0);
            assert_int_equal(f.sink.n, N); /* nothing left open */
            for (int i = 0; i < N; i++) {
                snprintf(ctx, sizeof(ctx), "k=%zu pipelined=%d #%d", ks[ki], pipelined, i);
                expect_ok(&v[i], &f.sink.recs[i], ctx);
            }
            llm_feed_done(&f);
        }
    }
    for (int i = 0; i < N; i++) {
        llm_buf_free(&req[i]);
        llm_buf_free(&resp[i]);
        free_vec(&v[i]);
    }
    llm_buf_free(&all_req);
    llm_buf_free(&all_resp);
}

/* Request heads far above real ones (LLMOPS_MAX_HEAD, here 256 KiB): a
 * 200 KiB head (four 50 KiB Cookie lines) is kept whole; a 300 KiB head
 * costs only its own headers past the limit (the call is recorded, flagged
 * truncated); the calls after both, on the same keep-alive connection, are
 * recorded as usual, at every split. */
static void test_big_heads(void **state)
{
    static const struct llm_core_opts opts = {.max_body = 1 << 20,
                                              .max_parse = 64 << 20,
                                              .max_event = 4 << 20,
                                              .max_head = 256 << 10,
                                              .capture_content = 1};
    static const int cookies[] = {4, 6, 0}; /* 50 KiB Cookie lines per request */
    enum { N = sizeof(cookies) / sizeof(cookies[0]) };
    static const size_t ks[] = {7, 1000, 16383, 65536, 1 << 22};
    size_t line = 50 << 10;
    char *extra = malloc(6 * (line + 16) + 1);
    struct vec v;
    struct llm_buf req, resp;

    (void)state;
    load_or_fail("openai_chat_nostream_1", &v);
    llm_buf_init(&req, 1 << 24);
    llm_buf_init(&resp, 1 << 20);
    for (int i = 0; i < N; i++) {
        size_t p = 0;
        for (int c = 0; c < cookies[i]; c++) {
            p += (size_t)sprintf(extra + p, "Cookie: c%d=", c);
            memset(extra + p, 'x', line);
            p += line;
            p += (size_t)sprintf(extra + p, "\r\n");
        }
        extra[p] = 0;
        build_request(&v, &req, extra);
        build_response(&v, FR_LENGTH, &resp);
    }
    for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
        struct llm_feeder f;
        struct split sp = {ks[ki], 0, 0};
        char ctx[64];
        llm_feed_init_opts(&f, &opts);
        llm_feed_open(&f, 3, "api.openai.com");
        send_split(&f, 3, LLM_MSG_OUT, req.p, req.len, &sp);
        send_split(&f, 3, LLM_MSG_IN, resp.p, resp.len, &sp);
        llm_feed_msg(&f, 3, LLM_MSG_CLOSE, NULL, 0, 0);
        if (f.sink.n != N)
            fail_msg("k=%zu: %d records for %d calls", ks[ki], f.sink.n, N);
        for (int i = 0; i < N; i++) {
            const struct llm_record *r = &f.sink.recs[i];
            snprintf(ctx, sizeof(ctx), "k=%zu #%d", ks[ki], i);
            if (cookies[i] * line < opts.max_head) {
                expect_ok(&v, r, ctx);
                continue;
            }
            /* past the limit: the call itself is intact, the head flagged */
            if (!r->f[LLM_F_TRUNCATED].set || !r->f[LLM_F_TRUNCATED].u.b)
                fail_msg("%s: truncated is not true", ctx);
            const char *st = llm_record_str(r, LLM_F_STATUS);
            const char *m = llm_record_str(r, LLM_F_REQUEST_MODEL);
            if (!st || strcmp(st, "ok") || !m || strcmp(m, exp_str(&v, "request_model")))
                fail_msg("%s: status %s, request_model %s", ctx, st ? st : "null", m ? m : "null");
        }
        llm_feed_done(&f);
    }
    free(extra);
    llm_buf_free(&req);
    llm_buf_free(&resp);
    free_vec(&v);
}

/* A synthetic stream whose text is known at every cut. */
static const char *const cut_deltas[] = {"Hel", "lo", ", wor", "ld", "!"};

/* ends[0..4]: where each delta event's JSON is complete; ends[5]: the same
 * for the final event (finish_reason and usage). */
static void build_cut_stream(struct llm_buf *b, size_t ends[])
{
    char ev[512];
    int n;

    for (size_t i = 0; i < 5; i++) {
        n = snprintf(ev, sizeof(ev),
                     "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":"
                     "[{\"index\":0,\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}",
                     cut_deltas[i]);
        llm_buf_append(b, ev, (size_t)n);
        ends[i] = b->len; /* the event's JSON is complete here */
        llm_buf_append(b, "\n\n", 2);
    }
    n = snprintf(ev, sizeof(ev),
                 "data: {\"id\":\"c1\",\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\""
                 ":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,"
                 "\"completion_tokens\":5,\"total_tokens\":10}}");
    llm_buf_append(b, ev, (size_t)n);
    ends[5] = b->len;
    llm_buf_append(b, "\n\ndata: [DONE]\n\n", strlen("\n\ndata: [DONE]\n\n"));
}

/* The response stops mid-stream and the connection closes: an incomplete
 * record with the text that did arrive, at every cut position. */
static void test_cut_mid_stream(void **state)
{
    static const char req[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
                              "Content-Type: application/json\r\nContent-Length: 66\r\n\r\n"
                              "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":"
                              "\"user\"}]}";
    struct llm_buf body;
    size_t ends[6];

    (void)state;
    assert_int_equal(strlen(strstr(req, "\r\n\r\n") + 4), 66);
    llm_buf_init(&body, 1 << 16);
    build_cut_stream(&body, ends);
    for (int chunked = 0; chunked < 2; chunked++) {
        for (size_t cut = 0; cut < body.len; cut++) {
            struct llm_buf resp;
            struct llm_feeder f;
            char head[256], want[64] = "";
            llm_buf_init(&resp, 1 << 16);
            int n = snprintf(
                head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n%s\r\n",
                chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: 9999\r\n");
            llm_buf_append(&resp, head, (size_t)n);
            if (chunked) {
                /* whole chunks of the prefix only: a cut inside a chunk's
                 * framing is no different for the record */
                append_chunked(&resp, body.p, cut);
                resp.len -= 5; /* no terminating chunk */
            } else {
                llm_buf_append(&resp, body.p, cut);
            }
            for (size_t i = 0; i < 5; i++)
                if (cut >= ends[i])
                    strcat(want, cut_deltas[i]);
            llm_feed_init(&f);
            llm_feed_open(&f, 3, "api.openai.com");
            struct split sp = {cut % 2 ? 1 : 4096, 0, 0};
            send_split(&f, 3, LLM_MSG_OUT, req, sizeof(req) - 1, &sp);
            send_split(&f, 3, LLM_MSG_IN, resp.p, resp.len, &sp);
            assert_int_equal(f.sink.n, 0); /* still open */
            llm_feed_msg(&f, 3, LLM_MSG_CLOSE, NULL, 0, 0);
            if (f.sink.n != 1)
                fail_msg("cut %zu: %d records", cut, f.sink.n);
            struct llm_record *r = &f.sink.recs[0];
            assert_string_equal(llm_record_str(r, LLM_F_STATUS), "incomplete");
            assert_string_equal(llm_record_str(r, LLM_F_ERROR_TYPE), "connection_closed");
            assert_int_equal(r->f[LLM_F_HTTP_STATUS].u.i, 200);
            assert_true(r->f[LLM_F_STREAM].set && r->f[LLM_F_STREAM].u.b);
            assert_string_equal(llm_record_str(r, LLM_F_REQUEST_MODEL), "gpt-4o-mini");
            /* the last event, once complete, brings finish_reason and usage */
            int last = cut >= ends[5];
            assert_string_equal(llm_record_str(r, LLM_F_USAGE_SOURCE),
                                last ? "provider" : "missing");
            if (last)
                assert_string_equal(llm_record_str(r, LLM_F_FINISH_REASON), "stop");
            else
                assert_null(llm_record_str(r, LLM_F_FINISH_REASON));
            const char *text = llm_record_str(r, LLM_F_RESPONSE);
            if (want[0] ? !text || strcmp(text, want) : text != NULL)
                fail_msg("%s cut %zu: response \"%s\", want \"%s\"", chunked ? "chunked" : "length",
                         cut, text ? text : "(null)", want);
            llm_feed_done(&f);
            llm_buf_free(&resp);
        }
    }
    /* the complete stream, for contrast: ok with usage */
    {
        struct llm_feeder f;
        char head[128];
        struct llm_buf resp;
        llm_buf_init(&resp, 1 << 16);
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         body.len);
        llm_buf_append(&resp, head, (size_t)n);
        llm_buf_append(&resp, body.p, body.len);
        llm_feed_init(&f);
        llm_feed_open(&f, 3, "api.openai.com");
        llm_feed_msg(&f, 3, LLM_MSG_OUT, req, sizeof(req) - 1, 0);
        llm_feed_msg(&f, 3, LLM_MSG_IN, resp.p, resp.len, 0);
        assert_int_equal(f.sink.n, 1);
        assert_string_equal(llm_record_str(&f.sink.recs[0], LLM_F_STATUS), "ok");
        assert_string_equal(llm_record_str(&f.sink.recs[0], LLM_F_RESPONSE), "Hello, world!");
        assert_string_equal(llm_record_str(&f.sink.recs[0], LLM_F_FINISH_REASON), "stop");
        assert_int_equal(f.sink.recs[0].f[LLM_F_TOTAL_TOKENS].u.i, 10);
        assert_true(f.sink.recs[0].f[LLM_F_TTFT_MS].set);
        llm_feed_done(&f);
        llm_buf_free(&resp);
    }
    llm_buf_free(&body);
}

/* A corpus stream cut in the middle: incomplete, and its text is a prefix
 * of the full text. */
static void test_cut_corpus_stream(void **state)
{
    struct vec v;
    struct llm_buf req, resp;
    struct llm_record full;

    (void)state;
    load_or_fail("openai_chat_stream_2", &v);
    llm_buf_init(&req, 1 << 20);
    llm_buf_init(&resp, 1 << 20);
    build_request(&v, &req, NULL);
    build_response(&v, FR_CHUNKED, &resp);
    struct split sp = {resp.len, 0, 0};
    assert_int_equal(replay(&v, &req, &resp, sp, &full), 1);
    const char *full_text = llm_record_str(&full, LLM_F_RESPONSE);
    assert_non_null(full_text);
    assert_string_equal(full_text, "10 + 5 equals 15.");
    for (size_t cut = resp.len / 2; cut < resp.len - 5; cut += 97) {
        struct llm_feeder f;
        llm_feed_init(&f);
        llm_feed_open(&f, 9, v.host);
        llm_feed_msg(&f, 9, LLM_MSG_OUT, req.p, req.len, 0);
        llm_feed_msg(&f, 9, LLM_MSG_IN, resp.p, cut, 0);
        llm_feed_msg(&f, 9, LLM_MSG_CLOSE, NULL, 0, 0);
        assert_int_equal(f.sink.n, 1);
        struct llm_record *r = &f.sink.recs[0];
        assert_string_equal(llm_record_str(r, LLM_F_STATUS), "incomplete");
        assert_string_equal(llm_record_str(r, LLM_F_ERROR_TYPE), "connection_closed");
        assert_string_equal(llm_record_str(r, LLM_F_RESPONSE_MODEL), "gpt-4o-mini-2024-07-18");
        const char *t = llm_record_str(r, LLM_F_RESPONSE);
        assert_non_null(t);
        assert_memory_equal(t, full_text, strlen(t));
        llm_feed_done(&f);
    }
    llm_record_clear(&full);
    llm_buf_free(&req);
    llm_buf_free(&resp);
    free_vec(&v);
}

/* Every streamed vector of every dialect, cut halfway through its response
 * and then closed: one record, "incomplete" / "connection_closed", with the
 * request facts intact and the text received so far (a prefix of the full
 * text). */
static void test_cut_every_stream(void **state)
{
    static const char *const prefixes[] = {"", NULL};
    size_t n, cut_tested = 0;
    char **names = list_vectors(prefixes, &n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        struct vec v;
        struct llm_buf req, resp;
        struct llm_record full;
        load_or_fail(names[i], &v);
        if (!json_is_true(json_object_get(v.exp, "stream")) || v.status != 200 ||
            !json_is_null(json_object_get(v.exp, "error"))) {
            free_vec(&v);
            free(names[i]);
            continue;
        }
        llm_buf_init(&req, 1 << 24);
        llm_buf_init(&resp, 1 << 24);
        build_request(&v, &req, NULL);
        build_response(&v, FR_CHUNKED, &resp);
        struct split whole = {resp.len, 0, 0};
        assert_int_equal(replay(&v, &req, &resp, whole, &full), 1);
        const char *full_text = llm_record_str(&full, LLM_F_RESPONSE);

        struct llm_feeder f;
        llm_feed_init(&f);
        llm_feed_open(&f, 11, v.host);
        llm_feed_msg(&f, 11, LLM_MSG_OUT, req.p, req.len, 0);
        llm_feed_msg(&f, 11, LLM_MSG_IN, resp.p, resp.len / 2, 0);
        llm_feed_msg(&f, 11, LLM_MSG_CLOSE, NULL, 0, 0);
        assert_int_equal(f.sink.n, 1);
        struct llm_record *r = &f.sink.recs[0];
        if (strcmp(llm_record_str(r, LLM_F_STATUS), "incomplete") ||
            strcmp(llm_record_str(r, LLM_F_ERROR_TYPE), "connection_closed"))
            fail_msg("%s: status %s / %s", v.name, llm_record_str(r, LLM_F_STATUS),
                     llm_record_str(r, LLM_F_ERROR_TYPE));
        const char *a = llm_record_str(r, LLM_F_REQUEST_MODEL),
                   *b = llm_record_str(&full, LLM_F_REQUEST_MODEL);
        if ((a || b) && (!a || !b || strcmp(a, b)))
            fail_msg("%s: request_model %s vs %s", v.name, a, b);
        const char *t = llm_record_str(r, LLM_F_RESPONSE);
        if (t && (!full_text || strncmp(t, full_text, strlen(t))))
            fail_msg("%s: partial text is not a prefix of the full text", v.name);
        cut_tested++;
        llm_feed_done(&f);
        llm_record_clear(&full);
        llm_buf_free(&req);
        llm_buf_free(&resp);
        free_vec(&v);
        free(names[i]);
    }
    free(names);
    print_message("streams cut: %zu\n", cut_tested);
    assert_true(cut_tested >= 25);
}

/* A 10 MB request and a 5,000-event stream with content caps of 64 KiB:
 * usage and model still exact (extracted from the full bytes), the kept
 * content is head + tail with the cut marked, and `truncated` is set. */
static void test_big_request_long_stream(void **state)
{
    static const struct llm_core_opts small = {
        .max_body = 64 << 10, .max_parse = 64 << 20, .max_event = 4 << 20, .capture_content = 1};
    struct llm_buf req, body, resp;
    struct llm_feeder f;
    char line[512];
    size_t big = 10 << 20;

    (void)state;
    llm_buf_init(&body, big + 4096);
#define APPEND(b, lit) llm_buf_append(b, lit, sizeof(lit) - 1)
    APPEND(&body, "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                  "\"content\":\"");
    for (size_t i = 0; body.len < big; i++)
        llm_buf_append(&body, "0123456789abcdef", 16);
    APPEND(&body, "\"}],\"stream_options\":{\"include_usage\":true}}");
    llm_buf_init(&req, big + 8192);
    int n = snprintf(line, sizeof(line),
                     "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     body.len);
    llm_buf_append(&req, line, (size_t)n);
    llm_buf_append(&req, body.p, body.len);

    llm_buf_init(&resp, 4 << 20);
    APPEND(&resp, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
    for (int i = 0; i < 5000; i++) {
        n = snprintf(
            line, sizeof(line),
            "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,"
            "\"delta\":{\"content\":\"w%04dxxxxxxxxxxxxxxxxxxxx \"},\"finish_reason\":%s}]}\n\n",
            i, i == 4999 ? "\"length\"" : "null");
        llm_buf_append(&resp, line, (size_t)n);
    }
    APPEND(&resp, "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{"
                  "\"prompt_tokens\":2621450,\"completion_tokens\":5000,\"total_tokens\":2626450}}"
                  "\n\ndata: [DONE]\n\n");
#undef APPEND

    llm_feed_init_opts(&f, &small);
    llm_feed_open(&f, 5, "api.openai.com");
    for (size_t off = 0; off < req.len; off += 16384)
        llm_feed_msg(&f, 5, LLM_MSG_OUT, req.p + off, req.len - off < 16384 ? req.len - off : 16384,
                     0);
    for (size_t off = 0; off < resp.len; off += 4096)
        llm_feed_msg(&f, 5, LLM_MSG_IN, resp.p + off, resp.len - off < 4096 ? resp.len - off : 4096,
                     0);
    llm_feed_msg(&f, 5, LLM_MSG_CLOSE, NULL, 0, 0);
    assert_int_equal(f.sink.n, 1);
    struct llm_record *r = &f.sink.recs[0];
    assert_string_equal(llm_record_str(r, LLM_F_STATUS), "ok");
    assert_string_equal(llm_record_str(r, LLM_F_REQUEST_MODEL), "gpt-4o-mini");
    assert_int_equal(r->f[LLM_F_INPUT_TOKENS].u.i, 2621450);
    assert_int_equal(r->f[LLM_F_OUTPUT_TOKENS].u.i, 5000);
    assert_int_equal(r->f[LLM_F_TOTAL_TOKENS].u.i, 2626450);
    assert_string_equal(llm_record_str(r, LLM_F_FINISH_REASON), "length");
    assert_true(r->f[LLM_F_TRUNCATED].u.b);
    assert_int_equal(r->f[LLM_F_REQUEST_BYTES].u.i, (int64_t)body.len);
    const char *args = llm_record_str(r, LLM_F_COMPLETION_ARGS),
               *text = llm_record_str(r, LLM_F_RESPONSE);
    assert_true(strlen(args) < (64 << 10) + 128);
    assert_non_null(strstr(args, "bytes truncated]"));
    assert_true(!strncmp(args, "{\"model\":\"gpt-4o-mini\"", 22));
    assert_non_null(strstr(args, "\"include_usage\":true}}"));
    /* 26 bytes an event, 130,000 in all: more than the 64 KiB kept */
    assert_true(!strncmp(text, "w0000xxxxxxxxxxxxxxxxxxxx w0001", 31));
    assert_non_null(strstr(text, "bytes truncated]"));
    assert_true(strlen(text) < (64 << 10) + 128);
    assert_true(!strcmp(text + strlen(text) - 26, "w4999xxxxxxxxxxxxxxxxxxxx "));
    llm_feed_done(&f);
    llm_buf_free(&req);
    llm_buf_free(&body);
    llm_buf_free(&resp);
}

/* Garbage where JSON should be: the record says so ("error" /
 * "malformed_response") and still carries what could be read. */
static void test_malformed_bodies(void **state)
{
    static const char req[] =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
        "Content-Length: 39\r\n\r\n{\"model\":\"gpt-4o-mini\",\"stream\":false}";
    static const char *const types[] = {"application/json", "text/event-stream"};
    static const char *const bodies[] = {
        "{\"id\":\"x",
        "data: {\"model\":\"m\",\"choices\":[]}\n\ndata: {garbage\n\n"
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n",
    };
    char resp[1024];

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct llm_feeder f;
        llm_feed_init(&f);
        llm_feed_open(&f, 3, "api.openai.com");
        llm_feed_msg(&f, 3, LLM_MSG_OUT, req, sizeof(req) - 1, 0);
        int len = snprintf(resp, sizeof(resp),
                           "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
                           types[i], strlen(bodies[i]), bodies[i]);
        llm_feed_msg(&f, 3, LLM_MSG_IN, resp, (size_t)len, 0);
        llm_feed_msg(&f, 3, LLM_MSG_CLOSE, NULL, 0, 0);
        assert_int_equal(f.sink.n, 1);
        struct llm_record *r = &f.sink.recs[0];
        assert_string_equal(llm_record_str(r, LLM_F_STATUS), "error");
        assert_string_equal(llm_record_str(r, LLM_F_ERROR_TYPE), "malformed_response");
        if (i == 1) {
            assert_int_equal(r->f[LLM_F_INPUT_TOKENS].u.i, 3);
            assert_int_equal(r->f[LLM_F_OUTPUT_TOKENS].u.i, 4);
        }
        llm_feed_done(&f);
    }
}

/* Two pipelined calls whose responses arrive in one read: each record has
 * its own time to first byte (the second's response starts in the bytes
 * that end the first). */
static void test_pipelined_ttfb(void **state)
{
    static const char req[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
                              "Content-Length: 23\r\n\r\n{\"model\":\"gpt-4o-mini\"}";
    static const char body[] = "{\"model\":\"m\",\"usage\":{\"prompt_tokens\":1,"
                               "\"completion_tokens\":2,\"total_tokens\":3}}";
    char resp[512];
    int n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%sHTTP/1.1 200 OK\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(body), body, strlen(body), body);
    struct llm_feeder f;

    (void)state;
    llm_feed_init(&f);
    llm_feed_open(&f, 4, "api.openai.com");
    llm_feed_msg(&f, 4, LLM_MSG_OUT, req, sizeof(req) - 1, 0);
    llm_feed_msg(&f, 4, LLM_MSG_OUT, req, sizeof(req) - 1, 0);
    llm_feed_msg(&f, 4, LLM_MSG_IN, resp, (size_t)n, 0);
    assert_int_equal(f.sink.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_true(f.sink.recs[i].f[LLM_F_TTFB_MS].set);
        assert_true(f.sink.recs[i].f[LLM_F_TTFB_MS].u.d <= f.sink.recs[i].f[LLM_F_LATENCY_MS].u.d);
        assert_int_equal(f.sink.recs[i].f[LLM_F_TOTAL_TOKENS].u.i, 3);
    }
    llm_feed_done(&f);
}

/* A gap in the captured bytes: the exchange in flight becomes a
 * "capture_lost" record at once; bytes are then ignored until the client
 * starts a new request, which is parsed and recorded as usual. */
static void test_lost_bytes(void **state)
{
    struct vec v;
    struct llm_buf req, resp;

    (void)state;
    load_or_fail("openai_chat_stream_3", &v);
    llm_buf_init(&req, 1 << 20);
    llm_buf_init(&resp, 1 << 20);
    build_request(&v, &req, NULL);
    build_response(&v, FR_LENGTH, &resp);
    for (int where = 0; where < 4; where++) {
        struct llm_feeder f;
        size_t half = resp.len / 2;
        llm_feed_init(&f);
        llm_feed_open(&f, 4, v.host);
        if (where == 0) {
            /* lost inside the response */
            llm_feed_msg(&f, 4, LLM_MSG_OUT, req.p, req.len, 0);
            llm_feed_msg(&f, 4, LLM_MSG_IN, resp.p, half, 0);
            llm_feed_msg(&f, 4, LLM_MSG_IN, resp.p + half + 10, resp.len - half - 10,
                         LLM_MSG_F_LOST);
        } else if (where == 1) {
            /* lost inside the request */
            llm_feed_msg(&f, 4, LLM_MSG_OUT, req.p, req.len / 2, 0);
            llm_feed_msg(&f, 4, LLM_MSG_OUT, req.p + req.len / 2 + 1, req.len - req.len / 2 - 1,
                         LLM_MSG_F_LOST);
            llm_feed_msg(&f, 4, LLM_MSG_IN, resp.p, resp.len, 0);
        } else if (where == 2) {
            /* the flag rides on the CLOSE */
            llm_feed_msg(&f, 4, LLM_MSG_OUT, req.p, req.len, 0);
            llm_feed_msg(&f, 4, LLM_MSG_IN, resp.p, half, 0);
        } else {
            /* the whole first request was lost: nothing to record */
            llm_feed_msg(&f, 4, LLM_MSG_IN, resp.p, resp.len, LLM_MSG_F_LOST);
        }
        if (where != 2) {
            assert_int_equal(f.sink.n, where == 3 ? 0 : 1);
            /* the next request picks the stream up again */
            llm_feed_msg(&f, 4, LLM_MSG_OUT, req.p, req.len, 0);
            llm_feed_msg(&f, 4, LLM_MSG_IN, resp.p, resp.len, 0);
            llm_feed_msg(&f, 4, LLM_MSG_CLOSE, NULL, 0, 0);
            int after = where == 3 ? 0 : 1;
            if (f.sink.n != after + 1)
                fail_msg("lost case %d: %d records after the gap", where, f.sink.n);
            struct llm_record *ok = &f.sink.recs[after];
            assert_string_equal(llm_record_str(ok, LLM_F_STATUS), "ok");
            assert_string_equal(llm_record_str(ok, LLM_F_RESPONSE_MODEL), "gpt-3.5-turbo-0125");
            assert_non_null(llm_record_str(ok, LLM_F_TOOL_CALLS));
        } else {
            assert_int_equal(f.sink.n, 0);
            llm_feed_msg(&f, 4, LLM_MSG_CLOSE, NULL, 0, LLM_MSG_F_LOST);
        }
        if (where == 3) {
            llm_feed_done(&f);
            continue;
        }
        struct llm_record *r = &f.sink.recs[0];
        assert_string_equal(llm_record_str(r, LLM_F_STATUS), "incomplete");
        assert_string_equal(llm_record_str(r, LLM_F_ERROR_TYPE), "capture_lost");
        if (where != 1) {
            assert_string_equal(llm_record_str(r, LLM_F_REQUEST_MODEL), "gpt-3.5-turbo");
            assert_int_equal(r->f[LLM_F_HTTP_STATUS].u.i, 200);
            assert_string_equal(llm_record_str(r, LLM_F_RESPONSE_MODEL), "gpt-3.5-turbo-0125");
        }
        llm_feed_done(&f);
    }
    llm_buf_free(&req);
    llm_buf_free(&resp);
    free_vec(&v);
}

/* GET /v1/models on the same connection as a chat call: one record, paired
 * with the right response, in either order, sequential or pipelined. */
static void test_non_llm_request_on_same_connection(void **state)
{
    static const char models_req[] = "GET /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n"
                                     "Accept: application/json\r\n\r\n";
    static const char models_resp[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 87\r\n\r\n"
        "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o\",\"object\":\"model\",\"owned_by\":"
        "\"system\",\"x\":\"y\"}]}";
    static const char gone_resp[] =
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
        "\r\n{\"error\":1}";
    struct vec v;
    struct llm_buf req, resp;

    (void)state;
    assert_int_equal(strlen(strstr(models_resp, "\r\n\r\n") + 4), 87);
    load_or_fail("openai_chat_nostream_3", &v);
    llm_buf_init(&req, 1 << 20);
    llm_buf_init(&resp, 1 << 20);
    build_request(&v, &req, NULL);
    build_response(&v, FR_CHUNKED, &resp);
    for (int order = 0; order < 2; order++) {
        for (int pipelined = 0; pipelined < 2; pipelined++) {
            for (size_t k = 1; k <= 8192; k = k * 4 + 1) {
                struct llm_feeder f;
                struct split sp = {k, 0, 0};
                /* a second non-LLM request answered with an error */
                const char *other_resp = order ? gone_resp : models_resp;
                llm_feed_init(&f);
                llm_feed_open(&f, 5, "api.openai.com");
                if (pipelined) {
                    struct llm_buf out, in;
                    llm_buf_init(&out, 1 << 20);
                    llm_buf_init(&in, 1 << 20);
                    if (!order) {
                        llm_buf_append(&out, models_req, sizeof(models_req) - 1);
                        llm_buf_append(&in, other_resp, strlen(other_resp));
                    }
                    llm_buf_append(&out, req.p, req.len);
                    llm_buf_append(&in, resp.p, resp.len);
                    if (order) {
                        llm_buf_append(&out, models_req, sizeof(models_req) - 1);
                        llm_buf_append(&in, other_resp, strlen(other_resp));
                    }
                    send_split(&f, 5, LLM_MSG_OUT, out.p, out.len, &sp);
                    send_split(&f, 5, LLM_MSG_IN, in.p, in.len, &sp);
                    llm_buf_free(&out);
                    llm_buf_free(&in);
                } else {
                    if (!order) {
                        send_split(&f, 5, LLM_MSG_OUT, models_req, sizeof(models_req) - 1, &sp);
                        send_split(&f, 5, LLM_MSG_IN, other_resp, strlen(other_resp), &sp);
                        assert_int_equal(f.sink.n, 0);
                    }
                    send_split(&f, 5, LLM_MSG_OUT, req.p, req.len, &sp);
                    send_split(&f, 5, LLM_MSG_IN, resp.p, resp.len, &sp);
                    assert_int_equal(f.sink.n, 1);
                    if (order) {
                        send_split(&f, 5, LLM_MSG_OUT, models_req, sizeof(models_req) - 1, &sp);
                        send_split(&f, 5, LLM_MSG_IN, other_resp, strlen(other_resp), &sp);
                    }
                }
                llm_feed_msg(&f, 5, LLM_MSG_CLOSE, NULL, 0, 0);
                if (f.sink.n != 1)
                    fail_msg("order %d pipelined %d k=%zu: %d records", order, pipelined, k,
                             f.sink.n);
                char ctx[64];
                snprintf(ctx, sizeof(ctx), "order %d pipelined %d k=%zu", order, pipelined, k);
                expect_ok(&v, &f.sink.recs[0], ctx);
                llm_feed_done(&f);
            }
        }
    }
    llm_buf_free(&req);
    llm_buf_free(&resp);
    free_vec(&v);
}

/* GET /v1/chat/completions lists stored completions (OpenAI): it is not a
 * chat call and must not be recorded as one. */
static void test_get_chat_completions_is_not_a_call(void **state)
{
    static const char get[] = "GET /v1/chat/completions?limit=2 HTTP/1.1\r\n"
                              "Host: api.openai.com\r\n\r\n";
    static const char list[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 40\r\n\r\n"
                               "{\"object\":\"list\",\"data\":[],\"has_more\":0}";
    struct llm_feeder f;

    (void)state;
    assert_int_equal(strlen(strstr(list, "\r\n\r\n") + 4), 40);
    llm_feed_init(&f);
    llm_feed_open(&f, 6, "api.openai.com");
    llm_feed_msg(&f, 6, LLM_MSG_OUT, get, sizeof(get) - 1, 0);
    llm_feed_msg(&f, 6, LLM_MSG_IN, list, sizeof(list) - 1, 0);
    llm_feed_msg(&f, 6, LLM_MSG_CLOSE, NULL, 0, 0);
    if (f.sink.n)
        fail_msg("%d record(s) for a GET listing, api=%s status=%s", f.sink.n,
                 llm_record_str(&f.sink.recs[0], LLM_F_API),
                 llm_record_str(&f.sink.recs[0], LLM_F_STATUS));
    llm_feed_done(&f);
}

/* Expect: 100-continue: the interim response does not end the exchange. */
static void test_100_continue(void **state)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct vec v;
    struct llm_buf req, resp;

    (void)state;
    load_or_fail("openai_chat_nostream_2", &v);
    llm_buf_init(&req, 1 << 20);
    llm_buf_init(&resp, 1 << 20);
    build_request(&v, &req, "Expect: 100-continue\r\n");
    build_response(&v, FR_LENGTH, &resp);
    size_t head = (size_t)(strstr(req.p, "\r\n\r\n") + 4 - req.p);
    for (size_t k = 1; k <= req.len + resp.len; k += (k < 64 ? 1 : 61)) {
        struct llm_feeder f;
        struct split sp = {k, 0, 0};
        llm_feed_init(&f);
        llm_feed_open(&f, 8, v.host);
        send_split(&f, 8, LLM_MSG_OUT, req.p, head, &sp);
        send_split(&f, 8, LLM_MSG_IN, cont, sizeof(cont) - 1, &sp);
        assert_int_equal(f.sink.n, 0);
        send_split(&f, 8, LLM_MSG_OUT, req.p + head, req.len - head, &sp);
        send_split(&f, 8, LLM_MSG_IN, resp.p, resp.len, &sp);
        assert_int_equal(f.sink.n, 1);
        llm_feed_msg(&f, 8, LLM_MSG_CLOSE, NULL, 0, 0);
        assert_int_equal(f.sink.n, 1);
        char ctx[32];
        snprintf(ctx, sizeof(ctx), "k=%zu", k);
        expect_ok(&v, &f.sink.recs[0], ctx);
        llm_feed_done(&f);
    }
    /* the interim response in the same message as the final one */
    {
        struct llm_feeder f;
        struct llm_buf in;
        llm_buf_init(&in, 1 << 20);
        llm_buf_append(&in, cont, sizeof(cont) - 1);
        llm_buf_append(&in, resp.p, resp.len);
        llm_feed_init(&f);
        llm_feed_open(&f, 8, v.host);
        llm_feed_msg(&f, 8, LLM_MSG_OUT, req.p, req.len, 0);
        llm_feed_msg(&f, 8, LLM_MSG_IN, in.p, in.len, 0);
        assert_int_equal(f.sink.n, 1);
        expect_ok(&v, &f.sink.recs[0], "one message");
        llm_feed_done(&f);
        llm_buf_free(&in);
    }
    llm_buf_free(&req);
    llm_buf_free(&resp);
    free_vec(&v);
}

/* No Content-Length, no chunking: the body ends with the connection. */
static void test_close_delimited(void **state)
{
    static const char *const names[] = {"openai_chat_nostream_4", "openai_chat_stream_1",
                                        "openai_chat-error_nostream_2"};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct vec v;
        struct llm_buf req, resp;
        load_or_fail(names[i], &v);
        llm_buf_init(&req, 1 << 20);
        llm_buf_init(&resp, 1 << 20);
        build_request(&v, &req, NULL);
        build_response(&v, FR_CLOSE, &resp);
        for (size_t k = 1; k <= resp.len; k = k < 64 ? k + 1 : k * 2) {
            struct llm_feeder f;
            struct split sp = {k, 0, 0};
            llm_feed_init(&f);
            llm_feed_open(&f, 2, v.host);
            send_split(&f, 2, LLM_MSG_OUT, req.p, req.len, &sp);
            send_split(&f, 2, LLM_MSG_IN, resp.p, resp.len, &sp);
            assert_int_equal(f.sink.n, 0); /* the body may go on */
            llm_feed_msg(&f, 2, LLM_MSG_CLOSE, NULL, 0, 0);
            assert_int_equal(f.sink.n, 1);
            char ctx[32];
            snprintf(ctx, sizeof(ctx), "close-delimited k=%zu", k);
            expect_ok(&v, &f.sink.recs[0], ctx);
            llm_feed_done(&f);
        }
        llm_buf_free(&req);
        llm_buf_free(&resp);
        free_vec(&v);
    }
}

/* Two connections whose messages interleave byte by byte. */
static void test_interleaved_connections(void **state)
{
    struct vec a, b;
    struct llm_buf ra, sa, rb, sb;
    struct llm_feeder f;

    (void)state;
    load_or_fail("openai_chat_stream_2", &a);
    load_or_fail("openai_chat-error_nostream_3", &b);
    llm_buf_init(&ra, 1 << 20);
    llm_buf_init(&sa, 1 << 20);
    llm_buf_init(&rb, 1 << 20);
    llm_buf_init(&sb, 1 << 20);
    build_request(&a, &ra, NULL);
    build_response(&a, FR_CHUNKED, &sa);
    build_request(&b, &rb, NULL);
    build_response(&b, FR_LENGTH, &sb);
    llm_feed_init(&f);
    llm_feed_open(&f, 100, a.host);
    llm_feed_open(&f, 356, b.host); /* same hash bucket as 100 */
    size_t max = ra.len + sa.len > rb.len + sb.len ? ra.len + sa.len : rb.len + sb.len;
    for (size_t i = 0; i < max; i++) {
        if (i < ra.len)
            llm_feed_msg(&f, 100, LLM_MSG_OUT, ra.p + i, 1, 0);
        else if (i - ra.len < sa.len)
            llm_feed_msg(&f, 100, LLM_MSG_IN, sa.p + i - ra.len, 1, 0);
        if (i < rb.len)
            llm_feed_msg(&f, 356, LLM_MSG_OUT, rb.p + i, 1, 0);
        else if (i - rb.len < sb.len)
            llm_feed_msg(&f, 356, LLM_MSG_IN, sb.p + i - rb.len, 1, 0);
    }
    assert_int_equal(f.sink.n, 2);
    /* b is shorter: it finished first */
    expect_ok(&b, &f.sink.recs[0], "interleaved b");
    expect_ok(&a, &f.sink.recs[1], "interleaved a");
    /* messages for unknown connections are ignored */
    llm_feed_msg(&f, 999, LLM_MSG_OUT, ra.p, ra.len, 0);
    llm_feed_msg(&f, 999, LLM_MSG_CLOSE, NULL, 0, 0);
    assert_int_equal(f.sink.n, 2);
    llm_feed_done(&f);
    llm_buf_free(&ra);
    llm_buf_free(&sa);
    llm_buf_free(&rb);
    llm_buf_free(&sb);
    free_vec(&a);
    free_vec(&b);
}

static void gzip_into(struct llm_buf *out, const char *s, size_t n)
{
    z_stream z;
    size_t cap = compressBound((uLong)n) + 64;
    unsigned char *tmp = malloc(cap);

    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)s;
    z.avail_in = (uInt)n;
    z.next_out = tmp;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    llm_buf_append(out, tmp, cap - z.avail_out);
    deflateEnd(&z);
    free(tmp);
}

/* gzip on the wire, both ways: the record is the one of the plain replay,
 * with the byte counts of the wire. */
static void test_compressed_bodies(void **state)
{
    static const char *const names[] = {"openai_chat_nostream_3", "openai_chat_stream_2",
                                        "openai_chat-error_nostream_4"};

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        struct vec v;
        struct llm_buf zreq, zresp, req, resp;
        char head[1024];
        load_or_fail(names[i], &v);
        llm_buf_init(&zreq, 1 << 20);
        llm_buf_init(&zresp, 1 << 20);
        llm_buf_init(&req, 1 << 20);
        llm_buf_init(&resp, 1 << 20);
        gzip_into(&zreq, v.req_body, v.req_len);
        gzip_into(&zresp, v.resp_body, v.resp_len);
        int n = snprintf(head, sizeof(head),
                         "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                         "Content-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
                         v.path, v.host, zreq.len);
        llm_buf_append(&req, head, (size_t)n);
        llm_buf_append(&req, zreq.p, zreq.len);
        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Encoding: gzip\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     v.status, v.resp_ct);
        llm_buf_append(&resp, head, (size_t)n);
        append_chunked(&resp, zresp.p, zresp.len);
        static const size_t ks[] = {1, 5, 64, 1000, 1 << 20};
        for (size_t ki = 0; ki < 5; ki++) {
            struct llm_record r;
            struct split sp = {ks[ki], 0, 0};
            struct fails f;
            assert_int_equal(replay(&v, &req, &resp, sp, &r), 1);
            memset(&f, 0, sizeof(f));
            check_record(&v, &r, &f);
            /* the byte counts are the only differences: wire, not decoded */
            if (f.n != 2 || r.f[LLM_F_REQUEST_BYTES].u.i != (int64_t)zreq.len ||
                r.f[LLM_F_RESPONSE_BYTES].u.i != (int64_t)zresp.len)
                fail_msg("%s gzip k=%zu (request_bytes %lld of %zu, response_bytes %lld of "
                         "%zu):%s",
                         v.name, ks[ki], (long long)r.f[LLM_F_REQUEST_BYTES].u.i, zreq.len,
                         (long long)r.f[LLM_F_RESPONSE_BYTES].u.i, zresp.len, f.text);
            llm_record_clear(&r);
        }
        llm_buf_free(&zreq);
        llm_buf_free(&zresp);
        llm_buf_free(&req);
        llm_buf_free(&resp);
        free_vec(&v);
    }
}

/* A HEAD request's response has no body whatever its Content-Length says;
 * the call after it on the same connection is read right. */
static void test_head_request(void **state)
{
    static const char head_req[] = "HEAD /v1/models HTTP/1.1\r\nHost: api.openai.com\r\n\r\n";
    static const char head_resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 5000\r\n\r\n";
    struct vec v;
    struct llm_buf out, in;

    (void)state;
    load_or_fail("openai_chat_nostream_4", &v);
    llm_buf_init(&out, 1 << 20);
    llm_buf_init(&in, 1 << 20);
    llm_buf_append(&out, head_req, sizeof(head_req) - 1);
    build_request(&v, &out, NULL);
    llm_buf_append(&in, head_resp, sizeof(head_resp) - 1);
    build_response(&v, FR_LENGTH, &in);
    for (size_t k = 1; k <= in.len; k = k < 32 ? k + 1 : k * 2) {
        struct llm_feeder f;
        struct split sp = {k, 0, 0};
        llm_feed_init(&f);
        llm_feed_open(&f, 12, v.host);
        send_split(&f, 12, LLM_MSG_OUT, out.p, out.len, &sp);
        send_split(&f, 12, LLM_MSG_IN, in.p, in.len, &sp);
        assert_int_equal(f.sink.n, 1);
        llm_feed_msg(&f, 12, LLM_MSG_CLOSE, NULL, 0, 0);
        assert_int_equal(f.sink.n, 1);
        expect_ok(&v, &f.sink.recs[0], "after HEAD");
        llm_feed_done(&f);
    }
    llm_buf_free(&out);
    llm_buf_free(&in);
    free_vec(&v);
}

/* The port in the Host header: only the digits of its value count. Header
 * values are stored back to back, not NUL-terminated, so atoi() on
 * "api.openai.com:8" read on into the next header's name ("9999") and gave
 * 89999. A port that is not 1..65535 in digits is ignored (TLS default). */
static void test_host_port(void **state)
{
    static const struct {
        const char *host_lines; /* the Host header and what follows it */
        const char *server;
        int port;
    } cases[] = {
        {"Host: api.openai.com:8\r\n9999: x\r\n", "api.openai.com", 8},
        {"Host: api.openai.com:\r\n12: y\r\n", "api.openai.com", 443},
        {"Host: api.openai.com:8443\r\n", "api.openai.com", 8443},
        {"Host: api.openai.com:65535\r\n", "api.openai.com", 65535},
        {"Host: api.openai.com:65536\r\n", "api.openai.com", 443},
        {"Host: api.openai.com:99999999999999999999\r\n", "api.openai.com", 443},
        {"Host: api.openai.com:80x\r\n", "api.openai.com", 443},
        {"Host: api.openai.com:-80\r\n", "api.openai.com", 443},
        {"Host: api.openai.com:0\r\n", "api.openai.com", 443},
        {"Host: [::1]:8080\r\n1: z\r\n", "[::1]", 8080},
        {"Host: [::1]\r\n", "[::1]", 443},
    };
    static const char body[] = "{\"model\":\"gpt-4o-mini\",\"messages\":[]}";
    static const char resp_body[] =
        "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
    char resp[512];
    int rn = snprintf(resp, sizeof(resp),
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      sizeof(resp_body) - 1, resp_body);

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct llm_feeder f;
        char req[512];
        int n = snprintf(req, sizeof(req),
                         "POST /v1/chat/completions HTTP/1.1\r\n%s"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                         cases[i].host_lines, sizeof(body) - 1, body);
        llm_feed_init(&f);
        llm_feed_open(&f, 9, "api.openai.com");
        llm_feed_msg(&f, 9, LLM_MSG_OUT, req, (size_t)n, 0);
        llm_feed_msg(&f, 9, LLM_MSG_IN, resp, (size_t)rn, 0);
        assert_int_equal(f.sink.n, 1);
        const struct llm_record *r = &f.sink.recs[0];
        if (!r->f[LLM_F_SERVER_PORT].set || r->f[LLM_F_SERVER_PORT].u.i != cases[i].port)
            fail_msg("%s: server_port %lld, want %d", cases[i].host_lines,
                     (long long)r->f[LLM_F_SERVER_PORT].u.i, cases[i].port);
        assert_string_equal(llm_record_str(r, LLM_F_SERVER_ADDRESS), cases[i].server);
        assert_string_equal(llm_record_str(r, LLM_F_STATUS), "ok");
        llm_feed_done(&f);
    }
}

/* At exit, exchanges still open become incomplete with the given reason. */
static void test_close_all(void **state)
{
    struct vec v;
    struct llm_buf req;
    struct llm_feeder f;

    (void)state;
    load_or_fail("openai_chat_nostream_1", &v);
    llm_buf_init(&req, 1 << 20);
    build_request(&v, &req, NULL);
    llm_feed_init(&f);
    llm_feed_open(&f, 10, v.host);
    llm_feed_open(&f, 11, v.host);
    llm_feed_open(&f, 12, v.host);
    llm_feed_msg(&f, 10, LLM_MSG_OUT, req.p, req.len, 0);
    llm_feed_msg(&f, 11, LLM_MSG_OUT, req.p, req.len, 0);
    llm_feed_msg(&f, 11, LLM_MSG_OUT, req.p, req.len, 0); /* two waiting on one connection */
    assert_int_equal(f.cs.count, 3);
    llm_conns_close_all(&f.cs, "process_exit", f.t, f.t);
    assert_int_equal(f.cs.count, 0);
    assert_int_equal(f.sink.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(llm_record_str(&f.sink.recs[i], LLM_F_STATUS), "incomplete");
        assert_string_equal(llm_record_str(&f.sink.recs[i], LLM_F_ERROR_TYPE), "process_exit");
        assert_string_equal(llm_record_str(&f.sink.recs[i], LLM_F_REQUEST_MODEL), "gpt-3.5-turbo");
        assert_false(f.sink.recs[i].f[LLM_F_HTTP_STATUS].set);
    }
    llm_feed_done(&f);
    llm_buf_free(&req);
    free_vec(&v);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_openai_chat),
        cmocka_unit_test(test_corpus_all),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_big_heads),
        cmocka_unit_test(test_pipelined_ttfb),
        cmocka_unit_test(test_cut_mid_stream),
        cmocka_unit_test(test_cut_corpus_stream),
        cmocka_unit_test(test_cut_every_stream),
        cmocka_unit_test(test_big_request_long_stream),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_lost_bytes),
        cmocka_unit_test(test_non_llm_request_on_same_connection),
        cmocka_unit_test(test_get_chat_completions_is_not_a_call),
        cmocka_unit_test(test_100_continue),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_interleaved_connections),
        cmocka_unit_test(test_compressed_bodies),
        cmocka_unit_test(test_head_request),
        cmocka_unit_test(test_host_port),
        cmocka_unit_test(test_close_all),
    };
    static char fallback[1024];

    corpus_dir = argc > 1 ? argv[1] : getenv("LLMOPS_CORPUS");
    if (!corpus_dir && getenv("LLMOPS_SRC")) {
        snprintf(fallback, sizeof(fallback), "%s/tests/corpus", getenv("LLMOPS_SRC"));
        corpus_dir = fallback;
    }
    if (!corpus_dir) {
        fprintf(stderr, "usage: %s CORPUS_DIR (or set LLMOPS_CORPUS)\n", argv[0]);
        return 2;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
