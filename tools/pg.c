/* Connecting to PostgreSQL and reporting its failures. Invariants: the
 * password never reaches a message or a name (llm_pg_redact is applied to
 * the URL before anything is printed or stored; libpq's own messages carry
 * it only when quoting a value it cannot decode, and that is starred out);
 * every failure is described on one line (libpq's messages
 * span lines and indent with tabs); libpq's NOTICEs ("relation already
 * exists, skipping") are silenced, since stderr is for the one error line.
 * The client encoding is forced to UTF-8, what the records are. */
#include "pg.h"
#include "err.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT "10" /* seconds, unless the URL says otherwise */

int llm_pg_is_url(const char *s)
{
    return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11);
}

static void put(char *out, size_t n, size_t *o, const char *s, size_t len)
{
    while (len-- && *o + 1 < n)
        out[(*o)++] = *s++;
    out[*o] = '\0';
}

/* Is the query parameter p (up to its '=' or '&') "password", percent-decoded
 * as libpq decodes it? */
static int is_password_param(const char *p, size_t len)
{
    static const char want[] = "password";
    size_t i = 0, k = 0;

    while (i < len && p[i] != '=') {
        int c = (unsigned char)p[i];
        if (c == '%' && i + 2 < len && isxdigit((unsigned char)p[i + 1]) &&
            isxdigit((unsigned char)p[i + 2])) {
            char hex[3] = {p[i + 1], p[i + 2], '\0'};
            c = (int)strtol(hex, NULL, 16);
            i += 2;
        }
        if (k >= sizeof(want) - 1 || c != want[k++])
            return 0;
        i++;
    }
    return k == sizeof(want) - 1;
}

void llm_pg_redact(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://"), *q;
    size_t o = 0, len;
    int first = 1;

    if (!n)
        return;
    out[0] = '\0';
    if (!p) {
        put(out, n, &o, url, strlen(url));
        return;
    }
    p += 3;
    put(out, n, &o, url, (size_t)(p - url));
    len = strcspn(p, "@/"); /* as libpq: user info ends at the first '@' before any '/' */
    if (p[len] == '@') {
        put(out, n, &o, p, strcspn(p, ":@"));
        put(out, n, &o, "@", 1);
        p += len + 1;
    }
    q = strchr(p, '?');
    if (!q) {
        put(out, n, &o, p, strlen(p));
        return;
    }
    put(out, n, &o, p, (size_t)(q - p));
    for (p = q + 1; *p; p += len + (p[len] == '&')) {
        len = strcspn(p, "&");
        if (!len || is_password_param(p, len))
            continue;
        put(out, n, &o, first ? "?" : "&", 1);
        put(out, n, &o, p, len);
        first = 0;
    }
}

/* Calls fn with each password in url: the user part's, password= values. */
static void each_password(const char *url, void (*fn)(const char *p, size_t len, char *msg),
                          char *msg)
{
    const char *p = url ? strstr(url, "://") : NULL;
    size_t len;

    if (!p)
        return;
    p += 3;
    len = strcspn(p, "@/");
    if (p[len] == '@' && memchr(p, ':', len)) {
        const char *colon = memchr(p, ':', len);
        fn(colon + 1, (size_t)(p + len - colon - 1), msg);
    }
    for (p = strchr(p, '?'); p && *p; p += len) {
        p++;
        len = strcspn(p, "&");
        if (is_password_param(p, len) && memchr(p, '=', len)) {
            const char *eq = memchr(p, '=', len);
            fn(eq + 1, (size_t)(p + len - eq - 1), msg);
        }
    }
}

/* libpq quotes a value it cannot decode, a password included: star it out. */
static void mask(const char *secret, size_t len, char *msg)
{
    char *hit;

    while (len && (hit = memmem(msg, strlen(msg), secret, len)))
        memset(hit, '*', len);
}

/* s on one line: runs of whitespace become one space, none at the ends. */
static void one_line(char *s)
{
    char *w = s;
    int space = 0;

    for (char *r = s; *r; r++) {
        if (isspace((unsigned char)*r)) {
            space = w != s;
            continue;
        }
        if (space)
            *w++ = ' ';
        space = 0;
        *w++ = *r;
    }
    *w = '\0';
}

int llm_pg_error(struct llm_pg *pg, const PGresult *res)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (!msg || !*msg)
        msg = pg->conn ? PQerrorMessage(pg->conn) : "out of memory";
    if (!*msg)
        msg = "unexpected reply";
    snprintf(pg->what, pg->n, "%s: %s", pg->name, msg);
    each_password(pg->url, mask, pg->what);
    one_line(pg->what);
    return LLM_ESTORE;
}

int llm_pg_exec(struct llm_pg *pg, const char *sql)
{
    PGresult *res;
    int rc = 0;

    if (!sql) {
        snprintf(pg->what, pg->n, "%s", pg->name);
        return LLM_ENOMEM;
    }
    res = PQexec(pg->conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = llm_pg_error(pg, res);
    PQclear(res);
    return rc;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int llm_pg_connect(const char *url, struct llm_pg *pg, char *what, size_t n)
{
    /* before dbname: the URL may override them; after it: it may not */
    static const char *const keys[] = {"connect_timeout", "application_name", "dbname",
                                       "client_encoding", NULL};
    const char *values[] = {CONNECT_TIMEOUT, "llmops", url, "UTF8", NULL};
    PGconn *c;

    memset(pg, 0, sizeof(*pg));
    pg->what = what;
    pg->n = n;
    pg->url = url;
    llm_pg_redact(url, pg->name, sizeof(pg->name));
    c = PQconnectdbParams(keys, values, 1);
    pg->conn = c;
    if (!c) {
        snprintf(what, n, "%s", pg->name);
        return LLM_ENOMEM;
    }
    if (PQstatus(c) != CONNECTION_OK)
        return llm_pg_error(pg, NULL);
    PQsetNoticeProcessor(c, quiet, NULL);
    return 0;
}

void llm_pg_close(struct llm_pg *pg)
{
    if (pg->in_batch)
        llm_pg_batch_abort(pg);
    PQfinish(pg->conn);
    pg->conn = NULL;
    free(pg->row);
    pg->row = NULL;
    pg->cap = 0;
}
