/* Symbol resolution for the hooks. Runs on whichever app thread first calls
 * a hook of a family; pthread_once makes the others wait for it. A symbol
 * that resolves back to our own hook is refused (it would recurse forever). */
#include "real.h"
#include "log.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

struct llm_real_ssl real_ssl;
int llm_real_ssl_done;
static pthread_once_t ssl_once = PTHREAD_ONCE_INIT;

struct find_ctx {
    const char *stem;
    char path[512];
};

static int find_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct find_ctx *f = arg;
    const char *base = strrchr(info->dlpi_name, '/');

    base = base ? base + 1 : info->dlpi_name;
    if (!strncmp(base, f->stem, strlen(f->stem)) && strlen(info->dlpi_name) < sizeof(f->path)) {
        strcpy(f->path, info->dlpi_name);
        return 1;
    }
    return 0;
}

/* A handle on an already-loaded library whose file name starts with stem. */
static void *loaded_library(const char *stem)
{
    struct find_ctx f = {.stem = stem};

    if (!dl_iterate_phdr(find_loaded, &f))
        return NULL;
    return dlopen(f.path, RTLD_LAZY | RTLD_NOLOAD);
}

static void *resolve(void *lib, const char *name, void *self)
{
    void *p = dlsym(RTLD_NEXT, name);

    if ((!p || p == self) && lib)
        p = dlsym(lib, name);
    if (p && p == self) {
        llm_log("%s resolves to our own hook; treating it as missing", name);
        p = NULL;
    }
    return p;
}

static void resolve_ssl(void)
{
    void *lib = NULL;

    if (!dlsym(RTLD_NEXT, "SSL_read"))
        lib = loaded_library("libssl.so");
#define R(name) real_ssl.name = (__typeof__(real_ssl.name))resolve(lib, #name, (void *)name)
    R(SSL_read);
    R(SSL_write);
    R(SSL_read_ex);
    R(SSL_write_ex);
    R(SSL_shutdown);
    R(SSL_connect);
    R(SSL_do_handshake);
    R(SSL_free);
#undef R
    /* helpers we call but do not hook */
    real_ssl.SSL_get_servername =
        (__typeof__(real_ssl.SSL_get_servername))resolve(lib, "SSL_get_servername", NULL);
    real_ssl.SSL_get_fd = (__typeof__(real_ssl.SSL_get_fd))resolve(lib, "SSL_get_fd", NULL);
    if (!real_ssl.SSL_read || !real_ssl.SSL_write)
        llm_log("libssl symbols not found (lib=%p)", lib);
    __atomic_store_n(&llm_real_ssl_done, 1, __ATOMIC_RELEASE);
    /* lib stays open: dropping the NOLOAD reference now would be harmless,
     * but the pointers above must outlive any dlclose by the host. */
}

void llm_real_resolve_ssl(void)
{
    pthread_once(&ssl_once, resolve_ssl);
}

struct llm_real_libc real_libc;
int llm_real_libc_done;
static pthread_once_t libc_once = PTHREAD_ONCE_INIT;

static void resolve_libc(void)
{
#define R(name) real_libc.name = (__typeof__(real_libc.name))resolve(NULL, #name, (void *)name)
    R(connect);
    R(close);
    R(read);
    R(write);
    R(readv);
    R(writev);
    R(recv);
    R(send);
    R(recvfrom);
    R(sendto);
    R(recvmsg);
    R(sendmsg);
    R(__read_chk);
    R(__recv_chk);
    R(__recvfrom_chk);
#undef R
    __atomic_store_n(&llm_real_libc_done, 1, __ATOMIC_RELEASE);
}

void llm_real_resolve_libc(void)
{
    pthread_once(&libc_once, resolve_libc);
}

struct llm_real_curl real_curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* Our curl hooks only run in a process that already has libcurl loaded (it
 * is what calls them), so the loaded copy is the one to find. */
static void resolve_curl(void)
{
    void *lib = NULL;

    if (!dlsym(RTLD_NEXT, "curl_easy_perform"))
        lib = loaded_library("libcurl");
#define R(name) real_curl.name = (__typeof__(real_curl.name))resolve(lib, #name, (void *)name)
    R(curl_easy_init);
    R(curl_easy_setopt);
    R(curl_easy_perform);
    R(curl_easy_cleanup);
    R(curl_easy_reset);
    R(curl_easy_duphandle);
    R(curl_multi_add_handle);
    R(curl_multi_remove_handle);
    R(curl_multi_perform);
    R(curl_multi_socket_action);
    R(curl_multi_socket);
    R(curl_multi_socket_all);
    R(curl_multi_info_read);
#undef R
    real_curl.curl_easy_getinfo =
        (__typeof__(real_curl.curl_easy_getinfo))resolve(lib, "curl_easy_getinfo", NULL);
    if (!real_curl.curl_easy_setopt || !real_curl.curl_easy_perform)
        llm_log("libcurl symbols not found (lib=%p)", lib);
}

void llm_real_resolve_curl(void)
{
    pthread_once(&curl_once, resolve_curl);
}
