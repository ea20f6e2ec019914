/* The entry points libllmops.so looks up in libllmops-core.so after dlopen.
 * Everything else in the module stays hidden. llm_core_h2peek runs on app
 * threads (the tap's classifier), possibly before the collector is started;
 * the others as their names say. */
#include "h2peek.h"
#include "writer.h"

#define LLM_EXPORT __attribute__((visibility("default")))

LLM_EXPORT int llm_core_start(struct llm_queue *q, void (*thread_init)(void));
LLM_EXPORT void llm_core_stop(int timeout_ms);
LLM_EXPORT void llm_core_atfork_child(void);
LLM_EXPORT int llm_core_h2peek(const char *p, size_t n, struct llm_h2peek *out);

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

int llm_core_h2peek(const char *p, size_t n, struct llm_h2peek *out)
{
    return llm_h2peek_request(p, n, out);
}
