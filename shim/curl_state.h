/* libcurl at the API level, shared by hook_curl.c (the exported hooks),
 * curl_state.c (the per-handle table and what the app set) and curl_synth.c
 * (the callback wrappers that turn one transfer into an HTTP/1.1 exchange
 * for the tap).
 *
 * Per-handle state lives in our own table keyed by CURL*, never in the
 * handle; its address is the userdata of our callback wrappers and, with the
 * low bit set (SSL* keys are aligned, fd keys have the top bit), the tap key
 * of the handle's current transfer. curl lets one thread at a time use a
 * handle, so a state's fields are only touched by that thread; the table
 * lock guards membership. */
#ifndef LLM_CURL_STATE_H
#define LLM_CURL_STATE_H

#include "real.h"

#include <stddef.h>
#include <stdint.h>

/* llm_in_hook while a hooked curl call drives transfers on this thread: the
 * OpenSSL and socket hooks pass everything through (the transfer is recorded
 * once, here), and our wrappers clear it around the app's own callbacks. */
#define LLM_IN_CURL 2

/* Non-zero while one of our hooks has curl running on this thread (0 again
 * inside the app's callbacks): a curl API call made then is curl's own
 * (curl_easy_perform runs a multi through the public functions) and passes
 * straight through. */
extern __thread int llm_curl_depth __attribute__((tls_model("initial-exec")));

enum { LLM_M_GET, LLM_M_POST, LLM_M_FORM, LLM_M_PUT, LLM_M_HEAD };
enum { LLM_RESP_NONE, LLM_RESP_COLLECT, LLM_RESP_HELD, LLM_RESP_SENT };

struct llm_sbuf {
    char *p;
    size_t len, cap;
};

struct llm_curl {
    struct llm_curl *next; /* table chain */
    CURL *h;

    /* What the app set, as curl would use it (curl's defaults after init
     * and reset): our wrappers call these exactly as curl would have. */
    curl_write_callback app_write; /* NULL: fwrite */
    void *app_wdata;               /* default stdout */
    curl_write_callback app_header;
    void *app_hdata;
    curl_read_callback app_read; /* NULL: curl's fread, which we leave alone */
    void *app_rdata;
    curl_prereq_callback app_prereq;
    void *app_prereqdata;
    const char *postfields;     /* the app's POSTFIELDS, or postcopy */
    char *postcopy;             /* our copy of COPYPOSTFIELDS */
    curl_off_t postsize;        /* -1: strlen(postfields) */
    char *custom;               /* CUSTOMREQUEST */
    struct curl_slist *headers; /* HTTPHEADER: the app keeps it alive during a transfer */
    int method;                 /* LLM_M_* */
    int include_header;         /* CURLOPT_HEADER: headers also reach the write callback */
    int accept_encoding;        /* ACCEPT_ENCODING set: curl decodes the body */
    int no_decoding;            /* HTTP_CONTENT_DECODING 0 */

    int installed;      /* our write/header/prereq wrappers are set in the handle */
    int read_installed; /* our read wrapper is set (only over an app read callback) */
    int no_prereq;      /* this libcurl has no CURLOPT_PREREQFUNCTION (< 7.80) */

    /* The transfer in progress. */
    int active;     /* started by a hooked perform / multi_add_handle */
    CURLM *multi;   /* the multi it was added to, else NULL */
    int multi_idle; /* that multi reported no running transfer since */
    int tapped;     /* the tap has a connection under our key */
    int skip;       /* not HTTP, or not an LLM call: pass through */
    int req_sent;
    int req_chunked_open; /* the request body is chunked and not finished */
    int status;
    int resp; /* LLM_RESP_* */
    int resp_chunked;
    int drop_cont; /* the header being continued was dropped */
    int is_head;
    int tls, port;
    struct llm_sbuf head; /* the response head being collected */
    char *scratch;        /* framing one body chunk into one tap */
};

/* Table. new/dup return NULL when full or out of memory (the handle is
 * then passed through untouched). take() unlinks the state for the caller
 * to free once the handle is gone. */
struct llm_curl *llm_curl_new(CURL *h);
struct llm_curl *llm_curl_dup(const struct llm_curl *src, CURL *h);
struct llm_curl *llm_curl_find(CURL *h);
struct llm_curl *llm_curl_take(CURL *h);
void llm_curl_free(struct llm_curl *st);
/* The app's settings back to curl's defaults (curl_easy_reset). */
void llm_curl_defaults(struct llm_curl *st);
/* Options whose value we track (everything else is forwarded untouched). */
int llm_curl_tracked(CURLoption opt);
/* Records an option the app set successfully (value as read from va_list). */
void llm_curl_shadow(struct llm_curl *st, CURLoption opt, long l, void *p, curl_off_t o);
/* A perform on m reported no running transfer: every transfer on m is over. */
void llm_curl_multi_idle(CURLM *m);
void llm_curl_atfork_child(void);
/* Number of transfers begun on a multi and not finished. */
extern int llm_curl_multi_active;

/* Our wrappers in the handle in place of the app's values, and back
 * (curl_wrap.c). */
void llm_curl_install(struct llm_curl *st);
void llm_curl_uninstall(struct llm_curl *st);

/* A transfer (curl_synth.c). */
void llm_curl_begin(struct llm_curl *st, CURLM *multi);
/* known: result is curl's verdict; else guess from what was seen. */
void llm_curl_finish(struct llm_curl *st, int known, CURLcode result);
/* What our callback wrappers saw the app accept (curl_synth.c): a header
 * line, body bytes, request body bytes (0: its end), the prereq call. */
void llm_curl_on_header(struct llm_curl *st, const char *p, size_t n);
void llm_curl_on_body(struct llm_curl *st, const char *p, size_t n);
void llm_curl_on_read(struct llm_curl *st, const char *p, size_t n);
void llm_curl_on_prereq(struct llm_curl *st, int port);

/* The callback and userdata options we stand in for: set_wrapped records
 * the app's value and gives curl ours instead once installed. */
int llm_curl_is_wrapped(CURLoption opt);
CURLcode llm_curl_set_wrapped(struct llm_curl *st, CURLoption opt, void *p, void (*fn)(void));

#endif
