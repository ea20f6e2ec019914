/* A program that ends with quick_exit() right after a streamed call, the
 * way Bun-built CLIs end every process: at_quick_exit handlers run, atexit
 * handlers do not, and the connection is never closed.
 *   qexit_client plain|tls PORT BODY_FILE VECTOR [CA]
 * Sends the body to api.openai.com's chat completions on 127.0.0.1:PORT,
 * reads the chunked response to its end, prints "handler" from an
 * at_quick_exit handler, and calls quick_exit(3). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void handler(void)
{
    fputs("handler\n", stdout);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static char body[1 << 20], head[512], resp[1 << 20];
    struct sockaddr_in sa = {.sin_family = AF_INET};
    SSL *ssl = NULL;
    size_t bn, got = 0;
    int fd, hn, tls;
    FILE *f;

    if (argc < 5)
        return 2;
    tls = !strcmp(argv[1], "tls");
    f = fopen(argv[3], "rb");
    if (!f)
        return 2;
    bn = fread(body, 1, sizeof(body), f);
    fclose(f);
    at_quick_exit(handler);
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
        return 2;
    if (tls) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (argc < 6 || !SSL_CTX_load_verify_locations(ctx, argv[5], NULL))
            return 2;
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, "api.openai.com");
        if (SSL_connect(ssl) != 1)
            return 2;
    }
    hn = snprintf(head, sizeof(head),
                  "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
                  "Content-Type: application/json\r\nX-Test-Vector: %s\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  argv[4], bn);
    if ((tls ? SSL_write(ssl, head, hn) : (int)write(fd, head, hn)) != hn ||
        (tls ? SSL_write(ssl, body, (int)bn) : (int)write(fd, body, bn)) != (int)bn)
        return 2;
    while (got < sizeof(resp) - 1) {
        int n = tls ? SSL_read(ssl, resp + got, (int)(sizeof(resp) - 1 - got))
                    : (int)read(fd, resp + got, sizeof(resp) - 1 - got);
        if (n <= 0)
            return 2;
        got += (size_t)n;
        resp[got] = '\0';
        if (strstr(resp, "\r\n0\r\n\r\n"))
            break;
    }
    quick_exit(3);
}
