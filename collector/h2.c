/* HTTP/2 for one connection, both directions (RFC 9113). Frames are parsed
 * incrementally and never buffered whole: payload bytes go straight to their
 * consumer (DATA to the stream's exchange, header block fragments to the
 * HPACK inflater, which itself keeps a partial field across calls), so any
 * split of the bytes gives the same records and memory stays bounded
 * whatever the frame size.
 *
 * HPACK state is per direction and lives as long as the connection: every
 * header block is decoded, trailers, pushes and non-LLM streams included,
 * or the dynamic table would drift. A decoding error therefore ends parsing
 * for the whole connection. SETTINGS_HEADER_TABLE_SIZE sent by one side
 * bounds the other side's encoder, so it resizes the other direction's
 * inflater (after the header block in progress, if any).
 *
 * Each client stream whose request is an LLM call gets an exchange; the
 * decoded headers become a struct llm_h1_head (pseudo-headers mapped to
 * method, url, status and a "host" header) so exchange.c works unchanged.
 * At most LLM_H2_MAX_STREAMS streams are tracked at once; a stream past that
 * is recorded straight away as incomplete and truncated. Collector thread. */
#include "h2.h"
#include "err.h"
#include "log.h"

#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

enum {
    T_DATA,
    T_HEADERS,
    T_PRIORITY,
    T_RST_STREAM,
    T_SETTINGS,
    T_PUSH_PROMISE,
    T_PING,
    T_GOAWAY,
    T_WINDOW_UPDATE,
    T_CONTINUATION
};

#define FL_END_STREAM 0x1
#define FL_END_HEADERS 0x4
#define FL_PADDED 0x8
#define FL_PRIORITY 0x20
#define SETTINGS_HEADER_TABLE_SIZE 1
#define NO_TABLE_SIZE (-1L)

struct stream {
    uint32_t id; /* 0: a free slot */
    struct llm_exchange *x;
    int req_done;      /* the request's END_STREAM was seen */
    int resp_head;     /* the final (non-1xx) response head was seen */
    int64_t resp_left; /* body bytes still due by content-length, or -1 */
};

struct dir {
    int kind; /* LLM_MSG_OUT (client to server) or LLM_MSG_IN */
    nghttp2_hd_inflater *inf;
    size_t preface_left; /* client preface bytes still to check */
    uint8_t fh[9];       /* the frame header being read */
    size_t fh_n;
    uint32_t len, sid, pos; /* the current frame: payload length, stream, bytes read */
    uint8_t type, flags;
    uint32_t pre, pad; /* payload prefix (pad length, priority, promised id), padding */
    uint8_t ctl[8];    /* the prefix, or a control frame's first payload bytes */
    int in_block;      /* a header block is open: only its CONTINUATIONs may follow */
    uint32_t block_sid;
    int block_end_stream, block_push;
    int64_t block_t, block_m; /* when its first frame arrived */
    struct llm_h1_head head;  /* the block's decoded headers */
    size_t url_off;
    int url_set;
    long table_size; /* a HEADER_TABLE_SIZE to apply once the open block ends */
};

struct llm_h2 {
    struct llm_conns *cs;
    const struct llm_open_info *info; /* owned by the connection */
    struct dir out, in;
    struct stream streams[LLM_H2_MAX_STREAMS];
    uint32_t last_sid; /* the highest client stream opened */
    int64_t now_t, now_m;
    int dead;
};

static const char *const methods[] = {"GET",  "POST",    "PUT",   "PATCH",  "DELETE",
                                      "HEAD", "OPTIONS", "TRACE", "CONNECT"};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --- streams --- */

static struct stream *find(struct llm_h2 *h, uint32_t id)
{
    for (size_t i = 0; id && i < LLM_H2_MAX_STREAMS; i++)
        if (h->streams[i].id == id)
            return &h->streams[i];
    return NULL;
}

static void finish(struct llm_h2 *h, struct llm_exchange *x, const char *why)
{
    struct llm_record r;

    llm_exchange_finish(x, why, h->now_t, h->now_m, &r);
    h->cs->sink(h->cs->ctx, &r);
}

static void emit(struct llm_h2 *h, struct stream *st, const char *why)
{
    finish(h, st->x, why);
    memset(st, 0, sizeof(*st));
}

static void request_head(struct llm_h2 *h, struct dir *d)
{
    uint32_t sid = d->block_sid;
    struct llm_exchange *x;
    struct stream *st;

    /* trailers, or a stream we did not track (ids only grow) */
    if (!(sid & 1) || sid <= h->last_sid)
        return;
    h->last_sid = sid;
    x = llm_exchange_new(&d->head, h->info, h->cs->opts, d->block_t, d->block_m);
    if (!x)
        return;
    if (d->head.truncated)
        x->call.truncated = 1;
    st = NULL;
    for (size_t i = 0; !st && i < LLM_H2_MAX_STREAMS; i++)
        if (!h->streams[i].id)
            st = &h->streams[i];
    if (!st) {
        llm_log("h2: more than %d streams open; stream %u not followed", LLM_H2_MAX_STREAMS,
                (unsigned)sid);
        x->call.truncated = 1;
        finish(h, x, "capture_lost");
        return;
    }
    st->id = sid;
    st->x = x;
}

/* The content-length header's value, or -1 when absent or not a number. */
static int64_t content_length(const struct llm_h1_head *hd)
{
    size_t n = 0;
    const char *v = llm_h1_header(hd, "content-length", &n);
    int64_t cl = 0;

    if (!v || !n || n > 15)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        cl = cl * 10 + (v[i] - '0');
    }
    return cl;
}

static void response_end(struct llm_h2 *h, struct stream *st)
{
    st->x->call.now_mono = h->now_m;
    llm_exchange_response_end(st->x, h->now_t, h->now_m);
    emit(h, st, NULL);
}

static void response_head(struct llm_h2 *h, struct dir *d)
{
    struct stream *st = find(h, d->block_sid);

    if (!st || st->resp_head) /* not ours, or trailers */
        return;
    if (d->head.status >= 100 && d->head.status < 200) /* interim: the answer follows */
        return;
    st->resp_head = 1;
    st->resp_left = content_length(&d->head);
    llm_exchange_response_head(st->x, &d->head);
    if (d->head.truncated)
        st->x->call.truncated = 1;
}

static void stream_body(struct llm_h2 *h, struct dir *d, const char *p, size_t n)
{
    struct stream *st = find(h, d->sid);

    if (!st)
        return;
    if (d->kind == LLM_MSG_OUT) {
        if (!st->req_done)
            llm_exchange_request_body(st->x, p, n);
    } else if (st->resp_head) {
        if (st->resp_left >= 0 && (int64_t)n > st->resp_left)
            n = (size_t)st->resp_left; /* DATA past content-length is not the body */
        st->x->call.now_mono = h->now_m; /* first-token time */
        llm_exchange_response_body(st->x, p, n);
        /* complete at content-length: a client may stop reading (and close)
         * before the END_STREAM that a server sends in a frame of its own */
        if (st->resp_left >= 0 && (st->resp_left -= (int64_t)n) <= 0)
            response_end(h, st);
    }
}

static void stream_end(struct llm_h2 *h, struct dir *d, uint32_t sid)
{
    struct stream *st = find(h, sid);

    if (!st)
        return;
    if (d->kind == LLM_MSG_OUT) {
        if (!st->req_done)
            llm_exchange_request_end(st->x);
        st->req_done = 1;
        return;
    }
    if (!st->resp_head) { /* ended without a response head: nothing to read */
        emit(h, st, "parse_error");
        return;
    }
    response_end(h, st);
}

/* --- header blocks --- */

static const char *method_literal(const char *v, size_t n)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i]) == n && !memcmp(methods[i], v, n))
            return methods[i];
    return "<unknown>"; /* what http-parser names a method it does not know */
}

static void add_header(struct llm_h1_head *hd, const char *name, size_t nl, const char *value,
                       size_t vl)
{
    struct llm_h1_header *x = &hd->headers[hd->nheaders];
    size_t at = hd->raw.len;

    if (hd->nheaders == LLM_H1_MAX_HEADERS || hd->raw.max - hd->raw.len < nl + vl + 1) {
        hd->truncated = 1;
        return;
    }
    if (llm_buf_append(&hd->raw, name, nl) || llm_buf_append(&hd->raw, value, vl)) {
        hd->raw.len = at; /* out of memory: drop the half-written header */
        hd->truncated = 1;
        return;
    }
    x->name = at;
    x->name_len = nl;
    x->value = at + nl;
    x->value_len = vl;
    hd->nheaders++;
}

static void head_add(struct dir *d, const nghttp2_nv *nv)
{
    struct llm_h1_head *hd = &d->head;
    const char *name = (const char *)nv->name, *value = (const char *)nv->value;
    size_t nl = nv->namelen, vl = nv->valuelen;

    if (!nl || name[0] != ':') {
        add_header(hd, name, nl, value, vl);
    } else if (nl == 7 && !memcmp(name, ":method", 7)) {
        hd->method = method_literal(value, vl);
    } else if (nl == 7 && !memcmp(name, ":status", 7)) {
        hd->status = 0;
        for (size_t i = 0; i < vl && i < 3 && value[i] >= '0' && value[i] <= '9'; i++)
            hd->status = hd->status * 10 + (value[i] - '0');
    } else if (nl == 10 && !memcmp(name, ":authority", 10)) {
        add_header(hd, "host", 4, value, vl);
    } else if (nl == 5 && !memcmp(name, ":path", 5) && !d->url_set) {
        size_t at = hd->raw.len;
        if (hd->raw.max - at < vl + 1 || llm_buf_append(&hd->raw, value, vl) ||
            llm_buf_append(&hd->raw, "", 1)) {
            hd->raw.len = at;
            hd->truncated = 1;
            return;
        }
        d->url_off = at;
        d->url_set = 1;
    }
}

static void set_table_size(struct dir *d, uint32_t size)
{
    if (d->in_block) /* the inflater refuses a change inside a block */
        d->table_size = (long)size;
    else
        nghttp2_hd_inflate_change_table_size(d->inf, size);
}

static void block_begin(struct llm_h2 *h, struct dir *d)
{
    struct llm_h1_head *hd = &d->head;
    struct llm_buf raw = hd->raw;

    llm_buf_reset(&raw);
    memset(hd, 0, sizeof(*hd));
    hd->raw = raw;
    hd->is_request = d->kind == LLM_MSG_OUT;
    hd->url = "";
    hd->http_major = 2;
    d->url_set = 0;
    d->in_block = 1;
    d->block_sid = d->sid;
    d->block_end_stream = d->type == T_HEADERS && (d->flags & FL_END_STREAM);
    d->block_push = d->type == T_PUSH_PROMISE;
    d->block_t = h->now_t;
    d->block_m = h->now_m;
}

static void block_end(struct llm_h2 *h, struct dir *d)
{
    d->in_block = 0;
    if (d->table_size != NO_TABLE_SIZE) {
        nghttp2_hd_inflate_change_table_size(d->inf, (size_t)d->table_size);
        d->table_size = NO_TABLE_SIZE;
    }
    if (d->block_push) /* decoded only to keep the table in step */
        return;
    if (d->url_set)
        d->head.url = d->head.raw.p + d->url_off;
    if (d->kind == LLM_MSG_OUT)
        request_head(h, d);
    else
        response_head(h, d);
    if (d->block_end_stream)
        stream_end(h, d, d->block_sid);
}

/* Feeds block bytes to the inflater; final: the block ends here. */
static int hpack_feed(struct llm_h2 *h, struct dir *d, const char *p, size_t n, int final)
{
    static const uint8_t none[1];
    const uint8_t *in = n ? (const uint8_t *)p : none;

    for (;;) {
        nghttp2_nv nv;
        int fl = 0;
        ssize_t rv = nghttp2_hd_inflate_hd2(d->inf, &nv, &fl, in, n, final);

        if (rv < 0) {
            llm_log("h2: HPACK: %s", nghttp2_strerror((int)rv));
            return LLM_EPARSE;
        }
        in += rv;
        n -= (size_t)rv;
        if (fl & NGHTTP2_HD_INFLATE_EMIT)
            head_add(d, &nv);
        if (fl & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(d->inf);
            block_end(h, d);
            return 0;
        }
        if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && !n)
            return 0;
    }
}

/* --- frames --- */

static struct dir *other(struct llm_h2 *h, struct dir *d)
{
    return d == &h->out ? &h->in : &h->out;
}

static int frame_begin(struct llm_h2 *h, struct dir *d)
{
    struct stream *st;

    d->len = (uint32_t)d->fh[0] << 16 | (uint32_t)d->fh[1] << 8 | d->fh[2];
    d->type = d->fh[3];
    d->flags = d->fh[4];
    d->sid = be32(d->fh + 5) & 0x7fffffffu;
    d->pos = d->pad = d->pre = 0;
    if (d->in_block != (d->type == T_CONTINUATION) || (d->in_block && d->sid != d->block_sid))
        return LLM_EPARSE; /* a header block must be contiguous */
    if (d->type == T_DATA || d->type == T_HEADERS || d->type == T_PUSH_PROMISE)
        d->pre = (d->flags & FL_PADDED) ? 1 : 0;
    if (d->type == T_HEADERS && (d->flags & FL_PRIORITY))
        d->pre += 5;
    if (d->type == T_PUSH_PROMISE)
        d->pre += 4;
    if (d->pre > d->len)
        return LLM_EPARSE;
    if (d->type == T_HEADERS || d->type == T_PUSH_PROMISE)
        block_begin(h, d);
    st = d->kind == LLM_MSG_IN ? find(h, d->sid) : NULL;
    if (st && !st->x->m_first_byte)
        st->x->m_first_byte = h->now_m;
    return 0;
}

/* Payload bytes after the prefix and before the padding. */
static int frame_content(struct llm_h2 *h, struct dir *d, const char *p, size_t n, uint32_t off)
{
    switch (d->type) {
    case T_DATA:
        stream_body(h, d, p, n);
        break;
    case T_HEADERS:
    case T_PUSH_PROMISE:
    case T_CONTINUATION:
        return hpack_feed(h, d, p, n, 0);
    case T_SETTINGS:
        for (size_t i = 0; i < n; i++, off++) {
            d->ctl[off % 6] = (uint8_t)p[i];
            if (off % 6 == 5 && (d->ctl[0] << 8 | d->ctl[1]) == SETTINGS_HEADER_TABLE_SIZE)
                set_table_size(other(h, d), be32(d->ctl + 2));
        }
        break;
    case T_RST_STREAM:
    case T_GOAWAY:
        for (size_t i = 0; i < n && off < sizeof(d->ctl); i++, off++)
            d->ctl[off] = (uint8_t)p[i];
        break;
    }
    return 0;
}

static int frame_end(struct llm_h2 *h, struct dir *d)
{
    struct stream *st;
    uint32_t last;

    d->fh_n = 0; /* the next byte starts a frame header */
    switch (d->type) {
    case T_DATA:
        if (d->flags & FL_END_STREAM)
            stream_end(h, d, d->sid);
        break;
    case T_HEADERS:
    case T_PUSH_PROMISE:
    case T_CONTINUATION:
        if (d->flags & FL_END_HEADERS)
            return hpack_feed(h, d, NULL, 0, 1);
        break;
    case T_RST_STREAM:
        st = d->len >= 4 ? find(h, d->sid) : NULL;
        if (st)
            emit(h, st, "stream_reset");
        break;
    case T_GOAWAY:
        /* the server will not process client streams above last: refused */
        if (d->kind != LLM_MSG_IN || d->len < 8)
            break;
        last = be32(d->ctl) & 0x7fffffffu;
        for (size_t i = 0; i < LLM_H2_MAX_STREAMS; i++)
            if (h->streams[i].id > last)
                emit(h, &h->streams[i], "stream_reset");
        break;
    }
    return 0;
}

/* Consumes payload bytes of the current frame; returns how many, or < 0. */
static long frame_bytes(struct llm_h2 *h, struct dir *d, const char *p, size_t n)
{
    uint32_t want, end;
    int rc = 0;

    if (d->pos < d->pre) { /* the prefix: pad length, priority, promised id */
        want = d->pre - d->pos;
        want = n < want ? (uint32_t)n : want;
        memcpy(d->ctl + d->pos, p, want);
        d->pos += want;
        if (d->pos == d->pre && (d->flags & FL_PADDED)) {
            d->pad = d->ctl[0];
            if (d->pad > d->len - d->pre)
                return LLM_EPARSE;
        }
    } else {
        end = d->pos < d->len - d->pad ? d->len - d->pad : d->len; /* content, else padding */
        want = end - d->pos;
        want = n < want ? (uint32_t)n : want;
        if (end == d->len - d->pad)
            rc = frame_content(h, d, p, want, d->pos - d->pre);
        d->pos += want;
    }
    if (rc < 0)
        return rc;
    if (d->pos == d->len && (rc = frame_end(h, d)) < 0)
        return rc;
    return (long)want;
}

static int dir_feed(struct llm_h2 *h, struct dir *d, const char *p, size_t n)
{
    static const char preface[] = LLM_H2_PREFACE;
    long used;
    int rc;

    while (n && !h->dead) {
        if (d->preface_left) {
            size_t off = LLM_H2_PREFACE_LEN - d->preface_left;
            if (*p != preface[off])
                return LLM_EPARSE;
            d->preface_left--;
            p++, n--;
            continue;
        }
        if (d->fh_n < sizeof(d->fh)) {
            d->fh[d->fh_n++] = (uint8_t)*p;
            p++, n--;
            if (d->fh_n == sizeof(d->fh)) {
                if ((rc = frame_begin(h, d)) < 0)
                    return rc;
                if (!d->len && (rc = frame_end(h, d)) < 0)
                    return rc;
            }
            continue;
        }
        if ((used = frame_bytes(h, d, p, n)) < 0)
            return (int)used;
        p += used;
        n -= (size_t)used;
    }
    return 0;
}

/* --- the connection --- */

static int dir_init(struct dir *d, int kind)
{
    memset(d, 0, sizeof(*d));
    d->kind = kind;
    d->preface_left = kind == LLM_MSG_OUT ? LLM_H2_PREFACE_LEN : 0;
    d->table_size = NO_TABLE_SIZE;
    llm_buf_init(&d->head.raw, LLM_H1_HEAD_MAX);
    return nghttp2_hd_inflate_new(&d->inf) ? LLM_ENOMEM : 0;
}

static void dir_free(struct dir *d)
{
    if (d->inf)
        nghttp2_hd_inflate_del(d->inf);
    llm_buf_free(&d->head.raw);
}

struct llm_h2 *llm_h2_new(struct llm_conns *cs, const struct llm_open_info *info)
{
    struct llm_h2 *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->cs = cs;
    h->info = info;
    if (dir_init(&h->out, LLM_MSG_OUT) || dir_init(&h->in, LLM_MSG_IN))
        goto free_dirs;
    return h;
free_dirs:
    dir_free(&h->out);
    dir_free(&h->in);
    free(h);
    return NULL;
}

void llm_h2_adopt(struct llm_h2 *h, struct llm_exchange *x)
{
    h->last_sid = 1; /* stream 1 is taken, by x or by a call that was not ours */
    if (!x)
        return;
    h->streams[0].id = 1;
    h->streams[0].x = x;
    h->streams[0].req_done = 1;
}

int llm_h2_feed(struct llm_h2 *h, int kind, const char *p, size_t n, int64_t t, int64_t m)
{
    if (h->dead)
        return 0;
    h->now_t = t;
    h->now_m = m;
    return dir_feed(h, kind == LLM_MSG_OUT ? &h->out : &h->in, p, n);
}

void llm_h2_fail(struct llm_h2 *h, const char *why, int64_t t, int64_t m)
{
    h->now_t = t;
    h->now_m = m;
    h->dead = 1;
    for (size_t i = 0; i < LLM_H2_MAX_STREAMS; i++)
        if (h->streams[i].id)
            emit(h, &h->streams[i], why);
}

void llm_h2_close(struct llm_h2 *h, const char *why, int64_t t, int64_t m)
{
    llm_h2_fail(h, why, t, m);
    dir_free(&h->out);
    dir_free(&h->in);
    free(h);
}
