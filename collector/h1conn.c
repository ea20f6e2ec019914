/* HTTP/1.1 connection state machine. Requests create exchanges in order;
 * response heads pair with the oldest exchange that has none. Requests that
 * are not LLM calls get a placeholder (NULL exchange) so pairing stays right
 * on a keep-alive connection that mixes them. After a failure (parse error,
 * lost bytes) the open exchanges are recorded as incomplete and later bytes
 * are ignored: without framing nothing after a gap can be trusted.
 *
 * A request that offers an upgrade to h2c is answered either by 101 (the
 * connection is HTTP/2 from the end of that response, conn.c switches) or
 * normally (it stays HTTP/1.1). Until the answer, client bytes after the
 * request are held, not parsed: they are the HTTP/2 preface if the client
 * had the 101 already (the tap may deliver a connection's first bytes of
 * both directions out of order), or the next HTTP/1.1 request otherwise.
 * Collector thread. */
#include "h1conn.h"
#include "err.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct pending {
    struct pending *next;
    struct llm_exchange *x; /* NULL: not an LLM call */
    int is_head;            /* the request was HEAD: its response has no body */
    int h2c;                /* the request offered an upgrade to h2c */
};

struct llm_h1conn {
    struct llm_conns *cs;
    const struct llm_open_info *info; /* owned by the connection */
    struct llm_h1 req, resp;
    struct pending *head, *tail; /* exchanges in request order */
    struct pending *cur_req;     /* the request being sent */
    struct pending *cur_resp;    /* the exchange whose response is arriving */
    int64_t req_t, req_m;        /* when the current request's first byte went out */
    int64_t now_t, now_m;        /* time of the bytes being fed */
    int dead;                    /* failed: ignore the rest */
    int upgrading;               /* an h2c upgrade request awaits its answer */
    int resume_failed;           /* the bytes held meanwhile were not HTTP/1.1 */
    struct llm_buf held;         /* client bytes sent meanwhile */
    size_t in_off;               /* LLM_H1CONN_H2C: where HTTP/2 starts in the input */
};

#define HELD_MAX (1u << 20)

/* Does the request offer h2c (Upgrade: h2c and an HTTP2-Settings header)? */
static int offers_h2c(const struct llm_h1_head *h)
{
    size_t n, k;
    const char *v = llm_h1_header(h, "upgrade", &n);

    return v && llm_h1_header(h, "http2-settings", &k) && llm_has_token(v, n, "h2c");
}

static void emit(struct llm_h1conn *s, struct pending *p, const char *why)
{
    struct llm_record r;

    if (p->x) {
        llm_exchange_finish(p->x, why, s->now_t, s->now_m, &r);
        p->x = NULL;
        s->cs->sink(s->cs->ctx, &r);
    }
}

static void pop_front(struct llm_h1conn *s)
{
    struct pending *p = s->head;

    s->head = p->next;
    if (!s->head)
        s->tail = NULL;
    if (s->cur_req == p)
        s->cur_req = NULL;
    if (s->cur_resp == p)
        s->cur_resp = NULL;
    free(p);
}

/* --- request direction --- */

static int req_head(void *ctx, struct llm_h1_head *h)
{
    struct llm_h1conn *s = ctx;
    struct pending *p = calloc(1, sizeof(*p));

    if (!p)
        return 0;
    /* a pipelined request may begin in the bytes that ended the previous one */
    if (!s->req_t) {
        s->req_t = s->now_t;
        s->req_m = s->now_m;
    }
    p->x = llm_exchange_new(h, s->info, s->cs->opts, s->req_t, s->req_m);
    if (p->x && h->truncated) /* headers past LLMOPS_MAX_HEAD were dropped */
        p->x->call.truncated = 1;
    p->is_head = h->method && !strcmp(h->method, "HEAD");
    p->h2c = offers_h2c(h);
    if (s->tail)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
    s->cur_req = p;
    return 0;
}

static void req_body(void *ctx, const char *b, size_t n)
{
    struct llm_h1conn *s = ctx;
    if (s->cur_req && s->cur_req->x)
        llm_exchange_request_body(s->cur_req->x, b, n);
}

static void req_end(void *ctx, int interim)
{
    struct llm_h1conn *s = ctx;
    if (s->cur_req && s->cur_req->x)
        llm_exchange_request_end(s->cur_req->x);
    s->cur_req = NULL;
    s->req_t = 0;
}

static const struct llm_h1_callbacks req_cb = {req_head, req_body, req_end};

static int resume_out(struct llm_h1conn *s);

/* --- response direction: responses come back in request order --- */

static int resp_head(void *ctx, struct llm_h1_head *h)
{
    struct llm_h1conn *s = ctx;
    struct pending *p = s->head;

    s->cur_resp = p;
    if (!p)
        return 0;
    /* a pipelined response may start in the bytes that ended the one before */
    if (p->x && !p->x->m_first_byte)
        p->x->m_first_byte = s->now_m;
    if (p->x && !(h->status >= 100 && h->status < 200)) {
        llm_exchange_response_head(p->x, h);
        if (h->truncated)
            p->x->call.truncated = 1;
    }
    return p->is_head;
}

static void resp_body(void *ctx, const char *b, size_t n)
{
    struct llm_h1conn *s = ctx;
    if (s->cur_resp && s->cur_resp->x) {
        s->cur_resp->x->call.now_mono = s->now_m; /* first-token time */
        llm_exchange_response_body(s->cur_resp->x, b, n);
    }
}

static void resp_end(void *ctx, int interim)
{
    struct llm_h1conn *s = ctx;
    struct pending *p = s->cur_resp;

    if (interim || !p) /* 100 Continue and friends: the real answer follows */
        return;
    /* a final answer to an h2c offer: the connection stays HTTP/1.1, and
     * what the client sent meanwhile are its next requests */
    if (p->h2c && s->upgrading > 0 && resume_out(s) < 0)
        s->resume_failed = 1;
    if (p->x) {
        p->x->call.now_mono = s->now_m;
        llm_exchange_response_end(p->x, s->now_t, s->now_m);
        emit(s, p, NULL);
    }
    if (s->head == p)
        pop_front(s);
    s->cur_resp = NULL;
}

static const struct llm_h1_callbacks resp_cb = {resp_head, resp_body, resp_end};

struct llm_h1conn *llm_h1conn_new(struct llm_conns *cs, const struct llm_open_info *info)
{
    struct llm_h1conn *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->cs = cs;
    s->info = info;
    llm_h1_init(&s->req, 1, &req_cb, s);
    llm_h1_init(&s->resp, 0, &resp_cb, s);
    llm_h1_set_head_max(&s->req, cs->opts ? cs->opts->max_head : 0);
    llm_h1_set_head_max(&s->resp, cs->opts ? cs->opts->max_head : 0);
    llm_buf_init(&s->held, HELD_MAX);
    return s;
}

/* Client bytes: parsed, or held while an h2c offer awaits its answer. */
static int feed_out(struct llm_h1conn *s, const char *p, size_t n)
{
    int used;

    if (s->upgrading > 0)
        return llm_buf_append(&s->held, p, n) ? LLM_EPARSE : 0;
    used = llm_h1_feed(&s->req, p, n);
    if (used < 0)
        return LLM_EPARSE;
    if (!llm_h1_upgraded(&s->req))
        return 0;
    /* CONNECT, websocket: not ours to follow (recorded as before) */
    if (!s->tail || !s->tail->h2c)
        return LLM_EPARSE;
    s->upgrading = 1;
    llm_h1_restart(&s->req);
    return (size_t)used < n ? feed_out(s, p + used, n - (size_t)used) : 0;
}

/* The h2c offer was declined: what the client sent meanwhile is HTTP/1.1. */
static int resume_out(struct llm_h1conn *s)
{
    struct llm_buf b = s->held;
    int rc;

    s->upgrading = 0;
    llm_buf_init(&s->held, HELD_MAX);
    rc = b.len ? feed_out(s, b.p, b.len) : 0;
    llm_buf_free(&b);
    return rc;
}

int llm_h1conn_feed(struct llm_h1conn *s, int kind, const char *p, size_t n, int64_t t, int64_t m)
{
    int used;

    if (s->dead)
        return 0;
    s->now_t = t;
    s->now_m = m;
    if (kind == LLM_MSG_OUT) {
        if (!llm_h1_in_message(&s->req)) { /* a request starts in these bytes */
            s->req_t = t;
            s->req_m = m;
        }
        return feed_out(s, p, n);
    }
    if (s->head && s->head->x && !s->head->x->m_first_byte)
        s->head->x->m_first_byte = m;
    used = llm_h1_feed(&s->resp, p, n);
    if (used < 0)
        return LLM_EPARSE;
    if (s->resume_failed)
        return LLM_EPARSE;
    if (!llm_h1_upgraded(&s->resp))
        return 0;
    if (s->resp.head.status != 101 || !s->head || !s->head->h2c)
        return LLM_EPARSE;
    s->in_off = (size_t)used;
    return LLM_H1CONN_H2C;
}

void llm_h1conn_upgrade(struct llm_h1conn *s, struct llm_exchange **x, const char **out,
                        size_t *out_n, size_t *in_off)
{
    *x = s->head ? s->head->x : NULL;
    if (s->head) {
        s->head->x = NULL;
        pop_front(s);
    }
    *out = s->held.p;
    *out_n = s->held.len;
    *in_off = s->in_off;
    s->dead = 1;
}

void llm_h1conn_fail(struct llm_h1conn *s, const char *why, int64_t t, int64_t m)
{
    s->now_t = t;
    s->now_m = m;
    s->dead = 1;
    while (s->head) {
        emit(s, s->head, why);
        pop_front(s);
    }
}

void llm_h1conn_close(struct llm_h1conn *s, const char *why, int64_t t, int64_t m)
{
    s->now_t = t;
    s->now_m = m;
    if (!s->dead)
        llm_h1_eof(&s->resp); /* completes a close-delimited response */
    llm_h1conn_fail(s, why, t, m);
    llm_h1_free(&s->req);
    llm_h1_free(&s->resp);
    llm_buf_free(&s->held);
    free(s);
}
