/* Internals of the recording proxy shared by its files: proxy.c (start,
 * stop, accept, one thread per connection), proxy_tunnel.c (the request
 * head: CONNECT and tunnels, plain http://), proxy_mitm.c (the relay and TLS
 * interception), proxy_io.c (socket and TLS I/O, dialling, feeding the
 * collector). Not for use outside tools/proxy*.c. */
#ifndef LLM_PROXY_INT_H
#define LLM_PROXY_INT_H

#include "proxy.h"
#include "queue.h"

#include <limits.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define HEAD_MAX 16384
#define IO_TIMEOUT_MS 30000 /* a handshake or a blocked write */
#define CONNECT_TIMEOUT_MS 15000
#define GRACE_MS 1500 /* the upstream's last bytes after the client hung up, */
#define QUIET_MS 200  /* or until it has been quiet this long */
#define CHUNK 16384

struct llm_proxy {
    int lfd, port;
    int stop_accept[2], cut[2]; /* pipes: stop accepting; end every connection */
    pthread_t acceptor;
    int acceptor_started;
    struct llm_proxy_ca *ca;
    SSL_CTX *client_ctx, *up_ctx;
    struct llm_queue *q;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int active;
    int up_trust_loaded;
    int capture_content;
    pid_t root; /* CMD, once forked (atomic) */
    char rundir[PATH_MAX], bundle[PATH_MAX + 16], certdir[2 * PATH_MAX + 32];
};

struct side {
    int fd;
    SSL *ssl;
};

struct pconn {
    struct llm_proxy *p;
    struct side c, u;
    char host[256], name[256]; /* CONNECT target; the name intercepted */
    int port;
    uint64_t id;            /* collector connection, 0 when not recorded */
    int lost;               /* a copy was dropped (queue full) */
    int up_err;             /* errno of a failed upstream connect/handshake */
    unsigned char alpn[64]; /* what the client offered, wire format */
    size_t alpn_len;
    char head[HEAD_MAX + 1];
    size_t hlen;
};

/* Waits for ev on fd, or the proxy's cut: 0, -ETIMEDOUT, -ECANCELED. */
int llm_proxy_wait_fd(struct llm_proxy *p, int fd, short ev, int ms);
/* Returns bytes read, 0 at the end, -EAGAIN, or another negative errno. */
ssize_t llm_proxy_side_read(struct side *s, void *buf, size_t n);
/* Writes all of buf (waiting as needed): 0 or a negative errno. */
int llm_proxy_side_write(struct llm_proxy *p, struct side *s, const char *buf, size_t n);
/* A short plain-text answer to the client (proxy errors). */
void llm_proxy_say(struct pconn *c, int status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Connects c->u to host:port (LLMOPS_CONNECT_TO applied): 0 or -errno. */
int llm_proxy_dial(struct pconn *c, const char *host, int port);
/* A copy of bytes to the collector (nothing when c is not recorded). */
void llm_proxy_record(struct pconn *c, enum llm_msg_kind kind, const void *p, size_t n);
/* Makes c a recorded connection, naming the program that opened it. */
void llm_proxy_record_open(struct pconn *c, int tls);

/* Moves bytes both ways until both sides are done (proxy_mitm.c). */
void llm_proxy_relay(struct pconn *c);
/* The TLS contexts: client side (our leaves), upstream side (verified). */
int llm_proxy_tls_init(struct llm_proxy *p);
/* TLS on both sides of an LLM tunnel, then the relay. */
int llm_proxy_intercept(struct pconn *c);

/* Reads the client's request and serves it (proxy_tunnel.c). */
void llm_proxy_serve(struct pconn *c);

#endif
