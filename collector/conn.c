/* Connection table and protocol dispatch. A connection's protocol is decided
 * by its first outgoing bytes: the HTTP/2 client preface means h2.c, anything
 * else h1conn.c, which hands over to h2.c when the server takes up an h2c
 * upgrade. While the bytes seen so far are still a prefix of the
 * preface they are only counted (they are the preface's own bytes, so nothing
 * needs keeping) and replayed to whichever side wins. A gap in the captured
 * bytes (LLM_MSG_F_LOST) ends parsing for that connection: its open
 * exchanges are recorded as incomplete ("capture_lost"). Collector thread. */
#include "conn.h"
#include "h1conn.h"
#include "h2.h"
#include "log.h"
#include "peer.h"

#include <stdlib.h>
#include <string.h>

/* PROTO_RESYNC: HTTP/1.1 after a gap in the captured bytes, waiting for an
 * outgoing message that starts a request to pick the stream up again. */
enum { PROTO_UNKNOWN, PROTO_H1, PROTO_H2, PROTO_DEAD, PROTO_RESYNC };

struct llm_conn {
    struct llm_conn *next;
    uint64_t id;
    struct llm_open_info info;
    struct llm_peer peer; /* info.peer points here when the OPEN carried one */
    int proto;
    size_t pre_n;         /* preface bytes matched while PROTO_UNKNOWN */
    int64_t pre_t, pre_m; /* when the first of them went out */
    struct llm_h1conn *h1;
    struct llm_h2 *h2;
};

static const char preface[] = LLM_H2_PREFACE;

static struct llm_conn **slot(struct llm_conns *cs, uint64_t id)
{
    struct llm_conn **pp = &cs->buckets[id & 255];
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    return pp;
}

void llm_conns_init(struct llm_conns *cs, const struct llm_core_opts *opts, llm_record_sink sink,
                    void *ctx)
{
    memset(cs, 0, sizeof(*cs));
    cs->opts = opts;
    cs->sink = sink;
    cs->ctx = ctx;
}

static void fail(struct llm_conn *c, const char *why, int64_t t, int64_t m)
{
    if (c->h1)
        llm_h1conn_fail(c->h1, why, t, m);
    if (c->h2)
        llm_h2_fail(c->h2, why, t, m);
    c->proto = PROTO_DEAD;
}

static void feed(struct llm_conns *cs, struct llm_conn *c, int kind, const char *p, size_t n,
                 int64_t t, int64_t m);

/* The server took an h2c upgrade: stream 1 answers the HTTP/1.1 request,
 * the held client bytes start with the preface, and the server's HTTP/2
 * starts at in_off in the response bytes p[0..n). */
static void to_h2c(struct llm_conns *cs, struct llm_conn *c, const char *p, size_t n, int64_t t,
                   int64_t m)
{
    struct llm_exchange *x;
    const char *out;
    size_t out_n, off;

    llm_h1conn_upgrade(c->h1, &x, &out, &out_n, &off);
    c->h2 = llm_h2_new(cs, &c->info);
    if (!c->h2) {
        if (x) {
            struct llm_record r;
            llm_exchange_finish(x, "capture_lost", t, m, &r);
            cs->sink(cs->ctx, &r);
        }
        llm_h1conn_close(c->h1, "upgraded", t, m);
        c->h1 = NULL;
        c->proto = PROTO_DEAD;
        return;
    }
    llm_h2_adopt(c->h2, x);
    c->proto = PROTO_H2;
    if (out_n)
        feed(cs, c, LLM_MSG_OUT, out, out_n, t, m);
    llm_h1conn_close(c->h1, "upgraded", t, m);
    c->h1 = NULL;
    if (off < n)
        feed(cs, c, LLM_MSG_IN, p + off, n - off, t, m);
}

static void feed(struct llm_conns *cs, struct llm_conn *c, int kind, const char *p, size_t n,
                 int64_t t, int64_t m)
{
    int rc = 0;

    if (c->proto == PROTO_H1)
        rc = llm_h1conn_feed(c->h1, kind, p, n, t, m);
    else if (c->proto == PROTO_H2)
        rc = llm_h2_feed(c->h2, kind, p, n, t, m);
    if (rc == LLM_H1CONN_H2C) {
        to_h2c(cs, c, p, n, t, m);
        return;
    }
    if (rc < 0) {
        llm_log("conn %llu: %s stream is not HTTP/%s; dropping it", (unsigned long long)c->id,
                kind == LLM_MSG_OUT ? "request" : "response", c->h2 ? "2" : "1.1");
        fail(c, "parse_error", t, m);
    }
}

/* Picks the protocol and replays the held preface bytes (sent at pre_t) to it. */
static void choose(struct llm_conns *cs, struct llm_conn *c, int h2)
{
    if (h2)
        c->h2 = llm_h2_new(cs, &c->info);
    else
        c->h1 = llm_h1conn_new(cs, &c->info);
    c->proto = c->h2 ? PROTO_H2 : c->h1 ? PROTO_H1 : PROTO_DEAD;
    if (c->pre_n)
        feed(cs, c, LLM_MSG_OUT, preface, c->pre_n, c->pre_t, c->pre_m);
    c->pre_n = 0;
}

/* First outgoing bytes: while they are a prefix of the preface, count them. */
static void sniff(struct llm_conns *cs, struct llm_conn *c, const struct llm_msg *m)
{
    size_t k = 0;

    while (k < m->len && c->pre_n + k < LLM_H2_PREFACE_LEN && m->data[k] == preface[c->pre_n + k])
        k++;
    if (!c->pre_n) {
        c->pre_t = m->ts_ns;
        c->pre_m = m->mono_ns;
    }
    if (c->pre_n + k == LLM_H2_PREFACE_LEN) {
        c->pre_n += k;
        choose(cs, c, 1);
        if (k < m->len)
            feed(cs, c, LLM_MSG_OUT, m->data + k, m->len - k, m->ts_ns, m->mono_ns);
    } else if (k == m->len) {
        c->pre_n += k;
    } else {
        choose(cs, c, 0); /* the message's own bytes follow the held ones */
        feed(cs, c, LLM_MSG_OUT, m->data, m->len, m->ts_ns, m->mono_ns);
    }
}

/* Bytes were dropped (the queue was full): what was in flight is recorded as
 * incomplete. HTTP/2 cannot recover (HPACK state is gone); HTTP/1.1 can, at
 * the next request, since clients write a request's head in one call. */
static void lost(struct llm_conns *cs, struct llm_conn *c, int64_t t, int64_t m)
{
    int h2 = c->proto == PROTO_H2;

    fail(c, "capture_lost", t, m);
    if (!h2) {
        if (c->h1)
            llm_h1conn_close(c->h1, "capture_lost", t, m);
        c->h1 = NULL;
        c->pre_n = 0;
        c->proto = PROTO_RESYNC;
    }
}

static void resync(struct llm_conns *cs, struct llm_conn *c, const struct llm_msg *m)
{
    static const char *const methods[] = {"POST ", "GET ", "PUT ", "PATCH ", "DELETE ", "HEAD "};

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t k = strlen(methods[i]);
        if (m->len > k && !memcmp(m->data, methods[i], k)) {
            c->h1 = llm_h1conn_new(cs, &c->info);
            c->proto = c->h1 ? PROTO_H1 : PROTO_DEAD;
            feed(cs, c, LLM_MSG_OUT, m->data, m->len, m->ts_ns, m->mono_ns);
            return;
        }
    }
}

static void conn_end(struct llm_conns *cs, struct llm_conn *c, const char *why, int64_t t,
                     int64_t m)
{
    if (c->h1)
        llm_h1conn_close(c->h1, why, t, m);
    if (c->h2)
        llm_h2_close(c->h2, why, t, m);
    *slot(cs, c->id) = c->next;
    cs->count--;
    llm_peer_free(&c->peer);
    free(c);
}

void llm_conns_feed(struct llm_conns *cs, const struct llm_msg *m)
{
    struct llm_conn **pp = slot(cs, m->conn), *c = *pp;

    if (m->kind == LLM_MSG_OPEN) {
        if (c) /* an id is never reused; a second OPEN would be a bug upstream */
            return;
        if (m->len >= sizeof(struct llm_open_info) &&
            ((const struct llm_open_info *)m->data)->opaque) {
            /* TLS we cannot see into: say so, there will be no bytes */
            struct llm_record r;
            llm_exchange_opaque((const struct llm_open_info *)m->data, m->ts_ns, &r);
            cs->sink(cs->ctx, &r);
            return;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
            return;
        c->id = m->conn;
        if (m->len >= sizeof(c->info))
            memcpy(&c->info, m->data, sizeof(c->info));
        c->info.peer = NULL;
        if (m->len > sizeof(c->info) &&
            !llm_peer_decode(m->data + sizeof(c->info), m->len - sizeof(c->info), &c->peer))
            c->info.peer = &c->peer;
        *pp = c;
        cs->count++;
        return;
    }
    if (!c)
        return;
    if ((m->flags & LLM_MSG_F_LOST) && c->proto != PROTO_DEAD && c->proto != PROTO_RESYNC)
        lost(cs, c, m->ts_ns, m->mono_ns);
    switch (m->kind) {
    case LLM_MSG_OUT:
        if (c->proto == PROTO_UNKNOWN)
            sniff(cs, c, m);
        else if (c->proto == PROTO_RESYNC)
            resync(cs, c, m);
        else
            feed(cs, c, LLM_MSG_OUT, m->data, m->len, m->ts_ns, m->mono_ns);
        break;
    case LLM_MSG_IN: /* before any request nothing can be paired: dropped */
        if (c->proto != PROTO_RESYNC)
            feed(cs, c, LLM_MSG_IN, m->data, m->len, m->ts_ns, m->mono_ns);
        break;
    case LLM_MSG_CLOSE:
        conn_end(cs, c, "connection_closed", m->ts_ns, m->mono_ns);
        break;
    }
}

void llm_conns_close_all(struct llm_conns *cs, const char *why, int64_t t, int64_t mono)
{
    for (int i = 0; i < 256; i++)
        while (cs->buckets[i])
            conn_end(cs, cs->buckets[i], why, t, mono);
}

void llm_conns_forget(struct llm_conns *cs)
{
    memset(cs->buckets, 0, sizeof(cs->buckets));
    cs->count = 0;
}
