/* Fuzz harness for body.c content decoding: identity, gzip, deflate (zlib
 * and raw), br, zstd and an unsupported coding, each under every framing
 * (whole, SSE, NDJSON, event stream). Input: [coding][cap][split][bytes]:
 * coding low 3 bits pick the Content-Encoding, bits 3-4 the Content-Type;
 * cap picks the whole-body and event caps (0: 1 MiB / 4 MiB, else small).
 * The bytes are arbitrary wire bytes. Decoded twice, whole and split: when
 * neither run hit a decoding error, the events must be the same. */
#include "body.h"
#include "fuzz_common.h"

struct run {
    struct fz_digest d;
};

static void on_event(void *ctx, int kind, const char *event, const char *data, size_t n,
                     int truncated)
{
    struct fz_digest *d = ctx;

    FZ_CHECK(data && data[n] == '\0', "event data not NUL-terminated");
    d->items++;
    fz_mix_int(d, kind);
    fz_mix_str(d, event, event ? strlen(event) : 0);
    fz_mix_str(d, data, n);
    fz_mix_int(d, truncated);
}

static struct fz_digest run(const char *ct, const char *ce, size_t whole, size_t cap,
                            uint8_t split, const char *p, size_t n, int *err)
{
    struct llm_body b;
    struct fz_digest d;
    struct fz_split sp;

    fz_digest_init(&d);
    fz_split_init(&sp, split);
    llm_body_init(&b, ct, strlen(ct), ce, strlen(ce), whole, cap, on_event, &d);
    for (size_t off = 0; off < n;) {
        size_t k = fz_split_next(&sp, n - off);
        llm_body_feed(&b, p + off, k);
        off += k;
    }
    llm_body_finish(&b);
    FZ_CHECK(b.wire_bytes == n, "wire_bytes %llu of %zu", (unsigned long long)b.wire_bytes, n);
    *err = b.decode_error;
    if (getenv("LLMOPS_FUZZ_VERBOSE"))
        fprintf(stderr, "split 0x%02x: events %llu decoded %llu whole %zu%s error %d\n", split,
                (unsigned long long)b.events, (unsigned long long)b.decoded_bytes, b.whole.len,
                b.whole.truncated ? " (truncated)" : "", b.decode_error);
    fz_mix_int(&d, (int64_t)b.events);
    fz_mix_int(&d, (int64_t)b.decoded_bytes);
    llm_body_free(&b);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ces[] = {"",     "gzip", "deflate", "br",
                                      "zstd", "x-gzip, identity", "compress", "identity"};
    static const char *const cts[] = {"application/json", "text/event-stream",
                                      "application/x-ndjson", "application/vnd.amazon.eventstream"};
    struct fz f = {data, size};
    uint8_t coding = fz_u8(&f), capsel = fz_u8(&f), split = fz_u8(&f);
    const char *ce = ces[coding & 7], *ct = cts[(coding >> 3) & 3];
    size_t whole = capsel ? (size_t)capsel * 16 : 1u << 20, cap = capsel ? capsel : 4u << 20;
    char *body = fz_dup(f.p, f.n);
    int err_a, err_b;
    struct fz_digest a = run(ct, ce, whole, cap, 0, body, f.n, &err_a);
    struct fz_digest b = run(ct, ce, whole, cap, split, body, f.n, &err_b);

    if (!err_a && !err_b)
        FZ_CHECK(a.items == b.items && a.h == b.h,
                 "split 0x%02x changed the events (%llu/%llu), %s %s", split,
                 (unsigned long long)a.items, (unsigned long long)b.items, ce, ct);
    free(body);
    return 0;
}
