/* The relay and TLS interception (proxy_int.h). The relay mirrors bytes
 * between client and upstream as they come, each chunk forwarded before its
 * copy goes to the collector; it serves tunnels (sockets) and intercepted
 * connections (TLS on both sides) alike. Interception: the client's
 * ClientHello decides the upstream handshake (same SNI, the ALPN protocols
 * it offers among h2 and http/1.1), and the client is then given what the
 * upstream chose, with a leaf certificate from our CA. Connection threads;
 * the contexts are made once at start. */
#include "proxy_int.h"
#include "err.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

static int conn_index = -1; /* SSL ex_data slot for struct pconn */

/* Resets the connection on close (mirrors an upstream reset). */
static void set_reset(int fd)
{
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* ---- the relay ---- */

/* Moves bytes both ways until one side ends, forwarding each chunk before
 * it is copied to the collector. Returns when both are done. */
void llm_proxy_relay(struct pconn *c)
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
                ssize_t n = llm_proxy_side_read(from, buf, sizeof(buf));
                if (n == -EAGAIN)
                    break;
                if (n > 0) {
                    if ((i == 0 || c_open) && llm_proxy_side_write(p, to, buf, (size_t)n)) {
                        if (i == 0)
                            goto end; /* the upstream is gone */
                        c_open = 0;   /* the client is: keep what it would have got */
                        grace_until = llm_mono_ns() + GRACE_MS * 1000000LL;
                        last_in = llm_mono_ns();
                    }
                    if (i)
                        last_in = llm_mono_ns();
                    llm_proxy_record(c, i ? LLM_MSG_IN : LLM_MSG_OUT, buf, (size_t)n);
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
    llm_proxy_record(c, LLM_MSG_CLOSE, NULL, 0);
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
        if (llm_proxy_wait_fd(c->p, c->u.fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                              IO_TIMEOUT_MS))
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

int llm_proxy_intercept(struct pconn *c)
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
        if (llm_proxy_wait_fd(c->p, c->c.fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                              IO_TIMEOUT_MS))
            return -ETIMEDOUT;
    }
    llm_proxy_record_open(c, 1);
    llm_proxy_relay(c);
    return 0;
}
int llm_proxy_tls_init(struct llm_proxy *p)
{
    if (conn_index < 0)
        conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
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
