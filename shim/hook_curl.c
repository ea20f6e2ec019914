/* libcurl hooks (app threads): whatever TLS library curl uses, HTTP/1.1 or
 * HTTP/2, compressed or not, each transfer is recorded once, as the app saw
 * it (see curl_synth.c).
 *
 * Handles get their state at curl_easy_init / curl_easy_duphandle; a
 * transfer starts at curl_easy_perform or curl_multi_add_handle and ends
 * when perform returns, when curl_multi_info_read reports it done, or at
 * remove / reset / cleanup. While one of our hooks has curl drive transfers
 * (perform, socket_action) the thread's guard is LLM_IN_CURL, so the
 * OpenSSL and socket hooks pass curl's own I/O through: those bytes are
 * recorded here. curl's internal calls to its public API (perform uses a
 * multi inside) arrive under that guard and pass straight through. Handles
 * we have no state for are passed through untouched, guard included, so the
 * TLS hooks still see them. Return values are curl's, errno is left as curl
 * left it, and nothing here prints. */
#include "curl_state.h"
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>

#define LLM_EXPORT __attribute__((visibility("default")))

__thread int llm_curl_depth __attribute__((tls_model("initial-exec")));

static int ready(void)
{
    llm_shim_init();
    llm_real_resolve_curl();
    return real_curl.curl_easy_setopt != NULL;
}

/* curl calling its own API, one of our hooks, or the shim is off. */
static int inner(void)
{
    return llm_shim_bypass() || llm_curl_depth;
}

/* Runs a call that drives transfers: nested curl API calls pass through,
 * and with guard the TLS and socket hooks too. */
#define DRIVE(call, guard)                                                                         \
    do {                                                                                           \
        int hook_ = llm_in_hook;                                                                   \
        llm_curl_depth++;                                                                          \
        if (guard)                                                                                 \
            llm_in_hook = LLM_IN_CURL;                                                             \
        call;                                                                                      \
        llm_in_hook = hook_;                                                                       \
        llm_curl_depth--;                                                                          \
    } while (0)

/* Is ret (our caller) in libcurl itself? curl_multi_init and the share
 * interface make a connection-closing handle of their own with
 * curl_easy_init and free it without curl_easy_cleanup. */
static int in_libcurl(const void *ret)
{
    static void *base;
    void *b = __atomic_load_n(&base, __ATOMIC_RELAXED);
    Dl_info di;

    if (!b && dladdr((void *)real_curl.curl_easy_init, &di)) {
        b = di.dli_fbase;
        __atomic_store_n(&base, b, __ATOMIC_RELAXED);
    }
    return b && dladdr(ret, &di) && di.dli_fbase == b;
}

LLM_EXPORT CURL *curl_easy_init(void)
{
    CURL *h;
    int saved;

    if (!ready() || !real_curl.curl_easy_init)
        return NULL;
    h = real_curl.curl_easy_init();
    saved = errno;
    /* curl's own handles are curl's business */
    if (h && !inner() && !in_libcurl(__builtin_return_address(0)))
        llm_curl_new(h);
    errno = saved;
    return h;
}

LLM_EXPORT CURL *curl_easy_duphandle(CURL *src)
{
    struct llm_curl *s, *st;
    CURL *h;
    int saved;

    if (!ready() || !real_curl.curl_easy_duphandle)
        return NULL;
    h = real_curl.curl_easy_duphandle(src);
    if (!h || llm_shim_off || !(s = llm_curl_find(src)))
        return h;
    saved = errno;
    st = llm_curl_dup(s, h);
    if (s->installed) { /* curl copied our wrappers, userdata and all */
        struct llm_curl tmp = *s;
        if (st) {
            llm_curl_install(st);
        } else { /* no state for the copy: give it the app's values back */
            tmp.h = h;
            llm_curl_uninstall(&tmp);
        }
    }
    errno = saved;
    return h;
}

LLM_EXPORT CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    struct llm_curl *st = NULL;
    va_list ap;
    long l = 0;
    void *p = NULL;
    void (*fn)(void) = NULL;
    curl_off_t o = 0;
    CURLcode rc;
    int saved;

    /* the option number's range is the argument's type */
    va_start(ap, opt);
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        l = va_arg(ap, long);
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        p = va_arg(ap, void *);
    else if (opt < CURLOPTTYPE_OFF_T)
        fn = va_arg(ap, void (*)(void));
    else if (opt < CURLOPTTYPE_BLOB)
        o = va_arg(ap, curl_off_t);
    else
        p = va_arg(ap, void *);
    va_end(ap);
    if (!ready())
        return CURLE_FAILED_INIT;
    /* not skipped when nested: our copy must follow every change */
    if (!llm_shim_off && llm_curl_tracked(opt))
        st = llm_curl_find(h);
    if (st && llm_curl_is_wrapped(opt))
        return llm_curl_set_wrapped(st, opt, p, fn);
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = real_curl.curl_easy_setopt(h, opt, l);
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        rc = real_curl.curl_easy_setopt(h, opt, p);
    else if (opt < CURLOPTTYPE_OFF_T)
        rc = real_curl.curl_easy_setopt(h, opt, fn);
    else if (opt < CURLOPTTYPE_BLOB)
        rc = real_curl.curl_easy_setopt(h, opt, o);
    else
        rc = real_curl.curl_easy_setopt(h, opt, p);
    if (st && rc == CURLE_OK) {
        saved = errno;
        llm_curl_shadow(st, opt, l, p, o);
        errno = saved;
    }
    return rc;
}

LLM_EXPORT CURLcode curl_easy_perform(CURL *h)
{
    struct llm_curl *st;
    CURLcode rc;
    int saved;

    if (!ready() || !real_curl.curl_easy_perform)
        return CURLE_FAILED_INIT;
    if (inner())
        return real_curl.curl_easy_perform(h);
    if (!(st = llm_curl_find(h))) { /* not ours: the TLS hooks see it as before */
        DRIVE(rc = real_curl.curl_easy_perform(h), 0);
        return rc;
    }
    saved = errno;
    llm_curl_begin(st, NULL);
    errno = saved;
    DRIVE(rc = real_curl.curl_easy_perform(h), 1);
    saved = errno;
    llm_curl_finish(st, 1, rc);
    errno = saved;
    return rc;
}

LLM_EXPORT void curl_easy_reset(CURL *h)
{
    struct llm_curl *st;
    int saved;

    if (!ready() || !real_curl.curl_easy_reset)
        return;
    st = llm_shim_off ? NULL : llm_curl_find(h);
    saved = errno;
    if (st)
        llm_curl_finish(st, 0, CURLE_OK);
    errno = saved;
    real_curl.curl_easy_reset(h);
    saved = errno;
    if (st)
        llm_curl_defaults(st); /* curl dropped our wrappers with the rest */
    errno = saved;
}

LLM_EXPORT void curl_easy_cleanup(CURL *h)
{
    struct llm_curl *st;
    int saved;

    if (!ready() || !real_curl.curl_easy_cleanup)
        return;
    st = llm_shim_off ? NULL : llm_curl_take(h);
    saved = errno;
    if (st)
        llm_curl_finish(st, 0, CURLE_OK);
    errno = saved;
    if (inner())
        real_curl.curl_easy_cleanup(h);
    else
        DRIVE(real_curl.curl_easy_cleanup(h), 1);
    saved = errno;
    llm_curl_free(st); /* after curl: it may call our wrappers until then */
    errno = saved;
}

LLM_EXPORT CURLMcode curl_multi_add_handle(CURLM *m, CURL *h)
{
    struct llm_curl *st;
    CURLMcode rc;
    int saved;

    if (!ready() || !real_curl.curl_multi_add_handle)
        return CURLM_INTERNAL_ERROR;
    rc = real_curl.curl_multi_add_handle(m, h);
    if (rc != CURLM_OK || inner() || !(st = llm_curl_find(h)))
        return rc;
    saved = errno;
    llm_curl_begin(st, m);
    errno = saved;
    return rc;
}

LLM_EXPORT CURLMcode curl_multi_remove_handle(CURLM *m, CURL *h)
{
    struct llm_curl *st;
    CURLMcode rc;
    int saved;

    if (!ready() || !real_curl.curl_multi_remove_handle)
        return CURLM_INTERNAL_ERROR;
    if (inner())
        return real_curl.curl_multi_remove_handle(m, h);
    saved = errno;
    st = llm_curl_find(h);
    if (st && st->active && st->multi == m)
        llm_curl_finish(st, 0, CURLE_OK);
    errno = saved;
    DRIVE(rc = real_curl.curl_multi_remove_handle(m, h), 1);
    return rc;
}

LLM_EXPORT CURLMsg *curl_multi_info_read(CURLM *m, int *queued)
{
    struct llm_curl *st;
    CURLMsg *msg;
    int saved;

    if (!ready() || !real_curl.curl_multi_info_read)
        return NULL;
    msg = real_curl.curl_multi_info_read(m, queued);
    if (!msg || msg->msg != CURLMSG_DONE || inner())
        return msg;
    saved = errno;
    st = llm_curl_find(msg->easy_handle);
    if (st && st->active)
        llm_curl_finish(st, 1, msg->data.result);
    errno = saved;
    return msg;
}

/* After a drive: no running transfer means each one on m has ended. */
static void after_drive(CURLM *m, CURLMcode rc, const int *running)
{
    int saved = errno;

    if (rc == CURLM_OK && running && !*running &&
        __atomic_load_n(&llm_curl_multi_active, __ATOMIC_RELAXED))
        llm_curl_multi_idle(m);
    errno = saved;
}

#define MULTI_DRIVE(fn, ...)                                                                       \
    do {                                                                                           \
        if (!ready() || !real_curl.fn)                                                             \
            return CURLM_INTERNAL_ERROR;                                                           \
        if (inner())                                                                               \
            return real_curl.fn(m, __VA_ARGS__);                                                   \
        DRIVE(rc = real_curl.fn(m, __VA_ARGS__), 1);                                               \
        after_drive(m, rc, running);                                                               \
        return rc;                                                                                 \
    } while (0)

LLM_EXPORT CURLMcode curl_multi_perform(CURLM *m, int *running)
{
    CURLMcode rc;
    MULTI_DRIVE(curl_multi_perform, running);
}

LLM_EXPORT CURLMcode curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running)
{
    CURLMcode rc;
    MULTI_DRIVE(curl_multi_socket_action, s, ev, running);
}

LLM_EXPORT CURLMcode curl_multi_socket(CURLM *m, curl_socket_t s, int *running)
{
    CURLMcode rc;
    MULTI_DRIVE(curl_multi_socket, s, running);
}

LLM_EXPORT CURLMcode curl_multi_socket_all(CURLM *m, int *running)
{
    CURLMcode rc;
    MULTI_DRIVE(curl_multi_socket_all, running);
}
