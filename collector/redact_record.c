/* Redaction applied: to parsed JSON (every string through the text
 * scanner of redact.c, every value under a secret name replaced), to a
 * command line (an option's credential argument, --name=value, "Name:
 * value"), and to a whole record before it is encoded (every free-text
 * field; with content capture off, no content at all). Same invariant as
 * redact.c: a second pass changes nothing. Pure; the collector thread and
 * the explicit API. */
#include "redact.h"
#include "record.h"

#include <stdlib.h>
#include <string.h>

#define MARK LLM_REDACTED
#define MARK_LEN (sizeof(LLM_REDACTED) - 1)

/* ---- parsed JSON ---- */

static int redact_all(json_t *v, json_t **repl)
{
    int n = 0;

    *repl = NULL;
    if (json_is_string(v)) {
        if (json_string_length(v) && strcmp(json_string_value(v), MARK))
            *repl = json_string(MARK), n = 1;
    } else if (json_is_number(v)) {
        *repl = json_string(MARK), n = 1;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e, *r;
        json_array_foreach(v, i, e)
        {
            int k = redact_all(e, &r);
            if (r)
                json_array_set_new(v, i, r);
            n += k;
        }
    } else if (json_is_object(v)) {
        n = llm_redact_json(v);
    }
    return n;
}

/* A string's text through the scanner: its replacement, or NULL. */
static json_t *redact_string_value(json_t *v, int *n)
{
    size_t len;
    int k = 0;
    char *t = llm_redact_text(json_string_value(v), json_string_length(v), &len, &k);
    json_t *r = NULL;

    if (t && k)
        r = json_stringn(t, len);
    free(t);
    *n += r ? k : 0;
    return r;
}

int llm_redact_json(json_t *root)
{
    int n = 0;
    json_t *v, *r;

    if (json_is_object(root)) {
        const char *k;
        void *tmp;
        json_object_foreach_safe(root, tmp, k, v)
        {
            if (llm_redact_is_secret_name(k, strlen(k), LLM_NAME_MEMBER) && !json_is_object(v)) {
                n += redact_all(v, &r);
            } else if (json_is_string(v)) {
                r = redact_string_value(v, &n);
            } else {
                n += llm_redact_json(v);
                r = NULL;
            }
            if (r)
                json_object_set_new(root, k, r);
        }
    } else if (json_is_array(root)) {
        size_t i;
        json_array_foreach(root, i, v)
        {
            r = json_is_string(v) ? redact_string_value(v, &n) : NULL;
            if (r)
                json_array_set_new(root, i, r);
            else
                n += llm_redact_json(v);
        }
    }
    return n;
}

char *llm_redact_json_text(const char *s, size_t n, size_t *out_len, int *count)
{
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    char *out = NULL;
    int k = 0;

    if (j && !json_is_string(j)) {
        k = llm_redact_json(j);
        if (k) {
            out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            if (out && out_len)
                *out_len = strlen(out);
        } else if ((out = malloc(n + 1)) != NULL) {
            memcpy(out, s, n);
            out[n] = '\0';
            if (out_len)
                *out_len = n;
        }
        json_decref(j);
        if (count)
            *count = k;
        return out;
    }
    json_decref(j);
    return llm_redact_text(s, n, out_len, count);
}

/* ---- command lines ---- */

/* Options whose next argument is a credential (curl and common CLIs); and
 * any --flag with a secret name. */
static int takes_secret(const char *opt)
{
    static const char *const opts[] = {
        "-b", "-u",     "-U",     "--user", "--proxy-user", "--oauth2-bearer", "--cookie",
        "-E", "--cert", "--pass", NULL};
    const char *p = opt;

    for (size_t i = 0; opts[i]; i++)
        if (!strcmp(opt, opts[i]))
            return 1;
    while (*p == '-')
        p++;
    return p != opt && *p && !strchr(p, '=') &&
           llm_redact_is_secret_name(p, strlen(p), LLM_NAME_MEMBER);
}

char *llm_redact_arg(const char *arg, const char *prev)
{
    size_t n = strlen(arg), len;
    char *out;

    if (prev && takes_secret(prev)) {
        const char *colon = strchr(arg, ':');
        if (!*arg || !strcmp(arg, MARK))
            return strdup(arg);
        /* -u user:password keeps the user */
        if ((!strcmp(prev, "-u") || !strcmp(prev, "--user") || !strcmp(prev, "-U") ||
             !strcmp(prev, "--proxy-user")) &&
            colon) {
            if (!strcmp(colon + 1, MARK))
                return strdup(arg);
            out = malloc((size_t)(colon - arg) + 2 + MARK_LEN);
            if (out) {
                memcpy(out, arg, (size_t)(colon - arg) + 1);
                strcpy(out + (colon - arg) + 1, MARK);
            }
            return out;
        }
        return strdup(MARK);
    }
    if ((arg[0] == '-' && arg[1] == 'u' && arg[2]) || !strncmp(arg, "--user=", 7)) {
        /* -uuser:password, --user=user:password */
        const char *colon = strchr(arg, ':');
        if (colon && !strcmp(colon + 1, MARK))
            return strdup(arg);
        if (colon && colon[1]) {
            out = malloc((size_t)(colon - arg) + 2 + MARK_LEN);
            if (out) {
                memcpy(out, arg, (size_t)(colon - arg) + 1);
                strcpy(out + (colon - arg) + 1, MARK);
            }
            return out;
        }
    }
    return llm_redact_text(arg, n, &len, NULL);
}

char *llm_redact_flag(const char *arg)
{
    size_t n;

    if (arg[0] != '-' || !arg[1])
        return NULL;
    if (arg[1] != '-')
        return strndup(arg, 2);
    n = strcspn(arg, "=");
    return strndup(arg, n);
}

/* ---- records ---- */

static void redact_field(struct llm_record *r, enum llm_field f, int json)
{
    size_t len = 0;
    int k = 0;
    char *t;

    if (!r->f[f].set || !r->f[f].u.s.p)
        return;
    t = json ? llm_redact_json_text(r->f[f].u.s.p, r->f[f].u.s.n, &len, &k)
             : llm_redact_text(r->f[f].u.s.p, r->f[f].u.s.n, &len, &k);
    if (!t) { /* out of memory: a field we could not clean is not kept */
        llm_record_unset(r, f);
        return;
    }
    if (k)
        llm_record_take_str(r, f, t, len);
    else
        free(t);
}

void llm_redact_record(struct llm_record *r, int capture_content)
{
    static const enum llm_field text[] = {LLM_F_URL_PATH, LLM_F_ERROR_MESSAGE, LLM_F_ERROR_TYPE,
                                          LLM_F_RESPONSE};
    static const enum llm_field json[] = {LLM_F_COMPLETION_ARGS, LLM_F_TOOL_CALLS, LLM_F_USAGE_RAW,
                                          LLM_F_EXTRAS, LLM_F_ARGV};
    const char *status = llm_record_str(r, LLM_F_STATUS);

    if (!capture_content && !(status && !strcmp(status, "not_observable"))) {
        /* the server's text is content: keep only its type/code */
        const char *type = llm_record_str(r, LLM_F_ERROR_TYPE);
        if (type && r->f[LLM_F_ERROR_MESSAGE].set) {
            char *t = strdup(type);
            if (t)
                llm_record_take_str(r, LLM_F_ERROR_MESSAGE, t, strlen(t));
            else
                llm_record_unset(r, LLM_F_ERROR_MESSAGE);
        } else {
            llm_record_unset(r, LLM_F_ERROR_MESSAGE);
        }
        llm_record_unset(r, LLM_F_COMPLETION_ARGS);
        llm_record_unset(r, LLM_F_RESPONSE);
        llm_record_unset(r, LLM_F_TOOL_CALLS);
    }
    for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        redact_field(r, text[i], 0);
    for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
        redact_field(r, json[i], 1);
}
