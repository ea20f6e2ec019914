/* Fuzz harness for eventstream.c (AWS binary event stream). Input:
 * [mode][split][bytes]. mode bit 0 set: the bytes are the stream as is
 * (mostly bad CRCs: the framing checks); clear: they are records of
 * [u16 headers length][u16 payload length][headers][payload] that the
 * harness frames with right lengths and CRCs, so header parsing and
 * dispatch see arbitrary headers. mode >> 1: the payload cap (0: 4 MiB).
 * Framed whole and split; the messages and the error state must match. */
#include "eventstream.h"
#include "fuzz_common.h"

static void on_msg(void *ctx, const struct llm_eventstream_msg *m)
{
    struct fz_digest *d = ctx;

    FZ_CHECK(m->event && m->data && m->data[m->data_len] == '\0', "bad message pointers");
    FZ_CHECK(strlen(m->event) < LLM_ES_NAME_MAX, "event name too long");
    d->items++;
    fz_mix_str(d, m->event, strlen(m->event));
    fz_mix_str(d, m->data, m->data_len);
    fz_mix_int(d, m->truncated);
}

static struct fz_digest run(size_t cap, uint8_t split, const char *p, size_t n)
{
    struct llm_eventstream s;
    struct fz_digest d;
    struct fz_split sp;

    fz_digest_init(&d);
    fz_split_init(&sp, split);
    llm_eventstream_init(&s, cap, on_msg, &d);
    for (size_t off = 0; off < n;) {
        size_t k = fz_split_next(&sp, n - off);
        llm_eventstream_feed(&s, p + off, k);
        off += k;
    }
    llm_eventstream_finish(&s);
    fz_mix_int(&d, s.error);
    llm_eventstream_free(&s);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t mode = fz_u8(&f), split = fz_u8(&f);
    size_t cap = (mode >> 1) ? (size_t)(mode >> 1) : 4u << 20;
    struct llm_buf stream;
    char *bytes;
    size_t n;

    llm_buf_init(&stream, 1 << 24);
    if (mode & 1)
        llm_buf_append(&stream, f.p, f.n);
    else
        fz_es_build(&f, &stream);
    n = stream.len;
    bytes = fz_dup(stream.p, n);
    llm_buf_free(&stream);
    struct fz_digest a = run(cap, 0, bytes, n), b = run(cap, split, bytes, n);
    FZ_CHECK(a.items == b.items && a.h == b.h, "split 0x%02x changed the messages (%llu/%llu)",
             split, (unsigned long long)a.items, (unsigned long long)b.items);
    free(bytes);
    return 0;
}
