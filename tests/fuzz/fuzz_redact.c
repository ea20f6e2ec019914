/* Fuzz harness for redact.c. Input: [mode][bytes]. mode % 3 == 0: the bytes
 * are a URL path and query for llm_redact_url (not NUL-terminated: read
 * from an exact-size copy); redacting its output again must change nothing.
 * 1: the bytes are a command line, arguments separated by NUL, each passed
 * to llm_redact_arg with the one before it. 2: the bytes are JSON for
 * llm_redact_json, whose second pass must replace the same members. */
#include "fuzz_common.h"
#include "redact.h"

#include <jansson.h>

static void url(const uint8_t *p, size_t n)
{
    char *in = fz_dup(p, n), *out = llm_redact_url(in, n), *again;

    FZ_CHECK(out != NULL, "ENOMEM");
    again = llm_redact_url(out, strlen(out));
    FZ_CHECK(again && !strcmp(out, again), "not idempotent: %s -> %s", out, again);
    free(again);
    free(out);
    free(in);
}

static void argv(const uint8_t *p, size_t n)
{
    char *prev = NULL;

    while (n) {
        const uint8_t *z = memchr(p, 0, n);
        size_t k = z ? (size_t)(z - p) : n;
        char *arg = malloc(k + 1), *out;
        if (!arg)
            abort();
        memcpy(arg, p, k);
        arg[k] = '\0';
        out = llm_redact_arg(arg, prev);
        FZ_CHECK(out != NULL, "ENOMEM or NULL for an argument");
        free(out);
        free(prev);
        prev = arg;
        p += k + (z ? 1 : 0);
        n -= k + (z ? 1 : 0);
    }
    free(prev);
}

static void json(const uint8_t *p, size_t n)
{
    json_t *j = json_loadb((const char *)p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    int k;

    if (!j)
        return;
    k = llm_redact_json(j);
    FZ_CHECK(k >= 0, "%d", k);
    FZ_CHECK(llm_redact_json(j) == k, "a second pass found other secrets");
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t mode = fz_u8(&f);

    if (mode % 3 == 0)
        url(f.p, f.n);
    else if (mode % 3 == 1)
        argv(f.p, f.n);
    else
        json(f.p, f.n);
    return 0;
}
