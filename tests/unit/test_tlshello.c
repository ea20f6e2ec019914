/* tlshello.c: the SNI host name out of a ClientHello built here byte by
 * byte: found whole, refused when it holds a NUL byte anywhere (it would
 * come out as a shorter, other name), does not fit the caller's buffer or is
 * empty; every prefix of a hello says "need more" or gives the same answer;
 * not a handshake record, not a ClientHello and no server_name give 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "tlshello.h"

#include <string.h>

/* A TLS 1.2-style ClientHello record: an ALPN extension, then server_name
 * carrying name (nl bytes, NULs allowed), then supported_versions. */
static size_t hello(unsigned char *b, const char *name, size_t nl)
{
    static const unsigned char alpn[] = {0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h', '2'};
    static const unsigned char vers[] = {0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04};
    size_t p = 0, hs, ext;

    b[p++] = 0x16, b[p++] = 0x03, b[p++] = 0x01, p += 2; /* record; length later */
    hs = p;
    b[p++] = 0x01, p += 3; /* ClientHello; length later */
    b[p++] = 0x03, b[p++] = 0x03;
    memset(b + p, 0xab, 32), p += 32; /* random */
    b[p++] = 0;                       /* session id */
    b[p++] = 0, b[p++] = 2;           /* cipher suites */
    b[p++] = 0x13, b[p++] = 0x01;
    b[p++] = 1, b[p++] = 0; /* compression: null */
    ext = p, p += 2;        /* extensions length later */
    memcpy(b + p, alpn, sizeof(alpn)), p += sizeof(alpn);
    b[p++] = 0, b[p++] = 0; /* server_name */
    b[p++] = (unsigned char)((nl + 5) >> 8), b[p++] = (unsigned char)(nl + 5);
    b[p++] = (unsigned char)((nl + 3) >> 8), b[p++] = (unsigned char)(nl + 3);
    b[p++] = 0; /* host_name */
    b[p++] = (unsigned char)(nl >> 8), b[p++] = (unsigned char)nl;
    memcpy(b + p, name, nl), p += nl;
    memcpy(b + p, vers, sizeof(vers)), p += sizeof(vers);
    b[ext] = (unsigned char)((p - ext - 2) >> 8), b[ext + 1] = (unsigned char)(p - ext - 2);
    b[hs + 1] = 0, b[hs + 2] = (unsigned char)((p - hs - 4) >> 8);
    b[hs + 3] = (unsigned char)(p - hs - 4);
    b[3] = (unsigned char)((p - 5) >> 8), b[4] = (unsigned char)(p - 5);
    return p;
}

/* llm_tls_sni on the whole hello and on each of its prefixes: a prefix says
 * "need more" or agrees with the whole. Returns the whole's answer. */
static int sni_all_prefixes(const unsigned char *b, size_t len, char *sni, size_t n)
{
    char part[256];
    int rc = llm_tls_sni(b, len, sni, n);

    for (size_t k = 0; k < len; k++) {
        int prc = llm_tls_sni(b, k, part, n);
        if (prc == LLM_EPARTIAL)
            continue;
        assert_int_equal(prc, rc);
        if (rc == 1)
            assert_string_equal(part, sni);
    }
    return rc;
}

static void test_sni_found(void **state)
{
    unsigned char b[1024];
    char sni[256];
    size_t len = hello(b, "api.openai.com", 14);

    (void)state;
    memset(sni, 'X', sizeof(sni));
    assert_int_equal(sni_all_prefixes(b, len, sni, sizeof(sni)), 1);
    assert_string_equal(sni, "api.openai.com");
    /* the buffer: a 14-byte name needs 15 */
    assert_int_equal(llm_tls_sni(b, len, sni, 15), 1);
    assert_string_equal(sni, "api.openai.com");
    assert_int_equal(llm_tls_sni(b, len, sni, 14), 0);
}

/* fuzz regression tlshello-nul-in-name: a name with a NUL byte inside came
 * back cut at it ("api.openai.com\0.example.net" as "api.openai.com", or
 * "" for a leading NUL). No host name holds a NUL: there is no SNI. */
static void test_sni_nul_in_name(void **state)
{
    static const struct {
        const char *name;
        size_t nl;
    } bad[] = {
        {"api.openai.com\0.example.net", 27},
        {"\0api.openai.com", 15},
        {"api.openai.com\0", 15},
        {"\0", 1},
    };
    unsigned char b[1024];
    char sni[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = hello(b, bad[i].name, bad[i].nl);
        strcpy(sni, "untouched");
        assert_int_equal(sni_all_prefixes(b, len, sni, sizeof(sni)), 0);
        assert_string_equal(sni, "untouched");
    }
}

static void test_sni_none(void **state)
{
    unsigned char b[1024];
    char sni[256];
    size_t len;

    (void)state;
    len = hello(b, "", 0); /* an empty name is none */
    assert_int_equal(sni_all_prefixes(b, len, sni, sizeof(sni)), 0);
    len = hello(b, "h", 1);
    b[5] = 0x02; /* a ServerHello */
    assert_int_equal(llm_tls_sni(b, len, sni, sizeof(sni)), 0);
    len = hello(b, "h", 1);
    b[0] = 0x17; /* application data */
    assert_int_equal(llm_tls_sni(b, len, sni, sizeof(sni)), 0);
    assert_int_equal(llm_tls_sni((const unsigned char *)"GET / HTTP/1.1\r\n", 16, sni, 256), 0);
    assert_int_equal(llm_tls_sni(b, 0, sni, sizeof(sni)), LLM_EPARTIAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sni_found),
        cmocka_unit_test(test_sni_nul_in_name),
        cmocka_unit_test(test_sni_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
