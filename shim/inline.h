/* Inline hooks on functions of the main executable itself (its own OpenSSL,
 * which PLT interposition never reaches: the executable comes first in every
 * lookup and calls its copy directly). Constructor only. */
#ifndef LLM_INLINE_H
#define LLM_INLINE_H

#include <stddef.h>
#include <stdint.h>

/* Looks name up in the main executable's dynamic symbol table (GNU hash):
 * a defined function gives its address and size. 0 or -ENOENT. */
int llm_inline_exe_func(const char *name, uintptr_t *addr, size_t *size);

struct llm_inline_target {
    const char *name; /* symbol in the executable */
    void *hook;       /* hidden function the patch leads to */
    void **real;      /* set to the trampoline that runs the original */
    int required;     /* if this one cannot be patched, patch none */
    int patched;      /* out */
};

/* Patches every target it can, or none when a required one cannot be moved:
 * a 5-byte jmp to a relay in a stub page within ±2 GiB, the prologue moved
 * to a trampoline there. Only while the process has one thread; no page is
 * ever writable and executable at once. Returns the number patched (0 with
 * every reason logged), or a negative code. *ns gets the time it took. */
int llm_inline_patch(struct llm_inline_target *t, size_t n, int64_t *ns);

#endif
