/* Inline patching of the main executable's own functions (see inline.h).
 * Runs once, in the shim's constructor, while the process has one thread:
 * nothing can be executing the bytes being rewritten.
 *
 * Lookup walks the executable's .dynsym through its GNU hash table (node
 * has ~74k symbols; dladdr-style scans cost milliseconds). The stub page
 * (one relay and one trampoline per target) is mapped in a gap of
 * /proc/self/maps within ±2 GiB of the patched code, preferring gaps below
 * it (above an executable lies the brk heap). Pages are written RW and then
 * made RX: never writable and executable at once. Files are read with raw
 * system calls so that none of our own hooks run. */
#include "inline.h"
#include "log.h"
#include "reloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLOT 128 /* stub bytes per target: a 16-byte relay, then the trampoline */
#define RELAY 16
#define MAX_TARGETS 16
#define REACH ((int64_t)1 << 31)
#define GAP_MIN ((uintptr_t)1 << 20)

struct dynsyms {
    const ElfW(Sym) * sym;
    const char *str;
    const uint32_t *gnu_hash;
    size_t strsz;
    uintptr_t bias; /* 0 for a non-PIE executable */
};

static int exe_dynsyms(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct dynsyms *d = arg;
    uintptr_t bias = info->dlpi_addr;
    const ElfW(Dyn) *dyn = NULL;

    (void)size;
    d->bias = bias;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(bias + info->dlpi_phdr[i].p_vaddr);
    for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
        /* ld.so has already made these absolute, except where the dynamic
         * section is read-only; then they are still link-time addresses */
        uintptr_t p = dyn->d_un.d_ptr < bias ? dyn->d_un.d_ptr + bias : dyn->d_un.d_ptr;
        if (dyn->d_tag == DT_GNU_HASH)
            d->gnu_hash = (const uint32_t *)p;
        else if (dyn->d_tag == DT_SYMTAB)
            d->sym = (const ElfW(Sym) *)p;
        else if (dyn->d_tag == DT_STRTAB)
            d->str = (const char *)p;
        else if (dyn->d_tag == DT_STRSZ)
            d->strsz = dyn->d_un.d_val;
    }
    return 1; /* the first object is the main program: stop */
}

static const ElfW(Sym) * gnu_lookup(const struct dynsyms *d, const char *name)
{
    const uint32_t *h = d->gnu_hash;
    uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2], shift = h[3];
    const uint64_t *bloom = (const uint64_t *)(h + 4);
    const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
    const uint32_t *chain = buckets + nbuckets;
    uint32_t hash = 5381, i;
    uint64_t word, mask;

    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        hash = hash * 33 + *c;
    if (!nbuckets || !bloom_size)
        return NULL;
    word = bloom[(hash / 64) % bloom_size];
    mask = (1ull << (hash % 64)) | (1ull << ((hash >> shift) % 64));
    if ((word & mask) != mask)
        return NULL;
    i = buckets[hash % nbuckets];
    if (i < symoffset)
        return NULL;
    for (;; i++) {
        uint32_t h2 = chain[i - symoffset];
        if ((hash | 1) == (h2 | 1) && d->sym[i].st_name < d->strsz &&
            !strcmp(name, d->str + d->sym[i].st_name))
            return &d->sym[i];
        if (h2 & 1)
            return NULL;
    }
}

int llm_inline_exe_func(const char *name, uintptr_t *addr, size_t *size)
{
    static struct dynsyms d;
    static int looked;
    const ElfW(Sym) * s;

    if (!looked) {
        dl_iterate_phdr(exe_dynsyms, &d);
        looked = 1;
    }
    if (!d.gnu_hash || !d.sym || !d.str)
        return -ENOENT;
    s = gnu_lookup(&d, name);
    if (!s || s->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s->st_info) != STT_FUNC || !s->st_value)
        return -ENOENT;
    *addr = d.bias + (uintptr_t)s->st_value;
    *size = s->st_size;
    return 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads a /proc file with raw system calls, handing each whole line to fn
 * (lines longer than the buffer are cut). Returns 0 or -errno. */
static int each_line(const char *path, void (*fn)(const char *line, void *arg), void *arg)
{
    char buf[4096];
    size_t have = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    long n;

    if (fd < 0)
        return -errno;
    for (;;) {
        char *nl, *p = buf;
        n = syscall(SYS_read, fd, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        while ((nl = strchr(p, '\n'))) {
            *nl = '\0';
            fn(p, arg);
            p = nl + 1;
        }
        have -= (size_t)(p - buf);
        memmove(buf, p, have);
        if (have == sizeof(buf) - 1) { /* a line longer than the buffer */
            buf[have] = '\0';
            fn(buf, arg);
            have = 0;
        }
    }
    syscall(SYS_close, fd);
    return n < 0 ? -errno : 0;
}

static void count_threads(const char *line, void *arg)
{
    const char *p = strrchr(line, ')'); /* the command name may hold anything */
    int field = 2;

    for (; p && *p; p++)
        if (*p == ' ' && ++field == 20) {
            *(long *)arg = strtol(p + 1, NULL, 10);
            return;
        }
}

/* Where the stub page may go: the gap nearest the code, below it if any. */
struct gaps {
    uintptr_t lo, hi;           /* the patched code */
    uintptr_t prev;             /* end of the previous mapping */
    uintptr_t below;            /* best candidate below lo (0 none) */
    uintptr_t above;            /* best candidate above hi (0 none) */
    uintptr_t exec_lo, exec_hi; /* the r-x mapping holding lo, if any */
    size_t len;
};

static int reaches(const struct gaps *g, uintptr_t page)
{
    return (int64_t)(page + g->len) - (int64_t)g->lo < REACH - 4096 &&
           (int64_t)g->hi - (int64_t)page < REACH - 4096;
}

static void consider_gap(struct gaps *g, uintptr_t from, uintptr_t to)
{
    if (from < 0x10000) /* below vm.mmap_min_addr's usual value */
        from = 0x10000;
    /* small holes inside an executable's image are not ours to fill (node
     * --use-largepages remaps its text in 2 MiB units): 1 MiB free at least */
    if (to <= from || to - from < GAP_MIN)
        return;
    if (to <= g->lo && reaches(g, to - g->len) && to - g->len > g->below)
        g->below = to - g->len;
    else if (from >= g->hi && reaches(g, from) && (!g->above || from < g->above))
        g->above = from;
}

static void map_line(const char *line, void *arg)
{
    struct gaps *g = arg;
    char *end;
    uintptr_t start = strtoul(line, &end, 16), stop;

    if (*end != '-')
        return;
    stop = strtoul(end + 1, &end, 16);
    consider_gap(g, g->prev, start);
    g->prev = stop;
    if (start <= g->lo && g->lo < stop && !strncmp(end, " r-x", 4)) {
        g->exec_lo = start;
        g->exec_hi = stop;
    }
}

static void *map_stub(struct gaps *g)
{
    uintptr_t at[2];

    if (each_line("/proc/self/maps", map_line, g))
        return NULL;
    at[0] = g->below;
    at[1] = g->above;
    for (int i = 0; i < 2; i++) {
        void *p;
        if (!at[i])
            continue;
        p = mmap((void *)at[i], g->len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == (void *)at[i])
            return p;
        if (p != MAP_FAILED) /* an old kernel took the address as a hint */
            munmap(p, g->len);
    }
    return NULL;
}

/* Writes the 5-byte jmp (and int3 over the rest of the stolen bytes): RW,
 * write, back to RX. All signals are blocked meanwhile. */
static int write_patch(uintptr_t site, size_t stolen, uintptr_t relay)
{
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t from = site & ~(uintptr_t)(pg - 1);
    size_t len = ((site + stolen + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1)) - from;
    uint8_t jmp[LLM_RELOC_JMP_LEN];
    int rc = 0;

    if (llm_reloc_jmp32(jmp, site, relay))
        return -ERANGE;
    if (mprotect((void *)from, len, PROT_READ | PROT_WRITE))
        return -errno;
    memcpy((void *)site, jmp, sizeof(jmp));
    memset((void *)(site + sizeof(jmp)), 0xcc, stolen - sizeof(jmp));
    if (mprotect((void *)from, len, PROT_READ | PROT_EXEC))
        rc = -errno; /* cannot happen: the page was RX a moment ago */
    return rc;
}

struct plan {
    uintptr_t addr;
    size_t size;
    struct llm_reloc r;
};

static int plan_all(struct llm_inline_target *t, size_t n, struct plan *pl, uint8_t *stub)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *slot = stub + i * SLOT;
        pl[i].r.why = NULL;
        if (!pl[i].addr)
            continue;
        if (llm_reloc_prologue((const uint8_t *)pl[i].addr, pl[i].size, pl[i].addr, slot + RELAY,
                               SLOT - RELAY, (uintptr_t)(slot + RELAY), &pl[i].r)) {
            llm_log("inline hooks: %s not patched: %s", t[i].name, pl[i].r.why);
            if (t[i].required)
                return -ENOEXEC;
            pl[i].addr = 0;
            continue;
        }
        llm_reloc_jmp_abs(slot, (uintptr_t)t[i].hook);
    }
    return 0;
}

static int patch_all(struct llm_inline_target *t, size_t n, struct plan *pl, uint8_t *stub)
{
    sigset_t all, old;
    int done = 0, rc = 0;

    for (size_t i = 0; i < n; i++)
        if (pl[i].addr)
            *t[i].real = stub + i * SLOT + RELAY;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (size_t i = 0; i < n && !rc; i++) {
        if (!pl[i].addr)
            continue;
        rc = write_patch(pl[i].addr + pl[i].r.skip, pl[i].r.stolen, (uintptr_t)(stub + i * SLOT));
        if (rc)
            llm_log("inline hooks: patching %s failed: %s", t[i].name, strerror(-rc));
        else
            t[i].patched = 1, done++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return done;
}

static int single_threaded(void)
{
    long threads = 0;

    return !each_line("/proc/self/stat", count_threads, &threads) && threads == 1;
}

int llm_inline_patch(struct llm_inline_target *t, size_t n, int64_t *ns)
{
    int64_t t0 = mono_ns();
    struct plan pl[MAX_TARGETS] = {{0}};
    struct gaps g = {.lo = UINTPTR_MAX, .len = (size_t)sysconf(_SC_PAGESIZE)};
    uint8_t *stub = NULL;
    int rc = 0;

#if !defined(__x86_64__)
    llm_log("inline hooks: not x86-64; not patching");
    return 0;
#endif
    if (n > MAX_TARGETS || n * SLOT > g.len)
        return -EINVAL;
    if (!single_threaded()) {
        llm_log("inline hooks: the process already has threads; not patching");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (llm_inline_exe_func(t[i].name, &pl[i].addr, &pl[i].size))
            continue;
        if (pl[i].addr < g.lo)
            g.lo = pl[i].addr;
        if (pl[i].addr + pl[i].size > g.hi)
            g.hi = pl[i].addr + pl[i].size;
    }
    if (g.lo == UINTPTR_MAX || llm_reloc_open())
        goto out;
    stub = map_stub(&g);
    if (!stub) {
        llm_log("inline hooks: no free page within 2 GiB of the code; not patching");
        goto close;
    }
    if (g.exec_lo > g.lo || g.exec_hi < g.hi) {
        llm_log("inline hooks: the functions are not in one r-x mapping; not patching");
        goto unmap;
    }
    if (plan_all(t, n, pl, stub))
        goto unmap;
    if (mprotect(stub, g.len, PROT_READ | PROT_EXEC)) {
        llm_log("inline hooks: mprotect of the stub page failed: %s", strerror(errno));
        goto unmap;
    }
    rc = patch_all(t, n, pl, stub);
    goto close; /* the stub page now holds live code: never unmapped */
unmap:
    munmap(stub, g.len);
close:
    llm_reloc_close(); /* the trampolines are written: the decoder is not needed again */
out:
    *ns = mono_ns() - t0;
    return rc;
}
