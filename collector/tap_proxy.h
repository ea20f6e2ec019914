/* Under `llmops run`, the connections a program makes to the run's
 * recording proxy (LLMOPS_PROXY) are the proxy's to record: the tap passes
 * them through, so each call is recorded once whichever path sees it.
 * App threads; a pure lookup plus a small table of tunnels. */
#ifndef LLM_TAP_PROXY_H
#define LLM_TAP_PROXY_H

#include "queue.h"

#include <stddef.h>

/* Reads "127.0.0.1:PORT" (NULL or empty: no proxy). Call once at start. */
void llm_tap_proxy_configure(const char *hostport);
/* Called once per new connection, after its describe: non-zero when the
 * connection goes through the proxy, so that the tap must pass it. A
 * plain-socket CONNECT to the proxy is remembered, so that a TLS
 * connection with no socket of its own (a memory BIO: Node, asyncio) to
 * the same host is known to ride in that tunnel. */
int llm_tap_proxy_owns(int capture, const struct llm_open_info *info, const char *head,
                       size_t hlen);
void llm_tap_proxy_atfork_child(void);

#endif
