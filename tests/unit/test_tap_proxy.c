/* tap_proxy.c: which connections the tap leaves to `llmops run`'s proxy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tap_proxy.h"

#include <string.h>

static const char connect_line[] = "CONNECT api.openai.com:443 HTTP/1.1\r\nHost: x\r\n\r\n";

static struct llm_open_info info(int tls, int port, const char *sni)
{
    struct llm_open_info i = {.tls = tls, .port = port};
    strcpy(i.sni, sni);
    return i;
}

static void test_off_without_proxy(void **state)
{
    (void)state;
    llm_tap_proxy_configure(NULL);
    struct llm_open_info i = info(0, 5555, "");
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_SOCKET, &i, connect_line, strlen(connect_line)),
                     0);
}

static void test_peer_is_proxy(void **state)
{
    (void)state;
    llm_tap_proxy_configure("127.0.0.1:5555");
    struct llm_open_info s = info(0, 5555, ""), ssl = info(1, 5555, "api.openai.com"),
                         direct = info(1, 443, "api.openai.com");
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_LIBCURL, &s, "POST http://x/", 14), 1);
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &ssl, "POST /v1", 8), 1);
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &direct, "POST /v1", 8), 0);
}

/* A memory-BIO TLS connection (no peer port) rides in a tunnel only when
 * one to its host was opened and not yet taken. */
static void test_memory_bio_takes_a_tunnel(void **state)
{
    (void)state;
    llm_tap_proxy_configure("127.0.0.1:5555");
    struct llm_open_info sock = info(0, 5555, ""), mem = info(1, 0, "api.openai.com"),
                         other = info(1, 0, "api.anthropic.com");
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &mem, "POST /v1", 8), 0);
    assert_int_equal(
        llm_tap_proxy_owns(LLM_CAPTURE_SOCKET, &sock, connect_line, strlen(connect_line)), 1);
    assert_int_equal(
        llm_tap_proxy_owns(LLM_CAPTURE_SOCKET, &sock, connect_line, strlen(connect_line)), 1);
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &other, "POST /v1", 8), 0);
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &mem, "POST /v1", 8), 1);
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &mem, "POST /v1", 8), 1);
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &mem, "POST /v1", 8), 0);
}

/* An SSL over the proxy's own socket uses up the tunnel the socket hooks
 * counted, so a later direct memory-BIO connection is not mistaken. */
static void test_socket_ssl_consumes_its_tunnel(void **state)
{
    (void)state;
    llm_tap_proxy_configure("127.0.0.1:5555");
    struct llm_open_info sock = info(0, 5555, ""), ssl = info(1, 5555, "api.openai.com"),
                         mem = info(1, 0, "api.openai.com");
    llm_tap_proxy_owns(LLM_CAPTURE_SOCKET, &sock, connect_line, strlen(connect_line));
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &ssl, "POST /v1", 8), 1);
    assert_int_equal(llm_tap_proxy_owns(LLM_CAPTURE_OPENSSL, &mem, "POST /v1", 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_without_proxy),
        cmocka_unit_test(test_peer_is_proxy),
        cmocka_unit_test(test_memory_bio_takes_a_tunnel),
        cmocka_unit_test(test_socket_ssl_consumes_its_tunnel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
