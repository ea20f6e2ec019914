/* AWS Bedrock Runtime: Converse and ConverseStream (one shape for every
 * model), InvokeModel and InvokeModelWithResponseStream (the model family's
 * own body, passed through). The model is only in the URL,
 * /model/{id}/{operation}, percent-encoded. Streams are AWS event-stream
 * messages (eventstream.c): Converse names each event; Invoke sends "chunk"
 * events whose "bytes" are base64 of one family-shaped event. Anthropic
 * and OpenAI-shaped bodies are handed to those dialects, so their merging
 * and usage arithmetic apply unchanged; Titan, Llama, Cohere, Mistral and
 * Nova bodies are read here.
 *
 * Usage, first found wins: the body's usage object (Converse, Nova, or the
 * delegate's), Bedrock's amazon-bedrock-invocationMetrics (last chunk of an
 * Invoke stream), the family's own count fields (Titan, Llama), the
 * X-Amzn-Bedrock-*-Token-Count response headers. Every one of them counts
 * input without cache reads and writes, so the record's input adds them.
 * Collector thread. */
#include "dialect.h"

#include <stdlib.h>
#include <string.h>

extern const struct llm_dialect llm_dialect_anthropic_messages;
extern const struct llm_dialect llm_dialect_openai_chat;

enum op { CONVERSE, CONVERSE_STREAM, INVOKE, INVOKE_STREAM };

extern const struct llm_dialect llm_dialect_bedrock_converse;

struct bedrock {
    json_t *usage;                   /* a usage object the body carried, verbatim */
    json_t *metrics;                 /* amazon-bedrock-invocationMetrics */
    json_t *counts;                  /* the family's top-level count fields (Titan, Llama) */
    json_t *headers;                 /* counts from the response headers, named as in metrics */
    char errtype[64];                /* X-Amzn-ErrorType, up to the ':' */
    const struct llm_dialect *inner; /* delegate that owns the body, or NULL */
    void *inner_priv;
};

/* ".../model/{id}/{op}" -> op, id (still percent-encoded); -1 if not. */
static int parse(const char *path, size_t n, const char **id, size_t *idn)
{
    static const char *const ops[] = {"converse", "converse-stream", "invoke",
                                      "invoke-with-response-stream"};
    const char *end = path + n, *slash, *m;

    while (end > path && end[-1] == '/')
        end--;
    for (slash = end; slash > path && slash[-1] != '/'; slash--)
        ;
    if (slash - path < 9) /* "/model/x/" */
        return -1;
    for (m = slash - 1; m > path && m[-1] != '/'; m--)
        ;
    if (m - path < 7 || m == slash - 1 || memcmp(m - 7, "/model/", 7))
        return -1;
    for (int i = 0; i < 4; i++) {
        if ((size_t)(end - slash) == strlen(ops[i]) && !memcmp(slash, ops[i], end - slash)) {
            *id = m;
            *idn = (size_t)(slash - 1 - m);
            return i;
        }
    }
    return -1;
}

static struct bedrock *state(struct llm_call *c)
{
    if (!c->priv)
        c->priv = calloc(1, sizeof(struct bedrock));
    return c->priv;
}

static int hex(int ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* The model id from the URL, percent-decoded ("v1%3A0" -> "v1:0"). */
static void url_model(struct llm_call *c)
{
    const char *id;
    size_t n, k = 0;
    int op = parse(c->path, strlen(c->path), &id, &n);
    char *out;

    if (op < 0 || !(out = malloc(n + 1)))
        return;
    for (size_t i = 0; i < n; i++) {
        if (id[i] == '%' && i + 2 < n && hex(id[i + 1]) >= 0 && hex(id[i + 2]) >= 0) {
            out[k++] = (char)(hex(id[i + 1]) << 4 | hex(id[i + 2]));
            i += 2;
        } else {
            out[k++] = id[i];
        }
    }
    out[k] = '\0';
    llm_record_take_str(&c->rec, LLM_F_REQUEST_MODEL, out, k);
    llm_record_set_bool(&c->rec, LLM_F_STREAM, op == CONVERSE_STREAM || op == INVOKE_STREAM);
}

static void request_converse(struct llm_call *c, json_t *body)
{
    url_model(c);
    llm_json_set_real(c, LLM_F_TEMPERATURE, body, "inferenceConfig.temperature");
    llm_json_set_real(c, LLM_F_TOP_P, body, "inferenceConfig.topP");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, body, "inferenceConfig.maxTokens");
}

/* Invoke bodies name their parameters per family; each has at most one. */
static void request_invoke(struct llm_call *c, json_t *body)
{
    static const char *const temperature[] = {"temperature", "textGenerationConfig.temperature",
                                              "inferenceConfig.temperature"};
    static const char *const top_p[] = {"top_p", "p", "textGenerationConfig.topP",
                                        "inferenceConfig.top_p", "inferenceConfig.topP"};
    static const char *const max_tokens[] = {"max_tokens",
                                             "max_gen_len",
                                             "max_tokens_to_sample",
                                             "max_completion_tokens",
                                             "textGenerationConfig.maxTokenCount",
                                             "inferenceConfig.max_new_tokens"};

    url_model(c);
    if (!body)
        return;
    for (size_t i = 0; i < sizeof(temperature) / sizeof(*temperature); i++)
        llm_json_set_real(c, LLM_F_TEMPERATURE, body, temperature[i]);
    for (size_t i = 0; i < sizeof(top_p) / sizeof(*top_p); i++)
        llm_json_set_real(c, LLM_F_TOP_P, body, top_p[i]);
    for (size_t i = 0; i < sizeof(max_tokens) / sizeof(*max_tokens); i++)
        llm_json_set_int(c, LLM_F_MAX_TOKENS, body, max_tokens[i]);
    /* a bare prompt (Titan inputText, Llama/Mistral/Cohere prompt) is a
     * text completion, not a chat */
    if (!json_object_get(body, "messages") && (json_is_string(json_object_get(body, "prompt")) ||
                                               json_is_string(json_object_get(body, "inputText"))))
        llm_record_set_cstr(&c->rec, LLM_F_OPERATION_TYPE, "text_completion");
}

static void response_head(struct llm_call *c, const struct llm_h1_head *h)
{
    static const char *const names[][2] = {
        {"x-amzn-bedrock-input-token-count", "inputTokenCount"},
        {"x-amzn-bedrock-output-token-count", "outputTokenCount"},
        {"x-amzn-bedrock-cache-read-input-token-count", "cacheReadInputTokenCount"},
        {"x-amzn-bedrock-cache-write-input-token-count", "cacheWriteInputTokenCount"}};
    struct bedrock *s = state(c);
    const char *v;
    size_t n = 0;

    if (!s)
        return;
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        json_int_t x = 0;
        size_t k;
        if (!(v = llm_h1_header(h, names[i][0], &n)) || !n || n > 18)
            continue;
        for (k = 0; k < n && v[k] >= '0' && v[k] <= '9'; k++)
            x = x * 10 + (v[k] - '0');
        if (k < n)
            continue;
        if (!s->headers)
            s->headers = json_object();
        json_object_set_new(s->headers, names[i][1], json_integer(x));
    }
    if ((v = llm_h1_header(h, "x-amzn-errortype", &n))) {
        const char *colon = memchr(v, ':', n);
        n = colon ? (size_t)(colon - v) : n;
        if (n >= sizeof(s->errtype))
            n = sizeof(s->errtype) - 1;
        memcpy(s->errtype, v, n);
        s->errtype[n] = '\0';
    }
}

/* Runs a delegate dialect with its own state swapped into c->priv. One
 * delegate per call: its state means nothing to another. */
static void delegate(struct llm_call *c, const struct llm_dialect *d, const char *event,
                     json_t *body, const char *raw, size_t n)
{
    struct bedrock *s = c->priv;

    if (s->inner && s->inner != d)
        return;
    s->inner = d;
    c->priv = s->inner_priv;
    if (event)
        d->event(c, event, body, raw, n);
    else
        d->response(c, body);
    s->inner_priv = c->priv;
    c->priv = s;
}

static void keep(json_t **slot, json_t *v)
{
    json_decref(*slot);
    *slot = json_incref(v);
}

static void fail(struct llm_call *c, json_t *body, const char *type)
{
    struct bedrock *s = c->priv;
    json_t *m = json_object_get(body, "Message"); /* some AWS services capitalise it */

    if (!llm_call_error(c, body) && json_is_string(m))
        llm_record_set_str(&c->rec, LLM_F_ERROR_MESSAGE, json_string_value(m),
                           json_string_length(m));
    c->error_seen = 1;
    if (!type && s && s->errtype[0])
        type = s->errtype;
    if (type && *type)
        llm_record_set_cstr(&c->rec, LLM_F_ERROR_TYPE, type);
}

static void text(struct llm_call *c, json_t *v)
{
    if (json_is_string(v))
        llm_call_output(c, json_string_value(v), json_string_length(v));
}

/* One Converse content block (whole, from a non-streaming response). */
static void converse_block(struct llm_call *c, int64_t index, json_t *b)
{
    json_t *tool = json_object_get(b, "toolUse");

    text(c, json_object_get(b, "text"));
    if (json_is_object(tool)) {
        char *args = json_dumps(json_object_get(tool, "input"), JSON_COMPACT | JSON_PRESERVE_ORDER);
        llm_call_tool(c, index, json_string_value(json_object_get(tool, "toolUseId")),
                      json_string_value(json_object_get(tool, "name")), args,
                      args ? strlen(args) : 0);
        free(args);
    }
    if (json_object_get(b, "reasoningContent"))
        llm_call_first_token(c);
}

static void converse_response(struct llm_call *c, json_t *body)
{
    struct bedrock *s = c->priv;
    json_t *b;
    size_t i;

    llm_json_set_str(c, LLM_F_FINISH_REASON, body, "stopReason");
    if (json_is_object(json_object_get(body, "usage")))
        keep(&s->usage, json_object_get(body, "usage"));
    json_array_foreach(llm_json_path(body, "output.message.content"), i, b)
        converse_block(c, (int64_t)i, b);
}

/* One ConverseStream event (also the events Nova wraps in Invoke chunks). */
static void converse_event(struct llm_call *c, const char *name, json_t *d)
{
    struct bedrock *s = c->priv;
    json_t *delta = json_object_get(d, "delta"), *tool, *v;
    int64_t index = 0;

    llm_json_int(d, "contentBlockIndex", &index);
    if (!strcmp(name, "contentBlockStart")) {
        tool = llm_json_path(d, "start.toolUse");
        if (json_is_object(tool))
            llm_call_tool(c, index, json_string_value(json_object_get(tool, "toolUseId")),
                          json_string_value(json_object_get(tool, "name")), NULL, 0);
    } else if (!strcmp(name, "contentBlockDelta")) {
        text(c, json_object_get(delta, "text"));
        if (json_is_string(v = llm_json_path(delta, "toolUse.input")))
            llm_call_tool(c, index, NULL, NULL, json_string_value(v), json_string_length(v));
        if (json_object_get(delta, "reasoningContent"))
            llm_call_first_token(c); /* output, just not text we keep */
    } else if (!strcmp(name, "messageStop")) {
        llm_json_set_str(c, LLM_F_FINISH_REASON, d, "stopReason");
    } else if (!strcmp(name, "metadata") && json_is_object(v = json_object_get(d, "usage"))) {
        keep(&s->usage, v);
    }
}

/* The count fields Titan and Llama put next to their text. */
static void family_counts(struct llm_call *c, json_t *o)
{
    static const char *const keys[] = {"inputTextTokenCount", "tokenCount",
                                       "totalOutputTextTokenCount", "prompt_token_count",
                                       "generation_token_count"};
    struct bedrock *s = c->priv;

    for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (!json_is_integer(v))
            continue; /* Llama streams send null after the first chunk */
        if (!s->counts)
            s->counts = json_object();
        json_object_set(s->counts, keys[i], v);
    }
}

/* A non-Anthropic, non-Converse Invoke body or stream chunk: Titan
 * (results[0] / top-level outputText), Llama (generation), Cohere Command
 * (generations[0] / text), Mistral (outputs[0]). */
static void family_body(struct llm_call *c, json_t *j)
{
    static const char *const lists[] = {"results", "generations", "outputs"};
    static const char *const texts[] = {"outputText", "generation", "text", "completion"};
    static const char *const reasons[] = {"completionReason", "stop_reason", "finish_reason"};
    json_t *o = j;

    for (size_t i = 0; i < 3; i++)
        if (json_is_array(json_object_get(j, lists[i])))
            o = json_array_get(json_object_get(j, lists[i]), 0);
    for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++)
        text(c, json_object_get(o, texts[i]));
    for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++) {
        llm_json_set_str(c, LLM_F_FINISH_REASON, j, reasons[i]);
        llm_json_set_str(c, LLM_F_FINISH_REASON, o, reasons[i]);
    }
    family_counts(c, j);
    if (o != j)
        family_counts(c, o);
}

/* Any Invoke body, whole or one decoded stream chunk (event != NULL). */
static void invoke_body(struct llm_call *c, json_t *j, const char *event, const char *raw, size_t n)
{
    static const char *const converse_events[] = {"messageStart",      "contentBlockStart",
                                                  "contentBlockDelta", "contentBlockStop",
                                                  "messageStop",       "metadata"};
    struct bedrock *s = c->priv;
    json_t *type = json_object_get(j, "type"), *v;

    if (event && json_is_object(v = json_object_get(j, "amazon-bedrock-invocationMetrics")))
        keep(&s->metrics, v);
    if (json_is_string(type)) {
        delegate(c, &llm_dialect_anthropic_messages, event ? json_string_value(type) : NULL, j, raw,
                 n);
    } else if (json_object_get(j, "choices")) {
        delegate(c, &llm_dialect_openai_chat, event ? "" : NULL, j, raw, n);
    } else if (json_is_object(json_object_get(j, "output"))) {
        converse_response(c, j); /* Nova */
    } else {
        for (size_t i = 0; i < sizeof(converse_events) / sizeof(*converse_events); i++) {
            if (json_is_object(v = json_object_get(j, converse_events[i]))) {
                converse_event(c, converse_events[i], v); /* Nova stream */
                return;
            }
        }
        family_body(c, j);
    }
}

static void response(struct llm_call *c, json_t *body)
{
    int64_t status = c->rec.f[LLM_F_HTTP_STATUS].set ? c->rec.f[LLM_F_HTTP_STATUS].u.i : 0;

    if (!state(c) || !json_is_object(body))
        return;
    if (status >= 400)
        fail(c, body, NULL);
    else if (c->dialect == &llm_dialect_bedrock_converse)
        converse_response(c, body);
    else
        invoke_body(c, body, NULL, NULL, 0);
}

static int b64(int ch)
{
    return ch >= 'A' && ch <= 'Z'   ? ch - 'A'
           : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
           : ch >= '0' && ch <= '9' ? ch - '0' + 52
           : ch == '+'              ? 62
           : ch == '/'              ? 63
                                    : -1;
}

/* Decodes standard base64 (padding optional); NULL when it is not. */
static char *unbase64(const char *s, size_t n, size_t *out_len)
{
    char *out = malloc(n / 4 * 3 + 3);
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;

    while (out && n && s[n - 1] == '=')
        n--;
    for (size_t i = 0; out && i < n; i++) {
        int v = b64((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        if ((bits += 6) >= 8) {
            bits -= 8;
            out[k++] = (char)(acc >> bits);
        }
    }
    if (out)
        out[k] = '\0';
    *out_len = k;
    return out;
}

/* An Invoke stream "chunk": {"bytes": base64 of one family-shaped event}. */
static void invoke_chunk(struct llm_call *c, json_t *d)
{
    json_t *bytes = json_object_get(d, "bytes"), *j = NULL;
    size_t n = 0;
    char *raw = json_is_string(bytes)
                    ? unbase64(json_string_value(bytes), json_string_length(bytes), &n)
                    : NULL;

    if (raw)
        j = json_loadb(raw, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_object(j))
        invoke_body(c, j, "chunk", raw, n);
    else
        c->malformed = 1;
    json_decref(j);
    free(raw);
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    const char *colon = strchr(name ? name : "", ':');

    if (!state(c) || !name)
        return;
    if (colon && (!strncmp(name, "exception:", 10) || !strncmp(name, "error:", 6))) {
        if (!data) { /* an :error message: its text is the data */
            llm_record_set_str(&c->rec, LLM_F_ERROR_MESSAGE, raw, n);
            c->error_seen = 1;
        }
        fail(c, data, colon + 1);
    } else if (!data) {
        return;
    } else if (!strcmp(name, "chunk")) {
        invoke_chunk(c, data);
    } else {
        converse_event(c, name, data);
    }
}

static void usage(struct llm_call *c, json_t *u)
{
    static const char *const in[] = {"inputTokens", "inputTokenCount", "inputTextTokenCount",
                                     "prompt_token_count"};
    static const char *const out[] = {"outputTokens", "outputTokenCount", "tokenCount",
                                      "totalOutputTextTokenCount", "generation_token_count"};
    static const char *const cr[] = {"cacheReadInputTokens", "cacheReadInputTokenCount"};
    static const char *const cw[] = {"cacheWriteInputTokens", "cacheWriteInputTokenCount"};
    int64_t vi = 0, vo = 0, vr = 0, vw = 0;
    int hi = 0, ho = 0, hr = 0, hw = 0;

    for (size_t i = 0; i < sizeof(in) / sizeof(*in) && !hi; i++)
        hi = llm_json_int(u, in[i], &vi);
    for (size_t i = 0; i < sizeof(out) / sizeof(*out) && !ho; i++)
        ho = llm_json_int(u, out[i], &vo);
    for (size_t i = 0; i < 2 && !hr; i++)
        hr = llm_json_int(u, cr[i], &vr);
    for (size_t i = 0; i < 2 && !hw; i++)
        hw = llm_json_int(u, cw[i], &vw);
    if (hi)
        llm_record_set_int(&c->rec, LLM_F_INPUT_TOKENS, vi + vr + vw);
    if (ho)
        llm_record_set_int(&c->rec, LLM_F_OUTPUT_TOKENS, vo);
    if (hr)
        llm_record_set_int(&c->rec, LLM_F_CACHE_READ_TOKENS, vr);
    if (hw)
        llm_record_set_int(&c->rec, LLM_F_CACHE_WRITE_TOKENS, vw);
    llm_json_set_int(c, LLM_F_TOTAL_TOKENS, u, "totalTokens");
    llm_call_usage_raw(c, u);
}

static void finish(struct llm_call *c)
{
    struct bedrock *s = c->priv;
    json_t *u;

    if (!s)
        return;
    if (s->inner && s->inner->finish) {
        c->priv = s->inner_priv;
        s->inner->finish(c);
        c->priv = s;
    }
    u = s->usage ? s->usage : s->metrics ? s->metrics : s->counts ? s->counts : s->headers;
    if (!c->usage_seen && u)
        usage(c, u);
    json_decref(s->usage);
    json_decref(s->metrics);
    json_decref(s->counts);
    json_decref(s->headers);
    free(s);
    c->priv = NULL;
}

const struct llm_dialect llm_dialect_bedrock_converse = {
    .request = request_converse,
    .response_head = response_head,
    .response = response,
    .event = event,
    .finish = finish,
};

const struct llm_dialect llm_dialect_bedrock_invoke = {
    .request = request_invoke,
    .response_head = response_head,
    .response = response,
    .event = event,
    .finish = finish,
};
