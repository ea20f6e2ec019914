/* Fuzz harness for sse.c (text/event-stream framing). Input:
 * [cap][split][bytes]. cap picks the event size cap (0: 4 MiB, else 1..255
 * bytes, so cut events and the truncated flag are exercised). The bytes are
 * framed twice, whole and cut by the split pattern; the events (name, data,
 * truncated) must be the same. */
#include "fuzz_common.h"
#include "sse.h"

static void on_event(void *ctx, const struct llm_sse_event *ev)
{
    struct fz_digest *d = ctx;

    FZ_CHECK(ev->event && ev->data, "event without name or data pointer");
    FZ_CHECK(strlen(ev->data) <= ev->data_len, "data_len %zu past the terminator", ev->data_len);
    FZ_CHECK(ev->data[ev->data_len] == '\0', "data not NUL-terminated at data_len");
    d->items++;
    fz_mix_str(d, ev->event, strlen(ev->event));
    fz_mix_str(d, ev->data, ev->data_len);
    fz_mix_int(d, ev->truncated);
}

static struct fz_digest run(size_t cap, uint8_t split, const char *p, size_t n)
{
    struct llm_sse s;
    struct fz_digest d;
    struct fz_split sp;

    fz_digest_init(&d);
    fz_split_init(&sp, split);
    llm_sse_init(&s, cap, on_event, &d);
    for (size_t off = 0; off < n;) {
        size_t k = fz_split_next(&sp, n - off);
        llm_sse_feed(&s, p + off, k);
        off += k;
    }
    llm_sse_finish(&s);
    llm_sse_free(&s);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t capsel = fz_u8(&f), split = fz_u8(&f);
    size_t cap = capsel ? capsel : 4u << 20;
    char *body = fz_dup(f.p, f.n);
    struct fz_digest a = run(cap, 0, body, f.n), b = run(cap, split, body, f.n);

    FZ_CHECK(a.items == b.items && a.h == b.h, "split 0x%02x changed the events (%llu/%llu)",
             split, (unsigned long long)a.items, (unsigned long long)b.items);
    free(body);
    return 0;
}
