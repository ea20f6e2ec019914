/* The per-handle table and the options the app set (app threads).
 *
 * A handle gets its state at curl_easy_init / curl_easy_duphandle, so we
 * know every option the app set on it; a handle without one (the table was
 * full, memory ran out) is passed through untouched for its whole life and
 * the TLS hooks see it as before. The table holds at most MAX_HANDLES states
 * and its lock is never held across a call into curl or the tap. We mirror
 * curl's own rules for the options that shape the request (method, body),
 * because that is what curl will send. */
#include "curl_state.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024
#define MAX_HANDLES 16384

static struct llm_curl *buckets[NBUCKETS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static size_t count;
static int full_logged;
int llm_curl_multi_active;

static size_t bucket_of(const void *h)
{
    return (size_t)(((uint64_t)(uintptr_t)h * 0x9E3779B97F4A7C15ull) >> 54) & (NBUCKETS - 1);
}

void llm_curl_defaults(struct llm_curl *st)
{
    free(st->postcopy);
    free(st->custom);
    st->app_write = NULL;
    st->app_wdata = stdout;
    st->app_header = NULL;
    st->app_hdata = NULL;
    st->app_read = NULL;
    st->app_rdata = stdin;
    st->app_prereq = NULL;
    st->app_prereqdata = NULL;
    st->postfields = NULL;
    st->postcopy = NULL;
    st->postsize = -1;
    st->custom = NULL;
    st->headers = NULL;
    st->method = LLM_M_GET;
    st->include_header = 0;
    st->accept_encoding = 0;
    st->no_decoding = 0;
    st->installed = 0;
    st->read_installed = 0;
}

static int insert(struct llm_curl *st)
{
    size_t b = bucket_of(st->h);
    int ok;

    pthread_mutex_lock(&mu);
    ok = count < MAX_HANDLES;
    if (ok) {
        st->next = buckets[b];
        buckets[b] = st;
        count++;
    }
    pthread_mutex_unlock(&mu);
    if (!ok && !__atomic_exchange_n(&full_logged, 1, __ATOMIC_RELAXED))
        llm_log("more than %d live curl handles: new ones are passed through", MAX_HANDLES);
    return ok;
}

struct llm_curl *llm_curl_new(CURL *h)
{
    struct llm_curl *st = calloc(1, sizeof(*st));

    if (!st)
        return NULL;
    st->h = h;
    llm_curl_defaults(st);
    if (!insert(st)) {
        free(st);
        return NULL;
    }
    return st;
}

/* A NUL-terminated copy of n bytes. */
static char *memdup0(const char *p, size_t n)
{
    char *c = malloc(n + 1);

    if (c) {
        memcpy(c, p, n);
        c[n] = '\0';
    }
    return c;
}

struct llm_curl *llm_curl_dup(const struct llm_curl *src, CURL *h)
{
    struct llm_curl *st = calloc(1, sizeof(*st));

    if (!st)
        return NULL;
    st->h = h;
    llm_curl_defaults(st);
    st->app_write = src->app_write;
    st->app_wdata = src->app_wdata;
    st->app_header = src->app_header;
    st->app_hdata = src->app_hdata;
    st->app_read = src->app_read;
    st->app_rdata = src->app_rdata;
    st->app_prereq = src->app_prereq;
    st->app_prereqdata = src->app_prereqdata;
    st->postfields = src->postfields;
    st->postsize = src->postsize;
    st->headers = src->headers;
    st->method = src->method;
    st->include_header = src->include_header;
    st->accept_encoding = src->accept_encoding;
    st->no_decoding = src->no_decoding;
    st->no_prereq = src->no_prereq;
    if (src->custom && !(st->custom = strdup(src->custom)))
        goto fail;
    if (src->postcopy) { /* curl copied its COPYPOSTFIELDS into the new handle too */
        size_t n = src->postsize >= 0 ? (size_t)src->postsize : strlen(src->postcopy);
        if (!(st->postcopy = memdup0(src->postcopy, n)))
            goto fail;
        if (src->postfields == src->postcopy)
            st->postfields = st->postcopy;
    }
    if (insert(st))
        return st;
fail:
    llm_curl_free(st);
    return NULL;
}

struct llm_curl *llm_curl_find(CURL *h)
{
    struct llm_curl *st;

    pthread_mutex_lock(&mu);
    for (st = buckets[bucket_of(h)]; st && st->h != h; st = st->next)
        ;
    pthread_mutex_unlock(&mu);
    return st;
}

struct llm_curl *llm_curl_take(CURL *h)
{
    struct llm_curl **pp, *st = NULL;

    pthread_mutex_lock(&mu);
    for (pp = &buckets[bucket_of(h)]; *pp; pp = &(*pp)->next) {
        if ((*pp)->h == h) {
            st = *pp;
            *pp = st->next;
            count--;
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return st;
}

void llm_curl_free(struct llm_curl *st)
{
    if (!st)
        return;
    free(st->postcopy);
    free(st->custom);
    free(st->head.p);
    free(st->scratch);
    free(st);
}

void llm_curl_multi_idle(CURLM *m)
{
    pthread_mutex_lock(&mu);
    for (size_t b = 0; b < NBUCKETS; b++)
        for (struct llm_curl *st = buckets[b]; st; st = st->next)
            if (st->active && st->multi == m)
                st->multi_idle = 1;
    pthread_mutex_unlock(&mu);
}

void llm_curl_atfork_child(void)
{
    /* another thread may have held the lock; the states stay valid */
    pthread_mutex_init(&mu, NULL);
}

int llm_curl_tracked(CURLoption opt)
{
    switch (opt) {
    case CURLOPT_POSTFIELDS:
    case CURLOPT_COPYPOSTFIELDS:
    case CURLOPT_POSTFIELDSIZE:
    case CURLOPT_POSTFIELDSIZE_LARGE:
    case CURLOPT_POST:
    case CURLOPT_HTTPGET:
    case CURLOPT_NOBODY:
    case CURLOPT_UPLOAD:
    case CURLOPT_PUT:
    case CURLOPT_HTTPPOST:
    case CURLOPT_MIMEPOST:
    case CURLOPT_CUSTOMREQUEST:
    case CURLOPT_HTTPHEADER:
    case CURLOPT_HEADER:
    case CURLOPT_ACCEPT_ENCODING:
    case CURLOPT_HTTP_CONTENT_DECODING:
        return 1;
    default:
        return llm_curl_is_wrapped(opt);
    }
}

/* CURLOPT_POSTFIELDSIZE(_LARGE): a size larger than a copied body drops the
 * copy, as curl does. */
static void set_postsize(struct llm_curl *st, curl_off_t n)
{
    if (st->postsize < n && st->postfields && st->postfields == st->postcopy) {
        free(st->postcopy);
        st->postcopy = NULL;
        st->postfields = NULL;
    }
    st->postsize = n;
}

void llm_curl_shadow(struct llm_curl *st, CURLoption opt, long l, void *p, curl_off_t o)
{
    switch (opt) {
    case CURLOPT_POSTFIELDS:
        free(st->postcopy);
        st->postcopy = NULL;
        st->postfields = p;
        st->method = LLM_M_POST;
        break;
    case CURLOPT_COPYPOSTFIELDS:
        free(st->postcopy);
        st->postcopy = NULL;
        if (p)
            st->postcopy = memdup0(p, st->postsize >= 0 ? (size_t)st->postsize : strlen(p));
        st->postfields = st->postcopy; /* NULL when our copy failed: body unseen */
        st->method = LLM_M_POST;
        break;
    case CURLOPT_POSTFIELDSIZE:
        set_postsize(st, l);
        break;
    case CURLOPT_POSTFIELDSIZE_LARGE:
        set_postsize(st, o);
        break;
    case CURLOPT_POST:
        st->method = l ? LLM_M_POST : LLM_M_GET;
        break;
    case CURLOPT_HTTPGET:
        if (l)
            st->method = LLM_M_GET;
        break;
    case CURLOPT_NOBODY:
        if (l)
            st->method = LLM_M_HEAD;
        else if (st->method == LLM_M_HEAD)
            st->method = LLM_M_GET;
        break;
    case CURLOPT_UPLOAD:
    case CURLOPT_PUT:
        st->method = l ? LLM_M_PUT : LLM_M_GET;
        break;
    case CURLOPT_HTTPPOST:
    case CURLOPT_MIMEPOST:
        st->method = LLM_M_FORM;
        break;
    case CURLOPT_CUSTOMREQUEST:
        free(st->custom);
        st->custom = p ? strdup(p) : NULL;
        break;
    case CURLOPT_HTTPHEADER:
        st->headers = p;
        break;
    case CURLOPT_HEADER:
        st->include_header = l != 0;
        break;
    case CURLOPT_ACCEPT_ENCODING:
        st->accept_encoding = p != NULL;
        break;
    case CURLOPT_HTTP_CONTENT_DECODING:
        st->no_decoding = l == 0;
        break;
    default:
        break;
    }
}
