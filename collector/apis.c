/* The API table (apis.def) as data, and its path matcher. Read-only static
 * data: any thread may call in. Linked into the tap (the classifier runs on
 * the app thread, libc only) and read by the collector's dispatch. */
#include "apis.h"

#include <string.h>
#include <strings.h>

const struct llm_api llm_apis[LLM_API__COUNT] = {
#define LLM_API(id, api, operation, method, paths, provider)                                       \
    {api, operation, method, paths, provider},
#include "apis.def"
#undef LLM_API
};

size_t llm_api_path_len(const char *path, size_t n)
{
    const char *q = memchr(path, '?', n);

    if (q)
        n = (size_t)(q - path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    return n;
}

/* Does path[0..n) end with pat[0..k)? Right to left: '*' takes one whole
 * non-empty segment, ':' also matches "%3A" (any case). */
static int ends_with(const char *path, size_t n, const char *pat, size_t k)
{
    while (k) {
        char c = pat[--k];
        if (c == '*') {
            size_t m = n;
            while (n && path[n - 1] != '/')
                n--;
            if (n == m)
                return 0;
        } else if (c == ':' && n >= 3 && !strncasecmp(path + n - 3, "%3A", 3)) {
            n -= 3;
        } else if (n && path[n - 1] == c) {
            n--;
        } else {
            return 0;
        }
    }
    return 1;
}

/* Some alternative of pats matches (for this provider, NULL: any) and no
 * "!" alternative does. */
static int paths_match(const char *pats, const char *path, size_t n, const char *provider)
{
    int hit = 0;

    for (const char *p = pats; *p; p += p[0] == '|') {
        size_t len = strcspn(p, "|");
        const char *at = memchr(p, '@', len);
        size_t k = at ? (size_t)(at - p) : len, neg = *p == '!';
        if (ends_with(path, n, p + neg, k - neg)) {
            if (neg)
                return 0;
            if (!at || !provider ||
                (strlen(provider) == len - k - 1 && !memcmp(provider, at + 1, len - k - 1)))
                hit = 1;
        }
        p += len;
    }
    return hit;
}

int llm_api_find(const char *method, const char *path, size_t len, const char *provider)
{
    len = llm_api_path_len(path, len);
    for (int i = 0; i < LLM_API__COUNT; i++) {
        const struct llm_api *a = &llm_apis[i];
        if (method && a->method && strcmp(method, a->method))
            continue;
        if (paths_match(a->paths, path, len, provider))
            return i;
    }
    return -1;
}

int llm_path_is_llm(const char *path, size_t len)
{
    return llm_api_find(NULL, path, len, NULL) >= 0;
}
