/* bench_client: the measured process of the llmops benchmark. One keep-alive
 * TLS connection (OpenSSL, linked normally, so LD_PRELOAD of the shim
 * interposes SSL_read_ex/SSL_write_ex) to a loopback server, then either
 *   --calls N --body FILE   N identical POSTs (a recorded streamed chat
 *                           completion), each response read to its end, or
 *   --bulk BYTES            one GET of BYTES bytes of non-LLM data.
 * It prints one "key=value ..." line twice: at the end of main ("main") and
 * from an atexit handler registered first, which therefore runs after the
 * shim's own exit handler has flushed the collector ("exit"). cpu_s is
 * getrusage(RUSAGE_SELF): all threads, including the shim's collector;
 * main_thread_cpu_s is RUSAGE_THREAD of the main thread alone (the app side:
 * TLS, our parsing, the shim's hooks), so the difference is the collector. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF 65536

struct conn {
    SSL *ssl;
    char buf[RBUF];
    size_t pos, len;
};

static double t_start;
static long calls_done;
static unsigned long long bytes_in;

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench_client: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    ERR_print_errors_fp(stderr);
    _exit(2);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void report(const char *when)
{
    struct rusage ru, rt;

    getrusage(RUSAGE_SELF, &ru);
    getrusage(RUSAGE_THREAD, &rt);
    printf("%s calls=%ld bytes_in=%llu wall_s=%.6f user_s=%.6f sys_s=%.6f cpu_s=%.6f "
           "main_thread_cpu_s=%.6f maxrss_kb=%ld vcsw=%ld ivcsw=%ld\n",
           when, calls_done, bytes_in, now() - t_start, tv_s(ru.ru_utime), tv_s(ru.ru_stime),
           tv_s(ru.ru_utime) + tv_s(ru.ru_stime), tv_s(rt.ru_utime) + tv_s(rt.ru_stime),
           ru.ru_maxrss, ru.ru_nvcsw, ru.ru_nivcsw);
    fflush(stdout);
}

static void report_exit(void)
{
    report("exit");
}

/* Refill the buffer; 0 at EOF. */
static size_t fill(struct conn *c)
{
    size_t got = 0;

    c->pos = c->len = 0;
    if (SSL_read_ex(c->ssl, c->buf, sizeof(c->buf), &got) != 1) {
        int e = SSL_get_error(c->ssl, 0);
        if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL)
            return 0;
        die("SSL_read_ex failed (%d)", e);
    }
    bytes_in += got;
    c->len = got;
    return got;
}

/* One line without its CRLF into out (NUL-terminated, truncated to n-1). */
static void read_line(struct conn *c, char *out, size_t n)
{
    size_t k = 0;

    for (;;) {
        if (c->pos == c->len && !fill(c))
            die("connection closed inside a header line");
        char ch = c->buf[c->pos++];
        if (ch == '\n')
            break;
        if (k + 1 < n)
            out[k++] = ch;
    }
    if (k && out[k - 1] == '\r')
        k--;
    out[k] = '\0';
}

/* Consume exactly n body bytes. */
static void skip(struct conn *c, unsigned long long n)
{
    while (n) {
        if (c->pos == c->len && !fill(c))
            die("connection closed inside a body (%llu bytes short)", n);
        size_t k = c->len - c->pos;
        if (k > n)
            k = (size_t)n;
        c->pos += k;
        n -= k;
    }
}

/* Read one response to its end; returns the status. */
static int read_response(struct conn *c)
{
    char line[8192];
    int status = 0, chunked = 0;
    long long clen = -1;

    read_line(c, line, sizeof(line));
    if (sscanf(line, "HTTP/1.%*d %d", &status) != 1)
        die("bad status line: %.80s", line);
    for (;;) {
        read_line(c, line, sizeof(line));
        if (!line[0])
            break;
        if (!strncasecmp(line, "content-length:", 15))
            clen = atoll(line + 15);
        else if (!strncasecmp(line, "transfer-encoding:", 18) && strcasestr(line, "chunked"))
            chunked = 1;
    }
    if (chunked) {
        for (;;) {
            read_line(c, line, sizeof(line));
            unsigned long long n = strtoull(line, NULL, 16);
            if (!n)
                break;
            skip(c, n);
            read_line(c, line, sizeof(line)); /* CRLF after the data */
        }
        do /* trailers up to the empty line */
            read_line(c, line, sizeof(line));
        while (line[0]);
    } else if (clen > 0) {
        skip(c, (unsigned long long)clen);
    } else if (clen < 0) {
        die("response without length or chunked framing");
    }
    return status;
}

static void write_all(SSL *ssl, const char *p, size_t n)
{
    size_t w;

    while (n) {
        if (SSL_write_ex(ssl, p, n, &w) != 1)
            die("SSL_write_ex failed");
        p += w;
        n -= w;
    }
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long sz;

    if (!f || fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
        die("cannot read %s: %s", path, strerror(errno));
    p = malloc((size_t)sz + 1);
    if (!p || fread(p, 1, (size_t)sz, f) != (size_t)sz)
        die("cannot read %s", path);
    fclose(f);
    p[sz] = '\0';
    *n = (size_t)sz;
    return p;
}

static void usage(void)
{
    fputs("usage: bench_client --port P --ca PEM [--host SNI] [--path P]\n"
          "         (--calls N --body FILE [--vector NAME] | --bulk BYTES)\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", 1, 0, 'p'},  {"ca", 1, 0, 'c'},   {"host", 1, 0, 'h'}, {"path", 1, 0, 'P'},
        {"calls", 1, 0, 'n'}, {"body", 1, 0, 'b'}, {"vector", 1, 0, 'v'},
        {"bulk", 1, 0, 'B'},  {0, 0, 0, 0},
    };
    const char *ca = NULL, *host = "api.openai.com", *path = NULL, *body_file = NULL;
    const char *vector = NULL;
    long calls = 0;
    unsigned long long bulk = 0;
    int port = 0, o;

    atexit(report_exit); /* first registered: runs after the shim's handler */
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p': port = atoi(optarg); break;
        case 'c': ca = optarg; break;
        case 'h': host = optarg; break;
        case 'P': path = optarg; break;
        case 'n': calls = atol(optarg); break;
        case 'b': body_file = optarg; break;
        case 'v': vector = optarg; break;
        case 'B': bulk = strtoull(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (!port || !ca || (calls > 0) == (bulk > 0) || (calls > 0 && !body_file))
        usage();

    t_start = now();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        die("cannot set up TLS with CA %s", ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        die("connect 127.0.0.1:%d: %s", port, strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    static struct conn c;
    c.ssl = SSL_new(ctx);
    SSL_set_fd(c.ssl, fd);
    SSL_set_tlsext_host_name(c.ssl, host);
    SSL_set1_host(c.ssl, host);
    if (SSL_connect(c.ssl) != 1)
        die("TLS handshake with %s failed", host);

    char head[2048];
    int hn, status;
    if (calls > 0) {
        size_t blen;
        char *body = read_file(body_file, &blen);
        char vh[256] = "";
        if (vector)
            snprintf(vh, sizeof(vh), "X-Test-Vector: %s\r\n", vector);
        hn = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: llmops-bench/1\r\n"
                      "Authorization: Bearer sk-bench-0000000000000000\r\n"
                      "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                      "%sContent-Length: %zu\r\n\r\n",
                      path ? path : "/v1/chat/completions", host, vh, blen);
        /* header and body in one buffer: one SSL_write_ex per call */
        char *req = malloc((size_t)hn + blen);
        if (!req)
            die("out of memory");
        memcpy(req, head, (size_t)hn);
        memcpy(req + hn, body, blen);
        for (long i = 0; i < calls; i++) {
            write_all(c.ssl, req, (size_t)hn + blen);
            if ((status = read_response(&c)) != 200)
                die("call %ld: HTTP %d", i, status);
            calls_done++;
        }
        free(req);
        free(body);
    } else {
        hn = snprintf(head, sizeof(head),
                      "GET %s/%llu HTTP/1.1\r\nHost: %s\r\nUser-Agent: llmops-bench/1\r\n\r\n",
                      path ? path : "/bulk", bulk, host);
        write_all(c.ssl, head, (size_t)hn);
        if ((status = read_response(&c)) != 200)
            die("bulk: HTTP %d", status);
    }
    SSL_shutdown(c.ssl);
    SSL_free(c.ssl);
    close(fd);
    SSL_CTX_free(ctx);
    report("main");
    return 0;
}
