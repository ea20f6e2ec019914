/* _exit, _Exit and quick_exit skip atexit handlers, so a program that ends
 * with them (Python's os._exit in a forked worker, shells after a failed
 * exec, every Bun process) would lose the records still in the queue. The hook gives the collector
 * the same bounded flush a normal process end gets (the atexit handler), then ends the process for
 * real. Runs on whichever app thread exits. */
#include "shim.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LLM_EXPORT __attribute__((visibility("default")))

__attribute__((noreturn)) static void real_exit(const char *name, int status)
{
    void (*fn)(int) = (void (*)(int))dlsym(RTLD_NEXT, name);

    if (fn)
        fn(status);
    syscall(SYS_exit_group, status); /* dlsym failed: end the process anyway */
    __builtin_unreachable();
}

LLM_EXPORT void _exit(int status)
{
    if (!llm_in_hook)
        llm_shim_exit_flush();
    real_exit("_exit", status);
}

LLM_EXPORT void _Exit(int status)
{
    if (!llm_in_hook)
        llm_shim_exit_flush();
    real_exit("_Exit", status);
}

/* quick_exit runs the at_quick_exit handlers (in their order, untouched)
 * and then ends the process without atexit: the flush comes first, so a
 * handler that blocks or ends the process itself cannot lose the records. */
LLM_EXPORT void quick_exit(int status)
{
    if (!llm_in_hook)
        llm_shim_exit_flush();
    real_exit("quick_exit", status);
}
