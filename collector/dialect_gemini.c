/* Google Gemini API and Vertex AI generateContent / streamGenerateContent
 * (POST .../models/{model}:generateContent). The model is only in the URL.
 * A stream is SSE with ?alt=sse, else one JSON array of the same chunks
 * delivered whole at the end; errors on streaming requests are plain JSON.
 * Every chunk carries cumulative usageMetadata (Vertex's first one only
 * {trafficType}), so the last one with counts is kept, never summed.
 * Gemini reports thoughts apart from candidates: the record's output_tokens
 * adds them, as its input_tokens adds tool-use prompt tokens, so that
 * input + output = totalTokenCount. One api name for both methods; the
 * record's stream flag tells them apart. Collector thread. */
#include "dialect.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct gemini {
    json_t *usage; /* last usageMetadata that carried counts */
    int64_t tools; /* function calls seen: the slot of the next one */
};

/* The method after the last path segment's last ':' (or %3A), or NULL;
 * *seg and *seg_len give the part of the segment before it (the model). */
static const char *method_of(const char *path, size_t n, const char **seg, size_t *seg_len)
{
    const char *s = path + n, *p;

    while (s > path && s[-1] != '/')
        s--;
    for (p = path + n; p > s; p--) {
        size_t k = p[-1] == ':' ? 1 : (p - s >= 3 && !strncasecmp(p - 3, "%3A", 3)) ? 3 : 0;
        if (k) {
            *seg = s;
            *seg_len = (size_t)(p - k - s);
            return p;
        }
    }
    return NULL;
}

static int is_method(const char *path, size_t n, const char *name)
{
    const char *seg, *m;
    size_t seg_len;

    m = method_of(path, n, &seg, &seg_len);
    return m && (size_t)(path + n - m) == strlen(name) && !memcmp(m, name, strlen(name));
}

static int hex(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The model segment, percent-decoded. */
static void request_model(struct llm_call *c)
{
    const char *seg;
    size_t len = 0, o = 0;
    char *out;

    if (!method_of(c->path, strlen(c->path), &seg, &len) || !len || !(out = malloc(len + 1)))
        return;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (seg[i] == '%' && i + 2 < len && (hi = hex((unsigned char)seg[i + 1])) >= 0 &&
            (lo = hex((unsigned char)seg[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = seg[i];
        }
    }
    out[o] = '\0';
    llm_record_take_str(&c->rec, LLM_F_REQUEST_MODEL, out, o);
}

static void request(struct llm_call *c, json_t *body)
{
    json_t *gc = json_object_get(body, "generationConfig");

    request_model(c);
    llm_record_set_bool(&c->rec, LLM_F_STREAM,
                        is_method(c->path, strlen(c->path), "streamGenerateContent"));
    if (!body)
        return;
    llm_json_set_real(c, LLM_F_TEMPERATURE, gc, "temperature");
    llm_json_set_real(c, LLM_F_TOP_P, gc, "topP");
    llm_json_set_int(c, LLM_F_MAX_TOKENS, gc, "maxOutputTokens");
}

static struct gemini *state(struct llm_call *c)
{
    if (!c->priv)
        c->priv = calloc(1, sizeof(struct gemini));
    return c->priv;
}

/* Google's {error:{code,message,status}}: the status names the error better
 * than the numeric code the common reader picks. */
static void google_error(struct llm_call *c, json_t *body)
{
    json_t *status = llm_json_path(body, "error.status");

    if (llm_call_error(c, body) && json_is_string(status) && json_string_length(status))
        llm_record_set_str(&c->rec, LLM_F_ERROR_TYPE, json_string_value(status),
                           json_string_length(status));
}

static int has_counts(json_t *u)
{
    const char *k;
    json_t *v;

    json_object_foreach(u, k, v)
    {
        size_t n = strlen(k);
        if (json_is_integer(v) && n >= 10 && !strcmp(k + n - 10, "TokenCount"))
            return 1;
    }
    return 0;
}

static void part(struct llm_call *c, struct gemini *g, json_t *p)
{
    json_t *text = json_object_get(p, "text"), *fc = json_object_get(p, "functionCall");

    if (json_is_true(json_object_get(p, "thought"))) {
        llm_call_first_token(c); /* thinking is output, just not response text */
    } else if (json_is_string(text)) {
        llm_call_output(c, json_string_value(text), json_string_length(text));
    } else if (json_is_object(fc)) {
        json_t *args = json_object_get(fc, "args");
        char *a = args ? json_dumps(args, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        llm_call_tool(c, g->tools++, json_string_value(json_object_get(fc, "id")),
                      json_string_value(json_object_get(fc, "name")), a, a ? strlen(a) : 0);
        free(a);
    } else if (json_object_get(p, "inlineData") || json_object_get(p, "executableCode")) {
        llm_call_first_token(c);
    }
}

/* One response object: the whole non-streaming body or one stream chunk. */
static void chunk(struct llm_call *c, json_t *j)
{
    struct gemini *g = state(c);
    json_t *u, *cand, *parts, *p;
    size_t i;

    if (!json_is_object(j) || !g)
        return;
    if (json_object_get(j, "error")) {
        google_error(c, j);
        return;
    }
    llm_json_set_str(c, LLM_F_RESPONSE_MODEL, j, "modelVersion");
    u = json_object_get(j, "usageMetadata");
    if (json_is_object(u) && has_counts(u)) {
        json_decref(g->usage);
        g->usage = json_incref(u);
    }
    /* a blocked prompt has no candidates, only the reason */
    llm_json_set_str(c, LLM_F_FINISH_REASON, j, "promptFeedback.blockReason");
    cand = json_array_get(json_object_get(j, "candidates"), 0);
    llm_json_set_str(c, LLM_F_FINISH_REASON, cand, "finishReason");
    parts = llm_json_path(cand, "content.parts");
    json_array_foreach(parts, i, p) part(c, g, p);
}

static void response(struct llm_call *c, json_t *body)
{
    json_t *v;
    size_t i;

    if (json_is_array(body)) /* streamGenerateContent without alt=sse */
        json_array_foreach(body, i, v) chunk(c, v);
    else
        chunk(c, body);
}

static void event(struct llm_call *c, const char *name, json_t *data, const char *raw, size_t n)
{
    chunk(c, data);
}

static void finish(struct llm_call *c)
{
    struct gemini *g = c->priv;
    int64_t prompt = 0, tool = 0, cand = 0, thoughts = 0;
    int have_p, have_t, have_c, have_th;

    if (!g)
        return;
    if (g->usage) {
        have_p = llm_json_int(g->usage, "promptTokenCount", &prompt);
        have_t = llm_json_int(g->usage, "toolUsePromptTokenCount", &tool);
        have_c = llm_json_int(g->usage, "candidatesTokenCount", &cand);
        have_th = llm_json_int(g->usage, "thoughtsTokenCount", &thoughts);
        if (have_p || have_t)
            llm_record_set_int(&c->rec, LLM_F_INPUT_TOKENS, prompt + tool);
        if (have_c || have_th)
            llm_record_set_int(&c->rec, LLM_F_OUTPUT_TOKENS, cand + thoughts);
        if (have_th)
            llm_record_set_int(&c->rec, LLM_F_REASONING_TOKENS, thoughts);
        llm_json_set_int(c, LLM_F_CACHE_READ_TOKENS, g->usage, "cachedContentTokenCount");
        llm_json_set_int(c, LLM_F_TOTAL_TOKENS, g->usage, "totalTokenCount");
        llm_call_usage_raw(c, g->usage);
        json_decref(g->usage);
    }
    free(g);
    c->priv = NULL;
}

const struct llm_dialect llm_dialect_gemini = {
    .request = request,
    .response = response,
    .event = event,
    .finish = finish,
};
