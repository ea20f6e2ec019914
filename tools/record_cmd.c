/* `llmops record`: calls no hook could see, stored from JSON on stdin.
 *
 * Input is one JSON object (possibly spread over lines), or NDJSON: one
 * object a line, blank lines skipped. Every record is checked (explicit.c)
 * before anything is written, and all are committed in one transaction, so
 * a refused line leaves the store as it was. Attribution the records lack
 * comes from the LLMOPS_* variables, as for recorded calls. The operation_id
 * of each stored record goes to stdout, one a line. */
#include "record_cmd.h"
#include "attrib.h"
#include "cli.h"
#include "err.h"
#include "explicit.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char llm_record_usage[] =
    "usage: llmops record [--db DIR] < RECORD.json\n"
    "\n"
    "Stores LLM calls that no hook observed, given on standard input as one\n"
    "JSON object or as NDJSON (one object a line). Members are record fields\n"
    "(see the README): unknown fields and wrong types are refused, and then\n"
    "nothing is stored. Left out, operation_id is made from the timestamp,\n"
    "timestamp is now, schema_version is 2; cost_usd is ignored (computed at\n"
    "export). Attribution the records lack comes from LLMOPS_SESSION_ID,\n"
    "LLMOPS_WORKSPACE, LLMOPS_AGENT_ID, LLMOPS_ACTION_ID and LLMOPS_EXTRAS.\n"
    "Prints the operation_id of each record stored, one a line.\n"
    "\n"
    "  --db DIR     the database directory (default: see 'llmops help')\n"
    "  -h, --help   show this help\n";

struct entries {
    struct llm_kv *kv;
    size_t n, alloc;
};

static void entries_free(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        llm_explicit_free(&e->kv[i]);
    free(e->kv);
}

static char *read_all(FILE *f, size_t *len)
{
    size_t n = 0, alloc = 65536;
    char *buf = malloc(alloc), *p;

    errno = 0;

    while (buf) {
        n += fread(buf + n, 1, alloc - n, f);
        if (n < alloc)
            break;
        p = realloc(buf, alloc * 2);
        if (!p) {
            free(buf);
            return NULL;
        }
        buf = p;
        alloc *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Checks one record and appends its entry; line 0: the whole input. */
static int add(struct entries *e, const struct llm_attrib *a, const char *p, size_t n, size_t line)
{
    char why[512];
    int rc;

    if (e->n == e->alloc) {
        size_t alloc = e->alloc ? e->alloc * 2 : 64;
        struct llm_kv *kv = realloc(e->kv, alloc * sizeof(*kv));
        if (!kv) {
            llm_cli_error(LLM_ENOMEM, "record");
            return LLM_ENOMEM;
        }
        e->kv = kv;
        e->alloc = alloc;
    }
    rc = llm_explicit_entry(p, n, a, &e->kv[e->n], why, sizeof(why));
    if (rc) {
        if (line)
            fprintf(stderr, "llmops: record: line %zu: %s\n", line, why);
        else
            fprintf(stderr, "llmops: record: %s\n", why);
        return rc;
    }
    e->n++;
    return 0;
}

static int parse_input(const char *buf, size_t len, const struct llm_attrib *a, struct entries *e)
{
    json_t *whole = json_loadb(buf, len, 0, NULL);
    size_t line = 0;
    int rc = 0;

    if (whole) { /* one document, however it is laid out */
        json_decref(whole);
        return add(e, a, buf, len, 0);
    }
    for (const char *p = buf, *end = buf + len; p < end && !rc;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (strspn(p, " \t\r") < n)
            rc = add(e, a, p, n, line);
        p += n + 1;
    }
    if (!rc && !e->n) {
        fprintf(stderr, "llmops: record: no record on standard input\n");
        rc = LLM_EINVAL;
    }
    return rc;
}

static int store_all(const char *db, const struct entries *e)
{
    struct llm_store *s;
    int rc = llm_store_open(db, 0, &s);

    if (rc) {
        llm_cli_error(rc, "record: open database %s", db);
        return rc;
    }
    rc = llm_store_put(s, e->kv, e->n);
    if (rc)
        llm_cli_error(rc, "record: write database %s", db);
    llm_store_close(s);
    return rc;
}

static const struct option opts[] = {
    {"db", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Returns 0, or the exit status after reporting the error. */
static int parse_args(int argc, char **argv, char *db, size_t dbn, int *help)
{
    int c, rc;

    opterr = 0;
    optind = 1;
    *db = '\0';
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            *help = 1;
        } else if (c == 'd' && snprintf(db, dbn, "%s", optarg) < (int)dbn) {
            continue;
        } else {
            llm_cli_error(LLM_EINVAL, "record: %s '%s'",
                          c == 'd'   ? "--db path too long"
                          : c == ':' ? "option needs a value"
                                     : "unknown option",
                          argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        llm_cli_error(LLM_EINVAL, "record: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!*db && !*help) {
        rc = llm_db_path(db, dbn);
        if (rc) {
            llm_cli_error(rc, "record: no database location (set --db or LLMOPS_DB)");
            return 1;
        }
    }
    return 0;
}

int llm_record_cmd(int argc, char **argv)
{
    struct entries e = {0};
    struct llm_attrib a;
    char db[PATH_MAX], id[LLM_ULID_LEN];
    char *buf;
    size_t len;
    int help = 0, status = parse_args(argc, argv, db, sizeof(db), &help);

    if (status || help) {
        if (help)
            fputs(llm_record_usage, stdout);
        return status;
    }
    buf = read_all(stdin, &len);
    if (!buf) {
        llm_cli_error(errno ? -errno : LLM_ENOMEM, "record: read standard input");
        return 1;
    }
    llm_attrib_load(&a);
    status = 1;
    if (parse_input(buf, len, &a, &e) || store_all(db, &e))
        goto entries_free;
    for (size_t i = 0; i < e.n; i++) {
        llm_ulid_format(e.kv[i].key, id);
        puts(id);
    }
    status = 0;
entries_free:
    entries_free(&e);
    llm_attrib_free(&a);
    free(buf);
    return status;
}
