/* `llmops tail [-f]`: the latest calls, one line each, and with -f every
 * call as it lands, from whichever process wrote it.
 *
 * Keys are ULIDs of the call's start time, but a record is committed when
 * the call ends (plus the collector's batching), so a long call lands after
 * shorter ones that started later: "keys above the last one seen" would
 * miss it. Each poll therefore rescans the keys of the last WINDOW of start
 * times, in its own read transaction (readers never hold writers back),
 * and prints those not seen before; a sorted set of the keys in the window
 * remembers what was seen, so a record prints exactly once, and only new
 * records are decoded. A call whose record lands more than WINDOW after it
 * started is not shown by -f (export still has it).
 * Records are read as export's JSON exports read them (record_json.h): only
 * the fields the filters, the price and the text line use are decoded, and
 * --format ndjson writes the record's JSON text straight from its msgpack,
 * the same bytes as export. The lookback keeps copies of the stored values,
 * as the scan's read transaction ends before they are printed.
 * SIGINT, SIGTERM and a closed pipe (EPIPE, or the reader gone while
 * nothing is written) end the loop with status 0. */
#include "cli.h"
#include "cmd.h"
#include "cost.h"
#include "err.h"
#include "record.h"
#include "record_json.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WINDOW_MS (60 * 60 * 1000LL)

static const char usage[] =
    "usage: llmops tail [-f] [-n N] [--db DIR] [--format text|ndjson]\n"
    "                   [--interval MS] [--prices FILE] [filters]\n"
    "\n"
    "Prints the last N calls that pass the filters, oldest first, one line\n"
    "each: start time (UTC), program, provider, model, status, input/output\n"
    "tokens, latency and cost ('-' where unknown). With -f it then keeps\n"
    "printing calls as they are recorded by any process, each once, until\n"
    "interrupted. A call shows when its record lands, at its end; -f watches\n"
    "calls that started in the last hour.\n"
    "\n"
    "  -f, --follow      keep printing new calls (polls the store; waits for a\n"
    "                    store that does not exist yet)\n"
    "  -n, --lines N     how many past calls to print first (default 10)\n"
    "  --db DIR          the database directory (default: see 'llmops help')\n"
    "  --format FORMAT   text (default) or ndjson: each call as the full\n"
    "                    record, as 'llmops export' writes it\n"
    "  --interval MS     -f: how often to look for new records (default 200)\n" LLM_PRICES_HELP
    "  -h, --help        show this help\n"
    "\n" LLM_FILTER_HELP;

enum { OPT_FORMAT = LLM_CO_OWN, OPT_INTERVAL };

static const struct option opts[] = {
    LLM_CMD_DB_OPT,
    LLM_CMD_PRICES_OPT,
    LLM_CMD_HELP_OPT,
    {"follow", no_argument, NULL, 'f'},
    {"lines", required_argument, NULL, 'n'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    LLM_FILTER_LONGOPTS,
    {NULL, 0, NULL, 0},
};

struct key {
    uint8_t k[16];
};

struct kept { /* a record of the lookback: its key and a copy of its value */
    struct key key;
    void *val;
    size_t len;
};

struct tail {
    int follow, ndjson;
    long lines, interval_ms;
    const struct llm_filter *filter;
    struct key *seen; /* sorted */
    size_t nseen, aseen;
    struct kept *ring; /* the last `lines` matches of a lookback */
    size_t nring, ring_at;
    struct llm_rjson rj; /* the record being looked at */
    char what[4200];     /* what failed */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int parse_long(const char *flag, const char *val, long lo, long *out, char *why, size_t n)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < lo) {
        snprintf(why, n, "%s wants a whole number >= %ld, not '%s'", flag, lo, val);
        return LLM_EINVAL;
    }
    *out = v;
    return 0;
}

static int own_opt(void *arg, int c, const char *val, char *why, size_t n)
{
    struct tail *t = arg;

    switch (c) {
    case 'f':
        t->follow = 1;
        return 0;
    case 'n':
        if (parse_long("--lines", val, 0, &t->lines, why, n))
            return LLM_EINVAL;
        if (t->lines <= 1000000)
            return 0;
        snprintf(why, n, "--lines wants at most 1000000, not '%s'", val);
        return LLM_EINVAL;
    case OPT_INTERVAL:
        return parse_long("--interval", val, 1, &t->interval_ms, why, n);
    case OPT_FORMAT:
        if (!strcmp(val, "text") || !strcmp(val, "ndjson")) {
            t->ndjson = !strcmp(val, "ndjson");
            return 0;
        }
        snprintf(why, n, "unknown format '%s' (text or ndjson)", val);
        return LLM_EINVAL;
    default:
        return LLM_EINVAL;
    }
}

/* The first key of millisecond ms (clamped to the ULID range). */
static void key_at(int64_t ms, uint8_t key[16])
{
    memset(key, 0, 16);
    if (ms < 0)
        ms = 0;
    for (int i = 0; i < 6; i++)
        key[i] = (uint8_t)((uint64_t)ms >> (40 - 8 * i));
}

/* Index where k is or would go in the sorted set. */
static size_t seen_pos(const struct tail *t, const uint8_t *k, int *found)
{
    size_t lo = 0, hi = t->nseen;

    *found = 0;
    if (hi && memcmp(t->seen[hi - 1].k, k, 16) < 0)
        return hi; /* the usual case: newer than everything */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = memcmp(t->seen[mid].k, k, 16);
        if (!d) {
            *found = 1;
            return mid;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Adds k; returns 1 if it was new, 0 if seen, or LLM_ENOMEM. */
static int seen_add(struct tail *t, const uint8_t *k)
{
    int found;
    size_t at = seen_pos(t, k, &found);

    if (found)
        return 0;
    if (t->nseen == t->aseen) {
        size_t na = t->aseen ? t->aseen * 2 : 1024;
        struct key *ns = realloc(t->seen, na * sizeof(*ns));
        if (!ns)
            return LLM_ENOMEM;
        t->seen = ns;
        t->aseen = na;
    }
    memmove(&t->seen[at + 1], &t->seen[at], (t->nseen - at) * sizeof(*t->seen));
    memcpy(t->seen[at].k, k, 16);
    t->nseen++;
    return 1;
}

/* Forgets the keys before the window: they cannot come back. */
static void seen_prune(struct tail *t, const uint8_t *from)
{
    int found;
    size_t at = seen_pos(t, from, &found);

    memmove(t->seen, &t->seen[at], (t->nseen - at) * sizeof(*t->seen));
    t->nseen -= at;
}

static const char *str(json_t *rec, const char *f, const char *dflt)
{
    json_t *v = json_object_get(rec, f);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static void count(char *out, size_t n, json_t *v)
{
    if (json_is_integer(v))
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else
        snprintf(out, n, "-");
}

/* The start time in UTC to the millisecond: 2024-02-29 12:34:56.789 */
static void format_when(const char *ts, char *out, size_t n)
{
    int64_t us;
    time_t sec;
    struct tm tm;

    if (!ts || llm_parse_time(ts, &us)) {
        snprintf(out, n, "%s", ts ? ts : "-");
        return;
    }
    sec = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    gmtime_r(&sec, &tm);
    snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)((us - (int64_t)sec * 1000000) / 1000));
}

/* The fields print_line reads beyond the price's. */
static void line_fields(unsigned char want[LLM_F__COUNT])
{
    static const enum llm_field read[] = {
        LLM_F_EXE,   LLM_F_LATENCY_MS, LLM_F_TIMESTAMP,    LLM_F_PROVIDER,
        LLM_F_MODEL, LLM_F_STATUS,     LLM_F_INPUT_TOKENS, LLM_F_OUTPUT_TOKENS,
    };

    for (size_t i = 0; i < sizeof(read) / sizeof(read[0]); i++)
        want[read[i]] = 1;
}

/* Prints the record loaded in t->rj. */
static int print_line(struct tail *t)
{
    char in[24], out[24], lat[32], cost[32], when[64];
    json_t *rec = t->rj.rec;
    const char *exe = str(rec, "exe", "-"), *slash = strrchr(exe, '/');
    json_t *l = json_object_get(rec, "latency_ms"), *c;
    const char *text;
    size_t n;
    int ok, rc;

    llm_cost_fill(rec);
    c = json_object_get(rec, "cost_usd");
    errno = 0;
    if (t->ndjson) {
        rc = llm_rjson_text(&t->rj, &text, &n);
        if (rc) {
            snprintf(t->what, sizeof(t->what), "tail");
            return rc;
        }
        ok = fwrite(text, 1, n, stdout) == n && putchar('\n') != EOF;
    } else {
        format_when(str(rec, "timestamp", NULL), when, sizeof(when));
        count(in, sizeof(in), json_object_get(rec, "input_tokens"));
        count(out, sizeof(out), json_object_get(rec, "output_tokens"));
        snprintf(lat, sizeof(lat), json_is_number(l) ? "%.0fms" : "-",
                 json_is_number(l) ? json_number_value(l) : 0.0);
        snprintf(cost, sizeof(cost), json_is_number(c) ? "$%.6f" : "-",
                 json_is_number(c) ? json_number_value(c) : 0.0);
        ok = printf("%-23s  %-14s %-10s %-28s %-10s %8s/%-7s %8s  %s\n", when,
                    slash ? slash + 1 : exe, str(rec, "provider", "-"), str(rec, "model", "-"),
                    str(rec, "status", "-"), in, out, lat, cost) > 0;
    }
    if (ok)
        return 0;
    snprintf(t->what, sizeof(t->what), "write standard output");
    return errno ? -errno : -EIO;
}

/* Loads a record into t->rj: 0 when it passes the filters, 1 when it does
 * not, or the error (t->what names the record). */
static int load(struct tail *t, const void *key, size_t klen, const void *val, size_t vlen)
{
    int rc = llm_rjson_load(&t->rj, val, vlen);

    if (rc)
        llm_cli_key_name(key, klen, t->what, sizeof(t->what));
    else if (!llm_filter_match(t->filter, t->rj.rec))
        rc = 1;
    return rc;
}

/* Decodes and, when it passes the filters, prints a record. */
static int show(struct tail *t, const void *key, size_t klen, const void *val, size_t vlen)
{
    int rc = load(t, key, klen, val, vlen);

    if (!rc)
        rc = print_line(t);
    return rc == 1 ? 0 : rc;
}

static int seed_visit(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    return klen == 16 && seen_add(arg, key) < 0 ? LLM_ENOMEM : 0;
}

static int ring_visit(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct tail *t = arg;
    void *copy;
    size_t at;
    int rc = load(t, key, klen, val, vlen);

    if (rc)
        return rc == 1 ? 0 : rc;
    copy = malloc(vlen ? vlen : 1);
    if (!copy) {
        snprintf(t->what, sizeof(t->what), "tail");
        return LLM_ENOMEM;
    }
    memcpy(copy, val, vlen);
    if (t->nring < (size_t)t->lines) {
        at = t->nring++;
    } else {
        at = t->ring_at;
        free(t->ring[at].val);
        t->ring_at = (t->ring_at + 1) % t->nring;
    }
    t->ring[at].val = copy;
    t->ring[at].len = vlen;
    memset(t->ring[at].key.k, 0, 16);
    memcpy(t->ring[at].key.k, key, klen < 16 ? klen : 16);
    return 0;
}

static void ring_clear(struct tail *t)
{
    for (size_t i = 0; i < t->nring; i++)
        free(t->ring[i].val);
    t->nring = t->ring_at = 0;
}

/* The last `lines` matches: look back 1 hour, then 4, 16, ... until there
 * are enough or the whole store was read. */
static int print_last(struct tail *t, struct llm_store *s)
{
    int64_t now_ms = llm_now_ns() / 1000000, back = 60 * 60 * 1000LL, start;
    uint8_t from[16];
    int rc = 0, last;

    if (!t->lines)
        return 0;
    do {
        start = now_ms - back;
        last = start <= 0;
        if (t->filter->has_since && start <= t->filter->since_us / 1000) {
            start = t->filter->since_us / 1000; /* nothing before it can match */
            last = 1;
        }
        ring_clear(t);
        key_at(start, from);
        rc = llm_store_scan(s, start > 0 ? from : NULL, NULL, ring_visit, t);
        back *= 4;
    } while (!rc && !last && t->nring < (size_t)t->lines);
    for (size_t i = 0; !rc && i < t->nring; i++) {
        struct kept *k = &t->ring[(t->ring_at + i) % t->nring];
        if (seen_add(t, k->key.k) < 0)
            rc = LLM_ENOMEM;
        if (!rc) /* it passed the filters when kept: 1 cannot come back */
            rc = load(t, k->key.k, 16, k->val, k->len);
        if (!rc)
            rc = print_line(t);
        else if (rc == 1)
            rc = 0;
    }
    ring_clear(t);
    return rc;
}

static int poll_visit(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct tail *t = arg;
    int fresh = klen == 16 ? seen_add(t, key) : 0;

    if (fresh < 0)
        return fresh;
    return fresh ? show(t, key, klen, val, vlen) : 0;
}

static void window_start(uint8_t from[16])
{
    key_at(llm_now_ns() / 1000000 - WINDOW_MS, from);
}

/* A pipe whose reader is gone: `llmops tail -f | head` ends even when no
 * new record comes along to fail a write. */
static int reader_gone(void)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

static int follow(struct tail *t, struct llm_store *s)
{
    struct timespec pause = {t->interval_ms / 1000, t->interval_ms % 1000 * 1000000L};
    uint8_t from[16];
    int rc = 0;
    unsigned polls = 0;

    while (!stop && !rc) {
        nanosleep(&pause, NULL); /* a signal cuts it short */
        if (stop || reader_gone())
            break;
        /* a follower holds the store open for hours: free the slots of
         * readers that died meanwhile (every ~5 s at the default interval) */
        if (++polls % 25 == 0)
            llm_store_reader_check(s);
        window_start(from);
        rc = llm_store_scan(s, from, NULL, poll_visit, t);
        seen_prune(t, from);
        if (!rc && fflush(stdout)) {
            snprintf(t->what, sizeof(t->what), "write standard output");
            rc = errno ? -errno : -EIO;
        }
    }
    return rc;
}

/* tail -f on a store no program has made yet: wait for the first record
 * (the store is made by the first recorded call). Other errors are left for
 * the real open to report. Returns 0 if a signal or a closed pipe came
 * first. */
static int wait_for_store(struct tail *t, const char *db)
{
    struct timespec pause = {t->interval_ms / 1000, t->interval_ms % 1000 * 1000000L};
    struct llm_store *probe;

    while (!stop && !reader_gone()) {
        int rc = llm_store_open(db, LLM_STORE_RDONLY, &probe);
        if (!rc) {
            llm_store_close(probe);
            return 1;
        }
        if (rc != -ENOENT && rc != LLM_ENOTFOUND)
            return 1;
        nanosleep(&pause, NULL);
    }
    return 0;
}

static int run(struct tail *t, struct llm_store *s)
{
    uint8_t from[16];
    int rc = 0;

    if (t->follow) { /* what is there now is not news, printed or not */
        window_start(from);
        rc = llm_store_scan(s, from, NULL, seed_visit, t);
    }
    if (!rc)
        rc = print_last(t, s);
    if (!rc && fflush(stdout)) {
        snprintf(t->what, sizeof(t->what), "write standard output");
        rc = errno ? -errno : -EIO;
    }
    if (!rc && t->follow)
        rc = follow(t, s);
    return rc;
}

int llm_tail_main(int argc, char **argv)
{
    struct tail t = {.lines = 10, .interval_ms = 200};
    struct llm_cmd cmd = {.name = "tail",
                          .usage = usage,
                          .opts = opts,
                          .shortopts = "fn:",
                          .needs_db = 1,
                          .filters = 1,
                          .opt = own_opt,
                          .ctx = &t};
    struct llm_cmd_args a;
    struct llm_store *s;
    struct sigaction sa;
    int rc = llm_cmd_parse(&cmd, argc, argv, &a);

    if (rc >= 0)
        return rc;
    t.filter = &a.filter;
    if (llm_cost_load(0))
        return LLM_EXIT_RUNTIME;
    t.ring = calloc((size_t)t.lines + 1, sizeof(*t.ring));
    if (!t.ring) {
        llm_cli_error(LLM_ENOMEM, "tail");
        return LLM_EXIT_RUNTIME;
    }
    llm_rjson_init(&t.rj);
    llm_filter_fields(t.filter, t.rj.want);
    llm_cost_fields(t.rj.want);
    line_fields(t.rj.want);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the sleep must end */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);                    /* a closed pipe is EPIPE from a write */
    if (t.follow && !wait_for_store(&t, a.db)) { /* interrupted before it appeared */
        free(t.ring);
        llm_rjson_free(&t.rj);
        return 0;
    }
    if (llm_cli_open(a.db, &s)) {
        free(t.ring);
        llm_rjson_free(&t.rj);
        return LLM_EXIT_RUNTIME;
    }
    snprintf(t.what, sizeof(t.what), "read database %s", a.db);
    rc = run(&t, s);
    if (rc && rc != -EPIPE)
        llm_cli_error(rc, "%s", t.what);
    llm_store_close(s);
    free(t.seen);
    free(t.ring);
    llm_rjson_free(&t.rj);
    return rc && rc != -EPIPE ? LLM_EXIT_RUNTIME : 0;
}
