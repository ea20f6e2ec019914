/* Explicit records: JSON in, checked record and store entry out.
 *
 * The input is held to the schema the exports print, so that exporting a
 * recorded object gives it back: text fields take strings, int fields
 * integers (a float with no fraction is accepted: many JSON writers print
 * 3.0), float fields any number, JSON-text fields either the text (as the
 * export prints it) or the value itself, extras an object, argv an array
 * of strings; null is the same as absent. Times are normalised to the
 * export's RFC 3339 form so that text comparisons in readers keep working.
 * The store's invariant that no secret reaches it holds here too. */
#include "explicit.h"
#include "llmops.h"
#include "record.h"
#include "redact.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *why, size_t n, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t n, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return rc;
}

static int set_text(struct llm_record *r, enum llm_field f, json_t *s)
{
    return llm_record_set_str(r, f, json_string_value(s), json_string_length(s)) ? LLMOPS_ENOMEM
                                                                                 : 0;
}

static int take_json(struct llm_record *r, enum llm_field f, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    if (!text)
        return LLMOPS_ENOMEM;
    llm_record_take_str(r, f, text, strlen(text));
    return 0;
}

/* completion_args: members named like credentials replaced, else kept as
 * given (the exact text when it came as text). */
static int set_args(struct llm_record *r, json_t *v)
{
    json_t *body = json_is_string(v) ? json_loadb(json_string_value(v), json_string_length(v),
                                                  JSON_DECODE_ANY, NULL)
                                     : json_incref(v);
    int rc = 0;

    if (body && llm_redact_json(body))
        rc = take_json(r, LLM_F_COMPLETION_ARGS, body);
    else if (json_is_string(v))
        rc = set_text(r, LLM_F_COMPLETION_ARGS, v);
    else
        rc = take_json(r, LLM_F_COMPLETION_ARGS, v);
    json_decref(body);
    return rc;
}

static int set_argv(struct llm_record *r, json_t *v, char *why, size_t n)
{
    json_t *clean = json_array(), *s;
    const char *prev = NULL;
    size_t i;
    int rc = LLMOPS_ENOMEM;

    if (!clean)
        return rc;
    json_array_foreach(v, i, s)
    {
        char *arg;
        if (!json_is_string(s)) {
            rc = fail(why, n, LLMOPS_ETYPE, "argv: want an array of strings");
            goto clean_decref;
        }
        arg = llm_redact_arg(json_string_value(s), prev);
        if (!arg || json_array_append_new(clean, json_string(arg))) {
            free(arg);
            goto clean_decref;
        }
        free(arg);
        prev = json_string_value(s);
    }
    rc = take_json(r, LLM_F_ARGV, clean);
clean_decref:
    json_decref(clean);
    return rc;
}

static int set_time(struct llm_record *r, enum llm_field f, json_t *v, char *why, size_t n)
{
    char ts[LLM_RFC3339_LEN];
    int64_t us;

    if (!json_is_string(v) || llm_parse_time(json_string_value(v), &us) || us < 0)
        return fail(why, n, LLMOPS_ETYPE, "%s: want an RFC 3339 time after 1970",
                    llm_schema[f].name);
    llm_rfc3339(us * 1000, ts);
    return llm_record_set_cstr(r, f, ts) ? LLMOPS_ENOMEM : 0;
}

/* One member, by the schema type of its field; the fields with rules of
 * their own first. */
static int set_field(struct llm_record *r, enum llm_field f, json_t *v, char *why, size_t n)
{
    const char *name = llm_schema[f].name;
    double d;

    switch (f) {
    case LLM_F_COST_SOURCE: /* the price decides it, at export */
        return json_is_string(v) ? 0 : fail(why, n, LLMOPS_ETYPE, "%s: want a string", name);
    case LLM_F_COST_USD:
        return json_is_number(v) ? 0 : fail(why, n, LLMOPS_ETYPE, "%s: want a number", name);
    case LLM_F_SCHEMA_VERSION:
        /* an older version's fields are a subset of this one's */
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > LLM_SCHEMA_VERSION)
            return fail(why, n, LLMOPS_ETYPE, "%s: only 1 to %d are supported", name,
                        LLM_SCHEMA_VERSION);
        break;
    case LLM_F_OPERATION_ID: {
        uint8_t id[16];
        char canon[LLM_ULID_LEN];
        if (!json_is_string(v) || llm_ulid_parse(json_string_value(v), id))
            return fail(why, n, LLMOPS_ETYPE, "%s: want a ULID (26 characters)", name);
        llm_ulid_format(id, canon);
        return llm_record_set_cstr(r, f, canon) ? LLMOPS_ENOMEM : 0;
    }
    case LLM_F_URL_PATH: {
        char *clean;
        if (!json_is_string(v))
            break;
        clean = llm_redact_url(json_string_value(v), json_string_length(v));
        if (!clean)
            return LLMOPS_ENOMEM;
        llm_record_take_str(r, f, clean, strlen(clean));
        return 0;
    }
    case LLM_F_COMPLETION_ARGS:
        return set_args(r, v);
    case LLM_F_ARGV:
        if (!json_is_array(v))
            break;
        return set_argv(r, v, why, n);
    default:
        break;
    }

    switch (llm_schema[f].type) {
    case LLM_T_STR:
        if (!json_is_string(v))
            return fail(why, n, LLMOPS_ETYPE, "%s: want a string", name);
        return set_text(r, f, v);
    case LLM_T_INT:
        d = json_number_value(v);
        if (json_is_integer(v))
            llm_record_set_int(r, f, json_integer_value(v));
        else if (json_is_real(v) && d == floor(d) && fabs(d) < 9007199254740992.0)
            llm_record_set_int(r, f, (int64_t)d);
        else
            return fail(why, n, LLMOPS_ETYPE, "%s: want an integer", name);
        return 0;
    case LLM_T_REAL:
        if (!json_is_number(v))
            return fail(why, n, LLMOPS_ETYPE, "%s: want a number", name);
        llm_record_set_real(r, f, json_number_value(v));
        return 0;
    case LLM_T_BOOL:
        if (!json_is_boolean(v))
            return fail(why, n, LLMOPS_ETYPE, "%s: want true or false", name);
        llm_record_set_bool(r, f, json_is_true(v));
        return 0;
    case LLM_T_TIME:
        return set_time(r, f, v, why, n);
    case LLM_T_JSON:
        return json_is_string(v) ? set_text(r, f, v) : take_json(r, f, v);
    case LLM_T_MAP:
        if (!json_is_object(v))
            return fail(why, n, LLMOPS_ETYPE, "%s: want an object", name);
        return take_json(r, f, v);
    case LLM_T_ARRAY:
        return fail(why, n, LLMOPS_ETYPE, "%s: want an array of strings", name);
    }
    return 0;
}

/* operation_id, timestamp and schema_version when the input had none: the
 * key is a ULID of the timestamp, the timestamp the ULID's time, else now. */
static int fill_defaults(struct llm_record *r, uint8_t key[16])
{
    const char *id = llm_record_str(r, LLM_F_OPERATION_ID);
    const char *ts = llm_record_str(r, LLM_F_TIMESTAMP);
    char text[LLM_RFC3339_LEN > LLM_ULID_LEN ? LLM_RFC3339_LEN : LLM_ULID_LEN];
    int64_t ns = llm_now_ns(), us;

    if (id) {
        llm_ulid_parse(id, key);
        ns = 0;
        for (int i = 0; i < 6; i++)
            ns = ns << 8 | key[i];
        ns *= 1000000;
    } else if (ts && !llm_parse_time(ts, &us)) {
        ns = us * 1000;
    }
    if (!id) {
        llm_ulid_new(key, ns);
        llm_ulid_format(key, text);
        if (llm_record_set_cstr(r, LLM_F_OPERATION_ID, text))
            return LLMOPS_ENOMEM;
    }
    if (!ts) {
        llm_rfc3339(ns, text);
        if (llm_record_set_cstr(r, LLM_F_TIMESTAMP, text))
            return LLMOPS_ENOMEM;
    }
    llm_record_set_int(r, LLM_F_SCHEMA_VERSION, LLM_SCHEMA_VERSION);
    return 0;
}

int llm_explicit_entry(const char *text, size_t len, const struct llm_attrib *a, struct llm_kv *kv,
                       char *why, size_t why_len)
{
    struct llm_record r;
    json_error_t jerr;
    json_t *obj, *v;
    const char *k;
    uint8_t *key = NULL;
    char *val = NULL;
    size_t vlen;
    int rc;

    memset(kv, 0, sizeof(*kv));
    llm_record_init(&r);
    obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(obj)) {
        rc = obj ? fail(why, why_len, LLMOPS_EJSON, "not a JSON object")
                 : fail(why, why_len, LLMOPS_EJSON, "not JSON: %s (column %d)", jerr.text,
                        jerr.column);
        goto obj_decref;
    }
    json_object_foreach(obj, k, v)
    {
        int f = llm_field_lookup(k, strlen(k));
        if (f < 0) {
            rc = fail(why, why_len, LLMOPS_EFIELD, "unknown field '%.64s'", k);
            goto record_clear;
        }
        if (json_is_null(v))
            continue;
        rc = set_field(&r, f, v, why, why_len);
        if (rc)
            goto record_clear;
    }
    key = malloc(16);
    rc = key ? fill_defaults(&r, key) : LLMOPS_ENOMEM;
    if (rc)
        goto key_free;
    if (a)
        llm_attrib_apply(a, &r);
    llm_redact_record(&r, 1);
    rc = llm_record_encode(&r, &val, &vlen) ? LLMOPS_ENOMEM : 0;
    if (rc)
        goto key_free;
    *kv = (struct llm_kv){key, 16, val, vlen};
    key = NULL;
key_free:
    free(key);
record_clear:
    llm_record_clear(&r);
obj_decref:
    json_decref(obj);
    if (rc == LLMOPS_ENOMEM)
        fail(why, why_len, rc, "out of memory");
    return rc;
}

void llm_explicit_free(struct llm_kv *kv)
{
    free((void *)kv->key);
    free((void *)kv->val);
    memset(kv, 0, sizeof(*kv));
}
