/* Prologue relocation (see reloc.h). Runs in the shim's constructor, before
 * the host has threads, and in `llmops doctor`; the unit tests call it on
 * hand-assembled bytes.
 *
 * Invariants: a refusal writes nothing the caller will use; every emitted
 * branch reaches exactly the target the original reached (rel32 when in
 * range, else an absolute form); the function is scanned to its end for
 * relative branches into the stolen bytes, the one thing a copy cannot keep
 * meaning. Indirect jumps into the prologue (jump tables) cannot be seen;
 * compilers do not emit them there. */
#include "reloc.h"
#include "log.h"

#include <Zydis/Decoder.h>
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#ifndef LLMOPS_ZYDIS_SONAME
#define LLMOPS_ZYDIS_SONAME "libZydis.so.4.0"
#endif

static struct {
    ZyanStatus (*init)(ZydisDecoder *, ZydisMachineMode, ZydisStackWidth);
    ZyanStatus (*decode)(const ZydisDecoder *, ZydisDecoderContext *, const void *, ZyanUSize,
                         ZydisDecodedInstruction *);
    ZydisDecoder dec;
    void *handle;
    int ready;
} zy;

int llm_reloc_open(void)
{
    void *h;

    if (zy.ready)
        return 0;
    h = dlopen(LLMOPS_ZYDIS_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        llm_log("inline hooks: cannot load the decoder: %s", dlerror());
        return -ENOENT;
    }
    zy.init = (__typeof__(zy.init))dlsym(h, "ZydisDecoderInit");
    zy.decode = (__typeof__(zy.decode))dlsym(h, "ZydisDecoderDecodeInstruction");
    if (!zy.init || !zy.decode ||
        ZYAN_FAILED(zy.init(&zy.dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64))) {
        llm_log("inline hooks: %s lacks the decoder entry points", LLMOPS_ZYDIS_SONAME);
        dlclose(h);
        return -ENOENT;
    }
    zy.handle = h;
    zy.ready = 1;
    return 0;
}

void llm_reloc_close(void)
{
    if (zy.handle)
        dlclose(zy.handle);
    memset(&zy, 0, sizeof(zy));
}

static int fits32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

static void put32(uint8_t *p, int32_t v)
{
    memcpy(p, &v, 4);
}

size_t llm_reloc_jmp_abs(uint8_t *out, uint64_t target)
{
    static const uint8_t jmp_rip[6] = {0xff, 0x25, 0, 0, 0, 0}; /* jmp [rip+0] */

    memcpy(out, jmp_rip, 6);
    memcpy(out + 6, &target, 8);
    return 14;
}

int llm_reloc_jmp32(uint8_t *site, uint64_t site_addr, uint64_t target)
{
    int64_t rel = (int64_t)(target - (site_addr + 5));

    if (!fits32(rel))
        return -ERANGE;
    site[0] = 0xe9;
    put32(site + 1, (int32_t)rel);
    return 0;
}

/* The trampoline being written: bytes, where they will run, room left. */
struct tramp {
    uint8_t *p;
    uint64_t addr;
    size_t len, cap;
};

static int room(struct tramp *t, size_t n)
{
    return t->len + n <= t->cap;
}

/* A branch to target from the trampoline: rel32 when in reach, else the
 * absolute form. kind: 0xe9 jmp, 0xe8 call, 0x80..0x8f Jcc (second byte of
 * 0f 8x). Returns 0 or -ENOEXEC (no room). */
static int emit_branch(struct tramp *t, int kind, uint64_t target)
{
    uint8_t *o = t->p + t->len;
    uint64_t here = t->addr + t->len;
    size_t n = kind >= 0x80 && kind <= 0x8f ? 6 : 5;
    int64_t rel = (int64_t)(target - (here + n));

    if (fits32(rel)) {
        if (!room(t, n))
            return -ENOEXEC;
        if (n == 6)
            *o++ = 0x0f;
        *o++ = (uint8_t)kind;
        put32(o, (int32_t)rel);
        t->len += n;
        return 0;
    }
    if (!room(t, 16))
        return -ENOEXEC;
    if (kind == 0xe8) { /* call [rip+2]; jmp +8; .quad target */
        static const uint8_t call_rip[8] = {0xff, 0x15, 2, 0, 0, 0, 0xeb, 8};
        memcpy(o, call_rip, 8);
        memcpy(o + 8, &target, 8);
        t->len += 16;
        return 0;
    }
    if (kind != 0xe9) { /* the inverse condition skips the absolute jmp */
        *o++ = (uint8_t)(0x70 + ((kind & 0xf) ^ 1));
        *o++ = 14;
        t->len += 2;
    }
    t->len += llm_reloc_jmp_abs(o, target);
    return 0;
}

static int refuse(struct llm_reloc *r, const char *why)
{
    r->why = why;
    return -ENOEXEC;
}

/* Decodes at code + off. Near the end of the function the bytes are padded
 * with nops, so that an instruction cut by the end decodes (and the caller
 * sees it run past size) rather than passing for an undecodable one. */
static int decode(const uint8_t *code, size_t size, size_t off, ZydisDecodedInstruction *in)
{
    uint8_t pad[ZYDIS_MAX_INSTRUCTION_LENGTH];
    const uint8_t *p = code + off;

    if (size - off < sizeof(pad)) {
        memset(pad, 0x90, sizeof(pad));
        memcpy(pad, p, size - off);
        p = pad;
    }
    return ZYAN_SUCCESS(zy.decode(&zy.dec, NULL, p, sizeof(pad), in)) ? 0 : -1;
}

/* One stolen instruction at addr, copied or re-encoded into t. */
static int relocate_one(const ZydisDecodedInstruction *in, const uint8_t *src, uint64_t addr,
                        struct tramp *t, struct llm_reloc *r)
{
    uint64_t next = addr + in->length;

    if (in->raw.imm[0].is_relative) {
        uint64_t target = next + (uint64_t)in->raw.imm[0].value.s;
        if (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
            (in->opcode == 0xeb || in->opcode == 0xe9))
            return emit_branch(t, 0xe9, target) ? refuse(r, "trampoline too small") : 0;
        if (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && in->opcode == 0xe8)
            return emit_branch(t, 0xe8, target) ? refuse(r, "trampoline too small") : 0;
        if (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && (in->opcode & 0xf0) == 0x70)
            return emit_branch(t, 0x80 | (in->opcode & 0xf), target)
                       ? refuse(r, "trampoline too small")
                       : 0;
        if (in->opcode_map == ZYDIS_OPCODE_MAP_0F && (in->opcode & 0xf0) == 0x80)
            return emit_branch(t, in->opcode, target) ? refuse(r, "trampoline too small") : 0;
        /* jrcxz, loop*, xbegin: only rel8 (or odd) forms, not worth widening */
        return refuse(r, "jrcxz/loop or another short-only relative branch in the prologue");
    }
    if (!room(t, in->length))
        return refuse(r, "trampoline too small");
    memcpy(t->p + t->len, src, in->length);
    if ((in->attributes & ZYDIS_ATTRIB_IS_RELATIVE) && in->raw.disp.size == 32) {
        /* RIP-relative operand: same target from the new place */
        uint64_t target = next + (uint64_t)in->raw.disp.value;
        int64_t disp = (int64_t)(target - (t->addr + t->len + in->length));
        if (!fits32(disp))
            return refuse(r, "RIP-relative operand out of reach of the trampoline");
        put32(t->p + t->len + in->raw.disp.offset, (int32_t)disp);
    } else if (in->attributes & ZYDIS_ATTRIB_IS_RELATIVE) {
        return refuse(r, "relative operand of an unknown form");
    }
    t->len += in->length;
    return 0;
}

/* Every relative branch in the function, from its first byte to its last,
 * must land outside (lo, hi): the patch cuts those bytes. */
static int scan_branches(const uint8_t *code, size_t size, uint64_t addr, uint64_t lo, uint64_t hi,
                         struct llm_reloc *r)
{
    ZydisDecodedInstruction in;

    for (size_t off = 0; off < size; off += in.length) {
        if (decode(code, size, off, &in) || off + in.length > size)
            return refuse(r, "undecodable instruction in the function");
        if (in.raw.imm[0].is_relative) {
            uint64_t target = addr + off + in.length + (uint64_t)in.raw.imm[0].value.s;
            if (target > lo && target < hi)
                return refuse(r, "a branch back into the stolen bytes");
        }
    }
    return 0;
}

int llm_reloc_prologue(const uint8_t *code, size_t size, uint64_t addr, uint8_t *out, size_t cap,
                       uint64_t out_addr, struct llm_reloc *r)
{
    static const uint8_t endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
    struct tramp t = {out, out_addr, 0, cap};
    ZydisDecodedInstruction in;
    size_t off;
    int rc;

    memset(r, 0, sizeof(*r));
#if !defined(__x86_64__)
    return refuse(r, "not x86-64");
#endif
    if (!zy.ready)
        return refuse(r, "no decoder");
    /* an endbr64 stays where it is (indirect calls land on it); so does the
     * trampoline's own, for the hook's indirect call */
    if (size >= 4 && !memcmp(code, endbr64, 4))
        r->skip = 4;
    if (size < r->skip + LLM_RELOC_JMP_LEN)
        return refuse(r, "function shorter than the jump");
    if (!room(&t, 4))
        return refuse(r, "trampoline too small");
    memcpy(out, endbr64, 4);
    t.len = 4;
    for (off = r->skip; off < r->skip + LLM_RELOC_JMP_LEN; off += in.length) {
        if (decode(code, size, off, &in))
            return refuse(r, "undecodable instruction in the prologue");
        if (off + in.length > size)
            return refuse(r, "function shorter than the jump");
        rc = relocate_one(&in, code + off, addr + off, &t, r);
        if (rc)
            return rc;
    }
    r->stolen = off - r->skip;
    rc = scan_branches(code, size, addr, addr + r->skip, addr + off, r);
    if (rc)
        return rc;
    if (emit_branch(&t, 0xe9, addr + off))
        return refuse(r, "trampoline too small");
    r->len = t.len;
    return 0;
}
