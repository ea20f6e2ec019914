/* The first request of an HTTP/2 connection, read from the client's first
 * bytes: is it an LLM call? Used to classify HTTP/2 that the SNI does not
 * name (cleartext h2c, TLS to a self-hosted server). Runs on the app thread,
 * called by the tap through libllmops-core.so, so it keeps no state: the
 * first header block of a connection is decoded by a fresh HPACK inflater
 * (its dynamic table is empty then by definition), and nothing is kept.
 *
 * Only frames a client may send before its first request are skipped
 * (SETTINGS, WINDOW_UPDATE, PRIORITY, PING); anything else before the first
 * HEADERS ends the question. The block may span CONTINUATION frames. */
#include "h2peek.h"
#include "err.h"
#include "h2.h"

#include <nghttp2/nghttp2.h>
#include <string.h>

#define FL_END_HEADERS 0x4
#define FL_PADDED 0x8
#define FL_PRIORITY 0x20

static void copy_value(char *out, size_t cap, const nghttp2_nv *nv)
{
    size_t n = nv->valuelen < cap - 1 ? nv->valuelen : cap - 1;

    memcpy(out, nv->value, n);
    out[n] = 0;
}

/* Decodes one complete header block into the pseudo-headers we want. */
static int decode(const uint8_t *blk, size_t n, struct llm_h2peek *out)
{
    nghttp2_hd_inflater *inf;
    int rc = 0;

    if (nghttp2_hd_inflate_new(&inf))
        return LLM_ENOMEM;
    for (;;) {
        nghttp2_nv nv;
        int fl = 0;
        ssize_t used = nghttp2_hd_inflate_hd2(inf, &nv, &fl, blk, n, 1);

        if (used < 0) {
            rc = LLM_EPARSE;
            break;
        }
        blk += used;
        n -= (size_t)used;
        if (fl & NGHTTP2_HD_INFLATE_EMIT) {
            if (nv.namelen == 5 && !memcmp(nv.name, ":path", 5))
                copy_value(out->path, sizeof(out->path), &nv);
            else if ((nv.namelen == 10 && !memcmp(nv.name, ":authority", 10)) ||
                     (nv.namelen == 4 && !memcmp(nv.name, "host", 4) && !out->authority[0]))
                copy_value(out->authority, sizeof(out->authority), &nv);
        }
        if (fl & NGHTTP2_HD_INFLATE_FINAL)
            break;
        if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && !n) {
            rc = LLM_EPARSE; /* the block ended inside a field */
            break;
        }
    }
    nghttp2_hd_inflate_del(inf);
    return rc;
}

int llm_h2peek_request(const char *p, size_t n, struct llm_h2peek *out)
{
    const uint8_t *b = (const uint8_t *)p;
    uint8_t blk[LLM_H2PEEK_BLOCK_MAX];
    size_t off = LLM_H2_PREFACE_LEN, blen = 0;
    uint32_t sid = 0;

    memset(out, 0, sizeof(*out));
    if (n < LLM_H2_PREFACE_LEN)
        return memcmp(p, LLM_H2_PREFACE, n) ? LLM_EPARSE : LLM_EPARTIAL;
    if (memcmp(p, LLM_H2_PREFACE, LLM_H2_PREFACE_LEN))
        return LLM_EPARSE;
    for (;;) {
        uint32_t len, fsid, pre = 0, pad = 0;
        uint8_t type, flags;

        if (n - off < 9)
            return LLM_EPARTIAL;
        len = (uint32_t)b[off] << 16 | (uint32_t)b[off + 1] << 8 | b[off + 2];
        type = b[off + 3];
        flags = b[off + 4];
        fsid = ((uint32_t)b[off + 5] << 24 | (uint32_t)b[off + 6] << 16 |
                (uint32_t)b[off + 7] << 8 | b[off + 8]) &
               0x7fffffffu;
        if (len > LLM_H2PEEK_BLOCK_MAX)
            return LLM_ETOOBIG;
        if (n - off - 9 < len)
            return LLM_EPARTIAL;
        off += 9;
        if (sid) { /* inside a block: only its CONTINUATIONs may follow */
            if (type != 9 || fsid != sid)
                return LLM_EPARSE;
        } else if (type == 1) {
            if (!fsid)
                return LLM_EPARSE;
            sid = fsid;
            pre = (flags & FL_PADDED) ? 1 : 0;
            pre += (flags & FL_PRIORITY) ? 5 : 0;
            pad = (flags & FL_PADDED) && len ? b[off] : 0;
            if (pre + pad > len)
                return LLM_EPARSE;
        } else if (type == 4 || type == 8 || type == 2 || type == 6) {
            off += len; /* SETTINGS, WINDOW_UPDATE, PRIORITY, PING */
            continue;
        } else {
            return LLM_EPARSE;
        }
        if (blen + len - pre - pad > sizeof(blk))
            return LLM_ETOOBIG;
        memcpy(blk + blen, b + off + pre, len - pre - pad);
        blen += len - pre - pad;
        off += len;
        if (flags & FL_END_HEADERS)
            break;
    }
    out->stream_id = sid;
    return decode(blk, blen, out) ? LLM_EPARSE : (int)off;
}
