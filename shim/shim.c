/* libllmops.so entry: configuration, lazy start of the collector, exit flush
 * and fork handling. Runs on app threads (constructor, hooks, atexit, the
 * atfork child handler).
 *
 * Idle cost: the constructor reads a few environment variables and registers
 * an atfork handler; nothing else happens until the tap classifies the first
 * LLM connection. Then libllmops-core.so (HTTP, dialects, LMDB: everything
 * with dependencies) is dlopen'ed from beside this library and its thread is
 * started. An exit handler gives that thread a bounded time to commit. The
 * core is also loaded (nothing started) when a connection opens with the
 * HTTP/2 preface, to read its HPACK-coded first request. */
#include "shim.h"
#include "config.h"
#include "curl_state.h"
#include "err.h"
#include "log.h"
#include "providers.h"
#include "tap.h"
#include "tap_proxy.h"

#include <dlfcn.h>
#include <stddef.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__thread int llm_in_hook __attribute__((tls_model("initial-exec")));
int llm_shim_off;

struct core_api {
    int (*start)(struct llm_queue *q, void (*thread_init)(void));
    void (*stop)(int timeout_ms);
    void (*atfork_child)(void);
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_done;
static struct core_api core;
static int flush_timeout_ms = 3000;
static pid_t core_pid; /* the process whose collector is running (atomic: the
                          exit handler may run on another thread) */
static pid_t init_pid; /* the process the shim was set up in */
static int exit_armed; /* init() completed with tapping on */

static void at_exit(void)
{
    pid_t pid;

    /* a vfork child shares our memory but not our collector: hands off */
    if (getpid() != init_pid)
        return;
    /* TLS to LLM hosts we could not see into: one record each (this may be
     * the first thing that starts the collector) */
    llm_tap_report_opaque();
    pid = __atomic_load_n(&core_pid, __ATOMIC_ACQUIRE);
    if (!pid || getpid() != pid)
        return;
    /* Stop tapping first: bytes arriving from other threads now would only
     * describe calls we cannot finish anyway. */
    llm_tap_disable();
    if (core.stop)
        core.stop(flush_timeout_ms);
}

static int core_path(char *out, size_t n)
{
    const char *env = getenv("LLMOPS_CORE");
    Dl_info info;
    const char *slash;

    if (env && *env)
        return snprintf(out, n, "%s", env) < (int)n ? 0 : LLM_EINVAL;
    if (!dladdr((void *)llm_shim_init, &info) || !info.dli_fname)
        return LLM_ENOCORE;
    slash = strrchr(info.dli_fname, '/');
    if (!slash)
        return snprintf(out, n, "libllmops-core.so") < (int)n ? 0 : LLM_EINVAL;
    return snprintf(out, n, "%.*s/libllmops-core.so", (int)(slash - info.dli_fname),
                    info.dli_fname) < (int)n
               ? 0
               : LLM_EINVAL;
}

/* The collector thread never taps itself. */
static void collector_thread_init(void)
{
    llm_in_hook = 1;
}

/* Loads libllmops-core.so once (the tap serialises its callers). */
static void *load_core(void)
{
    static void *handle;
    char path[PATH_MAX];

    if (handle)
        return handle;
    if (core_path(path, sizeof(path)))
        return NULL;
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        llm_log("dlopen %s: %s", path, dlerror());
    return handle;
}

/* Called by the tap, once, outside its locks, on the first LLM connection. */
static int start_core(struct llm_queue *q)
{
    void *handle = load_core();
    int rc;

    if (!handle)
        return LLM_ENOCORE;
    if (!core.start) {
        core.start = (int (*)(struct llm_queue *, void (*)(void)))dlsym(handle, "llm_core_start");
        core.stop = (void (*)(int))dlsym(handle, "llm_core_stop");
        core.atfork_child = (void (*)(void))dlsym(handle, "llm_core_atfork_child");
        if (!core.start || !core.stop || !core.atfork_child) {
            llm_log("libllmops-core.so lacks the llm_core_* entry points");
            memset(&core, 0, sizeof(core));
            return LLM_ENOCORE;
        }
    }
    rc = core.start(q, collector_thread_init);
    if (!rc)
        __atomic_store_n(&core_pid, getpid(), __ATOMIC_RELEASE);
    return rc;
}

/* Called by the tap, once, outside its locks, when a connection starts with
 * the HTTP/2 preface: the core reads its first request (HPACK). Loading the
 * core starts nothing (no thread, no file). */
static llm_h2peek_fn load_h2peek(void)
{
    void *handle = load_core();

    return handle ? (llm_h2peek_fn)dlsym(handle, "llm_core_h2peek") : NULL;
}

void llm_shim_exit_flush(void)
{
    at_exit();
}

/* Runs with this library's atexit handlers (also when exit unloads the
 * objects), but costs the constructor no registration call. */
__attribute__((destructor)) static void shim_dtor(void)
{
    if (__atomic_load_n(&exit_armed, __ATOMIC_ACQUIRE))
        at_exit();
}

static void atfork_child(void)
{
    __atomic_store_n(&core_pid, 0, __ATOMIC_RELAXED);
    init_pid = getpid();
    llm_tap_atfork_child();
    llm_curl_atfork_child();
    if (core.atfork_child)
        core.atfork_child();
}

static void init(void)
{
    struct llm_config conf;
    struct llm_tap_config cfg = {0};

    llm_config_load(&conf);
    if (conf.disable) {
        llm_shim_off = 1;
        goto done;
    }
    /* nothing to configure (nor to free) without it */
    if (conf.hosts && llm_providers_configure(conf.hosts))
        llm_log("LLMOPS_HOSTS has entries that are not host=provider; they are ignored");
    flush_timeout_ms = conf.flush_timeout_ms;
    cfg.queue_max = conf.queue_max;
    cfg.start = start_core;
    cfg.load_h2peek = load_h2peek;
    llm_tap_init(&cfg);
    llm_tap_proxy_configure(conf.proxy); /* set by llmops run */
    if (pthread_atfork(NULL, NULL, atfork_child)) {
        llm_log("pthread_atfork failed; staying pass-through");
        llm_shim_off = 1;
    }
    init_pid = getpid();
    __atomic_store_n(&exit_armed, 1, __ATOMIC_RELEASE);
    if (!llm_shim_off)
        llm_ssl_inline_install();
done:
    __atomic_store_n(&init_done, 1, __ATOMIC_RELEASE);
}

void llm_shim_init(void)
{
    if (__builtin_expect(__atomic_load_n(&init_done, __ATOMIC_ACQUIRE), 1))
        return;
    llm_in_hook++;
    pthread_once(&init_once, init);
    llm_in_hook--;
}

__attribute__((constructor)) static void shim_ctor(void)
{
    llm_shim_init();
}
