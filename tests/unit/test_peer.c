/* peer.c: the calling process of a proxied connection. Its wire form round
 * trips (absent strings stay absent) and a short or pid-less tail is
 * refused; argv is redacted as the writer redacts its own (values without
 * content capture are dropped, a bearer token is masked with it); and
 * through the connection table (conn.c) an OPEN message carrying a peer
 * stamps its pid, ppid, exe and argv on the call's record, and its
 * attribution where the request's X-LLMOps-* headers set none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn.h"
#include "err.h"
#include "peer.h"
#include "queue.h"
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_round_trip(void **state)
{
    struct llm_peer p = {.pid = 4242,
                         .ppid = 7,
                         .exe = "/usr/bin/curl",
                         .argv_json = "[\"curl\",\"-sS\"]",
                         .workspace = "ws"},
                    q;
    char *buf;
    size_t n;

    (void)state;
    assert_int_equal(llm_peer_encode(&p, &buf, &n), 0);
    assert_int_equal(llm_peer_decode(buf, n, &q), 0);
    assert_int_equal(q.pid, 4242);
    assert_int_equal(q.ppid, 7);
    assert_string_equal(q.exe, "/usr/bin/curl");
    assert_string_equal(q.argv_json, "[\"curl\",\"-sS\"]");
    assert_string_equal(q.workspace, "ws");
    assert_null(q.session);
    assert_null(q.agent);
    assert_null(q.action);
    llm_peer_free(&q);
    /* cut anywhere: refused, nothing to free */
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(llm_peer_decode(buf, cut, &q), LLM_EPARSE);
    free(buf);
    assert_int_equal(llm_peer_decode("0\0"
                                     "1\0"
                                     "\0\0\0\0\0\0",
                                     10, &q),
                     LLM_EPARSE);
}

static void test_argv(void **state)
{
    static const char cmd[] =
        "curl\0-H\0Authorization: Bearer sk-0123456789abcdef\0--silent\0https://h/";
    char *with, *without;

    (void)state;
    with = llm_peer_argv_json(cmd, sizeof(cmd), 1);
    without = llm_peer_argv_json(cmd, sizeof(cmd), 0);
    assert_non_null(with);
    assert_non_null(without);
    assert_null(strstr(with, "sk-0123456789abcdef"));
    assert_non_null(strstr(with, "https://h/"));
    assert_string_equal(without, "[\"curl\",\"-H\",\"--silent\"]");
    free(with);
    free(without);
}

static struct llm_record got;
static int ngot;

static void sink(void *ctx, struct llm_record *r)
{
    (void)ctx;
    got = *r; /* takes the strings */
    llm_record_init(r);
    ngot++;
}

static void feed(struct llm_conns *cs, int kind, const void *p, size_t n)
{
    struct llm_msg *m = llm_msg_new(1, kind, p, n, 1000, 1000);
    assert_non_null(m);
    llm_conns_feed(cs, m);
    llm_msg_free_list(m);
}

static void test_stamped(void **state)
{
    static const char body[] =
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    static const char resp_body[] =
        "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"choices\":[{"
        "\"index\":0,"
        "\"message\":{\"role\":\"assistant\",\"content\":\"yo\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";
    struct llm_core_opts opts = {
        .max_body = 65536, .max_parse = 1 << 20, .max_event = 1 << 20, .capture_content = 1};
    struct llm_peer p = {.pid = 4242,
                         .ppid = 7,
                         .exe = "/usr/bin/python3",
                         .argv_json = "[\"py\"]",
                         .session = "sess-peer",
                         .workspace = "ws-peer"};
    struct llm_open_info info = {.capture = LLM_CAPTURE_PROXY, .tls = 1, .port = 443};
    struct llm_conns cs;
    char req[512], resp[1024], *tail, open[sizeof(info) + 256];
    size_t tn;

    (void)state;
    snprintf(info.sni, sizeof(info.sni), "api.openai.com");
    assert_int_equal(llm_peer_encode(&p, &tail, &tn), 0);
    assert_true(tn <= 256);
    memcpy(open, &info, sizeof(info));
    memcpy(open + sizeof(info), tail, tn);
    free(tail);
    llm_conns_init(&cs, &opts, sink, NULL);
    feed(&cs, LLM_MSG_OPEN, open, sizeof(info) + tn);
    int rn = snprintf(req, sizeof(req),
                      "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
                      "Content-Type: application/json\r\nX-LLMOps-Session: sess-header\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      strlen(body), body);
    feed(&cs, LLM_MSG_OUT, req, (size_t)rn);
    rn = snprintf(
        resp, sizeof(resp),
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
        strlen(resp_body), resp_body);
    feed(&cs, LLM_MSG_IN, resp, (size_t)rn);
    feed(&cs, LLM_MSG_CLOSE, NULL, 0);
    assert_int_equal(ngot, 1);
    assert_int_equal(got.f[LLM_F_PID].u.i, 4242);
    assert_int_equal(got.f[LLM_F_PPID].u.i, 7);
    assert_string_equal(llm_record_str(&got, LLM_F_EXE), "/usr/bin/python3");
    assert_string_equal(llm_record_str(&got, LLM_F_ARGV), "[\"py\"]");
    assert_string_equal(llm_record_str(&got, LLM_F_SESSION_ID),
                        "sess-header"); /* the request wins */
    assert_string_equal(llm_record_str(&got, LLM_F_WORKSPACE), "ws-peer");
    assert_string_equal(llm_record_str(&got, LLM_F_CAPTURE), "proxy");
    llm_record_clear(&got);
    llm_conns_close_all(&cs, "process_exit", 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_argv),
        cmocka_unit_test(test_stamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
