/* The client's request (proxy_int.h): its head is read and parsed, then
 * - CONNECT to a host that is not an LLM endpoint (by the CONNECT target,
 *   then by the SNI of the ClientHello): a tunnel, byte for byte;
 * - CONNECT to an LLM host: interception (proxy_mitm.c);
 * - a plain http:// request (absolute form): forwarded in origin form with
 *   "Connection: close"; recorded when it is an LLM call;
 * - anything else: 400. Connection threads. */
#include "proxy_int.h"
#include "classify.h"
#include "err.h"
#include "http1.h"
#include "providers.h"
#include "tlshello.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Waits for the client's first bytes after the tunnel opened and reads the
 * SNI of its ClientHello. Returns 1 for TLS (sni filled, maybe empty), 0
 * for other bytes or a server that speaks first, negative on error. */
static int peek_hello(struct pconn *c, char *sni, size_t n)
{
    unsigned char buf[HEAD_MAX];
    struct pollfd pf[3] = {{.fd = c->c.fd, .events = POLLIN},
                           {.fd = c->u.fd, .events = POLLIN},
                           {.fd = c->p->cut[0], .events = POLLIN}};
    int64_t until = llm_mono_ns() + IO_TIMEOUT_MS * 1000000LL;

    sni[0] = '\0';
    for (;;) {
        int64_t left = (until - llm_mono_ns()) / 1000000;
        int r = poll(pf, 3, left > 0 ? (int)left : 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || pf[2].revents)
            return -ETIMEDOUT;
        if (pf[1].revents && !pf[0].revents)
            return 0;
        ssize_t got = recv(c->c.fd, buf, sizeof(buf), MSG_PEEK);
        if (got <= 0)
            return got < 0 && errno == EAGAIN ? 0 : -ECONNRESET;
        if (buf[0] != 0x16)
            return 0;
        r = llm_tls_sni(buf, (size_t)got, sni, n);
        if (r != LLM_EPARTIAL || got == (ssize_t)sizeof(buf))
            return 1;
        /* the rest of the ClientHello is on its way */
        pf[1].fd = -1;
        poll(NULL, 0, 5);
    }
}

static int split_authority(const char *a, char *host, size_t n, int *port)
{
    const char *colon;
    char *end;

    if (*a == '[') {
        const char *rb = strchr(a, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - a - 1) >= n)
            return LLM_EPARSE;
        snprintf(host, n, "%.*s", (int)(rb - a - 1), a + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(a, ':');
        if (!colon || colon == a || (size_t)(colon - a) >= n)
            return LLM_EPARSE;
        snprintf(host, n, "%.*s", (int)(colon - a), a);
    }
    long v = strtol(colon + 1, &end, 10);
    if (*end || v < 1 || v > 65535)
        return LLM_EPARSE;
    *port = (int)v;
    for (const char *h = host; *h; h++)
        if (*h <= ' ' || *h == '/' || *h == '@')
            return LLM_EPARSE;
    return 0;
}

static void do_connect(struct pconn *c, const char *target)
{
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    char sni[256];
    int rc;

    if (split_authority(target, c->host, sizeof(c->host), &c->port)) {
        llm_proxy_say(c, 400, "Bad Request", "bad CONNECT target '%.200s'", target);
        return;
    }
    if ((rc = llm_proxy_dial(c, c->host, c->port))) {
        llm_proxy_say(c, 502, "Bad Gateway", "cannot connect to %s:%d: %s", c->host, c->port,
                      strerror(-rc));
        return;
    }
    if (llm_proxy_side_write(c->p, &c->c, ok, sizeof(ok) - 1))
        return;
    /* bytes the client sent after the CONNECT head, before our answer */
    int llm = llm_provider_for_host(c->host, strlen(c->host)) != NULL;
    rc = c->hlen ? 0 : peek_hello(c, sni, sizeof(sni));
    if (rc < 0)
        return;
    if (rc == 1 && sni[0] && llm_provider_for_host(sni, strlen(sni)))
        snprintf(c->name, sizeof(c->name), "%s", sni), llm = 1;
    else if (llm)
        snprintf(c->name, sizeof(c->name), "%s", c->host);
    if (!llm || c->hlen) {
        if (c->hlen && llm_proxy_side_write(c->p, &c->u, c->head, c->hlen))
            return;
        llm_proxy_relay(c);
        return;
    }
    if (rc != 1) {
        /* an LLM host on a TLS tunnel, and the client does not speak TLS:
         * take its bytes first, so that closing does not reset the answer */
        while (recv(c->c.fd, c->head, HEAD_MAX, 0) > 0)
            ;
        llm_proxy_say(c, 400, "Bad Request", "expected TLS to %s", c->name);
        return;
    }
    llm_proxy_intercept(c);
}

/* ---- plain http:// requests ---- */

struct head_ctx {
    struct pconn *c;
    int done, plain_ok;
    char method[24], url[4096];
    char out[HEAD_MAX + 256]; /* the request in origin form */
    size_t out_len;
    char host[256];
    int port;
};

static int hop_by_hop(const char *name, size_t n)
{
    static const char *const drop[] = {"connection", "proxy-connection", "keep-alive",
                                       "proxy-authorization", "proxy-authenticate"};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        if (strlen(drop[i]) == n && !strncasecmp(drop[i], name, n))
            return 1;
    return 0;
}

/* Rewrites an absolute-form request head to origin form for the upstream. */
static void origin_form(struct head_ctx *hc, struct llm_h1_head *h)
{
    struct http_parser_url u;
    const char *url = h->url;
    size_t used;

    http_parser_url_init(&u);
    if (http_parser_parse_url(url, strlen(url), 0, &u) || !(u.field_set & (1 << UF_SCHEMA)) ||
        !(u.field_set & (1 << UF_HOST)) || u.field_data[UF_SCHEMA].len != 4 ||
        strncasecmp(url + u.field_data[UF_SCHEMA].off, "http", 4) ||
        u.field_data[UF_HOST].len >= sizeof(hc->host))
        return;
    snprintf(hc->host, sizeof(hc->host), "%.*s", (int)u.field_data[UF_HOST].len,
             url + u.field_data[UF_HOST].off);
    hc->port = (u.field_set & (1 << UF_PORT)) ? u.port : 80;
    const char *path = (u.field_set & (1 << UF_PATH)) ? url + u.field_data[UF_PATH].off : "/";
    used = (size_t)snprintf(hc->out, sizeof(hc->out), "%s %s HTTP/%d.%d\r\n", h->method, path,
                            h->http_major, h->http_minor);
    for (size_t i = 0; i < h->nheaders && used < sizeof(hc->out); i++) {
        const struct llm_h1_header *hd = &h->headers[i];
        if (hop_by_hop(h->raw.p + hd->name, hd->name_len))
            continue;
        used += (size_t)snprintf(hc->out + used, sizeof(hc->out) - used, "%.*s: %.*s\r\n",
                                 (int)hd->name_len, h->raw.p + hd->name, (int)hd->value_len,
                                 h->raw.p + hd->value);
    }
    if (used < sizeof(hc->out))
        used +=
            (size_t)snprintf(hc->out + used, sizeof(hc->out) - used, "Connection: close\r\n\r\n");
    if (used < sizeof(hc->out) && !h->truncated) {
        hc->out_len = used;
        hc->plain_ok = 1;
    }
}

static int on_head(void *ctx, struct llm_h1_head *h)
{
    struct head_ctx *hc = ctx;

    hc->done = 1;
    snprintf(hc->method, sizeof(hc->method), "%s", h->method ? h->method : "");
    snprintf(hc->url, sizeof(hc->url), "%s", h->url ? h->url : "");
    if (strcmp(hc->method, "CONNECT"))
        origin_form(hc, h);
    return 0;
}

static void on_body(void *ctx, const char *p, size_t n)
{
    (void)ctx, (void)p, (void)n;
}

static void on_end(void *ctx, int interim)
{
    (void)ctx, (void)interim;
}

static void do_plain(struct pconn *c, struct head_ctx *hc)
{
    int rc;

    snprintf(c->host, sizeof(c->host), "%s", hc->host);
    snprintf(c->name, sizeof(c->name), "%s", hc->host);
    c->port = hc->port;
    if ((rc = llm_proxy_dial(c, c->host, c->port))) {
        llm_proxy_say(c, 502, "Bad Gateway", "cannot connect to %s:%d: %s", c->host, c->port,
                      strerror(-rc));
        return;
    }
    if (llm_classify(hc->out, hc->out_len, NULL, NULL) == LLM_CLASS_LLM)
        llm_proxy_record_open(c, 0);
    if (llm_proxy_side_write(c->p, &c->u, hc->out, hc->out_len) ||
        (c->hlen && llm_proxy_side_write(c->p, &c->u, c->head, c->hlen)))
        return;
    llm_proxy_record(c, LLM_MSG_OUT, hc->out, hc->out_len);
    llm_proxy_record(c, LLM_MSG_OUT, c->head, c->hlen);
    llm_proxy_relay(c);
}

/* ---- one client connection ---- */

static const struct llm_h1_callbacks head_cb = {on_head, on_body, on_end};

/* Reads the request head; leaves the bytes after it in c->head. */
static int read_head(struct pconn *c, struct head_ctx *hc)
{
    char *end = NULL;
    struct llm_h1 h1;

    while (!end) {
        if (c->hlen == HEAD_MAX)
            return LLM_ETOOBIG;
        ssize_t n = recv(c->c.fd, c->head + c->hlen, HEAD_MAX - c->hlen, 0);
        if (n == 0)
            return -ECONNRESET;
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                return -errno;
            int rc = llm_proxy_wait_fd(c->p, c->c.fd, POLLIN, IO_TIMEOUT_MS);
            if (rc)
                return rc;
            continue;
        }
        c->hlen += (size_t)n;
        c->head[c->hlen] = '\0';
        if (c->head[0] < 'A' || c->head[0] > 'Z')
            return LLM_EPARSE; /* not a request line: TLS to a proxy URL that says http */
        end = memmem(c->head, c->hlen, "\r\n\r\n", 4);
    }
    size_t hl = (size_t)(end + 4 - c->head);
    llm_h1_init(&h1, 1, &head_cb, hc);
    int rc = llm_h1_feed(&h1, c->head, hl);
    llm_h1_free(&h1);
    if (rc < 0 || !hc->done)
        return LLM_EPARSE;
    memmove(c->head, c->head + hl, c->hlen - hl);
    c->hlen -= hl;
    return 0;
}

void llm_proxy_serve(struct pconn *c)
{
    struct head_ctx *hc = calloc(1, sizeof(*hc));
    int rc;

    if (!hc)
        return;
    hc->c = c;
    rc = read_head(c, hc);
    if (rc == LLM_ETOOBIG)
        llm_proxy_say(c, 431, "Request Header Fields Too Large", "request head over %d bytes",
                      HEAD_MAX);
    else if (rc == LLM_EPARSE)
        llm_proxy_say(c, 400, "Bad Request", "not an HTTP proxy request");
    else if (rc)
        ;
    else if (!strcmp(hc->method, "CONNECT"))
        do_connect(c, hc->url);
    else if (hc->plain_ok)
        do_plain(c, hc);
    else
        llm_proxy_say(c, 400, "Bad Request", "this is a proxy: expected CONNECT or an http:// URL");
    free(hc);
}
