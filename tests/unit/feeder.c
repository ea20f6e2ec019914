/* Test support for the connection layer: messages in, records out. Each
 * message is stamped 1 ms after the previous one, so latencies are exact. */
#include "feeder.h"

#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

const struct llm_core_opts llm_feed_opts = {
    .max_body = 1 << 20,
    .max_parse = 64 << 20,
    .max_event = 4 << 20,
    .capture_content = 1,
};

static void sink_fn(void *ctx, struct llm_record *r)
{
    struct llm_feed_sink *s = ctx;
    if (s->n < LLM_FEED_MAX_RECS)
        s->recs[s->n] = *r; /* the record's strings move here */
    else
        llm_record_clear(r);
    s->n++;
}

void llm_feed_init_opts(struct llm_feeder *f, const struct llm_core_opts *opts)
{
    memset(f, 0, sizeof(*f));
    llm_conns_init(&f->cs, opts, sink_fn, &f->sink);
    f->t = 1795805362000000000LL;
}

void llm_feed_init(struct llm_feeder *f)
{
    llm_feed_init_opts(f, &llm_feed_opts);
}

void llm_feed_done(struct llm_feeder *f)
{
    llm_conns_close_all(&f->cs, "process_exit", f->t, f->t);
    for (int i = 0; i < f->sink.n && i < LLM_FEED_MAX_RECS; i++)
        llm_record_clear(&f->sink.recs[i]);
    f->sink.n = 0;
}

void llm_feed_msg(struct llm_feeder *f, uint64_t conn, int kind, const void *p, size_t n, int flags)
{
    struct llm_msg *m = llm_msg_new(conn, kind, p, n, f->t, f->t - 1000000000LL);

    if (!m) {
        fprintf(stderr, "llm_feed_msg: out of memory\n");
        abort();
    }
    m->flags = (uint16_t)flags;
    llm_conns_feed(&f->cs, m);
    free(m);
    f->t += 1000000;
}

void llm_feed_open(struct llm_feeder *f, uint64_t conn, const char *sni)
{
    struct llm_open_info info;

    memset(&info, 0, sizeof(info));
    info.capture = LLM_CAPTURE_OPENSSL;
    info.tls = 1;
    snprintf(info.sni, sizeof(info.sni), "%s", sni);
    llm_feed_msg(f, conn, LLM_MSG_OPEN, &info, sizeof(info), 0);
}

static int b64val(int c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;
    return p ? (int)(p - a) : -1;
}

size_t llm_feed_b64_decode(const char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)in[i]);
        if (v < 0)
            continue; /* padding, newlines */
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

const char *llm_feed_header(json_t *headers, const char *name)
{
    const char *k;
    json_t *v;

    json_object_foreach(headers, k, v)
    {
        if (!strcasecmp(k, name))
            return json_is_string(v) ? json_string_value(v)
                                     : json_string_value(json_array_get(v, 0));
    }
    return NULL;
}

static void append(char **p, size_t *n, const void *s, size_t k)
{
    *p = realloc(*p, *n + k + 1);
    if (!*p) {
        fprintf(stderr, "feeder: out of memory\n");
        exit(1);
    }
    memcpy(*p + *n, s, k);
    *n += k;
}

/* The response body as sent: the SSE reconstruction when the vector has
 * one, base64-decoded when the corpus kept it binary. */
static const char *vector_body(json_t *root, size_t *n, const char **ctype, unsigned char **bin)
{
    json_t *jresp = json_object_get(root, "response_body_sse_reconstructed");
    const char *body;

    if (json_is_string(jresp))
        *ctype = "text/event-stream";
    else
        jresp = json_object_get(root, "response_body");
    if (!json_is_string(jresp))
        return NULL;
    body = json_string_value(jresp);
    *n = json_string_length(jresp);
    if (!strcmp(json_string_value(json_object_get(root, "decoded")) ?: "",
                "binary-kept-as-base64")) {
        *bin = malloc(*n + 1);
        *n = llm_feed_b64_decode(body, *n, *bin);
        body = (const char *)*bin;
    }
    return body;
}

int llm_feed_vector(struct llm_feeder *f, json_t *root)
{
    const char *url = json_string_value(json_object_get(root, "url"));
    const char *method = json_string_value(json_object_get(root, "method"));
    json_t *jreq = json_object_get(root, "request_body"), *jst;
    const char *req_ct = llm_feed_header(json_object_get(root, "request_headers"), "content-type");
    const char *resp_ct =
        llm_feed_header(json_object_get(root, "response_headers"), "content-type");
    const char *p, *slash, *resp_body;
    char host[256], path[2048], head[4096];
    unsigned char *bin = NULL;
    char *req = NULL, *resp = NULL;
    size_t req_n = 0, resp_n = 0, body_n = 0;
    int status;

    if (!url || !method || !(resp_body = vector_body(root, &body_n, &resp_ct, &bin)))
        return -1;
    p = strstr(url, "://");
    p = p ? p + 3 : url;
    slash = strchr(p, '/');
    snprintf(host, sizeof(host), "%.*s", (int)(slash ? slash - p : (long)strlen(p)), p);
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(slash ? slash : "/", "#"),
             slash ? slash : "/");
    jst = json_object_get(root, "status");
    if (!json_is_integer(jst))
        jst = json_object_get(root, "status_inferred");
    status = json_is_integer(jst) ? (int)json_integer_value(jst) : 200;
    snprintf(head, sizeof(head),
             "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
             method, path, host, req_ct ? req_ct : "application/json",
             json_is_string(jreq) ? json_string_length(jreq) : 0);
    append(&req, &req_n, head, strlen(head));
    if (json_is_string(jreq))
        append(&req, &req_n, json_string_value(jreq), json_string_length(jreq));
    snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%s%s%sContent-Length: %zu\r\n\r\n", status,
             resp_ct ? "Content-Type: " : "", resp_ct ? resp_ct : "", resp_ct ? "\r\n" : "",
             body_n);
    append(&resp, &resp_n, head, strlen(head));
    append(&resp, &resp_n, resp_body, body_n);
    llm_feed_init(f);
    llm_feed_open(f, 7, host);
    llm_feed_msg(f, 7, LLM_MSG_OUT, req, req_n, 0);
    llm_feed_msg(f, 7, LLM_MSG_IN, resp, resp_n, 0);
    llm_feed_msg(f, 7, LLM_MSG_CLOSE, NULL, 0, 0);
    free(req);
    free(resp);
    free(bin);
    return 0;
}
