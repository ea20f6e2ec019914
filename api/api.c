/* libllmops-api, synchronous half: llmops_record_completion, llmops_strerror,
 * and the process-wide state both halves use.
 *
 * Threads: any app thread. The store is one LMDB environment per process
 * (LMDB forbids opening a file twice in one process and using an env across
 * fork), opened at the first commit and kept open: reopening per call would
 * cost an mmap each time. store_mu serialises commits, so that growing the
 * map (llm_store_put) never races another transaction of this env.
 *
 * Under the shim the API refuses to work: the shim's collector opens the
 * same store in this process, and two LMDB envs on one file in one process
 * can each take the other's locks for their own (POSIX record locks are per
 * process) and reset the lock table under a running transaction.
 *
 * Fork: prepare takes the queue lock, then store_mu, so the child finds
 * both in a known state (never mid-commit); the child forgets the env
 * without touching it and opens its own on its next commit. Attribution
 * and the store path are read once, at the first call. */
#include "api.h"
#include "attrib.h"
#include "err.h"
#include "explicit.h"
#include "llmops.h"
#include "log.h"
#include "util.h"

#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;
static struct llm_store *store;
static struct llm_attrib attrib;
static char db[PATH_MAX];
static int db_rc, under_shim;
static struct llm_config config;

static void fork_prepare(void)
{
    llm_api_async_prepare();
    pthread_mutex_lock(&store_mu);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&store_mu);
    llm_api_async_parent();
}

static void fork_child(void)
{
    if (store)
        llm_store_abandon(store);
    store = NULL;
    pthread_mutex_unlock(&store_mu);
    llm_api_async_child();
}

static int is_shim(struct dl_phdr_info *info, size_t size, void *ctx)
{
    const char *name = info->dlpi_name, *slash = name ? strrchr(name, '/') : NULL;
    const char *base = slash ? slash + 1 : name;

    (void)size;
    (void)ctx;
    return base && (!strcmp(base, "libllmops.so") || !strcmp(base, "libllmops-core.so"));
}

static void init(void)
{
    llm_config_load(&config);
    under_shim = !config.disable && dl_iterate_phdr(is_shim, NULL);
    llm_attrib_load(&attrib);
    db_rc = llm_db_path(db, sizeof(db));
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int llm_api_entry(const char *json, struct llm_kv *kv)
{
    char why[256];
    int rc;

    pthread_once(&once, init);
    if (!json)
        return LLMOPS_EINVAL;
    if (config.disable)
        return LLM_API_OFF;
    if (under_shim)
        return LLMOPS_ESHIM;
    rc = llm_explicit_entry(json, strlen(json), &attrib, kv, why, sizeof(why));
    if (rc)
        llm_log("record refused: %s", why);
    return rc;
}

const struct llm_config *llm_api_config(void)
{
    pthread_once(&once, init);
    return &config;
}

int llm_api_commit(const struct llm_kv *kv, size_t n)
{
    int rc = db_rc;

    pthread_mutex_lock(&store_mu);
    if (!rc && !store) {
        rc = llm_store_open(db, 0, &store);
        if (rc)
            llm_log("cannot open store %s: %s", db, llm_strerror(rc));
    }
    if (!rc)
        rc = llm_store_put(store, kv, n);
    pthread_mutex_unlock(&store_mu);
    return rc;
}

LLMOPS_EXPORT int llmops_record_completion(const char *json_record)
{
    struct llm_kv kv;
    int rc = llm_api_entry(json_record, &kv);

    if (rc)
        return rc == LLM_API_OFF ? 0 : rc;
    rc = llm_api_commit(&kv, 1);
    llm_explicit_free(&kv);
    return rc;
}

LLMOPS_EXPORT const char *llmops_strerror(int code)
{
    switch (code) {
    case LLMOPS_EJSON:
        return "not a JSON object";
    case LLMOPS_EFIELD:
        return "unknown record field";
    case LLMOPS_ETYPE:
        return "a field has the wrong type or value";
    case LLMOPS_EFULL:
        return "the async queue is full";
    case LLMOPS_EINVAL:
        return "invalid argument";
    case LLMOPS_ENOMEM:
        return "out of memory";
    case LLMOPS_ETIMEDOUT:
        return "timed out waiting for the commit";
    case LLMOPS_ESHIM:
        return "the process runs under the llmops shim, which has the store open; "
               "use `llmops record`";
    default:
        return llm_strerror(code); /* the store's codes and -errno */
    }
}
