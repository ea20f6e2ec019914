/* Reads the server name (SNI) out of a TLS ClientHello, for connections whose
 * TLS library we cannot hook: the socket hooks see its records, and the name
 * is all they can tell. A pure function of the bytes; app threads. */
#ifndef LLM_TLSHELLO_H
#define LLM_TLSHELLO_H

#include <stddef.h>

/* Returns 1 with the host name in sni (NUL-terminated), 0 when buf is not a
 * ClientHello or carries no server name, or LLM_EPARTIAL when more bytes are
 * needed to tell. */
int llm_tls_sni(const unsigned char *buf, size_t len, char *sni, size_t n);

#endif
