/* Secret redaction. The lists are deliberately broad: a false positive costs
 * a redacted value in a record, a false negative leaks a credential. */
#include "redact.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const secret_names[] = {
    "key",          "api_key",     "apikey",     "api-key",  "x-api-key", "x-goog-api-key",
    "authorization", "access_token", "auth_token", "password", "secret",    "client_secret",
    "cookie",       "token",       "session_token", "x-amz-security-token",
};

static int is_secret_name(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
        if (strlen(secret_names[i]) == n && !strncasecmp(secret_names[i], s, n))
            return 1;
    return 0;
}

char *llm_redact_url(const char *url, size_t n)
{
    const char *q = memchr(url, '?', n), *end = url + n, *p;
    size_t cap = n + 1, o;
    char *out;

    for (p = q; p && p < end; p++) /* room for every value becoming REDACTED */
        if (*p == '&')
            cap += sizeof(LLM_REDACTED);
    cap += sizeof(LLM_REDACTED);
    out = malloc(cap);
    if (!out)
        return NULL;
    if (!q) {
        memcpy(out, url, n);
        out[n] = '\0';
        return out;
    }
    o = (size_t)(q - url) + 1;
    memcpy(out, url, o);
    p = q + 1;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end, *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq && is_secret_name(p, (size_t)(eq - p))) {
            memcpy(out + o, p, (size_t)(eq - p) + 1);
            o += (size_t)(eq - p) + 1;
            memcpy(out + o, LLM_REDACTED, sizeof(LLM_REDACTED) - 1);
            o += sizeof(LLM_REDACTED) - 1;
        } else {
            memcpy(out + o, p, (size_t)(pe - p));
            o += (size_t)(pe - p);
        }
        if (amp)
            out[o++] = '&';
        p = pe + (amp ? 1 : 0);
    }
    out[o] = '\0';
    return out;
}

int llm_redact_json(json_t *root)
{
    int n = 0;

    if (json_is_object(root)) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v)
        {
            if (is_secret_name(k, strlen(k)) && (json_is_string(v) || json_is_number(v))) {
                json_object_set_new(root, k, json_string(LLM_REDACTED));
                n++;
            } else {
                n += llm_redact_json(v);
            }
        }
    } else if (json_is_array(root)) {
        size_t i;
        json_t *v;
        json_array_foreach(root, i, v) n += llm_redact_json(v);
    }
    return n;
}

static int key_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Replaces, in place, every run that has a well-known API key shape
 * (sk-..., AIza..., gsk_...) wherever it stands in s: keys travel inside
 * URLs, JSON and "Bearer ..." strings on command lines. Returns s. */
static char *scrub_key_shapes(char *s)
{
    static const char *const prefixes[] = {"sk-", "sk_", "AIza", "gsk_", "xai-"};
    char *p = s;

    while (*p) {
        size_t k = 0, run = 0;
        if (p == s || !key_char(p[-1])) {
            for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (!strncmp(p, prefixes[i], strlen(prefixes[i])))
                    k = strlen(prefixes[i]);
        }
        if (k) {
            while (key_char(p[k + run]))
                run++;
            if (run >= 8) {
                size_t tail = strlen(p + k + run);
                memmove(p + sizeof(LLM_REDACTED) - 1, p + k + run, tail + 1);
                memcpy(p, LLM_REDACTED, sizeof(LLM_REDACTED) - 1);
                p += sizeof(LLM_REDACTED) - 1;
                continue;
            }
        }
        p++;
    }
    return s;
}

/* Options whose next argument is a credential (curl and common CLIs). */
static int takes_secret(const char *opt)
{
    static const char *const opts[] = {"-b", "-u", "-U", "--user", "--proxy-user",
                                       "--oauth2-bearer", "--cookie", "-E", "--cert", "--pass"};
    const char *p = opt;

    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (!strcmp(opt, opts[i]))
            return 1;
    while (*p == '-')
        p++;
    return p != opt && is_secret_name(p, strlen(p));
}

/* A JSON document on the command line (curl -d '{...}'): its secret members. */
static char *redact_json_arg(const char *arg)
{
    json_t *j = json_loads(arg, JSON_DECODE_ANY, NULL);
    char *out = NULL;

    if (j && llm_redact_json(j))
        out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(j);
    return out;
}

char *llm_redact_arg(const char *arg, const char *prev)
{
    static const char *const headers[] = {"authorization", "x-api-key",  "api-key",
                                          "x-goog-api-key", "cookie",    "proxy-authorization",
                                          "x-amz-security-token"};
    size_t n = strlen(arg);
    const char *a = arg;
    char *out;

    if (prev && takes_secret(prev))
        return strdup(LLM_REDACTED);
    while (*a == ' ')
        a++;
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        size_t k = strlen(headers[i]);
        if (!strncasecmp(a, headers[i], k) && a[k] == ':') {
            out = malloc((size_t)(a - arg) + k + 2 + sizeof(LLM_REDACTED));
            if (out)
                sprintf(out, "%.*s: %s", (int)((size_t)(a - arg) + k), arg, LLM_REDACTED);
            return out;
        }
    }
    if (arg[0] == '-' && strchr(arg, '=')) { /* --opt=SECRET */
        const char *eq = strchr(arg, '='), *p = arg;
        while (*p == '-')
            p++;
        if (is_secret_name(p, (size_t)(eq - p))) {
            out = malloc((size_t)(eq - arg) + 1 + sizeof(LLM_REDACTED));
            if (out)
                sprintf(out, "%.*s=%s", (int)(eq - arg), arg, LLM_REDACTED);
            return out;
        }
    }
    if (*a == '{' && (out = redact_json_arg(a)) != NULL)
        return scrub_key_shapes(out);
    out = memchr(arg, '?', n) ? llm_redact_url(arg, n) : strdup(arg);
    return out ? scrub_key_shapes(out) : NULL;
}
