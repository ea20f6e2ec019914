/* Connection table and classification (app threads).
 *
 * The table is a fixed array of buckets, each chain guarded by one of
 * NSTRIPES mutexes. Messages for a connection are queued while its stripe is
 * held, so the collector sees one connection's bytes in the order the hooks
 * reported them. The collector is started after the stripe is released
 * (dlopen and pthread_create must not run under our locks).
 *
 * A connection being classified keeps its first outgoing bytes (the head),
 * and, when it looks like HTTP/2 that is not decided yet, the server's first
 * bytes too (its SETTINGS, or the 101 of an h2c upgrade), so that the
 * collector sees both directions from their start.
 *
 * The bucket array is allocated on the first entry, and connections still
 * in ST_OPAQUE are also kept on their own list, so that a process pays
 * only for what it used: at exit the opaque list is walked (usually empty),
 * never the table; after fork the child drops the array pointer.
 *
 * After fork the child cannot trust any lock or list another thread held, so
 * llm_tap_atfork_child() re-initialises the locks and forgets (leaks) the
 * parent's entries rather than freeing them. */
#include "tap.h"
#include "classify.h"
#include "tap_proxy.h"
#include "providers.h"
#include "tlshello.h"
#include "err.h"
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096
#define NSTRIPES 64

/* ST_OPAQUE: TLS to an LLM host that we see only as TLS records (the socket
 * hooks saw a ClientHello no SSL hook took part in); reported when it ends,
 * unless an SSL hook saw a connection to the same host meanwhile (Python's
 * asyncio sends OpenSSL's memory-BIO records through plain sockets). */
enum { ST_UNKNOWN, ST_OTHER, ST_WATCHED, ST_OPAQUE };

#define SNI_SET 64
struct sni_set {
    char host[SNI_SET][256];
    unsigned n;
};
static struct sni_set ssl_seen; /* hosts an SSL hook described */
static struct sni_set reported; /* hosts already reported not_observable */
static pthread_mutex_t sni_mu = PTHREAD_MUTEX_INITIALIZER;

struct tap_conn {
    struct tap_conn *next;
    struct tap_conn *onext, **oprev; /* the opaque list, while ST_OPAQUE */
    uintptr_t key;
    uint64_t id;
    int state;
    int lost; /* a push failed: tell the collector on the next one */
    int capture;
    int cls;          /* the last classification (LLM_CLASS_MORE or _MORE_H2) */
    int server_first; /* the server's bytes came before any of the client's */
    char *head;       /* first outgoing bytes while unclassified */
    size_t hlen;
    int64_t t0_ns, t0_mono; /* when the first of those bytes was seen */
    char *in_head;          /* first incoming bytes while unclassified (HTTP/2 only) */
    size_t in_len;
    int64_t in_ns, in_mono;
    struct llm_open_info info;
};

/* NULL until the first entry (set once per process, under a stripe, with
 * a compare-and-swap); zero-filled mutexes are default-initialised ones. */
static struct tap_conn **buckets;
static pthread_mutex_t stripes[NSTRIPES];
static struct tap_conn *opaque_head; /* connections in ST_OPAQUE */
static pthread_mutex_t opaque_mu = PTHREAD_MUTEX_INITIALIZER;
static struct llm_queue queue; /* initialised with the first entry */
static pthread_once_t queue_once = PTHREAD_ONCE_INIT;
static int queue_ready;
static struct llm_tap_config config;
static uint64_t next_id;
static int disabled;
static int started; /* 0 not yet, 1 running, -1 failed */
static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
static struct llm_tap_stats stats;
static llm_h2peek_fn h2peek; /* set once, before h2peek_tried */
static int h2peek_tried;
static int tls_hooked; /* llm_tap_tls_hooked(): kept across fork (the hooks are) */

static inline size_t bucket_of(uintptr_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 52) & (NBUCKETS - 1);
}

void llm_tap_init(const struct llm_tap_config *cfg)
{
    config = *cfg;
}

static void queue_init(void)
{
    llm_queue_init(&queue, config.queue_max);
    queue_ready = 1;
}

/* The entry for key, or NULL; with the stripe of b held. */
static struct tap_conn *lookup(size_t b, uintptr_t key)
{
    struct tap_conn **t = __atomic_load_n(&buckets, __ATOMIC_ACQUIRE), *c;

    if (!t)
        return NULL;
    for (c = t[b]; c && c->key != key; c = c->next)
        ;
    return c;
}

/* Links a new entry into bucket b (stripe held); 0, or -1 without memory. */
static int insert(size_t b, struct tap_conn *c)
{
    struct tap_conn **t = __atomic_load_n(&buckets, __ATOMIC_ACQUIRE);

    if (!t) {
        struct tap_conn **fresh = calloc(NBUCKETS, sizeof(*fresh)), **none = NULL;
        if (!fresh)
            return -1;
        /* nothing is pushed before a connection has an entry */
        pthread_once(&queue_once, queue_init);
        if (__atomic_compare_exchange_n(&buckets, &none, fresh, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            t = fresh;
        else {
            free(fresh);
            t = none;
        }
    }
    c->next = t[b];
    t[b] = c;
    return 0;
}

static void opaque_add(struct tap_conn *c)
{
    pthread_mutex_lock(&opaque_mu);
    c->onext = opaque_head;
    c->oprev = &opaque_head;
    if (opaque_head)
        opaque_head->oprev = &c->onext;
    __atomic_store_n(&opaque_head, c, __ATOMIC_RELAXED); /* read unlocked at exit */
    pthread_mutex_unlock(&opaque_mu);
}

static void opaque_del(struct tap_conn *c)
{
    pthread_mutex_lock(&opaque_mu);
    __atomic_store_n(c->oprev, c->onext, __ATOMIC_RELAXED);
    if (c->onext)
        c->onext->oprev = c->oprev;
    c->onext = NULL;
    c->oprev = NULL;
    pthread_mutex_unlock(&opaque_mu);
}

static int sni_has(const struct sni_set *set, const char *host)
{
    unsigned n = set->n < SNI_SET ? set->n : SNI_SET;
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(set->host[i], host))
            return 1;
    return 0;
}

static void sni_add(struct sni_set *set, const char *host)
{
    if (!sni_has(set, host))
        snprintf(set->host[set->n++ % SNI_SET], sizeof(set->host[0]), "%s", host);
}

static void push(struct tap_conn *c, enum llm_msg_kind kind, const void *data, size_t len,
                 int64_t ts, int64_t mono)
{
    struct llm_msg *m = llm_msg_new(c->id, kind, data, len, ts, mono);

    if (!m) {
        c->lost = 1;
        return;
    }
    if (c->lost)
        m->flags |= LLM_MSG_F_LOST;
    if (llm_queue_push(&queue, m)) {
        c->lost = 1;
        __atomic_fetch_add(&stats.dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    c->lost = 0;
    __atomic_fetch_add(&stats.msgs, 1, __ATOMIC_RELAXED);
}

static void ensure_started(void)
{
    int rc;

    if (__atomic_load_n(&started, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&start_mu);
    if (!started) {
        rc = config.start ? config.start(&queue) : LLM_ENOCORE;
        if (rc) {
            llm_log("collector start failed: %s; tapping disabled", llm_strerror(rc));
            __atomic_store_n(&disabled, 1, __ATOMIC_RELEASE);
            llm_queue_stop(&queue);
        }
        __atomic_store_n(&started, rc ? -1 : 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&start_mu);
}

/* The core reads HTTP/2 first requests; load it the first time a connection
 * starts with the preface (outside every tap lock: dlopen). */
static void ensure_h2peek(void)
{
    pthread_mutex_lock(&start_mu);
    if (!h2peek_tried) {
        h2peek = config.load_h2peek ? config.load_h2peek() : NULL;
        __atomic_store_n(&h2peek_tried, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&start_mu);
}

/* Could these first bytes from a server be an HTTP/2 SETTINGS frame? */
static int h2_settings(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint32_t n;

    if (len < 9 || p[3] != 4 || p[4] != 0 || p[5] || p[6] || p[7] || p[8])
        return 0;
    n = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    return n % 6 == 0 && n <= 16384;
}

/* Keeps the server's first bytes while an HTTP/2 connection is being
 * classified; 0, or -1 past the cap (the connection is then given up). */
static int keep_in(struct tap_conn *c, const void *buf, size_t len, int64_t ts, int64_t mono)
{
    char *h;

    if (c->in_len + len > LLM_CLASS_HEAD_MAX)
        return -1;
    h = realloc(c->in_head, c->in_len + len);
    if (!h)
        return -1;
    if (!c->in_len) {
        c->in_ns = ts;
        c->in_mono = mono;
    }
    memcpy(h + c->in_len, buf, len);
    c->in_head = h;
    c->in_len += len;
    return 0;
}

/* Classify c with its accumulated head. Called with the stripe held. */
static int classify(struct tap_conn *c, llm_tap_describe_fn describe, uintptr_t key)
{
    if (!c->info.capture) {
        c->info.capture = c->capture;
        if (describe)
            describe(key, &c->info);
        if (c->info.sni[0] && c->capture != LLM_CAPTURE_SOCKET) {
            pthread_mutex_lock(&sni_mu);
            sni_add(&ssl_seen, c->info.sni);
            pthread_mutex_unlock(&sni_mu);
        }
        if (llm_tap_proxy_owns(c->capture, &c->info, c->head, c->hlen))
            return LLM_CLASS_OTHER; /* under llmops run, the proxy records it */
    }
    if (c->capture == LLM_CAPTURE_SOCKET && c->hlen && (unsigned char)c->head[0] == 0x16) {
        char sni[256];
        if (__atomic_load_n(&tls_hooked, __ATOMIC_RELAXED))
            return LLM_CLASS_OTHER;
        int r = llm_tls_sni((const unsigned char *)c->head, c->hlen, sni, sizeof(sni));
        if (r == LLM_EPARTIAL)
            return c->hlen < LLM_CLASS_HEAD_MAX ? LLM_CLASS_MORE : LLM_CLASS_OTHER;
        if (r == 1 && llm_provider_for_host(sni, strlen(sni)) && c->state != ST_OPAQUE) {
            snprintf(c->info.sni, sizeof(c->info.sni), "%s", sni);
            c->state = ST_OPAQUE;
            opaque_add(c);
        }
        return LLM_CLASS_OTHER;
    }
    return llm_classify(c->head, c->hlen, c->info.sni[0] ? c->info.sni : NULL,
                        __atomic_load_n(&h2peek_tried, __ATOMIC_ACQUIRE) ? h2peek : NULL);
}

static void drop_head(struct tap_conn *c)
{
    free(c->head);
    free(c->in_head);
    c->head = c->in_head = NULL;
    c->hlen = c->in_len = 0;
}

/* A connection seen for the first time, entered in the table. One whose
 * server spoke first is not HTTP (ST_OTHER from now on), unless its bytes
 * are an HTTP/2 server's SETTINGS (a TLS server may send them before the
 * client's preface). NULL when out of memory. Stripe held. */
static struct tap_conn *conn_new(size_t b, uintptr_t key, int capture, int dir, const void *buf,
                                 size_t len)
{
    int other = dir == LLM_DIR_IN && !h2_settings(buf, len);
    struct tap_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    if (insert(b, c)) {
        free(c);
        return NULL;
    }
    c->key = key;
    if (other) {
        c->state = ST_OTHER;
        return c;
    }
    c->capture = capture;
    c->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&stats.conns_seen, 1, __ATOMIC_RELAXED);
    if (dir == LLM_DIR_IN) {
        c->cls = LLM_CLASS_MORE_H2;
        c->server_first = 1;
    }
    return c;
}

/* Outgoing bytes of a connection not yet classified: kept (up to
 * LLM_CLASS_HEAD_MAX) until the classifier decides. An LLM connection is
 * watched from then on, its kept bytes queued first; any other is passed
 * through for good. Returns 1 when the collector must be started. Stripe
 * held. */
static int take_out(struct tap_conn *c, const void *buf, size_t len, int64_t ts, int64_t mono,
                    llm_tap_describe_fn describe, uintptr_t key)
{
    size_t take = len;
    char *h;
    int cls;

    if (!c->hlen) {
        c->t0_ns = ts;
        c->t0_mono = mono;
    }
    if (c->hlen + take > LLM_CLASS_HEAD_MAX)
        take = LLM_CLASS_HEAD_MAX - c->hlen;
    h = realloc(c->head, c->hlen + take);
    if (!h) {
        c->state = ST_OTHER;
        goto drop;
    }
    memcpy(h + c->hlen, buf, take);
    c->head = h;
    c->hlen += take;
    cls = c->cls = classify(c, describe, key);
    if ((cls == LLM_CLASS_MORE || cls == LLM_CLASS_MORE_H2) && take == len)
        return 0;
    if (cls != LLM_CLASS_LLM) {
        if (c->state != ST_OPAQUE)
            c->state = ST_OTHER;
        goto drop;
    }
    c->state = ST_WATCHED;
    __atomic_fetch_add(&stats.conns_llm, 1, __ATOMIC_RELAXED);
    push(c, LLM_MSG_OPEN, &c->info, sizeof(c->info), c->t0_ns, c->t0_mono);
    push(c, LLM_MSG_OUT, c->head, c->hlen, c->t0_ns, c->t0_mono);
    if (take < len)
        push(c, LLM_MSG_OUT, (const char *)buf + take, len - take, ts, mono);
    /* the server's first bytes, unless they only looked like HTTP/2 */
    if (c->in_len && (!c->server_first || !memcmp(c->head, "PRI", 3)))
        push(c, LLM_MSG_IN, c->in_head, c->in_len, c->in_ns, c->in_mono);
    drop_head(c);
    return 1;

drop:
    drop_head(c);
    return 0;
}

int llm_tap_data(uintptr_t key, int dir, const void *buf, size_t len, int capture,
                 llm_tap_describe_fn describe)
{
    size_t b = bucket_of(key);
    pthread_mutex_t *mu = &stripes[b % NSTRIPES];
    struct tap_conn *c;
    int64_t ts, mono;
    int start = 0, pass;

    if (__atomic_load_n(&disabled, __ATOMIC_RELAXED))
        return LLM_TAP_PASS;
    if (!len)
        return 0;
    if (dir == LLM_DIR_OUT && len >= 3 && !memcmp(buf, "PRI", 3) &&
        !__atomic_load_n(&h2peek_tried, __ATOMIC_ACQUIRE))
        ensure_h2peek();
    pthread_mutex_lock(mu);
    c = lookup(b, key);
    if (c && (c->state == ST_OTHER || c->state == ST_OPAQUE))
        goto unlock;
    ts = llm_now_ns();
    mono = llm_mono_ns();
    if (!c && (!(c = conn_new(b, key, capture, dir, buf, len)) || c->state == ST_OTHER))
        goto unlock;
    if (c->state == ST_WATCHED)
        push(c, dir == LLM_DIR_OUT ? LLM_MSG_OUT : LLM_MSG_IN, buf, len, ts, mono);
    else if (dir == LLM_DIR_OUT) /* ST_UNKNOWN */
        start = take_out(c, buf, len, ts, mono, describe, key);
    else if (c->cls != LLM_CLASS_MORE_H2 || keep_in(c, buf, len, ts, mono)) {
        c->state = ST_OTHER; /* the server spoke first and is not HTTP/2 */
        drop_head(c);
    }
unlock:
    pass = c && (c->state == ST_OTHER || c->state == ST_OPAQUE);
    pthread_mutex_unlock(mu);
    if (start)
        ensure_started();
    return pass ? LLM_TAP_PASS : 0;
}

/* One not_observable record per host and process, unless an SSL hook saw
 * the same host (then the TLS records were OpenSSL's, sent through a plain
 * socket by the application). Called with the stripe held; returns 1 when a
 * record was queued and the collector must be started. */
static int report_opaque(struct tap_conn *c)
{
    int fresh;

    if (__atomic_load_n(&disabled, __ATOMIC_RELAXED))
        return 0;
    pthread_mutex_lock(&sni_mu);
    fresh = !sni_has(&ssl_seen, c->info.sni) && !sni_has(&reported, c->info.sni);
    if (fresh)
        sni_add(&reported, c->info.sni);
    pthread_mutex_unlock(&sni_mu);
    if (!fresh)
        return 0;
    c->info.opaque = 1;
    c->info.capture = LLM_CAPTURE_SOCKET;
    push(c, LLM_MSG_OPEN, &c->info, sizeof(c->info), c->t0_ns, c->t0_mono);
    push(c, LLM_MSG_CLOSE, NULL, 0, llm_now_ns(), llm_mono_ns());
    return 1;
}

void llm_tap_close(uintptr_t key)
{
    size_t b = bucket_of(key);
    pthread_mutex_t *mu = &stripes[b % NSTRIPES];
    struct tap_conn **t, **pp, *c = NULL;
    int start = 0;

    /* a process that never tracked a connection has nothing to close */
    if (!__atomic_load_n(&buckets, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(mu);
    t = __atomic_load_n(&buckets, __ATOMIC_ACQUIRE);
    for (pp = &t[b]; *pp; pp = &(*pp)->next) {
        if ((*pp)->key == key) {
            c = *pp;
            *pp = c->next;
            break;
        }
    }
    if (c && c->state == ST_WATCHED && !__atomic_load_n(&disabled, __ATOMIC_RELAXED))
        push(c, LLM_MSG_CLOSE, NULL, 0, llm_now_ns(), llm_mono_ns());
    if (c && c->state == ST_OPAQUE) {
        opaque_del(c);
        start = report_opaque(c);
    }
    pthread_mutex_unlock(mu);
    if (c) {
        free(c->head);
        free(c->in_head);
        free(c);
    }
    if (start)
        ensure_started();
}

/* Walks the opaque list only. Its lock is taken inside a stripe elsewhere,
 * so here the key is read under it alone, then the entry is looked up again
 * under its stripe: it may have been closed (and its key reused) meanwhile,
 * in which case it has left the list and the loop moves on. */
void llm_tap_report_opaque(void)
{
    int start = 0;

    if (!__atomic_load_n(&opaque_head, __ATOMIC_RELAXED))
        return;
    for (;;) {
        uintptr_t key;
        struct tap_conn *c;

        pthread_mutex_lock(&opaque_mu);
        key = opaque_head ? opaque_head->key : 0;
        c = opaque_head;
        pthread_mutex_unlock(&opaque_mu);
        if (!c)
            break;
        size_t b = bucket_of(key);
        pthread_mutex_t *mu = &stripes[b % NSTRIPES];
        pthread_mutex_lock(mu);
        c = lookup(b, key);
        if (c && c->state == ST_OPAQUE) {
            opaque_del(c);
            start |= report_opaque(c);
            c->state = ST_OTHER;
        }
        pthread_mutex_unlock(mu);
    }
    if (start)
        ensure_started();
}

int llm_tap_watched(uintptr_t key)
{
    size_t b = bucket_of(key);
    pthread_mutex_t *mu = &stripes[b % NSTRIPES];
    struct tap_conn *c;
    int w;

    if (!__atomic_load_n(&buckets, __ATOMIC_ACQUIRE))
        return 0;
    pthread_mutex_lock(mu);
    c = lookup(b, key);
    w = c && c->state == ST_WATCHED;
    pthread_mutex_unlock(mu);
    return w;
}

void llm_tap_tls_hooked(void)
{
    __atomic_store_n(&tls_hooked, 1, __ATOMIC_RELAXED);
}

void llm_tap_disable(void)
{
    __atomic_store_n(&disabled, 1, __ATOMIC_RELEASE);
    llm_queue_stop(&queue);
}

void llm_tap_atfork_child(void)
{
    buckets = NULL; /* the parent's entries are leaked, not walked */
    opaque_head = NULL;
    memset(stripes, 0, sizeof(stripes));
    pthread_mutex_init(&opaque_mu, NULL);
    pthread_mutex_init(&start_mu, NULL);
    pthread_mutex_init(&sni_mu, NULL);
    llm_tap_proxy_atfork_child();
    memset(&ssl_seen, 0, sizeof(ssl_seen));
    memset(&reported, 0, sizeof(reported));
    if (queue_ready) /* the parent's messages are leaked too */
        llm_queue_reset(&queue);
    started = 0;
    disabled = 0;
    memset(&stats, 0, sizeof(stats));
}

void llm_tap_get_stats(struct llm_tap_stats *st)
{
    st->conns_seen = __atomic_load_n(&stats.conns_seen, __ATOMIC_RELAXED);
    st->conns_llm = __atomic_load_n(&stats.conns_llm, __ATOMIC_RELAXED);
    st->msgs = __atomic_load_n(&stats.msgs, __ATOMIC_RELAXED);
    st->dropped = __atomic_load_n(&stats.dropped, __ATOMIC_RELAXED);
}
