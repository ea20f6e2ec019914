/* Fuzz harness for h2peek.c and classify.c: the first-bytes classifier the
 * app thread runs on every new connection, with the core's HTTP/2 first-
 * request reader. Input: [flags][bytes]: flags bit 0 = the connection's SNI
 * is a known LLM host, bit 1 = without the HTTP/2 reader. Whole input and
 * prefixes, each from an exact-size heap copy (a read past it is caught): a
 * prefix must say "need more" or give the whole input's answer (a decision
 * never changes with more bytes), and a request read by h2peek must be the
 * same from any prefix that holds it. */
#include "classify.h"
#include "err.h"
#include "fuzz_common.h"
#include "h2peek.h"

static int peek(const uint8_t *p, size_t len, struct llm_h2peek *pk)
{
    char *copy = fz_dup(p, len);
    int rc = llm_h2peek_request(copy, len, pk);

    free(copy);
    FZ_CHECK(rc > 0 || rc == LLM_EPARTIAL || rc == LLM_EPARSE || rc == LLM_ETOOBIG ||
                 rc == LLM_ENOMEM,
             "h2peek rc %d", rc);
    if (rc > 0) {
        FZ_CHECK((size_t)rc <= len, "consumed %d of %zu", rc, len);
        FZ_CHECK(strnlen(pk->path, sizeof(pk->path)) < sizeof(pk->path) &&
                     strnlen(pk->authority, sizeof(pk->authority)) < sizeof(pk->authority),
                 "unterminated field");
    }
    return rc;
}

static int classify(const uint8_t *p, size_t len, const char *sni, llm_h2peek_fn fn)
{
    char *copy = fz_dup(p, len);
    int rc = llm_classify(copy, len, sni, fn);

    free(copy);
    FZ_CHECK(rc == LLM_CLASS_MORE || rc == LLM_CLASS_MORE_H2 || rc == LLM_CLASS_LLM ||
                 rc == LLM_CLASS_OTHER,
             "classify rc %d", rc);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t flags = fz_u8(&f);
    const char *sni = (flags & 1) ? "api.openai.com" : NULL;
    llm_h2peek_fn fn = (flags & 2) ? NULL : llm_h2peek_request;
    struct llm_h2peek full, part;
    int rc = peek(f.p, f.n, &full), cls = classify(f.p, f.n, sni, fn);
    size_t step = f.n <= 600 ? 1 : f.n / 64;

    for (size_t len = 0; len < f.n; len += step) {
        int prc = peek(f.p, len, &part), pcls = classify(f.p, len, sni, fn);
        if (prc != LLM_EPARTIAL && prc != LLM_ENOMEM && rc != LLM_ENOMEM) {
            FZ_CHECK(prc == rc, "h2peek prefix %zu of %zu: %d, whole: %d", len, f.n, prc, rc);
            if (rc > 0)
                FZ_CHECK(!strcmp(part.path, full.path) && !strcmp(part.authority, full.authority) &&
                             part.stream_id == full.stream_id,
                         "prefix %zu read another request", len);
        }
        if (pcls != LLM_CLASS_MORE && pcls != LLM_CLASS_MORE_H2)
            FZ_CHECK(pcls == cls, "classify prefix %zu of %zu: %d, whole: %d", len, f.n, pcls, cls);
    }
    return 0;
}
