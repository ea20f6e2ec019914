/* libllmops-api, asynchronous half: llmops_record_completion_async and
 * llmops_flush.
 *
 * The caller's thread checks and encodes the record (so errors come back at
 * once) and appends it to a bounded in-memory queue; one background thread,
 * started on the first record with every signal blocked (the host owns its
 * signals), takes everything queued at each wake-up and commits it in
 * transactions of up to BATCH_MAX records. q.queued and q.committed count
 * records in and out, which is what llmops_flush waits on.
 *
 * Exit: an atexit handler stops the thread and waits at most
 * LLMOPS_FLUSH_TIMEOUT_MS for it to commit what is queued; a thread still
 * busy then is left to the process teardown. From then on a record is
 * committed synchronously, so atexit handlers that run later lose nothing.
 *
 * Fork: the child has no thread and must not commit what the parent will;
 * it frees the inherited queue, resets the counters and re-creates the
 * condition variables (waiters that do not exist in the child). */
#include "api.h"
#include "explicit.h"
#include "llmops.h"
#include "log.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define BATCH_MAX 512
#define QUEUE_MAX_RECORDS 100000
#define QUEUE_MAX_BYTES ((size_t)256 << 20)

struct item {
    struct item *next;
    struct llm_kv kv;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    struct item *head, *last;
    size_t n, bytes;
    uint64_t queued, committed;
    int error; /* first commit error since the last llmops_flush */
    int running, stop, finished, exiting, atexit_set;
    pthread_t thread;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .wake = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

static void free_list(struct item *it)
{
    while (it) {
        struct item *next = it->next;
        llm_explicit_free(&it->kv);
        free(it);
        it = next;
    }
}

/* Commits a taken list in batches; returns the first error. */
static int commit_list(struct item *list)
{
    struct llm_kv batch[BATCH_MAX];
    struct item *it = list;
    int first = 0;

    while (it) {
        size_t n = 0;
        int rc;
        for (; it && n < BATCH_MAX; it = it->next)
            batch[n++] = it->kv;
        rc = llm_api_commit(batch, n);
        if (rc) {
            llm_log("async commit of %zu records failed: %s", n, llmops_strerror(rc));
            if (!first)
                first = rc;
        }
    }
    free_list(list);
    return first;
}

static void *run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q.mu);
    for (;;) {
        struct item *list;
        size_t n;
        int rc;

        while (!q.head && !q.stop)
            pthread_cond_wait(&q.wake, &q.mu);
        if (!q.head)
            break;
        list = q.head;
        n = q.n;
        q.head = q.last = NULL;
        q.n = q.bytes = 0;
        pthread_mutex_unlock(&q.mu);
        rc = commit_list(list);
        pthread_mutex_lock(&q.mu);
        q.committed += n;
        if (rc && !q.error)
            q.error = rc;
        pthread_cond_broadcast(&q.done);
    }
    q.finished = 1;
    pthread_cond_broadcast(&q.done);
    pthread_mutex_unlock(&q.mu);
    return NULL;
}

static void deadline_in(struct timespec *dl, int ms)
{
    clock_gettime(CLOCK_REALTIME, dl);
    dl->tv_sec += ms / 1000;
    dl->tv_nsec += (long)(ms % 1000) * 1000000;
    if (dl->tv_nsec >= 1000000000) {
        dl->tv_sec++;
        dl->tv_nsec -= 1000000000;
    }
}

static void at_exit(void)
{
    int ms = llm_api_config()->flush_timeout_ms, finished;
    struct timespec dl;

    deadline_in(&dl, ms);
    pthread_mutex_lock(&q.mu);
    q.exiting = 1;
    if (!q.running) {
        pthread_mutex_unlock(&q.mu);
        return;
    }
    q.stop = 1;
    pthread_cond_signal(&q.wake);
    while (!q.finished)
        if (pthread_cond_timedwait(&q.done, &q.mu, &dl))
            break;
    finished = q.finished;
    pthread_mutex_unlock(&q.mu);
    if (!finished) {
        llm_log("async records not committed within %d ms; left behind", ms);
        return;
    }
    pthread_join(q.thread, NULL);
    q.running = 0;
}

/* Called with q.mu held. */
static int start(void)
{
    sigset_t all, old;
    int rc;

    if (!q.atexit_set) {
        if (atexit(at_exit))
            return LLMOPS_ENOMEM;
        q.atexit_set = 1;
    }
    q.stop = q.finished = 0;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&q.thread, NULL, run, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return -rc;
    q.running = 1;
    return 0;
}

LLMOPS_EXPORT int llmops_record_completion_async(const char *json_record)
{
    struct item *it;
    int rc;

    it = calloc(1, sizeof(*it));
    if (!it)
        return LLMOPS_ENOMEM;
    rc = llm_api_entry(json_record, &it->kv);
    if (rc)
        goto item_free;
    pthread_mutex_lock(&q.mu);
    if (q.exiting) { /* the exit flush is over: nobody would commit it later */
        pthread_mutex_unlock(&q.mu);
        rc = llm_api_commit(&it->kv, 1);
        goto kv_free;
    }
    if (q.n >= QUEUE_MAX_RECORDS || q.bytes + it->kv.vlen > QUEUE_MAX_BYTES)
        rc = LLMOPS_EFULL;
    else if (!q.running)
        rc = start();
    if (!rc) {
        if (q.last)
            q.last->next = it;
        else
            q.head = it;
        q.last = it;
        q.n++;
        q.bytes += it->kv.vlen;
        q.queued++;
        it = NULL;
        pthread_cond_signal(&q.wake);
    }
    pthread_mutex_unlock(&q.mu);
    if (!it)
        return 0;
kv_free:
    llm_explicit_free(&it->kv);
item_free:
    free(it);
    return rc == LLM_API_OFF ? 0 : rc; /* LLMOPS_DISABLE: nothing recorded */
}

LLMOPS_EXPORT int llmops_flush(int timeout_ms)
{
    struct timespec dl;
    uint64_t target;
    int rc;

    deadline_in(&dl, timeout_ms < 0 ? 0 : timeout_ms);
    pthread_mutex_lock(&q.mu);
    target = q.queued;
    while (q.committed < target && q.running)
        if (pthread_cond_timedwait(&q.done, &q.mu, &dl))
            break;
    if (q.committed < target) {
        rc = LLMOPS_ETIMEDOUT;
    } else {
        rc = q.error;
        q.error = 0;
    }
    pthread_mutex_unlock(&q.mu);
    return rc;
}

void llm_api_async_prepare(void)
{
    pthread_mutex_lock(&q.mu);
}

void llm_api_async_parent(void)
{
    pthread_mutex_unlock(&q.mu);
}

void llm_api_async_child(void)
{
    free_list(q.head); /* the parent commits these */
    q.head = q.last = NULL;
    q.n = q.bytes = 0;
    q.queued = q.committed = 0;
    q.error = 0;
    q.running = q.stop = q.finished = 0;
    pthread_cond_init(&q.wake, NULL);
    pthread_cond_init(&q.done, NULL);
    pthread_mutex_unlock(&q.mu);
}
