/* Test support for the connection layer: messages in, records out. Each
 * message is stamped 1 ms after the previous one, so latencies are exact. */
#include "feeder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct llm_core_opts llm_feed_opts = {
    .max_body = 1 << 20,
    .max_parse = 64 << 20,
    .max_event = 4 << 20,
    .capture_content = 1,
};

static void sink_fn(void *ctx, struct llm_record *r)
{
    struct llm_feed_sink *s = ctx;
    if (s->n < LLM_FEED_MAX_RECS)
        s->recs[s->n] = *r; /* the record's strings move here */
    else
        llm_record_clear(r);
    s->n++;
}

void llm_feed_init_opts(struct llm_feeder *f, const struct llm_core_opts *opts)
{
    memset(f, 0, sizeof(*f));
    llm_conns_init(&f->cs, opts, sink_fn, &f->sink);
    f->t = 1795805362000000000LL;
}

void llm_feed_init(struct llm_feeder *f)
{
    llm_feed_init_opts(f, &llm_feed_opts);
}

void llm_feed_done(struct llm_feeder *f)
{
    llm_conns_close_all(&f->cs, "process_exit", f->t, f->t);
    for (int i = 0; i < f->sink.n && i < LLM_FEED_MAX_RECS; i++)
        llm_record_clear(&f->sink.recs[i]);
    f->sink.n = 0;
}

void llm_feed_msg(struct llm_feeder *f, uint64_t conn, int kind, const void *p, size_t n, int flags)
{
    struct llm_msg *m = llm_msg_new(conn, kind, p, n, f->t, f->t - 1000000000LL);

    if (!m) {
        fprintf(stderr, "llm_feed_msg: out of memory\n");
        abort();
    }
    m->flags = (uint16_t)flags;
    llm_conns_feed(&f->cs, m);
    free(m);
    f->t += 1000000;
}

void llm_feed_open(struct llm_feeder *f, uint64_t conn, const char *sni)
{
    struct llm_open_info info;

    memset(&info, 0, sizeof(info));
    info.capture = LLM_CAPTURE_OPENSSL;
    info.tls = 1;
    snprintf(info.sni, sizeof(info.sni), "%s", sni);
    llm_feed_msg(f, conn, LLM_MSG_OPEN, &info, sizeof(info), 0);
}

static int b64val(int c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;
    return p ? (int)(p - a) : -1;
}

size_t llm_feed_b64_decode(const char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)in[i]);
        if (v < 0)
            continue; /* padding, newlines */
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}
