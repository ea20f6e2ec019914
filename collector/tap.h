/* The app-thread side of the collector: every hook reports the bytes it saw
 * here. A connection is looked up by the key the hook knows it by (SSL*,
 * CURL*, fd), classified on its first outgoing bytes, and then either passed
 * through for good (a table lookup per call) or copied into the queue for
 * the collector thread. No parsing beyond classification, no I/O, no waiting:
 * locks are held only around the table and queue updates. */
#ifndef LLM_TAP_H
#define LLM_TAP_H

#include "h2peek.h"
#include "queue.h"

#include <stddef.h>
#include <stdint.h>

#define LLM_DIR_OUT 0
#define LLM_DIR_IN 1

/* Fills what the hook knows of a new connection (SNI, peer port), called at
 * most once per connection, only when it is being classified. */
typedef void (*llm_tap_describe_fn)(uintptr_t key, struct llm_open_info *info);
/* Starts the collector thread; called once, outside every tap lock, when the
 * first LLM connection is seen. Returns 0 or a negative code (tapping stops). */
typedef int (*llm_tap_start_fn)(struct llm_queue *q);

/* Returns the core's HTTP/2 first-request reader (loading the core if
 * needed, starting nothing), or NULL; called at most once, outside every tap
 * lock, when a connection's first bytes are the HTTP/2 preface. */
typedef llm_h2peek_fn (*llm_tap_h2peek_load_fn)(void);
struct llm_tap_config {
    size_t queue_max; /* bytes the queue may hold */
    llm_tap_start_fn start;
    llm_tap_h2peek_load_fn load_h2peek; /* may be NULL: HTTP/2 is then judged by SNI */
};

void llm_tap_init(const struct llm_tap_config *cfg);
#define LLM_TAP_PASS 1 /* the connection is not ours: the hook may stop reporting it */

/* Reports bytes that a real call moved successfully. Every failure is
 * absorbed here; the return says whether the connection still matters: 0,
 * or LLM_TAP_PASS once it is classified as not an LLM connection (or tapping
 * is off), after which the hook may skip llm_tap_data for this key until
 * llm_tap_close. */
int llm_tap_data(uintptr_t key, int dir, const void *buf, size_t len, int capture,
                 llm_tap_describe_fn describe);
/* The connection behind key is gone (its key may be reused from now on). */
void llm_tap_close(uintptr_t key);
/* Non-zero while the key is a watched (LLM) connection. */
int llm_tap_watched(uintptr_t key);
/* Reports the connections still open that went to an LLM host through a
 * TLS library we cannot hook (one "not_observable" record per host). Called
 * at exit, before the collector's last flush. */
void llm_tap_report_opaque(void);
/* The process's TLS is seen decrypted even where no library call is
 * interposed (inline hooks on the executable's own OpenSSL): TLS records in
 * the socket layer are then never reported as not_observable. */
void llm_tap_tls_hooked(void);
/* Stops tapping for good (the collector failed or the process is exiting). */
void llm_tap_disable(void);
/* Forked child: forget every connection and the queue, start over lazily. */
void llm_tap_atfork_child(void);

struct llm_tap_stats {
    uint64_t conns_seen, conns_llm, msgs, dropped;
};
void llm_tap_get_stats(struct llm_tap_stats *st);

#endif
