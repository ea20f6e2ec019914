/* The hand-off from the app's threads to the collector thread: a bounded
 * multi-producer, single-consumer FIFO of byte messages. Producers hold the
 * mutex only to link a message in, never across I/O; when the queue holds
 * more than its byte budget the push fails (the caller counts the drop and
 * marks the connection) instead of blocking the app. */
#ifndef LLM_QUEUE_H
#define LLM_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum llm_msg_kind {
    LLM_MSG_OPEN,  /* data: struct llm_open_info, maybe a struct llm_peer after it */
    LLM_MSG_OUT,   /* bytes the client sent */
    LLM_MSG_IN,    /* bytes the client received */
    LLM_MSG_CLOSE, /* the connection ended (SSL_shutdown, SSL_free, close) */
};

#define LLM_MSG_F_LOST 0x1 /* bytes of this connection were dropped before this message */

#define LLM_CAPTURE_OPENSSL 1
#define LLM_CAPTURE_LIBCURL 2
#define LLM_CAPTURE_SOCKET 3
#define LLM_CAPTURE_OPENSSL_INLINE 4 /* an executable's own OpenSSL, through inline hooks */
#define LLM_CAPTURE_PROXY 5          /* llmops run's recording proxy (tools/proxy.c) */

struct llm_peer;

struct llm_open_info {
    int capture; /* LLM_CAPTURE_* */
    int tls;
    int opaque; /* TLS to an LLM host through a library we cannot hook: no bytes follow */
    int port;   /* peer port, 0 when unknown */
    char sni[256];
    /* the calling process when it is not this one (llmops run's proxy): the
     * OPEN message carries it after this struct (peer.h); conn.c sets this */
    const struct llm_peer *peer;
};

struct llm_msg {
    struct llm_msg *next;
    uint64_t conn;   /* connection id, unique within the process */
    int64_t ts_ns;   /* CLOCK_REALTIME when the bytes were seen */
    int64_t mono_ns; /* CLOCK_MONOTONIC, same instant */
    uint16_t kind;
    uint16_t flags;
    uint32_t len;
    char data[];
};

struct llm_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct llm_msg *head, *tail;
    size_t bytes, max_bytes;
    uint64_t dropped; /* messages refused because the queue was full */
    int waiting;      /* the consumer sleeps on cv */
    int stopping;     /* wake the consumer for good */
};

void llm_queue_init(struct llm_queue *q, size_t max_bytes);
/* Allocates a message with room for len bytes (NULL on ENOMEM). */
struct llm_msg *llm_msg_new(uint64_t conn, enum llm_msg_kind kind, const void *data, size_t len,
                            int64_t ts_ns, int64_t mono_ns);
/* Takes ownership of m. Returns 0, or LLM_EFULL after freeing m. */
int llm_queue_push(struct llm_queue *q, struct llm_msg *m);
/* Takes every queued message, waiting up to timeout_ms for the first one.
 * Returns the list (oldest first) or NULL. */
struct llm_msg *llm_queue_take(struct llm_queue *q, int timeout_ms);
void llm_queue_stop(struct llm_queue *q);
/* In a forked child: forget the parent's messages (other threads may have
 * been mid-push, so nothing is freed) and start over. */
void llm_queue_reset(struct llm_queue *q);
void llm_msg_free_list(struct llm_msg *m);

#endif
