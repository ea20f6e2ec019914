/* Fuzz harness for http1.c (llm_h1_feed / llm_h1_eof over http-parser).
 * Input: [mode][split][bytes]. mode bit 0: parse requests (else responses);
 * bit 1: on_head announces "no body" for responses (a HEAD request's).
 * The bytes are parsed twice, whole and cut by the split pattern, and the
 * callbacks (heads with every header, body bytes, message ends) must be the
 * same: http1.h promises that any split gives the same callbacks. */
#include "fuzz_common.h"
#include "http1.h"

struct run {
    struct fz_digest d;
    int no_body;
    int verbose; /* LLMOPS_FUZZ_VERBOSE: print the callbacks */
};

static int on_head(void *ctx, struct llm_h1_head *h)
{
    struct run *r = ctx;
    const char *v;
    size_t n = 0;

    r->d.items++;
    fz_mix_str(&r->d, "HEAD", 4);
    fz_mix_int(&r->d, h->is_request);
    fz_mix_int(&r->d, h->status);
    fz_mix_int(&r->d, h->http_major * 100 + h->http_minor);
    fz_mix_str(&r->d, h->method, h->method ? strlen(h->method) : 0);
    fz_mix_str(&r->d, h->url, strlen(h->url));
    fz_mix_int(&r->d, (int64_t)h->nheaders);
    fz_mix_int(&r->d, h->truncated);
    FZ_CHECK(h->nheaders <= LLM_H1_MAX_HEADERS, "%zu headers", h->nheaders);
    if (r->verbose)
        fprintf(stderr, "head: method %s status %d url [%s] %zu headers%s\n",
                h->method ? h->method : "-", h->status, h->url, h->nheaders,
                h->truncated ? " (truncated)" : "");
    for (size_t i = 0; i < h->nheaders; i++) {
        const struct llm_h1_header *x = &h->headers[i];
        FZ_CHECK(x->name + x->name_len <= h->raw.len && x->value + x->value_len <= h->raw.len,
                 "header %zu outside raw (%zu bytes)", i, h->raw.len);
        fz_mix_str(&r->d, h->raw.p + x->name, x->name_len);
        fz_mix_str(&r->d, h->raw.p + x->value, x->value_len);
        if (r->verbose)
            fprintf(stderr, "  [%.*s]: [%.*s]\n", (int)x->name_len, h->raw.p + x->name,
                    (int)x->value_len, h->raw.p + x->value);
    }
    static const char *const names[] = {"host", "content-type", "content-length",
                                        "transfer-encoding", "content-encoding"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        v = llm_h1_header(h, names[i], &n);
        fz_mix_str(&r->d, v, v ? n : 0);
    }
    return r->no_body && !h->is_request;
}

static void on_body(void *ctx, const char *p, size_t n)
{
    struct run *r = ctx;
    fz_mix(&r->d, p, n); /* no marker: the split must not show */
    if (r->verbose)
        fprintf(stderr, "body: %zu bytes\n", n);
}

static void on_end(void *ctx, int interim)
{
    struct run *r = ctx;
    r->d.items++;
    fz_mix_str(&r->d, "END", 3);
    fz_mix_int(&r->d, interim);
    if (r->verbose)
        fprintf(stderr, "end%s\n", interim ? " (interim)" : "");
}

static const struct llm_h1_callbacks cbs = {on_head, on_body, on_end};

/* Returns the digest; *failed: the parser gave up. */
static struct fz_digest run(int is_request, int no_body, uint8_t split, const char *p, size_t n,
                            int *failed, int *eof_rc)
{
    struct llm_h1 h;
    struct run r;
    struct fz_split sp;

    memset(&r, 0, sizeof(r));
    fz_digest_init(&r.d);
    r.no_body = no_body;
    r.verbose = getenv("LLMOPS_FUZZ_VERBOSE") != NULL;
    fz_split_init(&sp, split);
    llm_h1_init(&h, is_request, &cbs, &r);
    *failed = 0;
    for (size_t off = 0; off < n;) {
        size_t k = fz_split_next(&sp, n - off);
        int rc = llm_h1_feed(&h, p + off, k);
        if (r.verbose)
            fprintf(stderr, "feed %zu bytes at %zu: %d\n", k, off, rc);
        /* a message that switches protocols ends HTTP/1.1 wherever it falls
         * (mid-chunk: fewer bytes consumed; at a chunk end: the next feed fails) */
        if (rc < 0 || llm_h1_upgraded(&h)) {
            *failed = llm_h1_upgraded(&h) ? 2 : 1;
            break;
        }
        FZ_CHECK((size_t)rc == k, "fed %zu, consumed %d", k, rc);
        off += k;
    }
    fz_mix_int(&r.d, llm_h1_in_message(&h));
    *eof_rc = llm_h1_eof(&h);
    llm_h1_free(&h);
    return r.d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t mode = fz_u8(&f), split = fz_u8(&f);
    char *body = fz_dup(f.p, f.n);
    int fail_a, fail_b, eof_a, eof_b;
    struct fz_digest a, b;

    a = run(mode & 1, (mode >> 1) & 1, 0, body, f.n, &fail_a, &eof_a);
    b = run(mode & 1, (mode >> 1) & 1, split, body, f.n, &fail_b, &eof_b);
    FZ_CHECK(fail_a == fail_b && eof_a == eof_b && a.items == b.items && a.h == b.h,
             "split 0x%02x changed the result: failed %d/%d eof %d/%d items %llu/%llu", split,
             fail_a, fail_b, eof_a, eof_b, (unsigned long long)a.items,
             (unsigned long long)b.items);
    free(body);
    return 0;
}
