/* A program that exports its own SSL_write, SSL_read and SSL_free (as node
 * does), for the shim's inline hooks (test_inline.sh). The functions are
 * long enough to patch unless built with -DSHORT_FUNCS (then each is a few
 * bytes: the shim must refuse). Prints what each call returns; with
 * `threads SHIM`, it starts a thread and only then dlopens SHIM (the shim
 * must refuse to patch a process that already has threads). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default"), noinline, used))

int SSL_write(void *s, const void *b, int n);
int SSL_read(void *s, void *b, int n);
void SSL_free(void *s);

#ifdef SHORT_FUNCS
EXPORT int SSL_write(void *s, const void *b, int n)
{
    (void)s, (void)b, (void)n;
    return 0;
}
EXPORT int SSL_read(void *s, void *b, int n)
{
    (void)s, (void)b, (void)n;
    return 0;
}
EXPORT void SSL_free(void *s)
{
    (void)s;
}
#else
static volatile int sink;

EXPORT int SSL_write(void *s, const void *b, int n)
{
    int sum = 0;
    if (!s || n < 0)
        return -1;
    for (int i = 0; i < n; i++)
        sum += ((const unsigned char *)b)[i];
    sink = sum;
    return n;
}

EXPORT int SSL_read(void *s, void *b, int n)
{
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    int k = n < (int)sizeof(reply) - 1 ? n : (int)sizeof(reply) - 1;
    if (!s)
        return -1;
    memcpy(b, reply, (size_t)k);
    return k;
}

EXPORT void SSL_free(void *s)
{
    if (s)
        sink = *(int *)s;
}
#endif

static void *idle(void *arg)
{
    (void)arg;
    sleep(2);
    return NULL;
}

int main(int argc, char **argv)
{
    static const char req[] = "GET /health HTTP/1.1\r\nHost: example.invalid\r\n\r\n";
    int conn = 42;
    char buf[128];
    pthread_t t;

    if (argc == 3 && !strcmp(argv[1], "threads")) {
        pthread_create(&t, NULL, idle, NULL);
        if (!dlopen(argv[2], RTLD_NOW | RTLD_GLOBAL))
            return 3;
    }
    printf("write %d\n", SSL_write(&conn, req, (int)strlen(req)));
    printf("read %d\n", SSL_read(&conn, buf, sizeof(buf)));
    printf("write NULL %d\n", SSL_write(NULL, req, 3));
    SSL_free(&conn);
    printf("freed\n");
    return 0;
}
