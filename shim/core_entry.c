/* The three entry points libllmops.so looks up in libllmops-core.so after
 * dlopen. Everything else in the module stays hidden. */
#include "writer.h"

#define LLM_EXPORT __attribute__((visibility("default")))

LLM_EXPORT int llm_core_start(struct llm_queue *q, void (*thread_init)(void));
LLM_EXPORT void llm_core_stop(int timeout_ms);
LLM_EXPORT void llm_core_atfork_child(void);

int llm_core_start(struct llm_queue *q, void (*thread_init)(void))
{
    return llm_writer_start(q, thread_init);
}

void llm_core_stop(int timeout_ms)
{
    llm_writer_stop(timeout_ms);
}

void llm_core_atfork_child(void)
{
    llm_writer_atfork_child();
}
