/* bench_echo_server: loopback echo server for the instruction-count figure.
 * Two listeners, each served by its own thread, one connection at a time:
 * plain TCP (echoes whatever arrives) and TLS (echoes each SSL_read back with
 * SSL_write). The client speaks first with bytes that are not HTTP, so under
 * the shim both connections are classified "other" on their first write.
 * Never run under the shim or valgrind: only the client is measured.
 * Writes "TCP_PORT TLS_PORT\n" to the port file once both are listening.
 * usage: bench_echo_server --cert PEM --key PEM --port-file FILE */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static SSL_CTX *ctx;

static int listen_any(int *port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0)
        return -1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 16) ||
        getsockname(ls, (struct sockaddr *)&sa, &sl)) {
        close(ls);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return ls;
}

static int accept_one(int ls)
{
    int one = 1;

    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd >= 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            return fd;
        }
        if (errno != EINTR && errno != ECONNABORTED) {
            perror("bench_echo_server: accept");
            exit(1);
        }
    }
}

static void *serve_tcp(void *arg)
{
    int ls = (int)(intptr_t)arg;
    char buf[65536];

    for (;;) {
        int fd = accept_one(ls);
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
            for (ssize_t off = 0, w; off < n; off += w) {
                w = write(fd, buf + off, (size_t)(n - off));
                if (w <= 0)
                    goto done;
            }
        }
    done:
        close(fd);
    }
    return NULL;
}

static void *serve_tls(void *arg)
{
    int ls = (int)(intptr_t)arg;
    char buf[16384];

    for (;;) {
        int fd = accept_one(ls);
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            int n;
            while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
                if (SSL_write(ssl, buf, n) != n)
                    break;
            SSL_shutdown(ssl);
        }
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"cert", 1, 0, 'c'}, {"key", 1, 0, 'k'}, {"port-file", 1, 0, 'f'}, {0, 0, 0, 0}};
    const char *cert = NULL, *key = NULL, *port_file = NULL;
    int o, tcp_port = 0, tls_port = 0;
    pthread_t t1, t2;

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'f': port_file = optarg; break;
        default: return 2;
        }
    }
    if (!cert || !key || !port_file) {
        fputs("usage: bench_echo_server --cert PEM --key PEM --port-file FILE\n", stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    int tcp_ls = listen_any(&tcp_port), tls_ls = listen_any(&tls_port);
    if (tcp_ls < 0 || tls_ls < 0) {
        perror("bench_echo_server: listen");
        return 1;
    }
    if (pthread_create(&t1, NULL, serve_tcp, (void *)(intptr_t)tcp_ls) ||
        pthread_create(&t2, NULL, serve_tls, (void *)(intptr_t)tls_ls)) {
        fputs("bench_echo_server: pthread_create failed\n", stderr);
        return 1;
    }

    /* write then rename: the file appears complete */
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d %d\n", tcp_port, tls_port) < 0 || fclose(f) ||
        rename(tmp, port_file)) {
        perror("bench_echo_server: port file");
        return 1;
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    return 0;
}
