/* The proxy's plain I/O (proxy_int.h): waiting on a socket or the proxy's
 * cut, reading and writing a side (socket or TLS), short error answers,
 * dialling the upstream, and the copies that go to the collector's queue.
 * Connection threads. */
#include "proxy_int.h"
#include "err.h"
#include "log.h"
#include "peer.h"
#include "util.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static uint64_t next_conn_id;

int llm_proxy_wait_fd(struct llm_proxy *p, int fd, short ev, int ms)
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

ssize_t llm_proxy_side_read(struct side *s, void *buf, size_t n)
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

int llm_proxy_side_write(struct llm_proxy *p, struct side *s, const char *buf, size_t n)
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
        int rc = llm_proxy_wait_fd(p, s->fd, ev, IO_TIMEOUT_MS);
        if (rc)
            return rc;
    }
    return 0;
}

void llm_proxy_say(struct pconn *c, int status, const char *reason, const char *fmt, ...)
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
    llm_proxy_side_write(c->p, &c->c, msg, (size_t)n);
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

int llm_proxy_dial(struct pconn *c, const char *host, int port)
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
        } else if (!(rc = llm_proxy_wait_fd(c->p, fd, POLLOUT, CONNECT_TIMEOUT_MS))) {
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

void llm_proxy_record(struct pconn *c, enum llm_msg_kind kind, const void *p, size_t n)
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
void llm_proxy_record_open(struct pconn *c, int tls)
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
        llm_proxy_record(c, LLM_MSG_OPEN, open, sizeof(info) + tn);
    } else {
        llm_proxy_record(c, LLM_MSG_OPEN, &info, sizeof(info));
    }
    free(open);
    free(tail);
}
