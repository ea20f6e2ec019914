/* An OpenAI chat client that has no libssl at start: it loads libssl.so.3
 * with dlopen() when it is about to make the call, then takes the functions
 * it needs with dlsym(), the way plug-in hosts and runtimes that make TLS
 * optional (.NET, Qt, ...) do. For tests/shim/test_loading.sh.
 *
 *   dlopen_client handle PORT CA BODY   dlopen(RTLD_NOW | RTLD_LOCAL), dlsym(handle, ...)
 *   dlopen_client global PORT CA BODY   dlopen(RTLD_NOW | RTLD_GLOBAL), dlsym(RTLD_DEFAULT, ...)
 *
 * Built with -DSTATIC_CLIENT (and -static) it is a statically linked client
 * that POSTs the same request over plaintext HTTP instead:
 *
 *   static_client PORT BODY
 *
 * Built with -DLOADER_LIB as a shared library it is a preloadable library
 * whose constructor dlopen()s the library named by $LLMOPS_TEST_SHIM
 * (RTLD_NOW | RTLD_GLOBAL): the shim loaded by another preloaded library.
 *
 * The request goes to 127.0.0.1:PORT as api.openai.com (SNI, Host; the
 * certificate is checked against CA), "POST /v1/chat/completions" with BODY
 * (a file) and Connection: close. Prints the status line and the response
 * body as received (everything after the header block; headers carry a
 * Date), so the output compares with and without the shim. Exit 0 when the
 * exchange completed, 1 otherwise. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef LOADER_LIB
__attribute__((constructor)) static void load_shim(void)
{
    const char *path = getenv("LLMOPS_TEST_SHIM");

    if (path && *path && !dlopen(path, RTLD_NOW | RTLD_GLOBAL))
        fprintf(stderr, "loader: dlopen %s: %s\n", path, dlerror());
}
#else /* the clients */

#define HOST "api.openai.com"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (!f)
        return NULL;
    do {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            if (!buf)
                exit(1);
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return buf;
}

static int tcp_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static char *request(const char *body_path, size_t *len)
{
    size_t blen, hlen;
    char *body = slurp(body_path, &blen), *req, head[512];

    if (!body) {
        perror(body_path);
        exit(1);
    }
    hlen = (size_t)snprintf(head, sizeof(head),
                            "POST /v1/chat/completions HTTP/1.1\r\nHost: " HOST "\r\n"
                            "Authorization: Bearer sk-dlopen-0123456789abcdefghij\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n",
                            blen);
    req = malloc(hlen + blen);
    if (!req)
        exit(1);
    memcpy(req, head, hlen);
    memcpy(req + hlen, body, blen);
    free(body);
    *len = hlen + blen;
    return req;
}

/* Print the status line and everything after the header block. */
static int show(const char *resp, size_t n)
{
    const char *eol = memmem(resp, n, "\r\n", 2), *end = memmem(resp, n, "\r\n\r\n", 4);

    if (!eol || !end) {
        fprintf(stderr, "incomplete response (%zu bytes)\n", n);
        return 1;
    }
    fwrite(resp, 1, (size_t)(eol - resp) + 1, stdout);
    putchar('\n');
    fwrite(end + 4, 1, n - (size_t)(end + 4 - resp), stdout);
    putchar('\n');
    return 0;
}

static void append(char **buf, size_t *n, size_t *cap, const char *p, size_t k)
{
    if (*n + k > *cap) {
        *cap = (*n + k) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf)
            exit(1);
    }
    memcpy(*buf + *n, p, k);
    *n += k;
}

#ifdef STATIC_CLIENT
int main(int argc, char **argv)
{
    size_t len, n = 0, cap = 0;
    char *req, *resp = NULL, piece[4096];
    ssize_t r;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: static_client PORT BODY\n");
        return 2;
    }
    req = request(argv[2], &len);
    fd = tcp_connect(atoi(argv[1]));
    if (write(fd, req, len) != (ssize_t)len) {
        perror("write");
        return 1;
    }
    while ((r = read(fd, piece, sizeof(piece))) > 0)
        append(&resp, &n, &cap, piece, (size_t)r);
    close(fd);
    return show(resp, n);
}
#else
/* The libssl functions used, by name; nothing of OpenSSL is linked. */
struct ssl_api {
    int (*OPENSSL_init_ssl)(unsigned long long, const void *);
    const void *(*TLS_client_method)(void);
    void *(*SSL_CTX_new)(const void *);
    int (*SSL_CTX_load_verify_locations)(void *, const char *, const char *);
    void (*SSL_CTX_set_verify)(void *, int, void *);
    void *(*SSL_new)(void *);
    int (*SSL_set_fd)(void *, int);
    long (*SSL_ctrl)(void *, int, long, void *);
    int (*SSL_set1_host)(void *, const char *);
    int (*SSL_connect)(void *);
    int (*SSL_write)(void *, const void *, int);
    int (*SSL_read)(void *, void *, int);
    int (*SSL_shutdown)(void *);
    void (*SSL_free)(void *);
    void (*SSL_CTX_free)(void *);
    long (*SSL_get_verify_result)(const void *);
};

#define SSL_VERIFY_PEER 1
#define SSL_CTRL_SET_TLSEXT_HOSTNAME 55
#define TLSEXT_NAMETYPE_host_name 0

int main(int argc, char **argv)
{
    struct ssl_api s;
    void *lib, *from, *ctx, *ssl;
    size_t len, n = 0, cap = 0;
    char *req, *resp = NULL, piece[4096];
    int fd, r, global;

    if (argc != 5 || (strcmp(argv[1], "handle") && strcmp(argv[1], "global"))) {
        fprintf(stderr, "usage: dlopen_client handle|global PORT CA BODY\n");
        return 2;
    }
    global = !strcmp(argv[1], "global");
    /* libssl is not loaded yet (the shim's test checks that it is not a
     * dependency of this program) */
    lib = dlopen("libssl.so.3", RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    from = global ? RTLD_DEFAULT : lib;
#define SYM(name)                                                                                 \
    do {                                                                                          \
        *(void **)&s.name = dlsym(from, #name);                                                   \
        if (!s.name) {                                                                            \
            fprintf(stderr, "dlsym %s: %s\n", #name, dlerror());                                  \
            return 1;                                                                             \
        }                                                                                         \
    } while (0)
    SYM(OPENSSL_init_ssl);
    SYM(TLS_client_method);
    SYM(SSL_CTX_new);
    SYM(SSL_CTX_load_verify_locations);
    SYM(SSL_CTX_set_verify);
    SYM(SSL_new);
    SYM(SSL_set_fd);
    SYM(SSL_ctrl);
    SYM(SSL_set1_host);
    SYM(SSL_connect);
    SYM(SSL_write);
    SYM(SSL_read);
    SYM(SSL_shutdown);
    SYM(SSL_free);
    SYM(SSL_CTX_free);
    SYM(SSL_get_verify_result);
#undef SYM
    /* say where SSL_write came from: libssl itself, or an interposer */
    {
        Dl_info info;
        if (dladdr(*(void **)&s.SSL_write, &info) && info.dli_fname)
            fprintf(stderr, "SSL_write from %s\n", info.dli_fname);
    }

    s.OPENSSL_init_ssl(0, NULL);
    ctx = s.SSL_CTX_new(s.TLS_client_method());
    if (!ctx || s.SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1) {
        fprintf(stderr, "cannot set up the TLS context with CA %s\n", argv[3]);
        return 1;
    }
    s.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    req = request(argv[4], &len);
    fd = tcp_connect(atoi(argv[2]));
    ssl = s.SSL_new(ctx);
    s.SSL_set_fd(ssl, fd);
    s.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)HOST);
    s.SSL_set1_host(ssl, HOST);
    if (s.SSL_connect(ssl) != 1 || s.SSL_get_verify_result(ssl) != 0) {
        fprintf(stderr, "TLS handshake failed\n");
        return 1;
    }
    if (s.SSL_write(ssl, req, (int)len) != (int)len) {
        fprintf(stderr, "SSL_write failed\n");
        return 1;
    }
    while ((r = s.SSL_read(ssl, piece, sizeof(piece))) > 0)
        append(&resp, &n, &cap, piece, (size_t)r);
    s.SSL_shutdown(ssl);
    s.SSL_free(ssl);
    s.SSL_CTX_free(ctx);
    close(fd);
    free(req);
    return show(resp, n);
}
#endif /* STATIC_CLIENT */
#endif /* LOADER_LIB */
