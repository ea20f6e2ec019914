/* OpenSSL hooks (app threads). Each one calls the real function and, only on
 * success, reports the bytes that actually moved: SSL_read/SSL_write return
 * the count, the _ex forms return 1 with the count in an out-parameter.
 * WANT_READ/WANT_WRITE retries return <= 0 and report nothing, so resent
 * buffers are never counted twice. SSL_peek is not hooked: peeked bytes are
 * reported when SSL_read consumes them. errno is restored after our work and
 * we never touch the OpenSSL error queue. */
#include "real.h"
#include "shim.h"
#include "ssl_tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define LLM_EXPORT __attribute__((visibility("default")))

void llm_ssl_describe(SSL *ssl, struct llm_open_info *info, llm_servername_fn servername,
                      llm_get_fd_fn get_fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    const char *sni = NULL;
    int fd;

    info->tls = 1;
    if (servername)
        sni = servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (sni) {
        strncpy(info->sni, sni, sizeof(info->sni) - 1);
        info->sni[sizeof(info->sni) - 1] = '\0';
    }
    /* memory BIOs (asyncio, Node) have no fd: the port stays unknown */
    fd = get_fd ? get_fd(ssl) : -1;
    if (fd >= 0 && !getpeername(fd, (struct sockaddr *)&ss, &len)) {
        if (ss.ss_family == AF_INET)
            info->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            info->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
}

/* Connection facts for the classifier; runs once per new connection. */
static void describe_ssl(uintptr_t key, struct llm_open_info *info)
{
    llm_ssl_describe((SSL *)key, info, real_ssl.SSL_get_servername, real_ssl.SSL_get_fd);
}

/* The library we wrap is not there (cannot happen for a caller linked
 * against it): fail the call the way a missing feature would. */
static int missing(void)
{
    errno = ENOSYS;
    return -1;
}

/* The last connection this thread saw ruled out by the tap, so a busy
 * non-LLM TLS stream skips the table lookup and its lock. An SSL* address
 * can be reused once freed, so every SSL_free/SSL_shutdown anywhere bumps a
 * generation that invalidates every thread's entry. */
static __thread struct {
    SSL *ssl;
    unsigned gen;
} pass_cache __attribute__((tls_model("initial-exec")));
static unsigned ssl_gen;

int llm_ssl_known_pass(SSL *ssl)
{
    return pass_cache.ssl == ssl && pass_cache.gen == __atomic_load_n(&ssl_gen, __ATOMIC_ACQUIRE);
}

void llm_ssl_tap(SSL *ssl, int dir, const void *buf, size_t n, int capture,
                 llm_tap_describe_fn describe)
{
    int saved = errno;
    unsigned gen = __atomic_load_n(&ssl_gen, __ATOMIC_ACQUIRE);

    if (llm_tap_data((uintptr_t)ssl, dir, buf, n, capture, describe) == LLM_TAP_PASS) {
        pass_cache.ssl = ssl;
        pass_cache.gen = gen;
    }
    errno = saved;
}

void llm_ssl_tap_close(SSL *ssl)
{
    int saved = errno;
    __atomic_add_fetch(&ssl_gen, 1, __ATOMIC_ACQ_REL);
    llm_tap_close((uintptr_t)ssl);
    errno = saved;
}

static inline int known_pass(SSL *ssl)
{
    return llm_ssl_known_pass(ssl);
}

static void tap(SSL *ssl, int dir, const void *buf, size_t n)
{
    llm_ssl_tap(ssl, dir, buf, n, LLM_CAPTURE_OPENSSL, describe_ssl);
}

static void tap_close(SSL *ssl)
{
    llm_ssl_tap_close(ssl);
}

LLM_EXPORT int SSL_read(SSL *ssl, void *buf, int num)
{
    int rc;

    llm_shim_init();
    llm_real_ssl_ready();
    if (!real_ssl.SSL_read)
        return missing();
    if (llm_shim_bypass())
        return real_ssl.SSL_read(ssl, buf, num);
    llm_in_hook = 1;
    rc = real_ssl.SSL_read(ssl, buf, num);
    if (rc > 0 && !known_pass(ssl))
        tap(ssl, LLM_DIR_IN, buf, (size_t)rc);
    llm_in_hook = 0;
    return rc;
}

LLM_EXPORT int SSL_write(SSL *ssl, const void *buf, int num)
{
    int rc;

    llm_shim_init();
    llm_real_ssl_ready();
    if (!real_ssl.SSL_write)
        return missing();
    if (llm_shim_bypass())
        return real_ssl.SSL_write(ssl, buf, num);
    llm_in_hook = 1;
    rc = real_ssl.SSL_write(ssl, buf, num);
    if (rc > 0 && !known_pass(ssl))
        tap(ssl, LLM_DIR_OUT, buf, (size_t)rc);
    llm_in_hook = 0;
    return rc;
}

LLM_EXPORT int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes)
{
    int rc;

    llm_shim_init();
    llm_real_ssl_ready();
    if (!real_ssl.SSL_read_ex)
        return missing();
    if (llm_shim_bypass())
        return real_ssl.SSL_read_ex(ssl, buf, num, readbytes);
    llm_in_hook = 1;
    rc = real_ssl.SSL_read_ex(ssl, buf, num, readbytes);
    if (rc == 1 && readbytes && *readbytes && !known_pass(ssl))
        tap(ssl, LLM_DIR_IN, buf, *readbytes);
    llm_in_hook = 0;
    return rc;
}

LLM_EXPORT int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written)
{
    int rc;

    llm_shim_init();
    llm_real_ssl_ready();
    if (!real_ssl.SSL_write_ex)
        return missing();
    if (llm_shim_bypass())
        return real_ssl.SSL_write_ex(ssl, buf, num, written);
    llm_in_hook = 1;
    rc = real_ssl.SSL_write_ex(ssl, buf, num, written);
    if (rc == 1 && written && *written && !known_pass(ssl))
        tap(ssl, LLM_DIR_OUT, buf, *written);
    llm_in_hook = 0;
    return rc;
}

/* The handshake carries no HTTP, but its records go out through the socket
 * layer: with the guard set, the socket hooks do not mistake OpenSSL's own
 * ClientHello for TLS they cannot see into. */
LLM_EXPORT int SSL_connect(SSL *ssl)
{
    int rc;

    llm_shim_init();
    llm_real_ssl_ready();
    if (!real_ssl.SSL_connect)
        return missing();
    if (llm_shim_bypass())
        return real_ssl.SSL_connect(ssl);
    llm_in_hook = 1;
    rc = real_ssl.SSL_connect(ssl);
    llm_in_hook = 0;
    return rc;
}

LLM_EXPORT int SSL_do_handshake(SSL *ssl)
{
    int rc;

    llm_shim_init();
    llm_real_ssl_ready();
    if (!real_ssl.SSL_do_handshake)
        return missing();
    if (llm_shim_bypass())
        return real_ssl.SSL_do_handshake(ssl);
    llm_in_hook = 1;
    rc = real_ssl.SSL_do_handshake(ssl);
    llm_in_hook = 0;
    return rc;
}

LLM_EXPORT int SSL_shutdown(SSL *ssl)
{
    int rc;

    llm_shim_init();
    llm_real_ssl_ready();
    if (!real_ssl.SSL_shutdown)
        return missing();
    if (llm_shim_bypass())
        return real_ssl.SSL_shutdown(ssl);
    llm_in_hook = 1;
    rc = real_ssl.SSL_shutdown(ssl);
    tap_close(ssl);
    llm_in_hook = 0;
    return rc;
}

LLM_EXPORT void SSL_free(SSL *ssl)
{
    llm_shim_init();
    llm_real_ssl_ready();
    if (!real_ssl.SSL_free)
        return;
    if (llm_shim_bypass()) {
        real_ssl.SSL_free(ssl);
        return;
    }
    llm_in_hook = 1;
    /* before the real free: once it returns, the address may name a new SSL */
    if (ssl)
        tap_close(ssl);
    real_ssl.SSL_free(ssl);
    llm_in_hook = 0;
}
