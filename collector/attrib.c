/* Attribution from the environment and from X-LLMOps-* request headers.
 * A request's own values are put in its record when its head arrives (the
 * collector thread, exchange.c); the environment's fill the gaps when the
 * record is stamped (writer.c), so the request always wins. Extras travel in
 * the record as JSON text; the merge parses both objects, the record's
 * values replacing the environment's. Values are cut on a UTF-8 boundary so a cut never
 * shows up as a replacement character. */
#include "attrib.h"
#include "log.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFIX "x-llmops-"
#define PREFIX_LEN 9

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strdup(v) : NULL;
}

void llm_attrib_load(struct llm_attrib *a)
{
    const char *extras = getenv("LLMOPS_EXTRAS");

    memset(a, 0, sizeof(*a));
    a->session = dup_env("LLMOPS_SESSION_ID");
    a->workspace = dup_env("LLMOPS_WORKSPACE");
    a->agent = dup_env("LLMOPS_AGENT_ID");
    a->action = dup_env("LLMOPS_ACTION_ID");
    if (extras && *extras) {
        a->extras = json_loads(extras, 0, NULL);
        if (!json_is_object(a->extras)) {
            llm_log("LLMOPS_EXTRAS is not a JSON object; ignored");
            json_decref(a->extras);
            a->extras = NULL;
        }
    }
}

void llm_attrib_free(struct llm_attrib *a)
{
    free(a->session);
    free(a->workspace);
    free(a->agent);
    free(a->action);
    json_decref(a->extras);
    memset(a, 0, sizeof(*a));
}

/* n cut to at most LLM_ATTRIB_MAX bytes, never inside a UTF-8 sequence. */
static size_t bounded(const char *s, size_t n, int *cut)
{
    if (n <= LLM_ATTRIB_MAX)
        return n;
    *cut = 1;
    n = LLM_ATTRIB_MAX;
    while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static void add_extra(json_t *extras, const char *name, size_t nl, const char *v, size_t vl,
                      int *cut)
{
    char key[LLM_ATTRIB_MAX + 1];
    json_t *s;

    nl = bounded(name, nl, cut);
    for (size_t i = 0; i < nl; i++)
        key[i] = (char)tolower((unsigned char)name[i]);
    key[nl] = '\0';
    if (json_object_get(extras, key))
        return; /* the first of repeated headers wins */
    s = json_stringn(v, bounded(v, vl, cut));
    if (s)
        json_object_set_new(extras, key, s);
}

int llm_attrib_from_head(struct llm_record *r, const struct llm_h1_head *h)
{
    static const struct {
        const char *name;
        enum llm_field field;
    } fields[] = {
        {"session", LLM_F_SESSION_ID},
        {"workspace", LLM_F_WORKSPACE},
        {"agent", LLM_F_AGENT_ID},
        {"action", LLM_F_ACTION_ID},
    };
    json_t *extras = NULL;
    int cut = 0;

    for (size_t i = 0; i < h->nheaders; i++) {
        const struct llm_h1_header *x = &h->headers[i];
        const char *name = h->raw.p + x->name + PREFIX_LEN, *v = h->raw.p + x->value;
        size_t nl = x->name_len - PREFIX_LEN, vl = x->value_len;

        if (x->name_len <= PREFIX_LEN || strncasecmp(h->raw.p + x->name, PREFIX, PREFIX_LEN))
            continue;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        if (!vl)
            continue;
        if (nl > 6 && !strncasecmp(name, "extra-", 6)) {
            if (!extras)
                extras = json_object();
            if (extras)
                add_extra(extras, name + 6, nl - 6, v, vl, &cut);
            continue;
        }
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            if (strlen(fields[f].name) == nl && !strncasecmp(name, fields[f].name, nl) &&
                !r->f[fields[f].field].set)
                llm_record_set_str(r, fields[f].field, v, bounded(v, vl, &cut));
        }
    }
    if (json_object_size(extras)) {
        char *text = json_dumps(extras, JSON_COMPACT);
        if (text)
            llm_record_take_str(r, LLM_F_EXTRAS, text, strlen(text));
    }
    json_decref(extras);
    llm_attrib_trace(r, h);
    return cut;
}

/* n lower-case hex digits at s, not all zero */
static int hex_id(const char *s, size_t n)
{
    int nonzero = 0;

    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
        nonzero |= s[i] != '0';
    }
    return nonzero;
}

/* traceparent: version "-" trace-id "-" parent-id "-" flags (55 bytes for
 * version 00; a later version may add "-..." after them). */
static int traceparent_ok(const char *v, size_t n)
{
    if (n < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-')
        return 0;
    if (!hex_id(v, 2) && memcmp(v, "00", 2))
        return 0;
    if (!memcmp(v, "ff", 2) || (!memcmp(v, "00", 2) && n != 55) || (n > 55 && v[55] != '-'))
        return 0;
    return hex_id(v + 3, 32) && hex_id(v + 36, 16) &&
           (hex_id(v + 53, 2) || !memcmp(v + 53, "00", 2));
}

static const char *trimmed(const struct llm_h1_head *h, const char *name, size_t *n)
{
    const char *v = llm_h1_header(h, name, n);

    while (v && *n && (*v == ' ' || *v == '\t'))
        v++, (*n)--;
    while (v && *n && (v[*n - 1] == ' ' || v[*n - 1] == '\t'))
        (*n)--;
    return v;
}

void llm_attrib_trace(struct llm_record *r, const struct llm_h1_head *h)
{
    size_t n, sn;
    const char *v = trimmed(h, "traceparent", &n), *st;

    if (!v || !traceparent_ok(v, n))
        return;
    llm_record_set_str(r, LLM_F_TRACE_ID, v + 3, 32);
    llm_record_set_str(r, LLM_F_PARENT_SPAN_ID, v + 36, 16);
    st = trimmed(h, "tracestate", &sn);
    if (!st || !sn)
        return;
    if (sn > LLM_TRACESTATE_MAX) { /* whole list members only */
        sn = LLM_TRACESTATE_MAX;
        while (sn && st[sn] != ',')
            sn--;
        while (sn && (st[sn - 1] == ' ' || st[sn - 1] == '\t' || st[sn - 1] == ','))
            sn--;
    }
    if (sn)
        llm_record_set_str(r, LLM_F_TRACE_STATE, st, sn);
}

static void fill(struct llm_record *r, enum llm_field f, const char *v)
{
    if (!r->f[f].set && v)
        llm_record_set_cstr(r, f, v);
}

void llm_attrib_apply(const struct llm_attrib *a, struct llm_record *r)
{
    const char *text = llm_record_str(r, LLM_F_EXTRAS);
    json_t *own = text ? json_loads(text, 0, NULL) : NULL, *merged;
    char *out = NULL;

    fill(r, LLM_F_SESSION_ID, a->session);
    fill(r, LLM_F_WORKSPACE, a->workspace);
    fill(r, LLM_F_AGENT_ID, a->agent);
    fill(r, LLM_F_ACTION_ID, a->action);
    /* the environment's keys first, in their order; the record's on top */
    merged = a->extras ? json_copy(a->extras) : json_object();
    if (merged && json_is_object(own))
        json_object_update(merged, own);
    if (merged)
        out = json_dumps(merged, JSON_COMPACT);
    json_decref(merged);
    json_decref(own);
    if (out)
        llm_record_take_str(r, LLM_F_EXTRAS, out, strlen(out));
    else
        llm_record_set_cstr(r, LLM_F_EXTRAS, "{}");
}
