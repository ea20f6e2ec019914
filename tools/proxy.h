/* The recording proxy behind `llmops run`: a per-store CA that mints leaf
 * certificates for LLM hosts (proxy_ca.c), and the proxy itself (proxy.c),
 * which tunnels every other connection untouched and feeds copies of the
 * LLM ones to the collector's queue with capture "proxy". */
#ifndef LLM_PROXY_H
#define LLM_PROXY_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/types.h>

struct llm_queue;
struct llm_proxy_ca;
struct llm_proxy;
struct llm_peer;

/* Loads the CA of the store at dir, or makes one (key 0600), constrained to
 * the LLM host names it may sign for. */
int llm_proxy_ca_open(const char *dir, struct llm_proxy_ca **out);
void llm_proxy_ca_free(struct llm_proxy_ca *ca);
/* The CA certificate in PEM (NUL-terminated, owned by ca). */
const char *llm_proxy_ca_pem(const struct llm_proxy_ca *ca);
/* Puts a leaf certificate for host (made once, then cached) and its key on
 * ssl. Any thread. Returns 0 or a negative code. */
int llm_proxy_ca_use_leaf(struct llm_proxy_ca *ca, SSL *ssl, const char *host);
/* The CA files the user's programs trusted (SSL_CERT_FILE or the system's,
 * NODE_EXTRA_CA_CERTS, DENO_CERT, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), in
 * order, deduplicated; NULL-terminated, static storage. */
const char *const *llm_proxy_trust_files(void);

/* The process that owns the other end of fd, a connection accepted on
 * loopback (proxy_peer.c), searching root's descendants first: its pid,
 * ppid, exe, argv (redacted as the writer redacts its own) and LLMOPS_*
 * attribution. Returns 0, LLM_ENOTFOUND or a negative errno. */
int llm_proxy_peer_find(int fd, pid_t root, int capture_content, struct llm_peer *out);

struct llm_proxy_opts {
    const char *dir;     /* the store: CA files and the run's bundle go here */
    struct llm_queue *q; /* where copies of LLM traffic go */
    int capture_content; /* LLMOPS_CAPTURE_CONTENT: argv values kept (redacted) */
};

/* Binds 127.0.0.1:0, writes the bundle for the child, starts the accept
 * thread. */
int llm_proxy_start(const struct llm_proxy_opts *o, struct llm_proxy **out);
int llm_proxy_port(const struct llm_proxy *p);
/* CMD's pid once forked: its descendants are searched first for callers. */
void llm_proxy_set_root(struct llm_proxy *p, pid_t pid);
/* Trust for the child: a PEM bundle (the user's trust plus our CA) and a
 * directory list for SSL_CERT_DIR. */
const char *llm_proxy_bundle(const struct llm_proxy *p);
const char *llm_proxy_cert_dir(const struct llm_proxy *p);
/* Stops accepting, gives open connections up to timeout_ms to end, then
 * cuts them; removes the run's files. */
void llm_proxy_stop(struct llm_proxy *p, int timeout_ms);

#endif
