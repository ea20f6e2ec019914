/* Our callbacks in the handle in place of the app's (app threads: the one
 * driving the transfer).
 *
 * From a handle's first hooked transfer on, curl calls our write, header,
 * prereq and (over an app read callback only) read functions with our state
 * as userdata. Each calls what curl itself would have called — the app's
 * callback with the app's userdata, or curl's default: fwrite to
 * WRITEDATA (stdout unless set) for the body, the write function on
 * HEADERDATA for headers only when HEADERDATA is set — returns its answer
 * unchanged, and only then reports what was accepted. A PAUSE or error
 * answer reports nothing (curl delivers paused data again). While the app's
 * callback runs the curl guard is lowered, so the app's own I/O is seen as
 * it would be without us. Options the app sets later update our copy; curl
 * keeps our wrappers. */
#include "curl_state.h"
#include "shim.h"

#include <stdio.h>

struct app_ctx {
    int hook, depth;
};

/* The app's callback runs as if we were not there; returns what to restore. */
static struct app_ctx app_enter(void)
{
    struct app_ctx saved = {llm_in_hook, llm_curl_depth};

    if (llm_in_hook == LLM_IN_CURL)
        llm_in_hook = 0;
    llm_curl_depth = 0;
    return saved;
}

static void app_leave(struct app_ctx saved)
{
    llm_in_hook = saved.hook;
    llm_curl_depth = saved.depth;
}

static size_t wrap_write(char *p, size_t size, size_t n, void *ud)
{
    struct llm_curl *st = ud;
    size_t rc, bytes;
    struct app_ctx saved;

    if (st->app_write) {
        saved = app_enter();
        rc = st->app_write(p, size, n, st->app_wdata);
        app_leave(saved);
        bytes = rc;
    } else {
        rc = fwrite(p, size, n, st->app_wdata); /* curl calls fwrite with size 1 */
        bytes = rc * size;
    }
    if (bytes && bytes <= size * n)
        llm_curl_on_body(st, p, bytes);
    return rc;
}

static size_t wrap_header(char *p, size_t size, size_t n, void *ud)
{
    struct llm_curl *st = ud;
    size_t rc = size * n, bytes = rc;
    struct app_ctx saved;

    if (st->app_header || (st->app_hdata && st->app_write)) {
        saved = app_enter();
        rc = (st->app_header ? st->app_header : st->app_write)(p, size, n, st->app_hdata);
        app_leave(saved);
        bytes = rc;
    } else if (st->app_hdata) {
        rc = fwrite(p, size, n, st->app_hdata);
        bytes = rc * size;
    }
    if (bytes == size * n)
        llm_curl_on_header(st, p, bytes);
    return rc;
}

static size_t wrap_read(char *p, size_t size, size_t n, void *ud)
{
    struct llm_curl *st = ud;
    size_t rc, bytes;
    struct app_ctx saved;

    if (st->app_read) {
        saved = app_enter();
        rc = st->app_read(p, size, n, st->app_rdata);
        app_leave(saved);
        bytes = rc;
    } else { /* not installed without an app callback; curl's default */
        rc = fread(p, size, n, st->app_rdata);
        bytes = rc * size;
    }
    if (bytes <= size * n)
        llm_curl_on_read(st, p, bytes);
    return rc;
}

static int wrap_prereq(void *ud, char *peer_ip, char *local_ip, int peer_port, int local_port)
{
    struct llm_curl *st = ud;
    int rc = CURL_PREREQFUNC_OK;
    struct app_ctx saved;

    if (st->app_prereq) {
        saved = app_enter();
        rc = st->app_prereq(st->app_prereqdata, peer_ip, local_ip, peer_port, local_port);
        app_leave(saved);
    }
    if (rc == CURL_PREREQFUNC_OK)
        llm_curl_on_prereq(st, peer_port);
    return rc;
}

#define SET(opt, v) real_curl.curl_easy_setopt(st->h, opt, v)

void llm_curl_install(struct llm_curl *st)
{
    SET(CURLOPT_WRITEFUNCTION, wrap_write);
    SET(CURLOPT_WRITEDATA, (void *)st);
    SET(CURLOPT_HEADERFUNCTION, wrap_header);
    SET(CURLOPT_HEADERDATA, (void *)st);
    if (!st->no_prereq) {
        if (SET(CURLOPT_PREREQFUNCTION, wrap_prereq) == CURLE_OK)
            SET(CURLOPT_PREREQDATA, (void *)st);
        else
            st->no_prereq = 1; /* libcurl < 7.80: the request goes out lazily */
    }
    if (st->app_read) {
        SET(CURLOPT_READFUNCTION, wrap_read);
        SET(CURLOPT_READDATA, (void *)st);
        st->read_installed = 1;
    }
    st->installed = 1;
}

/* NULL functions put curl's defaults back, as they did for the app. */
void llm_curl_uninstall(struct llm_curl *st)
{
    SET(CURLOPT_WRITEFUNCTION, st->app_write);
    SET(CURLOPT_WRITEDATA, st->app_wdata);
    SET(CURLOPT_HEADERFUNCTION, st->app_header);
    SET(CURLOPT_HEADERDATA, st->app_hdata);
    if (!st->no_prereq) {
        SET(CURLOPT_PREREQFUNCTION, st->app_prereq);
        SET(CURLOPT_PREREQDATA, st->app_prereqdata);
    }
    if (st->read_installed) {
        SET(CURLOPT_READFUNCTION, st->app_read);
        SET(CURLOPT_READDATA, st->app_rdata);
    }
    st->installed = st->read_installed = 0;
}

int llm_curl_is_wrapped(CURLoption opt)
{
    switch (opt) {
    case CURLOPT_WRITEFUNCTION:
    case CURLOPT_WRITEDATA:
    case CURLOPT_HEADERFUNCTION:
    case CURLOPT_HEADERDATA:
    case CURLOPT_READFUNCTION:
    case CURLOPT_READDATA:
    case CURLOPT_PREREQFUNCTION:
    case CURLOPT_PREREQDATA:
        return 1;
    default:
        return 0;
    }
}

/* The app's value goes to curl until we install; after that curl keeps
 * ours and we keep the app's. Recorded only when curl accepted it. */
CURLcode llm_curl_set_wrapped(struct llm_curl *st, CURLoption opt, void *p, void (*fn)(void))
{
    int on = st->installed;
    CURLcode rc;

    switch (opt) {
    case CURLOPT_WRITEFUNCTION:
        if (!(rc = on ? SET(opt, wrap_write) : SET(opt, fn)))
            st->app_write = (curl_write_callback)fn;
        return rc;
    case CURLOPT_WRITEDATA:
        if (!(rc = SET(opt, on ? (void *)st : p)))
            st->app_wdata = p;
        return rc;
    case CURLOPT_HEADERFUNCTION:
        if (!(rc = on ? SET(opt, wrap_header) : SET(opt, fn)))
            st->app_header = (curl_write_callback)fn;
        return rc;
    case CURLOPT_HEADERDATA:
        if (!(rc = SET(opt, on ? (void *)st : p)))
            st->app_hdata = p;
        return rc;
    case CURLOPT_PREREQFUNCTION:
        on = on && !st->no_prereq;
        if (!(rc = on ? SET(opt, wrap_prereq) : SET(opt, fn)))
            st->app_prereq = (curl_prereq_callback)fn;
        return rc;
    case CURLOPT_PREREQDATA:
        if (!(rc = SET(opt, on && !st->no_prereq ? (void *)st : p)))
            st->app_prereqdata = p;
        return rc;
    case CURLOPT_READFUNCTION:
        if (on && fn) { /* wrap it (from now on, if it was not) */
            if (!(rc = SET(opt, wrap_read))) {
                st->app_read = (curl_read_callback)fn;
                if (!st->read_installed)
                    SET(CURLOPT_READDATA, (void *)st);
                st->read_installed = 1;
            }
            return rc;
        }
        if (!(rc = SET(opt, fn))) {
            st->app_read = (curl_read_callback)fn;
            if (st->read_installed) /* back to curl's fread on the app's READDATA */
                SET(CURLOPT_READDATA, st->app_rdata);
            st->read_installed = 0;
        }
        return rc;
    case CURLOPT_READDATA:
        if (!(rc = SET(opt, st->read_installed ? (void *)st : p)))
            st->app_rdata = p;
        return rc;
    default:
        return CURLE_UNKNOWN_OPTION; /* not reached: callers ask is_wrapped */
    }
}
