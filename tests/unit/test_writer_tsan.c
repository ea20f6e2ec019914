/* Threads through the whole app-side path: 4 threads report LLM calls the
 * way the hooks do (llm_tap_data in pieces, then llm_tap_close) on their
 * own connections, with non-LLM connections mixed in and the stats and
 * watched lookups read concurrently; tap.c queues them, the collector
 * thread (writer.c, started by the tap on the first LLM connection) parses
 * and commits them to a store in a temporary directory; llm_writer_stop()
 * with a timeout; then the store must hold exactly one record per LLM call,
 * with each call's own model and token counts. Then the same again with
 * the writer stopped while the threads are still reporting (an exit with
 * calls in flight, stopped from two threads at once, as exit() and _exit()
 * racing would): every record that made it must decode, none twice.
 *
 * Built with ThreadSanitizer under LLMOPS_TSAN (`make test-tsan`, test
 * tsan_writer), where a data race fails it; in every other build it runs as
 * the plain unit test unit_writer_stress. */
#include "err.h"
#include "record.h"
#include "store.h"
#include "tap.h"
#include "writer.h"

#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define CALLS 250    /* LLM calls per thread */
#define OTHER_EVERY 4 /* one non-LLM connection after every 4 calls */

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static int start_writer(struct llm_queue *q)
{
    return llm_writer_start(q, NULL);
}

/* LLM calls use odd keys, the other connections even ones. */
static void describe(uintptr_t key, struct llm_open_info *info)
{
    info->tls = 1;
    info->port = 443;
    snprintf(info->sni, sizeof(info->sni), "%s", (key & 1) ? "api.openai.com" : "example.com");
}

/* Sends p in pieces of 1, 7, 61, ... bytes, as reads and writes would. */
static void report(uintptr_t key, int dir, const char *p, size_t n)
{
    for (size_t off = 0, i = 0; off < n; i++) {
        size_t k = (i * i * 6 + 1) % 97 + 1;
        k = k < n - off ? k : n - off;
        llm_tap_data(key, dir, p + off, k, LLM_CAPTURE_OPENSSL, describe);
        off += k;
    }
}

static void one_call(uintptr_t key, int t, int i)
{
    char body[256], req[512], resp[1024];
    int bn = snprintf(body, sizeof(body),
                      "{\"model\":\"m-%d-%d\",\"messages\":[{\"role\":\"user\","
                      "\"content\":\"hi\"}]}",
                      t, i);
    int rn = snprintf(req, sizeof(req),
                      "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
                      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                      bn, body);
    char json[512];
    int jn = snprintf(json, sizeof(json),
                      "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"m-%d-%d\","
                      "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                      "\"content\":\"hello\"},\"finish_reason\":\"stop\"}],"
                      "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,"
                      "\"total_tokens\":%d}}",
                      t, i, t * 1000 + i, i, t * 1000 + 2 * i);
    int sn = snprintf(resp, sizeof(resp),
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n\r\n%s",
                      jn, json);

    report(key, LLM_DIR_OUT, req, (size_t)rn);
    report(key, LLM_DIR_IN, resp, (size_t)sn);
    llm_tap_close(key);
}

static void other_call(uintptr_t key)
{
    static const char req[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    report(key, LLM_DIR_OUT, req, sizeof(req) - 1);
    report(key, LLM_DIR_IN, resp, sizeof(resp) - 1);
    llm_tap_close(key);
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;

    for (int i = 0; i < CALLS; i++) {
        uintptr_t key = ((uintptr_t)(t + 1) << 24) | (uintptr_t)(i * 2 + 1);
        struct llm_tap_stats st;
        one_call(key, t, i);
        if (i % OTHER_EVERY == OTHER_EVERY - 1)
            other_call(key + 1);
        llm_tap_get_stats(&st);
        (void)llm_tap_watched(key);
    }
    return NULL;
}

struct seen {
    int calls[THREADS][CALLS];
    size_t records, incomplete;
    int in_flight; /* phase 2: calls may be cut or missing */
};

static int visit(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct seen *s = ctx;
    json_t *j = NULL;
    int t, i;

    (void)key;
    (void)klen;
    s->records++;
    if (llm_record_to_json(val, vlen, (void **)&j)) {
        CHECK(0, "a stored record does not decode");
        return 0;
    }
    const char *model = json_string_value(json_object_get(j, "model"));
    const char *status = json_string_value(json_object_get(j, "status"));
    int parsed = model && sscanf(model, "m-%d-%d", &t, &i) == 2 && t >= 0 && t < THREADS &&
                 i >= 0 && i < CALLS;

    if (s->in_flight && status && !strcmp(status, "incomplete")) {
        /* cut by the stop: the request may not even have been read */
        s->incomplete++;
        if (parsed)
            s->calls[t][i]++;
    } else if (!parsed) {
        CHECK(0, "unexpected model %s", model ? model : "(null)");
    } else {
        s->calls[t][i]++;
        CHECK(json_integer_value(json_object_get(j, "input_tokens")) == t * 1000 + i,
              "%s: input_tokens", model);
        CHECK(json_integer_value(json_object_get(j, "output_tokens")) == i, "%s: output_tokens",
              model);
        CHECK(status && !strcmp(status, "ok"), "%s: status %s", model, status);
    }
    json_decref(j);
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Runs the threads with a fresh tap and store in dir/name; in_flight: stop
 * the writer while they still report. Returns what the store holds. */
static void *stop_writer(void *arg)
{
    (void)arg;
    llm_writer_stop(20000);
    return NULL;
}

static struct seen *run(const char *dir, const char *name, int in_flight)
{
    char db[128];
    pthread_t th[THREADS];
    struct llm_store *store = NULL;
    struct llm_tap_stats st;
    struct seen *s = calloc(1, sizeof(*s));
    int rc;

    if (!s)
        abort();
    s->in_flight = in_flight;
    snprintf(db, sizeof(db), "%s/%s", dir, name);
    setenv("LLMOPS_DB", db, 1);
    llm_tap_atfork_child(); /* a fresh table, queue and start state */
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
    if (in_flight) {
        do { /* the writer runs once a call was classified */
            usleep(1000);
            llm_tap_get_stats(&st);
        } while (st.conns_llm < THREADS * CALLS / 4);
        /* exit() on one thread while another calls _exit(): two stops */
        pthread_t stopper;
        pthread_create(&stopper, NULL, stop_writer, NULL);
        llm_writer_stop(20000);
        pthread_join(stopper, NULL);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    llm_tap_get_stats(&st);
    if (!in_flight) {
        llm_writer_stop(20000);
        CHECK(st.dropped == 0, "%llu messages dropped", (unsigned long long)st.dropped);
    }
    CHECK(st.conns_llm == THREADS * CALLS, "%llu LLM connections",
          (unsigned long long)st.conns_llm);
    rc = llm_store_open(db, LLM_STORE_RDONLY, &store);
    CHECK(rc == 0, "store %s: %s", db, llm_strerror(rc));
    if (!rc) {
        rc = llm_store_scan(store, NULL, NULL, visit, s);
        CHECK(rc == 0, "scan: %s", llm_strerror(rc));
        llm_store_close(store);
    }
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < CALLS; i++)
            CHECK(s->calls[t][i] == 1 || (in_flight && s->calls[t][i] == 0),
                  "call m-%d-%d recorded %d times", t, i, s->calls[t][i]);
    return s;
}

int main(void)
{
    static const struct llm_tap_config cfg = {64 << 20, start_writer, NULL};
    char dir[] = "/tmp/llmops-tsan-XXXXXX";
    struct seen *s;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    unsetenv("LLMOPS_EXTRAS");
    llm_tap_init(&cfg);

    s = run(dir, "db", 0);
    CHECK(s->records == THREADS * CALLS, "%zu records, want %d", s->records, THREADS * CALLS);
    printf("all calls: %zu records\n", s->records);
    free(s);

    s = run(dir, "db2", 1);
    CHECK(s->records > 0, "no record survived the stop");
    printf("stopped in flight: %zu records (%zu incomplete) of %d calls\n", s->records,
           s->incomplete, THREADS * CALLS);
    free(s);

    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    printf("test_writer_tsan: %d threads x %d calls: %s\n", THREADS, CALLS,
           failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
