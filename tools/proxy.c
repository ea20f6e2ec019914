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
 * handshake fails.
 *
 * This file: start and stop, the trust files for the child, the accept
 * thread and each connection's thread. The request head, tunnels and plain
 * http:// are proxy_tunnel.c's; the relay and TLS interception
 * proxy_mitm.c's; socket and TLS I/O and the copies to the collector
 * proxy_io.c's; the callers of intercepted connections proxy_peer.c's. */
#include "proxy_int.h"
#include "err.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void *conn_thread(void *arg)
{
    struct pconn *c = arg;
    struct llm_proxy *p = c->p;

    llm_proxy_serve(c);
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
    if ((rc = llm_proxy_ca_open(o->dir, &p->ca)) || (rc = llm_proxy_tls_init(p)) ||
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

    llm_deadline_ms(&dl, timeout_ms);
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
