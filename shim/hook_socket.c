/* Plaintext HTTP through the socket layer (app threads): local servers
 * (Ollama, vLLM, llama.cpp) and runtimes whose TLS we cannot see.
 *
 * Only TCP sockets that went through connect() are examined: connect marks
 * the fd in a byte table, and every other read/write/send/recv costs one
 * bounds check and one byte load before the real call. Inside our own hooks
 * (SSL_read calling read(2), the collector's LMDB writes) the guard sends
 * everything straight through, so TLS connections we already see decrypted
 * are not seen twice; TLS we cannot see shows up here as TLS records and is
 * classified as not HTTP on its first byte. MSG_PEEK reads are not counted.
 * close() ends the connection before the fd number can be reused. */
#include "real.h"
#include "shim.h"
#include "tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LLM_EXPORT __attribute__((visibility("default")))
#define FD_MAX 65536
#define FD_KEY(fd) (((uintptr_t)1 << 63) | (uintptr_t)(unsigned)(fd))

/* One byte per fd, mapped on the first TCP connect: an idle process pays
 * nothing, and the table is never freed (fds can be used from any thread). */
static uint8_t *fd_tracked;

/* fd_tracked values: 0 not a connect()ed TCP socket, FD_WATCH still of
 * interest, FD_PASS classified as not ours (only close() looks at it). */
#define FD_WATCH 1
#define FD_PASS 2

/* An fd may be used from several threads: its byte is read and written
 * with relaxed atomics (plain byte moves on x86, and no data race). */
static inline uint8_t fd_state(const uint8_t *t, int fd)
{
    return __atomic_load_n(&t[fd], __ATOMIC_RELAXED);
}

static inline void fd_set_state(uint8_t *t, int fd, uint8_t v)
{
    __atomic_store_n(&t[fd], v, __ATOMIC_RELAXED);
}

static inline int tracked(int fd)
{
    uint8_t *t = __atomic_load_n(&fd_tracked, __ATOMIC_ACQUIRE);
    return t && (unsigned)fd < FD_MAX && fd_state(t, fd);
}

static inline int watched(int fd)
{
    uint8_t *t = __atomic_load_n(&fd_tracked, __ATOMIC_ACQUIRE);
    return t && (unsigned)fd < FD_MAX && fd_state(t, fd) == FD_WATCH;
}

static void resolve(void)
{
    llm_real_libc_ready();
}

static void describe_fd(uintptr_t key, struct llm_open_info *info)
{
    int fd = (int)(key & 0xffffffffu);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    info->tls = 0;
    if (!getpeername(fd, (struct sockaddr *)&ss, &len)) {
        if (ss.ss_family == AF_INET)
            info->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            info->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
}

static void tap(int fd, int dir, const void *buf, size_t n)
{
    int saved = errno;
    /* once the tap has ruled the connection out, later calls on this fd
     * cost what any other fd costs */
    if (llm_tap_data(FD_KEY(fd), dir, buf, n, LLM_CAPTURE_SOCKET, describe_fd) == LLM_TAP_PASS)
        fd_set_state(__atomic_load_n(&fd_tracked, __ATOMIC_ACQUIRE), fd, FD_PASS);
    errno = saved;
}

static void tap_iov(int fd, int dir, const struct iovec *iov, size_t cnt, size_t n)
{
    for (size_t i = 0; i < cnt && n; i++) {
        size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
        if (k)
            tap(fd, dir, iov[i].iov_base, k);
        n -= k;
    }
}

static void track(int fd)
{
    uint8_t *t = __atomic_load_n(&fd_tracked, __ATOMIC_ACQUIRE);
    int type = 0;
    socklen_t len = sizeof(type);

    if ((unsigned)fd >= FD_MAX || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
        type != SOCK_STREAM)
        return;
    if (!t) {
        void *m = mmap(NULL, FD_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        uint8_t *expected = NULL;
        if (m == MAP_FAILED)
            return;
        if (!__atomic_compare_exchange_n(&fd_tracked, &expected, m, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            munmap(m, FD_MAX);
        t = __atomic_load_n(&fd_tracked, __ATOMIC_ACQUIRE);
    }
    if (fd_state(t, fd)) /* the fd was reused behind our back (close_range, dup2) */
        llm_tap_close(FD_KEY(fd));
    fd_set_state(t, fd, FD_WATCH);
}

static void untrack(int fd)
{
    int saved = errno;
    fd_set_state(__atomic_load_n(&fd_tracked, __ATOMIC_ACQUIRE), fd, 0);
    llm_tap_close(FD_KEY(fd));
    errno = saved;
}

LLM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t alen)
{
    int rc, saved;

    resolve();
    rc = real_libc.connect(fd, addr, alen);
    llm_shim_init();
    if (llm_shim_bypass() || !addr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
        return rc;
    saved = errno;
    if (rc == 0 || saved == EINPROGRESS) {
        llm_in_hook = 1;
        track(fd);
        llm_in_hook = 0;
    }
    errno = saved;
    return rc;
}

LLM_EXPORT int close(int fd)
{
    resolve();
    if (tracked(fd) && !llm_shim_off)
        untrack(fd);
    return real_libc.close(fd);
}

/* The data hooks share one shape. The exported function does only the
 * cheap test (is this fd still of interest, are we re-entered?) and calls
 * the real function; the tapping path is a separate, out-of-line function,
 * so the common case pays no stack frame for it. */
#define HOOK(ret, name, params, args, tapped)                                                      \
    static __attribute__((noinline)) ret name##_tapped params                                     \
    {                                                                                              \
        tapped;                                                                                    \
    }                                                                                              \
    LLM_EXPORT ret name params                                                                     \
    {                                                                                              \
        resolve();                                                                                 \
        if (__builtin_expect(!watched(fd) || llm_shim_bypass(), 1))                                \
            return real_libc.name args;                                                            \
        return name##_tapped args;                                                                 \
    }

/* call the real function with the guard set, tap what moved */
#define TAPPED(call, dir, buf)                                                                     \
    ssize_t rc_;                                                                                   \
    llm_in_hook = 1;                                                                               \
    rc_ = call;                                                                                    \
    if (rc_ > 0)                                                                                   \
        tap(fd, dir, buf, (size_t)rc_);                                                            \
    llm_in_hook = 0;                                                                               \
    return rc_

/* the same for vectored calls: each iovec up to the count returned */
#define TAPPED_IOV(call, dir, iov, cnt)                                                            \
    ssize_t rc_;                                                                                   \
    llm_in_hook = 1;                                                                               \
    rc_ = call;                                                                                    \
    if (rc_ > 0)                                                                                   \
        tap_iov(fd, dir, iov, (size_t)(cnt), (size_t)rc_);                                         \
    llm_in_hook = 0;                                                                               \
    return rc_

/* peeked bytes are counted when a later read takes them */
#define PEEK_PASS(call)                                                                            \
    if (flags & MSG_PEEK)                                                                          \
        return call

HOOK(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n),
     TAPPED(real_libc.read(fd, buf, n), LLM_DIR_IN, buf))
HOOK(ssize_t, __read_chk, (int fd, void *buf, size_t n, size_t buflen), (fd, buf, n, buflen),
     TAPPED(real_libc.__read_chk(fd, buf, n, buflen), LLM_DIR_IN, buf))
HOOK(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n),
     TAPPED(real_libc.write(fd, buf, n), LLM_DIR_OUT, buf))
HOOK(ssize_t, send, (int fd, const void *buf, size_t n, int flags), (fd, buf, n, flags),
     TAPPED(real_libc.send(fd, buf, n, flags), LLM_DIR_OUT, buf))
HOOK(ssize_t, sendto,
     (int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t alen),
     (fd, buf, n, flags, addr, alen),
     TAPPED(real_libc.sendto(fd, buf, n, flags, addr, alen), LLM_DIR_OUT, buf))
HOOK(ssize_t, recv, (int fd, void *buf, size_t n, int flags), (fd, buf, n, flags),
     PEEK_PASS(real_libc.recv(fd, buf, n, flags));
     TAPPED(real_libc.recv(fd, buf, n, flags), LLM_DIR_IN, buf))
HOOK(ssize_t, __recv_chk, (int fd, void *buf, size_t n, size_t buflen, int flags),
     (fd, buf, n, buflen, flags), PEEK_PASS(real_libc.__recv_chk(fd, buf, n, buflen, flags));
     TAPPED(real_libc.__recv_chk(fd, buf, n, buflen, flags), LLM_DIR_IN, buf))
HOOK(ssize_t, recvfrom,
     (int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *alen),
     (fd, buf, n, flags, addr, alen), PEEK_PASS(real_libc.recvfrom(fd, buf, n, flags, addr, alen));
     TAPPED(real_libc.recvfrom(fd, buf, n, flags, addr, alen), LLM_DIR_IN, buf))
HOOK(ssize_t, __recvfrom_chk,
     (int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *addr,
      socklen_t *alen),
     (fd, buf, n, buflen, flags, addr, alen),
     PEEK_PASS(real_libc.__recvfrom_chk(fd, buf, n, buflen, flags, addr, alen));
     TAPPED(real_libc.__recvfrom_chk(fd, buf, n, buflen, flags, addr, alen), LLM_DIR_IN, buf))
HOOK(ssize_t, readv, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt),
     TAPPED_IOV(real_libc.readv(fd, iov, cnt), LLM_DIR_IN, iov, cnt))
HOOK(ssize_t, writev, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt),
     TAPPED_IOV(real_libc.writev(fd, iov, cnt), LLM_DIR_OUT, iov, cnt))
HOOK(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags), (fd, msg, flags),
     PEEK_PASS(real_libc.recvmsg(fd, msg, flags));
     TAPPED_IOV(real_libc.recvmsg(fd, msg, flags), LLM_DIR_IN, msg->msg_iov, msg->msg_iovlen))
HOOK(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags),
     TAPPED_IOV(real_libc.sendmsg(fd, msg, flags), LLM_DIR_OUT, msg->msg_iov,
                msg->msg_iovlen))
