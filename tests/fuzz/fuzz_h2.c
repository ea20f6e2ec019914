/* Fuzz harness for h2.c through conn.c: one TLS connection (SNI
 * api.openai.com) whose first outgoing bytes are the HTTP/2 client preface,
 * followed by the input's segments. Input: [split][opts][segments], each
 * segment [flags][u16 length][bytes]: flags bit 0 = server to client (IN)
 * else OUT, bit 1 = bytes were lost before it (LLM_MSG_F_LOST), bit 2 = the
 * connection closes after it. Each segment's bytes go out as messages cut by
 * the split pattern. Run whole and split; the records, times aside, must be
 * the same. */
#include "fuzz_conn.h"
#include "h2.h"

#define F_IN 1
#define F_LOST 2
#define F_CLOSE 4

static struct fz_digest run(const uint8_t *segs, size_t n, const struct llm_core_opts *opts,
                            uint8_t split, struct llm_feeder *f)
{
    struct fz in = {segs, n};
    struct fz_split sp;
    struct fz_digest d;

    fz_digest_init(&d);
    fz_split_init(&sp, split);
    llm_feed_init_opts(f, opts);
    llm_feed_open(f, 1, "api.openai.com");
    fz_send(f, 1, LLM_MSG_OUT, LLM_H2_PREFACE, LLM_H2_PREFACE_LEN, 0, &sp);
    while (in.n) {
        uint8_t fl = fz_u8(&in);
        size_t len = fz_u16(&in);
        const char *p = (const char *)fz_take(&in, &len);
        fz_send(f, 1, (fl & F_IN) ? LLM_MSG_IN : LLM_MSG_OUT, p, len,
                (fl & F_LOST) ? LLM_MSG_F_LOST : 0, &sp);
        if (fl & F_CLOSE) {
            llm_feed_msg(f, 1, LLM_MSG_CLOSE, NULL, 0, 0);
            break;
        }
    }
    llm_conns_close_all(&f->cs, "process_exit", f->t, f->t);
    fz_digest_records(&d, &f->sink);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t split = fz_u8(&f), optsel = fz_u8(&f);
    const struct llm_core_opts *opts = fz_opts(optsel);
    uint8_t *segs = (uint8_t *)fz_dup(f.p, f.n);
    struct llm_feeder *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    struct fz_digest da, db;

    if (!a || !b)
        abort();
    da = run(segs, f.n, opts, 0, a);
    db = run(segs, f.n, opts, split, b);
    FZ_CHECK(da.items == db.items && da.h == db.h,
             "split 0x%02x changed the records (%llu/%llu): %s", split,
             (unsigned long long)da.items, (unsigned long long)db.items,
             fz_first_diff(&a->sink, &b->sink));
    fz_print_records(&a->sink);
    llm_feed_done(a);
    llm_feed_done(b);
    free(a);
    free(b);
    free(segs);
    return 0;
}
