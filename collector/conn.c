/* Connection state machine. Requests create exchanges in order; response
 * heads pair with the oldest exchange that has none. Requests that are not
 * LLM calls get a placeholder (NULL exchange) so pairing stays right on a
 * keep-alive connection that mixes them. A gap in the captured bytes
 * (LLM_MSG_F_LOST) ends parsing for that connection: its open exchanges are
 * recorded as incomplete ("capture_lost") and later bytes are ignored.
 * Collector thread. */
#include "conn.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

struct pending {
    struct pending *next;
    struct llm_exchange *x; /* NULL: not an LLM call */
    int is_head;            /* the request was HEAD: its response has no body */
};

struct llm_conn {
    struct llm_conn *next;
    struct llm_conns *cs;
    uint64_t id;
    struct llm_open_info info;
    struct llm_h1 req, resp;
    struct pending *head, *tail; /* exchanges in request order */
    struct pending *cur_req;     /* the request being sent */
    struct pending *cur_resp;    /* the exchange whose response is arriving */
    int64_t req_t, req_m;        /* when the current request's first byte went out */
    int64_t now_t, now_m;        /* time of the message being fed */
    int dead;                    /* a parse error or lost bytes: ignore the rest */
};

static struct llm_conn **slot(struct llm_conns *cs, uint64_t id)
{
    struct llm_conn **pp = &cs->buckets[id & 255];
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    return pp;
}

static void emit(struct llm_conn *c, struct pending *p, const char *why)
{
    struct llm_record r;

    if (p->x) {
        llm_exchange_finish(p->x, why, c->now_t, c->now_m, &r);
        p->x = NULL;
        c->cs->sink(c->cs->ctx, &r);
    }
}

static void pop_front(struct llm_conn *c)
{
    struct pending *p = c->head;

    c->head = p->next;
    if (!c->head)
        c->tail = NULL;
    if (c->cur_req == p)
        c->cur_req = NULL;
    if (c->cur_resp == p)
        c->cur_resp = NULL;
    free(p);
}

/* --- request direction --- */

static int req_head(void *ctx, struct llm_h1_head *h)
{
    struct llm_conn *c = ctx;
    struct pending *p = calloc(1, sizeof(*p));

    if (!p)
        return 0;
    /* a pipelined request may begin in the bytes that ended the previous one */
    if (!c->req_t) {
        c->req_t = c->now_t;
        c->req_m = c->now_m;
    }
    p->x = llm_exchange_new(h, &c->info, c->cs->opts, c->req_t, c->req_m);
    p->is_head = h->method && !strcmp(h->method, "HEAD");
    if (c->tail)
        c->tail->next = p;
    else
        c->head = p;
    c->tail = p;
    c->cur_req = p;
    return 0;
}

static void req_body(void *ctx, const char *b, size_t n)
{
    struct llm_conn *c = ctx;
    if (c->cur_req && c->cur_req->x)
        llm_exchange_request_body(c->cur_req->x, b, n);
}

static void req_end(void *ctx, int interim)
{
    struct llm_conn *c = ctx;
    if (c->cur_req && c->cur_req->x)
        llm_exchange_request_end(c->cur_req->x);
    c->cur_req = NULL;
    c->req_t = 0;
}

static const struct llm_h1_callbacks req_cb = {req_head, req_body, req_end};

/* --- response direction --- */

static struct pending *awaiting(struct llm_conn *c)
{
    struct pending *p = c->head;
    /* the oldest exchange: responses come back in request order */
    return p;
}

static int resp_head(void *ctx, struct llm_h1_head *h)
{
    struct llm_conn *c = ctx;
    struct pending *p = awaiting(c);

    c->cur_resp = p;
    if (!p)
        return 0;
    if (p->x && !(h->status >= 100 && h->status < 200))
        llm_exchange_response_head(p->x, h);
    return p->is_head;
}

static void resp_body(void *ctx, const char *b, size_t n)
{
    struct llm_conn *c = ctx;
    if (c->cur_resp && c->cur_resp->x) {
        c->cur_resp->x->call.now_mono = c->now_m; /* first-token time */
        llm_exchange_response_body(c->cur_resp->x, b, n);
    }
}

static void resp_end(void *ctx, int interim)
{
    struct llm_conn *c = ctx;
    struct pending *p = c->cur_resp;

    if (interim || !p) /* 100 Continue and friends: the real answer follows */
        return;
    if (p->x) {
        p->x->call.now_mono = c->now_m;
        llm_exchange_response_end(p->x, c->now_t, c->now_m);
        emit(c, p, NULL);
    }
    if (c->head == p)
        pop_front(c);
    c->cur_resp = NULL;
}

static const struct llm_h1_callbacks resp_cb = {resp_head, resp_body, resp_end};

void llm_conns_init(struct llm_conns *cs, const struct llm_core_opts *opts, llm_record_sink sink,
                    void *ctx)
{
    memset(cs, 0, sizeof(*cs));
    cs->opts = opts;
    cs->sink = sink;
    cs->ctx = ctx;
}

static void conn_end(struct llm_conns *cs, struct llm_conn *c, const char *why)
{
    if (!c->dead)
        llm_h1_eof(&c->resp); /* completes a close-delimited response */
    while (c->head) {
        emit(c, c->head, why);
        pop_front(c);
    }
    llm_h1_free(&c->req);
    llm_h1_free(&c->resp);
    *slot(cs, c->id) = c->next;
    cs->count--;
    free(c);
}

static void mark_dead(struct llm_conn *c, const char *why)
{
    c->dead = 1;
    while (c->head) {
        emit(c, c->head, why);
        pop_front(c);
    }
}

void llm_conns_feed(struct llm_conns *cs, const struct llm_msg *m)
{
    struct llm_conn **pp = slot(cs, m->conn), *c = *pp;

    if (m->kind == LLM_MSG_OPEN) {
        if (c) /* an id is never reused; a second OPEN would be a bug upstream */
            return;
        c = calloc(1, sizeof(*c));
        if (!c)
            return;
        c->cs = cs;
        c->id = m->conn;
        if (m->len == sizeof(c->info))
            memcpy(&c->info, m->data, sizeof(c->info));
        llm_h1_init(&c->req, 1, &req_cb, c);
        llm_h1_init(&c->resp, 0, &resp_cb, c);
        *pp = c;
        cs->count++;
        return;
    }
    if (!c)
        return;
    c->now_t = m->ts_ns;
    c->now_m = m->mono_ns;
    if ((m->flags & LLM_MSG_F_LOST) && !c->dead)
        mark_dead(c, "capture_lost");
    switch (m->kind) {
    case LLM_MSG_OUT:
        if (c->dead)
            break;
        if (!llm_h1_in_message(&c->req)) { /* a request starts in these bytes */
            c->req_t = m->ts_ns;
            c->req_m = m->mono_ns;
        }
        if (llm_h1_feed(&c->req, m->data, m->len) < 0) {
            llm_log("conn %llu: request stream is not HTTP/1.1; dropping it",
                    (unsigned long long)c->id);
            mark_dead(c, "parse_error");
        }
        break;
    case LLM_MSG_IN:
        if (c->dead)
            break;
        if (c->head && c->head->x && !c->head->x->m_first_byte)
            c->head->x->m_first_byte = m->mono_ns;
        if (llm_h1_feed(&c->resp, m->data, m->len) < 0) {
            llm_log("conn %llu: response stream is not HTTP/1.1; dropping it",
                    (unsigned long long)c->id);
            mark_dead(c, "parse_error");
        }
        break;
    case LLM_MSG_CLOSE:
        conn_end(cs, c, "connection_closed");
        break;
    }
}

void llm_conns_close_all(struct llm_conns *cs, const char *why, int64_t t, int64_t mono)
{
    for (int i = 0; i < 256; i++) {
        while (cs->buckets[i]) {
            struct llm_conn *c = cs->buckets[i];
            c->now_t = t;
            c->now_m = mono;
            conn_end(cs, c, why);
        }
    }
}

void llm_conns_forget(struct llm_conns *cs)
{
    memset(cs->buckets, 0, sizeof(cs->buckets));
    cs->count = 0;
}
