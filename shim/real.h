/* The real functions behind our hooks. Each family is resolved once (under
 * pthread_once) the first time one of its hooks runs: by dlsym(RTLD_NEXT)
 * and, when that finds nothing because the library was loaded RTLD_LOCAL
 * (Python's _ssl module does that with libssl), from the already-loaded
 * library itself (dlopen RTLD_NOLOAD). We never link libssl. */
#ifndef LLM_REAL_H
#define LLM_REAL_H

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct llm_real_ssl {
    int (*SSL_read)(SSL *, void *, int);
    int (*SSL_write)(SSL *, const void *, int);
    int (*SSL_read_ex)(SSL *, void *, size_t, size_t *);
    int (*SSL_write_ex)(SSL *, const void *, size_t, size_t *);
    int (*SSL_shutdown)(SSL *);
    void (*SSL_free)(SSL *);
    const char *(*SSL_get_servername)(const SSL *, const int);
    int (*SSL_get_fd)(const SSL *);
};

extern struct llm_real_ssl real_ssl;

/* libc socket and fd I/O, for plaintext HTTP. */
struct llm_real_libc {
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*close)(int);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    ssize_t (*__read_chk)(int, void *, size_t, size_t);
    ssize_t (*__recv_chk)(int, void *, size_t, size_t, int);
    ssize_t (*__recvfrom_chk)(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
};

extern struct llm_real_libc real_libc;

/* glibc declares the fortified variants only under _FORTIFY_SOURCE. */
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __recv_chk(int, void *, size_t, size_t, int);
ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);

void llm_real_resolve_ssl(void);
void llm_real_resolve_libc(void);

#endif
