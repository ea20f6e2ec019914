/* Fuzz harness for tlshello.c (SNI from a ClientHello). Input: [n][bytes]:
 * n sizes the caller's name buffer (1..256). The hello is parsed from an
 * exact-size heap copy (a read past it is caught), then from exact-size
 * copies of its prefixes: a prefix must say "need more" (LLM_EPARTIAL) or
 * give the full input's answer, and a found name must fit the buffer and be
 * bytes of the hello (never cut short at a NUL inside it). */
#include "err.h"
#include "fuzz_common.h"
#include "tlshello.h"

static int parse(const uint8_t *p, size_t len, char *sni, size_t n)
{
    char *copy = fz_dup(p, len);
    int rc;

    memset(sni, 'X', n);
    rc = llm_tls_sni((const unsigned char *)copy, len, sni, n);
    free(copy);
    FZ_CHECK(rc == 0 || rc == 1 || rc == LLM_EPARTIAL, "rc %d", rc);
    if (rc == 1) { /* a whole name from the hello: one with a NUL in it is none */
        size_t nl = strnlen(sni, n);
        FZ_CHECK(nl < n, "name not terminated in %zu bytes", n);
        FZ_CHECK(nl > 0 && memmem(p, len, sni, nl), "name %s not in the hello", sni);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    size_t n = (size_t)fz_u8(&f) + 1, step;
    char full[257], part[257];
    int rc = parse(f.p, f.n, full, n);

    /* every prefix of short inputs; 64 spread over long ones */
    step = f.n <= 600 ? 1 : f.n / 64;
    for (size_t len = 0; len < f.n; len += step) {
        int prc = parse(f.p, len, part, n);
        if (prc == LLM_EPARTIAL)
            continue;
        FZ_CHECK(prc == rc, "prefix %zu of %zu: %d, whole: %d", len, f.n, prc, rc);
        if (rc == 1)
            FZ_CHECK(!strcmp(part, full), "prefix %zu: name %s, whole: %s", len, part, full);
    }
    return 0;
}
