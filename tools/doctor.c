/* `llmops doctor PROGRAM`: says up front whether the shim can observe a
 * program's LLM calls, and through which path, by reading its ELF file (and
 * those of the libraries that decide it) without running it.
 *
 * What decides it: LD_PRELOAD works only for dynamically linked programs
 * that are not setuid; HTTPS is observed when TLS goes through a shared
 * libssl (or libcurl); a program that defines SSL_read itself, embeds
 * BoringSSL or rustls, or is a Go binary keeps its TLS out of reach, though
 * its plaintext HTTP still goes through the socket hooks (except Go, which
 * makes its own system calls). Scripts are judged by their interpreter;
 * Python by the _ssl module it would load. A program that exports its own
 * SSL_write and SSL_read (node) is observable through the shim's inline
 * hooks when their prologues can be relocated: the same relocator as the
 * shim's (shim/reloc.c) is run here on the file's bytes. */
#include "cli.h"
#include "err.h"
#include "reloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NEEDED 64

struct elf_facts {
    int is_elf, is_dynamic, is_setuid, is_go, defines_ssl, embeds_boringssl, embeds_rustls;
    int inline_ssl;       /* exports SSL_write and SSL_read: the inline hooks apply */
    int inline_ok;        /* and the ones the shim requires can be patched */
    char inline_fns[128]; /* the functions that would be patched */
    char inline_why[256]; /* why some would not */
    char interp[256];
    size_t nneeded;
    char needed[MAX_NEEDED][128];
};

static const char libdirs[][40] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib",
                                   "/usr/lib", "/usr/local/lib"};

static int find_in_path(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    if (strchr(name, '/'))
        return realpath(name, out) ? 0 : -errno;
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, p, name);
        if (!access(buf, X_OK) && realpath(buf, out) && strlen(out) < n)
            return 0;
        p += len + (colon ? 1 : 0);
    }
    return -ENOENT;
}

static int find_library(const char *soname, char *out, size_t n)
{
    for (size_t i = 0; i < sizeof(libdirs) / sizeof(libdirs[0]); i++) {
        snprintf(out, n, "%s/%s", libdirs[i], soname);
        if (!access(out, R_OK))
            return 0;
    }
    return -ENOENT;
}

static int defines(const unsigned char *m, size_t size, const Elf64_Shdr *sym,
                   const Elf64_Shdr *str, const char *name)
{
    if (sym->sh_offset + sym->sh_size > size || str->sh_offset + str->sh_size > size ||
        !sym->sh_entsize)
        return 0;
    for (size_t i = 0; i < sym->sh_size / sym->sh_entsize; i++) {
        const Elf64_Sym *s = (const Elf64_Sym *)(m + sym->sh_offset + i * sym->sh_entsize);
        if (s->st_shndx != SHN_UNDEF && s->st_name < str->sh_size &&
            !strcmp((const char *)m + str->sh_offset + s->st_name, name))
            return 1;
    }
    return 0;
}

/* Reads what matters from one ELF file. Returns 0 or a negative code. */
/* The functions the shim patches (hook_ssl_inline.c), the first three required. */
static const char *const inline_targets[] = {"SSL_write",    "SSL_read",    "SSL_free",
                                             "SSL_write_ex", "SSL_read_ex", "SSL_shutdown"};

static const unsigned char *file_bytes(const unsigned char *m, size_t size, const Elf64_Ehdr *eh,
                                       uint64_t vaddr, uint64_t len)
{
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(m + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr &&
            vaddr + len <= ph->p_vaddr + ph->p_filesz && ph->p_offset + ph->p_filesz <= size)
            return m + ph->p_offset + (vaddr - ph->p_vaddr);
    }
    return NULL;
}

/* Would the shim's inline hooks take this program's own OpenSSL? Runs the
 * relocator on each target's bytes as the shim would (the trampoline placed
 * 1 MiB below the code, where the shim looks first). */
static void inline_plan(const unsigned char *m, size_t size, const Elf64_Ehdr *eh,
                        const Elf64_Shdr *sym, const Elf64_Shdr *str, struct elf_facts *f)
{
    const size_t n = sizeof(inline_targets) / sizeof(inline_targets[0]);
    const Elf64_Sym *found[sizeof(inline_targets) / sizeof(inline_targets[0])] = {0};
    int ok = 1;

    if (sym->sh_offset + sym->sh_size > size || str->sh_offset + str->sh_size > size ||
        !sym->sh_entsize)
        return;
    for (size_t i = 0; i < sym->sh_size / sym->sh_entsize; i++) {
        const Elf64_Sym *s = (const Elf64_Sym *)(m + sym->sh_offset + i * sym->sh_entsize);
        if (s->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
            s->st_name >= str->sh_size)
            continue;
        for (size_t k = 0; k < n; k++)
            if (!strcmp((const char *)m + str->sh_offset + s->st_name, inline_targets[k]))
                found[k] = s;
    }
    if (!found[0] || !found[1])
        return;
    f->inline_ssl = 1;
    if (eh->e_machine != EM_X86_64) {
        snprintf(f->inline_why, sizeof(f->inline_why), "not x86-64");
        return;
    }
    if (llm_reloc_open()) {
        snprintf(f->inline_why, sizeof(f->inline_why), "the decoder (libZydis) is not installed");
        return;
    }
    for (size_t k = 0; k < n; k++) {
        unsigned char out[112];
        struct llm_reloc r = {.why = "not exported"};
        const unsigned char *code =
            found[k] ? file_bytes(m, size, eh, found[k]->st_value, found[k]->st_size) : NULL;
        if (code && !llm_reloc_prologue(code, found[k]->st_size, found[k]->st_value, out,
                                        sizeof(out), found[k]->st_value - (1 << 20), &r)) {
            size_t l = strlen(f->inline_fns);
            snprintf(f->inline_fns + l, sizeof(f->inline_fns) - l, " %s", inline_targets[k]);
            continue;
        }
        if (found[k]) {
            size_t l = strlen(f->inline_why);
            snprintf(f->inline_why + l, sizeof(f->inline_why) - l, "%s%s: %s", l ? "; " : "",
                     inline_targets[k], code ? r.why : "not in the file");
        }
        if (k < 3)
            ok = 0;
    }
    f->inline_ok = ok;
}

static int inspect(const char *path, struct elf_facts *f)
{
    struct stat st;
    const unsigned char *m;
    const Elf64_Ehdr *eh;
    const Elf64_Shdr *sh;
    const char *shstr;
    int fd, rc = 0;

    memset(f, 0, sizeof(*f));
    /* O_NONBLOCK: a FIFO named as a program must not hang the open */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st)) {
        rc = -errno;
        goto close_fd;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto close_fd;
    }
    f->is_setuid = (st.st_mode & (S_ISUID | S_ISGID)) != 0;
    if (st.st_size < (off_t)sizeof(Elf64_Ehdr))
        goto close_fd;
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        rc = -errno;
        goto close_fd;
    }
    eh = (const Elf64_Ehdr *)m;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > (size_t)st.st_size ||
        eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > (size_t)st.st_size ||
        eh->e_shstrndx >= eh->e_shnum)
        goto unmap;
    f->is_elf = 1;
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(m + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type == PT_INTERP && ph->p_offset + ph->p_filesz <= (size_t)st.st_size)
            snprintf(f->interp, sizeof(f->interp), "%.*s", (int)ph->p_filesz,
                     (const char *)m + ph->p_offset);
        if (ph->p_type == PT_DYNAMIC)
            f->is_dynamic = 1;
    }
    sh = (const Elf64_Shdr *)(m + eh->e_shoff);
    shstr = (const char *)m + sh[eh->e_shstrndx].sh_offset;
    for (int i = 0; i < eh->e_shnum; i++) {
        const char *name = shstr + sh[i].sh_name;
        if (!strcmp(name, ".go.buildinfo") || !strcmp(name, ".note.go.buildid"))
            f->is_go = 1;
        if (sh[i].sh_type == SHT_DYNAMIC && sh[i].sh_link < eh->e_shnum) {
            const Elf64_Shdr *str = &sh[sh[i].sh_link];
            for (size_t k = 0; sh[i].sh_entsize && k < sh[i].sh_size / sh[i].sh_entsize; k++) {
                const Elf64_Dyn *d =
                    (const Elf64_Dyn *)(m + sh[i].sh_offset + k * sh[i].sh_entsize);
                if (d->d_tag == DT_NEEDED && f->nneeded < MAX_NEEDED &&
                    d->d_un.d_val < str->sh_size)
                    snprintf(f->needed[f->nneeded++], sizeof(f->needed[0]), "%s",
                             (const char *)m + str->sh_offset + d->d_un.d_val);
            }
        }
        if ((sh[i].sh_type == SHT_DYNSYM || sh[i].sh_type == SHT_SYMTAB) &&
            sh[i].sh_link < eh->e_shnum && !f->defines_ssl)
            f->defines_ssl = defines(m, (size_t)st.st_size, &sh[i], &sh[sh[i].sh_link], "SSL_read");
        if (sh[i].sh_type == SHT_DYNSYM && sh[i].sh_link < eh->e_shnum)
            inline_plan(m, (size_t)st.st_size, eh, &sh[i], &sh[sh[i].sh_link], f);
    }
    f->embeds_boringssl = memmem(m, (size_t)st.st_size, "BoringSSL", 9) != NULL;
    f->embeds_rustls = memmem(m, (size_t)st.st_size, "rustls", 6) != NULL;
unmap:
    munmap((void *)m, (size_t)st.st_size);
close_fd:
    close(fd);
    return rc;
}

static const char *needs(const struct elf_facts *f, const char *prefix)
{
    for (size_t i = 0; i < f->nneeded; i++)
        if (!strncmp(f->needed[i], prefix, strlen(prefix)))
            return f->needed[i];
    return NULL;
}

/* Which TLS library a shared library (libcurl, Python's _ssl) uses. */
static const char *tls_of(const char *path, struct elf_facts *lib)
{
    if (inspect(path, lib))
        return NULL;
    if (needs(lib, "libssl.so"))
        return needs(lib, "libssl.so");
    if (needs(lib, "libgnutls"))
        return needs(lib, "libgnutls");
    if (needs(lib, "libnss3"))
        return "libnss3";
    return NULL;
}

/* Python's ssl module lives in lib-dynload/_ssl*.so beside its stdlib. */
static int python_ssl_module(const char *exe, char *out, size_t n)
{
    char pattern[PATH_MAX + 64], prefix[PATH_MAX];
    const char *slash = strrchr(exe, '/');
    glob_t g;
    int rc = -ENOENT;

    snprintf(prefix, sizeof(prefix), "%.*s", slash ? (int)(slash - exe) : 0, exe);
    if ((slash = strrchr(prefix, '/')) != NULL)
        prefix[slash - prefix] = '\0'; /* .../bin -> ... */
    snprintf(pattern, sizeof(pattern), "%s/lib/python3*/lib-dynload/_ssl*.so", prefix);
    if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc) {
        snprintf(out, n, "%s", g.gl_pathv[0]);
        rc = 0;
    }
    globfree(&g);
    return rc;
}

/* What the hooks cannot see, a proxy can, when the program honours the
 * proxy variables (Bun, Deno, Go, Rust and most agent CLIs do). */
static void suggest_run(const char *path)
{
    printf("suggest: llmops run -- %s  (records its HTTPS calls through a local proxy, "
           "for programs that honour HTTPS_PROXY)\n",
           path);
}

/* A FIFO or device named as a program (or as a script's interpreter) would
 * hang or mislead the reads: refused with one error line. */
static int regular_file(const char *path)
{
    struct stat st;

    if (!stat(path, &st) && S_ISREG(st.st_mode))
        return 1;
    llm_cli_error(-EINVAL, "%s: not a regular file", path);
    return 0;
}

int llm_doctor_run(const char *program)
{
    char path[PATH_MAX], lib[PATH_MAX], first[256] = "";
    struct elf_facts f, l;
    const char *tls = NULL, *curl, *how;
    int rc, fd, observable = 0, script = 0;

    rc = find_in_path(program, path, sizeof(path));
    if (rc) {
        llm_cli_error(rc, "%s", program);
        return 2;
    }
    if (!regular_file(path))
        return 2;
    /* a script: judge its interpreter */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
        ssize_t n = read(fd, first, sizeof(first) - 1);
        close(fd);
        first[n > 0 ? n : 0] = '\0';
    }
    if (!strncmp(first, "#!", 2)) {
        char interp[256];
        char *nl = strchr(first, '\n');
        if (nl)
            *nl = '\0';
        if (sscanf(first + 2, " %255s %255s", interp, lib) >= 1) {
            const char *use = strcmp(interp, "/usr/bin/env") ? interp : lib;
            printf("%s: a script run by %s\n", path, use);
            script = 1;
            if (find_in_path(use, path, sizeof(path))) {
                printf("verdict: unknown: interpreter %s not found\n", use);
                return 1;
            }
        }
    }
    if (script && !regular_file(path))
        return 2;
    rc = inspect(path, &f);
    if (rc) {
        llm_cli_error(rc, "%s", path);
        return 2;
    }
    printf("%s%s\n", script ? "interpreter " : "", path);
    if (!f.is_elf) {
        printf("verdict: unknown: not a 64-bit ELF file\n");
        return 1;
    }
    if (!f.interp[0]) {
        printf("  statically linked: LD_PRELOAD is ignored\n");
        printf("verdict: not observable (use a dynamically linked build, or llmops record)\n");
        suggest_run(path);
        return 1;
    }
    printf("  dynamically linked (%s)\n", f.interp);
    if (f.is_setuid)
        printf("  setuid/setgid: the loader ignores LD_PRELOAD\n");
    if (f.is_go)
        printf("  a Go program: it makes its own system calls, and its TLS is crypto/tls\n");
    for (size_t i = 0; i < f.nneeded; i++)
        printf("  needs %s\n", f.needed[i]);

    curl = needs(&f, "libcurl");
    if (needs(&f, "libssl.so")) {
        tls = needs(&f, "libssl.so");
    } else if (curl && !find_library(curl, lib, sizeof(lib))) {
        tls = tls_of(lib, &l);
        printf("  %s uses %s\n", curl, tls ? tls : "an unknown TLS library");
    } else if (strstr(path, "python") && !python_ssl_module(path, lib, sizeof(lib))) {
        tls = tls_of(lib, &l);
        printf("  Python's ssl module %s uses %s\n", lib, tls ? tls : "an unknown TLS library");
    }
    if (f.defines_ssl)
        printf("  defines SSL_read itself: a statically linked OpenSSL or BoringSSL\n");
    if (f.inline_ssl && f.inline_ok)
        printf("  exports its own SSL_write/SSL_read: inline hooks on%s\n", f.inline_fns);
    else if (f.inline_ssl)
        printf("  exports its own SSL_write/SSL_read, but the inline hooks cannot take them: %s\n",
               f.inline_why);
    if (f.inline_ssl && f.inline_why[0] && f.inline_ok)
        printf("  not patched: %s\n", f.inline_why);
    else if (!tls && f.embeds_boringssl)
        printf("  embeds BoringSSL\n");
    else if (!tls && f.embeds_rustls)
        printf("  embeds rustls\n");

    if (f.is_setuid || f.is_go) {
        how = "not observable";
    } else if (f.inline_ok) {
        how = "observable: HTTPS through inline hooks on the program's own OpenSSL (capture "
              "openssl_inline), plain HTTP through the socket hooks (capture socket)";
        observable = 1;
    } else if (tls && !strncmp(tls, "libssl.so", 9) && !f.defines_ssl) {
        how = "observable: HTTPS through OpenSSL (capture openssl), plain HTTP through the socket "
              "hooks (capture socket)";
        observable = 1;
    } else if (!tls && !f.defines_ssl && !f.embeds_boringssl && !f.embeds_rustls) {
        how = "no TLS library linked: plain HTTP is observable through the socket hooks; HTTPS "
              "is observable only if the program loads the system libssl at run time";
    } else {
        how = "HTTPS not observable (TLS out of reach): each LLM host it reaches over TLS is "
              "recorded once as not_observable; plain HTTP observable through the socket hooks";
    }
    printf("verdict: %s\n", how);
    if (!observable)
        suggest_run(path);
    return observable ? 0 : 1;
}
