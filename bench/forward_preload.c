/* forward_preload: the physical floor of interposition, for the
 * instruction-count figure. Defines the same libc and OpenSSL entry points
 * as libllmops.so (connect, close, read, write, the send/recv family, the
 * _chk variants, SSL_read/SSL_write(_ex), SSL_shutdown, SSL_free, _exit,
 * _Exit) and does nothing but forward each to the next definition, found
 * with dlsym(RTLD_NEXT) by the constructor and kept in a pointer: the hot
 * path of each hook is a load, a test and an indirect tail call. Whatever
 * libllmops.so costs per call above this library is its own work (guards,
 * lookups, classification); this library's cost over no preload is the
 * price of any interposer. The libcurl hooks are left out: the benchmark
 * programs do not use libcurl. */
#include <dlfcn.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define EXPORT __attribute__((visibility("default")))

struct ssl_st;

/* Resolves one pointer; the constructor calls it for every hook, a hook that
 * runs before the constructor (another library's constructor) on its cold
 * path. */
__attribute__((noinline, cold)) static void *next(void **slot, const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);

    __atomic_store_n(slot, f, __ATOMIC_RELAXED);
    return f;
}

/* One hook: the fast path is a load, a test and a tail call (no frame); the
 * cold path resolves first, in a function of its own so that the fast path
 * needs no saved registers. */
#define FORWARD(ret, name, params, args)                                                           \
    EXPORT ret name params;                                                                        \
    static ret(*real_##name) params;                                                               \
    __attribute__((noinline, cold)) static ret slow_##name params                                  \
    {                                                                                              \
        next((void **)&real_##name, #name);                                                        \
        return real_##name args;                                                                   \
    }                                                                                              \
    ret name params                                                                                \
    {                                                                                              \
        if (__builtin_expect(!__atomic_load_n(&real_##name, __ATOMIC_RELAXED), 0))                 \
            return slow_##name args;                                                               \
        return real_##name args;                                                                   \
    }

FORWARD(int, connect, (int fd, const struct sockaddr *a, socklen_t l), (fd, a, l))
FORWARD(int, close, (int fd), (fd))
FORWARD(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
FORWARD(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
FORWARD(ssize_t, readv, (int fd, const struct iovec *v, int c), (fd, v, c))
FORWARD(ssize_t, writev, (int fd, const struct iovec *v, int c), (fd, v, c))
FORWARD(ssize_t, recv, (int fd, void *b, size_t n, int fl), (fd, b, n, fl))
FORWARD(ssize_t, send, (int fd, const void *b, size_t n, int fl), (fd, b, n, fl))
FORWARD(ssize_t, recvfrom, (int fd, void *b, size_t n, int fl, struct sockaddr *a, socklen_t *l),
        (fd, b, n, fl, a, l))
FORWARD(ssize_t, sendto,
        (int fd, const void *b, size_t n, int fl, const struct sockaddr *a, socklen_t l),
        (fd, b, n, fl, a, l))
FORWARD(ssize_t, recvmsg, (int fd, struct msghdr *m, int fl), (fd, m, fl))
FORWARD(ssize_t, sendmsg, (int fd, const struct msghdr *m, int fl), (fd, m, fl))
FORWARD(ssize_t, __read_chk, (int fd, void *b, size_t n, size_t bl), (fd, b, n, bl))
FORWARD(ssize_t, __recv_chk, (int fd, void *b, size_t n, size_t bl, int fl), (fd, b, n, bl, fl))
FORWARD(ssize_t, __recvfrom_chk,
        (int fd, void *b, size_t n, size_t bl, int fl, struct sockaddr *a, socklen_t *l),
        (fd, b, n, bl, fl, a, l))
FORWARD(int, SSL_read, (struct ssl_st * s, void *b, int n), (s, b, n))
FORWARD(int, SSL_write, (struct ssl_st * s, const void *b, int n), (s, b, n))
FORWARD(int, SSL_read_ex, (struct ssl_st * s, void *b, size_t n, size_t *got), (s, b, n, got))
FORWARD(int, SSL_write_ex, (struct ssl_st * s, const void *b, size_t n, size_t *put),
        (s, b, n, put))
FORWARD(int, SSL_shutdown, (struct ssl_st * s), (s))
FORWARD(void, SSL_free, (struct ssl_st * s), (s))

/* The exits never return: no return statement for them. */
#define FORWARD_EXIT(name)                                                                         \
    EXPORT void name(int status);                                                                  \
    static void (*real_##name)(int);                                                               \
    void name(int status)                                                                          \
    {                                                                                              \
        if (__builtin_expect(!__atomic_load_n(&real_##name, __ATOMIC_RELAXED), 0))                 \
            next((void **)&real_##name, #name);                                                    \
        real_##name(status);                                                                       \
        __builtin_unreachable();                                                                   \
    }

FORWARD_EXIT(_exit)
FORWARD_EXIT(_Exit)

__attribute__((constructor)) static void resolve_all(void)
{
#define RESOLVE(name) next((void **)&real_##name, #name);
    RESOLVE(connect) RESOLVE(close) RESOLVE(read) RESOLVE(write) RESOLVE(readv) RESOLVE(writev)
    RESOLVE(recv) RESOLVE(send) RESOLVE(recvfrom) RESOLVE(sendto) RESOLVE(recvmsg)
    RESOLVE(sendmsg) RESOLVE(__read_chk) RESOLVE(__recv_chk) RESOLVE(__recvfrom_chk)
    RESOLVE(SSL_read) RESOLVE(SSL_write) RESOLVE(SSL_read_ex) RESOLVE(SSL_write_ex)
    RESOLVE(SSL_shutdown) RESOLVE(SSL_free) RESOLVE(_exit) RESOLVE(_Exit)
#undef RESOLVE
}
