/* Bounded MPSC queue. Producers: any app thread inside a hook. Consumer: the
 * collector thread. The consumer is signalled only when it is asleep, so a
 * busy stream costs producers a lock and a few stores, not a syscall. */
#include "queue.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void llm_queue_init(struct llm_queue *q, size_t max_bytes)
{
    pthread_condattr_t ca;

    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    q->max_bytes = max_bytes;
}

struct llm_msg *llm_msg_new(uint64_t conn, enum llm_msg_kind kind, const void *data, size_t len,
                            int64_t ts_ns, int64_t mono_ns)
{
    struct llm_msg *m = malloc(sizeof(*m) + len);

    if (!m)
        return NULL;
    m->next = NULL;
    m->conn = conn;
    m->ts_ns = ts_ns;
    m->mono_ns = mono_ns;
    m->kind = (uint16_t)kind;
    m->flags = 0;
    m->len = (uint32_t)len;
    if (len)
        memcpy(m->data, data, len);
    return m;
}

int llm_queue_push(struct llm_queue *q, struct llm_msg *m)
{
    int wake = 0;

    pthread_mutex_lock(&q->mu);
    if (q->stopping || q->bytes + m->len > q->max_bytes) {
        q->dropped++;
        pthread_mutex_unlock(&q->mu);
        free(m);
        return LLM_EFULL;
    }
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->bytes += m->len;
    wake = q->waiting;
    pthread_mutex_unlock(&q->mu);
    if (wake)
        pthread_cond_signal(&q->cv);
    return 0;
}

struct llm_msg *llm_queue_take(struct llm_queue *q, int timeout_ms)
{
    struct llm_msg *list;
    struct timespec dl;

    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->stopping) {
        q->waiting = 1;
        int rc = pthread_cond_timedwait(&q->cv, &q->mu, &dl);
        q->waiting = 0;
        if (rc)
            break;
    }
    list = q->head;
    q->head = q->tail = NULL;
    q->bytes = 0;
    pthread_mutex_unlock(&q->mu);
    return list;
}

void llm_queue_stop(struct llm_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_mutex_unlock(&q->mu);
    pthread_cond_broadcast(&q->cv);
}

void llm_queue_reset(struct llm_queue *q)
{
    llm_queue_init(q, q->max_bytes);
}

void llm_msg_free_list(struct llm_msg *m)
{
    while (m) {
        struct llm_msg *next = m->next;
        free(m);
        m = next;
    }
}
