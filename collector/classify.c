/* First-bytes classifier (app thread). It must answer early for non-HTTP
 * traffic (the first byte that cannot start a method or the HTTP/2 preface
 * ends the question), and never read past len. An HTTP/2 connection is
 * judged by its SNI alone: its requests are HPACK-coded, and decoding them
 * needs state the app thread must not keep. */
#include "classify.h"
#include "providers.h"

#include <string.h>
#include <strings.h>

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_PREFACE_LEN 24

static const char *const methods[] = {"POST ", "GET ", "PUT ", "PATCH ", "DELETE ",
                                      "HEAD ", "OPTIONS "};

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

static const char *find_host(const char *p, const char *end, size_t *hlen)
{
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > 5 && !strncasecmp(p, "host:", 5)) {
            const char *v = p + 5, *e = eol;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            /* strip :port, keeping [v6] literals whole */
            const char *c = e;
            while (c > v && c[-1] != ':' && c[-1] != ']')
                c--;
            if (c > v && c[-1] == ':')
                e = c - 1;
            *hlen = (size_t)(e - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

int llm_classify(const char *buf, size_t len, const char *sni)
{
    const char *end, *sp1, *sp2, *path, *host;
    size_t plen, hlen = 0;

    if (!len)
        return LLM_CLASS_MORE;
    if (!memcmp(buf, h2_preface, len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN)) {
        /* HTTP/2: no HPACK here, so only the SNI can name an LLM host */
        if (len < H2_PREFACE_LEN)
            return LLM_CLASS_MORE;
        return sni && llm_provider_for_host(sni, strlen(sni)) ? LLM_CLASS_LLM : LLM_CLASS_OTHER;
    }
    if (!method_prefix(buf, len))
        return LLM_CLASS_OTHER;
    end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        end = memmem(buf, len, "\n\n", 2);
    if (!end)
        return len >= LLM_CLASS_HEAD_MAX ? LLM_CLASS_OTHER : LLM_CLASS_MORE;

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
    host = find_host(sp2, end + 2, &hlen);
    if (host && llm_provider_for_host(host, hlen))
        return LLM_CLASS_LLM;
    if (sni && llm_provider_for_host(sni, strlen(sni)))
        return LLM_CLASS_LLM;
    return LLM_CLASS_OTHER;
}
