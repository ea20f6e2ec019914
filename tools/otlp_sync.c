/* `llmops sync --to otlp+http://HOST:4318` (or otlp+https://): ships the
 * records an OpenTelemetry receiver (a Collector, Jaeger, Tempo, Phoenix, ...)
 * has not had yet, as OTLP/HTTP JSON: spans (POST BASE/v1/traces) and the
 * GenAI metrics (POST BASE/v1/metrics), made by otlp.c, through libcurl.
 * Headers come from OTEL_EXPORTER_OTLP_HEADERS (k=v,k2=v2, values
 * percent-decoded) and --header 'Name: value', which win.
 *
 * The cursor works as PostgreSQL's (sync.c): kept in the store's meta
 * database under "sync " + the URL (without any user:password@), the last
 * settled key shipped; records go in key order, --batch per request (at most
 * 1000), and the cursor moves only after the receiver accepted the batch, so
 * a receiver that is down, or a sync killed midway, loses nothing. Spans have
 * ids derived from the operation id, so a batch sent again (a retry, or the
 * unsettled records every run sends again) makes no duplicate span where the
 * backend keys spans by id. Metric points are counts, which a backend adds
 * up: they are sent only for settled records (older than --settle), once,
 * with the batch that moves the cursor past them.
 * Retries: 429, 502, 503, 504 and connection failures are retried up to 5
 * times with exponential backoff from 500 ms (LLMOPS_OTLP_RETRY_MS), or after
 * the receiver's Retry-After (seconds, at most 30); other statuses fail. */
#include "cli.h"
#include "cost.h"
#include "err.h"
#include "filter.h"
#include "otlp.h"
#include "store.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_FULL 1
#define MAX_BATCH 1000
#define ATTEMPTS 6 /* the first and 5 retries */

struct osync {
    const struct llm_sync_opts *o;
    struct llm_store *s;
    CURL *curl;
    struct curl_slist *headers;
    char base[2048], shown[2048]; /* shown: without user:password@ */
    char name[2100];
    uint8_t horizon[16], last[16], settled[16];
    int has_last, has_settled, moved;
    json_t *spans, *metrics;
    size_t n;
    long long shipped;
    long retry_after;
    char what[4200];
};

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct osync *y = arg;
    size_t len = size * n;

    if (len > 12 && !strncasecmp(p, "retry-after:", 12))
        y->retry_after = strtol(p + 12, NULL, 10);
    return len;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* POSTs body to base + path; retries what is worth retrying. */
static int post(struct osync *y, const char *path, const char *body)
{
    char url[2100], err[CURL_ERROR_SIZE] = "";
    const char *env = getenv("LLMOPS_OTLP_RETRY_MS");
    long wait = env && *env ? strtol(env, NULL, 10) : 500, status = 0;
    CURLcode cc = CURLE_OK;

    snprintf(url, sizeof(url), "%s%s", y->base, path);
    for (int attempt = 0; attempt < ATTEMPTS; attempt++, wait *= 2) {
        if (attempt)
            sleep_ms(y->retry_after > 0 ? (y->retry_after > 30 ? 30 : y->retry_after) * 1000
                                        : wait);
        y->retry_after = 0;
        curl_easy_setopt(y->curl, CURLOPT_URL, url);
        curl_easy_setopt(y->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(y->curl, CURLOPT_ERRORBUFFER, err);
        cc = curl_easy_perform(y->curl);
        status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(y->curl, CURLINFO_RESPONSE_CODE, &status);
        if (cc == CURLE_OK && status >= 200 && status < 300)
            return 0;
        if (cc == CURLE_OK && status != 429 && status != 502 && status != 503 && status != 504)
            break;
    }
    if (cc != CURLE_OK)
        snprintf(y->what, sizeof(y->what), "send to %s%s (%s)", y->shown, path,
                 *err ? err : curl_easy_strerror(cc));
    else
        snprintf(y->what, sizeof(y->what), "send to %s%s: HTTP %ld", y->shown, path, status);
    return -EIO;
}

static int send_batch(struct osync *y)
{
    json_t *req = json_pack("{s:O}", "resourceSpans", y->spans);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    int rc = text ? post(y, "/v1/traces", text) : LLM_ENOMEM;

    json_decref(req);
    free(text);
    if (!rc && json_array_size(y->metrics)) {
        req = json_pack("{s:O}", "resourceMetrics", y->metrics);
        text = req ? json_dumps(req, JSON_COMPACT) : NULL;
        rc = text ? post(y, "/v1/metrics", text) : LLM_ENOMEM;
        json_decref(req);
        free(text);
    }
    if (rc == LLM_ENOMEM)
        snprintf(y->what, sizeof(y->what), "sync");
    if (!rc)
        y->shipped += (long long)json_array_size(y->spans);
    json_array_clear(y->spans);
    json_array_clear(y->metrics);
    y->n = 0;
    return rc;
}

static int visit(void *arg, const void *key, size_t klen, json_t *rec)
{
    struct osync *y = arg;
    char ulid[LLM_ULID_LEN];
    int settled, rc;

    if (klen != 16) {
        llm_cli_key_name(key, klen, y->what, sizeof(y->what));
        return LLM_ECORRUPT;
    }
    llm_ulid_format(key, ulid);
    llm_cost_fill(rec);
    settled = memcmp(key, y->horizon, 16) < 0;
    rc = llm_otlp_add_span(y->spans, rec, ulid);
    if (!rc && settled)
        rc = llm_otlp_add_metrics(y->metrics, rec, ulid);
    if (rc == LLM_EINVAL)
        rc = 0; /* no start time: nothing to send */
    if (rc) {
        snprintf(y->what, sizeof(y->what), "sync");
        return rc;
    }
    y->n++;
    memcpy(y->last, key, 16);
    y->has_last = 1;
    if (settled) {
        memcpy(y->settled, key, 16);
        y->has_settled = y->moved = 1;
    }
    return y->n >= (size_t)(y->o->batch < MAX_BATCH ? y->o->batch : MAX_BATCH) ? BATCH_FULL : 0;
}

static int cursor_get(struct osync *y)
{
    int rc = llm_sync_cursor_get(y->s, y->name, y->last, &y->has_last);

    if (rc) {
        snprintf(y->what, sizeof(y->what), "read sync cursor '%s' in %s", y->name, y->o->db);
        return rc;
    }
    y->has_settled = y->has_last;
    memcpy(y->settled, y->last, 16);
    return 0;
}

static int cursor_put(struct osync *y)
{
    int rc = llm_sync_cursor_put(y->s, y->name, y->settled);

    if (rc)
        snprintf(y->what, sizeof(y->what), "save sync cursor '%s' in %s", y->name, y->o->db);
    return rc;
}

static int ship(struct osync *y)
{
    int rc, more;

    do {
        snprintf(y->what, sizeof(y->what), "read database %s", y->o->db);
        rc = llm_filter_scan_after(y->s, y->o->filter, y->has_last ? y->last : NULL, visit, y,
                                   y->what, sizeof(y->what));
        if (rc < 0)
            return rc;
        more = rc == BATCH_FULL;
        if (!y->n)
            return 0;
        rc = send_batch(y);
        if (!rc && y->moved) {
            rc = cursor_put(y);
            y->moved = 0;
        }
        if (rc)
            return rc;
    } while (more);
    return 0;
}

/* "otlp+http://[user:pw@]host..." -> base "http://[user:pw@]host..." without a
 * trailing '/', shown without user:pw@. */
static int parse_url(struct osync *y, const char *to)
{
    const char *rest = to + 5, *at, *host;
    size_t n = strlen(rest);

    while (n && rest[n - 1] == '/')
        n--;
    if (n >= sizeof(y->base))
        return LLM_EINVAL;
    memcpy(y->base, rest, n);
    y->base[n] = '\0';
    host = strstr(y->base, "://") + 3;
    at = strchr(host, '@');
    if (at && at < host + strcspn(host, "/"))
        snprintf(y->shown, sizeof(y->shown), "%.*s%s", (int)(host - y->base), y->base, at + 1);
    else
        snprintf(y->shown, sizeof(y->shown), "%s", y->base);
    snprintf(y->name, sizeof(y->name), "sync otlp+%s", y->shown);
    return 0;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* OTEL_EXPORTER_OTLP_HEADERS: k=v pairs, comma-separated, percent-encoded. */
static int env_headers(struct osync *y)
{
    const char *env = getenv("OTEL_EXPORTER_OTLP_HEADERS"), *p = env;
    char line[4096];

    while (p && *p) {
        size_t n = strcspn(p, ","), o = 0;
        int in_value = 0;
        for (size_t i = 0; i < n && o + 3 < sizeof(line); i++) {
            char c = p[i];
            if (c == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
                c = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
                i += 2;
            } else if (c == '=' && !in_value) {
                in_value = 1;
                line[o++] = ':';
                c = ' ';
            }
            line[o++] = c;
        }
        line[o] = '\0';
        if (in_value) {
            struct curl_slist *l = curl_slist_append(y->headers, line);
            if (!l)
                return LLM_ENOMEM;
            y->headers = l;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

static int setup(struct osync *y)
{
    struct curl_slist *l;
    int rc = env_headers(y);

    for (size_t i = 0; !rc && i < y->o->nheaders; i++) {
        l = curl_slist_append(y->headers, y->o->headers[i]);
        if (!l)
            rc = LLM_ENOMEM;
        else
            y->headers = l;
    }
    l = rc ? NULL : curl_slist_append(y->headers, "Content-Type: application/json");
    if (!l) {
        snprintf(y->what, sizeof(y->what), "sync");
        return LLM_ENOMEM;
    }
    y->headers = l;
    y->curl = curl_easy_init();
    if (!y->curl) {
        snprintf(y->what, sizeof(y->what), "sync: libcurl");
        return LLM_ENOMEM;
    }
    curl_easy_setopt(y->curl, CURLOPT_HTTPHEADER, y->headers);
    curl_easy_setopt(y->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(y->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(y->curl, CURLOPT_HEADERDATA, y);
    curl_easy_setopt(y->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(y->curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(y->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(y->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    y->spans = json_array();
    y->metrics = json_array();
    if (!y->spans || !y->metrics) {
        snprintf(y->what, sizeof(y->what), "sync");
        return LLM_ENOMEM;
    }
    return 0;
}

static int run(struct osync *y)
{
    int rc = cursor_get(y);

    if (!rc)
        rc = setup(y);
    if (!rc)
        rc = ship(y);
    if (rc)
        return rc;
    return llm_sync_report(y->shipped, y->has_settled ? y->settled : NULL, y->what,
                           sizeof(y->what));
}

int llm_otlp_sync_run(const struct llm_sync_opts *o)
{
    struct osync *y = calloc(1, sizeof(*y));
    int rc;

    if (!y) {
        llm_cli_error(LLM_ENOMEM, "sync");
        return LLM_ENOMEM;
    }
    y->o = o;
    if (parse_url(y, o->to)) {
        llm_cli_error(LLM_EINVAL, "sync: URL too long");
        free(y);
        return LLM_EINVAL;
    }
    rc = llm_sync_store_open(o->db, &y->s);
    if (rc)
        goto free_y;
    llm_sync_horizon(o->settle_s, y->horizon);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = run(y);
    if (rc)
        llm_cli_error(rc, "%s", y->what);
    json_decref(y->spans);
    json_decref(y->metrics);
    if (y->curl)
        curl_easy_cleanup(y->curl);
    curl_slist_free_all(y->headers);
    curl_global_cleanup();
    llm_store_close(y->s);
free_y:
    free(y);
    return rc;
}
