/* reloc.c: the inline hooks' prologue relocator on hand-assembled x86-64
 * prologues at pretend addresses. Each relocatable shape (plain copy,
 * endbr64 kept in place, RIP-relative operand re-based, Jcc rel8 widened,
 * call and jmp re-targeted, absolute forms when the trampoline is beyond
 * rel32 reach) is checked byte for byte, and two trampolines are run to show
 * they compute what the original did; each refusal (branch back into the
 * stolen bytes, shorter than the jump, jrcxz/loop, undecodable, RIP operand
 * out of reach, trampoline too small) leaves a reason. Skips (77) when
 * libZydis is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define A 0x401000ull /* where the pretend function runs */
#define T 0x402000ull /* where its trampoline would run */
#define FAR 0x7f0000001000ull

static const uint8_t endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};

static int32_t rel_at(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t abs_at(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* the trampoline's last 5 bytes: jmp rel32 back to A + back */
static void assert_jmp_back(const uint8_t *out, const struct llm_reloc *r, uint64_t back)
{
    const uint8_t *j = out + r->len - 5;
    assert_int_equal(j[0], 0xe9);
    assert_int_equal(T + r->len + (int64_t)rel_at(j + 1), back);
}

static void plain_copy(void **state)
{
    /* push rbp; mov rbp,rsp; push r14; sub rsp,0x48; ret */
    static const uint8_t f[] = {0x55, 0x48, 0x89, 0xe5, 0x41, 0x56, 0x48, 0x83, 0xec, 0x48, 0xc3};
    uint8_t out[128];
    struct llm_reloc r;

    (void)state;
    assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, sizeof(out), T, &r), 0);
    assert_int_equal(r.skip, 0);
    assert_int_equal(r.stolen, 6);
    assert_int_equal(r.len, 4 + 6 + 5);
    assert_memory_equal(out, endbr, 4);
    assert_memory_equal(out + 4, f, 6);
    assert_jmp_back(out, &r, A + 6);
}

static void endbr_kept(void **state)
{
    static const uint8_t f[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5, 0x41, 0x56, 0xc3};
    uint8_t out[128];
    struct llm_reloc r;

    (void)state;
    assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, sizeof(out), T, &r), 0);
    assert_int_equal(r.skip, 4);
    assert_int_equal(r.stolen, 6);
    assert_memory_equal(out + 4, f + 4, 6);
    assert_jmp_back(out, &r, A + 10);
}

static void rip_relative(void **state)
{
    /* mov rax,[rip+0x100]; ret */
    static const uint8_t f[] = {0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0xc3};
    uint8_t out[128];
    struct llm_reloc r;

    (void)state;
    assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, sizeof(out), T, &r), 0);
    assert_int_equal(r.stolen, 7);
    assert_memory_equal(out + 4, f, 3);
    /* same absolute target from the trampoline */
    assert_int_equal(T + 4 + 7 + (int64_t)rel_at(out + 7), A + 7 + 0x100);
    /* and refused when the trampoline is beyond rel32 reach of the data */
    assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, sizeof(out), FAR, &r), -ENOEXEC);
    assert_non_null(strstr(r.why, "RIP-relative"));
}

static void jcc_widened(void **state)
{
    /* test rdi,rdi; je +0x16; ...: SSL_free's prologue */
    uint8_t f[0x20];
    uint8_t out[128];
    struct llm_reloc r;

    (void)state;
    memset(f, 0x90, sizeof(f));
    memcpy(f, (const uint8_t[]){0x48, 0x85, 0xff, 0x74, 0x16}, 5);
    f[sizeof(f) - 1] = 0xc3;
    assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, sizeof(out), T, &r), 0);
    assert_int_equal(r.stolen, 5);
    assert_memory_equal(out + 4, f, 3);
    assert_int_equal(out[7], 0x0f);
    assert_int_equal(out[8], 0x84);
    assert_int_equal(T + 13 + (int64_t)rel_at(out + 9), A + 5 + 0x16);
    assert_jmp_back(out, &r, A + 5);
    /* out of reach: jne over an absolute jmp, and an absolute jmp back */
    assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, sizeof(out), FAR, &r), 0);
    assert_int_equal(out[7], 0x75);
    assert_int_equal(out[8], 14);
    assert_memory_equal(out + 9, ((const uint8_t[]){0xff, 0x25, 0, 0, 0, 0}), 6);
    assert_int_equal(abs_at(out + 15), A + 5 + 0x16);
    assert_int_equal(abs_at(out + r.len - 8), A + 5);
}

static void call_and_jmp(void **state)
{
    /* call +0x1000; jmp -0x2000 (rel32 forms) */
    static const uint8_t f[] = {0xe8, 0x00, 0x10, 0x00, 0x00, 0xe9, 0x00, 0xe0, 0xff, 0xff};
    uint8_t out[128];
    struct llm_reloc r;

    (void)state;
    assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, sizeof(out), T, &r), 0);
    assert_int_equal(r.stolen, 5);
    assert_int_equal(out[4], 0xe8);
    assert_int_equal(T + 9 + (int64_t)rel_at(out + 5), A + 5 + 0x1000);
    /* far away: call [rip+2]; jmp +8; .quad target */
    assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, sizeof(out), FAR, &r), 0);
    assert_memory_equal(out + 4, ((const uint8_t[]){0xff, 0x15, 2, 0, 0, 0, 0xeb, 8}), 8);
    assert_int_equal(abs_at(out + 12), A + 5 + 0x1000);
    /* a short jmp first: re-targeted as jmp rel32, then the next one copied */
    static const uint8_t g[] = {0xeb, 0x10, 0x55, 0x48, 0x89, 0xe5, 0xc3};
    assert_int_equal(llm_reloc_prologue(g, sizeof(g), A, out, sizeof(out), T, &r), 0);
    assert_int_equal(r.stolen, 6);
    assert_int_equal(out[4], 0xe9);
    assert_int_equal(T + 9 + (int64_t)rel_at(out + 5), A + 2 + 0x10);
    assert_memory_equal(out + 9, g + 2, 4);
}

static void expect_refusal(const uint8_t *f, size_t n, const char *why)
{
    uint8_t out[128];
    struct llm_reloc r;

    assert_int_equal(llm_reloc_prologue(f, n, A, out, sizeof(out), T, &r), -ENOEXEC);
    assert_non_null(r.why);
    if (!strstr(r.why, why))
        fail_msg("refused for '%s', expected '%s'", r.why, why);
}

static void refusals(void **state)
{
    (void)state;
    /* push rbp; mov rbp,rsp; push r14; ...; jmp back to +1 (inside the 6 stolen bytes) */
    expect_refusal((const uint8_t[]){0x55, 0x48, 0x89, 0xe5, 0x41, 0x56, 0x90, 0xeb, 0xf8}, 9,
                   "branch back into the stolen bytes");
    /* a jne far below, at the end of a long function, back to +3 */
    {
        uint8_t f[300];
        memset(f, 0x90, sizeof(f));
        memcpy(f, (const uint8_t[]){0x55, 0x48, 0x89, 0xe5, 0x41, 0x56}, 6);
        f[290] = 0x0f, f[291] = 0x85;
        int32_t rel = 3 - 296;
        memcpy(f + 292, &rel, 4);
        f[299] = 0xc3;
        expect_refusal(f, sizeof(f), "branch back into the stolen bytes");
    }
    /* xor eax,eax; ret: 3 bytes */
    expect_refusal((const uint8_t[]){0x31, 0xc0, 0xc3}, 3, "shorter than the jump");
    /* endbr64; xor eax,eax; ret */
    expect_refusal((const uint8_t[]){0xf3, 0x0f, 0x1e, 0xfa, 0x31, 0xc0, 0xc3}, 7,
                   "shorter than the jump");
    /* push rbp; mov eax,1 cut by the end of the symbol */
    expect_refusal((const uint8_t[]){0x55, 0xb8, 0x01, 0x00, 0x00, 0x00}, 5,
                   "shorter than the jump");
    /* jrcxz +0x10; loop -2; loopne */
    expect_refusal((const uint8_t[]){0xe3, 0x10, 0x90, 0x90, 0x90, 0x90, 0xc3}, 7, "jrcxz/loop");
    expect_refusal((const uint8_t[]){0x90, 0xe2, 0xfe, 0x90, 0x90, 0xc3}, 6, "jrcxz/loop");
    expect_refusal((const uint8_t[]){0x55, 0xe0, 0x10, 0x90, 0x90, 0xc3}, 6, "jrcxz/loop");
    /* push es: not an instruction in 64-bit mode */
    expect_refusal((const uint8_t[]){0x06, 0x90, 0x90, 0x90, 0x90, 0xc3}, 6, "undecodable");
    /* fine prologue, garbage later in the function */
    expect_refusal((const uint8_t[]){0x55, 0x48, 0x89, 0xe5, 0x41, 0x56, 0x06, 0xc3}, 8,
                   "undecodable");
    {
        static const uint8_t f[] = {0x48, 0x85, 0xff, 0x74, 0x16, 0xc3};
        uint8_t out[16];
        struct llm_reloc r;
        assert_int_equal(llm_reloc_prologue(f, sizeof(f), A, out, 12, T, &r), -ENOEXEC);
        assert_non_null(strstr(r.why, "too small"));
    }
}

typedef int (*fn2)(int, int);

/* The trampoline of a real function, run: it must compute what the
 * original computes (branches and RIP-relative loads included). */
static void trampolines_run(void **state)
{
    /* f: mov eax,edi; test edi,edi; je +3; add eax,esi; ret; mov eax,42; ret */
    static const uint8_t f[] = {0x89, 0xf8, 0x85, 0xff, 0x74, 0x03, 0x01, 0xf0,
                                0xc3, 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
    /* g: mov eax,[rip+1]; ret; .long 1234 */
    static const uint8_t g[] = {0x8b, 0x05, 0x01, 0x00, 0x00, 0x00, 0xc3, 0xd2, 0x04, 0x00, 0x00};
    uint8_t *code = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct llm_reloc r;

    (void)state;
    assert_true(code != MAP_FAILED);
    memcpy(code, f, sizeof(f));
    memcpy(code + 64, g, sizeof(g));
    assert_int_equal(llm_reloc_prologue(code, sizeof(f), (uintptr_t)code, code + 4096, 128,
                                        (uintptr_t)(code + 4096), &r),
                     0);
    assert_int_equal(r.stolen, 6); /* the je is widened in the trampoline */
    assert_int_equal(llm_reloc_prologue(code + 64, 7, (uintptr_t)(code + 64), code + 4096 + 128,
                                        128, (uintptr_t)(code + 4096 + 128), &r),
                     0);
    assert_int_equal(mprotect(code, 8192, PROT_READ | PROT_EXEC), 0);
    fn2 orig = (fn2)(uintptr_t)code, tramp = (fn2)(uintptr_t)(code + 4096);
    int (*load)(void) = (int (*)(void))(uintptr_t)(code + 4096 + 128);
    assert_int_equal(orig(0, 5), 42);
    assert_int_equal(tramp(0, 5), 42);
    assert_int_equal(orig(3, 4), 7);
    assert_int_equal(tramp(3, 4), 7);
    assert_int_equal(load(), 1234);
    munmap(code, 8192);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_copy),      cmocka_unit_test(endbr_kept),
        cmocka_unit_test(rip_relative),    cmocka_unit_test(jcc_widened),
        cmocka_unit_test(call_and_jmp),    cmocka_unit_test(refusals),
        cmocka_unit_test(trampolines_run),
    };

    if (llm_reloc_open()) {
        printf("libZydis not installed: skipped\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
