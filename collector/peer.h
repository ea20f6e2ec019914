/* The process at the other end of a connection the collector did not see
 * from inside (llmops run's proxy): who made the call. The proxy finds it
 * (tools/proxy_peer.c) and sends it after the struct llm_open_info of the
 * connection's OPEN message; the connection (conn.c) keeps it and each
 * exchange stamps it on its record (exchange.c), so the writer fills in its
 * own process only where a record has none. Any thread. */
#ifndef LLM_PEER_H
#define LLM_PEER_H

#include "record.h"

#include <stddef.h>
#include <stdint.h>

struct llm_peer {
    int64_t pid, ppid;
    char *exe;       /* /proc/PID/exe, or NULL */
    char *argv_json; /* a JSON array, redacted (llm_peer_argv_json), or NULL */
    char *session, *workspace, *agent, *action; /* its LLMOPS_* attribution, or NULL */
};

/* A NUL-separated command line (as /proc/PID/cmdline) as a JSON array,
 * secrets removed; without content capture only the program and the flag
 * names. malloc'd, NULL on ENOMEM. */
char *llm_peer_argv_json(const char *cmdline, size_t n, int capture_content);

/* To and from the bytes of an OPEN message's tail. decode returns 0 or
 * LLM_EPARSE / LLM_ENOMEM (out then holds nothing to free). */
int llm_peer_encode(const struct llm_peer *p, char **out, size_t *n);
int llm_peer_decode(const char *buf, size_t n, struct llm_peer *out);
void llm_peer_free(struct llm_peer *p);

/* Puts p's process identity on r, and its attribution where r (the
 * request's own headers) has none. */
void llm_peer_stamp(const struct llm_peer *p, struct llm_record *r);

#endif
