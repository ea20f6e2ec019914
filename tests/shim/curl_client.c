/* A libcurl program for test_curl_api.sh: each case makes its transfers to
 * https://api.openai.com/v1/chat/completions, sent by CURLOPT_CONNECT_TO to
 * the local replay server (X-Test-Vector picks the reply), and prints what
 * the app received, so runs with and without the shim can be compared
 * byte for byte. Every libcurl feature the shim stands between is used the
 * way apps use it: own and default write callbacks, header and read
 * callbacks, POSTFIELDS / COPYPOSTFIELDS with their sizes, curl_off_t
 * options, content decoding, CURLOPT_HEADER, duphandle, reset, and the
 * multi interface with and without curl_multi_info_read.
 *
 * usage: curl_client CASE PORT CA_PEM BODY_DIR   (BODY_DIR/VECTOR.body: request bodies) */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL "https://api.openai.com/v1/chat/completions"

static const char *port, *ca, *dir;

struct mem {
    char *p;
    size_t n;
};

static char *load(const char *vector, size_t *n)
{
    char path[512];
    FILE *f;
    char *p;
    long len;

    snprintf(path, sizeof(path), "%s/%s.body", dir, vector);
    if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0)
        exit(2);
    rewind(f);
    p = malloc((size_t)len + 1);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len)
        exit(2);
    p[len] = '\0';
    fclose(f);
    *n = (size_t)len;
    return p;
}

static size_t to_mem(char *p, size_t size, size_t n, void *ud)
{
    struct mem *m = ud;
    char *q = realloc(m->p, m->n + size * n + 1);

    if (!q)
        return 0;
    memcpy(q + m->n, p, size * n);
    m->p = q;
    m->n += size * n;
    m->p[m->n] = '\0';
    return size * n;
}

static size_t to_stdout(char *p, size_t size, size_t n, void *ud)
{
    (void)ud;
    return fwrite(p, size, n, stdout) * size;
}

/* Prints status lines only: the other headers (Date) change run to run. */
static size_t status_lines(char *p, size_t size, size_t n, void *ud)
{
    if (n * size > 5 && !memcmp(p, "HTTP/", 5))
        printf("[%s] %.*s\n", (const char *)ud, (int)(n * size - 2), p);
    return n * size;
}

struct src {
    const char *p;
    size_t n, off;
};

static size_t from_mem(char *buf, size_t size, size_t n, void *ud)
{
    struct src *s = ud;
    size_t k = s->n - s->off < 10 ? s->n - s->off : 10; /* in small pieces */

    if (k > size * n)
        k = size * n;
    memcpy(buf, s->p + s->off, k);
    s->off += k;
    return k;
}

/* Sets h up for one vector: URL, redirect to the server, headers. */
static CURL *setup(CURL *h, const char *vector, struct curl_slist **hdrs, const char *extra)
{
    char connect_to[128], pick[128];
    struct curl_slist *one;

    snprintf(connect_to, sizeof(connect_to), "api.openai.com:443:127.0.0.1:%s", port);
    snprintf(pick, sizeof(pick), "X-Test-Vector: %s", vector);
    *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    *hdrs = curl_slist_append(*hdrs, "Authorization: Bearer sk-curlclient-0123456789abcdef");
    *hdrs = curl_slist_append(*hdrs, pick);
    if (extra)
        *hdrs = curl_slist_append(*hdrs, extra);
    one = curl_slist_append(NULL, connect_to);
    curl_easy_setopt(h, CURLOPT_URL, URL);
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, one); /* leaked: the process is short */
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    return h;
}

static CURL *easy(const char *vector, struct curl_slist **hdrs, const char *extra)
{
    return setup(curl_easy_init(), vector, hdrs, extra);
}

static void post(CURL *h, const char *vector)
{
    size_t n;
    char *body = load(vector, &n);

    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body); /* leaked with the handle */
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
}

static void done(const char *what, CURLcode rc, struct mem *m)
{
    printf("[%s] rc=%d\n", what, (int)rc);
    if (m && m->n)
        fwrite(m->p, 1, m->n, stdout);
    printf("\n");
    if (m) {
        free(m->p);
        m->p = NULL;
        m->n = 0;
    }
}

static void multi(int use_info)
{
    static const char *const vs[] = {"openai_chat_nostream_1", "openai_chat_stream_2",
                                     "openai_chat_nostream_2"};
    struct curl_slist *hdrs[3];
    struct mem out[3] = {{0}};
    CURL *h[3];
    CURLM *m = curl_multi_init();
    int running = 1, n = use_info ? 3 : 2, left, rcs[3] = {-1, -1, -1};
    CURLMsg *msg;

    for (int i = 0; i < n; i++) {
        h[i] = easy(vs[i], &hdrs[i], NULL);
        post(h[i], vs[i]);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &out[i]);
        curl_multi_add_handle(m, h[i]);
    }
    while (running) {
        if (curl_multi_perform(m, &running) || (running && curl_multi_poll(m, NULL, 0, 1000, NULL)))
            break;
        while (use_info && (msg = curl_multi_info_read(m, &left)))
            for (int i = 0; i < n; i++)
                if (msg->msg == CURLMSG_DONE && msg->easy_handle == h[i])
                    rcs[i] = (int)msg->data.result;
    }
    for (int i = 0; i < n; i++) { /* in a fixed order: completion order varies */
        curl_multi_remove_handle(m, h[i]);
        done(vs[i], (CURLcode)rcs[i], &out[i]);
        curl_easy_cleanup(h[i]);
    }
    curl_multi_cleanup(m);
}

int main(int argc, char **argv)
{
    struct curl_slist *hdrs;
    struct mem out = {0};
    const char *c;
    CURL *h, *d;
    CURLcode rc;

    if (argc != 5)
        return 2;
    c = argv[1], port = argv[2], ca = argv[3], dir = argv[4];
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!strcmp(c, "write_cb")) { /* own write callback; curl_off_t options */
        h = easy("openai_chat_nostream_1", &hdrs, NULL);
        post(h, "openai_chat_nostream_1");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)1 << 40);
        done(c, curl_easy_perform(h), &out);
        /* a limit below the reply's Content-Length fails the transfer */
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)16);
        done("maxfilesize", curl_easy_perform(h), &out);
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "h2")) { /* HTTP/2 (against a server that speaks it) */
        long version = 0;
        h = easy("openai_chat_nostream_1", &hdrs, NULL);
        post(h, "openai_chat_nostream_1");
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
        printf("[h2] http version %s\n", version == CURL_HTTP_VERSION_2_0 ? "2" : "other");
        done(c, rc, &out);
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "default_write")) { /* curl's fwrite to stdout */
        h = easy("openai_chat_nostream_4", &hdrs, NULL);
        post(h, "openai_chat_nostream_4");
        rc = curl_easy_perform(h);
        fflush(stdout);
        done(c, rc, NULL);
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "gzip") || !strcmp(c, "gzip_raw")) {
        h = easy("openai_chat_nostream_2", &hdrs, "X-Test-Encoding: gzip");
        post(h, "openai_chat_nostream_2");
        if (!strcmp(c, "gzip"))
            curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* curl decodes */
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        done(c, curl_easy_perform(h), &out);
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "multi") || !strcmp(c, "multi_noinfo")) {
        multi(!strcmp(c, "multi"));
    } else if (!strcmp(c, "stream")) { /* SSE in 7-byte pieces, printed as they come */
        h = easy("openai_chat_stream_1", &hdrs, "X-Test-Chunk: 7");
        post(h, "openai_chat_stream_1");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_stdout);
        done(c, curl_easy_perform(h), NULL);
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "copypost")) { /* curl's copy outlives ours; a header callback */
        size_t n;
        char *body = load("openai_chat_nostream_2", &n);
        h = easy("openai_chat_nostream_2", &hdrs, NULL);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)n);
        curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
        memset(body, 'x', n);
        free(body);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, status_lines);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)c);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        done(c, curl_easy_perform(h), &out);
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "readfn")) { /* the body from a read callback */
        struct src s = {0};
        h = easy("openai_chat_nostream_1", &hdrs, NULL);
        s.p = load("openai_chat_nostream_1", &s.n);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, from_mem);
        curl_easy_setopt(h, CURLOPT_READDATA, &s);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s.n);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        done(c, curl_easy_perform(h), &out);
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "dup_reset")) {
        h = easy("openai_chat_stream_2", &hdrs, NULL);
        post(h, "openai_chat_stream_2");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        done("first", curl_easy_perform(h), &out);
        d = curl_easy_duphandle(h); /* after a transfer: our wrappers are in h */
        curl_easy_cleanup(h);
        done("dup", curl_easy_perform(d), &out);
        curl_easy_reset(d); /* back to defaults: fwrite to stdout */
        setup(d, "openai_chat_nostream_1", &hdrs, NULL);
        post(d, "openai_chat_nostream_1");
        rc = curl_easy_perform(d);
        fflush(stdout);
        done("reset", rc, NULL);
        curl_easy_cleanup(d);
    } else if (!strcmp(c, "include_header")) { /* headers reach the write callback too */
        h = easy("openai_chat_nostream_3", &hdrs, NULL);
        post(h, "openai_chat_nostream_3");
        curl_easy_setopt(h, CURLOPT_HEADER, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        rc = curl_easy_perform(h);
        {
            char *body = out.p ? strstr(out.p, "\r\n\r\n") : NULL;
            printf("[%s] rc=%d\n%s\n", c, (int)rc, body ? body + 4 : "(no body)");
        }
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "error")) {
        h = easy("openai_chat-error_nostream_1", &hdrs, NULL);
        post(h, "openai_chat-error_nostream_1");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        done(c, curl_easy_perform(h), &out);
        curl_easy_cleanup(h);
    } else if (!strcmp(c, "health")) { /* not an LLM call: no record */
        char url[128];
        h = curl_easy_init();
        snprintf(url, sizeof(url), "https://127.0.0.1:%s/health", port);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CAINFO, ca);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
        done(c, curl_easy_perform(h), &out);
        curl_easy_cleanup(h);
    } else {
        return 2;
    }
    curl_global_cleanup();
    return 0;
}
