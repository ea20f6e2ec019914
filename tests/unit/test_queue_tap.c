/* queue.c + tap.c: the bounded MPSC queue (FIFO, byte budget, stop, timeout,
 * reset, many producers) and the app-thread tap: classification with a fake
 * describe hook, the start hook (called once, given the queue), the exact
 * message sequence (OPEN, accumulated head, IN, CLOSE) and its ordering,
 * OTHER passthrough, close and key reuse, a queue-full drop flagging the
 * next message with LLM_MSG_F_LOST, start failure, llm_tap_atfork_child, and
 * HTTP/2 no SNI names: the core's reader loaded once, on the preface; the
 * server's SETTINGS kept when they come first (and when they only looked
 * like SETTINGS, dropped); a first request that is not ours passed through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "classify.h"
#include "err.h"
#include "h2peek.h"
#include "queue.h"
#include "tap.h"
#include "util.h"

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- queue */

static void test_queue_fifo_and_budget(void **state)
{
    struct llm_queue q;
    struct llm_msg *m, *list;

    (void)state;
    llm_queue_init(&q, 10);
    assert_int_equal(llm_queue_push(&q, llm_msg_new(1, LLM_MSG_OUT, "abcd", 4, 11, 12)), 0);
    assert_int_equal(llm_queue_push(&q, llm_msg_new(2, LLM_MSG_IN, "efgh", 4, 13, 14)), 0);
    assert_int_equal(q.bytes, 8);
    /* 8 + 3 > 10: refused, counted, freed */
    assert_int_equal(llm_queue_push(&q, llm_msg_new(3, LLM_MSG_IN, "ijk", 3, 0, 0)), LLM_EFULL);
    assert_int_equal(q.dropped, 1);
    assert_int_equal(q.bytes, 8);
    /* exactly at the budget is fine; an empty message always fits */
    assert_int_equal(llm_queue_push(&q, llm_msg_new(4, LLM_MSG_IN, "kl", 2, 0, 0)), 0);
    assert_int_equal(llm_queue_push(&q, llm_msg_new(5, LLM_MSG_CLOSE, NULL, 0, 0, 0)), 0);
    list = llm_queue_take(&q, 0);
    assert_non_null(list);
    assert_int_equal(q.bytes, 0);
    assert_null(q.head);
    uint64_t want[] = {1, 2, 4, 5};
    size_t i = 0;
    for (m = list; m; m = m->next, i++) {
        assert_true(i < 4);
        assert_int_equal(m->conn, want[i]);
    }
    assert_int_equal(i, 4);
    assert_int_equal(list->kind, LLM_MSG_OUT);
    assert_int_equal(list->len, 4);
    assert_memory_equal(list->data, "abcd", 4);
    assert_int_equal(list->ts_ns, 11);
    assert_int_equal(list->mono_ns, 12);
    assert_int_equal(list->flags, 0);
    llm_msg_free_list(list);
    /* empty queue: take times out with NULL */
    int64_t t0 = llm_mono_ns();
    assert_null(llm_queue_take(&q, 30));
    assert_true(llm_mono_ns() - t0 >= 25 * 1000000LL);
}

static void test_queue_stop(void **state)
{
    struct llm_queue q;

    (void)state;
    llm_queue_init(&q, 100);
    llm_queue_stop(&q);
    int64_t t0 = llm_mono_ns();
    assert_null(llm_queue_take(&q, 5000)); /* returns at once */
    assert_true(llm_mono_ns() - t0 < 1000 * 1000000LL);
    /* a stopped queue refuses everything */
    assert_int_equal(llm_queue_push(&q, llm_msg_new(1, LLM_MSG_OUT, "a", 1, 0, 0)), LLM_EFULL);
    llm_queue_reset(&q);
    assert_int_equal(q.stopping, 0);
    assert_int_equal(q.max_bytes, 100);
    assert_int_equal(llm_queue_push(&q, llm_msg_new(1, LLM_MSG_OUT, "a", 1, 0, 0)), 0);
    llm_msg_free_list(llm_queue_take(&q, 0));
}

struct producer {
    struct llm_queue *q;
    uint64_t id;
    int n;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        uint32_t v = (uint32_t)i;
        while (llm_queue_push(p->q, llm_msg_new(p->id, LLM_MSG_OUT, &v, sizeof(v), 0, 0)))
            ; /* full: retry (the consumer drains) */
    }
    return NULL;
}

static void *stop_later(void *arg)
{
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    llm_queue_stop(arg);
    return NULL;
}

static void test_queue_threads(void **state)
{
    enum { NP = 4, N = 20000 };
    struct llm_queue q;
    struct producer p[NP];
    pthread_t th[NP];
    uint32_t next[NP] = {0};
    int got = 0;

    (void)state;
    llm_queue_init(&q, 4096);
    for (int i = 0; i < NP; i++) {
        p[i] = (struct producer){&q, (uint64_t)i, N};
        pthread_create(&th[i], NULL, produce, &p[i]);
    }
    while (got < NP * N) {
        struct llm_msg *list = llm_queue_take(&q, 1000), *m;
        for (m = list; m; m = m->next) {
            uint32_t v;
            assert_true(m->conn < NP);
            memcpy(&v, m->data, sizeof(v));
            /* per-producer FIFO order */
            assert_int_equal(v, next[m->conn]);
            next[m->conn]++;
            got++;
        }
        llm_msg_free_list(list);
    }
    for (int i = 0; i < NP; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(next[i], N);
    }
    /* a sleeping consumer is woken by stop */
    pthread_t st;
    pthread_create(&st, NULL, stop_later, &q);
    int64_t t0 = llm_mono_ns();
    assert_null(llm_queue_take(&q, 10000));
    assert_true(llm_mono_ns() - t0 < 5000 * 1000000LL);
    pthread_join(st, NULL);
}

/* ------------------------------------------------------------------ tap */

#define QMAX 2048

static struct llm_queue *started_q;
static int start_calls, start_rc, describe_calls;
static char describe_sni[256];

static int fake_start(struct llm_queue *q)
{
    started_q = q;
    start_calls++;
    return start_rc;
}

static void fake_describe(uintptr_t key, struct llm_open_info *info)
{
    describe_calls++;
    info->tls = 1;
    info->port = 443 + (int)key;
    snprintf(info->sni, sizeof(info->sni), "%s", describe_sni);
}

static int peek_loads;

static llm_h2peek_fn fake_load_h2peek(void)
{
    peek_loads++;
    return llm_h2peek_request;
}

static int tap_setup(void **state)
{
    static const struct llm_tap_config cfg = {QMAX, fake_start, fake_load_h2peek};

    (void)state;
    llm_tap_init(&cfg);
    llm_tap_atfork_child(); /* a fresh table, queue and stats */
    started_q = NULL;
    start_calls = start_rc = describe_calls = 0;
    describe_sni[0] = '\0';
    return 0;
}

static struct llm_msg *drain(void)
{
    return started_q ? llm_queue_take(started_q, 0) : NULL;
}

static int tap_teardown(void **state)
{
    (void)state;
    /* forget this test's connections (the next setup's fork reset would
     * leak them, as it must in a real child) */
    llm_tap_disable();
    for (uintptr_t k = 0; k < 100; k++)
        llm_tap_close(k);
    llm_msg_free_list(drain());
    return 0;
}

static size_t count(const struct llm_msg *m)
{
    size_t n = 0;
    for (; m; m = m->next)
        n++;
    return n;
}

static void check_msg(const struct llm_msg *m, uint64_t conn, int kind, const char *data,
                      size_t len, int flags)
{
    assert_non_null(m);
    assert_int_equal(m->conn, conn);
    assert_int_equal(m->kind, kind);
    assert_int_equal(m->flags, flags);
    if (data) {
        assert_int_equal(m->len, len);
        assert_memory_equal(m->data, data, len);
    }
}

static const char REQ[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                          "Content-Length: 2\r\n\r\n{}";
static const char RESP[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";

static void test_tap_llm_sequence(void **state)
{
    struct llm_msg *list, *m;
    struct llm_open_info info;
    size_t split = 20;
    struct llm_tap_stats st;

    (void)state;
    strcpy(describe_sni, "example.test");
    int64_t before = llm_now_ns();
    llm_tap_data(1, LLM_DIR_OUT, REQ, split, LLM_CAPTURE_OPENSSL, fake_describe);
    /* incomplete head: nothing queued, collector not started, not watched yet */
    assert_int_equal(start_calls, 0);
    assert_int_equal(llm_tap_watched(1), 0);
    assert_int_equal(describe_calls, 1);
    llm_tap_data(1, LLM_DIR_OUT, REQ + split, sizeof(REQ) - 1 - split, LLM_CAPTURE_OPENSSL,
                 fake_describe);
    assert_int_equal(describe_calls, 1); /* at most once per connection */
    assert_int_equal(start_calls, 1);
    assert_non_null(started_q);
    assert_int_equal(llm_tap_watched(1), 1);
    llm_tap_data(1, LLM_DIR_IN, RESP, sizeof(RESP) - 1, LLM_CAPTURE_OPENSSL, fake_describe);
    llm_tap_data(1, LLM_DIR_OUT, "", 0, LLM_CAPTURE_OPENSSL, fake_describe); /* ignored */
    llm_tap_data(1, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, fake_describe);
    llm_tap_close(1);
    assert_int_equal(llm_tap_watched(1), 0);
    assert_int_equal(start_calls, 1);

    list = drain();
    assert_int_equal(count(list), 5);
    m = list;
    uint64_t id = m->conn;
    assert_true(id != 0);
    check_msg(m, id, LLM_MSG_OPEN, NULL, 0, 0);
    assert_int_equal(m->len, sizeof(info));
    memcpy(&info, m->data, sizeof(info));
    assert_int_equal(info.capture, LLM_CAPTURE_OPENSSL);
    assert_int_equal(info.tls, 1);
    assert_int_equal(info.port, 444);
    assert_string_equal(info.sni, "example.test");
    int64_t t0 = m->ts_ns, m0 = m->mono_ns;
    assert_true(t0 >= before);
    /* the accumulated head goes out as one message stamped with its first byte */
    m = m->next;
    check_msg(m, id, LLM_MSG_OUT, REQ, sizeof(REQ) - 1, 0);
    assert_int_equal(m->ts_ns, t0);
    assert_int_equal(m->mono_ns, m0);
    m = m->next;
    check_msg(m, id, LLM_MSG_IN, RESP, sizeof(RESP) - 1, 0);
    assert_true(m->mono_ns >= m0);
    m = m->next;
    check_msg(m, id, LLM_MSG_OUT, REQ, sizeof(REQ) - 1, 0);
    m = m->next;
    check_msg(m, id, LLM_MSG_CLOSE, NULL, 0, 0);
    assert_int_equal(m->len, 0);
    llm_msg_free_list(list);

    llm_tap_get_stats(&st);
    assert_int_equal(st.conns_seen, 1);
    assert_int_equal(st.conns_llm, 1);
    assert_int_equal(st.msgs, 5);
    assert_int_equal(st.dropped, 0);

    /* the key is free again: a new connection with a new id */
    llm_tap_data(1, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_LIBCURL, fake_describe);
    list = drain();
    assert_int_equal(count(list), 2);
    assert_true(list->conn != id);
    memcpy(&info, list->data, sizeof(info));
    assert_int_equal(info.capture, LLM_CAPTURE_LIBCURL);
    check_msg(list->next, list->conn, LLM_MSG_OUT, REQ, sizeof(REQ) - 1, 0);
    llm_msg_free_list(list);
    assert_int_equal(describe_calls, 2);
}

static void test_tap_byte_by_byte_head(void **state)
{
    struct llm_msg *list;

    (void)state;
    for (size_t i = 0; i < sizeof(REQ) - 1; i++)
        llm_tap_data(5, LLM_DIR_OUT, REQ + i, 1, LLM_CAPTURE_SOCKET, NULL);
    list = drain();
    /* an LLM path: classified at the end of the request line; the rest of
     * the head and the body follow one byte at a time */
    size_t head = strchr(REQ, '\n') + 1 - REQ;
    assert_int_equal(count(list), 2 + (sizeof(REQ) - 1 - head));
    check_msg(list, list->conn, LLM_MSG_OPEN, NULL, 0, 0);
    struct llm_open_info info;
    memcpy(&info, list->data, sizeof(info));
    assert_int_equal(info.capture, LLM_CAPTURE_SOCKET);
    assert_string_equal(info.sni, "");
    check_msg(list->next, list->conn, LLM_MSG_OUT, REQ, head, 0);
    check_msg(list->next->next, list->conn, LLM_MSG_OUT, REQ + head, 1, 0);
    llm_msg_free_list(list);
}

static void test_tap_other_passthrough(void **state)
{
    static const char get[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
    struct llm_tap_stats st;

    (void)state;
    /* a plain web request */
    llm_tap_data(10, LLM_DIR_OUT, get, sizeof(get) - 1, LLM_CAPTURE_OPENSSL, fake_describe);
    /* later LLM-looking bytes on it do not matter: the decision is final */
    llm_tap_data(10, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, fake_describe);
    assert_int_equal(llm_tap_watched(10), 0);
    /* the server spoke first */
    llm_tap_data(11, LLM_DIR_IN, "220 smtp ready\r\n", 16, LLM_CAPTURE_SOCKET, NULL);
    llm_tap_data(11, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_SOCKET, NULL);
    /* the client sent part of a head, then the server answered */
    llm_tap_data(12, LLM_DIR_OUT, REQ, 10, LLM_CAPTURE_SOCKET, NULL);
    llm_tap_data(12, LLM_DIR_IN, RESP, sizeof(RESP) - 1, LLM_CAPTURE_SOCKET, NULL);
    llm_tap_data(12, LLM_DIR_OUT, REQ + 10, sizeof(REQ) - 11, LLM_CAPTURE_SOCKET, NULL);
    /* not HTTP at all */
    llm_tap_data(13, LLM_DIR_OUT, "\x16\x03\x01\x00", 4, LLM_CAPTURE_SOCKET, NULL);
    llm_tap_data(13, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_SOCKET, NULL);
    /* a head that never ends, to a path that is not an LLM API's */
    char *big = malloc(LLM_CLASS_HEAD_MAX + 10);
    memcpy(big, "POST /static/assets/a.css HTTP/1.1\r\nX: ", 39);
    memset(big + 39, 'x', LLM_CLASS_HEAD_MAX + 10 - 39);
    llm_tap_data(14, LLM_DIR_OUT, big, 4000, LLM_CAPTURE_SOCKET, NULL);
    assert_int_equal(start_calls, 0);
    llm_tap_data(14, LLM_DIR_OUT, big + 4000, LLM_CLASS_HEAD_MAX + 10 - 4000, LLM_CAPTURE_SOCKET,
                 NULL);
    free(big);
    for (uintptr_t k = 10; k <= 14; k++) {
        assert_int_equal(llm_tap_watched(k), 0);
        llm_tap_close(k);
    }
    assert_int_equal(start_calls, 0);
    assert_null(started_q);
    llm_tap_get_stats(&st);
    assert_int_equal(st.conns_llm, 0);
    assert_int_equal(st.msgs, 0);
    assert_int_equal(st.conns_seen, 4); /* 11 never sent first */
}

static void test_tap_sni_and_host(void **state)
{
    static const char models[] = "GET /v1/models HTTP/1.1\r\nHost: 10.1.2.3\r\n\r\n";
    struct llm_msg *list;

    (void)state;
    /* the path says nothing, the SNI from describe names a provider */
    strcpy(describe_sni, "api.anthropic.com");
    llm_tap_data(20, LLM_DIR_OUT, models, sizeof(models) - 1, LLM_CAPTURE_OPENSSL, fake_describe);
    assert_int_equal(llm_tap_watched(20), 1);
    /* the same bytes with an unknown SNI are passed through */
    strcpy(describe_sni, "example.com");
    llm_tap_data(21, LLM_DIR_OUT, models, sizeof(models) - 1, LLM_CAPTURE_OPENSSL, fake_describe);
    assert_int_equal(llm_tap_watched(21), 0);
    list = drain();
    assert_int_equal(count(list), 2);
    llm_msg_free_list(list);
}

static void test_tap_interleaved_order(void **state)
{
    struct llm_msg *list, *m;
    uint64_t id_a = 0, id_b = 0;
    int seq_a = 0, seq_b = 1;

    (void)state;
    llm_tap_data(30, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    llm_tap_data(31, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    for (int i = 0; i < 20; i++) {
        char b[8];
        snprintf(b, sizeof(b), "%d", i);
        llm_tap_data(30 + (uintptr_t)(i % 2), i % 3 ? LLM_DIR_IN : LLM_DIR_OUT, b, strlen(b),
                     LLM_CAPTURE_OPENSSL, NULL);
    }
    llm_tap_close(31);
    llm_tap_close(30);
    list = drain();
    assert_int_equal(count(list), 2 * 2 + 20 + 2);
    id_a = list->conn;
    id_b = list->next->next->conn;
    assert_true(id_a != id_b);
    for (m = list->next->next->next->next; m; m = m->next) {
        if (m->kind == LLM_MSG_CLOSE)
            continue;
        int *seq = m->conn == id_a ? &seq_a : &seq_b;
        char b[8] = {0};
        memcpy(b, m->data, m->len < 7 ? m->len : 7);
        int i = atoi(b);
        assert_int_equal(i % 2, m->conn == id_a ? 0 : 1);
        assert_int_equal(i, *seq);
        assert_int_equal(m->kind, i % 3 ? LLM_MSG_IN : LLM_MSG_OUT);
        *seq += 2;
    }
    assert_int_equal(seq_a, 20);
    assert_int_equal(seq_b, 21);
    /* the closes come last, in the order they were reported */
    for (m = list; m->next->next; m = m->next)
        ;
    check_msg(m, id_b, LLM_MSG_CLOSE, NULL, 0, 0);
    check_msg(m->next, id_a, LLM_MSG_CLOSE, NULL, 0, 0);
    llm_msg_free_list(list);
}

static void test_tap_queue_full_sets_lost(void **state)
{
    struct llm_msg *list, *m;
    struct llm_tap_stats st;
    char big[QMAX];

    (void)state;
    memset(big, 'b', sizeof(big));
    llm_tap_data(40, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    llm_msg_free_list(drain()); /* OPEN + OUT consumed */
    llm_tap_data(40, LLM_DIR_IN, big, QMAX - 100, LLM_CAPTURE_OPENSSL, NULL); /* fits */
    llm_tap_data(40, LLM_DIR_IN, big, 200, LLM_CAPTURE_OPENSSL, NULL);        /* dropped */
    llm_tap_data(40, LLM_DIR_IN, big, 150, LLM_CAPTURE_OPENSSL, NULL);        /* dropped */
    llm_tap_get_stats(&st);
    assert_int_equal(st.dropped, 2);
    list = drain();
    assert_int_equal(count(list), 1);
    check_msg(list, list->conn, LLM_MSG_IN, big, QMAX - 100, 0);
    uint64_t id = list->conn;
    llm_msg_free_list(list);
    /* the next message that gets through carries the flag, the one after not */
    llm_tap_data(40, LLM_DIR_IN, "x", 1, LLM_CAPTURE_OPENSSL, NULL);
    llm_tap_data(40, LLM_DIR_OUT, "y", 1, LLM_CAPTURE_OPENSSL, NULL);
    /* other connections are not flagged */
    llm_tap_data(41, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    llm_tap_close(40);
    list = drain();
    assert_int_equal(count(list), 5);
    m = list;
    check_msg(m, id, LLM_MSG_IN, "x", 1, LLM_MSG_F_LOST);
    m = m->next;
    check_msg(m, id, LLM_MSG_OUT, "y", 1, 0);
    m = m->next;
    check_msg(m, m->conn, LLM_MSG_OPEN, NULL, 0, 0);
    m = m->next;
    check_msg(m, m->conn, LLM_MSG_OUT, REQ, sizeof(REQ) - 1, 0);
    m = m->next;
    check_msg(m, id, LLM_MSG_CLOSE, NULL, 0, 0);
    llm_msg_free_list(list);
    /* a dropped CLOSE cannot be flagged later; a dropped message before it
     * flags the CLOSE itself */
    llm_tap_data(41, LLM_DIR_IN, big, QMAX, LLM_CAPTURE_OPENSSL, NULL);
    llm_tap_data(41, LLM_DIR_IN, "z", 1, LLM_CAPTURE_OPENSSL, NULL); /* dropped */
    list = drain();
    llm_msg_free_list(list);
    llm_tap_close(41);
    list = drain();
    assert_int_equal(count(list), 1);
    check_msg(list, list->conn, LLM_MSG_CLOSE, NULL, 0, LLM_MSG_F_LOST);
    llm_msg_free_list(list);
    llm_tap_get_stats(&st);
    assert_int_equal(st.dropped, 3);
}

static void test_tap_start_failure(void **state)
{
    (void)state;
    start_rc = LLM_ENOCORE;
    llm_tap_data(50, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    assert_int_equal(start_calls, 1);
    /* tapping stopped for good: nothing more is queued or started */
    llm_tap_data(51, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    llm_tap_data(50, LLM_DIR_IN, RESP, sizeof(RESP) - 1, LLM_CAPTURE_OPENSSL, NULL);
    assert_int_equal(start_calls, 1);
    assert_int_equal(llm_tap_watched(51), 0);
    llm_msg_free_list(drain());
    start_rc = 0;
}

static void test_tap_disable(void **state)
{
    struct llm_tap_stats st;

    (void)state;
    llm_tap_data(55, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    llm_msg_free_list(drain());
    llm_tap_disable();
    llm_tap_data(55, LLM_DIR_IN, RESP, sizeof(RESP) - 1, LLM_CAPTURE_OPENSSL, NULL);
    llm_tap_close(55);
    assert_null(drain());
    llm_tap_get_stats(&st);
    assert_int_equal(st.msgs, 2);
}

static void test_tap_atfork_child(void **state)
{
    struct llm_msg *list;
    struct llm_tap_stats st;

    (void)state;
    llm_tap_data(60, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    llm_tap_data(60, LLM_DIR_IN, RESP, 5, LLM_CAPTURE_OPENSSL, NULL);
    llm_tap_data(61, LLM_DIR_OUT, "GET / HTTP/1.1\r\nHost: a.b\r\n\r\n", 30, LLM_CAPTURE_OPENSSL,
                 NULL);
    assert_int_equal(start_calls, 1);
    struct llm_queue *q = started_q;
    assert_non_null(q->head); /* the parent's messages are still queued */

    /* the child forgets (leaks, by design) the parent's entries and messages */
    llm_tap_atfork_child();
    /* the child forgot every connection, the queue and the stats */
    assert_int_equal(llm_tap_watched(60), 0);
    assert_null(llm_queue_take(q, 0));
    llm_tap_get_stats(&st);
    assert_int_equal(st.conns_seen, 0);
    assert_int_equal(st.msgs, 0);
    /* bytes of an inherited connection are classified afresh: a response
     * alone is not a request, so it passes through */
    llm_tap_data(60, LLM_DIR_IN, RESP + 5, sizeof(RESP) - 6, LLM_CAPTURE_OPENSSL, NULL);
    assert_int_equal(llm_tap_watched(60), 0);
    /* a previously passed-through key can now be an LLM connection */
    llm_tap_data(61, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_OPENSSL, NULL);
    assert_int_equal(llm_tap_watched(61), 1);
    /* the collector is started again, lazily, in the child */
    assert_int_equal(start_calls, 2);
    list = llm_queue_take(q, 0);
    assert_int_equal(count(list), 2);
    check_msg(list, list->conn, LLM_MSG_OPEN, NULL, 0, 0);
    check_msg(list->next, list->conn, LLM_MSG_OUT, REQ, sizeof(REQ) - 1, 0);
    llm_msg_free_list(list);
    llm_tap_get_stats(&st);
    assert_int_equal(st.conns_llm, 1);
    assert_int_equal(st.msgs, 2);
}

/* Under LeakSanitizer (LLMOPS_SANITIZE): the fork reset leaks the parent's
 * entries and messages on purpose. */
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:test_tap_atfork_child\n";
}

/* ---------------------------------------------------- HTTP/2, no SNI */

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static const char SETTINGS[] = "\0\0\6\4\0\0\0\0\0\0\3\0\0\0\x64"; /* MAX_CONCURRENT 100 */
static const char SETTINGS_ACK[] = "\0\0\0\4\1\0\0\0\0";

/* A HEADERS frame (stream 1) for POST path, coded by a fresh HPACK deflater. */
static size_t headers_frame(char *out, size_t cap, const char *path)
{
    nghttp2_hd_deflater *d;
    nghttp2_nv nv[] = {
        {(uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0},
        {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0},
        {(uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0},
        {(uint8_t *)":authority", (uint8_t *)"10.0.0.7:8000", 10, 13, 0},
    };
    assert_int_equal(nghttp2_hd_deflate_new(&d, 4096), 0);
    ssize_t n = nghttp2_hd_deflate_hd(d, (uint8_t *)out + 9, cap - 9, nv, 4);
    nghttp2_hd_deflate_del(d);
    assert_true(n > 0 && n < 256);
    memcpy(out, "\0\0\0\1\4\0\0\0\1", 9);
    out[2] = (char)n;
    return (size_t)n + 9;
}

static void test_tap_h2_no_sni(void **state)
{
    char hf[300], head[400];
    size_t hn = headers_frame(hf, sizeof(hf), "/v1/chat/completions");
    struct llm_msg *list, *m;
    size_t n;

    (void)state;
    /* the server's SETTINGS before the client said anything: kept */
    assert_int_equal(llm_tap_data(7, LLM_DIR_IN, SETTINGS, 15, LLM_CAPTURE_OPENSSL, fake_describe),
                     0);
    assert_int_equal(llm_tap_data(7, LLM_DIR_OUT, PREFACE, 24, LLM_CAPTURE_OPENSSL, fake_describe),
                     0);
    assert_true(peek_loads <= 1); /* loaded once per process, at the first preface */
    assert_int_equal(
        llm_tap_data(7, LLM_DIR_IN, SETTINGS_ACK, 9, LLM_CAPTURE_OPENSSL, fake_describe), 0);
    assert_int_equal(start_calls, 0);
    assert_int_equal(llm_tap_data(7, LLM_DIR_OUT, hf, hn, LLM_CAPTURE_OPENSSL, fake_describe), 0);
    assert_int_equal(start_calls, 1);
    assert_int_equal(llm_tap_watched(7), 1);
    list = drain();
    assert_int_equal(count(list), 3);
    m = list;
    check_msg(m, m->conn, LLM_MSG_OPEN, NULL, 0, 0);
    memcpy(head, PREFACE, 24);
    memcpy(head + 24, hf, hn);
    check_msg(m->next, m->conn, LLM_MSG_OUT, head, 24 + hn, 0);
    memcpy(head, SETTINGS, 15);
    memcpy(head + 15, SETTINGS_ACK, 9);
    check_msg(m->next->next, m->conn, LLM_MSG_IN, head, 24, 0);
    llm_msg_free_list(list);

    /* a first request that is no LLM call: passed through, nothing queued */
    n = headers_frame(hf, sizeof(hf), "/index.html");
    memcpy(head, PREFACE, 24);
    memcpy(head + 24, hf, n);
    assert_int_equal(llm_tap_data(8, LLM_DIR_IN, SETTINGS, 15, LLM_CAPTURE_SOCKET, fake_describe),
                     0);
    assert_int_equal(llm_tap_data(8, LLM_DIR_OUT, head, 24 + n, LLM_CAPTURE_SOCKET, fake_describe),
                     LLM_TAP_PASS);
    assert_null(drain());

    /* HTTP/1.1 after bytes that only looked like SETTINGS: those are dropped */
    assert_int_equal(llm_tap_data(9, LLM_DIR_IN, SETTINGS, 15, LLM_CAPTURE_SOCKET, fake_describe),
                     0);
    llm_tap_data(9, LLM_DIR_OUT, REQ, sizeof(REQ) - 1, LLM_CAPTURE_SOCKET, fake_describe);
    list = drain();
    assert_int_equal(count(list), 2);
    check_msg(list->next, list->conn, LLM_MSG_OUT, REQ, sizeof(REQ) - 1, 0);
    llm_msg_free_list(list);

    /* a server that speaks first with anything else: not ours */
    assert_int_equal(
        llm_tap_data(10, LLM_DIR_IN, "SSH-2.0-x\r\n", 11, LLM_CAPTURE_SOCKET, fake_describe),
        LLM_TAP_PASS);
    assert_int_equal(peek_loads, 1);
}

#define TAP_TEST(f) cmocka_unit_test_setup_teardown(f, tap_setup, tap_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_fifo_and_budget),
        cmocka_unit_test(test_queue_stop),
        cmocka_unit_test(test_queue_threads),
        TAP_TEST(test_tap_llm_sequence),
        TAP_TEST(test_tap_byte_by_byte_head),
        TAP_TEST(test_tap_other_passthrough),
        TAP_TEST(test_tap_sni_and_host),
        TAP_TEST(test_tap_interleaved_order),
        TAP_TEST(test_tap_queue_full_sets_lost),
        TAP_TEST(test_tap_start_failure),
        TAP_TEST(test_tap_disable),
        TAP_TEST(test_tap_atfork_child),
        TAP_TEST(test_tap_h2_no_sni),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
