/* Inline hooks on the OpenSSL an executable carries inside itself (node from
 * nodejs.org/nodesource links OpenSSL 3 statically and exports it for native
 * addons, but calls it directly: no PLT, so our exported SSL_* never run).
 *
 * llm_ssl_inline_install() runs in the constructor: when the main program
 * defines SSL_write and SSL_read, their entries (and those of the _ex forms,
 * SSL_shutdown and SSL_free) are patched to jump here (inline.c). The hooks
 * below are hidden (a default-visibility symbol would bind to the
 * executable's copy, and the patch would call itself); they run on app
 * threads and behave like hook_ssl.c's: the real call through its
 * trampoline, the bytes to the tap on success, errno and the error queue as
 * the real call left them (see seen() for the one difference: the guard). SNI comes from the
 * executable's own SSL_get_servername (never patched). LLMOPS_INLINE=0 leaves the program
 * untouched. */
#include "inline.h"
#include "log.h"
#include "shim.h"
#include "ssl_tap.h"

#include <stdlib.h>
#include <string.h>

static struct {
    int (*SSL_read)(SSL *, void *, int);
    int (*SSL_write)(SSL *, const void *, int);
    int (*SSL_read_ex)(SSL *, void *, size_t, size_t *);
    int (*SSL_write_ex)(SSL *, const void *, size_t, size_t *);
    int (*SSL_shutdown)(SSL *);
    void (*SSL_free)(SSL *);
    llm_servername_fn SSL_get_servername;
    llm_get_fd_fn SSL_get_fd;
} exe;

static void describe(uintptr_t key, struct llm_open_info *info)
{
    llm_ssl_describe((SSL *)key, info, exe.SSL_get_servername, exe.SSL_get_fd);
}

/* The guard is set only around our own work, never around the real call:
 * node calls SSL_write from inside SSL_read (the handshake's completion runs
 * its callbacks, which flush writes queued meanwhile), and those bytes are
 * the application's. Our tap never calls back into OpenSSL, and node's SSL
 * does no socket I/O of its own (memory BIOs), so nothing needs the guard
 * during the real call. */
static void seen(SSL *ssl, int dir, const void *buf, size_t n)
{
    int saved = llm_in_hook;

    if (llm_shim_off || llm_ssl_known_pass(ssl))
        return;
    llm_in_hook = 1;
    llm_ssl_tap(ssl, dir, buf, n, LLM_CAPTURE_OPENSSL_INLINE, describe);
    llm_in_hook = saved;
}

static void closed(SSL *ssl)
{
    int saved = llm_in_hook;

    if (llm_shim_off || !ssl)
        return;
    llm_in_hook = 1;
    llm_ssl_tap_close(ssl);
    llm_in_hook = saved;
}

static int hook_SSL_read(SSL *ssl, void *buf, int num)
{
    int rc = exe.SSL_read(ssl, buf, num);

    if (rc > 0)
        seen(ssl, LLM_DIR_IN, buf, (size_t)rc);
    return rc;
}

static int hook_SSL_write(SSL *ssl, const void *buf, int num)
{
    int rc = exe.SSL_write(ssl, buf, num);

    if (rc > 0)
        seen(ssl, LLM_DIR_OUT, buf, (size_t)rc);
    return rc;
}

static int hook_SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes)
{
    int rc = exe.SSL_read_ex(ssl, buf, num, readbytes);

    if (rc == 1 && readbytes && *readbytes)
        seen(ssl, LLM_DIR_IN, buf, *readbytes);
    return rc;
}

static int hook_SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written)
{
    int rc = exe.SSL_write_ex(ssl, buf, num, written);

    if (rc == 1 && written && *written)
        seen(ssl, LLM_DIR_OUT, buf, *written);
    return rc;
}

static int hook_SSL_shutdown(SSL *ssl)
{
    int rc = exe.SSL_shutdown(ssl);

    closed(ssl);
    return rc;
}

static void hook_SSL_free(SSL *ssl)
{
    closed(ssl); /* before the real free: then the address may name a new SSL */
    exe.SSL_free(ssl);
}

#define T(name, req)                                                                               \
    {                                                                                              \
#name, (void *)hook_##name, (void **)&exe.name, req, 0                                     \
    }

void llm_ssl_inline_install(void)
{
    struct llm_inline_target t[] = {
        T(SSL_write, 1),    T(SSL_read, 1),    T(SSL_free, 1),
        T(SSL_write_ex, 0), T(SSL_read_ex, 0), T(SSL_shutdown, 0),
    };
    const char *env = getenv("LLMOPS_INLINE");
    uintptr_t a;
    size_t sz;
    int64_t ns = 0;
    int n;
    char names[128] = "";

    /* what every other program pays: two hash lookups */
    if (llm_inline_exe_func("SSL_write", &a, &sz) || llm_inline_exe_func("SSL_read", &a, &sz))
        return;
    if (env && !strcmp(env, "0")) {
        llm_log("inline hooks: off (LLMOPS_INLINE=0)");
        return;
    }
    if (!llm_inline_exe_func("SSL_get_servername", &a, &sz))
        exe.SSL_get_servername = (llm_servername_fn)a;
    if (!llm_inline_exe_func("SSL_get_fd", &a, &sz))
        exe.SSL_get_fd = (llm_get_fd_fn)a;
    n = llm_inline_patch(t, sizeof(t) / sizeof(t[0]), &ns);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].patched && strlen(names) + strlen(t[i].name) + 2 < sizeof(names))
            strcat(strcat(names, " "), t[i].name);
    if (n > 0) {
        /* from now on TLS in the socket layer is TLS these hooks decrypt */
        llm_tap_tls_hooked();
        llm_log("inline hooks on%s (%d functions, %.3f ms)", names, n, (double)ns / 1e6);
    } else {
        llm_log("inline hooks: none installed (%.3f ms); TLS to LLM hosts stays not_observable",
                (double)ns / 1e6);
    }
}
