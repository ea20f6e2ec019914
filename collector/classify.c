/* First-bytes classifier (app thread). It must answer early for non-HTTP
 * traffic (the first byte that cannot start a method or the HTTP/2 preface
 * ends the question), and never read past len. An HTTP/2 connection is
 * judged by its SNI, else by its first request, which is HPACK-coded: the
 * core's stateless llm_h2peek_request reads it when the shim could load the
 * core (a fresh connection's first header block needs no earlier state).
 * An HTTP/1.1 request that asks to upgrade to h2c and is not an LLM call
 * itself (nghttp sends "OPTIONS *") is judged by the first HTTP/2 request
 * that follows it. */
#include "classify.h"
#include "apis.h"
#include "err.h"
#include "providers.h"
#include "util.h"

#include <string.h>
#include <strings.h>

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24

static const char *const methods[] = {"POST ",   "GET ",  "PUT ",    "PATCH ",
                                      "DELETE ", "HEAD ", "OPTIONS "};

/* Could buf[0..len) be the start of "METHOD "? */
static int method_prefix(const char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t k = strlen(methods[i]);
        if (!memcmp(buf, methods[i], len < k ? len : k))
            return 1;
    }
    return 0;
}

/* The value of header name (with its colon) in the head lines [p, end). */
static const char *find_header(const char *p, const char *end, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl)) {
            const char *v = p + nl, *e = eol;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            *vlen = (size_t)(e - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

/* Is host[0..len), possibly with a :port, a known LLM host? */
static int llm_host(const char *v, size_t len)
{
    /* strip :port, keeping [v6] literals whole */
    const char *e = v + len, *c = e;

    while (c > v && c[-1] != ':' && c[-1] != ']')
        c--;
    if (c > v && c[-1] == ':')
        e = c - 1;
    return e > v && llm_provider_for_host(v, (size_t)(e - v)) != NULL;
}

/* HTTP/2 from its first bytes (buf starts where the preface should). */
static int classify_h2(const char *buf, size_t len, const char *sni, llm_h2peek_fn peek)
{
    struct llm_h2peek pk;
    int rc;

    if (memcmp(buf, h2_preface, len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN))
        return LLM_CLASS_OTHER;
    if (len < H2_PREFACE_LEN)
        return LLM_CLASS_MORE_H2;
    if (sni && llm_provider_for_host(sni, strlen(sni)))
        return LLM_CLASS_LLM;
    if (!peek)
        return LLM_CLASS_OTHER;
    rc = peek(buf, len, &pk);
    if (rc == LLM_EPARTIAL)
        return LLM_CLASS_MORE_H2;
    if (rc < 0)
        return LLM_CLASS_OTHER;
    if (llm_path_is_llm(pk.path, strlen(pk.path)) || llm_host(pk.authority, strlen(pk.authority)))
        return LLM_CLASS_LLM;
    return LLM_CLASS_OTHER;
}

/* An HTTP/1.1 request asking to upgrade to h2c (head [buf, end), end at its
 * blank line, hend past it): the HTTP/2 bytes after its body decide. */
static int classify_upgrade(const char *buf, size_t len, const char *end, size_t hend,
                            const char *sni, llm_h2peek_fn peek)
{
    const char *v;
    size_t vl = 0, body = 0;

    v = find_header(buf, end + 2, "upgrade:", &vl);
    if (!v || !llm_has_token(v, vl, "h2c") || find_header(buf, end + 2, "transfer-encoding:", &vl))
        return LLM_CLASS_OTHER;
    v = find_header(buf, end + 2, "content-length:", &vl);
    for (size_t i = 0; v && i < vl; i++) {
        if (v[i] < '0' || v[i] > '9' || body > LLM_CLASS_HEAD_MAX)
            return LLM_CLASS_OTHER;
        body = body * 10 + (size_t)(v[i] - '0');
    }
    if (hend + body >= LLM_CLASS_HEAD_MAX)
        return LLM_CLASS_OTHER;
    if (len <= hend + body) /* the client waits for the 101 before its preface */
        return LLM_CLASS_MORE_H2;
    return classify_h2(buf + hend + body, len - hend - body, sni, peek);
}

/* The head is not complete yet: decide from the request line when it, or
 * the SNI, is enough (a head of any size to a known LLM path or host is
 * ours, and is not held back); only the Host header needs the whole head. */
static int early(const char *buf, size_t len, const char *sni)
{
    const char *eol = memchr(buf, '\n', len), *sp1, *sp2;

    if (eol) {
        sp1 = memchr(buf, ' ', (size_t)(eol - buf));
        sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
        if (sp2 && llm_path_is_llm(sp1 + 1, (size_t)(sp2 - sp1 - 1)))
            return LLM_CLASS_LLM;
        if (sp2 && sni && llm_provider_for_host(sni, strlen(sni)))
            return LLM_CLASS_LLM;
        /* a Host line already complete decides too: the rest of a long
         * head (cookies) need not arrive first */
        const char *host;
        size_t hl = 0;
        if (sp2 && (host = find_header(eol + 1, buf + len, "host:", &hl)) && llm_host(host, hl))
            return LLM_CLASS_LLM;
    }
    return len >= LLM_CLASS_HEAD_MAX ? LLM_CLASS_OTHER : LLM_CLASS_MORE;
}

int llm_classify(const char *buf, size_t len, const char *sni, llm_h2peek_fn peek)
{
    const char *end, *sp1, *sp2, *path, *host;
    size_t plen, hlen = 0, hend;

    if (!len)
        return LLM_CLASS_MORE;
    if (!memcmp(buf, h2_preface, len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN))
        return len == 1 ? LLM_CLASS_MORE : classify_h2(buf, len, sni, peek); /* "P": POST? */
    if (!method_prefix(buf, len))
        return LLM_CLASS_OTHER;
    end = memmem(buf, len, "\r\n\r\n", 4);
    hend = end ? (size_t)(end - buf) + 4 : 0;
    if (!end && (end = memmem(buf, len, "\n\n", 2)))
        hend = (size_t)(end - buf) + 2;
    if (!end)
        return early(buf, len, sni);

    sp1 = memchr(buf, ' ', (size_t)(end - buf));
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1)) : NULL;
    if (!sp2)
        return LLM_CLASS_OTHER;
    path = sp1 + 1;
    plen = (size_t)(sp2 - path);
    if (plen > 7 && (!strncasecmp(path, "http://", 7) || !strncasecmp(path, "https://", 8))) {
        /* absolute-form through a proxy: the authority names the host */
        const char *a = memchr(path, '/', plen) + 2;
        const char *slash = memchr(a, '/', (size_t)(sp2 - a));
        const char *ae = slash ? slash : sp2, *colon = memchr(a, ':', (size_t)(ae - a));
        if (llm_provider_for_host(a, (size_t)((colon ? colon : ae) - a)))
            return LLM_CLASS_LLM;
        path = ae;
        plen = (size_t)(sp2 - ae);
    }
    if (llm_path_is_llm(path, plen))
        return LLM_CLASS_LLM;
    host = find_header(sp2, end + 2, "host:", &hlen);
    if (host && llm_host(host, hlen))
        return LLM_CLASS_LLM;
    if (sni && llm_provider_for_host(sni, strlen(sni)))
        return LLM_CLASS_LLM;
    return classify_upgrade(buf, len, end, hend, sni, peek);
}
