/* Dialect dispatch (apis.def's lines bound to their callbacks) and the
 * helpers every dialect shares. Collector thread. */
#include "dialect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLM_API(id, api, operation, method, paths, provider)                                       \
    extern const struct llm_dialect llm_dialect_##id;
#include "apis.def"
#undef LLM_API

/* llm_apis[i] is parsed by registry[i] */
static const struct llm_dialect *const registry[LLM_API__COUNT] = {
#define LLM_API(id, api, operation, method, paths, provider) &llm_dialect_##id,
#include "apis.def"
#undef LLM_API
};

const struct llm_dialect *llm_dialect_find(const char *method, const char *path, size_t len,
                                           const char *provider, const struct llm_api **api)
{
    int i = llm_api_find(method, path, len, provider);

    if (i < 0)
        return NULL;
    *api = &llm_apis[i];
    return registry[i];
}

void llm_call_first_token(struct llm_call *c)
{
    if (!c->first_token_mono)
        c->first_token_mono = c->now_mono;
}

void llm_call_output(struct llm_call *c, const char *text, size_t n)
{
    if (!n)
        return;
    llm_call_first_token(c);
    llm_cap_append(&c->text, text, n);
}

void llm_call_tool(struct llm_call *c, int64_t slot, const char *id, const char *name,
                   const char *args, size_t args_len)
{
    json_t *tc = NULL, *fn, *v;
    size_t i;

    if (!c->tool_calls)
        c->tool_calls = json_array();
    json_array_foreach(c->tool_calls, i, v)
    {
        if (json_integer_value(json_object_get(v, "slot")) == slot) {
            tc = v;
            break;
        }
    }
    if (!tc) {
        tc = json_pack("{s:I,s:n,s:s,s:{s:s,s:s}}", "slot", (json_int_t)slot, "id", "type",
                       "function", "function", "name", "", "arguments", "");
        if (!tc || json_array_append_new(c->tool_calls, tc))
            return;
    }
    fn = json_object_get(tc, "function");
    if (id && *id)
        json_object_set_new(tc, "id", json_string(id));
    if (name && *name)
        json_object_set_new(fn, "name", json_string(name));
    if (args && args_len) {
        json_t *old = json_object_get(fn, "arguments");
        size_t ol = json_string_length(old);
        char *s = malloc(ol + args_len + 1);
        if (s) {
            memcpy(s, json_string_value(old), ol);
            memcpy(s + ol, args, args_len);
            json_object_set_new(fn, "arguments", json_stringn(s, ol + args_len));
            free(s);
        }
    }
    llm_call_first_token(c);
}

char *llm_call_tools_json(struct llm_call *c)
{
    json_t *v;
    size_t i;

    if (!c->tool_calls || !json_array_size(c->tool_calls))
        return NULL;
    json_array_foreach(c->tool_calls, i, v) json_object_del(v, "slot");
    return json_dumps(c->tool_calls, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

void llm_call_usage_raw(struct llm_call *c, json_t *usage)
{
    char *s;

    if (!json_is_object(usage))
        return;
    c->usage_seen = 1;
    s = json_dumps(usage, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s)
        llm_record_take_str(&c->rec, LLM_F_USAGE_RAW, s, strlen(s));
}

static void set_json_scalar(struct llm_call *c, enum llm_field f, json_t *v)
{
    char buf[32];

    if (json_is_string(v))
        llm_record_set_str(&c->rec, f, json_string_value(v), json_string_length(v));
    else if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        llm_record_set_cstr(&c->rec, f, buf);
    }
}

int llm_call_error(struct llm_call *c, json_t *body)
{
    json_t *err, *type, *msg;

    if (!json_is_object(body))
        return 0;
    err = json_object_get(body, "error");
    if (json_is_string(err)) {
        llm_record_set_str(&c->rec, LLM_F_ERROR_MESSAGE, json_string_value(err),
                           json_string_length(err));
        c->error_seen = 1;
        return 1;
    }
    if (!json_is_object(err)) {
        /* {"type":"error","message":...} and bare {"message":...} on errors */
        msg = json_object_get(body, "message");
        if (!json_is_string(msg))
            return 0;
        err = body;
    }
    type = json_object_get(err, "type");
    if (!json_is_string(type) || !json_string_length(type))
        type = json_object_get(err, "code");
    if (!type || json_is_null(type))
        type = json_object_get(err, "status");
    set_json_scalar(c, LLM_F_ERROR_TYPE, type);
    msg = json_object_get(err, "message");
    if (json_is_string(msg))
        llm_record_set_str(&c->rec, LLM_F_ERROR_MESSAGE, json_string_value(msg),
                           json_string_length(msg));
    c->error_seen = 1;
    return 1;
}

json_t *llm_json_path(json_t *root, const char *path)
{
    char key[64];

    while (root && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(key) || !json_is_object(root))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        root = json_object_get(root, key);
        path += n + (dot ? 1 : 0);
    }
    return root;
}

int llm_json_int(json_t *root, const char *path, int64_t *out)
{
    json_t *v = llm_json_path(root, path);

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) { /* some servers send 12.0 */
        *out = (int64_t)json_real_value(v);
        return 1;
    }
    return 0;
}

void llm_json_set_int(struct llm_call *c, enum llm_field f, json_t *root, const char *path)
{
    int64_t v;
    if (llm_json_int(root, path, &v))
        llm_record_set_int(&c->rec, f, v);
}

void llm_json_set_real(struct llm_call *c, enum llm_field f, json_t *root, const char *path)
{
    json_t *v = llm_json_path(root, path);
    if (json_is_number(v))
        llm_record_set_real(&c->rec, f, json_number_value(v));
}

void llm_json_set_str(struct llm_call *c, enum llm_field f, json_t *root, const char *path)
{
    json_t *v = llm_json_path(root, path);
    if (json_is_string(v) && json_string_length(v))
        llm_record_set_str(&c->rec, f, json_string_value(v), json_string_length(v));
}
