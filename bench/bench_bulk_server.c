/* bench_bulk_server: tiny loopback TLS server for the passthrough benchmark.
 * Answers "GET /bulk/<bytes>" with that many bytes of filler (Content-Length
 * framing, keep-alive) and anything else with 404. One connection at a time,
 * which is all the benchmark needs. Never run under the shim.
 * usage: bench_bulk_server --cert PEM --key PEM --port-file FILE */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char filler[65536];

static int write_all(SSL *ssl, const char *p, size_t n)
{
    size_t w;

    while (n) {
        if (SSL_write_ex(ssl, p, n, &w) != 1)
            return -1;
        p += w;
        n -= w;
    }
    return 0;
}

/* Read up to the end of a request head into buf; 0 on success. */
static int read_head(SSL *ssl, char *buf, size_t cap)
{
    size_t len = 0, got;

    while (len + 1 < cap) {
        if (SSL_read_ex(ssl, buf + len, cap - 1 - len, &got) != 1)
            return -1;
        len += got;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            return 0; /* the bench sends no request bodies */
    }
    return -1;
}

static void serve(SSL *ssl)
{
    char req[8192], head[256];
    unsigned long long n;

    while (!read_head(ssl, req, sizeof(req))) {
        if (sscanf(req, "GET /bulk/%llu ", &n) != 1) {
            static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            if (write_all(ssl, nf, sizeof(nf) - 1))
                return;
            continue;
        }
        int hn = snprintf(head, sizeof(head),
                          "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                          "Content-Length: %llu\r\n\r\n",
                          n);
        if (write_all(ssl, head, (size_t)hn))
            return;
        while (n) {
            size_t k = n < sizeof(filler) ? (size_t)n : sizeof(filler);
            if (write_all(ssl, filler, k))
                return;
            n -= k;
        }
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"cert", 1, 0, 'c'}, {"key", 1, 0, 'k'}, {"port-file", 1, 0, 'f'}, {0, 0, 0, 0}};
    const char *cert = NULL, *key = NULL, *port_file = NULL;
    int o;

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'f': port_file = optarg; break;
        default: return 2;
        }
    }
    if (!cert || !key || !port_file) {
        fputs("usage: bench_bulk_server --cert PEM --key PEM --port-file FILE\n", stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(filler, 'x', sizeof(filler));

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }

    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 16) ||
        getsockname(ls, (struct sockaddr *)&sa, &sl)) {
        perror("bench_bulk_server: listen");
        return 1;
    }

    /* write then rename: the file appears complete */
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) || rename(tmp, port_file)) {
        perror("bench_bulk_server: port file");
        return 1;
    }

    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("bench_bulk_server: accept");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            serve(ssl);
            SSL_shutdown(ssl);
        }
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
    }
}
