/* Shared pieces of the fuzz harnesses (header-only, static functions): a
 * reader over the fuzzer's bytes, the split patterns that cut one byte
 * string into the pieces a harness feeds, an order-sensitive digest for the
 * "any split gives the same result" checks, and an AWS event-stream builder
 * that puts right lengths and CRCs around fuzzed headers and payloads (the
 * fuzzer cannot find a CRC32 on its own). Every harness is built twice: with
 * libFuzzer (LLMOPS_FUZZ) and as a replay executable (replay_main.c). */
#ifndef LLM_FUZZ_COMMON_H
#define LLM_FUZZ_COMMON_H

#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding that is not a memory error: print it and abort, so libFuzzer
 * saves the input and the replay driver fails. */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* --- reading the input --- */

struct fz {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
    uint8_t v = 0;
    if (f->n) {
        v = *f->p++;
        f->n--;
    }
    return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
    uint16_t hi = fz_u8(f);
    return (uint16_t)(hi << 8 | fz_u8(f));
}

/* Up to n bytes (fewer at the end of the input). */
static inline const uint8_t *fz_take(struct fz *f, size_t *n)
{
    const uint8_t *p = f->p;
    if (*n > f->n)
        *n = f->n;
    f->p += *n;
    f->n -= *n;
    return p;
}

/* A heap copy of exactly n bytes (plus nothing): reads past it are caught. */
static inline char *fz_dup(const void *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

/* --- split patterns --- */

/* One selector byte: low 2 bits the kind, the rest its size.
 *   0: whole; 1: every k bytes, k = 1..64; 2: random 1..4k; 3: random 1..4096 */
struct fz_split {
    unsigned kind;
    size_t k;
    uint32_t seed;
};

static inline void fz_split_init(struct fz_split *s, uint8_t sel)
{
    s->kind = sel & 3u;
    s->k = (size_t)(sel >> 2) + 1;
    s->seed = 0x9e3779b9u ^ sel;
}

static inline size_t fz_split_next(struct fz_split *s, size_t left)
{
    size_t n;

    switch (s->kind) {
    case 0:
        n = left;
        break;
    case 1:
        n = s->k;
        break;
    default:
        s->seed ^= s->seed << 13;
        s->seed ^= s->seed >> 17;
        s->seed ^= s->seed << 5;
        n = 1 + s->seed % (s->kind == 2 ? 4 * s->k : 4096);
    }
    return n < left ? n : left;
}

/* --- digests: FNV-1a over everything a run produced, in order --- */

struct fz_digest {
    uint64_t h;
    uint64_t items; /* events, callbacks or records seen */
};

static inline void fz_digest_init(struct fz_digest *d)
{
    d->h = 0xcbf29ce484222325ull;
    d->items = 0;
}

static inline void fz_mix(struct fz_digest *d, const void *p, size_t n)
{
    const uint8_t *u = p;
    for (size_t i = 0; i < n; i++) {
        d->h ^= u[i];
        d->h *= 0x100000001b3ull;
    }
}

static inline void fz_mix_int(struct fz_digest *d, int64_t v)
{
    fz_mix(d, &v, sizeof(v));
}

/* A string with its length, so ("ab","c") and ("a","bc") differ. */
static inline void fz_mix_str(struct fz_digest *d, const char *s, size_t n)
{
    fz_mix_int(d, s ? (int64_t)n : -1);
    if (s)
        fz_mix(d, s, n);
}

/* --- AWS event stream messages with valid lengths and CRCs --- */

static inline void fz_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Reads [u16 headers length][u16 payload length][headers][payload] records
 * from f until it is empty and appends one framed message for each. */
static inline void fz_es_build(struct fz *f, struct llm_buf *out)
{
    while (f->n) {
        size_t hl = fz_u16(f), pl = fz_u16(f);
        const uint8_t *h = fz_take(f, &hl), *p = fz_take(f, &pl);
        uint8_t pre[12], crc[4];
        uLong c;

        fz_put_be32(pre, (uint32_t)(12 + hl + pl + 4));
        fz_put_be32(pre + 4, (uint32_t)hl);
        fz_put_be32(pre + 8, (uint32_t)crc32(0L, pre, 8));
        c = crc32(0L, pre, 12);
        c = crc32(c, h, (uInt)hl);
        c = crc32(c, p, (uInt)pl);
        fz_put_be32(crc, (uint32_t)c);
        llm_buf_append(out, pre, 12);
        llm_buf_append(out, h, hl);
        llm_buf_append(out, p, pl);
        llm_buf_append(out, crc, 4);
    }
}

#endif
