/* bench_io: the process whose instructions bench/run.sh counts with
 * valgrind --tool=callgrind, to price one hooked call on NON-LLM traffic.
 * After one untimed warm-up round (so that first-call symbol resolution and
 * classification land in the N=0 baseline too) it does N rounds of:
 *   tcp   write() + read() of SIZE bytes on a loopback TCP connection (made
 *         with connect(), so the shim tracks the fd) to an echo server;
 *   tls   SSL_write() + SSL_read() of SIZE bytes on a TLS connection to an
 *         echo server (OpenSSL linked normally, so SSL_* are interposed and
 *         their read()/write() on the fd run inside the hook);
 *   file  write() + lseek() + read() of SIZE bytes on a regular file: an fd
 *         that never went through connect(). With --connect PORT a TCP
 *         connection is opened (and left idle) first, so the shim's fd table
 *         exists and each call pays the bounds check and byte load; without
 *         it the table is never mapped.
 * The payload is a Redis-style command ("*1\r\n$4\r\nPING\r\n" padded): it can
 * begin neither an HTTP request nor a TLS record, so every connection is
 * classified "other" on its first write (the TLS connection's socket by its
 * ClientHello, whose SNI is "localhost").
 * Prints one line: mode= n= size= calls= (hooked calls made, warm-up included).
 * usage: bench_io (tcp|tls|file) --n N [--size B] [--port P] [--ca PEM]
 *                 [--connect PORT] [--file PATH] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXSIZE 16384

static long calls;

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench_io: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        die("connect 127.0.0.1:%d: %s", port, strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void tcp_round(int fd, const char *out, char *in, size_t size)
{
    size_t got = 0;

    calls++;
    if (write(fd, out, size) != (ssize_t)size)
        die("short write");
    while (got < size) {
        ssize_t n = read(fd, in + got, size - got);
        calls++;
        if (n <= 0)
            die("read: %s", n ? strerror(errno) : "EOF");
        got += (size_t)n;
    }
}

static void tls_round(SSL *ssl, const char *out, char *in, size_t size)
{
    size_t got = 0;

    calls++;
    if (SSL_write(ssl, out, (int)size) != (int)size)
        die("SSL_write failed");
    while (got < size) {
        int n = SSL_read(ssl, in + got, (int)(size - got));
        calls++;
        if (n <= 0)
            die("SSL_read failed (%d)", SSL_get_error(ssl, n));
        got += (size_t)n;
    }
}

static void file_round(int fd, const char *out, char *in, size_t size)
{
    calls += 2;
    if (write(fd, out, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0 ||
        read(fd, in, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
        die("file I/O: %s", strerror(errno));
}

static void usage(void)
{
    fputs("usage: bench_io (tcp|tls|file) --n N [--size B] [--port P] [--ca PEM]\n"
          "                [--connect PORT] [--file PATH]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"n", 1, 0, 'n'},       {"size", 1, 0, 's'}, {"port", 1, 0, 'p'}, {"ca", 1, 0, 'c'},
        {"connect", 1, 0, 'C'}, {"file", 1, 0, 'f'}, {0, 0, 0, 0},
    };
    static char out[MAXSIZE], in[MAXSIZE];
    const char *ca = NULL, *file = NULL, *mode;
    long n = -1, size = 64;
    int port = 0, idle_port = 0, o;

    if (argc < 2)
        usage();
    mode = argv[1];
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'n': n = atol(optarg); break;
        case 's': size = atol(optarg); break;
        case 'p': port = atoi(optarg); break;
        case 'c': ca = optarg; break;
        case 'C': idle_port = atoi(optarg); break;
        case 'f': file = optarg; break;
        default: usage();
        }
    }
    if (n < 0 || size < 1 || size > MAXSIZE)
        usage();
    static const char cmd[] = "*1\r\n$4\r\nPING\r\n";
    for (long i = 0; i < size; i++)
        out[i] = i < (long)sizeof(cmd) - 1 ? cmd[i] : (char)('a' + i % 26);

    if (!strcmp(mode, "tcp")) {
        if (!port)
            usage();
        int fd = tcp_connect(port);
        for (long i = 0; i <= n; i++) /* i == 0: the warm-up round */
            tcp_round(fd, out, in, (size_t)size);
        close(fd);
    } else if (!strcmp(mode, "tls")) {
        if (!port || !ca)
            usage();
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
            die("cannot set up TLS with CA %s", ca);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int fd = tcp_connect(port);
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, "localhost");
        if (SSL_connect(ssl) != 1)
            die("TLS handshake failed");
        for (long i = 0; i <= n; i++)
            tls_round(ssl, out, in, (size_t)size);
        SSL_shutdown(ssl);
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
    } else if (!strcmp(mode, "file")) {
        if (!file)
            usage();
        int idle = idle_port ? tcp_connect(idle_port) : -1;
        int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0)
            die("open %s: %s", file, strerror(errno));
        for (long i = 0; i <= n; i++)
            file_round(fd, out, in, (size_t)size);
        close(fd);
        unlink(file);
        if (idle >= 0)
            close(idle);
    } else {
        usage();
    }
    printf("mode=%s n=%ld size=%ld calls=%ld\n", mode, n, size, calls);
    return 0;
}
