/* The collector thread: drains the queue, runs connections through HTTP and
 * the dialects, stamps records with who made them, and commits them to LMDB
 * in batches. Started on the first LLM connection, stopped at exit within a
 * bounded time, forgotten (never joined or closed) in a forked child. */
#ifndef LLM_WRITER_H
#define LLM_WRITER_H

#include "queue.h"

/* thread_init runs first on the new thread (the shim sets its hook guard). */
int llm_writer_start(struct llm_queue *q, void (*thread_init)(void));
void llm_writer_stop(int timeout_ms);
void llm_writer_atfork_child(void);

#endif
