/* Helpers shared by the llmops subcommands: the error line and read-only
 * store access. Invariant: a failing call prints exactly one line, so a
 * subcommand that relays the code must not print again.
 *
 * LMDB reads the store through a shared mapping; if data.mdb is shorter than
 * its own meta pages claim (truncated by hand, a full disk, a copy cut short)
 * touching a page past the end raises SIGBUS. That is a damaged store, not a
 * bug in the tool, so it gets the same one-line report as any other. */
#include "cli.h"
#include "err.h"
#include "store.h"
#include "util.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char bus_msg[512];
static size_t bus_len;

void llm_cli_error(int rc, const char *fmt, ...)
{
    char what[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    fprintf(stderr, "llmops: %s: %s\n", what, llm_strerror(rc));
}

static void on_sigbus(int sig)
{
    /* only async-signal-safe calls: the message was formatted in advance */
    (void)sig;
    if (write(STDERR_FILENO, bus_msg, bus_len) < 0) {
        /* nothing left to tell anyone */
    }
    _exit(1);
}

static void guard_mapping(const char *db)
{
    struct sigaction sa;
    int n = snprintf(bus_msg, sizeof(bus_msg), "llmops: read database %s: %s\n", db,
                     llm_strerror(LLM_ECORRUPT));

    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(bus_msg)) { /* keep the newline on a cut message */
        n = sizeof(bus_msg) - 1;
        bus_msg[n - 1] = '\n';
    }
    bus_len = (size_t)n;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

int llm_cli_open(const char *db, struct llm_store **out)
{
    int rc;

    guard_mapping(db);
    rc = llm_store_open(db, LLM_STORE_RDONLY, out);
    if (rc)
        llm_cli_error(rc, "open database %s", db);
    return rc;
}

void llm_cli_key_name(const void *key, size_t klen, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *k = key;
    size_t o;

    if (klen == 16) {
        char ulid[LLM_ULID_LEN];
        llm_ulid_format(k, ulid);
        snprintf(out, n, "record %s", ulid);
        return;
    }
    o = (size_t)snprintf(out, n, "record with key 0x");
    if (o >= n)
        return;
    for (size_t i = 0; i < klen && o + 2 < n; i++) {
        out[o++] = hex[k[i] >> 4];
        out[o++] = hex[k[i] & 15];
    }
    if (o < n)
        out[o] = '\0';
}

void llm_cli_real(double d, char *out, size_t n)
{
    int len = snprintf(out, n, "%.15g", d);

    if (len > 0 && (size_t)len + 2 < n && !strpbrk(out, ".eEni")) /* not 1e+20, inf, nan */
        memcpy(out + len, ".0", 3);
}
