/* The real functions behind our hooks. Each family is resolved once (under
 * pthread_once) the first time one of its hooks runs: by dlsym(RTLD_NEXT)
 * and, when that finds nothing because the library was loaded RTLD_LOCAL
 * (Python's _ssl module does that with libssl), from the already-loaded
 * library itself (dlopen RTLD_NOLOAD). We never link libssl or libcurl. */
#ifndef LLM_REAL_H
#define LLM_REAL_H

#define CURL_DISABLE_TYPECHECK 1 /* the typecheck macros would rename our hooks */
#define CURL_DISABLE_DEPRECATION 1
#define CURL_ALLOW_OLD_MULTI_SOCKET 1 /* old binaries still call curl_multi_socket */
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct llm_real_ssl {
    int (*SSL_read)(SSL *, void *, int);
    int (*SSL_write)(SSL *, const void *, int);
    int (*SSL_read_ex)(SSL *, void *, size_t, size_t *);
    int (*SSL_write_ex)(SSL *, const void *, size_t, size_t *);
    int (*SSL_shutdown)(SSL *);
    int (*SSL_connect)(SSL *);
    int (*SSL_do_handshake)(SSL *);
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

/* libcurl's API (headers only: the shim never links libcurl). */
struct llm_real_curl {
    CURL *(*curl_easy_init)(void);
    CURLcode (*curl_easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*curl_easy_perform)(CURL *);
    void (*curl_easy_cleanup)(CURL *);
    void (*curl_easy_reset)(CURL *);
    CURL *(*curl_easy_duphandle)(CURL *);
    CURLMcode (*curl_multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*curl_multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*curl_multi_perform)(CURLM *, int *);
    CURLMcode (*curl_multi_socket_action)(CURLM *, curl_socket_t, int, int *);
    CURLMcode (*curl_multi_socket)(CURLM *, curl_socket_t, int *);
    CURLMcode (*curl_multi_socket_all)(CURLM *, int *);
    CURLMsg *(*curl_multi_info_read)(CURLM *, int *);
    CURLcode (*curl_easy_getinfo)(CURL *, CURLINFO, ...); /* called, not hooked */
};

extern struct llm_real_curl real_curl;

void llm_real_resolve_ssl(void);
extern int llm_real_ssl_done;

/* The hooks' fast path: one load once resolution has happened. */
static inline void llm_real_ssl_ready(void)
{
    if (__builtin_expect(!__atomic_load_n(&llm_real_ssl_done, __ATOMIC_ACQUIRE), 0))
        llm_real_resolve_ssl();
}
void llm_real_resolve_libc(void);
extern int llm_real_libc_done;

/* The socket hooks' fast path: one load once resolution has happened (every
 * entry of real_libc is then visible to this thread). */
static inline void llm_real_libc_ready(void)
{
    if (__builtin_expect(!__atomic_load_n(&llm_real_libc_done, __ATOMIC_ACQUIRE), 0))
        llm_real_resolve_libc();
}
void llm_real_resolve_curl(void);

#endif
