/* The recording proxy of `llmops run`: an HTTP proxy on 127.0.0.1 for the
 * programs no hook can reach.
 *
 * Threads: one accept thread, and one thread per client connection (small
 * stacks; the work per connection is two sockets and a poll loop). The
 * collector thread (writer.c) consumes what they queue.
 *
 * What a connection gets:
 * - CONNECT to a host that is not an LLM endpoint (by the CONNECT target,
 *   then by the SNI of the ClientHello): a tunnel, byte for byte.
 * - CONNECT to an LLM host: TLS on both sides. The client's ClientHello
 *   decides the upstream handshake (same SNI, the ALPN protocols it offers
 *   among h2 and http/1.1), and the client is then given what the upstream
 *   chose, with a leaf certificate from our CA. The decrypted bytes are
 *   mirrored unchanged between the two (both speak the same protocol), and a
 *   copy of each chunk goes to the collector after the chunk was forwarded,
 *   so streams pass through as they arrive and HTTP/1.1 and HTTP/2 are
 *   parsed by the same code as the shim's captures.
 * - A plain http:// request (absolute form): forwarded in origin form with
 *   "Connection: close"; recorded when it is an LLM call.
 * Failures answer as the network would: 502 with a body naming the cause
 * when the upstream cannot be reached, a reset when the upstream resets, a
 * 400 for what is not a proxy request, a TLS alert when the upstream
 * handshake fails. */
#include "proxy.h"
#include "classify.h"
#include "err.h"
#include "http1.h"
#include "log.h"
#include "peer.h"
#include "providers.h"
#include "queue.h"
#include "tlshello.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define IO_TIMEOUT_MS 30000 /* a handshake or a blocked write */
#define CONNECT_TIMEOUT_MS 15000
#define GRACE_MS 1500 /* the upstream's last bytes after the client hung up, */
#define QUIET_MS 200  /* or until it has been quiet this long */
#define CHUNK 16384

struct llm_proxy {
    int lfd, port;
    int stop_accept[2], cut[2]; /* pipes: stop accepting; end every connection */
    pthread_t acceptor;
    int acceptor_started;
    struct llm_proxy_ca *ca;
    SSL_CTX *client_ctx, *up_ctx;
    struct llm_queue *q;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int active;
    int up_trust_loaded;
    int capture_content;
    pid_t root; /* CMD, once forked (atomic) */
    char rundir[PATH_MAX], bundle[PATH_MAX + 16], certdir[2 * PATH_MAX + 32];
};

struct side {
    int fd;
    SSL *ssl;
};

struct pconn {
    struct llm_proxy *p;
    struct side c, u;
    char host[256], name[256]; /* CONNECT target; the name intercepted */
    int port;
    uint64_t id;            /* collector connection, 0 when not recorded */
    int lost;               /* a copy was dropped (queue full) */
    int up_err;             /* errno of a failed upstream connect/handshake */
    unsigned char alpn[64]; /* what the client offered, wire format */
    size_t alpn_len;
    char head[HEAD_MAX + 1];
    size_t hlen;
};

static uint64_t next_conn_id;
static int conn_index = -1; /* SSL ex_data slot for struct pconn */

/* ---- plain I/O helpers ---- */

static int wait_fd(struct llm_proxy *p, int fd, short ev, int ms)
{
    struct pollfd pf[2] = {{.fd = fd, .events = ev}, {.fd = p->cut[0], .events = POLLIN}};
    int r;

    do
        r = poll(pf, 2, ms);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return -ETIMEDOUT;
    if (r < 0)
        return -errno;
    if (pf[1].revents)
        return -ECANCELED;
    return 0;
}

/* Returns bytes read, 0 at the end, -EAGAIN, or another negative errno. */
static ssize_t side_read(struct side *s, void *buf, size_t n)
{
    if (!s->ssl) {
        ssize_t r = recv(s->fd, buf, n, 0);
        return r >= 0 ? r : errno == EINTR ? -EAGAIN : -errno;
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(s->ssl, buf, (int)n);
    if (r > 0)
        return r;
    switch (SSL_get_error(s->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        return errno ? -errno : 0; /* EOF without close_notify: an end too */
    default:
        return -EPROTO;
    }
}

static int side_write(struct llm_proxy *p, struct side *s, const char *buf, size_t n)
{
    while (n) {
        ssize_t w;
        short ev = POLLOUT;
        if (s->ssl) {
            ERR_clear_error();
            int r = SSL_write(s->ssl, buf, (int)(n > INT_MAX ? INT_MAX : n));
            if (r > 0) {
                w = r;
            } else {
                int e = SSL_get_error(s->ssl, r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                    return e == SSL_ERROR_SYSCALL && errno ? -errno : -EPIPE;
                ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
                w = -1;
            }
        } else {
            w = send(s->fd, buf, n, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                return -errno;
        }
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        int rc = wait_fd(p, s->fd, ev, IO_TIMEOUT_MS);
        if (rc)
            return rc;
    }
    return 0;
}

static void say(struct pconn *c, int status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A short plain-text answer to the client (proxy errors). */
static void say(struct pconn *c, int status, const char *reason, const char *fmt, ...)
{
    char body[512], msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    int n = snprintf(msg, sizeof(msg),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\nllmops run: %s\n",
                     status, reason, strlen(body) + 13, body);
    side_write(c->p, &c->c, msg, (size_t)n);
}

/* Resets the connection on close (mirrors an upstream reset). */
static void set_reset(int fd)
{
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* LLMOPS_CONNECT_TO="HOST:PORT:ADDR:APORT,...": connect there instead
 * (curl's --connect-to; names and certificates stay HOST's). */
static void connect_to(const char *host, int port, char *addr, size_t n, int *aport)
{
    const char *spec = getenv("LLMOPS_CONNECT_TO");
    char want[300];
    size_t wl;

    if (!spec || !*spec)
        return;
    wl = (size_t)snprintf(want, sizeof(want), "%s:%d:", host, port);
    for (const char *e = spec; e && *e; e = strchr(e, ',') ? strchr(e, ',') + 1 : NULL) {
        const char *end = strchr(e, ',');
        size_t len = end ? (size_t)(end - e) : strlen(e);
        if (len <= wl || strncasecmp(e, want, wl))
            continue;
        const char *rest = e + wl, *colon = memrchr(rest, ':', len - wl);
        if (!colon || (size_t)(colon - rest) >= n)
            continue;
        snprintf(addr, n, "%.*s", (int)(colon - rest), rest);
        *aport = atoi(colon + 1);
        return;
    }
}

static int dial(struct pconn *c, const char *host, int port)
{
    char addr[256];

    snprintf(addr, sizeof(addr), "%s", host);
    connect_to(host, port, addr, sizeof(addr), &port);
    host = addr;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    char ps[8];
    int fd = -1, rc = -EHOSTUNREACH;

    snprintf(ps, sizeof(ps), "%d", port);
    int g = getaddrinfo(host, ps, &hints, &res);
    if (g)
        return g == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
            rc = -errno;
        } else if (!(rc = wait_fd(c->p, fd, POLLOUT, CONNECT_TIMEOUT_MS))) {
            int err = 0;
            socklen_t len = sizeof(err);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            rc = -err;
        }
        if (!rc)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->u.fd = fd;
    }
    return fd >= 0 ? 0 : rc;
}

/* ---- recording ---- */

static void record(struct pconn *c, enum llm_msg_kind kind, const void *p, size_t n)
{
    struct llm_msg *m;

    if (!c->id)
        return;
    m = llm_msg_new(c->id, kind, p, n, llm_now_ns(), llm_mono_ns());
    if (!m) {
        c->lost = 1;
        return;
    }
    if (c->lost)
        m->flags |= LLM_MSG_F_LOST;
    c->lost = llm_queue_push(c->p->q, m) ? 1 : 0;
}

/* Opens the collector's connection, naming the process that made it (the
 * writer's own identity, llmops run's, when it cannot be found). */
static void record_open(struct pconn *c, int tls)
{
    struct llm_open_info info = {.capture = LLM_CAPTURE_PROXY, .tls = tls, .port = c->port};
    struct llm_peer peer;
    char *tail = NULL, *open = NULL;
    size_t tn = 0;

    snprintf(info.sni, sizeof(info.sni), "%s", c->name);
    c->id = __atomic_add_fetch(&next_conn_id, 1, __ATOMIC_RELAXED);
    if (!llm_proxy_peer_find(c->c.fd, __atomic_load_n(&c->p->root, __ATOMIC_RELAXED),
                             c->p->capture_content, &peer)) {
        if (llm_peer_encode(&peer, &tail, &tn))
            tn = 0;
        llm_peer_free(&peer);
    }
    if (tn && (open = malloc(sizeof(info) + tn))) {
        memcpy(open, &info, sizeof(info));
        memcpy(open + sizeof(info), tail, tn);
        record(c, LLM_MSG_OPEN, open, sizeof(info) + tn);
    } else {
        record(c, LLM_MSG_OPEN, &info, sizeof(info));
    }
    free(open);
    free(tail);
}

/* ---- the relay ---- */

/* Moves bytes both ways until one side ends, forwarding each chunk before
 * it is copied to the collector. Returns when both are done. */
static void relay(struct pconn *c)
{
    struct llm_proxy *p = c->p;
    char buf[CHUNK];
    int c_open = 1, u_open = 1, tls = c->c.ssl != NULL;
    int64_t grace_until = 0, last_in = 0;

    while (u_open && (c_open || grace_until)) {
        struct pollfd pf[3] = {{.fd = c_open ? c->c.fd : -1, .events = POLLIN},
                               {.fd = c->u.fd, .events = POLLIN},
                               {.fd = p->cut[0], .events = POLLIN}};
        int ms = -1;
        if (!c_open && grace_until != INT64_MAX) {
            /* the upstream's last bytes follow its last event closely */
            int64_t quiet = last_in + QUIET_MS * 1000000LL;
            int64_t left = ((quiet < grace_until ? quiet : grace_until) - llm_mono_ns()) / 1000000;
            if (left <= 0)
                break;
            ms = (int)left;
        }
        int r = poll(pf, 3, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || pf[2].revents)
            break;
        for (int i = 0; i < 2; i++) {
            struct side *from = i ? &c->u : &c->c, *to = i ? &c->c : &c->u;
            if (!pf[i].revents)
                continue;
            for (;;) {
                ssize_t n = side_read(from, buf, sizeof(buf));
                if (n == -EAGAIN)
                    break;
                if (n > 0) {
                    if ((i == 0 || c_open) && side_write(p, to, buf, (size_t)n)) {
                        if (i == 0)
                            goto end; /* the upstream is gone */
                        c_open = 0;   /* the client is: keep what it would have got */
                        grace_until = llm_mono_ns() + GRACE_MS * 1000000LL;
                        last_in = llm_mono_ns();
                    }
                    if (i)
                        last_in = llm_mono_ns();
                    record(c, i ? LLM_MSG_IN : LLM_MSG_OUT, buf, (size_t)n);
                    continue;
                }
                if (i == 1) {
                    /* the upstream ended or reset: the client sees the same */
                    if (n < 0 && c_open)
                        set_reset(c->c.fd);
                    else if (c_open && !tls)
                        shutdown(c->c.fd, SHUT_WR);
                    else if (c_open)
                        SSL_shutdown(c->c.ssl);
                    u_open = 0;
                } else {
                    if (n < 0)
                        set_reset(c->u.fd);
                    if (!tls) {
                        /* a tunnel passes a half close on and keeps going */
                        shutdown(c->u.fd, SHUT_WR);
                        c_open = 0;
                        grace_until = n < 0 ? 0 : INT64_MAX;
                        if (n < 0)
                            goto end;
                    } else {
                        c_open = 0;
                        grace_until = c->id ? llm_mono_ns() + GRACE_MS * 1000000LL : 0;
                        last_in = llm_mono_ns();
                    }
                }
                break;
            }
        }
    }
end:
    record(c, LLM_MSG_CLOSE, NULL, 0);
}

/* ---- TLS interception ---- */

/* The client's ClientHello: note the ALPN it offers, shake hands with the
 * upstream offering the same (h2, http/1.1 only), then put on the leaf for
 * the name. Any failure ends the client handshake with an alert. */
static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    struct pconn *c = SSL_get_ex_data(ssl, conn_index);
    const unsigned char *ext;
    size_t len;
    unsigned char offer[32];
    size_t on = 0;

    (void)arg;
    *alert = SSL_AD_INTERNAL_ERROR;
    if (c->u.ssl)
        return SSL_CLIENT_HELLO_SUCCESS; /* the second hello after a HelloRetryRequest */
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
                                  &len) &&
        len > 2) {
        for (size_t i = 2; i < len && i + 1 + ext[i] <= len; i += 1 + ext[i]) {
            size_t l = ext[i];
            if ((l == 2 && !memcmp(ext + i + 1, "h2", 2)) ||
                (l == 8 && !memcmp(ext + i + 1, "http/1.1", 8))) {
                memcpy(offer + on, ext + i, 1 + l);
                on += 1 + l;
            }
        }
    }
    c->u.ssl = SSL_new(c->p->up_ctx);
    if (!c->u.ssl)
        return SSL_CLIENT_HELLO_ERROR;
    SSL_set_fd(c->u.ssl, c->u.fd);
    SSL_set_tlsext_host_name(c->u.ssl, c->name);
    SSL_set1_host(c->u.ssl, c->name);
    if (on)
        SSL_set_alpn_protos(c->u.ssl, offer, (unsigned)on);
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->u.ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(c->u.ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            long v = SSL_get_verify_result(c->u.ssl);
            llm_log("proxy: TLS to %s:%d failed: %s", c->name, c->port,
                    v != X509_V_OK ? X509_verify_cert_error_string(v) : "handshake error");
            *alert = v != X509_V_OK ? SSL_AD_BAD_CERTIFICATE : SSL_AD_HANDSHAKE_FAILURE;
            return SSL_CLIENT_HELLO_ERROR;
        }
        if (wait_fd(c->p, c->u.fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, IO_TIMEOUT_MS))
            return SSL_CLIENT_HELLO_ERROR;
    }
    if (llm_proxy_ca_use_leaf(c->p->ca, ssl, c->name))
        return SSL_CLIENT_HELLO_ERROR;
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* The client gets the protocol the upstream chose, or none when it chose none. */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned inlen, void *arg)
{
    struct pconn *c = SSL_get_ex_data(ssl, conn_index);
    const unsigned char *up;
    unsigned ulen;

    (void)arg;
    SSL_get0_alpn_selected(c->u.ssl, &up, &ulen);
    for (unsigned i = 0; ulen && i < inlen; i += 1 + in[i])
        if (in[i] == ulen && i + 1 + ulen <= inlen && !memcmp(in + i + 1, up, ulen)) {
            *out = in + i + 1;
            *outlen = (unsigned char)ulen;
            return SSL_TLSEXT_ERR_OK;
        }
    return SSL_TLSEXT_ERR_NOACK;
}

static void load_up_trust(struct llm_proxy *p);

static int intercept(struct pconn *c)
{
    load_up_trust(c->p);
    c->c.ssl = SSL_new(c->p->client_ctx);
    if (!c->c.ssl)
        return LLM_ENOMEM;
    SSL_set_ex_data(c->c.ssl, conn_index, c);
    SSL_set_fd(c->c.ssl, c->c.fd);
    for (;;) {
        ERR_clear_error();
        int r = SSL_accept(c->c.ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(c->c.ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            llm_log("proxy: client TLS for %s failed", c->name);
            return LLM_EPARSE;
        }
        if (wait_fd(c->p, c->c.fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, IO_TIMEOUT_MS))
            return -ETIMEDOUT;
    }
    record_open(c, 1);
    relay(c);
    return 0;
}

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
        say(c, 400, "Bad Request", "bad CONNECT target '%.200s'", target);
        return;
    }
    if ((rc = dial(c, c->host, c->port))) {
        say(c, 502, "Bad Gateway", "cannot connect to %s:%d: %s", c->host, c->port, strerror(-rc));
        return;
    }
    if (side_write(c->p, &c->c, ok, sizeof(ok) - 1))
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
        if (c->hlen && side_write(c->p, &c->u, c->head, c->hlen))
            return;
        relay(c);
        return;
    }
    if (rc != 1) {
        /* an LLM host on a TLS tunnel, and the client does not speak TLS:
         * take its bytes first, so that closing does not reset the answer */
        while (recv(c->c.fd, c->head, HEAD_MAX, 0) > 0)
            ;
        say(c, 400, "Bad Request", "expected TLS to %s", c->name);
        return;
    }
    intercept(c);
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
    if ((rc = dial(c, c->host, c->port))) {
        say(c, 502, "Bad Gateway", "cannot connect to %s:%d: %s", c->host, c->port, strerror(-rc));
        return;
    }
    if (llm_classify(hc->out, hc->out_len, NULL, NULL) == LLM_CLASS_LLM)
        record_open(c, 0);
    if (side_write(c->p, &c->u, hc->out, hc->out_len) ||
        (c->hlen && side_write(c->p, &c->u, c->head, c->hlen)))
        return;
    record(c, LLM_MSG_OUT, hc->out, hc->out_len);
    record(c, LLM_MSG_OUT, c->head, c->hlen);
    relay(c);
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
            int rc = wait_fd(c->p, c->c.fd, POLLIN, IO_TIMEOUT_MS);
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

static void serve(struct pconn *c)
{
    struct head_ctx *hc = calloc(1, sizeof(*hc));
    int rc;

    if (!hc)
        return;
    hc->c = c;
    rc = read_head(c, hc);
    if (rc == LLM_ETOOBIG)
        say(c, 431, "Request Header Fields Too Large", "request head over %d bytes", HEAD_MAX);
    else if (rc == LLM_EPARSE)
        say(c, 400, "Bad Request", "not an HTTP proxy request");
    else if (rc)
        ;
    else if (!strcmp(hc->method, "CONNECT"))
        do_connect(c, hc->url);
    else if (hc->plain_ok)
        do_plain(c, hc);
    else
        say(c, 400, "Bad Request", "this is a proxy: expected CONNECT or an http:// URL");
    free(hc);
}

static void *conn_thread(void *arg)
{
    struct pconn *c = arg;
    struct llm_proxy *p = c->p;

    serve(c);
    if (c->c.ssl)
        SSL_free(c->c.ssl);
    if (c->u.ssl)
        SSL_free(c->u.ssl);
    close(c->c.fd);
    if (c->u.fd >= 0)
        close(c->u.fd);
    free(c);
    ERR_clear_error();
    pthread_mutex_lock(&p->mu);
    if (--p->active == 0)
        pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void *accept_thread(void *arg)
{
    struct llm_proxy *p = arg;
    pthread_attr_t attr;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 << 10);
    for (;;) {
        struct pollfd pf[2] = {{.fd = p->lfd, .events = POLLIN},
                               {.fd = p->stop_accept[0], .events = POLLIN}};
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            break;
        if (!pf[0].revents)
            continue;
        int fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                poll(NULL, 0, 50); /* let connections end */
            continue;
        }
        struct pconn *c = calloc(1, sizeof(*c));
        pthread_t t;
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->p = p;
        c->c.fd = fd;
        c->u.fd = -1;
        pthread_mutex_lock(&p->mu);
        p->active++;
        pthread_mutex_unlock(&p->mu);
        if (pthread_create(&t, &attr, conn_thread, c)) {
            close(fd);
            free(c);
            pthread_mutex_lock(&p->mu);
            p->active--;
            pthread_mutex_unlock(&p->mu);
        }
    }
    pthread_attr_destroy(&attr);
    return NULL;
}

/* ---- start and stop ---- */

static int copy_file(FILE *out, const char *path)
{
    char buf[65536];
    size_t n;
    FILE *in = fopen(path, "re");

    if (!in)
        return -errno;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fputc('\n', out);
    return 0;
}

/* The child's trust: what the user's programs trusted, plus our CA. */
static int write_trust(struct llm_proxy *p, const char *dir)
{
    const char *const *files = llm_proxy_trust_files();
    const char *pem = llm_proxy_ca_pem(p->ca);
    const char *sys_dir = getenv("SSL_CERT_DIR");
    char path[PATH_MAX + 64];
    FILE *f;
    int rc = 0;

    snprintf(p->rundir, sizeof(p->rundir), "%s/run-%ld", dir, (long)getpid());
    snprintf(path, sizeof(path), "%s/certs", p->rundir);
    if ((mkdir(p->rundir, 0700) && errno != EEXIST) || (mkdir(path, 0700) && errno != EEXIST))
        return -errno;
    snprintf(p->bundle, sizeof(p->bundle), "%s/bundle.pem", p->rundir);
    f = fopen(p->bundle, "we");
    if (!f)
        return -errno;
    for (size_t i = 0; files[i]; i++)
        if (copy_file(f, files[i]))
            llm_log("proxy: cannot read CA file %s", files[i]);
    fputs(pem, f);
    if (fclose(f))
        return -errno;
    /* SSL_CERT_DIR: ours (hashed, as OpenSSL looks names up) first */
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *ca = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!ca)
        return LLM_ENOMEM;
    snprintf(path, sizeof(path), "%s/certs/%08lx.0", p->rundir, X509_subject_name_hash(ca));
    X509_free(ca);
    f = fopen(path, "we");
    if (!f)
        return -errno;
    fputs(pem, f);
    if (fclose(f))
        rc = -errno;
    snprintf(p->certdir, sizeof(p->certdir), "%s/certs:%s", p->rundir,
             sys_dir && *sys_dir ? sys_dir : X509_get_default_cert_dir());
    return rc;
}

static void remove_trust(struct llm_proxy *p)
{
    char path[PATH_MAX + 64];
    DIR *d;
    struct dirent *e;

    if (!p->rundir[0])
        return;
    snprintf(path, sizeof(path), "%s/certs", p->rundir);
    if ((d = opendir(path))) {
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(path);
    unlink(p->bundle);
    rmdir(p->rundir);
}

static int make_ctxs(struct llm_proxy *p)
{
    p->client_ctx = SSL_CTX_new(TLS_server_method());
    p->up_ctx = SSL_CTX_new(TLS_client_method());
    if (!p->client_ctx || !p->up_ctx)
        return LLM_ENOMEM;
    SSL_CTX_set_min_proto_version(p->client_ctx, TLS1_2_VERSION);
    SSL_CTX_set_client_hello_cb(p->client_ctx, on_client_hello, NULL);
    SSL_CTX_set_alpn_select_cb(p->client_ctx, on_alpn, NULL);
    SSL_CTX_set_options(p->client_ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(p->client_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(p->up_ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_min_proto_version(p->up_ctx, TLS1_2_VERSION);
    return 0;
}

/* The upstream's trust is loaded on the first interception (parsing the
 * system bundle is most of a start-up otherwise): the trust the program had,
 * SSL_CERT_FILE/SSL_CERT_DIR as the user set them, else the system's, and
 * the per-runtime files. */
static void load_up_trust(struct llm_proxy *p)
{
    const char *const *files = llm_proxy_trust_files();

    pthread_mutex_lock(&p->mu);
    if (!p->up_trust_loaded) {
        SSL_CTX_set_default_verify_paths(p->up_ctx);
        for (size_t i = 1; files[0] && files[i]; i++)
            SSL_CTX_load_verify_locations(p->up_ctx, files[i], NULL);
        p->up_trust_loaded = 1;
    }
    pthread_mutex_unlock(&p->mu);
}

int llm_proxy_start(const struct llm_proxy_opts *o, struct llm_proxy **out)
{
    struct llm_proxy *p = calloc(1, sizeof(*p));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int rc;

    if (!p)
        return LLM_ENOMEM;
    p->lfd = p->stop_accept[0] = p->stop_accept[1] = p->cut[0] = p->cut[1] = -1;
    p->q = o->q;
    p->capture_content = o->capture_content;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (conn_index < 0)
        conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if ((rc = llm_proxy_ca_open(o->dir, &p->ca)) || (rc = make_ctxs(p)) ||
        (rc = write_trust(p, o->dir)))
        goto fail;
    if (pipe2(p->stop_accept, O_CLOEXEC) || pipe2(p->cut, O_CLOEXEC) ||
        (p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(p->lfd, 1024) ||
        getsockname(p->lfd, (struct sockaddr *)&sa, &len)) {
        rc = -errno;
        goto fail;
    }
    p->port = ntohs(sa.sin_port);
    if ((rc = -pthread_create(&p->acceptor, NULL, accept_thread, p)))
        goto fail;
    p->acceptor_started = 1;
    *out = p;
    return 0;
fail:
    llm_proxy_stop(p, 0);
    return rc;
}

int llm_proxy_port(const struct llm_proxy *p)
{
    return p->port;
}

void llm_proxy_set_root(struct llm_proxy *p, pid_t pid)
{
    if (p)
        __atomic_store_n(&p->root, pid, __ATOMIC_RELAXED);
}

const char *llm_proxy_bundle(const struct llm_proxy *p)
{
    return p->bundle;
}

const char *llm_proxy_cert_dir(const struct llm_proxy *p)
{
    return p->certdir;
}

static int wait_idle(struct llm_proxy *p, int timeout_ms)
{
    struct timespec dl;
    int idle;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&p->mu);
    while (p->active)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &dl))
            break;
    idle = p->active == 0;
    pthread_mutex_unlock(&p->mu);
    return idle;
}

void llm_proxy_stop(struct llm_proxy *p, int timeout_ms)
{
    if (!p)
        return;
    if (p->acceptor_started) {
        if (write(p->stop_accept[1], "x", 1) < 0)
            llm_log("proxy: cannot stop the accept thread");
        pthread_join(p->acceptor, NULL);
    }
    if (p->lfd >= 0)
        close(p->lfd);
    /* connections still open (a grandchild's keep-alive) get a bounded
     * time to finish what they carry, then are cut */
    if (!wait_idle(p, timeout_ms)) {
        if (write(p->cut[1], "x", 1) < 0)
            llm_log("proxy: cannot cut connections");
        if (!wait_idle(p, 2000)) {
            llm_log("proxy: %d connections did not end; leaving them", p->active);
            remove_trust(p);
            return; /* their threads still use p */
        }
    }
    remove_trust(p);
    SSL_CTX_free(p->client_ctx);
    SSL_CTX_free(p->up_ctx);
    llm_proxy_ca_free(p->ca);
    for (int i = 0; i < 2; i++) {
        if (p->stop_accept[i] >= 0)
            close(p->stop_accept[i]);
        if (p->cut[i] >= 0)
            close(p->cut[i]);
    }
    free(p);
}
