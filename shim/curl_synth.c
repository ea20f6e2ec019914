/* One libcurl transfer as an HTTP/1.1 exchange for the tap (app threads:
 * whichever thread drives the transfer, one at a time per handle).
 *
 * The collector parses HTTP/1.1 byte streams, and curl hands the app
 * decoded data whatever the wire was (HTTP/2, TLS library, compression,
 * chunking), so we write the exchange the app saw, on the handle's own tap
 * key: the request head as curl will send it (method, path, Host, the app's
 * headers) and the body, when the connection is ready (the prereq callback,
 * else the first callback of the response); then the final response head
 * with curl's framing headers replaced by our own chunked framing, and each
 * piece of body the app's write callback accepted as one chunk. The
 * terminating chunk goes out only when curl reports success, so a transfer
 * that failed or was abandoned is recorded as incomplete. Content-Encoding
 * stays when curl did not decode the body (the collector decodes it then).
 * A transfer that is not HTTP, or not an LLM call, is closed on the tap
 * after its head and passed through from then on. */
#include "curl_state.h"
#include "shim.h"
#include "tap.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEAD_CAP 65536                     /* request or response head bytes we build */
#define SCRATCH (CURL_MAX_WRITE_SIZE + 32) /* one body chunk with its framing */

static uintptr_t key_of(const struct llm_curl *st)
{
    return (uintptr_t)st | 1;
}

static void describe_curl(uintptr_t key, struct llm_open_info *info)
{
    const struct llm_curl *st = (const struct llm_curl *)(key & ~(uintptr_t)1);

    info->tls = st->tls;
    info->port = st->port;
}

/* Taps run with the guard up (a collector start must not tap itself) and
 * leave errno as they found it. */
static void tap(struct llm_curl *st, int dir, const void *p, size_t n)
{
    int saved_errno = errno, saved_hook = llm_in_hook;

    llm_in_hook = saved_hook ? saved_hook : 1;
    llm_tap_data(key_of(st), dir, p, n, LLM_CAPTURE_LIBCURL, describe_curl);
    llm_in_hook = saved_hook;
    errno = saved_errno;
    st->tapped = 1;
}

static void tap_chunk(struct llm_curl *st, int dir, const char *p, size_t n)
{
    char line[24];
    int k = snprintf(line, sizeof(line), "%zx\r\n", n);

    if (!st->scratch)
        st->scratch = malloc(SCRATCH);
    if (st->scratch && n + (size_t)k + 2 <= SCRATCH) {
        memcpy(st->scratch, line, (size_t)k);
        memcpy(st->scratch + k, p, n);
        memcpy(st->scratch + k + n, "\r\n", 2);
        tap(st, dir, st->scratch, (size_t)k + n + 2);
    } else {
        tap(st, dir, line, (size_t)k);
        tap(st, dir, p, n);
        tap(st, dir, "\r\n", 2);
    }
}

static int add(struct llm_sbuf *b, const char *p, size_t n)
{
    if (b->len + n > HEAD_CAP)
        return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        char *q;
        while (cap < b->len + n)
            cap *= 2;
        if (!(q = realloc(b->p, cap)))
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int adds(struct llm_sbuf *b, const char *s)
{
    return add(b, s, strlen(s));
}

static const char *method_name(const struct llm_curl *st)
{
    static const char *const names[] = {"GET", "POST", "POST", "PUT", "HEAD"};
    return st->custom && *st->custom ? st->custom : names[st->method];
}

/* The app's HTTPHEADER lines as curl sends them, less the framing ones we
 * replace; "Name:" (remove a curl header) and lines without a colon go. */
static int add_app_headers(struct llm_curl *st, int *has_host, int *has_type)
{
    int rc = 0;

    for (const struct curl_slist *l = st->headers; l && !rc; l = l->next) {
        const char *h = l->data, *colon = h ? strchr(h, ':') : NULL, *v;
        size_t nl;
        if (!colon)
            continue;
        nl = (size_t)(colon - h);
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        if (!*v)
            continue;
#define IS(name) (nl == sizeof(name) - 1 && !strncasecmp(h, name, nl))
        if (IS("content-length") || IS("transfer-encoding") || IS("expect") || IS("connection"))
            continue;
        *has_host |= IS("host");
        *has_type |= IS("content-type");
#undef IS
        rc = adds(&st->head, h) || add(&st->head, "\r\n", 2);
    }
    return rc;
}

/* Builds the request head into st->head; the body to send after it, if
 * any, in *body. -1: not an HTTP transfer we can describe. */
static int build_request(struct llm_curl *st, const char **body, size_t *blen)
{
    char *url = NULL, num[48];
    const char *auth, *rest, *at;
    size_t alen;
    int has_host = 0, has_type = 0, rc;

    if (!real_curl.curl_easy_getinfo ||
        real_curl.curl_easy_getinfo(st->h, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url)
        return -1;
    if (!strncasecmp(url, "http://", 7))
        st->tls = 0, auth = url + 7;
    else if (!strncasecmp(url, "https://", 8))
        st->tls = 1, auth = url + 8;
    else
        return -1;
    alen = strcspn(auth, "/?#");
    rest = auth + alen;
    at = memrchr(auth, '@', alen); /* user:password never leaves curl */
    if (at) {
        alen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    st->is_head = !strcmp(method_name(st), "HEAD");
    rc = adds(&st->head, method_name(st)) || add(&st->head, " ", 1) ||
         (*rest != '/' && add(&st->head, "/", 1)) || add(&st->head, rest, strcspn(rest, "#")) ||
         adds(&st->head, " HTTP/1.1\r\n") || add_app_headers(st, &has_host, &has_type);
    if (!rc && !has_host)
        rc = adds(&st->head, "Host: ") || add(&st->head, auth, alen) || adds(&st->head, "\r\n");
    *body = NULL;
    *blen = 0;
    if (st->method == LLM_M_POST && st->postfields) {
        *body = st->postfields;
        *blen = st->postsize >= 0 ? (size_t)st->postsize : strlen(st->postfields);
        if (!has_type)
            rc = rc || adds(&st->head, "Content-Type: application/x-www-form-urlencoded\r\n");
        snprintf(num, sizeof(num), "Content-Length: %zu\r\n", *blen);
        rc = rc || adds(&st->head, num);
    } else if ((st->method == LLM_M_POST || st->method == LLM_M_PUT) && st->read_installed) {
        rc = rc || adds(&st->head, "Transfer-Encoding: chunked\r\n");
        st->req_chunked_open = !rc;
    } else if (st->method != LLM_M_GET && st->method != LLM_M_HEAD) {
        rc = rc || adds(&st->head, "Content-Length: 0\r\n"); /* a form or stdin: unseen */
    }
    return rc || add(&st->head, "\r\n", 2) ? -1 : 0;
}

static void emit_request(struct llm_curl *st)
{
    const char *body;
    size_t blen;
    long port = 0;

    st->req_sent = 1;
    st->head.len = 0;
    if (build_request(st, &body, &blen)) {
        st->skip = 1;
        st->req_chunked_open = 0;
        return;
    }
    if (!st->port && real_curl.curl_easy_getinfo &&
        real_curl.curl_easy_getinfo(st->h, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK)
        st->port = (int)port;
    tap(st, LLM_DIR_OUT, st->head.p, st->head.len);
    st->head.len = 0;
    if (!llm_tap_watched(key_of(st))) {
        st->skip = 1;
        return;
    }
    if (blen)
        tap(st, LLM_DIR_OUT, body, blen);
}

static void end_request_body(struct llm_curl *st)
{
    if (st->req_chunked_open) {
        st->req_chunked_open = 0;
        tap(st, LLM_DIR_OUT, "0\r\n\r\n", 5);
    }
}

static void send_head(struct llm_curl *st)
{
    end_request_body(st);
    st->resp_chunked = !st->is_head && st->status != 204 && st->status != 304;
    if (add(&st->head, st->resp_chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "\r\n",
            st->resp_chunked ? 30 : 2)) {
        st->skip = 1; /* cannot happen: header lines stop short of the cap */
        return;
    }
    tap(st, LLM_DIR_IN, st->head.p, st->head.len);
    st->head.len = 0;
    st->resp = LLM_RESP_SENT;
}

/* "HTTP/x[.y] NNN reason": restart the head in HTTP/1.1 syntax, keeping
 * the major version curl spoke on the wire (HTTP/2 and 3 become "2.0" and
 * "3.0", which the parser reads and the record reports as "2" and "3"). */
static void status_line(struct llm_curl *st, const char *p, size_t n)
{
    const char *sp = memchr(p, ' ', n), *end = p + n, *reason;
    char line[64];
    int k;

    while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
        end--;
    st->status = 0;
    if (sp && end - sp >= 4 && isdigit((unsigned char)sp[1]) && isdigit((unsigned char)sp[2]) &&
        isdigit((unsigned char)sp[3]))
        st->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
    if (st->status < 100) {
        st->status = 0;
        st->resp = LLM_RESP_NONE;
        return;
    }
    reason = sp + 4 < end ? sp + 4 : end;
    st->head.len = 0;
    k = snprintf(line, sizeof(line), "HTTP/%s %d",
                 n > 6 && (p[5] == '2' || p[5] == '3') && p[6] != '.' ? (p[5] == '2' ? "2.0" : "3.0")
                                                                     : "1.1",
                 st->status);
    if (add(&st->head, line, (size_t)k) || add(&st->head, reason, (size_t)(end - reason)) ||
        add(&st->head, "\r\n", 2)) {
        st->resp = LLM_RESP_NONE;
        return;
    }
    st->resp = LLM_RESP_COLLECT;
    st->drop_cont = 0;
}

static int dropped_header(const struct llm_curl *st, const char *p, size_t n)
{
    const char *colon = memchr(p, ':', n);
    size_t nl = colon ? (size_t)(colon - p) : 0;

#define IS(name) (nl == sizeof(name) - 1 && !strncasecmp(p, name, nl))
    return IS("content-length") || IS("transfer-encoding") || IS("connection") ||
           IS("keep-alive") || (IS("content-encoding") && st->accept_encoding && !st->no_decoding);
#undef IS
}

/* One header line as the app's header callback accepted it. */
void llm_curl_on_header(struct llm_curl *st, const char *p, size_t n)
{
    if (!st->active || st->skip || st->resp == LLM_RESP_SENT || !n)
        return;
    if (!st->req_sent) {
        if (!st->no_prereq) /* a proxy's answer to CONNECT, before our request */
            return;
        emit_request(st);
        if (st->skip)
            return;
    }
    if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
        status_line(st, p, n);
        return;
    }
    if (st->resp != LLM_RESP_COLLECT)
        return;
    if (p[0] == '\r' || p[0] == '\n') { /* the end of this response's head */
        if (st->status < 200)
            st->resp = LLM_RESP_NONE; /* 1xx: the real answer follows */
        else if ((st->status >= 300 && st->status < 400) || st->status == 401 || st->status == 407)
            st->resp = LLM_RESP_HELD; /* curl may follow it or retry with auth */
        else
            send_head(st);
        return;
    }
    if (p[0] == ' ' || p[0] == '\t') {
        if (!st->drop_cont && st->head.len + n + 64 <= HEAD_CAP)
            add(&st->head, p, n);
        return;
    }
    st->drop_cont = dropped_header(st, p, n);
    if (!st->drop_cont && st->head.len + n + 64 <= HEAD_CAP)
        add(&st->head, p, n);
}

/* Body bytes the app's write callback took. */
void llm_curl_on_body(struct llm_curl *st, const char *p, size_t n)
{
    if (!st->active || st->skip || !n)
        return;
    /* with CURLOPT_HEADER the head reaches the write callback too: only
     * bytes after the final head are body */
    if (st->resp == LLM_RESP_HELD && !st->include_header)
        send_head(st);
    if (st->resp == LLM_RESP_SENT && st->resp_chunked)
        tap_chunk(st, LLM_DIR_IN, p, n);
}

/* Request body bytes the app's read callback gave (0: the end). */
void llm_curl_on_read(struct llm_curl *st, const char *p, size_t n)
{
    if (!st->active || st->skip)
        return;
    if (!st->req_sent)
        emit_request(st);
    if (st->skip || !st->req_chunked_open)
        return;
    if (n)
        tap_chunk(st, LLM_DIR_OUT, p, n);
    else
        end_request_body(st);
}

/* The connection is ready and the request about to go out. */
void llm_curl_on_prereq(struct llm_curl *st, int port)
{
    if (st->active && !st->req_sent && !st->skip) {
        st->port = port;
        emit_request(st);
    }
}

void llm_curl_begin(struct llm_curl *st, CURLM *multi)
{
    if (st->active)
        llm_curl_finish(st, 0, CURLE_OK);
    st->multi = multi;
    st->multi_idle = 0;
    st->tapped = st->skip = st->req_sent = st->req_chunked_open = 0;
    st->status = st->resp_chunked = st->drop_cont = st->is_head = 0;
    st->resp = LLM_RESP_NONE;
    st->tls = st->port = 0;
    st->head.len = 0;
    if (!st->installed)
        llm_curl_install(st);
    st->active = 1;
    if (multi)
        __atomic_fetch_add(&llm_curl_multi_active, 1, __ATOMIC_RELAXED);
}

void llm_curl_finish(struct llm_curl *st, int known, CURLcode result)
{
    int saved_errno = errno, saved_hook = llm_in_hook, ok;

    if (!st->active)
        return;
    st->active = 0;
    if (st->multi)
        __atomic_fetch_sub(&llm_curl_multi_active, 1, __ATOMIC_RELAXED);
    /* not told: a transfer whose multi went idle ran to its end */
    ok = known ? result == CURLE_OK : st->multi && st->multi_idle;
    if (st->tapped && !st->skip && ok) {
        if (st->resp == LLM_RESP_HELD)
            send_head(st);
        if (st->resp == LLM_RESP_SENT && st->resp_chunked)
            tap(st, LLM_DIR_IN, "0\r\n\r\n", 5);
    }
    if (st->tapped) {
        llm_in_hook = saved_hook ? saved_hook : 1;
        llm_tap_close(key_of(st));
        llm_in_hook = saved_hook;
    }
    st->tapped = 0;
    st->multi = NULL;
    st->head.len = 0;
    errno = saved_errno;
}
