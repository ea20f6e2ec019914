/* Collector thread and store batching.
 *
 * Threads: llm_writer_start/stop run on app threads (the first LLM call, the
 * exit handler); everything else runs on the collector thread, which starts
 * with every signal blocked (the host owns its signals) and with the hook
 * guard set, so its own I/O is never tapped.
 *
 * Batching: each wake-up takes everything queued (lingering a moment after
 * each batch, see LINGER_NS), turns it into records and
 * commits them in one LMDB transaction, so under load one fsync covers many
 * records. The store is opened on the first record, never before.
 *
 * Exit: stop() wakes the thread, which drains the queue, turns open
 * exchanges into "incomplete" records, commits and signals; stop() waits for
 * that signal at most timeout_ms. A thread still busy then is left to the
 * process teardown: committed records are safe whatever happens next. */
#include "writer.h"
#include "attrib.h"
#include "config.h"
#include "conn.h"
#include "err.h"
#include "log.h"
#include "peer.h"
#include "providers.h"
#include "record.h"
#include "redact.h"
#include "store.h"
#include "util.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 512
/* After a batch, the thread lets the queue fill this long before it looks
 * again: a stream's events then arrive in one batch, and the app threads
 * that push them find the thread not waiting, so they make no wake-up
 * syscall per event (llm_queue_push signals only a waiting consumer).
 * Records carry the hooks' timestamps, so the delay changes none of them. */
#define LINGER_NS 1000000L

/* Who makes the calls: read once when the thread starts. */
struct proc_info {
    int64_t pid, ppid;
    char *exe, *argv_json, *hostname;
    struct llm_attrib attrib; /* the environment's; a request's own headers win */
};

struct writer {
    struct llm_queue *q;
    struct llm_core_opts opts;
    struct llm_conns conns;
    struct proc_info proc;
    struct llm_store *store;
    char db[PATH_MAX];
    int store_failed; /* 1: open failed, retried later; 2: given up for good */
    int64_t open_failed_at;
    struct llm_kv batch[BATCH_MAX];
    size_t nbatch;
    uint64_t written, lost;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, stop, finished;
    void (*thread_init)(void);
};

static struct writer w;

/* argv from /proc/self/cmdline as a JSON array, secrets removed. */
static char *read_argv(void)
{
    char buf[65536];
    size_t n = 0;
    FILE *f = fopen("/proc/self/cmdline", "re");

    if (f) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return llm_peer_argv_json(buf, n, w.opts.capture_content);
}

static void proc_load(struct proc_info *p)
{
    char buf[PATH_MAX];
    ssize_t n;

    p->pid = getpid();
    p->ppid = getppid();
    n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = '\0';
        p->exe = strdup(buf);
    }
    p->argv_json = read_argv();
    if (!gethostname(buf, sizeof(buf))) {
        buf[sizeof(buf) - 1] = '\0';
        p->hostname = strdup(buf);
    }
    llm_attrib_load(&p->attrib);
}

static void proc_free(struct proc_info *p)
{
    free(p->exe);
    free(p->argv_json);
    free(p->hostname);
    llm_attrib_free(&p->attrib);
    memset(p, 0, sizeof(*p));
}

static void flush(void)
{
    int rc;

    if (!w.nbatch)
        return;
    if (w.store && (rc = llm_store_check(w.store)) != 0) {
        /* Deleted with its lock file: start a new store there. Replaced or cut
         * short under us: stop, since LMDB would fault on its pages, and a
         * second env on a lock file still in use would corrupt the readers
         * table of the other processes. The old env is leaked, not closed. */
        char lock[PATH_MAX + 16];
        snprintf(lock, sizeof(lock), "%s/lock.mdb", w.db);
        llm_store_abandon(w.store);
        w.store = NULL;
        if (rc == LLM_ENOTFOUND && access(lock, F_OK)) {
            llm_log("store %s was deleted; starting a new one", w.db);
        } else {
            llm_log("store %s was replaced or damaged (%s); records are dropped", w.db,
                    llm_strerror(rc));
            w.store_failed = 2;
        }
    }
    if (!w.store && w.store_failed != 2 &&
        (!w.store_failed || llm_mono_ns() - w.open_failed_at > 1000000000LL)) {
        rc = llm_store_open(w.db, 0, &w.store);
        if (rc) {
            llm_log("cannot open store %s: %s; records are dropped", w.db, llm_strerror(rc));
            /* try again in a second: the disk may recover; an unsafe store
             * stays refused (one log line) */
            w.store_failed = rc == LLM_EUNSAFE ? 2 : 1;
            w.open_failed_at = llm_mono_ns();
        } else {
            w.store_failed = 0;
        }
    }
    rc = w.store ? llm_store_put(w.store, w.batch, w.nbatch) : LLM_ESTORE;
    if (rc) {
        if (w.store)
            llm_log("commit of %zu records failed: %s", w.nbatch, llm_strerror(rc));
        w.lost += w.nbatch;
    } else {
        w.written += w.nbatch;
    }
    for (size_t i = 0; i < w.nbatch; i++) {
        free((void *)w.batch[i].key);
        free((void *)w.batch[i].val);
    }
    w.nbatch = 0;
}

/* Stamps attribution (what the request's headers and the proxy's caller
 * left unset) and process identity (unless the proxy's caller set it),
 * encodes, adds to the batch. */
static void sink(void *ctx, struct llm_record *r)
{
    struct proc_info *p = &w.proc;
    uint8_t *key;
    char *val;
    size_t vlen;

    (void)ctx;
    llm_attrib_apply(&p->attrib, r);
    if (!r->f[LLM_F_PID].set) { /* else the proxy's caller (peer.h) */
        llm_record_set_int(r, LLM_F_PID, p->pid);
        llm_record_set_int(r, LLM_F_PPID, p->ppid);
        llm_record_set_cstr(r, LLM_F_EXE, p->exe);
        llm_record_set_cstr(r, LLM_F_ARGV, p->argv_json);
    }
    llm_record_set_cstr(r, LLM_F_HOSTNAME, p->hostname);
    llm_redact_record(r, w.opts.capture_content);

    key = malloc(16);
    if (!key || !r->f[LLM_F_OPERATION_ID].set ||
        llm_ulid_parse(llm_record_str(r, LLM_F_OPERATION_ID), key) ||
        llm_record_encode(r, &val, &vlen)) {
        free(key);
        w.lost++;
        goto clear;
    }
    if (w.nbatch == BATCH_MAX)
        flush();
    w.batch[w.nbatch++] = (struct llm_kv){key, 16, val, vlen};
clear:
    llm_record_clear(r);
}

static void *run(void *arg)
{
    uint64_t dropped;

    (void)arg;
    if (w.thread_init)
        w.thread_init(); /* our own I/O must never be tapped */
    for (;;) {
        struct llm_msg *list = llm_queue_take(w.q, 500), *m;
        for (m = list; m; m = m->next)
            llm_conns_feed(&w.conns, m);
        llm_msg_free_list(list);
        flush();
        pthread_mutex_lock(&w.mu);
        int stop = w.stop;
        pthread_mutex_unlock(&w.mu);
        if (stop && !list)
            break;
        if (list && !stop) {
            struct timespec linger = {0, LINGER_NS};
            nanosleep(&linger, NULL);
        }
    }
    llm_conns_close_all(&w.conns, "process_exit", llm_now_ns(), llm_mono_ns());
    flush();
    pthread_mutex_lock(&w.q->mu); /* counted by pushing threads under it */
    dropped = w.q->dropped;
    pthread_mutex_unlock(&w.q->mu);
    if (dropped)
        llm_log("%llu messages dropped (queue full)", (unsigned long long)dropped);
    pthread_mutex_lock(&w.mu);
    w.finished = 1;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    return NULL;
}

int llm_writer_start(struct llm_queue *q, void (*thread_init)(void))
{
    sigset_t all, old;
    pthread_attr_t attr;
    struct llm_config conf;
    int rc;

    if (__atomic_load_n(&w.running, __ATOMIC_ACQUIRE))
        return 0;
    memset(&w, 0, sizeof(w));
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    llm_config_load(&conf);
    llm_providers_configure(conf.hosts);
    rc = llm_db_path(w.db, sizeof(w.db));
    if (rc)
        return rc;
    w.q = q;
    w.thread_init = thread_init;
    w.opts.max_body = conf.max_body;
    w.opts.max_parse = conf.max_parse;
    w.opts.max_head = conf.max_head;
    w.opts.max_event = conf.max_event;
    w.opts.capture_content = conf.capture_content;
    proc_load(&w.proc);
    llm_conns_init(&w.conns, &w.opts, sink, NULL);

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 << 10);
    rc = pthread_create(&w.thread, &attr, run, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        proc_free(&w.proc);
        return -rc;
    }
    __atomic_store_n(&w.running, 1, __ATOMIC_RELEASE);
    return 0;
}

void llm_writer_stop(int timeout_ms)
{
    struct timespec dl;
    int done;

    if (!__atomic_load_n(&w.running, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&w.mu);
    w.stop = 1;
    pthread_mutex_unlock(&w.mu);
    llm_queue_stop(w.q);

    llm_deadline_ms(&dl, timeout_ms);
    pthread_mutex_lock(&w.mu);
    while (!w.finished)
        if (pthread_cond_timedwait(&w.cv, &w.mu, &dl))
            break;
    done = w.finished;
    pthread_mutex_unlock(&w.mu);
    if (!done) {
        llm_log("collector did not finish within %d ms; leaving it", timeout_ms);
        return;
    }
    /* exit() on one thread and _exit() on another both get here: both
     * waited for the flush above, one of them reaps */
    if (!__atomic_exchange_n(&w.running, 0, __ATOMIC_ACQ_REL))
        return;
    pthread_join(w.thread, NULL);
    llm_store_close(w.store);
    w.store = NULL;
    proc_free(&w.proc);
}

void llm_writer_atfork_child(void)
{
    /* The thread does not exist here; its locks, the LMDB env and the
     * connections belong to the parent. Forget them all. */
    if (w.store)
        llm_store_abandon(w.store);
    llm_conns_forget(&w.conns);
    memset(&w, 0, sizeof(w));
}
