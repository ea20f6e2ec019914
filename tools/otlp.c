/* Records as OTLP/JSON (the OTLP specification's JSON encoding of
 * opentelemetry-proto: lowerCamelCase field names, trace and span ids as hex,
 * 64-bit integers as decimal strings, enums as numbers). The tool's thread.
 *
 * One span per record, after the OpenTelemetry GenAI semantic conventions:
 * name "{gen_ai.operation.name} {gen_ai.request.model}", kind CLIENT (3),
 * start/end from timestamp/end_timestamp (end: start + latency_ms when the
 * record has no end), attributes gen_ai.operation.name, gen_ai.provider.name,
 * gen_ai.request.model, gen_ai.response.model, gen_ai.request.temperature,
 * gen_ai.request.max_tokens, gen_ai.request.top_p, gen_ai.usage.input_tokens,
 * gen_ai.usage.output_tokens, gen_ai.usage.cache_read.input_tokens,
 * gen_ai.usage.cache_creation.input_tokens,
 * gen_ai.usage.reasoning.output_tokens, gen_ai.response.finish_reasons,
 * server.address, server.port, http.response.status_code, and on an error
 * error.type and status ERROR (2) with the error message. Content, when the
 * record has it (LLMOPS_CAPTURE_CONTENT was on), goes in the opt-in
 * attributes gen_ai.input.messages (the request's messages, JSON text) and
 * gen_ai.output.messages (the output text as one assistant message). Our own
 * fields go under llmops.* (operation_id, cost_usd, ttft_ms, session and
 * attribution, api, capture); session_id is also session.id.
 *
 * Ids: the span id is the first 8 bytes of FNV-1a-128 over the operation id,
 * so a record always makes the same span (a batch sent twice makes no
 * duplicate where spans are keyed by id). A record with a W3C trace context
 * (trace_id, parent_span_id) is a child of that parent in that trace, with
 * its trace_state; otherwise it is a root span whose trace id is its
 * operation id's 16 ULID bytes.
 *
 * Resource: service.name (OTEL_SERVICE_NAME of the exporting process, else
 * the recording program's name, else "unknown_service"), host.name,
 * process.pid, process.parent_pid, process.executable.path,
 * process.command_args; the scope is "llmops".
 *
 * Metrics (delta histograms, one point per record and value, explicit
 * bucket bounds as the conventions advise): gen_ai.client.token.usage
 * ({token}; gen_ai.token.type input / output) and
 * gen_ai.client.operation.duration (s), with the operation, provider,
 * models, server and error.type attributes. */
#include "otlp.h"
#include "err.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double token_bounds[] = {1,     4,     16,     64,      256,     1024,     4096,
                                      16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};
static const double duration_bounds[] = {0.01, 0.02, 0.04, 0.08,  0.16,  0.32,  0.64,
                                         1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
#define NB(a) (sizeof(a) / sizeof((a)[0]))

static const char *str(json_t *rec, const char *k)
{
    json_t *v = json_object_get(rec, k);
    return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

static int add(json_t *attrs, const char *key, json_t *value)
{
    json_t *kv;

    if (!value)
        return LLM_ENOMEM;
    kv = json_pack("{s:s,s:o}", "key", key, "value", value);
    return kv && !json_array_append_new(attrs, kv) ? 0 : LLM_ENOMEM;
}

static int add_str(json_t *attrs, const char *key, const char *s)
{
    return s ? add(attrs, key, json_pack("{s:s}", "stringValue", s)) : 0;
}

static int add_int_value(json_t *attrs, const char *key, long long v)
{
    char num[32];
    snprintf(num, sizeof(num), "%lld", v);
    return add(attrs, key, json_pack("{s:s}", "intValue", num));
}

static int add_int(json_t *attrs, const char *key, json_t *rec, const char *field)
{
    json_t *v = json_object_get(rec, field);
    return json_is_integer(v) ? add_int_value(attrs, key, json_integer_value(v)) : 0;
}

static int add_double(json_t *attrs, const char *key, json_t *rec, const char *field)
{
    json_t *v = json_object_get(rec, field);
    return json_is_number(v)
               ? add(attrs, key, json_pack("{s:f}", "doubleValue", json_number_value(v)))
               : 0;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* FNV-1a with a 128-bit state (offset basis and prime from the FNV spec),
 * whose top 64 bits are the span id. */
static void span_id(const char *op, char out[17])
{
    unsigned __int128 h = ((unsigned __int128)0x6c62272e07bb0142ULL << 64) | 0x62b821756295c58dULL;
    const unsigned __int128 prime = ((unsigned __int128)0x0000000001000000ULL << 64) | 0x13bULL;
    uint8_t b[8];

    for (const char *p = op; *p; p++)
        h = (h ^ (unsigned char)*p) * prime;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(h >> (120 - 8 * i));
    if (!memcmp(b, "\0\0\0\0\0\0\0\0", 8))
        b[7] = 1; /* an all-zero id is invalid */
    hex(b, 8, out);
}

static int nanos(json_t *rec, const char *field, long long *ns)
{
    const char *t = str(rec, field);
    int64_t us;

    if (!t || llm_parse_time(t, &us))
        return -1;
    *ns = (long long)us * 1000;
    return 0;
}

static const char *error_type(json_t *rec)
{
    const char *s = str(rec, "status"), *e = str(rec, "error_type");
    if (!s || (strcmp(s, "error") && strcmp(s, "incomplete")))
        return NULL;
    return e ? e : "_OTHER";
}

/* The attributes a span and its metric points share. */
static int common_attrs(json_t *a, json_t *rec)
{
    int rc = add_str(a, "gen_ai.operation.name", str(rec, "operation_type"));
    if (!rc)
        rc = add_str(a, "gen_ai.provider.name", str(rec, "provider"));
    if (!rc)
        rc = add_str(a, "gen_ai.request.model", str(rec, "request_model"));
    if (!rc)
        rc = add_str(a, "gen_ai.response.model", str(rec, "response_model"));
    if (!rc)
        rc = add_str(a, "server.address", str(rec, "server_address"));
    if (!rc)
        rc = add_int(a, "server.port", rec, "server_port");
    if (!rc)
        rc = add_str(a, "error.type", error_type(rec));
    return rc;
}

static int content_attrs(json_t *a, json_t *rec)
{
    const char *args = str(rec, "completion_args"), *out = str(rec, "response");
    json_t *req = args ? json_loads(args, 0, NULL) : NULL, *msgs, *o;
    char *text;
    int rc = 0;

    msgs = json_object_get(req, "messages");
    if (!msgs)
        msgs = json_object_get(req, "input");
    if (!msgs)
        msgs = json_object_get(req, "contents");
    if (msgs) {
        text = json_dumps(msgs, JSON_COMPACT | JSON_ENCODE_ANY);
        rc = text ? add_str(a, "gen_ai.input.messages", text) : LLM_ENOMEM;
        free(text);
    }
    json_decref(req);
    if (rc || !out)
        return rc;
    o = json_pack("[{s:s,s:[{s:s,s:s}]}]", "role", "assistant", "parts", "type", "text", "content",
                  out);
    if (o && str(rec, "finish_reason"))
        json_object_set_new(json_array_get(o, 0), "finish_reason",
                            json_string(str(rec, "finish_reason")));
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    rc = text ? add_str(a, "gen_ai.output.messages", text) : LLM_ENOMEM;
    free(text);
    json_decref(o);
    return rc;
}

static int span_attrs(json_t *a, json_t *rec, const char *op)
{
    static const char *const own[][2] = {
        {"llmops.api", "api"},
        {"llmops.capture", "capture"},
        {"llmops.status", "status"},
        {"llmops.workspace", "workspace"},
        {"llmops.agent_id", "agent_id"},
        {"llmops.action_id", "action_id"},
        {"llmops.session_id", "session_id"},
        {"session.id", "session_id"},
        {"gen_ai.agent.id", "agent_id"},
        {"url.path", "url_path"},
        {"http.request.method", "http_method"},
    };
    const char *fr = str(rec, "finish_reason");
    int rc = common_attrs(a, rec);

    if (!rc)
        rc = add_double(a, "gen_ai.request.temperature", rec, "temperature");
    if (!rc)
        rc = add_int(a, "gen_ai.request.max_tokens", rec, "max_tokens");
    if (!rc)
        rc = add_double(a, "gen_ai.request.top_p", rec, "top_p");
    if (!rc)
        rc = add_int(a, "gen_ai.usage.input_tokens", rec, "input_tokens");
    if (!rc)
        rc = add_int(a, "gen_ai.usage.output_tokens", rec, "output_tokens");
    if (!rc)
        rc = add_int(a, "gen_ai.usage.cache_read.input_tokens", rec, "cache_read_tokens");
    if (!rc)
        rc = add_int(a, "gen_ai.usage.cache_creation.input_tokens", rec, "cache_write_tokens");
    if (!rc)
        rc = add_int(a, "gen_ai.usage.reasoning.output_tokens", rec, "reasoning_tokens");
    if (!rc && fr)
        rc = add(a, "gen_ai.response.finish_reasons",
                 json_pack("{s:{s:[{s:s}]}}", "arrayValue", "values", "stringValue", fr));
    if (!rc)
        rc = add_int(a, "http.response.status_code", rec, "http_status");
    if (!rc)
        rc = add_str(a, "llmops.operation_id", op);
    if (!rc)
        rc = add_double(a, "llmops.cost_usd", rec, "cost_usd");
    if (!rc)
        rc = add_double(a, "llmops.ttft_ms", rec, "ttft_ms");
    for (size_t i = 0; !rc && i < NB(own); i++)
        rc = add_str(a, own[i][0], str(rec, own[i][1]));
    return rc ? rc : content_attrs(a, rec);
}

static json_t *resource(json_t *rec)
{
    const char *svc = getenv("OTEL_SERVICE_NAME"), *exe = str(rec, "exe");
    json_t *a = json_array(), *argv = json_object_get(rec, "argv"), *vals, *v;
    size_t i;
    int rc;

    if (!a)
        return NULL;
    if (!svc || !*svc)
        svc = exe && strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe ? exe : "unknown_service";
    rc = add_str(a, "service.name", svc);
    if (!rc)
        rc = add_str(a, "host.name", str(rec, "hostname"));
    if (!rc)
        rc = add_int(a, "process.pid", rec, "pid");
    if (!rc)
        rc = add_int(a, "process.parent_pid", rec, "ppid");
    if (!rc)
        rc = add_str(a, "process.executable.path", exe);
    if (!rc && json_is_array(argv)) {
        vals = json_array();
        json_array_foreach(argv, i, v) if (json_is_string(v) && vals)
            json_array_append_new(vals, json_pack("{s:O}", "stringValue", v));
        rc = vals ? add(a, "process.command_args",
                        json_pack("{s:{s:o}}", "arrayValue", "values", vals))
                  : LLM_ENOMEM;
    }
    if (rc) {
        json_decref(a);
        return NULL;
    }
    return json_pack("{s:o}", "attributes", a);
}

static json_t *scope(void)
{
    return json_pack("{s:s}", "name", "llmops");
}

int llm_otlp_add_span(json_t *resource_spans, json_t *rec, const char *ulid)
{
    const char *op = str(rec, "operation_id"), *name = str(rec, "operation_type"),
               *model = str(rec, "request_model"), *tid = str(rec, "trace_id"),
               *parent = str(rec, "parent_span_id"), *state = str(rec, "trace_state");
    char sid[17], tbuf[33], title[512], num[32];
    long long start, end;
    uint8_t key[16];
    json_t *span, *attrs, *rs, *res, *lat = json_object_get(rec, "latency_ms");
    int rc;

    if (!op)
        op = ulid;
    if (!op || nanos(rec, "timestamp", &start))
        return LLM_EINVAL;
    if (nanos(rec, "end_timestamp", &end))
        end = start + (json_is_number(lat) ? (long long)(json_number_value(lat) * 1e6) : 0);
    span_id(op, sid);
    if (!tid || strlen(tid) != 32) {
        if (llm_ulid_parse(op, key))
            snprintf(tbuf, sizeof(tbuf), "%s%s", sid, sid); /* not a ULID: from its hash */
        else
            hex(key, 16, tbuf);
        tid = tbuf;
        parent = NULL;
        state = NULL;
    }
    if (!model)
        model = str(rec, "model");
    snprintf(title, sizeof(title), "%s%s%s", name ? name : "llm", model ? " " : "",
             model ? model : "");
    attrs = json_array();
    if (!attrs)
        return LLM_ENOMEM;
    rc = span_attrs(attrs, rec, op);
    if (rc) {
        json_decref(attrs);
        return rc;
    }
    span = json_pack("{s:s,s:s,s:s,s:i,s:o}", "traceId", tid, "spanId", sid, "name", title, "kind",
                     3, "attributes", attrs);
    if (!span)
        return LLM_ENOMEM;
    snprintf(num, sizeof(num), "%lld", start);
    json_object_set_new(span, "startTimeUnixNano", json_string(num));
    snprintf(num, sizeof(num), "%lld", end < start ? start : end);
    json_object_set_new(span, "endTimeUnixNano", json_string(num));
    if (parent && strlen(parent) == 16)
        json_object_set_new(span, "parentSpanId", json_string(parent));
    if (state)
        json_object_set_new(span, "traceState", json_string(state));
    if (error_type(rec))
        json_object_set_new(
            span, "status",
            json_pack("{s:i,s:s}", "code", 2, "message",
                      str(rec, "error_message") ? str(rec, "error_message") : error_type(rec)));
    res = resource(rec);
    rs = res ? json_pack("{s:o,s:[{s:o,s:[o]}]}", "resource", res, "scopeSpans", "scope", scope(),
                         "spans", span)
             : NULL;
    if (!rs) {
        json_decref(span);
        return LLM_ENOMEM;
    }
    return json_array_append_new(resource_spans, rs) ? LLM_ENOMEM : 0;
}

/* One delta histogram data point of value v. */
static json_t *point(json_t *rec, double v, const double *bounds, size_t nb, const char *token_type,
                     long long start, long long end)
{
    json_t *attrs = json_array(), *counts = json_array(), *b = json_array(), *p;
    char s[32], e[32];
    size_t i;

    if (!attrs || !counts || !b || common_attrs(attrs, rec) ||
        (token_type && add_str(attrs, "gen_ai.token.type", token_type))) {
        json_decref(attrs);
        json_decref(counts);
        json_decref(b);
        return NULL;
    }
    for (i = 0; i < nb; i++)
        json_array_append_new(b, json_real(bounds[i]));
    for (i = 0; i <= nb; i++) /* bucket i holds (bounds[i-1], bounds[i]] */
        json_array_append_new(
            counts,
            json_string((i == nb || v <= bounds[i]) && (i == 0 || v > bounds[i - 1]) ? "1" : "0"));
    snprintf(s, sizeof(s), "%lld", start);
    snprintf(e, sizeof(e), "%lld", end);
    p = json_pack("{s:o,s:s,s:s,s:s,s:f,s:o,s:o,s:f,s:f}", "attributes", attrs, "startTimeUnixNano",
                  s, "timeUnixNano", e, "count", "1", "sum", v, "bucketCounts", counts,
                  "explicitBounds", b, "min", v, "max", v);
    return p;
}

static json_t *histogram(const char *name, const char *unit, const char *desc, json_t *points)
{
    return json_pack("{s:s,s:s,s:s,s:{s:o,s:i}}", "name", name, "unit", unit, "description", desc,
                     "histogram", "dataPoints", points, "aggregationTemporality", 1);
}

int llm_otlp_add_metrics(json_t *resource_metrics, json_t *rec, const char *ulid)
{
    json_t *tok = json_array(), *dur = json_array(), *metrics, *res, *rm, *p;
    json_t *lat = json_object_get(rec, "latency_ms");
    long long start, end;
    static const char *const kinds[][2] = {{"input_tokens", "input"}, {"output_tokens", "output"}};

    (void)ulid;
    if (!tok || !dur || nanos(rec, "timestamp", &start)) {
        json_decref(tok);
        json_decref(dur);
        return tok && dur ? LLM_EINVAL : LLM_ENOMEM;
    }
    if (nanos(rec, "end_timestamp", &end))
        end = start + (json_is_number(lat) ? (long long)(json_number_value(lat) * 1e6) : 0);
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(rec, kinds[i][0]);
        if (json_is_integer(v) && (p = point(rec, (double)json_integer_value(v), token_bounds,
                                             NB(token_bounds), kinds[i][1], start, end)))
            json_array_append_new(tok, p);
    }
    if (json_is_number(lat) && (p = point(rec, json_number_value(lat) / 1000.0, duration_bounds,
                                          NB(duration_bounds), NULL, start, end)))
        json_array_append_new(dur, p);
    metrics = json_array();
    if (metrics && json_array_size(tok))
        json_array_append_new(metrics, histogram("gen_ai.client.token.usage", "{token}",
                                                 "Number of input and output tokens used", tok));
    else
        json_decref(tok);
    if (metrics && json_array_size(dur))
        json_array_append_new(metrics, histogram("gen_ai.client.operation.duration", "s",
                                                 "GenAI operation duration", dur));
    else
        json_decref(dur);
    if (!metrics)
        return LLM_ENOMEM;
    if (!json_array_size(metrics)) {
        json_decref(metrics);
        return 0;
    }
    res = resource(rec);
    rm = res ? json_pack("{s:o,s:[{s:o,s:o}]}", "resource", res, "scopeMetrics", "scope", scope(),
                         "metrics", metrics)
             : NULL;
    if (!rm) {
        json_decref(metrics);
        return LLM_ENOMEM;
    }
    return json_array_append_new(resource_metrics, rm) ? LLM_ENOMEM : 0;
}
