/* Exchange lifecycle: request head -> request body (parsed at its end) ->
 * response head -> response body events -> record. Usage and model come
 * from the full parse of each JSON document (bounded by max_parse); what is
 * kept as content is bounded separately by max_body, with truncation noted.
 * Collector thread. */
#include "exchange.h"
#include "attrib.h"
#include "peer.h"
#include "providers.h"
#include "redact.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void request_event(void *ctx, int kind, const char *ev, const char *data, size_t n,
                          int truncated);
static void response_event(void *ctx, int kind, const char *ev, const char *data, size_t n,
                           int truncated);

/* The port in a Host value after its colon: digits only, 1..65535, else 0
 * (unknown: the caller falls back to the default). The value is not
 * NUL-terminated; atoi() would read on into the next header's bytes. */
static int host_port(const char *p, size_t n)
{
    int port = 0;

    for (size_t i = 0; i < n && port >= 0; i++) {
        if (p[i] < '0' || p[i] > '9')
            port = -1;
        else if ((port = port * 10 + (p[i] - '0')) > 65535)
            port = -1;
    }
    return port > 0 ? port : 0;
}

static void set_host(struct llm_exchange *x, const struct llm_h1_head *h,
                     const struct llm_open_info *info)
{
    size_t hl = 0;
    const char *host = llm_h1_header(h, "host", &hl);
    int port = info->port;

    if (host && hl) {
        const char *c = NULL;
        if (host[0] == '[') { /* [v6]:port */
            const char *rb = memchr(host, ']', hl);
            if (rb && rb + 1 < host + hl && rb[1] == ':')
                c = rb + 1;
        } else {
            c = memchr(host, ':', hl);
        }
        if (c) {
            if (!port)
                port = host_port(c + 1, (size_t)(host + hl - (c + 1)));
            hl = (size_t)(c - host);
        }
        llm_record_set_str(&x->call.rec, LLM_F_SERVER_ADDRESS, host, hl);
    } else if (info->sni[0]) {
        llm_record_set_cstr(&x->call.rec, LLM_F_SERVER_ADDRESS, info->sni);
    }
    if (!port)
        port = info->tls ? 443 : 80;
    llm_record_set_int(&x->call.rec, LLM_F_SERVER_PORT, port);
}

/* The provider named by the Host header, else by SNI, else the generic name
 * for an LLM API path on a host we do not know. */
static const char *host_provider(const struct llm_h1_head *h, const struct llm_open_info *info)
{
    size_t hl = 0;
    const char *host = llm_h1_header(h, "host", &hl), *p = NULL;

    if (host) {
        const char *colon = host[0] == '[' ? NULL : memchr(host, ':', hl);
        p = llm_provider_for_host(host, colon ? (size_t)(colon - host) : hl);
    }
    if (!p && info->sni[0])
        p = llm_provider_for_host(info->sni, strlen(info->sni));
    return p ? p : "openai_compatible";
}

struct llm_exchange *llm_exchange_new(const struct llm_h1_head *h, const struct llm_open_info *info,
                                      const struct llm_core_opts *opts, int64_t t, int64_t m)
{
    const char *url = h->url, *path = url, *ce, *provider;
    size_t ce_len = 0;
    const struct llm_dialect *d;
    const struct llm_api *api;
    struct llm_exchange *x;
    struct llm_record *r;
    char *clean;

    /* absolute-form (proxy requests): keep only the path */
    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
        const char *slash = strchr(strstr(url, "//") + 2, '/');
        path = slash ? slash : "/";
    }
    provider = host_provider(h, info);
    d = llm_dialect_find(h->method, path, strlen(path), provider, &api);
    if (!d)
        return NULL;
    if (api->provider && !strcmp(provider, "openai_compatible"))
        provider = api->provider; /* the API shape names the server better than the host */
    x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->opts = opts;
    x->t_start = t;
    x->m_start = m;
    x->http_major = h->http_major;
    x->http_minor = h->http_minor;
    x->call.dialect = d;
    x->call.capture_content = opts->capture_content;
    llm_cap_init(&x->call.text, opts->max_body);
    r = &x->call.rec;
    llm_record_init(r);
    llm_record_set_cstr(r, LLM_F_API, api->name);
    llm_record_set_cstr(r, LLM_F_OPERATION_TYPE, api->operation);
    llm_record_set_cstr(r, LLM_F_HTTP_METHOD, h->method);
    clean = llm_redact_url(path, strlen(path));
    if (clean)
        llm_record_take_str(r, LLM_F_URL_PATH, clean, strlen(clean));
    x->path = strndup(path, strcspn(path, "?#"));
    x->call.path = x->path ? x->path : "";
    set_host(x, h, info);
    llm_record_set_cstr(r, LLM_F_PROVIDER, provider);
    llm_record_set_cstr(r, LLM_F_CAPTURE,
                        info->capture == LLM_CAPTURE_LIBCURL          ? "libcurl"
                        : info->capture == LLM_CAPTURE_SOCKET         ? "socket"
                        : info->capture == LLM_CAPTURE_OPENSSL_INLINE ? "openssl_inline"
                        : info->capture == LLM_CAPTURE_PROXY          ? "proxy"
                                                                      : "openssl");
    if (llm_attrib_from_head(r, h)) /* X-LLMOps-* headers: this call's own attribution */
        x->call.truncated = 1;
    if (info->peer) /* the proxy's caller, not this process */
        llm_peer_stamp(info->peer, r);
    /* a request body is one JSON document whatever its declared type */
    ce = llm_h1_header(h, "content-encoding", &ce_len);
    llm_body_init(&x->req, NULL, 0, ce, ce_len, opts->max_parse, opts->max_event, request_event, x);
    return x;
}

void llm_exchange_request_body(struct llm_exchange *x, const char *p, size_t n)
{
    x->req_bytes += n;
    llm_body_feed(&x->req, p, n);
}

/* The request body, parsed once: the dialect's request fields, then the
 * content kept as completion_args (the sender's exact text; secrets are
 * removed from it with every other field by llm_redact_record, which also
 * scans the bodies jansson rejects). */
static void request_event(void *ctx, int kind, const char *ev, const char *data, size_t n,
                          int truncated)
{
    struct llm_exchange *x = ctx;
    struct llm_call *c = &x->call;
    json_t *body;

    x->request_seen = 1;
    body = n ? json_loadb(data, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    if (json_is_object(body)) {
        c->dialect->request(c, body);
    } else {
        c->dialect->request(c, NULL);
    }
    if (!n) {
        json_decref(body);
        return;
    }
    if (c->capture_content) {
        size_t len = n;
        if (len > x->opts->max_body || truncated) {
            struct llm_cap cap;
            llm_cap_init(&cap, x->opts->max_body);
            llm_cap_append(&cap, data, len);
            char *j = llm_cap_join(&cap, &len);
            if (j)
                llm_record_take_str(&c->rec, LLM_F_COMPLETION_ARGS, j, len);
            llm_cap_free(&cap);
            c->truncated = 1;
        } else {
            llm_record_set_str(&c->rec, LLM_F_COMPLETION_ARGS, data, len);
        }
    } else if (truncated) {
        c->truncated = 1;
    }
    json_decref(body);
}

void llm_exchange_request_end(struct llm_exchange *x)
{
    llm_body_finish(&x->req);
}

static void request_facts(struct llm_exchange *x)
{
    /* a request that never finished still tells the dialect its URL */
    if (!x->request_seen) {
        x->request_seen = 1;
        x->call.dialect->request(&x->call, NULL);
    }
}

void llm_exchange_response_head(struct llm_exchange *x, const struct llm_h1_head *h)
{
    size_t ct_len = 0, ce_len = 0;
    const char *ct = llm_h1_header(h, "content-type", &ct_len);
    const char *ce = llm_h1_header(h, "content-encoding", &ce_len);

    request_facts(x);
    x->resp_started = 1;
    if (x->call.dialect->response_head)
        x->call.dialect->response_head(&x->call, h);
    x->http_major = h->http_major;
    x->http_minor = h->http_minor;
    llm_record_set_int(&x->call.rec, LLM_F_HTTP_STATUS, h->status);
    llm_body_init(&x->resp, ct, ct_len, ce, ce_len, x->opts->max_parse, x->opts->max_event,
                  response_event, x);
}

static void response_event(void *ctx, int kind, const char *ev, const char *data, size_t n,
                           int truncated)
{
    struct llm_exchange *x = ctx;
    struct llm_call *c = &x->call;
    json_t *j;

    if (truncated)
        c->truncated = 1;
    if (kind == LLM_FRAME_WHOLE) {
        /* skip leading whitespace: OpenRouter pads its bodies */
        while (n && (*data == ' ' || *data == '\n' || *data == '\r' || *data == '\t'))
            data++, n--;
        if (!n)
            return;
        j = json_loadb(data, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (j) {
            c->dialect->response(c, j);
        } else {
            /* not JSON: keep a short excerpt, it is usually a proxy's error page */
            c->malformed = 1;
            if (!c->error_seen)
                llm_record_set_str(&c->rec, LLM_F_ERROR_MESSAGE, data, n > 512 ? 512 : n);
        }
        json_decref(j);
        return;
    }
    j = json_loadb(data, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!json_is_object(j) && !(n == 6 && !memcmp(data, "[DONE]", 6)))
        c->malformed = 1;
    c->dialect->event(c, ev, json_is_object(j) ? j : NULL, data, n);
    json_decref(j);
}

void llm_exchange_response_body(struct llm_exchange *x, const char *p, size_t n)
{
    x->resp_bytes += n;
    llm_body_feed(&x->resp, p, n);
}

void llm_exchange_response_end(struct llm_exchange *x, int64_t t, int64_t m)
{
    llm_body_finish(&x->resp);
    x->done = 1;
    x->t_end = t;
    x->m_end = m;
}

/* Milliseconds, kept to the microsecond the clocks can honestly give. */
static double ms(int64_t from, int64_t to)
{
    return (double)((to - from) / 1000) / 1e3;
}

/* The call's identity and clocks: id and timestamps from the request's
 * start, latency, time to first byte and (for streams) first token. */
static void set_times(struct llm_exchange *x)
{
    struct llm_call *c = &x->call;
    struct llm_record *r = &c->rec;
    char ts[LLM_RFC3339_LEN], id[LLM_ULID_LEN];
    uint8_t ulid[16];

    llm_ulid_new(ulid, x->t_start);
    llm_ulid_format(ulid, id);
    llm_record_set_cstr(r, LLM_F_OPERATION_ID, id);
    llm_record_set_int(r, LLM_F_SCHEMA_VERSION, LLM_SCHEMA_VERSION);
    llm_rfc3339(x->t_start, ts);
    llm_record_set_cstr(r, LLM_F_TIMESTAMP, ts);
    llm_rfc3339(x->t_end, ts);
    llm_record_set_cstr(r, LLM_F_END_TIMESTAMP, ts);
    llm_record_set_real(r, LLM_F_LATENCY_MS, ms(x->m_start, x->m_end));
    if (x->m_first_byte)
        llm_record_set_real(r, LLM_F_TTFB_MS, ms(x->m_start, x->m_first_byte));
    if (c->first_token_mono && r->f[LLM_F_STREAM].set && r->f[LLM_F_STREAM].u.b)
        llm_record_set_real(r, LLM_F_TTFT_MS, ms(x->m_start, c->first_token_mono));
}

/* ok, error or incomplete (why: the reason the call ended early), with an
 * error_type the dialect did not give: the cut, http_NNN, or a 2xx body we
 * could not read. */
static void set_status(struct llm_exchange *x, const char *why)
{
    struct llm_call *c = &x->call;
    struct llm_record *r = &c->rec;
    int64_t status = r->f[LLM_F_HTTP_STATUS].set ? r->f[LLM_F_HTTP_STATUS].u.i : 0;

    if (why) {
        llm_record_set_cstr(r, LLM_F_STATUS, "incomplete");
        if (!r->f[LLM_F_ERROR_TYPE].set)
            llm_record_set_cstr(r, LLM_F_ERROR_TYPE, why);
    } else if (status >= 400 || c->error_seen) {
        llm_record_set_cstr(r, LLM_F_STATUS, "error");
        if (!r->f[LLM_F_ERROR_TYPE].set && status >= 400) {
            char code[16];
            snprintf(code, sizeof(code), "http_%d", (int)status);
            llm_record_set_cstr(r, LLM_F_ERROR_TYPE, code);
        }
    } else if (c->malformed) {
        /* a 2xx whose body we could not read: say so rather than "ok" */
        llm_record_set_cstr(r, LLM_F_STATUS, "error");
        llm_record_set_cstr(r, LLM_F_ERROR_TYPE, "malformed_response");
    } else {
        llm_record_set_cstr(r, LLM_F_STATUS, "ok");
    }
}

/* The response text and tool calls, or no content at all when capture is
 * off; a cut keeps truncated. */
static void set_content(struct llm_call *c)
{
    struct llm_record *r = &c->rec;
    char *tools;

    if (!c->capture_content) {
        llm_record_unset(r, LLM_F_COMPLETION_ARGS);
        return;
    }
    if (c->text.total) {
        size_t len;
        char *s = llm_cap_join(&c->text, &len);
        if (s)
            llm_record_take_str(r, LLM_F_RESPONSE, s, len);
        if (llm_cap_truncated(&c->text))
            c->truncated = 1;
    }
    tools = llm_call_tools_json(c);
    if (tools)
        llm_record_take_str(r, LLM_F_TOOL_CALLS, tools, strlen(tools));
}

void llm_exchange_finish(struct llm_exchange *x, const char *why, int64_t t, int64_t m,
                         struct llm_record *out)
{
    struct llm_call *c = &x->call;
    struct llm_record *r = &c->rec;
    const char *model;

    request_facts(x);
    if (!x->done) {
        if (x->resp_started)
            llm_body_finish(&x->resp); /* what arrived still counts */
        x->t_end = t;
        x->m_end = m;
    }
    if (c->dialect->finish)
        c->dialect->finish(c);
    set_times(x);
    llm_record_set_cstr(r, LLM_F_HTTP_VERSION,
                        x->http_major == 3   ? "3"
                        : x->http_major == 2 ? "2"
                        : x->http_minor == 0 ? "1.0"
                                             : "1.1");
    model = llm_record_str(r, LLM_F_RESPONSE_MODEL);
    if (!model)
        model = llm_record_str(r, LLM_F_REQUEST_MODEL);
    llm_record_set_cstr(r, LLM_F_MODEL, model);
    llm_record_set_cstr(r, LLM_F_USAGE_SOURCE, c->usage_seen ? "provider" : "missing");
    set_status(x, why);
    if (x->resp.decode_error)
        c->truncated = 1;
    set_content(c);
    llm_record_set_int(r, LLM_F_REQUEST_BYTES, (int64_t)x->req_bytes);
    llm_record_set_int(r, LLM_F_RESPONSE_BYTES, (int64_t)x->resp_bytes);
    llm_record_set_bool(r, LLM_F_TRUNCATED, c->truncated);

    *out = *r; /* the strings move with it */
    llm_record_init(r);
    llm_exchange_free(x);
}

void llm_exchange_opaque(const struct llm_open_info *info, int64_t t, struct llm_record *out)
{
    char ts[LLM_RFC3339_LEN], id[LLM_ULID_LEN], msg[512];
    const char *provider = llm_provider_for_host(info->sni, strlen(info->sni));
    uint8_t ulid[16];

    llm_record_init(out);
    llm_ulid_new(ulid, t);
    llm_ulid_format(ulid, id);
    llm_record_set_cstr(out, LLM_F_OPERATION_ID, id);
    llm_record_set_int(out, LLM_F_SCHEMA_VERSION, LLM_SCHEMA_VERSION);
    llm_rfc3339(t, ts);
    llm_record_set_cstr(out, LLM_F_TIMESTAMP, ts);
    llm_record_set_cstr(out, LLM_F_PROVIDER, provider ? provider : "openai_compatible");
    llm_record_set_cstr(out, LLM_F_SERVER_ADDRESS, info->sni);
    if (info->port)
        llm_record_set_int(out, LLM_F_SERVER_PORT, info->port);
    llm_record_set_cstr(out, LLM_F_CAPTURE, "socket");
    llm_record_set_cstr(out, LLM_F_STATUS, "not_observable");
    llm_record_set_cstr(out, LLM_F_ERROR_TYPE, "tls_not_hooked");
    snprintf(msg, sizeof(msg),
             "TLS to %s through a TLS library llmops cannot hook (statically linked OpenSSL or "
             "BoringSSL, rustls, GnuTLS...): calls to this host are not recorded; see llmops "
             "doctor",
             info->sni);
    llm_record_set_cstr(out, LLM_F_ERROR_MESSAGE, msg);
    llm_record_set_cstr(out, LLM_F_USAGE_SOURCE, "missing");
    llm_record_set_bool(out, LLM_F_TRUNCATED, 0);
}

void llm_exchange_free(struct llm_exchange *x)
{
    if (!x)
        return;
    llm_record_clear(&x->call.rec);
    llm_cap_free(&x->call.text);
    json_decref(x->call.tool_calls);
    llm_body_free(&x->req);
    free(x->path);
    if (x->resp_started)
        llm_body_free(&x->resp);
    free(x);
}
