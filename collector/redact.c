/* Secret redaction. The lists are deliberately broad: a false positive costs
 * a redacted value in a record, a false negative leaks a credential. */
#include "redact.h"

#include <ctype.h>
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

/* Well-known key shapes, for keys passed bare on a command line. */
static int looks_like_key(const char *a)
{
    static const char *const prefixes[] = {"sk-", "sk_", "AIza", "gsk_", "xai-", "pk-", "rk-"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (!strncmp(a, prefixes[i], strlen(prefixes[i])) && strlen(a) >= 12)
            return 1;
    return 0;
}

char *llm_redact_arg(const char *arg, const char *prev)
{
    static const char *const headers[] = {"authorization", "x-api-key",  "api-key",
                                          "x-goog-api-key", "cookie",    "proxy-authorization",
                                          "x-amz-security-token"};
    size_t n = strlen(arg);

    if (prev && prev[0] == '-') {
        const char *p = prev;
        while (*p == '-')
            p++;
        if (is_secret_name(p, strlen(p)))
            return strdup(LLM_REDACTED);
    }
    if (looks_like_key(arg))
        return strdup(LLM_REDACTED);
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        size_t k = strlen(headers[i]);
        const char *a = arg;
        while (*a == ' ')
            a++;
        if (!strncasecmp(a, headers[i], k) && a[k] == ':') {
            char *out = malloc((size_t)(a - arg) + k + 2 + sizeof(LLM_REDACTED));
            if (out)
                sprintf(out, "%.*s: %s", (int)((size_t)(a - arg) + k), arg, LLM_REDACTED);
            return out;
        }
    }
    {
        /* --opt=SECRET */
        const char *eq = strchr(arg, '=');
        if (arg[0] == '-' && eq) {
            const char *p = arg;
            while (*p == '-')
                p++;
            if (is_secret_name(p, (size_t)(eq - p))) {
                char *out = malloc((size_t)(eq - arg) + 1 + sizeof(LLM_REDACTED));
                if (out)
                    sprintf(out, "%.*s=%s", (int)(eq - arg), arg, LLM_REDACTED);
                return out;
            }
        }
    }
    if (memchr(arg, '?', n))
        return llm_redact_url(arg, n);
    return strdup(arg);
}
