/* Fuzz harness for redact.c. Input: [mode][bytes]. mode % 3 == 0: the bytes
 * are any text for llm_redact_text (not NUL-terminated: read from an
 * exact-size copy). 1: a command line, arguments separated by NUL, each
 * passed to llm_redact_arg with the one before it. For both: the output is
 * never longer than the input plus LLM_REDACT_GROWTH per replacement, and a
 * second pass changes nothing. 2: the bytes are a JSON document kept as text
 * (llm_redact_json_text: parsed when jansson can, scanned when not); when
 * its output parses, llm_redact_json finds nothing more in it. */
#include "fuzz_common.h"
#include "redact.h"

#include <jansson.h>

static void text(const uint8_t *p, size_t n)
{
    char *in = fz_dup(p, n), *out, *again;
    size_t len = 0, len2 = 0;
    int k = 0, k2 = 0;

    out = llm_redact_text(in, n, &len, &k);
    FZ_CHECK(out != NULL, "ENOMEM");
    FZ_CHECK(len <= n + (size_t)k * LLM_REDACT_GROWTH, "grew %zu -> %zu with %d markers", n, len,
             k);
    again = llm_redact_text(out, len, &len2, &k2);
    FZ_CHECK(again && len2 == len && !memcmp(out, again, len) && !k2, "not idempotent: %s -> %s",
             out, again);
    free(again);
    free(out);
    free(in);
}

/* Markers in s: at least the replacements made. */
static size_t marks(const char *s)
{
    size_t n = 0;

    while ((s = strstr(s, LLM_REDACTED)) != NULL)
        n++, s += sizeof(LLM_REDACTED) - 1;
    return n;
}

static void argv(const uint8_t *p, size_t n)
{
    char *prev = NULL;

    while (n) {
        const uint8_t *z = memchr(p, 0, n);
        size_t k = z ? (size_t)(z - p) : n;
        char *arg = malloc(k + 1), *out, *again;
        if (!arg)
            abort();
        memcpy(arg, p, k);
        arg[k] = '\0';
        out = llm_redact_arg(arg, prev);
        FZ_CHECK(out != NULL, "ENOMEM or NULL for an argument");
        /* strlen: an argument ends at its first NUL */
        FZ_CHECK(strlen(out) <= strlen(arg) + marks(out) * LLM_REDACT_GROWTH, "grew: %s -> %s", arg,
                 out);
        again = llm_redact_arg(out, prev);
        FZ_CHECK(again && !strcmp(out, again), "not idempotent: %s -> %s", out, again);
        free(again);
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
    size_t len = 0;
    int k = 0;
    char *out = llm_redact_json_text((const char *)p, n, &len, &k);
    json_t *j;

    FZ_CHECK(out != NULL, "ENOMEM");
    FZ_CHECK(k >= 0, "%d", k);
    j = json_loadb(out, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (j && !json_is_string(j))
        FZ_CHECK(llm_redact_json(j) == 0, "a second pass found other secrets in %s", out);
    json_decref(j);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t mode = fz_u8(&f);

    if (mode % 3 == 0)
        text(f.p, f.n);
    else if (mode % 3 == 1)
        argv(f.p, f.n);
    else
        json(f.p, f.n);
    return 0;
}
