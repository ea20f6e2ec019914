/* A TLS client and server in one process, over a socketpair, both using the
 * real libssl (so both go through the shim when it is preloaded). The client
 * speaks to "api.openai.com" (SNI and Host) and exercises what the OpenSSL
 * hooks must get right: one-byte writes, SSL_peek before SSL_read, the _ex
 * forms, non-blocking retries (WANT_READ), keep-alive, and a non-LLM
 * connection. Its stdout is the bodies it received plus, with "trace", the
 * return value, errno and OpenSSL error-queue head after every call, so a run
 * with the shim can be compared byte for byte with a run without it.
 *
 * usage: ssl_pair basic|nonblock [trace] */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int trace, nonblock;

static const char chat_body[] =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini-2024-07-18\","
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello there!\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,"
    "\"total_tokens\":18,\"prompt_tokens_details\":{\"cached_tokens\":4},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":2}}}";

static const char *const stream_events[] = {
    "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"Hel\"},\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"lo\"},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
    "\"completion_tokens\":2,\"total_tokens\":11}}\n\n",
    "data: [DONE]\n\n",
};

static void die(const char *what)
{
    fprintf(stderr, "ssl_pair: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static void note(const char *call, long rc)
{
    if (trace)
        printf("trace %s rc=%ld errno=%d err=%lu\n", call, rc, errno, ERR_peek_error());
}

/* --- server side (its own thread) --- */

static int srv_read_request(SSL *s, char *buf, size_t cap)
{
    size_t n = 0;
    long clen = 0;
    char *end;

    while (!(end = memmem(buf, n, "\r\n\r\n", 4))) {
        int r = SSL_read(s, buf + n, (int)(cap - n - 1));
        if (r <= 0)
            return -1;
        n += (size_t)r;
    }
    buf[n] = '\0';
    char *cl = strcasestr(buf, "content-length:");
    if (cl && cl < end)
        clen = strtol(cl + 15, NULL, 10);
    while (n < (size_t)(end + 4 - buf) + (size_t)clen) {
        int r = SSL_read(s, buf + n, (int)(cap - n - 1));
        if (r <= 0)
            return -1;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return 0;
}

static void srv_write(SSL *s, const char *p)
{
    if (SSL_write(s, p, (int)strlen(p)) <= 0)
        die("server write");
}

static void *server(void *arg)
{
    SSL *s = arg;
    char buf[65536], head[256];

    if (SSL_accept(s) != 1)
        die("accept");
    while (srv_read_request(s, buf, sizeof(buf)) == 0) {
        if (strstr(buf, "GET /health")) {
            srv_write(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        } else if (strstr(buf, "\"stream\":true")) {
            srv_write(s, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n");
            for (size_t i = 0; i < sizeof(stream_events) / sizeof(stream_events[0]); i++) {
                snprintf(head, sizeof(head), "%zx\r\n", strlen(stream_events[i]));
                srv_write(s, head);
                srv_write(s, stream_events[i]);
                srv_write(s, "\r\n");
                if (nonblock)
                    usleep(20000); /* make the client wait: WANT_READ */
            }
            srv_write(s, "0\r\n\r\n");
        } else {
            snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     strlen(chat_body));
            srv_write(s, head);
            if (nonblock)
                usleep(20000);
            srv_write(s, chat_body);
        }
    }
    SSL_shutdown(s);
    SSL_free(s);
    return NULL;
}

/* --- client side --- */

static void wait_io(SSL *c, int rc)
{
    int e = SSL_get_error(c, rc);
    struct pollfd p = {SSL_get_fd(c), e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        die("client I/O");
    poll(&p, 1, 5000);
}

static void cli_write(SSL *c, const char *p, size_t n, int one_byte)
{
    while (n) {
        size_t k = one_byte ? 1 : n, done = 0;
        errno = 0;
        int rc = SSL_write_ex(c, p, k, &done);
        note("SSL_write_ex", rc);
        if (rc != 1) {
            wait_io(c, rc);
            continue;
        }
        p += done;
        n -= done;
    }
}

/* Reads one HTTP response (Content-Length or chunked) and prints its body. */
static void cli_read_response(SSL *c, int peek)
{
    static char buf[65536];
    size_t n = 0;
    char *end = NULL;

    for (;;) {
        if (end) {
            char *b = end + 4;
            char *cl = strcasestr(buf, "content-length:");
            if (cl && cl < end && n >= (size_t)(b - buf) + (size_t)strtol(cl + 15, NULL, 10))
                break;
            if (!cl && memmem(b, n - (size_t)(b - buf), "\r\n0\r\n\r\n", 7))
                break;
        }
        char tmp[8];
        if (peek) {
            errno = 0;
            int p = SSL_peek(c, tmp, 1);
            note("SSL_peek", p);
            if (p <= 0) {
                wait_io(c, p);
                continue;
            }
        }
        size_t got = 0;
        errno = 0;
        int rc = peek ? SSL_read(c, buf + n, 7) : SSL_read_ex(c, buf + n, sizeof(buf) - n - 1, &got);
        note(peek ? "SSL_read" : "SSL_read_ex", rc);
        if (rc <= 0) {
            wait_io(c, rc);
            continue;
        }
        n += peek ? (size_t)rc : got;
        buf[n] = '\0';
        if (!end)
            end = memmem(buf, n, "\r\n\r\n", 4);
    }
    fwrite(end + 4, 1, n - (size_t)(end + 4 - buf), stdout);
    putchar('\n');
}

static SSL *connect_pair(SSL_CTX *cctx, SSL_CTX *sctx, pthread_t *th)
{
    int sv[2];
    SSL *c, *s;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair");
    s = SSL_new(sctx);
    SSL_set_fd(s, sv[1]);
    pthread_create(th, NULL, server, s);
    c = SSL_new(cctx);
    SSL_set_fd(c, sv[0]);
    SSL_set_tlsext_host_name(c, "api.openai.com");
    if (SSL_connect(c) != 1)
        die("connect");
    if (nonblock)
        fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    return c;
}

static void request(SSL *c, const char *body, int one_byte, int peek)
{
    char head[512];

    snprintf(head, sizeof(head),
             "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
             "Authorization: Bearer sk-shimtest-0123456789abcdef\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
             strlen(body));
    cli_write(c, head, strlen(head), one_byte);
    cli_write(c, body, strlen(body), one_byte);
    cli_read_response(c, peek);
}

static SSL_CTX *server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *crt = X509_new();

    if (!ctx || !key || !crt)
        die("server ctx");
    ASN1_INTEGER_set(X509_get_serialNumber(crt), 1);
    X509_gmtime_adj(X509_getm_notBefore(crt), 0);
    X509_gmtime_adj(X509_getm_notAfter(crt), 3600);
    X509_set_pubkey(crt, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(crt), "CN", MBSTRING_ASC,
                               (const unsigned char *)"api.openai.com", -1, -1, 0);
    X509_set_issuer_name(crt, X509_get_subject_name(crt));
    if (!X509_sign(crt, key, EVP_sha256()) || SSL_CTX_use_certificate(ctx, crt) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key) != 1)
        die("certificate");
    X509_free(crt);
    EVP_PKEY_free(key);
    return ctx;
}

int main(int argc, char **argv)
{
    SSL_CTX *cctx, *sctx;
    pthread_t th;
    SSL *c;

    if (argc < 2)
        die("usage: ssl_pair basic|nonblock [trace]");
    nonblock = !strcmp(argv[1], "nonblock");
    trace = argc > 2 && !strcmp(argv[2], "trace");
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    sctx = server_ctx();
    cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);

    /* one keep-alive connection, two LLM calls */
    c = connect_pair(cctx, sctx, &th);
    request(c, "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
               "\"temperature\":0.5,\"max_tokens\":50}",
            1, 1);
    request(c, "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"stream_options\":{\"include_usage\":"
               "true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            0, 0);
    SSL_shutdown(c);
    SSL_free(c);
    pthread_join(th, NULL);

    /* a non-LLM connection: no record */
    c = connect_pair(cctx, sctx, &th);
    {
        const char *get = "GET /health HTTP/1.1\r\nHost: example.com\r\n\r\n";
        cli_write(c, get, strlen(get), 0);
        cli_read_response(c, 0);
    }
    SSL_shutdown(c);
    SSL_free(c);
    pthread_join(th, NULL);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return 0;
}
