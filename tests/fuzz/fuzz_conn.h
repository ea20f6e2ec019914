/* Connection-level driving for the fuzz harnesses (header-only): feeds
 * queue messages through conn.c with the unit tests' feeder and digests
 * the records that come out, leaving out what depends on when the bytes
 * arrived (times, ids), so runs that cut the same bytes differently can be
 * compared: the collector promises the same records for any split. */
#ifndef LLM_FUZZ_CONN_H
#define LLM_FUZZ_CONN_H

#include "feeder.h"
#include "fuzz_common.h"
#include "record.h"

/* Content caps: the feeder's (1 MiB / 64 MiB / 4 MiB), or small ones so
 * cutting and truncation paths run on short inputs. */
static const struct llm_core_opts fz_small_opts = {
    .max_body = 64,
    .max_parse = 4096,
    .max_event = 128,
    .capture_content = 1,
};
static const struct llm_core_opts fz_nocontent_opts = {
    .max_body = 1 << 20,
    .max_parse = 64 << 20,
    .max_event = 4 << 20,
    .capture_content = 0,
};

static inline const struct llm_core_opts *fz_opts(uint8_t sel)
{
    return sel % 3 == 0 ? &llm_feed_opts : sel % 3 == 1 ? &fz_small_opts : &fz_nocontent_opts;
}

static inline int fz_timing_field(int f)
{
    return f == LLM_F_OPERATION_ID || f == LLM_F_TIMESTAMP || f == LLM_F_END_TIMESTAMP ||
           f == LLM_F_LATENCY_MS || f == LLM_F_TTFB_MS || f == LLM_F_TTFT_MS;
}

/* Every record kept by the sink (and how many there were), times aside. */
static inline void fz_digest_records(struct fz_digest *d, const struct llm_feed_sink *s)
{
    fz_mix_int(d, s->n);
    for (int i = 0; i < s->n && i < LLM_FEED_MAX_RECS; i++) {
        const struct llm_record *r = &s->recs[i];
        d->items++;
        for (int f = 0; f < LLM_F__COUNT; f++) {
            const struct llm_value *v = &r->f[f];
            if (fz_timing_field(f))
                continue;
            fz_mix_int(d, v->set);
            if (!v->set)
                continue;
            switch (llm_schema[f].type) {
            case LLM_T_INT:
                fz_mix_int(d, v->u.i);
                break;
            case LLM_T_REAL:
                fz_mix(d, &v->u.d, sizeof(v->u.d));
                break;
            case LLM_T_BOOL:
                fz_mix_int(d, v->u.b);
                break;
            default:
                FZ_CHECK(v->u.s.p && strlen(v->u.s.p) == v->u.s.n, "%s: bad string",
                         llm_schema[f].name);
                fz_mix_str(d, v->u.s.p, v->u.s.n);
            }
        }
    }
}

/* LLMOPS_FUZZ_VERBOSE=1: one line per record, to check what seeds reach. */
static inline void fz_print_records(const struct llm_feed_sink *s)
{
    static const int show[] = {LLM_F_API,          LLM_F_PROVIDER,      LLM_F_MODEL,
                               LLM_F_HTTP_STATUS,  LLM_F_INPUT_TOKENS,  LLM_F_OUTPUT_TOKENS,
                               LLM_F_STATUS,       LLM_F_ERROR_TYPE,    LLM_F_FINISH_REASON,
                               LLM_F_HTTP_VERSION, LLM_F_USAGE_SOURCE};
    const char *v = getenv("LLMOPS_FUZZ_VERBOSE");

    if (!v || !*v || *v == '0')
        return;
    for (int i = 0; i < s->n && i < LLM_FEED_MAX_RECS; i++) {
        fprintf(stderr, "record %d:", i);
        for (size_t k = 0; k < sizeof(show) / sizeof(show[0]); k++) {
            const struct llm_value *x = &s->recs[i].f[show[k]];
            if (!x->set)
                continue;
            if (llm_schema[show[k]].type == LLM_T_INT)
                fprintf(stderr, " %s=%lld", llm_schema[show[k]].name, (long long)x->u.i);
            else
                fprintf(stderr, " %s=%.40s", llm_schema[show[k]].name, x->u.s.p);
        }
        fputc('\n', stderr);
    }
}

/* Which field differs between two kept records, for the failure message. */
static inline const char *fz_first_diff(const struct llm_feed_sink *a,
                                        const struct llm_feed_sink *b)
{
    for (int i = 0; i < a->n && i < b->n && i < LLM_FEED_MAX_RECS; i++)
        for (int f = 0; f < LLM_F__COUNT; f++) {
            struct fz_digest x, y;
            struct llm_feed_sink sa = {.n = 1}, sb = {.n = 1};
            if (fz_timing_field(f))
                continue;
            memset(&sa.recs[0], 0, sizeof(sa.recs[0]));
            memset(&sb.recs[0], 0, sizeof(sb.recs[0]));
            sa.recs[0].f[f] = a->recs[i].f[f];
            sb.recs[0].f[f] = b->recs[i].f[f];
            fz_digest_init(&x);
            fz_digest_init(&y);
            fz_digest_records(&x, &sa);
            fz_digest_records(&y, &sb);
            if (x.h != y.h)
                return llm_schema[f].name;
        }
    return "(record count)";
}

/* Sends p as messages of one kind cut by the split pattern; flags go on the
 * first message only. */
static inline void fz_send(struct llm_feeder *f, uint64_t conn, int kind, const char *p,
                           size_t n, int flags, struct fz_split *sp)
{
    if (!n) {
        llm_feed_msg(f, conn, kind, "", 0, flags);
        return;
    }
    for (size_t off = 0; off < n;) {
        size_t k = fz_split_next(sp, n - off);
        llm_feed_msg(f, conn, kind, p + off, k, off ? 0 : flags);
        off += k;
    }
}

#endif
