/* `llmops serve`: the dashboard, live. libmicrohttpd answers; each request
 * is its own LMDB read transaction (dash_agg.c; MDB_NOTLS), so writers
 * keep writing and the next request sees their records. The main thread
 * only waits for SIGINT/SIGTERM, then cancels running scans, stops the
 * daemon and closes the store.
 *
 * A thread per connection (MHD_USE_THREAD_PER_CONNECTION), so the page and
 * the count it polls answer while a long scan runs; scans and record reads
 * take work_lock, one at a time (the price table and the stats sort are not
 * meant for concurrent use), the store's lazy open takes open_lock.
 *
 * Endpoints (GET): / the page; /api/summary, /api/calls, /api/record?id=,
 * /api/version (the record count the page polls twice a second). Query
 * parameters are the filter options' names; anything else is a 400 with a
 * JSON {"error": ...}. A store that cannot be opened is a 503 with the
 * reason (an HTML page for /), tried again on the next request. */
#include "cli.h"
#include "cmd.h"
#include "cost.h"
#include "dash_agg.h"
#include "dash_page.h"
#include "err.h"
#include "store.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MAX 500

static const char usage[] =
    "usage: llmops serve [--db DIR] [--listen ADDR:PORT] [--prices FILE]\n"
    "\n"
    "Serves the dashboard over the database on http://ADDR:PORT/ (prints the\n"
    "URL): calls, errors, latency and TTFT percentiles, tokens, cost, agents\n"
    "and every call's record, with filters in the URL. Read live: calls\n"
    "recorded while the page is open appear within about a second. Stops on\n"
    "SIGINT or SIGTERM.\n"
    "\n"
    "  --db DIR          the database directory (default: see 'llmops help')\n"
    "  --listen A:P      the IPv4 address and port to listen on (default\n"
    "                    127.0.0.1:8750; port 0 picks a free one). Only\n"
    "                    loopback unless you say otherwise: the page shows\n"
    "                    prompts and responses\n" LLM_PRICES_HELP
    "  -h, --help        show this help\n";

enum { OPT_LISTEN = LLM_CO_OWN };

static const struct option opts[] = {
    LLM_CMD_DB_OPT,     LLM_CMD_PRICES_OPT,
    LLM_CMD_HELP_OPT,   {"listen", required_argument, NULL, OPT_LISTEN},
    {NULL, 0, NULL, 0},
};

struct server {
    struct sockaddr_in addr;
    const char *db;
    struct llm_store *st;
    pthread_mutex_t open_lock, work_lock;
    int opened_once;
    int64_t checked_ns; /* last mdb_reader_check of the kept store */
    char open_err[1200];
    /* one cached summary: the same query on an unchanged store */
    char *cache_key, *cache_text;
    size_t cache_len, cache_count;
};

static int own_opt(void *arg, int c, const char *val, char *why, size_t n)
{
    struct server *sv = arg;
    char host[64];
    const char *colon = strrchr(val, ':');
    char *end;
    long port;

    if (c != OPT_LISTEN)
        return LLM_EINVAL;
    if (!colon || (size_t)(colon - val) >= sizeof(host))
        goto bad;
    memcpy(host, val, (size_t)(colon - val));
    host[colon - val] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
        goto bad;
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &sv->addr.sin_addr) != 1)
        goto bad;
    sv->addr.sin_port = htons((uint16_t)port);
    return 0;
bad:
    snprintf(why, n, "--listen wants an IPv4 ADDR:PORT such as 127.0.0.1:8750, not '%s'", val);
    return LLM_EINVAL;
}

/* The store, opened on first use and kept; NULL with open_err set. */
static struct llm_store *store(struct server *sv, char *err, size_t n)
{
    int rc;

    struct llm_store *st;

    pthread_mutex_lock(&sv->open_lock);
    if (sv->st) {
        /* serve holds the store open for days: free, every 5 s at most, the
         * slots of readers that died meanwhile (tail.c does the same) */
        int64_t now = llm_mono_ns();
        if (now - sv->checked_ns > 5000000000LL) {
            sv->checked_ns = now;
            llm_store_reader_check(sv->st);
        }
        goto out;
    }
    if (!sv->opened_once) { /* the first try arms the SIGBUS guard and says why */
        sv->opened_once = 1;
        rc = llm_cli_open(sv->db, &sv->st);
    } else {
        rc = llm_store_open(sv->db, LLM_STORE_RDONLY, &sv->st);
    }
    if (rc) {
        sv->st = NULL;
        snprintf(sv->open_err, sizeof(sv->open_err), "cannot open database %s: %s", sv->db,
                 llm_strerror(rc));
    }
out:
    st = sv->st;
    if (!st)
        snprintf(err, n, "%s", sv->open_err);
    pthread_mutex_unlock(&sv->open_lock);
    return st;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
                               char *body, size_t len)
{
    /* the page is the one body not allocated per response */
    int page = body == llm_dash_page;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, page ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ret;

    if (!r) {
        if (!page)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *j)
{
    char *text = NULL;
    size_t len = 0;

    if (!j || llm_dash_json_text(j, &text, &len)) {
        json_decref(j);
        return respond(conn, 500, "text/plain", strdup("out of memory"), 13);
    }
    json_decref(j);
    return respond(conn, status, "application/json", text, len);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    return send_json(conn, status, json_pack("{ss}", "error", msg));
}

/* An HTML page saying what is wrong, the message as escaped text. */
static enum MHD_Result send_error_page(struct MHD_Connection *conn, unsigned status,
                                       const char *msg)
{
    static const char head[] =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>llmops: error</title>"
        "<style>body{font:15px system-ui,sans-serif;margin:3em auto;max-width:44em;color:#1f2937}"
        "h1{font-size:20px;color:#b91c1c}code{background:#f3f4f6;padding:2px 5px}</style></head>"
        "<body><h1>llmops dashboard: the database cannot be read</h1><p><code>";
    static const char tail[] = "</code></p><p>Check <code>--db</code> (or "
                               "<code>$LLMOPS_DB</code>) and reload this page.</p></body></html>";
    size_t n = strlen(msg), k = 0;
    char *b = malloc(sizeof(head) + sizeof(tail) + n * 6);

    if (!b)
        return MHD_NO;
    k = (size_t)sprintf(b, "%s", head);
    for (const char *p = msg; *p; p++) {
        const char *e = *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;" : NULL;
        if (e)
            k += (size_t)sprintf(b + k, "%s", e);
        else
            b[k++] = *p;
    }
    k += (size_t)sprintf(b + k, "%s", tail);
    return respond(conn, status, "text/html; charset=utf-8", b, k);
}

struct req {
    struct llm_filter f;
    size_t offset, rows;
    const char *id;
    int bad;
    char why[512];
    char key[2048]; /* the parameters as given: the cache's key */
    size_t klen;
};

static int parse_size(const char *v, size_t max, size_t *out)
{
    char *end;
    unsigned long long n;

    if (!v || !*v || *v == '-')
        return -1;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || n > max)
        return -1;
    *out = (size_t)n;
    return 0;
}

static enum MHD_Result arg(void *cls, enum MHD_ValueKind kind, const char *name, const char *v)
{
    struct req *q = cls;

    if (q->bad)
        return MHD_NO;
    q->klen +=
        (size_t)snprintf(q->key + q->klen, q->klen < sizeof(q->key) ? sizeof(q->key) - q->klen : 0,
                         "%s=%s&", name, v ? v : "");
    if (!strcmp(name, "offset")) {
        if (parse_size(v, LLM_DASH_MAX_ROWS, &q->offset))
            q->bad = snprintf(q->why, sizeof(q->why), "offset wants 0 to %d, not '%.64s'",
                              LLM_DASH_MAX_ROWS, v ? v : "");
    } else if (!strcmp(name, "rows")) {
        if (parse_size(v, ROWS_MAX, &q->rows))
            q->bad = snprintf(q->why, sizeof(q->why), "rows wants 0 to %d, not '%.64s'", ROWS_MAX,
                              v ? v : "");
    } else if (!strcmp(name, "id")) {
        q->id = v;
    } else if (llm_dash_param(&q->f, name, v, q->why, sizeof(q->why))) {
        q->bad = 1;
    }
    return q->bad ? MHD_NO : MHD_YES;
}

static enum MHD_Result summary_locked(struct server *sv, struct MHD_Connection *conn, struct req *q,
                                      struct llm_store *st, int calls_only)
{
    char what[4200];
    json_t *j = NULL;
    size_t count = 0;
    int rc;

    llm_store_count(st, &count);
    if (!calls_only && sv->cache_key && q->klen < sizeof(q->key) && count == sv->cache_count &&
        !strcmp(sv->cache_key, q->key)) {
        char *copy = malloc(sv->cache_len);
        if (copy) {
            memcpy(copy, sv->cache_text, sv->cache_len);
            return respond(conn, 200, "application/json", copy, sv->cache_len);
        }
    }
    snprintf(what, sizeof(what), "read database %s", sv->db);
    rc = calls_only ? llm_dash_calls(st, &q->f, q->offset, q->rows, &j, what, sizeof(what))
                    : llm_dash_summary(st, &q->f, q->offset, q->rows, 0, &j, what, sizeof(what));
    if (rc) {
        char msg[4400];
        snprintf(msg, sizeof(msg), "%s: %s", what, llm_strerror(rc));
        return send_error(conn, 500, msg);
    }
    json_object_set_new(j, "count", json_integer((json_int_t)count));
    json_object_set_new(j, "db", json_string(sv->db));
    if (!calls_only) {
        char *text;
        size_t len;
        if (llm_dash_json_text(j, &text, &len)) {
            json_decref(j);
            return send_error(conn, 500, "out of memory");
        }
        json_decref(j);
        free(sv->cache_key);
        free(sv->cache_text);
        sv->cache_key = strdup(q->key);
        sv->cache_text = malloc(len);
        if (sv->cache_text)
            memcpy(sv->cache_text, text, len);
        sv->cache_len = len;
        sv->cache_count = count;
        if (!sv->cache_key || !sv->cache_text || q->klen >= sizeof(q->key)) {
            free(sv->cache_key);
            sv->cache_key = NULL;
        }
        return respond(conn, 200, "application/json", text, len);
    }
    return send_json(conn, 200, j);
}

static enum MHD_Result summary(struct server *sv, struct MHD_Connection *conn, struct req *q,
                               struct llm_store *st, int calls_only)
{
    enum MHD_Result r;

    pthread_mutex_lock(&sv->work_lock);
    r = summary_locked(sv, conn, q, st, calls_only);
    pthread_mutex_unlock(&sv->work_lock);
    return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls)
{
    struct server *sv = cls;
    struct req q = {.rows = 50};
    struct llm_store *st;
    char err[sizeof(sv->open_err)];
    size_t count;
    int page = !strcmp(url, "/") || !strcmp(url, "/index.html");

    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return send_error(conn, 405, "only GET");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, arg, &q);
    if (q.bad)
        return page ? send_error_page(conn, 400, q.why) : send_error(conn, 400, q.why);
    if (!page && strncmp(url, "/api/", 5))
        return send_error(conn, 404, "no such page");
    if (!(st = store(sv, err, sizeof(err))))
        return page ? send_error_page(conn, 503, err) : send_error(conn, 503, err);
    if (page)
        return respond(conn, 200, "text/html; charset=utf-8", (char *)llm_dash_page,
                       llm_dash_page_len);
    if (!strcmp(url, "/api/summary"))
        return summary(sv, conn, &q, st, 0);
    if (!strcmp(url, "/api/calls"))
        return summary(sv, conn, &q, st, 1);
    if (!strcmp(url, "/api/version")) {
        int rc = llm_store_count(st, &count);
        if (rc)
            return send_error(conn, 500, llm_strerror(rc));
        return send_json(conn, 200, json_pack("{sI}", "count", (json_int_t)count));
    }
    if (!strcmp(url, "/api/record")) {
        json_t *rec;
        int rc;
        if (!q.id)
            return send_error(conn, 400, "record wants ?id=ULID");
        pthread_mutex_lock(&sv->work_lock);
        rc = llm_dash_record(st, q.id, &rec);
        pthread_mutex_unlock(&sv->work_lock);
        if (rc == LLM_EINVAL)
            return send_error(conn, 400, "id wants a ULID (26 characters)");
        if (rc == LLM_ENOTFOUND)
            return send_error(conn, 404, "no record with that id");
        if (rc)
            return send_error(conn, 500, llm_strerror(rc));
        return send_json(conn, 200, rec);
    }
    return send_error(conn, 404, "no such endpoint");
}

int llm_serve_main(int argc, char **argv)
{
    struct server sv = {.addr = {.sin_family = AF_INET, .sin_port = htons(8750)},
                        .open_lock = PTHREAD_MUTEX_INITIALIZER,
                        .work_lock = PTHREAD_MUTEX_INITIALIZER};
    struct llm_cmd cmd = {
        .name = "serve", .usage = usage, .opts = opts, .needs_db = 1, .opt = own_opt, .ctx = &sv};
    struct llm_cmd_args a;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    char host[INET_ADDRSTRLEN], why[sizeof(sv.open_err)];
    sigset_t set;
    int rc = llm_cmd_parse(&cmd, argc, argv, &a), sig;

    if (rc >= 0)
        return rc;
    sv.addr.sin_addr.s_addr =
        sv.addr.sin_addr.s_addr ? sv.addr.sin_addr.s_addr : htonl(INADDR_LOOPBACK);
    sv.db = a.db;
    if (llm_cost_load(0))
        return LLM_EXIT_RUNTIME;
    /* blocked before the daemon's thread exists, so only sigwait sees them */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    store(&sv, why, sizeof(why)); /* says at once when the store cannot be read; pages say it too */
    inet_ntop(AF_INET, &sv.addr.sin_addr, host, sizeof(host));
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, handle, &sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sv.addr,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!d) {
        llm_cli_error(errno ? -errno : LLM_EINVAL, "serve: listen on %s:%u", host,
                      ntohs(sv.addr.sin_port));
        rc = LLM_EXIT_RUNTIME;
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("llmops: serving %s on http://%s:%u/ (Ctrl-C stops)\n", a.db, host,
           info ? info->port : ntohs(sv.addr.sin_port));
    fflush(stdout);
    while (sigwait(&set, &sig) != 0)
        ;
    llm_dash_cancel(); /* a scan in flight ends at its next record */
    MHD_stop_daemon(d);
    rc = 0;
out:
    if (sv.st)
        llm_store_close(sv.st);
    free(sv.cache_key);
    free(sv.cache_text);
    return rc;
}
