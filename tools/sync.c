/* `llmops sync --to postgresql://...`: ships to a database only what it
 * does not have yet, so a fleet of hosts can each run it from cron into one
 * database. Each destination has a cursor kept in the store itself (the
 * "meta" database, under "sync " + the URL without its password): the last
 * key shipped. A run scans from just past the cursor in key order and ships
 * in batches (pg_copy.c: one transaction each, ON CONFLICT DO NOTHING).
 *
 * Invariants:
 * - the cursor moves only after the destination committed the batch, so a
 *   run killed or failing midway loses nothing and the next one resumes;
 *   a crash between COMMIT and the cursor write only ships a batch again,
 *   which ON CONFLICT makes harmless;
 * - only a successful batch of sync writes the cursor (export never does);
 * - the cursor never passes the settle horizon (now - --settle seconds).
 *   Keys are the request's start time but a record is committed when the
 *   call ends, so a long call lands behind records already shipped. Recent
 *   records are shipped at once, but stay ahead of the cursor and are sent
 *   again (and skipped by the destination) until they are older than any
 *   call could still be in flight; "shipped N" counts only new rows.
 * Records are priced (cost_usd) as export prices them.
 * Filters narrow what is shipped from the cursor on; records they leave out
 * behind the cursor are not revisited. Two syncs of one store to the same
 * destination at once are safe: rows are kept once, and a cursor that
 * lands behind the other's only means records are sent twice. */
#include "cli.h"
#include "cost.h"
#include "err.h"
#include "filter.h"
#include "pg.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_FULL 1 /* the scan stopped because the batch is full */
#define MAX_NAME 400 /* cursor names stay well under LMDB's 511-byte keys */

struct sync {
    const struct llm_sync_opts *o;
    struct llm_store *s;
    struct llm_pg pg;
    char name[MAX_NAME + 32]; /* of the cursor */
    uint8_t horizon[16];      /* keys below it are settled */
    uint8_t last[16];         /* the last key put in the batch */
    uint8_t settled[16];      /* the last settled key put in a batch */
    int has_last, has_settled;
    int moved; /* settled is past the stored cursor */
    char what[4200];
};

/* "sync " + the URL without its password; a long one is cut and hashed. */
static void cursor_name(struct sync *y)
{
    const char *url = y->pg.name;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    if (strlen(url) <= MAX_NAME) {
        snprintf(y->name, sizeof(y->name), "sync %s", url);
        return;
    }
    for (const char *p = url; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(y->name, sizeof(y->name), "sync %.*s#%016llx", MAX_NAME - 20, url,
             (unsigned long long)h);
}

/* The stored cursor of destination name into key (*found 0 if it has
 * none): 0, LLM_ECORRUPT for a value that is not a ULID, or a store error. */
int llm_sync_cursor_get(struct llm_store *s, const char *name, uint8_t key[16], int *found)
{
    char text[LLM_ULID_LEN];
    size_t len = sizeof(text) - 1;
    int rc = llm_store_meta_get(s, name, text, &len);

    *found = 0;
    if (rc == LLM_ENOTFOUND)
        return 0;
    if (!rc) {
        text[len] = '\0';
        rc = len == LLM_ULID_LEN - 1 && !llm_ulid_parse(text, key) ? 0 : LLM_ECORRUPT;
    }
    if (rc == -ENOBUFS)
        rc = LLM_ECORRUPT;
    if (!rc)
        *found = 1;
    return rc;
}

int llm_sync_cursor_put(struct llm_store *s, const char *name, const uint8_t key[16])
{
    char text[LLM_ULID_LEN];

    llm_ulid_format(key, text);
    return llm_store_meta_put(s, name, text, LLM_ULID_LEN - 1);
}

/* The settle horizon: the smallest key of a call that started settle_s
 * seconds ago (a ULID's first 6 bytes are its milliseconds). */
void llm_sync_horizon(long settle_s, uint8_t key[16])
{
    int64_t ms = llm_now_ns() / 1000000 - (int64_t)settle_s * 1000;

    memset(key, 0, 16);
    for (int i = 0; ms > 0 && i < 6; i++)
        key[i] = (uint8_t)((uint64_t)ms >> (40 - 8 * i));
}

/* Read-only first (the same checks and messages as every other command),
 * then writable: the cursor lives in the store. */
int llm_sync_store_open(const char *db, struct llm_store **s)
{
    int rc = llm_cli_open(db, s);

    if (rc)
        return rc;
    llm_store_close(*s);
    rc = llm_store_open(db, 0, s);
    if (rc)
        llm_cli_error(rc, "open database %s for the sync cursor", db);
    return rc;
}

/* The run's one line on standard output: records shipped and where the
 * cursor stands (settled: NULL when there is none). */
int llm_sync_report(long long shipped, const uint8_t *settled, char *what, size_t n)
{
    char cursor[LLM_ULID_LEN] = "none";

    if (settled)
        llm_ulid_format(settled, cursor);
    printf("shipped %lld record%s, cursor %s\n", shipped, shipped == 1 ? "" : "s", cursor);
    if (fflush(stdout) || ferror(stdout)) {
        snprintf(what, n, "write standard output");
        return -EIO;
    }
    return 0;
}

static int cursor_get(struct sync *y, uint8_t key[16], int *found)
{
    int rc = llm_sync_cursor_get(y->s, y->name, key, found);

    if (rc)
        snprintf(y->what, sizeof(y->what), "read sync cursor '%s' in %s", y->name, y->o->db);
    return rc;
}

static int cursor_put(struct sync *y)
{
    int rc = llm_sync_cursor_put(y->s, y->name, y->settled);

    if (rc)
        snprintf(y->what, sizeof(y->what), "save sync cursor '%s' in %s", y->name, y->o->db);
    return rc;
}

static int visit(void *arg, const void *key, size_t klen, json_t *rec)
{
    struct sync *y = arg;
    char ulid[LLM_ULID_LEN];
    int rc;

    if (klen != 16) { /* the collector writes ULIDs only; a cursor could not pass this */
        llm_cli_key_name(key, klen, y->what, sizeof(y->what));
        return LLM_ECORRUPT;
    }
    llm_ulid_format(key, ulid);
    llm_cost_fill(rec); /* priced as export prices it */
    rc = llm_pg_batch_row(&y->pg, rec, ulid);
    if (rc)
        return rc;
    memcpy(y->last, key, 16);
    y->has_last = 1;
    if (memcmp(key, y->horizon, 16) < 0) {
        memcpy(y->settled, key, 16);
        y->has_settled = y->moved = 1;
    }
    return y->pg.rows >= (size_t)y->o->batch ? BATCH_FULL : 0;
}

/* Batches until the scan runs out; *shipped counts the rows that were new. */
static int ship(struct sync *y, long long *shipped)
{
    long long inserted;
    int rc, more;

    *shipped = 0;
    do {
        snprintf(y->what, sizeof(y->what), "read database %s", y->o->db);
        rc = llm_filter_scan_after(y->s, y->o->filter, y->has_last ? y->last : NULL, visit, y,
                                   y->what, sizeof(y->what));
        if (rc < 0)
            return rc;
        more = rc == BATCH_FULL;
        if (!y->pg.in_batch)
            return 0; /* nothing (more) to ship */
        rc = llm_pg_batch_commit(&y->pg, &inserted);
        if (rc)
            return rc;
        *shipped += inserted;
        if (y->moved) {
            rc = cursor_put(y);
            if (rc)
                return rc;
            y->moved = 0;
        }
    } while (more);
    return 0;
}

static int run(struct sync *y)
{
    long long shipped;
    int rc;

    rc = cursor_get(y, y->last, &y->has_last);
    if (rc)
        return rc;
    memcpy(y->settled, y->last, 16);
    y->has_settled = y->has_last;
    rc = llm_pg_connect(y->o->to, &y->pg, y->what, sizeof(y->what));
    if (!rc)
        rc = llm_pg_migrate(&y->pg, NULL);
    if (!rc)
        rc = ship(y, &shipped);
    if (rc)
        return rc;
    return llm_sync_report(shipped, y->has_settled ? y->settled : NULL, y->what, sizeof(y->what));
}

int llm_sync_run(const struct llm_sync_opts *o)
{
    struct sync *y = calloc(1, sizeof(*y));
    int rc;

    if (!y) {
        llm_cli_error(LLM_ENOMEM, "sync");
        return LLM_ENOMEM;
    }
    y->o = o;
    rc = llm_sync_store_open(o->db, &y->s);
    if (rc)
        goto sync_free;
    llm_pg_redact(o->to, y->pg.name, sizeof(y->pg.name));
    cursor_name(y);
    llm_sync_horizon(o->settle_s, y->horizon);
    rc = run(y);
    if (rc)
        llm_cli_error(rc, "%s", y->what);
    llm_pg_close(&y->pg);
    llm_store_close(y->s);
sync_free:
    free(y);
    return rc;
}
