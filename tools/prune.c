/* `llmops prune --before DATE`: deletes the records of calls that started
 * before DATE, in one write transaction (all or nothing), next to live
 * writers: LMDB serialises it with the collectors' commits and readers keep
 * their snapshots. Keys are ULIDs whose first 48 bits are the start time in
 * milliseconds, so the cut is a key: everything below the first key of
 * DATE's millisecond goes, and nothing at or after DATE is ever touched.
 * The store must exist: prune never creates one. The file keeps its size
 * (LMDB reuses the freed pages for new records). */
#include "cli.h"
#include "cmd.h"
#include "err.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: llmops prune --before TIME [--dry-run] [--db DIR]\n"
    "\n"
    "Deletes the records of calls that started before TIME (a date YYYY-MM-DD,\n"
    "UTC midnight, or an RFC 3339 time; to the millisecond) and prints how many\n"
    "it deleted. One transaction: all of them or none. Processes recording\n"
    "into the store carry on undisturbed. The database file keeps its size;\n"
    "the space is reused for new records.\n"
    "\n"
    "  --before TIME   required\n"
    "  --dry-run       only count what would be deleted\n"
    "  --db DIR        the database directory (default: see 'llmops help')\n"
    "  -h, --help      show this help\n";

enum { OPT_BEFORE = LLM_CO_OWN, OPT_DRY_RUN };

static const struct option opts[] = {
    LLM_CMD_DB_OPT,
    LLM_CMD_HELP_OPT,
    {"before", required_argument, NULL, OPT_BEFORE},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {NULL, 0, NULL, 0},
};

struct prune {
    const char *before;
    int64_t before_us;
    int dry_run;
    size_t n;
};

static int own_opt(void *arg, int c, const char *val, char *why, size_t n)
{
    struct prune *p = arg;

    if (c == OPT_DRY_RUN) {
        p->dry_run = 1;
        return 0;
    }
    if (c != OPT_BEFORE)
        return LLM_EINVAL;
    p->before = val;
    if (!llm_parse_time(val, &p->before_us) && p->before_us >= 0)
        return 0;
    snprintf(why, n, "--before wants a date YYYY-MM-DD or an RFC 3339 time, not '%s'", val);
    return LLM_EINVAL;
}

static int count_key(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    ((struct prune *)ctx)->n++;
    return 0;
}

int llm_prune_main(int argc, char **argv)
{
    struct prune p = {0};
    struct llm_cmd cmd = {
        .name = "prune", .usage = usage, .opts = opts, .needs_db = 1, .opt = own_opt, .ctx = &p};
    struct llm_cmd_args a;
    struct llm_store *s;
    uint64_t ms;
    uint8_t cut[16] = {0};
    int rc = llm_cmd_parse(&cmd, argc, argv, &a);

    if (rc >= 0)
        return rc;
    if (!p.before)
        return llm_cmd_usage_error("prune", "%s", "--before TIME is required");
    ms = (uint64_t)(p.before_us / 1000); /* floor: keeps the records of TIME's millisecond */
    if (ms > 0xffffffffffffULL)
        ms = 0xffffffffffffULL;
    for (int i = 0; i < 6; i++)
        cut[i] = (uint8_t)(ms >> (40 - 8 * i));
    /* read-only first: a missing store is an error, not a new empty one */
    if (llm_cli_open(a.db, &s))
        return LLM_EXIT_RUNTIME;
    if (p.dry_run) {
        rc = llm_store_scan(s, NULL, cut, count_key, &p);
    } else {
        llm_store_close(s);
        rc = llm_store_open(a.db, 0, &s);
        if (rc) {
            llm_cli_error(rc, "open database %s for writing", a.db);
            return LLM_EXIT_RUNTIME;
        }
        rc = llm_store_delete_before(s, cut, &p.n);
    }
    llm_store_close(s);
    if (rc) {
        llm_cli_error(rc, "prune database %s", a.db);
        return LLM_EXIT_RUNTIME;
    }
    printf("%s %zu record%s before %s\n", p.dry_run ? "would delete" : "deleted", p.n,
           p.n == 1 ? "" : "s", p.before);
    if (fflush(stdout) || ferror(stdout)) {
        llm_cli_error(-EIO, "write standard output");
        return LLM_EXIT_RUNTIME;
    }
    return 0;
}
