/* Shared by the hook files: the per-thread guard, the bypass test, and the
 * lazy initialisation every hook starts with. */
#ifndef LLM_SHIM_H
#define LLM_SHIM_H

#include <errno.h>

/* Set while a thread runs inside one of our hooks (or is our own collector
 * thread): nested hooked calls go straight to the real function.
 * initial-exec: a preloaded library has static TLS, and the general-dynamic
 * model may call malloc on first access, which could re-enter. */
extern __thread int llm_in_hook __attribute__((tls_model("initial-exec")));
extern int llm_shim_off; /* LLMOPS_DISABLE, or a failure made us fail open */

void llm_shim_init(void);
/* Inline hooks on the executable's own OpenSSL, when it has one (constructor). */
void llm_ssl_inline_install(void);
/* _exit is about to end the process: give the collector its bounded flush. */
void llm_shim_exit_flush(void);

static inline int llm_shim_bypass(void)
{
    return llm_in_hook || llm_shim_off;
}

#endif
