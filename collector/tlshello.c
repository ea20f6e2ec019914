/* TLS ClientHello parsing, only as far as the server_name extension
 * (RFC 8446 4.1.2, RFC 6066 3). Every length is checked against what we
 * have; a hello split across several records is read from the first one
 * only (its first 16 KiB), which holds the SNI in practice. */
#include "tlshello.h"
#include "err.h"

#include <string.h>

static size_t be16(const unsigned char *p)
{
    return (size_t)p[0] << 8 | p[1];
}

int llm_tls_sni(const unsigned char *buf, size_t len, char *sni, size_t n)
{
    size_t rec, pos, end, k;

    if (len >= 1 && buf[0] != 0x16) /* handshake record */
        return 0;
    if (len >= 2 && buf[1] != 0x03)
        return 0;
    if (len < 5)
        return LLM_EPARTIAL;
    rec = be16(buf + 3);
    if (rec < 4)
        return 0;
    end = 5 + rec;
    if (len < 6)
        return LLM_EPARTIAL;
    if (buf[5] != 0x01) /* ClientHello */
        return 0;
    /* handshake header (4), version (2), random (32) */
    pos = 5 + 4 + 2 + 32;
    if (len < end)
        return LLM_EPARTIAL; /* the whole first record is needed */
    if (pos + 1 > end)
        return 0;
    pos += 1 + buf[pos]; /* session id */
    if (pos + 2 > end)
        return 0;
    pos += 2 + be16(buf + pos); /* cipher suites */
    if (pos + 1 > end)
        return 0;
    pos += 1 + buf[pos]; /* compression methods */
    if (pos + 2 > end)
        return 0;
    k = pos + 2 + be16(buf + pos); /* extensions */
    pos += 2;
    if (k < end)
        end = k;
    while (pos + 4 <= end) {
        size_t type = be16(buf + pos), elen = be16(buf + pos + 2);
        pos += 4;
        if (pos + elen > end)
            return 0;
        if (type == 0 && elen >= 5 && buf[pos + 2] == 0) { /* server_name, host_name */
            size_t nl = be16(buf + pos + 3);
            /* a NUL inside would cut the name short: another host's name
             * ("api.openai.com\0.evil") must not come out as the real one */
            if (5 + nl > elen || nl == 0 || nl >= n || memchr(buf + pos + 5, 0, nl))
                return 0;
            memcpy(sni, buf + pos + 5, nl);
            sni[nl] = '\0';
            return 1;
        }
        pos += elen;
    }
    return 0;
}
