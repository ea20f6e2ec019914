/* Fuzz harness for NDJSON framing through body.c (each line an event; a
 * last line without LF still delivered; the whole-body fallback when no
 * line came). Input: [ct][cap][split][bytes]: ct picks one of the media
 * types body.c frames as NDJSON (or gzip-less plain JSON for contrast),
 * cap the event cap (0: 4 MiB). Framed whole and split; the events must be
 * the same. */
#include "body.h"
#include "fuzz_common.h"

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

static struct fz_digest run(const char *ct, size_t cap, uint8_t split, const char *p, size_t n)
{
    struct llm_body b;
    struct fz_digest d;
    struct fz_split sp;

    fz_digest_init(&d);
    fz_split_init(&sp, split);
    llm_body_init(&b, ct, strlen(ct), NULL, 0, 1 << 20, cap, on_event, &d);
    for (size_t off = 0; off < n;) {
        size_t k = fz_split_next(&sp, n - off);
        llm_body_feed(&b, p + off, k);
        off += k;
    }
    llm_body_finish(&b);
    fz_mix_int(&d, b.decode_error);
    fz_mix_int(&d, (int64_t)b.events);
    llm_body_free(&b);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cts[] = {"application/x-ndjson", "application/stream+json",
                                      "application/jsonl; charset=utf-8", "application/json"};
    struct fz f = {data, size};
    const char *ct = cts[fz_u8(&f) % 4];
    uint8_t capsel = fz_u8(&f), split = fz_u8(&f);
    size_t cap = capsel ? capsel : 4u << 20;
    char *body = fz_dup(f.p, f.n);
    struct fz_digest a = run(ct, cap, 0, body, f.n), b = run(ct, cap, split, body, f.n);

    FZ_CHECK(a.items == b.items && a.h == b.h, "split 0x%02x changed the events (%llu/%llu)",
             split, (unsigned long long)a.items, (unsigned long long)b.items);
    free(body);
    return 0;
}
