/* Bounded buffers. Growth doubles up to the cap; a failed allocation leaves
 * the buffer as it was and reports LLM_ENOMEM. Collector thread only. */
#include "buf.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void llm_buf_init(struct llm_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

int llm_buf_append(struct llm_buf *b, const void *data, size_t n)
{
    int rc = 0;
    size_t room = b->max - b->len;

    if (n > room) {
        n = room;
        b->truncated = 1;
        rc = LLM_ETOOBIG;
    }
    if (b->len + n > b->alloc || !b->p) {
        size_t want = b->alloc ? b->alloc : 256;
        while (want < b->len + n)
            want *= 2;
        if (want > b->max)
            want = b->max;
        char *p = realloc(b->p, want + 1);
        if (!p)
            return LLM_ENOMEM;
        b->p = p;
        b->alloc = want;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return rc;
}

void llm_buf_reset(struct llm_buf *b)
{
    b->len = 0;
    b->truncated = 0;
    if (b->p)
        b->p[0] = '\0';
}

void llm_buf_free(struct llm_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->alloc = 0;
    b->truncated = 0;
}

char *llm_buf_steal(struct llm_buf *b, size_t *len)
{
    char *p = b->p;

    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->alloc = 0;
    b->truncated = 0;
    return p;
}

void llm_cap_init(struct llm_cap *c, size_t max)
{
    memset(c, 0, sizeof(*c));
    llm_buf_init(&c->head, max / 2);
    c->tail_max = max - max / 2;
}

void llm_cap_append(struct llm_cap *c, const void *data, size_t n)
{
    const char *s = data;
    size_t room = c->head.max - c->head.len;
    size_t take = n < room ? n : room;

    c->total += n;
    if (take) {
        if (llm_buf_append(&c->head, s, take) == LLM_ENOMEM)
            return;
        s += take;
        n -= take;
    }
    if (!n || !c->tail_max)
        return;
    if (!c->tail) {
        c->tail = malloc(c->tail_max);
        if (!c->tail)
            return;
    }
    if (n >= c->tail_max) { /* only the last tail_max bytes survive */
        memcpy(c->tail, s + n - c->tail_max, c->tail_max);
        c->tail_pos = 0;
        c->tail_len = c->tail_max;
        return;
    }
    while (n) {
        size_t chunk = c->tail_max - c->tail_pos;
        if (chunk > n)
            chunk = n;
        memcpy(c->tail + c->tail_pos, s, chunk);
        c->tail_pos = (c->tail_pos + chunk) % c->tail_max;
        c->tail_len = c->tail_len + chunk > c->tail_max ? c->tail_max : c->tail_len + chunk;
        s += chunk;
        n -= chunk;
    }
}

int llm_cap_truncated(const struct llm_cap *c)
{
    return c->total > c->head.len + c->tail_len;
}

char *llm_cap_join(const struct llm_cap *c, size_t *len)
{
    char marker[96];
    size_t mlen = 0, n, start;
    char *out;
    uint64_t dropped = c->total - c->head.len - c->tail_len;

    if (dropped)
        mlen = (size_t)snprintf(marker, sizeof(marker), "\n[llmops: %llu bytes truncated]\n",
                                (unsigned long long)dropped);
    n = c->head.len + mlen + c->tail_len;
    out = malloc(n + 1);
    if (!out)
        return NULL;
    if (c->head.len)
        memcpy(out, c->head.p, c->head.len);
    memcpy(out + c->head.len, marker, mlen);
    /* the ring's oldest byte is at tail_pos once it has wrapped */
    start = c->tail_len == c->tail_max ? c->tail_pos : 0;
    for (size_t i = 0; i < c->tail_len; i++)
        out[c->head.len + mlen + i] = c->tail[(start + i) % c->tail_max];
    out[n] = '\0';
    if (len)
        *len = n;
    return out;
}

void llm_cap_free(struct llm_cap *c)
{
    llm_buf_free(&c->head);
    free(c->tail);
    c->tail = NULL;
    c->tail_len = c->tail_pos = 0;
    c->total = 0;
}
