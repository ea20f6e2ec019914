/* Prologue relocation for inline hooks (x86-64): the instructions a 5-byte
 * jmp at the start of a function will overwrite are copied into a trampoline
 * that runs them at another address and jumps back. Decoding is Zydis's,
 * loaded with dlopen by its installed soname only when a process needs it.
 * Pure functions of the bytes given (the unit tests feed hand-assembled
 * prologues at pretend addresses); any thread, no allocation. */
#ifndef LLM_RELOC_H
#define LLM_RELOC_H

#include <stddef.h>
#include <stdint.h>

#define LLM_RELOC_JMP_LEN 5 /* jmp rel32: what the patch writes */

struct llm_reloc {
    size_t skip;     /* bytes left in place before the patch (an endbr64) */
    size_t stolen;   /* bytes the patch replaces, from skip on (>= 5) */
    size_t len;      /* trampoline bytes written */
    const char *why; /* the reason a prologue was refused */
};

/* Loads the decoder. 0, or -ENOENT when libZydis is not installed (the
 * reason is logged). Call once, before any other thread exists, or under
 * the caller's own once-guard. */
int llm_reloc_open(void);

/* Unloads the decoder (the shim needs it only while patching). */
void llm_reloc_close(void);

/* Relocates the prologue of the function at code (size bytes, running at
 * addr) into out (cap bytes, to run at out_addr): on 0, out holds endbr64,
 * the stolen instructions re-based, and a jump back to addr + skip + stolen.
 * Returns -ENOEXEC, with r->why set, when the prologue cannot be moved
 * safely (then nothing may be patched): undecodable, shorter than the jump,
 * jrcxz/loop, a branch from anywhere in the function into the stolen bytes,
 * an operand out of reach, or out too small. */
int llm_reloc_prologue(const uint8_t *code, size_t size, uint64_t addr, uint8_t *out, size_t cap,
                       uint64_t out_addr, struct llm_reloc *r);

/* Writes a jmp rel32 at site (to run at site_addr) to target: 0, or
 * -ERANGE when target is beyond ±2 GiB. */
int llm_reloc_jmp32(uint8_t *site, uint64_t site_addr, uint64_t target);
/* Writes a 14-byte absolute jmp (jmp [rip+0]; .quad target). */
size_t llm_reloc_jmp_abs(uint8_t *out, uint64_t target);

#endif
