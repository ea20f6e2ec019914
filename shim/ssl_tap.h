/* What every OpenSSL hook does with the bytes of a successful call, shared
 * by the dynamic hooks (hook_ssl.c, interposed by name) and the inline hooks
 * on an executable's own OpenSSL (hook_ssl_inline.c). App threads. */
#ifndef LLM_SSL_TAP_H
#define LLM_SSL_TAP_H

#include "tap.h"

#include <openssl/ssl.h>

typedef const char *(*llm_servername_fn)(const SSL *, int);
typedef int (*llm_get_fd_fn)(const SSL *);

/* Fills info for a new connection: SNI and, when the SSL has a socket, the
 * peer port (either function may be NULL). */
void llm_ssl_describe(SSL *ssl, struct llm_open_info *info, llm_servername_fn servername,
                      llm_get_fd_fn get_fd);
/* Non-zero when this thread already saw the tap rule ssl out (no lookup). */
int llm_ssl_known_pass(SSL *ssl);
/* Reports n bytes that moved on ssl (errno kept). */
void llm_ssl_tap(SSL *ssl, int dir, const void *buf, size_t n, int capture,
                 llm_tap_describe_fn describe);
/* ssl is shut down or about to be freed: its address may be reused. */
void llm_ssl_tap_close(SSL *ssl);

#endif
