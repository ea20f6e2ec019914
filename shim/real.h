/* The real functions behind our hooks. Each family is resolved once (under
 * pthread_once) the first time one of its hooks runs: by dlsym(RTLD_NEXT)
 * and, when that finds nothing because the library was loaded RTLD_LOCAL
 * (Python's _ssl module does that with libssl), from the already-loaded
 * library itself (dlopen RTLD_NOLOAD). We never link libssl. */
#ifndef LLM_REAL_H
#define LLM_REAL_H

#include <openssl/ssl.h>

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

void llm_real_resolve_ssl(void);

#endif
